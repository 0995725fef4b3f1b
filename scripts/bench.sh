#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The performance benchmark (docs/performance.md): install the tools airlock
# is compared against, build, and run tests/bench/bench.py, which makes its
# inputs in build/bench-inputs/ and prints tables of medians and targets.
# webp brings cwebp, used only if ImageMagick cannot write the WebP input;
# python3-pil brings ImageCms, Pillow's side of the ICC rows.
# Options pass through: -n N rounds, --quick, --markdown FILE; --video first: the video
# benchmark instead (below).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

# --video: tests/bench/bench_video.py alone (docs/performance.md, "Video"), with the Python that
# has airlock, vLLM's OpenCV loader and PyAV: a virtual environment, AIRLOCK_BENCH_VIDEO_VENV or
# build-py/bench-video/venv, that sees the vLLM environment's packages through a .pth file
# (AIRLOCK_VLLM_VENV, else scripts/vllmenv.sh's cached one, made on first use: 6 GB; left as it
# is) and holds PyAV at tests/vllm/constraints.txt's version and the checkout's package itself,
# reinstalled when the source differs from the one installed last. Options pass through:
# -n N, --quick, --markdown FILE, --ten-minutes.
if [ "${1:-}" = --video ]; then
	shift
	airlock_deps ffmpeg python3-venv python3-dev
	airlock_build build
	if [ -n "${AIRLOCK_VLLM_VENV:-}" ]; then
		base=$AIRLOCK_VLLM_VENV
	else
		. scripts/vllmenv.sh
		base=$(airlock_vllm_env)
	fi
	base=$(cd "$base" && pwd)
	venv=${AIRLOCK_BENCH_VIDEO_VENV:-build-py/bench-video/venv}
	if [ "$(cat "$venv/.base" 2>/dev/null)" != "$base" ]; then
		echo "bench: making $venv over $base" >&2
		if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
			echo "bench: $venv exists and is no virtual environment" >&2
			exit 1
		fi
		rm -rf "$venv"
		mkdir -p "$(dirname "$venv")"
		"$base/bin/python" -m venv "$venv"
		purelib() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
		purelib "$base/bin/python" >"$(purelib "$venv/bin/python")/airlock-bench-video-base.pth"
		"$venv/bin/python" -m pip install -q --ignore-installed --no-deps "$(grep '^av==' tests/vllm/constraints.txt)"
		echo "$base" >"$venv/.base"
	fi
	# As bench-vllm.sh: the source as it is, committed or not, the docs, benchmarks and scripts aside.
	spec=(. ':!docs' ':!tests/bench' ':!scripts' ':!*.md' ':!.venv' ':!dist')
	src=$({
		git ls-files -s -- "${spec[@]}"
		git diff -- "${spec[@]}"
		git ls-files -z --others --exclude-standard -- "${spec[@]}" | sort -z |
			while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done | xargs -0r sha256sum
	} | sha256sum | cut -c1-64)
	if [ "$(cat "$venv/.airlock-source" 2>/dev/null)" != "$src" ]; then
		echo "bench: pip install . into $venv" >&2
		"$venv/bin/python" -m pip install -q --force-reinstall --no-deps . -Cbuild-dir=build-py/bench-video/meson
		echo "$src" >"$venv/.airlock-source"
	fi
	export HF_HUB_OFFLINE=1
	exec "$venv/bin/python" tests/bench/bench_video.py --build build "$@"
fi

airlock_deps imagemagick libvips-tools ffmpeg sox libsox-fmt-base libsox-fmt-mp3 python3-pil webp
airlock_build build
# The media sections' program is not built by default (scripts/test.sh does not need it).
ninja -C build tests/bench-sanitize-media >/dev/null
exec python3 tests/bench/bench.py --build build "$@"
