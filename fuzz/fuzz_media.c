/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the media containers (decoders/media.c), MP4 and
 * Matroska through FFmpeg's mov and matroska demuxers and its aac, opus,
 * vorbis, mp3float, flac and alac decoders, as the media zygote's worker
 * reaches them (media_warm() once, then media_decode_into()), with a pixel
 * allocator that keeps account. airlock's code is instrumented; FFmpeg is
 * Debian's build, so the fuzzer steers by what media.c and the audio
 * pipeline do with what FFmpeg returns.
 *
 * The production limits, but at most 4 seconds of audio (1 with a flag):
 * a decode stops at the cap, so no input spends the run's time on minutes
 * of output under ASan.
 *
 * Without a trailer the type is what airlock's own signature check says,
 * and input of any other type is skipped. Trailer flags (fuzz/fuzz.h):
 * a bit 0 s16 out (else float32), bit 1 mono, bits 2-4 the output rate
 * (source, 16000, 8000, 22050, 44100, 48000, 11025, 96000), bit 5 track
 * audio (else any: a file with video is refused), bit 6 a 1-second cap,
 * bit 7 tight audio caps (2 channels, 8000-48000 Hz, 64 KiB of output);
 * b bit 0 the type the decoder is told (MP4, Matroska), whatever the bytes
 * are, bits 1-2 the canonical output the result is then encoded to (none,
 * WAV, FLAC, raw).
 */
#include <math.h>
#include <string.h>

#include "encode.h"
#include "media.h"

#define LIVE_MAX 4

/* Every output buffer the decoder holds, with the size it was taken or last resized with. */
struct ledger {
	void *p[LIVE_MAX];
	size_t n[LIVE_MAX];
};

static int led_find(const struct ledger *l, const void *p)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (l->p[i] == p)
			return i;
	return -1;
}

static void *led_alloc(void *user, size_t n)
{
	struct ledger *l = user;
	const int i = led_find(l, NULL);
	FUZZ_CHECK(i >= 0); /* more than LIVE_MAX output buffers at once */
	l->p[i] = malloc(n ? n : 1);
	l->n[i] = n;
	return l->p[i];
}

static void *led_resize(void *user, void *p, size_t old, size_t n)
{
	struct ledger *l = user;
	if (p == NULL) {
		FUZZ_CHECK(old == 0);
		return led_alloc(user, n);
	}
	const int i = led_find(l, p);
	FUZZ_CHECK(i >= 0 && l->n[i] == old);
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		return NULL;
	l->p[i] = q;
	l->n[i] = n;
	return q;
}

static void led_release(void *user, void *p, size_t n)
{
	struct ledger *l = user;
	const int i = led_find(l, p);
	FUZZ_CHECK(p != NULL && i >= 0 && l->n[i] == n);
	free(p);
	l->p[i] = NULL;
}

static int led_live(const struct ledger *l)
{
	int live = 0;
	for (int i = 0; i < LIVE_MAX; i++)
		live += l->p[i] != NULL;
	return live;
}

/* The MIME types media.c names for a refused file: its container's, or the codec's. */
static int refused_mime_ok(uint32_t mime, uint32_t type)
{
	static const char *const codecs[] = { "audio/vnd.dolby.dd-raw", "audio/amr", "audio/*" };
	const char *name = mime_name(mime);
	if (mime == 0)
		return 1;
	if (name == NULL)
		return 0;
	if (strcmp(name, type == AIRLOCK_TYPE_MP4 ? "video/mp4" : "video/x-matroska") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (strcmp(name, codecs[i]) == 0)
			return 1;
	return 0;
}

static const uint32_t rates[8] = { 0, 16000, 8000, 22050, 44100, 48000, 11025, 96000 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	media_warm();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limits lim;
	limits_default(&lim);
	lim.max_seconds = 4;
	uint32_t type = AIRLOCK_TYPE_NONE;
	struct fuzz_flags fl = fuzz_trailer(data, &size);
	if (fl.present) {
		lim.sample_format = (fl.a & 1u) ? FRAME_FORMAT_S16 : FRAME_FORMAT_F32;
		lim.mono = (fl.a >> 1) & 1u;
		lim.out_rate = rates[(fl.a >> 2) & 7u];
		lim.track = (fl.a & 0x20u) ? AIRLOCK_TRACK_AUDIO : AIRLOCK_TRACK_ANY;
		if (fl.a & 0x40u)
			lim.max_seconds = 1;
		if (fl.a & 0x80u) {
			lim.max_channels = 2;
			lim.min_rate = 8000;
			lim.max_rate = 48000;
			lim.max_decoded_bytes = 64u << 10;
		}
		type = (fl.b & 1u) ? AIRLOCK_TYPE_MATROSKA : AIRLOCK_TYPE_MP4;
	} else if (detect_type(NULL, data, size, &type) != AIRLOCK_OK ||
		   !(AIRLOCK_TYPE_BIT(type) & AIRLOCK_TYPES_MEDIA)) {
		return 0;
	}

	/* An exact copy, so ASan sees a read past the input (FFmpeg's reads go through media.c's memcpy). */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct ledger led = { { 0 }, { 0 } };
	const struct pixel_alloc pa = { led_alloc, led_resize, led_release, &led };
	struct frame f = { 0 };
	int rc = media_decode_into(copy, size, &lim, type, &pa, &f);
	free(copy);

	FUZZ_CHECK(f.type == type);
	if (rc != AIRLOCK_OK) {
		/* Refused: nothing held, an error a worker may report, and the host takes it as that error. */
		fuzz_check_refused(rc, &f);
		FUZZ_CHECK(led_live(&led) == 0);
		FUZZ_CHECK((rc == AIRLOCK_E_EMPTY) == (size == 0));
		FUZZ_CHECK(rc == AIRLOCK_E_UNSUPPORTED ? refused_mime_ok(f.mime, type) : f.mime == 0);
		struct frame_header h;
		uint64_t plen = 0;
		frame_header_from(&f, rc, &h);
		FUZZ_CHECK(frame_validate(&h, &lim, &plen) == rc);
		return 0;
	}

	/* Decoded audio has the shape the request asked for, in the one buffer the decoder still holds. */
	const size_t sample_bytes = lim.sample_format == FRAME_FORMAT_S16 ? 2 : 4;
	FUZZ_CHECK(f.kind == FRAME_KIND_AUDIO && f.format == lim.sample_format && f.mime == 0 && f.limit == 0);
	FUZZ_CHECK(f.width == 0 && f.height == 0);
	FUZZ_CHECK(f.channels >= 1 && f.channels <= lim.max_channels && (!lim.mono || f.channels == 1));
	FUZZ_CHECK(lim.out_rate ? f.rate == lim.out_rate : f.rate >= lim.min_rate && f.rate <= lim.max_rate);
	FUZZ_CHECK(f.frames >= 1 && f.frames <= (uint64_t)lim.max_seconds * f.rate);
	FUZZ_CHECK(f.pixels != NULL && f.size == f.frames * f.channels * sample_bytes);
	FUZZ_CHECK(f.size <= lim.max_decoded_bytes);
	FUZZ_CHECK(led_live(&led) == 1 && led_find(&led, f.pixels) >= 0 && led.n[led_find(&led, f.pixels)] == f.size);
	/*
	 * The audio changes and tracks_dropped; truncated only for Matroska (the demuxer's cut between
	 * blocks, docs/api.md "Media containers"); only what was asked.
	 */
	const uint32_t allowed = AIRLOCK_CHANGE_METADATA_DROPPED | AIRLOCK_CHANGE_DOWNMIXED | AIRLOCK_CHANGE_RESAMPLED |
				 AIRLOCK_CHANGE_FORMAT_CONVERTED | AIRLOCK_CHANGE_TRACKS_DROPPED |
				 (type == AIRLOCK_TYPE_MATROSKA ? AIRLOCK_CHANGE_TRUNCATED : 0);
	FUZZ_CHECK((f.changes & ~allowed) == 0);
	FUZZ_CHECK(lim.mono || !(f.changes & AIRLOCK_CHANGE_DOWNMIXED));
	FUZZ_CHECK(lim.out_rate || !(f.changes & AIRLOCK_CHANGE_RESAMPLED));
	static const airlock_format outputs[4] = { 0, AIRLOCK_FORMAT_WAV, AIRLOCK_FORMAT_FLAC, AIRLOCK_FORMAT_RAW };
	fuzz_audio_accepted(&f, &lim, fl.present ? outputs[(fl.b >> 1) & 3u] : 0);
	led_release(&led, f.pixels, f.size);
	return 0;
}
