/* SPDX-License-Identifier: MIT */
/*
 * A video result's shape, computed the same way on both sides of the trust
 * boundary: the worker (decoders/media.c) decides with these functions
 * what it decodes and writes, and the host (sandbox/frame.c) recomputes
 * them to check the worker's frame exactly (docs/protocol.md, "Video
 * frames"). Pure: no allocation, no I/O.
 *
 * A video frame's payload, little-endian:
 *
 *   T x H x W x 3 bytes   the sampled frames, RGB8, one after the other
 *   0..7 zero bytes       to a multiple of 8
 *   T x 16 bytes          per frame: i64 pts_us, u64 index
 *   64 bytes              the video block (struct video_block)
 */
#ifndef AIRLOCK_VIDEO_H
#define AIRLOCK_VIDEO_H

#include <stdint.h>

#include "decode.h"
#include "sampling.h"

#define VIDEO_BLOCK_SIZE 64
#define VIDEO_ENTRY_SIZE 16
/* The fastest frame rate a video may report: above it, the rate is unknown (0/0). */
#define VIDEO_MAX_FPS 1000

struct video_block {
	uint64_t frames_seen; /* frames decoded */
	uint64_t duration_us; /* first decoded frame's time to the last one's end */
	uint32_t fps_num;     /* 0/0: unknown */
	uint32_t fps_den;
	uint32_t src_width; /* the decoded frames' size */
	uint32_t src_height;
	uint32_t rotation; /* 0, 90, 180 or 270 degrees clockwise */
};

void video_block_pack(const struct video_block *b, uint8_t out[VIDEO_BLOCK_SIZE]);
/* AIRLOCK_OK, or AIRLOCK_E_PROTOCOL when a reserved byte is not zero. */
int video_block_unpack(const uint8_t in[VIDEO_BLOCK_SIZE], struct video_block *b);

void video_entry_pack(int64_t pts_us, uint64_t index, uint8_t out[VIDEO_ENTRY_SIZE]);
void video_entry_unpack(const uint8_t in[VIDEO_ENTRY_SIZE], int64_t *pts_us, uint64_t *index);

/*
 * The request's sampling with the rule's defaults filled in where the
 * request left a key at 0 (sampling.h's SAMPLING_* values). The vLLM rule
 * has no min_frames (ignored) and no max_frames: a max_frames given caps
 * its num_frames. AIRLOCK_E_INVALID_ARG for an unknown rule.
 */
int video_sampling_request(const struct limits *lim, struct sampling_request *req);

/*
 * The size of the output frames of a src_w x src_h video shown rotated by
 * rotation degrees, scaled down to at most budget pixels (0: no budget)
 * with the aspect ratio kept: w = isqrt(budget * W / H), h = w * H / W,
 * each at least 1; a picture so thin that a side of 1 is still over the
 * budget has its long side cut to budget. *scaled says whether it is
 * smaller than the source.
 * AIRLOCK_E_INVALID_ARG for a zero size or a rotation not a right angle.
 */
int video_out_size(uint32_t src_w, uint32_t src_h, uint32_t rotation, uint64_t budget, uint32_t *w, uint32_t *h,
		   int *scaled);

/*
 * Bytes of the pixels (T x H x W x 3) and of the whole payload, overflow-
 * checked: AIRLOCK_E_TOO_LARGE when either does not fit 64 bits.
 */
int video_payload_size(uint64_t frames, uint32_t w, uint32_t h, uint64_t *pixel_bytes, uint64_t *payload_bytes);

#endif
