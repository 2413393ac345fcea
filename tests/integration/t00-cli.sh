#!/bin/sh
# The kura binary: global help, version, unknown commands, --help of every
# command in the table.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "kura --help exits 0" "$KURA" --help
grep -q "usage: kura" "$T/.out" && ok "help shows usage" || fail "help shows usage"
expect_rc 0 "kura --version" "$KURA" --version
grep -qE '^kura [0-9]+\.[0-9]+' "$T/.out" && ok "version printed" || fail "version printed"
expect_rc 2 "unknown command exits 2" "$KURA" frobnicate
grep -q "unknown command" "$T/.out" && ok "unknown command is named" || fail "unknown command is named"
expect_rc 2 "no command exits 2" "$KURA"
finish
