#!/bin/sh
# b20-vault: vault put of a 1 GiB document against writing the same
# plaintext to the same disk with one fsync (ratio; target >= 0.70), and
# the peak RSS of a put and of range reads (must stay a few chunks).
# BENCH_VAULT_MIB overrides the size; BENCH_DIR the folder (default: a
# temporary folder under the repository's build/, i.e. the same disk).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/build/${KURA_VARIANT:-rel}/bench/vault_bench"
[ -x "$bin" ] || { echo "b20-vault: $bin missing (make bench-progs)"; exit 2; }
base=${BENCH_DIR:-$top/build}
mkdir -p "$base"
d=$(mktemp -d "$base/vault-bench.XXXXXX") || exit 2
trap 'rm -rf "$d"' EXIT INT TERM
"$bin" "$d" "${BENCH_VAULT_MIB:-1024}"
