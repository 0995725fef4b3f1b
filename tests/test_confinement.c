/* SPDX-License-Identifier: MIT */
/*
 * Confinement you can see. A worker is caught alive in the middle of a slow
 * decode (a long WAV, resampled) and read from /proc: seccomp in filter mode,
 * no_new_privs, no capabilities, an fd table of its sealed input and its
 * frame pipe and nothing else, the context's rlimits, and its own user,
 * network, IPC and mount namespaces exactly where airlock says it applied
 * them. Every namespace check compares what /proc shows with what airlock
 * reports, so the test holds on a kernel that refuses some of them.
 *
 * A child process then makes such a kernel for itself: a seccomp filter that
 * fails unshare() with EPERM, which its zygote inherits across exec. There
 * airlock reports the three required layers only, requests still run, and a
 * strict request fails closed. In this process, with every namespace
 * available, strict requests succeed.
 *
 * usage: test-confinement SOURCE_ROOT
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <seccomp.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "airlock.h"
#include "manifest.h"
#include "proc.h"
#include "sndbuf.h"
#include "tap.h"

/* Not the defaults (2 GiB, 10 s), so /proc proves they reach the worker. */
#define MEMORY_BYTES (1000ull << 20)
#define CPU_MS	     29300u /* soft 30 s, hard 31 s: room for a slow machine */
#define TIMEOUT_MS   60000u
/* How long the worker may take to appear and confine itself. */
#define CONFINE_WAIT_MS 5000
/* The slow input: this much 48 kHz stereo, resampled to 44.1 kHz in the worker. */
#define SLOW_SECONDS 120u
#define SLOW_RATE    48000u
#define SLOW_OUT     44100u

static const struct {
	uint32_t bit;
	const char *ns;
} namespaces[] = {
	{ AIRLOCK_LAYER_USER_NS, "user" },
	{ AIRLOCK_LAYER_NET_NS, "net" },
	{ AIRLOCK_LAYER_IPC_NS, "ipc" },
	{ AIRLOCK_LAYER_MOUNT_NS, "mnt" },
};
#define N_NS (sizeof(namespaces) / sizeof(namespaces[0]))

/* A result pointer no airlock call ever returns: a failed request must leave it as it is. */
static char untouched_anchor;
#define UNTOUCHED ((airlock_result *)(void *)&untouched_anchor)

/* ---- reading /proc ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads a text file into buf, NUL-terminated and cut to cap - 1 bytes; -1 when it cannot be read. */
static int read_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n = 0, got;

	buf[0] = '\0';
	if (!f)
		return -1;
	while (n + 1 < cap && (got = fread(buf + n, 1, cap - 1 - n, f)) > 0)
		n += got;
	int bad = ferror(f);
	fclose(f);
	buf[n] = '\0';
	return bad ? -1 : 0;
}

static int read_pid_text(pid_t pid, const char *what, char *buf, size_t cap)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	return read_text(path, buf, cap);
}

/* The text after "key:" and its blanks on the line of a status file that starts with key, or NULL. */
static const char *status_field(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; *p;) {
		if (strncmp(p, key, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return NULL;
}

/* A numeric status field in base; -1 when it is missing. */
static long long status_num(const char *text, const char *key, int base)
{
	const char *v = status_field(text, key);
	char *end;
	if (!v)
		return -1;
	errno = 0;
	unsigned long long n = strtoull(v, &end, base);
	if (end == v || errno != 0 || n > LLONG_MAX)
		return -1;
	return (long long)n;
}

/* One row of a /proc/<pid>/limits text: soft and hard, "unlimited" as RLIM_INFINITY. -1 when missing. */
static int limit_row(const char *text, const char *name, unsigned long long *soft, unsigned long long *hard)
{
	size_t n = strlen(name);
	for (const char *p = text; *p;) {
		char s[32], h[32];
		if (strncmp(p, name, n) == 0 && p[n] == ' ' && sscanf(p + n, "%31s %31s", s, h) == 2) {
			*soft = strcmp(s, "unlimited") == 0 ? (unsigned long long)RLIM_INFINITY : strtoull(s, NULL, 10);
			*hard = strcmp(h, "unlimited") == 0 ? (unsigned long long)RLIM_INFINITY : strtoull(h, NULL, 10);
			return 0;
		}
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return -1;
}

static pid_t the_zygote(void)
{
	pid_t p[4];
	return proc_children(p, 4) == 1 ? p[0] : -1;
}

/* Seccomp_filters of pid: how many filters it runs under; -1 when unknown. */
static long long filters_of(pid_t pid)
{
	char st[8192];
	if (read_pid_text(pid, "status", st, sizeof(st)) != 0)
		return -1;
	return status_num(st, "Seccomp_filters", 10);
}

static int read_link(const char *path, char *buf, size_t cap)
{
	ssize_t n = readlink(path, buf, cap - 1);
	if (n < 0) {
		buf[0] = '\0';
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* Everything /proc shows of one worker, read while it runs. */
struct seen {
	pid_t pid;
	char status[8192];
	char limits[4096];
	char mountinfo[16384];
	char netdev[4096];
	char uid_map[256], gid_map[256];
	int nfds;	      /* entries in /proc/<pid>/fd, -1 when unreadable */
	int other_fd;	      /* lowest fd that is not 0, 1 or 2, or -1 */
	char fd_link[3][256]; /* what fds 0, 1 and 2 are */
	char ns[N_NS][64], self_ns[N_NS][64];
	int root_entries; /* entries of its root besides . and .., -1 when unreadable */
	char root_names[256];
	int root_same_as_ours; /* its root is this process's root (same device and inode) */
	int root_is_tmpfs, root_read_only;
	char state_after; /* its state once all of the above was read */
};

static void look(pid_t pid, struct seen *s)
{
	char path[300];

	s->pid = pid;
	read_pid_text(pid, "status", s->status, sizeof(s->status));
	read_pid_text(pid, "limits", s->limits, sizeof(s->limits));
	read_pid_text(pid, "mountinfo", s->mountinfo, sizeof(s->mountinfo));
	read_pid_text(pid, "net/dev", s->netdev, sizeof(s->netdev));
	read_pid_text(pid, "uid_map", s->uid_map, sizeof(s->uid_map));
	read_pid_text(pid, "gid_map", s->gid_map, sizeof(s->gid_map));

	s->nfds = -1;
	s->other_fd = -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (d) {
		s->nfds = 0;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			int fd = atoi(e->d_name);
			s->nfds++;
			if (fd > 2 && (s->other_fd < 0 || fd < s->other_fd))
				s->other_fd = fd;
		}
		closedir(d);
	}
	for (int fd = 0; fd < 3; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		read_link(path, s->fd_link[fd], sizeof(s->fd_link[fd]));
	}

	for (size_t i = 0; i < N_NS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, namespaces[i].ns);
		read_link(path, s->ns[i], sizeof(s->ns[i]));
		snprintf(path, sizeof(path), "/proc/self/ns/%s", namespaces[i].ns);
		read_link(path, s->self_ns[i], sizeof(s->self_ns[i]));
	}

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	s->root_entries = -1;
	s->root_names[0] = '\0';
	d = opendir(path);
	if (d) {
		s->root_entries = 0;
		for (struct dirent *e; (e = readdir(d));) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (s->root_entries++ < 8) {
				size_t used = strlen(s->root_names);
				snprintf(s->root_names + used, sizeof(s->root_names) - used, " %s", e->d_name);
			}
		}
		closedir(d);
	}
	struct stat theirs, ours;
	s->root_same_as_ours = stat(path, &theirs) == 0 && stat("/", &ours) == 0 && theirs.st_dev == ours.st_dev &&
			       theirs.st_ino == ours.st_ino;
	struct statfs sfs;
	struct statvfs svfs;
	s->root_is_tmpfs = statfs(path, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
	s->root_read_only = statvfs(path, &svfs) == 0 && (svfs.f_flag & ST_RDONLY) != 0;

	s->state_after = proc_state(pid);
}

/* Interfaces listed in a /proc/<pid>/net/dev text, as " name name ..."; returns how many. */
static int net_interfaces(const char *netdev, char *names, size_t cap)
{
	int n = 0;
	names[0] = '\0';
	const char *p = netdev;
	for (int line = 0; *p; line++) {
		const char *nl = strchr(p, '\n');
		const char *colon = strchr(p, ':');
		if (line >= 2 && colon && (!nl || colon < nl)) {
			while (*p == ' ')
				p++;
			size_t used = strlen(names);
			snprintf(names + used, cap - used, " %.*s", (int)(colon - p), p);
			n++;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

/* Lines of a text (a final line without '\n' counts too). */
static int count_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; *p; p++)
		if (*p == '\n' || p[1] == '\0')
			n++;
	return n;
}

/* An id map of exactly one id, whatever it is inside, that is outside as seen from here. */
static int maps_one_id_to(const char *map, unsigned long outside)
{
	unsigned long in, out, count;
	return count_lines(map) == 1 && sscanf(map, "%lu %lu %lu", &in, &out, &count) == 3 && out == outside &&
	       count == 1;
}

/* text with every run of blanks and newlines made one space, trimmed: fit for one TAP line. */
static const char *one_line(const char *text, char *buf, size_t cap)
{
	size_t n = 0;
	for (const char *p = text; *p && n + 1 < cap; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			if (n > 0 && buf[n - 1] != ' ')
				buf[n++] = ' ';
		} else {
			buf[n++] = *p;
		}
	}
	if (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

/* ---- a request that keeps its worker busy ---- */

struct slow_request {
	airlock_ctx *ctx;
	const uint8_t *buf;
	size_t len;
	int rc;
	airlock_report rep;
	uint32_t result_layers;
	uint64_t frames;
	uint32_t rate;
	atomic_int done;
};

static void *slow_thread(void *arg)
{
	struct slow_request *q = arg;
	airlock_result *r = NULL;
	q->rc = airlock_sanitize_report(q->ctx, q->buf, q->len, AIRLOCK_TYPE_WAV, &r, &q->rep);
	q->result_layers = airlock_result_layers(r);
	q->frames = airlock_result_frames(r);
	q->rate = airlock_result_rate(r);
	airlock_result_free(r);
	atomic_store(&q->done, 1);
	return NULL;
}

/*
 * The worker of the request in flight, once it runs under one filter more
 * than its zygote: the filter is the last step of its set-up, so from then
 * on everything /proc shows is what the decoder runs under. -1 if none.
 */
static pid_t confined_worker(pid_t zygote, long long zygote_filters, struct slow_request *q)
{
	const int64_t deadline = now_ms() + CONFINE_WAIT_MS;
	while (now_ms() < deadline && !atomic_load(&q->done)) {
		pid_t kids[8];
		int n = proc_children_of(zygote, kids, 8);
		for (int i = 0; i < n && i < 8; i++) {
			long long f = filters_of(kids[i]);
			if (f > zygote_filters)
				return kids[i];
		}
		usleep(1000);
	}
	return -1;
}

static const char *layer_list(uint32_t mask, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (uint32_t bit = 1; bit != 0 && bit <= AIRLOCK_LAYER_MOUNT_NS; bit <<= 1) {
		if (!(mask & bit))
			continue;
		size_t used = strlen(buf);
		const char *name = airlock_layer_name(bit);
		snprintf(buf + used, cap - used, "%s%s", used ? "," : "", name ? name : "?");
	}
	if (!buf[0])
		snprintf(buf, cap, "none");
	return buf;
}

/*
 * Runs the slow input on ctx, catches its worker while it decodes, and
 * checks what /proc shows against what airlock reports.
 */
static void check_live_worker(airlock_ctx *ctx, const char *who, const uint8_t *wav, size_t wav_len)
{
	static struct seen s; /* large; one worker at a time */
	const uint32_t layers = airlock_layers(ctx);
	char names[256];

	airlock_set(ctx, AIRLOCK_MEMORY_BYTES, MEMORY_BYTES);
	airlock_set(ctx, AIRLOCK_CPU_MS, CPU_MS);
	airlock_set(ctx, AIRLOCK_TIMEOUT_MS, TIMEOUT_MS);
	airlock_set(ctx, AIRLOCK_OUT_RATE, SLOW_OUT);

	const pid_t zygote = the_zygote();
	const long long zygote_filters = zygote > 0 ? filters_of(zygote) : -1;
	if (!tap_ok(zygote > 0 && zygote_filters >= 0, "%s: the zygote is this process's only child", who))
		return;

	/*
	 * A request answered before its worker was reaped leaves that worker
	 * exiting for a moment: wait until no confined child of the zygote is
	 * left, so the one found below is this request's.
	 */
	const int64_t quiet_by = now_ms() + CONFINE_WAIT_MS;
	for (int busy = 1; busy && now_ms() < quiet_by;) {
		pid_t kids[8];
		int n = proc_children_of(zygote, kids, 8);
		busy = 0;
		for (int i = 0; i < n && i < 8; i++)
			busy |= filters_of(kids[i]) > zygote_filters;
		if (busy)
			usleep(1000);
	}
	struct slow_request q = { .ctx = ctx, .buf = wav, .len = wav_len, .rc = -1, .rep = AIRLOCK_REPORT_INIT };
	atomic_init(&q.done, 0);
	pthread_t th;
	const int64_t t0 = now_ms();
	if (!tap_ok(pthread_create(&th, NULL, slow_thread, &q) == 0, "%s: request thread started", who))
		return;
	const pid_t w = confined_worker(zygote, zygote_filters, &q);
	const int64_t t_found = now_ms();
	memset(&s, 0, sizeof(s));
	if (w > 0)
		look(w, &s);
	const int done_after_look = atomic_load(&q.done);
	pthread_join(th, NULL);
	const int64_t t_end = now_ms();

	tap_diag("%s: worker %d confined after %lld ms; the request took %lld ms", who, (int)w,
		 (long long)(t_found - t0), (long long)(t_end - t0));
	if (!tap_ok(w > 0, "%s: a worker of the zygote found running under its own seccomp filter", who))
		return;
	tap_ok(s.state_after != 0 && s.state_after != 'Z' && !done_after_look,
	       "%s: the worker was still running when /proc had been read (state %c)", who,
	       s.state_after ? s.state_after : '-');
	tap_ok(q.rc == AIRLOCK_OK && q.rate == SLOW_OUT && q.frames == (uint64_t)SLOW_OUT * SLOW_SECONDS,
	       "%s: the slow request succeeds, resampled (got %s, %u Hz, %llu frames)", who, airlock_error_name(q.rc),
	       q.rate, (unsigned long long)q.frames);

	/* What airlock says. */
	tap_ok((layers & AIRLOCK_LAYERS_REQUIRED) == AIRLOCK_LAYERS_REQUIRED,
	       "%s: airlock_layers has rlimits, no_new_privs and seccomp (%s)", who,
	       layer_list(layers, names, sizeof(names)));
	tap_ok(q.rep.layers == layers, "%s: report.layers equals airlock_layers (%s)", who,
	       layer_list(q.rep.layers, names, sizeof(names)));
	tap_ok(q.result_layers == layers, "%s: airlock_result_layers equals airlock_layers (%s)", who,
	       layer_list(q.result_layers, names, sizeof(names)));

	/* Seccomp and no_new_privs. */
	tap_ok(status_num(s.status, "Seccomp", 10) == 2, "%s: Seccomp: 2 (filter mode)", who);
	long long filters = status_num(s.status, "Seccomp_filters", 10);
	tap_ok(filters >= 1 && filters == zygote_filters + 1,
	       "%s: Seccomp_filters %lld: one more than its zygote's %lld", who, filters, zygote_filters);
	tap_ok(status_num(s.status, "NoNewPrivs", 10) == 1, "%s: NoNewPrivs: 1", who);

	/* Capabilities. */
	long long inh = status_num(s.status, "CapInh", 16), prm = status_num(s.status, "CapPrm", 16),
		  eff = status_num(s.status, "CapEff", 16), bnd = status_num(s.status, "CapBnd", 16),
		  amb = status_num(s.status, "CapAmb", 16);
	tap_diag("%s: CapInh %llx CapPrm %llx CapEff %llx CapBnd %llx CapAmb %llx", who, inh, prm, eff, bnd, amb);
	/* Dropped by the zygote with or without a user namespace (a root host's included). */
	tap_ok(eff == 0 && prm == 0 && inh == 0 && amb == 0,
	       "%s: no effective, permitted, inheritable or ambient capability", who);
	tap_ok(bnd == 0, "%s: the bounding set is empty too (%llx)", who, bnd);

	/* The fd table: the sealed input on 0, the frame pipe on 1, the payload memfd on 2, nothing else. */
	tap_ok(s.nfds == 3 && s.other_fd < 0, "%s: exactly three fds open (%d; first other fd %d)", who, s.nfds,
	       s.other_fd);
	tap_ok(strncmp(s.fd_link[0], "/memfd:airlock-input", 20) == 0, "%s: fd 0 is the input memfd (%s)", who,
	       s.fd_link[0]);
	tap_ok(strncmp(s.fd_link[1], "pipe:", 5) == 0, "%s: fd 1 is a pipe (%s)", who, s.fd_link[1]);
	tap_ok(strncmp(s.fd_link[2], "/memfd:airlock-payload", 22) == 0, "%s: fd 2 is the payload memfd (%s)", who,
	       s.fd_link[2]);

	/* rlimits, as the context set them. */
	static const struct {
		const char *row;
		unsigned long long soft, hard;
	} lims[] = {
		{ "Max address space", MEMORY_BYTES, MEMORY_BYTES },
		{ "Max cpu time", (CPU_MS + 999) / 1000, (CPU_MS + 999) / 1000 + 1 },
		{ "Max open files", 3, 3 },
		{ "Max file size", MEMORY_BYTES, MEMORY_BYTES },
		{ "Max core file size", 0, 0 },
		{ "Max locked memory", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		unsigned long long soft = 1, hard = 1;
		int found = limit_row(s.limits, lims[i].row, &soft, &hard) == 0;
		tap_ok(found && soft == lims[i].soft && hard == lims[i].hard,
		       "%s: %s soft %llu hard %llu (want %llu %llu)", who, lims[i].row, soft, hard, lims[i].soft,
		       lims[i].hard);
	}

	/* Namespaces: its own exactly where airlock says so. */
	for (size_t i = 0; i < N_NS; i++) {
		const int applied = (layers & namespaces[i].bit) != 0;
		const int own = s.ns[i][0] && s.self_ns[i][0] && strcmp(s.ns[i], s.self_ns[i]) != 0;
		tap_ok(s.ns[i][0] && s.self_ns[i][0] && own == applied &&
			       ((q.rep.layers & namespaces[i].bit) != 0) == applied,
		       "%s: %s namespace %s ours (%s vs %s), as %s is %sin the layers", who, namespaces[i].ns,
		       own ? "differs from" : "is", s.ns[i], s.self_ns[i], airlock_layer_name(namespaces[i].bit),
		       applied ? "" : "not ");
	}
	if (layers & AIRLOCK_LAYER_USER_NS) {
		char map[256];
		tap_ok(maps_one_id_to(s.uid_map, (unsigned long)geteuid()),
		       "%s: uid_map maps one id, to our uid %u (%s)", who, (unsigned)geteuid(),
		       one_line(s.uid_map, map, sizeof(map)));
		tap_ok(maps_one_id_to(s.gid_map, (unsigned long)getegid()),
		       "%s: gid_map maps one id, to our gid %u (%s)", who, (unsigned)getegid(),
		       one_line(s.gid_map, map, sizeof(map)));
	}
	if (layers & AIRLOCK_LAYER_MOUNT_NS) {
		tap_ok(s.root_entries == 0, "%s: its root is an empty directory (%d entries:%s)", who, s.root_entries,
		       s.root_names);
		tap_ok(s.root_is_tmpfs && s.root_read_only, "%s: its root is a read-only tmpfs (tmpfs %d, ro %d)", who,
		       s.root_is_tmpfs, s.root_read_only);
		tap_ok(count_lines(s.mountinfo) == 1, "%s: one mount in its namespace, the old root detached (%d)", who,
		       count_lines(s.mountinfo));
	} else {
		tap_ok(s.root_same_as_ours, "%s: no mount_ns: its root is ours", who);
	}
	if (layers & AIRLOCK_LAYER_NET_NS) {
		char ifs[256];
		int n = net_interfaces(s.netdev, ifs, sizeof(ifs));
		tap_ok(n == 1 && strcmp(ifs, " lo") == 0, "%s: net/dev lists only lo (%d:%s)", who, n, ifs);
	}
}

/* ---- strict mode ---- */

/* A small request that must end as want; on failure nothing may be written to *out. */
static void check_request(airlock_ctx *ctx, const char *who, const uint8_t *png, size_t png_len, int want,
			  uint32_t want_layers, const char *what)
{
	airlock_result *r = UNTOUCHED;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	char names[256];
	int rc = airlock_sanitize_report(ctx, png, png_len, AIRLOCK_TYPE_NONE, &r, &rep);
	int ok = rc == want && rep.layers == want_layers;
	if (want == AIRLOCK_OK)
		ok = ok && r != UNTOUCHED && r != NULL && airlock_result_layers(r) == want_layers;
	else
		ok = ok && r == UNTOUCHED;
	tap_ok(ok, "%s: %s (got %s, report.layers %s)", who, what, airlock_error_name(rc),
	       layer_list(rep.layers, names, sizeof(names)));
	if (r != UNTOUCHED)
		airlock_result_free(r);
}

/*
 * In a child: a filter that makes unshare() fail as a kernel without
 * unprivileged namespaces would, then a context whose zygote inherits it.
 */
static void degraded_child(const uint8_t *png, size_t png_len, const uint8_t *wav, size_t wav_len)
{
	const char *who = "no unshare";
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int ok = f && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		 seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0) == 0 && seccomp_load(f) == 0;
	seccomp_release(f);
	if (!tap_ok(ok, "%s: test filter that fails unshare() with EPERM installed in a child", who))
		return;

	airlock_ctx *ctx = NULL;
	int rc = airlock_open(&ctx);
	if (!tap_ok(rc == AIRLOCK_OK, "%s: airlock_open still succeeds (got %s)", who, airlock_error_name(rc)))
		return;
	char names[256];
	uint32_t layers = airlock_layers(ctx);
	tap_ok(layers == AIRLOCK_LAYERS_REQUIRED, "%s: airlock_layers is the three required layers only (%s)", who,
	       layer_list(layers, names, sizeof(names)));

	check_request(ctx, who, png, png_len, AIRLOCK_OK, AIRLOCK_LAYERS_REQUIRED,
		      "a request without strict succeeds under the required layers");
	check_live_worker(ctx, who, wav, wav_len);

	const int fds = proc_fd_count();
	tap_ok(airlock_set(ctx, AIRLOCK_STRICT_SANDBOX, 1) == AIRLOCK_OK, "%s: strict set", who);
	check_request(
		ctx, who, png, png_len, AIRLOCK_E_SANDBOX_UNAVAILABLE, AIRLOCK_LAYERS_REQUIRED,
		"a strict request fails with sandbox_unavailable, *out untouched, report.layers saying what was there");
	tap_ok(proc_fd_count() == fds && proc_children(NULL, 0) == 1, "%s: the refusal leaked no fd and no child", who);
	airlock_set(ctx, AIRLOCK_STRICT_SANDBOX, 0);
	check_request(ctx, who, png, png_len, AIRLOCK_OK, AIRLOCK_LAYERS_REQUIRED,
		      "strict off again: the same context decodes");
	airlock_close(ctx);
	tap_ok(proc_children(NULL, 0) == 0, "%s: airlock_close reaps the zygote", who);
}

/* Runs degraded_child() in a fork; its TAP lines go to our stdout and its counts come back on a pipe. */
static void run_degraded(const uint8_t *png, size_t png_len, const uint8_t *wav, size_t wav_len)
{
	int p[2];
	if (!tap_ok(pipe2(p, O_CLOEXEC) == 0, "pipe for the child's counts"))
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		degraded_child(png, png_len, wav, wav_len);
		int counts[2] = { tap_n, tap_failed };
		fflush(stdout);
		_exit(write(p[1], counts, sizeof(counts)) == (ssize_t)sizeof(counts) ? 0 : 1);
	}
	close(p[1]);
	int counts[2] = { -1, -1 }, ws = 0;
	ssize_t got = pid > 0 ? read(p[0], counts, sizeof(counts)) : -1;
	close(p[0]);
	while (pid > 0 && waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof(counts) && counts[0] >= tap_n && counts[1] >= tap_failed) {
		tap_n = counts[0];
		tap_failed = counts[1];
	}
	tap_ok(pid > 0 && got == (ssize_t)sizeof(counts) && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
	       "the child without namespaces ran to the end and reported its results");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/corpus/images/rgb8.png", argv[1]);
	size_t png_len = 0, wav_len = 0;
	uint8_t *png = slurp(path, &png_len), *wav = NULL;
	tap_ok(png != NULL, "fixture rgb8.png readable");
	int made = vbuf_make_wav(SLOW_RATE, 2, SLOW_RATE * SLOW_SECONDS, &wav, &wav_len);
	tap_ok(made, "slow input: %u s of 48 kHz stereo WAV, %zu bytes", SLOW_SECONDS, wav_len);
	if (!png || !wav)
		return tap_done();

	int named = 1;
	for (uint32_t bit = 1; bit <= AIRLOCK_LAYER_MOUNT_NS; bit <<= 1)
		named = named && airlock_layer_name(bit) != NULL;
	tap_ok(named && airlock_layer_name(AIRLOCK_LAYER_MOUNT_NS << 1) == NULL,
	       "airlock_layer_name names every layer bit and no other");

	/* First, while this process has no thread and no context to hand down. */
	run_degraded(png, png_len, wav, wav_len);

	airlock_ctx *ctx = NULL;
	int rc = airlock_open(&ctx);
	if (!tap_ok(rc == AIRLOCK_OK, "airlock_open (got %s)", airlock_error_name(rc)))
		return tap_done();
	const uint32_t layers = airlock_layers(ctx);
	char names[256];
	tap_diag("layers applied on this kernel: %s", layer_list(layers, names, sizeof(names)));
	if ((layers & AIRLOCK_LAYERS_NAMESPACES) == AIRLOCK_LAYERS_NAMESPACES)
		tap_diag("every namespace layer is available, as expected on a kernel that allows them unprivileged");
	else
		tap_diag("some namespace layers are missing here; the checks below compare /proc with that");
	tap_ok((layers & ~(uint32_t)(AIRLOCK_LAYERS_REQUIRED | AIRLOCK_LAYERS_NAMESPACES)) == 0,
	       "airlock_layers holds no unknown bit");

	uint64_t v = 99;
	tap_ok(airlock_get(ctx, AIRLOCK_STRICT_SANDBOX, &v) == AIRLOCK_OK && v == 0,
	       "strict sandbox is off by default");
	tap_ok(airlock_set(ctx, AIRLOCK_STRICT_SANDBOX, 2) == AIRLOCK_E_INVALID_ARG,
	       "strict sandbox takes 0 or 1 only");

	check_live_worker(ctx, "main", wav, wav_len);

	/* Strict: runs here exactly when every namespace is applied. */
	const int full = (layers & AIRLOCK_LAYERS_NAMESPACES) == AIRLOCK_LAYERS_NAMESPACES;
	tap_ok(airlock_set(ctx, AIRLOCK_STRICT_SANDBOX, 1) == AIRLOCK_OK, "strict set");
	check_request(ctx, "main", png, png_len, full ? AIRLOCK_OK : AIRLOCK_E_SANDBOX_UNAVAILABLE, layers,
		      full ? "every namespace applied: a strict request succeeds"
			   : "a namespace missing: a strict request fails with sandbox_unavailable");

	airlock_close(ctx);
	tap_ok(proc_children(NULL, 0) == 0, "airlock_close reaps the zygote");
	free(png);
	free(wav);
	return tap_done();
}
