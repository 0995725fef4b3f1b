/* SPDX-License-Identifier: MIT */
/*
 * The media containers, MP4 and Matroska, through FFmpeg (media.c). Only
 * the media zygote, its tests and its fuzzer link this: the base zygote's
 * workers never map FFmpeg's libraries.
 */
#ifndef AIRLOCK_MEDIA_H
#define AIRLOCK_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/*
 * The audio track of len bytes at buf, which type detection called type
 * (AIRLOCK_TYPE_MP4 or _MATROSKA), as audio_decode_into() returns any
 * other audio: same limits, downmix, resampling, output and errors. Which
 * track is lim->track's (airlock_track); a file whose track is refused is
 * AIRLOCK_E_UNSUPPORTED with out->mime naming the container or the codec.
 */
int media_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
		      const struct pixel_alloc *pa, struct frame *out);

/* decode_any_into() with the media containers decoded: the media zygote's worker_decode_fn. */
int media_decode_any(void *magic, const uint8_t *buf, size_t len, const struct limits *lim,
		     const struct pixel_alloc *pa, struct frame *out);

/*
 * FFmpeg's lazy state, set up once in the media zygote before confinement
 * (every worker inherits it): the log callback that writes nothing, the CPU
 * flags, each allowed decoder's static tables, the CRC tables, the two
 * demuxers. What a worker would otherwise build under the filter with a
 * futex or an ioctl (docs/threat-model.md, "The media zygote").
 */
void media_warm(void);

#endif
