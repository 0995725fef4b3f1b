/* SPDX-License-Identifier: MIT */
/*
 * The libsndfile source, which WAV (audio_wav.c), AIFF (audio_aiff.c) and
 * FLAC (audio_flac.c) share: the input as libsndfile virtual I/O, behind a
 * header airlock wrote, and the checks on what libsndfile reports.
 *
 * Why a header airlock wrote: libsndfile's open already parses the codec's
 * header and decodes the first block of ADPCM and GSM streams (the code
 * behind CVE-2021-3246 and CVE-2026-37555), and no check that tries to
 * predict its chunk parser (duplicate chunks, odd sizes, short fact chunks,
 * COMM in plain AIFF) can be sure to agree with it. By default it never
 * sees a WAV or AIFF file's own header at all: the container's file writes
 * a canonical one from the fields it checked, followed by the sound bytes,
 * so libsndfile can only take the code paths of the codecs allowed by
 * default. It cuts every read at the frame count it found at open; for WAV
 * and AIFF that is the sound chunk as far as the input holds it (the
 * canonical header says exactly that).
 */
#include "audio_src.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * libsndfile's private error numbers (SFE_* in its src/common.h) that
 * sf_error(NULL) returns after a failed open. They have kept their values
 * since 1.0; tests/test_audio_decode.c checks the messages still match.
 */
#define SNDFILE_E_MALLOC_FAILED 17
#define SNDFILE_E_UNIMPLEMENTED 18

/* ------------------------------------------------------------------------ */
/* The input buffer as libsndfile virtual I/O: read-only, seekable like a file. */

/* The input, optionally behind a prefix, as one read-only file. */
struct membuf {
	const uint8_t *pre;
	sf_count_t pre_len;
	const uint8_t *buf;
	sf_count_t len; /* pre_len + the input's length */
	sf_count_t pos;
};

static sf_count_t mem_get_filelen(void *user)
{
	const struct membuf *m = user;

	return m->len;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
	struct membuf *m = user;
	sf_count_t base;

	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = m->pos; break;
	case SEEK_END: base = m->len; break;
	default: return -1;
	}
	/* As lseek(): before the start is an error, past the end reads nothing. */
	if (offset < -base || (offset > 0 && offset > SF_COUNT_MAX - base))
		return -1;
	m->pos = base + offset;
	return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
	struct membuf *m = user;
	uint8_t *dst = ptr;
	sf_count_t done = 0;

	while (count > done && m->pos < m->len) {
		sf_count_t n = count - done;

		if (m->pos < m->pre_len) {
			if (n > m->pre_len - m->pos)
				n = m->pre_len - m->pos;
			memcpy(dst + done, m->pre + m->pos, (size_t)n);
		} else {
			if (n > m->len - m->pos)
				n = m->len - m->pos;
			memcpy(dst + done, m->buf + (m->pos - m->pre_len), (size_t)n);
		}
		m->pos += n;
		done += n;
	}
	return done;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user)
{
	(void)ptr;
	(void)count;
	(void)user;
	return 0;
}

static sf_count_t mem_tell(void *user)
{
	const struct membuf *m = user;

	return m->pos;
}

/* ------------------------------------------------------------------------ */
/* What libsndfile reports about the stream. */

/*
 * WAV and AIFF codecs decoded by default: linear PCM, 32-bit float and the
 * G.711 tables. The rest (IMA/MS/VOX/NMS ADPCM, G.72x, GSM 6.10, DWVW,
 * 64-bit float, MPEG in WAV) only with allow_adpcm.
 */
static bool codec_is_default(int subtype)
{
	switch (subtype) {
	case SF_FORMAT_PCM_U8:
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_16:
	case SF_FORMAT_PCM_24:
	case SF_FORMAT_PCM_32:
	case SF_FORMAT_FLOAT:
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW: return true;
	default: return false;
	}
}

/* The container libsndfile found must be the one libmagic saw. */
static int check_format(uint32_t type, int format, const struct limits *lim)
{
	int major = format & SF_FORMAT_TYPEMASK, subtype = format & SF_FORMAT_SUBMASK;
	bool match;

	switch (type) {
	case AIRLOCK_TYPE_WAV: match = major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX; break;
	case AIRLOCK_TYPE_AIFF: match = major == SF_FORMAT_AIFF; break;
	case AIRLOCK_TYPE_FLAC: match = major == SF_FORMAT_FLAC; break;
	default: return AIRLOCK_E_INVALID_ARG;
	}
	if (!match)
		return AIRLOCK_E_TYPE_MISMATCH;
	if ((type == AIRLOCK_TYPE_WAV || type == AIRLOCK_TYPE_AIFF) && !codec_is_default(subtype) && !lim->allow_adpcm)
		return AIRLOCK_E_UNSUPPORTED;
	return AIRLOCK_OK;
}

/* The frame_format the source's samples are in, or 0 for neither output format. */
static uint32_t source_format(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_16: return FRAME_FORMAT_S16;
	case SF_FORMAT_FLOAT:
	/* These decoders produce float32 themselves. */
	case SF_FORMAT_VORBIS:
	case SF_FORMAT_OPUS:
	case SF_FORMAT_MPEG_LAYER_I:
	case SF_FORMAT_MPEG_LAYER_II:
	case SF_FORMAT_MPEG_LAYER_III: return FRAME_FORMAT_F32;
	default: return 0;
	}
}

/* Title, artist, comment and the like, as libsndfile read them from any container. */
static bool has_strings(SNDFILE *snd)
{
	for (int id = SF_STR_FIRST; id <= SF_STR_LAST; id++)
		if (sf_get_string(snd, id) != NULL)
			return true;
	return false;
}

/* libsndfile's reason for refusing to open, as an airlock error. */
static int open_error(void)
{
	switch (sf_error(NULL)) {
	case SF_ERR_UNSUPPORTED_ENCODING:
	case SNDFILE_E_UNIMPLEMENTED: return AIRLOCK_E_UNSUPPORTED;
	case SNDFILE_E_MALLOC_FAILED: return AIRLOCK_E_MEMORY;
	default: return AIRLOCK_E_MALFORMED;
	}
}

/* ------------------------------------------------------------------------ */
/* The source. */

struct sndfile_state {
	SNDFILE *snd;
	SF_VIRTUAL_IO vio;
	struct membuf mb;
	struct sndfile_view view; /* mb reads view.head from here */
};

static int sndfile_read(struct audio_src *s, float *dst, size_t n, size_t *got)
{
	struct sndfile_state *st = s->state;
	sf_count_t k = sf_readf_float(st->snd, dst, (sf_count_t)n);

	*got = 0;
	if (sf_error(st->snd) != SF_ERR_NO_ERROR || k < 0 || (uint64_t)k > n)
		return AIRLOCK_E_MALFORMED;
	*got = (size_t)k;
	return AIRLOCK_OK;
}

static void sndfile_close(struct audio_src *s)
{
	struct sndfile_state *st = s->state;

	if (st == NULL)
		return;
	if (st->snd != NULL)
		sf_close(st->snd);
	free(st);
	s->state = NULL;
}

/* Opens st->mb; s->rate, channels, format and changes from what libsndfile read. */
static int sndfile_start(uint32_t type, struct sndfile_state *st, const struct limits *lim, struct audio_src *s)
{
	SF_INFO info;
	int rc;

	memset(&info, 0, sizeof info);
	st->snd = sf_open_virtual(&st->vio, SFM_READ, &info, &st->mb);
	if (st->snd == NULL)
		return open_error();
	rc = check_format(type, info.format, lim);
	if (rc != AIRLOCK_OK)
		return rc;
	/* A rate or channel count of 0 is refused by the limits later, as any other out of range. */
	s->rate = info.samplerate > 0 ? (uint32_t)info.samplerate : 0;
	s->channels = info.channels > 0 ? (uint32_t)info.channels : 0;
	s->format = source_format(info.format);
	if (has_strings(st->snd))
		s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	sf_command(st->snd, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
	return AIRLOCK_OK;
}

int sndfile_src_open(uint32_t type, const struct sndfile_view *v, const struct limits *lim, struct audio_src *s)
{
	struct sndfile_state *st;
	int rc;

	if (v->head_len > sizeof v->head)
		return AIRLOCK_E_INTERNAL;
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return AIRLOCK_E_MEMORY;
	s->state = st;
	s->read = sndfile_read;
	s->close = sndfile_close;
	st->view = *v;
	st->vio = (SF_VIRTUAL_IO){ mem_get_filelen, mem_seek, mem_read, mem_write, mem_tell };
	st->mb = (struct membuf){ st->view.head, (sf_count_t)v->head_len, v->body,
				  (sf_count_t)v->head_len + (sf_count_t)v->body_len, 0 };
	rc = sndfile_start(type, st, lim, s);
	if (rc != AIRLOCK_OK)
		sndfile_close(s);
	return rc;
}
