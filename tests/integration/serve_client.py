#!/usr/bin/python3
"""serve_client.py SCENARIO ARGS... - paramiko scenarios against a running
`kura serve` (tests t50-t54). Each scenario prints "ok - ..." or
"not ok - ..." lines, then "N passed, N failed", and exits 1 on failure.
Run with Debian's /usr/bin/python3 (python3-paramiko)."""
import hashlib
import os
import sys
import threading
import time

import paramiko

from kura_client import fails, login, read, transport, upload
from tap import finish, ok


# ---------------------------------------------------------------- scenarios
def sc_forward(port, user, key):
    """direct-tcpip and a second session's exec are refused"""
    t, s = login(port, user, key=key)
    try:
        t.open_channel("direct-tcpip", ("127.0.0.1", 22), ("127.0.0.1", 1))
        ok(False, "direct-tcpip refused")
    except paramiko.ChannelException:
        ok(True, "direct-tcpip refused")
    try:
        ch = t.open_session()
        ch.exec_command("id")
        ok(False, "exec on a second channel refused")
    except (paramiko.SSHException, paramiko.ChannelException):
        ok(True, "exec on a second channel refused")
    ok(t.is_active(), "session survives refused requests")
    s.listdir("/")
    t.close()
    finish()


def sc_security(port, zip_ok, maxbytes):
    """path escapes, other accounts, no read-back, no overwrite, before
    auth, forged auth success, limits during the write"""
    data = open(zip_ok, "rb").read()
    t, s = login(port, "alice", password="pw-alice-secret")
    # REALPATH and STAT never leave the tree.
    ok(s.normalize("..") == "/", "realpath .. is /")
    ok(s.normalize("/new/../../..") == "/", "realpath clamps at /")
    for p in ["/../etc/passwd", "/new/../../etc/passwd", "/etc/passwd",
              "/tmp", "/new/../../../../../../tmp", "//etc//passwd",
              "/results/../../etc/shadow", "/new/..\\..\\x.zip"]:
        ok(fails(s.stat, p), "stat %s: nothing" % p)
        ok(fails(read, s, p), "read %s: nothing" % p)
    ok(sorted(s.listdir("/..")) == sorted(s.listdir("/")),
       "listdir /.. is the root")
    ok(fails(s.listdir, "/../../etc"), "listdir /../../etc fails")
    ok(fails(s.listdir, "/tmp"), "listdir /tmp fails")
    # Writes outside the upload folders.
    for p in ["/new/../../tmp/kura-escape.zip", "/../kura-escape.zip",
              "/kura-escape.zip", "/README.txt", "/results/x.zip",
              "/results/../kura-escape.zip", "/new/sub/x.zip",
              "/renewal/x.zip", "/renewal/NOT-LINKED/x.zip",
              "/new/..\\..\\kura-escape.zip"]:
        ok(fails(upload, s, p, b"PK"), "write %s refused" % p)
    ok(not os.path.exists("/tmp/kura-escape.zip"), "nothing written on the host")
    ok(fails(s.mkdir, "/new/d"), "mkdir refused")
    ok(fails(s.rmdir, "/new"), "rmdir refused")
    ok(fails(s.remove, "/README.txt"), "remove README refused")
    ok(fails(s.symlink, "/etc/passwd", "/new/link.zip"), "symlink refused")
    ok(fails(s.symlink, "/README.txt", "/new/link2.zip"), "symlink in tree refused")
    ok(fails(s.readlink, "/README.txt"), "readlink refused")
    ok(fails(s.chmod, "/README.txt", 0o777), "chmod README refused")
    # An upload: accepted, then not readable, not listed, not overwritable.
    upload(s, "/new/mine.zip", data)
    r = read(s, "/results/mine.zip.result.json").decode()
    ok('"verdict":"accept"' in r, "valid upload accepted")
    ok(fails(read, s, "/new/mine.zip"), "upload cannot be read back")
    ok("mine.zip" not in s.listdir("/new"), "uploads are not listed")
    ok(fails(upload, s, "/new/mine.zip", data), "no overwrite (same session)")
    ok(fails(s.rename, "/new/mine.zip", "/new/other.zip"), "no rename of a complete upload")
    ok(fails(s.rename, "/results/mine.zip.result.json", "/new/r.zip"),
       "no rename out of /results")
    ok(fails(s.remove, "/results/mine.zip.result.json"), "results are read-only")
    upload(s, "/new/tmp.zip.filepart", data[:100])
    ok(fails(s.rename, "/new/tmp.zip.filepart", "/../tmp.zip"), "rename out of the tree refused")
    ok(fails(s.rename, "/new/tmp.zip.filepart", "/results/tmp.zip"), "rename into /results refused")
    ok(fails(s.rename, "/new/tmp.zip.filepart", "/renewal/AI00000001/tmp.zip"),
       "rename across folders refused")
    s.remove("/new/tmp.zip.filepart")
    t.close()
    t, s = login(port, "alice", password="pw-alice-secret")
    ok(fails(upload, s, "/new/mine.zip", data), "no overwrite (new session)")
    # Size limit and quota while writing.
    big = os.urandom(int(maxbytes) + 65536)
    ok(fails(upload, s, "/new/big.zip", big, 32768, False),
       "over the size limit: write fails")
    ok("big.zip.result.json" not in s.listdir("/results"), "nothing kept for it")
    t.close()
    # Another account sees none of it.
    t, s = login(port, "carol", password="pw-carol-secret")
    ok("mine.zip.result.json" not in s.listdir("/results"), "other account: results not listed")
    ok(fails(read, s, "/results/mine.zip.result.json"), "other account: result unreadable")
    ok(fails(s.stat, "/renewal/AI00000001"), "other account: 認定番号 folder absent")
    ok(s.listdir("/renewal") == [], "other account: no services")
    t.close()
    # SFTP before authentication, and a forged USERAUTH_SUCCESS (CVE-2018-10933).
    t = transport(port)
    t.start_client(timeout=20)
    ok(fails(t.open_session), "session before auth refused")
    t.close()
    t = transport(port)
    t.start_client(timeout=20)
    m = paramiko.Message()
    m.add_byte(bytes([52]))  # MSG_USERAUTH_SUCCESS, sent by the client
    t._send_message(m)
    t.authenticated = True
    ok(fails(lambda: paramiko.SFTPClient.from_transport(t).listdir("/")),
       "forged auth success: no SFTP")
    t.close()
    finish()


def sc_winscp(port, zip_ok):
    """WinSCP: NAME.filepart, FSETSTAT, close, rename, SETSTAT"""
    data = open(zip_ok, "rb").read()
    t, s = login(port, "alice", password="pw-alice-secret")
    f = s.open("/new/申請書類.zip.filepart", "wb")
    f.set_pipelined(True)
    half = len(data) // 2
    # Out-of-order writes, as pipelining clients may send them.
    f.seek(half)
    f.write(data[half:])
    f.seek(0)
    f.write(data[:half])
    f.chmod(0o644)  # FSETSTAT
    f.utime((1700000000, 1700000000))
    f.close()
    ok("申請書類.zip.filepart.result.json" not in s.listdir("/results"),
       "no validation of the .filepart")
    ok(s.stat("/new/申請書類.zip.filepart").st_size == len(data), "stat of the temporary file")
    s.rename("/new/申請書類.zip.filepart", "/new/申請書類.zip")
    s.utime("/new/申請書類.zip", (1700000000, 1700000000))  # SETSTAT
    s.chmod("/new/申請書類.zip", 0o644)
    ok(True, "SETSTAT after rename accepted")
    r = read(s, "/results/申請書類.zip.result.json").decode()
    ok('"verdict":"accept"' in r, "validated after the rename: accepted")
    txt = read(s, "/results/申請書類.zip.result.txt").decode()
    ok(txt.startswith("受付結果"), "result.txt Japanese first")
    rc = read(s, "/results/申請書類.zip.receipt").decode()
    ok(hashlib.sha256(data).hexdigest() in rc, "receipt names the ZIP's SHA-256")
    # posix-rename@openssh.com, and a cancelled transfer.
    upload(s, "/new/b.zip.filepart", data)
    s.posix_rename("/new/b.zip.filepart", "/new/b.zip")
    ok('"verdict":"accept"' in read(s, "/results/b.zip.result.json").decode(),
       "posix-rename completes the upload")
    upload(s, "/new/c.zip.filepart", data[:1000])
    s.remove("/new/c.zip.filepart")
    ok(fails(s.stat, "/new/c.zip.filepart"), "cancelled .filepart removed")
    ok("c.zip.result.json" not in s.listdir("/results"), "nothing for a cancelled upload")
    t.close()
    finish()


def sc_concurrent(port, n, zip_ok, key, prefix="c"):
    """n parallel clients, half valid, half hostile, each its own verdict"""
    n = int(n)
    good = open(zip_ok, "rb").read()
    bad = b"PK\x03\x04" + os.urandom(4000)
    res = {}

    def one(i):
        try:
            t, s = login(port, "u%d" % (i % 5), key=key)
            name = "%s%02d.zip" % (prefix, i)
            upload(s, "/new/" + name, good if i % 2 == 0 else bad)
            res[i] = read(s, "/results/" + name + ".result.json").decode()
            t.close()
        except Exception as e:  # noqa: BLE001
            res[i] = "error: %r" % e
    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.time()
    for x in th:
        x.start()
    for x in th:
        x.join(120)
    dt = time.time() - t0
    right = 0
    for i in range(n):
        want = '"verdict":"accept"' if i % 2 == 0 else '"verdict":"reject"'
        if want in res.get(i, ""):
            right += 1
        else:
            print("# %d: %s" % (i, res.get(i, "")[:200]))
    ok(right == n, "%d/%d concurrent uploads with the right verdict (%.1f s)" % (right, n, dt))
    receipts = set()
    for i in range(0, n, 2):
        r = res.get(i, "")
        j = r.find('"number":"', r.find('"receipt"'))
        receipts.add(r[j + 10:j + 21])
    ok(len(receipts) == (n + 1) // 2, "every accepted upload has its own receipt number")
    finish()


def sc_lockout(port, attempts):
    """many failed logins from 127.0.0.1: lockout; alice from 127.0.0.2"""
    attempts = int(attempts)
    refused = 0
    t0 = time.time()
    for i in range(attempts):
        t = None
        try:
            t = transport(port, timeout=10)
            t.connect(username="nobody%d" % (i % 7), password="guess%d" % i)
            ok(False, "a guess logged in")
            break
        except paramiko.AuthenticationException:
            pass  # a wrong password, answered
        except (paramiko.SSHException, OSError, EOFError):
            refused += 1  # closed before any SSH: locked out at accept
        finally:
            if t is not None:
                t.close()  # else it holds an unauthenticated slot
    dt = time.time() - t0
    ok(refused > attempts // 2,
       "lockout engaged: %d of %d attempts refused at accept (%.1f s)" % (refused, attempts, dt))
    ok(fails(login, port, "alice", "pw-alice-secret"),
       "locked address: even the right password is refused")
    try:
        t, s = login(port, "alice", password="pw-alice-secret", src="127.0.0.2")
        ok("new" in s.listdir("/"), "another account from 127.0.0.2 logs in")
        t.close()
    except Exception as e:  # noqa: BLE001
        ok(False, "another account from 127.0.0.2 logs in: %r" % e)
    finish()


def sc_slow_upload(port, path, total, pause_after, pidfile):
    """writes total bytes to path, pausing (holding the session) after
    pause_after bytes until killed; writes a marker file when paused"""
    t, s = login(port, "alice", password="pw-alice-secret")
    f = s.open(path, "wb")
    data = os.urandom(32768)
    sent = 0
    try:
        while sent < int(total):
            f.write(data)
            sent += len(data)
            if sent >= int(pause_after):
                f.flush()
                s.stat("/")  # round trip: the server has the data
                open(pidfile, "w").write("paused\n")
                for _ in range(600):
                    time.sleep(0.2)
                    s.stat("/")
        f.close()
        print("completed")
    except Exception as e:  # noqa: BLE001
        print("upload failed: %r" % e)
        sys.exit(3)


def sc_upload(port, path, src, expect):
    """one upload; expect 'ok' or 'fail'"""
    data = open(src, "rb").read()
    try:
        t, s = login(port, "alice", password="pw-alice-secret")
        upload(s, path, data, 32768, False)
        # The next request is served once the upload is processed.
        s.stat("/results/" + path.rsplit("/", 1)[1] + ".result.json")
        got = "ok"
        t.close()
    except Exception as e:  # noqa: BLE001
        print("# %r" % e)
        got = "fail"
    ok(got == expect, "upload %s: %s" % (path, got))
    finish()


def sc_disconnect(port, path):
    """drops the connection in the middle of an upload"""
    t, s = login(port, "alice", password="pw-alice-secret")
    f = s.open(path, "wb")
    for _ in range(20):
        f.write(os.urandom(32768))
    s.stat("/")
    t.sock.close()
    ok(True, "disconnected mid-upload")
    finish()


def sc_idle(port, n, key, hold, user):
    """holds n authenticated idle sessions of user for hold seconds"""
    conns = []
    for i in range(int(n)):
        conns.append(login(port, user, key=key))
    print("holding %d sessions" % len(conns))
    sys.stdout.flush()
    time.sleep(float(hold))
    for t, s in conns:
        t.close()
    ok(True, "held %s sessions" % n)
    finish()


if __name__ == "__main__":
    scen = {"forward": sc_forward, "security": sc_security, "winscp": sc_winscp,
            "concurrent": sc_concurrent, "lockout": sc_lockout,
            "slow_upload": sc_slow_upload, "upload": sc_upload,
            "disconnect": sc_disconnect, "idle": sc_idle}
    scen[sys.argv[1]](*sys.argv[2:])
