# SPDX-License-Identifier: MIT
"""Image, Audio and Video: the C results, with names for their codes and masks; Event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, Tuple, cast

from . import _airlock
from ._errors import layer_names
from ._options import TYPE_NAMES

if TYPE_CHECKING:
    import PIL.Image

_CHANGES: Dict[int, FrozenSet[str]] = {}


def change_list(mask: int) -> List[str]:
    """An airlock_change mask as names in bit order, the order `airlock scan` lists them in."""
    out = []
    bit = 1
    while bit <= mask:
        if mask & bit:
            n = _airlock.change_name(bit)
            out.append(n if n is not None else hex(bit))
        bit <<= 1
    return out


def change_names(mask: int) -> FrozenSet[str]:
    """An airlock_change mask as names ("metadata_dropped", "rotated", ...)."""
    names = _CHANGES.get(mask)
    if names is None:
        names = _CHANGES[mask] = frozenset(change_list(mask))
    return names


_IMAGE_FORMATS = {"png": _airlock.FORMAT_PNG, "jpeg": _airlock.FORMAT_JPEG, "webp": _airlock.FORMAT_WEBP,
                  "raw": _airlock.FORMAT_RAW}
_AUDIO_FORMATS = {"wav": _airlock.FORMAT_WAV, "flac": _airlock.FORMAT_FLAC, "raw": _airlock.FORMAT_RAW}


class _Result(_airlock.Result):
    __slots__ = ()

    @property
    def type(self) -> str:
        """The detected type ("png", "wav", ...)."""
        return TYPE_NAMES[self._type]

    @property
    def mime(self) -> str:
        """The detected type's MIME type ("image/png")."""
        return _airlock.type_mime(self._type)

    @property
    def changes(self) -> FrozenSet[str]:
        """What sanitizing changed."""
        return change_names(self._changes)

    @property
    def layers(self) -> FrozenSet[str]:
        """The confinement layers the worker ran under."""
        return layer_names(self._layers)

    def __bytes__(self) -> bytes:
        return self.tobytes()


class Image(_Result):
    """Clean pixels: RGB8 or RGBA8, (height, width, channels), read-only, zero-copy behind the buffer protocol."""

    __slots__ = ()

    @property
    def mode(self) -> str:
        """ "RGB" or "RGBA" (Pillow's names)."""
        return "RGBA" if self.channels == 4 else "RGB"

    def to_pil(self) -> "PIL.Image.Image":
        """A Pillow image of the pixels (Pillow is imported here, not before). RGBA shares the memory; RGB is
        copied (Pillow keeps RGB as four bytes a pixel)."""
        from PIL import Image as PILImage

        mode = self.mode
        return PILImage.frombuffer(mode, (self.width, self.height), cast(Any, self), "raw", mode, 0, 1)

    def encode(self, format: str = "png", *, quality: Optional[int] = None, lossless: Optional[bool] = None) -> bytes:
        """A canonical file written by the host: "png", "jpeg", "webp" or "raw" (the bare pixels).

        quality (1..100, JPEG and lossy WebP) and lossless (WebP) default to the request's jpeg_quality and
        webp_lossless options, else the Sanitizer's, else the library's.
        """
        fmt = _IMAGE_FORMATS.get(format)
        if fmt is None:
            raise ValueError(f"airlock: an image encodes as {', '.join(_IMAGE_FORMATS)}, not {format!r}")
        if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int)
                                    or not 1 <= quality <= 100):
            raise ValueError("airlock: quality must be an int within 1..100")
        q = -1 if quality is None else quality
        lo = -1 if lossless is None else int(bool(lossless))
        return self._encode(fmt, q, lo)

    def __repr__(self) -> str:
        return f"<airlock.Image {self.type} {self.width}x{self.height} {self.mode}>"


class Audio(_Result):
    """Clean PCM: (frames,) or (frames, channels), float32 or int16, read-only, zero-copy."""

    __slots__ = ()

    @property
    def dtype(self) -> str:
        """ "float32" or "int16"."""
        return "int16" if self._sample_format == _airlock.SAMPLE_S16 else "float32"

    @property
    def duration(self) -> float:
        """Seconds: frames / rate."""
        return self.frames / self.rate if self.rate else 0.0

    def encode(self, format: str = "wav") -> bytes:
        """A canonical file: "wav", "flac" or "raw" (the interleaved samples)."""
        fmt = _AUDIO_FORMATS.get(format)
        if fmt is None:
            raise ValueError(f"airlock: audio encodes as {', '.join(_AUDIO_FORMATS)}, not {format!r}")
        return self._encode(fmt, -1, -1)

    def __repr__(self) -> str:
        return f"<airlock.Audio {self.type} {self.rate} Hz x{self.channels} {self.frames} frames {self.dtype}>"


class Video(_Result):
    """Sampled video frames: RGB8, (frames, height, width, 3), read-only, zero-copy behind the buffer protocol.

    ``numpy.asarray(v)`` is the frames; ``v.frames`` (and ``len(v)``) their count. Which decoded frames they are,
    and when each is shown, are ``indices`` and ``pts_us``; ``metadata`` is the dict vLLM's video loaders return.
    """

    __slots__ = ()

    def __len__(self) -> int:
        return int(self.frames)

    def _info(self) -> Tuple[int, int, int, int, int, int, int]:
        v = self._video
        assert v is not None
        return v

    @property
    def indices(self) -> Tuple[int, ...]:
        """Each sampled frame's index among the decoded frames (0-based, presentation order)."""
        return tuple(i for i, _ in self._samples)

    @property
    def pts_us(self) -> Tuple[int, ...]:
        """Each sampled frame's time, microseconds after the first decoded frame."""
        return tuple(t for _, t in self._samples)

    @property
    def timestamps(self) -> Tuple[float, ...]:
        """pts_us in seconds."""
        return tuple(t / 1e6 for _, t in self._samples)

    @property
    def frames_seen(self) -> int:
        """Frames decoded: the total the sampling rule was given (counted, never the container's claim)."""
        return self._info()[0]

    @property
    def fps_fraction(self) -> Tuple[int, int]:
        """The rate the rule was given, (num, den); (0, 0) when unknown."""
        v = self._info()
        return (v[1], v[2])

    @property
    def fps(self) -> float:
        """fps_fraction as a float; 0.0 when unknown."""
        n, d = self.fps_fraction
        return n / d if d else 0.0

    @property
    def duration_us(self) -> int:
        """From the first decoded frame's time to the end of the last one."""
        return self._info()[3]

    @property
    def source_size(self) -> Tuple[int, int]:
        """(width, height) of the decoded frames, before rotation and scaling."""
        v = self._info()
        return (v[4], v[5])

    @property
    def rotation(self) -> int:
        """Degrees clockwise applied from the container's display matrix: 0, 90, 180 or 270."""
        return self._info()[6]

    @property
    def metadata(self) -> Dict[str, Any]:
        """The dict vLLM's loaders return beside the frames, with the same keys and arithmetic (duration is
        total_num_frames / fps, as vLLM computes it); video_backend is "airlock"."""
        total, fps = self.frames_seen, self.fps
        idx = list(self.indices)
        return {
            "total_num_frames": total,
            "fps": fps,
            "duration": total / fps if fps > 0 else 0,
            "video_backend": "airlock",
            "frames_indices": idx,
            "do_sample_frames": len(idx) == total,
        }

    def to_numpy(self) -> Any:
        """numpy.asarray(self): (frames, height, width, 3) uint8, read-only, sharing the memory."""
        import numpy

        return numpy.asarray(self)

    def encode(self, index: int, format: str = "png", *, quality: Optional[int] = None,
               lossless: Optional[bool] = None) -> bytes:
        """Sampled frame index as a canonical image file ("png", "jpeg", "webp" or "raw"), as Image.encode."""
        fmt = _IMAGE_FORMATS.get(format)
        if fmt is None:
            raise ValueError(f"airlock: a video frame encodes as {', '.join(_IMAGE_FORMATS)}, not {format!r}")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.frames:
            raise IndexError(f"airlock: frame {index!r} of {self.frames}")
        if quality is not None and (isinstance(quality, bool) or not isinstance(quality, int)
                                    or not 1 <= quality <= 100):
            raise ValueError("airlock: quality must be an int within 1..100")
        q = -1 if quality is None else quality
        lo = -1 if lossless is None else int(bool(lossless))
        return self._encode(fmt, q, lo, index)

    def __repr__(self) -> str:
        return (f"<airlock.Video {self.type} {self.frames} frames {self.width}x{self.height} of "
                f"{self.frames_seen} at {self.fps:g} fps>")


@dataclass(frozen=True)
class Event:
    """One request that did not end "ok", as on_event and the "airlock" logger receive it. Numbers and names only."""

    time: float
    """Epoch seconds when the request ended."""
    code: int
    name: str
    type: Optional[str]
    """The detected type, or None."""
    expect: Optional[str]
    """The caller's expectation, or None."""
    input_bytes: int
    elapsed_us: int
    limit: Optional[str]
    layers: FrozenSet[str]
    mime: Optional[str]


ResultShape = Tuple[int, ...]
