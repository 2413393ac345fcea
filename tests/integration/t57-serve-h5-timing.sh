#!/bin/sh
# kura serve (security review 1, #5): an unknown login is rejected after
# the same work as a wrong password for a known one (one Argon2id run,
# against a dummy hash the listener made once before forking), so the
# response time does not tell which logins exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none" "throttle.free_failures = 1000"
check "alice" serve_account "$V" alice
check "server starts" serve_start "$V"
check "timing: known vs unknown login" "$PY" "$(dirname "$0")/harden_client.py" timing "$PORT" alice 5
last_output | grep -E '^#|ok -' | sed 's/^/#   /'
check "SIGTERM: clean stop" serve_stop
finish
