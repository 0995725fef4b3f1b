/* SPDX-License-Identifier: MIT */
/*
 * The canonical WebP writer: libwebp's simple-format encoder with fixed
 * settings, so that the bytes are a function of the pixels and the two
 * options alone. Lossy is VP8 at the JPEG quality (VP8X and a losslessly
 * coded ALPH when the pixels have alpha); lossless is VP8L with exact RGB
 * under transparent pixels, which makes it idempotent. libwebp writes no
 * metadata chunk of its own (EXIF, ICCP and XMP need the mux API), so the file
 * holds RIFF/WEBP and the image chunks only.
 */
#include <string.h>

#include <webp/encode.h>

#include "internal.h"

/* Lossless: cwebp -lossless's defaults, fixed here so that a libwebp with other defaults writes the same stream. */
#define LOSSLESS_METHOD	 4
#define LOSSLESS_QUALITY 75.0f
#define LOSSY_METHOD	 4

struct webp_sink {
	airlock_write_fn write;
	void *user;
	int failed; /* the write function refused */
};

static int webp_sink_write(const uint8_t *data, size_t n, const WebPPicture *pic)
{
	struct webp_sink *s = pic->custom_ptr;
	if (n == 0)
		return 1;
	if (s->write(s->user, data, n) != 0) {
		s->failed = 1;
		return 0;
	}
	return 1;
}

int encode_webp(const airlock_result *r, uint32_t quality, uint32_t lossless, airlock_write_fn write, void *user)
{
	WebPConfig cfg;
	WebPPicture pic;
	struct webp_sink sink = { .write = write, .user = user };

	if (r->channels != 3 && r->channels != 4)
		return AIRLOCK_E_INVALID_ARG;
	/* WebP's own cap on a side, as JPEG's 65500 is for the JPEG writer. */
	if (r->width < 1 || r->height < 1 || r->width > WEBP_MAX_DIMENSION || r->height > WEBP_MAX_DIMENSION)
		return AIRLOCK_E_INVALID_ARG;
	if (r->size != (size_t)r->width * r->height * r->channels || quality > 100 || lossless > 1)
		return AIRLOCK_E_INVALID_ARG;
	if (!WebPConfigInit(&cfg) || !WebPPictureInit(&pic))
		return AIRLOCK_E_INTERNAL;
	cfg.thread_level = 0;
	if (lossless) {
		cfg.lossless = 1;
		cfg.exact = 1;
		cfg.method = LOSSLESS_METHOD;
		cfg.quality = LOSSLESS_QUALITY;
	} else {
		cfg.quality = (float)quality;
		cfg.method = LOSSY_METHOD;
		/* The alpha plane of a lossy file is kept exactly: it decides what the background shows through. */
		cfg.alpha_compression = 1;
		cfg.alpha_quality = 100;
	}
	if (!WebPValidateConfig(&cfg))
		return AIRLOCK_E_INTERNAL;

	pic.width = (int)r->width;
	pic.height = (int)r->height;
	pic.use_argb = lossless ? 1 : 0;
	const int stride = (int)(r->width * r->channels); /* at most 16383 x 4 */
	const int imported = r->channels == 4 ? WebPPictureImportRGBA(&pic, r->pixels, stride)
					      : WebPPictureImportRGB(&pic, r->pixels, stride);
	if (!imported) {
		WebPPictureFree(&pic);
		return AIRLOCK_E_NOMEM;
	}
	pic.writer = webp_sink_write;
	pic.custom_ptr = &sink;
	const int ok = WebPEncode(&cfg, &pic);
	const WebPEncodingError err = pic.error_code;
	WebPPictureFree(&pic);
	if (ok)
		return AIRLOCK_OK;
	if (sink.failed || err == VP8_ENC_ERROR_BAD_WRITE)
		return AIRLOCK_E_IO;
	return err == VP8_ENC_ERROR_OUT_OF_MEMORY || err == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY ? AIRLOCK_E_NOMEM
												  : AIRLOCK_E_INTERNAL;
}
