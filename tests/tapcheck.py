# SPDX-License-Identifier: MIT
"""The TAP scaffolding the Python tests share: a registry of named tests, a
check that fails one with a message, and a runner printing TAP."""
import sys
import traceback

TESTS = []


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def test(name):
    """Registers the decorated function as the test called name, in file order."""
    def register(fn):
        TESTS.append((name, fn))
        return fn

    return register


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run_tests():
    """Runs every registered test; prints TAP; returns the exit status (1 if any failed)."""
    print("1..%d" % len(TESTS))
    sys.stdout.flush()
    failed = 0
    for n, (name, fn) in enumerate(TESTS, 1):
        try:
            fn()
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (n, name, e))
        except Failure as e:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for line in str(e).splitlines() or [""]:
                print("# %s" % line)
        except Exception:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for line in traceback.format_exc().splitlines():
                print("# %s" % line)
        else:
            print("ok %d - %s" % (n, name))
        sys.stdout.flush()
    return 1 if failed else 0
