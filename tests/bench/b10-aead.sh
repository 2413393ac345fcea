#!/bin/sh
# b10-aead: the chunked AEAD document format against one-shot
# XChaCha20-Poly1305 over the same 1 GiB buffer in the same run (target
# ratio >= 0.90), the full writer/reader, and SHA-256 libcrypto vs libsodium.
# BENCH_AEAD_MIB overrides the buffer size (MiB).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/build/${KURA_VARIANT:-rel}/bench/aead_bench"
[ -x "$bin" ] || { echo "b10-aead: $bin missing (make bench-progs)"; exit 2; }
exec "$bin" "${BENCH_AEAD_MIB:-1024}"
