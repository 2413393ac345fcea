#!/bin/sh
# PuTTY's psftp against kura serve. WinSCP and FileZilla (fzsftp) are built
# on PuTTY's SSH and SFTP code, which differs from OpenSSH's: its own key
# exchange and cipher choices, its own SFTP request pipelining. The
# applicant checks the published host key fingerprint (`kura hostkey`)
# with -hostkey; a wrong fingerprint must stop the connection. Key login
# with a .ppk made by puttygen, password login from a file, WinSCP's
# upload-to-temporary-name + rename + chmod sequence, a Japanese name, and
# what must be refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none"
ssh-keygen -q -t ed25519 -N "" -f "$T/pk" -C putty@test
check "puttygen: OpenSSH key to .ppk" puttygen "$T/pk" -O private -o "$T/pk.ppk"
check "account (key + password)" serve_account "$V" pt --pubkey "$T/pk.pub"
check "hostkey" "$KURA" -d "$V" hostkey
FP=$(last_output | head -n 1)
check "examples built" serve_examples
check "server starts" serve_start "$V"

# -batch: no prompt ever; -hostkey: the published fingerprint, nothing else.
PS="timeout 60 psftp -batch -no-trivial-auth -P $PORT -hostkey $FP"

# ---- key login, WinSCP's sequence: temporary name, rename, chmod, stat
cp "$EX/sample-new.zip" "$T/申請書類.zip"
cat >"$T/b1" <<B
cd /new
put $T/申請書類.zip 申請書類.zip.filepart
mv 申請書類.zip.filepart 申請書類.zip
chmod 644 申請書類.zip
cd /results
get 申請書類.zip.result.json $T/r1.json
get 申請書類.zip.result.txt $T/r1.txt
get 申請書類.zip.receipt $T/r1.receipt
ls
B
check "psftp (key, .ppk): upload, rename, chmod, results" $PS -i "$T/pk.ppk" -b "$T/b1" pt@127.0.0.1
grep -q '"verdict":"accept"' "$T/r1.json" && ok "accepted via psftp" || fail "verdict: $(head -c 300 "$T/r1.json")"
rec=$(sed -n 's/^receipt: //p' "$T/r1.receipt")
head -n 1 "$T/r1.txt" | grep -q "受付番号 $rec" && ok "receipt $rec in the text result" || fail "text result / receipt"
n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM intake_submissions WHERE verdict = 'accepted'")
[ "$n" = 1 ] && ok "one submission, not two (the .filepart was not validated)" || fail "accepted submissions: $n"

# ---- password login from a file; a hostile ZIP gets its report
printf 'PK\003\004 truncated' >"$T/bad.zip"
cat >"$T/b2" <<B
put $T/bad.zip /new/bad.zip
get /results/bad.zip.result.txt $T/r2.txt
B
check "psftp (password)" $PS -pwfile "$T/pw-pt" -b "$T/b2" pt@127.0.0.1
head -n 1 "$T/r2.txt" | grep -q '受理できませんでした' && ok "rejection in Japanese first" || fail "r2: $(head -n 2 "$T/r2.txt")"

# ---- refused: each in its own batch (psftp stops a batch at the first error)
refused() {
	what=$1
	printf '%s\n' "$2" >"$T/bx"
	if $PS -pwfile "$T/pw-pt" -b "$T/bx" pt@127.0.0.1 >"$T/.out" 2>&1; then
		fail "$what (it succeeded)"
	else
		ok "$what"
	fi
}
refused "read an upload back" "get /new/申請書類.zip $T/back.zip"
[ ! -e "$T/back.zip" ] || [ ! -s "$T/back.zip" ] && ok "nothing read back" || fail "bytes of an upload came back"
refused "overwrite an accepted upload" "put $T/bad.zip /new/申請書類.zip"
refused "remove a result" "rm /results/bad.zip.result.txt"
refused "upload into /results" "put $T/bad.zip /results/x.zip"
refused "rename out of the upload folder" "mv /new/申請書類.zip /results/stolen"
refused "make a folder" "mkdir /new/sub"
refused "escape with .." "put $T/bad.zip /new/../../../tmp/x.zip"

# ---- the server's refusal texts (WinSCP shows them; psftp prints its own):
# Japanese first, then English, saying what to do. Read with paramiko.
check "refusal texts" "$PY" - "$PORT" "$(dirname "$0")" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[2])
from kura_client import login
t, s = login(int(sys.argv[1]), "pt", password="pw-pt-secret")
def text(fn, *a):
    try:
        fn(*a)
    except IOError as e:
        return str(e)
    return "(no error)"
bad = 0
for got, want in [
    (text(s.open, "/new/申請書類.zip", "wb"), ("受理済みで上書きできません", "upload under another name")),
    (text(s.remove, "/results/bad.zip.result.txt"), ("この操作はできません", "not allowed")),
]:
    ok = all(w in got for w in want) and got.find(want[0]) < got.find(want[1])
    print(("ok - " if ok else "not ok - ") + got)
    bad += not ok
t.close()
sys.exit(1 if bad else 0)
PYEOF

# ---- the published fingerprint is the server's: a wrong one stops psftp
printf 'ls\n' >"$T/b3"
if timeout 60 psftp -batch -P "$PORT" -hostkey "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	-pwfile "$T/pw-pt" -b "$T/b3" pt@127.0.0.1 >"$T/.out" 2>&1; then
	fail "psftp accepted a host key that is not the published one"
else
	ok "a wrong fingerprint is refused by the client"
fi
n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM intake_submissions")
[ "$n" = 2 ] && ok "refused operations stored nothing ($n submissions)" || fail "submissions: $n"
check "audit verify" "$KURA" -d "$V" audit verify
check "server stops cleanly" serve_stop
finish
