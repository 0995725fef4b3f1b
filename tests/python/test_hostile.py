# SPDX-License-Identifier: MIT
"""The hostile corpus (corpus/hostile.tsv) as exceptions: every rejected row raises exactly the
class pyapi.md's tree gives its code name, with .code, .name, .limit and .type as the manifest
says; every rejection is a ValueError (web frameworks answer 400); and no message, event or log
line carries a byte of the payloads corpus/gen_hostile.py injects.

test_manifests.py replays the same rows for outcomes and outputs; this file is about the
exception objects themselves.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(120)

# pyapi.md "Errors": code name -> (class name, C code).
REJECTIONS: dict[str, tuple[str, int]] = {
    "malformed": ("Malformed", 1),
    "type": ("TypeNotAllowed", 2),
    "type_mismatch": ("TypeMismatch", 3),
    "too_large": ("TooLarge", 4),
    "input_too_big": ("InputTooBig", 5),
    "unsupported": ("Unsupported", 6),
    "empty": ("Empty", 7),
    "too_complex": ("TooComplex", 8),
    "too_long": ("TooLong", 9),
    "out_of_range": ("OutOfRange", 10),
    "worker_crash": ("WorkerCrash", 20),
    "timeout": ("Timeout", 21),
    "memory": ("MemoryLimit", 22),
    "seccomp": ("SeccompViolation", 23),
    "cpu_limit": ("CpuLimit", 24),
    "protocol": ("ProtocolViolation", 25),
}
OTHERS: dict[str, tuple[str, int]] = {
    "closed": ("Closed", 42),
    "cancelled": ("Cancelled", 43),
    "sandbox_unavailable": ("SandboxUnavailable", 60),
    "helper": ("HelperError", 61),
    "busy": ("Busy", 65),
}
SANDBOX_EVENTS = {"worker_crash", "timeout", "memory", "seccomp", "cpu_limit", "protocol"}

ROWS = [r for r in airtest.hostile_rows() if r.outcome != "ok"]


def test_the_tree() -> None:
    """The hierarchy pyapi.md documents, and error_class() for every code."""
    assert issubclass(airlock.AirlockError, Exception)
    assert issubclass(airlock.Rejected, airlock.AirlockError)
    assert issubclass(airlock.Rejected, ValueError)
    assert issubclass(airlock.SandboxEvent, airlock.Rejected)
    assert issubclass(airlock.InputTooBig, airlock.TooLarge)
    for name, (cls_name, code) in REJECTIONS.items():
        cls = getattr(airlock, cls_name)
        assert issubclass(cls, airlock.Rejected), cls_name
        assert issubclass(cls, airlock.SandboxEvent) == (name in SANDBOX_EVENTS), cls_name
        assert airlock.error_class(code) is cls, cls_name
    for cls_name, code in OTHERS.values():
        cls = getattr(airlock, cls_name)
        assert issubclass(cls, airlock.AirlockError) and not issubclass(cls, ValueError), cls_name
        assert airlock.error_class(code) is cls, cls_name
    for code in (40, 41, 62, 63, 64):
        assert airlock.error_class(code) is airlock.AirlockError


def test_every_class_is_rejected_somewhere() -> None:
    """Each class of the corpus has rows that are refused, so the per-row tests below cover it;
    but apng_lie, whose every row decodes (an APNG's lies are in frames airlock never reads: the
    default image is what it gives)."""
    classes = {r.cls for r in airtest.hostile_rows()}
    assert len(classes) == 11
    assert {r.cls for r in ROWS} == classes - {"apng_lie"}
    assert {r.outcome for r in ROWS} <= set(REJECTIONS)


@pytest.fixture(scope="module")
def sanitizers() -> Iterator[dict[tuple[tuple[str, Any], ...], Any]]:
    made: dict[tuple[tuple[str, Any], ...], Any] = {}
    yield made
    for s in made.values():
        s.close()


def _messages(e: BaseException) -> list[str]:
    """Every text the exception shows: str, repr, args, and its chained causes."""
    out: list[str] = []
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out += [str(cur), repr(cur)] + [repr(a) for a in cur.args]
        cur = cur.__cause__ or cur.__context__
    return out


def _no_marker(texts: list[str], what: str) -> None:
    for t in texts:
        raw = t.encode("utf-8", "surrogateescape")
        for m in airtest.MARKERS:
            # As bytes, and as the escaped text a repr() of the input would show.
            assert m not in raw, f"{what} carries the payload {m[:8]!r}"
            assert repr(m)[2:-1].encode() not in raw, f"{what} carries the payload {m[:8]!r}, escaped"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_rejection(
    row: airtest.HostileRow, sanitizers: dict[tuple[tuple[str, Any], ...], Any], caplog: pytest.LogCaptureFixture
) -> None:
    large = airtest.hostile_large_dir()
    p = airtest.resolve(row.path, large)
    if p is None:
        pytest.fail(f"{row.path}: cannot read")
    data = p.read_bytes()
    ctor, call, expect = row.options()
    key = tuple(sorted((k, tuple(v) if isinstance(v, tuple) else v) for k, v in ctor.items()))
    if key not in sanitizers:
        sanitizers[key] = airlock.Sanitizer(**ctor)
    s = sanitizers[key]
    events: list[Any] = []
    s.on_event = events.append
    caplog.set_level(logging.DEBUG, logger="airlock")
    try:
        with pytest.raises(airlock.AirlockError) as info:
            s.sanitize(data, expect=expect, **call)
    finally:
        s.on_event = None
    e: Any = info.value
    cls_name, code = REJECTIONS[row.outcome]
    cls = type(e)
    assert cls is getattr(airlock, cls_name)
    assert issubclass(cls, airlock.Rejected) and issubclass(cls, ValueError)
    assert issubclass(cls, airlock.SandboxEvent) == (row.outcome in SANDBOX_EVENTS)
    assert (e.code, e.name) == (code, row.outcome)
    assert e.limit == (None if row.limit == "-" else row.limit)
    want_type, want_mime = row.want_type_mime()
    assert e.type == want_type
    if want_mime is not None:
        assert e.mime == want_mime
    assert isinstance(e.elapsed_us, int) and e.elapsed_us >= 0
    assert str(e) and str(e).isprintable()
    _no_marker(_messages(e), "the exception")

    # The same refusal as an event and a log line, neither carrying the payload.
    assert len(events) == 1
    ev = events[0]
    assert (ev.code, ev.name, ev.limit, ev.input_bytes) == (code, row.outcome, e.limit, len(data))
    assert ev.type == e.type and ev.expect == expect
    _no_marker([repr(ev)] + [str(getattr(ev, f)) for f in ("name", "type", "limit", "mime", "layers")], "the event")
    records = [r for r in caplog.records if r.name == "airlock"]
    assert records, "no log line for a rejection"
    want_level = logging.WARNING if row.outcome in SANDBOX_EVENTS else logging.INFO
    assert records[-1].levelno == want_level
    _no_marker([r.getMessage() for r in records], "the log line")
