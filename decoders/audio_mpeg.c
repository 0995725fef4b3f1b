/* SPDX-License-Identifier: MIT */
/*
 * MPEG audio (Layer I, II and III) through libmpg123, read to the end of the
 * data whatever a header says.
 *
 * libsndfile asks libmpg123 for the length before it decodes and never
 * reads past it; that length is the Xing/Info frame count, or without one
 * an estimate from the first frame's bitrate and the file size, so a VBR
 * file written to a pipe (no Xing frame) came out a fifth as long as it
 * is. Here libmpg123 decodes frame after frame until the input ends, with
 * MPG123_NO_FRANKENSTEIN off, which is what would stop it at the Xing
 * count. Gapless trimming (the encoder delay and padding of the LAME tag)
 * is applied only when the Xing count matches the frames that are there:
 * a tag that disagrees with the stream says nothing reliable about either
 * end of it.
 *
 * Before libmpg123 sees a byte, the frames are walked here: a change of
 * version, layer, sample rate or channel mode mid-stream is rejected
 * (libmpg123 would switch format, or resample, without a word).
 */
#include "audio_src.h"

#include <mpg123.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* An MPEG audio frame header: sync, no reserved version, layer, bitrate or rate. */
bool mpeg_sync(const uint8_t *p, size_t n)
{
	return n >= 4 && p[0] == 0xFF && (p[1] & 0xE0) == 0xE0 && (p[1] & 0x18) != 0x08 && (p[1] & 0x06) != 0 &&
	       (p[2] & 0xF0) != 0xF0 && (p[2] & 0x0C) != 0x0C;
}

/* An MPEG audio frame's format and length in bytes. */
struct mpeg_frame {
	uint32_t version, layer, rate_index, mono;
	size_t bytes;
};

/* The frame's length in bytes; 0 for no header, or a free-format one (its length is not in the header). */
static size_t mpeg_frame_parse(const uint8_t *p, size_t n, struct mpeg_frame *f)
{
	/* kbit/s by [MPEG-1?][layer 1..3][index]; MPEG-2 and 2.5 share their tables. */
	static const uint16_t kbps[2][3][15] = {
		{ { 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256 },
		  { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 },
		  { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 } },
		{ { 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448 },
		  { 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384 },
		  { 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 } },
	};
	static const uint32_t rates[3] = { 44100, 48000, 32000 }; /* MPEG-1; halved for 2, quartered for 2.5 */

	if (!mpeg_sync(p, n))
		return 0;
	f->version = (p[1] >> 3) & 3; /* 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5 */
	f->layer = 4 - ((p[1] >> 1) & 3);
	f->rate_index = (p[2] >> 2) & 3;
	f->mono = (p[3] >> 6) == 3;
	const uint32_t bitrate = (p[2] >> 4) & 15, pad = (p[2] >> 1) & 1, mpeg1 = f->version == 3;
	if (bitrate == 0)
		return 0;
	const uint32_t rate = rates[f->rate_index] >> (mpeg1 ? 0 : f->version == 2 ? 1 : 2);
	const uint32_t bps = kbps[mpeg1][f->layer - 1][bitrate] * 1000u;
	if (f->layer == 1)
		f->bytes = (12 * bps / rate + pad) * 4;
	else
		f->bytes = (f->layer == 3 && !mpeg1 ? 72 : 144) * bps / rate + pad;
	return f->bytes;
}

size_t mpeg_frame_length(const uint8_t *p, size_t n)
{
	struct mpeg_frame f;

	return mpeg_frame_parse(p, n, &f);
}

/*
 * MPEG audio, confirmed: a frame header followed by a second one where the
 * first one's length puts it, with the same version, layer and rate. A
 * free-format first frame states no length: the same header (but for its
 * padding bit) must come again, at the same distance twice.
 */
bool mpeg_confirmed(const uint8_t *buf, size_t len)
{
	struct mpeg_frame f, g;
	size_t n = mpeg_frame_parse(buf, len, &f);

	if (n > 0)
		return n < len && mpeg_frame_parse(buf + n, len - n, &g) > 0 && g.version == f.version &&
		       g.layer == f.layer && g.rate_index == f.rate_index;
	if (!mpeg_sync(buf, len))
		return false;
	/* Free format: the longest frame is 640 kbit/s Layer III at 8 kHz MPEG-2.5, 5760 bytes; search a little past
	 * it. */
	for (size_t d = 24; d <= 8192 && 2 * d + 3 < len; d++) {
		const uint8_t *p = buf + d;

		if (p[0] == buf[0] && p[1] == buf[1] && (p[2] & 0xFD) == (buf[2] & 0xFD)) {
			for (size_t e = d - 1; e <= d + 1; e++) {
				const uint8_t *q = p + e;

				if (q[0] == buf[0] && q[1] == buf[1] && (q[2] & 0xFD) == (buf[2] & 0xFD))
					return true;
			}
		}
	}
	return false;
}

/*
 * Where libmpg123 would pick the stream up again after bytes that are not a
 * frame: the next header at or after p that is followed by a second one
 * where its length says. len if there is none.
 */
static size_t mpeg_resync(const uint8_t *buf, size_t len, size_t p)
{
	struct mpeg_frame f, g;

	for (; p < len; p++) {
		size_t n = mpeg_frame_parse(buf + p, len - p, &f);
		if (n > 0 && n < len - p && mpeg_frame_parse(buf + p + n, len - p - n, &g) > 0)
			return p;
	}
	return len;
}

/*
 * The frame count of a Xing or Info frame (LAME, and most encoders since),
 * which stands in place of the first Layer III frame's audio; -1 when the
 * frame at p is not one or states no count.
 */
static int64_t xing_frames(const uint8_t *p, size_t n, const struct mpeg_frame *f)
{
	size_t at;

	if (f->layer != 3)
		return -1;
	/* The header, its CRC when protected, then the side information, whose size depends on version and mode. */
	at = 4 + ((p[1] & 1) == 0 ? 2 : 0) + (f->version == 3 ? (f->mono ? 17 : 32) : (f->mono ? 9 : 17));
	if (f->bytes < at + 12 || n < at + 12)
		return -1;
	if (memcmp(p + at, "Xing", 4) != 0 && memcmp(p + at, "Info", 4) != 0)
		return -1;
	if ((be32(p + at + 4) & 1) == 0)
		return -1;
	return be32(p + at + 8);
}

/*
 * Follows the frames from the start, across anything between them (junk,
 * a second ID3v2 tag) as libmpg123 does. A frame whose version, layer,
 * sample rate or mode differs from the first is a format change
 * (malformed). *frames is the number of audio frames (an Info frame not
 * counted), *stated the Xing count or -1, *cut whether the last frame
 * runs past the end of the input.
 */
static int mpeg_walk(const uint8_t *buf, size_t len, uint64_t *frames, int64_t *stated, bool *cut)
{
	struct mpeg_frame first, f;
	size_t p = 0, n = mpeg_frame_parse(buf, len, &first);

	*frames = 0;
	*cut = n > len;
	*stated = n > 0 ? xing_frames(buf, len, &first) : -1;
	if (n > 0 && *stated < 0)
		*frames = 1;
	while (n > 0 && n <= len - p) {
		p += n;
		n = mpeg_frame_parse(buf + p, len - p, &f);
		if (n == 0) {
			p = mpeg_resync(buf, len, p);
			n = mpeg_frame_parse(buf + p, len - p, &f);
		}
		if (n == 0)
			break;
		if (f.version != first.version || f.layer != first.layer || f.rate_index != first.rate_index ||
		    f.mono != first.mono)
			return AIRLOCK_E_MALFORMED;
		/* A frame cut short by the end of the input is not counted: the file was cut. */
		if (n <= len - p)
			(*frames)++;
		else
			*cut = true;
	}
	return AIRLOCK_OK;
}

/* ------------------------------------------------------------------------ */

struct mpeg_state {
	mpg123_handle *mh;
	const uint8_t *buf;
	size_t len, pos;
	bool ended;
};

static mpg123_ssize_t mem_read(void *user, void *dst, size_t n)
{
	struct mpeg_state *st = user;

	if (n > st->len - st->pos)
		n = st->len - st->pos;
	memcpy(dst, st->buf + st->pos, n);
	st->pos += n;
	return (mpg123_ssize_t)n;
}

static off_t mem_lseek(void *user, off_t off, int whence)
{
	struct mpeg_state *st = user;
	off_t base;

	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (off_t)st->pos; break;
	case SEEK_END: base = (off_t)st->len; break;
	default: return -1;
	}
	if (off < -base || (off > 0 && (uint64_t)off > st->len - (uint64_t)base))
		return -1;
	st->pos = (size_t)(base + off);
	return (off_t)st->pos;
}

static int mpg123_error_code(mpg123_handle *mh)
{
	return mpg123_errcode(mh) == MPG123_OUT_OF_MEM ? AIRLOCK_E_MEMORY : AIRLOCK_E_MALFORMED;
}

static int mpeg_read(struct audio_src *s, float *dst, size_t n, size_t *got)
{
	struct mpeg_state *st = s->state;
	const size_t frame_bytes = s->channels * sizeof(float);
	size_t done = 0;

	*got = 0;
	if (st->ended)
		return AIRLOCK_OK;
	for (;;) {
		int err = mpg123_read(st->mh, (unsigned char *)dst, n * frame_bytes, &done);

		/* Whole frames only: the format is fixed float at s->channels. */
		if (done % frame_bytes != 0)
			return AIRLOCK_E_MALFORMED;
		*got = done / frame_bytes;
		switch (err) {
		case MPG123_OK: return AIRLOCK_OK;
		case MPG123_DONE: return AIRLOCK_OK; /* *got may be 0: the end */
		case MPG123_NEW_FORMAT:
			/* A change of format mid-stream that the walk did not see (a frame it could not follow). */
			return AIRLOCK_E_MALFORMED;
		case MPG123_NEED_MORE:
			if (done > 0)
				return AIRLOCK_OK;
			continue;
		default:
			/*
			 * A last frame cut short by the end of the input: libmpg123
			 * calls the short read a reader error, having decoded what came
			 * before it. That is a cut file, not a damaged one.
			 */
			if (err == MPG123_ERR && mpg123_errcode(st->mh) == MPG123_ERR_READER && st->pos == st->len) {
				st->ended = true;
				s->changes |= AIRLOCK_CHANGE_TRUNCATED;
				return AIRLOCK_OK;
			}
			return mpg123_error_code(st->mh);
		}
	}
}

static void mpeg_close(struct audio_src *s)
{
	struct mpeg_state *st = s->state;

	if (st == NULL)
		return;
	if (st->mh != NULL) {
		mpg123_close(st->mh);
		mpg123_delete(st->mh);
	}
	free(st);
	s->state = NULL;
}

int mpeg_src_open(const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s)
{
	struct mpeg_state *st;
	uint64_t frames;
	int64_t stated;
	bool cut;
	long rate;
	int channels, encoding, err;
	int rc = mpeg_walk(buf, len, &frames, &stated, &cut);

	(void)lim;
	if (rc != AIRLOCK_OK)
		return rc;
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return AIRLOCK_E_MEMORY;
	st->buf = buf;
	st->len = len;
	s->state = st;
	s->read = mpeg_read;
	s->close = mpeg_close;
	/* A Xing count above what is there is a cut file; below it, a count that was never true. */
	if ((stated >= 0 && (uint64_t)stated > frames) || cut)
		s->changes |= AIRLOCK_CHANGE_TRUNCATED;
	const bool gapless = stated < 0 || (uint64_t)stated == frames;

	/* mpg123_init() ran in the zygote (and is idempotent since 1.27): nothing global happens here. */
	st->mh = mpg123_new(NULL, &err);
	if (st->mh == NULL) {
		rc = err == MPG123_OUT_OF_MEM ? AIRLOCK_E_MEMORY : AIRLOCK_E_INTERNAL;
		goto fail;
	}
	if (mpg123_param(st->mh, MPG123_FLAGS, MPG123_QUIET | MPG123_FORCE_FLOAT | (gapless ? MPG123_GAPLESS : 0),
			 0.0) != MPG123_OK ||
	    mpg123_param(st->mh, MPG123_RESYNC_LIMIT, 8192, 0.0) != MPG123_OK ||
	    mpg123_replace_reader_handle(st->mh, mem_read, mem_lseek, NULL) != MPG123_OK ||
	    mpg123_open_handle(st->mh, st) != MPG123_OK) {
		rc = mpg123_error_code(st->mh);
		goto fail;
	}
	if (mpg123_getformat(st->mh, &rate, &channels, &encoding) != MPG123_OK) {
		rc = mpg123_error_code(st->mh);
		goto fail;
	}
	/* MPG123_FORCE_FLOAT without MPG123_AUTO_RESAMPLE: float at the stream's own rate and channel count. */
	if (rate <= 0 || channels < 1 || channels > 2 || encoding != MPG123_ENC_FLOAT_32) {
		rc = AIRLOCK_E_MALFORMED;
		goto fail;
	}
	s->rate = (uint32_t)rate;
	s->channels = (uint32_t)channels;
	s->format = FRAME_FORMAT_F32;
	return AIRLOCK_OK;
fail:
	mpeg_close(s);
	return rc;
}
