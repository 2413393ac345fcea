/*
 * intake/keeper.c - the keeper: the only process of `kura serve` that
 * holds the log key (keys/log.key). Issue 5 (a, signing), (e), (f).
 *
 * The listener forks it at start, before any session and while it still
 * has the privileges to read the key (root-owned, 0600, when serve starts
 * as root); the keeper loads the key, then drops to the serve account like
 * every other process and makes itself non-dumpable (a session running as
 * the same uid can neither ptrace it nor read its memory). It then
 *  - signs receipts: a session sends the note text over its control socket
 *    ("N " + text); the listener adds the login it recorded for that
 *    session after its successful authentication and relays it here; the
 *    keeper signs only a note of the receipt's exact shape whose account
 *    line is that login (keeper_note_check), so a compromised session can
 *    get neither a checkpoint nor another account's receipt signed;
 *  - makes the periodic audit checkpoints (kura.conf
 *    audit.checkpoint_seconds) and one at clean shutdown;
 *  - writes the lockouts the listener engages to kura.db, so a restart
 *    does not free a locked address or login (vault_lockout_put).
 * Signing runs on the main thread and never touches SQLite; checkpoints
 * and lockouts run on a second thread with the keeper's own connection, so
 * a session waiting for its receipt inside its transaction is answered
 * even while the checkpoint waits for that transaction's lock.
 *
 * Listener <-> keeper messages (one SOCK_SEQPACKET record each):
 *   'S' tag[4] loginlen[1] login note   sign note for the session tag
 *   'L' until[8] level[4] key           keep a lockout
 *   'T'                                 final checkpoint, then exit
 *   'K'                                 (keeper) ready: key loaded
 *   'O' tag[4] signed-note | 'E' tag[4] (keeper) the answer for tag
 * Session <-> listener: "N " note, answered "O" signed-note or "E".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/landlock.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/utf8.h"
#include "intake/serve_int.h"
#include "common/banned.h"

#define KEEPER_HDR      5 /* op + tag */
#define KEEPER_MSG_MAX  (KEEPER_HDR + 1 + VAULT_LOGIN_MAX + KEEPER_NOTE_MAX)
#define KEEPER_SIGNED_MAX (KEEPER_NOTE_MAX + 1024) /* + signature lines */
#define KEEPER_QUEUE    256 /* lockouts waiting for the database */
#define KEEPER_ANSWER_S 60  /* a session waits this long for its receipt */
#define KEEPER_STOP_S   20  /* the listener waits this long at shutdown */

struct keeper {
	pid_t pid; /* 0 once reaped */
	int fd;    /* the listener's end */
};

/* ---------------------------------------------------- the request check */

static bool
line_is(struct span l, const char *key, struct span *val)
{
	size_t n = strlen(key);

	if (l.len <= n || memcmp(l.p, key, n) != 0)
		return false;
	*val = span_of(l.p + n, l.len - n);
	return true;
}

static bool
all_digits(struct span v, size_t max)
{
	if (v.len == 0 || v.len > max || (v.len > 1 && v.p[0] == '0'))
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
	return true;
}

static bool
lower_hex(struct span v, size_t len)
{
	if (v.len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((v.p[i] >= '0' && v.p[i] <= '9') ||
		        (v.p[i] >= 'a' && v.p[i] <= 'f')))
			return false;
	return true;
}

enum err
keeper_note_check(struct span note, const char *login)
{
	/* The header lines of docs/receipt.md, in this order. */
	static const char *const keys[] = {"receipt: ", "issued: ",
	    "account: ", "type: ", "certification: ", "case: ", "file: ",
	    "zip-size: ", "zip-sha256: ", "documents: "};
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	const uint8_t *p = note.p, *end = note.p + note.len;
	size_t line = 0, ndocs = 0;
	struct span val;

	if (login == NULL || !vault_login_valid(login))
		return ERR_PERM;
	if (note.len == 0 || note.len > KEEPER_NOTE_MAX)
		return ERR_TOO_BIG;
	/* A signed note's text ends with a newline; no other control char. */
	if (note.p[note.len - 1] != '\n' || !utf8_valid(note.p, note.len))
		return ERR_INVALID;
	for (size_t i = 0; i < note.len; i++)
		if ((note.p[i] < 0x20 && note.p[i] != '\n') || note.p[i] == 0x7f)
			return ERR_INVALID;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		struct span l = span_of(p, (size_t)(nl - p));

		p = nl + 1;
		/* No empty line: the text could then carry signature lines. */
		if (l.len == 0)
			return ERR_INVALID;
		if (line == 0) {
			if (!span_eq_str(l, KEEPER_RECEIPT_FORMAT))
				return ERR_INVALID;
		} else if (line <= nkeys) {
			const char *k = keys[line - 1];
			if (!line_is(l, k, &val))
				return ERR_INVALID;
			if (strcmp(k, "account: ") == 0 &&
			    !span_eq_str(val, login))
				return ERR_PERM;
			if (strcmp(k, "zip-size: ") == 0 && !all_digits(val, 20))
				return ERR_INVALID;
			if (strcmp(k, "zip-sha256: ") == 0 &&
			    !lower_hex(val, 2 * CRY_HASH_LEN))
				return ERR_INVALID;
			if (strcmp(k, "documents: ") == 0) {
				if (!span_eq_str(val, "0") && !all_digits(val, 6))
					return ERR_INVALID;
				for (size_t i = 0; i < val.len; i++)
					ndocs = ndocs * 10 + (size_t)(val.p[i] - '0');
			}
		} else if (!line_is(l, "document: ", &val) ||
		    line - nkeys > ndocs) {
			return ERR_INVALID;
		}
		line++;
	}
	if (line != nkeys + 1 + ndocs)
		return ERR_INVALID;
	return ERR_OK;
}

/* ------------------------------------------------------- the keeper */

struct lock_item {
	char key[VAULT_LOCKOUT_KEY_MAX + 1];
	int64_t until;
	uint32_t level;
};

struct kstate {
	struct vault *v;
	uint64_t interval; /* audit.checkpoint_seconds; 0: at shutdown only */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct lock_item q[KEEPER_QUEUE];
	size_t nq;
};

static void
checkpoint(struct kstate *ks, uint64_t min_interval, const char *why)
{
	struct bytes note;
	bool made = false;
	enum err r;

	bytes_init(&note, 64 * 1024);
	r = audit_checkpoint(vault_audit(ks->v), min_interval, &note, &made);
	if (r != ERR_OK)
		log_err_r(r, "keeper: checkpoint (%s)", why);
	else if (made)
		log_info("keeper: signed a checkpoint (%s)", why);
	bytes_release(&note);
}

/* The database thread: lockouts as they come, checkpoints when due. */
static void *
db_main(void *arg)
{
	struct kstate *ks = arg;
	uint64_t period = ks->interval > 4 ? ks->interval / 4 : 1;
	struct timespec due;

	/* audit_checkpoint() keeps the interval; a look a day is enough. */
	if (period > 86400)
		period = 86400;

	clock_gettime(CLOCK_MONOTONIC, &due);
	due.tv_sec += (time_t)period;
	pthread_mutex_lock(&ks->mu);
	for (;;) {
		struct lock_item item;
		struct timespec now;

		while (!ks->stop && ks->nq == 0) {
			if (ks->interval == 0)
				pthread_cond_wait(&ks->cv, &ks->mu);
			else if (pthread_cond_timedwait(&ks->cv, &ks->mu,
			             &due) == ETIMEDOUT)
				break;
		}
		if (ks->nq > 0) {
			item = ks->q[0];
			memmove(&ks->q[0], &ks->q[1],
			    (ks->nq - 1) * sizeof(ks->q[0]));
			ks->nq--;
			pthread_mutex_unlock(&ks->mu);
			if (vault_lockout_put(ks->v, item.key, item.until,
			        item.level, (int64_t)time(NULL)) != ERR_OK)
				log_err("keeper: could not keep the lockout of "
				        "%s",
				    item.key);
			pthread_mutex_lock(&ks->mu);
			continue;
		}
		if (ks->stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ks->interval > 0 && now.tv_sec >= due.tv_sec) {
			pthread_mutex_unlock(&ks->mu);
			checkpoint(ks, ks->interval, "periodic");
			pthread_mutex_lock(&ks->mu);
			clock_gettime(CLOCK_MONOTONIC, &due);
			due.tv_sec += (time_t)period;
		}
	}
	pthread_mutex_unlock(&ks->mu);
	/* Clean shutdown: whatever was logged gets a signed checkpoint. */
	checkpoint(ks, 0, "shutdown");
	return NULL;
}

static void
answer(int fd, char op, const uint8_t tag[4], struct span body)
{
	struct iovec iov[2];
	struct msghdr mh = {0};
	char hdr[KEEPER_HDR];

	hdr[0] = op;
	memcpy(hdr + 1, tag, 4);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)body.p;
	iov[1].iov_len = body.len;
	mh.msg_iov = iov;
	mh.msg_iovlen = body.len > 0 ? 2 : 1;
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		log_err("keeper: answer: %s", strerror(errno));
}

static void
do_sign(struct kstate *ks, int fd, const uint8_t *m, size_t n)
{
	char login[VAULT_LOGIN_MAX + 1];
	struct bytes out;
	struct span note;
	size_t ll;
	enum err r = ERR_PROTOCOL;

	bytes_init(&out, KEEPER_SIGNED_MAX);
	if (n < KEEPER_HDR + 1)
		return;
	ll = m[KEEPER_HDR];
	if (ll > VAULT_LOGIN_MAX || n < KEEPER_HDR + 1 + ll)
		goto out;
	memcpy(login, m + KEEPER_HDR + 1, ll);
	login[ll] = 0;
	note = span_of(m + KEEPER_HDR + 1 + ll, n - KEEPER_HDR - 1 - ll);
	if ((r = keeper_note_check(note, login)) != ERR_OK) {
		log_warn("keeper: refused to sign a note for %s: %s", login,
		    err_str(r));
		goto out;
	}
	r = audit_sign_note(vault_audit(ks->v), note, &out);
	if (r != ERR_OK)
		log_err("keeper: sign: %s", err_str(r));
out:
	answer(fd, r == ERR_OK ? 'O' : 'E', m + 1,
	    r == ERR_OK ? bytes_span(&out) : span_of(NULL, 0));
	bytes_release(&out);
}

static void
do_lock(struct kstate *ks, const uint8_t *m, size_t n)
{
	struct lock_item it = {0};
	size_t kl;

	if (n < 1 + 8 + 4 + 1 || (kl = n - 13) > VAULT_LOCKOUT_KEY_MAX)
		return;
	memcpy(&it.until, m + 1, 8);
	memcpy(&it.level, m + 9, 4);
	memcpy(it.key, m + 13, kl);
	it.key[kl] = 0;
	pthread_mutex_lock(&ks->mu);
	if (ks->nq == KEEPER_QUEUE) {
		log_warn("keeper: lockout queue full; %s not kept", it.key);
	} else {
		ks->q[ks->nq++] = it;
		pthread_cond_signal(&ks->cv);
	}
	pthread_mutex_unlock(&ks->mu);
}

static enum err
keeper_drop(uid_t uid, gid_t gid)
{
	if (uid == (uid_t)-1)
		return ERR_OK;
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		log_err("keeper: cannot drop privileges: %s", strerror(errno));
		return ERR_PERM;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		log_err("keeper: privileges could be regained");
		return ERR_PERM;
	}
	return ERR_OK;
}

/* The keeper process. Never returns. */
__attribute__((noreturn)) static void
keeper_main(int fd, const char *vault_dir, uid_t uid, gid_t gid)
{
	static struct kstate ks; /* one per process: the child's own */
	struct rlimit rl = {0, 0};
	pthread_condattr_t ca;
	pthread_t th;
	uint8_t *m = NULL;
	char ready = 'K';
	bool up;
	enum err r;

	/* Only its own socket: not the listening one, nor sessions'. */
	if (dup2(fd, 3) != 3)
		_exit(1);
	fd = 3;
	(void)close_range(4, ~0U, 0);
	/* Tests and operators tell it from the sessions by this name. */
	(void)prctl(PR_SET_NAME, "kura-keeper", 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/*
	 * It stops when the listener says so ('T', after the sessions) or is
	 * gone (end of file, kill -9 included): a SIGTERM or Ctrl-C sent to
	 * every process of serve must not make the shutdown checkpoint
	 * before the sessions have ended.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	if ((r = vault_open(vault_dir, 0, &ks.v)) != ERR_OK) {
		log_err("keeper: open vault: %s", err_str(r));
		_exit(1);
	}
	/* The only read of keys/log.key in serve, before the drop. */
	if ((r = audit_signer_load(vault_audit(ks.v))) != ERR_OK) {
		log_err("keeper: keys/log.key: %s", err_str(r));
		_exit(1);
	}
	if (keeper_drop(uid, gid) != ERR_OK)
		_exit(1);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* A uid change can reset it: the key's memory stays unreadable. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (config_u64(vault_config(ks.v), "audit.checkpoint_seconds",
	        AUDIT_CHECKPOINT_SECONDS, &ks.interval) != ERR_OK) {
		log_err("keeper: kura.conf: audit.checkpoint_seconds");
		_exit(1);
	}
	if ((m = malloc(KEEPER_MSG_MAX + 1)) == NULL)
		_exit(1);
	pthread_mutex_init(&ks.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ks.cv, &ca);
	if (pthread_create(&th, NULL, db_main, &ks) != 0)
		_exit(1);
	log_info("keeper: log key loaded; checkpoints every %llu s",
	    (unsigned long long)ks.interval);
	up = send(fd, &ready, 1, MSG_NOSIGNAL) == 1;
	while (up) {
		struct pollfd pf = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pf, 1, -1) < 0)
			continue;
		n = recv(fd, m, KEEPER_MSG_MAX + 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break; /* the listener is gone */
		if ((size_t)n > KEEPER_MSG_MAX)
			continue; /* the listener never sends one this big */
		if (m[0] == 'S')
			do_sign(&ks, fd, m, (size_t)n);
		else if (m[0] == 'L')
			do_lock(&ks, m, (size_t)n);
		else if (m[0] == 'T')
			break;
	}
	pthread_mutex_lock(&ks.mu);
	ks.stop = true;
	pthread_cond_signal(&ks.cv);
	pthread_mutex_unlock(&ks.mu);
	pthread_join(th, NULL);
	vault_close(ks.v);
	free(m);
	log_info("keeper: stopped");
	_exit(0);
}

enum err
keeper_start(const char *vault_dir, uid_t uid, gid_t gid,
    struct keeper **out)
{
	struct keeper *kp = NULL;
	struct pollfd pf;
	int sp[2] = {-1, -1};
	char c = 0;
	enum err r = ERR_INTERNAL;

	*out = NULL;
	if ((kp = calloc(1, sizeof(*kp))) == NULL)
		return ERR_NOMEM;
	kp->fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		r = ERR_IO;
		goto out;
	}
	fflush(NULL);
	if ((kp->pid = fork()) < 0) {
		log_err("fork: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if (kp->pid == 0) {
		close(sp[0]);
		keeper_main(sp[1], vault_dir, uid, gid);
	}
	close(sp[1]);
	sp[1] = -1;
	kp->fd = sp[0];
	sp[0] = -1;
	/* Ready once the key is loaded and the keeper has dropped. */
	pf.fd = kp->fd;
	pf.events = POLLIN;
	r = ERR_CRYPTO;
	if (poll(&pf, 1, 30000) != 1 || recv(kp->fd, &c, 1, 0) != 1 ||
	    c != 'K') {
		log_err("the keeper did not start (keys/log.key?)");
		goto out;
	}
	(void)fcntl(kp->fd, F_SETFL, O_NONBLOCK);
	*out = kp;
	kp = NULL; /* transferred */
	r = ERR_OK;
out:
	for (int i = 0; i < 2; i++)
		if (sp[i] >= 0)
			close(sp[i]);
	if (kp != NULL) {
		if (kp->pid > 0) {
			kill(kp->pid, SIGKILL);
			(void)waitpid(kp->pid, NULL, 0);
		}
		if (kp->fd >= 0)
			close(kp->fd);
		free(kp);
	}
	return r;
}

/* ------------------------------------------------------- the listener */

int
keeper_fd(const struct keeper *kp)
{
	return kp != NULL ? kp->fd : -1;
}

static void
to_session(int ctl, const char *op, struct span body)
{
	struct iovec iov[2];
	struct msghdr mh = {0};

	iov[0].iov_base = (void *)(uintptr_t)op;
	iov[0].iov_len = 1;
	iov[1].iov_base = (void *)(uintptr_t)body.p;
	iov[1].iov_len = body.len;
	mh.msg_iov = iov;
	mh.msg_iovlen = body.len > 0 ? 2 : 1;
	(void)sendmsg(ctl, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void
keeper_relay(struct keeper *kp, int ctl, pid_t tag, const char *login)
{
	size_t ll = strlen(login);
	uint8_t *m = NULL;
	int32_t t = (int32_t)tag;
	ssize_t n;
	char drop;

	/* Not authenticated (no login recorded yet), no keeper, no memory. */
	if (ll == 0 || ll > VAULT_LOGIN_MAX || kp == NULL || kp->pid == 0 ||
	    (m = malloc(KEEPER_MSG_MAX + 2)) == NULL) {
		(void)recv(ctl, &drop, 1, MSG_DONTWAIT);
		to_session(ctl, "E", span_of(NULL, 0));
		return;
	}
	/* "N " lands where the login goes: the note is read in place. */
	n = recv(ctl, m + KEEPER_HDR + 1 + ll - 2, KEEPER_NOTE_MAX + 3,
	    MSG_DONTWAIT | MSG_TRUNC);
	if (n < 3 || (size_t)n > KEEPER_NOTE_MAX + 2) {
		to_session(ctl, "E", span_of(NULL, 0));
		goto out;
	}
	m[0] = 'S';
	memcpy(m + 1, &t, 4);
	m[KEEPER_HDR] = (uint8_t)ll;
	memcpy(m + KEEPER_HDR + 1, login, ll);
	if (send(kp->fd, m, KEEPER_HDR + 1 + ll + (size_t)n - 2,
	        MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		log_err("keeper: relay: %s", strerror(errno));
		to_session(ctl, "E", span_of(NULL, 0));
	}
out:
	free(m);
}

void
keeper_reply(struct keeper *kp, int (*ctl_of)(void *arg, pid_t tag),
    void *arg)
{
	uint8_t *m = malloc(KEEPER_HDR + KEEPER_SIGNED_MAX + 1);
	ssize_t n;
	int32_t t;
	int ctl;

	if (m == NULL)
		return;
	while ((n = recv(kp->fd, m, KEEPER_HDR + KEEPER_SIGNED_MAX + 1,
	            MSG_DONTWAIT)) >= KEEPER_HDR) {
		if ((size_t)n > KEEPER_HDR + KEEPER_SIGNED_MAX ||
		    (m[0] != 'O' && m[0] != 'E'))
			continue;
		memcpy(&t, m + 1, 4);
		if ((ctl = ctl_of(arg, (pid_t)t)) < 0)
			continue; /* the session is gone */
		to_session(ctl, m[0] == 'O' ? "O" : "E",
		    span_of(m + KEEPER_HDR, (size_t)n - KEEPER_HDR));
	}
	free(m);
}

void
keeper_lockout(void *arg, const char *key, time_t until, unsigned level)
{
	struct keeper *kp = arg;
	uint8_t m[13 + VAULT_LOCKOUT_KEY_MAX];
	size_t kl = strlen(key);
	int64_t u = (int64_t)until;
	uint32_t lv = level;

	if (kp == NULL || kp->pid == 0 || kl == 0 ||
	    kl > VAULT_LOCKOUT_KEY_MAX)
		return;
	m[0] = 'L';
	memcpy(m + 1, &u, 8);
	memcpy(m + 9, &lv, 4);
	memcpy(m + 13, key, kl);
	if (send(kp->fd, m, 13 + kl, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warn("keeper: lockout of %s not kept: %s", key,
		    strerror(errno));
}

bool
keeper_reaped(struct keeper *kp, pid_t pid)
{
	if (kp == NULL || kp->pid == 0 || kp->pid != pid)
		return false;
	kp->pid = 0;
	return true;
}

void
keeper_close_fd(struct keeper *kp)
{
	if (kp != NULL && kp->fd >= 0) {
		close(kp->fd);
		kp->fd = -1;
	}
}

void
keeper_stop(struct keeper *kp)
{
	struct timespec ts = {0, 50 * 1000000L};
	char t = 'T';

	if (kp == NULL)
		return;
	if (kp->pid > 0) {
		(void)send(kp->fd, &t, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		/* The final checkpoint may wait for the database a while. */
		for (int i = 0; i < KEEPER_STOP_S * 20; i++) {
			pid_t w = waitpid(kp->pid, NULL, WNOHANG);
			if (w == kp->pid || (w < 0 && errno == ECHILD)) {
				kp->pid = 0;
				break;
			}
			nanosleep(&ts, NULL);
		}
		if (kp->pid > 0) {
			log_err("the keeper did not stop: killed");
			kill(kp->pid, SIGKILL);
			(void)waitpid(kp->pid, NULL, 0);
		}
	}
	keeper_close_fd(kp);
	free(kp);
}

/* ---------------------------------------------------------- lockouts */

static enum err
restore_one(void *arg, const char *key, int64_t until, uint32_t level)
{
	struct throttle *t = arg;
	enum err r = throttle_restore(t, key, (time_t)until, level, time(NULL));

	if (r == ERR_OK)
		log_info("lockout of %s kept until %lld", key, (long long)until);
	else
		log_warn("lockout of %s not restored: %s", key, err_str(r));
	return ERR_OK;
}

enum err
keeper_lockouts_load(struct vault *v, struct throttle *t)
{
	enum err r;

	if ((r = vault_lockouts_open(v)) != ERR_OK)
		return r;
	return vault_lockouts_load(v, (int64_t)time(NULL), restore_one, t);
}

/* ----------------------------------------------------------- the session */

enum err
keeper_sign(int ctl, struct span note, struct bytes *out)
{
	struct iovec iov[2];
	struct msghdr mh = {0};
	struct pollfd pf = {ctl, POLLIN, 0};
	char op[2] = {KEEPER_OP_SIGN, ' '};
	uint8_t *m = NULL;
	ssize_t n;
	enum err r = ERR_INTERNAL;

	if (note.len == 0 || note.len > KEEPER_NOTE_MAX)
		return ERR_TOO_BIG;
	if ((m = malloc(KEEPER_SIGNED_MAX + 2)) == NULL)
		return ERR_NOMEM;
	iov[0].iov_base = op;
	iov[0].iov_len = 2;
	iov[1].iov_base = (void *)(uintptr_t)note.p;
	iov[1].iov_len = note.len;
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	r = ERR_IO;
	if (sendmsg(ctl, &mh, MSG_NOSIGNAL) != (ssize_t)(note.len + 2))
		goto out;
	for (;;) {
		int k = poll(&pf, 1, KEEPER_ANSWER_S * 1000);
		if (k < 0 && errno == EINTR)
			continue;
		if (k != 1) {
			log_err("no answer from the keeper");
			goto out;
		}
		break;
	}
	n = recv(ctl, m, KEEPER_SIGNED_MAX + 2, 0);
	if (n < 1 || (size_t)n > KEEPER_SIGNED_MAX + 1)
		goto out;
	r = ERR_PERM;
	if (m[0] != 'O' || n < 2) {
		log_err("the keeper refused to sign the receipt");
		goto out;
	}
	r = bytes_put(out, m + 1, (size_t)n - 1);
out:
	free(m);
	return r;
}

/* ------------------------------------------- the session's Landlock */

/* Grants reading the files beneath dirfd/name (never through a symlink). */
static void
allow_beneath(int rs, int dirfd, const char *name, size_t *nrules)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	/* A symlink's target is granted, or not, where it lives. */
	if (fstat(fd, &st) == 0 && !S_ISLNK(st.st_mode)) {
		memset(&pb, 0, sizeof(pb));
		/* Renames (staging/ to cases/) need REFER, dirs only. */
		pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
		                    (S_ISDIR(st.st_mode) ? LANDLOCK_ACCESS_FS_REFER
		                                         : 0);
		pb.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
		        &pb, 0) == 0)
			(*nrules)++;
	}
	close(fd);
}

/*
 * Grants every entry of dir except those named in skip (NULL-ended). A
 * folder above the vault that we may not list (mode 0711) keeps its
 * other entries unreadable: the session needs none of them.
 */
static enum err
allow_all_but(int rs, const char *dir, const char *const *skip, bool above,
    size_t *nrules)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL && above && errno == EACCES) {
		log_debug("landlock: %s cannot be listed: left closed", dir);
		return ERR_OK;
	}
	if (d == NULL) {
		log_err("landlock: %s: %s", dir, strerror(errno));
		return ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		bool skipped = strcmp(e->d_name, ".") == 0 ||
		               strcmp(e->d_name, "..") == 0;
		for (size_t i = 0; !skipped && skip[i] != NULL; i++)
			skipped = strcmp(e->d_name, skip[i]) == 0;
		if (!skipped)
			allow_beneath(rs, dirfd(d), e->d_name, nrules);
	}
	closedir(d);
	return ERR_OK;
}

enum err
keeper_session_confine(const char *const *secret)
{
	struct landlock_ruleset_attr attr;
	char vault[PATH_MAX], dir[PATH_MAX], keys[PATH_MAX + 8];
	const char *keys_skip[] = {"keys", NULL};
	size_t nrules = 0, n;
	long abi;
	int rs = -1;
	enum err r = ERR_INTERNAL;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	/* ABI 1 denies every rename across folders (staging/ to cases/). */
	if (abi < 2) {
		log_debug("landlock: not available (%s)",
		    abi < 0 ? strerror(errno) : "ABI 1");
		return ERR_NOT_FOUND;
	}
	if (getcwd(vault, sizeof(vault)) == NULL || vault[0] != '/')
		return ERR_IO;
	/*
	 * Only reading files (and REFER, which Landlock denies whether
	 * handled or not) is handled: what a session writes is bounded
	 * by its uid and the vault's modes, and it must keep working. Reads
	 * are granted beneath every directory entry from / down to the vault
	 * but the one leading to it, then every vault entry but keys/, then
	 * every file in keys/ but the secret ones: so nothing else changes.
	 */
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs =
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_REFER;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
	    0);
	if (rs < 0) {
		log_err("landlock: create: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	for (n = 1; n < strlen(vault);) {
		const char *c = vault + n, *slash = strchr(c, '/');
		size_t clen = slash != NULL ? (size_t)(slash - c) : strlen(c);
		char comp[NAME_MAX + 1];
		const char *skip[] = {comp, NULL};

		if (clen == 0)
			break;
		if (clen > NAME_MAX)
			goto out;
		memcpy(comp, c, clen);
		comp[clen] = 0;
		memcpy(dir, vault, n);
		dir[n > 1 ? n - 1 : 1] = 0; /* "/" or "/a/b" */
		if ((r = allow_all_but(rs, dir, skip, true, &nrules)) !=
		    ERR_OK)
			goto out;
		n += clen + 1;
	}
	(void)snprintf(keys, sizeof(keys), "%s/keys", vault);
	if ((r = allow_all_but(rs, vault, keys_skip, false, &nrules)) !=
	        ERR_OK ||
	    (r = allow_all_but(rs, keys, secret, false, &nrules)) != ERR_OK)
		goto out;
	r = ERR_IO;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		log_err("landlock: restrict: %s", strerror(errno));
		goto out;
	}
	log_debug("landlock: reading keys/ secrets denied (%zu rules, ABI %ld)",
	    nrules, abi);
	r = ERR_OK;
out:
	if (rs >= 0)
		close(rs);
	return r;
}
