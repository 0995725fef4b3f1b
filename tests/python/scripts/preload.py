# SPDX-License-Identifier: MIT
"""gunicorn --preload, simulated (test_fork.py): the master imports airlock, opens the default
Sanitizer and uses it, then forks 3 workers; each serves 20 requests through airlock.image and
exits through the interpreter's normal shutdown (sys.exit, as a gunicorn worker does), while the
master keeps serving. Prints one JSON line: what each process saw, and what was left over."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

import airlock
import airtest

FILES = [str(p) for p in airtest.corpus_images()]
WORKERS = 3
REQUESTS = 20


def serve(n: int, want: dict[str, tuple[Any, ...]]) -> tuple[int, int]:
    served = wrong = 0
    for i in range(n):
        f = FILES[i % len(FILES)]
        served += 1
        wrong += airtest.sanitize_file(f) != want[f]
    return served, wrong


def main() -> None:
    airlock.default_sanitizer()  # the master opens it before forking, as an app imported by --preload would
    want = {f: airtest.sanitize_file(f) for f in FILES}
    master = airtest.zygotes()
    pipes: dict[int, int] = {}
    for _ in range(WORKERS):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            signal.alarm(60)  # a hang ends the worker, and the master reports it
            served, wrong = serve(REQUESTS, want)
            report = {"pid": os.getpid(), "zygotes": airtest.zygotes(), "served": served, "wrong": wrong}
            os.write(wfd, json.dumps(report).encode())
            os.close(wfd)
            sys.exit(0)
        os.close(wfd)
        pipes[pid] = rfd

    master_served = master_wrong = 0
    exits: dict[int, int] = {}
    deadline = time.monotonic() + 120
    while len(exits) < WORKERS and time.monotonic() < deadline:
        s, w = serve(1, want)
        master_served += s
        master_wrong += w
        for pid in pipes:
            if pid not in exits:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    exits[pid] = os.waitstatus_to_exitcode(status)
    for pid in pipes:
        if pid not in exits:
            os.kill(pid, signal.SIGKILL)
            exits[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    workers = []
    for pid, rfd in pipes.items():
        with os.fdopen(rfd, "rb") as f:
            raw = f.read()
        info: dict[str, Any] = json.loads(raw) if raw else {"pid": pid, "zygotes": [], "served": 0, "wrong": -1}
        info["exit"] = exits[pid]
        workers.append(info)
    worker_zygotes = [z for w in workers for z in w["zygotes"]]
    # A worker's zygote sees its control socket close when the worker exits, and ends.
    left = airtest.wait_gone(worker_zygotes, 10.0)
    master_after = airtest.zygotes()
    leftover = [c for c in airtest.children() if c not in master_after]
    print(
        json.dumps(
            {
                "master_zygotes": master,
                "master_zygotes_after": master_after,
                "master_served": master_served,
                "master_wrong": master_wrong,
                "workers": workers,
                "worker_zygotes_left": left,
                "leftover_children": leftover,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
