#!/bin/sh
# kura check (security review 1, #4): a PDF over 16 MiB is checked whole
# by qpdf (copied whole into memory), not by searching its last MiB for the
# literal "/Encrypt": an encrypted 17 MiB PDF whose trailer spells the key
# /Encr#79pt is rejected as encrypted; the same PDF unencrypted is not.
. "$(dirname "$0")/lib.sh"

cat >"$T/gen.py" <<'PY'
import os, sys, zipfile
data = os.urandom(17 << 20)
objs = [b"<< /Type /Catalog /Pages 2 0 R /Big 5 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"]
content = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET"
objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
objs.append(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
offs = []
for i, o in enumerate(objs):
    offs.append(len(out))
    out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs:
    out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(sys.argv[1], "wb").write(out)
PY
cat >"$T/hide.py" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
i = d.rfind(b"trailer")
# The trailer follows the xref table: no offset moves.
d = d[:i] + d[i:].replace(b"/Encrypt", b"/Encr#79pt")
open(sys.argv[2], "wb").write(d)
PY
cat >"$T/zip.py" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED)
z.write(sys.argv[2], "03_資料.pdf")
z.close()
PY
cat >"$T/codes.py" <<'PY'
import json, sys
print(" ".join(p["code"] for p in json.load(sys.stdin)["problems"]))
PY
check "17 MiB PDF" python3 "$T/gen.py" "$T/big.pdf"
check "encrypted (empty user password)" qpdf --encrypt "" owner 256 -- "$T/big.pdf" "$T/enc.pdf"
check "/Encrypt spelled /Encr#79pt" python3 "$T/hide.py" "$T/enc.pdf" "$T/hidden.pdf"
check "qpdf still sees the encryption" sh -c "qpdf --show-encryption '$T/hidden.pdf' | grep -q 'R = 6'"
for f in big enc hidden; do
	python3 "$T/zip.py" "$T/$f.zip" "$T/$f.pdf"
	"$KURA" check "$T/$f.zip" --json >"$T/$f.json"
	python3 "$T/codes.py" <"$T/$f.json" >"$T/$f.codes"
done
grep -q format.encrypted "$T/enc.codes" && ok "encrypted 17 MiB PDF: format.encrypted" || fail "encrypted 17 MiB PDF: $(cat "$T/enc.codes")"
grep -q format.encrypted "$T/hidden.codes" && ok "/Encr#79pt 17 MiB PDF: format.encrypted" || fail "/Encr#79pt 17 MiB PDF: $(cat "$T/hidden.codes")"
grep -q 'format\.' "$T/big.codes" && fail "plain 17 MiB PDF: $(cat "$T/big.codes")" || ok "plain 17 MiB PDF: no format problem"
finish
