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
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <math.h>

#include "audio_src.h"
#include "decode.h"
#include "media.h"
#include "sampling.h"
#include "video.h"

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
	bool oversize;	/* a picture over the decoder's max_pixels, refused before allocation */
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
	/* av_image_check_size2(): "... exceeds specified max pixel count", or "... is invalid". */
	if (strncmp(fmt, "Picture size %ux%u ", 19) == 0)
		h->oversize = true;
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

static void media_free(struct media *m)
{
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
}

static void media_close(struct audio_src *s)
{
	media_free(s->state);
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
		/* A language code (ISO 639-2: three letters; Matroska's default is "eng") says nothing. */
		const char *v = e->value;
		bool plain = av_strcasecmp(e->key, "language") == 0 && strlen(v) == 3 && v[0] >= 'a' && v[0] <= 'z' &&
			     v[1] >= 'a' && v[1] <= 'z' && v[2] >= 'a' && v[2] <= 'z';
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

/*
 * The container of len bytes at buf, as the demuxer type names, in m: the
 * custom I/O, no probe, nothing opened beyond buf, FFmpeg's messages heard.
 */
static int demux_open(struct media *m, const uint8_t *buf, size_t len, uint32_t type)
{
	const char *demuxer = type == AIRLOCK_TYPE_MP4 ? "mov" : "matroska";
	AVDictionary *opts = NULL;
	int e;

	/* Set here too, for in-process callers that never ran media_warm(). */
	av_log_set_callback(media_log);
	listening = &m->heard;
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
	if (m->fc == NULL)
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
	return AIRLOCK_OK;
}

/*
 * Chooses the first track of kind into m->stream (-1: none). Any other
 * track is dropped; pictures, attachments, tags and chapters are metadata.
 * *video and *audio say whether there is a track of each.
 */
static void survey(struct media *m, enum AVMediaType want, uint32_t *changes, bool *audio, bool *video)
{
	*audio = *video = false;
	m->stream = -1;
	for (unsigned i = 0; i < m->fc->nb_streams; i++) {
		const AVStream *st = m->fc->streams[i];
		const enum AVMediaType kind = st->codecpar->codec_type;

		if (is_attached_picture(st) || kind == AVMEDIA_TYPE_ATTACHMENT) {
			*changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
			continue;
		}
		*audio = *audio || kind == AVMEDIA_TYPE_AUDIO;
		*video = *video || kind == AVMEDIA_TYPE_VIDEO;
		if (kind == want && m->stream < 0)
			m->stream = (int)i;
		else
			*changes |= AIRLOCK_CHANGE_TRACKS_DROPPED;
		if (has_metadata(st->metadata))
			*changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
	}
	if (has_metadata(m->fc->metadata) || m->fc->nb_chapters > 0)
		*changes |= AIRLOCK_CHANGE_METADATA_DROPPED;
}

/*
 * The decoder called name for m->stream, with one thread, every bitstream
 * error fatal and a codec whitelist of that one; every other track is
 * discarded by the demuxer, so its packets are never read into memory.
 */
static int decoder_open(struct media *m, const char *name, int64_t max_pixels)
{
	AVStream *st = m->fc->streams[m->stream];
	AVDictionary *opts = NULL;
	int e;

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
	if (max_pixels > 0) {
		/* The size comes from the bitstream, checked against max_pixels there; the container's claim is not
		 * used. */
		m->cc->width = m->cc->height = m->cc->coded_width = m->cc->coded_height = 0;
	}
	m->cc->thread_count = 1;
	m->cc->thread_type = 0;
	m->cc->err_recognition = AV_EF_EXPLODE;
	if (max_pixels > 0)
		m->cc->max_pixels = max_pixels; /* refused before any picture buffer is allocated */
	if (av_dict_set(&opts, "codec_whitelist", name, 0) < 0) {
		av_dict_free(&opts);
		return AIRLOCK_E_MEMORY;
	}
	e = avcodec_open2(m->cc, codec, &opts);
	av_dict_free(&opts);
	return e < 0 ? av_error(e) : AIRLOCK_OK;
}

/* A new struct media with its packet and frame, or NULL. */
static struct media *media_new(void)
{
	struct media *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->stream = -1;
	m->pkt = av_packet_alloc();
	m->fr = av_frame_alloc();
	if (m->pkt == NULL || m->fr == NULL) {
		media_free(m);
		return NULL;
	}
	return m;
}

/* Opens the container and its audio track's decoder; out->mime names what is refused as unsupported. */
static int media_open(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type, struct audio_src *s,
		      struct frame *out)
{
	struct media *m = media_new();
	bool audio, video;
	int rc;

	if (m == NULL)
		return AIRLOCK_E_MEMORY;
	s->state = m;
	s->close = media_close;
	s->read = media_read;
	rc = demux_open(m, buf, len, type);
	if (rc != AIRLOCK_OK)
		return rc;
	survey(m, AVMEDIA_TYPE_AUDIO, &s->changes, &audio, &video);
	/* Neither sound nor pictures: a container cut or damaged before its first track was whole. */
	if (!audio && !video)
		return AIRLOCK_E_MALFORMED;
	/* A video is decoded when the caller asks for it (AIRLOCK_TRACK_VIDEO), its sound when asked for that. */
	if ((video && lim->track != AIRLOCK_TRACK_AUDIO) || m->stream < 0) {
		out->mime = mime_index(container_mime(type));
		return AIRLOCK_E_UNSUPPORTED;
	}

	const AVStream *st = m->fc->streams[m->stream];
	const char *name = NULL;
	for (size_t i = 0; i < sizeof(audio_codecs) / sizeof(audio_codecs[0]); i++)
		if (audio_codecs[i].id == st->codecpar->codec_id)
			name = audio_codecs[i].decoder;
	if (name == NULL) {
		out->mime = mime_index(codec_mime(st->codecpar->codec_id));
		return AIRLOCK_E_UNSUPPORTED;
	}
	rc = decoder_open(m, name, 0);
	if (rc != AIRLOCK_OK)
		return rc;

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

/* ---- Video (AIRLOCK_TRACK_VIDEO) ---- */

/* The video codecs decoded, each by one decoder. AV1's native decoder is hardware-only in FFmpeg 5.1. */
static const struct {
	enum AVCodecID id;
	const char *decoder;
} video_codecs[] = {
	{ AV_CODEC_ID_H264, "h264" }, { AV_CODEC_ID_HEVC, "hevc" },    { AV_CODEC_ID_VP8, "vp8" },
	{ AV_CODEC_ID_VP9, "vp9" },   { AV_CODEC_ID_AV1, "libdav1d" },
};

/*
 * The output's colour conversion and scaling: OpenCV's flags (its FFmpeg
 * capture converts with SWS_BICUBIC alone), so that the frames are vLLM's
 * default loader's, byte for byte; SWS_ACCURATE_RND would move them by up
 * to 6 levels on average. The same flags at any size, so that a frame kept
 * at its size is a plain conversion. Never SWS_FAST_BILINEAR: its x86 code
 * is generated at run time in PROT_EXEC memory, which the filter refuses.
 */
#define VIDEO_SWS_FLAGS SWS_BICUBIC

/* Bytes swscale may store past the last row of its output: whole SIMD vectors (64 covers AVX-512's). */
#define SWS_SLACK 256

/* The clockwise rotation that shows the track upright, as the ffmpeg tool reads its display matrix. */
static uint32_t display_rotation(const AVStream *st)
{
	size_t size = 0;
	const uint8_t *sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);

	if (sd == NULL || size < 9 * sizeof(int32_t))
		return 0;
	double theta = -av_display_rotation_get((const int32_t *)sd);
	if (isnan(theta))
		return 0;
	theta -= 360 * floor(theta / 360 + 0.9 / 360);
	for (uint32_t r = 90; r <= 270; r += 90)
		if (fabs(theta - r) < 1.0)
			return r;
	return 0; /* no rotation, or an angle that is not a right angle: shown as stored, as ffmpeg does */
}

/* What the first pass learns without decoding: packets that become frames, and their time span. */
struct count {
	uint64_t packets;
	int64_t lo, hi; /* the smallest and largest pts, in the stream's time base */
};

/* Opens the container and the video track's decoder in a fresh m; out->mime names what is unsupported. */
static int video_open(struct media *m, const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
		      uint32_t *changes, struct frame *out)
{
	bool audio, video;
	int rc = demux_open(m, buf, len, type);

	if (rc != AIRLOCK_OK)
		return rc;
	survey(m, AVMEDIA_TYPE_VIDEO, changes, &audio, &video);
	if (!audio && !video)
		return AIRLOCK_E_MALFORMED;
	if (m->stream < 0) {
		out->mime = mime_index(container_mime(type));
		return AIRLOCK_E_UNSUPPORTED; /* sound alone: AIRLOCK_TRACK_AUDIO takes it */
	}
	const char *name = NULL;
	for (size_t i = 0; i < sizeof(video_codecs) / sizeof(video_codecs[0]); i++)
		if (video_codecs[i].id == m->fc->streams[m->stream]->codecpar->codec_id)
			name = video_codecs[i].decoder;
	if (name == NULL) {
		out->mime = mime_index("video/*");
		return AIRLOCK_E_UNSUPPORTED;
	}
	/*
	 * The decoder refuses a picture over twice max_pixels (and 1 Mi more)
	 * before allocating it: decoders check their padded buffer sizes (an
	 * H.264 frame of 160x120 is 192x120 there), and the exact limit is
	 * applied to each decoded frame's own size.
	 */
	const uint64_t guard = lim->max_pixels > (1ull << 40) ? (1ull << 41) : 2 * lim->max_pixels + (1u << 20);
	return decoder_open(m, name, (int64_t)guard);
}

/*
 * Whether a packet of the track becomes a decoded frame: all but those an
 * edit list discards, and VP8's invisible frames (an alternate reference
 * frame in a block of its own: the show_frame bit of its frame tag clear),
 * which the decoder keeps as a reference and never outputs. VP9 packs its
 * hidden frames with a shown one in a superframe: one packet, one frame.
 */
static bool shown(const AVPacket *pkt, enum AVCodecID codec)
{
	if (pkt->flags & AV_PKT_FLAG_DISCARD)
		return false;
	return codec != AV_CODEC_ID_VP8 || pkt->size < 1 || (pkt->data[0] & 0x10) != 0;
}

/*
 * Pass 1: the video track's packets, counted without decoding (each shown
 * one is one frame of the codecs above; pass 2 checks it), with the span
 * of their times. Stops at the decoded-frame limit.
 */
static int video_count(struct media *m, const struct limits *lim, struct count *c, struct frame *out)
{
	int e;

	const enum AVCodecID codec = m->fc->streams[m->stream]->codecpar->codec_id;

	*c = (struct count){ .lo = INT64_MAX, .hi = INT64_MIN };
	while ((e = av_read_frame(m->fc, m->pkt)) >= 0) {
		const bool mine = m->pkt->stream_index == m->stream && shown(m->pkt, codec);
		const int64_t pts = m->pkt->pts;

		av_packet_unref(m->pkt);
		if (m->heard.error || m->heard.damaged)
			return AIRLOCK_E_MALFORMED;
		if (!mine)
			continue;
		if (++c->packets > lim->video_max_decoded_frames) {
			out->limit = AIRLOCK_VIDEO_MAX_DECODED_FRAMES;
			return AIRLOCK_E_TOO_LONG;
		}
		if (pts != AV_NOPTS_VALUE) {
			c->lo = pts < c->lo ? pts : c->lo;
			c->hi = pts > c->hi ? pts : c->hi;
		}
	}
	if (e != AVERROR_EOF)
		return av_error(e);
	if (m->heard.error || m->heard.damaged)
		return AIRLOCK_E_MALFORMED;
	return c->packets == 0 ? AIRLOCK_E_MALFORMED : AIRLOCK_OK;
}

/* Microseconds of d ticks of tb, or -1 when that does not fit. */
static int64_t ticks_us(int64_t d, AVRational tb)
{
	if (d < 0 || tb.num <= 0 || tb.den <= 0)
		return -1;
	const int64_t us =
		av_rescale_q_rnd(d, tb, (AVRational){ 1, 1000000 }, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
	return us < 0 || us == INT64_MAX ? -1 : us;
}

/*
 * The rate the sampling rule is given. The track's average rate as the
 * demuxer states it (what OpenCV reports to vLLM as CAP_PROP_FPS), when
 * the frames' own times agree with it within a factor of two; otherwise
 * the rate those times show: frames over their span. A stated rate far
 * from the times is a lie about the file (CVE-2026-105758: a Matroska
 * DefaultDuration of 1000 s over frames 40 ms apart makes Qwen3-VL's
 * loader take 768 frames where the file has 64 seconds' worth). 0/0,
 * unknown, when neither is known or the rate is over VIDEO_MAX_FPS.
 */
static void video_rate(const AVStream *st, const struct count *c, uint32_t *num, uint32_t *den)
{
	const int64_t span = c->hi > c->lo ? ticks_us(c->hi - c->lo, st->time_base) : -1;
	const double measured = c->packets >= 2 && span > 0 ? (double)(c->packets - 1) * 1e6 / (double)span : 0;
	AVRational r = st->avg_frame_rate;
	const double stated = r.num > 0 && r.den > 0 ? av_q2d(r) : 0;

	*num = *den = 0;
	if (stated <= 0 || (measured > 0 && (stated > 2 * measured || measured > 2 * stated))) {
		if (measured <= 0)
			return;
		r = av_d2q(measured, 1001000);
	}
	av_reduce(&r.num, &r.den, r.num, r.den, INT32_MAX);
	if (r.num <= 0 || r.den <= 0 || (int64_t)r.num > (int64_t)VIDEO_MAX_FPS * r.den)
		return;
	*num = (uint32_t)r.num;
	*den = (uint32_t)r.den;
}

/* The conversion of one decoded picture: swscale to the output size, then the rotation, into the payload. */
struct convert {
	struct SwsContext *sws;
	uint32_t w, h;	 /* the decoded frames' size and format, for good */
	int format;	 /* AVPixelFormat */
	uint32_t sw, sh; /* scaled, before rotation */
	uint32_t rotation;
	uint8_t *scratch; /* sh rows of stride bytes, and SWS_SLACK more */
	size_t stride;	  /* sw x 3 rounded up to 64 */
};

static int convert_init(struct convert *cv, const AVFrame *fr, uint32_t out_w, uint32_t out_h, uint32_t rotation)
{
	const bool turned = rotation == 90 || rotation == 270;
	int cs = fr->colorspace;

	cv->w = (uint32_t)fr->width;
	cv->h = (uint32_t)fr->height;
	cv->format = fr->format;
	cv->rotation = rotation;
	cv->sw = turned ? out_h : out_w;
	cv->sh = turned ? out_w : out_h;
	if (!sws_isSupportedInput(fr->format))
		return AIRLOCK_E_UNSUPPORTED;
	cv->sws = sws_getContext(fr->width, fr->height, fr->format, (int)cv->sw, (int)cv->sh, AV_PIX_FMT_RGB24,
				 VIDEO_SWS_FLAGS, NULL, NULL, NULL);
	if (cv->sws == NULL)
		return AIRLOCK_E_MEMORY;
	/* The matrix and range the stream states, BT.601 when it states none: as ffmpeg's scale filter does. */
	if (cs < 1 || cs > 10 || cs == 8)
		cs = AVCOL_SPC_BT470BG;
	int *inv, *table, in_full, out_full, brightness, contrast, saturation;
	if (sws_getColorspaceDetails(cv->sws, &inv, &in_full, &table, &out_full, &brightness, &contrast, &saturation) >=
	    0) {
		const int *coefs = sws_getCoefficients(cs);
		if (fr->color_range != AVCOL_RANGE_UNSPECIFIED)
			in_full = fr->color_range == AVCOL_RANGE_JPEG;
		sws_setColorspaceDetails(cv->sws, coefs, in_full, coefs, out_full, brightness, contrast, saturation);
	}
	cv->stride = ((size_t)cv->sw * 3 + 63) & ~(size_t)63;
	cv->scratch = malloc(cv->stride * cv->sh + SWS_SLACK);
	return cv->scratch ? AIRLOCK_OK : AIRLOCK_E_MEMORY;
}

static void convert_free(struct convert *cv)
{
	sws_freeContext(cv->sws);
	free(cv->scratch);
	cv->sws = NULL;
	cv->scratch = NULL;
}

/*
 * One decoded picture into dst, the output frame (out_w x out_h x 3). swscale
 * converts into the scratch buffer, never straight into the payload: its
 * SIMD writers store whole vectors past the end of a row, and of the last
 * one (valgrind: 8-byte stores past a buffer of exactly sw x sh x 3), so
 * its rows get a padded stride and the buffer SWS_SLACK bytes more. Then
 * each row is placed, turned or not.
 */
static int convert_frame(struct convert *cv, const AVFrame *fr, uint8_t *dst)
{
	uint8_t *planes[4] = { cv->scratch, NULL, NULL, NULL };
	int strides[4] = { (int)cv->stride, 0, 0, 0 };
	const size_t row = (size_t)cv->sw * 3;

	if (sws_scale(cv->sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height, planes, strides) !=
	    (int)cv->sh)
		return AIRLOCK_E_INTERNAL;
	/* EXIF's orientations: 1 is none, 6 is 90 degrees clockwise, 3 is 180, 8 is 270. */
	const int orientation = cv->rotation == 90 ? 6 : cv->rotation == 180 ? 3 : cv->rotation == 270 ? 8 : 1;
	for (uint32_t y = 0; y < cv->sh; y++) {
		const uint8_t *src = cv->scratch + (size_t)y * cv->stride;
		if (orientation == 1)
			memcpy(dst + (size_t)y * row, src, row);
		else
			pixels_orient_band(src, cv->sw, cv->sh, 3, orientation, y, 1, dst);
	}
	return AIRLOCK_OK;
}

/* The decoded frame's size against the limits; the key that trips in out->limit. */
static int video_check_size(const struct limits *lim, const AVFrame *fr, struct frame *out)
{
	if (fr->width <= 0 || fr->height <= 0)
		return AIRLOCK_E_MALFORMED;
	return image_check_dims(lim, (uint32_t)fr->width, (uint32_t)fr->height, out);
}

/* A decode that failed because the decoder's max_pixels refused a picture: the stream's size is over the limit. */
static int oversize(const struct media *m, int rc, struct frame *out)
{
	if ((rc != AIRLOCK_E_MALFORMED && rc != AIRLOCK_E_MEMORY) || m == NULL || !m->heard.oversize)
		return rc;
	out->limit = AIRLOCK_MAX_PIXELS;
	return AIRLOCK_E_TOO_LARGE;
}

/* The state of pass 2, between the decoded frames. */
struct video_run {
	const struct limits *lim;
	const struct pixel_alloc *pa;
	uint64_t total;		     /* frames, from pass 1 */
	uint64_t *idx;		     /* the sampled indices */
	uint32_t n;		     /* how many */
	uint32_t rotation;	     /* degrees clockwise */
	uint32_t out_w, out_h;	     /* the output frames' size */
	uint64_t pixel_bytes;	     /* T x out_h x out_w x 3 */
	uint64_t payload_bytes;	     /* and the trailer */
	uint8_t *payload;	     /* from pa, once the first frame gives the size */
	uint64_t decoded;	     /* frames decoded so far */
	uint64_t decoded_pixels;     /* their w x h, summed */
	uint32_t next;		     /* the next sampled frame to fill */
	int64_t first_pts, last_pts; /* in the time base */
	int64_t last_us;	     /* last_pts - first_pts in microseconds */
	int64_t *pts_us;	     /* per sampled frame */
	struct convert cv;
	uint32_t changes;
};

/* The first decoded frame fixes the size: the output's, the payload's, the converter's. */
static int video_first(struct video_run *v, const AVFrame *fr, struct frame *out)
{
	int scaled = 0;
	int rc = video_out_size((uint32_t)fr->width, (uint32_t)fr->height, v->rotation, v->lim->video_max_frame_pixels,
				&v->out_w, &v->out_h, &scaled);
	if (rc != AIRLOCK_OK)
		return AIRLOCK_E_MALFORMED;
	if (scaled)
		v->changes |= AIRLOCK_CHANGE_DOWNSCALED;
	if (v->rotation)
		v->changes |= AIRLOCK_CHANGE_ROTATED;
	if (video_payload_size(v->n, v->out_w, v->out_h, &v->pixel_bytes, &v->payload_bytes) != AIRLOCK_OK ||
	    v->pixel_bytes > v->lim->video_max_output_bytes || v->payload_bytes > SIZE_MAX) {
		out->limit = AIRLOCK_VIDEO_MAX_OUTPUT_BYTES;
		return AIRLOCK_E_TOO_LARGE;
	}
	rc = convert_init(&v->cv, fr, v->out_w, v->out_h, v->rotation);
	if (rc != AIRLOCK_OK)
		return rc;
	v->payload = pixels_alloc(v->pa, (size_t)v->payload_bytes);
	if (v->payload == NULL)
		return AIRLOCK_E_MEMORY;
	v->first_pts = fr->best_effort_timestamp;
	v->last_pts = INT64_MIN;
	return AIRLOCK_OK;
}

/* Decoded frame number v->decoded: counted, checked, and converted where the sampling chose it. */
static int video_frame(struct video_run *v, const AVStream *st, const AVFrame *fr, struct frame *out)
{
	int rc = video_check_size(v->lim, fr, out);

	if (rc != AIRLOCK_OK)
		return rc;
	if (fr->flags & AV_FRAME_FLAG_CORRUPT || fr->decode_error_flags || fr->best_effort_timestamp == AV_NOPTS_VALUE)
		return AIRLOCK_E_MALFORMED;
	if (v->decoded >= v->total)
		return AIRLOCK_E_MALFORMED; /* more frames than packets: not one frame a packet */
	const uint64_t area = (uint64_t)fr->width * (uint64_t)fr->height;
	if (area > v->lim->video_max_decoded_pixels - v->decoded_pixels) {
		out->limit = AIRLOCK_VIDEO_MAX_DECODED_PIXELS;
		return AIRLOCK_E_TOO_LONG;
	}
	v->decoded_pixels += area;
	if (v->payload == NULL) {
		rc = video_first(v, fr, out);
		if (rc != AIRLOCK_OK)
			return rc;
	}
	/* One size and one format for the whole track. */
	if ((uint32_t)fr->width != v->cv.w || (uint32_t)fr->height != v->cv.h || fr->format != v->cv.format)
		return AIRLOCK_E_MALFORMED;
	/* Times strictly increasing from the first frame's. */
	const int64_t pts = fr->best_effort_timestamp;
	if (pts <= v->last_pts || pts < v->first_pts)
		return AIRLOCK_E_MALFORMED;
	v->last_pts = pts;
	const int64_t us = ticks_us(pts - v->first_pts, st->time_base);
	if (us < 0 || (uint64_t)us > (uint64_t)v->lim->max_seconds * 1000000u) {
		out->limit = AIRLOCK_MAX_SECONDS;
		return AIRLOCK_E_TOO_LONG;
	}
	/* Times a microsecond apart at least: frames closer are no video (over 10^6 fps), and the frame says µs. */
	if (v->decoded > 0 && us <= v->last_us)
		return AIRLOCK_E_MALFORMED;
	v->last_us = us;
	const size_t frame_bytes = (size_t)v->out_w * v->out_h * 3;
	for (uint32_t j = v->next; j < v->n && v->idx[j] == v->decoded; j++) {
		uint8_t *dst = v->payload + (size_t)j * frame_bytes;
		if (j > v->next)
			memcpy(dst, dst - frame_bytes, frame_bytes); /* the same frame sampled twice */
		else if ((rc = convert_frame(&v->cv, fr, dst)) != AIRLOCK_OK)
			return rc;
		v->pts_us[j] = us;
		v->next = j + 1;
	}
	v->decoded++;
	return AIRLOCK_OK;
}

/* The trailer after the pixels: padding, each sampled frame's time and index, the video block. */
static void video_trailer(struct video_run *v, uint32_t fps_num, uint32_t fps_den, uint64_t duration_us)
{
	uint8_t *p = v->payload + v->pixel_bytes;
	const uint64_t pad = ((v->pixel_bytes + 7) & ~(uint64_t)7) - v->pixel_bytes;

	memset(p, 0, (size_t)pad);
	p += pad;
	for (uint32_t j = 0; j < v->n; j++, p += VIDEO_ENTRY_SIZE)
		video_entry_pack(v->pts_us[j], v->idx[j], p);
	const struct video_block b = { .frames_seen = v->total,
				       .duration_us = duration_us,
				       .fps_num = fps_num,
				       .fps_den = fps_den,
				       .src_width = v->cv.w,
				       .src_height = v->cv.h,
				       .rotation = v->rotation };
	video_block_pack(&b, p);
}

/*
 * The video track: pass 1 counts its frames, the sampling rule chooses
 * which are kept (the host recomputes the same choice), pass 2 decodes
 * every frame from the start with a fresh demuxer and decoder (no seek, so
 * no index is trusted) and converts the chosen ones into the payload.
 */
static int video_decode(const uint8_t *buf, size_t len, const struct limits *lim, uint32_t type,
			const struct pixel_alloc *pa, struct frame *out)
{
	struct video_run v = { .lim = lim, .pa = pa };
	struct sampling_request req;
	struct count c = { 0 };
	uint32_t fps_num = 0, fps_den = 0;
	struct media *m = media_new();
	int rc;

	if (m == NULL)
		return AIRLOCK_E_MEMORY;
	rc = video_open(m, buf, len, lim, type, &v.changes, out);
	if (rc == AIRLOCK_OK)
		rc = video_count(m, lim, &c, out);
	if (rc == AIRLOCK_OK) {
		video_rate(m->fc->streams[m->stream], &c, &fps_num, &fps_den);
		const int64_t span = c.hi >= c.lo ? ticks_us(c.hi - c.lo, m->fc->streams[m->stream]->time_base) : 0;
		if (span < 0 || (uint64_t)span > (uint64_t)lim->max_seconds * 1000000u) {
			out->limit = AIRLOCK_MAX_SECONDS;
			rc = AIRLOCK_E_TOO_LONG;
		}
	}
	rc = oversize(m, rc, out);
	media_free(m);
	m = NULL;
	if (rc != AIRLOCK_OK)
		return rc;

	/* The choice, as the host will make it again from what the frame reports. */
	if (video_sampling_request(lim, &req) != AIRLOCK_OK || lim->video_max_sampled == 0 ||
	    lim->video_max_sampled > SAMPLING_MAX_CAP)
		return AIRLOCK_E_INVALID_ARG;
	v.total = c.packets;
	v.idx = malloc(sizeof(*v.idx) * lim->video_max_sampled);
	v.pts_us = malloc(sizeof(*v.pts_us) * lim->video_max_sampled);
	if (v.idx == NULL || v.pts_us == NULL) {
		rc = AIRLOCK_E_MEMORY;
		goto done;
	}
	rc = sampling_compute(&req, v.total, fps_num, fps_den, lim->video_max_sampled, &v.n, v.idx);
	if (rc != AIRLOCK_OK)
		goto done;

	/* Pass 2. */
	m = media_new();
	if (m == NULL) {
		rc = AIRLOCK_E_MEMORY;
		goto done;
	}
	uint32_t ignored = 0;
	rc = video_open(m, buf, len, lim, type, &ignored, out);
	if (rc != AIRLOCK_OK)
		goto done;
	const AVStream *st = m->fc->streams[m->stream];
	v.rotation = display_rotation(st);
	for (;;) {
		rc = next_frame(m);
		if (rc != AIRLOCK_OK || m->ended)
			break;
		m->have = false;
		rc = video_frame(&v, st, m->fr, out);
		av_frame_unref(m->fr);
		if (rc != AIRLOCK_OK)
			break;
	}
	if (rc != AIRLOCK_OK)
		goto done;
	if (m->heard.truncated || v.decoded != v.total || v.next != v.n || v.payload == NULL) {
		rc = AIRLOCK_E_MALFORMED;
		goto done;
	}
	/* The last frame lasts one frame interval, where the rate is known. */
	uint64_t duration_us = (uint64_t)ticks_us(v.last_pts - v.first_pts, st->time_base);
	if (fps_num)
		duration_us += ((uint64_t)fps_den * 1000000u + fps_num / 2) / fps_num;
	video_trailer(&v, fps_num, fps_den, duration_us);

	out->kind = FRAME_KIND_VIDEO;
	out->format = FRAME_FORMAT_U8;
	out->width = v.out_w;
	out->height = v.out_h;
	out->channels = 3;
	out->frames = v.n;
	out->changes = v.changes;
	out->pixels = v.payload;
	out->size = (size_t)v.payload_bytes;
	v.payload = NULL;
done:
	rc = oversize(m, rc, out);
	if (v.payload != NULL)
		pixels_release(pa, v.payload, (size_t)v.payload_bytes);
	convert_free(&v.cv);
	media_free(m);
	free(v.idx);
	free(v.pts_us);
	return rc;
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
	if (lim->track == AIRLOCK_TRACK_VIDEO) {
		int rc = video_decode(buf, len, lim, type, pa, out);
		if (rc != AIRLOCK_E_UNSUPPORTED)
			out->mime = 0;
		out->type = type;
		return rc;
	}
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

/* Opens and closes the decoder called name once, one thread: its static tables are built on the first open. */
static void warm_decoder(const char *name)
{
	const AVCodec *c = avcodec_find_decoder_by_name(name);
	AVCodecContext *cc = c ? avcodec_alloc_context3(c) : NULL;

	if (cc == NULL)
		return;
	cc->thread_count = 1;
	cc->thread_type = 0;
	(void)avcodec_open2(cc, c, NULL);
	avcodec_free_context(&cc);
}

void media_warm(void)
{
	av_log_set_callback(media_log);
	(void)av_get_cpu_flags();
	for (size_t i = 0; i < sizeof(audio_codecs) / sizeof(audio_codecs[0]); i++)
		warm_decoder(audio_codecs[i].decoder);
	for (size_t i = 0; i < sizeof(video_codecs) / sizeof(video_codecs[0]); i++)
		warm_decoder(video_codecs[i].decoder);
	/* swscale's once-built tables (rgb2rgb, the YUV tables), for each format the decoders give. */
	static const enum AVPixelFormat formats[] = {
		AV_PIX_FMT_YUV420P,	AV_PIX_FMT_YUVJ420P,	AV_PIX_FMT_YUV422P,	AV_PIX_FMT_YUV444P,
		AV_PIX_FMT_YUV420P10LE, AV_PIX_FMT_YUV422P10LE, AV_PIX_FMT_YUV444P10LE, AV_PIX_FMT_YUV420P12LE,
		AV_PIX_FMT_NV12,	AV_PIX_FMT_GRAY8,	AV_PIX_FMT_GBRP,	AV_PIX_FMT_GRAY10LE,
	};
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct SwsContext *sws =
			sws_getContext(64, 48, formats[i], 32, 24, AV_PIX_FMT_RGB24, VIDEO_SWS_FLAGS, NULL, NULL, NULL);
		if (sws != NULL) {
			uint8_t *src[4];
			int sl[4];
			/* The output padded as convert_frame()'s: swscale stores past the end of its rows. */
			uint8_t *dst[4] = { malloc(128 * 24 + SWS_SLACK), NULL, NULL, NULL };
			int dl[4] = { 128, 0, 0, 0 };
			if (dst[0] != NULL && av_image_alloc(src, sl, 64, 48, formats[i], 64) >= 0) {
				(void)sws_scale(sws, (const uint8_t *const *)src, sl, 0, 48, dst, dl);
				av_freep(&src[0]);
			}
			free(dst[0]);
		}
		sws_freeContext(sws);
	}
	/* The FLAC parser and the Matroska demuxer ask for CRC tables, each built once. */
	for (int id = 0; id < AV_CRC_MAX; id++)
		(void)av_crc_get_table((AVCRCId)id);
	(void)av_find_input_format("mov");
	(void)av_find_input_format("matroska");
}
