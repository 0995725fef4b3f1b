# SPDX-License-Identifier: MIT
"""The wheel as a user gets it: installed into a fresh virtual environment (no cache), imported from a
directory outside the source tree with AIRLOCK_ZYGOTE unset, it finds its helper inside the package and
sanitizes; one cp311-abi3 wheel serves 3.11 and every later interpreter found here.

The wheel comes from $AIRLOCK_WHEEL, else build-py/dist/ of the source tree (scripts/test.sh builds it);
without one the tests skip.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PNG = ROOT / "corpus" / "images" / "jpeg_exif_orientation6.jpg"

# Runs in the fresh environment: sanitizes argv[1], writes the pixels to argv[2], prints what it saw.
CHILD = r"""
import json, os, sys
import airlock
pkg = os.path.dirname(airlock.__file__)
img = airlock.image(sys.argv[1])
zygotes = []
for task in os.listdir("/proc/self/task"):
    with open(f"/proc/self/task/{task}/children") as f:
        for pid in f.read().split():
            try:
                zygotes.append(os.readlink(f"/proc/{pid}/exe"))
            except OSError:
                pass
open(sys.argv[2], "wb").write(bytes(img))
print(json.dumps({
    "version": airlock.__version__, "file": airlock.__file__, "pkg": pkg, "zygotes": zygotes,
    "shape": list(img.shape), "mode": img.mode, "changes": sorted(img.changes),
    "layers": sorted(airlock.default_sanitizer().layers), "prefix": sys.prefix,
    "py": list(sys.version_info[:2]),
}))
"""


def find_wheel() -> Path | None:
    env = os.environ.get("AIRLOCK_WHEEL")
    if env:
        return Path(env)
    found = sorted(glob.glob(str(ROOT / "build-py" / "dist" / "airlock_media-*.whl")), key=os.path.getmtime)
    return Path(found[-1]) if found else None


@pytest.fixture(scope="module")
def wheel() -> Path:
    w = find_wheel()
    if w is None or not w.is_file():
        pytest.skip("no wheel: set AIRLOCK_WHEEL or run scripts/test.sh, which builds build-py/dist/*.whl")
    return w


def interpreter(minor: int) -> str | None:
    """A CPython 3.<minor> that runs: pyenv's, else one on PATH."""
    cands = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/python3.{minor}")))
    cands += [f"/usr/bin/python3.{minor}", f"/usr/local/bin/python3.{minor}"]
    for c in cands:
        if os.access(c, os.X_OK):
            try:
                out = subprocess.run([c, "-c", "import sys, venv; print(sys.version_info[1])"], capture_output=True,
                                     text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if out.returncode == 0 and out.stdout.strip() == str(minor):
                return c
    return None


def fresh_venv(python: str, where: Path, wheel: Path) -> Path:
    """A new virtual environment with only the wheel installed (no index, no cache); its python."""
    subprocess.run([python, "-m", "venv", str(where)], check=True, timeout=300)
    py = where / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", "--no-cache-dir", "--no-deps", str(wheel)],
                   check=True, timeout=300)
    return py


def run_child(py: Path, tmp: Path) -> tuple[dict[str, object], bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("AIRLOCK_ZYGOTE", "PYTHONPATH", "PYTHONHOME")}
    cwd = tmp / "elsewhere"
    cwd.mkdir(exist_ok=True)
    out_file = tmp / "pixels.bin"
    p = subprocess.run([str(py), "-c", CHILD, str(PNG), str(out_file)], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout), out_file.read_bytes()


def check_child(info: dict[str, object], pixels: bytes, venv: Path) -> None:
    from PIL import Image, ImageOps

    pkg = Path(str(info["pkg"]))
    assert pkg.is_relative_to(venv) and not pkg.is_relative_to(ROOT)  # the installed copy, not the tree's
    helper = pkg / "airlock-zygote"
    assert helper.is_file() and os.access(helper, os.X_OK)
    assert info["zygotes"] == [str(helper)]  # the running zygote is the package's
    ref = np.asarray(ImageOps.exif_transpose(Image.open(PNG)).convert("RGB"))
    assert info["shape"] == list(ref.shape) and info["mode"] == "RGB"
    assert "rotated" in info["changes"]  # type: ignore[operator]
    assert np.array_equal(np.frombuffer(pixels, np.uint8).reshape(ref.shape), ref)
    assert {"rlimits", "no_new_privs", "seccomp"} <= set(info["layers"])  # type: ignore[call-overload]


def test_wheel_is_abi3_and_holds_only_the_package(wheel: Path) -> None:
    name = wheel.name
    if sys.version_info >= (3, 11):
        assert "-cp311-abi3-" in name, name
    assert name.startswith("airlock_media-0.6.0-")
    with zipfile.ZipFile(wheel) as z:
        files = z.namelist()
    top = {f.split("/")[0] for f in files}
    assert top == {"airlock", "airlock_media-0.6.0.dist-info"}, top
    pkg = {f.split("/", 1)[1] for f in files if f.startswith("airlock/")}
    assert {"__init__.py", "py.typed", "airlock-zygote", "_airlock.pyi"} <= pkg
    ext = [f for f in pkg if f.startswith("_airlock.") and f.endswith(".so")]
    assert ext == ["_airlock.abi3.so"] if "abi3" in name else len(ext) == 1
    assert not any(f.endswith((".h", ".pc", ".1", ".a")) or "libairlock" in f for f in files)


def test_fresh_venv_finds_its_helper_and_sanitizes(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    py = fresh_venv(sys.executable, venv, wheel)
    info, pixels = run_child(py, tmp_path)
    assert info["version"] == "0.6.0"
    check_child(info, pixels, venv)


@pytest.mark.parametrize("minor", [12, 13])
def test_same_wheel_on_a_later_python(wheel: Path, tmp_path: Path, minor: int) -> None:
    if "abi3" not in wheel.name:
        pytest.skip(f"{wheel.name} is not an abi3 wheel")
    py = interpreter(minor)
    if py is None:
        pytest.skip(f"no python3.{minor} with venv here")
    venv = tmp_path / "venv"
    vpy = fresh_venv(py, venv, wheel)
    info, pixels = run_child(vpy, tmp_path)
    assert info["py"] == [3, minor]
    check_child(info, pixels, venv)


def test_ext_suffix_is_what_the_tag_says() -> None:
    """Where the tests run on 3.11+, the installed module is the abi3 one."""
    import airlock

    ext = Path(airlock._airlock.__file__).name
    if sys.version_info >= (3, 11):
        assert ext == "_airlock.abi3.so"
    else:
        assert ext == "_airlock" + str(sysconfig.get_config_var("EXT_SUFFIX"))
