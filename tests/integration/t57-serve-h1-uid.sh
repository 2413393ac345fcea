#!/bin/sh
# kura serve (security review 1, #1): started as root with a root-owned
# vault, neither the listener nor any session runs as uid 0: they run as
# the system account "kura" (made with useradd if missing), which is given
# the vault except the host key (root's, 0600: read before the drop);
# kura.conf and the public keys stay root's, readable by the group.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

if [ "$(id -u)" -ne 0 ]; then
	# make check runs as root (it installs packages); a skip would pass
	# without testing the privilege drop.
	fail "this test must run as root: it tests the privilege drop"
	finish
	exit $?
fi
V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none"
check "alice" serve_account "$V" alice
check "server starts" serve_start "$V"
"$PY" "$(dirname "$0")/harden_client.py" hold "$PORT" alice pw-alice-secret 4 >"$T/hold.out" 2>&1 &
HOLD=$!
at_exit "kill $HOLD 2>/dev/null"
i=0
while [ $i -lt 50 ] && [ -z "$(serve_sessions)" ]; do
	sleep 0.1
	i=$((i + 1))
done
lu=$(ps -o uid= -p "$SERVE_PID" | tr -d ' ')
su=$(for p in $(serve_sessions); do ps -o uid= -p "$p"; done | tr -d ' ' | sort -u | tr '\n' ' ')
ku=$(ps -o uid= -p "$(serve_keeper)" | tr -d ' ')
[ -n "$ku" ] && [ "$ku" -ne 0 ] && ok "the keeper runs as uid $ku" || fail "the keeper runs as uid '$ku'" 
[ -n "$lu" ] && [ "$lu" -ne 0 ] && ok "listener runs as uid $lu" || fail "listener runs as uid '$lu'"
[ -n "$su" ] && ! printf ' %s' "$su" | grep -q ' 0 ' && ok "sessions run as uid $su" || fail "sessions run as uid '$su'"
[ "$lu" = "$(id -u kura 2>/dev/null)" ] && ok "the account is kura" || fail "the account is kura ($lu)"
wait $HOLD && ok "session worked" || { fail "session worked"; cat "$T/hold.out"; }
check "SIGTERM: clean stop" serve_stop
[ "$(stat -c %U:%a "$V/keys/ssh_host_ed25519_key")" = root:600 ] && ok "host key stays root's" || fail "host key: $(stat -c %U:%a "$V/keys/ssh_host_ed25519_key")"
[ "$(stat -c %U:%G:%a "$V/kura.conf")" = root:kura:640 ] && ok "kura.conf read-only for kura" || fail "kura.conf: $(stat -c %U:%G:%a "$V/kura.conf")"
[ "$(stat -c %U:%G:%a "$V/keys/epoch.pub")" = root:kura:640 ] && ok "epoch.pub read-only for kura" || fail "epoch.pub: $(stat -c %U:%G:%a "$V/keys/epoch.pub")"
[ "$(stat -c %U "$V/kura.db")" = kura ] && ok "kura.db is kura's" || fail "kura.db: $(stat -c %U "$V/kura.db")"
# Only the keeper reads the log key, as root before it drops (keeper.c).
[ "$(stat -c %U:%G:%a "$V/keys/log.key")" = root:root:600 ] && ok "log.key stays root's, 0600" || fail "log.key: $(stat -c %U:%G:%a "$V/keys/log.key")"
check "the serve account cannot read log.key" sh -c "! setpriv --reuid=kura --regid=kura --clear-groups cat '$V/keys/log.key' >/dev/null 2>&1"
check "staff (root) still make a checkpoint" sh -c "'$KURA' -d '$V' audit checkpoint >/dev/null"
finish
