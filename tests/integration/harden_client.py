#!/usr/bin/python3
"""harden_client.py SCENARIO ARGS... - paramiko probes of the hardening
fixes (tests t57-serve-h*). Each scenario prints "ok - ..." or
"not ok - ..." lines, then "N passed, N failed", and exits 1 on failure.
Run with Debian's /usr/bin/python3 (python3-paramiko)."""
import sys
import time

import paramiko

from kura_client import login, transport
from tap import finish, ok


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


def sc_handles(port, user, key, which):
    """SFTP requests with forged handles (256, the one libssh 0.10.6 reads
    past its table for; other values and lengths) get an error status and
    the session goes on"""
    from paramiko import sftp as ps
    from paramiko.py3compat import long
    t, s = login(port, user, key=key)
    # libssh allocates its handle table with the first handle: open one.
    t_, msg = s._request(ps.CMD_OPENDIR, "/")
    ok(t_ == ps.CMD_HANDLE, "a real handle first")
    bad = {"256": b"\x00\x01\x00\x00", "ffffffff": b"\xff\xff\xff\xff",
           "unopened": b"\x05\x00\x00\x00", "short": b"\x01\x00",
           "long": b"\x00" * 8, "empty": b""}
    names = list(bad) if which == "all" else which.split(",")
    for name in names:
        for cmd, args in (("close", (ps.CMD_CLOSE, bad[name])),
                          ("fstat", (ps.CMD_FSTAT, bad[name])),
                          ("read", (ps.CMD_READ, bad[name], long(0), 16)),
                          ("readdir", (ps.CMD_READDIR, bad[name]))):
            try:
                s._request(*args)
                ok(False, "%s with handle %s accepted" % (cmd, name))
            except IOError:
                ok(True, "%s with handle %s: error status" % (cmd, name))
            except (EOFError, paramiko.SSHException, OSError) as e:
                ok(False, "%s with handle %s: session died (%r)" % (cmd, name, e))
                finish()
    try:
        ok("new" in s.listdir("/"), "the session goes on")
    except Exception as e:  # noqa: BLE001
        ok(False, "the session goes on: %r" % e)
    t.close()
    finish()


def sc_oddnames(port):
    """failed logins whose names hold control characters, invalid UTF-8
    or too many bytes (each on its own connection)"""
    names = [b"bad\x01name", b"bad\xffname", b"esc\x1b[31mred", "ユーザー\x7f".encode(),
             b"long" * 40]
    for n in names:
        t = transport(port)
        t.start_client(timeout=30)
        try:
            t.auth_password(n, "wrong")
            ok(False, "%r logged in" % n)
        except paramiko.AuthenticationException:
            ok(True, "%r refused" % n)
        except (paramiko.SSHException, EOFError, OSError) as e:
            ok(False, "%r: %r" % (n, e))
        t.close()
    finish()


def sc_hold(port, user, password, secs):
    """logs in and holds the session for secs seconds"""
    t = transport(port)
    t.connect(username=user, password=password)
    s = paramiko.SFTPClient.from_transport(t)
    ok("new" in s.listdir("/"), "logged in")
    time.sleep(float(secs))
    t.close()
    finish()


if __name__ == "__main__":
    scen = {"hold": sc_hold, "timing": sc_timing, "handles": sc_handles, "oddnames": sc_oddnames}
    scen[sys.argv[1]](*sys.argv[2:])
