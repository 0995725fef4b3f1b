# SPDX-License-Identifier: MIT
# Sourced by test.sh: the real-vLLM side of the test run (issue 17). A virtual environment with
# vLLM 0.34.0 on torch 2.14.1, cached per interpreter and pinned lists like airlock_pyenv's, the
# wheel test.sh built installed into it, and pytest tests/vllm run there. vLLM is never stubbed:
# if this environment cannot be made, the run fails (one FAIL vllm/env), it does not skip.

# tests/vllm/constraints.txt is the whole environment, every distribution at an exact version
# (the `pip freeze` of one that works, plus the test tools), installed in one step with --no-deps:
# no resolver runs, so nothing comes in that the file does not name, and nothing it names is left
# out (a list of vLLM's requirements installed with their dependencies once missed uvloop, which
# vLLM imports). What it holds, and why not vLLM's own dependency list:
# - torch 2.14.1 and torchvision 0.29.1: the CUDA builds pip takes from this disk (/opt/pypi-more)
#   for CPython 3.11, with their nvidia-* and triton; they run on the CPU, which is all media and
#   chat parsing need. vLLM 0.34.0 pins torch 2.14.0, which this disk lacks (pip warns of that).
# - vllm 0.34.0 and its requirements that are not GPU kernels (flashinfer, torchaudio, tilelang
#   are neither installable here nor needed); xgrammar with the apache-tvm-ffi it needs.
# - qwen-vl-utils, pytest, pytest-timeout, pytest-asyncio and tblib (vLLM's own media tests,
#   test_upstream.py), soundfile and av (the audio references).
AIRLOCK_VLLM_CONSTRAINTS=tests/vllm/constraints.txt

# Prints a CPython 3.11 interpreter: python3 when it is 3.11, else python3.11, else pyenv's.
# The torch and torchvision wheels on this disk are cp311 only.
airlock_vllm_python() {
	local py
	for py in python3 python3.11 "$(pyenv root 2>/dev/null)"/versions/3.11*/bin/python3; do
		if command -v "$py" >/dev/null 2>&1 &&
			"$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
			command -v "$py"
			return 0
		fi
	done
	echo "vllm env: needs CPython 3.11 (the torch 2.14.1 and torchvision 0.29.1 wheels on this disk are cp311); python3 is $(python3 --version 2>&1)" >&2
	return 1
}

# Prints the cached environment's directory, creating it when missing:
# ${XDG_CACHE_HOME:-$HOME/.cache}/airlock/vllm-venv-<hash of interpreter and pinned lists>.
# About 6 GB; pip's download cache is not used (it would hold a second copy of the wheels).
airlock_vllm_env() {
	local py key dir
	py=$(airlock_vllm_python) || return 1
	[ -f "$AIRLOCK_VLLM_CONSTRAINTS" ] || {
		echo "vllm env: $AIRLOCK_VLLM_CONSTRAINTS missing (run from the checkout's top)" >&2
		return 1
	}
	key=$({
		"$py" -c 'import sys; print(sys.version, sys.executable)'
		grep -v '^#' "$AIRLOCK_VLLM_CONSTRAINTS"
	} | sha256sum | cut -c1-12)
	dir="${XDG_CACHE_HOME:-$HOME/.cache}/airlock/vllm-venv-$key"
	# .complete is written last: an environment cut short by a failure is made again.
	if [ ! -f "$dir/.complete" ]; then
		rm -rf "$dir"
		mkdir -p "$(dirname "$dir")"
		echo "vllm env: making $dir (about 3 minutes, 6 GB)" >&2
		"$py" -m venv "$dir" >&2 || return 1
		"$dir/bin/python" -m pip install -q --no-cache-dir --progress-bar off --no-deps \
			-r "$AIRLOCK_VLLM_CONSTRAINTS" >&2 || return 1
		# Reproducible means nothing unpinned came in as a dependency of a dependency.
		"$dir/bin/python" - "$AIRLOCK_VLLM_CONSTRAINTS" <<-'PY' >&2 || return 1
			import importlib.metadata as md, re, sys
			norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
			pins = {}
			for line in open(sys.argv[1]):
			    line = line.split("#")[0].strip()
			    if line:
			        name, _, ver = line.partition("==")
			        pins[norm(name)] = ver
			bad = [f"{d.metadata['Name']} {d.version}" for d in md.distributions()
			       if norm(d.metadata["Name"]) not in ("pip",)
			       and pins.get(norm(d.metadata["Name"])) != d.version]
			if bad:
			    sys.exit("vllm env: installed but not pinned in constraints.txt: " + ", ".join(sorted(bad)))
		PY
		"$dir/bin/python" -c 'import vllm.multimodal.media, vllm.renderers.chat_utils, torch, torchvision, uvloop' >&2 || return 1
		touch "$dir/.complete"
	fi
	echo "$dir"
}

# Installs the wheel into the environment and runs pytest tests/vllm there, writing
# build-py/junit-vllm.xml (read by test.sh's summary) and build-py/vllm.log. A hang is cut
# short per test (--timeout) and as a whole (timeout), which leaves no junit: one failure.
airlock_vllm_tests() {
	local venv=$1 wheel=$2
	"$venv/bin/python" -m pip install -q --no-cache-dir --force-reinstall --no-deps "$wheel" >&2 || return 1
	rm -f build-py/junit-vllm.xml
	timeout -k 30 1800 "$venv/bin/python" -m pytest tests/vllm -q -p no:cacheprovider --timeout=600 \
		--junitxml=build-py/junit-vllm.xml >build-py/vllm.log 2>&1
	return 0
}
