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
	# auth.fail is rate-limited (intake/gate.c): per address and window
	# (60 s) the first audit.auth_fail_burst (10) one by one, the rest in
	# one auth.fail_summary, flushed when the lockout engages. The test
	# takes well under two windows: at most 20 individual events.
	n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM audit_events WHERE action = 'auth.fail'")
	[ "${n:-0}" -ge 10 ] && [ "${n:-0}" -le 20 ] && ok "failures audited, bounded ($n <= 20)" || fail "failures audited, bounded ($n)"
	m=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) || ' ' || coalesce(sum(json_extract(details, '$.failures')), 0) FROM audit_events WHERE action = 'auth.fail_summary'")
	set -- $m
	[ "${1:-0}" -ge 1 ] && [ "${1:-0}" -le 4 ] && ok "summary events ($1, covering $2 failures)" || fail "summary events ($m)"
	# Every failure before the lockout is in the log: one by one or counted.
	[ $((n + ${2:-0})) -ge 30 ] && ok "failures accounted for: $n + $2 >= 30" || fail "failures accounted for: $n + ${2:-0}"
	n=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM audit_events")
	[ "${n:-0}" -le 60 ] && ok "audit log bounded: $n events for 1000 attempts" || fail "audit log bounded: $n events"
fi
grep -q 'lockout of a:127.0.0.1' "$SERVE_LOG" && ok "lockout logged" || fail "lockout logged"
finish
