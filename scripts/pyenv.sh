# SPDX-License-Identifier: MIT
# Sourced by test.sh: the Python side of the test run. A virtual environment
# cached per interpreter version and requirement list, the wheel built once
# per run (meson's build directory kept in build-py/ of this clone), and the
# checks run against the installed wheel, never the source tree.

# What the Python tests and checks use, from PyPI. Pinned: the cache key is
# this list, so a change here makes a new environment.
AIRLOCK_PY_REQUIREMENTS=(
	"pytest==9.2.0"
	"numpy==2.4.6"
	"pillow==13.0.0"
	"ruff==0.17.6"
	"mypy==2.4.1"
	"hypothesis==6.170.17"
	"pytest-timeout==2.4.0"
)

# Prints the cached environment's directory, creating it when missing:
# ${XDG_CACHE_HOME:-$HOME/.cache}/airlock/venv-<version>-<hash of interpreter and requirements>.
airlock_pyenv() {
	local py=$1
	local ver key dir
	ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || return 1
	key=$({
		"$py" -c 'import sys; print(sys.version, sys.executable)'
		printf '%s\n' "${AIRLOCK_PY_REQUIREMENTS[@]}"
	} | sha256sum | cut -c1-12)
	dir="${XDG_CACHE_HOME:-$HOME/.cache}/airlock/venv-$ver-$key"
	# .complete is written last: an environment cut short by a failure is made again.
	if [ ! -f "$dir/.complete" ]; then
		rm -rf "$dir"
		mkdir -p "$(dirname "$dir")"
		"$py" -m venv "$dir" >&2 || return 1
		"$dir/bin/python" -m pip install -q --upgrade pip >&2 || return 1
		"$dir/bin/python" -m pip install -q "${AIRLOCK_PY_REQUIREMENTS[@]}" >&2 || return 1
		touch "$dir/.complete"
	fi
	echo "$dir"
}

# Builds the wheel into build-py/dist (emptied first: exactly one wheel) with
# build isolation; meson's build directory build-py/wheel is reused by the
# next run in this clone. Prints the wheel's path.
airlock_wheel() {
	local venv=$1
	rm -rf build-py/dist
	"$venv/bin/python" -m pip wheel -q --no-deps . -w build-py/dist -Cbuild-dir=build-py/wheel >&2 || return 1
	ls build-py/dist/airlock_media-*.whl
}

# ruff, mypy and pytest in the environment, each writing what the summary reads
# into build-py/: ruff.rc, mypy.rc, junit.xml (and their output in *.log).
airlock_pytests() {
	local venv=$1 wheel=$2
	"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel" >&2 || return 1
	"$venv/bin/ruff" check --no-cache python tests/python tests/vllm >build-py/ruff.log 2>&1
	echo $? >build-py/ruff.rc
	"$venv/bin/mypy" --strict --cache-dir=build-py/mypy-cache python/airlock >build-py/mypy.log 2>&1
	echo $? >build-py/mypy.rc
	rm -f build-py/junit.xml
	AIRLOCK_WHEEL="$wheel" "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider \
		--junitxml=build-py/junit.xml >build-py/pytest.log 2>&1
	return 0
}
