#!/usr/bin/python3
"""harden_client.py SCENARIO ARGS... - paramiko probes of the hardening
fixes (tests t57-serve-h*). Each scenario prints "ok - ..." or
"not ok - ..." lines, then "N passed, N failed", and exits 1 on failure.
Run with Debian's /usr/bin/python3 (python3-paramiko)."""
import socket
import sys
import time

import paramiko

PASS = [0]
FAIL = [0]


def ok(cond, what):
    if cond:
        PASS[0] += 1
        print("ok - " + what)
    else:
        FAIL[0] += 1
        print("not ok - " + what)
    sys.stdout.flush()
    return cond


def finish():
    print("%d passed, %d failed" % (PASS[0], FAIL[0]))
    sys.exit(1 if FAIL[0] else 0)


def transport(port, src="127.0.0.1", timeout=30):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout,
                                    source_address=(src, 0))
    t = paramiko.Transport(sock)
    t.banner_timeout = timeout
    t.auth_timeout = timeout
    return t


def failed_login_seconds(port, user, password):
    """seconds from the password request to its rejection"""
    t = transport(port)
    t.start_client(timeout=30)
    a = time.monotonic()
    try:
        t.auth_password(user, password)
        ok(False, "%s logged in with a wrong password" % user)
    except paramiko.AuthenticationException:
        pass
    finally:
        dt = time.monotonic() - a
        t.close()
    return dt


def sc_timing(port, known, rounds):
    """a wrong password for a known login and any password for an unknown
    login take the same time (minimum of several rounds, interleaved)"""
    k, u = [], []
    for i in range(int(rounds)):
        k.append(failed_login_seconds(port, known, "wrong-%d" % i))
        u.append(failed_login_seconds(port, "nosuchuser%d" % i, "wrong-%d" % i))
    km, um = min(k), min(u)
    ratio = um / km if km > 0 else 99.0
    print("# known login: min %.3f s; unknown login: min %.3f s; ratio %.2f" % (km, um, ratio))
    ok(0.7 < ratio < 1.4, "unknown login costs the same as a known one (ratio %.2f)" % ratio)
    finish()


if __name__ == "__main__":
    scen = {"timing": sc_timing}
    scen[sys.argv[1]](*sys.argv[2:])
