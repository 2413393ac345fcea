/*
 * vault/vault.h - the encrypted document store: keys, cases, documents.
 *
 * A vault is a folder (DESIGN.md "Vault on disk"):
 *   kura.conf            settings (commented defaults written by vault_init)
 *   kura.db              SQLite WAL: cases, documents, audit log, and the
 *                        tables of the modules above (vault_schema_apply)
 *   keys/keystore.db     SQLite, secure_delete=ON: staff key pairs (secret
 *                        under the passphrase), epochs, epoch secrets sealed
 *                        to each staff public key, case secrets sealed to an
 *                        epoch public key, document keys sealed to a case
 *                        public key. Everything erasure must destroy.
 *   keys/epoch.pub       the current epoch public key (hex; a mirror of the
 *                        keystore, which is the authority)
 *   keys/log.key,log.pub the audit log key (audit_keys_create)
 *   keys/ssh_host_ed25519_key  the SFTP host key (OpenSSH format, + .pub)
 *   kura.lock            flock: shared by every opener, exclusive for
 *                        vault_recover
 *   staging/             document bodies being written (always ciphertext)
 *   cases/<case>/<doc>   one chunked-AEAD body per document
 *
 * Invariants. kura.db is the source of truth for cases and documents: a
 * key row or a file that no committed kura.db row points to is garbage
 * (vault_recover removes it). Puts therefore write file and key first and
 * commit the row last; erasure commits the row change first and destroys
 * key and file after. Plaintext never touches the disk. A vault opened
 * without a staff session holds only public keys: it can store documents
 * and create cases but can read nothing back (the SFTP server runs so).
 *
 * Transactions. vault_begin() opens BEGIN IMMEDIATE on kura.db; every
 * function below that changes state joins an open transaction, else runs
 * its own. Each change appends its audit event in that transaction
 * (audit_append). Key destruction and unlinking queued by an erase inside
 * a transaction happen in vault_commit(), after the rows are committed;
 * files and keys written by puts inside a rolled back transaction are
 * removed by vault_rollback().
 *
 * Ids are lower-case hex: case ids VAULT_CASE_ID_HEX chars, document ids
 * 2 * CRY_DOC_ID_LEN chars. Never derived from submitter input.
 *
 * kura.db tables of vault/ (other modules read them; add your own tables
 * through vault_schema_apply and reference these by id):
 *   cases(id TEXT PK, created TEXT, pk BLOB, state TEXT 'open'|'erased',
 *         erased TEXT)
 *   documents(id TEXT PK, case_id TEXT -> cases, number, name, role,
 *         format, submission TEXT, plain_size, cipher_size INTEGER,
 *         plain_sha256, cipher_sha256 BLOB, key_id TEXT, store_index
 *         INTEGER (audit leaf), created TEXT, state 'live'|'retained'|
 *         'erased', erased TEXT)
 * Times are UTC "YYYY-MM-DDTHH:MM:SSZ".
 */
#ifndef VAULT_VAULT_H
#define VAULT_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "audit/audit.h"
#include "common/config.h"
#include "common/err.h"
#include "crypto/crypto.h"

#define VAULT_CASE_ID_HEX  16
#define VAULT_DOC_ID_HEX   (2 * CRY_DOC_ID_LEN)
#define VAULT_ID_MAX	   40 /* buffer for either id, with the NUL */
#define VAULT_STAFF_MAX	   64 /* longest staff name, bytes */
#define VAULT_META_MAX	   1024 /* longest document metadata string */

struct vault;		    /* opaque: an open vault */
struct vault_put;	    /* opaque: a document being written */
struct vault_doc;	    /* opaque: a document opened for reading */
struct vault_staff_session; /* opaque: a staff member with unlocked keys */

/* ---- create, open, close ---- */
struct vault_init_opts {
	const char *staff_name;	 /* first staff member; NULL = "admin" */
	const struct cry_secret *passphrase; /* theirs; required */
	const char *log_origin;	 /* audit log origin; NULL = from hostname */
};
/*
 * Creates a vault at dir (which must not exist or be an empty folder):
 * kura.conf, kura.db (all registered migrations run), keystore, staff key
 * pair, first epoch, log key, SSH host key. ERR_EXISTS if dir holds a
 * vault or anything else. On failure the half-made vault is removed.
 */
MUST_CHECK enum err vault_init(const char *dir,
    const struct vault_init_opts *opts);

#define VAULT_OPEN_RECOVER 0x1 /* run vault_recover() (needs exclusivity) */
/*
 * Opens the vault at dir: loads kura.conf, opens kura.db and the keystore
 * (NOFOLLOW, defensive, foreign keys), binds the audit log, and applies
 * the vault's own migrations. ERR_NOT_FOUND when dir holds no vault.
 */
MUST_CHECK enum err vault_open(const char *dir, unsigned flags,
    struct vault **out);
void vault_close(struct vault *v); /* NULL-safe; rolls back an open tx */

/* Borrowed handles for the modules above (valid until vault_close). */
sqlite3 *vault_db(struct vault *v);
struct audit *vault_audit(struct vault *v);
const struct config *vault_config(const struct vault *v);
const char *vault_dir(const struct vault *v);

/*
 * Schema of a module above vault/ (accounts, case lifecycle...): steps[i]
 * is the literal DDL that brings module from version i to i + 1. Applies,
 * in one transaction, the steps past the version recorded in kura.db's
 * schema_versions(module, version) table. Idempotent: call it at every
 * open of your module. ERR_DB if a step fails (nothing applied then).
 */
MUST_CHECK enum err vault_schema_apply(struct vault *v, const char *module,
    const char *const *steps, size_t nsteps);

/* ---- transactions on kura.db (BEGIN IMMEDIATE; no nesting) ---- */
MUST_CHECK enum err vault_begin(struct vault *v);
/* Commits, then performs the key destruction queued by erasures. */
MUST_CHECK enum err vault_commit(struct vault *v);
void vault_rollback(struct vault *v); /* no-op without a transaction */

/* ---- staff ---- */
/*
 * Unlocks name's secret with the passphrase and, through it, the current
 * epoch secret. ERR_AUTH on a wrong passphrase, ERR_NOT_FOUND for an
 * unknown name. The session holds secrets: free it as soon as done.
 */
MUST_CHECK enum err vault_staff_unlock(struct vault *v, const char *name,
    const struct cry_secret *passphrase, struct vault_staff_session **out);
const char *vault_staff_name(const struct vault_staff_session *s);
void vault_staff_session_free(struct vault_staff_session *s); /* wipes */
/*
 * Adds a staff member: new X25519 pair, secret under passphrase, and the
 * epoch secret (from by's session) sealed to the new public key. Audited
 * as staff.add by by. ERR_EXISTS, ERR_INVALID for a bad name
 * ([A-Za-z0-9._-], 1..VAULT_STAFF_MAX).
 */
MUST_CHECK enum err vault_staff_add(struct vault *v,
    const struct vault_staff_session *by, const char *name,
    const struct cry_secret *passphrase);
/*
 * Removes name and the epoch secret sealed to them (audited, keystore
 * checkpointed); ERR_PERM for the last member. Follow with
 * vault_epoch_rotate (kura staff remove does) so that a copy they kept
 * opens nothing.
 */
MUST_CHECK enum err vault_staff_remove(struct vault *v, const char *actor,
    const char *name);
/* Calls fn for each staff member, by name; stops on a non-OK return. */
MUST_CHECK enum err vault_staff_list(struct vault *v,
    enum err (*fn)(void *arg, const char *name, const char *created),
    void *arg);

/* ---- cases ---- */
/*
 * Creates a case: a fresh X25519 pair whose secret is sealed to the
 * current epoch public key (keystore) and wiped; the row in kura.db
 * cases(id, created, pk, state='open') and a case.create event by actor.
 * Needs no secret. id receives VAULT_CASE_ID_HEX chars + NUL.
 */
MUST_CHECK enum err vault_case_create(struct vault *v, const char *actor,
    char id[static VAULT_ID_MAX]);
/*
 * Cryptographic erasure of a case (R9): every live document not retained
 * (vault_doc_retain) and the case secret (all epochs) are destroyed,
 * keystore WAL checkpointed (TRUNCATE), ciphertext unlinked, folders
 * fsynced; rows are marked erased (never deleted), events case.erase and
 * doc.erase. The epoch ratchet (vault_epoch_rotate) is a separate step.
 */
MUST_CHECK enum err vault_case_erase(struct vault *v, const char *actor,
    const char *case_id);

/* ---- documents: write ---- */
/*
 * Starts a document body in staging/ with a fresh random document key
 * (in memory only) and document id. Writes may come at any offset in any
 * order; nothing but ciphertext reaches the disk. max_size (0: none)
 * makes a write past it ERR_TOO_BIG.
 */
MUST_CHECK enum err vault_put_begin(struct vault *v, uint64_t max_size,
    struct vault_put **out);
MUST_CHECK enum err vault_put_write(struct vault_put *p, uint64_t off,
    struct span data);
uint64_t vault_put_size(const struct vault_put *p);
/*
 * Seals the last chunk and starts its writeback (the fsync comes with the
 * commit that keeps it: vault_put_commit); the put then accepts reads (the
 * SFTP intake validates the upload before keeping it) and no more writes.
 * res (may be NULL) gets sizes and SHA-256 of plaintext and ciphertext.
 */
MUST_CHECK enum err vault_put_finish(struct vault_put *p,
    struct cry_doc_result *res);
MUST_CHECK enum err vault_put_read(struct vault_put *p, uint64_t off,
    uint8_t *buf, size_t len, size_t *nread);

struct vault_doc_meta {
	const char *actor;	/* who stores it (audit) */
	const char *number;	/* inventory number, e.g. "A-1"; may be NULL */
	const char *name;	/* original name, UTF-8 NFC */
	const char *role;	/* e.g. "form-a", "published", "evidence" */
	const char *format;	/* e.g. "pdf", "xlsx", "zip" */
	const char *submission; /* receipt number or submission id; NULL ok */
};
/*
 * Keeps the document in case_id: finishes it if needed, seals its key to
 * the case public key (keystore), moves the body to cases/<case>/<doc>,
 * and inserts documents(...) with sizes and hashes and a doc.store event
 * whose leaf index is recorded (certificates cite it). doc_id receives the
 * id. The put is freed whatever the result. Inside a caller's transaction
 * the fsyncs (body, folders) and the keystore commit are done once for all
 * its puts by vault_commit, before kura.db commits; on their own, at once.
 */
MUST_CHECK enum err vault_put_commit(struct vault_put *p, const char *case_id,
    const struct vault_doc_meta *meta, char doc_id[static VAULT_ID_MAX]);
void vault_put_abort(struct vault_put *p); /* NULL-safe; unlinks, wipes */

/* ---- documents: read, retain, erase ---- */
/*
 * Opens a stored document for range reads: the staff session's epoch
 * secret opens the case secret, which opens the document key. Audited as
 * doc.open by the staff member with purpose (may be NULL). ERR_NOT_FOUND
 * for an unknown or erased document, ERR_CORRUPT on any tampering.
 */
MUST_CHECK enum err vault_doc_open(struct vault *v,
    const struct vault_staff_session *s, const char *doc_id,
    const char *purpose, struct vault_doc **out);
uint64_t vault_doc_size(const struct vault_doc *d);
/* Reads [off, off+len); *nread < len only at the end of the document. */
MUST_CHECK enum err vault_doc_read(struct vault_doc *d, uint64_t off,
    uint8_t *buf, size_t len, size_t *nread);
void vault_doc_close(struct vault_doc *d); /* NULL-safe; wipes */
/*
 * Retention before a case erase (R9: form A, published content, legal
 * hold): re-seals the document key from the case public key to the
 * current epoch public key, so that erasing the case leaves it readable.
 * Audited doc.retain with the new key id.
 */
MUST_CHECK enum err vault_doc_retain(struct vault *v,
    const struct vault_staff_session *s, const char *doc_id);
/* Erases one document (key destroyed, checkpoint, unlink); doc.erase. */
MUST_CHECK enum err vault_doc_erase(struct vault *v, const char *actor,
    const char *doc_id);

/* ---- keys and recovery ---- */
/*
 * The epoch ratchet: a new epoch key pair; every remaining case secret
 * and retained document key re-sealed to it; its secret sealed to every
 * staff public key; every sealed copy of older epoch secrets destroyed
 * and the old epoch marked retired (keystore epochs table keeps id, pk,
 * created, retired). Checkpoints the keystore WAL. Audited epoch.rotate;
 * *new_epoch (may be NULL) gets the new epoch id.
 */
MUST_CHECK enum err vault_epoch_rotate(struct vault *v,
    const struct vault_staff_session *s, int64_t *new_epoch);

struct vault_recover_report {
	unsigned staging_removed; /* abandoned uploads */
	unsigned files_removed;	  /* case files no live row points to */
	unsigned keys_removed;	  /* keystore rows no live row points to */
	unsigned missing;	  /* live rows whose file is missing */
};
/*
 * Removes and reports (log_warn, and a vault.recover event when anything
 * was removed) what no committed row points to. Needs the vault to
 * itself: waits up to VAULT_RECOVER_WAIT_MS for other users to go (the
 * sessions of a killed server exit with it), then ERR_PERM.
 */
#define VAULT_RECOVER_WAIT_MS 5000
MUST_CHECK enum err vault_recover(struct vault *v,
    struct vault_recover_report *rep);


/* ==== accounts: applicants of the SFTP intake (vault/account.c) ==== */
/*
 * Tables (module "accounts", vault_schema_apply): accounts, account_keys,
 * account_certs (the certified services, 認定番号, an account may renew,
 * change or terminate, each optionally linked to its case),
 * intake_submissions, intake_results (the files of /results/), and
 * receipt_counters. Every change is audited in its own transaction
 * (account.add, account.disable, account.key.add ...) with actor.
 */
#define VAULT_LOGIN_MAX	  64  /* [a-z0-9._-], starts with a letter/digit */
#define VAULT_EMAIL_MAX	  254
#define VAULT_ORG_MAX	  256
#define VAULT_PWHASH_MAX  128
#define VAULT_CERT_MAX	  64  /* 認定番号 */
#define VAULT_RECEIPT_MAX 64

struct vault_account {
	int64_t id;
	char login[VAULT_LOGIN_MAX + 1];
	char org[VAULT_ORG_MAX + 1];
	char email[VAULT_EMAIL_MAX + 1];
	char pwhash[VAULT_PWHASH_MAX]; /* Argon2id string; "" = no password */
	bool disabled;
	uint64_t max_upload; /* bytes; 0 = kura.conf limits.max_upload */
	uint64_t quota;	     /* bytes; 0 = kura.conf limits.quota */
	char created[24];
};

/*
 * Applies the accounts schema (vault_schema_apply): call once after
 * vault_open, outside a transaction, before the functions below.
 */
MUST_CHECK enum err vault_accounts_open(struct vault *v);
/* True for a well-formed login name. */
bool vault_login_valid(const char *login);
/* ERR_NOT_FOUND for an unknown login. */
MUST_CHECK enum err vault_account_get(struct vault *v, const char *login,
    struct vault_account *out);
/* Adds a (audited account.add); ERR_EXISTS, ERR_INVALID. Sets a->id. */
MUST_CHECK enum err vault_account_add(struct vault *v, const char *actor,
    struct vault_account *a);
/*
 * Stores a's org, email, pwhash, disabled, max_upload and quota for the
 * account a->login, audited as action (e.g. "account.disable").
 */
MUST_CHECK enum err vault_account_update(struct vault *v, const char *actor,
    const struct vault_account *a, const char *action);
MUST_CHECK enum err vault_account_list(struct vault *v,
    enum err (*fn)(void *arg, const struct vault_account *a), void *arg);
/*
 * Public keys as OpenSSH writes them: type, base64 blob, comment.
 * add: ERR_EXISTS for a key already there; remove: ERR_NOT_FOUND.
 */
MUST_CHECK enum err vault_account_key_add(struct vault *v, const char *actor,
    const char *login, const char *type, const char *b64,
    const char *comment);
MUST_CHECK enum err vault_account_key_remove(struct vault *v,
    const char *actor, const char *login, const char *type, const char *b64);
MUST_CHECK enum err vault_account_keys(struct vault *v, const char *login,
    enum err (*fn)(void *arg, const char *type, const char *b64,
	const char *comment),
    void *arg);
/* Links a 認定番号 (and optionally its case) to login; audited. */
MUST_CHECK enum err vault_account_link(struct vault *v, const char *actor,
    const char *login, const char *cert, const char *case_id);
MUST_CHECK enum err vault_account_unlink(struct vault *v, const char *actor,
    const char *login, const char *cert);
/* case_id is "" when none is linked. */
MUST_CHECK enum err vault_account_certs(struct vault *v, const char *login,
    enum err (*fn)(void *arg, const char *cert, const char *case_id),
    void *arg);

/* Results shown in the applicant's /results/ (replaced by name). */
MUST_CHECK enum err vault_result_put(struct vault *v, int64_t account_id,
    const char *name, struct span content);
/* ERR_NOT_FOUND when absent; out is replaced (max: its own). */
MUST_CHECK enum err vault_result_get(struct vault *v, int64_t account_id,
    const char *name, struct bytes *out);
MUST_CHECK enum err vault_result_list(struct vault *v, int64_t account_id,
    enum err (*fn)(void *arg, const char *name, uint64_t size,
	int64_t mtime),
    void *arg);

/* One submission's outcome (intake); verdict "accepted"/"rejected". */
struct vault_submission {
	int64_t account_id;
	const char *folder; /* new, renewal, change, termination */
	const char *cert;   /* "" for new */
	const char *name;
	uint64_t size;
	const uint8_t *sha256; /* CRY_HASH_LEN */
	const char *verdict;
	const char *receipt; /* "" when rejected */
	const char *case_id; /* "" when rejected */
};
MUST_CHECK enum err vault_submission_add(struct vault *v,
    const struct vault_submission *s);
/* True when name was accepted for this account already (no overwrite). */
MUST_CHECK enum err vault_submission_accepted(struct vault *v,
    int64_t account_id, const char *name, bool *yes);
/* Bytes of accepted submissions (quota). */
MUST_CHECK enum err vault_account_usage(struct vault *v, int64_t account_id,
    uint64_t *bytes);
/*
 * The next receipt number in the open transaction: in fmt (kura.conf
 * receipt.format) "YYYY" is the year and a run of N the counter, zero
 * padded to the run's length, restarting each year; other characters are
 * kept. NULL or "" means "YYYY-NNNNNN": e.g. "2026-000001".
 */
MUST_CHECK enum err vault_receipt_next(struct vault *v, const char *fmt,
    char out[static VAULT_RECEIPT_MAX]);
/* ==== end of accounts ==== */

/* ==== case lifecycle (vault/case_life.c; owner: cases engineer) ==== */
/*
 * Decisions, legal holds, returns with deletion certificates, retention,
 * scrub (R6, R7, R9, R10, R11). Tables in kura.db (module "case_life"):
 *   case_decisions(case_id, decision 'certified'|'not-certified'|
 *       'revoked'|'terminated', serial, number, decided, expires, staff)
 *   case_holds(id, case_id, reason, placed, placed_by, released, released_by)
 *   case_returns(case_id, reason, certificate_id, issued, staff, approver,
 *       cert_sha256, certificate, stage, final_after, epoch)
 * kura.conf keys: scheme.prefix (AI), retention.validity_years (2),
 * retention.not_certified_days (30), retention.two_person_rule (false),
 * retention.retain_certified (form_a,form_b), retention.retain_not_certified
 * (empty), retention.keystore_backup_days (30), issuer.name.
 */
#define VAULT_LIFE_STR 160 /* short strings in the structs below */

struct vault_case_info {
	char id[VAULT_ID_MAX];
	char created[32];
	char state[24];	/* received|certified|not-certified|revoked|
			   terminated|expired|returned */
	char decision[24], number[32], decided[32], expires[32];
	char receipt[VAULT_LIFE_STR], applicant[VAULT_LIFE_STR];
	bool held;
	char hold_reason[VAULT_LIFE_STR];
	char returned[32], return_reason[32], certificate_id[32], stage[16];
	char final_after[32];
	char due[32], due_reason[24]; /* the retention clock (R7, R9, R10) */
	uint64_t docs_live, docs_retained, docs_erased, bytes_live;
};
struct vault_doc_info {
	char id[VAULT_ID_MAX], case_id[VAULT_ID_MAX];
	char number[VAULT_LIFE_STR], name[VAULT_META_MAX], role[64];
	char format[32], submission[VAULT_LIFE_STR], state[16], key_id[40];
	char created[32];
	uint64_t size, cipher_size, store_index;
	uint8_t sha256[CRY_HASH_LEN], cipher_sha256[CRY_HASH_LEN];
};
/* Applies the lifecycle schema (idempotent); call after vault_open. */
MUST_CHECK enum err vault_life_open(struct vault *v);
/* One case; ERR_NOT_FOUND. */
MUST_CHECK enum err vault_case_info(struct vault *v, const char *id,
    struct vault_case_info *out);
/* Every case (state NULL) or those in state, oldest first. */
MUST_CHECK enum err vault_case_list(struct vault *v, const char *state,
    enum err (*fn)(void *arg, const struct vault_case_info *c), void *arg);
/* The documents of a case, in storing order (erased ones too). */
MUST_CHECK enum err vault_case_docs(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const struct vault_doc_info *d), void *arg);
/*
 * Records a decision (R6, R7): "certified" assigns prefix + 4-digit serial
 * + YYMM valid two years; "revoked"/"terminated" end a certification.
 * Audited case.decide. ERR_EXISTS when already decided that way,
 * ERR_PERM when returned. number (may be NULL) gets the number.
 */
MUST_CHECK enum err vault_case_decide(struct vault *v, const char *staff,
    const char *id, const char *decision, char number[static 32]);
/* Legal hold and release (case.hold / case.release). */
MUST_CHECK enum err vault_case_hold(struct vault *v, const char *staff,
    const char *id, const char *reason);
MUST_CHECK enum err vault_case_release(struct vault *v, const char *staff,
    const char *id);
struct vault_return_opts {
	const char *reason; /* not-certified|expired|revoked|terminated|
			       superseded|request */
	const struct vault_staff_session *op;	    /* operator */
	const struct vault_staff_session *approver; /* NULL unless 2-person */
	const char *tool;   /* "kura 0.1.0 sha256=..." */
};
/*
 * The return (R9): retained documents re-sealed, case erased, epoch
 * ratchet, verification, checkpoint, certificate (signed by the log key)
 * whose hash is then logged. cert_out gets the certificate file. ERR_PERM
 * on a hold or when the two-person rule needs an approver.
 */
MUST_CHECK enum err vault_case_return(struct vault *v,
    const struct vault_return_opts *o, const char *id, struct bytes *cert_out);
/* What R7/R9/R10 make due at now (NULL: the current time). */
MUST_CHECK enum err vault_retention_due(struct vault *v, const char *now,
    enum err (*fn)(void *arg, const char *case_id, const char *reason,
	const char *since, bool held),
    void *arg);
/*
 * Checks a verified certificate against this vault (no secret needed):
 * cited leaves are in the log, ciphertext files and keystore rows named
 * are gone. Appends "ok"/"FAIL" lines to report. ERR_CORRUPT on a failure.
 */
MUST_CHECK enum err vault_cert_check(struct vault *v,
    const struct audit_cert *c, struct bytes *report);
/*
 * Every stored ciphertext against its recorded SHA-256, missing files and
 * unexpected ones (an erased document's file restored, unknown files).
 * ERR_CORRUPT when anything is off; report gets one line per finding.
 */
MUST_CHECK enum err vault_scrub(struct vault *v,
    void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx,
    struct bytes *report, uint64_t *checked);
/*
 * The final stage (docs/certificate.md §3): once the keystore backups that
 * held the retired epoch have expired (final_after <= now; now NULL: the
 * current time), issues a certificate with stage final superseding the
 * primary one, with fresh proofs against a new checkpoint. Needs no staff
 * secret (the log key signs). ERR_PERM before that date, ERR_EXISTS when
 * already final, ERR_NOT_FOUND when the case was not returned.
 */
MUST_CHECK enum err vault_case_finalize(struct vault *v, const char *actor,
    const char *cert_id, const char *now, struct bytes *cert_out);
/* Primary certificates whose final stage is due at now (NULL: now). */
MUST_CHECK enum err vault_final_due(struct vault *v, const char *now,
    enum err (*fn)(void *arg, const char *case_id, const char *cert_id,
	const char *final_after),
    void *arg);
/*
 * A fresh key pair for a case that lives on (vault/case_rekey.c): its
 * remaining document keys re-sealed to it, every sealed copy of the old
 * case secret deleted, keystore WAL truncated; case.rekey (*index, may be
 * NULL, gets its leaf index). Used by a superseded return (R7).
 */
MUST_CHECK enum err vault_case_rekey(struct vault *v,
    const struct vault_staff_session *s, const char *case_id,
    uint64_t *index);
/*
 * Intake submissions under this case's 認定番号 (renewal, change,
 * termination: they attach to the certified case), oldest first.
 */
MUST_CHECK enum err vault_case_related(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const char *folder, const char *receipt,
	const char *case_id, const char *verdict, const char *created),
    void *arg);
/* The intake's signed receipts for a case's submissions (name, bytes). */
MUST_CHECK enum err vault_case_receipts(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const char *name, struct span file),
    void *arg);
/* The certificates issued for a case (file bytes), oldest first. */
MUST_CHECK enum err vault_case_certs(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const char *cert_id, const char *stage,
	struct span file),
    void *arg);
/* ==== end case lifecycle ==== */

/* ==== lockouts of kura serve (vault/lockout.c; owner: keeper) ==== */
/*
 * Failed-login lockouts that survive a restart of `kura serve`. Table in
 * kura.db (module "lockouts"): lockouts(key TEXT PK "a:ADDR" | "u:LOGIN",
 * until INTEGER Unix seconds, level INTEGER lockouts so far). Expired rows
 * are deleted by both functions below.
 */
#define VAULT_LOCKOUT_KEY_MAX 80
/* Applies the schema: call once after vault_open, outside a transaction. */
MUST_CHECK enum err vault_lockouts_open(struct vault *v);
/* Records (replaces) key's lockout; ERR_INVALID for a bad key. */
MUST_CHECK enum err vault_lockout_put(struct vault *v, const char *key,
    int64_t until, uint32_t level, int64_t now);
/* Deletes the lockouts over at now, then calls fn for each one left. */
MUST_CHECK enum err vault_lockouts_load(struct vault *v, int64_t now,
    enum err (*fn)(void *arg, const char *key, int64_t until, uint32_t level),
    void *arg);
/* ==== end of lockouts ==== */

#endif /* VAULT_VAULT_H */
