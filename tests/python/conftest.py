# SPDX-License-Identifier: MIT
"""Fixtures shared by the Python tests (scripts/test.sh runs them against the installed wheel).

Small on purpose; each fixture says what it gives. Paths never assume where the clone is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The source tree the tests came from (the directory that holds meson.build)."""
    return ROOT


@pytest.fixture(scope="session")
def corpus() -> Path:
    """corpus/ of the source tree: the generated fixtures and their manifests (images.tsv, audio.tsv, ...)."""
    return ROOT / "corpus"


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """The public conformance corpora: $AIRLOCK_SHARED_CORPUS, else ../shared/corpus-public beside the clone
    (what meson's shared_corpus option defaults to). Tests that need it skip when it is absent."""
    return Path(os.environ.get("AIRLOCK_SHARED_CORPUS", str(ROOT.parent / "shared" / "corpus-public")))


@pytest.fixture(scope="module")
def sanitizer() -> Iterator[Any]:
    """One airlock.Sanitizer with the default options for the whole module, closed at its end."""
    import airlock

    with airlock.Sanitizer() as s:
        yield s


def _children() -> set[int]:
    """Pids of this process's live children (Linux: /proc/self/task/*/children)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return pids


class ProcState:
    """What a test may leak: open descriptors and child processes (the zygote, workers, zombies)."""

    def __init__(self) -> None:
        self.fds = self.count_fds()
        self.children = _children()

    @staticmethod
    def count_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def new_fds(self) -> int:
        """Descriptors open now beyond those open at the snapshot."""
        return self.count_fds() - self.fds

    def new_children(self) -> set[int]:
        """Children alive now that were not at the snapshot."""
        return _children() - self.children


@pytest.fixture
def proc_state() -> Callable[[], ProcState]:
    """A factory: call it for a snapshot of open fds and child pids, later ask it what is new."""
    return ProcState
