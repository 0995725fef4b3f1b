/* SPDX-License-Identifier: MIT */
/*
 * airlock [OPTIONS] [INPUT] [-o OUTPUT]. The parser is a pure function of
 * argv (no getopt globals) so tests and the fuzzer can call it freely. On
 * rejection nothing reaches stdout and OUTPUT is never created or touched:
 * output goes to a temporary file beside it, renamed into place on success;
 * a device or FIFO named as OUTPUT is written only after the encode succeeded.
 * Whether OUTPUT can be written at all is found out before any decode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum opt_kind {
	OPT_NUM,
	OPT_FLAG_KEY, /* sets its key to 1 */
	OPT_FLAG_OFF, /* sets its key to 0 */
	OPT_TYPES,
	OPT_COLOR,
	OPT_TO,
	OPT_SAMPLE_FORMAT,
	OPT_EXPECT,
	OPT_JSON,
	OPT_HELP,
	OPT_VERSION,
	OPT_OUTPUT,
	OPT_LOG,
	OPT_ALL_FRAMES, /* AIRLOCK_VIDEO_NUM_FRAMES = AIRLOCK_UNSET */
	OPT_FPS,	/* a decimal rate, into thousandths */
	OPT_SAMPLING
};

static const struct opt {
	const char *name;
	enum opt_kind kind;
	airlock_key key;
	uint64_t min, max, scale;
	const char *help;
} opts[] = {
	{ "max-bytes", OPT_NUM, AIRLOCK_MAX_INPUT_BYTES, 1, 1ull << 40, 1,
	  "N     reject inputs over N bytes (67108864)" },
	{ "max-width", OPT_NUM, AIRLOCK_MAX_WIDTH, 1, 0x7fffffff, 1,
	  "N     reject images (and video frames) wider than N (65535)" },
	{ "max-height", OPT_NUM, AIRLOCK_MAX_HEIGHT, 1, 0x7fffffff, 1,
	  "N    reject images (and video frames) taller than N (65535)" },
	{ "max-pixels", OPT_NUM, AIRLOCK_MAX_PIXELS, 1, 1ull << 34, 1,
	  "N    reject images (and video frames) over N pixels (178956970)" },
	{ "max-scans", OPT_NUM, AIRLOCK_MAX_JPEG_SCANS, 1, 100000, 1, "N     reject JPEGs with more scans (100)" },
	{ "max-jpeg-coeffs", OPT_NUM, AIRLOCK_MAX_JPEG_COEFFS, 1, 1ull << 50, 1,
	  "N reject JPEGs whose scans code more coefficients (400000000)" },
	{ "max-inflated-bytes", OPT_NUM, AIRLOCK_MAX_PNG_INFLATED_BYTES, 1, 1ull << 40, 1,
	  "N reject PNGs whose stored rows pass N bytes (805306368)" },
	{ "max-icc-bytes", OPT_NUM, AIRLOCK_MAX_ICC_BYTES, 1, 1u << 30, 1,
	  "N  reject images with an embedded ICC profile over N bytes (4194304)" },
	{ "timeout-ms", OPT_NUM, AIRLOCK_TIMEOUT_MS, 1, 3600000, 1, "N    wall-clock limit per input (15000)" },
	{ "cpu-ms", OPT_NUM, AIRLOCK_CPU_MS, 1, 3600000, 1,
	  "N        worker CPU-time limit, rounded up to whole seconds (10000)" },
	{ "memory-mb", OPT_NUM, AIRLOCK_MEMORY_BYTES, 64, 1u << 20, 1u << 20,
	  "N     worker address-space limit (2048)" },
	{ "quality", OPT_NUM, AIRLOCK_JPEG_QUALITY, 1, 100, 1, "N       JPEG and lossy WebP output quality (92)" },
	{ "lossless", OPT_FLAG_KEY, AIRLOCK_WEBP_LOSSLESS, 0, 0, 0,
	  "         lossless WebP output (with --to webp, or a WebP input without --to)" },
	{ "max-seconds", OPT_NUM, AIRLOCK_MAX_SECONDS, 1, 86400, 1, "N   reject audio or video longer than N s (600)" },
	{ "max-decoded-bytes", OPT_NUM, AIRLOCK_MAX_DECODED_BYTES, 1, 1ull << 40, 1,
	  "N reject audio decoding to more bytes (268435456)" },
	{ "max-audio-bytes", OPT_NUM, AIRLOCK_MAX_AUDIO_INPUT_BYTES, 1, 1ull << 40, 1,
	  "N reject audio files over N bytes (26214400)" },
	{ "min-rate", OPT_NUM, AIRLOCK_MIN_RATE, 1000, 768000, 1, "HZ      reject audio sampled below HZ (8000)" },
	{ "max-rate", OPT_NUM, AIRLOCK_MAX_RATE, 1000, 768000, 1, "HZ      reject audio sampled above HZ (192000)" },
	{ "max-channels", OPT_NUM, AIRLOCK_MAX_CHANNELS, 1, 64, 1, "N  reject audio with more channels (8)" },
	{ "extra-codecs", OPT_FLAG_KEY, AIRLOCK_ALLOW_EXTRA_CODECS, 0, 0, 0,
	  "     also decode ADPCM, G.72x, GSM, ... in WAV and AIFF" },
	/* Video (-o DIR/). The sampling options are the request's; the others are limits. */
	{ "sampling", OPT_SAMPLING, AIRLOCK_VIDEO_SAMPLING, 0, 0, 0,
	  "RULE     video: whose frame choice, vllm (default), qwen3 or qwen_vl_utils" },
	{ "frames", OPT_NUM, AIRLOCK_VIDEO_NUM_FRAMES, 1, UINT64_MAX - 1, 1,
	  "N          video: sample N frames (vllm: 32; qwen_vl_utils: its nframes)" },
	{ "all-frames", OPT_ALL_FRAMES, AIRLOCK_VIDEO_NUM_FRAMES, 0, 0, 0,
	  "       video, vllm: every frame (num_frames -1), or as many as --fps gives" },
	{ "fps", OPT_FPS, AIRLOCK_VIDEO_FPS_MILLI, 1, 1000000000, 1,
	  "F             video: sample F frames a second, at most 3 decimals (vllm: unset;\n"
	  "qwen3, qwen_vl_utils: 2)" },
	{ "min-frames", OPT_NUM, AIRLOCK_VIDEO_MIN_FRAMES, 1, 1u << 20, 1,
	  "N    video, qwen rules: at least N frames (4)" },
	{ "max-frames", OPT_NUM, AIRLOCK_VIDEO_MAX_FRAMES, 1, 1u << 20, 1,
	  "N    video: at most N frames (qwen rules: 768; vllm: a cap on --frames)" },
	{ "max-sampled-frames", OPT_NUM, AIRLOCK_VIDEO_MAX_SAMPLED_FRAMES, 1, 1u << 20, 1,
	  "N never sample more video frames, as if no more were asked for (768)" },
	{ "max-decoded-frames", OPT_NUM, AIRLOCK_VIDEO_MAX_DECODED_FRAMES, 1, 1ull << 40, 1,
	  "N reject video of more than N frames (108000)" },
	{ "max-decoded-pixels", OPT_NUM, AIRLOCK_VIDEO_MAX_DECODED_PIXELS, 1, 1ull << 56, 1,
	  "N reject video decoding to more pixels in all (68719476736)" },
	{ "max-frame-pixels", OPT_NUM, AIRLOCK_VIDEO_MAX_FRAME_PIXELS, 1, 1ull << 34, 1,
	  "P  downscale video frames over P pixels (default: full size)" },
	{ "max-video-bytes", OPT_NUM, AIRLOCK_VIDEO_MAX_OUTPUT_BYTES, 1, 1ull << 40, 1,
	  "N reject video whose sampled frames pass N bytes as RGB (1073741824)" },
	{ "video-cpu-ms", OPT_NUM, AIRLOCK_VIDEO_CPU_MS, 1, 3600000, 1,
	  "N  video worker CPU-time limit, instead of --cpu-ms (120000)" },
	{ "video-timeout-ms", OPT_NUM, AIRLOCK_VIDEO_TIMEOUT_MS, 1, 3600000, 1,
	  "N wall-clock limit per video, instead of --timeout-ms (180000)" },
	{ "allow", OPT_TYPES, 0, 0, 0, 0,
	  "LIST      allowed input types: png,jpeg,webp,gif,bmp,tiff,wav,flac,vorbis,opus,mp3,aiff,\n"
	  "mp4,matroska, image, audio, media (default: every type but tiff)" },
	{ "expect", OPT_EXPECT, 0, 0, 0, 0, "TYPE     reject input of any other detected type" },
	{ "keep-alpha", OPT_FLAG_KEY, AIRLOCK_KEEP_ALPHA, 0, 0, 0, "       output RGBA instead of flattening" },
	{ "background", OPT_COLOR, AIRLOCK_BACKGROUND, 0, 0, 0, "RRGGBB colour under transparency (ffffff)" },
	{ "no-icc", OPT_FLAG_OFF, AIRLOCK_ICC, 0, 0, 0,
	  "           keep stored colour values, ignoring ICC profiles (default: convert to sRGB)" },
	{ "rate", OPT_NUM, AIRLOCK_OUT_RATE, 1000, 768000, 1, "HZ          resample audio to HZ (default: keep)" },
	{ "mono", OPT_FLAG_KEY, AIRLOCK_MONO, 0, 0, 0, "             downmix audio to one channel" },
	{ "sample-format", OPT_SAMPLE_FORMAT, 0, 0, 0, 0, "F   audio samples: s16 (default) or f32" },
	{ "to", OPT_TO, 0, 0, 0, 0,
	  "FORMAT       png, jpeg, webp, wav, flac or raw (default: the input's own format for PNG,\n"
	  "JPEG and WebP, png for GIF, BMP and TIFF, wav for audio; png for a video's frames\n"
	  "in -o DIR/)" },
	{ "output", OPT_OUTPUT, 0, 0, 0, 0,
	  "FILE     write here; default stdout, but not a terminal (-o - forces it);\n"
	  "DIR/ (or an existing directory): a video's sampled frames and manifest.json" },
	{ "strict-sandbox", OPT_FLAG_KEY, AIRLOCK_STRICT_SANDBOX, 0, 0, 0,
	  " refuse unless user, network, IPC and mount namespaces are all applied" },
	{ "json", OPT_JSON, 0, 0, 0, 0, "             one JSON report line per input on stderr" },
	{ "log", OPT_LOG, 0, 0, 0, 0, "FILE        append a JSON line per rejection or sandbox event" },
	{ "help", OPT_HELP, 0, 0, 0, 0, "             this text" },
	{ "version", OPT_VERSION, 0, 0, 0, 0, "          print the version" },
};

/* The short forms: aliases of long names, looked up and listed with them. */
static const struct {
	const char *flag, *name;
} shorts[] = {
	{ "-o", "output" },
	{ "-h", "help" },
};

static const char *short_for(const char *name)
{
	for (size_t k = 0; k < sizeof(shorts) / sizeof(shorts[0]); k++)
		if (strcmp(shorts[k].name, name) == 0)
			return shorts[k].flag;
	return NULL;
}

void cli_usage(FILE *f)
{
	fputs("Usage: airlock [OPTIONS] [INPUT] [-o OUTPUT]\n"
	      "       airlock [OPTIONS] VIDEO -o DIR/     (sampled frames and manifest.json into DIR)\n"
	      "       airlock scan [OPTIONS] PATH...   (a whole tree; see 'airlock scan --help')\n"
	      "Decode an untrusted image (PNG, JPEG, WebP, GIF, BMP, TIFF) or audio file (WAV, FLAC,\n"
	      "Ogg Vorbis, Opus, MP3, AIFF; the audio of MP4, M4A, MKV, WebM) in a seccomp sandbox and\n"
	      "write a clean re-encoding; or the frames of an MP4, MKV or WebM video that a serving\n"
	      "stack's sampling rule picks, one image file each, into a directory.\n"
	      "INPUT and OUTPUT default to stdin and stdout ('-' also means them).\n"
	      "TIFF is refused unless --allow names it (tiff, or image), as the library's default.\n\n",
	      f);
	/*
	 * Each help text is "ARG  description" or " description": aligned into
	 * columns here. A newline in the description starts a line of its own
	 * in the description's column.
	 */
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *h = opts[i].help;
		size_t arg = strcspn(h, " ");
		const char *sh = short_for(opts[i].name);
		char left[48];
		snprintf(left, sizeof(left), "%s%s--%s%s%.*s", sh ? sh : "", sh ? ", " : "", opts[i].name,
			 arg ? " " : "", (int)arg, h);
		const char *d = h + arg + strspn(h + arg, " ");
		size_t n = strcspn(d, "\n");
		fprintf(f, "  %-26s %.*s\n", left, (int)n, d);
		while (d[n] == '\n') {
			d += n + 1;
			n = strcspn(d, "\n");
			fprintf(f, "  %-26s %.*s\n", "", (int)n, d);
		}
	}
	fputs("\nExit status: 0 written, 64 usage, 65 input rejected, 70 internal error or a failed write,\n"
	      "73 OUTPUT cannot be created (checked before anything is decoded).\n"
	      "A video needs -o DIR/: its frames go to DIR/frame-000000.png ... (--to jpeg or webp for\n"
	      "those), then DIR/manifest.json, written last: its indices, times and the sampling. A DIR\n"
	      "that holds a manifest.json is refused; on a rejection nothing is left in DIR.\n",
	      f);
}

int cli_parse_u64(const char *s, uint64_t *v)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

/* ASCII case-insensitive equality of a's first n bytes and b, whatever the locale; b is lower case. */
static int name_eq_n(const char *a, const char *b, size_t n)
{
	for (; n && *a && *b; a++, b++, n--) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
		if (x != *b)
			return 0;
	}
	return (n == 0 || !*a) && !*b;
}

static int name_eq(const char *a, const char *b)
{
	return name_eq_n(a, b, strlen(a));
}

/*
 * The groups --allow takes besides the type names. "ogg" is neither: the
 * container holds Vorbis or Opus, which airlock tells apart (and reports
 * Vorbis alone as audio/ogg), so the caller is asked to say which.
 */
static const struct {
	const char *name;
	uint32_t mask;
} type_groups[] = {
	{ "image", AIRLOCK_TYPES_IMAGE },
	/* Audio is also what MP4 and Matroska files hold: an M4A voice note, a WebM clip. */
	{ "audio", AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA },
	{ "media", AIRLOCK_TYPES_MEDIA },
};

/* 0, or -1 with the offending item (or the whole list, when it is too long) at *bad. */
static int parse_types(const char *s, uint64_t *mask, const char **bad, size_t *badlen)
{
	*mask = 0;
	*bad = s;
	*badlen = strlen(s);
	for (const char *t = s;; t++) {
		size_t n = strcspn(t, ",");
		char item[16];
		if (n > 0 && n < sizeof(item)) {
			memcpy(item, t, n);
			item[n] = '\0';
			uint64_t m = 0;
			airlock_type ty = airlock_type_from_name(item);
			for (size_t g = 0; g < sizeof(type_groups) / sizeof(type_groups[0]); g++)
				if (name_eq(item, type_groups[g].name))
					m = type_groups[g].mask;
			if (!m && ty != AIRLOCK_TYPE_NONE)
				m = AIRLOCK_TYPE_BIT(ty);
			if (!m) {
				*bad = t;
				*badlen = n;
				return -1;
			}
			*mask |= m;
		} else if (n > 0) {
			*bad = t;
			*badlen = n;
			return -1;
		}
		t += n;
		if (!*t)
			break;
	}
	if (!*mask)
		*badlen = 0; /* only commas */
	return *mask ? 0 : -1;
}

static int parse_color(const char *s, uint64_t *v)
{
	if (!s)
		return -1;
	if (*s == '#')
		s++;
	if (strlen(s) != 6)
		return -1;
	uint64_t x = 0;
	for (int i = 0; i < 6; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 0;
}

static int add_set(struct cli_options *o, airlock_key key, uint64_t v)
{
	if (o->nsets == CLI_MAX_SETS)
		return -1;
	o->sets[o->nsets].key = key;
	o->sets[o->nsets].value = v;
	o->nsets++;
	return 0;
}

/*
 * The option a (as it appears in argv) names, or NULL; *val receives what
 * follows '=' in "--name=value", else NULL.
 */
static const struct opt *lookup(const char *a, const char **val)
{
	char name[32] = "";

	*val = NULL;
	for (size_t k = 0; k < sizeof(shorts) / sizeof(shorts[0]); k++)
		if (strcmp(a, shorts[k].flag) == 0)
			strcpy(name, shorts[k].name);
	if (!name[0] && a[0] == '-' && a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		if (n >= sizeof(name))
			return NULL;
		memcpy(name, a + 2, n);
		name[n] = '\0';
		if (eq)
			*val = eq + 1;
	}
	for (size_t k = 0; name[0] && k < sizeof(opts) / sizeof(opts[0]); k++)
		if (strcmp(opts[k].name, name) == 0)
			return &opts[k];
	return NULL;
}

static int takes_value(const struct opt *opt)
{
	return opt->kind != OPT_FLAG_KEY && opt->kind != OPT_FLAG_OFF && opt->kind != OPT_JSON &&
	       opt->kind != OPT_HELP && opt->kind != OPT_VERSION && opt->kind != OPT_ALL_FRAMES;
}

/*
 * A rate in frames a second as thousandths, read exactly from its decimal
 * digits (no floating point): "2", "0.5", "29.97". At most three decimals,
 * so that the rule gets milli / 1000.0, the double the caller wrote. 0, or
 * -1 when s is not such a number or is out of [min, max].
 */
static int parse_fps(const char *s, uint64_t min, uint64_t max, uint64_t *milli)
{
	uint64_t v = 0;
	int decimals = -1, digits = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || decimals == 3 || v > max)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		digits++;
		if (decimals >= 0)
			decimals++;
	}
	if (decimals == 0) /* "2." */
		return -1;
	for (int d = decimals < 0 ? 0 : decimals; d < 3; d++) {
		if (v > max)
			return -1;
		v *= 10;
	}
	if (!digits || v < min || v > max)
		return -1;
	*milli = v;
	return 0;
}

/* --sampling's names, as airlock_sampling values and in the manifest. */
static const char *const sampling_names[] = {
	[AIRLOCK_SAMPLING_VLLM] = "vllm",
	[AIRLOCK_SAMPLING_QWEN3] = "qwen3",
	[AIRLOCK_SAMPLING_QWEN_VL_UTILS] = "qwen_vl_utils",
};

static const char *sampling_name(uint64_t rule)
{
	return rule < sizeof(sampling_names) / sizeof(sampling_names[0]) && sampling_names[rule] ? sampling_names[rule]
												 : "vllm";
}

/* The value the last of o's settings gives key: 1 and *v, or 0 when none does. */
static int last_set(const struct cli_options *o, airlock_key key, uint64_t *v)
{
	for (size_t i = o->nsets; i-- > 0;)
		if (o->sets[i].key == key) {
			*v = o->sets[i].value;
			return 1;
		}
	return 0;
}

int cli_option_arity(const char *a)
{
	const char *val;
	const struct opt *opt = a ? lookup(a, &val) : NULL;
	if (!opt)
		return -1;
	return takes_value(opt) && !val;
}

#define TYPE_NAMES "png, jpeg (jpg), webp, gif, bmp, tiff (tif), wav, flac, vorbis, opus, mp3, aiff"

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return CLI_EXIT_USAGE;              \
	} while (0)

static int is_std(const char *name);
static const char *format_name(int fmt);

/* The formats a video's frames are written in, into a directory: none given (PNG), PNG, JPEG, WebP. */
static int frames_format(int fmt)
{
	return fmt == 0 || fmt == AIRLOCK_FORMAT_PNG || fmt == AIRLOCK_FORMAT_JPEG || fmt == AIRLOCK_FORMAT_WEBP;
}

/* The kinds of input an output format takes; 0 (no --to) and raw take both. */
static uint32_t format_kinds(int fmt)
{
	switch (fmt) {
	case AIRLOCK_FORMAT_PNG:
	case AIRLOCK_FORMAT_JPEG:
	case AIRLOCK_FORMAT_WEBP: return AIRLOCK_TYPES_IMAGE;
	case AIRLOCK_FORMAT_WAV:
	case AIRLOCK_FORMAT_FLAC: return AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA;
	default: return AIRLOCK_TYPES_IMAGE | AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA;
	}
}

#define CHECK_FAIL(...)                                     \
	do {                                                \
		if (errlen)                                 \
			snprintf(err, errlen, __VA_ARGS__); \
		return -1;                                  \
	} while (0)

/* The name of the first sampling option o holds (--frames, --fps, ...), or NULL. */
static const char *sampling_option(const struct cli_options *o)
{
	for (size_t i = 0; i < o->nsets; i++)
		switch (o->sets[i].key) {
		case AIRLOCK_VIDEO_SAMPLING: return "sampling";
		case AIRLOCK_VIDEO_NUM_FRAMES: return o->sets[i].value == AIRLOCK_UNSET ? "all-frames" : "frames";
		case AIRLOCK_VIDEO_FPS_MILLI: return "fps";
		case AIRLOCK_VIDEO_MIN_FRAMES: return "min-frames";
		case AIRLOCK_VIDEO_MAX_FRAMES: return "max-frames";
		default: break;
		}
	return NULL;
}

/*
 * The sampling options a rule reads (decoders/video.c): one that the rule
 * would ignore is refused, as --lossless is where it changes nothing.
 * qwen_vl_utils itself refuses nframes with fps (an assert in smart_nframes).
 */
static int check_sampling(const struct cli_options *o, char *err, size_t errlen)
{
	uint64_t rule = AIRLOCK_SAMPLING_VLLM, n = 0, x;
	int has_n = last_set(o, AIRLOCK_VIDEO_NUM_FRAMES, &n), has_fps = last_set(o, AIRLOCK_VIDEO_FPS_MILLI, &x);
	int has_min = last_set(o, AIRLOCK_VIDEO_MIN_FRAMES, &x), has_max = last_set(o, AIRLOCK_VIDEO_MAX_FRAMES, &x);
	/* vllm has no max_frames of its own: the library takes one as a cap on num_frames. */
	const char *n_name = n == AIRLOCK_UNSET ? "all-frames" : "frames";

	last_set(o, AIRLOCK_VIDEO_SAMPLING, &rule);
	if (rule == AIRLOCK_SAMPLING_VLLM && has_min)
		CHECK_FAIL("--min-frames is for --sampling qwen3 or qwen_vl_utils; vllm takes --frames, --fps and "
			   "--max-frames");
	if (rule == AIRLOCK_SAMPLING_QWEN3 && has_n)
		CHECK_FAIL("--%s is not for --sampling qwen3, which takes --fps, --min-frames and --max-frames",
			   n_name);
	if (rule == AIRLOCK_SAMPLING_QWEN_VL_UTILS && has_n && n == AIRLOCK_UNSET)
		CHECK_FAIL("--all-frames is vLLM's num_frames -1: for --sampling vllm only");
	if (rule == AIRLOCK_SAMPLING_QWEN_VL_UTILS && has_n && (has_fps || has_min || has_max))
		CHECK_FAIL("--sampling qwen_vl_utils takes --frames, or --fps with --min-frames and --max-frames, "
			   "not both");
	return 0;
}

/*
 * The checks that depend on what OUTPUT is: one file (dir 0), or a
 * directory of a video's frames (dir 1). 0, or -1 with a one-line reason
 * in err (which may be NULL with errlen 0).
 */
static int check_output(const struct cli_options *o, int dir, char *err, size_t errlen)
{
	const uint32_t allow = dir ? o->allow_video : o->allow, bit = AIRLOCK_TYPE_BIT(o->expect);
	const char *opt = sampling_option(o);

	if (dir) {
		if (!allow)
			CHECK_FAIL("--allow leaves no video type (mp4, matroska) for a directory OUTPUT");
		if (o->expect && !(bit & AIRLOCK_TYPES_MEDIA))
			CHECK_FAIL("--expect %s: a directory OUTPUT takes video: mp4 or matroska",
				   airlock_type_name(o->expect));
		if (o->expect && !(allow & bit))
			CHECK_FAIL("--expect names a type that --allow excludes");
		for (size_t k = 0; o->to != AIRLOCK_FORMAT_WEBP && k < o->nsets; k++)
			if (o->sets[k].key == AIRLOCK_WEBP_LOSSLESS)
				CHECK_FAIL("--lossless is for WebP frames: give --to webp too");
		return 0;
	}
	if (!allow)
		CHECK_FAIL("--allow leaves no input type that --to can write");
	if (o->expect && !(allow & bit) && !o->allow_given && (format_kinds(o->to) & bit))
		CHECK_FAIL("--expect %s: %s is off by default; give --allow %s too", airlock_type_name(o->expect),
			   airlock_type_name(o->expect), airlock_type_name(o->expect));
	if (o->expect && !(allow & bit))
		CHECK_FAIL("--expect names a type that --allow or --to excludes");
	/* Anywhere else it would change nothing, and a caller who asked for lossless should hear so. */
	for (size_t k = 0; o->to && o->to != AIRLOCK_FORMAT_WEBP && k < o->nsets; k++)
		if (o->sets[k].key == AIRLOCK_WEBP_LOSSLESS)
			CHECK_FAIL("--lossless is for WebP output: give --to webp, or no --to for a WebP input");
	if (opt && !frames_format(o->to))
		CHECK_FAIL("--%s is for a video's frames, written into a directory; --to %s writes one file", opt,
			   format_name(o->to));
	if (opt)
		CHECK_FAIL("--%s is for a video's frames, written into a directory: give -o DIR/", opt);
	return 0;
}

int cli_parse(int argc, char *const argv[], struct cli_options *o, char *err, size_t errlen)
{
	int only_positional = 0;

	*o = (struct cli_options){ 0 };
	if (errlen)
		err[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!a)
			FAIL("null argument");
		if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->input)
				FAIL("more than one INPUT");
			o->input = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_positional = 1;
			continue;
		}
		const char *val;
		const struct opt *opt = lookup(a, &val);
		if (!opt)
			FAIL("unknown option '%.40s'", a);

		if (takes_value(opt) && !val) {
			if (i + 1 >= argc || !argv[i + 1])
				FAIL("option --%s needs a value", opt->name);
			val = argv[++i];
		} else if (!takes_value(opt) && val) {
			FAIL("option --%s takes no value", opt->name);
		}

		uint64_t v = 0;
		switch (opt->kind) {
		case OPT_NUM:
			if (cli_parse_u64(val, &v) || v < opt->min || v > opt->max)
				FAIL("--%s needs a whole number from %" PRIu64 " to %" PRIu64, opt->name, opt->min,
				     opt->max);
			if (add_set(o, opt->key, v * opt->scale))
				FAIL("too many options");
			break;
		case OPT_FLAG_KEY:
		case OPT_FLAG_OFF:
			if (add_set(o, opt->key, opt->kind == OPT_FLAG_KEY))
				FAIL("too many options");
			break;
		case OPT_TYPES: {
			const char *bad;
			size_t badlen;
			if (parse_types(val, &v, &bad, &badlen) == 0) {
				o->allow = (uint32_t)v;
				o->allow_given = 1;
				break;
			}
			if (badlen == 0)
				FAIL("--allow needs a list of type names: " TYPE_NAMES ", or image, audio");
			if (badlen == 3 && name_eq_n(bad, "ogg", 3))
				FAIL("--allow: ogg is a container of vorbis or opus: name either or both");
			FAIL("--allow: unknown type '%.*s'; known: " TYPE_NAMES ", and image, audio",
			     (int)(badlen > 20 ? 20 : badlen), bad);
		}
		case OPT_COLOR:
			if (parse_color(val, &v))
				FAIL("--background needs a colour as RRGGBB");
			if (add_set(o, opt->key, v))
				FAIL("too many options");
			break;
		case OPT_TO:
			if (name_eq(val, "png"))
				o->to = AIRLOCK_FORMAT_PNG;
			else if (name_eq(val, "jpeg") || name_eq(val, "jpg"))
				o->to = AIRLOCK_FORMAT_JPEG;
			else if (name_eq(val, "webp"))
				o->to = AIRLOCK_FORMAT_WEBP;
			else if (name_eq(val, "raw"))
				o->to = AIRLOCK_FORMAT_RAW;
			else if (name_eq(val, "wav"))
				o->to = AIRLOCK_FORMAT_WAV;
			else if (name_eq(val, "flac"))
				o->to = AIRLOCK_FORMAT_FLAC;
			else
				FAIL("--to: unknown format '%.20s'; known: png, jpeg, webp, wav, flac, raw", val);
			break;
		case OPT_SAMPLE_FORMAT:
			if (name_eq(val, "s16"))
				o->sample_format = AIRLOCK_SAMPLE_S16;
			else if (name_eq(val, "f32"))
				o->sample_format = AIRLOCK_SAMPLE_F32;
			else
				FAIL("--sample-format: unknown sample format '%.20s'; known: s16, f32", val);
			break;
		case OPT_EXPECT:
			o->expect = airlock_type_from_name(val);
			if (o->expect == AIRLOCK_TYPE_NONE && name_eq(val, "ogg"))
				FAIL("--expect: ogg is a container of vorbis or opus: name one");
			if (o->expect == AIRLOCK_TYPE_NONE)
				FAIL("--expect: unknown type '%.20s'; known: " TYPE_NAMES, val);
			break;
		case OPT_OUTPUT:
			if (o->output)
				FAIL("more than one OUTPUT");
			if (!*val)
				FAIL("empty OUTPUT name");
			o->output = val;
			break;
		case OPT_LOG:
			if (o->log)
				FAIL("more than one --log");
			if (!*val)
				FAIL("empty --log name");
			o->log = val;
			break;
		case OPT_ALL_FRAMES:
			if (add_set(o, opt->key, AIRLOCK_UNSET))
				FAIL("too many options");
			break;
		case OPT_FPS:
			if (parse_fps(val, opt->min, opt->max, &v))
				FAIL("--fps needs a rate from 0.001 to 1000000, with at most 3 decimals");
			if (add_set(o, opt->key, v))
				FAIL("too many options");
			break;
		case OPT_SAMPLING:
			for (v = AIRLOCK_SAMPLING_VLLM; v <= AIRLOCK_SAMPLING_QWEN_VL_UTILS; v++)
				if (name_eq(val, sampling_names[v]))
					break;
			if (v > AIRLOCK_SAMPLING_QWEN_VL_UTILS)
				FAIL("--sampling: unknown rule '%.20s'; known: vllm, qwen3, qwen_vl_utils", val);
			if (add_set(o, opt->key, v))
				FAIL("too many options");
			break;
		case OPT_JSON: o->json = 1; break;
		case OPT_HELP: o->help = 1; break;
		case OPT_VERSION: o->version = 1; break;
		}
	}
	/* An output format takes only its own kind of input: --to wav rejects an image as its type. */
	/* The library's default, so the command line refuses what a program using the library would. */
	uint32_t base = o->allow_given ? o->allow : AIRLOCK_TYPES_DEFAULT;
	o->allow = base & format_kinds(o->to);
	o->allow_video = frames_format(o->to) ? base & AIRLOCK_TYPES_MEDIA : 0;
	o->output_dir = frames_format(o->to) && !is_std(o->output) && o->output[strlen(o->output) - 1] == '/';
	if (check_sampling(o, err, errlen) != 0)
		return CLI_EXIT_USAGE;
	if (o->output_dir) {
		if (check_output(o, 1, err, errlen) != 0)
			return CLI_EXIT_USAGE;
		o->allow = o->allow_video;
	} else if (check_output(o, 0, err, errlen) != 0) {
		/* A named OUTPUT may be an existing directory: cli_run() finds out, and says err's reason if not. */
		if (!frames_format(o->to) || is_std(o->output) || check_output(o, 1, NULL, 0) != 0)
			return CLI_EXIT_USAGE;
		o->dir_only = 1;
		o->allow = o->allow_video;
		if (errlen)
			err[0] = '\0';
	}
	if (!o->sample_format)
		o->sample_format = AIRLOCK_SAMPLE_S16;
	for (size_t k = 0; o->to == AIRLOCK_FORMAT_FLAC && k < o->nsets; k++)
		if (o->sets[k].key == AIRLOCK_OUT_RATE && o->sets[k].value > CLI_FLAC_MAX_RATE)
			FAIL("--to flac holds rates up to %u Hz", CLI_FLAC_MAX_RATE);
	return 0;
}

/* ---- running ---- */

static int is_std(const char *name)
{
	return !name || strcmp(name, "-") == 0;
}

/* JSON string: escapes quotes, backslashes and controls; invalid UTF-8 becomes U+FFFD. */
void cli_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc((int)c, f);
			p++;
		} else {
			size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			size_t k = 1;
			while (n && k < n && (p[k] & 0xc0) == 0x80)
				k++;
			if (n && k == n) {
				fwrite(p, 1, n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);
				p++;
			}
		}
	}
	fputc('"', f);
}

/* ,"key":["name",...]: the names of mask's bits in bit order (unknown bits left out). */
static void json_bits(FILE *f, const char *key, uint32_t mask, const char *(*name)(uint32_t bit))
{
	fprintf(f, ",\"%s\":[", key);
	int first = 1;
	for (uint32_t bit = 1; bit; bit <<= 1) {
		const char *n = (mask & bit) ? name(bit) : NULL;
		if (n) {
			fprintf(f, "%s\"%s\"", first ? "" : ",", n);
			first = 0;
		}
	}
	fputc(']', f);
}

static const char *error_class_name(int rc)
{
	switch (airlock_error_classify(rc)) {
	case AIRLOCK_CLASS_OK: return "ok";
	case AIRLOCK_CLASS_REJECTED: return "rejected";
	case AIRLOCK_CLASS_SANDBOX: return "sandbox";
	case AIRLOCK_CLASS_CALLER: return "caller";
	default: return "internal";
	}
}

static const char *key_name(uint32_t key)
{
	switch (key) {
	case AIRLOCK_MAX_INPUT_BYTES: return "max_bytes";
	case AIRLOCK_MAX_WIDTH: return "max_width";
	case AIRLOCK_MAX_HEIGHT: return "max_height";
	case AIRLOCK_MAX_PIXELS: return "max_pixels";
	case AIRLOCK_MEMORY_BYTES: return "memory";
	case AIRLOCK_CPU_MS: return "cpu";
	case AIRLOCK_TIMEOUT_MS: return "timeout";
	case AIRLOCK_MAX_JPEG_SCANS: return "max_scans";
	case AIRLOCK_MAX_JPEG_COEFFS: return "max_jpeg_coeffs";
	case AIRLOCK_MAX_PNG_INFLATED_BYTES: return "max_inflated_bytes";
	case AIRLOCK_MAX_ICC_BYTES: return "max_icc_bytes";
	case AIRLOCK_ALLOWED_TYPES: return "allow";
	case AIRLOCK_MAX_SECONDS: return "max_seconds";
	case AIRLOCK_MAX_DECODED_BYTES: return "max_decoded_bytes";
	case AIRLOCK_MIN_RATE: return "min_rate";
	case AIRLOCK_MAX_RATE: return "max_rate";
	case AIRLOCK_MAX_CHANNELS: return "max_channels";
	case AIRLOCK_MAX_AUDIO_INPUT_BYTES: return "max_audio_bytes";
	case AIRLOCK_OUT_RATE: return "rate";
	case AIRLOCK_VIDEO_MAX_SAMPLED_FRAMES: return "video_max_sampled_frames";
	case AIRLOCK_VIDEO_MAX_DECODED_FRAMES: return "video_max_decoded_frames";
	case AIRLOCK_VIDEO_MAX_DECODED_PIXELS: return "video_max_decoded_pixels";
	case AIRLOCK_VIDEO_MAX_FRAME_PIXELS: return "video_max_frame_pixels";
	case AIRLOCK_VIDEO_MAX_OUTPUT_BYTES: return "video_max_output_bytes";
	case AIRLOCK_VIDEO_CPU_MS: return "video_cpu";
	case AIRLOCK_VIDEO_TIMEOUT_MS: return "video_timeout";
	default: return NULL;
	}
}

void cli_helper_failure(FILE *err, const char *helper, int why)
{
	/* Which program, why, and the two ways to fix it: "helper" alone sent people to the source. */
	const char *env = secure_getenv("AIRLOCK_ZYGOTE"), *slash = strrchr(helper, '/');
	fprintf(err, "airlock: cannot start helper ");
	cli_json_str(err, helper);
	fprintf(err, ": %s",
		why == EPIPE	? "it ended before its hello: not an airlock-zygote, or it could not start"
		: why == EPROTO ? "not the airlock-zygote of this library's version"
				: strerror(why));
	if (env && *env)
		fprintf(err, " (AIRLOCK_ZYGOTE names it: point it at airlock-zygote, or unset it)\n");
	else
		fprintf(err, " (set AIRLOCK_ZYGOTE, or install airlock-zygote in %.*s)\n",
			slash ? (int)(slash - helper) : 0, helper);
}

const char *cli_status(int rc)
{
	if (rc == AIRLOCK_OK)
		return "ok";
	if (airlock_error_classify(rc) == AIRLOCK_CLASS_REJECTED || airlock_error_classify(rc) == AIRLOCK_CLASS_SANDBOX)
		return "rejected";
	return "error";
}

void cli_report_fields(FILE *f, const char *input, const char *status, int rc, const airlock_report *rep,
		       const airlock_result *r)
{
	if (!status)
		status = cli_status(rc);
	fprintf(f, "{\"input\":");
	cli_json_str(f, input);
	fprintf(f, ",\"status\":\"%s\",\"error\":", status);
	if (rc == AIRLOCK_OK)
		fputs("null", f);
	else
		fprintf(f, "\"%s\"", airlock_error_name(rc));
	airlock_type t = r ? airlock_result_type(r) : rep->type;
	if (t == AIRLOCK_TYPE_NONE)
		fputs(",\"type\":null", f);
	else
		fprintf(f, ",\"type\":\"%s\"", airlock_type_mime(t));
	/* The same keys in every report; null where they do not apply. */
	airlock_video_info info = { .size = sizeof(info) };
	if (r && airlock_result_video(r, &info) == AIRLOCK_OK)
		fprintf(f,
			",\"width\":%" PRIu32 ",\"height\":%" PRIu32 ",\"channels\":%" PRIu32
			",\"rate\":null,\"frames\":%" PRIu64 ",\"seconds\":%.6f",
			airlock_result_width(r), airlock_result_height(r), airlock_result_channels(r),
			airlock_result_frames(r), (double)info.duration_us / 1e6);
	else if (r && airlock_result_sample_format(r) != AIRLOCK_SAMPLE_U8)
		fprintf(f,
			",\"width\":null,\"height\":null,\"channels\":%" PRIu32 ",\"rate\":%" PRIu32
			",\"frames\":%" PRIu64 ",\"seconds\":%.6f",
			airlock_result_channels(r), airlock_result_rate(r), airlock_result_frames(r),
			(double)airlock_result_frames(r) / airlock_result_rate(r));
	else if (r)
		fprintf(f,
			",\"width\":%" PRIu32 ",\"height\":%" PRIu32 ",\"channels\":%" PRIu32
			",\"rate\":null,\"frames\":null,\"seconds\":null",
			airlock_result_width(r), airlock_result_height(r), airlock_result_channels(r));
	else
		fputs(",\"width\":null,\"height\":null,\"channels\":null,\"rate\":null,\"frames\":null,\"seconds\":"
		      "null",
		      f);
	json_bits(f, "changes", r ? airlock_result_changes(r) : 0, airlock_change_name);
	json_bits(f, "layers", rep->layers, airlock_layer_name);
	/* Only from the library's own table: a MIME type it names but does not decode (unsupported). */
	if (rep->mime && rc != AIRLOCK_OK) {
		fputs(",\"mime\":", f);
		cli_json_str(f, rep->mime);
	}
	const char *lim = key_name(rep->limit);
	if (lim && rc != AIRLOCK_OK)
		fprintf(f, ",\"limit\":\"%s\"", lim);
	fprintf(f, ",\"elapsed_ms\":%.3f", (double)rep->elapsed_us / 1000.0);
}

static void report_json(FILE *f, const struct cli_options *o, int rc, const airlock_report *rep,
			const airlock_result *r)
{
	cli_report_fields(f, is_std(o->input) ? "-" : o->input, NULL, rc, rep, r);
	fputs("}\n", f);
	fflush(f);
}

static int fd_write(void *user, const void *buf, size_t n);

/*
 * One JSON line per event, written with a single write() to a file opened
 * with O_APPEND, so concurrent airlock processes sharing a log never
 * interleave inside a line. Numbers and names only, never input bytes.
 */
void cli_log_event(void *user, const airlock_event *ev)
{
	const struct cli_event_log *log = user;
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	if (!f)
		return;
	time_t s = (time_t)(ev->time_us / 1000000);
	struct tm tm;
	char when[32] = "";
	gmtime_r(&s, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "{\"time\":\"%s.%06" PRIu64 "Z\",\"input\":", when, ev->time_us % 1000000);
	cli_json_str(f, is_std(log->input) ? "-" : log->input);
	fprintf(f, ",\"error\":\"%s\",\"class\":\"%s\",\"type\":", airlock_error_name(ev->error),
		error_class_name(ev->error));
	if (ev->type == AIRLOCK_TYPE_NONE)
		fputs("null", f);
	else
		fprintf(f, "\"%s\"", airlock_type_mime(ev->type));
	fputs(",\"expect\":", f);
	if (ev->expect == AIRLOCK_TYPE_NONE)
		fputs("null", f);
	else
		fprintf(f, "\"%s\"", airlock_type_mime(ev->expect));
	fprintf(f, ",\"input_bytes\":%" PRIu64 ",\"elapsed_ms\":%.3f,\"limit\":", ev->input_bytes,
		(double)ev->elapsed_us / 1000.0);
	const char *lim = key_name(ev->limit);
	if (lim)
		fprintf(f, "\"%s\"", lim);
	else
		fputs("null", f);
	json_bits(f, "layers", ev->layers, airlock_layer_name);
	if (ev->size >= offsetof(airlock_event, mime) + sizeof(ev->mime) && ev->mime) {
		fputs(",\"mime\":", f);
		cli_json_str(f, ev->mime);
	}
	if (log->helper) {
		fputs(",\"helper\":", f);
		cli_json_str(f, log->helper);
		fputs(",\"reason\":", f);
		cli_json_str(f, strerror(log->helper_errno));
	}
	fputs("}\n", f);
	if (fclose(f) == 0)
		fd_write((void *)&log->fd, line, len);
	free(line);
}

static int exit_for(int rc)
{
	switch (airlock_error_classify(rc)) {
	case AIRLOCK_CLASS_OK: return CLI_EXIT_OK;
	case AIRLOCK_CLASS_REJECTED:
	case AIRLOCK_CLASS_SANDBOX: return CLI_EXIT_REJECTED;
	default: return CLI_EXIT_INTERNAL;
	}
}

/* Reads at most max+1 bytes, so an oversized input is known without reading it all. */
int cli_read_input(int fd, uint64_t max, uint8_t **out, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if ((uint64_t)cap > max) /* already past the limit */
				break;
			uint8_t *p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
		size_t want = cap - n;
		if ((uint64_t)(n + want) > max + 1)
			want = (size_t)(max + 1 - n);
		if (want == 0)
			break;
		ssize_t r = read(fd, buf + n, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int fd_write(void *user, const void *buf, size_t n)
{
	int fd = *(int *)user;
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A write function that keeps the errno of its failure, for the message. */
struct sink {
	int fd;
	int err;
};

static int sink_write(void *user, const void *buf, size_t n)
{
	struct sink *k = user;
	if (fd_write(&k->fd, buf, n) != 0) {
		k->err = errno;
		return -1;
	}
	return 0;
}

static int output_fail(struct cli_output *out, int err, const char *reason)
{
	out->err = err;
	out->reason = reason;
	return -1;
}

/* dir/.airlock-XXXXXX for target, or NULL when out of memory; the caller frees it. */
static char *temp_name(const char *target)
{
	const char *slash = strrchr(target, '/');
	size_t dir = slash ? (size_t)(slash - target) + 1 : 0;
	char *tmp = malloc(dir + sizeof(".airlock-XXXXXX"));
	if (tmp) {
		memcpy(tmp, target, dir);
		strcpy(tmp + dir, ".airlock-XXXXXX");
	}
	return tmp;
}

/*
 * Creates a file in target's directory and removes it again, so that a
 * missing or read-only directory is known before a decode rather than
 * after it. O_TMPFILE gives the file no name, so nothing is left behind
 * even if airlock is killed meanwhile; a file system without it gets a
 * named file, unlinked at once. The directory can still change before the
 * commit; that is then a late failure, reported the same way.
 */
static int probe_dir(const char *target)
{
	char *tmp = temp_name(target);
	if (!tmp)
		return ENOMEM;
	size_t dir = strlen(tmp) - strlen(".airlock-XXXXXX");
	int fd = -1, e = 0;
#ifdef O_TMPFILE
	char *d = dir ? strndup(tmp, dir) : strdup(".");
	if (!d) {
		free(tmp);
		return ENOMEM;
	}
	fd = open(d, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	e = fd < 0 ? errno : 0;
	free(d);
	/* These say only that the file system lacks O_TMPFILE, not that the directory is unusable. */
	if (fd < 0 && e != EOPNOTSUPP && e != EISDIR && e != EINVAL)
		goto out;
#endif
	if (fd < 0) {
		fd = mkostemp(tmp, O_CLOEXEC);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			unlink(tmp);
	}
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	return e;
}

int cli_output_open(struct cli_output *out, const char *path, mode_t new_mode)
{
	struct stat st;

	*out = (struct cli_output){ .name = is_std(path) ? NULL : path, .fd = -1 };
	if (!out->name) {
		out->fd = 1;
		return 0;
	}
	/*
	 * A symlink to nothing is refused, as GNU cp refuses it: following it
	 * would create a file wherever someone who could write the link's
	 * folder chose, and replacing it would drop a link the caller made.
	 */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && stat(path, &st) != 0)
		return output_fail(out, errno,
				   errno == ENOENT ? "a symbolic link to nothing (airlock does not follow it)" : NULL);
	int exists = stat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return output_fail(out, errno, NULL);
	if (exists && S_ISDIR(st.st_mode))
		return output_fail(out, EISDIR, NULL);
	if (exists && !S_ISREG(st.st_mode)) {
		out->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		return out->fd < 0 ? output_fail(out, errno, NULL) : 0;
	}
	/* rename() would replace a read-only file; its mode says the caller's own writes are not wanted. */
	if (exists && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0)
		return output_fail(out, errno, NULL);
	out->target = exists ? realpath(path, NULL) : strdup(path);
	if (!out->target)
		return output_fail(out, exists ? errno : ENOMEM, NULL);
	out->mode = exists ? st.st_mode & 07777 : new_mode;
	int e = probe_dir(out->target);
	return e ? output_fail(out, e, NULL) : 0;
}

int cli_output_commit(struct cli_output *out, const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt)
{
	struct sink k = { .fd = out->fd };
	int rc;

	if (!out->target) {
		/* Encoded whole before the first byte goes out: a failed encode leaves the stream untouched. */
		uint8_t *enc = NULL;
		size_t len = 0;
		rc = airlock_encode_to_memory(ctx, r, fmt, &enc, &len);
		if (rc == AIRLOCK_OK && sink_write(&k, enc, len) != 0)
			rc = AIRLOCK_E_IO;
		free(enc);
		if (out->fd > 1) {
			if (close(out->fd) != 0 && rc == AIRLOCK_OK) {
				k.err = errno;
				rc = AIRLOCK_E_IO;
			}
			out->fd = -1;
		}
		out->err = k.err;
		return rc;
	}
	char *tmp = temp_name(out->target);
	if (!tmp)
		return AIRLOCK_E_NOMEM;
	k.fd = mkostemp(tmp, O_CLOEXEC);
	if (k.fd < 0) {
		out->err = errno;
		free(tmp);
		return AIRLOCK_E_IO;
	}
	rc = airlock_encode(ctx, r, fmt, sink_write, &k);
	if (rc == AIRLOCK_OK && (fchmod(k.fd, out->mode) != 0 || fsync(k.fd) != 0)) {
		k.err = errno;
		rc = AIRLOCK_E_IO;
	}
	if (close(k.fd) != 0 && rc == AIRLOCK_OK) {
		k.err = errno;
		rc = AIRLOCK_E_IO;
	}
	if (rc == AIRLOCK_OK && rename(tmp, out->target) != 0) {
		k.err = errno;
		rc = AIRLOCK_E_IO;
	}
	if (rc != AIRLOCK_OK)
		unlink(tmp);
	free(tmp);
	out->err = k.err;
	return rc;
}

void cli_output_close(struct cli_output *out)
{
	if (out->fd > 1)
		close(out->fd);
	out->fd = -1;
	free(out->target);
	out->target = NULL;
}

const char *cli_output_reason(const struct cli_output *out)
{
	return out->reason ? out->reason : strerror(out->err);
}

int cli_write_at(const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt, int dirfd, const char *name,
		 mode_t new_mode)
{
	struct stat st;
	mode_t mode = new_mode;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			return AIRLOCK_E_IO;
		mode = st.st_mode & 07777;
	} else if (errno != ENOENT) {
		return AIRLOCK_E_IO;
	}
	/* mkostemp() takes a path; this is its loop, relative to dirfd. */
	char tmp[32];
	int fd = -1;
	for (unsigned i = 0; fd < 0 && i < 100; i++) {
		unsigned x =
			(unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL) ^ i * 40503u ^ (unsigned)(uintptr_t)&st;
		snprintf(tmp, sizeof(tmp), ".airlock-%08x", x);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return AIRLOCK_E_IO;
	}
	if (fd < 0)
		return AIRLOCK_E_IO;
	int rc = airlock_encode(ctx, r, fmt, fd_write, &fd);
	if (rc == AIRLOCK_OK && (fchmod(fd, mode) != 0 || fsync(fd) != 0))
		rc = AIRLOCK_E_IO;
	if (close(fd) != 0 && rc == AIRLOCK_OK)
		rc = AIRLOCK_E_IO;
	/* renameat replaces the entry itself: whatever took its place meanwhile, nothing is followed. */
	if (rc == AIRLOCK_OK && renameat(dirfd, tmp, dirfd, name) != 0)
		rc = AIRLOCK_E_IO;
	if (rc != AIRLOCK_OK)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

/*
 * ---- A directory of a video's frames (-o DIR/) ----
 *
 * frames_dir_open() runs before the input is read, as cli_output_open()
 * does: it creates DIR when it is missing and refuses one that already
 * holds a manifest.json or frame files. frames_dir_commit() writes the
 * frames, each a new file (O_EXCL, never replacing anything), and then
 * manifest.json through a temporary name, so a manifest means the frames
 * are complete. frames_dir_close() leaves nothing of a run that did not get
 * there: the files it made are removed, and DIR too when it made DIR.
 */
struct frames_dir {
	const char *name; /* as given, for messages; borrowed */
	char *path;	  /* name without its trailing slashes: what mkdir() and rmdir() take */
	int fd;		  /* the directory, or -1 */
	int created;	  /* this run made the directory */
	int done;	  /* manifest.json is in place: the run's files stay */
	mode_t mode;	  /* of the manifest: 0666 less the umask, as the frames get from open() */
	uint64_t written; /* frame files 0 .. written-1 exist, made by this run */
	int digits;	  /* of the frame numbers in their names */
	const char *ext;
	char tmp[32];	    /* the manifest's temporary name while it exists, else "" */
	char file[64];	    /* the file a failure concerns, or "" for the directory itself */
	int err;	    /* errno of the last failure, 0 if none */
	const char *reason; /* a static reason in place of strerror(err), or NULL */
};

#define MANIFEST "manifest.json"

static int dir_fail(struct frames_dir *d, int err, const char *reason)
{
	d->err = err;
	d->reason = reason;
	return -1;
}

static void frame_name(const struct frames_dir *d, uint64_t i, char *buf, size_t len)
{
	snprintf(buf, len, "frame-%0*" PRIu64 ".%s", d->digits, i, d->ext);
}

/* "frame-" and six or more digits, then a dot: a name this or an earlier run wrote. */
static int is_frame_name(const char *n)
{
	if (strncmp(n, "frame-", 6) != 0)
		return 0;
	size_t k = strspn(n + 6, "0123456789");
	return k >= 6 && n[6 + k] == '.';
}

/* 1 when the directory at dfd holds a frame file, 0 when not, -1 with errno when it cannot be read. */
static int holds_frames(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int found = 0;
	struct dirent *e;
	errno = 0;
	while (!found && (e = readdir(dir)) != NULL)
		found = is_frame_name(e->d_name);
	int bad = !found && errno != 0;
	closedir(dir);
	return bad ? -1 : found;
}

/* Makes a file in the directory at dfd and removes it again: 0, or the errno that says it cannot be written. */
static int probe_at(int dfd)
{
	int fd = -1;
#ifdef O_TMPFILE
	fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return errno;
#endif
	char tmp[32];
	for (unsigned i = 0; fd < 0 && i < 100; i++) {
		snprintf(tmp, sizeof(tmp), ".airlock-%08x", (unsigned)getpid() * 2654435761u ^ i * 40503u);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return errno;
		if (fd >= 0)
			unlinkat(dfd, tmp, 0);
	}
	if (fd < 0)
		return EEXIST;
	close(fd);
	return 0;
}

/*
 * Opens (creating it if missing) the directory name for a video's frames,
 * before anything is decoded. new_mode is that of new files (0666 less the
 * umask). 0, or -1 with d->err (and maybe d->reason) set: the exit status
 * is then CLI_EXIT_CANTCREAT. Release d with frames_dir_close() in every
 * case.
 */
static int frames_dir_open(struct frames_dir *d, const char *name, mode_t new_mode)
{
	struct stat st;
	size_t n = strlen(name);

	*d = (struct frames_dir){ .name = name, .fd = -1, .mode = new_mode };
	while (n > 1 && name[n - 1] == '/')
		n--;
	d->path = strndup(name, n);
	if (!d->path)
		return dir_fail(d, ENOMEM, NULL);
	if (mkdir(d->path, 0777) == 0)
		d->created = 1;
	else if (errno != EEXIST)
		return dir_fail(d, errno, NULL);
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		int e = errno;
		if (e == ENOENT && lstat(d->path, &st) == 0 && S_ISLNK(st.st_mode))
			return dir_fail(d, e, "a symbolic link to nothing (airlock does not follow it)");
		return dir_fail(d, e, NULL);
	}
	if (fstatat(d->fd, MANIFEST, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return dir_fail(d, EEXIST,
				"it holds a " MANIFEST
				", an earlier run's frames (remove them, or name a new directory)");
	if (errno != ENOENT)
		return dir_fail(d, errno, NULL);
	int frames = holds_frames(d->fd);
	if (frames != 0)
		return dir_fail(d, frames < 0 ? errno : EEXIST,
				frames < 0 ? NULL
					   : "it holds frame files of an earlier run that did not finish (remove "
					     "them, or name a new directory)");
	int e = probe_at(d->fd);
	return e ? dir_fail(d, e, NULL) : 0;
}

/* The manifest's "fps" request: thousandths as the shortest decimal that is exactly them. */
static void json_milli(FILE *f, uint64_t milli)
{
	fprintf(f, "%" PRIu64, milli / 1000);
	unsigned frac = (unsigned)(milli % 1000);
	if (frac) {
		int w = 3;
		for (; frac % 10 == 0; frac /= 10)
			w--;
		fprintf(f, ".%0*u", w, frac);
	}
}

/* ,"key":N as the request gave it (-1: AIRLOCK_UNSET), or null when it did not. */
static void json_request(FILE *f, const struct cli_options *o, const char *name, airlock_key key)
{
	uint64_t v;
	fprintf(f, ",\"%s\":", name);
	if (!last_set(o, key, &v))
		fputs("null", f);
	else if (v == AIRLOCK_UNSET)
		fputs("-1", f);
	else if (key == AIRLOCK_VIDEO_FPS_MILLI)
		json_milli(f, v);
	else
		fprintf(f, "%" PRIu64, v);
}

static void manifest_json(FILE *f, const struct frames_dir *d, const struct cli_options *o, const airlock_ctx *ctx,
			  const airlock_result *r, const airlock_video_info *info)
{
	uint64_t rule = AIRLOCK_SAMPLING_VLLM, cap = 0;
	airlock_get(ctx, AIRLOCK_VIDEO_SAMPLING, &rule);
	airlock_get(ctx, AIRLOCK_VIDEO_MAX_SAMPLED_FRAMES, &cap);
	fprintf(f, "{\"type\":\"%s\",\"sampling\":{\"rule\":\"%s\"", airlock_type_mime(airlock_result_type(r)),
		sampling_name(rule));
	json_request(f, o, "num_frames", AIRLOCK_VIDEO_NUM_FRAMES);
	json_request(f, o, "fps", AIRLOCK_VIDEO_FPS_MILLI);
	json_request(f, o, "min_frames", AIRLOCK_VIDEO_MIN_FRAMES);
	json_request(f, o, "max_frames", AIRLOCK_VIDEO_MAX_FRAMES);
	fprintf(f, ",\"max_sampled_frames\":%" PRIu64 "},\n\"frames_seen\":%" PRIu64 ",\"fps\":", cap,
		info->frames_seen);
	if (info->fps_num && info->fps_den)
		fprintf(f, "[%" PRIu32 ",%" PRIu32 "]", info->fps_num, info->fps_den);
	else
		fputs("null", f);
	fprintf(f,
		",\"duration_us\":%" PRIu64 ",\"source\":{\"width\":%" PRIu32 ",\"height\":%" PRIu32
		",\"rotation\":%" PRIu32 "},\"width\":%" PRIu32 ",\"height\":%" PRIu32,
		info->duration_us, info->src_width, info->src_height, info->rotation, airlock_result_width(r),
		airlock_result_height(r));
	json_bits(f, "changes", airlock_result_changes(r), airlock_change_name);
	fputs(",\n\"frames\":[", f);
	const uint64_t *idx = airlock_result_video_indices(r);
	const int64_t *pts = airlock_result_video_pts_us(r);
	for (uint64_t i = 0; i < airlock_result_frames(r); i++) {
		char name[64];
		frame_name(d, i, name, sizeof(name));
		fprintf(f, "%s\n{\"file\":\"%s\",\"index\":%" PRIu64 ",\"pts_us\":%" PRId64 "}", i ? "," : "", name,
			idx[i], pts[i]);
	}
	fputs("\n]}\n", f);
}

/* Writes buf to a new temporary file in d and renames it to MANIFEST, never over one. An airlock_error. */
static int manifest_write(struct frames_dir *d, const char *buf, size_t len)
{
	int fd = -1;
	for (unsigned i = 0; fd < 0 && i < 100; i++) {
		snprintf(d->tmp, sizeof(d->tmp), ".airlock-%08x",
			 (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL) ^ i * 40503u);
		fd = openat(d->fd, d->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		d->err = errno;
		d->tmp[0] = '\0';
		return AIRLOCK_E_IO;
	}
	struct sink k = { .fd = fd };
	int rc = sink_write(&k, buf, len) == 0 ? AIRLOCK_OK : AIRLOCK_E_IO;
	if (rc == AIRLOCK_OK && (fchmod(fd, d->mode) != 0 || fsync(fd) != 0)) {
		k.err = errno;
		rc = AIRLOCK_E_IO;
	}
	if (close(fd) != 0 && rc == AIRLOCK_OK) {
		k.err = errno;
		rc = AIRLOCK_E_IO;
	}
	/* The frames' names are on disk before the manifest's: a manifest found after a crash means them all. */
	if (rc == AIRLOCK_OK && fsync(d->fd) != 0) {
		k.err = errno;
		rc = AIRLOCK_E_IO;
	}
	if (rc == AIRLOCK_OK) {
		int e = renameat2(d->fd, d->tmp, d->fd, MANIFEST, RENAME_NOREPLACE) == 0 ? 0 : errno;
		/* A file system without RENAME_NOREPLACE: the check frames_dir_open() made stands for it. */
		if (e == EINVAL)
			e = renameat(d->fd, d->tmp, d->fd, MANIFEST) == 0 ? 0 : errno;
		if (e) {
			k.err = e;
			rc = AIRLOCK_E_IO;
		}
	}
	if (rc == AIRLOCK_OK) {
		d->tmp[0] = '\0';
		fsync(d->fd);
	}
	d->err = k.err;
	return rc;
}

/*
 * Writes the frames of the video result r as fmt (PNG, JPEG or WebP) into
 * the directory opened by frames_dir_open(), then the manifest. An
 * airlock_error; AIRLOCK_E_IO with d->err (and d->file) set when a write
 * failed. What was written is removed by frames_dir_close() unless this
 * succeeded.
 */
static int frames_dir_commit(struct frames_dir *d, const airlock_ctx *ctx, const struct cli_options *o,
			     const airlock_result *r, airlock_format fmt)
{
	airlock_video_info info = { .size = sizeof(info) };
	uint64_t t = airlock_result_frames(r);

	if (airlock_result_video(r, &info) != AIRLOCK_OK || t == 0 || !airlock_result_video_indices(r) ||
	    !airlock_result_video_pts_us(r))
		return AIRLOCK_E_INTERNAL;
	d->ext = fmt == AIRLOCK_FORMAT_JPEG ? "jpg" : fmt == AIRLOCK_FORMAT_WEBP ? "webp" : "png";
	d->digits = 1;
	for (uint64_t x = t - 1; x >= 10; x /= 10)
		d->digits++;
	if (d->digits < 6)
		d->digits = 6;

	int rc = AIRLOCK_OK;
	for (uint64_t i = 0; rc == AIRLOCK_OK && i < t; i++) {
		frame_name(d, i, d->file, sizeof(d->file));
		/* New files only, never through a link: the kernel gives them 0666 less the umask. */
		int fd = openat(d->fd, d->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0666);
		if (fd < 0) {
			d->err = errno;
			return AIRLOCK_E_IO;
		}
		d->written = i + 1;
		struct sink k = { .fd = fd };
		rc = airlock_encode_frame(ctx, NULL, r, i, fmt, sink_write, &k);
		if (rc == AIRLOCK_OK && fsync(fd) != 0) {
			k.err = errno;
			rc = AIRLOCK_E_IO;
		}
		if (close(fd) != 0 && rc == AIRLOCK_OK) {
			k.err = errno;
			rc = AIRLOCK_E_IO;
		}
		d->err = k.err;
	}
	if (rc != AIRLOCK_OK)
		return rc;

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return AIRLOCK_E_NOMEM;
	manifest_json(f, d, o, ctx, r, &info);
	if (fclose(f) != 0) {
		free(buf);
		return AIRLOCK_E_NOMEM;
	}
	snprintf(d->file, sizeof(d->file), "%s", MANIFEST);
	rc = manifest_write(d, buf, len);
	free(buf);
	if (rc == AIRLOCK_OK)
		d->done = 1;
	return rc;
}

/* Removes what an unfinished run made (its files, and the directory if it made it), and frees d's names. */
static void frames_dir_close(struct frames_dir *d)
{
	if (!d->done && d->fd >= 0) {
		char name[64];
		for (uint64_t i = 0; i < d->written; i++) {
			frame_name(d, i, name, sizeof(name));
			unlinkat(d->fd, name, 0);
		}
		if (d->tmp[0])
			unlinkat(d->fd, d->tmp, 0);
	}
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	/* rmdir() removes only an empty directory: whatever someone else put there meanwhile stays. */
	if (!d->done && d->created)
		rmdir(d->path);
	free(d->path);
	d->path = NULL;
}

/* "cannot write "DIR/FILE": REASON", or the directory alone when no file was concerned. */
static void frames_dir_failure(FILE *err, const struct frames_dir *d)
{
	fputs("airlock: cannot write ", err);
	size_t n = strlen(d->name);
	char *full = d->file[0] ? malloc(n + 1 + strlen(d->file) + 1) : NULL;
	if (full)
		sprintf(full, "%s%s%s", d->name, n && d->name[n - 1] == '/' ? "" : "/", d->file);
	cli_json_str(err, full ? full : d->name);
	free(full);
	fprintf(err, ": %s\n", d->reason ? d->reason : strerror(d->err));
}

int cli_configure(airlock_ctx *ctx, const struct cli_options *o)
{
	int rc = airlock_set(ctx, AIRLOCK_ALLOWED_TYPES, o->allow);
	if (rc == AIRLOCK_OK)
		rc = airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, o->sample_format);
	/* An audio output takes the audio track of a video. */
	if (rc == AIRLOCK_OK && (o->to == AIRLOCK_FORMAT_WAV || o->to == AIRLOCK_FORMAT_FLAC))
		rc = airlock_set(ctx, AIRLOCK_TRACK, AIRLOCK_TRACK_AUDIO);
	for (size_t i = 0; rc == AIRLOCK_OK && i < o->nsets; i++)
		rc = airlock_set(ctx, o->sets[i].key, o->sets[i].value);
	if (rc == AIRLOCK_OK && o->to == AIRLOCK_FORMAT_FLAC) {
		/*
		 * What FLAC cannot hold is the input's limit, rejected as such, not
		 * an encoder failure; unless --mono or --rate makes the output fit.
		 */
		uint64_t v = 0, mono = 0, out_rate = 0;
		airlock_get(ctx, AIRLOCK_MONO, &mono);
		airlock_get(ctx, AIRLOCK_OUT_RATE, &out_rate);
		airlock_get(ctx, AIRLOCK_MAX_CHANNELS, &v);
		if (!mono && v > CLI_FLAC_MAX_CHANNELS)
			airlock_set(ctx, AIRLOCK_MAX_CHANNELS, CLI_FLAC_MAX_CHANNELS);
		airlock_get(ctx, AIRLOCK_MAX_RATE, &v);
		if (!out_rate && v > CLI_FLAC_MAX_RATE)
			airlock_set(ctx, AIRLOCK_MAX_RATE, CLI_FLAC_MAX_RATE);
	}
	return rc;
}

airlock_format cli_format_for(const struct cli_options *o, const airlock_result *r)
{
	if (o->to)
		return (airlock_format)o->to;
	switch (airlock_result_type(r)) {
	case AIRLOCK_TYPE_JPEG: return AIRLOCK_FORMAT_JPEG;
	case AIRLOCK_TYPE_WEBP: return AIRLOCK_FORMAT_WEBP;
	/* GIF, BMP and TIFF have no canonical writer: PNG holds their pixels losslessly. */
	case AIRLOCK_TYPE_PNG:
	case AIRLOCK_TYPE_GIF:
	case AIRLOCK_TYPE_BMP:
	case AIRLOCK_TYPE_TIFF: return AIRLOCK_FORMAT_PNG;
	default: return AIRLOCK_FORMAT_WAV;
	}
}

/* What a kind of input is called in messages, from a type bit mask. */
static const char *kinds_name(uint32_t mask)
{
	return mask == AIRLOCK_TYPES_IMAGE			     ? "images"
	       : mask == (AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA) ? "audio"
								     : "images and audio";
}

static const char *format_name(int fmt)
{
	switch (fmt) {
	case AIRLOCK_FORMAT_PNG: return "png";
	case AIRLOCK_FORMAT_JPEG: return "jpeg";
	case AIRLOCK_FORMAT_WEBP: return "webp";
	case AIRLOCK_FORMAT_WAV: return "wav";
	case AIRLOCK_FORMAT_FLAC: return "flac";
	default: return "raw";
	}
}

/*
 * The human line's account of a rejection: what the JSON report says (the
 * detected type, the limit that tripped), in the terms of the command line,
 * with the option and the value it had. Numbers and names only: never
 * input bytes.
 */
static void reject_detail(FILE *f, const struct cli_options *o, const airlock_ctx *ctx, int rc,
			  const airlock_report *rep, int dir)
{
	const char *mime = rep->type != AIRLOCK_TYPE_NONE ? airlock_type_mime(rep->type) : NULL;
	uint32_t bit = rep->type != AIRLOCK_TYPE_NONE ? AIRLOCK_TYPE_BIT(rep->type) : 0;
	uint32_t kind = bit & AIRLOCK_TYPES_IMAGE ? AIRLOCK_TYPES_IMAGE : AIRLOCK_TYPES_AUDIO;
	uint32_t allow = dir ? o->allow_video : o->allow;
	/* The library names the container itself when the track asked for is not there. */
	int no_track =
		rc == AIRLOCK_E_UNSUPPORTED && (bit & AIRLOCK_TYPES_MEDIA) && rep->mime && strcmp(rep->mime, mime) == 0;

	/*
	 * The three ways a type is refused: bytes nobody recognises, a type
	 * airlock decodes but the allowlist refuses (below), and a type
	 * libmagic names that airlock has no decoder for.
	 */
	if (rc == AIRLOCK_E_TYPE && !mime) {
		fputs("not a type airlock decodes", f);
		return;
	}
	if (rc == AIRLOCK_E_UNSUPPORTED && !mime && rep->mime) {
		fprintf(f, "%s is not supported", rep->mime);
		return;
	}
	if (mime)
		fprintf(f, "%s: ", mime);
	if (rc == AIRLOCK_E_TYPE && dir && !(bit & AIRLOCK_TYPES_MEDIA)) {
		fputs("a directory OUTPUT takes video (mp4, matroska)", f);
		return;
	}
	/* A video asked for as one file: say how to get its frames, or its sound. */
	if (no_track && !dir && o->to != AIRLOCK_FORMAT_WAV && o->to != AIRLOCK_FORMAT_FLAC) {
		fputs("a video: -o DIR/ writes its sampled frames into a directory, --to wav or --to flac takes "
		      "its audio",
		      f);
		return;
	}
	if (no_track) {
		fputs(dir ? "no video track (--to wav or --to flac takes its audio)"
			  : "no audio track (-o DIR/ writes the video's sampled frames)",
		      f);
		return;
	}
	if (rc == AIRLOCK_E_UNSUPPORTED && dir && rep->mime) {
		fputs("a video codec airlock does not decode", f);
		return;
	}
	if (rc == AIRLOCK_E_OUT_OF_RANGE && dir && ctx) {
		uint64_t rule = AIRLOCK_SAMPLING_VLLM;
		airlock_get(ctx, AIRLOCK_VIDEO_SAMPLING, &rule);
		fprintf(f, "--sampling %s picks no frame of this video with these options", sampling_name(rule));
		return;
	}
	if (rc == AIRLOCK_E_TYPE && !dir && o->to && o->to != AIRLOCK_FORMAT_RAW && !(allow & kind)) {
		fprintf(f, "--to %s takes %s", format_name(o->to), kinds_name(format_kinds(o->to)));
		return;
	}
	if (rc == AIRLOCK_E_TYPE && !(allow & bit) && !o->allow_given) {
		/* A list the user never typed would send them looking for it: say where it came from. */
		fprintf(f, "not in the default --allow; name %s there to accept it", airlock_type_name(rep->type));
		return;
	}
	if (rc == AIRLOCK_E_TYPE && !(allow & bit)) {
		fputs("not in --allow ", f);
		const char *sep = "";
		for (int t = 1; t < AIRLOCK_TYPE_COUNT_; t++)
			if (allow & AIRLOCK_TYPE_BIT(t)) {
				fprintf(f, "%s%s", sep, airlock_type_name((airlock_type)t));
				sep = ",";
			}
		return;
	}
	if (rc == AIRLOCK_E_TYPE_MISMATCH) {
		fprintf(f, "not the --expect %s", airlock_type_name(o->expect));
		return;
	}
	const struct opt *opt = NULL;
	for (size_t k = 0; rep->limit && k < sizeof(opts) / sizeof(opts[0]); k++)
		if (opts[k].kind == OPT_NUM && opts[k].key == rep->limit)
			opt = &opts[k];
	uint64_t v = 0;
	if (!opt || !ctx || airlock_get(ctx, opt->key, &v) != AIRLOCK_OK) {
		fputs(airlock_strerror(rc), f);
		return;
	}
	v /= opt->scale;
	if (opt->key == AIRLOCK_MIN_RATE)
		fprintf(f, "sample rate below --min-rate %" PRIu64, v);
	else if (opt->key == AIRLOCK_OUT_RATE)
		fprintf(f, "--rate %" PRIu64 " is out of reach from the source rate", v);
	else
		fprintf(f, "--%s %" PRIu64 " exceeded", opt->name, v);
	/* --to flac lowered these itself: say so, or the user looks for an option they never gave. */
	if (o->to == AIRLOCK_FORMAT_FLAC && ((opt->key == AIRLOCK_MAX_CHANNELS && v == CLI_FLAC_MAX_CHANNELS) ||
					     (opt->key == AIRLOCK_MAX_RATE && v == CLI_FLAC_MAX_RATE)))
		fputs(", the most --to flac holds", f);
}

int cli_run(const struct cli_options *o, FILE *out_msgs, FILE *err)
{
	airlock_ctx *ctx = NULL;
	airlock_result *r = NULL;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	uint8_t *in = NULL;
	size_t in_len = 0;
	int in_fd = -1, rc, status;
	struct cli_event_log log = { .fd = -1, .input = o->input };
	struct cli_output dst = { .fd = -1 };
	struct frames_dir fdir = { .fd = -1 };

	if (o->help) {
		cli_usage(out_msgs);
		return CLI_EXIT_OK;
	}
	if (o->version) {
		fprintf(out_msgs, "airlock %s\n", airlock_version_string());
		return CLI_EXIT_OK;
	}
	/*
	 * A video's frames go into a directory: OUTPUT with a trailing slash,
	 * or one that exists (then cli_parse() could not know, and the options
	 * are checked again for what OUTPUT turned out to be).
	 */
	struct stat st;
	int dir = o->output_dir ||
		  (frames_format(o->to) && !is_std(o->output) && stat(o->output, &st) == 0 && S_ISDIR(st.st_mode));
	if (dir != (o->output_dir || o->dir_only)) {
		char why[256];
		if (check_output(o, dir, why, sizeof(why)) != 0) {
			fprintf(err, "airlock: %s\nTry 'airlock --help'.\n", why);
			return CLI_EXIT_USAGE;
		}
	}
	/*
	 * Image and audio bytes on a terminal are garbage at best and escape
	 * sequences at worst; as gzip and zstd do, only an explicit "-o -" sends
	 * them there. Checked first, so nothing waits on a terminal's stdin.
	 */
	if (!o->output && isatty(STDOUT_FILENO)) {
		fputs("airlock: refusing to write binary output to a terminal: give -o FILE or redirect it "
		      "(-o - writes it anyway)\n",
		      err);
		return CLI_EXIT_USAGE;
	}

	if (o->log) {
		log.fd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
		if (log.fd < 0) {
			fprintf(err, "airlock: cannot open log ");
			cli_json_str(err, o->log);
			fprintf(err, ": %s\n", strerror(errno));
			return CLI_EXIT_USAGE;
		}
	}
	char helper[4096];
	int why = 0;
	rc = airlock_open_detail(&ctx, helper, sizeof(helper), &why);
	if (rc != AIRLOCK_OK) {
		/* No context, so no event function: the sandbox event is logged here, with the helper tried. */
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		airlock_event ev = { .size = sizeof(ev),
				     .time_us = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000,
				     .error = rc,
				     .expect = o->expect };
		log.helper = helper;
		log.helper_errno = why;
		if (log.fd >= 0)
			cli_log_event(&log, &ev);
		if (rc != AIRLOCK_E_HELPER || o->json)
			goto report;
		cli_helper_failure(err, helper, why);
		status = exit_for(rc);
		goto out;
	}
	if (log.fd >= 0)
		airlock_set_event_fn(ctx, cli_log_event, &log);
	rc = cli_configure(ctx, o);
	if (rc == AIRLOCK_OK && dir)
		rc = airlock_set(ctx, AIRLOCK_ALLOWED_TYPES, o->allow_video);
	if (rc == AIRLOCK_OK && dir)
		rc = airlock_set(ctx, AIRLOCK_TRACK, AIRLOCK_TRACK_VIDEO);
	if (rc != AIRLOCK_OK)
		goto report;

	in_fd = is_std(o->input) ? 0 : open(o->input, O_RDONLY | O_CLOEXEC);
	if (in_fd < 0) {
		fprintf(err, "airlock: cannot open ");
		cli_json_str(err, o->input);
		fprintf(err, ": %s\n", strerror(errno));
		status = CLI_EXIT_USAGE;
		goto out;
	}
	/* Before the input is read: a long stdin is not consumed for an OUTPUT that cannot be made. */
	mode_t mask = umask(0);
	umask(mask);
	if (dir && frames_dir_open(&fdir, o->output, 0666 & ~mask) != 0) {
		frames_dir_failure(err, &fdir);
		status = CLI_EXIT_CANTCREAT;
		goto out;
	}
	if (!dir && cli_output_open(&dst, o->output, 0666 & ~mask) != 0) {
		fprintf(err, "airlock: cannot write ");
		cli_json_str(err, dst.name);
		fprintf(err, ": %s\n", cli_output_reason(&dst));
		status = CLI_EXIT_CANTCREAT;
		goto out;
	}
	uint64_t max_bytes = 0;
	airlock_get(ctx, AIRLOCK_MAX_INPUT_BYTES, &max_bytes);
	int e = cli_read_input(in_fd, max_bytes, &in, &in_len);
	if (e) {
		fprintf(err, "airlock: cannot read input: %s\n", strerror(-e));
		status = e == -ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_USAGE;
		goto out;
	}
	rc = airlock_sanitize_report(ctx, in, in_len, o->expect, &r, &rep);
	if (rc != AIRLOCK_OK)
		goto report;

	if (dir)
		rc = frames_dir_commit(&fdir, ctx, o, r, o->to ? (airlock_format)o->to : AIRLOCK_FORMAT_PNG);
	else
		rc = cli_output_commit(&dst, ctx, r, cli_format_for(o, r));

report:
	status = exit_for(rc);
	if (o->json) {
		report_json(err, o, rc, &rep, r);
	} else if (rc != AIRLOCK_OK) {
		if (rc == AIRLOCK_E_IO && fdir.err) {
			frames_dir_failure(err, &fdir);
			goto out;
		}
		fprintf(err, "airlock: ");
		if (status == CLI_EXIT_REJECTED) {
			cli_json_str(err, is_std(o->input) ? "-" : o->input);
			fputs(": rejected: ", err);
			reject_detail(err, o, ctx, rc, &rep, dir);
			fprintf(err, " (%s)\n", airlock_error_name(rc));
		} else if (rc == AIRLOCK_E_IO && dst.err) {
			fputs("cannot write ", err);
			if (dst.name)
				cli_json_str(err, dst.name);
			else
				fputs("standard output", err);
			fprintf(err, ": %s\n", cli_output_reason(&dst));
		} else {
			fprintf(err, "error: %s (%s)\n", airlock_strerror(rc), airlock_error_name(rc));
		}
	}
out:
	cli_output_close(&dst);
	frames_dir_close(&fdir);
	if (in_fd > 0)
		close(in_fd);
	free(in);
	airlock_result_free(r);
	airlock_close(ctx);
	if (log.fd >= 0)
		close(log.fd);
	return status;
}
