# SPDX-License-Identifier: MIT
"""Zero-copy, read-only and lifetime of results: np.asarray shares the result's memory (no copy,
for images and audio), nothing can write to it, and views keep it alive after the Image, the
Sanitizer (closed and deleted) and the default sanitizer are gone. The cases that would crash a
broken binding run in a child process, so that a segfault fails a test instead of the run.
"""

from __future__ import annotations

import ctypes
import gc
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(180)

IMAGES = airtest.CORPUS / "images"
PNG = (IMAGES / "rgb8.png").read_bytes()
RGBA_PNG = (IMAGES / "rgba8.png").read_bytes()
JPEG = (IMAGES / "jpeg_exif_orientation6.jpg").read_bytes()
WAV = (airtest.CORPUS / "audio" / "wav_s16_stereo_8k.wav").read_bytes()
WAV_MONO = (airtest.CORPUS / "audio" / "wav_s16_mono_16k.wav").read_bytes()

PyBUF_WRITABLE = 0x0001


def request_writable(obj: Any) -> None:
    """PyObject_GetBuffer(obj, PyBUF_WRITABLE), as a C consumer asks: raises what the exporter
    raises. (ctypes' from_buffer and readinto() replace the exporter's error with a TypeError.)"""
    get = ctypes.pythonapi.PyObject_GetBuffer
    get.argtypes = [ctypes.py_object, ctypes.c_void_p, ctypes.c_int]
    get.restype = ctypes.c_int
    release = ctypes.pythonapi.PyBuffer_Release
    release.argtypes = [ctypes.c_void_p]
    release.restype = None
    view = ctypes.create_string_buffer(256)  # larger than any Py_buffer
    if get(obj, ctypes.addressof(view), PyBUF_WRITABLE) == 0:
        release(ctypes.addressof(view))


def owners(a: Any) -> list[Any]:
    """The chain of objects a view's memory belongs to: ndarray.base, then memoryview.obj."""
    out = []
    while a is not None:
        out.append(a)
        if isinstance(a, np.ndarray):
            a = a.base
        elif isinstance(a, memoryview):
            a = a.obj
        else:
            a = None
    return out


@pytest.fixture
def s() -> Any:
    with airlock.Sanitizer() as san:
        yield san


def test_request_writable_reaches_the_exporter() -> None:
    """The helper itself: bytes refuses a writable buffer with BufferError; bytearray gives one."""
    with pytest.raises(BufferError):
        request_writable(b"abc")
    request_writable(bytearray(b"abc"))


# ---------------------------------------------------------------------------------------------
# Zero-copy


def test_image_zero_copy(s: Any) -> None:
    img = s.image(PNG)
    a, b = np.asarray(img), np.asarray(img)
    assert a.shape == img.shape == (img.height, img.width, img.channels)
    assert a.dtype == np.uint8
    assert np.shares_memory(a, b)
    assert not a.flags.owndata
    assert a.flags.c_contiguous
    assert any(o is img for o in owners(a)), "the array's base chain does not reach the Image"
    # numpy 2: copy=False raises if a copy were needed.
    c = np.asarray(img, copy=False)
    assert np.shares_memory(a, c)
    # A view through memoryview and one through numpy are the same memory.
    assert np.shares_memory(a, np.frombuffer(memoryview(img), dtype=np.uint8))
    assert bytes(img) == a.tobytes() == img.tobytes()


@pytest.mark.parametrize("dtype,fmt", [("float32", "f"), ("int16", "h")])
@pytest.mark.parametrize("wav", ["stereo", "mono"])
def test_audio_zero_copy(s: Any, dtype: str, fmt: str, wav: str) -> None:
    snd = s.audio(WAV if wav == "stereo" else WAV_MONO, dtype=dtype)
    a, b = np.asarray(snd), np.asarray(snd)
    assert np.shares_memory(a, b)
    assert not a.flags.owndata
    assert any(o is snd for o in owners(a))
    assert a.dtype == np.dtype(dtype)
    want_shape = (snd.frames,) if snd.channels == 1 else (snd.frames, snd.channels)
    assert a.shape == want_shape
    mv = memoryview(snd)
    assert mv.readonly and mv.format == fmt and mv.shape == want_shape
    assert mv.nbytes == snd.nbytes == a.nbytes
    assert np.asarray(snd, copy=False).ctypes.data == a.ctypes.data


def test_memoryview_shape(s: Any) -> None:
    img = s.image(RGBA_PNG, keep_alpha=True)
    mv = memoryview(img)
    assert mv.readonly
    assert mv.format == "B" and mv.itemsize == 1
    assert mv.shape == (img.height, img.width, 4) and mv.ndim == 3
    assert mv.c_contiguous
    assert mv.nbytes == img.nbytes == img.width * img.height * 4


# ---------------------------------------------------------------------------------------------
# Read-only


def test_read_only(s: Any) -> None:
    for r in (s.image(PNG), s.audio(WAV)):
        a = np.asarray(r)
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0] = 1
        with pytest.raises(ValueError):
            a.setflags(write=True)
        with pytest.raises(ValueError):
            np.copyto(a, 0)
        mv = memoryview(r)
        assert mv.readonly
        with pytest.raises(TypeError):
            mv.cast("B")[0] = 1
        with pytest.raises(BufferError):
            request_writable(r)
        # A writable view cannot be had through numpy either.
        with pytest.raises(ValueError):
            np.frombuffer(r, dtype=np.uint8).setflags(write=True)
        before = bytes(r)
        with pytest.raises((TypeError, BufferError)):
            ctypes.c_char.from_buffer(r)
        assert bytes(r) == before


# ---------------------------------------------------------------------------------------------
# Lifetime


def test_views_outlive_image_and_sanitizer() -> None:
    s = airlock.Sanitizer()
    img = s.image(JPEG)
    a = np.asarray(img)
    tail = a[1:, ::2]  # a view of a view
    mv = memoryview(img)
    saved, saved_tail, saved_bytes = a.copy(), tail.copy(), bytes(img)
    try:
        ref: weakref.ref[Any] | None = weakref.ref(img)
    except TypeError:
        ref = None
    del img
    s.close()
    del s
    gc.collect()
    # Touch everything after the owner and its context are gone, and after fresh allocations
    # that would land in freed memory.
    junk = [bytearray(len(saved_bytes)) for _ in range(8)]
    assert np.array_equal(a, saved)
    assert np.array_equal(tail, saved_tail)
    assert mv.tobytes() == saved_bytes
    if ref is not None:
        assert ref() is not None, "the Image died while views of it were alive"
        del a, tail, mv
        gc.collect()
        assert ref() is None, "the Image outlived its last view"
    del junk


def test_audio_views_outlive_sanitizer() -> None:
    s = airlock.Sanitizer()
    snd = s.audio(WAV, rate=16000, mono=True)
    pcm = np.asarray(snd)
    saved = pcm.copy()
    del snd
    s.close()
    del s
    gc.collect()
    assert np.array_equal(pcm, saved)


def test_closed_sanitizer_refuses(s: Any) -> None:
    img = s.image(PNG)
    s.close()
    s.close()  # idempotent
    with pytest.raises(airlock.Closed) as info:
        s.image(PNG)
    assert info.value.name == "closed" and not isinstance(info.value, ValueError)
    assert np.asarray(img).shape == img.shape


# ---------------------------------------------------------------------------------------------
# to_pil


@pytest.mark.parametrize(
    "data,kw,mode",
    [(PNG, {}, "RGB"), (RGBA_PNG, {"keep_alpha": True}, "RGBA"), (RGBA_PNG, {}, "RGB"), (JPEG, {}, "RGB")],
)
def test_to_pil(s: Any, data: bytes, kw: dict[str, Any], mode: str) -> None:
    pytest.importorskip("PIL")
    img = s.image(data, **kw)
    pil = img.to_pil()
    assert pil.mode == img.mode == mode
    assert pil.size == (img.width, img.height)
    assert np.array_equal(np.asarray(pil), np.asarray(img))
    del img
    gc.collect()
    assert np.asarray(pil).shape[2] == len(mode)


# ---------------------------------------------------------------------------------------------
# No segfault from Python code


def test_tricky_cases_in_a_child() -> None:
    """scripts/tricky.py does what a careless caller does (views after everything is freed,
    released memoryviews, closed Sanitizers, bad arguments, results across threads); a crash
    there is a nonzero exit, not a lost test run."""
    p = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(airtest.SCRIPTS / "tricky.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert p.stdout.strip().endswith("tricky: ok"), p.stdout + p.stderr
