#!/bin/sh
# kura init and kura staff from files: layout, modes, refusal of an
# existing vault, staff add/list/remove, the last member, -d/$KURA_VAULT.
. "$(dirname "$0")/lib.sh"
export KURA_TEST_FAST_KDF=1
printf 'admin passphrase\n' >"$T/pw.admin"
printf 'bob passphrase\n' >"$T/pw.bob"
printf 'wrong\n' >"$T/pw.wrong"
chmod 600 "$T"/pw.*
V="$T/v"

mode() { stat -c %a "$1"; }
expect_rc 0 "init --help" "$KURA" init --help
grep -q "passphrase-file" "$T/.out" && ok "init help names --passphrase-file" || fail "init help"
expect_rc 0 "staff --help" "$KURA" staff --help
expect_rc 0 "staff add --help" "$KURA" staff add --help
expect_rc 0 "init from a passphrase file" "$KURA" init "$V" --passphrase-file "$T/pw.admin" --origin test.example/kura
for f in kura.conf kura.db keys/keystore.db keys/log.key keys/log.pub keys/epoch.pub keys/ssh_host_ed25519_key; do
	[ -f "$V/$f" ] && ok "$f exists" || fail "$f exists"
done
[ "$(mode "$V/keys")" = 700 ] && ok "keys/ is 0700" || fail "keys/ is 0700 ($(mode "$V/keys"))"
bad=0
for f in "$V"/keys/*; do
	[ "$(mode "$f")" = 600 ] || { bad=1; echo "# $f is $(mode "$f")"; }
done
[ $bad -eq 0 ] && ok "every key file is 0600" || fail "every key file is 0600"
grep -q '^# listen = 127.0.0.1:2222' "$V/kura.conf" && ok "kura.conf has commented defaults" || fail "kura.conf defaults"
grep -q '^log.origin = test.example/kura' "$V/kura.conf" && ok "origin in kura.conf" || fail "origin in kura.conf"
need ssh-keygen sqlite3 setsid
check "host key loads (OpenSSH format)" ssh-keygen -y -f "$V/keys/ssh_host_ed25519_key"
[ "$(sqlite3 "$V/kura.db" 'PRAGMA journal_mode')" = wal ] && ok "kura.db is WAL" || fail "kura.db is WAL"
[ "$(sqlite3 "$V/kura.db" "SELECT version FROM schema_versions WHERE module='vault'")" -ge 1 ] && ok "vault schema versioned" || fail "vault schema versioned"
[ "$(sqlite3 "$V/keys/keystore.db" 'SELECT count(*) FROM epoch_secrets')" = 1 ] && ok "epoch sealed to the staff member" || fail "epoch sealed"
cp "$V/kura.conf" "$T/conf.before"
expect_rc 2 "init refuses an existing vault" "$KURA" init "$V" --passphrase-file "$T/pw.admin"
grep -q "not empty" "$T/.out" && ok "refusal says why" || fail "refusal says why"
cmp -s "$V/kura.conf" "$T/conf.before" && ok "existing vault untouched" || fail "existing vault untouched"
mkdir "$T/nonempty" && touch "$T/nonempty/x"
expect_rc 2 "init refuses a non-empty folder" "$KURA" init "$T/nonempty" --passphrase-file "$T/pw.admin"
printf '\n' >"$T/pw.empty"
chmod 600 "$T/pw.empty"
expect_rc 2 "init refuses an empty passphrase" "$KURA" init "$T/v2" --passphrase-file "$T/pw.empty"
[ ! -e "$T/v2/kura.db" ] && ok "nothing left after a refused init" || fail "nothing left after a refused init"
expect_rc 2 "init without a terminal or file fails" setsid -w "$KURA" init "$T/v3" </dev/null

expect_rc 0 "staff list" "$KURA" -d "$V" staff list
grep -q '^admin' "$T/.out" && ok "admin listed" || fail "admin listed"
expect_rc 1 "staff add with a wrong passphrase" "$KURA" -d "$V" staff add bob --passphrase-file "$T/pw.wrong" --new-passphrase-file "$T/pw.bob"
expect_rc 0 "staff add bob" "$KURA" -d "$V" staff add bob --passphrase-file "$T/pw.admin" --new-passphrase-file "$T/pw.bob"
expect_rc 1 "staff add bob again" "$KURA" -d "$V" staff add bob --staff admin --passphrase-file "$T/pw.admin" --new-passphrase-file "$T/pw.bob"
expect_rc 2 "staff add with a bad name" "$KURA" -d "$V" staff add "../x" --staff admin --passphrase-file "$T/pw.admin" --new-passphrase-file "$T/pw.bob"
KURA_VAULT="$V" expect_rc 0 "staff list --json via \$KURA_VAULT" "$KURA" staff list --json
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["name"] for x in d]==["admin","bob"]' "$T/.out"; then ok "json lists admin and bob"; else fail "json lists admin and bob"; fi
expect_rc 2 "two members: must say who acts" "$KURA" -d "$V" staff remove admin --passphrase-file "$T/pw.bob"
expect_rc 0 "bob removes admin" "$KURA" -d "$V" staff remove admin --staff bob --passphrase-file "$T/pw.bob"
grep -q "rotated the vault epoch" "$T/.out" && ok "removal rotates the epoch" || fail "removal rotates the epoch"
[ "$(sqlite3 "$V/keys/keystore.db" 'SELECT count(*) FROM epochs WHERE retired IS NULL')" = 1 ] && ok "one live epoch" || fail "one live epoch"
[ "$(sqlite3 "$V/keys/keystore.db" 'SELECT group_concat(epoch_id) FROM epoch_secrets')" = 2 ] && ok "only the new epoch is sealed (to bob)" || fail "only the new epoch is sealed"
expect_rc 1 "admin can no longer authorise" "$KURA" -d "$V" staff add carol --staff admin --passphrase-file "$T/pw.admin" --new-passphrase-file "$T/pw.bob"
expect_rc 1 "the last member cannot be removed" "$KURA" -d "$V" staff remove bob --passphrase-file "$T/pw.bob"
grep -q "last staff member" "$T/.out" && ok "says it is the last" || fail "says it is the last"
expect_rc 0 "staff rotate" "$KURA" -d "$V" staff rotate --passphrase-file "$T/pw.bob"
grep -q "now 3" "$T/.out" && ok "epoch 3 after a rotation" || fail "epoch 3 after a rotation"
expect_rc 0 "bob still unlocks after the rotation" "$KURA" -d "$V" staff rotate --passphrase-file "$T/pw.bob"
expect_rc 2 "staff on a missing vault" "$KURA" -d "$T/none" staff list
expect_rc 2 "staff with an unknown subcommand" "$KURA" -d "$V" staff promote bob
(cd "$T" && mkdir -p w && cd w && "$KURA" init --passphrase-file "$T/pw.admin" >/dev/null 2>&1)
[ -f "$T/w/vault/kura.db" ] && ok "default vault folder is ./vault" || fail "default vault folder is ./vault"
finish
