/* SPDX-License-Identifier: MIT */
/*
 * TEMPORARY, until branch helper-c implements the 0.6.0 request API: weak
 * stand-ins built on the 0.5 API so that the extension links and runs. The
 * library's own (strong) definitions replace every one of them as soon as
 * they exist. Per-request options are applied by changing the context for
 * the request's duration under one lock (not thread-safe against other
 * users of the context), and a request runs to its end inside submit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "airlock.h"

#define SHIM_KEYS 32
#define WEAK	  __attribute__((weak))

struct airlock_options {
	uint8_t has[SHIM_KEYS];
	uint64_t val[SHIM_KEYS];
};

struct airlock_request {
	int fd;
	int rc;
	airlock_result *res;
	airlock_report rep;
};

static pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;

WEAK int airlock_options_new(airlock_options **out);
WEAK void airlock_options_free(airlock_options *o);
WEAK int airlock_options_set(airlock_options *o, airlock_key key, uint64_t value);
WEAK int airlock_options_unset(airlock_options *o, airlock_key key);
WEAK int airlock_options_get(const airlock_options *o, airlock_key key, uint64_t *value);
WEAK int airlock_sanitize_opts(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
			       const airlock_options *opts, airlock_result **out, airlock_report *report);
WEAK int airlock_encode_opts_to_memory(const airlock_ctx *ctx, const airlock_options *opts, const airlock_result *r,
				       airlock_format fmt, uint8_t **out, size_t *out_len);
WEAK int airlock_submit(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect, const airlock_options *opts,
			airlock_request **out);
WEAK int airlock_request_fd(airlock_request *req);
WEAK int airlock_request_step(airlock_request *req);
WEAK int airlock_request_wait(airlock_request *req, int timeout_ms);
WEAK void airlock_request_cancel(airlock_request *req);
WEAK int airlock_request_finish(airlock_request *req, airlock_result **out, airlock_report *report);

WEAK int airlock_options_new(airlock_options **out)
{
	if (!out)
		return AIRLOCK_E_INVALID_ARG;
	*out = calloc(1, sizeof(**out));
	return *out ? AIRLOCK_OK : AIRLOCK_E_NOMEM;
}

WEAK void airlock_options_free(airlock_options *o)
{
	free(o);
}

WEAK int airlock_options_set(airlock_options *o, airlock_key key, uint64_t value)
{
	if (!o)
		return AIRLOCK_E_INVALID_ARG;
	if (key <= 0 || key >= SHIM_KEYS || key > AIRLOCK_WEBP_LOSSLESS)
		return AIRLOCK_E_BAD_OPTION;
	o->has[key] = 1;
	o->val[key] = value;
	return AIRLOCK_OK;
}

WEAK int airlock_options_unset(airlock_options *o, airlock_key key)
{
	if (!o)
		return AIRLOCK_E_INVALID_ARG;
	if (key <= 0 || key >= SHIM_KEYS)
		return AIRLOCK_E_BAD_OPTION;
	o->has[key] = 0;
	return AIRLOCK_OK;
}

WEAK int airlock_options_get(const airlock_options *o, airlock_key key, uint64_t *value)
{
	if (!o || !value)
		return AIRLOCK_E_INVALID_ARG;
	if (key <= 0 || key >= SHIM_KEYS || !o->has[key])
		return AIRLOCK_E_BAD_OPTION;
	*value = o->val[key];
	return AIRLOCK_OK;
}

static uint64_t stricter(airlock_key k, uint64_t ctxv, uint64_t reqv)
{
	switch (k) {
	case AIRLOCK_MIN_RATE: return reqv > ctxv ? reqv : ctxv;
	case AIRLOCK_ALLOWED_TYPES: return reqv & ctxv;
	case AIRLOCK_STRICT_SANDBOX: return reqv | ctxv;
	case AIRLOCK_ALLOW_EXTRA_CODECS: return reqv & ctxv;
	case AIRLOCK_KEEP_ALPHA:
	case AIRLOCK_BACKGROUND:
	case AIRLOCK_JPEG_QUALITY:
	case AIRLOCK_WEBP_LOSSLESS:
	case AIRLOCK_OUT_RATE:
	case AIRLOCK_MONO:
	case AIRLOCK_SAMPLE_FORMAT:
	case AIRLOCK_ICC: return reqv;
	default: return reqv < ctxv ? reqv : ctxv;
	}
}

WEAK int airlock_sanitize_opts(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect,
			       const airlock_options *opts, airlock_result **out, airlock_report *report)
{
	if (!opts)
		return airlock_sanitize_report(ctx, buf, len, expect, out, report);
	uint64_t saved[SHIM_KEYS];
	uint8_t changed[SHIM_KEYS] = { 0 };
	int rc = AIRLOCK_OK;
	pthread_mutex_lock(&shim_lock);
	for (int k = 1; k < SHIM_KEYS && rc == AIRLOCK_OK; k++) {
		if (!opts->has[k])
			continue;
		rc = airlock_get(ctx, (airlock_key)k, &saved[k]);
		if (rc == AIRLOCK_OK)
			rc = airlock_set(ctx, (airlock_key)k, stricter((airlock_key)k, saved[k], opts->val[k]));
		if (rc == AIRLOCK_OK)
			changed[k] = 1;
	}
	if (rc == AIRLOCK_OK)
		rc = airlock_sanitize_report(ctx, buf, len, expect, out, report);
	for (int k = 1; k < SHIM_KEYS; k++)
		if (changed[k])
			airlock_set(ctx, (airlock_key)k, saved[k]);
	pthread_mutex_unlock(&shim_lock);
	return rc;
}

WEAK int airlock_encode_opts_to_memory(const airlock_ctx *ctx, const airlock_options *opts, const airlock_result *r,
				       airlock_format fmt, uint8_t **out, size_t *out_len)
{
	(void)opts;
	return airlock_encode_to_memory(ctx, r, fmt, out, out_len);
}

WEAK int airlock_submit(airlock_ctx *ctx, const void *buf, size_t len, airlock_type expect, const airlock_options *opts,
			airlock_request **out)
{
	if (!ctx || !out)
		return AIRLOCK_E_INVALID_ARG;
	airlock_request *req = calloc(1, sizeof(*req));
	if (!req)
		return AIRLOCK_E_NOMEM;
	req->fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	req->rep = (airlock_report)AIRLOCK_REPORT_INIT;
	req->rc = airlock_sanitize_opts(ctx, buf, len, expect, opts, &req->res, &req->rep);
	*out = req;
	return AIRLOCK_OK;
}

WEAK int airlock_request_fd(airlock_request *req)
{
	return req->fd;
}

WEAK int airlock_request_step(airlock_request *req)
{
	(void)req;
	return 1;
}

WEAK int airlock_request_wait(airlock_request *req, int timeout_ms)
{
	(void)req;
	(void)timeout_ms;
	return 1;
}

WEAK void airlock_request_cancel(airlock_request *req)
{
	(void)req;
}

WEAK int airlock_request_finish(airlock_request *req, airlock_result **out, airlock_report *report)
{
	int rc = req->rc;
	if (report)
		memcpy(report, &req->rep, sizeof(req->rep));
	if (rc == AIRLOCK_OK && out)
		*out = req->res;
	else
		airlock_result_free(req->res);
	if (req->fd >= 0)
		close(req->fd);
	free(req);
	return rc;
}
