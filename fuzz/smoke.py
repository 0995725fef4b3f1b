#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The CI fuzz smoke run: one libFuzzer harness for a fixed time, from fixed seeds.

usage: smoke.py FUZZER DICT SECONDS SEED_DIR...

New inputs go to a temporary directory, never into the seeds. The seeds are
the files in each SEED_DIR but the cov-* ones (the long runs' corpora, which
the replay tests run instead): a few slow inputs there would take the run's
whole time. Prints TAP:
the run ends without a crash, leak, timeout or out-of-memory, and it
executed inputs.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from tapcheck import check, run_tests, test  # noqa: E402

fuzzer, dictionary, seconds, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
with tempfile.TemporaryDirectory(prefix="airlock-smoke-") as new, \
        tempfile.TemporaryDirectory(prefix="airlock-smoke-seeds-") as seed_dir, \
        tempfile.TemporaryDirectory(prefix="airlock-smoke-art-") as art:
    for i, d in enumerate(s for s in seeds if os.path.isdir(s)):
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if not name.startswith("cov-") and os.path.isfile(path):
                os.symlink(os.path.abspath(path), os.path.join(seed_dir, f"{i}-{name}"))
    cmd = [fuzzer, f"-dict={dictionary}", f"-max_total_time={seconds}", "-seed=1",
           "-timeout=25", "-rss_limit_mb=4096", "-max_len=65536", "-print_final_stats=1",
           f"-artifact_prefix={art}/", new, seed_dir]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    env.setdefault("LSAN_OPTIONS", "suppressions=%s:print_suppressions=0"
                   % os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan.supp"))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", env=env)
    # libFuzzer also writes slow-unit-* for an input over 10 s (-report_slow_units): on a loaded
    # machine an instrumented decode gets there with no fault of its own. The run's bound is the
    # 25 s timeout, whose timeout-* artifact fails it; a slow unit is said, not failed.
    found = os.listdir(art)
    artifacts = [a for a in found if not a.startswith("slow-unit-")]
    slow = [a for a in found if a.startswith("slow-unit-")]

runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", p.stdout)
covs = re.findall(r"cov: (\d+) ft: (\d+)", p.stdout)
if p.returncode != 0 or artifacts:
    print("\n".join("# " + line for line in p.stdout.splitlines()[-60:]))
for a in slow:
    print(f"# slow, under the timeout: {a}")


@test("the run ends cleanly: no crash, leak, timeout or out-of-memory")
def _():
    check(p.returncode == 0 and not artifacts, f"exit {p.returncode}, artifacts {artifacts}")


@test("the run executed inputs and reached coverage")
def _():
    check(runs and int(runs.group(1)) > 0 and covs, "no executions or coverage reported")
    print(f"# {os.path.basename(fuzzer)}: {runs.group(1)} executions in {seconds} s, "
          f"cov {covs[-1][0]} ft {covs[-1][1]}")


sys.exit(run_tests())
