/* SPDX-License-Identifier: MIT */
/*
 * Canonical audio files, written by the host from PCM that passed frame
 * validation: WAV with fmt, fact (float only) and data chunks, nothing else;
 * FLAC with STREAMINFO and the empty VORBIS_COMMENT libFLAC always writes
 * (its vendor string, no comments). Samples go out in chunks through the
 * caller's write function; a whole file is never held in memory.
 */
#include <FLAC/stream_encoder.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "md5.h"

/* Frames per chunk handed to the write function or to libFLAC. */
#define AUDIO_CHUNK_FRAMES 4096

/*
 * FLAC holds 1 to 8 channels (RFC 9639). Its rates go to 2^20 - 1 Hz; airlock
 * writes at most 655350 Hz, the highest a frame header can state by itself.
 */
#define FLAC_MAX_CHANNELS 8
#define FLAC_MAX_RATE	  655350

/* Full scale of 24-bit output from float samples; 24-bit values are exact in a float. */
#define S24_SCALE 8388608.0f

static void put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, v);
	put_le16(p + 2, v >> 16);
}

static size_t sample_bytes(const airlock_result *r)
{
	return r->format == AIRLOCK_SAMPLE_S16 ? 2 : 4;
}

int audio_result_ok(const airlock_result *r)
{
	return (r->format == AIRLOCK_SAMPLE_S16 || r->format == AIRLOCK_SAMPLE_F32) && r->channels > 0 && r->rate > 0 &&
	       r->frames > 0 && r->size / r->channels / sample_bytes(r) == r->frames &&
	       r->size % (r->channels * sample_bytes(r)) == 0;
}

/* ---- WAV ---- */

/* KSDATAFORMAT_SUBTYPE_PCM and _IEEE_FLOAT differ only in their first byte. */
static const uint8_t ks_subtype_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					     0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };

/*
 * The header: RIFF, fmt (WAVE_FORMAT_PCM or _IEEE_FLOAT; WAVE_FORMAT_EXTENSIBLE
 * with no speaker mask for more than two channels), fact for float, data.
 * Returns its length in hdr, or 0 when the data does not fit RIFF's sizes.
 */
static size_t wav_header(const airlock_result *r, uint8_t hdr[80])
{
	const int is_float = r->format == AIRLOCK_SAMPLE_F32, extensible = r->channels > 2;
	const uint32_t bytes = (uint32_t)sample_bytes(r), tag = is_float ? 3 : 1;
	const uint32_t fmt_len = extensible ? 40 : is_float ? 18 : 16;
	const size_t len = 12 + 8 + fmt_len + (is_float ? 12 : 0) + 8;
	uint8_t *p = hdr;

	if (r->size > UINT32_MAX - len)
		return 0;
	memcpy(p, "RIFF", 4);
	put_le32(p + 4, (uint32_t)(len - 8 + r->size));
	memcpy(p + 8, "WAVEfmt ", 8);
	put_le32(p + 16, fmt_len);
	p += 20;
	put_le16(p, extensible ? 0xFFFE : tag);
	put_le16(p + 2, r->channels);
	put_le32(p + 4, r->rate);
	put_le32(p + 8, r->rate * r->channels * bytes);
	put_le16(p + 12, r->channels * bytes);
	put_le16(p + 14, bytes * 8);
	p += 16;
	if (extensible) {
		put_le16(p, 22);
		put_le16(p + 2, bytes * 8); /* valid bits */
		put_le32(p + 4, 0);	    /* channel mask: no speaker positions claimed */
		put_le16(p + 8, tag);
		memcpy(p + 10, ks_subtype_tail, sizeof(ks_subtype_tail));
		p += 24;
	} else if (is_float) {
		put_le16(p, 0); /* cbSize */
		p += 2;
	}
	if (is_float) {
		memcpy(p, "fact", 4);
		put_le32(p + 4, 4);
		put_le32(p + 8, r->frames > UINT32_MAX ? UINT32_MAX : (uint32_t)r->frames);
		p += 12;
	}
	memcpy(p, "data", 4);
	put_le32(p + 4, (uint32_t)r->size);
	return len;
}

int encode_wav(const airlock_result *r, airlock_write_fn write, void *user)
{
	uint8_t hdr[80];
	uint8_t *chunk;
	const size_t bytes = sample_bytes(r), chunk_samples = (size_t)AUDIO_CHUNK_FRAMES * r->channels;
	const size_t samples = r->size / bytes;
	size_t len = wav_header(r, hdr);
	int rc = AIRLOCK_OK;

	if (len == 0)
		return AIRLOCK_E_TOO_LONG;
	if (write(user, hdr, len) != 0)
		return AIRLOCK_E_IO;
	chunk = malloc(chunk_samples * bytes);
	if (!chunk)
		return AIRLOCK_E_NOMEM;
	/* Samples are native-endian in the result and little-endian in the file. */
	for (size_t s = 0; s < samples && rc == AIRLOCK_OK; s += chunk_samples) {
		size_t n = samples - s < chunk_samples ? samples - s : chunk_samples;
		const uint8_t *src = r->pixels + s * bytes;

		for (size_t i = 0; i < n; i++) {
			if (bytes == 2) {
				int16_t v;
				memcpy(&v, src + i * 2, 2);
				put_le16(chunk + i * 2, (uint16_t)v);
			} else {
				uint32_t v;
				memcpy(&v, src + i * 4, 4);
				put_le32(chunk + i * 4, v);
			}
		}
		if (write(user, chunk, n * bytes) != 0)
			rc = AIRLOCK_E_IO;
	}
	free(chunk);
	return rc;
}

/* ---- FLAC ---- */

/*
 * Where STREAMINFO's MD5 signature sits in the file: after "fLaC", the
 * metadata block header and 18 bytes of block sizes, frame sizes, rate,
 * channels, depth and sample count (RFC 9639, 8.2).
 */
#define FLAC_MD5_OFFSET 26

struct flac_sink {
	airlock_write_fn write;
	void *user;
	uint64_t off; /* bytes written so far */
	uint8_t md5[16];
	int failed;
};

/*
 * Passes libFLAC's output on, with the MD5 signature computed beforehand
 * put in place of the zeros libFLAC wrote: a streaming encoder cannot seek
 * back to fill it in at the end.
 */
static FLAC__StreamEncoderWriteStatus flac_write(const FLAC__StreamEncoder *enc, const FLAC__byte buffer[],
						 size_t bytes, uint32_t samples, uint32_t current_frame, void *data)
{
	struct flac_sink *s = data;
	const uint64_t lo = FLAC_MD5_OFFSET, hi = FLAC_MD5_OFFSET + sizeof(s->md5);
	size_t done = 0;

	(void)enc;
	(void)samples;
	(void)current_frame;
	while (done < bytes) {
		const uint64_t at = s->off + done;
		const uint8_t *src = buffer + done;
		size_t n = bytes - done;

		if (at >= lo && at < hi) {
			src = s->md5 + (at - lo);
			if (n > hi - at)
				n = (size_t)(hi - at);
		} else if (at < lo && n > lo - at) {
			n = (size_t)(lo - at);
		}
		if (s->write(s->user, src, n) != 0) {
			s->failed = 1;
			return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
		}
		done += n;
	}
	s->off += bytes;
	return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

static FLAC__int32 to_s24(float x)
{
	float v = x * S24_SCALE;

	if (v >= 8388607.0f)
		return 8388607;
	if (v <= -8388608.0f)
		return -8388608;
	return (FLAC__int32)lrintf(v);
}

/* Sample i of r as the FLAC encoder takes it: 16-bit, or 24-bit from float. */
static FLAC__int32 flac_sample(const airlock_result *r, size_t i)
{
	if (r->format == AIRLOCK_SAMPLE_F32) {
		float v;
		memcpy(&v, r->pixels + i * 4, 4);
		return to_s24(v);
	}
	int16_t v;
	memcpy(&v, r->pixels + i * 2, 2);
	return v;
}

/* RFC 9639's signature: the samples interleaved, little-endian, in whole bytes of the stream's depth. */
static void flac_md5(const airlock_result *r, uint8_t digest[16])
{
	const size_t samples = (size_t)r->frames * r->channels, width = r->format == AIRLOCK_SAMPLE_F32 ? 3 : 2;
	uint8_t tmp[3 * 1024];
	struct md5 m;

	md5_init(&m);
	for (size_t s = 0; s < samples; s += 1024) {
		size_t n = samples - s < 1024 ? samples - s : 1024;

		for (size_t i = 0; i < n; i++) {
			uint32_t v = (uint32_t)flac_sample(r, s + i);
			for (size_t b = 0; b < width; b++)
				tmp[i * width + b] = (uint8_t)(v >> (8 * b));
		}
		md5_update(&m, tmp, n * width);
	}
	md5_final(&m, digest);
}

/*
 * s16 results become 16-bit FLAC, float results 24-bit FLAC (scale 2^23,
 * clipped). The encoder streams and never seeks back: STREAMINFO carries
 * the exact sample count and the MD5 signature, both known in advance, and
 * leaves the frame sizes zero, which RFC 9639 reads as "unknown".
 */
int encode_flac(const airlock_result *r, airlock_write_fn write, void *user)
{
	struct flac_sink sink = { .write = write, .user = user };
	const int is_float = r->format == AIRLOCK_SAMPLE_F32;
	const size_t chunk_samples = (size_t)AUDIO_CHUNK_FRAMES * r->channels;
	FLAC__StreamEncoder *enc;
	FLAC__int32 *chunk;
	int rc = AIRLOCK_OK;

	if (r->channels > FLAC_MAX_CHANNELS || r->rate > FLAC_MAX_RATE)
		return AIRLOCK_E_INVALID_ARG;
	chunk = malloc(chunk_samples * sizeof(*chunk));
	enc = FLAC__stream_encoder_new();
	if (!chunk || !enc) {
		rc = AIRLOCK_E_NOMEM;
		goto out;
	}
	flac_md5(r, sink.md5);
	if (!FLAC__stream_encoder_set_channels(enc, r->channels) ||
	    !FLAC__stream_encoder_set_bits_per_sample(enc, is_float ? 24 : 16) ||
	    !FLAC__stream_encoder_set_sample_rate(enc, r->rate) ||
	    !FLAC__stream_encoder_set_compression_level(enc, 5) ||
	    /* The streamable subset refuses rates >= 65536 Hz that are not a multiple of 10. */
	    !FLAC__stream_encoder_set_streamable_subset(enc, false) ||
	    !FLAC__stream_encoder_set_total_samples_estimate(enc, r->frames)) {
		rc = AIRLOCK_E_INTERNAL;
		goto out;
	}
	if (FLAC__stream_encoder_init_stream(enc, flac_write, NULL, NULL, NULL, &sink) !=
	    FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
		rc = sink.failed ? AIRLOCK_E_IO : AIRLOCK_E_INTERNAL;
		goto out;
	}
	for (uint64_t f = 0; f < r->frames && rc == AIRLOCK_OK; f += AUDIO_CHUNK_FRAMES) {
		size_t n = r->frames - f < AUDIO_CHUNK_FRAMES ? (size_t)(r->frames - f) : AUDIO_CHUNK_FRAMES;
		const size_t first = (size_t)f * r->channels;

		for (size_t i = 0; i < n * r->channels; i++)
			chunk[i] = flac_sample(r, first + i);
		if (!FLAC__stream_encoder_process_interleaved(enc, chunk, (uint32_t)n))
			rc = sink.failed ? AIRLOCK_E_IO : AIRLOCK_E_INTERNAL;
	}
	if (!FLAC__stream_encoder_finish(enc) && rc == AIRLOCK_OK)
		rc = sink.failed ? AIRLOCK_E_IO : AIRLOCK_E_INTERNAL;
out:
	if (enc)
		FLAC__stream_encoder_delete(enc);
	free(chunk);
	return rc;
}
