# SPDX-License-Identifier: MIT
"""airlock on Ray Data (docs/scale.md): a map_batches stage, and `python -m airlock.ray SRC --out DST`.

``Sanitize`` is a callable class for ``Dataset.map_batches``: each actor opens one Sanitizer when it
starts and closes it when it ends (Ray Data deletes the instance then), and turns every row that
``ray.data.read_binary_files(..., include_paths=True)`` produces into exactly one report row, whatever
the input does: rejections and sandbox events are rows, not exceptions.

    ds = ray.data.read_binary_files("s3://bucket/uploads", include_paths=True)
    ds = ds.map_batches(airlock.ray.Sanitize, fn_constructor_kwargs={"format": "png"},
                        compute=ray.data.ActorPoolStrategy(size=8), batch_size=16)

The command mirrors ``airlock scan --out``: the same walk, the same output names, the same bytes, and
the same summary line; the per-file report goes to a Parquet file.
"""

from __future__ import annotations

import argparse
import ast
import errno
import json
import logging
import os
import stat
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _airlock
from ._errors import AirlockError, Rejected
from ._options import TYPE_CODES, convert
from ._results import Audio, Image, Video, change_list
from ._sanitizer import Sanitizer

if TYPE_CHECKING:
    import pyarrow

__all__ = ["FORMATS", "REPORT_COLUMNS", "Sanitize", "main"]

# What `format` may name: a canonical file, the bare samples, "auto" (what `airlock scan` writes
# without --to), or None for the report alone.
FORMATS = ("auto", "png", "jpeg", "webp", "wav", "flac", "raw")
_IMAGE_OUT = ("png", "jpeg", "webp")
_AUDIO_OUT = ("wav", "flac")
# cli_format_for(): JPEG and WebP keep their format; PNG, GIF, BMP and TIFF become PNG; audio WAV.
_AUTO = {"jpeg": "jpeg", "webp": "webp", "png": "png", "gif": "png", "bmp": "png", "tiff": "png"}
# cli/cli.h: what FLAC holds, the input's limit with --to flac (unless mono / rate make it fit).
_FLAC_MAX_CHANNELS = 8
_FLAC_MAX_RATE = 655350
# airlock scan: a request the helper could not fork a worker for is tried again, 10, 40, 160 ms apart.
_BUSY_WAITS = (0.01, 0.04, 0.16)
_BUSY, _CLOSED, _HELPER, _INTERNAL = 65, 42, 61, 64

# The row Sanitize returns for each input row, in this order.
REPORT_COLUMNS = (
    "path", "status", "error", "code", "limit", "type", "mime", "width", "height", "channels", "rate",
    "frames", "seconds", "changes", "elapsed_ms", "input_bytes", "format", "data",
)


def _schema() -> "pyarrow.Schema":
    import pyarrow as pa

    return pa.schema([
        ("path", pa.string()), ("status", pa.string()), ("error", pa.string()), ("code", pa.int32()),
        ("limit", pa.string()), ("type", pa.string()), ("mime", pa.string()),
        ("width", pa.int64()), ("height", pa.int64()), ("channels", pa.int64()), ("rate", pa.int64()),
        ("frames", pa.int64()), ("seconds", pa.float64()), ("changes", pa.list_(pa.string())),
        ("elapsed_ms", pa.float64()), ("input_bytes", pa.int64()), ("format", pa.string()),
        ("data", pa.large_binary()),
    ])


def _mime(type_name: Optional[str]) -> Optional[str]:
    code = TYPE_CODES.get(type_name) if type_name else None
    return _airlock.type_mime(code) if code else None


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        return os.fsdecode(v)
    return str(v)


class Sanitize:
    """A Ray Data map_batches stage: one airlock.Sanitizer per actor, one output row per input row.

    Input rows need a ``bytes`` column (the file's contents) and take a ``path`` column when there is
    one (``read_binary_files(..., include_paths=True)``). Each output row holds the columns of
    REPORT_COLUMNS: ``status`` is "ok", "rejected" (sandbox events included) or "error"; ``error``
    the stable code name and ``code`` its number (0 when ok); ``type`` the MIME type detected; the
    shape (width/height/channels, or rate/frames/channels); ``changes``; ``elapsed_ms``; and, only
    where the input was accepted, ``data``: the clean file in ``format``.

    format: "auto" (JPEG and WebP stay so, other images become PNG, audio WAV: what `airlock scan`
    writes), "png", "jpeg", "webp" (images only: audio is refused as its type), "wav", "flac" (audio
    only), "raw" (the bare pixels or interleaved samples), or None (no ``data``, the report alone).
    expect: a type name every input must be. options_column: the name of a column whose values
    (None, a mapping or its JSON text) are one row's per-call keywords (and "expect"); as in the
    Python API, a call's limits can only tighten the Sanitizer's. Every other keyword is a
    Sanitizer option (docs/python.md), with the same defaults.
    """

    def __init__(
        self,
        *,
        format: Optional[str] = "auto",
        expect: Optional[str] = None,
        options_column: Optional[str] = None,
        **options: Any,
    ) -> None:
        if format is not None and format not in FORMATS:
            raise ValueError(f"airlock.ray: format must be one of {', '.join(FORMATS)} or None, not {format!r}")
        self._format = format
        self._expect = expect
        self._options_column = options_column
        self._options = dict(options)
        self._call: Dict[str, Any] = {}
        if format == "flac":
            # What FLAC cannot hold is the input's limit (rejected as out_of_range), as with `airlock --to flac`.
            if not options.get("mono"):
                self._call["max_channels"] = _FLAC_MAX_CHANNELS
            if not options.get("rate"):
                self._call["max_rate"] = _FLAC_MAX_RATE
        self._sanitizer: Optional[Sanitizer] = Sanitizer(**options)

    # ---- one row ----

    def _request(
        self, s: Sanitizer, data: Any, expect: Optional[str], call: Dict[str, Any]
    ) -> Union[Image, Audio, Video]:
        fmt = self._format
        if fmt in _IMAGE_OUT:
            return s.image(data, expect=expect, **call)
        if fmt in _AUDIO_OUT:
            return s.audio(data, expect=expect, **call)
        return s.sanitize(data, expect=expect, **call)

    def _run(self, data: Any, expect: Optional[str], call: Dict[str, Any]) -> Union[Image, Audio, Video]:
        """One request; busy is tried again as `airlock scan` does, and a lost helper (its zygote killed
        from outside) makes the actor open a new Sanitizer and try once more."""
        reopened = False
        waits = iter(_BUSY_WAITS)
        while True:
            s = self._sanitizer
            if s is None:
                s = self._sanitizer = Sanitizer(**self._options)
            try:
                return self._request(s, data, expect, call)
            except AirlockError as e:
                if e.code == _BUSY:
                    wait = next(waits, None)
                    if wait is not None:
                        time.sleep(wait)
                        continue
                if e.code in (_HELPER, _CLOSED) and not reopened:
                    reopened = True
                    self._sanitizer = None
                    s.close()
                    continue
                raise

    def _row(self, data: Any, path: Optional[str], row_options: Any) -> Dict[str, Any]:
        out: Dict[str, Any] = dict.fromkeys(REPORT_COLUMNS)
        out["path"] = path
        out["changes"] = []
        out["input_bytes"] = len(data) if isinstance(data, (bytes, bytearray)) else memoryview(data).nbytes
        expect = self._expect
        call = dict(self._call)
        t0 = time.perf_counter()
        try:
            if row_options is not None:
                extra = json.loads(row_options) if isinstance(row_options, (str, bytes)) else dict(row_options)
                expect = extra.pop("expect", expect)
                call.update(extra)
            r = self._run(data, expect, call)
        except AirlockError as e:
            out.update(status="rejected" if isinstance(e, Rejected) else "error", error=e.name, code=e.code,
                       limit=e.limit, type=_mime(e.type), mime=e.mime, elapsed_ms=e.elapsed_us / 1000.0)
            return out
        except (TypeError, ValueError) as e:
            # A row's options the API refuses: the caller's mistake, reported on the row it came with.
            out.update(status="error", error="bad_option", code=41, limit=None, mime=None,
                       elapsed_ms=(time.perf_counter() - t0) * 1000.0)
            out["reason"] = str(e)
            return out
        out.update(status="ok", error=None, code=0, type=r.mime, channels=r.channels,
                   changes=change_list(r._changes), elapsed_ms=(time.perf_counter() - t0) * 1000.0)
        fmt = self._format
        if isinstance(r, Video):
            # A row's track="video": its shape (frames sampled, each width x height). A video is no one
            # canonical file, so with a format the row is the caller's mistake, said on the row.
            out.update(width=r.width, height=r.height, frames=r.frames, seconds=r.duration_us / 1e6)
            if fmt is not None:
                out.update(status="error", error="bad_option", code=41)
                out["reason"] = "a video's frames are no one canonical file: run without format"
            return out
        if isinstance(r, Image):
            out.update(width=r.width, height=r.height)
        else:
            out.update(rate=r.rate, frames=r.frames, seconds=round(r.frames / r.rate, 6) if r.rate else None)
        if fmt is None:
            return out
        if fmt == "auto":
            fmt = _AUTO.get(r.type, "png") if isinstance(r, Image) else "wav"
        try:
            out["data"] = r.encode(fmt)
            out["format"] = fmt
        except AirlockError as e:
            # Decoded, but the canonical file could not be made: the shape stays, as in `airlock scan`.
            out.update(status="error", error=e.name, code=e.code)
        return out

    # ---- map_batches ----

    def __call__(self, batch: Mapping[str, Any]) -> "pyarrow.Table":
        """One batch (numpy, pandas or pyarrow format) in; a pyarrow.Table of REPORT_COLUMNS out, a row for each."""
        import pyarrow as pa

        cols = _columns(batch)
        data = cols["bytes"]
        paths = cols.get("path")
        opts = cols.get(self._options_column) if self._options_column else None
        rows = [self._row(data[i], None if paths is None else _text(paths[i]), None if opts is None else opts[i])
                for i in range(len(data))]
        return pa.Table.from_pylist([{k: r[k] for k in REPORT_COLUMNS} for r in rows], schema=_schema())

    def close(self) -> None:
        """Closes the Sanitizer (its zygote and any worker). Idempotent."""
        s, self._sanitizer = self._sanitizer, None
        if s is not None:
            s.close()

    def __del__(self) -> None:
        # Ray Data deletes the instance when its actor ends (__ray_shutdown__); a killed actor's zygote
        # sees its control socket close and exits by itself.
        try:
            self.close()
        except Exception:
            pass


def _columns(batch: Any) -> Dict[str, Sequence[Any]]:
    """A batch in any of Ray Data's formats as {column: sequence}."""
    if hasattr(batch, "column_names") and hasattr(batch, "column"):  # pyarrow.Table
        return {name: batch.column(name).to_pylist() for name in batch.column_names}
    if hasattr(batch, "columns") and hasattr(batch, "to_dict"):  # pandas.DataFrame
        return {str(name): list(batch[name]) for name in batch.columns}
    return {str(k): v for k, v in batch.items()}


# ---------------------------------------------------------------------------------------------
# The command: the walk, output names and writes of `airlock scan --out`, on Ray Data.

_EXIT_OK, _EXIT_USAGE, _EXIT_INTERNAL = 0, 64, 70
_MAX_DEPTH = 256
_TEMP_PREFIX = ".airlock-"
_EXT = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "wav": ".wav", "flac": ".flac", "raw": ".raw"}


@dataclass
class _Entry:
    input: str  # the path as reported: SRC, or SRC/REL (scan's "input")
    rel: Optional[str]  # below SRC; None when SRC is the file itself
    kind: str  # "file", or the reason it is skipped or unreadable
    read: Optional[str] = None  # what Ray Data reads: an absolute local path or SRC's URI joined with rel
    out: Optional[str] = None  # the output name below --out, without extension
    err: int = 0


def _join(a: str, b: str) -> str:
    return a + b if not a or a.endswith("/") else a + "/" + b


def _walk_local(root: str) -> List[_Entry]:
    """scan's walk: entries sorted bytewise, depth first, no symlink inside the tree followed."""
    out: List[_Entry] = []
    st = os.stat(root)  # the caller named it: followed; OSError is a usage error
    if not stat.S_ISDIR(st.st_mode):
        out.append(_Entry(root, None, "file" if stat.S_ISREG(st.st_mode) else "not_regular", os.path.abspath(root)))
        return out

    def walk(dfd: int, input: str, rel: str, depth: int) -> None:
        try:
            names = sorted(os.listdir(dfd), key=os.fsencode)
        except OSError as e:
            out.append(_Entry(input, rel, "unreadable", err=e.errno or errno.EIO))
            return
        for name in names:
            i, r = _join(input, name), _join(rel, name) if rel else name
            try:
                s = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except OSError as e:
                out.append(_Entry(i, r, "unreadable", err=e.errno or errno.EIO))
                continue
            if stat.S_ISLNK(s.st_mode):
                out.append(_Entry(i, r, "symlink"))
            elif stat.S_ISREG(s.st_mode):
                kind = "airlock_temp" if name.startswith(_TEMP_PREFIX) else "file"
                out.append(_Entry(i, r, kind, os.path.abspath(os.path.join(root, r))))
            elif not stat.S_ISDIR(s.st_mode):
                out.append(_Entry(i, r, "not_regular"))
            elif depth + 1 >= _MAX_DEPTH:
                out.append(_Entry(i, r, "too_deep"))
            else:
                try:
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
                except OSError as e:
                    out.append(_Entry(i, r, "symlink" if e.errno == errno.ELOOP else "unreadable", err=e.errno or 0))
                    continue
                try:
                    walk(sub, i, r, depth + 1)
                finally:
                    os.close(sub)

    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        walk(fd, root, "", 0)
    finally:
        os.close(fd)
    return out


def _walk_remote(src: str) -> Tuple[List[_Entry], Any]:
    """Anything pyarrow's filesystems name (s3://, gs://, hdfs://, ...): the files below src, sorted."""
    import pyarrow.fs as pafs

    fs, base = pafs.FileSystem.from_uri(src)
    info = fs.get_file_info(base)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(errno.ENOENT, "not found", src)
    if info.type == pafs.FileType.File:
        return [_Entry(src, None, "file", base)], fs
    found = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    files = sorted((f.path for f in found if f.type == pafs.FileType.File), key=lambda p: p.encode())
    prefix = base.rstrip("/") + "/"
    out = []
    for p in files:
        rel = p[len(prefix):]
        kind = "airlock_temp" if rel.rsplit("/", 1)[-1].startswith(_TEMP_PREFIX) else "file"
        out.append(_Entry(_join(src, rel), rel, kind, p))
    return out, fs


def _exts(format: str, allowed: Iterable[str]) -> List[str]:
    """The extensions a file may get: format's, or (auto) those of the formats the allowed types give."""
    if format != "auto":
        return [_EXT[format]]
    allowed = set(allowed)
    audio = {"wav", "flac", "vorbis", "opus", "mp3", "aiff", "mp4", "matroska"}  # a container's audio is WAV too
    out = []
    if allowed & {"png", "gif", "bmp", "tiff"}:
        out.append(".png")
    if "jpeg" in allowed:
        out.append(".jpg")
    if "webp" in allowed:
        out.append(".webp")
    if allowed & audio:
        out.append(".wav")
    return out


def _assign_outputs(entries: List[_Entry], exts: List[str]) -> None:
    """scan's assign_outputs(): names fixed before anything runs, the first in walk order keeps a name,
    the next get ~2, ~3, ... before the extension; each file claims every extension it could get."""
    taken: set[str] = set()
    for e in entries:
        if e.kind == "file" and e.rel:
            parts = e.rel.split("/")
            for k in range(1, len(parts)):
                taken.add("/".join(parts[:k]))
    for e in entries:
        if e.kind != "file":
            continue
        name = e.rel if e.rel is not None else e.input.rsplit("/", 1)[-1]
        last = name.rsplit("/", 1)[-1]
        dot = last.rfind(".")
        base = name[: len(name) - len(last) + dot] if dot > 0 else name
        k = 1
        while True:
            cand = base if k == 1 else f"{base}~{k}"
            if all(cand + x not in taken for x in exts):
                taken.update(cand + x for x in exts)
                e.out = cand
                break
            k += 1


def _write_at(out_fd: int, name: str, data: bytes) -> None:
    """scan's write_output(): each directory made and opened with O_NOFOLLOW from --out's fd, the file
    written to a temporary name, synced, and renamed over the name relative to its directory."""
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise OSError(errno.EINVAL, "bad output name")
    dfd = out_fd
    opened: List[int] = []
    try:
        for p in parts[:-1]:
            try:
                os.mkdir(p, 0o777, dir_fd=dfd)
            except FileExistsError:
                pass
            dfd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            opened.append(dfd)
        leaf = parts[-1]
        mode = None
        try:
            st = os.stat(leaf, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EEXIST, "not a regular file")
            mode = stat.S_IMODE(st.st_mode)
        except FileNotFoundError:
            pass
        for n in range(100):
            tmp = f"{_TEMP_PREFIX}{os.getpid():x}{n:02d}"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666,
                             dir_fd=dfd)
                break
            except FileExistsError:
                continue
        else:
            raise OSError(errno.EEXIST, "no temporary name")
        try:
            with os.fdopen(fd, "wb", closefd=False) as f:
                f.write(data)
            if mode is not None:
                os.fchmod(fd, mode)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp, dir_fd=dfd)
            raise
        os.close(fd)
        try:
            os.rename(tmp, leaf, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            os.unlink(tmp, dir_fd=dfd)
            raise
    finally:
        for fd in reversed(opened):
            os.close(fd)


def _is_remote(src: str) -> bool:
    return "://" in src and not src.startswith("file://")


def _value(text: str) -> Any:
    """--set KEY=VALUE: a Python literal (int, True, a tuple), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m airlock.ray",
        description="Sanitize every file under each SRC on Ray Data, each in a fresh sandboxed worker, write "
        "the clean files below --out as `airlock scan --out` does, and print scan's summary line.",
    )
    p.add_argument("src", nargs="+", metavar="SRC", help="a file or folder, local or any URI pyarrow reads")
    p.add_argument("--out", metavar="DST", help="write each clean file below DST, mirroring its path below SRC")
    p.add_argument("--format", "--to", dest="format", default="auto", choices=FORMATS,
                   help="output format (auto: JPEG and WebP stay so, other images PNG, audio WAV)")
    p.add_argument("--report", metavar="FILE", help="write the per-file report to this Parquet file")
    p.add_argument("--dtype", default="int16", choices=("int16", "float32"),
                   help="audio samples (int16, as `airlock` writes WAV by default)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="a Sanitizer option (docs/python.md), e.g. max_pixels=40000000; repeatable")
    p.add_argument("--actors", type=int, default=0, help="actors in the pool (default: the cluster's CPUs)")
    p.add_argument("--batch-size", type=int, default=16, help="rows per batch (16)")
    p.add_argument("--cpus-per-actor", type=float, default=1.0, help="CPUs Ray reserves for an actor (1)")
    p.add_argument("--address", default=None, help="the Ray cluster (default: RAY_ADDRESS, else a local one)")
    return p


def _summary(rows: List[Dict[str, Any]], elapsed_ms: float) -> str:
    counts = {k: 0 for k in ("ok", "rejected", "error", "skipped")}
    by_error: Dict[Tuple[int, str], int] = {}
    for r in rows:
        counts[r["status"]] += 1
        if r["status"] in ("rejected", "error"):
            key = (r["code"], r["error"])
            by_error[key] = by_error.get(key, 0) + 1
    doc = {"summary": True, "files": len(rows), **counts,
           "by_error": {name: n for (_, name), n in sorted(by_error.items())}}
    text = json.dumps(doc, separators=(",", ":"))
    return text[:-1] + f',"elapsed_ms":{elapsed_ms:.3f}}}'


def _scan_row(e: _Entry) -> Dict[str, Any]:
    """The row of an entry no request was made for (scan's skipped and unreadable lines)."""
    row: Dict[str, Any] = dict.fromkeys(REPORT_COLUMNS)
    row.update(path=e.input, changes=[], elapsed_ms=0.0)
    if e.kind == "unreadable":
        row.update(status="error", error="io", code=63)
    else:
        row.update(status="skipped")
    row["reason"] = e.kind
    return row


def run(
    srcs: Sequence[str],
    out: Optional[str] = None,
    *,
    format: str = "auto",
    report: Optional[str] = None,
    actors: int = 0,
    batch_size: int = 16,
    cpus_per_actor: float = 1.0,
    options: Optional[Dict[str, Any]] = None,
) -> Tuple[List[Dict[str, Any]], str]:
    """The command's work: (report rows in walk order, the summary line). Ray must be initialised."""
    import ray

    t0 = time.monotonic()
    options = dict(options or {})
    entries: List[_Entry] = []
    filesystem = None
    for src in srcs:
        if _is_remote(src):
            found, filesystem = _walk_remote(src)
        else:
            found = _walk_local(src[len("file://"):] if src.startswith("file://") else src)
        entries += found
    with Sanitizer(**options) as probe:  # the options checked, and the allowed types known, before Ray runs
        allowed = probe.get("allowed_types")
    if format in _IMAGE_OUT:
        allowed = allowed & {"png", "jpeg", "webp", "gif", "bmp", "tiff"}
    elif format in _AUDIO_OUT:
        allowed = allowed - {"png", "jpeg", "webp", "gif", "bmp", "tiff"}
    if out is not None:
        _assign_outputs(entries, _exts(format, allowed))

    files = [e for e in entries if e.kind == "file"]
    by_read: Dict[str, List[int]] = {}
    for i, e in enumerate(entries):
        if e.kind == "file" and e.read is not None:
            by_read.setdefault(os.path.normpath(e.read), []).append(i)
    rows: List[Optional[Dict[str, Any]]] = [None if e.kind == "file" else _scan_row(e) for e in entries]
    out_fd = -1
    if out is not None:
        os.makedirs(out, exist_ok=True)
        out_fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if files:
            n_actors = actors or max(1, int(ray.cluster_resources().get("CPU", 1) // max(cpus_per_actor, 0.001)))
            reads = [e.read for e in files if e.read is not None]
            # Reading is I/O: a read task that waited for a CPU the actors hold would never run; without a
            # CPU, it needs a bound of its own, or Ray starts a process for every read task at once.
            ds = ray.data.read_binary_files(reads, include_paths=True, filesystem=filesystem, num_cpus=0,
                                            concurrency=2)
            ds = ds.map_batches(
                Sanitize,
                fn_constructor_kwargs={"format": format if out is not None else None, **options},
                compute=ray.data.ActorPoolStrategy(size=n_actors),
                batch_size=batch_size,
                batch_format="pyarrow",
                num_cpus=cpus_per_actor,
            )
            for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
                for r in batch.to_pylist():
                    idx = by_read.get(os.path.normpath(r["path"]))
                    if not idx:
                        raise RuntimeError(f"airlock.ray: Ray Data gave a path that was not asked for: {r['path']}")
                    i = idx.pop(0)
                    e = entries[i]
                    r["path"] = e.input
                    data = r.pop("data")
                    r["output"] = None
                    if out is not None and r["status"] == "ok" and data is not None and e.out is not None:
                        name = e.out + _EXT[r["format"]]
                        try:
                            _write_at(out_fd, name, data)
                            r["output"] = _join(out, name)
                        except OSError as err:
                            print(f"airlock.ray: {_join(out, name)}: {os.strerror(err.errno or errno.EIO)}",
                                  file=sys.stderr)
                            r.update(status="error", error="io", code=63, reason="output")
                    rows[i] = r
    finally:
        if out_fd >= 0:
            os.close(out_fd)
    missing = [entries[i].input for i, r in enumerate(rows) if r is None]
    if missing:
        raise RuntimeError(f"airlock.ray: {len(missing)} inputs have no row, the first {missing[0]}")
    done = [r for r in rows if r is not None]
    for r in done:
        r.setdefault("reason", None)
        r.setdefault("output", None)
    if report is not None:
        _write_report(done, report)
    return done, _summary(done, (time.monotonic() - t0) * 1000.0)


def _write_report(rows: List[Dict[str, Any]], path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema().remove(_schema().get_field_index("data"))
    schema = schema.append(pa.field("reason", pa.string())).append(pa.field("output", pa.string()))
    table = pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)
    pq.write_table(table, path)


def _check_out(srcs: Sequence[str], out: str) -> Optional[str]:
    """scan's rule: DST is no SRC, lies below no directory SRC, and holds no SRC."""
    o = os.path.realpath(out)
    for s in srcs:
        if _is_remote(s):
            continue
        p = os.path.realpath(s)
        if o == p or (os.path.isdir(p) and o.startswith(p.rstrip("/") + "/")) or p.startswith(o.rstrip("/") + "/"):
            return f"--out {out} and {s} overlap: outputs could replace inputs"
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m airlock.ray`: exit status 0 when every file has a verdict, 64 usage, 70 an error on some file."""
    args = _parser().parse_args(argv)
    try:
        options: Dict[str, Any] = {"dtype": args.dtype}
        for kv in args.sets:
            key, eq, val = kv.partition("=")
            if not eq:
                raise ValueError(f"--set {kv}: KEY=VALUE")
            options[key] = _value(val)
        convert(options)
    except (TypeError, ValueError) as e:
        print(f"airlock.ray: {e}", file=sys.stderr)
        return _EXIT_USAGE
    if args.out is not None:
        problem = _check_out(args.src, args.out)
        if problem:
            print(f"airlock.ray: {problem}", file=sys.stderr)
            return _EXIT_USAGE
    for s in args.src:
        if not _is_remote(s) and not os.path.exists(s[7:] if s.startswith("file://") else s):
            print(f"airlock.ray: {s}: {os.strerror(errno.ENOENT)}", file=sys.stderr)
            return _EXIT_USAGE

    import ray

    if not ray.is_initialized():
        ray.init(address=args.address, log_to_driver=False, logging_level=logging.ERROR, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    rows, summary = run(args.src, args.out, format=args.format, report=args.report, actors=args.actors,
                        batch_size=args.batch_size, cpus_per_actor=args.cpus_per_actor, options=options)
    print(summary, flush=True)
    return _EXIT_INTERNAL if any(r["status"] == "error" for r in rows) else _EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
