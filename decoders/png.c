/* SPDX-License-Identifier: MIT */
/*
 * PNG via libpng: every colour type and depth to RGB8 or RGBA8. libpng
 * interprets only IHDR, PLTE, tRNS, IDAT and IEND; every other chunk is
 * discarded unread by it (so zTXt and iTXt are never inflated). Two are read
 * here instead: iCCP, inflated with a cap of max_icc_bytes and converted to
 * sRGB (icc.c) when the request asks for it, and eXIf, whose orientation is
 * applied as Pillow's exif_transpose does. Warnings and benign errors are
 * errors, and a CRC error anywhere rejects the file.
 */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode.h"
#include "icc.h"

struct png_src {
	const uint8_t *buf;
	size_t len, pos;
	uint64_t budget; /* bytes libpng may still allocate */
	int err;	 /* airlock_error to report after the longjmp */
	uint32_t limit;	 /* airlock_key that tripped */
	int swap;	 /* the orientation swaps width and height: IHDR's width is the output's height */
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
		s->limit = (strstr(msg, "width") != NULL) != s->swap ? AIRLOCK_MAX_WIDTH : AIRLOCK_MAX_HEIGHT;
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

/* The two ancillary chunks airlock reads itself; bodies point into the input. */
struct png_extras {
	const uint8_t *iccp, *exif;
	size_t iccp_len, exif_len;
	int iccp_count;
};

/*
 * Finds iCCP and eXIf in the chunk list, as Pillow sees them: an iCCP only
 * ahead of the image data (Pillow stops reading the header at the first
 * IDAT), the last eXIf up to IEND (Pillow's getexif loads the image first,
 * and each eXIf replaces the one before). Chunks that run past the input are
 * left to libpng, which fails on them.
 */
static void find_extras(const uint8_t *buf, size_t len, struct png_extras *e)
{
	size_t pos = 8;
	int idat = 0;

	*e = (struct png_extras){ 0 };
	while (len - pos >= 12) {
		const uint32_t n = be32(buf + pos);
		const uint8_t *t = buf + pos + 4;
		if (n > len - pos - 12 || memcmp(t, "IEND", 4) == 0)
			break;
		if (memcmp(t, "IDAT", 4) == 0)
			idat = 1;
		else if (memcmp(t, "iCCP", 4) == 0 && !idat) {
			e->iccp = buf + pos + 8;
			e->iccp_len = n;
			e->iccp_count++;
		} else if (memcmp(t, "eXIf", 4) == 0) {
			e->exif = buf + pos + 8;
			e->exif_len = n;
		}
		pos += 12 + (size_t)n;
	}
}

/*
 * An iCCP body: a keyword of 1..79 bytes, its NUL, compression method 0 and
 * a zlib stream that must end. The profile is inflated into a buffer that
 * never grows past max_icc_bytes (a bomb stops there, too_large); *out is
 * malloc'd (NULL and *n 0 for an empty profile). Pillow would ignore a
 * corrupt stream and cut the profile at 1 MiB; airlock refuses the first and
 * takes profiles up to its own limit.
 */
static int iccp_inflate(const uint8_t *p, size_t n, const struct limits *lim, struct frame *f, uint8_t **out,
			size_t *out_len)
{
	size_t k = 0;
	*out = NULL;
	*out_len = 0;
	while (k < n && k < 80 && p[k] != 0)
		k++;
	if (k == 0 || k > 79 || n - k < 2 || p[k + 1] != 0)
		return AIRLOCK_E_MALFORMED;
	p += k + 2;
	n -= k + 2;

	z_stream z = { 0 };
	if (inflateInit(&z) != Z_OK)
		return AIRLOCK_E_MEMORY;
	uint8_t *prof = NULL;
	size_t cap = 0, used = 0;
	const size_t max = lim->max_icc_bytes;
	int rc = AIRLOCK_E_MALFORMED, zr = Z_OK;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	while (zr == Z_OK) {
		if (used == cap) {
			if (cap > max) { /* one byte past the limit arrived */
				f->limit = AIRLOCK_MAX_ICC_BYTES;
				rc = AIRLOCK_E_TOO_LARGE;
				goto out;
			}
			/* Grows by doubling up to max + 1: one byte more than the limit says the profile is too large.
			 */
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > max + 1 || ncap < cap)
				ncap = max + 1;
			uint8_t *q = realloc(prof, ncap);
			if (!q) {
				rc = AIRLOCK_E_MEMORY;
				goto out;
			}
			prof = q;
			cap = ncap;
		}
		z.next_out = prof + used;
		z.avail_out = (uInt)(cap - used);
		zr = inflate(&z, Z_NO_FLUSH);
		used = cap - z.avail_out;
		if (zr == Z_BUF_ERROR && z.avail_in == 0)
			break; /* the stream stops before its end */
		if (zr == Z_BUF_ERROR)
			zr = Z_OK;
	}
	if (zr != Z_STREAM_END)
		goto out;
	if (used > max) {
		f->limit = AIRLOCK_MAX_ICC_BYTES;
		rc = AIRLOCK_E_TOO_LARGE;
		goto out;
	}
	*out = used ? prof : NULL;
	*out_len = used;
	if (used)
		prof = NULL;
	rc = AIRLOCK_OK;
out:
	inflateEnd(&z);
	free(prof);
	return rc;
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

/*
 * The buffers a decode goes through: the rows libpng writes (A), the
 * profile's output when it is wider than A (B: grey in, RGB out) and the
 * oriented image (C). The last one is the frame's and comes from the pixel
 * allocator; the others are scratch.
 */
static uint8_t *stage_alloc(const struct pixel_alloc *pa, int last, size_t n)
{
	return last ? pixels_alloc(pa, n) : malloc(n);
}

static void stage_release(const struct pixel_alloc *pa, int last, uint8_t *p, size_t n)
{
	if (last)
		pixels_release(pa, p, n);
	else
		free(p);
}

int png_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out)
{
	struct png_src src = { .buf = buf, .len = len, .budget = 16u << 20 };
	struct png_extras ex;
	png_structp png = NULL;
	png_infop info = NULL;
	struct icc *volatile xf = NULL;
	uint8_t *volatile profile = NULL;
	uint8_t *volatile pixels = NULL; /* A */
	uint8_t *volatile conv = NULL;	 /* B */
	uint8_t *volatile turned = NULL; /* C */
	png_bytep *volatile rows = NULL;
	volatile uint32_t changes = 0, channels = 0;
	volatile size_t cap = 0, conv_cap = 0, turned_cap = 0; /* bytes allocated at A, B, C */
	volatile int a_last = 1, b_last = 0;
	int rc;

	*out = (struct frame){ .type = AIRLOCK_TYPE_PNG };
	if (len < 8 || png_sig_cmp(buf, 0, 8) != 0)
		return AIRLOCK_E_MALFORMED;
	rc = check_read_chunks(buf, len);
	if (rc)
		return rc;
	find_extras(buf, len, &ex);
	const int orientation = ex.exif ? exif_orientation(ex.exif, ex.exif_len) : 1;
	src.swap = orientation >= 5;

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
	/* Either side of IHDR may become the output's width; image_check_dims() below holds each to its own limit. */
	const uint32_t side = lim->max_width > lim->max_height ? lim->max_width : lim->max_height;
	png_set_user_limits(png, side, side);
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
	/* The limits apply to the image as output: orientations 5..8 swap width and height. */
	rc = image_check_dims(lim, src.swap ? h : w, src.swap ? w : h, out);
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
	const int palette = color == PNG_COLOR_TYPE_PALETTE, grey = !(color & PNG_COLOR_MASK_COLOR);
	channels = (has_alpha || lim->keep_alpha) ? 4 : 3;

	/*
	 * The profile, when the request wants it applied. Grey pixels go to it
	 * as grey (and grey+alpha), so libpng does not expand them; colour and
	 * palette pixels go as RGB or RGBA, as they are read. A profile of
	 * another colour space than the pixels' is ignored (icc.c).
	 */
	if (lim->icc && ex.iccp_count > 1) {
		rc = AIRLOCK_E_MALFORMED; /* the PNG specification allows one; which one was meant is a guess */
		goto out;
	}
	if (lim->icc && ex.iccp) {
		uint8_t *prof = NULL;
		size_t plen = 0;
		struct icc *x = NULL;
		rc = iccp_inflate(ex.iccp, ex.iccp_len, lim, out, &prof, &plen);
		profile = prof;
		if (rc)
			goto out;
		const enum icc_layout layout =
			grey ? (has_alpha ? ICC_GREY_ALPHA : ICC_GREY) : (channels == 4 ? ICC_RGBA : ICC_RGB);
		rc = icc_open(prof, plen, layout, channels, lim, out, &x);
		xf = x;
		free(profile);
		profile = NULL;
		if (rc)
			goto out;
	}
	const int grey_icc = xf && grey;
	const uint32_t read_ch = palette ? 1 : grey_icc ? (has_alpha ? 2 : 1) : channels;

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
	if (grey) {
		if (!grey_icc)
			png_set_gray_to_rgb(png);
		changes |= AIRLOCK_CHANGE_GREY_EXPANDED;
	}
	if (palette)
		changes |= AIRLOCK_CHANGE_PALETTE_EXPANDED;
	if (!has_alpha && lim->keep_alpha && !palette && !grey_icc)
		png_set_filler(png, 0xff, PNG_FILLER_AFTER);
	if (png_set_interlace_handling(png) > 1)
		changes |= AIRLOCK_CHANGE_INTERLACE_REMOVED;
	png_read_update_info(png, info);

	if (!has_alpha && lim->keep_alpha)
		changes |= AIRLOCK_CHANGE_ALPHA_ADDED;
	const uint32_t final_ch = has_alpha && !lim->keep_alpha ? 3 : channels;
	size_t size, final_size, read_size, stride = (size_t)w * read_ch;
	rc = image_size(w, h, channels, &size);
	if (!rc)
		rc = image_size(w, h, final_ch, &final_size);
	if (!rc)
		rc = image_size(w, h, read_ch, &read_size);
	if (rc)
		goto out;
	if (png_get_rowbytes(png, info) != stride || png_get_channels(png, info) != read_ch) {
		rc = AIRLOCK_E_MALFORMED; /* libpng disagrees with itself: never trust the rows */
		goto out;
	}
	/* What is alive at once: A and B while the profile converts, then B (or A) and C while orienting. */
	const int need_b = grey_icc, need_c = orientation != 1;
	const size_t a_size = palette || !grey_icc ? size : read_size;
	const size_t b_size = need_b ? size : 0, c_size = need_c ? final_size : 0;
	const size_t peak1 = a_size + b_size, peak2 = (need_b ? b_size : a_size) + c_size;
	if (peak1 < a_size || peak2 < c_size || (peak1 > peak2 ? peak1 : peak2) > lim->memory_bytes) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	a_last = !need_b && !need_c;
	b_last = need_b && !need_c;
	pixels = stage_alloc(pa, a_last, a_size);
	cap = a_size;
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

	uint8_t *px = pixels;
	if (need_b) {
		conv = stage_alloc(pa, b_last, b_size);
		conv_cap = b_size;
		if (!conv) {
			rc = AIRLOCK_E_MEMORY;
			goto out;
		}
		icc_apply(xf, pixels, conv, (size_t)w * h);
		stage_release(pa, a_last, pixels, cap);
		pixels = NULL;
		px = conv;
	} else if (xf) {
		icc_apply(xf, pixels, pixels, (size_t)w * h); /* RGB(A) in, the same width out */
	}
	if (xf)
		changes |= AIRLOCK_CHANGE_ICC_CONVERTED;
	if (has_alpha && !lim->keep_alpha) {
		pixels_flatten(px, (size_t)w * h, lim->background);
		changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED;
	}
	if (need_c) {
		turned = stage_alloc(pa, 1, c_size);
		turned_cap = c_size;
		if (!turned) {
			rc = AIRLOCK_E_MEMORY;
			goto out;
		}
		for (uint32_t y0 = 0; y0 < h; y0 += PIXELS_ORIENT_BAND) {
			const uint32_t n = h - y0 < PIXELS_ORIENT_BAND ? h - y0 : PIXELS_ORIENT_BAND;
			pixels_orient_band(px + (size_t)y0 * w * final_ch, w, h, final_ch, orientation, y0, n, turned);
		}
		changes |= AIRLOCK_CHANGE_ROTATED;
		px = turned;
		turned = NULL;
		if (src.swap) {
			const png_uint_32 t = w;
			w = h;
			h = t;
		}
	} else {
		/* px is A or B, and the frame's: nothing to release below */
		if (px == pixels)
			pixels = NULL;
		else
			conv = NULL;
	}

	image_frame(out, w, h, final_ch, changes, px, final_size);
	rc = AIRLOCK_OK;
out:
	free(rows);
	free(profile);
	icc_close(xf);
	if (pixels)
		stage_release(pa, a_last, pixels, cap);
	if (conv)
		stage_release(pa, b_last, conv, conv_cap);
	if (turned)
		pixels_release(pa, turned, turned_cap);
	png_destroy_read_struct(&png, info ? &info : NULL, NULL);
	return rc;
}
