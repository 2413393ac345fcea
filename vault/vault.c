/*
 * vault/vault.c - creating, opening and recovering a vault; transactions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/log.h"
#include "vault/internal.h"
#include "common/banned.h"

static const char default_conf[] =
    "# kura.conf - settings of this vault (kura init wrote it).\n"
    "# Lines are \"key = value\"; '#' starts a comment. A commented line\n"
    "# shows the default that applies while it stays commented.\n"
    "\n"
    "# Audit log origin: the first line of every signed checkpoint, and the\n"
    "# name in keys/log.pub. Fixed at init; do not change it afterwards.\n"
    "log.origin = %s\n"
    "\n"
    "# SFTP intake (kura serve)\n"
    "# listen = 127.0.0.1:2222\n"
    "# serve.max_sessions = 64\n"
    "# serve.login_grace_seconds = 60\n"
    "\n"
    "# Per-account limits\n"
    "# limits.max_upload_bytes = 4294967296\n"
    "# limits.quota_bytes = 17179869184\n"
    "# limits.sessions_per_account = 4\n"
    "# limits.max_files = 10000\n"
    "# limits.failed_logins_before_lockout = 10\n"
    "# limits.lockout_seconds = 900\n"
    "\n"
    "# Certification scheme\n"
    "# scheme.prefix = AI\n"
    "# receipt.format = YYYY-NNNNNN\n"
    "\n"
    "# Retention (RULES R7, R9, R10)\n"
    "# retention.validity_years = 2\n"
    "# retention.not_certified_days = 30\n"
    "# retention.keystore_backup_days = 30\n"
    "# retention.two_person_rule = false\n"
    "\n"
    "# E-mail (receipts)\n"
    "# mail.relay = 127.0.0.1:25\n"
    "# mail.from = kura@localhost\n";

void
vault_now(char out[static VAULT_TIME_LEN])
{
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, VAULT_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		memcpy(out, "1970-01-01T00:00:00Z", VAULT_TIME_LEN);
}

enum err
vault_path(const struct vault *v, char *out, size_t outsz, const char *a,
    const char *b, const char *c)
{
	int n;

	if (c != NULL)
		n = snprintf(out, outsz, "%s/%s/%s/%s", v->dir, a, b, c);
	else if (b != NULL)
		n = snprintf(out, outsz, "%s/%s/%s", v->dir, a, b);
	else
		n = snprintf(out, outsz, "%s/%s", v->dir, a);
	return n < 0 || (size_t)n >= outsz ? ERR_TOO_BIG : ERR_OK;
}

sqlite3 *
vault_db(struct vault *v)
{
	return v->db;
}

struct audit *
vault_audit(struct vault *v)
{
	return v->audit;
}

const struct config *
vault_config(const struct vault *v)
{
	return v->cfg;
}

const char *
vault_dir(const struct vault *v)
{
	return v->dir;
}

/* ---- transactions ---- */

enum err
vault_begin(struct vault *v)
{
	enum err r;

	if (v->in_tx)
		return ERR_INVALID;
	if ((r = db_exec(v->db, "BEGIN IMMEDIATE")) != ERR_OK)
		return r;
	v->in_tx = true;
	return ERR_OK;
}

static void
pend_free(struct pend *p)
{
	while (p != NULL) {
		struct pend *n = p->next;
		if (p->fd >= 0)
			close(p->fd);
		free(p);
		p = n;
	}
}

enum err
vault_commit(struct vault *v)
{
	enum err r;
	struct pend *list;

	if (!v->in_tx)
		return ERR_INVALID;
	/* Bodies, folders, then sealed keys are durable before the rows. */
	if ((r = doc_sync_pending(v, v->pend)) != ERR_OK ||
	    (r = vault_ks_flush(v)) != ERR_OK ||
	    (r = db_exec(v->db, "COMMIT")) != ERR_OK) {
		vault_rollback(v);
		return r;
	}
	v->in_tx = false;
	list = v->pend;
	v->pend = NULL;
	r = doc_destroy_pending(v, list);
	pend_free(list);
	return r;
}

void
vault_rollback(struct vault *v)
{
	struct pend *list;

	if (!v->in_tx)
		return;
	if (sqlite3_get_autocommit(v->db) == 0)
		IGNORE(db_exec(v->db, "ROLLBACK"));
	if (v->ks_tx && sqlite3_get_autocommit(v->ks) == 0)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	v->ks_tx = false;
	v->in_tx = false;
	list = v->pend;
	v->pend = NULL;
	doc_undo_pending(v, list);
	pend_free(list);
}

enum err
vault_ks_batch(struct vault *v, bool *batched)
{
	enum err r;

	*batched = false;
	if (!v->in_tx)
		return ERR_OK;
	if (!v->ks_tx) {
		if ((r = db_exec(v->ks, "BEGIN IMMEDIATE")) != ERR_OK)
			return r;
		v->ks_tx = true;
	}
	*batched = true;
	return ERR_OK;
}

enum err
vault_ks_begin(struct vault *v)
{
	enum err r;

	if ((r = vault_ks_flush(v)) != ERR_OK)
		return r;
	return db_exec(v->ks, "BEGIN IMMEDIATE");
}

enum err
vault_ks_flush(struct vault *v)
{
	enum err r;

	if (!v->ks_tx)
		return ERR_OK;
	v->ks_tx = false;
	if ((r = db_exec(v->ks, "COMMIT")) != ERR_OK) {
		if (sqlite3_get_autocommit(v->ks) == 0)
			IGNORE(db_exec(v->ks, "ROLLBACK"));
		return r;
	}
	return ERR_OK;
}

enum err
vault_tx_enter(struct vault *v, bool *own)
{
	*own = false;
	if (v->in_tx)
		return ERR_OK;
	*own = true;
	return vault_begin(v);
}

enum err
vault_tx_leave(struct vault *v, bool own, enum err r)
{
	if (!own)
		return r;
	if (r != ERR_OK) {
		vault_rollback(v);
		return r;
	}
	return vault_commit(v);
}

enum err
vault_pend_add(struct vault *v, enum pend_kind kind, const char *case_id,
    const char *doc_id)
{
	struct pend *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return ERR_NOMEM;
	p->kind = kind;
	p->fd = -1;
	if (case_id != NULL)
		(void)snprintf(p->case_id, sizeof(p->case_id), "%s", case_id);
	if (doc_id != NULL)
		(void)snprintf(p->doc_id, sizeof(p->doc_id), "%s", doc_id);
	p->next = v->pend;
	v->pend = p;
	return ERR_OK;
}

enum err
vault_audit_event(struct vault *v, const char *actor, const char *action,
    const char *case_id, const char *doc_id, const char *details_json,
    uint64_t *index)
{
	struct audit_event ev = {
	    .actor = actor != NULL ? actor : "system",
	    .action = action,
	    .case_id = case_id,
	    .document_id = doc_id,
	    .account = NULL,
	    .details_json = details_json,
	};
	enum err r;

	if (index != NULL)
		*index = 0;
	if ((r = audit_append(v->audit, &ev, index)) != ERR_OK)
		log_err_r(r, "audit %s", action);
	return r;
}

enum err
vault_schema_apply(struct vault *v, const char *module,
    const char *const *steps, size_t nsteps)
{
	if (v->in_tx || module == NULL || strcmp(module, "vault") == 0)
		return ERR_INVALID;
	return db_schema_apply(v->db, module, steps, nsteps);
}

/* ---- open / close ---- */

void
vault_close(struct vault *v)
{
	if (v == NULL)
		return;
	vault_rollback(v);
	audit_close(v->audit);
	sqlite3_close(v->db);
	sqlite3_close(v->ks);
	config_free(v->cfg);
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	free(v->dir);
	free(v);
}

enum err
vault_open(const char *dir, unsigned flags, struct vault **out)
{
	enum err r = ERR_INTERNAL;
	struct vault *v = NULL;
	char path[VAULT_PATH_MAX];
	struct vault_recover_report rep;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	v->lock_fd = -1;
	if ((v->dir = strdup(dir)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = vault_path(v, path, sizeof(path), "kura.db", NULL, NULL)) !=
	    ERR_OK)
		goto out;
	if (access(path, F_OK) != 0) {
		log_err("%s: not a kura vault (no kura.db)", dir);
		r = ERR_NOT_FOUND;
		goto out;
	}
	if ((r = vault_path(v, path, sizeof(path), "kura.lock", NULL, NULL)) !=
	    ERR_OK)
		goto out;
	/* Shared by every user of the vault; recovery needs it exclusively. */
	v->lock_fd =
	    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (v->lock_fd < 0 || flock(v->lock_fd, LOCK_SH) != 0) {
		log_err("%s: %s", path, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if ((r = vault_path(v, path, sizeof(path), "kura.conf", NULL, NULL)) !=
	    ERR_OK)
		goto out;
	if ((r = config_load(path, &v->cfg)) != ERR_OK) {
		log_err_r(r, "%s", path);
		goto out;
	}
	if ((r = vault_path(v, path, sizeof(path), "kura.db", NULL, NULL)) !=
	        ERR_OK ||
	    (r = db_open(path, false, false, &v->db)) != ERR_OK)
		goto out;
	if ((r = vault_path(v, path, sizeof(path), "keys", "keystore.db",
	         NULL)) != ERR_OK ||
	    (r = db_open(path, false, true, &v->ks)) != ERR_OK)
		goto out;
	if ((r = db_schema_vault(v->db)) != ERR_OK)
		goto out;
	if ((r = audit_open(v->db, v->dir, &v->audit)) != ERR_OK) {
		log_err_r(r, "%s", "audit log");
		goto out;
	}
	if ((flags & VAULT_OPEN_RECOVER) != 0) {
		r = vault_recover(v, &rep);
		if (r == ERR_PERM)
			log_info("vault in use by another process: "
			         "recovery skipped");
		else if (r != ERR_OK)
			goto out;
	}
	*out = v;
	v = NULL;
	r = ERR_OK;
out:
	vault_close(v);
	return r;
}

/* ---- init ---- */

/* Removes what vault_init made (only our own names, two levels deep). */
static void
init_cleanup(const char *dir, bool made_dir)
{
	static const char *const files[] = {"kura.conf", "kura.db",
	    "kura.db-wal", "kura.db-shm", "kura.lock", "keys/keystore.db",
	    "keys/keystore.db-wal", "keys/keystore.db-shm", "keys/epoch.pub",
	    "keys/log.key", "keys/log.pub", "keys/ssh_host_ed25519_key",
	    "keys/ssh_host_ed25519_key.pub"};
	static const char *const dirs[] = {"keys", "cases", "staging"};
	char path[VAULT_PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (fsx_join(path, sizeof(path), dir, files[i]) == ERR_OK)
			(void)unlink(path);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (fsx_join(path, sizeof(path), dir, dirs[i]) == ERR_OK)
			(void)rmdir(path);
	if (made_dir)
		(void)rmdir(dir);
}

static enum err
init_dir(const char *dir, bool *made)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	bool empty = true;

	*made = false;
	if (lstat(dir, &sb) != 0) {
		if (errno != ENOENT)
			return ERR_IO;
		if (mkdir(dir, 0700) != 0) {
			log_err("mkdir %s: %s", dir, strerror(errno));
			return ERR_IO;
		}
		*made = true;
		return ERR_OK;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_err("%s exists and is not a folder", dir);
		return ERR_EXISTS;
	}
	if ((d = opendir(dir)) == NULL)
		return ERR_IO;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	if (!empty) {
		log_err("%s is not empty: refusing to touch it", dir);
		return ERR_EXISTS;
	}
	if (chmod(dir, 0700) != 0)
		return ERR_IO;
	return ERR_OK;
}

static enum err
default_origin(char *out, size_t outsz)
{
	char host[256] = "localhost";
	size_t j = 0;
	int n;

	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == 0)
		(void)snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	/* An origin is one line without spaces or '+' (signed-note names). */
	for (size_t i = 0; host[i] != 0; i++)
		if ((host[i] >= 'a' && host[i] <= 'z') ||
		    (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || host[i] == '.' ||
		    host[i] == '-')
			host[j++] = host[i];
	host[j] = 0;
	n = snprintf(out, outsz, "%s/kura", j > 0 ? host : "localhost");
	return n < 0 || (size_t)n >= outsz ? ERR_TOO_BIG : ERR_OK;
}

enum err
vault_init(const char *dir, const struct vault_init_opts *opts)
{
	enum err r = ERR_INTERNAL;
	bool made = false, started = false;
	char path[VAULT_PATH_MAX], origin[300];
	const char *staff;
	struct bytes conf;
	sqlite3 *db = NULL, *ks = NULL;
	struct cry_secret *epoch_sk = NULL;
	uint8_t epoch_pk[CRY_BOX_PK_LEN];
	struct vault *v = NULL;
	char details[400];

	bytes_init(&conf, 1 << 16);
	if (opts == NULL || opts->passphrase == NULL)
		return ERR_INVALID;
	staff = opts->staff_name != NULL ? opts->staff_name : "admin";
	if (!keys_staff_name_ok(staff)) {
		log_err("invalid staff name (use A-Z a-z 0-9 . _ -)");
		return ERR_INVALID;
	}
	if (opts->log_origin != NULL) {
		if (strlen(opts->log_origin) >= sizeof(origin) ||
		    strpbrk(opts->log_origin, " \t\r\n+") != NULL ||
		    opts->log_origin[0] == 0)
			return ERR_INVALID;
		(void)snprintf(origin, sizeof(origin), "%s", opts->log_origin);
	} else if ((r = default_origin(origin, sizeof(origin))) != ERR_OK)
		return r;
	if ((r = init_dir(dir, &made)) != ERR_OK)
		return r;
	started = true;
#define P(name)                                                                \
	do {                                                                   \
		if ((r = fsx_join(path, sizeof(path), dir, name)) != ERR_OK)   \
			goto out;                                              \
	} while (0)
	P("keys");
	if ((r = fsx_mkdir(path, 0700)) != ERR_OK)
		goto out;
	P("cases");
	if ((r = fsx_mkdir(path, 0700)) != ERR_OK)
		goto out;
	P("staging");
	if ((r = fsx_mkdir(path, 0700)) != ERR_OK)
		goto out;
	if ((r = bytes_printf(&conf, default_conf, origin)) != ERR_OK)
		goto out;
	P("kura.conf");
	if ((r = fsx_write_atomic(path, bytes_span(&conf), 0600)) != ERR_OK)
		goto out;
	/* The keystore first: staff and the first epoch. */
	P("keys/keystore.db");
	if ((r = db_open(path, true, true, &ks)) != ERR_OK)
		goto out;
	if (chmod(path, 0600) != 0) {
		r = ERR_IO;
		goto out;
	}
	if ((r = cry_box_keypair(epoch_pk, &epoch_sk)) != ERR_OK)
		goto out;
	{
		char now[VAULT_TIME_LEN];

		vault_now(now);
		if ((r = db_exec(ks, "BEGIN IMMEDIATE")) != ERR_OK)
			goto out;
		if ((r = db_do(ks,
		         "INSERT INTO epochs(id, pk, created) VALUES (1, ?, ?)",
		         DB_BLOB(epoch_pk, sizeof(epoch_pk)), DB_TEXT(now))) !=
		    ERR_OK)
			goto out;
		if ((r = keys_staff_create(ks, staff, opts->passphrase,
		         epoch_sk, 1, epoch_pk)) != ERR_OK)
			goto out;
		if ((r = db_exec(ks, "COMMIT")) != ERR_OK)
			goto out;
	}
	if ((r = keys_write_epoch_pub(dir, epoch_pk)) != ERR_OK)
		goto out;
	P("kura.db");
	if ((r = db_open(path, true, false, &db)) != ERR_OK)
		goto out;
	if (chmod(path, 0600) != 0) {
		r = ERR_IO;
		goto out;
	}
	if ((r = db_schema_vault(db)) != ERR_OK)
		goto out;
	sqlite3_close(db);
	db = NULL;
	sqlite3_close(ks);
	ks = NULL;
	if ((r = audit_keys_create(dir, origin)) != ERR_OK) {
		log_err_r(r, "%s", "log key");
		goto out;
	}
	/* DESIGN.md: every file under keys/ is 0600, public halves too. */
	P("keys/log.pub");
	if (chmod(path, 0600) != 0) {
		r = ERR_IO;
		goto out;
	}
	P("keys/ssh_host_ed25519_key");
	if ((r = vault_hostkey_create(path)) != ERR_OK)
		goto out;
	P("keys");
	if ((r = fsx_fsync_dir(path)) != ERR_OK ||
	    (r = fsx_fsync_dir(dir)) != ERR_OK)
		goto out;
	/* The first events of the log. */
	if ((r = vault_open(dir, 0, &v)) != ERR_OK)
		goto out;
	if ((r = vault_begin(v)) != ERR_OK)
		goto out;
	(void)snprintf(details, sizeof(details),
	    "{\"origin\":\"%s\",\"epoch\":1}", origin);
	if ((r = vault_audit_event(v, staff, "vault.init", NULL, NULL, details,
	         NULL)) != ERR_OK ||
	    (r = vault_audit_event(v, staff, "staff.add", NULL, NULL,
	         "{\"first\":true}", NULL)) != ERR_OK) {
		vault_rollback(v);
		goto out;
	}
	if ((r = vault_commit(v)) != ERR_OK)
		goto out;
#undef P
	r = ERR_OK;
out:
	vault_close(v);
	sqlite3_close(db);
	sqlite3_close(ks);
	cry_secret_free(epoch_sk);
	bytes_release(&conf);
	if (r != ERR_OK && started)
		init_cleanup(dir, made);
	return r;
}

/* ---- recovery ---- */

static bool
is_hex_id(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* 1 when the statement (one bound text) finds a row, 0 if not, -1 error. */
static int
row_exists(sqlite3 *db, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st = NULL;
	int rc, res = -1;

	if (db_prepare(db, sql, &st) != ERR_OK)
		return -1;
	if (db_bind_text(st, 1, a) != ERR_OK ||
	    (b != NULL && db_bind_text(st, 2, b) != ERR_OK))
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		res = 1;
	else if (rc == SQLITE_DONE)
		res = 0;
out:
	sqlite3_finalize(st);
	return res;
}

static const char sql_doc_live[] =
    "SELECT 1 FROM documents WHERE id = ? AND case_id = ?"
    " AND state IN ('live','retained')";
static const char sql_doc_live_any[] =
    "SELECT 1 FROM documents WHERE id = ? AND state IN ('live','retained')";
static const char sql_case_open[] =
    "SELECT 1 FROM cases WHERE id = ? AND state = 'open'";

static enum err
recover_staging(struct vault *v, struct vault_recover_report *rep)
{
	char path[VAULT_PATH_MAX];
	DIR *d;
	struct dirent *e;
	int dfd;

	if (vault_path(v, path, sizeof(path), "staging", NULL, NULL) != ERR_OK)
		return ERR_TOO_BIG;
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? ERR_OK : ERR_IO;
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0) {
			rep->staging_removed++;
			log_warn(
			    "recovery: removed abandoned upload staging/%s",
			    e->d_name);
		}
	}
	(void)fsync(dfd);
	closedir(d);
	return ERR_OK;
}

static enum err
recover_case_dir(struct vault *v, const char *case_id,
    struct vault_recover_report *rep)
{
	char path[VAULT_PATH_MAX];
	DIR *d;
	struct dirent *e;
	int dfd, live;
	bool any = false;

	if (vault_path(v, path, sizeof(path), "cases", case_id, NULL) != ERR_OK)
		return ERR_TOO_BIG;
	if ((d = opendir(path)) == NULL)
		return ERR_IO;
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		live = is_hex_id(e->d_name, VAULT_DOC_ID_HEX)
		           ? row_exists(v->db, sql_doc_live, e->d_name, case_id)
		           : 0;
		if (live < 0) {
			closedir(d);
			return ERR_DB;
		}
		if (live == 1) {
			any = true;
			continue;
		}
		if (unlinkat(dfd, e->d_name, 0) == 0) {
			rep->files_removed++;
			log_warn("recovery: removed cases/%s/%s (no committed "
			         "document)",
			    case_id, e->d_name);
		} else
			any = true;
	}
	(void)fsync(dfd);
	closedir(d);
	if (!any && row_exists(v->db, sql_case_open, case_id, NULL) == 0)
		(void)rmdir(path);
	return ERR_OK;
}

static enum err
recover_cases(struct vault *v, struct vault_recover_report *rep)
{
	char path[VAULT_PATH_MAX];
	DIR *d;
	struct dirent *e;
	enum err r = ERR_OK;

	if (vault_path(v, path, sizeof(path), "cases", NULL, NULL) != ERR_OK)
		return ERR_TOO_BIG;
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? ERR_OK : ERR_IO;
	while ((e = readdir(d)) != NULL && r == ERR_OK) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!is_hex_id(e->d_name, VAULT_CASE_ID_HEX) ||
		    e->d_type != DT_DIR) {
			log_warn(
			    "recovery: unexpected entry cases/%s left alone",
			    e->d_name);
			continue;
		}
		r = recover_case_dir(v, e->d_name, rep);
	}
	(void)fsync(dirfd(d));
	closedir(d);
	return r;
}

/* Keystore rows no live kura.db row points to. */
static enum err
recover_keys(struct vault *v, struct vault_recover_report *rep)
{
	enum err r = ERR_INTERNAL;
	sqlite3_stmt *st = NULL;
	int rc;
	static const char *const q[2] = {
	    "SELECT doc_id FROM doc_keys",
	    "SELECT DISTINCT case_id FROM case_secrets",
	};
	static const char *const d[2] = {
	    "DELETE FROM doc_keys WHERE doc_id = ?",
	    "DELETE FROM case_secrets WHERE case_id = ?",
	};

	if ((r = vault_ks_begin(v)) != ERR_OK)
		return r;
	for (int k = 0; k < 2; k++) {
		if ((r = db_prepare(v->ks, q[k], &st)) != ERR_OK)
			goto out;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id =
			    (const char *)sqlite3_column_text(st, 0);
			int live = row_exists(v->db,
			    k == 0 ? sql_doc_live_any : sql_case_open,
			    id != NULL ? id : "", NULL);
			if (live < 0) {
				r = ERR_DB;
				goto out;
			}
			if (live == 1)
				continue;
			if ((r = db_do(v->ks, d[k], DB_TEXT(id))) != ERR_OK)
				goto out;
			rep->keys_removed++;
			log_warn("recovery: destroyed orphan %s key %s",
			    k == 0 ? "document" : "case", id);
		}
		if (rc != SQLITE_DONE) {
			r = ERR_DB;
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	r = db_exec(v->ks, "COMMIT");
out:
	sqlite3_finalize(st);
	if (r != ERR_OK)
		IGNORE(db_exec(v->ks, "ROLLBACK"));
	return r;
}

static enum err
recover_missing(struct vault *v, struct vault_recover_report *rep)
{
	sqlite3_stmt *st = NULL;
	char path[VAULT_PATH_MAX];
	int rc;

	if (db_prepare(v->db,
	        "SELECT id, case_id FROM documents"
	        " WHERE state IN ('live','retained')",
	        &st) != ERR_OK)
		return ERR_DB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *c = (const char *)sqlite3_column_text(st, 1);
		if (id == NULL || c == NULL ||
		    vault_path(v, path, sizeof(path), "cases", c, id) != ERR_OK)
			continue;
		if (access(path, F_OK) != 0) {
			rep->missing++;
			log_err("recovery: document %s of case %s is missing "
			        "its ciphertext",
			    id, c);
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ERR_OK : ERR_DB;
}

enum err
vault_recover(struct vault *v, struct vault_recover_report *rep)
{
	enum err r = ERR_INTERNAL;
	char details[256];

	memset(rep, 0, sizeof(*rep));
	if (v->in_tx)
		return ERR_INVALID;
	/*
	 * Exclusivity, waited for a while: the sessions of a server that was
	 * just killed are still exiting (PDEATHSIG) and hold the lock.
	 */
	for (int i = 0;; i++) {
		if (flock(v->lock_fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (i * 50 >= VAULT_RECOVER_WAIT_MS) {
			(void)flock(v->lock_fd, LOCK_SH);
			return ERR_PERM;
		}
		usleep(50000);
	}
	if ((r = recover_staging(v, rep)) != ERR_OK ||
	    (r = recover_cases(v, rep)) != ERR_OK ||
	    (r = recover_keys(v, rep)) != ERR_OK ||
	    (r = recover_missing(v, rep)) != ERR_OK)
		goto out;
	if (rep->keys_removed > 0 &&
	    (r = db_checkpoint_truncate(v->ks)) != ERR_OK)
		goto out;
	if (rep->staging_removed + rep->files_removed + rep->keys_removed +
	        rep->missing >
	    0) {
		bool own;
		(void)snprintf(details, sizeof(details),
		    "{\"staging_removed\":%u,\"files_removed\":%u,"
		    "\"keys_removed\":%u,\"missing\":%u}",
		    rep->staging_removed, rep->files_removed, rep->keys_removed,
		    rep->missing);
		log_warn("recovery: %s", details);
		if ((r = vault_tx_enter(v, &own)) != ERR_OK)
			goto out;
		r = vault_audit_event(v, "system", "vault.recover", NULL, NULL,
		    details, NULL);
		if ((r = vault_tx_leave(v, own, r)) != ERR_OK)
			goto out;
	}
	r = ERR_OK;
out:
	(void)flock(v->lock_fd, LOCK_SH);
	return r;
}
