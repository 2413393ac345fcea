/*
 * crypto/crypto_internal.h - crypto/-private helpers and test-only entry
 * points. Only the .c files of crypto/ and the crypto unit tests and benchmarks
 * include this; other modules use crypto/crypto.h.
 */
#ifndef CRYPTO_CRYPTO_INTERNAL_H
#define CRYPTO_CRYPTO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* ---- passphrase blob (docs/format.md "Passphrase-protected secret") ---- */
#define CRY_PW_MAGIC          "KPW\x00" /* 4 bytes */
#define CRY_PW_VERSION        1
#define CRY_PW_ALG_ARGON2ID13 1
#define CRY_PW_SALT_LEN       16
#define CRY_PW_NONCE_LEN      24
/* magic 4, version 1, alg 1, reserved 2, ops 8, mem 8, salt 16, nonce 24 */
#define CRY_PW_HDR_LEN 64

/* True when KURA_TEST_FAST_KDF=1 (tests only: Argon2 MIN limits). */
bool cry_fast_kdf(void);
/* cry_pw_protect with explicit Argon2id limits (ops, mem in bytes). */
MUST_CHECK enum err cry_pw_protect_params(const struct cry_secret *passphrase,
    const struct cry_secret *secret, uint64_t ops, uint64_t mem,
    struct bytes *out);
/* Deterministic Ed25519 key pair from a 32-byte seed (test vectors). */
MUST_CHECK enum err cry_sign_keypair_from_seed(const uint8_t seed[static 32],
    uint8_t pk[static CRY_SIGN_PK_LEN], struct cry_secret **sk);

/* ---- signed notes ---- */
#define CRY_NOTE_MAX_SIGS 100 /* signature lines we accept in one note */
#define CRY_NOTE_NAME_MAX 256 /* bytes of a key name */

/* ---- document bodies (docs/format.md "Document body") ---- */
#define CRY_DOC_MAGIC      "KURADOC\x00" /* 8 bytes */
#define CRY_DOC_VERSION    1
#define CRY_DOC_HDR_LEN    64
#define CRY_DOC_PREFIX_LEN 16
#define CRY_DOC_TAG_LEN    16
#define CRY_DOC_CHUNK_MIN  1024u
#define CRY_DOC_CHUNK_MAX  (1u << 24)
/* Incomplete chunks a writer may hold in memory before ERR_TOO_BIG. */
#define CRY_DOC_MAX_PENDING 256

/* Builds the 64-byte header, its tag included. */
void cry_doc_header(const struct cry_secret *key,
    const uint8_t doc_id[static CRY_DOC_ID_LEN], uint32_t chunk_size,
    const uint8_t prefix[static CRY_DOC_PREFIX_LEN],
    uint8_t hdr[static CRY_DOC_HDR_LEN]);
/*
 * Seals chunk idx: out receives len + CRY_DOC_TAG_LEN bytes. ERR_NOMEM or
 * ERR_CRYPTO only if libcrypto cannot make a cipher context.
 */
MUST_CHECK enum err cry_doc_chunk_seal(const uint8_t hdr[static CRY_DOC_HDR_LEN],
    const uint8_t doc_id[static CRY_DOC_ID_LEN], const struct cry_secret *key,
    uint64_t idx, bool last, const uint8_t *pt, size_t len, uint8_t *out);
/* Verifies then decrypts chunk idx into pt; ERR_CORRUPT on any mismatch. */
MUST_CHECK enum err cry_doc_chunk_open(
    const uint8_t hdr[static CRY_DOC_HDR_LEN],
    const uint8_t doc_id[static CRY_DOC_ID_LEN], const struct cry_secret *key,
    uint64_t idx, bool last, const uint8_t *ct, size_t ct_len, uint8_t *pt);

/*
 * Test-only: cry_doc_writer_open with a fixed nonce prefix, so that a
 * known-answer vector can be committed (tests/data/). Never use a fixed
 * prefix twice with the same key outside tests.
 */
MUST_CHECK enum err cry_doc_writer_open_fixed(int fd,
    const struct cry_secret *key, const uint8_t doc_id[static CRY_DOC_ID_LEN],
    uint32_t chunk_size, const uint8_t prefix[static CRY_DOC_PREFIX_LEN],
    struct cry_doc_writer **out);

#endif /* CRYPTO_CRYPTO_INTERNAL_H */
