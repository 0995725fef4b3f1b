/* SPDX-License-Identifier: MIT */
/*
 * GIF via giflib: the first image, placed on the logical screen as Pillow
 * places frame 0. The records are walked one at a time (never DGifSlurp,
 * which would decode every frame of an animation bomb); after the first
 * image only far enough to see whether another one follows.
 *
 * Where the output is Pillow 9.4's (corpus/gen_gif.py checks each rule):
 *  - the screen outside the frame is the transparency index when the Graphic
 *    Control Extension names one, else index 0 (never the background index);
 *  - an index with no colour table entry, or any index when there is no
 *    colour table at all, is the grey (i, i, i);
 *  - the transparency index is the last one a GCE before the image names;
 *  - the image is good when every pixel was decoded from the bytes there
 *    are: a missing EOI code, block terminator or trailer is not an error,
 *    too few pixels is.
 * Where it is not: a frame that does not fit on the screen is malformed
 * (Pillow grows the screen), and so are a byte that starts no record before
 * the first image (Pillow skips it) and an LZW minimum code size above 8
 * (giflib refuses it; Pillow decodes it).
 */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

/*
 * The bytes giflib reads. When the first image's data runs to the end of the
 * input, the stream is served as if it had been cut at a block boundary and
 * terminated: the last block's length byte says how many bytes are really
 * there and a zero byte follows. giflib then decodes exactly the bytes the
 * file holds and finishes the image if they are enough (as Pillow does),
 * instead of failing while it looks for the terminator after the last pixel.
 */
struct gif_src {
	const uint8_t *buf;
	size_t len; /* bytes served from buf */
	size_t pos;
	size_t patch_at; /* a block length byte served as patch, or SIZE_MAX */
	uint8_t patch;
	int end_zero; /* serve one zero byte after len */
	int cut;      /* the input ended inside the first image's data */
};

static int src_read(GifFileType *gif, GifByteType *dst, int n)
{
	struct gif_src *s = gif->UserData;
	if (n <= 0)
		return 0;
	size_t k = s->len - s->pos < (size_t)n ? s->len - s->pos : (size_t)n;
	memcpy(dst, s->buf + s->pos, k);
	if (s->patch_at >= s->pos && s->patch_at - s->pos < k)
		dst[s->patch_at - s->pos] = s->patch;
	s->pos += k;
	if (k < (size_t)n && s->end_zero) {
		dst[k++] = 0;
		s->end_zero = 0;
	}
	return (int)k;
}

/* Called with pos at the first data sub-block: finds whether the blocks run off the end. */
static void src_plan_data(struct gif_src *s)
{
	size_t p = s->pos;
	while (p < s->len) {
		const size_t n = s->buf[p];
		if (n == 0)
			return;
		if (n > s->len - p - 1) {
			if (s->len - p - 1 == 0) {
				s->len = p;
			} else {
				s->patch_at = p;
				s->patch = (uint8_t)(s->len - p - 1);
			}
			break;
		}
		p += 1 + n;
	}
	s->end_zero = 1;
	s->cut = 1;
}

/* giflib's own state for a decode: its LZW tables, stack and block buffer (about 25 KB), and the colour maps. */
#define GIFLIB_STATE (64u << 10)

static int gif_error(const GifFileType *gif)
{
	return gif->Error == D_GIF_ERR_NOT_ENOUGH_MEM ? AIRLOCK_E_MEMORY : AIRLOCK_E_MALFORMED;
}

/* Reads an extension's remaining sub-blocks; giflib has already read the first. */
static int skip_blocks(GifFileType *gif, GifByteType *block)
{
	while (block)
		if (DGifGetExtensionNext(gif, &block) == GIF_ERROR)
			return GIF_ERROR;
	return GIF_OK;
}

/*
 * The records before the first image: a GCE gives its transparency index
 * (Pillow keeps the last one that sets the flag), every other extension is
 * metadata. Returns with the image descriptor's introducer read.
 */
static int read_to_image(GifFileType *gif, int *transparent, uint32_t *changes)
{
	for (;;) {
		GifRecordType type;
		if (DGifGetRecordType(gif, &type) == GIF_ERROR)
			return gif_error(gif);
		if (type == IMAGE_DESC_RECORD_TYPE)
			return AIRLOCK_OK;
		if (type != EXTENSION_RECORD_TYPE)
			return AIRLOCK_E_MALFORMED; /* the trailer, and no image */
		int code = 0;
		GifByteType *block = NULL;
		if (DGifGetExtension(gif, &code, &block) == GIF_ERROR)
			return gif_error(gif);
		if (code == GRAPHICS_EXT_FUNC_CODE) {
			/* Pillow reads the fields at their offsets in a longer block too; a shorter one fails there. */
			if (!block || block[0] < 4)
				return AIRLOCK_E_MALFORMED;
			if (block[1] & 1)
				*transparent = block[4];
		} else {
			*changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
		}
		if (skip_blocks(gif, block) == GIF_ERROR)
			return gif_error(gif);
	}
}

/*
 * After the first image: whether another image follows, what metadata comes
 * before it, and whether bytes follow the trailer. The end of the input
 * without a trailer is accepted (Pillow does); bytes that are no record are
 * dropped as trailing bytes.
 */
static uint32_t read_rest(GifFileType *gif, struct gif_src *s)
{
	uint32_t changes = 0;
	for (;;) {
		GifRecordType type;
		if (s->pos >= s->len)
			return changes;
		if (DGifGetRecordType(gif, &type) == GIF_ERROR)
			return changes | AIRLOCK_CHANGE_TRAILING_DROPPED;
		if (type == TERMINATE_RECORD_TYPE)
			return changes | (s->pos < s->len ? AIRLOCK_CHANGE_TRAILING_DROPPED : 0);
		if (type == IMAGE_DESC_RECORD_TYPE)
			return changes | AIRLOCK_CHANGE_ANIMATION_DROPPED;
		int code = 0;
		GifByteType *block = NULL;
		/* An extension cut short is trailing bytes, not metadata. */
		if (DGifGetExtension(gif, &code, &block) == GIF_ERROR || skip_blocks(gif, block) == GIF_ERROR)
			return changes | AIRLOCK_CHANGE_TRAILING_DROPPED;
		if (code != GRAPHICS_EXT_FUNC_CODE)
			changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	}
}

/* The colour and alpha of every index, as Pillow converts frame 0 to RGBA. */
static void build_lut(const ColorMapObject *map, int transparent, uint8_t lut[256][4])
{
	for (int i = 0; i < 256; i++) {
		if (map && i < map->ColorCount) {
			lut[i][0] = map->Colors[i].Red;
			lut[i][1] = map->Colors[i].Green;
			lut[i][2] = map->Colors[i].Blue;
		} else {
			lut[i][0] = lut[i][1] = lut[i][2] = (uint8_t)i;
		}
		lut[i][3] = i == transparent ? 0 : 0xff;
	}
}

/* ch is 3 or 4: each width its own loop, so the copy is a move, not a call (a large frame has 10^8 pixels). */
static void put_run(uint8_t *dst, const uint8_t *idx, size_t n, uint32_t ch, uint8_t lut[256][4])
{
	if (ch == 4) {
		for (size_t i = 0; i < n; i++, dst += 4)
			memcpy(dst, lut[idx[i]], 4);
		return;
	}
	for (size_t i = 0; i < n; i++, dst += 3)
		memcpy(dst, lut[idx[i]], 3);
}

int gif_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out)
{
	struct gif_src src = { .buf = buf, .len = len, .patch_at = SIZE_MAX };
	GifFileType *gif = NULL;
	uint8_t *pixels = NULL, *line = NULL;
	size_t cap = 0;
	uint32_t changes = 0;
	int transparent = -1, rc, err = 0;

	*out = (struct frame){ .type = AIRLOCK_TYPE_GIF };
	if (len < 6 || (memcmp(buf, "GIF87a", 6) != 0 && memcmp(buf, "GIF89a", 6) != 0))
		return AIRLOCK_E_MALFORMED;
	gif = DGifOpen(&src, src_read, &err);
	if (!gif)
		return err == D_GIF_ERR_NOT_ENOUGH_MEM ? AIRLOCK_E_MEMORY : AIRLOCK_E_MALFORMED;

	const uint32_t w = (uint32_t)gif->SWidth, h = (uint32_t)gif->SHeight;
	rc = image_check_dims(lim, w, h, out);
	if (rc)
		goto out;
	rc = read_to_image(gif, &transparent, &changes);
	if (rc)
		goto out;
	if (DGifGetImageHeader(gif) == GIF_ERROR) {
		rc = gif_error(gif);
		goto out;
	}
	const GifImageDesc *d = &gif->Image;
	/*
	 * The frame must lie on the screen (issue 15; Pillow grows the screen
	 * instead), and have pixels (Pillow fails on an empty one too).
	 */
	if (d->Left < 0 || d->Top < 0 || d->Width <= 0 || d->Height <= 0 ||
	    (uint32_t)d->Left + (uint32_t)d->Width > w || (uint32_t)d->Top + (uint32_t)d->Height > h) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	const uint32_t fx = (uint32_t)d->Left, fy = (uint32_t)d->Top, fw = (uint32_t)d->Width, fh = (uint32_t)d->Height;
	const ColorMapObject *map = d->ColorMap ? d->ColorMap : gif->SColorMap;
	const int has_alpha = transparent >= 0;
	const uint32_t channels = (has_alpha || lim->keep_alpha) ? 4 : 3;
	size_t size;
	rc = image_size(w, h, channels, &size);
	if (rc)
		goto out;
	if (size > lim->memory_bytes || (size_t)fw + GIFLIB_STATE > lim->memory_bytes - size) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	pixels = pixels_alloc(pa, size);
	cap = size;
	line = malloc(fw);
	if (!pixels || !line) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}

	uint8_t lut[256][4];
	build_lut(map, transparent, lut);
	/* Frame 0 starts as a screen of the transparency index, or of index 0. */
	const uint8_t fill = has_alpha ? (uint8_t)transparent : 0;
	const size_t stride = (size_t)w * channels;
	for (uint32_t x = 0; x < w; x++)
		memcpy(pixels + (size_t)x * channels, lut[fill], channels);
	for (uint32_t y = 1; y < h; y++)
		memcpy(pixels + (size_t)y * stride, pixels, stride);

	src_plan_data(&src);
	/* Interlaced rows come in four passes; each goes straight to its row of the screen. */
	static const uint32_t start[4] = { 0, 4, 2, 1 }, step[4] = { 8, 8, 4, 2 };
	const int passes = d->Interlace ? 4 : 1;
	for (int p = 0; p < passes; p++)
		for (uint32_t y = d->Interlace ? start[p] : 0; y < fh; y += d->Interlace ? step[p] : 1) {
			if (DGifGetLine(gif, line, (int)fw) == GIF_ERROR) {
				rc = gif_error(gif);
				goto out;
			}
			put_run(pixels + (fy + y) * stride + (size_t)fx * channels, line, fw, channels, lut);
		}
	if (d->Interlace)
		changes |= AIRLOCK_CHANGE_INTERLACE_REMOVED;

	if (!src.cut)
		changes |= read_rest(gif, &src);
	changes |= map ? AIRLOCK_CHANGE_PALETTE_EXPANDED : AIRLOCK_CHANGE_GREY_EXPANDED;
	if (has_alpha && !lim->keep_alpha) {
		pixels_flatten(pixels, (size_t)w * h, lim->background);
		size = (size_t)w * h * 3;
		changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED;
	}
	if (!has_alpha && lim->keep_alpha)
		changes |= AIRLOCK_CHANGE_ALPHA_ADDED;

	image_frame(out, w, h, lim->keep_alpha ? 4 : 3, changes, pixels, size);
	pixels = NULL;
	rc = AIRLOCK_OK;
out:
	free(line);
	if (pixels)
		pixels_release(pa, pixels, cap);
	DGifCloseFile(gif, &err);
	return rc;
}
