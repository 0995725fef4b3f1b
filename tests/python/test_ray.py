# SPDX-License-Identifier: MIT
"""airlock.ray on a local Ray cluster (ray.init(num_cpus=2), one for the module; docs/scale.md).

The reference is the C CLI: `airlock scan --jobs 2 --out` over the same tree gives, for every file,
the status, error, type and shape the Ray report must hold, and the files it writes must be the
same bytes. Then the same run with an actor killed (SIGKILL to its pid) mid-run, and the hostile
corpus with each row's documented code.

The tree is corpus/ and the public suites (../shared/corpus-public), with the two bulk folders of
fuzzer seeds (corpus/fuzz, libjpeg-turbo-seeds) cut to one file in SAMPLE to keep the module
within a couple of minutes on two shared cores; AIRLOCK_RAY_FULL=1 takes every file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
# Ray and pyarrow are pinned in the test environment (scripts/pyenv.sh): missing, they fail the run.
import airlock
import airlock.ray as aray
import airtest
import pyarrow.parquet as pq
import ray

pytestmark = airtest.hang_guard(600)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = 16
BULK = {"fuzz", "libjpeg-turbo-seeds"}
SHAPE = ("width", "height", "channels", "rate", "frames")


def _cli() -> str:
    """The `airlock` the wheel installs (the C CLI inside the package), as test_install.py finds it."""
    exe = Path(airlock.__file__).resolve().parent / "airlock-cli"
    assert exe.is_file(), "the package has no airlock-cli"
    return str(exe)


def _copy_tree(src: Path, dst: Path) -> None:
    """src below dst, the bulk fuzz folders sampled; hard links where the file system allows."""
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        rel = Path(dirpath).relative_to(src)
        names = sorted(filenames)
        if os.environ.get("AIRLOCK_RAY_FULL") != "1" and BULK & set(rel.parts):
            names = names[::SAMPLE]
        for n in names:
            s = Path(dirpath) / n
            if s.is_symlink() or not s.is_file():
                continue
            d = dst / rel / n
            d.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(s, d)
            except OSError:
                shutil.copyfile(s, d)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """One local cluster of two CPUs for the module; yields its address (for `python -m airlock.ray`)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, shared_corpus: Path) -> Path:
    assert shared_corpus.is_dir(), f"no public corpus at {shared_corpus}"
    t = tmp_path_factory.mktemp("ray") / "in"
    _copy_tree(ROOT / "corpus", t / "corpus")
    _copy_tree(shared_corpus, t / "public")
    return t


@pytest.fixture(scope="module")
def scan(tree: Path) -> tuple[dict[str, dict[str, Any]], Path, int]:
    """`airlock scan --jobs 2 --out`: its lines by input path, its output folder, its exit status (70:
    the corpus has images that decode but no WebP can hold, an error line each)."""
    out = tree.parent / "scan-out"
    p = subprocess.run([_cli(), "scan", "--jobs", "2", "--quiet", "--out", str(out), str(tree)],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode in (0, 70), p.stderr[-2000:]
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert lines[-1]["summary"] is True
    by_input = {x["input"]: x for x in lines[:-1]}
    assert len(by_input) == len(lines) - 1 > 1000
    return by_input, out, p.returncode


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _zygotes_below(pid: int) -> list[int]:
    return [p for p in airtest.descendants(pid) if airtest.comm(p) == "airlock-zygote"]


@pytest.fixture(scope="module")
def ray_run(cluster: str, tree: Path) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """`python -m airlock.ray TREE --out DST --report R` as a user runs it, on the module's cluster."""
    out, report = tree.parent / "ray-out", tree.parent / "report.parquet"
    env = dict(os.environ, RAY_ADDRESS=cluster)
    p = subprocess.run([sys.executable, "-m", "airlock.ray", str(tree), "--out", str(out), "--report", str(report)],
                       capture_output=True, text=True, timeout=900, env=env, cwd=tree.parent)
    return p, out, report


def test_report_equals_airlock_scan(ray_run: Any, scan: Any) -> None:
    """Every file's status, error, MIME type and shape are scan's; the summary line is scan's but for the time."""
    p, _, report = ray_run
    lines, _, status = scan
    assert p.returncode == status, p.stderr[-3000:]
    rows = pq.read_table(report).to_pylist()
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)) and set(paths) == set(lines), "every file once"
    assert paths == _walk_order(str(next(iter(lines)).split("/in/")[0] + "/in")), "in scan's walk order"
    for r in rows:
        want = lines[r["path"]]
        got = {k: r[k] for k in ("status", "error", "type", *SHAPE)}
        assert got == {k: want[k] for k in got}, r["path"]
        assert r["changes"] == want["changes"], r["path"]
        assert (r["code"] == 0) == (r["status"] == "ok")
        if r["status"] == "ok":
            assert r["output"] == want["output"].replace("/scan-out", "/ray-out"), r["path"]
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    summary.pop("elapsed_ms")
    assert summary == _scan_summary(lines)
    assert summary["ok"] > 500 and summary["rejected"] > 500


def _walk_order(d: str) -> list[str]:
    """The order of airlock(1)'s walk: each directory's entries bytewise, depth first."""
    out: list[str] = []
    for name in sorted(os.listdir(d), key=os.fsencode):
        p = d + "/" + name
        out += _walk_order(p) if os.path.isdir(p) else [p]
    return out


def _scan_summary(lines: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What scan's summary line says, from its lines (names ordered by code through the library)."""
    out: dict[str, Any] = {"summary": True, "files": len(lines)}
    for s in ("ok", "rejected", "error", "skipped"):
        out[s] = sum(1 for x in lines.values() if x["status"] == s)
    names: dict[str, int] = {}
    for x in lines.values():
        if x["error"]:
            names[x["error"]] = names.get(x["error"], 0) + 1
    codes: dict[str, int] = {}
    for c in range(80):
        codes.setdefault(airlock._airlock.error_name(c), c)
    out["by_error"] = {n: names[n] for n in sorted(names, key=lambda n: codes[n])}
    return out


def test_outputs_identical_to_airlock_scan(ray_run: Any, scan: Any) -> None:
    """The files written are scan's, name for name and byte for byte."""
    p, out, _ = ray_run
    _, scan_out, status = scan
    assert p.returncode == status, p.stderr[-3000:]
    mine, ref = _files(out), _files(scan_out)
    assert sorted(mine) == sorted(ref)
    differ = [n for n in ref if mine[n] != ref[n]]
    assert not differ, differ[:10]
    assert len(ref) > 500


def test_pixels_are_pillows(ray_run: Any) -> None:
    """Independent of the CLI: PNG outputs of plain 8-bit RGB PNG inputs hold the input's pixels (Pillow)."""
    from PIL import Image
    report = ray_run[2]
    checked = 0
    for r in pq.read_table(report).to_pylist():
        if r["status"] != "ok" or r["type"] != "image/png" or r["changes"] not in ([], ["metadata_dropped"]):
            continue
        with Image.open(r["path"]) as src:
            if src.mode != "RGB":
                continue
            with Image.open(r["output"]) as dst:
                assert dst.mode == "RGB" and dst.tobytes() == src.tobytes(), r["path"]
        checked += 1
    assert checked >= 10


def test_killed_actor(cluster: str, tree: Path, ray_run: Any) -> None:
    """SIGKILL to an actor mid-run: Ray restarts it and retries its batch; every input is in the report
    exactly once (run() raises on a row it did not ask for or one never given) and every output is the
    undisturbed run's. Each actor holds one zygote while it runs, and no zygote outlives its actor."""
    _, ref_out, ref_report = ray_run
    out = tree.parent / "kill-out"
    killed: list[int] = []
    seen: dict[int, list[int]] = {}

    def actors() -> list[int]:
        found = []
        for q in airtest.descendants(os.getpid()):
            try:
                if b"Sanitize" in Path(f"/proc/{q}/cmdline").read_bytes():
                    found.append(q)
            except OSError:
                pass
        return found

    def killer() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            got = actors()
            for q in got:
                seen[q] = airtest.zygotes(q)
            n = sum(1 for _ in out.rglob("*")) if out.is_dir() else 0
            if len(got) == 2 and n > 100:
                os.kill(got[0], signal.SIGKILL)
                killed.append(got[0])
                return
            time.sleep(0.05)

    t = threading.Thread(target=killer)
    t.start()
    try:
        rows, summary = aray.run([str(tree)], str(out), options={"dtype": "int16"}, actors=2)
    finally:
        t.join()
    assert killed, "no actor was killed: the run ended first"
    assert not airtest.alive(killed[0])
    ref_rows = pq.read_table(ref_report).to_pylist()
    assert [r["path"] for r in rows] == [r["path"] for r in ref_rows]
    for r, want in zip(rows, ref_rows):
        assert (r["status"], r["error"], r["type"]) == (want["status"], want["error"], want["type"]), r["path"]
    mine, ref = _files(out), _files(ref_out)
    assert sorted(mine) == sorted(ref)
    assert not [n for n in ref if mine[n] != ref[n]]
    assert json.loads(summary)["files"] == len(ref_rows)
    # One Sanitizer per actor: each actor seen with at most one zygote child (its spares are the zygote's).
    assert seen and all(len(z) <= 1 for z in seen.values()), seen
    # The killed actor's zygote sees its host gone and exits. Ray may keep an ended actor's process a
    # while (idle, pooled), and its Sanitizer with it; what must never be is a zygote outlive its host:
    # each one left is the child of a live process that is not Ray's subreaper or init.
    gone = seen.get(killed[0], [])
    assert airtest.wait_until(lambda: not any(airtest.alive(z) for z in gone), 60), gone

    def orphans() -> list[int]:
        out = []
        for z in _zygotes_below(os.getpid()):
            parent = int(airtest.status_field(z, "PPid") or 0)
            if parent <= 1 or not airtest.alive(parent) or airtest.comm(parent) == "raylet":
                out.append(z)
        return out

    assert airtest.wait_until(lambda: not orphans(), 60), orphans()


def test_hostile_corpus(cluster: str) -> None:
    """corpus/hostile.tsv through a Ray actor pool, each row with its documented options (a per-row
    options column; the Sanitizer opened with the loosest of them, each row tightening back to its own):
    one output row per input row, with its documented code, limit and type, and the shape of ok rows."""
    rows = airtest.hostile_rows()
    large = airtest.hostile_large_dir()
    ctor: dict[str, Any] = {}
    per_row = []
    for r in rows:
        c, call, expect = r.options()
        for k, v in c.items():
            ctor[k] = max(ctor[k], v) if k in ctor and not isinstance(v, tuple) else v
        per_row.append((call, expect))
    with airlock.Sanitizer() as s:
        defaults = {k: s.get(k) for k in ctor}
    items = []
    for i, (r, (call, expect)) in enumerate(zip(rows, per_row)):
        p = airtest.resolve(r.path, large)
        assert p is not None, r.path
        opts = {k: (sorted(v) if isinstance(v, (frozenset, tuple)) else v) for k, v in defaults.items()}
        opts.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in call.items()})
        if expect:
            opts["expect"] = expect
        items.append({"bytes": p.read_bytes(), "path": f"{i}", "options": json.dumps(opts)})
    ds = ray.data.from_items(items).map_batches(
        aray.Sanitize,
        fn_constructor_kwargs={"format": None, "options_column": "options",
                               **{k: (list(v) if isinstance(v, tuple) else v) for k, v in ctor.items()}},
        compute=ray.data.ActorPoolStrategy(size=2), batch_size=8, batch_format="pyarrow", num_cpus=1,
    )
    got = ds.to_arrow_refs()
    out = [x for t in ray.get(got) for x in t.to_pylist()]
    assert sorted(int(x["path"]) for x in out) == list(range(len(rows))), "one row out per row in"
    bad = []
    for x in out:
        r = rows[int(x["path"])]
        name = "ok" if x["status"] == "ok" else x["error"]
        want_type = None if r.type == "-" else r.type
        if want_type and want_type.startswith("mime:"):
            typ: Any = (x["type"], x["mime"]) == (None, want_type[5:])
        elif want_type and "+mime:" in want_type:
            t, _, m = want_type.partition("+mime:")
            typ = (x["type"], x["mime"]) == (_mime(t), m)
        else:
            typ = x["type"] == _mime(want_type)
        limit = x["limit"] == (None if r.limit == "-" else r.limit)
        if name != r.outcome or not typ or not (limit or r.outcome == "ok") or not _shape_ok(r.shape, x):
            bad.append((r.id, name, x["limit"], x["type"], x["mime"]))
    assert not bad, bad[:20]


def _mime(type_name: str | None) -> str | None:
    if type_name is None:
        return None
    return airlock._airlock.type_mime(airlock.TYPES.index(type_name) + 1)


def _shape_ok(shape: str, x: dict[str, Any]) -> bool:
    """The manifest's shape: img:WxHxC, or pcm:RATE:CHANNELS:FRAMES (~N within 1%, * any)."""
    if shape == "-" or x["status"] != "ok":
        return True
    if shape.startswith("img:"):
        return [x["width"], x["height"], x["channels"]] == [int(v) for v in shape[4:].split("x")]
    rate, ch, frames = shape[4:].split(":")
    if (rate != "*" and x["rate"] != int(rate)) or x["channels"] != int(ch):
        return False
    if frames == "*":
        return True
    if frames.startswith("~"):
        return abs(x["frames"] - int(frames[1:])) <= int(frames[1:]) // 100
    return bool(x["frames"] == int(frames))
