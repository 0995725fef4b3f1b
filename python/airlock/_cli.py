# SPDX-License-Identifier: MIT
"""The `airlock` command that `pip install` puts on PATH: the C CLI (docs/airlock.1), installed inside the
package beside the zygote it uses, run in place of this process."""

from __future__ import annotations

import os
import sys


def main() -> None:
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "airlock-cli")
    # argv[0] is the full path: a statically linked program finds its helper from its own name.
    os.execv(exe, [exe, *sys.argv[1:]])
