#!/bin/sh
# make bench: every benchmark script in tests/bench/b*.sh, in order.
# Each prints ratios against a peer measured in the same run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
rc=0
for b in tests/bench/b[0-9]*; do
	[ -f "$b" ] || continue
	echo "=== $(basename "$b") ==="
	case "$b" in
	*.sh) sh "$b" || rc=1 ;;
	*.py) python3 "$b" || rc=1 ;;
	esac
done
exit $rc
