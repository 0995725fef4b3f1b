/* SPDX-License-Identifier: MIT */
/*
 * A video frame the host accepted, read again by the harnesses (media,
 * frame) on their own: the payload's layout as decoders/video.h gives it,
 * byte by byte, without video.c's unpackers, and the rules it promises;
 * then the host's result for it, each sampled frame encoded as an image.
 */
#ifndef AIRLOCK_FUZZ_VIDEO_CHECK_H
#define AIRLOCK_FUZZ_VIDEO_CHECK_H

#include "encode.h"
#include "video.h"

static inline uint64_t fuzz_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * The output size decoders/video.h promises, worked out another way: the
 * source turned a right angle when rotated; over a budget, the widest w
 * with w * w * H <= budget * W (128-bit, by bisection), and h = w * H / W,
 * each at least 1.
 */
static inline void fuzz_video_size(uint32_t sw, uint32_t sh, uint32_t rot, uint64_t budget, uint32_t *w, uint32_t *h)
{
	__extension__ typedef unsigned __int128 u128;
	const uint64_t W = (rot == 90 || rot == 270) ? sh : sw, H = (rot == 90 || rot == 270) ? sw : sh;
	if (budget == 0 || W * H <= budget) {
		*w = (uint32_t)W;
		*h = (uint32_t)H;
		return;
	}
	uint64_t lo = 1, hi = W;
	while (lo < hi) {
		const uint64_t mid = lo + (hi - lo + 1) / 2;
		if ((u128)mid * mid * H <= (u128)budget * W)
			lo = mid;
		else
			hi = mid - 1;
	}
	uint64_t h1 = lo * H / W ? lo * H / W : 1;
	/* Too thin for the budget with a side of 1: the long side is cut to fit (video.h). */
	if (lo * h1 > budget) {
		if (h1 == 1)
			lo = budget;
		else
			h1 = budget / lo;
	}
	*w = (uint32_t)lo;
	*h = (uint32_t)h1;
}

/* The offset of the first entry: the pixels and the zeros after them to a multiple of 8. */
static inline uint64_t fuzz_video_entries(const struct frame_header *h)
{
	const uint64_t px = h->frames * h->width * h->height * 3;
	return (px + 7) / 8 * 8;
}

/*
 * A video frame h and its payload, both accepted by the host under lim
 * (frame_validate(), frame_validate_payload()): the layout and every rule
 * video.h and the validator promise, read here byte by byte.
 */
static inline void fuzz_video_payload(const struct frame_header *h, const struct limits *lim, const uint8_t *p,
				      size_t len)
{
	const uint64_t T = h->frames, px = T * h->width * h->height * 3, entries = fuzz_video_entries(h);

	FUZZ_CHECK(h->kind == FRAME_KIND_VIDEO && lim->track == AIRLOCK_TRACK_VIDEO);
	FUZZ_CHECK(T >= 1 && T <= lim->video_max_sampled && px <= lim->video_max_output_bytes);
	FUZZ_CHECK(len == entries + T * VIDEO_ENTRY_SIZE + VIDEO_BLOCK_SIZE);
	for (uint64_t i = px; i < entries; i++)
		FUZZ_CHECK(p[i] == 0);

	/* The block: frames_seen, duration_us, fps_num, fps_den, src_width, src_height, rotation, 28 zeros. */
	const uint8_t *b = p + len - VIDEO_BLOCK_SIZE;
	const uint64_t seen = fuzz_le(b, 8), duration = fuzz_le(b + 8, 8);
	const uint32_t num = (uint32_t)fuzz_le(b + 16, 4), den = (uint32_t)fuzz_le(b + 20, 4);
	const uint32_t sw = (uint32_t)fuzz_le(b + 24, 4), sh = (uint32_t)fuzz_le(b + 28, 4);
	const uint32_t rot = (uint32_t)fuzz_le(b + 32, 4);
	for (int i = 36; i < VIDEO_BLOCK_SIZE; i++)
		FUZZ_CHECK(b[i] == 0);
	FUZZ_CHECK(seen >= 1 && seen <= lim->video_max_decoded_frames);
	FUZZ_CHECK((num == 0) == (den == 0) && (uint64_t)num <= 1000u * (uint64_t)den);
	FUZZ_CHECK(sw >= 1 && sw <= lim->max_width && sh >= 1 && sh <= lim->max_height);
	FUZZ_CHECK((uint64_t)sw * sh <= lim->max_pixels);
	FUZZ_CHECK(rot == 0 || rot == 90 || rot == 180 || rot == 270);
	FUZZ_CHECK(!rot == !(h->changes & AIRLOCK_CHANGE_ROTATED));
	uint32_t w, hh;
	fuzz_video_size(sw, sh, rot, lim->video_max_frame_pixels, &w, &hh);
	FUZZ_CHECK(h->width == w && h->height == hh);
	const uint64_t budget = lim->video_max_frame_pixels;
	FUZZ_CHECK(!(h->changes & AIRLOCK_CHANGE_DOWNSCALED) == !(budget && (uint64_t)sw * sh > budget));
	if (budget)
		FUZZ_CHECK((uint64_t)w * hh <= budget);

	/* The entries: indices in order and among the frames seen; times from 0, increasing, within the duration. */
	uint64_t prev_index = 0;
	int64_t prev_pts = 0;
	for (uint64_t i = 0; i < T; i++) {
		const uint8_t *e = p + entries + i * VIDEO_ENTRY_SIZE;
		const int64_t pts = (int64_t)fuzz_le(e, 8);
		const uint64_t index = fuzz_le(e + 8, 8);
		FUZZ_CHECK(index < seen && pts >= 0 && (uint64_t)pts <= duration);
		FUZZ_CHECK((uint64_t)pts <= (uint64_t)lim->max_seconds * 1000000u);
		FUZZ_CHECK(index != 0 || pts == 0);
		if (i > 0)
			FUZZ_CHECK(index > prev_index ? pts > prev_pts : index == prev_index && pts == prev_pts);
		prev_index = index;
		prev_pts = pts;
	}

	/*
	 * vLLM's rule without a target rate, on a video of no more frames than
	 * it asks for (32 by default, all when unset) and the cap: every frame,
	 * once each (its range(n) branch).
	 */
	const uint64_t asked = lim->video_num_frames ? lim->video_num_frames : 32;
	if (lim->video_sampling == AIRLOCK_SAMPLING_VLLM && lim->video_fps_milli == 0 &&
	    (asked > (uint64_t)INT64_MAX || seen <= asked) && seen <= lim->video_max_sampled) {
		FUZZ_CHECK(T == seen);
		for (uint64_t i = 0; i < T; i++)
			FUZZ_CHECK(fuzz_le(p + entries + i * VIDEO_ENTRY_SIZE + 8, 8) == i);
	}
}

/*
 * The host's result for an accepted video frame (the payload copied to
 * exactly its length): each sampled frame encoded as fmt (0: none) by
 * airlock_encode_frame(), one past the last refused, the whole as raw
 * pixels only.
 */
static inline void fuzz_video_encode(const struct frame_header *h, const uint8_t *payload, size_t len,
				     airlock_format fmt)
{
	const uint64_t px = h->frames * h->width * h->height * 3;
	uint8_t *copy = malloc(len);
	if (copy == NULL)
		return;
	memcpy(copy, payload, len);
	airlock_result r;
	result_from_header(&r, h, 0, copy, len);
	r.size = (size_t)px;
	r.video.size = sizeof(r.video);
	const size_t frame = (size_t)h->width * h->height * 3;
	for (uint64_t i = 0; fmt && i < h->frames; i++) {
		size_t written = 0;
		const int rc = airlock_encode_frame(NULL, NULL, &r, i, fmt, fuzz_count_write, &written);
		if (rc == AIRLOCK_E_INVALID_ARG && fmt == AIRLOCK_FORMAT_JPEG)
			FUZZ_CHECK(r.width > 65500 || r.height > 65500); /* JPEG's cap on a side */
		else
			FUZZ_CHECK(rc == AIRLOCK_OK && written > 0 && (fmt != AIRLOCK_FORMAT_RAW || written == frame));
	}
	size_t written = 0;
	FUZZ_CHECK(airlock_encode_frame(NULL, NULL, &r, h->frames, AIRLOCK_FORMAT_RAW, fuzz_count_write, &written) ==
		   AIRLOCK_E_INVALID_ARG);
	FUZZ_CHECK(airlock_encode(NULL, &r, AIRLOCK_FORMAT_RAW, fuzz_count_write, &written) == AIRLOCK_OK &&
		   written == px);
	FUZZ_CHECK(airlock_encode(NULL, &r, AIRLOCK_FORMAT_PNG, fuzz_count_write, &written) == AIRLOCK_E_INVALID_ARG);
	free(copy);
}

#endif
