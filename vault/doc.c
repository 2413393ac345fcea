/*
 * vault/doc.c - document bodies: put (staging -> case), read, retain,
 * erase.
 *
 * Crash order (vault.h): a put writes the ciphertext, stores the sealed
 * key, renames into the case folder, and before the documents row commits
 * fsyncs the body, the folders and the keystore (once per transaction:
 * doc_sync_pending, vault_ks_flush); an erase commits the row change first
 * and only then destroys the key and unlinks the file. Whatever a crash
 * leaves behind is garbage no committed row points to (vault_recover).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/log.h"
#include "common/json.h"
#include "vault/internal.h"
#include "common/banned.h"

struct vault_put {
	struct vault *v;
	int fd;
	char path[VAULT_PATH_MAX];
	uint8_t doc_id[CRY_DOC_ID_LEN];
	char doc_hex[VAULT_ID_MAX];
	struct cry_secret *key;
	struct cry_doc_writer *w;
	struct cry_doc_reader *r;
	struct cry_doc_result res;
	uint64_t max;
	bool finished;
};

struct vault_doc {
	int fd;
	struct cry_secret *key;
	struct cry_doc_reader *r;
};

/* A lower-case hex id of exactly len characters (our own ids only). */
static bool
hex_id_ok(const char *s, size_t len)
{
	if (s == NULL || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
doc_id_ok(const char *s)
{
	return hex_id_ok(s, VAULT_DOC_ID_HEX);
}

static bool
case_id_ok(const char *s)
{
	return hex_id_ok(s, VAULT_CASE_ID_HEX);
}

/* ---- put ---- */

enum err
vault_put_begin(struct vault *v, uint64_t max_size, struct vault_put **out)
{
	enum err r = ERR_INTERNAL;
	struct vault_put *p;
	char name[VAULT_ID_MAX + 8];

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	p->v = v;
	p->fd = -1;
	p->max = max_size;
	cry_random(p->doc_id, sizeof(p->doc_id));
	hex_encode(p->doc_id, sizeof(p->doc_id), p->doc_hex);
	(void)snprintf(name, sizeof(name), "%s.part", p->doc_hex);
	if ((r = vault_path(v, p->path, sizeof(p->path), "staging", name,
	         NULL)) != ERR_OK)
		goto out;
	/* O_EXCL|O_NOFOLLOW: a fresh file of ours, never a planted link. */
	p->fd = open(p->path,
	    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (p->fd < 0) {
		log_err("staging file: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if ((r = cry_secret_random(CRY_KEY_LEN, &p->key)) != ERR_OK ||
	    (r = cry_doc_writer_open(p->fd, p->key, p->doc_id, CRY_DOC_CHUNK,
	         &p->w)) != ERR_OK)
		goto out;
	*out = p;
	p = NULL;
	r = ERR_OK;
out:
	vault_put_abort(p);
	return r;
}

enum err
vault_put_write(struct vault_put *p, uint64_t off, struct span data)
{
	if (p->finished || p->w == NULL)
		return ERR_INVALID;
	if (p->max != 0 && (off > p->max || data.len > p->max - off))
		return ERR_TOO_BIG;
	return cry_doc_write(p->w, off, data);
}

uint64_t
vault_put_size(const struct vault_put *p)
{
	if (p->finished)
		return p->res.plain_size;
	return p->w != NULL ? cry_doc_writer_size(p->w) : 0;
}

enum err
vault_put_finish(struct vault_put *p, struct cry_doc_result *res)
{
	enum err r;

	if (!p->finished) {
		if (p->w == NULL)
			return ERR_INVALID;
		r = cry_doc_writer_finish(p->w, &p->res);
		p->w = NULL; /* freed whatever the result */
		if (r != ERR_OK)
			return r;
		p->finished = true;
		/*
		 * Start the writeback now; the fsync comes before the commit
		 * that needs the body (doc_sync_pending), or never for a body
		 * that is not kept.
		 */
		(void)sync_file_range(p->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	if (res != NULL)
		*res = p->res;
	return ERR_OK;
}

enum err
vault_put_read(struct vault_put *p, uint64_t off, uint8_t *buf, size_t len,
    size_t *nread)
{
	enum err r;

	*nread = 0;
	if (!p->finished)
		return ERR_INVALID;
	if (p->r == NULL && (r = cry_doc_reader_open(p->fd, p->key, p->doc_id,
	                         &p->r)) != ERR_OK)
		return r;
	return cry_doc_read(p->r, off, buf, len, nread);
}

void
vault_put_abort(struct vault_put *p)
{
	if (p == NULL)
		return;
	cry_doc_writer_abort(p->w);
	cry_doc_reader_close(p->r);
	if (p->fd >= 0) {
		close(p->fd);
		if (p->path[0] != 0)
			(void)unlink(p->path);
	}
	cry_secret_free(p->key);
	mem_wipe(p, sizeof(*p));
	free(p);
}

static enum err
case_pk(struct vault *v, const char *case_id, uint8_t pk[static CRY_BOX_PK_LEN])
{
	sqlite3_stmt *st = NULL;
	enum err r = ERR_NOT_FOUND;
	int rc;

	if (db_prepare(v->db,
	        "SELECT pk FROM cases WHERE id = ? AND state = 'open'",
	        &st) != ERR_OK)
		return ERR_DB;
	if (db_bind_text(st, 1, case_id) != ERR_OK) {
		sqlite3_finalize(st);
		return ERR_DB;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == CRY_BOX_PK_LEN) {
		memcpy(pk, sqlite3_column_blob(st, 0), CRY_BOX_PK_LEN);
		r = ERR_OK;
	} else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = ERR_DB;
	sqlite3_finalize(st);
	return r;
}

static enum err
key_row_delete(struct vault *v, const char *doc_id)
{
	return db_do(v->ks, "DELETE FROM doc_keys WHERE doc_id = ?",
	    DB_TEXT(doc_id));
}

/* Bodies whose fsync waits for the commit, at most (open descriptors). */
#define PUT_FDS_MAX 64

static size_t
pend_fds(const struct pend *list)
{
	size_t n = 0;

	for (; list != NULL; list = list->next)
		n += list->fd >= 0;
	return n;
}

static enum err
fsync_case_dir(struct vault *v, const char *case_id)
{
	char path[VAULT_PATH_MAX];
	enum err r;

	if ((r = vault_path(v, path, sizeof(path), "cases", case_id, NULL)) !=
	    ERR_OK)
		return r;
	return fsx_fsync_dir(path);
}

static enum err
meta_ok(const struct vault_doc_meta *m)
{
	const char *f[] = {m->actor, m->number, m->name, m->role, m->format,
	    m->submission};

	if (m->name == NULL)
		return ERR_INVALID;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i] != NULL && strlen(f[i]) > VAULT_META_MAX)
			return ERR_TOO_BIG;
	return ERR_OK;
}

enum err
vault_put_commit(struct vault_put *p, const char *case_id,
    const struct vault_doc_meta *meta, char doc_id[static VAULT_ID_MAX])
{
	enum err r = ERR_INTERNAL;
	struct vault *v = p->v;
	uint8_t pk[CRY_BOX_PK_LEN];
	struct bytes sealed, details;
	sqlite3_stmt *st = NULL;
	char dst[VAULT_PATH_MAX], key_id[17], now[VAULT_TIME_LEN];
	char ph[2 * CRY_HASH_LEN + 1];
	bool own = false, keyed = false, moved = false, in = false;
	bool batched = false;
	uint64_t index = 0;

	doc_id[0] = 0;
	bytes_init(&sealed, VAULT_SEALED_MAX);
	bytes_init(&details, 4096);
	vault_now(now);
	if (!case_id_ok(case_id) || meta == NULL ||
	    (r = meta_ok(meta)) != ERR_OK) {
		r = r == ERR_TOO_BIG ? r : ERR_INVALID;
		goto out;
	}
	if ((r = vault_put_finish(p, NULL)) != ERR_OK)
		goto out;
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		goto out;
	in = true;
	if ((r = case_pk(v, case_id, pk)) != ERR_OK) {
		log_err("case %s is not open", case_id);
		goto out;
	}
	/* 1. The document key, sealed to the case public key. */
	if ((r = cry_seal(pk, p->key, &sealed)) != ERR_OK)
		goto out;
	keys_key_id(bytes_span(&sealed), key_id);
	/* In the keystore batch: durable before kura.db commits (vault.c). */
	if ((r = vault_ks_batch(v, &batched)) != ERR_OK)
		goto out;
	if ((r = db_do(v->ks,
	         "INSERT INTO doc_keys(doc_id, case_id, sealed_to, sealed)"
	         " VALUES (?, ?, 'case', ?)",
	         DB_TEXT(p->doc_hex), DB_TEXT(case_id),
	         DB_BLOB(sealed.p, sealed.len))) != ERR_OK)
		goto out;
	keyed = true;
	/* 2. The body into the case folder (both folders fsynced). */
	if ((r = vault_path(v, dst, sizeof(dst), "cases", case_id, NULL)) !=
	        ERR_OK ||
	    (r = fsx_mkdir(dst, 0700)) != ERR_OK ||
	    (r = vault_path(v, dst, sizeof(dst), "cases", case_id,
	         p->doc_hex)) != ERR_OK)
		goto out;
	if (rename(p->path, dst) != 0) {
		log_err("rename into case %s: %s", case_id, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	moved = true;
	/* The folders are fsynced once per transaction: doc_sync_pending. */
	/* 3. The row and its event, in the transaction. */
	hex_encode(p->res.plain_sha256, CRY_HASH_LEN, ph);
	{
		struct json j;

		json_init(&j, &details);
		json_obj_begin(&j);
		if (meta->number != NULL)
			json_kv_str(&j, "number", meta->number);
		json_kv_str(&j, "name", meta->name);
		json_kv_uint(&j, "size", p->res.plain_size);
		json_kv_str(&j, "sha256", ph);
		json_kv_str(&j, "key_id", key_id);
		json_obj_end(&j);
		if ((r = json_finish(&j)) != ERR_OK)
			goto out;
	}
	if ((r = vault_audit_event(v, meta->actor, "doc.store", case_id,
	         p->doc_hex, (const char *)details.p, &index)) != ERR_OK)
		goto out;
	if ((r = db_do(v->db,
	         "INSERT INTO documents(id, case_id, number, name, role, "
	         "format,"
	         " submission, plain_size, cipher_size, plain_sha256,"
	         " cipher_sha256, key_id, store_index, created, state)"
	         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'live')",
	         DB_TEXT(p->doc_hex), DB_TEXT(case_id), DB_TEXT(meta->number),
	         DB_TEXT(meta->name), DB_TEXT(meta->role),
	         DB_TEXT(meta->format), DB_TEXT(meta->submission),
	         DB_INT((sqlite3_int64)p->res.plain_size),
	         DB_INT((sqlite3_int64)p->res.cipher_size),
	         DB_BLOB(p->res.plain_sha256, CRY_HASH_LEN),
	         DB_BLOB(p->res.cipher_sha256, CRY_HASH_LEN), DB_TEXT(key_id),
	         DB_INT((sqlite3_int64)index), DB_TEXT(now))) != ERR_OK)
		goto out;
	if ((r = vault_pend_add(v, PEND_PUT, case_id, p->doc_hex)) != ERR_OK)
		goto out;
	/*
	 * The body's fsync waits for the commit too (doc_sync_pending), so
	 * the bodies of a transaction are written back together; past
	 * PUT_FDS_MAX open bodies, fsync now instead.
	 */
	if (pend_fds(v->pend) < PUT_FDS_MAX) {
		v->pend->fd = p->fd;
		p->fd = -1; /* transferred */
	} else if (fsync(p->fd) != 0) {
		log_err("fsync of a document body: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	(void)snprintf(doc_id, VAULT_ID_MAX, "%s", p->doc_hex);
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	if (in) {
		if (r != ERR_OK && !own) {
			/* The caller's transaction goes on without this doc. */
		}
		r = vault_tx_leave(v, own, r);
	}
	if (r != ERR_OK) {
		doc_id[0] = 0;
		if (moved) {
			IGNORE(vault_path(v, dst, sizeof(dst), "cases", case_id,
			    p->doc_hex));
			(void)unlink(dst);
		}
		if (keyed)
			IGNORE(key_row_delete(v, p->doc_hex));
	} else
		p->path[0] = 0; /* the body now belongs to the case */
	if (moved)
		p->path[0] = 0;
	bytes_release(&sealed);
	bytes_release(&details);
	vault_put_abort(p);
	return r;
}

/* ---- read ---- */

/* The document key of doc_id opened through s; *case_out its case. */
static enum err
doc_key(struct vault *v, const struct vault_staff_session *s,
    const char *doc_id, char case_out[static VAULT_ID_MAX],
    struct cry_secret **key)
{
	enum err r = ERR_INTERNAL;
	sqlite3_stmt *st = NULL;
	struct cry_secret *owner_sk = NULL;
	uint8_t owner_pk[CRY_BOX_PK_LEN];
	int64_t eid = 0;
	int rc;
	bool to_epoch;

	*key = NULL;
	case_out[0] = 0;
	if ((r = db_prepare(v->db,
	         "SELECT case_id FROM documents WHERE id = ?"
	         " AND state IN ('live','retained')",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, doc_id)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_DB;
		goto out;
	}
	(void)snprintf(case_out, VAULT_ID_MAX, "%s",
	    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if ((r = db_prepare(v->ks,
	         "SELECT sealed_to, sealed FROM doc_keys WHERE doc_id = ?",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, doc_id)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_DB;
		goto out;
	}
	to_epoch =
	    strcmp((const char *)sqlite3_column_text(st, 0), "epoch") == 0;
	if (to_epoch)
		r = keys_epoch_secret(v, s, &eid, owner_pk, &owner_sk);
	else
		r = keys_case_secret(v, s, case_out, owner_pk, &owner_sk);
	if (r != ERR_OK)
		goto out;
	r = cry_seal_open(owner_pk, owner_sk,
	    span_of(sqlite3_column_blob(st, 1),
	        (size_t)sqlite3_column_bytes(st, 1)),
	    key);
out:
	sqlite3_finalize(st);
	cry_secret_free(owner_sk);
	return r;
}

enum err
vault_doc_open(struct vault *v, const struct vault_staff_session *s,
    const char *doc_id, const char *purpose, struct vault_doc **out)
{
	enum err r = ERR_INTERNAL;
	struct vault_doc *d = NULL;
	char case_id[VAULT_ID_MAX], path[VAULT_PATH_MAX];
	uint8_t raw[CRY_DOC_ID_LEN];
	struct bytes details;
	bool own = false;

	*out = NULL;
	bytes_init(&details, 4096);
	if (!doc_id_ok(doc_id) ||
	    hex_decode(doc_id, raw, sizeof(raw)) != ERR_OK)
		return ERR_NOT_FOUND;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ERR_NOMEM;
	d->fd = -1;
	if ((r = doc_key(v, s, doc_id, case_id, &d->key)) != ERR_OK)
		goto out;
	if ((r = vault_path(v, path, sizeof(path), "cases", case_id, doc_id)) !=
	    ERR_OK)
		goto out;
	if ((d->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		log_err("document %s: %s", doc_id, strerror(errno));
		r = errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
		goto out;
	}
	if ((r = cry_doc_reader_open(d->fd, d->key, raw, &d->r)) != ERR_OK) {
		log_err_r(r, "document %s", doc_id);
		goto out;
	}
	{
		struct json j;

		json_init(&j, &details);
		json_obj_begin(&j);
		if (purpose != NULL)
			json_kv_str(&j, "purpose", purpose);
		json_obj_end(&j);
		if ((r = json_finish(&j)) != ERR_OK)
			goto out;
	}
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		goto out;
	r = vault_audit_event(v, s->name, "doc.open", case_id, doc_id,
	    (const char *)details.p, NULL);
	if ((r = vault_tx_leave(v, own, r)) != ERR_OK)
		goto out;
	*out = d;
	d = NULL;
	r = ERR_OK;
out:
	bytes_release(&details);
	vault_doc_close(d);
	return r;
}

uint64_t
vault_doc_size(const struct vault_doc *d)
{
	return cry_doc_reader_size(d->r);
}

enum err
vault_doc_read(struct vault_doc *d, uint64_t off, uint8_t *buf, size_t len,
    size_t *nread)
{
	return cry_doc_read(d->r, off, buf, len, nread);
}

void
vault_doc_close(struct vault_doc *d)
{
	if (d == NULL)
		return;
	cry_doc_reader_close(d->r);
	if (d->fd >= 0)
		close(d->fd);
	cry_secret_free(d->key);
	free(d);
}

/* ---- retain ---- */

enum err
vault_doc_retain(struct vault *v, const struct vault_staff_session *s,
    const char *doc_id)
{
	enum err r = ERR_INTERNAL;
	struct cry_secret *key = NULL, *esk = NULL;
	uint8_t epk[CRY_BOX_PK_LEN];
	int64_t eid = 0;
	char case_id[VAULT_ID_MAX], key_id[17], details[128];
	struct bytes sealed;
	sqlite3_stmt *st = NULL;
	bool own = false, ks_tx = false;

	bytes_init(&sealed, VAULT_SEALED_MAX);
	if (!doc_id_ok(doc_id))
		return ERR_NOT_FOUND;
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		return r;
	if ((r = vault_ks_begin(v)) != ERR_OK)
		goto out;
	ks_tx = true;
	if ((r = doc_key(v, s, doc_id, case_id, &key)) != ERR_OK ||
	    (r = keys_epoch_secret(v, s, &eid, epk, &esk)) != ERR_OK ||
	    (r = cry_seal(epk, key, &sealed)) != ERR_OK)
		goto out;
	keys_key_id(bytes_span(&sealed), key_id);
	if ((r = db_do(v->ks,
	         "UPDATE doc_keys SET sealed_to = 'epoch', epoch_id = ?,"
	         " sealed = ? WHERE doc_id = ?",
	         DB_INT(eid), DB_BLOB(sealed.p, sealed.len),
	         DB_TEXT(doc_id))) != ERR_OK)
		goto out;
	if ((r = db_do(v->db,
	         "UPDATE documents SET state = 'retained', key_id = ?"
	         " WHERE id = ?",
	         DB_TEXT(key_id), DB_TEXT(doc_id))) != ERR_OK)
		goto out;
	(void)snprintf(details, sizeof(details),
	    "{\"key_id\":\"%s\",\"epoch\":%lld}", key_id, (long long)eid);
	if ((r = vault_audit_event(v, s->name, "doc.retain", case_id, doc_id,
	         details, NULL)) != ERR_OK)
		goto out;
	/*
	 * Keystore commits first: if kura.db then fails, the key is sealed
	 * to the epoch while the row says live - still readable, and the
	 * case erase re-checks the row state.
	 */
	if ((r = db_exec(v->ks, "COMMIT")) != ERR_OK)
		goto out;
	ks_tx = false;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	if (ks_tx)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	cry_secret_free(key);
	cry_secret_free(esk);
	bytes_release(&sealed);
	return vault_tx_leave(v, own, r);
}

/* ---- erase ---- */

static enum err
erase_doc_row(struct vault *v, const char *actor, const char *doc_id,
    const char *case_id_expect, bool *found)
{
	enum err r = ERR_INTERNAL;
	sqlite3_stmt *st = NULL;
	char case_id[VAULT_ID_MAX], now[VAULT_TIME_LEN], details[256];
	char ph[2 * CRY_HASH_LEN + 1], ch[2 * CRY_HASH_LEN + 1];
	char key_id[32];
	long long size = 0;
	int rc;

	*found = false;
	vault_now(now);
	if ((r = db_prepare(v->db,
	         "SELECT case_id, plain_sha256, cipher_sha256, key_id,"
	         " plain_size FROM documents"
	         " WHERE id = ? AND state IN ('live','retained')",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, doc_id)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
		goto out;
	}
	(void)snprintf(case_id, sizeof(case_id), "%s",
	    (const char *)sqlite3_column_text(st, 0));
	if (case_id_expect != NULL && strcmp(case_id, case_id_expect) != 0) {
		r = ERR_OK;
		goto out;
	}
	if (sqlite3_column_bytes(st, 1) != CRY_HASH_LEN ||
	    sqlite3_column_bytes(st, 2) != CRY_HASH_LEN) {
		r = ERR_CORRUPT;
		goto out;
	}
	hex_encode(sqlite3_column_blob(st, 1), CRY_HASH_LEN, ph);
	hex_encode(sqlite3_column_blob(st, 2), CRY_HASH_LEN, ch);
	(void)snprintf(key_id, sizeof(key_id), "%s",
	    (const char *)sqlite3_column_text(st, 3));
	size = sqlite3_column_int64(st, 4);
	sqlite3_finalize(st);
	st = NULL;
	if ((r = db_do(v->db,
	         "UPDATE documents SET state = 'erased', erased = ?"
	         " WHERE id = ?",
	         DB_TEXT(now), DB_TEXT(doc_id))) != ERR_OK)
		goto out;
	(void)snprintf(details, sizeof(details),
	    "{\"size\":%lld,\"sha256\":\"%s\",\"cipher_sha256\":\"%s\","
	    "\"key_id\":\"%s\"}",
	    size, ph, ch, key_id);
	if ((r = vault_audit_event(v, actor, "doc.erase", case_id, doc_id,
	         details, NULL)) != ERR_OK ||
	    (r = vault_pend_add(v, PEND_ERASE_DOC, case_id, doc_id)) != ERR_OK)
		goto out;
	*found = true;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_doc_erase(struct vault *v, const char *actor, const char *doc_id)
{
	enum err r;
	bool own = false, found = false;

	if (!doc_id_ok(doc_id))
		return ERR_NOT_FOUND;
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		return r;
	r = erase_doc_row(v, actor, doc_id, NULL, &found);
	if (r == ERR_OK && !found)
		r = ERR_NOT_FOUND;
	return vault_tx_leave(v, own, r);
}

enum err
vault_case_erase(struct vault *v, const char *actor, const char *case_id)
{
	enum err r = ERR_INTERNAL;
	sqlite3_stmt *st = NULL;
	bool own = false, found;
	char now[VAULT_TIME_LEN], (*ids)[VAULT_ID_MAX] = NULL;
	size_t n = 0, cap = 0;
	unsigned erased = 0, retained = 0;
	char details[128];
	int rc;

	if (!case_id_ok(case_id))
		return ERR_NOT_FOUND;
	vault_now(now);
	if ((r = vault_tx_enter(v, &own)) != ERR_OK)
		return r;
	if ((r = db_do(v->db,
	         "UPDATE cases SET state = 'erased', erased = ?"
	         " WHERE id = ? AND state = 'open'",
	         DB_TEXT(now), DB_TEXT(case_id))) != ERR_OK)
		goto out;
	if (sqlite3_changes(v->db) == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((r = db_prepare(v->db,
	         "SELECT id, state FROM documents WHERE case_id = ?"
	         " AND state IN ('live','retained')",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, case_id)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(st, 1),
		        "retained") == 0) {
			retained++;
			continue;
		}
		if (n == cap) {
			size_t nc = cap == 0 ? 16 : cap * 2;
			void *np = reallocarray(ids, nc, sizeof(*ids));
			if (np == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			ids = np;
			cap = nc;
		}
		(void)snprintf(ids[n++], VAULT_ID_MAX, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = ERR_DB;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((r = erase_doc_row(v, actor, ids[i], case_id, &found)) !=
		    ERR_OK)
			goto out;
		erased += found;
	}
	(void)snprintf(details, sizeof(details),
	    "{\"documents_erased\":%u,\"documents_retained\":%u}", erased,
	    retained);
	if ((r = vault_audit_event(v, actor, "case.erase", case_id, NULL,
	         details, NULL)) != ERR_OK ||
	    (r = vault_pend_add(v, PEND_ERASE_CASE, case_id, NULL)) != ERR_OK)
		goto out;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	free(ids);
	return vault_tx_leave(v, own, r);
}

/* ---- pending work at commit / rollback ---- */

enum err
doc_destroy_pending(struct vault *v, struct pend *list)
{
	enum err r = ERR_OK, r2;
	char path[VAULT_PATH_MAX];
	bool any = false;

	for (struct pend *p = list; p != NULL; p = p->next)
		if (p->kind == PEND_ERASE_DOC || p->kind == PEND_ERASE_CASE)
			any = true;
	if (!any)
		return ERR_OK;
	/* 1. Keys, in one keystore transaction. */
	if ((r = vault_ks_begin(v)) != ERR_OK)
		return r;
	for (struct pend *p = list; p != NULL && r == ERR_OK; p = p->next) {
		if (p->kind == PEND_ERASE_DOC) {
			r = key_row_delete(v, p->doc_id);
		} else if (p->kind == PEND_ERASE_CASE) {
			r = db_do(v->ks,
			    "DELETE FROM case_secrets WHERE case_id = ?",
			    DB_TEXT(p->case_id));
		}
	}
	if (r != ERR_OK) {
		IGNORE(db_exec(v->ks, "ROLLBACK"));
		log_err_r(r, "%s", "erase: keys not destroyed (recovery will)");
		return r;
	}
	if ((r = db_exec(v->ks, "COMMIT")) != ERR_OK)
		return r;
	/* 2. No copy left in the WAL (secure_delete zeroed the pages). */
	r = db_checkpoint_truncate(v->ks);
	/* 3. Ciphertext. */
	for (struct pend *p = list; p != NULL; p = p->next) {
		if (p->kind != PEND_ERASE_DOC)
			continue;
		if (vault_path(v, path, sizeof(path), "cases", p->case_id,
		        p->doc_id) != ERR_OK)
			continue;
		if (unlink(path) != 0 && errno != ENOENT) {
			log_err("unlink %s: %s", path, strerror(errno));
			r = ERR_IO;
		}
		if ((r2 = fsync_case_dir(v, p->case_id)) != ERR_OK)
			r = r2;
	}
	for (struct pend *p = list; p != NULL; p = p->next)
		if (p->kind == PEND_ERASE_CASE &&
		    vault_path(v, path, sizeof(path), "cases", p->case_id,
		        NULL) == ERR_OK &&
		    rmdir(path) == 0 &&
		    vault_path(v, path, sizeof(path), "cases", NULL, NULL) ==
		        ERR_OK)
			IGNORE(fsx_fsync_dir(path));
	return r;
}

enum err
doc_sync_pending(struct vault *v, struct pend *list)
{
	enum err r = ERR_OK;
	char path[VAULT_PATH_MAX];
	bool any = false;

	/* The bodies first (their writeback started at finish). */
	for (struct pend *p = list; p != NULL; p = p->next) {
		if (p->kind != PEND_PUT || p->fd < 0)
			continue;
		if (fsync(p->fd) != 0) {
			log_err("fsync of a document body: %s",
			    strerror(errno));
			return ERR_IO;
		}
		close(p->fd);
		p->fd = -1;
	}
	for (struct pend *p = list; p != NULL && r == ERR_OK; p = p->next) {
		bool seen = false;

		if (p->kind != PEND_PUT)
			continue;
		any = true;
		/* Each case folder once (lists are a few entries long). */
		for (struct pend *q = list; q != p && !seen; q = q->next)
			seen = q->kind == PEND_PUT &&
			       strcmp(q->case_id, p->case_id) == 0;
		if (!seen)
			r = fsync_case_dir(v, p->case_id);
	}
	if (r != ERR_OK || !any)
		return r;
	/* cases/ (a case folder may be new), staging/ (the renames). */
	if ((r = vault_path(v, path, sizeof(path), "cases", NULL, NULL)) !=
	        ERR_OK ||
	    (r = fsx_fsync_dir(path)) != ERR_OK ||
	    (r = vault_path(v, path, sizeof(path), "staging", NULL, NULL)) !=
	        ERR_OK ||
	    (r = fsx_fsync_dir(path)) != ERR_OK)
		return r;
	return ERR_OK;
}

void
doc_undo_pending(struct vault *v, struct pend *list)
{
	char path[VAULT_PATH_MAX];

	for (struct pend *p = list; p != NULL; p = p->next) {
		if (p->kind == PEND_PUT) {
			IGNORE(key_row_delete(v, p->doc_id));
			if (vault_path(v, path, sizeof(path), "cases",
			        p->case_id, p->doc_id) == ERR_OK)
				(void)unlink(path);
		} else if (p->kind == PEND_CASE) {
			IGNORE(db_do(v->ks,
			    "DELETE FROM case_secrets WHERE case_id = ?",
			    DB_TEXT(p->case_id)));
		}
	}
}
