/* SPDX-License-Identifier: MIT */
/* airlock(1): everything but exiting lives in cli.c, and for "airlock scan" in scan.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int scan_main(int argc, char **argv)
{
	struct scan_options o;
	char err[256];
	int rc = scan_parse(argc, argv, &o, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "airlock: %s\nTry 'airlock scan --help'.\n", err);
	else
		rc = scan_run(&o, stdout, stderr);
	scan_options_free(&o);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_options o;
	char err[256];

	/* A file named "scan" is still ./scan, or follows --. */
	if (argc > 1 && strcmp(argv[1], "scan") == 0)
		return scan_main(argc - 1, argv + 1);
	if (cli_parse(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "airlock: %s\nTry 'airlock --help'.\n", err);
		return CLI_EXIT_USAGE;
	}
	return cli_run(&o, stdout, stderr);
}
