# SPDX-License-Identifier: MIT
"""pytest plugin loaded (``-p upstream_plugin``) into the subprocess that runs vLLM's own media tests.

Both runs: every test's outcome is written, by node id, to the JSON file named by
``AIRLOCK_UPSTREAM_REPORT``, so the caller compares runs test by test without parsing pytest's output.

The airlock run (``AIRLOCK_UPSTREAM_RUN=airlock``): vLLM's tests build ``MediaConnector()``,
``ImageMediaIO()`` and ``AudioMediaIO()`` themselves and call ``load_audio`` by name, so
``VLLM_MEDIA_CONNECTOR`` alone would change nothing they decode. This plugin therefore

1. loads vLLM's general plugins as a vLLM process does (``vllm.plugins.load_general_plugins``, which
   finds airlock through its ``vllm.general_plugins`` entry point and runs ``airlock.vllm.register``:
   the registry entry and the routing of ``vllm.multimodal.utils``), and checks that ``"airlock"`` in
   ``MEDIA_CONNECTOR_REGISTRY`` is airlock's connector;
2. once collection is done, rebinds in each collected test module the names bound to vLLM's classes:
   ``MediaConnector``, ``ImageMediaIO``, ``AudioMediaIO`` and ``load_audio`` become airlock's
   (``load_audio`` is what the plugin routes for the speech-to-text server). The tests' reference
   decoders (``load_audio_soundfile``, ``load_audio_torchcodec``, Pillow) stay vLLM's and Pillow's.

What was rebound, and airlock's request counts at the end, go into the report so the caller can prove
that the airlock run decoded through airlock.
"""

from __future__ import annotations

import json
import os
from types import ModuleType
from typing import Any, Dict, List

import pytest

_SWAP = {
    "MediaConnector": "AirlockMediaConnector",
    "ImageMediaIO": "AirlockImageMediaIO",
    "AudioMediaIO": "AirlockAudioMediaIO",
    "load_audio": "load_audio",
}

_report: Dict[str, Any] = {"outcomes": {}, "swapped": {}, "registry": None, "counts": None}


def _airlock_run() -> bool:
    return os.environ.get("AIRLOCK_UPSTREAM_RUN") == "airlock"


def _stock() -> Dict[str, Any]:
    from vllm.multimodal.media import AudioMediaIO, ImageMediaIO, MediaConnector
    from vllm.multimodal.media.audio import load_audio

    return {
        "MediaConnector": MediaConnector,
        "ImageMediaIO": ImageMediaIO,
        "AudioMediaIO": AudioMediaIO,
        "load_audio": load_audio,
    }


def pytest_configure(config: pytest.Config) -> None:
    if not _airlock_run():
        return
    from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY
    from vllm.plugins import load_general_plugins

    load_general_plugins()
    import airlock.vllm

    connector = MEDIA_CONNECTOR_REGISTRY.load(os.environ["VLLM_MEDIA_CONNECTOR"])
    _report["registry"] = f"{type(connector).__module__}.{type(connector).__qualname__}"
    if not isinstance(connector, airlock.vllm.AirlockMediaConnector):
        raise pytest.UsageError("VLLM_MEDIA_CONNECTOR does not select airlock's connector")


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    # vLLM's root conftest frees GPU memory and distributed state after every test unless the test is
    # marked skip_global_cleanup, which vLLM gives its CPU-only unit tests (test_image.py is marked whole).
    # These media tests start no engine and no distributed group; the cleanup only costs time.
    for item in items:
        item.add_marker(pytest.mark.skip_global_cleanup)


def pytest_collection_finish(session: pytest.Session) -> None:
    if not _airlock_run():
        return
    import airlock.vllm

    stock = _stock()
    modules: Dict[str, ModuleType] = {}
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None:
            modules[module.__name__] = module
    for name, module in sorted(modules.items()):
        swapped: List[str] = []
        for attr, replacement in _SWAP.items():
            if getattr(module, attr, None) is stock[attr]:
                setattr(module, attr, getattr(airlock.vllm, replacement))
                swapped.append(attr)
        _report["swapped"][name] = swapped


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcomes: Dict[str, str] = _report["outcomes"]
    previous = outcomes.get(report.nodeid)
    if report.when == "call" or previous is None or previous == "passed":
        if report.passed:
            state = "passed" if previous in (None, "passed") else previous
        elif report.skipped:
            state = "skipped"
        else:
            state = "failed" if report.when == "call" else "error"
        outcomes[report.nodeid] = state


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get("AIRLOCK_UPSTREAM_REPORT")
    if not path:
        return
    if _airlock_run():
        import airlock.vllm

        _report["counts"] = airlock.vllm.sanitizer().counts()
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_report, f, indent=1, sort_keys=True)
