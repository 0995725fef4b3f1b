# SPDX-License-Identifier: MIT
"""Video (Sanitizer.video, AIRLOCK_TRACK_VIDEO) on the fixtures of corpus/video.tsv (written by
corpus/gen_video.sh), sandboxed, against independent references:

- the frame count, rate, size and rotation are ffprobe's (the manifest's columns);
- the indices of the "vllm" and "qwen3" rules are vLLM's formulas written out here with numpy
  (np.linspace(0, total-1, n, dtype=int), and .round() for Qwen3-VL); tests/vllm/test_sampling.py
  proves the C rules equal to the real functions, this proves the worker feeds them ffprobe's count
  and rate;
- each sampled frame's time is ffprobe's best-effort pts of that decoded frame, relative to the
  first (tests/python/scripts/videoref.py, pts_us());
- the pixels are the ffmpeg tool's decode of the same frames with the same swscale flags
  (videoref.frames(): select, scale=flags=bicubic, format=rgb24, and the
  display matrix applied by numpy), compared exactly;
- a downscaled frame's size is the budget formula of docs/api.md computed here with math.isqrt, and
  its pixels again the ffmpeg tool's scale to that size.

Then the limits (each as its exact error and limit), the refusals (unsupported codecs, a file
without video, the allowlist), encode(), asyncio, and no descriptor or process left behind.
Nothing is skipped: without ffmpeg and ffprobe the tests fail.
"""

from __future__ import annotations

import asyncio
import io
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest
import videoref

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(300)

MANIFEST = airtest.CORPUS / "video.tsv"


@dataclass(frozen=True)
class VideoRow:
    path: str
    container: str
    codec: str
    pix_fmt: str
    width: int
    height: int
    rotation: int  # ffprobe's: counter-clockwise degrees of the display matrix
    frames: int
    avg_frame_rate: str
    outcome: str
    desc: str

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def file(self) -> Path:
        return airtest.ROOT / self.path

    @property
    def turn(self) -> int:
        """The clockwise rotation airlock reports (and ffmpeg's autorotate applies)."""
        return (-self.rotation) % 360

    @property
    def out_size(self) -> tuple[int, int]:
        return (self.height, self.width) if self.turn in (90, 270) else (self.width, self.height)


def _rows() -> list[VideoRow]:
    rows = []
    header: list[str] | None = None
    for line in MANIFEST.read_text().splitlines():
        if line.startswith("# file\t"):
            header = line[2:].split("\t")
            continue
        if not line or line.startswith("#"):
            continue
        assert header is not None, "video.tsv has no column header"
        f = dict(zip(header, line.split("\t")))
        rows.append(VideoRow(path=f["file"], container=f["container"], codec=f["codec"], pix_fmt=f["pix_fmt"],
                             width=int(f["width"]), height=int(f["height"]), rotation=int(f["rotation"]),
                             frames=int(f["frames"]), avg_frame_rate=f["avg_frame_rate"],
                             outcome=f["outcome_video"], desc=f["description"]))
    return rows


ROWS = _rows()
OK_ROWS = [r for r in ROWS if r.outcome == "ok"]
BAD_ROWS = [r for r in ROWS if r.outcome != "ok"]


def _row(name: str) -> VideoRow:
    return next(r for r in ROWS if r.id == name)


@cache
def _pts(path: str) -> list[int]:
    return list(videoref.pts_us(airtest.ROOT / path))


@cache
def _streams(path: str) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=index", "-of", "csv=p=0",
                          str(airtest.ROOT / path)], check=True, capture_output=True, text=True).stdout
    return len(out.split())


def expected_fps(row: VideoRow) -> Fraction:
    """The rate the rule is given (docs/api.md, "Video"): ffprobe's average rate when the frames' times
    (frames - 1 over their span) agree with it within a factor of two, else the times' rate."""
    stated = Fraction(row.avg_frame_rate)
    span = _pts(row.path)[-1]
    if row.frames < 2 or span <= 0:
        return stated
    measured = Fraction((row.frames - 1) * 10**6, span)
    return stated if measured / 2 <= stated <= 2 * measured else measured.limit_denominator(1001000)


def vllm_indices(total: int, num_frames: int = 32) -> list[int]:
    """vLLM 0.34 VideoBackend.compute_frames_index_to_sample with fps unset."""
    n = min(num_frames, total)
    if n == total:
        return list(range(n))
    return [int(i) for i in np.linspace(0, total - 1, n, dtype=int)]


def qwen3_indices(total: int, src_fps: float, fps: float = 2.0, lo: int = 4, hi: int = 768) -> list[int]:
    """vLLM 0.34 Qwen3VLVideoBackend's choice with its defaults."""
    n = min(max(int(total / src_fps * fps), lo), hi, total)
    return [int(i) for i in np.linspace(0, total - 1, n).round()]


@pytest.fixture(scope="module")
def state() -> Iterator[dict[str, Any]]:
    """One sanitizer for the module, more on demand, and what the process held before."""
    yield from airtest.sanitizer_state()


def test_rate_lie_is_not_taken() -> None:
    """The one fixture whose stated rate is far from its times: h264_vfr.mkv's 25 fps over 16 frames in
    1.68 s. The rate given to the rules is the times' 125/14, not the container's."""
    row = _row("h264_vfr.mkv")
    assert Fraction(row.avg_frame_rate) == 25 and expected_fps(row) == Fraction(125, 14)


def test_manifest_is_read() -> None:
    assert len(OK_ROWS) >= 20
    assert {r.codec for r in OK_ROWS} >= {"h264", "hevc", "vp8", "vp9", "av1"}
    assert {r.container for r in OK_ROWS} == {"mp4", "matroska"}
    assert {r.turn for r in OK_ROWS} == {0, 90, 180, 270}
    assert BAD_ROWS, "no unsupported codec among the fixtures"


@pytest.mark.parametrize("row", OK_ROWS, ids=lambda r: r.id)
def test_default_sampling(state: dict[str, Any], row: VideoRow) -> None:
    """vLLM's default: 32 frames (or all) of ffprobe's count, at ffprobe's times and ffmpeg's pixels."""
    v = state["s"].video(row.file)
    assert isinstance(v, airlock.Video)
    assert v.type == row.container
    assert v.frames_seen == row.frames
    assert list(v.indices) == vllm_indices(row.frames)
    assert len(v) == v.frames == len(v.indices)
    want_fps = expected_fps(row)
    assert Fraction(*v.fps_fraction) == want_fps
    assert v.source_size == (row.width, row.height)
    assert v.rotation == row.turn
    assert (v.width, v.height) == row.out_size
    pts = _pts(row.path)
    assert len(pts) == row.frames
    assert list(v.pts_us) == [pts[i] for i in v.indices]
    assert v.timestamps == tuple(t / 1e6 for t in v.pts_us)
    # The last frame's time plus one frame at the rate.
    assert v.duration_us == pts[-1] + round(1e6 / float(want_fps))
    changes = set()
    if row.turn:
        changes.add("rotated")
    if _streams(row.path) > 1:
        changes.add("tracks_dropped")
    assert v.changes == changes
    a = np.asarray(v)
    assert a.shape == (v.frames, v.height, v.width, 3) and a.dtype == np.uint8
    assert not a.flags.writeable
    ref = videoref.frames(row.file, list(v.indices))
    assert ref.shape == a.shape
    diff = np.abs(a.astype(np.int16) - ref.astype(np.int16))
    assert int(diff.max()) == 0, f"{int((diff > 0).sum())} bytes differ, max {int(diff.max())}"


@pytest.mark.parametrize("row", OK_ROWS, ids=lambda r: r.id)
def test_vllm_metadata(state: dict[str, Any], row: VideoRow) -> None:
    """The metadata dict has vLLM's keys and vLLM's arithmetic (duration = total / fps)."""
    v = state["s"].video(row.file, num_frames=4)
    fps = float(expected_fps(row))
    idx = vllm_indices(row.frames, 4)
    assert v.metadata == {"total_num_frames": row.frames, "fps": fps, "duration": row.frames / fps,
                          "video_backend": "airlock", "frames_indices": idx,
                          "do_sample_frames": len(idx) == row.frames}


@pytest.mark.parametrize("row", [r for r in OK_ROWS if r.frames >= 8], ids=lambda r: r.id)
def test_qwen3_sampling(state: dict[str, Any], row: VideoRow) -> None:
    v = state["s"].video(row.file, sampling="qwen3")
    assert list(v.indices) == qwen3_indices(row.frames, float(expected_fps(row)))
    v = state["s"].video(row.file, sampling="qwen3", fps=4.5, min_frames=3, max_frames=6)
    assert list(v.indices) == qwen3_indices(row.frames, float(expected_fps(row)), 4.5, 3, 6)


def test_qwen_vl_utils_nframes(state: dict[str, Any]) -> None:
    """qwen_vl_utils' nframes mode: an even count, torch's float32 linspace rounded (equal to numpy's
    float64 one on counts this small, which tests/vllm/test_sampling.py shows for every total <= 2^24)."""
    row = _row("h264.mp4")
    v = state["s"].video(row.file, sampling="qwen_vl_utils", num_frames=7)
    assert list(v.indices) == [int(i) for i in np.linspace(0, row.frames - 1, 8).round()]


def test_issue_keywords(state: dict[str, Any]) -> None:
    """The call the issue writes, s.video(data, fps=2, max_frames=N, max_pixels=P): with vLLM's rule,
    max_frames caps num_frames (the rule has none of its own: a smaller request) and max_pixels is the
    per-frame budget the frames are scaled down to, not a refusal."""
    row = _row("h264.mp4")
    v = state["s"].video(row.file, fps=2, max_frames=3, max_pixels=4800)
    assert list(v.indices) == vllm_indices(row.frames, 3)  # min(32, floor(2 s x 2) = 4, 3)
    assert (v.width, v.height) == (80, 60) and "downscaled" in v.changes
    v = state["s"].video(row.file, max_frames=40)  # above the default 32: the default stands
    assert list(v.indices) == vllm_indices(row.frames, 32)
    v = state["s"].video(row.file, num_frames=-1, max_frames=7)  # every frame, capped
    assert list(v.indices) == vllm_indices(row.frames, 7)
    with pytest.raises(TypeError, match="same option"):
        state["s"].video(row.file, max_pixels=4800, video_max_frame_pixels=4800)


def test_every_frame(state: dict[str, Any]) -> None:
    """num_frames=-1 is vLLM's "unset": every frame, capped by video_max_sampled_frames as a smaller
    request (so still spread over the whole video, never cut)."""
    row = _row("h264.mp4")
    v = state["s"].video(row.file, num_frames=-1)
    assert list(v.indices) == list(range(row.frames))
    v = state["s"].video(row.file, num_frames=-1, video_max_sampled_frames=10)
    assert list(v.indices) == vllm_indices(row.frames, 10)


@pytest.mark.parametrize("name", ["h264.mp4", "h264_rot90.mp4", "vp9_161x121.webm", "h264_444.mp4"])
def test_downscale(state: dict[str, Any], name: str) -> None:
    """video_max_frame_pixels: w = isqrt(budget * W // H), h = w * H // W (docs/api.md), the pixels
    ffmpeg's scale to that size with the same flags."""
    row = _row(name)
    budget = 5000
    W, H = row.out_size
    w = math.isqrt(budget * W // H)
    h = w * H // W
    v = state["s"].video(row.file, num_frames=5, video_max_frame_pixels=budget)
    assert (v.width, v.height) == (w, h) and w * h <= budget
    assert "downscaled" in v.changes
    ref = videoref.frames(row.file, list(v.indices), size=(w, h))
    assert np.array_equal(np.asarray(v), ref)
    # A budget the frames fit is no change.
    v = state["s"].video(row.file, num_frames=2, video_max_frame_pixels=W * H)
    assert (v.width, v.height) == (W, H) and "downscaled" not in v.changes


@pytest.mark.parametrize("row", BAD_ROWS, ids=lambda r: r.id)
def test_refused_rows(state: dict[str, Any], row: VideoRow) -> None:
    with pytest.raises(airlock.AirlockError) as info:
        state["s"].video(row.file)
    assert info.value.name == row.outcome
    assert info.value.type == row.container
    if row.outcome == "unsupported":
        assert info.value.mime == "video/*"


@pytest.mark.parametrize(
    "options, error, limit",
    [
        ({"video_max_decoded_frames": 49}, airlock.TooLong, "video_max_decoded_frames"),
        ({"video_max_decoded_pixels": 160 * 120 * 10}, airlock.TooLong, "video_max_decoded_pixels"),
        ({"max_seconds": 1}, airlock.TooLong, "max_seconds"),
        ({"max_width": 159}, airlock.TooLarge, "max_width"),
        ({"max_height": 119}, airlock.TooLarge, "max_height"),
        ({"max_pixels": 160 * 120 - 1}, airlock.TooLarge, "max_pixels"),
        ({"video_max_output_bytes": 32 * 160 * 120 * 3 - 1}, airlock.TooLarge, "video_max_output_bytes"),
    ],
)
def test_limits(state: dict[str, Any], options: dict[str, int], error: type, limit: str) -> None:
    """Each limit one below what h264.mp4 (50 frames of 160x120 over 2 s) needs: its exact error and key.
    max_pixels is set on a Sanitizer: in video() the keyword is the downscale budget."""

    def run(opts: dict[str, int]) -> Any:
        if "max_pixels" in opts:
            return state["made"](**opts).video(_row("h264.mp4").file)
        return state["s"].video(_row("h264.mp4").file, **opts)

    with pytest.raises(error) as info:
        run(options)
    assert info.value.limit == limit
    # One above passes.
    bigger = {k: v + 1 if k != "max_seconds" else 2 for k, v in options.items()}
    if limit == "video_max_decoded_pixels":
        bigger = {limit: 160 * 120 * 50}
    assert run(bigger).frames_seen == 50


def test_sampling_that_picks_nothing(state: dict[str, Any]) -> None:
    """qwen_vl_utils raises on a 1-frame video (n rounds to 2 > total): out_of_range, as documented."""
    with pytest.raises(airlock.OutOfRange):
        state["s"].video(_row("h264_1frame.mp4").file, sampling="qwen_vl_utils")
    v = state["s"].video(_row("h264_1frame.mp4").file)
    assert v.indices == (0,) and v.pts_us == (0,)


def test_not_a_video(state: dict[str, Any]) -> None:
    """Sound alone in MP4 is unsupported (ask audio() for it); an image is not allowed; video frames only
    when asked: sanitize() keeps refusing a video."""
    m4a = airtest.ROOT / "corpus" / "media" / "aac_mono_16k.m4a"
    with pytest.raises(airlock.Unsupported) as info:
        state["s"].video(m4a)
    assert info.value.mime == "video/mp4"
    with pytest.raises(airlock.TypeNotAllowed):
        state["s"].video(airlock_png())
    with pytest.raises(airlock.Unsupported) as info2:
        state["s"].sanitize(_row("h264.mp4").file)
    assert info2.value.mime == "video/mp4"
    v = state["s"].sanitize(_row("h264.mp4").file, track="video")
    assert isinstance(v, airlock.Video) and v.frames == 32
    a = state["s"].audio(_row("h264_aac.mp4").file)
    assert isinstance(a, airlock.Audio) and "tracks_dropped" in a.changes


def airlock_png() -> bytes:
    return airtest.make_png(8, 8)


def test_encode_frame(state: dict[str, Any]) -> None:
    from PIL import Image as PILImage

    v = state["s"].video(_row("h264_rot90.mp4").file, num_frames=3)
    frames = np.asarray(v)
    for i in range(3):
        png = v.encode(i, "png")
        assert np.array_equal(np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB")), frames[i])
    assert v.encode(1, "raw") == frames[1].tobytes()
    with pytest.raises(IndexError):
        v.encode(3)
    with pytest.raises(ValueError):
        v.encode(0, "wav")
    assert v.tobytes() == frames.tobytes()


def test_options_are_checked(state: dict[str, Any]) -> None:
    f = _row("h264.mp4").file
    with pytest.raises(ValueError, match=r"multiple of 0\.001"):
        state["s"].video(f, fps=1 / 3)
    with pytest.raises(ValueError, match="video_sampling"):
        state["s"].video(f, sampling="opencv")
    with pytest.raises(TypeError, match="same option"):
        state["s"].video(f, fps=2, video_fps=2)
    with pytest.raises(ValueError):
        state["s"].video(f, num_frames=0)
    assert state["s"].video(f, fps=2.5).indices == tuple(vllm_indices(50, 5))  # floor(2 s x 2.5)


def test_async(state: dict[str, Any]) -> None:
    async def go() -> Any:
        return await state["s"].video_async(_row("vp9.webm").file, num_frames=4)

    v = asyncio.run(go())
    assert list(v.indices) == vllm_indices(50, 4)


def test_nothing_left_behind(state: dict[str, Any]) -> None:
    s = state["s"]
    s.video(_row("h264.mp4").file, num_frames=2)
    new = set(airtest.children()) - state["children"]
    assert "airlock-media" in {airtest.comm(p) for p in new}, airtest.describe(new)
    for z in new:
        assert airtest.wait_until(lambda z=z: not airtest.workers(z), 5.0), "a zygote kept a worker"
    for made in state["made"].made:
        made.close()
    assert airtest.wait_gone(new, 5.0) == []
    assert set(airtest.children()) == state["children"]
    assert airtest.fd_count() == state["fds"]
