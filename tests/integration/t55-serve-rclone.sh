#!/bin/sh
# rclone's sftp backend against kura serve: key and password logins, an
# upload to /new/ and to a linked /renewal/<認定番号>/ folder, results read
# back with `rclone cat`, listings, and what rclone must not be able to do
# (read an upload back, overwrite it, delete a result). rclone asks the
# server to run md5sum/sha1sum over `exec`; kura refuses, and rclone must
# still finish the upload.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none"
ssh-keygen -q -t ed25519 -N "" -f "$T/rk" -C rclone@test
check "account (key + password)" serve_account "$V" rc --pubkey "$T/rk.pub"
check "link 認定番号" "$KURA" -d "$V" account link rc AI00999001 --passphrase-file "$SP"
check "examples built" serve_examples
check "server starts" serve_start "$V"

# rclone reads its remotes from the environment: no config file.
export RCLONE_CONFIG="$T/rclone.conf"
: >"$RCLONE_CONFIG"
export RCLONE_CONFIG_K_TYPE=sftp RCLONE_CONFIG_K_HOST=127.0.0.1
export RCLONE_CONFIG_K_PORT="$PORT" RCLONE_CONFIG_K_USER=rc
export RCLONE_CONFIG_K_KEY_FILE="$T/rk" RCLONE_CONFIG_K_KNOWN_HOSTS_FILE=""
export RCLONE_CONFIG_P_TYPE=sftp RCLONE_CONFIG_P_HOST=127.0.0.1
export RCLONE_CONFIG_P_PORT="$PORT" RCLONE_CONFIG_P_USER=rc
RCLONE_CONFIG_P_PASS=$(rclone obscure "$(cat "$T/pw-rc")")
export RCLONE_CONFIG_P_PASS
RC="timeout 60 rclone --retries 1 --low-level-retries 1 --contimeout 10s --timeout 30s"

# ---- key login: upload a valid submission
cp "$EX/sample-new.zip" "$T/rclone-申請.zip"
check "rclone copyto /new (key)" $RC copyto "$T/rclone-申請.zip" "k:/new/rclone-申請.zip"
check "rclone cat result.json" $RC cat "k:/results/rclone-申請.zip.result.json"
last_output | grep -q '"verdict":"accept"' && ok "accepted via rclone" || fail "verdict: $(last_output | head -c 300)"
rec=$(last_output | sed -n 's/.*"receipt":{"number":"\([^"]*\)".*/\1/p')
case "$rec" in
[0-9][0-9][0-9][0-9]-[0-9]*) ok "receipt number $rec" ;;
*) fail "no receipt number in the result" ;;
esac
check "rclone cat result.txt" $RC cat "k:/results/rclone-申請.zip.result.txt"
last_output | head -n 1 | grep -q "受付番号 $rec" && ok "text result, Japanese first" || fail "result.txt: $(last_output | head -n 2)"
check "rclone cat receipt" $RC cat "k:/results/rclone-申請.zip.receipt"
last_output | grep -q "^receipt: $rec\$" && ok "signed receipt names $rec" || fail "receipt note"

# ---- password login: a renewal into the linked folder, and a hostile ZIP
cp "$EX/sample-renewal.zip" "$T/renewal.zip"
check "rclone copyto /renewal/AI00999001 (password)" $RC copyto "$T/renewal.zip" "p:/renewal/AI00999001/renewal.zip"
check "renewal result" $RC cat "p:/results/renewal.zip.result.json"
last_output | grep -q '"verdict":"accept"' && ok "renewal accepted" || fail "renewal verdict: $(last_output | head -c 300)"
printf 'PK\003\004 not really a zip' >"$T/broken.zip"
check "rclone copyto a broken ZIP" $RC copyto "$T/broken.zip" "p:/new/broken.zip"
check "broken result" $RC cat "p:/results/broken.zip.result.json"
last_output | grep -q '"verdict":"reject"' && ok "broken ZIP rejected" || fail "broken verdict: $(last_output | head -c 300)"

# ---- listings
check "rclone lsf /results" $RC lsf "k:/results"
for f in rclone-申請.zip.result.json rclone-申請.zip.receipt renewal.zip.result.txt broken.zip.result.json; do
	last_output | grep -qx "$f" && ok "listed: $f" || fail "not listed: $f"
done
check "rclone lsf /" $RC lsf "k:/"
last_output | grep -qx "README.txt" && last_output | grep -qx "new/" && ok "root listing" || fail "root: $(last_output)"
check "rclone lsf /new (uploads are not listed)" $RC lsf "k:/new"
[ -z "$(last_output)" ] && ok "nothing to list in /new" || fail "/new lists: $(last_output)"

# ---- what rclone must not be able to do
refused() {
	what=$1
	shift
	if "$@" >"$T/.out" 2>&1; then fail "$what (it succeeded)"; else ok "$what"; fi
}
refused "an upload cannot be read back" $RC cat "k:/new/rclone-申請.zip"
refused "a result cannot be deleted" $RC deletefile "k:/results/broken.zip.result.json"
check "result still there" $RC cat "k:/results/broken.zip.result.json"
refused "no upload outside the upload folders" $RC copyto "$T/broken.zip" "k:/results/x.zip"
refused "no escape with .." $RC copyto "$T/broken.zip" "k:/new/../../etc/x.zip"

# ---- the vault holds both accepted submissions as cases
n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM intake_submissions WHERE verdict = 'accepted'" 2>/dev/null)
[ "${n:-0}" -eq 2 ] && ok "2 accepted submissions in the vault" || fail "accepted submissions: $n"
check "audit verify" "$KURA" -d "$V" audit verify
check "server stops cleanly" serve_stop
finish
