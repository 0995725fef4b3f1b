/* SPDX-License-Identifier: MIT */
/*
 * frame_validate(), the trust boundary, one field at a time: a valid header
 * passes, and each field made wrong (too big, zero, inconsistent,
 * overflowing) is a protocol error. The same for images and for audio.
 * Video frames (decoders/video.h) are built as a worker builds them, with
 * the real video_out_size(), sampling_compute() and packers, and then made
 * to lie one way at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"
#include "video.h"

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

/* ---- Video frames (decoders/video.h) ---- */

/* -std=c11 -Wpedantic: 128-bit arithmetic is a GNU extension. */
__extension__ typedef unsigned __int128 u128;

/* A video frame as a worker makes it: header, payload, and where the trailer's parts are. */
struct vframe {
	struct frame_header h;
	uint8_t *p;
	size_t len;
	uint64_t px, entries; /* pixel bytes; offset of the first entry */
	uint64_t idx[SAMPLING_MAX_CAP < 1024 ? SAMPLING_MAX_CAP : 1024];
	int64_t pts[1024];
	struct video_block b;
};

/*
 * seen decoded frames at num/den fps of sw x sh shown rotated by rot, under
 * lim: the output size from video_out_size(), the indices from
 * sampling_compute() with the request's rule (video_sampling_request()),
 * each frame's time its index times the frame interval. dn frames more
 * (the last one repeated) or fewer than the rule picks, for a lying T.
 * 1 when it could be built.
 */
static int make_video_n(struct vframe *v, uint64_t seen, uint32_t num, uint32_t den, uint32_t sw, uint32_t sh,
			uint32_t rot, int dn)
{
	struct sampling_request req;
	uint32_t w, hgt, n;
	int scaled;
	uint64_t total;

	memset(v, 0, sizeof(*v));
	if (lim.video_max_sampled > 1023 ||
	    video_out_size(sw, sh, rot, lim.video_max_frame_pixels, &w, &hgt, &scaled) ||
	    video_sampling_request(&lim, &req) ||
	    sampling_compute(&req, seen, num, den, lim.video_max_sampled, &n, v->idx))
		return 0;
	n = (uint32_t)((int)n + dn);
	for (uint32_t i = 1; i < n; i++)
		if (v->idx[i] == 0 && v->idx[i - 1] != 0)
			v->idx[i] = v->idx[i - 1]; /* a frame more: the last one again */
	if (video_payload_size(n, w, hgt, &v->px, &total) != AIRLOCK_OK || (v->p = calloc(1, total)) == NULL)
		return 0;
	v->len = (size_t)total;
	for (uint64_t i = 0; i < v->px; i++)
		v->p[i] = (uint8_t)(i * 7 + 1);
	v->entries = (v->px + 7) & ~(uint64_t)7;
	const int64_t step = num ? (int64_t)((uint64_t)den * 1000000u / num) : 40000;
	for (uint32_t i = 0; i < n; i++) {
		v->pts[i] = (int64_t)v->idx[i] * step;
		video_entry_pack(v->pts[i], v->idx[i], v->p + v->entries + (uint64_t)i * VIDEO_ENTRY_SIZE);
	}
	v->b = (struct video_block){ .frames_seen = seen,
				     .duration_us = seen * (uint64_t)step,
				     .fps_num = num,
				     .fps_den = den,
				     .src_width = sw,
				     .src_height = sh,
				     .rotation = rot };
	video_block_pack(&v->b, v->p + v->len - VIDEO_BLOCK_SIZE);
	v->h = (struct frame_header){ .magic = FRAME_MAGIC,
				      .version = FRAME_VERSION,
				      .kind = FRAME_KIND_VIDEO,
				      .format = FRAME_FORMAT_U8,
				      .type = AIRLOCK_TYPE_MP4,
				      .width = w,
				      .height = hgt,
				      .channels = 3,
				      .frames = n,
				      .changes = (scaled ? AIRLOCK_CHANGE_DOWNSCALED : 0) |
						 (rot ? AIRLOCK_CHANGE_ROTATED : 0),
				      .payload_len = total };
	return 1;
}

static int make_video(struct vframe *v, uint64_t seen, uint32_t num, uint32_t den, uint32_t sw, uint32_t sh,
		      uint32_t rot)
{
	return make_video_n(v, seen, num, den, sw, sh, rot, 0);
}

/* The host's two steps: the header, then (the payload as long as it says) the payload. */
static int vcheck(const struct vframe *v)
{
	uint64_t n = 0;
	int rc = frame_validate(&v->h, &lim, &n);
	if (rc != AIRLOCK_OK)
		return rc;
	if (n != v->len)
		return -1;
	return frame_validate_payload(&v->h, &lim, v->p, v->len);
}

static void set_entry(struct vframe *v, uint32_t i, int64_t pts, uint64_t index)
{
	video_entry_pack(pts, index, v->p + v->entries + (uint64_t)i * VIDEO_ENTRY_SIZE);
}

static void repack_block(struct vframe *v)
{
	video_block_pack(&v->b, v->p + v->len - VIDEO_BLOCK_SIZE);
}

/* The base: 10 frames of 7x5 at 25 fps; vLLM's 32 frames are all 10, 1050 pixel bytes and 6 of padding. */
#define BASE(v) make_video((v), 10, 25, 1, 7, 5, 0)

#define VLIE(what, why)                                                                              \
	do {                                                                                         \
		struct vframe v_;                                                                    \
		const struct limits asked_ = lim;                                                    \
		video_limits_reset();                                                                \
		const int built_ = BASE(&v_);                                                        \
		lim = asked_;                                                                        \
		if (!built_) {                                                                       \
			tap_ok(0, "video: the base frame for \"%s\" could be built", why);           \
			break;                                                                       \
		}                                                                                    \
		struct vframe *v = &v_;                                                              \
		what;                                                                                \
		int rc_ = vcheck(v);                                                                 \
		if (!tap_ok(rc_ == AIRLOCK_E_PROTOCOL, "rejected video: %s", why))                   \
			tap_diag("got %d (%s)", rc_, rc_ >= 0 ? airlock_error_name(rc_) : "length"); \
		free(v->p);                                                                          \
	} while (0)

static void video_limits_reset(void)
{
	limits_default(&lim);
	lim.track = AIRLOCK_TRACK_VIDEO;
}

static void video_valid(void)
{
	struct vframe v;

	video_limits_reset();
	tap_ok(BASE(&v) && v.h.frames == 10 && v.px == 1050 && v.entries == 1056 && v.len == 1056 + 160 + 64,
	       "video: the base frame is 10 sampled frames of 7x5, 6 bytes of padding, 10 entries and the block");
	uint64_t n = 0;
	tap_ok(frame_validate(&v.h, &lim, &n) == AIRLOCK_OK && n == v.len, "video: its header passes, with its length");
	tap_ok(frame_validate_payload(&v.h, &lim, v.p, v.len) == AIRLOCK_OK, "video: its payload passes");
	v.h.type = AIRLOCK_TYPE_MATROSKA;
	tap_ok(vcheck(&v) == AIRLOCK_OK, "video: the same from Matroska passes");
	v.h.changes |= AIRLOCK_CHANGE_METADATA_DROPPED | AIRLOCK_CHANGE_TRACKS_DROPPED;
	tap_ok(vcheck(&v) == AIRLOCK_OK, "video: metadata and other tracks dropped pass");
	free(v.p);

	/* 1000 frames at 30000/1001, 64x48 shown turned, over a budget: 32 of them, linspace, downscaled, rotated. */
	lim.video_max_frame_pixels = 1000;
	tap_ok(make_video(&v, 1000, 30000, 1001, 64, 48, 90) && v.h.frames == 32 && v.idx[1] == 32 &&
		       v.idx[31] == 999 && v.h.width == 27 && v.h.height == 36 &&
		       v.h.changes == (AIRLOCK_CHANGE_DOWNSCALED | AIRLOCK_CHANGE_ROTATED) && vcheck(&v) == AIRLOCK_OK,
	       "video: 1000 frames of 64x48 turned 90 degrees, under a 1000-pixel budget, 32 sampled, pass (27x36)");
	free(v.p);
	video_limits_reset();

	/* The Qwen3-VL rule: its own count and indices pass under it and not under vLLM's. */
	lim.video_sampling = AIRLOCK_SAMPLING_QWEN3;
	tap_ok(make_video(&v, 90, 30, 1, 8, 8, 0) && v.h.frames == 6 && vcheck(&v) == AIRLOCK_OK,
	       "video: Qwen3-VL's rule, 3 s at 30 fps: 6 frames pass");
	lim.video_sampling = AIRLOCK_SAMPLING_VLLM;
	tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL, "rejected video: Qwen3-VL's frames when vLLM's rule was asked for");
	free(v.p);
	video_limits_reset();

	/* Unknown rate (0/0): vLLM's rule does not need one. A video of one frame. */
	tap_ok(make_video(&v, 1, 0, 0, 1, 1, 0) && v.h.frames == 1 && vcheck(&v) == AIRLOCK_OK,
	       "video: one 1x1 frame of unknown rate passes");
	free(v.p);

	/* The limits bind exactly. */
	BASE(&v);
	lim.video_max_decoded_frames = 10;
	tap_ok(vcheck(&v) == AIRLOCK_OK, "video: frames_seen at video_max_decoded_frames passes");
	lim.video_max_decoded_frames = 9;
	tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL, "rejected video: frames_seen one over video_max_decoded_frames");
	video_limits_reset();
	lim.video_max_sampled = 10;
	tap_ok(vcheck(&v) == AIRLOCK_OK, "video: T at video_max_sampled passes");
	lim.video_max_sampled = 9;
	tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL, "rejected video: T one over video_max_sampled");
	video_limits_reset();
	lim.video_max_output_bytes = 1050;
	tap_ok(vcheck(&v) == AIRLOCK_OK, "video: pixels at video_max_output_bytes pass");
	lim.video_max_output_bytes = 1049;
	tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL, "rejected video: pixels one byte over video_max_output_bytes");
	video_limits_reset();
	lim.max_seconds = 1;
	v.b.duration_us = 1000000;
	repack_block(&v);
	set_entry(&v, 9, 1000000, 9);
	tap_ok(vcheck(&v) == AIRLOCK_OK, "video: a frame at max_seconds passes");
	set_entry(&v, 9, 1000001, 9);
	tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL, "rejected video: a frame's time one microsecond over max_seconds");
	video_limits_reset();
	free(v.p);

	/* The host's other limits on the source size, and the output within them. */
	lim.max_width = lim.max_height = 64;
	lim.max_pixels = 4096;
	lim.video_max_frame_pixels = 2048;
	tap_ok(make_video(&v, 10, 25, 1, 64, 64, 0) && v.h.width == 45 && vcheck(&v) == AIRLOCK_OK,
	       "video: a 64x64 source at the limits passes, downscaled to 45x45");
	free(v.p);
	tap_ok(make_video(&v, 10, 25, 1, 65, 40, 0) && v.h.width <= 64 && vcheck(&v) == AIRLOCK_E_PROTOCOL,
	       "rejected video: a source one pixel over max_width, downscaled within it");
	free(v.p);
	tap_ok(make_video(&v, 10, 25, 1, 40, 65, 0) && vcheck(&v) == AIRLOCK_E_PROTOCOL,
	       "rejected video: a source one pixel over max_height, downscaled within it");
	free(v.p);
	lim.max_pixels = 4095;
	tap_ok(make_video(&v, 10, 25, 1, 64, 64, 0) && vcheck(&v) == AIRLOCK_E_PROTOCOL,
	       "rejected video: a source one pixel over max_pixels, downscaled within it");
	free(v.p);
	video_limits_reset();

	/* More decoded frames than the default limit, all else as a worker would say. */
	tap_ok(make_video(&v, 108001, 1000, 1, 2, 2, 0) && vcheck(&v) == AIRLOCK_E_PROTOCOL,
	       "rejected video: 108001 frames seen (108 s at 1000 fps), over the default video_max_decoded_frames");
	lim.video_max_decoded_frames = 108001;
	tap_ok(vcheck(&v) == AIRLOCK_OK, "video: the same passes when the limit allows it");
	free(v.p);
	video_limits_reset();
}

static void video_lies(void)
{
	video_limits_reset();
	/* T: one frame more or fewer than the rule picks, the payload sized for it. */
	{
		struct vframe v;
		tap_ok(make_video_n(&v, 10, 25, 1, 7, 5, 0, 1) && v.h.frames == 11 && vcheck(&v) == AIRLOCK_E_PROTOCOL,
		       "rejected video: T one more than the rule picks (the last frame twice)");
		free(v.p);
		tap_ok(make_video_n(&v, 10, 25, 1, 7, 5, 0, -1) && v.h.frames == 9 && vcheck(&v) == AIRLOCK_E_PROTOCOL,
		       "rejected video: T one fewer than the rule picks");
		free(v.p);
	}
	VLIE(v->h.frames = 11, "T one more in the header alone");
	/* The entries. */
	VLIE(set_entry(v, 4, v->pts[4], 5), "an index off by one (one more)");
	VLIE(set_entry(v, 4, v->pts[4], 3), "an index off by one (one fewer)");
	VLIE(set_entry(v, 9, v->pts[9], 10), "the last index one past the frames seen");
	VLIE(set_entry(v, 5, v->pts[4], 5), "a time equal to the one before");
	VLIE(set_entry(v, 5, v->pts[4] - 1, 5), "a time before the one before");
	VLIE(set_entry(v, 0, 1, 0), "index 0 at time 1 us");
	VLIE(set_entry(v, 0, -1, 0), "index 0 at time -1 us");
	VLIE((set_entry(v, 0, -40000, 0), set_entry(v, 1, -1, 1)), "negative times");
	VLIE(set_entry(v, 9, (int64_t)v->b.duration_us + 1, 9), "a time past the duration");
	VLIE(set_entry(v, 9, INT64_MIN, 9), "a time of -2^63");
	/* Padding and the block's reserved bytes. */
	VLIE(v->p[v->px] = 1, "the first padding byte not zero");
	VLIE(v->p[v->entries - 1] = 0x80, "the last padding byte not zero");
	VLIE(v->p[v->len - VIDEO_BLOCK_SIZE + 36] = 1, "the first reserved block byte not zero");
	VLIE(v->p[v->len - 1] = 0xff, "the last reserved block byte not zero");
	/* The block's fields. */
	VLIE((v->b.frames_seen = 0, repack_block(v)), "frames_seen 0");
	VLIE((v->b.frames_seen = 11, repack_block(v)), "frames_seen one more than the frames' count implies");
	VLIE((v->b.frames_seen = UINT64_MAX, repack_block(v)), "frames_seen 2^64 - 1");
	VLIE((v->b.fps_num = 1001, v->b.fps_den = 1, repack_block(v)), "fps 1001/1, over 1000");
	VLIE((v->b.fps_num = 2001, v->b.fps_den = 2, repack_block(v)), "fps 2001/2, over 1000");
	VLIE((v->b.fps_num = UINT32_MAX, v->b.fps_den = 1, repack_block(v)), "fps 2^32 - 1");
	VLIE((v->b.fps_num = 25, v->b.fps_den = 0, repack_block(v)), "fps 25/0");
	VLIE((v->b.fps_num = 0, v->b.fps_den = 1, repack_block(v)), "fps 0/1");
	VLIE((v->b.src_width = 8, repack_block(v)), "a source width not the frames' (no budget)");
	VLIE((v->b.src_height = 4, repack_block(v)), "a source height not the frames'");
	VLIE((v->b.src_width = 0, repack_block(v)), "a source width of 0");
	VLIE((v->b.src_width = 5, v->b.src_height = 7, repack_block(v)), "a source turned without a rotation");
	VLIE((v->b.rotation = 45, repack_block(v)), "rotation 45");
	VLIE((v->b.rotation = 360, repack_block(v)), "rotation 360");
	VLIE((v->b.rotation = 180, repack_block(v)), "rotation 180 without the rotated bit");
	VLIE((v->b.rotation = 90, repack_block(v)), "rotation 90, the frames not turned, without the bit");
	VLIE((v->b.rotation = 90, repack_block(v), v->h.changes |= AIRLOCK_CHANGE_ROTATED),
	     "rotation 90 with the bit, the frames not turned");
	VLIE(v->h.changes |= AIRLOCK_CHANGE_ROTATED, "the rotated bit without a rotation");
	VLIE(v->h.changes |= AIRLOCK_CHANGE_DOWNSCALED, "the downscaled bit without a budget");
	/* The header's shape. */
	VLIE((v->h.width = 8, v->h.payload_len += 10 * 5 * 3), "width one more than video_out_size's");
	VLIE((v->h.height = 4, v->h.payload_len -= 10 * 7 * 3), "height one fewer than video_out_size's");
	VLIE((v->h.width = 5, v->h.height = 7), "width and height swapped");
	VLIE(v->h.payload_len += 1, "payload_len one byte over");
	VLIE(v->h.payload_len -= 1, "payload_len one byte short");
	VLIE(v->h.payload_len -= VIDEO_BLOCK_SIZE, "payload_len without the block");
	VLIE(v->h.payload_len = v->px, "payload_len of the pixels alone");
	VLIE(v->h.frames = 0, "T 0");
	VLIE((v->h.frames = 1ull << 40, v->h.payload_len = 0), "T 2^40");
	VLIE((v->h.frames = UINT64_MAX, v->h.payload_len = 64), "T 2^64 - 1, the payload the wrapped sum");
	VLIE((v->h.width = v->h.height = UINT32_MAX, v->h.payload_len = 64 + 160), "sides 2^32 - 1");
	VLIE(v->h.format = FRAME_FORMAT_S16, "format s16");
	VLIE(v->h.format = FRAME_FORMAT_F32, "format f32");
	VLIE(v->h.format = 0, "format 0");
	VLIE(v->h.channels = 4, "channels 4");
	VLIE(v->h.channels = 1, "channels 1");
	VLIE(v->h.rate = 25, "a sample rate");
	VLIE(v->h.changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED, "an image change bit");
	VLIE(v->h.changes |= AIRLOCK_CHANGE_RESAMPLED, "an audio change bit");
	VLIE(v->h.changes |= AIRLOCK_CHANGE_TRUNCATED, "the truncated bit");
	VLIE(v->h.changes |= 1u << 31, "an unknown change bit");
	VLIE(v->h.kind = FRAME_KIND_IMAGE, "the image kind");
	VLIE(v->h.kind = 4, "kind 4");
	VLIE(v->h.limit = AIRLOCK_VIDEO_MAX_DECODED_FRAMES, "a limit on a success frame");
	/* The type: a container's, allowed and expected. */
	lim.allowed_types = AIRLOCK_TYPES_ALL;
	VLIE(v->h.type = AIRLOCK_TYPE_PNG, "type PNG");
	VLIE(v->h.type = AIRLOCK_TYPE_WAV, "type WAV");
	VLIE(v->h.type = AIRLOCK_TYPE_NONE, "type none");
	lim.allowed_types = AIRLOCK_TYPES_DEFAULT & ~AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_MP4);
	VLIE((void)0, "an MP4 off the allowlist");
	video_limits_reset();
	lim.expect = AIRLOCK_TYPE_MATROSKA;
	VLIE((void)0, "an MP4 when Matroska was expected");
	/* The request. */
	lim.expect = AIRLOCK_TYPE_NONE;
	lim.track = AIRLOCK_TRACK_ANY;
	VLIE((void)0, "a video when the track asked for is any");
	lim.track = AIRLOCK_TRACK_AUDIO;
	VLIE((void)0, "a video when the audio track was asked for");
	video_limits_reset();
	lim.video_max_sampled = 9;
	VLIE((void)0, "T over video_max_sampled");
	video_limits_reset();
	lim.video_num_frames = 5;
	VLIE((void)0, "all 10 frames when 5 were asked for");
	video_limits_reset();
	/* A budget: the downscaled bit must be there, and only with a downscale. */
	lim.video_max_frame_pixels = 20;
	{
		struct vframe v;
		tap_ok(make_video(&v, 10, 25, 1, 7, 5, 0) && v.h.width == 5 && v.h.height == 3 &&
			       v.h.changes == AIRLOCK_CHANGE_DOWNSCALED && vcheck(&v) == AIRLOCK_OK,
		       "video: 7x5 under a 20-pixel budget is 5x3, downscaled, and passes");
		v.h.changes = 0;
		tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL, "rejected video: downscaled without the bit");
		free(v.p);
		lim.video_max_frame_pixels = 35;
		tap_ok(make_video(&v, 10, 25, 1, 7, 5, 0) && v.h.changes == 0 && vcheck(&v) == AIRLOCK_OK,
		       "video: a budget of exactly the source's pixels leaves it as it is");
		v.h.changes = AIRLOCK_CHANGE_DOWNSCALED;
		tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL,
		       "rejected video: the downscaled bit at a budget that kept the size");
		free(v.p);
		lim.video_max_frame_pixels = 20;
		tap_ok(make_video(&v, 10, 25, 1, 7, 5, 0), "video: 7x5 under the 20-pixel budget again");
		v.h.width = 7;
		v.h.height = 5;
		v.h.changes = 0;
		v.h.payload_len = 10 * 105 + 6 + 160 + 64;
		tap_ok(vcheck(&v) == AIRLOCK_E_PROTOCOL, "rejected video: the full size over the budget");
		free(v.p);
	}
	video_limits_reset();

	/* Error frames of a video request: the code and the key come through. */
	struct frame_header e = { .magic = FRAME_MAGIC,
				  .version = FRAME_VERSION,
				  .status = AIRLOCK_E_TOO_LONG,
				  .type = AIRLOCK_TYPE_MP4,
				  .limit = AIRLOCK_VIDEO_MAX_DECODED_FRAMES };
	tap_ok(v(&e) == AIRLOCK_E_TOO_LONG, "a video error frame yields too_long, naming video_max_decoded_frames");
	e.status = AIRLOCK_E_OUT_OF_RANGE;
	e.limit = 0;
	tap_ok(v(&e) == AIRLOCK_E_OUT_OF_RANGE, "a video error frame yields out_of_range (the rule picks no frame)");
	e.kind = FRAME_KIND_VIDEO;
	tap_ok(v(&e) == AIRLOCK_E_PROTOCOL, "rejected: a video error frame with a kind");
	/* No payload to check is a lie too. */
	struct vframe vf;
	BASE(&vf);
	tap_ok(frame_validate_payload(&vf.h, &lim, NULL, 0) == AIRLOCK_E_PROTOCOL &&
		       frame_validate_payload(&vf.h, &lim, vf.p, vf.len - 1) == AIRLOCK_E_PROTOCOL,
	       "rejected video: a payload missing or one byte short at the payload check");
	free(vf.p);
	limits_default(&lim);
}

/* video_out_size() and video_payload_size() at their edges. */
static void video_sizes(void)
{
	uint32_t w = 0, h = 0;
	int sc = -1;

	tap_ok(video_out_size(0, 5, 0, 0, &w, &h, &sc) == AIRLOCK_E_INVALID_ARG &&
		       video_out_size(5, 0, 0, 0, &w, &h, &sc) == AIRLOCK_E_INVALID_ARG &&
		       video_out_size(5, 5, 45, 0, &w, &h, &sc) == AIRLOCK_E_INVALID_ARG &&
		       video_out_size(5, 5, 360, 0, &w, &h, &sc) == AIRLOCK_E_INVALID_ARG &&
		       video_out_size(5, 5, UINT32_MAX, 0, &w, &h, &sc) == AIRLOCK_E_INVALID_ARG,
	       "video_out_size: a zero side or a rotation not 0, 90, 180 or 270 is invalid");
	tap_ok(video_out_size(7, 5, 90, 0, &w, &h, &sc) == AIRLOCK_OK && w == 5 && h == 7 && sc == 0 &&
		       video_out_size(7, 5, 270, 0, &w, &h, &sc) == AIRLOCK_OK && w == 5 && h == 7 &&
		       video_out_size(7, 5, 180, 0, &w, &h, &sc) == AIRLOCK_OK && w == 7 && h == 5,
	       "video_out_size: 90 and 270 swap the sides, 180 does not");
	tap_ok(video_out_size(7, 5, 0, 35, &w, &h, &sc) == AIRLOCK_OK && w == 7 && h == 5 && sc == 0 &&
		       video_out_size(7, 5, 0, 34, &w, &h, &sc) == AIRLOCK_OK && sc == 1 && (uint64_t)w * h <= 34,
	       "video_out_size: a budget of the area keeps the size, one less scales");
	tap_ok(video_out_size(64, 64, 0, 1, &w, &h, &sc) == AIRLOCK_OK && w == 1 && h == 1 && sc == 1,
	       "video_out_size: budget 1 makes a square 1x1");
	tap_ok(video_out_size(1, 1, 0, 1, &w, &h, &sc) == AIRLOCK_OK && w == 1 && h == 1 && sc == 0,
	       "video_out_size: 1x1 under budget 1 is kept");
	tap_ok(video_out_size(1, 1000, 0, 0, &w, &h, &sc) == AIRLOCK_OK && w == 1 && h == 1000 && sc == 0 &&
		       video_out_size(1, 1000, 90, 1000, &w, &h, &sc) == AIRLOCK_OK && w == 1000 && h == 1 && sc == 0,
	       "video_out_size: 1x1000 is kept without a budget and at a budget of 1000, turned 1000x1");
	tap_ok(video_out_size(UINT32_MAX, UINT32_MAX, 0, 0, &w, &h, &sc) == AIRLOCK_OK && w == UINT32_MAX &&
		       h == UINT32_MAX && sc == 0,
	       "video_out_size: 2^32 - 1 square without a budget");
	tap_ok(video_out_size(UINT32_MAX, UINT32_MAX, 0, UINT64_MAX, &w, &h, &sc) == AIRLOCK_OK && w == UINT32_MAX &&
		       sc == 0,
	       "video_out_size: 2^32 - 1 square under a budget of 2^64 - 1 (no overflow in w * h)");
	tap_ok(video_out_size(UINT32_MAX, UINT32_MAX, 0, 1ull << 34, &w, &h, &sc) == AIRLOCK_OK && w == 131072 &&
		       h == 131072 && sc == 1,
	       "video_out_size: 2^32 - 1 square under the largest budget, 2^34: 2^17 square");
	tap_ok(video_out_size(UINT32_MAX, 1, 0, (uint64_t)UINT32_MAX - 1, &w, &h, &sc) == AIRLOCK_OK &&
		       w == UINT32_MAX - 1 && h == 1 && sc == 1,
	       "video_out_size: (2^32 - 1) x 1 one pixel over its budget loses a column");

	/* Every size to 48 x 48 and every budget below its area: within the budget, within the source. */
	unsigned bad_budget = 0, bad_side = 0, bad_aspect_ok = 0;
	for (uint32_t sw = 1; sw <= 48; sw++)
		for (uint32_t sh = 1; sh <= 48; sh++)
			for (uint64_t bud = 1; bud < (uint64_t)sw * sh; bud++) {
				if (video_out_size(sw, sh, 0, bud, &w, &h, &sc) != AIRLOCK_OK || !sc) {
					bad_side++;
					continue;
				}
				bad_side += w < 1 || h < 1 || w > sw || h > sh;
				bad_budget += (uint64_t)w * h > bud;
				/* Where the aspect ratio fits the budget, the contract holds already. */
				bad_aspect_ok += (uint64_t)w * h > bud && sw <= bud * sh && sh <= bud * sw;
			}
	tap_ok(bad_side == 0, "video_out_size: every scaled size of sources to 48x48 is within the source (%u not)",
	       bad_side);
	tap_ok(bad_aspect_ok == 0,
	       "video_out_size: every scaled size is within its budget where the aspect ratio is within it (%u not)",
	       bad_aspect_ok);
	/* A source thinner than its budget allows: the long side is cut, so the frame is still within it. */
	tap_ok(bad_budget == 0, "video_out_size: every scaled size of sources to 48x48 is within its budget (%u not)",
	       bad_budget);
	tap_ok(video_out_size(1, 1000, 0, 500, &w, &h, &sc) == AIRLOCK_OK && w == 1 && h == 500 && sc == 1,
	       "video_out_size: 1x1000 under a 500-pixel budget is 1x500");
	tap_ok(video_out_size(64, 2, 0, 1, &w, &h, &sc) == AIRLOCK_OK && w == 1 && h == 1,
	       "video_out_size: 64x2 under budget 1 is 1x1");

	uint64_t px = 1, total = 1;
	tap_ok(video_payload_size(0, 7, 5, &px, &total) == AIRLOCK_OK && px == 0 && total == VIDEO_BLOCK_SIZE,
	       "video_payload_size: no frame is the block alone");
	tap_ok(video_payload_size(1, 1, 1, &px, &total) == AIRLOCK_OK && px == 3 && total == 8 + 16 + 64,
	       "video_payload_size: one 1x1 frame: 3 bytes, 5 of padding, an entry, the block");
	tap_ok(video_payload_size(3, 7, 5, &px, &total) == AIRLOCK_OK && px == 315 && total == 320 + 48 + 64,
	       "video_payload_size: three 7x5 frames: 315 bytes, 5 of padding");
	tap_ok(video_payload_size(768, 64, 64, &px, &total) == AIRLOCK_OK && px == 768u * 4096 * 3 &&
		       total == px + 768 * 16 + 64,
	       "video_payload_size: 768 frames of 64x64 need no padding");
	tap_ok(video_payload_size(1, UINT32_MAX, UINT32_MAX, &px, &total) == AIRLOCK_E_TOO_LARGE,
	       "video_payload_size: one frame of 2^32 - 1 square overflows");
	tap_ok(video_payload_size(UINT64_MAX, 1, 1, &px, &total) == AIRLOCK_E_TOO_LARGE &&
		       video_payload_size(1ull << 60, 1, 1, &px, &total) == AIRLOCK_E_TOO_LARGE,
	       "video_payload_size: 2^64 - 1 or 2^60 frames of 1x1 overflow (the entries)");
	tap_ok(video_payload_size(UINT64_MAX / 3, 1, 1, &px, &total) == AIRLOCK_E_TOO_LARGE,
	       "video_payload_size: (2^64 - 1) / 3 frames of 1x1: pixels fit, padding and block do not");
	tap_ok(video_payload_size(1, 65536, 65536, &px, &total) == AIRLOCK_OK && px == 3ull << 32,
	       "video_payload_size: one frame of 65536 square fits");

	/* Against 128-bit arithmetic, around where 64 bits run out: exactly when the whole fits. */
	static const uint64_t frames[] = { 0,
					   1,
					   2,
					   3,
					   1000,
					   1ull << 32,
					   (1ull << 60) - 1,
					   970881267037344821ull,
					   970881267037344822ull,
					   970881267037344823ull,
					   UINT64_MAX / 19,
					   UINT64_MAX };
	static const uint32_t sides[] = { 1, 2, 3, 7, 65535, 65536, 1u << 31, UINT32_MAX };
	unsigned wrong = 0, cases = 0;
	for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++)
		for (size_t a = 0; a < sizeof(sides) / sizeof(sides[0]); a++)
			for (size_t b = 0; b < sizeof(sides) / sizeof(sides[0]); b++) {
				/*
				 * 3 w h < 2^66: its product with frames is checked before it is made. One frame's
				 * bytes must fit 64 bits too, even for no frames.
				 */
				const u128 area3 = (u128)sides[a] * sides[b] * 3;
				const int in128 =
					area3 <= UINT64_MAX && (frames[f] == 0 || area3 <= ~(u128)0 / 2 / frames[f]);
				const u128 p = in128 ? (u128)frames[f] * area3 : 0;
				const u128 t = (p + 7) / 8 * 8 + (u128)frames[f] * 16 + 64;
				const int fits = in128 && t <= UINT64_MAX;
				const int rc = video_payload_size(frames[f], sides[a], sides[b], &px, &total);
				wrong += fits ? rc != AIRLOCK_OK || px != (uint64_t)p || total != (uint64_t)t
					      : rc != AIRLOCK_E_TOO_LARGE;
				cases++;
			}
	tap_ok(wrong == 0, "video_payload_size: %u cases against 128-bit arithmetic (%u wrong)", cases, wrong);
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

	video_valid();
	video_lies();
	video_sizes();
	return tap_done();
}
