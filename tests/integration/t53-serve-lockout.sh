#!/bin/sh
# kura serve: 1,000 failed logins from one address engage the lockout
# (escalating delays first, on by default; delays shortened here to keep
# the test bounded), while another account from another address (127.0.0.2)
# still logs in. Lockouts are audited.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none" "throttle.delay_ms = 10" "throttle.delay_max_ms = 100"
check "alice" serve_account "$V" alice
check "server starts" serve_start "$V"
check "1000 failed logins, then 127.0.0.2" "$PY" "$(dirname "$0")/serve_client.py" lockout "$PORT" 1000
last_output | grep -E 'ok -' | sed 's/^/#   /'
check "SIGTERM: clean stop" serve_stop
if command -v sqlite3 >/dev/null; then
	n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM audit_events WHERE action = 'auth.lockout'")
	[ "${n:-0}" -ge 1 ] && ok "lockout audited" || fail "lockout audited ($n)"
	n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM audit_events WHERE action = 'auth.fail'")
	[ "${n:-0}" -ge 10 ] && ok "failures audited ($n)" || fail "failures audited ($n)"
fi
grep -q 'lockout of a:127.0.0.1' "$SERVE_LOG" && ok "lockout logged" || fail "lockout logged"
finish
