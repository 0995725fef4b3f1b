/* SPDX-License-Identifier: MIT */
/*
 * The audio decoder: WAV, AIFF and FLAC through libsndfile's virtual I/O,
 * MP3 through libmpg123, Ogg Vorbis and Ogg Opus through libvorbis and
 * libopus (a file per container, audio_src.h), optional downmix and
 * resampling (resample.c) in the same pass, interleaved float32 or s16 out.
 */
#ifndef AIRLOCK_AUDIO_H
#define AIRLOCK_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/*
 * Full scale of s16 output: a float sample x becomes lrintf(x * 32768)
 * clipped to [-32768, 32767]. This is the exact inverse of libsndfile's
 * s16-to-float read (s / 32768), so 16-bit sources come out bit for bit and
 * sanitizing a sanitized file changes nothing.
 */
#define AUDIO_S16_SCALE 32768.0f

/*
 * Decodes len bytes at buf, which type detection (libmagic) called type, one
 * of AIRLOCK_TYPE_WAV, _FLAC, _VORBIS, _OPUS, _MP3 or _AIFF. A pure function:
 * no globals, no files, no threads, no output.
 *
 * buf and lim are borrowed. On success *out holds an audio frame whose
 * pixels (the interleaved samples, lim->sample_format) the caller frees with
 * frame_free(). On failure nothing is allocated, out->pixels is NULL, and
 * out->type and out->limit (the airlock_key that tripped, or 0) say what was
 * learned, and out->frames how many source frames had been decoded when the
 * decoder stopped (at most one chunk past a max_seconds or max_decoded_bytes
 * cap: the tests' proof that a long input is not decoded to its end). The
 * worker never sends frames on failure.
 *
 * Returns AIRLOCK_OK or an airlock_error:
 *   AIRLOCK_E_INVALID_ARG    NULL pointer, a type that is not audio, a bad
 *                            sample_format
 *   AIRLOCK_E_EMPTY          len == 0
 *   AIRLOCK_E_TYPE_MISMATCH  libsndfile reads a container other than type
 *   AIRLOCK_E_UNSUPPORTED    a codec outside the default set (ADPCM, GSM,
 *                            DOUBLE, ...) without lim->allow_adpcm, or a
 *                            variant libsndfile cannot decode (12-bit FLAC)
 *   AIRLOCK_E_OUT_OF_RANGE   sample rate or channel count outside the limits,
 *                            or a source rate more than 256 times out_rate
 *                            or less than 1/256 of it (limit AIRLOCK_OUT_RATE)
 *   AIRLOCK_E_TOO_LONG       more than max_seconds of audio, more than
 *                            max_decoded_bytes of output, or an output
 *                            larger than the memory_bytes budget
 *   AIRLOCK_E_MALFORMED      a WAV or AIFF chunk layout the canonical header
 *                            cannot be written from, anything libsndfile
 *                            reports while reading, NaN
 *                            or infinite samples, no samples at all, or
 *                            stream parameters that change mid-stream
 *   AIRLOCK_E_MEMORY         an allocation failed (the worker's cap)
 */
int audio_decode(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type, struct frame *out);
/* The same, with the samples where pa says (decode.h). */
int audio_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
		      const struct pixel_alloc *pa, struct frame *out);

#endif
