# SPDX-License-Identifier: MIT
"""The hostile corpus (corpus/hostile.tsv) through vLLM's chat parsing with the airlock connector.

Every row that airlock refuses with its default options is sent in an OpenAI-format message: as
an image_url data URL, or as input_audio when the manifest's detected type is an audio format.
vLLM must answer it as it answers a bad input: airlock.vllm.MediaRejected, which is vLLM's
VLLMValidationError (HTTP 400) and a ValueError (as Pillow's failures become in vLLM's stock
ImageMediaIO), whose message names airlock's code and whose __cause__ is the airlock.Rejected
subclass the manifest names; never another exception (HTTP 500). Nothing is left behind: no
descriptor, no child process, no file.

Where vLLM maps the exception: vllm/entrypoints/serve/exception_handling/error_response.py,
create_error_response(): VLLMValidationError becomes BadRequestError, HTTPStatus.BAD_REQUEST (and
its "Fallback for raw exceptions not yet migrated to VLLMError" does the same for a plain
ValueError); anything it does not know becomes InternalServerError, 500. The API server's
exception_handler (.../handlers/exception.py) and the serving classes' error paths both go
through it; each test calls it on the exception it got.

Rows with options (opts not "-") are the library's own tests (tests/python/test_hostile.py): a
server's requests carry no airlock options, only the limits vLLM's environment sets.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python" / "scripts"))
import airtest
import tiny_models

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import airlock
import airlock.vllm as avllm
from vllm.entrypoints.serve.exception_handling.error_response import create_error_response
from vllm.exceptions import VLLMValidationError
from vllm.plugins import load_general_plugins
from vllm.renderers.chat_utils import parse_chat_messages, parse_chat_messages_async

pytestmark = airtest.hang_guard(300)

# MP4 and Matroska are sent as audio: the connector's audio path takes their audio track.
AUDIO_TYPES = {"wav", "aiff", "flac", "mp3", "vorbis", "opus", "mp4", "matroska"}

# docs/python.md "Errors": code name -> class.
CLASSES: dict[str, str] = {
    "malformed": "Malformed",
    "type": "TypeNotAllowed",
    "type_mismatch": "TypeMismatch",
    "too_large": "TooLarge",
    "input_too_big": "InputTooBig",
    "unsupported": "Unsupported",
    "empty": "Empty",
    "too_complex": "TooComplex",
    "too_long": "TooLong",
    "out_of_range": "OutOfRange",
    "worker_crash": "WorkerCrash",
    "timeout": "Timeout",
    "memory": "MemoryLimit",
    "seccomp": "SeccompViolation",
    "cpu_limit": "CpuLimit",
    "protocol": "ProtocolViolation",
}

ROWS = [r for r in airtest.hostile_rows() if r.opts == "-" and r.outcome != "ok"]

# The connector ignores ICC profiles unless asked (AIRLOCK_VLLM_ICC=1), as vLLM and Pillow do: the
# rows refused for their profile decode then. They are tested both ways.
ICC_ROWS = [r for r in ROWS if "icc" in r.name.lower()]

# Refused by airlock's defaults but accepted through the connector, on purpose or not; each is
# tested on its own below.
# - flac_constant_bomb_8ch_192k.flac: 13.1M frames of 8 channels. airlock's max_decoded_bytes
#   counts its output, and the connector asks for mono: 52 MB of float32, under vLLM's 256 MiB
#   (VLLM_MAX_AUDIO_DECODE_BYTES), and 68 s, under its 600 s. vLLM's own loader estimates frames x
#   channels x 4 before its downmix (1.7 GB) and refuses it.
ACCEPTED = {"flac_constant_bomb_8ch_192k.flac"}
REFUSED = [r for r in ROWS if r.name not in ACCEPTED]


def kind(row: airtest.HostileRow) -> str:
    """How a client would send it: its detected type's modality (undetected types as images)."""
    return "audio" if row.type in AUDIO_TYPES else "image"


def message(data: bytes, how: str) -> list[dict[str, Any]]:
    b64 = base64.b64encode(data).decode()
    part: dict[str, Any]
    if how == "audio":
        part = {"type": "input_audio", "input_audio": {"data": b64, "format": "wav"}}
    else:
        part = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64}}
    return [{"role": "user", "content": [part, {"type": "text", "text": "describe"}]}]


@pytest.fixture(scope="module")
def configs() -> dict[str, Any]:
    return {"image": tiny_models.model_config("qwen2vl"), "audio": tiny_models.model_config("qwen2audio")}


@pytest.fixture(scope="module")
def large() -> Path:
    return airtest.hostile_large_dir()


@pytest.fixture
def airlock_selected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """VLLM_MEDIA_CONNECTOR=airlock, the process's Sanitizer (and so its zygote) open before the
    test's snapshot, and an empty working and temporary directory: what is in it afterwards was
    written by the request."""
    load_general_plugins()
    monkeypatch.setenv("VLLM_MEDIA_CONNECTOR", "airlock")
    # Both zygotes up before the snapshot: the media one starts with the first MP4 or Matroska input.
    avllm.sanitizer().audio(airtest.CORPUS / "media" / "aac_mono_16k.m4a")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.chdir(scratch)
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    yield scratch


def fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_every_class_is_covered() -> None:
    """Each class of the corpus but apng_lie (whose every row decodes) has a row here."""
    classes = {r.cls for r in airtest.hostile_rows()}
    assert {r.cls for r in REFUSED} == classes - {"apng_lie"}
    assert {kind(r) for r in ROWS} == {"image", "audio"}


@pytest.mark.parametrize("row", REFUSED, ids=[r.id for r in REFUSED])
def test_hostile_row(
    row: airtest.HostileRow,
    configs: dict[str, Any],
    large: Path,
    airlock_selected: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if row in ICC_ROWS:
        monkeypatch.setenv("AIRLOCK_VLLM_ICC", "1")
    p = airtest.resolve(row.path, large)
    assert p is not None, f"{row.path}: cannot read"
    how = kind(row)
    msgs = message(p.read_bytes(), how)
    config = configs[how]

    fds_before, children_before = fds(), set(airtest.children())
    counts = avllm.sanitizer().counts()
    for mode in ("sync", "async"):
        with pytest.raises(Exception) as info:
            if mode == "sync":
                parse_chat_messages(msgs, config, content_format="string")
            else:
                asyncio.run(parse_chat_messages_async(msgs, config, content_format="string"))
        e = info.value
        # The connector's rejection (vLLM's 400), not an airlock exception escaping on its own,
        # and not anything vLLM would answer with 500.
        assert type(e) is avllm.MediaRejected, f"{mode}: {type(e).__name__}: {e}"
        assert isinstance(e, ValueError) and isinstance(e, VLLMValidationError)
        response = create_error_response(e).error
        assert (response.code, response.type) == (400, "BadRequestError"), mode
        assert (e.name, e.limit) == (row.outcome, None if row.limit == "-" else row.limit), mode
        assert str(e).startswith(f"Failed to load {how}: airlock {row.outcome}"), f"{mode}: {e}"
        cause = e.__cause__
        assert type(cause) is getattr(airlock, CLASSES[row.outcome]), f"{mode}: {cause!r}"
        assert isinstance(cause, airlock.Rejected) and cause.name == row.outcome
        assert cause.limit == (None if row.limit == "-" else row.limit), mode
    after = avllm.sanitizer().counts()
    assert after[row.outcome] == counts[row.outcome] + 2, "not refused by airlock, twice"
    assert after["ok"] == counts["ok"]

    assert fds() == fds_before, "a descriptor leaked"
    assert airtest.wait_until(lambda: set(airtest.children()) == children_before, 5.0), (
        f"children before {sorted(children_before)}, after {airtest.describe(airtest.children())}"
    )
    assert list(airlock_selected.iterdir()) == [], "the request wrote a file"


@pytest.mark.parametrize("row", ICC_ROWS, ids=[r.id for r in ICC_ROWS])
def test_icc_rows_decode_when_profiles_are_ignored(
    row: airtest.HostileRow, configs: dict[str, Any], large: Path, airlock_selected: Path
) -> None:
    """The connector's default: the profile is never parsed, so the pixels come back (as vLLM's
    stock connector gives them); test_hostile_row refuses the same rows with AIRLOCK_VLLM_ICC=1."""
    p = airtest.resolve(row.path, large)
    assert p is not None
    counts = avllm.sanitizer().counts()
    _, mm, _ = parse_chat_messages(message(p.read_bytes(), "image"), configs["image"], content_format="string")
    assert mm is not None and len(mm["image"]) == 1
    assert mm["image"][0].io_config["icc"] is False
    assert avllm.sanitizer().counts()["ok"] == counts["ok"] + 1


def test_decoded_bytes_are_counted_after_the_downmix(
    configs: dict[str, Any], airlock_selected: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flac_constant_bomb_8ch_192k.flac: vLLM's stock loader refuses it for VLLM_MAX_AUDIO_DECODE_BYTES
    (frames x channels x 4 before the downmix); the airlock connector counts the mono output and
    gives 13.1M frames, 52 MB. A difference from stock vLLM, reported to the connector's author."""
    msgs = message((airtest.CORPUS / "hostile" / "flac_constant_bomb_8ch_192k.flac").read_bytes(), "audio")
    _, mm, _ = parse_chat_messages(msgs, configs["audio"], content_format="string")
    assert mm is not None
    y, sr = mm["audio"][0]
    assert (y.shape, y.dtype, sr) == ((13107000,), "float32", 192000)

    monkeypatch.setenv("VLLM_MEDIA_CONNECTOR", "http")
    with pytest.raises(ValueError, match="VLLM_MAX_AUDIO_DECODE_BYTES"):
        parse_chat_messages(msgs, configs["audio"], content_format="string")
