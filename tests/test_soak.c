/* SPDX-License-Identifier: MIT */
/*
 * Soak and faults (issue 4), through the test zygote (evil_zygote.c: the
 * production zygote and sandbox; real files go to the real decoders, a few
 * command words misbehave on purpose).
 *
 * soak      One context, two threads, N requests in all (--requests N,
 *           default 10000) cycling through a fixed mix of valid and hostile
 *           inputs whose outcomes corpus/images.tsv and corpus/audio.tsv
 *           give. Every outcome and every result's pixels are the expected
 *           ones; after the last request the host holds the same fds, the
 *           same one child and the same heap bytes as after the first 100,
 *           and its resident anonymous memory is within a small bound.
 * faults    The zygote killed between requests and during one is
 *           tests/test_sandbox.c's. Here: a worker killed in mid-transfer; a
 *           signal to the requesting thread every millisecond (EINTR
 *           everywhere); airlock_close() with requests in flight; no fd
 *           left in the host.
 *
 * usage: test-soak [--requests N] EVIL_ZYGOTE SOURCE_ROOT
 *
 * CI runs the full 10,000 (`meson test -C build soak-faults`: about 15 s on
 * two cores, the same under ASan). A longer soak, from the source root:
 *   build/tests/test-soak --requests 100000 build/tests/evil-zygote .
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "airlock.h"
#include "manifest.h"
#include "proc.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
size_t __sanitizer_get_current_allocated_bytes(void); /* libasan; gcc ships no header for it */
#else
#include <malloc.h>
#endif

/* What evil_zygote.c's "stall-mid-payload" writes down the pipe before it stalls: its 64-byte header (the 4 MiB of
 * payload go into the memfd first). */
#define STALL_WCHAR 64u
/* ... and the payload bytes it has in its mapped memfd by then (evil_zygote.c's STALL_PAYLOAD_BYTES). */
#define STALL_PAYLOAD_BYTES (4u << 20)
/* The 100 requests after which the soak takes its first sample. */
#define WARM 100

static const char *source_root;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms even when signals keep interrupting it. */
static void sleep_ms(long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (ms % 1000) * 1000000;
	until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

/* ---- what the host holds ---- */

/* A "Key:   N kB" field of /proc/self/status, in kB; -1 if absent. */
static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Bytes the allocator has handed out and not had back: exact, unlike RSS. */
static size_t heap_in_use(void)
{
#ifdef UNDER_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
#endif
}

struct usage {
	int fds, children;
	size_t heap;
	long rss_kb, anon_kb;
};

static void sample(struct usage *u)
{
	u->fds = proc_fd_count();
	u->children = proc_children(NULL, 0);
	u->heap = heap_in_use();
#ifndef UNDER_ASAN
	/* Free memory glibc keeps cached in its arenas is not a leak: give it back first. */
	malloc_trim(0);
#endif
	u->rss_kb = status_kb("VmRSS");
	u->anon_kb = status_kb("RssAnon");
}

static pid_t the_zygote(void)
{
	pid_t p[8];
	return proc_children(p, 8) == 1 ? p[0] : -1;
}

/* The zygote's children: the workers in flight. */
static int workers_of(pid_t zygote, pid_t *pids, int max)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)zygote, (int)zygote);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	long p;
	while (fscanf(f, "%ld", &p) == 1)
		if (n < max)
			pids[n++] = (pid_t)p;
	fclose(f);
	return n;
}

/* The number after "key" in /proc/<pid>/<file>, or -1. */
static long long proc_number(pid_t pid, const char *file, const char *key)
{
	char path[64], line[128];
	long long v = -1;
	const size_t n = strlen(key);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0)
			v = strtoll(line + n, NULL, 10);
	fclose(f);
	return v;
}

/* Bytes pid has written so far (its write() calls that returned), or -1. */
static long long wchar_of(pid_t pid)
{
	return proc_number(pid, "io", "wchar:");
}

/* pid's resident shared memory (its mapped payload memfd) in KiB, or -1. */
static long long shmem_kib_of(pid_t pid)
{
	return proc_number(pid, "status", "RssShmem:");
}

/* Waits up to ms for pid to be dead (a zombie or gone); returns 1 if it is. */
static int wait_dead(pid_t pid, long ms)
{
	for (int64_t end = now_ms() + ms;; sleep_ms(2)) {
		char s = proc_state(pid);
		if (s == 0 || s == 'Z' || s == 'X')
			return 1;
		if (now_ms() >= end)
			return 0;
	}
}

/* Waits up to ms for pid to be gone altogether (reaped). */
static int wait_gone(pid_t pid, long ms)
{
	for (int64_t end = now_ms() + ms; proc_state(pid) != 0; sleep_ms(2))
		if (now_ms() >= end)
			return 0;
	return 1;
}

static int load(const char *rel, uint8_t **buf, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", source_root, rel);
	*buf = slurp(path, len);
	return *buf != NULL;
}

static int open_ctx(airlock_ctx **ctx)
{
	*ctx = NULL;
	return airlock_open(ctx);
}

/* ---- the soak mix ---- */

/*
 * Valid and hostile inputs with known outcomes, each under ~10 ms: corpus
 * files (outcome and, for images, pixels from the manifests), test-zygote
 * commands for the sandbox events, and an empty input. Rows that need
 * options or take long (timeouts, CPU and memory caps) stay in their own
 * tests.
 */
static struct input {
	const char *name; /* a path under the source root, "cmd:WORD", or "" for an empty input */
	airlock_type expect;
	int rc;
	/* filled in by load_mix() */
	uint8_t *buf;
	size_t len;
	uint64_t fnv;	 /* of the pixels, when rc is AIRLOCK_OK */
	uint32_t dim[2]; /* width, height of an image; rate, channels of audio; 0: unchecked */
	const char *manifest;
} mix[] = {
	{ .name = "corpus/images/rgb8.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/jpeg_420.jpg", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/pal8_trns_partial.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/jpeg_exif_orientation6.jpg", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/apng_3frames.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/adam7_rgb8_40x32.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/jpeg_cmyk.jpg", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/metadata_injection.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/images/bad_crc_idat.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_MALFORMED },
	{ .name = "corpus/images/truncated_idat.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_MALFORMED },
	{ .name = "corpus/images/ihdr_width0.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_MALFORMED },
	{ .name = "corpus/images/jpeg_truncated_scan.jpg", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_MALFORMED },
	{ .name = "corpus/images/signature_only.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_TYPE },
	{ .name = "corpus/images/too_large_20000x20000.png", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_TOO_LARGE },
	{ .name = "corpus/images/jpeg_sof_65500x65500.jpg", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_TOO_LARGE },
	{ .name = "corpus/audio/wav_s16_mono_16k.wav", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/audio/flac_s24_mono_8k.flac", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/audio/mp3_mono_16k.mp3", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/audio/flac_total_samples_huge.flac", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_OK },
	{ .name = "corpus/audio/wav_f32_nan.wav", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_MALFORMED },
	{ .name = "corpus/audio/flac_rate_change.flac", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_MALFORMED },
	{ .name = "corpus/audio/wav_64_channels.wav", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_OUT_OF_RANGE },
	{ .name = "corpus/audio/wav_ima_adpcm_8k.wav", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_UNSUPPORTED },
	{ .name = "corpus/audio/wav_s16_mono_16k.wav", .expect = AIRLOCK_TYPE_FLAC, .rc = AIRLOCK_E_TYPE_MISMATCH },
	{ .name = "cmd:segv", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_WORKER_CRASH },
	{ .name = "cmd:exit1", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_WORKER_CRASH },
	{ .name = "cmd:open", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_SECCOMP },
	{ .name = "cmd:garbage", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_PROTOCOL },
	{ .name = "cmd:short-payload", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_PROTOCOL },
	{ .name = "cmd:long-payload", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_PROTOCOL },
	{ .name = "cmd:audio-nan", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_PROTOCOL },
	{ .name = "", .expect = AIRLOCK_TYPE_NONE, .rc = AIRLOCK_E_EMPTY },
};
#define NMIX (sizeof(mix) / sizeof(mix[0]))

/*
 * The manifest row for in: same path, no options, and for an expectation
 * the type column naming it. Fills in the outcome name and what a success
 * must look like. Returns 0 when found.
 */
static int manifest_row(struct input *in, char *outcome, size_t n)
{
	const int audio = strncmp(in->name, "corpus/audio/", 13) == 0;
	char path[1024], line[1024];
	snprintf(path, sizeof(path), "%s/corpus/%s", source_root, audio ? "audio.tsv" : "images.tsv");
	in->manifest = audio ? "corpus/audio.tsv" : "corpus/images.tsv";
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int found = -1;
	while (found && fgets(line, sizeof(line), f)) {
		char *col[9] = { 0 }, *save = NULL;
		int k = 0;
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (char *t = strtok_r(line, "\t", &save); t && k < 9; t = strtok_r(NULL, "\t", &save))
			col[k++] = t;
		if (k < 8 || strcmp(col[0], in->name) != 0 || strcmp(col[1], "-") != 0)
			continue;
		if (in->expect != AIRLOCK_TYPE_NONE && strcmp(col[3], airlock_type_name(in->expect)) != 0)
			continue;
		if (in->expect == AIRLOCK_TYPE_NONE && strncmp(col[2], "type_mismatch", 13) == 0)
			continue;
		snprintf(outcome, n, "%.*s", (int)strcspn(col[2], "/"), col[2]);
		if (strcmp(outcome, "ok") == 0) {
			in->dim[0] = (uint32_t)strtoul(col[4], NULL, 10);
			in->dim[1] = (uint32_t)strtoul(col[5], NULL, 10);
			if (!audio)
				in->fnv = strtoull(col[7], NULL, 16);
		}
		found = 0;
	}
	fclose(f);
	return found;
}

static int load_mix(void)
{
	int ok = 1;
	for (size_t i = 0; i < NMIX; i++) {
		struct input *in = &mix[i];
		if (strncmp(in->name, "cmd:", 4) == 0) {
			in->buf = (uint8_t *)strdup(in->name + 4);
			in->len = strlen(in->name + 4);
			continue;
		}
		if (!in->name[0]) {
			in->buf = malloc(1);
			in->len = 0;
			continue;
		}
		char outcome[32];
		if (!load(in->name, &in->buf, &in->len) || manifest_row(in, outcome, sizeof(outcome)) != 0) {
			tap_diag("%s: no file or no manifest row", in->name);
			ok = 0;
		} else if (strcmp(outcome, airlock_error_name(in->rc)) != 0) {
			tap_diag("%s: the mix says %s, %s says %s", in->name, airlock_error_name(in->rc), in->manifest,
				 outcome);
			ok = 0;
		}
	}
	return ok;
}

static const struct input *input_named(const char *name)
{
	for (size_t i = 0; i < NMIX; i++)
		if (strcmp(mix[i].name, name) == 0)
			return &mix[i];
	abort(); /* a name missing from the mix is a bug in this file */
}

/* 1 if r (or its absence) is what in must give. */
static int as_expected(const struct input *in, int rc, const airlock_result *r)
{
	if (rc != in->rc || (rc == AIRLOCK_OK) != (r != NULL))
		return 0;
	if (rc != AIRLOCK_OK)
		return 1;
	size_t n;
	const uint8_t *px = airlock_result_pixels(r, &n);
	uint32_t a = airlock_result_width(r), b = airlock_result_height(r);
	if (airlock_result_type(r) == AIRLOCK_TYPE_NONE || airlock_result_type(r) >= AIRLOCK_TYPE_WAV) {
		a = airlock_result_rate(r);
		b = airlock_result_channels(r);
	}
	return fnv1a64(px, n) == in->fnv && (!in->dim[0] || (a == in->dim[0] && b == in->dim[1]));
}

/* One request for in: its error code, or internal when it succeeded with the wrong result. */
static int sanitize_checked(airlock_ctx *ctx, const struct input *in)
{
	airlock_result *r = NULL;
	int rc = airlock_sanitize(ctx, in->buf, in->len, AIRLOCK_TYPE_NONE, &r);
	if (rc == AIRLOCK_OK && !as_expected(in, rc, r))
		rc = AIRLOCK_E_INTERNAL;
	airlock_result_free(r);
	return rc;
}

/* ---- soak ---- */

static airlock_ctx *soak_ctx;
static unsigned long soak_next;
static pthread_barrier_t soak_phase;

/* Error codes are below this (the counters of airlock_count()). */
#define CODES 128

struct soak_stats {
	unsigned long got[NMIX], bad[NMIX];
	int bad_rc[NMIX];
	unsigned long seen[CODES]; /* requests by the code they returned */
};

static unsigned long soak_take(unsigned long end)
{
	unsigned long i = __atomic_fetch_add(&soak_next, 1, __ATOMIC_RELAXED);
	return i < end ? i : ~0ul;
}

static void soak_one(struct soak_stats *s, size_t k)
{
	airlock_result *r = NULL;
	int rc = airlock_sanitize(soak_ctx, mix[k].buf, mix[k].len, mix[k].expect, &r);
	s->got[k]++;
	s->seen[rc & (CODES - 1)]++;
	if (!as_expected(&mix[k], rc, r) && s->bad[k]++ == 0)
		s->bad_rc[k] = rc;
	airlock_result_free(r);
}

static unsigned long soak_total;

static void *soak_thread(void *arg)
{
	struct soak_stats *s = arg;
	for (unsigned long i; (i = soak_take(WARM)) != ~0ul;)
		soak_one(s, i % NMIX);
	pthread_barrier_wait(&soak_phase); /* the first sample is taken */
	pthread_barrier_wait(&soak_phase);
	for (unsigned long i; (i = soak_take(soak_total)) != ~0ul;)
		soak_one(s, i % NMIX);
	pthread_barrier_wait(&soak_phase); /* the last sample is taken */
	pthread_barrier_wait(&soak_phase);
	return NULL;
}

static void soak(unsigned long total)
{
	static struct soak_stats st[3]; /* the two threads, and the first pass on this one */
	pthread_t th[2];
	struct usage u0, u1;

	if (!tap_ok(load_mix(), "the mix of %zu inputs agrees with corpus/images.tsv and corpus/audio.tsv", NMIX))
		return;
	if (!tap_ok(open_ctx(&soak_ctx) == AIRLOCK_OK, "soak: airlock_open"))
		return;
	/* Audio has no pixel checksum in its manifest: the first result is the reference for the rest. */
	int ref_ok = 1;
	for (size_t k = 0; k < NMIX; k++) {
		airlock_result *r = NULL;
		int rc = airlock_sanitize(soak_ctx, mix[k].buf, mix[k].len, mix[k].expect, &r);
		st[2].seen[rc & (CODES - 1)]++;
		if (rc == AIRLOCK_OK && strncmp(mix[k].name, "corpus/audio/", 13) == 0) {
			size_t n;
			const uint8_t *px = airlock_result_pixels(r, &n);
			mix[k].fnv = fnv1a64(px, n);
		}
		if (!as_expected(&mix[k], rc, r)) {
			tap_diag("%s: expected %s, got %s", mix[k].name, airlock_error_name(mix[k].rc),
				 airlock_error_name(rc));
			ref_ok = 0;
		}
		airlock_result_free(r);
	}
	if (!tap_ok(ref_ok, "soak: one pass over the mix gives every expected outcome, shape and pixels"))
		return;

	soak_total = total;
	soak_next = 0;
	pthread_barrier_init(&soak_phase, NULL, 3);
	const int64_t t0 = now_ms();
	for (int t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, soak_thread, &st[t]);
	pthread_barrier_wait(&soak_phase);
	sample(&u0);
	const int64_t t1 = now_ms();
	soak_next = WARM;
	pthread_barrier_wait(&soak_phase);
	pthread_barrier_wait(&soak_phase);
	const int64_t t2 = now_ms();
	sample(&u1);
	pthread_barrier_wait(&soak_phase);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&soak_phase);

	unsigned long done = 0;
	for (size_t k = 0; k < NMIX; k++) {
		unsigned long got = st[0].got[k] + st[1].got[k], bad = st[0].bad[k] + st[1].bad[k];
		int bad_rc = st[0].bad[k] ? st[0].bad_rc[k] : st[1].bad_rc[k];
		const char *name = mix[k].name[0] ? mix[k].name : "the empty input";
		done += got;
		if (!tap_ok(bad == 0 && got > 0, "all %lu requests of %s%s%s gave %s%s", got, name,
			    mix[k].expect ? " expecting " : "", mix[k].expect ? airlock_type_name(mix[k].expect) : "",
			    airlock_error_name(mix[k].rc), mix[k].rc == AIRLOCK_OK ? " and the same pixels" : ""))
			tap_diag("%lu wrong, the first %s", bad, airlock_error_name(bad_rc));
	}
	tap_ok(done == total, "soak: %lu requests on 2 threads in %.1f s (%.0f per second)", done,
	       (double)(t2 - t0) / 1000, (double)(total - WARM) * 1000 / (double)(t2 - t1 > 0 ? t2 - t1 : 1));
	/* The context's counters: every request of the first pass and of the soak, under the code it returned. */
	int counted = 1;
	for (int code = 0; code < CODES; code++)
		counted &= airlock_count(soak_ctx, code) == st[0].seen[code] + st[1].seen[code] + st[2].seen[code];
	tap_ok(counted, "soak: airlock_count() has every request under its code (%llu ok)",
	       (unsigned long long)airlock_count(soak_ctx, AIRLOCK_OK));

	tap_ok(u1.fds == u0.fds, "soak: fds after %lu requests as after %d (%d, %d)", total, WARM, u0.fds, u1.fds);
	tap_ok(u0.children == 1 && u1.children == 1, "soak: one child, the zygote, after %d and after %lu (%d, %d)",
	       WARM, total, u0.children, u1.children);
	tap_ok(u1.heap == u0.heap, "soak: heap bytes in use after %lu requests as after %d (%zu, %zu)", total, WARM,
	       u0.heap, u1.heap);
#ifdef UNDER_ASAN
	tap_ok(1, "soak: resident memory # SKIP ASan keeps freed memory in quarantine (RSS %ld kB, then %ld kB)",
	       u0.rss_kb, u1.rss_kb);
#else
	/*
	 * The heap is compared exactly above; this bounds what it cannot see
	 * (mappings, thread stacks, allocator metadata). After malloc_trim()
	 * the one arena (see main) keeps no free memory to speak of, and a
	 * thread's stack is touched as deep in the first 100 requests as in
	 * the rest. 512 kB is 50 bytes per request: a lost mapping or payload
	 * shows far more.
	 */
	tap_ok(u1.anon_kb - u0.anon_kb <= 512, "soak: anonymous resident memory grew %ld kB (bound 512; %ld -> %ld kB)",
	       u1.anon_kb - u0.anon_kb, u0.anon_kb, u1.anon_kb);
	tap_diag("VmRSS %ld kB after %d requests, %ld kB after %lu", u0.rss_kb, WARM, u1.rss_kb, total);
#endif
	airlock_close(soak_ctx);
	tap_ok(proc_children(NULL, 0) == 0, "soak: no child after airlock_close");
}

/* ---- a worker killed in mid-transfer ---- */

struct call {
	airlock_ctx *ctx;
	const uint8_t *buf;
	size_t len;
	int rc;
	airlock_result *r;
	int64_t t0, t1;
	int entered; /* set just before the call: airlock_close() must not free ctx before the call is inside */
	int done;
};

static void *call_thread(void *arg)
{
	struct call *c = arg;
	c->t0 = now_ms();
	__atomic_store_n(&c->entered, 1, __ATOMIC_RELEASE);
	c->rc = airlock_sanitize(c->ctx, c->buf, c->len, AIRLOCK_TYPE_NONE, &c->r);
	c->t1 = now_ms();
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void call_start(struct call *c, pthread_t *th, airlock_ctx *ctx, const char *cmd)
{
	*c = (struct call){ .ctx = ctx, .buf = (const uint8_t *)cmd, .len = strlen(cmd), .rc = -1 };
	pthread_create(th, NULL, call_thread, c);
}

/* Requests of one valid input in a loop until told to stop. */
struct loop {
	airlock_ctx *ctx;
	const struct input *in;
	int stop;
	unsigned long n, bad, after;
	int64_t mark; /* requests that start after this are counted in after */
};

static void *loop_thread(void *arg)
{
	struct loop *l = arg;
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		int64_t t = now_ms();
		airlock_result *r = NULL;
		int rc = airlock_sanitize(l->ctx, l->in->buf, l->in->len, l->in->expect, &r);
		l->bad += !as_expected(l->in, rc, r);
		l->n++;
		const int64_t mark = __atomic_load_n(&l->mark, __ATOMIC_ACQUIRE);
		if (mark && t > mark)
			__atomic_fetch_add(&l->after, 1, __ATOMIC_RELEASE);
		airlock_result_free(r);
	}
	return NULL;
}

/* The worker of a "stall-mid-payload" request, once it has sent all it will send; -1 on timeout. */
static pid_t stalled_worker(pid_t zygote, long ms)
{
	for (int64_t end = now_ms() + ms;; sleep_ms(1)) {
		pid_t w[64];
		int n = workers_of(zygote, w, 64);
		for (int i = 0; i < n; i++)
			/* Other workers that sent a header may still be exiting: this one holds its payload mapped. */
			if (wchar_of(w[i]) == STALL_WCHAR &&
			    shmem_kib_of(w[i]) >= (long long)(STALL_PAYLOAD_BYTES >> 10))
				return w[i];
		if (now_ms() >= end)
			return -1;
	}
}

static void fault_worker_kill(void)
{
	airlock_ctx *ctx;
	pthread_t ta, tb, tc;
	struct call a, b;
	struct loop c = { 0 };

	if (!tap_ok(open_ctx(&ctx) == AIRLOCK_OK, "worker kill: airlock_open"))
		return;
	airlock_set(ctx, AIRLOCK_TIMEOUT_MS, 30000);
	const int fds = proc_fd_count();
	const pid_t zygote = the_zygote();

	c.ctx = ctx;
	c.in = input_named("corpus/images/rgb8.png");
	pthread_create(&tc, NULL, loop_thread, &c);
	call_start(&a, &ta, ctx, "stall-mid-payload");
	pid_t w = stalled_worker(zygote, 10000);
	tap_ok(w > 0, "worker kill: a worker has written 4 MiB of its 12 MiB payload, sent a valid header, and stalls");
	/* The host holds a valid header and waits for a payload it cannot seal yet. */
	call_start(&b, &tb, ctx, "slow-payload");
	sleep_ms(60);
	const int64_t t_kill = now_ms();
	__atomic_store_n(&c.mark, t_kill, __ATOMIC_RELEASE);
	if (w > 0)
		kill(w, SIGKILL);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	while (__atomic_load_n(&c.after, __ATOMIC_RELAXED) < 20)
		sleep_ms(1);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(tc, NULL);

	tap_ok(a.rc == AIRLOCK_E_WORKER_CRASH && a.r == NULL,
	       "worker kill: the request whose worker was killed mid-transfer fails with worker_crash (got %s)",
	       airlock_error_name(a.rc));
	size_t n = 0;
	const uint8_t *px = b.r ? airlock_result_pixels(b.r, &n) : NULL;
	int zeros = px && n == 64 * 64 * 3;
	for (size_t i = 0; zeros && i < n; i++)
		zeros = px[i] == 0;
	tap_ok(b.rc == AIRLOCK_OK && zeros && b.t0 < t_kill && b.t1 > t_kill,
	       "worker kill: a request in mid-transfer on another thread at that moment got its whole frame (%s, "
	       "%lld ms before and %lld ms after the kill)",
	       airlock_error_name(b.rc), (long long)(t_kill - b.t0), (long long)(b.t1 - t_kill));
	tap_ok(c.bad == 0 && c.n > c.after && c.after >= 20,
	       "worker kill: a third thread's %lu requests before and after all succeeded (%lu wrong)", c.n, c.bad);
	airlock_result_free(b.r);
	tap_ok(airlock_count(ctx, AIRLOCK_E_WORKER_CRASH) == 1, "worker kill: the context counted exactly one crash");
	tap_ok(w > 0 && wait_gone(w, 2000), "worker kill: the killed worker was reaped by the zygote");
	tap_ok(proc_fd_count() == fds && the_zygote() == zygote,
	       "worker kill: no fd leaked, and the same zygote serves on");
	airlock_close(ctx);
}

/* ---- a signal every millisecond ---- */

static volatile sig_atomic_t usr1_seen;
static int storm_stop;
static unsigned long storm_sent;

static void on_usr1(int s)
{
	(void)s;
	usr1_seen++;
}

static void *storm_thread(void *arg)
{
	pthread_t target = *(pthread_t *)arg;
	while (!__atomic_load_n(&storm_stop, __ATOMIC_ACQUIRE)) {
		pthread_kill(target, SIGUSR1);
		storm_sent++;
		sleep_ms(1);
	}
	return NULL;
}

static void fault_signals(unsigned requests)
{
	const struct input *png = input_named("corpus/images/rgb8.png");
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	pthread_t self = pthread_self(), th;
	airlock_ctx *ctx;

	const int fds0 = proc_fd_count();
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: every slow call the signal lands in fails with EINTR */
	sigaction(SIGUSR1, &sa, &old);
	usr1_seen = 0;
	storm_stop = 0;
	pthread_create(&th, NULL, storm_thread, &self);
	const int64_t t0 = now_ms();

	int rc = open_ctx(&ctx);
	unsigned ok = 0, shown = 0;
	pid_t z0 = the_zygote(), z1 = -1;
	for (unsigned i = 0; rc == AIRLOCK_OK && i < requests; i++) {
		if (i == requests / 2 && z0 > 0) {
			/* Halfway, the zygote dies between requests: the next one starts another under the storm. */
			kill(z0, SIGKILL);
			wait_dead(z0, 2000);
		}
		airlock_result *r = NULL;
		int e = airlock_sanitize(ctx, png->buf, png->len, AIRLOCK_TYPE_NONE, &r);
		if (as_expected(png, e, r))
			ok++;
		else if (shown++ < 5)
			tap_diag("request %u under signals: %s", i, airlock_error_name(e));
		airlock_result_free(r);
	}
	z1 = the_zygote();
	if (rc == AIRLOCK_OK)
		airlock_close(ctx);
	const int64_t t1 = now_ms();
	__atomic_store_n(&storm_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	sigaction(SIGUSR1, &old, NULL);

	tap_ok(rc == AIRLOCK_OK, "signals: airlock_open under a signal every millisecond (got %s)",
	       airlock_error_name(rc));
	tap_ok(ok == requests, "signals: all %u requests of rgb8.png succeeded with the right pixels (%u did)",
	       requests, ok);
	tap_ok(z1 > 0 && z1 != z0, "signals: a zygote killed halfway was replaced under the storm");
	/*
	 * One every 4 ms leaves room for a loaded machine (meson runs tests in
	 * parallel); a few hundred EINTRs already land in every kind of wait.
	 */
	tap_ok(usr1_seen >= (t1 - t0) / 4 && usr1_seen > 250,
	       "signals: %d SIGUSR1 delivered to the requesting thread in %lld ms (%lu sent)", (int)usr1_seen,
	       (long long)(t1 - t0), storm_sent);
	tap_ok(proc_fd_count() == fds0 && proc_children(NULL, 0) == 0,
	       "signals: after airlock_close under the storm no fd or child is left");
}

/* ---- airlock_close() with requests in flight ---- */

static const char *const slow_cmds[] = { "loop", "stall-after-header", "stall-mid-payload", "slow-payload" };
#define NSLOW (sizeof(slow_cmds) / sizeof(slow_cmds[0]))

static void fault_close_inflight(int rounds)
{
	/* A real decode of a few milliseconds: it may end before the close or be cut by it. */
	const struct input *real = input_named("corpus/audio/mp3_mono_16k.mp3");
	unsigned slow_closed = 0, real_ok = 0, real_closed = 0, other = 0, left = 0, lingering = 0;
	int64_t worst = 0;
	size_t heap0 = 0;

	for (int round = 0; round < rounds; round++) {
		if (round == 1)
			heap0 = heap_in_use(); /* after one round: whatever threads allocate once is there */
		airlock_ctx *ctx;
		pthread_t th[NSLOW + 1];
		struct call c[NSLOW + 1];
		const int fds0 = proc_fd_count();

		if (!tap_ok(open_ctx(&ctx) == AIRLOCK_OK, "close: airlock_open, round %d", round))
			return;
		airlock_set(ctx, AIRLOCK_TIMEOUT_MS, 60000);
		const pid_t zygote = the_zygote();
		for (size_t i = 0; i < NSLOW; i++)
			call_start(&c[i], &th[i], ctx, slow_cmds[i]);
		/* Every slow request has its worker, and the payload one is mid-payload: all are in flight. */
		pid_t w[64];
		int nw = 0;
		for (int64_t end = now_ms() + 10000; now_ms() < end; sleep_ms(1))
			if ((nw = workers_of(zygote, w, 64)) >= (int)NSLOW && stalled_worker(zygote, 0) > 0)
				break;
		/*
		 * The real request: in flight or already returned, never not yet
		 * entered (airlock_close() frees ctx; a call that starts after it is
		 * the caller's bug). Counting the zygote's children cannot tell: a
		 * request takes a spare that is already one of them. So the thread
		 * says it is about to call, and the close waits a few milliseconds
		 * more than the few instructions between that and the call's
		 * inflight count.
		 */
		c[NSLOW] = (struct call){ .ctx = ctx, .buf = real->buf, .len = real->len, .rc = -1 };
		pthread_create(&th[NSLOW], NULL, call_thread, &c[NSLOW]);
		for (int64_t end = now_ms() + 10000; now_ms() < end; sleep_ms(1))
			if (__atomic_load_n(&c[NSLOW].entered, __ATOMIC_ACQUIRE))
				break;
		sleep_ms(5 + round % 4 * 3);

		const int64_t t0 = now_ms();
		airlock_close(ctx);
		const int64_t took = now_ms() - t0;
		worst = took > worst ? took : worst;
		for (size_t i = 0; i <= NSLOW; i++) {
			pthread_join(th[i], NULL);
			if (i < NSLOW && c[i].rc == AIRLOCK_E_CLOSED && !c[i].r)
				slow_closed++;
			else if (i == NSLOW && c[i].rc == AIRLOCK_E_CLOSED && !c[i].r)
				real_closed++;
			else if (i == NSLOW && as_expected(real, c[i].rc, c[i].r))
				real_ok++;
			else {
				other++;
				tap_diag("round %d: %s returned %s", round, i < NSLOW ? slow_cmds[i] : real->name,
					 airlock_error_name(c[i].rc));
			}
			airlock_result_free(c[i].r);
		}
		left += proc_fd_count() != fds0 || proc_children(NULL, 0) != 0;
		for (int i = 0; i < nw && i < 64; i++)
			lingering += !wait_gone(w[i], 2000);
	}
	tap_ok(slow_closed == rounds * NSLOW,
	       "close: %d rounds, every one of %zu slow requests in flight (timeout, stall after the header, stall "
	       "mid-payload, mid-transfer) returned closed (%u did)",
	       rounds, rounds * NSLOW, slow_closed);
	tap_ok(other == 0,
	       "close: a real decode racing the close ended ok or closed, never anything else (%u ok, %u "
	       "closed)",
	       real_ok, real_closed);
	tap_ok(worst < 3000, "close: airlock_close returned within %lld ms at worst, not after any request timeout",
	       (long long)worst);
	tap_ok(left == 0, "close: after each close, the fds of before the open and no child");
	tap_ok(lingering == 0, "close: every worker that was in flight is gone");
	/*
	 * Not quite exact here: from round to round glibc's in-use count goes
	 * up and back down by 16 bytes (allocator placement; it never grows).
	 * 256 bytes is less than the smallest thing a request allocates (a
	 * result) times the 4 x (rounds - 1) requests closed since the first
	 * sample. Under ASan the count is exact.
	 */
	const size_t heap1 = heap_in_use();
	tap_ok(heap1 <= heap0 + 256 && heap0 <= heap1 + 256,
	       "close: heap bytes in use after the last round as after the first, within 256 (%zu, %zu)", heap0, heap1);
}

/* ---- no fd left ---- */

static int fd_pool[4096];
static int fd_pool_n, fd_null = -1;

/* Fills the fd table up to the soft limit, then frees exactly room of it. */
static void fds_fill(int room)
{
	int fd;
	fd_pool_n = 0;
	while (fd_pool_n < 4096 && (fd = dup(fd_null)) >= 0)
		fd_pool[fd_pool_n++] = fd;
	for (int i = 0; i < room && fd_pool_n > 0; i++)
		close(fd_pool[--fd_pool_n]);
}

static void fds_release(void)
{
	while (fd_pool_n > 0)
		close(fd_pool[--fd_pool_n]);
}

/* A row of rc per room, for diagnostics: "io io io ok ...". */
static void show(const char *what, const int *rc, int n)
{
	char s[512] = "";
	for (int i = 0; i < n; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s), " %d:%s", i, airlock_error_name(rc[i]));
	tap_diag("%s, by free fds:%s", what, s);
}

/* Failures first, each fail_a or fail_b, then successes only; the first fails and the last succeeds. */
static int fails_then_ok(const int *rc, int n, int fail_a, int fail_b)
{
	int seen_ok = 0;
	for (int i = 0; i < n; i++) {
		if (rc[i] == AIRLOCK_OK)
			seen_ok = 1;
		else if ((rc[i] != fail_a && rc[i] != fail_b) || seen_ok)
			return 0;
	}
	return rc[0] != AIRLOCK_OK && seen_ok;
}

#define ROOMS 16

static void fault_fds(void)
{
	const struct input *png = input_named("corpus/images/rgb8.png");
	struct rlimit old, low;
	int rc_req[ROOMS], rc_spawn[ROOMS], rc_open[ROOMS];
	airlock_ctx *ctx;

	getrlimit(RLIMIT_NOFILE, &old);
	/* A low soft limit, so filling the table takes a few dozen dup()s. */
	low = old;
	low.rlim_cur = (rlim_t)proc_fd_count() + 64;
	if (low.rlim_cur > old.rlim_cur)
		low.rlim_cur = old.rlim_cur;
	fd_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!tap_ok(fd_null >= 0 && open_ctx(&ctx) == AIRLOCK_OK, "fds: airlock_open"))
		return;
	const int fds = proc_fd_count();
	const pid_t zygote = the_zygote();
	setrlimit(RLIMIT_NOFILE, &low);

	/* The zygote alive: the request's own memfds, pipe and socket pair. */
	int leaks = 0;
	for (int room = 0; room < ROOMS; room++) {
		fds_fill(room);
		rc_req[room] = sanitize_checked(ctx, png);
		fds_release();
		leaks += proc_fd_count() != fds || the_zygote() != zygote;
	}
	show("sanitize", rc_req, ROOMS);
	tap_ok(fails_then_ok(rc_req, ROOMS, AIRLOCK_E_IO, AIRLOCK_E_IO),
	       "fds: with too few fds for its memfds, pipe or socket pair a request fails with io, then succeeds");
	tap_ok(leaks == 0, "fds: no fd leaked and the zygote untouched by any of those requests");

	/* The zygote dead: the request must also start a new one. */
	leaks = 0;
	for (int room = 0; room < ROOMS; room++) {
		pid_t z = the_zygote();
		if (z > 0) {
			kill(z, SIGKILL);
			wait_dead(z, 2000);
		}
		fds_fill(room);
		rc_spawn[room] = sanitize_checked(ctx, png);
		fds_release();
		/* A failed request may leave the dead zygote for the next one to notice: never more. */
		leaks += proc_fd_count() > fds || proc_children(NULL, 0) > 1;
	}
	show("sanitize with the zygote to restart", rc_spawn, ROOMS);
	/* The same host-side shortage as a missing memfd, not a broken helper. */
	tap_ok(fails_then_ok(rc_spawn, ROOMS, AIRLOCK_E_IO, AIRLOCK_E_IO),
	       "fds: with too few fds to restart the zygote a request fails with io, then succeeds");
	tap_ok(leaks == 0 && proc_fd_count() == fds && proc_children(NULL, 0) == 1,
	       "fds: no fd or child leaked by any of those requests");
	airlock_close(ctx);

	/* airlock_open itself. */
	const int fds0 = proc_fd_count();
	leaks = 0;
	for (int room = 0; room < ROOMS; room++) {
		fds_fill(room);
		rc_open[room] = open_ctx(&ctx);
		fds_release();
		if (rc_open[room] == AIRLOCK_OK)
			airlock_close(ctx);
		leaks += proc_fd_count() != fds0 || proc_children(NULL, 0) != 0;
	}
	setrlimit(RLIMIT_NOFILE, &old);
	show("airlock_open", rc_open, ROOMS);
	tap_ok(fails_then_ok(rc_open, ROOMS, AIRLOCK_E_IO, AIRLOCK_E_IO),
	       "fds: with too few fds airlock_open fails with io, then succeeds");
	tap_ok(leaks == 0, "fds: no fd or child leaked by any airlock_open");

	/* The limit back: everything works and nothing is left over. */
	int rc = open_ctx(&ctx);
	if (rc == AIRLOCK_OK) {
		rc = sanitize_checked(ctx, png);
		airlock_close(ctx);
	}
	close(fd_null);
	tap_ok(rc == AIRLOCK_OK && proc_fd_count() == fds0 - 1 && proc_children(NULL, 0) == 0,
	       "fds: with the limit restored a request succeeds and nothing is left (%s)", airlock_error_name(rc));
}

int main(int argc, char **argv)
{
	unsigned long total = 10000;
	int a = 1;
	if (argc > 2 && strcmp(argv[1], "--requests") == 0) {
		total = strtoul(argv[2], NULL, 10);
		a = 3;
	}
	if (argc - a != 2 || total < 2 * WARM) {
		fprintf(stderr, "usage: %s [--requests N (at least %d)] EVIL_ZYGOTE SOURCE_ROOT\n", argv[0], 2 * WARM);
		return 2;
	}
#ifndef UNDER_ASAN
	/*
	 * mallinfo2() counts as in use the chunks a thread's tcache holds, and
	 * the header of every arena glibc adds when threads contend: the heap
	 * it reports moves with both. With no tcache and one arena it is
	 * exact: run again so.
	 */
	static const char tunables[] = "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1";
	const char *tun = getenv("GLIBC_TUNABLES");
	if (!tun || !strstr(tun, tunables)) {
		char v[1024];
		snprintf(v, sizeof(v), "%s%s%s", tun ? tun : "", tun ? ":" : "", tunables);
		setenv("GLIBC_TUNABLES", v, 1);
		execv("/proc/self/exe", argv);
		tap_diag("could not run again with %s: the heap comparisons may be off", tunables);
	}
#endif
	setenv("AIRLOCK_ZYGOTE", argv[a], 1);
	source_root = argv[a + 1];
	const int fds0 = proc_fd_count();

	soak(total);
	fault_worker_kill();
	fault_signals(1000);
	fault_close_inflight(8);
	fault_fds();

	tap_ok(proc_fd_count() == fds0 && proc_children(NULL, 0) == 0, "at the end: the fds of the start and no child");
	for (size_t i = 0; i < NMIX; i++)
		free(mix[i].buf);
	return tap_done();
}
