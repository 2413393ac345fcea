#!/bin/sh
# Runs every unit test binary and integration test of one build variant.
# Usage: tests/run.sh [rel|asan] [FILTER]. Ends with "tests: N passed, N failed".
set -u
v=${1:-rel}
filter=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
KURA="$top/build/$v/kura"
[ "$v" = rel ] && KURA="$top/kura"
KURA_SHARED=${KURA_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}
export KURA KURA_SHARED KURA_TOP="$top" KURA_VARIANT="$v"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Debian's python3 has the python3-* test packages; another python3 on PATH may not.
PATH="/usr/bin:/bin:$PATH"
export PATH
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
pass=0
fail=0
failed=""
out=$(mktemp "${TMPDIR:-/tmp}/kura-run.XXXXXX")
run_one() { # name, command...
	name=$1
	shift
	start=$(date +%s)
	"$@" >"$out" 2>&1
	rc=$?
	line=$(grep -E '^[A-Za-z-]*:? ?[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/^[^0-9]*([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$line" ] || { p=0; f=1; }
	[ $rc -eq 0 ] || [ "${f:-0}" -gt 0 ] || f=1
	pass=$((pass + p))
	fail=$((fail + f))
	secs=$(( $(date +%s) - start ))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed, rc=$rc, ${secs}s)"
		sed 's/^/    /' "$out" | grep -vE '^    ok ' | tail -n 60
		failed="$failed $name"
	else
		echo "ok   $name ($p passed, ${secs}s)"
	fi
}
for t in build/$v/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	run_one "unit/$(basename "$t")" "$t"
done
for t in tests/integration/t[0-9]*; do
	[ -f "$t" ] || continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	case "$t" in
	*.sh) run_one "integration/$(basename "$t")" sh "$t" ;;
	*.py) run_one "integration/$(basename "$t")" "$PY" "$t" ;;
	esac
done
rm -f "$out"
[ -z "$failed" ] || echo "failed:$failed"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
