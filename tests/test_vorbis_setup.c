/* SPDX-License-Identifier: MIT */
/*
 * The Vorbis setup-header bound (decoders/vorbis_setup.c, issue 13): real
 * encoder headers pass with their measured costs, the bomb is refused in
 * milliseconds, every truncation and bit flip of a real header gets a defined
 * answer, and the cost grows with what a header asks for.
 *
 * Usage: test-vorbis-setup SOURCE_ROOT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "vorbis_setup.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/*
 * The whole check on an Ogg file, as the tests need it: the identification
 * header (checked as _vorbis_unpack_info checks it) gives the channel count,
 * then vorbis_setup_check() runs on the setup packet. The decoder itself
 * gets both packets from libogg (decoders/audio_ogg.c).
 */
static int vorbis_setup_check_ogg(const uint8_t *buf, size_t len, uint64_t budget, uint64_t *cost)
{
	uint8_t id[30];
	size_t full = 0, n;
	uint8_t *setup;
	unsigned bs0, bs1;
	int rc;

	if (buf == NULL || cost == NULL)
		return AIRLOCK_E_INVALID_ARG;
	/* _vorbis_unpack_info(): version 0, channels and rate not 0, block
	 * sizes 64 <= bs0 <= bs1 <= 8192, framing bit. */
	n = ogg_packet_copy(buf, len, 0, id, sizeof id, &full);
	if (n < sizeof id || memcmp(id, "\x01vorbis", 7) != 0 || le32(id + 7) != 0 || id[11] == 0 ||
	    le32(id + 12) == 0 || (id[29] & 1) == 0)
		return AIRLOCK_E_MALFORMED;
	bs0 = id[28] & 15;
	bs1 = id[28] >> 4;
	if (bs0 < 6 || bs1 < bs0 || bs1 > 13)
		return AIRLOCK_E_MALFORMED;
	/* libvorbis reads the rate as a signed long from 32 bits; < 1 fails,
	 * which on LP64 means only 0. */

	ogg_packet_copy(buf, len, 2, NULL, 0, &full);
	if (full == 0)
		return AIRLOCK_E_MALFORMED;
	setup = malloc(full);
	if (setup == NULL)
		return AIRLOCK_E_NOMEM;
	n = ogg_packet_copy(buf, len, 2, setup, full, &full);
	rc = n == full ? vorbis_setup_check(setup, n, id[11], budget, cost) : AIRLOCK_E_MALFORMED;
	free(setup);
	return rc;
}

static const char *root;

static uint8_t *slurp(const char *rel, size_t *len)
{
	char path[4096];
	FILE *f;
	uint8_t *buf = NULL;
	long n;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Packet 2 of a file, allocated; NULL when it is missing. */
static uint8_t *setup_of(const uint8_t *buf, size_t len, size_t *n)
{
	size_t full = 0;
	uint8_t *pkt;

	ogg_packet_copy(buf, len, 2, NULL, 0, &full);
	if (full == 0)
		return NULL;
	pkt = malloc(full);
	if (pkt != NULL)
		*n = ogg_packet_copy(buf, len, 2, pkt, full, &full);
	return pkt;
}

/*
 * The real headers and their costs, measured on oggenc 1.4.2 (libvorbisenc
 * 1.3.7) outputs: corpus/vorbis_setup_real/ holds the header pages of five of
 * the 112 encoded (qualities -1, 0, 5, 10; 1, 2, 6, 8 channels; 8, 16, 22.05,
 * 32, 44.1, 48, 96 kHz), among them the costliest (q 10, 5.1) and the
 * cheapest; corpus/audio/ holds the project's own Vorbis fixtures.
 */
static const struct {
	const char *path;
	uint64_t cost;
} real[] = {
	{ "corpus/vorbis_setup_real/vorbis_setup_q10_48k_6ch.ogg", 2720734 },
	{ "corpus/vorbis_setup_real/vorbis_setup_q10_96k_8ch.ogg", 700303 },
	{ "corpus/vorbis_setup_real/vorbis_setup_q5_44k_2ch.ogg", 595904 },
	{ "corpus/vorbis_setup_real/vorbis_setup_q0_16k_1ch.ogg", 543413 },
	{ "corpus/vorbis_setup_real/vorbis_setup_qm1_8k_2ch.ogg", 335970 },
	{ "corpus/audio/vorbis_stereo_44k.ogg", 527019 },
	{ "corpus/audio/vorbis_comment_injection.ogg", 543413 },
	{ "corpus/audio/vorbis_chained.ogg", 543413 },
	{ "corpus/hostile/vorbis_setup_minimal.ogg", 18626 },
};

static void test_real_files(void)
{
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
		size_t len = 0;
		uint8_t *buf = slurp(real[i].path, &len);
		uint64_t cost = 0;
		int rc = buf ? vorbis_setup_check_ogg(buf, len, VORBIS_SETUP_BUDGET, &cost) : -1;

		tap_ok(rc == 0 && cost == real[i].cost, "%s: OK, cost %llu (measured %llu)", real[i].path,
		       (unsigned long long)cost, (unsigned long long)real[i].cost);
		/* The margin the budget was chosen with: 10x the costliest. */
		tap_ok(cost * 10 <= VORBIS_SETUP_BUDGET, "%s: at least 10x under the budget", real[i].path);
		free(buf);
	}
}

static void test_hostile_files(void)
{
	size_t len = 0;
	uint8_t *buf = slurp("corpus/hostile/vorbis_setup_bomb_255_books.ogg", &len);
	uint64_t cost = 0;
	double t0 = cpu_ms(), ms;
	int rc = buf ? vorbis_setup_check_ogg(buf, len, VORBIS_SETUP_BUDGET, &cost) : -1;

	ms = cpu_ms() - t0;
	tap_ok(rc == AIRLOCK_E_TOO_COMPLEX, "255-book bomb: TOO_COMPLEX (cost %llu)", (unsigned long long)cost);
	/* 255 books x 2^22 entries: over 2^22 x 255 x 100 units. */
	tap_ok(cost > UINT64_C(100000000000), "255-book bomb: the cost counts every book");
	tap_ok(ms < 50, "255-book bomb: refused in %.3f ms of CPU (libvorbis: seconds)", ms);
	free(buf);

	buf = slurp("corpus/hostile/vorbis_setup_over_budget.ogg", &len);
	cost = 0;
	rc = buf ? vorbis_setup_check_ogg(buf, len, VORBIS_SETUP_BUDGET, &cost) : -1;
	tap_ok(rc == AIRLOCK_E_TOO_COMPLEX && cost - VORBIS_SETUP_BUDGET < VORBIS_SETUP_BUDGET / 1000,
	       "one book just over the budget: TOO_COMPLEX by %llu units",
	       (unsigned long long)(cost - VORBIS_SETUP_BUDGET));
	rc = buf ? vorbis_setup_check_ogg(buf, len, cost, &cost) : -1;
	tap_ok(rc == AIRLOCK_OK, "the same book with the budget at its cost: OK");
	free(buf);

	buf = slurp("corpus/hostile/vorbis_setup_cut_mid_codebook.ogg", &len);
	rc = buf ? vorbis_setup_check_ogg(buf, len, VORBIS_SETUP_BUDGET, &cost) : -1;
	tap_ok(rc == AIRLOCK_E_MALFORMED, "setup header cut mid-codebook: MALFORMED");
	free(buf);
}

/* Every prefix of a real setup header, and every step-th single-bit flip. */
static void test_truncations(const char *rel, uint32_t channels, size_t step)
{
	size_t len = 0, n = 0;
	uint8_t *buf = slurp(rel, &len), *pkt = buf ? setup_of(buf, len, &n) : NULL;
	size_t bad = 0, ok = 0;
	uint64_t cost, whole = 0;

	if (pkt == NULL || vorbis_setup_check(pkt, n, channels, UINT64_MAX, &whole) != AIRLOCK_OK) {
		tap_ok(0, "%s: setup header found", rel);
		goto out;
	}
	for (size_t cut = 0; cut < n; cut++) {
		/* A copy of exactly cut bytes, so ASan sees any read past it. */
		uint8_t *p = malloc(cut ? cut : 1);
		int rc;

		memcpy(p, pkt, cut);
		rc = vorbis_setup_check(p, cut, channels, UINT64_MAX, &cost);
		if (rc == AIRLOCK_OK)
			ok++;
		else if (rc != AIRLOCK_E_MALFORMED)
			bad++;
		free(p);
	}
	tap_ok(bad == 0, "%s: all %zu truncations MALFORMED or OK (%zu OK)", rel, n, ok);

	bad = 0;
	for (size_t bit = 0; bit < n * 8; bit += step) {
		int rc;

		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = vorbis_setup_check(pkt, n, channels, VORBIS_SETUP_BUDGET, &cost);
		if (rc != AIRLOCK_OK && rc != AIRLOCK_E_MALFORMED && rc != AIRLOCK_E_TOO_COMPLEX)
			bad++;
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	tap_ok(bad == 0, "%s: %zu bit flips give a defined answer", rel, (n * 8 + step - 1) / step);
out:
	free(pkt);
	free(buf);
}

/* An LSb-first bit writer, to build setup headers in the tests. */
struct wbits {
	uint8_t buf[1 << 16];
	size_t bits;
};

static void put(struct wbits *w, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++, w->bits++) {
		if (w->bits % 8 == 0)
			w->buf[w->bits / 8] = 0;
		w->buf[w->bits / 8] |= (uint8_t)((i < 64 ? (v >> i) & 1 : 0) << (w->bits % 8));
	}
}

static unsigned wilog(uint64_t v)
{
	unsigned r = 0;

	for (; v; v >>= 1)
		r++;
	return r;
}

static void start(struct wbits *w, unsigned books)
{
	w->bits = 0;
	for (const char *s = "\x05vorbis"; *s; s++)
		put(w, (uint8_t)*s, 8);
	put(w, books - 1, 8);
}

/* An ordered book, complete tree: lengths L and L+1; lookup type maptype. */
static void ordered_book(struct wbits *w, unsigned dim, uint32_t entries, unsigned maptype)
{
	unsigned len = wilog(entries) - 1;
	uint32_t a = entries == (1u << len) ? entries : (2u << len) - entries, b = entries - a;

	put(w, 0x564342, 24);
	put(w, dim, 16);
	put(w, entries, 24);
	put(w, 1, 1);
	put(w, len - 1, 5);
	put(w, a, wilog(entries));
	if (b > 0)
		put(w, b, wilog(entries - a));
	put(w, maptype, 4);
	if (maptype == 1) {
		uint64_t q = 1;

		/* quantvals: the greatest q with q^dim <= entries */
		for (;;) {
			uint64_t p = 1;

			for (unsigned i = 0; i < dim && p <= entries; i++)
				p *= q + 1;
			if (p > entries)
				break;
			q++;
		}
		put(w, 0, 32);
		put(w, 0, 32);
		put(w, 0, 4);
		put(w, 0, 1);
		put(w, 0, (unsigned)q);
	}
}

/* Book 0 of the header: one unordered book of the given lengths (0 = unused). */
static void unordered_book(struct wbits *w, unsigned dim, const unsigned *lengths, unsigned n, unsigned maptype)
{
	int sparse = 0;

	for (unsigned i = 0; i < n; i++)
		sparse |= lengths[i] == 0;
	put(w, 0x564342, 24);
	put(w, dim, 16);
	put(w, n, 24);
	put(w, 0, 1);
	put(w, (unsigned)sparse, 1);
	for (unsigned i = 0; i < n; i++) {
		if (sparse)
			put(w, lengths[i] != 0, 1);
		if (lengths[i])
			put(w, lengths[i] - 1, 5);
	}
	put(w, maptype, 4);
	if (maptype) {
		put(w, 0, 32);
		put(w, 0, 32);
		put(w, 0, 4);
		put(w, 0, 1);
		/* type 2: entries * dim values; type 1 here only with dim 0 (none) */
		put(w, 0, maptype == 2 ? n * dim : 0);
	}
}

/* Floor 1 without partitions, a residue of `parts` partitions over group
 * book `group` (optionally a second stage from book `stage`), mapping, mode. */
static size_t finish(struct wbits *w, unsigned parts, unsigned group, int stage)
{
	put(w, 0, 6);
	put(w, 0, 16);
	put(w, 0, 6);
	put(w, 1, 16);
	put(w, 0, 5);
	put(w, 0, 2);
	put(w, 8, 4);
	put(w, 0, 6);
	put(w, 0, 16);
	put(w, 0, 24);
	put(w, 128, 24);
	put(w, 15, 24);
	put(w, parts - 1, 6);
	put(w, group, 8);
	for (unsigned j = 0; j < parts; j++) {
		put(w, stage >= 0 && j == 0 ? 1 : 0, 3);
		put(w, 0, 1);
	}
	if (stage >= 0)
		put(w, (unsigned)stage, 8);
	put(w, 0, 6);
	put(w, 0, 16);
	put(w, 0, 1);
	put(w, 0, 1);
	put(w, 0, 2);
	put(w, 0, 24);
	put(w, 0, 6);
	put(w, 0, 1);
	put(w, 0, 32);
	put(w, 0, 8);
	put(w, 1, 1);
	return (w->bits + 7) / 8;
}

static struct wbits w;

static int one_book(unsigned dim, uint32_t entries, unsigned maptype, unsigned parts, uint64_t *cost)
{
	size_t n;

	start(&w, 1);
	ordered_book(&w, dim, entries, maptype);
	n = finish(&w, parts, 0, -1);
	return vorbis_setup_check(w.buf, n, 2, UINT64_MAX, cost);
}

static void test_monotone(void)
{
	uint64_t prev = 0, cost = 0;
	int mono = 1, rc = 0;

	for (uint32_t e = 2; e <= (1u << 20) && rc == 0; e = e * 5 / 4 + 1) {
		rc = one_book(1, e, 0, 1, &cost);
		mono &= cost > prev;
		prev = cost;
	}
	tap_ok(rc == 0 && mono, "the cost grows with the entry count (2 .. 2^20, last %llu)", (unsigned long long)prev);

	/* From 2: at dimension 1 a type 1 lookup carries all 65536 quantized
	 * values, at 2 only 256, and that list costs more than one dimension. */
	prev = 0;
	mono = 1;
	for (unsigned d = 2; d <= 16 && rc == 0; d++) {
		rc = one_book(d, 65536, 1, 1, &cost);
		mono &= cost > prev;
		prev = cost;
	}
	tap_ok(rc == 0 && mono, "the cost grows with the dimension (65536 entries, 2 .. 16)");

	prev = 0;
	mono = 1;
	for (unsigned p = 1; p <= 64 && rc == 0; p++) {
		rc = one_book(3, 1u << 18, 1, p, &cost);
		mono &= cost > prev;
		prev = cost;
	}
	tap_ok(rc == 0 && mono, "the cost grows with the residue's partition words (partitions^3)");

	rc = one_book(1, 1u << 18, 0, 1, &cost);
	prev = cost;
	rc |= one_book(1, 1u << 18, 1, 1, &cost);
	tap_ok(rc == 0 && cost > prev, "a value lookup costs more than none");
}

static void test_rejections(void)
{
	static const unsigned over[] = { 1, 1, 1 }, under[] = { 2, 2, 2 }, single1[] = { 1 }, single2[] = { 2 },
			      sparse[] = { 0, 1, 0, 2, 2 };
	uint64_t cost = 0;
	size_t n;

	const struct {
		const unsigned *lengths;
		unsigned entries;
		int want;
		const char *what;
	} trees[] = {
		{ over, 3, AIRLOCK_E_MALFORMED, "an overfull codeword tree: MALFORMED" },
		{ under, 3, AIRLOCK_E_MALFORMED, "an underfull codeword tree: MALFORMED" },
		{ single1, 1, AIRLOCK_OK, "one codeword of length 1 (libvorbis's special case): OK" },
		{ single2, 1, AIRLOCK_E_MALFORMED, "one codeword of length 2: MALFORMED" },
		{ sparse, 5, AIRLOCK_OK, "a sparse book: OK" },
	};
	for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
		start(&w, 1);
		unordered_book(&w, 1, trees[i].lengths, trees[i].entries, 0);
		n = finish(&w, 1, 0, -1);
		tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == trees[i].want, "%s", trees[i].what);
	}

	/* Lookup type 1, dimension 0: libvorbis's quantvals search never ends. */
	start(&w, 2);
	ordered_book(&w, 1, 4, 0);
	unordered_book(&w, 0, over, 2, 1);
	n = finish(&w, 1, 0, -1);
	tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED,
	       "lookup type 1 with dimension 0: MALFORMED (libvorbis would hang)");
	/* A residue stage book of dimension 0 divides by zero at decode. */
	start(&w, 2);
	ordered_book(&w, 1, 4, 0);
	unordered_book(&w, 0, over, 2, 2);
	n = finish(&w, 1, 0, 1);
	tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED,
	       "a residue stage book of dimension 0: MALFORMED");
	start(&w, 2);
	ordered_book(&w, 1, 4, 0);
	ordered_book(&w, 2, 16, 1);
	n = finish(&w, 2, 0, 1);
	tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == AIRLOCK_OK, "a residue with a second stage: OK");
	start(&w, 1);
	ordered_book(&w, 1, 4, 0);
	n = finish(&w, 5, 0, -1);
	tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED,
	       "5 partitions over a 4-entry group book: MALFORMED");
	start(&w, 1);
	ordered_book(&w, 1, 4, 0);
	n = finish(&w, 1, 1, -1);
	tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED,
	       "a group book past the last book: MALFORMED");
	/* 2^22 entries in one dimension: ilog(1) + ilog(2^22) = 24 is the most allowed. */
	start(&w, 1);
	ordered_book(&w, 2, 1u << 22, 0);
	n = finish(&w, 1, 0, -1);
	tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED,
	       "ilog(dim) + ilog(entries) over 24: MALFORMED");

	start(&w, 1);
	ordered_book(&w, 1, 4, 0);
	n = finish(&w, 1, 0, -1);
	tap_ok(vorbis_setup_check(w.buf, n, 0, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED &&
		       vorbis_setup_check(w.buf, n, 256, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED,
	       "0 or 256 channels: MALFORMED");
	tap_ok(vorbis_setup_check(NULL, n, 1, UINT64_MAX, &cost) == AIRLOCK_E_INVALID_ARG &&
		       vorbis_setup_check(w.buf, n, 1, UINT64_MAX, NULL) == AIRLOCK_E_INVALID_ARG,
	       "NULL arguments: INVALID_ARG");
	w.buf[0] = 3;
	tap_ok(vorbis_setup_check(w.buf, n, 1, UINT64_MAX, &cost) == AIRLOCK_E_MALFORMED,
	       "not packet type 5: MALFORMED");
}

static void test_ogg(void)
{
	size_t len = 0, full = 0, got;
	uint8_t *buf = slurp("corpus/hostile/vorbis_setup_minimal.ogg", &len), head[8];

	if (buf == NULL) {
		tap_ok(0, "vorbis_setup_minimal.ogg read");
		return;
	}
	got = ogg_packet_copy(buf, len, 0, head, sizeof head, &full);
	tap_ok(got == 8 && full == 30 && memcmp(head, "\x01vorbis", 7) == 0,
	       "ogg_packet_copy: a prefix of packet 0, and its full length");
	got = ogg_packet_copy(buf, len, 2, NULL, 0, &full);
	tap_ok(got == 0 && full > 7, "ogg_packet_copy: the length alone, with no destination");
	got = ogg_packet_copy(buf, len, 200, head, sizeof head, &full);
	tap_ok(got == 0 && full == 0, "ogg_packet_copy: a packet past the end: 0");
	got = ogg_packet_copy(buf, 100, 2, head, sizeof head, &full);
	tap_ok(got == 0 && full == 0, "ogg_packet_copy: a file cut before packet 2: 0");
	buf[40] ^= 1; /* inside the first page, the identification header */
	got = ogg_packet_copy(buf, len, 2, head, sizeof head, &full);
	tap_ok(got == 0 && full == 0 &&
		       vorbis_setup_check_ogg(buf, len, VORBIS_SETUP_BUDGET, &(uint64_t){ 0 }) == AIRLOCK_E_MALFORMED,
	       "a header page with a wrong CRC: not found, MALFORMED");
	free(buf);
}

/* Every prefix of a whole file through the Ogg layer, each an exact-size copy. */
static void test_file_prefixes(const char *rel)
{
	size_t len = 0, bad = 0, ok = 0;
	uint8_t *buf = slurp(rel, &len);
	uint64_t cost;

	for (size_t cut = 0; buf != NULL && cut <= len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);
		int rc;

		memcpy(p, buf, cut);
		rc = vorbis_setup_check_ogg(p, cut, VORBIS_SETUP_BUDGET, &cost);
		if (rc == AIRLOCK_OK)
			ok++;
		else if (rc != AIRLOCK_E_MALFORMED)
			bad++;
		free(p);
	}
	tap_ok(buf != NULL && bad == 0 && ok > 0, "%s: every prefix MALFORMED or OK (%zu OK)", rel, ok);
	free(buf);
}

int main(int argc, char **argv)
{
	root = argc > 1 ? argv[1] : ".";
	test_real_files();
	test_hostile_files();
	test_truncations("corpus/vorbis_setup_real/vorbis_setup_q10_48k_6ch.ogg", 6, 7);
	test_truncations("corpus/vorbis_setup_real/vorbis_setup_qm1_8k_2ch.ogg", 2, 1);
	test_monotone();
	test_rejections();
	test_ogg();
	test_file_prefixes("corpus/hostile/vorbis_setup_minimal.ogg");
	test_file_prefixes("corpus/vorbis_setup_real/vorbis_setup_qm1_8k_2ch.ogg");
	return tap_done();
}
