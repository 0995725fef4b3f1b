/* SPDX-License-Identifier: MIT */
/*
 * Audio: untrusted bytes to interleaved float32 or s16 samples.
 *
 * The containers are read in a file each, behind a source (audio_src.h):
 * WAV, AIFF and FLAC through libsndfile's virtual I/O (audio_wav.c,
 * audio_aiff.c, audio_flac.c, with the libsndfile glue they share in
 * audio_sndfile.c); MPEG audio through libmpg123 (audio_mpeg.c); Ogg
 * through libogg, libvorbis and libopus (audio_ogg.c). resample.c
 * resamples. Every stream is read until its data ends, never to a length a
 * header states.
 *
 * What this file holds is what every container shares, the policy: the
 * input must start with the magic of the type libmagic saw, ID3 tags around
 * it are cut off, rate and channel count are checked from the header, and
 * duration and output size are counted from what is really decoded, chunk
 * by chunk, never from what a header claims; then downmix, resampling,
 * sample conversion and the output buffer, which grows in place (in the
 * worker, inside the payload memfd).
 *
 * Everything here runs inside the seccomp-confined worker: no files, no
 * threads, no globals, no output; memory comes from malloc alone.
 */
#include "audio.h"
#include "audio_src.h"
#include "resample.h"

#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Frames per source read, and per resampler output block. */
#define CHUNK_FRAMES 4096
/* First size of the output buffer; it doubles from there. */
#define OUT_INITIAL_BYTES ((size_t)64 * 1024)

/* ------------------------------------------------------------------------ */
/* Tags around the container, and its magic. */

/* Bytes taken by an ID3v2 tag at the start of p (header, body, footer), or 0; at most n. */
static size_t id3v2_size(const uint8_t *p, size_t n)
{
	size_t size;

	if (n < 10 || memcmp(p, "ID3", 3) != 0 || p[3] == 0xFF || p[4] == 0xFF)
		return 0;
	if ((p[6] | p[7] | p[8] | p[9]) & 0x80)
		return 0;
	size = 10 + ((size_t)p[6] << 21 | (size_t)p[7] << 14 | (size_t)p[8] << 7 | p[9]);
	if (p[5] & 0x10)
		size += 10;
	return size < n ? size : n;
}

/*
 * ID3v1 and APEv2 tags at the end: MP3's ways to carry text, which FLAC
 * files wear too (taggers write them whatever the format). An APEv2 tag
 * sits before an ID3v1 one when both are there; its footer gives its size,
 * and a header of 32 bytes more when flag bit 31 says there is one.
 */
size_t audio_trailing_tags(const uint8_t *buf, size_t len)
{
	size_t tail = 0;

	if (len >= 128 && memcmp(buf + len - 128, "TAG", 3) == 0)
		tail = 128;
	if (len - tail >= 32 && memcmp(buf + len - tail - 32, "APETAGEX", 8) == 0) {
		const uint8_t *f = buf + len - tail - 32;
		uint64_t size = le32(f + 12); /* items and footer */

		if (le32(f + 20) & 0x80000000u)
			size += 32;
		/* A size that does not fit is no tag of ours: the bytes stay, and the decoder judges them. */
		if (size >= 32 && size <= len - tail)
			tail += (size_t)size;
	}
	return tail;
}

/* Bytes taken by the ID3v2 tags at the start of buf, one after another. */
static size_t leading_id3v2(const uint8_t *buf, size_t len)
{
	size_t skip = 0, n;

	while ((n = id3v2_size(buf + skip, len - skip)) > 0)
		skip += n;
	return skip;
}

/* The airlock type whose magic starts buf (Ogg as AIRLOCK_TYPE_VORBIS), or AIRLOCK_TYPE_NONE. */
static uint32_t magic_type(const uint8_t *buf, size_t len)
{
	if (len >= 12 && (memcmp(buf, "RIFF", 4) == 0 || memcmp(buf, "RIFX", 4) == 0) &&
	    memcmp(buf + 8, "WAVE", 4) == 0)
		return AIRLOCK_TYPE_WAV;
	if (len >= 12 && memcmp(buf, "FORM", 4) == 0 &&
	    (memcmp(buf + 8, "AIFF", 4) == 0 || memcmp(buf + 8, "AIFC", 4) == 0))
		return AIRLOCK_TYPE_AIFF;
	if (len >= 4 && memcmp(buf, "fLaC", 4) == 0)
		return AIRLOCK_TYPE_FLAC;
	if (len >= 4 && memcmp(buf, "OggS", 4) == 0)
		return AIRLOCK_TYPE_VORBIS;
	if (mpeg_sync(buf, len))
		return AIRLOCK_TYPE_MP3;
	return AIRLOCK_TYPE_NONE;
}

/*
 * The input (after any ID3v2 tags) must start with the magic of the type
 * libmagic saw: another known container is a mismatch, anything else is
 * malformed. Past this check libsndfile recognises the container from its
 * first bytes and never goes probing the file system for it.
 */
static int check_magic(uint32_t type, const uint8_t *buf, size_t len)
{
	uint32_t found = magic_type(buf, len);

	if (found == AIRLOCK_TYPE_NONE)
		return AIRLOCK_E_MALFORMED;
	if (found == AIRLOCK_TYPE_VORBIS && type == AIRLOCK_TYPE_OPUS)
		return AIRLOCK_OK;
	return found == type ? AIRLOCK_OK : AIRLOCK_E_TYPE_MISMATCH;
}

/*
 * The vendor string alone is the encoder's name and every file has one: a
 * block is metadata when it holds any comment. A block too short to tell
 * is counted as metadata.
 */
bool audio_vorbis_comments_present(const uint8_t *p, size_t n)
{
	uint32_t vendor;

	if (n < 4)
		return true;
	vendor = le32(p);
	if (vendor > n - 4 || n - 4 - vendor < 4)
		return true;
	return le32(p + 4 + vendor) != 0;
}

static bool is_audio_type(uint32_t type)
{
	return type < AIRLOCK_TYPE_COUNT_ && (AIRLOCK_TYPES_AUDIO & AIRLOCK_TYPE_BIT(type)) != 0;
}

/* ------------------------------------------------------------------------ */
/* Output: conversion, limits, and a buffer that grows geometrically. */

struct sink {
	const struct pixel_alloc *pa; /* where data lives: NULL for malloc */
	uint8_t *data;
	size_t cap;  /* bytes allocated */
	size_t used; /* bytes written */
	uint64_t frames;
	uint32_t channels;
	uint32_t format;     /* FRAME_FORMAT_F32 or FRAME_FORMAT_S16 */
	size_t frame_bytes;  /* channels * sample bytes */
	size_t max_bytes;    /* lim->max_decoded_bytes */
	size_t budget;	     /* what memory_bytes leaves for the output */
	uint64_t max_frames; /* max_seconds at the output rate */
	uint32_t limit;	     /* the airlock_key that tripped */
};

static int16_t to_s16(float x)
{
	float v = x * AUDIO_S16_SCALE;

	if (v >= 32767.0f)
		return 32767;
	if (v <= -32768.0f)
		return -32768;
	return (int16_t)lrintf(v);
}

static int sink_reserve(struct sink *s, size_t need)
{
	size_t cap = s->cap > 0 ? s->cap : OUT_INITIAL_BYTES;
	uint8_t *p;

	if (need <= s->cap)
		return AIRLOCK_OK;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* need is within both limits here; the doubling must not overshoot them. */
	if (cap > s->max_bytes)
		cap = s->max_bytes;
	if (cap > s->budget) {
		if (need > s->budget) {
			s->limit = AIRLOCK_MEMORY_BYTES;
			return AIRLOCK_E_TOO_LONG;
		}
		cap = s->budget;
	}
	p = pixels_resize(s->pa, s->data, s->cap, cap);
	if (p == NULL) {
		s->limit = AIRLOCK_MEMORY_BYTES;
		return AIRLOCK_E_MEMORY;
	}
	s->data = p;
	s->cap = cap;
	return AIRLOCK_OK;
}

/* Appends n frames of interleaved float samples in the output format. */
static int sink_put(struct sink *s, const float *src, size_t n)
{
	size_t count = n * s->channels, bytes;
	int rc;

	/*
	 * The source was already held to max_seconds at its own rate; what the
	 * resampler rounds past the same duration at the output rate (a frame
	 * or two, only when the source is right at the cap) is cut, so that a
	 * frame's duration is exactly bounded for the host's check.
	 */
	if (n > s->max_frames - s->frames)
		n = (size_t)(s->max_frames - s->frames);
	count = n * s->channels;
	if (n == 0)
		return AIRLOCK_OK;
	/* Mixing and resampling can overflow what the input's finite samples did not. */
	for (size_t i = 0; i < count; i++)
		if (!isfinite(src[i]))
			return AIRLOCK_E_MALFORMED;
	if (n > SIZE_MAX / s->frame_bytes)
		goto too_long;
	bytes = n * s->frame_bytes;
	if (bytes > s->max_bytes - s->used)
		goto too_long;
	rc = sink_reserve(s, s->used + bytes);
	if (rc != AIRLOCK_OK)
		return rc;
	if (s->format == FRAME_FORMAT_F32) {
		memcpy(s->data + s->used, src, bytes);
	} else {
		int16_t *dst = (int16_t *)(void *)(s->data + s->used);

		for (size_t i = 0; i < count; i++)
			dst[i] = to_s16(src[i]);
	}
	s->used += bytes;
	s->frames += n;
	return AIRLOCK_OK;
too_long:
	s->limit = AIRLOCK_MAX_DECODED_BYTES;
	return AIRLOCK_E_TOO_LONG;
}

/* ------------------------------------------------------------------------ */
/* The decode loop. */

struct pipeline {
	struct audio_src *src;
	struct resampler *rs; /* NULL: no resampling */
	uint32_t in_channels;
	bool mono;  /* downmix to one channel */
	float *in;  /* CHUNK_FRAMES * in_channels */
	float *mix; /* CHUNK_FRAMES, when mono */
	float *res; /* CHUNK_FRAMES * output channels, when resampling */
	struct sink sink;
};

/* Streams frames through the resampler; end_of_input drains it. */
static int resample(struct pipeline *pl, const float *in, size_t n, bool end_of_input)
{
	for (;;) {
		size_t used = 0;
		const size_t made = resampler_run(pl->rs, in, n, end_of_input, pl->res, CHUNK_FRAMES, &used);
		const int rc = sink_put(&pl->sink, pl->res, made);
		if (rc != AIRLOCK_OK)
			return rc;
		in += used * pl->sink.channels;
		n -= used;
		/* Done when all input is in and nothing more comes out (a full block may have more behind it). */
		if (n == 0 && (end_of_input ? made == 0 : made < CHUNK_FRAMES))
			return AIRLOCK_OK;
	}
}

/* One chunk of decoded frames: check, downmix, resample, store. */
static int process(struct pipeline *pl, size_t n)
{
	const float *x = pl->in;

	for (size_t i = 0; i < n * pl->in_channels; i++)
		if (!isfinite(pl->in[i]))
			return AIRLOCK_E_MALFORMED;
	if (pl->mono && pl->in_channels > 1) {
		/* In double, so that the mean of finite samples stays finite. */
		for (size_t f = 0; f < n; f++) {
			double sum = 0.0;

			for (uint32_t c = 0; c < pl->in_channels; c++)
				sum += (double)pl->in[f * pl->in_channels + c];
			pl->mix[f] = (float)(sum / pl->in_channels);
		}
		x = pl->mix;
	}
	if (pl->rs != NULL)
		return resample(pl, x, n, false);
	return sink_put(&pl->sink, x, n);
}

/*
 * Decodes until the source has no more frames, counting source frames as
 * they come: more than max_seconds of them stops the decode at once, and no
 * call ever asks for more than one frame past that cap.
 */
static int decode_all(struct pipeline *pl, uint64_t max_frames, uint64_t *decoded, uint32_t *limit)
{
	uint64_t total = 0;
	int rc = AIRLOCK_OK;

	for (;;) {
		size_t want = CHUNK_FRAMES, got;

		if (max_frames - total < (uint64_t)want)
			want = (size_t)(max_frames - total) + 1;
		rc = pl->src->read(pl->src, pl->in, want, &got);
		if (rc != AIRLOCK_OK) {
			*limit = pl->src->limit;
			break;
		}
		if (got > want) {
			rc = AIRLOCK_E_INTERNAL;
			break;
		}
		if (got == 0)
			break;
		total += (uint64_t)got;
		if (total > max_frames) {
			*limit = AIRLOCK_MAX_SECONDS;
			rc = AIRLOCK_E_TOO_LONG;
			break;
		}
		rc = process(pl, (size_t)got);
		if (rc != AIRLOCK_OK)
			break;
	}
	if (rc == AIRLOCK_OK && pl->rs != NULL)
		rc = resample(pl, pl->in, 0, true);
	*decoded = total;
	return rc;
}

static int alloc_floats(float **p, size_t frames, size_t channels, size_t *accounted)
{
	if (channels > SIZE_MAX / sizeof(float) / frames)
		return AIRLOCK_E_MEMORY;
	*p = malloc(frames * channels * sizeof(float));
	if (*p == NULL)
		return AIRLOCK_E_MEMORY;
	*accounted += frames * channels * sizeof(float);
	return AIRLOCK_OK;
}

/*
 * Opens the source for type on buf, the input after its ID3v2 tags. tail
 * is the trailing ID3v1/APEv2 tags of an MP3 or FLAC stream, which no
 * decoder needs to parse (libFLAC would lose sync on them and fail).
 */
static int src_open(uint32_t type, const uint8_t *buf, size_t len, size_t tail, const struct limits *lim,
		    struct audio_src *s)
{
	switch (type) {
	case AIRLOCK_TYPE_WAV: return wav_src_open(buf, len, lim, s);
	case AIRLOCK_TYPE_AIFF: return aiff_src_open(buf, len, lim, s);
	case AIRLOCK_TYPE_FLAC: return flac_src_open(buf, len, tail, lim, s);
	case AIRLOCK_TYPE_VORBIS:
	case AIRLOCK_TYPE_OPUS: return ogg_src_open(type, buf, len, lim, s);
	case AIRLOCK_TYPE_MP3:
		if (tail > 0)
			s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
		return mpeg_src_open(buf, len - tail, lim, s);
	default: return AIRLOCK_E_INVALID_ARG;
	}
}

int audio_decode(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type, struct frame *out)
{
	return audio_decode_into(buf, len, lim, type, NULL, out);
}

/* The source's rate and channels against the limits: 0, or AIRLOCK_E_OUT_OF_RANGE with *limit set. */
static int check_source(const struct audio_src *src, const struct limits *lim, uint32_t *limit)
{
	if (src->rate < lim->min_rate) {
		*limit = AIRLOCK_MIN_RATE;
		return AIRLOCK_E_OUT_OF_RANGE;
	}
	if (src->rate > lim->max_rate) {
		*limit = AIRLOCK_MAX_RATE;
		return AIRLOCK_E_OUT_OF_RANGE;
	}
	if (src->channels < 1 || src->channels > lim->max_channels) {
		*limit = AIRLOCK_MAX_CHANNELS;
		return AIRLOCK_E_OUT_OF_RANGE;
	}
	return AIRLOCK_OK;
}

/* Everything after the source is open and checked: the decode, its limits, and the frame. Closes src. */
static int run_source(struct audio_src *src, uint32_t changes, const struct limits *lim, const struct pixel_alloc *pa,
		      struct frame *out)
{
	struct pipeline pl;
	uint32_t limit = 0, out_channels, out_rate;
	uint64_t decoded = 0;
	size_t scratch = 0;
	int rc = AIRLOCK_OK;

	memset(&pl, 0, sizeof pl);
	pl.sink.pa = pa;
	pl.src = src;
	pl.in_channels = src->channels;
	pl.mono = lim->mono != 0;
	out_channels = pl.mono ? 1 : pl.in_channels;
	out_rate = lim->out_rate != 0 ? lim->out_rate : src->rate;
	const bool resampling = out_rate != src->rate;
	if (resampling &&
	    ((uint64_t)out_rate * 256 < (uint64_t)src->rate || (uint64_t)out_rate > (uint64_t)src->rate * 256)) {
		/* Conversion by a factor of at most 256 either way: this source cannot reach out_rate. */
		limit = AIRLOCK_OUT_RATE;
		rc = AIRLOCK_E_OUT_OF_RANGE;
		goto out;
	}

	rc = alloc_floats(&pl.in, CHUNK_FRAMES, pl.in_channels, &scratch);
	if (rc == AIRLOCK_OK && pl.mono && pl.in_channels > 1)
		rc = alloc_floats(&pl.mix, CHUNK_FRAMES, 1, &scratch);
	if (rc == AIRLOCK_OK && resampling)
		rc = alloc_floats(&pl.res, CHUNK_FRAMES, out_channels, &scratch);
	if (rc != AIRLOCK_OK) {
		limit = AIRLOCK_MEMORY_BYTES;
		goto out;
	}
	/* The resampler's tables are counted, and held to the budget, before they are built. */
	if (resampling)
		scratch += resampler_memory(src->rate, out_rate, out_channels);
	if (scratch >= lim->memory_bytes) {
		limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_TOO_LONG;
		goto out;
	}
	if (resampling) {
		pl.rs = resampler_new(src->rate, out_rate, out_channels);
		if (pl.rs == NULL) {
			rc = AIRLOCK_E_MEMORY;
			limit = AIRLOCK_MEMORY_BYTES;
			goto out;
		}
	}

	pl.sink.channels = out_channels;
	pl.sink.format = lim->sample_format;
	pl.sink.frame_bytes = out_channels * (lim->sample_format == FRAME_FORMAT_F32 ? sizeof(float) : sizeof(int16_t));
	pl.sink.max_bytes = lim->max_decoded_bytes < SIZE_MAX ? (size_t)lim->max_decoded_bytes : SIZE_MAX;
	pl.sink.budget = lim->memory_bytes - scratch < SIZE_MAX ? (size_t)(lim->memory_bytes - scratch) : SIZE_MAX;
	pl.sink.max_frames = (uint64_t)lim->max_seconds * out_rate;

	rc = decode_all(&pl, (uint64_t)lim->max_seconds * (uint64_t)src->rate, &decoded, &limit);
	if (rc != AIRLOCK_OK) {
		if (pl.sink.limit != 0)
			limit = pl.sink.limit;
		goto out;
	}
	if (pl.sink.frames == 0) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	/*
	 * Length policy: the stream is decoded until its data ends, and no
	 * header's length ever ends it early. A file that ends, without any
	 * decoder error, before the length its container announced (FLAC's
	 * STREAMINFO total, an Ogg stream's last granule position, an MP3's
	 * Xing frame count, a WAV or AIFF sound chunk's size) is accepted with
	 * what it holds and flagged AIRLOCK_CHANGE_TRUNCATED: downloads cut
	 * short are common and their audio is sound. An announced length that
	 * is shorter than the audio is simply wrong, and flags nothing.
	 */
	if (src->declared > 0 && decoded < src->declared)
		changes |= AIRLOCK_CHANGE_TRUNCATED;
	changes |= src->changes;
	if (pl.mono && pl.in_channels > 1)
		changes |= AIRLOCK_CHANGE_DOWNMIXED;
	if (pl.rs != NULL)
		changes |= AIRLOCK_CHANGE_RESAMPLED;
	if (src->format != lim->sample_format)
		changes |= AIRLOCK_CHANGE_FORMAT_CONVERTED;

	if (pl.sink.used < pl.sink.cap) {
		uint8_t *p = pixels_resize(pl.sink.pa, pl.sink.data, pl.sink.cap, pl.sink.used);

		if (p != NULL) {
			pl.sink.data = p;
			pl.sink.cap = pl.sink.used;
		}
	}
	out->kind = FRAME_KIND_AUDIO;
	out->format = lim->sample_format;
	out->channels = out_channels;
	out->rate = out_rate;
	out->frames = pl.sink.frames;
	out->changes = changes;
	out->pixels = pl.sink.data;
	out->size = pl.sink.used;
	pl.sink.data = NULL;
out:
	resampler_free(pl.rs);
	if (src->close != NULL)
		src->close(src);
	free(pl.in);
	free(pl.mix);
	free(pl.res);
	if (pl.sink.data != NULL)
		pixels_release(pl.sink.pa, pl.sink.data, pl.sink.cap);
	if (rc != AIRLOCK_OK) {
		out->limit = limit;
		out->frames = decoded;
	}
	return rc;
}

int audio_decode_src(struct audio_src *src, const struct limits *lim, const struct pixel_alloc *pa, struct frame *out)
{
	uint32_t limit = 0;
	int rc = check_source(src, lim, &limit);

	if (rc != AIRLOCK_OK) {
		if (src->close != NULL)
			src->close(src);
		out->limit = limit;
		return rc;
	}
	return run_source(src, 0, lim, pa, out);
}

int audio_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
		      const struct pixel_alloc *pa, struct frame *out)
{
	struct audio_src src;
	uint32_t changes = 0, limit = 0;
	size_t skip, tail;
	int rc = AIRLOCK_OK;

	memset(&src, 0, sizeof src);
	if (out == NULL)
		return AIRLOCK_E_INVALID_ARG; /* nothing held yet, and nowhere to report */
	memset(out, 0, sizeof *out);
	out->type = type;
	if (buf == NULL || lim == NULL || !is_audio_type(type) ||
	    (lim->sample_format != FRAME_FORMAT_F32 && lim->sample_format != FRAME_FORMAT_S16))
		return AIRLOCK_E_INVALID_ARG;
	if (len == 0)
		return AIRLOCK_E_EMPTY;
	/* libsndfile's offsets (sf_count_t) must reach the end of any input. */
	if ((uint64_t)len > (uint64_t)SF_COUNT_MAX)
		return AIRLOCK_E_INPUT_TOO_BIG;
	/* ID3v2 tags before the container are metadata that no decoder needs to parse: they are cut off here. */
	skip = leading_id3v2(buf, len);
	if (skip > 0)
		changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	rc = check_magic(type, buf + skip, len - skip);
	if (rc != AIRLOCK_OK)
		return rc;
	tail = type == AIRLOCK_TYPE_MP3 || type == AIRLOCK_TYPE_FLAC ? audio_trailing_tags(buf + skip, len - skip) : 0;
	rc = src_open(type, buf + skip, len - skip, tail, lim, &src);
	if (rc != AIRLOCK_OK)
		goto fail;
	rc = check_source(&src, lim, &limit);
	/* Header limits first; the frame walk reads the whole input. */
	if (rc == AIRLOCK_OK && type == AIRLOCK_TYPE_FLAC)
		rc = flac_check_frames(buf + skip, len - skip, tail);
	if (rc != AIRLOCK_OK)
		goto fail;
	return run_source(&src, changes, lim, pa, out);
fail:
	if (src.close != NULL)
		src.close(&src);
	out->limit = limit;
	return rc;
}
