#!/usr/bin/python3
"""keeper_client.py login PORT USER PASSWORD [SRC]
keeper_client.py get PORT USER PASSWORD REMOTE LOCAL
- small paramiko steps for t58-serve-keeper.sh: exit 0 when the login (and
the listing of /, or the download) worked, 1 otherwise."""
import socket
import sys

import paramiko


def session(port, user, password, src="127.0.0.1"):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=15,
                                    source_address=(src, 0))
    t = paramiko.Transport(sock)
    t.banner_timeout = 15
    t.auth_timeout = 15
    t.connect(username=user, password=password)
    return t, paramiko.SFTPClient.from_transport(t)


def main():
    op, port, user, password = sys.argv[1:5]
    try:
        if op == "login":
            src = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1"
            t, s = session(port, user, password, src)
            s.listdir("/")
        else:
            t, s = session(port, user, password)
            s.get(sys.argv[5], sys.argv[6])
        t.close()
    except (paramiko.SSHException, OSError, EOFError) as e:
        print("failed: %r" % e)
        sys.exit(1)
    sys.exit(0)


main()
