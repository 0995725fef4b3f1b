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

/* Frames per chunk handed to the write function or to libFLAC. */
#define AUDIO_CHUNK_FRAMES 4096

/* FLAC's own range (RFC 9639): 1 to 8 channels, rates below 2^20 Hz. */
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

struct flac_sink {
	airlock_write_fn write;
	void *user;
	int failed;
};

static FLAC__StreamEncoderWriteStatus flac_write(const FLAC__StreamEncoder *enc, const FLAC__byte buffer[],
						 size_t bytes, uint32_t samples, uint32_t current_frame, void *data)
{
	struct flac_sink *s = data;

	(void)enc;
	(void)samples;
	(void)current_frame;
	if (s->write(s->user, buffer, bytes) != 0) {
		s->failed = 1;
		return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
	}
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

/*
 * s16 results become 16-bit FLAC, float results 24-bit FLAC (scale 2^23,
 * clipped). The encoder streams and never seeks back, so STREAMINFO carries
 * the exact sample count (known in advance) but no MD5 signature and no
 * frame sizes: RFC 9639 lets all three be zero for "unknown".
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
	if (!FLAC__stream_encoder_set_channels(enc, r->channels) ||
	    !FLAC__stream_encoder_set_bits_per_sample(enc, is_float ? 24 : 16) ||
	    !FLAC__stream_encoder_set_sample_rate(enc, r->rate) ||
	    !FLAC__stream_encoder_set_compression_level(enc, 5) ||
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

		for (size_t i = 0; i < n * r->channels; i++) {
			if (is_float) {
				float v;
				memcpy(&v, r->pixels + (first + i) * 4, 4);
				chunk[i] = to_s24(v);
			} else {
				int16_t v;
				memcpy(&v, r->pixels + (first + i) * 2, 2);
				chunk[i] = v;
			}
		}
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
