/* SPDX-License-Identifier: MIT */
/*
 * Embedded ICC profiles to sRGB with lcms2, in the worker: perceptual
 * intent, lcms2's default flags and its built-in sRGB profile, which is
 * what Pillow's ImageCms.profileToProfile() does by default, so that the
 * pixels match Pillow+ImageCms byte for byte.
 */
#ifndef AIRLOCK_ICC_H
#define AIRLOCK_ICC_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* What the decoded pixels are, before conversion. */
enum icc_layout {
	ICC_GREY = 1,	/* G8 */
	ICC_GREY_ALPHA, /* GA8: the alpha is carried over */
	ICC_RGB,	/* RGB8 */
	ICC_RGBA,	/* RGBA8: the alpha is carried over */
	ICC_CMYK,	/* CMYK8, 0 = no ink (Pillow's "CMYK", an Adobe JPEG once inverted) */
};

struct icc;

/*
 * A transform from the profile (len bytes, as embedded) to sRGB, for n
 * pixels of layout in at a time, written as RGB8 (out_channels 3) or RGBA8
 * (4; alpha from the input, or 255). Returns AIRLOCK_OK with *out set; or
 * AIRLOCK_OK with *out NULL when nothing is to be done: lim->icc is 0, or
 * the profile's colour space is not the pixels' (ignored, as browsers do);
 * AIRLOCK_E_TOO_LARGE with f->limit AIRLOCK_MAX_ICC_BYTES for a profile over
 * lim->max_icc_bytes; AIRLOCK_E_MALFORMED for a profile lcms2 refuses or
 * cannot build a transform from. lcms2's allocations are bounded.
 */
int icc_open(const uint8_t *profile, size_t len, enum icc_layout in, uint32_t out_channels, const struct limits *lim,
	     struct frame *f, struct icc **out);

/* Converts npix pixels; src and dst may be the same buffer when the layouts have equal width. */
void icc_apply(struct icc *x, const uint8_t *src, uint8_t *dst, size_t npix);

void icc_close(struct icc *x); /* accepts NULL */

#endif
