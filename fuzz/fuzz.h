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

/* Reads every byte of buf, so ASan sees a buffer shorter than it claims. */
static inline void fuzz_touch(const uint8_t *buf, size_t len)
{
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < len; i++)
		sink ^= buf[i];
	(void)sink;
}

#endif
