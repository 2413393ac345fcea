#!/bin/sh
# Runs every libFuzzer target for a short fixed time, seeded with its corpus
# (tests/fuzz/corpus/<target>/ plus any seed folders the target lists in
# tests/fuzz/<target>.seeds, one path per line relative to the repository,
# ../shared allowed). Ends with "fuzz: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
secs=${FUZZ_SECONDS:-20}
pass=0
fail=0
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	work=$(mktemp -d "${TMPDIR:-/tmp}/kura-fuzz.XXXXXX")
	seeds=""
	[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
	if [ -f "tests/fuzz/$name.seeds" ]; then
		for s in $(grep -v '^#' "tests/fuzz/$name.seeds"); do
			[ -e "$s" ] && seeds="$seeds $s"
		done
	fi
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	    -print_final_stats=0 "$work" $seeds >"$work.log" 2>&1; then
		echo "ok   $name (${secs}s)"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		tail -n 40 "$work.log"
		fail=$((fail + 1))
	fi
	rm -rf "$work" "$work.log" crash-* leak-* timeout-* oom-* 2>/dev/null
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
