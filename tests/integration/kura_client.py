"""kura_client.py - the paramiko pieces every SFTP client scenario of the
integration tests uses (serve_client.py, harden_client.py): a transport
from a chosen source address, a login by password or key, and whole-file
reads and writes. Run with Debian's /usr/bin/python3 (python3-paramiko)."""
import socket

import paramiko


def transport(port, src="127.0.0.1", timeout=30):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout,
                                    source_address=(src, 0))
    t = paramiko.Transport(sock)
    t.banner_timeout = timeout
    t.auth_timeout = timeout
    return t


def login(port, user, password=None, key=None, src="127.0.0.1"):
    t = transport(port, src)
    pkey = paramiko.Ed25519Key.from_private_key_file(key) if key else None
    t.connect(username=user, password=password, pkey=pkey)
    return t, paramiko.SFTPClient.from_transport(t)


def fails(fn, *a):
    try:
        fn(*a)
    except (IOError, OSError, EOFError, paramiko.SSHException):
        return True
    return False


def read(s, path):
    with s.open(path, "rb") as f:
        return f.read()


def upload(s, path, data, chunk=32768, pipelined=True):
    # paramiko swallows errors at close: unpipelined writes see each one.
    with s.open(path, "wb") as f:
        f.set_pipelined(pipelined)
        for i in range(0, len(data), chunk):
            f.write(data[i:i + chunk])
