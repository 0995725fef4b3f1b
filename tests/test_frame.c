/* SPDX-License-Identifier: MIT */
/*
 * frame_validate(), the trust boundary, one field at a time: a valid header
 * passes, and each field made wrong (too big, zero, inconsistent,
 * overflowing) is a protocol error. The same for images and for audio.
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

/* 1 s of 48 kHz stereo float from a WAV: the default limits' sample format. */
static struct frame_header good_audio(void)
{
	return (struct frame_header){ .magic = FRAME_MAGIC,
				      .version = FRAME_VERSION,
				      .kind = FRAME_KIND_AUDIO,
				      .format = FRAME_FORMAT_F32,
				      .type = AIRLOCK_TYPE_WAV,
				      .rate = 48000,
				      .channels = 2,
				      .frames = 48000,
				      .changes = AIRLOCK_CHANGE_FORMAT_CONVERTED | AIRLOCK_CHANGE_METADATA_DROPPED,
				      .payload_len = 48000u * 2 * 4 };
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

#define BAD_AUDIO(field_expr, why)                                                 \
	do {                                                                       \
		struct frame_header h = good_audio();                              \
		field_expr;                                                        \
		int rc_ = v(&h);                                                   \
		if (!tap_ok(rc_ == AIRLOCK_E_PROTOCOL, "rejected audio: %s", why)) \
			tap_diag("got %s", airlock_error_name(rc_));               \
	} while (0)

/* A header with frames of audio and the payload its shape implies. */
#define SHAPE(fr, ch, bytes) (h.frames = (fr), h.channels = (ch), h.payload_len = (uint64_t)(fr) * (ch) * (bytes))

static void bad_audio_fields(void)
{
	BAD_AUDIO(h.type = AIRLOCK_TYPE_PNG, "an image type on an audio frame");
	BAD_AUDIO(h.type = AIRLOCK_TYPE_JPEG, "JPEG on an audio frame");
	BAD_AUDIO(h.type = AIRLOCK_TYPE_NONE, "no type");
	BAD_AUDIO(h.kind = FRAME_KIND_IMAGE, "audio shape and type with the image kind");
	BAD_AUDIO((h.format = FRAME_FORMAT_S16, h.payload_len = 48000u * 2 * 2), "s16 when f32 was asked for");
	BAD_AUDIO((h.format = FRAME_FORMAT_U8, h.payload_len = 48000u * 2), "U8 samples");
	BAD_AUDIO(h.format = 0, "format zero");
	BAD_AUDIO(h.format = 9, "unknown format");
	BAD_AUDIO(h.width = 1, "a width on audio");
	BAD_AUDIO(h.height = 1, "a height on audio");
	BAD_AUDIO((h.width = 48000, h.height = 2), "an image shape on audio");
	BAD_AUDIO(h.rate = 0, "rate zero");
	BAD_AUDIO(h.rate = 7999, "rate below min_rate");
	BAD_AUDIO(h.rate = 192001, "rate above max_rate");
	BAD_AUDIO(h.rate = UINT32_MAX, "rate 2^32 - 1");
	BAD_AUDIO(SHAPE(48000, 0, 4), "zero channels");
	BAD_AUDIO(SHAPE(48000, 9, 4), "channels over max_channels");
	BAD_AUDIO(SHAPE(48000, 65, 4), "channels over the widest max_channels");
	BAD_AUDIO(SHAPE(48000, 0x80000000u, 4), "channels 2^31 with the payload they imply");
	BAD_AUDIO((h.channels = UINT32_MAX, h.frames = 1ull << 32, h.payload_len = UINT64_MAX << 34),
		  "channels 2^32 - 1, frames 2^32, payload the wrapped product");
	BAD_AUDIO(SHAPE(0, 2, 4), "zero frames");
	BAD_AUDIO(SHAPE(600u * 48000 + 1, 2, 4), "frames over max_seconds at the frame's rate");
	BAD_AUDIO((h.frames = 1ull << 63, h.payload_len = 0), "frames 2^63, payload the wrapped product");
	BAD_AUDIO((h.frames = (1ull << 62) + 1, h.payload_len = 8), "frames 2^62 + 1, payload the wrapped product");
	BAD_AUDIO((h.frames = UINT64_MAX, h.payload_len = UINT64_MAX - 7), "frames 2^64 - 1");
	BAD_AUDIO(h.payload_len -= 1, "payload one byte short of the shape");
	BAD_AUDIO(h.payload_len += 1, "payload one byte over the shape");
	BAD_AUDIO(h.payload_len = 48000u * 2 * 2, "payload sized for s16 on an f32 frame");
	BAD_AUDIO(h.payload_len = 0, "no payload for a success frame");
	BAD_AUDIO(h.payload_len = UINT64_MAX, "payload length near 2^64");
	/* Within max_seconds and max_channels, but 921 MB of samples. */
	BAD_AUDIO(SHAPE(600u * 48000, 8, 4), "payload over max_decoded_bytes");
	BAD_AUDIO(h.changes |= AIRLOCK_CHANGE_ROTATED, "an image-only change bit (rotated)");
	BAD_AUDIO(h.changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED, "an image-only change bit (alpha flattened)");
	BAD_AUDIO(h.changes |= AIRLOCK_CHANGE_INTERLACE_REMOVED, "an image-only change bit (interlace removed)");
	BAD_AUDIO(h.changes |= 1u << 31, "an unknown change bit");
	BAD_AUDIO(h.limit = AIRLOCK_MAX_SECONDS, "a tripped limit on a success frame");
	BAD_AUDIO(h.reserved = 1, "reserved field set");
}

/* Audio headers whose validity depends on the request's limits. */
static void audio_limits(void)
{
	struct frame_header h = good_audio();
	uint64_t n = 0;
	int rc;

	for (uint32_t t = AIRLOCK_TYPE_WAV; t <= AIRLOCK_TYPE_AIFF; t++) {
		h.type = t;
		n = 0;
		tap_ok(frame_validate(&h, &lim, &n) == AIRLOCK_OK && n == 48000u * 2 * 4,
		       "audio: a valid %s frame passes with its payload length", airlock_type_name((airlock_type)t));
	}
	h = good_audio();
	SHAPE(600u * 48000, 2, 4);
	tap_ok(frame_validate(&h, &lim, &n) == AIRLOCK_OK && n == 600ull * 48000 * 2 * 4,
	       "audio: exactly max_seconds of frames passes");
	h = good_audio();
	h.rate = 8000;
	tap_ok(v(&h) == AIRLOCK_OK, "audio: rate at min_rate passes");
	h.rate = 192000;
	tap_ok(v(&h) == AIRLOCK_OK, "audio: rate at max_rate passes");
	h = good_audio();
	SHAPE(48000, 8, 4);
	tap_ok(v(&h) == AIRLOCK_OK, "audio: channels at max_channels pass");

	lim.max_decoded_bytes = 48000u * 2 * 4;
	h = good_audio();
	tap_ok(v(&h) == AIRLOCK_OK, "audio: payload at max_decoded_bytes passes");
	lim.max_decoded_bytes -= 1;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: payload one byte over max_decoded_bytes");
	limits_default(&lim);

	lim.max_seconds = 1;
	h = good_audio();
	tap_ok(v(&h) == AIRLOCK_OK, "audio: max_seconds 1, 1 s passes");
	SHAPE(48001, 2, 4);
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: max_seconds 1, one frame more");
	limits_default(&lim);

	/* s16 asked for: s16 passes with its own payload length, f32 does not. */
	lim.sample_format = FRAME_FORMAT_S16;
	h = good_audio();
	h.format = FRAME_FORMAT_S16;
	h.payload_len = 48000u * 2 * 2;
	tap_ok(frame_validate(&h, &lim, &n) == AIRLOCK_OK && n == 48000u * 2 * 2,
	       "audio: s16 passes when asked for, 2 bytes a sample");
	h.payload_len = 48000u * 2 * 4;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: s16 with an f32-sized payload");
	h = good_audio();
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: f32 when s16 was asked for");
	limits_default(&lim);

	/* An output rate binds the frame's rate, whatever the source limits. */
	lim.out_rate = 16000;
	lim.min_rate = 22050;
	h = good_audio();
	h.rate = 16000;
	SHAPE(16000, 2, 4);
	tap_ok(v(&h) == AIRLOCK_OK, "audio: the output rate passes, even below min_rate");
	h.rate = 48000;
	SHAPE(48000, 2, 4);
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: a source rate within limits when out_rate is set");
	h.rate = 16001;
	SHAPE(16000, 2, 4);
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: rate one off out_rate");
	h.rate = 16000;
	SHAPE(600u * 16000 + 1, 2, 4);
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: frames over max_seconds at out_rate");
	limits_default(&lim);

	/* Mono: one channel, however many max_channels allows. */
	lim.mono = 1;
	h = good_audio();
	SHAPE(48000, 1, 4);
	tap_ok(v(&h) == AIRLOCK_OK, "audio: one channel passes when mono");
	SHAPE(48000, 2, 4);
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: two channels when mono");
	SHAPE(48000, 0, 4);
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: zero channels when mono");
	limits_default(&lim);

	/* The allowlist and the expectation bind audio too. */
	lim.allowed_types = AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_FLAC);
	h = good_audio();
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: a WAV when only images and FLAC are allowed");
	h.type = AIRLOCK_TYPE_FLAC;
	tap_ok(v(&h) == AIRLOCK_OK, "audio: the allowed FLAC passes");
	lim.allowed_types = AIRLOCK_TYPES_IMAGE;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: any audio when only images are allowed");
	limits_default(&lim);
	lim.expect = AIRLOCK_TYPE_FLAC;
	h = good_audio();
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: a WAV when FLAC was expected");
	h.type = AIRLOCK_TYPE_FLAC;
	tap_ok(v(&h) == AIRLOCK_OK, "audio: the expected FLAC passes");
	limits_default(&lim);

	/* The widest limits airlock_set() allows: the products still cannot wrap. */
	lim.max_seconds = 86400;
	lim.max_rate = 768000;
	lim.max_channels = 64;
	lim.max_decoded_bytes = 1ull << 40;
	h = good_audio();
	h.rate = 768000;
	SHAPE(86400ull * 768000, 64, 4);
	rc = frame_validate(&h, &lim, &n);
	tap_ok(rc == AIRLOCK_E_PROTOCOL, "rejected audio: widest limits, 24 hours of 64 channels (17 TB)");
	SHAPE(1ull << 32, 64, 4);
	tap_ok(v(&h) == AIRLOCK_OK, "audio: widest limits, exactly 2^40 bytes of payload passes");
	h.frames = (1ull << 62) + 1;
	h.payload_len = 64 * 4;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: widest limits, frames 2^62 + 1 with the wrapped payload");
	h.frames = 1ull << 63;
	h.payload_len = 0;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: widest limits, frames 2^63 with the wrapped payload");
	limits_default(&lim);

	/* Limits no airlock_set() call can make: the validator must not lean on the setters' ranges. */
	lim.max_seconds = UINT32_MAX;
	lim.max_rate = UINT32_MAX;
	lim.max_channels = UINT32_MAX;
	lim.max_decoded_bytes = UINT64_MAX;
	h = good_audio();
	h.rate = UINT32_MAX;
	h.channels = 4;
	h.frames = (1ull << 62) + 1;
	h.payload_len = 16; /* (2^62 + 1) * 4 * 4 wrapped to 64 bits */
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL,
	       "rejected audio: limits beyond the setters, frames 2^62 + 1, wrapped payload");
	limits_default(&lim);

	/* Changes the request did not ask for cannot have happened. */
	h = good_audio();
	h.changes |= AIRLOCK_CHANGE_DOWNMIXED;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: downmixed without mono");
	h = good_audio();
	h.changes |= AIRLOCK_CHANGE_RESAMPLED;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected audio: resampled without an output rate");
	lim.mono = 1;
	lim.out_rate = 48000;
	h = good_audio();
	h.channels = 1;
	h.payload_len = 48000u * 4;
	h.changes |= AIRLOCK_CHANGE_DOWNMIXED | AIRLOCK_CHANGE_RESAMPLED;
	tap_ok(v(&h) == AIRLOCK_OK, "audio: downmixed and resampled when both were asked for");
	limits_default(&lim);
}

static void bad_fields(void)
{
	BAD(h.magic ^= 1, "wrong magic");
	BAD(h.version = FRAME_VERSION + 1, "unknown version");
	BAD(h.reserved = 1, "reserved field set");
	BAD(h.kind = 0, "kind zero");
	BAD(h.kind = 7, "unknown kind");
	BAD(h.format = FRAME_FORMAT_F32, "audio sample format on an image");
	BAD(h.type = AIRLOCK_TYPE_NONE, "no type");
	BAD(h.type = 99, "type out of range");
	BAD(h.type = AIRLOCK_TYPE_WAV, "an audio type on an image frame");
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
	BAD(h.mime = 5, "a MIME index on a success frame");
	BAD((lim.icc = 0, h.changes = AIRLOCK_CHANGE_ICC_CONVERTED), "icc_converted when ICC was off");
	lim.icc = 1;
	BAD((lim.allowed_types = AIRLOCK_TYPES_DEFAULT, h.type = AIRLOCK_TYPE_TIFF), "TIFF off the default allowlist");
	lim.allowed_types = AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO;
}

/* The MIME index names an unsupported input, from the table, and nothing else. */
static void mime_index_field(void)
{
	struct frame_header h = { .magic = FRAME_MAGIC,
				  .version = FRAME_VERSION,
				  .status = AIRLOCK_E_UNSUPPORTED,
				  .mime = mime_index("image/heic") };
	tap_ok(h.mime > 3 && strcmp(mime_name(h.mime), "image/heic") == 0, "image/heic is in the table");
	tap_ok(v(&h) == AIRLOCK_E_UNSUPPORTED, "an unsupported frame may name its MIME type");
	h.mime = mime_count() - 1;
	tap_ok(v(&h) == AIRLOCK_E_UNSUPPORTED, "the table's last index passes");
	h.mime = mime_count();
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected: an index one past the table");
	h.mime = UINT32_MAX;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected: index 2^32 - 1");
	h = (struct frame_header){ .magic = FRAME_MAGIC,
				   .version = FRAME_VERSION,
				   .status = AIRLOCK_E_MALFORMED,
				   .type = AIRLOCK_TYPE_PNG,
				   .mime = 5 };
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected: a MIME index on a malformed frame");
	tap_ok(mime_index("image/x-brand-new") == 1 && mime_index("audio/x-new") == 2 &&
		       mime_index("video/x-new") == 3 && strcmp(mime_name(1), "image/*") == 0,
	       "a media type not in the table falls to its class");
	tap_ok(mime_index("text/plain") == 0 && mime_index("application/zip") == 0 &&
		       mime_index("application/octet-stream") == 0 && mime_name(0) == NULL,
	       "text, archives and unknown bytes are no media type");
}

/* Every image type airlock decodes may carry a success frame. */
static void image_types(void)
{
	static const airlock_type t[] = { AIRLOCK_TYPE_PNG, AIRLOCK_TYPE_JPEG, AIRLOCK_TYPE_WEBP,
					  AIRLOCK_TYPE_GIF, AIRLOCK_TYPE_BMP,  AIRLOCK_TYPE_TIFF };
	int ok = 0;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct frame_header h = good();
		h.type = t[i];
		ok += v(&h) == AIRLOCK_OK;
	}
	tap_ok(ok == (int)(sizeof(t) / sizeof(t[0])), "a success frame of each image type passes (%d)", ok);
}

/* Float payloads: every sample finite, or the frame is a lie; other formats are not looked at. */
static void payload_values(void)
{
	const struct frame_header a = good_audio();
	struct frame_header s16 = good_audio(), img = good();
	const float ok[4] = { 0.0f, -1.0f, 3.0e38f, -1.0e-40f };
	const float bad[3] = { __builtin_inff(), -__builtin_inff(), __builtin_nanf("") };

	s16.format = FRAME_FORMAT_S16;
	tap_ok(frame_validate_payload(&a, &lim, (const uint8_t *)ok, sizeof(ok)) == AIRLOCK_OK,
	       "float payload: zero, -1, 3e38 and a denormal pass");
	for (int i = 0; i < 3; i++) {
		float p[4] = { 0.5f, 0.5f, 0.5f, 0.5f };
		p[3] = bad[i];
		tap_ok(frame_validate_payload(&a, &lim, (const uint8_t *)p, sizeof(p)) == AIRLOCK_E_PROTOCOL,
		       "float payload: a %s last sample is rejected",
		       i == 0	? "+inf"
		       : i == 1 ? "-inf"
				: "NaN");
	}
	static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	tap_ok(frame_validate_payload(&s16, &lim, ones, sizeof(ones)) == AIRLOCK_OK &&
		       frame_validate_payload(&img, &lim, ones, sizeof(ones)) == AIRLOCK_OK,
	       "s16 and image payloads are not read as floats");
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

	lim.allowed_types = AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO;
	bad_fields();
	payload_values();
	mime_index_field();
	image_types();

	h = good_audio();
	n = 0;
	tap_ok(frame_validate(&h, &lim, &n) == AIRLOCK_OK && n == 48000u * 2 * 4,
	       "a valid audio header passes with its payload length");
	h.frames = 0x0102030405060708ull;
	h.rate = 0x11223344u;
	frame_header_pack(&h, b);
	frame_header_unpack(b, &back);
	tap_ok(memcmp(&h, &back, sizeof(h)) == 0 && b[8] == FRAME_KIND_AUDIO && b[28] == 0x44,
	       "an audio header round-trips, kind and rate where the protocol puts them");
	bad_audio_fields();
	audio_limits();

	/* Expectations: the request's expected type binds the worker too. */
	lim.expect = AIRLOCK_TYPE_JPEG;
	h = good();
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected: a PNG when JPEG was expected");
	lim.expect = AIRLOCK_TYPE_NONE;
	lim.allowed_types = AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_JPEG) | AIRLOCK_TYPES_AUDIO;
	tap_ok(v(&h) == AIRLOCK_E_PROTOCOL, "rejected: a PNG when it is not on the allowlist");
	lim.allowed_types = AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO;
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

	/* Audio error frames: the code and the key come through, no shape. */
	e = (struct frame_header){ .magic = FRAME_MAGIC,
				   .version = FRAME_VERSION,
				   .status = AIRLOCK_E_TOO_LONG,
				   .type = AIRLOCK_TYPE_FLAC,
				   .limit = AIRLOCK_MAX_SECONDS };
	tap_ok(v(&e) == AIRLOCK_E_TOO_LONG, "an audio error frame yields too_long, naming max_seconds");
	e.status = AIRLOCK_E_OUT_OF_RANGE;
	e.limit = AIRLOCK_MAX_CHANNELS;
	tap_ok(v(&e) == AIRLOCK_E_OUT_OF_RANGE, "an audio error frame yields out_of_range, naming max_channels");
	e.status = AIRLOCK_E_INPUT_TOO_BIG;
	e.limit = AIRLOCK_MAX_AUDIO_INPUT_BYTES;
	tap_ok(v(&e) == AIRLOCK_E_INPUT_TOO_BIG, "an audio error frame may name max_audio_input_bytes");
	e.rate = 48000;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: an error frame with a rate");
	e.rate = 0;
	e.frames = 1;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: an error frame with frames");
	e.frames = 0;
	e.kind = FRAME_KIND_AUDIO;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: an error frame with a kind");
	return tap_done();
}
