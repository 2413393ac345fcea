#!/bin/sh
# kura account + kura serve with real clients: OpenSSH sftp (key and
# password), lftp, curl's sftp://, paramiko; valid and hostile
# submissions; a Japanese ZIP name; results and the signed receipt read
# back; shell, exec and forwarding refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none"
ssh-keygen -q -t ed25519 -N "" -f "$T/alice_key" -C alice@test
ssh-keygen -q -t ed25519 -N "" -f "$T/alice_key2" -C alice2@test

# ---- accounts (issue 5 "Accounts")
check "account add (key + password)" serve_account "$V" alice --pubkey "$T/alice_key.pub"
check "account add bob" serve_account "$V" bob
expect_rc 1 "account add: duplicate login" serve_account "$V" alice
expect_rc 2 "account add: bad login" serve_account "$V" "../x"
check "account link 認定番号" "$KURA" -d "$V" account link alice AI00122211 --passphrase-file "$SP"
check "account key add" "$KURA" -d "$V" account key add alice "$T/alice_key2.pub" --passphrase-file "$SP"
check "account key remove" "$KURA" -d "$V" account key remove alice "$T/alice_key2.pub" --passphrase-file "$SP"
expect_rc 1 "account key remove: absent" "$KURA" -d "$V" account key remove alice "$T/alice_key2.pub" --passphrase-file "$SP"
printf 'wrong-passphrase\n' >"$T/badsp"
chmod 600 "$T/badsp"
expect_rc 2 "account change needs the staff passphrase" "$KURA" -d "$V" account disable bob --passphrase-file "$T/badsp"
check "account list --json" "$KURA" -d "$V" account list --json
if last_output | grep -q '"login":"alice"' && last_output | grep -q '"cert":"AI00122211"' &&
	last_output | grep -q '"type":"ssh-ed25519"'; then ok "list shows login, key, service"; else fail "list content"; fi
if last_output | grep -q 'argon2id\|pwhash'; then fail "list leaks the hash"; else ok "no hash in list"; fi
check "account show" "$KURA" -d "$V" account show alice
check "account disable" "$KURA" -d "$V" account disable bob --passphrase-file "$SP"
check "hostkey" "$KURA" -d "$V" hostkey
FP=$(last_output | head -n 1)
case "$FP" in SHA256:*) ok "fingerprint format" ;; *) fail "fingerprint: $FP" ;; esac
need sqlite3 lftp curl
n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM audit_events WHERE action LIKE 'account.%'")
[ "${n:-0}" -ge 6 ] && ok "account changes audited ($n)" || fail "account audit events: ${n:-none}"

check "examples built" serve_examples
check "server starts" serve_start "$V"
grep -q "$FP" "$SERVE_LOG" && ok "fingerprint printed at start" || fail "fingerprint at start"

# ---- OpenSSH sftp, public key
cp "$EX/sample-new.zip" "$T/申請.zip"
printf 'bad' >"$T/notzip.zip"
cat >"$T/b1" <<B
ls -la /
get /README.txt $T/readme.txt
put $T/申請.zip /new/申請.zip
put $T/notzip.zip /new/notzip.zip
ls -l /results
get /results/申請.zip.result.txt $T/r1.txt
get /results/申請.zip.result.json $T/r1.json
get /results/申請.zip.receipt $T/r1.receipt
get /results/notzip.zip.result.json $T/r2.json
B
check "OpenSSH sftp (key): upload and results" sftp_key alice "$T/alice_key" "$T/b1"
head -n 1 "$T/readme.txt" | grep -q '申請' && grep -q 'Put all documents' "$T/readme.txt" &&
	ok "README.txt Japanese then English" || fail "README.txt"
grep -q '"verdict":"accept"' "$T/r1.json" && grep -q '"receipt":{"number":"[0-9]\{4\}-[0-9]\{6\}"' "$T/r1.json" &&
	ok "valid submission accepted with a receipt number" || { fail "accepted"; cat "$T/r1.json"; }
head -n 1 "$T/r1.txt" | grep -q '受理しました' && ok "result.txt Japanese first" || fail "result.txt"
grep -q '"verdict":"reject"' "$T/r2.json" && ! grep -q '"receipt"' "$T/r2.json" &&
	ok "hostile submission rejected, no receipt" || fail "rejected"
RCPT=$(sed -n 's/^receipt: //p' "$T/r1.receipt")
ZSHA=$(sha256sum "$T/申請.zip" | cut -d' ' -f1)
grep -q "^zip-sha256: $ZSHA$" "$T/r1.receipt" && ok "receipt has the ZIP's SHA-256" || fail "receipt sha"
grep -c '^document: ' "$T/r1.receipt" | grep -q '^[1-9]' && ok "receipt lists documents" || fail "receipt documents"
check "receipt signature verifies with keys/log.pub" "$PY" "$(dirname "$0")/serve_note.py" "$T/r1.receipt" "$V/keys/log.pub"
sed 's/^receipt: .*/receipt: 2099-999999/' "$T/r1.receipt" >"$T/forged.receipt"
expect_rc 1 "forged receipt fails" "$PY" "$(dirname "$0")/serve_note.py" "$T/forged.receipt" "$V/keys/log.pub"

# ---- OpenSSH sftp, password (askpass; no sshpass needed)
printf '#!/bin/sh\ncat %s\n' "$T/pw-alice" >"$T/askpass"
chmod 700 "$T/askpass"
printf 'put %s /new/pw.zip\nget /results/pw.zip.result.json %s\n' "$T/申請.zip" "$T/r3.json" >"$T/b2"
check "OpenSSH sftp (password)" env SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force timeout 60 \
	sftp -o BatchMode=no -o PubkeyAuthentication=no -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -b "$T/b2" -P "$PORT" alice@127.0.0.1
grep -q '"verdict":"accept"' "$T/r3.json" && ok "password upload accepted" || fail "password upload"

# ---- curl sftp:// (libssh2)
check "curl sftp:// upload" timeout 60 curl -sS -k -u "alice:pw-alice-secret" -T "$EX/sample-renewal.zip" \
	"sftp://127.0.0.1:$PORT/renewal/AI00122211/renewal.zip"
check "curl sftp:// result" timeout 60 curl -sS -k -u "alice:pw-alice-secret" -o "$T/r4.json" \
	"sftp://127.0.0.1:$PORT/results/renewal.zip.result.json"
grep -q '"verdict":"accept"' "$T/r4.json" && ok "renewal via curl accepted" || { fail "curl renewal"; cat "$T/r4.json"; }
expect_rc 78 "curl: unlinked 認定番号 folder" timeout 60 curl -sS -k -u "alice:pw-alice-secret" -T "$EX/sample-renewal.zip" \
	"sftp://127.0.0.1:$PORT/renewal/AI99999999/x.zip"

# ---- lftp (password)
check "lftp upload + result" timeout 60 lftp -e "set sftp:connect-program 'ssh -a -x -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'; set net:max-retries 1; put $EX/sample-change.zip -o /change/AI00122211/change.zip; get /results/change.zip.result.json -o $T/r5.json; bye" \
	-u "alice,pw-alice-secret" -p "$PORT" sftp://127.0.0.1
grep -q '"verdict":"accept"' "$T/r5.json" && ok "change via lftp accepted" || { fail "lftp change"; cat "$T/r5.json"; }

# ---- disabled account, wrong password
printf 'ls /\n' >"$T/b3"
printf '#!/bin/sh\ncat %s\n' "$T/pw-bob" >"$T/askpass-bob"
chmod 700 "$T/askpass-bob"
expect_rc 255 "disabled account cannot log in" env SSH_ASKPASS="$T/askpass-bob" SSH_ASKPASS_REQUIRE=force timeout 60 \
	sftp -o BatchMode=no -o PubkeyAuthentication=no -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o NumberOfPasswordPrompts=1 -b "$T/b3" -P "$PORT" bob@127.0.0.1

# ---- shell, exec and forwarding are refused
expect_rc 255 "exec refused" timeout 20 ssh -p "$PORT" -i "$T/alice_key" $SSHOPT alice@127.0.0.1 id
expect_rc 255 "shell refused" timeout 20 ssh -tt -p "$PORT" -i "$T/alice_key" $SSHOPT alice@127.0.0.1 </dev/null
expect_rc 255 "remote forwarding refused" timeout 20 ssh -N -o ExitOnForwardFailure=yes \
	-R 127.0.0.1:0:127.0.0.1:22 -p "$PORT" -i "$T/alice_key" $SSHOPT alice@127.0.0.1
check "local forwarding refused" "$PY" "$(dirname "$0")/serve_client.py" forward "$PORT" alice "$T/alice_key"

# ---- audit trail of the intake
check "kura stops on SIGTERM" serve_stop
for a in auth.login auth.fail intake.upload intake.accept intake.reject; do
	n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM audit_events WHERE action = '$a'" 2>/dev/null)
	[ "${n:-0}" -ge 1 ] && ok "audited: $a" || fail "audited: $a (${n:-?})"
done
finish
