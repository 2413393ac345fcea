/*
 * intake/sftpd.c - `kura serve`: the libssh 0.10 SFTP intake.
 *
 * Listener: binds, loads the host key, drops privileges, then accepts
 * connections itself (so it can apply per-address limits and lockouts
 * before any SSH byte is parsed) and forks one process per connection.
 * It keeps the failed-login counts (intake/throttle.c) and session counts;
 * sessions ask it over a SOCK_SEQPACKET control socket.
 *
 * Session: key exchange, authentication (password: Argon2id; public key),
 * one session channel with the `sftp` subsystem, then a blocking SFTP loop.
 * Every SFTP operation is gated on sess->authed, which only our own code
 * sets after checking a password or key (CVE-2018-10933: a libssh server
 * once took the client's word for it).
 *
 * Signals: handlers only set a flag and write one byte to a pipe (no
 * logging, no allocation: CVE-2024-6387). Login grace and idle timeouts
 * are alarm() with SIGALRM's default action, which ends the session
 * process; what it left in staging/ is removed at the next start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WITH_SERVER
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/sftp.h>

#include "common/fsx.h"
#include "common/log.h"
#include "intake/serve_int.h"
#include "common/banned.h"

/* The message-based auth API is marked deprecated in 0.10 but works. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define SESS_MAX_HANDLES 64
#define SESS_MAX_CERTS   64
#define SESS_DIR_MAX     10000
#define SESS_READDIR_N   64
#define README_NAME      "README.txt"
#define HOSTKEY_NAME     "ssh_host_ed25519_key"
/* libssh 0.10 sftp.c SFTP_HANDLES: the size of its handle table. */
#define LIBSSH_SFTP_HANDLES 256

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_chld;
static int sig_pipe[2] = {-1, -1};

static void
on_signal(int sig)
{
	int saved = errno;
	char c = 0;

	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
	if (sig_pipe[1] >= 0)
		(void)!write(sig_pipe[1], &c, 1);
	errno = saved;
}

/* ---------------------------------------------------------------- config */

static enum err
conf_u64(const struct config *c, const char *k, uint64_t d, uint64_t *out)
{
	enum err r = config_u64(c, k, d, out);

	if (r != ERR_OK)
		log_err("kura.conf: %s is not a number", k);
	return r;
}

static void
conf_str(const struct config *c, const char *k, const char *d, char *out,
    size_t outsz)
{
	const char *v = config_str(c, k, d);
	size_t n = strlen(v);

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, v, n);
	out[n] = 0;
}

enum err
srv_conf_load(const struct config *c, struct srv_conf *o)
{
	enum err r = ERR_CONFIG;
	char relay[256];
	char *colon;

	memset(o, 0, sizeof(*o));
	conf_str(c, "listen", "127.0.0.1:2222", o->listen, sizeof(o->listen));
	conf_str(c, "receipt.format", "YYYY-NNNNNN", o->receipt_format,
	    sizeof(o->receipt_format));
	conf_str(c, "mail.relay", "127.0.0.1:25", relay, sizeof(relay));
	conf_str(c, "mail.from", "kura@localhost", o->smtp_from,
	    sizeof(o->smtp_from));
	conf_str(c, "serve.user", "", o->user, sizeof(o->user));
	o->smtp_port = 25;
	if ((colon = strrchr(relay, ':')) != NULL) {
		*colon = 0;
		o->smtp_port = strtoull(colon + 1, NULL, 10);
	}
	snprintf(o->smtp_host, sizeof(o->smtp_host), "%s", relay);
	if (strcmp(o->smtp_host, "none") == 0)
		o->smtp_host[0] = 0;
	if (conf_u64(c, "serve.login_grace_seconds", 60, &o->grace_secs) ||
	    conf_u64(c, "serve.idle_seconds", 900, &o->idle_secs) ||
	    conf_u64(c, "serve.max_sessions", 64, &o->max_sessions) ||
	    conf_u64(c, "serve.max_sessions_per_address", 32,
	        &o->max_per_addr) ||
	    conf_u64(c, "limits.sessions_per_account", 4,
	        &o->max_per_account) ||
	    conf_u64(c, "serve.max_auth_tries", 6, &o->auth_tries) ||
	    conf_u64(c, "serve.memory_limit_mb", 1024, &o->memory_mb) ||
	    conf_u64(c, "throttle.free_failures", 3, &o->free_failures) ||
	    conf_u64(c, "throttle.delay_ms", 250, &o->delay_ms) ||
	    conf_u64(c, "throttle.delay_max_ms", 4000, &o->delay_max_ms) ||
	    conf_u64(c, "limits.address_failed_logins_before_lockout", 30,
	        &o->addr_failures) ||
	    conf_u64(c, "limits.failed_logins_before_lockout", 10,
	        &o->account_failures) ||
	    conf_u64(c, "limits.lockout_seconds", 900, &o->lock_secs) ||
	    conf_u64(c, "throttle.window_seconds", 3600, &o->window_secs) ||
	    conf_u64(c, "limits.max_upload_bytes", 4ull << 30,
	        &o->max_upload) ||
	    conf_u64(c, "limits.quota_bytes", 16ull << 30, &o->quota) ||
	    conf_u64(c, "serve.max_validations", 2, &o->max_validations) ||
	    gate_conf_load(c, &o->gate) != ERR_OK)
		return r;
	o->throttle = config_bool(c, "throttle.enabled", true);
	if (o->auth_tries == 0 || o->max_sessions == 0 ||
	    o->lock_secs > 86400 || o->delay_max_ms > 60000 ||
	    o->smtp_port > 65535 || o->max_sessions > 100000 ||
	    o->max_validations == 0 || o->max_validations > 1024)
		return ERR_CONFIG;
	return ERR_OK;
}

/* --------------------------------------------------------------- session */

enum handle_kind { H_FREE, H_DIR, H_READ, H_UPLOAD };

struct dent {
	char name[INTAKE_VNAME_MAX + 1];
	uint64_t size;
	int64_t mtime;
	bool dir;
};

struct upload;

struct handle {
	enum handle_kind kind;
	/* H_DIR */
	struct dent *ents;
	size_t nents, pos;
	/* H_READ */
	struct bytes content;
	/* H_UPLOAD */
	struct upload *up;
};

enum up_state { UP_WRITING, UP_PARKED, UP_DONE, UP_FAILED };

/* One upload of this session (kept after completion for STAT). */
struct upload {
	struct upload *next;
	enum intake_folder folder;
	char cert[INTAKE_CERT_MAX + 1];
	char name[INTAKE_VNAME_MAX + 1];
	struct vault_put *put; /* NULL once handed to srv_submit */
	enum up_state state;
	uint64_t size;
	int64_t mtime;
	bool open; /* a handle refers to it */
};

struct cert_link {
	char cert[VAULT_CERT_MAX + 1];
	char case_id[VAULT_ID_MAX];
};

struct sess {
	const struct srv_conf *c;
	const char *vault_dir;
	char peer[INET6_ADDRSTRLEN];
	int ctl; /* control socket to the listener */
	ssh_session ssh;
	ssh_channel chan;
	sftp_session sftp;
	struct vault *v;
	bool authed; /* set only by our own checks */
	uint64_t fails; /* failed logins reported to the listener */
	struct vault_account acc;
	struct cert_link certs[SESS_MAX_CERTS];
	size_t ncerts;
	uint64_t used; /* accepted bytes (quota) */
	struct gate_quota gq; /* quota reserved with the listener */
	struct handle h[SESS_MAX_HANDLES];
	struct upload *ups;
	/* The validation of a completed upload, on its own thread. */
	pthread_t job;
	bool job_running;
	struct upload *job_up;
	enum err job_r;
};

static const char readme_text[] =
    "kura 申請受付 SFTP\n"
    "==================\n"
    "\n"
    "1 件の申請につき、書類一式を 1 つの ZIP ファイルにまとめて、次のフォルダに"
    "アップロードしてください。\n"
    "\n"
    "  /new/                      新規申請\n"
    "  /renewal/<認定番号>/       更新申請\n"
    "  /change/<認定番号>/        変更申請\n"
    "  /termination/<認定番号>/   廃止申請\n"
    "\n"
    "アップロードが完了すると、数秒で /results/ に結果が置かれます。\n"
    "  <ファイル名>.result.txt    検査結果（日本語、英語）\n"
    "  <ファイル名>.result.json   検査結果（機械可読）\n"
    "  <ファイル名>.receipt       受理の場合: 受付番号と各書類の SHA-256 "
    "を記した"
    "署名付き受領書\n"
    "受理の場合は、登録のメールアドレスにも受付番号をお知らせします。\n"
    "アップロードしたファイルは読み出せず、上書きもできません。\n"
    "事前に `kura check 申請.zip` で同じ検査を手元で実行できます。\n"
    "\n"
    "kura application intake (SFTP)\n"
    "==============================\n"
    "\n"
    "Put all documents of one application into one ZIP file and upload it to:\n"
    "\n"
    "  /new/                        a new application\n"
    "  /renewal/<certification>/    renewal of a certified service\n"
    "  /change/<certification>/     change of a certified service\n"
    "  /termination/<certification>/ termination of a certified service\n"
    "\n"
    "Seconds after the upload completes, /results/ holds:\n"
    "  <file name>.result.txt     the verdict (Japanese, then English)\n"
    "  <file name>.result.json    the same, machine-readable\n"
    "  <file name>.receipt        when accepted: a signed receipt with the\n"
    "                             receipt number and each document's SHA-256\n"
    "When accepted, the receipt number is also sent to your e-mail address.\n"
    "Uploaded files cannot be read back or overwritten.\n"
    "You can run the same checks offline first: `kura check "
    "application.zip`.\n";

static void
fill_attr(struct sftp_attributes_struct *a, bool dir, uint64_t size,
    int64_t mtime, bool writable)
{
	memset(a, 0, sizeof(*a));
	a->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS |
	           SSH_FILEXFER_ATTR_ACMODTIME | SSH_FILEXFER_ATTR_UIDGID;
	a->type = dir ? SSH_FILEXFER_TYPE_DIRECTORY : SSH_FILEXFER_TYPE_REGULAR;
	a->size = size;
	if (dir)
		a->permissions = writable ? 040755 : 040555;
	else
		a->permissions = writable ? 0100200 : 0100444;
	a->mtime = (uint32_t)(mtime > 0 ? mtime : 0);
	a->atime = a->mtime;
}

static void
longname(char *out, size_t outsz, const struct dent *e, bool writable)
{
	char when[32];
	time_t t = (time_t)e->mtime;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%b %e %H:%M", &tm);
	snprintf(out, outsz, "%s 1 kura kura %10llu %s %s",
	    e->dir ? (writable ? "drwxr-xr-x" : "dr-xr-xr-x") : "-r--r--r--",
	    (unsigned long long)e->size, when, e->name);
}

static struct cert_link *
sess_cert(struct sess *s, const char *cert)
{
	for (size_t i = 0; i < s->ncerts; i++)
		if (strcmp(s->certs[i].cert, cert) == 0)
			return &s->certs[i];
	return NULL;
}

static struct upload *
sess_upload(struct sess *s, const struct intake_vpath *vp)
{
	for (struct upload *u = s->ups; u != NULL; u = u->next)
		if (u->folder == vp->folder && strcmp(u->cert, vp->cert) == 0 &&
		    strcmp(u->name, vp->name) == 0 && u->state != UP_FAILED)
			return u;
	return NULL;
}

/* Whether a resolved upload folder exists for this account. */
static bool
updir_exists(struct sess *s, const struct intake_vpath *vp)
{
	return vp->folder == INTAKE_FOLDER_NEW ||
	       sess_cert(s, vp->cert) != NULL;
}

static int64_t start_time;

/* STAT for a virtual path; false when nothing is there. */
static bool
vstat(struct sess *s, const struct intake_vpath *vp,
    struct sftp_attributes_struct *a)
{
	struct bytes b;
	struct upload *u;
	bool ok;

	switch (vp->kind) {
	case INTAKE_VN_ROOT:
	case INTAKE_VN_KINDDIR:
	case INTAKE_VN_RESULTS:
		fill_attr(a, true, 0, start_time, false);
		return true;
	case INTAKE_VN_README:
		fill_attr(a, false, sizeof(readme_text) - 1, start_time, false);
		return true;
	case INTAKE_VN_UPDIR:
		if (!updir_exists(s, vp))
			return false;
		fill_attr(a, true, 0, start_time, true);
		return true;
	case INTAKE_VN_UPFILE:
		if (!updir_exists(s, vp) || (u = sess_upload(s, vp)) == NULL)
			return false;
		fill_attr(a, false, u->size, u->mtime, true);
		return true;
	case INTAKE_VN_RESULT:
		bytes_init(&b, 16u << 20);
		ok = vault_result_get(s->v, s->acc.id, vp->name, &b) == ERR_OK;
		if (ok)
			fill_attr(a, false, b.len, time(NULL), false);
		bytes_release(&b);
		return ok;
	case INTAKE_VN_NONE:
		break;
	}
	return false;
}

static struct handle *
handle_new(struct sess *s, enum handle_kind kind)
{
	for (size_t i = 0; i < SESS_MAX_HANDLES; i++) {
		if (s->h[i].kind == H_FREE) {
			memset(&s->h[i], 0, sizeof(s->h[i]));
			s->h[i].kind = kind;
			return &s->h[i];
		}
	}
	return NULL;
}

static void
handle_release(struct sess *s, struct handle *h)
{
	sftp_handle_remove(s->sftp, h);
	free(h->ents);
	bytes_release(&h->content);
	if (h->up != NULL)
		h->up->open = false;
	memset(h, 0, sizeof(*h));
}

static int
reply_handle(sftp_client_message msg, struct sess *s, struct handle *h)
{
	ssh_string hs = sftp_handle_alloc(s->sftp, h);
	int rc;

	if (hs == NULL) {
		handle_release(s, h);
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "開いているファイルが多すぎます。いくつか閉じてください / "
		    "too many open files: close some first");
	}
	rc = sftp_reply_handle(msg, hs);
	ssh_string_free(hs);
	return rc;
}

static struct handle *
msg_handle(struct sess *s, sftp_client_message msg)
{
	struct handle *h;

	uint32_t val;

	/*
	 * libssh 0.10.6 sftp_handle() accepts the value 256 and reads one
	 * slot past its 256-entry table (val > 256 where >= was meant):
	 * check the length and the range ourselves first (review #9).
	 */
	if (msg->handle == NULL || ssh_string_len(msg->handle) != sizeof(val))
		return NULL;
	memcpy(&val, ssh_string_data(msg->handle), sizeof(val));
	if (val >= LIBSSH_SFTP_HANDLES)
		return NULL;
	h = sftp_handle(s->sftp, msg->handle);
	/* Only pointers into our own table count as handles. */
	for (size_t i = 0; i < SESS_MAX_HANDLES; i++)
		if (h == &s->h[i] && h->kind != H_FREE)
			return h;
	return NULL;
}

struct dir_build {
	struct dent *ents;
	size_t n, cap;
};

static enum err
dir_add(struct dir_build *d, const char *name, bool dir, uint64_t size,
    int64_t mtime)
{
	struct dent *e;

	if (strlen(name) > INTAKE_VNAME_MAX)
		return ERR_OK;
	if (d->n == SESS_DIR_MAX)
		return ERR_TOO_BIG;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct dent *p = calloc(cap, sizeof(*p));
		if (p == NULL)
			return ERR_NOMEM;
		if (d->n > 0)
			memcpy(p, d->ents, d->n * sizeof(*p));
		free(d->ents);
		d->ents = p;
		d->cap = cap;
	}
	e = &d->ents[d->n++];
	memcpy(e->name, name, strlen(name) + 1);
	e->dir = dir;
	e->size = size;
	e->mtime = mtime;
	return ERR_OK;
}

static enum err
dir_add_result(void *arg, const char *name, uint64_t size, int64_t mtime)
{
	return dir_add(arg, name, false, size, mtime);
}

static int
do_opendir(struct sess *s, sftp_client_message msg,
    const struct intake_vpath *vp)
{
	struct dir_build d = {0};
	struct handle *h;
	enum err r = ERR_OK;
	int64_t t = start_time;

	switch (vp->kind) {
	case INTAKE_VN_ROOT:
		if ((r = dir_add(&d, README_NAME, false,
		         sizeof(readme_text) - 1, t)) != ERR_OK ||
		    (r = dir_add(&d, "new", true, 0, t)) != ERR_OK ||
		    (r = dir_add(&d, "renewal", true, 0, t)) != ERR_OK ||
		    (r = dir_add(&d, "change", true, 0, t)) != ERR_OK ||
		    (r = dir_add(&d, "termination", true, 0, t)) != ERR_OK ||
		    (r = dir_add(&d, "results", true, 0, t)) != ERR_OK)
			break;
		break;
	case INTAKE_VN_KINDDIR:
		for (size_t i = 0; i < s->ncerts && r == ERR_OK; i++)
			r = dir_add(&d, s->certs[i].cert, true, 0, t);
		break;
	case INTAKE_VN_UPDIR:
		if (!updir_exists(s, vp)) {
			free(d.ents);
			return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
			    "そのフォルダはありません / no such folder");
		}
		/* Uploads are not listed (they cannot be read back). */
		break;
	case INTAKE_VN_RESULTS:
		r = vault_result_list(s->v, s->acc.id, dir_add_result, &d);
		break;
	default:
		free(d.ents);
		return sftp_reply_status(msg,
		    vp->kind == INTAKE_VN_NONE ? SSH_FX_NO_SUCH_FILE
		                               : SSH_FX_FAILURE,
		    "フォルダではありません / not a folder");
	}
	if (r != ERR_OK) {
		free(d.ents);
		return sftp_reply_status(msg, SSH_FX_FAILURE, err_str(r));
	}
	if ((h = handle_new(s, H_DIR)) == NULL) {
		free(d.ents);
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "開いているファイルが多すぎます。いくつか閉じてください / "
		    "too many open files: close some first");
	}
	bytes_init(&h->content, 0);
	h->ents = d.ents;
	h->nents = d.n;
	/* "." and ".." first, as clients expect. */
	return reply_handle(msg, s, h);
}

static int
do_readdir(struct sess *s, sftp_client_message msg, struct handle *h)
{
	struct sftp_attributes_struct a;
	char ln[INTAKE_VNAME_MAX + 96];
	size_t n = 0;

	(void)s;
	if (h->pos >= h->nents + 2)
		return sftp_reply_status(msg, SSH_FX_EOF, NULL);
	while (n < SESS_READDIR_N && h->pos < h->nents + 2) {
		struct dent dot = {.dir = true, .mtime = start_time};
		const struct dent *e;

		if (h->pos < 2) {
			memcpy(dot.name, h->pos == 0 ? "." : "..",
			    h->pos == 0 ? 2 : 3);
			e = &dot;
		} else
			e = &h->ents[h->pos - 2];
		fill_attr(&a, e->dir, e->size, e->mtime, false);
		longname(ln, sizeof(ln), e, false);
		if (sftp_reply_names_add(msg, e->name, ln, &a) < 0)
			return -1;
		h->pos++;
		n++;
	}
	return sftp_reply_names(msg);
}

/* A session's control request to the listener: "X arg" -> reply. */
static enum err
ctl_ask(struct sess *s, char op, const char *arg, char *reply, size_t rsz)
{
	char buf[128];
	ssize_t n;
	int k = snprintf(buf, sizeof(buf), "%c %s", op, arg);

	if (k < 0 || (size_t)k >= sizeof(buf))
		return ERR_TOO_BIG;
	if (send(s->ctl, buf, (size_t)k, MSG_NOSIGNAL) != k)
		return ERR_IO;
	n = recv(s->ctl, reply, rsz - 1, 0);
	if (n <= 0)
		return ERR_IO;
	reply[n] = 0;
	return ERR_OK;
}

static void
sess_audit(struct sess *s, const char *action, const char *login,
    const char *details)
{
	struct audit_event ev = {0};
	enum err r;

	ev.actor = login != NULL && *login != 0 ? login : "anonymous";
	ev.action = action;
	ev.account = login;
	ev.details_json = details;
	if ((r = vault_begin(s->v)) == ERR_OK &&
	    (r = audit_append(vault_audit(s->v), &ev, NULL)) == ERR_OK &&
	    (r = vault_commit(s->v)) == ERR_OK)
		return;
	vault_rollback(s->v);
	log_err_r(r, "audit %s", action);
}

static void
audit_peer(struct sess *s, const char *action, const char *login,
    const char *method)
{
	char js[256];

	snprintf(js, sizeof(js), "{\"peer\":\"%s\",\"method\":\"%s\"}", s->peer,
	    method);
	sess_audit(s, action, login, js);
}

/*
 * Constant work for unknown logins: verify against a throwaway hash made
 * once by the listener before it forks (dummy_init), so an unknown login
 * costs one Argon2id run, like a known one (no user enumeration by time).
 */
static char dummy_hash[128];

static enum err
dummy_init(void)
{
	struct cry_secret *sec = NULL;
	unsigned char rnd[16];
	enum err r;

	cry_random(rnd, sizeof(rnd));
	if ((r = cry_secret_from(rnd, sizeof(rnd), &sec)) != ERR_OK)
		return r;
	r = cry_pwhash_str(sec, dummy_hash);
	cry_secret_free(sec);
	if (r != ERR_OK)
		dummy_hash[0] = 0;
	return r;
}

static void
burn_pwhash(const char *pw)
{
	if (dummy_hash[0] != 0)
		(void)cry_pwhash_verify(dummy_hash, pw, strlen(pw));
}

struct key_match {
	ssh_key offered;
	bool found;
};

static enum err
key_cb(void *arg, const char *type, const char *b64, const char *comment)
{
	struct key_match *m = arg;
	ssh_key k = NULL;

	(void)comment;
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type),
	        &k) == SSH_OK) {
		if (ssh_key_cmp(k, m->offered, SSH_KEY_CMP_PUBLIC) == 0)
			m->found = true;
		ssh_key_free(k);
	}
	return ERR_OK;
}

static enum err
cert_cb(void *arg, const char *cert, const char *case_id)
{
	struct sess *s = arg;
	struct cert_link *l;

	if (s->ncerts == SESS_MAX_CERTS || strlen(cert) > VAULT_CERT_MAX)
		return ERR_OK;
	l = &s->certs[s->ncerts++];
	memcpy(l->cert, cert, strlen(cert) + 1);
	snprintf(l->case_id, sizeof(l->case_id), "%s", case_id);
	return ERR_OK;
}

enum auth_result { AUTH_FAIL, AUTH_OK, AUTH_PROBE_OK, AUTH_LOCKED };

/*
 * The login as the audit log records a failure: as is when it could be a
 * login, else "hex:" and its first VAULT_LOGIN_MAX bytes in hex ("+" when
 * longer), so that control characters and invalid UTF-8 are audited too
 * (review #10; audit_append refuses them). No valid login has a ':'.
 */
#define SESS_AUDIT_LOGIN_MAX (4 + 2 * VAULT_LOGIN_MAX + 2)
static void
sess_audit_login(const char *login, char out[SESS_AUDIT_LOGIN_MAX])
{
	static const char hx[] = "0123456789abcdef";
	size_t n = strlen(login), o = 4;

	if (strcmp(login, "-") == 0 || vault_login_valid(login)) {
		snprintf(out, SESS_AUDIT_LOGIN_MAX, "%s", login);
		return;
	}
	memcpy(out, "hex:", 4);
	for (size_t i = 0; i < n && i < VAULT_LOGIN_MAX; i++) {
		out[o++] = hx[(unsigned char)login[i] >> 4];
		out[o++] = hx[(unsigned char)login[i] & 15];
	}
	if (n > VAULT_LOGIN_MAX)
		out[o++] = '+';
	out[o] = 0;
}

/* One auth.fail_summary: n failures from peer not audited one by one. */
static void
audit_fail_summary(struct sess *s, const char *peer, uint64_t n)
{
	struct audit_event ev = {0};
	char js[256];
	enum err r;

	snprintf(js, sizeof(js),
	    "{\"peer\":\"%s\",\"failures\":%llu,\"window_seconds\":%llu}",
	    peer, (unsigned long long)n,
	    (unsigned long long)s->c->gate.fail_window);
	ev.actor = "system";
	ev.action = "auth.fail_summary";
	ev.details_json = js;
	if ((r = vault_begin(s->v)) == ERR_OK &&
	    (r = audit_append(vault_audit(s->v), &ev, NULL)) == ERR_OK &&
	    (r = vault_commit(s->v)) == ERR_OK)
		return;
	vault_rollback(s->v);
	log_err_r(r, "audit %s", ev.action);
}

/*
 * auth.fail, rate-limited by the listener (intake/gate.c) so that a flood
 * cannot grow the audit log without bound: the first failures of each
 * window one by one, the rest counted in one auth.fail_summary.
 */
static void
audit_fail_rated(struct sess *s, const char *alogin, const char *method,
    bool locked)
{
	bool one;
	uint64_t sum, other;

	gate_audit_fail(s->ctl, locked, &one, &sum, &other);
	if (sum > 0)
		audit_fail_summary(s, s->peer, sum);
	if (other > 0)
		audit_fail_summary(s, "*", other);
	if (one)
		audit_peer(s, "auth.fail", alogin, method);
}

/* Records a failure with the listener and waits the delay it sets. */
static void
auth_failed(struct sess *s, const char *login, const char *tlogin,
            const char *method)
{
	char reply[64];
	unsigned long long ms = 0;
	char esc[3 * VAULT_LOGIN_MAX + 1];
	char alogin[SESS_AUDIT_LOGIN_MAX];

	log_escape(login, esc, sizeof(esc));
	log_info("failed %s login for %s from %s", method, esc, s->peer);
	sess_audit_login(login, alogin);
	s->fails++;
	if (ctl_ask(s, 'F', tlogin, reply, sizeof(reply)) != ERR_OK) {
		audit_peer(s, "auth.fail", alogin, method);
		return;
	}
	audit_fail_rated(s, alogin, method, reply[0] == 'L');
	if (reply[0] == 'D' || reply[0] == 'L') {
		if (sscanf(reply + 1, "%llu", &ms) == 1 && ms > 0) {
			struct timespec ts = {(time_t)(ms / 1000),
			    (long)(ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (reply[0] == 'L')
		audit_peer(s, "auth.lockout", alogin, method);
}

static enum auth_result
auth_check(struct sess *s, ssh_message m)
{
	const char *login = ssh_message_auth_user(m);
	int sub = ssh_message_subtype(m);
	struct vault_account a;
	char reply[64];
	bool known, ok = false;
	const char *tlogin;
	const char *method =
	    sub == SSH_AUTH_METHOD_PASSWORD ? "password" : "publickey";

	const char *raw = login != NULL ? login : "";

	if (login == NULL || strlen(login) > VAULT_LOGIN_MAX)
		login = "";
	known = vault_login_valid(login) &&
	        vault_account_get(s->v, login, &a) == ERR_OK && !a.disabled;
	/* Unknown logins count against the address only (review #3). */
	tlogin = known ? login : "-";
	if (ctl_ask(s, 'Q', tlogin, reply, sizeof(reply)) != ERR_OK)
		return AUTH_FAIL;
	if (reply[0] == 'L')
		return AUTH_LOCKED;
	if (sub == SSH_AUTH_METHOD_PASSWORD) {
		const char *pw = ssh_message_auth_password(m);
		if (pw == NULL)
			pw = "";
		if (known && a.pwhash[0] != 0)
			ok = cry_pwhash_verify(a.pwhash, pw, strlen(pw));
		else
			burn_pwhash(pw);
	} else if (sub == SSH_AUTH_METHOD_PUBLICKEY) {
		struct key_match km = {ssh_message_auth_pubkey(m), false};
		enum ssh_publickey_state_e st =
		    ssh_message_auth_publickey_state(m);
		if (known && km.offered != NULL &&
		    vault_account_keys(s->v, login, key_cb, &km) == ERR_OK)
			ok = km.found;
		if (ok && st == SSH_PUBLICKEY_STATE_NONE)
			return AUTH_PROBE_OK;
		if (st == SSH_PUBLICKEY_STATE_NONE)
			return AUTH_FAIL; /* a probe: not counted */
		ok = ok && st == SSH_PUBLICKEY_STATE_VALID;
	} else
		return AUTH_FAIL;
	if (!ok) {
		auth_failed(s, *raw ? raw : "-", tlogin, method);
		return AUTH_FAIL;
	}
	if (ctl_ask(s, 'S', login, reply, sizeof(reply)) != ERR_OK ||
	    reply[0] != 'O') {
		log_info("too many sessions for %s", login);
		return AUTH_LOCKED;
	}
	s->acc = a;
	s->authed = true;
	audit_peer(s, "auth.login", login, method);
	return AUTH_OK;
}

static const char *
auth_method_name(int sub)
{
	switch (sub) {
	case SSH_AUTH_METHOD_NONE:
		return "none";
	case SSH_AUTH_METHOD_PASSWORD:
		return "password";
	case SSH_AUTH_METHOD_PUBLICKEY:
		return "publickey";
	case SSH_AUTH_METHOD_HOSTBASED:
		return "hostbased";
	case SSH_AUTH_METHOD_INTERACTIVE:
		return "keyboard-interactive";
	case SSH_AUTH_METHOD_GSSAPI_MIC:
		return "gssapi-with-mic";
	default:
		return "unknown"; /* hostbased and any other name */
	}
}

/*
 * serve.max_auth_tries requests of any method, the last one m, without
 * success: the connection ends. When the requests were not password or
 * key attempts (already reported), it counts as one failure of the
 * address, so that a client spamming "none" or keyboard-interactive is
 * throttled and audited like one guessing passwords.
 */
static void
auth_exhausted(struct sess *s, ssh_message m, uint64_t fails_before)
{
	const char *login = ssh_message_auth_user(m);
	const char *method = auth_method_name(ssh_message_subtype(m));

	log_info("%s: %llu authentication requests without success, last "
	         "%s: disconnected",
	    s->peer, (unsigned long long)s->c->auth_tries, method);
	if (s->fails != fails_before)
		return;
	if (login == NULL || *login == 0 || strlen(login) > VAULT_LOGIN_MAX)
		login = "-";
	auth_failed(s, login, "-", method);
}

/* Refuses whatever arrives once the sftp subsystem runs. */
static int
refuse_cb(ssh_session session, ssh_message msg, void *arg)
{
	(void)session;
	(void)arg;
	(void)msg;
	return 1; /* libssh sends the default (failure) reply */
}

/*
 * Authentication and channel setup; true when the sftp subsystem is
 * running on s->chan.
 */
static bool
sess_setup(struct sess *s)
{
	ssh_message m;
	uint64_t tries = 0, fails_before = s->fails;
	bool sftp_ok = false;

	while (!sftp_ok && (m = ssh_message_get(s->ssh)) != NULL) {
		int type = ssh_message_type(m), sub = ssh_message_subtype(m);
		bool handled = false;

		if (type == SSH_REQUEST_AUTH && !s->authed) {
			enum auth_result ar = AUTH_FAIL;
			/* Every request counts, whatever its method. */
			tries++;
			if (sub == SSH_AUTH_METHOD_PASSWORD ||
			    sub == SSH_AUTH_METHOD_PUBLICKEY)
				ar = auth_check(s, m);
			if (ar == AUTH_OK) {
				ssh_message_auth_reply_success(m, 0);
				handled = true;
			} else if (ar == AUTH_PROBE_OK) {
				ssh_message_auth_reply_pk_ok_simple(m);
				handled = true;
			} else if (ar == AUTH_LOCKED ||
			           tries >= s->c->auth_tries) {
				if (ar != AUTH_LOCKED)
					auth_exhausted(s, m, fails_before);
				ssh_message_free(m);
				return false;
			} else {
				ssh_message_auth_set_methods(m,
				    SSH_AUTH_METHOD_PASSWORD |
				        SSH_AUTH_METHOD_PUBLICKEY);
			}
		} else if (type == SSH_REQUEST_CHANNEL_OPEN && s->authed &&
		           sub == SSH_CHANNEL_SESSION && s->chan == NULL) {
			s->chan =
			    ssh_message_channel_request_open_reply_accept(m);
			handled = s->chan != NULL;
		} else if (type == SSH_REQUEST_CHANNEL && s->authed &&
		           s->chan != NULL &&
		           ssh_message_channel_request_channel(m) == s->chan &&
		           sub == SSH_CHANNEL_REQUEST_SUBSYSTEM) {
			const char *ss =
			    ssh_message_channel_request_subsystem(m);
			if (ss != NULL && strcmp(ss, "sftp") == 0) {
				ssh_message_channel_request_reply_success(m);
				handled = true;
				sftp_ok = true;
			}
		} else if (type == SSH_REQUEST_CHANNEL &&
		           (sub == SSH_CHANNEL_REQUEST_EXEC ||
		               sub == SSH_CHANNEL_REQUEST_SHELL ||
		               sub == SSH_CHANNEL_REQUEST_X11)) {
			log_info("refused %s request from %s",
			    sub == SSH_CHANNEL_REQUEST_EXEC    ? "exec"
			    : sub == SSH_CHANNEL_REQUEST_SHELL ? "shell"
			                                       : "x11",
			    s->peer);
			if (s->authed)
				audit_peer(s, "session.refused", s->acc.login,
				    sub == SSH_CHANNEL_REQUEST_EXEC ? "exec"
				                                    : "shell");
		}
		if (!handled)
			ssh_message_reply_default(m);
		ssh_message_free(m);
	}
	return sftp_ok && s->authed;
}

/* ------------------------------------------------------------ operations */

static int
status_for(sftp_client_message msg, enum err r)
{
	switch (r) {
	case ERR_NOT_FOUND:
		return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		    "そのファイルはありません / no such file");
	case ERR_PERM:
		return sftp_reply_status(msg, SSH_FX_PERMISSION_DENIED,
		    "この操作はできません。アップロードは /new/ などへ、結果は "
	    "/results/ で読めます (README.txt) / not allowed: upload into "
	    "/new/ or your service folders, read results in /results/ "
	    "(README.txt)");
	case ERR_TOO_BIG:
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "サイズ上限または容量制限を超えています / upload too large "
		    "or over quota");
	case ERR_IO:
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "サーバで保存できませんでした。時間をおいて、もう一度"
		    "送ってください / the server could not store the upload: "
		    "please try again later");
	default:
		return sftp_reply_status(msg, SSH_FX_FAILURE, err_str(r));
	}
}

static int
deny(sftp_client_message msg)
{
	return sftp_reply_status(msg, SSH_FX_PERMISSION_DENIED,
	    "この操作はできません。アップロードは /new/ などへ、結果は "
	    "/results/ で読めます (README.txt) / not allowed: upload into "
	    "/new/ or your service folders, read results in /results/ "
	    "(README.txt)");
}

/* The largest upload of this account (limits.max_upload_bytes). */
static uint64_t
upload_max(const struct sess *s)
{
	return s->acc.max_upload ? s->acc.max_upload : s->c->max_upload;
}

/* Bytes of this session's uploads that are neither accepted nor rejected. */
static uint64_t
quota_inflight(const struct sess *s)
{
	uint64_t n = 0;

	for (const struct upload *u = s->ups; u != NULL; u = u->next)
		if (u->state == UP_WRITING || u->state == UP_PARKED)
			n += u->size;
	return n;
}

/*
 * Upload u is to grow to end bytes: reserved account-wide with the
 * listener (intake/gate.c), which sees every session of the account and
 * the accepted bytes in the vault. ERR_TOO_BIG: over the quota.
 */
static enum err
quota_grow(struct sess *s, const struct upload *u, uint64_t end)
{
	uint64_t inflight;

	if (end <= u->size)
		return ERR_OK;
	inflight = quota_inflight(s);
	return gate_quota_need(s->ctl, &s->gq, inflight, end - u->size,
	    inflight - u->size);
}

/* Gives back what this session reserved beyond its uploads in flight. */
static void
quota_settle(struct sess *s)
{
	gate_quota_settle(s->ctl, &s->gq, quota_inflight(s));
}

static void
upload_drop(struct upload *u)
{
	vault_put_abort(u->put);
	u->put = NULL;
	u->state = UP_FAILED;
}

/* An upload with a final name is complete: validate, store, answer. */
static enum err
upload_complete(struct sess *s, struct upload *u)
{
	struct srv_upload_info info = {0};
	struct cert_link *l = NULL;
	enum err r;
	bool accepted = false;
	struct vault_put *p = u->put;

	if (u->folder != INTAKE_FOLDER_NEW)
		l = sess_cert(s, u->cert);
	info.account = &s->acc;
	info.folder = u->folder;
	info.cert = u->cert;
	info.name = u->name;
	info.case_id = l != NULL ? l->case_id : "";
	info.peer = s->peer;
	info.ctl = s->ctl;
	u->put = NULL; /* transferred */
	r = srv_submit(s->v, s->c, &info, p, &accepted);
	if (r != ERR_OK) {
		u->state = UP_FAILED;
		return r;
	}
	u->state = UP_DONE;
	if (accepted)
		s->used += u->size;
	return ERR_OK;
}

static void
record_failure(struct sess *s, struct upload *u, enum err r)
{
	struct bytes name, body;

	bytes_init(&name, 1024);
	bytes_init(&body, 4096);
	if (bytes_printf(&name, "%s.result.txt", u->name) == ERR_OK &&
	    bytes_printf(&body,
	        "受付結果: サーバの内部エラーのため処理できませんでした。"
	        "時間をおいて、もう一度アップロードしてください。\n"
	        "Result: not processed because of an internal error "
	        "(%s). Please upload again later.\n",
	        err_str(r)) == ERR_OK &&
	    vault_result_put(s->v, s->acc.id, (const char *)name.p,
	        bytes_span(&body)) != ERR_OK)
		log_err("could not record the failure for %s", s->acc.login);
	bytes_release(&name);
	bytes_release(&body);
}

static void *
job_main(void *arg)
{
	struct sess *s = arg;

	s->job_r = upload_complete(s, s->job_up);
	return NULL;
}

/*
 * Waits for the validation job (if any). The session thread calls it
 * before it touches the vault or answers a request, so only one thread
 * ever uses the vault; then a SIGTERM that came meanwhile is delivered.
 */
static void
job_wait(struct sess *s)
{
	sigset_t term;

	if (!s->job_running)
		return;
	pthread_join(s->job, NULL);
	s->job_running = false;
	if (s->job_r != ERR_OK)
		record_failure(s, s->job_up, s->job_r);
	/* Accepted (now counted in the vault) or rejected: room back. */
	quota_settle(s);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
}

/*
 * The upload is complete: answer the client at once, then validate and
 * store on a second thread while the session thread waits for the
 * client's next request, which is served only after the job (so a client
 * that asks for its result next gets it, and one that leaves is let go at
 * once). SIGTERM is held until the verdict is committed.
 */
static int
reply_then_complete(struct sess *s, sftp_client_message msg, struct upload *u)
{
	int rc = sftp_reply_status(msg, SSH_FX_OK, NULL);
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	s->job_up = u;
	s->job_r = ERR_INTERNAL;
	if (pthread_create(&s->job, NULL, job_main, s) == 0) {
		s->job_running = true;
		return rc;
	}
	s->job_r = upload_complete(s, u);
	if (s->job_r != ERR_OK)
		record_failure(s, u, s->job_r);
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	return rc;
}

static int
do_open(struct sess *s, sftp_client_message msg, const struct intake_vpath *vp)
{
	uint32_t fl = msg->flags;
	struct handle *h;
	struct upload *u;
	enum err r;
	bool dup = false;

	if (vp->kind == INTAKE_VN_README || vp->kind == INTAKE_VN_RESULT) {
		if ((fl & (SSH_FXF_WRITE | SSH_FXF_APPEND | SSH_FXF_CREAT |
		              SSH_FXF_TRUNC)) != 0)
			return deny(msg);
		if ((h = handle_new(s, H_READ)) == NULL)
			return sftp_reply_status(msg, SSH_FX_FAILURE,
			    "開いているファイルが多すぎます。いくつか閉じてください / "
		    "too many open files: close some first");
		bytes_init(&h->content, 16u << 20);
		if (vp->kind == INTAKE_VN_README)
			r = bytes_put(&h->content, readme_text,
			    sizeof(readme_text) - 1);
		else
			r = vault_result_get(s->v, s->acc.id, vp->name,
			    &h->content);
		if (r != ERR_OK) {
			handle_release(s, h);
			return status_for(msg, r);
		}
		return reply_handle(msg, s, h);
	}
	if (vp->kind != INTAKE_VN_UPFILE)
		return vp->kind == INTAKE_VN_NONE
		           ? sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		                 "そのファイルはありません / no such file")
		           : deny(msg);
	if (!updir_exists(s, vp))
		return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		    "そのフォルダはありません / no such folder");
	/* Uploads cannot be read back. */
	if ((fl & SSH_FXF_WRITE) == 0 || (fl & SSH_FXF_READ) != 0)
		return deny(msg);
	if ((u = sess_upload(s, vp)) != NULL && u->state != UP_PARKED)
		return deny(msg); /* complete or being written: no overwrite */
	if (u != NULL)            /* a parked temporary name, written again */
		upload_drop(u);
	if ((r = vault_submission_accepted(s->v, s->acc.id, vp->name, &dup)) !=
	    ERR_OK)
		return status_for(msg, r);
	if (dup)
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "この名前のファイルは受理済みで上書きできません。"
		    "別の名前でアップロードしてください / already accepted: "
		    "cannot be overwritten; upload under another name");
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return status_for(msg, ERR_NOMEM);
	u->folder = vp->folder;
	memcpy(u->cert, vp->cert, sizeof(u->cert));
	memcpy(u->name, vp->name, sizeof(u->name));
	u->mtime = time(NULL);
	if ((r = vault_put_begin(s->v, 0, &u->put)) != ERR_OK) {
		free(u);
		log_err("staging: %s", err_str(r));
		return status_for(msg, r);
	}
	u->state = UP_WRITING;
	u->next = s->ups;
	s->ups = u;
	if ((h = handle_new(s, H_UPLOAD)) == NULL) {
		upload_drop(u);
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "開いているファイルが多すぎます。いくつか閉じてください / "
		    "too many open files: close some first");
	}
	bytes_init(&h->content, 0);
	h->up = u;
	u->open = true;
	return reply_handle(msg, s, h);
}

static int
do_write(struct sess *s, sftp_client_message msg, struct handle *h)
{
	struct upload *u = h->up;
	size_t len = ssh_string_len(msg->data);
	uint64_t end;
	enum err r;

	if (h->kind != H_UPLOAD || u == NULL || u->state != UP_WRITING)
		return deny(msg);
	end = msg->offset + len;
	if (end < msg->offset || end > upload_max(s)) {
		/* Over the size limit: fail now, keep nothing. */
		log_info("%s: upload over the size limit", s->acc.login);
		upload_drop(u);
		quota_settle(s);
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "サイズ上限を超えています / upload too large");
	}
	if ((r = quota_grow(s, u, end)) != ERR_OK) {
		/* Over the account's quota (all its sessions): fail now. */
		log_info("%s: upload over the quota (%s)", s->acc.login,
		    err_str(r));
		upload_drop(u);
		quota_settle(s);
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    r == ERR_TOO_BIG
		        ? "容量制限（クォータ）を超えています / "
		          "over the account's quota"
		        : "容量を確認できません / quota check failed");
	}
	r = vault_put_write(u->put, msg->offset,
	    span_of(ssh_string_data(msg->data), len));
	if (r != ERR_OK) {
		log_err("write: %s", err_str(r));
		upload_drop(u);
		quota_settle(s);
		return status_for(msg, r);
	}
	if (end > u->size)
		u->size = end;
	return sftp_reply_status(msg, SSH_FX_OK, NULL);
}

static int
do_close(struct sess *s, sftp_client_message msg, struct handle *h)
{
	struct upload *u = h->up;
	enum err r;

	if (h->kind != H_UPLOAD) {
		handle_release(s, h);
		return sftp_reply_status(msg, SSH_FX_OK, NULL);
	}
	handle_release(s, h);
	if (u == NULL || u->state == UP_FAILED)
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "アップロードに失敗しました。もう一度送ってください / "
		    "upload failed: please upload again");
	if (u->state != UP_WRITING)
		return sftp_reply_status(msg, SSH_FX_OK, NULL);
	if ((r = vault_put_finish(u->put, NULL)) != ERR_OK) {
		log_err("finish: %s", err_str(r));
		upload_drop(u);
		quota_settle(s);
		return status_for(msg, r);
	}
	quota_settle(s); /* closed: what it did not use goes back */
	if (intake_name_is_temporary(u->name)) {
		u->state = UP_PARKED; /* waits for its rename */
		return sftp_reply_status(msg, SSH_FX_OK, NULL);
	}
	return reply_then_complete(s, msg, u);
}

static int
do_read(struct sess *s, sftp_client_message msg, struct handle *h)
{
	size_t len = msg->len, avail;

	(void)s;
	if (h->kind != H_READ)
		return deny(msg);
	if (msg->offset >= h->content.len)
		return sftp_reply_status(msg, SSH_FX_EOF, NULL);
	avail = h->content.len - (size_t)msg->offset;
	if (len > avail)
		len = avail;
	if (len > 65536)
		len = 65536;
	return sftp_reply_data(msg, h->content.p + msg->offset, (int)len);
}

static int
do_rename(struct sess *s, sftp_client_message msg, const char *from,
    const char *to)
{
	struct intake_vpath a, b;
	struct upload *u;
	enum err r;
	bool dup = false;

	if (intake_vpath_resolve(from, &a) != ERR_OK ||
	    intake_vpath_resolve(to, &b) != ERR_OK)
		return deny(msg);
	/* Only within one upload folder, only an upload of this session. */
	if (a.kind != INTAKE_VN_UPFILE || b.kind != INTAKE_VN_UPFILE ||
	    a.folder != b.folder || strcmp(a.cert, b.cert) != 0 ||
	    !updir_exists(s, &a))
		return deny(msg);
	if ((u = sess_upload(s, &a)) == NULL)
		return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		    "そのファイルはありません / no such file");
	if (u->state != UP_PARKED && u->state != UP_WRITING)
		return deny(msg);
	if (sess_upload(s, &b) != NULL)
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "同じ名前のファイルがあります / already exists");
	if ((r = vault_submission_accepted(s->v, s->acc.id, b.name, &dup)) !=
	    ERR_OK)
		return status_for(msg, r);
	if (dup)
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "この名前のファイルは受理済みで上書きできません。"
		    "別の名前でアップロードしてください / already accepted: "
		    "cannot be overwritten; upload under another name");
	memcpy(u->name, b.name, sizeof(u->name));
	if (u->state == UP_WRITING || intake_name_is_temporary(u->name))
		return sftp_reply_status(msg, SSH_FX_OK, NULL);
	return reply_then_complete(s, msg, u);
}

static int
do_remove(struct sess *s, sftp_client_message msg,
    const struct intake_vpath *vp)
{
	struct upload *u;

	if (vp->kind != INTAKE_VN_UPFILE || !updir_exists(s, vp) ||
	    (u = sess_upload(s, vp)) == NULL)
		return vp->kind == INTAKE_VN_UPFILE
		           ? sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		                 "そのファイルはありません / no such file")
		           : deny(msg);
	if (u->state != UP_PARKED)
		return deny(msg);
	upload_drop(u);
	quota_settle(s);
	return sftp_reply_status(msg, SSH_FX_OK, NULL);
}

static int
dispatch(struct sess *s, sftp_client_message msg)
{
	struct intake_vpath vp;
	struct sftp_attributes_struct a;
	struct handle *h = NULL;
	uint8_t type = msg->type;

	/* CVE-2018-10933: our own record, not libssh's. */
	INVARIANT(s->authed);
	switch (type) {
	case SSH_FXP_READ:
	case SSH_FXP_WRITE:
	case SSH_FXP_CLOSE:
	case SSH_FXP_FSTAT:
	case SSH_FXP_FSETSTAT:
	case SSH_FXP_READDIR:
		if ((h = msg_handle(s, msg)) == NULL)
			return sftp_reply_status(msg, SSH_FX_FAILURE,
			    "無効なハンドルです / invalid handle");
		break;
	case SSH_FXP_REALPATH:
	case SSH_FXP_STAT:
	case SSH_FXP_LSTAT:
	case SSH_FXP_OPEN:
	case SSH_FXP_OPENDIR:
	case SSH_FXP_SETSTAT:
	case SSH_FXP_REMOVE:
		if (intake_vpath_resolve(msg->filename, &vp) != ERR_OK)
			return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
			    "パスが正しくありません（制御文字や \\ は使えません） / "
			    "invalid path (no control characters or backslashes)");
		break;
	default:
		break;
	}
	switch (type) {
	case SSH_FXP_REALPATH:
		fill_attr(&a, true, 0, start_time, false);
		return sftp_reply_name(msg, vp.canon, &a);
	case SSH_FXP_STAT:
	case SSH_FXP_LSTAT:
		if (!vstat(s, &vp, &a))
			return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
			    "そのファイルはありません / no such file");
		return sftp_reply_attr(msg, &a);
	case SSH_FXP_FSTAT:
		if (h->kind == H_READ)
			fill_attr(&a, false, h->content.len, time(NULL), false);
		else if (h->kind == H_UPLOAD && h->up != NULL)
			fill_attr(&a, false, h->up->size, h->up->mtime, true);
		else
			fill_attr(&a, true, 0, start_time, false);
		return sftp_reply_attr(msg, &a);
	case SSH_FXP_OPENDIR:
		return do_opendir(s, msg, &vp);
	case SSH_FXP_READDIR:
		if (h->kind != H_DIR)
			return sftp_reply_status(msg, SSH_FX_FAILURE,
			    "フォルダではありません / not a folder");
		return do_readdir(s, msg, h);
	case SSH_FXP_OPEN:
		return do_open(s, msg, &vp);
	case SSH_FXP_WRITE:
		return do_write(s, msg, h);
	case SSH_FXP_READ:
		return do_read(s, msg, h);
	case SSH_FXP_CLOSE:
		return do_close(s, msg, h);
	case SSH_FXP_FSETSTAT:
		/* WinSCP sets times after every upload: accepted, ignored. */
		return h->kind == H_UPLOAD
		           ? sftp_reply_status(msg, SSH_FX_OK, NULL)
		           : deny(msg);
	case SSH_FXP_SETSTAT:
		if (vp.kind == INTAKE_VN_UPFILE && updir_exists(s, &vp) &&
		    sess_upload(s, &vp) != NULL)
			return sftp_reply_status(msg, SSH_FX_OK, NULL);
		return deny(msg);
	case SSH_FXP_RENAME:
		if (msg->filename == NULL || msg->data == NULL)
			return deny(msg);
		{
			char *to = ssh_string_to_char(msg->data);
			int rc;
			if (to == NULL)
				return deny(msg);
			rc = do_rename(s, msg, msg->filename, to);
			ssh_string_free_char(to);
			return rc;
		}
	case SSH_FXP_REMOVE:
		return do_remove(s, msg, &vp);
	case SSH_FXP_EXTENDED:
		if (msg->submessage != NULL &&
		    strcmp(msg->submessage, "posix-rename@openssh.com") == 0 &&
		    msg->filename != NULL && msg->data != NULL) {
			char *to = ssh_string_to_char(msg->data);
			int rc;
			if (to == NULL)
				return deny(msg);
			rc = do_rename(s, msg, msg->filename, to);
			ssh_string_free_char(to);
			return rc;
		}
		return sftp_reply_status(msg, SSH_FX_OP_UNSUPPORTED,
		    "この操作には対応していません / operation not supported");
	case SSH_FXP_MKDIR:
	case SSH_FXP_RMDIR:
	case SSH_FXP_SYMLINK:
	case SSH_FXP_READLINK:
		/* The tree is fixed; links cannot be made. */
		return deny(msg);
	default:
		return sftp_reply_status(msg, SSH_FX_OP_UNSUPPORTED,
		    "この操作には対応していません / operation not supported");
	}
}

static void
sess_cleanup(struct sess *s)
{
	struct upload *u, *next;

	for (size_t i = 0; i < SESS_MAX_HANDLES; i++)
		if (s->h[i].kind != H_FREE) {
			free(s->h[i].ents);
			bytes_release(&s->h[i].content);
		}
	/* A client that goes away mid-upload leaves nothing behind. */
	for (u = s->ups; u != NULL; u = next) {
		next = u->next;
		vault_put_abort(u->put);
		free(u);
	}
	s->ups = NULL;
}

static void
set_memory_limit(uint64_t mb)
{
#if defined(__SANITIZE_ADDRESS__)
	(void)mb; /* ASan reserves terabytes of address space */
#else
	struct rlimit rl;

	/* libssh 0.10 accepts 256 MiB SFTP packets: cap each session. */
	if (mb == 0)
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)(mb << 20);
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		log_warn("RLIMIT_AS: %s", strerror(errno));
#endif
}

/* How long a finished session waits for the client to close the connection. */
#define SESS_BYE_MS 3000

/*
 * The client ended the sftp channel: close ours (exit status 0, EOF, close)
 * and let the client close the TCP connection first, as sshd does. Clients
 * built on Go's x/crypto/ssh (rclone) report "use of closed network
 * connection" as a failed transfer when the server disconnects first. What
 * the client still sends is read and dropped; after SESS_BYE_MS, or when
 * the job's wait already disconnected, the server closes.
 */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
let_client_close(struct sess *s)
{
	struct pollfd p = {.fd = ssh_get_fd(s->ssh), .events = POLLIN};
	int64_t end = mono_ms() + SESS_BYE_MS;
	char sink[4096];

	if (p.fd < 0 || !ssh_is_connected(s->ssh))
		return;
	if (s->chan != NULL && ssh_channel_is_open(s->chan)) {
		(void)ssh_channel_request_send_exit_status(s->chan, 0);
		(void)ssh_channel_send_eof(s->chan);
		(void)ssh_channel_close(s->chan);
	}
	for (;;) {
		int64_t left = end - mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (read(p.fd, sink, sizeof(sink)) <= 0)
			return; /* the client closed: nothing more to say */
	}
	ssh_disconnect(s->ssh);
}

/* The session process. Never returns. */
__attribute__((noreturn)) static void
session_main(const struct srv_conf *c, const char *vault_dir, ssh_bind bind,
    int fd, int ctl, const char *peer)
{
	struct sess *s = calloc(1, sizeof(*s));
	int one = 1;
	sftp_client_message msg;
	enum err r;

	if (s == NULL)
		_exit(1);
	/* Sessions end with the listener (kill -9 of the server included). */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() == 1)
		_exit(1);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	s->c = c;
	s->vault_dir = vault_dir;
	s->ctl = ctl;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	set_memory_limit(c->memory_mb);
	{
		/* Landlock: never the log key, even with the keeper's uid. */
		static const char *const secret[] = {"log.key", HOSTKEY_NAME,
		    NULL};
		if (keeper_session_confine(secret) == ERR_IO)
			_exit(1);
	}
	alarm((unsigned)c->grace_secs);
	/* Without TCP_NODELAY every small reply waits ~40 ms (Nagle). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((r = vault_open(vault_dir, 0, &s->v)) != ERR_OK) {
		log_err("vault: %s", err_str(r));
		_exit(1);
	}
	if ((s->ssh = ssh_new()) == NULL ||
	    ssh_bind_accept_fd(bind, s->ssh, fd) != SSH_OK) {
		log_err("accept: %s", ssh_get_error(bind));
		_exit(1);
	}
	if (ssh_handle_key_exchange(s->ssh) != SSH_OK) {
		log_info("key exchange with %s failed: %s", s->peer,
		    ssh_get_error(s->ssh));
		_exit(0);
	}
	if (!sess_setup(s)) {
		ssh_disconnect(s->ssh);
		_exit(0);
	}
	alarm(0);
	if (vault_account_certs(s->v, s->acc.login, cert_cb, s) != ERR_OK ||
	    vault_account_usage(s->v, s->acc.id, &s->used) != ERR_OK)
		log_warn("could not load the account's folders");
	ssh_set_message_callback(s->ssh, refuse_cb, NULL);
	if ((s->sftp = sftp_server_new(s->ssh, s->chan)) == NULL ||
	    sftp_server_init(s->sftp) < 0) {
		log_err("sftp init: %s", ssh_get_error(s->ssh));
		_exit(1);
	}
	log_info("session of %s from %s", s->acc.login, s->peer);
	for (;;) {
		alarm((unsigned)c->idle_secs);
		msg = sftp_get_client_message(s->sftp);
		alarm(0);
		if (msg == NULL)
			break;
		job_wait(s);
		if (dispatch(s, msg) < 0) {
			sftp_client_message_free(msg);
			break;
		}
		sftp_client_message_free(msg);
	}
	/* The client is gone or done: let it go, then finish the job. */
	if (s->job_running) {
		ssh_channel_send_eof(s->chan);
		ssh_channel_close(s->chan);
		ssh_disconnect(s->ssh);
		job_wait(s);
	}
	log_info("end of session of %s", s->acc.login);
	sess_cleanup(s);
	sftp_server_free(s->sftp);
	let_client_close(s);
	ssh_free(s->ssh);
	vault_close(s->v);
	free(s);
	_exit(0);
}

/* -------------------------------------------------------------- listener */

struct child {
	pid_t pid;
	int ctl;
	char addr[INET6_ADDRSTRLEN];
	char login[VAULT_LOGIN_MAX + 1];
	bool pending;                   /* a reserved login attempt */
	char pend[VAULT_LOGIN_MAX + 1]; /* its login, "" if unknown */
	bool vslot;                     /* holds a validation slot */
	uint64_t vwait;                 /* waits for one since (order), or 0 */
};

struct listener {
	const struct srv_conf *c;
	struct throttle *t;
	struct keeper *kp; /* the receipt signer (intake/keeper.c) */
	struct gate *g; /* intake/gate.c: pre-auth limits, audit rate, quota */
	struct child *kids;
	size_t nkids, cap;
	size_t vrunning; /* validation slots held (serve.max_validations) */
	uint64_t vseq;
};

/* The longest-waiting session gets a free validation slot. */
static void
vslot_grant(struct listener *l)
{
	while (l->vrunning < l->c->max_validations) {
		struct child *first = NULL;

		for (size_t i = 0; i < l->nkids; i++)
			if (l->kids[i].vwait != 0 &&
			    (first == NULL || l->kids[i].vwait < first->vwait))
				first = &l->kids[i];
		if (first == NULL)
			return;
		first->vwait = 0;
		first->vslot = true;
		l->vrunning++;
		(void)send(first->ctl, "O", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
}

/* A session's slot ends with its validation or with the session. */
static void
vslot_drop(struct listener *l, struct child *k)
{
	k->vwait = 0;
	if (k->vslot) {
		k->vslot = false;
		l->vrunning--;
	}
	vslot_grant(l);
}

/*
 * 'V +': a slot now or, at the cap, the answer waits until one is free
 * (false: no reply yet); 'V -': the validation ended.
 */
static bool
ctl_validation(struct listener *l, struct child *k, const char *arg)
{
	if (strcmp(arg, "-") == 0) {
		vslot_drop(l, k);
		return true;
	}
	if (k->vslot || k->vwait != 0)
		return true; /* one at a time per session */
	k->vwait = ++l->vseq;
	vslot_grant(l);
	return false; /* vslot_grant answered if it could */
}

/* Releases the child's reserved login attempt, if any. */
static void
attempt_end(struct listener *l, struct child *k)
{
	if (!k->pending)
		return;
	throttle_end(l->t, k->addr, k->pend);
	k->pending = false;
}

static size_t
count_addr(struct listener *l, const char *addr)
{
	size_t n = 0;

	for (size_t i = 0; i < l->nkids; i++)
		n += strcmp(l->kids[i].addr, addr) == 0;
	return n;
}

static size_t
count_login(struct listener *l, const char *login)
{
	size_t n = 0;

	for (size_t i = 0; i < l->nkids; i++)
		n += strcmp(l->kids[i].login, login) == 0;
	return n;
}

static void
ctl_handle(struct listener *l, struct child *k)
{
	char buf[128], reply[64];
	/* Peeked: a receipt to sign (keeper_relay) is read by its reader. */
	ssize_t n = recv(k->ctl, buf, sizeof(buf) - 1, MSG_DONTWAIT | MSG_PEEK);
	const char *arg;
	time_t now = time(NULL);

	if (n > 0 && buf[0] != KEEPER_OP_SIGN)
		n = recv(k->ctl, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 2) {
		if (n > 0 && buf[0] == KEEPER_OP_SIGN)
			keeper_relay(l->kp, k->ctl, k->pid, "");
		return;
	}
	buf[n] = 0;
	arg = buf + 2;
	snprintf(reply, sizeof(reply), "O");
	switch (buf[0]) {
	case KEEPER_OP_SIGN:
		/* Signed for the login recorded at 'S', not one it names. */
		keeper_relay(l->kp, k->ctl, k->pid, k->login);
		return;
	case 'Q': {
		/* Reserve the attempt: parallel ones count before they end. */
		const char *u = strcmp(arg, "-") ? arg : "";
		attempt_end(l, k);
		if (!throttle_begin(l->t, k->addr, u, now)) {
			snprintf(reply, sizeof(reply), "L");
			break;
		}
		k->pending = true;
		snprintf(k->pend, sizeof(k->pend), "%.64s", u);
		break;
	}
	case 'F': {
		uint64_t ms;
		bool locked;
		attempt_end(l, k);
		throttle_fail(l->t, k->addr, strcmp(arg, "-") ? arg : NULL, now,
		    &ms, &locked);
		snprintf(reply, sizeof(reply), "%c %llu", locked ? 'L' : 'D',
		    (unsigned long long)ms);
		break;
	}
	case 'S':
		attempt_end(l, k);
		/* One login per session: its receipts name that one only. */
		if (k->login[0] != 0 && strcmp(k->login, arg) != 0) {
			snprintf(reply, sizeof(reply), "X");
			break;
		}
		if (count_login(l, arg) >= l->c->max_per_account) {
			snprintf(reply, sizeof(reply), "X");
			break;
		}
		snprintf(k->login, sizeof(k->login), "%.64s", arg);
		throttle_success(l->t, arg);
		gate_child_authed(l->g, k->pid, k->login);
		break;
	case 'R': /* quota: reserve */
	case 'U': /* quota: give back */
	case 'A': /* how to audit a failed login */
		gate_ctl(l->g, k->pid, buf[0], arg, reply, sizeof(reply));
		break;
	case 'V':
		if (!ctl_validation(l, k, arg))
			return;
		break;
	default:
		snprintf(reply, sizeof(reply), "X");
	}
	(void)send(k->ctl, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* keeper_reply's lookup: the control socket of the session pid. */
static int
ctl_of_pid(void *arg, pid_t pid)
{
	struct listener *l = arg;

	for (size_t i = 0; i < l->nkids; i++)
		if (l->kids[i].pid == pid)
			return l->kids[i].ctl;
	return -1;
}

static void
reap(struct listener *l)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (keeper_reaped(l->kp, pid)) {
			/* No receipt can be signed any more: stop, loudly. */
			log_err("the keeper (pid %d) died: shutting down",
			    (int)pid);
			got_term = 1;
			continue;
		}
		for (size_t i = 0; i < l->nkids; i++) {
			if (l->kids[i].pid != pid)
				continue;
			if (WIFSIGNALED(st) && WTERMSIG(st) != SIGALRM &&
			    WTERMSIG(st) != SIGTERM)
				log_warn("session %d died of signal %d",
				    (int)pid, WTERMSIG(st));
			attempt_end(l, &l->kids[i]);
			gate_child_gone(l->g, pid);
			close(l->kids[i].ctl);
			l->kids[i].ctl = -1;
			vslot_drop(l, &l->kids[i]);
			l->kids[i] = l->kids[--l->nkids];
			break;
		}
	}
}

static enum err
listen_on(const char *spec, int *fd_out, char *shown, size_t shownsz)
{
	char host[128], port[16];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = {0}, *ai = NULL;
	int fd = -1, one = 1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[INET6_ADDRSTRLEN], p[8];
	size_t hl;

	*fd_out = -1;
	if (colon == NULL || strlen(colon + 1) >= sizeof(port))
		return ERR_CONFIG;
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl > 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return ERR_CONFIG;
	memcpy(host, spec, hl);
	host[hl] = 0;
	snprintf(port, sizeof(port), "%s", colon + 1);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		log_err("cannot parse listen address %s", spec);
		return ERR_CONFIG;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0) {
		log_err("listen on %s:%s: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return ERR_IO;
	}
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
	        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(shown, shownsz, strchr(h, ':') ? "[%s]:%s" : "%s:%s",
		    h, p);
	else
		snprintf(shown, shownsz, "%.100s", spec);
	*fd_out = fd;
	return ERR_OK;
}

/* The account serve runs as when started as root without serve.user. */
#define SERVE_DEFAULT_USER "kura"
/* Left to root: read before the drop (host key) or never by serve. */
#define DEMO_PASSFILE_NAME "DEMO-STAFF-PASSPHRASE.txt"

/* useradd --system NAME (no home, no shell); true when NAME exists. */
static bool
ensure_user(const char *name)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		char a0[] = "useradd", a1[] = "--system", a2[] = "--user-group",
		     a3[] = "--no-create-home", a4[] = "--home-dir",
		     a5[] = "/nonexistent", a6[] = "--shell",
		     a7[] = "/usr/sbin/nologin", a8[VAULT_LOGIN_MAX + 1];
		char *const argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL};
		pid_t pid;
		int st;

		snprintf(a8, sizeof(a8), "%s", name);
		if (getpwnam(name) != NULL)
			return true;
		log_info("creating the system account %s for kura serve", name);
		if ((pid = fork()) == 0) {
			execv("/usr/sbin/useradd", argv);
			_exit(127);
		}
		if (pid > 0)
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		if (getpwnam(name) != NULL)
			return true;
		usleep(200000); /* another kura serve may hold the lock */
	}
	return getpwnam(name) != NULL;
}

static uid_t own_uid;
static gid_t own_gid;

/*
 * Gives the serve account what it must write: everything in the vault but
 * the host key and the demo staff passphrase (root's, 0600), and kura.conf
 * and the keys' .pub files (root-owned, group-readable: read only). keys/
 * is root's with the sticky bit, so serve can add its keystore journal but
 * not replace the epoch public key. keys/log.key stays root's (0600): the
 * keeper loads it before it drops, no process running as the account can.
 */
static int
own_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	const char *rel = path;
	uid_t u = own_uid;
	mode_t mode = (mode_t)-1;

	(void)f;
	if (flag == FTW_SL || S_ISLNK(st->st_mode))
		return 0;
	if (strncmp(rel, "./", 2) == 0)
		rel += 2;
	if (strcmp(rel, "keys/" HOSTKEY_NAME) == 0 ||
	    strcmp(rel, DEMO_PASSFILE_NAME) == 0)
		return 0;
	/* Only the keeper reads it, as root, before it drops (keeper.c). */
	if (strcmp(rel, "keys/log.key") == 0) {
		if (lchown(path, 0, 0) != 0 || chmod(path, 0600) != 0)
			log_warn("keys/log.key: %s", strerror(errno));
		return 0;
	}
	if (strcmp(rel, "kura.conf") == 0 || strcmp(rel, "keys/epoch.pub") == 0 ||
	    strcmp(rel, "keys/log.pub") == 0 ||
	    strcmp(rel, "keys/" HOSTKEY_NAME ".pub") == 0) {
		u = 0;
		mode = 0640;
	} else if (strcmp(rel, "keys") == 0) {
		u = 0;
		mode = 01770;
	}
	if (lchown(path, u, own_gid) != 0)
		log_warn("chown %s: %s", rel, strerror(errno));
	if (mode != (mode_t)-1 && chmod(path, mode) != 0)
		log_warn("chmod %s: %s", rel, strerror(errno));
	return 0;
}

/*
 * Never runs a session as uid 0 (review #1): started as root, serve runs as
 * serve.user, else as the vault's owner, else (a root-owned vault) as the
 * system account "kura", made if missing, which is given the vault. The
 * caller has chdir'd into the vault, so the account needs no access to the
 * folders above it.
 */
static enum err
drop_privileges(const struct srv_conf *c, const char *vault_dir,
    struct keeper **kp)
{
	struct stat st;
	struct passwd *pw;
	const char *name = c->user;
	char abs_db[4096];
	uid_t uid;
	gid_t gid;
	enum err r;

	/*
	 * A serve.user that is uid 0 is refused whoever starts serve: started
	 * unprivileged it used to be ignored and the server ran on.
	 */
	if (name[0] != 0 && (pw = getpwnam(name)) != NULL && pw->pw_uid == 0) {
		log_err("serve.user = %s is uid 0: kura serve never runs as "
		        "root; set serve.user in kura.conf to an unprivileged "
		        "account", name);
		return ERR_CONFIG;
	}
	if (geteuid() != 0) /* the keeper runs as we do */
		return keeper_start(vault_dir, (uid_t)-1, (gid_t)-1, kp);
	if (stat(vault_dir, &st) != 0)
		return ERR_IO;
	if (name[0] == 0 && st.st_uid != 0) {
		uid = st.st_uid;
		gid = st.st_gid;
	} else {
		if (name[0] == 0)
			name = SERVE_DEFAULT_USER;
		if (strcmp(name, SERVE_DEFAULT_USER) == 0 && !ensure_user(name)) {
			log_err("cannot create the system account %s (useradd)",
			    name);
			return ERR_PERM;
		}
		if ((pw = getpwnam(name)) == NULL) {
			log_err("serve.user %s: no such user", name);
			return ERR_CONFIG;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (uid != 0) {
			own_uid = uid;
			own_gid = gid;
			(void)nftw(vault_dir, own_one, 16, FTW_PHYS);
		}
	}
	if (getcwd(abs_db, sizeof(abs_db) - 16) == NULL)
		return ERR_IO;
	memcpy(abs_db + strlen(abs_db), "/kura.db", 9);
	if (uid == 0) {
		log_err("kura serve never runs as root: set serve.user in "
		        "kura.conf to an unprivileged account");
		return ERR_PERM;
	}
	/* The keeper reads keys/log.key while we still may, then drops. */
	if ((r = keeper_start(vault_dir, uid, gid, kp)) != ERR_OK)
		return r;
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		log_err("cannot drop privileges: %s", strerror(errno));
		return ERR_PERM;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		log_err("privileges could be regained");
		return ERR_PERM;
	}
	/* SQLite opens by absolute path: the folders above must be open. */
	if (access(abs_db, R_OK | W_OK) != 0) {
		log_err("the serve account (uid %u) cannot reach %s: %s; make "
		        "the folders above the vault searchable (chmod o+x)",
		    (unsigned)uid, abs_db, strerror(errno));
		return ERR_PERM;
	}
	log_info("running as uid %u", (unsigned)uid);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return ERR_OK;
}

static enum err
hostkey_path(const char *vault_dir, char *out, size_t outsz)
{
	char keys[4096];
	enum err r;

	if ((r = fsx_join(keys, sizeof(keys), vault_dir, "keys")) != ERR_OK)
		return r;
	return fsx_join(out, outsz, keys, HOSTKEY_NAME);
}

/* Loads the host key, creating it (Ed25519, 0600) when missing. */
static enum err
hostkey_load(const char *vault_dir, ssh_key *out)
{
	char path[4096];
	ssh_key k = NULL;
	enum err r;
	struct stat st;

	*out = NULL;
	if ((r = hostkey_path(vault_dir, path, sizeof(path))) != ERR_OK)
		return r;
	if (lstat(path, &st) != 0) {
		if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k) != SSH_OK)
			return ERR_CRYPTO;
		if (ssh_pki_export_privkey_file(k, NULL, NULL, NULL, path) !=
		    SSH_OK) {
			ssh_key_free(k);
			return ERR_IO;
		}
		(void)chmod(path, 0600);
		log_info("created host key %s", path);
		*out = k;
		return ERR_OK;
	}
	if (!S_ISREG(st.st_mode))
		return ERR_PERM;
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &k) != SSH_OK)
		return ERR_CRYPTO;
	*out = k;
	return ERR_OK;
}

static enum err
key_fingerprint(ssh_key k, struct bytes *fp, struct bytes *publine)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *s = NULL, *b64 = NULL;
	ssh_key pub = NULL;
	enum err r = ERR_CRYPTO;

	if (ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &hash,
	        &hlen) != SSH_OK)
		goto out;
	if ((s = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
	         hlen)) == NULL)
		goto out;
	bytes_clear(fp);
	if ((r = bytes_put_str(fp, s)) != ERR_OK)
		goto out;
	if (publine != NULL) {
		r = ERR_CRYPTO;
		if (ssh_pki_export_privkey_to_pubkey(k, &pub) != SSH_OK ||
		    ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK)
			goto out;
		bytes_clear(publine);
		if ((r = bytes_printf(publine, "%s %s",
		         ssh_key_type_to_char(ssh_key_type(pub)), b64)) !=
		    ERR_OK)
			goto out;
	}
	r = ERR_OK;
out:
	ssh_string_free_char(b64);
	ssh_key_free(pub);
	ssh_string_free_char(s);
	ssh_clean_pubkey_hash(&hash);
	return r;
}

enum err
intake_hostkey(const char *vault_dir, struct bytes *fp, struct bytes *publine)
{
	ssh_key k = NULL;
	enum err r;

	if ((r = hostkey_load(vault_dir, &k)) != ERR_OK)
		return r;
	r = key_fingerprint(k, fp, publine);
	ssh_key_free(k);
	return r;
}

static void
shutdown_kids(struct listener *l)
{
	struct timespec ts = {0, 50 * 1000000L};

	for (size_t i = 0; i < l->nkids; i++)
		kill(l->kids[i].pid, SIGTERM);
	for (int i = 0; i < 100 && l->nkids > 0; i++) {
		reap(l);
		if (l->nkids > 0)
			nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < l->nkids; i++)
		kill(l->kids[i].pid, SIGKILL);
	while (l->nkids > 0 && waitpid(-1, NULL, 0) > 0)
		reap(l);
}

enum err
intake_serve(const struct intake_serve_opts *o)
{
	struct vault *v = NULL;
	struct srv_conf conf = {0};
	struct listener l = {0};
	struct vault_recover_report rep;
	struct sigaction sa;
	ssh_bind bind = NULL;
	ssh_key hk = NULL;
	struct bytes fp;
	char shown[160];
	int lfd = -1;
	enum err r = ERR_INTERNAL;
	struct pollfd *pfd = NULL;

	bytes_init(&fp, 256);
	start_time = (int64_t)time(NULL);
	log_set_tag("kura-serve");
	/* Recovery needs the vault to itself: no session runs yet. */
	if ((r = vault_open(o->vault_dir, VAULT_OPEN_RECOVER, &v)) != ERR_OK) {
		log_err_r(r, "open vault %s", o->vault_dir);
		goto out;
	}
	if ((r = srv_conf_load(vault_config(v), &conf)) != ERR_OK) {
		log_err("kura.conf: %s", err_str(r));
		goto out;
	}
	if (o->listen != NULL)
		snprintf(conf.listen, sizeof(conf.listen), "%s", o->listen);
	memset(&rep, 0, sizeof(rep));
	if ((r = vault_recover(v, &rep)) != ERR_OK)
		log_warn("recovery: %s", err_str(r));
	else if (rep.staging_removed > 0)
		log_info("removed %u abandoned uploads from staging",
		    rep.staging_removed);
	/* The accounts schema, while nobody else writes. */
	if ((r = vault_accounts_open(v)) != ERR_OK)
		goto out;
	/* Lockouts engaged before a restart still hold (keeper.c). */
	if ((r = throttle_new(&conf, &l.t)) != ERR_OK ||
	    (r = keeper_lockouts_load(v, l.t)) != ERR_OK)
		goto out;
	vault_close(v);
	v = NULL;
	if ((r = hostkey_load(o->vault_dir, &hk)) != ERR_OK) {
		log_err("host key: %s", err_str(r));
		goto out;
	}
	if ((r = key_fingerprint(hk, &fp, NULL)) != ERR_OK)
		goto out;
	r = ERR_INTERNAL;
	if ((bind = ssh_bind_new()) == NULL)
		goto out;
	if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, hk) !=
	    SSH_OK) {
		log_err("host key: %s", ssh_get_error(bind));
		goto out;
	}
	hk = NULL; /* transferred */
	if ((r = listen_on(conf.listen, &lfd, shown, sizeof(shown))) != ERR_OK)
		goto out;
	/* Relative paths from here: the serve account may not see above it. */
	if (chdir(o->vault_dir) != 0) {
		log_err("chdir %s: %s", o->vault_dir, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if ((r = drop_privileges(&conf, ".", &l.kp)) != ERR_OK)
		goto out;
	throttle_on_lock(l.t, keeper_lockout, l.kp);
	if ((r = gate_new(&conf.gate, (size_t)conf.max_sessions, &l.g)) !=
	    ERR_OK)
		goto out;
	/* libmagic & co. once, inherited by every session and validator. */
	if ((r = intake_libs_load(&conf.libs)) != ERR_OK) {
		log_err("libmagic: %s", err_str(r));
		goto out;
	}
	if ((r = dummy_init()) != ERR_OK) {
		log_err("dummy password hash: %s", err_str(r));
		goto out;
	}
	l.c = &conf;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = ERR_IO;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("listening on %s, host key %s", shown, (const char *)fp.p);
	if (o->on_listening != NULL)
		o->on_listening(shown, (const char *)fp.p, o->arg);
	l.cap = conf.max_sessions;
	if ((l.kids = calloc(l.cap, sizeof(*l.kids))) == NULL ||
	    (pfd = calloc(l.cap + 3, sizeof(*pfd))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	while (!got_term) {
		nfds_t n = 0;
		char drain[64];

		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = sig_pipe[0];
		pfd[n++].events = POLLIN;
		for (size_t i = 0; i < l.nkids; i++) {
			pfd[n].fd = l.kids[i].ctl;
			pfd[n++].events = POLLIN;
		}
		pfd[n].fd = keeper_fd(l.kp); /* last: its answers */
		pfd[n++].events = POLLIN;
		if (poll(pfd, n, -1) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			r = ERR_IO;
			goto out;
		}
		while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
			;
		if (got_chld) {
			got_chld = 0;
			reap(&l);
		}
		if ((pfd[n - 1].revents & POLLIN) != 0)
			keeper_reply(l.kp, ctl_of_pid, &l);
		for (nfds_t i = 2; i + 1 < n; i++) {
			if ((pfd[i].revents & POLLIN) == 0)
				continue;
			for (size_t k = 0; k < l.nkids; k++)
				if (l.kids[k].ctl == pfd[i].fd)
					ctl_handle(&l, &l.kids[k]);
		}
		if ((pfd[0].revents & POLLIN) != 0 && !got_term) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			char addr[INET6_ADDRSTRLEN] = "?";
			int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
			    SOCK_CLOEXEC);
			int sp[2];
			pid_t pid;

			if (fd < 0)
				continue;
			(void)getnameinfo((struct sockaddr *)&ss, sl, addr,
			    sizeof(addr), NULL, 0, NI_NUMERICHOST);
			if (l.nkids >= l.cap ||
			    count_addr(&l, addr) >= conf.max_per_addr ||
			    throttle_locked(l.t, addr, NULL, time(NULL)) ||
			    !gate_admit(l.g, addr)) {
				log_debug("refused connection from %s", addr);
				close(fd);
				continue;
			}
			if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
			        0, sp) != 0) {
				close(fd);
				continue;
			}
			gate_before_fork(l.g);
			pid = fork();
			if (pid == 0) {
				struct sigaction dfl;
				memset(&dfl, 0, sizeof(dfl));
				dfl.sa_handler = SIG_DFL;
				sigaction(SIGTERM, &dfl, NULL);
				sigaction(SIGINT, &dfl, NULL);
				sigaction(SIGCHLD, &dfl, NULL);
				close(lfd);
				close(sp[0]);
				close(sig_pipe[0]);
				close(sig_pipe[1]);
				for (size_t k = 0; k < l.nkids; k++)
					close(l.kids[k].ctl);
				keeper_close_fd(l.kp);
				session_main(&conf, ".", bind, fd,
				    sp[1], addr);
			}
			close(fd);
			close(sp[1]);
			if (pid < 0) {
				log_err("fork: %s", strerror(errno));
				close(sp[0]);
				continue;
			}
			memset(&l.kids[l.nkids], 0, sizeof(l.kids[0]));
			l.kids[l.nkids].pid = pid;
			l.kids[l.nkids].ctl = sp[0];
			snprintf(l.kids[l.nkids].addr, sizeof(l.kids[0].addr),
			    "%s", addr);
			l.nkids++;
			gate_child_add(l.g, pid, addr);
		}
	}
	log_info("shutting down (%zu sessions)", l.nkids);
	shutdown_kids(&l);
	r = ERR_OK;
out:
	keeper_stop(l.kp); /* after the sessions: the final checkpoint */
	free(pfd);
	if (lfd >= 0)
		close(lfd);
	for (int i = 0; i < 2; i++)
		if (sig_pipe[i] >= 0) {
			close(sig_pipe[i]);
			sig_pipe[i] = -1;
		}
	free(l.kids);
	gate_free(l.g);
	throttle_free(l.t);
	intake_libs_free(conf.libs);
	ssh_key_free(hk);
	if (bind != NULL)
		ssh_bind_free(bind);
	vault_close(v);
	bytes_release(&fp);
	return r;
}
