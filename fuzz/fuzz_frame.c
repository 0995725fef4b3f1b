/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the host's frame validator (sandbox/frame.c), the
 * trust boundary, and what the host does next with a frame it accepted.
 *
 * Input: a 64-byte frame header as a worker would send it, then the
 * payload. Trailer flags set the request's limits: a bit 0 keep_alpha,
 * bit 1 s16 (else float32), bit 2 mono, bits 3-4 the output rate, bits 5-7
 * an allowlist and expectation; b bit 0 tight image caps (64x64, 2048
 * pixels), bit 1 tight audio caps (2 channels, 1 second, 4096 bytes),
 * bit 2 the video track (else no video frame is valid), bits 3-4 the
 * sampling rule (vLLM, vLLM, Qwen3-VL, qwen_vl_utils), bit 5 a 256-pixel
 * downscale budget, bit 6 tight video caps (8 sampled of at most 1000
 * decoded frames, 4096 bytes of pixels, 10 seconds).
 *
 * Each verdict is checked against a second, independent reading of
 * docs/protocol.md: a header the validator accepts must satisfy every rule
 * there. An accepted frame whose payload is all in the input then goes
 * where the host sends it: the payload check, and every canonical encoder
 * that takes its kind, which must not fail for any reason but a documented
 * one. A video frame's payload is read again byte by byte by its layout
 * (decoders/video.h; fuzz/video_check.h) and each sampled frame encoded.
 */
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "video_check.h"

/* -std=c11 -Wpedantic: 128-bit arithmetic is a GNU extension. */
__extension__ typedef unsigned __int128 u128;

static const uint32_t rates[4] = { 0, 16000, 44100, 48000 };

static void limits_from(struct fuzz_flags fl, struct limits *lim)
{
	limits_default(lim);
	if (!fl.present)
		return;
	lim->keep_alpha = fl.a & 1u;
	lim->sample_format = (fl.a & 2u) ? FRAME_FORMAT_S16 : FRAME_FORMAT_F32;
	lim->mono = (fl.a >> 2) & 1u;
	lim->out_rate = rates[(fl.a >> 3) & 3u];
	switch (fl.a >> 5) {
	case 1: lim->allowed_types = AIRLOCK_TYPES_IMAGE; break;
	case 2: lim->allowed_types = AIRLOCK_TYPES_AUDIO; break;
	case 3: lim->expect = AIRLOCK_TYPE_PNG; break;
	case 4: lim->expect = AIRLOCK_TYPE_FLAC; break;
	case 5: lim->allowed_types = AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_JPEG) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_WAV); break;
	default: break;
	}
	if (fl.b & 1u) {
		lim->max_width = lim->max_height = 64;
		lim->max_pixels = 2048;
	}
	if (fl.b & 2u) {
		lim->max_channels = 2;
		lim->max_seconds = 1;
		lim->max_decoded_bytes = 4096;
	}
	static const uint32_t rules[4] = { AIRLOCK_SAMPLING_VLLM, AIRLOCK_SAMPLING_VLLM, AIRLOCK_SAMPLING_QWEN3,
					   AIRLOCK_SAMPLING_QWEN_VL_UTILS };
	if (fl.b & 4u)
		lim->track = AIRLOCK_TRACK_VIDEO;
	lim->video_sampling = rules[(fl.b >> 3) & 3u];
	if (fl.b & 0x20u)
		lim->video_max_frame_pixels = 256;
	if (fl.b & 0x40u) {
		lim->video_max_sampled = 8;
		lim->video_max_decoded_frames = 1000;
		lim->video_max_output_bytes = 4096;
		lim->max_seconds = 10;
	}
}

static int type_ok(const struct limits *lim, uint32_t t)
{
	return t > AIRLOCK_TYPE_NONE && t < AIRLOCK_TYPE_COUNT_ && (lim->allowed_types & AIRLOCK_TYPE_BIT(t)) &&
	       (lim->expect == AIRLOCK_TYPE_NONE || lim->expect == t);
}

/* docs/protocol.md, "Validation", for an accepted success frame, in 128-bit arithmetic. */
static void check_accepted(const struct frame_header *h, const struct limits *lim, uint64_t plen)
{
	FUZZ_CHECK(h->magic == FRAME_MAGIC && h->version == FRAME_VERSION && h->reserved == 0);
	FUZZ_CHECK(h->limit == 0 && h->mime == 0 && type_ok(lim, h->type));
	FUZZ_CHECK(plen == h->payload_len);
	if (h->kind == FRAME_KIND_IMAGE) {
		FUZZ_CHECK(AIRLOCK_TYPE_BIT(h->type) & AIRLOCK_TYPES_IMAGE);
		FUZZ_CHECK(h->format == FRAME_FORMAT_U8 && h->channels == (lim->keep_alpha ? 4u : 3u));
		FUZZ_CHECK(h->width >= 1 && h->width <= lim->max_width);
		FUZZ_CHECK(h->height >= 1 && h->height <= lim->max_height);
		FUZZ_CHECK((u128)h->width * h->height <= lim->max_pixels);
		FUZZ_CHECK(h->rate == 0 && h->frames == 0);
		FUZZ_CHECK((u128)h->width * h->height * h->channels == plen);
		return;
	}
	if (h->kind == FRAME_KIND_VIDEO) {
		/* decoders/video.h: sampled RGB8 frames of a container's video track, asked for. */
		FUZZ_CHECK(h->type == AIRLOCK_TYPE_MP4 || h->type == AIRLOCK_TYPE_MATROSKA);
		FUZZ_CHECK(lim->track == AIRLOCK_TRACK_VIDEO);
		FUZZ_CHECK(h->format == FRAME_FORMAT_U8 && h->channels == 3 && h->rate == 0);
		FUZZ_CHECK((h->changes & ~(uint32_t)(AIRLOCK_CHANGE_METADATA_DROPPED | AIRLOCK_CHANGE_ROTATED |
						     AIRLOCK_CHANGE_TRACKS_DROPPED | AIRLOCK_CHANGE_DOWNSCALED)) == 0);
		FUZZ_CHECK(h->width >= 1 && h->width <= lim->max_width);
		FUZZ_CHECK(h->height >= 1 && h->height <= lim->max_height);
		FUZZ_CHECK((u128)h->width * h->height <= lim->max_pixels);
		if (lim->video_max_frame_pixels)
			FUZZ_CHECK((u128)h->width * h->height <= lim->video_max_frame_pixels);
		FUZZ_CHECK(h->frames >= 1 && h->frames <= lim->video_max_sampled);
		const u128 px = (u128)h->frames * h->width * h->height * 3;
		FUZZ_CHECK(px <= lim->video_max_output_bytes);
		FUZZ_CHECK((px + 7) / 8 * 8 + (u128)h->frames * VIDEO_ENTRY_SIZE + VIDEO_BLOCK_SIZE == plen);
		return;
	}
	FUZZ_CHECK(h->kind == FRAME_KIND_AUDIO);
	/* The audio track of an MP4 or Matroska file is audio of that type; only those have other tracks. */
	FUZZ_CHECK(AIRLOCK_TYPE_BIT(h->type) & (AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA));
	if (h->changes & AIRLOCK_CHANGE_TRACKS_DROPPED)
		FUZZ_CHECK(AIRLOCK_TYPE_BIT(h->type) & AIRLOCK_TYPES_MEDIA);
	FUZZ_CHECK(h->format == lim->sample_format && h->width == 0 && h->height == 0);
	FUZZ_CHECK(lim->out_rate ? h->rate == lim->out_rate : h->rate >= lim->min_rate && h->rate <= lim->max_rate);
	FUZZ_CHECK(h->channels >= 1 && h->channels <= (lim->mono ? 1u : lim->max_channels));
	FUZZ_CHECK(h->frames >= 1 && (u128)h->frames <= (u128)lim->max_seconds * h->rate);
	const unsigned bytes = h->format == FRAME_FORMAT_S16 ? 2 : 4;
	FUZZ_CHECK((u128)h->frames * h->channels * bytes == plen);
	FUZZ_CHECK(plen <= lim->max_decoded_bytes);
	if (h->changes & AIRLOCK_CHANGE_DOWNMIXED)
		FUZZ_CHECK(lim->mono);
	if (h->changes & AIRLOCK_CHANGE_RESAMPLED)
		FUZZ_CHECK(lim->out_rate);
}

/* The host's next steps with an accepted frame and its whole payload. */
static void host_side(const struct frame_header *h, const struct limits *lim, const uint8_t *payload, size_t len)
{
	if (frame_validate_payload(h, lim, payload, len) != AIRLOCK_OK) {
		FUZZ_CHECK((h->kind == FRAME_KIND_AUDIO && h->format == FRAME_FORMAT_F32) ||
			   h->kind == FRAME_KIND_VIDEO);
		return;
	}
	static const airlock_format image_formats[] = { AIRLOCK_FORMAT_PNG, AIRLOCK_FORMAT_JPEG, AIRLOCK_FORMAT_RAW };
	if (h->kind == FRAME_KIND_VIDEO) {
		/* Read again by its layout, then each sampled frame encoded as an image. */
		fuzz_video_payload(h, lim, payload, len);
		for (size_t i = 0; i < 3; i++)
			fuzz_video_encode(h, payload, len, image_formats[i]);
		return;
	}
	static const airlock_format audio_formats[] = { AIRLOCK_FORMAT_WAV, AIRLOCK_FORMAT_FLAC, AIRLOCK_FORMAT_RAW };
	for (size_t i = 0; i < 3; i++)
		fuzz_encode(h, payload, len, h->kind == FRAME_KIND_IMAGE ? image_formats[i] : audio_formats[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_flags fl = fuzz_trailer(data, &size);
	if (size < FRAME_HEADER_SIZE)
		return 0;
	struct limits lim;
	limits_from(fl, &lim);

	struct frame_header h;
	frame_header_unpack(data, &h);
	uint64_t plen = 12345;
	int rc = frame_validate(&h, &lim, &plen);

	/* Packing what was unpacked gives the same bytes: no field is lost or widened. */
	uint8_t again[FRAME_HEADER_SIZE];
	frame_header_pack(&h, again);
	FUZZ_CHECK(memcmp(again, data, FRAME_HEADER_SIZE) == 0);

	if (rc != AIRLOCK_OK) {
		/* Refused: protocol, or a worker's own well-formed error; never a payload. */
		FUZZ_CHECK(plen == 0);
		FUZZ_CHECK(rc == AIRLOCK_E_PROTOCOL || (rc == h.status && h.payload_len == 0 && h.kind == 0));
		return 0;
	}
	FUZZ_CHECK(h.status == AIRLOCK_OK);
	check_accepted(&h, &lim, plen);
	if (plen == size - FRAME_HEADER_SIZE)
		host_side(&h, &lim, data + FRAME_HEADER_SIZE, (size_t)plen);
	return 0;
}
