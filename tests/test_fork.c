/* SPDX-License-Identifier: MIT */
/*
 * fork() of a host with a context, and a request in flight in another
 * thread at the moment of the fork (a 4800x4800 PNG that takes about a
 * second). In the child: (a) airlock_close() at once returns and the
 * parent's zygote is untouched; (b) a request works, served by a zygote of
 * the child's own, then close; (c) the child exits without closing. Each
 * time the parent's in-flight request still succeeds and the parent's next
 * request goes to the same zygote. Then the parent's airlock_close() returns
 * promptly while a child that never closed still lives. No fd or process
 * is left over in either.
 *
 * The child reports through its exit status, one bit per check; the parent
 * prints the TAP lines.
 *
 * usage: test-fork SOURCE_ROOT HOSTILE_LARGE_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "airlock.h"
#include "manifest.h"
#include "proc.h"
#include "tap.h"

static const char *root, *large;
static uint8_t *big, *small;
static size_t big_len, small_len;
static int fds0; /* before any context: what a child must be back to */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Children of this process (every thread's). pids[0] when there is exactly one, else -1. */
static pid_t only_child(void)
{
	pid_t p[8];
	return proc_children(p, 8) == 1 ? p[0] : -1;
}

/* Waits until one of the zygote's children has burnt 50 ms of CPU: the worker of the big PNG is at work. */
static int worker_busy(pid_t zygote)
{
	for (int i = 0; i < 2000; i++) {
		pid_t p[64];
		int n = proc_children_of(zygote, p, 64);
		for (int k = 0; k < n && k < 64; k++)
			if (proc_cpu_ticks(p[k]) >= 5)
				return 1;
		usleep(2000);
	}
	return 0;
}

/* ---- the parent's request in flight ---- */

struct flight {
	airlock_ctx *ctx;
	pthread_t t;
	int done, rc;
	uint32_t w, h;
};

static void *flight_run(void *arg)
{
	struct flight *f = arg;
	airlock_result *r = NULL;
	f->rc = airlock_sanitize(f->ctx, big, big_len, AIRLOCK_TYPE_NONE, &r);
	f->w = airlock_result_width(r);
	f->h = airlock_result_height(r);
	airlock_result_free(r);
	__atomic_store_n(&f->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Starts the big request on another thread and returns once its worker is busy. 1 if it is still in flight. */
static int flight_start(struct flight *f, airlock_ctx *ctx, pid_t zygote)
{
	*f = (struct flight){ .ctx = ctx };
	pthread_create(&f->t, NULL, flight_run, f);
	return worker_busy(zygote) && !__atomic_load_n(&f->done, __ATOMIC_SEQ_CST);
}

static int flight_ok(struct flight *f)
{
	pthread_join(f->t, NULL);
	return f->rc == AIRLOCK_OK && f->w == 4800 && f->h == 4800;
}

/* One small request on ctx; 1 if it succeeded. */
static int small_ok(airlock_ctx *ctx)
{
	airlock_result *r = NULL;
	int rc = airlock_sanitize(ctx, small, small_len, AIRLOCK_TYPE_NONE, &r);
	int ok = rc == AIRLOCK_OK && airlock_result_width(r) == 11;
	airlock_result_free(r);
	return ok;
}

/* ---- the child's checks: bit i of its exit status ---- */

static int child_bits;

static void check(int bit, int cond)
{
	if (!cond)
		child_bits |= 1 << bit;
}

static int wait_child(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 0x80 | (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void report_child(const char *what, int status, const char *const *checks, int n)
{
	if (status & 0x80) {
		tap_ok(0, "%s: the child ended on signal %d (SIGALRM: it hung)", what, status & 0x7f);
		return;
	}
	for (int i = 0; i < n; i++)
		tap_ok(!(status & (1 << i)), "%s, in the child: %s", what, checks[i]);
}

/* (a) the child closes at once. */
static void test_child_closes(airlock_ctx *ctx, pid_t zygote)
{
	static const char *const checks[] = {
		"airlock_layers() is 0: the context has no zygote in the child",
		"airlock_close() returned (alarm as the hang guard)",
		"the parent's zygote is still alive",
		"no child process, and the fds of before the context",
		"an async request the forking thread held finishes closed; its descriptor polls readable",
	};
	struct flight f;
	const int in_flight = flight_start(&f, ctx, zygote);
	airlock_request *mine = NULL;
	airlock_submit(ctx, big, big_len, AIRLOCK_TYPE_NONE, NULL, &mine);
	const int mine_fd = airlock_request_fd(mine);
	airlock_request_wait(mine, 20);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(20);
		struct pollfd p = { .fd = mine_fd, .events = POLLIN };
		check(4, poll(&p, 1, 0) == 1 && airlock_request_step(mine) &&
				 airlock_request_finish(mine, NULL, NULL) == AIRLOCK_E_CLOSED);
		check(0, airlock_layers(ctx) == 0);
		airlock_close(ctx);
		check(1, 1);
		check(2, kill(zygote, 0) == 0 && proc_state(zygote) != 'Z');
		check(3, proc_children(NULL, 0) == 0 && proc_fd_count() == fds0);
		_exit(child_bits);
	}
	report_child("child closes at once", wait_child(pid), checks, 5);
	airlock_result *r = NULL;
	int mine_rc = airlock_request_finish(mine, &r, NULL);
	tap_ok(mine_rc == AIRLOCK_OK && airlock_result_width(r) == 4800,
	       "child closes at once: the parent's own async request, inherited by the child, still succeeds");
	airlock_result_free(r);
	tap_ok(in_flight && flight_ok(&f),
	       "child closes at once: the parent's request in flight at the fork still succeeds (4800x4800)");
	tap_ok(only_child() == zygote && small_ok(ctx) && only_child() == zygote && airlock_layers(ctx) != 0,
	       "child closes at once: the parent's next request is served by the same zygote (pid %d)", (int)zygote);
}

/* (b) the child makes a request of its own, then closes. */
static void test_child_uses(airlock_ctx *ctx, pid_t zygote)
{
	static const char *const checks[] = {
		"a request succeeds",
		"it was served by a new zygote, a child of the child",
		"airlock_layers() reports the new zygote's layers",
		"after close: no child process, and the fds of before the context",
		"the parent's zygote is still alive",
	};
	struct flight f;
	const int in_flight = flight_start(&f, ctx, zygote);
	const uint32_t layers = airlock_layers(ctx);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		check(0, small_ok(ctx));
		pid_t mine = only_child();
		check(1, mine > 0 && mine != zygote);
		check(2, airlock_layers(ctx) == layers && layers != 0);
		airlock_close(ctx);
		check(3, proc_children(NULL, 0) == 0 && proc_fd_count() == fds0);
		check(4, kill(zygote, 0) == 0 && proc_state(zygote) != 'Z');
		_exit(child_bits);
	}
	report_child("child uses the context", wait_child(pid), checks, 5);
	tap_ok(in_flight && flight_ok(&f), "child uses the context: the parent's request in flight still succeeds");
	tap_ok(only_child() == zygote && small_ok(ctx) && only_child() == zygote,
	       "child uses the context: the parent's next request is served by the same zygote");
}

/* (c) the child exits without closing, after a request of its own. */
static void test_child_exits(airlock_ctx *ctx, pid_t zygote)
{
	static const char *const checks[] = { "a request succeeds, on a zygote of its own" };
	struct flight f;
	int pp[2];
	if (pipe(pp) != 0)
		return;
	const int in_flight = flight_start(&f, ctx, zygote);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		close(pp[0]);
		check(0, small_ok(ctx) && only_child() > 0 && only_child() != zygote);
		pid_t mine = only_child();
		(void)!write(pp[1], &mine, sizeof(mine));
		_exit(child_bits); /* no airlock_close() */
	}
	close(pp[1]);
	pid_t theirs = -1;
	(void)!read(pp[0], &theirs, sizeof(theirs));
	close(pp[0]);
	report_child("child exits without closing", wait_child(pid), checks, 1);
	/* Its zygote sees its control socket's EOF and ends (reaped by whoever inherits it). */
	int gone = 0;
	for (int i = 0; i < 500 && !gone && theirs > 0; i++) {
		char s = proc_state(theirs);
		gone = s == 0 || s == 'Z';
		if (!gone)
			usleep(10000);
	}
	tap_ok(theirs > 0 && gone, "child exits without closing: its own zygote ends with it");
	tap_ok(in_flight && flight_ok(&f),
	       "child exits without closing: the parent's request in flight still succeeds");
	tap_ok(only_child() == zygote && small_ok(ctx) && only_child() == zygote,
	       "child exits without closing: the parent's next request is served by the same zygote");
}

/* The parent closes while a child that never closed still lives. */
static void test_parent_closes(void)
{
	airlock_ctx *ctx = NULL;
	if (airlock_open(&ctx) != AIRLOCK_OK) {
		tap_ok(0, "parent closes: airlock_open");
		return;
	}
	const pid_t zygote = only_child();
	struct flight f;
	const int in_flight = flight_start(&f, ctx, zygote);
	int pp[2];
	if (pipe(pp) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		close(pp[1]);
		char c;
		(void)!read(pp[0], &c, 1); /* until the parent has closed */
		_exit(0);
	}
	close(pp[0]);
	const int fjoin = flight_ok(&f);
	/* The child holds none of airlock's descriptors: only what the parent had before the context, and the pipe. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	int child_fds = -1;
	for (int i = 0; i < 100 && child_fds != fds0 + 1; i++) {
		DIR *d = opendir(path);
		child_fds = 0;
		for (struct dirent *e; d && (e = readdir(d));)
			child_fds += e->d_name[0] != '.';
		if (d)
			closedir(d);
		if (child_fds != fds0 + 1)
			usleep(10000);
	}
	const double t0 = now_s();
	airlock_close(ctx);
	const double dt = now_s() - t0;
	char c = 0;
	(void)!write(pp[1], &c, 1);
	close(pp[1]);
	int st = wait_child(pid);
	/*
	 * Had the child kept its copy of the control socket, the zygote would
	 * have waited for the child's EOF and been killed after close's 1 s.
	 */
	tap_ok(in_flight && fjoin && child_fds == fds0 + 1 && dt < 0.9 && st == 0 && proc_children(NULL, 0) == 0,
	       "parent closes while a child that never closed lives: the child holds none of airlock's fds (%d, "
	       "want %d), close took %.0f ms, no child left",
	       child_fds, fds0 + 1, dt * 1000);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOURCE_ROOT HOSTILE_LARGE_DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	large = argv[2];
	big = slurp_fixture(large, "png_idat_bomb_4800x4800_rgba16.png", &big_len);
	small = slurp_fixture(root, "corpus/images/rgb8.png", &small_len);
	fds0 = proc_fd_count();

	airlock_ctx *ctx = NULL;
	if (!tap_ok(airlock_open(&ctx) == AIRLOCK_OK, "airlock_open"))
		return tap_done();
	const pid_t zygote = only_child();
	tap_ok(zygote > 0 && small_ok(ctx), "the parent's zygote (pid %d) serves a request", (int)zygote);
	test_child_closes(ctx, zygote);
	test_child_uses(ctx, zygote);
	test_child_exits(ctx, zygote);
	airlock_close(ctx);
	test_parent_closes();
	tap_ok(proc_fd_count() == fds0 && proc_children(NULL, 0) == 0,
	       "at the end: the parent has the fds of the start and no child");
	free(big);
	free(small);
	return tap_done();
}
