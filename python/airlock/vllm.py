# SPDX-License-Identifier: MIT
"""vLLM's media decoding through airlock: a media connector plugin.

Installed beside vLLM, this module is a ``vllm.general_plugins`` entry point
(``airlock = "airlock.vllm:register"``). With ``VLLM_MEDIA_CONNECTOR=airlock``
the server's image, audio and video bytes are decoded in airlock's confined
workers instead of by Pillow, libsndfile, PyAV and OpenCV in the server
process. Fetching (HTTP, ``data:`` and ``file:`` URLs, domain and path
allowlists, download caps, the media cache) stays vLLM's own code; only the
decode is replaced.

What the model processors see is unchanged: images are ``MediaWithBytes``
around an RGB ``PIL.Image`` (``image_mode`` and ``rgba_background_color``
applied by vLLM's own ``convert_image_mode``), audio a float32 mono array and
its sample rate, video ``MediaWithBytes`` around the ``(frames, metadata)``
pair of vLLM's video loaders, the frames those loaders' rules pick.
docs/integrations.md describes the set-up and what is and is not covered.
"""

from __future__ import annotations

import importlib.abc
import inspect
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
from vllm.multimodal.media.video import VideoMediaIO
from vllm.multimodal.video import Qwen3VLVideoBackend, VideoBackend, get_video_loader_backend_for_processor
from vllm.multimodal.video_decoders import VideoSourceMetadata, VideoTargetMetadata, resolve_video_backend_kwargs

from ._errors import Rejected
from ._results import Video
from ._sanitizer import Sanitizer

__all__ = [
    "AirlockAudioMediaIO",
    "AirlockImageMediaIO",
    "AirlockMediaConnector",
    "AirlockVideoMediaIO",
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
_UNSUPPORTED = 6  # AIRLOCK_E_UNSUPPORTED, airlock.Unsupported
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


# vLLM's video loaders whose sampling airlock reproduces (decoders/sampling.h), by exact class: a subclass
# registered under another name (qwen2_vl, nemotron_vl, opencv_dynamic, ...) samples or returns otherwise.
_VIDEO_RULES: Dict[type, str] = {VideoBackend: "vllm", Qwen3VLVideoBackend: "qwen3"}
# The decoding codec vLLM's loaders take as ``backend``; airlock's decode replaces this one, the default.
_VIDEO_CODEC = "opencv"
# vLLM's num_frames of -1 (or any n <= 0): every frame. airlock's Python spelling of AIRLOCK_UNSET.
_ALL_FRAMES = -1


def _video_number(name: str, value: Any, *, integer: bool) -> Any:
    """A sampling parameter as vLLM's loaders compare it with 0; anything else is the request's error (vLLM
    itself would fail on it with a TypeError, a 500)."""
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or (isinstance(value, float) and not math.isfinite(value)):
        kind = "an integer" if integer else "a finite number"
        raise VLLMValidationError(f"Failed to load video: {name} must be {kind}", parameter=name, value=value)
    return value


def _video_positive(loader: str, name: str, value: Any, *, integer: bool) -> Any:
    """A Qwen3 parameter airlock takes only above 0: its keys read 0 as the rule's default, and vLLM's rule
    samples no frame or a negative count with them (or, for fps, min_frames whatever the video)."""
    value = _video_number(name, value, integer=integer)
    if value <= 0:
        raise VLLMValidationError(
            f"Failed to load video: {name} must be above 0 for the {loader!r} video loader through airlock",
            parameter=name,
            value=value,
        )
    return value


def _video_fps(name: str, fps: Any) -> float:
    """fps for airlock, which carries it in thousandths (AIRLOCK_VIDEO_FPS_MILLI): a value that does not
    survive that is refused rather than sampled at a nearby rate."""
    f = float(fps)
    if round(f * 1000) / 1000 != f:
        raise VLLMValidationError(
            f"Failed to load video: {name} must be a multiple of 0.001 through airlock", parameter=name, value=fps
        )
    return f


def _video_rejected(err: Rejected) -> MediaRejected:
    """As _rejected, naming vLLM's setting (in vLLM's words) when it is the limit that tripped."""
    msg = f"Failed to load video: airlock {err.name}: {err}"
    s = sanitizer()
    max_pixels = envs.VLLM_MAX_IMAGE_PIXELS
    max_bytes = envs.VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES
    if err.limit == "max_pixels" and 0 < max_pixels <= s.get("max_pixels"):
        msg += (f". Video frame dimensions exceed the maximum of {max_pixels} pixels. Set VLLM_MAX_IMAGE_PIXELS to "
                "increase this limit.")
    elif err.limit == "video_max_output_bytes" and 0 < max_bytes <= s.get("video_max_output_bytes"):
        msg += ". Request decoded media exceeds VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES."
    return MediaRejected(msg, code=err.code, name=err.name, limit=err.limit)


def _video_options(budget: Any) -> Dict[str, Any]:
    """vLLM's limits that apply to a video, as airlock's (each call can only tighten the Sanitizer's)."""
    opts: Dict[str, Any] = {}
    max_pixels = envs.VLLM_MAX_IMAGE_PIXELS
    if max_pixels > 0:
        # vLLM's check_frame_pixel_limit, on every decoded frame here rather than on the header's size.
        opts["max_pixels"] = int(max_pixels)
    max_bytes = envs.VLLM_MAX_MEDIA_REQUEST_DECODE_BYTES
    if budget is not None and max_bytes > 0:
        # The request's decode budget (a server request has one) refuses more than this after the decode;
        # the worker refuses it before the frames reach this process.
        opts["video_max_output_bytes"] = int(max_bytes)
    return opts


class AirlockVideoMediaIO(VideoMediaIO):  # type: ignore[misc]
    """vLLM's VideoMediaIO with the decode and the frame sampling in airlock's sandbox.

    vLLM's own ``__init__`` runs: it picks the loader class (the ``video_backend`` kwarg, else
    VLLM_VIDEO_LOADER_BACKEND) and keeps the other kwargs; nothing is decoded there. ``load_bytes`` binds
    ``num_frames`` and those kwargs as that loader would, and asks airlock for the frames the loader's rule
    picks: "opencv" (``VideoBackend``) as airlock's sampling "vllm", "qwen3_vl" (``Qwen3VLVideoBackend``) as
    "qwen3". Any other loader, or a decoding codec (``backend``) other than OpenCV, is refused by name, never
    sampled another way. What comes back is vLLM's structure: ``MediaWithBytes`` around ``(frames,
    metadata)``, frames a writable uint8 RGB ``(T, H, W, 3)`` array, metadata the loader's own
    ``create_hf_metadata`` dict. ``load_base64`` is vLLM's: a ``video/jpeg`` list of frames is decoded by the
    image IO, which is airlock's.
    """

    def __init__(self, image_io: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(image_io, *args, **kwargs)
        # VideoMediaIO.__init__'s own expression for the loader it loaded, for messages.
        self.loader_name: str = kwargs.get("video_backend") or envs.VLLM_VIDEO_LOADER_BACKEND

    def load_bytes(self, data: bytes) -> MediaWithBytes:
        loader = self.video_loader
        cls = type(loader)
        rule = _VIDEO_RULES.get(cls)
        if rule is None:
            raise MediaRejected(
                f"Failed to load video: airlock unsupported: vLLM's video loader {self.loader_name!r} "
                f"({cls.__name__}) samples frames by a rule airlock does not reproduce; airlock samples as "
                "the 'opencv' and 'qwen3_vl' loaders (VLLM_VIDEO_LOADER_BACKEND, or media_io_kwargs' video_backend)",
                code=_UNSUPPORTED,
                name="unsupported",
                limit=None,
            )
        # The loader's arguments as VideoMediaIO.load_bytes passes them and the loader binds them, with its
        # own defaults (fps: -1 for "opencv", 2 for "qwen3_vl"); a keyword it does not take is vLLM's TypeError.
        sig = inspect.signature(loader.load_bytes)
        bound = sig.bind(data, num_frames=self.num_frames, **self.kwargs)
        bound.apply_defaults()
        args = bound.arguments
        extra = next((dict(args.get(p.name, {})) for p in sig.parameters.values() if p.kind is p.VAR_KEYWORD), {})
        backend = args.get("backend", _VIDEO_CODEC)
        # vLLM's own check of the codec name and of options another codec owns (its ValueError).
        sampling_kwargs, _ = resolve_video_backend_kwargs(backend, extra)
        if backend != _VIDEO_CODEC:
            raise MediaRejected(
                f"Failed to load video: airlock unsupported: vLLM's video codec backend {backend!r} is not "
                f"airlock's decode; through airlock the codec is {_VIDEO_CODEC!r} (the default)",
                code=_UNSUPPORTED,
                name="unsupported",
                limit=None,
            )
        # The request's parameters, checked before anything is decoded.
        fps = _video_number("fps", args["fps"], integer=False)
        options: Dict[str, Any]
        if rule == "vllm":
            num_frames = _video_number("num_frames", args["num_frames"], integer=True)
            options = {
                "num_frames": num_frames if num_frames > 0 else _ALL_FRAMES,
                "fps": _video_fps("fps", fps) if fps > 0 else None,
            }
        else:
            # num_frames is not read by this rule (vLLM passes it; the loader ignores it).
            options = {"fps": _video_fps("fps", _video_positive(self.loader_name, "fps", fps, integer=False))}
            for name in ("min_frames", "max_frames"):
                if name in sampling_kwargs:
                    options[name] = _video_positive(self.loader_name, name, sampling_kwargs[name], integer=True)
        s = sanitizer()
        # What vLLM's rule is asked for the check below: airlock's cap on the sampled frames acts as a
        # tighter request (decoders/sampling.h), num_frames for "vllm", max_frames for "qwen3".
        cap = int(s.get("video_max_sampled_frames"))
        check_kwargs = dict(sampling_kwargs)
        if rule == "vllm":
            target_frames = min(num_frames, cap) if num_frames > 0 else cap
        else:
            target_frames = args["num_frames"]
            check_kwargs["max_frames"] = min(options.get("max_frames", cap), cap)
        budget = getattr(self.image_io, "decoded_budget", None)
        try:
            # sanitize() with track "video", not video(): there max_pixels is the downscale budget, and
            # vLLM's VLLM_MAX_IMAGE_PIXELS is a refusal (_video_options()).
            video = s.sanitize(data, track="video", allowed_types="media", video_sampling=rule,
                               **{"video_" + k: v for k, v in options.items()}, **_video_options(budget))
        except Rejected as e:
            raise _video_rejected(e) from e
        assert isinstance(video, Video)

        indices = [int(i) for i in video.indices]
        total = int(video.frames_seen)
        src_fps = float(video.fps)
        # vLLM's source metadata as its OpenCV path makes it (duration from the count), adjusted by the loader.
        source = loader._prepare_source(VideoSourceMetadata(total, src_fps, total / src_fps if src_fps > 0 else 0))
        # The indices must be the ones vLLM's own rule picks on this count and rate, as its reader keeps them
        # (sorted, each once): a difference is a mistake here or in airlock, never served.
        target = VideoTargetMetadata(num_frames=target_frames, fps=fps, max_duration=args.get("max_duration", -1))
        want = sorted(set(loader.compute_frames_index_to_sample(source=source, target=target, **check_kwargs)))
        if indices != want:
            raise RuntimeError(
                f"airlock.vllm: airlock sampled frames {indices[:8]}... of {total} where vLLM's {self.loader_name!r} "
                f"loader picks {want[:8]}... ({len(indices)} vs {len(want)} frames)"
            )
        # vLLM's frames are a writable array of their own: the processors may work in place. The sealed
        # result is read-only, so this is a copy.
        frames = np.asarray(video).copy()
        if frames.dtype != np.uint8 or frames.shape != (len(indices), video.height, video.width, 3):
            raise RuntimeError(f"airlock.vllm: video frames {frames.dtype} {frames.shape} for {len(indices)} indices")
        del video
        metadata = loader.create_hf_metadata(
            source=source,
            valid_frame_indices=indices,
            video_backend=f"{backend}{getattr(cls, '_sampling_suffix', '')}",
        )
        if budget is not None:
            # As VideoMediaIO.load_bytes: the frames count against the request's decode budget.
            budget.charge(frames.nbytes)
        # Not part of vLLM's video hash (its parser re-wraps videos without it); it marks airlock's decode.
        return MediaWithBytes((frames, metadata), data, {"decoder": NAME, "sampling": rule})

    def load_file(self, filepath: Path) -> MediaWithBytes:
        return self.load_bytes(filepath.read_bytes())


class AirlockMediaConnector(MediaConnector):  # type: ignore[misc]
    """vLLM's MediaConnector, fetching as it does, decoding images, audio and video through airlock.

    The fetch_* methods for images, audio and video are overridden whole (vLLM before 0.34 builds its media IO
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

    def _video_io(self, image_mode: Optional[str], video_processor: Optional[str]) -> AirlockVideoMediaIO:
        # As vLLM's fetch_video: the loader registered for the model's video processor unless one is named.
        kwargs = dict(self.media_io_kwargs.get("video", {}))
        if "video_backend" not in kwargs:
            backend = get_video_loader_backend_for_processor(video_processor)
            if backend:
                kwargs["video_backend"] = backend
        return AirlockVideoMediaIO(self._image_io(image_mode), **kwargs)

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

    def fetch_video(
        self, video_url: str, *, image_mode: Optional[str] = "RGB", video_processor: Optional[str] = None
    ) -> MediaWithBytes:
        return self.load_from_url(
            video_url, self._video_io(image_mode, video_processor), fetch_timeout=envs.VLLM_VIDEO_FETCH_TIMEOUT
        )

    async def fetch_video_async(
        self, video_url: str, *, image_mode: Optional[str] = "RGB", video_processor: Optional[str] = None
    ) -> MediaWithBytes:
        return await self.load_from_url_async(
            video_url, self._video_io(image_mode, video_processor), fetch_timeout=envs.VLLM_VIDEO_FETCH_TIMEOUT
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
