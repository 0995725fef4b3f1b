/* SPDX-License-Identifier: MIT */
/* Worker confinement, the zygote, and the worker's life. */
#ifndef AIRLOCK_SANDBOX_H
#define AIRLOCK_SANDBOX_H

#include <stdint.h>
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

/*
 * Confines the calling process for decoding, in this order: rlimits (address
 * space, CPU, no file writes, no core dumps, no new fds, no locked memory);
 * in_fd moved to 0 (unless negative) and out_fd to 1, every other fd closed;
 * PR_SET_NO_NEW_PRIVS; the seccomp allowlist, whose default action kills the
 * process. Returns STEP_NONE, or the failed step with *err set to its errno.
 */
int sandbox_enter(uint64_t memory_bytes, uint32_t cpu_ms, int in_fd, int out_fd, int *err);

/*
 * Enters new user, network, IPC and mount namespaces where the kernel
 * allows it (ns.c); returns the AIRLOCK_LAYER_*_NS bits applied. Only for a
 * single-threaded process that needs nothing from the filesystem afterwards.
 */
uint32_t ns_enter(void);

/* Loads the allowlist; exposed for the probe and for tests. 0 or -errno. */
int policy_load(void);

/* What a worker does with its input once confined. The production one is decode_any. */
typedef int (*worker_decode_fn)(void *magic, const uint8_t *buf, size_t len, const struct limits *lim,
				struct frame *out);

/*
 * The zygote's main loop on the control socket ZYGOTE_CTL_FD: answers hello,
 * then forks one worker per request. Returns the process exit status.
 */
int zygote_main(worker_decode_fn decode);

#endif
