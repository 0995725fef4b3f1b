/* SPDX-License-Identifier: MIT */
/*
 * airlock-zygote-media: the zygote of the media containers (MP4, Matroska),
 * whose workers map FFmpeg's libraries. The host starts it on the first
 * request that needs it (sanitizer/context.c); image and audio requests
 * never pay for its larger forks. Everything else is zygote.c's, under the
 * same seccomp policy.
 */
#include "media.h"
#include "sandbox.h"

int main(void)
{
	static const struct zygote_family media = { "airlock-media", media_decode_any, media_warm };
	return zygote_main(&media);
}
