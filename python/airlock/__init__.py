# SPDX-License-Identifier: MIT
"""airlock: untrusted image and audio bytes in, clean pixels and PCM out.

Every byte is parsed in a fresh seccomp-confined worker process; this process
only checks a fixed-size frame and maps the result read-only. docs/python.md
describes the whole API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

from . import _airlock
from ._errors import (
    AirlockError,
    Busy,
    Cancelled,
    Closed,
    CpuLimit,
    Empty,
    HelperError,
    InputTooBig,
    Malformed,
    MemoryLimit,
    OutOfRange,
    ProtocolViolation,
    Rejected,
    SandboxEvent,
    SandboxUnavailable,
    SeccompViolation,
    Timeout,
    TooComplex,
    TooLarge,
    TooLong,
    TypeMismatch,
    TypeNotAllowed,
    Unsupported,
    WorkerCrash,
    error_class,
    make_error,
)
from ._options import TYPES, Options
from ._results import Audio, Event, Image, Video
from ._sanitizer import Sanitizer, default_sanitizer

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._sanitizer import Input

__version__: str = _airlock.version()

_airlock._init(Image, Audio, Video, make_error)


def image(data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Image:
    """Sanitizer.image() on the process-wide default Sanitizer."""
    return default_sanitizer().image(data, expect=expect, **options)


def audio(data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Audio:
    """Sanitizer.audio() on the process-wide default Sanitizer."""
    return default_sanitizer().audio(data, expect=expect, **options)


def video(
    data: Input,
    *,
    expect: Optional[str] = None,
    sampling: Optional[str] = None,
    num_frames: Optional[int] = None,
    fps: Optional[float] = None,
    min_frames: Optional[int] = None,
    max_frames: Optional[int] = None,
    max_pixels: Optional[int] = None,
    **options: Any,
) -> Video:
    """Sanitizer.video() on the process-wide default Sanitizer."""
    return default_sanitizer().video(data, expect=expect, sampling=sampling, num_frames=num_frames, fps=fps,
                                     min_frames=min_frames, max_frames=max_frames, max_pixels=max_pixels,
                                     **options)


async def video_async(
    data: Input,
    *,
    expect: Optional[str] = None,
    sampling: Optional[str] = None,
    num_frames: Optional[int] = None,
    fps: Optional[float] = None,
    min_frames: Optional[int] = None,
    max_frames: Optional[int] = None,
    max_pixels: Optional[int] = None,
    **options: Any,
) -> Video:
    """Sanitizer.video_async() on the process-wide default Sanitizer."""
    return await default_sanitizer().video_async(data, expect=expect, sampling=sampling, num_frames=num_frames,
                                                 fps=fps, min_frames=min_frames, max_frames=max_frames,
                                                 max_pixels=max_pixels, **options)


def sanitize(data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Union[Image, Audio, Video]:
    """Sanitizer.sanitize() on the process-wide default Sanitizer."""
    return default_sanitizer().sanitize(data, expect=expect, **options)


async def image_async(data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Image:
    """Sanitizer.image_async() on the process-wide default Sanitizer."""
    return await default_sanitizer().image_async(data, expect=expect, **options)


async def audio_async(data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Audio:
    """Sanitizer.audio_async() on the process-wide default Sanitizer."""
    return await default_sanitizer().audio_async(data, expect=expect, **options)


async def sanitize_async(
    data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]
) -> Union[Image, Audio, Video]:
    """Sanitizer.sanitize_async() on the process-wide default Sanitizer."""
    return await default_sanitizer().sanitize_async(data, expect=expect, **options)


__all__ = [
    "TYPES",
    "AirlockError",
    "Audio",
    "Busy",
    "Cancelled",
    "Closed",
    "CpuLimit",
    "Empty",
    "Event",
    "HelperError",
    "Image",
    "InputTooBig",
    "Malformed",
    "MemoryLimit",
    "Options",
    "OutOfRange",
    "ProtocolViolation",
    "Rejected",
    "SandboxEvent",
    "SandboxUnavailable",
    "Sanitizer",
    "SeccompViolation",
    "Timeout",
    "TooComplex",
    "TooLarge",
    "TooLong",
    "TypeMismatch",
    "TypeNotAllowed",
    "Unsupported",
    "Video",
    "WorkerCrash",
    "__version__",
    "audio",
    "audio_async",
    "default_sanitizer",
    "error_class",
    "image",
    "image_async",
    "sanitize",
    "sanitize_async",
    "video",
    "video_async",
]
