#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vLLM's stock media connector against airlock's (issue 17). Run it as
`scripts/bench-vllm.sh`, which builds the inputs, installs the checkout's
package beside the real vLLM and runs this file there; options pass through:

    scripts/bench-vllm.sh [-n N] [--quick] [--concurrency C] [--audio-concurrency A]
                          [--markdown FILE]

Both connectors come from vLLM's own registry
(`MEDIA_CONNECTOR_REGISTRY.load("http" | "airlock", allowed_local_media_path=...)`,
after `airlock.vllm.register()`), and fetch the same `file://` URLs of
tests/bench/bench.py's inputs (made once into BUILD/bench-inputs/, no
downloads): the 1 MP JPEG and PNG, the 64x64 PNG, and the 60-second MP3,
FLAC and Opus. The fetching (URL parsing, the allowed-path check, the file
read) is vLLM's code on both sides; what differs is the decode: Pillow,
soundfile or PyAV in this process against airlock's confined worker.

Sections, each printed as a table when it finishes:

  sync    `conn.fetch_image(url)` / `conn.fetch_audio(url)`, one call at a
          time: median ms per call over N rounds (-n, default 15; the audio
          min(N, max(5, N // 3))), the two connectors interleaved (in each
          round each runs once, in turn), after an untimed warm-up round.
  async   `asyncio.gather` of C concurrent `fetch_image_async` calls
          (--concurrency, default 32), and of A `fetch_audio_async` calls
          (--audio-concurrency, default 8: 32 minute-long files a round would
          take minutes on two cores), on one event loop: vLLM runs each decode in its media thread pool
          (VLLM_MEDIA_LOADING_THREAD_COUNT, 8 by default), so this is what a
          busy server's front end sees. Median ms per batch, and calls per
          second.

The ratio column is airlock / stock (below 1: airlock is faster). Warm-up
check, for every input: the two connectors' outputs have the same type, mode
and shape; PNG pixels equal exactly, JPEG pixels within the largest
difference printed (Pillow's bundled libjpeg-turbo against Debian's, which
airlock links: the builds may round differently); audio the same sample rate
and frame count (within 0.1%, the MP3 and Opus decoders' priming may differ)
and the largest sample difference printed. A check that fails is reported
and makes the exit status non-zero; the timing goes on.

--markdown FILE writes every table as GitHub Markdown after a block
describing the machine, the versions and the load average.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import logging
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# bench.py and bench_python.py give the inputs, the tables and the method; reached through Any.
bench: Any = importlib.import_module("bench")
bench_python: Any = importlib.import_module("bench_python")

IMAGES = ["photo-1mp.jpg", "photo-1mp.png", "icon-64.png"]
AUDIO = ["music-60s.mp3", "music-60s.flac", "music-60s.opus"]
EXACT = {"photo-1mp.png", "icon-64.png"}


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


class Bench:
    def __init__(self, argv: argparse.Namespace, report: Any) -> None:
        self.argv = argv
        self.report = report
        self.n: int = argv.n
        self.n_big = 1 if argv.quick else min(argv.n, max(5, argv.n // 3))
        self.conc: int = argv.concurrency
        self.audio_conc: int = argv.audio_concurrency
        self.versions: dict[str, str] = {}
        self.conns: dict[str, Any] = {}
        self.np: Any = None

    def rounds(self, name: str) -> int:
        return self.n_big if name in AUDIO else self.n

    def open(self, inputs_dir: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import vllm
            from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY
        import airlock
        import numpy as np
        import PIL
        try:
            import airlock.vllm as avllm
        except ImportError as e:
            raise bench.BenchError(f"airlock.vllm: cannot import it ({e}); is the connector in this checkout?") from e
        avllm.register()
        # vLLM's stock audio path warns on every call that torchcodec is missing before it falls back to
        # soundfile (this environment has no torchcodec): the call still costs what it costs, unprinted.
        logging.getLogger("vllm.multimodal.media.audio").setLevel(logging.ERROR)
        self.np = np
        self.versions = {"vLLM": vllm.__version__, "airlock": airlock.__version__, "Pillow": PIL.__version__,
                         "numpy": np.__version__}
        for mod in ("torch", "soundfile", "av"):
            try:
                self.versions[mod] = importlib.import_module(mod).__version__
            except ImportError:
                pass
        self.versions["VLLM_MEDIA_LOADING_THREAD_COUNT"] = os.environ.get("VLLM_MEDIA_LOADING_THREAD_COUNT", "8")
        for name in ("http", "airlock"):
            self.conns[name] = MEDIA_CONNECTOR_REGISTRY.load(name, allowed_local_media_path=str(inputs_dir))
        if type(self.conns["airlock"]).__name__ != "AirlockMediaConnector":
            raise bench.BenchError(f"the registry's airlock connector is {type(self.conns['airlock']).__name__}")

    # -- checks --

    def check(self, name: str, outs: dict[str, Any]) -> str:
        """The warm-up outputs of both connectors: the same job done. Returns the difference for the table."""
        np = self.np
        stock, ours = outs["http"], outs["airlock"]
        if name in IMAGES:
            a, b = stock.media, ours.media
            if type(stock) is not type(ours) or a.mode != b.mode or a.size != b.size:
                raise bench.BenchError(f"{name}: stock {type(stock).__name__} {a.mode} {a.size}, "
                                       f"airlock {type(ours).__name__} {b.mode} {b.size}")
            d = int(np.abs(np.asarray(a).astype(np.int16) - np.asarray(b).astype(np.int16)).max())
            if name in EXACT and d != 0:
                raise bench.BenchError(f"{name}: pixels differ by up to {d}")
            return "equal" if d == 0 else f"max {d}"
        (ya, ra), (yb, rb) = stock, ours
        if ra != rb or ya.dtype != yb.dtype or ya.ndim != yb.ndim:
            raise bench.BenchError(f"{name}: stock {ya.dtype} {ya.shape} at {ra} Hz, airlock {yb.dtype} {yb.shape} "
                                   f"at {rb} Hz")
        if abs(len(ya) - len(yb)) > len(ya) // 1000:
            raise bench.BenchError(f"{name}: {len(ya)} frames stock, {len(yb)} airlock")
        k = min(len(ya), len(yb))
        diff = float(np.abs(ya[:k] - yb[:k]).max()) if k else 0.0
        frames = "" if len(ya) == len(yb) else f", frames {len(ya)} / {len(yb)}"
        return ("equal" if diff == 0.0 else f"max {diff:.2g}") + frames

    # -- sections --

    def url(self, path: Path) -> str:
        return path.resolve().as_uri()

    def sync(self, inputs: dict[str, Path]) -> None:
        rows = []
        for name in IMAGES + AUDIO:
            if name not in inputs:
                continue
            url = self.url(inputs[name])
            outs: dict[str, Any] = {}
            tools: dict[str, Callable[[], float]] = {}
            for conn_name, conn in self.conns.items():
                fetch = conn.fetch_image if name in IMAGES else conn.fetch_audio
                tools[conn_name] = bench_python.timed(lambda fetch=fetch, url=url: fetch(url), outs, conn_name)
            diff: list[str] = []

            def check(name: str = name, outs: dict[str, Any] = outs, diff: list[str] = diff) -> None:
                try:
                    diff.append(self.check(name, outs))
                except bench.BenchError as e:
                    self.report.fail(f"sync {e}")
                    diff.append("DIFFERENT")

            ms = bench_python.interleaved(tools, self.rounds(name), f"sync {name}", self.report, check)
            rows.append((name, self.row(ms, diff)))
        self.report.table("fetch_image / fetch_audio, one call at a time (ms per call, median)", "input",
                          ["stock ms", "airlock ms", "airlock / stock", "outputs"], rows)

    def row(self, ms: dict[str, float], diff: list[str]) -> dict[str, Any]:
        r: dict[str, Any] = {"stock ms": ms.get("http"), "airlock ms": ms.get("airlock"),
                             "outputs": diff[0] if diff else "n/a"}
        if "http" in ms and "airlock" in ms:
            r["airlock / stock"] = ms["airlock"] / ms["http"]
        return r

    def run_async(self, inputs: dict[str, Path]) -> None:
        rows = []
        loop = asyncio.new_event_loop()
        try:
            for name in IMAGES + AUDIO:
                if name not in inputs:
                    continue
                url = self.url(inputs[name])
                conc = self.conc if name in IMAGES else self.audio_conc
                times: dict[str, list[float]] = {k: [] for k in self.conns}
                outs: dict[str, Any] = {}
                diff = "n/a"
                for r in range(self.rounds(name) + 1):
                    for conn_name, conn in self.conns.items():
                        fetch = conn.fetch_image_async if name in IMAGES else conn.fetch_audio_async

                        async def batch(fetch: Any = fetch, url: str = url, conc: int = conc) -> list[Any]:
                            return list(await asyncio.gather(*(fetch(url) for _ in range(conc))))

                        t0 = time.perf_counter()
                        try:
                            got = loop.run_until_complete(batch())
                        except Exception as e:
                            raise bench.BenchError(f"async {name}, {conn_name}: {type(e).__name__}: {e}") from e
                        t = time.perf_counter() - t0
                        if r == 0:
                            outs[conn_name] = got[0]
                        else:
                            times[conn_name].append(t)
                    if r == 0:
                        try:
                            diff = self.check(name, outs)
                        except bench.BenchError as e:
                            self.report.fail(f"async {e}")
                            diff = "DIFFERENT"
                ms = {k: median_ms(v) for k, v in times.items()}
                row = self.row(ms, [diff])
                row["at once"] = conc
                row["stock calls/s"] = conc / ms["http"] * 1000
                row["airlock calls/s"] = conc / ms["airlock"] * 1000
                rows.append((name, row))
        finally:
            loop.close()
        self.report.table("fetch_image_async / fetch_audio_async, concurrent calls (ms per batch, median)",
                          "input", ["at once", "stock ms", "airlock ms", "airlock / stock", "stock calls/s",
                                    "airlock calls/s", "outputs"], rows)


def parse_args(args: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="vLLM's stock media connector against airlock's; see the docstring.")
    ap.add_argument("--build", type=Path, default=Path("build"), help="meson build directory (build)")
    ap.add_argument("-n", type=int, default=15, help="rounds per measurement (15; the audio fewer)")
    ap.add_argument("--concurrency", type=int, default=32, help="image calls at once in the async section (32)")
    ap.add_argument("--audio-concurrency", type=int, default=8, help="audio calls at once in the async section (8)")
    ap.add_argument("--quick", action="store_true", help="a smoke check: 3 rounds (the audio 1)")
    ap.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown into FILE")
    a = ap.parse_args(args)
    if a.quick:
        a.n = 3
    if a.n < 1 or a.concurrency < 1 or a.audio_concurrency < 1:
        ap.error("-n, --concurrency and --audio-concurrency must be at least 1")
    return a


def main() -> int:
    argv = parse_args()
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = bench_python.loadavg()
    report = bench.Report()
    b = Bench(argv, report)
    build = argv.build.resolve()
    print(f"airlock vLLM connector benchmark: {b.n} rounds ({b.n_big} for the audio), medians; "
          f"{b.conc} images and {b.audio_conc} audio files at once in the async section; "
          f"load average {load_start}", flush=True)
    try:
        inputs = bench_python.make_inputs(report, build)
        inputs = {k: v for k, v in inputs.items() if k in IMAGES + AUDIO}
        b.open(build / "bench-inputs")
        for section in (b.sync, b.run_async):
            try:
                section(inputs)
            except bench.BenchError as e:
                report.fail(str(e))
    except bench.BenchError as e:
        report.fail(str(e))
    if argv.markdown:
        info = bench_python.machine_info(build, b.versions, "tests/bench/bench_vllm.py", started, load_start)
        bench_python.write_markdown(argv.markdown, report, info, targets=False)
        print(f"bench: tables written to {argv.markdown}", file=sys.stderr, flush=True)
    for f in report.failures:
        print(f"bench: failure: {f}", file=sys.stderr)
    print(f"\nload average {bench_python.loadavg()}", flush=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
