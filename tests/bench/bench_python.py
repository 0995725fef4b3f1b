#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""airlock's Python benchmark (issue 16). Run it as `scripts/bench-python.sh`,
which installs the reference packages and the checkout's package into a
cached virtual environment and runs this file with it; options pass through:

    scripts/bench-python.sh [-n N] [--quick] [--markdown FILE] [--skip-library]

It uses tests/bench/bench.py's inputs (made once into BUILD/bench-inputs/ by
its make_inputs, no downloads), its tables and its method: every figure is a
median; rounds are interleaved (in round r each column runs once, in turn),
after one untimed warm-up round whose outputs are checked for the same job.
N rounds (-n, default 15) for small inputs; the 12-megapixel JPEG and the
60-second audio files take min(N, max(5, N // 3)). --quick, a smoke check that
measures little: 3 rounds, 1 for the big inputs, fewer calls per thread
measurement, and of the floors only the library table for the images, once. Besides those it
makes pixel-1.png, a 1x1 PNG, whose request is the fixed cost of one round
trip through the sandbox.

Sections, each printed as a table when it finishes:

  images    `np.asarray(s.image(data))` against vLLM's path today,
            `np.asarray(ImageOps.exif_transpose(Image.open(BytesIO(data)))
            .convert("RGB"))`, with the PyPI Pillow in this process and
            Debian's python3-pil in a subprocess of /usr/bin/python3 (so
            both Pillows appear in one run; that process times its own
            calls, and the pipe to it is outside every timing). Warm-up
            check: the same shape everywhere; PNG pixels equal (a failure
            otherwise); for JPEG the largest difference is printed (the
            Pillows' libjpeg-turbo builds may round differently).
  audio     `np.asarray(s.audio(data, rate=16000, mono=True))` against
            soundfile.read + the mean of the channels + soxr.resample to
            16 kHz (soxr's default quality, HQ), and against
            librosa.load(BytesIO(data), sr=16000, mono=True) (its default
            resampler is soxr HQ too). Warm-up check: frame counts within
            1%, and the correlation of airlock's samples with soundfile's.
  threads   requests per second from 1 thread and from 2 threads sharing one
            Sanitizer (the GIL is released while a request runs), for the
            1 MP JPEG and the 64x64 PNG; the PyPI Pillow's path the same way,
            for comparison.
  floors    tests/bench-sanitize --json from the C build (BUILD): the plain
            in-process decode, and airlock_sanitize() through the sandbox
            for the same inputs (library table), and its own 1- against
            2-thread scaling: what the Python path costs on top of the C
            library, and what the sandbox costs on its own. Not interleaved
            with the rounds above (a separate process); --skip-library leaves
            it out.

Targets (issue 16): the Python path within 1.25x of Pillow's in-process path
at 1 MP (JPEG and PNG) and within 1.1x at 12 MP, against each Pillow; faster
than librosa for each audio file; 2 threads at least 1.6x one. They end in a
table and the line `N targets met, M missed`. A missed target is reported,
not an error: the exit status is non-zero only if something failed.

--markdown FILE writes every table as GitHub Markdown after a block
describing the machine, the versions and the load average.

Internal: `bench_python.py --pillow-worker` is the Debian-Pillow process;
it reads one JSON request per line on stdin and answers on stdout.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import shlex
import statistics
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# bench.py has no type hints: reached through Any so that mypy --strict checks this file, not that one.
bench: Any = importlib.import_module("bench")

DEBIAN_PYTHON = "/usr/bin/python3"
PIXEL = "pixel-1.png"
# In the order, then the round trip's floor.
IMAGES = ["icon-64.png", "photo-1mp.jpg", "photo-12mp.jpg", "photo-1mp.png", PIXEL]
AUDIO = ["music-60s.mp3", "music-60s.flac", "music-60s.opus"]
BIG = {"photo-12mp.jpg", *AUDIO}
THREAD_INPUTS = ["photo-1mp.jpg", "icon-64.png"]
# (input, limit on airlock / Pillow): issue 16's targets.
IMAGE_TARGETS = {"photo-1mp.jpg": 1.25, "photo-1mp.png": 1.25, "photo-12mp.jpg": 1.1}
THREAD_TARGET = 1.6
OUT_RATE = 16000

Array = Any  # numpy.ndarray, imported late: the Debian worker must start without the venv's numpy


# ---- the path each side runs ----

def pillow_decode(image_mod: Any, imageops_mod: Any, np: Any, data: bytes) -> Array:
    """vLLM's image path today: open, EXIF transpose, RGB, numpy."""
    im = imageops_mod.exif_transpose(image_mod.open(BytesIO(data)))
    return np.asarray(im.convert("RGB"))


# ---- the Debian Pillow process ----

def pillow_worker() -> int:
    """Serves timed Pillow decodes on stdin/stdout: one JSON object a line each way."""
    import numpy as np
    import PIL
    from PIL import Image, ImageOps

    cache: dict[str, bytes] = {}
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "hello":
                ans: dict[str, Any] = {"pillow": PIL.__version__, "numpy": np.__version__,
                                       "python": sys.version.split()[0]}
            elif req["op"] == "image":
                path = req["path"]
                if path not in cache:
                    cache[path] = Path(path).read_bytes()
                data = cache[path]
                t0 = time.perf_counter()
                a = pillow_decode(Image, ImageOps, np, data)
                s = time.perf_counter() - t0
                if req.get("dump"):
                    Path(req["dump"]).write_bytes(a.tobytes())
                ans = {"s": s, "shape": list(a.shape), "dtype": str(a.dtype)}
            else:
                ans = {"error": f"unknown op {req['op']!r}"}
        except Exception as e:  # the parent reports it as that column's failure
            ans = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(ans) + "\n")
        out.flush()
    return 0


class DebianPillow:
    """The Debian-Pillow process, seen from here."""

    def __init__(self, python: str) -> None:
        self.proc = subprocess.Popen([python, str(Path(__file__).resolve()), "--pillow-worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = self.ask({"op": "hello"})

    def ask(self, req: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(req) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError as e:
            raise bench.BenchError(f"Debian Pillow process: {e}") from e
        if not line:
            raise bench.BenchError(f"Debian Pillow process exited {self.proc.wait()}")
        ans: dict[str, Any] = json.loads(line)
        if "error" in ans:
            raise bench.BenchError(f"Debian Pillow: {ans['error']}")
        return ans

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---- timing ----

def interleaved(tools: dict[str, Callable[[], float]], rounds: int, what: str, report: Any,
                check: Callable[[], None] | None = None) -> dict[str, float]:
    """tools: name -> a function that runs one call and returns its seconds. Median ms per tool over rounds,
    after an untimed warm-up round, then check() (which may raise BenchError). A tool that fails in the
    warm-up is dropped from the rest and reported; a later failure ends the measurement."""
    times: dict[str, list[float]] = {name: [] for name in tools}
    for r in range(rounds + 1):
        for name, fn in tools.items():
            if name not in times:
                continue
            try:
                t = fn()
            except Exception as e:  # any library's error is that column's failure
                msg = f"{what}, {name}: {type(e).__name__}: {e}"
                if r > 0:
                    raise bench.BenchError(msg) from e
                report.fail(msg)
                del times[name]
                continue
            if r > 0:
                times[name].append(t)
        if r == 0 and check is not None:
            check()
    return {name: statistics.median(v) * 1000 for name, v in times.items()}


def timed(fn: Callable[[], Array], keep: dict[str, Array], name: str) -> Callable[[], float]:
    """fn as an interleaved() tool: seconds of one call; the result kept under name for the check."""
    def run() -> float:
        t0 = time.perf_counter()
        out = fn()
        t = time.perf_counter() - t0
        keep[name] = out
        return t
    return run


def requests_per_second(fn: Callable[[], object], threads: int, per_thread: int) -> float:
    """threads threads each making per_thread calls at once, from a common start; calls per second."""
    start = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                fn()
        except BaseException as e:  # handed to the main thread
            errors.append(e)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise bench.BenchError(f"a thread failed: {type(errors[0]).__name__}: {errors[0]}")
    return threads * per_thread / elapsed


# ---- inputs ----

def one_pixel_png() -> bytes:
    """A 1x1 RGB PNG, written here: no tool needed."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00\x80\x40\x20")) + chunk(b"IEND", b""))


def make_inputs(report: Any, build: Path) -> dict[str, Path]:
    """bench.py's inputs (those this benchmark uses), and the 1x1 PNG."""
    outdir = build / "bench-inputs"
    scratch = bench.Report()  # the issue-15 inputs are bench.py's business: their failures are notes here
    inputs: dict[str, Path] = bench.make_inputs(scratch, build, outdir)
    for msg in scratch.failures:
        report.note(f"making bench.py's other inputs: {msg}")
    pixel = outdir / PIXEL
    if not pixel.exists():
        tmp = pixel.with_suffix(".tmp")
        tmp.write_bytes(one_pixel_png())
        tmp.rename(pixel)
    inputs[PIXEL] = pixel
    return {k: v for k, v in inputs.items() if k in IMAGES or k in AUDIO}


def shape_name(a: Array) -> str:
    return f"{a.shape[1]}x{a.shape[0]}" if a.ndim == 3 else f"{a.shape[0]} frames"


# ---- sections ----

class Bench:
    def __init__(self, argv: argparse.Namespace, report: Any) -> None:
        self.argv = argv
        self.report = report
        self.n: int = argv.n
        self.n_big = 1 if argv.quick else min(argv.n, max(5, argv.n // 3))
        self.build: Path = argv.build.resolve()
        self.np: Any = importlib.import_module("numpy")
        self.airlock: Any = importlib.import_module("airlock")
        self.versions: dict[str, str] = {"airlock": self.airlock.__version__, "numpy": self.np.__version__}
        self.floor: dict[str, dict[str, Any]] = {}  # bench-sanitize's rows: {table: {row: {column: value}}}
        self.python_ms: dict[str, float] = {}  # airlock's Python path per input, for the floors table
        self.sanitizer: Any = None
        self.debian: DebianPillow | None = None
        self.pil_image: Any = None
        self.pil_imageops: Any = None
        self.sf: Any = None
        self.soxr: Any = None
        self.librosa: Any = None
        self.pypi_pillow = "PyPI Pillow"
        self.debian_pillow = "Debian Pillow"

    def rounds(self, name: str) -> int:
        return self.n_big if name in BIG else self.n

    def open(self) -> None:
        self.sanitizer = self.airlock.Sanitizer()
        try:
            import PIL
            self.pil_image = importlib.import_module("PIL.Image")
            self.pil_imageops = importlib.import_module("PIL.ImageOps")
            self.versions["PyPI Pillow"] = PIL.__version__
            self.pypi_pillow = f"Pillow {PIL.__version__} (PyPI)"
        except ImportError as e:
            self.report.fail(f"the venv's Pillow: cannot import it ({e})")
        if not os.path.exists(self.argv.debian_python):
            self.report.fail(f"Debian's Pillow: no {self.argv.debian_python}")
            return
        try:
            self.debian = DebianPillow(self.argv.debian_python)
            self.versions["Debian Pillow"] = self.debian.info["pillow"]
            self.versions["Debian numpy"] = self.debian.info["numpy"]
            self.versions["Debian Python"] = self.debian.info["python"]
            self.debian_pillow = f"Pillow {self.debian.info['pillow']} (Debian)"
        except bench.BenchError as e:
            self.report.fail(f"{e} (install python3-pil and python3-numpy)")
            self.debian = None

    def close(self) -> None:
        if self.debian is not None:
            self.debian.close()
        if self.sanitizer is not None:
            self.sanitizer.close()

    # -- images --

    def images(self, inputs: dict[str, Path]) -> None:
        pypi, deb = self.pypi_pillow, self.debian_pillow
        rows = [row for name in IMAGES if name in inputs for row in self.image_row(name, inputs[name])]
        self.report.table("Python images: airlock against Pillow (vLLM's path)", "input",
                          ["shape", "airlock ms", "PyPI Pillow ms", "Debian Pillow ms", "airlock/PyPI",
                           "airlock/Debian", "max diff PyPI", "max diff Debian"], rows,
                          [f"PyPI = {pypi}, in this process; Debian = {deb}, in a /usr/bin/python3 subprocess",
                           "airlock: np.asarray(s.image(data)), sandboxed, zero-copy; Pillow: np.asarray(ImageOps."
                           "exif_transpose(Image.open(BytesIO(data))).convert('RGB')), in-process",
                           "max diff: the largest difference of any pixel value from airlock's (PNG: must be 0)",
                           f"{PIXEL}: a 1x1 PNG, the cost of one round trip through the sandbox"])

    def image_row(self, name: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
        """One input's row (none if airlock failed on it)."""
        np, s = self.np, self.sanitizer
        pypi, deb = self.pypi_pillow, self.debian_pillow
        data = path.read_bytes()
        keep: dict[str, Array] = {}
        tools: dict[str, Callable[[], float]] = {"airlock": timed(lambda: np.asarray(s.image(data)), keep, "airlock")}
        if self.pil_image is not None:
            tools[pypi] = timed(lambda: pillow_decode(self.pil_image, self.pil_imageops, np, data), keep, pypi)
        debian = self.debian
        if debian is not None:
            dump = self.build / "bench-python-dump.raw"

            def debian_call() -> float:
                first = deb not in keep  # the warm-up: its pixels come back through a file, for the check
                ans = debian.ask({"op": "image", "path": str(path), "dump": str(dump) if first else None})
                if first:
                    keep[deb] = np.frombuffer(dump.read_bytes(), np.uint8).reshape(ans["shape"])
                    dump.unlink()
                return float(ans["s"])
            tools[deb] = debian_call
        diffs: dict[str, int] = {}

        def check() -> None:
            a = keep.get("airlock")
            if a is None:
                return
            if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
                raise bench.BenchError(f"images: {name}: airlock gave {a.dtype} {a.shape}, not (H, W, 3) uint8")
            for other in (pypi, deb):
                b = keep.get(other)
                if b is None:
                    continue
                if b.shape != a.shape:
                    raise bench.BenchError(f"images: {name}: airlock's shape {a.shape}, {other}'s {b.shape}")
                diffs[other] = int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())
                if name.endswith(".png") and diffs[other]:
                    raise bench.BenchError(f"images: {name}: pixels differ from {other}'s by up to {diffs[other]}: "
                                           "a PNG decodes one way only")
        try:
            ms = interleaved(tools, self.rounds(name), f"images {name}", self.report, check)
        except bench.BenchError as e:
            self.report.fail(str(e))
            return []
        if "airlock" not in ms:
            return []
        self.python_ms[name] = ms["airlock"]
        vals: dict[str, Any] = {"shape": shape_name(keep["airlock"]), "airlock ms": ms["airlock"]}
        for col, other in (("PyPI", pypi), ("Debian", deb)):
            vals[f"{col} Pillow ms"] = ms.get(other, "n/a")
            ratio = ms["airlock"] / ms[other] if other in ms else None
            vals[f"airlock/{col}"] = ratio if ratio is not None else "n/a"
            vals[f"max diff {col}"] = diffs.get(other, "n/a")
            if ratio is not None and name in IMAGE_TARGETS:
                self.report.target(f"Python {name}: airlock / {other}", ratio, "<=", IMAGE_TARGETS[name])
        return [(name, vals)]

    # -- audio --

    def audio(self, inputs: dict[str, Path]) -> None:
        try:
            self.sf = importlib.import_module("soundfile")
            self.soxr = importlib.import_module("soxr")
            self.versions["soundfile"] = f"{self.sf.__version__} (libsndfile {self.sf.__libsndfile_version__})"
            self.versions["soxr"] = self.soxr.__version__
        except ImportError as e:
            self.sf = self.soxr = None
            self.report.fail(f"audio: soundfile or soxr: cannot import ({e})")
        try:
            self.librosa = importlib.import_module("librosa")
            self.versions["librosa"] = self.librosa.__version__
        except ImportError as e:
            self.librosa = None
            self.report.fail(f"audio: librosa: cannot import ({e})")
        notes: list[str] = []
        rows = [row for name in AUDIO if name in inputs for row in self.audio_row(name, inputs[name], notes)]
        self.report.table("Python audio: 60 s stereo to 16 kHz mono float32", "input",
                          ["frames", "airlock ms", "soundfile+soxr ms", "librosa ms", "airlock/soundfile+soxr",
                           "airlock/librosa", "corr"], rows,
                          ["airlock: np.asarray(s.audio(data, rate=16000, mono=True)), sandboxed; soundfile+soxr: "
                           "sf.read(BytesIO(data), dtype='float32'), the channels' mean, soxr.resample(x, rate, "
                           "16000); librosa: librosa.load(BytesIO(data), sr=16000, mono=True)",
                           "corr: the correlation of airlock's samples with soundfile+soxr's (same length)", *notes])

    def audio_row(self, name: str, path: Path, notes: list[str]) -> list[tuple[str, dict[str, Any]]]:
        np, s, sf, soxr, librosa = self.np, self.sanitizer, self.sf, self.soxr, self.librosa
        data = path.read_bytes()
        keep: dict[str, Array] = {}

        def sf_soxr() -> Array:
            x, rate = sf.read(BytesIO(data), dtype="float32", always_2d=True)
            return soxr.resample(x.mean(axis=1, dtype=np.float32), rate, OUT_RATE)

        def rosa() -> Array:
            return librosa.load(BytesIO(data), sr=OUT_RATE, mono=True)[0]

        tools: dict[str, Callable[[], float]] = {
            "airlock": timed(lambda: np.asarray(s.audio(data, rate=OUT_RATE, mono=True)), keep, "airlock")}
        if sf is not None:
            tools["soundfile+soxr"] = timed(sf_soxr, keep, "soundfile+soxr")
        if librosa is not None:
            tools["librosa"] = timed(rosa, keep, "librosa")
        corr: list[float] = []

        def warn(msg: str) -> None:
            print(f"WARNING: {msg}", flush=True)
            notes.append(f"WARNING: {msg}")

        def check() -> None:
            a = keep.get("airlock")
            if a is None:
                return
            if a.dtype != np.float32 or a.ndim != 1:
                raise bench.BenchError(f"audio: {name}: airlock gave {a.dtype} {a.shape}, not (frames,) float32")
            frames = {t: len(v) for t, v in keep.items()}
            if max(frames.values()) > min(frames.values()) * 1.01:
                warn(f"{name}: frame counts differ by more than 1%: {frames}")
            b = keep.get("soundfile+soxr")
            if b is not None:
                k = min(len(a), len(b))
                corr.append(float(np.corrcoef(a[:k], b[:k])[0, 1]))
                if corr[0] < 0.99:
                    warn(f"{name}: airlock's samples correlate with soundfile's at only {corr[0]:.4f}")
        try:
            ms = interleaved(tools, self.n_big, f"audio {name}", self.report, check)
        except bench.BenchError as e:
            self.report.fail(str(e))
            return []
        if "soundfile+soxr" in tools and "soundfile+soxr" not in ms:
            notes.append(f"soundfile (libsndfile {sf.__libsndfile_version__}) could not read {name}: see Failures")
        if "airlock" not in ms:
            return []
        self.python_ms[name] = ms["airlock"]
        vals: dict[str, Any] = {"frames": len(keep["airlock"]), "airlock ms": ms["airlock"]}
        for other in ("soundfile+soxr", "librosa"):
            vals[f"{other} ms"] = ms.get(other, "n/a")
        for other in ("soundfile+soxr", "librosa"):
            ratio = ms["airlock"] / ms[other] if other in ms else None
            vals[f"airlock/{other}"] = ratio if ratio is not None else "n/a"
            if ratio is not None and other == "librosa":
                self.report.target(f"Python {name}: airlock / librosa", ratio, "<", 1.0)
        vals["corr"] = f"{corr[0]:.4f}" if corr else "n/a"
        return [(name, vals)]

    # -- threads --

    def threads(self, inputs: dict[str, Path]) -> None:
        rows: list[tuple[str, dict[str, Any]]] = []
        for name in THREAD_INPUTS:
            if name not in inputs:
                continue
            data = inputs[name].read_bytes()
            ways: dict[str, Callable[[bytes], object]] = {"airlock": self.airlock_image}
            if self.pil_image is not None:
                ways[self.pypi_pillow] = self.pillow_image
            for who, fn in ways.items():
                rows += self.thread_row(name, who, fn, data)
        self.report.table(f"Python threads: requests per second from 1 and 2 threads ({len(os.sched_getaffinity(0))}"
                          " cores)", "input, path", ["1 thread req/s", "2 threads req/s", "2T/1T"], rows,
                          ["airlock: one Sanitizer shared by the threads; each call np.asarray(s.image(data))",
                           f"each thread makes the same number of calls per measurement; {self.n} interleaved rounds"])

    def airlock_image(self, data: bytes) -> Array:
        return self.np.asarray(self.sanitizer.image(data))

    def pillow_image(self, data: bytes) -> Array:
        return pillow_decode(self.pil_image, self.pil_imageops, self.np, data)

    def thread_row(self, name: str, who: str, fn: Callable[[bytes], object],
                   data: bytes) -> list[tuple[str, dict[str, Any]]]:
        # Calls per thread per measurement: about a quarter of a second on one thread.
        per = {"photo-1mp.jpg": 16, "icon-64.png": 200}[name] // (4 if self.argv.quick else 1)
        shape = self.np.asarray(fn(data)).shape  # the warm-up, and the same job as the image table's
        if shape[2:] != (3,):
            self.report.fail(f"threads {name}, {who}: shape {shape}")
            return []
        rates: dict[int, list[float]] = {1: [], 2: []}
        try:
            for r in range(self.n + 1):
                for k in (1, 2):
                    v = requests_per_second(lambda: fn(data), k, per)
                    if r > 0:
                        rates[k].append(v)
        except bench.BenchError as e:
            self.report.fail(f"threads {name}, {who}: {e}")
            return []
        one, two = statistics.median(rates[1]), statistics.median(rates[2])
        if who == "airlock":
            self.report.target(f"Python threads {name}: 2T / 1T", two / one, ">=", THREAD_TARGET)
        return [(f"{name}, {who}", {"1 thread req/s": one, "2 threads req/s": two, "2T/1T": two / one})]

    # -- floors --

    def library(self, inputs: dict[str, Path]) -> None:
        """bench-sanitize's library rows for every input, and its threads rows (a full run: it also measures
        the host size and memory sections, which take a while); --quick: the images' library rows, once."""
        exe = self.build / "tests" / "bench-sanitize"
        small = [inputs[k] for k in IMAGES if k in inputs and k not in BIG]
        big = [inputs[k] for k in [*IMAGES, *AUDIO] if k in inputs and k in BIG]
        if self.argv.quick:
            runs = [([*small, *(b for b in big if b.name not in AUDIO)], 1, ["--library-only"])]
        else:
            runs = [(small, self.n, ["--library-only"]), (big, self.n_big, ["--library-only"]),
                    ([inputs[k] for k in THREAD_INPUTS if k in inputs], self.n_big, [])]
        for batch, rounds, opts in runs:
            if not batch:
                continue
            cmd = [str(exe), "--json", "--no-targets", *opts, "-n", str(rounds), *map(str, batch)]
            try:
                p = subprocess.run(cmd, stdout=subprocess.PIPE, check=False, text=True)
            except OSError as e:
                self.report.fail(f"floors: cannot run {exe}: {e}")
                return
            if p.returncode != 0:
                self.report.fail(f"floors: bench-sanitize exited {p.returncode} on {', '.join(b.name for b in batch)}")
            for line in p.stdout.splitlines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and "table" in obj and obj["table"] in ("library", "threads"):
                    self.floor.setdefault(obj["table"], {})[obj["row"]] = dict(obj.get("cells", []))

    def floors(self) -> None:
        lib = self.floor.get("library", {})
        if not lib:
            return
        rows: list[tuple[str, dict[str, Any]]] = []
        for name in [*IMAGES, *AUDIO]:
            row = name if name not in AUDIO else f"{name} to 16 kHz mono f32"
            c = lib.get(row)
            if c is None or name not in self.python_ms:
                continue
            py, sandboxed, floor = self.python_ms[name], c.get("sandboxed ms"), c.get("floor ms")
            vals: dict[str, Any] = {"C floor ms": floor, "C sandboxed ms": sandboxed, "Python ms": py}
            if bench.is_number(sandboxed):
                vals["Python - C sandboxed ms"] = py - float(sandboxed)
            if bench.is_number(floor) and floor:
                vals["C sandboxed/floor"] = float(sandboxed) / float(floor) if bench.is_number(sandboxed) else None
                vals["Python/C floor"] = py / float(floor)
            rows.append((name, vals))
        thr = self.floor.get("threads", {})
        for name in THREAD_INPUTS:
            c = thr.get(name)
            if c is not None:
                rows.append((f"{name}, C threads", {"C 2T/1T": c.get("2/1")}))
        self.report.table("Floors: the C library on the same inputs (tests/bench-sanitize, a separate run)", "input",
                          ["C floor ms", "C sandboxed ms", "Python ms", "Python - C sandboxed ms",
                           "C sandboxed/floor", "Python/C floor", "C 2T/1T"], rows,
                          ["C floor: the plain in-process decode (libjpeg-turbo, libpng, libsndfile; audio: the "
                           "decode alone, without the downmix and resampling); C sandboxed: airlock_sanitize(), "
                           "for audio with 16 kHz mono f32; Python ms: this run's airlock column",
                           "Python - C sandboxed: what the extension and numpy add (medians from two processes)"])


# ---- report ----

def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine_info(build: Path, versions: dict[str, str], script: str, started: str,
                 load_start: str) -> list[tuple[str, str]]:
    """The machine section of a Python benchmark's Markdown (bench_python.py, bench_vllm.py)."""
    base = dict(bench.machine(argparse.Namespace(build=build)))
    keep = ["CPU", "nproc", "memory", "kernel", "Debian", "libjpeg-turbo / libpng", "libsndfile"]
    out = [(k, base[k]) for k in keep if k in base]
    out.append(("Python", sys.version.split()[0] + f" ({sys.executable})"))
    out += list(versions.items())
    out.append(("git", bench.first_line(["git", "-C", str(HERE), "describe", "--always", "--dirty"])))
    out.append(("date", started))
    out.append(("load average (1, 5, 15 min)", f"{load_start} at the start, {loadavg()} at the end"))
    out.append(("command", "`" + shlex.join([script, *sys.argv[1:]]) + "`"))
    return out


def machine(b: Bench, started: str, load_start: str) -> list[tuple[str, str]]:
    return machine_info(b.build, b.versions, "tests/bench/bench_python.py", started, load_start)


def write_markdown(path: str, report: Any, info: Sequence[tuple[str, str]], targets: bool = True) -> None:
    """The tables, failures and notes as Markdown, and (targets) how many targets were met."""
    parts = ["#### Machine", "", *(f"- {k}: {v}" for k, v in info), ""]
    parts += [bench.render_markdown(t).replace("### ", "#### ", 1) for t in report.tables]
    if report.failures:
        parts += ["#### Failures", "", *(f"- {f}" for f in report.failures), ""]
    if report.notes:
        parts += ["#### Notes", "", *(f"- {f}" for f in report.notes), ""]
    if targets:
        met = sum(bench.target_met(t) for t in report.targets)
        parts.append(f"{met} targets met, {len(report.targets) - met} missed\n")
    Path(path).write_text("\n".join(parts))


def parse_args(args: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="airlock's Python benchmark; see the module docstring.")
    ap.add_argument("--build", type=Path, default=Path("build"), help="meson build directory (build)")
    ap.add_argument("-n", type=int, default=15, help="rounds per measurement (15; big inputs fewer)")
    ap.add_argument("--quick", action="store_true", help="a smoke check: 3 rounds (big inputs 1), fewer calls")
    ap.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown into FILE")
    ap.add_argument("--skip-library", action="store_true", help="leave out bench-sanitize's floors")
    ap.add_argument("--debian-python", default=DEBIAN_PYTHON, help=f"the Python of Debian's Pillow ({DEBIAN_PYTHON})")
    ap.add_argument("--pillow-worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(args)
    if a.quick:
        a.n = 3
    if a.n < 1:
        ap.error("-n must be at least 1")
    return a


def main() -> int:
    argv = parse_args()
    if argv.pillow_worker:
        return pillow_worker()
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = loadavg()
    report = bench.Report()
    b = Bench(argv, report)
    print(f"airlock Python benchmark: {b.n} rounds ({b.n_big} for the 12 MP JPEG and the audio), medians; "
          f"load average {load_start}", flush=True)
    try:
        inputs = make_inputs(report, b.build)
        b.open()
        sections = [b.images, b.audio, b.threads] + ([] if argv.skip_library else [b.library])
        for section in sections:
            try:
                section(inputs)
            except bench.BenchError as e:
                report.fail(str(e))
        b.floors()
    except bench.BenchError as e:
        report.fail(str(e))
    finally:
        b.close()
    bench.targets_section(report)
    if argv.markdown:
        write_markdown(argv.markdown, report, machine(b, started, load_start))
        print(f"bench: tables written to {argv.markdown}", file=sys.stderr, flush=True)
    for f in report.failures:
        print(f"bench: failure: {f}", file=sys.stderr)
    met = sum(bench.target_met(t) for t in report.targets)
    print(f"\n{met} targets met, {len(report.targets) - met} missed; load average {loadavg()}", flush=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
