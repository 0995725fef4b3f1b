/* SPDX-License-Identifier: MIT */
/*
 * The hostile corpus (corpus/hostile.tsv, written by corpus/gen_hostile.py)
 * through the real sandbox. Every row is one case: a file, the options it
 * runs under, and the exact outcome. For each it asserts the error code,
 * report.limit and report.type; that the host kept no descriptor and gained
 * no child; and for accepted inputs the shape and changes of the result,
 * that neither the raw samples nor any canonical encoding of them carries a
 * byte of the injected payloads, and that the canonical output sanitizes
 * back to the same samples. Last, the manifest must still cover every class
 * of the corpus and list every committed file.
 *
 * usage: test-hostile SOURCE_ROOT LARGE_DIR
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "airlock.h"
#include "manifest.h"
#include "proc.h"
#include "tap.h"

struct row {
	char path[256], cls[32], opts[256], outcome[32], limit[40], type[64], changes[256], shape[64], cve[48];
	char desc[512];
	const char *name; /* the file name inside path */
};

/* Every airlock_key by the snake_case name the manifest uses. */
static const struct {
	const char *name;
	airlock_key key;
} keys[] = {
	{ "max_input_bytes", AIRLOCK_MAX_INPUT_BYTES },
	{ "max_width", AIRLOCK_MAX_WIDTH },
	{ "max_height", AIRLOCK_MAX_HEIGHT },
	{ "max_pixels", AIRLOCK_MAX_PIXELS },
	{ "memory_bytes", AIRLOCK_MEMORY_BYTES },
	{ "cpu_ms", AIRLOCK_CPU_MS },
	{ "timeout_ms", AIRLOCK_TIMEOUT_MS },
	{ "max_jpeg_scans", AIRLOCK_MAX_JPEG_SCANS },
	{ "allowed_types", AIRLOCK_ALLOWED_TYPES },
	{ "keep_alpha", AIRLOCK_KEEP_ALPHA },
	{ "background", AIRLOCK_BACKGROUND },
	{ "jpeg_quality", AIRLOCK_JPEG_QUALITY },
	{ "max_seconds", AIRLOCK_MAX_SECONDS },
	{ "max_decoded_bytes", AIRLOCK_MAX_DECODED_BYTES },
	{ "min_rate", AIRLOCK_MIN_RATE },
	{ "max_rate", AIRLOCK_MAX_RATE },
	{ "max_channels", AIRLOCK_MAX_CHANNELS },
	{ "max_audio_input_bytes", AIRLOCK_MAX_AUDIO_INPUT_BYTES },
	{ "out_rate", AIRLOCK_OUT_RATE },
	{ "mono", AIRLOCK_MONO },
	{ "sample_format", AIRLOCK_SAMPLE_FORMAT },
	{ "allow_extra_codecs", AIRLOCK_ALLOW_EXTRA_CODECS },
	{ "strict_sandbox", AIRLOCK_STRICT_SANDBOX },
	{ "max_jpeg_coeffs", AIRLOCK_MAX_JPEG_COEFFS },
	{ "max_png_inflated_bytes", AIRLOCK_MAX_PNG_INFLATED_BYTES },
	{ "icc", AIRLOCK_ICC },
	{ "max_icc_bytes", AIRLOCK_MAX_ICC_BYTES },
	{ "track", AIRLOCK_TRACK },
	{ "video_sampling", AIRLOCK_VIDEO_SAMPLING },
	{ "video_num_frames", AIRLOCK_VIDEO_NUM_FRAMES },
	{ "video_fps_milli", AIRLOCK_VIDEO_FPS_MILLI },
	{ "video_min_frames", AIRLOCK_VIDEO_MIN_FRAMES },
	{ "video_max_frames", AIRLOCK_VIDEO_MAX_FRAMES },
	{ "video_max_sampled_frames", AIRLOCK_VIDEO_MAX_SAMPLED_FRAMES },
	{ "video_max_decoded_frames", AIRLOCK_VIDEO_MAX_DECODED_FRAMES },
	{ "video_max_decoded_pixels", AIRLOCK_VIDEO_MAX_DECODED_PIXELS },
	{ "video_max_frame_pixels", AIRLOCK_VIDEO_MAX_FRAME_PIXELS },
	{ "video_max_output_bytes", AIRLOCK_VIDEO_MAX_OUTPUT_BYTES },
	{ "video_cpu_ms", AIRLOCK_VIDEO_CPU_MS },
	{ "video_timeout_ms", AIRLOCK_VIDEO_TIMEOUT_MS },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/*
 * The classes, each with the types its rows must cover between them, so
 * that deleting a class, or all of one format's files from it, fails.
 */
static const struct {
	const char *name;
	const char *types;
} classes[] = {
	{ "dimension_lie", "png,jpeg,webp,gif,bmp,tiff" },
	{ "decompression_bomb", "png,flac,webp,gif,bmp,tiff" },
	{ "cpu_bomb", "jpeg,webp,gif" },
	{ "structure", "png,jpeg,wav,flac,aiff,vorbis,mp3,webp,gif,bmp,tiff" },
	{ "palette_abuse", "png,gif,bmp" },
	{ "apng_lie", "png" },
	{ "polyglot", "png,jpeg,wav,flac,aiff,vorbis,opus,mp3,webp,gif,bmp,tiff" },
	{ "disguise", "png,jpeg,wav,flac,webp,gif,bmp,tiff" },
	{ "metadata_payload", "png,jpeg,wav,flac,aiff,vorbis,opus,mp3,webp,gif,bmp,tiff" },
	{ "audio_header_lie", "wav,flac,aiff,vorbis,opus,mp3" },
	{ "size_limit", "png,wav" },
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/* What the injected payloads carry; none of it may survive into any output. */
static const struct {
	const char *s;
	size_t n;
} markers[] = {
	{ "IGNORE ALL PREVIOUS INSTRUCTIONS", 32 },
	{ "SNOITCURTSNI SUOIVERP", 21 },
	{ "PK\x03\x04", 4 },
	{ "<html", 5 },
	{ "<script", 7 },
	{ "<svg", 4 },
	{ "%PDF-", 5 },
	{ "Exif\0\0", 6 },
	{ "AIRLOCK-EXIF-PAYLOAD", 20 },
	{ "ICC_PROFILE", 11 },
	{ "AIRLOCK-ICC-PAYLOAD", 19 },
	{ "\xe2\x80\xae", 3 }, /* U+202E RIGHT-TO-LEFT OVERRIDE */
	{ "<?xpacket", 9 },
	{ "8BIM", 4 },
	{ "DESCRIPTION=", 12 },
	{ "APETAGEX", 8 },
	{ "ID3\x04", 4 },
};

static const char *key_name(uint32_t key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].key == key)
			return keys[i].name;
	return key == 0 ? "-" : "?";
}

/* Adds type to the ",a,b," list of types seen in a class. */
static void note_type(char *list, size_t n, const char *type)
{
	char needle[72];
	const char *plus = strstr(type, "+mime:");
	const int len = plus ? (int)(plus - type) : (int)strlen(type);
	if (strcmp(type, "-") == 0 || strncmp(type, "mime:", 5) == 0 || strlen(list) + (size_t)len + 2 >= n)
		return;
	snprintf(needle, sizeof(needle), ",%.*s,", len, type);
	if (!strstr(list, needle))
		snprintf(list + strlen(list), n - strlen(list), "%s%.*s,", list[0] ? "" : ",", len, type);
}

/* Splits a manifest line into its ten fields; returns 0 for a row, -1 for a comment or a bad line. */
static int put(char *dst, size_t n, const char *src)
{
	const size_t len = strlen(src);
	if (len >= n)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

static int row_parse(char *line, struct row *r)
{
	char *f[10];
	size_t n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0')
		return -1;
	for (char *p = line; n < 10; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n != 10)
		return -1;
	/* A field too long for its column is a bad line, not a silently shortened one. */
	if (put(r->path, sizeof(r->path), f[0]) || put(r->cls, sizeof(r->cls), f[1]) ||
	    put(r->opts, sizeof(r->opts), f[2]) || put(r->outcome, sizeof(r->outcome), f[3]) ||
	    put(r->limit, sizeof(r->limit), f[4]) || put(r->type, sizeof(r->type), f[5]) ||
	    put(r->changes, sizeof(r->changes), f[6]) || put(r->shape, sizeof(r->shape), f[7]) ||
	    put(r->cve, sizeof(r->cve), f[8]) || put(r->desc, sizeof(r->desc), f[9]))
		return -1;
	const char *slash = strrchr(r->path, '/'), *colon = strchr(r->path, ':');
	r->name = slash ? slash + 1 : colon ? colon + 1 : r->path;
	return 0;
}

/* Applies one row's options on top of the defaults; returns -1 for an option it cannot apply. */
static int apply_opts(airlock_ctx *ctx, const char *opts, airlock_type *expect)
{
	char buf[256];

	*expect = AIRLOCK_TYPE_NONE;
	if (strcmp(opts, "-") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *v = strchr(t, '=');
		if (v)
			*v++ = '\0';
		if (strcmp(t, "expect") == 0) {
			*expect = v ? airlock_type_from_name(v) : AIRLOCK_TYPE_NONE;
			if (*expect == AIRLOCK_TYPE_NONE)
				return -1;
			continue;
		}
		uint64_t value = 1;
		airlock_key key = 0;
		if (strcmp(t, "allow") == 0) {
			key = AIRLOCK_ALLOWED_TYPES;
			if (!v)
				return -1;
			value = strcmp(v, "image") == 0	  ? AIRLOCK_TYPES_IMAGE
				: strcmp(v, "audio") == 0 ? AIRLOCK_TYPES_AUDIO
							  : AIRLOCK_TYPE_BIT(airlock_type_from_name(v));
		} else {
			for (size_t i = 0; i < NKEYS; i++)
				if (strcmp(t, keys[i].name) == 0)
					key = keys[i].key;
			if (key == AIRLOCK_SAMPLE_FORMAT && v)
				value = strcmp(v, "s16") == 0 ? AIRLOCK_SAMPLE_S16 : AIRLOCK_SAMPLE_F32;
			else if (v)
				value = strtoull(v, NULL, 10);
		}
		if (key == 0 || airlock_set(ctx, key, value) != AIRLOCK_OK)
			return -1;
	}
	return 0;
}

/* The first payload marker found in buf, or NULL. */
static const char *find_marker(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (len >= markers[i].n && memmem(buf, len, markers[i].s, markers[i].n))
			return markers[i].s;
	return NULL;
}

/* The shape column against a result: img:WxHxC or pcm:RATE:CHANNELS:FRAMES (~N within 1%, * any). */
static int shape_matches(const char *shape, const airlock_result *r, char *got, size_t n)
{
	unsigned w, h, ch, rate;
	char frames[32];

	if (airlock_result_rate(r) == 0)
		snprintf(got, n, "img:%ux%ux%u", airlock_result_width(r), airlock_result_height(r),
			 airlock_result_channels(r));
	else
		snprintf(got, n, "pcm:%u:%u:%llu", airlock_result_rate(r), airlock_result_channels(r),
			 (unsigned long long)airlock_result_frames(r));
	if (sscanf(shape, "img:%ux%ux%u", &w, &h, &ch) == 3)
		return airlock_result_rate(r) == 0 && airlock_result_width(r) == w && airlock_result_height(r) == h &&
		       airlock_result_channels(r) == ch;
	if (sscanf(shape, "pcm:%u:%u:%31s", &rate, &ch, frames) != 3)
		return 0;
	if (airlock_result_rate(r) != rate || airlock_result_channels(r) != ch || airlock_result_frames(r) == 0)
		return 0;
	const double got_frames = (double)airlock_result_frames(r);
	if (frames[0] == '*')
		return 1;
	if (frames[0] == '~') {
		const double want = strtod(frames + 1, NULL);
		return got_frames >= want * 0.99 && got_frames <= want * 1.01;
	}
	return airlock_result_frames(r) == strtoull(frames, NULL, 10);
}

/* The canonical encodings of one result. */
struct encoded {
	uint8_t *data[2];
	size_t len[2];
	airlock_format fmt[2];
};

static void encoded_free(struct encoded *e)
{
	free(e->data[0]);
	free(e->data[1]);
}

/* libjpeg's JPEG_MAX_DIMENSION: a wider or taller result has no JPEG form (airlock's limits allow 65535). */
#define JPEG_MAX_SIDE 65500u

/* The sampled frame a video result's encodings are of: its last. */
static uint64_t last_frame(const airlock_result *r)
{
	return airlock_result_frames(r) - 1;
}

static int is_video(const airlock_result *r)
{
	airlock_video_info vi = { .size = sizeof(vi) };
	return airlock_result_video(r, &vi) == AIRLOCK_OK;
}

static int encode_one(airlock_ctx *ctx, const airlock_result *r, airlock_format fmt, uint8_t **out, size_t *len)
{
	if (!is_video(r))
		return airlock_encode_to_memory(ctx, r, fmt, out, len);
	/* A video's frame is written as an image (the whole video encodes as RAW only). */
	return airlock_encode_frame_to_memory(ctx, NULL, r, last_frame(r), fmt, out, len);
}

/* Encodes r in every canonical format that applies: PNG and JPEG, or WAV and FLAC; a video's last frame. */
static int encode_all(airlock_ctx *ctx, const airlock_result *r, struct encoded *e, const char **failed)
{
	const int audio = airlock_result_rate(r) != 0;
	const int jpeg_fits = airlock_result_width(r) <= JPEG_MAX_SIDE && airlock_result_height(r) <= JPEG_MAX_SIDE;
	e->fmt[0] = audio ? AIRLOCK_FORMAT_WAV : AIRLOCK_FORMAT_PNG;
	e->fmt[1] = audio ? AIRLOCK_FORMAT_FLAC : jpeg_fits ? AIRLOCK_FORMAT_JPEG : AIRLOCK_FORMAT_PNG;
	for (int i = 0; i < 2; i++) {
		e->data[i] = NULL;
		e->len[i] = 0;
	}
	for (int i = 0; i < 2; i++) {
		int rc = encode_one(ctx, r, e->fmt[i], &e->data[i], &e->len[i]);
		if (rc != AIRLOCK_OK) {
			*failed = airlock_error_name(rc);
			return -1;
		}
	}
	return 0;
}

/*
 * Sanitizes each canonical encoding again, with the defaults but for the
 * row's alpha and sample format. PNG and WAV hold the samples exactly and
 * must give them back byte for byte; JPEG is lossy and FLAC rounds float to
 * 24 bits, so those must give back the shape (and s16 FLAC the samples).
 */
static int resanitize(airlock_ctx *ctx, const airlock_result *r, const struct encoded *e, char *why, size_t n)
{
	size_t len;
	const uint8_t *px = airlock_result_pixels(r, &len);
	const int s16 = airlock_result_sample_format(r) == AIRLOCK_SAMPLE_S16;
	const int video = is_video(r);
	if (video) {
		/* The last frame, as an image of its own. */
		len = (size_t)airlock_result_width(r) * airlock_result_height(r) * 3;
		px += (size_t)last_frame(r) * len;
	}

	for (int i = 0; i < 2; i++) {
		airlock_result *again = NULL;
		int rc = airlock_sanitize(ctx, e->data[i], e->len[i], AIRLOCK_TYPE_NONE, &again);
		if (rc != AIRLOCK_OK) {
			snprintf(why, n, "format %d: %s", e->fmt[i], airlock_error_name(rc));
			return 0;
		}
		size_t len2;
		const uint8_t *px2 = airlock_result_pixels(again, &len2);
		const int exact = e->fmt[i] == AIRLOCK_FORMAT_PNG || e->fmt[i] == AIRLOCK_FORMAT_WAV ||
				  (e->fmt[i] == AIRLOCK_FORMAT_FLAC && s16);
		const int same_shape = airlock_result_width(again) == airlock_result_width(r) &&
				       airlock_result_height(again) == airlock_result_height(r) &&
				       airlock_result_channels(again) == airlock_result_channels(r) &&
				       airlock_result_rate(again) == airlock_result_rate(r) &&
				       airlock_result_frames(again) == (video ? 0 : airlock_result_frames(r));
		const int ok = same_shape && (!exact || (len2 == len && memcmp(px, px2, len) == 0));
		airlock_result_free(again);
		if (!ok) {
			snprintf(why, n, "format %d: %s differ", e->fmt[i], same_shape ? "samples" : "shape");
			return 0;
		}
	}
	return 1;
}

/* The number after the first occurrence of word followed by a digit in desc, if there is one. */
static int desc_count(const char *desc, const char *word, unsigned long long *n)
{
	for (const char *p = strstr(desc, word); p; p = strstr(p + 1, word)) {
		const char *d = p + strlen(word);
		if (*d >= '0' && *d <= '9') {
			*n = strtoull(d, NULL, 10);
			return 1;
		}
	}
	return 0;
}

/* The properties of an accepted input's output. */
static void check_output(airlock_ctx *ctx, const struct row *c, const char *label, const airlock_result *r,
			 const uint64_t *defaults)
{
	char got[96];
	char chg[256];
	if (!tap_ok(shape_matches(c->shape, r, got, sizeof(got)) &&
			    strcmp(airlock_type_name(airlock_result_type(r)), c->type) == 0,
		    "%s: a %s result, shape %s", label, c->type, c->shape))
		tap_diag("got a %s result, %s", airlock_type_name(airlock_result_type(r)), got);
	changes_str(airlock_result_changes(r), airlock_change_name, chg, sizeof(chg));
	if (!tap_ok(same_set(chg, c->changes), "%s: changes %s", label, c->changes))
		tap_diag("got %s", chg);
	/* A video row's description counts what it decodes: "seen N" frames, "T M" sampled. */
	airlock_video_info vi = { .size = sizeof(vi) };
	if (airlock_result_video(r, &vi) == AIRLOCK_OK) {
		unsigned long long seen = 0, t = 0;
		const int has_seen = desc_count(c->desc, " seen ", &seen), has_t = desc_count(c->desc, " T ", &t);
		if (!tap_ok((!has_seen || vi.frames_seen == seen) && (!has_t || airlock_result_frames(r) == t),
			    "%s: %s%llu frames seen, %s%llu sampled", label, has_seen ? "" : "(any) ", seen,
			    has_t ? "" : "(any) ", t))
			tap_diag("got %llu seen, %llu sampled", (unsigned long long)vi.frames_seen,
				 (unsigned long long)airlock_result_frames(r));
	}

	size_t len;
	const uint8_t *px = airlock_result_pixels(r, &len);
	struct encoded e;
	const char *failed = NULL, *raw_hit = find_marker(px, len), *enc_hit = NULL;
	const int encoded = encode_all(ctx, r, &e, &failed) == 0;
	if (e.fmt[1] == AIRLOCK_FORMAT_PNG) {
		uint8_t *jpg = NULL;
		size_t jlen = 0;
		int jrc = encode_one(ctx, r, AIRLOCK_FORMAT_JPEG, &jpg, &jlen);
		tap_ok(jrc == AIRLOCK_E_INVALID_ARG && jpg == NULL,
		       "%s: wider or taller than JPEG allows (%u): JPEG encoding is invalid_argument (got %s)", label,
		       JPEG_MAX_SIDE, airlock_error_name(jrc));
		free(jpg);
	}
	for (int i = 0; encoded && i < 2 && !enc_hit; i++)
		enc_hit = find_marker(e.data[i], e.len[i]);
	if (!tap_ok(encoded && !raw_hit && !enc_hit, "%s: no payload byte in the raw output or its canonical encodings",
		    label)) {
		if (!encoded)
			tap_diag("encoding failed: %s", failed);
		if (raw_hit || enc_hit)
			tap_diag("found marker starting '%.4s' in the %s output", raw_hit ? raw_hit : enc_hit,
				 raw_hit ? "raw" : "encoded");
	}
	if (encoded) {
		uint64_t alpha = 0, format = AIRLOCK_SAMPLE_F32;
		char why[128] = "";
		airlock_get(ctx, AIRLOCK_KEEP_ALPHA, &alpha);
		airlock_get(ctx, AIRLOCK_SAMPLE_FORMAT, &format);
		for (size_t k = 0; k < NKEYS; k++)
			airlock_set(ctx, keys[k].key, defaults[k]);
		airlock_set(ctx, AIRLOCK_KEEP_ALPHA, alpha);
		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, format);
		if (!tap_ok(resanitize(ctx, r, &e, why, sizeof(why)),
			    "%s: the canonical output sanitizes to the same data", label))
			tap_diag("%s", why);
	}
	encoded_free(&e);
}

/* Every file in corpus/hostile has at least one manifest row. */
static void check_listed(const char *root, char names[][128], size_t count)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/corpus/hostile", root);
	DIR *d = opendir(dir);
	size_t files = 0, unlisted = 0;
	if (!tap_ok(d != NULL, "corpus/hostile opens"))
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		files++;
		size_t i = 0;
		while (i < count && strcmp(names[i], e->d_name) != 0)
			i++;
		if (i == count) {
			unlisted++;
			tap_diag("not in the manifest: %s", e->d_name);
		}
	}
	closedir(d);
	tap_ok(files > 0 && unlisted == 0, "every one of the %zu committed files has a manifest row", files);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOURCE_ROOT LARGE_DIR\n", argv[0]);
		return 2;
	}
	const char *root = argv[1], *large = argv[2];
	const int fds0 = proc_fd_count();
	char path[1024];
	snprintf(path, sizeof(path), "%s/corpus/hostile.tsv", root);
	FILE *m = fopen(path, "r");
	if (!tap_ok(m != NULL, "manifest %s opens", path))
		return tap_done();

	airlock_ctx *ctx = NULL;
	if (!tap_ok(airlock_open(&ctx) == AIRLOCK_OK, "airlock_open")) {
		fclose(m);
		return tap_done();
	}
	uint64_t defaults[NKEYS];
	for (size_t k = 0; k < NKEYS; k++)
		airlock_get(ctx, keys[k].key, &defaults[k]);
	/*
	 * The media zygote starts with the first MP4 or Matroska row and stays:
	 * started here, it is part of the baseline (two children, its control
	 * socket and pidfd), and a row that leaks shows against it.
	 */
	size_t m4a_len = 0;
	snprintf(path, sizeof(path), "%s/corpus/media/aac_mono_16k.m4a", root);
	uint8_t *m4a = slurp(path, &m4a_len);
	airlock_result *warm = NULL;
	tap_ok(m4a && airlock_sanitize(ctx, m4a, m4a_len, AIRLOCK_TYPE_MP4, &warm) == AIRLOCK_OK &&
		       proc_children(NULL, 0) == 2,
	       "the media zygote started (%s)", path);
	airlock_result_free(warm);
	free(m4a);
	const int fds = proc_fd_count();

	static char names[1024][128];
	size_t nnames = 0, rows = 0, per_class[NCLASSES] = { 0 };
	char types[NCLASSES][128] = { { 0 } };
	char line[2048];
	while (fgets(line, sizeof(line), m)) {
		struct row c;
		if (row_parse(line, &c) != 0)
			continue;
		rows++;
		char label[640];
		snprintf(label, sizeof(label), "%s: %s%s%s%s", c.cls, c.name, strcmp(c.opts, "-") ? " [" : "",
			 strcmp(c.opts, "-") ? c.opts : "", strcmp(c.opts, "-") ? "]" : "");
		size_t k = 0;
		while (k < NCLASSES && strcmp(classes[k].name, c.cls) != 0)
			k++;
		if (k < NCLASSES) {
			per_class[k]++;
			note_type(types[k], sizeof(types[k]), c.type);
		}
		if (strncmp(c.path, "large:", 6) != 0 && nnames < sizeof(names) / sizeof(names[0]))
			snprintf(names[nnames++], sizeof(names[0]), "%s", c.name);

		char file[2048];
		if (strncmp(c.path, "large:", 6) == 0)
			snprintf(file, sizeof(file), "%s/%s", large, c.path + 6);
		else
			snprintf(file, sizeof(file), "%s/%s", root, c.path);
		size_t len = 0;
		uint8_t *buf = slurp(file, &len);
		for (size_t i = 0; i < NKEYS; i++)
			airlock_set(ctx, keys[i].key, defaults[i]);
		airlock_type expect = AIRLOCK_TYPE_NONE;
		const char *bad = k == NCLASSES				  ? "the class is not one of the corpus's"
				  : buf == NULL				  ? "the file cannot be read"
				  : apply_opts(ctx, c.opts, &expect) != 0 ? "the options do not apply"
									  : NULL;
		if (bad) {
			tap_ok(0, "%s: %s, limit %s, type %s", label, c.outcome, c.limit, c.type);
			tap_diag("%s", bad);
			free(buf);
			continue;
		}

		airlock_result *r = NULL;
		airlock_report rep = AIRLOCK_REPORT_INIT;
		const int rc = airlock_sanitize_report(ctx, buf, len, expect, &r, &rep);
		if (rep.elapsed_us > 500000)
			tap_diag("%s took %llu ms", c.name, (unsigned long long)rep.elapsed_us / 1000);
		const char *got = airlock_error_name(rc), *got_type = airlock_type_name(rep.type);
		/*
		 * "mime:X": no airlock type, and the report names X (an unsupported
		 * input); "TYPE+mime:X": that type, and X (a codec it holds).
		 */
		char want_type[64];
		const char *plus = strstr(c.type, "+mime:"), *want_mime = "-";
		snprintf(want_type, sizeof(want_type), "%.*s", plus ? (int)(plus - c.type) : (int)strlen(c.type),
			 c.type);
		if (plus)
			want_mime = plus + 6;
		else if (strncmp(c.type, "mime:", 5) == 0)
			want_mime = c.type + 5;
		if (strcmp(want_type, "-") == 0 || strncmp(want_type, "mime:", 5) == 0)
			snprintf(want_type, sizeof(want_type), "none");
		const char *got_mime = rep.mime ? rep.mime : "-";
		if (!tap_ok(strcmp(got, c.outcome) == 0 && strcmp(key_name(rep.limit), c.limit) == 0 &&
				    strcmp(got_type, want_type) == 0 && strcmp(got_mime, want_mime) == 0,
			    "%s: %s, limit %s, type %s", label, c.outcome, c.limit, c.type))
			tap_diag("got %s, limit %s, type %s, mime %s", got, key_name(rep.limit), got_type, got_mime);
		if (!tap_ok(proc_fd_count() == fds && proc_children(NULL, 0) == 2, "%s: no fd leaked, no extra child",
			    label))
			tap_diag("fds %d (was %d), children %d", proc_fd_count(), fds, proc_children(NULL, 0));
		if (rc == AIRLOCK_OK && strcmp(c.outcome, "ok") == 0)
			check_output(ctx, &c, label, r, defaults);
		airlock_result_free(r);
		free(buf);
	}
	fclose(m);

	for (size_t k = 0; k < NCLASSES; k++) {
		char want[128];
		int missing = 0;
		snprintf(want, sizeof(want), "%s", classes[k].types);
		for (char *save = NULL, *t = strtok_r(want, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char needle[24];
			snprintf(needle, sizeof(needle), ",%s,", t);
			if (!strstr(types[k], needle)) {
				tap_diag("class %s has no %s row", classes[k].name, t);
				missing++;
			}
		}
		tap_ok(per_class[k] > 0 && missing == 0, "class %s: %zu rows, covering %s", classes[k].name,
		       per_class[k], classes[k].types);
	}
	check_listed(root, names, nnames);
	tap_ok(rows >= 200, "manifest has %zu rows", rows);
	airlock_close(ctx);
	tap_ok(proc_children(NULL, 0) == 0 && proc_fd_count() == fds0,
	       "airlock_close ends both zygotes and releases their descriptors");
	return tap_done();
}
