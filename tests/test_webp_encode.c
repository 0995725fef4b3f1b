/* SPDX-License-Identifier: MIT */
/*
 * The canonical WebP writer through the public API: results of the real
 * sandbox encoded with AIRLOCK_FORMAT_WEBP, then checked with an independent
 * decoder (libwebp's dwebp, run as a program) and a chunk walk of this
 * file's own: the chunk list is exactly what the format's row in airlock.h
 * allows, two encodes are byte-identical, lossless output decodes to exactly
 * the result's pixels and sanitizing it again gives the same pixels and the
 * same bytes, lossy output of a photo is within 30 dB PSNR, audio is refused.
 *
 * usage: test-webp-encode SOURCE_ROOT SHARED_CORPUS DWEBP
 */
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "airlock.h"
#include "manifest.h"
#include "tap.h"

extern char **environ;

static const char *dwebp;
static char tmpdir[] = "/tmp/airlock-webp-XXXXXX";

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The top-level chunk tags, space-separated, into out; 0 if the RIFF structure is exact, -1 if not. */
static int chunk_list(const uint8_t *p, size_t n, char *out, size_t cap, uint8_t *vp8x_flags)
{
	out[0] = '\0';
	*vp8x_flags = 0;
	if (n < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WEBP", 4) || le32(p + 4) != n - 8)
		return -1;
	size_t pos = 12;
	while (pos < n) {
		if (n - pos < 8)
			return -1;
		const uint32_t len = le32(p + pos + 4);
		if (len > n - pos - 8)
			return -1;
		if (memcmp(p + pos, "VP8X", 4) == 0 && len >= 1)
			*vp8x_flags = p[pos + 8];
		const size_t used = strlen(out);
		snprintf(out + used, cap - used, "%s%.4s", used ? " " : "", (const char *)(p + pos));
		pos += 8 + (size_t)len + (len & 1);
	}
	return pos == n ? 0 : -1;
}

/* dwebp -pam: the decoded RGBA pixels (malloc'd) and size, or NULL. */
static uint8_t *dwebp_decode(const uint8_t *webp, size_t n, uint32_t *w, uint32_t *h)
{
	char in[64], out[64];
	snprintf(in, sizeof(in), "%s/in.webp", tmpdir);
	snprintf(out, sizeof(out), "%s/out.pam", tmpdir);
	FILE *f = fopen(in, "wb");
	if (!f || fwrite(webp, 1, n, f) != n) {
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	unlink(out);
	char *argv[] = { (char *)dwebp, "-quiet", "-pam", in, "-o", out, NULL };
	pid_t pid;
	int st = 0;
	if (posix_spawn(&pid, dwebp, NULL, NULL, argv, environ) != 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return NULL;
	size_t len = 0;
	uint8_t *pam = slurp(out, &len);
	if (!pam)
		return NULL;
	/* P7 header: WIDTH, HEIGHT, DEPTH 4, MAXVAL 255, TUPLTYPE RGB_ALPHA, ENDHDR. */
	unsigned pw = 0, ph = 0, depth = 0, maxval = 0;
	const char *end = memmem(pam, len, "ENDHDR\n", 7);
	uint8_t *px = NULL;
	if (end &&
	    sscanf((const char *)pam, "P7\nWIDTH %u\nHEIGHT %u\nDEPTH %u\nMAXVAL %u", &pw, &ph, &depth, &maxval) == 4 &&
	    depth == 4 && maxval == 255) {
		const size_t off = (size_t)(end + 7 - (const char *)pam);
		if (len - off == (size_t)pw * ph * 4 && (px = malloc(len - off)) != NULL) {
			memcpy(px, pam + off, len - off);
			*w = pw;
			*h = ph;
		}
	}
	free(pam);
	return px;
}

static airlock_result *sanitize(airlock_ctx *ctx, const uint8_t *buf, size_t len)
{
	airlock_result *r = NULL;
	return airlock_sanitize(ctx, buf, len, AIRLOCK_TYPE_NONE, &r) == AIRLOCK_OK ? r : NULL;
}

static airlock_result *sanitize_file(airlock_ctx *ctx, const char *path)
{
	size_t len = 0;
	uint8_t *buf = slurp(path, &len);
	if (!buf)
		return NULL;
	airlock_result *r = sanitize(ctx, buf, len);
	free(buf);
	return r;
}

/*
 * The result's pixels against dwebp's RGBA: infinite when exact, else the
 * PSNR of the colour as seen on white (a lossy encoder may change the colour
 * of a pixel nobody can see, one with alpha 0). Alpha must match exactly.
 */
static double psnr(const airlock_result *r, const uint8_t *rgba)
{
	size_t n = 0;
	const uint8_t *px = airlock_result_pixels(r, &n);
	const uint32_t ch = airlock_result_channels(r);
	const size_t npix = n / ch;
	double se = 0;
	int exact = 1;
	for (size_t i = 0; i < npix; i++) {
		const uint8_t *p = px + i * ch, *q = rgba + i * 4;
		const int a = ch == 4 ? p[3] : 255;
		if (q[3] != a)
			return -1;
		for (uint32_t c = 0; c < 3; c++) {
			exact = exact && p[c] == q[c];
			const double d = (double)(p[c] - q[c]) * a / 255.0;
			se += d * d;
		}
	}
	if (exact)
		return INFINITY;
	return se == 0 ? 99.0 : 10 * log10(255.0 * 255.0 / (se / (double)(npix * 3)));
}

/* One result through both modes of the writer. expect_lossy is the chunk list of the lossy encode. */
static void check(airlock_ctx *ctx, const char *name, const airlock_result *r, const char *expect_lossy,
		  double min_psnr)
{
	for (int lossless = 0; lossless <= 1; lossless++) {
		airlock_set(ctx, AIRLOCK_WEBP_LOSSLESS, (uint64_t)lossless);
		const char *mode = lossless ? "lossless" : "lossy";
		uint8_t *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		if (!tap_ok(airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_WEBP, &a, &na) == AIRLOCK_OK &&
				    airlock_encode_to_memory(ctx, r, AIRLOCK_FORMAT_WEBP, &b, &nb) == AIRLOCK_OK,
			    "%s %s: encodes", name, mode))
			goto next;
		tap_ok(na == nb && memcmp(a, b, na) == 0, "%s %s: two encodes are byte-identical", name, mode);

		char tags[256];
		uint8_t flags = 0;
		const char *want = lossless ? "VP8L" : expect_lossy;
		if (!tap_ok(chunk_list(a, na, tags, sizeof(tags), &flags) == 0 && strcmp(tags, want) == 0,
			    "%s %s: chunks are exactly '%s'", name, mode, want))
			tap_diag("got '%s'", tags);
		if (strstr(tags, "VP8X"))
			tap_ok(flags == 0x10, "%s %s: VP8X flags only alpha", name, mode);

		uint32_t w = 0, h = 0;
		uint8_t *dec = dwebp_decode(a, na, &w, &h);
		if (tap_ok(dec != NULL, "%s %s: dwebp decodes it", name, mode)) {
			tap_ok(w == airlock_result_width(r) && h == airlock_result_height(r), "%s %s: dwebp's size",
			       name, mode);
			const double p =
				w == airlock_result_width(r) && h == airlock_result_height(r) ? psnr(r, dec) : -1;
			if (lossless) {
				if (!tap_ok(isinf(p), "%s lossless: dwebp gives exactly the result's pixels", name))
					tap_diag("PSNR %.2f", p);
			} else if (min_psnr > 0) {
				if (!tap_ok(p > min_psnr, "%s lossy: PSNR against the result over %.0f dB", name,
					    min_psnr))
					tap_diag("PSNR %.2f", p);
			} else {
				/* Small synthetic pictures of noise and hard edges: 4:2:0 VP8 is far from exact there.
				 */
				tap_ok(p >= 0, "%s lossy: alpha exact (%.2f dB on white)", name, p);
			}
			free(dec);
		}

		if (lossless) {
			/* Idempotent: the canonical file sanitized again gives the same pixels and encodes to the same
			 * bytes. */
			airlock_result *again = sanitize(ctx, a, na);
			size_t n1 = 0, n2 = 0;
			const uint8_t *p1 = airlock_result_pixels(r, &n1);
			const uint8_t *p2 = again ? airlock_result_pixels(again, &n2) : NULL;
			tap_ok(again && airlock_result_type(again) == AIRLOCK_TYPE_WEBP && n1 == n2 &&
				       airlock_result_channels(again) == airlock_result_channels(r) &&
				       memcmp(p1, p2, n1) == 0,
			       "%s lossless: sanitized again, the same pixels", name);
			uint8_t *c = NULL;
			size_t nc = 0;
			tap_ok(again &&
				       airlock_encode_to_memory(ctx, again, AIRLOCK_FORMAT_WEBP, &c, &nc) ==
					       AIRLOCK_OK &&
				       nc == na && memcmp(c, a, na) == 0,
			       "%s lossless: and encoded again, the same bytes", name);
			free(c);
			airlock_result_free(again);
		}
	next:
		free(a);
		free(b);
	}
	airlock_set(ctx, AIRLOCK_WEBP_LOSSLESS, 0);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s SOURCE_ROOT SHARED_CORPUS DWEBP\n", argv[0]);
		return 2;
	}
	const char *root = argv[1], *shared = argv[2];
	dwebp = argv[3];
	char path[1024];
	if (!tap_ok(mkdtemp(tmpdir) != NULL, "temporary directory"))
		return tap_done();

	airlock_ctx *ctx = NULL;
	if (!tap_ok(airlock_open(&ctx) == AIRLOCK_OK, "airlock_open"))
		return tap_done();

	/* A photo (libjpeg-turbo's testorig.jpg), opaque: VP8 alone. */
	snprintf(path, sizeof(path), "%s/libjpeg-turbo-seeds/libjpeg-turbo-testimages/testimages/testorig.jpg", shared);
	airlock_result *photo = sanitize_file(ctx, path);
	if (tap_ok(photo != NULL, "testorig.jpg sanitizes"))
		check(ctx, "testorig.jpg", photo, "VP8 ", 30.0);

	/* The same photo as RGBA with opaque alpha: still VP8 alone, no ALPH for an alpha of 255 everywhere. */
	airlock_set(ctx, AIRLOCK_KEEP_ALPHA, 1);
	airlock_result *photo4 = sanitize_file(ctx, path);
	if (tap_ok(photo4 != NULL && airlock_result_channels(photo4) == 4, "testorig.jpg sanitizes to RGBA"))
		check(ctx, "testorig.jpg RGBA", photo4, "VP8 ", 30.0);

	/* RGBA with real transparency: VP8X + ALPH + VP8 when lossy, the alpha exact either way. */
	snprintf(path, sizeof(path), "%s/corpus/images/webp/lossless_alpha.webp", root);
	airlock_result *alpha = sanitize_file(ctx, path);
	if (tap_ok(alpha != NULL && airlock_result_channels(alpha) == 4, "lossless_alpha.webp sanitizes to RGBA"))
		check(ctx, "lossless_alpha.webp", alpha, "VP8X ALPH VP8 ", 0);
	airlock_set(ctx, AIRLOCK_KEEP_ALPHA, 0);

	/* Metadata in, none out: a file with ICCP, EXIF and an animation gives VP8 or VP8L alone. */
	snprintf(path, sizeof(path), "%s/corpus/images/webp/icc_exif_alpha.webp", root);
	airlock_result *meta = sanitize_file(ctx, path);
	if (tap_ok(meta != NULL, "icc_exif_alpha.webp sanitizes"))
		check(ctx, "icc_exif_alpha.webp", meta, "VP8 ", 0);
	snprintf(path, sizeof(path), "%s/corpus/images/webp/anim_offset_alpha.webp", root);
	airlock_result *anim = sanitize_file(ctx, path);
	if (tap_ok(anim != NULL, "anim_offset_alpha.webp sanitizes"))
		check(ctx, "anim_offset_alpha.webp", anim, "VP8 ", 0);

	/* The quality setting is the JPEG one: a lower quality gives a different, smaller file. */
	if (photo) {
		uint8_t *q92 = NULL, *q50 = NULL;
		size_t n92 = 0, n50 = 0;
		airlock_encode_to_memory(ctx, photo, AIRLOCK_FORMAT_WEBP, &q92, &n92);
		airlock_set(ctx, AIRLOCK_JPEG_QUALITY, 50);
		airlock_encode_to_memory(ctx, photo, AIRLOCK_FORMAT_WEBP, &q50, &n50);
		tap_ok(q92 && q50 && n50 < n92, "AIRLOCK_JPEG_QUALITY 50 gives a smaller file than 92 (%zu < %zu)", n50,
		       n92);
		/* The same bytes from a NULL context with the same settings: nothing else goes in. */
		uint8_t *dflt = NULL;
		size_t nd = 0;
		tap_ok(airlock_encode_to_memory(NULL, photo, AIRLOCK_FORMAT_WEBP, &dflt, &nd) == AIRLOCK_OK &&
			       nd == n92 && memcmp(dflt, q92, nd) == 0,
		       "the defaults with a NULL context give the same bytes as quality 92");
		free(q92);
		free(q50);
		free(dflt);
	}

	/* Audio is not an image. */
	snprintf(path, sizeof(path), "%s/corpus/audio/wav_s16_stereo_8k.wav", root);
	airlock_result *wav = sanitize_file(ctx, path);
	uint8_t *x = NULL;
	size_t nx = 0;
	if (tap_ok(wav != NULL, "a WAV sanitizes"))
		tap_ok(airlock_encode_to_memory(ctx, wav, AIRLOCK_FORMAT_WEBP, &x, &nx) == AIRLOCK_E_INVALID_ARG &&
			       x == NULL,
		       "audio to WebP: AIRLOCK_E_INVALID_ARG");

	airlock_result_free(photo);
	airlock_result_free(photo4);
	airlock_result_free(alpha);
	airlock_result_free(meta);
	airlock_result_free(anim);
	airlock_result_free(wav);
	airlock_close(ctx);
	snprintf(path, sizeof(path), "%s/in.webp", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/out.pam", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return tap_done();
}
