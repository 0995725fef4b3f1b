/* SPDX-License-Identifier: MIT */
/*
 * airlock: untrusted image and audio bytes in, clean canonical pixels and
 * PCM out.
 *
 * Every byte of the input is parsed in a fresh, seccomp-confined worker
 * process forked from a small exec'd helper (the zygote). The caller's
 * process only ever parses a fixed-size frame header, checked field by field.
 *
 * Thread safety: an airlock_ctx may be shared by any number of threads once
 * it is configured. Setters take effect for requests that start after them.
 * Results are independent of the context and of each other.
 *
 * Ownership: every pointer parameter is borrowed for the duration of the
 * call unless its comment says otherwise.
 *
 * Versioning (docs/api.md, "Versioning and ABI"): the API follows semantic
 * versioning, the soname changes with any ABI break, and a struct that may
 * grow either stays opaque or starts with a size member.
 */
#ifndef AIRLOCK_H
#define AIRLOCK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(AIRLOCK_BUILDING) && defined(__GNUC__)
#define AIRLOCK_API __attribute__((visibility("default")))
#else
#define AIRLOCK_API
#endif

#define AIRLOCK_VERSION_MAJOR 0
#define AIRLOCK_VERSION_MINOR 6
#define AIRLOCK_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library actually loaded; never NULL. */
AIRLOCK_API const char *airlock_version_string(void);

/*
 * Error codes. The values are API: they are never renumbered, and new codes
 * only take unused values. The ranges tell the class of a failure.
 */
typedef enum airlock_error {
	AIRLOCK_OK = 0,

	/* 1..19: the input was rejected (its fault, nothing went wrong). */
	AIRLOCK_E_MALFORMED = 1,     /* not a valid file of its type */
	AIRLOCK_E_TYPE = 2,	     /* type unknown or not on the allowlist */
	AIRLOCK_E_TYPE_MISMATCH = 3, /* detected type differs from the expected one */
	AIRLOCK_E_TOO_LARGE = 4,     /* width, height or pixel count over a limit */
	AIRLOCK_E_INPUT_TOO_BIG = 5, /* more input bytes than max_input_bytes */
	AIRLOCK_E_UNSUPPORTED = 6,   /* valid, but a variant airlock does not decode */
	AIRLOCK_E_EMPTY = 7,	     /* zero-length input */
	AIRLOCK_E_TOO_COMPLEX = 8,   /* over a work limit (JPEG scans or coefficients, Vorbis setup header) */
	AIRLOCK_E_TOO_LONG = 9,	     /* audio or video: decoded duration, frames or bytes over a limit */
	AIRLOCK_E_OUT_OF_RANGE = 10, /* audio: rate or channels not allowed; video: the rule picks no frame */

	/* 20..39: a sandbox event caused by the input. */
	AIRLOCK_E_WORKER_CRASH = 20, /* worker died on a signal or exited badly */
	AIRLOCK_E_TIMEOUT = 21,	     /* wall-clock timeout; the worker was killed */
	AIRLOCK_E_MEMORY = 22,	     /* worker memory cap reached */
	AIRLOCK_E_SECCOMP = 23,	     /* worker made a forbidden system call */
	AIRLOCK_E_CPU_LIMIT = 24,    /* worker CPU-time cap reached */
	AIRLOCK_E_PROTOCOL = 25,     /* worker sent a frame that failed validation */

	/* 40..59: the caller's mistake. */
	AIRLOCK_E_INVALID_ARG = 40, /* NULL where a pointer is needed, bad value */
	AIRLOCK_E_BAD_OPTION = 41,  /* unknown limit or option key */
	AIRLOCK_E_CLOSED = 42,	    /* airlock_close() was called while the request ran */
	AIRLOCK_E_CANCELLED = 43,   /* airlock_request_cancel(): the caller ended the request */

	/* 60..79: internal failure; not the input's fault. */
	AIRLOCK_E_SANDBOX_UNAVAILABLE = 60, /* seccomp, rlimits or no_new_privs could not be applied */
	AIRLOCK_E_HELPER = 61,		    /* the zygote helper could not be started or was lost */
	AIRLOCK_E_NOMEM = 62,		    /* host-side allocation failed */
	AIRLOCK_E_IO = 63,		    /* host-side write or pipe failure */
	AIRLOCK_E_INTERNAL = 64,	    /* anything else that should not happen */
	AIRLOCK_E_BUSY = 65,		    /* the helper could not fork a worker (process limit, 512 in flight) */
} airlock_error;

typedef enum airlock_error_class {
	AIRLOCK_CLASS_OK = 0,
	AIRLOCK_CLASS_REJECTED = 1,
	AIRLOCK_CLASS_SANDBOX = 2,
	AIRLOCK_CLASS_CALLER = 3,
	AIRLOCK_CLASS_INTERNAL = 4,
} airlock_error_class;

/* One human-readable sentence; never NULL, never echoes input. */
AIRLOCK_API const char *airlock_strerror(int err);
/* Stable snake_case name ("malformed", "seccomp", ...); never NULL. */
AIRLOCK_API const char *airlock_error_name(int err);
AIRLOCK_API airlock_error_class airlock_error_classify(int err);

/* Detected or expected input types. Values are API. */
typedef enum airlock_type {
	AIRLOCK_TYPE_NONE = 0, /* as an expectation: accept any allowed type */
	AIRLOCK_TYPE_PNG = 1,
	AIRLOCK_TYPE_JPEG = 2,
	AIRLOCK_TYPE_WAV = 3,
	AIRLOCK_TYPE_FLAC = 4,
	AIRLOCK_TYPE_VORBIS = 5, /* Ogg Vorbis */
	AIRLOCK_TYPE_OPUS = 6,	 /* Ogg Opus */
	AIRLOCK_TYPE_MP3 = 7,
	AIRLOCK_TYPE_AIFF = 8,
	AIRLOCK_TYPE_WEBP = 9,	    /* lossy, lossless, alpha, extended; animated: the first frame */
	AIRLOCK_TYPE_GIF = 10,	    /* the first frame on the logical screen */
	AIRLOCK_TYPE_BMP = 11,	    /* Windows and OS/2 bitmaps, uncompressed, RLE and bit fields */
	AIRLOCK_TYPE_TIFF = 12,	    /* the first image; off the default allowlist (docs/api.md) */
	AIRLOCK_TYPE_MP4 = 13,	    /* ISO base media: MP4, M4A, MOV, 3GP; decoded by FFmpeg in the media zygote */
	AIRLOCK_TYPE_MATROSKA = 14, /* Matroska and WebM (MKV, MKA, WebM); as MP4 */
	AIRLOCK_TYPE_COUNT_ = 15,   /* not a type: one past the last */
} airlock_type;

#define AIRLOCK_TYPE_BIT(t) (1u << (t))
#define AIRLOCK_TYPES_IMAGE                                                         \
	(AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_PNG) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_JPEG) | \
	 AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_WEBP) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_GIF) | \
	 AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_BMP) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_TIFF))
#define AIRLOCK_TYPES_AUDIO                                                            \
	(AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_WAV) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_FLAC) |    \
	 AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_VORBIS) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_OPUS) | \
	 AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_MP3) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_AIFF))
/*
 * Containers of audio and video tracks (since 0.6.0). Which track a request
 * decodes is AIRLOCK_TRACK's; today that is the audio track.
 */
#define AIRLOCK_TYPES_MEDIA (AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_MP4) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_MATROSKA))
/* Every type. */
#define AIRLOCK_TYPES_ALL (AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA)
/* The default allowlist: every type but TIFF (docs/api.md, "Types and the default allowlist"). */
#define AIRLOCK_TYPES_DEFAULT \
	((AIRLOCK_TYPES_IMAGE & ~AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_TIFF)) | AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA)

/* Short name ("png", "jpeg") and MIME type ("image/png"); never NULL. */
AIRLOCK_API const char *airlock_type_name(airlock_type t);
AIRLOCK_API const char *airlock_type_mime(airlock_type t);
/* Parses a short name; returns AIRLOCK_TYPE_NONE when unknown. */
AIRLOCK_API airlock_type airlock_type_from_name(const char *name);

/*
 * Limits and options. Each key has a safe, finite default (see docs/api.md);
 * airlock_set() changes it for requests started afterwards.
 */
typedef enum airlock_key {
	AIRLOCK_MAX_INPUT_BYTES = 1, /* default 64 MiB */
	AIRLOCK_MAX_WIDTH = 2,	     /* default 65535 */
	AIRLOCK_MAX_HEIGHT = 3,	     /* default 65535 */
	AIRLOCK_MAX_PIXELS = 4,	     /* default 178956970, as Pillow and vLLM */
	AIRLOCK_MEMORY_BYTES = 5,    /* worker address-space cap, default 2 GiB */
	AIRLOCK_CPU_MS = 6,	     /* worker CPU-time cap, default 10000 */
	AIRLOCK_TIMEOUT_MS = 7,	     /* wall clock per request, default 15000 */
	AIRLOCK_MAX_JPEG_SCANS = 8,  /* progressive scans, default 100 */
	AIRLOCK_ALLOWED_TYPES = 9,   /* mask of AIRLOCK_TYPE_BIT(), default images and audio */
	AIRLOCK_KEEP_ALPHA = 10,     /* 0: RGB8 flattened; 1: always RGBA8. default 0 */
	AIRLOCK_BACKGROUND = 11,     /* 0xRRGGBB under transparent pixels, default 0xFFFFFF */
	AIRLOCK_JPEG_QUALITY = 12,   /* canonical JPEG quality 1..100, default 92 */

	/* Audio. Durations and sizes count what is decoded, never a header's claim. */
	AIRLOCK_MAX_SECONDS = 13,	    /* decoded duration, default 600 */
	AIRLOCK_MAX_DECODED_BYTES = 14,	    /* output PCM bytes, default 256 MiB */
	AIRLOCK_MIN_RATE = 15,		    /* lowest source sample rate, Hz, default 8000 */
	AIRLOCK_MAX_RATE = 16,		    /* highest source sample rate, Hz, default 192000 */
	AIRLOCK_MAX_CHANNELS = 17,	    /* source channels, default 8 */
	AIRLOCK_MAX_AUDIO_INPUT_BYTES = 18, /* input bytes of an audio file, default 25 MiB */
	AIRLOCK_OUT_RATE = 19,		    /* 0: the source rate (default); else resample to it */
	AIRLOCK_MONO = 20,		    /* 1: downmix to one channel; default 0 */
	AIRLOCK_SAMPLE_FORMAT = 21,	    /* airlock_sample_format of audio, default F32 */
	AIRLOCK_ALLOW_EXTRA_CODECS = 22,    /* 1: also ADPCM, G.72x, GSM, ... in WAV/AIFF; default 0 */

	/* 1: a request fails with AIRLOCK_E_SANDBOX_UNAVAILABLE unless every namespace layer is applied. default 0 */
	AIRLOCK_STRICT_SANDBOX = 23,

	/*
	 * Decoder work, bounded so that the costliest valid input within the
	 * defaults stays under half the default CPU cap (docs/performance.md).
	 */
	AIRLOCK_MAX_JPEG_COEFFS = 24, /* coefficients a JPEG's scans code, default 400000000 -> TOO_COMPLEX */
	AIRLOCK_MAX_PNG_INFLATED_BYTES =
		25, /* PNG rows at their stored depth, filter bytes included, default 768 MiB */

	/* Colour. */
	AIRLOCK_ICC = 26,	    /* 1: convert pixels with an embedded ICC profile to sRGB (default); 0: ignore it */
	AIRLOCK_MAX_ICC_BYTES = 27, /* size of an embedded ICC profile, default 4 MiB -> TOO_LARGE */
	/* Canonical WebP: 0 lossy at AIRLOCK_JPEG_QUALITY (default), 1 lossless. */
	AIRLOCK_WEBP_LOSSLESS = 28,
	/* The track of an MP4 or Matroska input to decode: an airlock_track, default AIRLOCK_TRACK_ANY (since 0.6.0).
	 */
	AIRLOCK_TRACK = 29,
	/*
	 * Video (AIRLOCK_TRACK_VIDEO, since 0.6.0). Which decoded frames are
	 * sampled follows a serving stack's rule exactly (docs/api.md, "Video").
	 * 0 is "the rule's default" for the five request keys.
	 */
	AIRLOCK_VIDEO_SAMPLING = 30,   /* an airlock_sampling, default AIRLOCK_SAMPLING_VLLM */
	AIRLOCK_VIDEO_NUM_FRAMES = 31, /* frames asked for; AIRLOCK_UNSET: every frame (vLLM's -1) */
	AIRLOCK_VIDEO_FPS_MILLI = 32,  /* target rate x 1000 (2000 is 2 fps) */
	AIRLOCK_VIDEO_MIN_FRAMES = 33, /* the Qwen rules' min_frames (the vLLM rule has none) */
	AIRLOCK_VIDEO_MAX_FRAMES = 34, /* the Qwen rules' max_frames; for the vLLM rule, a cap on NUM_FRAMES */
	/* airlock's cap on the frames sampled, as a tighter request (never a cut list), default 768 */
	AIRLOCK_VIDEO_MAX_SAMPLED_FRAMES = 35,
	AIRLOCK_VIDEO_MAX_DECODED_FRAMES = 36, /* frames decoded, counted, default 108000 -> TOO_LONG */
	AIRLOCK_VIDEO_MAX_DECODED_PIXELS = 37, /* sum of w x h over decoded frames, default 2^36 -> TOO_LONG */
	AIRLOCK_VIDEO_MAX_FRAME_PIXELS = 38,   /* 0 (default): full size; else frames over it are downscaled */
	AIRLOCK_VIDEO_MAX_OUTPUT_BYTES = 39,   /* frames x height x width x 3, default 1 GiB -> TOO_LARGE */
	AIRLOCK_VIDEO_CPU_MS = 40,	       /* a video request's worker CPU cap instead of CPU_MS, default 120000 */
	AIRLOCK_VIDEO_TIMEOUT_MS = 41,	       /* its wall clock instead of TIMEOUT_MS, default 180000 */
} airlock_key;

/* AIRLOCK_VIDEO_NUM_FRAMES: no count (vLLM's num_frames=-1, every frame its fps allows). */
#define AIRLOCK_UNSET UINT64_MAX

/*
 * AIRLOCK_TRACK's values. ANY takes the audio track of a file with no
 * video track, and refuses a file with one (AIRLOCK_E_UNSUPPORTED, its
 * MIME type in the report): a caller that handles video asks for it. AUDIO
 * takes the first audio track of any container, VIDEO the first video
 * track's sampled frames (a result airlock_result_video() describes); both
 * drop the rest (AIRLOCK_CHANGE_TRACKS_DROPPED). Inputs of the other types
 * ignore it.
 */
typedef enum airlock_track {
	AIRLOCK_TRACK_ANY = 0,
	AIRLOCK_TRACK_AUDIO = 1,
	AIRLOCK_TRACK_VIDEO = 2, /* since 0.6.0 */
} airlock_track;

/*
 * AIRLOCK_VIDEO_SAMPLING's values: whose frame choice a video request
 * reproduces. Each is the named function's, index for index.
 */
typedef enum airlock_sampling {
	AIRLOCK_SAMPLING_VLLM = 1,	    /* vLLM's default ("opencv") loader: num_frames 32, fps unset */
	AIRLOCK_SAMPLING_QWEN3 = 2,	    /* vLLM's Qwen3-VL loader: fps 2, 4..768 frames */
	AIRLOCK_SAMPLING_QWEN_VL_UTILS = 3, /* qwen_vl_utils 0.0.14 smart_nframes: fps 2, 4..768, even */
} airlock_sampling;

/*
 * The confinement layers a worker runs under. The first three are always
 * applied: without them airlock refuses to decode. The namespaces are
 * defence in depth, applied where the kernel allows them unprivileged.
 */
typedef enum airlock_layer {
	AIRLOCK_LAYER_RLIMITS = 1u << 0,      /* address space, CPU, no files, no new fds */
	AIRLOCK_LAYER_NO_NEW_PRIVS = 1u << 1, /* PR_SET_NO_NEW_PRIVS */
	AIRLOCK_LAYER_SECCOMP = 1u << 2,      /* the system-call allowlist */
	AIRLOCK_LAYER_USER_NS = 1u << 3,      /* own user namespace, no capabilities */
	AIRLOCK_LAYER_NET_NS = 1u << 4,	      /* own network namespace: no interfaces */
	AIRLOCK_LAYER_IPC_NS = 1u << 5,	      /* own System V IPC and POSIX message queues */
	AIRLOCK_LAYER_MOUNT_NS = 1u << 6,     /* own mount namespace, root an empty read-only tmpfs */
} airlock_layer;

#define AIRLOCK_LAYERS_REQUIRED (AIRLOCK_LAYER_RLIMITS | AIRLOCK_LAYER_NO_NEW_PRIVS | AIRLOCK_LAYER_SECCOMP)
#define AIRLOCK_LAYERS_NAMESPACES \
	(AIRLOCK_LAYER_USER_NS | AIRLOCK_LAYER_NET_NS | AIRLOCK_LAYER_IPC_NS | AIRLOCK_LAYER_MOUNT_NS)

/* Name of one layer bit ("seccomp", "net_ns", ...), or NULL for an unknown bit. */
AIRLOCK_API const char *airlock_layer_name(uint32_t bit);

/* Sample formats of a result's data. Values are API. */
typedef enum airlock_sample_format {
	AIRLOCK_SAMPLE_U8 = 1,	/* image bytes */
	AIRLOCK_SAMPLE_S16 = 2, /* audio: native-endian int16, full scale 32768 */
	AIRLOCK_SAMPLE_F32 = 3, /* audio: native-endian float, nominally within [-1, 1] */
} airlock_sample_format;

/* Opaque context: owns one zygote helper. */
typedef struct airlock_ctx airlock_ctx;

/*
 * Creates a context with default limits and starts its zygote. Fails closed:
 * AIRLOCK_E_HELPER when the helper cannot be started, and
 * AIRLOCK_E_SANDBOX_UNAVAILABLE when the helper reports that it cannot
 * confine a worker on this kernel. *out is set only on success; the caller
 * frees it with airlock_close().
 */
AIRLOCK_API int airlock_open(airlock_ctx **out);

/*
 * airlock_open(), and also which helper was started (or tried) and why it
 * failed, for a message to a person: the error code stays the API.
 *
 * helper: caller-owned buffer of helper_size bytes, or NULL with
 * helper_size 0. Receives the helper's path, NUL-terminated and cut to fit:
 * AIRLOCK_ZYGOTE, or where the library looked for the installed helper;
 * empty (and *sys_errno 0) when the call failed before choosing one
 * (AIRLOCK_E_NOMEM, AIRLOCK_E_INTERNAL).
 * sys_errno: NULL, or receives 0 on success and otherwise an errno value:
 * posix_spawn()'s (ENOENT, EACCES, ENOEXEC, ...) when the helper could not
 * be executed; EMFILE or ENFILE with AIRLOCK_E_IO; ETIMEDOUT when it sent
 * no hello in time; EPIPE when it ended without one (not a helper, or it
 * died starting); EPROTO for a hello from another airlock build;
 * ENAMETOOLONG for a path over 4095 bytes; with
 * AIRLOCK_E_SANDBOX_UNAVAILABLE, the errno of the confinement step that failed.
 *
 * Both are written on every return but AIRLOCK_E_INVALID_ARG (out NULL, or
 * helper NULL with helper_size > 0); *out is set only on success.
 */
AIRLOCK_API int airlock_open_detail(airlock_ctx **out, char *helper, size_t helper_size, int *sys_errno);

/*
 * Ends the zygote (which kills its workers) and reaps it; accepts NULL.
 * Requests other threads are running on ctx at that moment end with
 * AIRLOCK_E_CLOSED, and airlock_close() returns once the last of them has
 * returned; then ctx is freed. Calling anything on ctx after
 * airlock_close() has been entered is the caller's use-after-free.
 */
AIRLOCK_API void airlock_close(airlock_ctx *ctx);

/*
 * The airlock_layer mask the context's workers run under: what its zygote
 * managed to apply on this kernel. 0 when ctx is NULL or has no zygote.
 */
AIRLOCK_API uint32_t airlock_layers(const airlock_ctx *ctx);

/* AIRLOCK_E_BAD_OPTION for an unknown key, AIRLOCK_E_INVALID_ARG for a value out of range. */
AIRLOCK_API int airlock_set(airlock_ctx *ctx, airlock_key key, uint64_t value);
AIRLOCK_API int airlock_get(const airlock_ctx *ctx, airlock_key key, uint64_t *value);

/* What sanitizing changed; a result's changes are a mask of these bits. */
typedef enum airlock_change {
	AIRLOCK_CHANGE_METADATA_DROPPED = 1u << 0, /* ancillary chunks, APPn, COM */
	AIRLOCK_CHANGE_ROTATED = 1u << 1,	   /* EXIF orientation applied */
	AIRLOCK_CHANGE_ALPHA_FLATTENED = 1u << 2,  /* composited onto the background */
	AIRLOCK_CHANGE_DEPTH_REDUCED = 1u << 3,	   /* 16-bit samples reduced to 8 */
	AIRLOCK_CHANGE_CMYK_CONVERTED = 1u << 4,   /* CMYK or YCCK converted to RGB */
	AIRLOCK_CHANGE_PALETTE_EXPANDED = 1u << 5,
	AIRLOCK_CHANGE_GREY_EXPANDED = 1u << 6,
	AIRLOCK_CHANGE_ALPHA_ADDED = 1u << 7,	    /* opaque alpha added (KEEP_ALPHA) */
	AIRLOCK_CHANGE_TRAILING_DROPPED = 1u << 8,  /* bytes after IEND / EOI ignored */
	AIRLOCK_CHANGE_ANIMATION_DROPPED = 1u << 9, /* APNG, animated WebP and GIF: the first image only */
	AIRLOCK_CHANGE_INTERLACE_REMOVED = 1u << 10,
	AIRLOCK_CHANGE_TRUNCATED = 1u << 11,	    /* audio: fewer frames than the header said */
	AIRLOCK_CHANGE_DOWNMIXED = 1u << 12,	    /* audio: mixed down to mono */
	AIRLOCK_CHANGE_RESAMPLED = 1u << 13,	    /* audio: converted to another rate */
	AIRLOCK_CHANGE_FORMAT_CONVERTED = 1u << 14, /* audio: sample format changed */
	AIRLOCK_CHANGE_ICC_CONVERTED = 1u << 15,    /* pixels converted from an embedded ICC profile to sRGB */
	AIRLOCK_CHANGE_TRACKS_DROPPED = 1u << 16,   /* MP4, Matroska: tracks other than the one decoded */
	AIRLOCK_CHANGE_DOWNSCALED = 1u << 17,	    /* video: frames scaled to AIRLOCK_VIDEO_MAX_FRAME_PIXELS */
} airlock_change;

/* Name of one change bit ("rotated", ...), or NULL for an unknown bit. */
AIRLOCK_API const char *airlock_change_name(uint32_t bit);

/* Opaque result: the clean pixels or samples and what was done to get them. */
typedef struct airlock_result airlock_result;

/*
 * Sanitizes len bytes at buf in a fresh sandboxed worker. expect is
 * AIRLOCK_TYPE_NONE or the type the caller believes the bytes are; a
 * different detected type is AIRLOCK_E_TYPE_MISMATCH. On success *out
 * receives a result the caller frees with airlock_result_free(); on failure
 * *out is left untouched. buf is borrowed (copied before the worker starts).
 */
AIRLOCK_API int airlock_sanitize(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
				 airlock_result **out);

/*
 * Like airlock_sanitize(), and also reports what was known, on success and
 * on failure: the detected type (AIRLOCK_TYPE_NONE if none), elapsed
 * microseconds, the limit that tripped and the zygote's layers.
 *
 * report: NULL, or a caller-owned struct whose size member the caller has
 * set to sizeof(airlock_report), most simply with AIRLOCK_REPORT_INIT. A
 * size below that of the 0.4.0 layout is AIRLOCK_E_INVALID_ARG, and nothing
 * is written. The library writes only the members it knows and the caller's
 * size covers: a later, larger airlock_report keeps its newer members as
 * the caller set them. size itself is never written.
 */
typedef struct airlock_report {
	size_t size; /* set by the caller: sizeof(airlock_report) */
	airlock_type type;
	uint64_t elapsed_us;
	uint32_t limit;	 /* the airlock_key that tripped, or 0 */
	uint32_t layers; /* airlock_layer mask of the zygote the request went to; 0 if it reached none */
	/*
	 * Since 0.5.0. On AIRLOCK_E_UNSUPPORTED: the MIME type libmagic gave
	 * the input ("image/heic"), a constant string of the library's own
	 * table, never input bytes; NULL otherwise.
	 */
	const char *mime;
} airlock_report;
/* A report ready to pass: its size set, everything else 0. */
#define AIRLOCK_REPORT_INIT                    \
	{                                      \
		.size = sizeof(airlock_report) \
	}
AIRLOCK_API int airlock_sanitize_report(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
					airlock_result **out, airlock_report *report);

AIRLOCK_API void airlock_result_free(airlock_result *r); /* accepts NULL */
AIRLOCK_API airlock_type airlock_result_type(const airlock_result *r);
AIRLOCK_API uint32_t airlock_result_width(const airlock_result *r);    /* 0 for audio */
AIRLOCK_API uint32_t airlock_result_height(const airlock_result *r);   /* 0 for audio */
AIRLOCK_API uint32_t airlock_result_channels(const airlock_result *r); /* image: 3 or 4; audio: 1..MAX_CHANNELS */
AIRLOCK_API uint32_t airlock_result_changes(const airlock_result *r);
AIRLOCK_API uint32_t airlock_result_rate(const airlock_result *r);   /* audio: Hz; 0 for images */
AIRLOCK_API uint64_t airlock_result_frames(const airlock_result *r); /* audio: samples per channel; video: frames */
AIRLOCK_API airlock_sample_format airlock_result_sample_format(const airlock_result *r);
AIRLOCK_API uint32_t airlock_result_layers(const airlock_result *r); /* airlock_layer mask */
/*
 * The data, owned by r. Images: height x width x channels bytes, row-major,
 * no padding. Audio: frames x channels interleaved samples in the result's
 * sample format. Video: frames images of height x width x 3 (RGB8), one
 * after the other. *len (if len is not NULL) receives the size in bytes.
 */
AIRLOCK_API const uint8_t *airlock_result_pixels(const airlock_result *r, size_t *len);

/* What a video result's frames are (since 0.6.0). The source's numbers are measured, never a header's claim. */
typedef struct airlock_video_info {
	size_t size;	      /* set by the caller: sizeof(airlock_video_info) */
	uint64_t frames_seen; /* frames decoded: the total the sampling rule was given */
	uint32_t fps_num;     /* the rate the rule was given, as a fraction; 0/0 when unknown */
	uint32_t fps_den;
	uint64_t duration_us; /* from the first decoded frame's time to the last one's end */
	uint32_t src_width;   /* the decoded frames' size, before rotation and scaling */
	uint32_t src_height;
	uint32_t rotation; /* degrees clockwise applied from the container's display matrix: 0, 90, 180, 270 */
} airlock_video_info;

/*
 * Fills info for a video result: AIRLOCK_OK, or AIRLOCK_E_INVALID_ARG for
 * another result (which is how to tell one from an MP4's audio). The
 * sampled frame i (0 <= i < frames) is decoded frame index[i] of
 * frames_seen, shown pts_us[i] microseconds after the first decoded frame;
 * both arrays are owned by r and hold airlock_result_frames() values.
 */
AIRLOCK_API int airlock_result_video(const airlock_result *r, airlock_video_info *info);
AIRLOCK_API const uint64_t *airlock_result_video_indices(const airlock_result *r); /* NULL unless video */
AIRLOCK_API const int64_t *airlock_result_video_pts_us(const airlock_result *r);   /* NULL unless video */

/* Canonical encodings, written by the host from the validated pixels. */
typedef enum airlock_format {
	AIRLOCK_FORMAT_PNG = 1,	 /* IHDR, IDAT, IEND only; fixed settings */
	AIRLOCK_FORMAT_JPEG = 2, /* baseline, no APPn except JFIF APP0, no COM */
	AIRLOCK_FORMAT_RAW = 3,	 /* the bare pixels or interleaved samples */
	AIRLOCK_FORMAT_WAV = 4,	 /* RIFF WAVE: fmt (and fact for float) and data only */
	AIRLOCK_FORMAT_FLAC = 5, /* STREAMINFO and an empty VORBIS_COMMENT only; 16- or 24-bit */
	AIRLOCK_FORMAT_WEBP = 6, /* VP8 or VP8L (+ VP8X/ALPH for alpha); no EXIF, ICCP, XMP or animation */
} airlock_format;

/*
 * Receives encoded bytes in order, in chunks. Returns 0 to go on, anything
 * else to stop the encode with AIRLOCK_E_IO.
 */
typedef int (*airlock_write_fn)(void *user, const void *buf, size_t len);

/*
 * Encodes r as fmt through write. Images take PNG, JPEG and RAW; audio takes
 * WAV, FLAC and RAW; anything else is AIRLOCK_E_INVALID_ARG. The JPEG quality
 * comes from ctx (AIRLOCK_JPEG_QUALITY); ctx may be NULL for the defaults.
 * The same data and settings always give the same bytes.
 */
AIRLOCK_API int airlock_encode(const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt,
			       airlock_write_fn write, void *user);

/* Same, into a buffer the caller frees with free(). *out is set only on success. */
AIRLOCK_API int airlock_encode_to_memory(const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt,
					 uint8_t **out, size_t *out_len);

/*
 * Security events. Every request that does not end in AIRLOCK_OK (a
 * rejection, a sandbox event, an internal failure) is reported once to the
 * context's event function, on the thread that made the request, after the
 * worker is gone. An event holds numbers only: never input bytes, file
 * contents or paths. size is sizeof(airlock_event) of the library that
 * filled it in: members that end past it were not filled in (a library
 * older than the caller's header), so test it before reading newer members.
 */
typedef struct airlock_event {
	size_t size;	      /* set by the library */
	uint64_t time_us;     /* CLOCK_REALTIME at the end of the request, microseconds */
	int error;	      /* the airlock_error returned */
	airlock_type type;    /* detected type, or AIRLOCK_TYPE_NONE */
	airlock_type expect;  /* the caller's expectation */
	uint64_t input_bytes; /* length of the input */
	uint64_t elapsed_us;
	uint32_t limit;	 /* the airlock_key that tripped, or 0 */
	uint32_t layers; /* airlock_layer mask of the zygote the request went to; 0 if it reached none */
	/* Since 0.5.0: as airlock_report.mime (a constant of the library's table, or NULL). */
	const char *mime;
} airlock_event;

typedef void (*airlock_event_fn)(void *user, const airlock_event *ev);

/*
 * Sets (or with fn NULL, clears) the event function for requests started
 * afterwards; requests already running still report to the old fn and user.
 * fn must not call airlock_close() on its own context (it would wait for
 * the very request it is reporting).
 */
AIRLOCK_API int airlock_set_event_fn(airlock_ctx *ctx, airlock_event_fn fn, void *user);

/*
 * How many requests on ctx have ended with err (AIRLOCK_OK counts
 * successes) since airlock_open(). Calls rejected for their arguments
 * before any work (AIRLOCK_E_INVALID_ARG) are not counted. 0 for an
 * unknown code or a NULL ctx.
 */
AIRLOCK_API uint64_t airlock_count(const airlock_ctx *ctx, int err);

/*
 * ---- Per-request options (since 0.6.0) ----
 *
 * The context holds an operator's settings; a request may carry its own.
 * An airlock_options holds values for some keys and nothing for the rest: a
 * request made with it takes each key it holds instead of the context's,
 * and the context's value for every other key. Options are plain data:
 * once set, one object may be used by any number of threads and requests
 * at once, and freed when none is using it.
 *
 * The context's limits are ceilings a request can only tighten. For the
 * keys that bound work or input (every MAX_* key, AIRLOCK_MEMORY_BYTES,
 * AIRLOCK_CPU_MS, AIRLOCK_TIMEOUT_MS, AIRLOCK_MIN_RATE,
 * AIRLOCK_ALLOWED_TYPES, AIRLOCK_ALLOW_EXTRA_CODECS, AIRLOCK_STRICT_SANDBOX)
 * a request gets the stricter of the two values: the smaller maximum, the
 * larger minimum, the intersection of the type masks (an empty one refuses
 * every type), extra codecs only when both allow them, strict when either
 * asks. Every other key (KEEP_ALPHA, BACKGROUND, JPEG_QUALITY,
 * WEBP_LOSSLESS, OUT_RATE, MONO, SAMPLE_FORMAT, ICC) is the request's to
 * choose.
 */
typedef struct airlock_options airlock_options;

/* A new, empty set of options (every key: the context's). AIRLOCK_E_NOMEM or AIRLOCK_E_INVALID_ARG. */
AIRLOCK_API int airlock_options_new(airlock_options **out);
AIRLOCK_API void airlock_options_free(airlock_options *o); /* accepts NULL */
/* Holds value for key. Errors as airlock_set(): AIRLOCK_E_BAD_OPTION, AIRLOCK_E_INVALID_ARG. */
AIRLOCK_API int airlock_options_set(airlock_options *o, airlock_key key, uint64_t value);
/* Forgets key: requests take the context's value again. */
AIRLOCK_API int airlock_options_unset(airlock_options *o, airlock_key key);
/* The value o holds for key; AIRLOCK_E_BAD_OPTION for an unknown key and for a key o does not hold. */
AIRLOCK_API int airlock_options_get(const airlock_options *o, airlock_key key, uint64_t *value);

/*
 * airlock_sanitize_report() with per-request options; opts NULL is the
 * context's settings alone. A request refused by a limit the options
 * tightened reports that key in report->limit, as for the context's own.
 */
AIRLOCK_API int airlock_sanitize_opts(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
				      const airlock_options *opts, airlock_result **out, airlock_report *report);

/*
 * airlock_encode() and airlock_encode_to_memory() with the encoder keys
 * (AIRLOCK_JPEG_QUALITY, AIRLOCK_WEBP_LOSSLESS, and AIRLOCK_BACKGROUND under
 * an RGBA image written as JPEG) taken from opts where it holds them, else
 * from ctx, else the defaults; ctx and opts may be NULL.
 */
AIRLOCK_API int airlock_encode_opts(const airlock_ctx *ctx, const airlock_options *opts, const airlock_result *r,
				    airlock_format fmt, airlock_write_fn write, void *user);
AIRLOCK_API int airlock_encode_opts_to_memory(const airlock_ctx *ctx, const airlock_options *opts,
					      const airlock_result *r, airlock_format fmt, uint8_t **out,
					      size_t *out_len);

/*
 * Frame i of a video result as an image (PNG, JPEG, WEBP or RAW), as
 * airlock_encode_opts() writes an image result (since 0.6.0). A video
 * result as a whole takes RAW alone: every frame's pixels in order.
 * AIRLOCK_E_INVALID_ARG for another result or i >= its frames.
 */
AIRLOCK_API int airlock_encode_frame(const airlock_ctx *ctx, const airlock_options *opts, const airlock_result *r,
				     uint64_t i, airlock_format fmt, airlock_write_fn write, void *user);
/* The same, into a buffer the caller frees with free(); *out is set only on success. */
AIRLOCK_API int airlock_encode_frame_to_memory(const airlock_ctx *ctx, const airlock_options *opts,
					       const airlock_result *r, uint64_t i, airlock_format fmt, uint8_t **out,
					       size_t *out_len);

/*
 * ---- Requests that do not block (since 0.6.0) ----
 *
 * For event loops: a request is started, watched through one descriptor,
 * driven without blocking and collected. airlock_sanitize_opts() is
 * airlock_submit(), airlock_request_wait() until done, then
 * airlock_request_finish(): the limits, the checks, the counters and the
 * event function are the same.
 *
 * A request belongs to the thread that holds it: its functions are not to
 * be called on one request from two threads at once (different requests
 * need no care). The context must stay open until every request submitted
 * on it is finished; airlock_close() ends the workers of unfinished ones,
 * which then finish with AIRLOCK_E_CLOSED, and waits until each of them is
 * finished.
 */
typedef struct airlock_request airlock_request;

/*
 * Starts sanitizing len bytes at buf (copied before it returns). On
 * AIRLOCK_OK, *out is a request the caller ends with
 * airlock_request_finish(); a request refused before any worker started
 * (empty input, too big, context closing, ...) is returned all the same,
 * already done, and its finish returns the reason. Only AIRLOCK_E_INVALID_ARG
 * and AIRLOCK_E_NOMEM are returned here, and then *out is left untouched.
 */
AIRLOCK_API int airlock_submit(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
			       const airlock_options *opts, airlock_request **out);

/*
 * A descriptor that polls readable whenever airlock_request_step() has
 * something to do: output from the worker, its end, the request's deadline,
 * or the request already being done. Owned by the request (do not close
 * it); the same value for the request's life; -1 with errno on failure (no
 * descriptors left).
 */
AIRLOCK_API int airlock_request_fd(airlock_request *req);

/* Does what can be done now without blocking. Returns 1 once the request is done, 0 while it runs. */
AIRLOCK_API int airlock_request_step(airlock_request *req);

/*
 * Drives the request for at most timeout_ms milliseconds (-1: until done),
 * returning earlier when a signal interrupts the wait (so that a caller can
 * run its handlers). Returns 1 once the request is done, 0 otherwise.
 */
AIRLOCK_API int airlock_request_wait(airlock_request *req, int timeout_ms);

/*
 * Ends the request now: its worker is killed (and reaped by the zygote) and
 * it is done, to finish with AIRLOCK_E_CANCELLED; a request already done
 * keeps its outcome. Does not block.
 */
AIRLOCK_API void airlock_request_cancel(airlock_request *req);

/*
 * Waits until the request is done, then returns its code, as
 * airlock_sanitize_opts() would have, and frees req: on AIRLOCK_OK *out
 * (which may be NULL only for a request known to have failed, to discard
 * it) receives the result; report as for airlock_sanitize_report(). The
 * request is counted and reported to the event function here. A report of
 * a wrong size is AIRLOCK_E_INVALID_ARG and still ends and frees the request.
 */
AIRLOCK_API int airlock_request_finish(airlock_request *req, airlock_result **out, airlock_report *report);

/*
 * ---- fork() (since 0.6.0) ----
 *
 * A context survives fork(). In the child it has no zygote and no requests:
 * the descriptors the child inherited from the parent's zygote and
 * requests are closed as the child starts (a pthread_atfork() handler), and
 * the child's first request starts a zygote of its own. airlock_close() in
 * the child ends only that one; the parent's zygote and requests are never
 * touched from the child. Requests that other threads of the parent had in
 * flight at the fork do not exist in the child: their airlock_request
 * objects, if the child's one thread holds any, finish with AIRLOCK_E_CLOSED.
 * fork() waits while another thread is starting a zygote on some context.
 */

#ifdef __cplusplus
}
#endif

#endif /* AIRLOCK_H */
