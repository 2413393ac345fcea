#!/usr/bin/env python3
"""t08: independent check of the document-body KAT vectors (docs/format.md §1).

Decodes tests/data/doc-kat-*.hex with nothing but this page's description and
the system libsodium (ctypes): header tag, every chunk's nonce and associated
data, the last flag, and the plaintext. Prints "N passed, N failed".
"""
import ctypes
import ctypes.util
import os
import sys

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
lib = ctypes.util.find_library("sodium")
if lib is None:
    print("libsodium not found\n0 passed, 1 failed")
    sys.exit(1)
na = ctypes.CDLL(lib)
na.sodium_init()
ull = ctypes.c_ulonglong


def aead_tag(msg, ad, nonce, key):
    c = ctypes.create_string_buffer(max(len(msg), 1))
    tag = ctypes.create_string_buffer(16)
    ml = ull()
    na.crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        c, tag, ctypes.byref(ml), msg, ull(len(msg)), ad, ull(len(ad)), None,
        nonce, key)
    return tag.raw


def aead_open(ct, ad, nonce, key):
    out = ctypes.create_string_buffer(max(len(ct), 1))
    ol = ull()
    if na.crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, ctypes.byref(ol), None, ct, ull(len(ct)), ad, ull(len(ad)),
            nonce, key) != 0:
        return None
    return out.raw[:ol.value]


def check(name, size):
    key = bytes(range(32))
    doc_id = bytes(range(0x40, 0x50))
    with open(os.path.join(here, name)) as f:
        body = bytes.fromhex(f.read().strip())
    hdr = body[:64]
    assert hdr[:8] == b"KURADOC\0" and hdr[8] == 1 and hdr[9] == 1
    assert hdr[10:12] == b"\0\0" and hdr[32:48] == bytes(16)
    cs = int.from_bytes(hdr[12:16], "big")
    prefix = hdr[16:32]
    assert prefix == bytes(range(0x20, 0x30)) and cs == 1024
    ad = b"kura-doc-header-v1" + hdr[:48] + doc_id
    assert aead_tag(b"", ad, prefix + b"\xff" * 8, key) == hdr[48:64]
    rest, plain = body[64:], b""
    n = size // cs + 1
    for i in range(n):
        last = i == n - 1
        ln = (size % cs if last else cs) + 16
        ct, rest = rest[:ln], rest[ln:]
        idx = i.to_bytes(8, "big")
        p = aead_open(ct, doc_id + idx + bytes([last]) + hdr[:48],
                      prefix + idx, key)
        assert p is not None, "chunk %d" % i
        plain += p
    assert rest == b""
    assert plain == bytes(k % 251 for k in range(size))


passed = failed = 0
for name, size in (("doc-kat-0.hex", 0), ("doc-kat-2048.hex", 2048),
                   ("doc-kat-2500.hex", 2500)):
    try:
        check(name, size)
        print("ok - " + name)
        passed += 1
    except AssertionError as e:
        print("FAILED - %s %s" % (name, e))
        failed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
