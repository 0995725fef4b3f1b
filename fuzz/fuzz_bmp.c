/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the BMP decoder (decoders/bmp.c) through a counting
 * pixel_alloc (as the worker decodes into its payload), which must give the
 * same frame as malloc and on a refusal hand back every byte it took; then
 * with the production limits and the trailer's flags through fuzz_image(),
 * as PNG and JPEG are.
 */
#include "image.h"

static int bmp_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out)
{
	return bmp_decode_into(buf, len, lim, NULL, out);
}

struct counted {
	size_t live; /* bytes handed out and not yet released */
	int calls;
};

static void *counted_alloc(void *user, size_t n)
{
	struct counted *c = user;
	void *p = malloc(n ? n : 1);
	if (p) {
		c->live += n;
		c->calls++;
	}
	return p;
}

static void *counted_resize(void *user, void *p, size_t old, size_t n)
{
	struct counted *c = user;
	void *q = realloc(p, n ? n : 1);
	if (q)
		c->live = c->live - old + n;
	return q;
}

static void counted_release(void *user, void *p, size_t n)
{
	struct counted *c = user;
	FUZZ_CHECK(n <= c->live);
	c->live -= n;
	free(p);
}

/*
 * A few bytes of RLE can describe an image at max_pixels (178 MP: half a
 * second to fill, seconds more to orient under ASan). Such inputs take only
 * the capped pass: the production limits would cost time, not coverage.
 */
#define FUZZ_BMP_PIXELS (1u << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The trailer-free input, once into a counted buffer and once with malloc: the same answer. */
	struct limits lim;
	limits_default(&lim);
	lim.max_pixels = FUZZ_BMP_PIXELS;
	struct frame a = { 0 }, b = { 0 };
	struct counted c = { 0, 0 };
	const struct pixel_alloc pa = { counted_alloc, counted_resize, counted_release, &c };
	const int rb = bmp_decode_into(data, size, &lim, &pa, &b);
	const int ra = bmp_decode_into(data, size, &lim, NULL, &a);
	FUZZ_CHECK(ra == rb && a.limit == b.limit && a.type == AIRLOCK_TYPE_BMP && b.type == AIRLOCK_TYPE_BMP);
	if (rb != AIRLOCK_OK) {
		FUZZ_CHECK(c.live == 0 && b.pixels == NULL && a.pixels == NULL);
		fuzz_check_refused(rb, &b);
		if (rb == AIRLOCK_E_TOO_LARGE && b.limit == AIRLOCK_MAX_PIXELS)
			return 0;
	} else {
		/* One allocation, still held, at least as large as the frame (flattening shrinks RGBA to RGB in place).
		 */
		FUZZ_CHECK(c.calls == 1 && c.live >= b.size && b.size == a.size);
		FUZZ_CHECK(a.width == b.width && a.height == b.height && a.channels == b.channels &&
			   a.changes == b.changes && memcmp(a.pixels, b.pixels, a.size) == 0);
		counted_release(&c, b.pixels, c.live);
		frame_free(&a);
	}

	fuzz_image(data, size, bmp_decode, AIRLOCK_TYPE_BMP);
	return 0;
}
