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

/* ---- extensions (audit engineer): reading, checkpoints, proofs, verify ---- */

#define AUDIT_FIELD_MAX	  1024	      /* actor, action, ids: bytes */
#define AUDIT_DETAILS_MAX (64 * 1024) /* details JSON: bytes */
#define AUDIT_LEAF_MAX	  (AUDIT_DETAILS_MAX + 8 * AUDIT_FIELD_MAX)
#define AUDIT_TIME_LEN	  24 /* "2026-01-02T03:04:05.678Z" */

/*
 * The canonical leaf bytes of an event (docs/audit-leaf.md): appended to
 * out. time is UTC RFC 3339 with milliseconds. ERR_INVALID when a field
 * breaks the rules (control characters, bad UTF-8, details not a JSON
 * object, an unknown action shape).
 */
MUST_CHECK enum err audit_leaf_encode(uint64_t index, const char *time,
    const struct audit_event *ev, struct bytes *out);

/* One stored event as read back; all pointers valid during the callback. */
struct audit_record {
	uint64_t index;
	const char *time;
	struct audit_event ev;	  /* details_json never NULL ("{}") */
	struct span leaf;	  /* canonical leaf bytes, recomputed */
	uint8_t leaf_hash[CRY_HASH_LEN]; /* H(0x00 ‖ leaf), recomputed */
};
typedef enum err (*audit_record_fn)(void *ctx, const struct audit_record *rec);
/* Calls fn for events from..to inclusive (to = UINT64_MAX: to the end). */
MUST_CHECK enum err audit_events(struct audit *a, uint64_t from, uint64_t to,
    audit_record_fn fn, void *ctx);
/* Number of events (the tree size). */
MUST_CHECK enum err audit_size(struct audit *a, uint64_t *size);

/*
 * Returns in note_out the latest signed checkpoint (C2SP tlog-checkpoint
 * as a signed note), first making one when the log grew since the last
 * (and at least min_interval_s seconds passed since it; 0 = on demand).
 * Making one appends a checkpoint.create event. Runs its own BEGIN
 * IMMEDIATE transaction: call it outside any transaction. *made (may be
 * NULL) tells whether a new one was made. Needs keys/log.key.
 */
MUST_CHECK enum err audit_checkpoint(struct audit *a, uint64_t min_interval_s,
    struct bytes *note_out, bool *made);

/* A parsed checkpoint body (c2sp.org/tlog-checkpoint). */
struct audit_checkpoint {
	char origin[256];
	uint64_t size;
	uint8_t root[CRY_HASH_LEN];
};
/* Parses a checkpoint note's text (no signature check): ERR_INVALID. */
MUST_CHECK enum err audit_checkpoint_parse_text(struct span text,
    struct audit_checkpoint *out);
/*
 * Verifies note's signature by vkey and parses its text; the origin must
 * be vkey's name. ERR_BAD_SIGNATURE or ERR_INVALID.
 */
MUST_CHECK enum err audit_checkpoint_open(struct span note, const char *vkey,
    struct audit_checkpoint *out);

/*
 * Proofs in the text format of docs/audit-proofs.md, appended to out.
 * size == 0 in prove_inclusion means the latest checkpoint's size.
 */
MUST_CHECK enum err audit_prove_inclusion(struct audit *a, uint64_t index,
    uint64_t size, struct bytes *out);
MUST_CHECK enum err audit_prove_consistency(struct audit *a, uint64_t size1,
    uint64_t size2, struct bytes *out);

/*
 * Offline: checks proof (text format) against the signed checkpoints
 * (one for inclusion; old and new for consistency, in any order) under
 * vkey. leaf (may be NULL) = the leaf bytes the auditor holds; when given
 * they must hash to the proof's leaf. ERR_OK only when everything holds;
 * msg receives one line saying what was checked or what failed.
 */
MUST_CHECK enum err audit_proof_check(struct span proof,
    const struct span *notes, size_t nnotes, const char *vkey,
    const struct span *leaf, struct bytes *msg);

struct audit_verify_opts {
	const struct span *kept;   /* checkpoints an auditor kept (notes) */
	const char *const *kept_names; /* names for messages (file names) */
	size_t nkept;
	/* Called now and then with (done, total) events; may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
};
/*
 * The full check (docs/audit.md): every leaf recomputed from its stored
 * fields, every stored node, every checkpoint's signature and root,
 * consistency between consecutive checkpoints and from each kept one.
 * ERR_OK when all holds; ERR_CORRUPT / ERR_BAD_SIGNATURE otherwise, with
 * msg naming the first bad index or checkpoint. Needs keys/log.pub.
 */
MUST_CHECK enum err audit_verify(struct audit *a,
    const struct audit_verify_opts *opts, struct bytes *msg);

/* Database reads (rows fetched) since audit_open (benchmarks, tests). */
uint64_t audit_db_reads(const struct audit *a);

#endif /* AUDIT_AUDIT_H */
