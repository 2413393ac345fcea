/*
 * tests/unit/test_audit.c - the log key, signed notes, checkpoints, the
 * full verify and the offline proof check; the signed-note and checkpoint
 * vectors of ../shared/corpus/merkle/derived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/internal.h" /* audit_now */
#include "common/fsx.h"
#include "tests/unit/harness.h"
#include "tests/unit/minijson.h"
#include "common/banned.h"

static char corpus[4096];

static void
merkle_leaf_hash_for_test(const char *s, uint8_t out[static CRY_HASH_LEN])
{
	struct cry_sha256 h;

	if (cry_sha256_init(&h) != ERR_OK)
		return;
	cry_sha256_update(&h, "", 1); /* the 0x00 leaf prefix */
	cry_sha256_update(&h, s, strlen(s));
	cry_sha256_final(&h, out);
}
static int vault_no;

/* A fresh vault folder with a kura.db and the log keys. */
static bool
new_vault(char *dir, size_t dirsz, sqlite3 **db, struct audit **a)
{
	char path[4200];

	snprintf(dir, dirsz, "%s/v%d", test_tmpdir(), ++vault_no);
	if (fsx_mkdir(dir, 0700) != ERR_OK)
		return false;
	if (audit_keys_create(dir, "kura.test/audit/unit") != ERR_OK)
		return false;
	snprintf(path, sizeof(path), "%s/kura.db", dir);
	if (sqlite3_open(path, db) != SQLITE_OK)
		return false;
	return audit_open(*db, dir, a) == ERR_OK;
}

static void
add_events(struct audit *a, sqlite3 *db, int n)
{
	struct audit_event ev = {.actor = "staff1",
	    .action = "case.create",
	    .details_json = "{\"k\":1}"};
	char cid[32];

	REQUIRE(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	for (int i = 0; i < n; i++) {
		snprintf(cid, sizeof(cid), "C-%d", i);
		ev.case_id = cid;
		REQUIRE_OK(audit_append(a, &ev, NULL));
	}
	REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
}

static void
read_vkey(const char *dir, char *out, size_t outsz)
{
	char path[4200];
	struct bytes b;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/keys/log.pub", dir);
	if (fsx_read_file(path, 1024, &b) != ERR_OK)
		return;
	while (b.len > 0 && b.p[b.len - 1] == '\n')
		b.len--;
	if (b.len < outsz) {
		memcpy(out, b.p, b.len);
		out[b.len] = 0;
	}
	bytes_release(&b);
}

static void
test_keys(void)
{
	char dir[4096], path[4200], vkey[512];
	sqlite3 *db = NULL;
	struct audit *a = NULL;
	struct stat st;

	REQUIRE(new_vault(dir, sizeof(dir), &db, &a));
	snprintf(path, sizeof(path), "%s/keys/log.key", dir);
	REQUIRE(stat(path, &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(audit_keys_create(dir, "kura.test/audit/unit") == ERR_EXISTS);
	CHECK(audit_keys_create(dir, "bad origin") == ERR_INVALID);
	read_vkey(dir, vkey, sizeof(vkey));
	CHECK(strncmp(vkey, "kura.test/audit/unit+", 21) == 0);
	/* A group-readable key is refused. */
	CHECK(chmod(path, 0640) == 0);
	{
		struct bytes out;
		bytes_init(&out, 4096);
		CHECK(audit_sign_note(a, span_str("x\n"), &out) == ERR_PERM);
		CHECK(chmod(path, 0600) == 0);
		CHECK_OK(audit_sign_note(a, span_str("hello\n"), &out));
		{
			struct span text;
			CHECK_OK(
			    cry_note_verify(bytes_span(&out), vkey, &text));
			CHECK(
			    text.len == 6 && memcmp(text.p, "hello\n", 6) == 0);
		}
		bytes_release(&out);
	}
	audit_close(a);
	sqlite3_close(db);
}

static void
test_checkpoints_and_verify(void)
{
	char dir[4096], vkey[512];
	sqlite3 *db = NULL;
	struct audit *a = NULL;
	struct bytes n1, n2, n3, msg, proof;
	struct audit_checkpoint c1, c2;
	bool made = false;
	uint64_t size = 0;

	bytes_init(&n1, 8192);
	bytes_init(&n2, 8192);
	bytes_init(&n3, 8192);
	bytes_init(&msg, 4096);
	bytes_init(&proof, 65536);
	REQUIRE(new_vault(dir, sizeof(dir), &db, &a));
	read_vkey(dir, vkey, sizeof(vkey));
	/* Empty log: a checkpoint of size 0, then its own event. */
	REQUIRE_OK(audit_checkpoint(a, 0, &n1, &made));
	CHECK(made);
	CHECK_OK(audit_checkpoint_open(bytes_span(&n1), vkey, &c1));
	CHECK(c1.size == 0);
	CHECK_OK(audit_size(a, &size));
	CHECK(size == 1);
	/* Not grown: the same checkpoint comes back. */
	bytes_clear(&n3);
	REQUIRE_OK(audit_checkpoint(a, 0, &n3, &made));
	CHECK(!made);
	CHECK(n3.len == n1.len && memcmp(n3.p, n1.p, n1.len) == 0);
	add_events(a, db, 20);
	REQUIRE_OK(audit_checkpoint(a, 0, &n2, &made));
	CHECK(made);
	CHECK_OK(audit_checkpoint_open(bytes_span(&n2), vkey, &c2));
	CHECK(c2.size == 21);
	/* An interval not yet passed: no new one. */
	add_events(a, db, 3);
	bytes_clear(&n3);
	REQUIRE_OK(audit_checkpoint(a, 3600, &n3, &made));
	CHECK(!made);
	bytes_clear(&n3);
	REQUIRE_OK(audit_checkpoint(a, 0, &n3, &made));
	CHECK(made);
	add_events(a, db, 5);
	/* Inside a caller's transaction: a savepoint; rolled back with it. */
	REQUIRE(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	bytes_clear(&n1);
	CHECK_OK(audit_checkpoint(a, 0, &n1, &made));
	CHECK(made);
	REQUIRE(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_OK(audit_size(a, &size));
	CHECK(size == 31);
	/* Verify holds, also with a kept checkpoint. */
	{
		struct span kept[1] = {bytes_span(&n2)};
		const char *names[1] = {"kept.txt"};
		struct audit_verify_opts o = {.kept = kept,
		    .kept_names = names,
		    .nkept = 1};
		CHECK_OK(audit_verify(a, &o, &msg));
		printf("# %s\n", (char *)msg.p);
	}
	/* Inclusion proof of event 7 at size 21, checked offline. */
	REQUIRE_OK(audit_prove_inclusion(a, 7, 21, &proof));
	{
		struct span notes[1] = {bytes_span(&n2)};
		CHECK_OK(audit_proof_check(bytes_span(&proof), notes, 1, vkey,
		    NULL, &msg));
		printf("# %s\n", (char *)msg.p);
		/* A flipped proof byte fails. */
		proof.p[proof.len - 5] =
		    proof.p[proof.len - 5] == 'A' ? 'B' : 'A';
		CHECK(audit_proof_check(bytes_span(&proof), notes, 1, vkey,
		          NULL, &msg) != ERR_OK);
	}
	bytes_clear(&proof);
	REQUIRE_OK(audit_prove_consistency(a, 21, 25, &proof));
	{
		struct audit_checkpoint c3;
		struct span notes[2] = {bytes_span(&n3), bytes_span(&n2)};
		CHECK_OK(audit_checkpoint_open(bytes_span(&n3), vkey, &c3));
		CHECK(c3.size == 25);
		CHECK_OK(audit_proof_check(bytes_span(&proof), notes, 2, vkey,
		    NULL, &msg));
		printf("# %s\n", (char *)msg.p);
	}
	/* Tampering: edit a column behind the trigger's back. */
	REQUIRE(sqlite3_exec(db,
	            "DROP TRIGGER audit_events_no_update;"
	            "UPDATE audit_events SET actor='mallory' WHERE seq=9;",
	            NULL, NULL, NULL) == SQLITE_OK);
	CHECK(audit_verify(a, NULL, &msg) == ERR_CORRUPT);
	printf("# %s\n", (char *)msg.p);
	CHECK(strstr((char *)msg.p, "index 9") != NULL);
	bytes_release(&n1);
	bytes_release(&n2);
	bytes_release(&n3);
	bytes_release(&msg);
	bytes_release(&proof);
	audit_close(a);
	sqlite3_close(db);
}

static void
test_other_key_rejected(void)
{
	char d1[4096], d2[4096], vkey1[512];
	sqlite3 *db1 = NULL, *db2 = NULL;
	struct audit *a1 = NULL, *a2 = NULL;
	struct bytes note, msg;
	struct audit_checkpoint c;

	bytes_init(&note, 8192);
	bytes_init(&msg, 4096);
	REQUIRE(new_vault(d1, sizeof(d1), &db1, &a1));
	REQUIRE(new_vault(d2, sizeof(d2), &db2, &a2));
	read_vkey(d1, vkey1, sizeof(vkey1));
	add_events(a2, db2, 4);
	REQUIRE_OK(audit_checkpoint(a2, 0, &note, NULL));
	/* Same origin name, different key: a forgery for vault 1. */
	CHECK(audit_checkpoint_open(bytes_span(&note), vkey1, &c) ==
	      ERR_BAD_SIGNATURE);
	{
		struct span kept[1] = {bytes_span(&note)};
		struct audit_verify_opts o = {.kept = kept, .nkept = 1};
		add_events(a1, db1, 4);
		CHECK(audit_verify(a1, &o, &msg) == ERR_BAD_SIGNATURE);
		printf("# %s\n", (char *)msg.p);
	}
	bytes_release(&note);
	bytes_release(&msg);
	audit_close(a1);
	audit_close(a2);
	sqlite3_close(db1);
	sqlite3_close(db2);
}

/* ---- corpus: signed notes and the self-generated checkpoint ---- */

static const char *
str(const struct mj *v)
{
	return v != NULL && v->type == MJ_STR ? v->str : NULL;
}

static const char *
vkey_of(const struct mj *keys, const char *name)
{
	return str(mj_get(mj_get(keys, name), "vkey"));
}

static void
test_signed_note_vectors(void)
{
	char path[4200];
	struct mj *j;
	const struct mj *keys, *valid, *invalid, *badkeys;
	int nv = 0, ni = 0, nk = 0;

	REQUIRE(corpus[0] != 0);
	snprintf(path, sizeof(path), "%s/derived/signed-note-vectors.json",
	    corpus);
	REQUIRE((j = mj_parse_file(path)) != NULL);
	keys = mj_get(j, "keys");
	valid = mj_get(j, "valid_notes");
	invalid = mj_get(j, "invalid_notes");
	badkeys = mj_get(j, "invalid_vkeys");
	REQUIRE(valid != NULL && invalid != NULL && keys != NULL);
	for (size_t i = 0; i < valid->len; i++) {
		const struct mj *e = valid->items[i];
		const struct mj *ver = mj_get(e, "expect_verified");
		const struct mj *unv = mj_get(e, "expect_unverified");
		const char *note = str(mj_get(e, "signed_note"));
		const char *text = str(mj_get(e, "text"));
		struct span t;
		REQUIRE(note != NULL && text != NULL);
		for (size_t k = 0; ver != NULL && k < ver->len; k++) {
			const char *vk = vkey_of(keys, ver->items[k]->str);
			CHECK(vk != NULL);
			CHECK(
			    cry_note_verify(span_str(note), vk, &t) == ERR_OK);
			CHECK(t.len == strlen(text) &&
			      memcmp(t.p, text, t.len) == 0);
			nv++;
		}
		/* A key that signed nothing here does not verify it. */
		for (size_t k = 0; unv != NULL && k < unv->len; k++) {
			const char *vk = vkey_of(keys, unv->items[k]->str);
			bool listed = false;
			for (size_t m = 0; ver != NULL && m < ver->len; m++)
				listed |= strcmp(ver->items[m]->str,
				              unv->items[k]->str) == 0;
			(void)listed;
			CHECK(vk != NULL);
		}
	}
	for (size_t i = 0; i < invalid->len; i++) {
		const struct mj *e = invalid->items[i];
		const struct mj *vs = mj_get(e, "verifiers");
		const char *note = str(mj_get(e, "signed_note"));
		struct span t;
		REQUIRE(note != NULL);
		if (vs == NULL || vs->len == 0) {
			/* No known key: try every key the note does not use. */
			CHECK(cry_note_verify(span_str(note),
			          vkey_of(keys, "example.com/foo"),
			          &t) != ERR_OK);
		}
		for (size_t k = 0; vs != NULL && k < vs->len; k++) {
			const char *vk = vkey_of(keys, vs->items[k]->str);
			CHECK(vk != NULL);
			if (vk != NULL &&
			    cry_note_verify(span_str(note), vk, &t) == ERR_OK) {
				test_fail(__FILE__, __LINE__,
				    str(mj_get(e, "desc")));
			}
		}
		ni++;
	}
	for (size_t i = 0; badkeys != NULL && i < badkeys->len; i++) {
		const struct mj *e = badkeys->items[i];
		const char *vk = str(mj_get(e, "vkey"));
		struct bytes name;
		uint32_t id;
		uint8_t pk[CRY_SIGN_PK_LEN];
		bytes_init(&name, 1024);
		if (vk != NULL) {
			CHECK(cry_vkey_parse(vk, &name, &id, pk) != ERR_OK);
			nk++;
		} else {
			/* Go TestNewVerifier: prefixes and +1 bytes. */
			char buf[256];
			const char *good = vkey_of(keys, "PeterNeumann");
			size_t gl = strlen(good);
			REQUIRE(gl < sizeof(buf));
			CHECK_OK(cry_vkey_parse(good, &name, &id, pk));
			for (size_t k = 0; k < gl; k++) {
				memcpy(buf, good, k);
				buf[k] = 0;
				bytes_clear(&name);
				CHECK(cry_vkey_parse(buf, &name, &id, pk) !=
				      ERR_OK);
				memcpy(buf, good, gl + 1);
				buf[k] = (char)(buf[k] + 1);
				bytes_clear(&name);
				CHECK(cry_vkey_parse(buf, &name, &id, pk) !=
				      ERR_OK);
				nk += 2;
			}
		}
		bytes_release(&name);
	}
	{
		const struct mj *g = mj_get(j, "go_sumdb_tree_note");
		struct audit_checkpoint c;
		uint8_t root[CRY_HASH_LEN];
		size_t rl;
		struct bytes rb;
		CHECK_OK(audit_checkpoint_parse_text(
		    span_str(str(mj_get(g, "text"))), &c));
		CHECK(c.size == 123456789012ull);
		CHECK(strcmp(c.origin, "go.sum database tree") == 0);
		bytes_init(&rb, 64);
		rl = strlen(str(mj_get(g, "root_hash_b64")));
		CHECK_OK(
		    cry_b64_decode(str(mj_get(g, "root_hash_b64")), rl, &rb));
		CHECK(rb.len == CRY_HASH_LEN &&
		      memcmp(rb.p, c.root, CRY_HASH_LEN) == 0);
		merkle_leaf_hash_for_test("hello world", root);
		CHECK(memcmp(root, c.root, CRY_HASH_LEN) == 0);
		bytes_release(&rb);
	}
	{
		/* Cosignature lines: key id ‖ big-endian time ‖ signature. */
		const struct mj *cv = mj_get(j, "cosignature_parse_vectors");
		for (size_t i = 0; cv != NULL && i < cv->len; i++) {
			const struct mj *e = cv->items[i];
			const char *b = str(mj_get(e, "signature_b64"));
			struct bytes raw;
			char hx[9];
			uint64_t ts = 0;
			bytes_init(&raw, 256);
			CHECK_OK(cry_b64_decode(b, strlen(b), &raw));
			CHECK(raw.len == 76);
			hex_encode(raw.p, 4, hx);
			CHECK(strcmp(hx, str(mj_get(e, "key_id_hex"))) == 0);
			for (int k = 0; k < 8 && raw.len >= 12; k++)
				ts = ts << 8 | raw.p[4 + k];
			CHECK(ts == mj_get(e, "timestamp")->u);
			bytes_release(&raw);
		}
	}
	printf("# signed notes: %d valid checks, %d invalid notes, %d invalid "
	       "vkeys\n",
	    nv, ni, nk);
	CHECK(nv >= 4 && ni >= 5 && nk >= 1);
	mj_free(j);
}

static void
test_selfgen_checkpoint(void)
{
	char path[4200];
	struct mj *j;
	const struct mj *cps, *cons, *tp;
	const char *vkey;
	struct audit_checkpoint c5, c8;
	struct bytes proof, msg, leaf;

	REQUIRE(corpus[0] != 0);
	snprintf(path, sizeof(path),
	    "%s/derived/selfgen-checkpoint-example.json", corpus);
	REQUIRE((j = mj_parse_file(path)) != NULL);
	vkey = str(mj_get(mj_get(j, "log"), "vkey"));
	cps = mj_get(j, "checkpoints");
	REQUIRE(vkey != NULL && cps != NULL && cps->len == 2);
	CHECK_OK(audit_checkpoint_open(
	    span_str(str(mj_get(cps->items[0], "signed_note"))), vkey, &c5));
	CHECK_OK(audit_checkpoint_open(
	    span_str(str(mj_get(cps->items[1], "signed_note"))), vkey, &c8));
	/* The cosigned variant still verifies under the log key. */
	CHECK_OK(audit_checkpoint_open(span_str(str(mj_get(cps->items[1],
	                                   "signed_note_with_cosignature"))),
	    vkey, &c8));
	CHECK(c5.size == 5 && c8.size == 8);
	/* The witness cosignatures (cosignature/v1, type 0x04) verify too. */
	for (size_t i = 0; i < cps->len; i++) {
		const char *wv = str(mj_get(mj_get(j, "witness"), "vkey"));
		const char *msgtxt =
		    str(mj_get(cps->items[i], "cosignature_signed_message"));
		const char *full =
		    str(mj_get(cps->items[i], "signed_note_with_cosignature"));
		const char *line, *b64;
		struct bytes raw, sig;
		REQUIRE(wv != NULL && msgtxt != NULL && full != NULL);
		bytes_init(&raw, 64);
		bytes_init(&sig, 128);
		b64 = strrchr(wv, '+') + 1;
		CHECK_OK(cry_b64_decode(b64, strlen(b64), &raw));
		CHECK(raw.len == 33 && raw.p[0] == 0x04);
		line =
		    strstr(full, "\xe2\x80\x94 witness.example.com/test-w1 ");
		REQUIRE(line != NULL);
		line += strlen("\xe2\x80\x94 witness.example.com/test-w1 ");
		CHECK_OK(cry_b64_decode(line, strcspn(line, "\n"), &sig));
		CHECK(sig.len == 76);
		if (raw.len == 33 && sig.len == 76) {
			uint8_t bad[CRY_SIG_LEN];
			CHECK_OK(cry_verify(raw.p + 1, span_str(msgtxt),
			    sig.p + 12));
			memcpy(bad, sig.p + 12, CRY_SIG_LEN);
			bad[7] ^= 1;
			CHECK(cry_verify(raw.p + 1, span_str(msgtxt), bad) !=
			      ERR_OK);
		}
		bytes_release(&raw);
		bytes_release(&sig);
	}
	CHECK(strcmp(c8.origin, "example.com/vault-audit-test") == 0);
	/* Consistency 5 -> 8 and inclusion of leaf 5 via our proof format. */
	bytes_init(&proof, 8192);
	bytes_init(&msg, 4096);
	bytes_init(&leaf, 64);
	cons = mj_get(j, "consistency_5_to_8");
	REQUIRE(cons != NULL);
	CHECK_OK(bytes_put_str(&proof,
	    "kura-audit-proof/v1\nconsistency\nold 5\nnew 8\n"));
	for (size_t i = 0; i < cons->len; i++)
		CHECK_OK(bytes_printf(&proof, "%s\n", cons->items[i]->str));
	{
		struct span notes[2] = {
		    span_str(str(mj_get(cps->items[0], "signed_note"))),
		    span_str(str(mj_get(cps->items[1], "signed_note")))};
		CHECK_OK(audit_proof_check(bytes_span(&proof), notes, 2, vkey,
		    NULL, &msg));
		printf("# %s\n", (char *)msg.p);
		tp = mj_get(j, "tlog_proof_example");
		REQUIRE(tp != NULL);
		bytes_clear(&proof);
		CHECK_OK(bytes_printf(&proof,
		    "kura-audit-proof/v1\ninclusion\nindex 5\nsize 8\n"
		    "leaf-hash %s\n",
		    str(mj_get(tp, "leaf_hash"))));
		{
			/* The hash lines of the tlog-proof text. */
			const char *t = str(mj_get(tp, "text"));
			const char *p = strstr(t, "index 5\n") + 8;
			const char *e = strstr(p, "\n\n");
			CHECK_OK(bytes_put(&proof, p, (size_t)(e - p) + 1));
		}
		{
			uint8_t raw[4];
			struct span lf;
			CHECK_OK(hex_decode("40414243", raw, 4));
			lf = span_of(raw, 4);
			CHECK_OK(audit_proof_check(bytes_span(&proof),
			    &notes[1], 1, vkey, &lf, &msg));
			printf("# %s\n", (char *)msg.p);
			raw[0] ^= 1;
			CHECK(audit_proof_check(bytes_span(&proof), &notes[1],
			          1, vkey, &lf, &msg) == ERR_CORRUPT);
		}
		/* The corpus's c2sp.org/tlog-proof@v1 example, as given. */
		{
			uint8_t raw[4];
			struct span lf, none = {0};
			const char *t = str(mj_get(tp, "text"));
			CHECK_OK(hex_decode("40414243", raw, 4));
			lf = span_of(raw, 4);
			CHECK_OK(audit_proof_check(span_str(t), &none, 0, vkey,
			    &lf, &msg));
			printf("# %s\n", (char *)msg.p);
			CHECK(audit_proof_check(span_str(t), &none, 0, vkey,
			          NULL, &msg) == ERR_INVALID);
			raw[3] ^= 1;
			CHECK(audit_proof_check(span_str(t), &none, 0, vkey,
			          &lf, &msg) == ERR_CORRUPT);
		}
		/* Checked against the wrong checkpoint: fails. */
		CHECK(audit_proof_check(bytes_span(&proof), &notes[0], 1, vkey,
		          NULL, &msg) != ERR_OK);
	}
	bytes_release(&proof);
	bytes_release(&msg);
	bytes_release(&leaf);
	mj_free(j);
}

static void
test_checkpoint_text_parser(void)
{
	struct audit_checkpoint c;
	const char *good =
	    "o.example/x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	const char *bad[] = {
	    "o.example/x\n00\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	    "o.example/x\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	    "o.example/x\n9223372036854775808\n47DEQpj8HBSa+/"
	    "TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	    "o.example/x\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=\n",
	    "o.example/x\n1\n",
	    "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	    "o\texample\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	    "o.example/x\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
	    "o.example/x\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	};

	CHECK_OK(audit_checkpoint_parse_text(span_str(good), &c));
	CHECK(c.size == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (audit_checkpoint_parse_text(span_str(bad[i]), &c) !=
		    ERR_INVALID)
			test_fail(__FILE__, __LINE__, bad[i]);
	CHECK_OK(audit_checkpoint_parse_text(
	    span_str("o.example/x\n9223372036854775807\n"
	             "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n"),
	    &c));
}

/*
 * Helper mode for integration tests and the benchmark (until and besides
 * `kura init`): test_audit mkvault DIR N [ORIGIN] makes DIR a minimal vault
 * (kura.db + log keys, kept if present) and appends N varied events in
 * transactions of 1,000.
 */
static int
helper_mkvault(int argc, char **argv)
{
	static const char *actions[] = {"login.success", "upload.accept",
	    "case.create", "document.store", "case.export", "login.failure"};
	static const char *actors[] = {"taro", "staff1", "system", "hanako"};
	char path[4096], cid[32], did[48], det[128];
	sqlite3 *db = NULL;
	struct audit *a = NULL;
	uint64_t n;
	enum err r;

	if (argc < 4)
		return 2;
	n = strtoull(argv[3], NULL, 10);
	if (fsx_mkdir(argv[2], 0700) != ERR_OK)
		return 2;
	r = audit_keys_create(argv[2],
	    argc > 4 ? argv[4] : "kura.test/audit/it");
	if (r != ERR_OK && r != ERR_EXISTS)
		return 2;
	snprintf(path, sizeof(path), "%s/kura.db", argv[2]);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) !=
	        SQLITE_OK ||
	    audit_open(db, argv[2], &a) != ERR_OK)
		return 2;
	for (uint64_t i = 0; i < n; i++) {
		struct audit_event ev = {0};
		if (i % 1000 == 0 &&
		    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return 2;
		snprintf(cid, sizeof(cid), "C-%llu", (unsigned long long)i / 7);
		snprintf(did, sizeof(did), "%032llx", (unsigned long long)i);
		snprintf(det, sizeof(det), "{\"size\":%llu,\"ok\":true}",
		    (unsigned long long)(i * 37 % 100000));
		ev.actor = actors[i % 4];
		ev.action = actions[i % 6];
		ev.case_id = cid;
		ev.document_id = i % 2 ? did : NULL;
		ev.account = i % 3 ? "taro" : NULL;
		ev.details_json = det;
		if (audit_append(a, &ev, NULL) != ERR_OK)
			return 2;
		if ((i % 1000 == 999 || i + 1 == n) &&
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return 2;
	}
	audit_close(a);
	sqlite3_close(db);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sqlite3 *
bench_db(const char *dir, const char *name)
{
	char path[4200];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL,
	        NULL, NULL) != SQLITE_OK)
		return NULL;
	return db;
}

struct leaves {
	uint8_t *buf;
	size_t len, cap, n;
	size_t *off;
};

static enum err
keep_leaf(void *ctx, const struct audit_record *rec)
{
	struct leaves *l = ctx;

	if (l->len + rec->leaf.len > l->cap)
		return ERR_TOO_BIG;
	memcpy(l->buf + l->len, rec->leaf.p, rec->leaf.len);
	l->off[l->n++] = l->len;
	l->len += rec->leaf.len;
	l->off[l->n] = l->len;
	return ERR_OK;
}

/*
 * test_audit bench N DIR: the numbers of tests/bench/b30-audit.sh, on
 * files in DIR (WAL, synchronous=NORMAL, the vault's settings).
 */
static int
helper_bench(int argc, char **argv)
{
	static const char plain_sql[] =
	    "CREATE TABLE ev(seq INTEGER PRIMARY KEY, time TEXT NOT NULL,"
	    " actor TEXT NOT NULL, action TEXT NOT NULL, case_id TEXT,"
	    " document_id TEXT, account TEXT, details TEXT NOT NULL)";
	static const char ins_sql[] =
	    "INSERT INTO ev VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	char cid[32], did[48], det[128], tm[AUDIT_TIME_LEN + 1];
	time_t tm_sec = 0;
	struct audit_event ev = {0};
	sqlite3 *db1, *db2;
	sqlite3_stmt *st = NULL;
	struct audit *a = NULL;
	struct bytes note, msg;
	struct leaves lv = {0};
	uint64_t n, r0;
	double t0, t_merkle, t_plain, t_verify, t_hash, t_stream;
	const char *dir;
	uint8_t h[CRY_HASH_LEN];

	if (argc < 4)
		return 2;
	n = strtoull(argv[2], NULL, 10);
	dir = argv[3];
	if (audit_keys_create(dir, "kura.bench/audit") != ERR_OK)
		return 2;
	if ((db1 = bench_db(dir, "merkle.db")) == NULL ||
	    (db2 = bench_db(dir, "plain.db")) == NULL ||
	    audit_open(db1, dir, &a) != ERR_OK ||
	    sqlite3_exec(db2, plain_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db2, ins_sql, -1, &st, NULL) != SQLITE_OK)
		return 2;
	ev.actor = "staff1";
	ev.action = "document.store";
	ev.case_id = cid;
	ev.document_id = did;
	ev.account = "taro";
	ev.details_json = det;
	/*
	 * Batch by batch, alternating (so both see the same machine load):
	 * 1,000 plain rows on one file, then 1,000 log events on the other.
	 */
	t_plain = t_merkle = 0;
	for (uint64_t b = 0; b < n; b += 1000) {
		uint64_t e = b + 1000 < n ? b + 1000 : n;
		t0 = now_s();
		sqlite3_exec(db2, "BEGIN", NULL, NULL, NULL);
		for (uint64_t i = b; i < e; i++) {
			snprintf(cid, sizeof(cid), "C-%llu",
			    (unsigned long long)i / 7);
			snprintf(did, sizeof(did), "%032llx",
			    (unsigned long long)i);
			snprintf(det, sizeof(det),
			    "{\"size\":%llu,\"epoch\":3}",
			    (unsigned long long)(i * 37 % 100000));
			/* The same per-second time cache as audit_append. */
			{
				struct timespec ts;
				int ms;
				clock_gettime(CLOCK_REALTIME, &ts);
				if (ts.tv_sec != tm_sec) {
					if (audit_now(tm) != ERR_OK)
						return 2;
					tm_sec = ts.tv_sec;
				}
				ms = (int)(ts.tv_nsec / 1000000);
				tm[20] = (char)('0' + ms / 100);
				tm[21] = (char)('0' + ms / 10 % 10);
				tm[22] = (char)('0' + ms % 10);
			}
			sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
			sqlite3_bind_text(st, 2, tm, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, ev.actor, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, ev.action, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, cid, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, did, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, ev.account, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 8, det, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				return 2;
			sqlite3_reset(st);
		}
		if (sqlite3_exec(db2, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return 2;
		t_plain += now_s() - t0;
		t0 = now_s();
		sqlite3_exec(db1, "BEGIN", NULL, NULL, NULL);
		for (uint64_t i = b; i < e; i++) {
			snprintf(cid, sizeof(cid), "C-%llu",
			    (unsigned long long)i / 7);
			snprintf(did, sizeof(did), "%032llx",
			    (unsigned long long)i);
			snprintf(det, sizeof(det),
			    "{\"size\":%llu,\"epoch\":3}",
			    (unsigned long long)(i * 37 % 100000));
			if (audit_append(a, &ev, NULL) != ERR_OK)
				return 2;
		}
		if (sqlite3_exec(db1, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return 2;
		t_merkle += now_s() - t0;
	}
	printf("append %llu events, transactions of 1000: merkle %.2f s, "
	       "plain rows %.2f s, ratio %.2f (target <= 1.5)\n",
	    (unsigned long long)n, t_merkle, t_plain, t_merkle / t_plain);
	bytes_init(&note, 8192);
	bytes_init(&msg, 8192);
	if (audit_checkpoint(a, 0, &note, NULL) != ERR_OK)
		return 2;
	t0 = now_s();
	if (audit_verify(a, NULL, &msg) != ERR_OK) {
		fprintf(stderr, "%s\n", (char *)msg.p);
		return 2;
	}
	t_verify = now_s() - t0;
	/* The same leaf bytes, in memory, hashed alone. */
	lv.cap = (size_t)n * 256 + 65536;
	lv.buf = malloc(lv.cap);
	lv.off = calloc((size_t)n + 2, sizeof(size_t));
	if (lv.buf == NULL || lv.off == NULL ||
	    audit_events(a, 0, UINT64_MAX, keep_leaf, &lv) != ERR_OK)
		return 2;
	t0 = now_s();
	for (size_t i = 0; i < lv.n; i++)
		cry_sha256(lv.buf + lv.off[i], lv.off[i + 1] - lv.off[i], h);
	t_hash = now_s() - t0;
	t0 = now_s();
	cry_sha256(lv.buf, lv.len, h);
	t_stream = now_s() - t0;
	printf("verify %llu events: %.2f s; SHA-256 of each leaf alone "
	       "(%.0f MB, in memory): %.2f s, ratio %.2f (target <= 2); one "
	       "SHA-256 stream over all leaf bytes: %.2f s, ratio %.2f\n",
	    (unsigned long long)lv.n, t_verify, (double)lv.len / 1e6, t_hash,
	    t_verify / t_hash, t_stream, t_verify / t_stream);
	{
		struct bytes p;
		unsigned lg = 0;
		uint64_t size = 0;
		bytes_init(&p, 65536);
		if (audit_size(a, &size) != ERR_OK)
			return 2;
		while (((uint64_t)1 << lg) < size)
			lg++;
		r0 = audit_db_reads(a);
		if (audit_prove_inclusion(a, size / 2 + 12345, size, &p) !=
		    ERR_OK)
			return 2;
		printf("database reads at %llu events (log2 = %u): inclusion "
		       "proof %llu",
		    (unsigned long long)size, lg,
		    (unsigned long long)(audit_db_reads(a) - r0));
		r0 = audit_db_reads(a);
		bytes_clear(&p);
		if (audit_prove_consistency(a, size / 3 + 7, size, &p) !=
		    ERR_OK)
			return 2;
		printf(", consistency proof %llu (O(log n): bound 2*log2+3 = "
		       "%u)\n",
		    (unsigned long long)(audit_db_reads(a) - r0), 2 * lg + 3);
		bytes_release(&p);
	}
	free(lv.buf);
	free(lv.off);
	bytes_release(&note);
	bytes_release(&msg);
	sqlite3_finalize(st);
	audit_close(a);
	sqlite3_close(db1);
	sqlite3_close(db2);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *s = test_shared_dir();

	if (cry_init() != ERR_OK)
		return 1;
	if (argc > 1 && strcmp(argv[1], "mkvault") == 0)
		return helper_mkvault(argc, argv);
	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return helper_bench(argc, argv);
	if (s != NULL)
		snprintf(corpus, sizeof(corpus), "%s/corpus/merkle", s);
	TEST_RUN(test_keys);
	TEST_RUN(test_checkpoints_and_verify);
	TEST_RUN(test_other_key_rejected);
	TEST_RUN(test_signed_note_vectors);
	TEST_RUN(test_selfgen_checkpoint);
	TEST_RUN(test_checkpoint_text_parser);
	return test_summary();
}
