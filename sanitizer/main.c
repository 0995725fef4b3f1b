/* SPDX-License-Identifier: MIT */
/* airlock(1): everything but exiting lives in cli.c. */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
	struct cli_options o;
	char err[256];

	if (cli_parse(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "airlock: %s\nTry 'airlock --help'.\n", err);
		return CLI_EXIT_USAGE;
	}
	return cli_run(&o, stdout, stderr);
}
