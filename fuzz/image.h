/* SPDX-License-Identifier: MIT */
/* The PNG and JPEG harnesses: one body, two decoders. */
#ifndef AIRLOCK_FUZZ_IMAGE_H
#define AIRLOCK_FUZZ_IMAGE_H

#include <stdlib.h>

#include "decode.h"
#include "encode.h"

typedef int (*fuzz_image_decoder)(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out);

static const uint32_t fuzz_backgrounds[4] = { 0xFFFFFF, 0x000000, 0x808080, 0x123456 };

/*
 * Trailer flags: a bit 0 keep_alpha, bits 1-2 the background, bit 3 a
 * 4096-pixel cap (the limit paths), bit 4 PNG chunk CRCs rewritten before
 * decoding; b bits 0-2 an orientation (1 + (b & 7)) applied to the decoded
 * pixels as the JPEG decoder applies EXIF's, bits 3-4 the canonical output
 * the result is then encoded to (none, PNG, JPEG, raw).
 */
static int fuzz_image(const uint8_t *data, size_t size, fuzz_image_decoder decode, uint32_t type)
{
	struct limits lim;
	limits_default(&lim);
	/* The harness's type is allowed, off the default list or not (TIFF): the validator checks it. */
	lim.allowed_types |= AIRLOCK_TYPE_BIT(type);
	int orientation = 1;
	struct fuzz_flags fl = fuzz_trailer(data, &size);
	if (fl.present) {
		lim.keep_alpha = fl.a & 1u;
		lim.background = fuzz_backgrounds[(fl.a >> 1) & 3u];
		if (fl.a & 8u)
			lim.max_pixels = 4096;
		orientation = 1 + (fl.b & 7u);
	}

	uint8_t *fixed = NULL;
	if (fl.present && (fl.a & 16u) && type == AIRLOCK_TYPE_PNG && (fixed = malloc(size ? size : 1)) != NULL) {
		memcpy(fixed, data, size);
		fuzz_png_fix_crcs(fixed, size);
		data = fixed;
	}

	struct frame f = { 0 };
	int rc = decode(data, size, &lim, &f);
	free(fixed);
	if (rc != AIRLOCK_OK) {
		fuzz_check_refused(rc, &f);
		return 0;
	}

	/* A decoded image has the shape the limits allow, and the host's validator agrees. */
	FUZZ_CHECK(f.kind == FRAME_KIND_IMAGE && f.format == FRAME_FORMAT_U8 && f.type == type);
	FUZZ_CHECK(f.channels == (lim.keep_alpha ? 4u : 3u));
	FUZZ_CHECK(f.width >= 1 && f.height >= 1 && f.width <= lim.max_width && f.height <= lim.max_height);
	FUZZ_CHECK((uint64_t)f.width * f.height <= lim.max_pixels);
	FUZZ_CHECK(f.pixels != NULL && f.size == (size_t)f.width * f.height * f.channels);
	fuzz_touch(f.pixels, f.size);

	struct frame_header h;
	uint64_t plen = 0;
	frame_header_from(&f, AIRLOCK_OK, &h);
	FUZZ_CHECK(frame_validate(&h, &lim, &plen) == AIRLOCK_OK && plen == f.size);
	static const airlock_format outputs[4] = { 0, AIRLOCK_FORMAT_PNG, AIRLOCK_FORMAT_JPEG, AIRLOCK_FORMAT_RAW };
	if (fl.present && outputs[(fl.b >> 3) & 3u])
		fuzz_encode(&h, f.pixels, f.size, outputs[(fl.b >> 3) & 3u]);

	uint8_t *o = NULL;
	uint32_t ow = 0, oh = 0;
	if (pixels_orient(f.pixels, f.width, f.height, f.channels, orientation, &o, &ow, &oh) == AIRLOCK_OK) {
		const int swap = orientation >= 5;
		FUZZ_CHECK(ow == (swap ? f.height : f.width) && oh == (swap ? f.width : f.height));
		fuzz_touch(o, (size_t)ow * oh * f.channels);
		free(o);
	}
	frame_free(&f);
	return 0;
}

#endif
