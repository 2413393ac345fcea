/*
 * vault/case_life.c - a case's life after intake: decisions (R6, R7),
 * legal holds, the return with cryptographic erasure and a deletion
 * certificate (R9), retention (R7, R9, R10), scrub, and the checks an
 * auditor runs against a vault. Uses only vault.h and audit.h: the erase
 * primitives and the epoch ratchet are the vault engineer's.
 */
#include <errno.h>
#include <stdarg.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/json.h"
#include "common/log.h"
#include "vault/internal.h" /* keys_epoch_secret: the stale-copy trial */
#include "vault/vault.h"
#include "common/banned.h"

#define LIFE_MODULE "case_life"
#define TIME_FMT    "%Y-%m-%dT%H:%M:%SZ"

static const char *const life_steps[] = {
    "CREATE TABLE case_decisions ("
    " id INTEGER PRIMARY KEY,"
    " case_id TEXT NOT NULL REFERENCES cases(id),"
    " decision TEXT NOT NULL CHECK (decision IN ('certified',"
    "  'not-certified','revoked','terminated')),"
    " serial INTEGER, number TEXT,"
    " decided TEXT NOT NULL, expires TEXT, staff TEXT NOT NULL) STRICT;"
    "CREATE INDEX case_decisions_case ON case_decisions(case_id);"
    "CREATE TABLE case_holds ("
    " id INTEGER PRIMARY KEY,"
    " case_id TEXT NOT NULL REFERENCES cases(id),"
    " reason TEXT NOT NULL, placed TEXT NOT NULL, placed_by TEXT NOT NULL,"
    " released TEXT, released_by TEXT) STRICT;"
    "CREATE TABLE case_returns ("
    " id INTEGER PRIMARY KEY,"
    " case_id TEXT NOT NULL REFERENCES cases(id),"
    " reason TEXT NOT NULL, issued TEXT NOT NULL, staff TEXT NOT NULL,"
    " approver TEXT, old_epoch INTEGER, final_after TEXT) STRICT;"
    "CREATE TABLE case_certs ("
    " id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id),"
    " stage TEXT NOT NULL CHECK (stage IN ('primary','final')),"
    " issued TEXT NOT NULL, sha256 BLOB NOT NULL,"
    " certificate BLOB NOT NULL, supersedes TEXT,"
    " final_after TEXT, old_epoch INTEGER) STRICT;",
};

/* ---- small helpers ---- */

static void
time_fmt(time_t t, char out[static 32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 32, TIME_FMT, &tm) == 0)
		out[0] = 0;
}

static void
now_str(char out[static 32])
{
	time_fmt(time(NULL), out);
}

/* Parses "YYYY-MM-DDTHH:MM:SSZ" (or a date "YYYY-MM-DD"). */
static enum err
time_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != 0) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL || *end != 0)
			return ERR_INVALID;
	}
	*out = timegm(&tm);
	return ERR_OK;
}

static void
time_add(const char *s, int years, int days, char out[static 32])
{
	struct tm tm;
	time_t t;

	if (time_parse(s, &t) != ERR_OK) {
		out[0] = 0;
		return;
	}
	gmtime_r(&t, &tm);
	tm.tm_year += years;
	tm.tm_mday += days;
	time_fmt(timegm(&tm), out);
}

static void
copy_col(sqlite3_stmt *st, int col, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	(void)snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
}

static enum err
event(struct vault *v, const char *actor, const char *action,
    const char *case_id, const char *doc_id, const char *details,
    uint64_t *index)
{
	struct audit_event ev = {
	    .actor = actor,
	    .action = action,
	    .case_id = case_id,
	    .document_id = doc_id,
	    .account = NULL,
	    .details_json = details,
	};

	return audit_append(vault_audit(v), &ev, index);
}

static bool
id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n != VAULT_CASE_ID_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		        (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

enum err
vault_life_open(struct vault *v)
{
	return vault_schema_apply(v, LIFE_MODULE, life_steps,
	    sizeof(life_steps) / sizeof(life_steps[0]));
}

/* ---- reading ---- */

static const char sql_case[] =
    "SELECT id, created, state, erased FROM cases WHERE id = ?";
static const char sql_decision[] =
    "SELECT decision, number, decided, expires FROM case_decisions"
    " WHERE case_id = ? ORDER BY id DESC LIMIT 1";
static const char sql_certified_number[] =
    "SELECT number, decided, expires FROM case_decisions"
    " WHERE case_id = ? AND decision = 'certified' ORDER BY id DESC LIMIT 1";
static const char sql_hold[] =
    "SELECT reason FROM case_holds WHERE case_id = ? AND released IS NULL"
    " ORDER BY id DESC LIMIT 1";
static const char sql_return[] =
    "SELECT r.reason, r.issued, r.final_after, c.id, c.stage"
    " FROM case_returns r LEFT JOIN case_certs c ON c.case_id = r.case_id"
    " WHERE r.case_id = ? ORDER BY r.id DESC, c.issued DESC, c.id DESC"
    " LIMIT 1";
static const char sql_counts[] =
    "SELECT state, COUNT(*), COALESCE(SUM(plain_size), 0) FROM documents"
    " WHERE case_id = ? GROUP BY state";
static const char sql_intake[] =
    "SELECT s.receipt, a.login, a.org FROM intake_submissions s"
    " JOIN accounts a ON a.id = s.account_id WHERE s.case_id = ?"
    " ORDER BY s.id LIMIT 1";
static const char sql_submission[] =
    "SELECT submission FROM documents WHERE case_id = ?"
    " AND submission IS NOT NULL ORDER BY rowid LIMIT 1";

static const char sql_login[] =
    "SELECT a.login FROM intake_submissions s JOIN accounts a"
    " ON a.id = s.account_id WHERE s.case_id = ? ORDER BY s.id LIMIT 1";
static const char sql_renewal_of[] =
    "SELECT cert FROM intake_submissions WHERE case_id = ?"
    " AND folder = 'renewal' AND cert <> '' ORDER BY id LIMIT 1";
static const char sql_renewed[] =
    "SELECT case_id FROM intake_submissions WHERE cert = ?"
    " AND folder = 'renewal' AND verdict = 'accepted' LIMIT 1";
static const char sql_related[] =
    "SELECT folder, receipt, case_id, verdict, created FROM"
    " intake_submissions WHERE case_id = ?1 OR cert IN (SELECT number"
    " FROM case_decisions WHERE case_id = ?1 AND number IS NOT NULL)"
    " ORDER BY id";

/* The intake's tables exist once the SFTP module has opened the vault. */
static bool
have_intake(struct vault *v)
{
	sqlite3_stmt *probe = NULL;
	bool yes = sqlite3_prepare_v2(vault_db(v), sql_related, -1, &probe,
	               NULL) == SQLITE_OK;

	sqlite3_finalize(probe);
	return yes;
}

static void
row_str64(sqlite3_stmt *st, void *arg)
{
	copy_col(st, 0, arg, 64);
}

/* Runs sql bound to id; calls fn on the first row. found tells if any. */
static enum err
one_row(struct vault *v, const char *sql, const char *id,
    void (*fn)(sqlite3_stmt *st, void *arg), void *arg, bool *found)
{
	sqlite3_stmt *st = NULL;
	enum err r;
	int rc;

	if (found != NULL)
		*found = false;
	if ((r = db_prepare(vault_db(v), sql, &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, id)) != ERR_OK) {
		sqlite3_finalize(st);
		return r;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fn(st, arg);
		if (found != NULL)
			*found = true;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : ERR_DB;
}

static void
row_case(sqlite3_stmt *st, void *arg)
{
	struct vault_case_info *c = arg;

	copy_col(st, 0, c->id, sizeof(c->id));
	copy_col(st, 1, c->created, sizeof(c->created));
	copy_col(st, 2, c->state, sizeof(c->state));
	copy_col(st, 3, c->returned, sizeof(c->returned));
}

static void
row_decision(sqlite3_stmt *st, void *arg)
{
	struct vault_case_info *c = arg;

	copy_col(st, 0, c->decision, sizeof(c->decision));
	copy_col(st, 1, c->number, sizeof(c->number));
	copy_col(st, 2, c->decided, sizeof(c->decided));
	copy_col(st, 3, c->expires, sizeof(c->expires));
}

static void
row_certified(sqlite3_stmt *st, void *arg)
{
	struct vault_case_info *c = arg;

	copy_col(st, 0, c->number, sizeof(c->number));
	copy_col(st, 2, c->expires, sizeof(c->expires));
}

static void
row_hold(sqlite3_stmt *st, void *arg)
{
	struct vault_case_info *c = arg;

	c->held = true;
	copy_col(st, 0, c->hold_reason, sizeof(c->hold_reason));
}

static void
row_return(sqlite3_stmt *st, void *arg)
{
	struct vault_case_info *c = arg;

	copy_col(st, 0, c->return_reason, sizeof(c->return_reason));
	copy_col(st, 1, c->returned, sizeof(c->returned));
	copy_col(st, 2, c->final_after, sizeof(c->final_after));
	copy_col(st, 3, c->certificate_id, sizeof(c->certificate_id));
	copy_col(st, 4, c->stage, sizeof(c->stage));
}

static void
row_intake(sqlite3_stmt *st, void *arg)
{
	struct vault_case_info *c = arg;
	char login[VAULT_LIFE_STR / 2], org[VAULT_LIFE_STR / 2];

	copy_col(st, 0, c->receipt, sizeof(c->receipt));
	copy_col(st, 1, login, sizeof(login));
	copy_col(st, 2, org, sizeof(org));
	if (snprintf(c->applicant, sizeof(c->applicant), "%s (%s)", org,
	        login) >= (int)sizeof(c->applicant))
		c->applicant[sizeof(c->applicant) - 1] = 0;
}

static void
row_submission(sqlite3_stmt *st, void *arg)
{
	struct vault_case_info *c = arg;

	copy_col(st, 0, c->receipt, sizeof(c->receipt));
}

static enum err
case_counts(struct vault *v, struct vault_case_info *c)
{
	sqlite3_stmt *st = NULL;
	enum err r;
	int rc;

	if ((r = db_prepare(vault_db(v), sql_counts, &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, c->id)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);
		if (s == NULL)
			continue;
		if (strcmp(s, "live") == 0) {
			c->docs_live = n;
			c->bytes_live = (uint64_t)sqlite3_column_int64(st, 2);
		} else if (strcmp(s, "retained") == 0) {
			c->docs_retained = n;
		} else if (strcmp(s, "erased") == 0) {
			c->docs_erased = n;
		}
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

/* Every cert number-bearing decision: certified, revoked, terminated. */
static bool
was_certified(const struct vault_case_info *c)
{
	return c->number[0] != 0;
}

enum err
vault_case_info(struct vault *v, const char *id, struct vault_case_info *c)
{
	char now[32], erased[32];
	bool found = false;
	sqlite3_stmt *probe = NULL;
	enum err r;

	memset(c, 0, sizeof(*c));
	if (!id_ok(id))
		return ERR_NOT_FOUND;
	if ((r = one_row(v, sql_case, id, row_case, c, &found)) != ERR_OK)
		return r;
	if (!found)
		return ERR_NOT_FOUND;
	(void)snprintf(erased, sizeof(erased), "%s", c->returned);
	c->returned[0] = 0;
	if ((r = one_row(v, sql_decision, id, row_decision, c, NULL)) !=
	        ERR_OK ||
	    (r = one_row(v, sql_certified_number, id, row_certified, c,
	         NULL)) != ERR_OK ||
	    (r = one_row(v, sql_hold, id, row_hold, c, NULL)) != ERR_OK ||
	    (r = one_row(v, sql_return, id, row_return, c, NULL)) != ERR_OK ||
	    (r = case_counts(v, c)) != ERR_OK)
		return r;
	/* The intake's tables exist only once the SFTP module is in. */
	if (sqlite3_prepare_v2(vault_db(v), sql_intake, -1, &probe, NULL) ==
	    SQLITE_OK) {
		sqlite3_finalize(probe);
		if ((r = one_row(v, sql_intake, id, row_intake, c, &found)) !=
		    ERR_OK)
			return r;
	} else {
		found = false;
	}
	if (!found && (r = one_row(v, sql_submission, id, row_submission, c,
	                   NULL)) != ERR_OK)
		return r;
	if (c->receipt[0] == 0)
		(void)snprintf(c->receipt, sizeof(c->receipt), "none");
	if (c->applicant[0] == 0)
		(void)snprintf(c->applicant, sizeof(c->applicant), "unknown");
	now_str(now);
	if (strcmp(c->state, "erased") == 0) {
		(void)snprintf(c->state, sizeof(c->state), "returned");
		if (c->returned[0] == 0)
			(void)snprintf(c->returned, sizeof(c->returned), "%s",
			    erased);
	} else if (c->decision[0] == 0) {
		(void)snprintf(c->state, sizeof(c->state), "received");
	} else if (strcmp(c->decision, "certified") == 0 &&
	           c->expires[0] != 0 && strcmp(c->expires, now) <= 0) {
		(void)snprintf(c->state, sizeof(c->state), "expired");
	} else {
		(void)snprintf(c->state, sizeof(c->state), "%s", c->decision);
	}
	/* the retention clock: when retention run will find it due */
	if (strcmp(c->state, "returned") != 0) {
		uint64_t grace = 30;
		if (config_u64(vault_config(v), "retention.not_certified_days",
		        30, &grace) != ERR_OK ||
		    grace > 3650)
			grace = 30;
		if (strcmp(c->decision, "not-certified") == 0) {
			time_add(c->decided, 0, (int)grace, c->due);
			(void)snprintf(c->due_reason, sizeof(c->due_reason),
			    "not-certified");
		} else if (strcmp(c->decision, "certified") == 0) {
			(void)snprintf(c->due, sizeof(c->due), "%s",
			    c->expires);
			(void)snprintf(c->due_reason, sizeof(c->due_reason),
			    "expired");
		} else if (c->decision[0] != 0) {
			(void)snprintf(c->due, sizeof(c->due), "%s",
			    c->decided);
			(void)snprintf(c->due_reason, sizeof(c->due_reason),
			    "%s", c->decision);
		}
	}
	return ERR_OK;
}

/*
 * Column 0 of every row of sql (case ids), in order, into a malloc'd array
 * the caller frees (also on error). Collected first: the caller then runs
 * other statements per id.
 */
static enum err
case_ids(struct vault *v, const char *sql, char (**ids)[VAULT_ID_MAX],
    size_t *n)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	enum err r;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((r = db_prepare(vault_db(v), sql, &st)) != ERR_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap == 0 ? 64 : cap * 2;
			void *np = reallocarray(*ids, nc, sizeof(**ids));
			if (np == NULL) {
				sqlite3_finalize(st);
				return ERR_NOMEM;
			}
			*ids = np;
			cap = nc;
		}
		copy_col(st, 0, (*ids)[(*n)++], VAULT_ID_MAX);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ERR_OK : ERR_DB;
}

enum err
vault_case_list(struct vault *v, const char *state,
    enum err (*fn)(void *arg, const struct vault_case_info *c), void *arg)
{
	struct vault_case_info c;
	char(*ids)[VAULT_ID_MAX] = NULL;
	size_t n = 0;
	enum err r;

	if ((r = case_ids(v, "SELECT id FROM cases ORDER BY created, id", &ids,
	         &n)) != ERR_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = vault_case_info(v, ids[i], &c)) != ERR_OK)
			goto out;
		if (state != NULL && strcmp(state, c.state) != 0 &&
		    !(strcmp(state, "held") == 0 && c.held))
			continue;
		if ((r = fn(arg, &c)) != ERR_OK)
			goto out;
	}
	r = ERR_OK;
out:
	free(ids);
	return r;
}

static const char sql_docs[] =
    "SELECT id, case_id, number, name, role, format, submission, plain_size,"
    " cipher_size, plain_sha256, cipher_sha256, key_id, store_index,"
    " created, state FROM documents WHERE case_id = ?1 OR ?1 IS NULL"
    " ORDER BY created, rowid";

static void
row_doc(sqlite3_stmt *st, struct vault_doc_info *d)
{
	memset(d, 0, sizeof(*d));
	copy_col(st, 0, d->id, sizeof(d->id));
	copy_col(st, 1, d->case_id, sizeof(d->case_id));
	copy_col(st, 2, d->number, sizeof(d->number));
	copy_col(st, 3, d->name, sizeof(d->name));
	copy_col(st, 4, d->role, sizeof(d->role));
	copy_col(st, 5, d->format, sizeof(d->format));
	copy_col(st, 6, d->submission, sizeof(d->submission));
	d->size = (uint64_t)sqlite3_column_int64(st, 7);
	d->cipher_size = (uint64_t)sqlite3_column_int64(st, 8);
	if (sqlite3_column_bytes(st, 9) == CRY_HASH_LEN)
		memcpy(d->sha256, sqlite3_column_blob(st, 9), CRY_HASH_LEN);
	if (sqlite3_column_bytes(st, 10) == CRY_HASH_LEN)
		memcpy(d->cipher_sha256, sqlite3_column_blob(st, 10),
		    CRY_HASH_LEN);
	copy_col(st, 11, d->key_id, sizeof(d->key_id));
	d->store_index = (uint64_t)sqlite3_column_int64(st, 12);
	copy_col(st, 13, d->created, sizeof(d->created));
	copy_col(st, 14, d->state, sizeof(d->state));
}

/* All documents of id (NULL: of every case) into a new array. */
static enum err
docs_load(struct vault *v, const char *id, struct vault_doc_info **out,
    size_t *n_out)
{
	sqlite3_stmt *st = NULL;
	struct vault_doc_info *a = NULL;
	size_t n = 0, cap = 0;
	enum err r;
	int rc;

	*out = NULL;
	*n_out = 0;
	if ((r = db_prepare(vault_db(v), sql_docs, &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, id)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap == 0 ? 16 : cap * 2;
			void *np = reallocarray(a, nc, sizeof(*a));
			if (np == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			a = np;
			cap = nc;
		}
		row_doc(st, &a[n++]);
	}
	if (rc != SQLITE_DONE) {
		r = ERR_DB;
		goto out;
	}
	*out = a;
	*n_out = n;
	a = NULL; /* transferred */
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	free(a);
	return r;
}

enum err
vault_case_docs(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const struct vault_doc_info *d), void *arg)
{
	struct vault_doc_info *d = NULL;
	size_t n = 0;
	enum err r;

	if (!id_ok(id))
		return ERR_NOT_FOUND;
	if ((r = docs_load(v, id, &d, &n)) != ERR_OK)
		return r;
	for (size_t i = 0; i < n && r == ERR_OK; i++)
		r = fn(arg, &d[i]);
	free(d);
	return r;
}

/* ---- decisions and holds ---- */

static bool
decision_ok(const char *d)
{
	return d != NULL &&
	       (strcmp(d, "certified") == 0 ||
	           strcmp(d, "not-certified") == 0 ||
	           strcmp(d, "revoked") == 0 || strcmp(d, "terminated") == 0);
}

static enum err
json_details(struct bytes *b, const char *k1, const char *v1, const char *k2,
    const char *v2, const char *k3, const char *v3)
{
	struct json j;

	json_init(&j, b);
	json_obj_begin(&j);
	if (k1 != NULL)
		json_kv_str(&j, k1, v1);
	if (k2 != NULL)
		json_kv_str(&j, k2, v2);
	if (k3 != NULL)
		json_kv_str(&j, k3, v3);
	json_obj_end(&j);
	return json_finish(&j);
}

/* An accepted renewal attached to case id after its last decision. */
static bool
renewal_pending(struct vault *v, const char *id, const char *decided)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	if (!have_intake(v) ||
	    sqlite3_prepare_v2(vault_db(v),
	        "SELECT 1 FROM intake_submissions WHERE case_id = ? AND"
	        " folder = 'renewal' AND verdict = 'accepted' AND created >= ?",
	        -1, &st, NULL) != SQLITE_OK)
		return false;
	if (db_bind_text(st, 1, id) == ERR_OK &&
	    db_bind_text(st, 2, decided) == ERR_OK)
		yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

enum err
vault_case_decide(struct vault *v, const char *staff, const char *id,
    const char *decision, char number[static 32])
{
	struct vault_case_info c;
	sqlite3_stmt *st = NULL;
	char now[32], expires[32] = "", num[32] = "";
	const char *prefix;
	int64_t serial = 0;
	struct bytes det;
	bool tx = false;
	enum err r = ERR_INTERNAL;

	number[0] = 0;
	bytes_init(&det, 4096);
	if (!decision_ok(decision))
		return ERR_INVALID;
	if ((r = vault_begin(v)) != ERR_OK)
		return r;
	tx = true;
	if ((r = vault_case_info(v, id, &c)) != ERR_OK)
		goto out;
	if (strcmp(c.state, "returned") == 0) {
		r = ERR_PERM;
		goto out;
	}
	if (strcmp(c.decision, decision) == 0 &&
	    !(strcmp(decision, "certified") == 0 &&
	        renewal_pending(v, id, c.decided))) {
		r = ERR_EXISTS;
		goto out;
	}
	now_str(now);
	if (strcmp(decision, "certified") == 0) {
		char yymm[8];
		/* R6: scheme id + 4-digit service serial + YYMM */
		prefix = config_str(vault_config(v), "scheme.prefix", "AI");
		if ((r = db_prepare(vault_db(v),
		         "SELECT COALESCE(MAX(serial), 0) + 1 FROM "
		         "case_decisions",
		         &st)) != ERR_OK)
			goto out;
		if (sqlite3_step(st) != SQLITE_ROW) {
			r = ERR_DB;
			goto out;
		}
		serial = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
		/* a renewal keeps its service serial: new YYMM only (R6, R7) */
		if (have_intake(v)) {
			char parent[64] = "";
			bool found = false;
			size_t pl;
			if ((r = one_row(v, sql_renewal_of, id, row_str64,
			         parent, &found)) != ERR_OK)
				goto out;
			pl = strlen(parent);
			if (found && pl > 8 &&
			    strspn(parent + pl - 8, "0123456789") == 8) {
				serial = (parent[pl - 8] - '0') * 1000 +
				         (parent[pl - 7] - '0') * 100 +
				         (parent[pl - 6] - '0') * 10 +
				         (parent[pl - 5] - '0');
				parent[pl - 8] = 0;
				prefix = config_str(vault_config(v),
				    "scheme.prefix", "AI");
				if (strcmp(parent, prefix) != 0)
					serial = serial;
			}
		}
		if (serial > 9999) {
			r = ERR_TOO_BIG;
			goto out;
		}
		(void)snprintf(yymm, sizeof(yymm), "%.2s%.2s", now + 2,
		    now + 5);
		if (snprintf(num, sizeof(num), "%.16s%04d%.4s", prefix,
		        (int)serial, yymm) >= (int)sizeof(num)) {
			r = ERR_CONFIG;
			goto out;
		}
		{
			uint64_t years = 2;
			if (config_u64(vault_config(v),
			        "retention.validity_years", 2,
			        &years) != ERR_OK ||
			    years > 100)
				years = 2;
			/* R7: valid two years */
			time_add(now, (int)years, 0, expires);
		}
	} else if (strcmp(decision, "revoked") == 0 ||
	           strcmp(decision, "terminated") == 0) {
		if (!was_certified(&c)) {
			r = ERR_INVALID;
			goto out;
		}
		(void)snprintf(num, sizeof(num), "%s", c.number);
	}
	if ((r = db_prepare(vault_db(v),
	         "INSERT INTO case_decisions(case_id, decision, serial, "
	         "number, decided, expires, staff) VALUES (?, ?, ?, ?, ?, ?, "
	         "?)",
	         &st)) != ERR_OK)
		goto out;
	if ((r = db_bind_text(st, 1, id)) != ERR_OK ||
	    (r = db_bind_text(st, 2, decision)) != ERR_OK ||
	    (r = db_bind_text(st, 4, num[0] != 0 ? num : NULL)) != ERR_OK ||
	    (r = db_bind_text(st, 5, now)) != ERR_OK ||
	    (r = db_bind_text(st, 6, expires[0] != 0 ? expires : NULL)) !=
	        ERR_OK ||
	    (r = db_bind_text(st, 7, staff)) != ERR_OK)
		goto out;
	if (serial > 0)
		(void)sqlite3_bind_int64(st, 3, serial);
	r = db_run(vault_db(v), st);
	st = NULL;
	if (r != ERR_OK)
		goto out;
	/* the applicant may now renew, change or terminate under it */
	if (strcmp(decision, "certified") == 0 && have_intake(v)) {
		char login[64] = "";
		bool found = false;
		if ((r = one_row(v, sql_login, id, row_str64, login, &found)) !=
		    ERR_OK)
			goto out;
		if (found && (r = vault_account_link(v, staff, login, num,
		                  id)) != ERR_OK)
			goto out;
	}
	if ((r = json_details(&det, "decision", decision, "number",
	         num[0] != 0 ? num : "none", "expires",
	         expires[0] != 0 ? expires : "none")) != ERR_OK ||
	    (r = event(v, staff, "case.decide", id, NULL, (char *)det.p,
	         NULL)) != ERR_OK)
		goto out;
	if ((r = vault_commit(v)) != ERR_OK)
		goto out;
	tx = false;
	(void)snprintf(number, 32, "%s", num);
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	if (tx)
		vault_rollback(v);
	bytes_release(&det);
	return r;
}

enum err
vault_case_hold(struct vault *v, const char *staff, const char *id,
    const char *reason)
{
	struct vault_case_info c;
	sqlite3_stmt *st = NULL;
	char now[32];
	struct bytes det;
	enum err r;

	if (reason == NULL || *reason == 0 || strlen(reason) > 1000)
		return ERR_INVALID;
	bytes_init(&det, 4096);
	if ((r = vault_begin(v)) != ERR_OK)
		return r;
	if ((r = vault_case_info(v, id, &c)) != ERR_OK)
		goto out;
	if (strcmp(c.state, "returned") == 0) {
		r = ERR_PERM;
		goto out;
	}
	now_str(now);
	if ((r = db_prepare(vault_db(v),
	         "INSERT INTO case_holds(case_id, reason, placed, placed_by)"
	         " VALUES (?, ?, ?, ?)",
	         &st)) != ERR_OK)
		goto out;
	if ((r = db_bind_text(st, 1, id)) != ERR_OK ||
	    (r = db_bind_text(st, 2, reason)) != ERR_OK ||
	    (r = db_bind_text(st, 3, now)) != ERR_OK ||
	    (r = db_bind_text(st, 4, staff)) != ERR_OK) {
		sqlite3_finalize(st);
		goto out;
	}
	if ((r = db_run(vault_db(v), st)) != ERR_OK)
		goto out;
	if ((r = json_details(&det, "reason", reason, NULL, NULL, NULL,
	         NULL)) != ERR_OK ||
	    (r = event(v, staff, "case.hold", id, NULL, (char *)det.p, NULL)) !=
	        ERR_OK)
		goto out;
	r = vault_commit(v);
	bytes_release(&det);
	return r;
out:
	vault_rollback(v);
	bytes_release(&det);
	return r;
}

enum err
vault_case_release(struct vault *v, const char *staff, const char *id)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	enum err r;

	if (!id_ok(id))
		return ERR_NOT_FOUND;
	if ((r = vault_begin(v)) != ERR_OK)
		return r;
	now_str(now);
	if ((r = db_prepare(vault_db(v),
	         "UPDATE case_holds SET released = ?, released_by = ?"
	         " WHERE case_id = ? AND released IS NULL",
	         &st)) != ERR_OK)
		goto out;
	if ((r = db_bind_text(st, 1, now)) != ERR_OK ||
	    (r = db_bind_text(st, 2, staff)) != ERR_OK ||
	    (r = db_bind_text(st, 3, id)) != ERR_OK) {
		sqlite3_finalize(st);
		goto out;
	}
	if ((r = db_run(vault_db(v), st)) != ERR_OK)
		goto out;
	if (sqlite3_changes(vault_db(v)) == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((r = event(v, staff, "case.release", id, NULL, "{}", NULL)) !=
	    ERR_OK)
		goto out;
	return vault_commit(v);
out:
	vault_rollback(v);
	return r;
}

/* ---- the keystore, read-only (checks; no secret is read) ---- */

static enum err
ks_open(struct vault *v, sqlite3 **out)
{
	char path[4096];
	enum err r;

	*out = NULL;
	if ((r = fsx_join(path, sizeof(path), vault_dir(v),
	         "keys/keystore.db")) != ERR_OK)
		return r;
	if (sqlite3_open_v2(path, out,
	        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW,
	        NULL) != SQLITE_OK) {
		sqlite3_close(*out);
		*out = NULL;
		return ERR_DB;
	}
	return ERR_OK;
}

/* Counts rows of sql bound to a (text) and b (int64, if b >= 0). */
static enum err
ks_count(sqlite3 *ks, const char *sql, const char *a, int64_t b, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	enum err r = ERR_DB;

	*n = -1;
	if (sqlite3_prepare_v2(ks, sql, -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	if (a != NULL && db_bind_text(st, 1, a) != ERR_OK)
		goto out;
	if (b >= 0 && sqlite3_bind_int64(st, a != NULL ? 2 : 1, b) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		r = ERR_OK;
	}
out:
	sqlite3_finalize(st);
	return r;
}

/* The sealed case secret under epoch (what a keystore backup holds). */
static enum err
ks_sealed_case(struct vault *v, const char *case_id, int64_t epoch,
    struct bytes *out)
{
	sqlite3 *ks = NULL;
	sqlite3_stmt *st = NULL;
	enum err r;

	if ((r = ks_open(v, &ks)) != ERR_OK)
		return r;
	r = ERR_NOT_FOUND;
	if (sqlite3_prepare_v2(ks,
	        "SELECT sealed FROM case_secrets WHERE case_id = ?"
	        " AND epoch_id = ?",
	        -1, &st, NULL) != SQLITE_OK ||
	    db_bind_text(st, 1, case_id) != ERR_OK ||
	    sqlite3_bind_int64(st, 2, epoch) != SQLITE_OK)
		r = ERR_DB;
	else if (sqlite3_step(st) == SQLITE_ROW)
		r = bytes_put(out, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(ks);
	return r;
}

static enum err
ks_current_epoch(struct vault *v, int64_t *epoch)
{
	sqlite3 *ks = NULL;
	enum err r;

	if ((r = ks_open(v, &ks)) != ERR_OK)
		return r;
	r = ks_count(ks, "SELECT MAX(id) FROM epochs WHERE retired IS NULL",
	    NULL, -1, epoch);
	sqlite3_close(ks);
	return r;
}

/* ---- the log: evidence for a certificate ---- */

struct ev_item {
	uint64_t index;
	char action[48];
	char doc_id[VAULT_ID_MAX];
	uint8_t *leaf;
	size_t leaf_len;
};

struct gather {
	const char *case_id;
	uint64_t after; /* epoch.rotate wanted after this index */
	uint8_t (*hashes)[CRY_HASH_LEN]; /* all leaf hashes [0, size) */
	struct audit_cert_tree *tree;    /* built from them once */
	uint64_t size;
	struct ev_item *items;
	size_t n, cap;
	bool have_rotate;
	enum err r;
};

static bool
action_cited(const char *a)
{
	static const char *const cited[] = {"case.create", "doc.store",
	    "case.decide", "case.hold", "case.release", "doc.retain",
	    "case.return.request", "case.return.approve", "case.erase",
	    "case.rekey", "case.verify"};

	for (size_t i = 0; i < sizeof(cited) / sizeof(cited[0]); i++)
		if (strcmp(a, cited[i]) == 0)
			return true;
	return false;
}

static enum err
gather_fn(void *ctx, const struct audit_record *rec)
{
	struct gather *g = ctx;
	const struct audit_event *ev = &rec->ev;
	struct ev_item *it;
	bool want;

	if (rec->index >= g->size)
		return ERR_OK;
	memcpy(g->hashes[rec->index], rec->leaf_hash, CRY_HASH_LEN);
	want = ev->case_id != NULL && strcmp(ev->case_id, g->case_id) == 0 &&
	       action_cited(ev->action);
	if (!want && !g->have_rotate && rec->index > g->after &&
	    strcmp(ev->action, "epoch.rotate") == 0) {
		want = true;
		g->have_rotate = true;
	}
	if (!want)
		return ERR_OK;
	if (g->n == g->cap) {
		size_t nc = g->cap == 0 ? 32 : g->cap * 2;
		void *np;
		if (nc > AUDIT_CERT_MAX_EVIDENCE)
			return ERR_TOO_BIG;
		np = reallocarray(g->items, nc, sizeof(*g->items));
		if (np == NULL)
			return ERR_NOMEM;
		g->items = np;
		g->cap = nc;
	}
	it = &g->items[g->n];
	memset(it, 0, sizeof(*it));
	it->index = rec->index;
	(void)snprintf(it->action, sizeof(it->action), "%s", ev->action);
	if (ev->document_id != NULL)
		(void)snprintf(it->doc_id, sizeof(it->doc_id), "%s",
		    ev->document_id);
	if (rec->leaf.len <= AUDIT_CERT_MAX_LEAF) {
		it->leaf = malloc(rec->leaf.len + 1);
		if (it->leaf == NULL)
			return ERR_NOMEM;
		memcpy(it->leaf, rec->leaf.p, rec->leaf.len);
		it->leaf_len = rec->leaf.len;
	}
	g->n++;
	return ERR_OK;
}

static void
gather_release(struct gather *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->items[i].leaf);
	free(g->items);
	free(g->hashes);
	audit_cert_tree_free(g->tree);
	memset(g, 0, sizeof(*g));
}

static const struct ev_item *
find_item(const struct gather *g, const char *action, const char *doc_id)
{
	for (size_t i = g->n; i > 0; i--) {
		const struct ev_item *it = &g->items[i - 1];
		if (strcmp(it->action, action) == 0 &&
		    (doc_id == NULL || strcmp(it->doc_id, doc_id) == 0))
			return it;
	}
	return NULL;
}

/* Origin, size and root of a checkpoint note (its text part). */
static enum err
checkpoint_text(struct span note, char *origin, size_t osz, uint64_t *size,
    uint8_t root[static CRY_HASH_LEN])
{
	const char *p = (const char *)note.p, *end = p + note.len, *nl, *nl2;
	struct bytes b;
	enum err r;

	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    (size_t)(nl - p) >= osz)
		return ERR_INVALID;
	memcpy(origin, p, (size_t)(nl - p));
	origin[nl - p] = 0;
	p = nl + 1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return ERR_INVALID;
	*size = 0;
	for (const char *q = p; q < nl; q++) {
		if (*q < '0' || *q > '9')
			return ERR_INVALID;
		*size = *size * 10 + (uint64_t)(*q - '0');
	}
	p = nl + 1;
	if ((nl2 = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return ERR_INVALID;
	bytes_init(&b, 64);
	r = cry_b64_decode(p, (size_t)(nl2 - p), &b);
	if (r == ERR_OK && b.len != CRY_HASH_LEN)
		r = ERR_INVALID;
	if (r == ERR_OK)
		memcpy(root, b.p, CRY_HASH_LEN);
	bytes_release(&b);
	return r;
}

/* ---- the return ---- */

static bool
reason_ok(const char *r)
{
	static const char *const ok[] = {"not-certified", "expired", "revoked",
	    "terminated", "superseded", "request"};

	for (size_t i = 0; r != NULL && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(r, ok[i]) == 0)
			return true;
	return false;
}

static const char *
basis_text(const char *reason)
{
	if (strcmp(reason, "not-certified") == 0)
		return "R9 not-certified: the service was not certified "
		       "(000 §10; 001 §3.1(5)イ)";
	if (strcmp(reason, "expired") == 0)
		return "R9 expired: the certification expired without renewal "
		       "(000 §10; R7)";
	if (strcmp(reason, "revoked") == 0)
		return "R9 revoked: the certification was revoked "
		       "(000 §10, §11(3))";
	if (strcmp(reason, "terminated") == 0)
		return "R9 terminated: the certified service was terminated "
		       "(000 §10)";
	if (strcmp(reason, "superseded") == 0)
		return "R7 superseded: old materials replaced by a renewal "
		       "(000 §10(3))";
	return "R9 request: the applicant asked for the return (000 §10)";
}

/* True when role is in the comma-separated list. */
static bool
role_in(const char *role, const char *list)
{
	size_t n = strlen(role);
	const char *p = list;

	if (n == 0)
		return false;
	while (p != NULL && *p != 0) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == n && memcmp(p, role, n) == 0)
			return true;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return false;
}

struct ret {
	struct vault *v;
	const struct vault_return_opts *o;
	const char *id;
	struct vault_case_info c;
	struct vault_doc_info *docs;
	size_t ndocs;
	bool *retain; /* per doc: retained by this return */
	const char *op, *ap;
	uint64_t req_idx, appr_idx, verify_idx, rekey_idx;
	bool sup; /* superseded: the case lives on, rekeyed */
	char current[VAULT_LIFE_STR]; /* sup: the submission that stays */
	int64_t old_epoch, new_epoch;
	char started[32], final_after[32], verified_at[32];
	unsigned trial_fail, absent, keys_gone, n_destroyed;
	struct bytes stale; /* the case secret as sealed before (a backup) */
	bool stale_fails;   /* ... and no live key opens it any more */
	struct gather g;
	char origin[256];
	uint8_t root[CRY_HASH_LEN];
	struct bytes cpnote;
};

static enum err
ret_request(struct ret *t)
{
	struct bytes det;
	enum err r;
	const char *policy =
	    was_certified(&t->c) || strcmp(t->o->reason, "superseded") == 0
	        ? "retain_certified"
	        : "retain_not_certified";

	bytes_init(&det, 4096);
	if ((r = vault_begin(t->v)) != ERR_OK)
		return r;
	if ((r = json_details(&det, "reason", t->o->reason, "policy", policy,
	         "approver", t->ap != NULL ? t->ap : "none")) != ERR_OK ||
	    (r = event(t->v, t->op, "case.return.request", t->id, NULL,
	         (char *)det.p, &t->req_idx)) != ERR_OK)
		goto out;
	if (t->ap != NULL &&
	    (r = event(t->v, t->ap, "case.return.approve", t->id, NULL,
	         (char *)det.p, &t->appr_idx)) != ERR_OK)
		goto out;
	r = vault_commit(t->v);
	bytes_release(&det);
	return r;
out:
	vault_rollback(t->v);
	bytes_release(&det);
	return r;
}

/* Everything erased must now be unreadable and gone. */
static enum err
ret_verify(struct ret *t)
{
	sqlite3 *ks = NULL;
	int64_t n;
	char path[4096], file[128], det[512];
	struct stat sb;
	enum err r, result = ERR_OK;

	if ((r = ks_open(t->v, &ks)) != ERR_OK)
		return r;
	for (size_t i = 0; i < t->ndocs; i++) {
		struct vault_doc *d = NULL;
		if (t->retain[i])
			continue;
		t->n_destroyed++;
		/* the trial decryption must fail */
		if (vault_doc_open(t->v, t->o->op, t->docs[i].id,
		        "deletion verification", &d) != ERR_OK)
			t->trial_fail++;
		vault_doc_close(d);
		(void)snprintf(file, sizeof(file), "cases/%s/%s", t->id,
		    t->docs[i].id);
		if (fsx_join(path, sizeof(path), vault_dir(t->v), file) ==
		        ERR_OK &&
		    lstat(path, &sb) != 0 && errno == ENOENT)
			t->absent++;
		if (ks_count(ks,
		        "SELECT COUNT(*) FROM doc_keys WHERE doc_id = ?",
		        t->docs[i].id, -1, &n) == ERR_OK &&
		    n == 0)
			t->keys_gone++;
	}
	if (!t->sup &&
	    (ks_count(ks, "SELECT COUNT(*) FROM case_secrets WHERE case_id = ?",
	         t->id, -1, &n) != ERR_OK ||
	        n != 0))
		result = ERR_CORRUPT;
	/*
	 * The cryptographic trial: the case secret exactly as a keystore
	 * backup holds it must not open with the live epoch secret.
	 */
	{
		struct cry_secret *esk = NULL, *opened = NULL;
		uint8_t epk[CRY_BOX_PK_LEN];
		int64_t eid = 0;
		if (t->stale.len > 0 &&
		    keys_epoch_secret(t->v, t->o->op, &eid, epk, &esk) ==
		        ERR_OK &&
		    eid != t->old_epoch)
			t->stale_fails =
			    cry_seal_open(epk, esk, bytes_span(&t->stale),
			        &opened) != ERR_OK;
		cry_secret_free(opened);
		cry_secret_free(esk);
		if (!t->stale_fails)
			result = ERR_CORRUPT;
	}
	if (ks_count(ks,
	        "SELECT COUNT(*) FROM epoch_secrets WHERE epoch_id = ?", NULL,
	        t->old_epoch, &n) != ERR_OK ||
	    n != 0)
		result = ERR_CORRUPT;
	sqlite3_close(ks);
	if (t->trial_fail != t->n_destroyed || t->absent != t->n_destroyed ||
	    t->keys_gone != t->n_destroyed)
		result = ERR_CORRUPT;
	now_str(t->verified_at);
	(void)snprintf(det, sizeof(det),
	    "{\"result\":\"%s\",\"documents\":%u,\"trial_decrypt_failed\":%u,"
	    "\"ciphertext_absent\":%u,\"keys_not_found\":%u,"
	    "\"epoch_retired\":%lld,\"stale_case_secret_opens\":%s}",
	    result == ERR_OK ? "PASS" : "FAIL", t->n_destroyed, t->trial_fail,
	    t->absent, t->keys_gone, (long long)t->old_epoch,
	    t->stale_fails ? "false" : "true");
	if ((r = vault_begin(t->v)) != ERR_OK)
		return r;
	if ((r = event(t->v, t->op, "case.verify", t->id, NULL, det,
	         &t->verify_idx)) != ERR_OK) {
		vault_rollback(t->v);
		return r;
	}
	if ((r = vault_commit(t->v)) != ERR_OK)
		return r;
	if (result != ERR_OK)
		log_err("case %s: deletion verification failed: %s", t->id,
		    det);
	return result;
}

static enum err
ret_evidence(struct ret *t)
{
	struct span note = bytes_span(&t->cpnote);
	const uint8_t *blank = NULL;
	uint8_t check[CRY_HASH_LEN];
	enum err r;

	for (size_t i = 0; i + 1 < note.len; i++)
		if (note.p[i] == '\n' && note.p[i + 1] == '\n') {
			blank = note.p + i + 1;
			break;
		}
	if (blank == NULL)
		return ERR_INVALID;
	if ((r = checkpoint_text(span_of(note.p, (size_t)(blank - note.p)),
	         t->origin, sizeof(t->origin), &t->g.size, t->root)) != ERR_OK)
		return r;
	if (t->g.size == 0)
		return ERR_INVALID;
	t->g.case_id = t->id;
	t->g.after = t->req_idx; /* the ratchet of this return, not earlier */
	t->g.hashes = calloc((size_t)t->g.size, CRY_HASH_LEN);
	if (t->g.hashes == NULL)
		return ERR_NOMEM;
	if ((r = audit_events(vault_audit(t->v), 0, t->g.size - 1, gather_fn,
	         &t->g)) != ERR_OK)
		return r;
	if ((r = audit_cert_tree_new(
	         (const uint8_t(*)[CRY_HASH_LEN])t->g.hashes, t->g.size,
	         &t->g.tree)) != ERR_OK)
		return r;
	audit_cert_tree_root_of(t->g.tree, check);
	if (!cry_equal(check, t->root, CRY_HASH_LEN)) {
		log_err("checkpoint root does not match the log's leaves");
		return ERR_CORRUPT;
	}
	return ERR_OK;
}

static enum err set_f(struct audit_cert *c, enum audit_cert_field f,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum err
set_f(struct audit_cert *c, enum audit_cert_field f, const char *fmt, ...)
{
	struct bytes b;
	va_list ap;
	enum err r;

	bytes_init(&b, AUDIT_CERT_VALUE_MAX);
	va_start(ap, fmt);
	r = bytes_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == ERR_OK)
		r = audit_cert_set(c, f, (const char *)b.p);
	bytes_release(&b);
	return r;
}

static enum err add_line(struct audit_cert *c, bool backup, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
static enum err
add_line(struct audit_cert *c, bool backup, const char *fmt, ...)
{
	struct bytes b;
	va_list ap;
	enum err r;

	bytes_init(&b, AUDIT_CERT_VALUE_MAX);
	va_start(ap, fmt);
	r = bytes_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == ERR_OK)
		r = audit_cert_add_line(c, backup, (const char *)b.p);
	bytes_release(&b);
	return r;
}

/* The trust line: the log key's name and id from keys/log.pub. */
static void
trust_name(struct vault *v, char *out, size_t outsz)
{
	char path[4096];
	struct bytes b;
	const char *p, *plus2;

	(void)snprintf(out, outsz, "unknown");
	bytes_init(&b, 4096);
	if (fsx_join(path, sizeof(path), vault_dir(v), "keys/log.pub") ==
	        ERR_OK &&
	    fsx_read_file(path, 4096, &b) == ERR_OK && b.len > 0) {
		p = strchr((const char *)b.p, '+');
		plus2 = p != NULL ? strchr(p + 1, '+') : NULL;
		if (plus2 != NULL)
			(void)snprintf(out, outsz, "%.*s",
			    (int)(plus2 - (const char *)b.p),
			    (const char *)b.p);
	}
	bytes_release(&b);
}

static enum err
ret_build(struct ret *t, struct audit_cert *c, const char *cert_id,
    const char *issued, bool final)
{
	const struct ev_item *create, *erase, *rotate, *it;
	uint8_t path[AUDIT_CERT_MAX_PATH][CRY_HASH_LEN];
	char trust[512];
	enum err r = ERR_OK;
	const struct config *cfg = vault_config(t->v);
	uint64_t backup_days = 30;

	if (config_u64(cfg, "retention.keystore_backup_days", 30,
	        &backup_days) != ERR_OK)
		backup_days = 30;
	create = find_item(&t->g, "case.create", NULL);
	erase = find_item(&t->g, t->sup ? "case.rekey" : "case.erase", NULL);
	rotate = find_item(&t->g, "epoch.rotate", NULL);
	if (erase == NULL || rotate == NULL)
		return ERR_INTERNAL;
	trust_name(t->v, trust, sizeof(trust));
	if ((r = audit_cert_set(c, AUDIT_CERT_ID, cert_id)) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_ISSUED_AT, issued)) != ERR_OK ||
	    (r = set_f(c, AUDIT_CERT_ISSUER, "%s; log %s",
	         config_str(cfg, "issuer.name", "事務局 (secretariat)"),
	         t->origin)) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_LOG_ORIGIN, t->origin)) !=
	        ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_TOOL, t->o->tool)) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_STAGE,
	         final ? "final" : "primary")) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_CASE, t->id)) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_RECEIPT, t->c.receipt)) !=
	        ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_APPLICANT, t->c.applicant)) !=
	        ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_CERTIFICATION,
	         t->c.number[0] != 0 ? t->c.number : "none")) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_BASIS,
	         basis_text(t->o->reason))) != ERR_OK ||
	    (r = set_f(c, AUDIT_CERT_REQUEST, "%s at %s log=%llu", t->op,
	         t->started, (unsigned long long)t->req_idx)) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_CATEGORY,
	         "Purge (logical, application-level)")) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_METHOD,
	         "cryptographic-erase + ciphertext-removal")) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_STANDARDS,
	         "NIST SP 800-88r2 (cryptographic erase); ISO/IEC "
	         "27040:2024; media-level sanitization out of scope (IEEE "
	         "2883 applies at media end of life)")) != ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_CRYPTO,
	         "document bodies XChaCha20-Poly1305 in 64 KiB chunks; "
	         "256-bit random key per document sealed (X25519 "
	         "crypto_box_seal) to the case key; case secret sealed to the "
	         "vault epoch key; epoch secret sealed to each staff key; RNG "
	         "randombytes_buf (libsodium)")) != ERR_OK ||
	    (r = set_f(c, AUDIT_CERT_ENCRYPTED_SINCE,
	         "first write: uploads are encrypted as they stream in, no "
	         "plaintext temporary files; log=%llu",
	         (unsigned long long)(create != NULL ? create->index : 0))) !=
	        ERR_OK ||
	    (r = audit_cert_set(c, AUDIT_CERT_DERIVED,
	         "none (kura keeps no previews, indexes or extracted text)")) !=
	        ERR_OK)
		return r;
	for (size_t i = 0; i < t->ndocs && r == ERR_OK; i++) {
		struct audit_cert_doc d;
		char file[128], dash[] = "-", indefinite[] = "indefinite";
		struct vault_doc_info *x = &t->docs[i];
		if (strcmp(x->state, "erased") == 0 && !t->retain[i] &&
		    x->key_id[0] == 0)
			continue;
		memset(&d, 0, sizeof(d));
		(void)snprintf(file, sizeof(file), "cases/%s/%s", t->id, x->id);
		d.number = x->number[0] != 0 ? x->number : dash;
		d.name = x->name;
		d.size = x->size;
		memcpy(d.sha256, x->sha256, CRY_HASH_LEN);
		memcpy(d.cipher_sha256, x->cipher_sha256, CRY_HASH_LEN);
		d.file = file;
		d.key_id = x->key_id;
		if (t->retain[i] && t->sup) {
			/* the renewal's documents stay, under the new case key
			 */
			char reason[] = "R7-current-submission";
			d.log_index = erase->index;
			d.reason = reason;
			d.until = indefinite;
			r = audit_cert_add_doc(c, true, &d);
		} else if (t->retain[i]) {
			char reason[96];
			it = find_item(&t->g, "doc.retain", x->id);
			d.log_index = it != NULL ? it->index : 0;
			(void)snprintf(reason, sizeof(reason), "R9-%s",
			    x->role[0] != 0 ? x->role : "retained");
			d.reason = reason;
			d.until = indefinite;
			r = audit_cert_add_doc(c, true, &d);
		} else {
			d.log_index = x->store_index;
			r = audit_cert_add_doc(c, false, &d);
		}
	}
	if (r != ERR_OK)
		return r;
	for (size_t i = 0; i < t->ndocs && r == ERR_OK; i++)
		if (!t->retain[i])
			r = add_line(c, false,
			    "%s document-key(256-bit) sealed-to-case "
			    "created=%llu "
			    "destroyed=%llu keystore-row",
			    t->docs[i].key_id,
			    (unsigned long long)t->docs[i].store_index,
			    (unsigned long long)erase->index);
	if (r == ERR_OK)
		r = add_line(c, false,
		    t->sup ? "case-%s old-case-secret(X25519) created=%llu "
		             "destroyed=%llu keystore-rows(every epoch; the "
		             "case lives on under a new key)"
		           : "case-%s case-secret(X25519) created=%llu "
		             "destroyed=%llu keystore-rows(every epoch)",
		    t->id,
		    (unsigned long long)(create != NULL ? create->index : 0),
		    (unsigned long long)erase->index);
	if (r == ERR_OK)
		r = add_line(c, false,
		    "epoch-%lld epoch-secret(X25519) destroyed=%llu "
		    "keystore-rows(sealed to every staff key)",
		    (long long)t->old_epoch, (unsigned long long)rotate->index);
	if (r == ERR_OK)
		r = set_f(c, AUDIT_CERT_EPOCH_RETIRED,
		    "e%lld at %s log=%llu; successor e%lld",
		    (long long)t->old_epoch, t->verified_at,
		    (unsigned long long)rotate->index, (long long)t->new_epoch);
	if (r == ERR_OK)
		r = set_f(c, AUDIT_CERT_CIPHERTEXT_REMOVED,
		    "%u files under cases/%s/ unlinked, folders fsynced, "
		    "log=%llu",
		    t->n_destroyed, t->id, (unsigned long long)erase->index);
	if (r == ERR_OK && final)
		r = add_line(c, true,
		    "keystore copies made before %s held epoch e%lld; kept "
		    "at most %llu days (kura.conf "
		    "retention.keystore_backup_days): all "
		    "expired by %s, so no copy of a key that opens this case "
		    "remains",
		    t->started, (long long)t->old_epoch,
		    (unsigned long long)backup_days, t->final_after);
	else if (r == ERR_OK)
		r = add_line(c, true,
		    "keystore copies made before %s still hold epoch e%lld, "
		    "which opens this case's sealed secret: with a staff "
		    "passphrase they can decrypt copies of the ciphertext "
		    "until they expire; kept at most %llu days (kura.conf "
		    "retention."
		    "keystore_backup_days), so by %s (then a final "
		    "certificate)",
		    t->started, (long long)t->old_epoch,
		    (unsigned long long)backup_days, t->final_after);
	if (r == ERR_OK)
		r = add_line(c, true,
		    "data backups (kura.db, cases/) may hold ciphertext: "
		    "unreadable without the destroyed keys");
	if (r == ERR_OK)
		r = set_f(c, AUDIT_CERT_VERIFICATION,
		    "key-lookup=not-found(%u document keys, case secret, epoch "
		    "e%lld secrets); stale-case-secret-trial=fail(the "
		    "pre-return "
		    "sealed copy does not open with the live epoch key); "
		    "trial-decrypt=fail(%u/%u); "
		    "ciphertext=absent(%u/%u); verified-by=%s at %s log=%llu",
		    t->keys_gone, (long long)t->old_epoch, t->trial_fail,
		    t->n_destroyed, t->absent, t->n_destroyed, t->op,
		    t->verified_at, (unsigned long long)t->verify_idx);
	if (r == ERR_OK)
		r = audit_cert_set(c, AUDIT_CERT_RESULT, "PASS");
	if (r == ERR_OK)
		r = set_f(c, AUDIT_CERT_OPERATOR,
		    "%s (staff, vault user %s) "
		    "log=%llu",
		    t->op, t->op, (unsigned long long)t->req_idx);
	if (r == ERR_OK && t->ap != NULL)
		r = set_f(c, AUDIT_CERT_APPROVER, "%s (staff) log=%llu", t->ap,
		    (unsigned long long)t->appr_idx);
	else if (r == ERR_OK)
		r = audit_cert_set(c, AUDIT_CERT_APPROVER,
		    "none (two-person rule off: kura.conf "
		    "retention.two_person_rule)");
	if (r == ERR_OK)
		r = audit_cert_set(c, AUDIT_CERT_ATTESTATION,
		    "記載内容が正確であることを証明します。The undersigned "
		    "attest that the information in this certificate is "
		    "accurate to the best of their knowledge.");
	if (r == ERR_OK)
		r = audit_cert_set(c, AUDIT_CERT_MEDIA,
		    "not applicable (logical sanitization; storage remains in "
		    "service)");
	if (r == ERR_OK)
		r = set_f(c, AUDIT_CERT_TRUST, "log %s", trust);
	if (r != ERR_OK)
		return r;
	c->cp_size = t->g.size;
	memcpy(c->cp_root, t->root, CRY_HASH_LEN);
	for (size_t i = 0; i < t->g.n && r == ERR_OK; i++) {
		struct audit_cert_evidence e;
		memset(&e, 0, sizeof(e));
		e.action = t->g.items[i].action;
		e.index = t->g.items[i].index;
		memcpy(e.leaf_hash, t->g.hashes[e.index], CRY_HASH_LEN);
		if ((r = audit_cert_tree_prove(t->g.tree, e.index, path,
		         &e.path_len)) != ERR_OK)
			break;
		e.path = path;
		e.leaf = t->g.items[i].leaf;
		e.leaf_len = t->g.items[i].leaf_len;
		r = audit_cert_add_evidence(c, &e);
	}
	if (r == ERR_OK)
		r = bytes_put(&c->checkpoint, t->cpnote.p, t->cpnote.len);
	return r;
}

/* Next certificate id: DC-YYYY-NNNNNN. */
static enum err
next_cert_id(struct vault *v, const char *now, char out[static 32])
{
	sqlite3_stmt *st = NULL;
	enum err r;
	int64_t n = 0;

	if ((r = db_prepare(vault_db(v), "SELECT COUNT(*) FROM case_certs",
	         &st)) != ERR_OK)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	(void)snprintf(out, 32, "DC-%.4s-%06lld", now, (long long)n + 1);
	return ERR_OK;
}

/* Signs, bundles, records and logs a certificate. */
static enum err
ret_issue(struct ret *t, bool final, const char *supersedes,
    struct bytes *cert_out)
{
	struct audit_cert c;
	struct bytes text, note, det;
	sqlite3_stmt *st = NULL;
	uint8_t h[CRY_HASH_LEN];
	char hx[2 * CRY_HASH_LEN + 1], cert_id[32], issued[32];
	enum err r = ERR_INTERNAL;
	bool tx = false;

	audit_cert_init(&c);
	bytes_init(&text, AUDIT_CERT_MAX_FILE);
	bytes_init(&note, AUDIT_CERT_MAX_FILE);
	bytes_init(&det, 4096);
	now_str(issued);
	if ((r = next_cert_id(t->v, issued, cert_id)) != ERR_OK)
		goto out;
	if ((r = ret_build(t, &c, cert_id, issued, final)) != ERR_OK)
		goto out;
	if (supersedes != NULL && (r = audit_cert_set(&c, AUDIT_CERT_SUPERSEDES,
	                               supersedes)) != ERR_OK)
		goto out;
	if ((r = audit_cert_format(&c, &text)) != ERR_OK ||
	    (r = audit_sign_note(vault_audit(t->v), bytes_span(&text),
	         &note)) != ERR_OK ||
	    (r = audit_cert_bundle(&c, bytes_span(&note), cert_out)) != ERR_OK)
		goto out;
	cry_sha256(cert_out->p, cert_out->len, h);
	hex_encode(h, CRY_HASH_LEN, hx);
	if ((r = vault_begin(t->v)) != ERR_OK)
		goto out;
	tx = true;
	{
		if ((r = db_prepare(vault_db(t->v),
		         "INSERT INTO case_returns(case_id, reason, issued, "
		         "staff, approver, old_epoch, final_after) VALUES "
		         "(?, ?, ?, ?, ?, ?, ?)",
		         &st)) != ERR_OK)
			goto out;
		if ((r = db_bind_text(st, 1, t->id)) != ERR_OK ||
		    (r = db_bind_text(st, 2, t->o->reason)) != ERR_OK ||
		    (r = db_bind_text(st, 3, issued)) != ERR_OK ||
		    (r = db_bind_text(st, 4, t->op)) != ERR_OK ||
		    (r = db_bind_text(st, 5, t->ap)) != ERR_OK ||
		    sqlite3_bind_int64(st, 6, t->old_epoch) != SQLITE_OK ||
		    (r = db_bind_text(st, 7, t->final_after)) != ERR_OK) {
			r = r != ERR_OK ? r : ERR_DB;
			goto out;
		}
		r = db_run(vault_db(t->v), st);
		st = NULL;
		if (r != ERR_OK)
			goto out;
	}
	if ((r = db_prepare(vault_db(t->v),
	         "INSERT INTO case_certs(id, case_id, stage, issued, sha256, "
	         "certificate, supersedes, final_after, old_epoch) VALUES "
	         "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
	         &st)) != ERR_OK)
		goto out;
	if ((r = db_bind_text(st, 8, final ? NULL : t->final_after)) !=
	        ERR_OK ||
	    sqlite3_bind_int64(st, 9, t->old_epoch) != SQLITE_OK) {
		r = r != ERR_OK ? r : ERR_DB;
		goto out;
	}
	{
		int len;
		if ((r = size_to_int(cert_out->len, &len)) != ERR_OK)
			goto out;
		if ((r = db_bind_text(st, 1, cert_id)) != ERR_OK ||
		    (r = db_bind_text(st, 2, t->id)) != ERR_OK ||
		    (r = db_bind_text(st, 3, final ? "final" : "primary")) !=
		        ERR_OK ||
		    (r = db_bind_text(st, 4, issued)) != ERR_OK ||
		    sqlite3_bind_blob(st, 5, h, CRY_HASH_LEN,
		        SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_blob(st, 6, cert_out->p, len,
		        SQLITE_TRANSIENT) != SQLITE_OK ||
		    (r = db_bind_text(st, 7, supersedes)) != ERR_OK) {
			r = r != ERR_OK ? r : ERR_DB;
			goto out;
		}
	}
	r = db_run(vault_db(t->v), st);
	st = NULL;
	if (r != ERR_OK)
		goto out;
	/* The certificate's own hash goes into the log (C.1). */
	if ((r = json_details(&det, "certificate_id", cert_id, "sha256", hx,
	         "stage", final ? "final" : "primary")) != ERR_OK ||
	    (r = event(t->v, t->op, "cert.issue", t->id, NULL, (char *)det.p,
	         NULL)) != ERR_OK)
		goto out;
	if ((r = vault_commit(t->v)) != ERR_OK)
		goto out;
	tx = false;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	if (tx)
		vault_rollback(t->v);
	audit_cert_release(&c);
	bytes_release(&text);
	bytes_release(&note);
	bytes_release(&det);
	return r;
}

static void
ret_release(struct ret *t)
{
	free(t->docs);
	free(t->retain);
	gather_release(&t->g);
	bytes_release(&t->cpnote);
	bytes_release(&t->stale);
}

enum err
vault_case_return(struct vault *v, const struct vault_return_opts *o,
    const char *id, struct bytes *cert_out)
{
	struct ret t;
	const char *policy;
	uint64_t backup_days = 30;
	enum err r = ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	bytes_init(&t.cpnote, CRY_NOTE_MAX);
	bytes_init(&t.stale, 4096);
	t.v = v;
	t.o = o;
	t.id = id;
	if (o == NULL || o->op == NULL || !reason_ok(o->reason) ||
	    o->tool == NULL) {
		r = ERR_INVALID;
		goto out;
	}
	t.op = vault_staff_name(o->op);
	t.ap = o->approver != NULL ? vault_staff_name(o->approver) : NULL;
	if ((r = vault_case_info(v, id, &t.c)) != ERR_OK)
		goto out;
	if (strcmp(t.c.state, "returned") == 0 || t.c.held) {
		r = ERR_PERM; /* a legal hold blocks the return */
		goto out;
	}
	/* Two-person rule: a second, different staff member approves. */
	if (config_bool(vault_config(v), "retention.two_person_rule", false) &&
	    (t.ap == NULL || strcmp(t.ap, t.op) == 0)) {
		r = ERR_PERM;
		goto out;
	}
	if (t.ap != NULL && strcmp(t.ap, t.op) == 0) {
		r = ERR_PERM;
		goto out;
	}
	if (config_u64(vault_config(v), "retention.keystore_backup_days", 30,
	        &backup_days) != ERR_OK) {
		r = ERR_CONFIG;
		goto out;
	}
	now_str(t.started);
	time_add(t.started, 0, (int)(backup_days > 3650 ? 3650 : backup_days),
	    t.final_after);
	/* R9: the retained set (form A, published form B when certified). */
	policy = was_certified(&t.c) || strcmp(o->reason, "superseded") == 0
	             ? config_str(vault_config(v), "retention.retain_certified",
	                   "form_a,form_b")
	             : config_str(vault_config(v),
	                   "retention.retain_not_certified", "");
	if ((r = docs_load(v, id, &t.docs, &t.ndocs)) != ERR_OK)
		goto out;
	if ((t.retain = calloc(t.ndocs + 1, sizeof(bool))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	t.sup = strcmp(o->reason, "superseded") == 0;
	if (t.sup) {
		/* R7: the documents of the submissions a renewal replaced */
		size_t old = 0;
		for (size_t i = t.ndocs; i > 0; i--)
			if (strcmp(t.docs[i - 1].state, "live") == 0) {
				(void)snprintf(t.current, sizeof(t.current),
				    "%s", t.docs[i - 1].submission);
				break;
			}
		for (size_t i = 0; i < t.ndocs; i++) {
			bool live = strcmp(t.docs[i].state, "live") == 0;
			t.retain[i] = live && strcmp(t.docs[i].submission,
			                          t.current) == 0;
			old += live && !t.retain[i];
		}
		if (old == 0) {
			log_err("case %s: nothing superseded (one submission)",
			    id);
			r = ERR_INVALID;
			goto out;
		}
	} else {
		for (size_t i = 0; i < t.ndocs; i++)
			t.retain[i] =
			    strcmp(t.docs[i].state, "retained") == 0 ||
			    (strcmp(t.docs[i].state, "live") == 0 &&
			        role_in(t.docs[i].role, policy));
	}
	/*
	 * The certificate must fit in one signed note (CRY_NOTE_MAX): check
	 * before anything is destroyed, never after.
	 */
	{
		size_t est = 16384;
		for (size_t i = 0; i < t.ndocs; i++)
			est += 3 * strlen(t.docs[i].name) +
			       3 * strlen(t.docs[i].number) + 700;
		if (t.ndocs > AUDIT_CERT_MAX_DOCS || est > CRY_NOTE_MAX) {
			log_err("case %s: %zu documents are too many for one "
			        "certificate; nothing was changed",
			    id, t.ndocs);
			r = ERR_TOO_BIG;
			goto out;
		}
	}
	if ((r = ks_current_epoch(v, &t.old_epoch)) != ERR_OK ||
	    (r = ks_sealed_case(v, id, t.old_epoch, &t.stale)) != ERR_OK)
		goto out;
	if ((r = ret_request(&t)) != ERR_OK)
		goto out;
	if (t.sup) {
		/* 1-2. old documents erased; the case rekeyed so no stale
		 * copy of the old case key opens their keys */
		for (size_t i = 0; i < t.ndocs; i++)
			if (!t.retain[i] &&
			    strcmp(t.docs[i].state, "live") == 0 &&
			    (r = vault_doc_erase(v, t.op, t.docs[i].id)) !=
			        ERR_OK)
				goto out;
		if ((r = vault_case_rekey(v, o->op, id, &t.rekey_idx)) !=
		    ERR_OK)
			goto out;
	} else {
		/* 1. retained documents re-sealed under their own key */
		for (size_t i = 0; i < t.ndocs; i++)
			if (t.retain[i] &&
			    strcmp(t.docs[i].state, "live") == 0 &&
			    (r = vault_doc_retain(v, o->op, t.docs[i].id)) !=
			        ERR_OK)
				goto out;
		/* 2. case secret and document keys destroyed, files gone */
		if ((r = vault_case_erase(v, t.op, id)) != ERR_OK)
			goto out;
	}
	/* 3. the epoch ratchet: every copy of the old epoch secret */
	if ((r = vault_epoch_rotate(v, o->op, &t.new_epoch)) != ERR_OK)
		goto out;
	/* reload: retained key ids changed */
	free(t.docs);
	t.docs = NULL;
	if ((r = docs_load(v, id, &t.docs, &t.ndocs)) != ERR_OK)
		goto out;
	for (size_t i = 0; i < t.ndocs; i++)
		t.retain[i] =
		    t.sup ? strcmp(t.docs[i].state, "live") == 0 &&
		                strcmp(t.docs[i].submission, t.current) == 0
		          : strcmp(t.docs[i].state, "retained") == 0;
	/* 4. verification: trial decryption fails, keys and files gone */
	if ((r = ret_verify(&t)) != ERR_OK)
		goto out;
	/* 5. a checkpoint covering it all, then the certificate */
	if ((r = audit_checkpoint(vault_audit(v), 0, &t.cpnote, NULL)) !=
	    ERR_OK)
		goto out;
	if ((r = ret_evidence(&t)) != ERR_OK)
		goto out;
	r = ret_issue(&t, backup_days == 0, NULL, cert_out);
out:
	if (r != ERR_OK)
		log_err_r(r, "return of case %s", id != NULL ? id : "?");
	ret_release(&t);
	return r;
}

/* ---- retention ---- */

enum err
vault_retention_due(struct vault *v, const char *now_in,
    enum err (*fn)(void *arg, const char *case_id, const char *reason,
        const char *since, bool held),
    void *arg)
{
	char(*ids)[VAULT_ID_MAX] = NULL, now[32];
	size_t n = 0;
	uint64_t grace = 30;
	struct vault_case_info c;
	enum err r;

	if (now_in != NULL) {
		time_t t;
		if (time_parse(now_in, &t) != ERR_OK)
			return ERR_INVALID;
		time_fmt(t, now);
	} else {
		now_str(now);
	}
	if ((r = case_ids(v,
	         "SELECT id FROM cases WHERE state <> 'erased'"
	         " ORDER BY created, id",
	         &ids, &n)) != ERR_OK)
		goto out;
	if (config_u64(vault_config(v), "retention.not_certified_days", 30,
	        &grace) != ERR_OK ||
	    grace > 3650)
		grace = 30;
	for (size_t i = 0; i < n; i++) {
		const char *reason = NULL, *since = NULL;
		char after[32];
		if ((r = vault_case_info(v, ids[i], &c)) != ERR_OK)
			goto out;
		if (strcmp(c.decision, "not-certified") == 0) {
			reason = "not-certified"; /* R9, after the grace */
			time_add(c.decided, 0, (int)grace, after);
			since = after;
			if (strcmp(after, now) > 0)
				reason = NULL;
		} else if (strcmp(c.decision, "revoked") == 0 ||
		           strcmp(c.decision, "terminated") == 0) {
			reason = c.decision; /* R9 */
			since = c.decided;
		} else if (strcmp(c.decision, "certified") == 0 &&
		           c.expires[0] != 0 && strcmp(c.expires, now) <= 0) {
			char renewal[64] = "";
			bool found = false;
			reason =
			    "expired"; /* R7, R9: expired without renewal */
			since = c.expires;
			if (have_intake(v) &&
			    (r = one_row(v, sql_renewed, c.number, row_str64,
			         renewal, &found)) != ERR_OK)
				goto out;
			if (found)
				reason = NULL; /* renewed: superseded instead */
		}
		if (reason == NULL)
			continue;
		if ((r = fn(arg, c.id, reason, since, c.held)) != ERR_OK)
			goto out;
	}
	r = ERR_OK;
out:
	free(ids);
	return r;
}

/* ---- auditor checks ---- */

struct leafcheck {
	const struct audit_cert *c;
	size_t bad, seen;
};

static enum err
leafcheck_fn(void *ctx, const struct audit_record *rec)
{
	struct leafcheck *lc = ctx;

	for (size_t i = 0; i < lc->c->n_evidence; i++) {
		const struct audit_cert_evidence *e = &lc->c->evidence[i];
		if (e->index != rec->index)
			continue;
		lc->seen++;
		if (!cry_equal(e->leaf_hash, rec->leaf_hash, CRY_HASH_LEN) ||
		    strcmp(e->action, rec->ev.action) != 0)
			lc->bad++;
	}
	return ERR_OK;
}

static void
rep_line(struct bytes *rep, bool good, const char *msg, const char *arg)
{
	if (rep != NULL)
		(void)!bytes_printf(rep, "%s %s%s%s\n", good ? "ok  " : "FAIL",
		    msg, arg != NULL ? " " : "", arg != NULL ? arg : "");
}

static bool
cert_cites(const struct audit_cert *c, const char *action)
{
	for (size_t i = 0; i < c->n_evidence; i++)
		if (strcmp(c->evidence[i].action, action) == 0)
			return true;
	return false;
}

enum err
vault_cert_check(struct vault *v, const struct audit_cert *c, struct bytes *rep)
{
	struct leafcheck lc = {c, 0, 0};
	sqlite3 *ks = NULL;
	enum err r, result = ERR_OK;
	uint64_t size = 0;
	int64_t n;
	char path[4096];
	struct stat sb;

	if ((r = audit_size(vault_audit(v), &size)) != ERR_OK)
		return r;
	if (c->cp_size > size) {
		rep_line(rep, false, "the vault's log reaches the checkpoint",
		    NULL);
		return ERR_CORRUPT;
	}
	for (size_t i = 0; i < c->n_evidence; i++) {
		r = audit_events(vault_audit(v), c->evidence[i].index,
		    c->evidence[i].index, leafcheck_fn, &lc);
		if (r != ERR_OK)
			return r;
	}
	if (lc.bad != 0 || lc.seen != c->n_evidence) {
		rep_line(rep, false,
		    "the cited events are the vault log's events", NULL);
		result = ERR_CORRUPT;
	} else {
		rep_line(rep, true, "the cited events are in this vault's log",
		    NULL);
	}
	if ((r = ks_open(v, &ks)) != ERR_OK)
		return r;
	for (size_t i = 0; i < c->n_destroyed; i++) {
		const struct audit_cert_doc *d = &c->destroyed[i];
		const char *slash = strrchr(d->file, '/');
		bool gone = true;
		if (strncmp(d->file, "cases/", 6) != 0 || slash == NULL ||
		    strstr(d->file, "..") != NULL ||
		    fsx_join(path, sizeof(path), vault_dir(v), d->file) !=
		        ERR_OK)
			gone = false;
		else if (lstat(path, &sb) == 0 || errno != ENOENT)
			gone = false;
		if (!gone) {
			rep_line(rep, false,
			    "ciphertext file is gone:", d->file);
			result = ERR_CORRUPT;
		}
		if (ks_count(ks,
		        "SELECT COUNT(*) FROM doc_keys WHERE doc_id = ?",
		        slash != NULL ? slash + 1 : "", -1, &n) != ERR_OK ||
		    n != 0) {
			rep_line(rep, false,
			    "document key is gone:", d->key_id);
			result = ERR_CORRUPT;
		}
	}
	/* a superseded return rekeyed the case, which lives on */
	if (!cert_cites(c, "case.rekey") &&
	    (ks_count(ks, "SELECT COUNT(*) FROM case_secrets WHERE case_id = ?",
	         c->f[AUDIT_CERT_CASE], -1, &n) != ERR_OK ||
	        n != 0)) {
		rep_line(rep, false, "case secret is gone", NULL);
		result = ERR_CORRUPT;
	}
	sqlite3_close(ks);
	if (result == ERR_OK)
		rep_line(rep, true,
		    "ciphertext files and sealed keys named are gone", NULL);
	return result;
}

/* ---- scrub ---- */

static enum err
hash_file(const char *path, uint8_t out[static CRY_HASH_LEN], bool *missing)
{
	struct cry_sha256 h;
	uint8_t buf[65536];
	ssize_t n;
	int fd;
	enum err r;

	*missing = false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*missing = errno == ENOENT;
		return *missing ? ERR_NOT_FOUND : ERR_IO;
	}
	if ((r = cry_sha256_init(&h)) != ERR_OK) {
		close(fd);
		return r;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		cry_sha256_update(&h, buf, (size_t)n);
	close(fd);
	if (n < 0) {
		cry_sha256_release(&h);
		return ERR_IO;
	}
	cry_sha256_final(&h, out);
	return ERR_OK;
}

static bool
known_file(const struct vault_doc_info *d, size_t n, const char *case_id,
    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].case_id, case_id) == 0 &&
		    strcmp(d[i].id, name) == 0 &&
		    strcmp(d[i].state, "erased") != 0)
			return true;
	return false;
}

enum err
vault_scrub(struct vault *v,
    void (*progress)(void *ctx, uint64_t done, uint64_t total), void *ctx,
    struct bytes *rep, uint64_t *checked)
{
	struct vault_doc_info *d = NULL;
	size_t n = 0;
	char path[4096], rel[128];
	uint8_t h[CRY_HASH_LEN];
	bool missing;
	enum err r, result = ERR_OK;
	DIR *top = NULL;
	struct dirent *de;

	*checked = 0;
	if ((r = docs_load(v, NULL, &d, &n)) != ERR_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		bool erased = strcmp(d[i].state, "erased") == 0;
		(void)snprintf(rel, sizeof(rel), "cases/%s/%s", d[i].case_id,
		    d[i].id);
		if ((r = fsx_join(path, sizeof(path), vault_dir(v), rel)) !=
		    ERR_OK)
			goto out;
		r = hash_file(path, h, &missing);
		if (progress != NULL)
			progress(ctx, i + 1, n);
		if (erased) {
			if (!missing) {
				(void)!bytes_printf(rep,
				    "UNEXPECTED %s: ciphertext of an erased "
				    "document is present (restored from a "
				    "copy?); its key is destroyed\n",
				    rel);
				result = ERR_CORRUPT;
			}
			continue;
		}
		(*checked)++;
		if (missing) {
			(void)!bytes_printf(rep, "MISSING %s\n", rel);
			result = ERR_CORRUPT;
		} else if (r != ERR_OK) {
			(void)!bytes_printf(rep, "UNREADABLE %s\n", rel);
			result = ERR_CORRUPT;
		} else if (!cry_equal(h, d[i].cipher_sha256, CRY_HASH_LEN)) {
			(void)!bytes_printf(rep,
			    "MISMATCH %s: SHA-256 differs "
			    "from the recorded one\n",
			    rel);
			result = ERR_CORRUPT;
		}
	}
	/* files no row knows */
	if ((r = fsx_join(path, sizeof(path), vault_dir(v), "cases")) != ERR_OK)
		goto out;
	top = opendir(path);
	while (top != NULL && (de = readdir(top)) != NULL) {
		char sub[4096];
		DIR *cd;
		struct dirent *fe;
		if (de->d_name[0] == '.')
			continue;
		if (fsx_join(sub, sizeof(sub), path, de->d_name) != ERR_OK)
			continue;
		if ((cd = opendir(sub)) == NULL) {
			(void)!bytes_printf(rep, "UNEXPECTED cases/%s\n",
			    de->d_name);
			result = ERR_CORRUPT;
			continue;
		}
		while ((fe = readdir(cd)) != NULL) {
			if (strcmp(fe->d_name, ".") == 0 ||
			    strcmp(fe->d_name, "..") == 0)
				continue;
			bool reported = false;
			if (known_file(d, n, de->d_name, fe->d_name))
				continue;
			/* an erased row's file was reported above */
			for (size_t i = 0; i < n && !reported; i++)
				reported =
				    strcmp(d[i].case_id, de->d_name) == 0 &&
				    strcmp(d[i].id, fe->d_name) == 0;
			if (!reported) {
				(void)!bytes_printf(rep,
				    "UNEXPECTED cases/%s/%s: no document "
				    "row\n",
				    de->d_name, fe->d_name);
				result = ERR_CORRUPT;
			}
		}
		closedir(cd);
	}
	if (top != NULL)
		closedir(top);
	r = result;
out:
	free(d);
	return r;
}

enum err
vault_case_certs(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const char *cert_id, const char *stage,
        struct span file),
    void *arg)
{
	sqlite3_stmt *st = NULL;
	enum err r;
	int rc;

	if (!id_ok(id))
		return ERR_NOT_FOUND;
	if ((r = db_prepare(vault_db(v),
	         "SELECT id, stage, certificate FROM case_certs"
	         " WHERE case_id = ? ORDER BY issued, id",
	         &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, id)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 2);
		const void *p = sqlite3_column_blob(st, 2);
		if ((r = fn(arg, (const char *)sqlite3_column_text(st, 0),
		         (const char *)sqlite3_column_text(st, 1),
		         span_of(p, n > 0 ? (size_t)n : 0))) != ERR_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

/* ---- the final stage ---- */

static enum err
now_or(const char *now_in, char out[static 32])
{
	time_t t;

	if (now_in == NULL) {
		now_str(out);
		return ERR_OK;
	}
	if (time_parse(now_in, &t) != ERR_OK)
		return ERR_INVALID;
	time_fmt(t, out);
	return ERR_OK;
}

enum err
vault_final_due(struct vault *v, const char *now_in,
    enum err (*fn)(void *arg, const char *case_id, const char *cert_id,
        const char *final_after),
    void *arg)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	enum err r;
	int rc;

	if ((r = now_or(now_in, now)) != ERR_OK)
		return r;
	if ((r = db_prepare(vault_db(v),
	         "SELECT c.case_id, c.id, c.final_after FROM case_certs c"
	         " WHERE c.stage = 'primary' AND c.final_after <= ? AND NOT"
	         " EXISTS (SELECT 1 FROM case_certs f WHERE f.supersedes ="
	         " c.id) ORDER BY c.final_after, c.id",
	         &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, now)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = fn(arg, (const char *)sqlite3_column_text(st, 0),
		         (const char *)sqlite3_column_text(st, 1),
		         (const char *)sqlite3_column_text(st, 2))) != ERR_OK)
			goto out;
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

struct primary {
	char id[32], final_after[32], case_id[VAULT_ID_MAX];
	bool has_final;
	int64_t old_epoch;
	struct bytes file;
};

static void
row_primary(sqlite3_stmt *st, void *arg)
{
	struct primary *p = arg;
	int n = sqlite3_column_bytes(st, 2);

	copy_col(st, 0, p->id, sizeof(p->id));
	copy_col(st, 1, p->final_after, sizeof(p->final_after));
	if (n > 0 && bytes_put(&p->file, sqlite3_column_blob(st, 2),
	                 (size_t)n) != ERR_OK)
		p->file.len = 0;
	p->old_epoch = sqlite3_column_int64(st, 3);
	copy_col(st, 4, p->case_id, sizeof(p->case_id));
}

static void
row_flag(sqlite3_stmt *st, void *arg)
{
	(void)st;
	*(bool *)arg = true;
}

/* Replaces every evidence proof with one against (hashes, size). */
static enum err
reprove(struct audit_cert *c, const uint8_t (*hashes)[CRY_HASH_LEN],
    uint64_t size, const struct audit_cert_tree *tree)
{
	uint8_t path[AUDIT_CERT_MAX_PATH][CRY_HASH_LEN];
	size_t n;
	enum err r;

	for (size_t i = 0; i < c->n_evidence; i++) {
		struct audit_cert_evidence *e = &c->evidence[i];
		if (e->index >= size ||
		    !cry_equal(hashes[e->index], e->leaf_hash, CRY_HASH_LEN))
			return ERR_CORRUPT; /* the log changed under us */
		if ((r = audit_cert_tree_prove(tree, e->index, path, &n)) !=
		    ERR_OK)
			return r;
		free(e->path);
		e->path = NULL;
		e->path_len = 0;
		if (n > 0) {
			if ((e->path = calloc(n, CRY_HASH_LEN)) == NULL)
				return ERR_NOMEM;
			memcpy(e->path, path, n * CRY_HASH_LEN);
		}
		e->path_len = n;
	}
	return ERR_OK;
}

enum err
vault_case_finalize(struct vault *v, const char *actor, const char *cert_id_in,
    const char *now_in, struct bytes *cert_out)
{
	struct primary p;
	struct audit_cert c;
	struct gather g;
	struct bytes vkey, cp, text, note, det;
	char now[32], issued[32], cert_id[32], origin[256], path[4096], hx[65];
	char line[AUDIT_CERT_VALUE_MAX];
	uint8_t root[CRY_HASH_LEN], check[CRY_HASH_LEN], h[CRY_HASH_LEN];
	uint64_t backup_days = 30;
	sqlite3_stmt *st = NULL;
	bool found = false, tx = false;
	const uint8_t *blank = NULL;
	const char *id;
	enum err r;
	int len;

	memset(&p, 0, sizeof(p));
	memset(&g, 0, sizeof(g));
	bytes_init(&p.file, AUDIT_CERT_MAX_FILE);
	bytes_init(&vkey, 4096);
	bytes_init(&cp, CRY_NOTE_MAX);
	bytes_init(&text, AUDIT_CERT_MAX_FILE);
	bytes_init(&note, AUDIT_CERT_MAX_FILE);
	bytes_init(&det, 4096);
	audit_cert_init(&c);
	if ((r = now_or(now_in, now)) != ERR_OK)
		goto out;
	if ((r = one_row(v,
	         "SELECT id, final_after, certificate, old_epoch, case_id"
	         " FROM case_certs WHERE id = ? AND stage = 'primary'",
	         cert_id_in, row_primary, &p, &found)) != ERR_OK)
		goto out;
	if (!found || p.file.len == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	id = p.case_id;
	if ((r = one_row(v, "SELECT 1 FROM case_certs WHERE supersedes = ?",
	         p.id, row_flag, &p.has_final, NULL)) != ERR_OK)
		goto out;
	if (p.has_final) {
		r = ERR_EXISTS;
		goto out;
	}
	if (strcmp(p.final_after, now) > 0) {
		r = ERR_PERM; /* keystore backups may still hold the epoch */
		goto out;
	}
	/* the primary certificate, checked as an auditor would */
	if ((r = fsx_join(path, sizeof(path), vault_dir(v), "keys/log.pub")) !=
	        ERR_OK ||
	    (r = fsx_read_file(path, 4096, &vkey)) != ERR_OK)
		goto out;
	while (vkey.len > 0 && vkey.p[vkey.len - 1] == '\n')
		vkey.p[--vkey.len] = 0;
	if ((r = audit_cert_verify(bytes_span(&p.file), (const char *)vkey.p,
	         &c, NULL)) != ERR_OK)
		goto out;
	/* a fresh checkpoint and proofs against it */
	if ((r = audit_checkpoint(vault_audit(v), 0, &cp, NULL)) != ERR_OK)
		goto out;
	for (size_t i = 0; i + 1 < cp.len; i++)
		if (cp.p[i] == '\n' && cp.p[i + 1] == '\n') {
			blank = cp.p + i + 1;
			break;
		}
	if (blank == NULL ||
	    (r = checkpoint_text(span_of(cp.p, (size_t)(blank - cp.p)), origin,
	         sizeof(origin), &g.size, root)) != ERR_OK)
		goto out;
	g.case_id = id;
	g.after = UINT64_MAX; /* no epoch.rotate wanted */
	g.have_rotate = true;
	if ((g.hashes = calloc((size_t)g.size, CRY_HASH_LEN)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = audit_events(vault_audit(v), 0, g.size - 1, gather_fn, &g)) !=
	    ERR_OK)
		goto out;
	if ((r = audit_cert_tree_new((const uint8_t(*)[CRY_HASH_LEN])g.hashes,
	         g.size, &g.tree)) != ERR_OK)
		goto out;
	audit_cert_tree_root_of(g.tree, check);
	if (!cry_equal(check, root, CRY_HASH_LEN)) {
		r = ERR_CORRUPT;
		goto out;
	}
	if ((r = reprove(&c, (const uint8_t(*)[CRY_HASH_LEN])g.hashes, g.size,
	         g.tree)) != ERR_OK)
		goto out;
	c.cp_size = g.size;
	memcpy(c.cp_root, root, CRY_HASH_LEN);
	bytes_clear(&c.checkpoint);
	if ((r = bytes_put(&c.checkpoint, cp.p, cp.len)) != ERR_OK)
		goto out;
	/* the new identity, stage and backups statement */
	now_str(issued);
	if ((r = next_cert_id(v, issued, cert_id)) != ERR_OK)
		goto out;
	if (config_u64(vault_config(v), "retention.keystore_backup_days", 30,
	        &backup_days) != ERR_OK)
		backup_days = 30;
	for (size_t i = 0; i < c.n_backups; i++)
		free(c.backups[i]);
	c.n_backups = 0;
	(void)snprintf(line, sizeof(line),
	    "keystore copies that held epoch e%lld were kept at most %llu "
	    "days (kura.conf retention.keystore_backup_days) and expired by "
	    "%s: no copy of a key that opens this case remains",
	    (long long)p.old_epoch, (unsigned long long)backup_days,
	    p.final_after);
	if ((r = audit_cert_add_line(&c, true, line)) != ERR_OK ||
	    (r = audit_cert_add_line(&c, true,
	         "data backups (kura.db, cases/) may hold ciphertext: "
	         "unreadable without the destroyed keys")) != ERR_OK ||
	    (r = audit_cert_set(&c, AUDIT_CERT_ID, cert_id)) != ERR_OK ||
	    (r = audit_cert_set(&c, AUDIT_CERT_ISSUED_AT, issued)) != ERR_OK ||
	    (r = audit_cert_set(&c, AUDIT_CERT_STAGE, "final")) != ERR_OK ||
	    (r = audit_cert_set(&c, AUDIT_CERT_SUPERSEDES, p.id)) != ERR_OK)
		goto out;
	if ((r = audit_cert_format(&c, &text)) != ERR_OK ||
	    (r = audit_sign_note(vault_audit(v), bytes_span(&text), &note)) !=
	        ERR_OK ||
	    (r = audit_cert_bundle(&c, bytes_span(&note), cert_out)) != ERR_OK)
		goto out;
	cry_sha256(cert_out->p, cert_out->len, h);
	hex_encode(h, CRY_HASH_LEN, hx);
	if ((r = vault_begin(v)) != ERR_OK)
		goto out;
	tx = true;
	if ((r = db_prepare(vault_db(v),
	         "INSERT INTO case_certs(id, case_id, stage, issued, sha256, "
	         "certificate, supersedes) VALUES (?, ?, 'final', ?, ?, ?, ?)",
	         &st)) != ERR_OK)
		goto out;
	if ((r = size_to_int(cert_out->len, &len)) != ERR_OK ||
	    (r = db_bind_text(st, 1, cert_id)) != ERR_OK ||
	    (r = db_bind_text(st, 2, id)) != ERR_OK ||
	    (r = db_bind_text(st, 3, issued)) != ERR_OK ||
	    sqlite3_bind_blob(st, 4, h, CRY_HASH_LEN, SQLITE_TRANSIENT) !=
	        SQLITE_OK ||
	    sqlite3_bind_blob(st, 5, cert_out->p, len, SQLITE_TRANSIENT) !=
	        SQLITE_OK ||
	    (r = db_bind_text(st, 6, p.id)) != ERR_OK) {
		r = r != ERR_OK ? r : ERR_DB;
		goto out;
	}
	r = db_run(vault_db(v), st);
	st = NULL;
	if (r != ERR_OK)
		goto out;
	if ((r = json_details(&det, "certificate_id", cert_id, "sha256", hx,
	         "stage", "final")) != ERR_OK ||
	    (r = event(v, actor, "cert.issue", id, NULL, (char *)det.p,
	         NULL)) != ERR_OK)
		goto out;
	if ((r = vault_commit(v)) != ERR_OK)
		goto out;
	tx = false;
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	if (tx)
		vault_rollback(v);
	gather_release(&g);
	audit_cert_release(&c);
	bytes_release(&p.file);
	bytes_release(&vkey);
	bytes_release(&cp);
	bytes_release(&text);
	bytes_release(&note);
	bytes_release(&det);
	return r;
}

enum err
vault_case_related(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const char *folder, const char *receipt,
        const char *case_id, const char *verdict, const char *created),
    void *arg)
{
	struct vault_case_info c;
	sqlite3_stmt *st = NULL;
	enum err r;
	int rc;

	if ((r = vault_case_info(v, id, &c)) != ERR_OK)
		return r;
	if (!have_intake(v))
		return ERR_OK;
	if ((r = db_prepare(vault_db(v), sql_related, &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, id)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char f[5][64];
		for (int i = 0; i < 5; i++)
			copy_col(st, i, f[i], sizeof(f[i]));
		if ((r = fn(arg, f[0], f[1], f[2], f[3], f[4])) != ERR_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}

enum err
vault_case_receipts(struct vault *v, const char *id,
    enum err (*fn)(void *arg, const char *name, struct span file), void *arg)
{
	sqlite3_stmt *st = NULL;
	enum err r;
	int rc;

	if (!id_ok(id))
		return ERR_NOT_FOUND;
	if (!have_intake(v))
		return ERR_OK;
	if ((r = db_prepare(vault_db(v),
	         "SELECT r.name, r.content FROM intake_submissions s"
	         " JOIN intake_results r ON r.account_id = s.account_id"
	         " AND r.name = s.name || '.receipt'"
	         " WHERE s.case_id = ? AND s.verdict = 'accepted'"
	         " ORDER BY s.id",
	         &st)) != ERR_OK)
		return r;
	if ((r = db_bind_text(st, 1, id)) != ERR_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 1);
		const void *p = sqlite3_column_blob(st, 1);
		if ((r = fn(arg, (const char *)sqlite3_column_text(st, 0),
		         span_of(p, n > 0 ? (size_t)n : 0))) != ERR_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_finalize(st);
	return r;
}
