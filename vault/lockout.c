/*
 * vault/lockout.c - login lockouts of `kura serve` kept across restarts
 * (issue 5 (e)): the listener engages them in memory (intake/throttle.c),
 * the keeper process writes them here, and the next start reloads them.
 *
 * All SQL of the "lockouts" module lives here as literals with bound
 * values.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "vault/vault.h"
#include "common/banned.h"

static const char *const lockout_schema[] = {
    "CREATE TABLE lockouts("
    " key TEXT PRIMARY KEY,"        /* "a:ADDR" or "u:LOGIN" */
    " until INTEGER NOT NULL,"      /* Unix seconds */
    " level INTEGER NOT NULL)",     /* lockouts so far (escalation) */
};

enum err
vault_lockouts_open(struct vault *v)
{
	return vault_schema_apply(v, "lockouts", lockout_schema,
	    sizeof(lockout_schema) / sizeof(lockout_schema[0]));
}

static enum err
prepare(struct vault *v, const char *sql, sqlite3_stmt **st)
{
	*st = NULL;
	if (sqlite3_prepare_v2(vault_db(v), sql, -1, st, NULL) != SQLITE_OK) {
		log_err("prepare: %s", sqlite3_errmsg(vault_db(v)));
		return ERR_DB;
	}
	return ERR_OK;
}

static enum err
step_done(struct vault *v, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("step: %s", sqlite3_errmsg(vault_db(v)));
		return ERR_DB;
	}
	return ERR_OK;
}

enum err
vault_lockout_put(struct vault *v, const char *key, int64_t until,
    uint32_t level, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO lockouts(key, until, level) VALUES(?1, ?2, ?3)"
	    " ON CONFLICT(key) DO UPDATE SET until = excluded.until,"
	    " level = excluded.level";
	static const char prune[] = "DELETE FROM lockouts WHERE until <= ?1";
	sqlite3_stmt *st = NULL;
	int n;
	enum err r = ERR_INTERNAL;

	if (key == NULL || size_to_int(strlen(key), &n) != ERR_OK || n == 0 ||
	    n > VAULT_LOCKOUT_KEY_MAX) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = prepare(v, sql, &st)) != ERR_OK)
		goto out;
	sqlite3_bind_text(st, 1, key, n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, until);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)level);
	if ((r = step_done(v, st)) != ERR_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	/* Rows of lockouts that are over are of no use: keep it small. */
	if ((r = prepare(v, prune, &st)) != ERR_OK)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	r = step_done(v, st);
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_lockouts_load(struct vault *v, int64_t now,
    enum err (*fn)(void *arg, const char *key, int64_t until, uint32_t level),
    void *arg)
{
	static const char prune[] = "DELETE FROM lockouts WHERE until <= ?1";
	static const char sql[] =
	    "SELECT key, until, level FROM lockouts ORDER BY until DESC";
	sqlite3_stmt *st = NULL;
	int rc;
	enum err r = ERR_INTERNAL;

	if ((r = prepare(v, prune, &st)) != ERR_OK)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	if ((r = step_done(v, st)) != ERR_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = prepare(v, sql, &st)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		sqlite3_int64 level = sqlite3_column_int64(st, 2);
		if (key == NULL || level < 0 || level > UINT32_MAX)
			continue;
		if ((r = fn(arg, key, sqlite3_column_int64(st, 1),
		         (uint32_t)level)) != ERR_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		log_err("step: %s", sqlite3_errmsg(vault_db(v)));
		r = ERR_DB;
		goto out;
	}
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	return r;
}
