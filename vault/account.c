/*
 * vault/account.c - applicant accounts, their keys and certified services,
 * and the intake's submissions, results and receipt counters.
 *
 * All SQL of the "accounts" module lives here as literals with bound
 * values. Functions that change state join the caller's transaction when
 * one is open (vault_begin), else run their own, and audit every change.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "vault/vault.h"
#include "vault/internal.h" /* db_bind_args, db_bind_text */
#include "common/banned.h"

static const char *const acc_schema[] = {
    "CREATE TABLE accounts("
    " id INTEGER PRIMARY KEY,"
    " login TEXT NOT NULL UNIQUE,"
    " org TEXT NOT NULL,"
    " email TEXT NOT NULL,"
    " pwhash TEXT NOT NULL DEFAULT '',"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " max_upload INTEGER NOT NULL DEFAULT 0,"
    " quota INTEGER NOT NULL DEFAULT 0,"
    " created TEXT NOT NULL);"
    "CREATE TABLE account_keys("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " type TEXT NOT NULL, b64 TEXT NOT NULL, comment TEXT NOT NULL,"
    " created TEXT NOT NULL,"
    " UNIQUE(account_id, b64));"
    "CREATE TABLE account_certs("
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " cert TEXT NOT NULL, case_id TEXT NOT NULL DEFAULT '',"
    " created TEXT NOT NULL,"
    " PRIMARY KEY(account_id, cert));"
    "CREATE TABLE intake_submissions("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " folder TEXT NOT NULL, cert TEXT NOT NULL, name TEXT NOT NULL,"
    " size INTEGER NOT NULL, sha256 BLOB NOT NULL,"
    " verdict TEXT NOT NULL, receipt TEXT NOT NULL, case_id TEXT NOT NULL,"
    " created TEXT NOT NULL);"
    "CREATE INDEX intake_submissions_acc ON"
    " intake_submissions(account_id, name);"
    "CREATE TABLE intake_results("
    " account_id INTEGER NOT NULL REFERENCES accounts(id),"
    " name TEXT NOT NULL, content BLOB NOT NULL, mtime INTEGER NOT NULL,"
    " PRIMARY KEY(account_id, name));"
    "CREATE TABLE receipt_counters("
    " year INTEGER PRIMARY KEY, last INTEGER NOT NULL);",
};

/* The accounts schema; outside a transaction only (the step opens its own). */
static enum err
acc_schema_apply(struct vault *v)
{
	if (sqlite3_get_autocommit(vault_db(v)) == 0)
		return ERR_OK;
	return vault_schema_apply(v, "accounts", acc_schema,
	    sizeof(acc_schema) / sizeof(acc_schema[0]));
}

static enum err
acc_prepare(struct vault *v, const char *sql, sqlite3_stmt **st)
{
	enum err r;

	*st = NULL;
	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if (sqlite3_prepare_v2(vault_db(v), sql, -1, st, NULL) != SQLITE_OK) {
		log_err("prepare: %s", sqlite3_errmsg(vault_db(v)));
		return ERR_DB;
	}
	return ERR_OK;
}

static enum err
bind_u64(sqlite3_stmt *st, int i, uint64_t x)
{
	if (x > (uint64_t)INT64_MAX)
		return ERR_TOO_BIG;
	return sqlite3_bind_int64(st, i, (sqlite3_int64)x) == SQLITE_OK
	           ? ERR_OK
	           : ERR_DB;
}

static enum err
step_done(struct vault *v, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return ERR_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return ERR_EXISTS;
	log_err("step: %s", sqlite3_errmsg(vault_db(v)));
	return ERR_DB;
}

/* One statement without rows: a constraint violation is ERR_EXISTS. */
static enum err
acc_do_args(struct vault *v, const char *sql, const struct db_arg *a, size_t n)
{
	sqlite3_stmt *st = NULL;
	enum err r;

	if ((r = acc_prepare(v, sql, &st)) == ERR_OK &&
	    (r = db_bind_args(st, a, n)) == ERR_OK)
		r = step_done(v, st);
	sqlite3_finalize(st);
	return r;
}
#define acc_do(v, sql, ...)                                                    \
	acc_do_args((v), (sql), (const struct db_arg[]){__VA_ARGS__},          \
	    sizeof((const struct db_arg[]){__VA_ARGS__}) /                     \
	        sizeof(struct db_arg))

static void
copy_col(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = t != NULL ? strlen((const char *)t) : 0;

	if (n >= outsz)
		n = outsz - 1;
	if (n > 0)
		memcpy(out, t, n);
	out[n] = 0;
}

static void
now_utc(char out[static 24])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Begins a transaction unless the caller holds one; *own says which. */
static enum err
tx_enter(struct vault *v, bool *own)
{
	*own = sqlite3_get_autocommit(vault_db(v)) != 0;
	return *own ? vault_begin(v) : ERR_OK;
}

static enum err
tx_leave(struct vault *v, bool own, enum err r)
{
	if (!own)
		return r;
	if (r == ERR_OK)
		return vault_commit(v);
	vault_rollback(v);
	return r;
}

static enum err
acc_audit(struct vault *v, const char *actor, const char *action,
    const char *login, const char *k1, const char *v1)
{
	struct bytes js;
	struct json j;
	struct audit_event ev = {0};
	enum err r;

	bytes_init(&js, 4096);
	json_init(&j, &js);
	json_obj_begin(&j);
	json_kv_str(&j, "login", login);
	if (k1 != NULL && v1 != NULL)
		json_kv_str(&j, k1, v1);
	json_obj_end(&j);
	if ((r = json_finish(&j)) != ERR_OK) {
		bytes_release(&js);
		return r;
	}
	ev.actor = actor;
	ev.action = action;
	ev.account = login;
	ev.details_json = (const char *)js.p;
	r = audit_append(vault_audit(v), &ev, NULL);
	bytes_release(&js);
	return r;
}

enum err
vault_accounts_open(struct vault *v)
{
	return vault_schema_apply(v, "accounts", acc_schema,
	    sizeof(acc_schema) / sizeof(acc_schema[0]));
}

bool
vault_login_valid(const char *login)
{
	size_t n = strlen(login);

	if (n == 0 || n > VAULT_LOGIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = login[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static void
row_to_account(sqlite3_stmt *st, struct vault_account *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, a->login, sizeof(a->login));
	copy_col(st, 2, a->org, sizeof(a->org));
	copy_col(st, 3, a->email, sizeof(a->email));
	copy_col(st, 4, a->pwhash, sizeof(a->pwhash));
	a->disabled = sqlite3_column_int(st, 5) != 0;
	a->max_upload = (uint64_t)sqlite3_column_int64(st, 6);
	a->quota = (uint64_t)sqlite3_column_int64(st, 7);
	copy_col(st, 8, a->created, sizeof(a->created));
}

#define ACC_COLS                                                               \
	"id, login, org, email, pwhash, disabled, max_upload, quota, created"

enum err
vault_account_get(struct vault *v, const char *login, struct vault_account *out)
{
	static const char sql[] =
	    "SELECT " ACC_COLS " FROM accounts WHERE login = ?1";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		goto out;
	if ((r = db_bind_text(st, 1, login)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		log_err("step: %s", sqlite3_errmsg(vault_db(v)));
		r = ERR_DB;
		goto out;
	}
	row_to_account(st, out);
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_account_add(struct vault *v, const char *actor, struct vault_account *a)
{
	static const char sql[] =
	    "INSERT INTO accounts(login, org, email, pwhash, disabled,"
	    " max_upload, quota, created) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
	enum err r = ERR_INTERNAL;
	bool own = false;

	if (!vault_login_valid(a->login))
		return ERR_INVALID;
	now_utc(a->created);
	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	if ((r = acc_do(v, sql, DB_TEXT(a->login), DB_TEXT(a->org),
	         DB_TEXT(a->email), DB_TEXT(a->pwhash),
	         DB_U64(a->disabled ? 1 : 0), DB_U64(a->max_upload),
	         DB_U64(a->quota), DB_TEXT(a->created))) != ERR_OK)
		goto out;
	a->id = sqlite3_last_insert_rowid(vault_db(v));
	r = acc_audit(v, actor, "account.add", a->login, "org", a->org);
out:
	return tx_leave(v, own, r);
}

enum err
vault_account_update(struct vault *v, const char *actor,
    const struct vault_account *a, const char *action)
{
	static const char sql[] =
	    "UPDATE accounts SET org = ?2, email = ?3, pwhash = ?4,"
	    " disabled = ?5, max_upload = ?6, quota = ?7 WHERE login = ?1";
	enum err r = ERR_INTERNAL;
	bool own = false;

	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	if ((r = acc_do(v, sql, DB_TEXT(a->login), DB_TEXT(a->org),
	         DB_TEXT(a->email), DB_TEXT(a->pwhash),
	         DB_U64(a->disabled ? 1 : 0), DB_U64(a->max_upload),
	         DB_U64(a->quota))) != ERR_OK)
		goto out;
	if (sqlite3_changes(vault_db(v)) != 1) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = acc_audit(v, actor, action, a->login, NULL, NULL);
out:
	return tx_leave(v, own, r);
}

enum err
vault_account_list(struct vault *v,
    enum err (*fn)(void *arg, const struct vault_account *a), void *arg)
{
	static const char sql[] =
	    "SELECT " ACC_COLS " FROM accounts ORDER BY login";
	sqlite3_stmt *st = NULL;
	struct vault_account a;
	enum err r = ERR_INTERNAL;
	int rc;

	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_account(st, &a);
		if ((r = fn(arg, &a)) != ERR_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

static enum err
account_id(struct vault *v, const char *login, int64_t *id)
{
	struct vault_account a;
	enum err r;

	if ((r = vault_account_get(v, login, &a)) != ERR_OK)
		return r;
	*id = a.id;
	return ERR_OK;
}

enum err
vault_account_key_add(struct vault *v, const char *actor, const char *login,
    const char *type, const char *b64, const char *comment)
{
	static const char sql[] =
	    "INSERT INTO account_keys(account_id, type, b64, comment, created)"
	    " VALUES(?1,?2,?3,?4,?5)";
	enum err r = ERR_INTERNAL;
	bool own = false;
	int64_t id;
	char now[24];

	now_utc(now);
	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	if ((r = account_id(v, login, &id)) != ERR_OK ||
	    (r = acc_do(v, sql, DB_U64((uint64_t)id), DB_TEXT(type),
	         DB_TEXT(b64), DB_TEXT(comment), DB_TEXT(now))) != ERR_OK)
		goto out;
	r = acc_audit(v, actor, "account.key.add", login, "type", type);
out:
	return tx_leave(v, own, r);
}

enum err
vault_account_key_remove(struct vault *v, const char *actor, const char *login,
    const char *type, const char *b64)
{
	static const char sql[] = "DELETE FROM account_keys WHERE"
	                          " account_id = ?1 AND type = ?2 AND b64 = ?3";
	enum err r = ERR_INTERNAL;
	bool own = false;
	int64_t id;

	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	if ((r = account_id(v, login, &id)) != ERR_OK ||
	    (r = acc_do(v, sql, DB_U64((uint64_t)id), DB_TEXT(type),
	         DB_TEXT(b64))) != ERR_OK)
		goto out;
	if (sqlite3_changes(vault_db(v)) == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = acc_audit(v, actor, "account.key.remove", login, "type", type);
out:
	return tx_leave(v, own, r);
}

enum err
vault_account_keys(struct vault *v, const char *login,
    enum err (
        *fn)(void *arg, const char *type, const char *b64, const char *comment),
    void *arg)
{
	static const char sql[] =
	    "SELECT k.type, k.b64, k.comment FROM account_keys k"
	    " JOIN accounts a ON a.id = k.account_id WHERE a.login = ?1"
	    " ORDER BY k.id";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	int rc;

	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, login)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 1);
		const char *c = (const char *)sqlite3_column_text(st, 2);
		if ((r = fn(arg, t ? t : "", b ? b : "", c ? c : "")) != ERR_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_account_link(struct vault *v, const char *actor, const char *login,
    const char *cert, const char *case_id)
{
	static const char sql[] =
	    "INSERT INTO account_certs(account_id, cert, case_id, created)"
	    " VALUES(?1,?2,?3,?4) ON CONFLICT(account_id, cert)"
	    " DO UPDATE SET case_id = excluded.case_id";
	enum err r = ERR_INTERNAL;
	bool own = false;
	int64_t id;
	char now[24];
	size_t n = strlen(cert);

	/* A 認定番号 becomes one virtual path component: keep it plain. */
	if (n == 0 || n > VAULT_CERT_MAX || strchr(cert, '/') != NULL ||
	    strcmp(cert, ".") == 0 || strcmp(cert, "..") == 0)
		return ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)cert[i] < 0x20 || cert[i] == '\\' ||
		    cert[i] == 0x7f)
			return ERR_INVALID;
	now_utc(now);
	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	if ((r = account_id(v, login, &id)) != ERR_OK ||
	    (r = acc_do(v, sql, DB_U64((uint64_t)id), DB_TEXT(cert),
	         DB_TEXT(case_id ? case_id : ""), DB_TEXT(now))) != ERR_OK)
		goto out;
	r = acc_audit(v, actor, "account.link", login, "cert", cert);
out:
	return tx_leave(v, own, r);
}

enum err
vault_account_unlink(struct vault *v, const char *actor, const char *login,
    const char *cert)
{
	static const char sql[] =
	    "DELETE FROM account_certs WHERE account_id = ?1 AND cert = ?2";
	enum err r = ERR_INTERNAL;
	bool own = false;
	int64_t id;

	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	if ((r = account_id(v, login, &id)) != ERR_OK ||
	    (r = acc_do(v, sql, DB_U64((uint64_t)id), DB_TEXT(cert))) != ERR_OK)
		goto out;
	if (sqlite3_changes(vault_db(v)) == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = acc_audit(v, actor, "account.unlink", login, "cert", cert);
out:
	return tx_leave(v, own, r);
}

enum err
vault_account_certs(struct vault *v, const char *login,
    enum err (*fn)(void *arg, const char *cert, const char *case_id), void *arg)
{
	static const char sql[] =
	    "SELECT c.cert, c.case_id FROM account_certs c"
	    " JOIN accounts a ON a.id = c.account_id WHERE a.login = ?1"
	    " ORDER BY c.cert";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	int rc;

	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, login)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		const char *k = (const char *)sqlite3_column_text(st, 1);
		if ((r = fn(arg, c ? c : "", k ? k : "")) != ERR_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_result_put(struct vault *v, int64_t account_id, const char *name,
    struct span content)
{
	static const char sql[] =
	    "INSERT OR REPLACE INTO intake_results(account_id, name, content,"
	    " mtime) VALUES(?1,?2,?3,?4)";
	enum err r = ERR_INTERNAL;
	bool own = false;
	int n;

	if ((r = size_to_int(content.len, &n)) != ERR_OK)
		return r;
	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	/* never a NULL blob: content is NOT NULL, an empty result is "" */
	r = acc_do(v, sql, DB_U64((uint64_t)account_id), DB_TEXT(name),
	    DB_BLOB(content.p != NULL ? content.p : (const void *)"",
	        content.len),
	    DB_U64((uint64_t)time(NULL)));
out:
	return tx_leave(v, own, r);
}

enum err
vault_result_get(struct vault *v, int64_t account_id, const char *name,
    struct bytes *out)
{
	static const char sql[] = "SELECT content FROM intake_results WHERE"
	                          " account_id = ?1 AND name = ?2";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	int rc;

	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	if ((r = bind_u64(st, 1, (uint64_t)account_id)) != ERR_OK ||
	    (r = db_bind_text(st, 2, name)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = ERR_DB;
		goto out;
	}
	bytes_clear(out);
	r = bytes_put(out, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0));
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_result_list(struct vault *v, int64_t account_id,
    enum err (*fn)(void *arg, const char *name, uint64_t size, int64_t mtime),
    void *arg)
{
	static const char sql[] =
	    "SELECT name, length(content), mtime FROM intake_results"
	    " WHERE account_id = ?1 ORDER BY name";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	int rc;

	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	if ((r = bind_u64(st, 1, (uint64_t)account_id)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		if ((r = fn(arg, n ? n : "",
		         (uint64_t)sqlite3_column_int64(st, 1),
		         sqlite3_column_int64(st, 2))) != ERR_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_submission_add(struct vault *v, const struct vault_submission *s)
{
	static const char sql[] =
	    "INSERT INTO intake_submissions(account_id, folder, cert, name,"
	    " size, sha256, verdict, receipt, case_id, created)"
	    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)";
	enum err r = ERR_INTERNAL;
	bool own = false;
	char now[24];

	now_utc(now);
	if ((r = acc_schema_apply(v)) != ERR_OK)
		return r;
	if ((r = tx_enter(v, &own)) != ERR_OK)
		goto out;
	r = acc_do(v, sql, DB_U64((uint64_t)s->account_id), DB_TEXT(s->folder),
	    DB_TEXT(s->cert), DB_TEXT(s->name), DB_U64(s->size),
	    DB_BLOB(s->sha256, CRY_HASH_LEN), DB_TEXT(s->verdict),
	    DB_TEXT(s->receipt), DB_TEXT(s->case_id), DB_TEXT(now));
out:
	return tx_leave(v, own, r);
}

enum err
vault_submission_accepted(struct vault *v, int64_t account_id, const char *name,
    bool *yes)
{
	static const char sql[] =
	    "SELECT 1 FROM intake_submissions WHERE account_id = ?1 AND"
	    " name = ?2 AND verdict = 'accepted' LIMIT 1";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	int rc;

	*yes = false;
	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	if ((r = bind_u64(st, 1, (uint64_t)account_id)) != ERR_OK ||
	    (r = db_bind_text(st, 2, name)) != ERR_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = ERR_DB;
		goto out;
	}
	*yes = rc == SQLITE_ROW;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_account_usage(struct vault *v, int64_t account_id, uint64_t *bytes)
{
	static const char sql[] =
	    "SELECT coalesce(sum(size), 0) FROM intake_submissions"
	    " WHERE account_id = ?1 AND verdict = 'accepted'";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;

	*bytes = 0;
	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	if ((r = bind_u64(st, 1, (uint64_t)account_id)) != ERR_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = ERR_DB;
		goto out;
	}
	*bytes = (uint64_t)sqlite3_column_int64(st, 0);
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_receipt_next(struct vault *v, const char *fmt,
    char out[static VAULT_RECEIPT_MAX])
{
	static const char sql[] =
	    "INSERT INTO receipt_counters(year, last) VALUES(?1, 1)"
	    " ON CONFLICT(year) DO UPDATE SET last = last + 1"
	    " RETURNING last";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_INTERNAL;
	time_t t = time(NULL);
	struct tm tm;
	int64_t n;
	size_t o = 0;

	out[0] = 0;
	if (fmt == NULL || *fmt == 0)
		fmt = "YYYY-NNNNNN";
	gmtime_r(&t, &tm);
	if ((r = acc_prepare(v, sql, &st)) != ERR_OK)
		return r;
	if ((r = bind_u64(st, 1, (uint64_t)tm.tm_year + 1900)) != ERR_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_err("step: %s", sqlite3_errmsg(vault_db(v)));
		r = ERR_DB;
		goto out;
	}
	n = sqlite3_column_int64(st, 0);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = ERR_DB;
		goto out;
	}
	r = ERR_CONFIG;
	while (*fmt != 0) {
		char piece[32];
		int k;
		size_t run = 0;

		while (fmt[run] == 'N')
			run++;
		if (strncmp(fmt, "YYYY", 4) == 0) {
			k = snprintf(piece, sizeof(piece), "%04d",
			    tm.tm_year + 1900);
			fmt += 4;
		} else if (run > 0) {
			if (run > 18)
				goto out;
			k = snprintf(piece, sizeof(piece), "%0*lld", (int)run,
			    (long long)n);
			fmt += run;
		} else {
			piece[0] = *fmt++;
			piece[1] = 0;
			k = 1;
		}
		if (k < 0 || o + (size_t)k >= VAULT_RECEIPT_MAX)
			goto out;
		memcpy(out + o, piece, (size_t)k);
		o += (size_t)k;
		out[o] = 0;
	}
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	return r;
}
