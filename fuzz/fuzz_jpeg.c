/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the JPEG decoder (decoders/jpeg.c) with the production limits. */
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_image(data, size, jpeg_decode, AIRLOCK_TYPE_JPEG);
}
