#!/bin/sh
# make check: build and test the release variant, then the same tests under
# ASan+UBSan, then a short libFuzzer run. Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
jobs=$(nproc 2>/dev/null || echo 2)
log=$(mktemp -d "${TMPDIR:-/tmp}/kura-check.XXXXXX")
pass=0
fail=0
add() { # file with "N passed, N failed" lines
	p=$(grep -E '^[A-Za-z-]*:? ?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | sed -E 's/^[^0-9]*([0-9]+) passed.*/\1/')
	f=$(grep -E '^[A-Za-z-]*:? ?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | sed -E 's/.* ([0-9]+) failed.*/\1/')
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-1}))
}
for v in rel asan; do
	echo "=== build ($v) ==="
	if ! make -j"$jobs" --no-print-directory VARIANT=$v all units >"$log/build-$v.txt" 2>&1; then
		cat "$log/build-$v.txt"
		echo "build ($v) failed"
		fail=$((fail + 1))
		continue
	fi
	[ $v = rel ] || make --no-print-directory VARIANT=$v build/$v/kura >/dev/null 2>&1
	echo "=== tests ($v) ==="
	sh tests/run.sh $v 2>&1 | tee "$log/test-$v.txt"
	add "$log/test-$v.txt"
done
echo "=== fuzz smoke ==="
if make -j"$jobs" --no-print-directory fuzz >"$log/fuzz-build.txt" 2>&1; then
	sh tests/fuzz/smoke.sh 2>&1 | tee "$log/fuzz.txt"
	add "$log/fuzz.txt"
else
	cat "$log/fuzz-build.txt"
	fail=$((fail + 1))
fi
rm -rf "$log"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
