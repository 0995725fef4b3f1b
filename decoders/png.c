/* SPDX-License-Identifier: MIT */
/*
 * PNG via libpng: every colour type and depth to RGB8 or RGBA8. Only IHDR,
 * PLTE, tRNS, IDAT and IEND are interpreted; every other chunk is discarded
 * unread (so zTXt, iTXt and iCCP are never inflated). Warnings and benign
 * errors are errors, and a CRC error anywhere rejects the file.
 */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

struct png_src {
	const uint8_t *buf;
	size_t len, pos;
	uint64_t budget; /* bytes libpng may still allocate */
	int err;	 /* airlock_error to report after the longjmp */
	uint32_t limit;	 /* airlock_key that tripped */
};

static void src_read(png_structp png, png_bytep data, size_t n)
{
	struct png_src *s = png_get_io_ptr(png);
	if (n > s->len - s->pos)
		png_error(png, "truncated");
	memcpy(data, s->buf + s->pos, n);
	s->pos += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_src *s = png_get_error_ptr(png);
	/* Keep the first cause: a failed allocation surfaces as a later error too. */
	if (!s->err && strstr(msg, "exceeds user limit")) {
		/* png_set_user_limits() tripped in IHDR: "Image width/height exceeds user limit". */
		s->err = AIRLOCK_E_TOO_LARGE;
		s->limit = strstr(msg, "width") ? AIRLOCK_MAX_WIDTH : AIRLOCK_MAX_HEIGHT;
	}
	if (!s->err)
		s->err = AIRLOCK_E_MALFORMED;
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	on_error(png, msg);
}

/* libpng's own allocations, charged against the request's memory budget. */
static png_voidp budget_malloc(png_structp png, png_alloc_size_t n)
{
	struct png_src *s = png_get_mem_ptr(png);
	if (n > s->budget) {
		s->err = AIRLOCK_E_MEMORY;
		return NULL;
	}
	size_t *p = malloc(sizeof(size_t) + n);
	if (!p) {
		s->err = AIRLOCK_E_MEMORY;
		return NULL;
	}
	s->budget -= n;
	*p = n;
	return p + 1;
}

static void budget_free(png_structp png, png_voidp ptr)
{
	struct png_src *s = png_get_mem_ptr(png);
	if (!ptr)
		return;
	size_t *p = (size_t *)ptr - 1;
	s->budget += *p;
	free(p);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * What the chunk list says about changes: metadata, animation, bytes after
 * IEND. Walks chunk headers only; libpng checks the structure itself.
 */
static uint32_t scan_chunks(const uint8_t *buf, size_t len)
{
	uint32_t changes = 0;
	size_t pos = 8;

	while (len - pos >= 12) {
		uint32_t n = be32(buf + pos);
		const uint8_t *t = buf + pos + 4;
		if (memcmp(t, "acTL", 4) == 0)
			changes |= AIRLOCK_CHANGE_ANIMATION_DROPPED;
		if (memcmp(t, "IHDR", 4) && memcmp(t, "PLTE", 4) && memcmp(t, "tRNS", 4) && memcmp(t, "IDAT", 4) &&
		    memcmp(t, "IEND", 4))
			changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
		if (n > len - pos - 12)
			break;
		pos += 12 + (size_t)n;
		if (memcmp(t, "IEND", 4) == 0) {
			if (pos < len)
				changes |= AIRLOCK_CHANGE_TRAILING_DROPPED;
			break;
		}
	}
	return changes;
}

/*
 * The chunks libpng is left to read (every other one is skipped unread, see
 * ignored_chunks) may be no longer than the format allows: IHDR 13 bytes,
 * PLTE 256 entries, tRNS one byte per entry, IEND none. libpng checks these
 * too, but only once it has got to the chunk; here a length that lies is
 * refused before any of it is read. A chunk that runs past the input is left
 * to libpng, which stops at the end of the buffer.
 */
static int check_read_chunks(const uint8_t *buf, size_t len)
{
	static const struct {
		char type[4];
		uint32_t max;
	} caps[] = { { { 'I', 'H', 'D', 'R' }, 13 },
		     { { 'P', 'L', 'T', 'E' }, 3 * 256 },
		     { { 't', 'R', 'N', 'S' }, 256 },
		     { { 'I', 'E', 'N', 'D' }, 0 } };
	size_t pos = 8;

	while (len - pos >= 12) {
		const uint32_t n = be32(buf + pos);
		const uint8_t *t = buf + pos + 4;
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			if (memcmp(t, caps[i].type, 4) == 0 && n > caps[i].max)
				return AIRLOCK_E_MALFORMED;
		if (n > len - pos - 12 || memcmp(t, "IEND", 4) == 0)
			break;
		pos += 12 + (size_t)n;
	}
	return AIRLOCK_OK;
}

/*
 * Replaces n index bytes at the start of px with n pixels of ch (3 or 4)
 * bytes, in place, from the end backwards. An index with no PLTE entry is
 * malformed (the PNG specification makes it an error). Entries past the
 * tRNS length are opaque.
 */
static int palette_expand(png_structp png, png_infop info, uint8_t *px, size_t n, uint32_t ch)
{
	png_colorp plte = NULL;
	png_bytep trns = NULL;
	int nplte = 0, ntrns = 0;

	if (png_get_PLTE(png, info, &plte, &nplte) != PNG_INFO_PLTE || nplte < 1)
		return AIRLOCK_E_MALFORMED;
	if (png_get_tRNS(png, info, &trns, &ntrns, NULL) != PNG_INFO_tRNS)
		ntrns = 0;
	for (size_t i = n; i-- > 0;) {
		const uint8_t idx = px[i];
		uint8_t *p = px + i * ch;
		if (idx >= nplte)
			return AIRLOCK_E_MALFORMED;
		p[0] = plte[idx].red;
		p[1] = plte[idx].green;
		p[2] = plte[idx].blue;
		if (ch == 4)
			p[3] = idx < ntrns ? trns[idx] : 0xff;
	}
	return AIRLOCK_OK;
}

/* Known ancillary chunks that libpng would otherwise parse: treat them as unknown, i.e. skip them. */
static const png_byte ignored_chunks[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0"
					 "sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt\0";

int png_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out)
{
	return png_decode_into(buf, len, lim, NULL, out);
}

int png_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out)
{
	struct png_src src = { .buf = buf, .len = len, .budget = 16u << 20 };
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t *volatile pixels = NULL;
	png_bytep *volatile rows = NULL;
	volatile uint32_t changes = 0, channels = 0;
	volatile size_t cap = 0; /* bytes allocated at pixels */
	int rc;

	*out = (struct frame){ .type = AIRLOCK_TYPE_PNG };
	if (len < 8 || png_sig_cmp(buf, 0, 8) != 0)
		return AIRLOCK_E_MALFORMED;
	rc = check_read_chunks(buf, len);
	if (rc)
		return rc;

	png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning, &src, budget_malloc,
				       budget_free);
	if (!png)
		return AIRLOCK_E_MEMORY;
	info = png_create_info_struct(png);
	if (!info) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		rc = src.err ? src.err : AIRLOCK_E_MALFORMED;
		out->limit = src.limit;
		goto out;
	}

	png_set_read_fn(png, &src, src_read);
	png_set_user_limits(png, lim->max_width, lim->max_height);
	png_set_chunk_cache_max(png, 128);
	/*
	 * No per-chunk length cap: libpng applies it to every chunk header it
	 * reads, skipped chunks included, so a cap refused valid files carrying
	 * a large private or text chunk that is never read. Skipping costs no
	 * memory (libpng reads past it through a small stack buffer); the chunks
	 * that are read have the caps of check_read_chunks(), and every libpng
	 * allocation still comes out of src.budget.
	 */
	png_set_chunk_malloc_max(png, 0);
	png_set_benign_errors(png, 0);
	png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks, (int)(sizeof(ignored_chunks) / 5));

	png_read_info(png, info);
	png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
	rc = image_check_dims(lim, w, h, out);
	if (rc)
		goto out;
	/*
	 * What libpng must inflate and unfilter: every row at its stored depth
	 * with its filter byte. RGBA16 at max_pixels is 1.4 GB and 6 s of zlib
	 * and unfiltering alone; the cap keeps the worst in-limit PNG under half
	 * the default CPU cap. At most 2^31 rows of 2^31 x 8 bytes: no overflow.
	 */
	if ((uint64_t)h * ((uint64_t)png_get_rowbytes(png, info) + 1) > lim->max_png_inflated_bytes) {
		out->limit = AIRLOCK_MAX_PNG_INFLATED_BYTES;
		rc = AIRLOCK_E_TOO_LARGE;
		goto out;
	}

	int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
	int has_alpha = (color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
	const int palette = color == PNG_COLOR_TYPE_PALETTE;

	/*
	 * Palette images are read as one index byte per pixel and looked up
	 * here: libpng's own expansion maps an index past the end of PLTE to
	 * black instead of failing.
	 */
	if (palette)
		png_set_packing(png);
	else
		png_set_expand(png);
	if (depth == 16) {
		png_set_strip_16(png);
		changes |= AIRLOCK_CHANGE_DEPTH_REDUCED;
	}
	if (!(color & PNG_COLOR_MASK_COLOR)) {
		png_set_gray_to_rgb(png);
		changes |= AIRLOCK_CHANGE_GREY_EXPANDED;
	}
	if (palette)
		changes |= AIRLOCK_CHANGE_PALETTE_EXPANDED;
	if (!has_alpha && lim->keep_alpha && !palette)
		png_set_filler(png, 0xff, PNG_FILLER_AFTER);
	if (png_set_interlace_handling(png) > 1)
		changes |= AIRLOCK_CHANGE_INTERLACE_REMOVED;
	png_read_update_info(png, info);

	channels = (has_alpha || lim->keep_alpha) ? 4 : 3;
	if (!has_alpha && lim->keep_alpha)
		changes |= AIRLOCK_CHANGE_ALPHA_ADDED;
	size_t size, stride = (size_t)w * (palette ? 1 : channels);
	rc = image_size(w, h, channels, &size);
	if (rc)
		goto out;
	if (png_get_rowbytes(png, info) != stride || png_get_channels(png, info) != (palette ? 1 : channels)) {
		rc = AIRLOCK_E_MALFORMED; /* libpng disagrees with itself: never trust the rows */
		goto out;
	}
	if (size > lim->memory_bytes) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	pixels = pixels_alloc(pa, size);
	cap = size;
	rows = malloc((size_t)h * sizeof(*rows));
	if (!pixels || !rows) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = pixels + (size_t)y * stride;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	if (palette) {
		rc = palette_expand(png, info, pixels, (size_t)w * h, channels);
		if (rc)
			goto out;
	}

	changes |= scan_chunks(buf, len);
	if (has_alpha && !lim->keep_alpha) {
		pixels_flatten(pixels, (size_t)w * h, lim->background);
		channels = 3;
		size = (size_t)w * h * 3;
		changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED;
	}

	out->kind = FRAME_KIND_IMAGE;
	out->format = FRAME_FORMAT_U8;
	out->width = w;
	out->height = h;
	out->channels = channels;
	out->changes = changes;
	out->pixels = pixels;
	out->size = size;
	pixels = NULL;
	rc = AIRLOCK_OK;
out:
	free(rows);
	if (pixels)
		pixels_release(pa, pixels, cap);
	png_destroy_read_struct(&png, info ? &info : NULL, NULL);
	return rc;
}
