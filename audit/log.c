/*
 * audit/log.c - the events table: schema, canonical leaves, O(log n)
 * appends, reading, and proofs from the stored subtree hashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/internal.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/banned.h"

/*
 * The triggers make the tables append-only for every writer that goes
 * through SQLite (tamper evidence covers anyone who edits the file).
 */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS audit_events("
    " seq INTEGER PRIMARY KEY,"
    " time TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " case_id TEXT,"
    " document_id TEXT,"
    " account TEXT,"
    " details TEXT NOT NULL,"
    " leaf_hash BLOB NOT NULL,"
    " nodes BLOB NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update"
    " BEFORE UPDATE ON audit_events BEGIN"
    " SELECT RAISE(ABORT, 'audit events are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete"
    " BEFORE DELETE ON audit_events BEGIN"
    " SELECT RAISE(ABORT, 'audit events are append-only'); END;"
    "CREATE TABLE IF NOT EXISTS audit_checkpoints("
    " size INTEGER PRIMARY KEY,"
    " root BLOB NOT NULL,"
    " time TEXT NOT NULL,"
    " note TEXT NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_update"
    " BEFORE UPDATE ON audit_checkpoints BEGIN"
    " SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete"
    " BEFORE DELETE ON audit_checkpoints BEGIN"
    " SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;";

static const char ins_event_sql[] =
    "INSERT INTO audit_events(seq, time, actor, action, case_id,"
    " document_id, account, details, leaf_hash, nodes)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
/*
 * The append of the common case: the cached frontier is right exactly when
 * the row before ?1 holds the leaf we appended last (?11; otherwise time
 * becomes NULL and NOT NULL refuses the row), and the primary key refuses
 * ?1 if it exists. Checking that inside the INSERT spares a separate read
 * per event (tests/bench/b30-audit.sh); VALUES, not INSERT ... SELECT,
 * which would copy through a temporary table. The blobs compared are
 * public leaf hashes of our own table, not a secret-keyed check.
 */
static const char ins_next_sql[] =
    "INSERT INTO audit_events(seq, time, actor, action, case_id,"
    " document_id, account, details, leaf_hash, nodes)"
    " VALUES(?1, CASE WHEN (SELECT leaf_hash FROM audit_events"
    " WHERE seq = ?1 - 1) = ?11 THEN ?2 END, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
    " ?10)";
static const char sel_last_sql[] =
    "SELECT seq, leaf_hash FROM audit_events ORDER BY seq DESC LIMIT 1";
static const char sel_node_sql[] =
    "SELECT leaf_hash, nodes FROM audit_events WHERE seq = ?1";
static const char sel_range_sql[] =
    "SELECT seq, time, actor, action, case_id, document_id, account,"
    " details, leaf_hash, nodes FROM audit_events"
    " WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq";
static const char sel_action_sql[] =
    "SELECT action FROM audit_events WHERE seq = ?1";
static const char sel_ckpt_last_sql[] =
    "SELECT size, root, time, note FROM audit_checkpoints"
    " ORDER BY size DESC LIMIT 1";
static const char sel_ckpts_sql[] =
    "SELECT size, root, time, note FROM audit_checkpoints ORDER BY size";
static const char ins_ckpt_sql[] =
    "INSERT INTO audit_checkpoints(size, root, time, note)"
    " VALUES(?1, ?2, ?3, ?4)";

static enum err
db_err(struct audit *a, const char *what)
{
	log_err("audit: %s: %s", what, sqlite3_errmsg(a->db));
	return ERR_DB;
}

static enum err
prepare(struct audit *a, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(a->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	        NULL) != SQLITE_OK)
		return db_err(a, "prepare");
	return ERR_OK;
}

/*
 * Notes whether the events table exists without its four triggers (someone
 * dropped them): audit_verify reports it, since audit_open restores them.
 */
static enum err
check_triggers(struct audit *a)
{
	static const char sql[] =
	    "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name IN ('audit_events', 'audit_checkpoints')),"
	    " (SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
	    " AND name IN ('audit_events_no_update', 'audit_events_no_delete',"
	    " 'audit_checkpoints_no_update', 'audit_checkpoints_no_delete'))";
	sqlite3_stmt *st = NULL;
	enum err r = ERR_DB;

	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(a, "prepare");
	if (sqlite3_step(st) == SQLITE_ROW) {
		a->triggers_were_missing = sqlite3_column_int(st, 0) > 0 &&
		                           sqlite3_column_int(st, 1) < 4;
		r = ERR_OK;
	}
	sqlite3_finalize(st);
	return r;
}

enum err
audit_open(sqlite3 *db, const char *vault_dir, struct audit **out)
{
	struct audit *a = NULL;
	char *errmsg = NULL;
	enum err r = ERR_INTERNAL;

	*out = NULL;
	if (db == NULL || vault_dir == NULL)
		return ERR_INVALID;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ERR_NOMEM;
	a->db = db;
	if ((a->vault_dir = strdup(vault_dir)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = check_triggers(a)) != ERR_OK)
		goto out;
	if (sqlite3_exec(db, schema_sql, NULL, NULL, &errmsg) != SQLITE_OK) {
		log_err("audit: schema: %s", errmsg ? errmsg : "?");
		sqlite3_free(errmsg);
		r = ERR_DB;
		goto out;
	}
	if ((r = prepare(a, ins_event_sql, &a->ins_event)) != ERR_OK ||
	    (r = prepare(a, ins_next_sql, &a->ins_next)) != ERR_OK ||
	    (r = prepare(a, sel_last_sql, &a->sel_last)) != ERR_OK ||
	    (r = prepare(a, sel_node_sql, &a->sel_node)) != ERR_OK ||
	    (r = prepare(a, sel_range_sql, &a->sel_range)) != ERR_OK ||
	    (r = prepare(a, sel_action_sql, &a->sel_action)) != ERR_OK ||
	    (r = prepare(a, sel_ckpt_last_sql, &a->sel_ckpt_last)) != ERR_OK ||
	    (r = prepare(a, sel_ckpts_sql, &a->sel_ckpts)) != ERR_OK ||
	    (r = prepare(a, ins_ckpt_sql, &a->ins_ckpt)) != ERR_OK)
		goto out;
	*out = a;
	a = NULL; /* transferred */
	r = ERR_OK;
out:
	audit_close(a);
	return r;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	sqlite3_finalize(a->ins_event);
	sqlite3_finalize(a->ins_next);
	sqlite3_finalize(a->sel_last);
	sqlite3_finalize(a->sel_node);
	sqlite3_finalize(a->sel_range);
	sqlite3_finalize(a->sel_action);
	sqlite3_finalize(a->sel_ckpt_last);
	sqlite3_finalize(a->sel_ckpts);
	sqlite3_finalize(a->ins_ckpt);
	cry_secret_free(a->sk);
	free(a->vault_dir);
	mem_wipe(a, sizeof(*a));
	free(a);
}

uint64_t
audit_db_reads(const struct audit *a)
{
	return a->reads;
}

enum err
audit_now(char out[static AUDIT_TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL)
		return ERR_INTERNAL;
	n = snprintf(out, AUDIT_TIME_LEN + 1,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000);
	if (n != AUDIT_TIME_LEN)
		return ERR_INTERNAL;
	return ERR_OK;
}

/* audit_now, reusing the formatted date and time within one second. */
static enum err
now_cached(struct audit *a, char out[static AUDIT_TIME_LEN + 1])
{
	struct timespec ts;
	int ms;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return ERR_INTERNAL;
	if (!a->now_valid || ts.tv_sec != a->now_sec) {
		enum err r = audit_now(a->now_buf);
		if (r != ERR_OK)
			return r;
		a->now_sec = ts.tv_sec;
		a->now_valid = true;
	}
	memcpy(out, a->now_buf, AUDIT_TIME_LEN + 1);
	ms = (int)(ts.tv_nsec / 1000000);
	/* "....SS.mmmZ": the milliseconds are the three digits before 'Z'. */
	out[20] = (char)('0' + ms / 100);
	out[21] = (char)('0' + ms / 10 % 10);
	out[22] = (char)('0' + ms % 10);
	return ERR_OK;
}

/* ---- field rules and the canonical leaf ---- */

/*
 * Valid UTF-8 without C1 controls (U+0080..U+009F): nothing a terminal
 * showing `kura audit events` could take as a control sequence.
 */
static bool
utf8_no_c1(const uint8_t *p, size_t len)
{
	while (len > 0) {
		uint32_t cp = 0;
		size_t n = utf8_decode(p, len, &cp);
		if (n == 0 || (cp >= 0x80 && cp <= 0x9f))
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/* Non-empty, valid UTF-8, no control characters (so one line each). */
static bool
field_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	bool ascii = true;

	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		ascii &= c < 0x80;
	}
	return ascii || utf8_no_c1((const uint8_t *)s, len);
}

/* Actions are dotted lower-case words: "case.create". */
static bool
action_ok(const char *s)
{
	size_t len = strlen(s);
	bool dot = false;

	if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
			dot = true;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		               c == '_')) {
			return false;
		}
	}
	return dot;
}

/* A small strict JSON syntax check (RFC 8259), no whitespace but ' '. */
struct jv {
	const char *p, *end;
	int depth;
};

static bool jv_value(struct jv *j);

static void
jv_ws(struct jv *j)
{
	while (j->p < j->end && *j->p == ' ')
		j->p++;
}

static bool
jv_string(struct jv *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			c = (unsigned char)*j->p;
			if (c == 'u') {
				for (int i = 0; i < 4; i++) {
					j->p++;
					if (j->p >= j->end ||
					    strchr("0123456789abcdefABCDEF",
					        *j->p) == NULL)
						return false;
				}
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == 0) {
				return false;
			}
		}
		j->p++;
	}
	return false;
}

static bool
jv_number(struct jv *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return false;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return false;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool
jv_lit(struct jv *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool
jv_container(struct jv *j, char open, char close)
{
	bool first = true;

	if (++j->depth > 32)
		return false;
	j->p++; /* open */
	(void)open;
	for (;;) {
		jv_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		if (!first) {
			if (*j->p != ',')
				return false;
			j->p++;
			jv_ws(j);
		}
		first = false;
		if (close == '}') {
			if (!jv_string(j))
				return false;
			jv_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			j->p++;
			jv_ws(j);
		}
		if (!jv_value(j))
			return false;
	}
}

static bool
jv_value(struct jv *j)
{
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return jv_container(j, '{', '}');
	case '[':
		return jv_container(j, '[', ']');
	case '"':
		return jv_string(j);
	case 't':
		return jv_lit(j, "true");
	case 'f':
		return jv_lit(j, "false");
	case 'n':
		return jv_lit(j, "null");
	default:
		return jv_number(j);
	}
}

static bool
details_ok(const char *s)
{
	struct jv j;
	size_t len = strlen(s);

	bool ascii = true;

	if (len == 0 || len > AUDIT_DETAILS_MAX || s[0] != '{')
		return false;
	for (size_t i = 0; i < len; i++)
		ascii &= (unsigned char)s[i] < 0x80;
	if (!ascii && !utf8_no_c1((const uint8_t *)s, len))
		return false;
	j.p = s;
	j.end = s + len;
	j.depth = 0;
	if (!jv_value(&j))
		return false;
	return j.p == j.end;
}

static enum err
put_line(struct bytes *out, const char *key, const char *val)
{
	enum err r = bytes_put_str(out, key);

	return r == ERR_OK ? bytes_put_str(out, val) : r;
}

static const char *
opt(const char *s)
{
	return s != NULL && *s != 0 ? s : NULL;
}

enum err
audit_leaf_encode(uint64_t index, const char *time,
    const struct audit_event *ev, struct bytes *out)
{
	const char *det = opt(ev->details_json) ? ev->details_json : "{}";
	size_t old = out->len;
	enum err r = ERR_INVALID;

	if (index > MERKLE_MAX_SIZE || time == NULL ||
	    strlen(time) != AUDIT_TIME_LEN || !field_ok(time, AUDIT_TIME_LEN))
		return ERR_INVALID;
	if (ev->actor == NULL || !field_ok(ev->actor, AUDIT_FIELD_MAX) ||
	    ev->action == NULL || !action_ok(ev->action))
		return ERR_INVALID;
	if ((opt(ev->case_id) && !field_ok(ev->case_id, AUDIT_FIELD_MAX)) ||
	    (opt(ev->document_id) &&
	        !field_ok(ev->document_id, AUDIT_FIELD_MAX)) ||
	    (opt(ev->account) && !field_ok(ev->account, AUDIT_FIELD_MAX)))
		return ERR_INVALID;
	if (!details_ok(det))
		return ERR_INVALID;
	/* docs/audit.md: fixed order, absent ids leave out their line. */
	{
		char num[24];
		size_t k = sizeof(num);
		uint64_t v = index;
		do {
			num[--k] = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		r = bytes_put_str(out, "kura-audit-event/v1\nindex ");
		if (r == ERR_OK)
			r = bytes_put(out, num + k, sizeof(num) - k);
	}
	if (r == ERR_OK)
		r = put_line(out, "\ntime ", time);
	if (r == ERR_OK)
		r = put_line(out, "\nactor ", ev->actor);
	if (r == ERR_OK)
		r = put_line(out, "\naction ", ev->action);
	if (r == ERR_OK && opt(ev->case_id))
		r = put_line(out, "\ncase ", ev->case_id);
	if (r == ERR_OK && opt(ev->document_id))
		r = put_line(out, "\ndocument ", ev->document_id);
	if (r == ERR_OK && opt(ev->account))
		r = put_line(out, "\naccount ", ev->account);
	if (r == ERR_OK)
		r = put_line(out, "\ndetails ", det);
	if (r == ERR_OK)
		r = bytes_put_u8(out, '\n');
	if (r != ERR_OK)
		out->len = old;
	return r;
}

/* ---- stored nodes ---- */

static enum err
step_row(struct audit *a, sqlite3_stmt *st, bool *row)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		a->reads++;
		*row = true;
		return ERR_OK;
	}
	if (rc == SQLITE_DONE) {
		*row = false;
		return ERR_OK;
	}
	return db_err(a, "step");
}

enum err
audit_node_get(void *ctx, unsigned level, uint64_t index,
    uint8_t out[static CRY_HASH_LEN])
{
	struct audit *a = ctx;
	sqlite3_stmt *st = a->sel_node;
	uint64_t seq;
	const void *p;
	int n;
	bool row = false;
	enum err r = ERR_INTERNAL;

	if (level >= 63 || index > (MERKLE_MAX_SIZE >> level))
		return ERR_INVALID;
	seq = ((index + 1) << level) - 1;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if ((r = step_row(a, st, &row)) != ERR_OK)
		goto out;
	if (!row) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = ERR_CORRUPT;
	if (level == 0) {
		p = sqlite3_column_blob(st, 0);
		n = sqlite3_column_bytes(st, 0);
		if (p == NULL || n != CRY_HASH_LEN)
			goto out;
		memcpy(out, p, CRY_HASH_LEN);
	} else {
		p = sqlite3_column_blob(st, 1);
		n = sqlite3_column_bytes(st, 1);
		if (p == NULL || n < 0 || (size_t)n < level * CRY_HASH_LEN)
			goto out;
		memcpy(out, (const uint8_t *)p + (level - 1) * CRY_HASH_LEN,
		    CRY_HASH_LEN);
	}
	r = ERR_OK;
out:
	sqlite3_reset(st);
	return r;
}

/* The last row: its seq and leaf hash (row false when the log is empty). */
static enum err
last_row(struct audit *a, bool *row, uint64_t *seq,
    uint8_t leaf[static CRY_HASH_LEN])
{
	sqlite3_stmt *st = a->sel_last;
	enum err r = ERR_INTERNAL;

	sqlite3_reset(st);
	if ((r = step_row(a, st, row)) != ERR_OK || !*row)
		goto out;
	r = ERR_CORRUPT;
	if (sqlite3_column_int64(st, 0) < 0 ||
	    sqlite3_column_bytes(st, 1) != CRY_HASH_LEN ||
	    sqlite3_column_blob(st, 1) == NULL)
		goto out;
	*seq = (uint64_t)sqlite3_column_int64(st, 0);
	memcpy(leaf, sqlite3_column_blob(st, 1), CRY_HASH_LEN);
	r = ERR_OK;
out:
	sqlite3_reset(st);
	return r;
}

/*
 * Makes a->fr the frontier of the stored log. The cache is trusted only
 * when the last stored row is the one we appended last (a rolled-back
 * transaction or another writer changes it): then no read but that one.
 */
static enum err
frontier_sync(struct audit *a)
{
	uint8_t leaf[CRY_HASH_LEN];
	uint64_t seq = 0, n, start = 0;
	bool row = false;
	enum err r = ERR_INTERNAL;

	if ((r = last_row(a, &row, &seq, leaf)) != ERR_OK)
		return r;
	n = row ? seq + 1 : 0;
	if (a->cached && a->fr.size == n &&
	    (n == 0 || cry_equal(leaf, a->last_leaf, CRY_HASH_LEN)))
		return ERR_OK;
	a->cached = false;
	merkle_frontier_init(&a->fr);
	for (int l = 63; l >= 0; l--) {
		uint64_t w = (uint64_t)1 << l;
		if ((n & w) == 0)
			continue;
		r = audit_node_get(a, (unsigned)l, start >> l, a->fr.node[l]);
		if (r != ERR_OK)
			return r == ERR_NOT_FOUND ? ERR_CORRUPT : r;
		start += w;
	}
	a->fr.size = n;
	memcpy(a->last_leaf, leaf, CRY_HASH_LEN);
	a->cached = true;
	return ERR_OK;
}

static enum err
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	int n;

	if (s == NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? ERR_OK : ERR_DB;
	if (size_to_int(strlen(s), &n) != ERR_OK)
		return ERR_TOO_BIG;
	return sqlite3_bind_text(st, i, s, n, SQLITE_STATIC) == SQLITE_OK
	           ? ERR_OK
	           : ERR_DB;
}

static enum err
bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	int n;

	if (size_to_int(len, &n) != ERR_OK)
		return ERR_TOO_BIG;
	/* A zero-length blob, not NULL, for a leaf that completes nothing. */
	if (len == 0)
		return sqlite3_bind_zeroblob(st, i, 0) == SQLITE_OK ? ERR_OK
		                                                    : ERR_DB;
	return sqlite3_bind_blob(st, i, p, n, SQLITE_STATIC) == SQLITE_OK
	           ? ERR_OK
	           : ERR_DB;
}

/*
 * One attempt at appending ev with time now. fast: trust the cached
 * frontier and let the INSERT check it (*stale when it did not hold:
 * nothing was written); otherwise read the frontier first.
 */
static enum err
append_once(struct audit *a, const struct audit_event *ev, const char *now,
    bool fast, uint64_t *seq_out, bool *stale)
{
	struct bytes leaf;
	struct merkle_frontier next;
	uint8_t lh[CRY_HASH_LEN], done[64][CRY_HASH_LEN];
	unsigned ndone = 0;
	sqlite3_stmt *st = fast ? a->ins_next : a->ins_event;
	uint64_t seq;
	int rc;
	enum err r = ERR_INTERNAL;

	*stale = false;
	bytes_init(&leaf, AUDIT_LEAF_MAX);
	if (!fast && (r = frontier_sync(a)) != ERR_OK)
		goto out;
	seq = a->fr.size;
	if ((r = audit_leaf_encode(seq, now, ev, &leaf)) != ERR_OK) {
		log_err("audit: refusing a malformed event (action %s)",
		    ev->action && action_ok(ev->action) ? ev->action : "?");
		goto out;
	}
	merkle_leaf_hash(leaf.p, leaf.len, lh);
	next = a->fr;
	merkle_frontier_push(&next, lh, done, &ndone);
	/* Every parameter is bound on every call: no clear_bindings. */
	sqlite3_reset(st);
	r = ERR_DB;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)seq) != SQLITE_OK ||
	    bind_text(st, 2, now) != ERR_OK ||
	    bind_text(st, 3, ev->actor) != ERR_OK ||
	    bind_text(st, 4, ev->action) != ERR_OK ||
	    bind_text(st, 5, opt(ev->case_id)) != ERR_OK ||
	    bind_text(st, 6, opt(ev->document_id)) != ERR_OK ||
	    bind_text(st, 7, opt(ev->account)) != ERR_OK ||
	    bind_text(st, 8, opt(ev->details_json) ? ev->details_json : "{}") !=
	        ERR_OK ||
	    bind_blob(st, 9, lh, CRY_HASH_LEN) != ERR_OK ||
	    bind_blob(st, 10, done, (size_t)ndone * CRY_HASH_LEN) != ERR_OK ||
	    (fast && bind_blob(st, 11, a->last_leaf, CRY_HASH_LEN) != ERR_OK))
		goto out;
	rc = sqlite3_step(st);
	if (fast && (rc & 0xff) == SQLITE_CONSTRAINT) {
		/* Someone else appended, or our rows were rolled back. */
		a->cached = false;
		*stale = true;
		r = ERR_OK;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		r = db_err(a, "append");
		a->cached = false;
		goto out;
	}
	a->fr = next;
	memcpy(a->last_leaf, lh, CRY_HASH_LEN);
	*seq_out = seq;
	r = ERR_OK;
out:
	sqlite3_reset(st);
	bytes_release(&leaf);
	return r;
}

enum err
audit_append(struct audit *a, const struct audit_event *ev, uint64_t *index_out)
{
	char now[AUDIT_TIME_LEN + 1];
	uint64_t seq = 0;
	bool stale = false;
	enum err r = ERR_INTERNAL;

	if (index_out != NULL)
		*index_out = 0;
	if ((r = now_cached(a, now)) != ERR_OK)
		return r;
	if (a->cached && a->fr.size > 0) {
		if ((r = append_once(a, ev, now, true, &seq, &stale)) !=
		    ERR_OK)
			return r;
	} else {
		stale = true;
	}
	if (stale && (r = append_once(a, ev, now, false, &seq, &stale)) !=
	                 ERR_OK)
		return r;
	if (stale) /* only the fast path reports it */
		return ERR_INTERNAL;
	if (index_out != NULL)
		*index_out = seq;
	return ERR_OK;
}

enum err
audit_size(struct audit *a, uint64_t *size)
{
	uint8_t leaf[CRY_HASH_LEN];
	uint64_t seq = 0;
	bool row = false;
	enum err r;

	*size = 0;
	if ((r = last_row(a, &row, &seq, leaf)) != ERR_OK)
		return r;
	*size = row ? seq + 1 : 0;
	return ERR_OK;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

enum err
audit_events(struct audit *a, uint64_t from, uint64_t to, audit_record_fn fn,
    void *ctx)
{
	sqlite3_stmt *st = a->sel_range;
	struct audit_record rec;
	struct bytes leaf;
	bool row = false;
	enum err r = ERR_INTERNAL;

	bytes_init(&leaf, AUDIT_LEAF_MAX);
	if (to > MERKLE_MAX_SIZE)
		to = MERKLE_MAX_SIZE;
	if (from > to)
		return ERR_OK;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
	for (;;) {
		if ((r = step_row(a, st, &row)) != ERR_OK || !row)
			break;
		memset(&rec, 0, sizeof(rec));
		rec.index = (uint64_t)sqlite3_column_int64(st, 0);
		rec.time = col_text(st, 1);
		rec.ev.actor = col_text(st, 2);
		rec.ev.action = col_text(st, 3);
		rec.ev.case_id = col_text(st, 4);
		rec.ev.document_id = col_text(st, 5);
		rec.ev.account = col_text(st, 6);
		rec.ev.details_json = col_text(st, 7);
		bytes_clear(&leaf);
		if (rec.time == NULL || rec.ev.details_json == NULL ||
		    audit_leaf_encode(rec.index, rec.time, &rec.ev, &leaf) !=
		        ERR_OK) {
			log_err("audit: event %llu cannot be encoded",
			    (unsigned long long)rec.index);
			r = ERR_CORRUPT;
			break;
		}
		rec.leaf = bytes_span(&leaf);
		merkle_leaf_hash(leaf.p, leaf.len, rec.leaf_hash);
		if ((r = fn(ctx, &rec)) != ERR_OK)
			break;
	}
	sqlite3_reset(st);
	bytes_release(&leaf);
	return r;
}

/* ---- proofs ---- */

enum err
audit_b64_hash(const uint8_t h[static CRY_HASH_LEN], struct bytes *out)
{
	return cry_b64_encode(span_of(h, CRY_HASH_LEN), out);
}

enum err
audit_unb64_hash(const char *s, size_t len, uint8_t h[static CRY_HASH_LEN])
{
	struct bytes b;
	enum err r = ERR_INVALID;

	bytes_init(&b, 64);
	if (len != 44 || cry_b64_decode(s, len, &b) != ERR_OK ||
	    b.len != CRY_HASH_LEN)
		goto out;
	memcpy(h, b.p, CRY_HASH_LEN);
	r = ERR_OK;
out:
	bytes_release(&b);
	return r;
}

enum err
audit_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	*out = 0;
	if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
		return ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_INVALID;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > MERKLE_MAX_SIZE)
		return ERR_INVALID;
	*out = v;
	return ERR_OK;
}

static enum err
put_proof_hashes(const struct merkle_proof *p, struct bytes *out)
{
	enum err r = ERR_OK;

	for (size_t i = 0; i < p->n && r == ERR_OK; i++) {
		if ((r = audit_b64_hash(p->h[i], out)) == ERR_OK)
			r = bytes_put_u8(out, '\n');
	}
	return r;
}

static enum err
latest_checkpoint_size(struct audit *a, uint64_t *size, bool *have)
{
	sqlite3_stmt *st = a->sel_ckpt_last;
	bool row = false;
	enum err r;

	*have = false;
	*size = 0;
	sqlite3_reset(st);
	if ((r = step_row(a, st, &row)) == ERR_OK && row) {
		*have = true;
		*size = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return r;
}

enum err
audit_prove_inclusion(struct audit *a, uint64_t index, uint64_t size,
    struct bytes *out)
{
	struct merkle_proof p;
	uint8_t lh[CRY_HASH_LEN];
	uint64_t n = 0;
	bool have = false;
	size_t old = out->len;
	enum err r = ERR_INTERNAL;

	if ((r = audit_size(a, &n)) != ERR_OK)
		return r;
	if (size == 0) {
		if ((r = latest_checkpoint_size(a, &size, &have)) != ERR_OK)
			return r;
		if (!have)
			return ERR_NOT_FOUND;
	}
	if (size > n || index >= size)
		return ERR_INVALID;
	if ((r = audit_node_get(a, 0, index, lh)) != ERR_OK ||
	    (r = merkle_prove_inclusion(audit_node_get, a, index, size, &p)) !=
	        ERR_OK)
		return r == ERR_NOT_FOUND ? ERR_CORRUPT : r;
	r = bytes_printf(out,
	    "kura-audit-proof/v1\ninclusion\nindex %llu\nsize %llu\nleaf-hash ",
	    (unsigned long long)index, (unsigned long long)size);
	if (r == ERR_OK)
		r = audit_b64_hash(lh, out);
	if (r == ERR_OK)
		r = bytes_put_u8(out, '\n');
	if (r == ERR_OK)
		r = put_proof_hashes(&p, out);
	if (r != ERR_OK)
		out->len = old;
	return r;
}

enum err
audit_prove_consistency(struct audit *a, uint64_t size1, uint64_t size2,
    struct bytes *out)
{
	struct merkle_proof p;
	uint64_t n = 0;
	size_t old = out->len;
	enum err r = ERR_INTERNAL;

	if ((r = audit_size(a, &n)) != ERR_OK)
		return r;
	if (size1 == 0 || size1 > size2 || size2 > n)
		return ERR_INVALID;
	r = merkle_prove_consistency(audit_node_get, a, size1, size2, &p);
	if (r != ERR_OK)
		return r == ERR_NOT_FOUND ? ERR_CORRUPT : r;
	r = bytes_printf(out,
	    "kura-audit-proof/v1\nconsistency\nold %llu\nnew %llu\n",
	    (unsigned long long)size1, (unsigned long long)size2);
	if (r == ERR_OK)
		r = put_proof_hashes(&p, out);
	if (r != ERR_OK)
		out->len = old;
	return r;
}

enum err
audit_prove_tlog(struct audit *a, uint64_t index, uint64_t size,
    struct bytes *out)
{
	static const char sql[] =
	    "SELECT note FROM audit_checkpoints WHERE size = ?1";
	struct merkle_proof p;
	sqlite3_stmt *st = NULL;
	uint64_t n = 0;
	bool have = false, row = false;
	size_t old = out->len;
	enum err r = ERR_INTERNAL;

	if ((r = audit_size(a, &n)) != ERR_OK)
		return r;
	if (size == 0) {
		if ((r = latest_checkpoint_size(a, &size, &have)) != ERR_OK)
			return r;
		if (!have)
			return ERR_NOT_FOUND;
	}
	if (size > n || index >= size)
		return ERR_INVALID;
	if ((r = merkle_prove_inclusion(audit_node_get, a, index, size, &p)) !=
	    ERR_OK)
		return r == ERR_NOT_FOUND ? ERR_CORRUPT : r;
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(a, "prepare");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	if ((r = step_row(a, st, &row)) != ERR_OK)
		goto out;
	if (!row) {
		r = ERR_NOT_FOUND; /* no signed checkpoint of that size */
		goto out;
	}
	r = bytes_printf(out, "c2sp.org/tlog-proof@v1\nindex %llu\n",
	    (unsigned long long)index);
	if (r == ERR_OK)
		r = put_proof_hashes(&p, out);
	if (r == ERR_OK)
		r = bytes_put_u8(out, '\n');
	if (r == ERR_OK)
		r = bytes_put(out, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
out:
	sqlite3_finalize(st);
	if (r != ERR_OK)
		out->len = old;
	return r;
}
