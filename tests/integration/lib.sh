# tests/integration/lib.sh - sourced by every integration script.
#
# Provides: $KURA (the binary under test), $T (a fresh temporary folder,
# removed at exit), ok/fail/check/expect_rc helpers, and finish, which
# prints "N passed, N failed" and sets the exit status.
set -u
: "${KURA:?run through tests/run.sh (KURA unset)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/kura-it.XXXXXX")
# Searchable (not listable) by others: kura serve started as root runs as
# the unprivileged account "kura", which must reach the vaults in here.
chmod 711 "$T"
_pass=0
_fail=0
_cleanup_hooks=""
at_exit() { _cleanup_hooks="$_cleanup_hooks
$*"; }
_cleanup() {
	eval "$_cleanup_hooks"
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM
ok() { _pass=$((_pass + 1)); echo "ok - $*"; }
fail() { _fail=$((_fail + 1)); echo "not ok - $*"; }
# check "description" command...: passes when the command exits 0
check() {
	d=$1
	shift
	if "$@" >"$T/.out" 2>&1; then ok "$d"; else
		fail "$d"
		sed 's/^/#   /' "$T/.out" | tail -n 20
	fi
}
# expect_rc N "description" command...: passes when the exit status is N
expect_rc() {
	want=$1
	d=$2
	shift 2
	"$@" >"$T/.out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$d"; else
		fail "$d (exit $got, wanted $want)"
		sed 's/^/#   /' "$T/.out" | tail -n 20
	fi
}
# last_output: what the previous check/expect_rc printed
last_output() { cat "$T/.out"; }
# need CMD...: a tool the test cannot do without. Missing, it is a failure
# (never a skip): `make deps` installs every tool the tests use.
need() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || fail "needed tool missing: $_c (run make deps)"
	done
}
finish() {
	echo "$_pass passed, $_fail failed"
	[ "$_fail" -eq 0 ]
}
