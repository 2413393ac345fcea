#!/usr/bin/python3
"""gate_client.py SCENARIO ARGS... - paramiko and raw-socket scenarios for
what the listener of `kura serve` decides for all sessions together
(intake/gate.c: account-wide quota, limits of unauthenticated connections,
auth requests of every method counted). Prints "ok - ..." / "not ok - ..."
lines, then "N passed, N failed"; exits 1 on failure. Debian's
/usr/bin/python3 with python3-paramiko."""
import os
import socket
import sys
import threading
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


def transport(port, src="127.0.0.1", timeout=20):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout,
                                    source_address=(src, 0))
    t = paramiko.Transport(sock)
    t.banner_timeout = timeout
    t.auth_timeout = timeout
    return t


def login(port, user, src="127.0.0.1"):
    t = transport(port, src)
    t.connect(username=user, password="pw-%s-secret" % user)
    return t, paramiko.SFTPClient.from_transport(t)


def upload(s, path, data, chunk):
    """unpipelined writes, so that each write's error is seen at once"""
    with s.open(path, "wb") as f:
        f.set_pipelined(False)
        for i in range(0, len(data), chunk):
            f.write(data[i:i + chunk])


def verdict(s, name):
    with s.open("/results/" + name + ".result.json", "rb") as f:
        r = f.read().decode()
    return "accept" if '"verdict":"accept"' in r else "reject"


def try_upload(s, path, data, chunk=1024):
    """'' when written, else the error text"""
    try:
        upload(s, path, data, chunk)
        return ""
    except (IOError, OSError) as e:
        return str(e) or repr(e)


# ---------------------------------------------------------------- quota
def sc_quota(port, zip_ok, quota):
    """two parallel sessions of one account, each 60 % of the quota:
    exactly one fails with the quota error, the other is accepted; the
    room of a failed or rejected upload comes back"""
    good = open(zip_ok, "rb").read()
    quota = int(quota)
    print("# quota %d bytes, upload %d bytes (%.0f %%)" % (quota, len(good), 100.0 * len(good) / quota))
    res = {}
    bar = threading.Barrier(2)

    def one(name):
        try:
            t, s = login(port, "alice")
            bar.wait(timeout=20)
            err = try_upload(s, "/new/" + name, good, 512)
            res[name] = err if err else verdict(s, name)
            t.close()
        except Exception as e:  # noqa: BLE001
            res[name] = "exception %r" % e

    th = [threading.Thread(target=one, args=(n,)) for n in ("pa.zip", "pb.zip")]
    for x in th:
        x.start()
    for x in th:
        x.join(60)
    print("# parallel: %r" % res)
    vals = sorted(res.values())
    ok(len(vals) == 2 and vals[0] == "accept" and "quota" in vals[1],
       "two parallel 60 % uploads: one accepted, the other fails with the quota error")
    t, s = login(port, "alice")
    err = try_upload(s, "/new/third.zip", good)
    ok("quota" in err, "a third 60 % upload after the acceptance: quota error")
    small = b"PK\x03\x04" + os.urandom(len(good) // 2)
    err = try_upload(s, "/new/small.zip", small)
    ok(err == "" and verdict(s, "small.zip") == "reject",
       "a 30 %% upload still fits: the failed uploads' room came back (%s)" % (err or "written"))
    t.close()
    # A fresh account: a rejected upload gives its room back.
    t, s = login(port, "carol")
    bad = b"PK\x03\x04" + os.urandom(len(good) - 4)
    err = try_upload(s, "/new/bad.zip", bad)
    ok(err == "" and verdict(s, "bad.zip") == "reject", "carol: a 60 % hostile upload, rejected")
    err = try_upload(s, "/new/good.zip", good)
    ok(err == "" and verdict(s, "good.zip") == "accept",
       "carol: then a 60 %% valid upload is accepted: the room is back (%s)" % (err or "written"))
    # Over the quota across sessions while the other session holds its
    # upload open (reserved, not yet complete).
    t2, s2 = login(port, "carol")
    f = s2.open("/new/held.zip", "wb")
    f.set_pipelined(False)
    f.write(b"PK\x03\x04" + b"\0" * (quota // 5))
    err = try_upload(s, "/new/more.zip", b"PK\x03\x04" + b"\0" * (quota // 4))
    ok("quota" in err, "carol: 60 %% accepted + 20 %% held by another session + 25 %%: quota error (%s)" % err)
    f.close()
    t2.close()
    t.close()
    finish()


def sc_sessions(port, limit):
    """limits.sessions_per_account across parallel sessions"""
    limit = int(limit)
    held = []
    for i in range(limit):
        held.append(login(port, "alice"))
    ok(len(held) == limit, "%d sessions of alice" % limit)
    try:
        t, s = login(port, "alice")
        s.listdir("/")
        ok(False, "session %d refused" % (limit + 1))
        t.close()
    except (paramiko.SSHException, OSError, EOFError):
        ok(True, "session %d refused" % (limit + 1))
    try:
        t, s = login(port, "carol")
        ok("new" in s.listdir("/"), "another account still logs in")
        t.close()
    except Exception as e:  # noqa: BLE001
        ok(False, "another account still logs in: %r" % e)
    held.pop()[0].close()
    time.sleep(0.5)  # the session process ends, the listener reaps it
    try:
        t, s = login(port, "alice")
        ok("new" in s.listdir("/"), "after one ended, a new session of alice")
        t.close()
    except Exception as e:  # noqa: BLE001
        ok(False, "after one ended, a new session of alice: %r" % e)
    for t, s in held:
        t.close()
    finish()


if __name__ == "__main__":
    scen = {"quota": sc_quota, "sessions": sc_sessions}
    scen[sys.argv[1]](*sys.argv[2:])
