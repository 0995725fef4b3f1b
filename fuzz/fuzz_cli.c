/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the command-line parsers (cli/cli.c and the
 * "airlock scan" parser in cli/scan.c). Parsing is pure: nothing is
 * opened, read or run.
 *
 * Input: NUL-separated arguments after an implied argv[0] "airlock"; when
 * the first is "scan", the rest go to scan_parse(). Each verdict is checked:
 * a usage error comes with a reason in err and nothing else; a parse that
 * succeeds leaves options within their documented ranges, pointing only
 * into argv. Every argument also goes through cli_parse_u64(), checked
 * against a digit-by-digit reading.
 */
#include <string.h>

#include "cli.h"
#include "fuzz.h"

#define MAX_ARGS 48

static int from_argv(const char *p, char **argv, int argc)
{
	if (p == NULL)
		return 1;
	for (int i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return 1;
	return 0;
}

static void check_u64(const char *s)
{
	uint64_t v = 0, want = 0;
	int ok = *s != '\0';
	for (const char *c = s; *c && ok; c++) {
		if (*c < '0' || *c > '9' || want > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			ok = 0;
		else
			want = want * 10 + (uint64_t)(*c - '0');
	}
	FUZZ_CHECK(cli_parse_u64(s, &v) == (ok ? 0 : -1));
	if (ok)
		FUZZ_CHECK(v == want);
}

static void check_err(int rc, const char *err, size_t errlen)
{
	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
	if (rc != 0)
		FUZZ_CHECK(err[0] != '\0' && err[0] != (char)0xAA);
}

static void check_options(const struct cli_options *o, char **argv, int argc)
{
	FUZZ_CHECK(o->allow != 0 && (o->allow & ~AIRLOCK_TYPES_ALL) == 0);
	FUZZ_CHECK(o->to >= 0 && o->to <= AIRLOCK_FORMAT_WEBP);
	/* Without --allow, the library's default: TIFF only when asked for. */
	FUZZ_CHECK(o->allow_given || (o->allow & ~AIRLOCK_TYPES_DEFAULT) == 0);
	FUZZ_CHECK(o->sample_format == AIRLOCK_SAMPLE_S16 || o->sample_format == AIRLOCK_SAMPLE_F32);
	FUZZ_CHECK(o->expect >= AIRLOCK_TYPE_NONE && o->expect < AIRLOCK_TYPE_COUNT_);
	FUZZ_CHECK(o->nsets <= CLI_MAX_SETS);
	for (size_t i = 0; i < o->nsets; i++) {
		/* --lossless only where the output can be WebP; --no-icc sets 0, never another value. */
		if (o->sets[i].key == AIRLOCK_WEBP_LOSSLESS)
			FUZZ_CHECK(o->to == 0 || o->to == AIRLOCK_FORMAT_WEBP);
		if (o->sets[i].key == AIRLOCK_ICC)
			FUZZ_CHECK(o->sets[i].value == 0);
		if (o->sets[i].key == AIRLOCK_MAX_ICC_BYTES)
			FUZZ_CHECK(o->sets[i].value >= 1 && o->sets[i].value <= (1u << 30));
	}
	FUZZ_CHECK(from_argv(o->input, argv, argc) && from_argv(o->output, argv, argc) &&
		   from_argv(o->log, argv, argc));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private, NUL-terminated copy: the parsers may keep pointers into argv. */
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	char prog[] = "airlock";
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	argv[argc++] = prog;
	for (size_t i = 0; i < size && argc < MAX_ARGS + 1; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;

	for (int i = 1; i < argc; i++) {
		check_u64(argv[i]);
		int arity = cli_option_arity(argv[i]);
		FUZZ_CHECK(arity >= -1 && arity <= 1);
		if (argv[i][0] != '-')
			FUZZ_CHECK(arity == -1);
	}

	char err[256];
	memset(err, 0xAA, sizeof(err));
	if (argc > 1 && strcmp(argv[1], "scan") == 0) {
		struct scan_options so;
		int rc = scan_parse(argc - 1, argv + 1, &so, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == CLI_EXIT_USAGE || rc == CLI_EXIT_INTERNAL);
		check_err(rc, err, sizeof(err));
		if (rc == 0) {
			check_options(&so.cli, argv, argc);
			FUZZ_CHECK(so.cli.input == NULL && so.cli.output == NULL);
			FUZZ_CHECK(so.jobs >= 1 && so.jobs <= SCAN_MAX_JOBS);
			FUZZ_CHECK(so.npaths >= 1 || so.cli.help || so.cli.version);
			for (size_t i = 0; i < so.npaths; i++)
				FUZZ_CHECK(from_argv(so.paths[i], argv, argc));
			FUZZ_CHECK(from_argv(so.out_dir, argv, argc));
		}
		scan_options_free(&so);
	} else {
		struct cli_options o;
		int rc = cli_parse(argc, argv, &o, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == CLI_EXIT_USAGE);
		check_err(rc, err, sizeof(err));
		if (rc == 0)
			check_options(&o, argv, argc);
	}
	free(buf);
	return 0;
}
