#!/bin/sh
# kura serve: path escapes in every operation, another account's files,
# no read-back or overwrite, SFTP before authentication and a forged
# USERAUTH_SUCCESS (CVE-2018-10933), the upload size limit enforced during
# the write, and WinSCP's .filepart + rename + SETSTAT sequence.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
MAX=3000000
check "vault" serve_vault "$V" "mail.relay = none" "limits.max_upload_bytes = $MAX"
check "alice" serve_account "$V" alice
check "carol" serve_account "$V" carol
check "link" "$KURA" -d "$V" account link alice AI00000001 --passphrase-file "$SP"
check "examples built" serve_examples
check "server starts" serve_start "$V"
check "security scenario" "$PY" "$(dirname "$0")/serve_client.py" security "$PORT" "$EX/sample-new.zip" "$MAX"
last_output | grep -E '^(not )?ok' | sed 's/^/#   /' | grep 'not ok' || true
check "WinSCP scenario" "$PY" "$(dirname "$0")/serve_client.py" winscp "$PORT" "$EX/sample-new.zip"
last_output | grep 'not ok' | sed 's/^/#   /' || true
check "SIGTERM: clean stop" serve_stop
finish
