/* SPDX-License-Identifier: MIT */
/*
 * Every row of corpus/images.tsv, decoded either in-process (decode_any, as
 * the fuzzers do; built with the sanitizers) or through the real sandbox
 * (airlock_sanitize). Each row asserts the exact outcome, type, shape, pixel
 * hash and change set that were computed independently of airlock.
 *
 * usage: test-images inprocess|sandbox SOURCE_ROOT SHARED_CORPUS
 */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "airlock.h"
#include "decode.h"
#include "manifest.h"
#include "tap.h"

struct outcome {
	int rc;
	uint32_t type, width, height, channels, changes;
	uint64_t fnv;
};

static void check(const struct case_row *c, const struct outcome *o)
{
	const char *got = airlock_error_name(o->rc);
	if (!tap_ok(strcmp(got, c->outcome) == 0, "%s [%s] outcome %s", c->path, c->opts, c->outcome)) {
		tap_diag("got %s", got);
		return;
	}
	if (strcmp(c->type, "-") != 0 && o->type != AIRLOCK_TYPE_NONE)
		tap_ok(strcmp(airlock_type_name(o->type), c->type) == 0, "%s [%s] type %s", c->path, c->opts, c->type);
	if (o->rc != AIRLOCK_OK)
		return;
	if (!tap_ok(o->width == c->width && o->height == c->height && o->channels == c->channels,
		    "%s [%s] shape %ux%ux%u", c->path, c->opts, c->width, c->height, c->channels))
		tap_diag("got %ux%ux%u", o->width, o->height, o->channels);
	if (strcmp(c->fnv, "-") != 0) {
		char hex[24];
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)o->fnv);
		if (!tap_ok(strcmp(hex, c->fnv) == 0, "%s [%s] pixels", c->path, c->opts))
			tap_diag("got fnv %s, expected %s", hex, c->fnv);
	}
	if (strcmp(c->changes, "?") != 0) {
		char s[256];
		changes_str(o->changes, airlock_change_name, s, sizeof(s));
		if (!tap_ok(same_set(s, c->changes), "%s [%s] changes %s", c->path, c->opts, c->changes))
			tap_diag("got %s", s);
	}
}

/* One input, in-process (ctx NULL) or through the sandbox; o gets what came out. */
/* A row's options: "-", or a comma-separated set of these. */
enum { OPT_ALPHA = 1, OPT_NOICC = 2, OPT_COUNT = 4 };

static int row_opts(const char *opts)
{
	int v = 0;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s", opts);
	for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "alpha") == 0)
			v |= OPT_ALPHA;
		else if (strcmp(t, "noicc") == 0)
			v |= OPT_NOICC;
		else if (strcmp(t, "-") != 0)
			return -1;
	}
	return v;
}

static void decode_one(airlock_ctx *ctx, void *magic, int opts, const uint8_t *buf, size_t len, struct outcome *o)
{
	*o = (struct outcome){ 0 };
	if (ctx) {
		airlock_result *r = NULL;
		airlock_report rep = AIRLOCK_REPORT_INIT;
		o->rc = airlock_sanitize_report(ctx, buf, len, AIRLOCK_TYPE_NONE, &r, &rep);
		o->type = rep.type;
		if (o->rc == AIRLOCK_OK) {
			size_t n;
			const uint8_t *px = airlock_result_pixels(r, &n);
			o->type = airlock_result_type(r);
			o->width = airlock_result_width(r);
			o->height = airlock_result_height(r);
			o->channels = airlock_result_channels(r);
			o->changes = airlock_result_changes(r);
			o->fnv = fnv1a64(px, n);
		}
		airlock_result_free(r);
		return;
	}
	struct limits lim;
	struct frame f;
	limits_default(&lim);
	lim.keep_alpha = (opts & OPT_ALPHA) != 0;
	lim.icc = !(opts & OPT_NOICC);
	lim.allowed_types = AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO; /* TIFF too */
	o->rc = decode_any(magic, buf, len, &lim, &f);
	o->type = f.type;
	if (o->rc == AIRLOCK_OK) {
		o->width = f.width;
		o->height = f.height;
		o->channels = f.channels;
		o->changes = f.changes;
		o->fnv = fnv1a64(f.pixels, f.size);
		if (!tap_ok(f.size == (size_t)f.width * f.height * f.channels, "frame size matches its shape"))
			tap_diag("size %zu", f.size);
	}
	frame_free(&f);
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * png with a chunk of n bytes (all fill) spliced in after IHDR, with a good
 * CRC; NULL on failure. Made here, not committed: the point is its size.
 */
static uint8_t *with_chunk(const uint8_t *png, size_t len, const char *type, size_t n, uint8_t fill, size_t *out_len)
{
	const size_t at = 8 + 25; /* signature, IHDR */
	if (len < at || n > SIZE_MAX - len - 12)
		return NULL;
	uint8_t *p = malloc(len + 12 + n);
	if (!p)
		return NULL;
	memcpy(p, png, at);
	put32(p + at, (uint32_t)n);
	memcpy(p + at + 4, type, 4);
	memset(p + at + 8, fill, n);
	put32(p + at + 8 + n, crc32_png(p + at + 4, 4 + n));
	memcpy(p + at + 12 + n, png + at, len - at);
	*out_len = len + 12 + n;
	return p;
}

/*
 * Chunks airlock skips cost nothing, whatever their size (libpng's per-chunk
 * length cap used to refuse them); the ones it reads keep their caps (iCCP:
 * max_icc_bytes once inflated, corpus/images-icc.tsv and hostile_icc.py).
 */
static void large_chunks(airlock_ctx *ctx, void *magic, const char *root)
{
	char path[1024];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/corpus/images/rgb8.png", root);
	uint8_t *png = slurp(path, &len);
	if (!tap_ok(png != NULL, "rgb8.png readable"))
		return;
	struct outcome plain;
	decode_one(ctx, magic, 0, png, len, &plain);
	tap_ok(plain.rc == AIRLOCK_OK, "rgb8.png decodes");

	static const struct {
		const char *type;
		size_t n;
		uint8_t fill;
		int rc;
	} cases[] = {
		{ "prVt", 2u << 20, 0x5a, AIRLOCK_OK }, /* private, ancillary */
		{ "tEXt", 2u << 20, 'a', AIRLOCK_OK },	/* a known chunk airlock skips */
		/* read when the profile is applied (the default): no keyword, so no profile at all */
		{ "iCCP", 3u << 20, 0, AIRLOCK_E_MALFORMED },
		{ "tRNS", 2u << 20, 0, AIRLOCK_E_MALFORMED }, /* read: 256 bytes at most */
		{ "tRNS", 7, 0, AIRLOCK_E_MALFORMED },	      /* RGB wants exactly 6 */
		{ "PLTE", 3 * 257, 0, AIRLOCK_E_MALFORMED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 0;
		uint8_t *big = with_chunk(png, len, cases[i].type, cases[i].n, cases[i].fill, &n);
		if (!tap_ok(big != NULL, "%zu-byte %s spliced in", cases[i].n, cases[i].type))
			continue;
		struct outcome o;
		decode_one(ctx, magic, 0, big, n, &o);
		if (!tap_ok(o.rc == cases[i].rc, "rgb8.png with a %zu-byte %s: %s", cases[i].n, cases[i].type,
			    airlock_error_name(cases[i].rc)))
			tap_diag("got %s", airlock_error_name(o.rc));
		if (cases[i].rc == AIRLOCK_OK)
			tap_ok(o.fnv == plain.fnv && o.width == plain.width && o.height == plain.height &&
				       o.channels == plain.channels &&
				       o.changes == (plain.changes | AIRLOCK_CHANGE_METADATA_DROPPED),
			       "rgb8.png with a %zu-byte %s: the same pixels, metadata_dropped", cases[i].n,
			       cases[i].type);
		free(big);
	}
	free(png);
}

/* The mapping as written down (Pillow's exif_transpose), one pixel at a time: the reference. */
static void orient_naive(const uint8_t *src, uint32_t w, uint32_t h, uint32_t ch, int o, uint8_t *dst)
{
	const int swap = o >= 5;
	const uint32_t dw = swap ? h : w, dh = swap ? w : h;
	for (uint32_t y = 0; y < dh; y++)
		for (uint32_t x = 0; x < dw; x++) {
			uint32_t sx = x, sy = y;
			switch (o) {
			case 2: sx = w - 1 - x; break;
			case 3:
				sx = w - 1 - x;
				sy = h - 1 - y;
				break;
			case 4: sy = h - 1 - y; break;
			case 5:
				sx = y;
				sy = x;
				break;
			case 6:
				sx = y;
				sy = h - 1 - x;
				break;
			case 7:
				sx = w - 1 - y;
				sy = h - 1 - x;
				break;
			case 8:
				sx = w - 1 - y;
				sy = x;
				break;
			default: break;
			}
			memcpy(dst + ((size_t)y * dw + x) * ch, src + ((size_t)sy * w + sx) * ch, ch);
		}
}

/*
 * pixels_orient and pixels_orient_band against the reference: every
 * orientation, sizes odd and even, thinner and taller than a band, bands of
 * uneven heights, 3 and 4 channels (the inlined copies) and 1 and 2 (the
 * general one).
 */
static void orient_cases(void)
{
	static const uint32_t sizes[][2] = { { 1, 1 }, { 1, 7 },   { 7, 1 },   { 5, 3 },
					     { 3, 5 }, { 130, 3 }, { 3, 261 }, { 129, 257 } };
	static const uint32_t chans[] = { 3, 4, 1, 2 };
	int bad = 0, checked = 0;
	uint32_t seed = 12345;
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (size_t ci = 0; ci < sizeof(chans) / sizeof(chans[0]); ci++) {
			const uint32_t w = sizes[si][0], h = sizes[si][1], ch = chans[ci];
			const size_t n = (size_t)w * h * ch;
			uint8_t *src = malloc(n), *want = malloc(n), *banded = malloc(n);
			if (!src || !want || !banded) {
				tap_ok(0, "orient: memory");
				return;
			}
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				src[i] = (uint8_t)(seed >> 16);
			}
			for (int o = 1; o <= 8; o++) {
				orient_naive(src, w, h, ch, o, want);
				uint8_t *got = NULL;
				uint32_t ow = 0, oh = 0;
				const int swap = o >= 5;
				int ok = pixels_orient(src, w, h, ch, o, &got, &ow, &oh) == AIRLOCK_OK &&
					 ow == (swap ? h : w) && oh == (swap ? w : h) && memcmp(got, want, n) == 0;
				free(got);
				/* bands of 1, 2, 3, ... rows, as a decoder might hand them over */
				memset(banded, 0xee, n);
				for (uint32_t y0 = 0, k = 1; y0 < h; y0 += k, k++) {
					const uint32_t rows = h - y0 < k ? h - y0 : k;
					pixels_orient_band(src + (size_t)y0 * w * ch, w, h, ch, o, y0, rows, banded);
				}
				ok = ok && memcmp(banded, want, n) == 0;
				if (!ok) {
					bad++;
					tap_diag("orientation %d, %ux%u, %u channels differs from the reference", o, w,
						 h, ch);
				}
				checked++;
			}
			free(src);
			free(want);
			free(banded);
		}
	tap_ok(bad == 0, "pixels_orient and pixels_orient_band match the reference (%d cases)", checked);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s inprocess|sandbox SOURCE_ROOT SHARED_CORPUS\n", argv[0]);
		return 2;
	}
	const int sandbox = strcmp(argv[1], "sandbox") == 0;
	const char *root = argv[2], *shared = argv[3];
	char path[1024];

	void *magic = NULL;
	airlock_ctx *ctx[OPT_COUNT] = { NULL };
	if (sandbox) {
		for (int i = 0; i < OPT_COUNT; i++) {
			if (!tap_ok(airlock_open(&ctx[i]) == AIRLOCK_OK, "airlock_open"))
				return tap_done();
			airlock_set(ctx[i], AIRLOCK_KEEP_ALPHA, (i & OPT_ALPHA) != 0);
			airlock_set(ctx[i], AIRLOCK_ICC, !(i & OPT_NOICC));
			airlock_set(ctx[i], AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO);
		}
	} else {
		magic = detect_open();
		if (!tap_ok(magic != NULL, "libmagic loads"))
			return tap_done();
	}

	/* corpus/images.tsv, then one manifest per format of its own generator (corpus/images-*.tsv). */
	char line[2048];
	int rows = 0;
	glob_t g = { 0 };
	snprintf(path, sizeof(path), "%s/corpus/images.tsv", root);
	glob(path, 0, NULL, &g);
	snprintf(path, sizeof(path), "%s/corpus/images-*.tsv", root);
	glob(path, GLOB_APPEND, NULL, &g);
	tap_ok(g.gl_pathc >= 1, "corpus/images.tsv found");
	for (size_t gi = 0; gi < g.gl_pathc; gi++) {
		FILE *m = fopen(g.gl_pathv[gi], "r");
		if (!tap_ok(m != NULL, "manifest %s opens", g.gl_pathv[gi]))
			continue;
		while (fgets(line, sizeof(line), m)) {
			struct case_row c;
			if (case_parse(line, &c) != 0)
				continue;
			rows++;
			const int opts = row_opts(c.opts);
			if (!tap_ok(opts >= 0, "%s: options %s known", c.path, c.opts))
				continue;
			char file[1024];
			size_t len = 0;
			case_file(&c, root, shared, file, sizeof(file));
			uint8_t *buf = slurp(file, &len);
			if (!tap_ok(buf != NULL, "%s readable", c.path))
				continue;

			struct outcome o;
			decode_one(sandbox ? ctx[opts] : NULL, magic, opts, buf, len, &o);
			check(&c, &o);
			free(buf);
		}
		fclose(m);
	}
	globfree(&g);
	large_chunks(sandbox ? ctx[0] : NULL, magic, root);
	if (!sandbox)
		orient_cases();
	tap_ok(rows > 200, "manifest has %d rows", rows);
	detect_close(magic);
	for (int i = 0; i < OPT_COUNT; i++)
		airlock_close(ctx[i]);
	return tap_done();
}
