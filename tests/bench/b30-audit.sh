#!/bin/sh
# b30-audit.sh - the audit log, measured against peers in the same run:
#  1. appending N events (default 1,000,000) in transactions of 1,000 vs
#     inserting the same rows without the Merkle work (target ratio <= 1.5);
#  2. `verify` of the log vs SHA-256 over the same leaf bytes alone
#     (target ratio <= 2);
#  3. the database reads an inclusion and a consistency proof take (O(log n)).
# Also times `kura audit verify` end to end on the same log.
# AUDIT_BENCH_N overrides N.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
n=${AUDIT_BENCH_N:-1000000}
helper=build/rel/tests/test_audit
[ -x "$helper" ] || make -s units >/dev/null || exit 2
d=$(mktemp -d "${TMPDIR:-/tmp}/kura-b30.XXXXXX")
trap 'rm -rf "$d"' EXIT
"$helper" bench "$n" "$d" || { echo "b30-audit: FAILED"; exit 1; }
# The command an auditor runs, on the same log.
mv "$d/merkle.db" "$d/kura.db"
s=$(date +%s.%N)
./kura -d "$d" audit verify >"$d/out" 2>&1 || { cat "$d/out"; exit 1; }
e=$(date +%s.%N)
echo "$s $e $n" | awk '{ printf "kura audit verify (the whole command, %d events): %.2f s\n", $3 + 1, $2 - $1 }'
sed 's/^/  /' "$d/out"
