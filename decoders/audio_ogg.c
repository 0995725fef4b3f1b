/* SPDX-License-Identifier: MIT */
/*
 * Ogg Vorbis and Ogg Opus, packet by packet through libogg into libvorbis
 * and libopus, until the pages run out.
 *
 * libsndfile takes the stream's length from the granule position of the
 * last page, found by seeking to the end before decoding, and stops every
 * read there: a last page that claims less than the audio before it cut the
 * stream short without a word. A granule position here never ends the
 * decode. It trims only as the codec's specification allows: libvorbis
 * drops at most the last block's samples past an end-of-stream granule
 * position (as oggdec does), and an Opus end trim must lie within the last
 * page (RFC 7845, section 4.4); a last Opus page whose position would trim
 * more than that trims nothing. A last granule position beyond the audio
 * that is there is a cut file, flagged AIRLOCK_CHANGE_TRUNCATED.
 *
 * Only the first logical stream is read: chained and multiplexed files are
 * refused before libogg sees a page (ogg_check_links()).
 */
#include "audio_src.h"
#include "vorbis_setup.h"

#include <ogg/ogg.h>
#include <opus/opus_multistream.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vorbis/codec.h>

/* Bytes handed to libogg at a time. */
#define OGG_FEED 65536

struct ogg_reader {
	ogg_sync_state oy;
	ogg_stream_state os;
	bool stream_init;
	const uint8_t *buf;
	size_t len, pos;
};

static void reader_init(struct ogg_reader *r, const uint8_t *buf, size_t len)
{
	ogg_sync_init(&r->oy);
	r->stream_init = false;
	r->buf = buf;
	r->len = len;
	r->pos = 0;
}

static void reader_clear(struct ogg_reader *r)
{
	if (r->stream_init)
		ogg_stream_clear(&r->os);
	ogg_sync_clear(&r->oy);
}

/*
 * The next packet of the first logical stream: 1, 0 at the end of the
 * input, or an airlock_error (negated). A page lost to a bad CRC leaves a
 * hole in the packet sequence: audio missing from the middle, which is
 * malformed rather than quietly spliced over.
 */
static int reader_next(struct ogg_reader *r, ogg_packet *op)
{
	for (;;) {
		ogg_page og;
		int k;

		if (r->stream_init) {
			k = ogg_stream_packetout(&r->os, op);
			if (k == 1)
				return 1;
			if (k < 0)
				return -AIRLOCK_E_MALFORMED;
		}
		while ((k = ogg_sync_pageout(&r->oy, &og)) != 1) {
			size_t n = r->len - r->pos < OGG_FEED ? r->len - r->pos : OGG_FEED;
			char *dst;

			/*
			 * k < 0: bytes that are no page were skipped (junk between
			 * pages, a polyglot's tail). A page lost among them shows as a
			 * hole in the packet sequence above.
			 */
			if (k < 0)
				continue;
			if (n == 0)
				return 0;
			dst = ogg_sync_buffer(&r->oy, (long)n);
			if (dst == NULL)
				return -AIRLOCK_E_MEMORY;
			memcpy(dst, r->buf + r->pos, n);
			ogg_sync_wrote(&r->oy, (long)n);
			r->pos += n;
		}
		if (!r->stream_init) {
			if (ogg_stream_init(&r->os, ogg_page_serialno(&og)) != 0)
				return -AIRLOCK_E_MEMORY;
			r->stream_init = true;
		}
		if (ogg_page_serialno(&og) != r->os.serialno)
			continue;
		if (ogg_stream_pagein(&r->os, &og) != 0)
			return -AIRLOCK_E_MALFORMED;
	}
}

/* ------------------------------------------------------------------------ */
/* Vorbis */

struct vorbis_state {
	struct ogg_reader r;
	vorbis_info vi;
	vorbis_comment vc;
	vorbis_dsp_state vd;
	vorbis_block vb;
	bool dsp_init, block_init, eos;
	uint64_t out;	 /* frames handed out, and still buffered in libvorbis */
	bool have_start; /* start is known */
	int64_t start;	 /* the granule position of the first frame */
	int64_t last_gp; /* the last granule position seen, -1 none */
};

static int vorbis_read(struct audio_src *s, float *dst, size_t n, size_t *got)
{
	struct vorbis_state *st = s->state;
	float **pcm;
	int k;

	*got = 0;
	for (;;) {
		ogg_packet op;
		int avail = vorbis_synthesis_pcmout(&st->vd, &pcm);

		if (avail > 0) {
			size_t take = (size_t)avail < n ? (size_t)avail : n;

			for (size_t f = 0; f < take; f++)
				for (uint32_t c = 0; c < s->channels; c++)
					dst[f * s->channels + c] = pcm[c][f];
			vorbis_synthesis_read(&st->vd, (int)take);
			st->out += take;
			*got = take;
			return AIRLOCK_OK;
		}
		k = st->eos ? 0 : reader_next(&st->r, &op);
		if (k < 0)
			return -k;
		if (k == 0) {
			/* The stream's stated end, from where its first granule position put the start. */
			if (st->have_start && st->last_gp > st->start)
				s->declared = (uint64_t)(st->last_gp - st->start);
			return AIRLOCK_OK;
		}
		/* Nothing after the end-of-stream packet belongs to the stream. */
		st->eos = op.e_o_s != 0;
		/* As libvorbisfile: a packet the synthesis refuses is skipped. */
		if (vorbis_synthesis(&st->vb, &op) == 0 && vorbis_synthesis_blockin(&st->vd, &st->vb) != 0)
			return AIRLOCK_E_MALFORMED;
		if (op.granulepos >= 0) {
			/* Frames made up to this packet, read or still buffered, sit at op.granulepos. */
			const uint64_t made = st->out + (uint64_t)vorbis_synthesis_pcmout(&st->vd, NULL);

			if (!st->have_start) {
				st->start = op.granulepos - (int64_t)made;
				st->have_start = true;
			}
			st->last_gp = op.granulepos;
		}
	}
}

static void vorbis_close(struct audio_src *s)
{
	struct vorbis_state *st = s->state;

	if (st == NULL)
		return;
	if (st->block_init)
		vorbis_block_clear(&st->vb);
	if (st->dsp_init)
		vorbis_dsp_clear(&st->vd);
	vorbis_comment_clear(&st->vc);
	vorbis_info_clear(&st->vi);
	reader_clear(&st->r);
	free(st);
	s->state = NULL;
}

static int vorbis_open(const uint8_t *buf, size_t len, struct audio_src *s)
{
	struct vorbis_state *st = calloc(1, sizeof *st);
	ogg_packet op;

	if (st == NULL)
		return AIRLOCK_E_MEMORY;
	reader_init(&st->r, buf, len);
	vorbis_info_init(&st->vi);
	vorbis_comment_init(&st->vc);
	st->last_gp = -1;
	s->state = st;
	s->read = vorbis_read;
	s->close = vorbis_close;
	/* The identification, comment and setup headers, in that order. */
	for (int i = 0; i < 3; i++) {
		int k = reader_next(&st->r, &op);

		if (k <= 0)
			return k < 0 ? -k : AIRLOCK_E_MALFORMED;
		if (i == 0 && op.bytes >= 8 && memcmp(op.packet, "OpusHead", 8) == 0)
			return AIRLOCK_E_TYPE_MISMATCH;
		if ((i == 0) != (op.b_o_s != 0))
			return AIRLOCK_E_MALFORMED;
		if (i == 2) {
			/*
			 * The setup header's codebooks cost libvorbis what they declare,
			 * before any audio: bounded here first (vorbis_setup.h), so that
			 * 3 KB declaring 255 books of 2^22 entries is too_complex in
			 * microseconds rather than a gigabyte and a stack overflow.
			 */
			uint64_t cost;
			int rc = vorbis_setup_check(op.packet, (size_t)op.bytes, (uint32_t)st->vi.channels,
						    VORBIS_SETUP_BUDGET, &cost);

			if (rc != AIRLOCK_OK)
				return rc == AIRLOCK_E_INVALID_ARG ? AIRLOCK_E_MALFORMED : rc;
		}
		if (vorbis_synthesis_headerin(&st->vi, &st->vc, &op) != 0)
			return AIRLOCK_E_MALFORMED;
	}
	if (vorbis_synthesis_init(&st->vd, &st->vi) != 0)
		return AIRLOCK_E_MALFORMED;
	st->dsp_init = true;
	if (vorbis_block_init(&st->vd, &st->vb) != 0)
		return AIRLOCK_E_MEMORY;
	st->block_init = true;
	if (st->vi.rate <= 0 || st->vi.channels < 1)
		return AIRLOCK_E_MALFORMED;
	s->rate = (uint32_t)st->vi.rate;
	s->channels = (uint32_t)st->vi.channels;
	return AIRLOCK_OK;
}

/* ------------------------------------------------------------------------ */
/* Opus (RFC 7845) */

/* The longest Opus packet: 120 ms at 48 kHz. */
#define OPUS_MAX_PACKET 5760

struct opus_state {
	struct ogg_reader r;
	OpusMSDecoder *dec;
	uint32_t factor;    /* 48000 / rate */
	uint64_t skip;	    /* frames of pre-skip still to drop */
	uint32_t preskip48; /* the header's pre-skip, at 48 kHz */
	int64_t start;	    /* granule position of the stream's first sample (48 kHz) */
	bool have_start;
	uint64_t made48; /* samples decoded, at 48 kHz, pre-skip included */
	uint64_t page48; /* of those, from packets of the current page */
	int64_t last_gp; /* the last granule position seen, -1 none */
	bool ended;
	/*
	 * Decoded frames not yet handed out: the last `hold` of them wait for
	 * the end of the stream, which may trim them. pend[head..used).
	 */
	float *pend;
	size_t cap, head, used, hold;
	float *pkt; /* one packet's frames */
};

static int opus_push(struct opus_state *st, uint32_t channels, const float *x, size_t n)
{
	if (st->skip > 0) {
		size_t drop = st->skip < n ? (size_t)st->skip : n;

		x += drop * channels;
		n -= drop;
		st->skip -= drop;
	}
	if (st->head > 0 && st->used + n > st->cap) {
		memmove(st->pend, st->pend + st->head * channels, (st->used - st->head) * channels * sizeof(float));
		st->used -= st->head;
		st->head = 0;
	}
	if (st->used + n > st->cap)
		return AIRLOCK_E_INTERNAL; /* cap is hold plus sixteen packets, and at most hold frames wait */
	memcpy(st->pend + st->used * channels, x, n * channels * sizeof(float));
	st->used += n;
	return AIRLOCK_OK;
}

static int opus_decode_packet(struct audio_src *s, struct opus_state *st, const ogg_packet *op)
{
	const int n48 = opus_packet_get_nb_samples(op->packet, (opus_int32)op->bytes, 48000);
	int n;

	if (op->bytes <= 0 || n48 <= 0)
		return AIRLOCK_E_MALFORMED;
	n = opus_multistream_decode_float(st->dec, op->packet, (opus_int32)op->bytes, st->pkt,
					  (int)(OPUS_MAX_PACKET / st->factor), 0);
	if (n < 0)
		return n == OPUS_ALLOC_FAIL ? AIRLOCK_E_MEMORY : AIRLOCK_E_MALFORMED;
	st->made48 += (uint64_t)n48;
	st->page48 += (uint64_t)n48;
	int rc = opus_push(st, s->channels, st->pkt, (size_t)n);
	if (rc != AIRLOCK_OK)
		return rc;
	if (op->granulepos >= 0) {
		if (!st->have_start) {
			/*
			 * The first page's position less its samples is where the stream
			 * starts; a first page that is also the last must start at 0,
			 * since its position may carry an end trim (RFC 7845, 4.5).
			 */
			if (op->e_o_s) {
				st->start = 0;
			} else if ((uint64_t)op->granulepos < st->made48) {
				return AIRLOCK_E_MALFORMED;
			} else {
				st->start = op->granulepos - (int64_t)st->made48;
			}
			st->have_start = true;
		}
		st->last_gp = op->granulepos;
		if (op->e_o_s) {
			/*
			 * End trimming: only samples of this last page may go (RFC
			 * 7845, 4.4), and only those still held back. A position that
			 * asks for more says nothing true about the end: nothing is
			 * trimmed, and the stream is decoded whole.
			 */
			const int64_t end = op->granulepos - st->start;

			if (end >= 0 && (uint64_t)end < st->made48 && (uint64_t)end >= st->made48 - st->page48) {
				const uint64_t trim = (st->made48 - (uint64_t)end) / st->factor;

				if (trim <= st->used - st->head)
					st->used -= (size_t)trim;
			}
			st->ended = true;
		}
		st->page48 = 0;
	}
	return AIRLOCK_OK;
}

static int opus_read(struct audio_src *s, float *dst, size_t n, size_t *got)
{
	struct opus_state *st = s->state;

	*got = 0;
	for (;;) {
		const size_t ready = st->used - st->head;
		const size_t free_frames = st->ended ? ready : ready > st->hold ? ready - st->hold : 0;

		if (free_frames > 0) {
			size_t take = free_frames < n ? free_frames : n;

			memcpy(dst, st->pend + st->head * s->channels, take * s->channels * sizeof(float));
			st->head += take;
			*got = take;
			return AIRLOCK_OK;
		}
		if (st->ended)
			break;
		ogg_packet op;
		int k = reader_next(&st->r, &op);

		if (k < 0)
			return -k;
		if (k == 0) {
			st->ended = true; /* a cut file: no end trim */
			continue;
		}
		int rc = opus_decode_packet(s, st, &op);
		if (rc != AIRLOCK_OK)
			return rc;
	}
	/* The stream's stated length: its last granule position, less its start and the pre-skip. */
	if (st->have_start && st->last_gp - st->start > (int64_t)st->preskip48)
		s->declared = (uint64_t)(st->last_gp - st->start - (int64_t)st->preskip48) / st->factor;
	return AIRLOCK_OK;
}

static void opus_close(struct audio_src *s)
{
	struct opus_state *st = s->state;

	if (st == NULL)
		return;
	if (st->dec != NULL)
		opus_multistream_decoder_destroy(st->dec);
	reader_clear(&st->r);
	free(st->pend);
	free(st->pkt);
	free(st);
	s->state = NULL;
}

/*
 * The rate libopus decodes at: the lowest of its rates at or above the
 * encoder's input rate (as libsndfile chose it, so results keep the rate
 * they had), 48 kHz when the header names none.
 */
static uint32_t opus_rate(uint32_t input_rate)
{
	static const uint32_t rates[] = { 8000, 12000, 16000, 24000 };

	if (input_rate == 0)
		return 48000;
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
		if (input_rate <= rates[i])
			return rates[i];
	return 48000;
}

static int opus_open(const uint8_t *buf, size_t len, struct audio_src *s)
{
	struct opus_state *st = calloc(1, sizeof *st);
	unsigned char mapping[255];
	ogg_packet op;
	int k, err, streams, coupled;

	if (st == NULL)
		return AIRLOCK_E_MEMORY;
	reader_init(&st->r, buf, len);
	st->last_gp = -1;
	s->state = st;
	s->read = opus_read;
	s->close = opus_close;

	/* OpusHead: RFC 7845, 5.1; the same checks libsndfile made. */
	k = reader_next(&st->r, &op);
	if (k <= 0)
		return k < 0 ? -k : AIRLOCK_E_MALFORMED;
	const uint8_t *h = op.packet;
	if (op.bytes >= 7 && memcmp(h, "\x01vorbis", 7) == 0)
		return AIRLOCK_E_TYPE_MISMATCH;
	if (!op.b_o_s || op.bytes < 19 || op.bytes > 276 || memcmp(h, "OpusHead", 8) != 0)
		return AIRLOCK_E_MALFORMED;
	if (h[8] > 1)
		return AIRLOCK_E_UNSUPPORTED; /* a later major version of the encapsulation */
	const uint32_t channels = h[9], preskip = h[10] | (uint32_t)h[11] << 8, family = h[18];
	const int16_t gain = (int16_t)(h[16] | h[17] << 8);
	if (channels == 0)
		return AIRLOCK_E_MALFORMED;
	if (family == 0) {
		if (channels > 2 || op.bytes != 19)
			return AIRLOCK_E_MALFORMED;
		streams = 1;
		coupled = (int)channels - 1;
		mapping[0] = 0;
		mapping[1] = 1;
	} else {
		if (op.bytes != 21 + (long)channels || (family == 1 && channels > 8))
			return AIRLOCK_E_MALFORMED;
		streams = h[19];
		coupled = h[20];
		if (streams < 1 || coupled > streams || streams + coupled > 255)
			return AIRLOCK_E_MALFORMED;
		for (uint32_t c = 0; c < channels; c++) {
			mapping[c] = h[21 + c];
			if (mapping[c] >= streams + coupled && mapping[c] != 255)
				return AIRLOCK_E_MALFORMED;
		}
	}
	s->rate = opus_rate(le32(h + 12));
	s->channels = channels;
	st->factor = 48000 / s->rate;
	st->skip = preskip / st->factor;
	st->preskip48 = preskip;

	/* OpusTags: one packet, beginning on the second page (ogg_has_metadata() reads its comments). */
	k = reader_next(&st->r, &op);
	if (k <= 0)
		return k < 0 ? -k : AIRLOCK_E_MALFORMED;
	if (op.bytes < 8 || memcmp(op.packet, "OpusTags", 8) != 0)
		return AIRLOCK_E_MALFORMED;

	st->dec = opus_multistream_decoder_create((opus_int32)s->rate, (int)channels, streams, coupled, mapping, &err);
	if (st->dec == NULL)
		return err == OPUS_ALLOC_FAIL ? AIRLOCK_E_MEMORY : AIRLOCK_E_MALFORMED;
	/* The header's output gain is part of the signal (RFC 7845, 5.1), as libsndfile and opusdec apply it. */
	if (opus_multistream_decoder_ctl(st->dec, OPUS_SET_GAIN(gain)) != OPUS_OK)
		return AIRLOCK_E_MALFORMED;
	/*
	 * Two packets' worth wait for the end trim. The buffer holds sixteen
	 * packets more, so that moving what waits back to its start (the
	 * memmove in opus_push) happens once in about sixteen packets, not for
	 * every one: 600 s of Opus is 30,000 packets.
	 */
	st->hold = 2 * OPUS_MAX_PACKET / st->factor;
	st->cap = st->hold + 16 * OPUS_MAX_PACKET / st->factor;
	st->pend = malloc(st->cap * channels * sizeof(float));
	st->pkt = malloc(OPUS_MAX_PACKET / st->factor * channels * sizeof(float));
	if (st->pend == NULL || st->pkt == NULL)
		return AIRLOCK_E_MEMORY;
	return AIRLOCK_OK;
}

/* ------------------------------------------------------------------------ */
/* The container, walked before libogg sees it. */

static bool ogg_has_metadata(const uint8_t *buf, size_t len)
{
	uint8_t head[512];
	size_t full;
	/* The comment header is the second packet; its start says whether it holds any comment. */
	size_t n = ogg_packet_copy(buf, len, 1, head, sizeof head, &full);

	if (n >= 7 && memcmp(head, "\x03vorbis", 7) == 0)
		return audio_vorbis_comments_present(head + 7, n - 7);
	if (n >= 8 && memcmp(head, "OpusTags", 8) == 0)
		return audio_vorbis_comments_present(head + 8, n - 8);
	return false;
}

/*
 * One logical stream only. libsndfile decodes the first link of a chained
 * Ogg file and drops the rest without a word, and later links may change
 * rate or channels: chained and multiplexed files are not decoded. Garbage
 * between pages is skipped up to the next capture pattern, as libogg does.
 */
static int ogg_check_links(const uint8_t *buf, size_t len)
{
	size_t p = 0;

	if (len < 27 || memcmp(buf, "OggS", 4) != 0)
		return AIRLOCK_OK;
	while (len - p >= 27) {
		unsigned nseg;
		size_t body = 0;

		if (memcmp(buf + p, "OggS", 4) != 0) {
			p++;
			continue;
		}
		if (le32(buf + p + 14) != le32(buf + 14) || (p > 0 && (buf[p + 5] & 2) != 0))
			return AIRLOCK_E_UNSUPPORTED;
		nseg = buf[p + 26];
		if (nseg > len - p - 27)
			break;
		for (unsigned i = 0; i < nseg; i++)
			body += buf[p + 27 + i];
		if (body > len - p - 27 - nseg)
			break;
		p += 27 + nseg + body;
	}
	return AIRLOCK_OK;
}

int ogg_src_open(uint32_t type, const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s)
{
	int rc;

	(void)lim;
	if (ogg_has_metadata(buf, len))
		s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	rc = ogg_check_links(buf, len);
	if (rc != AIRLOCK_OK)
		return rc;
	s->format = FRAME_FORMAT_F32; /* libvorbis and libopus decode to float */
	rc = type == AIRLOCK_TYPE_OPUS ? opus_open(buf, len, s) : vorbis_open(buf, len, s);
	if (rc != AIRLOCK_OK)
		s->close(s);
	return rc;
}
