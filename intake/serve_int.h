/*
 * intake/serve_int.h - internal to the SFTP server (intake/sftpd.c,
 * intake/submit.c, intake/throttle.c). Other modules must not include it.
 */
#ifndef INTAKE_SERVE_INT_H
#define INTAKE_SERVE_INT_H

#include <stdbool.h>
#include <stdint.h>
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
	uint64_t max_validations;  /* serve.max_validations (all sessions) */
	struct intake_libs *libs;  /* loaded once by the listener */
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
	int ctl;             /* the listener's control socket; -1: none */
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

#endif /* INTAKE_SERVE_INT_H */
