# SPDX-License-Identifier: MIT
"""What a careless caller does with results, in a process of its own (test_lifetime.py): any of
it that crashes the interpreter fails that test with the exit status. Each step either works or
raises an ordinary exception; none may segfault. Prints "tricky: ok" at the end."""

from __future__ import annotations

import contextlib
import gc
import pickle
import threading
from typing import Any

import airlock
import airtest
import numpy as np

PNG = (airtest.CORPUS / "images" / "rgb8.png").read_bytes()
WAV = (airtest.CORPUS / "audio" / "wav_s16_stereo_8k.wav").read_bytes()


def maybe(fn: Any, *args: Any, **kw: Any) -> None:
    """Runs fn; an exception is an acceptable answer here, a crash is not."""
    with contextlib.suppress(Exception):
        fn(*args, **kw)


def main() -> None:
    # Views of results from a Sanitizer that is closed, deleted and collected.
    s = airlock.Sanitizer()
    img = s.image(PNG)
    snd = s.audio(WAV)
    a, pcm, mv = np.asarray(img), np.asarray(snd), memoryview(img)
    views: list[Any] = [a[::-1], a[:, :, 0], a.T, pcm[::3], mv[1:]]
    saved = [v.copy() if isinstance(v, np.ndarray) else v.tobytes() for v in views]
    del img, snd
    s.close()
    del s
    for _ in range(3):
        gc.collect()
    filler = [bytes(4096) for _ in range(2000)]
    for v, want in zip(views, saved):
        got = v.copy() if isinstance(v, np.ndarray) else v.tobytes()
        assert np.array_equal(got, want) if isinstance(v, np.ndarray) else got == want
    del filler

    # A released memoryview, and the result it came from used after.
    s = airlock.Sanitizer()
    img = s.image(PNG)
    m = memoryview(img)
    m.release()
    try:
        m.tobytes()
        raise AssertionError("a released memoryview still reads")
    except ValueError:
        pass
    assert bytes(img)

    # Methods and attributes of results after their Sanitizer closed.
    s.close()
    maybe(img.encode, "png")
    maybe(img.to_pil)
    _ = (img.width, img.height, img.channels, img.type, img.mime, img.changes, img.layers, img.nbytes)
    maybe(s.image, PNG)
    maybe(s.close)
    maybe(s.counts)
    maybe(getattr, s, "layers")

    # Bad arguments of every kind.
    s = airlock.Sanitizer()
    for bad in (None, 123, 1.5, object(), ["x"], np.zeros((3, 3), dtype=np.float64)[:, ::2], "", "/nonexistent/x.png"):
        maybe(s.image, bad)
        maybe(s.audio, bad)
        maybe(s.sanitize, bad)
    for kw in (
        {"keep_alpha": "yes"},
        {"background": (1, 2)},
        {"background": (256, 0, 0)},
        {"max_pixels": -1},
        {"max_pixels": 1 << 70},
        {"rate": -5},
        {"dtype": "float64"},
        {"expect": "exe"},
        {"allowed_types": ["nope"]},
        {"allowed_types": 7},
        {"nonsense": 1},
        {"timeout_ms": 0},
    ):
        maybe(s.image, PNG, **kw)
        maybe(s.audio, WAV, **kw)
    maybe(airlock.Sanitizer, max_pixels="many")
    maybe(airlock.Sanitizer, bogus=1)
    maybe(pickle.dumps, s)
    img = s.image(PNG)
    maybe(pickle.dumps, img)
    maybe(img.encode, "gif")
    maybe(img.encode, "jpeg", quality=1000)
    maybe(img.encode, "raw")

    # Inputs that other code may change or free: the input is copied before the call returns.
    buf = bytearray(PNG)
    img2 = s.image(buf)
    buf[:] = b"\0" * len(buf)
    del buf
    assert bytes(img2) == bytes(img)
    # numpy's stubs do not declare the buffer protocol for Python 3.11 (collections.abc.Buffer is 3.12).
    arr: Any = np.frombuffer(PNG, dtype=np.uint8)
    assert bytes(s.image(arr)) == bytes(img)
    assert bytes(s.image(memoryview(PNG)[0:])) == bytes(img)

    # Many results alive at once, dropped in a random order, views kept of some.
    rng = np.random.default_rng(1)
    many: list[Any] = [s.image(PNG) for _ in range(300)]
    kept = [np.asarray(r) for r in many[::7]]
    for i in rng.permutation(len(many)):
        many[i] = None
    gc.collect()
    assert all(np.array_equal(k, kept[0]) for k in kept)

    # Results made in one thread, read and dropped in others while the first closes the Sanitizer.
    results = [s.image(PNG) for _ in range(50)]
    errors: list[BaseException] = []

    def reader(rs: list[Any]) -> None:
        try:
            for r in rs:
                assert np.asarray(r).sum() >= 0
                _ = bytes(r)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(results[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    s.close()
    del results
    for t in threads:
        t.join()
    assert not errors, errors

    # The default sanitizer closed while one of its results is viewed.
    r = airlock.image(PNG)
    v = np.asarray(r)
    want = v.copy()
    del r
    airlock.default_sanitizer().close()
    gc.collect()
    assert np.array_equal(v, want)
    maybe(airlock.image, PNG)

    # A Sanitizer never closed, with a result alive at exit.
    leak = airlock.Sanitizer()
    globals()["_alive_at_exit"] = (leak, leak.image(PNG), np.asarray(leak.image(PNG)))
    print("tricky: ok", flush=True)


if __name__ == "__main__":
    main()
