/* SPDX-License-Identifier: MIT */
/*
 * airlock._airlock: the CPython extension over libairlock (docs/python.md).
 *
 * Thin on purpose: argument unpacking, the GIL released around every call
 * that can block, and objects that own what their views point into. The
 * typed API, option names, errors and events live in the Python modules
 * beside this file.
 *
 * Built for the limited API of 3.11 where the interpreter is 3.11 or later
 * (one abi3 module for every later version: the buffer protocol entered the
 * limited API in 3.11), and against the full API of 3.9 and 3.10 otherwise;
 * the source is the same.
 *
 * Locking: every field of these objects is read and written with the GIL
 * held. Threads run requests with the GIL released, so a Context counts the
 * threads inside airlock_submit() and the sync requests in flight, and its
 * close() waits for the first (short) and lets airlock_close() end the rest.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "airlock.h"

#if PY_VERSION_HEX < 0x030A0000
/* 3.9 has neither. */
static inline PyObject *Py_NewRef(PyObject *o)
{
	Py_INCREF(o);
	return o;
}

static int PyModule_AddObjectRef(PyObject *mod, const char *name, PyObject *value)
{
	Py_INCREF(value);
	if (PyModule_AddObject(mod, name, value) < 0) {
		Py_DECREF(value);
		return -1;
	}
	return 0;
}
#endif

/* Replaces *slot with value (a new reference), dropping the old one. */
static void set_ref(PyObject **slot, PyObject *value)
{
	PyObject *old = *slot;
	*slot = value;
	Py_XDECREF(old);
}

/* How long a sync request waits between two looks at pending signals (Ctrl-C). */
#define SIGNAL_SLICE_MS 200

#define IMAGE_FORMATS 0
#define AUDIO_FORMATS 1

static PyTypeObject *ContextType, *OptionsType, *ResultType, *RequestType;
/* Set by airlock._sanitizer through _init(): the classes results are made of and the error factory. */
static PyObject *image_cls, *audio_cls, *video_cls, *make_error;
/* Set by an atexit hook: from then on close() never waits for requests in flight (daemon threads). */
static int finalizing;

/* ---- errors ---- */

/*
 * Raises the exception airlock._errors builds for code (AirlockError or a
 * subclass, carrying the report's fields); detail is extra text or NULL. A
 * report is given for the outcome of a request (one the library counted and
 * the Python layer turns into an event), NULL for anything else.
 * Returns NULL for the caller to return.
 */
static PyObject *raise_code(int code, const airlock_report *rep, const char *detail)
{
	if (!make_error) {
		PyErr_Format(PyExc_RuntimeError, "airlock: %s", airlock_strerror(code));
		return NULL;
	}
	PyObject *exc = PyObject_CallFunction(make_error, "iiIzKIzi", code, rep ? (int)rep->type : 0,
					      rep ? (unsigned)rep->limit : 0u, rep ? rep->mime : NULL,
					      rep ? (unsigned long long)rep->elapsed_us : 0ull,
					      rep ? (unsigned)rep->layers : 0u, detail, rep != NULL);
	if (!exc)
		return NULL;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

static int is_finalizing(void)
{
#if !defined(Py_LIMITED_API) && PY_VERSION_HEX >= 0x030D0000
	if (Py_IsFinalizing())
		return 1;
#elif !defined(Py_LIMITED_API)
	if (_Py_IsFinalizing())
		return 1;
#endif
	return finalizing;
}

/* ---- Options: a wrapper of airlock_options ---- */

typedef struct {
	PyObject_HEAD airlock_options *o;
} optobj;

static PyObject *opt_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
	if (!PyArg_ParseTuple(args, ":Options"))
		return NULL;
	allocfunc alloc = (allocfunc)PyType_GetSlot(tp, Py_tp_alloc);
	optobj *self = (optobj *)alloc(tp, 0);
	if (!self)
		return NULL;
	if (airlock_options_new(&self->o) != AIRLOCK_OK) {
		Py_DECREF(self);
		return PyErr_NoMemory();
	}
	return (PyObject *)self;
}

static void opt_dealloc(PyObject *obj)
{
	PyTypeObject *tp = Py_TYPE(obj);
	airlock_options_free(((optobj *)obj)->o);
	freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
	f(obj);
	Py_DECREF(tp);
}

/* set(key, value) -> 0 or the airlock_error code: the Python layer names the keyword in its own message. */
static PyObject *opt_set(PyObject *obj, PyObject *args)
{
	int key;
	unsigned long long v;
	if (!PyArg_ParseTuple(args, "iK:set", &key, &v))
		return NULL;
	return PyLong_FromLong(airlock_options_set(((optobj *)obj)->o, (airlock_key)key, v));
}

/* get(key) -> int, or None for a key the options do not hold. */
static PyObject *opt_get(PyObject *obj, PyObject *args)
{
	int key;
	uint64_t v;
	if (!PyArg_ParseTuple(args, "i:get", &key))
		return NULL;
	if (airlock_options_get(((optobj *)obj)->o, (airlock_key)key, &v) != AIRLOCK_OK)
		Py_RETURN_NONE;
	return PyLong_FromUnsignedLongLong(v);
}

static PyMethodDef opt_methods[] = {
	{ "set", opt_set, METH_VARARGS, "set(key, value) -> 0 or an airlock error code" },
	{ "get", opt_get, METH_VARARGS, "get(key) -> int or None" },
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot opt_slots[] = {
	{ Py_tp_new, opt_new },
	{ Py_tp_dealloc, opt_dealloc },
	{ Py_tp_methods, opt_methods },
	{ Py_tp_doc, "Per-request options (airlock_options)." },
	{ 0, NULL },
};

static PyType_Spec opt_spec = { "airlock._airlock.Options", sizeof(optobj), 0, Py_TPFLAGS_DEFAULT, opt_slots };

static airlock_options *options_of(PyObject *o)
{
	if (o == Py_None)
		return NULL;
	if (!PyObject_TypeCheck(o, OptionsType)) {
		PyErr_SetString(PyExc_TypeError, "options must be an airlock._airlock.Options or None");
		return (airlock_options *)-1;
	}
	return ((optobj *)o)->o;
}

/* ---- Result: the clean pixels or samples, exported through the buffer protocol ---- */

typedef struct {
	PyObject_HEAD airlock_result *r;
	const uint8_t *data;
	size_t len;
	int ndim;
	Py_ssize_t itemsize;
	Py_ssize_t shape[4];
	Py_ssize_t strides[4];
	char format[2];
	/* The encoder defaults of the request that made it: -1 for the library's. */
	long long quality, lossless;
} resobj;

static PyObject *res_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
	PyErr_SetString(PyExc_TypeError, "airlock results come from a Sanitizer; they cannot be made directly");
	return NULL;
}

static void res_dealloc(PyObject *obj)
{
	PyTypeObject *tp = Py_TYPE(obj);
	airlock_result_free(((resobj *)obj)->r);
	freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
	f(obj);
	Py_DECREF(tp);
}

static int res_getbuffer(PyObject *obj, Py_buffer *view, int flags)
{
	resobj *self = (resobj *)obj;
	if (flags & PyBUF_WRITABLE) {
		PyErr_SetString(PyExc_BufferError, "airlock results are read-only");
		view->obj = NULL;
		return -1;
	}
	view->buf = (void *)self->data;
	view->obj = Py_NewRef(obj);
	view->len = (Py_ssize_t)self->len;
	view->readonly = 1;
	view->format = (flags & PyBUF_FORMAT) ? self->format : NULL;
	if (flags & PyBUF_ND) {
		view->itemsize = self->itemsize;
		view->ndim = self->ndim;
		view->shape = self->shape;
		view->strides = (flags & PyBUF_STRIDES) ? self->strides : NULL;
	} else {
		/* A plain byte view: the consumer asked for no shape. */
		view->itemsize = (flags & PyBUF_FORMAT) ? self->itemsize : 1;
		view->ndim = 1;
		view->shape = NULL;
		view->strides = NULL;
	}
	view->suboffsets = NULL;
	view->internal = NULL;
	return 0;
}

static void res_releasebuffer(PyObject *obj, Py_buffer *view)
{
	/* Nothing per view: the mapping lives as long as the object, which each view holds. */
}

#define RES_GET_U(name, expr)                                         \
	static PyObject *res_get_##name(PyObject *obj, void *closure) \
	{                                                             \
		const airlock_result *r = ((resobj *)obj)->r;         \
		return PyLong_FromUnsignedLongLong(expr);             \
	}

RES_GET_U(width, airlock_result_width(r))
RES_GET_U(height, airlock_result_height(r))
RES_GET_U(channels, airlock_result_channels(r))
RES_GET_U(rate, airlock_result_rate(r))
RES_GET_U(frames, airlock_result_frames(r))
RES_GET_U(type, (unsigned)airlock_result_type(r))
RES_GET_U(changes, airlock_result_changes(r))
RES_GET_U(layers, airlock_result_layers(r))
RES_GET_U(sample_format, (unsigned)airlock_result_sample_format(r))

static PyObject *res_get_nbytes(PyObject *obj, void *closure)
{
	return PyLong_FromSize_t(((resobj *)obj)->len);
}

static PyObject *res_get_shape(PyObject *obj, void *closure)
{
	resobj *self = (resobj *)obj;
	PyObject *t = PyTuple_New(self->ndim);
	if (!t)
		return NULL;
	for (int i = 0; i < self->ndim; i++) {
		PyObject *n = PyLong_FromSsize_t(self->shape[i]);
		if (!n) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SetItem(t, i, n);
	}
	return t;
}

/* A video result's numbers: (frames_seen, fps_num, fps_den, duration_us, src_width, src_height, rotation), or None. */
static PyObject *res_get_video(PyObject *obj, void *closure)
{
	airlock_video_info v = { .size = sizeof(v) };
	if (airlock_result_video(((resobj *)obj)->r, &v) != AIRLOCK_OK)
		Py_RETURN_NONE;
	return Py_BuildValue("(KIIKIII)", (unsigned long long)v.frames_seen, v.fps_num, v.fps_den,
			     (unsigned long long)v.duration_us, v.src_width, v.src_height, v.rotation);
}

/* A video result's sampled frames: a tuple of (index, pts_us), or None. */
static PyObject *res_get_samples(PyObject *obj, void *closure)
{
	const airlock_result *r = ((resobj *)obj)->r;
	const uint64_t *idx = airlock_result_video_indices(r);
	const int64_t *pts = airlock_result_video_pts_us(r);
	if (!idx || !pts)
		Py_RETURN_NONE;
	const uint64_t n = airlock_result_frames(r);
	PyObject *t = PyTuple_New((Py_ssize_t)n);
	for (uint64_t i = 0; t && i < n; i++) {
		PyObject *e = Py_BuildValue("(KL)", (unsigned long long)idx[i], (long long)pts[i]);
		if (!e) {
			Py_CLEAR(t);
			break;
		}
		PyTuple_SetItem(t, (Py_ssize_t)i, e);
	}
	return t;
}

static PyGetSetDef res_getset[] = {
	{ "_video", res_get_video, NULL, "video: (frames_seen, fps_num, fps_den, duration_us, w, h, rotation)", NULL },
	{ "_samples", res_get_samples, NULL, "video: ((index, pts_us), ...)", NULL },
	{ "width", res_get_width, NULL, "pixels per row (0 for audio)", NULL },
	{ "height", res_get_height, NULL, "rows (0 for audio)", NULL },
	{ "channels", res_get_channels, NULL, "image: 3 or 4; audio: channels", NULL },
	{ "rate", res_get_rate, NULL, "audio: Hz (0 for images)", NULL },
	{ "frames", res_get_frames, NULL, "audio: samples per channel; video: frames", NULL },
	{ "nbytes", res_get_nbytes, NULL, "length of the data in bytes", NULL },
	{ "shape", res_get_shape, NULL, "the buffer's shape", NULL },
	{ "_type", res_get_type, NULL, "airlock_type", NULL },
	{ "_changes", res_get_changes, NULL, "airlock_change mask", NULL },
	{ "_layers", res_get_layers, NULL, "airlock_layer mask", NULL },
	{ "_sample_format", res_get_sample_format, NULL, "airlock_sample_format", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyObject *res_tobytes(PyObject *obj, PyObject *unused)
{
	resobj *self = (resobj *)obj;
	return PyBytes_FromStringAndSize((const char *)self->data, (Py_ssize_t)self->len);
}

/*
 * _encode(format, quality, lossless[, frame]) -> bytes; quality and lossless
 * -1 take the request's defaults; frame: a video's frame, as an image.
 */
static PyObject *res_encode(PyObject *obj, PyObject *args)
{
	resobj *self = (resobj *)obj;
	int fmt;
	long long quality, lossless, frame = -1;
	if (!PyArg_ParseTuple(args, "iLL|L:_encode", &fmt, &quality, &lossless, &frame))
		return NULL;
	if (quality < 0)
		quality = self->quality;
	if (lossless < 0)
		lossless = self->lossless;
	airlock_options *o = NULL;
	int rc = airlock_options_new(&o);
	if (rc == AIRLOCK_OK && quality >= 0)
		rc = airlock_options_set(o, AIRLOCK_JPEG_QUALITY, (uint64_t)quality);
	if (rc == AIRLOCK_OK && lossless >= 0)
		rc = airlock_options_set(o, AIRLOCK_WEBP_LOSSLESS, (uint64_t)lossless);
	uint8_t *out = NULL;
	size_t len = 0;
	if (rc == AIRLOCK_OK) {
		if (frame >= 0) {
			Py_BEGIN_ALLOW_THREADS rc = airlock_encode_frame_to_memory(NULL, o, self->r, (uint64_t)frame,
										   (airlock_format)fmt, &out, &len);
			Py_END_ALLOW_THREADS
		} else {
			Py_BEGIN_ALLOW_THREADS rc =
				airlock_encode_opts_to_memory(NULL, o, self->r, (airlock_format)fmt, &out, &len);
			Py_END_ALLOW_THREADS
		}
	}
	airlock_options_free(o);
	if (rc != AIRLOCK_OK)
		return raise_code(rc, NULL, NULL);
	PyObject *b = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)len);
	free(out);
	return b;
}

static PyMethodDef res_methods[] = {
	{ "tobytes", res_tobytes, METH_NOARGS, "A copy of the data as bytes." },
	{ "_encode", res_encode, METH_VARARGS, "_encode(format, quality, lossless[, frame]) -> bytes" },
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot res_slots[] = {
	{ Py_tp_new, res_new },
	{ Py_tp_dealloc, res_dealloc },
	{ Py_tp_getset, res_getset },
	{ Py_tp_methods, res_methods },
	{ Py_bf_getbuffer, res_getbuffer },
	{ Py_bf_releasebuffer, res_releasebuffer },
	{ Py_tp_doc, "A sanitized image or audio clip: read-only data behind the buffer protocol." },
	{ 0, NULL },
};

static PyType_Spec res_spec = { "airlock._airlock.Result", sizeof(resobj), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
				res_slots };

/* An encoder key's value for results of this request: the options', else the context's, else -1. */
static long long encoder_default(airlock_ctx *ctx, const airlock_options *o, airlock_key key)
{
	uint64_t v;
	if (o && airlock_options_get(o, key, &v) == AIRLOCK_OK)
		return (long long)v;
	if (ctx && airlock_get(ctx, key, &v) == AIRLOCK_OK)
		return (long long)v;
	return -1;
}

/* Wraps r (taken over, freed on failure too) in an Image or an Audio. */
static PyObject *wrap_result(airlock_result *r, long long quality, long long lossless)
{
	airlock_type t = airlock_result_type(r);
	int image = (AIRLOCK_TYPES_IMAGE & AIRLOCK_TYPE_BIT(t)) != 0;
	airlock_video_info vi = { .size = sizeof(vi) };
	int video = airlock_result_video(r, &vi) == AIRLOCK_OK;
	PyTypeObject *cls = (PyTypeObject *)(video ? video_cls : image ? image_cls : audio_cls);
	if (!cls)
		cls = ResultType;
	allocfunc alloc = (allocfunc)PyType_GetSlot(cls, Py_tp_alloc);
	resobj *self = (resobj *)alloc(cls, 0);
	if (!self) {
		airlock_result_free(r);
		return NULL;
	}
	size_t len = 0;
	const uint8_t *data = airlock_result_pixels(r, &len);
	static const uint8_t empty[8];
	self->r = r;
	self->data = data ? data : empty;
	self->len = len;
	self->quality = quality;
	self->lossless = lossless;
	self->format[1] = 0;
	Py_ssize_t ch = (Py_ssize_t)airlock_result_channels(r);
	if (video) {
		/* (frames, height, width, 3): the frames one after the other. */
		self->format[0] = 'B';
		self->itemsize = 1;
		self->ndim = 4;
		self->shape[0] = (Py_ssize_t)airlock_result_frames(r);
		self->shape[1] = (Py_ssize_t)airlock_result_height(r);
		self->shape[2] = (Py_ssize_t)airlock_result_width(r);
		self->shape[3] = 3;
		self->strides[3] = 1;
		self->strides[2] = 3;
		self->strides[1] = 3 * self->shape[2];
		self->strides[0] = self->strides[1] * self->shape[1];
	} else if (image) {
		self->format[0] = 'B';
		self->itemsize = 1;
		self->ndim = 3;
		self->shape[0] = (Py_ssize_t)airlock_result_height(r);
		self->shape[1] = (Py_ssize_t)airlock_result_width(r);
		self->shape[2] = ch;
		self->strides[2] = 1;
		self->strides[1] = ch;
		self->strides[0] = ch * self->shape[1];
	} else {
		int s16 = airlock_result_sample_format(r) == AIRLOCK_SAMPLE_S16;
		self->format[0] = s16 ? 'h' : 'f';
		self->itemsize = s16 ? 2 : 4;
		self->shape[0] = (Py_ssize_t)airlock_result_frames(r);
		self->shape[1] = ch;
		self->ndim = ch == 1 ? 1 : 2;
		self->strides[0] = ch * self->itemsize;
		self->strides[1] = self->itemsize;
	}
	return (PyObject *)self;
}

/* ---- Context: one airlock_ctx, its zygote and its requests ---- */

struct reqobj;

typedef struct ctxobj {
	PyObject_HEAD airlock_ctx *ctx; /* NULL once closed */
	int closed;
	long submitting;	    /* threads inside airlock_submit() on ctx */
	long inflight;		    /* sync requests between submit and finish */
	struct reqobj *requests;    /* async requests not finished yet */
	struct ctxobj *prev, *next; /* every open Context, for the fork handler */
} ctxobj;

typedef struct reqobj {
	PyObject_HEAD airlock_request *req; /* NULL once finished */
	ctxobj *owner;			    /* strong reference */
	int fd;
	int busy; /* finish() is running with the GIL released */
	/* The outcome when close() had to finish the request itself. */
	int forced;
	int code;
	airlock_result *res;
	airlock_report rep;
	long long quality, lossless;
	struct reqobj *prev, *next;
} reqobj;

static ctxobj *open_contexts;

static void ctx_link(ctxobj *c)
{
	c->next = open_contexts;
	c->prev = NULL;
	if (open_contexts)
		open_contexts->prev = c;
	open_contexts = c;
}

static void ctx_unlink(ctxobj *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (open_contexts == c)
		open_contexts = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void req_unlink(reqobj *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if (r->owner && r->owner->requests == r)
		r->owner->requests = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

/*
 * In a forked child the threads that were inside a request are gone, and
 * the library closed their descriptors: nothing is in flight any more. Runs
 * in the forking thread, which holds the GIL (os.fork()).
 */
static void after_fork_child(void)
{
	for (ctxobj *c = open_contexts; c; c = c->next) {
		c->submitting = 0;
		c->inflight = 0;
		for (reqobj *r = c->requests; r; r = r->next)
			r->busy = 0;
	}
}

static PyObject *ctx_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
	if (!PyArg_ParseTuple(args, ":Context"))
		return NULL;
	allocfunc alloc = (allocfunc)PyType_GetSlot(tp, Py_tp_alloc);
	ctxobj *self = (ctxobj *)alloc(tp, 0);
	if (!self)
		return NULL;
	char helper[4096] = "";
	int err = 0, rc;
	airlock_ctx *ctx = NULL;
	Py_BEGIN_ALLOW_THREADS rc = airlock_open_detail(&ctx, helper, sizeof(helper), &err);
	Py_END_ALLOW_THREADS if (rc != AIRLOCK_OK)
	{
		Py_DECREF(self);
		char detail[4096 + 256];
		if (helper[0])
			snprintf(detail, sizeof(detail), "helper %s: %s", helper,
				 err ? strerror(err) : airlock_strerror(rc));
		else
			snprintf(detail, sizeof(detail), "%s", err ? strerror(err) : airlock_strerror(rc));
		return raise_code(rc, NULL, detail);
	}
	self->ctx = ctx;
	ctx_link(self);
	return (PyObject *)self;
}

static PyObject *closed_error(void)
{
	return raise_code(AIRLOCK_E_CLOSED, NULL, NULL);
}

/*
 * close() on a request's behalf: ends it and keeps its outcome for a later
 * finish(). One that was still running ends as closed, as a sync request
 * cut short by close() does (its worker killed by the cancel).
 */
static void req_force_finish(reqobj *r)
{
	r->rep = (airlock_report)AIRLOCK_REPORT_INIT;
	int done = airlock_request_step(r->req);
	airlock_request_cancel(r->req);
	r->res = NULL;
	r->code = airlock_request_finish(r->req, &r->res, &r->rep);
	if (!done && r->code == AIRLOCK_E_CANCELLED)
		r->code = AIRLOCK_E_CLOSED;
	r->req = NULL;
	r->forced = 1;
}

static void ctx_do_close(ctxobj *self)
{
	if (self->closed)
		return;
	self->closed = 1;
	/* Async requests are driven by whoever holds their object: end them here, or airlock_close() waits for them. */
	int busy = 0;
	for (reqobj *r = self->requests, *next; r; r = next) {
		next = r->next;
		if (r->busy) {
			busy = 1;
			continue;
		}
		req_force_finish(r);
		req_unlink(r);
	}
	/* Threads between the closed check and airlock_submit()'s return: a short wait (the input copy). */
	while (self->submitting > 0 && !is_finalizing()) {
		Py_BEGIN_ALLOW_THREADS struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
		Py_END_ALLOW_THREADS
	}
	airlock_ctx *ctx = self->ctx;
	self->ctx = NULL;
	ctx_unlink(self);
	/*
	 * At interpreter exit, daemon threads may sit in requests that will
	 * never come back for the GIL: airlock_close() would wait for them
	 * forever. The context is left to the process's exit, where the zygote
	 * sees its control socket close and kills its workers.
	 */
	if (is_finalizing() && (self->inflight > 0 || self->submitting > 0 || busy))
		return;
	if (ctx) {
		Py_BEGIN_ALLOW_THREADS airlock_close(ctx);
		Py_END_ALLOW_THREADS
	}
}

static PyObject *ctx_close(PyObject *obj, PyObject *unused)
{
	ctx_do_close((ctxobj *)obj);
	Py_RETURN_NONE;
}

static void ctx_dealloc(PyObject *obj)
{
	PyTypeObject *tp = Py_TYPE(obj);
	ctx_do_close((ctxobj *)obj);
	freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
	f(obj);
	Py_DECREF(tp);
}

/* set(key, value) -> 0 or the airlock_error code. */
static PyObject *ctx_set(PyObject *obj, PyObject *args)
{
	ctxobj *self = (ctxobj *)obj;
	int key;
	unsigned long long v;
	if (!PyArg_ParseTuple(args, "iK:set", &key, &v))
		return NULL;
	if (!self->ctx)
		return closed_error();
	return PyLong_FromLong(airlock_set(self->ctx, (airlock_key)key, v));
}

static PyObject *ctx_get(PyObject *obj, PyObject *args)
{
	ctxobj *self = (ctxobj *)obj;
	int key;
	uint64_t v;
	if (!PyArg_ParseTuple(args, "i:get", &key))
		return NULL;
	if (!self->ctx)
		return closed_error();
	int rc = airlock_get(self->ctx, (airlock_key)key, &v);
	if (rc != AIRLOCK_OK)
		return raise_code(rc, NULL, NULL);
	return PyLong_FromUnsignedLongLong(v);
}

static PyObject *ctx_count(PyObject *obj, PyObject *args)
{
	ctxobj *self = (ctxobj *)obj;
	int code;
	if (!PyArg_ParseTuple(args, "i:count", &code))
		return NULL;
	if (!self->ctx)
		return closed_error();
	return PyLong_FromUnsignedLongLong(airlock_count(self->ctx, code));
}

static PyObject *ctx_get_layers(PyObject *obj, void *closure)
{
	ctxobj *self = (ctxobj *)obj;
	if (!self->ctx)
		return closed_error();
	return PyLong_FromUnsignedLong(airlock_layers(self->ctx));
}

static PyObject *ctx_get_closed(PyObject *obj, void *closure)
{
	return PyBool_FromLong(((ctxobj *)obj)->closed);
}

/*
 * Submits data (copied, with the GIL released) on the context. On success
 * *req is the request, *quality and *lossless the encoder defaults its
 * result keeps, and self->submitting is released again. -1 with an
 * exception set otherwise.
 */
static int ctx_submit(ctxobj *self, PyObject *data, int expect, PyObject *options, airlock_request **req,
		      long long *quality, long long *lossless)
{
	airlock_options *opts = options_of(options);
	if (opts == (airlock_options *)-1)
		return -1;
	if (self->closed || !self->ctx) {
		closed_error();
		return -1;
	}
	Py_buffer view;
	if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
		return -1;
	airlock_ctx *ctx = self->ctx;
	/* Read while the GIL keeps close() out: the results' encoder defaults. */
	*quality = encoder_default(ctx, opts, AIRLOCK_JPEG_QUALITY);
	*lossless = encoder_default(ctx, opts, AIRLOCK_WEBP_LOSSLESS);
	int rc;
	self->submitting++;
	Py_BEGIN_ALLOW_THREADS rc = airlock_submit(ctx, view.buf, (size_t)view.len, (airlock_type)expect, opts, req);
	Py_END_ALLOW_THREADS self->submitting--;
	PyBuffer_Release(&view);
	if (rc != AIRLOCK_OK) {
		raise_code(rc, NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * run(data, expect, options) -> Image or Audio: one request, start to end.
 * The wait runs in slices with the GIL released; between two, pending
 * signals run their handlers, and an exception from one (KeyboardInterrupt)
 * cancels the request (its worker is killed) and propagates.
 */
static PyObject *ctx_run(PyObject *obj, PyObject *args)
{
	ctxobj *self = (ctxobj *)obj;
	PyObject *data, *options;
	int expect;
	if (!PyArg_ParseTuple(args, "OiO:run", &data, &expect, &options))
		return NULL;
	airlock_request *req = NULL;
	long long quality, lossless;
	if (ctx_submit(self, data, expect, options, &req, &quality, &lossless) < 0)
		return NULL;
	self->inflight++;
	int interrupted = 0;
	for (;;) {
		int done;
		Py_BEGIN_ALLOW_THREADS done = airlock_request_wait(req, SIGNAL_SLICE_MS);
		Py_END_ALLOW_THREADS if (done) break;
		if (PyErr_CheckSignals() < 0) {
			interrupted = 1;
			airlock_request_cancel(req);
			break;
		}
	}
	airlock_result *res = NULL;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	int rc;
	Py_BEGIN_ALLOW_THREADS rc = airlock_request_finish(req, &res, &rep);
	Py_END_ALLOW_THREADS self->inflight--;
	if (interrupted) {
		airlock_result_free(res);
		return NULL;
	}
	if (rc != AIRLOCK_OK)
		return raise_code(rc, &rep, NULL);
	return wrap_result(res, quality, lossless);
}

static PyObject *ctx_submit_async(PyObject *obj, PyObject *args)
{
	ctxobj *self = (ctxobj *)obj;
	PyObject *data, *options;
	int expect;
	if (!PyArg_ParseTuple(args, "OiO:submit", &data, &expect, &options))
		return NULL;
	allocfunc alloc = (allocfunc)PyType_GetSlot(RequestType, Py_tp_alloc);
	reqobj *r = (reqobj *)alloc(RequestType, 0);
	if (!r)
		return NULL;
	r->fd = -1;
	if (ctx_submit(self, data, expect, options, &r->req, &r->quality, &r->lossless) < 0) {
		Py_DECREF(r);
		return NULL;
	}
	r->owner = (ctxobj *)Py_NewRef(obj);
	r->next = self->requests;
	if (self->requests)
		self->requests->prev = r;
	self->requests = r;
	return (PyObject *)r;
}

static PyMethodDef ctx_methods[] = {
	{ "close", ctx_close, METH_NOARGS, "Ends the zygote and its workers; idempotent." },
	{ "set", ctx_set, METH_VARARGS, "set(key, value) -> 0 or an airlock error code" },
	{ "get", ctx_get, METH_VARARGS, "get(key) -> int" },
	{ "count", ctx_count, METH_VARARGS, "count(code) -> requests ended with code" },
	{ "run", ctx_run, METH_VARARGS, "run(data, expect, options) -> result; blocks with the GIL released" },
	{ "submit", ctx_submit_async, METH_VARARGS, "submit(data, expect, options) -> Request" },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef ctx_getset[] = {
	{ "layers", ctx_get_layers, NULL, "airlock_layer mask of the zygote", NULL },
	{ "closed", ctx_get_closed, NULL, "close() was called", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot ctx_slots[] = {
	{ Py_tp_new, ctx_new },
	{ Py_tp_dealloc, ctx_dealloc },
	{ Py_tp_methods, ctx_methods },
	{ Py_tp_getset, ctx_getset },
	{ Py_tp_doc, "One airlock context (airlock_ctx) and its zygote." },
	{ 0, NULL },
};

static PyType_Spec ctx_spec = { "airlock._airlock.Context", sizeof(ctxobj), 0, Py_TPFLAGS_DEFAULT, ctx_slots };

/* ---- Request: one request for an event loop ---- */

static PyObject *req_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
	PyErr_SetString(PyExc_TypeError, "requests come from Context.submit()");
	return NULL;
}

static void req_dealloc(PyObject *obj)
{
	reqobj *r = (reqobj *)obj;
	PyTypeObject *tp = Py_TYPE(obj);
	if (r->req) {
		/* Dropped unfinished: the worker is killed now rather than left to run. */
		airlock_result *res = NULL;
		airlock_request_cancel(r->req);
		airlock_request_finish(r->req, &res, NULL);
		airlock_result_free(res);
		r->req = NULL;
	}
	airlock_result_free(r->res);
	req_unlink(r);
	Py_XDECREF((PyObject *)r->owner);
	freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
	f(obj);
	Py_DECREF(tp);
}

static PyObject *req_fileno(PyObject *obj, PyObject *unused)
{
	reqobj *r = (reqobj *)obj;
	if (r->fd < 0 && r->req) {
		r->fd = airlock_request_fd(r->req);
		if (r->fd < 0)
			return PyErr_SetFromErrno(PyExc_OSError);
	}
	if (r->fd < 0)
		return raise_code(AIRLOCK_E_CLOSED, NULL, NULL);
	return PyLong_FromLong(r->fd);
}

/* step() -> True once the request is done. Never blocks, so it keeps the GIL. */
static PyObject *req_step(PyObject *obj, PyObject *unused)
{
	reqobj *r = (reqobj *)obj;
	if (!r->req || r->busy)
		Py_RETURN_TRUE;
	return PyBool_FromLong(airlock_request_step(r->req));
}

static PyObject *req_cancel(PyObject *obj, PyObject *unused)
{
	reqobj *r = (reqobj *)obj;
	if (r->req && !r->busy)
		airlock_request_cancel(r->req);
	Py_RETURN_NONE;
}

/* finish() -> Image or Audio, or raises; waits (GIL released) if the request is not done yet. */
static PyObject *req_finish(PyObject *obj, PyObject *unused)
{
	reqobj *r = (reqobj *)obj;
	airlock_result *res = NULL;
	airlock_report rep = AIRLOCK_REPORT_INIT;
	int rc;
	if (r->forced) {
		r->forced = 0;
		rc = r->code;
		res = r->res;
		rep = r->rep;
		r->res = NULL;
	} else if (r->req && !r->busy) {
		airlock_request *req = r->req;
		r->busy = 1;
		Py_BEGIN_ALLOW_THREADS rc = airlock_request_finish(req, &res, &rep);
		Py_END_ALLOW_THREADS r->busy = 0;
		r->req = NULL;
		req_unlink(r);
	} else {
		PyErr_SetString(PyExc_RuntimeError, "this request was finished already");
		return NULL;
	}
	if (rc != AIRLOCK_OK)
		return raise_code(rc, &rep, NULL);
	return wrap_result(res, r->quality, r->lossless);
}

static PyMethodDef req_methods[] = {
	{ "fileno", req_fileno, METH_NOARGS, "The descriptor that polls readable when step() has work." },
	{ "step", req_step, METH_NOARGS, "step() -> True once done; never blocks." },
	{ "cancel", req_cancel, METH_NOARGS, "Kills the worker; finish() then raises Cancelled." },
	{ "finish", req_finish, METH_NOARGS, "finish() -> result, or raises the request's error." },
	{ NULL, NULL, 0, NULL },
};

static PyType_Slot req_slots[] = {
	{ Py_tp_new, req_new },
	{ Py_tp_dealloc, req_dealloc },
	{ Py_tp_methods, req_methods },
	{ Py_tp_doc, "A request in flight (airlock_request), for event loops." },
	{ 0, NULL },
};

static PyType_Spec req_spec = { "airlock._airlock.Request", sizeof(reqobj), 0, Py_TPFLAGS_DEFAULT, req_slots };

/* ---- module functions: the library's tables ---- */

static PyObject *mod_init(PyObject *mod, PyObject *args)
{
	PyObject *img, *aud, *vid, *mk;
	if (!PyArg_ParseTuple(args, "OOOO:_init", &img, &aud, &vid, &mk))
		return NULL;
	if (!PyType_Check(img) || !PyType_Check(aud) || !PyType_Check(vid) ||
	    !PyType_IsSubtype((PyTypeObject *)img, ResultType) || !PyType_IsSubtype((PyTypeObject *)aud, ResultType) ||
	    !PyType_IsSubtype((PyTypeObject *)vid, ResultType)) {
		PyErr_SetString(PyExc_TypeError,
				"_init(image_cls, audio_cls, video_cls, make_error): classes derived from Result");
		return NULL;
	}
	set_ref(&image_cls, Py_NewRef(img));
	set_ref(&audio_cls, Py_NewRef(aud));
	set_ref(&video_cls, Py_NewRef(vid));
	set_ref(&make_error, Py_NewRef(mk));
	Py_RETURN_NONE;
}

static PyObject *mod_finalizing(PyObject *mod, PyObject *unused)
{
	finalizing = 1;
	Py_RETURN_NONE;
}

static PyObject *mod_version(PyObject *mod, PyObject *unused)
{
	return PyUnicode_FromString(airlock_version_string());
}

static PyObject *mod_strerror(PyObject *mod, PyObject *args)
{
	int code;
	if (!PyArg_ParseTuple(args, "i", &code))
		return NULL;
	return PyUnicode_FromString(airlock_strerror(code));
}

static PyObject *mod_error_name(PyObject *mod, PyObject *args)
{
	int code;
	if (!PyArg_ParseTuple(args, "i", &code))
		return NULL;
	return PyUnicode_FromString(airlock_error_name(code));
}

static PyObject *mod_error_classify(PyObject *mod, PyObject *args)
{
	int code;
	if (!PyArg_ParseTuple(args, "i", &code))
		return NULL;
	return PyLong_FromLong((long)airlock_error_classify(code));
}

static PyObject *mod_type_name(PyObject *mod, PyObject *args)
{
	int t;
	if (!PyArg_ParseTuple(args, "i", &t))
		return NULL;
	return PyUnicode_FromString(airlock_type_name((airlock_type)t));
}

static PyObject *mod_type_mime(PyObject *mod, PyObject *args)
{
	int t;
	if (!PyArg_ParseTuple(args, "i", &t))
		return NULL;
	return PyUnicode_FromString(airlock_type_mime((airlock_type)t));
}

/* Name of one bit of a mask, from fn; None for an unknown bit. */
static PyObject *bit_name(PyObject *args, const char *(*fn)(uint32_t))
{
	unsigned int bit;
	if (!PyArg_ParseTuple(args, "I", &bit))
		return NULL;
	const char *s = fn(bit);
	if (!s)
		Py_RETURN_NONE;
	return PyUnicode_FromString(s);
}

static PyObject *mod_layer_name(PyObject *mod, PyObject *args)
{
	return bit_name(args, airlock_layer_name);
}

static PyObject *mod_change_name(PyObject *mod, PyObject *args)
{
	return bit_name(args, airlock_change_name);
}

static PyMethodDef mod_methods[] = {
	{ "_init", mod_init, METH_VARARGS, "_init(image_cls, audio_cls, video_cls, make_error)" },
	{ "_finalizing", mod_finalizing, METH_NOARGS, "From now on close() does not wait for requests in flight." },
	{ "version", mod_version, METH_NOARGS, "airlock_version_string()" },
	{ "strerror", mod_strerror, METH_VARARGS, "airlock_strerror(code)" },
	{ "error_name", mod_error_name, METH_VARARGS, "airlock_error_name(code)" },
	{ "error_classify", mod_error_classify, METH_VARARGS, "airlock_error_classify(code)" },
	{ "type_name", mod_type_name, METH_VARARGS, "airlock_type_name(type)" },
	{ "type_mime", mod_type_mime, METH_VARARGS, "airlock_type_mime(type)" },
	{ "layer_name", mod_layer_name, METH_VARARGS, "airlock_layer_name(bit) or None" },
	{ "change_name", mod_change_name, METH_VARARGS, "airlock_change_name(bit) or None" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef moddef = {
	PyModuleDef_HEAD_INIT,
	"_airlock",
	"The C extension over libairlock (docs/python.md).",
	-1,
	mod_methods,
	NULL,
	NULL,
	NULL,
	NULL,
};

static int add_type(PyObject *mod, PyType_Spec *spec, PyTypeObject **out, const char *name)
{
	*out = (PyTypeObject *)PyType_FromSpec(spec);
	if (!*out)
		return -1;
	return PyModule_AddObjectRef(mod, name, (PyObject *)*out);
}

static int add_int(PyObject *mod, const char *name, long v)
{
	return PyModule_AddIntConstant(mod, name, v);
}

PyMODINIT_FUNC PyInit__airlock(void);

PyMODINIT_FUNC PyInit__airlock(void)
{
	PyObject *mod = PyModule_Create(&moddef);
	if (!mod)
		return NULL;
	static int atfork_done;
	if (add_type(mod, &opt_spec, &OptionsType, "Options") < 0 ||
	    add_type(mod, &res_spec, &ResultType, "Result") < 0 ||
	    add_type(mod, &ctx_spec, &ContextType, "Context") < 0 ||
	    add_type(mod, &req_spec, &RequestType, "Request") < 0 ||
	    add_int(mod, "TYPES_IMAGE", AIRLOCK_TYPES_IMAGE) < 0 ||
	    add_int(mod, "TYPES_AUDIO", AIRLOCK_TYPES_AUDIO) < 0 ||
	    add_int(mod, "TYPES_MEDIA", AIRLOCK_TYPES_MEDIA) < 0 ||
	    add_int(mod, "TRACK_VIDEO", AIRLOCK_TRACK_VIDEO) < 0 ||
	    add_int(mod, "TYPES_DEFAULT", AIRLOCK_TYPES_DEFAULT) < 0 ||
	    add_int(mod, "TYPE_COUNT", AIRLOCK_TYPE_COUNT_) < 0 || add_int(mod, "FORMAT_PNG", AIRLOCK_FORMAT_PNG) < 0 ||
	    add_int(mod, "FORMAT_JPEG", AIRLOCK_FORMAT_JPEG) < 0 ||
	    add_int(mod, "FORMAT_RAW", AIRLOCK_FORMAT_RAW) < 0 || add_int(mod, "FORMAT_WAV", AIRLOCK_FORMAT_WAV) < 0 ||
	    add_int(mod, "FORMAT_FLAC", AIRLOCK_FORMAT_FLAC) < 0 ||
	    add_int(mod, "FORMAT_WEBP", AIRLOCK_FORMAT_WEBP) < 0 ||
	    add_int(mod, "SAMPLE_S16", AIRLOCK_SAMPLE_S16) < 0 || add_int(mod, "SAMPLE_F32", AIRLOCK_SAMPLE_F32) < 0) {
		Py_DECREF(mod);
		return NULL;
	}
	if (!atfork_done) {
		pthread_atfork(NULL, NULL, after_fork_child);
		atfork_done = 1;
	}
	return mod;
}
