#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Python benchmark (docs/performance.md, "Python"): install what the
# package is compared against, build, and run tests/bench/bench_python.py.
# The reference packages (tests/bench/requirements-python.txt) live in a
# cached virtual environment, made anew when that file or the Python
# changes; the checkout's package is installed into it with `pip install .`
# whenever the source differs from the one installed last. Debian's
# python3-pil and python3-numpy are the other Pillow, run by
# /usr/bin/python3; imagemagick and webp make the inputs as bench.sh does.
# Options pass through: -n N rounds, --quick, --markdown FILE,
# --skip-library. AIRLOCK_BENCH_PYTHON picks the venv's Python (python3).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
airlock_deps imagemagick webp python3-pil python3-numpy python3-venv python3-dev
airlock_build build

py=${AIRLOCK_BENCH_PYTHON:-python3}
airlock_python_check "$py"
req=tests/bench/requirements-python.txt
key=$({ "$py" -c 'import sys; print(sys.version)'; cat "$req"; } | sha256sum | cut -c1-12)
venv=${XDG_CACHE_HOME:-$HOME/.cache}/airlock/bench-venv-$key
if [ ! -f "$venv/.requirements-installed" ]; then
	echo "bench-python: making $venv" >&2
	rm -rf "$venv"
	"$py" -m venv "$venv"
	"$venv/bin/python" -m pip install -q --upgrade pip
	"$venv/bin/python" -m pip install -q -r "$req"
	touch "$venv/.requirements-installed"
fi

# The source as it is, committed or not: a change to any file the package could be built from (tracked, staged,
# or new and not ignored) reinstalls; the docs, the benchmarks and the scripts do not.
spec=(. ':!docs' ':!tests/bench' ':!scripts' ':!*.md')
src=$({
	git ls-files -s -- "${spec[@]}"
	git diff -- "${spec[@]}"
	git ls-files -z --others --exclude-standard -- "${spec[@]}" | sort -z | xargs -0r sha256sum
} | sha256sum | cut -c1-64)
if [ "$(cat "$venv/.airlock-source" 2>/dev/null)" != "$src" ]; then
	echo "bench-python: pip install . into $venv" >&2
	# meson's build directory is kept in build-py/bench, so that the next reinstall compiles only what changed.
	"$venv/bin/python" -m pip install -q --force-reinstall --no-deps . -Cbuild-dir=build-py/bench
	echo "$src" >"$venv/.airlock-source"
fi
exec "$venv/bin/python" tests/bench/bench_python.py --build build "$@"
