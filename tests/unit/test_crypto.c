/*
 * tests/unit/test_crypto.c - every function of crypto/crypto.h: known
 * answers, round trips, and a forgery or tamper case for every verifier.
 */
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/fsx.h"
#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

/* ---- a minimal JSON reader for the shared vector files ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
struct jval {
	enum jtype type;
	char *str; /* J_STR (decoded, NUL-terminated), key for members */
	size_t slen;
	struct jval *kids; /* J_ARR / J_OBJ */
	char **keys;       /* J_OBJ */
	size_t n;
};

static const char *jp, *jend;

static void
jws(void)
{
	while (jp < jend &&
	       (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r'))
		jp++;
}

static bool jparse(struct jval *v);

static bool
jstring(char **out, size_t *outlen)
{
	struct bytes b;
	bytes_init(&b, 1u << 22);
	if (jp >= jend || *jp != '"')
		return false;
	jp++;
	while (jp < jend && *jp != '"') {
		char c = *jp++;
		if (c == '\\') {
			char e = *jp++;
			uint8_t u8[4];
			unsigned cp = 0;
			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u':
				for (int i = 0; i < 4; i++) {
					char h = *jp++;
					cp =
					    cp * 16 +
					    (unsigned)(h <= '9' ? h - '0'
					                        : (h | 0x20) -
					                              'a' + 10);
				}
				if (cp < 0x80) {
					c = (char)cp;
					break;
				}
				if (cp < 0x800) {
					u8[0] = (uint8_t)(0xc0 | cp >> 6);
					u8[1] = (uint8_t)(0x80 | (cp & 0x3f));
					if (bytes_put(&b, u8, 2) != ERR_OK)
						return false;
				} else {
					u8[0] = (uint8_t)(0xe0 | cp >> 12);
					u8[1] = (uint8_t)(0x80 |
					                  ((cp >> 6) & 0x3f));
					u8[2] = (uint8_t)(0x80 | (cp & 0x3f));
					if (bytes_put(&b, u8, 3) != ERR_OK)
						return false;
				}
				continue;
			default:
				c = e;
				break;
			}
		}
		if (bytes_put(&b, &c, 1) != ERR_OK)
			return false;
	}
	jp++;
	if (bytes_put(&b, "", 0) != ERR_OK || bytes_reserve(&b, 1) != ERR_OK)
		return false;
	b.p[b.len] = 0;
	*outlen = b.len;
	*out = (char *)bytes_take(&b, NULL);
	return true;
}

static bool
jlist(struct jval *v, char close, bool obj)
{
	size_t cap = 0;
	jp++;
	jws();
	if (jp < jend && *jp == close) {
		jp++;
		return true;
	}
	for (;;) {
		if (v->n == cap) {
			cap = cap ? cap * 2 : 8;
			v->kids = reallocarray(v->kids, cap, sizeof(*v->kids));
			v->keys = reallocarray(v->keys, cap, sizeof(char *));
			if (v->kids == NULL || v->keys == NULL)
				return false;
		}
		jws();
		v->keys[v->n] = NULL;
		if (obj) {
			size_t kl;
			if (!jstring(&v->keys[v->n], &kl))
				return false;
			jws();
			if (*jp++ != ':')
				return false;
		}
		if (!jparse(&v->kids[v->n++]))
			return false;
		jws();
		if (*jp == ',') {
			jp++;
			continue;
		}
		if (*jp++ == close)
			return true;
		return false;
	}
}

static bool
jparse(struct jval *v)
{
	memset(v, 0, sizeof(*v));
	jws();
	if (jp >= jend)
		return false;
	switch (*jp) {
	case '"':
		v->type = J_STR;
		return jstring(&v->str, &v->slen);
	case '[':
		v->type = J_ARR;
		return jlist(v, ']', false);
	case '{':
		v->type = J_OBJ;
		return jlist(v, '}', true);
	case 'n':
		jp += 4;
		v->type = J_NULL;
		return true;
	case 't':
		jp += 4;
		v->type = J_BOOL;
		return true;
	case 'f':
		jp += 5;
		v->type = J_BOOL;
		return true;
	default:
		v->type = J_NUM;
		while (jp < jend && strchr("-+.eE0123456789", *jp) != NULL)
			jp++;
		return true;
	}
}

static void
jfree(struct jval *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree(&v->kids[i]);
		free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->str);
}

static const struct jval *
jget(const struct jval *o, const char *key)
{
	if (o == NULL || o->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->keys[i], key) == 0)
			return &o->kids[i];
	return NULL;
}

static const char *
jstr(const struct jval *o, const char *key)
{
	const struct jval *v = jget(o, key);
	return v != NULL && v->type == J_STR ? v->str : NULL;
}

static bool
load_json(const char *rel, struct jval *root, struct bytes *file)
{
	char path[4096];
	const char *shared = test_shared_dir();

	if (shared == NULL)
		return false;
	snprintf(path, sizeof(path), "%s/%s", shared, rel);
	bytes_init(file, 1u << 24);
	if (fsx_read_file(path, 1u << 24, file) != ERR_OK)
		return false;
	jp = (const char *)file->p;
	jend = jp + file->len;
	return jparse(root);
}

/* ---- basics ---- */

static struct cry_secret *
secret_str(const char *s)
{
	struct cry_secret *x = NULL;
	if (cry_secret_from(s, strlen(s), &x) != ERR_OK)
		return NULL;
	return x;
}

static void
test_sha256_kat(void)
{
	static const char *abc =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	uint8_t d[CRY_HASH_LEN], d2[CRY_HASH_LEN];
	char hex[65];
	struct cry_sha256 h;

	cry_sha256("abc", 3, d);
	hex_encode(d, sizeof(d), hex);
	CHECK(strcmp(hex, abc) == 0);
	REQUIRE_OK(cry_sha256_init(&h));
	cry_sha256_update(&h, "a", 1);
	cry_sha256_update(&h, "", 0);
	cry_sha256_update(&h, "bc", 2);
	cry_sha256_final(&h, d2);
	CHECK(memcmp(d, d2, sizeof(d)) == 0);
	CHECK(h.ctx == NULL);
	REQUIRE_OK(cry_sha256_init(&h));
	cry_sha256_release(&h);
	cry_sha256_release(&h);
	cry_sha256_release(NULL);
}

static void
test_equal_random_secret(void)
{
	uint8_t a[32] = {0}, b[32] = {0};
	struct cry_secret *s = NULL;

	CHECK(cry_equal(a, b, 32));
	b[31] = 1;
	CHECK(!cry_equal(a, b, 32));
	cry_random(a, sizeof(a));
	cry_random(b, sizeof(b));
	CHECK(!cry_equal(a, b, 32));
	REQUIRE_OK(cry_secret_random(32, &s));
	CHECK(cry_secret_len(s) == 32);
	cry_secret_data_mut(s)[0] ^= 1;
	cry_secret_free(s);
	CHECK(cry_secret_new((1u << 20) + 1, &s) == ERR_TOO_BIG);
	CHECK(s == NULL);
	cry_secret_free(NULL);
}

static void
test_b64(void)
{
	struct bytes b;

	bytes_init(&b, 64);
	CHECK_OK(cry_b64_encode(span_of("foobar", 6), &b));
	CHECK(strcmp((char *)b.p, "Zm9vYmFy") == 0);
	bytes_clear(&b);
	CHECK_OK(cry_b64_decode("Zm9vYg==", 8, &b));
	CHECK(b.len == 4 && memcmp(b.p, "foob", 4) == 0);
	bytes_clear(&b);
	CHECK(cry_b64_decode("Zm9vYg=", 7, &b) == ERR_INVALID);
	bytes_clear(&b);
	CHECK(cry_b64_decode("Zm9vYh==", 8, &b) == ERR_INVALID); /* bits */
	bytes_clear(&b);
	CHECK(cry_b64_decode("Zm9v!g==", 8, &b) == ERR_INVALID);
	bytes_clear(&b);
	CHECK(cry_b64_decode("Zm9v\xd9g==", 8, &b) == ERR_INVALID);
	bytes_release(&b);
}

/* ---- key pairs, sealing, signatures ---- */

static void
test_seal_roundtrip_and_forgeries(void)
{
	uint8_t pk[CRY_BOX_PK_LEN], pk2[CRY_BOX_PK_LEN];
	struct cry_secret *sk = NULL, *sk2 = NULL, *msg = NULL, *back = NULL;
	struct bytes b;

	bytes_init(&b, 1024);
	REQUIRE_OK(cry_box_keypair(pk, &sk));
	REQUIRE_OK(cry_box_keypair(pk2, &sk2));
	CHECK(cry_secret_len(sk) == CRY_BOX_SK_LEN);
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &msg));
	REQUIRE_OK(cry_seal(pk, msg, &b));
	CHECK(b.len == CRY_KEY_LEN + CRY_SEAL_OVERHEAD);
	REQUIRE_OK(cry_seal_open(pk, sk, bytes_span(&b), &back));
	CHECK(cry_secret_len(back) == CRY_KEY_LEN &&
	      memcmp(cry_secret_data(back), cry_secret_data(msg),
	          CRY_KEY_LEN) == 0);
	cry_secret_free(back);
	back = NULL;
	/* Wrong key pair. */
	CHECK(cry_seal_open(pk2, sk2, bytes_span(&b), &back) == ERR_CORRUPT);
	CHECK(back == NULL);
	/* Every single flipped bit is caught. */
	for (size_t i = 0; i < b.len; i++) {
		b.p[i] ^= 0x01;
		CHECK(cry_seal_open(pk, sk, bytes_span(&b), &back) ==
		      ERR_CORRUPT);
		b.p[i] ^= 0x01;
	}
	CHECK(cry_seal_open(pk, sk, span_of(b.p, b.len - 1), &back) ==
	      ERR_CORRUPT);
	CHECK(cry_seal_open(pk, sk, span_of(b.p, 10), &back) == ERR_CORRUPT);
	CHECK(back == NULL);
	bytes_release(&b);
	cry_secret_free(sk);
	cry_secret_free(sk2);
	cry_secret_free(msg);
}

static void
test_sign_verify_forgery(void)
{
	uint8_t pk[CRY_SIGN_PK_LEN], pk2[CRY_SIGN_PK_LEN], sig[CRY_SIG_LEN];
	struct cry_secret *sk = NULL, *sk2 = NULL;

	REQUIRE_OK(cry_sign_keypair(pk, &sk));
	REQUIRE_OK(cry_sign_keypair(pk2, &sk2));
	CHECK(cry_secret_len(sk) == CRY_SIGN_SK_LEN);
	REQUIRE_OK(cry_sign(sk, span_str("hello"), sig));
	CHECK_OK(cry_verify(pk, span_str("hello"), sig));
	CHECK(cry_verify(pk, span_str("hellp"), sig) == ERR_BAD_SIGNATURE);
	CHECK(cry_verify(pk2, span_str("hello"), sig) == ERR_BAD_SIGNATURE);
	sig[10] ^= 4;
	CHECK(cry_verify(pk, span_str("hello"), sig) == ERR_BAD_SIGNATURE);
	cry_secret_free(sk);
	cry_secret_free(sk2);
}

/* ---- passphrase protection ---- */

static void
test_pw_protect(void)
{
	struct cry_secret *pass = secret_str("correct horse 馬");
	struct cry_secret *wrong = secret_str("correct horse 馬!");
	struct cry_secret *sec = NULL, *back = NULL;
	struct bytes b;

	REQUIRE(pass != NULL && wrong != NULL);
	REQUIRE(cry_fast_kdf()); /* main() sets it: tests stay fast */
	bytes_init(&b, 4096);
	REQUIRE_OK(cry_secret_random(CRY_BOX_SK_LEN, &sec));
	REQUIRE_OK(cry_pw_protect(pass, sec, &b));
	CHECK(b.len == CRY_PW_HDR_LEN + CRY_BOX_SK_LEN + 16);
	CHECK(memcmp(b.p, "KPW\0\x01\x01\0\0", 8) == 0);
	REQUIRE_OK(cry_pw_unprotect(pass, bytes_span(&b), &back));
	CHECK(cry_secret_len(back) == CRY_BOX_SK_LEN &&
	      memcmp(cry_secret_data(back), cry_secret_data(sec),
	          CRY_BOX_SK_LEN) == 0);
	cry_secret_free(back);
	back = NULL;
	CHECK(cry_pw_unprotect(wrong, bytes_span(&b), &back) == ERR_AUTH);
	CHECK(back == NULL);
	/* Tampering with salt, nonce, ciphertext or tag: ERR_AUTH. */
	for (size_t i = 24; i < b.len; i += 7) {
		b.p[i] ^= 0x80;
		CHECK(
		    cry_pw_unprotect(pass, bytes_span(&b), &back) == ERR_AUTH);
		b.p[i] ^= 0x80;
	}
	/* The parameters are authenticated: a changed ops limit fails. */
	b.p[15] ^= 2;
	CHECK(cry_pw_unprotect(pass, bytes_span(&b), &back) == ERR_AUTH);
	b.p[15] ^= 2;
	/* Malformed: magic, version, algorithm, reserved, sizes, limits. */
	for (size_t i = 0; i < 8; i++) {
		b.p[i] ^= 0x40;
		CHECK(cry_pw_unprotect(pass, bytes_span(&b), &back) ==
		      ERR_CORRUPT);
		b.p[i] ^= 0x40;
	}
	b.p[8] = 0xff; /* absurd ops limit: refused before Argon2 runs */
	CHECK(cry_pw_unprotect(pass, bytes_span(&b), &back) == ERR_CORRUPT);
	b.p[8] = 0;
	b.p[16] = 0xff; /* absurd memory limit */
	CHECK(cry_pw_unprotect(pass, bytes_span(&b), &back) == ERR_CORRUPT);
	b.p[16] = 0;
	CHECK(cry_pw_unprotect(pass, span_of(b.p, CRY_PW_HDR_LEN + 15),
	          &back) == ERR_CORRUPT);
	CHECK(
	    cry_pw_unprotect(pass, span_of(b.p, b.len - 1), &back) == ERR_AUTH);
	CHECK(back == NULL);
	bytes_release(&b);
	cry_secret_free(pass);
	cry_secret_free(wrong);
	cry_secret_free(sec);
}

static void
test_pw_protect_records_params(void)
{
	/* A blob made with other limits opens: the limits are in the blob. */
	struct cry_secret *pass = secret_str("pw"), *sec = NULL, *back = NULL;
	struct bytes b;

	REQUIRE(pass != NULL);
	bytes_init(&b, 4096);
	REQUIRE_OK(cry_secret_random(7, &sec));
	REQUIRE_OK(cry_pw_protect_params(pass, sec, 2, 65536, &b));
	CHECK(b.p[15] == 2 && b.p[21] == 1); /* ops = 2, mem = 0x10000 */
	REQUIRE_OK(cry_pw_unprotect(pass, bytes_span(&b), &back));
	CHECK(cry_secret_len(back) == 7);
	cry_secret_free(back);
	CHECK(cry_pw_protect_params(pass, sec, 0, 65536, &b) == ERR_INVALID);
	bytes_release(&b);
	cry_secret_free(pass);
	cry_secret_free(sec);
}

static void
test_pwhash_str(void)
{
	struct cry_secret *pw = secret_str("パスワード");
	char h[128];

	REQUIRE(pw != NULL);
	REQUIRE_OK(cry_pwhash_str(pw, h));
	CHECK(strncmp(h, "$argon2id$", 10) == 0);
	CHECK(cry_pwhash_verify(h, cry_secret_data(pw), cry_secret_len(pw)));
	CHECK(!cry_pwhash_verify(h, "パスワーF", strlen("パスワーF")));
	CHECK(
	    !cry_pwhash_verify(h, cry_secret_data(pw), cry_secret_len(pw) - 1));
	h[strlen(h) - 2] ^= 1; /* forged hash string */
	CHECK(!cry_pwhash_verify(h, cry_secret_data(pw), cry_secret_len(pw)));
	CHECK(!cry_pwhash_verify("", "x", 1));
	CHECK(
	    !cry_pwhash_verify("$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA", "x", 1));
	cry_secret_free(pw);
}

static void
test_passphrase_file(void)
{
	char path[4096];
	struct cry_secret *s = NULL;

	snprintf(path, sizeof(path), "%s/pass", test_tmpdir());
	REQUIRE_OK(
	    fsx_write_atomic(path, span_str("s3cret phrase\r\nnext\n"), 0600));
	REQUIRE_OK(cry_passphrase_read(path, NULL, false, &s));
	CHECK(cry_secret_len(s) == 13 &&
	      memcmp(cry_secret_data(s), "s3cret phrase", 13) == 0);
	cry_secret_free(s);
	s = NULL;
	REQUIRE_OK(fsx_write_atomic(path, span_str("no newline"), 0600));
	REQUIRE_OK(cry_passphrase_read(path, NULL, true, &s));
	CHECK(cry_secret_len(s) == 10);
	cry_secret_free(s);
	s = NULL;
	REQUIRE_OK(fsx_write_atomic(path, span_str("\nsecond line"), 0600));
	CHECK(cry_passphrase_read(path, NULL, false, &s) == ERR_INVALID);
	REQUIRE_OK(fsx_write_atomic(path, span_str(""), 0600));
	CHECK(cry_passphrase_read(path, NULL, false, &s) == ERR_INVALID);
	CHECK(s == NULL);
	snprintf(path, sizeof(path), "%s/absent", test_tmpdir());
	CHECK(cry_passphrase_read(path, NULL, false, &s) == ERR_NOT_FOUND);
	/* A link is never followed. */
	snprintf(path, sizeof(path), "%s/link", test_tmpdir());
	REQUIRE(symlink("pass", path) == 0);
	CHECK(cry_passphrase_read(path, NULL, false, &s) != ERR_OK);
	CHECK(s == NULL);
}

/*
 * The terminal path, on a pseudo-terminal that becomes the child's
 * controlling terminal: echo must be off, confirmation must match.
 */
static int
tty_session(const char *first, const char *second, bool confirm,
    struct bytes *seen)
{
	int master = -1, status = 0;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	const char *answers[2] = {first, second};
	int asked = 0;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct cry_secret *sec = NULL;
		enum err e;

		alarm(10);
		if (cry_init() != ERR_OK)
			_exit(2);
		e = cry_passphrase_read(NULL, "PW: ", confirm, &sec);
		if (e == ERR_INVALID)
			_exit(3);
		if (e != ERR_OK)
			_exit(4);
		_exit(cry_secret_len(sec) == strlen(first) &&
		              memcmp(cry_secret_data(sec), first,
		                  strlen(first)) == 0
		          ? 0
		          : 5);
	}
	for (int rounds = 0; rounds < 200; rounds++) {
		struct pollfd pfd = {master, POLLIN, 0};
		char buf[256];
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((n = read(master, buf, sizeof(buf))) <= 0)
			break;
		if (bytes_put(seen, buf, (size_t)n) != ERR_OK)
			break;
		/* Answer each prompt once it has appeared. */
		while (asked < (confirm ? 2 : 1)) {
			const char *pr = asked == 0 ? "PW: " : "Again: ";
			if (seen->p == NULL ||
			    strstr((char *)seen->p, pr) == NULL)
				break;
			if (asked == 1 &&
			    strstr(strstr((char *)seen->p, "PW: "),
			        "Again: ") == NULL)
				break;
			if (write(master, answers[asked],
			        strlen(answers[asked])) < 0 ||
			    write(master, "\n", 1) != 1)
				break;
			asked++;
		}
	}
	close(master);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
test_passphrase_tty(void)
{
	struct bytes seen;

	bytes_init(&seen, 1u << 16);
	CHECK(tty_session("hunter2 蔵", "hunter2 蔵", true, &seen) == 0);
	/* Echo was off: the passphrase never came back on the terminal. */
	CHECK(seen.p != NULL && strstr((char *)seen.p, "hunter2") == NULL);
	bytes_clear(&seen);
	CHECK(tty_session("hunter2", "hunter3", true, &seen) == 3);
	bytes_clear(&seen);
	CHECK(tty_session("once", "", false, &seen) == 0);
	bytes_clear(&seen);
	CHECK(tty_session("", "", false, &seen) == 3); /* empty */
	bytes_release(&seen);
}

/* ---- signed notes ---- */

#define NOTE_VECTORS "corpus/merkle/derived/signed-note-vectors.json"

static const char *
vkey_of(const struct jval *root, const char *name)
{
	return jstr(jget(jget(root, "keys"), name), "vkey");
}

static void
test_vkey_roundtrip(void)
{
	uint8_t pk[CRY_SIGN_PK_LEN], pk2[CRY_SIGN_PK_LEN];
	struct cry_secret *sk = NULL;
	struct bytes v, name;
	uint32_t id = 0;

	bytes_init(&v, 512);
	bytes_init(&name, 512);
	REQUIRE_OK(cry_sign_keypair(pk, &sk));
	REQUIRE_OK(cry_vkey_format("kura.example/log", pk, &v));
	REQUIRE_OK(cry_vkey_parse((char *)v.p, &name, &id, pk2));
	CHECK(memcmp(pk, pk2, sizeof(pk)) == 0);
	CHECK(name.len == 16 && memcmp(name.p, "kura.example/log", 16) == 0);
	CHECK(id != 0);
	CHECK(cry_vkey_format("bad name", pk, &v) == ERR_INVALID);
	CHECK(cry_vkey_format("bad+name", pk, &v) == ERR_INVALID);
	CHECK(cry_vkey_format("", pk, &v) == ERR_INVALID);
	CHECK(cry_vkey_parse("a+00000000", NULL, &id, pk2) == ERR_INVALID);
	bytes_release(&v);
	bytes_release(&name);
	cry_secret_free(sk);
}

static void
test_vkey_vectors(void)
{
	struct jval root;
	struct bytes file, name;
	uint8_t pk[CRY_SIGN_PK_LEN];
	uint32_t id;
	const struct jval *keys, *bad;
	char buf[256];

	REQUIRE(load_json(NOTE_VECTORS, &root, &file));
	keys = jget(&root, "keys");
	REQUIRE(keys != NULL && keys->n == 3);
	bytes_init(&name, 512);
	for (size_t i = 0; i < keys->n; i++) {
		const char *vk = jstr(&keys->kids[i], "vkey");
		struct bytes again;
		size_t n;

		REQUIRE(vk != NULL);
		bytes_clear(&name);
		CHECK_OK(cry_vkey_parse(vk, &name, &id, pk));
		CHECK(strcmp((char *)name.p, keys->keys[i]) == 0);
		/* Formatting the parsed key gives the same string back. */
		bytes_init(&again, 512);
		CHECK_OK(cry_vkey_format((char *)name.p, pk, &again));
		CHECK(again.len == strlen(vk) &&
		      strcmp((char *)again.p, vk) == 0);
		bytes_release(&again);
		/* Every proper prefix/suffix and every byte + 1 is rejected. */
		n = strlen(vk);
		REQUIRE(n < sizeof(buf));
		for (size_t k = 0; k < n; k++) {
			memcpy(buf, vk, k);
			buf[k] = 0;
			CHECK(cry_vkey_parse(buf, NULL, &id, pk) != ERR_OK);
			CHECK(cry_vkey_parse(vk + k + 1, NULL, &id, pk) !=
			      ERR_OK);
			memcpy(buf, vk, n + 1);
			buf[k]++;
			CHECK(cry_vkey_parse(buf, NULL, &id, pk) != ERR_OK);
		}
	}
	/* EnochRoot: the all-zero seed gives the vector's public key. */
	{
		uint8_t seed[32] = {0}, epk[CRY_SIGN_PK_LEN];
		struct cry_secret *esk = NULL;
		struct bytes v;

		bytes_init(&v, 512);
		REQUIRE_OK(cry_sign_keypair_from_seed(seed, epk, &esk));
		CHECK_OK(cry_vkey_format("EnochRoot", epk, &v));
		CHECK(strcmp((char *)v.p, vkey_of(&root, "EnochRoot")) == 0);
		bytes_release(&v);
		cry_secret_free(esk);
	}
	bad = jget(&root, "invalid_vkeys");
	REQUIRE(bad != NULL && bad->n >= 2);
	for (size_t i = 0; i < bad->n; i++) {
		const char *vk = jstr(&bad->kids[i], "vkey");
		if (vk != NULL)
			CHECK(cry_vkey_parse(vk, NULL, &id, pk) == ERR_INVALID);
	}
	bytes_release(&name);
	jfree(&root);
	bytes_release(&file);
}

static void
test_note_vectors(void)
{
	struct jval root;
	struct bytes file, signed_note;
	const struct jval *valid, *invalid;
	struct span text;
	size_t nvalid = 0, ninvalid = 0;

	REQUIRE(load_json(NOTE_VECTORS, &root, &file));
	valid = jget(&root, "valid_notes");
	invalid = jget(&root, "invalid_notes");
	REQUIRE(valid != NULL && invalid != NULL);
	for (size_t i = 0; i < valid->n; i++) {
		const struct jval *v = &valid->kids[i];
		const struct jval *ver = jget(v, "expect_verified");
		const char *note = jstr(v, "signed_note");
		const char *want = jstr(v, "text");

		REQUIRE(note != NULL && want != NULL && ver != NULL);
		for (size_t k = 0; k < ver->n; k++) {
			const char *vk = vkey_of(&root, ver->kids[k].str);
			REQUIRE(vk != NULL);
			CHECK_OK(cry_note_verify(span_str(note), vk, &text));
			CHECK(text.len == strlen(want) &&
			      memcmp(text.p, want, text.len) == 0);
			nvalid++;
		}
	}
	for (size_t i = 0; i < invalid->n; i++) {
		const struct jval *v = &invalid->kids[i];
		const struct jval *ver = jget(v, "verifiers");
		const char *note = jstr(v, "signed_note");
		uint8_t pk[CRY_SIGN_PK_LEN];
		struct cry_secret *sk = NULL;
		struct bytes other;
		enum err r;

		REQUIRE(note != NULL && ver != NULL);
		for (size_t k = 0; k < ver->n; k++) {
			r = cry_note_verify(span_str(note),
			    vkey_of(&root, ver->kids[k].str), &text);
			CHECK(r == ERR_INVALID || r == ERR_BAD_SIGNATURE);
			CHECK(text.p == NULL && text.len == 0);
			ninvalid++;
		}
		/* "No known key": verify with a key that signed nothing. */
		bytes_init(&other, 512);
		REQUIRE_OK(cry_sign_keypair(pk, &sk));
		REQUIRE_OK(cry_vkey_format("PeterNeumann", pk, &other));
		CHECK(cry_note_verify(span_str(note), (char *)other.p, &text) !=
		      ERR_OK);
		bytes_release(&other);
		cry_secret_free(sk);
		ninvalid++;
	}
	CHECK(nvalid >= 5 && ninvalid >= 9);
	/* 0xFF before the first valid note: invalid UTF-8 is rejected. */
	bytes_init(&signed_note, 1u << 16);
	REQUIRE_OK(bytes_put_u8(&signed_note, 0xff));
	REQUIRE_OK(
	    bytes_put_str(&signed_note, jstr(&valid->kids[0], "signed_note")));
	CHECK(cry_note_verify(bytes_span(&signed_note),
	          vkey_of(&root, "PeterNeumann"), &text) == ERR_INVALID);
	bytes_release(&signed_note);
	jfree(&root);
	bytes_release(&file);
}

static void
test_note_sign_kat(void)
{
	/* PeterNeumann's Go skey is base64(0x01 ‖ seed): sign reproduces it. */
	struct jval root;
	struct bytes file, seed, out;
	uint8_t pk[CRY_SIGN_PK_LEN];
	struct cry_secret *sk = NULL;
	const char *skey, *b64;
	const struct jval *v0;

	REQUIRE(load_json(NOTE_VECTORS, &root, &file));
	skey = jstr(jget(jget(&root, "keys"), "PeterNeumann"), "skey");
	REQUIRE(skey != NULL);
	b64 = skey; /* PRIVATE+KEY+name+id+base64: the fifth field */
	for (int i = 0; i < 4 && b64 != NULL; i++)
		if ((b64 = strchr(b64, '+')) != NULL)
			b64++;
	REQUIRE(b64 != NULL);
	bytes_init(&seed, 64);
	REQUIRE_OK(cry_b64_decode(b64, strlen(b64), &seed));
	REQUIRE(seed.len == 33 && seed.p[0] == 1);
	REQUIRE_OK(cry_sign_keypair_from_seed(seed.p + 1, pk, &sk));
	v0 = &jget(&root, "valid_notes")->kids[0];
	bytes_init(&out, 1u << 16);
	REQUIRE_OK(cry_note_sign(span_str(jstr(v0, "text")), "PeterNeumann", sk,
	    pk, &out));
	CHECK(strcmp((char *)out.p, jstr(v0, "signed_note")) == 0);
	bytes_clear(&out);
	/* Text must be non-empty, end in '\n', no control characters. */
	CHECK(cry_note_sign(span_str(""), "x", sk, pk, &out) == ERR_INVALID);
	CHECK(cry_note_sign(span_str("a"), "x", sk, pk, &out) == ERR_INVALID);
	CHECK(cry_note_sign(span_str("a\tb\n"), "x", sk, pk, &out) ==
	      ERR_INVALID);
	CHECK(
	    cry_note_sign(span_str("a\n"), "a b", sk, pk, &out) == ERR_INVALID);
	CHECK(out.len == 0);
	/* DEL and non-ASCII are not control characters (spec): accepted. */
	{
		struct bytes vk;
		struct span t;

		bytes_init(&vk, 512);
		REQUIRE_OK(cry_vkey_format("PeterNeumann", pk, &vk));
		REQUIRE_OK(
		    cry_note_sign(span_str("del \x7f 蔵\n\nblank above\n"),
		        "PeterNeumann", sk, pk, &out));
		CHECK_OK(cry_note_verify(bytes_span(&out), (char *)vk.p, &t));
		CHECK(t.len == strlen("del \x7f 蔵\n\nblank above\n"));
		bytes_release(&vk);
		bytes_clear(&out);
	}
	/* A key pair that does not match pk is refused. */
	pk[0] ^= 1;
	CHECK(cry_note_sign(span_str("a\n"), "x", sk, pk, &out) == ERR_INVALID);
	bytes_release(&out);
	bytes_release(&seed);
	cry_secret_free(sk);
	jfree(&root);
	bytes_release(&file);
}

static void
test_note_forgeries(void)
{
	uint8_t pk[CRY_SIGN_PK_LEN], pk2[CRY_SIGN_PK_LEN];
	struct cry_secret *sk = NULL, *sk2 = NULL;
	struct bytes note, vk, vk2, evil, big;
	struct span text;
	const char *t = "kura.example/log\n42\nAAAA\n";

	bytes_init(&note, 1u << 16);
	bytes_init(&vk, 512);
	bytes_init(&vk2, 512);
	bytes_init(&evil, 1u << 21);
	REQUIRE_OK(cry_sign_keypair(pk, &sk));
	REQUIRE_OK(cry_sign_keypair(pk2, &sk2));
	REQUIRE_OK(cry_vkey_format("log", pk, &vk));
	REQUIRE_OK(cry_vkey_format("log", pk2, &vk2));
	REQUIRE_OK(cry_note_sign(span_str(t), "log", sk, pk, &note));
	REQUIRE_OK(cry_note_verify(bytes_span(&note), (char *)vk.p, &text));
	CHECK(text.len == strlen(t) && memcmp(text.p, t, text.len) == 0);
	/* Another key with the same name: not verified. */
	CHECK(cry_note_verify(bytes_span(&note), (char *)vk2.p, &text) ==
	      ERR_BAD_SIGNATURE);
	/* Every flipped bit in the text or signature is caught. */
	for (size_t i = 0; i < note.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			note.p[i] ^= (uint8_t)(1u << bit);
			CHECK(cry_note_verify(bytes_span(&note), (char *)vk.p,
			          &text) != ERR_OK);
			note.p[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Truncated anywhere: rejected. */
	for (size_t i = 0; i < note.len; i++)
		CHECK(cry_note_verify(span_of(note.p, i), (char *)vk.p,
		          &text) != ERR_OK);
	/* A second signature by another key, before or after: still ok. */
	REQUIRE_OK(cry_note_sign(span_str(t), "other", sk2, pk2, &evil));
	REQUIRE_OK(
	    bytes_put(&evil, note.p + strlen(t) + 1, note.len - strlen(t) - 1));
	CHECK_OK(cry_note_verify(bytes_span(&evil), (char *)vk.p, &text));
	CHECK(text.len == strlen(t));
	/* The attacker's own signature under our name + their key id. */
	bytes_clear(&evil);
	REQUIRE_OK(cry_note_sign(span_str(t), "log", sk2, pk2, &evil));
	CHECK(cry_note_verify(bytes_span(&evil), (char *)vk.p, &text) ==
	      ERR_BAD_SIGNATURE);
	/* Text swapped under a valid signature line. */
	bytes_clear(&evil);
	REQUIRE_OK(bytes_put_str(&evil, "kura.example/log\n43\nAAAA\n"));
	REQUIRE_OK(bytes_put(&evil, note.p + strlen(t), note.len - strlen(t)));
	CHECK(cry_note_verify(bytes_span(&evil), (char *)vk.p, &text) ==
	      ERR_BAD_SIGNATURE);
	/* Extra text smuggled after the signature block. */
	bytes_clear(&evil);
	REQUIRE_OK(bytes_put(&evil, note.p, note.len));
	REQUIRE_OK(bytes_put_str(&evil, "\nextra\n"));
	CHECK(
	    cry_note_verify(bytes_span(&evil), (char *)vk.p, &text) != ERR_OK);
	/* A signature line with a tab instead of a space, or no dash. */
	bytes_clear(&evil);
	REQUIRE_OK(bytes_put(&evil, note.p, note.len));
	evil.p[strlen(t) + 1 + 3 + 3] = '\t';
	CHECK(cry_note_verify(bytes_span(&evil), (char *)vk.p, &text) ==
	      ERR_INVALID);
	bytes_clear(&evil);
	REQUIRE_OK(bytes_put_str(&evil, t));
	REQUIRE_OK(bytes_put_str(&evil, "\n- log "));
	REQUIRE_OK(bytes_put(&evil, note.p + strlen(t) + 1 + 8,
	    note.len - strlen(t) - 1 - 8));
	CHECK(cry_note_verify(bytes_span(&evil), (char *)vk.p, &text) ==
	      ERR_INVALID);
	/* More than CRY_NOTE_MAX_SIGS signature lines: rejected. */
	bytes_init(&big, 1u << 20);
	REQUIRE_OK(bytes_put(&big, note.p, note.len));
	for (int i = 0; i < CRY_NOTE_MAX_SIGS; i++)
		REQUIRE_OK(bytes_put(&big, note.p + strlen(t) + 1,
		    note.len - strlen(t) - 1));
	CHECK(cry_note_verify(bytes_span(&big), (char *)vk.p, &text) ==
	      ERR_INVALID);
	/* Exactly the maximum: accepted. */
	big.len -= note.len - strlen(t) - 1;
	CHECK_OK(cry_note_verify(bytes_span(&big), (char *)vk.p, &text));
	/* A bad signature line by our key next to a good one: rejected. */
	bytes_clear(&evil);
	REQUIRE_OK(bytes_put(&evil, note.p, note.len));
	REQUIRE_OK(
	    bytes_put(&evil, note.p + strlen(t) + 1, note.len - strlen(t) - 1));
	evil.p[evil.len - 5] ^= 1; /* inside the second line's base64 */
	CHECK(
	    cry_note_verify(bytes_span(&evil), (char *)vk.p, &text) != ERR_OK);
	/* Malformed vkey: ERR_INVALID. */
	CHECK(cry_note_verify(bytes_span(&note), "log+zz+AA==", &text) ==
	      ERR_INVALID);
	bytes_release(&big);
	bytes_release(&evil);
	bytes_release(&note);
	bytes_release(&vk);
	bytes_release(&vk2);
	cry_secret_free(sk);
	cry_secret_free(sk2);
}

/* ---- document bodies ---- */

#define CS 1024u /* small chunks keep the tamper loops fast */

static uint8_t doc_id_a[CRY_DOC_ID_LEN] = {0xa0, 1, 2, 3};
static uint8_t doc_id_b[CRY_DOC_ID_LEN] = {0xb0, 1, 2, 3};

static int
tmpfile_fd(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", test_tmpdir(), name);
	unlink(path);
	return open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

static void
pattern(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 7 + seed * 13 + (i >> 9)) % 251);
}

static struct bytes
file_bytes(int fd)
{
	struct bytes b;
	struct stat st;

	bytes_init(&b, 1u << 26);
	if (fstat(fd, &st) == 0 &&
	    bytes_reserve(&b, (size_t)st.st_size) == ERR_OK &&
	    fsx_pread_exact(fd, b.p, (size_t)st.st_size, 0) == ERR_OK)
		b.len = (size_t)st.st_size;
	return b;
}

/* Writes plain in pieces of `step` bytes, in order; returns the fd. */
static int
write_doc(const char *name, const struct cry_secret *key, const uint8_t *id,
    const uint8_t *plain, size_t len, size_t step, struct cry_doc_result *res)
{
	struct cry_doc_writer *w = NULL;
	int fd = tmpfile_fd(name);

	if (fd < 0 || cry_doc_writer_open(fd, key, id, CS, &w) != ERR_OK)
		return -1;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		if (cry_doc_write(w, off, span_of(plain + off, n)) != ERR_OK) {
			cry_doc_writer_abort(w);
			return -1;
		}
	}
	if (cry_doc_writer_finish(w, res) != ERR_OK)
		return -1;
	return fd;
}

/* Opens fd and reads everything; ERR_OK only if it all matches plain. */
static enum err
read_all(int fd, const struct cry_secret *key, const uint8_t *id,
    const uint8_t *plain, size_t len)
{
	struct cry_doc_reader *r = NULL;
	uint8_t *buf = calloc(1, len + 1);
	size_t n = 99;
	enum err e;

	if (buf == NULL)
		return ERR_NOMEM;
	if ((e = cry_doc_reader_open(fd, key, id, &r)) != ERR_OK)
		goto out;
	if (cry_doc_reader_size(r) != len) {
		e = ERR_INVALID;
		goto out;
	}
	if ((e = cry_doc_read(r, 0, buf, len + 1, &n)) != ERR_OK) {
		/* A failed read releases nothing. */
		for (size_t i = 0; i < len; i++)
			if (buf[i] != 0 || n != 0)
				e = ERR_INTERNAL;
		goto out;
	}
	if (n != len || memcmp(buf, plain, len) != 0)
		e = ERR_INVALID;
out:
	cry_doc_reader_close(r);
	free(buf);
	return e;
}

static void
check_result(int fd, const uint8_t *plain, size_t len,
    const struct cry_doc_result *res)
{
	uint8_t h[CRY_HASH_LEN];
	struct bytes f = file_bytes(fd);

	cry_sha256(plain, len, h);
	CHECK(res->plain_size == len);
	CHECK(memcmp(h, res->plain_sha256, sizeof(h)) == 0);
	CHECK(res->cipher_size == f.len);
	CHECK(f.len == CRY_DOC_HDR_LEN + len + (len / CS + 1) * 16);
	cry_sha256(f.p, f.len, h);
	CHECK(memcmp(h, res->cipher_sha256, sizeof(h)) == 0);
	bytes_release(&f);
}

static void
test_doc_roundtrip_sizes(void)
{
	static const size_t sizes[] = {0, 1, CS - 1, CS, CS + 1, 3 * CS,
	    3 * CS + 5, 10 * CS + 100, 200 * CS + 7};
	static const size_t steps[] = {1, 100, CS, 3 * CS, 7777};
	struct cry_secret *key = NULL;
	uint8_t *plain = malloc(201 * CS);

	REQUIRE(plain != NULL);
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key));
	pattern(plain, 201 * CS, 1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct cry_doc_result res;
			int fd = write_doc("rt", key, doc_id_a, plain, sizes[i],
			    steps[k], &res);

			REQUIRE(fd >= 0);
			check_result(fd, plain, sizes[i], &res);
			CHECK_OK(read_all(fd, key, doc_id_a, plain, sizes[i]));
			close(fd);
		}
	}
	cry_secret_free(key);
	free(plain);
}

static void
test_doc_ranges(void)
{
	struct cry_secret *key = NULL;
	struct cry_doc_reader *r = NULL;
	struct cry_doc_result res;
	size_t len = 5 * CS + 333, n;
	uint8_t *plain = malloc(len), buf[3 * CS];
	int fd;

	REQUIRE(plain != NULL);
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key));
	pattern(plain, len, 2);
	REQUIRE(
	    (fd = write_doc("rng", key, doc_id_a, plain, len, 500, &res)) >= 0);
	REQUIRE_OK(cry_doc_reader_open(fd, key, doc_id_a, &r));
	for (uint32_t i = 0; i < 400; i++) {
		uint64_t off = (i * 2654435761u) % (len + 10);
		size_t want = (i * 40503u) % sizeof(buf);

		memset(buf, 0xee, sizeof(buf));
		CHECK_OK(cry_doc_read(r, off, buf, want, &n));
		if (off >= len) {
			CHECK(n == 0);
			continue;
		}
		CHECK(n == (want < len - off ? want : len - off));
		CHECK(memcmp(buf, plain + off, n) == 0);
	}
	cry_doc_reader_close(r);
	cry_doc_reader_close(NULL);
	close(fd);
	cry_secret_free(key);
	free(plain);
}

static void
test_doc_out_of_order(void)
{
	/*
	 * Pieces in a shuffled order, overlapping, some written twice; then
	 * the whole document backwards (more chunks ahead of the hash than
	 * are kept, so the re-read pass computes the hashes).
	 */
	struct cry_secret *key = NULL;
	struct cry_doc_writer *w = NULL;
	struct cry_doc_result res;
	size_t len = 20 * CS + 77, piece = 300;
	size_t npieces = (len + piece - 1) / piece;
	uint8_t *plain = malloc(len);
	size_t *order = calloc(npieces, sizeof(size_t));
	int fd;

	REQUIRE(plain != NULL && order != NULL);
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key));
	pattern(plain, len, 3);
	for (size_t i = 0; i < npieces; i++)
		order[i] = i;
	for (size_t i = npieces - 1; i > 0; i--) {
		size_t j = (i * 7919u + 13u) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	REQUIRE((fd = tmpfile_fd("ooo")) >= 0);
	REQUIRE_OK(cry_doc_writer_open(fd, key, doc_id_a, CS, &w));
	for (size_t i = 0; i < npieces; i++) {
		size_t off = order[i] * piece;
		size_t n = len - off < piece + 50 ? len - off : piece + 50;
		REQUIRE_OK(cry_doc_write(w, off, span_of(plain + off, n)));
		/* The same bytes again are fine, even over a sealed chunk. */
		REQUIRE_OK(cry_doc_write(w, off, span_of(plain + off, n)));
	}
	CHECK(cry_doc_writer_size(w) == len);
	REQUIRE_OK(cry_doc_writer_finish(w, &res));
	check_result(fd, plain, len, &res);
	CHECK_OK(read_all(fd, key, doc_id_a, plain, len));
	close(fd);

	len = 100 * CS;
	free(plain);
	plain = malloc(len);
	REQUIRE(plain != NULL);
	pattern(plain, len, 4);
	REQUIRE((fd = tmpfile_fd("rev")) >= 0);
	REQUIRE_OK(cry_doc_writer_open(fd, key, doc_id_a, CS, &w));
	for (size_t off = len; off > 0; off -= 512)
		REQUIRE_OK(cry_doc_write(w, off - 512,
		    span_of(plain + off - 512, 512)));
	REQUIRE_OK(cry_doc_writer_finish(w, &res));
	check_result(fd, plain, len, &res);
	CHECK_OK(read_all(fd, key, doc_id_a, plain, len));
	close(fd);
	cry_secret_free(key);
	free(plain);
	free(order);
}

static void
test_doc_writer_rules(void)
{
	struct cry_secret *key = NULL, *short_key = NULL;
	struct cry_doc_writer *w = NULL;
	struct cry_doc_result res;
	uint8_t buf[2 * CS];
	int fd;

	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key));
	REQUIRE_OK(cry_secret_random(16, &short_key));
	pattern(buf, sizeof(buf), 5);
	/* A hole: finish refuses. */
	REQUIRE((fd = tmpfile_fd("hole")) >= 0);
	REQUIRE_OK(cry_doc_writer_open(fd, key, doc_id_a, CS, &w));
	REQUIRE_OK(cry_doc_write(w, 0, span_of(buf, 10)));
	REQUIRE_OK(cry_doc_write(w, 20, span_of(buf, 10)));
	CHECK(cry_doc_writer_finish(w, &res) == ERR_INVALID);
	CHECK(res.plain_size == 0);
	close(fd);
	/* A hole of a whole chunk. */
	REQUIRE((fd = tmpfile_fd("hole2")) >= 0);
	REQUIRE_OK(cry_doc_writer_open(fd, key, doc_id_a, CS, &w));
	REQUIRE_OK(cry_doc_write(w, CS, span_of(buf, CS)));
	CHECK(cry_doc_writer_finish(w, &res) == ERR_INVALID);
	close(fd);
	/* A sealed chunk cannot change (its nonce would be reused). */
	REQUIRE((fd = tmpfile_fd("reseal")) >= 0);
	REQUIRE_OK(cry_doc_writer_open(fd, key, doc_id_a, CS, &w));
	REQUIRE_OK(cry_doc_write(w, 0, span_of(buf, CS + 10)));
	buf[5] ^= 1;
	CHECK(cry_doc_write(w, 0, span_of(buf, 10)) == ERR_INVALID);
	buf[5] ^= 1;
	CHECK_OK(cry_doc_write(w, 3, span_of(buf + 3, 10)));
	/* An incomplete chunk may be rewritten freely. */
	CHECK_OK(cry_doc_write(w, CS, span_of(buf, 10)));
	CHECK_OK(cry_doc_write(w, CS, span_of(buf + CS, 10)));
	REQUIRE_OK(cry_doc_writer_finish(w, &res));
	CHECK_OK(read_all(fd, key, doc_id_a, buf, CS + 10));
	close(fd);
	/* Too many incomplete chunks at once: ERR_TOO_BIG. */
	REQUIRE((fd = tmpfile_fd("pend")) >= 0);
	REQUIRE_OK(cry_doc_writer_open(fd, key, doc_id_a, CS, &w));
	for (uint64_t i = 0; i < CRY_DOC_MAX_PENDING; i++)
		REQUIRE_OK(cry_doc_write(w, i * CS + 1, span_of(buf, 1)));
	CHECK(cry_doc_write(w, 9999 * (uint64_t)CS, span_of(buf, 1)) ==
	      ERR_TOO_BIG);
	cry_doc_writer_abort(w);
	cry_doc_writer_abort(NULL);
	close(fd);
	/* Bad arguments: key size, chunk size, a non-empty file. */
	REQUIRE((fd = tmpfile_fd("args")) >= 0);
	CHECK(cry_doc_writer_open(fd, short_key, doc_id_a, CS, &w) ==
	      ERR_INVALID);
	CHECK(cry_doc_writer_open(fd, key, doc_id_a, 100, &w) == ERR_INVALID);
	CHECK(cry_doc_writer_open(fd, key, doc_id_a, 1u << 30, &w) ==
	      ERR_INVALID);
	CHECK(w == NULL);
	REQUIRE(write(fd, "x", 1) == 1);
	CHECK(cry_doc_writer_open(fd, key, doc_id_a, CS, &w) == ERR_INVALID);
	close(fd);
	/* Offsets past the size limit. */
	REQUIRE((fd = tmpfile_fd("big")) >= 0);
	REQUIRE_OK(cry_doc_writer_open(fd, key, doc_id_a, 0, &w));
	CHECK(
	    cry_doc_write(w, UINT64_MAX - 2, span_of(buf, 10)) == ERR_TOO_BIG);
	REQUIRE_OK(cry_doc_writer_finish(w, &res));
	CHECK(res.plain_size == 0 && res.cipher_size == CRY_DOC_HDR_LEN + 16);
	close(fd);
	cry_secret_free(key);
	cry_secret_free(short_key);
}

/* Replaces the contents of fd with b. */
static void
put_file(int fd, const uint8_t *p, size_t len)
{
	INVARIANT(ftruncate(fd, 0) == 0);
	INVARIANT(fsx_pwrite_all(fd, p, len, 0) == ERR_OK);
}

static void
test_doc_tamper(void)
{
	struct cry_secret *key = NULL, *key2 = NULL;
	struct cry_doc_result res;
	size_t len = 3 * CS + 100;
	uint8_t *plain = malloc(len);
	struct bytes orig, other, t;
	size_t cl = CS + 16;
	int fd, fd2, fd3;

	REQUIRE(plain != NULL);
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key));
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key2));
	pattern(plain, len, 6);
	REQUIRE(
	    (fd = write_doc("t1", key, doc_id_a, plain, len, 999, &res)) >= 0);
	orig = file_bytes(fd);
	REQUIRE(orig.len == 64 + len + 4 * 16);
	/* Wrong key, wrong document id. */
	CHECK(read_all(fd, key2, doc_id_a, plain, len) == ERR_CORRUPT);
	CHECK(read_all(fd, key, doc_id_b, plain, len) == ERR_CORRUPT);
	/* Every flipped bit, anywhere in the file. */
	bytes_init(&t, 1u << 20);
	REQUIRE_OK(bytes_put(&t, orig.p, orig.len));
	for (size_t i = 0; i < t.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			t.p[i] ^= (uint8_t)(1u << bit);
			put_file(fd, t.p, t.len);
			CHECK(read_all(fd, key, doc_id_a, plain, len) ==
			      ERR_CORRUPT);
			t.p[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Truncation to every length, extension by 1..40 bytes. */
	for (size_t i = 0; i < orig.len; i++) {
		put_file(fd, orig.p, i);
		CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	}
	for (size_t i = 1; i <= 40; i++) {
		bytes_clear(&t);
		REQUIRE_OK(bytes_put(&t, orig.p, orig.len));
		REQUIRE_OK(bytes_put(&t, orig.p + 64, i));
		put_file(fd, t.p, t.len);
		CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	}
	/* Two chunks swapped. */
	bytes_clear(&t);
	REQUIRE_OK(bytes_put(&t, orig.p, orig.len));
	memcpy(t.p + 64, orig.p + 64 + cl, cl);
	memcpy(t.p + 64 + cl, orig.p + 64, cl);
	put_file(fd, t.p, t.len);
	CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	/* A chunk duplicated over its neighbour. */
	memcpy(t.p + 64 + cl, orig.p + 64, cl);
	memcpy(t.p + 64, orig.p + 64, cl);
	put_file(fd, t.p, t.len);
	CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	/* A whole chunk dropped from the middle. */
	bytes_clear(&t);
	REQUIRE_OK(bytes_put(&t, orig.p, 64 + cl));
	REQUIRE_OK(bytes_put(&t, orig.p + 64 + 2 * cl, orig.len - 64 - 2 * cl));
	put_file(fd, t.p, t.len);
	CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	/*
	 * A chunk from another document under the same key: same doc id
	 * (different nonce prefix), and another doc id with the same prefix.
	 */
	REQUIRE(
	    (fd2 = write_doc("t2", key, doc_id_a, plain, len, 999, &res)) >= 0);
	other = file_bytes(fd2);
	REQUIRE(other.len == orig.len);
	CHECK(memcmp(other.p + 64, orig.p + 64, cl) != 0); /* fresh prefix */
	bytes_clear(&t);
	REQUIRE_OK(bytes_put(&t, orig.p, orig.len));
	memcpy(t.p + 64 + cl, other.p + 64 + cl, cl);
	put_file(fd, t.p, t.len);
	CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	{
		static const uint8_t prefix[CRY_DOC_PREFIX_LEN] = {9};
		struct cry_doc_writer *w = NULL;
		struct bytes fa, fb;

		REQUIRE((fd3 = tmpfile_fd("t3")) >= 0);
		REQUIRE_OK(cry_doc_writer_open_fixed(fd3, key, doc_id_a, CS,
		    prefix, &w));
		REQUIRE_OK(cry_doc_write(w, 0, span_of(plain, len)));
		REQUIRE_OK(cry_doc_writer_finish(w, &res));
		fa = file_bytes(fd3);
		close(fd3);
		REQUIRE((fd3 = tmpfile_fd("t4")) >= 0);
		REQUIRE_OK(cry_doc_writer_open_fixed(fd3, key, doc_id_b, CS,
		    prefix, &w));
		REQUIRE_OK(cry_doc_write(w, 0, span_of(plain, len)));
		REQUIRE_OK(cry_doc_writer_finish(w, &res));
		fb = file_bytes(fd3);
		REQUIRE(fa.len == fb.len);
		/* Same key, prefix and plaintext: only the doc id differs. */
		CHECK(memcmp(fa.p + 64, fb.p + 64, CS) == 0);
		memcpy(fa.p + 64 + CS, fb.p + 64 + CS, 16);
		put_file(fd3, fa.p, fa.len);
		CHECK(read_all(fd3, key, doc_id_a, plain, len) == ERR_CORRUPT);
		/* The header of b on the body of a: its tag names doc b. */
		memcpy(fa.p, fb.p, 64);
		put_file(fd3, fa.p, fa.len);
		CHECK(read_all(fd3, key, doc_id_a, plain, len) == ERR_CORRUPT);
		close(fd3);
		bytes_release(&fa);
		bytes_release(&fb);
	}
	/* The original still reads back. */
	put_file(fd, orig.p, orig.len);
	CHECK_OK(read_all(fd, key, doc_id_a, plain, len));
	close(fd);
	close(fd2);
	bytes_release(&orig);
	bytes_release(&other);
	bytes_release(&t);
	cry_secret_free(key);
	cry_secret_free(key2);
	free(plain);
}

static void
test_doc_boundary_truncation(void)
{
	/*
	 * A size that is a multiple of the chunk size ends in an empty final
	 * chunk: cutting it off (a chunk-boundary truncation) is caught.
	 */
	struct cry_secret *key = NULL;
	struct cry_doc_result res;
	size_t len = 2 * CS;
	uint8_t *plain = malloc(len);
	struct bytes f;
	int fd;

	REQUIRE(plain != NULL);
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key));
	pattern(plain, len, 7);
	REQUIRE(
	    (fd = write_doc("bt", key, doc_id_a, plain, len, CS, &res)) >= 0);
	f = file_bytes(fd);
	CHECK(f.len == 64 + 2 * (CS + 16) + 16);
	put_file(fd, f.p, f.len - 16);
	CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	put_file(fd, f.p, f.len - 16 - (CS + 16));
	CHECK(read_all(fd, key, doc_id_a, plain, len) == ERR_CORRUPT);
	put_file(fd, f.p, 64);
	CHECK(read_all(fd, key, doc_id_a, plain, 0) == ERR_CORRUPT);
	put_file(fd, f.p, f.len);
	CHECK_OK(read_all(fd, key, doc_id_a, plain, len));
	close(fd);
	bytes_release(&f);
	cry_secret_free(key);
	free(plain);
}

/*
 * Known-answer vectors: fixed key 00..1f, doc id 40..4f, nonce prefix
 * 20..2f, 1 KiB chunks. A change of the format changes these bytes.
 */
static void
kat_one(const char *file, size_t len)
{
	static const uint8_t prefix[CRY_DOC_PREFIX_LEN] = {0x20, 0x21, 0x22,
	    0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d,
	    0x2e, 0x2f};
	uint8_t k[CRY_KEY_LEN], id[CRY_DOC_ID_LEN];
	struct cry_secret *key = NULL;
	struct cry_doc_writer *w = NULL;
	struct cry_doc_result res;
	struct bytes got, want;
	uint8_t *plain = malloc(len + 1), *bin = NULL;
	char path[4096], *hex = NULL;
	const char *top = getenv("KURA_TOP");
	int fd;

	REQUIRE(plain != NULL);
	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < len; i++)
		plain[i] = (uint8_t)(i % 251);
	REQUIRE_OK(cry_secret_from(k, sizeof(k), &key));
	REQUIRE((fd = tmpfile_fd("kat")) >= 0);
	REQUIRE_OK(cry_doc_writer_open_fixed(fd, key, id, 1024, prefix, &w));
	REQUIRE_OK(cry_doc_write(w, 0, span_of(plain, len)));
	REQUIRE_OK(cry_doc_writer_finish(w, &res));
	got = file_bytes(fd);
	REQUIRE((hex = malloc(got.len * 2 + 2)) != NULL);
	hex_encode(got.p, got.len, hex);
	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", file);
	if (getenv("KURA_WRITE_KAT") != NULL) {
		size_t hl = strlen(hex);
		hex[hl] = '\n';
		REQUIRE_OK(fsx_write_atomic(path, span_of(hex, hl + 1), 0644));
		hex[hl] = 0;
	}
	bytes_init(&want, 1u << 20);
	REQUIRE_OK(fsx_read_file(path, 1u << 20, &want));
	REQUIRE(want.len == got.len * 2 + 1 && want.p[want.len - 1] == '\n');
	CHECK(memcmp(want.p, hex, got.len * 2) == 0);
	/* The committed bytes decrypt to the expected plaintext. */
	REQUIRE((bin = malloc(got.len)) != NULL);
	want.p[want.len - 1] = 0;
	REQUIRE_OK(hex_decode((char *)want.p, bin, got.len));
	put_file(fd, bin, got.len);
	CHECK_OK(read_all(fd, key, id, plain, len));
	close(fd);
	free(bin);
	free(hex);
	bytes_release(&got);
	bytes_release(&want);
	cry_secret_free(key);
	free(plain);
}

/*
 * Chunks are sealed by libcrypto and opened by libsodium: for every length
 * class of libcrypto's ChaCha20-Poly1305 code paths (blocks of 64, 256 and
 * 512 bytes, tails, a whole default chunk), what one seals the other opens,
 * and a flipped bit or another index does not open.
 */
static void
test_doc_seal_cross(void)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 63, 64, 65, 127, 128,
	    255, 256, 257, 511, 512, 513, 1000, 4096, 4097, 65535, 65536};
	uint8_t hdr[CRY_DOC_HDR_LEN], id[CRY_DOC_ID_LEN],
	    prefix[CRY_DOC_PREFIX_LEN];
	uint8_t *pt = malloc(65536), *ct = malloc(65536 + 16),
		*back = malloc(65536);
	struct cry_secret *key = NULL;

	REQUIRE(pt != NULL && ct != NULL && back != NULL);
	REQUIRE_OK(cry_secret_random(CRY_KEY_LEN, &key));
	cry_random(id, sizeof(id));
	cry_random(prefix, sizeof(prefix));
	cry_random(pt, 65536);
	cry_doc_header(key, id, CRY_DOC_CHUNK, prefix, hdr);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		bool last = i % 2 == 1;

		REQUIRE_OK(cry_doc_chunk_seal(hdr, id, key, 1000 + i, last, pt,
		    n, ct));
		memset(back, 0, 65536);
		CHECK_OK(cry_doc_chunk_open(hdr, id, key, 1000 + i, last, ct,
		    n + 16, back));
		CHECK(memcmp(back, pt, n) == 0);
		CHECK(cry_doc_chunk_open(hdr, id, key, 1001 + i, last, ct,
		          n + 16, back) == ERR_CORRUPT);
		CHECK(cry_doc_chunk_open(hdr, id, key, 1000 + i, !last, ct,
		          n + 16, back) == ERR_CORRUPT);
		ct[n / 2] ^= 0x04;
		CHECK(cry_doc_chunk_open(hdr, id, key, 1000 + i, last, ct,
		          n + 16, back) == ERR_CORRUPT);
	}
	cry_secret_free(key);
	free(pt);
	free(ct);
	free(back);
}

static void
test_doc_kat(void)
{
	kat_one("doc-kat-2500.hex", 2500);
	kat_one("doc-kat-2048.hex", 2048);
	kat_one("doc-kat-0.hex", 0);
}

int
main(void)
{
	/* Test-only: Argon2 MIN limits (SECURITY.md). */
	setenv("KURA_TEST_FAST_KDF", "1", 1);
	if (cry_init() != ERR_OK)
		return 2;
	TEST_RUN(test_sha256_kat);
	TEST_RUN(test_equal_random_secret);
	TEST_RUN(test_b64);
	TEST_RUN(test_seal_roundtrip_and_forgeries);
	TEST_RUN(test_sign_verify_forgery);
	TEST_RUN(test_pw_protect);
	TEST_RUN(test_pw_protect_records_params);
	TEST_RUN(test_pwhash_str);
	TEST_RUN(test_passphrase_file);
	TEST_RUN(test_passphrase_tty);
	TEST_RUN(test_vkey_roundtrip);
	TEST_RUN(test_vkey_vectors);
	TEST_RUN(test_note_vectors);
	TEST_RUN(test_note_sign_kat);
	TEST_RUN(test_note_forgeries);
	TEST_RUN(test_doc_roundtrip_sizes);
	TEST_RUN(test_doc_ranges);
	TEST_RUN(test_doc_out_of_order);
	TEST_RUN(test_doc_writer_rules);
	TEST_RUN(test_doc_tamper);
	TEST_RUN(test_doc_boundary_truncation);
	TEST_RUN(test_doc_kat);
	TEST_RUN(test_doc_seal_cross);
	return test_summary();
}
