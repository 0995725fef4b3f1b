# SPDX-License-Identifier: MIT
"""Option keywords: their C keys, and the conversion of Python values to the C library's integers."""

from __future__ import annotations

import math
import operator
from typing import Any, Callable, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple, TypedDict, Union

from . import _airlock

# Type names in airlock_type order (1..14): the API's TYPES.
TYPES: Tuple[str, ...] = tuple(_airlock.type_name(t) for t in range(1, _airlock.TYPE_COUNT))
TYPE_CODES: Dict[str, int] = {name: code for code, name in enumerate(TYPES, start=1)}
TYPE_NAMES: Dict[int, str] = {code: name for name, code in TYPE_CODES.items()}
TYPES_IMAGE: int = _airlock.TYPES_IMAGE
TYPES_AUDIO: int = _airlock.TYPES_AUDIO
TYPES_MEDIA: int = _airlock.TYPES_MEDIA
TYPES_DEFAULT: int = _airlock.TYPES_DEFAULT
TYPES_ALL: int = TYPES_IMAGE | TYPES_AUDIO | TYPES_MEDIA

# "audio" is also what MP4 and Matroska files hold (M4A, WebM): Sanitizer.audio() takes their audio track.
_TYPE_GROUPS = {
    "image": TYPES_IMAGE,
    "audio": TYPES_AUDIO | TYPES_MEDIA,
    "media": TYPES_MEDIA,
    "default": TYPES_DEFAULT,
    "all": TYPES_ALL,
}

# airlock_track: which track of an MP4 or Matroska input is decoded.
_TRACKS = {"any": 0, "audio": 1, "video": 2}
_TRACK_NAMES = {v: k for k, v in _TRACKS.items()}

# airlock_sampling: whose frame choice a video request reproduces.
SAMPLINGS = {"vllm": 1, "qwen3": 2, "qwen_vl_utils": 3}
_SAMPLING_NAMES = {v: k for k, v in SAMPLINGS.items()}
# AIRLOCK_UNSET: video_num_frames=-1, vLLM's "every frame the fps allows".
_UNSET = (1 << 64) - 1

_DTYPES = {"float32": _airlock.SAMPLE_F32, "int16": _airlock.SAMPLE_S16}
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}


class Options(TypedDict, total=False):
    """Every option keyword, for type checkers (``Sanitizer(**kw)`` and each call take the same)."""

    max_input_bytes: int
    max_width: int
    max_height: int
    max_pixels: int
    memory_bytes: int
    cpu_ms: int
    timeout_ms: int
    max_jpeg_scans: int
    max_jpeg_coeffs: int
    max_png_inflated_bytes: int
    allowed_types: Union[str, Iterable[str]]
    keep_alpha: bool
    background: Union[Tuple[int, int, int], int]
    jpeg_quality: int
    webp_lossless: bool
    icc: bool
    max_icc_bytes: int
    max_seconds: int
    max_decoded_bytes: int
    max_audio_input_bytes: int
    min_rate: int
    max_rate: int
    max_channels: int
    rate: Optional[int]
    mono: bool
    dtype: Any
    allow_extra_codecs: bool
    strict_sandbox: bool
    track: str
    video_sampling: str
    video_num_frames: Optional[int]
    video_fps: Optional[float]
    video_min_frames: Optional[int]
    video_max_frames: Optional[int]
    video_max_sampled_frames: int
    video_max_decoded_frames: int
    video_max_decoded_pixels: int
    video_max_frame_pixels: Optional[int]
    video_max_output_bytes: int
    video_cpu_ms: int
    video_timeout_ms: int


def _int(name: str, v: object) -> int:
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"airlock: {name} must be an int, not {type(v).__name__}")
    n = operator.index(v)
    if n < 0:
        raise ValueError(f"airlock: {name} must not be negative")
    return int(n)


def _bool(name: str, v: object) -> int:
    if isinstance(v, bool):
        return int(v)
    if hasattr(v, "__index__") and operator.index(v) in (0, 1):
        return int(operator.index(v))
    raise TypeError(f"airlock: {name} must be a bool, not {type(v).__name__}")


def type_mask(name: str, v: object) -> int:
    """allowed_types: type names, or one of "image", "audio", "media", "default", "all"."""
    if isinstance(v, str):
        if v in _TYPE_GROUPS:
            return _TYPE_GROUPS[v]
        names: Iterable[object] = (v,)
    elif isinstance(v, Iterable):
        names = v
    else:
        raise TypeError(f"airlock: {name} must be an iterable of type names, not {type(v).__name__}")
    mask = 0
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"airlock: {name} holds {type(n).__name__}, not a type name")
        if n in _TYPE_GROUPS:
            mask |= _TYPE_GROUPS[n]
        elif n in TYPE_CODES:
            mask |= 1 << TYPE_CODES[n]
        else:
            raise ValueError(f"airlock: {name}: unknown type {n!r} (known: {', '.join(TYPES)})")
    return mask


def _background(name: str, v: object) -> int:
    if isinstance(v, tuple) and len(v) == 3:
        rgb = []
        for c in v:
            if isinstance(c, bool) or not isinstance(c, int):
                raise TypeError(f"airlock: {name} must be (r, g, b) ints or 0xRRGGBB")
            if not 0 <= c <= 255:
                raise ValueError(f"airlock: {name}: each of r, g, b must be within 0..255")
            rgb.append(c)
        return (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]
    if isinstance(v, int) and not isinstance(v, bool):
        if not 0 <= v <= 0xFFFFFF:
            raise ValueError(f"airlock: {name} must be within 0..0xFFFFFF")
        return v
    raise TypeError(f"airlock: {name} must be (r, g, b) or 0xRRGGBB, not {type(v).__name__}")


def _rate(name: str, v: object) -> int:
    return 0 if v is None else _int(name, v) or _reject(name, "0 Hz (None keeps the source rate)")


def _reject(name: str, what: str) -> int:
    raise ValueError(f"airlock: {name}: {what} is not allowed")


def dtype_name(name: str, v: object) -> str:
    """ "float32" / "int16", from a name or anything numpy calls a dtype (np.float32, np.dtype("int16"))."""
    if isinstance(v, str):
        s = v
    else:
        s = getattr(v, "name", None) or getattr(v, "__name__", None) or ""
        if not isinstance(s, str):
            s = ""
    aliases = {"f4": "float32", "<f4": "float32", "=f4": "float32", "i2": "int16", "<i2": "int16", "=i2": "int16"}
    s = aliases.get(s, s)
    if s not in _DTYPES:
        raise ValueError(f"airlock: {name} must be 'float32' or 'int16', not {v!r}")
    return s


def _dtype(name: str, v: object) -> int:
    return _DTYPES[dtype_name(name, v)]


def _track(name: str, v: object) -> int:
    if not isinstance(v, str) or v not in _TRACKS:
        raise ValueError(f"airlock: {name} must be 'any', 'audio' or 'video', not {v!r}")
    return _TRACKS[v]


def _sampling(name: str, v: object) -> int:
    if not isinstance(v, str) or v not in SAMPLINGS:
        raise ValueError(f"airlock: {name} must be one of {', '.join(map(repr, SAMPLINGS))}, not {v!r}")
    return SAMPLINGS[v]


def _optional_count(name: str, v: object) -> int:
    """None: the rule's default (0); -1: vLLM's "unset" (video_num_frames only); else a positive count."""
    if v is None:
        return 0
    if name == "video_num_frames" and not isinstance(v, bool) and hasattr(v, "__index__") and operator.index(v) == -1:
        return _UNSET
    n = _int(name, v)
    if n == 0:
        raise ValueError(f"airlock: {name} must be positive (None: the sampling rule's default)")
    return n


def _count_back(v: int) -> Optional[int]:
    return None if v == 0 else -1 if v == _UNSET else v


def _fps(name: str, v: object) -> int:
    """A rate in frames a second as the C key's thousandths, exactly: 2, 0.5 and 29.97 are; 1/3 is not."""
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"airlock: {name} must be a number, not {type(v).__name__}")
    f = float(v)
    if not math.isfinite(f) or f <= 0:
        raise ValueError(f"airlock: {name} must be a positive finite number")
    milli = round(f * 1000)
    # The worker and the host give the rule milli / 1000.0: it must be the very double the caller gave.
    if milli < 1 or milli / 1000.0 != f:
        raise ValueError(f"airlock: {name} must be a multiple of 0.001, not {v!r}")
    return milli


def _mask_to_names(mask: int) -> FrozenSet[str]:
    return frozenset(n for n, c in TYPE_CODES.items() if mask & (1 << c))


def _bg_tuple(v: int) -> Tuple[int, int, int]:
    return ((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)


_Conv = Callable[[str, object], int]
_Back = Callable[[int], object]

# keyword -> (C key, Python -> int, int -> Python); the C key values are airlock_key's.
KEYS: Dict[str, Tuple[int, _Conv, _Back]] = {
    "max_input_bytes": (1, _int, int),
    "max_width": (2, _int, int),
    "max_height": (3, _int, int),
    "max_pixels": (4, _int, int),
    "memory_bytes": (5, _int, int),
    "cpu_ms": (6, _int, int),
    "timeout_ms": (7, _int, int),
    "max_jpeg_scans": (8, _int, int),
    "allowed_types": (9, type_mask, _mask_to_names),
    "keep_alpha": (10, _bool, bool),
    "background": (11, _background, _bg_tuple),
    "jpeg_quality": (12, _int, int),
    "max_seconds": (13, _int, int),
    "max_decoded_bytes": (14, _int, int),
    "min_rate": (15, _int, int),
    "max_rate": (16, _int, int),
    "max_channels": (17, _int, int),
    "max_audio_input_bytes": (18, _int, int),
    "rate": (19, _rate, lambda v: v or None),
    "mono": (20, _bool, bool),
    "dtype": (21, _dtype, lambda v: _DTYPE_NAMES.get(v, str(v))),
    "allow_extra_codecs": (22, _bool, bool),
    "strict_sandbox": (23, _bool, bool),
    "max_jpeg_coeffs": (24, _int, int),
    "max_png_inflated_bytes": (25, _int, int),
    "icc": (26, _bool, bool),
    "max_icc_bytes": (27, _int, int),
    "webp_lossless": (28, _bool, bool),
    "track": (29, _track, lambda v: _TRACK_NAMES.get(v, str(v))),
    "video_sampling": (30, _sampling, lambda v: _SAMPLING_NAMES.get(v, str(v))),
    "video_num_frames": (31, _optional_count, _count_back),
    "video_fps": (32, _fps, lambda v: v / 1000.0 if v else None),
    "video_min_frames": (33, _optional_count, _count_back),
    "video_max_frames": (34, _optional_count, _count_back),
    "video_max_sampled_frames": (35, _int, int),
    "video_max_decoded_frames": (36, _int, int),
    "video_max_decoded_pixels": (37, _int, int),
    "video_max_frame_pixels": (38, lambda n, v: 0 if v is None else _int(n, v), lambda v: v or None),
    "video_max_output_bytes": (39, _int, int),
    "video_cpu_ms": (40, _int, int),
    "video_timeout_ms": (41, _int, int),
}

KEY_NAMES: Dict[int, str] = {key: name for name, (key, _, _) in KEYS.items()}
ALLOWED_TYPES = KEYS["allowed_types"][0]
TRACK = KEYS["track"][0]
TRACK_AUDIO = _TRACKS["audio"]
TRACK_VIDEO = _TRACKS["video"]


def convert(options: Mapping[str, object]) -> Dict[int, int]:
    """Keyword options to {C key: value}; TypeError for an unknown keyword, TypeError/ValueError for a bad value."""
    out: Dict[int, int] = {}
    for name, value in options.items():
        spec = KEYS.get(name)
        if spec is None:
            raise TypeError(f"airlock: unknown option {name!r}")
        out[spec[0]] = spec[1](name, value)
    return out


def invalid_value(key: int) -> ValueError:
    """What the C library refusing a value (AIRLOCK_E_INVALID_ARG) becomes: a ValueError naming the keyword."""
    return ValueError(f"airlock: {KEY_NAMES.get(key, str(key))}: value out of range")


def build(values: Mapping[int, int]) -> "_airlock.Options":
    """A C options object holding values; ValueError naming the keyword the library refuses."""
    o = _airlock.Options()
    for key, v in values.items():
        if o.set(key, v) != 0:
            raise invalid_value(key)
    return o


def to_python(key: int, value: int) -> object:
    """A C value back as the keyword's Python value."""
    return KEYS[KEY_NAMES[key]][2](value)
