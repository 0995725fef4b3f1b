/* SPDX-License-Identifier: MIT */
/*
 * Sandboxed sanitize against the in-process floor, side by side in one run:
 * for each file, the median of N in-process decodes (decode_any, the same
 * libpng/libjpeg-turbo code the worker runs) and of N airlock_sanitize()
 * calls, and their ratio. Only ratios from one run mean much on a shared
 * machine.
 *
 * usage: bench-sanitize [-n N] FILE...
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "airlock.h"
#include "decode.h"
#include "manifest.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int n = 50, first = 1;
	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		n = atoi(argv[2]);
		first = 3;
	}
	airlock_ctx *ctx;
	if (airlock_open(&ctx) != AIRLOCK_OK)
		return 70;
	void *magic = detect_open();
	struct limits lim;
	limits_default(&lim);
	double *a = calloc((size_t)n, sizeof(double)), *b = calloc((size_t)n, sizeof(double));
	printf("%-40s %12s %14s %14s %7s\n", "file", "pixels", "in-process ms", "sandboxed ms", "ratio");
	for (int i = first; i < argc; i++) {
		size_t len;
		uint8_t *buf = slurp(argv[i], &len);
		if (!buf)
			continue;
		uint32_t w = 0, h = 0;
		for (int k = 0; k < n; k++) {
			/* Interleaved, so drift on a noisy machine hits both sides alike. */
			struct frame f;
			double t0 = now_us();
			int rc = decode_any(magic, buf, len, &lim, &f);
			a[k] = now_us() - t0;
			w = f.width;
			h = f.height;
			frame_free(&f);
			airlock_result *r = NULL;
			t0 = now_us();
			int rc2 = airlock_sanitize(ctx, buf, len, AIRLOCK_TYPE_NONE, &r);
			b[k] = now_us() - t0;
			airlock_result_free(r);
			if (rc != AIRLOCK_OK || rc2 != AIRLOCK_OK) {
				fprintf(stderr, "%s: %s / %s\n", argv[i], airlock_error_name(rc),
					airlock_error_name(rc2));
				return 1;
			}
		}
		double ma = median(a, n), mb = median(b, n);
		const char *base = strrchr(argv[i], '/');
		printf("%-40s %5ux%-6u %14.3f %14.3f %7.2f\n", base ? base + 1 : argv[i], w, h, ma / 1e3, mb / 1e3,
		       mb / ma);
		free(buf);
	}
	free(a);
	free(b);
	detect_close(magic);
	airlock_close(ctx);
	return 0;
}
