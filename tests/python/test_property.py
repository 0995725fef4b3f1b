# SPDX-License-Identifier: MIT
"""Property tests (hypothesis): what holds for every input, not just the corpus.

- Any bytes at all either come back as a well-formed result or raise a Rejected
  subclass: never a crash, an internal error or a message that echoes the input.
- Small random pictures written by Pillow (the independent encoder) come back
  pixel for pixel, and as the array that was drawn.
- A per-call limit and the Sanitizer's combine as the stricter of the two.
"""

from __future__ import annotations

import io
from typing import Any

import airlock
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PIL = pytest.importorskip("PIL.Image")

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _png(arr: np.ndarray[Any, Any]) -> bytes:
    buf = io.BytesIO()
    PIL.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _check_result(r: airlock.Image | airlock.Audio) -> None:
    """A result's buffer is exactly as long as its shape says."""
    view = memoryview(r)
    assert view.readonly
    n = 1
    for d in view.shape or ():
        n *= d
    assert view.nbytes == n * view.itemsize == r.nbytes


@SETTINGS
@given(data=st.binary(min_size=1, max_size=4096))
def test_any_bytes_are_a_result_or_a_rejection(sanitizer: airlock.Sanitizer, data: bytes) -> None:
    try:
        r = sanitizer.sanitize(data)
    except airlock.Rejected as e:
        assert isinstance(e, ValueError)
        assert airlock.error_class(e.code) is type(e)
        if len(data) >= 8:
            assert data not in str(e).encode("utf-8", "replace")
        return
    _check_result(r)


def _mutate(base: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(base)
    for pos, val in edits:
        b[pos % len(b)] = val
    return bytes(b)


_BASE_PNG = _png(np.arange(16 * 12 * 3, dtype=np.uint8).reshape(16, 12, 3))


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=8))
def test_corrupted_png_is_a_result_or_a_rejection(sanitizer: airlock.Sanitizer, edits: list[tuple[int, int]]) -> None:
    data = _mutate(_BASE_PNG, edits)
    try:
        img = sanitizer.image(data)
    except airlock.Rejected as e:
        assert e.name in {"malformed", "type", "too_large", "unsupported", "too_complex"}
        return
    _check_result(img)
    assert img.shape[2] == 3


@SETTINGS
@given(
    h=st.integers(1, 24),
    w=st.integers(1, 24),
    mode=st.sampled_from(["RGB", "RGBA", "L"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_png_comes_back_as_drawn(sanitizer: airlock.Sanitizer, h: int, w: int, mode: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    arr = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
    if mode == "RGBA":
        arr[..., 3] = 255  # opaque: the flattened RGB must equal the drawn RGB
    src = arr[..., 0] if c == 1 else arr
    img = sanitizer.image(_png(src), keep_alpha=(mode == "RGBA"))
    got = np.asarray(img)
    want = np.repeat(arr, 3, axis=2) if c == 1 else arr
    assert got.shape == want.shape
    assert np.array_equal(got, want)


@SETTINGS
@given(ctx_limit=st.integers(1, 600), call_limit=st.integers(1, 600), h=st.integers(1, 24), w=st.integers(1, 24))
def test_limits_combine_as_the_stricter(ctx_limit: int, call_limit: int, h: int, w: int) -> None:
    data = _png(np.zeros((h, w, 3), dtype=np.uint8))
    with airlock.Sanitizer(max_pixels=ctx_limit) as s:
        try:
            img = s.image(data, max_pixels=call_limit)
        except airlock.TooLarge as e:
            assert h * w > min(ctx_limit, call_limit)
            assert e.limit == "max_pixels"
        else:
            assert h * w <= min(ctx_limit, call_limit)
            assert img.shape == (h, w, 3)
