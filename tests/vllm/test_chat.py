# SPDX-License-Identifier: MIT
"""vLLM's chat path with the airlock connector: OpenAI-format messages through the real
vllm.renderers.chat_utils.parse_chat_messages and parse_chat_messages_async, with images on a tiny
Qwen2-VL and audio on a tiny Qwen2-Audio (tests/vllm/tiny_models.py), and the speech-to-text
server's decode.

The connector is selected the way a server selects it, by VLLM_MEDIA_CONNECTOR, which vLLM reads
each time a request's parser first needs media. Each test checks that airlock really decoded (the
process's Sanitizer counted the requests, the images carry the connector's io_config) and that
vLLM's stock connector, given the same messages, gives equal pixels and samples.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_models

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import airlock
import airlock.vllm as avllm
from vllm.multimodal.media import MediaWithBytes
from vllm.plugins import load_general_plugins
from vllm.renderers.chat_utils import parse_chat_messages, parse_chat_messages_async

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "corpus" / "images"
AUDIO = ROOT / "corpus" / "audio"

# One of each decoder family vLLM takes, with the conversions that matter: palette with partial
# transparency (composited onto white by both), 4-bit grey, Adam7, JPEG 4:2:0 and EXIF-rotated,
# lossy and lossless WebP, GIF. Each is a file whose pixels Pillow and airlock agree on (not 16-bit
# grey: Pillow clips I;16 to 255 where airlock scales, a difference the manifest tests explain).
IMAGE_FILES = [
    "rgb8.png",
    "pal8_trns_partial.png",
    "grey4.png",
    "adam7_rgb8_40x32.png",
    "jpeg_420.jpg",
    "jpeg_exif_orientation6.jpg",
    "webp/lossy.webp",
    "webp/lossless.webp",
    "gif/global_8bit.gif",
]
# WAV s16 at 16 kHz, FLAC stereo 48 kHz (downmixed), MP3, Ogg Vorbis: (file, OpenAI format name).
AUDIO_FILES = [
    ("wav_s16_mono_16k.wav", "wav"),
    ("flac_s16_stereo_48k.flac", "flac"),
    ("mp3_mono_16k.mp3", "mp3"),
    ("vorbis_stereo_44k.ogg", "ogg"),
]
MODES = ["sync", "async"]


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """--allowed-local-media-path: a directory of copies of the test files, and a symlink in it that
    leads outside (vLLM resolves the path before its check)."""
    d = tmp_path_factory.mktemp("media")
    for name in IMAGE_FILES:
        shutil.copy(IMAGES / name, d / name.replace("/", "_"))
    for name, _ in AUDIO_FILES:
        shutil.copy(AUDIO / name, d / name)
    (d / "escape.png").symlink_to(IMAGES / "rgb8.png")
    return d


@pytest.fixture(scope="module")
def vl_config(media_dir: Path) -> Any:
    return tiny_models.model_config("qwen2vl", media_dir)


@pytest.fixture(scope="module")
def audio_config(media_dir: Path) -> Any:
    return tiny_models.model_config("qwen2audio", media_dir)


@pytest.fixture
def select(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """select(name): VLLM_MEDIA_CONNECTOR for the parses that follow ("airlock" or vLLM's "http").
    The plugins are loaded as a server loads them."""
    load_general_plugins()

    def _select(name: str) -> None:
        monkeypatch.setenv("VLLM_MEDIA_CONNECTOR", name)

    yield _select


def parse(messages: list[dict[str, Any]], config: Any, mode: str) -> tuple[list[Any], dict[str, list[Any]]]:
    """The conversation and the multimodal data vLLM's chat parsing makes of `messages`."""
    if mode == "sync":
        conv, mm, _ = parse_chat_messages(messages, config, content_format="string")
    else:
        conv, mm, _ = asyncio.run(parse_chat_messages_async(messages, config, content_format="string"))
    return conv, dict(mm or {})


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


def ok_count() -> int:
    return int(avllm.sanitizer().counts()["ok"])


def user(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [*parts, {"type": "text", "text": "what is this?"}]}]


def image_messages(media_dir: Path) -> list[dict[str, Any]]:
    """Every image twice: as a data URL, and as a file:// URL under the allowed path."""
    parts: list[dict[str, Any]] = []
    for name in IMAGE_FILES:
        mime = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}[
            name.rsplit(".", 1)[1]
        ]
        parts.append({"type": "image_url", "image_url": {"url": data_url(IMAGES / name, mime)}})
        parts.append({"type": "image_url", "image_url": {"url": (media_dir / name.replace("/", "_")).as_uri()}})
    return user(*parts)


@pytest.mark.parametrize("mode", MODES)
def test_images(mode: str, select: Any, vl_config: Any, media_dir: Path) -> None:
    msgs = image_messages(media_dir)
    n = 2 * len(IMAGE_FILES)

    select("http")
    before = ok_count()
    conv_stock, mm_stock = parse(msgs, vl_config, mode)
    assert ok_count() == before, "the stock connector went through airlock"

    select("airlock")
    conv, mm = parse(msgs, vl_config, mode)
    assert ok_count() == before + n, "vLLM did not decode through the airlock connector"

    assert conv == conv_stock  # the same placeholders, in the same places
    assert set(mm) == {"image"} and len(mm["image"]) == len(mm_stock["image"]) == n
    for i, (got, want) in enumerate(zip(mm["image"], mm_stock["image"])):
        name = IMAGE_FILES[i // 2]
        assert isinstance(got, MediaWithBytes), name
        assert (got.io_config or {}).get("decoder") == "airlock", name
        assert (want.io_config or {}).get("decoder") is None, name
        assert got.original_bytes == want.original_bytes == (IMAGES / name).read_bytes(), name
        assert got.media.mode == want.media.mode == "RGB", name
        assert got.media.size == want.media.size, name
        np.testing.assert_array_equal(np.asarray(got.media), np.asarray(want.media), err_msg=name)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["outside", "symlink", "dotdot"])
def test_file_outside_the_allowed_path_is_refused(
    mode: str, where: str, select: Any, vl_config: Any, media_dir: Path
) -> None:
    """vLLM's own check refuses the path, with the same error as with its stock connector, and
    nothing reaches a decoder."""
    url = {
        "outside": (IMAGES / "rgb8.png").as_uri(),
        "symlink": (media_dir / "escape.png").as_uri(),
        "dotdot": f"file://{media_dir}/../{media_dir.name}/../../{IMAGES.relative_to('/')}/rgb8.png",
    }[where]
    msgs = user({"type": "image_url", "image_url": {"url": url}})
    errors = []
    for name in ("http", "airlock"):
        select(name)
        counts = avllm.sanitizer().counts()
        with pytest.raises(Exception) as info:
            parse(msgs, vl_config, mode)
        assert avllm.sanitizer().counts() == counts, "a refused path reached airlock"
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]
    assert errors[1][0] is ValueError and "allowed-local-media-path" in errors[1][1]


def audio_messages(media_dir: Path) -> list[dict[str, Any]]:
    """Every clip twice: as input_audio (base64 in the message) and as an audio_url file:// URL."""
    parts: list[dict[str, Any]] = []
    for name, fmt in AUDIO_FILES:
        b64 = base64.b64encode((AUDIO / name).read_bytes()).decode()
        parts.append({"type": "input_audio", "input_audio": {"data": b64, "format": fmt}})
        parts.append({"type": "audio_url", "audio_url": {"url": (media_dir / name).as_uri()}})
    return user(*parts)


@pytest.mark.parametrize("mode", MODES)
def test_audio(mode: str, select: Any, audio_config: Any, media_dir: Path) -> None:
    msgs = audio_messages(media_dir)
    n = 2 * len(AUDIO_FILES)

    select("http")
    before = ok_count()
    conv_stock, mm_stock = parse(msgs, audio_config, mode)
    assert ok_count() == before

    select("airlock")
    conv, mm = parse(msgs, audio_config, mode)
    assert ok_count() == before + n, "vLLM did not decode through the airlock connector"

    assert conv == conv_stock
    assert set(mm) == {"audio"} and len(mm["audio"]) == len(mm_stock["audio"]) == n
    for i, ((y, sr), (y_ref, sr_ref)) in enumerate(zip(mm["audio"], mm_stock["audio"])):
        name = AUDIO_FILES[i // 2][0]
        assert sr == sr_ref, name  # the source rate: vLLM's connector never resamples
        assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.ndim == 1, name
        assert y.flags.writeable, name  # the processors may normalise in place, as with vLLM's arrays
        assert y.shape == y_ref.shape, name
        # The same decoders' samples at the source rate (libsndfile, libmpg123, libvorbis on both
        # sides), the mono mix an average of the channels: equal up to the float rounding of that
        # average (airlock sums in double, numpy in float32).
        np.testing.assert_allclose(y, y_ref, rtol=0, atol=2**-23, err_msg=name)


# --------------------------------------------------------------------------------------------------
# Speech to text: vllm/entrypoints/speech_to_text/base/serving.py imports load_audio by name and
# decodes the upload in SpeechToTextBaseServing._decode_and_chunk_speech. That method needs no
# engine: only the model's SpeechToTextConfig and the two limits its __init__ copies from vllm.envs.


@pytest.fixture
def stt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The speech-to-text serving module after the plugin loaded with VLLM_MEDIA_CONNECTOR=airlock
    (register() is what load_general_plugins() calls in a server started with it); the names it
    rebinds are restored afterwards."""
    import vllm.entrypoints.speech_to_text.base.serving as serving
    import vllm.multimodal.utils as mm_utils

    monkeypatch.setattr(serving, "load_audio", serving.load_audio)
    monkeypatch.setattr(mm_utils, "MediaConnector", mm_utils.MediaConnector)
    monkeypatch.setenv("VLLM_MEDIA_CONNECTOR", "airlock")
    load_general_plugins()
    avllm.register()
    yield serving


def stt_server(serving: Any, resample_method: str | None) -> Any:
    """A SpeechToTextBaseServing as far as _decode_and_chunk_speech reads it (its __init__ needs a
    running engine)."""
    import vllm.envs as envs
    from vllm.config import SpeechToTextConfig

    server = object.__new__(serving.SpeechToTextBaseServing)
    server.asr_config = SpeechToTextConfig(sample_rate=16000, audio_resample_method=resample_method)
    server.max_audio_decode_duration_s = envs.VLLM_MAX_AUDIO_DECODE_DURATION_S
    server.max_audio_decode_bytes = envs.VLLM_MAX_AUDIO_DECODE_BYTES
    return server


def test_speech_to_text_load_audio_is_routed(stt: Any) -> None:
    import vllm.multimodal.media.audio as media_audio

    assert stt.load_audio is avllm.load_audio
    # Only that name: vLLM's own load_audio, used by its stock connector, is untouched.
    assert media_audio.load_audio is not avllm.load_audio
    assert media_audio.load_audio.__module__ == "vllm.multimodal.media.audio"


@pytest.mark.parametrize(
    ("name", "resample_method"),
    [
        ("wav_s16_mono_16k.wav", None),  # at the model's rate: no resampling anywhere
        ("flac_s16_stereo_48k.flac", "pyav"),  # decoded at 48 kHz by each, resampled by vLLM
        ("speech_22k.flac", None),  # resampled by the decoder: airlock's against vLLM's (PyAV)
    ],
)
def test_speech_to_text_decode(
    name: str, resample_method: str | None, stt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vllm.multimodal.media.audio import load_audio as stock_load_audio

    data = (AUDIO / name).read_bytes()
    server = stt_server(stt, resample_method)
    before = ok_count()
    chunks, duration = server._decode_and_chunk_speech(data)
    assert ok_count() == before + 1, "the speech-to-text decode did not go through airlock"

    monkeypatch.setattr(stt, "load_audio", stock_load_audio)
    ref_chunks, ref_duration = server._decode_and_chunk_speech(data)
    assert ok_count() == before + 1

    assert len(chunks) == len(ref_chunks) == 1
    y, y_ref = chunks[0], ref_chunks[0]
    assert y.dtype == np.float32 and y.ndim == 1
    if resample_method is None and name.endswith("_16k.wav"):
        np.testing.assert_array_equal(y, y_ref)
        assert duration == ref_duration
        return
    if resample_method is not None:
        # The decoders' samples at 48 kHz agree (test_audio); vLLM's resampler then sees the same input.
        np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-6)
        assert duration == ref_duration
        return
    # Two resamplers: airlock's Kaiser-windowed sinc and FFmpeg's swresample (vLLM's
    # resample_audio_pyav). The same length within a frame; over the band where airlock's filter is
    # flat (to 0.8 of the output's Nyquist frequency, docs/api.md "Downmix and resampling") the same
    # signal to -80 dB (measured: -95 dB); over the full band their transition bands differ
    # (measured: -40 dB, the speech's energy between 6.4 and 8 kHz), so -30 dB there.
    assert abs(len(y) - len(y_ref)) <= 1 and abs(duration - ref_duration) <= 1 / 16000
    m = min(len(y), len(y_ref))
    assert snr_db(y[:m], y_ref[:m], 16000, 0.8 * 8000) < -80
    assert snr_db(y[:m], y_ref[:m], 16000, 8000) < -30


def snr_db(y: np.ndarray, ref: np.ndarray, rate: int, below_hz: float) -> float:
    """The energy of y - ref relative to ref's, in dB, over frequencies up to below_hz."""
    freqs = np.fft.rfftfreq(len(ref), 1 / rate)

    def band(x: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(x.astype(np.float64))
        spectrum[freqs > below_hz] = 0
        return np.fft.irfft(spectrum, len(x))

    a, b = band(y), band(ref)
    return float(10 * np.log10(np.sum((a - b) ** 2) / np.sum(b**2)))


@pytest.mark.parametrize(
    ("name", "code", "cls"),
    [
        ("aifc_oob.aifc", "malformed", airlock.Malformed),
        ("wav_rate_4hz.wav", "out_of_range", airlock.OutOfRange),
    ],
)
def test_speech_to_text_rejects_a_hostile_file(name: str, code: str, cls: type, stt: Any) -> None:
    server = stt_server(stt, None)
    counts = avllm.sanitizer().counts()
    with pytest.raises(ValueError) as info:
        server._decode_and_chunk_speech((AUDIO / name).read_bytes())
    e = info.value
    assert type(e) is avllm.MediaRejected
    assert str(e).startswith(f"Failed to load audio: airlock {code}")
    assert type(e.__cause__) is cls and e.__cause__.name == code
    assert avllm.sanitizer().counts()[code] == counts[code] + 1


def test_speech_to_text_takes_a_file_like_object(stt: Any) -> None:
    """_decode_and_chunk_speech hands load_audio a BytesIO; vLLM's realtime path may hand a path."""
    y, sr = stt.load_audio(io.BytesIO((AUDIO / "wav_s16_mono_16k.wav").read_bytes()), sr=None)
    y2, sr2 = stt.load_audio(AUDIO / "wav_s16_mono_16k.wav", sr=None)
    assert sr == sr2 == 16000
    np.testing.assert_array_equal(y, y2)
