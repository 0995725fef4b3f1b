/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the PNG decoder (decoders/png.c) with the production limits. */
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_image(data, size, png_decode, AIRLOCK_TYPE_PNG);
}
