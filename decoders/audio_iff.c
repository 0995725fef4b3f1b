/* SPDX-License-Identifier: MIT */
/*
 * The chunk walks that RIFF/WAVE (audio_wav.c) and FORM/AIFF (audio_aiff.c)
 * share: both are EA IFF 85 at heart, a 12-byte form header and then
 * chunks of a four-byte ID, a 32-bit size and a body padded to even; only
 * the byte order of the size differs.
 */
#include "audio_src.h"

#include <string.h>

static uint32_t chunk_size(const uint8_t *p, bool big_endian)
{
	return big_endian ? be32(p) : le32(p);
}

/*
 * Any chunk that is not sound, format or padding is metadata (LIST/INFO,
 * id3, bext, cue, smpl, NAME, ANNO, ...). A sound chunk that claims more
 * bytes than the input holds means a cut file: libsndfile quietly shortens
 * its frame count to what is there, so this is the only place the
 * truncation shows. The walk stops at the first chunk that runs past the
 * end; libsndfile judges the damage.
 */
void iff_walk(const uint8_t *buf, size_t len, bool big_endian, const char *sound, const char *const *plain,
	      uint32_t *changes)
{
	size_t p = 12;

	while (len - p >= 8) {
		const uint8_t *id = buf + p;
		uint32_t size = chunk_size(buf + p + 4, big_endian);
		bool known = memcmp(id, sound, 4) == 0;

		for (size_t i = 0; plain[i] != NULL; i++)
			if (memcmp(id, plain[i], 4) == 0)
				known = true;
		if (!known)
			*changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
		p += 8;
		if (size > len - p) {
			if (memcmp(id, sound, 4) == 0)
				*changes |= AIRLOCK_CHANGE_TRUNCATED;
			break;
		}
		p += size;
		if ((size & 1) && p < len)
			p++;
	}
}

/*
 * Finds the first of each chunk. Every chunk before both are found must
 * lie inside the input; the sound chunk alone may run past the end (a cut
 * file: its sound is what is there). A second copy of the format chunk is
 * malformed.
 */
int iff_find(const uint8_t *buf, size_t len, bool big_endian, const char *format, const char *sound,
	     const uint8_t **fmt, uint32_t *fmt_len, const uint8_t **snd, size_t *snd_len)
{
	size_t p = 12;

	*fmt = *snd = NULL;
	*fmt_len = 0;
	*snd_len = 0;
	while (len - p >= 8 && (*fmt == NULL || *snd == NULL)) {
		const uint32_t n = chunk_size(buf + p + 4, big_endian);
		const size_t avail = len - p - 8;

		if (memcmp(buf + p, sound, 4) == 0 && *snd == NULL) {
			*snd = buf + p + 8;
			*snd_len = n < avail ? n : avail;
			if (n > avail)
				break;
		} else if (n > avail) {
			return AIRLOCK_E_MALFORMED;
		} else if (memcmp(buf + p, format, 4) == 0) {
			if (*fmt != NULL)
				return AIRLOCK_E_MALFORMED;
			*fmt = buf + p + 8;
			*fmt_len = n;
		}
		p += 8 + (size_t)n;
		if ((n & 1) && p < len)
			p++;
	}
	return *fmt != NULL && *snd != NULL ? AIRLOCK_OK : AIRLOCK_E_MALFORMED;
}
