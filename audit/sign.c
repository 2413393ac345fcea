/*
 * audit/sign.c - the log key (keys/log.key, keys/log.pub), signed notes
 * and checkpoints.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/internal.h"
#include "common/fsx.h"
#include "common/log.h"
#include "common/banned.h"

#define KEY_FILE_MAX 512

/* Origins (= key names): printable ASCII without spaces and '+'. */
static bool
origin_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= sizeof(((struct audit *)0)->origin))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '+')
			return false;
	}
	return true;
}

static enum err
key_paths(const char *vault_dir, char *keys, size_t keysz, char *sk,
    size_t sksz, char *pub, size_t pubsz)
{
	enum err r;

	if ((r = fsx_join(keys, keysz, vault_dir, "keys")) != ERR_OK ||
	    (r = fsx_join(sk, sksz, keys, "log.key")) != ERR_OK ||
	    (r = fsx_join(pub, pubsz, keys, "log.pub")) != ERR_OK)
		return r;
	return ERR_OK;
}

enum err
audit_keys_create(const char *vault_dir, const char *origin)
{
	char keys[4096], skp[4096], pubp[4096];
	uint8_t pk[CRY_SIGN_PK_LEN];
	struct cry_secret *sk = NULL;
	struct bytes file, vkey;
	struct stat st;
	enum err r = ERR_INTERNAL;

	bytes_init(&file, KEY_FILE_MAX);
	bytes_init(&vkey, AUDIT_VKEY_MAX);
	if (vault_dir == NULL || origin == NULL || !origin_ok(origin)) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = key_paths(vault_dir, keys, sizeof(keys), skp, sizeof(skp),
	         pubp, sizeof(pubp))) != ERR_OK)
		goto out;
	if (lstat(skp, &st) == 0) {
		r = ERR_EXISTS;
		goto out;
	}
	if ((r = fsx_mkdir(keys, 0700)) != ERR_OK)
		goto out;
	if ((r = cry_sign_keypair(pk, &sk)) != ERR_OK)
		goto out;
	/* docs/audit.md: "kura-log-key/v1 " base64(64-byte secret) "\n". */
	if ((r = bytes_put_str(&file, AUDIT_KEY_TAG " ")) != ERR_OK ||
	    (r = cry_b64_encode(
	         span_of(cry_secret_data(sk), cry_secret_len(sk)), &file)) !=
	        ERR_OK ||
	    (r = bytes_put_u8(&file, '\n')) != ERR_OK)
		goto out;
	if ((r = cry_vkey_format(origin, pk, &vkey)) != ERR_OK ||
	    (r = bytes_put_u8(&vkey, '\n')) != ERR_OK)
		goto out;
	/* log.pub first: a crash between the two leaves no orphan key. */
	if ((r = fsx_write_atomic(pubp, bytes_span(&vkey), 0644)) != ERR_OK ||
	    (r = fsx_write_atomic(skp, bytes_span(&file), 0600)) != ERR_OK)
		goto out;
	r = ERR_OK;
out:
	cry_secret_free(sk);
	bytes_release(&file);
	bytes_release(&vkey);
	return r;
}

enum err
audit_load_vkey(struct audit *a)
{
	char keys[4096], skp[4096], pubp[4096];
	struct bytes file, name;
	uint32_t keyid;
	enum err r = ERR_INTERNAL;

	if (a->have_vkey)
		return ERR_OK;
	bytes_init(&name, sizeof(a->origin));
	if ((r = key_paths(a->vault_dir, keys, sizeof(keys), skp, sizeof(skp),
	         pubp, sizeof(pubp))) != ERR_OK)
		return r;
	if ((r = fsx_read_file(pubp, AUDIT_VKEY_MAX, &file)) != ERR_OK)
		return r;
	while (file.len > 0 &&
	       (file.p[file.len - 1] == '\n' || file.p[file.len - 1] == '\r'))
		file.len--;
	r = ERR_CONFIG;
	if (file.len == 0 || file.len >= sizeof(a->vkey) ||
	    memchr(file.p, 0, file.len) != NULL)
		goto out;
	memcpy(a->vkey, file.p, file.len);
	a->vkey[file.len] = 0;
	if (cry_vkey_parse(a->vkey, &name, &keyid, a->pk) != ERR_OK ||
	    name.len == 0 || name.len >= sizeof(a->origin))
		goto out;
	memcpy(a->origin, name.p, name.len);
	a->origin[name.len] = 0;
	a->have_vkey = true;
	r = ERR_OK;
out:
	if (r != ERR_OK)
		log_err("audit: %s is not a verifier key", pubp);
	bytes_release(&file);
	bytes_release(&name);
	return r;
}

static enum err
load_signer(struct audit *a)
{
	char keys[4096], skp[4096], pubp[4096];
	struct bytes file, raw;
	struct stat st;
	size_t tag = strlen(AUDIT_KEY_TAG " ");
	enum err r = ERR_INTERNAL;

	if (a->sk != NULL)
		return ERR_OK;
	bytes_init(&raw, 128);
	bytes_init(&file, KEY_FILE_MAX);
	if ((r = audit_load_vkey(a)) != ERR_OK)
		return r;
	if ((r = key_paths(a->vault_dir, keys, sizeof(keys), skp, sizeof(skp),
	         pubp, sizeof(pubp))) != ERR_OK)
		return r;
	if (lstat(skp, &st) != 0)
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	if ((st.st_mode & 077) != 0) {
		log_err("audit: %s must not be readable by group or others",
		    skp);
		return ERR_PERM;
	}
	if ((r = fsx_read_file(skp, KEY_FILE_MAX, &file)) != ERR_OK)
		return r;
	r = ERR_CONFIG;
	if (file.len < tag + 2 || memcmp(file.p, AUDIT_KEY_TAG " ", tag) != 0 ||
	    file.p[file.len - 1] != '\n')
		goto out;
	if (cry_b64_decode((const char *)file.p + tag, file.len - tag - 1,
	        &raw) != ERR_OK ||
	    raw.len != CRY_SIGN_SK_LEN)
		goto out;
	/* The secret key's second half is its public key: it must be ours. */
	if (!cry_equal(raw.p + 32, a->pk, CRY_SIGN_PK_LEN)) {
		log_err("audit: log.key does not match log.pub");
		goto out;
	}
	if ((r = cry_secret_from(raw.p, raw.len, &a->sk)) != ERR_OK)
		goto out;
	r = ERR_OK;
out:
	if (r == ERR_CONFIG)
		log_err("audit: %s is not a log key", skp);
	bytes_release(&raw);
	bytes_release(&file);
	return r;
}

enum err
audit_signer_load(struct audit *a)
{
	return load_signer(a);
}

enum err
audit_sign_note(struct audit *a, struct span text, struct bytes *out)
{
	enum err r;

	if ((r = load_signer(a)) != ERR_OK)
		return r;
	return cry_note_sign(text, a->origin, a->sk, a->pk, out);
}

/* ---- checkpoints ---- */

enum err
audit_checkpoint_parse_text(struct span text, struct audit_checkpoint *out)
{
	const char *p = (const char *)text.p, *end = p + text.len, *nl;
	const char *line[3];
	size_t len[3];

	memset(out, 0, sizeof(*out));
	if (text.len == 0 || text.p[text.len - 1] != '\n')
		return ERR_INVALID;
	for (int i = 0; i < 3; i++) {
		if (p >= end ||
		    (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return ERR_INVALID;
		line[i] = p;
		len[i] = (size_t)(nl - p);
		p = nl + 1;
	}
	/* Extension lines are allowed by the spec but must be non-empty. */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || nl == p)
			return ERR_INVALID;
		p = nl + 1;
	}
	if (len[0] == 0 || len[0] >= sizeof(out->origin))
		return ERR_INVALID;
	/* Spaces are allowed (go.sum's "go.sum database tree"); our own
	 * origins are key names, which have none. */
	for (size_t i = 0; i < len[0]; i++) {
		unsigned char c = (unsigned char)line[0][i];
		if (c < 0x20 || c == 0x7f)
			return ERR_INVALID;
	}
	memcpy(out->origin, line[0], len[0]);
	out->origin[len[0]] = 0;
	if (audit_parse_u64(line[1], len[1], &out->size) != ERR_OK ||
	    audit_unb64_hash(line[2], len[2], out->root) != ERR_OK) {
		memset(out, 0, sizeof(*out));
		return ERR_INVALID;
	}
	return ERR_OK;
}

enum err
audit_checkpoint_open(struct span note, const char *vkey,
    struct audit_checkpoint *out)
{
	struct bytes name;
	struct span text;
	uint32_t keyid;
	uint8_t pk[CRY_SIGN_PK_LEN];
	enum err r = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	bytes_init(&name, 256);
	if ((r = cry_vkey_parse(vkey, &name, &keyid, pk)) != ERR_OK)
		goto out;
	if ((r = cry_note_verify(note, vkey, &text)) != ERR_OK)
		goto out;
	if ((r = audit_checkpoint_parse_text(text, out)) != ERR_OK)
		goto out;
	/* The log signs with a key named exactly like its origin. */
	r = ERR_INVALID;
	if (strlen(out->origin) != name.len ||
	    memcmp(out->origin, name.p, name.len) != 0)
		goto out;
	r = ERR_OK;
out:
	if (r != ERR_OK)
		memset(out, 0, sizeof(*out));
	bytes_release(&name);
	return r;
}

static enum err
exec(struct audit *a, const char *sql)
{
	if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_err("audit: %s: %s", sql, sqlite3_errmsg(a->db));
		return ERR_DB;
	}
	return ERR_OK;
}

/* The latest stored checkpoint: size, root, time and note. */
struct stored_ckpt {
	bool have;
	uint64_t size;
	uint8_t root[CRY_HASH_LEN];
	char time[AUDIT_TIME_LEN + 1];
};

static enum err
last_checkpoint(struct audit *a, struct stored_ckpt *c, struct bytes *note)
{
	sqlite3_stmt *st = a->sel_ckpt_last;
	const char *t;
	int rc;
	enum err r = ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	sqlite3_reset(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = ERR_OK;
		goto out;
	}
	r = ERR_DB;
	if (rc != SQLITE_ROW)
		goto out;
	a->reads++;
	r = ERR_CORRUPT;
	t = (const char *)sqlite3_column_text(st, 2);
	if (sqlite3_column_int64(st, 0) < 0 ||
	    sqlite3_column_bytes(st, 1) != CRY_HASH_LEN || t == NULL ||
	    strlen(t) != AUDIT_TIME_LEN)
		goto out;
	c->size = (uint64_t)sqlite3_column_int64(st, 0);
	memcpy(c->root, sqlite3_column_blob(st, 1), CRY_HASH_LEN);
	memcpy(c->time, t, AUDIT_TIME_LEN + 1);
	c->have = true;
	r = ERR_OK;
	if (note != NULL)
		r = bytes_put(note, sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3));
out:
	sqlite3_reset(st);
	return r;
}

static bool
action_is(struct audit *a, uint64_t seq, const char *action)
{
	sqlite3_stmt *st = a->sel_action;
	bool yes = false;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		a->reads++;
		yes = t != NULL && strcmp(t, action) == 0;
	}
	sqlite3_reset(st);
	return yes;
}

/* Seconds between two of our RFC 3339 times (coarse: days as 86400 s). */
static uint64_t
seconds_since(const char *then, const char *now)
{
	unsigned y1, mo1, d1, h1, mi1, s1, y2, mo2, d2, h2, mi2, s2;
	int64_t a, b;

	if (sscanf(then, "%4u-%2u-%2uT%2u:%2u:%2u", &y1, &mo1, &d1, &h1, &mi1,
	        &s1) != 6 ||
	    sscanf(now, "%4u-%2u-%2uT%2u:%2u:%2u", &y2, &mo2, &d2, &h2, &mi2,
	        &s2) != 6)
		return UINT64_MAX;
		/* Days from a civil date (Howard Hinnant's algorithm). */
#define DAYS(y, m, d)                                                          \
	((int64_t)(365 * ((y) - ((m) <= 2))) + ((y) - ((m) <= 2)) / 4 -        \
	    ((y) - ((m) <= 2)) / 100 + ((y) - ((m) <= 2)) / 400 +              \
	    (153 * ((m) > 2 ? (m)-3 : (m) + 9) + 2) / 5 + (d))
	a = DAYS(y1, mo1, d1) * 86400 + h1 * 3600 + mi1 * 60 + s1;
	b = DAYS(y2, mo2, d2) * 86400 + h2 * 3600 + mi2 * 60 + s2;
#undef DAYS
	return b >= a ? (uint64_t)(b - a) : 0;
}

enum err
audit_checkpoint(struct audit *a, uint64_t min_interval_s,
    struct bytes *note_out, bool *made)
{
	struct stored_ckpt last;
	struct bytes body, note, det;
	struct merkle_proof p;
	uint8_t root[CRY_HASH_LEN];
	char now[AUDIT_TIME_LEN + 1];
	struct audit_event ev = {0};
	uint64_t n = 0;
	bool in_txn = false;
	/* Inside the caller's transaction a savepoint, else our own. */
	bool nested = sqlite3_get_autocommit(a->db) == 0;
	sqlite3_stmt *st = a->ins_ckpt;
	int blen;
	enum err r = ERR_INTERNAL;

	bytes_init(&body, 1024);
	bytes_init(&note, 8192);
	bytes_init(&det, 1024);
	if (made != NULL)
		*made = false;
	if ((r = load_signer(a)) != ERR_OK)
		goto out;
	if ((r = exec(a, nested ? "SAVEPOINT audit_checkpoint"
	                        : "BEGIN IMMEDIATE")) != ERR_OK)
		goto out;
	in_txn = true;
	if ((r = audit_size(a, &n)) != ERR_OK ||
	    (r = last_checkpoint(a, &last, &note)) != ERR_OK ||
	    (r = audit_now(now)) != ERR_OK)
		goto out;
	/* Grown = events other than the last checkpoint's own record. */
	if (last.have && (n == last.size || (n == last.size + 1 &&
	                                        action_is(a, last.size,
	                                            "checkpoint.create")))) {
		r = ERR_OK;
		goto out;
	}
	if (last.have && min_interval_s > 0 &&
	    seconds_since(last.time, now) < min_interval_s) {
		r = ERR_OK;
		goto out;
	}
	bytes_clear(&note);
	if ((r = merkle_root(audit_node_get, a, n, root)) != ERR_OK)
		goto out;
	/* C2SP: a log must never sign two inconsistent checkpoints. */
	if (last.have && last.size > 0) {
		uint8_t cur[CRY_HASH_LEN];
		if (last.size > n) {
			log_err("audit: the log is shorter than its last "
			        "checkpoint");
			r = ERR_CORRUPT;
			goto out;
		}
		if ((r = merkle_prove_consistency(audit_node_get, a, last.size,
		         n, &p)) != ERR_OK)
			goto out;
		memcpy(cur, root, sizeof(cur));
		if ((r = merkle_verify_consistency(last.size, n, last.root, cur,
		         &p)) != ERR_OK) {
			log_err("audit: the log is not consistent with its "
			        "last checkpoint; not signing");
			goto out;
		}
	}
	if ((r = bytes_printf(&body, "%s\n%llu\n", a->origin,
	         (unsigned long long)n)) != ERR_OK ||
	    (r = audit_b64_hash(root, &body)) != ERR_OK ||
	    (r = bytes_put_u8(&body, '\n')) != ERR_OK)
		goto out;
	if ((r = cry_note_sign(bytes_span(&body), a->origin, a->sk, a->pk,
	         &note)) != ERR_OK)
		goto out;
	if ((r = size_to_int(note.len, &blen)) != ERR_OK)
		goto out;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	sqlite3_bind_blob(st, 2, root, CRY_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, AUDIT_TIME_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, (const char *)note.p, blen, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("audit: checkpoint: %s", sqlite3_errmsg(a->db));
		sqlite3_reset(st);
		r = ERR_DB;
		goto out;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if ((r = bytes_printf(&det, "{\"size\":%llu,\"root\":\"",
	         (unsigned long long)n)) != ERR_OK ||
	    (r = audit_b64_hash(root, &det)) != ERR_OK ||
	    (r = bytes_put_str(&det, "\"}")) != ERR_OK)
		goto out;
	ev.actor = "system";
	ev.action = "checkpoint.create";
	ev.details_json = (const char *)det.p;
	if ((r = audit_append(a, &ev, NULL)) != ERR_OK)
		goto out;
	if ((r = exec(a, nested ? "RELEASE audit_checkpoint" : "COMMIT")) !=
	    ERR_OK)
		goto out;
	in_txn = false;
	if (made != NULL)
		*made = true;
	r = ERR_OK;
out:
	if (in_txn) {
		/* Read-only outcome commits; failures roll back. */
		if (r == ERR_OK) {
			r = exec(a,
			    nested ? "RELEASE audit_checkpoint" : "COMMIT");
		} else if (nested) {
			if (exec(a, "ROLLBACK TO audit_checkpoint") == ERR_OK)
				(void)exec(a, "RELEASE audit_checkpoint");
		} else {
			(void)exec(a, "ROLLBACK");
		}
	}
	if (r == ERR_OK)
		r = bytes_put(note_out, note.p, note.len);
	bytes_release(&body);
	bytes_release(&note);
	bytes_release(&det);
	return r;
}
