/*
 * tests/unit/test_merkle.c - RFC 9162 hashing and proofs against every
 * vector in ../shared/corpus/merkle, plus the SQLite-backed log (append,
 * triggers, proofs with O(log n) reads) checked against an independent
 * recursive reference.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "audit/internal.h" /* stored nodes */
#include "tests/unit/harness.h"
#include "tests/unit/minijson.h"
#include "common/banned.h"

#define H CRY_HASH_LEN

static char corpus[4096];

/* base64 of any length; *len = decoded bytes; false on bad base64. */
static bool
unb64(const char *s, uint8_t *out, size_t max, size_t *len)
{
	struct bytes b;
	bool ok;

	bytes_init(&b, 4096);
	ok = cry_b64_decode(s, strlen(s), &b) == ERR_OK && b.len <= max;
	if (ok) {
		memcpy(out, b.p, b.len);
		*len = b.len;
	}
	bytes_release(&b);
	return ok;
}

static bool
hash32(const struct mj *v, uint8_t out[static H])
{
	size_t len = 0;

	return v != NULL && v->type == MJ_STR && unb64(v->str, out, H, &len) &&
	       len == H;
}

/* A proof array (null = empty); false if any element is not 32 bytes. */
static bool
proof_of(const struct mj *v, struct merkle_proof *p)
{
	p->n = 0;
	if (v == NULL || v->type == MJ_NULL)
		return true;
	if (v->type != MJ_ARR || v->len > MERKLE_MAX_PROOF)
		return false;
	for (size_t i = 0; i < v->len; i++) {
		if (!hash32(v->items[i], p->h[p->n]))
			return false;
		p->n++;
	}
	return true;
}

static uint64_t
num(const struct mj *v)
{
	if (v == NULL || v->type != MJ_NUM || !v->isu)
		return UINT64_MAX; /* negative or not an integer: invalid */
	return (uint64_t)v->u;
}

/* Runs one transparency-dev file; returns true when our verdict matches. */
static bool
run_td_file(const char *path, bool inclusion, bool *deviation)
{
	struct mj *j = mj_parse_file(path);
	const struct mj *want = mj_get(j, "wantErr");
	struct merkle_proof p;
	uint8_t a[H], b[H];
	bool ok = false, got_err;

	*deviation = false;
	if (j == NULL || want == NULL || want->type != MJ_BOOL) {
		fprintf(stderr, "cannot read %s\n", path);
		mj_free(j);
		return false;
	}
	if (inclusion) {
		got_err = !hash32(mj_get(j, "leafHash"), a) ||
		          !hash32(mj_get(j, "root"), b) ||
		          !proof_of(mj_get(j, "proof"), &p) ||
		          merkle_verify_inclusion(num(mj_get(j, "leafIdx")),
		              num(mj_get(j, "treeSize")), a, &p, b) != ERR_OK;
	} else {
		got_err = !hash32(mj_get(j, "root1"), a) ||
		          !hash32(mj_get(j, "root2"), b) ||
		          !proof_of(mj_get(j, "proof"), &p) ||
		          merkle_verify_consistency(num(mj_get(j, "size1")),
		              num(mj_get(j, "size2")), a, b, &p) != ERR_OK;
	}
	ok = got_err == want->b;
	/* Corpus README quirk 1: 12-byte placeholder roots; we reject. */
	if (!ok && strstr(path, "sizes-are-equal-one-and-proof-is-empty") &&
	    got_err) {
		*deviation = true;
		ok = true;
	}
	if (!ok)
		fprintf(stderr, "vector %s: wantErr %d, got %d\n", path,
		    want->b, got_err);
	mj_free(j);
	return ok;
}

static void
walk(const char *dir, bool inclusion, int *files, int *good, int *dev)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		bool deviation;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, inclusion, files, good, dev);
			continue;
		}
		if (strstr(e->d_name, ".json") == NULL)
			continue;
		(*files)++;
		if (run_td_file(path, inclusion, &deviation))
			(*good)++;
		if (deviation)
			(*dev)++;
	}
	closedir(d);
}

static void
test_transparency_dev_vectors(void)
{
	char dir[4200];
	int files = 0, good = 0, dev = 0;

	REQUIRE(corpus[0] != 0);
	snprintf(dir, sizeof(dir),
	    "%s/transparency-dev-merkle/testdata/inclusion", corpus);
	walk(dir, true, &files, &good, &dev);
	snprintf(dir, sizeof(dir),
	    "%s/transparency-dev-merkle/testdata/consistency", corpus);
	walk(dir, false, &files, &good, &dev);
	printf("# transparency-dev: %d files, %d as expected, %d expected "
	       "deviation (12-byte roots)\n",
	    files, good, dev);
	CHECK(files == 196);
	CHECK(good == files);
	CHECK(dev == 1);
}

/* ---- an independent recursive reference over an array of leaf hashes ---- */

static uint8_t (*ref_leaves)[H];

static uint64_t
kpow(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void
ref_mth(uint64_t a, uint64_t n, uint8_t out[static H])
{
	uint8_t l[H], r[H];
	uint64_t k;

	if (n == 0) {
		merkle_empty_root(out);
		return;
	}
	if (n == 1) {
		memcpy(out, ref_leaves[a], H);
		return;
	}
	k = kpow(n);
	ref_mth(a, k, l);
	ref_mth(a + k, n - k, r);
	merkle_node_hash(l, r, out);
}

static void
ref_path(uint64_t m, uint64_t a, uint64_t n, struct merkle_proof *p)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = kpow(n);
	if (m < k) {
		ref_path(m, a, k, p);
		ref_mth(a + k, n - k, p->h[p->n++]);
	} else {
		ref_path(m - k, a + k, n - k, p);
		ref_mth(a, k, p->h[p->n++]);
	}
}

static void
ref_subproof(uint64_t m, uint64_t a, uint64_t n, bool b, struct merkle_proof *p)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			ref_mth(a, n, p->h[p->n++]);
		return;
	}
	k = kpow(n);
	if (m <= k) {
		ref_subproof(m, a, k, b, p);
		ref_mth(a + k, n - k, p->h[p->n++]);
	} else {
		ref_subproof(m - k, a + k, n - k, false, p);
		ref_mth(a, k, p->h[p->n++]);
	}
}

/* Node source over ref_leaves for merkle_prove_* / merkle_root. */
static enum err
ref_node(void *ctx, unsigned level, uint64_t index, uint8_t out[static H])
{
	uint64_t *reads = ctx;

	if (reads != NULL)
		(*reads)++;
	ref_mth(index << level, (uint64_t)1 << level, out);
	return ERR_OK;
}

static bool
proof_eq(const struct merkle_proof *a, const struct merkle_proof *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->h[i], b->h[i], H) != 0)
			return false;
	return true;
}

static void
run_derived(const char *file, size_t *nincl, size_t *ncons)
{
	char path[4200];
	struct mj *j;
	const struct mj *leaves, *roots, *incl, *cons;
	size_t n;

	snprintf(path, sizeof(path), "%s/derived/%s", corpus, file);
	j = mj_parse_file(path);
	REQUIRE(j != NULL);
	leaves = mj_get(j, "leaf_input_hex");
	REQUIRE(leaves != NULL && leaves->type == MJ_ARR);
	n = leaves->len;
	ref_leaves = calloc(n + 1, H);
	REQUIRE(ref_leaves != NULL);
	for (size_t i = 0; i < n; i++) {
		const char *hx = leaves->items[i]->str;
		size_t bl = strlen(hx) / 2;
		uint8_t buf[256], lh[H];
		REQUIRE(bl <= sizeof(buf));
		REQUIRE(hex_decode(hx, buf, bl) == ERR_OK);
		merkle_leaf_hash(buf, bl, ref_leaves[i]);
		CHECK(hash32(mj_get(j, "leaf_hashes")->items[i], lh));
		CHECK(memcmp(lh, ref_leaves[i], H) == 0);
	}
	roots = mj_get(j, "roots");
	for (size_t i = 0; roots != NULL && i < roots->len; i++) {
		uint8_t want[H], got[H], fr_root[H];
		uint64_t size = num(mj_get(roots->items[i], "tree_size"));
		struct merkle_frontier fr;
		CHECK(hash32(mj_get(roots->items[i], "root"), want));
		CHECK(merkle_root(ref_node, NULL, size, got) == ERR_OK);
		CHECK(memcmp(want, got, H) == 0);
		merkle_frontier_init(&fr);
		for (uint64_t k = 0; k < size; k++)
			merkle_frontier_push(&fr, ref_leaves[k], NULL, NULL);
		merkle_frontier_root(&fr, fr_root);
		CHECK(memcmp(want, fr_root, H) == 0);
	}
	incl = mj_get(j, "inclusion");
	for (size_t i = 0; incl != NULL && i < incl->len; i++) {
		const struct mj *e = incl->items[i];
		uint64_t idx = num(mj_get(e, "leaf_index"));
		uint64_t size = num(mj_get(e, "tree_size"));
		struct merkle_proof want, got, ref = {0};
		uint8_t lh[H], root[H];
		CHECK(proof_of(mj_get(e, "proof"), &want));
		CHECK(hash32(mj_get(e, "leaf_hash"), lh));
		CHECK(hash32(mj_get(e, "root"), root));
		CHECK(merkle_prove_inclusion(ref_node, NULL, idx, size, &got) ==
		      ERR_OK);
		ref_path(idx, 0, size, &ref);
		CHECK(proof_eq(&want, &got));
		CHECK(proof_eq(&want, &ref));
		CHECK(merkle_verify_inclusion(idx, size, lh, &want, root) ==
		      ERR_OK);
		/* Forgery: one flipped bit anywhere must fail. */
		if (want.n > 0) {
			want.h[want.n - 1][3] ^= 0x10;
			CHECK(merkle_verify_inclusion(idx, size, lh, &want,
			          root) == ERR_CORRUPT);
		}
		lh[0] ^= 1;
		CHECK(merkle_verify_inclusion(idx, size, lh, &got, root) ==
		      ERR_CORRUPT);
		(*nincl)++;
	}
	cons = mj_get(j, "consistency");
	for (size_t i = 0; cons != NULL && i < cons->len; i++) {
		const struct mj *e = cons->items[i];
		uint64_t s1 = num(mj_get(e, "size1"));
		uint64_t s2 = num(mj_get(e, "size2"));
		struct merkle_proof want, got, ref = {0};
		uint8_t r1[H], r2[H];
		CHECK(proof_of(mj_get(e, "proof"), &want));
		CHECK(hash32(mj_get(e, "root1"), r1));
		CHECK(hash32(mj_get(e, "root2"), r2));
		CHECK(merkle_prove_consistency(ref_node, NULL, s1, s2, &got) ==
		      ERR_OK);
		ref_subproof(s1, 0, s2, true, &ref);
		CHECK(proof_eq(&want, &got));
		CHECK(proof_eq(&want, &ref));
		CHECK(
		    merkle_verify_consistency(s1, s2, r1, r2, &want) == ERR_OK);
		if (want.n > 0) {
			want.h[0][5] ^= 0x01;
			CHECK(merkle_verify_consistency(s1, s2, r1, r2,
			          &want) == ERR_CORRUPT);
		}
		r1[0] ^= 1; /* a verifier that forgot root1 would pass this */
		CHECK(merkle_verify_consistency(s1, s2, r1, r2, &got) ==
		      ERR_CORRUPT);
		(*ncons)++;
	}
	free(ref_leaves);
	ref_leaves = NULL;
	mj_free(j);
}

static void
test_derived_vectors(void)
{
	size_t ni = 0, nc = 0;

	REQUIRE(corpus[0] != 0);
	run_derived("rfc6962-8-leaves-exhaustive.json", &ni, &nc);
	CHECK(ni == 36 && nc == 36);
	run_derived("rfc6962-100-leaves-selected.json", &ni, &nc);
	printf("# derived: %zu inclusion, %zu consistency proofs\n", ni, nc);
	CHECK(ni == 36 + 178 && nc == 36 + 137);
}

static void
test_proof_read_counts(void)
{
	/* Reads per proof stay within 2·log2(n)+2 for every shape. */
	static uint8_t leaves[130][H];
	struct merkle_proof p;

	ref_leaves = leaves;
	for (int i = 0; i < 130; i++)
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
	for (uint64_t n = 1; n <= 130; n++) {
		unsigned lg = 0;
		while (((uint64_t)1 << lg) < n)
			lg++;
		for (uint64_t m = 0; m < n; m++) {
			uint64_t reads = 0;
			CHECK(merkle_prove_inclusion(ref_node, &reads, m, n,
			          &p) == ERR_OK);
			CHECK(reads <= 2 * lg + 2);
			if (m == 0)
				continue;
			reads = 0;
			CHECK(merkle_prove_consistency(ref_node, &reads, m, n,
			          &p) == ERR_OK);
			CHECK(reads <= 2 * lg + 2);
		}
	}
	ref_leaves = NULL;
}

/* ---- the SQLite log ---- */

static sqlite3 *
mem_db(void)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return NULL;
	return db;
}

struct collect {
	uint8_t (*hashes)[H];
	size_t n;
};

static enum err
collect_fn(void *ctx, const struct audit_record *rec)
{
	struct collect *c = ctx;

	if (rec->index != c->n)
		return ERR_CORRUPT;
	memcpy(c->hashes[c->n++], rec->leaf_hash, H);
	return ERR_OK;
}

static void
test_log_append_and_proofs(void)
{
	sqlite3 *db = mem_db();
	struct audit *a = NULL;
	struct audit_event ev = {.actor = "system",
	    .action = "vault.init",
	    .details_json = "{\"n\": 1, \"s\": \"\\u00e9\"}"};
	enum { N = 70 };
	static uint8_t hashes[N][H];
	struct collect c = {hashes, 0};
	struct bytes out;
	uint64_t idx = 0, size = 0;

	REQUIRE(db != NULL);
	REQUIRE_OK(audit_open(db, test_tmpdir(), &a));
	CHECK_OK(audit_size(a, &size));
	CHECK(size == 0);
	REQUIRE(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	for (uint64_t i = 0; i < N; i++) {
		ev.case_id = (i % 3 == 0) ? "C-1" : NULL;
		ev.account = (i % 5 == 0) ? "taro" : "";
		REQUIRE_OK(audit_append(a, &ev, &idx));
		CHECK(idx == i);
	}
	REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_OK(audit_size(a, &size));
	CHECK(size == N);
	CHECK_OK(audit_events(a, 0, UINT64_MAX, collect_fn, &c));
	CHECK(c.n == N);
	ref_leaves = hashes;
	/* Every stored node and every proof equals the reference. */
	bytes_init(&out, 65536);
	for (uint64_t n = 1; n <= N; n++) {
		uint8_t want[H], got[H];
		ref_mth(0, n, want);
		CHECK(merkle_root(audit_node_get, a, n, got) == ERR_OK);
		CHECK(memcmp(want, got, H) == 0);
		for (uint64_t m = 0; m < n; m++) {
			struct merkle_proof p, ref = {0};
			CHECK(merkle_prove_inclusion(audit_node_get, a, m, n,
			          &p) == ERR_OK);
			ref_path(m, 0, n, &ref);
			CHECK(proof_eq(&p, &ref));
			CHECK(merkle_verify_inclusion(m, n, hashes[m], &p,
			          want) == ERR_OK);
			if (m == 0)
				continue;
			ref.n = 0;
			CHECK(merkle_prove_consistency(audit_node_get, a, m, n,
			          &p) == ERR_OK);
			ref_subproof(m, 0, n, true, &ref);
			CHECK(proof_eq(&p, &ref));
		}
	}
	ref_leaves = NULL;
	/* Text proofs. */
	CHECK_OK(audit_prove_inclusion(a, 5, 8, &out));
	CHECK(
	    strncmp((char *)out.p,
	        "kura-audit-proof/v1\ninclusion\nindex 5\nsize 8\n", 43) == 0);
	bytes_clear(&out);
	CHECK_OK(audit_prove_consistency(a, 5, 8, &out));
	CHECK(strncmp((char *)out.p,
	          "kura-audit-proof/v1\nconsistency\nold 5\nnew 8\n", 43) == 0);
	CHECK(audit_prove_inclusion(a, 70, 70, &out) == ERR_INVALID);
	CHECK(audit_prove_consistency(a, 0, 8, &out) == ERR_INVALID);
	CHECK(audit_prove_consistency(a, 8, 71, &out) == ERR_INVALID);
	bytes_release(&out);
	/* R: the table refuses UPDATE and DELETE. */
	CHECK(sqlite3_exec(db, "UPDATE audit_events SET actor='x' WHERE seq=1",
	          NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(db, "DELETE FROM audit_events WHERE seq=69", NULL,
	          NULL, NULL) != SQLITE_OK);
	CHECK_OK(audit_size(a, &size));
	CHECK(size == N);
	audit_close(a);
	sqlite3_close(db);
}

/* Property: random proofs over a 3,000-event log hold; one flip fails. */
static void
test_log_random_proofs(void)
{
	sqlite3 *db = mem_db();
	struct audit *a = NULL;
	struct audit_event ev = {.actor = "system", .action = "login.failure"};
	enum { N = 3000 };
	static uint8_t hashes[N][H];
	struct collect c = {hashes, 0};
	uint64_t seed = 88172645463325252ull;

	REQUIRE(db != NULL);
	REQUIRE_OK(audit_open(db, test_tmpdir(), &a));
	REQUIRE(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	for (int i = 0; i < N; i++)
		REQUIRE_OK(audit_append(a, &ev, NULL));
	REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE_OK(audit_events(a, 0, UINT64_MAX, collect_fn, &c));
	REQUIRE(c.n == N);
	for (int t = 0; t < 300; t++) {
		struct merkle_frontier f1, f2;
		struct merkle_proof p;
		uint8_t r1[H], r2[H];
		uint64_t n, m;
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		n = 1 + seed % N;
		m = (seed >> 20) % n;
		merkle_frontier_init(&f1);
		for (uint64_t i = 0; i < n; i++) {
			merkle_frontier_push(&f1, hashes[i], NULL, NULL);
			if (i + 1 == m)
				f2 = f1;
		}
		merkle_frontier_root(&f1, r2);
		CHECK_OK(merkle_prove_inclusion(audit_node_get, a, m, n, &p));
		CHECK_OK(merkle_verify_inclusion(m, n, hashes[m], &p, r2));
		if (p.n > 0) {
			p.h[seed % p.n][(seed >> 8) % H] ^= 0x40;
			CHECK(merkle_verify_inclusion(m, n, hashes[m], &p,
			          r2) == ERR_CORRUPT);
		}
		if (m == 0)
			continue;
		merkle_frontier_root(&f2, r1);
		CHECK_OK(merkle_prove_consistency(audit_node_get, a, m, n, &p));
		CHECK_OK(merkle_verify_consistency(m, n, r1, r2, &p));
		if (p.n > 0) {
			p.h[seed % p.n][(seed >> 8) % H] ^= 0x02;
			CHECK(merkle_verify_consistency(m, n, r1, r2, &p) ==
			      ERR_CORRUPT);
		}
	}
	audit_close(a);
	sqlite3_close(db);
}

static void
test_log_rollback_and_reopen(void)
{
	sqlite3 *db = mem_db();
	struct audit *a = NULL, *b = NULL;
	struct audit_event ev = {.actor = "staff1",
	    .action = "case.create",
	    .case_id = "C-7"};
	uint64_t idx = 0;
	uint8_t r1[H], r2[H];

	REQUIRE(db != NULL);
	REQUIRE_OK(audit_open(db, test_tmpdir(), &a));
	REQUIRE_OK(audit_open(db, test_tmpdir(), &b));
	for (int i = 0; i < 5; i++)
		REQUIRE_OK(audit_append(a, &ev, &idx));
	/* A rolled-back append leaves no trace and the cache recovers. */
	REQUIRE(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE_OK(audit_append(a, &ev, &idx));
	CHECK(idx == 5);
	REQUIRE(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	/* Another handle appends meanwhile. */
	REQUIRE_OK(audit_append(b, &ev, &idx));
	CHECK(idx == 5);
	REQUIRE_OK(audit_append(a, &ev, &idx));
	CHECK(idx == 6);
	REQUIRE_OK(audit_append(b, &ev, &idx));
	CHECK(idx == 7);
	/* Savepoints rolled back across appends, then more appends. */
	REQUIRE(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE_OK(audit_append(a, &ev, &idx));
	CHECK(idx == 8);
	REQUIRE(
	    sqlite3_exec(db, "SAVEPOINT s1", NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE_OK(audit_append(a, &ev, &idx));
	CHECK(idx == 9);
	REQUIRE(
	    sqlite3_exec(db, "ROLLBACK TO s1", NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE_OK(audit_append(a, &ev, &idx));
	CHECK(idx == 9);
	REQUIRE(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_exec(db,
	            "BEGIN; CREATE TABLE IF NOT EXISTS other(x);"
	            "INSERT INTO other VALUES(1)",
	            NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE_OK(audit_append(a, &ev, &idx));
	CHECK(idx == 8);
	REQUIRE(sqlite3_exec(db, "INSERT INTO other VALUES(2)", NULL, NULL,
	            NULL) == SQLITE_OK);
	REQUIRE_OK(audit_append(b, &ev, &idx));
	CHECK(idx == 9);
	REQUIRE_OK(audit_append(a, &ev, &idx));
	CHECK(idx == 10);
	REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	/* Stored nodes equal the recomputed tree of all 11 leaves. */
	{
		static uint8_t hs[11][H];
		struct collect c = {hs, 0};
		CHECK_OK(audit_events(a, 0, 10, collect_fn, &c));
		CHECK(c.n == 11);
		ref_leaves = hs;
		for (uint64_t n = 1; n <= 11; n++) {
			ref_mth(0, n, r2);
			CHECK_OK(merkle_root(audit_node_get, a, n, r1));
			CHECK(memcmp(r1, r2, H) == 0);
		}
		ref_leaves = NULL;
	}
	CHECK_OK(merkle_root(audit_node_get, a, 8, r1));
	{
		/* Recompute from the leaves alone. */
		static uint8_t hs[8][H];
		struct collect c = {hs, 0};
		CHECK_OK(audit_events(a, 0, 7, collect_fn, &c));
		CHECK(c.n == 8);
		ref_leaves = hs;
		ref_mth(0, 8, r2);
		ref_leaves = NULL;
		CHECK(memcmp(r1, r2, H) == 0);
	}
	audit_close(a);
	audit_close(b);
	sqlite3_close(db);
}

static void
test_leaf_encoding(void)
{
	struct bytes b;
	struct audit_event ev = {.actor = "山田",
	    .action = "upload.accept",
	    .case_id = "C-1",
	    .document_id = "D-2",
	    .account = "taro",
	    .details_json = "{\"size\":12}"};
	const char *want = "kura-audit-event/v1\nindex 3\n"
	                   "time 2026-01-02T03:04:05.678Z\nactor 山田\n"
	                   "action upload.accept\ncase C-1\ndocument D-2\n"
	                   "account taro\ndetails {\"size\":12}\n";
	const char *t = "2026-01-02T03:04:05.678Z";

	bytes_init(&b, 4096);
	CHECK_OK(audit_leaf_encode(3, t, &ev, &b));
	CHECK(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0);
	bytes_clear(&b);
	ev.actor = "a\nb"; /* a newline would forge a field line */
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.actor = "a\xc2\x9b[31m"; /* C1 CSI */
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.actor = "a\xff";
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.actor = "x";
	ev.details_json = "{\"a\":\"\xc2\x85\"}";
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.details_json = "{\"a\":\"\xe5\xb1\xb1\"}";
	CHECK_OK(audit_leaf_encode(3, t, &ev, &b));
	bytes_clear(&b);
	ev.action = "Upload";
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.action = "upload.accept";
	ev.details_json = "[1]";
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.details_json = "{\"a\":1}x";
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.details_json = "{\"a\":\n1}";
	CHECK(audit_leaf_encode(3, t, &ev, &b) == ERR_INVALID);
	ev.details_json = "{\"a\": [1, 2.5e3, true, null, {\"b\": \"\\n\"}]}";
	CHECK_OK(audit_leaf_encode(3, t, &ev, &b));
	ev.details_json = NULL;
	bytes_clear(&b);
	CHECK_OK(audit_leaf_encode(3, t, &ev, &b));
	CHECK(strstr((char *)b.p, "details {}\n") != NULL);
	CHECK(audit_leaf_encode(3, "2026-01-02", &ev, &b) == ERR_INVALID);
	bytes_release(&b);
}

int
main(void)
{
	const char *s = test_shared_dir();

	if (cry_init() != ERR_OK)
		return 1;
	if (s != NULL)
		snprintf(corpus, sizeof(corpus), "%s/corpus/merkle", s);
	TEST_RUN(test_transparency_dev_vectors);
	TEST_RUN(test_derived_vectors);
	TEST_RUN(test_proof_read_counts);
	TEST_RUN(test_leaf_encoding);
	TEST_RUN(test_log_append_and_proofs);
	TEST_RUN(test_log_rollback_and_reopen);
	TEST_RUN(test_log_random_proofs);
	return test_summary();
}
