#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start, first command: install what is missing, build, and sanitize a
# hostile sample from corpus/ (a JPEG with prompt-injection text in its EXIF
# and COM segments and a ZIP after EOI).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
airlock_deps
airlock_build build

in=corpus/images/jpeg_metadata_injection.jpg
out=$(mktemp --suffix=.jpg)
trap 'rm -f "$out"' EXIT
echo "input:  $in ($(wc -c <"$in") bytes; $(grep -c -a -i 'ignore previous' "$in") line(s) of injected text)"
./build/airlock --json "$in" -o "$out"
echo "output: $(wc -c <"$out") bytes; $(grep -c -a -i 'ignore previous' "$out" || true) line(s) of injected text"
