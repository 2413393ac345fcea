#!/bin/sh
# tests/soak/serve-soak.sh - `make soak`: kura serve under steady load for
# SOAK_MINUTES (default 10), then checks that nothing leaked or drifted.
# Not part of `make check` (it is long); run it before a release.
#
# Each round: 20 parallel key-authenticated uploads (half valid, half a
# hostile ZIP), a burst of wrong passwords from 127.0.0.3, and an upload
# abandoned mid-way. After the first round (warm-up) the listener's RSS and
# open fds are recorded; at the end they must not have grown beyond a small
# margin, no session process may be left, staging/ must be empty, every
# accepted upload must have its receipt, and `kura audit verify` must pass.
# Usage: sh tests/soak/serve-soak.sh [rel|asan]; ends "N passed, N failed".
set -u
v=${1:-rel}
top=$(cd "$(dirname "$0")/../.." && pwd)
KURA="$top/build/$v/kura"
[ "$v" = rel ] && KURA="$top/kura"
KURA_TOP=$top
export KURA KURA_TOP
PATH="/usr/bin:/bin:$PATH"
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/serve_env.sh"
minutes=${SOAK_MINUTES:-10}
CLIENT="$top/tests/integration/serve_client.py"

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none" "serve.max_sessions = 128" \
	"serve.max_sessions_per_address = 64" "limits.sessions_per_account = 32" \
	"limits.quota_bytes = 1099511627776"
ssh-keygen -q -t ed25519 -N "" -f "$T/key"
check "account alice" serve_account "$V" alice
for u in 0 1 2 3 4; do check "account u$u" serve_account "$V" "u$u" --pubkey "$T/key.pub"; done
check "examples built" serve_examples
check "server starts" serve_start "$V"

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SERVE_PID/status"; }
fds() { ls "/proc/$SERVE_PID/fd" | wc -l; }
kids() { pgrep -P "$SERVE_PID" | wc -l; }
quiet() { # waits (bounded) until the listener has no session left
	i=0
	while [ "$(kids)" -gt 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
}

round() {
	"$PY" "$CLIENT" concurrent "$PORT" 20 "$EX/sample-new.zip" "$T/key" "r$1-" >"$T/round.log" 2>&1 ||
		{ fail "round $1: concurrent uploads"; sed 's/^/#   /' "$T/round.log" | tail -n 20; }
	for i in 1 2 3 4 5; do
		timeout 20 sftp -b /dev/null -P "$PORT" $SSHOPT -o BatchMode=yes \
			-o PreferredAuthentications=password -o NumberOfPasswordPrompts=0 \
			-o BindAddress=127.0.0.3 "nobody$i@127.0.0.1" >/dev/null 2>&1
	done
	"$PY" "$CLIENT" disconnect "$PORT" "/new/abandoned-$1.zip" >/dev/null 2>&1
	quiet
}

round 0
rss0=$(rss)
fds0=$(fds)
echo "# after warm-up: listener RSS ${rss0} KiB, ${fds0} fds"
end=$(( $(date +%s) + minutes * 60 ))
n=1
while [ "$(date +%s)" -lt "$end" ]; do
	round $n
	n=$((n + 1))
done
rss1=$(rss)
fds1=$(fds)
echo "# after $n rounds: listener RSS ${rss1} KiB, ${fds1} fds"
[ "$rss1" -le $((rss0 + 2048)) ] && ok "listener RSS stable (${rss0} -> ${rss1} KiB)" ||
	fail "listener RSS grew ${rss0} -> ${rss1} KiB"
[ "$fds1" -le "$fds0" ] && ok "listener fds stable ($fds0 -> $fds1)" || fail "listener fds $fds0 -> $fds1"
[ "$(kids)" -eq 0 ] && ok "no session process left" || fail "$(kids) session processes left"
left=$(find "$V/staging" -type f 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && ok "staging/ empty" || fail "$left files left in staging/"
acc=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(*) FROM intake_submissions WHERE verdict = 'accepted'")
rec=$(sqlite3 -cmd '.timeout 10000' "$V/kura.db" "SELECT count(DISTINCT receipt) FROM intake_submissions WHERE verdict = 'accepted'")
[ "$acc" -eq $((n * 10)) ] && [ "$acc" = "$rec" ] && ok "$acc accepted uploads, $rec distinct receipts" ||
	fail "accepted $acc, receipts $rec"
check "audit verify" "$KURA" -d "$V" audit verify
check "SIGTERM: clean stop" serve_stop
finish
