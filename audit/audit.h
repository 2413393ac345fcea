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
	const char *actor;   /* applicant login, staff name, or "system" */
	const char *action;  /* docs/audit-events.md, e.g. "case.create" */
	const char *case_id; /* object ids, any may be NULL */
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
MUST_CHECK enum err audit_append(struct audit *a, const struct audit_event *ev,
    uint64_t *index_out);
/*
 * Signs a note with the log key (receipts, certificates): text must end
 * with '\n'. out receives the whole signed note.
 */
MUST_CHECK enum err audit_sign_note(struct audit *a, struct span text,
    struct bytes *out);
/*
 * Loads keys/log.key now rather than at the first signature: the keeper
 * process of `kura serve` (intake/keeper.c) calls it before it gives up
 * the privileges that let it read the key. ERR_NOT_FOUND, ERR_PERM.
 */
MUST_CHECK enum err audit_signer_load(struct audit *a);

/* ---- extensions (audit engineer): reading, checkpoints, proofs, verify ----
 */

#define AUDIT_FIELD_MAX   1024        /* actor, action, ids: bytes */
#define AUDIT_DETAILS_MAX (64 * 1024) /* details JSON: bytes */
#define AUDIT_LEAF_MAX    (AUDIT_DETAILS_MAX + 8 * AUDIT_FIELD_MAX)
#define AUDIT_TIME_LEN    24 /* "2026-01-02T03:04:05.678Z" */

/*
 * The canonical leaf bytes of an event (docs/audit.md): appended to
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
	struct audit_event ev;           /* details_json never NULL ("{}") */
	struct span leaf;                /* canonical leaf bytes, recomputed */
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
 * Making one appends a checkpoint.create event. Outside a transaction it
 * runs its own BEGIN IMMEDIATE ... COMMIT; inside the caller's it uses a
 * savepoint (the checkpoint then commits or rolls back with the caller).
 * *made (may be NULL) tells whether a new one was made. Needs keys/log.key.
 */
MUST_CHECK enum err audit_checkpoint(struct audit *a, uint64_t min_interval_s,
    struct bytes *note_out, bool *made);
/* Default of kura.conf's audit.checkpoint_seconds (serve, --if-due). */
#define AUDIT_CHECKPOINT_SECONDS 300

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
 * Proofs in the text format of docs/audit.md, appended to out.
 * size == 0 in prove_inclusion means the latest checkpoint's size.
 */
MUST_CHECK enum err audit_prove_inclusion(struct audit *a, uint64_t index,
    uint64_t size, struct bytes *out);
MUST_CHECK enum err audit_prove_consistency(struct audit *a, uint64_t size1,
    uint64_t size2, struct bytes *out);
/*
 * The inclusion proof as a c2sp.org/tlog-proof@v1 text: path plus the
 * stored signed checkpoint of that size (ERR_NOT_FOUND if none).
 */
MUST_CHECK enum err audit_prove_tlog(struct audit *a, uint64_t index,
    uint64_t size, struct bytes *out);

/*
 * Offline: checks proof (text format) against the signed checkpoints
 * (one for inclusion; old and new for consistency, in any order) under
 * vkey. A c2sp.org/tlog-proof@v1 proof carries its checkpoint (notes are
 * then ignored) and needs leaf. leaf (may be NULL) = the leaf bytes the auditor
 * holds; when given they must hash to the proof's leaf. ERR_OK only when
 * everything holds; msg receives one line saying what was checked or what
 * failed.
 */
MUST_CHECK enum err audit_proof_check(struct span proof,
    const struct span *notes, size_t nnotes, const char *vkey,
    const struct span *leaf, struct bytes *msg);

struct audit_verify_opts {
	const struct span *kept;       /* checkpoints an auditor kept (notes) */
	const char *const *kept_names; /* names for messages (file names) */
	size_t nkept;
	/* Called now and then with (done, total) events; may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	/* The verifier key to trust; NULL = the vault's keys/log.pub. */
	const char *vkey;
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

/* ==== certificates (audit/cert.c; owner: cases engineer) ==== */
/*
 * Deletion certificates (docs/certificate.md): a C2SP signed note by the
 * log key whose text is the first line AUDIT_CERT_FORMAT and then
 * "key: value" lines in a fixed order, followed in the same file by an
 * evidence bundle (inclusion proofs of the cited events against a signed
 * checkpoint whose size and root the signed text names). Parsing is strict:
 * a text is accepted only if formatting what was parsed gives back the very
 * same bytes. Verifying needs only the log's verifier key string (log.pub):
 * no secret is loaded.
 */
#define AUDIT_CERT_FORMAT          "kura-deletion-certificate/v1"
#define AUDIT_CERT_EVIDENCE_FORMAT "kura-certificate-evidence/v1"
#define AUDIT_CERT_MAX_FILE        (16u << 20) /* whole certificate file */
#define AUDIT_CERT_MAX_DOCS        4096        /* destroyed + retained lines */
#define AUDIT_CERT_MAX_LINES       (AUDIT_CERT_MAX_DOCS + 64) /* keys, backups */
#define AUDIT_CERT_MAX_EVIDENCE    16384 /* evidence lines */
#define AUDIT_CERT_MAX_PATH        64    /* hashes in one inclusion proof */
#define AUDIT_CERT_MAX_LEAF        65536 /* leaf bytes carried as evidence */
#define AUDIT_CERT_VALUE_MAX       2048  /* bytes in one value */

/* The single-valued fields, in the order they appear in the text. */
enum audit_cert_field {
	AUDIT_CERT_ID,              /* certificate-id: DC-YYYY-NNNNNN */
	AUDIT_CERT_ISSUED_AT,       /* issued-at: RFC 3339 UTC */
	AUDIT_CERT_ISSUER,          /* issuer: organisation; install id */
	AUDIT_CERT_LOG_ORIGIN,      /* log-origin: checkpoint origin line */
	AUDIT_CERT_TOOL,            /* tool: kura version sha256=binary */
	AUDIT_CERT_SUPERSEDES,      /* supersedes: (optional) certificate id */
	AUDIT_CERT_STAGE,           /* stage: primary | final */
	AUDIT_CERT_CASE,            /* case-id */
	AUDIT_CERT_RECEIPT,         /* receipt: 受付番号 (or "none") */
	AUDIT_CERT_APPLICANT,       /* applicant */
	AUDIT_CERT_CERTIFICATION,   /* certification: 認定番号 or "none" */
	AUDIT_CERT_BASIS,           /* basis: R9 reason */
	AUDIT_CERT_REQUEST,         /* request: who, when, log index */
	AUDIT_CERT_CATEGORY,        /* category: Purge (logical, ...) */
	AUDIT_CERT_METHOD,          /* method */
	AUDIT_CERT_STANDARDS,       /* standards */
	AUDIT_CERT_CRYPTO,          /* crypto: algorithms */
	AUDIT_CERT_ENCRYPTED_SINCE, /* encrypted-at-rest-since */
	AUDIT_CERT_DERIVED,         /* derived */
	AUDIT_CERT_EPOCH_RETIRED,   /* epoch-retired */
	AUDIT_CERT_CIPHERTEXT_REMOVED, /* ciphertext-removed */
	AUDIT_CERT_VERIFICATION,       /* verification */
	AUDIT_CERT_RESULT,             /* result: PASS */
	AUDIT_CERT_OPERATOR,           /* operator */
	AUDIT_CERT_APPROVER,           /* approver (or "none (...)") */
	AUDIT_CERT_ATTESTATION,        /* attestation */
	AUDIT_CERT_MEDIA,              /* media */
	AUDIT_CERT_TRUST,              /* trust: the log's key name+id */
	AUDIT_CERT_NFIELDS
};

/* One destroyed or retained document (a "destroyed:"/"retained:" line). */
struct audit_cert_doc {
	char *number;  /* 資料番号 as in the inventory, or "-" */
	char *name;    /* NFC file name (UTF-8) */
	uint64_t size; /* plaintext bytes */
	uint8_t sha256[CRY_HASH_LEN]; /* plaintext, as logged at intake */
	uint8_t cipher_sha256[CRY_HASH_LEN]; /* stored ciphertext */
	uint64_t
	    log_index; /* destroyed: its storing event; retained: re-seal */
	char *key_id;  /* destroyed: key destroyed; retained: its new key */
	char *file;    /* ciphertext path relative to the vault folder */
	char *reason;  /* retained only: reason code (NULL for destroyed) */
	char *until;   /* retained only: date or "indefinite" */
};

/* One cited log event and (in the bundle) its inclusion proof. */
struct audit_cert_evidence {
	char *action;   /* event action, e.g. "case.erase" */
	uint64_t index; /* leaf index */
	uint8_t leaf_hash[CRY_HASH_LEN];
	uint8_t (*path)[CRY_HASH_LEN]; /* inclusion proof, leaf side first */
	size_t path_len;
	uint8_t *leaf; /* leaf bytes or NULL (optional in the bundle) */
	size_t leaf_len;
};

struct audit_cert {
	char *f[AUDIT_CERT_NFIELDS]; /* owned strings; NULL = absent */
	struct audit_cert_doc *destroyed, *retained;
	size_t n_destroyed, n_retained;
	char **keys; /* keys-destroyed lines */
	size_t n_keys;
	char **backups; /* backups lines */
	size_t n_backups;
	uint64_t cp_size; /* evidence-checkpoint */
	uint8_t cp_root[CRY_HASH_LEN];
	struct audit_cert_evidence *evidence;
	size_t n_evidence;
	struct bytes checkpoint; /* the signed checkpoint note (bundle) */
};

void audit_cert_init(struct audit_cert *c);
void audit_cert_release(struct audit_cert *c); /* NULL-safe; reusable */
/* Copies v into field f (replacing any earlier value). */
MUST_CHECK enum err audit_cert_set(struct audit_cert *c,
    enum audit_cert_field f, const char *v);
/* Appends a copy of d to the destroyed (retained=false) or retained list. */
MUST_CHECK enum err audit_cert_add_doc(struct audit_cert *c, bool retained,
    const struct audit_cert_doc *d);
/* Appends a "keys-destroyed" (backup=false) or a "backups" line. */
MUST_CHECK enum err audit_cert_add_line(struct audit_cert *c, bool backup,
    const char *v);
/* Appends a copy of e (path and leaf copied too). */
MUST_CHECK enum err audit_cert_add_evidence(struct audit_cert *c,
    const struct audit_cert_evidence *e);
/* The note text (first line to last '\n'); ERR_INVALID if incomplete. */
MUST_CHECK enum err audit_cert_format(const struct audit_cert *c,
    struct bytes *out);
/* Strict parse of a note text into c (released first). ERR_INVALID. */
MUST_CHECK enum err audit_cert_parse(struct span text, struct audit_cert *c);
/*
 * The certificate file: signed_note (audit_sign_note of the formatted
 * text), a blank line, then the evidence bundle (proofs, c->checkpoint).
 */
MUST_CHECK enum err audit_cert_bundle(const struct audit_cert *c,
    struct span signed_note, struct bytes *out);
/*
 * Verifies a certificate file against the log's verifier key string:
 * signature, strict parse, the checkpoint's signature, origin, size and
 * root, each cited leaf (hash of its bytes when given) and its inclusion
 * proof, and the totals. Appends one line per check to report (may be
 * NULL). ERR_BAD_SIGNATURE (signature), ERR_CORRUPT (evidence), ERR_INVALID
 * (malformed). On success c (may be NULL) holds the parsed certificate.
 */
MUST_CHECK enum err audit_cert_verify(struct span file, const char *vkey,
    struct audit_cert *c, struct bytes *report);
/* RFC 9162 §2.1.3.2: ERR_OK when path proves leaf at index in (size, root). */
MUST_CHECK enum err audit_cert_check_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf[static CRY_HASH_LEN],
    const uint8_t (*path)[CRY_HASH_LEN], size_t path_len,
    const uint8_t root[static CRY_HASH_LEN]);
/*
 * Tree helpers over leaf hashes held in memory (issuing a certificate):
 * the RFC 9162 root of leaves[0..size) and the inclusion path of index
 * (leaf side first; path needs AUDIT_CERT_MAX_PATH slots).
 */
void audit_cert_tree_root(const uint8_t (*leaves)[CRY_HASH_LEN], uint64_t size,
    uint8_t root[static CRY_HASH_LEN]);
MUST_CHECK enum err audit_cert_tree_path(const uint8_t (*leaves)[CRY_HASH_LEN],
    uint64_t size, uint64_t index, uint8_t (*path)[CRY_HASH_LEN],
    size_t *path_len);
/*
 * The same with every level kept (2n hashes once, then O(log n) per
 * proof): what issuing uses for a long log.
 */
struct audit_cert_tree; /* opaque */
MUST_CHECK enum err audit_cert_tree_new(const uint8_t (*leaves)[CRY_HASH_LEN],
    uint64_t size, struct audit_cert_tree **out);
void audit_cert_tree_root_of(const struct audit_cert_tree *t,
    uint8_t root[static CRY_HASH_LEN]);
MUST_CHECK enum err audit_cert_tree_prove(const struct audit_cert_tree *t,
    uint64_t index, uint8_t (*path)[CRY_HASH_LEN], size_t *path_len);
void audit_cert_tree_free(struct audit_cert_tree *t); /* NULL-safe */
/* A printable HTML page for the applicant (Japanese first, English). */
MUST_CHECK enum err audit_cert_render_html(const struct audit_cert *c,
    struct span file, struct bytes *out);
/*
 * The same as a PDF (audit/cert_pdf.c): A4, the standard Japanese font
 * HeiseiKakuGo-W5 (UniJIS-UTF16-H, not embedded), the signed text last.
 */
MUST_CHECK enum err audit_cert_render_pdf(const struct audit_cert *c,
    struct span file, struct bytes *out);
/* ==== end certificates ==== */

#endif /* AUDIT_AUDIT_H */
