/* SPDX-License-Identifier: MIT */
/* The airlock command line: parsing (pure, testable, fuzzable) and running. */
#ifndef AIRLOCK_CLI_H
#define AIRLOCK_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "airlock.h"

/* Exit statuses: the contract scripts rely on (docs/airlock.1). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_USAGE = 64,	 /* bad options, unreadable INPUT */
	CLI_EXIT_REJECTED = 65,	 /* the input's fault, sandbox events included */
	CLI_EXIT_INTERNAL = 70,	 /* sandbox unavailable, a write that failed midway, bugs */
	CLI_EXIT_CANTCREAT = 73, /* OUTPUT cannot be created: found out before any worker starts */
};

#define CLI_MAX_SETS 32

/* FLAC's own range (RFC 9639): --to flac narrows the audio limits to it. */
#define CLI_FLAC_MAX_CHANNELS 8
#define CLI_FLAC_MAX_RATE     655350

struct cli_options {
	const char *input;  /* NULL or "-": stdin; borrowed from argv */
	const char *output; /* NULL or "-": stdout; borrowed from argv */
	const char *log;    /* NULL, or the security event log (JSON lines, appended); borrowed */
	int to;		    /* 0: follow the input type; else airlock_format */
	uint32_t allow;	    /* allowed types after --allow and --to; never 0 after parsing */
	int allow_given;    /* --allow was given; else allow is AIRLOCK_TYPES_DEFAULT, narrowed by --to */
	/*
	 * A directory of a video's frames as OUTPUT: -o DIR/, or an existing
	 * directory, with no --to or --to png, jpeg or webp. allow_video: the
	 * types it takes, the media types of --allow or its default (0 when
	 * --to writes one file only). output_dir: OUTPUT is such a directory
	 * by its trailing '/'. dir_only: the options hold only for a directory
	 * (a sampling option such as --frames), so an OUTPUT that turns out
	 * not to be one is a usage error at run time; allow is then
	 * allow_video.
	 */
	uint32_t allow_video;
	int output_dir;
	int dir_only;
	int sample_format; /* airlock_sample_format for audio; S16 unless --sample-format */
	int json;
	int help;
	int version;
	airlock_type expect;
	size_t nsets;
	struct {
		airlock_key key;
		uint64_t value;
	} sets[CLI_MAX_SETS];
};

/*
 * Parses argv into o. Returns 0, or CLI_EXIT_USAGE with a one-line reason in
 * err (never echoing more than the offending option's name).
 */
int cli_parse(int argc, char *const argv[], struct cli_options *o, char *err, size_t errlen);

/* Runs a parsed command; prints only to the given streams. Returns the exit status. */
int cli_run(const struct cli_options *o, FILE *out_msgs, FILE *err);

/* The --help text. */
void cli_usage(FILE *f);

/*
 * ---- Shared with airlock scan (scan.c), so both speak the same options,
 * reports and log lines. ----
 */

/*
 * What cli_parse() makes of the argv element a: 1 for an option that takes
 * the next element as its value, 0 for one that does not (a flag, or
 * "--name=value"), -1 for anything that is not an option of the table.
 */
int cli_option_arity(const char *a);

/* Plain decimal digits, no sign or suffix, as every numeric option takes. 0, or -1 when s is not one. */
int cli_parse_u64(const char *s, uint64_t *v);

/* Applies o's types, sample format, limits and settings to ctx, --to flac's narrowing included. */
int cli_configure(airlock_ctx *ctx, const struct cli_options *o);

/*
 * The output format for r: --to, else the input's own format where airlock
 * writes it (JPEG, PNG, WebP), PNG for the other images (GIF, BMP, TIFF)
 * and WAV for audio.
 */
airlock_format cli_format_for(const struct cli_options *o, const airlock_result *r);

/* s as a JSON string, quotes included; invalid UTF-8 becomes U+FFFD. */
void cli_json_str(FILE *f, const char *s);

/* A report's status for rc: "ok", "rejected" (rejected and sandbox classes) or "error". */
const char *cli_status(int rc);

/* The line for a helper that could not be started: the path tried, why (errno), and how to fix it. */
void cli_helper_failure(FILE *err, const char *helper, int why);

/*
 * The --json report of one request, from '{"input":' to its elapsed_ms
 * value, without the closing brace, so a caller may add keys after it.
 * input is printed as given; status NULL means cli_status(rc). rep is
 * borrowed; r (borrowed) may be NULL when nothing was decoded.
 */
void cli_report_fields(FILE *f, const char *input, const char *status, int rc, const airlock_report *rep,
		       const airlock_result *r);

/* The --log destination and the input its events are about (both borrowed). */
struct cli_event_log {
	int fd;
	const char *input;  /* as the caller named it; NULL or "-" is standard input */
	const char *helper; /* airlock_open() failed: the helper tried, and helper_errno why; else NULL */
	int helper_errno;
};

/* An airlock_event_fn: one JSON line, one write(2), to the struct cli_event_log at user. */
void cli_log_event(void *user, const airlock_event *ev);

/*
 * Reads fd to its end, but at most max + 1 bytes, so an oversized input is
 * known without reading it all. *out (the caller frees it) and *len are set
 * on success. 0, or a negative errno.
 */
int cli_read_input(int fd, uint64_t max, uint8_t **out, size_t *len);

/*
 * Where cli_run() writes OUTPUT. cli_output_open() runs before any worker
 * starts, so an OUTPUT that cannot be created costs no decode; the bytes go
 * out only in cli_output_commit(), after a successful decode.
 */
struct cli_output {
	const char *name;   /* as the caller gave it, for messages; NULL: standard output. Borrowed */
	int fd;		    /* a device or FIFO opened early, 1 for standard output, else -1 */
	char *target;	    /* a regular file's path, a symlink resolved: what the temporary file replaces */
	mode_t mode;	    /* the mode target ends up with */
	int err;	    /* errno of the last failure, 0 if none */
	const char *reason; /* a static reason in place of strerror(err), or NULL */
};

/*
 * Checks that path (NULL or "-": standard output) can be written, before
 * anything is decoded. A regular file, existing or new, is probed by
 * creating an unnamed temporary file in its directory (O_TMPFILE, else a
 * named one removed at once) and must be writable by the caller; a symlink
 * to a regular file stands for its target, and a symlink to nothing (or a
 * loop) is refused rather than followed or replaced; a directory is
 * refused; anything else (a device, a FIFO) is opened for writing now.
 * new_mode is the mode of a new file (callers pass 0666 less the umask,
 * read once: umask() is process-wide). 0, or -1 with out->err (and maybe
 * out->reason) set: the exit status is then CLI_EXIT_CANTCREAT. Release
 * out with cli_output_close() in every case.
 */
int cli_output_open(struct cli_output *out, const char *path, mode_t new_mode);

/*
 * Encodes r as fmt into the output opened by cli_output_open(). A regular
 * file is written to a temporary file beside its target, synced, and
 * renamed over it only when complete; standard output, a device or a FIFO
 * gets the whole encoding in one go once it is complete in memory. An
 * airlock_error; AIRLOCK_E_IO with out->err set when a write, sync or
 * rename failed.
 */
int cli_output_commit(struct cli_output *out, const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt);

/* Closes what cli_output_open() opened and frees its names; leaves no temporary file. */
void cli_output_close(struct cli_output *out);

/* Why out failed: its reason, else strerror(out->err). Never NULL. */
const char *cli_output_reason(const struct cli_output *out);

/*
 * Encodes r as fmt into name in the directory dirfd, never following a
 * symlink: a temporary file beside it, renamed over it only when complete.
 * An existing regular file keeps its mode, a new one gets new_mode; anything
 * else at name is refused. What airlock scan --out writes with. An
 * airlock_error.
 */
int cli_write_at(const airlock_ctx *ctx, const airlock_result *r, airlock_format fmt, int dirfd, const char *name,
		 mode_t new_mode);

/* ---- airlock scan [OPTIONS] PATH... (scan.c; docs/airlock.1, SCAN) ---- */

#define SCAN_MAX_JOBS  256
#define SCAN_MAX_DEPTH 256

struct scan_options {
	struct cli_options cli; /* every option of airlock but -o; cli.input and cli.output stay NULL */
	const char *out_dir;	/* --out DIR, or NULL: write nothing; borrowed from argv */
	unsigned jobs;		/* --jobs, 1..SCAN_MAX_JOBS */
	int quiet;		/* --quiet: no progress line on a terminal */
	size_t npaths;
	const char **paths; /* the PATH arguments, in order: an array owned by the options, strings borrowed */
};

/*
 * Parses the argv of "airlock scan" (argv[0] is "scan") into o: scan's own
 * options, PATHs, and every other option through cli_parse(). Returns 0, or
 * CLI_EXIT_USAGE with a one-line reason in err (CLI_EXIT_INTERNAL when out
 * of memory). Free o with scan_options_free() in every case.
 */
int scan_parse(int argc, char *const argv[], struct scan_options *o, char *err, size_t errlen);
void scan_options_free(struct scan_options *o);

/* Runs a parsed scan: lines on out, messages on err. Returns the exit status. */
int scan_run(const struct scan_options *o, FILE *out, FILE *err);

/* The "airlock scan --help" text. */
void scan_usage(FILE *f);

#endif
