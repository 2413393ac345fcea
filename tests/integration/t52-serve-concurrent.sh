#!/bin/sh
# kura serve: 50 concurrent uploads from parallel clients, each with its
# own correct verdict and receipt number; the receipt e-mail received by a
# real SMTP server (aiosmtpd) on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_env.sh"

V="$T/v"
SMTP_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/mail"
"$PY" "$(dirname "$0")/serve_smtp.py" "$SMTP_PORT" "$T/mail" >"$T/smtp.log" 2>&1 &
SMTP_PID=$!
at_exit "kill $SMTP_PID 2>/dev/null"
check "vault" serve_vault "$V" "mail.relay = 127.0.0.1:$SMTP_PORT" "mail.from = intake@kura.test" \
	"serve.max_sessions = 128" "serve.max_sessions_per_address = 64" "limits.sessions_per_account = 16" \
	"serve.max_unauthenticated = 64" "serve.max_unauthenticated_per_address = 64" "serve.unauthenticated_drop_from = 64"
ssh-keygen -q -t ed25519 -N "" -f "$T/key"
for u in 0 1 2 3 4; do check "account u$u" serve_account "$V" "u$u" --pubkey "$T/key.pub"; done
check "examples built" serve_examples
check "server starts" serve_start "$V"
check "50 concurrent uploads" "$PY" "$(dirname "$0")/serve_client.py" concurrent "$PORT" 50 "$EX/sample-new.zip" "$T/key"
last_output | grep -E 'ok -|^# ' | sed 's/^/#   /'
# The e-mails: one per accepted upload, each with its receipt number.
i=0
while [ "$(ls "$T/mail" | wc -l)" -lt 25 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
n=$(ls "$T/mail" | wc -l)
[ "$n" -eq 25 ] && ok "25 receipt e-mails received" || fail "e-mails received: $n"
check "e-mails carry the receipt numbers" "$PY" - "$T/mail" "$V/kura.db" <<'PYEOF'
import email, os, sqlite3, sys
d, db = sys.argv[1], sys.argv[2]
want = {r[0]: r[1] for r in sqlite3.connect(db).execute(
    "SELECT receipt, a.email FROM intake_submissions s JOIN accounts a ON a.id = s.account_id WHERE verdict = 'accepted'")}
seen = {}
for f in os.listdir(d):
    m = email.message_from_bytes(open(os.path.join(d, f), "rb").read())
    body = m.get_payload(decode=True).decode()
    for r in want:
        if r in body and r in str(email.header.make_header(email.header.decode_header(m["Subject"]))):
            seen[r] = m["To"]
ok = len(want) == 25 and all(want[r] in (seen.get(r) or "") for r in want)
print("receipts", len(want), "mails matched", len(seen))
sys.exit(0 if ok else 1)
PYEOF
check "SIGTERM: clean stop" serve_stop
finish
