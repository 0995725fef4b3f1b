/* SPDX-License-Identifier: MIT */
/*
 * WAV (RIFF/WAVE), decoded by libsndfile. What is WAV's own lives here: the
 * chunk walk that finds metadata and a cut data chunk, and the canonical
 * header that libsndfile reads instead of the file's (audio_sndfile.c says
 * why). By default only these format tags get that far: PCM (1), IEEE
 * float (3), A-law (6), mu-law (7), and WAVE_FORMAT_EXTENSIBLE with one of
 * those as its subformat. With allow_adpcm the original bytes go to
 * libsndfile unchanged.
 */
#include "audio_src.h"

#include <string.h>

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool wav_tag_default(uint32_t tag)
{
	return tag == 1 || tag == 3 || tag == 6 || tag == 7;
}

/* KSDATAFORMAT_SUBTYPE_* after its first two bytes (the format tag). */
static const uint8_t ks_guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					  0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };

static int wav_canonical(const uint8_t *buf, size_t len, struct sndfile_view *v)
{
	const uint8_t *fmt, *data;
	uint32_t fmt_len, tag;
	size_t data_len;
	uint8_t *h = v->head;
	int rc;

	if (memcmp(buf, "RIFF", 4) != 0)
		return AIRLOCK_E_UNSUPPORTED; /* RIFX, big-endian WAV: not in the default set */
	rc = iff_find(buf, len, false, "fmt ", "data", &fmt, &fmt_len, &data, &data_len);
	if (rc != AIRLOCK_OK)
		return rc;
	if (fmt_len < 16 || fmt_len > WAV_FMT_MAX)
		return AIRLOCK_E_MALFORMED;
	tag = fmt[0] | (uint32_t)fmt[1] << 8;
	if (tag == 0xFFFE) {
		if (fmt_len < 40 || memcmp(fmt + 26, ks_guid_tail, sizeof(ks_guid_tail)) != 0)
			return AIRLOCK_E_UNSUPPORTED;
		tag = fmt[24] | (uint32_t)fmt[25] << 8;
	}
	if (!wav_tag_default(tag))
		return AIRLOCK_E_UNSUPPORTED;
	/* No sample has 0 bits or more than a double's 64: not a depth libsndfile lacks, a broken header. */
	const uint32_t bits = fmt[14] | (uint32_t)fmt[15] << 8;
	if (bits == 0 || bits > 64)
		return AIRLOCK_E_MALFORMED;
	/* RIFF, WAVE, the checked fmt chunk (padded to even), a data chunk of exactly the sound there is. */
	memcpy(h, "RIFFxxxxWAVEfmt ", 16);
	put_le32(h + 16, fmt_len);
	memcpy(h + 20, fmt, fmt_len);
	v->head_len = 20 + fmt_len;
	if (fmt_len & 1)
		h[v->head_len++] = 0;
	memcpy(h + v->head_len, "data", 4);
	put_le32(h + v->head_len + 4, (uint32_t)data_len);
	v->head_len += 8;
	put_le32(h + 4, (uint32_t)(v->head_len - 8 + data_len < UINT32_MAX ? v->head_len - 8 + data_len : UINT32_MAX));
	v->body = data;
	v->body_len = data_len;
	return AIRLOCK_OK;
}

static void wav_walk(const uint8_t *buf, size_t len, uint32_t *changes)
{
	static const char *const plain[] = { "fmt ", "fact", "PEAK", "JUNK", "junk", "PAD ", "FLLR", NULL };

	if (len >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WAVE", 4) == 0)
		iff_walk(buf, len, false, "data", plain, changes);
}

int wav_src_open(const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s)
{
	struct sndfile_view v = { .head_len = 0, .body = buf, .body_len = len };

	wav_walk(buf, len, &s->changes);
	if (!lim->allow_adpcm) {
		const int rc = wav_canonical(buf, len, &v);

		if (rc != AIRLOCK_OK)
			return rc;
	}
	return sndfile_src_open(AIRLOCK_TYPE_WAV, &v, lim, s);
}
