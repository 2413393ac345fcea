/*
 * audit/audit.h - the tamper-evident audit log.
 *
 * Every state change of the vault and the intake appends one event in the
 * same SQLite transaction as the change (the caller owns the transaction:
 * audit_append() never begins or commits). Events are the leaves of an
 * RFC 9162 Merkle tree; appending costs O(log n) (stored subtree hashes).
 * Checkpoints are C2SP signed notes by the log key (keys/log.key), whose
 * verifier key string is keys/log.pub. Nothing here stores a secret or a
 * document's content. Layer: uses common/ and crypto/ only; the database
 * handle comes from the caller (vault/ or a tool).
 *
 * CONTRACT (used by vault/, intake/ and tools/ before this module lands):
 * the functions below keep these names and meanings; extend, don't rename.
 */
#ifndef AUDIT_AUDIT_H
#define AUDIT_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/crypto.h"

struct audit; /* opaque: the log bound to one sqlite3 handle */

/* One event. Strings are borrowed for the call; NULL means absent. */
struct audit_event {
	const char *actor;	/* applicant login, staff name, or "system" */
	const char *action;	/* docs/audit-events.md, e.g. "case.create" */
	const char *case_id;	/* object ids, any may be NULL */
	const char *document_id;
	const char *account;
	const char *details_json; /* a JSON object (no secrets) or NULL */
};

/*
 * Creates keys/log.key (Ed25519 secret, 0600) and keys/log.pub (verifier
 * key string named origin) under vault_dir. ERR_EXISTS if log.key exists.
 */
MUST_CHECK enum err audit_keys_create(const char *vault_dir,
    const char *origin);
/*
 * Binds the log to db (creating its tables and triggers if missing) for
 * the vault at vault_dir. Signing needs keys/log.key; opening does not.
 */
MUST_CHECK enum err audit_open(sqlite3 *db, const char *vault_dir,
    struct audit **out);
void audit_close(struct audit *a); /* NULL-safe */
/*
 * Appends ev as the next leaf. Must be called inside the caller's open
 * transaction; *index_out (may be NULL) gets the leaf index.
 */
MUST_CHECK enum err audit_append(struct audit *a,
    const struct audit_event *ev, uint64_t *index_out);
/*
 * Signs a note with the log key (receipts, certificates): text must end
 * with '\n'. out receives the whole signed note.
 */
MUST_CHECK enum err audit_sign_note(struct audit *a, struct span text,
    struct bytes *out);

#endif /* AUDIT_AUDIT_H */
