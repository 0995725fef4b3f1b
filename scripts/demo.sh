#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start, first command: install what is missing, build, and sanitize
# two hostile samples from corpus/: a JPEG with prompt-injection text in its
# EXIF and COM segments and a ZIP after EOI, and an Ogg Vorbis file with
# instructions in its comments, turned into 16 kHz mono WAV for a model.
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

ain=corpus/audio/vorbis_comment_injection.ogg
aout=$(mktemp --suffix=.wav)
trap 'rm -f "$out" "$aout"' EXIT
echo "input:  $ain ($(wc -c <"$ain") bytes; $(grep -c -a -i 'ignore' "$ain") line(s) of injected text)"
./build/airlock --json --rate 16000 --mono "$ain" -o "$aout"
echo "output: $(wc -c <"$aout") bytes; $(grep -c -a -i 'ignore' "$aout" || true) line(s) of injected text"
