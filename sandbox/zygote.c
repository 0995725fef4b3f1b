/* SPDX-License-Identifier: MIT */
/*
 * The zygote and its workers. The zygote is exec'd by the host with an empty
 * environment and only the control socket (fd 3); it loads libmagic, checks
 * once that it can confine a worker, and then forks one fresh worker per
 * request. It never reads an untrusted byte. Workers are its children: it
 * reaps them and reports each wait status on the request's status socket,
 * and it kills a worker when the host asks or hangs up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "proto.h"
#include "sandbox.h"

#define MAX_WORKERS 512
/* Workers forked ahead of need: two, so two host threads never wait for a fork. */
#define SPARES 2
/* A spare's socket to the zygote, the one descriptor it keeps while it waits. */
#define SPARE_FD 3

const char *sandbox_step_name(int step)
{
	switch (step) {
	case STEP_PDEATHSIG: return "parent-death signal";
	case STEP_FDS: return "closing descriptors";
	case STEP_RLIMITS: return "resource limits";
	case STEP_NO_NEW_PRIVS: return "no_new_privs";
	case STEP_SECCOMP: return "seccomp filter";
	default: return "none";
	}
}

static int set_limit(int res, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };
	return setrlimit(res, &rl);
}

int sandbox_enter(const struct policy *pol, uint64_t memory_bytes, uint32_t cpu_ms, int in_fd, int out_fd, int pay_fd,
		  int *err)
{
	rlim_t cpu_s = (cpu_ms + 999) / 1000;
	if (cpu_s == 0)
		cpu_s = 1;
	/*
	 * CPU: SIGXCPU at the soft limit, SIGKILL a second later. FSIZE: the
	 * payload memfd may be sized up to the memory limit, nothing more.
	 * NOFILE 3: fds 0, 1 and 2 stay usable, no new one can be made even if
	 * the filter had a hole.
	 */
	if (set_limit(RLIMIT_AS, memory_bytes, memory_bytes) || set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1) ||
	    set_limit(RLIMIT_FSIZE, memory_bytes, memory_bytes) || set_limit(RLIMIT_CORE, 0, 0) ||
	    set_limit(RLIMIT_NOFILE, 3, 3) || set_limit(RLIMIT_MEMLOCK, 0, 0)) {
		*err = errno;
		return STEP_RLIMITS;
	}
	/* Input on 0, frame on 1, payload memfd on 2, nothing else: not even the zygote's sockets. */
	if ((in_fd >= 0 && dup2(in_fd, 0) < 0) || dup2(out_fd, 1) < 0 || (pay_fd >= 0 && dup2(pay_fd, 2) < 0) ||
	    (pay_fd < 0 && close(2) != 0 && errno != EBADF) || close_range(3, ~0u, 0) != 0) {
		*err = errno;
		return STEP_FDS;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		*err = errno;
		return STEP_NO_NEW_PRIVS;
	}
	int rc = policy_apply(pol);
	if (rc) {
		*err = -rc;
		return STEP_SECCOMP;
	}
	return STEP_NONE;
}

void *payload_map(size_t n)
{
	if (n == 0 || ftruncate(2, (off_t)n) != 0)
		return NULL;
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, 2, 0);
	return p == MAP_FAILED ? NULL : p;
}

int payload_put(const void *data, size_t n)
{
	if (n == 0)
		return ftruncate(2, 0);
	void *p = payload_map(n);
	if (!p)
		return -1;
	memcpy(p, data, n);
	return munmap(p, n);
}

void worker_send_header(const struct frame *f, int status)
{
	struct frame_header h;
	uint8_t hdr[FRAME_HEADER_SIZE];
	frame_header_from(f, status, &h);
	frame_header_pack(&h, hdr);
	io_write_all(1, hdr, sizeof(hdr));
}

/* A decoder's first output buffer is the payload memfd itself; any other comes from malloc. */
struct payload_out {
	uint8_t *map;
	size_t len;
};

static void *payload_alloc(void *user, size_t n)
{
	struct payload_out *po = user;
	if (po->map)
		return malloc(n);
	po->map = payload_map(n);
	po->len = n;
	return po->map;
}

/* Grows or shrinks the payload mapping with the memfd under it; other buffers with realloc(). */
static void *payload_resize(void *user, void *p, size_t old, size_t n)
{
	struct payload_out *po = user;
	if (!po->map || p != po->map)
		return realloc(p, n);
	if (n == 0 || ftruncate(2, (off_t)n) != 0)
		return NULL;
	void *q = mremap(p, old, n, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		(void)!ftruncate(2, (off_t)old);
		return NULL;
	}
	po->map = q;
	po->len = n;
	return q;
}

static void payload_release(void *user, void *p, size_t n)
{
	struct payload_out *po = user;
	if (!po->map || p != po->map) {
		free(p);
		return;
	}
	munmap(p, n);
	(void)!ftruncate(2, 0);
	po->map = NULL;
}

static void write_status_frame(int status, uint32_t type, uint32_t limit)
{
	struct frame f = { .type = type, .limit = limit };
	worker_send_header(&f, status);
}

/*
 * The worker, in the order DESIGN.md fixes: everything acquired (libmagic is
 * loaded in the zygote, the policy compiled there and made this process's
 * own while it waited as a spare), rlimits, every fd but the input, the
 * frame pipe and the payload memfd closed, no_new_privs, seccomp, and only
 * then the first untrusted byte. The payload goes into the memfd, the header
 * down the pipe; the host takes the payload once it can seal it: once this
 * process has unmapped it.
 */
static _Noreturn void worker_run(const struct ctl_request *req, const int fds[3], const struct policy *pol, int pol_err,
				 void *magic, worker_decode_fn decode)
{
	int err = pol_err, step = pol_err ? STEP_SECCOMP : STEP_NONE;

	if (step == STEP_NONE)
		step = sandbox_enter(pol, req->lim.memory_bytes, req->lim.cpu_ms, fds[0], fds[1], fds[2], &err);
	if (step != STEP_NONE) {
		/* Fail closed: say why (if fd 1 is in place), and never look at the input. */
		if (pol_err)
			dup2(fds[1], 1);
		write_status_frame(AIRLOCK_E_SANDBOX_UNAVAILABLE, AIRLOCK_TYPE_NONE, 0);
		_exit(3);
	}

	/* Confined from here on. The input is a sealed memfd of exactly input_len bytes. */
	const uint8_t *buf = NULL;
	size_t len = (size_t)req->input_len;
	if (len > 0) {
		void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, 0, 0);
		if (m == MAP_FAILED) {
			write_status_frame(AIRLOCK_E_MEMORY, AIRLOCK_TYPE_NONE, AIRLOCK_MEMORY_BYTES);
			_exit(0);
		}
		buf = m;
	}
	struct payload_out po = { 0 };
	const struct pixel_alloc pa = {
		.alloc = payload_alloc, .resize = payload_resize, .release = payload_release, .user = &po
	};
	struct frame f = { 0 };
	int rc = decode(magic, buf, len, &req->lim, &pa, &f);
	if (rc == AIRLOCK_OK && f.pixels == po.map) {
		/* Decoded in place. Flattening alpha may have left it shorter; unmapped before the header goes. */
		if ((f.size != po.len && ftruncate(2, (off_t)f.size) != 0) || munmap(po.map, po.len) != 0)
			rc = AIRLOCK_E_MEMORY;
	} else if (rc == AIRLOCK_OK && payload_put(f.pixels, f.size) != 0) {
		rc = AIRLOCK_E_MEMORY;
	}
	if (rc == AIRLOCK_E_MEMORY && !f.limit)
		f.limit = AIRLOCK_MEMORY_BYTES;
	worker_send_header(&f, rc);
	_exit(0);
}

/*
 * A spare: forked ahead of need, it holds nothing but its own socket to the
 * zygote, warms up on the built-in samples (warmup.c), makes the zygote's
 * compiled policy its own, and waits. One request arrives (with its
 * descriptors) and it becomes that request's worker; it never serves a
 * second one. Zero bytes or an error on the socket: the zygote is done with
 * it.
 */
static _Noreturn void spare_run(int sock, pid_t zygote, struct policy *pol, int pol_err, void *magic,
				worker_decode_fn decode)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != zygote)
		_exit(2);
	if ((sock != SPARE_FD && dup2(sock, SPARE_FD) != SPARE_FD) || close_range(SPARE_FD + 1, ~0u, 0) != 0)
		_exit(2);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	spare_warm_up(magic, decode);
	/* This process's copy of the zygote's policy, made its own. */
	if (pol_err == 0)
		pol_err = -policy_for(pol, getpid());
	struct ctl_request req;
	int fds[3];
	if (io_recv_fds(SPARE_FD, &req, sizeof(req), fds, 3) != 0)
		_exit(0);
	worker_run(&req, fds, pol, pol_err, magic, decode);
}

struct worker {
	pid_t pid;
	int status_fd;
	int killed;
};

struct spare {
	pid_t pid;
	int sock;
};

struct zygote {
	struct worker w[MAX_WORKERS];
	size_t n;
	struct spare spare[SPARES];
	size_t n_spare;
	struct policy policy; /* compiled once; each spare makes a copy its own */
	int policy_err;	      /* errno from compiling it: every worker then fails closed */
	void *magic;
	worker_decode_fn decode;
};

static void send_status(int fd, uint32_t kind, pid_t pid, int wstatus)
{
	struct ctl_status m = { .magic = CTL_MAGIC, .kind = kind, .pid = pid, .wstatus = wstatus };
	io_send_fds(fd, &m, sizeof(m), NULL, 0);
}

/* Forks one more spare; it is not a worker until a request is handed to it. 0 or an errno. */
static int spawn_spare(struct zygote *z)
{
	int sp[2];
	if (z->n + z->n_spare >= MAX_WORKERS)
		return EAGAIN;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
		return errno;
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		spare_run(sp[1], self, &z->policy, z->policy_err, z->magic, z->decode);
	}
	int err = errno;
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		return err;
	}
	z->spare[z->n_spare++] = (struct spare){ .pid = pid, .sock = sp[0] };
	return 0;
}

static void handle_request(struct zygote *z, int ctl)
{
	struct ctl_request req;
	int fds[4];
	int rc = io_recv_fds(ctl, &req, sizeof(req), fds, 4);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		/* The host closed its context or died: nothing to serve any more. */
		for (size_t i = 0; i < z->n; i++)
			kill(z->w[i].pid, SIGKILL);
		for (size_t i = 0; i < z->n_spare; i++)
			kill(z->spare[i].pid, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
		_exit(0);
	}
	if (rc)
		return;
	/* fds: input memfd, frame pipe write end, status socket, payload memfd. */
	const int mine[3] = { fds[0], fds[1], fds[3] };
	int err = EAGAIN;
	if (req.magic == CTL_MAGIC && req.version == CTL_VERSION && z->n < MAX_WORKERS)
		err = z->n_spare > 0 ? 0 : spawn_spare(z);
	if (err) {
		for (int i = 0; i < 3; i++)
			close(mine[i]);
		send_status(fds[2], STATUS_REFUSED, 0, err);
		close(fds[2]);
		return;
	}
	/*
	 * STARTED goes out before the spare is woken: once woken, the worker
	 * may have the CPU until it ends, and the host would wait for it.
	 */
	struct spare sp = z->spare[--z->n_spare];
	z->w[z->n++] = (struct worker){ .pid = sp.pid, .status_fd = fds[2] };
	send_status(fds[2], STATUS_STARTED, sp.pid, 0);
	/* A spare that died while it waited (killed from outside) fails the send, and ends as killed. */
	if (io_send_fds(sp.sock, &req, sizeof(req), mine, 3) != 0)
		kill(sp.pid, SIGKILL);
	close(sp.sock);
	for (int i = 0; i < 3; i++)
		close(mine[i]);
}

static void reap(struct zygote *z)
{
	int ws;
	pid_t pid;
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		for (size_t i = 0; i < z->n; i++) {
			if (z->w[i].pid != pid)
				continue;
			send_status(z->w[i].status_fd, STATUS_ENDED, pid, ws);
			close(z->w[i].status_fd);
			z->w[i] = z->w[--z->n];
			break;
		}
		/* A spare that died before it had work (someone killed it): forget it, and fork another. */
		for (size_t i = 0; i < z->n_spare; i++) {
			if (z->spare[i].pid != pid)
				continue;
			close(z->spare[i].sock);
			z->spare[i] = z->spare[--z->n_spare];
			break;
		}
	}
}

static void handle_status(struct worker *w)
{
	char c;
	ssize_t r = recv(w->status_fd, &c, 1, MSG_DONTWAIT);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	/* STATUS_KILL, a hang-up or an error: the host is done with this worker. */
	kill(w->pid, SIGKILL);
	w->killed = 1;
}

/*
 * Forks a throwaway child that confines itself exactly as a worker does and
 * then makes a system call outside the policy: the kernel must kill it with
 * SIGSYS. Anything else means this machine cannot confine a worker.
 */
static int probe(const struct zygote *z, int *step, int *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct policy pol = z->policy;
		int e = z->policy_err ? z->policy_err : -policy_for(&pol, getpid());
		int s = e ? STEP_SECCOMP : sandbox_enter(&pol, 512u << 20, 1000, -1, p[1], -1, &e);
		if (s != STEP_NONE) {
			int msg[2] = { s, e };
			(void)!write(1, msg, sizeof(msg)); /* fd 1 is p[1] from STEP_FDS on */
			(void)!write(p[1], msg, sizeof(msg));
			_exit(1);
		}
		(void)getppid(); /* not in the policy: must never return */
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	int msg[2] = { 0, 0 }, ws = 0;
	(void)!read(p[0], msg, sizeof(msg));
	close(p[0]);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS)
		return 0;
	*step = msg[0] ? msg[0] : STEP_SECCOMP;
	*err = msg[0] ? msg[1] : ENOSYS;
	return -1;
}

static int compare_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * Lazy libc state the decoders would otherwise set up under the filter:
 * glibc's qsort() asks sysinfo() for the RAM size the first time it sorts
 * 1 KiB or more (libvorbis sorts its codebooks), then caches the answer.
 * Sorting once here puts the answer in every worker's copy of memory.
 */
static void warm_libc(void)
{
	int v[512];

	/*
	 * glibc reads the time zone on the first gmtime_r()/localtime_r(), by
	 * opening /etc/localtime, which the worker's filter kills; lcms2 calls
	 * gmtime_r() when it builds its sRGB profile (the ICC transform). Set
	 * once here, from no file, and inherited by every worker.
	 */
	setenv("TZ", "UTC0", 1);
	tzset();

	for (int i = 0; i < 512; i++)
		v[i] = 511 - i;
	qsort(v, 512, sizeof(v[0]), compare_int);
}

int zygote_main(const struct zygote_family *fam)
{
	static struct zygote z;
	const int ctl = ZYGOTE_CTL_FD;
	struct ctl_hello hello = { .magic = CTL_MAGIC, .version = CTL_VERSION };

	/* Nothing from the host but the control socket; default signal handling. */
	close_range(ctl + 1, ~0u, 0);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, fam->name, 0, 0, 0);

	z.decode = fam->decode;
	z.magic = detect_open();
	z.policy_err = -policy_build(&z.policy);
	warm_libc();
	if (fam->warm)
		fam->warm();
	/* Last of all: after this the filesystem is an empty directory. */
	hello.layers = AIRLOCK_LAYERS_REQUIRED | ns_enter();

	int step = STEP_NONE, err = 0;
	if (!z.magic) {
		hello.status = AIRLOCK_E_INTERNAL;
	} else if (probe(&z, &step, &err) != 0) {
		hello.status = AIRLOCK_E_SANDBOX_UNAVAILABLE;
		hello.step = step;
		hello.err = err;
	}
	/* The hello carries a pidfd of this process, so the host never signals a recycled pid. */
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (self < 0)
		return 1;
	if (io_send_fds(ctl, &hello, sizeof(hello), &self, 1) != 0 || hello.status != AIRLOCK_OK)
		return 1;
	close(self);

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return 1;

	for (;;) {
		/*
		 * Spares are forked here, between requests, and only while no
		 * worker runs (or none is left): a fork then never competes with a
		 * worker for a CPU.
		 */
		while (z.n_spare < SPARES && (z.n == 0 || z.n_spare == 0) && spawn_spare(&z) == 0)
			;
		struct pollfd pfd[MAX_WORKERS + 2];
		size_t idx[MAX_WORKERS];
		nfds_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = ctl, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (size_t i = 0; i < z.n; i++) {
			if (z.w[i].killed)
				continue;
			idx[n - 2] = i;
			pfd[n++] = (struct pollfd){ .fd = z.w[i].status_fd, .events = POLLIN };
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (nfds_t i = 2; i < n; i++)
			if (pfd[i].revents)
				handle_status(&z.w[idx[i - 2]]);
		if (pfd[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			reap(&z);
		}
		if (pfd[0].revents)
			handle_request(&z, ctl);
	}
}
