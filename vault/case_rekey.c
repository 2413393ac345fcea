/*
 * vault/case_rekey.c - a new key pair for a case that lives on (cases
 * engineer). Used when a renewal supersedes part of a case (R7): the old
 * documents' keys are destroyed, but a keystore backup would still hold
 * them sealed to the case key, and the case key itself lives on. So the
 * remaining document keys are re-sealed to a fresh case key and every
 * sealed copy of the old case secret is deleted; the epoch ratchet that
 * follows then retires the epoch that opened stale copies of it.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "vault/internal.h"
#include "vault/vault.h"
#include "common/banned.h"

enum err
vault_case_rekey(struct vault *v, const struct vault_staff_session *s,
    const char *case_id, uint64_t *index)
{
	enum err r = ERR_INTERNAL;
	struct cry_secret *old_sk = NULL, *new_sk = NULL, *dk = NULL;
	uint8_t old_pk[CRY_BOX_PK_LEN], new_pk[CRY_BOX_PK_LEN];
	uint8_t epk[CRY_BOX_PK_LEN];
	struct cry_secret *esk = NULL;
	int64_t eid = 0;
	struct bytes sealed;
	sqlite3_stmt *st = NULL, *up = NULL, *meta = NULL;
	bool own = false, ks_tx = false;
	char key_id[17], details[160];
	unsigned n = 0;
	int rc;

	if (index != NULL)
		*index = 0;
	bytes_init(&sealed, VAULT_SEALED_MAX);
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		return r;
	if ((r = vault_ks_begin(v)) != ERR_OK)
		goto out;
	ks_tx = true;
	if ((r = keys_case_secret(v, s, case_id, old_pk, &old_sk)) != ERR_OK ||
	    (r = keys_epoch_secret(v, s, &eid, epk, &esk)) != ERR_OK ||
	    (r = cry_box_keypair(new_pk, &new_sk)) != ERR_OK)
		goto out;
	/* every document key still sealed to the old case key */
	if ((r = db_prepare(v->ks,
	         "SELECT doc_id, sealed FROM doc_keys WHERE case_id = ?"
	         " AND sealed_to = 'case'",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, case_id)) != ERR_OK)
		goto out;
	if ((r = db_prepare(v->ks,
	         "UPDATE doc_keys SET sealed = ? WHERE doc_id = ?", &up)) !=
	    ERR_OK)
		goto out;
	if ((r = db_prepare(v->db,
	         "UPDATE documents SET key_id = ? WHERE id = ?", &meta)) !=
	    ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *doc = (const char *)sqlite3_column_text(st, 0);
		if ((r = cry_seal_open(old_pk, old_sk,
		         span_of(sqlite3_column_blob(st, 1),
		             (size_t)sqlite3_column_bytes(st, 1)),
		         &dk)) != ERR_OK)
			goto out;
		bytes_clear(&sealed);
		r = cry_seal(new_pk, dk, &sealed);
		cry_secret_free(dk);
		dk = NULL;
		if (r != ERR_OK)
			goto out;
		keys_key_id(bytes_span(&sealed), key_id);
		sqlite3_reset(up);
		sqlite3_reset(meta);
		if ((r = db_bind_blob(up, 1, sealed.p, sealed.len)) != ERR_OK ||
		    (r = db_bind_text(up, 2, doc)) != ERR_OK ||
		    (r = db_bind_text(meta, 1, key_id)) != ERR_OK ||
		    (r = db_bind_text(meta, 2, doc)) != ERR_OK)
			goto out;
		if (sqlite3_step(up) != SQLITE_DONE ||
		    sqlite3_step(meta) != SQLITE_DONE) {
			r = ERR_DB;
			goto out;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = ERR_DB;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* the old case secret, sealed to any epoch, goes; the new one in */
	if ((r = db_do(v->ks, "DELETE FROM case_secrets WHERE case_id = ?",
	         DB_TEXT(case_id))) != ERR_OK)
		goto out;
	bytes_clear(&sealed);
	if ((r = cry_seal(epk, new_sk, &sealed)) != ERR_OK)
		goto out;
	if ((r = db_do(v->ks,
	         "INSERT INTO case_secrets(case_id, epoch_id, sealed)"
	         " VALUES (?, ?, ?)",
	         DB_TEXT(case_id), DB_INT(eid),
	         DB_BLOB(sealed.p, sealed.len))) != ERR_OK)
		goto out;
	if ((r = db_do(v->db, "UPDATE cases SET pk = ? WHERE id = ?",
	         DB_BLOB(new_pk, sizeof(new_pk)), DB_TEXT(case_id))) != ERR_OK)
		goto out;
	(void)snprintf(details, sizeof(details),
	    "{\"documents_resealed\":%u,\"epoch\":%lld}", n, (long long)eid);
	if ((r = vault_audit_event(v, s->name, "case.rekey", case_id, NULL,
	         details, index)) != ERR_OK)
		goto out;
	/* keystore first, as the vault's own re-seals do */
	if ((r = db_exec(v->ks, "COMMIT")) != ERR_OK)
		goto out;
	ks_tx = false;
	if ((r = db_checkpoint_truncate(v->ks)) != ERR_OK)
		goto out;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	sqlite3_finalize(meta);
	if (ks_tx)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	cry_secret_free(old_sk);
	cry_secret_free(new_sk);
	cry_secret_free(esk);
	cry_secret_free(dk);
	bytes_release(&sealed);
	return vault_tx_leave(v, own, r);
}
