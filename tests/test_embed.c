/* SPDX-License-Identifier: MIT */
/*
 * Embedding: 8 threads x 200 requests on one context, every result checked
 * against a sequential reference; afterwards the host holds exactly the fds
 * it held before and has no child. It received no SIGPIPE, and no SIGCHLD
 * but the one for its zygote ending at close; its own handlers for both are
 * still installed. Then a host that ignores SIGCHLD
 * (auto-reaping its children) still gets every result.
 *
 * usage: test-embed SOURCE_ROOT
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "airlock.h"
#include "manifest.h"
#include "proc.h"
#include "tap.h"

#define THREADS	   8
#define PER_THREAD 200

static const char *inputs[] = {
	"rgb8.png",	     "jpeg_420.jpg", "bad_crc_idat.png", "pal8_trns_partial.png", "jpeg_exif_orientation6.jpg",
	"truncated_idat.png"
};
#define NIN (sizeof(inputs) / sizeof(inputs[0]))

static uint8_t *buf[NIN];
static size_t len[NIN];
static int ref_rc[NIN];
static uint64_t ref_fnv[NIN];
static airlock_ctx *ctx;
static volatile sig_atomic_t sigchld_seen, sigpipe_seen;

static void on_sigchld(int s)
{
	(void)s;
	sigchld_seen++;
}

static void on_sigpipe(int s)
{
	(void)s;
	sigpipe_seen++;
}

static int run_one(size_t i, uint64_t *fnv)
{
	airlock_result *r = NULL;
	int rc = airlock_sanitize(ctx, buf[i], len[i], AIRLOCK_TYPE_NONE, &r);
	*fnv = 0;
	if (rc == AIRLOCK_OK) {
		size_t n;
		const uint8_t *px = airlock_result_pixels(r, &n);
		*fnv = fnv1a64(px, n);
	}
	airlock_result_free(r);
	return rc;
}

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	intptr_t wrong = 0;
	for (size_t k = 0; k < PER_THREAD; k++) {
		size_t i = (id + k) % NIN;
		uint64_t fnv;
		int rc = run_one(i, &fnv);
		if (rc != ref_rc[i] || fnv != ref_fnv[i])
			wrong++;
	}
	return (void *)wrong;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	for (size_t i = 0; i < NIN; i++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s/corpus/images/%s", argv[1], inputs[i]);
		buf[i] = slurp(p, &len[i]);
		if (!tap_ok(buf[i] != NULL, "fixture %s", inputs[i]))
			return tap_done();
	}

	struct sigaction sa = { .sa_handler = on_sigchld }, sp = { .sa_handler = on_sigpipe }, cur;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGPIPE, &sp, NULL);
	const int fds0 = proc_fd_count();

	if (!tap_ok(airlock_open(&ctx) == AIRLOCK_OK, "airlock_open"))
		return tap_done();
	int ok_count = 0;
	for (size_t i = 0; i < NIN; i++) {
		ref_rc[i] = run_one(i, &ref_fnv[i]);
		ok_count += ref_rc[i] == AIRLOCK_OK;
	}
	tap_ok(ok_count == 4 && ref_rc[2] == AIRLOCK_E_MALFORMED && ref_rc[5] == AIRLOCK_E_MALFORMED,
	       "sequential reference: 4 decode, 2 are malformed");

	pthread_t th[THREADS];
	for (uintptr_t t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	intptr_t wrong = 0;
	for (int t = 0; t < THREADS; t++) {
		void *w;
		pthread_join(th[t], &w);
		wrong += (intptr_t)w;
	}
	tap_ok(wrong == 0, "%d threads x %d requests: every result identical to the reference (%ld wrong)", THREADS,
	       PER_THREAD, (long)wrong);
	tap_ok(proc_children(NULL, 0) == 1, "while open: exactly one child, the zygote");
	tap_ok(sigchld_seen == 0, "no SIGCHLD during %d requests: workers are not the host's children (got %d)",
	       THREADS * PER_THREAD + (int)NIN, (int)sigchld_seen);
	airlock_close(ctx);

	tap_ok(proc_fd_count() == fds0, "after close: the same fd count as before open (%d)", fds0);
	tap_ok(proc_children(NULL, 0) == 0, "after close: no child left");
	tap_ok(sigchld_seen == 1, "exactly one SIGCHLD, for the zygote ending at close (got %d)", (int)sigchld_seen);
	tap_ok(sigpipe_seen == 0, "the host received no SIGPIPE (got %d)", (int)sigpipe_seen);
	sigaction(SIGCHLD, NULL, &cur);
	tap_ok(cur.sa_handler == on_sigchld, "the host's SIGCHLD handler is still installed");
	sigaction(SIGPIPE, NULL, &cur);
	tap_ok(cur.sa_handler == on_sigpipe, "the host's SIGPIPE handler is still installed");

	/* A host that ignores SIGCHLD: the kernel auto-reaps its SIGCHLD children, not ours. */
	signal(SIGCHLD, SIG_IGN);
	if (tap_ok(airlock_open(&ctx) == AIRLOCK_OK, "airlock_open with SIGCHLD ignored")) {
		int bad = 0;
		for (size_t k = 0; k < 20; k++) {
			uint64_t fnv;
			bad += run_one(k % NIN, &fnv) != ref_rc[k % NIN] || fnv != ref_fnv[k % NIN];
		}
		tap_ok(bad == 0, "with SIGCHLD ignored every result is still right");
		airlock_close(ctx);
		tap_ok(proc_children(NULL, 0) == 0 && proc_fd_count() == fds0,
		       "with SIGCHLD ignored: no child or fd left");
		sigaction(SIGCHLD, NULL, &cur);
		tap_ok(cur.sa_handler == SIG_IGN, "SIG_IGN for SIGCHLD is left as the host set it");
	}
	for (size_t i = 0; i < NIN; i++)
		free(buf[i]);
	return tap_done();
}
