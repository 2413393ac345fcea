#!/bin/sh
# t40-audit.sh - kura audit: checkpoint, events, prove, verify, verify-proof,
# and tampering with the sqlite3 CLI (each must make verify fail clearly).
. "$(dirname "$0")/lib.sh"

HELP="$KURA_TOP/build/$KURA_VARIANT/tests/test_audit"
V="$T/v"
ORIGIN=kura.test/audit/it

# A vault of 100 events (test helper: kura.db + log keys, no init needed).
check "make a test vault" "$HELP" mkvault "$V" 100 "$ORIGIN"

for c in checkpoint events prove verify verify-proof; do
	check "audit $c --help" "$KURA" -d "$V" audit $c --help
done
expect_rc 2 "audit without a command" "$KURA" -d "$V" audit
expect_rc 2 "audit on a missing vault" "$KURA" -d "$T/none" audit verify

check "checkpoint" sh -c "'$KURA' -d '$V' audit checkpoint >'$T/c100'"
check "checkpoint is a C2SP note" grep -q "^— $ORIGIN " "$T/c100"
check "checkpoint size line" sh -c "sed -n 2p '$T/c100' | grep -qx 100"
check "checkpoint again: unchanged" sh -c \
	"'$KURA' -d '$V' audit checkpoint | cmp -s - '$T/c100'"
check "verify a fresh log" "$KURA" -d "$V" audit verify
check "verify with a kept checkpoint" \
	"$KURA" -d "$V" audit verify --checkpoint "$T/c100" --key "$V/keys/log.pub"

# events: text and JSON lines; the tree can be recomputed from them alone.
check "events" sh -c "'$KURA' -d '$V' audit events | wc -l | grep -qx 101"
check "events --from --to" sh -c \
	"'$KURA' -d '$V' audit events --from 3 --to 4 | cut -d' ' -f1 | tr '\n' , | grep -qx 3,4,"
check "events --json" sh -c "'$KURA' -d '$V' audit events --json >'$T/ev.json'"
check "tree recomputed from events --json alone (python3)" python3 - "$T/ev.json" "$T/c100" <<'EOF'
import base64, hashlib, json, sys
leaves = [json.loads(l) for l in open(sys.argv[1])]
assert [e["index"] for e in leaves] == list(range(len(leaves)))
hs = [hashlib.sha256(b"\0" + base64.b64decode(e["leaf"])).digest() for e in leaves]
def mth(h):
    if not h: return hashlib.sha256(b"").digest()
    if len(h) == 1: return h[0]
    k = 1
    while k * 2 < len(h): k *= 2
    return hashlib.sha256(b"\1" + mth(h[:k]) + mth(h[k:])).digest()
lines = open(sys.argv[2]).read().split("\n")
size, root = int(lines[1]), base64.b64decode(lines[2])
assert mth(hs[:size]) == root, "root mismatch"
e = leaves[5]
assert base64.b64decode(e["leaf"]).startswith(b"kura-audit-event/v1\nindex 5\n")
EOF

# Proofs, checked offline with only the verifier key and checkpoints.
check "prove inclusion" sh -c "'$KURA' -d '$V' audit prove inclusion 42 >'$T/p42'"
check "leaf bytes of event 42" sh -c \
	"sed -n 43p '$T/ev.json' | python3 -c 'import json,sys,base64; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)[\"leaf\"]))' >'$T/leaf42'"
check "verify-proof inclusion (no vault)" "$KURA" -d "$T/none" audit verify-proof \
	--key "$V/keys/log.pub" --checkpoint "$T/c100" --leaf-file "$T/leaf42" "$T/p42"
expect_rc 1 "verify-proof: other leaf bytes" "$KURA" audit verify-proof \
	--key "$V/keys/log.pub" --checkpoint "$T/c100" --leaf-file "$T/ev.json" "$T/p42"
awk 'NR == 6 { c = substr($0, 1, 1); $0 = (c == "A" ? "B" : "A") substr($0, 2) } { print }' \
	"$T/p42" >"$T/p42bad"
expect_rc 1 "verify-proof: altered hash" "$KURA" audit verify-proof \
	--key "$V/keys/log.pub" --checkpoint "$T/c100" "$T/p42bad"
expect_rc 2 "verify-proof: malformed proof" "$KURA" audit verify-proof \
	--key "$V/keys/log.pub" --checkpoint "$T/c100" "$T/c100"
check "prove --tlog-proof" sh -c "'$KURA' -d '$V' audit prove inclusion 42 --tlog-proof >'$T/t42'"
check "tlog-proof format" sh -c "head -n 2 '$T/t42' | tr '\n' , | grep -qx 'c2sp.org/tlog-proof@v1,index 42,'"
check "verify-proof tlog-proof (checkpoint inside)" "$KURA" audit verify-proof \
	--key "$V/keys/log.pub" --leaf-file "$T/leaf42" "$T/t42"
expect_rc 1 "verify-proof tlog-proof: other leaf" "$KURA" audit verify-proof \
	--key "$V/keys/log.pub" --leaf-file "$T/c100" "$T/t42"
expect_rc 1 "prove --tlog-proof without a checkpoint of that size" \
	"$KURA" -d "$V" audit prove inclusion 1 --size 50 --tlog-proof
"$HELP" mkvault "$V" 37 "$ORIGIN" >/dev/null 2>&1
check "second checkpoint" sh -c "'$KURA' -d '$V' audit checkpoint >'$T/c138'"
check "prove consistency" sh -c "'$KURA' -d '$V' audit prove consistency 100 138 >'$T/pc'"
check "verify-proof consistency" "$KURA" audit verify-proof \
	--key "$V/keys/log.pub" --checkpoint "$T/c138" --checkpoint "$T/c100" "$T/pc"
check "prove inclusion --size" sh -c \
	"'$KURA' -d '$V' audit prove inclusion 0 --size 100 | sed -n 4p | grep -qx 'size 100'"
expect_rc 1 "prove beyond the log" "$KURA" -d "$V" audit prove inclusion 500
check "verify two checkpoints" "$KURA" -d "$V" audit verify --checkpoint "$T/c100"
"$HELP" mkvault "$V" 3 "$ORIGIN" >/dev/null 2>&1
check "checkpoint --if-due: not due yet (300 s)" sh -c \
	"'$KURA' -d '$V' audit checkpoint --if-due | cmp -s - '$T/c138'"
printf 'audit.checkpoint_seconds = 1\n' >"$V/kura.conf"
sleep 1.2
check "checkpoint --if-due: due after the interval" sh -c \
	"'$KURA' -d '$V' audit checkpoint --if-due | sed -n 2p | grep -qx 142"
rm -f "$V/kura.conf"
check "the trigger refuses UPDATE" sh -c \
	"sqlite3 '$V/kura.db' \"UPDATE audit_events SET actor='x' WHERE seq=1\" 2>&1 | grep -q append-only"
check "the trigger refuses DELETE" sh -c \
	"sqlite3 '$V/kura.db' 'DELETE FROM audit_events WHERE seq=1' 2>&1 | grep -q append-only"

# Tampering: each on a fresh copy; verify must fail (1) naming the spot.
tamper() { # name, sql, expected text
	rm -rf "$T/x"
	cp -r "$V" "$T/x"
	if ! sqlite3 "$T/x/kura.db" "$2" >"$T/.sql" 2>&1; then
		fail "$1: sql failed: $(cat "$T/.sql")"
		return
	fi
	"$KURA" -d "$T/x" audit verify >"$T/.v" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q "$3" "$T/.v"; then
		ok "$1: $(cat "$T/.v")"
	else
		fail "$1 (exit $rc): $(cat "$T/.v")"
	fi
}
tamper "edited column" "DROP TRIGGER audit_events_no_update;
	UPDATE audit_events SET actor='mallory' WHERE seq=57;" "index 57:"
tamper "edited details and leaf hash" "DROP TRIGGER audit_events_no_update;
	UPDATE audit_events SET details='{}', leaf_hash=zeroblob(32) WHERE seq=12;" "index 12:"
tamper "last events deleted" "DROP TRIGGER audit_events_no_delete;
	DELETE FROM audit_events WHERE seq >= 120;" "events from index 120 deleted"
tamper "event in the middle deleted" "DROP TRIGGER audit_events_no_delete;
	DELETE FROM audit_events WHERE seq = 30;" "index 30: event missing"
tamper "two events swapped" "DROP TRIGGER audit_events_no_update;
	UPDATE audit_events SET seq = -1 WHERE seq = 20;
	UPDATE audit_events SET seq = 20 WHERE seq = 21;
	UPDATE audit_events SET seq = 21 WHERE seq = -1;" "index 20:"
tamper "forged checkpoint signature" "DROP TRIGGER audit_checkpoints_no_update;
	UPDATE audit_checkpoints SET note = substr(note, 1, length(note) - 12)
	  || CASE WHEN substr(note, length(note) - 11, 1) = 'A' THEN 'B' ELSE 'A' END
	  || substr(note, length(note) - 10) WHERE size = 100;" \
	"size 100: its signature does not verify"
tamper "only the trigger dropped" "DROP TRIGGER audit_events_no_delete;" \
	"triggers of the audit tables had been dropped"

# A checkpoint signed by another key with the same origin name.
check "another log" "$HELP" mkvault "$T/w" 50 "$ORIGIN"
check "its checkpoint" sh -c "'$KURA' -d '$T/w' audit checkpoint >'$T/w50'"
tamper "checkpoint signed by another key" "INSERT INTO audit_checkpoints
	VALUES(50, zeroblob(32), '2026-01-01T00:00:00.000Z', CAST(readfile('$T/w50') AS TEXT));" \
	"size 50: its signature does not verify"
expect_rc 1 "kept checkpoint by another key" "$KURA" -d "$V" audit verify --checkpoint "$T/w50"
expect_rc 1 "verify-proof under another key" "$KURA" audit verify-proof \
	--key "$T/w/keys/log.pub" --checkpoint "$T/c100" "$T/p42"

# History rewritten and re-signed with the real key: only an auditor's
# kept checkpoint can tell.
mkdir -p "$T/r"
cp -r "$V/keys" "$T/r/keys"
check "a rewritten log with the same key" "$HELP" mkvault "$T/r" 150 "$ORIGIN"
"$KURA" -d "$T/r" audit checkpoint >/dev/null
check "the rewritten log verifies on its own" "$KURA" -d "$T/r" audit verify
expect_rc 1 "an auditor's kept checkpoint exposes it" \
	"$KURA" -d "$T/r" audit verify --checkpoint "$T/c100"
cp "$T/.out" "$T/.kept"

# A real vault made by `kura init`: its events verify, checkpoints work.
export KURA_TEST_FAST_KDF=1
printf 'admin passphrase\n' >"$T/pw"
chmod 600 "$T/pw"
if "$KURA" init "$T/real" --passphrase-file "$T/pw" --origin test.example/kura >"$T/.init" 2>&1; then
	check "init vault: verify" "$KURA" -d "$T/real" audit verify
	check "init vault: vault.init event" sh -c "'$KURA' -d '$T/real' audit events | grep -q ' vault.init'"
	check "init vault: checkpoint origin" sh -c "'$KURA' -d '$T/real' audit checkpoint | head -n 1 | grep -qx test.example/kura"
	check "init vault: log.pub names the origin" grep -q '^test.example/kura+' "$T/real/keys/log.pub"
	check "init vault: staff add is logged" sh -c "printf 'bob pw\n' >'$T/pw.bob'; chmod 600 '$T/pw.bob'; '$KURA' -d '$T/real' staff add bob --passphrase-file '$T/pw' --new-passphrase-file '$T/pw.bob' >/dev/null 2>&1 || true; '$KURA' -d '$T/real' audit verify"
	check "init vault: second checkpoint verifies" sh -c "'$KURA' -d '$T/real' audit checkpoint >/dev/null && '$KURA' -d '$T/real' audit verify"
else
	fail "kura init: $(cat "$T/.init")"
fi
sed 's/^/# /' "$T/.kept"
check "message names the kept checkpoint" grep -q "auditor checkpoint $T/c100 (size 100)" "$T/.kept"
finish
