# SPDX-License-Identifier: MIT
"""Sanitizer: one C context and its zygote; the module-level default; events and logging."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, FrozenSet, Optional, Set, Tuple, Union, cast

from . import _airlock
from ._errors import CODES, AirlockError, layer_names
from ._options import (
    ALLOWED_TYPES,
    KEYS,
    TRACK,
    TRACK_AUDIO,
    TRACK_VIDEO,
    TYPE_CODES,
    TYPES_AUDIO,
    TYPES_IMAGE,
    TYPES_MEDIA,
    build,
    convert,
    invalid_value,
    to_python,
)
from ._results import Audio, Event, Image, Video

if TYPE_CHECKING:
    from typing_extensions import Buffer, Unpack

    from ._options import Options

    Input = Union[Buffer, str, "os.PathLike[str]"]

logger = logging.getLogger("airlock")
# A library's logger: silent until the application configures logging (no lastResort lines on stderr).
logger.addHandler(logging.NullHandler())

# Logging levels by airlock_error_classify() class: rejected, sandbox event, caller, internal.
_LEVELS = {1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR, 4: logging.ERROR}
_CANCELLED = 43

EventHook = Callable[[Event], None]

_IMAGE_ONLY = {ALLOWED_TYPES: TYPES_IMAGE}
# Audio is also the audio track of an MP4 or Matroska file (M4A, WebM, a video's sound).
_AUDIO_ONLY = {ALLOWED_TYPES: TYPES_AUDIO | TYPES_MEDIA, TRACK: TRACK_AUDIO}
# Video is the first video track of an MP4 or Matroska file.
_VIDEO_ONLY = {ALLOWED_TYPES: TYPES_MEDIA, TRACK: TRACK_VIDEO}
_KINDS = {id(_IMAGE_ONLY): "image", id(_AUDIO_ONLY): "audio", id(_VIDEO_ONLY): "video"}


def _video_options(
    options: Dict[str, Any],
    sampling: Optional[str],
    num_frames: Optional[int],
    fps: Optional[float],
    min_frames: Optional[int],
    max_frames: Optional[int],
    max_pixels: Optional[int],
) -> Dict[str, Any]:
    """video()'s shorthand keywords as the options they stand for (TypeError when both are given).
    max_pixels is the per-frame budget frames are scaled down to (video_max_frame_pixels), as in
    qwen_vl_utils; the refusal limit of that name stays the Sanitizer's."""
    out = dict(options)
    for name, key, v in (("sampling", "video_sampling", sampling), ("num_frames", "video_num_frames", num_frames),
                         ("fps", "video_fps", fps), ("min_frames", "video_min_frames", min_frames),
                         ("max_frames", "video_max_frames", max_frames),
                         ("max_pixels", "video_max_frame_pixels", max_pixels)):
        if v is None:
            continue
        if key in out:
            raise TypeError(f"airlock: {name} and {key} are the same option; give one")
        out[key] = v
    return out


def _read_input(data: Any) -> Any:
    """A path is read by the host (then sanitized like bytes); anything else goes to the buffer protocol as is."""
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    return data


def _nbytes(data: Any) -> int:
    try:
        with memoryview(data) as m:
            return m.nbytes
    except TypeError:
        return 0


class Sanitizer:
    """One airlock context: a zygote helper and its limits. Thread-safe; usable as a context manager.

    Keyword options set the context (see docs/python.md for each); every call takes the same keywords,
    and its limits can only tighten the Sanitizer's.
    """

    def __init__(self, **options: Unpack[Options]) -> None:
        values = convert(options)
        self._on_event: Optional[EventHook] = None
        self._waiters: Set[Tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]", int]] = set()
        self._ctx = _airlock.Context()
        try:
            for key, v in values.items():
                if self._ctx.set(key, v) != 0:
                    raise invalid_value(key)
        except BaseException:
            self._ctx.close()
            raise

    # ---- settings ----

    def set(self, **options: Unpack[Options]) -> None:
        """Changes the Sanitizer's options for requests that start afterwards."""
        for key, v in convert(options).items():
            if self._ctx.set(key, v) != 0:
                raise invalid_value(key)

    def get(self, name: str) -> Any:
        """The Sanitizer's value of one option keyword, as its Python value."""
        spec = KEYS.get(name)
        if spec is None:
            raise TypeError(f"airlock: unknown option {name!r}")
        return to_python(spec[0], self._ctx.get(spec[0]))

    def options(self) -> Dict[str, Any]:
        """Every option keyword and its value."""
        return {name: self.get(name) for name in KEYS}

    @property
    def layers(self) -> FrozenSet[str]:
        """The confinement layers the zygote applied ("rlimits", "no_new_privs", "seccomp", namespaces)."""
        return layer_names(self._ctx.layers)

    @property
    def closed(self) -> bool:
        return bool(self._ctx.closed)

    def counts(self) -> Dict[str, int]:
        """Requests ended per code name ("ok", "malformed", ...) since the Sanitizer opened; every code listed."""
        count = self._ctx.count
        return {_airlock.error_name(c): count(c) for c in CODES}

    @property
    def on_event(self) -> Optional[EventHook]:
        """Called with an Event for every request that does not end "ok" (after the logger); None to clear."""
        return self._on_event

    @on_event.setter
    def on_event(self, fn: Optional[EventHook]) -> None:
        if fn is not None and not callable(fn):
            raise TypeError("airlock: on_event must be callable or None")
        self._on_event = fn

    # ---- requests ----

    def image(self, data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Image:
        """Sanitizes an image (image types only: audio bytes raise TypeNotAllowed)."""
        r = self._run(data, expect, options, _IMAGE_ONLY)
        assert isinstance(r, Image)
        return r

    def audio(self, data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Audio:
        """Sanitizes audio (audio types only)."""
        r = self._run(data, expect, options, _AUDIO_ONLY)
        assert isinstance(r, Audio)
        return r

    def video(
        self,
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
        """Sanitizes a video (MP4, MOV, Matroska, WebM): its first video track's frames, sampled as the rule
        ("vllm", "qwen3" or "qwen_vl_utils") picks them, as RGB8. sampling, num_frames, fps, min_frames and
        max_frames are the video_* options of those names; max_pixels is video_max_frame_pixels, the budget
        each frame is scaled down to (the refusal limit max_pixels stays the Sanitizer's)."""
        opts = _video_options(dict(options), sampling, num_frames, fps, min_frames, max_frames, max_pixels)
        r = self._run(data, expect, opts, _VIDEO_ONLY)
        assert isinstance(r, Video)
        return r

    async def video_async(
        self,
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
        """video() for asyncio."""
        opts = _video_options(dict(options), sampling, num_frames, fps, min_frames, max_frames, max_pixels)
        r = await self._run_async(data, expect, opts, _VIDEO_ONLY)
        assert isinstance(r, Video)
        return r

    def sanitize(
        self, data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]
    ) -> Union[Image, Audio, Video]:
        """Sanitizes either kind: an Image or an Audio, by what the bytes are (a Video with track="video")."""
        return self._run(data, expect, options, None)

    async def image_async(self, data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Image:
        """image() for asyncio: no thread; the request's descriptor is watched by the running loop."""
        r = await self._run_async(data, expect, options, _IMAGE_ONLY)
        assert isinstance(r, Image)
        return r

    async def audio_async(self, data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]) -> Audio:
        """audio() for asyncio."""
        r = await self._run_async(data, expect, options, _AUDIO_ONLY)
        assert isinstance(r, Audio)
        return r

    async def sanitize_async(
        self, data: Input, *, expect: Optional[str] = None, **options: Unpack[Options]
    ) -> Union[Image, Audio, Video]:
        """sanitize() for asyncio."""
        return await self._run_async(data, expect, options, None)

    def _prepare(
        self, expect: Optional[str], options: Any, only: Optional[Dict[int, int]]
    ) -> Tuple[int, Optional[_airlock.Options]]:
        if expect is None:
            code = 0
        elif isinstance(expect, str) and expect in TYPE_CODES:
            code = TYPE_CODES[expect]
        else:
            raise ValueError(f"airlock: expect: unknown type {expect!r}")
        return code, _options_for(options, only)

    def _run(
        self, data: Any, expect: Optional[str], options: Any, only: Optional[Dict[int, int]]
    ) -> Union[Image, Audio, Video]:
        code, opts = self._prepare(expect, options, only)
        buf = _read_input(data)
        try:
            return cast(Union[Image, Audio, Video], self._ctx.run(buf, code, opts))
        except AirlockError as e:
            if e._request:
                self._emit(e, buf, expect)
            raise

    async def _run_async(
        self, data: Any, expect: Optional[str], options: Any, only: Optional[Dict[int, int]]
    ) -> Union[Image, Audio, Video]:
        code, opts = self._prepare(expect, options, only)
        buf = _read_input(data)
        loop = asyncio.get_running_loop()
        req = self._ctx.submit(buf, code, opts)
        try:
            if not req.step():
                await self._wait(loop, req)
            return cast(Union[Image, Audio, Video], req.finish())
        except asyncio.CancelledError:
            # The task was cancelled: so is the request (its worker killed), reported as any other end.
            req.cancel()
            try:
                req.finish()
            except AirlockError as e:
                if e._request:
                    self._emit(e, buf, expect)
            raise
        except AirlockError as e:
            if e._request:
                self._emit(e, buf, expect)
            raise

    async def _wait(self, loop: asyncio.AbstractEventLoop, req: _airlock.Request) -> None:
        fd = req.fileno()
        fut: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if req.step() and not fut.done():
                fut.set_result(None)

        waiter = (loop, fut, fd)
        loop.add_reader(fd, ready)
        self._waiters.add(waiter)
        try:
            await fut
        finally:
            self._waiters.discard(waiter)
            # Before anything finishes the request: finish() closes fd.
            loop.remove_reader(fd)

    def _emit(self, e: AirlockError, buf: Any, expect: Optional[str]) -> None:
        ev = Event(
            time=time.time(),
            code=e.code,
            name=e.name,
            type=e.type,
            expect=expect,
            input_bytes=_nbytes(buf),
            elapsed_us=e.elapsed_us,
            limit=e.limit,
            layers=e.layers,
            mime=e.mime,
        )
        # A cancellation is the caller's own doing, not an error worth a page.
        level = logging.INFO if e.code == _CANCELLED else _LEVELS.get(_airlock.error_classify(e.code), logging.ERROR)
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "airlock: %s code=%d type=%s expect=%s input_bytes=%d elapsed_us=%d limit=%s mime=%s layers=%s",
                ev.name,
                ev.code,
                ev.type,
                ev.expect,
                ev.input_bytes,
                ev.elapsed_us,
                ev.limit,
                ev.mime,
                ",".join(sorted(ev.layers)),
            )
        fn = self._on_event
        if fn is not None:
            try:
                fn(ev)
            except Exception:
                logger.exception("airlock: on_event raised")

    # ---- lifetime ----

    def close(self) -> None:
        """Ends the zygote and its workers. Idempotent; afterwards every call raises airlock.Closed.

        Requests in flight on other threads end with Closed; pending *_async calls raise Closed.
        """
        self._wake_waiters()
        self._ctx.close()

    def _wake_waiters(self) -> None:
        try:
            running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, fut, fd in list(self._waiters):

            def wake(loop: asyncio.AbstractEventLoop = loop, fut: "asyncio.Future[None]" = fut, fd: int = fd) -> None:
                loop.remove_reader(fd)
                if not fut.done():
                    fut.set_result(None)

            if loop is running:
                wake()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(wake)

    def __enter__(self) -> "Sanitizer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Sanitizer":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError("airlock: a Sanitizer cannot be pickled; create one in each process")

    def __repr__(self) -> str:
        return f"<airlock.Sanitizer {'closed' if self.closed else 'open'}>"


# Per-call options: converted and built once per distinct set of keywords (the C object is immutable once
# built, so threads share it). Bounded: values that vary per call (a timeout from a deadline) would grow it.
_CACHE: Dict[Tuple[Any, ...], Optional[_airlock.Options]] = {}
_CACHE_MAX = 256
_NONE_IMAGE = build(_IMAGE_ONLY)
_NONE_AUDIO = build(_AUDIO_ONLY)
_NONE_VIDEO = build(_VIDEO_ONLY)
_NONE = {id(_IMAGE_ONLY): _NONE_IMAGE, id(_AUDIO_ONLY): _NONE_AUDIO, id(_VIDEO_ONLY): _NONE_VIDEO}


def _options_for(options: Dict[str, Any], only: Optional[Dict[int, int]]) -> Optional[_airlock.Options]:
    if not options:
        if only is None:
            return None
        return _NONE[id(only)]
    try:
        cache_key: Optional[Tuple[Any, ...]] = (id(only), *sorted(options.items()))
        hash(cache_key)
    except TypeError:
        cache_key = None
    if cache_key is not None:
        hit = _CACHE.get(cache_key)
        if hit is not None:
            return hit
    values = convert(options)
    if only is not None:
        mask = only[ALLOWED_TYPES]
        values[ALLOWED_TYPES] = values.get(ALLOWED_TYPES, mask) & mask
        if values[ALLOWED_TYPES] == 0:
            raise ValueError(f"airlock: allowed_types holds no {_KINDS[id(only)]} type")
        # The kind the method names decides the track: audio() takes a video's sound, video() its pictures.
        values.update((k, v) for k, v in only.items() if k != ALLOWED_TYPES)
    o = build(values)
    if cache_key is not None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[cache_key] = o
    return o


# ---- the process-wide default ----

_default: Optional[Sanitizer] = None
_default_lock = threading.Lock()


def default_sanitizer() -> Sanitizer:
    """The process-wide Sanitizer the module-level functions use: opened on first use, and again in a forked
    child (which must not share its parent's)."""
    global _default
    s = _default
    if s is not None:
        return s
    with _default_lock:
        if _default is None:
            _default = Sanitizer()
        return _default


def _after_fork_in_child() -> None:
    global _default, _default_lock
    # The parent's lock may have been held by a thread that does not exist here.
    _default_lock = threading.Lock()
    _default = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

# From interpreter exit on, closing never waits for requests that daemon threads leave in flight.
atexit.register(_airlock._finalizing)

