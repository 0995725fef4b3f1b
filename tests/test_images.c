/* SPDX-License-Identifier: MIT */
/*
 * Every row of corpus/images.tsv, decoded either in-process (decode_any, as
 * the fuzzers do; built with the sanitizers) or through the real sandbox
 * (airlock_sanitize). Each row asserts the exact outcome, type, shape, pixel
 * hash and change set that were computed independently of airlock.
 *
 * usage: test-images inprocess|sandbox SOURCE_ROOT SHARED_CORPUS
 */
#include <stdlib.h>
#include <string.h>

#include "airlock.h"
#include "decode.h"
#include "manifest.h"
#include "tap.h"

struct outcome {
	int rc;
	uint32_t type, width, height, channels, changes;
	uint64_t fnv;
};

static void check(const struct case_row *c, const struct outcome *o)
{
	const char *got = airlock_error_name(o->rc);
	if (!tap_ok(strcmp(got, c->outcome) == 0, "%s [%s] outcome %s", c->path, c->opts, c->outcome)) {
		tap_diag("got %s", got);
		return;
	}
	if (strcmp(c->type, "-") != 0 && o->type != AIRLOCK_TYPE_NONE)
		tap_ok(strcmp(airlock_type_name(o->type), c->type) == 0, "%s [%s] type %s", c->path, c->opts, c->type);
	if (o->rc != AIRLOCK_OK)
		return;
	if (!tap_ok(o->width == c->width && o->height == c->height && o->channels == c->channels,
		    "%s [%s] shape %ux%ux%u", c->path, c->opts, c->width, c->height, c->channels))
		tap_diag("got %ux%ux%u", o->width, o->height, o->channels);
	if (strcmp(c->fnv, "-") != 0) {
		char hex[24];
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)o->fnv);
		if (!tap_ok(strcmp(hex, c->fnv) == 0, "%s [%s] pixels", c->path, c->opts))
			tap_diag("got fnv %s, expected %s", hex, c->fnv);
	}
	if (strcmp(c->changes, "?") != 0) {
		char s[256];
		changes_str(o->changes, airlock_change_name, s, sizeof(s));
		if (!tap_ok(same_set(s, c->changes), "%s [%s] changes %s", c->path, c->opts, c->changes))
			tap_diag("got %s", s);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s inprocess|sandbox SOURCE_ROOT SHARED_CORPUS\n", argv[0]);
		return 2;
	}
	const int sandbox = strcmp(argv[1], "sandbox") == 0;
	const char *root = argv[2], *shared = argv[3];
	char path[1024];
	snprintf(path, sizeof(path), "%s/corpus/images.tsv", root);
	FILE *m = fopen(path, "r");
	if (!tap_ok(m != NULL, "manifest %s opens", path))
		return tap_done();

	void *magic = NULL;
	airlock_ctx *ctx[2] = { NULL, NULL };
	if (sandbox) {
		int rc0 = airlock_open(&ctx[0]), rc1 = airlock_open(&ctx[1]);
		if (!tap_ok(rc0 == AIRLOCK_OK && rc1 == AIRLOCK_OK, "airlock_open"))
			return tap_done();
		airlock_set(ctx[1], AIRLOCK_KEEP_ALPHA, 1);
	} else {
		magic = detect_open();
		if (!tap_ok(magic != NULL, "libmagic loads"))
			return tap_done();
	}

	char line[2048];
	int rows = 0;
	while (fgets(line, sizeof(line), m)) {
		struct case_row c;
		if (case_parse(line, &c) != 0)
			continue;
		rows++;
		const int alpha = strcmp(c.opts, "alpha") == 0;
		char file[1024];
		size_t len = 0;
		case_file(&c, root, shared, file, sizeof(file));
		uint8_t *buf = slurp(file, &len);
		if (!tap_ok(buf != NULL, "%s readable", c.path))
			continue;

		struct outcome o = { 0 };
		if (sandbox) {
			airlock_result *r = NULL;
			airlock_report rep = AIRLOCK_REPORT_INIT;
			o.rc = airlock_sanitize_report(ctx[alpha], buf, len, AIRLOCK_TYPE_NONE, &r, &rep);
			o.type = rep.type;
			if (o.rc == AIRLOCK_OK) {
				size_t n;
				const uint8_t *px = airlock_result_pixels(r, &n);
				o.type = airlock_result_type(r);
				o.width = airlock_result_width(r);
				o.height = airlock_result_height(r);
				o.channels = airlock_result_channels(r);
				o.changes = airlock_result_changes(r);
				o.fnv = fnv1a64(px, n);
			}
			airlock_result_free(r);
		} else {
			struct limits lim;
			struct frame f;
			limits_default(&lim);
			lim.keep_alpha = (uint32_t)alpha;
			o.rc = decode_any(magic, buf, len, &lim, &f);
			o.type = f.type;
			if (o.rc == AIRLOCK_OK) {
				o.width = f.width;
				o.height = f.height;
				o.channels = f.channels;
				o.changes = f.changes;
				o.fnv = fnv1a64(f.pixels, f.size);
			}
			if (o.rc == AIRLOCK_OK && !tap_ok(f.size == (size_t)f.width * f.height * f.channels,
							  "%s frame size matches its shape", c.path))
				tap_diag("size %zu", f.size);
			frame_free(&f);
		}
		check(&c, &o);
		free(buf);
	}
	fclose(m);
	tap_ok(rows > 200, "manifest has %d rows", rows);
	detect_close(magic);
	airlock_close(ctx[0]);
	airlock_close(ctx[1]);
	return tap_done();
}
