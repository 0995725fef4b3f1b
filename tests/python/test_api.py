# SPDX-License-Identifier: MIT
"""The Python API's surface (docs/python.md): options and their C keys, errors, Image and Audio against
Pillow / numpy / wave references, encode(), events and logging, counts(), inputs, close().

The manifest-wide, thread, asyncio, fork and lifetime suites live in their own files.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import struct
import subprocess
import wave
from pathlib import Path
from typing import Any

import airlock
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
PNG = CORPUS / "images" / "adam7_rgb8_40x32.png"  # 40x32 RGB, interlaced
RGBA = CORPUS / "images" / "rgba8.png"
JPEG = CORPUS / "images" / "jpeg_420.jpg"
ICC_PNG = CORPUS / "images" / "icc" / "png_rgb8_adobe.png"
WAV_STEREO = CORPUS / "audio" / "wav_s16_stereo_8k.wav"  # 8 kHz, 2 channels, 4000 frames, s16
WAV_16K = CORPUS / "audio" / "wav_s16_mono_16k.wav"
FLAC_2S = CORPUS / "audio" / "flac_mono_8k_2s.flac"


def header_enum(name: str) -> dict[str, int]:
    """NAME -> value of one enum of include/airlock.h, read from the header itself."""
    text = (ROOT / "include" / "airlock.h").read_text()
    body = re.search(rf"typedef enum {name} \{{(.*?)\}} {name};", text, re.S)
    assert body, name
    return {m[1]: int(m[2]) for m in re.finditer(r"AIRLOCK_(\w+)\s*=\s*(\d+)", body[1])}


# pyapi.md's table: keyword -> the C key it maps to.
KEYWORD_TO_C = {
    "max_input_bytes": "MAX_INPUT_BYTES",
    "max_width": "MAX_WIDTH",
    "max_height": "MAX_HEIGHT",
    "max_pixels": "MAX_PIXELS",
    "memory_bytes": "MEMORY_BYTES",
    "cpu_ms": "CPU_MS",
    "timeout_ms": "TIMEOUT_MS",
    "max_jpeg_scans": "MAX_JPEG_SCANS",
    "max_jpeg_coeffs": "MAX_JPEG_COEFFS",
    "max_png_inflated_bytes": "MAX_PNG_INFLATED_BYTES",
    "allowed_types": "ALLOWED_TYPES",
    "keep_alpha": "KEEP_ALPHA",
    "background": "BACKGROUND",
    "jpeg_quality": "JPEG_QUALITY",
    "webp_lossless": "WEBP_LOSSLESS",
    "track": "TRACK",
    "icc": "ICC",
    "max_icc_bytes": "MAX_ICC_BYTES",
    "max_seconds": "MAX_SECONDS",
    "max_decoded_bytes": "MAX_DECODED_BYTES",
    "max_audio_input_bytes": "MAX_AUDIO_INPUT_BYTES",
    "min_rate": "MIN_RATE",
    "max_rate": "MAX_RATE",
    "max_channels": "MAX_CHANNELS",
    "rate": "OUT_RATE",
    "mono": "MONO",
    "dtype": "SAMPLE_FORMAT",
    "allow_extra_codecs": "ALLOW_EXTRA_CODECS",
    "strict_sandbox": "STRICT_SANDBOX",
    "video_sampling": "VIDEO_SAMPLING",
    "video_num_frames": "VIDEO_NUM_FRAMES",
    "video_fps": "VIDEO_FPS_MILLI",
    "video_min_frames": "VIDEO_MIN_FRAMES",
    "video_max_frames": "VIDEO_MAX_FRAMES",
    "video_max_sampled_frames": "VIDEO_MAX_SAMPLED_FRAMES",
    "video_max_decoded_frames": "VIDEO_MAX_DECODED_FRAMES",
    "video_max_decoded_pixels": "VIDEO_MAX_DECODED_PIXELS",
    "video_max_frame_pixels": "VIDEO_MAX_FRAME_PIXELS",
    "video_max_output_bytes": "VIDEO_MAX_OUTPUT_BYTES",
    "video_cpu_ms": "VIDEO_CPU_MS",
    "video_timeout_ms": "VIDEO_TIMEOUT_MS",
}

TYPE_BIT = {name: 1 << v for name, v in header_enum("airlock_type").items() if name.startswith("TYPE_")}

# keyword -> (a value unlike the default, what get() gives back, the integer the C library must hold)
ROUNDTRIP: dict[str, tuple[Any, Any, int]] = {
    "max_input_bytes": (1000, 1000, 1000),
    "max_width": (100, 100, 100),
    "max_height": (200, 200, 200),
    "max_pixels": (5000, 5000, 5000),
    "memory_bytes": (128 << 20, 128 << 20, 128 << 20),
    "cpu_ms": (1234, 1234, 1234),
    "timeout_ms": (4321, 4321, 4321),
    "max_jpeg_scans": (7, 7, 7),
    "max_jpeg_coeffs": (99999, 99999, 99999),
    "max_png_inflated_bytes": (77777, 77777, 77777),
    "allowed_types": (["png", "wav"], frozenset({"png", "wav"}), TYPE_BIT["TYPE_PNG"] | TYPE_BIT["TYPE_WAV"]),
    "keep_alpha": (True, True, 1),
    "background": ((1, 2, 3), (1, 2, 3), 0x010203),
    "jpeg_quality": (55, 55, 55),
    "webp_lossless": (True, True, 1),
    "track": ("audio", "audio", 1),
    "icc": (False, False, 0),
    "max_icc_bytes": (4096, 4096, 4096),
    "max_seconds": (12, 12, 12),
    "max_decoded_bytes": (1 << 20, 1 << 20, 1 << 20),
    "max_audio_input_bytes": (1 << 20, 1 << 20, 1 << 20),
    "min_rate": (11025, 11025, 11025),
    "max_rate": (96000, 96000, 96000),
    "max_channels": (2, 2, 2),
    "rate": (16000, 16000, 16000),
    "mono": (True, True, 1),
    "dtype": ("int16", "int16", header_enum("airlock_sample_format")["SAMPLE_S16"]),
    "allow_extra_codecs": (True, True, 1),
    "strict_sandbox": (True, True, 1),
    "video_sampling": ("qwen3", "qwen3", 2),
    "video_num_frames": (-1, -1, (1 << 64) - 1),
    "video_fps": (29.97, 29.97, 29970),
    "video_min_frames": (6, 6, 6),
    "video_max_frames": (48, 48, 48),
    "video_max_sampled_frames": (64, 64, 64),
    "video_max_decoded_frames": (1000, 1000, 1000),
    "video_max_decoded_pixels": (1 << 30, 1 << 30, 1 << 30),
    "video_max_frame_pixels": (448 * 448, 448 * 448, 448 * 448),
    "video_max_output_bytes": (1 << 20, 1 << 20, 1 << 20),
    "video_cpu_ms": (5000, 5000, 5000),
    "video_timeout_ms": (7000, 7000, 7000),
}


def test_version_is_the_library_and_project_version() -> None:
    m = re.search(r"version: '([0-9.]+)'", (ROOT / "meson.build").read_text())
    assert m
    assert airlock.__version__ == m[1]
    assert airlock._airlock.version() == m[1]


def test_types_are_the_header_types_in_order() -> None:
    assert airlock.TYPES == (
        "png", "jpeg", "wav", "flac", "vorbis", "opus", "mp3", "aiff", "webp", "gif", "bmp", "tiff", "mp4", "matroska")
    header = header_enum("airlock_type")
    for i, name in enumerate(airlock.TYPES, start=1):
        key = "TYPE_VORBIS" if name == "vorbis" else f"TYPE_{name.upper()}"
        assert header[key] == i


def test_every_keyword_is_in_the_table() -> None:
    assert set(airlock._options.KEYS) == set(KEYWORD_TO_C) == set(ROUNDTRIP)
    assert set(airlock.Options.__annotations__) == set(KEYWORD_TO_C)


@pytest.mark.parametrize("keyword", sorted(KEYWORD_TO_C))
def test_keyword_maps_to_its_c_key(keyword: str) -> None:
    c_key = header_enum("airlock_key")[KEYWORD_TO_C[keyword]]
    value, back, raw = ROUNDTRIP[keyword]
    with airlock.Sanitizer() as s:
        before = s._ctx.get(c_key)
        assert before != raw, "the round-trip value must differ from the default"
        s.set(**{keyword: value})
        assert s.get(keyword) == back
        assert s._ctx.get(c_key) == raw  # the C library holds it under the header's key
    with airlock.Sanitizer(**{keyword: value}) as s:
        assert s.options()[keyword] == back


# keyword, a value tighter than the default, the file, the error class: each refuses that file
TIGHT = [
    ("max_pixels", 100, PNG, airlock.TooLarge),
    ("max_width", 10, PNG, airlock.TooLarge),
    ("max_height", 10, PNG, airlock.TooLarge),
    ("max_input_bytes", 100, PNG, airlock.InputTooBig),
    ("max_png_inflated_bytes", 100, PNG, airlock.TooLarge),
    ("max_jpeg_scans", 1, CORPUS / "images" / "jpeg_progressive.jpg", airlock.TooComplex),
    ("max_jpeg_coeffs", 100, JPEG, airlock.TooComplex),
    ("max_icc_bytes", 100, ICC_PNG, airlock.TooLarge),
    ("max_seconds", 1, FLAC_2S, airlock.TooLong),
    ("max_decoded_bytes", 1000, FLAC_2S, airlock.TooLong),
    ("max_channels", 1, WAV_STEREO, airlock.OutOfRange),
    ("max_rate", 8000, WAV_16K, airlock.OutOfRange),
    ("min_rate", 16000, WAV_STEREO, airlock.OutOfRange),
    ("max_audio_input_bytes", 100, WAV_16K, airlock.InputTooBig),
    ("allowed_types", ["jpeg"], PNG, airlock.TypeNotAllowed),
]


@pytest.mark.parametrize("keyword,value,path,cls", TIGHT, ids=[t[0] for t in TIGHT])
def test_per_call_limit_tightens_and_names_itself(sanitizer: Any, keyword: str, value: Any, path: Path,
                                                   cls: type) -> None:
    assert sanitizer.sanitize(path) is not None  # within the defaults
    with pytest.raises(cls) as e:
        sanitizer.sanitize(path, **{keyword: value})
    assert type(e.value) is cls
    assert e.value.limit == keyword
    assert keyword in str(e.value)


@pytest.mark.parametrize("keyword,value,path,cls", TIGHT, ids=[t[0] for t in TIGHT])
def test_per_call_limit_cannot_loosen(keyword: str, value: Any, path: Path, cls: type) -> None:
    loose = {"min_rate": 8000, "allowed_types": "all"}.get(keyword, airlock.default_sanitizer().get(keyword))
    with airlock.Sanitizer(**{keyword: value}) as s:
        with pytest.raises(cls) as e:
            s.sanitize(path, **{keyword: loose})
        assert e.value.limit == keyword


def test_per_call_choice_keys_are_the_calls(sanitizer: Any) -> None:
    rgba = sanitizer.image(RGBA, keep_alpha=True)
    assert rgba.mode == "RGBA" and rgba.channels == 4
    assert sanitizer.image(RGBA).mode == "RGB"  # the Sanitizer's setting is untouched
    with airlock.Sanitizer(keep_alpha=True) as s:
        assert s.image(RGBA, keep_alpha=False).mode == "RGB"


@pytest.mark.parametrize(
    "kw,word",
    [
        ({"max_pixel": 1}, "max_pixel"),
        ({"quality": 3}, "quality"),
        ({"expect_type": "png"}, "expect_type"),
    ],
)
def test_unknown_keyword_is_a_type_error_naming_it(sanitizer: Any, kw: dict[str, Any], word: str) -> None:
    with pytest.raises(TypeError, match=word):
        sanitizer.image(PNG, **kw)
    with pytest.raises(TypeError, match=word):
        airlock.Sanitizer(**kw)


@pytest.mark.parametrize(
    "kw,exc",
    [
        ({"jpeg_quality": 0}, ValueError),
        ({"jpeg_quality": 101}, ValueError),
        ({"background": (256, 0, 0)}, ValueError),
        ({"background": 0x1000000}, ValueError),
        ({"background": "white"}, TypeError),
        ({"dtype": "float64"}, ValueError),
        ({"allowed_types": ["heic"]}, ValueError),
        ({"allowed_types": [1]}, TypeError),
        ({"rate": 0}, ValueError),
        ({"rate": 1}, ValueError),
        ({"max_pixels": -1}, ValueError),
        ({"max_pixels": "10"}, TypeError),
        ({"max_pixels": 1.5}, TypeError),
        ({"max_pixels": True}, TypeError),
        ({"memory_bytes": 1}, ValueError),
        ({"keep_alpha": "yes"}, TypeError),
        ({"mono": 2}, TypeError),
    ],
)
def test_bad_value_names_the_keyword(sanitizer: Any, kw: dict[str, Any], exc: type) -> None:
    (word,) = kw
    with pytest.raises(exc, match=word):
        sanitizer.sanitize(PNG, **kw)
    with pytest.raises(exc, match=word):
        airlock.Sanitizer(**kw)


def test_bad_expect_is_a_value_error(sanitizer: Any) -> None:
    with pytest.raises(ValueError, match="expect"):
        sanitizer.image(PNG, expect="heic")


def test_dtype_accepts_numpy_dtypes(sanitizer: Any) -> None:
    for dt in (np.int16, np.dtype("int16"), "int16"):
        assert sanitizer.audio(WAV_STEREO, dtype=dt).dtype == "int16"
    for dt in (np.float32, np.dtype("float32"), "float32"):
        assert sanitizer.audio(WAV_STEREO, dtype=dt).dtype == "float32"


# ---- errors ----

REJECTED = {
    "MALFORMED": airlock.Malformed,
    "TYPE": airlock.TypeNotAllowed,
    "TYPE_MISMATCH": airlock.TypeMismatch,
    "TOO_LARGE": airlock.TooLarge,
    "INPUT_TOO_BIG": airlock.InputTooBig,
    "UNSUPPORTED": airlock.Unsupported,
    "EMPTY": airlock.Empty,
    "TOO_COMPLEX": airlock.TooComplex,
    "TOO_LONG": airlock.TooLong,
    "OUT_OF_RANGE": airlock.OutOfRange,
    "WORKER_CRASH": airlock.WorkerCrash,
    "TIMEOUT": airlock.Timeout,
    "MEMORY": airlock.MemoryLimit,
    "SECCOMP": airlock.SeccompViolation,
    "CPU_LIMIT": airlock.CpuLimit,
    "PROTOCOL": airlock.ProtocolViolation,
}
OTHERS = {
    "CLOSED": airlock.Closed,
    "CANCELLED": airlock.Cancelled,
    "SANDBOX_UNAVAILABLE": airlock.SandboxUnavailable,
    "HELPER": airlock.HelperError,
    "BUSY": airlock.Busy,
    "INVALID_ARG": airlock.AirlockError,
    "BAD_OPTION": airlock.AirlockError,
    "NOMEM": airlock.AirlockError,
    "IO": airlock.AirlockError,
    "INTERNAL": airlock.AirlockError,
}
PYAPI_NAMES = {
    1: "malformed", 2: "type", 3: "type_mismatch", 4: "too_large", 5: "input_too_big", 6: "unsupported",
    7: "empty", 8: "too_complex", 9: "too_long", 10: "out_of_range", 20: "worker_crash", 21: "timeout",
    22: "memory", 23: "seccomp", 24: "cpu_limit", 25: "protocol", 42: "closed", 43: "cancelled",
    60: "sandbox_unavailable", 61: "helper", 65: "busy",
}
ERRORS = {k[2:]: v for k, v in header_enum("airlock_error").items() if k.startswith("E_")}


def test_every_header_error_code_is_classified() -> None:
    assert set(ERRORS) == set(REJECTED) | set(OTHERS)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_code_maps_to_its_class(name: str) -> None:
    code = ERRORS[name]
    cls = {**REJECTED, **OTHERS}[name]
    assert airlock.error_class(code) is cls
    e = airlock._errors.make_error(code, 0, 0, None, 7, 0, None, 0)
    assert type(e) is cls
    assert e.code == code
    assert e.name == airlock._airlock.error_name(code)
    if name not in ("INVALID_ARG", "BAD_OPTION", "NOMEM", "IO", "INTERNAL"):
        assert e.name == PYAPI_NAMES[code]  # the stable names pyapi.md lists
    assert e.elapsed_us == 7
    assert isinstance(e, airlock.AirlockError)
    # exactly the input's faults are ValueErrors (what web frameworks answer 400)
    assert isinstance(e, ValueError) == (name in REJECTED)
    assert isinstance(e, airlock.Rejected) == (name in REJECTED)
    assert isinstance(e, airlock.SandboxEvent) == (20 <= code <= 25)


def test_error_names_are_the_c_names() -> None:
    assert airlock._airlock.error_name(ERRORS["MEMORY"]) == "memory"
    assert airlock._airlock.error_name(ERRORS["TYPE"]) == "type"
    assert airlock.InputTooBig.__mro__[1] is airlock.TooLarge


def test_errors_pickle(sanitizer: Any) -> None:
    import pickle

    with pytest.raises(airlock.TooLarge) as e:
        sanitizer.image(PNG, max_pixels=100)
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is airlock.TooLarge
    assert (back.code, back.name, back.limit, back.type, str(back)) == (
        e.value.code, e.value.name, e.value.limit, e.value.type, str(e.value))


def test_malformed_carries_name_and_type(sanitizer: Any) -> None:
    data = PNG.read_bytes()[:200]
    with pytest.raises(airlock.Malformed) as e:
        sanitizer.image(data)
    v = e.value
    assert (v.code, v.name, v.type, v.limit, v.mime) == (1, "malformed", "png", None, None)
    assert e.value.elapsed_us > 0
    assert "seccomp" in e.value.layers


def test_type_errors(sanitizer: Any) -> None:
    with pytest.raises(airlock.TypeNotAllowed) as e:
        sanitizer.sanitize(b"just some text, no known signature at all" * 4)
    assert e.value.name == "type" and e.value.type is None
    with pytest.raises(airlock.TypeMismatch) as m:
        sanitizer.sanitize(PNG, expect="jpeg")
    assert m.value.name == "type_mismatch" and m.value.type == "png"
    with pytest.raises(airlock.Empty):
        sanitizer.sanitize(b"")


def test_image_takes_only_images_and_audio_only_audio(sanitizer: Any) -> None:
    with pytest.raises(airlock.TypeNotAllowed):
        sanitizer.image(WAV_STEREO)
    with pytest.raises(airlock.TypeNotAllowed):
        sanitizer.audio(PNG)
    assert isinstance(sanitizer.sanitize(WAV_STEREO), airlock.Audio)
    assert isinstance(sanitizer.sanitize(PNG), airlock.Image)
    with pytest.raises(ValueError, match="allowed_types"):
        sanitizer.image(PNG, allowed_types=["wav"])


def test_unsupported_names_the_mime(sanitizer: Any) -> None:
    with pytest.raises(airlock.Unsupported) as e:
        sanitizer.sanitize(CORPUS / "hostile" / "svg_as.png")
    assert e.value.name == "unsupported"
    assert e.value.mime == "image/svg+xml"
    assert "image/svg+xml" in str(e.value)


def test_message_never_echoes_input(sanitizer: Any) -> None:
    marker = b"IGNORE ALL PREVIOUS INSTRUCTIONS"
    for data in (marker * 8, PNG.read_bytes()[:100] + marker):
        with pytest.raises(airlock.Rejected) as e:
            sanitizer.sanitize(data)
        assert marker.decode() not in str(e.value)
        assert marker.decode() not in repr(e.value)


# ---- Image against Pillow ----


def manifest_rows() -> list[list[str]]:
    """corpus/images.tsv rows of corpus/images/*.png|jpg with default options, decoded, where Pillow's
    convert("RGB") is airlock's rule (no alpha to composite, no 16-bit rounding, no CMYK or ICC formula)."""
    rows = []
    for line in (CORPUS / "images.tsv").read_text().splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        if f[1] != "-" or f[2] != "ok" or not f[0].startswith("corpus/images/"):
            continue
        if not f[0].endswith((".png", ".jpg")):
            continue
        if set(f[8].split(",")) & {"alpha_flattened", "depth_reduced", "cmyk_converted", "icc_converted"}:
            continue
        rows.append(f)
    return rows


ROWS = manifest_rows()


def test_enough_reference_rows() -> None:
    assert len(ROWS) >= 30
    assert {r[3] for r in ROWS} == {"png", "jpeg"}


@pytest.mark.parametrize("row", ROWS, ids=[Path(r[0]).name for r in ROWS])
def test_image_matches_pillow(sanitizer: Any, row: list[str]) -> None:
    from PIL import Image as PILImage
    from PIL import ImageOps

    path = ROOT / row[0]
    img = sanitizer.image(path)
    ref = np.asarray(ImageOps.exif_transpose(PILImage.open(path)).convert("RGB"))
    a = np.asarray(img)
    assert a.dtype == np.uint8 and a.shape == ref.shape
    assert np.array_equal(a, ref)
    assert (img.width, img.height, img.channels) == (int(row[4]), int(row[5]), int(row[6])) == (
        ref.shape[1], ref.shape[0], 3)
    assert img.shape == (img.height, img.width, img.channels)
    assert img.mode == "RGB"
    assert img.type == row[3]
    assert img.mime == {"png": "image/png", "jpeg": "image/jpeg"}[row[3]]
    assert img.changes == (frozenset() if row[8] == "-" else frozenset(row[8].split(",")))
    assert img.nbytes == a.nbytes == len(bytes(img)) == len(img.tobytes())
    assert bytes(img) == a.tobytes()
    m = memoryview(img)
    assert (m.format, m.shape, m.readonly, m.itemsize) == ("B", a.shape, True, 1)
    assert "seccomp" in img.layers and "rlimits" in img.layers
    assert np.array_equal(np.asarray(img.to_pil()), ref)


def test_keep_alpha_and_background(sanitizer: Any) -> None:
    rgba = np.asarray(sanitizer.image(RGBA, keep_alpha=True))
    assert rgba.shape[2] == 4
    alpha = rgba[..., 3]
    assert (alpha == 0).any() and (alpha == 255).any(), "the fixture needs clear and opaque pixels"
    for bg in ((0, 0, 0), (10, 200, 30), 0xFF00FF):
        want = bg if isinstance(bg, tuple) else ((bg >> 16) & 255, (bg >> 8) & 255, bg & 255)
        flat = sanitizer.image(RGBA, background=bg)
        a = np.asarray(flat)
        assert a.shape[2] == 3 and "alpha_flattened" in flat.changes
        assert (a[alpha == 0] == np.array(want, np.uint8)).all()
        assert np.array_equal(a[alpha == 255], rgba[..., :3][alpha == 255])
    pil = sanitizer.image(RGBA, keep_alpha=True).to_pil()
    assert pil.mode == "RGBA" and np.array_equal(np.asarray(pil), rgba)


def test_icc_option(sanitizer: Any) -> None:
    on = sanitizer.image(ICC_PNG)
    off = sanitizer.image(ICC_PNG, icc=False)
    assert "icc_converted" in on.changes and "icc_converted" not in off.changes
    assert not np.array_equal(np.asarray(on), np.asarray(off))


def test_result_buffer_is_read_only(sanitizer: Any) -> None:
    import ctypes

    img = sanitizer.image(PNG)
    view = (ctypes.c_char * 256)()  # room for a Py_buffer
    get = ctypes.pythonapi.PyObject_GetBuffer
    get.argtypes = [ctypes.py_object, ctypes.c_void_p, ctypes.c_int]
    pybuf_writable = 0x0001
    with pytest.raises(BufferError, match="read-only"):
        get(img, ctypes.addressof(view), pybuf_writable)
    with pytest.raises(TypeError):
        (ctypes.c_char * img.nbytes).from_buffer(img)
    a = np.asarray(img)
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0, 0, 0] = 1
    with pytest.raises(TypeError):
        airlock.Image()


# ---- Audio against the wave module ----


def wave_int16(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        return frames.reshape(-1, w.getnchannels()), w.getframerate(), w.getnchannels()


def test_audio_matches_wave_module(sanitizer: Any) -> None:
    ref, rate, channels = wave_int16(WAV_STEREO)
    snd = sanitizer.audio(WAV_STEREO, dtype="int16")
    a = np.asarray(snd)
    assert (snd.rate, snd.channels, snd.frames, snd.dtype) == (rate, channels, ref.shape[0], "int16") == (
        8000, 2, 4000, "int16")
    assert a.dtype == np.int16 and a.shape == (4000, 2)
    assert np.array_equal(a, ref)
    assert snd.duration == pytest.approx(0.5)
    assert (snd.type, snd.mime) == ("wav", "audio/wav") or snd.mime.startswith("audio/")
    assert snd.nbytes == a.nbytes
    m = memoryview(snd)
    assert (m.format, m.shape, m.itemsize, m.readonly) == ("h", (4000, 2), 2, True)
    f = sanitizer.audio(WAV_STEREO)
    assert f.dtype == "float32" and "format_converted" in f.changes
    assert np.array_equal(np.asarray(f), ref.astype(np.float32) / 32768)
    assert memoryview(f).format == "f"


def test_audio_mono_and_rate(sanitizer: Any) -> None:
    snd = sanitizer.audio(WAV_STEREO, mono=True, rate=16000)
    a = np.asarray(snd)
    assert a.ndim == 1 and snd.channels == 1 and snd.rate == 16000
    assert snd.frames == a.shape[0] == 8000
    assert {"downmixed", "resampled"} <= snd.changes


# ---- encode() ----


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append(data[pos + 4:pos + 8])
        pos += 12 + n
    return out


def test_encode_png_decodes_to_the_same_pixels(sanitizer: Any) -> None:
    from PIL import Image as PILImage

    for path, kw in ((PNG, {}), (RGBA, {"keep_alpha": True}), (JPEG, {})):
        img = sanitizer.image(path, **kw)
        data = img.encode("png")
        assert set(png_chunks(data)) == {b"IHDR", b"IDAT", b"IEND"}
        back = PILImage.open(io.BytesIO(data))
        assert back.mode == img.mode
        assert np.array_equal(np.asarray(back), np.asarray(img))
        assert img.encode() == data  # png is the default, and the same input gives the same bytes


def test_encode_jpeg_and_webp(sanitizer: Any) -> None:
    from PIL import Image as PILImage

    img = sanitizer.image(JPEG)
    a = np.asarray(img).astype(int)
    lo, hi = img.encode("jpeg", quality=20), img.encode("jpeg", quality=95)
    assert lo[:2] == hi[:2] == b"\xff\xd8" and len(lo) < len(hi)
    err = []
    for data in (lo, hi):
        back = np.asarray(PILImage.open(io.BytesIO(data)).convert("RGB")).astype(int)
        assert back.shape == a.shape
        err.append(np.abs(back - a).mean())
    assert err[1] < 8 and err[1] < err[0] < 32  # the same picture, closer at the higher quality
    lossless = img.encode("webp", lossless=True)
    assert lossless[:4] == b"RIFF" and lossless[8:12] == b"WEBP"
    assert np.array_equal(np.asarray(PILImage.open(io.BytesIO(lossless)).convert("RGB")), np.asarray(img))
    assert img.encode("raw") == img.tobytes()
    with pytest.raises(ValueError):
        img.encode("gif")
    with pytest.raises(ValueError):
        img.encode("jpeg", quality=0)


def test_encoder_defaults_follow_the_options() -> None:
    with airlock.Sanitizer(jpeg_quality=20, webp_lossless=True) as s:
        img = s.image(JPEG)
        assert img.encode("jpeg") == img.encode("jpeg", quality=20)
        assert img.encode("webp") == img.encode("webp", lossless=True)
        call = s.image(JPEG, jpeg_quality=70, webp_lossless=False)
        assert call.encode("jpeg") == call.encode("jpeg", quality=70) != img.encode("jpeg")
        assert call.encode("webp") == call.encode("webp", lossless=False)
    with airlock.Sanitizer() as s:
        img = s.image(JPEG)
        assert img.encode("jpeg") == img.encode("jpeg", quality=92)  # the library's default


def riff_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    out, pos = {}, 12
    while pos + 8 <= len(data):
        cid, n = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        out[cid] = data[pos + 8:pos + 8 + n]
        pos += 8 + n + (n & 1)
    return out


def test_encode_wav_decodes_to_the_same_samples(sanitizer: Any) -> None:
    snd = sanitizer.audio(WAV_STEREO, dtype="int16")
    data = snd.encode("wav")
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
        back = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    assert np.array_equal(back, np.asarray(snd))
    f = sanitizer.audio(WAV_STEREO)
    chunks = riff_chunks(f.encode("wav"))
    assert struct.unpack("<H", chunks[b"fmt "][:2])[0] == 3  # WAVE_FORMAT_IEEE_FLOAT
    assert np.array_equal(np.frombuffer(chunks[b"data"], "<f4").reshape(-1, 2), np.asarray(f))
    assert f.encode("raw") == f.tobytes()
    with pytest.raises(ValueError):
        f.encode("mp3")


def test_encode_flac_decodes_to_the_same_samples(sanitizer: Any, tmp_path: Path) -> None:
    snd = sanitizer.audio(WAV_STEREO, dtype="int16")
    data = snd.encode("flac")
    assert data[:4] == b"fLaC"
    again = sanitizer.audio(data, dtype="int16")
    assert np.array_equal(np.asarray(again), np.asarray(snd))
    flac = shutil.which("flac")
    if flac is None:
        pytest.skip("no flac(1) for an independent decode")
    (tmp_path / "a.flac").write_bytes(data)
    subprocess.run([flac, "-d", "-s", "-o", str(tmp_path / "a.wav"), str(tmp_path / "a.flac")], check=True)
    ref, _, _ = wave_int16(tmp_path / "a.wav")
    assert np.array_equal(ref, np.asarray(snd))


# ---- events, logging, counts ----


def test_on_event_and_logging_receive_rejections(caplog: pytest.LogCaptureFixture) -> None:
    events: list[airlock.Event] = []
    bad = PNG.read_bytes()[:200]
    with airlock.Sanitizer() as s:
        s.on_event = events.append
        assert s.on_event == events.append
        s.image(PNG)
        assert events == []  # ok requests are no events
        with caplog.at_level(logging.INFO, logger="airlock"):
            with pytest.raises(airlock.Malformed):
                s.image(bad, expect="png")
            with pytest.raises(airlock.TooLarge):
                s.image(PNG, max_pixels=10)
        s.on_event = None
        with pytest.raises(airlock.Malformed):
            s.image(bad)
    assert [e.name for e in events] == ["malformed", "too_large"]
    ev = events[0]
    assert (ev.code, ev.type, ev.expect, ev.input_bytes, ev.limit, ev.mime) == (1, "png", "png", 200, None, None)
    assert ev.elapsed_us > 0 and "seccomp" in ev.layers and ev.time > 1.6e9
    assert events[1].limit == "max_pixels" and events[1].input_bytes == PNG.stat().st_size
    with pytest.raises(AttributeError):
        ev.code = 2  # type: ignore[misc]
    recs = [r for r in caplog.records if r.name == "airlock"]
    assert [r.levelno for r in recs] == [logging.INFO, logging.INFO]
    assert "malformed" in recs[0].getMessage() and "max_pixels" in recs[1].getMessage()


def test_on_event_that_raises_does_not_hide_the_error(caplog: pytest.LogCaptureFixture) -> None:
    def boom(ev: airlock.Event) -> None:
        raise RuntimeError("hook")

    with airlock.Sanitizer() as s:
        s.on_event = boom
        with pytest.raises(airlock.Empty):
            s.sanitize(b"")
        with pytest.raises(TypeError):
            s.on_event = 3  # type: ignore[assignment]


def test_counts(sanitizer: Any) -> None:
    with airlock.Sanitizer() as s:
        c0 = s.counts()
        assert set(c0) >= {"ok", "malformed", "type", "too_large", "cancelled", "closed"}
        assert all(v == 0 for v in c0.values())
        s.image(PNG)
        s.audio(WAV_STEREO)
        for _ in range(3):
            with pytest.raises(airlock.Malformed):
                s.image(PNG.read_bytes()[:200])
        with pytest.raises(airlock.TooLarge):
            s.image(PNG, max_pixels=10)
        with pytest.raises(TypeError):
            s.image(PNG, nonsense=1)  # refused before any request: not counted
        c = s.counts()
        assert (c["ok"], c["malformed"], c["too_large"]) == (2, 3, 1)
        assert sum(c.values()) == 6


# ---- inputs ----


def test_inputs_path_and_bytes_like(sanitizer: Any) -> None:
    data = PNG.read_bytes()
    want = np.asarray(sanitizer.image(data))
    inputs: list[Any] = [str(PNG), PNG, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8),
                         memoryview(b"xx" + data)[2:]]
    for x in inputs:
        assert np.array_equal(np.asarray(sanitizer.image(x)), want), type(x)
    with pytest.raises(FileNotFoundError):
        sanitizer.image(str(PNG) + ".missing")
    with pytest.raises(TypeError):
        sanitizer.image(12345)


def test_module_helpers_use_the_default_sanitizer() -> None:
    s = airlock.default_sanitizer()
    assert s is airlock.default_sanitizer()
    before = s.counts()["ok"]
    assert isinstance(airlock.image(PNG), airlock.Image)
    assert isinstance(airlock.audio(WAV_STEREO), airlock.Audio)
    assert isinstance(airlock.sanitize(PNG, max_pixels=10**6), airlock.Image)
    assert s.counts()["ok"] == before + 3


# ---- close ----


def test_close_then_use_raises_closed() -> None:
    s = airlock.Sanitizer()
    img = s.image(PNG)
    s.close()
    s.close()  # idempotent
    assert s.closed
    for call in (lambda: s.image(PNG), lambda: s.audio(WAV_STEREO), lambda: s.sanitize(PNG), s.counts,
                 lambda: s.layers, lambda: s.set(max_pixels=10)):
        with pytest.raises(airlock.Closed) as e:
            call()
        assert e.value.name == "closed" and not isinstance(e.value, ValueError)
    assert np.asarray(img).shape == (32, 40, 3)  # results outlive their Sanitizer


def test_open_failure_names_the_helper_and_errno(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = "/nonexistent/airlock-zygote"
    monkeypatch.setenv("AIRLOCK_ZYGOTE", missing)
    with pytest.raises(airlock.HelperError) as e:
        airlock.Sanitizer()
    assert (e.value.code, e.value.name) == (61, "helper")
    assert missing in str(e.value) and "No such file or directory" in str(e.value)
    assert not isinstance(e.value, ValueError)


def test_sanitizer_layers_and_pickle() -> None:
    import pickle

    with airlock.Sanitizer() as s:
        assert {"rlimits", "no_new_privs", "seccomp"} <= s.layers
        with pytest.raises(TypeError):
            pickle.dumps(s)
