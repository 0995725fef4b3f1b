/* SPDX-License-Identifier: MIT */
/* Host-side internals shared by the library's files. */
#ifndef AIRLOCK_INTERNAL_H
#define AIRLOCK_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "airlock.h"
#include "decode.h"
#include "proto.h"

/* One slot per error code value (airlock_error values are all below this). */
#define COUNTER_SLOTS 128

/*
 * The zygote families (sandbox.h, struct zygote_family): the base one, started
 * by airlock_open(), and the media one (FFmpeg), started by the first request
 * that needs it.
 */
enum family { FAMILY_BASE = 0, FAMILY_MEDIA = 1, FAMILY_COUNT = 2 };

struct zygote_slot {
	int zygote;	 /* pidfd of the zygote, -1 when none */
	int ctl;	 /* control socket to the zygote, -1 when none */
	uint32_t layers; /* airlock_layer bits the current zygote reported */
	unsigned generation;
	char helper[4096];
};

struct airlock_ctx {
	pthread_mutex_t lock; /* guards everything below but counts[] */
	pthread_cond_t idle;  /* signalled when inflight drops to 0 */
	struct limits lim;
	struct zygote_slot fam[FAMILY_COUNT];
	unsigned inflight; /* requests between submit and finish */
	int closing;	   /* airlock_close() has begun */
	airlock_event_fn event_fn;
	void *event_user;
	airlock_request *requests;	  /* submitted and not yet finished (context.c) */
	airlock_ctx *reg_prev, *reg_next; /* every open context, for fork(); guarded by context.c's registry lock */
	uint64_t counts[COUNTER_SLOTS];	  /* requests ended per error code; atomic */
};

/* Per-request options: a value for each key whose bit is set in held. Plain data, read-only once in use. */
struct airlock_options {
	uint64_t held; /* bit k: val[k] holds the request's value for key k */
	uint64_t val[KEY_LIMIT];
};

static inline int options_holds(const airlock_options *o, airlock_key key)
{
	return (unsigned)key < KEY_LIMIT && (o->held >> key & 1u);
}

/* options.c: lim (a copy of the context's limits) with every key o holds applied by its kind; o may be NULL. */
void options_apply(struct limits *lim, const airlock_options *o);

struct airlock_result {
	airlock_type type;
	uint32_t width, height, channels, changes;
	uint32_t rate, format; /* audio: Hz; every result: its airlock_sample_format */
	uint32_t layers;       /* airlock_layer bits the worker ran under */
	uint64_t frames;       /* audio: samples per channel; video: frames sampled */
	uint8_t *pixels;
	size_t size;	 /* the pixels or samples; for video without the trailer */
	size_t map_size; /* all of pixels' allocation: the payload, trailer included */
	int mapped;	 /* pixels is a read-only mapping of the sealed payload memfd: munmap, not free */
	/* video only (video.info.size != 0): the trailer, unpacked */
	airlock_video_info video;
	uint64_t *video_index;
	int64_t *video_pts_us;
};

/*
 * A video result's trailer (decoders/video.h) into r->video and its two
 * arrays, with r->size cut to the pixels; r came from a frame that passed
 * frame_validate_payload(). AIRLOCK_OK or AIRLOCK_E_NOMEM.
 */
int result_video_unpack(airlock_result *r);

/*
 * The result for a validated success frame h and its payload (len bytes,
 * which the result takes over). Shared by the library and the fuzzers, so
 * both build results the same way.
 */
static inline void result_from_header(airlock_result *r, const struct frame_header *h, uint32_t layers,
				      uint8_t *payload, size_t len)
{
	*r = (airlock_result){
		.type = (airlock_type)h->type,
		.width = h->width,
		.height = h->height,
		.channels = h->channels,
		.changes = h->changes,
		.rate = h->rate,
		.format = h->format,
		.layers = layers,
		.frames = h->frames,
		.pixels = payload,
		.size = len,
		.map_size = len,
	};
}

/* encode_audio.c: the result holds well-formed audio; then WAV and FLAC writers. */
int audio_result_ok(const airlock_result *r);
int encode_wav(const airlock_result *r, airlock_write_fn write, void *user);
int encode_flac(const airlock_result *r, airlock_write_fn write, void *user);

/* encode_webp.c: VP8 at quality (or VP8L when lossless), VP8X and ALPH only for alpha; nothing else. */
int encode_webp(const airlock_result *r, uint32_t quality, uint32_t lossless, airlock_write_fn write, void *user);

#endif
