/* tests/unit/test_serve.c - the SFTP intake's path resolver and throttle. */
#include <stdio.h>
#include <string.h>

#include "intake/intake.h"
#include "intake/serve_int.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

static enum intake_vnode
kind(const char *p)
{
	struct intake_vpath vp;

	if (intake_vpath_resolve(p, &vp) != ERR_OK)
		return (enum intake_vnode) - 1;
	return vp.kind;
}

static const char *
canon(const char *p)
{
	static struct intake_vpath vp;

	if (intake_vpath_resolve(p, &vp) != ERR_OK)
		return "ERR";
	return vp.canon;
}

static void
test_vpath_tree(void)
{
	struct intake_vpath vp;

	CHECK(kind("/") == INTAKE_VN_ROOT);
	CHECK(kind("") == INTAKE_VN_ROOT);
	CHECK(kind(".") == INTAKE_VN_ROOT);
	CHECK(kind("/README.txt") == INTAKE_VN_README);
	CHECK(kind("README.txt") == INTAKE_VN_README);
	CHECK(kind("/new") == INTAKE_VN_UPDIR);
	CHECK(kind("/new/") == INTAKE_VN_UPDIR);
	CHECK(kind("/renewal") == INTAKE_VN_KINDDIR);
	CHECK(kind("/results") == INTAKE_VN_RESULTS);
	CHECK(kind("/results/a.zip.result.txt") == INTAKE_VN_RESULT);
	CHECK(kind("/results/a/b") == INTAKE_VN_NONE);
	CHECK(kind("/etc/passwd") == INTAKE_VN_NONE);
	CHECK(kind("/tmp") == INTAKE_VN_NONE);
	CHECK(kind("/new/sub/x.zip") == INTAKE_VN_NONE);
	REQUIRE_OK(intake_vpath_resolve("/renewal/AI00122211/申請.zip", &vp));
	CHECK(vp.kind == INTAKE_VN_UPFILE);
	CHECK(vp.folder == INTAKE_FOLDER_RENEWAL);
	CHECK(strcmp(vp.cert, "AI00122211") == 0);
	CHECK(strcmp(vp.name, "申請.zip") == 0);
	REQUIRE_OK(intake_vpath_resolve("new/./x.zip", &vp));
	CHECK(vp.kind == INTAKE_VN_UPFILE && vp.folder == INTAKE_FOLDER_NEW);
	CHECK(strcmp(vp.canon, "/new/x.zip") == 0);
}

static void
test_vpath_escapes(void)
{
	/* ".." never goes above "/": the tree is all there is. */
	CHECK(strcmp(canon(".."), "/") == 0);
	CHECK(strcmp(canon("/../../.."), "/") == 0);
	CHECK(strcmp(canon("/new/../../etc/passwd"), "/etc/passwd") == 0);
	CHECK(kind("/new/../../etc/passwd") == INTAKE_VN_NONE);
	CHECK(kind("/new/../README.txt") == INTAKE_VN_README);
	CHECK(kind("/new/../../new/x.zip") == INTAKE_VN_UPFILE);
	CHECK(kind("//new//x.zip") == INTAKE_VN_UPFILE);
	/* Rejected components. */
	CHECK(kind("/new/..\\..\\x.zip") == (enum intake_vnode) - 1);
	CHECK(kind("/new/a\x01.zip") == (enum intake_vnode) - 1);
	CHECK(kind("/new/a\x7f.zip") == (enum intake_vnode) - 1);
	CHECK(kind("/new/\xff\xfe.zip") == (enum intake_vnode) - 1);
	CHECK(kind("/new/\xc0\xaf.zip") ==
	      (enum intake_vnode) - 1); /* overlong '/' */
	{
		char longname[400];
		memset(longname, 'a', sizeof(longname));
		memcpy(longname, "/new/", 5);
		longname[5 + 256] = 0;
		CHECK(kind(longname) == (enum intake_vnode) - 1);
		longname[5 + 255] = 0;
		CHECK(kind(longname) == INTAKE_VN_UPFILE);
	}
	{
		char deep[64] = "";
		for (int i = 0; i < 9; i++)
			memcpy(deep + strlen(deep), "/a", 3);
		CHECK(kind(deep) == (enum intake_vnode) - 1);
	}
	CHECK(kind(NULL) == (enum intake_vnode) - 1);
}

static void
test_temporary_names(void)
{
	CHECK(intake_name_is_temporary("a.zip.filepart"));
	CHECK(intake_name_is_temporary("a.zip.FILEPART"));
	CHECK(intake_name_is_temporary("a.zip.part"));
	CHECK(intake_name_is_temporary(".a.zip"));
	CHECK(intake_name_is_temporary("a.zip.tmp"));
	CHECK(!intake_name_is_temporary("a.zip"));
	CHECK(!intake_name_is_temporary("申請.zip"));
}

static void
test_throttle(void)
{
	struct srv_conf c;
	struct throttle *t = NULL;
	uint64_t d = 0, prev = 0;
	bool locked = false;
	time_t now = 1000;

	memset(&c, 0, sizeof(c));
	c.throttle = true;
	c.free_failures = 2;
	c.delay_ms = 100;
	c.delay_max_ms = 1000;
	c.addr_failures = 8;
	c.account_failures = 5;
	c.lock_secs = 60;
	c.window_secs = 600;
	REQUIRE_OK(throttle_new(&c, &t));
	CHECK(!throttle_locked(t, "10.0.0.1", "alice", now));
	throttle_fail(t, "10.0.0.1", "x1", now, &d, &locked);
	CHECK(d == 0 && !locked);
	throttle_fail(t, "10.0.0.1", "x2", now, &d, &locked);
	CHECK(d == 0);
	/* Escalating delays, capped. */
	for (int i = 0; i < 5; i++) {
		throttle_fail(t, "10.0.0.1", NULL, now, &d, &locked);
		CHECK(d >= prev && d <= 1000);
		prev = d;
	}
	CHECK(prev == 1000); /* 100, 200, 400, 800, then the cap */
	throttle_fail(t, "10.0.0.1", NULL, now, &d, &locked);
	CHECK(locked);
	CHECK(throttle_locked(t, "10.0.0.1", NULL, now));
	CHECK(throttle_locked(t, "10.0.0.1", "alice", now + 59));
	CHECK(!throttle_locked(t, "10.0.0.1", NULL, now + 61));
	/* Another address is not affected, and alice is not locked. */
	CHECK(!throttle_locked(t, "10.0.0.2", "alice", now));
	/* Per account: five failures from many addresses lock alice. */
	for (int i = 0; i < 5; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.1.0.%d", i);
		throttle_fail(t, a, "alice", now, &d, &locked);
	}
	CHECK(locked);
	CHECK(throttle_locked(t, "10.9.9.9", "alice", now + 1));
	/* The second lockout of an address lasts twice as long. */
	for (int i = 0; i < 8; i++)
		throttle_fail(t, "10.0.0.1", NULL, now + 100, &d, &locked);
	CHECK(throttle_locked(t, "10.0.0.1", NULL, now + 100 + 119));
	CHECK(!throttle_locked(t, "10.0.0.1", NULL, now + 100 + 121));
	throttle_free(t);
	/* Disabled: never delays, never locks. */
	c.throttle = false;
	REQUIRE_OK(throttle_new(&c, &t));
	for (int i = 0; i < 100; i++)
		throttle_fail(t, "10.0.0.1", "bob", now, &d, &locked);
	CHECK(d == 0 && !locked && !throttle_locked(t, "10.0.0.1", "bob", now));
	throttle_free(t);
}

int
main(void)
{
	TEST_RUN(test_vpath_tree);
	TEST_RUN(test_vpath_escapes);
	TEST_RUN(test_temporary_names);
	TEST_RUN(test_throttle);
	return test_summary();
}
