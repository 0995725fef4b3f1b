#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# airlock scan --jobs 2 against airlock.ray with two actors (tests/bench/bench_ray.py; docs/scale.md).
# Uses the Python test environment (scripts/pyenv.sh: Ray pinned there) and the wheel built from this clone.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pyenv.sh
venv=$(airlock_pyenv "${PYTHON:-python3}")
mkdir -p build-py
wheel=$(airlock_wheel "$venv")
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel" >&2
exec "$venv/bin/python" tests/bench/bench_ray.py "$@"
