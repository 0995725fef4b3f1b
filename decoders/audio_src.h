/* SPDX-License-Identifier: MIT */
/*
 * Inside the audio decoder: one source per codec library, each a stream of
 * interleaved float frames that ends where the encoded data ends. Nothing
 * here ends a stream at a length a header states: libsndfile does (it cuts
 * every read at the frame count it took from STREAMINFO, an Ogg granule
 * position or an MP3's Xing frame), so the codecs whose length lives in a
 * header are read straight from libmpg123, libvorbis and libopus, and
 * FLAC's count is hidden from libsndfile (audio.c).
 */
#ifndef AIRLOCK_AUDIO_SRC_H
#define AIRLOCK_AUDIO_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct audio_src {
	uint32_t rate;
	uint32_t channels;
	/*
	 * What the container states about the length, in frames at rate, or
	 * 0 when it states nothing: more than was decoded means a cut file
	 * (AIRLOCK_CHANGE_TRUNCATED); less is never a reason to stop.
	 */
	uint64_t declared;
	uint32_t changes; /* airlock_change bits the source learned */
	/*
	 * Reads at most n frames into dst (n * channels floats). *got is 0 at
	 * the end of the stream. Returns an airlock_error; on error, limit
	 * may name the airlock_key that tripped.
	 */
	int (*read)(struct audio_src *s, float *dst, size_t n, size_t *got);
	void (*close)(struct audio_src *s);
	void *state;
	uint32_t limit;
};

/*
 * Opens an MPEG audio stream (Layer I, II or III) held in buf: the input
 * after its leading ID3v2 tags and before its trailing ID3v1/APEv2 tags.
 * buf is borrowed until s->close(). On failure nothing is held.
 */
int mpeg_src_open(const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s);

/* Opens an Ogg Vorbis (type AIRLOCK_TYPE_VORBIS) or Ogg Opus stream; as above. */
int ogg_src_open(uint32_t type, const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s);

/* Big- and little-endian fields of the containers. */
static inline uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* An MPEG audio frame header at p: sync, and no reserved version, layer, bitrate or rate. */
bool mpeg_sync(const uint8_t *p, size_t n);

/* The length in bytes of the MPEG audio frame whose header is at p; 0 for none or free format. */
size_t mpeg_frame_length(const uint8_t *p, size_t n);

/* Two MPEG audio frames in a row at buf (type detection's own check; see detect.c). */
bool mpeg_confirmed(const uint8_t *buf, size_t len);

/* Bytes of ID3v1 and APEv2 tags at the end of buf (MP3's and, in practice, FLAC's), 0 when none. */
size_t audio_trailing_tags(const uint8_t *buf, size_t len);

/*
 * Whether a Vorbis comment block (FLAC's VORBIS_COMMENT, a Vorbis or Opus
 * comment packet after its magic) holds any comment, which is metadata.
 */
bool audio_vorbis_comments_present(const uint8_t *p, size_t n);

#endif
