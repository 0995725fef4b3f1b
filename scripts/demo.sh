#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start, first command: install what is missing, build, and sanitize
# two hostile samples from corpus/: a JPEG with prompt-injection text in its
# EXIF, XMP, IPTC and COM segments and a ZIP archive after EOI (a polyglot),
# and an Ogg Vorbis file with instructions in its comments, turned into
# 16 kHz mono WAV for a model.
#
# The build goes to build/ in the checkout (AIRLOCK_BUILD_DIR overrides it);
# its output goes to a log whose tail is printed if it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

build=${AIRLOCK_BUILD_DIR:-build}
say() { echo "airlock: $*" >&2; }

# Occurrences of a byte string in a file (not lines: binary files have few).
count() {
	local n
	n=$(LC_ALL=C grep -o -a -i -F -- "$1" "$2" | wc -l) || true
	echo $((n))
}

say "checking build dependencies (dpkg-query; apt-get for what is missing)..."
airlock_deps

log=$(mktemp "${TMPDIR:-/tmp}/airlock-demo-build.XXXXXX")
trap 'rm -f "$log"' EXIT
# Runs "$@" with its output in the log (and ninja's [n/m] counter on a
# terminal); on failure prints the log's tail and keeps the log.
logged() {
	local rc=0
	if [ -t 2 ]; then
		"$@" 2>&1 | tee -a "$log" | while IFS= read -r line; do
			case $line in \[*/*\]*) printf '\r    %s ' "${line%%]*}]" >&2 ;; esac
		done || rc=$?
		printf '\r\033[K' >&2
	else
		"$@" >>"$log" 2>&1 || rc=$?
	fi
	[ "$rc" -eq 0 ] && return 0
	trap - EXIT
	say "failed (exit $rc): $*"
	say "last 40 lines of its output (full log: $log):"
	tail -n 40 "$log" | sed 's/^/    /' >&2
	exit "$rc"
}

start=$SECONDS
if [ ! -f "$build/build.ninja" ]; then
	say "configuring $build/ (meson setup)..."
	logged meson setup "$build"
fi
say "building $build/ (ninja; about a minute on two cores the first time)..."
logged ninja -C "$build"
say "built in $((SECONDS - start)) s"
echo

zip=$'PK\x03\x04'
in=corpus/images/jpeg_metadata_injection.jpg
out=$(mktemp --suffix=.jpg)
trap 'rm -f "$log" "$out"' EXIT
text='ignore previous'
echo "input:  $in ($(wc -c <"$in") bytes; $(count "$text" "$in") copies of the injected text;" \
	"$(count "$zip" "$in") ZIP header(s) after the picture)"
"$build/airlock" --json "$in" -o "$out"
echo "output: $(wc -c <"$out") bytes; $(count "$text" "$out") copies of the injected text;" \
	"$(count "$zip" "$out") ZIP header(s)"
echo

ain=corpus/audio/vorbis_comment_injection.ogg
aout=$(mktemp --suffix=.wav)
trap 'rm -f "$log" "$out" "$aout"' EXIT
echo "input:  $ain ($(wc -c <"$ain") bytes; $(count "$text" "$ain") copies of the injected text)"
"$build/airlock" --json --rate 16000 --mono "$ain" -o "$aout"
echo "output: $(wc -c <"$aout") bytes; $(count "$text" "$aout") copies of the injected text"
echo

# An iPhone-style voice note: AAC in M4A, decoded with FFmpeg by the second (media) zygote.
min=corpus/media/aac_tags.m4a
mout=$(mktemp --suffix=.wav)
trap 'rm -f "$log" "$out" "$aout" "$mout"' EXIT
mtext='previous instructions'
echo "input:  $min ($(wc -c <"$min") bytes; $(count "$mtext" "$min") copies of the injected text in its tags)"
"$build/airlock" --json --rate 16000 --mono "$min" -o "$mout"
echo "output: $(wc -c <"$mout") bytes; $(count "$mtext" "$mout") copies of the injected text"
