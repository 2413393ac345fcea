#!/bin/sh
# kura serve: the quota is account-wide (intake/gate.c). Two parallel
# sessions of one account each uploading 60 % of the quota: exactly one
# fails at once with the quota error, the other is accepted; the room of a
# failed or rejected upload comes back; bytes reserved by another session
# count. Also limits.sessions_per_account across parallel sessions.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

check "examples built" serve_examples
SIZE=$(wc -c <"$EX/sample-new.zip")
QUOTA=$((SIZE * 10 / 6))
V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none" "limits.quota_bytes = $QUOTA" \
	"limits.sessions_per_account = 3"
check "alice" serve_account "$V" alice
check "carol" serve_account "$V" carol
check "server starts" serve_start "$V"
check "quota across parallel sessions" "$PY" "$(dirname "$0")/gate_client.py" quota "$PORT" "$EX/sample-new.zip" "$QUOTA"
last_output | grep -E '^(ok|not ok|#) ' | sed 's/^/#   /'
check "sessions per account" "$PY" "$(dirname "$0")/gate_client.py" sessions "$PORT" 3
last_output | grep -E '^(ok|not ok|#) ' | sed 's/^/#   /'
check "SIGTERM: clean stop" serve_stop
n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM intake_submissions s JOIN accounts a ON a.id = s.account_id WHERE a.login = 'alice' AND s.verdict = 'accepted'")
[ "${n:-0}" -eq 1 ] && ok "alice: exactly one accepted submission" || fail "alice: accepted submissions ($n)"
check "audit log verifies" "$KURA" -d "$V" audit verify
finish
