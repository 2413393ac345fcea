#!/bin/sh
# kura serve (security review 1, #10): failed logins with names the audit
# log cannot hold as text (control characters, invalid UTF-8, over 64
# bytes) are audited too, as "hex:" and the name's bytes in hex.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none" "throttle.free_failures = 1000"
check "alice" serve_account "$V" alice
check "server starts" serve_start "$V"
check "odd login names refused" "$PY" "$(dirname "$0")/harden_client.py" oddnames "$PORT"
check "SIGTERM: clean stop" serve_stop
q() { sqlite3 -cmd '.timeout 10000' "$V/kura.db" "$1"; }
n=$(q "SELECT count(*) FROM audit_events WHERE action = 'auth.fail'")
[ "${n:-0}" -eq 5 ] && ok "all 5 failures audited" || fail "all 5 failures audited ($n)"
for h in 626164016e616d65 626164ff6e616d65 6573631b5b33316d726564 e383a6e383bce382b6e383bc7f; do
	n=$(q "SELECT count(*) FROM audit_events WHERE action = 'auth.fail' AND actor = 'hex:$h'")
	[ "${n:-0}" -eq 1 ] && ok "audited as hex:$h" || fail "audited as hex:$h ($n)"
done
n=$(q "SELECT count(*) FROM audit_events WHERE action = 'auth.fail' AND actor LIKE 'hex:6c6f6e67%+'")
[ "${n:-0}" -eq 1 ] && ok "a 160-byte name: hex of 64 bytes and +" || fail "a 160-byte name ($n)"
check "audit log verifies" "$KURA" -d "$V" audit verify
finish
