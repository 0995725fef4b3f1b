# SPDX-License-Identifier: MIT
"""vLLM's media decoding through airlock: a media connector plugin.

Installed beside vLLM, this module is a ``vllm.general_plugins`` entry point
(``airlock = "airlock.vllm:register"``). With ``VLLM_MEDIA_CONNECTOR=airlock``
the server's image and audio bytes are decoded in airlock's confined workers
instead of by Pillow, libsndfile and FFmpeg in the server process. Fetching
(HTTP, ``data:`` and ``file:`` URLs, domain and path allowlists, download
caps, the media cache) stays vLLM's own code; only the decode is replaced.

What the model processors see is unchanged: images are ``MediaWithBytes``
around an RGB ``PIL.Image`` (``image_mode`` and ``rgba_background_color``
applied by vLLM's own ``convert_image_mode``), audio a float32 mono array and
its sample rate. docs/integrations.md describes the set-up and what is and is
not covered.
"""

from __future__ import annotations

import importlib.abc
import math
import os
import sys
import threading
from importlib.machinery import ModuleSpec
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt
import vllm.envs as envs
import vllm.multimodal.media.audio as _vllm_audio
from vllm.exceptions import VLLMValidationError
from vllm.multimodal.image import convert_image_mode
from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY, MediaConnector, MediaWithBytes
from vllm.multimodal.media.audio import AudioMediaIO
from vllm.multimodal.media.image import ImageMediaIO

from ._errors import Rejected
from ._sanitizer import Sanitizer

__all__ = [
    "AirlockAudioMediaIO",
    "AirlockImageMediaIO",
    "AirlockMediaConnector",
    "MediaRejected",
    "load_audio",
    "register",
    "sanitizer",
]

NAME = "airlock"
"""The connector's name in vLLM's registry: ``VLLM_MEDIA_CONNECTOR=airlock``."""

# Server-side settings only: a request's media_io_kwargs can choose colour
# handling, never a limit or a type.
_ENV_ICC = "AIRLOCK_VLLM_ICC"
_ENV_TYPES = "AIRLOCK_VLLM_TYPES"
_TOO_LONG = 9  # AIRLOCK_E_TOO_LONG, airlock.TooLong
# vLLM's audio backend names (load_audio(backend=...), media_io_kwargs' audio_backend).
_AUDIO_BACKENDS: Tuple[str, ...] = tuple(
    getattr(_vllm_audio, "AUDIO_BACKENDS", ("auto", "soundfile", "pyav", "torchcodec"))
)

_sanitizer: Optional[Sanitizer] = None
_sanitizer_pid = 0
_lock = threading.Lock()


def sanitizer() -> Sanitizer:
    """The process's one Sanitizer, shared by vLLM's media threads; a forked child opens its own (a
    Sanitizer is never used across fork)."""
    global _sanitizer, _sanitizer_pid
    s = _sanitizer
    if s is not None and _sanitizer_pid == os.getpid():
        return s
    with _lock:
        if _sanitizer is None or _sanitizer_pid != os.getpid():
            _sanitizer = Sanitizer(**_server_options())
            _sanitizer_pid = os.getpid()
        return _sanitizer


def _after_fork_in_child() -> None:
    global _sanitizer, _lock
    # The parent's Sanitizer belongs to the parent's zygote; the lock may have been held by a thread
    # that does not exist here.
    _sanitizer = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _server_options() -> Dict[str, Any]:
    """The Sanitizer's own settings: AIRLOCK_VLLM_TYPES (comma-separated airlock type names, e.g. to add
    "tiff", which airlock's default refuses) or airlock's default allowlist."""
    names = [t.strip() for t in os.environ.get(_ENV_TYPES, "").split(",") if t.strip()]
    return {"allowed_types": names} if names else {}


def _image_options(icc: bool) -> Dict[str, Any]:
    opts: Dict[str, Any] = {"keep_alpha": True, "icc": icc}
    max_pixels = envs.VLLM_MAX_IMAGE_PIXELS
    if max_pixels > 0:
        opts["max_pixels"] = int(max_pixels)
    return opts


def _audio_options(max_duration_s: Optional[float], max_decode_bytes: Optional[int]) -> Dict[str, Any]:
    opts: Dict[str, Any] = {"mono": True, "dtype": "float32"}
    max_bytes = int(envs.VLLM_MAX_AUDIO_CLIP_FILESIZE_MB * 1024 * 1024)
    if max_bytes > 0:
        opts["max_audio_input_bytes"] = max_bytes
    if max_duration_s is not None and max_duration_s > 0:
        # airlock counts whole seconds; the exact bound is checked on the frames below.
        opts["max_seconds"] = max(1, math.ceil(max_duration_s))
    if max_decode_bytes is not None and max_decode_bytes > 0:
        opts["max_decoded_bytes"] = int(max_decode_bytes)
    return opts


class MediaRejected(VLLMValidationError, ValueError):  # type: ignore[misc]
    """airlock refused the input. vLLM's server answers a VLLMValidationError with 400 (its error_response
    maps it before the ValueError fallback it means to retire), and code that catches the ValueError Pillow's
    failures become still catches this. The message names airlock's code and never carries input bytes;
    ``__cause__`` is the airlock.Rejected."""

    def __init__(self, message: str, *, code: int, name: str, limit: Optional[str]) -> None:
        super().__init__(message)
        self.code = code
        self.name = name
        self.limit = limit


def _audio_rejected(err: Rejected, max_duration_s: Optional[float], max_decode_bytes: Optional[int]) -> MediaRejected:
    """As _rejected, naming vLLM's setting (in vLLM's words) when it is the limit that tripped, not a stricter
    one of the Sanitizer's."""
    msg = f"Failed to load audio: airlock {err.name}: {err}"
    s = sanitizer()
    if err.limit == "max_seconds" and max_duration_s is not None and math.ceil(max_duration_s) <= s.get("max_seconds"):
        msg += (f". Audio exceeds maximum allowed duration of {max_duration_s}s. Set VLLM_MAX_AUDIO_DECODE_DURATION_S "
                "to increase this limit.")
    elif err.limit == "max_decoded_bytes" and max_decode_bytes is not None and max_decode_bytes <= s.get(
        "max_decoded_bytes"
    ):
        msg += (f". Audio decode exceeded the {max_decode_bytes} byte limit. Set VLLM_MAX_AUDIO_DECODE_BYTES to "
                "increase this limit.")
    return MediaRejected(msg, code=err.code, name=err.name, limit=err.limit)


def _rejected(kind: str, err: Rejected) -> MediaRejected:
    return MediaRejected(f"Failed to load {kind}: airlock {err.name}: {err}", code=err.code, name=err.name,
                         limit=err.limit)


class AirlockImageMediaIO(ImageMediaIO):  # type: ignore[misc]
    """vLLM's ImageMediaIO with the decode in airlock's sandbox."""

    def __init__(self, image_mode: Optional[str] = "RGB", *, decoded_budget: Any = None, **kwargs: Any) -> None:
        icc = kwargs.pop("icc", None)
        super().__init__(image_mode, **kwargs)
        # Set here, not passed up: vLLM before 0.34 has no decode budget and would keep it as a kwarg.
        self.decoded_budget = decoded_budget
        self.icc = _flag(os.environ.get(_ENV_ICC, "0") if icc is None else icc)

    def load_bytes(self, data: bytes) -> MediaWithBytes:
        # The default mode, RGB, is composited onto the background in the worker: airlock's blend is
        # Pillow's paste(mask=alpha), equal on every transparent file of the corpus and public suites for
        # two backgrounds (tests/vllm/test_equal.py). Other modes start from RGBA and go through vLLM's own
        # convert_image_mode.
        rgb = self.image_mode == "RGB"
        options = _image_options(self.icc)
        if rgb:
            options.update(keep_alpha=False, background=self.rgba_background_color)
        try:
            result = sanitizer().image(data, **options)
        except Rejected as e:
            raise _rejected("image", e) from e
        w, h = result.width, result.height
        if self.decoded_budget is not None:
            self.decoded_budget.charge(w * h * 4)
        # RGB is a copy (Pillow keeps RGB as four bytes a pixel); RGBA shares the sealed mapping, which Pillow
        # marks read-only and copies before any write.
        image = result.to_pil()
        if not rgb:
            # alpha_added: every source pixel was opaque, so this is what Pillow's convert("RGB") gives.
            if "alpha_added" in result.changes and self.image_mode is not None:
                image = image.convert("RGB")
            if self.image_mode is not None and image.mode != self.image_mode:
                image = convert_image_mode(image, self.image_mode, self.rgba_background_color)
        # The pixels are airlock's decode, not Pillow's: vLLM's cache must not mix them with the stock
        # connector's, so the decode settings always join the hash.
        io_config = {
            "decoder": NAME,
            "image_mode": self.image_mode,
            "rgba_background_color": self.rgba_background_color,
            "icc": self.icc,
        }
        return MediaWithBytes(image, data, io_config)

    def load_file(self, filepath: Path) -> MediaWithBytes:
        return self.load_bytes(filepath.read_bytes())


def _read(path: Union[BytesIO, Path, str]) -> bytes:
    if isinstance(path, BytesIO):
        return path.getvalue()
    return Path(path).read_bytes()


def load_audio(
    path: Union[BytesIO, Path, str],
    *,
    sr: Optional[float] = 22050,
    mono: bool = True,
    max_duration_s: Optional[float] = None,
    max_decode_bytes: Optional[int] = None,
    backend: Optional[str] = None,
) -> Tuple[npt.NDArray[np.float32], int]:
    """vllm.multimodal.media.audio.load_audio with the decode in airlock's sandbox.

    ``sr`` resamples in the worker (airlock's resampler, not PyAV's or soxr's: equal within the
    resampler's tolerance, exact at the source rate). ``backend`` is checked against vLLM's names and
    otherwise ignored: airlock is the only decoder. ``max_decode_bytes`` bounds the samples that reach this
    process (after the downmix), where vLLM's decoders bound the source's channels before it.
    """
    if backend is not None and backend not in _AUDIO_BACKENDS:
        raise ValueError(f"Unknown audio backend {backend!r}. Available backends: {list(_AUDIO_BACKENDS)}")
    opts = _audio_options(max_duration_s, max_decode_bytes)
    opts["mono"] = bool(mono)
    if sr is not None:
        opts["rate"] = int(sr)
    data = _read(path)
    try:
        result = sanitizer().audio(data, **opts)
    except Rejected as e:
        raise _audio_rejected(e, max_duration_s, max_decode_bytes) from e
    if max_duration_s is not None and result.frames > int(result.rate * max_duration_s):
        # airlock's limit is whole seconds (rounded up above); vLLM's may be finer.
        raise MediaRejected(
            f"Failed to load audio: airlock too_long: Audio exceeds maximum allowed duration of {max_duration_s}s "
            f"({result.frames} frames at {result.rate} Hz; limit max_seconds). Set VLLM_MAX_AUDIO_DECODE_DURATION_S "
            "to increase this limit.",
            code=_TOO_LONG,
            name="too_long",
            limit="max_seconds",
        )
    # vLLM's arrays are writable and (channels, frames) when not mono; the sealed result is read-only
    # and interleaved, so this is a copy in vLLM's layout.
    samples = np.array(result, dtype=np.float32, copy=True)
    if samples.ndim == 2:
        samples = np.ascontiguousarray(samples.T)
    return samples, int(result.rate)


class AirlockAudioMediaIO(AudioMediaIO):  # type: ignore[misc]
    """vLLM's AudioMediaIO with the decode in airlock's sandbox: float32 mono at the source rate."""

    def __init__(self, *, decoded_budget: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decoded_budget = decoded_budget

    # load_bytes and load_file themselves, not the helper vLLM 0.34 added under them, so that no version of
    # vLLM reaches its own decoders from here. vLLM's check of the encoded size comes first, as in vLLM.
    def load_bytes(self, data: bytes) -> Tuple[npt.NDArray[np.float32], int]:
        self._validate_encoded_size(len(data))
        return self._decode(BytesIO(data))

    def load_file(self, filepath: Path) -> Tuple[npt.NDArray[np.float32], int]:
        self._validate_encoded_size(filepath.stat().st_size)
        return self._decode(filepath)

    def _decode(self, source: Union[BytesIO, Path]) -> Tuple[npt.NDArray[np.float32], int]:
        max_duration_s = envs.VLLM_MAX_AUDIO_DECODE_DURATION_S
        max_decode_bytes = envs.VLLM_MAX_AUDIO_DECODE_BYTES
        budget = self.decoded_budget
        if budget is None:
            return load_audio(source, sr=None, max_duration_s=max_duration_s, max_decode_bytes=max_decode_bytes)
        reserved = budget.reserve(max_decode_bytes)
        decoded = 0
        try:
            try:
                audio = load_audio(source, sr=None, max_duration_s=max_duration_s, max_decode_bytes=reserved)
            except MediaRejected as e:
                # What tripped is the request's budget (others' clips took the rest), not this clip's limit:
                # say so as vLLM does.
                if e.limit == "max_decoded_bytes" and reserved < max_decode_bytes:
                    raise MediaRejected(
                        f"Failed to load audio: airlock {e.name}: Request decoded media exceeds "
                        "VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES.",
                        code=e.code,
                        name=e.name,
                        limit=e.limit,
                    ) from e.__cause__
                raise
            decoded = int(audio[0].nbytes)
            return audio
        finally:
            budget.settle(reserved, decoded)


class AirlockMediaConnector(MediaConnector):  # type: ignore[misc]
    """vLLM's MediaConnector, fetching as it does, decoding images and audio through airlock.

    The fetch_* methods for images and audio are overridden whole (vLLM before 0.34 builds its media IO
    objects inside them); load_from_url and load_from_url_async, vLLM's fetching, are inherited.
    """

    def _image_io(self, image_mode: Optional[str] = "RGB") -> AirlockImageMediaIO:
        return AirlockImageMediaIO(
            **({"image_mode": image_mode} | self.media_io_kwargs.get("image", {})),
            decoded_budget=getattr(self, "decoded_budget", None),
        )

    def _audio_io(self) -> AirlockAudioMediaIO:
        return AirlockAudioMediaIO(
            decoded_budget=getattr(self, "decoded_budget", None), **self.media_io_kwargs.get("audio", {})
        )

    def fetch_image(self, image_url: str, *, image_mode: Optional[str] = "RGB") -> MediaWithBytes:
        return self.load_from_url(image_url, self._image_io(image_mode), fetch_timeout=envs.VLLM_IMAGE_FETCH_TIMEOUT)

    async def fetch_image_async(self, image_url: str, *, image_mode: Optional[str] = "RGB") -> MediaWithBytes:
        return await self.load_from_url_async(
            image_url, self._image_io(image_mode), fetch_timeout=envs.VLLM_IMAGE_FETCH_TIMEOUT
        )

    def fetch_audio(self, audio_url: str) -> Tuple[npt.NDArray[np.float32], int]:
        return self.load_from_url(  # type: ignore[no-any-return]
            audio_url, self._audio_io(), fetch_timeout=envs.VLLM_AUDIO_FETCH_TIMEOUT
        )

    async def fetch_audio_async(self, audio_url: str) -> Tuple[npt.NDArray[np.float32], int]:
        return await self.load_from_url_async(  # type: ignore[no-any-return]
            audio_url, self._audio_io(), fetch_timeout=envs.VLLM_AUDIO_FETCH_TIMEOUT
        )


# What the connector inherits from vLLM and calls. A vLLM without them is refused when the connector is
# selected, rather than left to serve requests some other way.
_NEEDED = (
    (MediaConnector, "load_from_url"),
    (MediaConnector, "load_from_url_async"),
    (AudioMediaIO, "_validate_encoded_size"),
)


_registered = False


def register() -> None:
    """The vllm.general_plugins entry point: registers the connector as "airlock" and, when
    VLLM_MEDIA_CONNECTOR selects it, routes vLLM's other decoders of untrusted media through it.

    Two places in vLLM decode without the registry: ``vllm.multimodal.utils`` (fetch_image, fetch_audio,
    fetch_video construct MediaConnector by name) and the speech-to-text server, which imports
    ``load_audio`` by name. Those two names, and only those, are rebound; nothing is changed unless the
    airlock connector is the one selected.
    """
    global _registered
    selected = envs.VLLM_MEDIA_CONNECTOR == NAME
    missing = [f"{cls.__name__}.{attr}" for cls, attr in _NEEDED if not hasattr(cls, attr)]
    if missing and selected:
        # vLLM logs a plugin's exception and goes on; with no "airlock" in the registry every media request
        # then fails (a 500) instead of reaching vLLM's own decoders.
        raise RuntimeError(f"airlock.vllm: this vLLM lacks {', '.join(missing)}; the airlock connector needs it")
    if not _registered and not missing:
        MEDIA_CONNECTOR_REGISTRY.register(NAME)(AirlockMediaConnector)
        _registered = True
    if not selected:
        return
    import vllm.multimodal.utils as mm_utils

    mm_utils.MediaConnector = AirlockMediaConnector
    _route_speech_to_text()


_STT = "vllm.entrypoints.speech_to_text.base.serving"


class _RebindOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Rebinds the speech-to-text server's ``load_audio`` when that module is imported. Importing it here
    instead would cost every vLLM process (plugins load in each) seconds of imports it may never use."""

    def __init__(self) -> None:
        self._loader: Optional[importlib.abc.Loader] = None

    def find_spec(self, name: str, path: Any, target: Any = None) -> Optional[ModuleSpec]:
        if name != _STT:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                self._loader = spec.loader
                spec.loader = self
                return spec
        return None

    def create_module(self, spec: ModuleSpec) -> Optional[ModuleType]:
        assert self._loader is not None
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        assert self._loader is not None
        self._loader.exec_module(module)
        module.load_audio = load_audio  # type: ignore[attr-defined]


def _route_speech_to_text() -> None:
    module = sys.modules.get(_STT)
    if module is not None:
        module.load_audio = load_audio  # type: ignore[attr-defined]
    elif not any(isinstance(f, _RebindOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RebindOnImport())
