/* SPDX-License-Identifier: MIT */
/*
 * Canonical image encoders, and the dispatch for every format. They run in
 * the host on data that passed frame validation, with fixed settings, so the
 * same pixels always give the same bytes: PNG with IHDR, IDAT and IEND only;
 * baseline JPEG with the JFIF APP0 and no other APPn or COM. Output goes out
 * in chunks through the caller's write function. WAV and FLAC are in
 * encode_audio.c.
 */
#include <png.h>
#include <zlib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "internal.h"

#define CHUNK (64 * 1024)

/* ---- PNG ---- */

struct png_sink {
	airlock_write_fn write;
	void *user;
	int failed; /* the write function refused */
};

static void png_sink_write(png_structp png, png_bytep data, size_t n)
{
	struct png_sink *s = png_get_io_ptr(png);
	if (s->write(s->user, data, n) != 0) {
		s->failed = 1;
		png_error(png, "write");
	}
}

static void png_sink_flush(png_structp png)
{
	(void)png;
}

static void png_enc_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void png_enc_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static int encode_png(const airlock_result *r, airlock_write_fn write, void *user)
{
	struct png_sink sink = { .write = write, .user = user };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_enc_error, png_enc_warning);
	png_infop info = NULL;
	int rc = AIRLOCK_E_NOMEM;

	if (!png)
		return rc;
	info = png_create_info_struct(png);
	if (!info)
		goto out;
	if (setjmp(png_jmpbuf(png))) {
		rc = sink.failed ? AIRLOCK_E_IO : AIRLOCK_E_INTERNAL;
		goto out;
	}
	png_set_write_fn(png, &sink, png_sink_write, png_sink_flush);
	/*
	 * Fixed settings (the output is a function of the pixels alone), chosen
	 * by measurement (docs/performance.md): the Paeth filter on every row and
	 * zlib's run-length strategy. Against libpng's defaults (level 6, every
	 * filter tried per row) that encodes photos 2.6x and synthetic images
	 * about 2x faster, for output from 4% smaller to 6% larger.
	 */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
	png_set_compression_strategy(png, Z_RLE);
	png_set_compression_level(png, 6);
	png_set_compression_buffer_size(png, CHUNK);
	png_set_IHDR(png, info, r->width, r->height, 8, r->channels == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	const size_t stride = (size_t)r->width * r->channels;
	for (uint32_t y = 0; y < r->height; y++)
		png_write_row(png, r->pixels + (size_t)y * stride);
	png_write_end(png, NULL);
	rc = AIRLOCK_OK;
out:
	png_destroy_write_struct(&png, info ? &info : NULL);
	return rc;
}

/* ---- JPEG ---- */

struct jpeg_sink {
	struct jpeg_destination_mgr pub;
	struct jpeg_error_mgr err;
	jmp_buf jmp;
	airlock_write_fn write;
	void *user;
	int failed;
	JOCTET buf[CHUNK];
};

static void jpeg_enc_error(j_common_ptr cinfo)
{
	struct jpeg_sink *s = (struct jpeg_sink *)((char *)cinfo->err - offsetof(struct jpeg_sink, err));
	longjmp(s->jmp, 1);
}

static void jpeg_enc_message(j_common_ptr cinfo, int level)
{
	(void)cinfo;
	(void)level;
}

static void sink_init(j_compress_ptr cinfo)
{
	struct jpeg_sink *s = (struct jpeg_sink *)cinfo->dest;
	s->pub.next_output_byte = s->buf;
	s->pub.free_in_buffer = CHUNK;
}

static boolean sink_empty(j_compress_ptr cinfo)
{
	struct jpeg_sink *s = (struct jpeg_sink *)cinfo->dest;
	/* libjpeg calls this with the whole buffer full, whatever free_in_buffer says. */
	if (s->write(s->user, s->buf, CHUNK) != 0) {
		s->failed = 1;
		longjmp(s->jmp, 1);
	}
	sink_init(cinfo);
	return TRUE;
}

static void sink_term(j_compress_ptr cinfo)
{
	struct jpeg_sink *s = (struct jpeg_sink *)cinfo->dest;
	size_t n = CHUNK - s->pub.free_in_buffer;
	if (n > 0 && s->write(s->user, s->buf, n) != 0) {
		s->failed = 1;
		longjmp(s->jmp, 1);
	}
}

static int encode_jpeg(const airlock_result *r, uint32_t quality, uint32_t background, airlock_write_fn write,
		       void *user)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_sink *s = calloc(1, sizeof(*s));
	uint8_t *volatile row = NULL;
	volatile int created = 0;
	int rc;

	/* JPEG holds at most 65500 pixels a side (libjpeg's JPEG_MAX_DIMENSION); airlock allows 65535. */
	if (r->width > JPEG_MAX_DIMENSION || r->height > JPEG_MAX_DIMENSION) {
		free(s);
		return AIRLOCK_E_INVALID_ARG;
	}
	if (!s)
		return AIRLOCK_E_NOMEM;
	s->write = write;
	s->user = user;
	cinfo.err = jpeg_std_error(&s->err);
	s->err.error_exit = jpeg_enc_error;
	s->err.emit_message = jpeg_enc_message;
	if (setjmp(s->jmp)) {
		rc = s->failed ? AIRLOCK_E_IO : AIRLOCK_E_INTERNAL;
		goto out;
	}
	jpeg_create_compress(&cinfo);
	created = 1;
	s->pub.init_destination = sink_init;
	s->pub.empty_output_buffer = sink_empty;
	s->pub.term_destination = sink_term;
	cinfo.dest = &s->pub;
	cinfo.image_width = r->width;
	cinfo.image_height = r->height;
	cinfo.input_components = 3;
	cinfo.in_color_space = JCS_RGB;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, (int)quality, TRUE);
	cinfo.dct_method = JDCT_ISLOW;
	cinfo.optimize_coding = FALSE;
	/* JFIF APP0 only; no Adobe, no density claims beyond the defaults. */
	cinfo.write_JFIF_header = TRUE;
	cinfo.write_Adobe_marker = FALSE;
	jpeg_start_compress(&cinfo, TRUE);

	const size_t stride = (size_t)r->width * r->channels;
	row = malloc(stride);
	if (!row) {
		jpeg_abort_compress(&cinfo);
		rc = AIRLOCK_E_NOMEM;
		goto out;
	}
	while (cinfo.next_scanline < cinfo.image_height) {
		memcpy(row, r->pixels + (size_t)cinfo.next_scanline * stride, stride);
		/* JPEG has no alpha: composite onto the background, as decoding would. */
		if (r->channels == 4)
			pixels_flatten(row, r->width, background);
		JSAMPROW rp = row;
		jpeg_write_scanlines(&cinfo, &rp, 1);
	}
	jpeg_finish_compress(&cinfo);
	rc = AIRLOCK_OK;
out:
	if (created)
		jpeg_destroy_compress(&cinfo);
	free(row);
	free(s);
	return rc;
}

/* ---- raw and dispatch ---- */

static int encode_raw(const airlock_result *r, airlock_write_fn write, void *user)
{
	for (size_t off = 0; off < r->size; off += CHUNK) {
		size_t n = r->size - off < CHUNK ? r->size - off : CHUNK;
		if (write(user, r->pixels + off, n) != 0)
			return AIRLOCK_E_IO;
	}
	return AIRLOCK_OK;
}

/* An encoder setting: opts's value where it holds key, else ctx's, else the default (already in *v). */
static void encoder_key(const airlock_ctx *ctx, const airlock_options *opts, airlock_key key, uint64_t *v)
{
	if (opts && airlock_options_get(opts, key, v) == AIRLOCK_OK)
		return;
	if (ctx)
		airlock_get(ctx, key, v);
}

AIRLOCK_API int airlock_encode_opts(const airlock_ctx *ctx, const airlock_options *opts, const airlock_result *r,
				    airlock_format fmt, airlock_write_fn write, void *user)
{
	struct limits def;
	limits_default(&def);
	uint64_t quality = def.jpeg_quality, background = def.background, lossless = def.webp_lossless;
	if (!r || !write || !r->pixels)
		return AIRLOCK_E_INVALID_ARG;
	encoder_key(ctx, opts, AIRLOCK_JPEG_QUALITY, &quality);
	/* An RGBA image written as JPEG is flattened: onto the background the request chose, if it chose one. */
	encoder_key(ctx, opts, AIRLOCK_BACKGROUND, &background);
	encoder_key(ctx, opts, AIRLOCK_WEBP_LOSSLESS, &lossless);
	/* A video as a whole is its frames' pixels; airlock_encode_frame() writes one as an image. */
	if (r->video.size)
		return fmt == AIRLOCK_FORMAT_RAW ? encode_raw(r, write, user) : AIRLOCK_E_INVALID_ARG;
	const int audio = r->format != AIRLOCK_SAMPLE_U8;
	if (audio && !audio_result_ok(r))
		return AIRLOCK_E_INVALID_ARG;
	switch (fmt) {
	case AIRLOCK_FORMAT_PNG: return audio ? AIRLOCK_E_INVALID_ARG : encode_png(r, write, user);
	case AIRLOCK_FORMAT_JPEG:
		return audio ? AIRLOCK_E_INVALID_ARG
			     : encode_jpeg(r, (uint32_t)quality, (uint32_t)background, write, user);
	case AIRLOCK_FORMAT_RAW: return encode_raw(r, write, user);
	case AIRLOCK_FORMAT_WAV: return audio ? encode_wav(r, write, user) : AIRLOCK_E_INVALID_ARG;
	case AIRLOCK_FORMAT_FLAC: return audio ? encode_flac(r, write, user) : AIRLOCK_E_INVALID_ARG;
	case AIRLOCK_FORMAT_WEBP:
		return audio ? AIRLOCK_E_INVALID_ARG
			     : encode_webp(r, (uint32_t)quality, (uint32_t)lossless, write, user);
	default: return AIRLOCK_E_INVALID_ARG;
	}
}

AIRLOCK_API int airlock_encode_frame(const airlock_ctx *ctx, const airlock_options *opts, const airlock_result *r,
				     uint64_t i, airlock_format fmt, airlock_write_fn write, void *user)
{
	if (!r || !r->video.size || i >= r->frames || !write)
		return AIRLOCK_E_INVALID_ARG;
	const size_t frame = (size_t)r->width * r->height * 3; /* r->size is frames x frame: no overflow */
	airlock_result one = {
		.type = r->type,
		.width = r->width,
		.height = r->height,
		.channels = 3,
		.format = AIRLOCK_SAMPLE_U8,
		.layers = r->layers,
		.pixels = r->pixels + (size_t)i * frame,
		.size = frame,
	};
	return airlock_encode_opts(ctx, opts, &one, fmt, write, user);
}

AIRLOCK_API int airlock_encode(const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt,
			       airlock_write_fn write, void *user)
{
	return airlock_encode_opts(ctx, NULL, r, fmt, write, user);
}

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static int mem_write(void *user, const void *buf, size_t n)
{
	struct membuf *m = user;
	if (n > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : CHUNK;
		while (cap - m->len < n) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		uint8_t *p = realloc(m->p, cap);
		if (!p)
			return -1;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return 0;
}

/* An encode into m ended with rc: the buffer goes to the caller on success, else it is freed. */
static int mem_done(int rc, struct membuf *m, uint8_t **out, size_t *out_len)
{
	if (rc == AIRLOCK_E_IO)
		rc = AIRLOCK_E_NOMEM; /* the only way mem_write fails */
	if (rc != AIRLOCK_OK) {
		free(m->p);
		return rc;
	}
	*out = m->p;
	*out_len = m->len;
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_encode_opts_to_memory(const airlock_ctx *ctx, const airlock_options *opts,
					      const airlock_result *r, airlock_format fmt, uint8_t **out,
					      size_t *out_len)
{
	struct membuf m = { 0 };
	if (!out || !out_len)
		return AIRLOCK_E_INVALID_ARG;
	return mem_done(airlock_encode_opts(ctx, opts, r, fmt, mem_write, &m), &m, out, out_len);
}

AIRLOCK_API int airlock_encode_to_memory(const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt,
					 uint8_t **out, size_t *out_len)
{
	return airlock_encode_opts_to_memory(ctx, NULL, r, fmt, out, out_len);
}

AIRLOCK_API int airlock_encode_frame_to_memory(const airlock_ctx *ctx, const airlock_options *opts,
					       const airlock_result *r, uint64_t i, airlock_format fmt, uint8_t **out,
					       size_t *out_len)
{
	struct membuf m = { 0 };
	if (!out || !out_len)
		return AIRLOCK_E_INVALID_ARG;
	return mem_done(airlock_encode_frame(ctx, opts, r, i, fmt, mem_write, &m), &m, out, out_len);
}
