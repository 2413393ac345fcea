/*
 * vault/db.c - SQLite plumbing for kura.db and the keystore, and their
 * schemas. Every value is bound; sqlite3_exec only runs literal DDL.
 */
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/log.h"
#include "vault/internal.h"
#include "common/banned.h"

/* kura.db, module "vault": steps[i] goes from version i to i + 1. */
static const char *const vault_steps[] = {
    "CREATE TABLE cases ("
    " id TEXT PRIMARY KEY,"
    " created TEXT NOT NULL,"
    " pk BLOB NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','erased')),"
    " erased TEXT"
    ") STRICT;"
    "CREATE TABLE documents ("
    " id TEXT PRIMARY KEY,"
    " case_id TEXT NOT NULL REFERENCES cases(id),"
    " number TEXT, name TEXT NOT NULL, role TEXT, format TEXT,"
    " submission TEXT,"
    " plain_size INTEGER NOT NULL, cipher_size INTEGER NOT NULL,"
    " plain_sha256 BLOB NOT NULL, cipher_sha256 BLOB NOT NULL,"
    " key_id TEXT NOT NULL, store_index INTEGER,"
    " created TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'live'"
    "  CHECK (state IN ('live','retained','erased')),"
    " erased TEXT"
    ") STRICT;"
    "CREATE INDEX documents_case ON documents(case_id);",
};

/*
 * The keystore: everything erasure must destroy, and nothing else that
 * must live long. secure_delete overwrites deleted rows; erasures then
 * checkpoint and truncate the WAL.
 */
static const char keystore_schema[] =
    "CREATE TABLE IF NOT EXISTS staff ("
    " name TEXT PRIMARY KEY, pk BLOB NOT NULL, protected BLOB NOT NULL,"
    " created TEXT NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS epochs ("
    " id INTEGER PRIMARY KEY, pk BLOB NOT NULL, created TEXT NOT NULL,"
    " retired TEXT) STRICT;"
    "CREATE TABLE IF NOT EXISTS epoch_secrets ("
    " epoch_id INTEGER NOT NULL REFERENCES epochs(id),"
    " staff TEXT NOT NULL REFERENCES staff(name) ON DELETE CASCADE,"
    " sealed BLOB NOT NULL, PRIMARY KEY (epoch_id, staff)) STRICT;"
    "CREATE TABLE IF NOT EXISTS case_secrets ("
    " case_id TEXT NOT NULL,"
    " epoch_id INTEGER NOT NULL REFERENCES epochs(id),"
    " sealed BLOB NOT NULL, PRIMARY KEY (case_id, epoch_id)) STRICT;"
    "CREATE TABLE IF NOT EXISTS doc_keys ("
    " doc_id TEXT PRIMARY KEY, case_id TEXT NOT NULL,"
    " sealed_to TEXT NOT NULL CHECK (sealed_to IN ('case','epoch')),"
    " epoch_id INTEGER REFERENCES epochs(id),"
    " sealed BLOB NOT NULL) STRICT;";

enum err
db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("sqlite: %s", msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return ERR_DB;
	}
	return ERR_OK;
}

enum err
db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	*st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		log_err("sqlite prepare: %s", sqlite3_errmsg(db));
		return ERR_DB;
	}
	return ERR_OK;
}

enum err
db_run(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_err("sqlite step: %s", sqlite3_errmsg(db));
		return ERR_DB;
	}
	return ERR_OK;
}

enum err
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	int n;

	if (s == NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? ERR_OK : ERR_DB;
	if (size_to_int(strlen(s), &n) != ERR_OK)
		return ERR_TOO_BIG;
	return sqlite3_bind_text(st, i, s, n, SQLITE_TRANSIENT) == SQLITE_OK
	           ? ERR_OK
	           : ERR_DB;
}

enum err
db_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	int n;

	if (size_to_int(len, &n) != ERR_OK)
		return ERR_TOO_BIG;
	return sqlite3_bind_blob(st, i, p, n, SQLITE_TRANSIENT) == SQLITE_OK
	           ? ERR_OK
	           : ERR_DB;
}

enum err
db_bind_args(sqlite3_stmt *st, const struct db_arg *a, size_t n)
{
	enum err r = ERR_INTERNAL;
	int col;

	for (size_t k = 0; k < n; k++) {
		if (size_to_int(k + 1, &col) != ERR_OK)
			return ERR_TOO_BIG;
		switch (a[k].type) {
		case DB_ARG_TEXT:
			r = db_bind_text(st, col, a[k].text);
			break;
		case DB_ARG_INT:
			r = sqlite3_bind_int64(st, col, a[k].i) == SQLITE_OK
			        ? ERR_OK
			        : ERR_DB;
			break;
		case DB_ARG_U64:
			if (a[k].u > (uint64_t)INT64_MAX)
				return ERR_TOO_BIG;
			r = sqlite3_bind_int64(st, col,
			        (sqlite3_int64)a[k].u) == SQLITE_OK
			        ? ERR_OK
			        : ERR_DB;
			break;
		case DB_ARG_BLOB:
			r = db_bind_blob(st, col, a[k].p, a[k].len);
			break;
		default:
			r = ERR_INTERNAL;
			break;
		}
		if (r != ERR_OK)
			return r;
	}
	return ERR_OK;
}

enum err
db_do_args(sqlite3 *db, const char *sql, const struct db_arg *a, size_t n)
{
	sqlite3_stmt *st = NULL;
	enum err r;

	if ((r = db_prepare(db, sql, &st)) != ERR_OK)
		return r;
	if ((r = db_bind_args(st, a, n)) != ERR_OK) {
		sqlite3_finalize(st);
		return r;
	}
	return db_run(db, st);
}

enum err
db_open(const char *path, bool create, bool keystore, sqlite3 **out)
{
	enum err r = ERR_INTERNAL;
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	            SQLITE_OPEN_FULLMUTEX;

	*out = NULL;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		log_err("cannot open %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		r = access(path, F_OK) == 0 ? ERR_DB : ERR_NOT_FOUND;
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK) {
		r = ERR_DB;
		goto out;
	}
	/* secure_delete: deleted rows (keys, metadata) are overwritten. */
	if ((r = db_exec(db,
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	         "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;"
	         "PRAGMA secure_delete=ON;")) != ERR_OK)
		goto out;
	if (keystore && (r = db_exec(db, keystore_schema)) != ERR_OK)
		goto out;
	*out = db;
	db = NULL;
	r = ERR_OK;
out:
	sqlite3_close(db);
	return r;
}

enum err
db_schema_apply(sqlite3 *db, const char *module, const char *const *steps,
    size_t nsteps)
{
	enum err r = ERR_INTERNAL;
	sqlite3_stmt *st = NULL;
	int64_t have = 0;
	bool in_tx = false;

	/*
	 * Up to date (every open but the first): a plain read, no write lock.
	 * The listener of kura serve opens the vault while a session may hold
	 * the write lock and wait for the listener (its receipt's signature):
	 * a BEGIN IMMEDIATE here would stall both for the busy timeout.
	 */
	if (sqlite3_prepare_v2(db,
	        "SELECT version FROM schema_versions WHERE module = ?", -1, &st,
	        NULL) == SQLITE_OK &&
	    db_bind_text(st, 1, module) == ERR_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int64(st, 0) == (sqlite3_int64)nsteps) {
		sqlite3_finalize(st);
		return ERR_OK;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = db_exec(db,
	         "CREATE TABLE IF NOT EXISTS schema_versions ("
	         " module TEXT PRIMARY KEY, version INTEGER NOT NULL)"
	         " STRICT;")) != ERR_OK)
		return r;
	if ((r = db_exec(db, "BEGIN IMMEDIATE")) != ERR_OK)
		return r;
	in_tx = true;
	if ((r = db_prepare(db,
	         "SELECT version FROM schema_versions WHERE module = ?",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, module)) != ERR_OK)
		goto out;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		have = sqlite3_column_int64(st, 0);
		break;
	case SQLITE_DONE:
		break;
	default:
		r = ERR_DB;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (have < 0 || (uint64_t)have > nsteps) {
		log_err("schema of %s is newer (%lld) than this kura (%zu)",
		    module, (long long)have, nsteps);
		r = ERR_DB;
		goto out;
	}
	if ((size_t)have == nsteps) {
		r = db_exec(db, "COMMIT");
		in_tx = r != ERR_OK;
		goto out;
	}
	for (size_t i = (size_t)have; i < nsteps; i++)
		if ((r = db_exec(db, steps[i])) != ERR_OK)
			goto out;
	if ((r = db_prepare(db,
	         "INSERT INTO schema_versions(module, version) VALUES (?, ?)"
	         " ON CONFLICT(module) DO UPDATE SET version = "
	         "excluded.version",
	         &st)) != ERR_OK ||
	    (r = db_bind_text(st, 1, module)) != ERR_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)nsteps) != SQLITE_OK) {
		r = ERR_DB;
		goto out;
	}
	r = db_run(db, st);
	st = NULL;
	if (r != ERR_OK)
		goto out;
	if ((r = db_exec(db, "COMMIT")) != ERR_OK)
		goto out;
	in_tx = false;
	log_debug("schema %s: %lld -> %zu", module, (long long)have, nsteps);
out:
	sqlite3_finalize(st);
	if (in_tx)
		IGNORE(db_exec(db, "ROLLBACK"));
	return r;
}

enum err
db_schema_vault(sqlite3 *db)
{
	return db_schema_apply(db, "vault", vault_steps,
	    sizeof(vault_steps) / sizeof(vault_steps[0]));
}

enum err
db_schema_keystore(sqlite3 *ks)
{
	return db_exec(ks, keystore_schema);
}

enum err
db_checkpoint_truncate(sqlite3 *db)
{
	int nlog = -1, nckpt = -1;

	for (int i = 0; i < 100; i++) {
		int rc = sqlite3_wal_checkpoint_v2(db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, &nlog, &nckpt);
		if (rc == SQLITE_OK)
			return ERR_OK;
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
			log_err("checkpoint: %s", sqlite3_errmsg(db));
			return ERR_DB;
		}
		usleep(20000);
	}
	log_err("checkpoint: keystore readers kept the WAL busy");
	return ERR_DB;
}
