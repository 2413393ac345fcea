/*
 * intake/throttle.c - failed-login throttling and lockout, per source
 * address and per account, kept by the listening process (sessions ask it
 * over their control socket). On by default: SFTPGo ships its "defender"
 * disabled, OpenSSH enabled PerSourcePenalties in 9.8; we do the latter.
 *
 * A fixed table (no unbounded growth under a spray of addresses): when
 * full, the entry seen longest ago is reused.
 */
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
};

struct throttle {
	struct srv_conf c;
	struct slot s[THROTTLE_SLOTS];
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

static void
mkkey(char out[THROTTLE_KEY], char kind, const char *v)
{
	size_t n = strlen(v);

	if (n > THROTTLE_KEY - 3)
		n = THROTTLE_KEY - 3;
	out[0] = kind;
	out[1] = ':';
	memcpy(out + 2, v, n);
	out[2 + n] = 0;
}

static struct slot *
find(struct throttle *t, const char *key, bool create)
{
	struct slot *oldest = &t->s[0];

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct slot *s = &t->s[i];
		if (strcmp(s->key, key) == 0)
			return s;
		if (s->key[0] == 0 || s->last < oldest->last)
			oldest = s;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->key, key, strlen(key) + 1);
	return oldest;
}

static bool
slot_locked(struct throttle *t, const char *key, time_t now)
{
	struct slot *s = find(t, key, false);

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
	struct slot *s = find(t, key, true);
	uint64_t over, delay;

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
	if ((s = find(t, k, false)) != NULL && s->locked_until == 0)
		s->count = 0;
}
