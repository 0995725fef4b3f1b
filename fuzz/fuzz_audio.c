/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the audio decoder (decoders/audio.c and the sources
 * it reads through: libsndfile's virtual I/O, libmpg123, libogg with
 * libvorbis and libopus, the Vorbis setup check), as the worker reaches it,
 * with the production limits.
 *
 * Without a trailer the type is what airlock's own signature check says,
 * and non-audio input is skipped. Trailer flags: a bit 0 s16 out (else
 * float32), bit 1 mono, bits 2-4 the output rate, bit 5 allow_adpcm, bit 6
 * a 2-second cap, bit 7 Ogg page CRCs rewritten before decoding; b bits
 * 0-2 pick the type the decoder is told ((b & 7) % 6: any of the six,
 * whatever the bytes are, for the mismatch paths), bits 3-4 the canonical
 * output the result is then encoded to (none, WAV, FLAC, raw).
 */
#include <math.h>
#include <string.h>

#include "audio.h"
#include "encode.h"

static const uint32_t rates[8] = { 0, 16000, 8000, 22050, 44100, 48000, 11025, 96000 };
static const uint32_t types[6] = { AIRLOCK_TYPE_WAV,  AIRLOCK_TYPE_FLAC, AIRLOCK_TYPE_VORBIS,
				   AIRLOCK_TYPE_OPUS, AIRLOCK_TYPE_MP3,	 AIRLOCK_TYPE_AIFF };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limits lim;
	limits_default(&lim);
	uint32_t type = AIRLOCK_TYPE_NONE;
	struct fuzz_flags fl = fuzz_trailer(data, &size);
	if (fl.present) {
		lim.sample_format = (fl.a & 1u) ? FRAME_FORMAT_S16 : FRAME_FORMAT_F32;
		lim.mono = (fl.a >> 1) & 1u;
		lim.out_rate = rates[(fl.a >> 2) & 7u];
		lim.allow_adpcm = (fl.a >> 5) & 1u;
		if (fl.a & 0x40u)
			lim.max_seconds = 2;
		type = types[(fl.b & 7u) % 6];
	} else if (detect_type(NULL, data, size, &type) != AIRLOCK_OK ||
		   !(AIRLOCK_TYPE_BIT(type) & AIRLOCK_TYPES_AUDIO)) {
		return 0;
	}

	uint8_t *fixed = NULL;
	if (fl.present && (fl.a & 0x80u) && (fixed = malloc(size ? size : 1)) != NULL) {
		memcpy(fixed, data, size);
		fuzz_ogg_fix_crcs(fixed, size);
		data = fixed;
	}

	struct frame f = { 0 };
	int rc = audio_decode(data, size, &lim, type, &f);
	free(fixed);
	if (rc != AIRLOCK_OK) {
		fuzz_check_refused(rc, &f);
		return 0;
	}

	/* Decoded audio has the shape the request asked for, and the host's validator agrees. */
	const size_t sample_bytes = lim.sample_format == FRAME_FORMAT_S16 ? 2 : 4;
	FUZZ_CHECK(f.kind == FRAME_KIND_AUDIO && f.format == lim.sample_format && f.type == type);
	FUZZ_CHECK(f.channels >= 1 && f.channels <= lim.max_channels && (!lim.mono || f.channels == 1));
	FUZZ_CHECK(lim.out_rate ? f.rate == lim.out_rate : f.rate >= lim.min_rate && f.rate <= lim.max_rate);
	FUZZ_CHECK(f.frames >= 1 && f.frames <= (uint64_t)lim.max_seconds * f.rate);
	FUZZ_CHECK(f.pixels != NULL && f.size == f.frames * f.channels * sample_bytes);
	FUZZ_CHECK(f.size <= lim.max_decoded_bytes);
	static const airlock_format outputs[4] = { 0, AIRLOCK_FORMAT_WAV, AIRLOCK_FORMAT_FLAC, AIRLOCK_FORMAT_RAW };
	fuzz_audio_accepted(&f, &lim, fl.present ? outputs[(fl.b >> 3) & 3u] : 0);
	frame_free(&f);
	return 0;
}
