/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the GIF decoder (decoders/gif.c) with the production limits. */
#include "image.h"

/* Pixels into malloc'd memory, as the in-process callers get them. */
static int gif_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out)
{
	return gif_decode_into(buf, len, lim, NULL, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_image(data, size, gif_decode, AIRLOCK_TYPE_GIF);
}
