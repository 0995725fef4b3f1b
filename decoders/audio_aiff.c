/* SPDX-License-Identifier: MIT */
/*
 * AIFF and AIFF-C (FORM/AIFF, FORM/AIFC), decoded by libsndfile. What is
 * AIFF's own lives here: the chunk walk that finds metadata and a cut SSND
 * chunk, the COMM and SSND checks, and the canonical header that libsndfile
 * reads instead of the file's (audio_sndfile.c says why). By default only
 * linear PCM gets that far, and in AIFF-C the compression types of linear
 * PCM, 32-bit float and G.711. With allow_adpcm the original bytes go to
 * libsndfile unchanged.
 */
#include "audio_src.h"

#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static int aiff_canonical(const uint8_t *buf, size_t len, struct sndfile_view *v)
{
	static const char *const plain[] = { "NONE", "none", "twos", "sowt", "raw ", "in24", "42ni", "in32",
					     "23ni", "fl32", "FL32", "ulaw", "ULAW", "alaw", "ALAW", NULL };
	const bool aifc = memcmp(buf + 8, "AIFC", 4) == 0;
	const uint8_t *comm, *ssnd;
	uint32_t comm_len, offset;
	size_t ssnd_len;
	uint8_t *h = v->head;
	bool known = !aifc;
	int rc = iff_find(buf, len, true, "COMM", "SSND", &comm, &comm_len, &ssnd, &ssnd_len);

	if (rc != AIRLOCK_OK)
		return rc;
	/* Plain AIFF has an 18-byte COMM and no codec; AIFF-C names its codec after those 18 bytes. */
	if (aifc ? comm_len < 22 : comm_len != 18)
		return AIRLOCK_E_MALFORMED;
	for (size_t i = 0; aifc && plain[i] != NULL; i++)
		if (memcmp(comm + 18, plain[i], 4) == 0)
			known = true;
	if (!known)
		return AIRLOCK_E_UNSUPPORTED;
	/* sampleSize is 1..32 (AIFF-C 1.0); anything else is a broken header. */
	const uint32_t bits = (uint32_t)comm[6] << 8 | comm[7];
	if (bits == 0 || bits > 32)
		return AIRLOCK_E_MALFORMED;
	if (ssnd_len < 8)
		return AIRLOCK_E_MALFORMED;
	offset = be32(ssnd);
	if (offset > ssnd_len - 8)
		return AIRLOCK_E_MALFORMED;
	/* FORM, the form type, COMM (AIFF-C: with its codec and an empty name), SSND with no offset or block size. */
	memcpy(h, "FORMxxxx", 8);
	memcpy(h + 8, aifc ? "AIFCCOMM" : "AIFFCOMM", 8);
	put_be32(h + 16, aifc ? 24 : 18);
	memcpy(h + 20, comm, aifc ? 22 : 18);
	v->head_len = 20 + 18;
	if (aifc) {
		h[42] = 0; /* the codec's name: an empty Pascal string, padded to even */
		h[43] = 0;
		v->head_len = 20 + 24;
	}
	v->body = ssnd + 8 + offset;
	v->body_len = ssnd_len - 8 - offset;
	memcpy(h + v->head_len, "SSND", 4);
	put_be32(h + v->head_len + 4, (uint32_t)(v->body_len + 8 < UINT32_MAX ? v->body_len + 8 : UINT32_MAX));
	memset(h + v->head_len + 8, 0, 8);
	v->head_len += 16;
	put_be32(h + 4,
		 (uint32_t)(v->head_len - 8 + v->body_len < UINT32_MAX ? v->head_len - 8 + v->body_len : UINT32_MAX));
	return AIRLOCK_OK;
}

static void aiff_walk(const uint8_t *buf, size_t len, uint32_t *changes)
{
	static const char *const plain[] = { "COMM", "FVER", "PEAK", NULL };

	if (len >= 12 && memcmp(buf, "FORM", 4) == 0 &&
	    (memcmp(buf + 8, "AIFF", 4) == 0 || memcmp(buf + 8, "AIFC", 4) == 0))
		iff_walk(buf, len, true, "SSND", plain, changes);
}

int aiff_src_open(const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s)
{
	struct sndfile_view v = { .head_len = 0, .body = buf, .body_len = len };

	aiff_walk(buf, len, &s->changes);
	if (!lim->allow_adpcm) {
		const int rc = aiff_canonical(buf, len, &v);

		if (rc != AIRLOCK_OK)
			return rc;
	}
	return sndfile_src_open(AIRLOCK_TYPE_AIFF, &v, lim, s);
}
