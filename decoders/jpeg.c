/* SPDX-License-Identifier: MIT */
/*
 * JPEG via libjpeg-turbo: baseline, progressive, arithmetic, greyscale, any
 * subsampling, restart markers; Adobe CMYK and YCCK converted to RGB; an
 * embedded ICC profile (APP2) converted to sRGB; the EXIF orientation applied. Warnings are errors, but for two that
 * only name an undefined header value (see on_message). Dimensions are checked after the header and before anything
 * image-sized is allocated; progressive scans are capped so a scan bomb stops early, not at the CPU limit.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "decode.h"
#include "icc.h"

/* An ICC profile's APP2 segments: "ICC_PROFILE\0", sequence number, count, data. A count is one byte. */
#define ICC_TAG_LEN  12
#define ICC_HEAD_LEN 14
#define ICC_MAX_SEGS 255

struct jpeg_state {
	struct jpeg_error_mgr pub;
	struct jpeg_progress_mgr progress;
	jmp_buf jmp;
	int err; /* airlock_error to report after the longjmp */
	uint32_t max_scans;
	uint64_t max_coeffs; /* lim->max_jpeg_coeffs */
	uint64_t coeffs;     /* counted so far, scan by scan */
	int scan_seen;	     /* the last input_scan_number counted */
	int orientation;     /* from the first EXIF APP1, 1 when absent */
	int saw_exif;
	/* ICC_PROFILE segments seen in the header (bodies point into the input), when lim->icc */
	int want_icc, header_done;
	uint32_t icc_segs;  /* how many; past ICC_MAX_SEGS only counted */
	uint64_t icc_bytes; /* their data bytes, held to max_icc_bytes */
	uint32_t max_icc_bytes;
	const uint8_t *icc_seg[ICC_MAX_SEGS];
	uint16_t icc_len[ICC_MAX_SEGS];
	uint32_t changes;
	uint32_t limit; /* airlock_key that tripped */
};

static void on_error_exit(j_common_ptr cinfo)
{
	struct jpeg_state *st = (struct jpeg_state *)cinfo->err;
	if (!st->err) {
		switch (cinfo->err->msg_code) {
		case JERR_OUT_OF_MEMORY:
		case JERR_NO_BACKING_STORE:
		case JERR_VIRTUAL_BUG: st->err = AIRLOCK_E_MEMORY; break;
		case JERR_BAD_PRECISION:
		case JERR_SOF_UNSUPPORTED:
		case JERR_NOT_COMPILED: st->err = AIRLOCK_E_UNSUPPORTED; break;
		case JERR_IMAGE_TOO_BIG: st->err = AIRLOCK_E_TOO_LARGE; break;
		default: st->err = AIRLOCK_E_MALFORMED; break;
		}
	}
	longjmp(st->jmp, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
	/*
	 * level -1 is a warning (corrupt data, premature end): an error here,
	 * except two that say only that a header field has a value the JPEG and
	 * JFIF specifications do not define, after which libjpeg decodes the data
	 * as usual (as Pillow and djpeg do): a JFIF major version other than 1,
	 * and an Adobe transform code other than 0..2 (taken as YCbCr for three
	 * components, YCCK for four; encoders that write 1 for YCCK exist).
	 */
	if (level < 0) {
		struct jpeg_state *st = (struct jpeg_state *)cinfo->err;
		if (cinfo->err->msg_code == JWRN_JFIF_MAJOR || cinfo->err->msg_code == JWRN_ADOBE_XFORM)
			return;
		if (!st->err)
			st->err = AIRLOCK_E_MALFORMED;
		longjmp(st->jmp, 1);
	}
}

static void on_progress(j_common_ptr cinfo)
{
	struct jpeg_state *st = (struct jpeg_state *)cinfo->err;
	j_decompress_ptr d = (j_decompress_ptr)cinfo;
	if (cinfo->is_decompressor && d->input_scan_number > 0 && (uint32_t)d->input_scan_number > st->max_scans) {
		st->err = AIRLOCK_E_TOO_COMPLEX;
		st->limit = AIRLOCK_MAX_JPEG_SCANS;
		longjmp(st->jmp, 1);
	}
	/*
	 * What each scan costs: every block of the components it codes, once
	 * for each coefficient of its spectral band (a sequential scan: 64, a
	 * DC scan: 1, a refinement of AC 1..63: 63). Added as each scan begins,
	 * before its data is decoded; a scan refining a wide band over a large
	 * image costs as much as a whole baseline decode, and 100 of them cost
	 * 14 s at max_pixels. Sums stay far below 2^64: at most 2^31 scans of
	 * 4 components of 2^31 blocks by 64.
	 */
	if (cinfo->is_decompressor && d->input_scan_number > 0 && d->input_scan_number != st->scan_seen) {
		uint64_t blocks = 0;
		st->scan_seen = d->input_scan_number;
		for (int c = 0; c < d->comps_in_scan && c < MAX_COMPS_IN_SCAN; c++)
			blocks +=
				(uint64_t)d->cur_comp_info[c]->width_in_blocks * d->cur_comp_info[c]->height_in_blocks;
		st->coeffs += blocks * (uint64_t)(d->Se >= d->Ss ? d->Se - d->Ss + 1 : 1);
		if (st->coeffs > st->max_coeffs) {
			st->err = AIRLOCK_E_TOO_COMPLEX;
			st->limit = AIRLOCK_MAX_JPEG_COEFFS;
			longjmp(st->jmp, 1);
		}
	}
}

/*
 * Marker processor for APP1..APP13, APP15 and COM: skips the segment, notes
 * that metadata was dropped, and reads the orientation from the first EXIF
 * APP1. The source is jpeg_mem_src, so the whole segment is in the buffer.
 */
static boolean skip_marker(j_decompress_ptr cinfo)
{
	struct jpeg_state *st = (struct jpeg_state *)cinfo->err;
	struct jpeg_source_mgr *src = cinfo->src;

	if (src->bytes_in_buffer < 2u)
		ERREXIT(cinfo, JERR_INPUT_EOF);
	size_t n = (size_t)src->next_input_byte[0] << 8 | src->next_input_byte[1];
	if (n < 2 || n > (size_t)src->bytes_in_buffer)
		ERREXIT(cinfo, JERR_INPUT_EOF);
	const uint8_t *body = src->next_input_byte + 2;
	size_t body_len = n - 2;

	st->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	if (cinfo->unread_marker == JPEG_APP0 + 1 && !st->saw_exif && body_len >= 6 &&
	    memcmp(body, "Exif\0\0", 6) == 0) {
		st->saw_exif = 1;
		st->orientation = exif_orientation(body + 6, body_len - 6);
	}
	/*
	 * ICC segments in the header only: Pillow reads markers up to the first
	 * SOS, so a segment between progressive scans is no part of its profile.
	 */
	if (cinfo->unread_marker == JPEG_APP0 + 2 && st->want_icc && !st->header_done && body_len >= ICC_TAG_LEN &&
	    memcmp(body, "ICC_PROFILE\0", ICC_TAG_LEN) == 0) {
		if (body_len < ICC_HEAD_LEN) { /* no room for its sequence number and count */
			st->err = AIRLOCK_E_MALFORMED;
			longjmp(st->jmp, 1);
		}
		st->icc_bytes += body_len - ICC_HEAD_LEN;
		if (st->icc_bytes > st->max_icc_bytes) {
			st->err = AIRLOCK_E_TOO_LARGE;
			st->limit = AIRLOCK_MAX_ICC_BYTES;
			longjmp(st->jmp, 1);
		}
		if (st->icc_segs < ICC_MAX_SEGS) {
			st->icc_seg[st->icc_segs] = body;
			st->icc_len[st->icc_segs] = (uint16_t)body_len;
		}
		st->icc_segs++;
	}
	src->next_input_byte += n;
	src->bytes_in_buffer -= n;
	return TRUE;
}

/* Python's order of bytes objects: memcmp over the shorter, then the shorter first. */
static int seg_before(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	const int c = memcmp(a, b, na < nb ? na : nb);
	return c < 0 || (c == 0 && na < nb);
}

/*
 * The profile from its segments, exactly as Pillow 9.4 assembles it:
 * segments sorted as byte strings (so by sequence number first), kept only
 * when the first one's count equals the number of segments, and their data
 * joined. Pillow drops a set whose count is wrong, and so does libjpeg-turbo's
 * jpeg_read_icc_profile() (which Chrome uses): the profile is ignored here
 * too, the pixels are the file's as stored, not a guess at a colour space.
 * *out is malloc'd, or NULL when there is no profile to apply.
 */
static int icc_assemble(struct jpeg_state *st, uint8_t **out, size_t *out_len)
{
	const uint32_t n = st->icc_segs;
	*out = NULL;
	*out_len = 0;
	if (n == 0 || n > ICC_MAX_SEGS)
		return AIRLOCK_OK;
	/* Insertion sort: at most 255 segments, and stable as Python's sort. */
	for (uint32_t i = 1; i < n; i++) {
		const uint8_t *p = st->icc_seg[i];
		const uint16_t l = st->icc_len[i];
		uint32_t j = i;
		for (; j > 0 && seg_before(p, l, st->icc_seg[j - 1], st->icc_len[j - 1]); j--) {
			st->icc_seg[j] = st->icc_seg[j - 1];
			st->icc_len[j] = st->icc_len[j - 1];
		}
		st->icc_seg[j] = p;
		st->icc_len[j] = l;
	}
	if (st->icc_seg[0][13] != n || st->icc_bytes == 0)
		return AIRLOCK_OK;
	uint8_t *p = malloc((size_t)st->icc_bytes); /* at most max_icc_bytes, counted as the segments came */
	if (!p)
		return AIRLOCK_E_MEMORY;
	size_t at = 0;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(p + at, st->icc_seg[i] + ICC_HEAD_LEN, st->icc_len[i] - ICC_HEAD_LEN);
		at += st->icc_len[i] - ICC_HEAD_LEN;
	}
	*out = p;
	*out_len = at;
	return AIRLOCK_OK;
}

/*
 * Stored CMYK values (inverted, see below) to what a CMYK profile takes:
 * 0 is no ink, as in Pillow's "CMYK" mode.
 */
static void cmyk_uninvert(uint8_t *px, size_t n)
{
	for (size_t i = 0; i < n; i++)
		px[i] = (uint8_t)(255 - px[i]);
}

/*
 * libjpeg hands back the stored values. They are taken as inverted (Adobe's
 * convention, what Photoshop and libjpeg itself write) whether or not an
 * Adobe marker is present, as Pillow does ("CMYK;I" for every CMYK JPEG).
 * With the stored values s, C = 255 - s, and R = round((255-C)(255-K)/255)
 * = round(sC * sK / 255): exactly Pillow's CMYK to RGB conversion (the
 * quotient never ends in .5, so the two roundings cannot differ).
 */
static void cmyk_to_rgb(uint8_t *px, size_t npix)
{
	const uint8_t *in = px;
	uint8_t *o = px;
	for (size_t i = 0; i < npix; i++, in += 4, o += 3) {
		const uint32_t k = in[3];
		o[0] = (uint8_t)((in[0] * k + 127) / 255);
		o[1] = (uint8_t)((in[1] * k + 127) / 255);
		o[2] = (uint8_t)((in[2] * k + 127) / 255);
	}
}

static void add_alpha(uint8_t *px, size_t npix)
{
	/* In place, from the end: RGB at 3i moves to RGBA at 4i. */
	for (size_t i = npix; i-- > 0;) {
		px[4 * i + 3] = 0xff;
		px[4 * i + 2] = px[3 * i + 2];
		px[4 * i + 1] = px[3 * i + 1];
		px[4 * i + 0] = px[3 * i + 0];
	}
}

/* libjpeg's output (CMYK, RGB or RGBA; n pixels) in place to what the frame holds: RGB, or RGBA with opaque alpha. */
static void convert(uint8_t *px, size_t n, int cmyk, uint32_t channels, uint32_t comps)
{
	if (cmyk)
		cmyk_to_rgb(px, n);
	if (channels == 4 && (cmyk || comps == 3))
		add_alpha(px, n);
}

int jpeg_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out)
{
	return jpeg_decode_into(buf, len, lim, NULL, out);
}

int jpeg_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		     struct frame *out)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_state st = { .max_scans = lim->max_jpeg_scans,
				 .max_coeffs = lim->max_jpeg_coeffs,
				 .orientation = 1,
				 .want_icc = lim->icc != 0,
				 .max_icc_bytes = lim->max_icc_bytes };
	uint8_t *volatile pixels = NULL;
	uint8_t *volatile band = NULL;	/* rows being oriented or converted */
	uint8_t *volatile band2 = NULL; /* rows converted by the profile, being oriented */
	struct icc *volatile xf = NULL;
	volatile size_t cap = 0; /* bytes allocated at pixels */
	volatile int created = 0;
	int rc;

	*out = (struct frame){ .type = AIRLOCK_TYPE_JPEG };
	if (len < 3)
		return AIRLOCK_E_MALFORMED;

	cinfo.err = jpeg_std_error(&st.pub);
	st.pub.error_exit = on_error_exit;
	st.pub.emit_message = on_message;
	if (setjmp(st.jmp)) {
		rc = st.err ? st.err : AIRLOCK_E_MALFORMED;
		out->limit = st.limit;
		goto out;
	}
	jpeg_create_decompress(&cinfo);
	created = 1;
	st.progress.progress_monitor = on_progress;
	cinfo.progress = &st.progress;
	/* Image-sized buffers are budgeted here; libjpeg errors out rather than exceed the rest. */
	cinfo.mem->max_memory_to_use = (long)(lim->memory_bytes / 2 > 0x7fffffff ? 0x7fffffff : lim->memory_bytes / 2);

	jpeg_mem_src(&cinfo, buf, (unsigned long)len);
	for (int m = 1; m < 16; m++)
		if (m != 14)
			jpeg_set_marker_processor(&cinfo, JPEG_APP0 + m, skip_marker);
	jpeg_set_marker_processor(&cinfo, JPEG_COM, skip_marker);

	if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	st.header_done = 1;
	/* The limits apply to the image as output: orientations 5..8 swap width and height. */
	const int swap = st.orientation >= 5;
	rc = image_check_dims(lim, swap ? cinfo.image_height : cinfo.image_width,
			      swap ? cinfo.image_width : cinfo.image_height, out);
	if (rc)
		goto out;

	int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
	const int grey = cinfo.jpeg_color_space == JCS_GRAYSCALE;
	const uint32_t channels = lim->keep_alpha ? 4 : 3;
	{
		uint8_t *prof = NULL;
		size_t plen = 0;
		struct icc *x = NULL;
		rc = icc_assemble(&st, &prof, &plen);
		if (!rc && prof)
			rc = icc_open(prof, plen, grey ? ICC_GREY : cmyk ? ICC_CMYK : ICC_RGB, channels, lim, out, &x);
		free(prof);
		xf = x;
		if (rc)
			goto out;
	}
	/* With a profile, grey stays grey for it: it makes the RGB itself. */
	cinfo.out_color_space = cmyk ? JCS_CMYK : xf && grey ? JCS_GRAYSCALE : JCS_RGB;
#ifdef JCS_ALPHA_EXTENSIONS
	/* libjpeg-turbo writes the opaque alpha itself, in the same pass and with the same RGB values. */
	if (!cmyk && !xf && lim->keep_alpha)
		cinfo.out_color_space = JCS_EXT_RGBA;
#endif
	cinfo.dct_method = JDCT_ISLOW;
	if (cinfo.jpeg_color_space == JCS_GRAYSCALE)
		st.changes |= AIRLOCK_CHANGE_GREY_EXPANDED;
	if (cmyk)
		st.changes |= AIRLOCK_CHANGE_CMYK_CONVERTED;

	jpeg_start_decompress(&cinfo);
	uint32_t w = cinfo.output_width, h = cinfo.output_height, comps = (uint32_t)cinfo.output_components;
	rc = image_check_dims(lim, swap ? h : w, swap ? w : h, out);
	if (rc)
		goto out;
	const uint32_t want = cinfo.out_color_space == JCS_GRAYSCALE ? 1u
			      : cinfo.out_color_space == JCS_RGB     ? 3u
								     : 4u; /* CMYK or RGBA */
	if (comps != want) {
		rc = AIRLOCK_E_MALFORMED;
		goto out;
	}
	/* Room for the widest form the pixels take: CMYK or RGBA. */
	size_t size, work;
	rc = image_size(w, h, channels, &size);
	if (!rc)
		rc = image_size(w, h, comps > channels ? comps : channels, &work);
	if (rc)
		goto out;
	if (work > lim->memory_bytes / 2) {
		out->limit = AIRLOCK_MEMORY_BYTES;
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	/*
	 * Upright images decode straight into the output, converted there once
	 * all rows are in. Any other orientation decodes a band of rows at a time
	 * into a small scratch buffer, converts it there while it is in cache and
	 * spreads it over the output in its final place: no image-sized scratch,
	 * no second pass over the image (the whole-image transpose was a third of
	 * the decode time of a large rotated progressive JPEG).
	 */
	/*
	 * With a profile, every image goes band by band: the profile converts
	 * a band from libjpeg's layout into RGB(A), straight into the output
	 * when upright, else into a second band that is then oriented.
	 */
	const int upright = st.orientation == 1, banded = !upright || xf;
	const uint32_t band_rows = h < PIXELS_ORIENT_BAND ? h : PIXELS_ORIENT_BAND;
	cap = banded ? size : work;
	pixels = pixels_alloc(pa, cap);
	if (banded) /* band_rows <= h, so this is at most work bytes, already known to fit */
		band = malloc((size_t)band_rows * w * (comps > channels ? comps : channels));
	if (xf && !upright)
		band2 = malloc((size_t)band_rows * w * channels);
	if (!pixels || (banded && !band) || (xf && !upright && !band2)) {
		rc = AIRLOCK_E_MEMORY;
		goto out;
	}
	const size_t stride = (size_t)w * comps;
	while (cinfo.output_scanline < h) {
		const uint32_t y0 = cinfo.output_scanline, n = !banded || h - y0 > band_rows ? band_rows : h - y0;
		uint8_t *rows = banded ? band : pixels + (size_t)y0 * stride;
		for (uint32_t i = 0; i < n && cinfo.output_scanline < h; i++) {
			JSAMPROW row = rows + (size_t)i * stride;
			if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
				rc = AIRLOCK_E_MALFORMED;
				goto out;
			}
		}
		if (xf) {
			if (cmyk)
				cmyk_uninvert(band, (size_t)n * w * 4);
			uint8_t *dst = upright ? pixels + (size_t)y0 * w * channels : band2;
			icc_apply(xf, band, dst, (size_t)n * w);
			if (!upright)
				pixels_orient_band(band2, w, h, channels, st.orientation, y0, n, pixels);
		} else if (!upright) {
			convert(band, (size_t)n * w, cmyk, channels, comps);
			pixels_orient_band(band, w, h, channels, st.orientation, y0, n, pixels);
		}
	}
	jpeg_finish_decompress(&cinfo);
	/* The source stops at EOI; whatever is left over is dropped. */
	if (cinfo.src->bytes_in_buffer > 0)
		st.changes |= AIRLOCK_CHANGE_TRAILING_DROPPED;
	if (xf)
		st.changes |= AIRLOCK_CHANGE_ICC_CONVERTED;
	if (!banded) {
		convert(pixels, (size_t)w * h, cmyk, channels, comps);
	} else if (!upright) {
		st.changes |= AIRLOCK_CHANGE_ROTATED;
		if (swap) {
			const uint32_t t = w;
			w = h;
			h = t;
		}
	}
	if (channels == 4)
		st.changes |= AIRLOCK_CHANGE_ALPHA_ADDED;

	image_frame(out, w, h, channels, st.changes, pixels, size);
	pixels = NULL;
	rc = AIRLOCK_OK;
out:
	if (created)
		jpeg_destroy_decompress(&cinfo);
	free(band);
	free(band2);
	icc_close(xf);
	if (pixels)
		pixels_release(pa, pixels, cap);
	return rc;
}
