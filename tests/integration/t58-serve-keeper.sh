#!/bin/sh
# kura serve: the keeper (issue 5 a, e, f). Only the keeper process opens
# keys/log.key (every openat of serve and its children traced with
# strace), and receipts it signed still verify with keys/log.pub; serve
# makes signed audit checkpoints while it runs (audit.checkpoint_seconds)
# and one at clean shutdown; a lockout survives a restart and ends after
# its time; serve run unprivileged as the vault's owner still works, its
# sessions confined by Landlock (tests/unit/test_keeper.c checks the rule).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"
need strace sqlite3
export KURA_DEBUG=1 # the keeper's info lines

C="$(dirname "$0")/serve_client.py"
KC="$(dirname "$0")/keeper_client.py"
V="$T/v"
LOCK=10
check "vault" serve_vault "$V" "mail.relay = none" "audit.checkpoint_seconds = 2" \
    "limits.address_failed_logins_before_lockout = 5" "limits.lockout_seconds = $LOCK" \
    "throttle.delay_ms = 10" "throttle.delay_max_ms = 50"
check "alice" serve_account "$V" alice
check "examples built" serve_examples
q() { sqlite3 -cmd '.timeout 10000' "$V/kura.db" "$1"; }
CP0=$(q "SELECT count(*) FROM audit_checkpoints")

# 1. serve under strace: who opens keys/log.key?
SERVE_LOG="$T/serve1.log"
strace -f -qq -e trace=openat,open -o "$T/trace" "$KURA" -d "$V" serve --listen 127.0.0.1:0 >"$SERVE_LOG" 2>&1 &
ST=$!
at_exit "kill -9 $ST 2>/dev/null"
PORT=""
i=0
while [ -z "$PORT" ] && [ $i -lt 400 ]; do
	PORT=$(sed -n 's/^kura serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVE_LOG" | head -n 1)
	sleep 0.05
	i=$((i + 1))
done
[ -n "$PORT" ] && ok "serve started under strace" || { fail "serve started under strace"; cat "$SERVE_LOG"; }
SERVE_PID=$(pgrep -P "$ST" | head -n 1)
at_exit "kill -9 $SERVE_PID 2>/dev/null"
KEEPER=$(serve_keeper)
[ -n "$KEEPER" ] && ok "a keeper process (pid $KEEPER)" || fail "a keeper process"
check "an accepted upload" "$PY" "$C" upload "$PORT" /new/k.zip "$EX/sample-new.zip" ok
check "its receipt" "$PY" "$KC" get "$PORT" alice pw-alice-secret /results/k.zip.receipt "$T/k.receipt"
check "the receipt verifies with keys/log.pub" "$PY" "$(dirname "$0")/serve_note.py" "$T/k.receipt" "$V/keys/log.pub"
grep -q '^account: alice$' "$T/k.receipt" && ok "receipt names alice" || fail "receipt names alice"

# checkpoints made by serve while it runs (every 2 s here)
i=0
while [ $i -lt 100 ] && ! grep -q 'keeper: signed a checkpoint (periodic)' "$SERVE_LOG"; do
	sleep 0.1
	i=$((i + 1))
done
CP1=$(q "SELECT count(*) FROM audit_checkpoints")
[ "$CP1" -gt "$CP0" ] && ok "serve made a checkpoint while running ($CP0 -> $CP1)" || fail "no checkpoint while running ($CP0 -> $CP1)"
grep -q 'keeper: signed a checkpoint (periodic)' "$SERVE_LOG" && ok "logged as periodic" || fail "logged as periodic"
check "a second session after the checkpoint" "$PY" "$KC" login "$PORT" alice pw-alice-secret
# a SIGTERM to every process (systemd): the keeper waits for the listener
kill -TERM "$KEEPER"
sleep 0.3
kill -0 "$KEEPER" 2>/dev/null && ok "the keeper outlives a stray SIGTERM" || fail "the keeper died of SIGTERM"
kill -TERM "$SERVE_PID"
i=0
while kill -0 "$ST" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$ST" 2>/dev/null && fail "serve stopped on SIGTERM" || ok "serve stopped on SIGTERM"
grep -q 'keeper: signed a checkpoint (shutdown)' "$SERVE_LOG" && ok "a checkpoint at shutdown" || fail "a checkpoint at shutdown"
N=$(q "SELECT count(*) FROM audit_events")
S=$(q "SELECT max(size) FROM audit_checkpoints")
[ "$S" -eq $((N - 1)) ] && ok "the last checkpoint covers the whole log ($S of $N)" || fail "last checkpoint $S, events $N"
check "kura audit verify" "$KURA" -d "$V" audit verify
NC=$("$KURA" -d "$V" audit events --json | grep -c '"checkpoint.create"')
[ "$NC" -ge 2 ] && ok "checkpoint.create events by serve in the log ($NC)" || fail "checkpoint.create events: $NC"
# The last one (serve's, at shutdown) as kura prints it, checked by Python.
"$KURA" -d "$V" audit checkpoint >"$T/last.cp" 2>/dev/null
[ "$(sed -n 2p "$T/last.cp")" = "$S" ] && ok "kura audit checkpoint shows serve's (size $S)" || fail "latest checkpoint: $(sed -n 2p "$T/last.cp"), serve's $S"
check "serve's checkpoint verifies with keys/log.pub" "$PY" "$(dirname "$0")/serve_note.py" "$T/last.cp" "$V/keys/log.pub"

# the trace: openat lines are "PID openat(..., \"path\", ...) = FD"
opened() { grep -F "$1\"" "$T/trace" | grep -v '= -1' | awk '{ print $1 }' | sort -u; }
LK=$(opened "keys/log.key" | tr '\n' ' ')
[ "$LK" = "$KEEPER " ] && ok "only the keeper opened keys/log.key ($LK)" || fail "keys/log.key opened by: '$LK' (keeper $KEEPER)"
NS=0
for p in $(opened "kura.db"); do
	[ "$p" = "$SERVE_PID" ] || [ "$p" = "$KEEPER" ] || NS=$((NS + 1))
done
[ "$NS" -ge 2 ] && ok "$NS session processes traced (none opened the key)" || fail "session processes traced: $NS"
grep -q 'log\.key' "$T/trace" && ok "the trace sees log.key at all" || fail "the trace sees log.key at all"

# 2. a lockout survives a restart, then ends
check "server starts" serve_start "$V"
"$PY" "$C" lockout "$PORT" 20 >"$T/lock.out" 2>&1
T0=$(date +%s)
grep -q '^ok - lockout engaged' "$T/lock.out" && ok "lockout engaged" || { fail "lockout engaged"; cat "$T/lock.out"; }
i=0
while [ $i -lt 50 ] && [ "$(q "SELECT count(*) FROM lockouts WHERE key = 'a:127.0.0.1'")" != 1 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(q "SELECT level FROM lockouts WHERE key = 'a:127.0.0.1'")" = 1 ] && ok "lockout kept in kura.db" || fail "lockout kept in kura.db"
check "SIGTERM: clean stop" serve_stop
check "server restarts" serve_start "$V"
grep -q 'lockout of a:127.0.0.1 kept until' "$SERVE_LOG" && ok "lockout reloaded at start" || fail "lockout reloaded at start"
expect_rc 1 "still locked after the restart" "$PY" "$KC" login "$PORT" alice pw-alice-secret
[ $(($(date +%s) - T0)) -lt $LOCK ] && ok "(checked within the lockout)" || fail "too slow to check within the lockout"
check "another address still logs in" "$PY" "$KC" login "$PORT" alice pw-alice-secret 127.0.0.2
while [ $(($(date +%s) - T0)) -le $LOCK ]; do sleep 0.5; done
check "free after limits.lockout_seconds" "$PY" "$KC" login "$PORT" alice pw-alice-secret
check "SIGTERM: clean stop" serve_stop
check "server restarts" serve_start "$V"
[ "$(q "SELECT count(*) FROM lockouts")" = 0 ] && ok "expired lockout pruned at start" || fail "expired lockout not pruned"
check "SIGTERM: clean stop" serve_stop

# 3. unprivileged, as the vault's owner: every process has the same uid,
# so only the sessions' Landlock keeps keys/log.key from them.
V2="$T/v2"
check "vault 2" serve_vault "$V2" "mail.relay = none"
check "alice in vault 2" serve_account "$V2" alice
chown -R kura:kura "$V2"
SERVE_LOG="$T/serve3.log"
setpriv --reuid=kura --regid=kura --clear-groups "$KURA" -d "$V2" serve --listen 127.0.0.1:0 >"$SERVE_LOG" 2>&1 &
SERVE_PID=$!
at_exit "kill -9 $SERVE_PID 2>/dev/null"
PORT=""
i=0
while [ -z "$PORT" ] && [ $i -lt 400 ] && kill -0 "$SERVE_PID" 2>/dev/null; do
	PORT=$(sed -n 's/^kura serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVE_LOG" | head -n 1)
	sleep 0.05
	i=$((i + 1))
done
[ -n "$PORT" ] && ok "serve runs unprivileged as kura" || { fail "serve runs unprivileged as kura"; cat "$SERVE_LOG"; }
[ "$(stat -c %U "$V2/keys/log.key")" = kura ] && ok "log.key is the serve uid's own here" || fail "log.key: $(stat -c %U "$V2/keys/log.key")"
check "an accepted upload (unprivileged)" "$PY" "$C" upload "$PORT" /new/u.zip "$EX/sample-new.zip" ok
check "its receipt" "$PY" "$KC" get "$PORT" alice pw-alice-secret /results/u.zip.receipt "$T/u.receipt"
check "the receipt verifies with keys/log.pub" "$PY" "$(dirname "$0")/serve_note.py" "$T/u.receipt" "$V2/keys/log.pub"
if grep -q 'landlock: not available' "$SERVE_LOG"; then
	ok "no Landlock in this kernel: confinement skipped"
else
	grep -q 'landlock: reading keys/ secrets denied' "$SERVE_LOG" && ok "sessions confined by Landlock" || fail "sessions confined by Landlock"
fi
check "SIGTERM: clean stop" serve_stop
finish
