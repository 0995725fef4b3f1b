#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/demo.sh, the README's first command, against an existing build:
# what it counts in the samples before and after, and that a failed build
# shows the tool's own error instead of nothing. dpkg-query, meson and ninja
# are stubs on PATH, so nothing is installed or rebuilt here.
# Usage: test_demo.sh SOURCE_ROOT BUILD_ROOT (BUILD_ROOT holds ./airlock)
set -uo pipefail
src=$1
bld=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/bin"
printf '#!/bin/sh\necho "install ok installed"\n' >"$tmp/bin/dpkg-query"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/ninja"
printf '#!/bin/sh\necho "meson.build:1:0: ERROR: Dependency \\"libstub\\" not found" >&2\nexit 3\n' >"$tmp/bin/meson"
chmod +x "$tmp/bin/"*

n=0
fails=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" "$1"; }

PATH="$tmp/bin:$PATH" TMPDIR="$tmp" AIRLOCK_BUILD_DIR="$bld" \
	"$src/scripts/demo.sh" >"$tmp/out" 2>"$tmp/err"
ok $? "demo exits 0 with a built tree"
has "$tmp/out" "jpeg_metadata_injection.jpg (" && has "$tmp/out" "5 copies of the injected text; 1 ZIP header"
ok $? "demo counts 5 copies of the text and 1 ZIP header in the JPEG"
has "$tmp/out" "0 copies of the injected text; 0 ZIP header"
ok $? "demo finds neither in the sanitized JPEG"
has "$tmp/out" "vorbis_comment_injection.ogg (" && has "$tmp/out" "2 copies of the injected text)"
ok $? "demo counts 2 copies of the text in the Ogg Vorbis input"
[ "$(grep -cE '^output: [0-9]+ bytes; 0 copies of the injected text$' "$tmp/out")" -eq 2 ]
ok $? "demo finds no text in either WAV output"
has "$tmp/out" "aac_tags.m4a (" && has "$tmp/out" "2 copies of the injected text in its tags)"
ok $? "demo counts 2 copies of the text in the M4A's tags"
has "$tmp/err" '"type":"video/mp4"' && has "$tmp/err" '"rate":16000'
ok $? "the M4A went through the media zygote to 16 kHz"
has "$tmp/err" "airlock: building"
ok $? "demo says it is building"
has "$tmp/err" '"trailing_dropped"'
ok $? "the JPEG's report lists trailing_dropped"

PATH="$tmp/bin:$PATH" TMPDIR="$tmp" AIRLOCK_BUILD_DIR="$tmp/unbuilt" \
	"$src/scripts/demo.sh" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 3 ]
ok $? "a failed meson setup ends the demo with its status (got $rc)"
has "$tmp/err" 'ERROR: Dependency "libstub" not found' && has "$tmp/err" "airlock: failed (exit 3): meson setup"
ok $? "a failed meson setup prints meson's error"
[ ! -s "$tmp/out" ]
ok $? "nothing is sanitized after a failed build"

echo "1..$n"
[ $fails -eq 0 ]
