#!/bin/sh
# b60-return.sh - the cost of a return (R9) against its peer: the same
# documents' storing. Prints the time to return a case of N documents
# (re-seal, erase, ratchet, verification, checkpoint, certificate) beside
# the time it took to store them, the certificate's size, and the time
# an auditor needs to verify it (key only, and against the vault).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
KURA="$top/kura"
MK="$top/build/rel/helpers/mkcase"
N=${B60_DOCS:-500}
export KURA_TEST_FAST_KDF=1
T=$(mktemp -d "${TMPDIR:-/tmp}/kura-b60.XXXXXX")
trap 'rm -rf "$T"' EXIT
printf 'bench passphrase\n' >"$T/pw"
chmod 600 "$T/pw"
"$KURA" init "$T/v" --passphrase-file "$T/pw" --staff alice \
    --origin kura.bench/b60 >/dev/null || exit 1
head -c 65536 /dev/urandom >"$T/doc"
set -- "form_a:1:1 申請書A.docx=$T/doc"
i=2
while [ $i -le "$N" ]; do
	set -- "$@" "attachment:$i:$i 添付資料.pdf=$T/doc"
	i=$((i + 1))
done
now() { date +%s.%N; }
t0=$(now)
id=$("$MK" "$T/v" "$@") || exit 1
t1=$(now)
"$KURA" -d "$T/v" case decide "$id" certified --passphrase-file "$T/pw" >/dev/null
t2=$(now)
"$KURA" -d "$T/v" case return "$id" --reason expired --out "$T/c.cert" \
    --passphrase-file "$T/pw" >/dev/null || exit 1
t3=$(now)
"$KURA" cert verify "$T/c.cert" --key "$T/v/keys/log.pub" >/dev/null || exit 1
t4=$(now)
"$KURA" cert verify "$T/c.cert" -d "$T/v" >/dev/null || exit 1
t5=$(now)
awk -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v t4="$t4" \
    -v t5="$t5" -v sz="$(wc -c <"$T/c.cert")" 'BEGIN {
	s = t1 - t0; r = t3 - t2
	printf "store %d documents (64 KiB each): %.2f s\n", n, s
	printf "return them with a certificate:   %.2f s (ratio to storing %.2f)\n", r, r / s
	printf "certificate: %d bytes (%.0f per document)\n", sz, sz / n
	printf "verify with the key only:         %.3f s\n", t4 - t3
	printf "verify against the vault (-d):    %.3f s\n", t5 - t4
}'
