/* SPDX-License-Identifier: MIT */
/*
 * Which decoded frames a video request samples, computed exactly as the
 * serving stacks compute them (issue 18). Pure functions: no globals, no
 * allocation, no I/O; the worker calls them to choose the frames it
 * converts, and the host calls the same ones to check the worker's answer
 * (docs/video-plan.md, "Frame protocol v3").
 *
 * Inputs common to every rule:
 *   total             decoded frames of the video (measured by the worker)
 *   fps_num, fps_den  the video's frame rate as a fraction; either 0 means
 *                     unknown. The stacks see it as the double
 *                     (double)fps_num / (double)fps_den.
 *   cap               airlock's own limit on the number of sampled frames,
 *                     1 ..  SAMPLING_MAX_CAP, and the capacity of idx. It
 *                     acts as if the request had asked for at most cap
 *                     frames (a smaller num_frames or max_frames), so a
 *                     capped answer is still what the stack would pick for
 *                     that smaller request.
 * Outputs, written only on success: *n (1 .. cap) and idx[0 .. *n-1], the
 * 0-based indices among the decoded frames in presentation order,
 * non-decreasing and below total.
 *
 * Errors:
 *   AIRLOCK_E_MALFORMED     total == 0: a video with no decoded frame
 *   AIRLOCK_E_OUT_OF_RANGE  the stack would pick no frame, or raises
 *                           (qwen_vl_utils' ValueError; its fps mode on a
 *                           video of unknown rate, a ZeroDivisionError)
 *   AIRLOCK_E_INVALID_ARG   NULL pointers, cap out of range, a target fps
 *                           that is not finite
 *
 * Exactness: every result equals the Python original's (tests/vllm/
 * test_sampling.py runs the real functions) while the integer inputs are at
 * most 2^53 in magnitude, in the default rounding mode (to nearest). The one
 * FMA torch does is an explicit fmaf(); sampling.c has no a*b+c that a
 * compiler could contract, and the Python test passes as well when built
 * with -ffp-contract=fast -march=native (gcc 12, clang 14, FMA CPU). One
 * deliberate difference: an index the original gives past the last frame is
 * total - 1 here. torch's float32 linspace gives such an index once total-1
 * no longer fits a float (above 2^24, float32(total-1) may round up), and
 * numpy's float64 one can above 2^53 (not tested). Past 2^53 the Python
 * originals convert integers to float in ways this C does not follow bit for
 * bit; there the results are only guaranteed safe: no overflow, *n <= cap,
 * every index < total.
 */
#ifndef AIRLOCK_SAMPLING_H
#define AIRLOCK_SAMPLING_H

#include <stdint.h>

/* The largest cap: indices fit a float exactly below it (torch.linspace's float32), and n*16 bytes stays small. */
#define SAMPLING_MAX_CAP (1u << 20)

/* qwen_vl_utils' max_frames when the request gives none: min(768, total). */
#define SAMPLING_UNSET INT64_MIN

/* The rules by number: part of the frame protocol (the request names its rule), never renumbered. */
enum sampling_rule {
	SAMPLING_VLLM = 1,	 /* vLLM 0.34 VideoBackend ("opencv", the default loader) */
	SAMPLING_VLLM_QWEN3 = 2, /* vLLM 0.34 Qwen3VLVideoBackend */
	SAMPLING_QWEN_UTILS = 3, /* qwen_vl_utils 0.0.14 smart_nframes + torch.linspace */
};

/* Defaults of the stacks, for callers that fill in what a request left out. */
#define SAMPLING_VLLM_NUM_FRAMES   32  /* vLLM's VideoMediaIO; its fps default is -1 (unset) */
#define SAMPLING_QWEN3_FPS	   2.0 /* Qwen3VLVideoBackend.load_bytes */
#define SAMPLING_QWEN3_MIN_FRAMES  4
#define SAMPLING_QWEN3_MAX_FRAMES  768 /* also the rule's own ceiling */
#define SAMPLING_QWEN3_MAX_FPS	   30
#define SAMPLING_QWEN3_UNKNOWN_FPS 24.0
#define SAMPLING_QWEN_UTILS_FPS	   2.0
#define SAMPLING_QWEN_UTILS_MIN	   4

/*
 * vLLM VideoBackend.compute_frames_index_to_sample. num_frames <= 0 and
 * fps <= 0 mean unset, as in vLLM (its -1). duration is total / source fps,
 * or 0 when the source rate is unknown (OpenCVVideoBackendMixin).
 *   n = total; num_frames > 0: n = min(num_frames, total);
 *   fps > 0: n = min(n, floor(duration * fps)); n = max(1, n);
 *   idx = range(n) if n == total else np.linspace(0, total-1, n, dtype=int)
 */
int sampling_vllm(uint64_t total, uint64_t fps_num, uint64_t fps_den, int64_t num_frames, double fps, uint32_t cap,
		  uint32_t *n, uint64_t *idx);

/*
 * vLLM Qwen3VLVideoBackend.compute_frames_index_to_sample, with its kwargs
 * given (pass the SAMPLING_QWEN3_ defaults where the request has none).
 * An unknown source rate is taken as 24; fps is capped at 30, max_frames at 768.
 *   n = min(max(int(total / src_fps * fps), min_frames), max_frames, total)
 *   idx = np.linspace(0, total-1, n).round()   (float64, half to even)
 */
int sampling_vllm_qwen3(uint64_t total, uint64_t fps_num, uint64_t fps_den, double fps, int64_t min_frames,
			int64_t max_frames, uint32_t cap, uint32_t *n, uint64_t *idx);

/*
 * qwen_vl_utils 0.0.14 smart_nframes, then torch.linspace(0, total-1, n)
 * .round().long() as its readers do (without video_start/video_end).
 * nframes > 0 selects its nframes mode (round_by_factor(nframes, 2));
 * otherwise its fps mode with fps, min_frames and max_frames
 * (SAMPLING_UNSET: min(768, total)). FRAME_FACTOR 2: n is even, and
 * 2 <= n <= total or AIRLOCK_E_OUT_OF_RANGE (its ValueError). The cap is
 * applied as max_frames (fps mode) or as the largest even n (nframes mode).
 * torch.linspace is float32 and is reproduced as torch's CPU kernel
 * computes it: one fused multiply-add from the start for the first half,
 * from the end for the second.
 */
int sampling_qwen_utils(uint64_t total, uint64_t fps_num, uint64_t fps_den, int64_t nframes, double fps,
			int64_t min_frames, int64_t max_frames, uint32_t cap, uint32_t *n, uint64_t *idx);

/* A request's sampling as the frame protocol carries it; which fields a rule reads is said above. */
struct sampling_request {
	uint32_t rule;	    /* enum sampling_rule */
	int64_t num_frames; /* vLLM num_frames; qwen_vl_utils nframes */
	double fps;	    /* the target rate */
	int64_t min_frames; /* Qwen rules */
	int64_t max_frames; /* Qwen rules */
};

/* The rule req names, with the arguments above; an unknown rule is AIRLOCK_E_INVALID_ARG. */
int sampling_compute(const struct sampling_request *req, uint64_t total, uint64_t fps_num, uint64_t fps_den,
		     uint32_t cap, uint32_t *n, uint64_t *idx);

#endif
