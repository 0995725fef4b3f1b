#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start, second command (and what CI runs): install what is missing,
# build three times (plain; with ASan+UBSan for the in-process code, the
# sandboxed helpers never instrumented; and the libFuzzer harnesses with
# clang), run every test and a short fuzz smoke run, and end with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
# The reference decoders the audio-length test runs against airlock's output.
airlock_deps python3 clang clang-format libclang-rt-14-dev ffmpeg flac vorbis-tools opus-tools mpg123 sox webp giflib-tools libtiff-tools python3-pil || exit 1
airlock_build build || exit 1
airlock_build build-asan -Db_sanitize=address,undefined -Db_lundef=false || exit 1
CC=clang airlock_build build-fuzz -Dfuzzing=true || exit 1

rc=0
meson test -C build --print-errorlogs >/dev/null || rc=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs >/dev/null || rc=1
# The libFuzzer harnesses, 20 s each from fixed seeds (fuzz/smoke.py); the
# replay of every corpus file through them ran in both builds above.
meson test -C build-fuzz --suite fuzz-smoke --print-errorlogs >/dev/null || rc=1

python3 - build build-asan build-fuzz <<'PY'
import json, sys
passed = failed = asserts = 0
for d in sys.argv[1:]:
    for line in open(f"{d}/meson-logs/testlog.json"):
        t = json.loads(line)
        ok = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
        out = t.get("stdout") or ""
        n = sum(1 for l in out.splitlines() if l.startswith("ok "))
        asserts += n
        print(f"{'PASS' if ok else 'FAIL'} {d}/{t['name']} ({n} assertions, {t['duration']:.2f}s)")
        if not ok:
            print("\n".join("    " + l for l in out.splitlines() if l.startswith("not ok") or l.startswith("# ")))
        passed += ok
        failed += not ok
print(f"assertions passed: {asserts}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
py=$?
[ $rc -eq 0 ] && [ $py -eq 0 ]
