# tests/integration/serve_env.sh - sourced by the kura serve tests (after
# lib.sh): a vault with a staff member, accounts, a running server on a
# free port of 127.0.0.1, and the clients' options. Every process started
# here is stopped at exit.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
SP="$T/staffpass"
printf 'staff-passphrase-1\n' >"$SP"
chmod 600 "$SP"
export KURA_STAFF=admin
SSHOPT="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"

# serve_vault DIR [conf lines...]: a new vault with extra kura.conf lines.
serve_vault() {
	d=$1
	shift
	"$KURA" init "$d" --passphrase-file "$SP" >/dev/null || return 1
	for l in "$@"; do printf '%s\n' "$l" >>"$d/kura.conf"; done
}

# serve_account VAULT LOGIN [--pubkey F] ...: adds LOGIN with password
# "pw-LOGIN-secret" (file $T/pw-LOGIN).
serve_account() {
	v=$1
	login=$2
	shift 2
	printf 'pw-%s-secret\n' "$login" >"$T/pw-$login"
	chmod 600 "$T/pw-$login"
	"$KURA" -d "$v" account add "$login" --org "株式会社$login" \
	    --email "$login@example.com" --password-file "$T/pw-$login" \
	    --passphrase-file "$SP" "$@" >/dev/null
}

# serve_start VAULT [extra args]: starts kura serve on a free port; sets
# SERVE_PID, PORT, SERVE_LOG.
serve_start() {
	SERVE_LOG="$T/serve.$$.$(date +%s%N).log"
	"$KURA" -d "$1" serve --listen 127.0.0.1:0 >"$SERVE_LOG" 2>&1 &
	SERVE_PID=$!
	at_exit "kill -9 $SERVE_PID 2>/dev/null"
	PORT=""
	i=0
	while [ $i -lt 200 ]; do
		PORT=$(sed -n 's/^kura serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVE_LOG" | head -n 1)
		[ -n "$PORT" ] && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	echo "# server did not start:"
	sed 's/^/#   /' "$SERVE_LOG"
	return 1
}

# serve_sessions [PID]: the session processes of kura serve (its children
# but the keeper, which names itself kura-keeper), one pid a line.
serve_sessions() {
	for p in $(pgrep -P "${1:-$SERVE_PID}"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = kura-keeper ] || echo "$p"
	done
}

# serve_keeper [PID]: the keeper's pid.
serve_keeper() {
	for p in $(pgrep -P "${1:-$SERVE_PID}"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = kura-keeper ] && echo "$p"
	done
}

# serve_stop: SIGTERM, then wait (bounded) for a clean exit.
serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	i=0
	while kill -0 "$SERVE_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$SERVE_PID" 2>/dev/null; then
		kill -9 "$SERVE_PID"
		return 1
	fi
	wait "$SERVE_PID" 2>/dev/null
	return 0
}

# sftp_key LOGIN KEY BATCHFILE: OpenSSH sftp in batch mode, public key.
sftp_key() {
	timeout 60 sftp -b "$3" -P "$PORT" -i "$2" $SSHOPT "$1@127.0.0.1"
}

# The example submissions (examples/make-examples.sh), built once.
serve_examples() {
	EX="$T/examples"
	[ -f "$EX/sample-new.zip" ] && return 0
	sh "$KURA_TOP/examples/make-examples.sh" "$EX" >/dev/null 2>&1
	[ -f "$EX/sample-new.zip" ]
}
