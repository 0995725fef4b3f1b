# SPDX-License-Identifier: MIT
"""Ctrl-C during a long sync request (test_signals.py): a timer thread sends this process SIGINT
while the main thread waits on a request that would run for many seconds; the request must end
in KeyboardInterrupt promptly, its worker killed and reaped, and the Sanitizer keep serving.
Prints one JSON line."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

import airlock
import airtest

PNG = (airtest.CORPUS / "images" / "rgb8.png").read_bytes()


def main() -> None:
    slow = airtest.slow_jpeg()
    # Python leaves SIGINT alone when it starts with it ignored (a job started in the background by a
    # non-interactive shell, nohup): install the handler this test is about.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.alarm(90)  # the hang guard: SIGALRM ends the process
    before = set(airtest.zygotes())
    # cpu_ms and timeout_ms lifted far past the signal: only the interrupt can end the request early.
    s = airlock.Sanitizer(cpu_ms=120_000, timeout_ms=120_000, **airtest.SLOW_KW)
    s.image(PNG)
    (zygote,) = set(airtest.zygotes()) - before
    info: dict[str, Any] = {"zygote": zygote}

    def interrupt() -> None:
        info["worker"] = airtest.wait_worker(zygote, 20.0)
        time.sleep(0.3)  # well inside the decode
        info["t_signal"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    t0 = time.monotonic()
    try:
        s.image(slow)
        info["outcome"] = "returned"
    except KeyboardInterrupt:
        info["outcome"] = "KeyboardInterrupt"
    except airlock.AirlockError as e:
        info["outcome"] = e.name
    info["t_end"] = time.monotonic()
    info["request_s"] = info["t_end"] - t0
    w = info.get("worker")
    info["worker_gone"] = w is not None and airtest.wait_until(lambda: w not in airtest.children(zygote), 5.0)
    info["zygote_alive"] = airtest.alive(zygote)
    info["after"] = list(s.image(PNG).shape)
    info["counts"] = s.counts()
    s.close()
    info["zygote_left"] = airtest.wait_gone([zygote], 5.0)
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
