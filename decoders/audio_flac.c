/* SPDX-License-Identifier: MIT */
/*
 * FLAC (RFC 9639), decoded by libsndfile (which uses libFLAC). What is
 * FLAC's own lives here: the metadata block walk (STREAMINFO first and
 * once; which blocks are metadata), the STREAMINFO libsndfile is shown
 * instead of the file's, and the frame header walk that finds a rate,
 * depth or channel count that changes mid-stream.
 *
 * libsndfile cuts every read at the frame count it found at open, for FLAC
 * STREAMINFO's total, which any encoder or editor may have written wrong.
 * It is shown a copy of STREAMINFO with the total set to 0 (unknown, RFC
 * 9639), so that it reads until libFLAC finds no more frames; the stated
 * total is kept to flag a cut file.
 */
#include "audio_src.h"

#include <string.h>

#define FLAC_HEAD 42 /* "fLaC", a block header, STREAMINFO's 34 bytes */

struct flac_info {
	uint32_t rate;
	uint32_t channels;
	uint32_t bits;
	uint64_t total; /* STREAMINFO's total samples per channel; 0: unknown */
};

static uint8_t crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;

	while (n-- > 0) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
	}
	return crc;
}

/*
 * Parses the frame header at p. Returns its length in bytes (CRC-8 included)
 * and fills *fi with what the frame says, taking "as in STREAMINFO" from si;
 * returns 0 when p holds no valid frame header.
 */
static size_t flac_frame_header(const uint8_t *p, size_t n, const struct flac_info *si, struct flac_info *fi)
{
	static const uint32_t rates[12] = { 0,	   88200, 176400, 192000, 8000,	 16000,
					    22050, 24000, 32000,  44100,  48000, 96000 };
	static const uint32_t bits[8] = { 0, 8, 12, 0, 16, 20, 24, 32 };
	unsigned bs_code, sr_code, ch_code, ss_code, extra;
	size_t i = 5;

	if (n < 6 || p[0] != 0xFF || (p[1] & 0xFE) != 0xF8 || (p[3] & 1) != 0)
		return 0;
	bs_code = p[2] >> 4;
	sr_code = p[2] & 15;
	ch_code = p[3] >> 4;
	ss_code = (p[3] >> 1) & 7;
	if (bs_code == 0 || sr_code == 15 || ch_code > 10 || ss_code == 3)
		return 0;
	/* The coded frame or sample number: UTF-8 style, 1 to 7 bytes. */
	if (p[4] >= 0x80) {
		unsigned more = 0;

		if (p[4] < 0xC0 || p[4] == 0xFF)
			return 0;
		for (unsigned b = p[4]; b & 0x40; b <<= 1)
			more++;
		if (n < 5 + more + 1)
			return 0;
		for (unsigned k = 0; k < more; k++)
			if ((p[5 + k] & 0xC0) != 0x80)
				return 0;
		i += more;
	}
	extra = (bs_code == 6 ? 1 : bs_code == 7 ? 2 : 0) + (sr_code == 12 ? 1 : sr_code >= 13 ? 2 : 0);
	if (n < i + extra + 1)
		return 0;
	if (bs_code == 6)
		i += 1;
	else if (bs_code == 7)
		i += 2;
	if (sr_code < 12)
		fi->rate = sr_code == 0 ? si->rate : rates[sr_code];
	else if (sr_code == 12)
		fi->rate = p[i++] * 1000u;
	else {
		fi->rate = be16(p + i) * (sr_code == 14 ? 10u : 1u);
		i += 2;
	}
	fi->bits = ss_code == 0 ? si->bits : bits[ss_code];
	fi->channels = ch_code < 8 ? ch_code + 1 : 2;
	if (crc8(p, i) != p[i])
		return 0;
	return i + 1;
}

/*
 * Follows the chain of FLAC frames from the first one at buf + p and checks
 * each frame header against STREAMINFO. libsndfile errors out on a change of
 * channel count but decodes a change of sample rate or bit depth silently,
 * labelling everything with the first rate: such files are rejected here.
 *
 * The next frame starts at the first frame sync after which the CRC-16 of
 * the bytes so far is zero and a header with a valid CRC-8 follows, so no
 * subframe is decoded. A crafted file can hide a frame from this walk, but
 * all it gains is audio it could have encoded directly; benign encoders
 * that switch parameters are caught. The walk ends quietly where the chain
 * breaks and leaves damaged frames to libFLAC.
 */
static int flac_walk_frames(const uint8_t *buf, size_t len, size_t p, const struct flac_info *si)
{
	uint16_t table[256];
	struct flac_info fi;
	size_t hlen;

	for (unsigned b = 0; b < 256; b++) {
		uint16_t c = (uint16_t)(b << 8);

		for (int k = 0; k < 8; k++)
			c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x8005 : c << 1);
		table[b] = c;
	}
	hlen = flac_frame_header(buf + p, len - p, si, &fi);
	while (hlen > 0) {
		uint16_t crc = 0;
		size_t q;

		if (fi.rate != si->rate || fi.bits != si->bits || fi.channels != si->channels)
			return AIRLOCK_E_MALFORMED;
		for (q = p; q < p + hlen; q++)
			crc = (uint16_t)(crc << 8) ^ table[(crc >> 8) ^ buf[q]];
		hlen = 0;
		for (; q < len; q++) {
			if (crc == 0 && buf[q] == 0xFF && q + 1 < len && (buf[q + 1] & 0xFE) == 0xF8) {
				hlen = flac_frame_header(buf + q, len - q, si, &fi);
				if (hlen > 0)
					break;
			}
			crc = (uint16_t)(crc << 8) ^ table[(crc >> 8) ^ buf[q]];
		}
		p = q;
	}
	return AIRLOCK_OK;
}

/*
 * FLAC metadata blocks: STREAMINFO must come first and only once (RFC 9639);
 * PICTURE, APPLICATION, CUESHEET and a VORBIS_COMMENT with comments count as
 * metadata. *frames_at receives the offset of the first frame.
 */
static int flac_sniff(const uint8_t *buf, size_t len, bool *metadata, struct flac_info *si, size_t *frames_at)
{
	size_t p = 4;
	bool last = false;

	*frames_at = 0;
	if (len < 4 || memcmp(buf, "fLaC", 4) != 0)
		return AIRLOCK_OK;
	for (bool first = true; !last; first = false) {
		unsigned type;
		uint32_t size;

		if (len - p < 4)
			return AIRLOCK_E_MALFORMED;
		last = (buf[p] & 0x80) != 0;
		type = buf[p] & 0x7F;
		size = be24(buf + p + 1);
		p += 4;
		if (size > len - p)
			return AIRLOCK_E_MALFORMED;
		if (first != (type == 0) || type == 127)
			return AIRLOCK_E_MALFORMED;
		switch (type) {
		case 0: /* STREAMINFO */
			if (size != 34)
				return AIRLOCK_E_MALFORMED;
			si->rate = be24(buf + p + 10) >> 4;
			si->channels = ((buf[p + 12] >> 1) & 7u) + 1;
			si->bits = ((buf[p + 12] & 1u) << 4 | buf[p + 13] >> 4) + 1;
			si->total = (uint64_t)(buf[p + 13] & 15u) << 32 | be32(buf + p + 14);
			break;
		case 1: /* PADDING */
		case 3: /* SEEKTABLE */ break;
		case 4: /* VORBIS_COMMENT */
			if (audio_vorbis_comments_present(buf + p, size))
				*metadata = true;
			break;
		default: *metadata = true; break;
		}
		p += size;
	}
	*frames_at = p;
	return AIRLOCK_OK;
}

int flac_src_open(const uint8_t *buf, size_t len, size_t tail, const struct limits *lim, struct audio_src *s)
{
	struct sndfile_view v = { .head_len = 0, .body = buf, .body_len = len - tail };
	struct flac_info si = { 0, 0, 0, 0 };
	bool metadata = tail > 0;
	size_t frames_at;
	const int rc = flac_sniff(buf, len, &metadata, &si, &frames_at);

	if (metadata)
		s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	if (rc != AIRLOCK_OK)
		return rc;
	if (v.body_len >= FLAC_HEAD) {
		/* flac_sniff() checked that STREAMINFO, 34 bytes, is the first block; its total is bits 108-143. */
		memcpy(v.head, buf, FLAC_HEAD);
		v.head[8 + 13] &= 0xF0;
		memset(v.head + 8 + 14, 0, 4);
		v.head_len = FLAC_HEAD;
		v.body += FLAC_HEAD;
		v.body_len -= FLAC_HEAD;
		s->declared = si.total;
	}
	return sndfile_src_open(AIRLOCK_TYPE_FLAC, &v, lim, s);
}

int flac_check_frames(const uint8_t *buf, size_t len, size_t tail)
{
	struct flac_info si = { 0, 0, 0, 0 };
	bool metadata = false;
	size_t frames_at;

	/* The walk flac_src_open() passed, again over the same bytes: STREAMINFO and where the frames start. */
	if (flac_sniff(buf, len, &metadata, &si, &frames_at) != AIRLOCK_OK)
		return AIRLOCK_E_INTERNAL;
	return flac_walk_frames(buf, len - tail, frames_at, &si);
}
