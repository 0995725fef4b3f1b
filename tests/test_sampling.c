/* SPDX-License-Identifier: MIT */
/*
 * decoders/sampling.c on edge cases worked out by hand from the Python
 * originals (numpy linspace + truncation, float64 + half-even rounding,
 * torch's float32 linspace). tests/vllm/test_sampling.py checks the same
 * functions against the real vLLM and qwen_vl_utils on random cases.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "airlock.h"
#include "sampling.h"
#include "tap.h"

#define MAXN 1024

static uint64_t idx[MAXN];
static uint32_t n;

/* n and idx equal want[0 .. count-1] exactly. */
static int same(const uint64_t *want, uint32_t count)
{
	if (n != count)
		return 0;
	for (uint32_t i = 0; i < count; i++)
		if (idx[i] != want[i])
			return 0;
	return 1;
}

static int iota(uint32_t count)
{
	if (n != count)
		return 0;
	for (uint32_t i = 0; i < count; i++)
		if (idx[i] != i)
			return 0;
	return 1;
}

#define ARR(...) (const uint64_t[]){ __VA_ARGS__ }, sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t)

static void vllm_cases(void)
{
	int e;
	e = sampling_vllm(1, 30, 1, 32, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0)), "vllm: total 1 gives frame 0");
	e = sampling_vllm(2, 30, 1, 32, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 1)), "vllm: total 2 gives both frames");
	n = 777;
	e = sampling_vllm(0, 30, 1, 32, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_MALFORMED && n == 777,
	       "vllm: total 0 is malformed (vLLM itself would pick index 0), n untouched");
	e = sampling_vllm(5, 30, 1, 32, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && iota(5), "vllm: num_frames > total takes every frame (range)");
	e = sampling_vllm(100, 0, 0, 32, 2, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0)), "vllm: fps with an unknown source rate: duration 0, one frame");
	e = sampling_vllm(100, 30, 0, 32, 2, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0)), "vllm: fps_den 0 is an unknown rate too");
	e = sampling_vllm(10, 30, 1, 4, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 3, 6, 9)), "vllm: linspace(0, 9, 4) exact");
	e = sampling_vllm(8, 30, 1, 3, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 3, 7)), "vllm: 3.5 truncates to 3 (dtype=int), no rounding");
	e = sampling_vllm(300, 30, 1, 32, 1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 33, 66, 99, 132, 166, 199, 232, 265, 299)),
	       "vllm: fps 1 on 10 s at 30 fps: floor(duration*fps) = 10 frames");
	e = sampling_vllm(300, 30, 1, -1, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && iota(300), "vllm: nothing set: every frame");
	e = sampling_vllm(1000, 30, 1, 32, -1, 4, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 333, 666, 999)), "vllm: the cap acts as num_frames = 4");
	e = sampling_vllm(4, 30, 1, -1, -1, 4, &n, idx);
	tap_ok(e == AIRLOCK_OK && iota(4), "vllm: cap == total is range(total)");
	e = sampling_vllm(UINT64_MAX, 30, 1, 3, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, UINT64_C(1) << 63, UINT64_MAX - 1)),
	       "vllm: total 2^64-1: no overflow, the last index clamped below total");
	e = sampling_vllm(UINT64_MAX, UINT64_MAX, 1, 32, 1e300, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 32 && idx[31] == UINT64_MAX - 1, "vllm: huge rate and huge target fps: safe");
	e = sampling_vllm(1000, 1, UINT64_MAX, 32, 1e-300, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0)), "vllm: a tiny target fps gives one frame");
	e = sampling_vllm(INT64_MAX, 30, 1, INT64_MAX, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == MAXN && idx[0] == 0 && idx[MAXN - 1] == (uint64_t)INT64_MAX - 1,
	       "vllm: num_frames INT64_MAX capped");
	e = sampling_vllm(10, 30, 1, INT64_MIN, -1e308, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && iota(10), "vllm: negative num_frames and fps mean unset");
}

static void qwen3_cases(void)
{
	int e;
	e = sampling_vllm_qwen3(6, 24, 1, 2, 3, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 2, 5)), "qwen3: 2.5 rounds half to even: 2");
	e = sampling_vllm_qwen3(8, 24, 1, 2, 3, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 4, 7)), "qwen3: 3.5 rounds half to even: 4");
	e = sampling_vllm_qwen3(240, 0, 0, 2, 4, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 20, "qwen3: unknown source rate taken as 24: int(240/24*2) = 20");
	e = sampling_vllm_qwen3(240, 30, 1, 2, 4, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 16, "qwen3: 30 fps source: int(240/30*2) = 16");
	e = sampling_vllm_qwen3(100, 10, 1, 60, 4, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && iota(100), "qwen3: fps 60 capped at 30, n capped at total");
	e = sampling_vllm_qwen3(2, 24, 1, 2, 4, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 1)), "qwen3: min_frames 4 > total 2: both frames");
	e = sampling_vllm_qwen3(1, 24, 1, 2, 4, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0)), "qwen3: total 1: frame 0");
	e = sampling_vllm_qwen3(100000, 1, 1, 2, 4, 5000, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 768 && idx[767] == 99999, "qwen3: max_frames above 768 is 768");
	e = sampling_vllm_qwen3(100000, 1, 1, 2, 4, 768, 100, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 100 && idx[99] == 99999, "qwen3: the cap acts as max_frames");
	n = 777;
	e = sampling_vllm_qwen3(10, 30, 1, 0.5, 0, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_OUT_OF_RANGE && n == 777, "qwen3: min_frames 0 and n 0: out of range (vLLM gives [])");
	e = sampling_vllm_qwen3(10, 30, 1, 2, 4, -1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_OUT_OF_RANGE, "qwen3: negative max_frames: out of range (numpy raises)");
	e = sampling_vllm_qwen3(0, 30, 1, 2, 4, 768, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_MALFORMED, "qwen3: total 0 is malformed");
	e = sampling_vllm_qwen3(19343, 30, 1, 2, 500, 500, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 500 && idx[434] == 16823,
	       "qwen3: float64 linspace: total 19343, n 500, [434] = 16823");
	e = sampling_vllm_qwen3(UINT64_MAX, 1, UINT64_MAX, 1e300, INT64_MIN, INT64_MAX, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 768 && idx[0] == 0 && idx[767] == UINT64_MAX - 1,
	       "qwen3: extreme inputs are safe");
}

static void qwen_utils_cases(void)
{
	int e;
	n = 777;
	e = sampling_qwen_utils(1, 30, 1, 0, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_OUT_OF_RANGE && n == 777, "qwen_utils: total 1 is its ValueError");
	e = sampling_qwen_utils(2, 30, 1, 0, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 1)), "qwen_utils: total 2: both frames");
	e = sampling_qwen_utils(3, 30, 1, 0, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 2)), "qwen_utils: total 3: max_frames floors to 2");
	e = sampling_qwen_utils(0, 30, 1, 0, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_MALFORMED, "qwen_utils: total 0 is malformed");
	e = sampling_qwen_utils(100, 0, 0, 0, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_OUT_OF_RANGE, "qwen_utils: fps mode with an unknown rate (ZeroDivisionError)");
	e = sampling_qwen_utils(10, 0, 0, 5, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 3, 6, 9)), "qwen_utils: nframes 5: round(2.5) = 2, n 4, rate not needed");
	e = sampling_qwen_utils(10, 30, 1, 3, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 4, "qwen_utils: nframes 3: round(1.5) = 2, n 4");
	e = sampling_qwen_utils(10, 30, 1, 1, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_OUT_OF_RANGE, "qwen_utils: nframes 1: round(0.5) = 0, ValueError");
	e = sampling_qwen_utils(10, 30, 1, 12, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_E_OUT_OF_RANGE, "qwen_utils: nframes 12 > total 10: ValueError");
	e = sampling_qwen_utils(19343, 30, 1, 500, 2, 4, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 500 && idx[434] == 16822,
	       "qwen_utils: float32 torch.linspace: total 19343, n 500, [434] = 16822 (numpy: 16823)");
	e = sampling_qwen_utils(300, 30, 1, 0, 2, 5, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 20, "qwen_utils: 10 s at fps 2: 20 frames; min_frames 5 ceils to 6");
	e = sampling_qwen_utils(300, 30, 1, 0, 0.1, 5, SAMPLING_UNSET, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 6, "qwen_utils: 1 frame wanted, min_frames 5 ceils to 6");
	e = sampling_qwen_utils(300, 30, 1, 0, 2, 4, 9, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 8, "qwen_utils: max_frames 9 floors to 8");
	e = sampling_qwen_utils(300, 30, 1, 0, 2, 4, SAMPLING_UNSET, 7, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 6, "qwen_utils: cap 7 acts as max_frames 7, floored to 6");
	e = sampling_qwen_utils(300, 30, 1, 100, 2, 4, SAMPLING_UNSET, 7, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == 6, "qwen_utils: nframes 100 over cap 7: the largest even n, 6");
	e = sampling_qwen_utils(300, 30, 1, 100, 2, 4, SAMPLING_UNSET, 1, &n, idx);
	tap_ok(e == AIRLOCK_E_OUT_OF_RANGE, "qwen_utils: cap 1 leaves no even n");
	e = sampling_qwen_utils(UINT64_MAX, 1, UINT64_MAX, 0, 1e300, INT64_MIN + 1, INT64_MAX, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && n == MAXN && idx[0] == 0 && idx[MAXN - 1] == UINT64_MAX - 1,
	       "qwen_utils: extreme inputs are safe");
}

static void arg_cases(void)
{
	tap_ok(sampling_vllm(10, 30, 1, 4, -1, 0, &n, idx) == AIRLOCK_E_INVALID_ARG, "cap 0 is invalid");
	tap_ok(sampling_vllm(10, 30, 1, 4, -1, SAMPLING_MAX_CAP + 1, &n, idx) == AIRLOCK_E_INVALID_ARG,
	       "cap over SAMPLING_MAX_CAP is invalid");
	tap_ok(sampling_vllm(10, 30, 1, 4, NAN, MAXN, &n, idx) == AIRLOCK_E_INVALID_ARG, "vllm: NaN fps is invalid");
	tap_ok(sampling_vllm_qwen3(10, 30, 1, INFINITY, 4, 768, MAXN, &n, idx) == AIRLOCK_E_INVALID_ARG,
	       "qwen3: infinite fps is invalid");
	tap_ok(sampling_qwen_utils(10, 30, 1, 0, -INFINITY, 4, SAMPLING_UNSET, MAXN, &n, idx) == AIRLOCK_E_INVALID_ARG,
	       "qwen_utils: -inf fps is invalid");
	tap_ok(sampling_vllm(10, 30, 1, 4, -1, MAXN, NULL, idx) == AIRLOCK_E_INVALID_ARG, "NULL n is invalid");
	tap_ok(sampling_vllm(10, 30, 1, 4, -1, MAXN, &n, NULL) == AIRLOCK_E_INVALID_ARG, "NULL idx is invalid");

	struct sampling_request req = { .rule = SAMPLING_VLLM_QWEN3, .fps = 2, .min_frames = 3, .max_frames = 768 };
	int e = sampling_compute(&req, 6, 24, 1, MAXN, &n, idx);
	tap_ok(e == AIRLOCK_OK && same(ARR(0, 2, 5)), "sampling_compute dispatches to the rule named");
	req.rule = 0;
	tap_ok(sampling_compute(&req, 6, 24, 1, MAXN, &n, idx) == AIRLOCK_E_INVALID_ARG, "unknown rule is invalid");
	tap_ok(sampling_compute(NULL, 6, 24, 1, MAXN, &n, idx) == AIRLOCK_E_INVALID_ARG, "NULL request is invalid");
}

int main(void)
{
	vllm_cases();
	qwen3_cases();
	qwen_utils_cases();
	arg_cases();
	return tap_done();
}
