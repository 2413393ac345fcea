#!/usr/bin/python3
"""serve_smtp.py PORT OUTDIR - a real SMTP server (aiosmtpd) on
127.0.0.1:PORT that stores every message it receives as OUTDIR/N.eml."""
import os
import sys
import time

from aiosmtpd.controller import Controller


class Store:
    n = 0

    async def handle_DATA(self, server, session, envelope):
        Store.n += 1
        p = os.path.join(sys.argv[2], "%04d.eml" % Store.n)
        with open(p + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(p + ".tmp", p)
        return "250 OK"


c = Controller(Store(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
try:
    time.sleep(600)
finally:
    c.stop()
