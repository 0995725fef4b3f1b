/* SPDX-License-Identifier: MIT */
/*
 * A zygote for tests only: the production zygote, rlimits and seccomp
 * policy, with a "decoder" that misbehaves as its input tells it to. The
 * production binaries carry no test hook; tests point AIRLOCK_ZYGOTE here.
 * Inputs that are not a command go to the real decoders.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "proto.h"
#include "sandbox.h"
#include "video.h"

/* How much of its payload "stall-mid-payload" writes into the memfd before it sends its header and stalls. */
#define STALL_PAYLOAD_BYTES (4u << 20)

static int is(const uint8_t *buf, size_t len, const char *cmd)
{
	size_t n = strlen(cmd);
	return len == n && memcmp(buf, cmd, n) == 0;
}

/* Packs a header for a w x h RGB image of the given type, claiming payload bytes. */
static void pack_header(uint32_t w, uint32_t h, uint32_t type, uint64_t payload, uint8_t b[FRAME_HEADER_SIZE])
{
	struct frame_header hd = { .magic = FRAME_MAGIC,
				   .version = FRAME_VERSION,
				   .kind = FRAME_KIND_IMAGE,
				   .format = FRAME_FORMAT_U8,
				   .type = type,
				   .width = w,
				   .height = h,
				   .channels = 3,
				   .payload_len = payload };
	frame_header_pack(&hd, b);
}

/* Sends that header down the pipe. */
static void send_header(uint32_t w, uint32_t h, uint32_t type, uint64_t payload)
{
	uint8_t b[FRAME_HEADER_SIZE];
	pack_header(w, h, type, payload, b);
	io_write_all(1, b, sizeof(b));
}

/* A mono f32 WAV frame of n samples at rate: the payload into its memfd, then the header. */
static void send_audio(uint32_t rate, const float *samples, size_t n)
{
	struct frame_header hd = { .magic = FRAME_MAGIC,
				   .version = FRAME_VERSION,
				   .kind = FRAME_KIND_AUDIO,
				   .format = FRAME_FORMAT_F32,
				   .type = AIRLOCK_TYPE_WAV,
				   .channels = 1,
				   .rate = rate,
				   .frames = n,
				   .payload_len = n * sizeof(float) };
	uint8_t b[FRAME_HEADER_SIZE];
	frame_header_pack(&hd, b);
	payload_put(samples, n * sizeof(float));
	io_write_all(1, b, sizeof(b));
}

/*
 * A video frame as the media worker would send one for this request:
 * 10 decoded frames of 7x5 at 25 fps, sampled by the request's own rule
 * and limits (decoders/video.h), the payload into its memfd, then the
 * header; or the same with one lie: "index" (the second index one more),
 * "frames" (the last sampled frame once more, T and the payload to match),
 * "downscaled" (the bit without a downscale), "reserved" (a reserved byte
 * of the block set). Any other track than video makes every one a lie.
 */
static void send_video(const struct limits *lim, const char *lie)
{
	struct sampling_request req;
	uint64_t idx[17], px, total;
	uint32_t w, h, n;
	int scaled;
	const uint32_t cap = lim->video_max_sampled < 16 ? lim->video_max_sampled : 16;

	if (video_out_size(7, 5, 0, lim->video_max_frame_pixels, &w, &h, &scaled) != AIRLOCK_OK ||
	    video_sampling_request(lim, &req) != AIRLOCK_OK ||
	    sampling_compute(&req, 10, 25, 1, cap, &n, idx) != AIRLOCK_OK)
		_exit(44);
	if (strcmp(lie, "frames") == 0)
		idx[n] = idx[n - 1], n++;
	if (strcmp(lie, "index") == 0 && n > 1)
		idx[1]++;
	if (video_payload_size(n, w, h, &px, &total) != AIRLOCK_OK)
		_exit(44);
	uint8_t *p = calloc(1, (size_t)total);
	if (!p)
		_exit(43);
	for (uint64_t i = 0; i < px; i++)
		p[i] = (uint8_t)(i * 13);
	const uint64_t entries = (px + 7) & ~(uint64_t)7;
	for (uint32_t i = 0; i < n; i++)
		video_entry_pack((int64_t)idx[i] * 40000, idx[i], p + entries + (uint64_t)i * VIDEO_ENTRY_SIZE);
	const struct video_block b = {
		.frames_seen = 10, .duration_us = 400000, .fps_num = 25, .fps_den = 1, .src_width = 7, .src_height = 5
	};
	video_block_pack(&b, p + total - VIDEO_BLOCK_SIZE);
	if (strcmp(lie, "reserved") == 0)
		p[total - 1] = 1;
	struct frame_header hd = { .magic = FRAME_MAGIC,
				   .version = FRAME_VERSION,
				   .kind = FRAME_KIND_VIDEO,
				   .format = FRAME_FORMAT_U8,
				   .type = AIRLOCK_TYPE_MP4,
				   .width = w,
				   .height = h,
				   .channels = 3,
				   .frames = n,
				   .changes =
					   (scaled || strcmp(lie, "downscaled") == 0) ? AIRLOCK_CHANGE_DOWNSCALED : 0,
				   .payload_len = total };
	uint8_t hb[FRAME_HEADER_SIZE];
	frame_header_pack(&hd, hb);
	payload_put(p, (size_t)total);
	io_write_all(1, hb, sizeof(hb));
	_exit(0);
}

/* Spins until ms have passed: the policy has no sleeping call, and the clock is read in the vDSO. */
static void spin_ms(long ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static int evil_decode(void *magic, const uint8_t *buf, size_t len, const struct limits *lim,
		       const struct pixel_alloc *pa, struct frame *out)
{
	static uint8_t zeros[4096];

	if (is(buf, len, "open"))
		open("/etc/passwd", O_RDONLY);
	else if (is(buf, len, "socket"))
		socket(AF_INET, SOCK_STREAM, 0);
	else if (is(buf, len, "fork"))
		syscall(SYS_fork);
	else if (is(buf, len, "exec"))
		execl("/bin/true", "true", (char *)NULL);
	else if (is(buf, len, "write-fd0"))
		(void)!write(0, "x", 1);
	else if (is(buf, len, "write-fd2")) {
		/* libmpg123 warns on stderr: the call must fail with EBADF, and the worker live on. */
		if (write(2, "x", 1) != -1 || errno != EBADF)
			_exit(42);
		return decode_any_into(magic, buf, len, lim, pa, out);
	} else if (is(buf, len, "audio-rate-lie")) {
		/* A well-formed mono f32 WAV frame whose rate is below every allowed minimum. */
		static const float quiet[3];
		send_audio(1, quiet, 3);
		_exit(0);
	} else if (is(buf, len, "audio-nan")) {
		/* A well-formed audio frame whose last sample is a NaN. */
		const float samples[3] = { 0.25f, -0.5f, __builtin_nanf("") };
		send_audio(8000, samples, 3);
		_exit(0);
	} else if (len > 6 && memcmp(buf, "video-", 6) == 0) {
		/* "video-ok", "video-lie-index", "video-lie-frames", "video-lie-downscaled", "video-lie-reserved". */
		char lie[16] = "";
		if (is(buf, len, "video-ok"))
			send_video(lim, "");
		if (len > 10 && len - 10 < sizeof(lie) && memcmp(buf, "video-lie-", 10) == 0) {
			memcpy(lie, buf + 10, len - 10);
			send_video(lim, lie);
		}
		return decode_any_into(magic, buf, len, lim, pa, out);
	} else if (is(buf, len, "mmap-exec"))
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else if (is(buf, len, "segv")) {
		int *volatile bad = NULL;
		*bad = 1;
	} else if (is(buf, len, "abort"))
		abort();
	else if (is(buf, len, "loop"))
		for (volatile unsigned long i = 0;; i++)
			;
	else if (is(buf, len, "alloc")) {
		/* Grow until the address-space cap says no, touching every page. */
		for (;;) {
			uint8_t *p = malloc(64u << 20);
			if (!p) {
				out->limit = AIRLOCK_MEMORY_BYTES;
				return AIRLOCK_E_MEMORY;
			}
			memset(p, 1, 64u << 20);
		}
	} else if (is(buf, len, "garbage")) {
		io_write_all(1, "this is not a frame header, it is just text sent by a liar....!!", 64);
		_exit(0);
	} else if (is(buf, len, "short-header")) {
		io_write_all(1, "ALRF", 4);
		_exit(0);
	} else if (is(buf, len, "short-payload")) {
		payload_put(zeros, 5);
		send_header(2, 2, AIRLOCK_TYPE_PNG, 12);
		_exit(0);
	} else if (is(buf, len, "long-payload")) {
		payload_put(zeros, 12 + 7);
		send_header(2, 2, AIRLOCK_TYPE_PNG, 12);
		_exit(0);
	} else if (is(buf, len, "bytes-after-header")) {
		/* The payload as it should be, and 7 bytes more down the pipe, in the same write as the header. */
		uint8_t b[FRAME_HEADER_SIZE + 7] = { 0 };
		pack_header(2, 2, AIRLOCK_TYPE_PNG, 12, b);
		payload_put(zeros, 12);
		io_write_all(1, b, sizeof(b));
		_exit(0);
	} else if (is(buf, len, "resize-after-header")) {
		/* A valid header, then 200 ms of sizing the unmapped memfd right and wrong in turn: the host may seal
		 * it either way. */
		const size_t size = 64 * 64 * 3;
		send_header(64, 64, AIRLOCK_TYPE_PNG, size);
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			(void)!ftruncate(2, (off_t)size);
			(void)!ftruncate(2, 0);
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 200);
		_exit(0);
	} else if (is(buf, len, "mutate-after-header")) {
		/*
		 * A valid header for a 64x64 RGB frame whose payload is all 0x00,
		 * then, with the memfd still mapped, 200 ms of rewriting it, and
		 * only then the last state (all 0x01) and the exit. The host may
		 * hand out only what is there once nothing can write any more.
		 */
		const size_t size = 64 * 64 * 3;
		uint8_t *p = payload_map(size);
		if (!p)
			_exit(43);
		send_header(64, 64, AIRLOCK_TYPE_PNG, size);
		for (int i = 0; i < 10; i++) {
			spin_ms(20);
			memset(p, 0xa0 + i, size);
		}
		memset(p, 0x01, size);
		munmap(p, size);
		_exit(0);
	} else if (is(buf, len, "lying-length")) {
		send_header(2, 2, AIRLOCK_TYPE_PNG, 1ull << 40);
		_exit(0);
	} else if (is(buf, len, "huge-dims")) {
		send_header(100000, 100000, AIRLOCK_TYPE_PNG, 30000000000ull);
		_exit(0);
	} else if (is(buf, len, "overflow-dims")) {
		/* w*h*3 wraps to a small number in 32-bit arithmetic. */
		send_header(0x80000000u, 2, AIRLOCK_TYPE_PNG, 0);
		_exit(0);
	} else if (is(buf, len, "wrong-type")) {
		payload_put(zeros, 12);
		send_header(2, 2, AIRLOCK_TYPE_FLAC, 12);
		_exit(0);
	} else if (is(buf, len, "silent")) {
		_exit(0);
	} else if (is(buf, len, "exit1")) {
		_exit(1);
	} else if (is(buf, len, "stall-after-header")) {
		send_header(2, 2, AIRLOCK_TYPE_PNG, 12);
		for (volatile unsigned long i = 0;; i++)
			;
	} else if (is(buf, len, "stall-mid-payload")) {
		/*
		 * The first STALL_PAYLOAD_BYTES of the payload of a 2048x2048 RGB
		 * frame (12 MiB) written into the mapped memfd, its valid header
		 * down the pipe, and then nothing more, the memfd still mapped.
		 */
		uint8_t *p = payload_map(2048ull * 2048 * 3);
		if (!p)
			_exit(43);
		memset(p, 0, STALL_PAYLOAD_BYTES);
		send_header(2048, 2048, AIRLOCK_TYPE_PNG, 2048ull * 2048 * 3);
		for (volatile unsigned long i = 0;; i++)
			;
	} else if (is(buf, len, "slow-payload")) {
		/* A valid 64x64 RGB frame of zeros, in 16 pieces 20 ms apart: about 300 ms in flight. */
		const size_t size = 64 * 64 * 3;
		send_header(64, 64, AIRLOCK_TYPE_PNG, size);
		uint8_t *p = payload_map(size);
		if (!p)
			_exit(43);
		for (size_t i = 0; i < 16; i++) {
			spin_ms(20);
			memset(p + i * (size / 16), 0, size / 16);
		}
		munmap(p, size);
		_exit(0);
	} else if (is(buf, len, "flood")) {
		for (;;)
			io_write_all(1, zeros, sizeof(zeros));
	} else {
		return decode_any_into(magic, buf, len, lim, pa, out);
	}
	/* A forbidden call that returned: the policy has a hole. Say so loudly. */
	_exit(42);
}

int main(void)
{
	static const struct zygote_family evil = { "airlock-zygote", evil_decode, NULL };
	return zygote_main(&evil);
}
