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
. scripts/pyenv.sh
. scripts/vllmenv.sh
# The reference decoders the audio-length test runs against airlock's output;
# python3-venv and python3-dev for the Python package's environment and build.
airlock_deps python3 clang clang-format libclang-rt-14-dev ffmpeg flac vorbis-tools opus-tools mpg123 sox webp giflib-tools libtiff-tools python3-pil python3-venv python3-dev || exit 1
airlock_python_check python3 || exit 1
# The vLLM environment (scripts/vllmenv.sh) takes minutes to make the first time, mostly downloads
# and unpacking: it is made in the background while the C side builds and runs. A run that stops
# early stops it too (it is made again next time: its .complete marker is written last).
mkdir -p build-py
rm -f build-py/vllm-env.path build-py/junit-vllm.xml build-py/vllm-env.failed
airlock_vllm_env >build-py/vllm-env.path 2>build-py/vllm-env.log &
vllm_env_job=$!
trap 'pkill -P "$vllm_env_job" 2>/dev/null; kill "$vllm_env_job" 2>/dev/null' EXIT
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

# The Python package (docs/python.md): its wheel, built once, installed into
# a cached environment; ruff, mypy --strict and pytest against it.
mkdir -p build-py
rm -f build-py/ruff.rc build-py/mypy.rc build-py/junit.xml build-py/wheel.failed
if venv=$(airlock_pyenv python3) && wheel=$(airlock_wheel "$venv"); then
	airlock_pytests "$venv" "$wheel" || touch build-py/wheel.failed
else
	touch build-py/wheel.failed
fi

# The vLLM media connector against the real vLLM (scripts/vllmenv.sh): a cached environment of
# vLLM 0.34.0 on torch 2.14.1, the same wheel installed into it, pytest tests/vllm there. An
# environment that cannot be made is one failure (vllm/env), never a skip.
if ! wait "$vllm_env_job"; then
	touch build-py/vllm-env.failed
elif [ -f build-py/wheel.failed ]; then
	echo "no wheel to test against vLLM" >>build-py/vllm-env.log
	touch build-py/vllm-env.failed
else
	airlock_vllm_tests "$(cat build-py/vllm-env.path)" "$wheel" 2>>build-py/vllm-env.log || touch build-py/vllm-env.failed
fi
trap - EXIT

python3 - build build-asan build-fuzz <<'PY'
import json, os, sys
import xml.etree.ElementTree as ET
passed = failed = asserts = 0


def junit(label, path, log):
    """Every pytest test one result; a run that wrote no junit file is one failure."""
    n_pass = n_fail = n_skip = 0
    if os.path.exists(path):
        for case in ET.parse(path).iter("testcase"):
            bad = case.find("failure") if case.find("failure") is not None else case.find("error")
            if bad is not None:
                n_fail += 1
                print(f"FAIL {label}/{case.get('classname')}::{case.get('name')}")
                first = (bad.get("message") or "").splitlines()[:1]
                if first:
                    print("    " + first[0][:300])
            else:
                n_pass += 1
                n_skip += case.find("skipped") is not None
    else:
        print(f"FAIL {label}/pytest (no {os.path.basename(path)}; {log} says why)")
        n_fail += 1
    print(f"{label}: {n_pass} passed ({n_skip} skipped), {n_fail} failed")
    return n_pass, n_fail


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
# Python: the wheel, ruff and mypy one result each, every pytest test one.
if os.path.exists("build-py/wheel.failed"):
    print("FAIL python/wheel (build or install; see the output above)")
    failed += 1
else:
    for tool in ("ruff", "mypy"):
        ok = os.path.exists(f"build-py/{tool}.rc") and open(f"build-py/{tool}.rc").read().strip() == "0"
        print(f"{'PASS' if ok else 'FAIL'} python/{tool}")
        if not ok and os.path.exists(f"build-py/{tool}.log"):
            print("\n".join("    " + l for l in open(f"build-py/{tool}.log").read().splitlines()[-20:]))
        passed += ok
        failed += not ok
    p, f = junit("python", "build-py/junit.xml", "build-py/pytest.log")
    passed += p
    failed += f
# vLLM: the environment one result when it cannot be made, else every pytest test one.
if os.path.exists("build-py/vllm-env.failed"):
    print("FAIL vllm/env (the vLLM test environment; build-py/vllm-env.log says why)")
    log = open("build-py/vllm-env.log", errors="replace").read().splitlines() if os.path.exists("build-py/vllm-env.log") else []
    print("\n".join("    " + l for l in [l for l in log if not l.startswith("WARNING: Location")][-15:]))
    failed += 1
else:
    p, f = junit("vllm", "build-py/junit-vllm.xml", "build-py/vllm.log")
    passed += p
    failed += f
print(f"assertions passed: {asserts}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
py=$?
[ $rc -eq 0 ] && [ $py -eq 0 ]
