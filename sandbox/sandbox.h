/* SPDX-License-Identifier: MIT */
/* Worker confinement, the zygote, and the worker's life. */
#ifndef AIRLOCK_SANDBOX_H
#define AIRLOCK_SANDBOX_H

#include <stdint.h>
#include <linux/filter.h>
#include <sys/types.h>

#include "decode.h"

/* The steps of sandbox_enter(), in order; reported when one fails. */
enum sandbox_step {
	STEP_NONE = 0,
	STEP_PDEATHSIG = 1,
	STEP_FDS = 2,
	STEP_RLIMITS = 3,
	STEP_NO_NEW_PRIVS = 4,
	STEP_SECCOMP = 5,
};

const char *sandbox_step_name(int step);

/* The worker's seccomp allowlist, compiled to BPF (policy.c). */
struct policy {
	struct sock_fprog prog;
	unsigned marks; /* comparisons against the worker's own pid */
};

/* Builds the allowlist with a stand-in for the worker's pid; 0 or -errno. */
int policy_build(struct policy *out);
/* Writes pid over the stand-in, in place: the policy for that one process. 0 or -EINVAL. */
int policy_for(struct policy *p, pid_t pid);
void policy_free(struct policy *p);
/* Installs it: from then on anything outside it kills the process. 0 or -errno. */
int policy_apply(const struct policy *p);

/*
 * Confines the calling process for decoding, in this order: rlimits (address
 * space, CPU, file size up to the memory limit for the payload memfd, no
 * core dumps, no fd above 2, no locked memory); in_fd moved to 0 (unless
 * negative), out_fd to 1 and pay_fd to 2 (unless negative), every other fd
 * closed; PR_SET_NO_NEW_PRIVS; the built seccomp policy, whose default
 * action kills the process. Returns STEP_NONE, or the failed step with *err
 * set to its errno.
 */
int sandbox_enter(const struct policy *pol, uint64_t memory_bytes, uint32_t cpu_ms, int in_fd, int out_fd, int pay_fd,
		  int *err);

/*
 * Enters new user, network, IPC and mount namespaces where the kernel
 * allows it (ns.c); returns the AIRLOCK_LAYER_*_NS bits applied. Only for a
 * single-threaded process that needs nothing from the filesystem afterwards.
 */
uint32_t ns_enter(void);

/*
 * In a confined worker: the payload memfd (fd 2) sized to n bytes and mapped
 * shared and writable, or NULL; payload_put() fills it with n bytes (0 or
 * -1); worker_send_header() writes the frame header for f and status to fd 1.
 * The payload must be complete, and unmapped, before the header is sent:
 * the host takes it as soon as it can seal it against writes.
 */
void *payload_map(size_t n);
int payload_put(const void *data, size_t n);
void worker_send_header(const struct frame *f, int status);

/* What a worker does with its input once confined. The production one is decode_any. */
typedef int (*worker_decode_fn)(void *magic, const uint8_t *buf, size_t len, const struct limits *lim,
				const struct pixel_alloc *pa, struct frame *out);

/* Runs decode on built-in samples (warmup.c): a spare does this before it is confined. */
void spare_warm_up(void *magic, worker_decode_fn decode);

/*
 * A family of decoders, each with a zygote of its own (the host starts the
 * one a request needs): the base one (images and audio: zygote_main.c) and
 * the media one (FFmpeg: zygote_media_main.c), whose libraries would make
 * every base fork dearer. warm, when not NULL, runs once in the zygote
 * before confinement, next to its libc warm-up: the lazy state of the
 * family's libraries that every worker then inherits ready.
 */
struct zygote_family {
	const char *name; /* the process name */
	worker_decode_fn decode;
	void (*warm)(void);
};

/*
 * The zygote's main loop on the control socket ZYGOTE_CTL_FD: answers hello,
 * then forks one worker per request. Returns the process exit status.
 */
int zygote_main(const struct zygote_family *fam);

#endif
