/*
 * tests/unit/test_vault.c - every storage function of vault/vault.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/bytes.h"
#include "common/fsx.h"
#include "crypto/crypto.h"
#include "vault/vault.h"
#include "vault/internal.h" /* db_do: the module's own SQL helper */
#include "tests/unit/harness.h"
#include "common/banned.h"

/* Test paths are short; truncation would only make a check fail. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static int vault_seq;

static struct cry_secret *
pw(const char *s)
{
	struct cry_secret *p = NULL;

	if (cry_secret_from(s, strlen(s), &p) != ERR_OK)
		return NULL;
	return p;
}

/* A fresh vault with staff "admin" / "pass-admin". */
static const char *
new_vault(char *buf, size_t n)
{
	struct vault_init_opts o = {0};
	struct cry_secret *p = pw("pass-admin");
	enum err r;

	(void)snprintf(buf, n, "%s/v%d", test_tmpdir(), ++vault_seq);
	o.passphrase = p;
	o.log_origin = "test.example/kura";
	r = vault_init(buf, &o);
	cry_secret_free(p);
	return r == ERR_OK ? buf : NULL;
}

static struct vault_staff_session *
unlock(struct vault *v, const char *name, const char *pass)
{
	struct vault_staff_session *s = NULL;
	struct cry_secret *p = pw(pass);

	if (vault_staff_unlock(v, name, p, &s) != ERR_OK)
		s = NULL;
	cry_secret_free(p);
	return s;
}

static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Stores data (written in shuffled 1000-byte pieces) into case_id. */
static enum err
put_doc(struct vault *v, const char *case_id, const uint8_t *data, size_t n,
    const char *name, char id[static VAULT_ID_MAX])
{
	struct vault_put *p = NULL;
	struct vault_doc_meta m = {.actor = "test",
	    .number = "A-1",
	    .name = name,
	    .role = "evidence",
	    .format = "bin"};
	enum err r;
	size_t piece = 1000, np = (n + piece - 1) / piece;

	if ((r = vault_put_begin(v, 0, &p)) != ERR_OK)
		return r;
	/* Back to front: writes may arrive in any order. */
	for (size_t k = np; k-- > 0;) {
		size_t off = k * piece, len = n - off < piece ? n - off : piece;
		if ((r = vault_put_write(p, off, span_of(data + off, len))) !=
		    ERR_OK) {
			vault_put_abort(p);
			return r;
		}
	}
	return vault_put_commit(p, case_id, &m, id);
}

static bool
reads_back(struct vault *v, const struct vault_staff_session *s, const char *id,
    const uint8_t *data, size_t n)
{
	struct vault_doc *d = NULL;
	uint8_t *buf = malloc(n + 1);
	size_t got = 0, total = 0;
	bool ok = false;

	if (buf == NULL || vault_doc_open(v, s, id, "test", &d) != ERR_OK)
		goto out;
	if (vault_doc_size(d) != n)
		goto out;
	while (total < n) {
		size_t want = n - total < 70000 ? n - total : 70000;
		if (vault_doc_read(d, total, buf + total, want, &got) !=
		        ERR_OK ||
		    got == 0)
			goto out;
		total += got;
	}
	ok = memcmp(buf, data, n) == 0;
	/* A range in the middle, crossing a chunk boundary. */
	if (ok && n > 70000) {
		uint8_t mid[1000];
		ok = vault_doc_read(d, 65000, mid, sizeof(mid), &got) ==
		         ERR_OK &&
		     got == sizeof(mid) && memcmp(mid, data + 65000, got) == 0;
	}
out:
	vault_doc_close(d);
	free(buf);
	return ok;
}

static int
count_rows(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Opens dir/keys/keystore.db separately (read-only view for checks). */
static int
ks_count(const char *dir, const char *sql, const char *arg)
{
	char path[4096];
	sqlite3 *db = NULL;
	int n;

	(void)snprintf(path, sizeof(path), "%s/keys/keystore.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	n = count_rows(db, sql, arg);
	sqlite3_close(db);
	return n;
}

static bool
file_contains(const char *path, const uint8_t *needle, size_t nlen)
{
	struct bytes b;
	bool found = false;

	bytes_init(&b, 1u << 30);
	if (fsx_read_file(path, 1u << 30, &b) != ERR_OK)
		return false;
	for (size_t i = 0; nlen <= b.len && i + nlen <= b.len; i++)
		if (memcmp(b.p + i, needle, nlen) == 0) {
			found = true;
			break;
		}
	bytes_release(&b);
	return found;
}

static bool
exists(const char *dir, const char *a, const char *b)
{
	char path[4096];

	(void)snprintf(path, sizeof(path), "%s/%s%s%s", dir, a,
	    b != NULL ? "/" : "", b != NULL ? b : "");
	return access(path, F_OK) == 0;
}

static const char *
cat(const char *a, const char *b)
{
	static char buf[4][4200];
	static int k;

	k = (k + 1) % 4;
	(void)snprintf(buf[k], sizeof(buf[k]), "%s%s", a, b);
	return buf[k];
}

static mode_t
mode_of(const char *dir, const char *name)
{
	char path[4096];
	struct stat sb;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &sb) != 0)
		return 0;
	return sb.st_mode & 07777;
}

/* ---- tests ---- */

static void
test_init_layout_and_modes(void)
{
	char dir[4096];
	struct vault_init_opts o = {0};
	struct cry_secret *p = pw("x");

	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	CHECK(mode_of(dir, "keys") == 0700);
	CHECK(mode_of(dir, "cases") == 0700);
	CHECK(mode_of(dir, "staging") == 0700);
	CHECK(mode_of(dir, "keys/keystore.db") == 0600);
	CHECK(mode_of(dir, "keys/log.key") == 0600);
	CHECK(mode_of(dir, "keys/epoch.pub") == 0600);
	CHECK(mode_of(dir, "keys/ssh_host_ed25519_key") == 0600);
	CHECK(mode_of(dir, "kura.db") == 0600);
	CHECK(file_contains(cat(dir, "/keys/ssh_host_ed25519_key"),
	    (const uint8_t *)"BEGIN OPENSSH PRIVATE KEY", 25));
	CHECK(file_contains(cat(dir, "/kura.conf"),
	    (const uint8_t *)"# listen = 127.0.0.1:2222", 25));
	/* Refuses an existing vault, and leaves it as it was. */
	o.passphrase = p;
	CHECK(vault_init(dir, &o) == ERR_EXISTS);
	CHECK(exists(dir, "kura.db", NULL));
	/* Bad staff name: nothing made. */
	o.staff_name = "../evil";
	CHECK(vault_init(cat(dir, "-bad"), &o) == ERR_INVALID);
	CHECK(!exists(dir, "-bad", NULL));
	cry_secret_free(p);
}

static void
test_open_missing(void)
{
	struct vault *v = NULL;
	char dir[4096];

	(void)snprintf(dir, sizeof(dir), "%s/nothing", test_tmpdir());
	CHECK(vault_open(dir, 0, &v) == ERR_NOT_FOUND);
	CHECK(v == NULL);
}

static enum err
count_cb(void *arg, const char *name, const char *created)
{
	(void)name;
	(void)created;
	(*(int *)arg)++;
	return ERR_OK;
}

static void
test_staff(void)
{
	char dir[4096];
	struct vault *v = NULL;
	struct vault_staff_session *a = NULL, *b = NULL, *bad = NULL;
	struct cry_secret *p = pw("pass-bob"), *wrong = pw("nope");
	int n = 0;

	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	CHECK(vault_staff_unlock(v, "admin", wrong, &bad) == ERR_AUTH);
	CHECK(bad == NULL);
	CHECK(vault_staff_unlock(v, "nobody", wrong, &bad) == ERR_NOT_FOUND);
	REQUIRE((a = unlock(v, "admin", "pass-admin")) != NULL);
	CHECK(strcmp(vault_staff_name(a), "admin") == 0);
	CHECK_OK(vault_staff_add(v, a, "bob", p));
	CHECK(vault_staff_add(v, a, "bob", p) == ERR_EXISTS);
	CHECK(vault_staff_add(v, a, "bad name", p) == ERR_INVALID);
	CHECK(vault_staff_add(v, a, "", p) == ERR_INVALID);
	CHECK_OK(vault_staff_list(v, count_cb, &n));
	CHECK(n == 2);
	/* The new member opens the epoch: reads what admin stored. */
	REQUIRE((b = unlock(v, "bob", "pass-bob")) != NULL);
	CHECK_OK(vault_staff_remove(v, "bob", "admin"));
	CHECK(vault_staff_remove(v, "bob", "admin") == ERR_NOT_FOUND);
	CHECK(vault_staff_remove(v, "bob", "bob") == ERR_PERM);
	n = 0;
	CHECK_OK(vault_staff_list(v, count_cb, &n));
	CHECK(n == 1);
	CHECK(ks_count(dir, "SELECT count(*) FROM epoch_secrets", NULL) == 1);
	vault_staff_session_free(a);
	vault_staff_session_free(b);
	vault_close(v);
	cry_secret_free(p);
	cry_secret_free(wrong);
}

static void
test_put_read_roundtrip(void)
{
	char dir[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX], id0[VAULT_ID_MAX];
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	size_t n = 3 * 65536 + 1234;
	uint8_t *data = malloc(n);
	uint8_t h[CRY_HASH_LEN];
	sqlite3_stmt *st = NULL;

	REQUIRE(data != NULL);
	fill(data, n, 7);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(vault_case_create(v, "test", c));
	CHECK(strlen(c) == VAULT_CASE_ID_HEX);
	CHECK(exists(dir, "cases", NULL));
	REQUIRE_OK(put_doc(v, c, data, n, "申請書.pdf", id));
	CHECK(strlen(id) == VAULT_DOC_ID_HEX);
	CHECK(exists(dir, "cases", c));
	REQUIRE_OK(put_doc(v, c, data, 0, "empty.txt", id0));
	/* Row: sizes and hashes. */
	cry_sha256(data, n, h);
	REQUIRE(sqlite3_prepare_v2(vault_db(v),
	            "SELECT plain_size, plain_sha256, cipher_size, name, number"
	            " FROM documents WHERE id = ?",
	            -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	CHECK((size_t)sqlite3_column_int64(st, 0) == n);
	CHECK(memcmp(sqlite3_column_blob(st, 1), h, CRY_HASH_LEN) == 0);
	CHECK((size_t)sqlite3_column_int64(st, 2) > n);
	CHECK(strcmp((const char *)sqlite3_column_text(st, 3), "申請書.pdf") ==
	      0);
	sqlite3_finalize(st);
	/* Reading needs a staff session. */
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	CHECK(reads_back(v, s, id, data, n));
	CHECK(reads_back(v, s, id0, data, 0));
	{
		struct vault_doc *d = NULL;
		CHECK(vault_doc_open(v, s, "00", NULL, &d) == ERR_NOT_FOUND);
		CHECK(vault_doc_open(v, s, "0123456789abcdef0123456789abcdef",
		          NULL, &d) == ERR_NOT_FOUND);
	}
	/* Nothing in staging after commits. */
	{
		char sp[4200];
		DIR *dd;
		struct dirent *e;
		int files = 0;
		(void)snprintf(sp, sizeof(sp), "%s/staging", dir);
		REQUIRE((dd = opendir(sp)) != NULL);
		while ((e = readdir(dd)) != NULL)
			files += e->d_name[0] != '.';
		closedir(dd);
		CHECK(files == 0);
	}
	vault_staff_session_free(s);
	vault_close(v);
	/* Reopen: still readable. */
	REQUIRE_OK(vault_open(dir, VAULT_OPEN_RECOVER, &v));
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	CHECK(reads_back(v, s, id, data, n));
	vault_staff_session_free(s);
	vault_close(v);
	free(data);
}

static void
test_put_finish_read_abort_limits(void)
{
	char dir[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX];
	struct vault *v = NULL;
	struct vault_put *p = NULL;
	struct cry_doc_result res;
	uint8_t data[5000], back[5000];
	size_t got = 0;
	struct vault_doc_meta m = {.actor = "t", .name = "x.zip"};

	fill(data, sizeof(data), 3);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(vault_case_create(v, "test", c));
	/* Limit. */
	REQUIRE_OK(vault_put_begin(v, 4000, &p));
	CHECK_OK(vault_put_write(p, 0, span_of(data, 4000)));
	CHECK(vault_put_write(p, 3999, span_of(data, 2)) == ERR_TOO_BIG);
	CHECK(vault_put_size(p) == 4000);
	vault_put_abort(p);
	/* Finish, read back (validation), then abort: nothing left. */
	REQUIRE_OK(vault_put_begin(v, 0, &p));
	CHECK(vault_put_read(p, 0, back, 10, &got) == ERR_INVALID);
	CHECK_OK(vault_put_write(p, 2500, span_of(data + 2500, 2500)));
	CHECK_OK(vault_put_write(p, 0, span_of(data, 2500)));
	CHECK_OK(vault_put_finish(p, &res));
	CHECK(res.plain_size == sizeof(data));
	CHECK(vault_put_write(p, 0, span_of(data, 1)) == ERR_INVALID);
	CHECK_OK(vault_put_read(p, 100, back, 4900, &got));
	CHECK(got == 4900 && memcmp(back, data + 100, 4900) == 0);
	vault_put_abort(p);
	/* A hole is refused at finish. */
	REQUIRE_OK(vault_put_begin(v, 0, &p));
	CHECK_OK(vault_put_write(p, 70000, span_of(data, 10)));
	CHECK(vault_put_finish(p, NULL) != ERR_OK);
	vault_put_abort(p);
	/* Unknown case: refused, nothing kept. */
	REQUIRE_OK(vault_put_begin(v, 0, &p));
	CHECK_OK(vault_put_write(p, 0, span_of(data, 10)));
	CHECK(vault_put_commit(p, "0000000000000000", &m, id) == ERR_NOT_FOUND);
	CHECK(id[0] == 0);
	CHECK(ks_count(dir, "SELECT count(*) FROM doc_keys", NULL) == 0);
	{
		struct vault_recover_report rep;
		CHECK_OK(vault_recover(v, &rep));
		CHECK(rep.staging_removed == 0 && rep.files_removed == 0 &&
		      rep.keys_removed == 0);
	}
	vault_close(v);
}

static void
test_tamper_detected(void)
{
	char dir[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX], path[4300];
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct vault_doc *d = NULL;
	uint8_t data[200000], buf[100];
	size_t got;
	int fd;

	fill(data, sizeof(data), 11);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "t.bin", id));
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	(void)snprintf(path, sizeof(path), "%s/cases/%s/%s", dir, c, id);
	REQUIRE((fd = open(path, O_RDWR)) >= 0);
	{
		uint8_t b;
		REQUIRE(pread(fd, &b, 1, 70000) == 1);
		b ^= 1;
		REQUIRE(pwrite(fd, &b, 1, 70000) == 1);
	}
	close(fd);
	REQUIRE_OK(vault_doc_open(v, s, id, NULL, &d));
	CHECK_OK(vault_doc_read(d, 0, buf, sizeof(buf), &got));
	CHECK(vault_doc_read(d, 66000, buf, sizeof(buf), &got) == ERR_CORRUPT);
	vault_doc_close(d);
	vault_staff_session_free(s);
	vault_close(v);
}

static void
test_doc_erase_destroys_key_and_file(void)
{
	char dir[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX], id2[VAULT_ID_MAX];
	char ks[4300], path[4300];
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct vault_doc *d = NULL;
	uint8_t data[1000], sealed[128];
	int slen = 0;
	sqlite3 *k = NULL;
	sqlite3_stmt *st = NULL;

	fill(data, sizeof(data), 5);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "a", id));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "b", id2));
	/* Remember the sealed key bytes, to look for them afterwards. */
	(void)snprintf(ks, sizeof(ks), "%s/keys/keystore.db", dir);
	REQUIRE(
	    sqlite3_open_v2(ks, &k, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(k,
	            "SELECT sealed FROM doc_keys WHERE doc_id = ?", -1, &st,
	            NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	slen = sqlite3_column_bytes(st, 0);
	REQUIRE(slen > 0 && slen <= (int)sizeof(sealed));
	memcpy(sealed, sqlite3_column_blob(st, 0), (size_t)slen);
	sqlite3_finalize(st);
	sqlite3_close(k);
	REQUIRE_OK(vault_doc_erase(v, "test", id));
	CHECK(vault_doc_erase(v, "test", id) == ERR_NOT_FOUND);
	(void)snprintf(path, sizeof(path), "%s/cases/%s/%s", dir, c, id);
	CHECK(access(path, F_OK) != 0);
	CHECK(ks_count(dir, "SELECT count(*) FROM doc_keys WHERE doc_id = ?",
	          id) == 0);
	/* REQ-DEL: no copy in the keystore file or its WAL. */
	CHECK(!file_contains(ks, sealed, (size_t)slen));
	CHECK(!file_contains(cat(ks, "-wal"), sealed, (size_t)slen));
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	CHECK(vault_doc_open(v, s, id, NULL, &d) == ERR_NOT_FOUND);
	CHECK(reads_back(v, s, id2, data, sizeof(data)));
	CHECK(count_rows(vault_db(v),
	          "SELECT count(*) FROM documents WHERE id = ? AND state = "
	          "'erased'",
	          id) == 1);
	vault_staff_session_free(s);
	vault_close(v);
}

static void
test_case_erase_keeps_retained(void)
{
	char dir[4096], c[VAULT_ID_MAX], c2[VAULT_ID_MAX];
	char keep[VAULT_ID_MAX], gone[VAULT_ID_MAX], other[VAULT_ID_MAX];
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct vault_doc *d = NULL;
	struct vault_put *p = NULL;
	struct vault_doc_meta m = {.actor = "t", .name = "late"};
	uint8_t data[3000];
	int64_t e2 = 0;

	fill(data, sizeof(data), 9);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(vault_case_create(v, "test", c2));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "form-a", keep));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "evidence", gone));
	REQUIRE_OK(put_doc(v, c2, data, sizeof(data), "other", other));
	CHECK_OK(vault_doc_retain(v, s, keep));
	REQUIRE_OK(vault_case_erase(v, "test", c));
	CHECK(vault_case_erase(v, "test", c) == ERR_NOT_FOUND);
	CHECK(
	    ks_count(dir, "SELECT count(*) FROM case_secrets WHERE case_id = ?",
	        c) == 0);
	CHECK(vault_doc_open(v, s, gone, NULL, &d) == ERR_NOT_FOUND);
	CHECK(reads_back(v, s, keep, data, sizeof(data)));
	CHECK(reads_back(v, s, other, data, sizeof(data)));
	/* No new documents into an erased case. */
	REQUIRE_OK(vault_put_begin(v, 0, &p));
	CHECK_OK(vault_put_write(p, 0, span_of(data, 10)));
	CHECK(vault_put_commit(p, c, &m, gone) == ERR_NOT_FOUND);
	/* The ratchet: everything live still readable under epoch 2. */
	CHECK_OK(vault_epoch_rotate(v, s, &e2));
	CHECK(e2 == 2);
	CHECK(ks_count(dir,
	          "SELECT count(*) FROM epoch_secrets WHERE epoch_id = 1",
	          NULL) == 0);
	CHECK(ks_count(dir,
	          "SELECT count(*) FROM case_secrets WHERE epoch_id = 1",
	          NULL) == 0);
	CHECK(ks_count(dir,
	          "SELECT count(*) FROM epochs WHERE id = 1 AND retired IS NOT "
	          "NULL",
	          NULL) == 1);
	CHECK(reads_back(v, s, keep, data, sizeof(data)));
	CHECK(reads_back(v, s, other, data, sizeof(data)));
	vault_staff_session_free(s);
	/* A fresh unlock after the ratchet, and a new case under epoch 2. */
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "new", gone));
	CHECK(reads_back(v, s, gone, data, sizeof(data)));
	vault_staff_session_free(s);
	vault_close(v);
}

static void
test_transaction_rollback_and_commit(void)
{
	char dir[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX], id2[VAULT_ID_MAX];
	char path[4300];
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct vault_doc *d = NULL;
	uint8_t data[2000];

	fill(data, sizeof(data), 13);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	REQUIRE_OK(vault_begin(v));
	CHECK(vault_begin(v) == ERR_INVALID);
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "x", id));
	vault_rollback(v);
	(void)snprintf(path, sizeof(path), "%s/cases/%s/%s", dir, c, id);
	CHECK(access(path, F_OK) != 0);
	CHECK(ks_count(dir, "SELECT count(*) FROM doc_keys", NULL) == 0);
	CHECK(ks_count(dir, "SELECT count(*) FROM case_secrets", NULL) == 0);
	CHECK(vault_doc_open(v, s, id, NULL, &d) == ERR_NOT_FOUND);
	/* Commit path, with an erase queued inside the transaction. */
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(vault_begin(v));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "y", id));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "z", id2));
	REQUIRE_OK(vault_doc_erase(v, "test", id2));
	/*
	 * Not destroyed before the commit; the sealed keys themselves are
	 * batched: another connection sees them only when the transaction
	 * commits (keystore first, then kura.db).
	 */
	CHECK(ks_count(dir, "SELECT count(*) FROM doc_keys", NULL) == 0);
	REQUIRE_OK(vault_commit(v));
	CHECK(ks_count(dir, "SELECT count(*) FROM doc_keys", NULL) == 1);
	CHECK(reads_back(v, s, id, data, sizeof(data)));
	CHECK(vault_commit(v) == ERR_INVALID);
	vault_staff_session_free(s);
	vault_close(v);
}

static void
test_recover_orphans(void)
{
	char dir[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX], path[4300];
	struct vault *v = NULL, *v2 = NULL;
	struct vault_put *p = NULL;
	struct vault_recover_report rep;
	uint8_t data[100];
	sqlite3 *k = NULL;

	fill(data, sizeof(data), 17);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "kept", id));
	/* An abandoned upload (a crash mid-write). */
	REQUIRE_OK(vault_put_begin(v, 0, &p));
	CHECK_OK(vault_put_write(p, 0, span_of(data, sizeof(data))));
	/* Another process has the vault open: recovery must not run. */
	REQUIRE_OK(vault_open(dir, 0, &v2));
	CHECK(vault_recover(v, &rep) == ERR_PERM);
	vault_close(v2);
	/* A case file and key no row points to. */
	(void)snprintf(path, sizeof(path), "%s/cases/%s/%s", dir, c,
	    "ffffffffffffffffffffffffffffffff");
	CHECK_OK(fsx_write_atomic(path, span_of(data, 10), 0600));
	(void)snprintf(path, sizeof(path), "%s/keys/keystore.db", dir);
	REQUIRE(sqlite3_open(path, &k) == SQLITE_OK);
	CHECK(sqlite3_exec(k,
	          "INSERT INTO doc_keys VALUES "
	          "('ffffffffffffffffffffffffffffffff',"
	          " 'x', 'case', NULL, x'00');"
	          "INSERT INTO case_secrets VALUES ('1111111111111111', 1, "
	          "x'00')",
	          NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(k);
	CHECK_OK(vault_recover(v, &rep));
	CHECK(rep.staging_removed == 1);
	CHECK(rep.files_removed == 1);
	CHECK(rep.keys_removed == 2);
	CHECK(rep.missing == 0);
	CHECK_OK(vault_recover(v, &rep));
	CHECK(rep.staging_removed == 0 && rep.files_removed == 0 &&
	      rep.keys_removed == 0);
	vault_put_abort(p); /* its file is already gone: harmless */
	/* A live row whose file vanished is reported. */
	(void)snprintf(path, sizeof(path), "%s/cases/%s/%s", dir, c, id);
	CHECK(unlink(path) == 0);
	CHECK_OK(vault_recover(v, &rep));
	CHECK(rep.missing == 1);
	vault_close(v);
}

static void
test_schema_apply(void)
{
	char dir[4096];
	struct vault *v = NULL;
	static const char *const steps[] = {
	    "CREATE TABLE t_a (x INTEGER);",
	    "ALTER TABLE t_a ADD COLUMN y TEXT;",
	};
	static const char *const bad[] = {
	    "CREATE TABLE t_b (x INTEGER);",
	    "THIS IS NOT SQL;",
	};

	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	CHECK_OK(vault_schema_apply(v, "testmod", steps, 1));
	CHECK_OK(vault_schema_apply(v, "testmod", steps, 2));
	CHECK_OK(vault_schema_apply(v, "testmod", steps, 2));
	CHECK(count_rows(vault_db(v),
	          "SELECT version FROM schema_versions WHERE module = ?",
	          "testmod") == 2);
	CHECK(vault_schema_apply(v, "testmod", steps, 1) == ERR_DB);
	CHECK(vault_schema_apply(v, "vault", steps, 1) == ERR_INVALID);
	CHECK(vault_schema_apply(v, "other", bad, 2) == ERR_DB);
	CHECK(count_rows(vault_db(v),
	          "SELECT count(*) FROM sqlite_schema WHERE name = 't_b'",
	          NULL) == 0);
	CHECK(count_rows(vault_db(v),
	          "SELECT count(*) FROM schema_versions WHERE module = ?",
	          "other") == 0);
	CHECK(vault_config(v) != NULL && vault_audit(v) != NULL &&
	      strcmp(vault_dir(v), dir) == 0);
	vault_close(v);
}

static void
test_public_only_cannot_read(void)
{
	/*
	 * The SFTP server's view: it stores into a case but has no staff
	 * session; a wrong staff secret cannot open the epoch.
	 */
	char dir[4096], dir2[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX];
	struct vault *v = NULL, *v2 = NULL;
	struct vault_staff_session *s2 = NULL;
	struct vault_doc *d = NULL;
	uint8_t data[100];

	fill(data, sizeof(data), 23);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE(new_vault(dir2, sizeof(dir2)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE_OK(vault_open(dir2, 0, &v2));
	REQUIRE_OK(vault_case_create(v, "test", c));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "x", id));
	/* Same name and passphrase, another vault's key: no access. */
	REQUIRE((s2 = unlock(v2, "admin", "pass-admin")) != NULL);
	CHECK(vault_doc_open(v, s2, id, NULL, &d) != ERR_OK);
	CHECK(d == NULL);
	vault_staff_session_free(s2);
	vault_close(v);
	vault_close(v2);
}

struct trail {
	char actions[64][32];
	uint64_t store_index[8];
	int n, nstore;
};

static enum err
trail_cb(void *ctx, const struct audit_record *rec)
{
	struct trail *t = ctx;

	if (t->n < 64)
		(void)snprintf(t->actions[t->n++], 32, "%s", rec->ev.action);
	if (strcmp(rec->ev.action, "doc.store") == 0 && t->nstore < 8)
		t->store_index[t->nstore++] = rec->index;
	return ERR_OK;
}

static void
test_audit_trail(void)
{
	/* Every state change is an event of the log, and the log verifies. */
	char dir[4096], c[VAULT_ID_MAX], id[VAULT_ID_MAX], id2[VAULT_ID_MAX];
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct vault_doc *d = NULL;
	struct trail t = {0};
	struct bytes msg;
	struct audit_verify_opts vo = {0};
	uint8_t data[500];
	static const char *const want[] = {"vault.init", "staff.add",
	    "case.create", "doc.store", "doc.store", "doc.open", "doc.retain",
	    "doc.erase", "case.erase", "epoch.rotate"};

	fill(data, sizeof(data), 29);
	bytes_init(&msg, 4096);
	REQUIRE(new_vault(dir, sizeof(dir)) != NULL);
	REQUIRE_OK(vault_open(dir, 0, &v));
	REQUIRE((s = unlock(v, "admin", "pass-admin")) != NULL);
	REQUIRE_OK(vault_case_create(v, "alice", c));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "a", id));
	REQUIRE_OK(put_doc(v, c, data, sizeof(data), "b", id2));
	REQUIRE_OK(vault_doc_open(v, s, id, "review", &d));
	vault_doc_close(d);
	REQUIRE_OK(vault_doc_retain(v, s, id));
	REQUIRE_OK(vault_case_erase(v, "admin", c));
	REQUIRE_OK(vault_epoch_rotate(v, s, NULL));
	REQUIRE_OK(audit_events(vault_audit(v), 0, UINT64_MAX, trail_cb, &t));
	REQUIRE(t.n == (int)(sizeof(want) / sizeof(want[0])));
	for (int i = 0; i < t.n; i++)
		CHECK(strcmp(t.actions[i], want[i]) == 0);
	/* documents.store_index is the doc.store leaf (certificates cite it).
	 */
	CHECK(count_rows(vault_db(v),
	          "SELECT store_index FROM documents WHERE id = ?",
	          id) == (int)t.store_index[0]);
	CHECK(count_rows(vault_db(v),
	          "SELECT store_index FROM documents WHERE id = ?",
	          id2) == (int)t.store_index[1]);
	CHECK_OK(audit_verify(vault_audit(v), &vo, &msg));
	bytes_release(&msg);
	vault_staff_session_free(s);
	vault_close(v);
}

/* db_do binds each typed value to its parameter, and fails closed. */
static void
test_db_do(void)
{
	char path[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	static const uint8_t blob[3] = {0, 1, 0xff};
	static const char ins[] = "INSERT INTO t(a, b, c) VALUES (?, ?, ?)";

	(void)snprintf(path, sizeof(path), "%s/dbdo.db", test_tmpdir());
	REQUIRE_OK(db_open(path, true, false, &db));
	REQUIRE_OK(db_exec(db, "CREATE TABLE t(a TEXT, b INTEGER NOT NULL, "
	                       "c BLOB, UNIQUE(b))"));
	CHECK_OK(db_do(db, ins, DB_TEXT("x"), DB_INT(-5),
	    DB_BLOB(blob, sizeof(blob))));
	CHECK_OK(
	    db_do(db, ins, DB_TEXT(NULL), DB_INT(INT64_MAX), DB_BLOB(blob, 0)));
	/* a constraint, a missing table, more values than parameters */
	CHECK(db_do(db, ins, DB_TEXT("y"), DB_INT(-5), DB_BLOB(blob, 1)) ==
	      ERR_DB);
	CHECK(db_do(db, "INSERT INTO nosuch VALUES (?)", DB_INT(1)) == ERR_DB);
	CHECK(db_do(db, ins, DB_TEXT("z"), DB_INT(7), DB_BLOB(blob, 1),
	          DB_INT(8)) == ERR_DB);
	CHECK_OK(db_do(db, "UPDATE t SET a = ? WHERE b = ?", DB_TEXT("w"),
	    DB_INT(-5)));
	/* DB_U64: up to INT64_MAX, over it ERR_TOO_BIG and nothing written */
	CHECK_OK(db_do(db, "UPDATE t SET b = ? WHERE b = ?",
	    DB_U64((uint64_t)INT64_MAX - 1), DB_U64((uint64_t)INT64_MAX)));
	CHECK(db_do(db, "UPDATE t SET b = ? WHERE b = ?",
	          DB_U64((uint64_t)INT64_MAX + 1), DB_INT(-5)) == ERR_TOO_BIG);
	REQUIRE_OK(db_prepare(db,
	    "SELECT count(*), sum(a IS NULL), sum(a = 'w'), max(b), "
	    "sum(length(c)), sum(c = x'0001ff') FROM t",
	    &st));
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	CHECK(sqlite3_column_int64(st, 0) == 2);
	CHECK(sqlite3_column_int64(st, 1) == 1);
	CHECK(sqlite3_column_int64(st, 2) == 1);
	CHECK(sqlite3_column_int64(st, 3) == INT64_MAX - 1);
	CHECK(sqlite3_column_int64(st, 4) == 3);
	CHECK(sqlite3_column_int64(st, 5) == 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int
main(void)
{
	setenv("KURA_TEST_FAST_KDF", "1", 1);
	if (cry_init() != ERR_OK)
		return 2;
	TEST_RUN(test_init_layout_and_modes);
	TEST_RUN(test_open_missing);
	TEST_RUN(test_staff);
	TEST_RUN(test_put_read_roundtrip);
	TEST_RUN(test_put_finish_read_abort_limits);
	TEST_RUN(test_tamper_detected);
	TEST_RUN(test_doc_erase_destroys_key_and_file);
	TEST_RUN(test_case_erase_keeps_retained);
	TEST_RUN(test_transaction_rollback_and_commit);
	TEST_RUN(test_recover_orphans);
	TEST_RUN(test_schema_apply);
	TEST_RUN(test_public_only_cannot_read);
	TEST_RUN(test_audit_trail);
	TEST_RUN(test_db_do);
	return test_summary();
}
