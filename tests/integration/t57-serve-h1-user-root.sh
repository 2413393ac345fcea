#!/bin/sh
# kura serve (security review 1, #1): serve.user = root (any account that
# is uid 0) in kura.conf is refused at once with a clear error, whoever
# starts serve: as root, and as an unprivileged user, where serve.user used
# to be ignored and the server ran on. Bounded: every start is under timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

# refused WHO VAULT [run-as command...]: serve exits 2 within 20 s, names
# serve.user and uid 0, and never listened.
refused() {
	who=$1
	v=$2
	shift 2
	start=$(date +%s)
	"$@" timeout 20 "$KURA" -d "$v" serve --listen 127.0.0.1:0 >"$T/out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	[ "$rc" -eq 2 ] && ok "$who: serve exits 2" ||
		{ fail "$who: serve exit $rc (124 = still running after 20 s)"; sed 's/^/#   /' "$T/out"; }
	[ "$secs" -lt 10 ] && ok "$who: at once (${secs}s)" || fail "$who: took ${secs}s"
	grep -q "serve.user = root is uid 0" "$T/out" && ok "$who: clear error" ||
		{ fail "$who: clear error"; sed 's/^/#   /' "$T/out"; }
	! grep -q "listening on" "$T/out" && ok "$who: never listened" || fail "$who: listened"
}

V="$T/v"
check "vault" serve_vault "$V" "mail.relay = none" "serve.user = root"
refused "started by $(id -un)" "$V"
[ "$(stat -c %U "$V/kura.db")" = "$(id -un)" ] && ok "vault not handed to anyone" ||
	fail "kura.db now owned by $(stat -c %U "$V/kura.db")"

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
	id nobody >/dev/null 2>&1; then
	U="$T/u"
	check "vault for nobody" serve_vault "$U" "mail.relay = none" "serve.user = root"
	chown -R nobody "$U"
	refused "started by nobody" "$U" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups
	# The control: the same vault without the line serves (so the refusal
	# above is about serve.user, not about nobody's access).
	sed -i '/^serve.user/d' "$U/kura.conf"
	printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=%s --clear-groups "%s" "$@"\n' \
	    "$(id -g nobody)" "$KURA" >"$T/as-nobody"
	chmod 755 "$T/as-nobody"
	SAVE=$KURA
	KURA="$T/as-nobody"
	check "without serve.user = root nobody serves" serve_start "$U"
	KURA=$SAVE
	check "and stops on SIGTERM" serve_stop
else
	ok "# skip the unprivileged start: not root or no setpriv"
fi
finish
