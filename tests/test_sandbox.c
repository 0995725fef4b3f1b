/* SPDX-License-Identifier: MIT */
/*
 * Sandbox events, each caused by a worker that really does the thing: the
 * test zygote (evil_zygote.c) runs the production sandbox with a decoder that
 * misbehaves on command. Each case asserts the exact error code, and that the
 * host kept no fd and no extra child. Then the zygote's own life: killed
 * between requests and during one, and a helper that cannot start.
 *
 * usage: test-sandbox EVIL_ZYGOTE SOURCE_ROOT
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "airlock.h"
#include "manifest.h"
#include "proc.h"
#include "tap.h"

static const struct {
	const char *cmd;
	int expect;
	uint32_t timeout_ms, cpu_ms;
	const char *why;
} cases[] = {
	{ "open", AIRLOCK_E_SECCOMP, 0, 0, "opening a file kills the worker" },
	{ "socket", AIRLOCK_E_SECCOMP, 0, 0, "creating a socket kills the worker" },
	{ "fork", AIRLOCK_E_SECCOMP, 0, 0, "forking kills the worker" },
	{ "exec", AIRLOCK_E_SECCOMP, 0, 0, "exec kills the worker" },
	{ "write-fd0", AIRLOCK_E_SECCOMP, 0, 0, "writing anywhere but the frame pipe kills the worker" },
	{ "mmap-exec", AIRLOCK_E_SECCOMP, 0, 0, "mapping executable memory kills the worker" },
	{ "write-fd2", AIRLOCK_E_TYPE, 0, 0, "writing to stderr fails with EBADF and the worker goes on" },
	{ "segv", AIRLOCK_E_WORKER_CRASH, 0, 0, "a segfault is a crash" },
	{ "abort", AIRLOCK_E_WORKER_CRASH, 0, 0, "abort() is a crash, not a policy kill" },
	{ "exit1", AIRLOCK_E_WORKER_CRASH, 0, 0, "a non-zero exit is a crash" },
	{ "alloc", AIRLOCK_E_MEMORY, 0, 0, "allocating past the cap is a memory error" },
	{ "loop", AIRLOCK_E_TIMEOUT, 300, 10000, "an endless loop hits the wall-clock timeout" },
	{ "loop", AIRLOCK_E_CPU_LIMIT, 10000, 1000, "an endless loop hits the CPU limit" },
	{ "stall-after-header", AIRLOCK_E_TIMEOUT, 300, 10000, "a worker that stops talking times out" },
	{ "garbage", AIRLOCK_E_PROTOCOL, 0, 0, "a garbage header is rejected" },
	{ "short-header", AIRLOCK_E_PROTOCOL, 0, 0, "a truncated header is rejected" },
	{ "short-payload", AIRLOCK_E_PROTOCOL, 0, 0, "a short payload is rejected" },
	{ "long-payload", AIRLOCK_E_PROTOCOL, 0, 0, "a payload memfd longer than the header says is rejected" },
	{ "bytes-after-header", AIRLOCK_E_PROTOCOL, 0, 0, "bytes after the header on the pipe are rejected" },
	{ "lying-length", AIRLOCK_E_PROTOCOL, 0, 0, "a payload length that disagrees with the shape is rejected" },
	{ "huge-dims", AIRLOCK_E_PROTOCOL, 0, 0, "dimensions over the limits are rejected" },
	{ "overflow-dims", AIRLOCK_E_PROTOCOL, 0, 0, "dimensions whose product overflows are rejected" },
	{ "wrong-type", AIRLOCK_E_PROTOCOL, 0, 0, "an image frame claiming an audio type is rejected" },
	{ "audio-rate-lie", AIRLOCK_E_PROTOCOL, 0, 0, "an audio frame with a rate below the minimum is rejected" },
	{ "audio-nan", AIRLOCK_E_PROTOCOL, 0, 0, "an audio frame carrying a NaN sample is rejected" },
	{ "silent", AIRLOCK_E_PROTOCOL, 0, 0, "exiting without a frame is rejected" },
	{ "flood", AIRLOCK_E_PROTOCOL, 0, 0, "a worker flooding the pipe is cut off" },
};

/* Runs a test-zygote command; on success *len is the payload's size and *hits its bytes equal to value. */
static int run_counting(airlock_ctx *ctx, const char *cmd, uint8_t value, size_t *len, size_t *hits)
{
	airlock_result *r = NULL;
	int rc = airlock_sanitize(ctx, cmd, strlen(cmd), AIRLOCK_TYPE_NONE, &r);
	const uint8_t *px = r ? airlock_result_pixels(r, len) : NULL;
	for (size_t i = 0; px && i < *len; i++)
		*hits += px[i] == value;
	airlock_result_free(r);
	return rc;
}

static pid_t the_zygote(void)
{
	pid_t p[8];
	return proc_children(p, 8) == 1 ? p[0] : -1;
}

struct slow_req {
	airlock_ctx *ctx;
	int rc;
};

static void *slow_request(void *arg)
{
	struct slow_req *s = arg;
	airlock_result *r = NULL;
	s->rc = airlock_sanitize(s->ctx, "loop", 4, AIRLOCK_TYPE_NONE, &r);
	airlock_result_free(r);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s EVIL_ZYGOTE SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	char path[1024];
	snprintf(path, sizeof(path), "%s/corpus/images/rgb8.png", argv[2]);
	size_t png_len = 0;
	uint8_t *png = slurp(path, &png_len);
	tap_ok(png != NULL, "fixture rgb8.png readable");

	/* A helper that does not exist: fail closed, nothing left behind. */
	int fds0 = proc_fd_count();
	setenv("AIRLOCK_ZYGOTE", "/nonexistent/airlock-zygote", 1);
	airlock_ctx *ctx = NULL;
	int rc = airlock_open(&ctx);
	tap_ok(rc == AIRLOCK_E_HELPER && ctx == NULL, "missing helper: airlock_open fails with helper (got %s)",
	       airlock_error_name(rc));
	tap_ok(proc_fd_count() == fds0 && proc_children(NULL, 0) == 0, "missing helper: no fd or child left");

	setenv("AIRLOCK_ZYGOTE", argv[1], 1);
	rc = airlock_open(&ctx);
	if (!tap_ok(rc == AIRLOCK_OK, "airlock_open with the test zygote"))
		return tap_done();
	const int fds = proc_fd_count();
	tap_ok(proc_children(NULL, 0) == 1, "one child while open: the zygote");

	airlock_result *r = NULL;
	rc = airlock_sanitize(ctx, png, png_len, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_OK && airlock_result_width(r) == 11, "a real PNG still decodes under the test zygote");
	airlock_result_free(r);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t t0 = 0, c0 = 0;
		airlock_get(ctx, AIRLOCK_TIMEOUT_MS, &t0);
		airlock_get(ctx, AIRLOCK_CPU_MS, &c0);
		if (cases[i].timeout_ms)
			airlock_set(ctx, AIRLOCK_TIMEOUT_MS, cases[i].timeout_ms);
		if (cases[i].cpu_ms)
			airlock_set(ctx, AIRLOCK_CPU_MS, cases[i].cpu_ms);
		if (strcmp(cases[i].cmd, "alloc") == 0)
			airlock_set(ctx, AIRLOCK_MEMORY_BYTES, 256u << 20);
		r = NULL;
		rc = airlock_sanitize(ctx, cases[i].cmd, strlen(cases[i].cmd), AIRLOCK_TYPE_NONE, &r);
		if (!tap_ok(rc == cases[i].expect && r == NULL, "%s: %s", cases[i].cmd, cases[i].why))
			tap_diag("expected %s, got %s", airlock_error_name(cases[i].expect), airlock_error_name(rc));
		tap_ok(proc_fd_count() == fds && proc_children(NULL, 0) == 1, "%s: no fd leaked, no child left",
		       cases[i].cmd);
		airlock_set(ctx, AIRLOCK_TIMEOUT_MS, t0);
		airlock_set(ctx, AIRLOCK_CPU_MS, c0);
		airlock_set(ctx, AIRLOCK_MEMORY_BYTES, 2048ull << 20);
		airlock_result_free(r);
	}

	/*
	 * The payload is taken only once nothing can write it: a worker that
	 * keeps rewriting its mapped memfd for 200 ms after its header gives
	 * the last state it left, never an earlier one.
	 */
	size_t mlen = 0, ones = 0;
	rc = run_counting(ctx, "mutate-after-header", 0x01, &mlen, &ones);
	tap_ok(rc == AIRLOCK_OK && mlen == 64 * 64 * 3 && ones == mlen,
	       "a payload rewritten after the header: the host hands out only its final bytes (%s, %zu of %zu)",
	       airlock_error_name(rc), ones, mlen);
	tap_ok(proc_fd_count() == fds && proc_children(NULL, 0) == 1,
	       "mutate-after-header: no fd leaked, no child left");

	/*
	 * A worker resizing its unmapped memfd while the host seals it: the host
	 * checks the size after the seal too, so it either maps exactly the
	 * payload or refuses; it never maps past the end of the memfd (reading
	 * that would raise SIGBUS here).
	 */
	int resized_ok = 1, resized_rejected = 0;
	for (int i = 0; i < 20; i++) {
		size_t rlen = 0, zeros = 0;
		rc = run_counting(ctx, "resize-after-header", 0x00, &rlen, &zeros);
		if (rc == AIRLOCK_OK)
			resized_ok &= rlen == 64 * 64 * 3 && zeros == rlen;
		else
			resized_rejected += rc == AIRLOCK_E_PROTOCOL;
		resized_ok &= rc == AIRLOCK_OK || rc == AIRLOCK_E_PROTOCOL;
	}
	tap_ok(resized_ok,
	       "a memfd resized during the seal: 20 requests each got all 12288 bytes or protocol (%d protocol)",
	       resized_rejected);

	/* Work and memory limits, reached by the real decoders through the test zygote. */
	size_t plen = 0, blen = 0;
	snprintf(path, sizeof(path), "%s/corpus/images/jpeg_progressive.jpg", argv[2]);
	uint8_t *prog = slurp(path, &plen);
	snprintf(path, sizeof(path), "%s/corpus/images/too_large_20000x20000.png", argv[2]);
	uint8_t *big = slurp(path, &blen);
	airlock_report rep = AIRLOCK_REPORT_INIT;
	airlock_set(ctx, AIRLOCK_MAX_JPEG_SCANS, 2);
	rc = airlock_sanitize_report(ctx, prog, plen, AIRLOCK_TYPE_NONE, &r, &rep);
	tap_ok(rc == AIRLOCK_E_TOO_COMPLEX, "a progressive JPEG over the scan cap is too_complex (got %s)",
	       airlock_error_name(rc));
	airlock_set(ctx, AIRLOCK_MAX_JPEG_SCANS, 100);
	rc = airlock_sanitize(ctx, prog, plen, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_OK, "the same JPEG under the default scan cap decodes");
	airlock_result_free(r);
	airlock_set(ctx, AIRLOCK_MAX_PIXELS, 1000000000);
	airlock_set(ctx, AIRLOCK_MEMORY_BYTES, 64u << 20);
	rc = airlock_sanitize_report(ctx, big, blen, AIRLOCK_TYPE_NONE, &r, &rep);
	tap_ok(rc == AIRLOCK_E_MEMORY && rep.limit == AIRLOCK_MEMORY_BYTES,
	       "a 20000x20000 PNG within the pixel limit but over the memory cap is refused before allocating (got %s)",
	       airlock_error_name(rc));
	airlock_set(ctx, AIRLOCK_MAX_PIXELS, 178956970);
	airlock_set(ctx, AIRLOCK_MEMORY_BYTES, 2048ull << 20);
	rc = airlock_sanitize_report(ctx, big, blen, AIRLOCK_TYPE_NONE, &r, &rep);
	tap_ok(rc == AIRLOCK_E_TOO_LARGE && rep.limit == AIRLOCK_MAX_PIXELS,
	       "the same PNG under default limits is too_large, max_pixels");
	free(prog);
	free(big);

	/* The zygote killed between requests: the next request notices and respawns it. */
	pid_t z = the_zygote();
	tap_ok(z > 0 && kill(z, SIGKILL) == 0, "zygote killed between requests");
	usleep(20000);
	r = NULL;
	rc = airlock_sanitize(ctx, png, png_len, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_OK, "after a zygote kill the next request succeeds (got %s)", airlock_error_name(rc));
	airlock_result_free(r);
	pid_t z2 = the_zygote();
	tap_ok(z2 > 0 && z2 != z, "a new zygote replaced the old one, which was reaped");
	tap_ok(proc_fd_count() == fds, "respawn leaked no fd");

	/* The zygote killed during a request: that request fails as an internal error, the next works. */
	struct slow_req s = { .ctx = ctx, .rc = -1 };
	pthread_t th;
	airlock_set(ctx, AIRLOCK_TIMEOUT_MS, 5000);
	pthread_create(&th, NULL, slow_request, &s);
	usleep(100000);
	kill(the_zygote(), SIGKILL);
	pthread_join(th, NULL);
	tap_ok(s.rc == AIRLOCK_E_HELPER, "zygote killed mid-request: that request reports helper (got %s)",
	       airlock_error_name(s.rc));
	r = NULL;
	rc = airlock_sanitize(ctx, png, png_len, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_OK, "zygote killed mid-request: the next request succeeds");
	airlock_result_free(r);
	tap_ok(proc_fd_count() == fds && proc_children(NULL, 0) == 1, "after both kills: no fd leaked, one child");

	/* A video frame from a base worker: only the media zygote decodes MP4, so its success is a lie. */
	airlock_set(ctx, AIRLOCK_TRACK, AIRLOCK_TRACK_VIDEO);
	rc = airlock_sanitize(ctx, "video-ok", 8, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_E_PROTOCOL, "a valid video frame from a base worker is protocol (got %s)",
	       airlock_error_name(rc));
	airlock_close(ctx);
	tap_ok(proc_children(NULL, 0) == 0, "airlock_close ends and reaps the zygote");
	tap_ok(proc_fd_count() == fds0, "airlock_close releases every fd");

	/*
	 * The test zygote as the media zygote: a video frame checked exactly
	 * (decoders/video.h). The host recomputes the sampling and the size, so
	 * one index, one frame more, a scaling bit or a reserved byte refuses it.
	 */
	setenv("AIRLOCK_ZYGOTE_MEDIA", argv[1], 1);
	rc = airlock_open(&ctx);
	tap_ok(rc == AIRLOCK_OK, "airlock_open with the test zygote as the media zygote too");
	airlock_set(ctx, AIRLOCK_ALLOWED_TYPES, AIRLOCK_TYPES_MEDIA);
	airlock_set(ctx, AIRLOCK_TRACK, AIRLOCK_TRACK_VIDEO);
	airlock_set(ctx, AIRLOCK_VIDEO_NUM_FRAMES, 4);
	r = NULL;
	rc = airlock_sanitize(ctx, "video-ok", 8, AIRLOCK_TYPE_NONE, &r);
	const uint64_t *ix = r ? airlock_result_video_indices(r) : NULL;
	tap_ok(rc == AIRLOCK_OK && airlock_result_frames(r) == 4 && airlock_result_width(r) == 7 && ix && ix[0] == 0 &&
		       ix[1] == 3 && ix[2] == 6 && ix[3] == 9,
	       "a video frame sampled as the request asks is accepted: 4 of 10, indices 0 3 6 9 (got %s)",
	       airlock_error_name(rc));
	airlock_result_free(r);
	static const char *const lies[] = { "video-lie-index", "video-lie-frames", "video-lie-downscaled",
					    "video-lie-reserved" };
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		r = NULL;
		rc = airlock_sanitize(ctx, lies[i], strlen(lies[i]), AIRLOCK_TYPE_NONE, &r);
		tap_ok(rc == AIRLOCK_E_PROTOCOL && r == NULL, "%s: protocol (got %s)", lies[i], airlock_error_name(rc));
		airlock_result_free(r);
	}
	airlock_set(ctx, AIRLOCK_TRACK, AIRLOCK_TRACK_AUDIO);
	rc = airlock_sanitize(ctx, "video-ok", 8, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_E_PROTOCOL, "a video frame for a request that asked for audio is protocol (got %s)",
	       airlock_error_name(rc));
	airlock_close(ctx);
	unsetenv("AIRLOCK_ZYGOTE_MEDIA");
	tap_ok(proc_children(NULL, 0) == 0 && proc_fd_count() == fds0, "both closed: no child, no fd left");
	free(png);
	return tap_done();
}
