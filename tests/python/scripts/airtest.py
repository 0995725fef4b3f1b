# SPDX-License-Identifier: MIT
"""What the Python tests and their child programs share: the repository's paths, the manifests
(corpus/images*.tsv, corpus/audio.tsv, corpus/hostile.tsv) read as the C tests read them,
FNV-1a 64 as tests/manifest.h computes it, and the process tree read from /proc (tests/proc.h).

Test files put this directory on sys.path and import it; the scripts next to it do the same
implicitly (a script's own directory is sys.path[0]).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "corpus"
SHARED = Path(os.environ.get("AIRLOCK_SHARED_CORPUS", str(ROOT.parent / "shared" / "corpus-public")))
SCRIPTS = Path(__file__).resolve().parent

IMAGE_TYPES = ("png", "jpeg", "webp", "gif", "bmp", "tiff")
AUDIO_TYPES = ("wav", "flac", "vorbis", "opus", "mp3", "aiff")
MEDIA_TYPES = ("mp4", "matroska")

# The payloads corpus/gen_hostile.py injects (its MARKER and the rest of tests/test_hostile.c's
# list): none may reach an output, an exception message, an event or a log line.
MARKERS: tuple[bytes, ...] = (
    b"IGNORE ALL PREVIOUS INSTRUCTIONS",
    b"SNOITCURTSNI SUOIVERP",
    b"PK\x03\x04",
    b"<html",
    b"<script",
    b"<svg",
    b"%PDF-",
    b"Exif\0\0",
    b"AIRLOCK-EXIF-PAYLOAD",
    b"ICC_PROFILE",
    b"AIRLOCK-ICC-PAYLOAD",
    "\u202e".encode(),
    b"<?xpacket",
    b"8BIM",
    b"DESCRIPTION=",
    b"APETAGEX",
    b"ID3\x04",
)

# decoders/common.c limits_default(): a manifest value above one of these loosens the
# context's ceiling, which a per-call keyword cannot do (it can only tighten).
DEFAULT_CEILINGS: dict[str, int] = {
    "max_input_bytes": 64 << 20,
    "max_width": 65535,
    "max_height": 65535,
    "max_pixels": 178956970,
    "memory_bytes": 2048 << 20,
    "max_jpeg_scans": 100,
    "max_audio_input_bytes": 25 << 20,
    "max_seconds": 600,
    "max_decoded_bytes": 256 << 20,
    "max_rate": 192000,
    "max_channels": 8,
    "cpu_ms": 10000,
    "timeout_ms": 15000,
    "max_jpeg_coeffs": 400000000,
    "max_png_inflated_bytes": 768 << 20,
    "max_icc_bytes": 4 << 20,
    "video_max_sampled_frames": 768,
    "video_max_decoded_frames": 108000,
    "video_max_decoded_pixels": 1 << 36,
    "video_max_output_bytes": 1 << 30,
    "video_cpu_ms": 120000,
    "video_timeout_ms": 180000,
}
DEFAULT_FLOORS: dict[str, int] = {"min_rate": 8000}

# airlock_set() keeps memory_bytes at 64 MiB or more: it is also the worker's RLIMIT_AS.
SANDBOX_MIN_MEMORY = 64 << 20


# ---------------------------------------------------------------------------------------------
# FNV-1a 64 (tests/manifest.h fnv1a64)

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a64_py(data: bytes | memoryview) -> int:
    """The reference, a byte at a time; slow (about 10 MB/s)."""
    mv = memoryview(data)
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    h = FNV_OFFSET
    for b in mv:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


_FNV_SOURCE = b"""
#include <stddef.h>
#include <stdint.h>
uint64_t airtest_fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
"""
_fnv_c: Callable[[int, int], int] | None = None
_fnv_tried = False


def _load_fnv_c() -> Callable[[int, int], int] | None:
    """The same loop compiled (the manifests hash up to 100 MB per row); None without a compiler."""
    global _fnv_c, _fnv_tried
    if _fnv_tried:
        return _fnv_c
    _fnv_tried = True
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    tag = hashlib.sha256(_FNV_SOURCE).hexdigest()[:16]
    so = Path(tempfile.gettempdir()) / f"airtest-fnv-{os.getuid()}-{tag}.so"
    if not so.exists():
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "fnv.c"
            src.write_bytes(_FNV_SOURCE)
            out = so.with_name(f"{so.name}.{os.getpid()}")
            if (
                subprocess.run(
                    [cc, "-O2", "-shared", "-fPIC", "-o", str(out), str(src)], capture_output=True, check=False
                ).returncode
                != 0
            ):
                return None
            os.replace(out, so)  # whole, even if another process races us
    lib = ctypes.CDLL(str(so))
    fn = lib.airtest_fnv1a64
    fn.restype = ctypes.c_uint64
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    probe = bytes(range(256)) * 17
    if fn(ctypes.cast(ctypes.c_char_p(probe), ctypes.c_void_p), len(probe)) != fnv1a64_py(probe):
        return None
    _fnv_c = fn
    return fn


def fnv1a64(buf: Any) -> int:
    """FNV-1a 64 of a C-contiguous buffer (any exporter: memoryview(result), bytes, numpy)."""
    import numpy as np

    mv = memoryview(buf)
    if not mv.c_contiguous:
        raise ValueError("fnv1a64 wants a contiguous buffer")
    fn = _load_fnv_c()
    if fn is None or mv.nbytes < 4096:
        return fnv1a64_py(mv)
    # numpy gives the address of a read-only buffer, which ctypes.from_buffer refuses.
    arr = np.frombuffer(mv, dtype=np.uint8)
    return int(fn(arr.ctypes.data, arr.nbytes))


# ---------------------------------------------------------------------------------------------
# Manifests


def resolve(path: str, large: Path | None = None) -> Path | None:
    """A manifest path as a file: shared: under the public corpus, large: under the large dir."""
    if path.startswith("shared:"):
        p = SHARED / path[len("shared:") :]
    elif path.startswith("large:"):
        if large is None:
            return None
        p = large / path[len("large:") :]
    else:
        p = ROOT / path
    return p if p.is_file() else None


def _rows(manifest: Path, columns: int) -> Iterator[list[str]]:
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < columns:
                raise ValueError(f"{manifest.name}: a line of {len(cols)} columns: {line!r}")
            yield cols


def changes_set(s: str) -> frozenset[str] | None:
    """A manifest changes column: "-" none, "?" any (None), else a comma list."""
    if s == "?":
        return None
    if s == "-":
        return frozenset()
    return frozenset(s.split(","))


@dataclass(frozen=True)
class ImageRow:
    manifest: str
    path: str
    opts: str
    outcome: str
    type: str
    width: int
    height: int
    channels: int
    fnv: str
    changes: str

    @property
    def id(self) -> str:
        opts = "" if self.opts == "-" else f"[{self.opts}]"
        return f"{self.manifest}:{self.path.rsplit('/', 1)[-1]}{opts}"

    def kwargs(self) -> dict[str, Any]:
        """tests/test_images.c row_opts(): alpha keeps alpha, noicc ignores profiles; TIFF allowed."""
        kw: dict[str, Any] = {"allowed_types": IMAGE_TYPES}
        for tok in self.opts.split(","):
            if tok == "alpha":
                kw["keep_alpha"] = True
            elif tok == "noicc":
                kw["icc"] = False
            elif tok != "-":
                raise ValueError(f"{self.id}: unknown option {tok}")
        return kw


def image_rows() -> list[ImageRow]:
    manifests = [CORPUS / "images.tsv", *sorted(CORPUS.glob("images-*.tsv"))]
    rows = []
    for m in manifests:
        for c in _rows(m, 9):
            num = [int(x) if x.isdigit() else 0 for x in c[4:7]]
            rows.append(ImageRow(m.stem, c[0], c[1], c[2], c[3], num[0], num[1], num[2], c[7], c[8]))
    return rows


@dataclass(frozen=True)
class AudioRow:
    path: str
    opts: str
    outcome: str  # the error name, without /limit
    limit: str | None
    type: str
    rate: str
    channels: str
    frames: str
    changes: str

    @property
    def id(self) -> str:
        opts = "" if self.opts == "-" else f"[{self.opts}]"
        return f"audio:{self.path.rsplit('/', 1)[-1]}{opts}"

    def options(self) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        """(constructor keywords, per-call keywords, a reason to skip or None): parse_opts() of
        tests/test_audio_decode.c. Extra codecs need both the context and the call to allow them."""
        ctor: dict[str, Any] = {}
        call: dict[str, Any] = {}
        for tok in self.opts.split(","):
            key, _, val = tok.partition("=")
            if tok == "-":
                continue
            if key == "mono":
                call["mono"] = True
            elif key == "s16":
                call["dtype"] = "int16"
            elif key == "f32":
                call["dtype"] = "float32"
            elif key == "adpcm":
                ctor["allow_extra_codecs"] = True
                call["allow_extra_codecs"] = True
            elif key == "out_rate":
                call["rate"] = int(val)
            elif key in ("max_seconds", "max_decoded_bytes", "memory_bytes", "min_rate", "max_rate", "max_channels"):
                call[key] = int(val)
            else:
                raise ValueError(f"{self.id}: unknown option {tok}")
        skip = None
        if call.get("memory_bytes", SANDBOX_MIN_MEMORY) < SANDBOX_MIN_MEMORY:
            skip = "memory_bytes is also the worker's RLIMIT_AS, kept at 64 MiB or more (as test_audio_decode.c)"
        return ctor, call, skip


def audio_rows() -> list[AudioRow]:
    rows = []
    for c in _rows(CORPUS / "audio.tsv", 8):
        outcome, _, limit = c[2].partition("/")
        rows.append(AudioRow(c[0], c[1], outcome, limit or None, c[3], c[4], c[5], c[6], c[7]))
    return rows


@dataclass(frozen=True)
class HostileRow:
    path: str
    cls: str
    opts: str
    outcome: str
    limit: str
    type: str
    changes: str
    shape: str
    cve: str
    desc: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1].rsplit(":", 1)[-1]

    @property
    def id(self) -> str:
        opts = "" if self.opts == "-" else f"[{self.opts}]"
        return f"{self.cls}:{self.name}{opts}"

    def want_type_mime(self) -> tuple[str | None, str | None]:
        """The report's (type, mime) a refusal must give: "mime:X" (no type), "TYPE+mime:X", "TYPE", "-"."""
        if self.type.startswith("mime:"):
            return None, self.type[5:]
        t, plus, mime = self.type.partition("+mime:")
        return (None if t == "-" else t), (mime if plus else None)

    def options(self) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        """(constructor keywords, per-call keywords, expect): tests/test_hostile.c apply_opts().

        Every value goes with the call; a value that loosens a default ceiling (or lets in TIFF or
        extra codecs) goes to the constructor as well, since a call can only tighten."""
        ctor: dict[str, Any] = {}
        call: dict[str, Any] = {}
        expect = None
        for tok in self.opts.split(","):
            if tok == "-":
                continue
            key, eq, val = tok.partition("=")
            if key == "expect":
                expect = val
            elif key == "allow":
                types = IMAGE_TYPES if val == "image" else AUDIO_TYPES if val == "audio" else (val,)
                call["allowed_types"] = types
                if any(t not in IMAGE_TYPES[:-1] + AUDIO_TYPES + MEDIA_TYPES for t in types):
                    ctor["allowed_types"] = IMAGE_TYPES + AUDIO_TYPES + MEDIA_TYPES  # the default and TIFF
            elif key == "sample_format":
                call["dtype"] = "int16" if val == "s16" else "float32"
            elif key == "out_rate":
                call["rate"] = int(val)
            elif key == "track":
                call["track"] = ("any", "audio", "video")[int(val)]
            elif key == "video_sampling":
                call["video_sampling"] = ("vllm", "qwen3", "qwen_vl_utils")[int(val) - 1]
            elif key == "video_fps_milli":
                call["video_fps"] = int(val) / 1000
            elif key == "video_num_frames":
                call[key] = -1 if int(val) == (1 << 64) - 1 else int(val)
            elif key in ("video_min_frames", "video_max_frames", "video_max_frame_pixels"):
                call[key] = int(val)
            elif key in ("keep_alpha", "mono", "allow_extra_codecs", "icc", "strict_sandbox"):
                call[key] = bool(int(val)) if eq else True
                if key == "allow_extra_codecs" and call[key]:
                    ctor[key] = True
            elif key in DEFAULT_CEILINGS or key in DEFAULT_FLOORS:
                call[key] = int(val)
                if key in DEFAULT_CEILINGS and int(val) > DEFAULT_CEILINGS[key]:
                    ctor[key] = int(val)
            else:
                raise ValueError(f"{self.id}: unknown option {tok}")
        return ctor, call, expect


def hostile_rows() -> list[HostileRow]:
    return [HostileRow(*c[:10]) for c in _rows(CORPUS / "hostile.tsv", 10)]


def hostile_large_dir() -> Path:
    """The large: files, written by corpus/gen_hostile.py --large (a few seconds, standard library
    only) once per version of the generators, or AIRLOCK_HOSTILE_LARGE (meson's hostile-large)."""
    env = os.environ.get("AIRLOCK_HOSTILE_LARGE")
    if env:
        return Path(env)
    digest = hashlib.sha256()
    for p in sorted(CORPUS.glob("*.py")):
        digest.update(p.name.encode() + p.read_bytes())
    out = Path(tempfile.gettempdir()) / f"airtest-hostile-large-{os.getuid()}-{digest.hexdigest()[:16]}"
    if not out.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp", dir=out.parent))
        subprocess.run(
            [sys.executable, str(CORPUS / "gen_hostile.py"), "--large", str(tmp)],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=300,
        )
        try:
            os.rename(tmp, out)
        except OSError:  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def slow_jpeg() -> bytes:
    """4096x4096 progressive JPEG of 3001 scans: ~10 s of CPU once max_jpeg_scans and
    max_jpeg_coeffs are lifted (corpus/hostile.tsv's cpu_bomb rows)."""
    return (hostile_large_dir() / "jpeg_scan_bomb_4096_3000_scans.jpg").read_bytes()


# The keywords under which slow_jpeg() runs until cpu_ms or timeout_ms stops it.
SLOW_KW: dict[str, Any] = {"max_jpeg_scans": 100000, "max_jpeg_coeffs": 1 << 50}


# ---------------------------------------------------------------------------------------------
# Processes (tests/proc.h)


def fork_child(fn: Callable[[], dict[str, Any]], timeout: float = 30) -> tuple[int, dict[str, Any]]:
    """Runs fn in a forked child and returns (exit status, what fn returned). The child reports
    through a pipe and leaves with os._exit; an alarm ends it if it hangs, and the parent kills it
    at the deadline."""
    import json
    import select
    import signal
    import traceback
    import warnings

    import pytest

    rfd, wfd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12: fork() with threads running
        pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 1
        try:
            os.close(rfd)
            signal.alarm(int(timeout))
            out = fn()
            code = 0
        except BaseException:  # reported to the parent, whatever it is
            out = {"error": traceback.format_exc()}
        try:
            os.write(wfd, json.dumps(out).encode())
        finally:
            os._exit(code)
    os.close(wfd)
    chunks = []
    deadline = time.monotonic() + timeout + 5
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([rfd], [], [], 0.1)
            if ready:
                b = os.read(rfd, 65536)
                if not b:
                    break
                chunks.append(b)
    finally:
        os.close(rfd)
    status = None
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
        time.sleep(0.01)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child hung")
    out = json.loads(b"".join(chunks) or b"{}")
    assert "error" not in out, out["error"]
    return os.waitstatus_to_exitcode(status), out



def children(pid: int | None = None) -> list[int]:
    """Children of every thread of pid (default: this process)."""
    pid = os.getpid() if pid is None else pid
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return sorted(set(out))


def comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def status_field(pid: int, field: str) -> str | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (an orphan's zombie waits on an init that may
    not reap; it is dead all the same)."""
    state = status_field(pid, "State")
    return state is not None and not state.startswith(("Z", "X"))


def zygotes(pid: int | None = None) -> list[int]:
    """The airlock zygotes among pid's children (the zygote names itself airlock-zygote)."""
    return [c for c in children(pid) if comm(c) == "airlock-zygote" and alive(c)]


def media_zygotes(pid: int | None = None) -> list[int]:
    """The media zygotes among pid's children (airlock-zygote-media names itself airlock-media)."""
    return [c for c in children(pid) if comm(c) == "airlock-media" and alive(c)]


def workers(zygote: int) -> list[int]:
    """A zygote's children that are confined: workers with a request (spares are not confined yet)."""
    return [c for c in children(zygote) if status_field(c, "Seccomp") == "2" and alive(c)]


def descendants(pid: int | None = None) -> list[int]:
    pid = os.getpid() if pid is None else pid
    out: list[int] = []
    todo = children(pid)
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(children(c))
    return out


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd")) - 1  # the listing's own descriptor


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Waits until none of pids is alive; returns those still alive at the deadline."""
    pids = list(pids)
    wait_until(lambda: not any(alive(p) for p in pids), timeout)
    return [p for p in pids if alive(p)]


def wait_worker(zygote: int, timeout: float = 10.0) -> int | None:
    """The first confined worker of zygote to appear within timeout, or None."""
    found: list[int] = []

    def look() -> bool:
        found[:] = workers(zygote)
        return bool(found)

    return found[0] if wait_until(look, timeout) else None


# ---------------------------------------------------------------------------------------------
# Results


def digest(result: Any) -> str:
    """A result's bytes, hashed through its buffer (no copy)."""
    return hashlib.sha256(memoryview(result)).hexdigest()


def corpus_images() -> list[Path]:
    """Small valid images of every default-allowed type (for the process tests)."""
    names = [
        "rgb8.png",
        "rgba8.png",
        "pal8.png",
        "grey16.png",
        "jpeg_420.jpg",
        "jpeg_progressive.jpg",
        "jpeg_exif_orientation6.jpg",
        "adam7_rgb8_40x32.png",
    ]
    out = [CORPUS / "images" / n for n in names]
    out += sorted((CORPUS / "images" / "gif").glob("global_*.gif"))[:2]
    out += sorted((CORPUS / "images" / "webp").glob("lossy*.webp"))[:1]
    return [p for p in out if p.is_file()]


def sanitize_file(path: str) -> tuple[str, tuple[int, ...], str]:
    """For multiprocessing (importable by a spawned child): airlock.image on one file."""
    import airlock

    img = airlock.image(path)
    return img.type, tuple(img.shape), digest(img)


def make_png(width: int, height: int, seed: int = 0) -> bytes:
    """An RGB8 PNG of a noisy gradient (standard library only), for inputs of a chosen size."""
    import random
    import struct
    import zlib

    rng = random.Random(seed)
    noise = bytes(rng.getrandbits(8) & 0x1F for _ in range(4096))
    rows = []
    for y in range(height):
        row = bytearray(width * 3)
        for x in range(0, width * 3, 3):
            row[x] = (x // 3 + y) & 0xFF
            row[x + 1] = (y * 2) & 0xFF
            row[x + 2] = noise[(x + y * 7) & 4095]
        rows.append(b"\0" + bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + chunk(b"IEND", b"")
    )


def sanitize_file_pids(path: str) -> tuple[tuple[str, tuple[int, ...], str], int, list[int]]:
    """sanitize_file, with the pid that ran it and that process's zygotes."""
    return sanitize_file(path), os.getpid(), zygotes()


def fd_targets() -> list[str]:
    """What this process's descriptors point at (for a message when their count changed)."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(f"{fd}:{os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:
            continue
    return out


def settled_children(pid: int, timeout: float = 5.0) -> list[int]:
    """pid's children once they stop changing (a zygote reaps a finished worker and forks a new
    spare just after a request returns): the same live set over 200 ms."""
    last: list[int] = []

    def steady() -> bool:
        nonlocal last
        now = children(pid)
        same = now == last and all(alive(p) for p in now)
        last = now
        return same

    wait_until(steady, timeout, step=0.2)
    return last


def describe(pids: Iterable[int]) -> list[tuple[int, str | None, str | None]]:
    """(pid, comm, state) of each, for assertion messages."""
    return [(p, comm(p), status_field(p, "State")) for p in pids]


def hang_guard(seconds: float) -> Any:
    """pytest-timeout's mark where the plugin is installed, so that a hang fails the test that hung
    (the tests' own waits all have deadlines; this covers a call that never returns); else a mark
    that does nothing."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("pytest_timeout") is None:
        return pytest.mark.usefixtures()
    return pytest.mark.timeout(seconds)


def open_sanitizer(**kw: Any) -> tuple[Any, int]:
    """A new airlock.Sanitizer, used once, and the zygote it started (the one that was not
    there before: the process may hold others, such as the default sanitizer's)."""
    import airlock

    before = set(zygotes())
    s = airlock.Sanitizer(**kw)
    s.image(CORPUS / "images" / "rgb8.png")
    new = set(zygotes()) - before
    if len(new) != 1:
        s.close()
        raise AssertionError(f"zygotes before {sorted(before)}, new {sorted(new)}")
    return s, new.pop()


class Sanitizers:
    """Every Sanitizer a test module opens (call it with the options), closed by sanitizer_state()."""

    def __init__(self) -> None:
        self.made: list[Any] = []

    def __call__(self, **kw: Any) -> Any:
        import airlock

        s = airlock.Sanitizer(**kw)
        self.made.append(s)
        return s


def sanitizer_state() -> Iterator[dict[str, Any]]:
    """A module fixture's body: one Sanitizer ("s"), the Sanitizers that make more ("made"), and the
    descriptors and children the process held before ("fds", "children"); every one closed at the end."""
    before = {"fds": fd_count(), "children": set(children())}
    made = Sanitizers()
    yield {"s": made(), "made": made, **before}
    for s in made.made:
        s.close()
