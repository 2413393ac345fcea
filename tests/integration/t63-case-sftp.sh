#!/bin/sh
# t63-case-sftp.sh - the real path: an applicant uploads over SFTP
# (OpenSSH sftp), the intake accepts and makes the case; staff export,
# decide (the 認定番号 is linked to the account so a renewal can attach),
# a renewal is uploaded under that number, the old case is returned as
# superseded (R7) and a new-application case as not-certified (R9); the
# certificates verify, deleted documents no longer export, scrub passes,
# retained form A still exports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"
export KURA_TEST_FAST_KDF=1
V="$T/v"
K="$KURA -d $V"
A="--passphrase-file $SP"

check "vault" serve_vault "$V" "mail.relay = none"
ssh-keygen -q -t ed25519 -N "" -f "$T/key" -C applicant@test
check "account" serve_account "$V" acme --pubkey "$T/key.pub"
check "examples built" serve_examples
check "server starts" serve_start "$V"

upload() { # FOLDER ZIP NAME -> result json in $T/NAME.json
	printf 'put %s %s/%s\nget /results/%s.result.json %s\n' "$2" "$1" "$3" \
	    "$3" "$T/$3.json" >"$T/batch-$3"
	sftp_key acme "$T/key" "$T/batch-$3" >/dev/null 2>&1
}
case_of() { sed -n 's/.*"case":"\([0-9a-f]*\)".*/\1/p' "$T/$1.json" | head -n 1; }

check "upload a new application" upload /new "$EX/sample-new.zip" first.zip
c1=$(case_of first.zip)
[ -n "$c1" ] && ok "accepted: case $c1" || { fail "no case"; cat "$T/first.zip.json"; }
check "upload another one" upload /new "$EX/sample-new.zip" second.zip
c2=$(case_of second.zip)
[ -n "$c2" ] && [ "$c2" != "$c1" ] && ok "second case $c2" || fail "second case"

check "case list" $K case list
if $K case show "$c1" | grep -q 'applicant: *株式会社acme (acme)' &&
    $K case show "$c1" | grep -Eq 'receipt: *[0-9]{4}-[0-9]{6}'; then
	ok "case show: applicant and receipt from the intake"
else
	fail "case show intake fields"
	$K case show "$c1"
fi
if $K case show "$c1" | grep -q 'submission: *new accepted'; then
	ok "case show: the intake verdict"
else
	fail "case show verdict"
fi
check "export for review" $K case export "$c1" --purpose "formal review" \
    --out "$T/x1" $A
n=$(ls "$T/x1" | wc -l)
[ "$n" -ge 4 ] && ok "exported $n documents" || fail "exported $n"
check "decide certified" $K case decide "$c1" certified $A
if $K case show "$c1" | grep -q 'retention: *due .* (expired)'; then
	ok "case show: the retention clock (expiry, R7)"
else
	fail "retention clock"
fi
num=$($K case show "$c1" --json | sed -n 's/.*"certification_number":"\([A-Z0-9]*\)".*/\1/p')
if $K account list --json | grep -q "\"cert\":\"$num\""; then
	ok "認定番号 $num linked to the applicant's account"
else
	fail "account link"
fi

# a renewal under that number attaches to the certified case (the
# intake stores it in the same case)
check "upload a renewal under $num" upload "/renewal/$num" "$EX/sample-renewal.zip" renew.zip
c3=$(case_of renew.zip)
[ "$c3" = "$c1" ] && ok "renewal stored in the certified case" ||
    { fail "renewal case $c3"; cat "$T/renew.zip.json"; }
if $K case show "$c1" | grep -q "attached: *renewal accepted "; then
	ok "case show lists the attached renewal"
else
	fail "renewal attachment"
	$K case show "$c1"
fi
$K retention run --now 2099-01-01T00:00:00Z >"$T/ret" 2>&1
if ! grep -q "$c1 *expired" "$T/ret"; then
	ok "a pending renewal is not 'expired without renewal'"
else
	fail "expired-without-renewal rule"
	cat "$T/ret"
fi
check "decide the renewal certified" $K case decide "$c1" certified $A
num3=$($K case show "$c1" --json | sed -n 's/.*"certification_number":"\([A-Z0-9]*\)".*/\1/p')
s1=$(printf '%s' "$num" | cut -c3-6)
s3=$(printf '%s' "$num3" | cut -c3-6)
[ -n "$s1" ] && [ "$s1" = "$s3" ] && ok "renewal keeps the service serial ($num -> $num3)" ||
    fail "renewal serial $num -> $num3"
old=$($K case show "$c1" --json | tr '{' '\n' | grep '"state":"live"' | head -n 1 |
    sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')

# the old materials the renewal replaced are returned (R7)
check "return the old submission as superseded" $K case return "$c1" \
    --reason superseded --out "$T/old.cert" --html "$T/old.html" $A
check "its certificate verifies against the vault" \
    $KURA cert verify "$T/old.cert" -d "$V"
if grep -q '^receipt: [0-9]\{4\}-[0-9]\{6\}$' "$T/old.cert" &&
    grep -q "^certification: $num3\$" "$T/old.cert" &&
    grep -q '^applicant: 株式会社acme (acme)$' "$T/old.cert" &&
    grep -q '^retained: .*reason=R7-current-submission' "$T/old.cert" &&
    grep -q '^destroyed: ' "$T/old.cert" &&
    grep -q '^evidence: case.rekey ' "$T/old.cert"; then
	ok "certificate: receipt, number, applicant, renewal kept, old destroyed, rekey cited"
else
	fail "certificate fields"
	cat "$T/old.cert" | head -40
fi
expect_rc 1 "an old document no longer exports" $K case export "$c1" \
    --purpose "after return" --out "$T/x2" --doc "$old" $A
check "the renewal's documents still export" $K case export "$c1" \
    --purpose "renewal review" --out "$T/x3" $A
n=$(ls "$T/x3" | wc -l)
[ "$n" -ge 4 ] && ok "renewal documents intact ($n)" || fail "renewal documents ($n)"
check "scrub passes" $K audit scrub
expect_rc 1 "superseding again: nothing left to supersede" $K case return \
    "$c1" --reason superseded --out "$T/old2.cert" $A
check "and the case can still be returned in full later" $K case return \
    "$c1" --reason terminated --out "$T/end.cert" $A
check "final return verifies" $KURA cert verify "$T/end.cert" -d "$V"

# a new application not certified: nothing remains (001 §3.1(5)イ)
check "decide not-certified" $K case decide "$c2" not-certified $A
check "return not-certified" $K case return "$c2" --reason not-certified \
    --out "$T/nc.cert" $A
check "verifies" $KURA cert verify "$T/nc.cert" --key "$V/keys/log.pub"
grep -q '^retained-count: 0$' "$T/nc.cert" && ok "nothing retained" ||
    fail "retained set"
expect_rc 1 "nothing exports" $K case export "$c2" --purpose x --out "$T/x4" $A
check "scrub passes" $K audit scrub
check "audit bundle" $K audit bundle "$c1" --out "$T/bundle"
if ls "$T/bundle/receipts/"receipt-*.txt >/dev/null 2>&1 &&
    grep -q 'receipt 1: signed by the log key' "$T/bundle/report.txt" &&
    grep -q '2 of 2 certificate(s) valid' "$T/bundle/report.txt" &&
    grep -q '"action":"intake.accept"' "$T/bundle/events.jsonl"; then
	ok "bundle: receipts, certificates, intake events"
else
	fail "bundle contents"
	cat "$T/bundle/report.txt"
fi
check "audit verify" $K audit verify
serve_stop
finish
