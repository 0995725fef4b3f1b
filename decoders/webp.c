/* SPDX-License-Identifier: MIT */
/*
 * WebP via libwebp and libwebpdemux: lossy (VP8), lossless (VP8L), alpha
 * (VP8X + ALPH) and extended files; animations give their first frame. The
 * whole container is validated by WebPDemux (every chunk, every frame
 * rectangle inside the canvas), as it is for Pillow, so a file Pillow refuses
 * is refused here too; only the first frame's bitstream is decoded.
 *
 * The pixels are Pillow 9.4's frame 0: the first frame placed at its offset
 * on a transparent canvas (WebPAnimDecoder's key frame: no blending), RGBA
 * when libwebp's features of the file say it has alpha and RGB otherwise;
 * then the ICCP profile to sRGB, the background, the EXIF orientation.
 */
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "decode.h"
#include "icc.h"

/*
 * The demuxer keeps a node of under this many bytes per frame (libwebp
 * 1.2.4's Frame is 80): an animation of tiny frames costs memory before any
 * pixel is decoded, so the frames are charged against the budget first.
 */
#define DEMUX_FRAME_BYTES 128

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * What the top-level chunks between the RIFF header and end say: every
 * chunk that is not image data is metadata dropped (ICCP too, converted or
 * not: the profile itself is not kept), and ANMF chunks are counted. Walks
 * chunk headers only; WebPDemux checks the structure itself.
 */
static uint32_t scan_chunks(const uint8_t *buf, size_t end, uint64_t *frames)
{
	uint32_t changes = 0;
	size_t pos = 12;

	*frames = 0;
	while (end - pos >= 8) {
		const uint8_t *t = buf + pos;
		const uint32_t n = le32(buf + pos + 4);
		if (memcmp(t, "ANMF", 4) == 0)
			(*frames)++;
		else if (memcmp(t, "VP8X", 4) && memcmp(t, "VP8 ", 4) && memcmp(t, "VP8L", 4) && memcmp(t, "ALPH", 4))
			changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
		if (n > end - pos - 8)
			break;
		pos += 8 + (size_t)n;
		if ((n & 1) && pos < end)
			pos++;
	}
	return changes;
}

static int status_error(VP8StatusCode s)
{
	switch (s) {
	case VP8_STATUS_OUT_OF_MEMORY: return AIRLOCK_E_MEMORY;
	case VP8_STATUS_UNSUPPORTED_FEATURE: return AIRLOCK_E_UNSUPPORTED;
	default: return AIRLOCK_E_MALFORMED;
	}
}

/* RGBA to RGB in place, the alpha dropped (Pillow's "RGBX" raw mode, for files without alpha). */
static void drop_alpha(uint8_t *px, size_t npix)
{
	for (size_t i = 0; i < npix; i++) {
		px[3 * i + 0] = px[4 * i + 0];
		px[3 * i + 1] = px[4 * i + 1];
		px[3 * i + 2] = px[4 * i + 2];
	}
}

int webp_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		     struct frame *out)
{
	WebPDemuxer *dmux = NULL;
	WebPIterator it;
	int have_it = 0;
	struct icc *icc = NULL;
	uint8_t *pixels = NULL, *scratch = NULL;
	size_t cap = 0; /* bytes allocated at pixels */
	uint32_t changes = 0;
	int rc;

	*out = (struct frame){ .type = AIRLOCK_TYPE_WEBP };
	if (len < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WEBP", 4) != 0)
		return AIRLOCK_E_MALFORMED;
	/*
	 * A RIFF size past the end of the input is a truncated file: malformed,
	 * as for Pillow (WebPDemux refuses a partial file) and dwebp. Bytes after
	 * the RIFF chunk are dropped, as after a PNG's IEND.
	 */
	const uint64_t riff_end = (uint64_t)le32(buf + 4) + 8;
	if (riff_end > len)
		return AIRLOCK_E_MALFORMED;
	/* Room for "WEBP" and one chunk header, as WebPDemux wants too; the chunk walk relies on it. */
	if (riff_end < 20)
		return AIRLOCK_E_MALFORMED;
	const size_t end = (size_t)riff_end;
	if (end < len)
		changes |= AIRLOCK_CHANGE_TRAILING_DROPPED;
	uint64_t nframes = 0;
	changes |= scan_chunks(buf, end, &nframes);
	if (nframes > lim->memory_bytes / DEMUX_FRAME_BYTES) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		return AIRLOCK_E_MEMORY;
	}

	const WebPData data = { buf, end };
	dmux = WebPDemux(&data);
	if (!dmux)
		return AIRLOCK_E_MALFORMED;
	const uint32_t w = WebPDemuxGetI(dmux, WEBP_FF_CANVAS_WIDTH), h = WebPDemuxGetI(dmux, WEBP_FF_CANVAS_HEIGHT);
	const int animated = (WebPDemuxGetI(dmux, WEBP_FF_FORMAT_FLAGS) & ANIMATION_FLAG) != 0;

	/* Pillow reads the EXIF chunk the demuxer keeps (only when VP8X flags it), with or without the "Exif" prefix.
	 */
	int orientation = 1;
	WebPChunkIterator ci;
	if (WebPDemuxGetChunk(dmux, "EXIF", 1, &ci)) {
		const uint8_t *p = ci.chunk.bytes;
		size_t n = ci.chunk.size;
		if (n >= 6 && memcmp(p, "Exif\0\0", 6) == 0) {
			p += 6;
			n -= 6;
		}
		orientation = exif_orientation(p, n);
		WebPDemuxReleaseChunkIterator(&ci);
	}
	/* The limits apply to the image as output: orientations 5..8 swap width and height. */
	const int swap = orientation >= 5;
	rc = image_check_dims(lim, swap ? h : w, swap ? w : h, out);
	if (rc)
		goto out;

	if (!WebPDemuxGetFrame(dmux, 1, &it)) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	have_it = 1;
	/* The demuxer has checked the rectangle; checked again here, where it decides where pixels are written. */
	WebPBitstreamFeatures ff;
	if (WebPGetFeatures(it.fragment.bytes, it.fragment.size, &ff) != VP8_STATUS_OK || it.x_offset < 0 ||
	    it.y_offset < 0 || it.width <= 0 || it.height <= 0 || ff.width != it.width || ff.height != it.height ||
	    (uint32_t)it.x_offset > w || (uint32_t)it.width > w - (uint32_t)it.x_offset || (uint32_t)it.y_offset > h ||
	    (uint32_t)it.height > h - (uint32_t)it.y_offset ||
	    (!animated && ((uint32_t)it.width != w || (uint32_t)it.height != h))) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	/* Alpha or not as Pillow decides it: libwebp's features of the whole file (VP8X flag, ALPH, VP8L bit). */
	WebPBitstreamFeatures fa;
	if (WebPGetFeatures(buf, end, &fa) != VP8_STATUS_OK) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	const int has_alpha = fa.has_alpha != 0;
	if (animated)
		changes |= AIRLOCK_CHANGE_ANIMATION_DROPPED;

	/* Decoded as RGBA wherever an alpha channel or a canvas is needed, else straight to RGB. */
	const uint32_t dch = has_alpha || lim->keep_alpha || animated ? 4 : 3;
	const uint32_t channels = lim->keep_alpha ? 4 : 3;
	size_t dsize, size;
	rc = image_size(w, h, dch, &dsize);
	if (!rc)
		rc = image_size(w, h, channels, &size);
	if (rc)
		goto out;
	/*
	 * The budget: the decoded canvas, the oriented copy, the demuxer's
	 * frames, and libwebp's own image-sized buffers: VP8L holds the whole
	 * frame as 32-bit ARGB, lossy alpha a plane of a byte per pixel. Each
	 * term is below 2^33 (16383^2 x 4, and the frames checked above).
	 */
	const uint64_t fpix = (uint64_t)it.width * (uint64_t)it.height;
	const uint64_t work = dsize + (orientation != 1 ? size : 0) + nframes * DEMUX_FRAME_BYTES +
			      (ff.format == 2 ? fpix * 4
			       : ff.has_alpha ? fpix
					      : 0);
	if (work > lim->memory_bytes) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	/* Upright images decode into the output; others into scratch, then oriented into the output. */
	if (orientation == 1) {
		pixels = pixels_alloc(pa, dsize);
		cap = dsize;
		scratch = pixels;
	} else {
		scratch = malloc(dsize);
	}
	if (!scratch) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	if (animated)
		memset(scratch, 0, dsize); /* the transparent canvas the first frame is placed on */

	WebPDecoderConfig cfg;
	if (!WebPInitDecoderConfig(&cfg)) {
		rc = AIRLOCK_E_INTERNAL;
		goto out;
	}
	const size_t stride = (size_t)w * dch;
	cfg.options.use_threads = 0;
	cfg.output.colorspace = dch == 4 ? MODE_RGBA : MODE_RGB;
	cfg.output.is_external_memory = 1;
	cfg.output.u.RGBA.rgba = scratch + (size_t)it.y_offset * stride + (size_t)it.x_offset * dch;
	cfg.output.u.RGBA.stride = (int)stride; /* at most 16383 x 4 */
	cfg.output.u.RGBA.size = (size_t)(it.height - 1) * stride + (size_t)it.width * dch;
	const VP8StatusCode st = WebPDecode(it.fragment.bytes, it.fragment.size, &cfg);
	WebPFreeDecBuffer(&cfg.output);
	if (st != VP8_STATUS_OK) {
		rc = status_error(st);
		goto out;
	}

	const size_t npix = (size_t)w * h;
	uint32_t ch = dch;
	if (dch == 4 && !has_alpha) {
		/* Pillow's RGBX: whatever alpha the bitstream holds is not shown. */
		if (lim->keep_alpha) {
			for (size_t i = 0; i < npix; i++)
				scratch[4 * i + 3] = 0xff;
		} else {
			drop_alpha(scratch, npix);
			ch = 3;
		}
	}
	if (!has_alpha && lim->keep_alpha)
		changes |= AIRLOCK_CHANGE_ALPHA_ADDED;

	/* The profile before the background, as Pillow's profileToProfile runs on the RGBA image. */
	if (WebPDemuxGetChunk(dmux, "ICCP", 1, &ci)) {
		rc = icc_open(ci.chunk.bytes, ci.chunk.size, ch == 4 ? ICC_RGBA : ICC_RGB, ch, lim, out, &icc);
		WebPDemuxReleaseChunkIterator(&ci);
		if (rc)
			goto out;
		if (icc) {
			icc_apply(icc, scratch, scratch, npix);
			changes |= AIRLOCK_CHANGE_ICC_CONVERTED;
		}
	}
	if (has_alpha && !lim->keep_alpha) {
		pixels_flatten(scratch, npix, lim->background);
		ch = 3;
		changes |= AIRLOCK_CHANGE_ALPHA_FLATTENED;
	}
	uint32_t ow = w, oh = h;
	if (orientation != 1) {
		pixels = pixels_alloc(pa, size);
		cap = size;
		if (!pixels) {
			rc = AIRLOCK_E_MEMORY;
			goto out;
		}
		for (uint32_t y0 = 0; y0 < h; y0 += PIXELS_ORIENT_BAND) {
			const uint32_t n = h - y0 < PIXELS_ORIENT_BAND ? h - y0 : PIXELS_ORIENT_BAND;
			pixels_orient_band(scratch + (size_t)y0 * w * ch, w, h, ch, orientation, y0, n, pixels);
		}
		if (swap) {
			ow = h;
			oh = w;
		}
		changes |= AIRLOCK_CHANGE_ROTATED;
	}

	image_frame(out, ow, oh, channels, changes, pixels, size);
	pixels = NULL;
	rc = AIRLOCK_OK;
out:
	if (scratch && scratch != pixels && scratch != out->pixels)
		free(scratch);
	if (pixels)
		pixels_release(pa, pixels, cap);
	icc_close(icc);
	if (have_it)
		WebPDemuxReleaseIterator(&it);
	WebPDemuxDelete(dmux);
	return rc;
}
