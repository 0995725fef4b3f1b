/* SPDX-License-Identifier: MIT */
/* Reads corpus/images.tsv: one expected outcome per file, computed independently of airlock. */
#ifndef AIRLOCK_MANIFEST_H
#define AIRLOCK_MANIFEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct case_row {
	char path[512];
	char opts[64];
	char outcome[32];
	char type[16];
	uint32_t width, height, channels;
	char fnv[24];
	char changes[256];
};

static inline uint64_t fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Parses one data line; returns 0 for a row, -1 for a comment or a bad line. */
static inline int case_parse(char *line, struct case_row *c)
{
	if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
		return -1;
	char w[16], h[16], ch[16];
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%511[^\t]\t%63[^\t]\t%31[^\t]\t%15[^\t]\t%15[^\t]\t%15[^\t]\t%15[^\t]\t%23[^\t]\t%255[^\t]",
		   c->path, c->opts, c->outcome, c->type, w, h, ch, c->fnv, c->changes) != 9)
		return -1;
	c->width = (uint32_t)strtoul(w, NULL, 10);
	c->height = (uint32_t)strtoul(h, NULL, 10);
	c->channels = (uint32_t)strtoul(ch, NULL, 10);
	return 0;
}

/* Resolves a manifest path: "shared:" is relative to the public corpus dir, the rest to the source root. */
static inline void case_file(const struct case_row *c, const char *root, const char *shared, char *out, size_t n)
{
	if (strncmp(c->path, "shared:", 7) == 0)
		snprintf(out, n, "%s/%s", shared, c->path + 7);
	else
		snprintf(out, n, "%s/%s", root, c->path);
}

static inline uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			uint8_t *p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

/* dir/rel, read whole; a test that cannot read its fixture stops with status 2. */
static inline uint8_t *slurp_fixture(const char *dir, const char *rel, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	uint8_t *b = slurp(path, len);
	if (!b || *len == 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	return b;
}

/* The change names of a mask, comma-separated in bit order, or "-" for none. */
static inline void changes_str(uint32_t mask, const char *(*name)(uint32_t), char *out, size_t n)
{
	out[0] = '\0';
	for (uint32_t bit = 1; bit; bit <<= 1) {
		if (!(mask & bit) || !name(bit))
			continue;
		if (out[0])
			strncat(out, ",", n - strlen(out) - 1);
		strncat(out, name(bit), n - strlen(out) - 1);
	}
	if (!out[0])
		snprintf(out, n, "-");
}

/* Compares two comma-separated sets regardless of order. */
static inline int same_set(const char *a, const char *b)
{
	char x[256], y[300];
	int count_a = 0, count_b = 0;
	snprintf(x, sizeof(x), "%s", a);
	snprintf(y, sizeof(y), ",%s,", b);
	if (strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
		return strcmp(a, b) == 0;
	for (char *s = NULL, *t = strtok_r(x, ",", &s); t; t = strtok_r(NULL, ",", &s)) {
		char needle[64];
		snprintf(needle, sizeof(needle), ",%s,", t);
		if (!strstr(y, needle))
			return 0;
		count_a++;
	}
	for (const char *p = b; *p; p++)
		count_b += *p == ',';
	return count_a == count_b + 1;
}

#endif
