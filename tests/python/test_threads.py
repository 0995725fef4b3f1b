# SPDX-License-Identifier: MIT
"""Threads on one Sanitizer: 8 threads x 200 mixed requests, each with its own per-call options,
all correct (against values computed single-threaded by Sanitizers configured through the
constructor); requests of different threads overlap in time (the GIL is released around the
wait); a pure-Python thread keeps counting while requests run; and 10,000 requests leave no
descriptor, process, RSS or Python memory behind.
"""

from __future__ import annotations

import gc
import random
import sys
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(600)

IMAGES = airtest.CORPUS / "images"
AUDIO = airtest.CORPUS / "audio"


@dataclass(frozen=True)
class Spec:
    """One kind of request: input, method and options (per call here, per Sanitizer for the
    reference)."""

    name: str
    data: bytes
    method: str
    kw: tuple[tuple[str, Any], ...]


def _specs() -> list[Spec]:
    images = {
        p: (IMAGES / p).read_bytes()
        for p in (
            "rgb8.png",
            "rgba8.png",
            "pal8_trns_partial.png",
            "jpeg_420.jpg",
            "jpeg_exif_orientation6.jpg",
            "adam7_rgb8_40x32.png",
        )
    }
    audio = {
        p: (AUDIO / p).read_bytes()
        for p in ("wav_s16_stereo_8k.wav", "flac_s16_stereo_48k.flac", "wav_u8_mono_44k.wav")
    }
    image_opts: list[dict[str, Any]] = [
        {},
        {"keep_alpha": True},
        {"background": (0, 0, 0)},
        {"background": 0x336699, "keep_alpha": False},
        {"max_pixels": 100},
        {"max_width": 16},
        {"icc": False, "keep_alpha": True},
    ]
    audio_opts: list[dict[str, Any]] = [
        {},
        {"rate": 16000},
        {"mono": True},
        {"dtype": "int16"},
        {"rate": 16000, "mono": True, "dtype": "int16"},
        {"rate": 22050, "dtype": "float32"},
        {"max_rate": 16000},
        {"max_decoded_bytes": 1000},
    ]
    out = []
    for name, data in images.items():
        for kw in image_opts:
            out.append(Spec(f"{name}{kw}", data, "image", tuple(kw.items())))
    for name, data in audio.items():
        for kw in audio_opts:
            out.append(Spec(f"{name}{kw}", data, "audio", tuple(kw.items())))
    return out


SPECS = _specs()


def outcome(r: Any) -> tuple[Any, ...]:
    """What a request gave, comparable across runs: the shape, dtype, changes and bytes of a
    result, or the code name, limit and type of an error."""
    if isinstance(r, airlock.AirlockError):
        return ("error", r.name, r.limit, r.type)
    a = np.asarray(r)
    return ("ok", r.type, a.shape, str(a.dtype), tuple(sorted(r.changes)), airtest.digest(r))


def call(s: Any, spec: Spec, per_call: bool = True) -> tuple[Any, ...]:
    try:
        fn = getattr(s, spec.method)
        return outcome(fn(spec.data, **dict(spec.kw)) if per_call else fn(spec.data))
    except airlock.AirlockError as e:
        return outcome(e)


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple[Any, ...]]:
    """Each spec single-threaded, its options set on a Sanitizer of its own."""
    want = {}
    for spec in SPECS:
        with airlock.Sanitizer(**dict(spec.kw)) as s:
            want[spec.name] = call(s, spec, per_call=False)
    # The options matter: otherwise this test could not tell them apart.
    assert len({v for v in want.values()}) > len(SPECS) // 2
    assert sum(v[0] == "error" for v in want.values()) >= 6
    return want


def test_eight_threads_mixed_options(expected: dict[str, tuple[Any, ...]]) -> None:
    threads_n, per_thread = 8, 200
    s, zygote = airtest.open_sanitizer()
    with s:
        for spec in SPECS[:3]:  # warm-up: the zygote and its spares exist before counting
            call(s, spec)
        fds, kids, nthreads = airtest.fd_count(), airtest.children(), airtest.thread_count()
        spans: list[tuple[int, float, float]] = []
        failures: list[str] = []
        barrier = threading.Barrier(threads_n)
        lock = threading.Lock()

        def work(tid: int) -> None:
            rng = random.Random(tid)
            mine: list[tuple[int, float, float]] = []
            bad: list[str] = []
            barrier.wait()
            for _ in range(per_thread):
                spec = rng.choice(SPECS)
                t0 = time.monotonic()
                got = call(s, spec)
                mine.append((tid, t0, time.monotonic()))
                if got != expected[spec.name]:
                    bad.append(f"thread {tid}: {spec.name}: {got[:3]} != {expected[spec.name][:3]}")
            with lock:
                spans.extend(mine)
                failures.extend(bad)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in ts), "a thread hung"
        assert not failures, f"{len(failures)} wrong results, first: {failures[:5]}"
        assert len(spans) == threads_n * per_thread

        # Requests of different threads ran at the same time (they would not, one after the
        # other, if a request held the GIL or a lock of the Sanitizer for its whole length).
        spans.sort(key=lambda x: x[1])
        overlaps = 0
        for i, (tid, _t0, t1) in enumerate(spans):
            for tid2, u0, _u1 in spans[i + 1 : i + 16]:
                if u0 >= t1:
                    break
                if tid2 != tid:
                    overlaps += 1
                    break
        assert overlaps >= 50, f"only {overlaps} requests overlapped one of another thread"

        # Nothing left behind: the zygote alone, no worker, no descriptor, no thread.
        assert airtest.children() == kids
        assert airtest.wait_until(lambda: not airtest.workers(zygote), 5.0), "a worker outlived its request"
        assert airtest.fd_count() == fds, airtest.fd_targets()
        # A joined thread's OS thread may take a moment more to leave /proc.
        assert airtest.wait_until(lambda: airtest.thread_count() == nthreads, 5.0), airtest.thread_count()
        assert sum(s.counts().values()) >= threads_n * per_thread


def test_pure_python_thread_keeps_running() -> None:
    """A counter thread counts while another thread's requests run. The requests decode a 1 MP
    PNG (~50 ms each, all of it in the worker). What is compared is the count made *inside*
    requests (read just before and just after each call) against the idle rate: a call that held
    the GIL would leave the counter nothing but the odd switch-interval slice, a few per cent.
    The bar is 25% of the idle rate, not more, because the worker decoding on one of the two
    cores (and the other jobs of a shared machine) take CPU from the counter as well; idle and
    busy phases alternate so that load from elsewhere hits both alike."""
    png = airtest.make_png(1024, 1024)
    count = [0]
    stop = threading.Event()
    busy = threading.Event()

    def counter() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            count[0] = n

    with airlock.Sanitizer() as s:
        s.image(png)
        done = [0]
        inside = [0, 0.0]  # counts made during requests, seconds spent in requests

        def requester() -> None:
            while not stop.is_set():
                if busy.wait(0.05):
                    c0, t0 = count[0], time.monotonic()
                    s.image(png)
                    c1, t1 = count[0], time.monotonic()
                    inside[0] += c1 - c0
                    inside[1] += t1 - t0
                    done[0] += 1

        ts = [threading.Thread(target=counter), threading.Thread(target=requester)]
        for t in ts:
            t.start()
        idle = 0
        try:
            for _ in range(2):
                c0 = count[0]
                time.sleep(1.0)
                idle += count[0] - c0
                busy.set()
                time.sleep(1.0)
                busy.clear()
                time.sleep(0.2)
        finally:
            stop.set()
            for t in ts:
                t.join(timeout=30)
    assert done[0] >= 4, "the requests did not run"
    idle_rate, busy_rate = idle / 2.0, inside[0] / inside[1]
    assert busy_rate > 0.25 * idle_rate, f"counter: {busy_rate:.0f}/s inside requests, {idle_rate:.0f}/s idle"


def test_no_growth_over_10000_requests() -> None:
    """10,000 small requests (images, audio and refusals) after a warm-up of 500: the same
    descriptors, the same children, RSS and traced Python memory flat.

    Slack: tracemalloc 256 KiB, i.e. 26 bytes a request (a leaked result object, exception or
    options object would be 50 bytes or more each, 0.5 MB or more in all); RSS 8 MiB, i.e. 840
    bytes a request, for malloc's arenas and numpy's caches settling (a leaked result mapping
    is a page or more each, 40 MB or more in all)."""
    png = (IMAGES / "rgb8.png").read_bytes()
    wav = (AUDIO / "wav_s16_stereo_8k.wav").read_bytes()
    bad = png[:40]
    requests: list[tuple[str, bytes, dict[str, Any]]] = [
        ("image", png, {}),
        ("audio", wav, {"rate": 16000, "mono": True}),
        ("image", bad, {}),
        ("image", png, {"keep_alpha": True, "max_pixels": 1_000_000}),
        ("audio", wav, {"dtype": "int16"}),
        ("image", wav, {}),
    ]

    def run(s: Any, n: int) -> None:
        for i in range(n):
            method, data, kw = requests[i % len(requests)]
            try:
                r = getattr(s, method)(data, **kw)
                np.asarray(r).sum()
            except airlock.Rejected:
                pass

    with airlock.Sanitizer() as s:
        tracemalloc.start()
        try:
            run(s, 500)
            gc.collect()
            fds, kids = airtest.fd_count(), airtest.children()
            rss0 = airtest.rss_bytes()
            traced0 = tracemalloc.get_traced_memory()[0]
            run(s, 10_000)
            gc.collect()
            traced1 = tracemalloc.get_traced_memory()[0]
            rss1 = airtest.rss_bytes()
        finally:
            tracemalloc.stop()
        assert airtest.fd_count() == fds
        assert airtest.children() == kids
        assert traced1 - traced0 < 256 << 10, f"traced memory grew {traced1 - traced0} bytes"
        assert rss1 - rss0 < 8 << 20, f"RSS grew {rss1 - rss0} bytes"
        counts = s.counts()
        assert counts.get("ok", 0) >= 10_500 * 4 // 6 - 10
        assert sum(v for k, v in counts.items() if k != "ok") >= 10_500 * 2 // 6 - 10
