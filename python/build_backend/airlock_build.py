# SPDX-License-Identifier: MIT
"""The build backend pyproject.toml names: meson-python, with one setting it
cannot take from a static file.

The extension uses the limited API where it can. The buffer protocol entered
the limited API in Python 3.11, so on 3.11 and later one cp311-abi3 wheel is
built; on 3.9 and 3.10 the same source is built for that one version, which
meson-python does when -Dpython.allow_limited_api=false is among the setup
arguments. Passing it here means a plain `pip install .` works on every
supported Python, with no flag to remember.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import mesonpy

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
]

ConfigSettings = Optional[dict[str, Any]]


def _settings(config_settings: ConfigSettings) -> ConfigSettings:
    if sys.version_info >= (3, 11):
        return config_settings
    settings = dict(config_settings or {})
    args = settings.get("setup-args", [])
    args = [args] if isinstance(args, str) else list(args)
    if not any(a.startswith("-Dpython.allow_limited_api=") for a in args):
        args.append("-Dpython.allow_limited_api=false")
    settings["setup-args"] = args
    return settings


def build_wheel(wheel_directory: str, config_settings: ConfigSettings = None,
                metadata_directory: Optional[str] = None) -> str:
    return mesonpy.build_wheel(wheel_directory, _settings(config_settings), metadata_directory)


def build_editable(wheel_directory: str, config_settings: ConfigSettings = None,
                   metadata_directory: Optional[str] = None) -> str:
    return mesonpy.build_editable(wheel_directory, _settings(config_settings), metadata_directory)


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    return mesonpy.build_sdist(sdist_directory, _settings(config_settings))


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    return mesonpy.get_requires_for_build_wheel(_settings(config_settings))


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> list[str]:
    return mesonpy.get_requires_for_build_editable(_settings(config_settings))


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    return mesonpy.get_requires_for_build_sdist(_settings(config_settings))
