/*
 * intake/serve_int.h - internal to the SFTP server (intake/sftpd.c,
 * intake/submit.c, intake/throttle.c). Other modules must not include it.
 */
#ifndef INTAKE_SERVE_INT_H
#define INTAKE_SERVE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/bytes.h"
#include "common/config.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "intake/gate_int.h"
#include "intake/intake.h"
#include "vault/vault.h"

/* Settings read once from kura.conf (docs/serve.md lists them). */
struct srv_conf {
	char listen[128];
	uint64_t grace_secs;       /* serve.login_grace_secs */
	uint64_t idle_secs;        /* serve.idle_secs */
	uint64_t max_sessions;     /* serve.max_sessions */
	uint64_t max_per_addr;     /* serve.max_sessions_per_address */
	uint64_t max_per_account;  /* serve.max_sessions_per_account */
	uint64_t auth_tries;       /* serve.max_auth_tries per connection */
	uint64_t memory_mb;        /* serve.memory_limit_mb (RLIMIT_AS) */
	bool throttle;             /* throttle.enabled */
	uint64_t free_failures;    /* throttle.free_failures: no delay */
	uint64_t delay_ms;         /* throttle.delay_ms: first delay */
	uint64_t delay_max_ms;     /* throttle.delay_max_ms */
	uint64_t addr_failures;    /* throttle.address_failures: lockout */
	uint64_t account_failures; /* throttle.account_failures: lockout */
	uint64_t lock_secs;        /* throttle.lock_secs (doubles each time) */
	uint64_t window_secs;      /* throttle.window_secs */
	uint64_t max_upload;       /* limits.max_upload (bytes) */
	uint64_t quota;            /* limits.quota (bytes) */
	char receipt_format[64];   /* intake.receipt_format */
	char smtp_host[256];       /* smtp.host; "" = no e-mail */
	uint64_t smtp_port;        /* smtp.port */
	char smtp_from[256];       /* smtp.from */
	char user[64];             /* serve.user */
	struct gate_conf gate;     /* intake/gate.c: pre-auth, audit rate, quota */
	uint64_t max_validations; /* serve.max_validations (all sessions) */
	struct intake_libs *libs; /* loaded once by the listener */
};

MUST_CHECK enum err srv_conf_load(const struct config *c, struct srv_conf *out);

/* ---- throttle (the listening process keeps the counts) ---- */
struct throttle;
MUST_CHECK enum err throttle_new(const struct srv_conf *c,
    struct throttle **out);
void throttle_free(struct throttle *t);
/* True when addr or login is locked out now. login may be NULL. */
bool throttle_locked(struct throttle *t, const char *addr, const char *login,
    time_t now);
/*
 * Records a failed login; *delay_ms gets how long the session waits
 * before answering, *locked whether this failure engaged a lockout.
 */
void throttle_fail(struct throttle *t, const char *addr, const char *login,
    time_t now, uint64_t *delay_ms, bool *locked);
void throttle_success(struct throttle *t, const char *login);
/*
 * Reserves one login attempt (login NULL or "" for an unknown login: the
 * address only) before its password or key is checked; false when the
 * address or login is locked, when the attempts in flight would reach a
 * lockout limit, or when the table has no slot left. Every true is paired
 * with one throttle_end (after throttle_fail/throttle_success).
 */
MUST_CHECK bool throttle_begin(struct throttle *t, const char *addr,
    const char *login, time_t now);
void throttle_end(struct throttle *t, const char *addr, const char *login);
/*
 * fn is called with every lockout engaged (key "a:ADDR" or "u:LOGIN", the
 * time it ends, the lockouts of that key so far), so that the keeper can
 * keep it in kura.db across restarts.
 */
void throttle_on_lock(struct throttle *t,
    void (*fn)(void *arg, const char *key, time_t until, unsigned level),
    void *arg);
/*
 * Restores a kept lockout at start (an expired one is ignored, one longer
 * than this configuration allows is shortened). ERR_INVALID for a key
 * throttle_on_lock did not give, ERR_TOO_BIG when no slot is left.
 */
MUST_CHECK enum err throttle_restore(struct throttle *t, const char *key,
    time_t until, unsigned level, time_t now);
/* The key addresses are counted by: IPv6 by its /64, IPv4 as is. */
void throttle_addr_key(const char *addr, char *out, size_t outsz);

/* ---- an upload's completion (intake/submit.c) ---- */
struct srv_upload_info {
	const struct vault_account *account;
	enum intake_folder folder;
	const char *cert;    /* "" for new */
	const char *name;    /* final name, as the client gave it */
	const char *case_id; /* linked case for renewal...; may be "" */
	const char *peer;    /* client address, for the audit log */
	int ctl; /* the listener's control socket (validation slots, the
	          * keeper's signatures); -1: none */
};
/*
 * Validates the finished put p (the same checks as `kura check`, type from
 * the folder), writes /results/NAME.result.txt and .result.json, and on
 * acceptance stores every document in a new or the linked case, assigns a
 * receipt number, writes NAME.receipt and sends the e-mail. Takes p
 * (aborted on rejection). *accepted tells the verdict. An error other than
 * a rejection means nothing was kept.
 */
MUST_CHECK enum err srv_submit(struct vault *v, const struct srv_conf *c,
    const struct srv_upload_info *u, struct vault_put *p, bool *accepted);

/* ---- the sandboxed validator (intake/sandbox.c) ---- */
struct srv_verdict {
	/*
	 * accept, zip size and SHA-256 (from the staged put), documents
	 * (number, name, role, format from the validator; size and SHA-256
	 * measured here from the stored bytes); problems only counted.
	 */
	struct intake_report *rep;
	struct bytes json, text; /* rendered by the validator, UTF-8 checked */
	struct vault_put **puts; /* per document, finished; NULL if not read */
	size_t nputs;
	char (*formats)[32];
};
/*
 * Validates the finished put zip in a sandboxed child (one slot of the
 * listener's serve.max_validations), storing the documents it streams
 * into fresh puts. ERR_INTERNAL on a timeout, a dead child or any
 * protocol violation; out is then empty and nothing was kept. zip stays
 * the caller's.
 */
MUST_CHECK enum err srv_validate(struct vault *v, const struct srv_conf *c,
    const struct srv_upload_info *u, enum intake_type type,
    struct vault_put *zip, struct srv_verdict *out);
void srv_verdict_release(struct srv_verdict *vd);

/* Plain SMTP to host:port (intake/smtp.c); bounded, loopback-friendly. */
MUST_CHECK enum err srv_smtp_send(const char *host, uint64_t port,
    const char *from, const char *to, const char *subject, const char *body);

/* ---- the keeper (intake/keeper.c): the only holder of keys/log.key ---- */
#define KEEPER_NOTE_MAX       (96u << 10) /* a receipt's text, bytes */
#define KEEPER_OP_SIGN        'N' /* session -> listener: "N " + text */
#define KEEPER_RECEIPT_FORMAT "kura-receipt/v1" /* first line */
struct keeper;
/*
 * The keeper's request check: ERR_OK only when note is a receipt text of
 * docs/receipt.md's exact shape (first line KEEPER_RECEIPT_FORMAT, the
 * header lines in order, as many document lines as it says, valid UTF-8,
 * no empty line or control character, at most KEEPER_NOTE_MAX bytes)
 * whose account line is login. ERR_PERM for another account (or a bad
 * login), ERR_TOO_BIG, ERR_INVALID otherwise (a checkpoint, anything).
 */
MUST_CHECK enum err keeper_note_check(struct span note, const char *login);
/*
 * Forks the keeper (listener, at start, before any session): it opens
 * the vault at vault_dir, loads keys/log.key, drops to uid/gid ((uid_t)-1:
 * stays as it is) and serves the listener. Returns once it is ready.
 * ERR_CRYPTO when it could not load the key.
 */
MUST_CHECK enum err keeper_start(const char *vault_dir, uid_t uid, gid_t gid,
    struct keeper **out);
int keeper_fd(const struct keeper *kp); /* the listener polls it */
/* Listener, in a session's child: the keeper's socket is not for it. */
void keeper_close_fd(struct keeper *kp);
/*
 * Listener: reads the session's "N " request from ctl and relays it with
 * the login recorded for the session (tag = its pid); answers "E" at once
 * when there is no login yet or the request is too big.
 */
void keeper_relay(struct keeper *kp, int ctl, pid_t tag, const char *login);
/* Listener: forwards the keeper's answers to ctl_of(tag) (-1: gone). */
void keeper_reply(struct keeper *kp, int (*ctl_of)(void *arg, pid_t tag),
    void *arg);
/* throttle_on_lock callback (arg: the keeper): keep the lockout. */
void keeper_lockout(void *arg, const char *key, time_t until, unsigned level);
/* True (once) when pid was the keeper: it is gone. */
bool keeper_reaped(struct keeper *kp, pid_t pid);
/* Listener at shutdown: final checkpoint, bounded wait, free. NULL-safe. */
void keeper_stop(struct keeper *kp);
/* Listener at start (vault open): reloads the kept lockouts into t. */
MUST_CHECK enum err keeper_lockouts_load(struct vault *v, struct throttle *t);
/*
 * Session (cwd = the vault), before it reads anything from a client:
 * Landlock denies this process and its children reading the files of
 * keys/ named in secret (NULL-ended: "log.key", the host key), for when
 * sessions run with the keeper's uid; all else stays as readable as it
 * was (reads are granted entry by entry, so a file created later in the
 * vault's top folder or its parents is not). ERR_NOT_FOUND when the
 * kernel has no Landlock; ERR_IO when confining failed.
 */
MUST_CHECK enum err keeper_session_confine(const char *const *secret);
/*
 * Session: has the keeper sign the receipt text note (through the
 * listener, on ctl); appends the signed note to out. ERR_PERM when the
 * keeper refused, ERR_IO when there was no answer.
 */
MUST_CHECK enum err keeper_sign(int ctl, struct span note, struct bytes *out);

#endif /* INTAKE_SERVE_INT_H */
