/* SPDX-License-Identifier: MIT */
/*
 * Sandboxed sanitize against the in-process floor, side by side in one run.
 * For each input, the medians of N runs, interleaved so that drift on a
 * noisy machine hits every column alike:
 *
 *   floor       the plain library call a server makes today: decode_any()
 *               for images (the same libpng/libjpeg-turbo code the worker
 *               runs); for audio, sf_open_virtual() and sf_readf_float()
 *               to the end, no checks;
 *   decoder     airlock's decoder in-process (decode_any(): type detection,
 *               container checks, limits), no sandbox;
 *   sandboxed   airlock_sanitize() through a fresh confined worker;
 *
 * and sandboxed/floor. Only ratios from one run mean much on a shared
 * machine. Audio results are float32, as the floor's.
 *
 * usage: bench-sanitize [-n N] INPUT...
 *   INPUT is a file, or synth:mp3, synth:flac or synth:opus for 60 seconds
 *   of synthesized stereo music (44.1 kHz; Opus 48 kHz) encoded in memory by
 *   libsndfile with LAME, libFLAC and libopus: no files, no downloads.
 */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "airlock.h"
#include "decode.h"
#include "manifest.h"
#include "sndbuf.h"

#define SYNTH_SECONDS 60
#define MP3_LEVEL     0.65
#define OPUS_LEVEL    0.82

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Sixty seconds of stereo "music": a chord whose notes swell and fade, a
 * different mix on each side, and a little noise, so that no encoder gets an
 * easy ride. Returns the encoded bytes, or NULL.
 */
static uint8_t *synth(const char *codec, size_t *len)
{
	SF_INFO info = { .channels = 2, .samplerate = 44100 };
	if (strcmp(codec, "mp3") == 0)
		info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
	else if (strcmp(codec, "flac") == 0)
		info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
	else if (strcmp(codec, "opus") == 0) {
		info.format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
		info.samplerate = 48000;
	} else
		return NULL;
	struct vbuf out = { 0 };
	SNDFILE *s = sf_open_virtual(&vbuf_io, SFM_WRITE, &info, &out);
	if (!s) {
		fprintf(stderr, "synth:%s: %s\n", codec, sf_strerror(NULL));
		return NULL;
	}
	/* Lossy codecs at a fixed, typical rate: about 128 kbit/s MP3, 100 kbit/s Opus. */
	if (strcmp(codec, "flac") != 0) {
		int mode = SF_BITRATE_MODE_CONSTANT;
		double level = strcmp(codec, "mp3") == 0 ? MP3_LEVEL : OPUS_LEVEL;
		sf_command(s, SFC_SET_BITRATE_MODE, &mode, sizeof(mode));
		sf_command(s, SFC_SET_COMPRESSION_LEVEL, &level, sizeof(level));
	}
	static const double notes[] = { 220.0, 277.18, 329.63, 440.0, 554.37 };
	float chunk[2 * 4096];
	short pcm[2 * 4096];
	uint32_t x = 12345;
	const sf_count_t total = (sf_count_t)SYNTH_SECONDS * info.samplerate;
	for (sf_count_t f = 0; f < total;) {
		sf_count_t n = total - f < 4096 ? total - f : 4096;
		for (sf_count_t i = 0; i < n; i++, f++) {
			double t = (double)f / info.samplerate, l = 0, r = 0;
			for (int k = 0; k < 5; k++) {
				double env = 0.5 + 0.5 * sin(2 * M_PI * (0.1 + 0.07 * k) * t + k);
				double v = env * sin(2 * M_PI * notes[k] * t);
				l += v * (k % 2 ? 0.3 : 0.1);
				r += v * (k % 2 ? 0.1 : 0.3);
			}
			x = x * 1103515245u + 12345u;
			double noise = ((double)(x >> 8) / 16777216.0 - 0.5) * 0.02;
			chunk[2 * i] = (float)(l + noise);
			chunk[2 * i + 1] = (float)(r - noise);
		}
		for (sf_count_t i = 0; i < 2 * n; i++)
			pcm[i] = (short)lrint(chunk[i] * 32767.0);
		if (sf_writef_short(s, pcm, n) != n) {
			fprintf(stderr, "synth:%s: at %ld: %s\n", codec, (long)f, sf_strerror(s));
			sf_close(s);
			free(out.data);
			return NULL;
		}
	}
	sf_close(s);
	*len = (size_t)out.len;
	return out.data;
}

/* The floor for audio: libsndfile straight on the bytes, everything read as float. */
static int sndfile_floor(const uint8_t *buf, size_t len, uint64_t *frames)
{
	struct vbuf b;
	SF_INFO info;
	SNDFILE *s = vbuf_open_read(buf, len, &b, &info);
	if (!s)
		return -1;
	size_t cap = 1 << 20, used = 0;
	float *out = malloc(cap * sizeof(float));
	sf_count_t got;
	*frames = 0;
	while (out) {
		if (cap - used < (size_t)info.channels * 4096) {
			float *p = realloc(out, 2 * cap * sizeof(float));
			if (!p)
				break;
			out = p;
			cap *= 2;
		}
		got = sf_readf_float(s, out + used, 4096);
		if (got <= 0)
			break;
		used += (size_t)got * (size_t)info.channels;
		*frames += (uint64_t)got;
	}
	free(out);
	sf_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 50, first = 1;
	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		n = atoi(argv[2]);
		first = 3;
	}
	if (n < 1)
		return 64;
	airlock_ctx *ctx;
	if (airlock_open(&ctx) != AIRLOCK_OK)
		return 70;
	void *magic = detect_open();
	struct limits lim;
	limits_default(&lim);
	double *a = calloc((size_t)n, sizeof(double)), *b = calloc((size_t)n, sizeof(double)),
	       *c = calloc((size_t)n, sizeof(double));
	printf("%-28s %-16s %10s %12s %12s %12s %7s\n", "input", "shape", "bytes", "floor ms", "decoder ms",
	       "sandboxed ms", "ratio");
	for (int i = first; i < argc; i++) {
		size_t len = 0;
		const int synthetic = strncmp(argv[i], "synth:", 6) == 0;
		uint8_t *buf = synthetic ? synth(argv[i] + 6, &len) : slurp(argv[i], &len);
		if (!buf) {
			fprintf(stderr, "%s: cannot read or synthesize\n", argv[i]);
			return 1;
		}
		char shape[32] = "";
		for (int k = 0; k < n; k++) {
			struct frame f;
			uint64_t frames = 0;
			double t0 = now_us();
			int rc0 = decode_any(magic, buf, len, &lim, &f);
			/* For images the decoder is the floor; audio gets libsndfile alone below. */
			a[k] = now_us() - t0;
			const int audio = f.kind == FRAME_KIND_AUDIO;
			if (audio)
				snprintf(shape, sizeof(shape), "%uch %u Hz %.1fs", f.channels, f.rate,
					 (double)f.frames / f.rate);
			else
				snprintf(shape, sizeof(shape), "%ux%u", f.width, f.height);
			frame_free(&f);
			b[k] = a[k];
			if (audio) {
				t0 = now_us();
				if (sndfile_floor(buf, len, &frames) != 0)
					rc0 = AIRLOCK_E_MALFORMED;
				a[k] = now_us() - t0;
			}
			airlock_result *r = NULL;
			t0 = now_us();
			int rc = airlock_sanitize(ctx, buf, len, AIRLOCK_TYPE_NONE, &r);
			c[k] = now_us() - t0;
			airlock_result_free(r);
			if (rc0 != AIRLOCK_OK || rc != AIRLOCK_OK) {
				fprintf(stderr, "%s: %s / %s\n", argv[i], airlock_error_name(rc0),
					airlock_error_name(rc));
				return 1;
			}
		}
		double ma = median(a, n), mb = median(b, n), mc = median(c, n);
		const char *base = strrchr(argv[i], '/');
		printf("%-28s %-16s %10zu %12.3f %12.3f %12.3f %7.2f\n", base ? base + 1 : argv[i], shape, len,
		       ma / 1e3, mb / 1e3, mc / 1e3, mc / ma);
		free(buf);
	}
	free(a);
	free(b);
	free(c);
	detect_close(magic);
	airlock_close(ctx);
	return 0;
}
