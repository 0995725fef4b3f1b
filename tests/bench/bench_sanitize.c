/* SPDX-License-Identifier: MIT */
/*
 * airlock against the in-process floor, side by side in one run, for
 * tests/bench/bench.py (which adds Pillow, ImageMagick, vips, ffmpeg and
 * sox) or on its own. Each measurement is the median of N runs,
 * interleaved so that drift on a noisy machine hits every column alike;
 * only ratios from one run mean much on a shared machine.
 *
 * Sections, for every INPUT:
 *   library   floor: the plain library call a server makes today, no checks
 *             (libjpeg-turbo to RGB, libpng's simplified API to RGB,
 *             libwebp to RGB, giflib's DGifSlurp and the first image's
 *             colours, libtiff's strips (or its RGBA interface for what
 *             is not 8-bit RGB), libsndfile to float); decoder: airlock's
 *             decoder in-process (type detection, limits, the same
 *             libraries); sandboxed: airlock_sanitize() through a confined
 *             worker; +encode: the same and the canonical file (the CLI's
 *             default: JPEG, WebP or WAV for those, PNG for the other
 *             images) in memory. Audio also to 16 kHz mono float32.
 *   icc       for an input whose decoder converts an embedded ICC profile
 *             to sRGB: the decoder in-process and the sandboxed request
 *             with AIRLOCK_ICC 1 against the same with 0.
 *   spaced    the same request, one every 5 ms (images of at most 2 MP).
 *   host      the same request from this process as it is, and while it
 *             holds 4 GiB resident (images of at most 2 megapixels).
 *   threads   requests per second from 1 and from 2 threads on one context.
 *   memory    peak RSS of the worker (from a freshly exec'd child that reaps
 *             the zygote, so its RUSAGE_CHILDREN covers every worker) and
 *             of the host, next to the decoded size.
 *   png       airlock's canonical PNG encoder against libpng's defaults.
 *   media     bench-sanitize-media only (this file built with BENCH_MEDIA,
 *             linking FFmpeg; bench-sanitize skips such inputs): for an MP4
 *             or Matroska input (issue 18), instead of library: to 16 kHz
 *             mono float32, the libav floor (libavformat and libavcodec
 *             with probing and avformat_find_stream_info(), the default
 *             decoder, to float; and the same through libswresample), the
 *             ffmpeg CLI doing the same job, airlock's media decoder
 *             in-process (media_decode_any()), and airlock_sanitize() with
 *             the type expected (straight to the media zygote) and with
 *             none (a base worker first).
 *
 * bench-sanitize-media has no memory section: the worker's peak is read
 * through RUSAGE_CHILDREN, which also holds the zygote's peak, and that
 * follows the host's own size (an exec after posix_spawn()'s shared-memory
 * clone records the host's high-water mark): linked with FFmpeg, this
 * host made the 1x1 PNG's figure 26.5 MiB instead of 5.3.
 *
 * Two modes of two inputs each, bench-sanitize-media only, measure the
 * media path itself:
 *   --opus OGG WEBM      the same Opus packets in Ogg (libopus, airlock's
 *             Ogg decoder) and in WebM (FFmpeg's opus decoder, the media
 *             path): in-process and sandboxed, the libav floor on the Ogg
 *             with libavcodec's "libopus" and "opus", and how far the two
 *             outputs differ (largest difference, SNR).
 *   --media-zygote M4A PNG   a request in the media zygote (a tiny M4A)
 *             against one in the base zygote (a 64x64 PNG), back to back
 *             and 5 ms apart; and the first request of a fresh context,
 *             which spawns the media zygote, against the next ten.
 *
 * usage: bench-sanitize [--json] [--library-only] [--no-targets] [-n N] INPUT...
 *        bench-sanitize-media [--json] [-n N] --opus OGG_OPUS WEBM_OPUS
 *        bench-sanitize-media [--json] [-n N] --media-zygote M4A PNG
 *        bench-sanitize --synth DIR
 *   Every image type is allowed, TIFF too (off the library's default list).
 *   --library-only measures the library and icc sections only: the others
 *   measure the sandbox rather than a format, so the per-format inputs
 *   need not repeat them. --no-targets leaves the target lines out (the
 *   targets were set for the first inputs; issue 15 sets none for its own).
 *   An input that cannot be decoded in-process or through the sandbox is
 *   skipped with a line saying why, the rest are measured, and the exit
 *   status is 1.
 *   INPUT is a file, or synth:mp3, synth:flac or synth:opus for 60 seconds
 *   of synthesized stereo music (44.1 kHz; Opus 48 kHz) encoded in memory by
 *   libsndfile with LAME, libFLAC and libopus: no files, no downloads.
 *   --synth writes those three to DIR/music-60s.{mp3,flac,opus}.
 *   --json prints one JSON object per line (tests/bench/bench.py reads
 *   them); otherwise plain text.
 */
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sndfile.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gif_lib.h>
#include <jpeglib.h> /* after stdio.h, which it needs */
#include <tiffio.h>
#include <webp/decode.h>

#include "airlock.h"
#include "decode.h"
#include "manifest.h"
#include "sndbuf.h"

#ifdef BENCH_MEDIA
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswresample/swresample.h>

#include "media.h"
#endif

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

#ifdef BENCH_MEDIA
/* ---- the media floor: libavformat and libavcodec as PyAV or torchaudio call them, no checks ---- */

struct av_mem {
	const uint8_t *buf;
	size_t len, pos;
};

static int av_mem_read(void *opaque, uint8_t *dst, int n)
{
	struct av_mem *m = opaque;
	size_t k = m->len - m->pos < (size_t)n ? m->len - m->pos : (size_t)n;
	if (k == 0)
		return AVERROR_EOF;
	memcpy(dst, m->buf + m->pos, k);
	m->pos += k;
	return (int)k;
}

static int64_t av_mem_seek(void *opaque, int64_t off, int whence)
{
	struct av_mem *m = opaque;
	int64_t base;
	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE: return (int64_t)m->len;
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)m->pos; break;
	case SEEK_END: base = (int64_t)m->len; break;
	default: return AVERROR(EINVAL);
	}
	if (off < -base || off > (int64_t)m->len - base)
		return AVERROR(EINVAL);
	m->pos = (size_t)(base + off);
	return (int64_t)m->pos;
}

/* Appends a decoded frame to out as interleaved float (packed or planar float, or packed s16, in). */
static int av_take(const AVFrame *fr, float **out, size_t *used, size_t *cap)
{
	const int ch = fr->ch_layout.nb_channels;
	const size_t n = (size_t)fr->nb_samples * (size_t)ch;
	if (*cap - *used < n) {
		size_t c = *cap ? *cap : 1 << 20;
		while (c - *used < n)
			c *= 2;
		float *p = realloc(*out, c * sizeof(float));
		if (!p)
			return -1;
		*out = p;
		*cap = c;
	}
	float *o = *out + *used;
	if (fr->format == AV_SAMPLE_FMT_FLT)
		memcpy(o, fr->extended_data[0], n * sizeof(float));
	else if (fr->format == AV_SAMPLE_FMT_FLTP)
		for (int i = 0; i < fr->nb_samples; i++)
			for (int c = 0; c < ch; c++)
				o[(size_t)i * (size_t)ch + (size_t)c] = ((const float *)fr->extended_data[c])[i];
	else if (fr->format == AV_SAMPLE_FMT_S16)
		for (size_t i = 0; i < n; i++)
			o[i] = (float)((const int16_t *)fr->extended_data[0])[i] / 32768.0f;
	else
		return -1;
	*used += n;
	return 0;
}

/* Resamples in (NULL: what swr still holds) to 16 kHz mono float and appends it to out as av_take() does. */
static int av_take_16k(SwrContext *swr, const AVFrame *in, float **out, size_t *used, size_t *cap)
{
	AVFrame *o = av_frame_alloc();
	AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
	if (!o)
		return -1;
	o->format = AV_SAMPLE_FMT_FLT;
	o->sample_rate = 16000;
	av_channel_layout_copy(&o->ch_layout, &mono);
	int rc = swr_convert_frame(swr, o, in) < 0 || av_take(o, out, used, cap) < 0 ? -1 : 0;
	av_frame_free(&o);
	return rc;
}

/*
 * The floor for the media containers: the bytes through a memory AVIOContext,
 * probed, avformat_find_stream_info(), the best audio stream, its default
 * decoder (or the one named), every frame to interleaved float at the source
 * rate, into a growing malloc buffer; with mono16k, through libswresample to
 * 16 kHz mono float instead (its defaults), as PyAV's AudioResampler does.
 * Returns the frames decoded, or -1.
 */
static int64_t av_floor(const uint8_t *buf, size_t len, const char *decoder, int mono16k)
{
	struct av_mem m = { buf, len, 0 };
	AVFormatContext *fc = avformat_alloc_context();
	uint8_t *iobuf = av_malloc(1 << 16);
	AVIOContext *io =
		fc && iobuf ? avio_alloc_context(iobuf, 1 << 16, 0, &m, av_mem_read, NULL, av_mem_seek) : NULL;
	AVCodecContext *cc = NULL;
	SwrContext *swr = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	float *out = NULL;
	size_t used = 0, cap = 0;
	int64_t frames = -1;
	if (!io) {
		av_free(iobuf);
		avformat_free_context(fc);
		fc = NULL;
		goto out;
	}
	fc->pb = io;
	if (avformat_open_input(&fc, NULL, NULL, NULL) < 0) /* frees fc on failure */
		goto out;
	const AVCodec *codec = NULL;
	const int si = av_find_best_stream(fc, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (avformat_find_stream_info(fc, NULL) < 0 || si < 0)
		goto out;
	if (decoder)
		codec = avcodec_find_decoder_by_name(decoder);
	cc = codec ? avcodec_alloc_context3(codec) : NULL;
	if (!cc || avcodec_parameters_to_context(cc, fc->streams[si]->codecpar) < 0)
		goto out;
	cc->request_sample_fmt = AV_SAMPLE_FMT_FLT; /* the "libopus" wrapper's float output (s16 otherwise) */
	if (avcodec_open2(cc, codec, NULL) < 0)
		goto out;
	int eof = 0, err = 0;
	while (!err) {
		int rc = eof ? 0 : av_read_frame(fc, pkt);
		if (rc < 0)
			eof = 1;
		if (eof)
			rc = avcodec_send_packet(cc, NULL);
		else if (pkt->stream_index == si)
			rc = avcodec_send_packet(cc, pkt);
		av_packet_unref(pkt);
		if (rc < 0 && rc != AVERROR_EOF)
			break;
		while ((rc = avcodec_receive_frame(cc, fr)) == 0) {
			if (mono16k && !swr) {
				AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
				if (swr_alloc_set_opts2(&swr, &mono, AV_SAMPLE_FMT_FLT, 16000, &fr->ch_layout,
							fr->format, fr->sample_rate, 0, NULL) < 0 ||
				    swr_init(swr) < 0) {
					err = 1;
					break;
				}
			}
			if (mono16k) {
				err = av_take_16k(swr, fr, &out, &used, &cap) < 0;
			} else {
				err = av_take(fr, &out, &used, &cap) < 0;
			}
			av_frame_unref(fr);
			if (err)
				break;
		}
		if (rc == AVERROR_EOF) {
			if (swr) /* what the resampler still holds */
				err = av_take_16k(swr, NULL, &out, &used, &cap) < 0;
			if (!err)
				frames = (int64_t)(used / (size_t)(mono16k ? 1 : cc->ch_layout.nb_channels));
			break;
		}
		if (rc != AVERROR(EAGAIN))
			break;
	}
out:
	free(out);
	swr_free(&swr);
	avcodec_free_context(&cc);
	av_frame_free(&fr);
	av_packet_free(&pkt);
	if (fc)
		avformat_close_input(&fc);
	if (io) {
		av_freep(&io->buffer);
		avio_context_free(&io);
	}
	return frames;
}
#endif

/* ---- the image floors: the same libraries, called as a server calls them, no checks ---- */

/*
 * The output buffer: malloc, which after the first run hands back memory
 * this process has already touched, as a long-running server's would; or,
 * fresh, pages the kernel has to find and zero first, as every new worker's
 * are. The difference is what a new process costs beyond its own set-up.
 */
static uint8_t *out_alloc(size_t n, int fresh)
{
	if (!fresh)
		return malloc(n);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void out_free(uint8_t *p, size_t n, int fresh)
{
	if (!fresh)
		free(p);
	else if (p)
		munmap(p, n);
}

struct jpeg_err {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
};

static void jpeg_floor_error(j_common_ptr c)
{
	longjmp(((struct jpeg_err *)c->err)->jmp, 1);
}

static int jpeg_floor(const uint8_t *buf, size_t len, int fresh)
{
	struct jpeg_decompress_struct c;
	struct jpeg_err e;
	uint8_t *volatile px = NULL;
	c.err = jpeg_std_error(&e.pub);
	e.pub.error_exit = jpeg_floor_error;
	volatile size_t size = 0;
	if (setjmp(e.jmp)) {
		jpeg_destroy_decompress(&c);
		out_free(px, size, fresh);
		return -1;
	}
	jpeg_create_decompress(&c);
	jpeg_mem_src(&c, buf, (unsigned long)len);
	jpeg_read_header(&c, TRUE);
	c.out_color_space = JCS_RGB;
	jpeg_start_decompress(&c);
	const size_t stride = (size_t)c.output_width * 3;
	size = stride * c.output_height;
	px = out_alloc(size, fresh);
	while (px && c.output_scanline < c.output_height) {
		JSAMPROW row = px + (size_t)c.output_scanline * stride;
		jpeg_read_scanlines(&c, &row, 1);
	}
	jpeg_finish_decompress(&c);
	jpeg_destroy_decompress(&c);
	out_free(px, size, fresh);
	return 0;
}

static int png_floor(const uint8_t *buf, size_t len, int fresh)
{
	png_image img = { .version = PNG_IMAGE_VERSION };
	if (!png_image_begin_read_from_memory(&img, buf, len))
		return -1;
	img.format = PNG_FORMAT_RGB;
	const size_t size = PNG_IMAGE_SIZE(img);
	uint8_t *px = out_alloc(size, fresh);
	int ok = px && png_image_finish_read(&img, NULL, px, 0, NULL);
	png_image_free(&img);
	out_free(px, size, fresh);
	return ok ? 0 : -1;
}

static int webp_floor(const uint8_t *buf, size_t len, int fresh)
{
	int w = 0, h = 0;
	if (!WebPGetInfo(buf, len, &w, &h))
		return -1;
	const size_t stride = (size_t)w * 3, size = stride * (size_t)h;
	uint8_t *px = out_alloc(size, fresh);
	int ok = px && WebPDecodeRGBInto(buf, len, px, size, (int)stride) != NULL;
	out_free(px, size, fresh);
	return ok ? 0 : -1;
}

struct mem_src {
	const uint8_t *buf;
	size_t len, pos;
};

static int gif_mem_read(GifFileType *g, GifByteType *dst, int n)
{
	struct mem_src *m = g->UserData;
	size_t k = m->len - m->pos < (size_t)n ? m->len - m->pos : (size_t)n;
	memcpy(dst, m->buf + m->pos, k);
	m->pos += k;
	return (int)k;
}

/* giflib as a server calls it: DGifSlurp, then the first image's indices through its colour table onto the screen. */
static int gif_floor(const uint8_t *buf, size_t len, int fresh)
{
	struct mem_src m = { buf, len, 0 };
	int err = 0;
	GifFileType *g = DGifOpen(&m, gif_mem_read, &err);
	if (!g)
		return -1;
	if (DGifSlurp(g) != GIF_OK || g->ImageCount < 1 || g->SWidth <= 0 || g->SHeight <= 0) {
		DGifCloseFile(g, &err);
		return -1;
	}
	const SavedImage *im = &g->SavedImages[0];
	const ColorMapObject *cm = im->ImageDesc.ColorMap ? im->ImageDesc.ColorMap : g->SColorMap;
	const size_t sw = (size_t)g->SWidth, sh = (size_t)g->SHeight, size = sw * sh * 3;
	uint8_t *px = out_alloc(size, fresh);
	int ok = px && cm;
	if (ok) {
		memset(px, 0xff, size);
		const GifImageDesc *d = &im->ImageDesc;
		for (int y = 0; y < d->Height; y++) {
			const size_t sy = (size_t)d->Top + (size_t)y;
			for (int x = 0; x < d->Width && sy < sh; x++) {
				const size_t sx = (size_t)d->Left + (size_t)x;
				const GifByteType i = im->RasterBits[(size_t)y * (size_t)d->Width + (size_t)x];
				if (sx < sw && i < cm->ColorCount) {
					uint8_t *o = px + (sy * sw + sx) * 3;
					o[0] = cm->Colors[i].Red;
					o[1] = cm->Colors[i].Green;
					o[2] = cm->Colors[i].Blue;
				}
			}
		}
	}
	out_free(px, size, fresh);
	DGifCloseFile(g, &err);
	return ok ? 0 : -1;
}

static tsize_t tiff_mem_read(thandle_t h, tdata_t dst, tsize_t n)
{
	struct mem_src *m = h;
	size_t k = m->len - m->pos < (size_t)n ? m->len - m->pos : (size_t)n;
	memcpy(dst, m->buf + m->pos, k);
	m->pos += k;
	return (tsize_t)k;
}

static tsize_t tiff_mem_write(thandle_t h, tdata_t src, tsize_t n)
{
	(void)h;
	(void)src;
	(void)n;
	return -1;
}

static toff_t tiff_mem_seek(thandle_t h, toff_t off, int whence)
{
	struct mem_src *m = h;
	uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;
	if (off > UINT64_MAX - base || base + off > m->len)
		return (toff_t)-1;
	m->pos = (size_t)(base + off);
	return m->pos;
}

static int tiff_mem_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t tiff_mem_size(thandle_t h)
{
	return ((struct mem_src *)h)->len;
}

/*
 * libtiff as a server calls it: 8-bit contiguous RGB strip by strip (what
 * Pillow's libtiff path does); anything else through TIFFReadRGBAImage.
 */
static int tiff_floor(const uint8_t *buf, size_t len, int fresh)
{
	struct mem_src m = { buf, len, 0 };
	TIFF *t = TIFFClientOpen("bench", "rm", &m, tiff_mem_read, tiff_mem_write, tiff_mem_seek, tiff_mem_close,
				 tiff_mem_size, NULL, NULL);
	if (!t)
		return -1;
	uint32_t w = 0, h = 0;
	uint16_t bits = 0, spp = 0, planar = 0, photo = 0;
	TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
	TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
	TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
	const int strips =
		bits == 8 && spp == 3 && planar == PLANARCONFIG_CONTIG && photo == PHOTOMETRIC_RGB && !TIFFIsTiled(t);
	const size_t size = (size_t)w * h * (strips ? 3 : 4);
	uint8_t *px = w && h ? out_alloc(size, fresh) : NULL;
	int ok = px != NULL;
	if (ok && strips) {
		size_t at = 0;
		for (tstrip_t s = 0; ok && s < TIFFNumberOfStrips(t) && at < size; s++) {
			tmsize_t got = TIFFReadEncodedStrip(t, s, px + at, (tmsize_t)(size - at));
			ok = got > 0;
			at += ok ? (size_t)got : 0;
		}
	} else if (ok) {
		ok = TIFFReadRGBAImageOriented(t, w, h, (uint32_t *)(void *)px, ORIENTATION_TOPLEFT, 0) == 1;
	}
	out_free(px, size, fresh);
	TIFFClose(t);
	return ok ? 0 : -1;
}

/* libpng with every default (level 6, all filters tried per row): the reference for the canonical encoder. */
static void png_mem_write(png_structp png, png_bytep data, png_size_t n)
{
	size_t *len = png_get_io_ptr(png);
	*len += n;
}

static void png_mem_flush(png_structp png)
{
	(void)png;
}

static size_t png_default_encode(const uint8_t *px, uint32_t w, uint32_t h, uint32_t ch)
{
	size_t len = 0;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, info ? &info : NULL);
		return 0;
	}
	png_set_write_fn(png, &len, png_mem_write, png_mem_flush);
	png_set_IHDR(png, info, w, h, 8, ch == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < h; y++)
		png_write_row(png, px + (size_t)y * w * ch);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return len;
}

/* ---- output ---- */

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* A row whose cell names and values are two arrays of the same length. */
#define ROW(table, title, name, cols, vals, shape)                                \
	do {                                                                      \
		_Static_assert(COUNT(cols) == COUNT(vals), "one name per value"); \
		row(table, title, name, COUNT(cols), cols, vals, shape);          \
	} while (0)

static int json;
static int no_targets;

/* One row of a table: cells are "name", value pairs; a value is a number, or a string when name starts with '@'. */
static void row(const char *table, const char *title, const char *name, int ncells, const char *const *names,
		const double *values, const char *text)
{
	if (json) {
		printf("{\"table\": \"%s\", \"title\": \"%s\", \"row\": \"%s\", \"cells\": [", table, title, name);
		int first = 1;
		if (text) {
			printf("[\"shape\", \"%s\"]", text);
			first = 0;
		}
		/* Whole numbers (byte counts) in full; the rest to 6 significant digits. */
		for (int i = 0; i < ncells; i++)
			printf(values[i] == floor(values[i]) && fabs(values[i]) < 1e15 ? "%s[\"%s\", %.0f]"
										       : "%s[\"%s\", %.6g]",
			       first && i == 0 ? "" : ", ", names[i], values[i]);
		printf("]}\n");
	} else {
		printf("%-9s %-22s %-18s", table, name, text ? text : "");
		for (int i = 0; i < ncells; i++)
			printf("  %s %.3f", names[i], values[i]);
		printf("\n");
	}
	fflush(stdout);
}

static void target(const char *what, double value, const char *op, double limit, const char *unit)
{
	if (no_targets)
		return;
	if (json)
		printf("{\"target\": \"%s\", \"value\": %.6g, \"op\": \"%s\", \"limit\": %.6g, \"unit\": \"%s\"}\n",
		       what, value, op, limit, unit);
	else
		printf("target    %-48s %.3f %s %.3f %s\n", what, value, op, limit, unit);
	fflush(stdout);
}

/* ---- the inputs ---- */

/* Every type, TIFF too: the benchmark measures each decoder, whatever the default allowlist leaves out. */
#define BENCH_TYPES (AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA)

struct input {
	const char *name;
	const char *path; /* the file; NULL for a synth: input */
	uint8_t *buf;
	size_t len;
	airlock_type type;
	int audio;
	int icc;   /* the decoder converted an embedded profile (icc_converted) */
	int media; /* MP4 or Matroska: decoded by media.c (the media zygote's decoder) */
	int skip;
	uint32_t w, h;
	char shape[48];
};

static airlock_ctx *open_ctx(int mono16k, int icc)
{
	airlock_ctx *ctx = NULL;
	if (airlock_open(&ctx) != AIRLOCK_OK)
		return NULL;
	if (airlock_set(ctx, AIRLOCK_ALLOWED_TYPES, BENCH_TYPES) != AIRLOCK_OK ||
	    airlock_set(ctx, AIRLOCK_ICC, (uint64_t)icc) != AIRLOCK_OK) {
		airlock_close(ctx);
		return NULL;
	}
	if (mono16k) {
		airlock_set(ctx, AIRLOCK_OUT_RATE, 16000);
		airlock_set(ctx, AIRLOCK_MONO, 1);
		airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_F32);
	}
	return ctx;
}

static void bench_limits(struct limits *lim)
{
	limits_default(lim);
	lim->allowed_types = BENCH_TYPES;
}

/* The canonical file the CLI writes by default for the input's type. */
static airlock_format file_format(const struct input *in)
{
	if (in->audio)
		return AIRLOCK_FORMAT_WAV;
	if (in->type == AIRLOCK_TYPE_JPEG)
		return AIRLOCK_FORMAT_JPEG;
	if (in->type == AIRLOCK_TYPE_WEBP)
		return AIRLOCK_FORMAT_WEBP;
	return AIRLOCK_FORMAT_PNG;
}

/* The plain library call for the input's type; -1 if it failed or there is none (BMP: airlock's own decoder). */
static int image_floor(const struct input *in, int fresh)
{
	switch (in->type) {
	case AIRLOCK_TYPE_JPEG: return jpeg_floor(in->buf, in->len, fresh);
	case AIRLOCK_TYPE_PNG: return png_floor(in->buf, in->len, fresh);
	case AIRLOCK_TYPE_WEBP: return webp_floor(in->buf, in->len, fresh);
	case AIRLOCK_TYPE_GIF: return gif_floor(in->buf, in->len, fresh);
	case AIRLOCK_TYPE_TIFF: return tiff_floor(in->buf, in->len, fresh);
	default: return -1;
	}
}

/* One request through the sandbox with the type expected (or NONE), and the file when asked: airlock's result code. */
static int request_as(airlock_ctx *ctx, const struct input *in, airlock_type expect, airlock_format encode_to)
{
	airlock_result *r = NULL;
	int rc = airlock_sanitize(ctx, in->buf, in->len, expect, &r);
	if (rc == AIRLOCK_OK && encode_to) {
		uint8_t *out = NULL;
		size_t n = 0;
		rc = airlock_encode_to_memory(ctx, r, encode_to, &out, &n);
		free(out);
	}
	airlock_result_free(r);
	return rc;
}

static int request(airlock_ctx *ctx, const struct input *in, airlock_format encode_to)
{
	return request_as(ctx, in, AIRLOCK_TYPE_NONE, encode_to);
}

static double sanitize_as_ms(airlock_ctx *ctx, const struct input *in, airlock_type expect, airlock_format encode_to)
{
	double t0 = now_us();
	int rc = request_as(ctx, in, expect, encode_to);
	double t = now_us() - t0;
	if (rc != AIRLOCK_OK) {
		fprintf(stderr, "bench-sanitize: %s: %s\n", in->name, airlock_error_name(rc));
		exit(1);
	}
	return t / 1e3;
}

static double sanitize_ms(airlock_ctx *ctx, const struct input *in, airlock_format encode_to)
{
	return sanitize_as_ms(ctx, in, AIRLOCK_TYPE_NONE, encode_to);
}

/* airlock's decoder in-process: decode_any(), or for MP4 and Matroska the media zygote's media_decode_any(). */
static int decode_in_process(void *magic, const struct input *in, const struct limits *lim, struct frame *f)
{
	memset(f, 0, sizeof(*f));
#ifdef BENCH_MEDIA
	if (in->media)
		return media_decode_any(magic, in->buf, in->len, lim, NULL, f);
#endif
	return decode_any(magic, in->buf, in->len, lim, f);
}

#ifdef BENCH_MEDIA
static double decoder_ms(void *magic, const struct input *in, const struct limits *lim)
{
	struct frame f;
	double t0 = now_us();
	int rc = decode_in_process(magic, in, lim, &f);
	double t = now_us() - t0;
	frame_free(&f);
	if (rc != AIRLOCK_OK) {
		fprintf(stderr, "bench-sanitize: %s: airlock's decoder in-process: %s\n", in->name,
			airlock_error_name(rc));
		exit(1);
	}
	return t / 1e3;
}

/* The libav floor's time (decoder NULL: the stream's default one); exits if it fails. */
static double av_floor_ms(const struct input *in, const char *decoder, int mono16k)
{
	double t0 = now_us();
	int64_t frames = av_floor(in->buf, in->len, decoder, mono16k);
	double t = now_us() - t0;
	if (frames <= 0) {
		fprintf(stderr, "bench-sanitize: %s: the libavformat/libavcodec floor failed\n", in->name);
		exit(1);
	}
	return t / 1e3;
}
#endif

static double floor_ms(void *magic, const struct input *in, const struct limits *lim, int decoder, int fresh)
{
	double t0 = now_us();
	int rc = 0;
	uint64_t frames;
	if (decoder) {
		struct frame f;
		rc = decode_any(magic, in->buf, in->len, lim, &f);
		frame_free(&f);
	} else if (in->audio) {
		rc = sndfile_floor(in->buf, in->len, &frames);
	} else {
		rc = image_floor(in, fresh);
	}
	double t = now_us() - t0;
	if (rc != 0) {
		fprintf(stderr, "bench-sanitize: %s: the in-process decode failed\n", in->name);
		exit(1);
	}
	return t / 1e3;
}

/* ---- sections ---- */

static void library(const struct input *in, int n, airlock_ctx *ctx, airlock_ctx *ctx16, void *magic)
{
	struct limits lim, lim16;
	bench_limits(&lim);
	lim16 = lim;
	lim16.out_rate = 16000;
	lim16.mono = 1;
	lim16.sample_format = FRAME_FORMAT_F32;
	double *a = calloc((size_t)n, sizeof(double)), *b = calloc((size_t)n, sizeof(double)),
	       *c = calloc((size_t)n, sizeof(double)), *d = calloc((size_t)n, sizeof(double)),
	       *e = calloc((size_t)n, sizeof(double)), *g = calloc((size_t)n, sizeof(double)),
	       *h = calloc((size_t)n, sizeof(double));
	const airlock_format file = file_format(in);
	for (int k = 0; k < n; k++) {
		a[k] = floor_ms(magic, in, &lim, 0, 0);
		b[k] = floor_ms(magic, in, &lim, 1, 0);
		if (!in->audio)
			h[k] = floor_ms(magic, in, &lim, 0, 1);
		c[k] = sanitize_ms(ctx, in, 0);
		d[k] = sanitize_ms(ctx, in, file);
		if (in->audio) {
			e[k] = floor_ms(magic, in, &lim16, 1, 0);
			g[k] = sanitize_ms(ctx16, in, 0);
		}
	}
	const double fl = median(a, n), de = median(b, n), sb = median(c, n), fi = median(d, n);
	static const char *const cols[] = { "floor ms",	      "decoder ms",	      "sandboxed ms",
					    "+encode ms",     "sandboxed/floor",      "+encode/floor",
					    "fresh floor ms", "sandboxed/fresh floor" };
	const double fr = in->audio ? 0 : median(h, n);
	const double v[] = { fl, de, sb, fi, sb / fl, fi / fl, fr, in->audio ? 0 : sb / fr };
	_Static_assert(COUNT(cols) == COUNT(v), "one name per value");
	/* Audio has no fresh-memory floor: its rows stop before those two cells. */
	row("library", "Library: the in-process floor, airlock's decoder in-process, and sandboxed", in->name,
	    in->audio ? COUNT(cols) - 2 : COUNT(cols), cols, v, in->shape);
	if (in->audio) {
		const double de16 = median(e, n), sb16 = median(g, n);
		static const char *const cols16[] = { "floor ms", "decoder ms", "sandboxed ms", "sandboxed/floor",
						      "sandboxed/decoder" };
		const double v16[] = { fl, de16, sb16, sb16 / fl, sb16 / de16 };
		char name[96];
		snprintf(name, sizeof(name), "%s to 16 kHz mono f32", in->name);
		ROW("library", "", name, cols16, v16, in->shape);
	}
	char what[128];
	/* The floor has no colour transform: an ICC-tagged JPEG's cost of it is the icc section's. */
	const int jpeg = in->type == AIRLOCK_TYPE_JPEG && !in->icc;
	if (jpeg && (uint64_t)in->w * in->h <= 2000000) {
		snprintf(what, sizeof(what), "%s: 1 MP JPEG sandboxed / in-process libjpeg-turbo", in->name);
		target(what, sb / fl, "<=", 1.15, "x");
	} else if (jpeg) {
		snprintf(what, sizeof(what), "%s: 12 MP JPEG sandboxed / in-process libjpeg-turbo", in->name);
		target(what, sb / fl, "<=", 1.10, "x");
	} else if (in->type == AIRLOCK_TYPE_PNG && (uint64_t)in->w * in->h <= 64 * 64) {
		snprintf(what, sizeof(what), "%s: 64x64 PNG sandboxed, per request", in->name);
		target(what, sb, "<=", 0.5, "ms");
	}
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	free(g);
	free(h);
}

/*
 * The cost of the ICC transform: the same input with AIRLOCK_ICC 1 and 0,
 * in-process and sandboxed, interleaved. No target: the issue asks for the
 * cost, and the transform is lcms2's as Pillow's is (bench.py sets the two
 * side by side).
 */
static void icc_cost(const struct input *in, int n, airlock_ctx *ctx, airlock_ctx *ctx_noicc, void *magic)
{
	struct limits on, off;
	bench_limits(&on);
	off = on;
	off.icc = 0;
	double *a = calloc((size_t)n, sizeof(double)), *b = calloc((size_t)n, sizeof(double)),
	       *c = calloc((size_t)n, sizeof(double)), *d = calloc((size_t)n, sizeof(double));
	for (int k = 0; k < n; k++) {
		a[k] = floor_ms(magic, in, &on, 1, 0);
		b[k] = floor_ms(magic, in, &off, 1, 0);
		c[k] = sanitize_ms(ctx, in, 0);
		d[k] = sanitize_ms(ctx_noicc, in, 0);
	}
	const double de = median(a, n), de0 = median(b, n), sb = median(c, n), sb0 = median(d, n);
	static const char *const cols[] = { "decoder ms",   "decoder no-ICC ms",   "decoder ICC/no-ICC",  "ICC ms",
					    "sandboxed ms", "sandboxed no-ICC ms", "sandboxed ICC/no-ICC" };
	const double v[] = { de, de0, de / de0, de - de0, sb, sb0, sb / sb0 };
	ROW("icc", "ICC to sRGB: the same input with AIRLOCK_ICC 1 and 0", in->name, cols, v, in->shape);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void host_size(const struct input *in, int n, airlock_ctx *ctx)
{
	const size_t ballast = (size_t)4 << 30;
	const int rounds = 3;
	double *small = calloc((size_t)(n * rounds), sizeof(double)),
	       *big = calloc((size_t)(n * rounds), sizeof(double));
	double open_small[3], open_big[3];
	for (int r = 0; r < rounds; r++) {
		airlock_ctx *o;
		double t0 = now_us();
		if (airlock_open(&o) == AIRLOCK_OK)
			airlock_close(o);
		open_small[r] = (now_us() - t0) / 1e3;
		for (int k = 0; k < n; k++)
			small[r * n + k] = sanitize_ms(ctx, in, 0);
		void *m =
			mmap(NULL, ballast, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "bench-sanitize: no 4 GiB to hold resident; host-size section skipped\n");
			free(small);
			free(big);
			return;
		}
		t0 = now_us();
		if (airlock_open(&o) == AIRLOCK_OK)
			airlock_close(o);
		open_big[r] = (now_us() - t0) / 1e3;
		for (int k = 0; k < n; k++)
			big[r * n + k] = sanitize_ms(ctx, in, 0);
		munmap(m, ballast);
	}
	const double s = median(small, n * rounds), b = median(big, n * rounds);
	static const char *const cols[] = { "small host ms", "4 GiB host ms", "4 GiB/small", "open small ms",
					    "open 4 GiB ms" };
	const double v[] = { s, b, b / s, median(open_small, rounds), median(open_big, rounds) };
	ROW("host", "Host size: the same request from a small host and from one holding 4 GiB resident", in->name, cols,
	    v, in->shape);
	char what[128];
	snprintf(what, sizeof(what), "%s: 4 GiB host / small host", in->name);
	target(what, b / s, "<=", 1.1, "x");
	free(small);
	free(big);
}

/*
 * Latency when requests do not come back to back: one every 5 ms, so that
 * the previous worker's exit and the next spare's fork are done before
 * the request starts, as on a server that is not saturated.
 */
static void spaced(const struct input *in, int n, airlock_ctx *ctx)
{
	double *t = calloc((size_t)n, sizeof(double));
	const struct timespec gap = { .tv_nsec = 5 * 1000 * 1000 };
	for (int k = 0; k < n; k++) {
		nanosleep(&gap, NULL);
		t[k] = sanitize_ms(ctx, in, 0);
	}
	const double m = median(t, n);
	static const char *const cols[] = { "sandboxed ms, 5 ms apart" };
	const double v[] = { m };
	ROW("spaced", "Latency at low load: one request every 5 ms", in->name, cols, v, in->shape);
	if ((uint64_t)in->w * in->h <= 64 * 64) {
		char what[128];
		snprintf(what, sizeof(what), "%s: 64x64 PNG sandboxed, one request every 5 ms", in->name);
		target(what, m, "<=", 0.5, "ms");
	}
	free(t);
}

struct thread_job {
	airlock_ctx *ctx;
	const struct input *in;
	int n;
};

static void *thread_main(void *arg)
{
	struct thread_job *j = arg;
	for (int k = 0; k < j->n; k++)
		sanitize_ms(j->ctx, j->in, 0);
	return NULL;
}

/* Requests per second from t threads, each making n requests on one context. */
static double throughput(airlock_ctx *ctx, const struct input *in, int t, int n)
{
	pthread_t th[2];
	struct thread_job j = { .ctx = ctx, .in = in, .n = n };
	double t0 = now_us();
	for (int i = 0; i < t; i++)
		pthread_create(&th[i], NULL, thread_main, &j);
	for (int i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	return (double)t * n / ((now_us() - t0) / 1e6);
}

static void threads(const struct input *in, int n, airlock_ctx *ctx)
{
	double one[5], two[5];
	const int rounds = 5;
	for (int r = 0; r < rounds; r++) {
		one[r] = throughput(ctx, in, 1, n);
		two[r] = throughput(ctx, in, 2, n);
	}
	const double a = median(one, rounds), b = median(two, rounds);
	static const char *const cols[] = { "1 thread req/s", "2 threads req/s", "2/1" };
	const double v[] = { a, b, b / a };
	ROW("threads", "Scaling: requests per second from 1 and 2 threads on one context (2 cores)", in->name, cols, v,
	    in->shape);
	char what[128];
	snprintf(what, sizeof(what), "%s: 2 threads / 1 thread, throughput", in->name);
	target(what, b / a, ">=", 1.8, "x");
}

static long vm_hwm_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/*
 * Run as "bench-sanitize --memory-child FILE MONO" in a freshly exec'd
 * process, so the zygote it spawns starts small: one request, then
 * airlock_close(), which reaps the zygote; the zygote has reaped every
 * worker, so RUSAGE_CHILDREN's maxrss is the largest worker's peak (or the
 * zygote's, whichever is more). Prints the worker peak, the host's peak
 * growth over the request and the decoded size, in bytes.
 */
static int memory_child(const char *path, int mono16k)
{
	airlock_ctx *ctx = open_ctx(mono16k, 1);
	size_t len = 0;
	uint8_t *buf = slurp(path, &len);
	const long base = vm_hwm_kib();
	airlock_result *r = NULL;
	if (!ctx || !buf || airlock_sanitize(ctx, buf, len, AIRLOCK_TYPE_NONE, &r) != AIRLOCK_OK)
		return 1;
	size_t n = 0;
	airlock_result_pixels(r, &n);
	const long host = vm_hwm_kib() - base;
	airlock_result_free(r);
	airlock_close(ctx);
	free(buf);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("%.0f %.0f %zu\n", (double)ru.ru_maxrss * 1024, (double)host * 1024, n);
	return 0;
}

/* Runs memory_child() on in's bytes (through an inherited memfd) and reads its three numbers. */
static int measure_memory(const struct input *in, int mono16k, double out[3])
{
	int fd = memfd_create("bench-input", 0), p[2];
	if (fd < 0 || write(fd, in->buf, in->len) != (ssize_t)in->len || pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char path[64], mono[2] = { mono16k ? '1' : '0', 0 };
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		dup2(p[1], 1);
		execl("/proc/self/exe", "bench-sanitize", "--memory-child", path, mono, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	close(fd);
	char line[256] = "";
	FILE *f = fdopen(p[0], "r");
	int ok = f && fgets(line, sizeof(line), f) && sscanf(line, "%lf %lf %lf", &out[0], &out[1], &out[2]) == 3;
	if (f)
		fclose(f);
	int ws = 0;
	waitpid(pid, &ws, 0);
	return ok && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

/* The smallest valid PNG (1x1 RGB), for the worker's own size. */
static const uint8_t tiny_png[] = { 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
				    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
				    0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08,
				    0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d,
				    0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82 };

static void memory(const struct input *in, double worker_base)
{
	double m[3];
	for (int mono = 0; mono <= in->audio; mono++) {
		if (measure_memory(in, mono, m) != 0) {
			fprintf(stderr, "bench-sanitize: %s: memory measurement failed\n", in->name);
			exit(1);
		}
		const double mib = 1024.0 * 1024.0, over = (m[0] - m[2] - worker_base) / mib;
		static const char *const cols[] = { "decoded MiB", "worker peak MiB", "1x1 worker MiB",
						    "worker - decoded - 1x1 worker MiB", "host growth MiB" };
		const double v[] = { m[2] / mib, m[0] / mib, worker_base / mib, over, m[1] / mib };
		char name[96];
		snprintf(name, sizeof(name), "%s%s", in->name, mono ? " to 16 kHz mono f32" : "");
		ROW("memory",
		    "Memory: peak RSS of the worker (a 1x1 PNG's worker is the constant) and growth of the host's",
		    name, cols, v, in->shape);
		char what[160];
		snprintf(what, sizeof(what), "%s: worker peak beyond decoded size and a 1x1 PNG's worker", name);
		target(what, over, "<=", 8.0, "MiB");
	}
}

static int write_to_nothing(void *user, const void *buf, size_t len)
{
	(void)buf;
	*(size_t *)user += len;
	return 0;
}

static void png_encoder(const struct input *in, int n, airlock_ctx *ctx)
{
	airlock_result *r = NULL;
	if (airlock_sanitize(ctx, in->buf, in->len, AIRLOCK_TYPE_NONE, &r) != AIRLOCK_OK)
		return;
	const uint8_t *px = airlock_result_pixels(r, NULL);
	const uint32_t w = airlock_result_width(r), h = airlock_result_height(r), ch = airlock_result_channels(r);
	double *a = calloc((size_t)n, sizeof(double)), *b = calloc((size_t)n, sizeof(double));
	size_t ours = 0, theirs = 0;
	/* Each sample is the mean of enough encodes to last about a millisecond: tiny images are noise otherwise. */
	const int batch = (uint64_t)w * h < 100000 ? 50 : 1;
	for (int k = 0; k < n; k++) {
		double t0 = now_us();
		for (int j = 0; j < batch; j++) {
			ours = 0;
			airlock_encode(ctx, r, AIRLOCK_FORMAT_PNG, write_to_nothing, &ours);
		}
		a[k] = (now_us() - t0) / 1e3 / batch;
		t0 = now_us();
		for (int j = 0; j < batch; j++)
			theirs = png_default_encode(px, w, h, ch);
		b[k] = (now_us() - t0) / 1e3 / batch;
	}
	const double ma = median(a, n), mb = median(b, n);
	static const char *const cols[] = { "airlock ms",    "libpng default ms", "speed-up",
					    "airlock bytes", "libpng bytes",	  "size ratio" };
	const double v[] = { ma, mb, mb / ma, (double)ours, (double)theirs, (double)ours / (double)theirs };
	ROW("png", "PNG encoder: airlock's canonical settings against libpng's defaults, same pixels", in->name, cols,
	    v, in->shape);
	char what[128];
	snprintf(what, sizeof(what), "%s: canonical PNG encoder speed-up over libpng defaults", in->name);
	target(what, mb / ma, ">=", 2.0, "x");
	snprintf(what, sizeof(what), "%s: canonical PNG size / libpng defaults", in->name);
	target(what, (double)ours / (double)theirs, "<=", 1.10, "x");
	airlock_result_free(r);
	free(a);
	free(b);
}

#ifdef BENCH_MEDIA
extern char **environ;

/*
 * The ffmpeg CLI doing the media section's job, process start included:
 * `ffmpeg -nostdin -v error -i PATH -ac 1 -ar 16000 -f f32le -`, its output
 * into /dev/null. Wall ms, or -1 if it cannot run or fails.
 */
static double ffmpeg_cli_ms(const char *path)
{
	char *const argv[] = { "ffmpeg", "-nostdin", "-v",    "error", "-i",	(char *)path, "-ac",
			       "1",	 "-ar",	     "16000", "-f",    "f32le", "-",	      NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int ws = 0;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	double t0 = now_us();
	int rc = posix_spawnp(&pid, "ffmpeg", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0 || waitpid(pid, &ws, 0) != pid)
		return -1;
	double t = now_us() - t0;
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? t / 1e3 : -1;
}

/*
 * MP4 and Matroska audio to 16 kHz mono float32: the libav floor (decode to
 * float at the source rate, and the same through libswresample to 16 kHz
 * mono), airlock's media decoder in-process, and airlock_sanitize() by both
 * routes: the type expected (straight to the media zygote) and none (a
 * base worker first, which hands the input on); and the ffmpeg CLI
 * doing the same job in the same rounds (a file input, ffmpeg on PATH).
 */
static void media_library(const struct input *in, int n, airlock_ctx *ctx16, void *magic)
{
	struct limits lim16;
	bench_limits(&lim16);
	lim16.out_rate = 16000;
	lim16.mono = 1;
	lim16.sample_format = FRAME_FORMAT_F32;
	double *a = calloc((size_t)n, sizeof(double)), *b = calloc((size_t)n, sizeof(double)),
	       *c = calloc((size_t)n, sizeof(double)), *d = calloc((size_t)n, sizeof(double)),
	       *e = calloc((size_t)n, sizeof(double)), *f = calloc((size_t)n, sizeof(double));
	int cli = in->path != NULL;
	for (int k = 0; k < n; k++) {
		if (cli && (f[k] = ffmpeg_cli_ms(in->path)) < 0) {
			fprintf(stderr, "bench-sanitize: %s: the ffmpeg CLI failed; its columns left out\n", in->name);
			cli = 0;
		}
		a[k] = av_floor_ms(in, NULL, 0);
		b[k] = av_floor_ms(in, NULL, 1);
		c[k] = decoder_ms(magic, in, &lim16);
		d[k] = sanitize_as_ms(ctx16, in, in->type, 0);
		e[k] = sanitize_as_ms(ctx16, in, AIRLOCK_TYPE_NONE, 0);
	}
	const double fl = median(a, n), fl16 = median(b, n), de = median(c, n), sx = median(d, n), sn = median(e, n);
	const double ff = cli ? median(f, n) : 0;
	static const char *const cols[] = { "floor ms",
					    "floor to 16 kHz mono ms",
					    "decoder ms",
					    "sandboxed, expect ms",
					    "sandboxed, no expect ms",
					    "no expect - expect ms",
					    "sandboxed/floor",
					    "sandboxed/floor to 16 kHz",
					    "sandboxed/decoder",
					    "ffmpeg CLI ms",
					    "sandboxed, no expect/ffmpeg CLI" };
	const double v[] = { fl, fl16, de, sx, sn, sn - sx, sx / fl, sx / fl16, sx / de, ff, sn / ff };
	_Static_assert(COUNT(cols) == COUNT(v), "one name per value");
	char name[96];
	snprintf(name, sizeof(name), "%s to 16 kHz mono f32", in->name);
	/* Without the CLI, the row stops before its two cells. */
	row("media", "Media containers: 60 s to 16 kHz mono float32, the libav floor, airlock's decoder and sandboxed",
	    name, cli ? COUNT(cols) : COUNT(cols) - 2, cols, v, in->shape);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	free(f);
}

/* Over n samples: the largest difference of b from a in 16-bit steps, the sample it is at, and the SNR in dB. */
static void compare(const float *a, const float *b, size_t n, double *maxdiff, size_t *at, double *snr)
{
	double sig = 0, err = 0, mx = 0;
	*at = 0;
	for (size_t i = 0; i < n; i++) {
		const double d = (double)a[i] - (double)b[i];
		sig += (double)a[i] * a[i];
		err += d * d;
		if (fabs(d) > mx) {
			mx = fabs(d);
			*at = i;
		}
	}
	*maxdiff = mx * 32768.0;
	*snr = err > 0 ? 10 * log10(sig / err) : INFINITY;
}

/* The shift of b against a (in frames, within +-max) that best lines them up, from the first channel's first second. */
static long best_lag(const float *a, uint64_t na, const float *b, uint64_t nb, uint32_t ch, uint32_t rate, long max)
{
	long best = 0;
	double least = INFINITY;
	const uint64_t span = rate;
	for (long lag = -max; lag <= max; lag++) {
		double err = 0;
		for (uint64_t i = (uint64_t)max; i < span + (uint64_t)max; i++) {
			const int64_t j = (int64_t)i + lag;
			if (i >= na || j < 0 || (uint64_t)j >= nb)
				break;
			const double d = (double)a[i * ch] - (double)b[(uint64_t)j * ch];
			err += d * d;
		}
		if (err < least) {
			least = err;
			best = lag;
		}
	}
	return best;
}

/*
 * Ogg Opus as airlock decodes it today (decoders/audio_ogg.c, libopus)
 * against the same Opus packets in WebM through the media path (FFmpeg's
 * native opus decoder): in-process at the source rate and to 16 kHz mono,
 * and sandboxed to 16 kHz mono; beside them the plain libav floor on the
 * Ogg file with each of libavcodec's two Opus decoders, "libopus" and
 * "opus". Then how far the two outputs are apart.
 */
static void opus_compare(struct input *ogg, struct input *webm, int n, airlock_ctx *ctx16, void *magic)
{
	struct limits src, lim16;
	bench_limits(&src);
	src.sample_format = FRAME_FORMAT_F32;
	lim16 = src;
	lim16.out_rate = 16000;
	lim16.mono = 1;
	double *t[8];
	for (int i = 0; i < 8; i++)
		t[i] = calloc((size_t)n, sizeof(double));
	for (int k = 0; k < n; k++) {
		t[0][k] = decoder_ms(magic, ogg, &src);
		t[1][k] = decoder_ms(magic, webm, &src);
		t[2][k] = decoder_ms(magic, ogg, &lim16);
		t[3][k] = decoder_ms(magic, webm, &lim16);
		t[4][k] = sanitize_as_ms(ctx16, ogg, AIRLOCK_TYPE_NONE, 0);
		t[5][k] = sanitize_as_ms(ctx16, webm, webm->type, 0);
		t[6][k] = av_floor_ms(ogg, "libopus", 0);
		t[7][k] = av_floor_ms(ogg, "opus", 0);
	}
	double m[8];
	for (int i = 0; i < 8; i++) {
		m[i] = median(t[i], n);
		free(t[i]);
	}
	static const char *const cols[] = { "decoder 48 kHz stereo ms", "decoder 16 kHz mono ms",
					    "sandboxed 16 kHz mono ms", "libav floor on the Ogg ms" };
	const char *title =
		"Opus: libopus (Ogg, airlock today) against FFmpeg's opus decoder (the same packets in WebM)";
	char name[160];
	snprintf(name, sizeof(name), "%s: libopus (audio_ogg.c; libav: libopus)", ogg->name);
	const double v1[] = { m[0], m[2], m[4], m[6] };
	ROW("opus", title, name, cols, v1, ogg->shape);
	snprintf(name, sizeof(name), "%s: FFmpeg opus (media.c; libav: opus)", webm->name);
	const double v2[] = { m[1], m[3], m[5], m[7] };
	ROW("opus", title, name, cols, v2, webm->shape);
	const double v3[] = { m[1] / m[0], m[3] / m[2], m[5] / m[4], m[7] / m[6] };
	ROW("opus", title, "FFmpeg opus / libopus", cols, v3, NULL);

	/* The outputs, at the source rate and at 16 kHz mono. */
	for (int mono = 0; mono <= 1; mono++) {
		struct frame a, b;
		const struct limits *lim = mono ? &lim16 : &src;
		if (decode_in_process(magic, ogg, lim, &a) != AIRLOCK_OK ||
		    decode_in_process(magic, webm, lim, &b) != AIRLOCK_OK || a.channels != b.channels ||
		    a.rate != b.rate) {
			fprintf(stderr, "bench-sanitize: opus: the two decodes disagree on the shape\n");
			exit(1);
		}
		const float *pa = (const float *)(void *)a.pixels, *pb = (const float *)(void *)b.pixels;
		const uint64_t nf = a.frames < b.frames ? a.frames : b.frames;
		/* Compared where they line up best (a shift of 0 when both trim the same pre-skip). */
		const long lag = best_lag(pa, a.frames, pb, b.frames, a.channels, a.rate, (long)a.rate / 50);
		const uint64_t off = (uint64_t)labs(lag);
		const float *x = lag >= 0 ? pa : pa + off * a.channels, *y = lag >= 0 ? pb + off * b.channels : pb;
		double mx, snr;
		size_t at;
		compare(x, y, (size_t)((nf - off) * a.channels), &mx, &at, &snr);
		static const char *const dcols[] = { "libopus frames",
						     "FFmpeg frames",
						     "bit-identical",
						     "shift frames",
						     "max abs diff, 16-bit steps",
						     "max diff at s",
						     "SNR dB" };
		const double dv[] = { (double)a.frames,
				      (double)b.frames,
				      a.frames == b.frames &&
					      memcmp(pa, pb, (size_t)(nf * a.channels) * sizeof(float)) == 0,
				      (double)lag,
				      mx,
				      (double)(at / a.channels) / a.rate,
				      snr };
		snprintf(name, sizeof(name), "%s", mono ? "16 kHz mono f32" : "48 kHz stereo f32 (source)");
		ROW("opus-diff", "Opus outputs: FFmpeg's opus decoder (WebM) against libopus (Ogg), same packets", name,
		    dcols, dv, NULL);
		frame_free(&a);
		frame_free(&b);
	}
}

/*
 * What a request costs in each zygote: a tiny M4A through the media zygote
 * against a 64x64 PNG through the base zygote, back to back and one every
 * 5 ms, next to each decoder's own in-process time; then the first request
 * of a fresh context (the media zygote is spawned by its first request)
 * against the ones after it.
 */
static void media_zygote(struct input *m4a, struct input *png, int n, void *magic)
{
	struct limits lim;
	bench_limits(&lim);
	airlock_ctx *ctx = open_ctx(0, 1);
	if (!ctx) {
		fprintf(stderr, "bench-sanitize: airlock_open failed\n");
		exit(70);
	}
	const int reps = 5 * n;
	const struct timespec gap = { .tv_nsec = 5 * 1000 * 1000 };
	double *t[8];
	for (int i = 0; i < 8; i++)
		t[i] = calloc((size_t)reps, sizeof(double));
	for (int k = 0; k < reps; k++) {
		t[0][k] = decoder_ms(magic, png, &lim);
		t[1][k] = decoder_ms(magic, m4a, &lim);
		t[2][k] = sanitize_as_ms(ctx, png, AIRLOCK_TYPE_NONE, 0);
		t[3][k] = sanitize_as_ms(ctx, m4a, m4a->type, 0);
		t[4][k] = sanitize_as_ms(ctx, m4a, AIRLOCK_TYPE_NONE, 0);
	}
	for (int k = 0; k < reps; k++) {
		nanosleep(&gap, NULL);
		t[5][k] = sanitize_as_ms(ctx, png, AIRLOCK_TYPE_NONE, 0);
		nanosleep(&gap, NULL);
		t[6][k] = sanitize_as_ms(ctx, m4a, m4a->type, 0);
		nanosleep(&gap, NULL);
		t[7][k] = sanitize_as_ms(ctx, m4a, AIRLOCK_TYPE_NONE, 0);
	}
	airlock_close(ctx);
	double m[8];
	for (int i = 0; i < 8; i++) {
		m[i] = median(t[i], reps);
		free(t[i]);
	}
	static const char *const cols[] = { "decoder ms", "sandboxed ms", "sandboxed - decoder ms",
					    "sandboxed, 5 ms apart ms" };
	const char *title =
		"Zygotes: a request's cost in the base zygote (64x64 PNG) and in the media zygote (tiny M4A)";
	char name[160];
	snprintf(name, sizeof(name), "%s (base zygote)", png->name);
	const double v1[] = { m[0], m[2], m[2] - m[0], m[5] };
	ROW("zygotes", title, name, cols, v1, png->shape);
	snprintf(name, sizeof(name), "%s, expect mp4 (media zygote)", m4a->name);
	const double v2[] = { m[1], m[3], m[3] - m[1], m[6] };
	ROW("zygotes", title, name, cols, v2, m4a->shape);
	snprintf(name, sizeof(name), "%s, no expect (base worker, then media)", m4a->name);
	const double v3[] = { m[1], m[4], m[4] - m[1], m[7] };
	ROW("zygotes", title, name, cols, v3, m4a->shape);

	/* The first request of a context against the later ones: a fresh context per round, each path in turn. */
	const int rounds = n < 5 ? 5 : n, later = 10;
	struct {
		const char *what;
		const struct input *in;
		airlock_type expect;
	} const paths[] = {
		{ "64x64 PNG (base zygote, spawned by airlock_open)", png, AIRLOCK_TYPE_NONE },
		{ "tiny M4A, expect mp4 (spawns the media zygote)", m4a, (airlock_type)m4a->type },
		{ "tiny M4A, no expect (a base worker, then spawns the media zygote)", m4a, AIRLOCK_TYPE_NONE },
	};
	double open[3][64], first[3][64], rest[3][64], tmp[16];
	for (int r = 0; r < rounds && r < 64; r++) {
		for (int p = 0; p < 3; p++) {
			double t0 = now_us();
			airlock_ctx *c = open_ctx(0, 1);
			open[p][r] = (now_us() - t0) / 1e3;
			if (!c) {
				fprintf(stderr, "bench-sanitize: airlock_open failed\n");
				exit(70);
			}
			first[p][r] = sanitize_as_ms(c, paths[p].in, paths[p].expect, 0);
			for (int k = 0; k < later; k++)
				tmp[k] = sanitize_as_ms(c, paths[p].in, paths[p].expect, 0);
			rest[p][r] = median(tmp, later);
			airlock_close(c);
		}
	}
	static const char *const fcols[] = { "airlock_open ms", "first request ms", "later requests ms",
					     "first - later ms" };
	for (int p = 0; p < 3; p++) {
		const int nr = rounds < 64 ? rounds : 64;
		const double o = median(open[p], nr), f = median(first[p], nr), l = median(rest[p], nr);
		const double fv[] = { o, f, l, f - l };
		ROW("first", "The first request of a fresh context against the next ten (medians over fresh contexts)",
		    paths[p].what, fcols, fv, NULL);
	}
}
#endif

static int write_synth(const char *dir)
{
	static const char *const codecs[] = { "mp3", "flac", "opus" };
	for (int i = 0; i < 3; i++) {
		size_t len = 0;
		uint8_t *buf = synth(codecs[i], &len);
		char path[4096];
		snprintf(path, sizeof(path), "%s/music-60s.%s", dir, codecs[i]);
		FILE *f = buf ? fopen(path, "wb") : NULL;
		int ok = f && fwrite(buf, 1, len, f) == len;
		if (f)
			ok = fclose(f) == 0 && ok;
		free(buf);
		if (!ok) {
			fprintf(stderr, "bench-sanitize: cannot write %s\n", path);
			return 1;
		}
	}
	return 0;
}

/* An input that cannot be measured: said on stdout (bench.py reports it), and the rest go on. */
static void skip(struct input *in, const char *why)
{
	in->skip = 1;
	if (json)
		printf("{\"skipped\": \"%s\", \"why\": \"%s\"}\n", in->name, why);
	else
		printf("skipped   %-22s %s\n", in->name, why);
	fflush(stdout);
}

/* Reads, decodes and checks an input every way it will be measured; 0, or it is skipped. */
static int load(struct input *in, const char *arg, void *magic, airlock_ctx *ctx)
{
	const int synthetic = strncmp(arg, "synth:", 6) == 0;
	const char *base = strrchr(arg, '/');
	in->name = base ? base + 1 : arg;
	in->path = synthetic ? NULL : arg;
	in->buf = synthetic ? synth(arg + 6, &in->len) : slurp(arg, &in->len);
	if (!in->buf) {
		skip(in, "cannot read or synthesize it");
		return -1;
	}
	struct limits lim;
	bench_limits(&lim);
	struct frame f;
	int rc = decode_in_process(magic, in, &lim, &f);
	if (rc == AIRLOCK_E_UNSUPPORTED && (f.type == AIRLOCK_TYPE_MP4 || f.type == AIRLOCK_TYPE_MATROSKA)) {
#ifdef BENCH_MEDIA
		in->media = 1; /* the base decoders hand these on, as a base worker does */
		frame_free(&f);
		rc = decode_in_process(magic, in, &lim, &f);
#else
		skip(in, "MP4 or Matroska: bench-sanitize-media measures those");
		return -1;
#endif
	}
	if (rc != AIRLOCK_OK) {
		char why[96];
		snprintf(why, sizeof(why), "airlock's decoder in-process: %s", airlock_error_name(rc));
		skip(in, why);
		return -1;
	}
	in->type = (airlock_type)f.type;
	in->audio = f.kind == FRAME_KIND_AUDIO;
	in->icc = (f.changes & AIRLOCK_CHANGE_ICC_CONVERTED) != 0;
	in->w = f.width;
	in->h = f.height;
	if (in->audio)
		snprintf(in->shape, sizeof(in->shape), "%uch %u Hz %.1fs", f.channels, f.rate,
			 (double)f.frames / f.rate);
	else
		snprintf(in->shape, sizeof(in->shape), "%ux%u", f.width, f.height);
	frame_free(&f);
	uint64_t frames;
	int floor_rc;
#ifdef BENCH_MEDIA
	if (in->media)
		floor_rc = av_floor(in->buf, in->len, NULL, 0) > 0 ? 0 : -1;
	else
#endif
		floor_rc = in->audio ? sndfile_floor(in->buf, in->len, &frames) : image_floor(in, 0);
	if (floor_rc != 0) {
		skip(in, in->type == AIRLOCK_TYPE_BMP ? "no in-process floor for BMP (airlock's own decoder)"
						      : "the in-process floor failed");
		return -1;
	}
	rc = request(ctx, in, file_format(in));
	if (rc != AIRLOCK_OK) {
		char why[96];
		snprintf(why, sizeof(why), "sandboxed, with the canonical file: %s", airlock_error_name(rc));
		skip(in, why);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = 15, i = 1, library_only = 0, mode = 0; /* mode: 'o' --opus, 'z' --media-zygote */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--library-only") == 0)
			library_only = 1;
		else if (strcmp(argv[i], "--no-targets") == 0)
			no_targets = 1;
#ifdef BENCH_MEDIA
		else if (strcmp(argv[i], "--opus") == 0)
			mode = 'o';
		else if (strcmp(argv[i], "--media-zygote") == 0)
			mode = 'z';
#else
		else if (strcmp(argv[i], "--opus") == 0 || strcmp(argv[i], "--media-zygote") == 0) {
			fprintf(stderr, "bench-sanitize: %s is bench-sanitize-media's\n", argv[i]);
			return 64;
		}
#endif
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--synth") == 0 && i + 1 < argc)
			return write_synth(argv[i + 1]);
		else if (strcmp(argv[i], "--memory-child") == 0 && i + 2 < argc)
			return memory_child(argv[i + 1], atoi(argv[i + 2]));
		else
			break;
	}
	if (n < 1 || i == argc || (mode && argc - i != 2)) {
		fprintf(stderr, "usage: bench-sanitize [--json] [--library-only] [--no-targets] [-n N] INPUT...\n"
				"       bench-sanitize-media [--json] [-n N] --opus OGG_OPUS WEBM_OPUS\n"
				"       bench-sanitize-media [--json] [-n N] --media-zygote M4A PNG\n"
				"       bench-sanitize --synth DIR\n");
		return 64;
	}
#ifdef BENCH_MEDIA
	av_log_set_level(AV_LOG_ERROR); /* the floor's: an Ogg file's "Could not update timestamps" warnings */
#endif
	airlock_ctx *ctx = open_ctx(0, 1), *ctx16 = open_ctx(1, 1), *ctx_noicc = open_ctx(0, 0);
	void *magic = detect_open();
	if (!ctx || !ctx16 || !ctx_noicc || !magic) {
		fprintf(stderr, "bench-sanitize: airlock_open failed\n");
		return 70;
	}
	const int first = i;
	const int count = argc - first;
	struct input *in = calloc((size_t)count, sizeof(*in));
	int skipped = 0;
	for (int k = 0; k < count; k++)
		skipped += load(&in[k], argv[first + k], magic, ctx) != 0;
	if (mode && !skipped) {
#ifdef BENCH_MEDIA
		if (mode == 'o')
			opus_compare(&in[0], &in[1], n, ctx16, magic);
		else
			media_zygote(&in[0], &in[1], n, magic);
#endif
		for (int k = 0; k < count; k++)
			free(in[k].buf);
		free(in);
		detect_close(magic);
		airlock_close(ctx);
		airlock_close(ctx16);
		airlock_close(ctx_noicc);
		return 0;
	}
	if (mode)
		return 1;
	/* Big inputs get a third of the runs: medians of 5 or more still. */
	for (int k = 0; k < count; k++) {
		const int big = in[k].audio || (uint64_t)in[k].w * in[k].h > 2000000;
#ifdef BENCH_MEDIA
		if (!in[k].skip && in[k].media)
			media_library(&in[k], big ? (n / 3 > 5 ? n / 3 : 5) : n, ctx16, magic);
		else
#endif
			if (!in[k].skip)
			library(&in[k], big ? (n / 3 > 5 ? n / 3 : 5) : n, ctx, ctx16, magic);
	}
	for (int k = 0; k < count; k++)
		if (!in[k].skip && in[k].icc)
			icc_cost(&in[k], (uint64_t)in[k].w * in[k].h > 2000000 ? (n / 3 > 5 ? n / 3 : 5) : n, ctx,
				 ctx_noicc, magic);
	/* The sections below measure the sandbox, not a format: the first inputs' rows say it all. */
	const int sandbox_rows = !library_only;
	for (int k = 0; k < count && sandbox_rows; k++)
		if (!in[k].skip && !in[k].audio && (uint64_t)in[k].w * in[k].h <= 2000000)
			spaced(&in[k], 5 * n, ctx);
	for (int k = 0; k < count && sandbox_rows; k++)
		if (!in[k].skip && !in[k].audio && (uint64_t)in[k].w * in[k].h <= 2000000)
			threads(&in[k], (uint64_t)in[k].w * in[k].h <= 64 * 64 ? 20 * n : n, ctx);
	/* Last of the timed sections: mapping and freeing 4 GiB leaves the kernel busy for a while. */
	for (int k = 0; k < count && sandbox_rows; k++)
		if (!in[k].skip && !in[k].audio && (uint64_t)in[k].w * in[k].h <= 2000000)
			host_size(&in[k], n, ctx);
			/*
			 * bench-sanitize-media leaves memory out: RUSAGE_CHILDREN's peak is the
			 * zygote's too, which posix_spawn()'s exec records at the host's own
			 * high-water mark, and FFmpeg's libraries make this host 20 MiB bigger.
			 */
#ifdef BENCH_MEDIA
	if (sandbox_rows)
		fprintf(stderr, "bench-sanitize-media: no memory section (bench-sanitize has it)\n");
	if (0) {
#else
	if (sandbox_rows) {
#endif
		const struct input tiny = { .name = "1x1.png", .buf = (uint8_t *)tiny_png, .len = sizeof(tiny_png) };
		double base[3];
		if (measure_memory(&tiny, 0, base) != 0) {
			fprintf(stderr, "bench-sanitize: the 1x1 PNG memory measurement failed\n");
			return 1;
		}
		for (int k = 0; k < count; k++)
			if (!in[k].skip)
				memory(&in[k], base[0]);
		for (int k = 0; k < count; k++)
			if (!in[k].skip && !in[k].audio)
				png_encoder(&in[k], (uint64_t)in[k].w * in[k].h > 2000000 ? 5 : n, ctx);
	}
	for (int k = 0; k < count; k++)
		free(in[k].buf);
	free(in);
	detect_close(magic);
	airlock_close(ctx);
	airlock_close(ctx16);
	airlock_close(ctx_noicc);
	return skipped ? 1 : 0;
}
