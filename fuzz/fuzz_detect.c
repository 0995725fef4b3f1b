/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: type detection (decoders/detect.c), libmagic with
 * airlock's flags and limits and airlock's own signature check, then the
 * allowlist and expectation. Trailer flags: a is an allowlist mask of the
 * eight types, b an expected type (b % 9, 0 for none).
 */
#include "decode.h"
#include "fuzz.h"

static void *magic;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	magic = detect_open();
	if (!magic) {
		fprintf(stderr, "airlock fuzz: libmagic would not load its database\n");
		abort();
	}
	return 0;
}

static void check_type(int rc, uint32_t type, size_t size)
{
	FUZZ_CHECK(size == 0 ? rc == AIRLOCK_E_EMPTY
			     : rc == AIRLOCK_OK || rc == AIRLOCK_E_TYPE || rc == AIRLOCK_E_UNSUPPORTED);
	if (rc == AIRLOCK_OK)
		FUZZ_CHECK(type > AIRLOCK_TYPE_NONE && type < AIRLOCK_TYPE_COUNT_);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limits lim;
	limits_default(&lim);
	struct fuzz_flags fl = fuzz_trailer(data, &size);
	if (fl.present) {
		lim.allowed_types = (uint32_t)fl.a << 1 & AIRLOCK_TYPES_ALL;
		lim.expect = fl.b % AIRLOCK_TYPE_COUNT_;
	}

	uint32_t t_magic = AIRLOCK_TYPE_NONE, t_own = AIRLOCK_TYPE_NONE;
	int rc = detect_type(magic, data, size, &t_magic);
	check_type(rc, t_magic, size);
	int rc_own = detect_type(NULL, data, size, &t_own);
	check_type(rc_own, t_own, size);

	/* The allowlist and the expectation, exactly as docs/api.md ("Type policy") orders them. */
	if (rc == AIRLOCK_OK) {
		int want = AIRLOCK_OK;
		if (lim.expect != AIRLOCK_TYPE_NONE && lim.expect != t_magic)
			want = AIRLOCK_E_TYPE_MISMATCH;
		else if (!(lim.allowed_types & AIRLOCK_TYPE_BIT(t_magic)))
			want = AIRLOCK_E_TYPE;
		FUZZ_CHECK(type_check(&lim, t_magic) == want);
	}
	return 0;
}
