/* SPDX-License-Identifier: MIT */
/*
 * TIFF via libtiff: the first image (IFD 0) of a classic or BigTIFF file, in
 * strips or tiles, uncompressed, LZW, Deflate, PackBits or JPEG, predictor 1
 * or 2; 1/2/4/8/16-bit grey, 8/16-bit RGB, 1/2/4/8-bit palette and 8-bit
 * CMYK, each with at most one alpha sample. Anything else is unsupported:
 * float and signed samples, separate planes, YCbCr other than in JPEG, OJPEG,
 * CCITT, LogLuv, WebP, ZSTD and LZMA, other depths.
 *
 * libtiff reads from the buffer through its client procedures (no file, no
 * mapping) with its allocations capped and its errors and warnings routed
 * to handlers that record them; every one rejects the file but the warning
 * for a tag libtiff does not know (see on_warning). Strips and tiles are read
 * into buffers of the sizes the header implies, checked against the limits
 * before anything image-sized is allocated, and unpacked here, so every
 * sample goes through code that knows the bounds.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "decode.h"
#include "icc.h"

struct tiff_src {
	const uint8_t *buf;
	size_t len;
	uint64_t pos;
	int err;	/* airlock_error of the first problem libtiff reported, or 0 */
	uint32_t limit; /* airlock_key that tripped */
};

static tmsize_t src_read(thandle_t h, void *data, tmsize_t n)
{
	struct tiff_src *s = h;
	if (n <= 0 || s->pos >= s->len)
		return 0;
	size_t k = s->len - (size_t)s->pos;
	if ((uint64_t)n < k)
		k = (size_t)n;
	memcpy(data, s->buf + s->pos, k);
	s->pos += k;
	return (tmsize_t)k;
}

static tmsize_t src_write(thandle_t h, void *data, tmsize_t n)
{
	(void)h;
	(void)data;
	(void)n;
	return -1;
}

static toff_t src_seek(thandle_t h, toff_t off, int whence)
{
	struct tiff_src *s = h;
	uint64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->len;
	if (off > UINT64_MAX - base)
		return (toff_t)-1;
	/* Past the end is allowed, as lseek allows it; reads there return nothing. */
	s->pos = base + off;
	return s->pos;
}

static int src_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t src_size(thandle_t h)
{
	return ((struct tiff_src *)h)->len;
}

static int src_map(thandle_t h, void **base, toff_t *size)
{
	(void)h;
	(void)base;
	(void)size;
	return 0;
}

static void src_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	struct tiff_src *s = user;
	(void)tif;
	(void)module;
	(void)ap;
	if (!s->err && fmt && strstr(fmt, "byte limit defined in open options")) {
		/* TIFFOpenOptionsSetMaxSingleMemAlloc tripped: a header asked for more than the budget. */
		s->err = AIRLOCK_E_MEMORY;
		s->limit = AIRLOCK_MEMORY_BYTES;
	}
	if (!s->err)
		s->err = AIRLOCK_E_MALFORMED;
	return 1; /* handled: libtiff's global handlers (which print) are never called */
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	/*
	 * A tag libtiff has no definition for (a private tag of some camera,
	 * scanner or editor) is common in valid files; libtiff keeps it as an
	 * anonymous field that nothing here reads, and its bytes are dropped with
	 * the rest of the metadata. Every other warning is an error.
	 */
	if (fmt && strncmp(fmt, "Unknown field with tag", 22) == 0)
		return 1;
	/* LZW as written before libtiff 5.0 (bit order reversed): a variant, not an error. */
	struct tiff_src *s = user;
	if (!s->err && fmt && strstr(fmt, "Old-style LZW codes"))
		s->err = AIRLOCK_E_UNSUPPORTED;
	return on_error(tif, user, module, fmt, ap);
}

/* ---- IFD walk (our own, bounds-checked, before libtiff sees the file) ---- */

struct ifd_info {
	int metadata; /* IFD 0 has a tag that is not needed to decode its pixels */
	int others;   /* more IFDs follow */
	int loop;     /* the chain of IFDs comes back on itself */
};

static uint64_t rd(const uint8_t *p, int n, int le)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[le ? n - 1 - i : i];
	return v;
}

/* The tags that describe IFD 0's pixels; any other one is metadata and is dropped. */
static int pixel_tag(uint32_t tag)
{
	static const uint16_t tags[] = {
		254, 255, 256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 284,
		317, 320, 322, 323, 324, 325, 332, 338, 339, 347, 530, 531, 532,
	};
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (tags[i] == tag)
			return 1;
	return 0;
}

/*
 * What libtiff's reading of IFD 0 does not say: which other tags and IFDs
 * there are, and whether the chain of IFDs loops. An IFD out of the buffer
 * ends the walk; libtiff judges IFD 0 itself.
 */
static void ifd_walk(const uint8_t *buf, size_t len, struct ifd_info *info)
{
	*info = (struct ifd_info){ 0 };
	const int le = buf[0] == 'I', big = rd(buf + 2, 2, le) == 43;
	const int cn = big ? 8 : 2, en = big ? 20 : 12, on = big ? 8 : 4;
	uint64_t seen[64];
	size_t nseen = 0;
	uint64_t off = big ? (len >= 16 ? rd(buf + 8, 8, le) : 0) : rd(buf + 4, 4, le);

	while (off != 0 && off < len && len - off >= (uint64_t)cn && nseen < sizeof(seen) / sizeof(seen[0])) {
		for (size_t i = 0; i < nseen; i++)
			if (seen[i] == off) {
				info->loop = 1;
				return;
			}
		seen[nseen++] = off;
		const uint64_t count = rd(buf + off, cn, le);
		if (count > (len - off - cn) / en)
			return;
		const uint8_t *e = buf + off + cn;
		if (nseen == 1)
			for (uint64_t i = 0; i < count; i++)
				if (!pixel_tag((uint32_t)rd(e + i * en, 2, le)))
					info->metadata = 1;
		const uint64_t next_at = off + cn + count * en;
		if (len - next_at < (uint64_t)on)
			return;
		off = rd(buf + next_at, on, le);
		if (nseen == 1 && off != 0 && off < len)
			info->others = 1;
	}
}

/* ---- pixels ---- */

enum kind { K_GREY, K_RGB, K_PAL, K_CMYK };

struct layout {
	enum kind kind;
	uint32_t bps, spp;
	uint32_t colour; /* colour samples: 1, 3 or 4 (a palette index is 1) */
	uint32_t alpha;	 /* 0 none, EXTRASAMPLE_ASSOCALPHA or EXTRASAMPLE_UNASSALPHA */
	uint32_t wc;	 /* bytes per pixel in the work image: colour (palette: 3) plus alpha */
	int miniswhite;	 /* grey 0 is white */
	uint8_t pal[256][3];
};

/* Sample i of a stored row as stored: packed MSB first, or 16-bit in the host's order (libtiff swaps them). */
static inline uint32_t raw_sample(const uint8_t *row, uint64_t i, uint32_t bps)
{
	if (bps == 8)
		return row[i];
	if (bps == 16) {
		uint16_t v;
		memcpy(&v, row + 2 * i, 2);
		return v;
	}
	const uint64_t bit = i * bps;
	return (row[bit >> 3] >> (8 - bps - (bit & 7))) & ((1u << bps) - 1);
}

/* To 8 bits: 16-bit by its high byte (as airlock's PNG and Pillow's unpackers), 1/2/4-bit scaled (x255, x85, x17). */
static inline uint32_t sample8(const uint8_t *row, uint64_t i, uint32_t bps)
{
	const uint32_t v = raw_sample(row, i, bps);
	return bps == 16 ? v >> 8 : bps == 8 ? v : v * (255 / ((1u << bps) - 1));
}

/* Pillow's unpackRGBa: premultiplied colour back to straight, truncating; alpha 0 gives 0. */
static inline uint8_t unpremultiply(uint32_t v, uint32_t a)
{
	if (a == 0)
		return 0;
	if (a == 255)
		return (uint8_t)v;
	v = v * 255 / a;
	return (uint8_t)(v > 255 ? 255 : v);
}

/* n pixels of one stored row (byte-aligned at its start) into the work image's layout. */
static void unpack_row(const struct layout *L, const uint8_t *src, uint32_t n, uint8_t *dst)
{
	const uint32_t spp = L->spp, bps = L->bps;
	for (uint32_t x = 0; x < n; x++, dst += L->wc) {
		const uint64_t i = (uint64_t)x * spp;
		uint32_t c = 0;
		if (L->kind == K_PAL) {
			/* bps <= 8 and the map has 2^bps entries: every index has one. */
			memcpy(dst, L->pal[raw_sample(src, i, bps)], 3);
			c = 3;
		} else {
			for (; c < L->colour; c++) {
				const uint32_t v = sample8(src, i + c, bps);
				dst[c] = (uint8_t)(L->miniswhite ? 255 - v : v);
			}
		}
		if (L->alpha) {
			const uint32_t a = sample8(src, i + L->colour, bps);
			dst[c] = (uint8_t)a;
			if (L->alpha == EXTRASAMPLE_ASSOCALPHA)
				for (uint32_t k = 0; k < c; k++)
					dst[k] = unpremultiply(dst[k], a);
		}
	}
}

/* Work pixels (n, layout L) to RGB or RGBA (oc): grey spread, CMYK by Pillow's formula (0 = no ink). */
static void to_rgb(const struct layout *L, const uint8_t *src, size_t n, uint8_t *dst, uint32_t oc)
{
	for (size_t i = 0; i < n; i++, src += L->wc, dst += oc) {
		switch (L->kind) {
		case K_GREY: dst[0] = dst[1] = dst[2] = src[0]; break;
		case K_RGB:
		case K_PAL: memcpy(dst, src, 3); break;
		case K_CMYK: {
			const uint32_t k = 255u - src[3];
			/* round((255 - C)(255 - K) / 255): Pillow's cmyk2rgb, and airlock's JPEG path. */
			dst[0] = (uint8_t)(((255u - src[0]) * k + 127) / 255);
			dst[1] = (uint8_t)(((255u - src[1]) * k + 127) / 255);
			dst[2] = (uint8_t)(((255u - src[2]) * k + 127) / 255);
			break;
		}
		}
		if (oc == 4)
			dst[3] = L->alpha ? src[L->wc - 1] : 255;
	}
}

/* The subset, from IFD 0's fields; AIRLOCK_E_UNSUPPORTED for anything outside it. */
static int read_layout(TIFF *tif, struct layout *L, uint16_t *compression)
{
	uint16_t bps = 1, spp = 1, photo = 0, planar = PLANARCONFIG_CONTIG, fmt = SAMPLEFORMAT_UINT;
	uint16_t pred = PREDICTOR_NONE, inkset = INKSET_CMYK, nextra = 0, *extra = NULL;

	if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo))
		return AIRLOCK_E_MALFORMED;
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, compression);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
	TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
	if (*compression == COMPRESSION_LZW || *compression == COMPRESSION_ADOBE_DEFLATE ||
	    *compression == COMPRESSION_DEFLATE)
		TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &pred);

	switch (*compression) {
	case COMPRESSION_NONE:
	case COMPRESSION_LZW:
	case COMPRESSION_ADOBE_DEFLATE:
	case COMPRESSION_DEFLATE:
	case COMPRESSION_PACKBITS:
	case COMPRESSION_JPEG: break;
	default: return AIRLOCK_E_UNSUPPORTED;
	}
	/* "Void" (untyped) samples are read as unsigned, as libtiff's own RGBA reader and Pillow read them. */
	if (planar != PLANARCONFIG_CONTIG || (fmt != SAMPLEFORMAT_UINT && fmt != SAMPLEFORMAT_VOID) || nextra > 1 ||
	    (pred != PREDICTOR_NONE && pred != PREDICTOR_HORIZONTAL))
		return AIRLOCK_E_UNSUPPORTED;

	*L = (struct layout){ .bps = bps, .spp = spp };
	switch (photo) {
	case PHOTOMETRIC_MINISWHITE:
	case PHOTOMETRIC_MINISBLACK:
		L->kind = K_GREY;
		L->colour = 1;
		L->miniswhite = photo == PHOTOMETRIC_MINISWHITE;
		if (bps != 1 && bps != 2 && bps != 4 && bps != 8 && bps != 16)
			return AIRLOCK_E_UNSUPPORTED;
		break;
	case PHOTOMETRIC_RGB:
		L->kind = K_RGB;
		L->colour = 3;
		if (bps != 8 && bps != 16)
			return AIRLOCK_E_UNSUPPORTED;
		break;
	case PHOTOMETRIC_YCBCR:
		/* Only inside JPEG, where libjpeg converts it (JPEGCOLORMODE_RGB below). */
		if (*compression != COMPRESSION_JPEG || bps != 8)
			return AIRLOCK_E_UNSUPPORTED;
		L->kind = K_RGB;
		L->colour = 3;
		break;
	case PHOTOMETRIC_PALETTE:
		L->kind = K_PAL;
		L->colour = 1;
		if (bps != 1 && bps != 2 && bps != 4 && bps != 8)
			return AIRLOCK_E_UNSUPPORTED;
		break;
	case PHOTOMETRIC_SEPARATED:
		TIFFGetFieldDefaulted(tif, TIFFTAG_INKSET, &inkset);
		L->kind = K_CMYK;
		L->colour = 4;
		if (inkset != INKSET_CMYK || bps != 8)
			return AIRLOCK_E_UNSUPPORTED;
		break;
	default: return AIRLOCK_E_UNSUPPORTED;
	}
	if (spp != L->colour + nextra)
		return spp < L->colour ? AIRLOCK_E_MALFORMED : AIRLOCK_E_UNSUPPORTED;
	if (nextra == 1 && (extra[0] == EXTRASAMPLE_ASSOCALPHA || extra[0] == EXTRASAMPLE_UNASSALPHA))
		L->alpha = extra[0];
	/* Premultiplied ink has no meaning any reader agrees on. */
	if (L->kind == K_CMYK && L->alpha == EXTRASAMPLE_ASSOCALPHA)
		return AIRLOCK_E_UNSUPPORTED;
	/* An extra sample of no stated meaning is skipped, as Pillow skips it (RGBX, CMYKX). */
	L->wc = (L->kind == K_PAL ? 3 : L->colour) + (L->alpha ? 1 : 0);

	if (L->kind == K_PAL) {
		uint16_t *r, *g, *b;
		if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b))
			return AIRLOCK_E_MALFORMED;
		/* libtiff holds 2^bps entries of each; 16-bit values to 8 as Pillow does (the high byte). */
		for (uint32_t i = 0; i < (1u << bps); i++) {
			L->pal[i][0] = (uint8_t)(r[i] >> 8);
			L->pal[i][1] = (uint8_t)(g[i] >> 8);
			L->pal[i][2] = (uint8_t)(b[i] >> 8);
		}
	}
	return AIRLOCK_OK;
}

int tiff_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		     struct frame *out)
{
	struct tiff_src src = { .buf = buf, .len = len };
	TIFFOpenOptions *opts = NULL;
	TIFF *tif = NULL;
	struct layout *L = NULL;
	struct icc *icc = NULL;
	uint8_t *work = NULL, *strip = NULL, *band = NULL, *pixels = NULL;
	size_t cap = 0;
	uint32_t changes = 0;
	int rc;

	*out = (struct frame){ .type = AIRLOCK_TYPE_TIFF };
	if (len < 8 || !((memcmp(buf, "II", 2) == 0 && (buf[2] == 42 || buf[2] == 43) && buf[3] == 0) ||
			 (memcmp(buf, "MM", 2) == 0 && buf[2] == 0 && (buf[3] == 42 || buf[3] == 43))))
		return AIRLOCK_E_MALFORMED;

	struct ifd_info info;
	ifd_walk(buf, len, &info);
	if (info.loop)
		return AIRLOCK_E_MALFORMED; /* a chain of IFDs must end; libtiff only finds out when it walks on */
	if (info.metadata || info.others)
		changes |= AIRLOCK_CHANGE_METADATA_DROPPED;

	opts = TIFFOpenOptionsAlloc();
	L = malloc(sizeof(*L));
	if (!opts || !L) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	/* libtiff's own allocations (tag arrays, strip offsets, raw strips, codec state), one at a time. */
	const uint64_t single = lim->memory_bytes / 4;
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)(single > INT64_MAX ? INT64_MAX : single));
	TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, &src);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, &src);
	/* "m": never map; the procedures read from the buffer. */
	tif = TIFFClientOpenExt("tiff", "rm", (thandle_t)&src, src_read, src_write, src_seek, src_close, src_size,
				src_map, src_unmap, opts);
	if (!tif || src.err) {
		rc = src.err ? src.err : AIRLOCK_E_MALFORMED;
		goto out;
	}

	uint32_t w = 0, h = 0;
	uint16_t orientation = ORIENTATION_TOPLEFT, compression = COMPRESSION_NONE;
	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h)) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
	if (orientation < 1 || orientation > 8)
		orientation = 1;
	/* The limits apply to the image as output: orientations 5..8 swap width and height. */
	const int swap = orientation >= 5;
	rc = image_check_dims(lim, swap ? h : w, swap ? w : h, out);
	if (rc)
		goto out;
	rc = read_layout(tif, L, &compression);
	if (rc)
		goto out;
	if (compression == COMPRESSION_JPEG && !TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB)) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	if (src.err) {
		rc = src.err;
		goto out;
	}

	/* The geometry of the stored blocks: strips are tiles as wide as the image. */
	const int tiled = TIFFIsTiled(tif);
	uint32_t bw = w, bh = 0;
	if (tiled) {
		if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &bw) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &bh) ||
		    bw == 0 || bh == 0) {
			rc = AIRLOCK_E_MALFORMED;
			goto out;
		}
	} else {
		TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &bh);
		if (bh == 0 || bh > h)
			bh = h;
	}
	const uint64_t row_bytes = ((uint64_t)bw * L->spp * L->bps + 7) / 8;
	const uint64_t block = row_bytes * bh; /* < 2^32 * 5 * 16 / 8 * 2^32: no overflow */
	const uint64_t across = ((uint64_t)w + bw - 1) / bw, down = ((uint64_t)h + bh - 1) / bh;
	const tmsize_t lib_block = tiled ? TIFFTileSize(tif) : TIFFStripSize(tif);
	if (src.err) {
		rc = src.err;
		goto out;
	}
	if (lib_block <= 0 || (uint64_t)lib_block < (tiled ? block : row_bytes * (bh < h ? bh : h))) {
		rc = AIRLOCK_E_MALFORMED; /* libtiff disagrees with the arithmetic above: trust neither */
		goto out;
	}

	/*
	 * What the codecs must produce: every block whole, tiles padded at the
	 * edges. The same cap as a PNG's inflated rows: a tile far larger than
	 * the image, or a grid of them, costs its full size in decompression.
	 */
	if (block > UINT64_MAX / across / down || block * across * down > lim->max_png_inflated_bytes) {
		out->limit = AIRLOCK_MAX_PNG_INFLATED_BYTES;
		rc = AIRLOCK_E_TOO_LARGE;
		goto out;
	}
	const uint32_t has_alpha = L->alpha != 0, mid = has_alpha || lim->keep_alpha ? 4 : 3,
		       channels = lim->keep_alpha ? 4 : 3;
	const uint32_t band_rows = h < PIXELS_ORIENT_BAND ? h : PIXELS_ORIENT_BAND;
	size_t size, wsize;
	rc = image_size(w, h, channels, &size);
	if (!rc)
		rc = image_size(w, h, L->wc, &wsize);
	if (rc)
		goto out;
	/* Work image, output, one block, a band: all of it within the budget. */
	const uint64_t need = (uint64_t)wsize + size + (uint64_t)lib_block + 2ull * band_rows * w * 4;
	if ((uint64_t)lib_block > lim->memory_bytes || need > lim->memory_bytes) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	work = malloc(wsize);
	strip = malloc((size_t)lib_block);
	band = malloc((size_t)band_rows * w * 4 * 2);
	if (!work || !strip || !band) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}

	for (uint64_t by = 0; by < down; by++)
		for (uint64_t bx = 0; bx < across; bx++) {
			const uint32_t x0 = (uint32_t)(bx * bw), y0 = (uint32_t)(by * bh);
			const uint32_t nx = w - x0 < bw ? w - x0 : bw, ny = h - y0 < bh ? h - y0 : bh;
			tmsize_t got;
			if (tiled) {
				got = TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x0, y0, 0, 0), strip, lib_block);
			} else {
				got = TIFFReadEncodedStrip(tif, (uint32_t)by, strip, lib_block);
			}
			if (src.err) {
				rc = src.err;
				goto out;
			}
			if (got < 0 || (uint64_t)got < row_bytes * (tiled ? bh : ny)) {
				rc = AIRLOCK_E_MALFORMED;
				goto out;
			}
			for (uint32_t y = 0; y < ny; y++)
				unpack_row(L, strip + (size_t)y * row_bytes, nx,
					   work + ((size_t)(y0 + y) * w + x0) * L->wc);
		}
	free(strip);
	strip = NULL;

	uint32_t icc_len = 0;
	const uint8_t *profile = NULL;
	if (TIFFGetField(tif, TIFFTAG_ICCPROFILE, &icc_len, &profile) && icc_len > 0) {
		const enum icc_layout in = L->kind == K_GREY   ? (L->alpha ? ICC_GREY_ALPHA : ICC_GREY)
					   : L->kind == K_CMYK ? ICC_CMYK
					   : L->alpha	       ? ICC_RGBA
							       : ICC_RGB;
		rc = icc_open(profile, icc_len, in, mid, lim, out, &icc);
		if (rc)
			goto out;
	}

	pixels = pixels_alloc(pa, size);
	cap = size;
	if (!pixels) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	uint8_t *const tmp = band + (size_t)band_rows * w * 4;
	for (uint32_t y0 = 0; y0 < h; y0 += band_rows) {
		const uint32_t n = h - y0 < band_rows ? h - y0 : band_rows;
		const size_t np = (size_t)n * w;
		const uint8_t *wp = work + (size_t)y0 * w * L->wc;
		if (icc && L->kind == K_CMYK && L->alpha) {
			/* The transform takes CMYK alone; the alpha is carried over after it. */
			for (size_t i = 0; i < np; i++)
				memcpy(tmp + 4 * i, wp + 5 * i, 4);
			icc_apply(icc, tmp, band, np);
			for (size_t i = 0; i < np; i++)
				band[4 * i + 3] = wp[5 * i + 4];
		} else if (icc) {
			icc_apply(icc, wp, band, np);
		} else {
			to_rgb(L, wp, np, band, mid);
		}
		if (has_alpha && !lim->keep_alpha)
			pixels_flatten(band, np, lim->background);
		pixels_orient_band(band, w, h, channels, orientation, y0, n, pixels);
	}

	if (icc)
		changes |= AIRLOCK_CHANGE_ICC_CONVERTED;
	if (L->kind == K_GREY)
		changes |= AIRLOCK_CHANGE_GREY_EXPANDED;
	if (L->kind == K_PAL)
		changes |= AIRLOCK_CHANGE_PALETTE_EXPANDED;
	if (L->kind == K_CMYK)
		changes |= AIRLOCK_CHANGE_CMYK_CONVERTED;
	if (L->bps == 16)
		changes |= AIRLOCK_CHANGE_DEPTH_REDUCED;
	if (has_alpha && !lim->keep_alpha)
		changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED;
	if (!has_alpha && lim->keep_alpha)
		changes |= AIRLOCK_CHANGE_ALPHA_ADDED;
	if (orientation != 1)
		changes |= AIRLOCK_CHANGE_ROTATED;

	image_frame(out, swap ? h : w, swap ? w : h, channels, changes, pixels, size);
	pixels = NULL;
	rc = AIRLOCK_OK;
out:
	if (rc == src.err && !out->limit)
		out->limit = src.limit;
	icc_close(icc);
	free(work);
	free(strip);
	free(band);
	free(L);
	if (pixels)
		pixels_release(pa, pixels, cap);
	if (tif)
		TIFFClose(tif);
	TIFFOpenOptionsFree(opts);
	return rc;
}
