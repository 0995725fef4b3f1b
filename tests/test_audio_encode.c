/* SPDX-License-Identifier: MIT */
/*
 * Audio through the public API and the real sandbox, as TAP.
 *
 *   test-audio-encode REPO-ROOT
 *
 * The audio keys (defaults, accepted and rejected values), the shape of
 * results against corpus/audio.tsv, the WAV and FLAC writers byte by byte and
 * read back with libsndfile, determinism and idempotence, chunked and failing
 * writes, formats that do not fit a result's kind, model-ready output, and
 * every audio limit tripped through the sandbox with the key it reports. It
 * ends with no fd and no child left behind.
 */
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airlock.h"
#include "proc.h"
#include "sndbuf.h"
#include "tap.h"

static const char *root;
static airlock_ctx *ctx;

/* ---- files and buffers ---- */

static uint8_t *load(const char *rel, size_t *len)
{
	char path[4096];
	uint8_t *b = NULL;
	size_t n = 0, cap = 0, got;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *p = realloc(b, cap);
			if (!p) {
				free(b);
				fclose(f);
				return NULL;
			}
			b = p;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return b;
}

/* ---- sanitizing ---- */

static int sanitize_buf(const uint8_t *b, size_t n, airlock_type expect, airlock_result **out, airlock_report *rep)
{
	airlock_report local = AIRLOCK_REPORT_INIT;
	return airlock_sanitize_report(ctx, b, n, expect, out, rep ? rep : &local);
}

static int sanitize_file(const char *rel, airlock_type expect, airlock_result **out, airlock_report *rep)
{
	size_t n = 0;
	uint8_t *b = load(rel, &n);
	if (!b) {
		tap_diag("cannot read %s/%s", root, rel);
		return -1;
	}
	int rc = sanitize_buf(b, n, expect, out, rep);
	free(b);
	return rc;
}

/* Every audio key back to its default. */
static void reset_audio(void)
{
	airlock_set(ctx, AIRLOCK_MAX_SECONDS, 600);
	airlock_set(ctx, AIRLOCK_MAX_DECODED_BYTES, 256u << 20);
	airlock_set(ctx, AIRLOCK_MIN_RATE, 8000);
	airlock_set(ctx, AIRLOCK_MAX_RATE, 192000);
	airlock_set(ctx, AIRLOCK_MAX_CHANNELS, 8);
	airlock_set(ctx, AIRLOCK_MAX_AUDIO_INPUT_BYTES, 25u << 20);
	airlock_set(ctx, AIRLOCK_OUT_RATE, 0);
	airlock_set(ctx, AIRLOCK_MONO, 0);
	airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_F32);
	airlock_set(ctx, AIRLOCK_ALLOW_EXTRA_CODECS, 0);
	airlock_set(ctx, AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO);
}

static size_t bytes_per_sample(const airlock_result *r)
{
	return airlock_result_sample_format(r) == AIRLOCK_SAMPLE_S16 ? 2 : 4;
}

/* ---- keys ---- */

struct key_case {
	airlock_key key;
	const char *name;
	uint64_t def;
	uint64_t ok[4];
	size_t n_ok;
	uint64_t bad[6];
	size_t n_bad;
};

#define HI(v) ((1ull << 32) | (v)) /* a value whose low 32 bits alone would pass */

static const struct key_case key_cases[] = {
	{ AIRLOCK_MAX_SECONDS, "max_seconds", 600, { 1, 86400 }, 2, { 0, 86401, HI(600), UINT64_MAX }, 4 },
	{ AIRLOCK_MAX_DECODED_BYTES,
	  "max_decoded_bytes",
	  256u << 20,
	  { 1, 1ull << 40 },
	  2,
	  { 0, (1ull << 40) + 1, UINT64_MAX },
	  3 },
	{ AIRLOCK_MIN_RATE, "min_rate", 8000, { 1000, 768000 }, 2, { 0, 999, 768001, HI(8000), UINT64_MAX }, 5 },
	{ AIRLOCK_MAX_RATE, "max_rate", 192000, { 1000, 768000 }, 2, { 0, 999, 768001, HI(48000), UINT64_MAX }, 5 },
	{ AIRLOCK_MAX_CHANNELS, "max_channels", 8, { 1, 64 }, 2, { 0, 65, HI(2), UINT64_MAX }, 4 },
	{ AIRLOCK_MAX_AUDIO_INPUT_BYTES,
	  "max_audio_input_bytes",
	  25u << 20,
	  { 1, 1ull << 40 },
	  2,
	  { 0, (1ull << 40) + 1, UINT64_MAX },
	  3 },
	{ AIRLOCK_OUT_RATE,
	  "out_rate",
	  0,
	  { 0, 1000, 16000, 768000 },
	  4,
	  { 1, 999, 768001, HI(16000), UINT64_MAX },
	  5 },
	{ AIRLOCK_MONO, "mono", 0, { 0, 1 }, 2, { 2, HI(1), UINT64_MAX }, 3 },
	{ AIRLOCK_SAMPLE_FORMAT,
	  "sample_format",
	  AIRLOCK_SAMPLE_F32,
	  { AIRLOCK_SAMPLE_S16, AIRLOCK_SAMPLE_F32 },
	  2,
	  { 0, AIRLOCK_SAMPLE_U8, 4, 7, HI(AIRLOCK_SAMPLE_S16), UINT64_MAX },
	  6 },
	{ AIRLOCK_ALLOW_EXTRA_CODECS, "allow_extra_codecs", 0, { 0, 1 }, 2, { 2, HI(1), UINT64_MAX }, 3 },
	{ AIRLOCK_TRACK,
	  "track",
	  AIRLOCK_TRACK_ANY,
	  { AIRLOCK_TRACK_ANY, AIRLOCK_TRACK_AUDIO, AIRLOCK_TRACK_VIDEO },
	  3,
	  { 3, HI(1), UINT64_MAX },
	  3 },
	/* Video: 0 is each sampling key's "the rule's default"; AIRLOCK_UNSET is a count. */
	{ AIRLOCK_VIDEO_SAMPLING,
	  "video_sampling",
	  AIRLOCK_SAMPLING_VLLM,
	  { AIRLOCK_SAMPLING_VLLM, AIRLOCK_SAMPLING_QWEN3, AIRLOCK_SAMPLING_QWEN_VL_UTILS },
	  3,
	  { 0, 4, HI(1), UINT64_MAX },
	  4 },
	{ AIRLOCK_VIDEO_NUM_FRAMES, "video_num_frames", 0, { 0, 1, 1u << 20, AIRLOCK_UNSET }, 4, { 0 }, 0 },
	{ AIRLOCK_VIDEO_FPS_MILLI,
	  "video_fps_milli",
	  0,
	  { 0, 1, 2000, 1000000000 },
	  4,
	  { 1000000001, HI(2000), UINT64_MAX },
	  3 },
	{ AIRLOCK_VIDEO_MIN_FRAMES, "video_min_frames", 0, { 0, 1, 1u << 20 }, 3, { (1u << 20) + 1, UINT64_MAX }, 2 },
	{ AIRLOCK_VIDEO_MAX_FRAMES, "video_max_frames", 0, { 0, 1, 1u << 20 }, 3, { (1u << 20) + 1, UINT64_MAX }, 2 },
	{ AIRLOCK_VIDEO_MAX_SAMPLED_FRAMES,
	  "video_max_sampled_frames",
	  768,
	  { 1, 1u << 20 },
	  2,
	  { 0, (1u << 20) + 1, HI(768), UINT64_MAX },
	  4 },
	{ AIRLOCK_VIDEO_MAX_DECODED_FRAMES,
	  "video_max_decoded_frames",
	  108000,
	  { 1, 1ull << 40 },
	  2,
	  { 0, (1ull << 40) + 1, UINT64_MAX },
	  3 },
	{ AIRLOCK_VIDEO_MAX_DECODED_PIXELS,
	  "video_max_decoded_pixels",
	  1ull << 36,
	  { 1, 1ull << 56 },
	  2,
	  { 0, (1ull << 56) + 1, UINT64_MAX },
	  3 },
	{ AIRLOCK_VIDEO_MAX_FRAME_PIXELS,
	  "video_max_frame_pixels",
	  0,
	  { 0, 1, 1ull << 34 },
	  3,
	  { (1ull << 34) + 1, UINT64_MAX },
	  2 },
	{ AIRLOCK_VIDEO_MAX_OUTPUT_BYTES,
	  "video_max_output_bytes",
	  1ull << 30,
	  { 1, 1ull << 40 },
	  2,
	  { 0, (1ull << 40) + 1, UINT64_MAX },
	  3 },
	{ AIRLOCK_VIDEO_CPU_MS, "video_cpu_ms", 120000, { 1, 3600000 }, 2, { 0, 3600001, HI(1000), UINT64_MAX }, 4 },
	{ AIRLOCK_VIDEO_TIMEOUT_MS,
	  "video_timeout_ms",
	  180000,
	  { 1, 3600000 },
	  2,
	  { 0, 3600001, HI(1000), UINT64_MAX },
	  4 },
	{ AIRLOCK_ALLOWED_TYPES,
	  "allowed_types",
	  (AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA) & ~AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_TIFF),
	  { AIRLOCK_TYPES_IMAGE, AIRLOCK_TYPES_AUDIO, AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_WAV),
	    AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO },
	  4,
	  { 0, AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_NONE), AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_COUNT_),
	    AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_NONE), HI(AIRLOCK_TYPES_AUDIO), UINT64_MAX },
	  6 },
	{ AIRLOCK_MAX_JPEG_COEFFS,
	  "max_jpeg_coeffs",
	  400000000ull,
	  { 1, 1ull << 50 },
	  2,
	  { 0, (1ull << 50) + 1, UINT64_MAX },
	  3 },
	{ AIRLOCK_MAX_PNG_INFLATED_BYTES,
	  "max_png_inflated_bytes",
	  768ull << 20,
	  { 1, 1ull << 40 },
	  2,
	  { 0, (1ull << 40) + 1, UINT64_MAX },
	  3 },
	{ AIRLOCK_ICC, "icc", 1, { 0, 1 }, 2, { 2, HI(1), UINT64_MAX }, 3 },
	{ AIRLOCK_MAX_ICC_BYTES, "max_icc_bytes", 4u << 20, { 1, 1u << 30 }, 2, { 0, (1u << 30) + 1, UINT64_MAX }, 3 },
	{ AIRLOCK_WEBP_LOSSLESS, "webp_lossless", 0, { 0, 1 }, 2, { 2, HI(1), UINT64_MAX }, 3 },
};

static void test_keys(void)
{
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *k = &key_cases[i];
		uint64_t v = ~0ull;

		int rc = airlock_get(ctx, k->key, &v);
		if (!tap_ok(rc == AIRLOCK_OK && v == k->def, "%s: default is %llu", k->name,
			    (unsigned long long)k->def))
			tap_diag("rc %s, value %llu", airlock_error_name(rc), (unsigned long long)v);
		for (size_t j = 0; j < k->n_ok; j++) {
			rc = airlock_set(ctx, k->key, k->ok[j]);
			v = ~0ull;
			airlock_get(ctx, k->key, &v);
			if (!tap_ok(rc == AIRLOCK_OK && v == k->ok[j], "%s: %llu accepted and read back", k->name,
				    (unsigned long long)k->ok[j]))
				tap_diag("rc %s, value %llu", airlock_error_name(rc), (unsigned long long)v);
		}
		airlock_set(ctx, k->key, k->def);
		for (size_t j = 0; j < k->n_bad; j++) {
			rc = airlock_set(ctx, k->key, k->bad[j]);
			v = ~0ull;
			airlock_get(ctx, k->key, &v);
			if (!tap_ok(rc == AIRLOCK_E_INVALID_ARG && v == k->def, "%s: %#llx rejected, value unchanged",
				    k->name, (unsigned long long)k->bad[j]))
				tap_diag("rc %s, value %llu", airlock_error_name(rc), (unsigned long long)v);
		}
	}
	uint64_t v = 0;
	tap_ok(airlock_set(ctx, (airlock_key)42, 1) == AIRLOCK_E_BAD_OPTION &&
		       airlock_get(ctx, (airlock_key)42, &v) == AIRLOCK_E_BAD_OPTION,
	       "key 42 (one past the last key) is an unknown option");
	tap_ok(airlock_set(NULL, AIRLOCK_MONO, 1) == AIRLOCK_E_INVALID_ARG &&
		       airlock_get(ctx, AIRLOCK_MONO, NULL) == AIRLOCK_E_INVALID_ARG,
	       "NULL context or value pointer is an invalid argument");
	reset_audio();
}

/* ---- results ---- */

struct fixture {
	const char *path;
	airlock_sample_format fmt;
	airlock_type type;
	uint32_t rate, channels;
	uint64_t frames;
	int approx; /* frames within 1% */
	uint32_t changes;
};

/* The matching lines of corpus/audio.tsv. */
static const struct fixture fixtures[] = {
	{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_SAMPLE_S16, AIRLOCK_TYPE_WAV, 8000, 2, 4000, 0, 0 },
	{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_SAMPLE_F32, AIRLOCK_TYPE_WAV, 8000, 2, 4000, 0,
	  AIRLOCK_CHANGE_FORMAT_CONVERTED },
	{ "corpus/audio/wav_f32_stereo_8k.wav", AIRLOCK_SAMPLE_F32, AIRLOCK_TYPE_WAV, 8000, 2, 4000, 0, 0 },
	{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_SAMPLE_S16, AIRLOCK_TYPE_FLAC, 48000, 2, 24000, 0, 0 },
	{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_SAMPLE_F32, AIRLOCK_TYPE_FLAC, 48000, 2, 24000, 0,
	  AIRLOCK_CHANGE_FORMAT_CONVERTED },
	{ "corpus/audio/opus_stereo_44k_src.opus", AIRLOCK_SAMPLE_F32, AIRLOCK_TYPE_OPUS, 48000, 2, 48000, 1, 0 },
	{ "corpus/audio/mp3_stereo_44k.mp3", AIRLOCK_SAMPLE_F32, AIRLOCK_TYPE_MP3, 44100, 2, 44100, 1, 0 },
	{ "corpus/audio/mp3_mono_16k.mp3", AIRLOCK_SAMPLE_S16, AIRLOCK_TYPE_MP3, 16000, 1, 9216, 1,
	  AIRLOCK_CHANGE_FORMAT_CONVERTED },
	{ "corpus/audio/aiff_s16_mono_8k.aiff", AIRLOCK_SAMPLE_F32, AIRLOCK_TYPE_AIFF, 8000, 1, 4000, 0,
	  AIRLOCK_CHANGE_FORMAT_CONVERTED },
	{ "corpus/audio/vorbis_stereo_44k.ogg", AIRLOCK_SAMPLE_F32, AIRLOCK_TYPE_VORBIS, 44100, 2, 44100, 1, 0 },
};

static int frames_match(uint64_t got, uint64_t want, int approx)
{
	if (!approx)
		return got == want;
	uint64_t d = got > want ? got - want : want - got;
	return d * 100 <= want;
}

static void test_results(void)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *fx = &fixtures[i];
		const char *fname = fx->fmt == AIRLOCK_SAMPLE_S16 ? "s16" : "f32";
		airlock_result *r = NULL;
		airlock_report rep = AIRLOCK_REPORT_INIT;

		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, fx->fmt);
		int rc = sanitize_file(fx->path, AIRLOCK_TYPE_NONE, &r, &rep);
		if (!tap_ok(rc == AIRLOCK_OK && r, "%s [%s]: sanitized", fx->path, fname)) {
			tap_diag("got %s", airlock_error_name(rc));
			continue;
		}
		size_t len = 0;
		const uint8_t *px = airlock_result_pixels(r, &len);
		uint64_t frames = airlock_result_frames(r);
		uint32_t ch = airlock_result_channels(r);
		if (!tap_ok(airlock_result_type(r) == fx->type && airlock_result_rate(r) == fx->rate &&
				    ch == fx->channels && frames_match(frames, fx->frames, fx->approx) &&
				    airlock_result_sample_format(r) == fx->fmt &&
				    airlock_result_changes(r) == fx->changes,
			    "%s [%s]: type, rate, channels, frames, format and changes as in audio.tsv", fx->path,
			    fname))
			tap_diag("type %d rate %u channels %u frames %llu format %d changes %#x",
				 (int)airlock_result_type(r), airlock_result_rate(r), ch, (unsigned long long)frames,
				 (int)airlock_result_sample_format(r), airlock_result_changes(r));
		tap_ok(airlock_result_width(r) == 0 && airlock_result_height(r) == 0, "%s [%s]: width and height are 0",
		       fx->path, fname);
		tap_ok(px && len == frames * ch * (fx->fmt == AIRLOCK_SAMPLE_S16 ? 2 : 4),
		       "%s [%s]: %zu bytes of samples, frames x channels x sample size", fx->path, fname, len);
		tap_ok(rep.type == fx->type && rep.limit == 0, "%s [%s]: the report names the type and no limit",
		       fx->path, fname);
		airlock_result_free(r);
	}
	reset_audio();
}

/* ---- the WAV writer ---- */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | (uint32_t)le16(p + 2) << 16;
}

/* The result's samples as little-endian bytes, as a WAV's data chunk holds them. */
static uint8_t *samples_le(const airlock_result *r)
{
	size_t len, bytes = bytes_per_sample(r);
	const uint8_t *px = airlock_result_pixels(r, &len);
	uint8_t *o = malloc(len ? len : 1);

	for (size_t i = 0; o && i < len; i += bytes) {
		if (bytes == 2) {
			uint16_t v;
			memcpy(&v, px + i, 2);
			o[i] = (uint8_t)v;
			o[i + 1] = (uint8_t)(v >> 8);
		} else {
			uint32_t v;
			memcpy(&v, px + i, 4);
			for (int b = 0; b < 4; b++)
				o[i + b] = (uint8_t)(v >> (8 * b));
		}
	}
	return o;
}

struct chunk {
	char id[5];
	size_t off, len; /* of the body */
};

/* The RIFF chunks of a WAVE file; -1 when they do not tile the file exactly. */
static int riff_chunks(const uint8_t *b, size_t n, struct chunk *c, int max)
{
	int k = 0;

	if (n < 12 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0)
		return -1;
	for (size_t off = 12; off < n; k++) {
		if (k == max || n - off < 8)
			return -1;
		memcpy(c[k].id, b + off, 4);
		c[k].id[4] = 0;
		c[k].len = le32(b + off + 4);
		c[k].off = off + 8;
		if (c[k].len > n - c[k].off)
			return -1;
		off = c[k].off + c[k].len + (c[k].len & 1);
	}
	return k;
}

static const uint8_t ks_guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					  0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };

/* Reads the encoded WAV or FLAC back with libsndfile and compares with r's samples. */
static const char *read_back(const airlock_result *r, const uint8_t *b, size_t n, int flac)
{
	struct vbuf v;
	SF_INFO info;
	SNDFILE *sf = vbuf_open_read(b, n, &v, &info);
	const uint32_t ch = airlock_result_channels(r);
	const uint64_t frames = airlock_result_frames(r);
	const int s16 = airlock_result_sample_format(r) == AIRLOCK_SAMPLE_S16;
	const uint8_t *px = airlock_result_pixels(r, NULL);
	const char *bad = NULL;
	void *got = NULL;

	if (!sf)
		return "libsndfile cannot open it";
	if ((uint32_t)info.channels != ch || (uint32_t)info.samplerate != airlock_result_rate(r) ||
	    (uint64_t)info.frames != frames) {
		bad = "libsndfile sees another shape";
		goto out;
	}
	got = malloc((size_t)frames * ch * 4);
	if (!got) {
		bad = "out of memory";
		goto out;
	}
	if (s16) {
		if (sf_readf_short(sf, got, (sf_count_t)frames) != (sf_count_t)frames)
			bad = "short read";
		else if (memcmp(got, px, (size_t)frames * ch * 2) != 0)
			bad = "s16 samples differ";
	} else if (!flac) {
		if (sf_readf_float(sf, got, (sf_count_t)frames) != (sf_count_t)frames)
			bad = "short read";
		else if (memcmp(got, px, (size_t)frames * ch * 4) != 0)
			bad = "float samples differ";
	} else {
		/* 24-bit FLAC comes back as int32 with the sample in the top 24 bits. */
		const int32_t *s = got;
		if (sf_readf_int(sf, got, (sf_count_t)frames) != (sf_count_t)frames)
			bad = "short read";
		for (size_t i = 0; !bad && i < (size_t)frames * ch; i++) {
			float x;
			memcpy(&x, px + i * 4, 4);
			double want = x < -1.0 ? -1.0 : x > 8388607.0 / 8388608.0 ? 8388607.0 / 8388608.0 : x;
			double d = (double)(s[i] / 256) / 8388608.0 - want;
			if ((s[i] & 0xff) != 0 || d > 1.0 / 8388608.0 || d < -1.0 / 8388608.0)
				bad = "24-bit samples not within 1/2^23 of the floats";
		}
	}
out:
	free(got);
	sf_close(sf);
	return bad;
}

/* The canonical WAV of r, chunk by chunk. */
static void check_wav(const airlock_result *r, const char *what)
{
	uint8_t *b = NULL;
	size_t n = 0;
	const uint32_t ch = airlock_result_channels(r), rate = airlock_result_rate(r);
	const int is_float = airlock_result_sample_format(r) == AIRLOCK_SAMPLE_F32, ext = ch > 2;
	const uint32_t bytes = (uint32_t)bytes_per_sample(r), tag = is_float ? 3 : 1;
	const uint64_t frames = airlock_result_frames(r);
	struct chunk c[8];

	int rc = airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_WAV, &b, &n);
	if (!tap_ok(rc == AIRLOCK_OK, "%s: WAV encodes", what)) {
		tap_diag("got %s", airlock_error_name(rc));
		return;
	}
	int k = riff_chunks(b, n, c, 8);
	tap_ok(k > 0 && le32(b + 4) == n - 8, "%s: RIFF WAVE, size field is the file length - 8, chunks tile it", what);
	int order = is_float
			    ? k == 3 && !strcmp(c[0].id, "fmt ") && !strcmp(c[1].id, "fact") && !strcmp(c[2].id, "data")
			    : k == 2 && !strcmp(c[0].id, "fmt ") && !strcmp(c[1].id, "data");
	if (!tap_ok(order, "%s: chunks are exactly %s", what, is_float ? "fmt, fact, data" : "fmt, data")) {
		for (int i = 0; i < k; i++)
			tap_diag("chunk '%s' of %zu bytes", c[i].id, c[i].len);
		free(b);
		return;
	}
	const uint8_t *f = b + c[0].off;
	const uint32_t want_fmt_len = ext ? 40 : is_float ? 18 : 16;
	if (!tap_ok(c[0].len == want_fmt_len && le16(f) == (ext ? 0xFFFE : tag) && le16(f + 2) == ch &&
			    le32(f + 4) == rate && le32(f + 8) == rate * ch * bytes && le16(f + 12) == ch * bytes &&
			    le16(f + 14) == bytes * 8,
		    "%s: fmt is %u bytes, tag %#x, %u channels, %u Hz, byte rate, block align, %u bits", what,
		    want_fmt_len, ext ? 0xFFFE : tag, ch, rate, bytes * 8))
		tap_diag("fmt %zu bytes, tag %#x, %u ch, %u Hz, %u B/s, align %u, %u bits", c[0].len, le16(f),
			 le16(f + 2), le32(f + 4), le32(f + 8), le16(f + 12), le16(f + 14));
	if (ext)
		tap_ok(le16(f + 16) == 22 && le16(f + 18) == bytes * 8 && le32(f + 20) == 0 && le16(f + 24) == tag &&
			       le16(f + 26) == 0 && memcmp(f + 26, ks_guid_tail, 14) == 0,
		       "%s: WAVE_FORMAT_EXTENSIBLE: cbSize 22, valid bits, channel mask 0, %s subformat GUID", what,
		       is_float ? "IEEE float" : "PCM");
	else if (is_float)
		tap_ok(le16(f + 16) == 0, "%s: fmt cbSize is 0", what);
	if (is_float)
		tap_ok(c[1].len == 4 && le32(b + c[1].off) == frames, "%s: fact holds the frame count %llu", what,
		       (unsigned long long)frames);
	const struct chunk *d = &c[k - 1];
	uint8_t *want = samples_le(r);
	size_t plen;
	airlock_result_pixels(r, &plen);
	tap_ok(want && d->len == plen && d->len == frames * ch * bytes && d->off + d->len == n &&
		       memcmp(b + d->off, want, plen) == 0,
	       "%s: data is the result's samples, little-endian, and ends the file", what);
	free(want);
	const char *bad = read_back(r, b, n, 0);
	if (!tap_ok(!bad, "%s: libsndfile reads the WAV back to the same samples", what))
		tap_diag("%s", bad);
	free(b);
}

static void test_wav(void)
{
	airlock_result *r = NULL;
	uint8_t *wav = NULL;
	size_t wlen = 0;
	int rc;

	airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_S16);
	if (tap_ok(sanitize_file("corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_TYPE_NONE, &r, NULL) == AIRLOCK_OK,
		   "s16 stereo WAV sanitized as s16")) {
		check_wav(r, "s16 stereo");
		airlock_result_free(r);
		r = NULL;
	}
	airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_F32);
	if (tap_ok(sanitize_file("corpus/audio/wav_f32_stereo_8k.wav", AIRLOCK_TYPE_NONE, &r, NULL) == AIRLOCK_OK,
		   "f32 stereo WAV sanitized as f32")) {
		check_wav(r, "f32 stereo");
		airlock_result_free(r);
		r = NULL;
	}
	if (tap_ok(sanitize_file("corpus/audio/mp3_mono_16k.mp3", AIRLOCK_TYPE_NONE, &r, NULL) == AIRLOCK_OK,
		   "mono MP3 sanitized as f32")) {
		check_wav(r, "f32 mono from MP3");
		airlock_result_free(r);
		r = NULL;
	}

	/* More than two channels: WAVE_FORMAT_EXTENSIBLE. */
	if (!tap_ok(vbuf_make_wav(16000, 3, 1000, &wav, &wlen), "a 3-channel WAV made with libsndfile"))
		return;
	for (int s16 = 0; s16 < 2; s16++) {
		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, s16 ? AIRLOCK_SAMPLE_S16 : AIRLOCK_SAMPLE_F32);
		rc = sanitize_buf(wav, wlen, AIRLOCK_TYPE_NONE, &r, NULL);
		if (!tap_ok(rc == AIRLOCK_OK && airlock_result_channels(r) == 3 && airlock_result_frames(r) == 1000,
			    "3-channel WAV sanitized as %s", s16 ? "s16" : "f32")) {
			tap_diag("got %s", airlock_error_name(rc));
			continue;
		}
		check_wav(r, s16 ? "s16 3 channels" : "f32 3 channels");
		airlock_result_free(r);
		r = NULL;
	}
	free(wav);
	reset_audio();
}

/* ---- the FLAC writer ---- */

static void check_flac(const airlock_result *r, const char *what)
{
	uint8_t *b = NULL;
	size_t n = 0;
	const int s16 = airlock_result_sample_format(r) == AIRLOCK_SAMPLE_S16;

	int rc = airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_FLAC, &b, &n);
	if (!tap_ok(rc == AIRLOCK_OK, "%s: FLAC encodes", what)) {
		tap_diag("got %s", airlock_error_name(rc));
		return;
	}
	/* "fLaC", STREAMINFO (34 bytes), VORBIS_COMMENT (last), then a frame. */
	int types[8], last[8], k = 0;
	size_t off[8], len[8], p = 4;
	int ok = n > 4 && memcmp(b, "fLaC", 4) == 0;
	while (ok && k < 8 && n - p >= 4) {
		types[k] = b[p] & 0x7f;
		last[k] = b[p] >> 7;
		len[k] = (size_t)b[p + 1] << 16 | (size_t)b[p + 2] << 8 | b[p + 3];
		off[k] = p + 4;
		if (len[k] > n - off[k]) {
			ok = 0;
			break;
		}
		p = off[k] + len[k];
		if (last[k++])
			break;
	}
	ok = ok && k == 2 && types[0] == 0 && !last[0] && len[0] == 34 && types[1] == 4 && last[1];
	if (!tap_ok(ok, "%s: blocks are exactly STREAMINFO, VORBIS_COMMENT (last)", what)) {
		for (int i = 0; i < k; i++)
			tap_diag("block type %d, %zu bytes, last %d", types[i], len[i], last[i]);
		free(b);
		return;
	}
	tap_ok(n - p >= 2 && b[p] == 0xFF && (b[p + 1] & 0xFE) == 0xF8, "%s: audio frames follow the last block", what);

	const uint8_t *vc = b + off[1];
	uint32_t vlen = len[1] >= 4 ? le32(vc) : 0;
	tap_ok(len[1] >= 8 && vlen == len[1] - 8 && le32(vc + 4 + vlen) == 0,
	       "%s: VORBIS_COMMENT holds a vendor string and 0 comments", what);

	const uint8_t *si = b + off[0];
	uint64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | si[10 + i];
	uint32_t rate = (uint32_t)(x >> 44), ch = (uint32_t)((x >> 41) & 7) + 1, bits = (uint32_t)((x >> 36) & 31) + 1;
	uint64_t total = x & ((1ull << 36) - 1);
	if (!tap_ok(rate == airlock_result_rate(r) && ch == airlock_result_channels(r) && bits == (s16 ? 16u : 24u) &&
			    total == airlock_result_frames(r),
		    "%s: STREAMINFO says %u Hz, %u channels, %u bits, %llu samples", what, airlock_result_rate(r),
		    airlock_result_channels(r), s16 ? 16 : 24, (unsigned long long)airlock_result_frames(r)))
		tap_diag("STREAMINFO: %u Hz, %u channels, %u bits, %llu samples", rate, ch, bits,
			 (unsigned long long)total);
	const char *bad = read_back(r, b, n, 1);
	if (!tap_ok(!bad, "%s: libsndfile reads the FLAC back to %s", what,
		    s16 ? "the same samples" : "the samples within 1/2^23"))
		tap_diag("%s", bad);
	free(b);
}

static void test_flac(void)
{
	static const struct {
		const char *path;
		airlock_sample_format fmt;
		const char *what;
	} cases[] = {
		{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_SAMPLE_S16, "s16 stereo from FLAC" },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_SAMPLE_S16, "s16 stereo from WAV" },
		{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_SAMPLE_F32, "f32 stereo from FLAC" },
		{ "corpus/audio/wav_f32_stereo_8k.wav", AIRLOCK_SAMPLE_F32, "f32 stereo from float WAV" },
		{ "corpus/audio/opus_stereo_44k_src.opus", AIRLOCK_SAMPLE_F32, "f32 stereo from Opus" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		airlock_result *r = NULL;
		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, cases[i].fmt);
		int rc = sanitize_file(cases[i].path, AIRLOCK_TYPE_NONE, &r, NULL);
		if (!tap_ok(rc == AIRLOCK_OK, "%s: sanitized", cases[i].what)) {
			tap_diag("got %s", airlock_error_name(rc));
			continue;
		}
		check_flac(r, cases[i].what);
		airlock_result_free(r);
	}

	/* Three channels through FLAC as well. */
	uint8_t *wav;
	size_t wlen;
	airlock_result *r = NULL;
	airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_S16);
	if (vbuf_make_wav(22050, 3, 5000, &wav, &wlen)) {
		if (tap_ok(sanitize_buf(wav, wlen, AIRLOCK_TYPE_NONE, &r, NULL) == AIRLOCK_OK,
			   "3-channel WAV sanitized as s16")) {
			check_flac(r, "s16 3 channels");
			airlock_result_free(r);
		}
		free(wav);
	}
	reset_audio();
}

/* ---- determinism and idempotence ---- */

static int same_samples(const airlock_result *a, const airlock_result *b)
{
	size_t la, lb;
	const uint8_t *pa = airlock_result_pixels(a, &la), *pb = airlock_result_pixels(b, &lb);
	return airlock_result_rate(a) == airlock_result_rate(b) &&
	       airlock_result_channels(a) == airlock_result_channels(b) &&
	       airlock_result_frames(a) == airlock_result_frames(b) &&
	       airlock_result_sample_format(a) == airlock_result_sample_format(b) && la == lb &&
	       memcmp(pa, pb, la) == 0;
}

static int same_encoding(const airlock_result *a, const airlock_result *b, airlock_format fmt)
{
	uint8_t *ea = NULL, *eb = NULL;
	size_t la = 0, lb = 0;
	int same = airlock_encode_to_memory(ctx, a, fmt, &ea, &la) == AIRLOCK_OK &&
		   airlock_encode_to_memory(ctx, b, fmt, &eb, &lb) == AIRLOCK_OK && la == lb && memcmp(ea, eb, la) == 0;
	free(ea);
	free(eb);
	return same;
}

static void test_idempotence(void)
{
	static const struct {
		const char *path;
		airlock_sample_format fmt;
		airlock_format out;
		int settles; /* full float precision: FLAC's 24 bits settle it after one round */
		const char *what;
	} cases[] = {
		{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_SAMPLE_S16, AIRLOCK_FORMAT_WAV, 0, "s16 WAV" },
		{ "corpus/audio/mp3_stereo_44k.mp3", AIRLOCK_SAMPLE_F32, AIRLOCK_FORMAT_WAV, 0, "f32 WAV" },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_SAMPLE_S16, AIRLOCK_FORMAT_FLAC, 0, "s16 FLAC" },
		{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_SAMPLE_F32, AIRLOCK_FORMAT_FLAC, 0,
		  "f32 FLAC of 16-bit audio" },
		{ "corpus/audio/vorbis_stereo_44k.ogg", AIRLOCK_SAMPLE_F32, AIRLOCK_FORMAT_FLAC, 1,
		  "f32 FLAC of Vorbis" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		airlock_result *r = NULL, *r2 = NULL, *r3 = NULL;
		uint8_t *e1 = NULL, *e2 = NULL;
		size_t l1 = 0, l2 = 0;

		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, cases[i].fmt);
		if (!tap_ok(sanitize_file(cases[i].path, AIRLOCK_TYPE_NONE, &r, NULL) == AIRLOCK_OK, "%s: sanitized",
			    cases[i].what))
			continue;
		int rc1 = airlock_encode_to_memory(ctx, r, cases[i].out, &e1, &l1);
		int rc2 = airlock_encode_to_memory(ctx, r, cases[i].out, &e2, &l2);
		tap_ok(rc1 == AIRLOCK_OK && rc2 == AIRLOCK_OK && l1 == l2 && memcmp(e1, e2, l1) == 0,
		       "%s: encoding twice gives identical bytes", cases[i].what);
		int rc = sanitize_buf(e1, l1, AIRLOCK_TYPE_NONE, &r2, NULL);
		if (tap_ok(rc == AIRLOCK_OK, "%s: its own output sanitizes again", cases[i].what)) {
			if (cases[i].settles) {
				uint8_t *e3 = NULL;
				size_t l3 = 0;
				tap_ok(same_encoding(r, r2, cases[i].out),
				       "%s: re-encoding the re-sanitized result gives the same bytes", cases[i].what);
				if (airlock_encode_to_memory(ctx, r2, cases[i].out, &e3, &l3) == AIRLOCK_OK &&
				    sanitize_buf(e3, l3, AIRLOCK_TYPE_NONE, &r3, NULL) == AIRLOCK_OK)
					tap_ok(same_samples(r2, r3), "%s: a second round gives identical samples",
					       cases[i].what);
				else
					tap_ok(0, "%s: a second round gives identical samples", cases[i].what);
				free(e3);
			} else {
				tap_ok(same_samples(r, r2), "%s: identical samples after sanitizing it again",
				       cases[i].what);
				tap_ok(same_encoding(r, r2, cases[i].out), "%s: and an identical re-encoding",
				       cases[i].what);
			}
		} else {
			tap_diag("got %s", airlock_error_name(rc));
		}
		free(e1);
		free(e2);
		airlock_result_free(r);
		airlock_result_free(r2);
		airlock_result_free(r3);
	}
	reset_audio();
}

/* ---- chunked and failing writes ---- */

struct recorder {
	size_t calls, max, total;
	size_t fail_at; /* 1-based call that fails, 0 for none */
};

static int record(void *user, const void *buf, size_t len)
{
	struct recorder *rec = user;
	(void)buf;
	rec->calls++;
	if (rec->fail_at && rec->calls == rec->fail_at)
		return -1;
	if (len > rec->max)
		rec->max = len;
	rec->total += len;
	return 0;
}

static void test_chunks(void)
{
	static const struct {
		airlock_format fmt;
		const char *name;
	} fmts[] = { { AIRLOCK_FORMAT_WAV, "WAV" }, { AIRLOCK_FORMAT_FLAC, "FLAC" }, { AIRLOCK_FORMAT_RAW, "RAW" } };
	airlock_result *r = NULL;
	uint8_t *wav;
	size_t wlen;

	if (!tap_ok(vbuf_make_wav(48000, 2, 48000, &wav, &wlen), "a 1-second 48 kHz stereo WAV made with libsndfile"))
		return;
	int rc = sanitize_buf(wav, wlen, AIRLOCK_TYPE_NONE, &r, NULL);
	free(wav);
	if (!tap_ok(rc == AIRLOCK_OK && airlock_result_frames(r) == 48000, "1-second 48 kHz stereo sanitized")) {
		tap_diag("got %s", airlock_error_name(rc));
		return;
	}
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct recorder rec = { 0 };
		uint8_t *m = NULL;
		size_t mlen = 0;
		rc = airlock_encode(ctx, r, fmts[i].fmt, record, &rec);
		int mrc = airlock_encode_to_memory(ctx, r, fmts[i].fmt, &m, &mlen);
		if (!tap_ok(rc == AIRLOCK_OK && rec.calls > 1 && rec.max <= (1u << 20) && mrc == AIRLOCK_OK &&
				    rec.total == mlen,
			    "%s: written in %zu calls of at most %zu bytes (> 1 call, <= 1 MiB each), same total",
			    fmts[i].name, rec.calls, rec.max))
			tap_diag("rc %s, total %zu, in memory %zu", airlock_error_name(rc), rec.total, mlen);
		free(m);
		for (size_t at = 1; at <= 2; at++) {
			struct recorder fail = { .fail_at = at };
			rc = airlock_encode(ctx, r, fmts[i].fmt, record, &fail);
			if (!tap_ok(rc == AIRLOCK_E_IO && fail.calls == at,
				    "%s: a write failing on call %zu stops the encode with AIRLOCK_E_IO", fmts[i].name,
				    at))
				tap_diag("got %s after %zu calls", airlock_error_name(rc), fail.calls);
		}
	}
	tap_ok(airlock_encode(ctx, r, AIRLOCK_FORMAT_WAV, NULL, NULL) == AIRLOCK_E_INVALID_ARG &&
		       airlock_encode(ctx, NULL, AIRLOCK_FORMAT_WAV, record, NULL) == AIRLOCK_E_INVALID_ARG,
	       "NULL write function or result is an invalid argument");
	struct recorder rec = { 0 };
	tap_ok(airlock_encode(NULL, r, AIRLOCK_FORMAT_WAV, record, &rec) == AIRLOCK_OK,
	       "a NULL context encodes WAV with the defaults");
	airlock_result_free(r);
}

/* ---- formats that do not fit the kind ---- */

static void test_mismatch(void)
{
	static uint8_t sentinel;
	airlock_result *a = NULL, *img = NULL;
	uint8_t *m = &sentinel; /* a failed encode must leave both outputs as they were */
	size_t mlen = 12345;

	if (tap_ok(sanitize_file("corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_TYPE_NONE, &a, NULL) == AIRLOCK_OK,
		   "an audio result to encode")) {
		int p = airlock_encode_to_memory(ctx, a, AIRLOCK_FORMAT_PNG, &m, &mlen);
		int j = airlock_encode_to_memory(ctx, a, AIRLOCK_FORMAT_JPEG, &m, &mlen);
		tap_ok(p == AIRLOCK_E_INVALID_ARG && j == AIRLOCK_E_INVALID_ARG && m == &sentinel && mlen == 12345,
		       "PNG and JPEG of an audio result: invalid argument, outputs untouched");
		tap_ok(airlock_encode_to_memory(ctx, a, (airlock_format)0, &m, &mlen) == AIRLOCK_E_INVALID_ARG &&
			       airlock_encode_to_memory(ctx, a, (airlock_format)6, &m, &mlen) == AIRLOCK_E_INVALID_ARG,
		       "unknown formats 0 and 6: invalid argument");
		uint8_t *raw = NULL;
		size_t rlen = 0, plen;
		const uint8_t *px = airlock_result_pixels(a, &plen);
		tap_ok(airlock_encode_to_memory(ctx, a, AIRLOCK_FORMAT_RAW, &raw, &rlen) == AIRLOCK_OK &&
			       rlen == plen && memcmp(raw, px, plen) == 0,
		       "RAW of an audio result is its samples as they are");
		free(raw);
	}
	if (tap_ok(sanitize_file("corpus/images/rgb8_1x1.png", AIRLOCK_TYPE_NONE, &img, NULL) == AIRLOCK_OK,
		   "an image result to encode")) {
		int w = airlock_encode_to_memory(ctx, img, AIRLOCK_FORMAT_WAV, &m, &mlen);
		int f = airlock_encode_to_memory(ctx, img, AIRLOCK_FORMAT_FLAC, &m, &mlen);
		tap_ok(w == AIRLOCK_E_INVALID_ARG && f == AIRLOCK_E_INVALID_ARG && m == &sentinel && mlen == 12345,
		       "WAV and FLAC of an image result: invalid argument, outputs untouched");
		tap_ok(airlock_result_sample_format(img) == AIRLOCK_SAMPLE_U8 && airlock_result_rate(img) == 0 &&
			       airlock_result_frames(img) == 0 && airlock_result_width(img) == 1 &&
			       airlock_result_height(img) == 1,
		       "an image result is U8 with rate 0 and frames 0");
		uint8_t *png = NULL;
		size_t plen = 0;
		tap_ok(airlock_encode_to_memory(ctx, img, AIRLOCK_FORMAT_PNG, &png, &plen) == AIRLOCK_OK && plen > 8,
		       "PNG of the image result works");
		free(png);
	}
	airlock_result_free(a);
	airlock_result_free(img);

	/* More than FLAC's 8 channels: WAV takes it, FLAC refuses. */
	airlock_result *r = NULL;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	int rc = sanitize_file("corpus/audio/wav_64_channels.wav", AIRLOCK_TYPE_NONE, &r, &rep);
	tap_ok(rc == AIRLOCK_E_OUT_OF_RANGE && rep.limit == AIRLOCK_MAX_CHANNELS,
	       "64-channel WAV over the default max_channels: out of range, limit max_channels");
	airlock_set(ctx, AIRLOCK_MAX_CHANNELS, 64);
	for (int s16 = 0; s16 < 2; s16++) {
		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, s16 ? AIRLOCK_SAMPLE_S16 : AIRLOCK_SAMPLE_F32);
		rc = sanitize_file("corpus/audio/wav_64_channels.wav", AIRLOCK_TYPE_NONE, &r, NULL);
		if (!tap_ok(rc == AIRLOCK_OK && airlock_result_channels(r) == 64,
			    "64-channel WAV with max_channels 64 (%s): 64 channels", s16 ? "s16" : "f32")) {
			tap_diag("got %s", airlock_error_name(rc));
			continue;
		}
		tap_diag("64-channel WAV: %llu frames at %u Hz", (unsigned long long)airlock_result_frames(r),
			 airlock_result_rate(r));
		rc = airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_FLAC, &m, &mlen);
		tap_ok(rc == AIRLOCK_E_INVALID_ARG && m == &sentinel && mlen == 12345,
		       "FLAC of 64 channels: invalid argument, outputs untouched");
		struct recorder rec = { 0 };
		rc = airlock_encode(ctx, r, AIRLOCK_FORMAT_FLAC, record, &rec);
		tap_ok(rc == AIRLOCK_E_INVALID_ARG && rec.calls == 0, "FLAC of 64 channels writes nothing");
		check_wav(r, s16 ? "s16 64 channels" : "f32 64 channels");
		airlock_result_free(r);
		r = NULL;
	}
	reset_audio();
}

/* ---- model-ready output ---- */

static void test_model_ready(void)
{
	const char *path = "corpus/audio/mp3_stereo_44k.mp3";
	airlock_result *src = NULL, *r = NULL;
	airlock_report rep = AIRLOCK_REPORT_INIT;

	if (!tap_ok(sanitize_file(path, AIRLOCK_TYPE_NONE, &src, NULL) == AIRLOCK_OK &&
			    airlock_result_rate(src) == 44100 && airlock_result_channels(src) == 2,
		    "stereo 44.1 kHz MP3 at its own rate"))
		return;
	airlock_set(ctx, AIRLOCK_OUT_RATE, 16000);
	airlock_set(ctx, AIRLOCK_MONO, 1);
	airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_F32);
	int rc = sanitize_file(path, AIRLOCK_TYPE_MP3, &r, &rep);
	if (tap_ok(rc == AIRLOCK_OK, "16 kHz mono f32 from it")) {
		const uint32_t want = AIRLOCK_CHANGE_DOWNMIXED | AIRLOCK_CHANGE_RESAMPLED;
		const double expect = (double)airlock_result_frames(src) / 44100.0 * 16000.0;
		const double frames = (double)airlock_result_frames(r);
		tap_ok(airlock_result_rate(r) == 16000 && airlock_result_channels(r) == 1 &&
			       airlock_result_sample_format(r) == AIRLOCK_SAMPLE_F32,
		       "rate 16000, 1 channel, f32");
		tap_ok((airlock_result_changes(r) & want) == want, "changes include downmixed and resampled (%#x)",
		       airlock_result_changes(r));
		tap_ok(frames >= expect * 0.99 && frames <= expect * 1.01, "%.0f frames, within 1%% of %.0f", frames,
		       expect);
		size_t len;
		const uint8_t *px = airlock_result_pixels(r, &len);
		size_t badi = len / 4;
		for (size_t i = 0; i < len / 4; i++) {
			float x;
			memcpy(&x, px + i * 4, 4);
			if (!isfinite(x) || x < -1.5f || x > 1.5f) {
				badi = i;
				break;
			}
		}
		tap_ok(len == airlock_result_frames(r) * 4 && badi == len / 4,
		       "every sample finite and within [-1.5, 1.5]");
		check_wav(r, "16 kHz mono f32");
		check_flac(r, "16 kHz mono f32");
	} else {
		tap_diag("got %s", airlock_error_name(rc));
	}
	airlock_result_free(src);
	airlock_result_free(r);
	reset_audio();
}

/* ---- options that change nothing, and FLAC's rate ceiling ---- */

static void test_noop_and_rates(void)
{
	const char *path = "corpus/audio/wav_s16_mono_16k.wav";
	airlock_result *base = NULL, *r = NULL;
	uint8_t *m = NULL;
	size_t mlen = 0;
	int rc;

	if (!tap_ok(sanitize_file(path, AIRLOCK_TYPE_NONE, &base, NULL) == AIRLOCK_OK, "16 kHz mono WAV sanitized"))
		return;
	rc = sanitize_file(path, AIRLOCK_TYPE_NONE, &r, NULL);
	tap_ok(rc == AIRLOCK_OK && same_samples(base, r) && airlock_result_changes(base) == airlock_result_changes(r),
	       "sanitizing twice in two workers gives identical samples and changes");
	airlock_result_free(r);
	r = NULL;

	airlock_set(ctx, AIRLOCK_OUT_RATE, 16000);
	rc = sanitize_file(path, AIRLOCK_TYPE_NONE, &r, NULL);
	tap_ok(rc == AIRLOCK_OK && same_samples(base, r) && !(airlock_result_changes(r) & AIRLOCK_CHANGE_RESAMPLED),
	       "out_rate equal to the source rate: identical samples, not marked resampled");
	airlock_result_free(r);
	r = NULL;
	reset_audio();

	airlock_set(ctx, AIRLOCK_MONO, 1);
	rc = sanitize_file(path, AIRLOCK_TYPE_NONE, &r, NULL);
	tap_ok(rc == AIRLOCK_OK && same_samples(base, r) && !(airlock_result_changes(r) & AIRLOCK_CHANGE_DOWNMIXED),
	       "mono on a mono source: identical samples, not marked downmixed");
	airlock_result_free(r);
	r = NULL;
	reset_audio();

	/* FLAC's STREAMINFO holds rates up to 655350 Hz here; WAV takes any rate airlock allows. */
	static const struct {
		uint32_t rate;
		int flac_rc;
	} rates[] = { { 655350, AIRLOCK_OK }, { 768000, AIRLOCK_E_INVALID_ARG } };
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		airlock_set(ctx, AIRLOCK_OUT_RATE, rates[i].rate);
		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_S16);
		rc = sanitize_file(path, AIRLOCK_TYPE_NONE, &r, NULL);
		if (!tap_ok(rc == AIRLOCK_OK && airlock_result_rate(r) == rates[i].rate, "resampled to %u Hz",
			    rates[i].rate)) {
			tap_diag("got %s", airlock_error_name(rc));
			continue;
		}
		rc = airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_FLAC, &m, &mlen);
		if (!tap_ok(rc == rates[i].flac_rc, "FLAC at %u Hz: %s", rates[i].rate,
			    airlock_error_name(rates[i].flac_rc)))
			tap_diag("got %s", airlock_error_name(rc));
		if (rc == AIRLOCK_OK) {
			free(m);
			check_flac(r, rates[i].rate == 655350 ? "s16 at 655350 Hz" : "s16 at 768000 Hz");
		}
		m = NULL;
		check_wav(r, rates[i].rate == 655350 ? "s16 at 655350 Hz" : "s16 at 768000 Hz");
		airlock_result_free(r);
		r = NULL;
		reset_audio();
	}
	airlock_result_free(base);
}

/* ---- limits by key, through the sandbox ---- */

struct limit_case {
	const char *path;
	airlock_key key;
	uint64_t value;
	int want_rc;
	uint32_t want_limit;
};

static void test_limits(void)
{
	static const struct limit_case cases[] = {
		{ "corpus/audio/flac_mono_8k_2s.flac", AIRLOCK_MAX_SECONDS, 1, AIRLOCK_E_TOO_LONG,
		  AIRLOCK_MAX_SECONDS },
		{ "corpus/audio/flac_mono_8k_2s.flac", AIRLOCK_MAX_SECONDS, 2, AIRLOCK_OK, 0 },
		{ "corpus/audio/flac_mono_8k_2s.flac", AIRLOCK_MAX_DECODED_BYTES, 63999, AIRLOCK_E_TOO_LONG,
		  AIRLOCK_MAX_DECODED_BYTES },
		{ "corpus/audio/flac_mono_8k_2s.flac", AIRLOCK_MAX_DECODED_BYTES, 64000, AIRLOCK_OK, 0 },
		{ "corpus/audio/wav_s16_mono_16k.wav", AIRLOCK_MIN_RATE, 16001, AIRLOCK_E_OUT_OF_RANGE,
		  AIRLOCK_MIN_RATE },
		{ "corpus/audio/wav_s16_mono_16k.wav", AIRLOCK_MIN_RATE, 16000, AIRLOCK_OK, 0 },
		{ "corpus/audio/wav_s16_mono_16k.wav", AIRLOCK_MAX_RATE, 15999, AIRLOCK_E_OUT_OF_RANGE,
		  AIRLOCK_MAX_RATE },
		{ "corpus/audio/wav_s16_mono_16k.wav", AIRLOCK_MAX_RATE, 16000, AIRLOCK_OK, 0 },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MAX_CHANNELS, 1, AIRLOCK_E_OUT_OF_RANGE,
		  AIRLOCK_MAX_CHANNELS },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MAX_CHANNELS, 2, AIRLOCK_OK, 0 },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MAX_AUDIO_INPUT_BYTES, 16043, AIRLOCK_E_INPUT_TOO_BIG,
		  AIRLOCK_MAX_AUDIO_INPUT_BYTES },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_MAX_AUDIO_INPUT_BYTES, 16044, AIRLOCK_OK, 0 },
		{ "corpus/audio/flac_s16_stereo_48k.flac", AIRLOCK_MAX_AUDIO_INPUT_BYTES, 1000, AIRLOCK_E_INPUT_TOO_BIG,
		  AIRLOCK_MAX_AUDIO_INPUT_BYTES },
		{ "corpus/audio/mp3_mono_8k_2s.mp3", AIRLOCK_MAX_SECONDS, 3, AIRLOCK_OK, 0 },
		{ "corpus/audio/mp3_mono_8k_2s.mp3", AIRLOCK_MAX_SECONDS, 1, AIRLOCK_E_TOO_LONG, AIRLOCK_MAX_SECONDS },
		/* An image is not audio: the audio input cap does not apply to it. */
		{ "corpus/images/rgb8_1x1.png", AIRLOCK_MAX_AUDIO_INPUT_BYTES, 10, AIRLOCK_OK, 0 },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_IMAGE, AIRLOCK_E_TYPE,
		  AIRLOCK_ALLOWED_TYPES },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_FLAC),
		  AIRLOCK_E_TYPE, AIRLOCK_ALLOWED_TYPES },
		{ "corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_WAV),
		  AIRLOCK_OK, 0 },
		{ "corpus/images/rgb8_1x1.png", AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_AUDIO, AIRLOCK_E_TYPE,
		  AIRLOCK_ALLOWED_TYPES },
	};
	static const char *key_names[] = {
		[AIRLOCK_MAX_SECONDS] = "max_seconds",	   [AIRLOCK_MAX_DECODED_BYTES] = "max_decoded_bytes",
		[AIRLOCK_MIN_RATE] = "min_rate",	   [AIRLOCK_MAX_RATE] = "max_rate",
		[AIRLOCK_MAX_CHANNELS] = "max_channels",   [AIRLOCK_MAX_AUDIO_INPUT_BYTES] = "max_audio_input_bytes",
		[AIRLOCK_ALLOWED_TYPES] = "allowed_types",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct limit_case *c = &cases[i];
		airlock_result *r = NULL;
		airlock_report rep = AIRLOCK_REPORT_INIT;
		size_t len = 0;
		uint8_t *b = load(c->path, &len);
		airlock_type want_type = strstr(c->path, ".png")    ? AIRLOCK_TYPE_PNG
					 : strstr(c->path, ".wav")  ? AIRLOCK_TYPE_WAV
					 : strstr(c->path, ".flac") ? AIRLOCK_TYPE_FLAC
								    : AIRLOCK_TYPE_MP3;

		int set = airlock_set(ctx, c->key, c->value);
		int rc = b ? sanitize_buf(b, len, AIRLOCK_TYPE_NONE, &r, &rep) : -1;
		if (!tap_ok(set == AIRLOCK_OK && rc == c->want_rc && (rc == AIRLOCK_OK) == (r != NULL) &&
				    rep.limit == c->want_limit && rep.type == want_type,
			    "%s, %s=%llu: %s, report limit %s, type %s", c->path, key_names[c->key],
			    (unsigned long long)c->value, airlock_error_name(c->want_rc),
			    c->want_limit ? key_names[c->want_limit] : "none", airlock_type_name(want_type)))
			tap_diag("set %s, got %s, limit %u, type %s", airlock_error_name(set), airlock_error_name(rc),
				 rep.limit, airlock_type_name(rep.type));
		airlock_result_free(r);
		free(b);
		reset_audio();
	}

	/* The expectation: a WAV is not a FLAC. */
	airlock_result *r = NULL;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	int rc = sanitize_file("corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_TYPE_FLAC, &r, &rep);
	tap_ok(rc == AIRLOCK_E_TYPE_MISMATCH && !r && rep.type == AIRLOCK_TYPE_WAV,
	       "a WAV expected to be FLAC: type mismatch, the report names WAV");
	rc = sanitize_file("corpus/audio/wav_s16_stereo_8k.wav", AIRLOCK_TYPE_WAV, &r, &rep);
	tap_ok(rc == AIRLOCK_OK && r && airlock_result_type(r) == AIRLOCK_TYPE_WAV, "a WAV expected to be WAV passes");
	airlock_result_free(r);
	r = NULL;
	rc = sanitize_file("corpus/audio/mp3_stereo_44k.mp3", AIRLOCK_TYPE_PNG, &r, &rep);
	tap_ok(rc == AIRLOCK_E_TYPE_MISMATCH && !r && rep.type == AIRLOCK_TYPE_MP3,
	       "an MP3 expected to be PNG: type mismatch");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s REPO-ROOT\n", argv[0]);
		return 2;
	}
	root = argv[1];

	const int fds_before = proc_fd_count();
	int rc = airlock_open(&ctx);
	if (!tap_ok(rc == AIRLOCK_OK, "airlock_open")) {
		tap_diag("got %s", airlock_error_name(rc));
		return tap_done();
	}

	test_keys();
	test_results();
	test_wav();
	test_flac();
	test_idempotence();
	test_chunks();
	test_mismatch();
	test_model_ready();
	test_noop_and_rates();
	test_limits();

	airlock_close(ctx);
	const int fds_after = proc_fd_count();
	if (!tap_ok(fds_after == fds_before, "no fd left open after airlock_close"))
		tap_diag("%d fds before airlock_open, %d after airlock_close", fds_before, fds_after);
	tap_ok(proc_children(NULL, 0) == 0, "no child left");
	return tap_done();
}
