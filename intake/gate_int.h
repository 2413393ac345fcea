/*
 * intake/gate_int.h - internal to the SFTP server (intake/gate.c, used by
 * intake/sftpd.c): what the listener admits before authentication, the
 * rate of auth.fail audit events, and the account-wide upload quota.
 * Other modules must not include it.
 *
 * The listener owns a struct gate. It asks gate_admit() before it forks a
 * session for a new connection, tells the gate about each session
 * (gate_child_add / gate_child_authed / gate_child_gone), and passes the
 * sessions' control requests 'R', 'U' and 'A' to gate_ctl(). The session
 * side uses gate_quota_need() / gate_quota_settle() and gate_audit_fail().
 */
#ifndef INTAKE_GATE_INT_H
#define INTAKE_GATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/err.h"

/* kura.conf keys (docs/serve.md). */
struct gate_conf {
	uint64_t preauth_max;       /* serve.max_unauthenticated */
	uint64_t preauth_per_addr;  /* serve.max_unauthenticated_per_address */
	uint64_t preauth_drop_from; /* serve.unauthenticated_drop_from */
	uint64_t preauth_drop_pct;  /* serve.unauthenticated_drop_percent */
	uint64_t fail_burst;        /* audit.auth_fail_burst (per address) */
	uint64_t fail_burst_total;  /* audit.auth_fail_burst_total */
	uint64_t fail_window;       /* audit.auth_fail_window_seconds */
	uint64_t reserve_chunk;     /* limits.quota_reserve_bytes */
	uint64_t quota;             /* limits.quota_bytes (default quota) */
};

MUST_CHECK enum err gate_conf_load(const struct config *c,
    struct gate_conf *out);

/* ---- the listener's side ---- */
struct gate;
/*
 * max_children: the most sessions the listener keeps at once. The vault
 * (for quota) is opened lazily from the working directory.
 */
MUST_CHECK enum err gate_new(const struct gate_conf *c, size_t max_children,
    struct gate **out);
void gate_free(struct gate *g);
/*
 * May a new connection from addr get a session process? False beyond
 * serve.max_unauthenticated_per_address, at serve.max_unauthenticated, and
 * at random (rising) from serve.unauthenticated_drop_from (OpenSSH's
 * MaxStartups). Authenticated sessions never count.
 */
bool gate_admit(struct gate *g, const char *addr);
void gate_child_add(struct gate *g, pid_t pid, const char *addr);
void gate_child_authed(struct gate *g, pid_t pid, const char *login);
/* The session is gone: its reservations are dropped. */
void gate_child_gone(struct gate *g, pid_t pid);
/*
 * Closes the gate's SQLite connection: call before every fork() of the
 * listener (an SQLite connection must not cross a fork).
 */
void gate_before_fork(struct gate *g);
/* A control request op ('R', 'U', 'A') with its argument; fills reply. */
void gate_ctl(struct gate *g, pid_t pid, char op, const char *arg,
    char *reply, size_t rsz);

/* ---- the session's side ---- */
struct gate_quota {
	uint64_t held; /* bytes reserved for this session by the listener */
};
/*
 * The session is about to have inflight + grow bytes in flight (written,
 * not yet accepted or rejected); reserves more with the listener when
 * held is short. ERR_TOO_BIG when the account's quota has no room: held
 * then shrinks to keep (what the session's other uploads still need).
 */
MUST_CHECK enum err gate_quota_need(int ctl, struct gate_quota *q,
    uint64_t inflight, uint64_t grow, uint64_t keep);
/* Returns what is held beyond inflight to the listener. */
void gate_quota_settle(int ctl, struct gate_quota *q, uint64_t inflight);

/*
 * After a failed login: how to audit it. *individual: append auth.fail;
 * *summary > 0: first append one auth.fail_summary for that many
 * failures from this address (*other: from addresses the table forgot)
 * that were not audited one by one. locked: this failure engaged a
 * lockout (its summary is always written).
 */
void gate_audit_fail(int ctl, bool locked, bool *individual,
    uint64_t *summary, uint64_t *other);

#endif /* INTAKE_GATE_INT_H */
