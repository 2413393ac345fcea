/*
 * tests/unit/test_keeper.c - the keeper (intake/keeper.c): what it agrees
 * to sign (a receipt of the session's own account, nothing else: forged
 * requests must fail), the real keeper process signing through a relay,
 * and lockouts kept across restarts (throttle + vault/lockout.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fsx.h"
#include "intake/serve_int.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

#define ZSHA "5f3a9c1e0b7d2a4c6e8f0123456789abcdef0123456789abcdef0123456789ab"
#define DSHA "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* A receipt text as intake/submit.c makes it, for account acct. */
static void
receipt(char *out, size_t n, const char *acct, const char *docs_line,
    const char *extra)
{
	(void)snprintf(out, n,
	    "kura-receipt/v1\n"
	    "receipt: 2026-000001\n"
	    "issued: 2026-11-22T07:00:00Z\n"
	    "account: %s\n"
	    "type: new\n"
	    "certification: -\n"
	    "case: 0123456789abcdef\n"
	    "file: 申請.zip\n"
	    "zip-size: 12345\n"
	    "zip-sha256: " ZSHA "\n"
	    "%s"
	    "document: 1 100 " DSHA " 0011223344556677 様式1.docx\n"
	    "document: 2 200 " DSHA " 8899aabbccddeeff 資料2.pdf\n"
	    "%s",
	    acct, docs_line, extra);
}

static enum err
check_str(const char *note, const char *login)
{
	return keeper_note_check(span_str(note), login);
}

static void
test_keeper_accepts_own_receipt(void)
{
	char r[4096];

	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	CHECK_OK(check_str(r, "alice"));
}

/* A session cannot get another account's receipt signed. */
static void
test_keeper_refuses_other_account(void)
{
	char r[4096];

	receipt(r, sizeof(r), "bob", "documents: 2\n", "");
	CHECK(check_str(r, "alice") == ERR_PERM);
	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	CHECK(check_str(r, "bob") == ERR_PERM);
	CHECK(check_str(r, "") == ERR_PERM);	     /* not authenticated */
	CHECK(check_str(r, "Alice") == ERR_PERM);    /* not a login */
	CHECK(check_str(r, "alice ") == ERR_PERM);
	/* "alice" as a prefix of the account line is not alice. */
	receipt(r, sizeof(r), "alicex", "documents: 2\n", "");
	CHECK(check_str(r, "alice") == ERR_PERM);
}

/* A checkpoint (or anything but a receipt) is never signed. */
static void
test_keeper_refuses_checkpoint(void)
{
	static const char *const forged[] = {
	    /* a C2SP checkpoint of the log */
	    "test.example/kura\n42\nq83vEjRWeJCrze8BI0VniavN7wEjRWeJq83vEjRWeJA=\n",
	    /* the same with the receipt's first line in front */
	    "kura-receipt/v1\n42\nq83vEjRWeJCrze8BI0VniavN7wEjRWeJq83vEjRWeJA=\n",
	    /* a deletion certificate's first line */
	    "kura-deletion-certificate/v1\naccount: alice\n",
	    "kura-receipt/v1\n",
	    "",
	    "kura-receipt/v1",
	};

	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		CHECK(check_str(forged[i], "alice") != ERR_OK);
		if (check_str(forged[i], "alice") == ERR_OK)
			fprintf(stderr, "signed: forged[%zu]\n", i);
	}
}

static void
test_keeper_refuses_malformed(void)
{
	char r[8192];

	/* fewer or more document lines than it says */
	receipt(r, sizeof(r), "alice", "documents: 3\n", "");
	CHECK(check_str(r, "alice") == ERR_INVALID);
	receipt(r, sizeof(r), "alice", "documents: 1\n", "");
	CHECK(check_str(r, "alice") == ERR_INVALID);
	receipt(r, sizeof(r), "alice", "documents: 02\n", "");
	CHECK(check_str(r, "alice") == ERR_INVALID);
	/* an empty line, then what would pass for a signature line */
	receipt(r, sizeof(r), "alice", "documents: 2\n",
	    "\n— test.example/kura AAAA\n");
	CHECK(check_str(r, "alice") == ERR_INVALID);
	/* a second account line */
	receipt(r, sizeof(r), "alice", "documents: 2\n", "account: bob\n");
	CHECK(check_str(r, "alice") == ERR_INVALID);
	/* no final newline */
	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	r[strlen(r) - 1] = 0;
	CHECK(check_str(r, "alice") == ERR_INVALID);
	/* control characters, invalid UTF-8 */
	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	memcpy(strstr(r, "申請"), "a\rb", 3);
	CHECK(check_str(r, "alice") == ERR_INVALID);
	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	memcpy(strstr(r, "申請"), "\xff\xfe", 2);
	CHECK(check_str(r, "alice") == ERR_INVALID);
	/* a bad hash, a header out of order */
	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	memcpy(strstr(r, ZSHA), "ZZ", 2);
	CHECK(check_str(r, "alice") == ERR_INVALID);
	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	memcpy(strstr(r, "type: new"), "typo: new", 9);
	CHECK(check_str(r, "alice") == ERR_INVALID);
}

static void
test_keeper_refuses_too_big(void)
{
	static char big[KEEPER_NOTE_MAX + 200];
	size_t n;

	receipt(big, sizeof(big), "alice", "documents: 2\n", "");
	n = strlen(big);
	memset(big + n, 'x', sizeof(big) - n - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = 0;
	CHECK(check_str(big, "alice") == ERR_TOO_BIG);
}

/* ---- the real keeper process, through a relay like the listener's ---- */

static struct cry_secret *
pw(const char *s)
{
	struct cry_secret *p = NULL;

	if (cry_secret_from(s, strlen(s), &p) != ERR_OK)
		return NULL;
	return p;
}

static const char *
new_vault(char *buf, size_t n, const char *name)
{
	struct vault_init_opts o = {0};
	struct cry_secret *p = pw("pass-admin");
	enum err r;

	(void)snprintf(buf, n, "%s/%s", test_tmpdir(), name);
	o.passphrase = p;
	o.log_origin = "test.example/kura";
	r = vault_init(buf, &o);
	cry_secret_free(p);
	return r == ERR_OK ? buf : NULL;
}

static int relay_ctl = -1;

static int
ctl_of(void *arg, pid_t tag)
{
	(void)arg;
	return tag == 4242 ? relay_ctl : -1;
}

/* One request as a session sends it; *got is the session's answer. */
static bool
sign_through(struct keeper *kp, const char *login, const char *note,
    struct bytes *got)
{
	int sp[2];
	struct pollfd pf;
	uint8_t buf[KEEPER_NOTE_MAX + 2048];
	char req[8192];
	int k = snprintf(req, sizeof(req), "N %s", note);
	ssize_t n;
	bool ok = false;

	bytes_clear(got);
	if (k < 0 || (size_t)k >= sizeof(req) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) != 0)
		return false;
	relay_ctl = sp[0];
	if (send(sp[1], req, (size_t)k, 0) != k)
		goto out;
	keeper_relay(kp, sp[0], 4242, login);
	pf.fd = keeper_fd(kp);
	pf.events = POLLIN;
	/* A refusal by the relay itself is already in the session's queue. */
	if (recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK) < 0) {
		if (poll(&pf, 1, 10000) != 1)
			goto out;
		keeper_reply(kp, ctl_of, NULL);
	}
	n = recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 1)
		goto out;
	ok = buf[0] == 'O';
	if (n > 1 && bytes_put(got, buf + 1, (size_t)n - 1) != ERR_OK)
		ok = false;
out:
	close(sp[0]);
	close(sp[1]);
	relay_ctl = -1;
	return ok;
}

static void
test_keeper_process_signs_receipts_only(void)
{
	char dir[512], pubp[600], r[4096];
	struct keeper *kp = NULL;
	struct bytes got, pub;
	struct span text;
	struct vault *v = NULL;
	uint64_t before = 0, after = 0;

	bytes_init(&got, KEEPER_NOTE_MAX + 2048);
	REQUIRE(new_vault(dir, sizeof(dir), "vk") != NULL);
	(void)snprintf(pubp, sizeof(pubp), "%s/keys/log.pub", dir);
	REQUIRE_OK(fsx_read_file(pubp, 1024, &pub));
	while (pub.len > 0 && pub.p[pub.len - 1] == '\n')
		pub.p[--pub.len] = 0;
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(audit_size(vault_audit(v), &before));
	vault_close(v);
	v = NULL;

	REQUIRE_OK(keeper_start(dir, (uid_t)-1, (gid_t)-1, &kp));
	receipt(r, sizeof(r), "alice", "documents: 2\n", "");
	CHECK(sign_through(kp, "alice", r, &got));
	CHECK_OK(cry_note_verify(bytes_span(&got), (const char *)pub.p,
	    &text));
	CHECK(text.len == strlen(r) && memcmp(text.p, r, text.len) == 0);
	/* forged: another account, a checkpoint, no login recorded */
	CHECK(!sign_through(kp, "bob", r, &got));
	CHECK(!sign_through(kp, "alice",
	    "test.example/kura\n1\nq83vEjRWeJCrze8BI0VniavN7wEjRWeJq83vEjRWeJA="
	    "\n",
	    &got));
	CHECK(!sign_through(kp, "", r, &got));
	/* still alive and signing after the refusals; the round trip's cost */
	{
		struct timespec t0, t1;
		int ok = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 200; i++)
			ok += sign_through(kp, "alice", r, &got);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		CHECK(ok == 200);
		fprintf(stderr, "# 200 receipts signed by the keeper: %.0f us each\n",
		    ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
		        (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
		        200);
	}
	/* stop: the final checkpoint covers the log as it is */
	keeper_stop(kp);
	REQUIRE_OK(vault_open(dir, 0, &v));
	CHECK_OK(audit_size(vault_audit(v), &after));
	CHECK(after == before + 1); /* its checkpoint.create event */
	vault_close(v);
	bytes_release(&got);
	bytes_release(&pub);
}

/* ---- lockouts kept across restarts ---- */

struct seen {
	char key[96];
	time_t until;
	unsigned level;
	int n;
};

static void
on_lock(void *arg, const char *key, time_t until, unsigned level)
{
	struct seen *s = arg;

	(void)snprintf(s->key, sizeof(s->key), "%s", key);
	s->until = until;
	s->level = level;
	s->n++;
}

static struct srv_conf
conf(void)
{
	struct srv_conf c;

	memset(&c, 0, sizeof(c));
	c.throttle = true;
	c.free_failures = 3;
	c.delay_ms = 1;
	c.delay_max_ms = 10;
	c.addr_failures = 5;
	c.account_failures = 0;
	c.lock_secs = 60;
	c.window_secs = 3600;
	return c;
}

static enum err
restore(void *arg, const char *key, int64_t until, uint32_t level)
{
	return throttle_restore(arg, key, (time_t)until, level, 1000);
}

static void
test_keeper_lockout_survives_restart(void)
{
	struct srv_conf c = conf();
	struct throttle *t = NULL, *t2 = NULL;
	struct seen s = {0};
	struct vault *v = NULL;
	char dir[512];
	uint64_t ms;
	bool locked = false;

	REQUIRE_OK(throttle_new(&c, &t));
	throttle_on_lock(t, on_lock, &s);
	for (int i = 0; i < 5; i++)
		throttle_fail(t, "192.0.2.7", NULL, 1000, &ms, &locked);
	CHECK(locked && s.n == 1);
	CHECK(strcmp(s.key, "a:192.0.2.7") == 0);
	CHECK(s.until == 1060 && s.level == 1);
	throttle_free(t);

	REQUIRE(new_vault(dir, sizeof(dir), "vl") != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(vault_lockouts_open(v));
	CHECK_OK(vault_lockout_put(v, s.key, s.until, s.level, 1000));
	CHECK_OK(vault_lockout_put(v, "u:old", 900, 3, 1000)); /* over */
	CHECK(vault_lockout_put(v, "", 2000, 1, 1000) == ERR_INVALID);
	/* the "restart": a new throttle, reloaded from the vault */
	REQUIRE_OK(throttle_new(&c, &t2));
	CHECK(!throttle_locked(t2, "192.0.2.7", NULL, 1000));
	CHECK_OK(vault_lockouts_load(v, 1000, restore, t2));
	CHECK(throttle_locked(t2, "192.0.2.7", NULL, 1001));
	CHECK(!throttle_locked(t2, "192.0.2.8", NULL, 1001));
	CHECK(!throttle_locked(t2, "192.0.2.7", NULL, 1060)); /* over */
	/* the escalation level came back: the next lockout is longer */
	s.n = 0;
	throttle_on_lock(t2, on_lock, &s);
	for (int i = 0; i < 5; i++)
		throttle_fail(t2, "192.0.2.7", NULL, 1100, &ms, &locked);
	CHECK(s.n == 1 && s.level == 2 && s.until == 1100 + 120);
	/* restored keys are ours only */
	CHECK(throttle_restore(t2, "x:1", 2000, 1, 1000) == ERR_INVALID);
	throttle_free(t2);
	vault_close(v);
}

/* ---- the session's Landlock: keys/log.key unreadable, all else as was ---- */

static bool
readable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The child: exit code = the first check that failed (0: all held). */
static int
confined_child(const char *dir)
{
	static const char *const secret[] = {"log.key", "ssh_host_ed25519_key",
	    NULL};
	struct vault *v = NULL;
	struct timespec t0, t1;
	char abs[700];
	uint64_t size = 0;
	int fd;
	enum err r;

	if (chdir(dir) != 0)
		return 1;
	if (!readable("keys/log.key"))
		return 2; /* before: readable (same uid) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = keeper_session_confine(secret);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == ERR_NOT_FOUND)
		return 77; /* no Landlock in this kernel */
	if (r != ERR_OK)
		return 3;
	fprintf(stderr, "# confine: %.2f ms\n",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	        (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	if (readable("keys/log.key") || errno != EACCES)
		return 4;
	if (readable("keys/ssh_host_ed25519_key"))
		return 5;
	(void)snprintf(abs, sizeof(abs), "%s/keys/log.key", dir);
	if (readable(abs) || readable("/proc/self/cwd/keys/log.key"))
		return 6;
	if (!readable("keys/log.pub") || !readable("keys/epoch.pub") ||
	    !readable("kura.conf") || !readable("/etc/passwd"))
		return 7;
	/* a new file in the vault (as staging gets) is readable */
	if ((fd = open("staging/new", O_RDWR | O_CREAT | O_EXCL, 0600)) < 0)
		return 8;
	close(fd);
	if (!readable("staging/new"))
		return 9;
	/* and moves into cases/ as a stored document does */
	if (rename("staging/new", "cases/new") != 0 || !readable("cases/new") ||
	    unlink("cases/new") != 0)
		return 13;
	/* the vault still opens (the parent holds its WAL, as the keeper) */
	if (vault_open(".", 0, &v) != ERR_OK)
		return 10;
	if (audit_size(vault_audit(v), &size) != ERR_OK || size == 0)
		return 11;
	/* and signing is impossible: the key cannot be loaded */
	if (audit_signer_load(vault_audit(v)) == ERR_OK)
		return 12;
	vault_close(v);
	return 0;
}

static void
test_keeper_session_confine(void)
{
	char dir[512];
	struct vault *v = NULL;
	pid_t pid;
	int st = 0;

	REQUIRE(new_vault(dir, sizeof(dir), "vc") != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v)); /* keeps -wal and -shm */
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(confined_child(dir));
	REQUIRE(waitpid(pid, &st, 0) == pid);
	vault_close(v);
	REQUIRE(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		fprintf(stderr, "# no Landlock here: skipped\n");
		return;
	}
	if (WEXITSTATUS(st) != 0)
		fprintf(stderr, "# confined child failed check %d\n",
		    WEXITSTATUS(st));
	CHECK(WEXITSTATUS(st) == 0);
}

int
main(void)
{
	if (cry_init() != ERR_OK)
		return 1;
	TEST_RUN(test_keeper_accepts_own_receipt);
	TEST_RUN(test_keeper_refuses_other_account);
	TEST_RUN(test_keeper_refuses_checkpoint);
	TEST_RUN(test_keeper_refuses_malformed);
	TEST_RUN(test_keeper_refuses_too_big);
	TEST_RUN(test_keeper_process_signs_receipts_only);
	TEST_RUN(test_keeper_lockout_survives_restart);
	TEST_RUN(test_keeper_session_confine);
	return test_summary();
}
