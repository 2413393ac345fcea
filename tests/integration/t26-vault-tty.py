#!/usr/bin/env python3
"""kura init and kura staff add on a terminal (a pty): the passphrase is
asked twice without echo, a mismatch is refused, and the typed passphrase
never appears in what the terminal shows."""
import os
import pty
import select
import shutil
import tempfile
import time

from tap import finish, ok

KURA = os.environ["KURA"]


def run_tty(args, answers, timeout=30):
    """Runs args on a new pty; answers is a list of (prompt, reply).
    Returns (exit status, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["KURA_TEST_FAST_KDF"] = "1"
        os.execv(KURA, [KURA] + args)
    out = b""
    deadline = time.time() + timeout
    pending = list(answers)
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if pending and pending[0][0].encode() in out.split(b"\x00")[-1]:
            prompt, reply = pending.pop(0)
            # Only what follows this prompt counts for the next one.
            out += b"\x00"
            os.write(fd, reply.encode() + b"\n")
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = -1
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.replace(b"\x00", b"")


T = tempfile.mkdtemp(prefix="kura-tty.")
try:
    V = os.path.join(T, "v")
    secret = "s3cret-Passphrase-xyz"
    rc, out = run_tty(["init", V], [("パスフレーズ", secret), ("Again", secret)])
    ok(rc == 0, "interactive init exits 0 (%d)" % rc)
    ok(os.path.exists(os.path.join(V, "kura.db")), "vault created")
    ok(secret.encode() not in out, "passphrase not echoed")
    ok(out.count("Again".encode()) == 1, "asked twice")

    rc, out = run_tty(["init", os.path.join(T, "v2")],
                      [("パスフレーズ", "one-thing"), ("Again", "another")])
    ok(rc == 2, "mismatched passphrases refused (%d)" % rc)
    ok(not os.path.exists(os.path.join(T, "v2", "kura.db")), "no vault after mismatch")

    bob = "bob-Passphrase-123"
    rc, out = run_tty(["-d", V, "staff", "add", "bob"],
                      [("Passphrase for admin", secret), ("New passphrase for bob", bob),
                       ("Again", bob)])
    ok(rc == 0, "interactive staff add exits 0 (%d)" % rc)
    ok(secret.encode() not in out and bob.encode() not in out, "no passphrase echoed")
    rc, out = run_tty(["-d", V, "staff", "remove", "admin", "--staff", "bob"],
                      [("Passphrase for bob", bob)])
    ok(rc == 0, "bob (interactive) removes admin (%d)" % rc)
    rc, out = run_tty(["-d", V, "staff", "add", "carol", "--staff", "bob"],
                      [("Passphrase for bob", "wrong")])
    ok(rc == 1, "wrong passphrase on the terminal refused (%d)" % rc)
finally:
    shutil.rmtree(T, ignore_errors=True)
finish()
