/*
 * crypto/crypto.h - the only door to key material.
 *
 * Wraps libsodium (and libcrypto's SHA-256, which uses the CPU's SHA
 * instructions): modules above this one never include <sodium.h>. Secret
 * keys live in sodium_malloc'd memory behind the opaque struct cry_secret
 * and are wiped on free. Nothing here logs secrets, touches SQLite, or
 * releases plaintext that failed authentication. Call cry_init() first.
 */
#ifndef CRYPTO_CRYPTO_H
#define CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"

#define CRY_HASH_LEN      32    /* SHA-256 */
#define CRY_SIG_LEN       64    /* Ed25519 signature */
#define CRY_SIGN_PK_LEN   32    /* Ed25519 public key */
#define CRY_SIGN_SK_LEN   64    /* Ed25519 secret key (seed ‖ public key) */
#define CRY_BOX_PK_LEN    32    /* X25519 public key */
#define CRY_BOX_SK_LEN    32    /* X25519 secret key */
#define CRY_SEAL_OVERHEAD 48    /* crypto_box_SEALBYTES */
#define CRY_KEY_LEN       32    /* symmetric key (document key) */
#define CRY_DOC_ID_LEN    16    /* document id bound into every chunk */
#define CRY_DOC_CHUNK     65536 /* default chunk size */
#define CRY_NOTE_MAX      (1u << 20) /* largest signed note we parse */

/* ---- basics ---- */
MUST_CHECK enum err cry_init(void);
bool cry_equal(const void *a, const void *b, size_t len); /* constant time */
void cry_random(void *p, size_t len);

/* ---- SHA-256 (libcrypto: ~4x libsodium's speed here; SECURITY.md) ---- */
struct cry_sha256 {
	void *ctx; /* EVP_MD_CTX */
};
MUST_CHECK enum err cry_sha256_init(struct cry_sha256 *h);
void cry_sha256_update(struct cry_sha256 *h, const void *p, size_t len);
/* Writes the digest and releases the context. */
void cry_sha256_final(struct cry_sha256 *h, uint8_t out[static CRY_HASH_LEN]);
void cry_sha256_release(struct cry_sha256 *h); /* abandon; NULL-safe */
void cry_sha256(const void *p, size_t len, uint8_t out[static CRY_HASH_LEN]);

/* ---- secrets in guarded memory ---- */
struct cry_secret; /* opaque: sodium_malloc'd, wiped on free */
MUST_CHECK enum err cry_secret_new(size_t len, struct cry_secret **out);
/* A fresh random secret of len bytes. */
MUST_CHECK enum err cry_secret_random(size_t len, struct cry_secret **out);
MUST_CHECK enum err cry_secret_from(const void *p, size_t len,
    struct cry_secret **out);
size_t cry_secret_len(const struct cry_secret *s);
/*
 * Raw access for crypto/ internals and for the few callers that must hand
 * a secret to a library (libssh password check): keep the use short.
 */
const uint8_t *cry_secret_data(const struct cry_secret *s);
uint8_t *cry_secret_data_mut(struct cry_secret *s);
void cry_secret_free(struct cry_secret *s); /* NULL-safe; wipes */

/*
 * Reads a passphrase: from file (first line, without the newline; the file
 * must not be group/world readable... a warning only) when file != NULL,
 * else from the terminal without echo, asking twice when confirm. Never
 * from argv or the environment. ERR_INVALID when empty or mismatched.
 */
MUST_CHECK enum err cry_passphrase_read(const char *file, const char *prompt,
    bool confirm, struct cry_secret **out);

/* ---- key pairs ---- */
MUST_CHECK enum err cry_box_keypair(uint8_t pk[static CRY_BOX_PK_LEN],
    struct cry_secret **sk);
MUST_CHECK enum err cry_sign_keypair(uint8_t pk[static CRY_SIGN_PK_LEN],
    struct cry_secret **sk);

/* ---- sealing to a public key (crypto_box_seal) ---- */
/* Appends len(msg) + CRY_SEAL_OVERHEAD bytes to out. */
MUST_CHECK enum err cry_seal(const uint8_t pk[static CRY_BOX_PK_LEN],
    const struct cry_secret *msg, struct bytes *out);
/* ERR_CORRUPT if it was not sealed to this key pair or was altered. */
MUST_CHECK enum err cry_seal_open(const uint8_t pk[static CRY_BOX_PK_LEN],
    const struct cry_secret *sk, struct span sealed, struct cry_secret **out);

/* ---- passphrase protection: Argon2id + XChaCha20-Poly1305 ---- */
/* Blob = params, salt, nonce, ciphertext (docs/format.md). */
MUST_CHECK enum err cry_pw_protect(const struct cry_secret *passphrase,
    const struct cry_secret *secret, struct bytes *out);
/* ERR_AUTH on a wrong passphrase, ERR_CORRUPT on a malformed blob. */
MUST_CHECK enum err cry_pw_unprotect(const struct cry_secret *passphrase,
    struct span blob, struct cry_secret **out);
/* Account passwords: Argon2id string hashes (crypto_pwhash_str). */
MUST_CHECK enum err cry_pwhash_str(const struct cry_secret *pw,
    char out[static 128]);
bool cry_pwhash_verify(const char *hash, const void *pw, size_t pw_len);

/* ---- signatures ---- */
MUST_CHECK enum err cry_sign(const struct cry_secret *sk, struct span msg,
    uint8_t sig[static CRY_SIG_LEN]);
MUST_CHECK enum err cry_verify(const uint8_t pk[static CRY_SIGN_PK_LEN],
    struct span msg, const uint8_t sig[static CRY_SIG_LEN]);

/* ---- base64 (RFC 4648 §4, padded) ---- */
MUST_CHECK enum err cry_b64_encode(struct span in, struct bytes *out);
/* Strict: ERR_INVALID on bad characters, padding or length. */
MUST_CHECK enum err cry_b64_decode(const char *in, size_t len,
    struct bytes *out);

/* ---- C2SP signed notes (Ed25519, signature type 0x01) ---- */
/* Verifier key string: name+hex(keyid)+base64(0x01 ‖ pk). */
MUST_CHECK enum err cry_vkey_format(const char *name,
    const uint8_t pk[static CRY_SIGN_PK_LEN], struct bytes *out);
MUST_CHECK enum err cry_vkey_parse(const char *vkey, struct bytes *name_out,
    uint32_t *keyid, uint8_t pk[static CRY_SIGN_PK_LEN]);
/*
 * Signs text (must end with '\n', non-empty, valid UTF-8, no '\n\n' issue
 * per spec) as a note: text, a blank line, "— name base64(keyid‖sig)\n".
 */
MUST_CHECK enum err cry_note_sign(struct span text, const char *name,
    const struct cry_secret *sk, const uint8_t pk[static CRY_SIGN_PK_LEN],
    struct bytes *out);
/*
 * Verifies that note carries a valid signature by vkey. On success *text
 * is the note's text (borrowed from note, including its final '\n').
 * ERR_BAD_SIGNATURE when no signature line by that key verifies,
 * ERR_INVALID when the note is malformed.
 */
MUST_CHECK enum err cry_note_verify(struct span note, const char *vkey,
    struct span *text);

/* ---- document bodies: chunked XChaCha20-Poly1305 (docs/format.md) ---- */
struct cry_doc_writer;
struct cry_doc_reader;
struct cry_doc_result {
	uint64_t plain_size;
	uint8_t plain_sha256[CRY_HASH_LEN];
	uint64_t cipher_size;
	uint8_t cipher_sha256[CRY_HASH_LEN];
};
/*
 * Starts a document body on fd (empty, seekable, ours). Writes may then come
 * at any offset in any order; only incomplete chunks are held in memory and
 * a chunk is sealed once complete. Rewriting a byte of a sealed chunk with
 * a different value is ERR_INVALID (a nonce is never reused); the same
 * bytes again are accepted. chunk_size 0 means CRY_DOC_CHUNK (otherwise
 * 1024 .. 16 MiB, a multiple of 64, else ERR_INVALID). The writer keeps its
 * own copy of key. cry_doc_write returns ERR_TOO_BIG when more than 256
 * chunks would be incomplete at once or past 2^50 bytes; after ERR_IO only
 * abort is left. cipher_sha256 covers the whole file as written (header
 * included), so `sha256sum` of the file matches it.
 */
MUST_CHECK enum err cry_doc_writer_open(int fd, const struct cry_secret *key,
    const uint8_t doc_id[static CRY_DOC_ID_LEN], uint32_t chunk_size,
    struct cry_doc_writer **out);
MUST_CHECK enum err cry_doc_write(struct cry_doc_writer *w, uint64_t off,
    struct span data);
/* Bytes written so far (highest offset + 1). */
uint64_t cry_doc_writer_size(const struct cry_doc_writer *w);
/*
 * Seals the last chunk (ERR_INVALID if a hole remains) and fills res. The
 * writer is freed whatever the result. It does not fsync fd: the caller
 * does before relying on the body (vault/ batches the fsyncs of a
 * transaction just before its commit).
 */
MUST_CHECK enum err cry_doc_writer_finish(struct cry_doc_writer *w,
    struct cry_doc_result *res);
void cry_doc_writer_abort(struct cry_doc_writer *w); /* NULL-safe */

/*
 * Opens a body for reading; authenticates the header and the last chunk
 * (so truncation is caught at open). ERR_CORRUPT on any tampering, a wrong
 * key or a wrong doc_id. The reader keeps its own copy of key.
 */
MUST_CHECK enum err cry_doc_reader_open(int fd, const struct cry_secret *key,
    const uint8_t doc_id[static CRY_DOC_ID_LEN], struct cry_doc_reader **out);
uint64_t cry_doc_reader_size(const struct cry_doc_reader *r);
/*
 * Reads [off, off+len) authenticating only the chunks it touches; *nread is
 * short only at the end of the body (0 at or past it). On ERR_CORRUPT buf
 * is wiped and *nread is 0: no unauthenticated byte is released.
 */
MUST_CHECK enum err cry_doc_read(struct cry_doc_reader *r, uint64_t off,
    uint8_t *buf, size_t len, size_t *nread);
void cry_doc_reader_close(struct cry_doc_reader *r); /* NULL-safe */

#endif /* CRYPTO_CRYPTO_H */
