/* SPDX-License-Identifier: MIT */
/*
 * Embedding: 8 threads x 200 requests on one context, every result checked
 * against a sequential reference; afterwards the host holds exactly the fds
 * it held before and has no child. It received no SIGPIPE, and no SIGCHLD
 * but the one for its zygote ending at close; its own handlers for both are
 * still installed. Every failed request reached the event function once,
 * on its own thread, and the per-code counters add up to every request.
 * Then a host that ignores SIGCHLD (auto-reaping its children) still gets
 * every result.
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

/* Events as the event function saw them. */
static __thread int in_request_thread; /* set by the threads that make requests */
static uint64_t ev_by_code[128], ev_wrong_thread, ev_bad_fields;
static uint32_t ev_last_limit, ev_last_layers;
static airlock_type ev_last_type;
static uint64_t ev_last_bytes;

static void on_event(void *user, const airlock_event *ev)
{
	if (user != &ev_by_code || ev->error <= 0 || ev->error >= 128) {
		__atomic_fetch_add(&ev_bad_fields, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&ev_by_code[ev->error], 1, __ATOMIC_RELAXED);
	if (!in_request_thread)
		__atomic_fetch_add(&ev_wrong_thread, 1, __ATOMIC_RELAXED);
	/* Only the two malformed PNGs fail in the threaded run. */
	if (ev->error == AIRLOCK_E_MALFORMED &&
	    (ev->type != AIRLOCK_TYPE_PNG || ev->limit != 0 || ev->expect != AIRLOCK_TYPE_NONE ||
	     (ev->input_bytes != len[2] && ev->input_bytes != len[5]) || ev->layers != airlock_layers(ctx) ||
	     ev->time_us < 1600000000ull * 1000000))
		__atomic_fetch_add(&ev_bad_fields, 1, __ATOMIC_RELAXED);
	ev_last_limit = ev->limit;
	ev_last_layers = ev->layers;
	ev_last_type = ev->type;
	ev_last_bytes = ev->input_bytes;
}

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
	in_request_thread = 1;
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
	tap_ok(airlock_set_event_fn(ctx, on_event, &ev_by_code) == AIRLOCK_OK, "event function set");
	in_request_thread = 1;
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

	/* Each thread runs inputs id, id+1, ...: count how often each input ran, hence each outcome. */
	uint64_t want_ok = 4, want_bad = 2, total = NIN;
	for (size_t t = 0; t < THREADS; t++)
		for (size_t k = 0; k < PER_THREAD; k++) {
			size_t i = (t + k) % NIN;
			want_ok += ref_rc[i] == AIRLOCK_OK;
			want_bad += ref_rc[i] == AIRLOCK_E_MALFORMED;
			total++;
		}
	uint64_t counted = 0;
	for (int c = 0; c < 128; c++)
		counted += airlock_count(ctx, c);
	tap_ok(airlock_count(ctx, AIRLOCK_OK) == want_ok && airlock_count(ctx, AIRLOCK_E_MALFORMED) == want_bad &&
		       counted == total,
	       "counters: %llu ok, %llu malformed, %llu in all (want %llu, %llu, %llu)",
	       (unsigned long long)airlock_count(ctx, AIRLOCK_OK),
	       (unsigned long long)airlock_count(ctx, AIRLOCK_E_MALFORMED), (unsigned long long)counted,
	       (unsigned long long)want_ok, (unsigned long long)want_bad, (unsigned long long)total);
	tap_ok(ev_by_code[AIRLOCK_E_MALFORMED] == want_bad && ev_bad_fields == 0,
	       "one event per malformed request (%llu), each with type png, no limit, its input's size and the layers",
	       (unsigned long long)ev_by_code[AIRLOCK_E_MALFORMED]);
	tap_ok(ev_wrong_thread == 0, "every event was delivered on the thread that made the request");

	/* A limit, no worker at all, a caller error, and the event function cleared. */
	airlock_result *r = NULL;
	airlock_set(ctx, AIRLOCK_MAX_PIXELS, 10);
	int rc = airlock_sanitize(ctx, buf[0], len[0], AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_E_TOO_LARGE && ev_by_code[AIRLOCK_E_TOO_LARGE] == 1 &&
		       ev_last_limit == AIRLOCK_MAX_PIXELS && ev_last_type == AIRLOCK_TYPE_PNG &&
		       ev_last_bytes == len[0],
	       "a limit: one too_large event naming max_pixels");
	airlock_set(ctx, AIRLOCK_MAX_PIXELS, 178956970);
	rc = airlock_sanitize(ctx, buf[0], 0, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_E_EMPTY && ev_by_code[AIRLOCK_E_EMPTY] == 1 && ev_last_layers == 0 &&
		       airlock_count(ctx, AIRLOCK_E_EMPTY) == 1,
	       "empty input: an event with no layers (no worker ran), and counted");
	rc = airlock_sanitize(ctx, NULL, 5, AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_E_INVALID_ARG && ev_by_code[AIRLOCK_E_INVALID_ARG] == 0 &&
		       airlock_count(ctx, AIRLOCK_E_INVALID_ARG) == 0,
	       "a caller error before any work: neither an event nor counted");
	airlock_set_event_fn(ctx, NULL, NULL);
	rc = airlock_sanitize(ctx, buf[2], len[2], AIRLOCK_TYPE_NONE, &r);
	tap_ok(rc == AIRLOCK_E_MALFORMED && ev_by_code[AIRLOCK_E_MALFORMED] == want_bad &&
		       airlock_count(ctx, AIRLOCK_E_MALFORMED) == want_bad + 1,
	       "event function cleared: no event, still counted");
	tap_ok(airlock_count(ctx, -1) == 0 && airlock_count(ctx, 1000) == 0 && airlock_count(NULL, 0) == 0,
	       "airlock_count: 0 for unknown codes and a NULL context");
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
