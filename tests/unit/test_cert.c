/*
 * tests/unit/test_cert.c - deletion certificates (audit/cert.c): format,
 * strict parse, issue/verify round trip, Merkle helpers against the RFC
 * 6962 vectors, and forgeries that must fail (R9, REQ-CERT-*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/fsx.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

#define NLEAVES 23
#define ORIGIN  "kura.test/audit/unit"
/* string literal into the non-const fields of an input struct */
#define W(s) ((char *)(uintptr_t)(s))

static uint8_t leaves[NLEAVES][CRY_HASH_LEN];
static uint8_t leaf_bytes[NLEAVES][16];
static uint8_t pk[CRY_SIGN_PK_LEN], pk2[CRY_SIGN_PK_LEN];
static struct cry_secret *sk, *sk2;
static struct bytes vkey, vkey2;

static void
leaf_hash(const uint8_t *p, size_t n, uint8_t out[static CRY_HASH_LEN])
{
	uint8_t buf[64];

	buf[0] = 0;
	memcpy(buf + 1, p, n);
	cry_sha256(buf, n + 1, out);
}

static void
setup(void)
{
	for (size_t i = 0; i < NLEAVES; i++) {
		snprintf((char *)leaf_bytes[i], sizeof(leaf_bytes[i]),
		    "event-%02zu", i);
		leaf_hash(leaf_bytes[i], 8, leaves[i]);
	}
	bytes_init(&vkey, 1024);
	bytes_init(&vkey2, 1024);
	if (cry_sign_keypair(pk, &sk) != ERR_OK ||
	    cry_sign_keypair(pk2, &sk2) != ERR_OK ||
	    cry_vkey_format(ORIGIN, pk, &vkey) != ERR_OK ||
	    cry_vkey_format(ORIGIN, pk2, &vkey2) != ERR_OK)
		abort();
}

static const char *const action[] = {"doc.store", "doc.store", "doc.retain",
    "case.erase", "epoch.rotate"};
static const uint64_t cited[] = {3, 4, 15, 16, 17};

/* A complete certificate over the fake tree of NLEAVES leaves. */
static void
make_cert(struct audit_cert *c, const struct cry_secret *cpsk,
    const uint8_t *cppk)
{
	struct audit_cert_doc d;
	struct bytes cp, b64;
	char text[512];

	audit_cert_init(c);
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_ID, "DC-2026-000001"));
	REQUIRE_OK(
	    audit_cert_set(c, AUDIT_CERT_ISSUED_AT, "2026-11-22T03:00:00Z"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_ISSUER, "事務局; install x"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_LOG_ORIGIN, ORIGIN));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_TOOL, "kura 0.1.0"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_STAGE, "primary"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_CASE, "0123456789abcdef"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_RECEIPT, "R-2026-0001"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_APPLICANT, "acme"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_CERTIFICATION, "AI00012611"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_BASIS, "R9 expired"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_REQUEST, "alice log=2"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_CATEGORY, "Purge"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_METHOD, "cryptographic-erase"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_STANDARDS, "NIST SP 800-88"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_CRYPTO, "XChaCha20-Poly1305"));
	REQUIRE_OK(
	    audit_cert_set(c, AUDIT_CERT_ENCRYPTED_SINCE, "first write"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_DERIVED, "none"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_EPOCH_RETIRED, "e1"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_CIPHERTEXT_REMOVED, "yes"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_VERIFICATION, "trial=fail"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_RESULT, "PASS"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_OPERATOR, "alice log=16"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_APPROVER, "bob log=15"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_ATTESTATION, "accurate."));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_MEDIA, "not applicable"));
	REQUIRE_OK(audit_cert_set(c, AUDIT_CERT_TRUST, "log x"));
	memset(&d, 0, sizeof(d));
	d.number = W("A-1");
	d.name = W("A-1 申請書A 100%.docx");
	d.size = 1000;
	memset(d.sha256, 0xab, CRY_HASH_LEN);
	d.log_index = 3;
	d.key_id = W("k1");
	d.file = W("cases/0123456789abcdef/aa");
	REQUIRE_OK(audit_cert_add_doc(c, false, &d));
	d.number = W("3");
	d.name = W("3 添付.pdf");
	d.size = 24;
	d.log_index = 4;
	d.key_id = W("k2");
	REQUIRE_OK(audit_cert_add_doc(c, false, &d));
	d.number = W("B-1");
	d.name = W("form b.xlsx");
	d.log_index = 15;
	d.key_id = W("k3-retained");
	d.reason = W("R9-published");
	d.until = W("indefinite");
	REQUIRE_OK(audit_cert_add_doc(c, true, &d));
	REQUIRE_OK(audit_cert_add_line(c, false, "case 0123 KEK"));
	REQUIRE_OK(audit_cert_add_line(c, true, "keystore backups expire"));
	c->cp_size = NLEAVES;
	audit_cert_tree_root((const uint8_t(*)[CRY_HASH_LEN])leaves, NLEAVES,
	    c->cp_root);
	for (size_t i = 0; i < sizeof(cited) / sizeof(cited[0]); i++) {
		struct audit_cert_evidence e;
		uint8_t path[AUDIT_CERT_MAX_PATH][CRY_HASH_LEN];
		memset(&e, 0, sizeof(e));
		e.action = W(action[i]);
		e.index = cited[i];
		memcpy(e.leaf_hash, leaves[cited[i]], CRY_HASH_LEN);
		REQUIRE_OK(
		    audit_cert_tree_path((const uint8_t(*)[CRY_HASH_LEN])leaves,
		        NLEAVES, cited[i], path, &e.path_len));
		e.path = path;
		if (i % 2 == 0) {
			e.leaf = leaf_bytes[cited[i]];
			e.leaf_len = 8;
		}
		REQUIRE_OK(audit_cert_add_evidence(c, &e));
	}
	/* The checkpoint: origin, size, root as a signed note. */
	bytes_init(&b64, 128);
	bytes_init(&cp, 4096);
	REQUIRE_OK(cry_b64_encode(span_of(c->cp_root, CRY_HASH_LEN), &b64));
	snprintf(text, sizeof(text), "%s\n%d\n%s\n", ORIGIN, NLEAVES,
	    (char *)b64.p);
	REQUIRE_OK(cry_note_sign(span_str(text), ORIGIN, cpsk, cppk, &cp));
	REQUIRE_OK(bytes_put(&c->checkpoint, cp.p, cp.len));
	bytes_release(&cp);
	bytes_release(&b64);
}

/* Signs and bundles as audit_cert_issue does, with the test key. */
static void
issue(const struct audit_cert *c, const struct cry_secret *k,
    const uint8_t *kpk, struct bytes *file)
{
	struct bytes text, note, full;
	struct audit_cert tmp;
	const char *sep;

	bytes_init(&text, AUDIT_CERT_MAX_FILE);
	bytes_init(&note, AUDIT_CERT_MAX_FILE);
	REQUIRE_OK(audit_cert_format(c, &text));
	REQUIRE_OK(cry_note_sign(bytes_span(&text), ORIGIN, k, kpk, &note));
	REQUIRE_OK(audit_cert_bundle(c, bytes_span(&note), file));
	/* sanity: the text parses back */
	sep = strstr((const char *)note.p, "\n\n");
	REQUIRE(sep != NULL);
	audit_cert_init(&tmp);
	bytes_init(&full, 16);
	CHECK_OK(audit_cert_parse(span_of(text.p, text.len), &tmp));
	audit_cert_release(&tmp);
	bytes_release(&full);
	bytes_release(&text);
	bytes_release(&note);
}

static void
test_merkle_vectors(void)
{
	/* RFC 6962 8-leaf vectors (corpus rfc6962-8-leaves-exhaustive) */
	static const char *const in_hex[] = {"", "00", "10", "2021", "3031",
	    "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};
	uint8_t lv[8][CRY_HASH_LEN], root[CRY_HASH_LEN], want[CRY_HASH_LEN];
	uint8_t path[AUDIT_CERT_MAX_PATH][CRY_HASH_LEN];
	size_t n = 0;
	struct bytes b;

	for (size_t i = 0; i < 8; i++) {
		uint8_t raw[16];
		size_t len = strlen(in_hex[i]) / 2;
		REQUIRE_OK(hex_decode(in_hex[i], raw, len));
		leaf_hash(raw, len, lv[i]);
	}
	bytes_init(&b, 64);
	REQUIRE_OK(cry_b64_decode(
	    "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 44, &b));
	memcpy(want, b.p, CRY_HASH_LEN);
	audit_cert_tree_root((const uint8_t(*)[CRY_HASH_LEN])lv, 7, root);
	CHECK(memcmp(root, want, CRY_HASH_LEN) == 0);
	REQUIRE_OK(audit_cert_tree_path((const uint8_t(*)[CRY_HASH_LEN])lv, 7,
	    5, path, &n));
	CHECK(n == 3);
	bytes_clear(&b);
	REQUIRE_OK(cry_b64_decode(
	    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", 44, &b));
	CHECK(memcmp(path[0], b.p, CRY_HASH_LEN) == 0);
	CHECK_OK(audit_cert_check_inclusion(5, 7, lv[5],
	    (const uint8_t(*)[CRY_HASH_LEN])path, n, want));
	/* forgeries: wrong index, wrong size, flipped path, short path */
	CHECK(audit_cert_check_inclusion(4, 7, lv[5],
	          (const uint8_t(*)[CRY_HASH_LEN])path, n, want) != ERR_OK);
	CHECK(audit_cert_check_inclusion(5, 7, lv[4],
	          (const uint8_t(*)[CRY_HASH_LEN])path, n, want) != ERR_OK);
	CHECK(audit_cert_check_inclusion(5, 7, lv[5],
	          (const uint8_t(*)[CRY_HASH_LEN])path, n, lv[0]) != ERR_OK);
	CHECK(audit_cert_check_inclusion(5, 7, lv[5],
	          (const uint8_t(*)[CRY_HASH_LEN])path, n - 1, want) != ERR_OK);
	path[1][0] ^= 1;
	CHECK(audit_cert_check_inclusion(5, 7, lv[5],
	          (const uint8_t(*)[CRY_HASH_LEN])path, n, want) != ERR_OK);
	CHECK(audit_cert_check_inclusion(7, 7, lv[5],
	          (const uint8_t(*)[CRY_HASH_LEN])path, 0, want) != ERR_OK);
	/* every index of every size up to 8 round-trips */
	for (uint64_t size = 1; size <= 8; size++) {
		audit_cert_tree_root((const uint8_t(*)[CRY_HASH_LEN])lv, size,
		    root);
		for (uint64_t i = 0; i < size; i++) {
			REQUIRE_OK(audit_cert_tree_path(
			    (const uint8_t(*)[CRY_HASH_LEN])lv, size, i, path,
			    &n));
			CHECK_OK(audit_cert_check_inclusion(i, size, lv[i],
			    (const uint8_t(*)[CRY_HASH_LEN])path, n, root));
		}
	}
	bytes_release(&b);
}

/* The level-based tree gives the same roots and paths as the recursion. */
static void
test_tree_levels(void)
{
	uint8_t a[AUDIT_CERT_MAX_PATH][CRY_HASH_LEN];
	uint8_t b[AUDIT_CERT_MAX_PATH][CRY_HASH_LEN];
	uint8_t r1[CRY_HASH_LEN], r2[CRY_HASH_LEN];
	size_t na, nb;

	for (uint64_t size = 1; size <= NLEAVES; size++) {
		struct audit_cert_tree *t = NULL;
		REQUIRE_OK(audit_cert_tree_new(
		    (const uint8_t(*)[CRY_HASH_LEN])leaves, size, &t));
		audit_cert_tree_root((const uint8_t(*)[CRY_HASH_LEN])leaves,
		    size, r1);
		audit_cert_tree_root_of(t, r2);
		CHECK(memcmp(r1, r2, CRY_HASH_LEN) == 0);
		for (uint64_t i = 0; i < size; i++) {
			CHECK_OK(audit_cert_tree_path(
			    (const uint8_t(*)[CRY_HASH_LEN])leaves, size, i, a,
			    &na));
			CHECK_OK(audit_cert_tree_prove(t, i, b, &nb));
			CHECK(na == nb && memcmp(a, b, na * CRY_HASH_LEN) == 0);
			CHECK_OK(audit_cert_check_inclusion(i, size, leaves[i],
			    (const uint8_t(*)[CRY_HASH_LEN])b, nb, r2));
		}
		CHECK(audit_cert_tree_prove(t, size, b, &nb) != ERR_OK);
		audit_cert_tree_free(t);
	}
}

static void
test_format_parse_roundtrip(void)
{
	struct audit_cert c, p;
	struct bytes t1, t2;

	make_cert(&c, sk, pk);
	bytes_init(&t1, AUDIT_CERT_MAX_FILE);
	bytes_init(&t2, AUDIT_CERT_MAX_FILE);
	REQUIRE_OK(audit_cert_format(&c, &t1));
	CHECK(strncmp((char *)t1.p, AUDIT_CERT_FORMAT "\n",
	          strlen(AUDIT_CERT_FORMAT) + 1) == 0);
	CHECK(
	    strstr((char *)t1.p, "name=A-1%20申請書A%20100%25.docx\n") != NULL);
	CHECK(strstr((char *)t1.p, "destroyed-count: 2\ndestroyed-bytes: "
	                           "1024\n") != NULL);
	audit_cert_init(&p);
	REQUIRE_OK(audit_cert_parse(bytes_span(&t1), &p));
	CHECK(p.n_destroyed == 2 && p.n_retained == 1 && p.n_evidence == 5);
	CHECK(strcmp(p.destroyed[0].name, "A-1 申請書A 100%.docx") == 0);
	CHECK(strcmp(p.retained[0].reason, "R9-published") == 0);
	REQUIRE_OK(audit_cert_format(&p, &t2));
	CHECK(t1.len == t2.len && memcmp(t1.p, t2.p, t1.len) == 0);
	audit_cert_release(&p);
	audit_cert_release(&c);
	bytes_release(&t1);
	bytes_release(&t2);
}

/* Replaces the first occurrence of from by to in text; parse must fail. */
static void
mutate_fails(const struct bytes *text, const char *from, const char *to)
{
	struct bytes m;
	struct audit_cert p;
	const char *at = strstr((const char *)text->p, from);

	REQUIRE(at != NULL);
	bytes_init(&m, AUDIT_CERT_MAX_FILE);
	REQUIRE_OK(
	    bytes_put(&m, text->p, (size_t)((const uint8_t *)at - text->p)));
	REQUIRE_OK(bytes_put_str(&m, to));
	REQUIRE_OK(bytes_put_str(&m, at + strlen(from)));
	audit_cert_init(&p);
	if (audit_cert_parse(bytes_span(&m), &p) == ERR_OK) {
		fprintf(stderr, "accepted: %s -> %s\n", from, to);
		CHECK(0);
	}
	audit_cert_release(&p);
	bytes_release(&m);
}

static void
test_parse_strict(void)
{
	struct audit_cert c;
	struct bytes t;

	make_cert(&c, sk, pk);
	bytes_init(&t, AUDIT_CERT_MAX_FILE);
	REQUIRE_OK(audit_cert_format(&c, &t));
	mutate_fails(&t, "destroyed-count: 2", "destroyed-count: 3");
	mutate_fails(&t, "destroyed-bytes: 1024", "destroyed-bytes: 01024");
	mutate_fails(&t, "retained-count: 1", "retained-count: 0");
	mutate_fails(&t, "100%25", "100%");
	mutate_fails(&t, "100%25", "100%2a");
	mutate_fails(&t, "A-1%20", "A-1%2");
	mutate_fails(&t, "A-1%20", "A-1%00");
	mutate_fails(&t, "A-1%20", "%41-1%20");
	mutate_fails(&t, "stage: primary", "stage: maybe");
	mutate_fails(&t, "kura-deletion-certificate/v1",
	    "kura-deletion-cert/v1");
	mutate_fails(&t, "issued-at: ", "issued-at:  ");
	mutate_fails(&t, "issued-at: ", "issued_at: ");
	mutate_fails(&t, "result: PASS\n", "result: PASS\nresult: PASS\n");
	mutate_fails(&t, "trust: log x\n", "trust: log x\nextra: 1\n");
	mutate_fails(&t, "trust: log x\n", "trust: log x");
	mutate_fails(&t, "media: not applicable\n", "");
	mutate_fails(&t, "derived: none\n", "derived: none\n\n");
	mutate_fails(&t, "log=3 ", "log=x ");
	mutate_fails(&t, "sha256=ab", "sha256=AB");
	mutate_fails(&t, "evidence: doc.store 3", "evidence: doc.store 03");
	mutate_fails(&t, "operator: alice", "operator: al\tice");
	mutate_fails(&t, "applicant: acme", "applicant: ac\xff");
	/* reordered lines */
	mutate_fails(&t, "receipt: R-2026-0001\napplicant: acme\n",
	    "applicant: acme\nreceipt: R-2026-0001\n");
	audit_cert_release(&c);
	bytes_release(&t);
}

static void
test_verify(void)
{
	struct audit_cert c, out;
	struct bytes file, rep;

	make_cert(&c, sk, pk);
	bytes_init(&file, AUDIT_CERT_MAX_FILE);
	bytes_init(&rep, 65536);
	issue(&c, sk, pk, &file);
	audit_cert_init(&out);
	CHECK_OK(
	    audit_cert_verify(bytes_span(&file), (char *)vkey.p, &out, &rep));
	CHECK(out.n_destroyed == 2);
	CHECK(strstr((char *)rep.p, "FAIL") == NULL);
	audit_cert_release(&out);
	if (getenv("KURA_CERT_SEED") != NULL) /* fuzz corpus maker */
		CHECK_OK(fsx_write_atomic(getenv("KURA_CERT_SEED"),
		    bytes_span(&file), 0644));

	/* REQ-CERT-1: any single byte changed anywhere is caught */
	for (size_t i = 0; i < file.len; i += 7) {
		uint8_t keep = file.p[i];
		file.p[i] ^= 0x01;
		CHECK(audit_cert_verify(bytes_span(&file), (char *)vkey.p, NULL,
		          NULL) != ERR_OK);
		file.p[i] = keep;
	}
	CHECK_OK(
	    audit_cert_verify(bytes_span(&file), (char *)vkey.p, NULL, NULL));
	/* REQ-CERT-2: another key */
	CHECK(audit_cert_verify(bytes_span(&file), (char *)vkey2.p, NULL,
	          NULL) != ERR_OK);
	/* truncated anywhere */
	CHECK(audit_cert_verify(span_of(file.p, file.len - 1), (char *)vkey.p,
	          NULL, NULL) != ERR_OK);
	CHECK(audit_cert_verify(span_of(file.p, file.len / 2), (char *)vkey.p,
	          NULL, NULL) != ERR_OK);
	audit_cert_release(&c);
	bytes_release(&file);

	/* a certificate whose checkpoint is signed by another key */
	make_cert(&c, sk2, pk2);
	bytes_init(&file, AUDIT_CERT_MAX_FILE);
	issue(&c, sk, pk, &file);
	CHECK(audit_cert_verify(bytes_span(&file), (char *)vkey.p, NULL,
	          NULL) != ERR_OK);
	audit_cert_release(&c);
	bytes_release(&file);

	/* an evidence leaf hash that is not in the tree */
	make_cert(&c, sk, pk);
	c.evidence[1].leaf_hash[0] ^= 1;
	bytes_init(&file, AUDIT_CERT_MAX_FILE);
	issue(&c, sk, pk, &file);
	bytes_clear(&rep);
	CHECK(audit_cert_verify(bytes_span(&file), (char *)vkey.p, NULL,
	          &rep) == ERR_CORRUPT);
	CHECK(strstr((char *)rep.p, "FAIL inclusion proof") != NULL);
	audit_cert_release(&c);
	bytes_release(&file);

	/* a result other than PASS never verifies */
	make_cert(&c, sk, pk);
	REQUIRE_OK(audit_cert_set(&c, AUDIT_CERT_RESULT, "PARTIAL"));
	bytes_init(&file, AUDIT_CERT_MAX_FILE);
	issue(&c, sk, pk, &file);
	CHECK(audit_cert_verify(bytes_span(&file), (char *)vkey.p, NULL,
	          NULL) != ERR_OK);
	audit_cert_release(&c);
	bytes_release(&file);
	bytes_release(&rep);
}

static void
test_html(void)
{
	struct audit_cert c;
	struct bytes file, html;

	make_cert(&c, sk, pk);
	bytes_init(&file, AUDIT_CERT_MAX_FILE);
	bytes_init(&html, AUDIT_CERT_MAX_FILE * 2);
	issue(&c, sk, pk, &file);
	REQUIRE_OK(audit_cert_render_html(&c, bytes_span(&file), &html));
	CHECK(strstr((char *)html.p, "削除証明書") != NULL);
	CHECK(strstr((char *)html.p, "A-1 申請書A 100%.docx") != NULL);
	/* Japanese comes before English */
	CHECK(strstr((char *)html.p, "削除証明書") <
	      strstr((char *)html.p, "Certificate of deletion"));
	audit_cert_release(&c);
	bytes_release(&file);
	bytes_release(&html);
}

int
main(void)
{
	if (cry_init() != ERR_OK)
		return 2;
	setup();
	TEST_RUN(test_merkle_vectors);
	TEST_RUN(test_tree_levels);
	TEST_RUN(test_format_parse_roundtrip);
	TEST_RUN(test_parse_strict);
	TEST_RUN(test_verify);
	TEST_RUN(test_html);
	cry_secret_free(sk);
	cry_secret_free(sk2);
	bytes_release(&vkey);
	bytes_release(&vkey2);
	return test_summary();
}
