/* SPDX-License-Identifier: MIT */
/*
 * Embedded ICC profiles to sRGB (icc.h). lcms2 runs in a context of its own
 * per transform, with an allocator that counts against a budget, so that a
 * hostile profile (a CLUT of many grid points, a long curve) fails as
 * malformed instead of growing without bound; and with no error logger, so
 * that nothing is printed.
 */
#include <lcms2.h>
#include <lcms2_plugin.h>
#include <stdlib.h>
#include <string.h>

#include "icc.h"

/*
 * lcms2's allocations for one profile and its transform (the profile's copy,
 * CLUTs, curves, the optimised tables): at most this, or memory_bytes / 8.
 * The largest public profiles (740 KB of LUTs) take under 2 MiB; a CLUT of
 * 255^3 points declared in a 400-byte profile would take 99 MB.
 */
#define ICC_BUDGET_MAX (64u << 20)

struct icc {
	cmsContext ctx;
	cmsHTRANSFORM xf;
	enum icc_layout in;
	uint32_t out_channels;
	size_t used, budget;
};

/* Each block carries its size ahead of it, so free and realloc can give it back to the budget. */
#define HDR 16

/*
 * cmsCreateContext() allocates the context's own struct through a stand-in
 * context on its stack, which cmsGetContextUserData() cannot find (lcms2
 * looks contexts up in its list and falls back to the global one: x is NULL
 * then), and cmsDeleteContext() frees it the same way. That one block (a few
 * hundred bytes) is marked 0 and goes uncounted; every later allocation,
 * the context's memory pool included, finds x and is counted (checked with
 * lcms2 2.14: 216 bytes counted once the context exists, back to those 216
 * once the profiles and the transform are closed).
 */
static void *mem_malloc(cmsContext c, cmsUInt32Number n)
{
	struct icc *x = cmsGetContextUserData(c);
	if (x && n > x->budget - x->used)
		return NULL;
	uint8_t *p = malloc((size_t)n + HDR);
	if (!p)
		return NULL;
	memcpy(p, &(size_t){ x ? n : 0 }, sizeof(size_t));
	if (x)
		x->used += n;
	return p + HDR;
}

static void mem_free(cmsContext c, void *ptr)
{
	struct icc *x = cmsGetContextUserData(c);
	if (!ptr)
		return;
	uint8_t *p = (uint8_t *)ptr - HDR;
	size_t n;
	memcpy(&n, p, sizeof(n));
	if (x && n <= x->used)
		x->used -= n;
	free(p);
}

static void *mem_realloc(cmsContext c, void *ptr, cmsUInt32Number n)
{
	struct icc *x = cmsGetContextUserData(c);
	if (!ptr)
		return mem_malloc(c, n);
	uint8_t *p = (uint8_t *)ptr - HDR;
	size_t old;
	memcpy(&old, p, sizeof(old));
	if (!x || old > x->used)
		return NULL; /* never a block of the stand-in context */
	if (n > old && n - old > x->budget - x->used)
		return NULL;
	uint8_t *q = realloc(p, (size_t)n + HDR);
	if (!q)
		return NULL;
	memcpy(q, &(size_t){ n }, sizeof(size_t));
	x->used = x->used - old + n;
	return q + HDR;
}

static cmsPluginMemHandler mem_plugin = {
	.base = { .Magic = cmsPluginMagicNumber, .ExpectedVersion = 2060, .Type = cmsPluginMemHandlerSig },
	.MallocPtr = mem_malloc,
	.FreePtr = mem_free,
	.ReallocPtr = mem_realloc,
};

static void log_nothing(cmsContext c, cmsUInt32Number code, const char *text)
{
	(void)c;
	(void)code;
	(void)text;
}

static cmsColorSpaceSignature layout_space(enum icc_layout in)
{
	switch (in) {
	case ICC_GREY:
	case ICC_GREY_ALPHA: return cmsSigGrayData;
	case ICC_RGB:
	case ICC_RGBA: return cmsSigRgbData;
	case ICC_CMYK: return cmsSigCmykData;
	}
	return 0;
}

static cmsUInt32Number layout_format(enum icc_layout in)
{
	switch (in) {
	case ICC_GREY: return TYPE_GRAY_8;
	case ICC_GREY_ALPHA: return TYPE_GRAYA_8;
	case ICC_RGB: return TYPE_RGB_8;
	case ICC_RGBA: return TYPE_RGBA_8;
	case ICC_CMYK: return TYPE_CMYK_8;
	}
	return 0;
}

static uint32_t layout_channels(enum icc_layout in)
{
	return in == ICC_GREY ? 1 : in == ICC_GREY_ALPHA ? 2 : in == ICC_RGB ? 3 : 4;
}

static int layout_alpha(enum icc_layout in)
{
	return in == ICC_GREY_ALPHA || in == ICC_RGBA;
}

int icc_open(const uint8_t *profile, size_t len, enum icc_layout in, uint32_t out_channels, const struct limits *lim,
	     struct frame *f, struct icc **out)
{
	*out = NULL;
	if (!lim->icc || len == 0)
		return AIRLOCK_OK;
	if (len > lim->max_icc_bytes) {
		f->limit = AIRLOCK_MAX_ICC_BYTES;
		return AIRLOCK_E_TOO_LARGE;
	}
	/* Smaller than a header and an empty tag table: lcms2 would refuse it anyway. */
	if (len < 132 || len > UINT32_MAX)
		return AIRLOCK_E_MALFORMED;

	struct icc *x = calloc(1, sizeof(*x));
	if (!x)
		return AIRLOCK_E_MEMORY;
	x->in = in;
	x->out_channels = out_channels;
	x->budget = lim->memory_bytes / 8 > ICC_BUDGET_MAX ? ICC_BUDGET_MAX : lim->memory_bytes / 8;
	x->ctx = cmsCreateContext(&mem_plugin, x);
	if (!x->ctx) {
		free(x);
		return AIRLOCK_E_MEMORY;
	}
	cmsSetLogErrorHandlerTHR(x->ctx, log_nothing);

	int rc = AIRLOCK_E_MALFORMED;
	cmsHPROFILE src = cmsOpenProfileFromMemTHR(x->ctx, profile, (cmsUInt32Number)len);
	cmsHPROFILE srgb = src ? cmsCreate_sRGBProfileTHR(x->ctx) : NULL;
	if (!src || !srgb)
		goto done;
	/* An embedded profile describes a device or a colour space; links, abstract and named-colour ones are not for
	 * pixels. */
	const cmsProfileClassSignature cls = cmsGetDeviceClass(src);
	if (cls != cmsSigInputClass && cls != cmsSigDisplayClass && cls != cmsSigOutputClass &&
	    cls != cmsSigColorSpaceClass)
		goto done;
	/*
	 * Another colour space than the pixels' (an RGB profile in a grey PNG):
	 * ignored, as Chrome and Firefox do; lcms2 (and so Pillow) refuses the
	 * transform, and the PNG specification calls the file wrong, but the
	 * pixels are still well defined without the profile.
	 */
	if (cmsGetColorSpace(src) != layout_space(in)) {
		rc = AIRLOCK_OK;
		goto done;
	}
	const cmsUInt32Number outfmt = out_channels == 4 ? TYPE_RGBA_8 : TYPE_RGB_8;
	x->xf = cmsCreateTransformTHR(x->ctx, src, layout_format(in), srgb, outfmt, INTENT_PERCEPTUAL, 0);
	if (x->xf)
		rc = AIRLOCK_OK;
done:
	if (src)
		cmsCloseProfile(src);
	if (srgb)
		cmsCloseProfile(srgb);
	if (rc != AIRLOCK_OK || !x->xf) {
		cmsDeleteContext(x->ctx);
		free(x);
		return rc;
	}
	*out = x;
	return AIRLOCK_OK;
}

void icc_apply(struct icc *x, const uint8_t *src, uint8_t *dst, size_t npix)
{
	const uint32_t ic = layout_channels(x->in), oc = x->out_channels;

	/* In slices, so that cmsUInt32Number never overflows and the alpha pass stays in cache. */
	while (npix > 0) {
		const size_t n = npix > 65536 ? 65536 : npix;
		cmsDoTransform(x->xf, src, dst, (cmsUInt32Number)n);
		if (oc == 4) {
			/* lcms2 does not write extra channels without cmsFLAGS_COPY_ALPHA; Pillow copies them after. */
			for (size_t i = 0; i < n; i++)
				dst[i * 4 + 3] = layout_alpha(x->in) ? src[i * ic + ic - 1] : 255;
		}
		src += n * ic;
		dst += n * oc;
		npix -= n;
	}
}

void icc_close(struct icc *x)
{
	if (!x)
		return;
	if (x->xf)
		cmsDeleteTransform(x->xf);
	cmsDeleteContext(x->ctx);
	free(x);
}
