/* SPDX-License-Identifier: MIT */
/*
 * Per-request options (airlock_options), through the real sandbox: every
 * key validates exactly as airlock_set() does; a tighter per-request limit
 * trips with the code and report.limit a context set to that value gives,
 * while the context's looser value passes; a looser per-request value never
 * loosens the context's; the keys a request chooses give the bytes a
 * context configured that way gives; unset returns a key to the context;
 * one options object shared by 8 threads, beside per-thread ones, on one
 * context; airlock_encode_opts() against a context set to the same values.
 *
 * usage: test-options SOURCE_ROOT HOSTILE_LARGE_DIR
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airlock.h"
#include "manifest.h"
#include "tap.h"

static const char *root, *large;

static airlock_ctx *open_ctx(void)
{
	airlock_ctx *c = NULL;
	if (airlock_open(&c) != AIRLOCK_OK) {
		fprintf(stderr, "airlock_open failed\n");
		exit(2);
	}
	return c;
}

/* One request; its code and report, and (on success) an FNV-1a of the result's data and its shape. */
struct outcome {
	int rc;
	airlock_report rep;
	uint64_t fnv;
	uint32_t w, h, ch, rate, changes;
	uint64_t frames;
	size_t len;
};

static struct outcome run(airlock_ctx *ctx, const uint8_t *b, size_t n, const airlock_options *o)
{
	struct outcome out = { .rep = AIRLOCK_REPORT_INIT };
	airlock_result *r = NULL;
	out.rc = airlock_sanitize_opts(ctx, b, n, AIRLOCK_TYPE_NONE, o, &r, &out.rep);
	if (out.rc == AIRLOCK_OK) {
		const uint8_t *p = airlock_result_pixels(r, &out.len);
		out.fnv = fnv1a64(p, out.len);
		out.w = airlock_result_width(r);
		out.h = airlock_result_height(r);
		out.ch = airlock_result_channels(r);
		out.rate = airlock_result_rate(r);
		out.frames = airlock_result_frames(r);
		out.changes = airlock_result_changes(r);
	}
	airlock_result_free(r);
	return out;
}

static int same(const struct outcome *a, const struct outcome *b)
{
	return a->rc == b->rc && a->rep.limit == b->rep.limit && a->rep.type == b->rep.type && a->fnv == b->fnv &&
	       a->len == b->len && a->w == b->w && a->h == b->h && a->ch == b->ch && a->rate == b->rate &&
	       a->frames == b->frames && a->changes == b->changes;
}

/* ---- validation ---- */

static void test_validation(void)
{
	airlock_ctx *ctx = open_ctx();
	airlock_options *o = NULL;
	int bad = 0, probes = 0;

	tap_ok(airlock_options_new(NULL) == AIRLOCK_E_INVALID_ARG, "options_new(NULL) is invalid_arg");
	tap_ok(airlock_options_new(&o) == AIRLOCK_OK && o, "options_new");

	/*
	 * Every key value 0..70 (and a few past), against a ladder of values
	 * around each bound: the options' verdict must be the context's.
	 */
	static const uint64_t ladder[] = { 0,
					   1,
					   2,
					   3,
					   4,
					   7,
					   99,
					   100,
					   101,
					   999,
					   1000,
					   7999,
					   8000,
					   0xFFFFFF,
					   0x1000000,
					   (64u << 20) - 1,
					   64u << 20,
					   86400,
					   86401,
					   100000,
					   100001,
					   768000,
					   768001,
					   3600000,
					   3600001,
					   0x7fffffff,
					   0x80000000u,
					   1u << 30,
					   (1u << 30) + 1,
					   1ull << 34,
					   (1ull << 34) + 1,
					   1ull << 40,
					   (1ull << 40) + 1,
					   1ull << 50,
					   (1ull << 50) + 1,
					   AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO,
					   AIRLOCK_TYPES_AUDIO,
					   1u << AIRLOCK_TYPE_COUNT_,
					   1u,
					   UINT32_MAX,
					   UINT64_MAX };
	for (int key = -1; key <= 70; key++) {
		for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
			int want = airlock_set(ctx, (airlock_key)key, ladder[i]);
			int got = airlock_options_set(o, (airlock_key)key, ladder[i]);
			uint64_t back = 0;
			int g = airlock_options_get(o, (airlock_key)key, &back);
			probes++;
			if (got != want || (want == AIRLOCK_OK && (g != AIRLOCK_OK || back != ladder[i]))) {
				if (bad++ < 5)
					tap_diag("key %d value %llu: options %d, context %d", key,
						 (unsigned long long)ladder[i], got, want);
			}
			airlock_options_unset(o, (airlock_key)key);
		}
	}
	tap_ok(bad == 0, "options_set accepts and refuses exactly what airlock_set does (%d probes, %d differ)", probes,
	       bad);

	uint64_t v = 7;
	tap_ok(airlock_options_get(o, AIRLOCK_MAX_PIXELS, &v) == AIRLOCK_E_BAD_OPTION && v == 7,
	       "get of a key not held: bad_option, nothing written");
	tap_ok(airlock_options_get(o, (airlock_key)99, &v) == AIRLOCK_E_BAD_OPTION,
	       "get of an unknown key: bad_option");
	tap_ok(airlock_options_set(o, AIRLOCK_MAX_PIXELS, 5) == AIRLOCK_OK &&
		       airlock_options_get(o, AIRLOCK_MAX_PIXELS, &v) == AIRLOCK_OK && v == 5,
	       "set then get");
	tap_ok(airlock_options_set(o, AIRLOCK_MAX_PIXELS, 0) == AIRLOCK_E_INVALID_ARG &&
		       airlock_options_get(o, AIRLOCK_MAX_PIXELS, &v) == AIRLOCK_OK && v == 5,
	       "a refused value leaves the held one");
	tap_ok(airlock_options_unset(o, AIRLOCK_MAX_PIXELS) == AIRLOCK_OK &&
		       airlock_options_get(o, AIRLOCK_MAX_PIXELS, &v) == AIRLOCK_E_BAD_OPTION,
	       "unset forgets the key");
	tap_ok(airlock_options_unset(o, AIRLOCK_MAX_PIXELS) == AIRLOCK_OK, "unset of a key not held is fine");
	tap_ok(airlock_options_unset(o, (airlock_key)0) == AIRLOCK_E_BAD_OPTION &&
		       airlock_options_unset(o, (airlock_key)64) == AIRLOCK_E_BAD_OPTION,
	       "unset of an unknown key: bad_option");
	tap_ok(airlock_options_set(NULL, AIRLOCK_MAX_PIXELS, 5) == AIRLOCK_E_INVALID_ARG &&
		       airlock_options_get(NULL, AIRLOCK_MAX_PIXELS, &v) == AIRLOCK_E_INVALID_ARG &&
		       airlock_options_get(o, AIRLOCK_MAX_PIXELS, NULL) == AIRLOCK_E_INVALID_ARG &&
		       airlock_options_unset(NULL, AIRLOCK_MAX_PIXELS) == AIRLOCK_E_INVALID_ARG,
	       "NULL options or value: invalid_arg");
	airlock_options_free(o);
	airlock_options_free(NULL);
	airlock_close(ctx);
}

/* ---- tighter limits trip, looser ones do not loosen ---- */

struct tight_case {
	const char *path;
	airlock_key key;
	uint64_t tight;
	int want; /* the code, as hostile.tsv and test_audio_encode.c know it */
};

static void test_tighter(void)
{
	static const struct tight_case cases[] = {
		{ "corpus/images/rgb8.png", AIRLOCK_MAX_WIDTH, 1, AIRLOCK_E_TOO_LARGE },
		{ "corpus/images/rgb8.png", AIRLOCK_MAX_HEIGHT, 1, AIRLOCK_E_TOO_LARGE },
		{ "corpus/images/rgb8.png", AIRLOCK_MAX_PIXELS, 10, AIRLOCK_E_TOO_LARGE },
		{ "corpus/images/rgb8.png", AIRLOCK_MAX_INPUT_BYTES, 10, AIRLOCK_E_INPUT_TOO_BIG },
		{ "corpus/images/rgb8.png", AIRLOCK_MAX_PNG_INFLATED_BYTES, 10, AIRLOCK_E_TOO_LARGE },
		{ "corpus/images/rgb8.png", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_AUDIO, AIRLOCK_E_TYPE },
		{ "corpus/images/jpeg_progressive.jpg", AIRLOCK_MAX_JPEG_SCANS, 1, AIRLOCK_E_TOO_COMPLEX },
		{ "corpus/images/jpeg_progressive.jpg", AIRLOCK_MAX_JPEG_COEFFS, 1, AIRLOCK_E_TOO_COMPLEX },
		{ "corpus/images/icc/jpeg_rgb_adobe.jpg", AIRLOCK_MAX_ICC_BYTES, 1, AIRLOCK_E_TOO_LARGE },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MAX_CHANNELS, 1, AIRLOCK_E_OUT_OF_RANGE },
		{ "corpus/audio/wav_s16_mono_16k.wav", AIRLOCK_MAX_RATE, 15999, AIRLOCK_E_OUT_OF_RANGE },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MIN_RATE, 16000, AIRLOCK_E_OUT_OF_RANGE },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MAX_AUDIO_INPUT_BYTES, 16043, AIRLOCK_E_INPUT_TOO_BIG },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MAX_DECODED_BYTES, 100, AIRLOCK_E_TOO_LONG },
		{ "corpus/audio/mp3_mono_8k_2s.mp3", AIRLOCK_MAX_SECONDS, 1, AIRLOCK_E_TOO_LONG },
		{ "corpus/audio/wav_ima_adpcm_8k.wav", AIRLOCK_ALLOW_EXTRA_CODECS, 0, AIRLOCK_E_UNSUPPORTED },
	};
	airlock_ctx *loose = open_ctx();
	/* The ADPCM row needs a context that allows extra codecs, so that the options can take it away. */
	airlock_set(loose, AIRLOCK_ALLOW_EXTRA_CODECS, 1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tight_case *c = &cases[i];
		size_t n;
		uint8_t *b = slurp_fixture(root, c->path, &n);
		airlock_options *o = NULL;
		airlock_options_new(&o);
		airlock_options_set(o, c->key, c->tight);

		/* The reference: a context set to the tight value. */
		airlock_ctx *ref = open_ctx();
		airlock_set(ref, AIRLOCK_ALLOW_EXTRA_CODECS, 1);
		airlock_set(ref, c->key, c->tight);
		struct outcome want = run(ref, b, n, NULL);
		airlock_close(ref);

		struct outcome base = run(loose, b, n, NULL);
		struct outcome got = run(loose, b, n, o);
		/* The limit is reported as the key, but ALLOW_EXTRA_CODECS is a gate, not a limit: none. */
		const uint32_t want_limit = c->key == AIRLOCK_ALLOW_EXTRA_CODECS ? 0 : (uint32_t)c->key;
		tap_ok(base.rc == AIRLOCK_OK && got.rc == c->want && got.rep.limit == want_limit && same(&got, &want),
		       "%s, per-request key %d = %llu: %s limit %u (context's own value: ok; a context set so: %s "
		       "limit %u)",
		       c->path, c->key, (unsigned long long)c->tight, airlock_error_name(got.rc), got.rep.limit,
		       airlock_error_name(want.rc), want.rep.limit);
		airlock_options_free(o);
		free(b);
	}
	airlock_close(loose);
}

static void test_timeout_and_cpu(void)
{
	size_t n;
	uint8_t *b = slurp_fixture(large, "jpeg_scan_bomb_4096_3000_scans.jpg", &n);
	airlock_ctx *ctx = open_ctx();
	/* The decoder caps lifted on the context, so only the clock stops the worker. */
	airlock_set(ctx, AIRLOCK_MAX_JPEG_SCANS, 100000);
	airlock_set(ctx, AIRLOCK_MAX_JPEG_COEFFS, 1ull << 50);
	airlock_options *o = NULL;
	airlock_options_new(&o);
	airlock_options_set(o, AIRLOCK_TIMEOUT_MS, 300);
	struct outcome got = run(ctx, b, n, o);
	tap_ok(got.rc == AIRLOCK_E_TIMEOUT && got.rep.limit == AIRLOCK_TIMEOUT_MS && got.rep.elapsed_us < 5000000,
	       "per-request timeout_ms 300 under the context's 15000: timeout limit timeout_ms (%s, %u, %llu us)",
	       airlock_error_name(got.rc), got.rep.limit, (unsigned long long)got.rep.elapsed_us);
	airlock_options_unset(o, AIRLOCK_TIMEOUT_MS);
	airlock_options_set(o, AIRLOCK_CPU_MS, 500);
	got = run(ctx, b, n, o);
	tap_ok(got.rc == AIRLOCK_E_CPU_LIMIT && got.rep.limit == AIRLOCK_CPU_MS,
	       "per-request cpu_ms 500 under the context's 10000: cpu_limit limit cpu_ms (%s, %u)",
	       airlock_error_name(got.rc), got.rep.limit);

	/* A looser per-request timeout does not lift the context's. */
	airlock_set(ctx, AIRLOCK_TIMEOUT_MS, 300);
	airlock_options_unset(o, AIRLOCK_CPU_MS);
	airlock_options_set(o, AIRLOCK_TIMEOUT_MS, 3600000);
	got = run(ctx, b, n, o);
	tap_ok(got.rc == AIRLOCK_E_TIMEOUT && got.rep.limit == AIRLOCK_TIMEOUT_MS && got.rep.elapsed_us < 5000000,
	       "context timeout_ms 300, per-request 3600000: still timeout (%s, %llu us)", airlock_error_name(got.rc),
	       (unsigned long long)got.rep.elapsed_us);
	airlock_options_free(o);
	airlock_close(ctx);
	free(b);
}

/* The context holds the tight value; the request asks for a looser one and still gets the context's. */
struct loose_case {
	const char *path;
	airlock_key key;
	uint64_t ctx_value, req_value;
	int want;
	uint32_t want_limit;
};

static void test_looser(void)
{
	static const struct loose_case cases[] = {
		/* 37 x 3 = 111 pixels. */
		{ "corpus/images/rgb8_37x3.png", AIRLOCK_MAX_PIXELS, 100, 1000000, AIRLOCK_E_TOO_LARGE,
		  AIRLOCK_MAX_PIXELS },
		{ "corpus/images/rgb8.png", AIRLOCK_MAX_WIDTH, 1, 65535, AIRLOCK_E_TOO_LARGE, AIRLOCK_MAX_WIDTH },
		{ "corpus/images/rgb8.png", AIRLOCK_MAX_INPUT_BYTES, 10, 1ull << 30, AIRLOCK_E_INPUT_TOO_BIG,
		  AIRLOCK_MAX_INPUT_BYTES },
		{ "corpus/images/jpeg_progressive.jpg", AIRLOCK_MAX_JPEG_SCANS, 1, 100000, AIRLOCK_E_TOO_COMPLEX,
		  AIRLOCK_MAX_JPEG_SCANS },
		/* The larger minimum wins. */
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MIN_RATE, 16000, 1000, AIRLOCK_E_OUT_OF_RANGE,
		  AIRLOCK_MIN_RATE },
		{ "corpus/audio/mp3_mono_8k_2s.mp3", AIRLOCK_MAX_SECONDS, 1, 86400, AIRLOCK_E_TOO_LONG,
		  AIRLOCK_MAX_SECONDS },
		/* Type masks intersect: images only and audio only is nothing. */
		{ "corpus/images/rgb8.png", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_AUDIO,
		  AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO, AIRLOCK_E_TYPE, AIRLOCK_ALLOWED_TYPES },
		{ "corpus/images/rgb8.png", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_AUDIO, AIRLOCK_TYPES_IMAGE,
		  AIRLOCK_E_TYPE, AIRLOCK_ALLOWED_TYPES },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_AUDIO, AIRLOCK_TYPES_IMAGE,
		  AIRLOCK_E_TYPE, AIRLOCK_ALLOWED_TYPES },
		/* Extra codecs only when both allow them. */
		{ "corpus/audio/wav_ima_adpcm_8k.wav", AIRLOCK_ALLOW_EXTRA_CODECS, 0, 1, AIRLOCK_E_UNSUPPORTED, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct loose_case *c = &cases[i];
		size_t n;
		uint8_t *b = slurp_fixture(root, c->path, &n);
		airlock_ctx *ctx = open_ctx();
		airlock_set(ctx, c->key, c->ctx_value);
		airlock_options *o = NULL;
		airlock_options_new(&o);
		airlock_options_set(o, c->key, c->req_value);
		struct outcome got = run(ctx, b, n, o);
		tap_ok(got.rc == c->want && got.rep.limit == c->want_limit,
		       "%s: context key %d = %llu, request %llu: still %s limit %u (got %s limit %u)", c->path, c->key,
		       (unsigned long long)c->ctx_value, (unsigned long long)c->req_value, airlock_error_name(c->want),
		       c->want_limit, airlock_error_name(got.rc), got.rep.limit);
		airlock_options_free(o);
		airlock_close(ctx);
		free(b);
	}

	/* Both images and audio: an intersection that is empty refuses audio as well as images. */
	size_t n;
	uint8_t *b = slurp_fixture(root, "corpus/audio/wav_s16_stereo_8k.wav", &n);
	airlock_ctx *ctx = open_ctx();
	airlock_set(ctx, AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_PNG));
	airlock_options *o = NULL;
	airlock_options_new(&o);
	airlock_options_set(o, AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_JPEG));
	struct outcome got = run(ctx, b, n, o);
	free(b);
	b = slurp_fixture(root, "corpus/images/rgb8.png", &n);
	struct outcome png = run(ctx, b, n, o);
	struct outcome png_ctx = run(ctx, b, n, NULL);
	tap_ok(got.rc == AIRLOCK_E_TYPE && got.rep.limit == AIRLOCK_ALLOWED_TYPES && png.rc == AIRLOCK_E_TYPE &&
		       png.rep.limit == AIRLOCK_ALLOWED_TYPES && png.rep.type == AIRLOCK_TYPE_PNG &&
		       png_ctx.rc == AIRLOCK_OK,
	       "png-only context, jpeg-only request: every type refused, limit allowed_types (wav %s, png %s; png "
	       "without options %s)",
	       airlock_error_name(got.rc), airlock_error_name(png.rc), airlock_error_name(png_ctx.rc));
	airlock_options_free(o);
	airlock_close(ctx);
	free(b);

	/* Strict when either asks: only observable where some namespace layer is missing. */
	ctx = open_ctx();
	uint32_t layers = airlock_layers(ctx);
	b = slurp_fixture(root, "corpus/images/rgb8.png", &n);
	airlock_options_new(&o);
	airlock_options_set(o, AIRLOCK_STRICT_SANDBOX, 1);
	struct outcome strict_req = run(ctx, b, n, o);
	airlock_set(ctx, AIRLOCK_STRICT_SANDBOX, 1);
	airlock_options_set(o, AIRLOCK_STRICT_SANDBOX, 0);
	struct outcome strict_ctx = run(ctx, b, n, o);
	const int full = (layers & AIRLOCK_LAYERS_NAMESPACES) == AIRLOCK_LAYERS_NAMESPACES;
	const int want = full ? AIRLOCK_OK : AIRLOCK_E_SANDBOX_UNAVAILABLE;
	tap_ok(strict_req.rc == want && strict_ctx.rc == want,
	       "strict_sandbox asked by the request alone, then by the context alone: %s and %s (layers 0x%x: %s)",
	       airlock_error_name(strict_req.rc), airlock_error_name(strict_ctx.rc), layers, airlock_error_name(want));
	airlock_options_free(o);
	airlock_close(ctx);
	free(b);
}

/* ---- keys the request chooses ---- */

struct choice_case {
	const char *path;
	airlock_key key;
	uint64_t value;
};

static void test_choices(void)
{
	static const struct choice_case cases[] = {
		{ "corpus/images/rgb8.png", AIRLOCK_KEEP_ALPHA, 1 },
		{ "corpus/images/rgba8.png", AIRLOCK_BACKGROUND, 0x123456 },
		{ "corpus/images/icc/jpeg_rgb_adobe.jpg", AIRLOCK_ICC, 0 },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MONO, 1 },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_OUT_RATE, 16000 },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_S16 },
		{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_OUT_RATE, 16000 },
	};
	airlock_ctx *plain = open_ctx();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct choice_case *c = &cases[i];
		size_t n;
		uint8_t *b = slurp_fixture(root, c->path, &n);
		airlock_ctx *ref = open_ctx();
		airlock_set(ref, c->key, c->value);
		struct outcome want = run(ref, b, n, NULL);
		airlock_close(ref);
		airlock_options *o = NULL;
		airlock_options_new(&o);
		airlock_options_set(o, c->key, c->value);
		struct outcome got = run(plain, b, n, o);
		struct outcome base = run(plain, b, n, NULL);
		tap_ok(want.rc == AIRLOCK_OK && same(&got, &want) && base.rc == AIRLOCK_OK && base.fnv != got.fnv,
		       "%s, key %d = %llu per request: the bytes of a context set so (%016llx), not the default's "
		       "(%016llx)",
		       c->path, c->key, (unsigned long long)c->value, (unsigned long long)got.fnv,
		       (unsigned long long)base.fnv);

		/* The other way round: a context that chose, and a request that chooses the default back. */
		airlock_ctx *chose = open_ctx();
		airlock_set(chose, c->key, c->value);
		uint64_t def = 0;
		airlock_get(plain, c->key, &def);
		airlock_options_set(o, c->key, def);
		struct outcome back = run(chose, b, n, o);
		/* Unset: the context's value again. */
		airlock_options_unset(o, c->key);
		struct outcome unset = run(chose, b, n, o);
		airlock_close(chose);
		tap_ok(same(&back, &base) && same(&unset, &want),
		       "%s, key %d: a request's choice replaces the context's; "
		       "unset takes the context's again",
		       c->path, c->key);
		airlock_options_free(o);
		free(b);
	}
	airlock_close(plain);
}

/* ---- threads ---- */

#define THREADS 8
#define ROUNDS	30

static airlock_ctx *shared_ctx;
static airlock_options *shared_opts;
static uint8_t *rgba_buf;
static size_t rgba_len;
static struct outcome want_shared, want_own[THREADS];

static void own_options(int i, airlock_options *o)
{
	airlock_options_set(o, AIRLOCK_BACKGROUND, 0x102030u * (uint32_t)(i + 1));
	if (i % 2)
		airlock_options_set(o, AIRLOCK_MAX_PIXELS, 10); /* odd threads: too large */
}

static void *worker(void *arg)
{
	const int i = (int)(intptr_t)arg;
	airlock_options *own = NULL;
	intptr_t wrong = 0;
	airlock_options_new(&own);
	own_options(i, own);
	for (int k = 0; k < ROUNDS; k++) {
		struct outcome a = run(shared_ctx, rgba_buf, rgba_len, shared_opts);
		struct outcome b = run(shared_ctx, rgba_buf, rgba_len, own);
		wrong += !same(&a, &want_shared) + !same(&b, &want_own[i]);
	}
	airlock_options_free(own);
	return (void *)wrong;
}

static void test_threads(void)
{
	rgba_buf = slurp_fixture(root, "corpus/images/rgba8.png", &rgba_len);
	shared_ctx = open_ctx();
	airlock_options_new(&shared_opts);
	airlock_options_set(shared_opts, AIRLOCK_KEEP_ALPHA, 1);

	/* References, each from a context configured as the options say, one request at a time. */
	airlock_ctx *ref = open_ctx();
	airlock_set(ref, AIRLOCK_KEEP_ALPHA, 1);
	want_shared = run(ref, rgba_buf, rgba_len, NULL);
	airlock_close(ref);
	int distinct = 1;
	for (int i = 0; i < THREADS; i++) {
		ref = open_ctx();
		airlock_set(ref, AIRLOCK_BACKGROUND, 0x102030u * (uint32_t)(i + 1));
		if (i % 2)
			airlock_set(ref, AIRLOCK_MAX_PIXELS, 10);
		want_own[i] = run(ref, rgba_buf, rgba_len, NULL);
		airlock_close(ref);
		for (int j = 0; j < i; j++)
			if (want_own[i].rc == AIRLOCK_OK && same(&want_own[i], &want_own[j]))
				distinct = 0;
	}
	tap_ok(want_shared.rc == AIRLOCK_OK && want_shared.ch == 4 && want_own[0].rc == AIRLOCK_OK &&
		       want_own[0].ch == 3 && want_own[1].rc == AIRLOCK_E_TOO_LARGE && distinct,
	       "threads: the references differ from each other (rgba, flattened per background, too large)");

	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	intptr_t wrong = 0;
	for (int i = 0; i < THREADS; i++) {
		void *w;
		pthread_join(t[i], &w);
		wrong += (intptr_t)w;
	}
	tap_ok(wrong == 0,
	       "8 threads x %d x 2 requests on one context, one shared options object and one per thread: every "
	       "result is its own options' (%ld wrong)",
	       ROUNDS, (long)wrong);
	tap_ok(airlock_count(shared_ctx, AIRLOCK_OK) == (uint64_t)THREADS * ROUNDS * 3 / 2 &&
		       airlock_count(shared_ctx, AIRLOCK_E_TOO_LARGE) == (uint64_t)THREADS * ROUNDS / 2,
	       "threads: the counters add up (%llu ok, %llu too_large)",
	       (unsigned long long)airlock_count(shared_ctx, AIRLOCK_OK),
	       (unsigned long long)airlock_count(shared_ctx, AIRLOCK_E_TOO_LARGE));
	airlock_options_free(shared_opts);
	airlock_close(shared_ctx);
	free(rgba_buf);
}

/* ---- encode ---- */

static int same_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	return a && b && na == nb && memcmp(a, b, na) == 0;
}

static void test_encode(void)
{
	size_t n;
	uint8_t *b = slurp_fixture(root, "corpus/images/rgba8.png", &n);
	airlock_ctx *ctx = open_ctx();
	airlock_set(ctx, AIRLOCK_KEEP_ALPHA, 1);
	airlock_result *r = NULL;
	if (airlock_sanitize(ctx, b, n, AIRLOCK_TYPE_NONE, &r) != AIRLOCK_OK) {
		tap_ok(0, "encode: the rgba fixture sanitizes");
		airlock_close(ctx);
		free(b);
		return;
	}
	airlock_ctx *q50 = open_ctx();
	airlock_set(q50, AIRLOCK_JPEG_QUALITY, 50);
	airlock_set(q50, AIRLOCK_WEBP_LOSSLESS, 1);
	airlock_set(q50, AIRLOCK_BACKGROUND, 0x00ff00);
	airlock_options *o = NULL;
	airlock_options_new(&o);
	airlock_options_set(o, AIRLOCK_JPEG_QUALITY, 50);
	airlock_options_set(o, AIRLOCK_WEBP_LOSSLESS, 1);
	airlock_options_set(o, AIRLOCK_BACKGROUND, 0x00ff00);

	uint8_t *ref = NULL, *got = NULL, *got2 = NULL, *def = NULL, *def2 = NULL;
	size_t nref = 0, ngot = 0, ngot2 = 0, ndef = 0, ndef2 = 0;
	/* Quality and background: JPEG. */
	airlock_encode_to_memory(q50, r, AIRLOCK_FORMAT_JPEG, &ref, &nref);
	airlock_encode_opts_to_memory(NULL, o, r, AIRLOCK_FORMAT_JPEG, &got, &ngot);
	airlock_encode_opts_to_memory(ctx, o, r, AIRLOCK_FORMAT_JPEG, &got2, &ngot2);
	airlock_encode_to_memory(NULL, r, AIRLOCK_FORMAT_JPEG, &def, &ndef);
	airlock_encode_opts_to_memory(NULL, NULL, r, AIRLOCK_FORMAT_JPEG, &def2, &ndef2);
	tap_ok(same_bytes(ref, nref, got, ngot) && same_bytes(ref, nref, got2, ngot2) &&
		       same_bytes(def, ndef, def2, ndef2) && !same_bytes(ref, nref, def, ndef),
	       "encode_opts JPEG: quality 50 and background from the options give a context's bytes (%zu), with or "
	       "without a context; no options: the defaults (%zu)",
	       ngot, ndef);
	free(ref);
	free(got);
	free(got2);
	free(def);
	free(def2);
	ref = got = def = NULL;

	/* Lossless: WebP. */
	airlock_encode_to_memory(q50, r, AIRLOCK_FORMAT_WEBP, &ref, &nref);
	airlock_encode_opts_to_memory(NULL, o, r, AIRLOCK_FORMAT_WEBP, &got, &ngot);
	airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_WEBP, &def, &ndef);
	tap_ok(same_bytes(ref, nref, got, ngot) && !same_bytes(ref, nref, def, ndef),
	       "encode_opts WebP: lossless from the options gives a context's bytes (%zu; lossy %zu)", ngot, ndef);
	free(ref);
	free(got);
	free(def);
	ref = got = def = NULL;

	/* The options win over the context; keys they do not hold come from it. */
	airlock_options *q = NULL;
	airlock_options_new(&q);
	airlock_options_set(q, AIRLOCK_JPEG_QUALITY, 92);
	airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_JPEG, &ref, &nref); /* ctx: default quality 92 */
	airlock_encode_opts_to_memory(q50, q, r, AIRLOCK_FORMAT_JPEG, &got, &ngot);
	airlock_ctx *green = open_ctx();
	airlock_set(green, AIRLOCK_BACKGROUND, 0x00ff00);
	airlock_encode_to_memory(green, r, AIRLOCK_FORMAT_JPEG, &def, &ndef);
	tap_ok(same_bytes(def, ndef, got, ngot) && !same_bytes(ref, nref, got, ngot),
	       "encode_opts: quality from the options over the context's, background from the context");
	free(ref);
	free(got);
	free(def);
	tap_ok(airlock_encode_opts(NULL, o, NULL, AIRLOCK_FORMAT_PNG, NULL, NULL) == AIRLOCK_E_INVALID_ARG &&
		       airlock_encode_opts_to_memory(NULL, o, r, AIRLOCK_FORMAT_PNG, NULL, &ngot) ==
			       AIRLOCK_E_INVALID_ARG,
	       "encode_opts: NULL result or output is invalid_arg");
	airlock_options_free(q);
	airlock_options_free(o);
	airlock_close(green);
	airlock_close(q50);
	airlock_result_free(r);
	airlock_close(ctx);
	free(b);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOURCE_ROOT HOSTILE_LARGE_DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	large = argv[2];
	test_validation();
	test_tighter();
	test_timeout_and_cpu();
	test_looser();
	test_choices();
	test_threads();
	test_encode();
	return tap_done();
}
