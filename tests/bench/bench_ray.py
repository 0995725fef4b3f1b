# SPDX-License-Identifier: MIT
"""`airlock scan --jobs 2` against `python -m airlock.ray` with two actors on one machine (docs/scale.md).

Two trees, linked from corpus/ and the public suites: images alone, and images mixed with audio. Each
is sanitized with outputs written (--out) by the C CLI's scan and by airlock.ray's run() on a local
Ray cluster of two CPUs (started once, not timed in the runs; its start-up is printed apart). Prints
a Markdown table: files, seconds, files/s, files/s per core, and Ray's time over scan's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE_SUITES = ("pngsuite-full", "libpng-testpngs", "webp-test-files", "gif-test-files", "bmp-test-files")
AUDIO_SUITES = ("flac-test-files", "hound-wav")


def link_tree(src: Path, dst: Path, every: int = 1) -> None:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for n in sorted(filenames)[::every]:
            s = Path(dirpath) / n
            if s.is_symlink() or not s.is_file():
                continue
            d = dst / Path(dirpath).relative_to(src) / n
            d.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(s, d)
            except OSError:
                shutil.copyfile(s, d)


def make_trees(base: Path, shared: Path) -> dict[str, Path]:
    images = base / "images"
    link_tree(ROOT / "corpus" / "images", images / "corpus-images")
    for s in IMAGE_SUITES:
        link_tree(shared / s, images / s)
    link_tree(shared / "libjpeg-turbo-seeds", images / "libjpeg-turbo-seeds", every=8)
    mixed = base / "mixed"
    link_tree(images, mixed)
    link_tree(ROOT / "corpus" / "audio", mixed / "corpus-audio")
    for s in AUDIO_SUITES:
        link_tree(shared / s, mixed / s)
    return {"images": images, "images + audio": mixed}


def count(tree: Path) -> tuple[int, int]:
    files = [p for p in tree.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "corpus-public"))
    ap.add_argument("--cli", default=str(Path(__import__("airlock").__file__).resolve().parent / "airlock-cli"))
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    import airlock.ray as aray
    import ray

    base = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        trees = make_trees(base, Path(args.shared))
        t0 = time.monotonic()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        print(f"ray.init(num_cpus=2): {time.monotonic() - t0:.1f} s (not in the runs below)", file=sys.stderr)
        # The fixed cost of a run: the actor pool started (two processes importing Ray Data and airlock,
        # each opening its Sanitizer) and torn down around a single file.
        one = base / "one"
        link_tree(ROOT / "corpus" / "images", one, every=10**6)
        t0 = time.monotonic()
        aray.run([str(one)], str(base / "one-out"), options={"dtype": "int16"}, actors=2)
        fixed = time.monotonic() - t0
        print(f"Ray run of one file (actor pool start and stop): {fixed:.1f} s", file=sys.stderr)
        rows = []
        for name, tree in trees.items():
            n, size = count(tree)
            for k in range(args.repeat):
                out = base / f"scan-{k}"
                t0 = time.monotonic()
                subprocess.run([args.cli, "scan", "--jobs", "2", "--quiet", "--out", str(out), str(tree)],
                               stdout=subprocess.DEVNULL, check=False)
                scan_s = time.monotonic() - t0
                shutil.rmtree(out)
                out = base / f"ray-{k}"
                t0 = time.monotonic()
                aray.run([str(tree)], str(out), options={"dtype": "int16"}, actors=2)
                ray_s = time.monotonic() - t0
                shutil.rmtree(out)
                rows.append((name, n, size, scan_s, ray_s))
                print(f"{name}: scan {scan_s:.1f} s, ray {ray_s:.1f} s", file=sys.stderr)
        print(f"Fixed cost of a Ray run (one file): {fixed:.1f} s\n")
        print("| corpus | files | MB | scan --jobs 2 s | files/s | per core | Ray 2 actors s | files/s | per core "
              "| Ray / scan | Ray less fixed / scan |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, n, size, scan_s, ray_s in rows:
            print(f"| {name} | {n} | {size / 1e6:.1f} | {scan_s:.1f} | {n / scan_s:.0f} | {n / scan_s / 2:.0f} "
                  f"| {ray_s:.1f} | {n / ray_s:.0f} | {n / ray_s / 2:.0f} | {ray_s / scan_s:.2f} "
                  f"| {max(ray_s - fixed, 0.0) / scan_s:.2f} |")
        ray.shutdown()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
