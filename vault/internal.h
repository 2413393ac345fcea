/*
 * vault/internal.h - helpers shared inside vault/ only (other modules use
 * vault/vault.h). Not part of any contract.
 */
#ifndef VAULT_INTERNAL_H
#define VAULT_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "vault/vault.h"

/* Discards an enum err on purpose (best-effort cleanup paths). */
#define IGNORE(x)                                                              \
	do {                                                                   \
		enum err ignored_ = (x);                                       \
		(void)ignored_;                                                \
	} while (0)

#define VAULT_PATH_MAX    4096
#define VAULT_SEALED_MAX  256 /* a sealed secret: 64 + CRY_SEAL_OVERHEAD */
#define VAULT_PROTECT_MAX 512 /* a passphrase-protected secret */
#define VAULT_TIME_LEN    21  /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

/* Work that must wait for the kura.db transaction to end. */
enum pend_kind {
	PEND_PUT,        /* commit: fsync folders first; rollback: drop key
	                    row, unlink file */
	PEND_CASE,       /* rollback: drop case secret rows */
	PEND_ERASE_DOC,  /* commit: drop key row, unlink file */
	PEND_ERASE_CASE, /* commit: drop case secret rows, rmdir */
};
struct pend {
	struct pend *next;
	enum pend_kind kind;
	int fd; /* PEND_PUT: the body, fsynced at commit (else -1); owned */
	char case_id[VAULT_ID_MAX];
	char doc_id[VAULT_ID_MAX];
};

struct vault {
	char *dir;
	struct config *cfg;
	sqlite3 *db; /* kura.db */
	sqlite3 *ks; /* keys/keystore.db */
	struct audit *audit;
	int lock_fd;
	bool in_tx;
	/*
	 * ks_tx: a keystore transaction batching the sealed keys of the
	 * kura.db transaction (vault_ks_batch); it commits just before
	 * kura.db does, so keys are durable before any row that needs them.
	 */
	bool ks_tx;
	struct pend *pend;
};

struct vault_staff_session {
	char name[VAULT_STAFF_MAX + 1];
	uint8_t pk[CRY_BOX_PK_LEN];
	struct cry_secret *sk;
};

/* vault/db.c: SQLite plumbing and schemas. */
MUST_CHECK enum err db_open(const char *path, bool create, bool keystore,
    sqlite3 **out);
MUST_CHECK enum err db_exec(sqlite3 *db, const char *sql);
MUST_CHECK enum err db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
/* Steps a statement expecting SQLITE_DONE; finalizes it. */
MUST_CHECK enum err db_run(sqlite3 *db, sqlite3_stmt *st);
MUST_CHECK enum err db_bind_text(sqlite3_stmt *st, int i, const char *s);
MUST_CHECK enum err db_bind_blob(sqlite3_stmt *st, int i, const void *p,
    size_t len);

/*
 * Typed values for db_bind_args() and db_do(): DB_TEXT(s) binds text (NULL
 * binds SQL NULL), DB_INT(x) an int64_t, DB_U64(x) a uint64_t (ERR_TOO_BIG
 * over INT64_MAX), DB_BLOB(p, n) n bytes at p (NULL binds NULL). The
 * compound literals let the compiler check each value's type.
 */
enum db_arg_type { DB_ARG_TEXT = 1, DB_ARG_INT, DB_ARG_U64, DB_ARG_BLOB };
struct db_arg {
	enum db_arg_type type;
	const char *text;
	int64_t i;
	uint64_t u;
	const void *p;
	size_t len;
};
#define DB_TEXT(s) ((struct db_arg){.type = DB_ARG_TEXT, .text = (s)})
#define DB_INT(x)  ((struct db_arg){.type = DB_ARG_INT, .i = (x)})
#define DB_U64(x)  ((struct db_arg){.type = DB_ARG_U64, .u = (x)})
#define DB_BLOB(b, n)                                                          \
	((struct db_arg){.type = DB_ARG_BLOB, .p = (b), .len = (n)})
/* Binds a[0..n) to parameters 1..n of st. */
MUST_CHECK enum err db_bind_args(sqlite3_stmt *st, const struct db_arg *a,
    size_t n);
/*
 * Prepare, bind, step to SQLITE_DONE, finalize: one statement that returns
 * no rows. ERR_DB (logged) on any SQLite failure, ERR_TOO_BIG for a value
 * SQLite cannot take. db_do(db, sql, DB_TEXT(id), DB_INT(n), ...).
 */
MUST_CHECK enum err db_do_args(sqlite3 *db, const char *sql,
    const struct db_arg *a, size_t n);
#define db_do(db, sql, ...)                                                    \
	db_do_args((db), (sql), (const struct db_arg[]){__VA_ARGS__},          \
	    sizeof((const struct db_arg[]){__VA_ARGS__}) /                     \
	        sizeof(struct db_arg))
MUST_CHECK enum err db_schema_vault(sqlite3 *db);
MUST_CHECK enum err db_schema_keystore(sqlite3 *ks);
/* PRAGMA wal_checkpoint(TRUNCATE), retried while readers hold frames. */
MUST_CHECK enum err db_checkpoint_truncate(sqlite3 *db);
MUST_CHECK enum err db_schema_apply(sqlite3 *db, const char *module,
    const char *const *steps, size_t nsteps);

/* vault/vault.c */
void vault_now(char out[static VAULT_TIME_LEN]);
MUST_CHECK enum err vault_path(const struct vault *v, char *out, size_t outsz,
    const char *a, const char *b, const char *c);
/* Joins the caller's transaction or starts one (*own = true). */
MUST_CHECK enum err vault_tx_enter(struct vault *v, bool *own);
/*
 * Keystore writes that belong to the kura.db transaction: inside one, joins
 * (or opens) the batched keystore transaction and sets *batched; outside,
 * does nothing (the caller's statement autocommits). vault_ks_flush commits
 * a batch early; every other keystore BEGIN calls it first.
 */
MUST_CHECK enum err vault_ks_batch(struct vault *v, bool *batched);
MUST_CHECK enum err vault_ks_flush(struct vault *v);
/* vault_ks_flush, then BEGIN IMMEDIATE on the keystore. */
MUST_CHECK enum err vault_ks_begin(struct vault *v);
/* Ends an own transaction: commit when r == ERR_OK, else rollback. */
MUST_CHECK enum err vault_tx_leave(struct vault *v, bool own, enum err r);
MUST_CHECK enum err vault_pend_add(struct vault *v, enum pend_kind kind,
    const char *case_id, const char *doc_id);
MUST_CHECK enum err vault_audit_event(struct vault *v, const char *actor,
    const char *action, const char *case_id, const char *doc_id,
    const char *details_json, uint64_t *index);

/* vault/keys.c */
/* Current epoch id and public key (keystore). */
MUST_CHECK enum err keys_current_epoch(struct vault *v, int64_t *id,
    uint8_t pk[static CRY_BOX_PK_LEN]);
/* The current epoch secret as s sees it (opened with s's staff secret). */
MUST_CHECK enum err keys_epoch_secret(struct vault *v,
    const struct vault_staff_session *s, int64_t *id,
    uint8_t pk[static CRY_BOX_PK_LEN], struct cry_secret **sk);
/* Case secret of case_id opened through s. */
MUST_CHECK enum err keys_case_secret(struct vault *v,
    const struct vault_staff_session *s, const char *case_id,
    uint8_t pk[static CRY_BOX_PK_LEN], struct cry_secret **sk);
MUST_CHECK enum err keys_staff_create(sqlite3 *ks, const char *name,
    const struct cry_secret *passphrase, const struct cry_secret *epoch_sk,
    int64_t epoch_id, const uint8_t epoch_pk[static CRY_BOX_PK_LEN]);
MUST_CHECK enum err keys_write_epoch_pub(const char *dir,
    const uint8_t pk[static CRY_BOX_PK_LEN]);
bool keys_staff_name_ok(const char *name);
/* 16 hex chars of SHA-256 of a sealed key: the key id in certificates. */
void keys_key_id(struct span sealed, char out[static 17]);

/* vault/hostkey.c: keys/ssh_host_ed25519_key, OpenSSH format, 0600. */
MUST_CHECK enum err vault_hostkey_create(const char *path);

/* vault/doc.c */
/* Destroys what erasures queued (after the kura.db commit). */
MUST_CHECK enum err doc_destroy_pending(struct vault *v, struct pend *list);
/*
 * Makes the renames of the queued puts durable (each case folder, cases/
 * and staging/ once) before kura.db commits them.
 */
MUST_CHECK enum err doc_sync_pending(struct vault *v, struct pend *list);
/* Undoes what puts and case creations queued (after a rollback). */
void doc_undo_pending(struct vault *v, struct pend *list);

#endif /* VAULT_INTERNAL_H */
