#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The video benchmark (issue 18, video part). Run it as
`scripts/bench.sh --video`, which builds, makes a virtual environment that
sees the cached vLLM environment's packages and holds the checkout's airlock
and PyAV, and runs this file there; options pass through:

    scripts/bench.sh --video [-n N] [--quick] [--markdown FILE] [--ten-minutes]

The job, done four ways on the same bytes in one process: 32 frames, chosen
as vLLM 0.34 chooses them by default (np.linspace(0, total - 1, 32,
dtype=int) over the decoded frame count), of a 60-second 1280x720 30 fps
video, as RGB24 (T, H, W, 3) uint8 arrays. The inputs are made once into
BUILD/bench-inputs/ by Debian's ffmpeg from lavfi's testsrc2 (no downloads):
H.264 in MP4 (libx264 -threads 1, preset medium, CRF 23) and VP9 in WebM
(libvpx-vp9 -threads 1, good, cpu-used 4, CRF 32), both about 3 Mbit/s,
and one second of the same H.264 for the cold-start table.

  airlock   `np.asarray(Sanitizer().video(data))`: the media zygote's
            confined worker, which counts the packets, decodes every frame
            and converts the 32 chosen (one thread); "warm" uses one
            Sanitizer for the run, "cold" a fresh Sanitizer per call (its
            first request spawns the media zygote; Sanitizer() itself is
            timed apart).
  vLLM      vLLM's stock loader, `VideoMediaIO(ImageMediaIO(),
            num_frames=32).load_bytes(data).media` (OpenCV's FFmpeg backend
            on a BytesIO, VLLM_VIDEO_LOADER_BACKEND's default "opencv").
  PyAV      `av.open(BytesIO(data))`: the video packets counted (demux
            only), then reopened and every frame decoded, the 32 chosen
            kept as `frame.to_ndarray(format="rgb24")`; PyAV's defaults
            otherwise.
  ffmpeg    `ffmpeg -nostdin -v error -i FILE -vf select=eq(n\\,i)+...,
            format=rgb24 -fps_mode passthrough -f rawvideo -`, the same 32
            indices given (computed here from the counted frames: the CLI
            does no counting pass of its own), stdout read into memory.
  floors    `ffmpeg -threads 1 -i FILE -map 0:v:0 -f null -`: every frame
            decoded on one thread, none converted, the least a full decode
            costs; and the same with `-skip_frame noref` before -i (frames
            that no other frame refers to are not decoded): the most that
            decoding only the chosen ones of those could save. No frames,
            so no check.

Rounds are interleaved (in round r every column runs once, in turn) after
one untimed warm-up round, whose times are printed as "first call" and whose
outputs are checked: shape (32, 720, 1280, 3) uint8 everywhere, airlock's
indices and frame count and vLLM's frames_indices and total_num_frames
equal to the expected ones; the largest and mean pixel difference from
airlock's frames are printed (the converters differ: OpenCV's, PyAV's and
the CLI's swscale settings). N rounds (-n, default 5; --quick 2). Every
figure is a median.

CPU: for the in-process columns, this process's CPU time over the call
(time.process_time(): every thread); for the ffmpeg CLI, the child's own
rusage (os.wait4); for airlock, the worker's CPU, read as the growth of the
media zygote's cutime + cstime (/proc/PID/stat: the CPU of the children it
has reaped; only workers end there), plus this process's. The worker's CPU is
what AIRLOCK_VIDEO_CPU_MS (60000 by default) caps, as RLIMIT_CPU.

The last table divides the worker's CPU by the video's duration and
extrapolates linearly: whether 10 minutes of each codec fit under 60 s of
CPU (a target for H.264), and the longest video that does. --ten-minutes
also makes a 10-minute H.264 (the 60 s file ten times, `-f concat -c copy`)
and sends it to airlock through a fresh Sanitizer with the defaults, one
with max_input_bytes raised, and, if that one was cut off, one with the CPU
and wall caps raised too, so that the extrapolation is checked against a
real run.

--markdown FILE writes every table as GitHub Markdown after a block
describing the machine, the versions and the load average.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# bench.py and bench_python.py give the input making, the tables and the method; reached through Any.
bench: Any = importlib.import_module("bench")
bench_python: Any = importlib.import_module("bench_python")

NUM_FRAMES = 32  # vLLM's VideoMediaIO default
WIDTH, HEIGHT = 1280, 720
CPU_CAP_S = 60.0  # AIRLOCK_VIDEO_CPU_MS's default, in seconds
WALL_CAP_S = 90.0  # AIRLOCK_VIDEO_TIMEOUT_MS's default
TEN_MINUTES = 600.0

FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
H264 = ["-c:v", "libx264", "-threads", "1", "-preset", "medium", "-crf", "23"]
VP9 = ["-c:v", "libvpx-vp9", "-threads", "1", "-row-mt", "0", "-deadline", "good", "-cpu-used", "4",
       "-b:v", "0", "-crf", "32"]


def testsrc2(seconds: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=30:duration={seconds}",
            "-vf", "format=yuv420p"]


H264_60 = "video-60s-h264.mp4"
VP9_60 = "video-60s-vp9.webm"
CLIP = "video-1s-h264.mp4"
LONG = "video-600s-h264.mp4"
VIDEOS = {H264_60: "H.264 MP4", VP9_60: "VP9 WebM"}
RECIPES: list[tuple[str, Callable[[Path, str], list[str]]]] = [
    (H264_60, lambda d, out: [*FFMPEG, *testsrc2(60), *H264, *BITEXACT, out]),
    (VP9_60, lambda d, out: [*FFMPEG, *testsrc2(60), *VP9, *BITEXACT, out]),
    (CLIP, lambda d, out: [*FFMPEG, *testsrc2(1), *H264, *BITEXACT, out]),
]

# Floors: what the decode alone costs on one thread, and with the frames no other frame refers to skipped.
FLOOR = "decode only, 1 thread"
FLOOR_NOREF = "decode only, 1 thread, skip_frame noref"
CLK_TCK = os.sysconf("SC_CLK_TCK")
Array = Any  # numpy.ndarray, imported late


@dataclass
class Call:
    """One call's outcome: wall and CPU seconds (CPU: this process's or the child's, plus the worker's), the
    worker's CPU alone (airlock), the frames, the indices and the total frame count the tool reports."""

    wall: float
    cpu: float
    worker: Optional[float]
    frames: Array
    indices: list[int]
    total: int
    open_s: Optional[float] = None  # airlock, cold: Sanitizer() itself


@dataclass
class Probe:
    """An input as PyAV sees it (the reference for the checks)."""

    total: int
    width: int
    height: int
    duration: float
    bitrate: float
    codec: str
    indices: list[int]


# ---- the media zygote's reaped children: the workers' CPU ----

def media_zygotes() -> dict[int, float]:
    """This process's media zygotes (children whose argv[0] is airlock-zygote-media): pid -> the CPU seconds
    of the children each has reaped (cutime + cstime). A zygote's children are its spares and workers; a
    spare ends only as a worker, so the growth is the CPU of the workers that ended."""
    me = os.getpid()
    out: dict[int, float] = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            argv0 = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        f = stat[stat.rfind(")") + 2:].split()  # from field 3 (state): ppid is f[1], cutime f[13], cstime f[14]
        if int(f[1]) == me and os.path.basename(argv0) == b"airlock-zygote-media":
            out[int(p)] = (int(f[13]) + int(f[14])) / CLK_TCK
    return out


def worker_cpu(before: dict[int, float], wait_s: float = 3.0) -> Optional[float]:
    """The workers' CPU since before: waits (untimed) until the zygote has reaped the worker, which exits just
    after its answer. None if nothing was counted (a worker under one clock tick, or no zygote found)."""
    deadline = time.monotonic() + wait_s
    while True:
        grown = sum(v - before.get(pid, 0.0) for pid, v in media_zygotes().items())
        if grown > 0:
            return grown
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


# ---- the bench ----

class Bench:
    def __init__(self, argv: argparse.Namespace, report: Any) -> None:
        self.argv = argv
        self.report = report
        self.n: int = argv.n
        self.build: Path = argv.build.resolve()
        self.np: Any = importlib.import_module("numpy")
        self.versions: dict[str, str] = {}
        self.airlock: Any = None
        self.sanitizer: Any = None
        self.av: Any = None
        self.vllm_io: Any = None
        self.probes: dict[str, Probe] = {}
        self.medians: dict[str, dict[str, dict[str, Optional[float]]]] = {}  # input -> tool -> figure -> value

    # -- set-up --

    def open(self) -> None:
        self.airlock = importlib.import_module("airlock")
        self.versions["airlock"] = f"{self.airlock.__version__} ({Path(self.airlock.__file__).parent})"
        self.sanitizer = self.airlock.Sanitizer()
        self.versions["numpy"] = self.np.__version__
        try:
            self.av = importlib.import_module("av")
            self.versions["PyAV"] = (f"{self.av.__version__} ({Path(self.av.__file__).parent}), its FFmpeg "
                                     f"{getattr(self.av, 'ffmpeg_version_info', 'n/a')}")
        except ImportError as e:
            self.report.fail(f"PyAV: cannot import av ({e})")
        try:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vllm = importlib.import_module("vllm")
                image = importlib.import_module("vllm.multimodal.media.image")
                video = importlib.import_module("vllm.multimodal.media.video")
                envs = importlib.import_module("vllm.envs")
            cv2 = importlib.import_module("cv2")
            self.vllm_io = video.VideoMediaIO(image.ImageMediaIO(), num_frames=NUM_FRAMES)
            self.versions["vLLM"] = f"{vllm.__version__}, VLLM_VIDEO_LOADER_BACKEND {envs.VLLM_VIDEO_LOADER_BACKEND}"
            libs = dict(re.findall(r"^\s+(avcodec|avformat|swscale):\s+YES \(([\d.]+)\)", cv2.getBuildInformation(),
                                   re.M))
            self.versions["OpenCV"] = (f"{cv2.__version__}, its FFmpeg: libavcodec {libs.get('avcodec', 'n/a')}, "
                                       f"libswscale {libs.get('swscale', 'n/a')}; cv2.getNumThreads() "
                                       f"{cv2.getNumThreads()}")
        except ImportError as e:
            self.report.fail(f"vLLM's OpenCV loader: cannot import it ({e})")
        self.versions["ffmpeg CLI"] = bench.first_line(["ffmpeg", "-version"])

    def close(self) -> None:
        if self.sanitizer is not None:
            self.sanitizer.close()

    def probe(self, path: Path) -> Probe:
        """The frame count (video packets, demux only), size and duration, by PyAV."""
        np, av = self.np, self.av
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            codec, w, h = s.codec_context.name, s.codec_context.width, s.codec_context.height
            total = sum(1 for p in c.demux(s) if p.size)
            duration = float(c.duration) / 1e6 if c.duration else total / float(s.average_rate)
        idx = np.linspace(0, total - 1, NUM_FRAMES, dtype=int).tolist()
        return Probe(total, w, h, duration, path.stat().st_size * 8 / duration, codec, idx)

    def make_inputs(self, ten_minutes: bool) -> dict[str, Path]:
        outdir = self.build / "bench-inputs"
        outdir.mkdir(parents=True, exist_ok=True)
        have: dict[str, Path] = {}
        with tempfile.TemporaryDirectory(dir=outdir, prefix=".new-") as tmp:
            for name, recipe in RECIPES:
                if not (outdir / name).exists():
                    print(f"bench: making {outdir / name} (the VP9: minutes)", file=sys.stderr, flush=True)
                    try:
                        bench.make_recipe(recipe, outdir, str(Path(tmp) / name), name)
                    except bench.BenchError as e:
                        self.report.fail(str(e))
                        continue
                    (Path(tmp) / name).rename(outdir / name)
                have[name] = outdir / name
            if ten_minutes and H264_60 in have and not (outdir / LONG).exists():
                print(f"bench: making {outdir / LONG}", file=sys.stderr, flush=True)
                listing = Path(tmp) / "list.txt"
                listing.write_text(f"file '{have[H264_60]}'\n" * 10)
                try:
                    bench.run([*FFMPEG, "-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", *BITEXACT,
                               Path(tmp) / LONG], f"making {LONG}")
                    (Path(tmp) / LONG).rename(outdir / LONG)
                except bench.BenchError as e:
                    self.report.fail(str(e))
            if (outdir / LONG).exists():
                have[LONG] = outdir / LONG
        return have

    # -- the four ways --

    def airlock_call(self, s: Any, data: bytes) -> Call:
        np = self.np
        before = media_zygotes()
        c0, t0 = time.process_time(), time.perf_counter()
        v = s.video(data)
        a = np.asarray(v)
        t, c = time.perf_counter() - t0, time.process_time() - c0
        w = worker_cpu(before)
        return Call(t, c + (w or 0.0), w, a, list(v.indices), v.frames_seen)

    def airlock_cold(self, data: bytes) -> Call:
        t0 = time.perf_counter()
        s = self.airlock.Sanitizer()
        opened = time.perf_counter() - t0
        try:
            call = self.airlock_call(s, data)
        finally:
            s.close()
        call.open_s = opened
        return call

    def vllm_call(self, data: bytes) -> Call:
        c0, t0 = time.process_time(), time.perf_counter()
        frames, meta = self.vllm_io.load_bytes(data).media
        t, c = time.perf_counter() - t0, time.process_time() - c0
        return Call(t, c, None, frames, list(meta["frames_indices"]), int(meta["total_num_frames"]))

    def pyav_call(self, data: bytes) -> Call:
        np, av = self.np, self.av
        c0, t0 = time.process_time(), time.perf_counter()
        with av.open(BytesIO(data)) as c:
            total = sum(1 for p in c.demux(c.streams.video[0]) if p.size)
        idx = np.linspace(0, total - 1, NUM_FRAMES, dtype=int).tolist()
        want = set(idx)
        out: Any = None
        k = 0
        with av.open(BytesIO(data)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                if i in want:
                    rgb = frame.to_ndarray(format="rgb24")
                    if out is None:
                        out = np.empty((len(want), *rgb.shape), dtype=np.uint8)
                    out[k] = rgb
                    k += 1
        t, cpu = time.perf_counter() - t0, time.process_time() - c0
        if out is None or k != len(want):
            raise bench.BenchError(f"PyAV: {k} of the {len(want)} chosen frames decoded")
        return Call(t, cpu, None, out, sorted(want), total)

    def child(self, cmd: list[str]) -> tuple[float, float, bytes]:
        """Runs cmd: wall seconds, the child's own CPU seconds (its rusage, by os.wait4) and its stdout."""
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.stdout is not None and p.stderr is not None
        out = p.stdout.read()
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        t = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        p.stdout.close()
        p.stderr.close()
        if p.returncode != 0:
            raise bench.BenchError(f"ffmpeg exited {p.returncode}: {bench.tail(err.decode(errors='replace'))}")
        return t, ru.ru_utime + ru.ru_stime, out

    def ffmpeg_call(self, path: Path, probe: Probe) -> Call:
        np = self.np
        expr = "+".join(f"eq(n\\,{i})" for i in probe.indices)
        t, cpu, raw = self.child(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-vf",
                                  f"select={expr},format=rgb24", "-fps_mode", "passthrough", "-f", "rawvideo", "-"])
        frame = probe.width * probe.height * 3
        if len(raw) % frame:
            raise bench.BenchError(f"ffmpeg wrote {len(raw)} bytes, not a whole number of frames")
        a = np.frombuffer(raw, dtype=np.uint8).reshape(len(raw) // frame, probe.height, probe.width, 3)
        return Call(t, cpu, None, a, probe.indices if len(a) == NUM_FRAMES else [], probe.total)

    def floor_call(self, path: Path, skip: list[str]) -> Call:
        """The decode alone: every frame, one thread, nothing converted or written (-f null)."""
        t, cpu, _ = self.child(["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", *skip, "-i", str(path),
                                "-map", "0:v:0", "-f", "null", "-"])
        return Call(t, cpu, None, None, [], 0)

    # -- the main table --

    def tools(self, path: Path, data: bytes, probe: Probe) -> dict[str, Callable[[], Call]]:
        t: dict[str, Callable[[], Call]] = {
            "airlock": lambda: self.airlock_call(self.sanitizer, data),
            "airlock, cold": lambda: self.airlock_cold(data),
        }
        if self.vllm_io is not None:
            t["vLLM OpenCV"] = lambda: self.vllm_call(data)
        if self.av is not None:
            t["PyAV"] = lambda: self.pyav_call(data)
        t["ffmpeg CLI"] = lambda: self.ffmpeg_call(path, probe)
        t[FLOOR] = lambda: self.floor_call(path, [])
        t[FLOOR_NOREF] = lambda: self.floor_call(path, ["-skip_frame", "noref"])
        return t

    def check(self, name: str, probe: Probe, first: dict[str, Call]) -> dict[str, str]:
        """The warm-up outputs: the same job done. Returns each tool's difference from airlock's pixels."""
        np = self.np
        shape = (NUM_FRAMES, probe.height, probe.width, 3)
        for tool, call in first.items():
            a = call.frames
            if a is None:
                continue
            if a.shape != shape or a.dtype != np.uint8:
                self.report.fail(f"{name}, {tool}: frames {a.dtype} {a.shape}, not uint8 {shape}")
            if call.indices != probe.indices:
                self.report.fail(f"{name}, {tool}: indices {call.indices}, not {probe.indices}")
            if call.total != probe.total:
                self.report.fail(f"{name}, {tool}: {call.total} frames counted, not {probe.total}")
        ref = first.get("airlock")
        diffs: dict[str, str] = {}
        if ref is None or ref.frames.shape != shape:
            return diffs
        for tool, call in first.items():
            if call.frames is None:
                continue
            if call.frames.shape != shape:
                diffs[tool] = "n/a"
                continue
            big, total = 0, 0
            for i in range(NUM_FRAMES):
                d = np.abs(call.frames[i].astype(np.int16) - ref.frames[i].astype(np.int16))
                big = max(big, int(d.max()))
                total += int(d.sum(dtype=np.int64))
            diffs[tool] = "equal" if big == 0 else f"max {big}, mean {total / ref.frames.size:.3f}"
        return diffs

    def video(self, name: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
        probe = self.probes[name] = self.probe(path)
        data = path.read_bytes()
        tools = self.tools(path, data, probe)
        walls: dict[str, list[float]] = {k: [] for k in tools}
        cpus: dict[str, list[float]] = {k: [] for k in tools}
        workers: dict[str, list[float]] = {k: [] for k in tools}
        opens: list[float] = []
        first: dict[str, Call] = {}
        diffs: dict[str, str] = {}
        for r in range(self.n + 1):
            for tool, fn in tools.items():
                if tool not in walls:
                    continue
                try:
                    call = fn()
                except Exception as e:  # any library's error is that column's failure
                    self.report.fail(f"{name}, {tool}: {type(e).__name__}: {e}")
                    del walls[tool]
                    continue
                print(f"  {name} round {r} {tool}: {call.wall * 1000:.0f} ms, CPU {call.cpu * 1000:.0f} ms",
                      file=sys.stderr, flush=True)
                if r == 0:
                    first[tool] = call
                    continue
                walls[tool].append(call.wall)
                cpus[tool].append(call.cpu)
                if call.worker is not None:
                    workers[tool].append(call.worker)
                if call.open_s is not None:
                    opens.append(call.open_s)
            if r == 0:
                diffs = self.check(name, probe, first)
                first = {k: Call(c.wall, c.cpu, c.worker, None, [], 0, c.open_s) for k, c in first.items()}
        med: dict[str, dict[str, Optional[float]]] = {}
        for tool in walls:
            med[tool] = {"wall": statistics.median(walls[tool]) if walls[tool] else None,
                         "cpu": statistics.median(cpus[tool]) if cpus[tool] else None,
                         "worker": statistics.median(workers[tool]) if workers[tool] else None,
                         "first": first[tool].wall if tool in first else None,
                         "open": statistics.median(opens) if tool == "airlock, cold" and opens else None}
        self.medians[name] = med
        base = med.get("airlock", {})
        rows: list[tuple[str, dict[str, Any]]] = []
        for tool, m in med.items():
            row: dict[str, Any] = {"wall ms": ms(m["wall"]), "CPU ms": ms(m["cpu"]), "worker CPU ms": ms(m["worker"]),
                                   "first call ms": ms(m["first"]),
                                   "pixels against airlock": diffs.get(tool, "no frames")}
            for fig, col in (("wall", "wall / airlock"), ("cpu", "CPU / airlock")):
                num, den = m[fig], base.get(fig)
                if num is not None and den:
                    row[col] = num / den
            rows.append((f"{VIDEOS[name]}: {tool}", row))
        return rows

    def main_table(self, inputs: dict[str, Path]) -> None:
        rows: list[tuple[str, dict[str, Any]]] = []
        for name in VIDEOS:
            if name in inputs:
                try:
                    rows += self.video(name, inputs[name])
                except bench.BenchError as e:
                    self.report.fail(f"{name}: {e}")
        notes = [f"{VIDEOS[n]}: {n}, {p.codec} {p.width}x{p.height}, {p.total} frames, {p.duration:.2f} s, "
                 f"{p.bitrate / 1e6:.2f} Mbit/s; indices {p.indices[:3]} ... {p.indices[-2:]}"
                 for n, p in self.probes.items()]
        self.report.table(f"Video: {NUM_FRAMES} frames of 60 s of 720p as RGB24 arrays, one call at a time "
                          f"(median of {self.n} rounds)", "input: way",
                          ["wall ms", "wall / airlock", "CPU ms", "CPU / airlock", "worker CPU ms", "first call ms",
                           "pixels against airlock"], rows,
                          [*notes,
                           "airlock: np.asarray(Sanitizer().video(data)), one Sanitizer for the run; cold: a fresh "
                           "Sanitizer() per call, whose request spawns the media zygote (Sanitizer() not timed: see "
                           "the next table)",
                           "vLLM OpenCV: VideoMediaIO(ImageMediaIO(), num_frames=32).load_bytes(data).media; PyAV: "
                           "packets counted, then every frame decoded, the chosen ones to_ndarray('rgb24'); ffmpeg "
                           "CLI: -vf select=...,format=rgb24 -fps_mode passthrough -f rawvideo - into memory",
                           f"{FLOOR}: ffmpeg -threads 1 -i FILE -map 0:v:0 -f null - (every frame decoded, none "
                           f"converted): the floor of a full decode; {FLOOR_NOREF}: the same with -skip_frame "
                           "noref before -i (frames no other frame refers to are not decoded): what skipping "
                           "the unchosen ones could save at most",
                           "CPU: in-process, time.process_time() (all threads); ffmpeg, its rusage; airlock, this "
                           "process's plus the worker's (the media zygote's cutime + cstime, 10 ms ticks)",
                           "first call: the untimed warm-up round's wall time (for airlock: the run's first request, "
                           "so the media zygote's spawn for the first input)",
                           "ratios: that way's median over airlock's (warm); above 1, airlock is faster"])

    # -- cold start --

    def cold_table(self, inputs: dict[str, Path]) -> None:
        """A second's video: fresh Sanitizers, their first request against the next three; the 60 s inputs'
        cold and warm columns from the main table."""
        rows: list[tuple[str, dict[str, Any]]] = []
        if CLIP in inputs:
            data = inputs[CLIP].read_bytes()
            opens, firsts, nexts, wf, wn = [], [], [], [], []
            for _ in range(max(3 * self.n, 5)):
                t0 = time.perf_counter()
                s = self.airlock.Sanitizer()
                opens.append(time.perf_counter() - t0)
                try:
                    c = self.airlock_call(s, data)
                    firsts.append(c.wall)
                    if c.worker is not None:
                        wf.append(c.worker)
                    later = [self.airlock_call(s, data) for _ in range(3)]
                    nexts.append(statistics.median(x.wall for x in later))
                    wn += [x.worker for x in later if x.worker is not None]
                except Exception as e:  # the table says what it has
                    self.report.fail(f"cold {CLIP}: {type(e).__name__}: {e}")
                    break
                finally:
                    s.close()
            if firsts:
                rows.append((f"{CLIP} (30 frames), fresh Sanitizers", cold_row(opens, firsts, nexts, wf, wn)))
        for name in VIDEOS:
            m = self.medians.get(name, {})
            cold, warm = m.get("airlock, cold"), m.get("airlock")
            if cold and warm and cold["wall"] is not None and warm["wall"] is not None:
                rows.append((f"{name}, the main table's rounds", {
                    "Sanitizer() ms": ms(cold["open"]), "first request ms": ms(cold["wall"]),
                    "next request ms": ms(warm["wall"]), "first - next ms": ms(cold["wall"] - warm["wall"]),
                    "first worker CPU ms": ms(cold["worker"]), "next worker CPU ms": ms(warm["worker"])}))
        self.report.table("The first request of a fresh Sanitizer (media zygote cold) against later ones", "input",
                          ["Sanitizer() ms", "first request ms", "next request ms", "first - next ms",
                           "first worker CPU ms", "next worker CPU ms"], rows,
                          [f"{CLIP}: {max(3 * self.n, 5)} fresh Sanitizers, each closed after its first request and "
                           "three more (next: the median of those three); medians over the Sanitizers",
                           "60 s inputs: the cold and warm airlock rows of the table above (interleaved rounds)",
                           "Sanitizer(): the context's open (it spawns the base zygote; the media zygote starts on "
                           "the first media request)"])

    # -- CPU per second of video --

    def cpu_table(self, inputs: dict[str, Path]) -> None:
        rows: list[tuple[str, dict[str, Any]]] = []
        for name in VIDEOS:
            m, p = self.medians.get(name, {}), self.probes.get(name)
            warm = m.get("airlock")
            if p is None or warm is None or warm["worker"] is None or warm["wall"] is None:
                continue
            per_s = warm["worker"] / p.duration
            ten = per_s * TEN_MINUTES
            row: dict[str, Any] = {
                "worker CPU ms per s of video": per_s * 1000, "10 min: worker CPU s": ten, "fits 60 s": ten < CPU_CAP_S,
                "longest under 60 s CPU, min": CPU_CAP_S / per_s / 60,
                "wall ms per s of video": warm["wall"] / p.duration * 1000,
                "longest under 90 s wall, min": WALL_CAP_S / (warm["wall"] / p.duration) / 60}
            for tool, col in (("PyAV", "PyAV CPU ms per s"), ("vLLM OpenCV", "vLLM CPU ms per s"),
                              ("ffmpeg CLI", "ffmpeg CPU ms per s"), (FLOOR, "decode floor CPU ms per s"),
                              (FLOOR_NOREF, "floor, skip noref, CPU ms per s")):
                cpu = m.get(tool, {}).get("cpu")
                if cpu is not None:
                    row[col] = cpu / p.duration * 1000
            rows.append((f"{VIDEOS[name]} ({p.duration:.0f} s measured)", row))
            if name == H264_60:
                self.report.target("10 min of 720p H.264: airlock's worker CPU, extrapolated from 60 s", ten, "<",
                                   CPU_CAP_S, "s")
        self.report.table("CPU per second of video, and AIRLOCK_VIDEO_CPU_MS (60000) and AIRLOCK_VIDEO_TIMEOUT_MS "
                          "(90000)", "codec",
                          ["worker CPU ms per s of video", "10 min: worker CPU s", "fits 60 s",
                           "longest under 60 s CPU, min", "wall ms per s of video", "longest under 90 s wall, min",
                           "PyAV CPU ms per s", "vLLM CPU ms per s", "ffmpeg CPU ms per s", "decode floor CPU ms per s",
                           "floor, skip noref, CPU ms per s"], rows,
                          ["extrapolated linearly from the 60 s input's median worker CPU (and wall): "
                           "CPU(d) = d x CPU(60 s) / 60 s; the worker's fixed cost (spare warm-up, a 1 s clip's "
                           "worth) is inside the 60 s figure",
                           "the cap is RLIMIT_CPU on the worker, whole seconds: ceil(60000 / 1000) = 60 s",
                           "the other ways' CPU per second: their own threads, which the worker does not have"])

    def ten_minutes(self, inputs: dict[str, Path]) -> None:
        """The 10-minute H.264 sent to airlock, each time through a fresh Sanitizer (per-request options can
        only tighten a context's limits): the defaults; max_input_bytes raised; and, if that one was cut off,
        the CPU and wall caps raised too, to see what it takes."""
        if LONG not in inputs:
            return
        path = inputs[LONG]
        data = path.read_bytes()
        big = 1 << 30
        tries: list[tuple[str, dict[str, int]]] = [("defaults", {}),
                                                   ("max_input_bytes 1 GiB", {"max_input_bytes": big})]
        rows: list[tuple[str, dict[str, Any]]] = []
        k = 0
        while k < len(tries):
            label, opts = tries[k]
            k += 1
            s = self.airlock.Sanitizer(**opts)
            try:
                before = media_zygotes()
                t0 = time.perf_counter()
                try:
                    v = s.video(data)
                    outcome = f"ok: {v.frames} of {v.frames_seen} frames, {v.duration_us / 1e6:.2f} s"
                    del v
                except self.airlock.AirlockError as e:
                    outcome = f"{type(e).__name__}: {e}"
                    if k == 2 and type(e).__name__ in ("CpuLimit", "Timeout"):
                        tries.append(("max_input_bytes 1 GiB, video_cpu_ms 600000, video_timeout_ms 900000",
                                      {"max_input_bytes": big, "video_cpu_ms": 600000, "video_timeout_ms": 900000}))
                t = time.perf_counter() - t0
                w = worker_cpu(before, wait_s=1.0)  # before close(): the zygote goes with its context
            finally:
                s.close()
            print(f"  {LONG} {label}: {outcome}, {t:.1f} s, worker CPU {w}", file=sys.stderr, flush=True)
            rows.append((label, {"outcome": outcome, "wall s": t, "worker CPU s": w if w is not None else "n/a"}))
        self.report.table(f"{LONG}: ten times the 60 s H.264 ({path.stat().st_size / 2**20:.0f} MiB, "
                          "-f concat -c copy), one request each", "Sanitizer options",
                          ["outcome", "wall s", "worker CPU s"], rows,
                          ["each through a fresh Sanitizer(**options) (a request's options can only tighten the "
                           "context's), so each includes the media zygote's start",
                           "worker CPU: the media zygote's cutime + cstime growth (n/a: nothing reaped, e.g. the "
                           "input refused before a worker ran)"])


def ms(v: Optional[float]) -> Optional[float]:
    return None if v is None else v * 1000


def cold_row(opens: list[float], firsts: list[float], nexts: list[float], wf: list[float],
             wn: list[float]) -> dict[str, Any]:
    f, n = statistics.median(firsts), statistics.median(nexts)
    return {"Sanitizer() ms": statistics.median(opens) * 1000, "first request ms": f * 1000,
            "next request ms": n * 1000, "first - next ms": (f - n) * 1000,
            "first worker CPU ms": statistics.median(wf) * 1000 if wf else None,
            "next worker CPU ms": statistics.median(wn) * 1000 if wn else None}


def machine(b: Bench, started: str, load_start: str) -> list[tuple[str, str]]:
    info: list[tuple[str, str]] = bench_python.machine_info(b.build, b.versions, "tests/bench/bench_video.py",
                                                            started, load_start)
    libav = subprocess.run(["pkg-config", "--modversion", "libavformat", "libavcodec", "libswscale"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False).stdout.split()
    at = next((i for i, (k, _) in enumerate(info) if k == "Python"), len(info))
    info.insert(at, ("libavformat / libavcodec / libswscale (Debian, linked by airlock)", " / ".join(libav) or "n/a"))
    info.insert(at + 1, ("nice", str(os.nice(0))))
    return info


def parse_args(args: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="airlock's video benchmark; see the module docstring.")
    ap.add_argument("--build", type=Path, default=Path("build"), help="meson build directory (build)")
    ap.add_argument("-n", type=int, default=5, help="rounds (5)")
    ap.add_argument("--quick", action="store_true", help="2 rounds")
    ap.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown into FILE")
    ap.add_argument("--ten-minutes", action="store_true", help="also a real 10-minute H.264 through airlock")
    a = ap.parse_args(args)
    if a.quick:
        a.n = 2
    if a.n < 1:
        ap.error("-n must be at least 1")
    return a


def main() -> int:
    argv = parse_args()
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = bench_python.loadavg()
    report = bench.Report()
    b = Bench(argv, report)
    print(f"airlock video benchmark: {b.n} rounds, medians; load average {load_start}", flush=True)
    try:
        b.open()
        inputs = b.make_inputs(argv.ten_minutes)
        sections = [b.main_table, b.cold_table, b.cpu_table] + ([b.ten_minutes] if argv.ten_minutes else [])
        for section in sections:
            try:
                section(inputs)
            except bench.BenchError as e:
                report.fail(str(e))
    except bench.BenchError as e:
        report.fail(str(e))
    finally:
        b.close()
    bench.targets_section(report)
    if argv.markdown:
        bench_python.write_markdown(argv.markdown, report, machine(b, started, load_start))
        print(f"bench: tables written to {argv.markdown}", file=sys.stderr, flush=True)
    for f in report.failures:
        print(f"bench: failure: {f}", file=sys.stderr)
    met = sum(bench.target_met(t) for t in report.targets)
    print(f"\n{met} targets met, {len(report.targets) - met} missed; load average {bench_python.loadavg()}",
          flush=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
