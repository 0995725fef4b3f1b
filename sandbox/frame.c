/* SPDX-License-Identifier: MIT */
/* The frame header: packing, and validation on the host, the trust boundary. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "video.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

void frame_header_pack(const struct frame_header *h, uint8_t o[FRAME_HEADER_SIZE])
{
	put32(o + 0, h->magic);
	put16(o + 4, h->version);
	put16(o + 6, h->status);
	put16(o + 8, h->kind);
	put16(o + 10, h->format);
	put32(o + 12, h->type);
	put32(o + 16, h->width);
	put32(o + 20, h->height);
	put32(o + 24, h->channels);
	put32(o + 28, h->rate);
	put64(o + 32, h->frames);
	put32(o + 40, h->changes);
	put32(o + 44, h->limit);
	put64(o + 48, h->payload_len);
	put32(o + 56, h->mime);
	put32(o + 60, h->reserved);
}

void frame_header_unpack(const uint8_t in[FRAME_HEADER_SIZE], struct frame_header *h)
{
	h->magic = get32(in + 0);
	h->version = get16(in + 4);
	h->status = get16(in + 6);
	h->kind = get16(in + 8);
	h->format = get16(in + 10);
	h->type = get32(in + 12);
	h->width = get32(in + 16);
	h->height = get32(in + 20);
	h->channels = get32(in + 24);
	h->rate = get32(in + 28);
	h->frames = get64(in + 32);
	h->changes = get32(in + 40);
	h->limit = get32(in + 44);
	h->payload_len = get64(in + 48);
	h->mime = get32(in + 56);
	h->reserved = get32(in + 60);
}

void frame_header_from(const struct frame *f, int status, struct frame_header *h)
{
	*h = (struct frame_header){ .magic = FRAME_MAGIC, .version = FRAME_VERSION, .status = (uint16_t)status };
	h->type = f->type;
	if (status != AIRLOCK_OK) {
		h->limit = f->limit;
		h->mime = status == AIRLOCK_E_UNSUPPORTED ? f->mime : 0;
		return;
	}
	h->kind = (uint16_t)f->kind;
	h->format = (uint16_t)f->format;
	h->width = f->width;
	h->height = f->height;
	h->channels = f->channels;
	h->rate = f->rate;
	h->frames = f->frames;
	h->changes = f->changes;
	h->payload_len = f->size;
}

/* Errors a worker may legitimately report; anything else is a protocol violation. */
static int worker_status_ok(uint32_t s)
{
	return (s >= AIRLOCK_E_MALFORMED && s <= AIRLOCK_E_OUT_OF_RANGE) || s == AIRLOCK_E_MEMORY ||
	       s == AIRLOCK_E_SANDBOX_UNAVAILABLE;
}

#define IMAGE_CHANGES                                                                                     \
	(AIRLOCK_CHANGE_METADATA_DROPPED | AIRLOCK_CHANGE_ROTATED | AIRLOCK_CHANGE_ALPHA_FLATTENED |      \
	 AIRLOCK_CHANGE_DEPTH_REDUCED | AIRLOCK_CHANGE_CMYK_CONVERTED | AIRLOCK_CHANGE_PALETTE_EXPANDED | \
	 AIRLOCK_CHANGE_GREY_EXPANDED | AIRLOCK_CHANGE_ALPHA_ADDED | AIRLOCK_CHANGE_TRAILING_DROPPED |    \
	 AIRLOCK_CHANGE_ANIMATION_DROPPED | AIRLOCK_CHANGE_INTERLACE_REMOVED | AIRLOCK_CHANGE_ICC_CONVERTED)

static int validate_image(const struct frame_header *h, const struct limits *lim, uint64_t *payload_len)
{
	if (!(AIRLOCK_TYPE_BIT(h->type) & AIRLOCK_TYPES_IMAGE))
		return AIRLOCK_E_PROTOCOL;
	/* Only what was asked for can have been done. */
	if ((h->changes & AIRLOCK_CHANGE_ICC_CONVERTED) && !lim->icc)
		return AIRLOCK_E_PROTOCOL;
	if (h->format != FRAME_FORMAT_U8 || h->channels != (lim->keep_alpha ? 4u : 3u))
		return AIRLOCK_E_PROTOCOL;
	if (h->width == 0 || h->height == 0 || h->width > lim->max_width || h->height > lim->max_height)
		return AIRLOCK_E_PROTOCOL;
	if ((uint64_t)h->width * h->height > lim->max_pixels) /* both < 2^32: no overflow */
		return AIRLOCK_E_PROTOCOL;
	if (h->rate != 0 || h->frames != 0 || (h->changes & ~(uint32_t)IMAGE_CHANGES))
		return AIRLOCK_E_PROTOCOL;
	uint64_t px = (uint64_t)h->width * h->height;
	if (px > UINT64_MAX / h->channels)
		return AIRLOCK_E_PROTOCOL;
	if (h->payload_len != px * h->channels || h->payload_len > SIZE_MAX)
		return AIRLOCK_E_PROTOCOL;
	*payload_len = h->payload_len;
	return AIRLOCK_OK;
}

#define AUDIO_CHANGES                                                                            \
	(AIRLOCK_CHANGE_METADATA_DROPPED | AIRLOCK_CHANGE_TRUNCATED | AIRLOCK_CHANGE_DOWNMIXED | \
	 AIRLOCK_CHANGE_RESAMPLED | AIRLOCK_CHANGE_FORMAT_CONVERTED | AIRLOCK_CHANGE_TRACKS_DROPPED)

/*
 * An audio frame has the shape the request asked for: the output rate (or a
 * source rate within the limits), one channel when downmixed, the sample
 * format, at most max_seconds of frames and max_decoded_bytes of payload.
 */
static int validate_audio(const struct frame_header *h, const struct limits *lim, uint64_t *payload_len)
{
	const uint64_t sample_bytes = h->format == FRAME_FORMAT_S16 ? 2 : 4;

	/* An MP4 or Matroska file's audio track is audio of that type. */
	if (!(AIRLOCK_TYPE_BIT(h->type) & (AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA)))
		return AIRLOCK_E_PROTOCOL;
	if (h->format != lim->sample_format || (h->format != FRAME_FORMAT_S16 && h->format != FRAME_FORMAT_F32))
		return AIRLOCK_E_PROTOCOL;
	if (h->width != 0 || h->height != 0 || (h->changes & ~(uint32_t)AUDIO_CHANGES))
		return AIRLOCK_E_PROTOCOL;
	if (lim->out_rate ? h->rate != lim->out_rate : h->rate < lim->min_rate || h->rate > lim->max_rate)
		return AIRLOCK_E_PROTOCOL;
	if (lim->mono ? h->channels != 1 : h->channels == 0 || h->channels > lim->max_channels)
		return AIRLOCK_E_PROTOCOL;
	/* Only what was asked for can have been done; only a container has other tracks. */
	if (((h->changes & AIRLOCK_CHANGE_TRACKS_DROPPED) && !(AIRLOCK_TYPE_BIT(h->type) & AIRLOCK_TYPES_MEDIA)) ||
	    ((h->changes & AIRLOCK_CHANGE_DOWNMIXED) && !lim->mono) ||
	    ((h->changes & AIRLOCK_CHANGE_RESAMPLED) && !lim->out_rate))
		return AIRLOCK_E_PROTOCOL;
	/* Both factors are below 2^32, so the product cannot wrap. */
	if (h->frames == 0 || h->frames > (uint64_t)lim->max_seconds * h->rate)
		return AIRLOCK_E_PROTOCOL;
	/* Overflow-checked on its own, whatever limits the caller's struct holds. */
	if (h->frames > UINT64_MAX / h->channels / sample_bytes)
		return AIRLOCK_E_PROTOCOL;
	if (h->payload_len != h->frames * h->channels * sample_bytes || h->payload_len > lim->max_decoded_bytes ||
	    h->payload_len > SIZE_MAX)
		return AIRLOCK_E_PROTOCOL;
	*payload_len = h->payload_len;
	return AIRLOCK_OK;
}

#define VIDEO_CHANGES                                                                               \
	(AIRLOCK_CHANGE_METADATA_DROPPED | AIRLOCK_CHANGE_ROTATED | AIRLOCK_CHANGE_TRACKS_DROPPED | \
	 AIRLOCK_CHANGE_DOWNSCALED)

/*
 * A video frame's header: sampled RGB8 frames of a size within the limits,
 * as many as the cap allows, and a payload of exactly the size that shape
 * and its trailer take (decoders/video.h). The trailer is checked with the
 * payload.
 */
static int validate_video(const struct frame_header *h, const struct limits *lim, uint64_t *payload_len)
{
	uint64_t px, total;

	if (!(AIRLOCK_TYPE_BIT(h->type) & AIRLOCK_TYPES_MEDIA) || lim->track != AIRLOCK_TRACK_VIDEO)
		return AIRLOCK_E_PROTOCOL;
	if (h->format != FRAME_FORMAT_U8 || h->channels != 3 || h->rate != 0 || (h->changes & ~(uint32_t)VIDEO_CHANGES))
		return AIRLOCK_E_PROTOCOL;
	if (h->width == 0 || h->height == 0 || h->width > lim->max_width || h->height > lim->max_height)
		return AIRLOCK_E_PROTOCOL;
	const uint64_t area = (uint64_t)h->width * h->height;
	if (area > lim->max_pixels || (lim->video_max_frame_pixels && area > lim->video_max_frame_pixels))
		return AIRLOCK_E_PROTOCOL;
	if (h->frames == 0 || h->frames > lim->video_max_sampled)
		return AIRLOCK_E_PROTOCOL;
	if (video_payload_size(h->frames, h->width, h->height, &px, &total) != AIRLOCK_OK ||
	    px > lim->video_max_output_bytes || h->payload_len != total || total > SIZE_MAX)
		return AIRLOCK_E_PROTOCOL;
	*payload_len = total;
	return AIRLOCK_OK;
}

/*
 * A video payload's trailer. The worker may choose pixel values, and a
 * plausible frame count, rate and duration within the limits; it cannot
 * choose the shape or the sampling: the output size is recomputed from the
 * source size, rotation and budget, and the indices from the frame count
 * and rate with the request's rule, and both must be exactly the worker's.
 */
static int validate_video_payload(const struct frame_header *h, const struct limits *lim, const uint8_t *payload,
				  size_t len)
{
	uint64_t px, total;
	struct video_block b;
	struct sampling_request req;
	uint32_t w, hgt, n;
	int scaled;

	if (video_payload_size(h->frames, h->width, h->height, &px, &total) != AIRLOCK_OK || total != len)
		return AIRLOCK_E_PROTOCOL;
	const uint64_t entries = (px + 7) & ~(uint64_t)7;
	for (uint64_t i = px; i < entries; i++)
		if (payload[i] != 0)
			return AIRLOCK_E_PROTOCOL;
	if (video_block_unpack(payload + len - VIDEO_BLOCK_SIZE, &b) != AIRLOCK_OK)
		return AIRLOCK_E_PROTOCOL;
	if (b.frames_seen == 0 || b.frames_seen > lim->video_max_decoded_frames)
		return AIRLOCK_E_PROTOCOL;
	if ((b.fps_num == 0) != (b.fps_den == 0) || (uint64_t)b.fps_num > (uint64_t)VIDEO_MAX_FPS * b.fps_den)
		return AIRLOCK_E_PROTOCOL;
	if (b.src_width > lim->max_width || b.src_height > lim->max_height ||
	    (uint64_t)b.src_width * b.src_height > lim->max_pixels)
		return AIRLOCK_E_PROTOCOL;
	if (video_out_size(b.src_width, b.src_height, b.rotation, lim->video_max_frame_pixels, &w, &hgt, &scaled) !=
		    AIRLOCK_OK ||
	    w != h->width || hgt != h->height || !scaled != !(h->changes & AIRLOCK_CHANGE_DOWNSCALED) ||
	    !b.rotation != !(h->changes & AIRLOCK_CHANGE_ROTATED))
		return AIRLOCK_E_PROTOCOL;

	/* The sampling, recomputed. A rule error here is one the worker should have sent. */
	uint64_t *idx = malloc(sizeof(*idx) * lim->video_max_sampled);
	if (idx == NULL)
		return AIRLOCK_E_NOMEM;
	int rc = video_sampling_request(lim, &req);
	if (rc == AIRLOCK_OK)
		rc = sampling_compute(&req, b.frames_seen, b.fps_num, b.fps_den, lim->video_max_sampled, &n, idx);
	if (rc != AIRLOCK_OK || n != h->frames)
		rc = AIRLOCK_E_PROTOCOL;
	/* Times: 0 for frame 0, equal for a frame sampled twice, else increasing, within the duration. */
	const uint64_t max_us = (uint64_t)lim->max_seconds * 1000000u;
	for (uint32_t i = 0; rc == AIRLOCK_OK && i < n; i++) {
		int64_t pts, prev_pts = 0;
		uint64_t index, prev_index = 0;
		video_entry_unpack(payload + entries + (uint64_t)i * VIDEO_ENTRY_SIZE, &pts, &index);
		if (i > 0)
			video_entry_unpack(payload + entries + (uint64_t)(i - 1) * VIDEO_ENTRY_SIZE, &prev_pts,
					   &prev_index);
		if (index != idx[i] || pts < 0 || (uint64_t)pts > max_us || (uint64_t)pts > b.duration_us ||
		    (index == 0 && pts != 0) || (i > 0 && (index == prev_index ? pts != prev_pts : pts <= prev_pts)))
			rc = AIRLOCK_E_PROTOCOL;
	}
	free(idx);
	return rc;
}

int frame_validate_payload(const struct frame_header *h, const struct limits *lim, const uint8_t *payload, size_t len)
{
	if (h->kind == FRAME_KIND_VIDEO)
		return payload == NULL ? AIRLOCK_E_PROTOCOL : validate_video_payload(h, lim, payload, len);
	if (h->kind != FRAME_KIND_AUDIO || h->format != FRAME_FORMAT_F32)
		return AIRLOCK_OK;
	for (size_t i = 0; i + 4 <= len; i += 4) {
		uint32_t bits;
		memcpy(&bits, payload + i, 4);
		/* Exponent all ones: infinity or NaN. */
		if ((bits & 0x7f800000u) == 0x7f800000u)
			return AIRLOCK_E_PROTOCOL;
	}
	return AIRLOCK_OK;
}

int frame_validate(const struct frame_header *h, const struct limits *lim, uint64_t *payload_len)
{
	*payload_len = 0;
	if (h->magic != FRAME_MAGIC || h->version != FRAME_VERSION || h->reserved != 0)
		return AIRLOCK_E_PROTOCOL;
	if (h->type >= AIRLOCK_TYPE_COUNT_)
		return AIRLOCK_E_PROTOCOL;
	/* A MIME index only names an unsupported input, and only from the table. */
	if (h->mime != 0 && (h->status != AIRLOCK_E_UNSUPPORTED || h->mime >= mime_count()))
		return AIRLOCK_E_PROTOCOL;

	if (h->status != AIRLOCK_OK) {
		if (!worker_status_ok(h->status) || h->limit >= KEY_LIMIT)
			return AIRLOCK_E_PROTOCOL;
		if (h->kind || h->format || h->width || h->height || h->channels || h->rate || h->frames ||
		    h->changes || h->payload_len)
			return AIRLOCK_E_PROTOCOL;
		return h->status;
	}

	/* A success frame must be of a type the request allowed, and the expected one. */
	if (h->limit != 0 || type_check(lim, h->type) != AIRLOCK_OK)
		return AIRLOCK_E_PROTOCOL;
	switch (h->kind) {
	case FRAME_KIND_IMAGE: return validate_image(h, lim, payload_len);
	case FRAME_KIND_AUDIO: return validate_audio(h, lim, payload_len);
	case FRAME_KIND_VIDEO: return validate_video(h, lim, payload_len);
	default: return AIRLOCK_E_PROTOCOL;
	}
}
