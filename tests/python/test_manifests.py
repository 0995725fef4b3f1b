# SPDX-License-Identifier: MIT
"""Every row of the C library's manifests through Python: corpus/images.tsv and
corpus/images-*.tsv (tests/test_images.c), corpus/audio.tsv (tests/test_audio_decode.c
--sandbox) and corpus/hostile.tsv (tests/test_hostile.c). Each row is one pytest case, named
after its file, and asserts what the manifest says the C library gives: the outcome (code name),
the detected type, the shape, the changes and, where the manifest has it, the FNV-1a 64 of the
output bytes, computed here over memoryview(result).

The options columns become per-call keywords; a value that loosens a default ceiling (which a
call cannot do) also configures the Sanitizer, as the C tests configure their contexts.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(120)

IMAGE_ROWS = airtest.image_rows()
AUDIO_ROWS = airtest.audio_rows()
HOSTILE_ROWS = airtest.hostile_rows()

# tests/test_audio_decode.c refused_by_libmagic(): rows the manifest rejects for a reason found in
# the decoder, where libmagic already sees no audio and the sandbox refuses the file as "type"
# before any decoder runs (a stricter refusal, which the C test accepts and reports).
REFUSED_BY_LIBMAGIC = {("corpus/audio/mp3_id3v2_then_junk.mp3", "-")}


class Sanitizers:
    """One Sanitizer per set of constructor keywords, shared by the module's rows; and the
    children this process had before the first (other modules may leave theirs: the default
    sanitizer's zygote, multiprocessing's resource tracker)."""

    def __init__(self) -> None:
        self.made: dict[tuple[tuple[str, Any], ...], Any] = {}
        self.children_before = set(airtest.children())

    def __call__(self, **kw: Any) -> Any:
        key = tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in kw.items()))
        if key not in self.made:
            self.made[key] = airlock.Sanitizer(**kw)
        return self.made[key]


GetSanitizer = Sanitizers


@pytest.fixture(scope="module")
def get_sanitizer() -> Iterator[Sanitizers]:
    made = Sanitizers()
    yield made
    for s in made.made.values():
        s.close()


def _read(path: str, large: Path | None = None) -> bytes:
    p = airtest.resolve(path, large)
    if p is None:
        if path.startswith("shared:"):
            pytest.skip(f"public corpus missing: {airtest.SHARED / path[7:]}")
        if path.startswith("large:"):
            pytest.skip("large hostile files not generated")
        pytest.fail(f"{path}: cannot read")
    return p.read_bytes()


def _frames_match(want: str, got: int) -> bool:
    if want == "?" or want == "*":
        return True
    if want.startswith("~"):
        n = float(want[1:])
        return abs(got - n) <= n * 0.01
    return got == int(want)


# ---------------------------------------------------------------------------------------------
# corpus/images.tsv, corpus/images-*.tsv


def test_image_manifests_are_read() -> None:
    """tests/test_images.c asserts more than 200 rows; a parser that lost the manifests would skip
    everything silently."""
    assert len(IMAGE_ROWS) > 2000
    assert {r.manifest for r in IMAGE_ROWS} >= {
        "images",
        "images-bmp",
        "images-gif",
        "images-icc",
        "images-tiff",
        "images-webp",
    }


def test_fnv_reference() -> None:
    """The compiled FNV-1a and the byte-at-a-time one agree, and both give the published test
    vector for "a" (so the manifests' hashes are compared with the right function)."""
    data = bytes(range(256)) * 64
    assert airtest.fnv1a64(data) == airtest.fnv1a64_py(data)
    assert airtest.fnv1a64_py(b"a") == 0xAF63DC4C8601EC8C
    assert airtest.fnv1a64(np.frombuffer(data, dtype=np.uint8).reshape(64, 64, 4)) == airtest.fnv1a64_py(data)


@pytest.mark.parametrize("row", IMAGE_ROWS, ids=[r.id for r in IMAGE_ROWS])
def test_image_row(row: airtest.ImageRow, get_sanitizer: GetSanitizer) -> None:
    data = _read(row.path)
    # As test_images.c's contexts: every type allowed (TIFF is off the default list); the call
    # then narrows it to the image types.
    s = get_sanitizer(allowed_types=airtest.IMAGE_TYPES + airtest.AUDIO_TYPES)
    kw = row.kwargs()
    if row.outcome != "ok":
        with pytest.raises(airlock.AirlockError) as info:
            s.image(data, **kw)
        e = info.value
        assert e.name == row.outcome
        # test_images.c checks the type only where both the manifest and the report have one.
        if row.type != "-" and e.type is not None:
            assert e.type == row.type
        return
    img = s.image(data, **kw)
    assert img.type == row.type
    assert (img.width, img.height, img.channels) == (row.width, row.height, row.channels)
    assert img.shape == (row.height, row.width, row.channels)
    assert img.mode == ("RGBA" if row.channels == 4 else "RGB")
    assert img.nbytes == row.width * row.height * row.channels
    mv = memoryview(img)
    assert mv.nbytes == img.nbytes
    if row.fnv != "-":
        assert f"{airtest.fnv1a64(mv):016x}" == row.fnv
    want = airtest.changes_set(row.changes)
    if want is not None:
        assert img.changes == want


# ---------------------------------------------------------------------------------------------
# corpus/audio.tsv


def test_audio_manifest_is_read() -> None:
    assert len(AUDIO_ROWS) > 150


@pytest.mark.parametrize("row", AUDIO_ROWS, ids=[r.id for r in AUDIO_ROWS])
def test_audio_row(row: airtest.AudioRow, get_sanitizer: GetSanitizer) -> None:
    ctor, call, skip = row.options()
    if skip:
        pytest.skip(skip)
    data = _read(row.path)
    s = get_sanitizer(**ctor)
    # tests/test_audio_decode.c run_case_sandboxed(): a type_mismatch row is asked with the
    # manifest's (wrong) type as the expectation, and refused because the detected one differs.
    expect = row.type if row.outcome == "type_mismatch" else None
    if row.outcome != "ok":
        with pytest.raises(airlock.AirlockError) as info:
            s.audio(data, expect=expect, **call)
        e = info.value
        if (row.path, row.opts) in REFUSED_BY_LIBMAGIC and e.name == "type":
            assert e.type is None
            return
        assert e.name == row.outcome
        if row.outcome == "type_mismatch":
            assert e.type in airtest.AUDIO_TYPES and e.type != row.type
        else:
            assert e.type == (None if row.type == "-" else row.type)
        if row.limit is not None:
            assert e.limit == row.limit
        return
    snd = s.audio(data, expect=expect, **call)
    dtype = call.get("dtype", "float32")
    assert snd.type == row.type
    assert snd.dtype == dtype
    assert (snd.rate, snd.channels) == (int(row.rate), int(row.channels))
    assert _frames_match(row.frames, snd.frames), f"frames {snd.frames}, manifest {row.frames}"
    want = airtest.changes_set(row.changes)
    if want is not None:
        assert snd.changes == want
    itemsize = np.dtype(dtype).itemsize
    assert snd.nbytes == snd.frames * snd.channels * itemsize
    pcm = np.asarray(snd)
    assert pcm.dtype == np.dtype(dtype)
    assert pcm.shape == ((snd.frames,) if snd.channels == 1 else (snd.frames, snd.channels))
    assert snd.duration == pytest.approx(snd.frames / snd.rate)
    if dtype == "float32":
        # The host checks decoded floats: a NaN or an infinity never reaches the caller.
        assert bool(np.isfinite(pcm).all())


# ---------------------------------------------------------------------------------------------
# corpus/hostile.tsv


@pytest.fixture(scope="module")
def large() -> Path:
    return airtest.hostile_large_dir()


def test_hostile_manifest_is_read() -> None:
    assert len(HOSTILE_ROWS) >= 200
    assert {r.cls for r in HOSTILE_ROWS} == {
        "dimension_lie",
        "decompression_bomb",
        "cpu_bomb",
        "structure",
        "palette_abuse",
        "apng_lie",
        "polyglot",
        "disguise",
        "metadata_payload",
        "audio_header_lie",
        "size_limit",
    }


def _check_hostile_output(s: Any, row: airtest.HostileRow, r: Any, call: dict[str, Any]) -> None:
    """tests/test_hostile.c check_output(): shape, changes, no payload byte in the raw output or
    its canonical encodings, and the lossless encoding sanitizes back to the same bytes."""
    assert r.type == row.type
    if isinstance(r, airlock.Video):
        # A video row's shape is one frame's; its description counts "seen N" and "T M" (test_hostile.c).
        w, h, c = (int(x) for x in row.shape[4:].split("x"))
        assert (r.width, r.height, c) == (w, h, 3)
        seen = re.search(r" seen (\d+)", row.desc)
        t = re.search(r" T (\d+)", row.desc)
        assert seen is None or r.frames_seen == int(seen.group(1))
        assert t is None or r.frames == int(t.group(1))
        assert r.changes == airtest.changes_set(row.changes)
        raw = memoryview(r).tobytes()
        assert not [m for m in airtest.MARKERS if m in raw], "a payload marker in the raw output"
        last = np.asarray(r)[-1]
        png = r.encode(r.frames - 1, "png")
        assert not [m for m in airtest.MARKERS if m in png], "a payload marker in the png output"
        assert np.array_equal(np.asarray(s.image(png)), last)
        return
    if row.shape.startswith("img:"):
        w, h, c = (int(x) for x in row.shape[4:].split("x"))
        assert isinstance(r, airlock.Image)
        assert (r.width, r.height, r.channels) == (w, h, c)
    else:
        _, rate, ch, frames = row.shape.split(":")
        assert isinstance(r, airlock.Audio)
        assert (r.rate, r.channels) == (int(rate), int(ch))
        assert r.frames > 0 and _frames_match(frames, r.frames)
    assert r.changes == airtest.changes_set(row.changes)
    raw = memoryview(r).tobytes()
    assert not [m for m in airtest.MARKERS if m in raw], "a payload marker in the raw output"
    if isinstance(r, airlock.Image):
        formats = ["png"] + (["jpeg"] if r.width <= 65500 and r.height <= 65500 else [])
    else:
        formats = ["wav", "flac"]
    encoded = {fmt: r.encode(fmt) for fmt in formats}
    for fmt, blob in encoded.items():
        assert not [m for m in airtest.MARKERS if m in blob], f"a payload marker in the {fmt} output"
    again_kw = {k: v for k, v in call.items() if k in ("keep_alpha", "dtype")}
    again = s.sanitize(encoded[formats[0]], **again_kw)
    assert tuple(np.asarray(again).shape) == tuple(np.asarray(r).shape)
    assert memoryview(again).tobytes() == raw


@pytest.mark.parametrize("row", HOSTILE_ROWS, ids=[r.id for r in HOSTILE_ROWS])
def test_hostile_row(row: airtest.HostileRow, get_sanitizer: GetSanitizer, large: Path) -> None:
    data = _read(row.path, large)
    ctor, call, expect = row.options()
    s = get_sanitizer(**ctor)
    if row.outcome != "ok":
        with pytest.raises(airlock.AirlockError) as info:
            s.sanitize(data, expect=expect, **call)
        e = info.value
        assert (e.name, e.limit) == (row.outcome, None if row.limit == "-" else row.limit)
        assert (e.type, e.mime) == row.want_type_mime()
        return
    r = s.sanitize(data, expect=expect, **call)
    _check_hostile_output(s, row, r, call)


def test_no_leak_after_the_manifests(get_sanitizer: GetSanitizer) -> None:
    """After every row: one zygote per Sanitizer the module opened, and at most one media zygote each
    (the MP4 and Matroska rows start it), no other new child; the zygotes hold no worker
    (test_hostile.c: no fd leaked, no extra child)."""
    s = get_sanitizer()
    s.image(airtest.CORPUS / "images" / "rgb8.png")
    new = set(airtest.children()) - get_sanitizer.children_before
    base = set(airtest.zygotes()) & new
    media = set(airtest.media_zygotes()) & new
    zs = base | media
    assert zs == new, airtest.describe(new - zs)
    assert len(base) == len(get_sanitizer.made) and len(media) <= len(get_sanitizer.made)
    assert airtest.wait_until(lambda: not any(airtest.workers(z) for z in zs), 5.0), "a zygote kept a worker"
