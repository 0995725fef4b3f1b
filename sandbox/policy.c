/* SPDX-License-Identifier: MIT */
/*
 * The worker's seccomp policy, as a table of named groups (the shape of
 * systemd's seccomp-util.c). Default action: kill the whole process. A
 * decoding worker reads its input from fd 0, writes its frame header to
 * fd 1 and its payload into the memfd on fd 2, manages memory without ever
 * mapping anything executable, and exits.
 * Nothing else: no open, no socket, no fork, no exec, no ptrace.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

enum arg_rule {
	ARG_ANY = 0,
	ARG_FD0,	       /* first argument is fd 0 */
	ARG_FD1,	       /* first argument is fd 1 */
	ARG_FD2,	       /* first argument is fd 2, the output memfd */
	ARG_FD2_EBADF,	       /* first argument is fd 2: fails with EBADF instead of killing */
	ARG_NO_EXEC2,	       /* third argument (prot) has no PROT_EXEC */
	ARG_SELF,	       /* first argument is this process's pid */
	ARG_FUTEX_WAKE_EINVAL, /* second argument (op) is FUTEX_WAKE_PRIVATE: fails with EINVAL */
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
	  "the input on fd 0, the frame header on fd 1, the payload memfd on fd 2 sized and mapped, nothing else",
	  { { SCMP_SYS(read), ARG_FD0 }, { SCMP_SYS(write), ARG_FD1 }, { SCMP_SYS(ftruncate), ARG_FD2 }, END } },
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
	  "libmpg123 prints warnings on damaged MP3s to fd 2: the call fails, the payload memfd is untouched",
	  { { SCMP_SYS(write), ARG_FD2_EBADF }, END } },
	{ "@once",
	  "glibc's pthread_once() wakes waiters when a once-init ends (FFmpeg's static tables, for a path the media "
	  "zygote's warm-up missed); a single-threaded worker has none, and glibc ignores EINVAL from the wake",
	  { { SCMP_SYS(futex), ARG_FUTEX_WAKE_EINVAL }, END } },
};

static int add_rule(scmp_filter_ctx f, const struct syscall_rule *r, pid_t self)
{
	switch (r->arg) {
	case ARG_FD0: return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A0(SCMP_CMP_EQ, 0));
	case ARG_FD1: return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A0(SCMP_CMP_EQ, 1));
	case ARG_FD2: return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A0(SCMP_CMP_EQ, 2));
	case ARG_FD2_EBADF: return seccomp_rule_add(f, SCMP_ACT_ERRNO(EBADF), r->nr, 1, SCMP_A0(SCMP_CMP_EQ, 2));
	case ARG_NO_EXEC2:
		return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case ARG_SELF: return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
	case ARG_FUTEX_WAKE_EINVAL:
		return seccomp_rule_add(f, SCMP_ACT_ERRNO(EINVAL), r->nr, 1, SCMP_A1(SCMP_CMP_EQ, FUTEX_WAKE_PRIVATE));
	case ARG_ANY: break;
	}
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, r->nr, 0);
}

/*
 * The tgkill rule names the worker's own pid, which is not known until the
 * worker exists. The zygote compiles the policy once with this stand-in for
 * it, and each spare writes its pid over the stand-in in its own copy. The
 * value is a valid pid that no other constant in the program comes near.
 */
#define SELF_MARK 0x2e1f5e1fu

static int is_self_mark(const struct sock_filter *i)
{
	return i->code == (BPF_JMP | BPF_JEQ | BPF_K) && i->k == SELF_MARK;
}

/*
 * Compiles the policy into a BPF program, through libseccomp's exporter,
 * with SELF_MARK for the worker's pid. The zygote does this once; a spare
 * then needs only policy_for() while it waits, and loading the result is
 * one system call.
 */
int policy_build(struct policy *out)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = 0, p[2] = { -1, -1 };
	const pid_t self = (pid_t)SELF_MARK;

	*out = (struct policy){ 0 };
	if (!f)
		return -ENOMEM;
	/* Not libseccomp's own no_new_privs: the caller sets it and checks it. */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t g = 0; rc == 0 && g < sizeof(groups) / sizeof(groups[0]); g++)
		for (const struct syscall_rule *r = groups[g].rules; rc == 0 && r->nr != -1; r++)
			rc = add_rule(f, r, self);
	if (rc == 0 && pipe2(p, O_CLOEXEC) != 0)
		rc = -errno;
	/* At most BPF_MAXINSNS instructions (32 KiB): less than a pipe holds, so the export cannot block. */
	if (rc == 0)
		rc = seccomp_export_bpf(f, p[1]);
	seccomp_release(f);
	if (p[1] >= 0)
		close(p[1]);
	const size_t cap = BPF_MAXINSNS * sizeof(struct sock_filter);
	struct sock_filter *insns = rc == 0 ? malloc(cap) : NULL;
	size_t got = 0;
	if (rc == 0 && !insns)
		rc = -ENOMEM;
	while (rc == 0) {
		ssize_t n = read(p[0], (uint8_t *)insns + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else if (n == 0)
			break;
		else
			got += (size_t)n;
		if (got == cap)
			rc = -E2BIG;
	}
	if (p[0] >= 0)
		close(p[0]);
	if (rc == 0 && (got == 0 || got % sizeof(insns[0]) != 0))
		rc = -EINVAL;
	if (rc) {
		free(insns);
		return rc < 0 ? rc : -EINVAL;
	}
	out->prog.len = (unsigned short)(got / sizeof(insns[0]));
	out->prog.filter = insns;
	for (size_t i = 0; i < out->prog.len; i++)
		out->marks += is_self_mark(&insns[i]);
	if (out->marks == 0) {
		policy_free(out);
		return -EINVAL;
	}
	return 0;
}

int policy_for(struct policy *p, pid_t pid)
{
	unsigned found = 0;
	if (pid <= 0 || (uint32_t)pid == SELF_MARK)
		return -EINVAL;
	for (size_t i = 0; i < p->prog.len; i++)
		if (is_self_mark(&p->prog.filter[i])) {
			p->prog.filter[i].k = (uint32_t)pid;
			found++;
		}
	/* Exactly the comparisons the template had: anything else is not the program that was built. */
	return found == p->marks ? 0 : -EINVAL;
}

void policy_free(struct policy *p)
{
	free(p->prog.filter);
	p->prog = (struct sock_fprog){ 0 };
}

/* Installs a built policy: flags 0, as libseccomp's own loader with these attributes. */
int policy_apply(const struct policy *p)
{
	if (!p->prog.filter || p->prog.len == 0)
		return -EINVAL;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->prog) != 0)
		return -errno;
	return 0;
}
