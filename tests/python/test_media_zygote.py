# SPDX-License-Identifier: MIT
"""The media zygote (docs/protocol.md, "The media zygote"): started on the first MP4 or Matroska
request and never before, reached both ways (expect, and forwarded by a base worker), confined like
the base one, failing alone, ended by close(), and a child's own after fork().

The inputs are made here with Debian's ffmpeg CLI (scripts/test.sh installs it); what their samples
must be is tests/python/test_media.py's, against ffmpeg's own decode.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import airtest

airlock = pytest.importorskip("airlock")
pytestmark = airtest.hang_guard(120)

PNG = (airtest.CORPUS / "images" / "rgb8.png").read_bytes()


def _ffmpeg(out: Path, *args: str) -> bytes:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed (scripts/test.sh installs it)"
    subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", *args, "-bitexact", str(out)], check=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("media")
    sine = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1"]
    return {
        "m4a": _ffmpeg(d / "a.m4a", *sine, "-c:a", "aac", "-b:a", "64k"),
        "webm": _ffmpeg(d / "a.webm", *sine, "-c:a", "libopus", "-b:a", "32k"),
        # A video with sound: 10 frames of a test pattern and an AAC track.
        "mp4": _ffmpeg(d / "v.mp4", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", *sine,
                       "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"),
    }


@pytest.fixture
def fresh() -> Iterator[Any]:
    s = airlock.Sanitizer()
    yield s
    s.close()


def _new_media_zygotes(before: set[int]) -> set[int]:
    return set(airtest.media_zygotes()) - before


def test_started_on_first_use_only(fresh: Any, media: dict[str, bytes]) -> None:
    before = set(airtest.media_zygotes())  # other tests' Sanitizers may hold theirs
    fresh.image(PNG)
    fresh.audio(airtest.CORPUS / "audio" / "wav_s16_stereo_8k.wav")
    assert _new_media_zygotes(before) == set(), "an image or audio request started the media zygote"
    snd = fresh.audio(media["m4a"])
    assert (snd.type, snd.rate, snd.channels) == ("mp4", 48000, 1)
    started = _new_media_zygotes(before)
    assert len(started) == 1
    fresh.audio(media["webm"], expect="matroska")
    fresh.audio(media["m4a"])
    assert _new_media_zygotes(before) == started, "a second media request started another media zygote"


def test_confined_like_the_base_zygote(fresh: Any, media: dict[str, bytes]) -> None:
    img = fresh.image(PNG)
    snd = fresh.audio(media["webm"])
    assert snd.layers == img.layers == fresh.layers
    assert {"rlimits", "no_new_privs", "seccomp"} <= snd.layers


def test_both_routes_give_the_same_samples(fresh: Any, media: dict[str, bytes]) -> None:
    import numpy as np

    forwarded = fresh.audio(media["m4a"])  # no expect: a base worker first, then the media zygote
    direct = fresh.audio(media["m4a"], expect="mp4")  # straight to the media zygote
    assert np.array_equal(np.asarray(forwarded), np.asarray(direct))
    with pytest.raises(airlock.TypeMismatch):
        fresh.audio(media["m4a"], expect="matroska")


def test_a_video_is_refused_unless_its_audio_is_asked_for(fresh: Any, media: dict[str, bytes]) -> None:
    with pytest.raises(airlock.Unsupported) as e:
        fresh.sanitize(media["mp4"])
    assert (e.value.type, e.value.mime) == ("mp4", "video/mp4")
    snd = fresh.audio(media["mp4"])
    assert "tracks_dropped" in snd.changes and snd.rate == 48000
    same = fresh.sanitize(media["mp4"], track="audio")
    assert "tracks_dropped" in same.changes and same.frames == snd.frames


def test_off_the_allowlist_no_media_zygote(media: dict[str, bytes]) -> None:
    before = set(airtest.media_zygotes())
    with airlock.Sanitizer(allowed_types=["png", "wav"]) as s:
        with pytest.raises(airlock.TypeNotAllowed) as e:
            s.audio(media["m4a"])
        assert e.value.limit == "allowed_types" and e.value.type == "mp4"
        assert _new_media_zygotes(before) == set(), "a refused type still started the media zygote"


def test_a_media_helper_that_cannot_start_fails_alone(media: dict[str, bytes], tmp_path: Path) -> None:
    os.environ["AIRLOCK_ZYGOTE_MEDIA"] = str(tmp_path / "no-such-helper")
    try:
        s = airlock.Sanitizer()
    finally:
        del os.environ["AIRLOCK_ZYGOTE_MEDIA"]
    with s:
        for kw in ({}, {"expect": "mp4"}):
            with pytest.raises(airlock.HelperError):
                s.audio(media["m4a"], **kw)
        assert s.image(PNG).shape == (7, 11, 3), "the base zygote went down with the media one"
        assert s.counts()["helper"] == 2


def test_close_ends_both(media: dict[str, bytes]) -> None:
    before = airtest.fd_count()
    others = set(airtest.zygotes() + airtest.media_zygotes())
    s = airlock.Sanitizer()
    s.audio(media["m4a"])
    mine = set(airtest.zygotes() + airtest.media_zygotes()) - others
    assert len(mine) == 2 and {airtest.comm(z) for z in mine} == {"airlock-zygote", "airlock-media"}
    s.close()
    assert airtest.wait_gone(mine, 5.0) == []
    assert airtest.fd_count() == before


def test_a_forked_child_starts_its_own(fresh: Any, media: dict[str, bytes]) -> None:
    before = set(airtest.media_zygotes())
    fresh.audio(media["m4a"])
    parent_media = sorted(_new_media_zygotes(before))
    assert len(parent_media) == 1

    def child() -> dict[str, Any]:
        snd = fresh.audio(media["webm"])
        mine = airtest.media_zygotes()
        fresh.close()
        return {"frames": snd.frames, "mine": mine, "gone": airtest.wait_gone(mine, 5.0)}

    code, out = airtest.fork_child(child)
    assert code == 0 and out["frames"] > 0
    assert len(out["mine"]) == 1 and out["mine"] != parent_media and out["gone"] == []
    assert airtest.alive(parent_media[0]) and set(parent_media) <= set(airtest.media_zygotes())
    assert fresh.audio(media["m4a"]).frames > 0


def test_forwarded_without_blocking(fresh: Any, media: dict[str, bytes]) -> None:
    """The asyncio path (airlock_request_fd and _step): a request that a base worker hands on to the
    media zygote changes its descriptors mid-way, and the event loop must follow."""
    import asyncio

    import numpy as np

    want = np.asarray(fresh.audio(media["webm"], expect="matroska"))

    async def both() -> list[Any]:
        return list(await asyncio.gather(fresh.audio_async(media["webm"]), fresh.audio_async(media["m4a"]),
                                         fresh.image_async(PNG)))

    snd, m4a, img = asyncio.run(both())
    assert np.array_equal(np.asarray(snd), want)
    assert m4a.type == "mp4" and img.shape == (7, 11, 3)
