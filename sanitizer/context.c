/* SPDX-License-Identifier: MIT */
/*
 * The host side of a request: the context and its zygote, one fresh worker
 * per input, and the frame read back under a deadline. Nothing the worker
 * sends is trusted: the header goes through frame_validate() before any
 * payload byte is read, and the payload must have exactly the length the
 * header's shape implies.
 *
 * Workers are the zygote's children, never the host's, so the host gets no
 * SIGCHLD per request; it gets one when a zygote ends. The zygote sends a
 * pidfd of itself in its hello, and every kill and reap goes through that
 * pidfd: a host that ignores SIGCHLD (so the kernel reaps the zygote for it)
 * can never make airlock signal a recycled pid.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "io.h"
#include "proto.h"
#include "video.h"

#define HELLO_TIMEOUT_MS 10000
#define KILL_GRACE_MS	 2000

#if !defined(AIRLOCK_LIBEXECDIR) || !defined(AIRLOCK_LIBEXEC_REL)
#error "AIRLOCK_LIBEXECDIR and AIRLOCK_LIBEXEC_REL must be defined by the build"
#endif

/* The 0.4.0 layout of airlock_report, the smallest a caller may pass (see docs/api.md, Versioning and ABI). */
#define REPORT_SIZE_MIN (offsetof(airlock_report, layers) + sizeof(uint32_t))

/* ---- finding and starting the zygote ---- */

/* Formats a helper's path into z->helper; 0, or -ENAMETOOLONG when it does not fit. */
__attribute__((format(printf, 2, 3))) static int helper_set(struct zygote_slot *z, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(z->helper, sizeof(z->helper), fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < sizeof(z->helper) ? 0 : -ENAMETOOLONG;
}

/* Each family's helper: its environment override, its file name, and where a build tree has it. */
static const struct {
	const char *env, *file, *build;
} helpers[FAMILY_COUNT] = {
	[FAMILY_BASE] = { "AIRLOCK_ZYGOTE", "airlock-zygote", AIRLOCK_BUILD_ZYGOTE },
	[FAMILY_MEDIA] = { "AIRLOCK_ZYGOTE_MEDIA", "airlock-zygote-media", AIRLOCK_BUILD_ZYGOTE_MEDIA },
};

/* A family's helper path into its slot (docs/api.md, "How the helper binary is found"); 0 or -errno. */
static int resolve_helper(airlock_ctx *ctx, enum family fam)
{
	struct zygote_slot *z = &ctx->fam[fam];
	const char *env = secure_getenv(helpers[fam].env);
	if (env && *env)
		return helper_set(z, "%s", env);

	static const char anchor = 0;
	Dl_info info;
	const char *lib = dladdr(&anchor, &info) && info.dli_fname ? info.dli_fname : NULL;
#ifdef AIRLOCK_BUILD_ROOT
	/* A library loaded from its build tree uses the zygote built beside it. */
	if (lib && strncmp(lib, AIRLOCK_BUILD_ROOT "/", strlen(AIRLOCK_BUILD_ROOT) + 1) == 0)
		return helper_set(z, "%s", helpers[fam].build);
#endif
	/*
	 * An installed prefix may have been moved (a wheel, a conda package, an
	 * unpacked tarball): libexecdir is found from the library's own directory
	 * first. The path is left unnormalised on purpose: the kernel resolves
	 * ".." after symlinks (/lib -> usr/lib), which a lexical clean-up would not.
	 * A program that linked the library statically names itself here, so the
	 * fixed path stays the fallback.
	 */
	const char *slash = lib && lib[0] == '/' ? strrchr(lib, '/') : NULL;
	if (slash && slash - lib < (ptrdiff_t)sizeof(z->helper) &&
	    helper_set(z, "%.*s/%s/%s", (int)(slash - lib), lib, AIRLOCK_LIBEXEC_REL, helpers[fam].file) == 0 &&
	    faccessat(AT_FDCWD, z->helper, X_OK, AT_EACCESS) == 0)
		return 0;
	return helper_set(z, "%s/%s", AIRLOCK_LIBEXECDIR, helpers[fam].file);
}

/* Closes one descriptor: the slot is cleared first, so a fork() in between never sees a stale number. */
static void close_slot(int *fd)
{
	int f = *fd;
	*fd = -1;
	if (f >= 0)
		close(f);
}

static void kill_zygote(int pidfd)
{
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

/* Waits for the zygote to end; ECHILD means the host's SIG_IGN reaped it already. */
static void reap_zygote(int pidfd)
{
	siginfo_t si;
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
}

static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - io_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* What a failed descriptor-making call means: the host out of fds is AIRLOCK_E_IO, anything else fallback. */
static int fd_error(int fallback)
{
	return errno == EMFILE || errno == ENFILE ? AIRLOCK_E_IO : fallback;
}

/*
 * Starts the zygote and reads its hello. Called with ctx->lock held (or
 * before ctx is shared). On failure *why is the reason airlock_open_detail()
 * documents: an errno, never 0.
 */
static int spawn_zygote(airlock_ctx *ctx, enum family fam, int *why)
{
	struct zygote_slot *z = &ctx->fam[fam];
	int sv[2] = { -1, -1 }, child_ctl = -1, devnull = -1, pidfd = -1, early = -1, rc = AIRLOCK_E_HELPER;
	int reason = EIO;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		*why = errno;
		return fd_error(rc);
	}
	/* Above the fds the child overwrites, so each dup2 in the child is a real copy. */
	child_ctl = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	if (child_ctl < 0) {
		reason = errno;
		rc = fd_error(rc);
	}
	int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dn >= 0) {
		devnull = fcntl(dn, F_DUPFD_CLOEXEC, 10);
		close(dn);
	}
	if (child_ctl >= 0 && devnull < 0) {
		reason = errno;
		rc = fd_error(rc);
	}
	close(sv[1]);
	sv[1] = -1;
	if (child_ctl < 0 || devnull < 0)
		goto out;

	/* Default signal handling and mask, /dev/null for stdio, the control socket as fd 3. */
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	posix_spawn_file_actions_adddup2(&fa, child_ctl, ZYGOTE_CTL_FD);
	/* An empty environment: host secrets never reach the zygote or its workers. */
	char *argv[] = { (char *)helpers[fam].file, NULL };
	char *envp[] = { NULL };
	int e = posix_spawn(&pid, z->helper, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	/* Only the child may hold the other end now, so its exit is EOF here. */
	close(child_ctl);
	child_ctl = -1;
	if (e != 0) {
		reason = e;
		goto out; /* glibc has reaped the child that failed to exec */
	}
	/*
	 * Until the hello brings the zygote's own pidfd, hold one taken now: the
	 * child has just exec'd and is ours, so this pid is still its own.
	 */
	early = (int)syscall(SYS_pidfd_open, pid, 0);

	struct ctl_hello hello;
	int r = wait_readable(sv[0], io_now_ms() + HELLO_TIMEOUT_MS);
	if (r == 0)
		r = io_recv_fds(sv[0], &hello, sizeof(hello), &pidfd, 1);
	if (r != 0 || hello.magic != CTL_MAGIC || hello.version != CTL_VERSION) {
		if (r == -EMFILE)
			rc = AIRLOCK_E_IO; /* no descriptor for the zygote's pidfd */
		/* EPIPE: it ended without a hello; EPROTO: a hello from another airlock build. */
		reason = r != 0 ? -r : EPROTO;
		if (early >= 0) {
			kill_zygote(early);
			reap_zygote(early);
		} else {
			/* No pidfd: the pid is our unreaped child, so it cannot have been reused. */
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		if (pidfd >= 0)
			close(pidfd);
		goto out;
	}
	if (hello.status != AIRLOCK_OK) {
		rc = hello.status == AIRLOCK_E_SANDBOX_UNAVAILABLE ? AIRLOCK_E_SANDBOX_UNAVAILABLE : AIRLOCK_E_HELPER;
		/* The errno of the step that failed, as the helper saw it: only a number crosses. */
		reason = hello.err > 0 && hello.err < 4096 ? hello.err : EIO;
		reap_zygote(pidfd);
		close(pidfd);
		goto out;
	}
	z->zygote = pidfd;
	z->ctl = sv[0];
	z->layers = hello.layers;
	z->generation++;
	sv[0] = -1;
	rc = AIRLOCK_OK;
	reason = 0;
out:
	*why = reason;
	if (early >= 0)
		close(early);
	if (sv[0] >= 0)
		close(sv[0]);
	if (child_ctl >= 0)
		close(child_ctl);
	if (devnull >= 0)
		close(devnull);
	return rc;
}

static int is_closing(airlock_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	int closing = ctx->closing;
	pthread_mutex_unlock(&ctx->lock);
	return closing;
}

/* Ends the family's zygote of generation gen, if it is still the current one. Takes the lock. */
static void zygote_lost(airlock_ctx *ctx, enum family fam, unsigned gen)
{
	struct zygote_slot *z = &ctx->fam[fam];
	pthread_mutex_lock(&ctx->lock);
	if (z->generation == gen && z->ctl >= 0) {
		close(z->ctl);
		z->ctl = -1;
		kill_zygote(z->zygote);
		reap_zygote(z->zygote);
		close(z->zygote);
		z->zygote = -1;
	}
	pthread_mutex_unlock(&ctx->lock);
}

/*
 * ---- fork() ----
 *
 * Every open context is in one list, so that a pthread_atfork() handler can
 * find them: before fork() it takes the list's lock and every context's
 * lock (no context is mid-change, no zygote half started, no request's
 * descriptor made but not yet named); in the child it closes what the
 * child inherited of the parent's zygotes and requests.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static airlock_ctx *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

static void atfork_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void registry_add(airlock_ctx *ctx)
{
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&registry_lock);
	ctx->reg_next = registry;
	if (registry)
		registry->reg_prev = ctx;
	registry = ctx;
	pthread_mutex_unlock(&registry_lock);
}

/* Called without ctx->lock held: the lock order is the registry's, then a context's. */
static void registry_remove(airlock_ctx *ctx)
{
	pthread_mutex_lock(&registry_lock);
	if (ctx->reg_prev)
		ctx->reg_prev->reg_next = ctx->reg_next;
	else
		registry = ctx->reg_next;
	if (ctx->reg_next)
		ctx->reg_next->reg_prev = ctx->reg_prev;
	pthread_mutex_unlock(&registry_lock);
}

AIRLOCK_API int airlock_open_detail(airlock_ctx **out, char *helper, size_t helper_size, int *sys_errno)
{
	if (!out || (!helper && helper_size > 0))
		return AIRLOCK_E_INVALID_ARG;
	if (helper_size > 0)
		helper[0] = '\0';
	if (sys_errno)
		*sys_errno = 0;
	airlock_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return AIRLOCK_E_NOMEM;
	if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
		free(ctx);
		return AIRLOCK_E_INTERNAL;
	}
	if (pthread_cond_init(&ctx->idle, NULL) != 0) {
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		return AIRLOCK_E_INTERNAL;
	}
	limits_default(&ctx->lim);
	for (int f = 0; f < FAMILY_COUNT; f++)
		ctx->fam[f].zygote = ctx->fam[f].ctl = -1;
	/* The media helper's path is checked when its zygote starts: a request that needs it then fails alone. */
	(void)resolve_helper(ctx, FAMILY_MEDIA);
	int why = -resolve_helper(ctx, FAMILY_BASE);
	int rc = AIRLOCK_E_HELPER;
	if (!why) {
		/* Listed before its zygote starts: a fork() meanwhile waits, and its child closes what it inherits. */
		registry_add(ctx);
		pthread_mutex_lock(&ctx->lock);
		rc = spawn_zygote(ctx, FAMILY_BASE, &why);
		pthread_mutex_unlock(&ctx->lock);
		if (rc != AIRLOCK_OK)
			registry_remove(ctx);
	}
	if (helper_size > 0)
		snprintf(helper, helper_size, "%s", ctx->fam[FAMILY_BASE].helper);
	if (sys_errno)
		*sys_errno = why;
	if (rc != AIRLOCK_OK) {
		pthread_cond_destroy(&ctx->idle);
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		return rc;
	}
	*out = ctx;
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_open(airlock_ctx **out)
{
	return airlock_open_detail(out, NULL, 0, NULL);
}

AIRLOCK_API void airlock_close(airlock_ctx *ctx)
{
	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	ctx->closing = 1;
	for (int f = 0; f < FAMILY_COUNT; f++) {
		struct zygote_slot *z = &ctx->fam[f];
		if (z->ctl < 0)
			continue;
		/*
		 * EOF on its control socket makes the zygote kill its workers and
		 * exit. No child of ours holds a copy: fork_child() closed it.
		 */
		close_slot(&z->ctl);
		/* It normally exits at once; a pidfd turns readable when it has. One deadline, signals or not. */
		wait_readable(z->zygote, io_now_ms() + 1000);
		kill_zygote(z->zygote);
		reap_zygote(z->zygote);
		close_slot(&z->zygote);
	}
	/*
	 * Requests in flight see their status sockets close with the zygote and
	 * end with AIRLOCK_E_CLOSED; none can start a new zygote now. Each is
	 * finished by the thread that holds it: a synchronous call finishes its
	 * own, an asynchronous holder must finish its requests (in another
	 * thread than this one).
	 */
	while (ctx->inflight > 0)
		pthread_cond_wait(&ctx->idle, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);
	registry_remove(ctx);
	pthread_cond_destroy(&ctx->idle);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

/* ---- one request ---- */

struct xfer {
	int out_r, st, pay; /* frame pipe read end, status socket, payload memfd */
	const struct limits *lim;
	uint8_t hdr[FRAME_HEADER_SIZE];
	size_t hdr_got;
	struct frame_header h;
	int frame_rc; /* frame_validate() once the header is in */
	uint8_t *payload;
	uint64_t plen;
	int bad; /* header invalid, bytes after it, or the payload memfd not as the header says */
	int pipe_eof;
	int started, ended, lost, killed, timed_out, refused, nomem;
	int early; /* the payload was sealed and taken before the worker was reaped */
	int wstatus;
	int64_t grace;	 /* once killed: when to give up on hearing from the zygote */
	uint32_t layers; /* of the zygote the request went to */
};

/* Reads what the pipe has now: the header, then end of file. Sets x->bad on anything else. */
static void pump(struct xfer *x)
{
	while (!x->pipe_eof && !x->bad) {
		uint8_t more[1];
		uint8_t *dst = x->hdr_got < FRAME_HEADER_SIZE ? x->hdr + x->hdr_got : more;
		size_t want = x->hdr_got < FRAME_HEADER_SIZE ? FRAME_HEADER_SIZE - x->hdr_got : sizeof(more);
		ssize_t r = read(x->out_r, dst, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				x->bad = 1;
			return;
		}
		if (r == 0) {
			x->pipe_eof = 1;
			return;
		}
		if (dst == more) {
			x->bad = 1; /* bytes beyond the header */
			return;
		}
		x->hdr_got += (size_t)r;
		if (x->hdr_got < FRAME_HEADER_SIZE)
			continue;
		frame_header_unpack(x->hdr, &x->h);
		x->frame_rc = frame_validate(&x->h, x->lim, &x->plen);
		if (x->frame_rc == AIRLOCK_E_PROTOCOL)
			x->bad = 1;
	}
}

/*
 * Takes the payload once nothing can change it any more. Sealing the memfd
 * against writes, growth and shrinking succeeds only when no writable
 * mapping of it is left anywhere, and from then on the kernel refuses every
 * write: whatever the worker does next, the bytes the host validates and
 * hands out are fixed. Its size must be exactly what the header implies,
 * before the seal (a live worker may still be sizing it) and after it.
 * Returns 1 when the payload is mapped (read-only), 0 when the worker still
 * has it mapped (try again once it has been reaped), and sets x->bad or
 * x->nomem on failure.
 */
static int take_payload(struct xfer *x, int reaped)
{
	struct stat st;
	if (fstat(x->pay, &st) != 0 || st.st_size < 0) {
		x->bad = 1;
		return 0;
	}
	if ((uint64_t)st.st_size != x->plen) {
		x->bad = reaped; /* a live worker may still be sizing it */
		return 0;
	}
	if (fcntl(x->pay, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
		x->bad = reaped || errno != EBUSY;
		return 0;
	}
	/* Sealed, the size can no longer change: a live worker may have changed it since the check above. */
	if (fstat(x->pay, &st) != 0 || (uint64_t)st.st_size != x->plen) {
		x->bad = 1;
		return 0;
	}
	void *p = mmap(NULL, (size_t)x->plen, PROT_READ, MAP_SHARED | MAP_POPULATE, x->pay, 0);
	if (p == MAP_FAILED) {
		x->nomem = 1;
		return 0;
	}
	x->payload = p;
	return 1;
}

/* A success frame whose header is in and valid, and nothing after it in the pipe so far. */
static int payload_due(const struct xfer *x)
{
	return !x->bad && !x->payload && x->hdr_got == FRAME_HEADER_SIZE && x->frame_rc == AIRLOCK_OK && x->plen > 0;
}

static void kill_worker(struct xfer *x)
{
	if (x->killed)
		return;
	char k = STATUS_KILL;
	send(x->st, &k, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	x->killed = 1;
	x->grace = io_now_ms() + KILL_GRACE_MS;
}

/* Reads the status socket: STARTED, ENDED, or the zygote gone. */
static void read_status(struct xfer *x)
{
	struct ctl_status m;
	int r = io_recv_fds(x->st, &m, sizeof(m), NULL, 0);
	/*
	 * A STATUS_KILL still unread when the zygote closed its end (the worker
	 * had ended on its own) resets the socket. The reset is reported once,
	 * ahead of the ENDED message that is still queued: read on.
	 */
	if (r == -ECONNRESET)
		r = io_recv_fds(x->st, &m, sizeof(m), NULL, 0);
	if (r == -EAGAIN || r == -EINTR)
		return;
	if (r != 0 || m.magic != CTL_MAGIC) {
		x->lost = 1;
		return;
	}
	if (m.kind == STATUS_STARTED)
		x->started = 1;
	else if (m.kind == STATUS_REFUSED)
		x->refused = 1;
	else if (m.kind == STATUS_ENDED) {
		x->ended = 1;
		x->wstatus = m.wstatus;
	}
}

/*
 * One round of driving a started request: waits at most wait_ms (-1: up to
 * the deadline, or the kill grace once killed) for the worker's output or
 * status, and handles what came. Returns 1 once the worker's fate is known
 * (it ended, the zygote is lost, or the payload was taken early), 0 while it
 * runs, -EINTR when a signal cut the wait short.
 */
static int run_step(struct xfer *x, int64_t deadline, int wait_ms)
{
	if (x->ended || x->lost)
		goto fate;
	int64_t now = io_now_ms();
	if (x->killed && now >= x->grace) {
		x->lost = 1; /* the zygote did not report a killed worker in time */
		goto fate;
	}
	if (!x->killed && now >= deadline) {
		x->timed_out = 1;
		kill_worker(x);
	}
	int64_t until = x->killed ? x->grace : deadline;
	int ms = until - now > INT32_MAX ? INT32_MAX : (int)(until - now);
	if (wait_ms >= 0 && wait_ms < ms)
		ms = wait_ms;
	struct pollfd p[2] = { { .fd = x->st, .events = POLLIN }, { .fd = x->out_r, .events = POLLIN } };
	nfds_t n = (x->pipe_eof || x->bad) ? 1 : 2;
	int r = poll(p, n, ms);
	if (r < 0 && errno == EINTR)
		return -EINTR;
	if (r < 0) {
		x->lost = 1;
		goto fate;
	}
	if (r == 0)
		return 0;
	if (n == 2 && p[1].revents)
		pump(x);
	/*
	 * A complete success frame is done as soon as its payload is sealed:
	 * the worker's exit, and the zygote reaping it, need not be waited
	 * for. Closing the status socket then tells the zygote to make sure
	 * of the worker.
	 */
	if (payload_due(x) && !x->killed && !x->pipe_eof && take_payload(x, 0)) {
		/*
		 * Only while the worker still holds the pipe open: once it is at
		 * end of file the worker is ending, and how it ended decides.
		 */
		pump(x);
		if (!x->pipe_eof && !x->bad) {
			x->early = 1;
			return 1;
		}
	}
	if (x->bad || x->nomem)
		kill_worker(x);
	if (p[0].revents)
		read_status(x);
	if (!x->ended && !x->lost)
		return 0;
fate:
	/* The worker is gone: everything it wrote is in the pipe and the memfd now. */
	if (x->ended)
		pump(x);
	if (x->ended && payload_due(x) && x->pipe_eof && WIFEXITED(x->wstatus) && WEXITSTATUS(x->wstatus) == 0)
		take_payload(x, 1);
	return 1;
}

static int outcome(const struct xfer *x)
{
	if (x->early)
		return frame_validate_payload(&x->h, x->lim, x->payload, (size_t)x->plen);
	if (x->timed_out)
		return AIRLOCK_E_TIMEOUT;
	if (x->lost)
		return AIRLOCK_E_HELPER;
	if (x->nomem)
		return AIRLOCK_E_NOMEM;
	if (WIFSIGNALED(x->wstatus)) {
		switch (WTERMSIG(x->wstatus)) {
		case SIGSYS: return AIRLOCK_E_SECCOMP;
		case SIGXCPU: return AIRLOCK_E_CPU_LIMIT;
		case SIGKILL: return x->killed ? AIRLOCK_E_PROTOCOL : AIRLOCK_E_WORKER_CRASH;
		default: return AIRLOCK_E_WORKER_CRASH;
		}
	}
	if (!WIFEXITED(x->wstatus))
		return AIRLOCK_E_WORKER_CRASH;
	/* Exit 3 is the worker failing to confine itself, before it read any input. */
	if (WEXITSTATUS(x->wstatus) == 3)
		return AIRLOCK_E_SANDBOX_UNAVAILABLE;
	if (WEXITSTATUS(x->wstatus) != 0)
		return AIRLOCK_E_WORKER_CRASH;
	if (x->bad || x->hdr_got < FRAME_HEADER_SIZE)
		return AIRLOCK_E_PROTOCOL;
	if (x->frame_rc == AIRLOCK_E_SANDBOX_UNAVAILABLE)
		return AIRLOCK_E_PROTOCOL; /* claimed without exit 3: not from the setup path */
	if (x->frame_rc != AIRLOCK_OK)
		return x->frame_rc;
	if (!x->pipe_eof || (x->plen > 0 && !x->payload))
		return AIRLOCK_E_PROTOCOL;
	return frame_validate_payload(&x->h, x->lim, x->payload, (size_t)x->plen);
}

/*
 * A request from airlock_submit() to airlock_request_finish(). It belongs
 * to the thread that holds it; ctx->lock guards only its links in the
 * context's list, and the moments its descriptors are made (so that a
 * fork() never sees one that the request does not name yet).
 */
enum { PHASE_STARTING = 1, PHASE_RUNNING = 2 };

struct airlock_request {
	airlock_ctx *ctx;
	struct ctl_request creq; /* what the zygote gets: the request's own limits */
	struct xfer x;
	int memfd; /* the sealed input, kept until done (a lost zygote's replacement gets it too) */
	int phase, attempt, done, rc;
	int detached;	 /* not counted in ctx: refused because ctx was closing, or inherited over fork() */
	enum family fam; /* the zygote family the request goes to */
	unsigned gen;	 /* that family's zygote generation the request was sent to */
	struct timespec ts0;
	int64_t deadline; /* CLOCK_MONOTONIC ms */
	airlock_type expect;
	size_t len;
	airlock_report rep;
	airlock_result *result;
	airlock_event_fn event_fn;
	void *event_user;
	struct airlock_request *prev, *next; /* ctx->requests, while not detached */
	/* airlock_request_fd(): the epoll set, its timer, and which descriptors it watches now. */
	int epfd, tfd, ep_st, ep_out;
	int64_t timer_at; /* CLOCK_MONOTONIC ms the timer is armed at; 0: expired for good; -1: unarmed */
};

static int64_t us_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/* Makes the epoll set watch want (or nothing, with -1) in the slot *have; never for a closed descriptor. */
static void set_watch(int epfd, int *have, int want)
{
	if (*have == want)
		return;
	if (*have >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, *have, NULL);
	*have = -1;
	struct epoll_event ev = { .events = EPOLLIN };
	if (want >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, want, &ev) == 0)
		*have = want;
}

/*
 * Brings the epoll set in line with the request: the status socket while it
 * runs, the frame pipe while it is read, and the timer at the deadline, at
 * the kill grace once killed, and expired for good once done.
 */
static void watch_sync(airlock_request *req)
{
	if (req->epfd < 0)
		return;
	const struct xfer *x = &req->x;
	set_watch(req->epfd, &req->ep_st, req->done ? -1 : x->st);
	set_watch(req->epfd, &req->ep_out,
		  !req->done && req->phase == PHASE_RUNNING && !x->pipe_eof && !x->bad ? x->out_r : -1);
	int64_t at = req->done ? 0 : x->killed ? x->grace : req->deadline;
	if (at == req->timer_at)
		return;
	/* Absolute CLOCK_MONOTONIC, as io_now_ms(): 1 ns is long past, so a done request's timer stays expired. */
	struct itimerspec its = { .it_value = { .tv_sec = at / 1000, .tv_nsec = (long)(at % 1000) * 1000000 } };
	if (at == 0)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(req->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		req->timer_at = at;
}

/* The worker's three descriptors, out of the epoll set first. */
static void xfer_close(airlock_request *req)
{
	if (req->epfd >= 0) {
		set_watch(req->epfd, &req->ep_st, -1);
		set_watch(req->epfd, &req->ep_out, -1);
	}
	close_slot(&req->x.out_r);
	close_slot(&req->x.st);
	close_slot(&req->x.pay);
}

/*
 * The request is done with rc: what is known goes into the report, and every
 * descriptor but the epoll set's goes. Closing the status socket makes the
 * zygote kill a worker that is still running.
 */
static void request_done(airlock_request *req, int rc)
{
	airlock_report *rep = &req->rep;
	/* A zygote lost while airlock_close() ends it was not lost to a fault. */
	if (rc == AIRLOCK_E_HELPER && !req->detached && is_closing(req->ctx))
		rc = AIRLOCK_E_CLOSED;
	/* A video request in the media zygote ran under the video caps (to_media()). */
	const int video = req->fam == FAMILY_MEDIA && req->creq.lim.track == AIRLOCK_TRACK_VIDEO;
	if (rc == AIRLOCK_E_TIMEOUT)
		rep->limit = video ? AIRLOCK_VIDEO_TIMEOUT_MS : AIRLOCK_TIMEOUT_MS;
	if (rc == AIRLOCK_E_CPU_LIMIT)
		rep->limit = video ? AIRLOCK_VIDEO_CPU_MS : AIRLOCK_CPU_MS;
	if (rc == AIRLOCK_E_MEMORY && !rep->limit)
		rep->limit = AIRLOCK_MEMORY_BYTES;
	rep->layers = req->x.layers;
	rep->elapsed_us = (uint64_t)us_since(&req->ts0);
	req->rc = rc;
	req->done = 1;
	xfer_close(req);
	if (req->x.payload) {
		munmap(req->x.payload, (size_t)req->x.plen);
		req->x.payload = NULL;
	}
	close_slot(&req->memfd);
	watch_sync(req);
}

static int send_request(airlock_request *req);

/*
 * The request goes to the media zygote. A video request takes the video
 * CPU and wall-clock caps there (a base worker only detects the type).
 */
static void to_media(airlock_request *req)
{
	struct limits *lim = &req->creq.lim;

	req->fam = FAMILY_MEDIA;
	if (lim->track != AIRLOCK_TRACK_VIDEO)
		return;
	lim->cpu_ms = lim->video_cpu_ms;
	req->deadline = (int64_t)req->ts0.tv_sec * 1000 + req->ts0.tv_nsec / 1000000 + lim->video_timeout_ms;
}

/*
 * A base worker's answer to an MP4 or Matroska input, which only the media
 * zygote decodes: unsupported, with that type. The request is sent once
 * more, the same sealed input to the media zygote, whose worker detects and
 * checks it afresh. 1 when it was (the request goes on), else 0.
 */
static int forward_to_media(airlock_request *req, int rc)
{
	struct xfer *x = &req->x;
	if (rc != AIRLOCK_E_UNSUPPORTED || req->fam != FAMILY_BASE || x->hdr_got != FRAME_HEADER_SIZE ||
	    x->h.type >= AIRLOCK_TYPE_COUNT_ || !(AIRLOCK_TYPE_BIT(x->h.type) & AIRLOCK_TYPES_MEDIA))
		return 0;
	xfer_close(req);
	if (x->payload)
		munmap(x->payload, (size_t)x->plen);
	*x = (struct xfer){ .out_r = -1, .st = -1, .pay = -1, .lim = &req->creq.lim };
	to_media(req);
	req->attempt = 0;
	req->phase = PHASE_STARTING;
	rc = send_request(req);
	if (rc != AIRLOCK_OK)
		request_done(req, rc);
	else
		watch_sync(req);
	return 1;
}

/* The worker's fate is known: the outcome, and on success the result (as sanitize_one() built it). */
static void conclude(airlock_request *req)
{
	struct xfer *x = &req->x;
	int rc = outcome(x);
	if (forward_to_media(req, rc))
		return;
	/* Only the media zygote decodes MP4 and Matroska: a base worker's success with one of them is a lie. */
	if (rc == AIRLOCK_OK && req->fam == FAMILY_BASE && (AIRLOCK_TYPE_BIT(x->h.type) & AIRLOCK_TYPES_MEDIA))
		rc = AIRLOCK_E_PROTOCOL;
	if (x->hdr_got == FRAME_HEADER_SIZE && x->frame_rc != AIRLOCK_E_PROTOCOL) {
		req->rep.type = (airlock_type)x->h.type;
		req->rep.limit = rc == x->frame_rc ? x->h.limit : 0;
		req->rep.mime = rc == x->frame_rc ? mime_name(x->h.mime) : NULL;
	}
	if (rc == AIRLOCK_OK) {
		airlock_result *r = calloc(1, sizeof(*r));
		if (r) {
			result_from_header(r, &x->h, x->layers, x->payload, (size_t)x->plen);
			r->mapped = x->payload != NULL;
			x->payload = NULL;
			req->result = r;
			if (x->h.kind == FRAME_KIND_VIDEO && (rc = result_video_unpack(r)) != AIRLOCK_OK) {
				airlock_result_free(r);
				req->result = NULL;
			}
		} else {
			rc = AIRLOCK_E_NOMEM;
		}
	}
	request_done(req, rc);
}

/*
 * Hands the request to the zygote once, starting one if there is none. The
 * descriptors are made under ctx->lock so that fork() (which takes it) sees
 * each of them named by the request, and the worker's ends closed here.
 */
static int send_once(airlock_request *req)
{
	airlock_ctx *ctx = req->ctx;
	struct xfer *x = &req->x;
	int pp[2] = { -1, -1 }, ss[2] = { -1, -1 }, pay = -1, rc = AIRLOCK_OK;

	x->started = x->refused = x->lost = 0;
	pthread_mutex_lock(&ctx->lock);
	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = AIRLOCK_E_IO;
	} else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ss) != 0) {
		rc = AIRLOCK_E_IO;
	} else {
		/* The worker's end blocks: it writes 64 bytes, which a pipe always takes at once. */
		fcntl(pp[1], F_SETFL, 0);
		pay = memfd_create("airlock-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (pay < 0)
			rc = fd_error(AIRLOCK_E_IO);
	}
	if (rc == AIRLOCK_OK) {
		int why; /* airlock_open_detail() reports it; a replacement's failure is the request's code alone */
		struct zygote_slot *z = &ctx->fam[req->fam];
		rc = ctx->closing ? AIRLOCK_E_CLOSED : z->ctl >= 0 ? AIRLOCK_OK : spawn_zygote(ctx, req->fam, &why);
		req->gen = z->generation;
		x->layers = rc == AIRLOCK_OK ? z->layers : 0;
		/* Strict: a zygote that could not enter every namespace serves no request. */
		if (rc == AIRLOCK_OK && req->creq.lim.strict_sandbox &&
		    (x->layers & AIRLOCK_LAYERS_NAMESPACES) != AIRLOCK_LAYERS_NAMESPACES)
			rc = AIRLOCK_E_SANDBOX_UNAVAILABLE;
		if (rc == AIRLOCK_OK) {
			int fds[4] = { req->memfd, pp[1], ss[1], pay };
			if (io_send_fds(z->ctl, &req->creq, sizeof(req->creq), fds, 4) != 0)
				rc = AIRLOCK_E_HELPER;
		}
	}
	close_slot(&pp[1]);
	close_slot(&ss[1]);
	x->out_r = pp[0];
	x->st = ss[0];
	x->pay = pay;
	pthread_mutex_unlock(&ctx->lock);
	if (rc != AIRLOCK_OK)
		xfer_close(req);
	return rc;
}

/*
 * Sends the request; a zygote found lost is replaced and the request sent
 * once more. AIRLOCK_OK, or the code the request ends with.
 */
static int send_request(airlock_request *req)
{
	for (; req->attempt < 2; req->attempt++) {
		int rc = send_once(req);
		/* Only a lost zygote is worth a second try; no fds, strict or closing is the answer. */
		if (rc != AIRLOCK_E_HELPER)
			return rc;
		zygote_lost(req->ctx, req->fam, req->gen);
	}
	return AIRLOCK_E_HELPER;
}

/* Waiting for STARTED (at most wait_ms, -1: up to the deadline). 0, or -EINTR. */
static int start_step(airlock_request *req, int wait_ms)
{
	struct xfer *x = &req->x;
	int64_t now = io_now_ms();
	if (now >= req->deadline) {
		request_done(req, AIRLOCK_E_TIMEOUT);
		return 0;
	}
	int ms = req->deadline - now > INT32_MAX ? INT32_MAX : (int)(req->deadline - now);
	if (wait_ms >= 0 && wait_ms < ms)
		ms = wait_ms;
	struct pollfd p = { .fd = x->st, .events = POLLIN };
	int r = poll(&p, 1, ms);
	if (r < 0 && errno == EINTR)
		return -EINTR;
	if (r == 0)
		return 0;
	if (r < 0)
		x->lost = 1;
	else
		read_status(x);
	if (x->started) {
		req->phase = PHASE_RUNNING;
		watch_sync(req);
	} else if (x->refused) {
		request_done(req, AIRLOCK_E_BUSY); /* the zygote is fine: no reason to replace it */
	} else if (x->lost) {
		/* Lost before the worker started: replace the zygote and send once more. */
		xfer_close(req);
		zygote_lost(req->ctx, req->fam, req->gen);
		req->attempt++;
		int rc = send_request(req);
		if (rc != AIRLOCK_OK)
			request_done(req, rc);
		else
			watch_sync(req);
	}
	return 0;
}

/* One round, waiting at most wait_ms (-1: as long as the request allows). 0, or -EINTR. */
static int drive(airlock_request *req, int wait_ms)
{
	if (req->done)
		return 0;
	if (req->phase == PHASE_STARTING)
		return start_step(req, wait_ms);
	int r = run_step(&req->x, req->deadline, wait_ms);
	if (r == 1)
		conclude(req);
	else
		watch_sync(req);
	return r < 0 ? r : 0;
}

static int make_input(airlock_request *req, const void *buf, size_t len)
{
	pthread_mutex_lock(&req->ctx->lock);
	req->memfd = memfd_create("airlock-input", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	pthread_mutex_unlock(&req->ctx->lock);
	if (req->memfd < 0)
		return fd_error(AIRLOCK_E_NOMEM);
	if (io_write_all(req->memfd, buf, len) != 0 ||
	    fcntl(req->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		return fd_error(AIRLOCK_E_NOMEM);
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_submit(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
			       const airlock_options *opts, airlock_request **out)
{
	if (!ctx || !out || (!buf && len > 0) || (unsigned)expect >= AIRLOCK_TYPE_COUNT_)
		return AIRLOCK_E_INVALID_ARG;
	airlock_request *req = calloc(1, sizeof(*req));
	if (!req)
		return AIRLOCK_E_NOMEM;
	clock_gettime(CLOCK_MONOTONIC, &req->ts0);
	req->ctx = ctx;
	req->creq = (struct ctl_request){ .magic = CTL_MAGIC, .version = CTL_VERSION, .input_len = len };
	req->x = (struct xfer){ .out_r = -1, .st = -1, .pay = -1, .lim = &req->creq.lim };
	req->memfd = req->epfd = req->tfd = req->ep_st = req->ep_out = -1;
	req->timer_at = -1;
	req->expect = expect;
	req->len = len;
	req->rep.size = sizeof(req->rep);
	req->phase = PHASE_STARTING;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->closing) {
		/* Not counted, as a call that never started: the context is going away under the caller. */
		pthread_mutex_unlock(&ctx->lock);
		req->detached = 1;
		request_done(req, AIRLOCK_E_CLOSED);
		*out = req;
		return AIRLOCK_OK;
	}
	ctx->inflight++;
	req->next = ctx->requests;
	if (ctx->requests)
		ctx->requests->prev = req;
	ctx->requests = req;
	req->creq.lim = ctx->lim;
	req->event_fn = ctx->event_fn;
	req->event_user = ctx->event_user;
	pthread_mutex_unlock(&ctx->lock);
	options_apply(&req->creq.lim, opts);
	req->creq.lim.expect = expect;
	/* Straight to the media zygote when nothing but a media container can be meant. */
	const uint32_t allowed = req->creq.lim.allowed_types;
	const int64_t t0 = (int64_t)req->ts0.tv_sec * 1000 + req->ts0.tv_nsec / 1000000;
	req->deadline = t0 + req->creq.lim.timeout_ms;
	if ((AIRLOCK_TYPE_BIT(expect) & AIRLOCK_TYPES_MEDIA) ||
	    ((allowed & AIRLOCK_TYPES_MEDIA) && !(allowed & ~(uint32_t)AIRLOCK_TYPES_MEDIA)))
		to_media(req);

	/* The two checks that need no parsing are made before any process is involved. */
	int rc;
	if (len == 0) {
		rc = AIRLOCK_E_EMPTY;
	} else if (len > req->creq.lim.max_input_bytes) {
		req->rep.limit = AIRLOCK_MAX_INPUT_BYTES;
		rc = AIRLOCK_E_INPUT_TOO_BIG;
	} else {
		rc = make_input(req, buf, len);
		if (rc == AIRLOCK_OK)
			rc = send_request(req);
	}
	if (rc != AIRLOCK_OK)
		request_done(req, rc);
	*out = req;
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_request_fd(airlock_request *req)
{
	if (!req) {
		errno = EINVAL;
		return -1;
	}
	if (req->epfd >= 0)
		return req->epfd;
	/* Under the lock, as send_once(): a fork() sees both named by the request or neither made. */
	pthread_mutex_t *lock = req->detached ? NULL : &req->ctx->lock;
	if (lock)
		pthread_mutex_lock(lock);
	int ep = epoll_create1(EPOLL_CLOEXEC), tfd = -1, e = 0;
	if (ep >= 0)
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	if (ep < 0 || tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0) {
		e = errno;
		close_slot(&tfd);
		close_slot(&ep);
	}
	req->epfd = ep;
	req->tfd = tfd;
	if (lock)
		pthread_mutex_unlock(lock);
	if (ep < 0) {
		errno = e;
		return -1;
	}
	watch_sync(req);
	return ep;
}

AIRLOCK_API int airlock_request_step(airlock_request *req)
{
	if (!req)
		return 1;
	if (req->done)
		return 1;
	if (req->tfd >= 0) {
		uint64_t ticks;
		(void)!read(req->tfd, &ticks, sizeof(ticks)); /* EAGAIN when it has not expired: fine */
	}
	int phase = req->phase;
	drive(req, 0);
	/* STARTED and the worker's first output often come together. */
	if (!req->done && req->phase != phase)
		drive(req, 0);
	return req->done;
}

AIRLOCK_API int airlock_request_wait(airlock_request *req, int timeout_ms)
{
	if (!req)
		return 1;
	const int64_t end = timeout_ms < 0 ? 0 : io_now_ms() + timeout_ms;
	while (!req->done) {
		int left = -1;
		if (timeout_ms >= 0) {
			int64_t l = end - io_now_ms();
			left = l < 0 ? 0 : (int)l;
		}
		if (drive(req, left) == -EINTR)
			break;
		if (timeout_ms >= 0 && io_now_ms() >= end)
			break;
	}
	return req->done;
}

AIRLOCK_API void airlock_request_cancel(airlock_request *req)
{
	if (!req || req->done)
		return;
	if (req->x.st >= 0)
		kill_worker(&req->x);
	request_done(req, AIRLOCK_E_CANCELLED);
}

/*
 * Copies rep into the caller's report, whose size member says how much of
 * it the caller's header knew: a caller built against a later header, with
 * a larger struct, keeps its own (zero-initialised) values in the fields
 * this library does not know, and one built against this header gets them all.
 */
static void report_out(airlock_report *report, const airlock_report *rep)
{
	size_t n = report->size < sizeof(*rep) ? report->size : sizeof(*rep);
	memcpy((char *)report + sizeof(rep->size), (const char *)rep + sizeof(rep->size), n - sizeof(rep->size));
}

AIRLOCK_API int airlock_request_finish(airlock_request *req, airlock_result **out, airlock_report *report)
{
	if (!req)
		return AIRLOCK_E_INVALID_ARG;
	/* An unset size is a caller built without AIRLOCK_REPORT_INIT: nothing is written to its struct. */
	const int bad_report = report && report->size < REPORT_SIZE_MIN;
	while (!airlock_request_wait(req, -1))
		;
	const int rc = req->rc;
	airlock_ctx *ctx = req->ctx;
	if (!req->detached) {
		__atomic_fetch_add(&ctx->counts[rc], 1, __ATOMIC_RELAXED); /* every code is below COUNTER_SLOTS */
		if (rc != AIRLOCK_OK && req->event_fn) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			airlock_event ev = {
				.size = sizeof(ev),
				.time_us = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000,
				.error = rc,
				.type = req->rep.type,
				.expect = req->expect,
				.input_bytes = req->len,
				.elapsed_us = req->rep.elapsed_us,
				.limit = req->rep.limit,
				.layers = req->rep.layers,
				.mime = req->rep.mime,
			};
			req->event_fn(req->event_user, &ev);
		}
	}
	if (report && !bad_report)
		report_out(report, &req->rep);
	if (rc == AIRLOCK_OK && out && !bad_report)
		*out = req->result;
	else
		airlock_result_free(req->result);
	if (req->x.payload) /* a request inherited over fork() mid-transfer */
		munmap(req->x.payload, (size_t)req->x.plen);
	if (!req->detached) {
		pthread_mutex_lock(&ctx->lock);
		if (req->prev)
			req->prev->next = req->next;
		else
			ctx->requests = req->next;
		if (req->next)
			req->next->prev = req->prev;
		if (--ctx->inflight == 0 && ctx->closing)
			pthread_cond_broadcast(&ctx->idle);
		pthread_mutex_unlock(&ctx->lock);
	}
	close_slot(&req->tfd);
	close_slot(&req->epfd);
	free(req);
	return bad_report ? AIRLOCK_E_INVALID_ARG : rc;
}

AIRLOCK_API int airlock_sanitize_opts(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
				      const airlock_options *opts, airlock_result **out, airlock_report *report)
{
	airlock_report rep = { .size = sizeof(rep) };
	airlock_request *req;

	if (report && report->size < REPORT_SIZE_MIN)
		return AIRLOCK_E_INVALID_ARG;
	if (report)
		report_out(report, &rep);
	if (!ctx || !out || (!buf && len > 0) || (unsigned)expect >= AIRLOCK_TYPE_COUNT_)
		return AIRLOCK_E_INVALID_ARG;
	int rc = airlock_submit(ctx, buf, len, expect, opts, &req);
	if (rc != AIRLOCK_OK)
		return rc;
	return airlock_request_finish(req, out, report);
}

AIRLOCK_API int airlock_sanitize_report(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
					airlock_result **out, airlock_report *report)
{
	return airlock_sanitize_opts(ctx, buf, len, expect, NULL, out, report);
}

AIRLOCK_API int airlock_set_event_fn(airlock_ctx *ctx, airlock_event_fn fn, void *user)
{
	if (!ctx)
		return AIRLOCK_E_INVALID_ARG;
	pthread_mutex_lock(&ctx->lock);
	ctx->event_fn = fn;
	ctx->event_user = fn ? user : NULL;
	pthread_mutex_unlock(&ctx->lock);
	return AIRLOCK_OK;
}

AIRLOCK_API uint64_t airlock_count(const airlock_ctx *ctx, int err)
{
	if (!ctx || err < 0 || err >= COUNTER_SLOTS)
		return 0;
	return __atomic_load_n(&ctx->counts[err], __ATOMIC_RELAXED);
}

AIRLOCK_API uint32_t airlock_layers(const airlock_ctx *cctx)
{
	if (!cctx)
		return 0;
	airlock_ctx *ctx = (airlock_ctx *)cctx; /* the lock is the only thing touched */
	pthread_mutex_lock(&ctx->lock);
	uint32_t layers = ctx->fam[FAMILY_BASE].ctl >= 0 ? ctx->fam[FAMILY_BASE].layers : 0;
	pthread_mutex_unlock(&ctx->lock);
	return layers;
}

AIRLOCK_API int airlock_sanitize(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
				 airlock_result **out)
{
	return airlock_sanitize_opts(ctx, buf, len, expect, NULL, out, NULL);
}

/* ---- fork() handlers ---- */

static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (airlock_ctx *ctx = registry; ctx; ctx = ctx->reg_next)
		pthread_mutex_lock(&ctx->lock);
}

static void fork_parent(void)
{
	for (airlock_ctx *ctx = registry; ctx; ctx = ctx->reg_next)
		pthread_mutex_unlock(&ctx->lock);
	pthread_mutex_unlock(&registry_lock);
}

/*
 * A request the child inherited: its worker belongs to the parent, so it is
 * done with AIRLOCK_E_CLOSED and no longer the context's. Its descriptors
 * are closed without epoll_ctl(): the epoll instance is the parent's too,
 * so its number is given to an eventfd that always polls readable instead.
 */
static void orphan_request(airlock_request *req)
{
	close_slot(&req->x.out_r);
	close_slot(&req->x.st);
	close_slot(&req->x.pay);
	close_slot(&req->memfd);
	close_slot(&req->tfd);
	req->ep_st = req->ep_out = -1;
	if (req->epfd >= 0) {
		int ev = eventfd(1, EFD_CLOEXEC);
		if (ev >= 0) {
			dup3(ev, req->epfd, O_CLOEXEC);
			close(ev);
		}
	}
	if (!req->done) {
		req->rc = AIRLOCK_E_CLOSED;
		req->done = 1;
	} else if (req->rc == AIRLOCK_OK) {
		req->rc = AIRLOCK_E_CLOSED; /* its result is freed at finish, as the parent's request it was */
	}
	req->detached = 1;
	req->prev = req->next = NULL;
}

static void fork_child(void)
{
	for (airlock_ctx *ctx = registry; ctx; ctx = ctx->reg_next) {
		/*
		 * Closed, never signalled: the parent's zygote lives on, and the
		 * child's first request starts one of its own.
		 */
		for (int f = 0; f < FAMILY_COUNT; f++) {
			close_slot(&ctx->fam[f].ctl);
			close_slot(&ctx->fam[f].zygote);
			ctx->fam[f].layers = 0;
			ctx->fam[f].generation++;
		}
		for (airlock_request *req = ctx->requests, *next; req; req = next) {
			next = req->next;
			orphan_request(req);
		}
		ctx->requests = NULL;
		ctx->inflight = 0;
		pthread_mutex_unlock(&ctx->lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

/* ---- results ---- */

AIRLOCK_API void airlock_result_free(airlock_result *r)
{
	if (!r)
		return;
	if (r->mapped)
		munmap(r->pixels, r->map_size);
	else
		free(r->pixels);
	free(r->video_index);
	free(r->video_pts_us);
	free(r);
}

int result_video_unpack(airlock_result *r)
{
	struct video_block b;
	uint64_t px, total;

	if (video_payload_size(r->frames, r->width, r->height, &px, &total) != AIRLOCK_OK || total != r->map_size ||
	    video_block_unpack(r->pixels + total - VIDEO_BLOCK_SIZE, &b) != AIRLOCK_OK)
		return AIRLOCK_E_INTERNAL; /* never: the frame was validated */
	r->video_index = malloc(sizeof(*r->video_index) * r->frames);
	r->video_pts_us = malloc(sizeof(*r->video_pts_us) * r->frames);
	if (!r->video_index || !r->video_pts_us)
		return AIRLOCK_E_NOMEM;
	const uint8_t *e = r->pixels + ((px + 7) & ~(uint64_t)7);
	for (uint64_t i = 0; i < r->frames; i++, e += VIDEO_ENTRY_SIZE)
		video_entry_unpack(e, &r->video_pts_us[i], &r->video_index[i]);
	r->video = (airlock_video_info){
		.size = sizeof(airlock_video_info),
		.frames_seen = b.frames_seen,
		.fps_num = b.fps_num,
		.fps_den = b.fps_den,
		.duration_us = b.duration_us,
		.src_width = b.src_width,
		.src_height = b.src_height,
		.rotation = b.rotation,
	};
	r->size = (size_t)px;
	return AIRLOCK_OK;
}

AIRLOCK_API int airlock_result_video(const airlock_result *r, airlock_video_info *info)
{
	if (!r || !info || !r->video.size || info->size < sizeof(airlock_video_info))
		return AIRLOCK_E_INVALID_ARG;
	*info = r->video;
	return AIRLOCK_OK;
}

AIRLOCK_API const uint64_t *airlock_result_video_indices(const airlock_result *r)
{
	return r && r->video.size ? r->video_index : NULL;
}

AIRLOCK_API const int64_t *airlock_result_video_pts_us(const airlock_result *r)
{
	return r && r->video.size ? r->video_pts_us : NULL;
}

AIRLOCK_API airlock_type airlock_result_type(const airlock_result *r)
{
	return r ? r->type : AIRLOCK_TYPE_NONE;
}

AIRLOCK_API uint32_t airlock_result_width(const airlock_result *r)
{
	return r ? r->width : 0;
}

AIRLOCK_API uint32_t airlock_result_height(const airlock_result *r)
{
	return r ? r->height : 0;
}

AIRLOCK_API uint32_t airlock_result_channels(const airlock_result *r)
{
	return r ? r->channels : 0;
}

AIRLOCK_API uint32_t airlock_result_changes(const airlock_result *r)
{
	return r ? r->changes : 0;
}

AIRLOCK_API uint32_t airlock_result_rate(const airlock_result *r)
{
	return r ? r->rate : 0;
}

AIRLOCK_API uint64_t airlock_result_frames(const airlock_result *r)
{
	return r ? r->frames : 0;
}

AIRLOCK_API airlock_sample_format airlock_result_sample_format(const airlock_result *r)
{
	return r ? (airlock_sample_format)r->format : AIRLOCK_SAMPLE_U8;
}

AIRLOCK_API uint32_t airlock_result_layers(const airlock_result *r)
{
	return r ? r->layers : 0;
}

AIRLOCK_API const uint8_t *airlock_result_pixels(const airlock_result *r, size_t *len)
{
	if (len)
		*len = r ? r->size : 0;
	return r ? r->pixels : NULL;
}
