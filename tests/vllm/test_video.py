# SPDX-License-Identifier: MIT
"""Video through the airlock connector against vLLM 0.34's own video path, the real one
(``VideoMediaIO`` and its loaders "opencv" and "qwen3_vl", OpenCV 5.1 from PyPI), never a stub.

vLLM's path, read from the installed source (vllm/multimodal/media/connector.py, media/video.py,
video.py, video_decoders/): ``MediaConnector.fetch_video(url, video_processor=...)`` puts the loader
registered for the model's video processor in the ``video_backend`` kwarg unless one is given,
builds ``VideoMediaIO(image_io, **media_io_kwargs["video"])``, which loads the loader class by that
name (else VLLM_VIDEO_LOADER_BACKEND, default "opencv"), and ``load_bytes`` calls
``loader.load_bytes(data, num_frames=self.num_frames (32), **kwargs)``. The loader decodes with its
codec (``backend``, default "opencv": ``decode_opencv``, which checks VLLM_MAX_IMAGE_PIXELS on the
header's size, reads the count and rate from OpenCV, picks the indices with the loader's
``compute_frames_index_to_sample`` and grabs up to the last one) and returns ``(frames, metadata)``:
frames a writable uint8 ``(T, H, W, 3)`` RGB array, the display matrix applied; metadata the
loader's ``create_hf_metadata`` dict. ``VideoMediaIO`` charges ``frames.nbytes`` to the request's
decode budget and wraps the pair in ``MediaWithBytes(video, data)``.

Fixtures are made here with Debian's ffmpeg (a session fixture: small testsrc2 clips); the
expected pixels come from the ffmpeg CLI too (select + scale), which with OpenCV's swscale flags
gives vLLM's frames bit for bit (test_stock_frames_are_ffmpeg_bicubic).

Two groups of tests:
- vLLM's side and the connector's refusals, which never reach airlock's video decode: they run
  with any airlock build.
- Marked by the ``airlock_video`` fixture: they need the airlock build with video
  (``Sanitizer.video``, issue 18). Without it they fail, saying so; they never skip.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python" / "scripts"))
import airlock
import airlock.vllm as avllm
import airtest
import tiny_models
from vllm.entrypoints.serve.exception_handling.error_response import create_error_response
from vllm.exceptions import VLLMValidationError
from vllm.multimodal.media import MediaConnector, MediaWithBytes
from vllm.multimodal.media.base import MediaDecodedBudget
from vllm.multimodal.media.connector import MODALITY_IO_MAP, merge_media_io_kwargs
from vllm.multimodal.media.image import ImageMediaIO
from vllm.multimodal.media.video import VideoMediaIO
from vllm.multimodal.video import (
    VIDEO_LOADER_REGISTRY,
    Qwen3VLVideoBackend,
    VideoBackend,
    get_video_loader_backend_for_processor,
)
from vllm.multimodal.video_decoders import VideoSourceMetadata, VideoTargetMetadata
from vllm.plugins import load_general_plugins
from vllm.renderers.chat_utils import parse_chat_messages, parse_chat_messages_async

pytestmark = airtest.hang_guard(300)

# ---- fixtures: made with Debian 12's ffmpeg 5.1, deterministic (one thread) ----

_SRC = "testsrc2=size=160x120:rate=25:duration=2"
_X264 = ["-c:v", "libx264", "-threads", "1", "-pix_fmt", "yuv420p"]
_VP9 = ["-c:v", "libvpx-vp9", "-threads", "1", "-b:v", "300k"]
# name -> ffmpeg arguments after the input ("@name" as the input: a fixture made before it).
VIDEOS: dict[str, list[str]] = {
    "h264.mp4": ["-f", "lavfi", "-i", _SRC, *_X264],
    "h264_ntsc.mkv": ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30000/1001:duration=3", *_X264],
    "vp9.webm": ["-f", "lavfi", "-i", _SRC, *_VP9],
    "vp9_odd.webm": ["-f", "lavfi", "-i", _SRC, "-vf", "scale=161:121", *_VP9],
    "h264_bt709.mp4": ["-f", "lavfi", "-i", _SRC, *_X264, "-colorspace", "bt709", "-color_primaries", "bt709",
                       "-color_trc", "bt709"],
    "h264_full.mp4": ["-f", "lavfi", "-i", _SRC, "-c:v", "libx264", "-threads", "1", "-pix_fmt", "yuvj420p",
                      "-color_range", "pc"],
    "h264_rot90.mp4": ["-i", "@h264.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=90"],
    # 1000 frames: more than airlock's default cap on sampled frames (768).
    "long.mp4": ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=40", *_X264],
    "faststart.mp4": ["-f", "lavfi", "-i", _SRC, *_X264, "-movflags", "+faststart"],
    "vp8.webm": ["-f", "lavfi", "-i", _SRC, "-c:v", "libvpx", "-threads", "1", "-b:v", "200k"],
}
# The clips compared with vLLM (the others are material for the hostile ones).
CLIPS = ["h264.mp4", "h264_ntsc.mkv", "vp9.webm", "vp9_odd.webm", "h264_bt709.mp4", "h264_full.mp4",
         "h264_rot90.mp4"]

# vLLM 0.34's stock outputs on these clips, recorded 2026-12-03 (and asserted by
# test_stock_metadata): total_num_frames, fps as a fraction (OpenCV's CAP_PROP_FPS is its float),
# and the frames' (H, W): the display matrix applied.
STOCK: dict[str, tuple[int, Fraction, tuple[int, int]]] = {
    "h264.mp4": (50, Fraction(25), (120, 160)),
    "h264_ntsc.mkv": (90, Fraction(30000, 1001), (120, 160)),
    "vp9.webm": (50, Fraction(25), (120, 160)),
    "vp9_odd.webm": (50, Fraction(25), (121, 161)),
    "h264_bt709.mp4": (50, Fraction(25), (120, 160)),
    "h264_full.mp4": (50, Fraction(25), (120, 160)),
    "h264_rot90.mp4": (50, Fraction(25), (160, 120)),
    "long.mp4": (1000, Fraction(25), (48, 64)),
}

# ---- pixels ----

# OpenCV's conversion (its FFmpeg backend: sws_getContext with SWS_BICUBIC to BGR24, then vLLM's
# cvtColor to RGB): the ffmpeg CLI with these flags gives vLLM's frames bit for bit on every clip.
OPENCV_SWS = "bicubic"
# airlock's: decoders/media.c's VIDEO_SWS_FLAGS, SWS_BICUBIC alone, the colour matrix and range from
# the frame. It was SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT when this test was written; the
# ffmpeg CLI with those flags against vLLM's frames measured mean |difference| up to 6.12, 99th
# percentile up to 68, largest 184 (ACCURATE_RND takes swscale off its fast YUV-to-RGB path), as much
# as two neighbouring frames differ. With OpenCV's flags the frames are vLLM's exactly, and every
# comparison below is exact: TOL_MEAN and TOL_P99 are 0.
AIRLOCK_SWS = OPENCV_SWS
TOL_MEAN = 0.0
TOL_P99 = 0


def ffmpeg(*args: str) -> bytes:
    return subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", *args],
                          capture_output=True, check=True).stdout


def cli_frames(path: Path, indices: list[int], flags: str, hw: tuple[int, int]) -> np.ndarray:
    """The decoded frames at ``indices`` (0-based, in presentation order) converted by the ffmpeg CLI's
    swscale with ``flags``, the display matrix applied (the CLI autorotates), as a (T, H, W, 3) RGB array.
    Every frame is converted and the indices taken from them: the clips are small."""
    raw = ffmpeg("-i", str(path), "-map", "0:v:0", "-vf", f"scale=flags={flags},format=rgb24",
                 "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
    return np.frombuffer(raw, np.uint8).reshape(-1, *hw, 3)[indices]


def probe(path: Path) -> tuple[int, Fraction]:
    """ffprobe's decoded frame count and average frame rate of the first video stream."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                          "stream=nb_read_frames,avg_frame_rate", "-of", "json", str(path)],
                         capture_output=True, check=True, text=True).stdout
    stream = json.loads(out)["streams"][0]
    return int(stream["nb_read_frames"]), Fraction(stream["avg_frame_rate"])


def difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(d.mean()), float(np.percentile(d, 99)), int(d.max())


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("video")
    out: dict[str, Path] = {}
    for name, args in VIDEOS.items():
        args = [str(out[a[1:]]) if a.startswith("@") else a for a in args]
        ffmpeg("-y", *args, "-fflags", "+bitexact", str(d / name))
        out[name] = d / name
    # The hostile ones. A faststart MP4 cut in half: the index (moov) is whole, the samples after
    # the cut are missing.
    data = out["faststart.mp4"].read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 2])
    out["truncated.mp4"] = d / "truncated.mp4"
    # A VP8 key frame that says 16383 x 16383 (268 M pixels, over VLLM_MAX_IMAGE_PIXELS and airlock's
    # max_pixels, 178956970) where the container says 160 x 120.
    vp8 = bytearray(out["vp8.webm"].read_bytes())
    key = vp8.find(b"\x9d\x01\x2a")  # the key frame's start code; width and height follow (14 bits each)
    assert key > 0 and struct.unpack_from("<HH", vp8, key + 3) == (160, 120)
    struct.pack_into("<HH", vp8, key + 3, 16383, 16383)
    (d / "vp8_16383.webm").write_bytes(bytes(vp8))
    out["vp8_16383.webm"] = d / "vp8_16383.webm"
    return out


def data_url(path: Path, mime: str = "video/mp4") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


def stock_conn(video_kwargs: dict[str, Any] | None = None, **kw: Any) -> Any:
    return MediaConnector(media_io_kwargs={"video": dict(video_kwargs or {})}, **kw)


def airlock_conn(video_kwargs: dict[str, Any] | None = None, **kw: Any) -> Any:
    return avllm.AirlockMediaConnector(media_io_kwargs={"video": dict(video_kwargs or {})}, **kw)


def counts() -> dict[str, int]:
    return avllm.sanitizer().counts()


def refused(fn: Any, *args: Any) -> BaseException:
    """The exception fn(*args) raises, which vLLM's server answers with 400."""
    with pytest.raises(Exception) as info:
        fn(*args)
    e = info.value
    response = create_error_response(e).error
    assert (response.code, response.type) == (400, "BadRequestError"), f"{type(e).__name__}: {e}"
    return e


@pytest.fixture
def airlock_video() -> None:
    """Taken by every test that needs the airlock build with video (Sanitizer.video, issue 18)."""
    if not hasattr(airlock.Sanitizer, "video"):
        pytest.fail("this airlock has no Sanitizer.video: the test needs the airlock build with video (issue 18)",
                    pytrace=False)


# ==================================================================================================
# vLLM's side, and the connector's refusals: these run with any airlock build.
# ==================================================================================================


@pytest.mark.parametrize("name", [*CLIPS, "long.mp4"])
def test_stock_metadata(name: str, videos: dict[str, Path]) -> None:
    """vLLM's metadata is the count and rate ffprobe gives (the facts airlock's worker measures) on these
    honest clips, as recorded in STOCK."""
    frames, meta = stock_conn().fetch_video(data_url(videos[name])).media
    total, fps, hw = STOCK[name]
    assert probe(videos[name]) == (total, fps)
    assert list(meta) == ["total_num_frames", "fps", "duration", "video_backend", "frames_indices",
                          "do_sample_frames"]
    assert (meta["total_num_frames"], meta["fps"], meta["video_backend"]) == (total, float(fps), "opencv")
    assert meta["duration"] == total / float(fps)
    assert frames.shape == (len(meta["frames_indices"]), *hw, 3) and frames.dtype == np.uint8
    assert frames.flags.writeable and frames.flags.c_contiguous


@pytest.mark.parametrize("name", CLIPS)
def test_stock_frames_are_ffmpeg_bicubic(name: str, videos: dict[str, Path]) -> None:
    """The reference route: the ffmpeg CLI with OpenCV's flags gives vLLM's frames exactly, so the CLI
    with airlock's flags is what airlock's frames must be."""
    frames, meta = stock_conn().fetch_video(data_url(videos[name])).media
    want = cli_frames(videos[name], meta["frames_indices"], OPENCV_SWS, frames.shape[1:3])
    np.testing.assert_array_equal(frames, want)


@pytest.mark.parametrize("name", [*CLIPS, "long.mp4"])
def test_airlock_flags_within_tolerance_of_stock(name: str, videos: dict[str, Path]) -> None:
    """The CLI with airlock's flags against vLLM's frames: equal (the tolerance is 0)."""
    frames, meta = stock_conn().fetch_video(data_url(videos[name])).media
    want = cli_frames(videos[name], meta["frames_indices"], AIRLOCK_SWS, frames.shape[1:3])
    mean, p99, top = difference(want, frames)
    assert mean <= TOL_MEAN and p99 <= TOL_P99, (mean, p99, top)


def test_loader_selection() -> None:
    """What the connector reads its rule from: vLLM's registry and its processor-to-loader table."""
    import vllm.envs as envs

    assert envs.VLLM_VIDEO_LOADER_BACKEND == "opencv"
    assert VIDEO_LOADER_REGISTRY.name2class["opencv"] is VideoBackend
    assert VIDEO_LOADER_REGISTRY.name2class["qwen3_vl"] is Qwen3VLVideoBackend
    assert get_video_loader_backend_for_processor("Qwen3VLVideoProcessor") == "qwen3_vl"
    assert get_video_loader_backend_for_processor("Qwen2VLVideoProcessor") == "qwen2_vl"
    assert get_video_loader_backend_for_processor(None) is None
    # The connector's IO is vLLM's, with vLLM's kwargs merging (the parser merges with the stock class).
    assert MODALITY_IO_MAP["video"] is VideoMediaIO
    assert avllm.AirlockVideoMediaIO.merge_kwargs.__func__ is VideoMediaIO.merge_kwargs.__func__
    for name in ("opencv", "qwen3_vl", "qwen2_vl"):
        ours = avllm.AirlockVideoMediaIO(ImageMediaIO(), video_backend=name)
        assert type(ours.video_loader) is type(VideoMediaIO(ImageMediaIO(), video_backend=name).video_loader)
        assert ours.loader_name == name and ours.num_frames == 32


def test_kwargs_merge() -> None:
    """VideoMediaIO.merge_kwargs, which the connector's kwargs come from: a request's fps drops the
    server's num_frames and the other way round; the connector reads the result as vLLM does."""
    merged = merge_media_io_kwargs({"video": {"num_frames": 16, "fps": 1}}, {"video": {"fps": 2}})
    assert merged == {"video": {"fps": 2}}
    merged = merge_media_io_kwargs({"video": {"num_frames": 16, "fps": 1}}, {"video": {"num_frames": 8}})
    assert merged == {"video": {"num_frames": 8}}
    io = avllm.AirlockMediaConnector(media_io_kwargs={"video": {"fps": 2}})._video_io("RGB", None)
    assert (io.num_frames, io.kwargs) == (32, {"fps": 2})
    io = avllm.AirlockMediaConnector(media_io_kwargs={})._video_io("RGB", "Qwen3VLVideoProcessor")
    assert type(io.video_loader) is Qwen3VLVideoBackend and isinstance(io.image_io, avllm.AirlockImageMediaIO)


UNPORTED = sorted(set(VIDEO_LOADER_REGISTRY.name2class) - {"opencv", "qwen3_vl"})


@pytest.mark.parametrize("loader", UNPORTED)
def test_unported_loaders_are_refused_by_name(loader: str, videos: dict[str, Path]) -> None:
    """Every other loader vLLM registers (qwen2_vl, opencv_dynamic, glm46v, ...) is refused, naming it,
    before anything is decoded: never sampled by another rule."""
    before = counts()
    e = refused(airlock_conn({"video_backend": loader}).fetch_video, data_url(videos["h264.mp4"]))
    assert type(e) is avllm.MediaRejected and (e.name, e.code, e.limit) == ("unsupported", 6, None)
    assert str(e).startswith(f"Failed to load video: airlock unsupported: vLLM's video loader {loader!r}")
    assert counts() == before


@pytest.mark.parametrize("codec", ["torchcodec", "pynvvideocodec", "deepstream"])
def test_other_codecs_are_refused_by_name(codec: str, videos: dict[str, Path]) -> None:
    before = counts()
    e = refused(airlock_conn({"backend": codec}).fetch_video, data_url(videos["h264.mp4"]))
    assert type(e) is avllm.MediaRejected and e.name == "unsupported"
    assert f"video codec backend {codec!r}" in str(e)
    assert counts() == before


def test_unknown_codec_is_vllms_error(videos: dict[str, Path]) -> None:
    """vLLM's own check of the codec name runs first, with its own error."""
    url = data_url(videos["h264.mp4"])
    errors = []
    for conn in (stock_conn({"backend": "nope"}), airlock_conn({"backend": "nope"})):
        with pytest.raises(ValueError) as info:
            conn.fetch_video(url)
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1] and "Unknown video codec backend 'nope'" in errors[1][1]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"fps": 1 / 3}, "fps"),  # airlock carries fps in thousandths
        ({"num_frames": "8"}, "num_frames"),
        ({"fps": float("nan")}, "fps"),
        ({"video_backend": "qwen3_vl", "fps": 0}, "fps"),
        ({"video_backend": "qwen3_vl", "fps": -1}, "fps"),
        ({"video_backend": "qwen3_vl", "min_frames": 0}, "min_frames"),
        ({"video_backend": "qwen3_vl", "max_frames": 0}, "max_frames"),
    ],
)
def test_parameters_airlock_cannot_express_are_refused(
    kwargs: dict[str, Any], parameter: str, videos: dict[str, Path]
) -> None:
    before = counts()
    e = refused(airlock_conn(kwargs).fetch_video, data_url(videos["h264.mp4"]))
    assert type(e) is VLLMValidationError and e.parameter == parameter
    assert counts() == before


def test_jpeg_frames_go_through_airlock_images(videos: dict[str, Path], tmp_path: Path) -> None:
    """A ``video/jpeg`` data URL (frames as base64 JPEGs, vLLM's own format) is vLLM's load_base64 with the
    connector's image IO: every frame decoded by airlock, the same array and metadata as vLLM's."""
    ffmpeg("-i", str(videos["h264.mp4"]), "-frames:v", "3", "-q:v", "3", str(tmp_path / "f%d.jpg"))
    url = "data:video/jpeg;base64," + ",".join(
        base64.b64encode((tmp_path / f"f{i}.jpg").read_bytes()).decode() for i in (1, 2, 3)
    )
    want_frames, want_meta = stock_conn().fetch_video(url).media
    before = counts()["ok"]
    frames, meta = airlock_conn().fetch_video(url).media
    assert counts()["ok"] == before + 3
    assert meta == want_meta and meta["video_backend"] == "jpeg_sequence"
    assert frames.shape == want_frames.shape == (3, 120, 160, 3)
    np.testing.assert_array_equal(frames, want_frames)


# ---- the chat path ----


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory, videos: dict[str, Path]) -> Path:
    """--allowed-local-media-path with a copy of one clip."""
    d = tmp_path_factory.mktemp("video-media")
    (d / "h264.mp4").write_bytes(videos["h264.mp4"].read_bytes())
    return d


@pytest.fixture(scope="module")
def vl_config(media_dir: Path) -> Any:
    """The tiny Qwen2-VL: its video processor is Qwen2VLVideoProcessor, so vLLM picks the "qwen2_vl" loader
    unless media_io_kwargs names one."""
    return tiny_models.model_config("qwen2vl", media_dir)


@pytest.fixture
def select(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    load_general_plugins()

    def _select(name: str) -> None:
        monkeypatch.setenv("VLLM_MEDIA_CONNECTOR", name)

    yield _select


def video_messages(*urls: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "video_url", "video_url": {"url": u}} for u in urls]
    return [{"role": "user", "content": [*parts, {"type": "text", "text": "what happens?"}]}]


def parse(msgs: list[dict[str, Any]], config: Any, mode: str, media_io_kwargs: Any = None) -> Any:
    if mode == "sync":
        return parse_chat_messages(msgs, config, content_format="string", media_io_kwargs=media_io_kwargs)
    return asyncio.run(
        parse_chat_messages_async(msgs, config, content_format="string", media_io_kwargs=media_io_kwargs)
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_chat_refuses_the_qwen2_vl_loader(mode: str, select: Any, vl_config: Any, videos: dict[str, Path]) -> None:
    """Qwen2-VL's own loader samples by torch.arange over float32 steps, a rule airlock does not have: the
    stock connector samples 4 frames, the airlock one answers 400 naming the loader."""
    msgs = video_messages(data_url(videos["h264.mp4"]))
    select("http")
    _, mm, _ = parse(msgs, vl_config, mode)
    assert mm["video"][0].media[1]["frames_indices"] == [0, 12, 25, 37]
    select("airlock")
    before = counts()
    e = refused(parse, msgs, vl_config, mode)
    assert type(e) is avllm.MediaRejected and e.name == "unsupported" and "'qwen2_vl'" in str(e)
    assert counts() == before


# ==================================================================================================
# Through airlock's video decode: every test below takes the airlock_video fixture and needs the
# airlock build with video (Sanitizer.video). Written before that build (2026-12-03), they passed
# only against a stand-in for Sanitizer.video, per commonvid.md's contract, made of the ffmpeg CLI
# and decoders/sampling.c (not committed): the real worker has not run them.
# ==================================================================================================

# (loader kwargs, what they exercise). num_frames and fps as vLLM's media_io_kwargs give them.
CASES: list[dict[str, Any]] = [
    {},  # "opencv", num_frames 32
    {"num_frames": 8},
    {"num_frames": -1},  # every frame
    {"fps": 2},  # with num_frames 32: floor(duration * 2) frames
    {"num_frames": 100, "fps": 5.5},
    {"video_backend": "qwen3_vl"},  # fps 2, min 4, max 768
    {"video_backend": "qwen3_vl", "fps": 4, "min_frames": 2, "max_frames": 6},
    {"video_backend": "qwen3_vl", "fps": 30, "num_frames": 3},  # num_frames is not read by this loader
]
EQUAL = [("h264.mp4", c) for c in CASES] + [("h264_ntsc.mkv", c) for c in CASES[:6]]
EQUAL += [(n, c) for n in CLIPS if n not in ("h264.mp4", "h264_ntsc.mkv") for c in (CASES[0], CASES[5])]


def assert_same_as_stock(got: Any, want: Any, path: Path) -> None:
    """The connector's video against vLLM's: the same types and metadata, the same shape, the same pixels
    (tolerance 0), and exactly the CLI's frames at those indices with airlock's flags."""
    assert type(got) is MediaWithBytes and type(got.media) is tuple and len(got.media) == 2
    assert got.original_bytes == want.original_bytes
    assert (got.io_config or {}).get("decoder") == "airlock"
    frames, meta = got.media
    want_frames, want_meta = want.media
    assert type(meta) is dict and list(meta) == list(want_meta)
    assert meta == want_meta
    assert [type(v) for v in meta.values()] == [type(v) for v in want_meta.values()]
    assert type(frames) is np.ndarray and frames.dtype == np.uint8
    assert frames.shape == want_frames.shape
    assert frames.flags.writeable and frames.flags.c_contiguous
    np.testing.assert_array_equal(frames, cli_frames(path, meta["frames_indices"], AIRLOCK_SWS, frames.shape[1:3]))
    mean, p99, top = difference(frames, want_frames)
    assert mean <= TOL_MEAN and p99 <= TOL_P99, (mean, p99, top)


@pytest.mark.parametrize(("name", "kwargs"), EQUAL, ids=[f"{n}-{json.dumps(c)}" for n, c in EQUAL])
def test_equal_to_stock(name: str, kwargs: dict[str, Any], videos: dict[str, Path], airlock_video: None) -> None:
    url = data_url(videos[name])
    want = stock_conn(kwargs).fetch_video(url)
    before = counts()["ok"]
    got = airlock_conn(kwargs).fetch_video(url)
    assert counts()["ok"] == before + 1, "not decoded by airlock"
    assert got.io_config["sampling"] == ("qwen3" if kwargs.get("video_backend") == "qwen3_vl" else "vllm")
    assert_same_as_stock(got, want, videos[name])


def test_async_and_file_urls(videos: dict[str, Path], airlock_video: None) -> None:
    conn = airlock_conn({"num_frames": 8}, allowed_local_media_path=str(videos["h264.mp4"].parent))
    want = stock_conn({"num_frames": 8}).fetch_video(data_url(videos["h264.mp4"]))
    for got in (
        asyncio.run(conn.fetch_video_async(data_url(videos["h264.mp4"]))),
        conn.fetch_video(videos["h264.mp4"].as_uri()),
        asyncio.run(conn.fetch_video_async(videos["h264.mp4"].as_uri())),
    ):
        assert_same_as_stock(got, want, videos["h264.mp4"])


def test_cap_is_a_tighter_request(videos: dict[str, Path], airlock_video: None) -> None:
    """num_frames -1 on 1000 frames: vLLM returns all 1000; airlock's cap (video_max_sampled_frames, 768)
    acts as num_frames 768, so the connector returns what vLLM's own rule picks for that request."""
    url = data_url(videos["long.mp4"])
    stock_frames, stock_meta = stock_conn({"num_frames": -1}).fetch_video(url).media
    assert stock_frames.shape[0] == 1000 and stock_meta["do_sample_frames"] is True
    cap = avllm.sanitizer().get("video_max_sampled_frames")
    assert cap == 768
    frames, meta = airlock_conn({"num_frames": -1}).fetch_video(url).media
    want = VideoBackend.compute_frames_index_to_sample(
        VideoSourceMetadata(1000, 25.0, 40.0), VideoTargetMetadata(num_frames=cap, fps=-1, max_duration=300)
    )
    assert meta["frames_indices"] == want and len(want) == 768
    assert (meta["total_num_frames"], meta["do_sample_frames"]) == (1000, False)
    assert frames.shape == (768, 48, 64, 3)
    np.testing.assert_array_equal(frames, cli_frames(videos["long.mp4"], want, AIRLOCK_SWS, (48, 64)))
    mean, p99, top = difference(frames, stock_frames[want])
    assert mean <= TOL_MEAN and p99 <= TOL_P99, (mean, p99, top)


def test_merged_kwargs_sample_as_stock(videos: dict[str, Path], airlock_video: None) -> None:
    """A request's fps over a server's num_frames, merged by vLLM's merge_media_io_kwargs as its chat
    parsing does: both connectors get the merged kwargs and pick the same frames."""
    url = data_url(videos["h264_ntsc.mkv"])
    server = {"num_frames": 16, "fps": 1}
    for request in ({"fps": 2}, {"num_frames": 5}):
        merged = merge_media_io_kwargs({"video": server}, {"video": request})
        want = MediaConnector(media_io_kwargs=merged).fetch_video(url)
        got = avllm.AirlockMediaConnector(media_io_kwargs=merged).fetch_video(url)
        assert_same_as_stock(got, want, videos["h264_ntsc.mkv"])


def test_vllm_max_image_pixels(vllm_env: pytest.MonkeyPatch, videos: dict[str, Path], airlock_video: None) -> None:
    """VLLM_MAX_IMAGE_PIXELS bounds every decoded frame (vLLM checks the header's size)."""
    vllm_env.setenv("VLLM_MAX_IMAGE_PIXELS", str(160 * 120 - 1))
    url = data_url(videos["h264.mp4"])
    with pytest.raises(ValueError, match="Video frame dimensions 160x120"):
        stock_conn().fetch_video(url)
    e = refused(airlock_conn().fetch_video, url)
    assert type(e) is avllm.MediaRejected and (e.name, e.limit) == ("too_large", "max_pixels")
    assert "Set VLLM_MAX_IMAGE_PIXELS to increase this limit." in str(e)


def test_request_decode_budget(vllm_env: pytest.MonkeyPatch, videos: dict[str, Path], airlock_video: None) -> None:
    """VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES: 32 frames of 160 x 120 are 1843200 bytes. vLLM refuses them
    after the decode (its budget's charge); airlock's worker before they reach the server."""
    vllm_env.setenv("VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES", str(32 * 160 * 120 * 3 - 1))
    url = data_url(videos["h264.mp4"])
    with pytest.raises(ValueError, match="VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES"):
        stock_conn(decoded_budget=MediaDecodedBudget()).fetch_video(url)
    e = refused(airlock_conn(decoded_budget=MediaDecodedBudget()).fetch_video, url)
    assert type(e) is avllm.MediaRejected and (e.name, e.limit) == ("too_large", "video_max_output_bytes")
    assert "VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES" in str(e)
    # Without a request's budget (vllm.multimodal.utils.fetch_video) vLLM has no such limit, nor has the
    # connector.
    frames, _ = airlock_conn().fetch_video(url).media
    assert frames.nbytes == 32 * 160 * 120 * 3


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("loader", ["opencv", "qwen3_vl"])
def test_chat(mode: str, loader: str, select: Any, vl_config: Any, media_dir: Path, videos: dict[str, Path],
              airlock_video: None) -> None:
    """OpenAI video_url parts, as a data: URL and a file: URL, through vLLM's chat parsing with the loader
    named in the request's media_io_kwargs."""
    msgs = video_messages(data_url(videos["h264.mp4"]), (media_dir / "h264.mp4").as_uri())
    kw = {"video": {"video_backend": loader}}
    select("http")
    conv_stock, mm_stock, _ = parse(msgs, vl_config, mode, kw)
    select("airlock")
    before = counts()["ok"]
    conv, mm, _ = parse(msgs, vl_config, mode, kw)
    assert counts()["ok"] == before + 2
    assert conv == conv_stock
    for got, want in zip(mm["video"], mm_stock["video"]):
        assert_same_as_stock(got, want, videos["h264.mp4"])


# name -> (airlock's code, its limit, what vLLM's stock path returns: the frames it gets of 32).
HOSTILE = {
    "truncated.mp4": ("malformed", None, 12),
    "vp8_16383.webm": ("too_large", "max_pixels", 0),
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_chat_hostile(name: str, mode: str, select: Any, vl_config: Any, videos: dict[str, Path],
                      airlock_video: None) -> None:
    """vLLM's stock loader serves a part of these (it skips the frames it cannot grab, and logs it):
    12 frames of the truncated MP4's 32, none of the VP8 whose key frame says 16383 x 16383 (an empty
    (0, 120, 160, 3) array). Through airlock: a 400 with airlock's code."""
    code, limit, stock_frames = HOSTILE[name]
    msgs = video_messages(data_url(videos[name]))
    kw = {"video": {"video_backend": "opencv"}}
    select("http")
    _, mm, _ = parse(msgs, vl_config, mode, kw)
    assert mm["video"][0].media[0].shape == (stock_frames, 120, 160, 3)
    select("airlock")
    before = counts()
    e = refused(parse, msgs, vl_config, mode, kw)
    assert type(e) is avllm.MediaRejected and (e.name, e.limit) == (code, limit), f"{e.name} {e.limit}: {e}"
    assert str(e).startswith(f"Failed to load video: airlock {code}")
    assert isinstance(e.__cause__, airlock.Rejected) and e.__cause__.name == code
    assert counts()[code] == before[code] + 1


def test_utils_fetch_video_is_routed(monkeypatch: pytest.MonkeyPatch, videos: dict[str, Path],
                                     airlock_video: None) -> None:
    """vllm.multimodal.utils.fetch_video builds MediaConnector by name; register() rebinds that name."""
    import vllm.multimodal.utils as mm_utils

    monkeypatch.setattr(mm_utils, "MediaConnector", mm_utils.MediaConnector)
    monkeypatch.setenv("VLLM_MEDIA_CONNECTOR", "airlock")
    avllm.register()
    got = mm_utils.fetch_video(videos["h264.mp4"].as_uri(), {"num_frames": 8})
    assert (got.io_config or {}).get("decoder") == "airlock"
    assert got.media[1]["frames_indices"] == [0, 7, 14, 21, 28, 35, 42, 49]
