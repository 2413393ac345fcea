#!/usr/bin/python3
"""serve_note.py NOTE VKEYFILE - verifies a C2SP signed note (a kura
receipt) against a verifier key, independently of kura: exit 0 when a
signature line by that key verifies, 1 otherwise."""
import base64
import hashlib
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def main():
    note = open(sys.argv[1], "rb").read()
    vkey = open(sys.argv[2]).read().strip()
    name, keyid_hex, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64)
    assert raw[0] == 1 and len(raw) == 33
    pk = raw[1:]
    keyid = bytes.fromhex(keyid_hex)
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert want == keyid, "key id"
    i = note.rfind(b"\n\n")
    text, sigs = note[: i + 1], note[i + 2:]
    for line in sigs.decode().splitlines():
        if not line.startswith("\u2014 "):
            continue
        n, s = line[2:].rsplit(" ", 1)
        blob = base64.b64decode(s)
        if n != name or blob[:4] != keyid:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(blob[4:], text)
            print("signature ok")
            return 0
        except Exception:
            pass
    print("no valid signature")
    return 1


if __name__ == "__main__":
    sys.exit(main())
