/* SPDX-License-Identifier: MIT */
/*
 * Requests that do not block (airlock_submit() and airlock_request_*()),
 * through the real sandbox: 64 requests driven by one poll() loop give the
 * bytes, codes and reports of the sync API; a request whose worker spins
 * times out through its descriptor alone, which never spins the loop;
 * cancel kills the worker (the zygote has no child left); a request refused
 * before any worker is returned done; reports and events are the sync
 * path's; a signal cuts a wait short; airlock_close() with unfinished
 * requests; and at the end the fds of the start and no child.
 *
 * usage: test-async SOURCE_ROOT HOSTILE_LARGE_DIR
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "airlock.h"
#include "manifest.h"
#include "proc.h"
#include "tap.h"

static const char *root, *large;

static airlock_ctx *open_ctx(void)
{
	airlock_ctx *c = NULL;
	if (airlock_open(&c) != AIRLOCK_OK) {
		fprintf(stderr, "airlock_open failed\n");
		exit(2);
	}
	return c;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The zygote's child that has burnt 100 ms of CPU: the spinning worker
 * (spares forked ahead of need sleep); -1 when there is none.
 */
static pid_t busy_worker(pid_t zygote)
{
	pid_t p[64];
	int n = proc_children_of(zygote, p, 64);
	for (int i = 0; i < n && i < 64; i++)
		if (proc_cpu_ticks(p[i]) >= 10)
			return p[i];
	return -1;
}

static int is_child_of(pid_t parent, pid_t pid)
{
	pid_t p[64];
	int n = proc_children_of(parent, p, 64);
	for (int i = 0; i < n && i < 64; i++)
		if (p[i] == pid)
			return 1;
	return 0;
}

static pid_t the_zygote(void)
{
	pid_t p[4];
	return proc_children(p, 4) == 1 ? p[0] : -1;
}

/* A worker that spins: the scan bomb with the decoder's caps lifted, so that only the clock or a kill stops it. */
static uint8_t *bomb;
static size_t bomb_len;

/* The caps are ceilings a request cannot lift: the context lifts them. */
static void spin_context(airlock_ctx *ctx)
{
	airlock_set(ctx, AIRLOCK_MAX_JPEG_SCANS, 100000);
	airlock_set(ctx, AIRLOCK_MAX_JPEG_COEFFS, 1ull << 50);
}

/* ---- events ---- */

#define MAX_EV 16
static airlock_event evs[MAX_EV];
static int nev;

static void on_event(void *user, const airlock_event *ev)
{
	(void)user;
	if (nev < MAX_EV)
		evs[nev++] = *ev;
}

static int same_event(const airlock_event *a, const airlock_event *b)
{
	return a->size == b->size && a->error == b->error && a->type == b->type && a->expect == b->expect &&
	       a->input_bytes == b->input_bytes && a->limit == b->limit && a->layers == b->layers && a->mime == b->mime;
}

/* ---- 64 requests, one poll() loop ---- */

static const char *inputs[] = {
	"corpus/images/rgb8.png",
	"corpus/images/jpeg_420.jpg",
	"corpus/images/bad_crc_idat.png",
	"corpus/images/pal8_trns_partial.png",
	"corpus/images/jpeg_progressive.jpg",
	"corpus/images/jpeg_exif_orientation6.jpg",
	"corpus/audio/wav_s16_stereo_8k.wav",
	"corpus/audio/flac_s16_stereo_48k.flac",
	"corpus/audio/mp3_mono_8k_2s.mp3",
	"corpus/images/truncated_idat.png",
	"corpus/images/rgba8.png",
	"corpus/audio/vorbis_stereo_44k.ogg",
	"corpus/images/signature_only.png",
	"corpus/images/adam7_rgb8_40x32.png",
	"corpus/images/jpeg_cmyk.jpg",
	"corpus/audio/opus_stereo_44k_src.opus",
};
#define NIN  (sizeof(inputs) / sizeof(inputs[0]))
#define NREQ 64

struct ref {
	int rc;
	uint64_t fnv;
	size_t len;
	airlock_report rep;
};

static struct ref result_ref(int rc, airlock_result *r, const airlock_report *rep)
{
	struct ref out = { .rc = rc, .rep = *rep };
	if (rc == AIRLOCK_OK) {
		const uint8_t *p = airlock_result_pixels(r, &out.len);
		out.fnv = fnv1a64(p, out.len);
	}
	airlock_result_free(r);
	return out;
}

static int same_ref(const struct ref *a, const struct ref *b)
{
	return a->rc == b->rc && a->fnv == b->fnv && a->len == b->len && a->rep.type == b->rep.type &&
	       a->rep.limit == b->rep.limit && a->rep.layers == b->rep.layers && a->rep.mime == b->rep.mime;
}

static void test_poll_loop(void)
{
	airlock_ctx *ctx = open_ctx();
	uint8_t *buf[NIN];
	size_t len[NIN];
	struct ref want[NIN];
	for (size_t i = 0; i < NIN; i++) {
		buf[i] = slurp_fixture(root, inputs[i], &len[i]);
		airlock_result *r = NULL;
		airlock_report rep = AIRLOCK_REPORT_INIT;
		int rc = airlock_sanitize_report(ctx, buf[i], len[i], AIRLOCK_TYPE_NONE, &r, &rep);
		want[i] = result_ref(rc, r, &rep);
	}

	airlock_request *req[NREQ];
	struct pollfd pfd[NREQ];
	int fd_same = 1, wakeups = 0, ok = 0, failed = 0;
	for (int i = 0; i < NREQ; i++) {
		int rc = airlock_submit(ctx, buf[i % NIN], len[i % NIN], AIRLOCK_TYPE_NONE, NULL, &req[i]);
		pfd[i] = (struct pollfd){ .fd = rc == AIRLOCK_OK ? airlock_request_fd(req[i]) : -1, .events = POLLIN };
		fd_same &= pfd[i].fd >= 0 && airlock_request_fd(req[i]) == pfd[i].fd;
	}
	tap_ok(fd_same, "poll loop: 64 requests submitted, each with its own descriptor, the same on every call");
	int left = NREQ, stuck = 0;
	const double t0 = now_s();
	while (left > 0 && now_s() - t0 < 60) {
		int r = poll(pfd, NREQ, 10000);
		if (r <= 0) {
			stuck += r == 0;
			continue;
		}
		wakeups++;
		for (int i = 0; i < NREQ; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (!airlock_request_step(req[i]))
				continue;
			airlock_result *res = NULL;
			airlock_report rep = AIRLOCK_REPORT_INIT;
			int rc = airlock_request_finish(req[i], &res, &rep);
			struct ref got = result_ref(rc, res, &rep);
			if (same_ref(&got, &want[i % NIN]))
				ok++;
			else if (failed++ < 4)
				tap_diag("request %d (%s): %s, the sync path %s", i, inputs[i % NIN],
					 airlock_error_name(rc), airlock_error_name(want[i % NIN].rc));
			pfd[i].fd = -1;
			left--;
		}
	}
	tap_ok(ok == NREQ && stuck == 0,
	       "poll loop: all 64 done through their descriptors, each with the sync path's code, report and bytes "
	       "(%d same, %d wakeups)",
	       ok, wakeups);
	int mixed = 0;
	for (size_t i = 0; i < NIN; i++)
		mixed |= want[i].rc == AIRLOCK_OK ? 1 : 2;
	tap_ok(mixed == 3, "poll loop: the inputs include successes and failures");
	for (size_t i = 0; i < NIN; i++)
		free(buf[i]);
	airlock_close(ctx);
}

/* ---- a timeout through the descriptor alone ---- */

static void test_timeout_fd(void)
{
	airlock_ctx *ctx = open_ctx();
	spin_context(ctx);
	airlock_options *o = NULL;
	airlock_options_new(&o);
	airlock_options_set(o, AIRLOCK_TIMEOUT_MS, 300);
	airlock_request *req = NULL;
	airlock_submit(ctx, bomb, bomb_len, AIRLOCK_TYPE_NONE, o, &req);
	struct pollfd p = { .fd = airlock_request_fd(req), .events = POLLIN };
	int wakeups = 0, guard = 0;
	const double t0 = now_s();
	for (;;) {
		int r = poll(&p, 1, 10000);
		if (r == 0) {
			guard = 1; /* the hang guard: the descriptor never turned readable */
			break;
		}
		wakeups++;
		if (airlock_request_step(req) || wakeups > 1000)
			break;
	}
	const double dt = now_s() - t0;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	airlock_result *r = NULL;
	int rc = airlock_request_finish(req, &r, &rep);
	/* Wakeups: STARTED, the deadline, the ENDED after the kill; never a descriptor left readable for nothing. */
	tap_ok(!guard && rc == AIRLOCK_E_TIMEOUT && rep.limit == AIRLOCK_TIMEOUT_MS && r == NULL && wakeups <= 20,
	       "a spinning worker times out through the descriptor alone: %s limit %u after %.2f s, %d wakeups",
	       airlock_error_name(rc), rep.limit, dt, wakeups);

	/* The descriptor of a done request stays readable until finish. */
	airlock_submit(ctx, bomb, 0, AIRLOCK_TYPE_NONE, o, &req);
	p.fd = airlock_request_fd(req);
	int r1 = poll(&p, 1, 0), s1 = airlock_request_step(req), r2 = poll(&p, 1, 0), s2 = airlock_request_step(req);
	tap_ok(r1 == 1 && s1 == 1 && r2 == 1 && s2 == 1, "a done request's descriptor polls readable, step after step");
	airlock_request_finish(req, NULL, NULL);
	airlock_options_free(o);
	airlock_close(ctx);
}

/* ---- cancel ---- */

static void test_cancel(void)
{
	airlock_ctx *ctx = open_ctx();
	spin_context(ctx);
	pid_t zygote = the_zygote();
	airlock_request *req = NULL;
	airlock_submit(ctx, bomb, bomb_len, AIRLOCK_TYPE_NONE, NULL, &req);
	/* Until the worker has spun for 100 ms (driven in small waits, no descriptor needed). */
	pid_t worker = -1;
	for (int i = 0; i < 1000 && worker < 0; i++) {
		airlock_request_wait(req, 10);
		worker = busy_worker(zygote);
	}
	const int running = worker > 0;
	const double t0 = now_s();
	airlock_request_cancel(req);
	const double dt = now_s() - t0;
	int done = airlock_request_step(req) && airlock_request_wait(req, 0);
	airlock_report rep = AIRLOCK_REPORT_INIT;
	airlock_result *r = NULL;
	int rc = airlock_request_finish(req, &r, &rep);
	int gone = 0;
	for (int i = 0; i < 500 && !gone; i++) {
		gone = !is_child_of(zygote, worker);
		if (!gone)
			usleep(10000);
	}
	tap_ok(running && done && rc == AIRLOCK_E_CANCELLED && r == NULL && gone && rep.limit == 0,
	       "cancel of a running request: done at once (%.1f ms), finish says %s, the zygote has no child left",
	       dt * 1000, airlock_error_name(rc));
	tap_ok(airlock_count(ctx, AIRLOCK_E_CANCELLED) == 1, "cancel: counted once as cancelled");

	/* Cancel of a done request keeps its outcome. */
	size_t n;
	uint8_t *png = slurp_fixture(root, "corpus/images/rgb8.png", &n);
	airlock_submit(ctx, png, n, AIRLOCK_TYPE_NONE, NULL, &req);
	while (!airlock_request_wait(req, -1))
		;
	airlock_request_cancel(req);
	rc = airlock_request_finish(req, &r, NULL);
	tap_ok(rc == AIRLOCK_OK && r && airlock_result_width(r) == 11, "cancel of a done request keeps its result");
	airlock_result_free(r);

	/* Cancel before STARTED was read: still nothing left. */
	airlock_submit(ctx, bomb, bomb_len, AIRLOCK_TYPE_NONE, NULL, &req);
	airlock_request_cancel(req);
	rc = airlock_request_finish(req, NULL, NULL);
	/* Had its worker lived on, it would have spun for 500 ms by now. */
	usleep(500000);
	tap_ok(rc == AIRLOCK_E_CANCELLED && busy_worker(zygote) < 0 && the_zygote() == zygote,
	       "cancel right after submit: cancelled, no worker left, the same zygote");
	free(png);
	airlock_close(ctx);
}

/* ---- refused before any worker; reports and events as the sync path's ---- */

static void test_early_and_events(void)
{
	airlock_ctx *ctx = open_ctx();
	airlock_set_event_fn(ctx, on_event, NULL);
	airlock_request *req = NULL;
	static const uint8_t one = 0;

	int rc = airlock_submit(ctx, &one, 0, AIRLOCK_TYPE_PNG, NULL, &req);
	int fd = airlock_request_fd(req);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int done_at_once = airlock_request_step(req) && poll(&p, 1, 0) == 1;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	int frc = airlock_request_finish(req, NULL, &rep);
	tap_ok(rc == AIRLOCK_OK && done_at_once && frc == AIRLOCK_E_EMPTY && nev == 1 &&
		       evs[0].error == AIRLOCK_E_EMPTY && evs[0].expect == AIRLOCK_TYPE_PNG &&
		       airlock_count(ctx, AIRLOCK_E_EMPTY) == 1,
	       "empty input: submitted done, finish says empty, counted and reported once");

	airlock_set(ctx, AIRLOCK_MAX_INPUT_BYTES, 4);
	size_t n;
	uint8_t *png = slurp_fixture(root, "corpus/images/rgb8.png", &n);
	airlock_submit(ctx, png, n, AIRLOCK_TYPE_NONE, NULL, &req);
	frc = airlock_request_finish(req, NULL, &rep);
	tap_ok(frc == AIRLOCK_E_INPUT_TOO_BIG && rep.limit == AIRLOCK_MAX_INPUT_BYTES && rep.layers == 0,
	       "input over max_input_bytes: finish says input_too_big, limit max_input_bytes, no zygote reached");
	airlock_set(ctx, AIRLOCK_MAX_INPUT_BYTES, 1ull << 26);
	free(png);

	/* Sync and async: the same reports and the same events. */
	static const char *cases[] = { "corpus/images/rgb8.png", "corpus/images/bad_crc_idat.png",
				       "corpus/images/signature_only.png", "corpus/audio/wav_s16_stereo_8k.wav",
				       "corpus/images/jpeg_arithmetic.jpg" };
	airlock_options *o = NULL;
	airlock_options_new(&o);
	airlock_options_set(o, AIRLOCK_MAX_CHANNELS, 1); /* the stereo WAV: out_of_range, limit max_channels */
	int same_all = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b = slurp_fixture(root, cases[i], &n);
		for (airlock_type expect = AIRLOCK_TYPE_NONE; expect <= AIRLOCK_TYPE_JPEG; expect++) {
			nev = 0;
			airlock_report a = AIRLOCK_REPORT_INIT, s = AIRLOCK_REPORT_INIT;
			airlock_result *ra = NULL, *rs = NULL;
			int rcs = airlock_sanitize_opts(ctx, b, n, expect, o, &rs, &s);
			airlock_submit(ctx, b, n, expect, o, &req);
			airlock_request_fd(req);
			while (!airlock_request_wait(req, 100))
				;
			int rca = airlock_request_finish(req, &ra, &a);
			struct ref x = result_ref(rcs, rs, &s), y = result_ref(rca, ra, &a);
			int same_ev = rcs == AIRLOCK_OK ? nev == 0 : nev == 2 && same_event(&evs[0], &evs[1]);
			if (!same_ref(&x, &y) || !same_ev) {
				same_all = 0;
				tap_diag("%s expect %d: sync %s, async %s, events %d", cases[i], expect,
					 airlock_error_name(rcs), airlock_error_name(rca), nev);
			}
		}
		free(b);
	}
	tap_ok(same_all, "sync and async: the same code, bytes, report (type, limit, layers, mime) and event");
	airlock_options_free(o);

	/* A report of the wrong size still ends and frees the request. */
	uint8_t *b = slurp_fixture(root, "corpus/images/rgb8.png", &n);
	airlock_submit(ctx, b, n, AIRLOCK_TYPE_NONE, NULL, &req);
	airlock_report small = { .size = 4 };
	airlock_result *r = NULL;
	frc = airlock_request_finish(req, &r, &small);
	tap_ok(frc == AIRLOCK_E_INVALID_ARG && r == NULL && small.size == 4,
	       "finish with a report too small: "
	       "invalid_arg, nothing written, the request freed (ASan and the fd count see it)");
	free(b);
	tap_ok(airlock_submit(NULL, &one, 1, AIRLOCK_TYPE_NONE, NULL, &req) == AIRLOCK_E_INVALID_ARG &&
		       airlock_submit(ctx, NULL, 1, AIRLOCK_TYPE_NONE, NULL, &req) == AIRLOCK_E_INVALID_ARG &&
		       airlock_submit(ctx, &one, 1, AIRLOCK_TYPE_COUNT_, NULL, &req) == AIRLOCK_E_INVALID_ARG &&
		       airlock_submit(ctx, &one, 1, AIRLOCK_TYPE_NONE, NULL, NULL) == AIRLOCK_E_INVALID_ARG &&
		       airlock_request_finish(NULL, NULL, NULL) == AIRLOCK_E_INVALID_ARG,
	       "submit and finish: argument errors");
	airlock_close(ctx);
}

/* ---- a signal cuts a wait short ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void test_wait_eintr(void)
{
	airlock_ctx *ctx = open_ctx();
	spin_context(ctx);
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART */
	airlock_request *req = NULL;
	airlock_submit(ctx, bomb, bomb_len, AIRLOCK_TYPE_NONE, NULL, &req);
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	const double t0 = now_s();
	int w = airlock_request_wait(req, -1);
	const double dt = now_s() - t0;
	int w0 = airlock_request_wait(req, 50);
	airlock_request_cancel(req);
	int rc = airlock_request_finish(req, NULL, NULL);
	sigaction(SIGALRM, &old, NULL);
	tap_ok(w == 0 && alarms == 1 && dt < 5 && w0 == 0 && rc == AIRLOCK_E_CANCELLED,
	       "wait(-1) returns 0 when a signal arrives (after %.2f s), wait(50) returns 0 while it runs; cancelled",
	       dt);
	airlock_close(ctx);
}

/* ---- close with unfinished requests ---- */

static airlock_ctx *closing_ctx;
static volatile int close_returned;

static void *closer(void *arg)
{
	(void)arg;
	airlock_close(closing_ctx);
	__atomic_store_n(&close_returned, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_close_unfinished(void)
{
	closing_ctx = open_ctx();
	spin_context(closing_ctx);
	size_t n;
	uint8_t *png = slurp_fixture(root, "corpus/images/rgb8.png", &n);
	enum { N = 4 };
	airlock_request *req[N + 1];
	for (int i = 0; i < N; i++)
		airlock_submit(closing_ctx, bomb, bomb_len, AIRLOCK_TYPE_NONE, NULL, &req[i]);
	airlock_submit(closing_ctx, png, n, AIRLOCK_TYPE_NONE, NULL, &req[N]);
	while (!airlock_request_wait(req[N], -1))
		;
	for (int i = 0; i < N; i++)
		airlock_request_wait(req[i], 50); /* started, most likely */

	pthread_t t;
	pthread_create(&t, NULL, closer, NULL);
	/* Drive them through their descriptors: the zygote's end makes them done. */
	struct pollfd p[N];
	for (int i = 0; i < N; i++)
		p[i] = (struct pollfd){ .fd = airlock_request_fd(req[i]), .events = POLLIN };
	int left = N, closed = 0, guard = 0;
	while (left > 0 && !guard) {
		if (poll(p, N, 10000) == 0)
			guard = 1;
		for (int i = 0; i < N; i++) {
			if (p[i].fd < 0 || !p[i].revents || !airlock_request_step(req[i]))
				continue;
			p[i].fd = -1;
			left--;
		}
	}
	usleep(50000);
	const int waited = !__atomic_load_n(&close_returned, __ATOMIC_SEQ_CST);
	for (int i = 0; i < N; i++)
		closed += airlock_request_finish(req[i], NULL, NULL) == AIRLOCK_E_CLOSED;
	airlock_result *r = NULL;
	int rc = airlock_request_finish(req[N], &r, NULL);
	pthread_join(t, NULL);
	tap_ok(!guard && closed == N && waited && rc == AIRLOCK_OK && r && airlock_result_width(r) == 11,
	       "close with 4 running requests and 1 done: they end closed through their descriptors, close waits "
	       "for their finish, the done one keeps its result");
	airlock_result_free(r);
	tap_ok(proc_children(NULL, 0) == 0, "close with unfinished requests: no child left");
	free(png);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOURCE_ROOT HOSTILE_LARGE_DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	large = argv[2];
	bomb = slurp_fixture(large, "jpeg_scan_bomb_4096_3000_scans.jpg", &bomb_len);
	const int fds0 = proc_fd_count();
	test_poll_loop();
	test_timeout_fd();
	test_cancel();
	test_early_and_events();
	test_wait_eintr();
	test_close_unfinished();
	tap_ok(proc_fd_count() == fds0 && proc_children(NULL, 0) == 0,
	       "at the end: the fds of the start (%d, now %d) and no child", fds0, proc_fd_count());
	free(bomb);
	return tap_done();
}
