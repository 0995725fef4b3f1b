/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the GIF decoder (decoders/gif.c) with the production limits, but for the screen size. */
#include "image.h"

/*
 * A 13-byte screen descriptor asks for a screen of up to max_pixels with no
 * data behind it (the screen is filled, not decoded). Under ASan the
 * harness's checks, orientation and PNG encoding of such a frame take tens
 * of seconds each, so the fuzzer would spend its time there: the screen is
 * capped at 2^22 pixels here, and the large screens are the hostile corpus's
 * (gif_screen_*, gif_lzw_bomb_*), replayed at the production limits.
 */
#define FUZZ_GIF_MAX_PIXELS (1u << 22)

static int gif_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out)
{
	struct limits l = *lim;
	if (l.max_pixels > FUZZ_GIF_MAX_PIXELS)
		l.max_pixels = FUZZ_GIF_MAX_PIXELS;
	return gif_decode_into(buf, len, &l, NULL, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_image(data, size, gif_decode, AIRLOCK_TYPE_GIF);
}
