/* SPDX-License-Identifier: MIT */
/* Streaming polyphase resampler for interleaved float frames (resample.c). */
#ifndef AIRLOCK_RESAMPLE_H
#define AIRLOCK_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* Input frames one resampler_run() call takes at most. */
#define RESAMPLE_CHUNK 4096

struct resampler;

/* A resampler from in_rate to out_rate Hz for channels interleaved channels; NULL when out of memory or an argument is
 * 0. */
struct resampler *resampler_new(uint32_t in_rate, uint32_t out_rate, uint32_t channels);
void resampler_free(struct resampler *r);
/* Bytes resampler_new() allocates for these rates: for the decoder's memory budget. */
size_t resampler_memory(uint32_t in_rate, uint32_t out_rate, uint32_t channels);

/*
 * Feeds up to n frames of in (*used says how many it took) and writes up
 * to out_cap frames to out; returns how many. end: in holds the last
 * frames of the input. Call again with the rest of in, and, once end was
 * passed with all of it taken, until it returns 0: then every output frame
 * whose time lies inside the input has been made, ceil(n_in * out / in) of
 * them in all.
 */
size_t resampler_run(struct resampler *r, const float *in, size_t n, int end, float *out, size_t out_cap, size_t *used);

#endif
