/* SPDX-License-Identifier: MIT */
/*
 * Inside the audio decoder: one source per container, each a stream of
 * interleaved float frames that ends where the encoded data ends, and the
 * helpers more than one container needs. audio.c checks the magic, opens
 * the source the type names, and runs every source through the same
 * limits, downmix, resampling and output.
 *
 * Nothing here ends a stream at a length a header states: libsndfile does
 * (it cuts every read at the frame count it took from STREAMINFO, an Ogg
 * granule position or an MP3's Xing frame), so the codecs whose length
 * lives in a header are read straight from libmpg123, libvorbis and
 * libopus, and FLAC's count is hidden from libsndfile (audio_flac.c).
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
	 * The frame_format the codec gives its samples in, or 0 for neither
	 * output format: any other output format is a conversion.
	 */
	uint32_t format;
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
 * Runs an open source (of a container audio.c does not know: media.c)
 * through the same limits, downmix, resampling and output as
 * audio_decode_into(). Takes src over: it is closed on every path.
 */
int audio_decode_src(struct audio_src *src, const struct limits *lim, const struct pixel_alloc *pa, struct frame *out);

/*
 * The sources. Each opens the input after its leading ID3v2 tags, checks
 * its container's structure first, and records in s->changes the metadata
 * and truncation it sees there. buf is borrowed until s->close(). On
 * failure nothing is held.
 */

/* MPEG audio (Layer I, II or III), before its trailing ID3v1/APEv2 tags (audio_mpeg.c). */
int mpeg_src_open(const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s);

/* Ogg Vorbis (type AIRLOCK_TYPE_VORBIS) or Ogg Opus, one logical stream (audio_ogg.c). */
int ogg_src_open(uint32_t type, const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s);

/* RIFF/WAVE through libsndfile (audio_wav.c). */
int wav_src_open(const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s);

/* FORM/AIFF and FORM/AIFC through libsndfile (audio_aiff.c). */
int aiff_src_open(const uint8_t *buf, size_t len, const struct limits *lim, struct audio_src *s);

/*
 * FLAC through libsndfile (audio_flac.c). The last tail bytes of buf are
 * trailing ID3v1/APEv2 tags (audio_trailing_tags()), no part of the stream.
 */
int flac_src_open(const uint8_t *buf, size_t len, size_t tail, const struct limits *lim, struct audio_src *s);

/*
 * Walks every FLAC frame header of what flac_src_open() opened (the same
 * buf, len and tail) against STREAMINFO: AIRLOCK_E_MALFORMED when the rate,
 * depth or channel count changes mid-stream. It reads the whole input, so
 * audio.c calls it only once the header limits have passed.
 */
int flac_check_frames(const uint8_t *buf, size_t len, size_t tail);

/*
 * What libsndfile is shown (audio_sndfile.c): head, a header airlock wrote
 * from fields it checked, then body, the input's bytes. With head_len 0,
 * body is the input as it came. The largest head is WAV's: RIFF, WAVE, a
 * format chunk of up to WAV_FMT_MAX bytes and a data chunk's header.
 */
#define WAV_FMT_MAX	 256
#define SNDFILE_HEAD_MAX (12 + 8 + WAV_FMT_MAX + 8 + 8)

struct sndfile_view {
	uint8_t head[SNDFILE_HEAD_MAX];
	size_t head_len;
	const uint8_t *body;
	size_t body_len;
};

/*
 * Opens v with libsndfile, as container type (AIRLOCK_TYPE_WAV, _AIFF or
 * _FLAC): libsndfile must find that container, and in WAV and AIFF one of
 * the default codecs unless lim->allow_adpcm. v->head is copied; v->body
 * is borrowed until s->close(). On failure nothing is held.
 */
int sndfile_src_open(uint32_t type, const struct sndfile_view *v, const struct limits *lim, struct audio_src *s);

/*
 * The chunk walks RIFF/WAVE and FORM/AIFF share (audio_iff.c), from the
 * first chunk at offset 12; big_endian for FORM's sizes.
 *
 * iff_walk() sets AIRLOCK_CHANGE_METADATA_DROPPED in *changes for a chunk
 * that is neither sound nor one of plain (a NULL-terminated list of IDs),
 * and AIRLOCK_CHANGE_TRUNCATED for a sound chunk that runs past the end.
 *
 * iff_find() finds the format and the sound chunk; AIRLOCK_E_MALFORMED
 * for a missing one, a second format chunk, or a chunk before both that
 * runs past the end (the sound chunk alone may: *snd_len is what is there).
 */
void iff_walk(const uint8_t *buf, size_t len, bool big_endian, const char *sound, const char *const *plain,
	      uint32_t *changes);
int iff_find(const uint8_t *buf, size_t len, bool big_endian, const char *format, const char *sound,
	     const uint8_t **fmt, uint32_t *fmt_len, const uint8_t **snd, size_t *snd_len);

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
