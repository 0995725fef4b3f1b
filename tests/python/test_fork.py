# SPDX-License-Identifier: MIT
"""fork(): a Sanitizer inherited over fork works in the child on a zygote of its own, and
whatever the child does with it (use and close, close unused, drop it, exit without closing)
never touches the parent's zygote, even with a request in flight in another thread of the parent
at the moment of the fork. multiprocessing with fork and spawn; gunicorn's --preload simulated
(scripts/preload.py). Every child runs under an alarm and a deadline: a hang fails, not hangs.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(240)

PNG = (airtest.CORPUS / "images" / "rgb8.png").read_bytes()
JPEG = (airtest.CORPUS / "images" / "jpeg_420.jpg").read_bytes()


@pytest.fixture
def opened() -> Iterator[tuple[Any, int]]:
    """A Sanitizer able to run the slow input, used once, and the zygote it started."""
    s, zygote = airtest.open_sanitizer(**airtest.SLOW_KW)
    yield s, zygote
    s.close()
    assert airtest.wait_gone([zygote], 5.0) == [], "close() left the zygote running"


def _parent_intact(s: Any, zygote: int, zygotes_before: set[int]) -> None:
    """The parent's zygote is the same process, still serving, and no zygote came or went."""
    assert airtest.alive(zygote)
    assert set(airtest.zygotes()) == zygotes_before
    assert s.image(PNG).shape == (7, 11, 3)
    img = s.image(JPEG)
    assert img.shape == (32, 40, 3)
    assert set(airtest.zygotes()) == zygotes_before


def test_request_in_flight_at_fork(opened: tuple[Any, int]) -> None:
    s, zygote = opened
    slow = airtest.slow_jpeg()
    want = airtest.digest(s.image(PNG))
    zygotes_before = set(airtest.zygotes())
    inflight: dict[str, Any] = {}

    def slow_request() -> None:
        try:
            s.image(slow, timeout_ms=3000)
            inflight["name"] = "ok"
        except airlock.AirlockError as e:
            inflight["name"] = e.name

    t = threading.Thread(target=slow_request)
    t.start()
    worker = airtest.wait_worker(zygote)
    assert worker is not None, "the slow request has no worker"

    def child() -> dict[str, Any]:
        mine_before = airtest.zygotes()
        img = s.image(PNG)
        mine = airtest.zygotes()
        d = airtest.digest(img)
        s.close()
        return {
            "before": mine_before,
            "zygotes": mine,
            "digest": d,
            "left": airtest.wait_gone(mine, 5.0),
            "children": airtest.children(),
        }

    code, out = airtest.fork_child(child)
    assert code == 0
    assert out["before"] == [], "the child started with a zygote"
    assert len(out["zygotes"]) == 1 and out["zygotes"][0] != zygote
    assert out["digest"] == want
    assert out["left"] == [] and out["children"] == [], "the child's close() left processes"
    # The parent's request was not disturbed: it ends on its own timeout, in its own worker.
    t.join(timeout=30)
    assert not t.is_alive()
    assert inflight["name"] == "timeout"
    _parent_intact(s, zygote, zygotes_before)


@pytest.mark.parametrize("how", ["close", "close_twice", "del", "nothing"])
def test_child_ends_without_using(opened: tuple[Any, int], how: str) -> None:
    s, zygote = opened
    zygotes_before = set(airtest.zygotes())
    spares = airtest.settled_children(zygote)

    def child() -> dict[str, Any]:
        nonlocal s
        if how.startswith("close"):
            s.close()
            if how == "close_twice":
                s.close()
        elif how == "del":
            del s
            gc.collect()
        return {"children": airtest.children()}

    code, out = airtest.fork_child(child)
    assert code == 0
    assert out["children"] == [], "the child started processes it did not need"
    # Not one of the parent zygote's processes was touched: the same spares wait there.
    assert airtest.children(zygote) == spares
    _parent_intact(s, zygote, zygotes_before)


def test_child_exits_without_closing(opened: tuple[Any, int]) -> None:
    s, zygote = opened
    zygotes_before = set(airtest.zygotes())

    def child() -> dict[str, Any]:
        img = s.image(JPEG)
        return {"zygotes": airtest.zygotes(), "shape": list(img.shape)}

    code, out = airtest.fork_child(child)
    assert code == 0 and out["shape"] == [32, 40, 3]
    assert len(out["zygotes"]) == 1 and out["zygotes"][0] != zygote
    # The child's zygote sees its control socket close when the child exits, and ends.
    assert airtest.wait_gone(out["zygotes"], 10.0) == []
    _parent_intact(s, zygote, zygotes_before)


def test_pickling_is_refused() -> None:
    with airlock.Sanitizer() as s, pytest.raises(TypeError):
        pickle.dumps(s)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12: fork() with threads running
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_pool(method: str) -> None:
    files = [str(p) for p in airtest.corpus_images()]
    assert len(files) >= 8
    # The parent uses the default Sanitizer first: a fork child inherits it.
    want = [airtest.sanitize_file(f) for f in files]
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        got = pool.map_async(airtest.sanitize_file_pids, files * 3).get(timeout=120)
        pids = {p for _, p, _ in got}
        child_zygotes = {z for _, _, zs in got for z in zs}
    assert [r for r, _, _ in got] == want * 3
    assert 1 <= len(pids) <= 2 and os.getpid() not in pids
    assert len(child_zygotes) == len(pids), "a pool process ran other than one zygote"
    assert not child_zygotes & set(airtest.zygotes()), "a pool process used the parent's zygote"
    # The pool's processes are terminated on exit; their zygotes follow.
    assert airtest.wait_gone(pids | child_zygotes, 10.0) == []
    assert airtest.sanitize_file(files[0]) == want[0]


def test_gunicorn_preload() -> None:
    """scripts/preload.py: the master opens the default Sanitizer and uses it, forks 3 workers
    that each serve 20 requests through airlock.image and exit through the interpreter's normal
    shutdown, and keeps serving meanwhile."""
    p = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(airtest.SCRIPTS / "preload.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    out = json.loads(p.stdout.strip().splitlines()[-1])
    master = out["master_zygotes"]
    assert len(master) == 1
    assert out["master_zygotes_after"] == master, "the master's zygote changed"
    assert out["master_served"] > 0 and out["master_wrong"] == 0
    seen = set()
    for w in out["workers"]:
        assert w["exit"] == 0, w
        assert w["wrong"] == 0 and w["served"] == 20, w
        assert len(w["zygotes"]) == 1 and w["zygotes"][0] not in master, w
        seen.add(w["zygotes"][0])
    assert len(seen) == 3
    assert out["worker_zygotes_left"] == [], "a worker's zygote outlived it"
    assert out["leftover_children"] == [], "the master has children besides its zygote"
    # The master is gone now; its zygote and every worker's went with it.
    assert airtest.wait_gone(master + sorted(seen), 10.0) == []
