/*
 * intake/throttle.c - failed-login throttling and lockout, per source
 * address and per account, kept by the listening process (sessions ask it
 * over their control socket). On by default: SFTPGo ships its "defender"
 * disabled, OpenSSH enabled PerSourcePenalties in 9.8; we do the latter.
 *
 * A fixed table (no unbounded growth under a spray of addresses): when
 * full, the entry seen longest ago is reused, but never one that is locked
 * or has an attempt in flight (a spray must not flush a lockout); when
 * every slot is such, new attempts are refused. Unknown logins get no slot
 * of their own (the session sends "-"; they count against the address).
 * IPv6 addresses are counted per /64 (one host usually holds the whole
 * prefix). Attempts are reserved before the password is checked
 * (throttle_begin), so parallel connections cannot exceed the limits.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "intake/serve_int.h"
#include "common/banned.h"

#define THROTTLE_SLOTS 4096
#define THROTTLE_KEY   80

struct slot {
	char key[THROTTLE_KEY]; /* "a:ADDR" or "u:LOGIN"; "" = free */
	uint64_t count;         /* failures in the current window */
	time_t first, last;
	time_t locked_until;
	unsigned locks; /* lockouts so far: each doubles the next */
	unsigned pending; /* attempts being verified now */
};

struct throttle {
	struct srv_conf c;
	struct slot s[THROTTLE_SLOTS];
	time_t full_logged; /* the "table full" warning, once a minute */
	/* Told of every lockout engaged, to keep it across restarts. */
	void (*on_lock)(void *arg, const char *key, time_t until,
	    unsigned level);
	void *on_lock_arg;
};

enum err
throttle_new(const struct srv_conf *c, struct throttle **out)
{
	struct throttle *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return ERR_NOMEM;
	t->c = *c;
	*out = t;
	return ERR_OK;
}

void
throttle_free(struct throttle *t)
{
	free(t);
}

/* The address key: IPv6 by its /64, IPv4 (also v4-mapped) as is. */
void
throttle_addr_key(const char *addr, char *out, size_t outsz)
{
	struct in6_addr a6;

	if (strchr(addr, ':') != NULL && inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			if (inet_ntop(AF_INET, &a6.s6_addr[12], out,
				(socklen_t)outsz) != NULL)
				return;
		} else {
			memset(&a6.s6_addr[8], 0, 8);
			if (inet_ntop(AF_INET6, &a6, out, (socklen_t)outsz) !=
			    NULL) {
				size_t n = strlen(out);
				if (n + 4 < outsz)
					memcpy(out + n, "/64", 4);
				return;
			}
		}
	}
	snprintf(out, outsz, "%s", addr);
}

static void
mkkey(char out[THROTTLE_KEY], char kind, const char *v)
{
	char norm[INET6_ADDRSTRLEN + 4];
	size_t n;

	if (kind == 'a') {
		throttle_addr_key(v, norm, sizeof(norm));
		v = norm;
	}
	n = strlen(v);
	if (n > THROTTLE_KEY - 3)
		n = THROTTLE_KEY - 3;
	out[0] = kind;
	out[1] = ':';
	memcpy(out + 2, v, n);
	out[2 + n] = 0;
}

/*
 * The slot of key; with create, a new one reusing a free slot or the one
 * seen longest ago that is neither locked nor in use; NULL when none is.
 */
static struct slot *
find(struct throttle *t, const char *key, bool create, time_t now)
{
	struct slot *oldest = NULL;

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct slot *s = &t->s[i];
		if (strcmp(s->key, key) == 0)
			return s;
		if (s->key[0] != 0 && (s->locked_until > now || s->pending > 0))
			continue;
		if (oldest == NULL || s->key[0] == 0 ||
		    (oldest->key[0] != 0 && s->last < oldest->last))
			oldest = s;
	}
	if (!create || oldest == NULL)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->key, key, strlen(key) + 1);
	oldest->last = now;
	return oldest;
}

static bool
slot_locked(struct throttle *t, const char *key, time_t now)
{
	struct slot *s = find(t, key, false, now);

	return s != NULL && s->locked_until > now;
}

bool
throttle_locked(struct throttle *t, const char *addr, const char *login,
    time_t now)
{
	char k[THROTTLE_KEY];

	if (!t->c.throttle)
		return false;
	mkkey(k, 'a', addr);
	if (slot_locked(t, k, now))
		return true;
	if (login == NULL)
		return false;
	mkkey(k, 'u', login);
	return slot_locked(t, k, now);
}

/* One failure on one key; returns the delay it earns. */
static uint64_t
fail_one(struct throttle *t, const char *key, uint64_t limit, time_t now,
    bool *locked)
{
	struct slot *s = find(t, key, true, now);
	uint64_t over, delay;

	if (s == NULL) { /* every slot locked or in use: the longest wait */
		if (now - t->full_logged >= 60) {
			t->full_logged = now;
			log_warn("throttle table full: failures not recorded");
		}
		return t->c.delay_max_ms;
	}
	if (s->count > 0 && now - s->first > (time_t)t->c.window_secs)
		s->count = 0;
	if (s->count == 0)
		s->first = now;
	s->last = now;
	s->count++;
	if (limit > 0 && s->count >= limit) {
		unsigned shift = s->locks < 10 ? s->locks : 10;
		s->locked_until = now + (time_t)(t->c.lock_secs << shift);
		s->locks++;
		s->count = 0;
		*locked = true;
		log_warn("lockout of %s for %llu s", key,
		    (unsigned long long)(t->c.lock_secs << shift));
		if (t->on_lock != NULL)
			t->on_lock(t->on_lock_arg, s->key, s->locked_until,
			    s->locks);
	}
	if (s->count <= t->c.free_failures)
		return 0;
	over = s->count - t->c.free_failures - 1;
	delay = t->c.delay_ms << (over < 16 ? over : 16);
	return delay < t->c.delay_max_ms ? delay : t->c.delay_max_ms;
}

void
throttle_fail(struct throttle *t, const char *addr, const char *login,
    time_t now, uint64_t *delay_ms, bool *locked)
{
	char k[THROTTLE_KEY];
	uint64_t d1, d2 = 0;

	*delay_ms = 0;
	*locked = false;
	if (!t->c.throttle)
		return;
	mkkey(k, 'a', addr);
	d1 = fail_one(t, k, t->c.addr_failures, now, locked);
	if (login != NULL && *login != 0) {
		mkkey(k, 'u', login);
		d2 = fail_one(t, k, t->c.account_failures, now, locked);
	}
	*delay_ms = d1 > d2 ? d1 : d2;
}

void
throttle_success(struct throttle *t, const char *login)
{
	char k[THROTTLE_KEY];
	struct slot *s;

	mkkey(k, 'u', login);
	if ((s = find(t, k, false, 0)) != NULL && s->locked_until == 0)
		s->count = 0;
}

/* Would one more attempt on key reach its lockout limit? */
static bool
slot_full(struct throttle *t, const char *key, uint64_t limit, time_t now)
{
	struct slot *s = find(t, key, false, now);

	if (s == NULL)
		return false;
	if (s->locked_until > now)
		return true;
	if (s->count > 0 && now - s->first > (time_t)t->c.window_secs)
		return limit > 0 && s->pending >= limit;
	return limit > 0 && s->count + s->pending >= limit;
}

bool
throttle_begin(struct throttle *t, const char *addr, const char *login,
    time_t now)
{
	char ka[THROTTLE_KEY], ku[THROTTLE_KEY];
	struct slot *sa, *su = NULL;
	bool user = login != NULL && *login != 0;

	if (!t->c.throttle)
		return true;
	mkkey(ka, 'a', addr);
	if (user)
		mkkey(ku, 'u', login);
	if (slot_full(t, ka, t->c.addr_failures, now) ||
	    (user && slot_full(t, ku, t->c.account_failures, now)))
		return false;
	if ((sa = find(t, ka, true, now)) == NULL)
		return false;
	sa->pending++; /* so that finding su cannot reuse sa */
	if (user && (su = find(t, ku, true, now)) == NULL) {
		sa->pending--;
		return false;
	}
	if (su != NULL)
		su->pending++;
	return true;
}

void
throttle_end(struct throttle *t, const char *addr, const char *login)
{
	char k[THROTTLE_KEY];
	struct slot *s;

	if (!t->c.throttle)
		return;
	mkkey(k, 'a', addr);
	if ((s = find(t, k, false, 0)) != NULL && s->pending > 0)
		s->pending--;
	if (login == NULL || *login == 0)
		return;
	mkkey(k, 'u', login);
	if ((s = find(t, k, false, 0)) != NULL && s->pending > 0)
		s->pending--;
}

void
throttle_on_lock(struct throttle *t,
    void (*fn)(void *arg, const char *key, time_t until, unsigned level),
    void *arg)
{
	t->on_lock = fn;
	t->on_lock_arg = arg;
}

enum err
throttle_restore(struct throttle *t, const char *key, time_t until,
    unsigned level, time_t now)
{
	struct slot *s;
	size_t n = strlen(key);

	/* Only keys this file makes: "a:" or "u:" and a bounded value. */
	if (n < 3 || n >= THROTTLE_KEY || (key[0] != 'a' && key[0] != 'u') ||
	    key[1] != ':')
		return ERR_INVALID;
	if (until <= now)
		return ERR_OK;
	/* A lockout never outlasts what this configuration would impose. */
	if (until - now > (time_t)(t->c.lock_secs << 10))
		until = now + (time_t)(t->c.lock_secs << 10);
	if ((s = find(t, key, true, now)) == NULL)
		return ERR_TOO_BIG;
	if (s->locked_until < until)
		s->locked_until = until;
	if (s->locks < level)
		s->locks = level;
	s->count = 0;
	return ERR_OK;
}
