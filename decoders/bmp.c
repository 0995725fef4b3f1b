/* SPDX-License-Identifier: MIT */
/*
 * BMP, decoded here from the format (no library): BITMAPCOREHEADER (OS/2 1.x),
 * OS/2 2.x (16 and 64 bytes), BITMAPINFOHEADER and its V2..V5 successors;
 * 1/2/4/8-bit palettes, 16/24/32-bit pixels, bit fields, RLE8 and RLE4.
 * Every read is checked against the buffer, and the pixel array is checked
 * against the file before the output is allocated.
 *
 * Where Pillow (9.4, the reference) decodes a file, the pixels are Pillow's:
 * n-bit fields scale as v * 255 / (2^n - 1), truncated; alpha is read only
 * from 32-bit pixels with an alpha mask (Pillow ignores a 16-bit one), and a
 * 32-bit bit-field header whose four masks are all zero is BGRA. Pixels an
 * RLE stream never sets are palette entry 0. Pillow 9.4 misreads RLE deltas
 * (it takes the two bytes after them) and odd RLE4 absolute runs; those
 * follow the format. What airlock does not take from Pillow is its leniency:
 * an RLE run past its row, an index past the palette, a header that lies
 * about sizes, planes or density are malformed, not guessed at.
 */
#include <string.h>

#include "decode.h"

enum {
	BI_RGB = 0,
	BI_RLE8 = 1,
	BI_RLE4 = 2,
	BI_BITFIELDS = 3,
	BI_JPEG = 4,
	BI_PNG = 5,
	BI_ALPHABITFIELDS = 6,
	BI_CMYK = 11,
	BI_CMYKRLE8 = 12,
	BI_CMYKRLE4 = 13,
};

/*
 * A pixel density past this (25,400 dpi, beyond any scanner or printer) or
 * below zero is no real picture's: bmpsuite's baddens files.
 */
#define MAX_DENSITY 1000000

struct bmp {
	const uint8_t *buf;
	size_t len;
	uint32_t w, h;
	int top_down;
	uint32_t bits, comp;
	size_t pixels_at;		      /* bfOffBits, or where the palette ends when that points at it */
	uint32_t mask[4], shift[4], width[4]; /* R, G, B, A */
	uint32_t ncolors;
	uint8_t pal[256][3]; /* RGB */
	int alpha;	     /* the pixels carry alpha the output keeps or flattens */
	size_t profile_end;  /* where a V5 profile after the pixels ends, else 0 */
	uint32_t changes;
};

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* A mask: contiguous bits, within the pixel. Sets its shift and width (0 for an empty mask). */
static int mask_parse(uint32_t m, uint32_t bits, uint32_t *shift, uint32_t *width)
{
	*shift = *width = 0;
	if (m == 0)
		return AIRLOCK_OK;
	if (bits < 32 && m >> bits)
		return AIRLOCK_E_MALFORMED;
	uint32_t s = 0;
	while (!((m >> s) & 1))
		s++;
	const uint64_t v = (uint64_t)m >> s;
	if ((v & (v + 1)) != 0) /* not 0b0..01..1 */
		return AIRLOCK_E_MALFORMED;
	uint32_t n = 0;
	while (n < 32 && ((v >> n) & 1))
		n++;
	*shift = s;
	*width = n;
	return AIRLOCK_OK;
}

/* The masks of a bit-field image: each colour one contiguous run, none overlapping. */
static int masks_check(struct bmp *b)
{
	if (b->bits == 32 && !b->mask[0] && !b->mask[1] && !b->mask[2] && !b->mask[3]) {
		/* Pillow reads four empty masks as BGRA. */
		b->mask[0] = 0xff0000;
		b->mask[1] = 0xff00;
		b->mask[2] = 0xff;
		b->mask[3] = 0xff000000u;
	}
	for (int i = 0; i < 4; i++)
		if (mask_parse(b->mask[i], b->bits, &b->shift[i], &b->width[i]))
			return AIRLOCK_E_MALFORMED;
	if (!b->mask[0] || !b->mask[1] || !b->mask[2])
		return AIRLOCK_E_MALFORMED;
	if ((b->mask[0] & b->mask[1]) || (b->mask[0] & b->mask[2]) || (b->mask[1] & b->mask[2]) ||
	    ((b->mask[0] | b->mask[1] | b->mask[2]) & b->mask[3]))
		return AIRLOCK_E_MALFORMED;
	/* Pillow reads alpha from 32-bit pixels only; a 16-bit alpha mask is left unread. */
	b->alpha = b->bits == 32 && b->mask[3] != 0;
	for (int i = 0; i < (b->alpha ? 4 : 3); i++)
		if (b->width[i] > 8)
			b->changes |= AIRLOCK_CHANGE_DEPTH_REDUCED;
	return AIRLOCK_OK;
}

/*
 * The headers: sizes, planes, depth, compression, masks and palette, with
 * every offset inside the file. Nothing is allocated.
 */
static int parse(struct bmp *b, const struct limits *lim, struct frame *out)
{
	const uint8_t *p = b->buf;
	const size_t len = b->len;

	if (len < 18 || p[0] != 'B' || p[1] != 'M')
		return AIRLOCK_E_MALFORMED;
	const uint32_t file_size = le32(p + 2), off = le32(p + 10), hs = le32(p + 14);
	if (hs != 12 && hs != 16 && hs != 40 && hs != 52 && hs != 56 && hs != 64 && hs != 108 && hs != 124)
		return AIRLOCK_E_MALFORMED;
	if (len < 14 + (size_t)hs)
		return AIRLOCK_E_MALFORMED;

	const uint8_t *ih = p + 14;
	uint32_t planes, clr_used = 0, size_image = 0;
	int64_t w, h;
	if (hs == 12) {
		w = le16(ih + 4);
		h = le16(ih + 6);
		planes = le16(ih + 8);
		b->bits = le16(ih + 10);
		b->comp = BI_RGB;
	} else {
		w = (int32_t)le32(ih + 4);
		h = (int32_t)le32(ih + 8);
		planes = le16(ih + 12);
		b->bits = le16(ih + 14);
		b->comp = hs >= 20 ? le32(ih + 16) : BI_RGB;
		if (hs >= 40) {
			const int32_t dx = (int32_t)le32(ih + 24), dy = (int32_t)le32(ih + 28);
			if (dx < 0 || dy < 0 || dx > MAX_DENSITY || dy > MAX_DENSITY)
				return AIRLOCK_E_MALFORMED;
			clr_used = le32(ih + 32);
			size_image = le32(ih + 20);
		}
		/*
		 * OS/2 2.x (16 or 64 bytes, which no Windows header is) has no bit
		 * fields: its 3 and 4 are Huffman 1D and RLE24.
		 */
		if ((hs == 16 || hs == 64) && b->comp > BI_RLE4)
			return b->comp <= BI_JPEG ? AIRLOCK_E_UNSUPPORTED : AIRLOCK_E_MALFORMED;
	}
	if (planes != 1)
		return AIRLOCK_E_MALFORMED;
	if (w <= 0 || h == 0 || h == INT32_MIN)
		return AIRLOCK_E_MALFORMED;
	b->top_down = h < 0;
	b->w = (uint32_t)w;
	b->h = (uint32_t)(h < 0 ? -h : h);

	switch (b->comp) {
	case BI_RGB:
		if (b->bits != 1 && b->bits != 2 && b->bits != 4 && b->bits != 8 && b->bits != 16 && b->bits != 24 &&
		    b->bits != 32)
			return b->bits == 64 ? AIRLOCK_E_UNSUPPORTED : AIRLOCK_E_MALFORMED;
		break;
	case BI_RLE8:
	case BI_RLE4:
		if (b->bits != (b->comp == BI_RLE8 ? 8u : 4u) || b->top_down)
			return AIRLOCK_E_MALFORMED;
		break;
	case BI_BITFIELDS:
	case BI_ALPHABITFIELDS:
		if (b->bits != 16 && b->bits != 24 && b->bits != 32)
			return AIRLOCK_E_MALFORMED;
		break;
	case BI_JPEG:
	case BI_PNG:
	case BI_CMYK:
	case BI_CMYKRLE8:
	case BI_CMYKRLE4: return AIRLOCK_E_UNSUPPORTED;
	default: return AIRLOCK_E_MALFORMED;
	}
	int rc = image_check_dims(lim, b->w, b->h, out);
	if (rc)
		return rc;
	/*
	 * Sizes the file gives for itself may not claim more than it holds: a
	 * shorter file is cut off. A longer one is common (OS/2 writers put the
	 * header's size in bfSize), and biSizeImage may be 0 for BI_RGB.
	 */
	if (file_size > len || off > len || size_image > len - off)
		return AIRLOCK_E_MALFORMED;

	/* Bit fields: in the header from V2 on, else right after it (three, or four with BI_ALPHABITFIELDS). */
	size_t pal_at = 14 + (size_t)hs;
	if (b->comp == BI_BITFIELDS || b->comp == BI_ALPHABITFIELDS) {
		const uint8_t *m = ih + 40;
		size_t n = b->comp == BI_ALPHABITFIELDS ? 4 : 3;
		if (hs == 40) {
			if (len - pal_at < 4 * n)
				return AIRLOCK_E_MALFORMED;
			m = p + pal_at;
			pal_at += 4 * n;
		} else {
			n = hs >= 56 ? 4 : 3; /* V2 (52 bytes) has no alpha mask */
		}
		for (size_t i = 0; i < n; i++)
			b->mask[i] = le32(m + 4 * i);
		if (masks_check(b))
			return AIRLOCK_E_MALFORMED;
	} else if (b->bits == 16) {
		b->mask[0] = 0x7c00;
		b->mask[1] = 0x3e0;
		b->mask[2] = 0x1f;
		masks_check(b);
	}

	/* An embedded or linked V5 profile: Pillow does not apply it, and it is dropped. */
	if (hs == 124 && (le32(ih + 56) == 0x4d424544 || le32(ih + 56) == 0x4c494e4b) && le32(ih + 116) > 0) {
		const uint64_t at = 14 + (uint64_t)le32(ih + 112), n = le32(ih + 116);
		b->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
		if (at + n <= len)
			b->profile_end = (size_t)(at + n);
	}

	b->pixels_at = off;
	if (b->bits <= 8) {
		const size_t ent = hs == 12 ? 3 : 4;
		const uint32_t full = 1u << b->bits;
		size_t n;
		if (clr_used > full) {
			/* More entries than an index can reach: the declared palette must still be there. */
			if (off < pal_at || clr_used > (off - pal_at) / ent)
				return AIRLOCK_E_MALFORMED;
			n = full;
		} else if (clr_used > 0) {
			n = clr_used;
		} else {
			/* No count: as many as fit before the pixels (OS/2 writers shorten it so), at most 2^bits. */
			n = off > pal_at ? (off - pal_at) / ent : 0;
			if (n > full)
				n = full;
		}
		/* Pillow's rule for a pixel offset that points at the palette: the pixels follow it. */
		if (off == pal_at && clr_used <= full) {
			n = clr_used ? clr_used : full;
			b->pixels_at = pal_at + n * ent;
		} else if (off < pal_at + n * ent) {
			return AIRLOCK_E_MALFORMED;
		}
		if (n == 0 || n * ent > len - pal_at)
			return AIRLOCK_E_MALFORMED;
		for (size_t i = 0; i < n; i++) {
			const uint8_t *e = p + pal_at + i * ent;
			b->pal[i][0] = e[2];
			b->pal[i][1] = e[1];
			b->pal[i][2] = e[0];
		}
		b->ncolors = (uint32_t)n;
		b->changes |= AIRLOCK_CHANGE_PALETTE_EXPANDED;
	} else if (off < pal_at) {
		return AIRLOCK_E_MALFORMED;
	}
	if (b->pixels_at > len)
		return AIRLOCK_E_MALFORMED;
	return AIRLOCK_OK;
}

/* An n-bit field to 8 bits, as Pillow's 5- and 6-bit unpackers round: truncated. */
static inline uint8_t field(uint32_t px, uint32_t shift, uint32_t width)
{
	if (width == 0)
		return 0;
	const uint64_t max = (width >= 32 ? 0xffffffffull : (1ull << width) - 1);
	const uint64_t v = ((uint64_t)px >> shift) & max;
	return (uint8_t)(v * 255 / max);
}

/* One stored row of an uncompressed image to ch-byte pixels. */
static int row_decode(const struct bmp *b, const uint8_t *src, uint8_t *dst, uint32_t ch)
{
	const uint32_t w = b->w;
	if (b->bits <= 8) {
		const uint32_t per = 8 / b->bits, m = (1u << b->bits) - 1;
		for (uint32_t x = 0; x < w; x++, dst += ch) {
			const uint32_t shift = 8 - b->bits * (x % per + 1);
			const uint32_t idx = (uint32_t)(src[x / per] >> shift) & m;
			if (idx >= b->ncolors)
				return AIRLOCK_E_MALFORMED;
			memcpy(dst, b->pal[idx], 3);
			if (ch == 4)
				dst[3] = 0xff;
		}
		return AIRLOCK_OK;
	}
	if ((b->bits == 24 || b->bits == 32) && b->comp == BI_RGB) {
		/* BGR, or BGRX: the fourth byte is not alpha (Pillow, and most writers, agree). */
		const uint32_t step = b->bits / 8;
		for (uint32_t x = 0; x < w; x++, src += step, dst += ch) {
			dst[0] = src[2];
			dst[1] = src[1];
			dst[2] = src[0];
			if (ch == 4)
				dst[3] = 0xff;
		}
		return AIRLOCK_OK;
	}
	const uint32_t bpp = b->bits / 8;
	for (uint32_t x = 0; x < w; x++, src += bpp, dst += ch) {
		uint32_t v = src[0] | (uint32_t)src[1] << 8;
		if (bpp >= 3)
			v |= (uint32_t)src[2] << 16;
		if (bpp == 4)
			v |= (uint32_t)src[3] << 24;
		dst[0] = field(v, b->shift[0], b->width[0]);
		dst[1] = field(v, b->shift[1], b->width[1]);
		dst[2] = field(v, b->shift[2], b->width[2]);
		if (ch == 4)
			dst[3] = b->alpha ? field(v, b->shift[3], b->width[3]) : 0xff;
	}
	return AIRLOCK_OK;
}

static int decode_raw(const struct bmp *b, uint8_t *px, uint32_t ch)
{
	const uint64_t stride = ((uint64_t)b->w * b->bits + 31) / 32 * 4;
	for (uint32_t y = 0; y < b->h; y++) {
		const uint32_t oy = b->top_down ? y : b->h - 1 - y;
		int rc = row_decode(b, b->buf + b->pixels_at + (size_t)y * stride, px + (size_t)oy * b->w * ch, ch);
		if (rc)
			return rc;
	}
	return AIRLOCK_OK;
}

/*
 * RLE8 and RLE4, bottom-up. Pixels the stream skips (a delta, an early end
 * of line or of the bitmap) stay palette entry 0. A run past its row or a
 * delta past the image is malformed, as is a stream without its end.
 */
static int decode_rle(const struct bmp *b, uint8_t *px, uint32_t ch, size_t *end)
{
	const uint8_t *p = b->buf + b->pixels_at;
	const size_t n = b->len - b->pixels_at;
	const int rle4 = b->comp == BI_RLE4;
	const uint32_t w = b->w, h = b->h;
	uint32_t x = 0, y = 0;
	size_t i = 0;

	for (;;) {
		if (n - i < 2)
			return AIRLOCK_E_MALFORMED;
		const uint32_t c0 = p[i], c1 = p[i + 1];
		i += 2;
		if (c0 > 0) {
			if (y >= h || c0 > w - x)
				return AIRLOCK_E_MALFORMED;
			uint8_t *d = px + ((size_t)(h - 1 - y) * w + x) * ch;
			for (uint32_t k = 0; k < c0; k++, d += ch) {
				const uint32_t idx = rle4 ? (k & 1 ? c1 & 15 : c1 >> 4) : c1;
				if (idx >= b->ncolors)
					return AIRLOCK_E_MALFORMED;
				memcpy(d, b->pal[idx], 3);
			}
			x += c0;
		} else if (c1 == 0) { /* end of line */
			if (y >= h)
				return AIRLOCK_E_MALFORMED;
			x = 0;
			y++;
		} else if (c1 == 1) { /* end of bitmap */
			break;
		} else if (c1 == 2) { /* delta */
			if (n - i < 2)
				return AIRLOCK_E_MALFORMED;
			const uint32_t dx = p[i], dy = p[i + 1];
			i += 2;
			if (dx > w - x || y >= h || dy > h - 1 - y)
				return AIRLOCK_E_MALFORMED;
			x += dx;
			y += dy;
		} else { /* absolute: c1 indices, padded to a 16-bit boundary */
			const size_t bytes = rle4 ? (c1 + 1) / 2 : c1;
			const size_t padded = (bytes + 1) & ~(size_t)1;
			if (y >= h || c1 > w - x || padded > n - i)
				return AIRLOCK_E_MALFORMED;
			uint8_t *d = px + ((size_t)(h - 1 - y) * w + x) * ch;
			for (uint32_t k = 0; k < c1; k++, d += ch) {
				const uint32_t idx = rle4 ? (k & 1 ? p[i + k / 2] & 15 : p[i + k / 2] >> 4) : p[i + k];
				if (idx >= b->ncolors)
					return AIRLOCK_E_MALFORMED;
				memcpy(d, b->pal[idx], 3);
			}
			x += c1;
			i += padded;
		}
	}
	*end = b->pixels_at + i;
	return AIRLOCK_OK;
}

int bmp_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out)
{
	struct bmp b = { .buf = buf, .len = len };
	uint8_t *pixels = NULL;
	size_t cap = 0, size = 0;
	int rc;

	*out = (struct frame){ .type = AIRLOCK_TYPE_BMP };
	rc = parse(&b, lim, out);
	if (rc)
		return rc;

	/* The stored pixels must all be in the file before anything image-sized exists. */
	size_t data_end = len;
	if (b.comp != BI_RLE8 && b.comp != BI_RLE4) {
		const uint64_t stride = ((uint64_t)b.w * b.bits + 31) / 32 * 4;
		const uint64_t last = ((uint64_t)b.w * b.bits + 7) / 8;
		/* The last row's padding may be missing: Pillow reads the rows without it. */
		if ((uint64_t)(b.h - 1) * stride + last > len - b.pixels_at)
			return AIRLOCK_E_MALFORMED;
		const uint64_t full = (uint64_t)b.h * stride;
		data_end = full < len - b.pixels_at ? b.pixels_at + (size_t)full : len;
	}

	const uint32_t ch = b.alpha || lim->keep_alpha ? 4 : 3;
	rc = image_size(b.w, b.h, ch, &size);
	if (rc)
		return rc;
	if (size > lim->memory_bytes) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		return AIRLOCK_E_MEMORY;
	}
	pixels = pixels_alloc(pa, size);
	cap = size;
	if (!pixels)
		return AIRLOCK_E_MEMORY;

	if (b.comp == BI_RLE8 || b.comp == BI_RLE4) {
		/* Everything the stream skips is entry 0, opaque. */
		for (size_t i = 0; i < (size_t)b.w * b.h; i++) {
			memcpy(pixels + i * ch, b.pal[0], 3);
			if (ch == 4)
				pixels[i * ch + 3] = 0xff;
		}
		rc = decode_rle(&b, pixels, ch, &data_end);
	} else {
		rc = decode_raw(&b, pixels, ch);
	}
	if (rc)
		goto out;

	uint32_t channels = ch, changes = b.changes;
	/* Bytes past the pixels (and past a V5 profile stored after them) are dropped. */
	if (b.profile_end > data_end)
		data_end = b.profile_end;
	if (data_end < len)
		changes |= AIRLOCK_CHANGE_TRAILING_DROPPED;
	if (b.alpha && !lim->keep_alpha) {
		pixels_flatten(pixels, (size_t)b.w * b.h, lim->background);
		channels = 3;
		size = (size_t)b.w * b.h * 3;
		changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED;
	}
	if (!b.alpha && lim->keep_alpha)
		changes |= AIRLOCK_CHANGE_ALPHA_ADDED;

	image_frame(out, b.w, b.h, channels, changes, pixels, size);
	pixels = NULL;
	rc = AIRLOCK_OK;
out:
	if (pixels)
		pixels_release(pa, pixels, cap);
	return rc;
}
