/* SPDX-License-Identifier: MIT */
/*
 * A main for the harnesses without a fuzzing engine: every file named, and
 * every regular file under every directory named, goes once through
 * LLVMFuzzerTestOneInput(). Built with the project's own compiler (gcc is
 * enough), so anyone can reproduce a crash from its file:
 *
 *     build/fuzz/replay-png crash-1234abcd
 *
 * Prints TAP, one line per argument with the number of files it held, and
 * fails on an argument that cannot be read or holds no file. A harness that
 * finds a broken invariant aborts, naming it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static size_t replayed;
static int failed;

static int replay_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* An exact-size buffer of its own, so ASan sees a harness reading past the input. */
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len ? len : 1);
	size_t got = 0;
	while (buf && got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != len) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return -1;
	}
	if (getenv("AIRLOCK_REPLAY_VERBOSE"))
		fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	replayed++;
	return 0;
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_F && S_ISREG(st->st_mode) && replay_file(path) != 0)
		failed = 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int n = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			continue; /* a libFuzzer flag: ignored, so the same command line works for both */
		const size_t before = replayed;
		failed = 0;
		if (nftw(argv[i], visit, 16, FTW_PHYS) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed = 1;
		}
		const int ok = !failed && replayed > before;
		printf("%sok %d - %s: %zu files replayed\n", ok ? "" : "not ", ++n, argv[i], replayed - before);
		bad |= !ok;
	}
	printf("1..%d\n", n);
	fprintf(stderr, "replay: %zu files replayed\n", replayed);
	return bad;
}
