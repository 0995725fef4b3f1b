/* SPDX-License-Identifier: MIT */
/*
 * Audio: untrusted bytes to interleaved float32 or s16 samples.
 *
 * The codec work is done by one library per container, each behind a source
 * (audio_src.h): libsndfile for WAV, AIFF and FLAC, reading the buffer
 * through its virtual I/O; libmpg123 for MPEG audio (audio_mpeg.c); libogg,
 * libvorbis and libopus for Ogg (audio_ogg.c). resample.c resamples. Every
 * stream is read until its data ends, never to a length a header states.
 * What this file adds is policy: the container
 * must be the type libmagic saw, only a small set of codecs is decoded by
 * default, rate and channel count are checked from the header, and duration
 * and output size are counted from what is really decoded, chunk by chunk,
 * never from what a header claims. A few bounded walks over the raw bytes
 * find what libsndfile does not report: metadata it skips silently, and FLAC
 * frames whose sample rate or depth disagree with STREAMINFO. (Ogg's own
 * checks are in audio_ogg.c.)
 *
 * Everything here runs inside the seccomp-confined worker: no files, no
 * threads, no globals, no output; memory comes from malloc alone.
 */
#include "audio.h"
#include "audio_src.h"
#include "resample.h"

#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames per sf_readf_float() call, and per resampler output block. */
#define CHUNK_FRAMES 4096
/* First size of the output buffer; it doubles from there. */
#define OUT_INITIAL_BYTES ((size_t)64 * 1024)

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
/* Bounded walks over the raw container, for what libsndfile does not say. */

/* Bytes taken by an ID3v2 tag at the start of p (header, body, footer), or 0; at most n. */
static size_t id3v2_size(const uint8_t *p, size_t n)
{
	size_t size;

	if (n < 10 || memcmp(p, "ID3", 3) != 0 || p[3] == 0xFF || p[4] == 0xFF)
		return 0;
	if ((p[6] | p[7] | p[8] | p[9]) & 0x80)
		return 0;
	size = 10 + ((size_t)p[6] << 21 | (size_t)p[7] << 14 | (size_t)p[8] << 7 | p[9]);
	if (p[5] & 0x10)
		size += 10;
	return size < n ? size : n;
}

/*
 * ID3v1 and APEv2 tags at the end: MP3's ways to carry text, which FLAC
 * files wear too (taggers write them whatever the format). An APEv2 tag
 * sits before an ID3v1 one when both are there; its footer gives its size,
 * and a header of 32 bytes more when flag bit 31 says there is one.
 */
size_t audio_trailing_tags(const uint8_t *buf, size_t len)
{
	size_t tail = 0;

	if (len >= 128 && memcmp(buf + len - 128, "TAG", 3) == 0)
		tail = 128;
	if (len - tail >= 32 && memcmp(buf + len - tail - 32, "APETAGEX", 8) == 0) {
		const uint8_t *f = buf + len - tail - 32;
		uint64_t size = le32(f + 12); /* items and footer */

		if (le32(f + 20) & 0x80000000u)
			size += 32;
		/* A size that does not fit is no tag of ours: the bytes stay, and the decoder judges them. */
		if (size >= 32 && size <= len - tail)
			tail += (size_t)size;
	}
	return tail;
}

/* Bytes taken by the ID3v2 tags at the start of buf, one after another. */
static size_t leading_id3v2(const uint8_t *buf, size_t len)
{
	size_t skip = 0, n;

	while ((n = id3v2_size(buf + skip, len - skip)) > 0)
		skip += n;
	return skip;
}

/* The airlock type whose magic starts buf (Ogg as AIRLOCK_TYPE_VORBIS), or AIRLOCK_TYPE_NONE. */
static uint32_t magic_type(const uint8_t *buf, size_t len)
{
	if (len >= 12 && (memcmp(buf, "RIFF", 4) == 0 || memcmp(buf, "RIFX", 4) == 0) &&
	    memcmp(buf + 8, "WAVE", 4) == 0)
		return AIRLOCK_TYPE_WAV;
	if (len >= 12 && memcmp(buf, "FORM", 4) == 0 &&
	    (memcmp(buf + 8, "AIFF", 4) == 0 || memcmp(buf + 8, "AIFC", 4) == 0))
		return AIRLOCK_TYPE_AIFF;
	if (len >= 4 && memcmp(buf, "fLaC", 4) == 0)
		return AIRLOCK_TYPE_FLAC;
	if (len >= 4 && memcmp(buf, "OggS", 4) == 0)
		return AIRLOCK_TYPE_VORBIS;
	if (mpeg_sync(buf, len))
		return AIRLOCK_TYPE_MP3;
	return AIRLOCK_TYPE_NONE;
}

/*
 * The input (after any ID3v2 tags) must start with the magic of the type
 * libmagic saw: another known container is a mismatch, anything else is
 * malformed. Past this check libsndfile recognises the container from its
 * first bytes and never goes probing the file system for it.
 */
static int check_magic(uint32_t type, const uint8_t *buf, size_t len)
{
	uint32_t found = magic_type(buf, len);

	if (found == AIRLOCK_TYPE_NONE)
		return AIRLOCK_E_MALFORMED;
	if (found == AIRLOCK_TYPE_VORBIS && type == AIRLOCK_TYPE_OPUS)
		return AIRLOCK_OK;
	return found == type ? AIRLOCK_OK : AIRLOCK_E_TYPE_MISMATCH;
}

/*
 * RIFF/WAVE and FORM/AIFF. Any chunk that is not sound, format or padding is
 * metadata (LIST/INFO, id3, bext, cue, smpl, NAME, ANNO, ...). A sound chunk
 * that claims more bytes than the input holds means a cut file: libsndfile
 * quietly shortens its frame count to what is there, so this is the only
 * place the truncation shows. The walk stops at the first chunk that runs
 * past the end; libsndfile judges the damage.
 */
static void iff_walk(const uint8_t *buf, size_t len, bool big_endian, const char *sound, const char *const *plain,
		     uint32_t *changes)
{
	size_t p = 12;

	while (len - p >= 8) {
		const uint8_t *id = buf + p;
		uint32_t size = big_endian ? be32(buf + p + 4) : le32(buf + p + 4);
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
 * WAV and AIFF as libsndfile gets them by default: a canonical header that
 * airlock writes from the fields it checked, then the sound bytes, nothing
 * else. libsndfile's open already parses the codec's header and decodes the
 * first block of ADPCM and GSM streams (the code behind CVE-2021-3246 and
 * CVE-2026-37555), and no check that tries to predict its chunk parser
 * (duplicate chunks, odd sizes, short fact chunks, COMM in plain AIFF) can
 * be sure to agree with it. Here it never sees the original header at all,
 * so it can only take the code paths of the codecs allowed by default:
 *
 *   WAV: format tags PCM (1), IEEE float (3), A-law (6), mu-law (7), and
 *        WAVE_FORMAT_EXTENSIBLE with one of those as its subformat;
 *   AIFF: linear PCM; AIFF-C: the compression types of linear PCM, 32-bit
 *        float and G.711.
 *
 * With allow_adpcm the original bytes go to libsndfile unchanged.
 */
#define CANON_FMT_MAX 256
#define CANON_MAX     (12 + 8 + CANON_FMT_MAX + 8 + 8)

struct canon {
	uint8_t hdr[CANON_MAX];
	size_t hdr_len;
	const uint8_t *sound;
	size_t sound_len;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static bool wav_tag_default(uint32_t tag)
{
	return tag == 1 || tag == 3 || tag == 6 || tag == 7;
}

/* KSDATAFORMAT_SUBTYPE_* after its first two bytes (the format tag). */
static const uint8_t ks_guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
					  0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 };

/*
 * Walks an IFF body from offset 12 and finds the first of two chunks. Every
 * chunk before both are found must lie inside the input; the sound chunk
 * alone may run past the end (a cut file: its sound is what is there). A
 * second copy of the format chunk is malformed.
 */
static int iff_find(const uint8_t *buf, size_t len, bool big_endian, const char *format, const char *sound,
		    const uint8_t **fmt, uint32_t *fmt_len, const uint8_t **snd, size_t *snd_len)
{
	size_t p = 12;

	*fmt = *snd = NULL;
	*fmt_len = 0;
	*snd_len = 0;
	while (len - p >= 8 && (*fmt == NULL || *snd == NULL)) {
		const uint32_t n = big_endian ? be32(buf + p + 4) : le32(buf + p + 4);
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

static int wav_canonical(const uint8_t *buf, size_t len, struct canon *c)
{
	const uint8_t *fmt, *data;
	uint32_t fmt_len, tag;
	size_t data_len;
	uint8_t *h = c->hdr;
	int rc;

	if (memcmp(buf, "RIFF", 4) != 0)
		return AIRLOCK_E_UNSUPPORTED; /* RIFX, big-endian WAV: not in the default set */
	rc = iff_find(buf, len, false, "fmt ", "data", &fmt, &fmt_len, &data, &data_len);
	if (rc != AIRLOCK_OK)
		return rc;
	if (fmt_len < 16 || fmt_len > CANON_FMT_MAX)
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
	c->hdr_len = 20 + fmt_len;
	if (fmt_len & 1)
		h[c->hdr_len++] = 0;
	memcpy(h + c->hdr_len, "data", 4);
	put_le32(h + c->hdr_len + 4, (uint32_t)data_len);
	c->hdr_len += 8;
	put_le32(h + 4, (uint32_t)(c->hdr_len - 8 + data_len < UINT32_MAX ? c->hdr_len - 8 + data_len : UINT32_MAX));
	c->sound = data;
	c->sound_len = data_len;
	return AIRLOCK_OK;
}

static int aiff_canonical(const uint8_t *buf, size_t len, struct canon *c)
{
	static const char *const plain[] = { "NONE", "none", "twos", "sowt", "raw ", "in24", "42ni", "in32",
					     "23ni", "fl32", "FL32", "ulaw", "ULAW", "alaw", "ALAW", NULL };
	const bool aifc = memcmp(buf + 8, "AIFC", 4) == 0;
	const uint8_t *comm, *ssnd;
	uint32_t comm_len, offset;
	size_t ssnd_len;
	uint8_t *h = c->hdr;
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
	c->hdr_len = 20 + 18;
	if (aifc) {
		h[42] = 0; /* the codec's name: an empty Pascal string, padded to even */
		h[43] = 0;
		c->hdr_len = 20 + 24;
	}
	c->sound = ssnd + 8 + offset;
	c->sound_len = ssnd_len - 8 - offset;
	memcpy(h + c->hdr_len, "SSND", 4);
	put_be32(h + c->hdr_len + 4, (uint32_t)(c->sound_len + 8 < UINT32_MAX ? c->sound_len + 8 : UINT32_MAX));
	memset(h + c->hdr_len + 8, 0, 8);
	c->hdr_len += 16;
	put_be32(h + 4,
		 (uint32_t)(c->hdr_len - 8 + c->sound_len < UINT32_MAX ? c->hdr_len - 8 + c->sound_len : UINT32_MAX));
	return AIRLOCK_OK;
}

static void wav_walk(const uint8_t *buf, size_t len, uint32_t *changes)
{
	static const char *const plain[] = { "fmt ", "fact", "PEAK", "JUNK", "junk", "PAD ", "FLLR", NULL };

	if (len >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WAVE", 4) == 0)
		iff_walk(buf, len, false, "data", plain, changes);
}

static void aiff_walk(const uint8_t *buf, size_t len, uint32_t *changes)
{
	static const char *const plain[] = { "COMM", "FVER", "PEAK", NULL };

	if (len >= 12 && memcmp(buf, "FORM", 4) == 0 &&
	    (memcmp(buf + 8, "AIFF", 4) == 0 || memcmp(buf + 8, "AIFC", 4) == 0))
		iff_walk(buf, len, true, "SSND", plain, changes);
}

/*
 * The vendor string alone is the encoder's name and every file has one: a
 * block is metadata when it holds any comment. A block too short to tell
 * is counted as metadata.
 */
bool audio_vorbis_comments_present(const uint8_t *p, size_t n)
{
	uint32_t vendor;

	if (n < 4)
		return true;
	vendor = le32(p);
	if (vendor > n - 4 || n - 4 - vendor < 4)
		return true;
	return le32(p + 4 + vendor) != 0;
}

/* FLAC: RFC 9639. */

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
static int flac_check_frames(const uint8_t *buf, size_t len, size_t p, const struct flac_info *si)
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

/*
 * Structural checks, metadata and truncation that the raw container (after
 * its ID3v2 tags) shows, before libsndfile sees it. Sets
 * AIRLOCK_CHANGE_METADATA_DROPPED and _TRUNCATED in *changes; for FLAC,
 * *si and *frames_at for flac_check_frames().
 */
static int sniff_container(uint32_t type, const uint8_t *buf, size_t len, uint32_t *changes, struct flac_info *si,
			   size_t *frames_at)
{
	bool metadata = false;
	int rc = AIRLOCK_OK;

	*frames_at = 0;
	switch (type) {
	case AIRLOCK_TYPE_MP3: metadata = audio_trailing_tags(buf, len) > 0; break;
	case AIRLOCK_TYPE_WAV: wav_walk(buf, len, changes); break;
	case AIRLOCK_TYPE_AIFF: aiff_walk(buf, len, changes); break;
	case AIRLOCK_TYPE_FLAC:
		metadata = audio_trailing_tags(buf, len) > 0;
		rc = flac_sniff(buf, len, &metadata, si, frames_at);
		break;
	default: break;
	}
	if (metadata)
		*changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	return rc;
}

/* ------------------------------------------------------------------------ */
/* What libsndfile reports about the stream. */

static bool is_audio_type(uint32_t type)
{
	return type < AIRLOCK_TYPE_COUNT_ && (AIRLOCK_TYPES_AUDIO & AIRLOCK_TYPE_BIT(type)) != 0;
}

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
	case AIRLOCK_TYPE_VORBIS: match = major == SF_FORMAT_OGG && subtype == SF_FORMAT_VORBIS; break;
	case AIRLOCK_TYPE_OPUS: match = major == SF_FORMAT_OGG && subtype == SF_FORMAT_OPUS; break;
	case AIRLOCK_TYPE_MP3: match = major == SF_FORMAT_MPEG; break;
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

/*
 * WAV, AIFF and FLAC through libsndfile. It cuts every read at the frame
 * count it found at open; for WAV and AIFF that is the sound chunk as far
 * as the input holds it (the canonical header says exactly that), and for
 * FLAC it would be STREAMINFO's total, which any encoder or editor may have
 * written wrong. libsndfile is shown a copy of STREAMINFO with the total
 * set to 0 (unknown, RFC 9639), so that it reads until libFLAC finds no
 * more frames; the stated total is kept to flag a cut file.
 */
#define FLAC_HEAD 42 /* "fLaC", a block header, STREAMINFO's 34 bytes */

struct sndfile_state {
	SNDFILE *snd;
	SF_VIRTUAL_IO vio;
	struct membuf mb;
	struct canon canon;
	uint8_t flac_head[FLAC_HEAD];
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

/* buf is the input after its ID3v2 tags and before its trailing tags; si is what flac_sniff() read. */
static int sndfile_open(uint32_t type, const uint8_t *buf, size_t len, const struct limits *lim,
			const struct flac_info *si, struct audio_src *s, uint32_t *src_format)
{
	struct sndfile_state *st = calloc(1, sizeof *st);
	SF_INFO info;
	int rc;

	if (st == NULL)
		return AIRLOCK_E_MEMORY;
	s->state = st;
	s->read = sndfile_read;
	s->close = sndfile_close;
	st->vio = (SF_VIRTUAL_IO){ mem_get_filelen, mem_seek, mem_read, mem_write, mem_tell };
	st->mb = (struct membuf){ NULL, 0, buf, (sf_count_t)len, 0 };
	if ((type == AIRLOCK_TYPE_WAV || type == AIRLOCK_TYPE_AIFF) && !lim->allow_adpcm) {
		rc = type == AIRLOCK_TYPE_WAV ? wav_canonical(buf, len, &st->canon)
					      : aiff_canonical(buf, len, &st->canon);
		if (rc != AIRLOCK_OK)
			return rc;
		st->mb.pre = st->canon.hdr;
		st->mb.pre_len = (sf_count_t)st->canon.hdr_len;
		st->mb.buf = st->canon.sound;
		st->mb.len = (sf_count_t)st->canon.sound_len;
	} else if (type == AIRLOCK_TYPE_FLAC && len >= FLAC_HEAD) {
		/* flac_sniff() checked that STREAMINFO, 34 bytes, is the first block. */
		memcpy(st->flac_head, buf, FLAC_HEAD);
		st->flac_head[8 + 13] &= 0xF0;
		memset(st->flac_head + 8 + 14, 0, 4);
		st->mb.pre = st->flac_head;
		st->mb.pre_len = FLAC_HEAD;
		st->mb.buf = buf + FLAC_HEAD;
		st->mb.len = (sf_count_t)(len - FLAC_HEAD);
		s->declared = si->total;
	}
	st->mb.len += st->mb.pre_len;

	memset(&info, 0, sizeof info);
	st->snd = sf_open_virtual(&st->vio, SFM_READ, &info, &st->mb);
	if (st->snd == NULL)
		return open_error();
	rc = check_format(type, info.format, lim);
	if (rc != AIRLOCK_OK)
		return rc;
	/* A rate or channel count of 0 is refused by the limits below, as any other out of range. */
	s->rate = info.samplerate > 0 ? (uint32_t)info.samplerate : 0;
	s->channels = info.channels > 0 ? (uint32_t)info.channels : 0;
	*src_format = source_format(info.format);
	if (has_strings(st->snd))
		s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	sf_command(st->snd, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
	return AIRLOCK_OK;
}

/* ------------------------------------------------------------------------ */
/* Output: conversion, limits, and a buffer that grows geometrically. */

struct sink {
	const struct pixel_alloc *pa; /* where data lives: NULL for malloc */
	uint8_t *data;
	size_t cap;  /* bytes allocated */
	size_t used; /* bytes written */
	uint64_t frames;
	uint32_t channels;
	uint32_t format;     /* FRAME_FORMAT_F32 or FRAME_FORMAT_S16 */
	size_t frame_bytes;  /* channels * sample bytes */
	size_t max_bytes;    /* lim->max_decoded_bytes */
	size_t budget;	     /* what memory_bytes leaves for the output */
	uint64_t max_frames; /* max_seconds at the output rate */
	uint32_t limit;	     /* the airlock_key that tripped */
};

static int16_t to_s16(float x)
{
	float v = x * AUDIO_S16_SCALE;

	if (v >= 32767.0f)
		return 32767;
	if (v <= -32768.0f)
		return -32768;
	return (int16_t)lrintf(v);
}

static int sink_reserve(struct sink *s, size_t need)
{
	size_t cap = s->cap > 0 ? s->cap : OUT_INITIAL_BYTES;
	uint8_t *p;

	if (need <= s->cap)
		return AIRLOCK_OK;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* need is within both limits here; the doubling must not overshoot them. */
	if (cap > s->max_bytes)
		cap = s->max_bytes;
	if (cap > s->budget) {
		if (need > s->budget) {
			s->limit = AIRLOCK_MEMORY_BYTES;
			return AIRLOCK_E_TOO_LONG;
		}
		cap = s->budget;
	}
	p = pixels_resize(s->pa, s->data, s->cap, cap);
	if (p == NULL) {
		s->limit = AIRLOCK_MEMORY_BYTES;
		return AIRLOCK_E_MEMORY;
	}
	s->data = p;
	s->cap = cap;
	return AIRLOCK_OK;
}

/* Appends n frames of interleaved float samples in the output format. */
static int sink_put(struct sink *s, const float *src, size_t n)
{
	size_t count = n * s->channels, bytes;
	int rc;

	/*
	 * The source was already held to max_seconds at its own rate; what the
	 * resampler rounds past the same duration at the output rate (a frame
	 * or two, only when the source is right at the cap) is cut, so that a
	 * frame's duration is exactly bounded for the host's check.
	 */
	if (n > s->max_frames - s->frames)
		n = (size_t)(s->max_frames - s->frames);
	count = n * s->channels;
	if (n == 0)
		return AIRLOCK_OK;
	/* Mixing and resampling can overflow what the input's finite samples did not. */
	for (size_t i = 0; i < count; i++)
		if (!isfinite(src[i]))
			return AIRLOCK_E_MALFORMED;
	if (n > SIZE_MAX / s->frame_bytes)
		goto too_long;
	bytes = n * s->frame_bytes;
	if (bytes > s->max_bytes - s->used)
		goto too_long;
	rc = sink_reserve(s, s->used + bytes);
	if (rc != AIRLOCK_OK)
		return rc;
	if (s->format == FRAME_FORMAT_F32) {
		memcpy(s->data + s->used, src, bytes);
	} else {
		int16_t *dst = (int16_t *)(void *)(s->data + s->used);

		for (size_t i = 0; i < count; i++)
			dst[i] = to_s16(src[i]);
	}
	s->used += bytes;
	s->frames += n;
	return AIRLOCK_OK;
too_long:
	s->limit = AIRLOCK_MAX_DECODED_BYTES;
	return AIRLOCK_E_TOO_LONG;
}

/* ------------------------------------------------------------------------ */
/* The decode loop. */

struct pipeline {
	struct audio_src *src;
	struct resampler *rs; /* NULL: no resampling */
	uint32_t in_channels;
	bool mono;  /* downmix to one channel */
	float *in;  /* CHUNK_FRAMES * in_channels */
	float *mix; /* CHUNK_FRAMES, when mono */
	float *res; /* CHUNK_FRAMES * output channels, when resampling */
	struct sink sink;
};

/* Streams frames through the resampler; end_of_input drains it. */
static int resample(struct pipeline *pl, const float *in, size_t n, bool end_of_input)
{
	for (;;) {
		size_t used = 0;
		const size_t made = resampler_run(pl->rs, in, n, end_of_input, pl->res, CHUNK_FRAMES, &used);
		const int rc = sink_put(&pl->sink, pl->res, made);
		if (rc != AIRLOCK_OK)
			return rc;
		in += used * pl->sink.channels;
		n -= used;
		/* Done when all input is in and nothing more comes out (a full block may have more behind it). */
		if (n == 0 && (end_of_input ? made == 0 : made < CHUNK_FRAMES))
			return AIRLOCK_OK;
	}
}

/* One chunk of decoded frames: check, downmix, resample, store. */
static int process(struct pipeline *pl, size_t n)
{
	const float *x = pl->in;

	for (size_t i = 0; i < n * pl->in_channels; i++)
		if (!isfinite(pl->in[i]))
			return AIRLOCK_E_MALFORMED;
	if (pl->mono && pl->in_channels > 1) {
		/* In double, so that the mean of finite samples stays finite. */
		for (size_t f = 0; f < n; f++) {
			double sum = 0.0;

			for (uint32_t c = 0; c < pl->in_channels; c++)
				sum += (double)pl->in[f * pl->in_channels + c];
			pl->mix[f] = (float)(sum / pl->in_channels);
		}
		x = pl->mix;
	}
	if (pl->rs != NULL)
		return resample(pl, x, n, false);
	return sink_put(&pl->sink, x, n);
}

/*
 * Decodes until the source has no more frames, counting source frames as
 * they come: more than max_seconds of them stops the decode at once, and no
 * call ever asks for more than one frame past that cap.
 */
static int decode_all(struct pipeline *pl, uint64_t max_frames, uint64_t *decoded, uint32_t *limit)
{
	uint64_t total = 0;
	int rc = AIRLOCK_OK;

	for (;;) {
		size_t want = CHUNK_FRAMES, got;

		if (max_frames - total < (uint64_t)want)
			want = (size_t)(max_frames - total) + 1;
		rc = pl->src->read(pl->src, pl->in, want, &got);
		if (rc != AIRLOCK_OK) {
			*limit = pl->src->limit;
			break;
		}
		if (got > want) {
			rc = AIRLOCK_E_INTERNAL;
			break;
		}
		if (got == 0)
			break;
		total += (uint64_t)got;
		if (total > max_frames) {
			*limit = AIRLOCK_MAX_SECONDS;
			rc = AIRLOCK_E_TOO_LONG;
			break;
		}
		rc = process(pl, (size_t)got);
		if (rc != AIRLOCK_OK)
			break;
	}
	if (rc == AIRLOCK_OK && pl->rs != NULL)
		rc = resample(pl, pl->in, 0, true);
	*decoded = total;
	return rc;
}

static int alloc_floats(float **p, size_t frames, size_t channels, size_t *accounted)
{
	if (channels > SIZE_MAX / sizeof(float) / frames)
		return AIRLOCK_E_MEMORY;
	*p = malloc(frames * channels * sizeof(float));
	if (*p == NULL)
		return AIRLOCK_E_MEMORY;
	*accounted += frames * channels * sizeof(float);
	return AIRLOCK_OK;
}

int audio_decode(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type, struct frame *out)
{
	return audio_decode_into(buf, len, lim, type, NULL, out);
}

int audio_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
		      const struct pixel_alloc *pa, struct frame *out)
{
	struct audio_src src;
	struct pipeline pl;
	uint32_t changes = 0, limit = 0, out_channels, out_rate, src_format = FRAME_FORMAT_F32;
	uint64_t decoded = 0;
	struct flac_info si = { 0, 0, 0, 0 };
	size_t scratch = 0, frames_at, skip, tail;
	int rc = AIRLOCK_OK;

	memset(&pl, 0, sizeof pl);
	memset(&src, 0, sizeof src);
	pl.sink.pa = pa;
	pl.src = &src;
	if (out == NULL)
		return AIRLOCK_E_INVALID_ARG; /* nothing held yet, and nowhere to report */
	memset(out, 0, sizeof *out);
	out->type = type;
	if (buf == NULL || lim == NULL || !is_audio_type(type) ||
	    (lim->sample_format != FRAME_FORMAT_F32 && lim->sample_format != FRAME_FORMAT_S16)) {
		rc = AIRLOCK_E_INVALID_ARG;
		goto out;
	}
	if (len == 0) {
		rc = AIRLOCK_E_EMPTY;
		goto out;
	}
	if ((uint64_t)len > (uint64_t)SF_COUNT_MAX) {
		rc = AIRLOCK_E_INPUT_TOO_BIG;
		goto out;
	}
	/*
	 * ID3v2 tags before the container, and ID3v1 and APEv2 tags after an
	 * MP3 or FLAC stream, are metadata that no decoder needs to parse: they
	 * are cut off here. (libFLAC would lose sync on them and fail.)
	 */
	skip = leading_id3v2(buf, len);
	if (skip > 0)
		changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	rc = check_magic(type, buf + skip, len - skip);
	if (rc != AIRLOCK_OK)
		goto out;
	rc = sniff_container(type, buf + skip, len - skip, &changes, &si, &frames_at);
	if (rc != AIRLOCK_OK)
		goto out;
	tail = type == AIRLOCK_TYPE_MP3 || type == AIRLOCK_TYPE_FLAC ? audio_trailing_tags(buf + skip, len - skip) : 0;

	switch (type) {
	case AIRLOCK_TYPE_MP3: rc = mpeg_src_open(buf + skip, len - skip - tail, lim, &src); break;
	case AIRLOCK_TYPE_VORBIS:
	case AIRLOCK_TYPE_OPUS: rc = ogg_src_open(type, buf + skip, len - skip, lim, &src); break;
	default: rc = sndfile_open(type, buf + skip, len - skip - tail, lim, &si, &src, &src_format); break;
	}
	if (rc != AIRLOCK_OK)
		goto out;
	changes |= src.changes;
	if (src.rate < lim->min_rate) {
		limit = AIRLOCK_MIN_RATE;
		rc = AIRLOCK_E_OUT_OF_RANGE;
		goto out;
	}
	if (src.rate > lim->max_rate) {
		limit = AIRLOCK_MAX_RATE;
		rc = AIRLOCK_E_OUT_OF_RANGE;
		goto out;
	}
	if (src.channels < 1 || src.channels > lim->max_channels) {
		limit = AIRLOCK_MAX_CHANNELS;
		rc = AIRLOCK_E_OUT_OF_RANGE;
		goto out;
	}
	/* Header limits first; the frame walk reads the whole input. */
	if (type == AIRLOCK_TYPE_FLAC) {
		rc = flac_check_frames(buf + skip, len - skip - tail, frames_at, &si);
		if (rc != AIRLOCK_OK)
			goto out;
	}
	pl.in_channels = src.channels;
	pl.mono = lim->mono != 0;
	out_channels = pl.mono ? 1 : pl.in_channels;
	out_rate = lim->out_rate != 0 ? lim->out_rate : src.rate;
	const bool resampling = out_rate != src.rate;
	if (resampling &&
	    ((uint64_t)out_rate * 256 < (uint64_t)src.rate || (uint64_t)out_rate > (uint64_t)src.rate * 256)) {
		/* Conversion by a factor of at most 256 either way: this source cannot reach out_rate. */
		limit = AIRLOCK_OUT_RATE;
		rc = AIRLOCK_E_OUT_OF_RANGE;
		goto out;
	}

	rc = alloc_floats(&pl.in, CHUNK_FRAMES, pl.in_channels, &scratch);
	if (rc == AIRLOCK_OK && pl.mono && pl.in_channels > 1)
		rc = alloc_floats(&pl.mix, CHUNK_FRAMES, 1, &scratch);
	if (rc == AIRLOCK_OK && resampling)
		rc = alloc_floats(&pl.res, CHUNK_FRAMES, out_channels, &scratch);
	if (rc != AIRLOCK_OK) {
		limit = AIRLOCK_MEMORY_BYTES;
		goto out;
	}
	/* The resampler's tables are counted, and held to the budget, before they are built. */
	if (resampling)
		scratch += resampler_memory(src.rate, out_rate, out_channels);
	if (scratch >= lim->memory_bytes) {
		limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_TOO_LONG;
		goto out;
	}
	if (resampling) {
		pl.rs = resampler_new(src.rate, out_rate, out_channels);
		if (pl.rs == NULL) {
			rc = AIRLOCK_E_MEMORY;
			limit = AIRLOCK_MEMORY_BYTES;
			goto out;
		}
	}

	pl.sink.channels = out_channels;
	pl.sink.format = lim->sample_format;
	pl.sink.frame_bytes = out_channels * (lim->sample_format == FRAME_FORMAT_F32 ? sizeof(float) : sizeof(int16_t));
	pl.sink.max_bytes = lim->max_decoded_bytes < SIZE_MAX ? (size_t)lim->max_decoded_bytes : SIZE_MAX;
	pl.sink.budget = lim->memory_bytes - scratch < SIZE_MAX ? (size_t)(lim->memory_bytes - scratch) : SIZE_MAX;
	pl.sink.max_frames = (uint64_t)lim->max_seconds * out_rate;

	rc = decode_all(&pl, (uint64_t)lim->max_seconds * (uint64_t)src.rate, &decoded, &limit);
	if (rc != AIRLOCK_OK) {
		if (pl.sink.limit != 0)
			limit = pl.sink.limit;
		goto out;
	}
	if (pl.sink.frames == 0) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	/*
	 * Length policy: the stream is decoded until its data ends, and no
	 * header's length ever ends it early. A file that ends, without any
	 * decoder error, before the length its container announced (FLAC's
	 * STREAMINFO total, an Ogg stream's last granule position, an MP3's
	 * Xing frame count, a WAV or AIFF sound chunk's size) is accepted with
	 * what it holds and flagged AIRLOCK_CHANGE_TRUNCATED: downloads cut
	 * short are common and their audio is sound. An announced length that
	 * is shorter than the audio is simply wrong, and flags nothing.
	 */
	if (src.declared > 0 && decoded < src.declared)
		changes |= AIRLOCK_CHANGE_TRUNCATED;
	changes |= src.changes;
	if (pl.mono && pl.in_channels > 1)
		changes |= AIRLOCK_CHANGE_DOWNMIXED;
	if (pl.rs != NULL)
		changes |= AIRLOCK_CHANGE_RESAMPLED;
	if (src_format != lim->sample_format)
		changes |= AIRLOCK_CHANGE_FORMAT_CONVERTED;

	if (pl.sink.used < pl.sink.cap) {
		uint8_t *p = pixels_resize(pl.sink.pa, pl.sink.data, pl.sink.cap, pl.sink.used);

		if (p != NULL) {
			pl.sink.data = p;
			pl.sink.cap = pl.sink.used;
		}
	}
	out->kind = FRAME_KIND_AUDIO;
	out->format = lim->sample_format;
	out->channels = out_channels;
	out->rate = out_rate;
	out->frames = pl.sink.frames;
	out->changes = changes;
	out->pixels = pl.sink.data;
	out->size = pl.sink.used;
	pl.sink.data = NULL;
out:
	resampler_free(pl.rs);
	if (src.close != NULL)
		src.close(&src);
	free(pl.in);
	free(pl.mix);
	free(pl.res);
	if (pl.sink.data != NULL)
		pixels_release(pl.sink.pa, pl.sink.data, pl.sink.cap);
	if (rc != AIRLOCK_OK) {
		out->limit = limit;
		out->frames = decoded;
	}
	return rc;
}
