#!/bin/sh
# t60-case-return.sh - a case's life for every R9 reason: store, export
# (SHA-256 checked, purpose logged), decide, return with a deletion
# certificate, verify it (key only, then against the vault), deleted
# documents no longer export, scrub passes, retained documents still
# export (R6, R7, R9, R11).
. "$(dirname "$0")/lib.sh"
export KURA_TEST_FAST_KDF=1
MK="$KURA_TOP/build/$KURA_VARIANT/helpers/mkcase"
V="$T/v"
K="$KURA -d $V"
printf 'alice passphrase\n' >"$T/pa"
printf 'bob passphrase\n' >"$T/pb"
chmod 600 "$T/pa" "$T/pb"
A="--staff alice --passphrase-file $T/pa"

check "init a vault" $KURA init "$V" --passphrase-file "$T/pa" \
    --staff alice --origin kura.test/t60
check "add bob" $K staff add bob --passphrase-file "$T/pa" \
    --new-passphrase-file "$T/pb" --staff alice

printf 'form A: 申請書A\n' >"$T/a.docx"
printf 'form B: published content\n' >"$T/b.xlsx"
printf 'inventory\n' >"$T/i.xlsx"
head -c 300000 /dev/urandom >"$T/att.pdf"
sha() { sha256sum "$1" | cut -d' ' -f1; }

mkcase() {
	"$MK" "$V" --submission "R-$1" \
	    "inventory:0:0 提出書類及び資料内訳書.xlsx=$T/i.xlsx" \
	    "form_a:1:1 申請書A.docx=$T/a.docx" \
	    "form_b:2:2 申請書B.xlsx=$T/b.xlsx" \
	    "attachment:3:3 添付資料 その1.pdf=$T/att.pdf"
}

for reason in not-certified expired revoked terminated superseded request; do
	id=$(mkcase "$reason") || { fail "$reason: mkcase"; continue; }
	ok "$reason: case $id stored"
	if [ "$reason" = superseded ]; then
		# a renewal's documents join the case: the first ones are superseded
		"$MK" "$V" --case "$id" --submission "R-renewal" \
		    "form_a:1:1 申請書A.docx=$T/a.docx" \
		    "attachment:3:3 添付資料 その1.pdf=$T/att.pdf" >/dev/null &&
		    ok "superseded: a renewal added" || fail "superseded: renewal"
	fi
	check "$reason: export" $K case export "$id" --purpose "review $reason" \
	    --out "$T/x-$reason" $A
	if [ "$(sha "$T/x-$reason/3 添付資料 その1.pdf")" = "$(sha "$T/att.pdf")" ] &&
	    [ "$(stat -c %a "$T/x-$reason")" = 700 ]; then
		ok "$reason: exported under its NFC name, same SHA-256, 0700"
	else
		fail "$reason: exported file differs"
		ls -la "$T/x-$reason"
	fi
	case $reason in
	not-certified) check "$reason: decide" $K case decide "$id" not-certified $A ;;
	request) ;;
	*)
		check "$reason: decide certified" $K case decide "$id" certified $A
		if $K case show "$id" | grep -Eq 'certification AI[0-9]{4}[0-9]{4}, valid until'; then
			ok "$reason: certification number AI+serial+YYMM, expiry shown"
		else
			fail "$reason: certification number"
		fi
		;;
	esac
	case $reason in
	revoked | terminated) check "$reason: decide $reason" $K case decide "$id" "$reason" $A ;;
	esac
	check "$reason: return" $K case return "$id" --reason "$reason" \
	    --out "$T/$reason.cert" --html "$T/$reason.html" $A
	check "$reason: certificate verifies with the key only" \
	    $KURA cert verify "$T/$reason.cert" --key "$V/keys/log.pub"
	check "$reason: and against the vault" \
	    $KURA cert verify "$T/$reason.cert" -d "$V"
	if head -n 1 "$T/$reason.cert" | grep -qx 'kura-deletion-certificate/v1' &&
	    grep -q '^stage: primary$' "$T/$reason.cert" &&
	    grep -q '^result: PASS$' "$T/$reason.cert" &&
	    grep -q "^case-id: $id\$" "$T/$reason.cert"; then
		ok "$reason: certificate names the case, stage primary, PASS"
	else
		fail "$reason: certificate fields"
	fi
	if grep -q '削除証明書' "$T/$reason.html"; then
		ok "$reason: printable page (Japanese first)"
	else
		fail "$reason: printable page"
	fi
	gone=$(grep '^destroyed: 3 ' "$T/$reason.cert" | head -n 1 |
	    sed 's/.* file=cases\/[0-9a-f]*\/\([0-9a-f]*\) .*/\1/')
	expect_rc 1 "$reason: deleted attachment no longer exports" \
	    $K case export "$id" --purpose "after return" --out "$T/y-$reason" \
	    --doc "$gone" $A
	check "$reason: scrub passes" $K audit scrub
	case $reason in
	superseded)
		if grep -q '^retained-count: 2$' "$T/$reason.cert" &&
		    grep -q '^retained: 1 .*reason=R7-current-submission' "$T/$reason.cert" &&
		    grep -q '^destroyed-count: 4$' "$T/$reason.cert"; then
			ok "$reason: the renewal stays, the first submission is destroyed"
		else
			fail "$reason: retained set"
		fi
		check "$reason: the renewal's form A still exports" $K case export "$id" \
		    --purpose "renewal" --out "$T/z-$reason" --doc 1 $A
		;;
	not-certified | request)
		if grep -q '^retained-count: 0$' "$T/$reason.cert" &&
		    grep -q '^destroyed-count: 4$' "$T/$reason.cert"; then
			ok "$reason: nothing retained (R9, 001 §3.1(5)イ)"
		else
			fail "$reason: retained set"
		fi
		expect_rc 1 "$reason: nothing exports" $K case export "$id" \
		    --purpose "after return" --out "$T/z-$reason" $A
		;;
	*)
		if grep -q '^retained-count: 2$' "$T/$reason.cert" &&
		    grep -q '^retained: 1 .*reason=R9-form_a' "$T/$reason.cert" &&
		    grep -q '^destroyed-count: 2$' "$T/$reason.cert"; then
			ok "$reason: form A and form B retained, the rest destroyed"
		else
			fail "$reason: retained set"
		fi
		check "$reason: retained form A still exports" $K case export "$id" \
		    --purpose "published record" --out "$T/z-$reason" --doc 1 $A
		if [ "$(sha "$T/z-$reason/1 申請書A.docx")" = "$(sha "$T/a.docx")" ]; then
			ok "$reason: retained document intact"
		else
			fail "$reason: retained document differs"
		fi
		;;
	esac
	[ "$reason" = superseded ] ||
	    expect_rc 1 "$reason: a second return is refused" $K case return "$id" \
	    --reason "$reason" --out "$T/$reason-2.cert" $A
done

# R11: exports are in the audit log with who and why
if $K audit events --json | grep -q '"action":"case.export"' &&
    $K audit events --json | grep -q 'review not-certified'; then
	ok "exports are audited with their purpose (R11)"
else
	fail "export audit events"
fi
check "the audit log still verifies" $K audit verify
check "case list" $K case list
if $K case list --json | grep -q '"state":"returned"'; then
	ok "case list --json shows returned cases"
else
	fail "case list --json"
fi
# the certificate's hash is in the log
h=$(sha "$T/expired.cert")
if $K audit events --json | grep -q "$h"; then
	ok "the certificate's SHA-256 is logged (cert.issue)"
else
	fail "cert.issue event"
fi
check "cert export: the stored certificate, again" $K cert export \
    "$(grep '^case-id: ' "$T/expired.cert" | cut -d' ' -f2)" --out "$T/again.cert"
cmp -s "$T/again.cert" "$T/expired.cert" && ok "identical to the one issued" ||
    fail "cert export differs"
check "audit bundle" $K audit bundle "$(grep '^case-id: ' "$T/expired.cert" | cut -d' ' -f2)" --out "$T/bundle"
if [ -f "$T/bundle/checkpoint.txt" ] && [ -f "$T/bundle/log.pub" ] &&
    ls "$T/bundle/certificates/"*.cert >/dev/null 2>&1 &&
    grep -q '1 of 1 certificate(s) valid' "$T/bundle/report.txt"; then
	ok "bundle holds checkpoint, key, certificate, report"
else
	fail "bundle contents"
fi

# ---- the final stage (docs/certificate.md §3) ----
cid=$(grep '^case-id: ' "$T/not-certified.cert" | cut -d' ' -f2)
pid=$(grep '^certificate-id: ' "$T/not-certified.cert" | cut -d' ' -f2)
$K retention run >"$T/fin-now" 2>&1
if grep -q '^0 final certificate(s) due' "$T/fin-now"; then
	ok "no final certificate while keystore backups may hold the epoch"
else
	fail "final stage due too early"
	cat "$T/fin-now"
fi
late=$(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ)
check "retention --apply after the keystore backups expired" \
    $K retention run --apply --now "$late" --certs "$T/final"
if [ -f "$T/final/$pid.final.cert" ] &&
    grep -q '^stage: final$' "$T/final/$pid.final.cert" &&
    grep -q "^supersedes: $pid\$" "$T/final/$pid.final.cert" &&
    grep -q "^case-id: $cid\$" "$T/final/$pid.final.cert" &&
    grep -q '^backups: keystore copies that held epoch .* expired by' "$T/final/$pid.final.cert"; then
	ok "final certificate supersedes the primary one"
else
	fail "final certificate"
fi
check "the final certificate verifies" $KURA cert verify \
    "$T/final/$pid.final.cert" -d "$V"
$K retention run --now "$late" >"$T/fin-again" 2>&1
if ! grep -q "$pid" "$T/fin-again"; then
	ok "a final certificate is issued once"
else
	fail "final certificate issued twice"
fi
sed 's/^result: PASS$/result: PAS5/' "$T/expired.cert" >"$T/m-none.cert"
# no keystore backups at all: the first certificate is already final
printf '\nretention.keystore_backup_days = 0\n' >>"$V/kura.conf"
z=$(mkcase zero)
check "return with keystore_backup_days = 0" $K case return "$z" \
    --reason request --out "$T/zero.cert" $A
if grep -q '^stage: final$' "$T/zero.cert"; then
	ok "no keystore backups: stage final at once"
else
	fail "stage with keystore_backup_days = 0"
fi
check "cert render" $KURA cert render "$T/zero.cert" --html "$T/zero.html" \
    --key "$V/keys/log.pub"
check "cert render --pdf" $KURA cert render "$T/zero.cert" --pdf "$T/zero.pdf" \
    --key "$V/keys/log.pub"
need qpdf pdftotext
check "the PDF is well formed (qpdf --check)" qpdf --check "$T/zero.pdf"
[ -d /usr/share/poppler/cMap/Adobe-Japan1 ] || fail "poppler-data's Adobe-Japan1 CMaps missing (run make deps)"
pdftotext "$T/zero.pdf" "$T/zero.txt" 2>/dev/null
if grep -q '削除証明書' "$T/zero.txt" && grep -q 'Certificate of deletion' "$T/zero.txt" &&
    grep -q "$(grep '^certificate-id: ' "$T/zero.cert" | cut -d' ' -f2)" "$T/zero.txt"; then
	ok "the PDF reads back: Japanese first, English, the certificate id"
else
	fail "PDF text"
fi
expect_rc 1 "render refuses a forged certificate" $KURA cert render \
    "$T/m-none.cert" --pdf "$T/x.pdf" --key "$V/keys/log.pub"
finish
