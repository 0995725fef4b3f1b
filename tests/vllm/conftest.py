# SPDX-License-Identifier: MIT
"""Session set-up for the tests against the real vLLM (issue 17; scripts/vllmenv.sh makes the
environment, scripts/test.sh runs them there). vLLM is never stubbed: it is imported as
installed, and the airlock connector is found the way a server finds it, through the
``vllm.general_plugins`` entry point of the installed wheel.

Before vLLM is imported: no hub access (``HF_HUB_OFFLINE=1``) and a private ``HF_HOME`` and
``VLLM_ASSETS_CACHE`` under a temporary directory, so no test reads or writes the user's caches.
If the entry point is missing, or loading the plugins does not register "airlock", every test
fails with that reason (a session fixture every test uses), never skips.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

_TMP = Path(tempfile.mkdtemp(prefix="airlock-vllm-tests-"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HOME"] = str(_TMP / "hf")
os.environ["VLLM_ASSETS_CACHE"] = str(_TMP / "vllm-assets")
os.environ["VLLM_CACHE_ROOT"] = str(_TMP / "vllm-cache")
os.environ["VLLM_CONFIG_ROOT"] = str(_TMP / "vllm-config")
# vLLM's usage statistics would otherwise be written under the user's config directory.
os.environ["VLLM_NO_USAGE_STATS"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
# The selection of a connector is each test's to make; a value from the caller's shell would
# change what vllm.multimodal.utils decodes with.
os.environ.pop("VLLM_MEDIA_CONNECTOR", None)
os.environ.pop("VLLM_PLUGINS", None)

ENTRY_POINT_GROUP = "vllm.general_plugins"
ENTRY_POINT = ("airlock", "airlock.vllm:register")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_TMP, ignore_errors=True)


def _plugin_problem() -> str | None:
    """Why the airlock connector cannot be found as a server would find it, or None."""
    from importlib.metadata import entry_points

    eps = [(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    if ENTRY_POINT not in eps:
        return (
            f"the installed airlock has no {ENTRY_POINT_GROUP} entry point "
            f"{ENTRY_POINT[0]} = {ENTRY_POINT[1]!r} (found: {eps}); is the wheel installed in this environment?"
        )
    from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY
    from vllm.plugins import load_general_plugins

    load_general_plugins()
    if "airlock" not in MEDIA_CONNECTOR_REGISTRY.name2class:
        names = sorted(MEDIA_CONNECTOR_REGISTRY.name2class)
        return f"vllm.plugins.load_general_plugins() did not register 'airlock' ({names})"
    return None


@pytest.fixture(scope="session", autouse=True)
def airlock_plugin() -> None:
    """Every test depends on this: the connector registered through the entry point."""
    problem = _plugin_problem()
    if problem is not None:
        pytest.fail(f"airlock vLLM plugin not found: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def repo() -> Path:
    """The checkout the tests came from (the directory that holds meson.build)."""
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared beside the checkout (CI has it): corpus-public/ and the design notes."""
    return Path(os.environ.get("AIRLOCK_SHARED", str(ROOT.parent / "shared")))


@pytest.fixture(scope="session")
def stock() -> Any:
    """vLLM's own MediaConnector with its defaults: the reference every comparison is against."""
    from vllm.multimodal.media import MediaConnector

    return MediaConnector()


@pytest.fixture(scope="session")
def airlock_conn(airlock_plugin: None) -> Any:
    """The airlock connector as vLLM's registry gives it by name (after the plugins loaded)."""
    from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY

    conn = MEDIA_CONNECTOR_REGISTRY.load("airlock")
    assert type(conn).__module__ == "airlock.vllm", type(conn)
    return conn


@pytest.fixture
def vllm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """monkeypatch for vLLM's environment variables: vllm.envs caches nothing it reads lazily, but
    some versions cache; the cache is cleared before and after."""
    import vllm.envs as envs

    clear = getattr(envs, "disable_envs_cache", None) or getattr(
        getattr(envs, "__getattr__", None), "cache_clear", None
    )
    if clear is not None:
        clear()
    yield monkeypatch
    monkeypatch.undo()
    if clear is not None:
        clear()
