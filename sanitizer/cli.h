/* SPDX-License-Identifier: MIT */
/* The airlock command line: parsing (pure, testable, fuzzable) and running. */
#ifndef AIRLOCK_CLI_H
#define AIRLOCK_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "airlock.h"

/* Exit statuses: the contract scripts rely on (docs/airlock.1). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_USAGE = 64,	/* bad options, unreadable INPUT */
	CLI_EXIT_REJECTED = 65, /* the input's fault, sandbox events included */
	CLI_EXIT_INTERNAL = 70, /* sandbox unavailable, output failures, bugs */
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
	int sample_format;  /* airlock_sample_format for audio; S16 unless --sample-format */
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

#endif
