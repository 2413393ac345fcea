#!/bin/sh
# kura serve (security review 1, #9): forged SFTP handles. libssh 0.10.6's
# sftp_handle() reads one slot past its 256-entry table for the value 256;
# the session checks the handle's length (4) and value (< 256) first. Under
# valgrind (release build only) that read would be an invalid read, which
# ends the session (--exit-on-first-error): the session must go on.
# Debian's libssh 0.10.6-0+deb12u3 already compares with 0xff (objdump),
# so here this is a regression test of our own check; with an unpatched
# libssh the valgrind half fails without it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
ssh-keygen -q -t ed25519 -N "" -f "$T/alice_key" -C alice@test
check "vault" serve_vault "$V" "mail.relay = none"
check "alice" serve_account "$V" alice --pubkey "$T/alice_key.pub"
check "server starts" serve_start "$V"
check "forged handles refused" "$PY" "$(dirname "$0")/harden_client.py" handles "$PORT" alice "$T/alice_key" all
check "SIGTERM: clean stop" serve_stop
[ "${KURA_VARIANT:-rel}" = rel ] && need valgrind
if [ "${KURA_VARIANT:-rel}" = rel ] && command -v valgrind >/dev/null 2>&1; then
	SERVE_LOG="$T/serve-vg.log"
	valgrind -q --error-exitcode=99 --exit-on-first-error=yes \
	    --undef-value-errors=no --log-fd=9 \
	    "$KURA" -d "$V" serve --listen 127.0.0.1:0 >"$SERVE_LOG" 2>&1 9>"$T/vg.log" &
	SERVE_PID=$!
	at_exit "kill -9 $SERVE_PID 2>/dev/null"
	PORT=""
	i=0
	while [ -z "$PORT" ] && [ $i -lt 600 ] && kill -0 "$SERVE_PID" 2>/dev/null; do
		sleep 0.1
		PORT=$(sed -n 's/^kura serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVE_LOG" | head -n 1)
		i=$((i + 1))
	done
	if [ -n "$PORT" ]; then
		check "valgrind: handle 256 is not read past libssh's table" \
		    "$PY" "$(dirname "$0")/harden_client.py" handles "$PORT" alice "$T/alice_key" 256
		cat "$T"/vg.log 2>/dev/null | head -n 20 | sed 's/^/#   /'
		serve_stop
	else
		fail "valgrind: server did not start"
		sed 's/^/#   /' "$SERVE_LOG"
	fi
fi
finish
