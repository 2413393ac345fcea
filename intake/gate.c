/*
 * intake/gate.c - what the listener of `kura serve` decides for all
 * sessions together (intake/gate_int.h):
 *
 * - Connections not yet authenticated: a total and a per-address limit,
 *   with random early drop between serve.unauthenticated_drop_from and
 *   the total (OpenSSH MaxStartups), so that connections which never log
 *   in cannot hold every session slot for the login grace time.
 * - auth.fail audit events: per address, the first audit.auth_fail_burst
 *   failures of a window are audited one by one, the rest are counted and
 *   audited as one auth.fail_summary (at the next failure after the window,
 *   or when a lockout engages); a total cap per window across addresses.
 * - The upload quota, account-wide: each session reserves bytes in
 *   chunks before it writes them; the listener grants a reservation only
 *   if the accepted bytes (read from the vault database at each request,
 *   never a session's view) plus every reservation of the account's live
 *   sessions stay within the quota. A session returns what it does not
 *   need when an upload is closed, dropped, accepted or rejected; a dead
 *   session's reservations are dropped when it is reaped.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "crypto/crypto.h"
#include "intake/serve_int.h"
#include "vault/vault.h"
#include "common/banned.h"

#define GATE_ADDR_MAX   (INET6_ADDRSTRLEN + 4)
#define GATE_RATE_SLOTS 1024
#define GATE_MSG_MAX    128

static enum err
conf_u64(const struct config *c, const char *k, uint64_t d, uint64_t *out)
{
	enum err r = config_u64(c, k, d, out);

	if (r != ERR_OK)
		log_err("kura.conf: %s is not a number", k);
	return r;
}

enum err
gate_conf_load(const struct config *c, struct gate_conf *o)
{
	memset(o, 0, sizeof(*o));
	if (conf_u64(c, "serve.max_unauthenticated", 24, &o->preauth_max) ||
	    conf_u64(c, "serve.max_unauthenticated_per_address", 8,
	        &o->preauth_per_addr) ||
	    conf_u64(c, "serve.unauthenticated_drop_from", 16,
	        &o->preauth_drop_from) ||
	    conf_u64(c, "serve.unauthenticated_drop_percent", 30,
	        &o->preauth_drop_pct) ||
	    conf_u64(c, "audit.auth_fail_burst", 10, &o->fail_burst) ||
	    conf_u64(c, "audit.auth_fail_burst_total", 100,
	        &o->fail_burst_total) ||
	    conf_u64(c, "audit.auth_fail_window_seconds", 60,
	        &o->fail_window) ||
	    conf_u64(c, "limits.quota_reserve_bytes", 64ull << 20,
	        &o->reserve_chunk) ||
	    conf_u64(c, "limits.quota_bytes", 16ull << 30, &o->quota))
		return ERR_CONFIG;
	if (o->preauth_max == 0 || o->preauth_per_addr == 0 ||
	    o->preauth_drop_pct > 100 || o->fail_window == 0 ||
	    o->fail_window > 86400 || o->reserve_chunk == 0) {
		log_err("kura.conf: serve.max_unauthenticated*, "
		        "audit.auth_fail_window_seconds and "
		        "limits.quota_reserve_bytes must be positive");
		return ERR_CONFIG;
	}
	if (o->preauth_drop_from > o->preauth_max)
		o->preauth_drop_from = o->preauth_max;
	return ERR_OK;
}

/* ------------------------------------------------------------ listener */

struct gchild {
	pid_t pid; /* 0 = free */
	char addr[GATE_ADDR_MAX];
	char login[VAULT_LOGIN_MAX + 1];
	bool authed;
	uint64_t held; /* quota bytes reserved */
};

/* auth.fail audit rate of one address. */
struct arate {
	char addr[GATE_ADDR_MAX]; /* "" = free */
	time_t start, last;
	uint64_t audited;    /* individual events in this window */
	uint64_t suppressed; /* failures not audited one by one yet */
};

struct gate {
	struct gate_conf c;
	struct gchild *kids;
	size_t nkids;
	struct vault *v; /* opened on demand, closed before each fork */
	struct arate rate[GATE_RATE_SLOTS];
	time_t gstart;    /* the window of the total cap */
	uint64_t gcount;  /* individual auth.fail events in it */
	uint64_t lost;    /* suppressed counts of forgotten addresses */
	uint64_t dropped; /* connections refused before authentication */
	time_t drop_logged;
};

enum err
gate_new(const struct gate_conf *c, size_t max_children, struct gate **out)
{
	struct gate *g = calloc(1, sizeof(*g));

	*out = NULL;
	if (g == NULL)
		return ERR_NOMEM;
	if ((g->kids = calloc(max_children ? max_children : 1,
	         sizeof(*g->kids))) == NULL) {
		free(g);
		return ERR_NOMEM;
	}
	g->c = *c;
	g->nkids = max_children;
	*out = g;
	return ERR_OK;
}

void
gate_free(struct gate *g)
{
	if (g == NULL)
		return;
	vault_close(g->v);
	free(g->kids);
	free(g);
}

void
gate_before_fork(struct gate *g)
{
	vault_close(g->v);
	g->v = NULL;
}

static struct gchild *
kid(struct gate *g, pid_t pid)
{
	for (size_t i = 0; i < g->nkids; i++)
		if (g->kids[i].pid == pid && pid != 0)
			return &g->kids[i];
	return NULL;
}

bool
gate_admit(struct gate *g, const char *addr)
{
	char key[GATE_ADDR_MAX];
	uint64_t total = 0, same = 0, pct = 0;
	const struct gate_conf *c = &g->c;
	const char *why = NULL;
	time_t now = time(NULL);

	throttle_addr_key(addr, key, sizeof(key));
	for (size_t i = 0; i < g->nkids; i++) {
		if (g->kids[i].pid == 0 || g->kids[i].authed)
			continue;
		total++;
		same += strcmp(g->kids[i].addr, key) == 0;
	}
	if (same >= c->preauth_per_addr)
		why = "per address";
	else if (total >= c->preauth_max)
		why = "total";
	else if (total >= c->preauth_drop_from) {
		uint32_t rnd;
		uint64_t span = c->preauth_max - c->preauth_drop_from;

		/* OpenSSH MaxStartups: pct at drop_from, rising to 100. */
		pct = c->preauth_drop_pct +
		      (100 - c->preauth_drop_pct) *
		          (total - c->preauth_drop_from) / (span ? span : 1);
		cry_random(&rnd, sizeof(rnd));
		if (rnd % 100 < pct)
			why = "random early drop";
	}
	if (why == NULL)
		return true;
	g->dropped++;
	log_debug("refused unauthenticated connection from %s (%s)", addr,
	    why);
	if (now - g->drop_logged >= 60) {
		log_warn("refused %llu connections before authentication "
		         "(limits of unauthenticated connections; last: %s, "
		         "%s)",
		    (unsigned long long)g->dropped, addr, why);
		g->drop_logged = now;
		g->dropped = 0;
	}
	return false;
}

void
gate_child_add(struct gate *g, pid_t pid, const char *addr)
{
	for (size_t i = 0; i < g->nkids; i++) {
		struct gchild *k = &g->kids[i];
		if (k->pid != 0)
			continue;
		memset(k, 0, sizeof(*k));
		k->pid = pid;
		throttle_addr_key(addr, k->addr, sizeof(k->addr));
		return;
	}
	log_warn("gate: no slot for session %d", (int)pid);
}

void
gate_child_authed(struct gate *g, pid_t pid, const char *login)
{
	struct gchild *k = kid(g, pid);

	if (k == NULL)
		return;
	k->authed = true;
	snprintf(k->login, sizeof(k->login), "%s", login);
}

void
gate_child_gone(struct gate *g, pid_t pid)
{
	struct gchild *k = kid(g, pid);

	if (k != NULL)
		memset(k, 0, sizeof(*k));
}

/* The accepted bytes and the quota of login, from the vault. */
static enum err
account_usage(struct gate *g, const char *login, uint64_t *used,
    uint64_t *quota)
{
	struct vault_account a;
	enum err r;

	*used = 0;
	*quota = 0;
	if (g->v == NULL && (r = vault_open(".", 0, &g->v)) != ERR_OK) {
		g->v = NULL;
		return r;
	}
	if ((r = vault_account_get(g->v, login, &a)) != ERR_OK)
		return r;
	*quota = a.quota ? a.quota : g->c.quota;
	return vault_account_usage(g->v, a.id, used);
}

/* "R need keep": reserve need more bytes, or shrink to keep. */
static void
quota_reserve(struct gate *g, struct gchild *k, const char *arg,
    char *reply, size_t rsz)
{
	unsigned long long need = 0, keep = 0;
	uint64_t used, quota, others = 0, total, extra;
	enum err r;

	if (!k->authed || sscanf(arg, "%llu %llu", &need, &keep) != 2) {
		snprintf(reply, rsz, "X %llu", (unsigned long long)k->held);
		return;
	}
	if ((r = account_usage(g, k->login, &used, &quota)) != ERR_OK)
		log_err_r(r, "quota of %s", k->login);
	for (size_t i = 0; i < g->nkids; i++) {
		const struct gchild *o = &g->kids[i];
		if (o != k && o->pid != 0 && o->authed &&
		    strcmp(o->login, k->login) == 0)
			others += o->held;
	}
	total = used + others + k->held;
	if (r != ERR_OK || total < used || need > quota ||
	    total > quota - need) {
		if (k->held > keep)
			k->held = keep;
		log_info("quota of %s: %llu accepted, %llu reserved by other "
		         "sessions; %llu more refused",
		    k->login, (unsigned long long)used,
		    (unsigned long long)others, need);
		snprintf(reply, rsz, "X %llu", (unsigned long long)k->held);
		return;
	}
	/* A chunk ahead, but never more than half of what is left. */
	extra = (quota - total - need) / 2;
	if (extra > g->c.reserve_chunk)
		extra = g->c.reserve_chunk;
	k->held += need + extra;
	snprintf(reply, rsz, "O %llu", (unsigned long long)(need + extra));
}

/* "A L" (this failure engaged a lockout) or "A -". */
static void
audit_rate(struct gate *g, struct gchild *k, const char *arg, char *reply,
    size_t rsz)
{
	time_t now = time(NULL), win = (time_t)g->c.fail_window;
	struct arate *s = NULL, *oldest = NULL;
	uint64_t summary = 0, other = 0;
	bool individual = false, locked = arg[0] == 'L';

	for (size_t i = 0; i < GATE_RATE_SLOTS && s == NULL; i++) {
		struct arate *e = &g->rate[i];
		if (e->addr[0] != 0 && strcmp(e->addr, k->addr) == 0)
			s = e;
		else if (oldest == NULL || e->addr[0] == 0 ||
		         (oldest->addr[0] != 0 && e->last < oldest->last))
			oldest = e;
	}
	if (s == NULL) {
		s = oldest;
		g->lost += s->suppressed; /* audited with the next summary */
		memset(s, 0, sizeof(*s));
		snprintf(s->addr, sizeof(s->addr), "%s", k->addr);
		s->start = now;
	}
	s->last = now;
	if (now - s->start >= win) {
		summary = s->suppressed;
		s->suppressed = 0;
		s->audited = 0;
		s->start = now;
	}
	if (now - g->gstart >= win) {
		g->gstart = now;
		g->gcount = 0;
	}
	if (s->audited < g->c.fail_burst && g->gcount < g->c.fail_burst_total) {
		individual = true;
		s->audited++;
		g->gcount++;
	} else
		s->suppressed++;
	if (locked) { /* the lockout's event says how many came before */
		summary += s->suppressed;
		s->suppressed = 0;
	}
	if (individual || summary > 0) {
		other = g->lost;
		g->lost = 0;
	}
	snprintf(reply, rsz, "%c %llu %llu", individual ? 'O' : 'N',
	    (unsigned long long)summary, (unsigned long long)other);
}

void
gate_ctl(struct gate *g, pid_t pid, char op, const char *arg, char *reply,
    size_t rsz)
{
	struct gchild *k = kid(g, pid);
	unsigned long long n = 0;

	if (k == NULL) {
		snprintf(reply, rsz, "X 0");
		return;
	}
	switch (op) {
	case 'R':
		quota_reserve(g, k, arg, reply, rsz);
		break;
	case 'U':
		if (sscanf(arg, "%llu", &n) == 1)
			k->held -= n < k->held ? n : k->held;
		snprintf(reply, rsz, "O %llu", (unsigned long long)k->held);
		break;
	case 'A':
		audit_rate(g, k, arg, reply, rsz);
		break;
	default:
		snprintf(reply, rsz, "X 0");
	}
}

/* ------------------------------------------------------------- session */

/* One request "X arg" on the control socket and its reply. */
static enum err
ask(int ctl, const char *msg, char *reply, size_t rsz)
{
	size_t len = strlen(msg);
	ssize_t n;

	if (send(ctl, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return ERR_IO;
	n = recv(ctl, reply, rsz - 1, 0);
	if (n <= 0)
		return ERR_IO;
	reply[n] = 0;
	return ERR_OK;
}

enum err
gate_quota_need(int ctl, struct gate_quota *q, uint64_t inflight,
    uint64_t grow, uint64_t keep)
{
	char msg[GATE_MSG_MAX], reply[64];
	unsigned long long n = 0;
	uint64_t want = inflight + grow;

	if (want < inflight)
		return ERR_TOO_BIG;
	if (want <= q->held)
		return ERR_OK;
	snprintf(msg, sizeof(msg), "R %llu %llu",
	    (unsigned long long)(want - q->held), (unsigned long long)keep);
	if (ask(ctl, msg, reply, sizeof(reply)) != ERR_OK)
		return ERR_IO;
	if (sscanf(reply + 1, "%llu", &n) != 1)
		return ERR_PROTOCOL;
	if (reply[0] != 'O') {
		q->held = n; /* the listener kept this much */
		return ERR_TOO_BIG;
	}
	q->held += n;
	return ERR_OK;
}

void
gate_quota_settle(int ctl, struct gate_quota *q, uint64_t inflight)
{
	char msg[GATE_MSG_MAX], reply[64];

	if (q->held <= inflight)
		return;
	snprintf(msg, sizeof(msg), "U %llu",
	    (unsigned long long)(q->held - inflight));
	if (ask(ctl, msg, reply, sizeof(reply)) == ERR_OK)
		q->held = inflight;
}

void
gate_audit_fail(int ctl, bool locked, bool *individual, uint64_t *summary,
    uint64_t *other)
{
	char reply[64];
	unsigned long long a = 0, b = 0;

	*individual = true;
	*summary = 0;
	*other = 0;
	if (ask(ctl, locked ? "A L" : "A -", reply, sizeof(reply)) != ERR_OK ||
	    sscanf(reply + 1, "%llu %llu", &a, &b) != 2)
		return;
	*individual = reply[0] == 'O';
	*summary = a;
	*other = b;
}
