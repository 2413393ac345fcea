"""tap.py - the result lines of the Python integration tests and their
helper scripts: "ok - ..." / "not ok - ..." per check, then the final
"N passed, N failed" that tests/run.sh reads, exit status 1 on a failure.
Imported by name: Python puts the running script's folder on sys.path."""
import sys

PASS = [0]
FAIL = [0]


def ok(cond, what):
    """Counts and prints one check; returns cond."""
    if cond:
        PASS[0] += 1
        print("ok - " + what)
    else:
        FAIL[0] += 1
        print("not ok - " + what)
    sys.stdout.flush()
    return cond


def finish():
    """Prints the final line and exits (1 when any check failed)."""
    print("%d passed, %d failed" % (PASS[0], FAIL[0]))
    sys.stdout.flush()
    sys.exit(1 if FAIL[0] else 0)
