/*
 * vault/keys.c - the keystore: staff, epochs, case secrets, the ratchet.
 *
 * Hierarchy (SECURITY.md "Key hierarchy"): staff secret under passphrase
 * -> epoch secret sealed to each staff pk -> case secret sealed to the
 * epoch pk -> document key sealed to the case pk (or, once retained, to
 * the epoch pk). Secrets are opened only into struct cry_secret and freed
 * on every path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsx.h"
#include "common/log.h"
#include "vault/internal.h"
#include "common/banned.h"

bool
keys_staff_name_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > VAULT_STAFF_MAX || name[0] == '-' || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-'))
			return false;
	}
	return true;
}

void
keys_key_id(struct span sealed, char out[static 17])
{
	uint8_t h[CRY_HASH_LEN];

	cry_sha256(sealed.p, sealed.len, h);
	hex_encode(h, 8, out);
}

enum err
keys_write_epoch_pub(const char *dir, const uint8_t pk[static CRY_BOX_PK_LEN])
{
	char path[VAULT_PATH_MAX], hex[2 * CRY_BOX_PK_LEN + 2];
	enum err r;

	hex_encode(pk, CRY_BOX_PK_LEN, hex);
	hex[2 * CRY_BOX_PK_LEN] = '\n';
	hex[2 * CRY_BOX_PK_LEN + 1] = 0;
	if ((r = fsx_join(path, sizeof(path), dir, "keys/epoch.pub")) != ERR_OK)
		return r;
	return fsx_write_atomic(path, span_str(hex), 0600);
}

/* Seals sk to pk and inserts it as epoch_secrets(epoch, staff). */
static enum err
seal_epoch_to_staff(sqlite3 *ks, int64_t epoch_id, const char *staff,
    const uint8_t staff_pk[static CRY_BOX_PK_LEN],
    const struct cry_secret *epoch_sk)
{
	enum err r = ERR_INTERNAL;
	struct bytes sealed;

	bytes_init(&sealed, VAULT_SEALED_MAX);
	if ((r = cry_seal(staff_pk, epoch_sk, &sealed)) != ERR_OK)
		goto out;
	r = db_do(ks,
	    "INSERT INTO epoch_secrets(epoch_id, staff, sealed)"
	    " VALUES (?, ?, ?)",
	    DB_INT(epoch_id), DB_TEXT(staff), DB_BLOB(sealed.p, sealed.len));
out:
	bytes_release(&sealed);
	return r;
}

enum err
keys_staff_create(sqlite3 *ks, const char *name,
    const struct cry_secret *passphrase, const struct cry_secret *epoch_sk,
    int64_t epoch_id, const uint8_t epoch_pk[static CRY_BOX_PK_LEN])
{
	enum err r = ERR_INTERNAL;
	uint8_t pk[CRY_BOX_PK_LEN];
	struct cry_secret *sk = NULL;
	struct bytes prot;
	sqlite3_stmt *st = NULL;
	char now[VAULT_TIME_LEN];

	(void)epoch_pk;
	bytes_init(&prot, VAULT_PROTECT_MAX);
	vault_now(now);
	if ((r = cry_box_keypair(pk, &sk)) != ERR_OK ||
	    (r = cry_pw_protect(passphrase, sk, &prot)) != ERR_OK)
		goto out;
	if ((r = db_prepare(ks,
	         "INSERT INTO staff(name, pk, protected, created)"
	         " VALUES (?, ?, ?, ?)",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, name)) != ERR_OK ||
	    (r = db_bind_blob(st, 2, pk, sizeof(pk))) != ERR_OK ||
	    (r = db_bind_blob(st, 3, prot.p, prot.len)) != ERR_OK ||
	    (r = db_bind_text(st, 4, now)) != ERR_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sqlite3_extended_errcode(ks) == SQLITE_CONSTRAINT_PRIMARYKEY
		        ? ERR_EXISTS
		        : ERR_DB;
		goto out;
	}
	if ((r = seal_epoch_to_staff(ks, epoch_id, name, pk, epoch_sk)) !=
	    ERR_OK)
		goto out;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	cry_secret_free(sk);
	bytes_release(&prot);
	return r;
}

enum err
keys_current_epoch(struct vault *v, int64_t *id,
    uint8_t pk[static CRY_BOX_PK_LEN])
{
	sqlite3_stmt *st = NULL;
	enum err r = ERR_DB;

	if (db_prepare(v->ks,
	        "SELECT id, pk FROM epochs WHERE retired IS NULL"
	        " ORDER BY id DESC LIMIT 1",
	        &st) != ERR_OK)
		return ERR_DB;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 1) == CRY_BOX_PK_LEN) {
		*id = sqlite3_column_int64(st, 0);
		memcpy(pk, sqlite3_column_blob(st, 1), CRY_BOX_PK_LEN);
		r = ERR_OK;
	} else
		log_err("keystore has no current epoch");
	sqlite3_finalize(st);
	return r;
}

enum err
keys_epoch_secret(struct vault *v, const struct vault_staff_session *s,
    int64_t *id, uint8_t pk[static CRY_BOX_PK_LEN], struct cry_secret **sk)
{
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	int rc;

	*sk = NULL;
	if ((r = db_prepare(v->ks,
	         "SELECT e.id, e.pk, s.sealed FROM epochs e"
	         " JOIN epoch_secrets s ON s.epoch_id = e.id"
	         " WHERE e.retired IS NULL AND s.staff = ?"
	         " ORDER BY e.id DESC LIMIT 1",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, s->name)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		log_err("no epoch secret is sealed to staff %s", s->name);
		r = ERR_PERM;
		goto out;
	}
	if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 1) != CRY_BOX_PK_LEN) {
		r = ERR_DB;
		goto out;
	}
	*id = sqlite3_column_int64(st, 0);
	memcpy(pk, sqlite3_column_blob(st, 1), CRY_BOX_PK_LEN);
	r = cry_seal_open(s->pk, s->sk,
	    span_of(sqlite3_column_blob(st, 2),
	        (size_t)sqlite3_column_bytes(st, 2)),
	    sk);
out:
	sqlite3_finalize(st);
	return r;
}

enum err
keys_case_secret(struct vault *v, const struct vault_staff_session *s,
    const char *case_id, uint8_t pk[static CRY_BOX_PK_LEN],
    struct cry_secret **sk)
{
	enum err r = ERR_INTERNAL;
	struct cry_secret *esk = NULL;
	uint8_t epk[CRY_BOX_PK_LEN];
	int64_t eid = 0;
	sqlite3_stmt *st = NULL;
	int rc;

	*sk = NULL;
	if ((r = db_prepare(v->db, "SELECT pk FROM cases WHERE id = ?", &st)) !=
	        ERR_OK ||
	    (r = db_bind_text(st, 1, case_id)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 0) != CRY_BOX_PK_LEN) {
		r = rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_DB;
		goto out;
	}
	memcpy(pk, sqlite3_column_blob(st, 0), CRY_BOX_PK_LEN);
	sqlite3_finalize(st);
	st = NULL;
	if ((r = keys_epoch_secret(v, s, &eid, epk, &esk)) != ERR_OK)
		goto out;
	if ((r = db_prepare(v->ks,
	         "SELECT sealed FROM case_secrets WHERE case_id = ?"
	         " AND epoch_id = ?",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, case_id)) != ERR_OK ||
	    sqlite3_bind_int64(st, 2, eid) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		/* Erased: the sealed secret no longer exists anywhere live. */
		r = rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_DB;
		goto out;
	}
	r = cry_seal_open(epk, esk,
	    span_of(sqlite3_column_blob(st, 0),
	        (size_t)sqlite3_column_bytes(st, 0)),
	    sk);
out:
	sqlite3_finalize(st);
	cry_secret_free(esk);
	return r;
}

/* ---- staff ---- */

enum err
vault_staff_unlock(struct vault *v, const char *name,
    const struct cry_secret *passphrase, struct vault_staff_session **out)
{
	enum err r = ERR_INTERNAL;
	struct vault_staff_session *s = NULL;
	sqlite3_stmt *st = NULL;
	struct cry_secret *esk = NULL;
	uint8_t epk[CRY_BOX_PK_LEN];
	int64_t eid;
	int rc;

	*out = NULL;
	if (!keys_staff_name_ok(name))
		return ERR_NOT_FOUND;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	(void)snprintf(s->name, sizeof(s->name), "%s", name);
	if ((r = db_prepare(v->ks,
	         "SELECT pk, protected FROM staff WHERE name = ?", &st)) !=
	        ERR_OK ||
	    (r = db_bind_text(st, 1, name)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 0) != CRY_BOX_PK_LEN) {
		r = rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_DB;
		goto out;
	}
	memcpy(s->pk, sqlite3_column_blob(st, 0), CRY_BOX_PK_LEN);
	if ((r = cry_pw_unprotect(passphrase,
	         span_of(sqlite3_column_blob(st, 1),
	             (size_t)sqlite3_column_bytes(st, 1)),
	         &s->sk)) != ERR_OK)
		goto out;
	/* Proves the secret matches: it must open the current epoch. */
	if ((r = keys_epoch_secret(v, s, &eid, epk, &esk)) != ERR_OK) {
		if (r == ERR_CORRUPT)
			r = ERR_AUTH;
		goto out;
	}
	*out = s;
	s = NULL;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	cry_secret_free(esk);
	vault_staff_session_free(s);
	return r;
}

const char *
vault_staff_name(const struct vault_staff_session *s)
{
	return s->name;
}

void
vault_staff_session_free(struct vault_staff_session *s)
{
	if (s == NULL)
		return;
	cry_secret_free(s->sk);
	mem_wipe(s, sizeof(*s));
	free(s);
}

enum err
vault_staff_add(struct vault *v, const struct vault_staff_session *by,
    const char *name, const struct cry_secret *passphrase)
{
	enum err r = ERR_INTERNAL;
	struct cry_secret *esk = NULL;
	uint8_t epk[CRY_BOX_PK_LEN];
	int64_t eid = 0;
	bool own = false, ks_tx = false;
	char details[128];

	if (!keys_staff_name_ok(name)) {
		log_err("invalid staff name (use A-Z a-z 0-9 . _ -, at most "
		        "%d bytes)",
		    VAULT_STAFF_MAX);
		return ERR_INVALID;
	}
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		return r;
	if ((r = vault_ks_begin(v)) != ERR_OK)
		goto out;
	ks_tx = true;
	if ((r = keys_epoch_secret(v, by, &eid, epk, &esk)) != ERR_OK)
		goto out;
	if ((r = keys_staff_create(v->ks, name, passphrase, esk, eid, epk)) !=
	    ERR_OK)
		goto out;
	(void)snprintf(details, sizeof(details),
	    "{\"staff\":\"%s\",\"epoch\":%lld}", name, (long long)eid);
	if ((r = vault_audit_event(v, by->name, "staff.add", NULL, NULL,
	         details, NULL)) != ERR_OK)
		goto out;
	/* Keystore first: a crash in between leaves an unaudited member. */
	if ((r = db_exec(v->ks, "COMMIT")) != ERR_OK)
		goto out;
	ks_tx = false;
	r = ERR_OK;
out:
	if (ks_tx)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	cry_secret_free(esk);
	return vault_tx_leave(v, own, r);
}

enum err
vault_staff_remove(struct vault *v, const char *actor, const char *name)
{
	enum err r = ERR_INTERNAL;
	sqlite3_stmt *st = NULL;
	bool own = false, ks_tx = false;
	int64_t n = 0;
	char details[128];

	if (!keys_staff_name_ok(name))
		return ERR_NOT_FOUND;
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		return r;
	if ((r = vault_ks_begin(v)) != ERR_OK)
		goto out;
	ks_tx = true;
	if ((r = db_prepare(v->ks, "SELECT count(*) FROM staff", &st)) !=
	    ERR_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = ERR_DB;
		goto out;
	}
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if ((r = db_prepare(v->ks, "DELETE FROM staff WHERE name = ?", &st)) !=
	        ERR_OK ||
	    (r = db_bind_text(st, 1, name)) != ERR_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = ERR_DB;
		goto out;
	}
	if (sqlite3_changes(v->ks) == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (n <= 1) {
		log_err("%s is the last staff member: cannot remove", name);
		r = ERR_PERM;
		goto out;
	}
	(void)snprintf(details, sizeof(details), "{\"staff\":\"%s\"}", name);
	if ((r = vault_audit_event(v, actor, "staff.remove", NULL, NULL,
	         details, NULL)) != ERR_OK)
		goto out;
	if ((r = db_exec(v->ks, "COMMIT")) != ERR_OK)
		goto out;
	ks_tx = false;
	/* The removed member's sealed epoch secret must not linger. */
	r = db_checkpoint_truncate(v->ks);
out:
	sqlite3_finalize(st);
	if (ks_tx)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	return vault_tx_leave(v, own, r);
}

enum err
vault_staff_list(struct vault *v,
    enum err (*fn)(void *arg, const char *name, const char *created), void *arg)
{
	sqlite3_stmt *st = NULL;
	enum err r = ERR_OK;
	int rc;

	if (db_prepare(v->ks, "SELECT name, created FROM staff ORDER BY name",
	        &st) != ERR_OK)
		return ERR_DB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(arg, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
		if (r != ERR_OK)
			break;
	}
	if (r == ERR_OK && rc != SQLITE_DONE)
		r = ERR_DB;
	sqlite3_finalize(st);
	return r;
}

/* ---- cases ---- */

enum err
vault_case_create(struct vault *v, const char *actor,
    char id[static VAULT_ID_MAX])
{
	enum err r = ERR_INTERNAL;
	uint8_t raw[VAULT_CASE_ID_HEX / 2], pk[CRY_BOX_PK_LEN],
	    epk[CRY_BOX_PK_LEN];
	struct cry_secret *sk = NULL;
	struct bytes sealed;
	sqlite3_stmt *st = NULL;
	int64_t eid = 0;
	bool own = false, ks_tx = false, batched = false;
	char now[VAULT_TIME_LEN], details[64];

	id[0] = 0;
	bytes_init(&sealed, VAULT_SEALED_MAX);
	cry_random(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), id);
	vault_now(now);
	if ((r = cry_box_keypair(pk, &sk)) != ERR_OK)
		goto out_early;
	/*
	 * Keystore first (inside a kura.db transaction: its keystore batch,
	 * committed before kura.db; else its own transaction), then the row.
	 */
	if ((r = vault_ks_batch(v, &batched)) != ERR_OK)
		goto out_early;
	if (!batched) {
		if ((r = vault_ks_begin(v)) != ERR_OK)
			goto out_early;
		ks_tx = true;
	}
	if ((r = keys_current_epoch(v, &eid, epk)) != ERR_OK ||
	    (r = cry_seal(epk, sk, &sealed)) != ERR_OK)
		goto out_early;
	cry_secret_free(sk);
	sk = NULL;
	if ((r = db_do(v->ks,
	         "INSERT INTO case_secrets(case_id, epoch_id, sealed)"
	         " VALUES (?, ?, ?)",
	         DB_TEXT(id), DB_INT(eid), DB_BLOB(sealed.p, sealed.len))) !=
	        ERR_OK ||
	    (ks_tx && (r = db_exec(v->ks, "COMMIT")) != ERR_OK))
		goto out_early;
	ks_tx = false;

	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		goto out_early;
	if ((r = vault_pend_add(v, PEND_CASE, id, NULL)) != ERR_OK)
		goto out;
	if ((r = db_do(v->db,
	         "INSERT INTO cases(id, created, pk, state) VALUES (?, ?, ?,"
	         " 'open')",
	         DB_TEXT(id), DB_TEXT(now), DB_BLOB(pk, sizeof(pk)))) != ERR_OK)
		goto out;
	(void)snprintf(details, sizeof(details), "{\"epoch\":%lld}",
	    (long long)eid);
	r = vault_audit_event(v, actor, "case.create", id, NULL, details, NULL);
out:
	sqlite3_finalize(st);
	st = NULL;
	r = vault_tx_leave(v, own, r);
	if (r != ERR_OK)
		id[0] = 0;
	bytes_release(&sealed);
	return r;
out_early:
	sqlite3_finalize(st);
	if (ks_tx)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	cry_secret_free(sk);
	bytes_release(&sealed);
	id[0] = 0;
	return r != ERR_OK ? r : ERR_INTERNAL;
}

/* ---- the epoch ratchet ---- */

/* Re-seals every row of (sel) from the old epoch key to the new one. */
static enum err
reseal_rows(struct vault *v, const char *sel, const char *upd,
    const uint8_t old_pk[static CRY_BOX_PK_LEN],
    const struct cry_secret *old_sk, int64_t old_id,
    const uint8_t new_pk[static CRY_BOX_PK_LEN], int64_t new_id,
    unsigned *count)
{
	enum err r = ERR_INTERNAL;
	sqlite3_stmt *st = NULL;
	struct cry_secret *plain = NULL;
	struct bytes sealed;
	int rc;

	bytes_init(&sealed, VAULT_SEALED_MAX);
	if ((r = db_prepare(v->ks, sel, &st)) != ERR_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, old_id) != SQLITE_OK) {
		r = ERR_DB;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		if ((r = cry_seal_open(old_pk, old_sk,
		         span_of(sqlite3_column_blob(st, 1),
		             (size_t)sqlite3_column_bytes(st, 1)),
		         &plain)) != ERR_OK)
			goto out;
		bytes_clear(&sealed);
		if ((r = cry_seal(new_pk, plain, &sealed)) != ERR_OK)
			goto out;
		cry_secret_free(plain);
		plain = NULL;
		if ((r = db_do(v->ks, upd, DB_TEXT(key), DB_INT(new_id),
		         DB_BLOB(sealed.p, sealed.len))) != ERR_OK)
			goto out;
		(*count)++;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	cry_secret_free(plain);
	bytes_release(&sealed);
	return r;
}

enum err
vault_epoch_rotate(struct vault *v, const struct vault_staff_session *s,
    int64_t *new_epoch)
{
	enum err r = ERR_INTERNAL;
	struct cry_secret *old_sk = NULL, *new_sk = NULL;
	uint8_t old_pk[CRY_BOX_PK_LEN], new_pk[CRY_BOX_PK_LEN];
	int64_t old_id = 0, new_id = 0;
	sqlite3_stmt *st = NULL;
	bool own = false, ks_tx = false;
	unsigned ncase = 0, ndoc = 0, nstaff = 0;
	char now[VAULT_TIME_LEN], details[256];
	int rc;

	if (new_epoch != NULL)
		*new_epoch = 0;
	vault_now(now);
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		return r;
	if ((r = vault_ks_begin(v)) != ERR_OK)
		goto out;
	ks_tx = true;
	if ((r = keys_epoch_secret(v, s, &old_id, old_pk, &old_sk)) != ERR_OK)
		goto out;
	if ((r = cry_box_keypair(new_pk, &new_sk)) != ERR_OK)
		goto out;
	if ((r = db_do(v->ks, "INSERT INTO epochs(pk, created) VALUES (?, ?)",
	         DB_BLOB(new_pk, sizeof(new_pk)), DB_TEXT(now))) != ERR_OK)
		goto out;
	new_id = sqlite3_last_insert_rowid(v->ks);
	if ((r = reseal_rows(v,
	         "SELECT case_id, sealed FROM case_secrets WHERE epoch_id = ?",
	         "INSERT INTO case_secrets(case_id, epoch_id, sealed)"
	         " VALUES (?, ?, ?)",
	         old_pk, old_sk, old_id, new_pk, new_id, &ncase)) != ERR_OK)
		goto out;
	if ((r = reseal_rows(v,
	         "SELECT doc_id, sealed FROM doc_keys WHERE sealed_to = 'epoch'"
	         " AND epoch_id = ?",
	         "UPDATE doc_keys SET epoch_id = ?2, sealed = ?3"
	         " WHERE doc_id = ?1",
	         old_pk, old_sk, old_id, new_pk, new_id, &ndoc)) != ERR_OK)
		goto out;
	/* The new epoch secret to every staff member. */
	if ((r = db_prepare(v->ks, "SELECT name, pk FROM staff", &st)) !=
	    ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != CRY_BOX_PK_LEN) {
			r = ERR_CORRUPT;
			goto out;
		}
		if ((r = seal_epoch_to_staff(v->ks, new_id,
		         (const char *)sqlite3_column_text(st, 0),
		         sqlite3_column_blob(st, 1), new_sk)) != ERR_OK)
			goto out;
		nstaff++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = ERR_DB;
		goto out;
	}
	/* Every sealed copy of an older epoch secret or sealed to one. */
	if ((r = db_do(v->ks, "DELETE FROM epoch_secrets WHERE epoch_id <> ?",
	         DB_INT(new_id))) != ERR_OK ||
	    (r = db_do(v->ks, "DELETE FROM case_secrets WHERE epoch_id <> ?",
	         DB_INT(new_id))) != ERR_OK ||
	    (r = db_do(v->ks,
	         "UPDATE epochs SET retired = ? WHERE id <> ? AND retired IS "
	         "NULL",
	         DB_TEXT(now), DB_INT(new_id))) != ERR_OK)
		goto out;
	(void)snprintf(details, sizeof(details),
	    "{\"old_epoch\":%lld,\"new_epoch\":%lld,\"retired\":\"%s\","
	    "\"cases_resealed\":%u,\"documents_resealed\":%u,\"staff\":%u}",
	    (long long)old_id, (long long)new_id, now, ncase, ndoc, nstaff);
	if ((r = vault_audit_event(v, s->name, "epoch.rotate", NULL, NULL,
	         details, NULL)) != ERR_OK)
		goto out;
	if ((r = db_exec(v->ks, "COMMIT")) != ERR_OK)
		goto out;
	ks_tx = false;
	if ((r = db_checkpoint_truncate(v->ks)) != ERR_OK ||
	    (r = keys_write_epoch_pub(v->dir, new_pk)) != ERR_OK)
		goto out;
	if (new_epoch != NULL)
		*new_epoch = new_id;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	if (ks_tx)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	cry_secret_free(old_sk);
	cry_secret_free(new_sk);
	return vault_tx_leave(v, own, r);
}
