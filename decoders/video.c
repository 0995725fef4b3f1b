/* SPDX-License-Identifier: MIT */
/* A video result's shape, shared by the worker and the host (video.h). */
#include <string.h>

#include "video.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Offsets in the 64-byte block; bytes 36..63 are reserved and zero. */
enum { VB_SEEN = 0, VB_DURATION = 8, VB_FPS_NUM = 16, VB_FPS_DEN = 20, VB_W = 24, VB_H = 28, VB_ROT = 32, VB_END = 36 };

void video_block_pack(const struct video_block *b, uint8_t out[VIDEO_BLOCK_SIZE])
{
	memset(out, 0, VIDEO_BLOCK_SIZE);
	put64(out + VB_SEEN, b->frames_seen);
	put64(out + VB_DURATION, b->duration_us);
	put32(out + VB_FPS_NUM, b->fps_num);
	put32(out + VB_FPS_DEN, b->fps_den);
	put32(out + VB_W, b->src_width);
	put32(out + VB_H, b->src_height);
	put32(out + VB_ROT, b->rotation);
}

int video_block_unpack(const uint8_t in[VIDEO_BLOCK_SIZE], struct video_block *b)
{
	b->frames_seen = get64(in + VB_SEEN);
	b->duration_us = get64(in + VB_DURATION);
	b->fps_num = get32(in + VB_FPS_NUM);
	b->fps_den = get32(in + VB_FPS_DEN);
	b->src_width = get32(in + VB_W);
	b->src_height = get32(in + VB_H);
	b->rotation = get32(in + VB_ROT);
	for (int i = VB_END; i < VIDEO_BLOCK_SIZE; i++)
		if (in[i] != 0)
			return AIRLOCK_E_PROTOCOL;
	return AIRLOCK_OK;
}

void video_entry_pack(int64_t pts_us, uint64_t index, uint8_t out[VIDEO_ENTRY_SIZE])
{
	put64(out, (uint64_t)pts_us);
	put64(out + 8, index);
}

void video_entry_unpack(const uint8_t in[VIDEO_ENTRY_SIZE], int64_t *pts_us, uint64_t *index)
{
	*pts_us = (int64_t)get64(in);
	*index = get64(in + 8);
}

/* A count key as the rules take it: AIRLOCK_UNSET (and anything past INT64_MAX) is "unset", -1. */
static int64_t count(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? -1 : (int64_t)v;
}

int video_sampling_request(const struct limits *lim, struct sampling_request *req)
{
	const double fps = lim->video_fps_milli ? (double)lim->video_fps_milli / 1000.0 : 0.0;

	*req = (struct sampling_request){ .rule = lim->video_sampling };
	switch (lim->video_sampling) {
	case SAMPLING_VLLM:
		req->num_frames = lim->video_num_frames ? count(lim->video_num_frames) : SAMPLING_VLLM_NUM_FRAMES;
		/* The rule has no max_frames: one given caps num_frames, as a smaller request (unset: every frame). */
		if (lim->video_max_frames &&
		    (req->num_frames <= 0 || (uint64_t)req->num_frames > lim->video_max_frames))
			req->num_frames = count(lim->video_max_frames);
		req->fps = fps ? fps : -1.0;
		return AIRLOCK_OK;
	case SAMPLING_VLLM_QWEN3:
		req->fps = fps ? fps : SAMPLING_QWEN3_FPS;
		req->min_frames = lim->video_min_frames ? count(lim->video_min_frames) : SAMPLING_QWEN3_MIN_FRAMES;
		req->max_frames = lim->video_max_frames ? count(lim->video_max_frames) : SAMPLING_QWEN3_MAX_FRAMES;
		return AIRLOCK_OK;
	case SAMPLING_QWEN_UTILS:
		req->num_frames = lim->video_num_frames ? count(lim->video_num_frames) : 0;
		if (req->num_frames < 0)
			req->num_frames = 0; /* unset: its fps mode */
		req->fps = fps ? fps : SAMPLING_QWEN_UTILS_FPS;
		req->min_frames = lim->video_min_frames ? count(lim->video_min_frames) : SAMPLING_QWEN_UTILS_MIN;
		req->max_frames = lim->video_max_frames ? count(lim->video_max_frames) : SAMPLING_UNSET;
		return AIRLOCK_OK;
	default: return AIRLOCK_E_INVALID_ARG;
	}
}

/* floor(sqrt(v)), exactly. */
static uint64_t isqrt(uint64_t v)
{
	uint64_t lo = 0, hi = UINT32_MAX;

	while (lo < hi) {
		const uint64_t mid = lo + (hi - lo + 1) / 2; /* <= 2^32 - 1: mid * mid fits */
		if (mid * mid <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

int video_out_size(uint32_t src_w, uint32_t src_h, uint32_t rotation, uint64_t budget, uint32_t *w, uint32_t *h,
		   int *scaled)
{
	if (src_w == 0 || src_h == 0 || (rotation != 0 && rotation != 90 && rotation != 180 && rotation != 270))
		return AIRLOCK_E_INVALID_ARG;
	const int turned = rotation == 90 || rotation == 270;
	const uint64_t W = turned ? src_h : src_w, H = turned ? src_w : src_h;

	*scaled = 0;
	if (budget == 0 || W * H <= budget) {
		*w = (uint32_t)W;
		*h = (uint32_t)H;
		return AIRLOCK_OK;
	}
	/*
	 * w*w <= budget*W/H, so w*h <= budget; and budget < W*H makes w <= W
	 * and h <= H. floor(budget*W/H) = q*W + floor(r*W/H) with budget =
	 * q*H + r: each product is below W*W or W*H, under 2^62.
	 */
	const uint64_t q = budget / H, r = budget % H;
	uint64_t nw = isqrt(q * W + r * W / H);
	if (nw == 0)
		nw = 1;
	uint64_t nh = nw * H / W;
	if (nh == 0)
		nh = 1;
	/* So thin that a side of 1 keeps it over the budget: the long side is cut to fit, the ratio lost. */
	if (nw * nh > budget) {
		if (nh == 1)
			nw = budget;
		else
			nh = budget / nw;
	}
	*w = (uint32_t)nw;
	*h = (uint32_t)nh;
	*scaled = 1;
	return AIRLOCK_OK;
}

int video_payload_size(uint64_t frames, uint32_t w, uint32_t h, uint64_t *pixel_bytes, uint64_t *payload_bytes)
{
	const uint64_t area = (uint64_t)w * h; /* both factors < 2^32 */

	if (area > UINT64_MAX / 3 || (area && frames > UINT64_MAX / (area * 3)))
		return AIRLOCK_E_TOO_LARGE;
	const uint64_t px = frames * area * 3;
	if (px > UINT64_MAX - 7 - VIDEO_BLOCK_SIZE)
		return AIRLOCK_E_TOO_LARGE;
	const uint64_t padded = (px + 7) & ~(uint64_t)7;
	if (frames > (UINT64_MAX - padded - VIDEO_BLOCK_SIZE) / VIDEO_ENTRY_SIZE)
		return AIRLOCK_E_TOO_LARGE;
	*pixel_bytes = px;
	*payload_bytes = padded + frames * VIDEO_ENTRY_SIZE + VIDEO_BLOCK_SIZE;
	return AIRLOCK_OK;
}
