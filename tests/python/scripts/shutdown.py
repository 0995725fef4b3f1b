# SPDX-License-Identifier: MIT
"""Interpreter shutdown with requests in flight in daemon threads (test_signals.py): threads run
slow requests on a Sanitizer and small ones through the default sanitizer; once workers are at
work, the main thread prints every pid of its process tree and ends (MODE: "return" from main,
"exit" through sys.exit, "unclosed" leaving a second Sanitizer open, used once). The test checks the
exit status, the time it took and that every printed pid is gone."""

from __future__ import annotations

import json
import os
import sys
import threading

import airlock
import airtest

PNG = (airtest.CORPUS / "images" / "rgb8.png").read_bytes()


def main(mode: str) -> None:
    slow = airtest.slow_jpeg()
    before = set(airtest.zygotes())
    s = airlock.Sanitizer(cpu_ms=120_000, timeout_ms=120_000, **airtest.SLOW_KW)
    s.image(PNG)
    (zygote,) = set(airtest.zygotes()) - before
    if mode == "unclosed":
        other = airlock.Sanitizer()
        other.image(PNG)
        globals()["_unclosed"] = other

    def slow_loop() -> None:
        while True:
            try:
                s.image(slow)
            except airlock.AirlockError:
                pass

    def small_loop() -> None:
        while True:
            airlock.image(PNG)

    for target in (slow_loop, slow_loop, slow_loop, small_loop):
        threading.Thread(target=target, daemon=True).start()
    # Every zygote up (the default sanitizer's opens on its thread's first call), slow workers busy.
    zygotes = 3 if mode == "unclosed" else 2
    ok = airtest.wait_until(lambda: len(airtest.workers(zygote)) >= 3 and len(airtest.zygotes()) == zygotes, 20.0)
    tree = airtest.descendants()
    print(
        json.dumps(
            {
                "pid": os.getpid(),
                "zygotes": airtest.zygotes(),
                "workers": airtest.workers(zygote),
                "tree": tree,
                "ready": ok,
            }
        ),
        flush=True,
    )
    if mode == "exit":
        sys.exit(0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "return")
