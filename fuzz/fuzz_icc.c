/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: an embedded ICC profile (decoders/icc.c) with the
 * production limits. The input is the profile, opened for the layout its
 * header names (grey, RGB or CMYK pixels, as the decoders do) with RGB out,
 * or, with airlock's fuzz trailer (fuzz/fuzz.h), for the layout a % 5 and
 * the output width 3 + (b & 1): one transform an input, because building
 * one is most of lcms2's time. A transform that opens is applied to a fixed
 * buffer holding every value 0..255 in every channel. Invariants: no crash,
 * leak or sanitizer report; an error is one of the codes icc_open() names,
 * with no transform; a transform writes every output byte and nothing past
 * them, carries the alpha over exactly, and converts in place as it does
 * between two buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "icc.h"

#define NPIX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum icc_layout layouts[] = { ICC_GREY, ICC_GREY_ALPHA, ICC_RGB, ICC_RGBA, ICC_CMYK };
	static const uint32_t in_ch[] = { 1, 2, 3, 4, 4 };
	struct limits lim;
	limits_default(&lim);

	uint8_t src[NPIX * 4], dst[NPIX * 4 + 16];
	for (size_t i = 0; i < NPIX; i++)
		for (size_t c = 0; c < 4; c++)
			src[i * 4 + c] = (uint8_t)(c & 1 ? 255 - i : (i * (c + 1)) & 0xff);

	size_t l = 2; /* RGB */
	uint32_t oc = 3;
	struct fuzz_flags fl = fuzz_trailer(data, &size);
	if (fl.present) {
		l = fl.a % 5u;
		oc = 3 + (fl.b & 1u);
	} else if (size >= 20 && memcmp(data + 16, "GRAY", 4) == 0) {
		l = 0;
	} else if (size >= 20 && memcmp(data + 16, "CMYK", 4) == 0) {
		l = 4;
	}

	struct frame f = { 0 };
	struct icc *x = (struct icc *)1;
	int rc = icc_open(data, size, layouts[l], oc, &lim, &f, &x);
	if (rc != AIRLOCK_OK) {
		FUZZ_CHECK(x == NULL);
		FUZZ_CHECK(rc == AIRLOCK_E_MALFORMED || rc == AIRLOCK_E_TOO_LARGE || rc == AIRLOCK_E_MEMORY);
		FUZZ_CHECK(rc != AIRLOCK_E_TOO_LARGE || f.limit == AIRLOCK_MAX_ICC_BYTES);
		return 0;
	}
	if (!x)
		return 0; /* another colour space than the layout's: ignored */
	memset(dst, 0xA5, sizeof(dst));
	icc_apply(x, src, dst, NPIX);
	for (size_t i = NPIX * oc; i < sizeof(dst); i++)
		FUZZ_CHECK(dst[i] == 0xA5); /* nothing past the output */
	if (oc == 4) {
		const int alpha = layouts[l] == ICC_GREY_ALPHA || layouts[l] == ICC_RGBA;
		for (size_t i = 0; i < NPIX; i++)
			FUZZ_CHECK(dst[i * 4 + 3] == (alpha ? src[i * in_ch[l] + in_ch[l] - 1] : 255));
	}
	if (in_ch[l] == oc) { /* in place, where the widths allow it (icc.h) */
		uint8_t same[NPIX * 4];
		memcpy(same, src, sizeof(same));
		icc_apply(x, same, same, NPIX);
		FUZZ_CHECK(memcmp(same, dst, (size_t)NPIX * oc) == 0);
	}
	fuzz_touch(dst, (size_t)NPIX * oc);
	icc_close(x);
	return 0;
}
