/* SPDX-License-Identifier: MIT */
/* Host-side internals shared by the library's files. */
#ifndef AIRLOCK_INTERNAL_H
#define AIRLOCK_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "airlock.h"
#include "decode.h"

struct airlock_ctx {
	pthread_mutex_t lock; /* guards everything below */
	struct limits lim;
	int zygote; /* pidfd of the zygote, -1 when none */
	int ctl;    /* control socket to the zygote, -1 when none */
	unsigned generation;
	char helper[4096];
};

struct airlock_result {
	airlock_type type;
	uint32_t width, height, channels, changes;
	uint32_t rate, format; /* audio: Hz; every result: its airlock_sample_format */
	uint64_t frames;       /* audio: samples per channel */
	uint8_t *pixels;
	size_t size;
};

/* encode_audio.c: the result holds well-formed audio; then WAV and FLAC writers. */
int audio_result_ok(const airlock_result *r);
int encode_wav(const airlock_result *r, airlock_write_fn write, void *user);
int encode_flac(const airlock_result *r, airlock_write_fn write, void *user);

#endif
