#!/bin/sh
# kura serve before authentication (intake/gate.c): connections that never
# authenticate (raw TCP, a banner, then nothing) are limited per source
# address and in all, so that a real client from another address, an
# authenticated session, and (once under the limit) a client from the same
# address still get in; authentication requests of every method (none,
# keyboard-interactive, hostbased) count against serve.max_auth_tries, and
# such a connection is throttled and audited as one failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

check "examples built" serve_examples
V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none" "serve.max_unauthenticated = 8" \
	"serve.max_unauthenticated_per_address = 4" "serve.unauthenticated_drop_from = 8" \
	"serve.login_grace_seconds = 30"
check "alice" serve_account "$V" alice
check "bob" serve_account "$V" bob
check "server starts" serve_start "$V"
check "unauthenticated flood" "$PY" "$(dirname "$0")/gate_client.py" preauth "$PORT" "$EX/sample-new.zip" 4 8
last_output | grep -E '^(ok|not ok|#) ' | sed 's/^/#   /'
check "auth requests of every method counted" "$PY" "$(dirname "$0")/gate_client.py" authspam "$PORT" 6
last_output | grep -E '^(ok|not ok|#) ' | sed 's/^/#   /'
check "SIGTERM: clean stop" serve_stop
q() { sqlite3 -cmd '.timeout 10000' "$V/kura.db" "$1"; }
for m in none keyboard-interactive unknown; do
	n=$(q "SELECT count(*) FROM audit_events WHERE action = 'auth.fail' AND json_extract(details, '\$.method') = '$m'")
	[ "${n:-0}" -ge 1 ] && ok "a connection cut after $m requests is audited ($n)" || fail "cut after $m requests audited ($n)"
done
n=$(q "SELECT count(*) FROM audit_events WHERE action = 'intake.accept'")
[ "${n:-0}" -eq 4 ] && ok "4 uploads accepted during the floods" || fail "uploads accepted during the floods ($n)"
check "audit log verifies" "$KURA" -d "$V" audit verify
finish
