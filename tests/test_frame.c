/* SPDX-License-Identifier: MIT */
/*
 * frame_validate(), the trust boundary, one field at a time: a valid header
 * passes, and each field made wrong (too big, zero, inconsistent,
 * overflowing) is a protocol error.
 */
#include <string.h>

#include "proto.h"
#include "tap.h"

static struct limits lim;

static struct frame_header good(void)
{
	return (struct frame_header){ .magic = FRAME_MAGIC,
				      .version = FRAME_VERSION,
				      .kind = FRAME_KIND_IMAGE,
				      .format = FRAME_FORMAT_U8,
				      .type = AIRLOCK_TYPE_PNG,
				      .width = 640,
				      .height = 480,
				      .channels = 3,
				      .changes = AIRLOCK_CHANGE_ROTATED,
				      .payload_len = 640u * 480 * 3 };
}

static int v(const struct frame_header *h)
{
	uint64_t n;
	return frame_validate(h, &lim, &n);
}

#define BAD(field_expr, why)                                                 \
	do {                                                                 \
		struct frame_header h = good();                              \
		field_expr;                                                  \
		int rc_ = v(&h);                                             \
		if (!tap_ok(rc_ == AIRLOCK_E_PROTOCOL, "rejected: %s", why)) \
			tap_diag("got %s", airlock_error_name(rc_));         \
	} while (0)

static void bad_fields(void)
{
	BAD(h.magic ^= 1, "wrong magic");
	BAD(h.version = 2, "unknown version");
	BAD(h.reserved = 1, "reserved field set");
	BAD(h.kind = 0, "kind zero");
	BAD(h.kind = 7, "unknown kind");
	BAD(h.format = FRAME_FORMAT_F32, "audio sample format on an image");
	BAD(h.type = AIRLOCK_TYPE_NONE, "no type");
	BAD(h.type = 99, "type out of range");
	BAD(h.type = AIRLOCK_TYPE_WAV, "type not on the allowlist");
	BAD(h.channels = 4, "RGBA when RGB was asked for");
	BAD(h.channels = 0, "zero channels");
	BAD(h.width = 0, "zero width");
	BAD(h.height = 0, "zero height");
	BAD((h.width = 65536, h.payload_len = 65536ull * 480 * 3), "width over max_width");
	BAD((h.height = 65536, h.payload_len = 640ull * 65536 * 3), "height over max_height");
	BAD((h.width = 20000, h.height = 20000, h.payload_len = 20000ull * 20000 * 3), "pixels over max_pixels");
	BAD((h.width = 0xffffffffu, h.height = 0xffffffffu, h.payload_len = 3), "dimensions whose product overflows");
	BAD(h.payload_len -= 1, "payload one byte short of the shape");
	BAD(h.payload_len += 1, "payload one byte over the shape");
	BAD(h.payload_len = 0, "no payload for a success frame");
	BAD(h.payload_len = UINT64_MAX, "payload length near 2^64");
	BAD(h.rate = 44100, "a sample rate on an image");
	BAD(h.frames = 1, "a frame count on an image");
	BAD(h.changes = 1u << 31, "an unknown change bit");
	BAD(h.limit = AIRLOCK_MAX_PIXELS, "a tripped limit on a success frame");
}

int main(void)
{
	limits_default(&lim);

	struct frame_header h = good();
	uint64_t n = 0;
	tap_ok(frame_validate(&h, &lim, &n) == AIRLOCK_OK && n == 640u * 480 * 3,
	       "a valid header passes with its payload length");

	uint8_t b[FRAME_HEADER_SIZE];
	struct frame_header back;
	h.frames = 0x0102030405060708ull;
	frame_header_pack(&h, b);
	frame_header_unpack(b, &back);
	tap_ok(memcmp(&h, &back, sizeof(h)) == 0, "pack and unpack round-trip every field");
	tap_ok(b[0] == 'L' && b[1] == 'A' && b[2] == 'R' && b[3] == 'F' && b[32] == 0x08,
	       "the wire format is little-endian");

	bad_fields();

	/* Expectations: the request's expected type binds the worker too. */
	lim.expect = AIRLOCK_TYPE_JPEG;
	h = good();
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected: a PNG when JPEG was expected");
	lim.expect = AIRLOCK_TYPE_NONE;
	lim.keep_alpha = 1;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected: RGB when RGBA was asked for");
	h.channels = 4;
	h.payload_len = 640u * 480 * 4;
	tap_ok(v(&h) == AIRLOCK_OK, "RGBA passes when asked for");
	lim.keep_alpha = 0;

	/* Error frames: the worker's code comes through, with nothing else in them. */
	struct frame_header e = {
		.magic = FRAME_MAGIC, .version = FRAME_VERSION, .status = AIRLOCK_E_MALFORMED, .type = AIRLOCK_TYPE_PNG
	};
	tap_ok(v(&e) == AIRLOCK_E_MALFORMED, "an error frame yields the worker's code");
	e.limit = AIRLOCK_MAX_PIXELS;
	e.status = AIRLOCK_E_TOO_LARGE;
	tap_ok(v(&e) == AIRLOCK_E_TOO_LARGE, "an error frame may name the limit that tripped");
	e.width = 1;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: an error frame with a shape");
	e.width = 0;
	e.payload_len = 1;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: an error frame with a payload");
	e.payload_len = 0;
	e.status = AIRLOCK_E_SECCOMP;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: a worker claiming a host-side sandbox event");
	e.status = AIRLOCK_E_TIMEOUT;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: a worker claiming a timeout");
	e.status = 1000;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: an unknown error code");
	e.status = AIRLOCK_E_MALFORMED;
	e.limit = 1000;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: an unknown limit key");
	return tap_done();
}
