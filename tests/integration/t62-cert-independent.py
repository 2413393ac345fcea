#!/usr/bin/env python3
"""t62-cert-independent.py - a deletion certificate checked by a second,
independent implementation (Python, python3-cryptography's Ed25519) that
follows only docs/certificate.md, C2SP signed-note and RFC 9162: the
verifier is first checked against the signed-note corpus vectors, then a
certificate made by kura must pass it and forgeries must fail it (R9)."""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

from tap import finish, ok

KURA = os.environ["KURA"]
TOP = os.environ.get("KURA_TOP", ".")
SHARED = os.environ.get("KURA_SHARED", "../shared")
VARIANT = os.environ.get("KURA_VARIANT", "rel")
MK = os.path.join(TOP, "build", VARIANT, "helpers", "mkcase")
sys.stdout.reconfigure(line_buffering=True)


# ---- C2SP signed note (independent) ----
def parse_vkey(vkey):
    name, keyid, b = vkey.split("+", 2)
    raw = base64.b64decode(b, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 vkey")
    kid = hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4]
    if kid.hex() != keyid:
        raise ValueError("key id")
    return name, kid, raw[1:]


def note_verify(note, vkey):
    """Returns the text when a signature by vkey verifies, else None."""
    name, kid, pk = parse_vkey(vkey)
    try:
        s = note.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 0x20 and c != "\n" for c in s):
        return None
    i = note.rfind(b"\n\n")
    if i < 0:
        return None
    text, sigs = note[: i + 1], note[i + 2:]
    good = False
    for line in sigs.split(b"\n")[:-1]:
        if not line.startswith("\u2014 ".encode()):
            return None
        lname, b64 = line[4:].decode().split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        if lname != name or raw[:4] != kid:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(raw[4:], text)
            good = True
        except InvalidSignature:
            return None  # a known key that does not verify: reject
    return text if good else None


# ---- RFC 9162 inclusion ----
def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def inclusion_ok(index, size, leaf, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_cert(data, vkey):
    """docs/certificate.md §4, steps 1-5; anything malformed fails."""
    try:
        return verify_cert_strict(data, vkey)
    except Exception as e:  # a forgery may break base64 or the layout
        return "malformed: %s" % e


def verify_cert_strict(data, vkey):
    """docs/certificate.md §4, steps 1-5, written from the document."""
    first = data.index(b"\n\n")
    rest = data[first + 2:]
    sigs = b""
    while rest.startswith("\u2014 ".encode()):
        nl = rest.index(b"\n")
        sigs += rest[: nl + 1]
        rest = rest[nl + 1:]
    if not sigs or not rest.startswith(b"\n"):
        return "layout"
    note = data[: first + 2] + sigs
    text = note_verify(note, vkey)
    if text is None:
        return "signature"
    lines = text.decode().split("\n")[:-1]
    if lines[0] != "kura-deletion-certificate/v1":
        return "format"
    kv = [l.split(": ", 1) for l in lines[1:]]
    fields = {}
    evidence = []
    destroyed = []
    for k, v in kv:
        if k == "evidence":
            a, i, h = v.split(" ")
            evidence.append((a, int(i), base64.b64decode(h)))
        elif k == "destroyed":
            destroyed.append(v)
        else:
            fields.setdefault(k, v)
    if fields.get("result") != "PASS":
        return "result"
    if int(fields["destroyed-count"]) != len(destroyed):
        return "count"
    total = sum(int(d.split(" ")[1]) for d in destroyed)
    if int(fields["destroyed-bytes"]) != total:
        return "bytes"
    size_s, root_s = fields["evidence-checkpoint"].split(" ")
    size, root = int(size_s), base64.b64decode(root_s)
    b = rest[1:].split(b"\n")
    if b[0] != b"kura-certificate-evidence/v1":
        return "bundle"
    pos, proofs, leaves = 1, {}, {}
    while b[pos] != b"checkpoint":
        w = b[pos].split(b" ")
        if w[0] == b"leaf":
            leaves[int(w[1])] = base64.b64decode(w[2])
            pos += 1
            continue
        idx, n = int(w[1]), int(w[2])
        proofs[idx] = [base64.b64decode(x) for x in b[pos + 1: pos + 1 + n]]
        pos += 1 + n
    cp = b"\n".join(b[pos + 1:])
    cptext = note_verify(cp, vkey)
    if cptext is None:
        return "checkpoint signature"
    o, s, r = cptext.decode().split("\n")[:3]
    if o != fields["log-origin"] or int(s) != size or base64.b64decode(r) != root:
        return "checkpoint mismatch"
    for a, i, h in evidence:
        if i in leaves and hashlib.sha256(b"\x00" + leaves[i]).digest() != h:
            return "leaf"
        if i not in proofs or not inclusion_ok(i, size, h, proofs[i], root):
            return "inclusion %s %d" % (a, i)
    if not any(a == "case.erase" for a, _, _ in evidence):
        return "no erase event"
    return None


# ---- the verifier itself against the corpus vectors ----
vec = json.load(open(os.path.join(SHARED, "corpus/merkle/derived/signed-note-vectors.json")))
keys = vec["keys"]
for n in vec["valid_notes"]:
    for who in n["expect_verified"]:
        t = note_verify(n["signed_note"].encode(), keys[who]["vkey"])
        ok(t == n["text"].encode(), "vector valid note verifies: " + n["desc"][:50])
for n in vec["invalid_notes"]:
    # the verifier knows only the vector's keys (none: an unrelated one)
    for who in n.get("verifiers") or ["example.com/foo"]:
        try:
            t = note_verify(n["signed_note"].encode(), keys[who]["vkey"])
        except Exception:
            t = None
        ok(t is None, "vector invalid note rejected (%s): %s" % (who, n["desc"][:40]))

# ---- a certificate made by kura ----
env = dict(os.environ, KURA_TEST_FAST_KDF="1")
with tempfile.TemporaryDirectory(prefix="kura-t62.") as T:
    pw = os.path.join(T, "pw")
    with open(pw, "w") as f:
        f.write("t62 passphrase\n")
    os.chmod(pw, 0o600)
    V = os.path.join(T, "v")

    def run(*args):
        return subprocess.run(args, env=env, capture_output=True, text=True)

    r = run(KURA, "init", V, "--passphrase-file", pw, "--staff", "alice",
            "--origin", "kura.test/t62")
    ok(r.returncode == 0, "init")
    att = os.path.join(T, "att.pdf")
    with open(att, "wb") as f:
        f.write(os.urandom(70000))
    r = run(MK, V, "form_a:1:1 申請書A.docx=" + att, "attachment:3:3 添付.pdf=" + att)
    cid = r.stdout.strip()
    ok(r.returncode == 0 and len(cid) == 16, "case stored")
    run(KURA, "-d", V, "case", "decide", cid, "certified", "--passphrase-file", pw)
    cert = os.path.join(T, "c.cert")
    r = run(KURA, "-d", V, "case", "return", cid, "--reason", "expired",
            "--out", cert, "--passphrase-file", pw)
    ok(r.returncode == 0, "return")
    vkey = open(os.path.join(V, "keys/log.pub")).read().strip()
    data = open(cert, "rb").read()
    err = verify_cert(data, vkey)
    ok(err is None, "kura's certificate passes the independent verifier (%s)" % err)
    h = hashlib.sha256(data).hexdigest()
    r = run(KURA, "-d", V, "audit", "events", "--json")
    ok(h in r.stdout, "its SHA-256 is in the log")
    # forgeries
    bad = data.replace(b"destroyed-count: 1", b"destroyed-count: 2", 1)
    ok(verify_cert(bad, vkey) is not None, "changed count rejected")
    i = data.index(b"\nproof ") + 15
    bad = data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
    ok(verify_cert(bad, vkey) is not None, "changed proof rejected")
    ok(verify_cert(data, keys["PeterNeumann"]["vkey"]) is not None,
       "another key rejected")
    # and kura rejects what the independent verifier rejects
    badf = os.path.join(T, "bad.cert")
    with open(badf, "wb") as f:
        f.write(data.replace(b"destroyed-count: 1", b"destroyed-count: 2", 1))
    r = run(KURA, "cert", "verify", badf, "--key", os.path.join(V, "keys/log.pub"))
    ok(r.returncode == 1, "kura rejects it too")

finish()
