#!/bin/sh
# kura demo (security review 1, #2): the demo prints its applicant's
# password, so it refuses a non-loopback --listen unless --force-public.
. "$(dirname "$0")/lib.sh"
expect_rc 2 "demo on 0.0.0.0 refused" timeout 20 "$KURA" -d "$T/demo" demo --listen 0.0.0.0:0
grep -q "not a loopback address" "$T/.out" && ok "with a clear message" || fail "with a clear message"
[ ! -e "$T/demo" ] && ok "no demo vault made" || fail "no demo vault made"
finish
