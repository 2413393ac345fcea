#!/bin/sh
# b40-check: `kura check` on a 10-document submission of at least 200 MB
# against `unzip -tq` of the same file, in the same run (issue 3
# "Performance"): wall-clock ratio (target <= 1.5), peak RSS of kura check
# (target <= 64 MiB), and the CPU seconds kura needs to reject deflate
# bombs (target <= 1 s). Prints numbers; never asserts wall-clock time.
# Exits 1 only when kura gives a wrong verdict, crashes, or exceeds 64 MiB.
# Environment: KURA (default ./kura), B40_RUNS (default 3), B40_MB (220).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
KURA=${KURA:-$top/kura}
runs=${B40_RUNS:-3}
mb=${B40_MB:-220}
shared=${KURA_SHARED:-$(cd "$top/../shared" 2>/dev/null && pwd)}
for tool in unzip python3 /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "b40: $tool missing (make deps)"
		exit 2
	}
done
if "$KURA" check --help 2>&1 | grep -q "not available in this build"; then
	echo "b40: kura check is not built yet"
	exit 0
fi
w=$(mktemp -d "${TMPDIR:-/tmp}/kura-b40.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM
rc=0

echo "b40: building a 10-document submission of >= $mb MB and 2 GiB bombs (honest headers; lying headers, 1 and 5 entries)"
python3 - "$top/tests/gen" "$w" "$mb" <<'EOF' || exit 2
import sys
sys.path.insert(0, sys.argv[1])
import kuragen
w, mb = sys.argv[2], int(sys.argv[3])
m = kuragen.big_submission(w + "/big.zip", total=mb << 20)
assert m["size"] >= 200 * 1000 * 1000, m["size"]
print("b40: big.zip %d bytes, %d documents" % (m["size"], len(m["documents"])))
kuragen.bomb(w + "/bomb.zip", 2 << 30)
kuragen.bomb(w + "/bomb-lying.zip", 2 << 30, declared=4096)
kuragen.bomb(w + "/bomb-lying-5.zip", 2 << 30, declared=4096, entries_n=5)
EOF
cat "$w/big.zip" >/dev/null # warm the page cache for both tools

# measure OUT CMD...: /usr/bin/time fields "wall user sys maxrss_kib rc"
measure() {
	out=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$w/time" "$@" >"$w/stdout" 2>"$w/stderr"
	r=$?
	echo "$(tail -n 1 "$w/time") $r" >"$out"
}
best() { # the smallest first field among files
	sort -n "$@" | head -n 1
}
i=1
while [ "$i" -le "$runs" ]; do
	measure "$w/u$i" unzip -tq "$w/big.zip"
	measure "$w/k$i" "$KURA" check --json "$w/big.zip"
	cp "$w/stdout" "$w/kura.json"
	i=$((i + 1))
done
u=$(cat "$w"/u[0-9]* | best)
k=$(cat "$w"/k[0-9]* | best)
maxrss=$(cat "$w"/k[0-9]* | awk '$4 > m { m = $4 } END { print m }')
krc=$(echo "$k" | awk '{ print $5 }')
verdict=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$w/kura.json" 2>/dev/null)
echo "b40: unzip -tq     best of $runs: wall $(echo "$u" | awk '{ print $1 "s  user " $2 "s  sys " $3 "s  maxrss " $4 " KiB" }')"
echo "b40: kura check    best of $runs: wall $(echo "$k" | awk '{ print $1 "s  user " $2 "s  sys " $3 "s" }')  peak RSS ${maxrss} KiB"
echo "$u $k" | awk '{ r = ($1 > 0) ? $6 / $1 : 0; printf "b40: ratio kura check / unzip -tq (wall) = %.2f (target <= 1.5)\n", r;
	c = ($2 + $3 > 0) ? ($7 + $8) / ($2 + $3) : 0; printf "b40: ratio kura check / unzip -tq (CPU)  = %.2f\n", c }'
if [ "$krc" != 0 ] || [ "$verdict" != accept ]; then
	echo "b40: FAIL: kura check exit $krc, verdict '$verdict' on a valid submission"
	head -c 2000 "$w/kura.json"
	rc=1
fi
if [ "${maxrss:-0}" -gt 65536 ]; then
	echo "b40: FAIL: peak RSS ${maxrss} KiB > 64 MiB"
	rc=1
else
	echo "b40: peak RSS within 64 MiB"
fi

# Bombs: CPU seconds (user + sys) until the verdict.
bombs="$w/bomb.zip $w/bomb-lying.zip $w/bomb-lying-5.zip"
for f in recursiveextractor/10GB.zip recursiveextractor/zbsm.zip; do
	[ -f "$shared/corpus/zip/public/$f" ] && bombs="$bombs $shared/corpus/zip/public/$f"
done
for b in $bombs; do
	measure "$w/b" "$KURA" check --json "$b"
	set -- $(cat "$w/b")
	cpu=$(echo "$2 $3" | awk '{ printf "%.2f", $1 + $2 }')
	codes=$(python3 -c 'import json,sys; print(",".join(sorted({p["code"] for p in json.load(open(sys.argv[1]))["problems"] if p["severity"] == "error"})))' "$w/stdout" 2>/dev/null)
	met=$(echo "$cpu" | awk '{ print ($1 <= 1.0) ? "target met" : "OVER the 1 s target" }')
	echo "b40: bomb $(basename "$b"): exit $5, CPU ${cpu}s ($met), peak RSS $4 KiB, codes: $codes"
	if [ "$5" != 1 ]; then
		echo "b40: FAIL: the bomb was not rejected (exit $5)"
		rc=1
	fi
	if [ "$4" -gt 65536 ]; then
		echo "b40: FAIL: peak RSS $4 KiB > 64 MiB on a bomb"
		rc=1
	fi
done
exit $rc
