/* SPDX-License-Identifier: MIT */
/*
 * audio_decode() in-process, and the same cases through the sandbox, as TAP.
 *
 *   test_audio_decode [--sandbox] REPO-ROOT [SHARED-CORPUS]
 *
 * Replays corpus/audio.tsv (expected outcome, shape and changes of every
 * fixture and of the public FLAC and WAV suites), compares a few outputs with
 * independent decodes (corpus/audio/ref.tsv), then checks what holds for any
 * input: API misuse, determinism, idempotence of s16 and float output, the
 * frame invariants on every prefix and on bit-flipped copies of small
 * fixtures, that a long input is stopped at its cap rather than decoded to
 * its end, and that every input decodes under a seccomp filter that allows
 * only what the worker allows. SHARED-CORPUS defaults to REPO-ROOT/../shared/corpus-public;
 * lines under it are skipped when it is missing.
 *
 * With --sandbox, the manifest goes through airlock_sanitize_report() instead:
 * libmagic picks the type, the worker decodes, and every accepted row must
 * carry the very samples decode_any() gives in-process with the same limits.
 * The in-process-only properties are not repeated there.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtok_r, sigaction, prctl */
#endif

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#define HAVE_SECCOMP_TEST 1
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

#include "audio.h"
#include "sndbuf.h"
#include "proc.h"

/*
 * libsndfile 1.2.0 leaks libvorbis' codec setup (about 6 KiB) when an Ogg
 * Vorbis header is cut short and sf_open_virtual() fails: nothing the caller
 * can free. A worker exits after one input, so it costs nothing there; under
 * LeakSanitizer this keeps the report to leaks of our own. Unused without
 * sanitizers.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:vorbis_info_init\n";
}

static unsigned tests_run, tests_failed;

__attribute__((format(printf, 2, 3))) static void tap(bool pass, const char *fmt, ...)
{
	va_list ap;

	tests_run++;
	if (!pass)
		tests_failed++;
	printf("%s %u - ", pass ? "ok" : "not ok", tests_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

__attribute__((format(printf, 2, 3))) static void skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	tests_run++;
	printf("ok %u - ", tests_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
}

/* Diagnostics for the test line about to be printed. */
__attribute__((format(printf, 1, 2))) static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ------------------------------------------------------------------------ */
/* Names used by the manifest. */

struct name {
	const char *name;
	uint32_t value;
};

static const struct name error_names[] = {
	{ "ok", AIRLOCK_OK },
	{ "malformed", AIRLOCK_E_MALFORMED },
	{ "type", AIRLOCK_E_TYPE },
	{ "type_mismatch", AIRLOCK_E_TYPE_MISMATCH },
	{ "unsupported", AIRLOCK_E_UNSUPPORTED },
	{ "empty", AIRLOCK_E_EMPTY },
	{ "too_long", AIRLOCK_E_TOO_LONG },
	{ "out_of_range", AIRLOCK_E_OUT_OF_RANGE },
	{ "memory", AIRLOCK_E_MEMORY },
	{ "invalid_arg", AIRLOCK_E_INVALID_ARG },
	{ "internal", AIRLOCK_E_INTERNAL },
	{ NULL, 0 },
};

static const struct name key_names[] = {
	{ "max_seconds", AIRLOCK_MAX_SECONDS },
	{ "max_decoded_bytes", AIRLOCK_MAX_DECODED_BYTES },
	{ "min_rate", AIRLOCK_MIN_RATE },
	{ "max_rate", AIRLOCK_MAX_RATE },
	{ "max_channels", AIRLOCK_MAX_CHANNELS },
	{ "memory_bytes", AIRLOCK_MEMORY_BYTES },
	{ NULL, 0 },
};

static const struct name type_names[] = {
	{ "wav", AIRLOCK_TYPE_WAV },	   { "flac", AIRLOCK_TYPE_FLAC },
	{ "vorbis", AIRLOCK_TYPE_VORBIS }, { "opus", AIRLOCK_TYPE_OPUS },
	{ "mp3", AIRLOCK_TYPE_MP3 },	   { "aiff", AIRLOCK_TYPE_AIFF },
	{ "png", AIRLOCK_TYPE_PNG },	   { NULL, 0 },
};

static const struct name change_names[] = {
	{ "metadata_dropped", AIRLOCK_CHANGE_METADATA_DROPPED },
	{ "truncated", AIRLOCK_CHANGE_TRUNCATED },
	{ "downmixed", AIRLOCK_CHANGE_DOWNMIXED },
	{ "resampled", AIRLOCK_CHANGE_RESAMPLED },
	{ "format_converted", AIRLOCK_CHANGE_FORMAT_CONVERTED },
	{ "trailing_dropped", AIRLOCK_CHANGE_TRAILING_DROPPED },
	{ NULL, 0 },
};

static bool lookup(const struct name *t, const char *s, uint32_t *v)
{
	for (; t->name != NULL; t++) {
		if (strcmp(t->name, s) == 0) {
			*v = t->value;
			return true;
		}
	}
	return false;
}

static const char *name_of(const struct name *t, uint32_t v)
{
	for (; t->name != NULL; t++)
		if (t->value == v)
			return t->name;
	return "?";
}

static void changes_str(uint32_t c, char *buf, size_t n)
{
	buf[0] = '\0';
	for (const struct name *t = change_names; t->name != NULL; t++) {
		if (c & t->value) {
			if (buf[0] != '\0')
				strncat(buf, ",", n - strlen(buf) - 1);
			strncat(buf, t->name, n - strlen(buf) - 1);
			c &= ~t->value;
		}
	}
	if (c != 0)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s0x%x", buf[0] ? "," : "", c);
	if (buf[0] == '\0')
		snprintf(buf, n, "-");
}

/* Comma list of change names, or "-"; false on an unknown name. */
static bool parse_changes(const char *s, uint32_t *out)
{
	char tmp[256], *save = NULL;

	*out = 0;
	if (strcmp(s, "-") == 0)
		return true;
	snprintf(tmp, sizeof tmp, "%s", s);
	for (char *tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint32_t bit;

		if (!lookup(change_names, tok, &bit))
			return false;
		*out |= bit;
	}
	return true;
}

/* Applies a manifest opts field to lim; false on an unknown option. */
static bool parse_opts(const char *s, struct limits *lim)
{
	char tmp[256], *save = NULL;

	if (strcmp(s, "-") == 0)
		return true;
	snprintf(tmp, sizeof tmp, "%s", s);
	for (char *tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned long long v = eq != NULL ? strtoull(eq + 1, NULL, 10) : 0;

		if (eq != NULL)
			*eq = '\0';
		if (strcmp(tok, "mono") == 0)
			lim->mono = 1;
		else if (strcmp(tok, "s16") == 0)
			lim->sample_format = FRAME_FORMAT_S16;
		else if (strcmp(tok, "f32") == 0)
			lim->sample_format = FRAME_FORMAT_F32;
		else if (strcmp(tok, "adpcm") == 0)
			lim->allow_adpcm = 1;
		else if (eq == NULL)
			return false;
		else if (strcmp(tok, "max_seconds") == 0)
			lim->max_seconds = (uint32_t)v;
		else if (strcmp(tok, "max_decoded_bytes") == 0)
			lim->max_decoded_bytes = v;
		else if (strcmp(tok, "memory_bytes") == 0)
			lim->memory_bytes = v;
		else if (strcmp(tok, "min_rate") == 0)
			lim->min_rate = (uint32_t)v;
		else if (strcmp(tok, "max_rate") == 0)
			lim->max_rate = (uint32_t)v;
		else if (strcmp(tok, "max_channels") == 0)
			lim->max_channels = (uint32_t)v;
		else if (strcmp(tok, "out_rate") == 0)
			lim->out_rate = (uint32_t)v;
		else
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------ */

static bool read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return false;
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 65536;
			p = realloc(b, cap);
			if (p == NULL) {
				free(b);
				fclose(f);
				return false;
			}
			b = p;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return true;
}

/* False when the path does not fit. */
static bool resolve(const char *root, const char *shared, const char *path, char *out, size_t n)
{
	int w;

	if (strncmp(path, "shared:", 7) == 0)
		w = snprintf(out, n, "%s/%s", shared, path + 7);
	else
		w = snprintf(out, n, "%s/%s", root, path);
	return w > 0 && (size_t)w < n;
}

static size_t sample_bytes(uint32_t format)
{
	return format == FRAME_FORMAT_F32 ? 4 : format == FRAME_FORMAT_S16 ? 2 : 0;
}

/*
 * What holds for every call: on success a well-formed audio frame of the
 * requested format with finite samples, on failure no samples. Returns a
 * description of the first violation, or NULL.
 */
static const char *frame_violation(int rc, const struct frame *f, const struct limits *lim, uint32_t type)
{
	if (rc != AIRLOCK_OK)
		return f->pixels == NULL ? NULL : "failure left pixels set";
	if (f->kind != FRAME_KIND_AUDIO || f->format != lim->sample_format || f->type != type)
		return "kind, format or type";
	if (f->pixels == NULL || f->frames == 0 || f->channels == 0 || f->rate == 0)
		return "empty frame";
	if (f->channels > lim->max_channels || (lim->mono && f->channels != 1))
		return "channel count";
	if (lim->out_rate != 0 && f->rate != lim->out_rate)
		return "output rate";
	if (f->frames > SIZE_MAX / f->channels / sample_bytes(f->format) ||
	    f->size != f->frames * f->channels * sample_bytes(f->format))
		return "size is not frames * channels * sample size";
	if (f->size > lim->max_decoded_bytes)
		return "over max_decoded_bytes";
	if (f->format == FRAME_FORMAT_F32) {
		const float *x = (const float *)(const void *)f->pixels;

		for (size_t i = 0; i < f->size / 4; i++)
			if (!isfinite(x[i]))
				return "non-finite sample";
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* corpus/audio.tsv */

/* The manifest's inputs, replayed under a seccomp filter by test_seccomp(). */
struct input {
	char *path; /* resolved */
	char *opts;
	uint32_t type;
};
static struct input *inputs;
static size_t n_inputs, cap_inputs;

static void remember_input(const char *path, const char *opts, uint32_t type)
{
	if (n_inputs == cap_inputs) {
		size_t cap = cap_inputs ? cap_inputs * 2 : 64;
		struct input *p = realloc(inputs, cap * sizeof *p);

		if (p == NULL)
			return;
		inputs = p;
		cap_inputs = cap;
	}
	inputs[n_inputs].path = strdup(path);
	inputs[n_inputs].opts = strdup(opts);
	inputs[n_inputs].type = type;
	if (inputs[n_inputs].path != NULL && inputs[n_inputs].opts != NULL)
		n_inputs++;
}

/* One line of corpus/audio.tsv, parsed. */
struct row {
	char **col; /* the eight columns, borrowed */
	const char *path, *opts, *outcome;
	const char *limit_name; /* what follows the slash in the outcome, or NULL */
	uint32_t type;		/* AIRLOCK_TYPE_NONE for outcome "type" */
	uint32_t want_rc, want_limit, want_changes;
	struct limits lim; /* limits_default() with the row's opts */
	char want_outcome[64];
};

/* False on a line the test cannot read; the caller reports it. */
static bool parse_row(char **col, struct row *r)
{
	char *slash;

	memset(r, 0, sizeof *r);
	r->col = col;
	r->path = col[0];
	r->opts = col[1];
	r->outcome = col[2];
	limits_default(&r->lim);
	if (!parse_opts(r->opts, &r->lim))
		return false;
	/*
	 * libmagic sees no audio airlock decodes: the column is "-", and the only
	 * outcome is the sandbox's refusal, type (no media) or unsupported
	 * (media of a codec airlock does not decode).
	 */
	if (strcmp(r->outcome, "type") == 0 || (strcmp(r->outcome, "unsupported") == 0 && strcmp(col[3], "-") == 0)) {
		r->type = AIRLOCK_TYPE_NONE;
		r->want_rc = strcmp(r->outcome, "type") == 0 ? AIRLOCK_E_TYPE : AIRLOCK_E_UNSUPPORTED;
		return true;
	}
	snprintf(r->want_outcome, sizeof r->want_outcome, "%s", r->outcome);
	slash = strchr(r->want_outcome, '/');
	if (slash != NULL)
		*slash++ = '\0';
	r->limit_name = slash;
	return lookup(type_names, col[3], &r->type) && lookup(error_names, r->want_outcome, &r->want_rc) &&
	       (slash == NULL || lookup(key_names, slash, &r->want_limit)) &&
	       (strcmp(col[7], "?") == 0 || parse_changes(col[7], &r->want_changes));
}

/* Rate, channels, frames (~N within 1%, ? for any) and changes of an accepted row; diagnoses what differs. */
static bool check_shape(const struct row *r, uint32_t rate, uint32_t channels, uint64_t frames, uint32_t changes)
{
	char **col = r->col, got_changes[256];
	unsigned long want_rate = strtoul(col[4], NULL, 10), want_ch = strtoul(col[5], NULL, 10);
	bool pass = true;

	if (rate != want_rate || channels != want_ch) {
		diag("rate %u channels %u, expected %s %s", rate, channels, col[4], col[5]);
		pass = false;
	}
	if (col[6][0] == '~') {
		double want = strtod(col[6] + 1, NULL);

		if (fabs((double)frames - want) > want * 0.01) {
			diag("frames %llu, expected %s (1%%)", (unsigned long long)frames, col[6]);
			pass = false;
		}
	} else if (strcmp(col[6], "?") != 0 && frames != strtoull(col[6], NULL, 10)) {
		diag("frames %llu, expected %s", (unsigned long long)frames, col[6]);
		pass = false;
	}
	if (strcmp(col[7], "?") != 0 && changes != r->want_changes) {
		changes_str(changes, got_changes, sizeof got_changes);
		diag("changes %s, expected %s", got_changes, col[7]);
		pass = false;
	}
	return pass;
}

static void run_case_inprocess(const struct row *r, const char *full, const uint8_t *buf, size_t len)
{
	struct limits lim = r->lim;
	struct frame f;
	const char *bad;
	bool pass = true;
	int rc;

	remember_input(full, r->opts, r->type);
	rc = audio_decode(buf, len, &lim, r->type, &f);
	bad = frame_violation(rc, &f, &lim, r->type);
	if (bad != NULL) {
		diag("invariant: %s", bad);
		pass = false;
	}
	if ((uint32_t)rc != r->want_rc) {
		diag("outcome %s (%d), expected %s", name_of(error_names, (uint32_t)rc), rc, r->outcome);
		pass = false;
	} else if (rc != AIRLOCK_OK) {
		if (r->limit_name != NULL && f.limit != r->want_limit) {
			diag("limit %u (%s), expected %s", f.limit, name_of(key_names, f.limit), r->limit_name);
			pass = false;
		}
	} else if (!check_shape(r, f.rate, f.channels, f.frames, f.changes)) {
		pass = false;
	}
	tap(pass, "%s [%s] %s", r->path, r->opts, r->outcome);
	frame_free(&f);
}

/* ------------------------------------------------------------------------ */
/* The same rows through the sandbox (--sandbox). */

/* What sandbox mode shares between rows: one context, and libmagic for the in-process side. */
struct sandbox {
	airlock_ctx *ctx;
	void *magic;
};

/* airlock_set() refuses a smaller memory_bytes: it is the worker's RLIMIT_AS as well as the decoder's budget. */
#define SANDBOX_MIN_MEMORY ((uint64_t)64 << 20)

struct keyval {
	airlock_key key;
	uint64_t value;
};

/* Every key a struct limits holds, with its value there. Returns the count (at most 32). */
static size_t limit_keys(const struct limits *lim, struct keyval *kv)
{
	const struct keyval all[] = {
		{ AIRLOCK_MAX_INPUT_BYTES, lim->max_input_bytes },
		{ AIRLOCK_MAX_WIDTH, lim->max_width },
		{ AIRLOCK_MAX_HEIGHT, lim->max_height },
		{ AIRLOCK_MAX_PIXELS, lim->max_pixels },
		{ AIRLOCK_MEMORY_BYTES, lim->memory_bytes },
		{ AIRLOCK_CPU_MS, lim->cpu_ms },
		{ AIRLOCK_TIMEOUT_MS, lim->timeout_ms },
		{ AIRLOCK_MAX_JPEG_SCANS, lim->max_jpeg_scans },
		{ AIRLOCK_ALLOWED_TYPES, lim->allowed_types },
		{ AIRLOCK_KEEP_ALPHA, lim->keep_alpha },
		{ AIRLOCK_BACKGROUND, lim->background },
		{ AIRLOCK_JPEG_QUALITY, lim->jpeg_quality },
		{ AIRLOCK_MAX_SECONDS, lim->max_seconds },
		{ AIRLOCK_MAX_DECODED_BYTES, lim->max_decoded_bytes },
		{ AIRLOCK_MIN_RATE, lim->min_rate },
		{ AIRLOCK_MAX_RATE, lim->max_rate },
		{ AIRLOCK_MAX_CHANNELS, lim->max_channels },
		{ AIRLOCK_MAX_AUDIO_INPUT_BYTES, lim->max_audio_input_bytes },
		{ AIRLOCK_OUT_RATE, lim->out_rate },
		{ AIRLOCK_MONO, lim->mono },
		/* FRAME_FORMAT_* are the airlock_sample_format values. */
		{ AIRLOCK_SAMPLE_FORMAT, lim->sample_format },
		{ AIRLOCK_ALLOW_EXTRA_CODECS, lim->allow_adpcm },
		{ AIRLOCK_MAX_JPEG_COEFFS, lim->max_jpeg_coeffs },
		{ AIRLOCK_MAX_PNG_INFLATED_BYTES, lim->max_png_inflated_bytes },
	};
	size_t n = sizeof all / sizeof all[0];

	memcpy(kv, all, sizeof all);
	return n;
}

/*
 * Sets every key from lim, not only those a row names: a row must not
 * inherit the options of the one before it. Returns the airlock_set() error
 * and the key it refused, or AIRLOCK_OK.
 */
static int apply_limits(airlock_ctx *ctx, const struct limits *lim, airlock_key *refused)
{
	struct keyval kv[32];
	size_t n = limit_keys(lim, kv);

	for (size_t i = 0; i < n; i++) {
		int rc = airlock_set(ctx, kv[i].key, kv[i].value);

		if (rc != AIRLOCK_OK) {
			*refused = kv[i].key;
			return rc;
		}
	}
	return AIRLOCK_OK;
}

/*
 * The in-process side compares with the library's defaults only if a fresh
 * context starts from limits_default() too.
 */
static void test_context_defaults(airlock_ctx *ctx)
{
	struct limits lim;
	struct keyval kv[32];
	size_t n, differ = 0;

	limits_default(&lim);
	n = limit_keys(&lim, kv);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		int rc = airlock_get(ctx, kv[i].key, &v);

		if (rc != AIRLOCK_OK || v != kv[i].value) {
			diag("key %d: %s, %llu, limits_default() has %llu", (int)kv[i].key, airlock_error_name(rc),
			     (unsigned long long)v, (unsigned long long)kv[i].value);
			differ++;
		}
	}
	tap(differ == 0, "a new context's %zu limits are limits_default()'s", n);
}

static bool is_sandbox_event(int rc)
{
	return rc >= AIRLOCK_E_WORKER_CRASH && rc <= AIRLOCK_E_PROTOCOL;
}

/*
 * Sanitizes buf through the sandbox with lim and expect, and decodes it
 * in-process with decode_any() and the same limits: both sides must agree on
 * the outcome, the type and the limit that tripped, and an accepted result
 * must be the in-process frame to the byte. On success *res holds the
 * sandbox's result for the caller to free. Returns false (with a diagnosis)
 * on any disagreement, a sandbox event, or a key airlock_set() refused.
 */
static bool sanitize_both(const struct sandbox *sb, const struct limits *limits, airlock_type expect,
			  const uint8_t *buf, size_t len, int *rc_out, airlock_report *rep, airlock_result **res)
{
	struct limits lim = *limits;
	airlock_key refused = 0;
	struct frame f;
	const uint8_t *px;
	size_t px_len = 0;
	bool pass = true;
	int rc, rc_in;

	*res = NULL;
	*rc_out = -1;
	*rep = (airlock_report)AIRLOCK_REPORT_INIT;
	rc = apply_limits(sb->ctx, &lim, &refused);
	if (rc != AIRLOCK_OK) {
		diag("airlock_set(%d): %s", (int)refused, airlock_error_name(rc));
		return false;
	}
	rc = airlock_sanitize_report(sb->ctx, buf, len, expect, res, rep);
	*rc_out = rc;
	if (is_sandbox_event(rc) || airlock_error_classify(rc) == AIRLOCK_CLASS_INTERNAL ||
	    airlock_error_classify(rc) == AIRLOCK_CLASS_CALLER) {
		diag("sandbox: %s (%s)", airlock_error_name(rc), airlock_strerror(rc));
		return false;
	}

	lim.expect = expect;
	rc_in = decode_any(sb->magic, buf, len, &lim, &f);
	if (rc_in != rc) {
		diag("sandbox %s, in-process %s", airlock_error_name(rc), airlock_error_name(rc_in));
		pass = false;
	} else if (rc != AIRLOCK_OK) {
		if (rep->type != f.type || rep->limit != f.limit) {
			diag("sandbox reports type %s limit %u, in-process type %s limit %u",
			     airlock_type_name(rep->type), rep->limit, airlock_type_name(f.type), f.limit);
			pass = false;
		}
	} else {
		px = airlock_result_pixels(*res, &px_len);
		if ((uint32_t)airlock_result_type(*res) != f.type || airlock_result_rate(*res) != f.rate ||
		    airlock_result_channels(*res) != f.channels || airlock_result_frames(*res) != f.frames ||
		    airlock_result_changes(*res) != f.changes ||
		    (uint32_t)airlock_result_sample_format(*res) != f.format) {
			diag("sandbox %s %u Hz x%u %llu frames format %d changes 0x%x, in-process %s %u Hz x%u %llu "
			     "frames format %u changes 0x%x",
			     airlock_type_name(airlock_result_type(*res)), airlock_result_rate(*res),
			     airlock_result_channels(*res), (unsigned long long)airlock_result_frames(*res),
			     (int)airlock_result_sample_format(*res), airlock_result_changes(*res),
			     airlock_type_name((airlock_type)f.type), f.rate, f.channels, (unsigned long long)f.frames,
			     f.format, f.changes);
			pass = false;
		}
		if (px == NULL || px_len != f.size || memcmp(px, f.pixels, f.size) != 0) {
			diag("sandbox samples (%zu bytes) differ from in-process decode_any() (%zu bytes)", px_len,
			     f.size);
			pass = false;
		}
	}
	frame_free(&f);
	return pass;
}

/*
 * A row the manifest rejects, whose type only the signature check (no
 * libmagic) gives: libmagic found nothing, and the tag-trusting check says
 * the manifest's type.
 */
static bool refused_by_libmagic(const struct row *r, const airlock_report *rep, const uint8_t *buf, size_t len)
{
	uint32_t sig = AIRLOCK_TYPE_NONE;

	return r->want_rc != AIRLOCK_OK && r->type != AIRLOCK_TYPE_NONE && rep->type == AIRLOCK_TYPE_NONE &&
	       detect_type(NULL, buf, len, &sig) == AIRLOCK_OK && sig == r->type;
}

static void run_case_sandboxed(const struct sandbox *sb, const struct row *r, const uint8_t *buf, size_t len)
{
	airlock_result *res = NULL;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	airlock_type expect = AIRLOCK_TYPE_NONE;
	bool pass;
	int rc;

	if (r->lim.memory_bytes < SANDBOX_MIN_MEMORY) {
		skip("memory_bytes is also the worker's RLIMIT_AS, which airlock_set() keeps at 64 MiB or more",
		     "sandboxed: %s [%s] %s", r->path, r->opts, r->outcome);
		return;
	}
	/*
	 * These rows hand audio_decode() a type libmagic would never report for
	 * the file. With no expectation the sandbox detects the real type and
	 * decodes it, so the row is asked of the public API instead: expect the
	 * manifest's type, and be refused because the detected one differs.
	 */
	if (r->want_rc == AIRLOCK_E_TYPE_MISMATCH)
		expect = (airlock_type)r->type;

	pass = sanitize_both(sb, &r->lim, expect, buf, len, &rc, &rep, &res);
	if (is_sandbox_event(rc))
		diag("sandbox event on %s [%s]: %s", r->path, r->opts, airlock_error_name(rc));
	if (rc == AIRLOCK_E_TYPE && rc != (int)r->want_rc && refused_by_libmagic(r, &rep, buf, len)) {
		/*
		 * The manifest's type came from a detector that trusts a leading
		 * tag (airlock's own signature check); libmagic sees no audio and
		 * the sandbox refuses the file before any decoder runs. A stricter
		 * refusal of a file the manifest rejects anyway, and said so here.
		 */
		diag("libmagic sees no audio where the signature check sees %s: refused as type, not %s", r->col[3],
		     r->outcome);
	} else if ((uint32_t)rc != r->want_rc) {
		diag("outcome %s (%d), expected %s", airlock_error_name(rc), rc, r->outcome);
		pass = false;
	} else if (rc == AIRLOCK_E_TYPE_MISMATCH) {
		if (rep.type == (airlock_type)r->type || !(AIRLOCK_TYPE_BIT(rep.type) & AIRLOCK_TYPES_AUDIO)) {
			diag("detected type %s, expected another audio type than %s", airlock_type_name(rep.type),
			     r->col[3]);
			pass = false;
		}
	} else if (rc != AIRLOCK_OK) {
		if (rep.type != (airlock_type)r->type) {
			diag("detected type %s, expected %s", airlock_type_name(rep.type),
			     airlock_type_name((airlock_type)r->type));
			pass = false;
		}
		if (r->limit_name != NULL && rep.limit != r->want_limit) {
			diag("limit %u (%s), expected %s", rep.limit, name_of(key_names, rep.limit), r->limit_name);
			pass = false;
		}
	} else {
		if ((uint32_t)airlock_result_type(res) != r->type ||
		    (uint32_t)airlock_result_sample_format(res) != r->lim.sample_format) {
			diag("type %s format %d, expected %s format %u", airlock_type_name(airlock_result_type(res)),
			     (int)airlock_result_sample_format(res), r->col[3], r->lim.sample_format);
			pass = false;
		}
		if (!check_shape(r, airlock_result_rate(res), airlock_result_channels(res), airlock_result_frames(res),
				 airlock_result_changes(res)))
			pass = false;
	}
	airlock_result_free(res);
	res = NULL;

	/* And the file for what it is: whatever the sandbox makes of it, in-process decode_any() makes too. */
	if (expect != AIRLOCK_TYPE_NONE) {
		int rc_none;

		if (!sanitize_both(sb, &r->lim, AIRLOCK_TYPE_NONE, buf, len, &rc_none, &rep, &res))
			pass = false;
		if (is_sandbox_event(rc_none))
			diag("sandbox event on %s [%s] with no expectation: %s", r->path, r->opts,
			     airlock_error_name(rc_none));
		airlock_result_free(res);
	}
	tap(pass, "sandboxed: %s [%s] %s", r->path, r->opts, r->outcome);
}

/* sb is NULL in-process. */
static void run_case(const char *root, const char *shared, char **col, const struct sandbox *sb)
{
	char full[4096];
	struct row r;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (!parse_row(col, &r)) {
		tap(false, "%s [%s]: bad manifest line", col[0], col[1]);
		return;
	}
	/* In-process there is nothing to ask audio_decode() of a file libmagic does not call audio. */
	if (sb == NULL && r.type == AIRLOCK_TYPE_NONE) {
		skip("not audio", "%s", r.path);
		return;
	}
	if (!resolve(root, shared, r.path, full, sizeof full) || !read_file(full, &buf, &len)) {
		if (strncmp(r.path, "shared:", 7) == 0)
			skip("public corpus missing", "%s", r.path);
		else
			tap(false, "%s [%s]: cannot read %s", r.path, r.opts, full);
		return;
	}
	if (sb == NULL)
		run_case_inprocess(&r, full, buf, len);
	else
		run_case_sandboxed(sb, &r, buf, len);
	free(buf);
}

/* Splits a tab-separated line in place; returns the number of columns. */
static int split_tabs(char *line, char **col, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		col[n++] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

static void run_manifest(const char *root, const char *shared, const struct sandbox *sb)
{
	char path[4096], line[8192], *col[8];
	FILE *m;

	snprintf(path, sizeof path, "%s/corpus/audio.tsv", root);
	m = fopen(path, "r");
	if (m == NULL) {
		tap(false, "open %s: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, m) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split_tabs(line, col, 8) != 8) {
			tap(false, "manifest line with fewer than 8 columns: %s", line);
			continue;
		}
		run_case(root, shared, col, sb);
	}
	fclose(m);
}

/* ------------------------------------------------------------------------ */
/* corpus/audio/ref.tsv: outputs against independent decoders. */

static double sample_at(const struct frame *f, size_t i)
{
	if (f->format == FRAME_FORMAT_F32)
		return ((const float *)(const void *)f->pixels)[i];
	return ((const int16_t *)(const void *)f->pixels)[i];
}

static void run_ref(const char *root, char **col)
{
	const char *path = col[0], *opts = col[1];
	double tol = strtod(col[2], NULL), want_mean = strtod(col[4], NULL), mean = 0.0, worst = 0.0;
	size_t want_n = strtoull(col[3], NULL, 10), n, checked = 0;
	char full[4096], *spot, *save = NULL;
	struct limits lim;
	struct frame f;
	uint8_t *buf = NULL;
	size_t len;
	uint32_t type;
	bool pass = true;
	int rc;

	const int fits = snprintf(full, sizeof full, "%s/%s", root, path) < (int)sizeof full;
	limits_default(&lim);
	if (!fits || !read_file(full, &buf, &len) || !parse_opts(opts, &lim)) {
		tap(false, "ref %s [%s]: cannot read or bad opts", path, opts);
		free(buf);
		return;
	}
	/* The fixtures' names start with their type. */
	type = strncmp(path, "corpus/audio/wav", 16) == 0      ? AIRLOCK_TYPE_WAV
	       : strncmp(path, "corpus/audio/aif", 16) == 0    ? AIRLOCK_TYPE_AIFF
	       : strncmp(path, "corpus/audio/vorbis", 19) == 0 ? AIRLOCK_TYPE_VORBIS
	       : strncmp(path, "corpus/audio/opus", 17) == 0   ? AIRLOCK_TYPE_OPUS
	       : strncmp(path, "corpus/audio/mp3", 16) == 0    ? AIRLOCK_TYPE_MP3
							       : AIRLOCK_TYPE_FLAC;
	rc = audio_decode(buf, len, &lim, type, &f);
	if (rc != AIRLOCK_OK) {
		tap(false, "ref %s [%s]: decode failed with %d", path, opts, rc);
		free(buf);
		return;
	}
	n = f.size / sample_bytes(f.format);
	/* Resampled and lossy lengths differ by a filter's or a codec's tail, nothing more. */
	if (n + n / 100 + 2 < want_n || want_n + want_n / 100 + 2 < n) {
		diag("%zu samples, reference has %zu", n, want_n);
		pass = false;
	}
	for (size_t i = 0; i < n; i++)
		mean += fabs(sample_at(&f, i));
	mean /= (double)n;
	if (fabs(mean - want_mean) > tol + 1e-9 + fabs(want_mean) * 1e-6) {
		diag("mean |x| %.9g, reference %.9g", mean, want_mean);
		pass = false;
	}
	for (spot = strtok_r(col[5], ",", &save); spot != NULL; spot = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(spot, ':');
		size_t i = strtoull(spot, NULL, 10);
		double want, d;

		if (colon == NULL || i >= n)
			continue;
		want = strtod(colon + 1, NULL);
		d = fabs(sample_at(&f, i) - want);
		if (d > worst)
			worst = d;
		if (d > tol + 1e-9) {
			diag("sample %zu = %.9g, reference %.9g", i, sample_at(&f, i), want);
			pass = false;
		}
		checked++;
	}
	if (checked < 12) {
		diag("only %zu of 16 reference samples inside the output", checked);
		pass = false;
	}
	tap(pass, "ref %s [%s] within %s of the independent decode (worst %.3g)", path, opts, col[2], worst);
	frame_free(&f);
	free(buf);
}

static void run_refs(const char *root)
{
	char path[4096], line[8192], *col[6];
	FILE *m;

	snprintf(path, sizeof path, "%s/corpus/audio/ref.tsv", root);
	m = fopen(path, "r");
	if (m == NULL) {
		tap(false, "open %s: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, m) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split_tabs(line, col, 6) != 6) {
			tap(false, "ref line with fewer than 6 columns");
			continue;
		}
		run_ref(root, col);
	}
	fclose(m);
}

/* ------------------------------------------------------------------------ */
/* Properties. */

static bool load_fixture(const char *root, const char *name, uint8_t **buf, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/corpus/audio/%s", root, name);
	if (read_file(path, buf, len))
		return true;
	tap(false, "read %s", path);
	return false;
}

static void test_api(const char *root)
{
	struct limits lim;
	struct frame f;
	uint8_t *buf;
	size_t len;
	int rc;

	if (!load_fixture(root, "wav_s16_mono_16k.wav", &buf, &len))
		return;
	limits_default(&lim);
	tap(audio_decode(buf, len, &lim, AIRLOCK_TYPE_WAV, NULL) == AIRLOCK_E_INVALID_ARG, "NULL frame: invalid_arg");
	rc = audio_decode(NULL, len, &lim, AIRLOCK_TYPE_WAV, &f);
	tap(rc == AIRLOCK_E_INVALID_ARG && f.pixels == NULL, "NULL buffer: invalid_arg");
	rc = audio_decode(buf, len, NULL, AIRLOCK_TYPE_WAV, &f);
	tap(rc == AIRLOCK_E_INVALID_ARG && f.pixels == NULL, "NULL limits: invalid_arg");
	rc = audio_decode(buf, len, &lim, AIRLOCK_TYPE_PNG, &f);
	tap(rc == AIRLOCK_E_INVALID_ARG && f.pixels == NULL && f.type == AIRLOCK_TYPE_PNG, "image type: invalid_arg");
	rc = audio_decode(buf, len, &lim, 99, &f);
	tap(rc == AIRLOCK_E_INVALID_ARG && f.pixels == NULL, "unknown type: invalid_arg");
	rc = audio_decode(buf, 0, &lim, AIRLOCK_TYPE_WAV, &f);
	tap(rc == AIRLOCK_E_EMPTY && f.pixels == NULL && f.type == AIRLOCK_TYPE_WAV, "zero length: empty");
	lim.sample_format = FRAME_FORMAT_U8;
	rc = audio_decode(buf, len, &lim, AIRLOCK_TYPE_WAV, &f);
	tap(rc == AIRLOCK_E_INVALID_ARG && f.pixels == NULL, "u8 output: invalid_arg");
	limits_default(&lim);
	lim.out_rate = 10; /* 16000 -> 10 Hz is beyond the resampler's 1/256 */
	rc = audio_decode(buf, len, &lim, AIRLOCK_TYPE_WAV, &f);
	tap(rc == AIRLOCK_E_OUT_OF_RANGE && f.limit == AIRLOCK_OUT_RATE && f.pixels == NULL,
	    "out_rate beyond the resampler's factor of 256: out_of_range/out_rate");
	free(buf);

	/* audio_sndfile.c maps these private libsndfile error numbers; catch a renumbering. */
	tap(strstr(sf_error_number(17), "malloc") != NULL && strstr(sf_error_number(18), "unimplemented") != NULL,
	    "libsndfile error 17 is malloc failure, 18 unimplemented format");
}

static bool same_frame(const struct frame *a, const struct frame *b)
{
	return a->rate == b->rate && a->channels == b->channels && a->frames == b->frames && a->size == b->size &&
	       a->format == b->format && memcmp(a->pixels, b->pixels, a->size) == 0;
}

static void test_deterministic(const char *root)
{
	static const struct {
		const char *file, *opts;
		uint32_t type;
	} cases[] = {
		{ "mp3_stereo_44k.mp3", "mono,out_rate=16000", AIRLOCK_TYPE_MP3 },
		{ "opus_stereo_44k_src.opus", "s16", AIRLOCK_TYPE_OPUS },
		{ "vorbis_stereo_44k.ogg", "out_rate=22050", AIRLOCK_TYPE_VORBIS },
		{ "speech_22k.flac", "mono,out_rate=16000,s16", AIRLOCK_TYPE_FLAC },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct limits lim;
		struct frame a, b;
		uint8_t *buf;
		size_t len;
		int ra, rb;

		if (!load_fixture(root, cases[i].file, &buf, &len))
			continue;
		limits_default(&lim);
		parse_opts(cases[i].opts, &lim);
		ra = audio_decode(buf, len, &lim, cases[i].type, &a);
		rb = audio_decode(buf, len, &lim, cases[i].type, &b);
		tap(ra == AIRLOCK_OK && rb == AIRLOCK_OK && same_frame(&a, &b), "deterministic: %s [%s]", cases[i].file,
		    cases[i].opts);
		frame_free(&a);
		frame_free(&b);
		free(buf);
	}
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A canonical WAV of a decoded frame, PCM 16 or IEEE float 32, as the host's encoder would write it. */
static uint8_t *wav_of(const struct frame *f, size_t *len)
{
	uint32_t bytes = (uint32_t)sample_bytes(f->format);
	uint8_t *w = malloc(44 + f->size);

	if (w == NULL)
		return NULL;
	memcpy(w, "RIFF", 4);
	put_le(w + 4, (uint32_t)(36 + f->size), 4);
	memcpy(w + 8, "WAVEfmt ", 8);
	put_le(w + 16, 16, 4);
	put_le(w + 20, f->format == FRAME_FORMAT_F32 ? 3 : 1, 2);
	put_le(w + 22, f->channels, 2);
	put_le(w + 24, f->rate, 4);
	put_le(w + 28, f->rate * f->channels * bytes, 4);
	put_le(w + 32, f->channels * bytes, 2);
	put_le(w + 34, bytes * 8, 2);
	memcpy(w + 36, "data", 4);
	put_le(w + 40, (uint32_t)f->size, 4);
	memcpy(w + 44, f->pixels, f->size);
	*len = 44 + f->size;
	return w;
}

/* Sanitizing a sanitized file changes nothing (design invariant 7). */
static void test_idempotent(const char *root)
{
	static const struct {
		const char *file, *opts;
		uint32_t type;
	} cases[] = {
		{ "wav_s16_stereo_8k.wav", "s16", AIRLOCK_TYPE_WAV },
		{ "flac_s24_mono_8k.flac", "s16", AIRLOCK_TYPE_FLAC },
		{ "mp3_stereo_44k.mp3", "s16", AIRLOCK_TYPE_MP3 },
		{ "speech_22k.flac", "mono,out_rate=16000,s16", AIRLOCK_TYPE_FLAC },
		{ "flac_s24_mono_8k.flac", "f32", AIRLOCK_TYPE_FLAC },
		{ "opus_stereo_44k_src.opus", "f32", AIRLOCK_TYPE_OPUS },
		{ "wav_f32_huge.wav", "s16", AIRLOCK_TYPE_WAV },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct limits lim;
		struct frame a, b;
		uint8_t *buf, *wav = NULL;
		size_t len, wlen = 0;
		int ra, rb = -1;

		if (!load_fixture(root, cases[i].file, &buf, &len))
			continue;
		limits_default(&lim);
		parse_opts(cases[i].opts, &lim);
		ra = audio_decode(buf, len, &lim, cases[i].type, &a);
		if (ra == AIRLOCK_OK)
			wav = wav_of(&a, &wlen);
		/* Second pass: same format, no resampling or downmix left to do. */
		lim.out_rate = 0;
		lim.mono = 0;
		if (wav != NULL)
			rb = audio_decode(wav, wlen, &lim, AIRLOCK_TYPE_WAV, &b);
		tap(ra == AIRLOCK_OK && rb == AIRLOCK_OK && same_frame(&a, &b) &&
			    (b.changes & ~AIRLOCK_CHANGE_METADATA_DROPPED) == 0,
		    "idempotent: %s [%s] through its own WAV", cases[i].file, cases[i].opts);
		if (rb == AIRLOCK_OK)
			frame_free(&b);
		frame_free(&a);
		free(wav);
		free(buf);
	}
}

static const struct {
	const char *file;
	uint32_t type;
} small_fixtures[] = {
	{ "wav_s16_stereo_8k.wav", AIRLOCK_TYPE_WAV },
	{ "wav_ima_adpcm_8k.wav", AIRLOCK_TYPE_WAV },
	{ "wav_list_info.wav", AIRLOCK_TYPE_WAV },
	{ "aiff_s8_mono_8k.aiff", AIRLOCK_TYPE_AIFF },
	{ "flac_comment.flac", AIRLOCK_TYPE_FLAC },
	{ "flac_s24_mono_8k.flac", AIRLOCK_TYPE_FLAC },
	{ "vorbis_comment_injection.ogg", AIRLOCK_TYPE_VORBIS },
	{ "opus_tags.opus", AIRLOCK_TYPE_OPUS },
	{ "mp3_id3v2.mp3", AIRLOCK_TYPE_MP3 },
	{ "mp3_mono_16k.mp3", AIRLOCK_TYPE_MP3 },
};

/* Every prefix of the small fixtures, with and without resampling, keeps the invariants. */
static void test_prefixes(const char *root)
{
	for (size_t i = 0; i < sizeof small_fixtures / sizeof small_fixtures[0]; i++) {
		struct limits lim;
		uint8_t *buf;
		size_t len, tried = 0;
		const char *bad = NULL;

		if (!load_fixture(root, small_fixtures[i].file, &buf, &len))
			continue;
		for (size_t n = 1; n < len && bad == NULL; n += n < 512 ? 1 : 61) {
			struct frame f;
			uint8_t *copy = malloc(n); /* exactly n bytes, so ASan sees any overread */
			int rc;

			if (copy == NULL)
				break;
			memcpy(copy, buf, n);
			limits_default(&lim);
			if (tried & 1) {
				lim.mono = 1;
				lim.out_rate = 16000;
				lim.sample_format = FRAME_FORMAT_S16;
			}
			rc = audio_decode(copy, n, &lim, small_fixtures[i].type, &f);
			bad = frame_violation(rc, &f, &lim, small_fixtures[i].type);
			if (bad != NULL)
				diag("prefix of %zu bytes: %s", n, bad);
			frame_free(&f);
			free(copy);
			tried++;
		}
		tap(bad == NULL, "prefixes of %s (%zu tried) keep the invariants", small_fixtures[i].file, tried);
		free(buf);
	}
}

/* Deterministic bit flips and byte stores over the small fixtures keep the invariants. */
static void test_mutations(const char *root)
{
	uint64_t state = 0x9E3779B97F4A7C15u;

	for (size_t i = 0; i < sizeof small_fixtures / sizeof small_fixtures[0]; i++) {
		uint8_t *buf;
		size_t len;
		const char *bad = NULL;
		unsigned accepted = 0, rounds = 300;

		if (!load_fixture(root, small_fixtures[i].file, &buf, &len))
			continue;
		for (unsigned r = 0; r < rounds && bad == NULL; r++) {
			struct limits lim;
			struct frame f;
			uint8_t *copy = malloc(len);
			unsigned flips = 1 + r % 8;
			int rc;

			if (copy == NULL)
				break;
			memcpy(copy, buf, len);
			for (unsigned k = 0; k < flips; k++) {
				size_t at;

				state ^= state << 13;
				state ^= state >> 7;
				state ^= state << 17;
				/* Headers hold the interesting fields: bias half the hits to the first 256 bytes. */
				at = (k & 1) && len > 256 ? (size_t)(state >> 8) % 256 : (size_t)(state >> 8) % len;
				if (state & 1)
					copy[at] ^= (uint8_t)(1u << ((state >> 1) & 7));
				else
					copy[at] = (uint8_t)(state >> 40);
			}
			limits_default(&lim);
			lim.max_seconds = 30;
			if (r & 1) {
				lim.mono = 1;
				lim.out_rate = 16000;
			}
			rc = audio_decode(copy, len, &lim, small_fixtures[i].type, &f);
			bad = frame_violation(rc, &f, &lim, small_fixtures[i].type);
			if (bad != NULL)
				diag("mutation round %u: %s", r, bad);
			accepted += rc == AIRLOCK_OK;
			frame_free(&f);
			free(copy);
		}
		tap(bad == NULL, "%u mutations of %s keep the invariants (%u decoded)", rounds, small_fixtures[i].file,
		    accepted);
		free(buf);
	}
}

/*
 * A WAV header that announces an hour but carries ten minutes: the decode
 * must stop at max_seconds, and the output must never have been sized from
 * the header (memory_bytes below what the header implies).
 */
static void test_long_input(void)
{
	const uint32_t rate = 8000, seconds = 600, claimed = 3600;
	size_t len = 44 + (size_t)rate * seconds;
	uint8_t *w = calloc(1, len);
	struct limits lim;
	struct frame f;
	int rc;

	if (w == NULL) {
		tap(false, "allocate a long WAV");
		return;
	}
	memcpy(w, "RIFF", 4);
	put_le(w + 4, (uint32_t)(36 + (size_t)rate * claimed), 4);
	memcpy(w + 8, "WAVEfmt ", 8);
	put_le(w + 16, 16, 4);
	put_le(w + 20, 1, 2);
	put_le(w + 22, 1, 2);
	put_le(w + 24, rate, 4);
	put_le(w + 28, rate, 4);
	put_le(w + 32, 1, 2);
	put_le(w + 34, 8, 2);
	memcpy(w + 36, "data", 4);
	put_le(w + 40, rate * claimed, 4);
	memset(w + 44, 0x80, len - 44);

	limits_default(&lim);
	lim.max_seconds = 10;
	rc = audio_decode(w, len, &lim, AIRLOCK_TYPE_WAV, &f);
	tap(rc == AIRLOCK_E_TOO_LONG && f.limit == AIRLOCK_MAX_SECONDS && f.pixels == NULL,
	    "10-minute WAV claiming an hour, max_seconds=10: too_long/max_seconds");
	limits_default(&lim);
	lim.memory_bytes = (uint64_t)rate * seconds * 4 + (1u << 20); /* room for what is there, not the claim */
	rc = audio_decode(w, len, &lim, AIRLOCK_TYPE_WAV, &f);
	tap(rc == AIRLOCK_OK && f.frames == (uint64_t)rate * seconds && (f.changes & AIRLOCK_CHANGE_TRUNCATED) != 0,
	    "10-minute WAV claiming an hour decodes in a budget for 10 minutes, flagged truncated");
	frame_free(&f);
	free(w);
}

/* ------------------------------------------------------------------------ */
/* Long inputs that really are long, written in memory: stopped at the cap, not decoded to their end. */

#define LONG_SECONDS 30

/* A generated long input and what it holds. */
struct long_input {
	const char *name;
	uint32_t type, rate;
	struct vbuf file;
};

/*
 * Writes LONG_SECONDS of mono audio at rate in format: a quiet 440 Hz tone
 * under low noise, so that no codec can reduce it to silence. Deterministic.
 */
static bool write_long(int format, uint32_t rate, struct vbuf *out)
{
	SF_INFO info = { .samplerate = (int)rate, .channels = 1, .format = format };
	const uint64_t total = (uint64_t)rate * LONG_SECONDS;
	float chunk[4096];
	uint32_t noise = 12345;
	SNDFILE *snd;
	bool ok = true;

	memset(out, 0, sizeof *out);
	snd = sf_open_virtual(&vbuf_io, SFM_WRITE, &info, out);
	if (snd == NULL) {
		diag("libsndfile cannot write format 0x%x: %s", (unsigned)format, sf_strerror(NULL));
		free(out->data);
		memset(out, 0, sizeof *out);
		return false;
	}
	for (uint64_t done = 0; done < total && ok;) {
		size_t n = total - done < 4096 ? (size_t)(total - done) : 4096;

		for (size_t i = 0; i < n; i++) {
			double t = (double)(done + i) / rate;

			noise = noise * 1103515245u + 12345u;
			chunk[i] = (float)(0.1 * sin(2.0 * M_PI * 440.0 * t) +
					   ((double)(noise >> 16) / 65536.0 - 0.5) * 0.01);
		}
		ok = sf_writef_float(snd, chunk, (sf_count_t)n) == (sf_count_t)n;
		done += n;
	}
	if (sf_close(snd) != 0)
		ok = false;
	if (!ok || out->len == 0) {
		diag("writing format 0x%x failed", (unsigned)format);
		free(out->data);
		memset(out, 0, sizeof *out);
		return false;
	}
	return true;
}

/*
 * The two long inputs: FLAC, whose STREAMINFO states the length, and Ogg
 * Opus, where only the last page's granule position does. Returns how many
 * were written; a failed one is reported as a test.
 */
static size_t make_long_inputs(struct long_input *in)
{
	size_t n = 0;

	in[n] = (struct long_input){ "30 s FLAC 16 kHz", AIRLOCK_TYPE_FLAC, 16000, { 0 } };
	if (write_long(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, &in[n].file))
		n++;
	else
		tap(false, "write a 30 s FLAC in memory");
	in[n] = (struct long_input){ "30 s Ogg Opus 48 kHz", AIRLOCK_TYPE_OPUS, 48000, { 0 } };
	if (write_long(SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, &in[n].file)) {
		n++;
	} else {
		diag("this libsndfile cannot write Ogg Opus: the Ogg case uses Vorbis instead");
		in[n] = (struct long_input){ "30 s Ogg Vorbis 48 kHz", AIRLOCK_TYPE_VORBIS, 48000, { 0 } };
		if (write_long(SF_FORMAT_OGG | SF_FORMAT_VORBIS, 48000, &in[n].file))
			n++;
		else
			tap(false, "write a 30 s Ogg Opus or Vorbis in memory");
	}
	return n;
}

/* audio.c's CHUNK_FRAMES: the decoder may read one chunk past a cap before it stops. */
#define DECODER_CHUNK_FRAMES 4096

/*
 * out->frames on failure counts the source frames decoded before the stop:
 * past the cap (it was reached) but within one chunk of it, far from the
 * LONG_SECONDS * rate frames at the end of the input.
 */
static void test_long_generated(const struct long_input *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *buf = in[i].file.data;
		const size_t len = (size_t)in[i].file.len;
		const uint64_t cap_frames = 5ull * in[i].rate, byte_frames = 100000 / 4;
		struct limits lim;
		struct frame f;
		int rc;

		limits_default(&lim);
		lim.max_seconds = 5;
		rc = audio_decode(buf, len, &lim, in[i].type, &f);
		if (rc != AIRLOCK_E_TOO_LONG || f.frames > cap_frames + DECODER_CHUNK_FRAMES)
			diag("%s, %llu frames decoded", airlock_error_name(rc), (unsigned long long)f.frames);
		tap(rc == AIRLOCK_E_TOO_LONG && f.limit == AIRLOCK_MAX_SECONDS && f.pixels == NULL &&
			    f.frames > cap_frames && f.frames <= cap_frames + DECODER_CHUNK_FRAMES,
		    "%s, max_seconds=5: too_long/max_seconds after %llu of %llu frames", in[i].name,
		    (unsigned long long)f.frames, (unsigned long long)in[i].rate * LONG_SECONDS);
		frame_free(&f);

		/* f32 mono: 4 bytes a frame. */
		limits_default(&lim);
		lim.max_decoded_bytes = 100000;
		rc = audio_decode(buf, len, &lim, in[i].type, &f);
		if (rc != AIRLOCK_E_TOO_LONG || f.frames > byte_frames + DECODER_CHUNK_FRAMES)
			diag("%s, %llu frames decoded", airlock_error_name(rc), (unsigned long long)f.frames);
		tap(rc == AIRLOCK_E_TOO_LONG && f.limit == AIRLOCK_MAX_DECODED_BYTES && f.pixels == NULL &&
			    f.frames > byte_frames && f.frames <= byte_frames + DECODER_CHUNK_FRAMES,
		    "%s, max_decoded_bytes=100000: too_long/max_decoded_bytes after %llu frames", in[i].name,
		    (unsigned long long)f.frames);
		frame_free(&f);

		limits_default(&lim);
		rc = audio_decode(buf, len, &lim, in[i].type, &f);
		if (rc != AIRLOCK_OK)
			diag("%s", airlock_error_name(rc));
		tap(rc == AIRLOCK_OK && frame_violation(rc, &f, &lim, in[i].type) == NULL && f.rate == in[i].rate &&
			    f.channels == 1 &&
			    fabs((double)f.frames - (double)in[i].rate * LONG_SECONDS) <=
				    (double)in[i].rate * LONG_SECONDS * 0.01,
		    "%s, default limits: accepted, %llu frames", in[i].name, (unsigned long long)f.frames);
		frame_free(&f);
	}
}

/* The same caps through the sandbox, where the limit comes back in the report. */
static void test_long_sandboxed(const struct sandbox *sb, const struct long_input *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *buf = in[i].file.data;
		const size_t len = (size_t)in[i].file.len;
		airlock_result *res = NULL;
		airlock_report rep = AIRLOCK_REPORT_INIT;
		struct limits lim;
		bool same;
		int rc;

		limits_default(&lim);
		lim.max_seconds = 5;
		same = sanitize_both(sb, &lim, AIRLOCK_TYPE_NONE, buf, len, &rc, &rep, &res);
		tap(same && rc == AIRLOCK_E_TOO_LONG && rep.limit == AIRLOCK_MAX_SECONDS && rep.type == in[i].type,
		    "sandboxed: %s, max_seconds=5: too_long/max_seconds (%s, limit %u)", in[i].name,
		    airlock_error_name(rc), rep.limit);
		airlock_result_free(res);

		limits_default(&lim);
		lim.max_decoded_bytes = 100000;
		same = sanitize_both(sb, &lim, AIRLOCK_TYPE_NONE, buf, len, &rc, &rep, &res);
		tap(same && rc == AIRLOCK_E_TOO_LONG && rep.limit == AIRLOCK_MAX_DECODED_BYTES,
		    "sandboxed: %s, max_decoded_bytes=100000: too_long/max_decoded_bytes (%s, limit %u)", in[i].name,
		    airlock_error_name(rc), rep.limit);
		airlock_result_free(res);

		limits_default(&lim);
		same = sanitize_both(sb, &lim, AIRLOCK_TYPE_NONE, buf, len, &rc, &rep, &res);
		tap(same && rc == AIRLOCK_OK, "sandboxed: %s, default limits: accepted, the in-process samples (%s)",
		    in[i].name, airlock_error_name(rc));
		airlock_result_free(res);
	}
}

#if defined(HAVE_SECCOMP_TEST) && !defined(UNDER_SANITIZER)
static int trap_fd = -1;

/* Reports the forbidden system call's number to the parent and dies. */
static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
	int nr = info->si_syscall;
	ssize_t w;

	(void)sig;
	(void)ctx;
	w = write(trap_fd, &nr, sizeof nr);
	(void)w;
	_exit(99);
}

static int compare_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * In a child: confine to what a decoder may need inside the worker, then
 * decode. Memory: mmap, munmap, mremap, madvise, brk. Output: write() on
 * fd 2 only, where libmpg123 complains about damaged MP3s (the worker points
 * fd 2 at /dev/null); never fd 1, which carries the frame, and no read() at
 * all: the input is already in memory. And exit. Returns 0 when the decode
 * ran to its end, else the number of the refused system call, or -1.
 */
static int decode_confined(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type)
{
#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#else
#define ARCH AUDIT_ARCH_AARCH64
#endif
#define ALLOW(name) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
	int fds[2], status = 0, nr = -1;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* Little-endian only (x86_64, aarch64): args[0]'s low half comes first. */
		struct sock_filter filter[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 5),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 2, 0),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)fds[1], 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			ALLOW(mmap),
			ALLOW(munmap),
			ALLOW(mremap),
			ALLOW(madvise),
			ALLOW(brk),
			ALLOW(exit),
			ALLOW(exit_group),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		};
		struct sock_fprog prog = { (unsigned short)(sizeof filter / sizeof filter[0]), filter };
		struct sigaction sa;
		struct frame f;
		int warm[512];

		close(fds[0]);
		trap_fd = fds[1];
		/*
		 * glibc's qsort() asks sysinfo() for the RAM size the first time it
		 * sorts 1 KiB or more (libvorbis sorts codebooks), and caches it. The
		 * zygote has to sort once before the filter goes on, as here.
		 */
		for (int i = 0; i < 512; i++)
			warm[i] = 511 - i;
		qsort(warm, 512, sizeof warm[0], compare_int);
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		if (sigaction(SIGSYS, &sa, NULL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(98);
		audio_decode(buf, len, lim, type, &f);
		frame_free(&f);
		_exit(0);
	}
#undef ALLOW
#undef ARCH
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	if (read(fds[0], &nr, sizeof nr) != sizeof nr)
		nr = -1;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : nr;
}

/* What the worker's sandbox will hold the decoder to, on every input of the manifest. */
static void test_seccomp(void)
{
	static const uint32_t types[] = { AIRLOCK_TYPE_WAV,  AIRLOCK_TYPE_FLAC, AIRLOCK_TYPE_VORBIS,
					  AIRLOCK_TYPE_OPUS, AIRLOCK_TYPE_MP3,	AIRLOCK_TYPE_AIFF };
	uint8_t junk[3000];
	size_t failed = 0, tried = 0;
	uint32_t x = 1;

	for (size_t i = 0; i < n_inputs; i++) {
		struct limits lim;
		uint8_t *buf;
		size_t len;
		int nr;

		if (!read_file(inputs[i].path, &buf, &len))
			continue;
		limits_default(&lim);
		parse_opts(inputs[i].opts, &lim);
		nr = decode_confined(buf, len, &lim, inputs[i].type);
		if (nr != 0) {
			diag("%s [%s]: %s %d", inputs[i].path, inputs[i].opts, nr > 0 ? "system call" : "failed", nr);
			failed++;
		}
		tried++;
		free(buf);
	}
	/* Noise libmagic would never type; libsndfile probes the file system for what it cannot name. */
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		struct limits lim;
		int nr;

		limits_default(&lim);
		nr = decode_confined(junk, sizeof junk, &lim, types[t]);
		if (nr != 0) {
			diag("noise as type %u: %s %d", types[t], nr > 0 ? "system call" : "failed", nr);
			failed++;
		}
		tried++;
	}
	tap(failed == 0 && tried > 0,
	    "%zu inputs decode under a filter allowing only mmap, munmap, mremap, madvise, brk, exit and write(2)",
	    tried);
}
#else
static void test_seccomp(void)
{
	skip("needs Linux on x86_64 or aarch64, without sanitizers", "decode under a seccomp filter");
}
#endif

/*
 * --sandbox: the manifest and the long inputs through one context, then the
 * context's end must leave no fd and no child behind (design invariant 5).
 */
static void run_sandboxed(const char *root, const char *shared, const struct long_input *longs, size_t n_long)
{
	struct sandbox sb = { NULL, NULL };
	int fds_before, fds_after, rc, wait_errno;
	pid_t waited;

	fds_before = proc_fd_count();
	rc = airlock_open(&sb.ctx);
	if (rc != AIRLOCK_OK) {
		tap(false, "airlock_open: %s (%s)", airlock_error_name(rc), airlock_strerror(rc));
		return;
	}
	sb.magic = detect_open();
	if (sb.magic == NULL) {
		tap(false, "detect_open: no libmagic database");
		airlock_close(sb.ctx);
		return;
	}
	test_context_defaults(sb.ctx);
	run_manifest(root, shared, &sb);
	test_long_sandboxed(&sb, longs, n_long);
	detect_close(sb.magic);
	airlock_close(sb.ctx);

	fds_after = proc_fd_count();
	tap(fds_before >= 0 && fds_after == fds_before, "no fd leaked: %d open before airlock_open, %d after close",
	    fds_before, fds_after);
	errno = 0;
	waited = waitpid(-1, NULL, WNOHANG);
	wait_errno = errno;
	tap(waited == -1 && wait_errno == ECHILD && proc_children(NULL, 0) == 0,
	    "no child left after airlock_close (waitpid: %d, %s)", (int)waited, strerror(wait_errno));
}

/* airlock's own signature check (detect_type without libmagic) agrees with libmagic on what an ID3v2 tag hides. */
static void test_signatures(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
		uint32_t want;
	} cases[] = {
		{ "ID3v2 then fLaC is FLAC",
		  "ID3\x04\x00\x00\x00\x00\x00\x02"
		  "ab"
		  "fLaC\x00\x00",
		  18, AIRLOCK_TYPE_FLAC },
		{ "ID3v2 with footer then PNG is PNG",
		  "ID3\x04\x00\x10\x00\x00\x00\x00"
		  "3DI\x04\x00\x10\x00\x00\x00\x00"
		  "\x89PNG\r\n\x1a\n",
		  28, AIRLOCK_TYPE_PNG },
		{ "two ID3v2 tags then an MPEG frame is MP3",
		  "ID3\x03\x00\x00\x00\x00\x00\x00"
		  "ID3\x03\x00\x00\x00\x00\x00\x00"
		  "\xff\xfb\x90\x00",
		  24, AIRLOCK_TYPE_MP3 },
		{ "ID3v2 then junk is MP3, for its decoder to judge", "ID3\x03\x00\x00\x00\x00\x00\x00<html>", 16,
		  AIRLOCK_TYPE_MP3 },
		{ "an MPEG layer I-III frame header is MP3", "\xff\xfb\x90\x00", 4, AIRLOCK_TYPE_MP3 },
		{ "sync with the reserved layer is nothing", "\xff\xf9\x90\x00", 4, AIRLOCK_TYPE_NONE },
		{ "sync with the reserved version is nothing", "\xff\xeb\x90\x00", 4, AIRLOCK_TYPE_NONE },
		{ "sync with bitrate index 15 is nothing", "\xff\xfb\xf0\x00", 4, AIRLOCK_TYPE_NONE },
		{ "sync with the reserved sample rate is nothing", "\xff\xfb\x9c\x00", 4, AIRLOCK_TYPE_NONE },
		{ "FLAC's frame sync alone is not MP3", "\xff\xf8\xc9\x08", 4, AIRLOCK_TYPE_NONE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t t = AIRLOCK_TYPE_NONE;
		int rc = detect_type(NULL, (const uint8_t *)cases[i].bytes, cases[i].len, &t);
		tap(cases[i].want == AIRLOCK_TYPE_NONE ? rc == AIRLOCK_E_TYPE : rc == AIRLOCK_OK && t == cases[i].want,
		    "signature check: %s (rc %d, type %u)", cases[i].name, rc, t);
	}
}

int main(int argc, char **argv)
{
	char shared_default[4096];
	const char *root, *shared;
	struct long_input longs[2];
	size_t n_long;
	bool sandboxed = argc > 1 && strcmp(argv[1], "--sandbox") == 0;

	if (sandboxed) {
		argv++;
		argc--;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: test_audio_decode [--sandbox] REPO-ROOT [SHARED-CORPUS]\n");
		return 2;
	}
	root = argv[1];
	snprintf(shared_default, sizeof shared_default, "%s/../shared/corpus-public", root);
	shared = argc == 3 ? argv[2] : shared_default;
	n_long = make_long_inputs(longs);

	if (sandboxed) {
		run_sandboxed(root, shared, longs, n_long);
	} else {
		run_manifest(root, shared, NULL);
		run_refs(root);
		test_api(root);
		test_deterministic(root);
		test_idempotent(root);
		test_prefixes(root);
		test_mutations(root);
		test_long_input();
		test_long_generated(longs, n_long);
		test_seccomp();
		test_signatures();
	}

	for (size_t i = 0; i < n_long; i++)
		free(longs[i].file.data);
	for (size_t i = 0; i < n_inputs; i++) {
		free(inputs[i].path);
		free(inputs[i].opts);
	}
	free(inputs);
	printf("1..%u\n", tests_run);
	if (tests_failed != 0)
		printf("# %u of %u failed\n", tests_failed, tests_run);
	return tests_failed == 0 ? 0 : 1;
}
