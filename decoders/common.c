/* SPDX-License-Identifier: MIT */
/* Limits, frames and pixel operations shared by the image decoders. */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "sampling.h"

void limits_default(struct limits *lim)
{
	/*
	 * The only place defaults live; docs/api.md and docs/airlock.1 list
	 * them. Images: Pillow's and vLLM's MAX_IMAGE_PIXELS. Audio: vLLM's caps.
	 */
	*lim = (struct limits){
		.max_input_bytes = 64u << 20,
		.max_width = 65535,
		.max_height = 65535,
		.max_pixels = 178956970,
		.memory_bytes = 2048ull << 20,
		.max_jpeg_scans = 100,
		.allowed_types = AIRLOCK_TYPES_DEFAULT,
		.expect = AIRLOCK_TYPE_NONE,
		.keep_alpha = 0,
		.background = 0xFFFFFF,
		.max_audio_input_bytes = 25u << 20,
		.max_seconds = 600,
		.max_decoded_bytes = 256u << 20,
		.min_rate = 8000,
		.max_rate = 192000,
		.max_channels = 8,
		.out_rate = 0,
		.mono = 0,
		.sample_format = FRAME_FORMAT_F32,
		.allow_adpcm = 0,
		.cpu_ms = 10000,
		.timeout_ms = 15000,
		.jpeg_quality = 92,
		/*
		 * The worst valid inputs within the limits above take under half of
		 * cpu_ms with these (docs/performance.md). 400e6 coefficients are a
		 * baseline 4:2:0 JPEG at max_pixels (269e6) and then some, or
		 * libjpeg's standard progressive script up to about 100 MP (713e6
		 * at max_pixels, 5.3 s of CPU); 768 MiB is RGBA8 at max_pixels.
		 */
		.max_jpeg_coeffs = 400000000ull,
		.max_png_inflated_bytes = 768ull << 20,
		/* Pillow+ImageCms's colours; profiles in the wild stay under 1 MiB (a 9-segment CMYK one is 557 KB). */
		.icc = 1,
		.max_icc_bytes = 4u << 20,
		/*
		 * Video: vLLM's sampling; Qwen's 768-frame ceiling; an hour at 30 fps
		 * decoded; 2^36 pixels is 2.2 hours of 720p. A worker decodes 720p
		 * H.264 at 111 ms of CPU a second of video, VP9 at 122 ms
		 * (docs/performance.md, "Video (0.6.x)"): ten minutes take 66 to
		 * 73 s, under 120 s with room for a loaded machine. Longer or larger
		 * videos need the caps (and AIRLOCK_MAX_INPUT_BYTES) raised.
		 */
		.video_sampling = SAMPLING_VLLM,
		.video_max_sampled = 768,
		.video_cpu_ms = 120000,
		.video_timeout_ms = 180000,
		.video_max_decoded_frames = 108000,
		.video_max_decoded_pixels = 1ull << 36,
		.video_max_output_bytes = 1ull << 30,
	};
}

void image_frame(struct frame *out, uint32_t w, uint32_t h, uint32_t channels, uint32_t changes, uint8_t *pixels,
		 size_t size)
{
	out->kind = FRAME_KIND_IMAGE;
	out->format = FRAME_FORMAT_U8;
	out->width = w;
	out->height = h;
	out->channels = channels;
	out->changes = changes;
	out->pixels = pixels;
	out->size = size;
}

int type_check(const struct limits *lim, uint32_t type)
{
	if (type == AIRLOCK_TYPE_NONE || type >= AIRLOCK_TYPE_COUNT_)
		return AIRLOCK_E_TYPE;
	if (lim->expect != AIRLOCK_TYPE_NONE && lim->expect != type)
		return AIRLOCK_E_TYPE_MISMATCH;
	if (!(lim->allowed_types & AIRLOCK_TYPE_BIT(type)))
		return AIRLOCK_E_TYPE;
	return AIRLOCK_OK;
}

void *pixels_alloc(const struct pixel_alloc *pa, size_t n)
{
	return pa ? pa->alloc(pa->user, n) : malloc(n);
}

void *pixels_resize(const struct pixel_alloc *pa, void *p, size_t old, size_t n)
{
	if (!p)
		return pixels_alloc(pa, n);
	return pa ? pa->resize(pa->user, p, old, n) : realloc(p, n);
}

void pixels_release(const struct pixel_alloc *pa, void *p, size_t n)
{
	if (pa)
		pa->release(pa->user, p, n);
	else
		free(p);
}

void frame_free(struct frame *f)
{
	if (!f)
		return;
	free(f->pixels);
	f->pixels = NULL;
	f->size = 0;
}

int image_size(uint32_t w, uint32_t h, uint32_t ch, size_t *out)
{
	if (w == 0 || h == 0 || ch == 0)
		return AIRLOCK_E_MALFORMED;
	if ((size_t)h > SIZE_MAX / ch / w)
		return AIRLOCK_E_TOO_LARGE;
	*out = (size_t)w * h * ch;
	return AIRLOCK_OK;
}

int image_check_dims(const struct limits *lim, uint32_t w, uint32_t h, struct frame *f)
{
	if (w == 0 || h == 0)
		return AIRLOCK_E_MALFORMED;
	if (w > lim->max_width) {
		f->limit = AIRLOCK_MAX_WIDTH;
		return AIRLOCK_E_TOO_LARGE;
	}
	if (h > lim->max_height) {
		f->limit = AIRLOCK_MAX_HEIGHT;
		return AIRLOCK_E_TOO_LARGE;
	}
	if ((uint64_t)w * h > lim->max_pixels) {
		f->limit = AIRLOCK_MAX_PIXELS;
		return AIRLOCK_E_TOO_LARGE;
	}
	return AIRLOCK_OK;
}

static inline uint8_t blend(uint32_t s, uint32_t a, uint32_t b)
{
	/* Exact rounding of (s*a + b*(255-a)) / 255, as Pillow's alpha_composite. */
	uint32_t v = s * a + b * (255 - a) + 128;
	return (uint8_t)((v + (v >> 8)) >> 8);
}

void pixels_flatten(uint8_t *px, size_t npix, uint32_t bg)
{
	const uint32_t br = (bg >> 16) & 0xff, bgc = (bg >> 8) & 0xff, bb = bg & 0xff;
	const uint8_t *in = px;
	uint8_t *o = px;

	for (size_t i = 0; i < npix; i++, in += 4, o += 3) {
		uint32_t a = in[3];
		uint8_t r = blend(in[0], a, br), g = blend(in[1], a, bgc), b = blend(in[2], a, bb);
		o[0] = r;
		o[1] = g;
		o[2] = b;
	}
}

/*
 * One pixel of ch bytes. Inlined with ch a constant (3 or 4, see
 * orient_band), the copy is a couple of moves, not a call to memcpy per
 * pixel (which was a quarter of a large rotated JPEG's decode time).
 */
static inline __attribute__((always_inline)) void px_copy(uint8_t *d, const uint8_t *s, uint32_t ch)
{
	memcpy(d, s, ch);
}

/*
 * Where source pixel (sx, sy) of a w x h image lands, as Pillow's
 * ImageOps.exif_transpose maps it: 2 mirror, 3 rotate 180, 4 flip,
 * 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
 * anticlockwise. For 5..8 the output is h wide and w tall, and each source
 * row becomes an output column: the band is walked column by column, so the
 * rows it reads stay in cache while every output row gets a run of n
 * consecutive pixels (a blocked transpose; the band is the block).
 */
static inline __attribute__((always_inline)) void orient_band(const uint8_t *band, uint32_t w, uint32_t h, uint32_t ch,
							      int orientation, uint32_t y0, uint32_t n, uint8_t *dst)
{
	const size_t row = (size_t)w * ch;

	if (orientation >= 5 && orientation <= 8) {
		const size_t drow = (size_t)h * ch;
		const int rev_x = orientation == 6 || orientation == 7; /* output x = h - 1 - sy */
		const int rev_y = orientation == 7 || orientation == 8; /* output y = w - 1 - sx */
		for (uint32_t sx = 0; sx < w; sx++) {
			const uint32_t dy = rev_y ? w - 1 - sx : sx;
			const uint8_t *s = band + (size_t)sx * ch;
			if (rev_x) {
				uint8_t *d = dst + (size_t)dy * drow + (size_t)(h - 1 - y0) * ch;
				for (uint32_t i = 0; i < n; i++, s += row, d -= ch)
					px_copy(d, s, ch);
			} else {
				uint8_t *d = dst + (size_t)dy * drow + (size_t)y0 * ch;
				for (uint32_t i = 0; i < n; i++, s += row, d += ch)
					px_copy(d, s, ch);
			}
		}
		return;
	}
	const int rev_x = orientation == 2 || orientation == 3, rev_y = orientation == 3 || orientation == 4;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = band + (size_t)i * row;
		uint8_t *d = dst + (size_t)(rev_y ? h - 1 - (y0 + i) : y0 + i) * row;
		if (!rev_x) {
			memcpy(d, s, row);
			continue;
		}
		d += row - ch;
		for (uint32_t x = 0; x < w; x++, s += ch, d -= ch)
			px_copy(d, s, ch);
	}
}

void pixels_orient_band(const uint8_t *band, uint32_t w, uint32_t h, uint32_t ch, int orientation, uint32_t y0,
			uint32_t n, uint8_t *dst)
{
	if (orientation < 1 || orientation > 8)
		orientation = 1;
	if (ch == 3)
		orient_band(band, w, h, 3, orientation, y0, n, dst);
	else if (ch == 4)
		orient_band(band, w, h, 4, orientation, y0, n, dst);
	else
		orient_band(band, w, h, ch, orientation, y0, n, dst);
}

int pixels_orient(const uint8_t *src, uint32_t w, uint32_t h, uint32_t ch, int orientation, uint8_t **out, uint32_t *ow,
		  uint32_t *oh)
{
	size_t size;
	int rc = image_size(w, h, ch, &size);
	if (rc)
		return rc;
	const int swap = orientation >= 5 && orientation <= 8;
	uint8_t *dst = malloc(size);
	if (!dst)
		return AIRLOCK_E_MEMORY;
	/* Bands of rows that stay in cache while they are spread over the output's columns. */
	for (uint32_t y0 = 0; y0 < h; y0 += PIXELS_ORIENT_BAND) {
		const uint32_t n = h - y0 < PIXELS_ORIENT_BAND ? h - y0 : PIXELS_ORIENT_BAND;
		pixels_orient_band(src + (size_t)y0 * w * ch, w, h, ch, orientation, y0, n, dst);
	}
	*out = dst;
	*ow = swap ? h : w;
	*oh = swap ? w : h;
	return AIRLOCK_OK;
}

static uint32_t rd16(const uint8_t *p, int le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : (uint32_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p, int le)
{
	return le ? rd16(p, 1) | rd16(p + 2, 1) << 16 : rd16(p, 0) << 16 | rd16(p + 2, 0);
}

int exif_orientation(const uint8_t *p, size_t n)
{
	if (n < 8)
		return 1;
	int le;
	if (p[0] == 'I' && p[1] == 'I')
		le = 1;
	else if (p[0] == 'M' && p[1] == 'M')
		le = 0;
	else
		return 1;
	if (rd16(p + 2, le) != 42)
		return 1;
	uint32_t ifd = rd32(p + 4, le);
	if (ifd < 8 || ifd > n - 2)
		return 1;
	uint32_t count = rd16(p + ifd, le);
	for (uint32_t i = 0; i < count; i++) {
		size_t e = (size_t)ifd + 2 + (size_t)i * 12;
		if (e + 12 > n)
			break;
		if (rd16(p + e, le) != 0x0112)
			continue;
		/* SHORT, count 1: the value sits in the first two bytes of the value field. */
		if (rd16(p + e + 2, le) != 3 || rd32(p + e + 4, le) != 1)
			return 1;
		uint32_t v = rd16(p + e + 8, le);
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}
