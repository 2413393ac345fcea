#!/bin/sh
# t61-cert-negative.sh - what must fail around deletion certificates (R9):
# one byte changed, another key, a deleted document's ciphertext restored
# from an old copy (scrub flags it; still undecryptable), a keystore copy
# from before the ratchet (the certificate's stage says what it can still
# open, and it does; the live keystore cannot), a legal hold blocking
# retention and return, the two-person rule.
. "$(dirname "$0")/lib.sh"
export KURA_TEST_FAST_KDF=1
MK="$KURA_TOP/build/$KURA_VARIANT/helpers/mkcase"
V="$T/v"
K="$KURA -d $V"
printf 'alice passphrase\n' >"$T/pa"
printf 'bob passphrase\n' >"$T/pb"
chmod 600 "$T/pa" "$T/pb"
A="--staff alice --passphrase-file $T/pa"
sha() { sha256sum "$1" | cut -d' ' -f1; }

check "init" $KURA init "$V" --passphrase-file "$T/pa" --staff alice \
    --origin kura.test/t61
check "add bob" $K staff add bob --passphrase-file "$T/pa" \
    --new-passphrase-file "$T/pb" --staff alice
printf 'form A\n' >"$T/a.docx"
head -c 100000 /dev/urandom >"$T/att.pdf"
mkcase() {
	"$MK" "$V" "form_a:1:1 申請書A.docx=$T/a.docx" \
	    "attachment:3:3 添付資料.pdf=$T/att.pdf"
}

# ---- a returned case, with copies taken before the return ----
id=$(mkcase)
check "decide not-certified" $K case decide "$id" not-certified $A
cp -a "$V" "$T/snapshot" # an old copy of the whole vault (a backup)
check "return" $K case return "$id" --reason not-certified \
    --out "$T/c.cert" $A
check "the certificate verifies" $KURA cert verify "$T/c.cert" \
    --key "$V/keys/log.pub"

# ---- one byte changed, anywhere ----
python3 - "$T/c.cert" "$T" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
def put(name, b):
    open(sys.argv[2] + '/' + name, 'wb').write(b)
i = d.index(b'destroyed-bytes: ') + len(b'destroyed-bytes: ')
put('m-bytes.cert', d[:i] + bytes([d[i] ^ 1]) + d[i + 1:])
i = d.index(b'case-id: ') + len(b'case-id: ')
put('m-case.cert', d[:i] + (b'0' if d[i:i+1] != b'0' else b'1') + d[i + 1:])
i = d.index(b'\nproof ') + 20
put('m-proof.cert', d[:i] + bytes([d[i] ^ 2]) + d[i + 1:])
i = d.index(b'\ncheckpoint\n') + 30
put('m-checkpoint.cert', d[:i] + bytes([d[i] ^ 4]) + d[i + 1:])
i = d.index(b'\xe2\x80\x94 ') + 40
put('m-sig.cert', d[:i] + bytes([d[i] ^ 1]) + d[i + 1:])
put('m-trunc.cert', d[:-10])
EOF
for m in bytes case proof checkpoint sig trunc; do
	expect_rc 1 "one byte changed ($m) is rejected" \
	    $KURA cert verify "$T/m-$m.cert" --key "$V/keys/log.pub"
done

# ---- another key ----
check "a second vault" $KURA init "$T/other" --passphrase-file "$T/pa" \
    --staff alice --origin kura.test/t61
expect_rc 1 "verified with another vault's key: rejected" \
    $KURA cert verify "$T/c.cert" --key "$T/other/keys/log.pub"
id2=$("$MK" "$T/other" "attachment:3:3 x.pdf=$T/att.pdf")
check "a certificate from the other vault" $KURA -d "$T/other" case return \
    "$id2" --reason request --out "$T/other.cert" $A
expect_rc 1 "a certificate signed by another key is rejected" \
    $KURA cert verify "$T/other.cert" --key "$V/keys/log.pub"
expect_rc 1 "and does not match this vault" \
    $KURA cert verify "$T/other.cert" --key "$T/other/keys/log.pub" -d "$V"

# ---- a deleted document's ciphertext restored from the old copy ----
check "scrub passes before" $K audit scrub
cp -a "$T/snapshot/cases/$id" "$V/cases/"
expect_rc 1 "scrub flags the restored ciphertext" $K audit scrub
if last_output | grep -q "UNEXPECTED cases/$id/"; then
	ok "scrub names the restored file"
else
	fail "scrub message"
fi
expect_rc 1 "the restored document still cannot be exported" \
    $K case export "$id" --purpose "try restored" --out "$T/r1" $A
expect_rc 1 "cert verify -d sees the ciphertext is back" \
    $KURA cert verify "$T/c.cert" -d "$V"
rm -rf "${V:?}/cases/$id"
check "scrub passes again" $K audit scrub

# ---- a keystore copy from before the ratchet ----
# The certificate is primary: it says keystore copies made before the
# return still hold the retired epoch and can open the case until expiry.
if grep -q '^stage: primary$' "$T/c.cert" &&
    grep -q '^backups: keystore copies made before .* still hold epoch e1, which opens this case' "$T/c.cert"; then
	ok "stage primary says old keystore copies (epoch e1) can still open it"
else
	fail "stage/backups lines"
fi
if grep -q '^verification: .*stale-case-secret-trial=fail' "$T/c.cert" &&
    $K audit events --json | grep -q '"stale_case_secret_opens":false'; then
	ok "the pre-return sealed case secret was tried with the live epoch key: fails"
else
	fail "stale-copy trial"
fi
# ... and indeed: the old copy (keystore + ciphertext) still decrypts it
check "the pre-ratchet copy still opens the case (as stated)" \
    $KURA -d "$T/snapshot" case export "$id" --purpose "backup drill" \
    --out "$T/old" $A
if [ "$(sha "$T/old/3 添付資料.pdf")" = "$(sha "$T/att.pdf")" ]; then
	ok "old copy decrypts to the original"
else
	fail "old copy contents"
fi
# The live keystore (new epoch) with the old data cannot open it: that is
# what the ratchet buys once the old keystore copies expire (final stage).
cp "$T/snapshot/keys/keystore.db" "$T/old-keystore.db"
cp "$V/keys/keystore.db" "$T/snapshot/keys/keystore.db"
rm -f "$T/snapshot/keys/keystore.db-wal" "$T/snapshot/keys/keystore.db-shm"
cp "$V/keys/epoch.pub" "$T/snapshot/keys/epoch.pub"
expect_rc 1 "old ciphertext + live keystore (new epoch): cannot open" \
    $KURA -d "$T/snapshot" case export "$id" --purpose "after expiry" \
    --out "$T/old2" --doc 3 $A
if [ ! -e "$T/old2/3 添付資料.pdf" ]; then
	ok "nothing decrypted with the new epoch"
else
	fail "decrypted with the new epoch"
fi
# And the old keystore restored into the live vault: the live rows are
# erased, so kura refuses, and the ciphertext is gone anyway.
cp -a "$V" "$T/live2"
cp "$T/old-keystore.db" "$T/live2/keys/keystore.db"
rm -f "$T/live2/keys/keystore.db-wal" "$T/live2/keys/keystore.db-shm"
expect_rc 1 "live vault with a restored keystore: still nothing to export" \
    $KURA -d "$T/live2" case export "$id" --purpose "restored keystore" \
    --out "$T/old3" --doc 3 $A

# ---- legal hold blocks retention and return ----
h=$(mkcase)
check "decide not-certified" $K case decide "$h" not-certified $A
check "hold" $K case hold "$h" --reason "court order 2026-77" $A
expect_rc 1 "return under hold is refused" $K case return "$h" \
    --reason not-certified --out "$T/h.cert" $A
check "retention dry run" $K retention run --now 2099-01-01T00:00:00Z
if last_output | grep -q "$h.*HELD"; then
	ok "retention lists the held case as blocked"
else
	fail "retention output"
fi
check "retention --apply" $K retention run --apply \
    --now 2099-01-01T00:00:00Z --certs "$T/certs" $A
if $K case show "$h" | grep -q 'state: *not-certified (legal hold)'; then
	ok "the held case was not returned"
else
	fail "held case state"
fi
check "release" $K case release "$h" $A
check "retention --apply after release" $K retention run --apply \
    --now 2099-01-01T00:00:00Z --certs "$T/certs" $A
if [ -f "$T/certs/$h.cert" ] && $KURA cert verify "$T/certs/$h.cert" \
    --key "$V/keys/log.pub" >/dev/null; then
	ok "retention returned it with a valid certificate"
else
	fail "retention certificate"
fi
if $K audit events --json | grep -q '"action":"case.hold"' &&
    $K audit events --json | grep -q '"action":"case.release"'; then
	ok "hold and release are audited"
else
	fail "hold audit events"
fi
# expiry (R7): a certified case is due two years later, not before
e=$(mkcase)
check "decide certified" $K case decide "$e" certified $A
$K retention run >"$T/ret-now" 2>&1
$K retention run --now 2099-01-01T00:00:00Z >"$T/ret-late" 2>&1
if ! grep -q "$e" "$T/ret-now" && grep -q "$e *expired" "$T/ret-late"; then
	ok "expired certification due only after expiry (R7)"
else
	fail "expiry rule"
fi

# ---- two-person rule ----
printf '\nretention.two_person_rule = true\n' >>"$V/kura.conf"
t=$(mkcase)
expect_rc 1 "one staff member alone cannot return" $K case return "$t" \
    --reason request --out "$T/t.cert" $A
expect_rc 1 "nor approve their own return" $K case return "$t" \
    --reason request --out "$T/t.cert" $A --approve-by alice \
    --approver-passphrase-file "$T/pa"
expect_rc 1 "a wrong approver passphrase fails" $K case return "$t" \
    --reason request --out "$T/t.cert" $A --approve-by bob \
    --approver-passphrase-file "$T/pa"
check "with bob's approval it goes through" $K case return "$t" \
    --reason request --out "$T/t.cert" $A --approve-by bob \
    --approver-passphrase-file "$T/pb"
if grep -q '^approver: bob ' "$T/t.cert" && grep -q '^operator: alice ' "$T/t.cert" &&
    grep -q '^evidence: case.return.approve ' "$T/t.cert"; then
	ok "certificate names operator and approver, cites the approval"
else
	fail "approver fields"
fi
check "audit log verifies" $K audit verify
finish
