#!/bin/sh
# examples/make-examples.sh - builds one valid sample submission of each
# type (new, renewal, change, termination) into OUTDIR (default
# examples/build/), plus SHA256SUMS. Reproducible: fixed timestamps, fixed
# entry order, no randomness - the same bytes on every run with the same
# Python/zlib. Usage: sh examples/make-examples.sh [OUTDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
mkdir -p "$out"
python3 "$here/make_examples.py" "$out"
cd "$out"
sha256sum sample-*.zip >SHA256SUMS
cat SHA256SUMS
