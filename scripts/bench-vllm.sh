#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The vLLM connector benchmark (docs/performance.md, "vLLM connector"):
# vLLM's stock media connector against airlock's, through the real vLLM.
# Builds the C tree (its bench-sanitize makes the audio inputs; imagemagick
# and webp the images, as bench.sh does), finds the vLLM environment, and
# runs tests/bench/bench_vllm.py with the checkout's package beside vLLM.
#
# The vLLM environment is AIRLOCK_VLLM_VENV if set, else the cached one of
# scripts/vllmenv.sh (airlock_vllm_env, made on first use: about 3 minutes,
# 6 GB). It is shared with the tests and left as it is: the checkout's
# package goes into a small overlay environment, build-py/bench-vllm/venv,
# which sees the vLLM environment's packages through a .pth file and holds
# only airlock, reinstalled (`pip install .`) whenever the source differs
# from the one installed last. Options pass through: -n N rounds, --quick,
# --concurrency C, --audio-concurrency A, --markdown FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
airlock_deps imagemagick webp python3-venv python3-dev
airlock_build build

if [ -n "${AIRLOCK_VLLM_VENV:-}" ]; then
	base=$AIRLOCK_VLLM_VENV
elif [ -f scripts/vllmenv.sh ]; then
	. scripts/vllmenv.sh
	base=$(airlock_vllm_env)
else
	echo "bench-vllm: no vLLM environment: set AIRLOCK_VLLM_VENV, or use a checkout with scripts/vllmenv.sh" >&2
	exit 1
fi
base=$(cd "$base" && pwd)
[ -x "$base/bin/python" ] || {
	echo "bench-vllm: $base/bin/python missing" >&2
	exit 1
}
"$base/bin/python" -c 'import vllm' 2>/dev/null || {
	echo "bench-vllm: $base has no importable vllm" >&2
	exit 1
}

overlay=build-py/bench-vllm/venv
if [ "$(cat "$overlay/.base" 2>/dev/null)" != "$base" ]; then
	echo "bench-vllm: making $overlay over $base" >&2
	rm -rf "$overlay"
	mkdir -p "$(dirname "$overlay")"
	"$base/bin/python" -m venv "$overlay"
	purelib() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
	purelib "$base/bin/python" >"$(purelib "$overlay/bin/python")/airlock-bench-vllm-base.pth"
	echo "$base" >"$overlay/.base"
fi

# As bench-python.sh: the source as it is, committed or not; the docs, the benchmarks and the scripts aside,
# and a private .venv or dist/ in the checkout (artefacts, not source; only regular files are hashed).
spec=(. ':!docs' ':!tests/bench' ':!scripts' ':!*.md' ':!.venv' ':!dist')
src=$({
	git ls-files -s -- "${spec[@]}"
	git diff -- "${spec[@]}"
	git ls-files -z --others --exclude-standard -- "${spec[@]}" | sort -z |
		while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done | xargs -0r sha256sum
} | sha256sum | cut -c1-64)
if [ "$(cat "$overlay/.airlock-source" 2>/dev/null)" != "$src" ]; then
	echo "bench-vllm: pip install . into $overlay" >&2
	# Build isolation fetches meson-python; meson's build directory is kept for the next reinstall.
	"$overlay/bin/python" -m pip install -q --force-reinstall --no-deps . -Cbuild-dir=build-py/bench-vllm/meson
	echo "$src" >"$overlay/.airlock-source"
fi
export HF_HUB_OFFLINE=1
exec "$overlay/bin/python" tests/bench/bench_vllm.py --build build "$@"
