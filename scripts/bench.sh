#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The performance benchmark (docs/performance.md): install the tools airlock
# is compared against, build, and run tests/bench/bench.py, which makes its
# inputs in build/bench-inputs/ and prints tables of medians and targets.
# webp brings cwebp, used only if ImageMagick cannot write the WebP input;
# python3-pil brings ImageCms, Pillow's side of the ICC rows.
# Options pass through: -n N rounds, --quick, --markdown FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
airlock_deps imagemagick libvips-tools ffmpeg sox libsox-fmt-base libsox-fmt-mp3 python3-pil webp
airlock_build build
# The media sections' program is not built by default (scripts/test.sh does not need it).
ninja -C build tests/bench-sanitize-media >/dev/null
exec python3 tests/bench/bench.py --build build "$@"
