# SPDX-License-Identifier: MIT
"""vLLM's own media tests (``tests/multimodal/media/`` of its source distribution), run against the
installed vLLM twice: with vLLM's stock connector and with airlock's.

The sdist of the installed vLLM version is fetched once from PyPI (checked against its sha256) and cached
under ~/.cache/airlock/; the media tests and what they import (vLLM's root conftest, ``tests/utils.py``,
``tests/models/{utils,registry}.py``, ``tests/multimodal/utils.py`` and ``assets/``) are extracted into a
temporary tree and run by a subprocess pytest with ``upstream_plugin.py`` loaded. In the airlock run the
plugin loads vLLM's general plugins (airlock's entry point) and rebinds the test modules' connector and
media IO classes to airlock's: the same test code, with the connector class swapped (see the plugin).

Offline and fast: vLLM's tests read public assets from vLLM's S3 bucket and a Hugging Face dataset
through vLLM's asset cache (``VLLM_ASSETS_CACHE``). This test fills that cache with stand-ins made here,
of the same kind (format, mode, rate) as the originals, so those tests run without a network; tests that
fetch URLs on S3 directly are deselected by name (``upstream_expected.txt``). Outbound HTTP goes to a
closed local port, and vLLM's fetch retries are set to one attempt, so nothing waits on a network.

Asserted: every test that passes with the stock connector passes with airlock's, except the listed
ones, each with its reason; a listed test that starts passing fails this test too, so the list stays
true. Stock failures must also be exactly the listed ones (none today).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Tuple

import airlock.vllm  # noqa: F401  (fails, never skips, without the connector: see conftest.py)
import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "upstream_expected.txt"

VERSION = "0.34.0"
SDIST_URL = (
    "https://files.pythonhosted.org/packages/92/21/6e0b077dc4a0b28f5a8ce8bb352a38d7196650d681fd4faa87f8dc622eff/"
    f"vllm-{VERSION}.tar.gz"
)
SDIST_SHA256 = "fcad848b246a9d8652b47e6425af92334dc02492f9802720f54e27b823cf0113"

# Paths inside the sdist (under vllm-VERSION/): the media tests and everything they import.
MEMBERS = (
    "pyproject.toml",  # pytest's markers
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/ci_envs.py",
    "tests/utils.py",
    "tests/models/__init__.py",
    "tests/models/utils.py",
    "tests/models/registry.py",
    "tests/multimodal/__init__.py",
    "tests/multimodal/utils.py",
    "tests/multimodal/assets/",
    "tests/multimodal/media/",
)
MEDIA = "tests/multimodal/media"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airlock"


def _sdist() -> Path:
    path = _cache_dir() / f"vllm-{VERSION}.tar.gz"
    if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == SDIST_SHA256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    with urllib.request.urlopen(SDIST_URL, timeout=120) as r, open(part, "wb") as f:
        shutil.copyfileobj(r, f)
    got = hashlib.sha256(part.read_bytes()).hexdigest()
    if got != SDIST_SHA256:
        part.unlink()
        raise AssertionError(f"vllm-{VERSION}.tar.gz: sha256 {got}, expected {SDIST_SHA256}")
    part.rename(path)
    return path


def _extract(sdist: Path, dest: Path) -> None:
    prefix = f"vllm-{VERSION}/"
    with tarfile.open(sdist) as tar:
        members = []
        for m in tar.getmembers():
            rel = m.name[len(prefix):] if m.name.startswith(prefix) else ""
            if not (m.isfile() and any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in MEMBERS)):
                continue
            m.name = rel
            members.append(m)
        tar.extractall(dest, members=members, filter="data")
    missing = [p for p in MEMBERS if not (dest / p).exists()]
    assert not missing, f"not in vllm-{VERSION}'s sdist: {missing}"


# --- stand-ins for vLLM's public assets --------------------------------------------------------------
# Each has the original's name, format and mode (or rate and codec); the pixels and samples are made
# here. The tests that use them check properties of a decode (round trips through every format, sync
# against async, modes, rates, lengths), not the content of a particular photograph.


def _picture(w: int, h: int) -> Any:
    """A smooth colour picture with edges: gradients, a disc and bars (JPEG-friendly, not flat)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin(x / 9.0) * np.cos(y / 13.0)
    disc = (x - w * 0.6) ** 2 + (y - h * 0.45) ** 2 < (min(w, h) * 0.25) ** 2
    r = np.where(disc, 250.0, r)
    g = np.where(disc, 40.0, g)
    bars = (x // 16) % 5 == 0
    b = np.where(bars, 20.0, b)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def _images(d: Path) -> None:
    rgb = Image.fromarray(_picture(640, 427))
    rgb.save(d / "2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg", quality=90)
    Image.fromarray(_picture(320, 240)).save(d / "stop_sign.jpg", quality=95)

    grey = Image.fromarray(_picture(240, 180)).convert("L")
    palette = grey.convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    palette.putpalette([v for i in range(256) for v in (i, i, i)])
    palette.save(d / "Grayscale_8bits_palette_sample_image.png")

    y, x = np.mgrid[0:240, 0:320]
    venn = np.full((240, 320, 3), 255, np.uint8)
    for (cx, cy), channel in (((130, 100), 0), ((190, 100), 1), ((160, 150), 2)):
        inside = (x - cx) ** 2 + (y - cy) ** 2 < 70**2
        venn[inside, channel] = 0
    Image.fromarray(venn).save(d / "1280px-Venn_diagram_rgb.svg.png")

    rgba = np.dstack([_picture(256, 256), (np.mgrid[0:256, 0:256][1]).astype(np.uint8)])
    rgba[:32, :32, 3] = 0
    Image.fromarray(rgba, "RGBA").save(d / "RGBA_comp.png")


def _speech(rate: int, seconds: float) -> Any:
    t = np.arange(int(rate * seconds), dtype=np.float64) / rate
    envelope = 0.5 * (1 - np.cos(2 * math.pi * t / seconds))
    tones = sum(np.sin(2 * math.pi * f * t) / (i + 1) for i, f in enumerate((220.0, 440.0, 660.0, 1210.0)))
    return (0.3 * envelope * tones).astype(np.float32)


def _audio(d: Path) -> None:
    # mary_had_lamb.ogg and winning_call.ogg: Ogg Vorbis, mono, 16 kHz like the originals.
    for name, seconds in (("mary_had_lamb.ogg", 3.0), ("winning_call.ogg", 2.0)):
        sf.write(d / name, _speech(16000, seconds), 16000, format="OGG", subtype="VORBIS")


def _video(path: Path) -> None:
    """sample_demo_1.mp4: MP4 with a video track and an AAC audio track (the original has both)."""
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.roll(_picture(64, 48), 4 * i, axis=1), format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        samples = _speech(16000, 1.0)
        for start in range(0, len(samples), 1024):
            chunk = samples[start:start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="mono")
            frame.sample_rate = 16000
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)


def _assets(cache: Path) -> None:
    public = cache / "vllm_public_assets"
    public.mkdir(parents=True)
    _images(public)
    _audio(public)
    videos = cache / "video-example-data"
    videos.mkdir()
    _video(videos / "sample_demo_1.mp4")


# --- the expected differences --------------------------------------------------------------------------


def _expected() -> Tuple[Dict[str, str], Dict[str, str], Dict[str, str]]:
    """(deselected prefixes, tests expected to pass stock but not airlock, stock failures), each with its
    reason. Lines: ``deselect|airlock|stock <node id> -- <reason>``."""
    kinds: Dict[str, Dict[str, str]] = {"deselect": {}, "airlock": {}, "stock": {}}
    for n, line in enumerate(EXPECTED.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        head, sep, reason = line.partition(" -- ")
        kind, _, node = head.strip().partition(" ")
        assert sep and reason.strip() and kind in kinds and node, f"{EXPECTED.name}:{n}: malformed"
        assert node not in kinds[kind], f"{EXPECTED.name}:{n}: {node} listed twice"
        kinds[kind][node.strip()] = reason.strip()
    return kinds["deselect"], kinds["airlock"], kinds["stock"]


# --- the runs ------------------------------------------------------------------------------------------


def _env(mode: str, assets: Path, report: Path, home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VLLM_", "AIRLOCK_VLLM_", "PYTEST_"))}
    dead = "http://127.0.0.1:9"  # closed: any fetch that is not to the local asset server fails at once
    env.update(
        VLLM_CACHE_ROOT=str(home / "vllm-cache"),
        VLLM_CONFIG_ROOT=str(home / "vllm-config"),
        VLLM_NO_USAGE_STATS="1",
        DO_NOT_TRACK="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HOME=str(home / "hf"),
        VLLM_ASSETS_CACHE=str(assets),
        VLLM_MEDIA_FETCH_MAX_RETRIES="1",  # one attempt: nothing sleeps between retries
        VLLM_PLUGINS="airlock",  # only airlock's general plugin, not others installed beside it
        HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead,
        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join([str(HERE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])),
        PYTHONDONTWRITEBYTECODE="1",
        AIRLOCK_UPSTREAM_RUN=mode,
        AIRLOCK_UPSTREAM_REPORT=str(report),
    )
    if mode == "airlock":
        env["VLLM_MEDIA_CONNECTOR"] = "airlock"
    return env


def _start(mode: str, tree: Path, assets: Path, work: Path, deselect: Dict[str, str]) -> Tuple[Any, Path]:
    report = work / f"{mode}.json"
    log = open(work / f"{mode}.log", "wb")  # closed by _finish
    argv = [sys.executable, "-m", "pytest", MEDIA, "-p", "upstream_plugin", "-p", "no:cacheprovider",
            "-q", "-rfE", "--tb=short", "--durations=8", "-o", "asyncio_default_fixture_loop_scope=function"]
    for node in deselect:
        argv += ["--deselect", node]
    proc = subprocess.Popen(argv, cwd=tree, env=_env(mode, assets, report, work), stdout=log,
                            stderr=subprocess.STDOUT)
    proc.log = log  # type: ignore[attr-defined]
    return proc, report


def _finish(mode: str, proc: Any, report: Path) -> Dict[str, Any]:
    try:
        proc.wait(timeout=600)
    finally:
        proc.log.close()
    log = Path(proc.log.name).read_text(errors="replace")
    assert proc.returncode in (0, 1), f"{mode} run: pytest exited {proc.returncode}\n{log[-4000:]}"
    data: Dict[str, Any] = json.loads(report.read_text())
    data["log"] = log
    found = re.findall(r"(\d+) deselected", log)
    data["deselected"] = int(found[-1]) if found else 0
    return data


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Dict[str, Any]]:
    for tool in ("pytest_asyncio", "tblib"):  # vLLM's tests need them; scripts/vllmenv.sh installs them
        assert importlib.util.find_spec(tool), f"{tool} is not installed in vLLM's test environment"
    work = tmp_path_factory.mktemp("upstream")
    tree = work / "vllm"
    _extract(_sdist(), tree)
    assets = work / "assets"
    _assets(assets)
    deselect, _, _ = _expected()
    # Both runs at once: each is mostly one thread, and most of a run is importing torch and vLLM.
    started = {mode: _start(mode, tree, assets, work, deselect) for mode in ("stock", "airlock")}
    result = {mode: _finish(mode, *started[mode]) for mode in started}
    for r in result.values():
        r["tree"] = tree
    return result


def _by_outcome(outcomes: Dict[str, str]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for node, state in sorted(outcomes.items()):
        out.setdefault(state, []).append(node)
    return out


def _summary(runs: Dict[str, Dict[str, Any]]) -> str:
    return "; ".join(
        f"{mode}: " + ", ".join(f"{len(v)} {k}" for k, v in sorted(_by_outcome(r["outcomes"]).items()))
        for mode, r in runs.items()
    )


def test_deselected_tests_exist(runs: Dict[str, Dict[str, Any]]) -> None:
    """Each deselection names a test of this vLLM version that pytest really left out (a rename
    upstream must not turn a deselection into nothing)."""
    deselect, _, _ = _expected()
    tree: Path = runs["stock"]["tree"]
    for node in deselect:
        path, _, name = node.partition("::")
        assert f"def {name}(" in (tree / path).read_text(), f"{node}: no such test in vllm {VERSION}"
        for r in runs.values():
            assert not any(n.startswith(node) for n in r["outcomes"]), f"{node} ran although deselected"
    for mode, r in runs.items():
        assert r["deselected"] > 0, f"{mode}: pytest deselected nothing"


def test_airlock_run_decodes_through_airlock(runs: Dict[str, Dict[str, Any]]) -> None:
    r = runs["airlock"]
    assert r["registry"] == "airlock.vllm.AirlockMediaConnector"
    swapped = r["swapped"]
    connector = f"{MEDIA.replace('/', '.')}.test_connector"
    image = f"{MEDIA.replace('/', '.')}.test_image"
    audio = f"{MEDIA.replace('/', '.')}.test_audio"
    assert "MediaConnector" in swapped[connector]
    assert {"ImageMediaIO", "MediaConnector"} <= set(swapped[image])
    assert {"AudioMediaIO", "load_audio"} <= set(swapped[audio])
    counts = r["counts"]
    assert counts["ok"] > 50, counts  # images and audio really went through the sandbox
    assert runs["stock"]["counts"] is None


def test_stock_run_as_expected(runs: Dict[str, Dict[str, Any]]) -> None:
    _, _, stock_failing = _expected()
    outcomes = runs["stock"]["outcomes"]
    assert len(outcomes) > 100, _summary(runs)
    failing = {n for n, s in outcomes.items() if s in ("failed", "error")}
    assert failing == set(stock_failing), f"{_summary(runs)}\n{runs['stock']['log'][-6000:]}"


def test_airlock_passes_what_stock_passes(runs: Dict[str, Dict[str, Any]]) -> None:
    """The comparison itself: a test that passes with vLLM's connector passes with airlock's, or is
    listed with its reason; a listed test that passes now must leave the list."""
    _, differ, _ = _expected()
    stock, airlock = runs["stock"]["outcomes"], runs["airlock"]["outcomes"]
    assert set(stock) == set(airlock), "the two runs collected different tests"
    lost = {n for n, s in stock.items() if s == "passed" and airlock[n] != "passed"}
    new = sorted(lost - set(differ))
    stale = sorted(set(differ) - lost)
    lines = [_summary(runs)]
    lines += [f"NEW DIFFERENCE {n}: stock passed, airlock {airlock[n]}" for n in new]
    lines += [f"STALE ENTRY {n}: {'airlock ' + airlock[n] if n in airlock else 'not collected'}" for n in stale]
    assert not new and not stale, "\n".join(lines) + "\n" + runs["airlock"]["log"][-8000:]
