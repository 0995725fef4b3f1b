# SPDX-License-Identifier: MIT
"""The exception tree: one class per airlock_error code, rooted at AirlockError."""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Optional, Tuple, Type

from . import _airlock
from ._options import KEY_NAMES, TYPE_NAMES


class AirlockError(Exception):
    """Root of every airlock error. Attributes carry the C library's report; nothing comes from the input."""

    code: int
    """The C airlock_error value."""
    name: str
    """The stable snake_case name (airlock_error_name)."""
    limit: Optional[str]
    """The option keyword whose limit tripped ("max_pixels"), or None."""
    type: Optional[str]
    """The detected type name, or None."""
    mime: Optional[str]
    """For unsupported inputs: the MIME type libmagic gave, or None."""
    elapsed_us: int
    """Microseconds the request took."""
    layers: FrozenSet[str]
    """Confinement layers of the zygote the request went to (empty when it reached none)."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 64,
        limit: Optional[str] = None,
        type: Optional[str] = None,
        mime: Optional[str] = None,
        elapsed_us: int = 0,
        layers: FrozenSet[str] = frozenset(),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.name = _airlock.error_name(code)
        self.limit = limit
        self.type = type
        self.mime = mime
        self.elapsed_us = elapsed_us
        self.layers = layers
        self._request = False

    def __reduce__(self) -> Tuple[Any, ...]:
        state = {k: getattr(self, k) for k in ("limit", "type", "mime", "elapsed_us", "layers")}
        return (_rebuild, (type(self), str(self), self.code, state))


def _rebuild(cls: Type[AirlockError], message: str, code: int, state: Dict[str, Any]) -> AirlockError:
    return cls(message, code=code, **state)


class Rejected(AirlockError, ValueError):
    """The input's fault: web frameworks answer 400."""


class Malformed(Rejected):
    """Not a valid file of its type (1)."""


class TypeNotAllowed(Rejected):
    """Type unknown or not on the allowlist (2)."""


class TypeMismatch(Rejected):
    """The detected type differs from ``expect`` (3)."""


class TooLarge(Rejected):
    """Width, height, pixel count or a size over a limit (4)."""


class InputTooBig(TooLarge):
    """More input bytes than max_input_bytes (5)."""


class Unsupported(Rejected):
    """A valid file of a variant airlock does not decode (6); ``.mime`` says what libmagic saw."""


class Empty(Rejected):
    """Zero-length input (7)."""


class TooComplex(Rejected):
    """Over a work limit (8)."""


class TooLong(Rejected):
    """Audio: decoded duration or bytes over a limit (9)."""


class OutOfRange(Rejected):
    """Audio: sample rate or channel count not allowed (10)."""


class SandboxEvent(Rejected):
    """The input made the sandbox act (20..25)."""


class WorkerCrash(SandboxEvent):
    """The worker died on a signal or exited badly (20)."""


class Timeout(SandboxEvent):
    """Wall-clock timeout; the worker was killed (21)."""


class MemoryLimit(SandboxEvent):
    """The worker's memory cap was reached (22)."""


class SeccompViolation(SandboxEvent):
    """The worker made a forbidden system call (23)."""


class CpuLimit(SandboxEvent):
    """The worker's CPU-time cap was reached (24)."""


class ProtocolViolation(SandboxEvent):
    """The worker sent a frame that failed validation (25)."""


class Closed(AirlockError):
    """The Sanitizer was closed (42)."""


class Cancelled(AirlockError):
    """The request was cancelled (43); asyncio code sees asyncio.CancelledError instead."""


class SandboxUnavailable(AirlockError):
    """The sandbox cannot be set up on this system (60): airlock fails closed."""


class HelperError(AirlockError):
    """The zygote helper could not be started or was lost (61)."""


class Busy(AirlockError):
    """The helper could not fork a worker (65)."""


_CLASSES: Dict[int, Type[AirlockError]] = {
    1: Malformed,
    2: TypeNotAllowed,
    3: TypeMismatch,
    4: TooLarge,
    5: InputTooBig,
    6: Unsupported,
    7: Empty,
    8: TooComplex,
    9: TooLong,
    10: OutOfRange,
    20: WorkerCrash,
    21: Timeout,
    22: MemoryLimit,
    23: SeccompViolation,
    24: CpuLimit,
    25: ProtocolViolation,
    42: Closed,
    43: Cancelled,
    60: SandboxUnavailable,
    61: HelperError,
    65: Busy,
}

# Every code the library has, for counts(): the names of those not listed above come from the library too.
CODES: Tuple[int, ...] = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 22, 23, 24, 25, 40, 41, 42, 43, 60, 61, 62, 63, 64, 65,
)


def error_class(code: int) -> Type[AirlockError]:
    """The exception class of an airlock_error code (AirlockError itself for codes without their own)."""
    return _CLASSES.get(code, AirlockError)


def layer_names(mask: int) -> FrozenSet[str]:
    """An airlock_layer mask as names ("seccomp", "net_ns", ...)."""
    names = set()
    bit = 1
    while bit <= mask:
        if mask & bit:
            n = _airlock.layer_name(bit)
            names.add(n if n is not None else hex(bit))
        bit <<= 1
    return frozenset(names)


def make_error(
    code: int,
    type_code: int,
    limit_key: int,
    mime: Optional[str],
    elapsed_us: int,
    layers: int,
    detail: Optional[str],
    request: int,
) -> AirlockError:
    """Called by the extension for every failure; its report fields become attributes."""
    limit = KEY_NAMES.get(limit_key) if limit_key else None
    tname = TYPE_NAMES.get(type_code) if type_code else None
    parts = []
    if limit:
        parts.append(f"limit {limit}")
    if tname:
        parts.append(f"type {tname}")
    if mime:
        parts.append(f"mime {mime}")
    message = _airlock.strerror(code)
    if parts:
        message += f" ({', '.join(parts)})"
    if detail:
        message += f": {detail}"
    e = error_class(code)(
        message, code=code, limit=limit, type=tname, mime=mime, elapsed_us=elapsed_us, layers=layer_names(layers)
    )
    e._request = bool(request)
    return e
