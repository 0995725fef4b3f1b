# SPDX-License-Identifier: MIT
"""decoders/sampling.c against the real Python it reproduces: vLLM 0.34's
``VideoBackend.compute_frames_index_to_sample`` (the default "opencv" loader) and
``Qwen3VLVideoBackend.compute_frames_index_to_sample`` (vllm/multimodal/video.py), and
qwen_vl_utils 0.0.14's ``smart_nframes`` followed by ``torch.linspace(0, total - 1, n).round().long()``
as its decord and torchcodec readers do (qwen_vl_utils/vision_process.py). Nothing is stubbed:
the functions are imported as installed in the vLLM environment.

The C is loaded with ctypes from a shared library this module builds itself
(``cc -std=c11 -ffp-contract=off -O2 -shared -fPIC decoders/sampling.c -lm``, the flags meson
builds it with), so the test needs neither meson's build directory nor the airlock wheel: the
conftest's ``airlock_plugin`` fixture (the connector installed in this environment) is overridden
here, and ``python -m pytest tests/vllm/test_sampling.py`` runs in any environment with vLLM,
torch, qwen_vl_utils and a C compiler.

Every random case is one comparison; a rule's cases run in one test that reports the first
mismatches (4000 cases a rule). What the C answers where Python has no frame list (qwen_vl_utils'
ValueError and ZeroDivisionError, vLLM's empty list or numpy's ValueError) is AIRLOCK_E_OUT_OF_RANGE;
a video of no frame is AIRLOCK_E_MALFORMED whatever the stack would do.
"""

from __future__ import annotations

import ctypes
import logging
import math
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]

# airlock.h's error codes the C returns (never renumbered).
E_OK, E_MALFORMED, E_OUT_OF_RANGE = 0, 1, 10
MAX_CAP = 1 << 20  # SAMPLING_MAX_CAP
UNSET = -(2**63)  # SAMPLING_UNSET
CASES = 4000

# (num, den) source rates: the common ones, NTSC, Matroska's millisecond rates, unknown.
RATES = [(24, 1), (25, 1), (30, 1), (30000, 1001), (24000, 1001), (60000, 1001), (50, 1), (60, 1), (120, 1),
         (25, 2), (1, 1), (1000, 33), (0, 0), (0, 1), (30, 0)]
TOTALS = [0, 1, 2, 3, 4, 5, 7, 8, 10, 31, 32, 33, 100, 450, 767, 768, 769, 1000, 1799, 1800, 3600, 9000, 19343, 54000]


@pytest.fixture(scope="session", autouse=True)
def airlock_plugin() -> None:
    """Overrides the conftest's: this module tests C against vLLM and needs no airlock wheel."""


class Sampling:
    """The three C functions through ctypes; each call returns (code, indices)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        u64, i64, u32, dbl = ctypes.c_uint64, ctypes.c_int64, ctypes.c_uint32, ctypes.c_double
        out = [ctypes.POINTER(u32), ctypes.POINTER(u64)]
        self._vllm = lib.sampling_vllm
        self._vllm.argtypes = [u64, u64, u64, i64, dbl, u32, *out]
        self._qwen3 = lib.sampling_vllm_qwen3
        self._qwen3.argtypes = [u64, u64, u64, dbl, i64, i64, u32, *out]
        self._utils = lib.sampling_qwen_utils
        self._utils.argtypes = [u64, u64, u64, i64, dbl, i64, i64, u32, *out]
        for f in (self._vllm, self._qwen3, self._utils):
            f.restype = ctypes.c_int
        self._n = ctypes.c_uint32(0)
        self._idx = (ctypes.c_uint64 * MAX_CAP)()

    def _run(self, f: Any, *args: Any) -> tuple[int, list[int]]:
        self._n.value = 0xDEADBEEF
        code = f(*args, ctypes.byref(self._n), self._idx)
        if code != E_OK:
            assert self._n.value == 0xDEADBEEF, "n written on an error"
            return code, []
        return code, self._idx[: self._n.value]

    def vllm(self, total: int, rate: tuple[int, int], num_frames: int, fps: float, cap: int) -> tuple[int, list[int]]:
        return self._run(self._vllm, total, rate[0], rate[1], num_frames, fps, cap)

    def qwen3(self, total: int, rate: tuple[int, int], fps: float, mn: int, mx: int, cap: int) -> tuple[int, list[int]]:
        return self._run(self._qwen3, total, rate[0], rate[1], fps, mn, mx, cap)

    def utils(
        self, total: int, rate: tuple[int, int], nframes: int, fps: float, mn: int, mx: int, cap: int
    ) -> tuple[int, list[int]]:
        return self._run(self._utils, total, rate[0], rate[1], nframes, fps, mn, mx, cap)


@pytest.fixture(scope="module")
def c(tmp_path_factory: pytest.TempPathFactory) -> Sampling:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler (cc) to build decoders/sampling.c with", pytrace=False)
    so = tmp_path_factory.mktemp("sampling") / "libsampling.so"
    subprocess.run(
        [cc, "-std=c11", "-ffp-contract=off", "-O2", "-shared", "-fPIC", "-I", str(ROOT / "include"),
         "-I", str(ROOT / "decoders"), str(ROOT / "decoders" / "sampling.c"), "-o", str(so), "-lm"],
        check=True,
    )
    return Sampling(ctypes.CDLL(str(so)))


def src_fps(rate: tuple[int, int]) -> float:
    """The source rate as OpenCV's CAP_PROP_FPS gives it, 0 when unknown (the C's reading)."""
    return float(rate[0]) / float(rate[1]) if rate[0] and rate[1] else 0.0


# ---- the Python originals, each called exactly as its stack calls it ----


def py_vllm(total: int, rate: tuple[int, int], num_frames: int, fps: float) -> Optional[list[int]]:
    from vllm.multimodal.video import VideoBackend
    from vllm.multimodal.video_decoders.base import VideoSourceMetadata, VideoTargetMetadata

    ofps = src_fps(rate)
    # OpenCVVideoBackendMixin.get_video_metadata (video_decoders/opencv.py): duration from the count.
    duration = total / ofps if ofps > 0 else 0
    source = VideoSourceMetadata(total, ofps, duration)
    out: list[int] = VideoBackend.compute_frames_index_to_sample(source, VideoTargetMetadata(num_frames, fps, 300))
    return out


def py_qwen3(total: int, rate: tuple[int, int], fps: float, mn: int, mx: int) -> Optional[list[int]]:
    from vllm.multimodal.video import Qwen3VLVideoBackend
    from vllm.multimodal.video_decoders.base import VideoSourceMetadata, VideoTargetMetadata

    ofps = src_fps(rate)
    source = VideoSourceMetadata(total, ofps, total / ofps if ofps > 0 else 0)
    try:
        out: list[int] = Qwen3VLVideoBackend.compute_frames_index_to_sample(
            source, VideoTargetMetadata(-1, fps, 300), min_frames=mn, max_frames=mx
        )
    except ValueError:  # np.linspace with a negative count
        return None
    return out or None


def py_utils(total: int, rate: tuple[int, int], ele: dict[str, Any]) -> Optional[list[int]]:
    import torch
    from qwen_vl_utils.vision_process import smart_nframes

    try:
        n = smart_nframes(ele, total_frames=total, video_fps=src_fps(rate))
    except (ValueError, ZeroDivisionError):
        return None
    out: list[int] = torch.linspace(0, total - 1, n).round().long().tolist()
    return out


# ---- the cap, as the request the C treats it as ----


def vllm_request(num_frames: int, cap: int) -> int:
    """num_frames for vLLM that asks what the C computes with its cap: min(num_frames, cap)."""
    if cap >= MAX_CAP:
        return num_frames
    return cap if num_frames <= 0 else min(num_frames, cap)


def utils_ele(total: int, nframes: int, fps: float, mn: int, mx: int, cap: int) -> dict[str, Any]:
    from qwen_vl_utils.vision_process import FRAME_FACTOR, round_by_factor

    if nframes > 0:
        if round_by_factor(nframes, FRAME_FACTOR) > cap:
            nframes = cap // FRAME_FACTOR * FRAME_FACTOR
        return {"nframes": nframes}
    ele: dict[str, Any] = {"fps": fps, "min_frames": mn}
    if mx != UNSET:
        ele["max_frames"] = mx
    if cap < (min(768, total) if mx == UNSET else mx):
        ele["max_frames"] = cap
    return ele


def expect(py: Optional[list[int]], total: int) -> tuple[int, list[int]]:
    """What the C must answer where Python gives py. An index past the last frame, which torch's float32
    linspace gives once total - 1 no longer fits a float (above 2^24: float32(total - 1) rounds up), is
    the last frame in the C; below 2^24 no such index may appear at all."""
    if total == 0:
        return E_MALFORMED, []
    if py is None:
        return E_OUT_OF_RANGE, []
    if any(i >= total for i in py):
        assert total - 1 > 2**24, f"an index past the last frame from Python at total={total}"
        py = [min(i, total - 1) for i in py]
    return E_OK, py


def pick_total(rng: random.Random, big: bool) -> int:
    r = rng.random()
    if r < 0.4:
        return rng.choice(TOTALS) + rng.randint(0, 3)
    if r < 0.8 or not big:
        return rng.randint(1, 200_000)
    return rng.randint(1, 2**53)


def pick_rate(rng: random.Random) -> tuple[int, int]:
    if rng.random() < 0.8:
        return rng.choice(RATES)
    return rng.randint(1, 240_000), rng.randint(1, 10_000)


def pick_fps(rng: random.Random) -> float:
    return rng.choice([-1, 0, 0.5, 1, 2, 4, 30, 60, rng.uniform(0.01, 60), rng.uniform(0.01, 3)])


def run_cases(check: Callable[[random.Random], Optional[str]], seed: int) -> None:
    rng = random.Random(seed)
    bad = [msg for msg in (check(rng) for _ in range(CASES)) if msg is not None]
    assert not bad, f"{len(bad)} of {CASES} differ; first: " + "; ".join(bad[:5])


def test_vllm_default_loader(c: Sampling) -> None:
    def case(rng: random.Random) -> Optional[str]:
        total, rate = pick_total(rng, big=True), pick_rate(rng)
        num_frames = rng.choice([-1, 0, 1, 2, 3, 8, 16, 32, 64, 768, rng.randint(1, 5000)])
        fps = pick_fps(rng)
        cap = MAX_CAP if total <= 200_000 and rng.random() < 0.7 else rng.randint(1, 2000)
        want = expect(py_vllm(total, rate, vllm_request(num_frames, cap), fps), total)
        got = c.vllm(total, rate, num_frames, fps, cap)
        return None if got == want else f"total={total} rate={rate} num_frames={num_frames} fps={fps} cap={cap}"

    run_cases(case, 1801)


def test_vllm_qwen3_backend(c: Sampling) -> None:
    def case(rng: random.Random) -> Optional[str]:
        total, rate = pick_total(rng, big=True), pick_rate(rng)
        fps = pick_fps(rng)
        mn = rng.choice([4, 4, 1, 0, 2, 7, rng.randint(0, 1000)])
        mx = rng.choice([768, 768, 32, 64, 2000, 1, 0, -3, rng.randint(1, 1000)])
        cap = MAX_CAP if rng.random() < 0.7 else rng.randint(1, 1000)
        want = expect(py_qwen3(total, rate, fps, mn, min(mx, cap)), total)
        got = c.qwen3(total, rate, fps, mn, mx, cap)
        return None if got == want else f"total={total} rate={rate} fps={fps} min={mn} max={mx} cap={cap}"

    run_cases(case, 1802)


def test_qwen_vl_utils(c: Sampling) -> None:
    logging.getLogger("qwen_vl_utils").setLevel(logging.ERROR)  # its "nframes > total_frames" warning

    def case(rng: random.Random) -> Optional[str]:
        total, rate = pick_total(rng, big=True), pick_rate(rng)
        nframes = rng.randint(1, 1000) if rng.random() < 0.3 else 0
        fps = pick_fps(rng) if nframes == 0 else 2.0
        mn = rng.choice([4, 4, 1, 0, 5, 7, rng.randint(0, 1000)])
        mx = rng.choice([UNSET, UNSET, 768, 9, 64, 2000, 1, rng.randint(1, 1000)])
        cap = MAX_CAP if rng.random() < 0.7 else rng.randint(1, 1000)
        ele = utils_ele(total, nframes, fps, mn, mx, cap)
        want = expect(py_utils(total, rate, ele), total)
        got = c.utils(total, rate, nframes, fps, mn, mx, cap)
        return None if got == want else f"total={total} rate={rate} ele={ele} mx={mx} cap={cap}"

    run_cases(case, 1803)


# ---- edge cases, one test each ----


@pytest.mark.parametrize("total", [1, 2, 3, 31, 32, 33])
@pytest.mark.parametrize("num_frames", [-1, 1, 2, 32])
def test_vllm_small_totals(c: Sampling, total: int, num_frames: int) -> None:
    assert c.vllm(total, (30, 1), num_frames, -1, MAX_CAP) == (E_OK, py_vllm(total, (30, 1), num_frames, -1))


def test_vllm_total_zero(c: Sampling) -> None:
    """vLLM picks frame 0 of a video with no frame (np.linspace(0, -1, 1)); airlock refuses it."""
    assert py_vllm(0, (30, 1), 32, -1) == [0]
    assert c.vllm(0, (30, 1), 32, -1, MAX_CAP) == (E_MALFORMED, [])


def test_vllm_unknown_rate_with_fps(c: Sampling) -> None:
    for rate in [(0, 0), (0, 1), (30, 0)]:
        assert c.vllm(100, rate, 32, 2, MAX_CAP) == (E_OK, py_vllm(100, rate, 32, 2)) == (E_OK, [0])


def test_vllm_huge_total(c: Sampling) -> None:
    for total in [2**31, 2**32 + 1, 2**53 - 1, 2**53]:
        assert c.vllm(total, (30000, 1001), 32, -1, MAX_CAP) == (E_OK, py_vllm(total, (30000, 1001), 32, -1))


@pytest.mark.parametrize("total", [4, 6, 8, 10, 12, 14, 22, 26, 30])
def test_qwen3_rounding_ties(c: Sampling, total: int) -> None:
    """np.linspace(0, total-1, 3) has a .5 in the middle for even totals: half to even."""
    assert c.qwen3(total, (24, 1), 2, 3, 3, MAX_CAP) == (E_OK, py_qwen3(total, (24, 1), 2, 3, 3))


@pytest.mark.parametrize("total", [0, 1, 2, 3])
def test_qwen3_small_totals(c: Sampling, total: int) -> None:
    assert c.qwen3(total, (24, 1), 2, 4, 768, MAX_CAP) == expect(py_qwen3(total, (24, 1), 2, 4, 768), total)


def test_qwen3_unknown_rate_is_24(c: Sampling) -> None:
    assert c.qwen3(240, (0, 0), 2, 4, 768, MAX_CAP) == (E_OK, py_qwen3(240, (24, 1), 2, 4, 768))


@pytest.mark.parametrize("total", [0, 1, 2, 3, 4, 5])
def test_qwen_utils_small_totals(c: Sampling, total: int) -> None:
    """qwen_vl_utils raises on a video of one frame; the C says out of range."""
    want = expect(py_utils(total, (30, 1), {"fps": 2.0}), total)
    assert c.utils(total, (30, 1), 0, 2.0, 4, UNSET, MAX_CAP) == want
    if total == 1:
        assert want == (E_OUT_OF_RANGE, [])


def test_qwen_utils_unknown_rate(c: Sampling) -> None:
    assert py_utils(100, (0, 0), {"fps": 2.0}) is None
    assert c.utils(100, (0, 0), 0, 2.0, 4, UNSET, MAX_CAP) == (E_OUT_OF_RANGE, [])


@pytest.mark.parametrize("nframes", [1, 2, 3, 5, 7, 9, 11])
def test_qwen_utils_nframes_rounding_ties(c: Sampling, nframes: int) -> None:
    """round_by_factor is Python's round(): nframes/2 = 0.5, 1.5, 2.5 ... go to even."""
    want = expect(py_utils(50, (30, 1), {"nframes": nframes}), 50)
    assert c.utils(50, (30, 1), nframes, 2.0, 4, UNSET, MAX_CAP) == want


def test_qwen_utils_float32_linspace(c: Sampling) -> None:
    """The case where torch's float32 linspace and numpy's float64 one differ by a frame."""
    torch_idx = py_utils(19343, (30, 1), {"nframes": 500})
    assert torch_idx is not None and torch_idx[434] == 16822
    assert c.utils(19343, (30, 1), 500, 2.0, 4, UNSET, MAX_CAP) == (E_OK, torch_idx)
    assert c.qwen3(19343, (30, 1), 2, 500, 500, MAX_CAP)[1][434] == 16823


def test_qwen_utils_linspace_sweep(c: Sampling) -> None:
    """Every even n up to 768 on a spread of totals, through the nframes mode: the fmaf rule throughout."""
    bad = []
    for total in list(range(2, 200)) + list(range(200, 200_000, 1499)):
        for n in range(2, min(total, 768) + 1, 2):
            if n > 64 and n % 16 and n not in (100, 500, 766):
                continue
            want = expect(py_utils(total, (30, 1), {"nframes": n}), total)
            if c.utils(total, (30, 1), n, 2.0, 4, UNSET, MAX_CAP) != want:
                bad.append((total, n))
    assert not bad, f"{len(bad)} differ, first {bad[:5]}"


def test_float_inputs_are_finite(c: Sampling) -> None:
    assert c.vllm(10, (30, 1), 4, math.nan, MAX_CAP)[0] == 40
    assert c.qwen3(10, (30, 1), math.inf, 4, 768, MAX_CAP)[0] == 40
