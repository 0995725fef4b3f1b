#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The C sources are clang-format clean. Skips (77) without Debian 12's clang-format 14,
# since other versions format differently.
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "1..0 # SKIP clang-format not installed"; exit 77; }
clang-format --version | grep -q ' 14\.' || { echo "1..0 # SKIP clang-format is not version 14"; exit 77; }
n=0 bad=0
while IFS= read -r f; do
	n=$((n + 1))
	if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "ok $n - $f is formatted"
	else
		echo "not ok $n - $f is formatted (run clang-format -i $f)"
		bad=$((bad + 1))
	fi
done < <(git ls-files '*.c' '*.h' 2>/dev/null || find include sanitizer sandbox decoders tests fuzz -name '*.[ch]' | sort)
echo "1..$n"
[ $bad -eq 0 ]
