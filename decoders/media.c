/* SPDX-License-Identifier: MIT */
/*
 * MP4 and Matroska: the audio track, through FFmpeg's libavformat and
 * libavcodec, as one more source of the audio pipeline (audio_src.h), so
 * that its samples meet the same limits, downmix, resampling and output as
 * every other container's.
 *
 * FFmpeg is reached only the way this file allows:
 *   - the input is memory: a custom AVIOContext over buf, and every nested
 *     open (an MP4's external data references, anything else) refused;
 *   - the demuxer is the one the detected type names, never probed for
 *     (a probe runs every compiled-in demuxer's parser on the input), and
 *     a format whitelist of that one;
 *   - no avformat_find_stream_info(), which opens decoders of its own with
 *     default options;
 *   - a decoder from a fixed list, by name, with a codec whitelist of that
 *     name, one thread, and every bitstream error fatal (AV_EF_EXPLODE);
 *   - the rate and channel count are those of the decoded frames, never the
 *     container's, and may not change mid-stream;
 *   - FFmpeg's messages go to media_log(), which writes nothing (the
 *     default callback calls isatty(), an ioctl the filter kills) and
 *     records what it heard: an error message, or the warning of a sample
 *     table FFmpeg repaired, makes the input malformed.
 *
 * A pure function like the other decoders: the media zygote calls it in its
 * confined workers, the tests and the fuzzer in-process.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/cpu.h>
#include <libavutil/crc.h>
#include <libavutil/avstring.h>
#include <libavutil/log.h>

#include "audio_src.h"
#include "decode.h"
#include "media.h"

/* The audio codecs decoded, each by one decoder of Debian's libavcodec. */
static const struct {
	enum AVCodecID id;
	const char *decoder;
} audio_codecs[] = {
	{ AV_CODEC_ID_AAC, "aac" },	 { AV_CODEC_ID_OPUS, "opus" }, { AV_CODEC_ID_VORBIS, "vorbis" },
	{ AV_CODEC_ID_MP3, "mp3float" }, { AV_CODEC_ID_FLAC, "flac" }, { AV_CODEC_ID_ALAC, "alac" },
};

/* The MIME type (decoders/mime.c) a report names for a codec airlock does not decode. */
static const char *codec_mime(enum AVCodecID id)
{
	switch (id) {
	case AV_CODEC_ID_AC3:
	case AV_CODEC_ID_EAC3: return "audio/vnd.dolby.dd-raw";
	case AV_CODEC_ID_AMR_NB:
	case AV_CODEC_ID_AMR_WB: return "audio/amr";
	default: return "audio/*";
	}
}

#define IO_BUFFER 32768

struct mem {
	const uint8_t *buf;
	size_t len, pos;
};

static int mem_read(void *opaque, uint8_t *dst, int n)
{
	struct mem *m = opaque;
	size_t left = m->len - m->pos;

	if (left == 0)
		return AVERROR_EOF;
	if (n < 0)
		return AVERROR(EINVAL);
	if ((size_t)n > left)
		n = (int)left;
	memcpy(dst, m->buf + m->pos, (size_t)n);
	m->pos += (size_t)n;
	return n;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence)
{
	struct mem *m = opaque;
	int64_t base;

	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE: return (int64_t)m->len;
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)m->pos; break;
	case SEEK_END: base = (int64_t)m->len; break;
	default: return AVERROR(EINVAL);
	}
	if (off < -base || off > (int64_t)m->len - base)
		return AVERROR(EINVAL);
	m->pos = (size_t)(base + off);
	return (int64_t)m->pos;
}

/* Every nested open: an MP4's dref to another file, a playlist entry. The input is this buffer alone. */
static int no_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags, AVDictionary **options)
{
	return AVERROR(EPERM);
}

/*
 * What FFmpeg said while this thread decoded: its messages are the only
 * account of damage it recovers from without an error code. Logging
 * itself writes nothing (the default callback calls isatty(2), an ioctl
 * the filter kills).
 */
struct heard {
	bool error;	/* a message at AV_LOG_ERROR or worse */
	bool truncated; /* the demuxer met the end of the input inside an element */
	bool damaged;	/* a sample table the demuxer had to repair */
};
static _Thread_local struct heard *listening;

static void media_log(void *avcl, int level, const char *fmt, va_list vl)
{
	struct heard *h = listening;

	if (h == NULL || fmt == NULL)
		return;
	if (level <= AV_LOG_ERROR)
		h->error = true;
	/* Warnings that mean the structure is damaged: Matroska's cut file, MP4's bad sample-to-chunk entry. */
	if (strcmp(fmt, "File ended prematurely\n") == 0)
		h->truncated = true;
	if (strncmp(fmt, "STSC entry %d is invalid", 24) == 0)
		h->damaged = true;
}

/* An FFmpeg error as airlock's: memory is the worker's cap, a missing feature unsupported, the rest malformed. */
static int av_error(int e)
{
	if (e == AVERROR(ENOMEM))
		return AIRLOCK_E_MEMORY;
	if (e == AVERROR_PATCHWELCOME)
		return AIRLOCK_E_UNSUPPORTED;
	return AIRLOCK_E_MALFORMED;
}

struct media {
	struct mem mem;
	AVIOContext *io;
	AVFormatContext *fc;
	AVCodecContext *cc;
	AVPacket *pkt;
	AVFrame *fr;
	int stream;
	int fmt;     /* the AVSampleFormat of the first frame */
	size_t used; /* frames of fr already read */
	bool have, flushed, ended;
	struct heard heard;
};

static void media_close(struct audio_src *s)
{
	struct media *m = s->state;

	if (m == NULL)
		return;
	if (listening == &m->heard)
		listening = NULL;
	av_frame_free(&m->fr);
	av_packet_free(&m->pkt);
	avcodec_free_context(&m->cc);
	if (m->fc != NULL)
		avformat_close_input(&m->fc);
	if (m->io != NULL) {
		av_freep(&m->io->buffer);
		avio_context_free(&m->io);
	}
	free(m);
	s->state = NULL;
}

/*
 * The next decoded frame of the track into m->fr: AIRLOCK_OK with m->have,
 * or AIRLOCK_OK with m->ended at the end of the stream, or an error.
 */
static int next_frame(struct media *m)
{
	for (;;) {
		int e = avcodec_receive_frame(m->cc, m->fr);

		if (e == 0 && m->heard.error)
			return AIRLOCK_E_MALFORMED;
		if (e == 0) {
			m->have = true;
			m->used = 0;
			return AIRLOCK_OK;
		}
		if (e == AVERROR_EOF) {
			m->ended = true;
			return AIRLOCK_OK;
		}
		if (e != AVERROR(EAGAIN))
			return av_error(e);
		if (m->flushed)
			return AIRLOCK_E_INTERNAL; /* a drained decoder that wants more */
		e = av_read_frame(m->fc, m->pkt);
		if (m->heard.error || m->heard.damaged) {
			av_packet_unref(m->pkt);
			return AIRLOCK_E_MALFORMED;
		}
		if (e == AVERROR_EOF) {
			m->flushed = true;
			e = avcodec_send_packet(m->cc, NULL);
		} else if (e < 0) {
			return av_error(e);
		} else if (m->pkt->stream_index != m->stream) {
			av_packet_unref(m->pkt);
			continue;
		} else {
			e = avcodec_send_packet(m->cc, m->pkt);
			av_packet_unref(m->pkt);
		}
		if (e < 0)
			return av_error(e);
	}
}

/*
 * Frames from..from+n-1 of fr into dst, interleaved, as floats: integers
 * scaled as libsndfile reads them (s / 2^(bits-1)). The format and the
 * layout are decided once per channel, not per sample.
 */
#define CONVERT(T, EXPR)                                       \
	do {                                                   \
		const T *x = (const T *)p + k0;                \
		for (size_t i = 0; i < n; i++)                 \
			d[i * channels] = (EXPR(x[i * step])); \
	} while (0)
#define AS_FLOAT(v) ((float)(v))
#define S16(v)	    ((float)(v) / 32768.0f)
#define S32(v)	    ((float)(v) / 2147483648.0f)

static void convert(const AVFrame *fr, int fmt, uint32_t channels, size_t from, size_t n, float *dst)
{
	const bool planar = av_sample_fmt_is_planar(fmt);

	for (uint32_t c = 0; c < channels; c++) {
		const uint8_t *p = planar ? fr->extended_data[c] : fr->extended_data[0];
		const size_t step = planar ? 1 : channels, k0 = planar ? from : from * channels + c;
		float *d = dst + c;

		switch (fmt) {
		case AV_SAMPLE_FMT_FLT:
		case AV_SAMPLE_FMT_FLTP: CONVERT(float, AS_FLOAT); break;
		case AV_SAMPLE_FMT_S16:
		case AV_SAMPLE_FMT_S16P: CONVERT(int16_t, S16); break;
		case AV_SAMPLE_FMT_S32:
		case AV_SAMPLE_FMT_S32P: CONVERT(int32_t, S32); break;
		case AV_SAMPLE_FMT_DBL:
		case AV_SAMPLE_FMT_DBLP: CONVERT(double, AS_FLOAT); break;
		default: break; /* never: media_open() refuses any other format */
		}
	}
}
#undef CONVERT
#undef AS_FLOAT
#undef S16
#undef S32

static int media_read(struct audio_src *s, float *dst, size_t n, size_t *got)
{
	struct media *m = s->state;
	size_t done = 0;

	while (done < n) {
		if (!m->have || m->used >= (size_t)m->fr->nb_samples) {
			m->have = false;
			if (m->ended)
				break;
			int rc = next_frame(m);
			if (rc != AIRLOCK_OK)
				return rc;
			if (m->ended) {
				/* What was whole before the cut is the audio (audio.c's length policy). */
				if (m->heard.truncated)
					s->changes |= AIRLOCK_CHANGE_TRUNCATED;
				break;
			}
			/* The stream's parameters are those of its first frame, for good. */
			if (m->fr->format != m->fmt || (uint32_t)m->fr->sample_rate != s->rate ||
			    (uint32_t)m->fr->ch_layout.nb_channels != s->channels || m->fr->nb_samples < 0)
				return AIRLOCK_E_MALFORMED;
			continue;
		}
		size_t take = (size_t)m->fr->nb_samples - m->used;
		if (take > n - done)
			take = n - done;
		convert(m->fr, m->fmt, s->channels, m->used, take, dst + done * s->channels);
		m->used += take;
		done += take;
	}
	*got = done;
	return AIRLOCK_OK;
}

static bool is_attached_picture(const AVStream *st)
{
	return (st->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
}

/*
 * Whether d holds a tag beyond those every muxer writes, which say nothing
 * about the content: the brands, the muxer's and handler's names, an
 * undetermined language, Matroska's per-track duration.
 */
static bool has_metadata(const AVDictionary *d)
{
	static const char *const structural[] = { "major_brand",  "minor_version", "compatible_brands", "encoder",
						  "handler_name", "vendor_id",	   "duration",		NULL };
	const AVDictionaryEntry *e = NULL;

	while ((e = av_dict_get(d, "", e, AV_DICT_IGNORE_SUFFIX)) != NULL) {
		bool plain = av_strcasecmp(e->key, "language") == 0 && strcmp(e->value, "und") == 0;
		for (const char *const *k = structural; *k; k++)
			plain = plain || av_strcasecmp(e->key, *k) == 0;
		if (!plain)
			return true;
	}
	return false;
}

static const char *container_mime(uint32_t type)
{
	return type == AIRLOCK_TYPE_MP4 ? "video/mp4" : "video/x-matroska";
}

/* Opens the container and its audio track's decoder; out->mime names what is refused as unsupported. */
static int media_open(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type, struct audio_src *s,
		      struct frame *out)
{
	const char *demuxer = type == AIRLOCK_TYPE_MP4 ? "mov" : "matroska";
	AVDictionary *opts = NULL;
	struct media *m = calloc(1, sizeof(*m));
	int rc, e;

	if (m == NULL)
		return AIRLOCK_E_MEMORY;
	s->state = m;
	s->close = media_close;
	s->read = media_read;
	/* Set here too, for in-process callers that never ran media_warm(). */
	av_log_set_callback(media_log);
	listening = &m->heard;
	m->stream = -1;
	m->mem = (struct mem){ .buf = buf, .len = len };
	uint8_t *iobuf = av_malloc(IO_BUFFER);
	if (iobuf == NULL)
		return AIRLOCK_E_MEMORY;
	m->io = avio_alloc_context(iobuf, IO_BUFFER, 0, &m->mem, mem_read, NULL, mem_seek);
	if (m->io == NULL) {
		av_free(iobuf);
		return AIRLOCK_E_MEMORY;
	}
	m->io->seekable = AVIO_SEEKABLE_NORMAL;
	m->fc = avformat_alloc_context();
	m->pkt = av_packet_alloc();
	m->fr = av_frame_alloc();
	if (m->fc == NULL || m->pkt == NULL || m->fr == NULL)
		return AIRLOCK_E_MEMORY;
	m->fc->pb = m->io;
	m->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
	m->fc->io_open = no_io_open;
	const AVInputFormat *ifmt = av_find_input_format(demuxer);
	if (ifmt == NULL)
		return AIRLOCK_E_INTERNAL;
	if (av_dict_set(&opts, "format_whitelist", demuxer, 0) < 0 ||
	    av_dict_set(&opts, "protocol_whitelist", "", 0) < 0 || av_dict_set(&opts, "err_detect", "explode", 0) < 0 ||
	    av_dict_set(&opts, "max_streams", "16", 0) < 0) {
		av_dict_free(&opts);
		return AIRLOCK_E_MEMORY;
	}
	e = avformat_open_input(&m->fc, NULL, ifmt, &opts);
	av_dict_free(&opts);
	if (e < 0) {
		/* avformat_open_input() frees the context on failure, never the custom I/O. */
		m->fc = NULL;
		return av_error(e);
	}
	if (m->heard.error || m->heard.damaged)
		return AIRLOCK_E_MALFORMED;

	/* The first audio track is decoded; any other track is dropped, pictures and tags are metadata. */
	bool video = false, audio = false;
	for (unsigned i = 0; i < m->fc->nb_streams; i++) {
		const AVStream *st = m->fc->streams[i];
		const enum AVMediaType kind = st->codecpar->codec_type;

		if (is_attached_picture(st) || kind == AVMEDIA_TYPE_ATTACHMENT) {
			s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
		} else if (kind == AVMEDIA_TYPE_AUDIO && m->stream < 0) {
			m->stream = (int)i;
			audio = true;
		} else {
			video = video || kind == AVMEDIA_TYPE_VIDEO;
			s->changes |= AIRLOCK_CHANGE_TRACKS_DROPPED;
		}
		if (has_metadata(st->metadata))
			s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	}
	if (has_metadata(m->fc->metadata) || m->fc->nb_chapters > 0)
		s->changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	/* Neither sound nor pictures: a container cut or damaged before its first track was whole. */
	if (!audio && !video)
		return AIRLOCK_E_MALFORMED;
	/* A video airlock cannot decode yet, unless the caller asked for its audio; a video with no sound. */
	if ((video && lim->track != AIRLOCK_TRACK_AUDIO) || m->stream < 0) {
		out->mime = mime_index(container_mime(type));
		return AIRLOCK_E_UNSUPPORTED;
	}

	AVStream *st = m->fc->streams[m->stream];
	const char *name = NULL;
	for (size_t i = 0; i < sizeof(audio_codecs) / sizeof(audio_codecs[0]); i++)
		if (audio_codecs[i].id == st->codecpar->codec_id)
			name = audio_codecs[i].decoder;
	if (name == NULL) {
		out->mime = mime_index(codec_mime(st->codecpar->codec_id));
		return AIRLOCK_E_UNSUPPORTED;
	}
	/* Every other track is discarded by the demuxer: its packets are never read into memory. */
	for (unsigned i = 0; i < m->fc->nb_streams; i++)
		if ((int)i != m->stream)
			m->fc->streams[i]->discard = AVDISCARD_ALL;
	const AVCodec *codec = avcodec_find_decoder_by_name(name);
	m->cc = codec ? avcodec_alloc_context3(codec) : NULL;
	if (m->cc == NULL)
		return codec ? AIRLOCK_E_MEMORY : AIRLOCK_E_INTERNAL;
	e = avcodec_parameters_to_context(m->cc, st->codecpar);
	if (e < 0)
		return av_error(e);
	m->cc->pkt_timebase = st->time_base;
	m->cc->thread_count = 1;
	m->cc->thread_type = 0;
	m->cc->err_recognition = AV_EF_EXPLODE;
	if (av_dict_set(&opts, "codec_whitelist", name, 0) < 0) {
		av_dict_free(&opts);
		return AIRLOCK_E_MEMORY;
	}
	e = avcodec_open2(m->cc, codec, &opts);
	av_dict_free(&opts);
	if (e < 0)
		return av_error(e);

	/* The rate and channels are the first decoded frame's: the container and the codec header may lie. */
	rc = next_frame(m);
	if (rc != AIRLOCK_OK)
		return rc;
	if (!m->have)
		return AIRLOCK_E_MALFORMED; /* no audio at all */
	if (m->fr->sample_rate <= 0 || m->fr->ch_layout.nb_channels <= 0 || m->fr->nb_samples < 0)
		return AIRLOCK_E_MALFORMED;
	m->fmt = m->fr->format;
	s->rate = (uint32_t)m->fr->sample_rate;
	s->channels = (uint32_t)m->fr->ch_layout.nb_channels;
	switch (m->fmt) {
	case AV_SAMPLE_FMT_S16:
	case AV_SAMPLE_FMT_S16P: s->format = FRAME_FORMAT_S16; break;
	case AV_SAMPLE_FMT_FLT:
	case AV_SAMPLE_FMT_FLTP: s->format = FRAME_FORMAT_F32; break;
	case AV_SAMPLE_FMT_S32:
	case AV_SAMPLE_FMT_S32P:
	case AV_SAMPLE_FMT_DBL:
	case AV_SAMPLE_FMT_DBLP: s->format = 0; break;
	default: return AIRLOCK_E_UNSUPPORTED; /* a sample format none of the decoders gives */
	}
	return AIRLOCK_OK;
}

int media_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
		      const struct pixel_alloc *pa, struct frame *out)
{
	struct audio_src src;

	if (out == NULL)
		return AIRLOCK_E_INVALID_ARG;
	memset(out, 0, sizeof *out);
	memset(&src, 0, sizeof src);
	out->type = type;
	if (buf == NULL || lim == NULL || (type != AIRLOCK_TYPE_MP4 && type != AIRLOCK_TYPE_MATROSKA) ||
	    (lim->sample_format != FRAME_FORMAT_F32 && lim->sample_format != FRAME_FORMAT_S16))
		return AIRLOCK_E_INVALID_ARG;
	if (len == 0)
		return AIRLOCK_E_EMPTY;
	if (len > (size_t)INT64_MAX)
		return AIRLOCK_E_INPUT_TOO_BIG;
	int rc = media_open(buf, len, lim, type, &src, out);
	if (rc != AIRLOCK_OK) {
		uint32_t mime = out->mime;
		media_close(&src);
		out->mime = rc == AIRLOCK_E_UNSUPPORTED ? mime : 0;
		out->type = type;
		return rc;
	}
	/* The source is audio.c's now; what the demuxer says while it reads still reaches src.changes. */
	rc = audio_decode_src(&src, lim, pa, out);
	out->type = type;
	return rc;
}

int media_decode_any(void *magic, const uint8_t *buf, size_t len, const struct limits *lim,
		     const struct pixel_alloc *pa, struct frame *out)
{
	return decode_any_media(magic, buf, len, lim, pa, media_decode_into, out);
}

void media_warm(void)
{
	av_log_set_callback(media_log);
	(void)av_get_cpu_flags();
	for (size_t i = 0; i < sizeof(audio_codecs) / sizeof(audio_codecs[0]); i++) {
		const AVCodec *c = avcodec_find_decoder_by_name(audio_codecs[i].decoder);
		AVCodecContext *cc = c ? avcodec_alloc_context3(c) : NULL;

		if (cc == NULL)
			continue;
		cc->thread_count = 1;
		cc->thread_type = 0;
		/* Each decoder's static tables are built on its first open (ff_thread_once). */
		(void)avcodec_open2(cc, c, NULL);
		avcodec_free_context(&cc);
	}
	/* The FLAC parser and the Matroska demuxer ask for CRC tables, each built once. */
	for (int id = 0; id < AV_CRC_MAX; id++)
		(void)av_crc_get_table((AVCRCId)id);
	(void)av_find_input_format("mov");
	(void)av_find_input_format("matroska");
}
