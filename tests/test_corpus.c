/* SPDX-License-Identifier: MIT */
/*
 * Every file under the given public-corpus folders (OSS-Fuzz's JPEG seeds
 * and CVE reproducers, libpng's test PNGs and crashers): each must end in a
 * defined outcome, decoded or rejected for a reason of the input's own, and
 * never in a crash, a seccomp kill, a timeout, a protocol error or an
 * internal failure. In-process under ASan this is also a memory-safety sweep
 * of the decoders; through the sandbox it checks the host stays unharmed.
 *
 * usage: test-corpus inprocess|sandbox DIR...
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "airlock.h"
#include "decode.h"
#include "manifest.h"
#include "proc.h"
#include "tap.h"

static int sandbox;
static void *magic;
static airlock_ctx *ctx;
static int counts[128], files;

static void one(const char *path)
{
	size_t len = 0;
	uint8_t *buf = slurp(path, &len);
	if (!buf) {
		tap_ok(0, "%s readable", path);
		return;
	}
	int rc;
	if (sandbox) {
		airlock_result *r = NULL;
		rc = airlock_sanitize(ctx, buf, len, AIRLOCK_TYPE_NONE, &r);
		if (rc == AIRLOCK_OK) {
			size_t n;
			airlock_result_pixels(r, &n);
			if (n !=
			    (size_t)airlock_result_width(r) * airlock_result_height(r) * airlock_result_channels(r))
				tap_ok(0, "%s: result size matches its shape", path);
		}
		airlock_result_free(r);
	} else {
		struct limits lim;
		struct frame f;
		limits_default(&lim);
		rc = decode_any(magic, buf, len, &lim, &f);
		frame_free(&f);
	}
	free(buf);
	files++;
	if (rc >= 0 && rc < 128)
		counts[rc]++;
	airlock_error_class c = airlock_error_classify(rc);
	if (c != AIRLOCK_CLASS_OK && c != AIRLOCK_CLASS_REJECTED)
		tap_ok(0, "%s: defined outcome (got %s)", path, airlock_error_name(rc));
}

static void walk(const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		char p[2048];
		snprintf(p, sizeof(p), "%s/%s", dir, name);
		struct stat st;
		if (name[0] != '.' && stat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				walk(p);
			else if (S_ISREG(st.st_mode) && strcmp(name, "SOURCE.txt") != 0 && !strstr(name, "LICENSE") &&
				 !strstr(name, ".md") && !strstr(name, ".txt"))
				one(p);
		}
		free(list[i]);
	}
	free(list);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	sandbox = strcmp(argv[1], "sandbox") == 0;
	if (sandbox) {
		if (!tap_ok(airlock_open(&ctx) == AIRLOCK_OK, "airlock_open"))
			return tap_done();
	} else {
		magic = detect_open();
	}
	const int fds = proc_fd_count();
	for (int i = 2; i < argc; i++) {
		int before = files;
		walk(argv[i]);
		tap_ok(files > before, "%s: %d files, every one a defined outcome", argv[i], files - before);
	}
	for (int c = 0; c < 128; c++)
		if (counts[c])
			tap_diag("%-14s %d", airlock_error_name(c), counts[c]);
	if (sandbox)
		tap_ok(proc_fd_count() == fds && proc_children(NULL, 0) == 1, "after %d files: no fd leaked, one child",
		       files);
	airlock_close(ctx);
	detect_close(magic);
	return tap_done();
}
