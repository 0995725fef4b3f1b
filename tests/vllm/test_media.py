# SPDX-License-Identifier: MIT
"""MP4 and Matroska audio (issue 18's audio part) through the airlock connector against vLLM's own
``fetch_audio``, which hands these containers to PyAV in the server process: every file of
corpus/media.tsv, each one test, on ``data:`` URLs of both connectors. Where airlock decodes, the
same rate and float32 mono samples within MEDIA_ATOL (vLLM's own test of audio from a video uses
1e-4); where it refuses, the exact code, and what vLLM's stock path makes of the same file.

Two bugs of vLLM 0.34's PyAV path (vllm/multimodal/media/audio.py, load_audio_pyav) show here, and
are asserted as they are, so that a vLLM that fixes them fails this test and is noticed:
- integer sample formats (ALAC, FLAC: s16, s16p, s32, s32p) come back unscaled: ``to_ndarray()``
  gives the integers and ``astype(np.float32)`` keeps them, so 16-bit audio spans +-32768 and
  24-bit FLAC or ALAC +-2^31 where a model expects [-1, 1]. vLLM's samples are airlock's times
  2^15 or 2^31;
- a packed (interleaved) multi-channel format (FLAC in MP4 decodes to packed s32) comes back
  as one channel of channels x frames samples, left and right interleaved, twice as long.
"""

from __future__ import annotations

import base64
import csv
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python" / "scripts"))
import airlock
import airtest

# PyAV's wheels bundle an FFmpeg of their own; its float decoders and the mean over channels (float32
# there, float64 in airlock) differ from Debian's FFmpeg in the last bits.
MEDIA_ATOL = 1e-4

MANIFEST = airtest.CORPUS / "media.tsv"

# ffprobe's sample formats whose samples vLLM's PyAV path leaves as integers, and their bits.
INT_BITS = {"s16": 16, "s16p": 16, "s32": 32, "s32p": 32}


def _rows() -> list[dict[str, str]]:
    names = ["path", "type", "outcome_any", "outcome_audio", "rate", "channels", "frames", "sample_fmt", "changes",
             "mime", "description"]
    with MANIFEST.open() as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return [dict(zip(names, r)) for r in csv.reader(lines, delimiter="\t")]


ROWS = _rows()


def _url(rel: str) -> str:
    data = (airtest.ROOT / rel).read_bytes()
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def _try(fn: Any, *args: Any) -> tuple[Any, BaseException | None]:
    try:
        return fn(*args), None
    except Exception as e:  # every outcome is compared, the exception types included
        return None, e


def test_the_manifest_is_read() -> None:
    assert len(ROWS) >= 20 and all(r["path"].startswith("corpus/media/") for r in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r["path"].rsplit("/", 1)[-1] for r in ROWS])
def test_media_audio(row: dict[str, str], stock: Any, airlock_conn: Any) -> None:
    url = _url(row["path"])
    a, a_err = _try(airlock_conn.fetch_audio, url)
    s, s_err = _try(stock.fetch_audio, url)
    if row["outcome_audio"] == "ok":
        assert a_err is None, f"airlock: {a_err!r}"
        ay, asr = a
        assert ay.dtype == np.float32 and ay.ndim == 1
        assert (asr, len(ay)) == (int(row["rate"]), int(row["frames"])), "not ffmpeg's rate and length"
        assert s_err is None, f"stock vLLM refuses a file airlock decodes: {s_err!r}"
        sy, ssr = s
        assert ssr == asr
        fmt, channels = row["sample_fmt"], int(row["channels"])
        if fmt not in INT_BITS:
            assert len(sy) == len(ay)
            np.testing.assert_allclose(ay, sy, rtol=0, atol=MEDIA_ATOL)
            return
        scale = float(2 ** (INT_BITS[fmt] - 1))
        if not fmt.endswith("p") and channels > 1:
            # vLLM's second bug: the interleaved samples as one channel. airlock's own interleaved output,
            # not downmixed, scaled, is what vLLM returns.
            with airlock.Sanitizer() as s_:
                want = np.asarray(s_.audio(airtest.ROOT / row["path"], dtype="float32")).reshape(-1)
            assert len(sy) == channels * len(ay) == len(want)
        else:
            want = np.asarray(ay, dtype=np.float64)
            assert len(sy) == len(ay)
        # vLLM's first bug: unscaled integers. Equal to airlock's samples times 2^(bits-1).
        np.testing.assert_allclose(sy, want * scale, rtol=0, atol=MEDIA_ATOL * scale)
        assert np.abs(sy).max() > 1.0, "vLLM scaled its integers now: drop the bug from this test"
        return
    # Refused: a MediaRejected naming the manifest's code, which vLLM answers with 400.
    assert a_err is not None, "airlock decoded a file the manifest says it refuses"
    assert isinstance(a_err, ValueError) and isinstance(a_err.__cause__, airlock.Rejected), repr(a_err)
    assert a_err.__cause__.name == row["outcome_audio"]
    if row["mime"] != "-":
        assert a_err.__cause__.mime == row["mime"]
