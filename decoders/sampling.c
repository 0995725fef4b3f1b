/* SPDX-License-Identifier: MIT */
/*
 * The frame indices each stack samples (sampling.h). The float arithmetic
 * below is the stacks' own, operation for operation: numpy's linspace in
 * float64, torch's CPU linspace in float32 with its FMA, Python's int/float
 * conversions. Reordering or "simplifying" any expression changes indices.
 * Research: /work/r18/REPORT.md section 5 (462 of 5770 cases differ by one
 * frame between numpy and torch, so the two linspaces are kept apart).
 */
#include "sampling.h"

#include <math.h>
#include <stddef.h>

#include "airlock.h"

/* 2^64 as a double: a double below it converts to uint64_t without overflow. */
#define TWO_POW_64 18446744073709551616.0

/* The source rate as the stacks see it (OpenCV's CAP_PROP_FPS is num/den in double), or 0 when unknown. */
static double source_fps(uint64_t fps_num, uint64_t fps_den)
{
	if (fps_num == 0 || fps_den == 0)
		return 0.0;
	return (double)fps_num / (double)fps_den;
}

/* A non-negative integer-valued (or larger) double as an index below total: saturating, never undefined. */
static uint64_t index_below(double v, uint64_t total)
{
	uint64_t i = v >= TWO_POW_64 ? UINT64_MAX : v > 0 ? (uint64_t)v : 0;
	return i < total ? i : total - 1;
}

/* numpy's round() and torch's round(): to nearest, ties to even; for x >= 0, where x - floor(x) is exact. */
static double round_half_even(double x)
{
	double f = floor(x), r = x - f;
	if (r > 0.5 || (r == 0.5 && fmod(f, 2.0) != 0.0))
		return f + 1.0;
	return f;
}

static float round_half_evenf(float x)
{
	float f = floorf(x), r = x - f;
	if (r > 0.5f || (r == 0.5f && fmodf(f, 2.0f) != 0.0f))
		return f + 1.0f;
	return f;
}

/*
 * np.linspace(0, total-1, n)[i] in float64 (numpy 2.3, function_base.py):
 * y = arange(n) * ((stop - 0) / (n - 1)) + 0, and y[-1] = stop exactly.
 */
static double np_linspace(uint64_t total, uint32_t n, uint32_t i)
{
	if (n == 1)
		return 0.0;
	double stop = (double)(total - 1), step = stop / (double)(n - 1);
	return i == n - 1 ? stop : (double)i * step;
}

/*
 * torch.linspace(0, total-1, n)[i] in float32 as torch 2.14's CPU kernel
 * computes it (RangeFactoriesKernel.cpp): step = (end - start) / (n - 1) in
 * float; below n/2 start + step*i, from there end - step*(n-1-i), each with
 * one rounding: the vectorised kernel uses FMA, and so does fmaf() here on
 * any CPU (glibc's fmaf is exact in software too).
 */
static float torch_linspace(uint64_t total, uint32_t n, uint32_t i)
{
	if (n == 1)
		return 0.0f;
	const float start = 0.0f, end = (float)(total - 1), step = (end - start) / (float)(n - 1);
	return i < n / 2 ? fmaf(step, (float)i, start) : fmaf(-step, (float)(n - 1 - i), end);
}

static int check_args(uint32_t cap, const uint32_t *n, const uint64_t *idx, double fps)
{
	if (n == NULL || idx == NULL || cap == 0 || cap > SAMPLING_MAX_CAP || !isfinite(fps))
		return AIRLOCK_E_INVALID_ARG;
	return AIRLOCK_OK;
}

int sampling_vllm(uint64_t total, uint64_t fps_num, uint64_t fps_den, int64_t num_frames, double fps, uint32_t cap,
		  uint32_t *n, uint64_t *idx)
{
	int err = check_args(cap, n, idx, fps);
	if (err != AIRLOCK_OK)
		return err;
	if (total == 0)
		return AIRLOCK_E_MALFORMED;

	uint64_t m = total;
	if (num_frames > 0 && (uint64_t)num_frames < m)
		m = (uint64_t)num_frames;
	if (fps > 0) {
		/* duration = total / fps or 0 (OpenCVVideoBackendMixin); math.floor(duration * fps) */
		double src = source_fps(fps_num, fps_den);
		double duration = src > 0 ? (double)total / src : 0.0;
		double x = floor(duration * fps);
		if (x < TWO_POW_64 && (uint64_t)x < m)
			m = (uint64_t)x;
	}
	if (m < 1)
		m = 1;
	/* The cap acts as num_frames = min(num_frames, cap): before the n == total test. */
	if (m > cap)
		m = cap;

	for (uint32_t i = 0; i < (uint32_t)m; i++)
		idx[i] = m == total ? i : index_below(floor(np_linspace(total, (uint32_t)m, i)), total); /* dtype=int */
	*n = (uint32_t)m;
	return AIRLOCK_OK;
}

int sampling_vllm_qwen3(uint64_t total, uint64_t fps_num, uint64_t fps_den, double fps, int64_t min_frames,
			int64_t max_frames, uint32_t cap, uint32_t *n, uint64_t *idx)
{
	int err = check_args(cap, n, idx, fps);
	if (err != AIRLOCK_OK)
		return err;
	if (total == 0)
		return AIRLOCK_E_MALFORMED;

	double src = source_fps(fps_num, fps_den);
	if (src <= 0)
		src = SAMPLING_QWEN3_UNKNOWN_FPS; /* _prepare_source */
	if (fps > SAMPLING_QWEN3_MAX_FPS)
		fps = SAMPLING_QWEN3_MAX_FPS;
	int64_t hi = max_frames < SAMPLING_QWEN3_MAX_FRAMES ? max_frames : SAMPLING_QWEN3_MAX_FRAMES;
	if (hi > (int64_t)cap)
		hi = cap;

	/* min(max(int(total / src * fps), min_frames), max_frames, total), in double: hi <= cap keeps it small */
	double v = trunc((double)total / src * fps);
	if (v < (double)min_frames)
		v = (double)min_frames;
	if (v > (double)hi)
		v = (double)hi;
	if (v > (double)total)
		v = (double)total;
	if (v < 1)
		return AIRLOCK_E_OUT_OF_RANGE; /* np.linspace(..., 0) is [], a negative count raises */

	uint32_t m = (uint32_t)v;
	for (uint32_t i = 0; i < m; i++)
		idx[i] = index_below(round_half_even(np_linspace(total, m, i)), total);
	*n = m;
	return AIRLOCK_OK;
}

int sampling_qwen_utils(uint64_t total, uint64_t fps_num, uint64_t fps_den, int64_t nframes, double fps,
			int64_t min_frames, int64_t max_frames, uint32_t cap, uint32_t *n, uint64_t *idx)
{
	int err = check_args(cap, n, idx, fps);
	if (err != AIRLOCK_OK)
		return err;
	if (total == 0)
		return AIRLOCK_E_MALFORMED;

	double r;
	if (nframes > 0) {
		r = round_half_even((double)nframes / 2.0) * 2.0; /* round_by_factor: Python's round() */
		if (r > (double)cap)
			r = floor((double)cap / 2.0) * 2.0;
	} else {
		double src = source_fps(fps_num, fps_den);
		if (src <= 0)
			return AIRLOCK_E_OUT_OF_RANGE; /* total / video_fps: ZeroDivisionError */
		double lo = ceil((double)min_frames / 2.0) * 2.0;
		int64_t mx = max_frames;
		if (mx == SAMPLING_UNSET)
			mx = total < 768 ? (int64_t)total : 768; /* min(FPS_MAX_FRAMES, total_frames) */
		if (mx > (int64_t)cap)
			mx = cap;
		double hi = floor((double)mx / 2.0) * 2.0;
		double x = (double)total / src * fps;
		if (x < lo)
			x = lo;
		if (x > hi)
			x = hi;
		if (x > (double)total)
			x = (double)total;
		r = floor(x / 2.0) * 2.0;
	}
	if (!(r >= 2.0 && r <= (double)total))
		return AIRLOCK_E_OUT_OF_RANGE; /* "nframes should in interval [2, total_frames]" */

	uint32_t m = (uint32_t)r; /* r <= cap here */
	for (uint32_t i = 0; i < m; i++)
		idx[i] = index_below(round_half_evenf(torch_linspace(total, m, i)), total);
	*n = m;
	return AIRLOCK_OK;
}

int sampling_compute(const struct sampling_request *req, uint64_t total, uint64_t fps_num, uint64_t fps_den,
		     uint32_t cap, uint32_t *n, uint64_t *idx)
{
	if (req == NULL)
		return AIRLOCK_E_INVALID_ARG;
	switch (req->rule) {
	case SAMPLING_VLLM: return sampling_vllm(total, fps_num, fps_den, req->num_frames, req->fps, cap, n, idx);
	case SAMPLING_VLLM_QWEN3:
		return sampling_vllm_qwen3(total, fps_num, fps_den, req->fps, req->min_frames, req->max_frames, cap, n,
					   idx);
	case SAMPLING_QWEN_UTILS:
		return sampling_qwen_utils(total, fps_num, fps_den, req->num_frames, req->fps, req->min_frames,
					   req->max_frames, cap, n, idx);
	default: return AIRLOCK_E_INVALID_ARG;
	}
}
