/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the TIFF decoder (decoders/tiff.c, libtiff) with the production limits. */
#include "image.h"

/* tiff_decode_into with malloc'd pixels: the shape fuzz_image() takes. */
static int tiff_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out)
{
	return tiff_decode_into(buf, len, lim, NULL, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_image(data, size, tiff_decode, AIRLOCK_TYPE_TIFF);
}
