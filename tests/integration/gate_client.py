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


# ------------------------------------------------- before authentication
def raw_flood(n, src, port):
    """n TCP connections from src that send a banner and stop"""
    socks = []
    for _ in range(n):
        try:
            c = socket.create_connection(("127.0.0.1", int(port)), timeout=5,
                                         source_address=(src, 0))
            c.sendall(b"SSH-2.0-flood\r\n")
            socks.append(c)
        except OSError:
            pass
    return socks


def alive(socks, wait=1.0):
    """the connections the server kept (sent its banner, did not close)"""
    time.sleep(wait)
    kept = []
    for c in socks:
        c.setblocking(False)
        closed = False
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    closed = True
                    break
        except BlockingIOError:
            pass
        except OSError:
            closed = True
        if closed:
            c.close()
        else:
            kept.append(c)
    return kept


def can_login(port, user, src):
    try:
        t, s = login(port, user, src)
        r = "new" in s.listdir("/")
        t.close()
        return r
    except (paramiko.SSHException, OSError, EOFError):
        return False


def upload_ok(s, name, data):
    err = try_upload(s, "/new/" + name, data, 32768)
    return err == "" and verdict(s, name) == "accept"


def sc_preauth(port, zip_ok, per_addr, total):
    """connections that never authenticate cannot hold the server"""
    good = open(zip_ok, "rb").read()
    per_addr, total = int(per_addr), int(total)
    ta, sa = login(port, "alice")  # authenticated before the flood
    flood = alive(raw_flood(3 * per_addr + 10, "127.0.0.1", port))
    ok(len(flood) == per_addr, "127.0.0.1 holds %d unauthenticated connections (limit %d)" % (len(flood), per_addr))
    try:
        tb, sb = login(port, "bob", "127.0.0.2")
        ok(upload_ok(sb, "b1.zip", good), "bob from 127.0.0.2 logs in and uploads during the flood")
        tb.close()
    except Exception as e:  # noqa: BLE001
        ok(False, "bob from 127.0.0.2 logs in and uploads during the flood: %r" % e)
    ok(upload_ok(sa, "a1.zip", good), "alice's authenticated session from 127.0.0.1 still uploads")
    ok(not can_login(port, "alice", "127.0.0.1"), "a new client from 127.0.0.1 is refused while the flood holds its limit")
    flood.pop().close()
    time.sleep(0.5)  # the session process sees EOF, the listener reaps it
    try:
        t, s = login(port, "alice", "127.0.0.1")
        ok(upload_ok(s, "a2.zip", good), "once under the limit, a client from 127.0.0.1 logs in and uploads")
        t.close()
    except Exception as e:  # noqa: BLE001
        ok(False, "once under the limit, a client from 127.0.0.1 logs in and uploads: %r" % e)
    # Many addresses: the total limit.
    for a in range(3, 3 + (total // per_addr) + 2):
        flood += raw_flood(per_addr, "127.0.0.%d" % a, port)
    flood = alive(flood)
    ok(len(flood) == total, "%d unauthenticated connections held in all (limit %d)" % (len(flood), total))
    ok(not can_login(port, "bob", "127.0.0.40"), "at the total limit a new address is refused too")
    ok("new" in sa.listdir("/") and upload_ok(sa, "a3.zip", good),
       "the authenticated session is not affected")
    for c in flood:
        c.close()
    time.sleep(0.5)
    ok(can_login(port, "bob", "127.0.0.40"), "after the flood, 127.0.0.40 logs in")
    ta.close()
    finish()


def sc_authspam(port, tries):
    """auth requests of every method count against serve.max_auth_tries"""
    tries = int(tries)
    # "none" only.
    t = transport(port)
    t.start_client(timeout=20)
    answered = 0
    for _ in range(tries + 5):
        try:
            t.auth_none("alice")
        except paramiko.BadAuthenticationType:
            answered += 1
        except (paramiko.SSHException, EOFError, OSError):
            break
    ok(answered == tries - 1 and not t.is_active(),
       "auth_none spam: %d answered, then disconnected (max %d)" % (answered, tries))
    t.close()
    # keyboard-interactive only.
    t = transport(port)
    t.start_client(timeout=20)
    answered = 0
    for _ in range(tries + 5):
        try:
            t.auth_interactive("alice", lambda title, instr, prompts: ["x"] * len(prompts))
        except paramiko.BadAuthenticationType:
            answered += 1
        except (paramiko.SSHException, EOFError, OSError):
            break
    ok(answered == tries - 1 and not t.is_active(),
       "keyboard-interactive spam: %d answered, then disconnected" % answered)
    t.close()
    # Mixed, ending with raw "hostbased" requests (paramiko has no client).
    t = transport(port)
    t.start_client(timeout=20)
    n = 0
    try:
        t.auth_none("alice")
    except paramiko.BadAuthenticationType:
        n += 1
    try:
        t.auth_interactive("alice", lambda title, instr, prompts: [])
    except paramiko.BadAuthenticationType:
        n += 1
    states = []
    for _ in range(tries - n):
        m = paramiko.Message()
        m.add_byte(bytes([50]))  # MSG_USERAUTH_REQUEST
        m.add_string("alice")
        m.add_string("ssh-connection")
        m.add_string("hostbased")
        try:
            t._send_message(m)
        except (paramiko.SSHException, EOFError, OSError):
            break
        time.sleep(0.3)
        states.append(t.is_active())
    ok(len(states) == tries - n and all(states[:-1]) and not states[-1],
       "none, keyboard-interactive, then hostbased: disconnected at request %d (%r)" % (tries, states))
    t.close()
    # Password clients are unaffected: the right password at the last try.
    t = transport(port)
    t.start_client(timeout=20)
    for i in range(tries - 1):
        try:
            t.auth_none("alice")
        except paramiko.BadAuthenticationType:
            pass
    try:
        t.auth_password("alice", "pw-alice-secret")
        ok(t.is_authenticated(), "login at request %d of %d succeeds" % (tries, tries))
    except Exception as e:  # noqa: BLE001
        ok(False, "login at request %d of %d succeeds: %r" % (tries, tries, e))
    t.close()
    finish()


if __name__ == "__main__":
    scen = {"quota": sc_quota, "sessions": sc_sessions, "preauth": sc_preauth,
            "authspam": sc_authspam}
    scen[sys.argv[1]](*sys.argv[2:])
