# SPDX-License-Identifier: MIT
"""The MP4 and Matroska fixtures (corpus/media.tsv, written by corpus/gen_media.sh) through the
installed package, sandboxed, against Debian's ffmpeg CLI as the independent reference.

For every row: the outcome of sanitize() with track "any" (the default) and "audio", and of
audio(), which always takes the audio track; the report's type and mime. For every decodable row:
- float32 at the source rate is bit-identical to `ffmpeg -v error -i F -map 0:a:0 -f f32le
  -c:a pcm_f32le -`;
- int16 is that reference scaled as audio.c's to_s16() documents: lrintf(x * 32768) clipped to
  [-32768, 32767] (numpy's rint rounds half to even, as lrintf does in the default mode);
- mono is the mean of the reference's channels taken in double precision, then rounded to float32
  (audio.c process());
- rate=16000 mono has ceil(n * 16000 / rate) frames (resample.h: every output frame whose time lies
  inside the input) and matches ffmpeg's resampling of the same mono signal: mean square within
  2% and the magnitude spectra (0 to 7 kHz) with a cosine similarity of at least 0.999. The two
  resamplers differ in filter and phase, so samples are not compared one by one. (Measured when
  written: the tones within 0.01% and a cosine of 1.000000; the pink noise of flac.mka, whose energy
  reaches the band edge, 0.84% and 0.99996.)
Then the cases around the tracks: audio() on a video file takes its audio track, sanitize() refuses
it as unsupported naming the container's mime, track="audio" does the same as audio(), expect
mismatches in both directions; and no descriptor or process is left once the sanitizers close.

Nothing is skipped: without ffmpeg the tests fail.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(120)

MANIFEST = airtest.CORPUS / "media.tsv"
FLOAT_FORMATS = {"flt", "fltp"}
S16_FORMATS = {"s16", "s16p"}


@dataclass(frozen=True)
class MediaRow:
    path: str
    type: str
    outcome_any: str
    outcome_audio: str
    rate: str
    channels: str
    frames: str
    sample_fmt: str
    changes: str
    mime: str
    desc: str

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def file(self) -> Path:
        return airtest.ROOT / self.path

    def want_changes(self, dtype: str) -> frozenset[str]:
        """The manifest's changes, plus format_converted unless the decoder's format is the output's."""
        base = set() if self.changes == "-" else set(self.changes.split(","))
        same = self.sample_fmt in (FLOAT_FORMATS if dtype == "float32" else S16_FORMATS)
        return frozenset(base if same else base | {"format_converted"})


def media_rows() -> list[MediaRow]:
    rows = []
    for line in MANIFEST.read_text().splitlines():
        if line.startswith("#") or not line:
            continue
        f = line.split("\t")
        assert len(f) == 11, line
        rows.append(MediaRow(*f))
    return rows


ROWS = media_rows()
OK_ROWS = [r for r in ROWS if r.outcome_audio == "ok"]


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.fail("ffmpeg is not installed: the reference decoder of these tests (apt-get install ffmpeg)")
    return exe


def _run(args: list[str], stdin: bytes | None = None) -> bytes:
    p = subprocess.run(args, input=stdin, capture_output=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


@cache
def reference(path: str) -> np.ndarray[Any, np.dtype[np.float32]]:
    """ffmpeg's decode of the first audio track, interleaved float32, shape (frames, channels)."""
    row = next(r for r in ROWS if r.path == path)
    raw = _run(
        [
            _ffmpeg(),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(row.file),
            "-map",
            "0:a:0",
            "-f",
            "f32le",
            "-c:a",
            "pcm_f32le",
            "-",
        ]
    )
    return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(-1, int(row.channels))


def ffmpeg_resample(mono: np.ndarray[Any, np.dtype[np.float32]], rate: int, out_rate: int) -> np.ndarray[Any, Any]:
    raw = _run(
        [
            _ffmpeg(),
            "-nostdin",
            "-v",
            "error",
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-ac",
            "1",
            "-i",
            "-",
            "-ar",
            str(out_rate),
            "-f",
            "f32le",
            "-c:a",
            "pcm_f32le",
            "-",
        ],
        stdin=mono.astype("<f4").tobytes(),
    )
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def mono_mean(ref: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """audio.c: the channels summed in double in channel order, divided by their count, then float."""
    acc = np.zeros(ref.shape[0], dtype=np.float64)
    for c in range(ref.shape[1]):
        acc += ref[:, c].astype(np.float64)
    return (acc / ref.shape[1]).astype(np.float32)


def to_s16(x: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, np.dtype[np.int16]]:
    v = x.astype(np.float32) * np.float32(32768.0)
    return np.clip(np.rint(v), -32768, 32767).astype(np.int16)


def pcm(a: Any) -> np.ndarray[Any, Any]:
    arr = np.asarray(a)
    return arr.reshape(arr.shape[0], -1)


@pytest.fixture(scope="module")
def state() -> Iterator[dict[str, Any]]:
    """One sanitizer for the module, more on demand, and what the process held before."""
    yield from airtest.sanitizer_state()


def test_manifest_is_read() -> None:
    assert len(ROWS) >= 25
    assert {r.type for r in ROWS} == {"mp4", "matroska"}
    assert len(OK_ROWS) >= 18
    _ffmpeg()


def _check_refusal(e: Any, row: MediaRow, outcome: str) -> None:
    assert e.name == outcome
    assert e.type == row.type
    assert e.mime == (None if row.mime == "-" or outcome != "unsupported" else row.mime)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_outcome_track_any(row: MediaRow, state: dict[str, Any]) -> None:
    """sanitize() with the default track: a file with a video track is refused, naming its mime."""
    s = state["s"]
    data = row.file.read_bytes()
    if row.outcome_any == "ok":
        r = s.sanitize(data)
        assert isinstance(r, airlock.Audio)
        assert (r.type, r.rate, r.channels, r.frames) == (row.type, int(row.rate), int(row.channels), int(row.frames))
        assert r.changes == row.want_changes("float32")
        return
    with pytest.raises(airlock.AirlockError) as info:
        s.sanitize(data)
    _check_refusal(info.value, row, row.outcome_any)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_outcome_track_audio(row: MediaRow, state: dict[str, Any]) -> None:
    """sanitize(track="audio") and audio() agree: the first audio track, whatever else is there."""
    s = state["s"]
    data = row.file.read_bytes()
    for call in (lambda: s.sanitize(data, track="audio"), lambda: s.audio(data)):
        if row.outcome_audio == "ok":
            r = call()
            assert isinstance(r, airlock.Audio)
            assert (r.type, r.rate, r.channels) == (row.type, int(row.rate), int(row.channels))
            assert r.frames == int(row.frames)
            assert r.changes == row.want_changes("float32")
            continue
        with pytest.raises(airlock.AirlockError) as info:
            call()
        _check_refusal(info.value, row, row.outcome_audio)


@pytest.mark.parametrize("row", OK_ROWS, ids=[r.id for r in OK_ROWS])
def test_float32_is_ffmpeg_bit_for_bit(row: MediaRow, state: dict[str, Any]) -> None:
    a = state["s"].audio(row.file.read_bytes(), dtype="float32")
    got = pcm(a)
    ref = reference(row.path)
    assert got.dtype == np.float32
    assert got.shape == ref.shape
    assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("row", OK_ROWS, ids=[r.id for r in OK_ROWS])
def test_int16_is_the_scaled_reference(row: MediaRow, state: dict[str, Any]) -> None:
    a = state["s"].audio(row.file.read_bytes(), dtype="int16")
    assert a.changes == row.want_changes("int16")
    got = pcm(a)
    assert got.dtype == np.int16
    assert np.array_equal(got, to_s16(reference(row.path)))


@pytest.mark.parametrize("row", OK_ROWS, ids=[r.id for r in OK_ROWS])
def test_mono_is_the_mean(row: MediaRow, state: dict[str, Any]) -> None:
    a = state["s"].audio(row.file.read_bytes(), mono=True)
    want = row.want_changes("float32") | ({"downmixed"} if int(row.channels) > 1 else set())
    assert (a.channels, a.changes) == (1, want)
    got = np.asarray(a)
    assert got.tobytes() == mono_mean(reference(row.path)).tobytes()


@pytest.mark.parametrize("row", OK_ROWS, ids=[r.id for r in OK_ROWS])
def test_16k_mono_against_ffmpeg(row: MediaRow, state: dict[str, Any]) -> None:
    """The speech-model shape: length exact, energy and spectrum within the stated tolerance."""
    a = state["s"].audio(row.file.read_bytes(), mono=True, rate=16000)
    rate, n = int(row.rate), int(row.frames)
    mono = mono_mean(reference(row.path))
    got = np.asarray(a).astype(np.float64)
    assert (a.rate, a.channels) == (16000, 1)
    assert a.frames == math.ceil(n * 16000 / rate)
    if rate == 16000:
        assert "resampled" not in a.changes
        assert np.asarray(a).tobytes() == mono.tobytes()
        return
    assert "resampled" in a.changes
    want = ffmpeg_resample(mono, rate, 16000)
    m = min(len(got), len(want))
    e_got, e_want = float(np.mean(got[:m] ** 2)), float(np.mean(want[:m] ** 2))
    assert abs(e_got - e_want) <= 0.02 * e_want, (e_got, e_want)
    spec_got, spec_want = np.abs(np.fft.rfft(got[:m])), np.abs(np.fft.rfft(want[:m]))
    band = np.fft.rfftfreq(m, 1 / 16000) <= 7000
    g, w = spec_got[band], spec_want[band]
    cos = float(np.dot(g, w) / (np.linalg.norm(g) * np.linalg.norm(w)))
    assert cos >= 0.999, cos


def _file(name: str) -> bytes:
    return (airtest.CORPUS / "media" / name).read_bytes()


@pytest.mark.parametrize("name", ["h264_aac.mp4", "vp9_opus.webm", "h264_aac_video_first.mp4"])
def test_audio_of_a_video(name: str, state: dict[str, Any]) -> None:
    """audio() takes a video's sound (tracks_dropped); sanitize() refuses the video as unsupported
    with the container's mime; track="audio" on sanitize() gives audio()'s samples."""
    s = state["s"]
    data = _file(name)
    a = s.audio(data)
    assert "tracks_dropped" in a.changes
    with pytest.raises(airlock.Unsupported) as info:
        s.sanitize(data)
    assert info.value.mime == ("video/mp4" if name.endswith(".mp4") else "video/x-matroska")
    b = s.sanitize(data, track="audio")
    assert memoryview(b).tobytes() == memoryview(a).tobytes()
    with pytest.raises(airlock.Unsupported):
        s.sanitize(data, track="any")


def test_video_without_audio_is_unsupported(state: dict[str, Any]) -> None:
    s = state["s"]
    for call in (lambda: s.audio(_file("h264_only.mp4")), lambda: s.sanitize(_file("h264_only.mp4"))):
        with pytest.raises(airlock.Unsupported) as info:
            call()
        assert (info.value.type, info.value.mime) == ("mp4", "video/mp4")


@pytest.mark.parametrize(
    ("name", "expect", "detected"),
    [
        ("aac_stereo_44k.m4a", "matroska", "mp4"),
        ("opus_stereo.webm", "mp4", "matroska"),
        ("h264_aac.mp4", "matroska", "mp4"),
        ("aac_stereo_44k.m4a", "flac", "mp4"),
        ("../audio/aiff_s16_mono_8k.aiff", "mp4", "aiff"),
    ],
)
def test_expect_mismatch(name: str, expect: str, detected: str, state: dict[str, Any]) -> None:
    with pytest.raises(airlock.TypeMismatch) as info:
        state["s"].sanitize(_file(name), expect=expect)
    assert info.value.type == detected


@pytest.mark.parametrize(("name", "expect"), [("aac_stereo_44k.m4a", "mp4"), ("opus_stereo.webm", "matroska")])
def test_expect_match(name: str, expect: str, state: dict[str, Any]) -> None:
    """An expectation of a media type goes to the media zygote directly: the same samples."""
    s = state["s"]
    a = s.sanitize(_file(name), expect=expect)
    assert memoryview(a).tobytes() == memoryview(s.sanitize(_file(name))).tobytes()


def test_media_refused_when_not_allowed(state: dict[str, Any]) -> None:
    """An allowlist without the media types refuses an M4A as type, before any decoder runs."""
    with pytest.raises(airlock.TypeNotAllowed) as info:
        state["s"].sanitize(_file("aac_stereo_44k.m4a"), allowed_types=("wav", "flac"))
    assert info.value.type == "mp4"


def test_nothing_left_behind(state: dict[str, Any]) -> None:
    """Every Sanitizer of the module closed: the descriptors and children of before, and no
    zygote of either kind (base or media) still running."""
    s = state["s"]
    s.audio(_file("aac_mono_16k.m4a"))  # both zygotes are up now
    new = set(airtest.children()) - state["children"]
    assert {airtest.comm(p) for p in new} == {"airlock-zygote", "airlock-media"}, airtest.describe(new)
    for z in new:
        assert airtest.wait_until(lambda z=z: not airtest.workers(z), 5.0), "a zygote kept a worker"
    for made in state["made"].made:
        made.close()
    assert airtest.wait_gone(new, 5.0) == []
    assert set(airtest.children()) == state["children"]
    assert airtest.fd_count() == state["fds"]
