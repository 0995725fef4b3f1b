/* SPDX-License-Identifier: MIT */
/*
 * The worker's seccomp policy, as a table of named groups (the shape of
 * systemd's seccomp-util.c). Default action: kill the whole process. A
 * decoding worker reads its input from fd 0, writes its frame to fd 1,
 * manages memory without ever mapping anything executable, and exits.
 * Nothing else: no open, no socket, no fork, no exec, no ptrace.
 */
#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox.h"

enum arg_rule {
	ARG_ANY = 0,
	ARG_FD0,       /* first argument is fd 0 */
	ARG_FD1,       /* first argument is fd 1 */
	ARG_FD2_EBADF, /* first argument is fd 2: fails with EBADF instead of killing */
	ARG_NO_EXEC2,  /* third argument (prot) has no PROT_EXEC */
	ARG_SELF,      /* first argument is this process's pid */
};

struct syscall_rule {
	int nr;
	enum arg_rule arg;
};

struct syscall_group {
	const char *name;
	const char *why;
	struct syscall_rule rules[8];
};

/* clang-format off */
#define END { -1, ARG_ANY }
/* clang-format on */

static const struct syscall_group groups[] = {
	{ "@io",
	  "the input on fd 0 and the frame on fd 1, nothing else",
	  { { SCMP_SYS(read), ARG_FD0 }, { SCMP_SYS(write), ARG_FD1 }, END } },
	{ "@memory",
	  "malloc and the input mapping; never executable memory",
	  { { SCMP_SYS(brk), ARG_ANY },
	    { SCMP_SYS(mmap), ARG_NO_EXEC2 },
	    { SCMP_SYS(mprotect), ARG_NO_EXEC2 },
	    { SCMP_SYS(munmap), ARG_ANY },
	    { SCMP_SYS(mremap), ARG_ANY },
	    { SCMP_SYS(madvise), ARG_ANY },
	    END } },
	{ "@exit", "ending the process", { { SCMP_SYS(exit_group), ARG_ANY }, { SCMP_SYS(exit), ARG_ANY }, END } },
	{ "@abort",
	  "abort() in a library reports a crash, not a policy kill",
	  { { SCMP_SYS(rt_sigprocmask), ARG_ANY },
	    { SCMP_SYS(rt_sigreturn), ARG_ANY },
	    { SCMP_SYS(getpid), ARG_ANY },
	    { SCMP_SYS(gettid), ARG_ANY },
	    { SCMP_SYS(tgkill), ARG_SELF },
	    END } },
	{ "@time", "clock reads that miss the vDSO", { { SCMP_SYS(clock_gettime), ARG_ANY }, END } },
	{ "@stderr",
	  "libmpg123 prints warnings on damaged MP3s; fd 2 is closed and the call fails",
	  { { SCMP_SYS(write), ARG_FD2_EBADF }, END } },
};

static int add_rule(scmp_filter_ctx f, const struct syscall_rule *r, pid_t self)
{
	switch (r->arg) {
	case ARG_FD0: return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A0(SCMP_CMP_EQ, 0));
	case ARG_FD1: return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A0(SCMP_CMP_EQ, 1));
	case ARG_FD2_EBADF: return seccomp_rule_add(f, SCMP_ACT_ERRNO(EBADF), r->nr, 1, SCMP_A0(SCMP_CMP_EQ, 2));
	case ARG_NO_EXEC2:
		return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case ARG_SELF: return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
	case ARG_ANY: break;
	}
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 0);
}

int policy_load(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = 0;

	if (!f)
		return -ENOMEM;
	/* Not libseccomp's own no_new_privs: the caller sets it and checks it. */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t g = 0; rc == 0 && g < sizeof(groups) / sizeof(groups[0]); g++)
		for (const struct syscall_rule *r = groups[g].rules; rc == 0 && r->nr != -1; r++)
			rc = add_rule(f, r, getpid());
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	return rc < 0 ? rc : 0;
}
