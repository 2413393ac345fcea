/*
 * crypto/keys.c - key pairs, sealing to a public key, passphrase
 * protection (Argon2id + XChaCha20-Poly1305), account password hashes and
 * reading a passphrase from a file or the terminal.
 *
 * The passphrase blob format is described byte by byte in docs/format.md.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "common/log.h"
#include "common/banned.h"

static_assert(crypto_pwhash_SALTBYTES == CRY_PW_SALT_LEN, "pw salt");
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == CRY_PW_NONCE_LEN,
    "pw nonce");
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == 16, "tag");
static_assert(crypto_pwhash_STRBYTES <= 128, "pwhash str");

/* Largest passphrase or protected secret we handle. */
#define CRY_PASSPHRASE_MAX 1024
#define CRY_PW_SECRET_MAX  (64u * 1024u)
/*
 * Upper bounds on the Argon2 parameters a blob may ask for: a blob from
 * disk must not make us allocate without bound (SENSITIVE is 1 GiB, 4).
 */
#define CRY_PW_OPS_MAX 64u
#define CRY_PW_MEM_MAX ((uint64_t)crypto_pwhash_MEMLIMIT_SENSITIVE)

enum err
cry_box_keypair(uint8_t pk[static CRY_BOX_PK_LEN], struct cry_secret **sk)
{
	enum err r;

	if ((r = cry_secret_new(CRY_BOX_SK_LEN, sk)) != ERR_OK)
		return r;
	if (crypto_box_keypair(pk, cry_secret_data_mut(*sk)) != 0) {
		cry_secret_free(*sk);
		*sk = NULL;
		return ERR_CRYPTO;
	}
	return ERR_OK;
}

enum err
cry_sign_keypair(uint8_t pk[static CRY_SIGN_PK_LEN], struct cry_secret **sk)
{
	enum err r;

	if ((r = cry_secret_new(CRY_SIGN_SK_LEN, sk)) != ERR_OK)
		return r;
	if (crypto_sign_keypair(pk, cry_secret_data_mut(*sk)) != 0) {
		cry_secret_free(*sk);
		*sk = NULL;
		return ERR_CRYPTO;
	}
	return ERR_OK;
}

enum err
cry_sign_keypair_from_seed(const uint8_t seed[static 32],
    uint8_t pk[static CRY_SIGN_PK_LEN], struct cry_secret **sk)
{
	enum err r;

	if ((r = cry_secret_new(CRY_SIGN_SK_LEN, sk)) != ERR_OK)
		return r;
	if (crypto_sign_seed_keypair(pk, cry_secret_data_mut(*sk), seed) != 0) {
		cry_secret_free(*sk);
		*sk = NULL;
		return ERR_CRYPTO;
	}
	return ERR_OK;
}

enum err
cry_seal(const uint8_t pk[static CRY_BOX_PK_LEN], const struct cry_secret *msg,
    struct bytes *out)
{
	size_t mlen = cry_secret_len(msg), n;
	enum err r;

	if ((r = size_add(mlen, CRY_SEAL_OVERHEAD, &n)) != ERR_OK)
		return r;
	if ((r = bytes_reserve(out, n)) != ERR_OK)
		return r;
	if (crypto_box_seal(out->p + out->len, cry_secret_data(msg), mlen,
	        pk) != 0)
		return ERR_CRYPTO;
	out->len += n;
	out->p[out->len] = 0;
	return ERR_OK;
}

enum err
cry_seal_open(const uint8_t pk[static CRY_BOX_PK_LEN],
    const struct cry_secret *sk, struct span sealed, struct cry_secret **out)
{
	struct cry_secret *m = NULL;
	enum err r = ERR_INTERNAL;

	*out = NULL;
	if (cry_secret_len(sk) != CRY_BOX_SK_LEN)
		return ERR_INVALID;
	if (sealed.len < CRY_SEAL_OVERHEAD)
		return ERR_CORRUPT;
	if ((r = cry_secret_new(sealed.len - CRY_SEAL_OVERHEAD, &m)) != ERR_OK)
		goto out;
	/* crypto_box_seal_open verifies the tag before writing plaintext. */
	if (crypto_box_seal_open(cry_secret_data_mut(m), sealed.p, sealed.len,
	        pk, cry_secret_data(sk)) != 0) {
		r = ERR_CORRUPT;
		goto out;
	}
	*out = m;
	m = NULL; /* transferred */
	r = ERR_OK;
out:
	cry_secret_free(m);
	return r;
}

/* ---- passphrase protection ---- */

bool
cry_fast_kdf(void)
{
	/* Test-only switch (SECURITY.md): MIN Argon2 limits. */
	const char *e = secure_getenv("KURA_TEST_FAST_KDF");

	return e != NULL && strcmp(e, "1") == 0;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static enum err
pw_derive(const struct cry_secret *pass, const uint8_t *salt, uint64_t ops,
    uint64_t mem, uint8_t key[static CRY_KEY_LEN])
{
	if (crypto_pwhash(key, CRY_KEY_LEN, (const char *)cry_secret_data(pass),
	        cry_secret_len(pass), salt, ops, (size_t)mem,
	        crypto_pwhash_ALG_ARGON2ID13) != 0)
		return ERR_NOMEM; /* Argon2 fails only when it cannot allocate
		                   */
	return ERR_OK;
}

enum err
cry_pw_protect_params(const struct cry_secret *passphrase,
    const struct cry_secret *secret, uint64_t ops, uint64_t mem,
    struct bytes *out)
{
	uint8_t hdr[CRY_PW_HDR_LEN], key[CRY_KEY_LEN];
	size_t slen = cry_secret_len(secret), n;
	unsigned long long clen = 0;
	enum err r = ERR_INTERNAL;

	if (cry_secret_len(passphrase) == 0 || slen > CRY_PW_SECRET_MAX ||
	    ops < crypto_pwhash_OPSLIMIT_MIN || ops > CRY_PW_OPS_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > CRY_PW_MEM_MAX)
		return ERR_INVALID;
	n = CRY_PW_HDR_LEN + slen + 16;
	if ((r = bytes_reserve(out, n)) != ERR_OK)
		return r;
	memcpy(hdr, CRY_PW_MAGIC, 4);
	hdr[4] = CRY_PW_VERSION;
	hdr[5] = CRY_PW_ALG_ARGON2ID13;
	hdr[6] = 0;
	hdr[7] = 0;
	put_be64(hdr + 8, ops);
	put_be64(hdr + 16, mem);
	randombytes_buf(hdr + 24, CRY_PW_SALT_LEN);
	randombytes_buf(hdr + 24 + CRY_PW_SALT_LEN, CRY_PW_NONCE_LEN);
	if ((r = pw_derive(passphrase, hdr + 24, ops, mem, key)) != ERR_OK)
		goto out;
	/* The whole header is associated data: parameters cannot be swapped. */
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out->p + out->len +
	                                                   CRY_PW_HDR_LEN,
	        &clen, cry_secret_data(secret), slen, hdr, CRY_PW_HDR_LEN, NULL,
	        hdr + 24 + CRY_PW_SALT_LEN, key) != 0 ||
	    clen != slen + 16) {
		r = ERR_CRYPTO;
		goto out;
	}
	memcpy(out->p + out->len, hdr, CRY_PW_HDR_LEN);
	out->len += n;
	out->p[out->len] = 0;
	r = ERR_OK;
out:
	sodium_memzero(key, sizeof(key));
	return r;
}

enum err
cry_pw_protect(const struct cry_secret *passphrase,
    const struct cry_secret *secret, struct bytes *out)
{
	uint64_t ops = crypto_pwhash_OPSLIMIT_MODERATE;
	uint64_t mem = crypto_pwhash_MEMLIMIT_MODERATE;

	if (cry_fast_kdf()) {
		ops = crypto_pwhash_OPSLIMIT_MIN;
		mem = crypto_pwhash_MEMLIMIT_MIN;
	}
	return cry_pw_protect_params(passphrase, secret, ops, mem, out);
}

enum err
cry_pw_unprotect(const struct cry_secret *passphrase, struct span blob,
    struct cry_secret **out)
{
	uint8_t key[CRY_KEY_LEN];
	struct cry_secret *s = NULL;
	uint64_t ops, mem;
	unsigned long long mlen = 0;
	enum err r = ERR_INTERNAL;
	const uint8_t *hdr = blob.p;

	*out = NULL;
	if (blob.len < CRY_PW_HDR_LEN + 16 ||
	    blob.len > CRY_PW_HDR_LEN + 16 + CRY_PW_SECRET_MAX)
		return ERR_CORRUPT;
	if (memcmp(hdr, CRY_PW_MAGIC, 4) != 0 || hdr[4] != CRY_PW_VERSION ||
	    hdr[5] != CRY_PW_ALG_ARGON2ID13 || hdr[6] != 0 || hdr[7] != 0)
		return ERR_CORRUPT;
	ops = get_be64(hdr + 8);
	mem = get_be64(hdr + 16);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > CRY_PW_OPS_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > CRY_PW_MEM_MAX)
		return ERR_CORRUPT;
	if (cry_secret_len(passphrase) == 0)
		return ERR_AUTH;
	if ((r = cry_secret_new(blob.len - CRY_PW_HDR_LEN - 16, &s)) != ERR_OK)
		goto out;
	if ((r = pw_derive(passphrase, hdr + 24, ops, mem, key)) != ERR_OK)
		goto out;
	/* A wrong passphrase and an altered blob look the same: ERR_AUTH. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cry_secret_data_mut(s),
	        &mlen, NULL, blob.p + CRY_PW_HDR_LEN, blob.len - CRY_PW_HDR_LEN,
	        hdr, CRY_PW_HDR_LEN, hdr + 24 + CRY_PW_SALT_LEN, key) != 0) {
		r = ERR_AUTH;
		goto out;
	}
	*out = s;
	s = NULL; /* transferred */
	r = ERR_OK;
out:
	sodium_memzero(key, sizeof(key));
	cry_secret_free(s);
	return r;
}

enum err
cry_pwhash_str(const struct cry_secret *pw, char out[static 128])
{
	unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

	memset(out, 0, 128);
	if (cry_fast_kdf()) {
		ops = crypto_pwhash_OPSLIMIT_MIN;
		mem = crypto_pwhash_MEMLIMIT_MIN;
	}
	/* INTERACTIVE limits: an account login must answer quickly. */
	if (crypto_pwhash_str_alg(out, (const char *)cry_secret_data(pw),
	        cry_secret_len(pw), ops, mem,
	        crypto_pwhash_ALG_ARGON2ID13) != 0)
		return ERR_NOMEM;
	return ERR_OK;
}

bool
cry_pwhash_verify(const char *hash, const void *pw, size_t pw_len)
{
	char buf[crypto_pwhash_STRBYTES];
	size_t n;

	if (hash == NULL || pw == NULL)
		return false;
	/* The stored string must be a complete Argon2id encoding. */
	n = strnlen(hash, sizeof(buf));
	if (n == 0 || n >= sizeof(buf) || strncmp(hash, "$argon2id$", 10) != 0)
		return false;
	memcpy(buf, hash, n + 1);
	return crypto_pwhash_str_verify(buf, pw, pw_len) == 0;
}

/* ---- reading a passphrase ---- */

/* Strips the first line of buf[0..n) to its content; returns its length. */
static size_t
first_line(const uint8_t *buf, size_t n)
{
	size_t i = 0;

	while (i < n && buf[i] != '\n')
		i++;
	if (i > 0 && buf[i - 1] == '\r')
		i--;
	return i;
}

static enum err
passphrase_from_file(const char *file, struct cry_secret **out)
{
	uint8_t buf[CRY_PASSPHRASE_MAX + 2];
	struct stat st;
	size_t n = 0, len;
	ssize_t k;
	enum err r = ERR_INTERNAL;
	int fd;

	/* O_NOFOLLOW: a passphrase file is never read through a link. */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_err("cannot open passphrase file: %s", strerror(errno));
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = ERR_INVALID;
		goto out;
	}
	if ((st.st_mode & 077) != 0)
		log_warn("passphrase file is readable by group or others");
	while (n < sizeof(buf)) {
		k = read(fd, buf + n, sizeof(buf) - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = ERR_IO;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	len = first_line(buf, n);
	if (len > CRY_PASSPHRASE_MAX) {
		r = ERR_TOO_BIG;
		goto out;
	}
	if (len == 0) {
		r = ERR_INVALID;
		goto out;
	}
	r = cry_secret_from(buf, len, out);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}

static volatile sig_atomic_t tty_signo;

static void
tty_handler(int signo)
{
	tty_signo = signo;
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP,
    SIGTTIN, SIGTTOU};
#define TTY_NSIG (sizeof(tty_signals) / sizeof(tty_signals[0]))

/*
 * One prompt on the terminal with echo off. On a signal the terminal is
 * restored first and the signal re-raised (like readpassphrase(3)).
 */
static enum err
tty_ask(int fd, const char *prompt, uint8_t *buf, size_t cap, size_t *len)
{
	struct sigaction sa, old[TTY_NSIG];
	struct termios term, saved;
	bool restore = false;
	size_t n = 0;
	ssize_t k;
	enum err r = ERR_INTERNAL;
	char c;

	*len = 0;
	tty_signo = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_handler; /* no SA_RESTART: read() sees EINTR */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < TTY_NSIG; i++)
		(void)sigaction(tty_signals[i], &sa, &old[i]);
	if (tcgetattr(fd, &saved) == 0) {
		term = saved;
		term.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		if (tcsetattr(fd, TCSAFLUSH, &term) == 0)
			restore = true;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = ERR_IO;
		goto out;
	}
	for (;;) {
		k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR && tty_signo == 0)
			continue;
		if (k < 0 || tty_signo != 0) {
			r = ERR_IO;
			goto out;
		}
		if (k == 0 || c == '\n' || c == '\r')
			break;
		if (n < cap)
			buf[n] = (uint8_t)c;
		n++;
	}
	c = 0;
	if (n > cap) {
		r = ERR_TOO_BIG;
		goto out;
	}
	*len = n;
	r = ERR_OK;
out:
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
	if (write(fd, "\n", 1) < 0 && r == ERR_OK)
		r = ERR_IO;
	for (size_t i = 0; i < TTY_NSIG; i++)
		(void)sigaction(tty_signals[i], &old[i], NULL);
	if (tty_signo != 0)
		(void)raise(tty_signo);
	return r;
}

static enum err
passphrase_from_tty(const char *prompt, bool confirm, struct cry_secret **out)
{
	uint8_t a[CRY_PASSPHRASE_MAX], b[CRY_PASSPHRASE_MAX];
	size_t alen = 0, blen = 0;
	enum err r = ERR_INTERNAL;
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_err("no terminal to ask for a passphrase "
		        "(use --passphrase-file)");
		return ERR_INVALID;
	}
	if ((r = tty_ask(fd, prompt, a, sizeof(a), &alen)) != ERR_OK)
		goto out;
	if (alen == 0) {
		r = ERR_INVALID;
		goto out;
	}
	if (confirm) {
		if ((r = tty_ask(fd, "確認 / Again: ", b, sizeof(b), &blen)) !=
		    ERR_OK)
			goto out;
		if (blen != alen || !cry_equal(a, b, alen)) {
			log_err("passphrases do not match");
			r = ERR_INVALID;
			goto out;
		}
	}
	r = cry_secret_from(a, alen, out);
out:
	sodium_memzero(a, sizeof(a));
	sodium_memzero(b, sizeof(b));
	close(fd);
	return r;
}

enum err
cry_passphrase_read(const char *file, const char *prompt, bool confirm,
    struct cry_secret **out)
{
	*out = NULL;
	if (file != NULL)
		return passphrase_from_file(file, out);
	return passphrase_from_tty(
	    prompt != NULL ? prompt : "Passphrase: ", confirm, out);
}
