/* SPDX-License-Identifier: MIT */
/*
 * The decoders: pure functions from an untrusted buffer and limits to a frame.
 * No fork, no globals, no I/O; the worker, the tests and the fuzzers call
 * them in-process. Return values are airlock_error codes.
 */
#ifndef AIRLOCK_DECODE_H
#define AIRLOCK_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "airlock.h"

/* Every airlock_key value is below this. */
#define KEY_LIMIT 64

/* The widest audio limits a caller may set. */
#define AUDIO_RATE_FLOOR       1000
#define AUDIO_RATE_CEILING     768000
#define AUDIO_CHANNELS_CEILING 64

/* Everything a decoder needs to know about the request. */
struct limits {
	uint64_t max_input_bytes;
	uint32_t max_width;
	uint32_t max_height;
	uint64_t max_pixels;
	uint64_t memory_bytes; /* a soft budget for the decoder's own big allocations */
	uint32_t max_jpeg_scans;
	uint32_t allowed_types; /* mask of AIRLOCK_TYPE_BIT() */
	uint32_t expect;	/* airlock_type, or AIRLOCK_TYPE_NONE */
	uint32_t keep_alpha;	/* 1: RGBA8 always; 0: RGB8, alpha composited */
	uint32_t background;	/* 0xRRGGBB */
	/* audio */
	uint32_t max_seconds; /* decoded duration cap */
	uint64_t max_audio_input_bytes;
	uint64_t max_decoded_bytes;  /* cap on output bytes, counted as produced */
	uint32_t min_rate, max_rate; /* accepted source sample rates, Hz */
	uint32_t max_channels;
	uint32_t out_rate;	/* 0: source rate; else resample to this rate */
	uint32_t mono;		/* 1: downmix to one channel */
	uint32_t sample_format; /* enum frame_format: FRAME_FORMAT_S16 or FRAME_FORMAT_F32 */
	uint32_t allow_adpcm;	/* 1: accept ADPCM and other non-default codecs */
	/* host side only; the worker never looks at these */
	uint32_t cpu_ms;
	uint32_t timeout_ms;
	uint32_t jpeg_quality;
	uint32_t strict_sandbox; /* 1: refuse unless every namespace layer is applied */
	uint32_t reserved;	 /* 0; keeps the size a multiple of 8 */
	/* decoder work */
	uint64_t max_jpeg_coeffs;	 /* per scan: blocks of its components x coefficients of its band */
	uint64_t max_png_inflated_bytes; /* height x (stored row bytes + 1) */
	/* colour */
	uint32_t icc;		/* 1: convert an embedded ICC profile's pixels to sRGB; 0: ignore the profile */
	uint32_t max_icc_bytes; /* an embedded profile's size */
	uint32_t webp_lossless; /* host side only: canonical WebP lossless (1) or lossy (0) */
	uint32_t track;		/* airlock_track: which track of an MP4 or Matroska input */
	/* video (AIRLOCK_VIDEO_*); the request's five sampling keys are 0 for "the rule's default" */
	uint32_t video_sampling;    /* airlock_sampling */
	uint32_t video_max_sampled; /* the cap on sampled frames, 1..SAMPLING_MAX_CAP */
	uint32_t video_cpu_ms;	    /* host side only: cpu_ms of a request sent for video */
	uint32_t video_timeout_ms;  /* host side only: timeout_ms of such a request */
	uint64_t video_num_frames;  /* AIRLOCK_UNSET: vLLM's -1 */
	uint64_t video_fps_milli;   /* target fps x 1000 */
	uint64_t video_min_frames;  /* Qwen rules */
	uint64_t video_max_frames;  /* Qwen rules */
	uint64_t video_max_decoded_frames;
	uint64_t video_max_decoded_pixels;
	uint64_t video_max_frame_pixels; /* 0: no downscale */
	uint64_t video_max_output_bytes;
};

/* No padding anywhere: the struct crosses to the zygote as bytes, and holes would carry stale memory. */
_Static_assert(sizeof(struct limits) == 15 * sizeof(uint64_t) + 28 * sizeof(uint32_t), "struct limits has padding");

/* Fills lim with the library defaults (the single place they are set). */
void limits_default(struct limits *lim);

enum frame_kind { FRAME_KIND_IMAGE = 1, FRAME_KIND_AUDIO = 2, FRAME_KIND_VIDEO = 3 };
/* The same values as airlock_sample_format. */
enum frame_format {
	FRAME_FORMAT_U8 = AIRLOCK_SAMPLE_U8,
	FRAME_FORMAT_S16 = AIRLOCK_SAMPLE_S16,
	FRAME_FORMAT_F32 = AIRLOCK_SAMPLE_F32
};

/*
 * A decoded image, audio clip or sampled video. pixels is malloc'd and
 * owned by the frame (for audio it holds the interleaved samples; for video
 * the whole frame payload, pixels and trailer: decoders/video.h).
 */
struct frame {
	uint32_t kind;	   /* enum frame_kind */
	uint32_t format;   /* enum frame_format */
	uint32_t type;	   /* airlock_type detected */
	uint32_t width;	   /* image and video */
	uint32_t height;   /* image and video */
	uint32_t channels; /* image: 3 or 4; audio: 1..max_channels; video: 3 */
	uint32_t rate;	   /* audio only, Hz */
	uint64_t frames;   /* audio: samples per channel; video: frames sampled */
	uint32_t changes;  /* airlock_change bits */
	uint32_t limit;	   /* on failure: the airlock_key that tripped, or 0 */
	uint32_t mime;	   /* on AIRLOCK_E_UNSUPPORTED: mime_index() of what libmagic saw, or 0 */
	uint8_t *pixels;
	size_t size; /* width * height * channels; audio: its bytes; video: the payload's */
};

void frame_free(struct frame *f);

/* Makes out a decoded image: w x h pixels of channels (3 or 4) bytes, which out now owns, and its changes. */
void image_frame(struct frame *out, uint32_t w, uint32_t h, uint32_t channels, uint32_t changes, uint8_t *pixels,
		 size_t size);

/*
 * Output bytes for an image: 0 and AIRLOCK_E_TOO_LARGE when w*h*ch does not
 * fit the address space. Overflow-checked.
 */
int image_size(uint32_t w, uint32_t h, uint32_t ch, size_t *out);

/* Header dimension checks shared by the decoders; sets f->limit on failure. */
int image_check_dims(const struct limits *lim, uint32_t w, uint32_t h, struct frame *f);

/* A libmagic cookie with airlock's flags and limits and the system database loaded, or NULL. */
void *detect_open(void);
void detect_close(void *magic);

/*
 * Type detection from magic bytes. magic is a loaded libmagic cookie
 * (magic_t), or NULL to use airlock's own signature check alone. Returns
 * AIRLOCK_OK with *type set, AIRLOCK_E_EMPTY when len is 0, or
 * AIRLOCK_E_TYPE when the bytes are no type airlock knows.
 */
int detect_type(void *magic, const uint8_t *buf, size_t len, uint32_t *type);
/*
 * The same, and with a cookie also AIRLOCK_E_UNSUPPORTED for a media type
 * airlock does not decode, its mime_index() in *mime (else 0).
 */
int detect_media(void *magic, const uint8_t *buf, size_t len, uint32_t *type, uint32_t *mime);

/*
 * The table of MIME types airlock names but does not decode (decoders/mime.c):
 * mime_index() of a libmagic answer is 0 when the answer is no media type;
 * mime_name() is NULL for 0 or an index past the table.
 */
uint32_t mime_index(const char *mime);
const char *mime_name(uint32_t index);
uint32_t mime_count(void);

/* Applies the allowlist and the expectation to a detected type. */
int type_check(const struct limits *lim, uint32_t type);

/*
 * Where a decoder puts the pixels or samples it returns; NULL means malloc.
 * A worker passes one that maps its payload memfd, so the output is decoded
 * straight into what the host reads, with no copy. release() takes back a
 * buffer the decoder does not return (on an error, or when orientation
 * made a new one); resize() grows or shrinks one, as realloc() (the audio
 * decoder's output grows as it decodes).
 */
struct pixel_alloc {
	void *(*alloc)(void *user, size_t n);
	void *(*resize)(void *user, void *p, size_t old, size_t n);
	void (*release)(void *user, void *p, size_t n);
	void *user;
};
void *pixels_alloc(const struct pixel_alloc *pa, size_t n);
/* As realloc(): p may be NULL (old 0); NULL on failure, p still valid. */
void *pixels_resize(const struct pixel_alloc *pa, void *p, size_t old, size_t n);
void pixels_release(const struct pixel_alloc *pa, void *p, size_t n);

int png_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out);
int jpeg_decode(const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out);
/* The formats of issue 15; each checks its own signature first. */
int webp_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		     struct frame *out);
int gif_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out);
int bmp_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out);
int tiff_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		     struct frame *out);
int png_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out);
int jpeg_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		     struct frame *out);

/*
 * Detect, check and decode: what a worker does with its input. On failure
 * out->type and out->limit still say what was learned. decode_any_into()
 * puts image pixels where pa says.
 */
int decode_any(void *magic, const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out);
int decode_any_into(void *magic, const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out);

/*
 * The decoder of the media containers (MP4, Matroska: media.c, FFmpeg),
 * which only the media zygote links. decode_any_into() is
 * decode_any_media() with none: it answers such an input
 * AIRLOCK_E_UNSUPPORTED with out->type set, and the host sends the input
 * on to the media zygote (sanitizer/context.c).
 */
typedef int (*media_decode_fn)(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
			       const struct pixel_alloc *pa, struct frame *out);
int decode_any_media(void *magic, const uint8_t *buf, size_t len, const struct limits *lim,
		     const struct pixel_alloc *pa, media_decode_fn media, struct frame *out);

/* Converts interleaved RGBA8 in place: composite onto bg (RGB8 out) as Pillow's alpha_composite rounds. */
void pixels_flatten(uint8_t *px, size_t npix, uint32_t bg);

/*
 * The Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block (what
 * follows "Exif\0\0" in a JPEG APP1; a PNG eXIf or WebP EXIF chunk's body,
 * with or without that prefix is the caller's to strip); 1 when absent or bad.
 */
int exif_orientation(const uint8_t *p, size_t n);

/* EXIF orientation 1..8 (Pillow's exif_transpose mapping); new buffer in *out. */
int pixels_orient(const uint8_t *src, uint32_t w, uint32_t h, uint32_t ch, int orientation, uint8_t **out, uint32_t *ow,
		  uint32_t *oh);

/*
 * The same, for n rows at a time: band holds rows y0..y0+n-1 of a w x h
 * image (ch bytes a pixel, rows contiguous); each pixel goes to its place in
 * dst, the whole oriented image (h x w for orientations 5..8). A decoder can
 * so orient as it decodes, straight into its output, with no image-sized
 * scratch. Bands of PIXELS_ORIENT_BAND rows keep what they read in cache.
 * An orientation outside 1..8 is taken as 1.
 */
#define PIXELS_ORIENT_BAND 128
void pixels_orient_band(const uint8_t *band, uint32_t w, uint32_t h, uint32_t ch, int orientation, uint32_t y0,
			uint32_t n, uint8_t *dst);

#endif
