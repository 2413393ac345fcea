/*
 * tests/unit/test_throttle.c - failed-login throttling (security review 1,
 * #3): a spray of addresses or logins never flushes a lockout, IPv6 is
 * counted per /64, and attempts in flight count against the limits.
 */
#include <stdio.h>
#include <string.h>

#include "intake/serve_int.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

static struct srv_conf
conf(uint64_t addr_failures, uint64_t account_failures)
{
	struct srv_conf c;

	memset(&c, 0, sizeof(c));
	c.throttle = true;
	c.free_failures = 3;
	c.delay_ms = 250;
	c.delay_max_ms = 4000;
	c.addr_failures = addr_failures;
	c.account_failures = account_failures;
	c.lock_secs = 900;
	c.window_secs = 3600;
	return c;
}

static void
fail_n(struct throttle *t, const char *addr, const char *login, int n,
    time_t now, bool *locked)
{
	uint64_t ms;
	bool l;

	*locked = false;
	for (int i = 0; i < n; i++) {
		throttle_fail(t, addr, login, now, &ms, &l);
		*locked = *locked || l;
	}
}

/* A locked account survives failures from 10,000 other addresses. */
static void
test_spray_keeps_lockout(void)
{
	struct srv_conf c = conf(30, 10);
	struct throttle *t = NULL;
	char addr[64];
	bool locked;
	time_t now = 1000000;

	REQUIRE_OK(throttle_new(&c, &t));
	fail_n(t, "192.0.2.1", "alice", 10, now, &locked);
	CHECK(locked);
	CHECK(throttle_locked(t, "198.51.100.7", "alice", now + 1));
	for (int i = 0; i < 10000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		fail_n(t, addr, NULL, 1, now + 2, &locked);
	}
	CHECK(throttle_locked(t, "198.51.100.7", "alice", now + 3));
	CHECK(throttle_locked(t, "192.0.2.1", NULL, now + 3) == false);
	throttle_free(t);
}

/* A locked address survives a spray, too. */
static void
test_spray_keeps_address_lockout(void)
{
	struct srv_conf c = conf(5, 10);
	struct throttle *t = NULL;
	char login[64], addr[64];
	bool locked;
	time_t now = 1000000;

	REQUIRE_OK(throttle_new(&c, &t));
	fail_n(t, "192.0.2.9", NULL, 5, now, &locked);
	CHECK(locked);
	for (int i = 0; i < 5000; i++) {
		snprintf(login, sizeof(login), "user%d", i);
		snprintf(addr, sizeof(addr), "203.0.%d.%d", i >> 8, i & 255);
		fail_n(t, addr, login, 1, now + 1, &locked);
	}
	CHECK(throttle_locked(t, "192.0.2.9", NULL, now + 2));
	throttle_free(t);
}

/* IPv6: the whole /64 is one address; v4-mapped is the IPv4 address. */
static void
test_ipv6_per_64(void)
{
	struct srv_conf c = conf(30, 10);
	struct throttle *t = NULL;
	char addr[64];
	bool locked, any = false;
	time_t now = 1000000;

	REQUIRE_OK(throttle_new(&c, &t));
	for (int i = 1; i <= 30; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:1:2::%x", (i * 7919) & 0xffff);
		fail_n(t, addr, NULL, 1, now, &locked);
		any = any || locked;
	}
	CHECK(any);
	CHECK(throttle_locked(t, "2001:db8:1:2:abcd::1", NULL, now + 1));
	CHECK(!throttle_locked(t, "2001:db8:1:3::1", NULL, now + 1));
	fail_n(t, "::ffff:192.0.2.44", NULL, 30, now, &locked);
	CHECK(locked);
	CHECK(throttle_locked(t, "192.0.2.44", NULL, now + 1));
	throttle_free(t);
}

/* Attempts in flight count: parallel connections cannot exceed a limit. */
static void
test_parallel_attempts(void)
{
	struct srv_conf c = conf(30, 10);
	struct throttle *t = NULL;
	bool locked;
	time_t now = 1000000;

	REQUIRE_OK(throttle_new(&c, &t));
	fail_n(t, "192.0.2.1", "alice", 8, now, &locked);
	CHECK(!locked);
	CHECK(throttle_begin(t, "192.0.2.2", "alice", now));
	CHECK(throttle_begin(t, "192.0.2.3", "alice", now));
	/* 8 failures + 2 in flight = 10: a third must wait for them. */
	CHECK(!throttle_begin(t, "192.0.2.4", "alice", now));
	throttle_end(t, "192.0.2.2", "alice");
	CHECK(throttle_begin(t, "192.0.2.4", "alice", now));
	throttle_end(t, "192.0.2.3", "alice");
	throttle_end(t, "192.0.2.4", "alice");
	/* Unknown logins: the address only. */
	for (int i = 0; i < 29; i++)
		CHECK(throttle_begin(t, "198.51.100.1", "", now));
	CHECK(throttle_begin(t, "198.51.100.1", "", now));
	CHECK(!throttle_begin(t, "198.51.100.1", "", now));
	throttle_free(t);
}

/* A table full of locked addresses refuses new ones instead of evicting. */
static void
test_full_table_refuses(void)
{
	struct srv_conf c = conf(1, 10);
	struct throttle *t = NULL;
	char addr[64];
	bool locked;
	time_t now = 1000000;

	REQUIRE_OK(throttle_new(&c, &t));
	for (int i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i >> 8, i & 255);
		fail_n(t, addr, NULL, 1, now, &locked);
	}
	CHECK(throttle_locked(t, "10.0.0.0", NULL, now + 1));
	CHECK(!throttle_begin(t, "172.16.0.1", "", now + 1));
	/* Once the lockouts expire, the slots are reused. */
	CHECK(throttle_begin(t, "172.16.0.1", "", now + 100000));
	throttle_free(t);
}

int
main(void)
{
	TEST_RUN(test_spray_keeps_lockout);
	TEST_RUN(test_spray_keeps_address_lockout);
	TEST_RUN(test_ipv6_per_64);
	TEST_RUN(test_parallel_attempts);
	TEST_RUN(test_full_table_refuses);
	return test_summary();
}
