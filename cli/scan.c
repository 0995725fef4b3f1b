/* SPDX-License-Identifier: MIT */
/*
 * airlock scan [OPTIONS] PATH...: every file under each PATH through the
 * real sandbox, one JSON line each (the keys of airlock --json), then one
 * summary line. One context is shared by --jobs threads; each file is its
 * own request, so its own worker. A hostile file is a line, never the end
 * of the scan.
 *
 * The tree is walked first, whole, in a fixed order (PATHs as given, the
 * entries of each directory sorted bytewise), and never through a symbolic
 * link found inside it: below its PATH, directories are opened one
 * component at a time with O_NOFOLLOW, both in the walk and when a file is
 * opened, so a link swapped in meanwhile is not followed either. Outputs
 * go below --out DIR under names fixed before the first request (see
 * assign_outputs()), so the same tree gives the same files whatever the
 * number of jobs, and are written the same way, relative to directory fds
 * opened with O_NOFOLLOW (write_output()).
 *
 * SIGINT, SIGTERM and SIGHUP are taken by the main thread from a signalfd
 * while the files run (watch()), never by a handler: outputs being written
 * are finished, so no temporary file is left, and the scan dies of the
 * signal (interrupted()). The same loop draws the progress line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <poll.h>
#include <search.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* Error codes are below this (airlock.h ranges); the summary counts each. */
#define SCAN_MAX_ERROR 80

/* Attempts for a request the zygote could not fork a worker for (AIRLOCK_E_BUSY), 10, 40, 160 ms apart. */
#define SCAN_BUSY_TRIES 4

/* The progress line is redrawn at most this often: more is flicker, and costs the terminal. */
#define SCAN_PROGRESS_US 250000

void scan_usage(FILE *f)
{
	fputs("Usage: airlock scan [OPTIONS] PATH...\n"
	      "Sanitize every file under each PATH, each in a fresh sandboxed worker, and print one JSON\n"
	      "line per file (the keys of airlock --json; \"input\" is the file's path), then a summary line.\n"
	      "Symbolic links inside the tree are reported as skipped, never followed.\n\n"
	      "  --jobs N, -j N             decode N files at once, each in its own worker (1; at most 256)\n"
	      "  --out DIR                  write each clean file under DIR, mirroring its path below PATH,\n"
	      "                             with the output format's extension (.png .jpg .webp .wav .flac\n"
	      "                             .raw): GIF, BMP and TIFF files become .png unless --to says otherwise\n"
	      "  --quiet                    no progress line on standard error when it is a terminal\n"
	      "  --help                     this text\n\n"
	      "Every other option of 'airlock --help' applies to each file, except -o/--output;\n"
	      "--json is accepted and changes nothing.\n\n"
	      "Exit status: 0 every file has a verdict (rejections and sandbox events included),\n"
	      "64 usage (also a PATH that cannot be opened), 70 an internal error on some file or the scan.\n"
	      "On SIGINT, SIGTERM or SIGHUP the outputs being written are finished, no temporary file is\n"
	      "left, no summary is printed, and the scan dies of the signal (status 128 + its number).\n",
	      f);
}

/* ---- parsing ---- */

/* a is --NAME or --NAME=VALUE; *val gets VALUE or NULL. */
static int is_opt(const char *a, const char *name, const char **val)
{
	size_t n = strlen(name);
	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0 || (a[2 + n] != '\0' && a[2 + n] != '='))
		return 0;
	*val = a[2 + n] == '=' ? a + 3 + n : NULL;
	return 1;
}

#define FAIL(code, ...)                             \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		rc = code;                          \
		goto out;                           \
	} while (0)

int scan_parse(int argc, char *const argv[], struct scan_options *o, char *err, size_t errlen)
{
	int rc = 0, only_positional = 0, nfwd = 0;
	/* Everything that is not scan's own goes to cli_parse(), in order, so "the last one counts" holds. */
	char **fwd = NULL;

	*o = (struct scan_options){ .jobs = 1 };
	if (errlen)
		err[0] = '\0';
	if (argc < 1)
		FAIL(CLI_EXIT_USAGE, "no arguments");
	fwd = calloc((size_t)argc + 1, sizeof(*fwd));
	o->paths = calloc((size_t)argc + 1, sizeof(*o->paths));
	if (!fwd || !o->paths)
		FAIL(CLI_EXIT_INTERNAL, "out of memory");
	fwd[nfwd++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		if (!a)
			FAIL(CLI_EXIT_USAGE, "null argument");
		if (only_positional || a[0] != '-') {
			if (!*a)
				FAIL(CLI_EXIT_USAGE, "empty PATH");
			o->paths[o->npaths++] = a;
			continue;
		}
		if (strcmp(a, "-") == 0)
			FAIL(CLI_EXIT_USAGE, "scan reads files, not standard input: name the file '-' as ./-");
		if (strcmp(a, "--") == 0) {
			only_positional = 1;
			continue;
		}
		if (is_opt(a, "jobs", &val) || strcmp(a, "-j") == 0) {
			uint64_t v;
			if (!val) {
				if (i + 1 >= argc || !argv[i + 1])
					FAIL(CLI_EXIT_USAGE, "option --jobs needs a value");
				val = argv[++i];
			}
			if (cli_parse_u64(val, &v) || v < 1 || v > SCAN_MAX_JOBS)
				FAIL(CLI_EXIT_USAGE, "--jobs needs a whole number from 1 to %u", SCAN_MAX_JOBS);
			o->jobs = (unsigned)v;
			continue;
		}
		if (is_opt(a, "out", &val)) {
			if (!val) {
				if (i + 1 >= argc || !argv[i + 1])
					FAIL(CLI_EXIT_USAGE, "option --out needs a value");
				val = argv[++i];
			}
			if (o->out_dir)
				FAIL(CLI_EXIT_USAGE, "more than one --out");
			if (!*val)
				FAIL(CLI_EXIT_USAGE, "empty --out name");
			o->out_dir = val;
			continue;
		}
		if (strcmp(a, "--quiet") == 0) {
			o->quiet = 1;
			continue;
		}
		if (strcmp(a, "-o") == 0 || is_opt(a, "output", &val))
			FAIL(CLI_EXIT_USAGE, "scan writes its outputs with --out DIR, not -o");
		fwd[nfwd++] = (char *)a;
		/* A missing value is left for cli_parse() to report. */
		if (cli_option_arity(a) == 1 && i + 1 < argc && argv[i + 1])
			fwd[nfwd++] = argv[++i];
	}
	rc = cli_parse(nfwd, fwd, &o->cli, err, errlen);
	if (rc)
		goto out;
	if (!o->npaths && !o->cli.help && !o->cli.version)
		FAIL(CLI_EXIT_USAGE, "no PATH to scan");
out:
	free(fwd);
	return rc;
}

void scan_options_free(struct scan_options *o)
{
	free(o->paths);
	o->paths = NULL;
	o->npaths = 0;
}

/* ---- the walk ---- */

enum entry_kind {
	ENTRY_FILE,
	ENTRY_SYMLINK,	  /* skipped: never followed */
	ENTRY_SPECIAL,	  /* skipped: FIFO, socket, device */
	ENTRY_TOO_DEEP,	  /* skipped: a directory SCAN_MAX_DEPTH levels down */
	ENTRY_TEMP,	  /* skipped: a name of airlock's own temporary files */
	ENTRY_UNREADABLE, /* error: a directory that could not be opened or read, or an entry not stat()ed */
};

struct scan_entry {
	char *input; /* the path as reported: PATH, or PATH/REL */
	char *rel;   /* below the PATH's directory; NULL when the PATH is the file itself */
	char *out;   /* the output name below --out without its extension, or NULL */
	size_t root; /* index of the PATH */
	enum entry_kind kind;
	int err; /* ENTRY_UNREADABLE: the errno */
};

struct scan {
	const struct scan_options *o;
	FILE *out, *err;
	airlock_ctx *ctx;
	struct scan_entry *v;
	size_t n, cap;
	int out_fd; /* --out DIR, or -1 */
	mode_t new_mode;
	uint64_t max_bytes;
	int log_fd;
	const char **exts; /* candidate output extensions, NULL-terminated */
	atomic_size_t next;
	atomic_int stop; /* standard output is gone, or a signal came: take no more files */
	int done_fd;	 /* an eventfd each worker thread adds 1 to as it ends, or -1 */
	uint64_t t0;	 /* when the scan started, and when its files did */
	uint64_t t_run;
	int progress; /* draw the progress line on err (a terminal) */
	int out_tty;  /* out is a terminal too: clear the progress line before each line */

	pthread_mutex_t lock; /* over the rest, and every write to out and err */
	uint64_t nok, nrejected, nerror, nskipped;
	uint64_t by_error[SCAN_MAX_ERROR];
	int out_failed;
	int shown; /* the progress line is on the terminal */

	/* Outputs being written (output_begin()); a signal waits for them (interrupted()). */
	pthread_mutex_t wlock;
	pthread_cond_t wdone;
	unsigned writing;
	int interrupted;      /* the signal, once one came */
	atomic_int signalled; /* set before the signal is read from the signalfd, so signal_came() never misses it */
};

static char *join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	int slash = na > 0 && a[na - 1] != '/';
	char *s = malloc(na + (size_t)slash + nb + 1);
	if (!s)
		return NULL;
	memcpy(s, a, na);
	if (slash)
		s[na] = '/';
	memcpy(s + na + (size_t)slash, b, nb + 1);
	return s;
}

/* Takes input and rel (NULL only for a PATH that is a file: has_rel 0). */
static int add_entry(struct scan *s, size_t root, enum entry_kind kind, int err, char *input, char *rel, int has_rel)
{
	if (!input || (has_rel && !rel)) {
		free(input);
		free(rel);
		return -ENOMEM;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct scan_entry *v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			free(input);
			free(rel);
			return -ENOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct scan_entry){ .input = input, .rel = rel, .root = root, .kind = kind, .err = err };
	return 0;
}

/*
 * The names airlock writes before renaming into place (cli_write_file(),
 * cli_write_at()) all begin so. One left behind by a run that was killed is
 * a partial output, not an input: a later scan of that tree skips it, and
 * says so in its line rather than dropping it silently, so a file of the
 * caller's that happens to be named so is still accounted for.
 */
#define SCAN_TEMP_PREFIX ".airlock-"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Adds the entries of the directory open at dfd (consumed), sorted. Only
 * running out of memory stops the walk; anything wrong with one entry is
 * that entry's line.
 */
static int walk(struct scan *s, size_t root, int dfd, const char *input, const char *rel, int depth)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return add_entry(s, root, ENTRY_UNREADABLE, e, strdup(input), strdup(rel), 1);
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			int e = errno;
			if (e)
				rc = add_entry(s, root, ENTRY_UNREADABLE, e, strdup(input), strdup(rel), 1);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **p = realloc(names, cap * sizeof(*p));
			if (!p) {
				rc = -ENOMEM;
				goto out;
			}
			names = p;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *in = join(input, names[i]);
		char *re = *rel ? join(rel, names[i]) : strdup(names[i]);
		struct stat st;
		if (!in || !re) {
			free(in);
			free(re);
			rc = -ENOMEM;
		} else if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = add_entry(s, root, ENTRY_UNREADABLE, errno, in, re, 1);
		} else if (S_ISLNK(st.st_mode)) {
			rc = add_entry(s, root, ENTRY_SYMLINK, 0, in, re, 1);
		} else if (S_ISREG(st.st_mode)) {
			int temp = strncmp(names[i], SCAN_TEMP_PREFIX, strlen(SCAN_TEMP_PREFIX)) == 0;
			rc = add_entry(s, root, temp ? ENTRY_TEMP : ENTRY_FILE, 0, in, re, 1);
		} else if (!S_ISDIR(st.st_mode)) {
			rc = add_entry(s, root, ENTRY_SPECIAL, 0, in, re, 1);
		} else if (depth + 1 >= SCAN_MAX_DEPTH) {
			rc = add_entry(s, root, ENTRY_TOO_DEEP, 0, in, re, 1);
		} else {
			int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int e = errno;
			if (sub < 0) {
				rc = add_entry(s, root, e == ELOOP ? ENTRY_SYMLINK : ENTRY_UNREADABLE, e, in, re, 1);
			} else {
				rc = walk(s, root, sub, in, re, depth + 1);
				free(in);
				free(re);
			}
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/*
 * The file of e: its PATH (followed, as the caller named it), then each
 * component below it opened with O_NOFOLLOW. A negative errno on failure:
 * -ELOOP for a symlink, -ENODEV for anything but a regular file.
 */
static int open_entry(const struct scan *s, const struct scan_entry *e)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd, err = 0;
	if (!e->rel) {
		fd = open(e->input, flags);
		err = errno;
	} else {
		char *rel = strdup(e->rel);
		int dfd = rel ? open(s->o->paths[e->root], O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		err = rel ? errno : ENOMEM;
		char *save = NULL, *part = dfd >= 0 ? strtok_r(rel, "/", &save) : NULL;
		fd = -1;
		while (part) {
			char *next = strtok_r(NULL, "/", &save);
			int nfd = openat(dfd, part,
					 next ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC : flags | O_NOFOLLOW);
			err = errno;
			close(dfd);
			dfd = -1;
			if (nfd < 0 || !next) {
				fd = nfd;
				break;
			}
			dfd = nfd;
			part = next;
		}
		if (dfd >= 0)
			close(dfd);
		free(rel);
	}
	if (fd < 0)
		return -(err ? err : EIO);
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENODEV;
	}
	return fd;
}

/* ---- output names ---- */

static const char *ext_of(airlock_format fmt)
{
	switch (fmt) {
	case AIRLOCK_FORMAT_PNG: return ".png";
	case AIRLOCK_FORMAT_JPEG: return ".jpg";
	case AIRLOCK_FORMAT_WEBP: return ".webp";
	case AIRLOCK_FORMAT_WAV: return ".wav";
	case AIRLOCK_FORMAT_FLAC: return ".flac";
	default: return ".raw";
	}
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* tsearch() over owned strings: 1 if s was added, 0 if present, -1 out of memory. */
static int claim(void **set, const char *s)
{
	char *k = strdup(s);
	if (!k)
		return -1;
	char **got = tsearch(k, set, cmp_key);
	if (!got) {
		free(k);
		return -1;
	}
	if (*got != k) {
		free(k);
		return 0;
	}
	return 1;
}

static int taken(void *const *set, const char *s)
{
	return tfind(s, set, cmp_key) != NULL;
}

/*
 * Fixes each file's output name below --out before anything runs: its path
 * below its PATH (the file's own name when PATH is the file) less its
 * extension, plus the output format's. The format, so the extension, is
 * known only after decoding unless --to is given, so a name is claimed with
 * every extension the file could get. Names that would meet (a.png and
 * a.jpg, two PATHs with the same files, a file named like a directory's
 * output) are told apart in walk order: the first keeps the name, the next
 * gets "~2" before the extension, then "~3", ... skipping any taken name.
 */
static int assign_outputs(struct scan *s)
{
	void *set = NULL;
	int rc = 0;
	char *buf = NULL;

	/* Directories first: a file's output must not take the name of one. */
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		if (s->v[i].kind != ENTRY_FILE || !s->v[i].rel)
			continue;
		char *dir = strdup(s->v[i].rel);
		if (!dir) {
			rc = -ENOMEM;
			break;
		}
		for (char *p = strchr(dir, '/'); rc == 0 && p; p = strchr(p + 1, '/')) {
			*p = '\0';
			if (claim(&set, dir) < 0)
				rc = -ENOMEM;
			*p = '/';
		}
		free(dir);
	}
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		struct scan_entry *e = &s->v[i];
		if (e->kind != ENTRY_FILE)
			continue;
		const char *name = e->rel;
		if (!name) {
			const char *slash = strrchr(e->input, '/');
			name = slash ? slash + 1 : e->input;
		}
		const char *last = strrchr(name, '/');
		last = last ? last + 1 : name;
		const char *dot = strrchr(last, '.');
		size_t base = dot && dot > last ? (size_t)(dot - name) : strlen(name);
		free(buf);
		buf = malloc(base + 32);
		if (!buf) {
			rc = -ENOMEM;
			break;
		}
		for (unsigned k = 1;; k++) {
			memcpy(buf, name, base);
			if (k == 1)
				buf[base] = '\0';
			else
				snprintf(buf + base, 16, "~%u", k);
			size_t len = strlen(buf);
			int free_name = 1;
			for (size_t x = 0; free_name && s->exts[x]; x++) {
				strcpy(buf + len, s->exts[x]);
				free_name = !taken(&set, buf);
			}
			buf[len] = '\0';
			if (!free_name)
				continue;
			for (size_t x = 0; rc == 0 && s->exts[x]; x++) {
				strcpy(buf + len, s->exts[x]);
				if (claim(&set, buf) < 0)
					rc = -ENOMEM;
			}
			buf[len] = '\0';
			if (rc == 0 && !(e->out = strdup(buf)))
				rc = -ENOMEM;
			break;
		}
	}
	free(buf);
	if (set)
		tdestroy(set, free);
	return rc;
}

/*
 * Writes r as fmt to name below --out. Each directory of name is created
 * and opened with O_NOFOLLOW, one component at a time from the --out fd,
 * and the file is written and renamed into place relative to the last one
 * (cli_write_at()), so a symlink put anywhere below DIR, even mid-write, is
 * never followed. An airlock_error.
 */
static int write_output(const struct scan *s, const airlock_result *r, airlock_format fmt, const char *name)
{
	char *p = strdup(name);
	if (!p)
		return AIRLOCK_E_NOMEM;
	int dfd = s->out_fd, rc = AIRLOCK_OK;
	char *save = NULL, *part = strtok_r(p, "/", &save);
	while (part && rc == AIRLOCK_OK) {
		char *next = strtok_r(NULL, "/", &save);
		if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0) {
			rc = AIRLOCK_E_IO; /* cannot come from a walk; never leave DIR */
		} else if (next) {
			if (mkdirat(dfd, part, 0777) != 0 && errno != EEXIST)
				rc = AIRLOCK_E_IO;
			int nfd = rc ? -1 : openat(dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0)
				rc = AIRLOCK_E_IO;
			if (dfd != s->out_fd)
				close(dfd);
			dfd = nfd;
		} else {
			rc = cli_write_at(s->ctx, r, fmt, dfd, part, s->new_mode);
		}
		part = next;
	}
	if (dfd >= 0 && dfd != s->out_fd)
		close(dfd);
	free(p);
	return rc;
}

/* ---- running ---- */

static uint64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

/* The input of the request this thread is making, for its event line. */
static _Thread_local const char *current_input;

static void scan_log_event(void *user, const airlock_event *ev)
{
	struct cli_event_log log = { .fd = *(const int *)user, .input = current_input };
	cli_log_event(&log, ev);
}

/* Under s->lock. The cursor is left at the start of an empty line. */
static void progress_clear(struct scan *s)
{
	if (!s->shown)
		return;
	fputs("\r\033[K", s->err);
	fflush(s->err);
	s->shown = 0;
}

/*
 * Under s->lock. One line, cut to the terminal's width so it never wraps
 * (a wrapped line cannot be redrawn with \r), ended by clear-to-end-of-line
 * rather than a newline so the next draw replaces it.
 */
static void progress_draw(struct scan *s)
{
	uint64_t now = now_us(), done = s->nok + s->nrejected + s->nerror + s->nskipped;
	uint64_t secs = (now - s->t0) / 1000000, run_us = now - s->t_run;
	double rate = run_us ? (double)done * 1e6 / (double)run_us : 0.0;
	char text[256], clock[32];
	if (secs >= 3600)
		snprintf(clock, sizeof(clock), "%" PRIu64 ":%02u:%02u", secs / 3600, (unsigned)(secs / 60 % 60),
			 (unsigned)(secs % 60));
	else
		snprintf(clock, sizeof(clock), "%u:%02u", (unsigned)(secs / 60), (unsigned)(secs % 60));
	int n = snprintf(text, sizeof(text),
			 "airlock scan: %" PRIu64 "/%zu, %.1f/s, %" PRIu64 " ok, %" PRIu64 " rejected, %" PRIu64
			 " error, %" PRIu64 " skipped, %s",
			 done, s->n, rate, s->nok, s->nrejected, s->nerror, s->nskipped, clock);
	struct winsize ws;
	size_t cols = ioctl(fileno(s->err), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80;
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	if (len > cols - 1)
		len = cols - 1;
	fputc('\r', s->err);
	fwrite(text, 1, len, s->err);
	fputs("\033[K", s->err);
	fflush(s->err);
	s->shown = 1;
}

/* A message on err for an entry that gets status "error": its line cannot say why. */
static void say(struct scan *s, const char *input, const char *what, const char *why)
{
	pthread_mutex_lock(&s->lock);
	progress_clear(s);
	fputs("airlock: scan: ", s->err);
	cli_json_str(s->err, input);
	fprintf(s->err, ": %s: %s\n", what, why);
	fflush(s->err);
	pthread_mutex_unlock(&s->lock);
}

static void line(FILE *f, const char *input, const char *status, int rc, const airlock_report *rep,
		 const airlock_result *r, const char *reason, const char *output)
{
	cli_report_fields(f, input, status, rc, rep, r);
	if (reason)
		fprintf(f, ",\"reason\":\"%s\"", reason);
	if (output) {
		fputs(",\"output\":", f);
		cli_json_str(f, output);
	}
	fputs("}\n", f);
}

/*
 * One line, whole, with one fputs; the counts change with it, so the summary
 * always matches the lines. status is NULL (from rc) or "skipped".
 */
static void emit(struct scan *s, const char *input, const char *status, int rc, const airlock_report *rep,
		 const airlock_result *r, const char *reason, const char *output)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m) {
		line(m, input, status, rc, rep, r, reason, output);
		if (fclose(m) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	pthread_mutex_lock(&s->lock);
	if (s->out_tty)
		progress_clear(s);
	if (buf)
		fputs(buf, s->out);
	else /* no memory for the line: written piecewise, still under the lock */
		line(s->out, input, status, rc, rep, r, reason, output);
	if (fflush(s->out) != 0 || ferror(s->out)) {
		s->out_failed = 1;
		atomic_store(&s->stop, 1);
	}
	if (status)
		s->nskipped++;
	else if (rc == AIRLOCK_OK)
		s->nok++;
	else if (strcmp(cli_status(rc), "rejected") == 0)
		s->nrejected++;
	else
		s->nerror++;
	if (!status && rc > 0 && rc < SCAN_MAX_ERROR)
		s->by_error[rc]++;
	pthread_mutex_unlock(&s->lock);
	free(buf);
}

/*
 * An output is written, and its line printed, only between output_begin()
 * and output_end(), so that a signal can wait for those under way and leave
 * no temporary file (interrupted()). 0 once a signal came: the file then
 * gets neither output nor line, as a file the scan did not reach.
 */
static int output_begin(struct scan *s)
{
	pthread_mutex_lock(&s->wlock);
	int ok = !s->interrupted;
	if (ok)
		s->writing++;
	pthread_mutex_unlock(&s->wlock);
	return ok;
}

static void output_end(struct scan *s)
{
	pthread_mutex_lock(&s->wlock);
	if (--s->writing == 0)
		pthread_cond_broadcast(&s->wdone);
	pthread_mutex_unlock(&s->wlock);
}

static const int scan_signals[] = { SIGINT, SIGTERM, SIGHUP };

/*
 * 1 once one of scan_signals came for the scan: pending (blocked in every
 * thread, not yet read by the main one) or read. Only while run_jobs()
 * blocks them; otherwise one ends the process.
 */
static int signal_came(struct scan *s)
{
	sigset_t p;
	if (atomic_load(&s->signalled))
		return 1;
	if (s->done_fd < 0 || sigpending(&p) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(scan_signals) / sizeof(scan_signals[0]); i++)
		if (sigismember(&p, scan_signals[i]) == 1)
			return 1;
	return 0;
}

static void scan_file(struct scan *s, const struct scan_entry *e)
{
	airlock_report rep = AIRLOCK_REPORT_INIT;
	airlock_result *r = NULL;
	uint8_t *in = NULL;
	size_t len = 0;
	char *output = NULL;
	const char *reason = NULL;
	int rc, writing = 0;

	int fd = open_entry(s, e);
	if (fd == -ELOOP) { /* became a symlink after the walk */
		emit(s, e->input, "skipped", AIRLOCK_OK, &rep, NULL, "symlink", NULL);
		return;
	}
	if (fd == -ENODEV) {
		emit(s, e->input, "skipped", AIRLOCK_OK, &rep, NULL, "not_regular", NULL);
		return;
	}
	char ebuf[128];
	if (fd < 0) {
		say(s, e->input, "cannot open", strerror_r(-fd, ebuf, sizeof(ebuf)));
		emit(s, e->input, NULL, AIRLOCK_E_IO, &rep, NULL, "unreadable", NULL);
		return;
	}
	int err = cli_read_input(fd, s->max_bytes, &in, &len);
	close(fd);
	if (err) {
		say(s, e->input, "cannot read", strerror_r(-err, ebuf, sizeof(ebuf)));
		emit(s, e->input, NULL, err == -ENOMEM ? AIRLOCK_E_NOMEM : AIRLOCK_E_IO, &rep, NULL, "unreadable",
		     NULL);
		return;
	}

	current_input = e->input;
	for (int attempt = 1;; attempt++) {
		rc = airlock_sanitize_report(s->ctx, in, len, s->o->cli.expect, &r, &rep);
		if (rc != AIRLOCK_E_BUSY || attempt == SCAN_BUSY_TRIES)
			break;
		struct timespec ts = { 0, 10000000L << (2 * (attempt - 1)) };
		nanosleep(&ts, NULL);
	}
	current_input = NULL;
	free(in);
	/*
	 * Ctrl-C reaches the whole process group, so the helper and its workers
	 * too: a request that ends now may have been ended by the signal, and its
	 * error (helper, worker_crash) would be a false verdict on the file. The
	 * kernel signals the group in one pass, so the signal is pending here
	 * long before a request can have failed of it (that takes a death, a
	 * reap and a report): checking after the request is enough in practice.
	 * Such a file gets no line and no output, as one the scan did not reach.
	 */
	if (signal_came(s)) {
		airlock_result_free(r);
		return;
	}

	if (rc == AIRLOCK_OK && s->out_fd >= 0) {
		if (!output_begin(s)) {
			airlock_result_free(r);
			return;
		}
		writing = 1;
		airlock_format fmt = cli_format_for(&s->o->cli, r);
		char *name = malloc(strlen(e->out) + 8);
		if (!name) {
			rc = AIRLOCK_E_NOMEM;
		} else {
			strcpy(name, e->out);
			strcat(name, ext_of(fmt));
			output = join(s->o->out_dir, name);
			rc = output ? write_output(s, r, fmt, name) : AIRLOCK_E_NOMEM;
			free(name);
		}
		if (rc != AIRLOCK_OK) {
			reason = "output";
			say(s, e->input, "cannot write its output", airlock_strerror(rc));
		}
	}
	emit(s, e->input, NULL, rc, &rep, r, reason, rc == AIRLOCK_OK ? output : NULL);
	if (writing)
		output_end(s);
	free(output);
	airlock_result_free(r);
}

static void scan_entry(struct scan *s, const struct scan_entry *e)
{
	airlock_report none = { 0 };
	char ebuf[128];
	switch (e->kind) {
	case ENTRY_FILE: scan_file(s, e); break;
	case ENTRY_SYMLINK: emit(s, e->input, "skipped", AIRLOCK_OK, &none, NULL, "symlink", NULL); break;
	case ENTRY_SPECIAL: emit(s, e->input, "skipped", AIRLOCK_OK, &none, NULL, "not_regular", NULL); break;
	case ENTRY_TOO_DEEP: emit(s, e->input, "skipped", AIRLOCK_OK, &none, NULL, "too_deep", NULL); break;
	case ENTRY_TEMP: emit(s, e->input, "skipped", AIRLOCK_OK, &none, NULL, "airlock_temp", NULL); break;
	case ENTRY_UNREADABLE:
		say(s, e->input, "cannot read", strerror_r(e->err, ebuf, sizeof(ebuf)));
		emit(s, e->input, NULL, AIRLOCK_E_IO, &none, NULL, "unreadable", NULL);
		break;
	}
}

static void *worker(void *arg)
{
	struct scan *s = arg;
	while (!atomic_load(&s->stop)) {
		size_t i = atomic_fetch_add(&s->next, 1);
		if (i >= s->n)
			break;
		scan_entry(s, &s->v[i]);
	}
	if (s->done_fd >= 0) {
		uint64_t one = 1;
		/* Cannot fail short of a bug: the counter would need 2^64 - 1 threads. */
		(void)!write(s->done_fd, &one, sizeof(one));
	}
	return NULL;
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}

/*
 * A signal came while files run. No output is begun from now on, and those
 * being written are finished (renamed into place, or removed by
 * cli_write_at() when they fail), so no temporary file of this scan is left
 * in DIR; then the scan dies of the same signal, as a shell expects of an
 * interrupted command (status 128 + its number), not exit 0 or 70, which
 * would say the tree was scanned. Requests still in workers are abandoned:
 * the helper sees its control socket close and kills its workers. No
 * summary: the lines printed are whole, but the scan did not end.
 */
_Noreturn static void interrupted(struct scan *s, int sig)
{
	pthread_mutex_lock(&s->wlock);
	s->interrupted = sig;
	atomic_store(&s->stop, 1);
	while (s->writing)
		pthread_cond_wait(&s->wdone, &s->wlock);
	/* Kept to the end, as is wlock: no line is cut off, no output begun. */
	pthread_mutex_lock(&s->lock);
	progress_clear(s);
	fprintf(s->err, "airlock: scan interrupted by %s after %" PRIu64 " of %zu entries; no summary\n",
		signal_name(sig), s->nok + s->nrejected + s->nerror + s->nskipped, s->n);
	fflush(s->err);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	/* Pending on this thread until unblocked here; the others keep it blocked, but it ends the process. */
	raise(sig);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	_exit(128 + sig);
}

/* Until started worker threads have ended: signals, and the progress line. */
static void watch(struct scan *s, int sfd, size_t started)
{
	uint64_t ended = 0, next = now_us() + SCAN_PROGRESS_US;
	struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = s->done_fd, .events = POLLIN } };
	while (ended < started) {
		int timeout = -1;
		if (s->progress) {
			uint64_t t = now_us();
			timeout = next > t ? (int)((next - t + 999) / 1000) : 0;
		}
		if (poll(p, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return; /* cannot happen with valid fds; the caller still joins the threads */
		}
		struct signalfd_siginfo si;
		if (p[0].revents & POLLIN) {
			atomic_store(&s->signalled, 1);
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				interrupted(s, (int)si.ssi_signo);
		}
		uint64_t v;
		if ((p[1].revents & POLLIN) && read(s->done_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			ended += v;
		if (s->progress && ended < started && now_us() >= next) {
			pthread_mutex_lock(&s->lock);
			progress_draw(s);
			pthread_mutex_unlock(&s->lock);
			next = now_us() + SCAN_PROGRESS_US;
		}
	}
}

/*
 * Runs every entry on up to jobs threads. The signals are blocked before
 * the threads start, so every thread inherits the mask and they wait for
 * this one, which reads them from a signalfd: no handler, nothing to keep
 * async-signal-safe, and a signal never lands in the middle of a write.
 * The mask is restored at the end; a signal still pending then ends the
 * process as it would have, with every output complete.
 */
static void run_jobs(struct scan *s, size_t jobs)
{
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(scan_signals) / sizeof(scan_signals[0]); i++)
		sigaddset(&set, scan_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->done_fd = sfd >= 0 ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
	if (s->done_fd < 0) {
		/* No fds left: run as before, where a signal ends the scan at once. */
		if (sfd >= 0)
			close(sfd);
		sfd = -1;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		s->progress = 0;
	}
	pthread_t *threads = calloc(jobs, sizeof(*threads));
	size_t started = 0;
	s->t_run = now_us();
	for (; threads && started < jobs; started++)
		if (pthread_create(&threads[started], NULL, worker, s) != 0)
			break;
	if (started == 0) { /* no thread could start: scan here, one file at a time, signals as before */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		worker(s);
	} else if (sfd >= 0) {
		watch(s, sfd, started);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	/* One that came as the last file ended still ends the scan, and says so, rather than when the mask goes. */
	struct signalfd_siginfo si;
	if (sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		interrupted(s, (int)si.ssi_signo);
	pthread_mutex_lock(&s->lock);
	progress_clear(s);
	pthread_mutex_unlock(&s->lock);
	if (sfd >= 0)
		close(sfd);
	if (s->done_fd >= 0)
		close(s->done_fd);
	s->done_fd = -1;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* 1 when the directory open at fd is (dev, ino) or below it. */
static int within(int fd, dev_t dev, ino_t ino)
{
	struct stat st, up;
	int cur = dup(fd), found = 0;
	if (cur < 0 || fstat(cur, &st) != 0) {
		if (cur >= 0)
			close(cur);
		return 0;
	}
	for (int i = 0; i < 4096; i++) {
		if (st.st_dev == dev && st.st_ino == ino) {
			found = 1;
			break;
		}
		int p = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p < 0 || fstat(p, &up) != 0 || (up.st_dev == st.st_dev && up.st_ino == st.st_ino)) {
			if (p >= 0)
				close(p);
			break; /* the root */
		}
		close(cur);
		cur = p;
		st = up;
	}
	close(cur);
	return found;
}

/* The deepest directory of path that exists, opened; path itself when it exists. -1 with errno. */
static int open_existing(const char *path, int *exact)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	*exact = 1;
	for (;;) {
		int fd = open(*p ? p : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || strcmp(p, "/") == 0 || !*p) {
			int e = errno;
			free(p);
			errno = e;
			return fd;
		}
		*exact = 0;
		size_t n = strlen(p);
		while (n > 1 && p[n - 1] == '/')
			p[--n] = '\0';
		char *slash = strrchr(p, '/');
		if (!slash)
			p[0] = '\0';
		else if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
}

/* mkdir -p: every missing directory of path. 0, or -1 with errno. */
static int make_dirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			errno = e;
			return -1;
		}
		*q = c;
		if (!c)
			break;
	}
	free(p);
	return 0;
}

static void usage_msg(FILE *err, const char *what, const char *path, int e)
{
	fprintf(err, "airlock: %s ", what);
	cli_json_str(err, path);
	if (e)
		fprintf(err, ": %s", strerror(e));
	fputc('\n', err);
}

/*
 * --out DIR: refused when it is or lies below a directory PATH, or when a
 * PATH lies in it, so no output can replace an input or be scanned as one;
 * then created with its parents, and opened.
 */
static int open_out_dir(struct scan *s)
{
	const struct scan_options *o = s->o;
	int exact, fd = open_existing(o->out_dir, &exact);
	struct stat dst;
	if (fd < 0 || fstat(fd, &dst) != 0) {
		usage_msg(s->err, "cannot open --out", o->out_dir, errno);
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < o->npaths; i++) {
		int overlap = 0, pfd = open(o->paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat pst;
		if (pfd >= 0) {
			overlap = (fstat(pfd, &pst) == 0 && within(fd, pst.st_dev, pst.st_ino)) ||
				  (exact && within(pfd, dst.st_dev, dst.st_ino));
			close(pfd);
		} else if (exact) {
			/* A file PATH: its directory. */
			char *dir = strdup(o->paths[i]);
			if (!dir) {
				close(fd);
				return CLI_EXIT_INTERNAL;
			}
			char *slash = strrchr(dir, '/');
			if (slash)
				slash[slash == dir] = '\0';
			int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			overlap = dfd >= 0 && within(dfd, dst.st_dev, dst.st_ino);
			if (dfd >= 0)
				close(dfd);
			free(dir);
		}
		if (overlap) {
			close(fd);
			fputs("airlock: --out ", s->err);
			cli_json_str(s->err, o->out_dir);
			fputs(" and PATH ", s->err);
			cli_json_str(s->err, o->paths[i]);
			fputs(" overlap: outputs could replace inputs\n", s->err);
			return CLI_EXIT_USAGE;
		}
	}
	close(fd);
	if (make_dirs(o->out_dir) != 0 || (s->out_fd = open(o->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		usage_msg(s->err, "cannot create --out", o->out_dir, errno);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* Opens each PATH and walks it. CLI_EXIT_USAGE when a PATH cannot be opened. */
static int walk_paths(struct scan *s)
{
	const struct scan_options *o = s->o;
	for (size_t i = 0; i < o->npaths; i++) {
		const char *path = o->paths[i];
		struct stat st;
		/* A PATH is followed when it is a symlink: the caller named it. */
		if (stat(path, &st) != 0) {
			usage_msg(s->err, "cannot open", path, errno);
			return CLI_EXIT_USAGE;
		}
		int rc = 0;
		if (S_ISDIR(st.st_mode)) {
			int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) {
				usage_msg(s->err, "cannot open", path, errno);
				return CLI_EXIT_USAGE;
			}
			rc = walk(s, i, fd, path, "", 0);
		} else {
			rc = add_entry(s, i, S_ISREG(st.st_mode) ? ENTRY_FILE : ENTRY_SPECIAL, 0, strdup(path), NULL,
				       0);
		}
		if (rc) {
			fputs("airlock: out of memory walking the tree\n", s->err);
			return CLI_EXIT_INTERNAL;
		}
	}
	return 0;
}

static void summary(struct scan *s, uint64_t elapsed_us)
{
	fprintf(s->out,
		"{\"summary\":true,\"files\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"error\":%" PRIu64
		",\"skipped\":%" PRIu64 ",\"by_error\":{",
		s->nok + s->nrejected + s->nerror + s->nskipped, s->nok, s->nrejected, s->nerror, s->nskipped);
	int first = 1;
	for (int e = 1; e < SCAN_MAX_ERROR; e++) {
		if (!s->by_error[e])
			continue;
		fprintf(s->out, "%s\"%s\":%" PRIu64, first ? "" : ",", airlock_error_name(e), s->by_error[e]);
		first = 0;
	}
	fprintf(s->out, "},\"elapsed_ms\":%.3f}\n", (double)elapsed_us / 1000.0);
	if (fflush(s->out) != 0 || ferror(s->out))
		s->out_failed = 1;
}

int scan_run(const struct scan_options *o, FILE *out, FILE *err)
{
	const char *exts[5] = { NULL };
	struct scan s = { .o = o, .out = out, .err = err, .out_fd = -1, .log_fd = -1, .exts = exts, .done_fd = -1 };
	uint64_t t0 = now_us();
	int status = CLI_EXIT_OK, rc;

	if (o->cli.help) {
		scan_usage(out);
		return CLI_EXIT_OK;
	}
	if (o->cli.version) {
		fprintf(out, "airlock %s\n", airlock_version_string());
		return CLI_EXIT_OK;
	}
	s.t0 = t0;
	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.wlock, NULL);
	pthread_cond_init(&s.wdone, NULL);
	atomic_init(&s.next, 0);
	atomic_init(&s.stop, 0);
	atomic_init(&s.signalled, 0);

	/*
	 * The extensions a file may get: --to's, or those of the formats the
	 * allowed types are written in (cli_format_for()). Each output format
	 * once: --allow gif,bmp must still claim .png, or a.gif and a.bmp would
	 * both be written to a.png.
	 */
	if (o->cli.to) {
		exts[0] = ext_of((airlock_format)o->cli.to);
	} else {
		static const struct {
			uint32_t types;
			airlock_format fmt;
		} outs[] = {
			{ AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_PNG) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_GIF) |
				  AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_BMP) | AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_TIFF),
			  AIRLOCK_FORMAT_PNG },
			{ AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_JPEG), AIRLOCK_FORMAT_JPEG },
			{ AIRLOCK_TYPE_BIT(AIRLOCK_TYPE_WEBP), AIRLOCK_FORMAT_WEBP },
			{ AIRLOCK_TYPES_AUDIO | AIRLOCK_TYPES_MEDIA, AIRLOCK_FORMAT_WAV },
		};
		size_t k = 0;
		for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
			if (o->cli.allow & outs[i].types)
				exts[k++] = ext_of(outs[i].fmt);
	}

	if (o->cli.log) {
		s.log_fd = open(o->cli.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
		if (s.log_fd < 0) {
			usage_msg(err, "cannot open log", o->cli.log, errno);
			status = CLI_EXIT_USAGE;
			goto out;
		}
	}
	status = walk_paths(&s);
	if (status)
		goto out;
	if (o->out_dir) {
		status = open_out_dir(&s);
		if (status)
			goto out;
		if (assign_outputs(&s) != 0) {
			fputs("airlock: out of memory naming the outputs\n", err);
			status = CLI_EXIT_INTERNAL;
			goto out;
		}
		mode_t mask = umask(0);
		umask(mask);
		s.new_mode = 0666 & ~mask;
	}

	char helper[4096];
	int why = 0;
	rc = airlock_open_detail(&s.ctx, helper, sizeof(helper), &why);
	if (rc != AIRLOCK_OK) {
		/* No context, so no event function: the sandbox event is logged here, as airlock does. */
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		airlock_event ev = { .size = sizeof(ev),
				     .time_us = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000,
				     .error = rc,
				     .expect = o->cli.expect };
		struct cli_event_log log = { .fd = s.log_fd, .input = NULL, .helper = helper, .helper_errno = why };
		if (s.log_fd >= 0)
			cli_log_event(&log, &ev);
		if (rc == AIRLOCK_E_HELPER)
			cli_helper_failure(err, helper, why);
		else
			fprintf(err, "airlock: error: %s (%s)\n", airlock_strerror(rc), airlock_error_name(rc));
		status = CLI_EXIT_INTERNAL;
		goto out;
	}
	rc = cli_configure(s.ctx, &o->cli);
	if (rc == AIRLOCK_OK)
		airlock_get(s.ctx, AIRLOCK_MAX_INPUT_BYTES, &s.max_bytes);
	if (rc != AIRLOCK_OK) {
		fprintf(err, "airlock: error: %s (%s)\n", airlock_strerror(rc), airlock_error_name(rc));
		status = CLI_EXIT_INTERNAL;
		goto out;
	}
	if (s.log_fd >= 0)
		airlock_set_event_fn(s.ctx, scan_log_event, &s.log_fd);

	/* Progress only for a person watching: never into a pipe or file, and not where \r and ESC [K do nothing. */
	const char *term = getenv("TERM");
	s.progress = !o->quiet && isatty(fileno(err)) && !(term && strcmp(term, "dumb") == 0);
	s.out_tty = isatty(fileno(out));
	run_jobs(&s, o->jobs < s.n ? o->jobs : (s.n ? s.n : 1));

	summary(&s, now_us() - t0);
	if (s.out_failed) {
		fputs("airlock: cannot write to standard output\n", err);
		status = CLI_EXIT_INTERNAL;
	} else if (s.nerror) {
		status = CLI_EXIT_INTERNAL;
	}
out:
	airlock_close(s.ctx);
	for (size_t i = 0; i < s.n; i++) {
		free(s.v[i].input);
		free(s.v[i].rel);
		free(s.v[i].out);
	}
	free(s.v);
	if (s.out_fd >= 0)
		close(s.out_fd);
	if (s.log_fd >= 0)
		close(s.log_fd);
	pthread_mutex_destroy(&s.lock);
	pthread_mutex_destroy(&s.wlock);
	pthread_cond_destroy(&s.wdone);
	return status;
}
