/* SPDX-License-Identifier: MIT */
/*
 * The host's last step, shared by the harnesses: a frame it accepted,
 * encoded by airlock_encode() as the library would, checked to succeed
 * except for a documented refusal.
 */
#ifndef AIRLOCK_FUZZ_ENCODE_H
#define AIRLOCK_FUZZ_ENCODE_H

#include <math.h>

#include "fuzz.h"
#include "internal.h"
#include "proto.h"

static int fuzz_count_write(void *user, const void *buf, size_t len)
{
	fuzz_touch(buf, len);
	*(size_t *)user += len;
	return 0;
}

/* Encodes the frame h with its payload (len bytes, validated) as fmt. */
static void fuzz_encode(const struct frame_header *h, const uint8_t *payload, size_t len, airlock_format fmt)
{
	/* A copy of exactly len bytes, so ASan sees any read past the payload. */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, payload, len);
	airlock_result r;
	result_from_header(&r, h, 0, copy, len);
	size_t written = 0;
	int rc = airlock_encode(NULL, &r, fmt, fuzz_count_write, &written);
	/* The documented refusals: JPEG's cap on a side, FLAC's channel and rate range. */
	if (rc == AIRLOCK_E_INVALID_ARG && fmt == AIRLOCK_FORMAT_JPEG)
		FUZZ_CHECK(r.width > 65500 || r.height > 65500);
	else if (rc == AIRLOCK_E_INVALID_ARG && fmt == AIRLOCK_FORMAT_FLAC)
		FUZZ_CHECK(r.channels > 8 || r.rate > 655350);
	else
		FUZZ_CHECK(rc == AIRLOCK_OK && written > 0);
	if (fmt == AIRLOCK_FORMAT_RAW)
		FUZZ_CHECK(rc != AIRLOCK_OK || written == len);
	free(r.pixels);
}

/*
 * A decoded audio frame's samples and the host's steps with it, for the
 * audio and media harnesses: float samples are finite (s16 ones are read
 * through), the validator takes the header and payload, and the frame is
 * encoded as out (0: not encoded).
 */
static inline void fuzz_audio_accepted(const struct frame *f, const struct limits *lim, airlock_format out)
{
	if (lim->sample_format == FRAME_FORMAT_F32) {
		for (size_t i = 0; i + 4 <= f->size; i += 4) {
			float x;
			memcpy(&x, f->pixels + i, 4);
			FUZZ_CHECK(isfinite(x));
		}
	} else {
		fuzz_touch(f->pixels, f->size);
	}
	struct frame_header h;
	uint64_t plen = 0;
	frame_header_from(f, AIRLOCK_OK, &h);
	FUZZ_CHECK(frame_validate(&h, lim, &plen) == AIRLOCK_OK && plen == f->size);
	FUZZ_CHECK(frame_validate_payload(&h, lim, f->pixels, f->size) == AIRLOCK_OK);
	if (out)
		fuzz_encode(&h, f->pixels, f->size, out);
}

#endif
