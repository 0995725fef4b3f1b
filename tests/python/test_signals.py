# SPDX-License-Identifier: MIT
"""Signals and the interpreter's end, each in a child process of its own: SIGINT during a long
sync request raises KeyboardInterrupt promptly and kills and reaps that request's worker
(scripts/sigint.py); the interpreter ends with requests in flight in daemon threads with no
hang, no crash and no process left behind (scripts/shutdown.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(240)


def run_script(name: str, *args: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    airtest.hostile_large_dir()  # made here, not inside the child's hang guard
    try:
        p = subprocess.run(
            [sys.executable, "-X", "faulthandler", str(airtest.SCRIPTS / name), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{name} {' '.join(args)} hung ({timeout} s): {e.stdout!r} {e.stderr!r}")
    lines = p.stdout.strip().splitlines()
    out = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return p, out


def test_sigint_during_a_sync_request() -> None:
    p, out = run_script("sigint.py", timeout=120)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert out["worker"] is not None, "the request never reached a worker"
    assert out["outcome"] == "KeyboardInterrupt"
    # The request could have run for 120 s; pyapi.md promises ~0.2 s. 2 s is the hang guard.
    latency = out["t_end"] - out["t_signal"]
    assert latency < 2.0, f"KeyboardInterrupt {latency:.2f} s after SIGINT"
    assert out["worker_gone"], "the interrupted request's worker was not killed and reaped"
    assert out["counts"]["cancelled"] == 1 and out["counts"]["ok"] == 2  # the warm-up and the one after
    assert out["zygote_alive"] and out["after"] == [7, 11, 3]
    assert out["zygote_left"] == []


@pytest.mark.parametrize("mode", ["return", "exit", "unclosed"])
def test_shutdown_with_requests_in_flight(mode: str) -> None:
    p, out = run_script("shutdown.py", mode, timeout=60)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert "Fatal Python error" not in p.stderr, p.stderr
    assert out["ready"], "the slow requests never reached their workers"
    assert len(out["zygotes"]) == (3 if mode == "unclosed" else 2)
    assert len(out["workers"]) >= 3
    assert set(out["zygotes"]) <= set(out["tree"])
    # The zygotes see their control sockets close when the process ends, and end with their
    # workers. An orphan's zygote, waiting for an init that does not reap, counts as gone.
    left = airtest.wait_gone(out["tree"], 10.0)
    assert left == [], f"left running: {[(pid, airtest.comm(pid)) for pid in left]}"
