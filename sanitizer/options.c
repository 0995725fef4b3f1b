/* SPDX-License-Identifier: MIT */
/*
 * Limits and options: the one table of keys, the context's setters, and the
 * per-request options a request carries. A request's limits are the
 * context's with the options' keys applied by kind: a key that bounds work
 * or input can only be tightened by a request (the operator's value is a
 * ceiling), every other key is the request's to choose.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sampling.h"

/* How a request's value for a key combines with the context's. */
enum key_kind {
	KEY_CHOICE = 0,	 /* the request's value replaces the context's */
	KEY_CEILING = 1, /* the smaller of the two wins (maxima; "allowed only when both allow") */
	KEY_FLOOR = 2,	 /* the larger of the two wins (minima; "strict when either asks") */
	KEY_MASK = 3,	 /* the intersection of the two masks; an empty one allows no type */
};

/*
 * Every key: where it lives in struct limits, which values it takes and its
 * kind. A value is accepted when it is within [min, max], or is 0 and
 * zero_ok is set, or (for a mask key) is a non-empty subset of mask.
 */
struct key_spec {
	size_t off;
	uint8_t wide;	 /* 1: a uint64_t field; 0: a uint32_t */
	uint8_t zero_ok; /* 0 means "off" (AIRLOCK_OUT_RATE: keep the source rate) */
	uint8_t kind;	 /* enum key_kind */
	uint64_t min, max;
	uint64_t mask;
};

#define U32(field) .off = offsetof(struct limits, field), .wide = 0
#define U64(field) .off = offsetof(struct limits, field), .wide = 1
#define CEIL	   .kind = KEY_CEILING

static const struct key_spec keys[KEY_LIMIT] = {
	[AIRLOCK_MAX_INPUT_BYTES] = { U64(max_input_bytes), CEIL, .min = 1, .max = 1ull << 40 },
	[AIRLOCK_MAX_WIDTH] = { U32(max_width), CEIL, .min = 1, .max = 0x7fffffff },
	[AIRLOCK_MAX_HEIGHT] = { U32(max_height), CEIL, .min = 1, .max = 0x7fffffff },
	[AIRLOCK_MAX_PIXELS] = { U64(max_pixels), CEIL, .min = 1, .max = 1ull << 34 },
	[AIRLOCK_MEMORY_BYTES] = { U64(memory_bytes), CEIL, .min = 64u << 20, .max = 1ull << 40 },
	[AIRLOCK_CPU_MS] = { U32(cpu_ms), CEIL, .min = 1, .max = 3600000 },
	[AIRLOCK_TIMEOUT_MS] = { U32(timeout_ms), CEIL, .min = 1, .max = 3600000 },
	[AIRLOCK_MAX_JPEG_SCANS] = { U32(max_jpeg_scans), CEIL, .min = 1, .max = 100000 },
	[AIRLOCK_ALLOWED_TYPES] = { U32(allowed_types), .kind = KEY_MASK, .mask = AIRLOCK_TYPES_ALL },
	[AIRLOCK_KEEP_ALPHA] = { U32(keep_alpha), .min = 0, .max = 1 },
	[AIRLOCK_BACKGROUND] = { U32(background), .min = 0, .max = 0xFFFFFF },
	[AIRLOCK_JPEG_QUALITY] = { U32(jpeg_quality), .min = 1, .max = 100 },
	[AIRLOCK_MAX_SECONDS] = { U32(max_seconds), CEIL, .min = 1, .max = 86400 },
	[AIRLOCK_MAX_DECODED_BYTES] = { U64(max_decoded_bytes), CEIL, .min = 1, .max = 1ull << 40 },
	[AIRLOCK_MIN_RATE] = { U32(min_rate), .kind = KEY_FLOOR, .min = AUDIO_RATE_FLOOR, .max = AUDIO_RATE_CEILING },
	[AIRLOCK_MAX_RATE] = { U32(max_rate), CEIL, .min = AUDIO_RATE_FLOOR, .max = AUDIO_RATE_CEILING },
	[AIRLOCK_MAX_CHANNELS] = { U32(max_channels), CEIL, .min = 1, .max = AUDIO_CHANNELS_CEILING },
	[AIRLOCK_MAX_AUDIO_INPUT_BYTES] = { U64(max_audio_input_bytes), CEIL, .min = 1, .max = 1ull << 40 },
	[AIRLOCK_OUT_RATE] = { U32(out_rate), .zero_ok = 1, .min = AUDIO_RATE_FLOOR, .max = AUDIO_RATE_CEILING },
	[AIRLOCK_MONO] = { U32(mono), .min = 0, .max = 1 },
	[AIRLOCK_SAMPLE_FORMAT] = { U32(sample_format), .min = AIRLOCK_SAMPLE_S16, .max = AIRLOCK_SAMPLE_F32 },
	[AIRLOCK_ALLOW_EXTRA_CODECS] = { U32(allow_adpcm), CEIL, .min = 0, .max = 1 },
	[AIRLOCK_STRICT_SANDBOX] = { U32(strict_sandbox), .kind = KEY_FLOOR, .min = 0, .max = 1 },
	[AIRLOCK_MAX_JPEG_COEFFS] = { U64(max_jpeg_coeffs), CEIL, .min = 1, .max = 1ull << 50 },
	[AIRLOCK_MAX_PNG_INFLATED_BYTES] = { U64(max_png_inflated_bytes), CEIL, .min = 1, .max = 1ull << 40 },
	[AIRLOCK_ICC] = { U32(icc), .min = 0, .max = 1 },
	[AIRLOCK_MAX_ICC_BYTES] = { U32(max_icc_bytes), CEIL, .min = 1, .max = 1u << 30 },
	[AIRLOCK_WEBP_LOSSLESS] = { U32(webp_lossless), .min = 0, .max = 1 },
	[AIRLOCK_TRACK] = { U32(track), .min = AIRLOCK_TRACK_ANY, .max = AIRLOCK_TRACK_VIDEO },
	/* The request's sampling is its own to choose; the cap and the work limits are ceilings. */
	[AIRLOCK_VIDEO_SAMPLING] = { U32(video_sampling), .min = AIRLOCK_SAMPLING_VLLM,
				     .max = AIRLOCK_SAMPLING_QWEN_VL_UTILS },
	[AIRLOCK_VIDEO_NUM_FRAMES] = { U64(video_num_frames), .zero_ok = 1, .min = 1, .max = UINT64_MAX },
	[AIRLOCK_VIDEO_FPS_MILLI] = { U64(video_fps_milli), .zero_ok = 1, .min = 1, .max = 1000000000 },
	[AIRLOCK_VIDEO_MIN_FRAMES] = { U64(video_min_frames), .zero_ok = 1, .min = 1, .max = SAMPLING_MAX_CAP },
	[AIRLOCK_VIDEO_MAX_FRAMES] = { U64(video_max_frames), .zero_ok = 1, .min = 1, .max = SAMPLING_MAX_CAP },
	[AIRLOCK_VIDEO_MAX_SAMPLED_FRAMES] = { U32(video_max_sampled), CEIL, .min = 1, .max = SAMPLING_MAX_CAP },
	[AIRLOCK_VIDEO_MAX_DECODED_FRAMES] = { U64(video_max_decoded_frames), CEIL, .min = 1, .max = 1ull << 40 },
	[AIRLOCK_VIDEO_MAX_DECODED_PIXELS] = { U64(video_max_decoded_pixels), CEIL, .min = 1, .max = 1ull << 56 },
	[AIRLOCK_VIDEO_MAX_FRAME_PIXELS] = { U64(video_max_frame_pixels), .zero_ok = 1, .min = 1, .max = 1ull << 34 },
	[AIRLOCK_VIDEO_MAX_OUTPUT_BYTES] = { U64(video_max_output_bytes), CEIL, .min = 1, .max = 1ull << 40 },
	[AIRLOCK_VIDEO_CPU_MS] = { U32(video_cpu_ms), CEIL, .min = 1, .max = 3600000 },
	[AIRLOCK_VIDEO_TIMEOUT_MS] = { U32(video_timeout_ms), CEIL, .min = 1, .max = 3600000 },
};

#undef U32
#undef U64
#undef CEIL

/* The spec of key, or NULL for a value that is no key. */
static const struct key_spec *key_spec(airlock_key key)
{
	if ((unsigned)key >= KEY_LIMIT || (keys[key].max == 0 && keys[key].mask == 0))
		return NULL;
	return &keys[key];
}

static int key_accepts(const struct key_spec *k, uint64_t v)
{
	if (k->mask)
		return v != 0 && (v & ~k->mask) == 0;
	return (v >= k->min && v <= k->max) || (v == 0 && k->zero_ok);
}

static uint64_t lim_read(const struct limits *lim, const struct key_spec *k)
{
	const uint8_t *field = (const uint8_t *)lim + k->off;
	if (k->wide) {
		uint64_t v;
		memcpy(&v, field, sizeof(v));
		return v;
	}
	uint32_t v32;
	memcpy(&v32, field, sizeof(v32));
	return v32;
}

/* v has passed key_accepts() (or is a combination of accepted values), so a 32-bit key's value fits. */
static void lim_write(struct limits *lim, const struct key_spec *k, uint64_t v)
{
	uint8_t *field = (uint8_t *)lim + k->off;
	if (k->wide) {
		memcpy(field, &v, sizeof(v));
	} else {
		uint32_t v32 = (uint32_t)v;
		memcpy(field, &v32, sizeof(v32));
	}
}

AIRLOCK_API int airlock_set(airlock_ctx *ctx, airlock_key key, uint64_t v)
{
	const struct key_spec *k = key_spec(key);

	if (!ctx)
		return AIRLOCK_E_INVALID_ARG;
	if (!k)
		return AIRLOCK_E_BAD_OPTION;
	if (!key_accepts(k, v))
		return AIRLOCK_E_INVALID_ARG;
	pthread_mutex_lock(&ctx->lock);
	lim_write(&ctx->lim, k, v);
	pthread_mutex_unlock(&ctx->lock);
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_get(const airlock_ctx *cctx, airlock_key key, uint64_t *v)
{
	const struct key_spec *k = key_spec(key);

	if (!cctx || !v)
		return AIRLOCK_E_INVALID_ARG;
	if (!k)
		return AIRLOCK_E_BAD_OPTION;
	airlock_ctx *ctx = (airlock_ctx *)cctx; /* the lock is the only thing touched */
	pthread_mutex_lock(&ctx->lock);
	*v = lim_read(&ctx->lim, k);
	pthread_mutex_unlock(&ctx->lock);
	return AIRLOCK_OK;
}

/* ---- per-request options ---- */

_Static_assert(KEY_LIMIT <= 64, "airlock_options.held is one bit per key");

AIRLOCK_API int airlock_options_new(airlock_options **out)
{
	if (!out)
		return AIRLOCK_E_INVALID_ARG;
	airlock_options *o = calloc(1, sizeof(*o));
	if (!o)
		return AIRLOCK_E_NOMEM;
	*out = o;
	return AIRLOCK_OK;
}

AIRLOCK_API void airlock_options_free(airlock_options *o)
{
	free(o);
}

AIRLOCK_API int airlock_options_set(airlock_options *o, airlock_key key, uint64_t v)
{
	const struct key_spec *k = key_spec(key);

	if (!o)
		return AIRLOCK_E_INVALID_ARG;
	if (!k)
		return AIRLOCK_E_BAD_OPTION;
	if (!key_accepts(k, v))
		return AIRLOCK_E_INVALID_ARG;
	o->val[key] = v;
	o->held |= 1ull << key;
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_options_unset(airlock_options *o, airlock_key key)
{
	if (!o)
		return AIRLOCK_E_INVALID_ARG;
	if (!key_spec(key))
		return AIRLOCK_E_BAD_OPTION;
	o->held &= ~(1ull << key);
	o->val[key] = 0;
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_options_get(const airlock_options *o, airlock_key key, uint64_t *v)
{
	if (!o || !v)
		return AIRLOCK_E_INVALID_ARG;
	if (!key_spec(key) || !options_holds(o, key))
		return AIRLOCK_E_BAD_OPTION;
	*v = o->val[key];
	return AIRLOCK_OK;
}

void options_apply(struct limits *lim, const airlock_options *o)
{
	if (!o)
		return;
	for (unsigned key = 0; key < KEY_LIMIT; key++) {
		const struct key_spec *k = key_spec((airlock_key)key);
		if (!k || !options_holds(o, (airlock_key)key))
			continue;
		const uint64_t mine = o->val[key], base = lim_read(lim, k);
		uint64_t v = mine;
		switch ((enum key_kind)k->kind) {
		case KEY_CHOICE: break;
		case KEY_CEILING: v = mine < base ? mine : base; break;
		case KEY_FLOOR: v = mine > base ? mine : base; break;
		case KEY_MASK: v = mine & base; break;
		}
		lim_write(lim, k, v);
	}
}
