/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the WebP decoder (decoders/webp.c), through
 * webp_decode_into() with a pixel allocator that keeps account: every buffer
 * the decoder takes is either the frame it returns or given back, with the
 * size it was taken with, and nothing is left over on a refusal.
 *
 * Trailer flags (fuzz/fuzz.h): a bit 0 keep alpha, bits 1-2 the background,
 * bit 3 a 4096-pixel cap, bit 4 ICC conversion off, bit 5 a 1 MiB memory
 * budget; b bits 0-1 the canonical output the result is then encoded to
 * (none, PNG, WebP lossy, raw).
 */
#include "encode.h"

#define LIVE_MAX 8

struct ledger {
	void *p[LIVE_MAX];
	size_t n[LIVE_MAX];
};

static void *led_alloc(void *user, size_t n)
{
	struct ledger *l = user;
	for (int i = 0; i < LIVE_MAX; i++)
		if (!l->p[i]) {
			l->p[i] = malloc(n ? n : 1);
			l->n[i] = n;
			return l->p[i];
		}
	FUZZ_CHECK(!"more than LIVE_MAX pixel buffers at once");
	return NULL;
}

static void *led_resize(void *user, void *p, size_t old, size_t n)
{
	(void)user;
	(void)p;
	(void)old;
	(void)n;
	FUZZ_CHECK(!"an image decoder resizes its output");
	return NULL;
}

static void led_release(void *user, void *p, size_t n)
{
	struct ledger *l = user;
	for (int i = 0; i < LIVE_MAX; i++)
		if (l->p[i] == p) {
			FUZZ_CHECK(l->n[i] == n);
			free(p);
			l->p[i] = NULL;
			return;
		}
	FUZZ_CHECK(!"a released buffer was not allocated");
}

static const uint32_t backgrounds[4] = { 0xFFFFFF, 0x000000, 0x808080, 0x123456 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limits lim;
	limits_default(&lim);
	struct fuzz_flags fl = fuzz_trailer(data, &size);
	if (fl.present) {
		lim.keep_alpha = fl.a & 1u;
		lim.background = backgrounds[(fl.a >> 1) & 3u];
		if (fl.a & 8u)
			lim.max_pixels = 4096;
		if (fl.a & 16u)
			lim.icc = 0;
		if (fl.a & 32u)
			lim.memory_bytes = 1u << 20;
	}
	/* An exact copy, so ASan sees a read past the input. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);

	struct ledger led = { { 0 }, { 0 } };
	const struct pixel_alloc pa = { led_alloc, led_resize, led_release, &led };
	struct frame f = { 0 };
	const int rc = webp_decode_into(copy, size, &lim, &pa, &f);
	free(copy);
	FUZZ_CHECK(f.type == AIRLOCK_TYPE_WEBP);
	if (rc != AIRLOCK_OK) {
		fuzz_check_refused(rc, &f);
		FUZZ_CHECK(rc == AIRLOCK_E_MALFORMED || rc == AIRLOCK_E_UNSUPPORTED || rc == AIRLOCK_E_TOO_LARGE ||
			   rc == AIRLOCK_E_MEMORY);
		FUZZ_CHECK((rc == AIRLOCK_E_TOO_LARGE) == (f.limit != 0) || rc == AIRLOCK_E_MEMORY);
		for (int i = 0; i < LIVE_MAX; i++)
			FUZZ_CHECK(led.p[i] == NULL);
		return 0;
	}

	/* The shape the request allows, in the one buffer left live, as large as it was allocated or smaller. */
	FUZZ_CHECK(f.kind == FRAME_KIND_IMAGE && f.format == FRAME_FORMAT_U8);
	FUZZ_CHECK(f.channels == (lim.keep_alpha ? 4u : 3u));
	FUZZ_CHECK(f.width >= 1 && f.height >= 1 && f.width <= lim.max_width && f.height <= lim.max_height);
	FUZZ_CHECK((uint64_t)f.width * f.height <= lim.max_pixels);
	FUZZ_CHECK(f.pixels != NULL && f.size == (size_t)f.width * f.height * f.channels);
	FUZZ_CHECK(!(f.changes & AIRLOCK_CHANGE_ICC_CONVERTED) || lim.icc);
	FUZZ_CHECK(!(f.changes & AIRLOCK_CHANGE_ALPHA_ADDED) || lim.keep_alpha);
	FUZZ_CHECK(!(f.changes & AIRLOCK_CHANGE_ALPHA_FLATTENED) || !lim.keep_alpha);
	int live = 0;
	for (int i = 0; i < LIVE_MAX; i++)
		if (led.p[i]) {
			live++;
			FUZZ_CHECK(led.p[i] == f.pixels && led.n[i] >= f.size);
		}
	FUZZ_CHECK(live == 1);
	fuzz_touch(f.pixels, f.size);

	struct frame_header h;
	uint64_t plen = 0;
	frame_header_from(&f, AIRLOCK_OK, &h);
	FUZZ_CHECK(frame_validate(&h, &lim, &plen) == AIRLOCK_OK && plen == f.size);
	static const airlock_format outputs[4] = { 0, AIRLOCK_FORMAT_PNG, AIRLOCK_FORMAT_WEBP, AIRLOCK_FORMAT_RAW };
	/* A VP8X canvas may be wider than a WebP file can hold (16383): that refusal is the writer's, documented. */
	const airlock_format to = fl.present ? outputs[fl.b & 3u] : 0;
	if (to && !(to == AIRLOCK_FORMAT_WEBP && (f.width > 16383 || f.height > 16383)))
		fuzz_encode(&h, f.pixels, f.size, to);
	frame_free(&f);
	return 0;
}
