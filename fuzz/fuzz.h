/* SPDX-License-Identifier: MIT */
/*
 * What every harness shares: the libFuzzer entry points, the optional
 * trailer that sets a request's flags, and the invariant check.
 *
 * The harnesses run airlock's code in-process with the production limits
 * (limits_default()); nothing here runs under the seccomp filter. They are
 * built twice: with clang and -fsanitize=fuzzer,address,undefined when meson
 * is given -Dfuzzing=true, and always with replay.c, a plain main that runs
 * files through the same entry point (docs/fuzzing.md).
 */
#ifndef AIRLOCK_FUZZ_H
#define AIRLOCK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * The trailer: when an input ends with the two marker bytes and then two
 * flag bytes, the harness strips those four bytes and takes its flags from
 * them. Any other input is used whole, with the defaults, so a plain file
 * from a corpus replays exactly as airlock would see it. The dictionaries
 * hold the marker, so the fuzzer finds it and explores the flags too.
 */
#define FUZZ_MARK0	  0xA1u
#define FUZZ_MARK1	  0xF2u
#define FUZZ_TRAILER_SIZE 4

struct fuzz_flags {
	int present;
	uint8_t a, b;
};

static inline struct fuzz_flags fuzz_trailer(const uint8_t *data, size_t *size)
{
	struct fuzz_flags fl = { 0, 0, 0 };
	const size_t n = *size;
	if (n >= FUZZ_TRAILER_SIZE && data[n - 4] == FUZZ_MARK0 && data[n - 3] == FUZZ_MARK1) {
		fl.present = 1;
		fl.a = data[n - 2];
		fl.b = data[n - 1];
		*size = n - FUZZ_TRAILER_SIZE;
	}
	return fl;
}

/* A broken invariant is a finding: say which, then abort so the engine keeps the input. */
#define FUZZ_CHECK(cond)                                                                                             \
	do {                                                                                                         \
		if (!(cond)) {                                                                                       \
			fprintf(stderr, "airlock fuzz: invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                                     \
		}                                                                                                    \
	} while (0)

/* A refused input: a real error code and limit key, and nothing left allocated. */
static inline void fuzz_check_refused(int rc, const struct frame *f)
{
	FUZZ_CHECK(f->pixels == NULL);
	FUZZ_CHECK(rc > 0 && rc < 128);
	FUZZ_CHECK(f->limit < KEY_LIMIT);
}

/* Reads every byte of buf, so ASan sees a buffer shorter than it claims. */
static inline void fuzz_touch(const uint8_t *buf, size_t len)
{
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < len; i++)
		sink ^= buf[i];
	(void)sink;
}

/* CRC-32 as PNG and zlib define it (reflected, 0xEDB88320). */
static inline uint32_t fuzz_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return c ^ 0xFFFFFFFFu;
}

/*
 * Rewrites the CRC of every whole chunk after a PNG signature, so that a
 * mutation inside a chunk reaches the decoder instead of stopping at
 * libpng's CRC check. The harness does this itself, so a replay of the
 * same input does the same.
 */
static inline void fuzz_png_fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 8;
	while (off + 12 <= n) {
		const uint32_t len =
			(uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
		if (len > n - off - 12)
			break;
		const uint32_t c = fuzz_crc32(p + off + 4, 4 + (size_t)len);
		uint8_t *q = p + off + 8 + len;
		q[0] = (uint8_t)(c >> 24);
		q[1] = (uint8_t)(c >> 16);
		q[2] = (uint8_t)(c >> 8);
		q[3] = (uint8_t)c;
		off += 12 + (size_t)len;
	}
}

/* Ogg's page CRC: CRC-32, polynomial 0x04C11DB7, not reflected, over the page with its CRC field zeroed. */
static inline uint32_t fuzz_ogg_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			c = (c << 1) ^ (0x04C11DB7u & (0u - (c >> 31)));
	}
	return c;
}

/* Rewrites the CRC of every whole Ogg page found at a capture pattern, as fuzz_png_fix_crcs() does for PNG. */
static inline void fuzz_ogg_fix_crcs(uint8_t *p, size_t n)
{
	for (size_t off = 0; off + 27 <= n; off++) {
		if (p[off] != 'O' || p[off + 1] != 'g' || p[off + 2] != 'g' || p[off + 3] != 'S')
			continue;
		const size_t nseg = p[off + 26];
		if (off + 27 + nseg > n)
			break;
		size_t body = 0;
		for (size_t i = 0; i < nseg; i++)
			body += p[off + 27 + i];
		const size_t len = 27 + nseg + body;
		if (len > n - off)
			break;
		memset(p + off + 22, 0, 4);
		const uint32_t c = fuzz_ogg_crc(p + off, len);
		p[off + 22] = (uint8_t)c;
		p[off + 23] = (uint8_t)(c >> 8);
		p[off + 24] = (uint8_t)(c >> 16);
		p[off + 25] = (uint8_t)(c >> 24);
		off += len - 1;
	}
}

#endif
