/* SPDX-License-Identifier: MIT */
/*
 * Type detection from magic bytes. libmagic decides; names and extensions
 * are never seen here. The Ogg container is split into Vorbis and Opus by
 * the codec header in its first page, which libmagic reports only as text.
 */
#include <magic.h>
#include <string.h>

#include "audio.h"
#include "audio_src.h"
#include "decode.h"

static const struct {
	const char *mime;
	uint32_t type;
} mime_types[] = {
	{ "image/png", AIRLOCK_TYPE_PNG },
	{ "image/apng", AIRLOCK_TYPE_PNG },
	{ "image/jpeg", AIRLOCK_TYPE_JPEG },
	{ "audio/x-wav", AIRLOCK_TYPE_WAV },
	{ "audio/wav", AIRLOCK_TYPE_WAV },
	{ "audio/vnd.wave", AIRLOCK_TYPE_WAV },
	{ "audio/flac", AIRLOCK_TYPE_FLAC },
	{ "audio/x-flac", AIRLOCK_TYPE_FLAC },
	{ "audio/mpeg", AIRLOCK_TYPE_MP3 },
	{ "audio/x-aiff", AIRLOCK_TYPE_AIFF },
	{ "audio/aiff", AIRLOCK_TYPE_AIFF },
	{ "image/webp", AIRLOCK_TYPE_WEBP },
	{ "image/gif", AIRLOCK_TYPE_GIF },
	{ "image/bmp", AIRLOCK_TYPE_BMP },
	{ "image/x-ms-bmp", AIRLOCK_TYPE_BMP },
	{ "image/tiff", AIRLOCK_TYPE_TIFF },
	/* Debian 12's names for ISO base media and Matroska files (audio-only ones are "video/" too). */
	{ "video/mp4", AIRLOCK_TYPE_MP4 },
	{ "audio/x-m4a", AIRLOCK_TYPE_MP4 },
	{ "audio/mp4", AIRLOCK_TYPE_MP4 },
	{ "video/quicktime", AIRLOCK_TYPE_MP4 },
	{ "video/3gpp", AIRLOCK_TYPE_MP4 },
	{ "video/x-m4v", AIRLOCK_TYPE_MP4 },
	{ "video/webm", AIRLOCK_TYPE_MATROSKA },
	{ "audio/webm", AIRLOCK_TYPE_MATROSKA },
	{ "video/x-matroska", AIRLOCK_TYPE_MATROSKA },
	{ "audio/x-matroska", AIRLOCK_TYPE_MATROSKA },
};

static int has_prefix(const uint8_t *buf, size_t len, size_t off, const char *sig, size_t n)
{
	return len >= off + n && memcmp(buf + off, sig, n) == 0;
}

/* The first Ogg page of a single logical stream carries the codec's ID header at byte 28. */
static uint32_t ogg_codec(const uint8_t *buf, size_t len)
{
	if (has_prefix(buf, len, 28, "OpusHead", 8))
		return AIRLOCK_TYPE_OPUS;
	if (has_prefix(buf, len, 28, "\x01vorbis", 7))
		return AIRLOCK_TYPE_VORBIS;
	return AIRLOCK_TYPE_NONE;
}

/* An MPEG audio frame header: sync, and no reserved version, layer, bitrate or rate. */
static int mpeg_frame_header(const uint8_t *p, size_t len)
{
	return len >= 3 && p[0] == 0xff && (p[1] & 0xe0) == 0xe0 && ((p[1] >> 3) & 3) != 1 && ((p[1] >> 1) & 3) != 0 &&
	       (p[2] >> 4) != 15 && ((p[2] >> 2) & 3) != 3;
}

/* The length of the ID3v2 tag at p (header, body and footer), or 0 when there is none. */
static size_t id3v2_length(const uint8_t *p, size_t len)
{
	if (len < 10 || memcmp(p, "ID3", 3) != 0 || p[3] == 0xff || p[4] == 0xff ||
	    ((p[6] | p[7] | p[8] | p[9]) & 0x80))
		return 0;
	const size_t body = (size_t)p[6] << 21 | (size_t)p[7] << 14 | (size_t)p[8] << 7 | p[9];
	return 10 + body + ((p[5] & 0x10) ? 10 : 0);
}

static uint32_t plain_signature(const uint8_t *buf, size_t len);

/* Signature check used when no libmagic cookie is given (in-process tests and fuzzers). */
static uint32_t signature_type(const uint8_t *buf, size_t len)
{
	/*
	 * Behind ID3v2 tags (at most 8, as libmagic follows them) is what the
	 * file is: FLAC and the rest may carry one too. A tag followed by
	 * nothing airlock knows is taken for MP3, whose decoder then judges it.
	 */
	size_t skip = 0, tag;
	for (int i = 0; i < 8 && (tag = id3v2_length(buf + skip, len - skip)) != 0 && tag < len - skip; i++)
		skip += tag;
	if (skip > 0) {
		const uint32_t behind = plain_signature(buf + skip, len - skip);
		return behind != AIRLOCK_TYPE_NONE ? behind : AIRLOCK_TYPE_MP3;
	}
	return plain_signature(buf, len);
}

/*
 * An ISO base media file: an ftyp box first whose major brand is one of
 * the movie and audio brands. HEIF and AVIF images are ftyp files too,
 * with brands of their own, and are not this type.
 */
static bool iso_media(const uint8_t *buf, size_t len)
{
	static const char brands[][5] = { "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "M4A ", "M4V ",
					  "M4B ", "qt  ", "avc1", "dash", "3gp4", "3gp5", "3gp6", "3g2a", "MSNV" };
	if (!has_prefix(buf, len, 4, "ftyp", 4) || len < 12)
		return false;
	for (size_t i = 0; i < sizeof(brands) / sizeof(brands[0]); i++)
		if (memcmp(buf + 8, brands[i], 4) == 0)
			return true;
	return false;
}

/* The signature at buf itself. */
static uint32_t plain_signature(const uint8_t *buf, size_t len)
{
	if (has_prefix(buf, len, 0, "\x89PNG\r\n\x1a\n", 8))
		return AIRLOCK_TYPE_PNG;
	if (has_prefix(buf, len, 0, "\xff\xd8\xff", 3))
		return AIRLOCK_TYPE_JPEG;
	if (has_prefix(buf, len, 0, "RIFF", 4) && has_prefix(buf, len, 8, "WAVE", 4))
		return AIRLOCK_TYPE_WAV;
	if (has_prefix(buf, len, 0, "fLaC", 4))
		return AIRLOCK_TYPE_FLAC;
	if (has_prefix(buf, len, 0, "OggS", 4))
		return ogg_codec(buf, len);
	if (has_prefix(buf, len, 0, "FORM", 4) &&
	    (has_prefix(buf, len, 8, "AIFF", 4) || has_prefix(buf, len, 8, "AIFC", 4)))
		return AIRLOCK_TYPE_AIFF;
	if (has_prefix(buf, len, 0, "RIFF", 4) && has_prefix(buf, len, 8, "WEBP", 4))
		return AIRLOCK_TYPE_WEBP;
	if (has_prefix(buf, len, 0, "GIF87a", 6) || has_prefix(buf, len, 0, "GIF89a", 6))
		return AIRLOCK_TYPE_GIF;
	/* Classic TIFF (42) and BigTIFF (43), either byte order. */
	if (has_prefix(buf, len, 0, "II*\0", 4) || has_prefix(buf, len, 0, "MM\0*", 4) ||
	    has_prefix(buf, len, 0, "II+\0", 4) || has_prefix(buf, len, 0, "MM\0+", 4))
		return AIRLOCK_TYPE_TIFF;
	/* "BM", then a header size BMP knows: core (12), OS/2 2 (16, 64), V2..V5 (40, 52, 56, 108, 124). */
	if (has_prefix(buf, len, 0, "BM", 2) && len >= 18) {
		const uint32_t hs = le32(buf + 14);
		if (hs == 12 || hs == 16 || hs == 40 || hs == 52 || hs == 56 || hs == 64 || hs == 108 || hs == 124)
			return AIRLOCK_TYPE_BMP;
	}
	if (iso_media(buf, len))
		return AIRLOCK_TYPE_MP4;
	if (has_prefix(buf, len, 0, "\x1a\x45\xdf\xa3", 4))
		return AIRLOCK_TYPE_MATROSKA;
	if (has_prefix(buf, len, 0, "ID3", 3) || mpeg_frame_header(buf, len))
		return AIRLOCK_TYPE_MP3;
	return AIRLOCK_TYPE_NONE;
}

void *detect_open(void)
{
	/* MIME type only; no decompression, no archive, ELF, CDF, JSON, CSV or text-encoding checks. */
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_ELF |
			       MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV);
	if (!m)
		return NULL;
	/* Tight parameters: libmagic errors on hitting one, and that rejects the input. */
	size_t bytes_max = 256 << 10, indir_max = 8, name_max = 32, regex_max = 4096;
	if (magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes_max) ||
	    magic_setparam(m, MAGIC_PARAM_INDIR_MAX, &indir_max) ||
	    magic_setparam(m, MAGIC_PARAM_NAME_MAX, &name_max) ||
	    magic_setparam(m, MAGIC_PARAM_REGEX_MAX, &regex_max) || magic_load(m, NULL) != 0) {
		magic_close(m);
		return NULL;
	}
	return m;
}

void detect_close(void *magic)
{
	if (magic)
		magic_close((magic_t)magic);
}

int detect_type(void *magic, const uint8_t *buf, size_t len, uint32_t *type)
{
	uint32_t mime;
	return detect_media(magic, buf, len, type, &mime);
}

int detect_media(void *magic, const uint8_t *buf, size_t len, uint32_t *type, uint32_t *mime_out)
{
	*type = AIRLOCK_TYPE_NONE;
	*mime_out = 0;
	if (len == 0)
		return AIRLOCK_E_EMPTY;
	if (!magic) {
		*type = signature_type(buf, len);
		return *type == AIRLOCK_TYPE_NONE ? AIRLOCK_E_TYPE : AIRLOCK_OK;
	}

	/* libmagic errors (a limit hit, an internal failure) reject the input. */
	const char *mime = magic_buffer((magic_t)magic, buf, len);
	if (!mime)
		return AIRLOCK_E_TYPE;
	if (strcmp(mime, "audio/ogg") == 0 || strcmp(mime, "application/ogg") == 0 ||
	    strcmp(mime, "audio/x-vorbis+ogg") == 0 || strcmp(mime, "audio/x-opus+ogg") == 0) {
		*type = ogg_codec(buf, len);
		if (*type != AIRLOCK_TYPE_NONE)
			return AIRLOCK_OK;
		/* Ogg FLAC, Speex, Theora, ...: a known container with a codec airlock does not decode. */
		*mime_out = mime_index(mime);
		return AIRLOCK_E_UNSUPPORTED;
	}
	for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++) {
		if (strcmp(mime, mime_types[i].mime) == 0) {
			*type = mime_types[i].type;
			return AIRLOCK_OK;
		}
	}
	/*
	 * libmagic's database misses some MPEG audio: streams behind an ID3v2.4
	 * tag with a footer, MPEG-1 Layer I, free-format frames. airlock's own
	 * check takes them when two frames in a row confirm the sync, which
	 * random bytes or text almost never show.
	 */
	if (strcmp(mime, "application/octet-stream") == 0 || strncmp(mime, "audio/", 6) == 0) {
		size_t skip = 0, tag;

		for (int i = 0; i < 8 && (tag = id3v2_length(buf + skip, len - skip)) != 0 && tag < len - skip; i++)
			skip += tag;
		if (mpeg_confirmed(buf + skip, len - skip)) {
			*type = AIRLOCK_TYPE_MP3;
			return AIRLOCK_OK;
		}
	}
	/*
	 * A media type (or PDF, PostScript, Flash) libmagic knows and airlock
	 * does not decode: unsupported, named by its index in decoders/mime.c.
	 * Anything else (text, archives, executables, unknown bytes) is no type.
	 */
	*mime_out = mime_index(mime);
	return *mime_out ? AIRLOCK_E_UNSUPPORTED : AIRLOCK_E_TYPE;
}

int decode_any(void *magic, const uint8_t *buf, size_t len, const struct limits *lim, struct frame *out)
{
	return decode_any_into(magic, buf, len, lim, NULL, out);
}

int decode_any_into(void *magic, const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out)
{
	return decode_any_media(magic, buf, len, lim, pa, NULL, out);
}

int decode_any_media(void *magic, const uint8_t *buf, size_t len, const struct limits *lim,
		     const struct pixel_alloc *pa, media_decode_fn media, struct frame *out)
{
	uint32_t type = AIRLOCK_TYPE_NONE, mime = 0;

	*out = (struct frame){ 0 };
	if (len > lim->max_input_bytes) {
		out->limit = AIRLOCK_MAX_INPUT_BYTES;
		return AIRLOCK_E_INPUT_TOO_BIG;
	}
	int rc = detect_media(magic, buf, len, &type, &mime);
	out->type = type;
	out->mime = mime;
	if (rc)
		return rc;
	rc = type_check(lim, type);
	if (rc) {
		if (rc == AIRLOCK_E_TYPE)
			out->limit = AIRLOCK_ALLOWED_TYPES;
		return rc;
	}
	/* A container's audio is an audio input, held to the audio cap; its video only to max_input_bytes. */
	const uint32_t audio_cap = AIRLOCK_TYPES_AUDIO | (lim->track == AIRLOCK_TRACK_VIDEO ? 0 : AIRLOCK_TYPES_MEDIA);
	if ((AIRLOCK_TYPE_BIT(type) & audio_cap) && len > lim->max_audio_input_bytes) {
		out->limit = AIRLOCK_MAX_AUDIO_INPUT_BYTES;
		return AIRLOCK_E_INPUT_TOO_BIG;
	}
	switch (type) {
	case AIRLOCK_TYPE_PNG: rc = png_decode_into(buf, len, lim, pa, out); break;
	case AIRLOCK_TYPE_JPEG: rc = jpeg_decode_into(buf, len, lim, pa, out); break;
	case AIRLOCK_TYPE_WEBP: rc = webp_decode_into(buf, len, lim, pa, out); break;
	case AIRLOCK_TYPE_GIF: rc = gif_decode_into(buf, len, lim, pa, out); break;
	case AIRLOCK_TYPE_BMP: rc = bmp_decode_into(buf, len, lim, pa, out); break;
	case AIRLOCK_TYPE_TIFF: rc = tiff_decode_into(buf, len, lim, pa, out); break;
	case AIRLOCK_TYPE_WAV:
	case AIRLOCK_TYPE_FLAC:
	case AIRLOCK_TYPE_VORBIS:
	case AIRLOCK_TYPE_OPUS:
	case AIRLOCK_TYPE_MP3:
	case AIRLOCK_TYPE_AIFF: rc = audio_decode_into(buf, len, lim, type, pa, out); break;
	case AIRLOCK_TYPE_MP4:
	case AIRLOCK_TYPE_MATROSKA:
		/* Without FFmpeg (the base zygote): the host sends the input on to the media zygote. */
		rc = media ? media(buf, len, lim, type, pa, out) : AIRLOCK_E_UNSUPPORTED;
		break;
	default: rc = AIRLOCK_E_UNSUPPORTED; break;
	}
	out->type = type;
	return rc;
}
