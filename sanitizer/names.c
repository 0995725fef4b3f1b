/* SPDX-License-Identifier: MIT */
/* Names and messages: error codes, types, changes, version. */
#include <string.h>

#include "airlock.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

AIRLOCK_API const char *airlock_version_string(void)
{
	return STR(AIRLOCK_VERSION_MAJOR) "." STR(AIRLOCK_VERSION_MINOR) "." STR(AIRLOCK_VERSION_PATCH);
}

static const struct {
	int code;
	const char *name;
	const char *msg;
} errors[] = {
	{ AIRLOCK_OK, "ok", "success" },
	{ AIRLOCK_E_MALFORMED, "malformed", "input is not a valid file of its type" },
	{ AIRLOCK_E_TYPE, "type", "input type is unknown or not allowed" },
	{ AIRLOCK_E_TYPE_MISMATCH, "type_mismatch", "detected type differs from the expected type" },
	{ AIRLOCK_E_TOO_LARGE, "too_large", "image dimensions exceed a limit" },
	{ AIRLOCK_E_INPUT_TOO_BIG, "input_too_big", "input is larger than the byte limit" },
	{ AIRLOCK_E_UNSUPPORTED, "unsupported", "input uses a variant of its format that is not supported" },
	{ AIRLOCK_E_EMPTY, "empty", "input is empty" },
	{ AIRLOCK_E_TOO_COMPLEX, "too_complex",
	  "input exceeds a work limit (too many JPEG scans, or Vorbis codebooks)" },
	{ AIRLOCK_E_TOO_LONG, "too_long", "decoded audio or video exceeds a duration, frame or size limit" },
	{ AIRLOCK_E_OUT_OF_RANGE, "out_of_range",
	  "audio rate or channel count outside the allowed range, or a video sampling that picks no frame" },
	{ AIRLOCK_E_WORKER_CRASH, "worker_crash", "the sandboxed decoder crashed on this input" },
	{ AIRLOCK_E_TIMEOUT, "timeout", "decoding exceeded the wall-clock timeout and was killed" },
	{ AIRLOCK_E_MEMORY, "memory", "decoding exceeded the worker memory limit" },
	{ AIRLOCK_E_SECCOMP, "seccomp", "the sandboxed decoder made a forbidden system call and was killed" },
	{ AIRLOCK_E_CPU_LIMIT, "cpu_limit", "decoding exceeded the CPU-time limit" },
	{ AIRLOCK_E_PROTOCOL, "protocol", "the sandboxed decoder returned an invalid frame" },
	{ AIRLOCK_E_INVALID_ARG, "invalid_argument", "invalid argument" },
	{ AIRLOCK_E_BAD_OPTION, "bad_option", "unknown option key" },
	{ AIRLOCK_E_CLOSED, "closed", "the context was closed while the request was running" },
	{ AIRLOCK_E_CANCELLED, "cancelled", "the caller cancelled the request" },
	{ AIRLOCK_E_SANDBOX_UNAVAILABLE, "sandbox_unavailable",
	  "the sandbox (seccomp, no_new_privs, rlimits, or a namespace strict mode requires) cannot be set up on this "
	  "system; refusing to decode" },
	{ AIRLOCK_E_HELPER, "helper", "the airlock-zygote helper could not be started or was lost" },
	{ AIRLOCK_E_NOMEM, "nomem", "out of memory in the host process" },
	{ AIRLOCK_E_IO, "io", "I/O error in the host process" },
	{ AIRLOCK_E_INTERNAL, "internal", "internal error" },
	{ AIRLOCK_E_BUSY, "busy", "no worker could be started for this request (too many in flight); retry later" },
};

static int find_error(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return (int)i;
	return -1;
}

AIRLOCK_API const char *airlock_strerror(int err)
{
	int i = find_error(err);
	return i < 0 ? "unknown error code" : errors[i].msg;
}

AIRLOCK_API const char *airlock_error_name(int err)
{
	int i = find_error(err);
	return i < 0 ? "unknown" : errors[i].name;
}

AIRLOCK_API airlock_error_class airlock_error_classify(int err)
{
	if (err == AIRLOCK_OK)
		return AIRLOCK_CLASS_OK;
	if (err >= 1 && err < 20)
		return AIRLOCK_CLASS_REJECTED;
	if (err >= 20 && err < 40)
		return AIRLOCK_CLASS_SANDBOX;
	if (err >= 40 && err < 60)
		return AIRLOCK_CLASS_CALLER;
	return AIRLOCK_CLASS_INTERNAL;
}

static const struct {
	const char *name;
	const char *mime;
} types[AIRLOCK_TYPE_COUNT_] = {
	[AIRLOCK_TYPE_NONE] = { "none", "application/octet-stream" },
	[AIRLOCK_TYPE_PNG] = { "png", "image/png" },
	[AIRLOCK_TYPE_JPEG] = { "jpeg", "image/jpeg" },
	[AIRLOCK_TYPE_WAV] = { "wav", "audio/wav" },
	[AIRLOCK_TYPE_FLAC] = { "flac", "audio/flac" },
	[AIRLOCK_TYPE_VORBIS] = { "vorbis", "audio/ogg" },
	[AIRLOCK_TYPE_OPUS] = { "opus", "audio/opus" },
	[AIRLOCK_TYPE_MP3] = { "mp3", "audio/mpeg" },
	[AIRLOCK_TYPE_AIFF] = { "aiff", "audio/aiff" },
	[AIRLOCK_TYPE_WEBP] = { "webp", "image/webp" },
	[AIRLOCK_TYPE_GIF] = { "gif", "image/gif" },
	[AIRLOCK_TYPE_BMP] = { "bmp", "image/bmp" },
	[AIRLOCK_TYPE_TIFF] = { "tiff", "image/tiff" },
	[AIRLOCK_TYPE_MP4] = { "mp4", "video/mp4" },
	[AIRLOCK_TYPE_MATROSKA] = { "matroska", "video/x-matroska" },
};

AIRLOCK_API const char *airlock_type_name(airlock_type t)
{
	return (unsigned)t < AIRLOCK_TYPE_COUNT_ ? types[t].name : "none";
}

AIRLOCK_API const char *airlock_type_mime(airlock_type t)
{
	return (unsigned)t < AIRLOCK_TYPE_COUNT_ ? types[t].mime : types[0].mime;
}

/* ASCII only, whatever the locale: in a Turkish one, strcasecmp() would not match "AIFF" with "aiff". */
static int name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
		if (x != *b)
			return 0;
	}
	return *a == *b;
}

/* Names are matched without regard to case ("JPEG" from a file extension is still jpeg). */
AIRLOCK_API airlock_type airlock_type_from_name(const char *name)
{
	if (!name)
		return AIRLOCK_TYPE_NONE;
	if (name_eq(name, "jpg"))
		return AIRLOCK_TYPE_JPEG;
	if (name_eq(name, "tif"))
		return AIRLOCK_TYPE_TIFF;
	/* The extensions of the two containers' variants. */
	if (name_eq(name, "m4a") || name_eq(name, "mov") || name_eq(name, "m4v") || name_eq(name, "3gp"))
		return AIRLOCK_TYPE_MP4;
	if (name_eq(name, "mkv") || name_eq(name, "mka") || name_eq(name, "webm"))
		return AIRLOCK_TYPE_MATROSKA;
	for (int t = 1; t < AIRLOCK_TYPE_COUNT_; t++)
		if (name_eq(name, types[t].name))
			return (airlock_type)t;
	return AIRLOCK_TYPE_NONE;
}

AIRLOCK_API const char *airlock_change_name(uint32_t bit)
{
	switch (bit) {
	case AIRLOCK_CHANGE_METADATA_DROPPED: return "metadata_dropped";
	case AIRLOCK_CHANGE_ROTATED: return "rotated";
	case AIRLOCK_CHANGE_ALPHA_FLATTENED: return "alpha_flattened";
	case AIRLOCK_CHANGE_DEPTH_REDUCED: return "depth_reduced";
	case AIRLOCK_CHANGE_CMYK_CONVERTED: return "cmyk_converted";
	case AIRLOCK_CHANGE_PALETTE_EXPANDED: return "palette_expanded";
	case AIRLOCK_CHANGE_GREY_EXPANDED: return "grey_expanded";
	case AIRLOCK_CHANGE_ALPHA_ADDED: return "alpha_added";
	case AIRLOCK_CHANGE_TRAILING_DROPPED: return "trailing_dropped";
	case AIRLOCK_CHANGE_ANIMATION_DROPPED: return "animation_dropped";
	case AIRLOCK_CHANGE_INTERLACE_REMOVED: return "interlace_removed";
	case AIRLOCK_CHANGE_TRUNCATED: return "truncated";
	case AIRLOCK_CHANGE_DOWNMIXED: return "downmixed";
	case AIRLOCK_CHANGE_RESAMPLED: return "resampled";
	case AIRLOCK_CHANGE_FORMAT_CONVERTED: return "format_converted";
	case AIRLOCK_CHANGE_ICC_CONVERTED: return "icc_converted";
	case AIRLOCK_CHANGE_TRACKS_DROPPED: return "tracks_dropped";
	case AIRLOCK_CHANGE_DOWNSCALED: return "downscaled";
	default: return NULL;
	}
}

AIRLOCK_API const char *airlock_layer_name(uint32_t bit)
{
	switch (bit) {
	case AIRLOCK_LAYER_RLIMITS: return "rlimits";
	case AIRLOCK_LAYER_NO_NEW_PRIVS: return "no_new_privs";
	case AIRLOCK_LAYER_SECCOMP: return "seccomp";
	case AIRLOCK_LAYER_USER_NS: return "user_ns";
	case AIRLOCK_LAYER_NET_NS: return "net_ns";
	case AIRLOCK_LAYER_IPC_NS: return "ipc_ns";
	case AIRLOCK_LAYER_MOUNT_NS: return "mount_ns";
	default: return NULL;
	}
}
