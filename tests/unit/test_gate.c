/*
 * tests/unit/test_gate.c - the listener's limits across sessions
 * (intake/gate.c): unauthenticated connections per address (IPv6 per /64)
 * and in all, random early drop between the two thresholds, and the rate
 * of auth.fail audit events (per address burst, total cap, summaries).
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "intake/serve_int.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

static struct gate_conf
conf(uint64_t per_addr, uint64_t max, uint64_t drop_from, uint64_t pct)
{
	struct gate_conf c;

	memset(&c, 0, sizeof(c));
	c.preauth_per_addr = per_addr;
	c.preauth_max = max;
	c.preauth_drop_from = drop_from;
	c.preauth_drop_pct = pct;
	c.fail_burst = 3;
	c.fail_burst_total = 4;
	c.fail_window = 60;
	c.reserve_chunk = 64u << 20;
	c.quota = 1u << 20;
	return c;
}

static void
test_preauth_limits(void)
{
	struct gate_conf c = conf(2, 4, 4, 30);
	struct gate *g = NULL;

	REQUIRE_OK(gate_new(&c, 16, &g));
	gate_child_add(g, 101, "10.0.0.1");
	gate_child_add(g, 102, "10.0.0.1");
	CHECK(!gate_admit(g, "10.0.0.1"));
	CHECK(gate_admit(g, "10.0.0.2"));
	/* An authenticated session no longer counts. */
	gate_child_authed(g, 101, "alice");
	CHECK(gate_admit(g, "10.0.0.1"));
	gate_child_add(g, 103, "10.0.0.1");
	/* IPv6: one /64 is one address. */
	gate_child_add(g, 104, "2001:db8:1:2::1");
	CHECK(gate_admit(g, "2001:db8:1:2::99"));
	gate_child_add(g, 105, "2001:db8:1:2::2");
	CHECK(!gate_admit(g, "2001:db8:1:2::3"));
	/* 4 unauthenticated in all: the total refuses any address. */
	CHECK(!gate_admit(g, "10.9.9.9"));
	gate_child_gone(g, 105);
	CHECK(gate_admit(g, "10.9.9.9"));
	gate_free(g);
}

static void
test_random_early_drop(void)
{
	struct gate_conf c = conf(100, 10, 2, 30);
	struct gate *g = NULL;
	int admitted = 0;

	REQUIRE_OK(gate_new(&c, 16, &g));
	gate_child_add(g, 1, "10.0.0.1");
	for (int i = 0; i < 100; i++) /* below drop_from: always */
		CHECK(gate_admit(g, "10.1.0.1"));
	for (pid_t p = 2; p <= 6; p++)
		gate_child_add(g, p, "10.0.0.1");
	/* 6 of 10, dropping from 2 at 30 %: 30 + 70 * 4 / 8 = 65 % drop. */
	for (int i = 0; i < 2000; i++)
		admitted += gate_admit(g, "10.1.0.1");
	printf("# 6 unauthenticated: %d of 2000 admitted (expected 700)\n",
	    admitted);
	CHECK(admitted > 550 && admitted < 850);
	for (pid_t p = 7; p <= 10; p++)
		gate_child_add(g, p, "10.0.0.2");
	admitted = 0;
	for (int i = 0; i < 200; i++)
		admitted += gate_admit(g, "10.1.0.1");
	CHECK(admitted == 0);
	gate_free(g);
}

static char
audit_ask(struct gate *g, pid_t pid, const char *arg, unsigned long long *sum)
{
	char reply[64];
	unsigned long long other = 0;

	gate_ctl(g, pid, 'A', arg, reply, sizeof(reply));
	*sum = 0;
	if (sscanf(reply + 1, "%llu %llu", sum, &other) != 2)
		return '?';
	return reply[0];
}

static void
test_audit_rate(void)
{
	struct gate_conf c = conf(8, 24, 16, 30);
	struct gate *g = NULL;
	unsigned long long sum;
	char reply[64];

	REQUIRE_OK(gate_new(&c, 16, &g));
	gate_child_add(g, 201, "10.0.0.1");
	gate_child_add(g, 202, "10.0.0.2");
	/* Burst 3 per address: one by one, then counted. */
	CHECK(audit_ask(g, 201, "-", &sum) == 'O' && sum == 0);
	CHECK(audit_ask(g, 201, "-", &sum) == 'O');
	CHECK(audit_ask(g, 201, "-", &sum) == 'O');
	CHECK(audit_ask(g, 201, "-", &sum) == 'N' && sum == 0);
	CHECK(audit_ask(g, 201, "-", &sum) == 'N' && sum == 0);
	/* A lockout flushes the count (2 before + this one). */
	CHECK(audit_ask(g, 201, "L", &sum) == 'N' && sum == 3);
	CHECK(audit_ask(g, 201, "-", &sum) == 'N' && sum == 0);
	/* Another address: its own burst, but the total cap (4) holds. */
	CHECK(audit_ask(g, 202, "-", &sum) == 'O');
	CHECK(audit_ask(g, 202, "-", &sum) == 'N');
	/* Quota requests of a session not authenticated are refused. */
	gate_ctl(g, 202, 'R', "100 0", reply, sizeof(reply));
	CHECK(reply[0] == 'X');
	gate_ctl(g, 999, 'A', "-", reply, sizeof(reply));
	CHECK(reply[0] == 'X');
	gate_free(g);
}

int
main(void)
{
	if (cry_init() != ERR_OK)
		return 1;
	TEST_RUN(test_preauth_limits);
	TEST_RUN(test_random_early_drop);
	TEST_RUN(test_audit_rate);
	return test_summary();
}
