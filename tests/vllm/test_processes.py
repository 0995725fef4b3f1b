# SPDX-License-Identifier: MIT
"""The airlock connector in vLLM's threads and processes.

- Threads: vLLM decodes a request's media in its module-level thread pool
  (vllm.multimodal.media.connector.global_thread_pool, VLLM_MEDIA_LOADING_THREAD_COUNT threads).
  Every thread gets the process's one Sanitizer (airlock.vllm.sanitizer()), so one zygote serves
  them all and its counts add up to the requests made.
- fork: vLLM forks its workers by default (VLLM_WORKER_MULTIPROC_METHOD=fork). A child forked
  after the connector was used decodes through a zygote of its own; the parent's is untouched.
- spawn: `vllm serve --api-server-count N` (N > 1) starts each API server with
  multiprocessing.get_context("spawn") (vllm/v1/utils.py, APIServerProcessManager), and each
  loads the plugins itself (AsyncEngineArgs.__post_init__ calls load_general_plugins(),
  vllm/engine/arg_utils.py). A spawned process that does the same gets the airlock connector from
  the registry, with vLLM's other decoders routed, and its own zygote.
  Running `vllm serve --api-server-count 2` here needs an engine process, which this machine's
  CPU-only vLLM wheel cannot start (no vllm._C); what the API servers do with the connector is
  what the spawned process below does.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python" / "scripts"))
import airtest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import airlock.vllm as avllm
from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY
from vllm.multimodal.media.connector import global_thread_pool
from vllm.plugins import load_general_plugins

pytestmark = airtest.hang_guard(600)

IMAGES = airtest.CORPUS / "images"
AUDIO = airtest.CORPUS / "audio"
FILES = ["rgb8.png", "jpeg_420.jpg", "webp/lossless.webp", "gif/global_8bit.gif", "pal8_trns_partial.png"]


def url(path: Path, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.fixture
def connectors(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """(airlock, stock): the registry's two connectors, with VLLM_MEDIA_CONNECTOR=airlock."""
    load_general_plugins()
    monkeypatch.setenv("VLLM_MEDIA_CONNECTOR", "airlock")
    yield MEDIA_CONNECTOR_REGISTRY.load("airlock"), MEDIA_CONNECTOR_REGISTRY.load("http")


def test_media_thread_pool_shares_one_sanitizer(connectors: tuple[Any, Any]) -> None:
    conn, stock = connectors
    s = avllm.sanitizer()
    zygotes = airtest.zygotes()
    assert len(zygotes) >= 1
    before = s.counts()
    urls = [url(IMAGES / name) for name in FILES] * 8  # 40 images
    audio_urls = [url(AUDIO / "wav_s16_mono_16k.wav"), url(AUDIO / "flac_s16_stereo_48k.flac")] * 4

    async def burst() -> tuple[list[Any], list[Any], set[int]]:
        loop = asyncio.get_running_loop()
        images = asyncio.gather(*(conn.fetch_image_async(u) for u in urls))
        audio = asyncio.gather(*(conn.fetch_audio_async(u) for u in audio_urls))
        # Which Sanitizer vLLM's pool threads see, asked from each of them while the burst runs.
        seen = asyncio.gather(*(loop.run_in_executor(global_thread_pool, lambda: id(avllm.sanitizer())) for _ in urls))
        got_images, got_audio, ids = await asyncio.gather(images, audio, seen)
        return got_images, got_audio, set(ids)

    images, audio, ids = asyncio.run(burst())
    assert ids == {id(s)} and avllm.sanitizer() is s
    # More than one of vLLM's threads ran requests (the pool starts a thread per waiting task).
    assert len(global_thread_pool._threads) > 1
    after = s.counts()
    assert after["ok"] == before["ok"] + len(urls) + len(audio_urls)
    assert {k: v for k, v in after.items() if k != "ok"} == {k: v for k, v in before.items() if k != "ok"}
    assert airtest.zygotes() == zygotes, "a second zygote was started"

    for u, got in zip(urls, images):
        want = stock.fetch_image(u)
        np.testing.assert_array_equal(np.asarray(got.media), np.asarray(want.media))
    for u, (y, sr) in zip(audio_urls, audio):
        y_ref, sr_ref = stock.fetch_audio(u)
        assert sr == sr_ref
        np.testing.assert_allclose(y, y_ref, rtol=0, atol=2**-23)


def test_fork_after_use(connectors: tuple[Any, Any]) -> None:
    """The child decodes with the sync path only: vLLM's async one runs in global_thread_pool, a
    ThreadPoolExecutor created at import, which does not survive fork (its idle-thread count says
    threads wait that the child does not have, so a task queued in the child never runs). That
    hangs with vLLM's stock connector as well (checked by hand with both); vLLM's forked workers
    never load media, and its API servers are spawned."""
    conn, _ = connectors
    png = url(IMAGES / "rgb8.png")
    want = np.asarray(conn.fetch_image(png).media)
    parent = avllm.sanitizer()
    parent_zygotes = set(airtest.zygotes())
    counts = parent.counts()

    def child() -> dict[str, Any]:
        got = conn.fetch_image(png)
        s = avllm.sanitizer()
        return {
            "same": bool(np.array_equal(np.asarray(got.media), want)),
            "new_sanitizer": s is not parent,
            "ok": s.counts()["ok"],
            "zygotes": airtest.zygotes(),
        }

    status, out = airtest.fork_child(child, 60)
    assert status == 0, out.get("error")
    assert out["same"] and out["new_sanitizer"]
    assert out["ok"] == 1  # its own Sanitizer, counting from zero
    assert len(out["zygotes"]) == 1 and not set(out["zygotes"]) & parent_zygotes
    # The parent: the same Sanitizer, zygote and counts, and it still decodes.
    assert avllm.sanitizer() is parent
    assert set(airtest.zygotes()) == parent_zygotes and all(airtest.alive(z) for z in parent_zygotes)
    assert parent.counts() == counts
    np.testing.assert_array_equal(np.asarray(conn.fetch_image(png).media), want)
    assert airtest.wait_gone(out["zygotes"], 10) == []  # the child's zygote ended with it


def spawned(queue: Any, png: str, wav: str) -> None:  # pragma: no cover (runs in the child)
    """What a spawned vLLM API server does with the plugin: load the plugins, then take the
    connector VLLM_MEDIA_CONNECTOR names from the registry."""
    try:
        import vllm.envs as envs
        import vllm.multimodal.utils as mm_utils
        from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY
        from vllm.plugins import load_general_plugins

        load_general_plugins()
        import airlock.vllm as av
        import vllm.entrypoints.speech_to_text.base.serving as stt

        conn = MEDIA_CONNECTOR_REGISTRY.load(envs.VLLM_MEDIA_CONNECTOR)
        image = conn.fetch_image(png)
        y, sr = conn.fetch_audio(wav)
        # vllm.multimodal.utils.fetch_image builds its connector itself: routed by the plugin.
        routed = mm_utils.fetch_image(png)
        queue.put(
            {
                "connector": f"{type(conn).__module__}.{type(conn).__name__}",
                "utils_connector": mm_utils.MediaConnector is av.AirlockMediaConnector,
                "stt_load_audio": stt.load_audio is av.load_audio,
                "pixels": np.asarray(image.media).tolist(),
                "routed_same": bool(np.array_equal(np.asarray(routed.media), np.asarray(image.media))),
                "samples": [float(y.sum()), int(y.shape[0]), int(sr)],
                "ok": av.sanitizer().counts()["ok"],
                "pid": os.getpid(),
                "zygotes": airtest.zygotes(),
            }
        )
    except BaseException:
        queue.put({"error": traceback.format_exc()})


def test_spawned_process_loads_the_plugin(connectors: tuple[Any, Any]) -> None:
    _, stock = connectors
    png = url(IMAGES / "pal8_trns_partial.png")
    wav = url(AUDIO / "wav_s16_mono_16k.wav")
    parent_zygotes = set(airtest.zygotes())
    parent_counts = avllm.sanitizer().counts()

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=spawned, args=(queue, png, wav), name="ApiServer_test")
    proc.start()
    try:
        out = queue.get(timeout=400)
    finally:
        proc.join(60)
        if proc.is_alive():
            proc.kill()
            proc.join()
    assert "error" not in out, out.get("error")
    assert proc.exitcode == 0
    assert out["connector"] == "airlock.vllm.AirlockMediaConnector"
    assert out["utils_connector"] and out["stt_load_audio"]
    assert out["routed_same"]
    assert out["ok"] == 3  # the image, the audio, and the image through vllm.multimodal.utils
    assert np.array_equal(np.array(out["pixels"], dtype=np.uint8), np.asarray(stock.fetch_image(png).media))
    y, sr = stock.fetch_audio(wav)
    assert out["samples"][1:] == [y.shape[0], sr]
    assert out["samples"][0] == pytest.approx(float(y.sum()), abs=1e-3)
    # Its own zygote, gone with it; the parent's untouched.
    assert len(out["zygotes"]) == 1 and not set(out["zygotes"]) & parent_zygotes
    assert airtest.wait_gone(out["zygotes"], 10) == []
    assert set(airtest.zygotes()) == parent_zygotes
    assert avllm.sanitizer().counts() == parent_counts
