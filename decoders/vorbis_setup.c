/* SPDX-License-Identifier: MIT */
/*
 * The Vorbis setup header walk (vorbis_setup.h). Every read, width and check
 * below follows libvorbis 1.3.7 (lib/info.c _vorbis_unpack_books,
 * lib/codebook.c vorbis_staticbook_unpack, lib/floor0.c, lib/floor1.c,
 * lib/res0.c, lib/mapping0.c), because the bound is only a bound if we
 * read the same header libvorbis reads: a field read one bit off would
 * desynchronise every count after it. The cost terms follow
 * lib/sharedbook.c (vorbis_book_init_decode, _make_words, _book_unquantize)
 * and the look functions that vorbis_synthesis_init runs.
 */
#include "vorbis_setup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "airlock.h"

/* libvorbis's table sizes (codec_internal.h, backends.h, registry.c). */
#define MAX_BOOKS     256
#define VI_TIMEB      1
#define VI_FLOORB     2
#define VI_RESB	      3
#define VI_MAPB	      1
#define VI_WINDOWB    1
#define VIF_POSIT     63
#define MAX_BLOCKSIZE 8192

/*
 * Fixed costs of the small records, rounded up from libvorbis's struct sizes
 * on LP64 so that they stay upper bounds.
 */
/* static_codebook (64 bytes) + codebook (96) + malloc headers, and the
 * first-table of up to 2^8 entries with its fill and hint loops. */
#define BOOK_RECORD (256 + 256 * 4 + 256 * 2)
/* vorbis_info_floor0 (96) + look, and the lazily built linear map: for each
 * block size, (blocksize/2 + 1) ints and one toBARK per entry. */
#define FLOOR0_RECORD (1024 + 2 * ((MAX_BLOCKSIZE / 2 + 1) * 4 + MAX_BLOCKSIZE / 2))
/* vorbis_info_floor1 (~1.1 KB) + vorbis_look_floor1 (~1.3 KB) + the
 * neighbour search over at most 65 posts. */
#define FLOOR1_RECORD (4096 + 65 * 65)
/* vorbis_info_residue0 (~2.4 KB: booklist[512]) + vorbis_look_residue0. */
#define RESIDUE_RECORD 4096
/* vorbis_info_mapping0 (~3.2 KB: chmuxlist[256], coupling[256] x 2). */
#define MAPPING_RECORD 4096
/* vorbis_info_mode. */
#define MODE_RECORD 64

/* oggpack_read() semantics, LSb first: a read past the end returns -1 and
 * every read after it does too (libogg sets endbyte = storage, endbit = 1). */
struct bits {
	const uint8_t *p;
	size_t n;
	uint64_t pos; /* bits consumed */
	bool eof;
};

static int64_t bits_read(struct bits *b, unsigned k)
{
	uint64_t v = 0;

	if (b->eof || k > (uint64_t)b->n * 8 - b->pos) {
		b->eof = true;
		return -1;
	}
	for (unsigned i = 0; i < k; i++, b->pos++)
		v |= (uint64_t)((b->p[b->pos >> 3] >> (b->pos & 7)) & 1) << i;
	return (int64_t)v;
}

/* oggpack_bytes(): storage + 1 once the reader has run out. */
static int64_t bits_left_bytes(const struct bits *b)
{
	uint64_t used = b->eof ? (uint64_t)b->n + 1 : (b->pos + 7) / 8;

	return (int64_t)b->n - (int64_t)used;
}

static unsigned ilog(uint64_t v)
{
	unsigned r = 0;

	while (v) {
		r++;
		v >>= 1;
	}
	return r;
}

static void add(uint64_t *acc, uint64_t v)
{
	if (__builtin_add_overflow(*acc, v, acc))
		*acc = UINT64_MAX;
}

static uint64_t mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* What later sections need to know about a codebook. */
struct book {
	int64_t dim, entries;
	uint64_t used;
	int maptype;
};

struct walk {
	struct bits b;
	uint32_t channels;
	unsigned nbooks;
	struct book books[MAX_BOOKS];
	unsigned floors, residues, maps;
	uint64_t cost;
};

/*
 * _book_maptype1_quantvals(): the greatest v with v^dim <= entries. Only
 * called with dim >= 1; v^dim is compared without overflow by dividing.
 */
static uint64_t maptype1_quantvals(uint64_t entries, uint64_t dim)
{
	uint64_t lo = 1, hi = entries;

	if (entries < 1)
		return 0;
	if (dim == 1)
		return entries;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2, left = entries;
		bool fits = true;

		for (uint64_t i = 0; i < dim && fits; i++) {
			if (left < mid)
				fits = false;
			else
				left /= mid;
		}
		if (fits)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static unsigned ceil_log2(uint64_t v)
{
	return v <= 1 ? 0 : ilog(v - 1);
}

/*
 * What one codebook costs libvorbis: E entries, U of them used, D
 * dimensions, Q quantized values.
 */
static uint64_t book_cost(uint64_t e, uint64_t u, uint64_t d, uint64_t q, int maptype)
{
	uint64_t c = BOOK_RECORD;

	/* vorbis_staticbook_unpack: lengthlist (char) and its fill loop;
	 * quantlist (long) and its read loop. */
	add(&c, mul(e, 2));
	add(&c, mul(q, 9));
	/* vorbis_book_init_decode's loop counting the used entries. */
	add(&c, e);
	if (u == 0)
		return c;
	/* _make_words: the code list (uint32), a walk over all entries, up to
	 * 33 marker steps per used entry, and a bit reversal of up to 32. */
	add(&c, mul(u, 4));
	add(&c, e);
	add(&c, mul(u, 65));
	/* codep and sortindex: alloca, 8 + 4 bytes per used entry, on the
	 * worker's stack (past ~700,000 used entries that alone overflows an
	 * 8 MiB stack). Then qsort's comparisons. */
	add(&c, mul(u, 12));
	add(&c, mul(u, ceil_log2(u)));
	/* codelist, dec_index (4 each), dec_codelengths (1), and the loops
	 * filling them: two over all entries, three over the used ones. */
	add(&c, mul(u, 9));
	add(&c, mul(e, 2));
	add(&c, mul(u, 3));
	/* _book_unquantize: valuelist, U * D floats, one step per value, and
	 * a pass over all entries. */
	if (maptype != 0) {
		add(&c, mul(mul(u, d), 5));
		add(&c, e);
	}
	/* The first-table's hints advance lo and hi at most U times each. */
	add(&c, mul(u, 2));
	return c;
}

/* vorbis_staticbook_unpack(), plus _make_words()'s tree check. */
static int unpack_book(struct walk *w, struct book *bk)
{
	struct bits *b = &w->b;
	int64_t dim, entries, v;
	uint64_t used = 0, kraft = 0, quantvals = 0;
	unsigned first_len = 0;

	if (bits_read(b, 24) != 0x564342)
		return AIRLOCK_E_MALFORMED;
	dim = bits_read(b, 16);
	entries = bits_read(b, 24);
	if (entries == -1)
		return AIRLOCK_E_MALFORMED;
	/* libvorbis does not test dim for -1 here: entries' read failing
	 * covers it, since a failed read fails every read after it. */
	if (ilog((uint64_t)dim) + ilog((uint64_t)entries) > 24)
		return AIRLOCK_E_MALFORMED;

	switch (bits_read(b, 1)) {
	case 0: {
		int64_t unused = bits_read(b, 1);

		/* libvorbis refuses an unordered list longer than what is left:
		 * this is what keeps unordered books small. */
		if ((entries * (unused ? 1 : 5) + 7) >> 3 > bits_left_bytes(b))
			return AIRLOCK_E_MALFORMED;
		for (int64_t i = 0; i < entries; i++) {
			if (unused && (v = bits_read(b, 1)) != 1) {
				if (v == -1)
					return AIRLOCK_E_MALFORMED;
				continue;
			}
			v = bits_read(b, 5);
			if (v == -1)
				return AIRLOCK_E_MALFORMED;
			if (used++ == 0)
				first_len = (unsigned)v + 1;
			kraft += UINT64_C(1) << (32 - (v + 1));
		}
		break;
	}
	case 1: {
		/* Ordered: a few bits per codeword length, whatever the entry
		 * count. This is how 2^24 entries fit in a dozen bytes. */
		int64_t length = bits_read(b, 5) + 1;

		if (length == 0)
			return AIRLOCK_E_MALFORMED;
		for (int64_t i = 0; i < entries;) {
			int64_t num = bits_read(b, ilog((uint64_t)(entries - i)));

			if (num == -1)
				return AIRLOCK_E_MALFORMED;
			if (length > 32 || num > entries - i || (num > 0 && (num - 1) >> (length - 1) > 1))
				return AIRLOCK_E_MALFORMED;
			if (num > 0 && used == 0)
				first_len = (unsigned)length;
			used += (uint64_t)num;
			kraft += (uint64_t)num << (32 - length);
			i += num;
			length++;
		}
		break;
	}
	default: return AIRLOCK_E_MALFORMED;
	}

	bk->maptype = (int)bits_read(b, 4);
	switch (bk->maptype) {
	case 0: break;
	case 1:
	case 2: {
		int64_t q_quant, seq;

		bits_read(b, 32); /* q_min */
		bits_read(b, 32); /* q_delta */
		q_quant = bits_read(b, 4) + 1;
		seq = bits_read(b, 1);
		if (seq == -1)
			return AIRLOCK_E_MALFORMED;
		if (bk->maptype == 1)
			quantvals = dim == 0 ? 0 : maptype1_quantvals((uint64_t)entries, (uint64_t)dim);
		else
			quantvals = (uint64_t)entries * (uint64_t)dim; /* < 2^24: ilog sum <= 24 */
		if ((int64_t)((quantvals * (uint64_t)q_quant + 7) >> 3) > bits_left_bytes(b))
			return AIRLOCK_E_MALFORMED;
		/* Every value is read, not skipped: the reader's state after the
		 * list must be libvorbis's. */
		for (uint64_t i = 0; i < quantvals; i++)
			bits_read(b, (unsigned)q_quant);
		if (quantvals && b->eof)
			return AIRLOCK_E_MALFORMED;
		break;
	}
	default: return AIRLOCK_E_MALFORMED;
	}

	/*
	 * vorbis_book_init_decode() (in vorbis_synthesis_init) refuses a tree
	 * that _make_words finds over- or under-full: the Kraft sum of the used
	 * lengths must be exactly 1, or one codeword of length 1 (the
	 * single-entry special case). libvorbis misses an overfull tree of
	 * 32-bit codewords (its check skips length 32); we do not.
	 */
	if (used > 0 && kraft != UINT64_C(1) << 32 && !(used == 1 && first_len == 1))
		return AIRLOCK_E_MALFORMED;
	/* Lookup type 1 with dimension 0: _book_maptype1_quantvals never
	 * returns (its search increments forever), so libvorbis hangs. */
	if (bk->maptype == 1 && dim == 0 && used > 0)
		return AIRLOCK_E_MALFORMED;

	bk->dim = dim;
	bk->entries = entries;
	bk->used = used;
	add(&w->cost, book_cost((uint64_t)entries, used, (uint64_t)dim, quantvals, bk->maptype));
	return AIRLOCK_OK;
}

/* floor0_unpack(). */
static int unpack_floor0(struct walk *w)
{
	struct bits *b = &w->b;
	int64_t order, rate, barkmap, numbooks;

	order = bits_read(b, 8);
	rate = bits_read(b, 16);
	barkmap = bits_read(b, 16);
	bits_read(b, 6); /* ampbits */
	bits_read(b, 8); /* ampdB */
	numbooks = bits_read(b, 4) + 1;
	if (order < 1 || rate < 1 || barkmap < 1 || numbooks < 1)
		return AIRLOCK_E_MALFORMED;
	for (int64_t j = 0; j < numbooks; j++) {
		int64_t k = bits_read(b, 8);

		if (k < 0 || k >= w->nbooks || w->books[k].maptype == 0 || w->books[k].dim < 1)
			return AIRLOCK_E_MALFORMED;
	}
	add(&w->cost, FLOOR0_RECORD);
	return AIRLOCK_OK;
}

/* floor1_unpack(). */
static int unpack_floor1(struct walk *w)
{
	struct bits *b = &w->b;
	int64_t partitions, partclass[32], class_dim[16] = { 0 }, maxclass = -1, rangebits, count = 0;
	int64_t post[VIF_POSIT + 2];

	partitions = bits_read(b, 5);
	for (int64_t j = 0; j < partitions; j++) {
		partclass[j] = bits_read(b, 4);
		if (partclass[j] < 0)
			return AIRLOCK_E_MALFORMED;
		if (maxclass < partclass[j])
			maxclass = partclass[j];
	}
	for (int64_t j = 0; j < maxclass + 1; j++) {
		int64_t subs, book = 0;

		class_dim[j] = bits_read(b, 3) + 1;
		subs = bits_read(b, 2);
		if (subs < 0)
			return AIRLOCK_E_MALFORMED;
		if (subs)
			book = bits_read(b, 8);
		if (book < 0 || book >= w->nbooks)
			return AIRLOCK_E_MALFORMED;
		for (int64_t k = 0; k < (INT64_C(1) << subs); k++) {
			int64_t sub = bits_read(b, 8) - 1;

			if (sub < -1 || sub >= w->nbooks)
				return AIRLOCK_E_MALFORMED;
		}
	}
	bits_read(b, 2); /* mult */
	rangebits = bits_read(b, 4);
	if (rangebits < 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t j = 0, k = 0; j < partitions; j++) {
		count += class_dim[partclass[j]];
		if (count > VIF_POSIT)
			return AIRLOCK_E_MALFORMED;
		for (; k < count; k++) {
			int64_t t = post[k + 2] = bits_read(b, (unsigned)rangebits);

			if (t < 0 || t >= (INT64_C(1) << rangebits))
				return AIRLOCK_E_MALFORMED;
		}
	}
	post[0] = 0;
	post[1] = INT64_C(1) << rangebits;
	/* Repeated posts would make zero-length segments; libvorbis sorts and
	 * compares neighbours, which is this. */
	for (int64_t i = 0; i < count + 2; i++)
		for (int64_t j = i + 1; j < count + 2; j++)
			if (post[i] == post[j])
				return AIRLOCK_E_MALFORMED;
	add(&w->cost, FLOOR1_RECORD);
	return AIRLOCK_OK;
}

static unsigned popcount(uint64_t v)
{
	unsigned r = 0;

	for (; v; v >>= 1)
		r += v & 1;
	return r;
}

/* res0_unpack() (residue types 0, 1 and 2 share it), and res0_look()'s decode map. */
static int unpack_residue(struct walk *w)
{
	struct bits *b = &w->b;
	int64_t partitions, groupbook, acc = 0, stages = 0;
	int64_t booklist[64 * 8];
	uint64_t partvals = 1, c = RESIDUE_RECORD;

	bits_read(b, 24); /* begin */
	bits_read(b, 24); /* end */
	bits_read(b, 24); /* grouping */
	partitions = bits_read(b, 6) + 1;
	groupbook = bits_read(b, 8);
	if (groupbook < 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t j = 0; j < partitions; j++) {
		int64_t cascade = bits_read(b, 3), cflag = bits_read(b, 1);

		if (cflag < 0)
			return AIRLOCK_E_MALFORMED;
		if (cflag) {
			int64_t hi = bits_read(b, 5);

			if (hi < 0)
				return AIRLOCK_E_MALFORMED;
			cascade |= hi << 3;
		}
		acc += popcount((uint64_t)cascade);
		stages += ilog((uint64_t)cascade);
	}
	for (int64_t j = 0; j < acc; j++) {
		booklist[j] = bits_read(b, 8);
		if (booklist[j] < 0)
			return AIRLOCK_E_MALFORMED;
	}
	if (groupbook >= w->nbooks)
		return AIRLOCK_E_MALFORMED;
	for (int64_t j = 0; j < acc; j++) {
		const struct book *bk;

		if (booklist[j] >= w->nbooks)
			return AIRLOCK_E_MALFORMED;
		bk = &w->books[booklist[j]];
		if (bk->maptype == 0)
			return AIRLOCK_E_MALFORMED;
		/* Not a libvorbis check: a used book of dimension 0 divides by
		 * zero (vorbis_book_decodevs_add) or never advances
		 * (vorbis_book_decodev_add) on the first audio packet. */
		if (bk->dim == 0 && bk->used > 0)
			return AIRLOCK_E_MALFORMED;
	}
	{
		const struct book *gb = &w->books[groupbook];

		if (gb->dim < 1)
			return AIRLOCK_E_MALFORMED;
		for (int64_t d = 0; d < gb->dim; d++) {
			partvals *= (uint64_t)partitions;
			if (partvals > (uint64_t)gb->entries)
				return AIRLOCK_E_MALFORMED;
		}
		/* res0_look: partbooks (a pointer per partition, one per stage)
		 * and decodemap: a pointer and a malloc of dim ints for every
		 * one of partitions^dim partition words (at most the group
		 * book's entries); a malloc costs at least 32 bytes in glibc. */
		add(&c, mul((uint64_t)(partitions + stages), 8));
		add(&c, mul(partvals, 8 + 32 + 4 * (uint64_t)gb->dim));
		add(&c, mul(partvals, (uint64_t)gb->dim));
	}
	add(&w->cost, c);
	return AIRLOCK_OK;
}

/* mapping0_unpack(). */
static int unpack_mapping(struct walk *w)
{
	struct bits *b = &w->b;
	int64_t flag, submaps = 1;
	unsigned chbits = ilog(w->channels - 1);

	flag = bits_read(b, 1);
	if (flag < 0)
		return AIRLOCK_E_MALFORMED;
	if (flag) {
		submaps = bits_read(b, 4) + 1;
		if (submaps <= 0)
			return AIRLOCK_E_MALFORMED;
	}
	flag = bits_read(b, 1);
	if (flag < 0)
		return AIRLOCK_E_MALFORMED;
	if (flag) {
		int64_t steps = bits_read(b, 8) + 1;

		if (steps <= 0)
			return AIRLOCK_E_MALFORMED;
		for (int64_t i = 0; i < steps; i++) {
			int64_t mag = bits_read(b, chbits), ang = bits_read(b, chbits);

			if (mag < 0 || ang < 0 || mag == ang || mag >= w->channels || ang >= w->channels)
				return AIRLOCK_E_MALFORMED;
		}
	}
	if (bits_read(b, 2) != 0)
		return AIRLOCK_E_MALFORMED;
	if (submaps > 1) {
		for (uint32_t i = 0; i < w->channels; i++) {
			int64_t mux = bits_read(b, 4);

			if (mux >= submaps || mux < 0)
				return AIRLOCK_E_MALFORMED;
		}
	}
	for (int64_t i = 0; i < submaps; i++) {
		int64_t floor, residue;

		bits_read(b, 8); /* time submap, unused */
		floor = bits_read(b, 8);
		if (floor >= w->floors || floor < 0)
			return AIRLOCK_E_MALFORMED;
		residue = bits_read(b, 8);
		if (residue >= w->residues || residue < 0)
			return AIRLOCK_E_MALFORMED;
	}
	add(&w->cost, MAPPING_RECORD);
	return AIRLOCK_OK;
}

/* _vorbis_unpack_books(), after the 7-byte packet type and "vorbis". */
static int unpack_setup(struct walk *w)
{
	struct bits *b = &w->b;
	int64_t n, modes;
	int rc;

	n = bits_read(b, 8) + 1;
	if (n <= 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t i = 0; i < n; i++) {
		rc = unpack_book(w, &w->books[i]);
		if (rc != AIRLOCK_OK)
			return rc;
		w->nbooks++;
	}

	n = bits_read(b, 6) + 1;
	if (n <= 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t i = 0; i < n; i++) {
		int64_t t = bits_read(b, 16);

		if (t < 0 || t >= VI_TIMEB)
			return AIRLOCK_E_MALFORMED;
	}

	n = bits_read(b, 6) + 1;
	if (n <= 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t i = 0; i < n; i++) {
		int64_t t = bits_read(b, 16);

		if (t < 0 || t >= VI_FLOORB)
			return AIRLOCK_E_MALFORMED;
		rc = t == 0 ? unpack_floor0(w) : unpack_floor1(w);
		if (rc != AIRLOCK_OK)
			return rc;
		w->floors++;
	}

	n = bits_read(b, 6) + 1;
	if (n <= 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t i = 0; i < n; i++) {
		int64_t t = bits_read(b, 16);

		if (t < 0 || t >= VI_RESB)
			return AIRLOCK_E_MALFORMED;
		rc = unpack_residue(w);
		if (rc != AIRLOCK_OK)
			return rc;
		w->residues++;
	}

	n = bits_read(b, 6) + 1;
	if (n <= 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t i = 0; i < n; i++) {
		int64_t t = bits_read(b, 16);

		if (t < 0 || t >= VI_MAPB)
			return AIRLOCK_E_MALFORMED;
		rc = unpack_mapping(w);
		if (rc != AIRLOCK_OK)
			return rc;
		w->maps++;
	}

	modes = bits_read(b, 6) + 1;
	if (modes <= 0)
		return AIRLOCK_E_MALFORMED;
	for (int64_t i = 0; i < modes; i++) {
		int64_t window, transform, mapping;

		bits_read(b, 1); /* blockflag */
		window = bits_read(b, 16);
		transform = bits_read(b, 16);
		mapping = bits_read(b, 8);
		if (window >= VI_WINDOWB || transform >= VI_WINDOWB || mapping >= w->maps || mapping < 0)
			return AIRLOCK_E_MALFORMED;
		add(&w->cost, MODE_RECORD);
	}
	if (bits_read(b, 1) != 1)
		return AIRLOCK_E_MALFORMED;
	return AIRLOCK_OK;
}

int vorbis_setup_check(const uint8_t *pkt, size_t n, uint32_t channels, uint64_t budget, uint64_t *cost)
{
	struct walk *w;
	int rc;

	if (pkt == NULL || cost == NULL)
		return AIRLOCK_E_INVALID_ARG;
	if (channels < 1 || channels > 255)
		return AIRLOCK_E_MALFORMED;
	if (n < 7 || memcmp(pkt, "\x05vorbis", 7) != 0)
		return AIRLOCK_E_MALFORMED;
	/* The book table is 256 x 32 bytes: on the heap, not the stack. */
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return AIRLOCK_E_NOMEM;
	w->b.p = pkt;
	w->b.n = n;
	w->b.pos = 7 * 8;
	w->channels = channels;
	rc = unpack_setup(w);
	if (rc == AIRLOCK_OK) {
		*cost = w->cost;
		if (w->cost > budget)
			rc = AIRLOCK_E_TOO_COMPLEX;
	}
	free(w);
	return rc;
}

/* RFC 3533's CRC: polynomial 0x04c11db7, MSb first, initial value 0. */
static uint32_t ogg_crc(const uint8_t *p, size_t n)
{
	uint32_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t byte = (i >= 22 && i < 26) ? 0 : p[i];

		crc ^= (uint32_t)byte << 24;
		for (int k = 0; k < 8; k++)
			crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t ogg_packet_copy(const uint8_t *buf, size_t len, unsigned index, uint8_t *dst, size_t max, size_t *full_len)
{
	size_t p = 0, got = 0, plen = 0;
	unsigned packet = 0;
	uint32_t serial = 0, seq = 0;
	bool have_stream = false, partial = false;

	if (full_len != NULL)
		*full_len = 0;
	if (buf == NULL || full_len == NULL || (dst == NULL && max > 0))
		return 0;
	while (len - p >= 27) {
		const uint8_t *pg = buf + p;
		size_t nseg, body = 0, off;

		if (memcmp(pg, "OggS", 4) != 0) {
			/* libogg skips to the next capture pattern. */
			const uint8_t *next = memchr(pg + 1, 'O', len - p - 1);

			if (next == NULL)
				return 0;
			p = (size_t)(next - buf);
			continue;
		}
		nseg = pg[26];
		if (nseg > len - p - 27)
			return 0;
		for (size_t i = 0; i < nseg; i++)
			body += pg[27 + i];
		if (body > len - p - 27 - nseg)
			return 0;
		if (pg[4] != 0 || ogg_crc(pg, 27 + nseg + body) != le32(pg + 22))
			return 0;
		if (!have_stream) {
			/* The first logical stream starts with the first page. */
			if ((pg[5] & 2) == 0)
				return 0;
			have_stream = true;
			serial = le32(pg + 14);
			seq = le32(pg + 18);
		} else if (le32(pg + 14) == serial) {
			if (le32(pg + 18) != ++seq)
				return 0;
		}
		if (le32(pg + 14) == serial) {
			/* A continued page must continue a packet, and only then. */
			if (((pg[5] & 1) != 0) != partial)
				return 0;
			off = p + 27 + nseg;
			for (size_t i = 0; i < nseg; i++) {
				size_t seg = pg[27 + i];

				if (packet == index) {
					size_t take = seg < max - got ? seg : max - got;

					if (take > 0)
						memcpy(dst + got, buf + off, take);
					got += take;
					plen += seg;
				}
				off += seg;
				partial = seg == 255;
				if (!partial && packet++ == index) {
					*full_len = plen;
					return plen > 0 ? got : 0;
				}
			}
		}
		p += 27 + nseg + body;
	}
	return 0;
}
