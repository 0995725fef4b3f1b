/* SPDX-License-Identifier: MIT */
/*
 * The MD5 behind FLAC output's STREAMINFO signature: RFC 1321's own test
 * vectors, odd-sized updates, and the signature airlock writes compared with
 * the one the reference encoder (flac 1.4, which made the fixture) wrote for
 * the same samples.
 *
 *   test-flac-md5 REPO-ROOT
 */
#include <stdlib.h>
#include <string.h>

#include "airlock.h"
#include "manifest.h"
#include "md5.h"
#include "tap.h"

static void hex(const uint8_t d[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void vectors(void)
{
	/* RFC 1321, appendix A.5. */
	static const struct {
		const char *in, *md5;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct md5 m;
		uint8_t d[16];
		char h[33];
		md5_init(&m);
		md5_update(&m, v[i].in, strlen(v[i].in));
		md5_final(&m, d);
		hex(d, h);
		tap_ok(strcmp(h, v[i].md5) == 0, "RFC 1321 vector %zu: %s", i, h);
	}
	/* The same 80 bytes fed 1, 32 and 63 bytes at a time: block boundaries fall everywhere. */
	const char *s = v[6].in;
	for (size_t step = 1; step < 64; step += 31) {
		struct md5 m;
		uint8_t d[16];
		char h[33];
		md5_init(&m);
		for (size_t off = 0; off < strlen(s); off += step)
			md5_update(&m, s + off, strlen(s) - off < step ? strlen(s) - off : step);
		md5_final(&m, d);
		hex(d, h);
		tap_ok(strcmp(h, v[6].md5) == 0, "80 bytes in %zu-byte updates", step);
	}
}

/* STREAMINFO's MD5 field: "fLaC", block header, 18 bytes, then 16 bytes of signature. */
static const uint8_t *streaminfo_md5(const uint8_t *p, size_t n)
{
	if (n < 42 || memcmp(p, "fLaC", 4) != 0 || (p[4] & 0x7f) != 0)
		return NULL;
	return p + 26;
}

static void against_reference(const char *root)
{
	char path[4096];
	size_t len = 0, out_len = 0;
	uint8_t *out = NULL;
	airlock_ctx *ctx = NULL;
	airlock_result *r = NULL;

	snprintf(path, sizeof(path), "%s/corpus/audio/speech_22k.flac", root);
	uint8_t *in = slurp(path, &len);
	const uint8_t *want = in ? streaminfo_md5(in, len) : NULL;
	int rc = airlock_open(&ctx);
	if (rc == AIRLOCK_OK)
		rc = airlock_set(ctx, AIRLOCK_SAMPLE_FORMAT, AIRLOCK_SAMPLE_S16);
	if (rc == AIRLOCK_OK && in)
		rc = airlock_sanitize(ctx, in, len, AIRLOCK_TYPE_FLAC, &r);
	if (rc == AIRLOCK_OK && r)
		rc = airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_FLAC, &out, &out_len);
	const uint8_t *got = rc == AIRLOCK_OK && out ? streaminfo_md5(out, out_len) : NULL;
	static const uint8_t zero[16];
	tap_ok(want && got && memcmp(want, zero, 16) != 0 && memcmp(got, want, 16) == 0,
	       "FLAC output's MD5 signature equals the reference encoder's for the same 16-bit samples (%s)",
	       airlock_error_name(rc));
	free(out);
	airlock_result_free(r);
	airlock_close(ctx);
	free(in);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s REPO-ROOT\n", argv[0]);
		return 2;
	}
	vectors();
	against_reference(argv[1]);
	return tap_done();
}
