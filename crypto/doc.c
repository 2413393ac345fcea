/*
 * crypto/doc.c - document bodies: a 64-byte authenticated header, then
 * fixed-size chunks, each XChaCha20-Poly1305 with nonce = prefix ‖ be64(i)
 * and associated data = doc id ‖ be64(i) ‖ last flag ‖ header[0..48).
 * docs/format.md describes it byte by byte.
 *
 * Writer: writes come at any offset in any order. A chunk's plaintext is
 * buffered until all its bytes have arrived, then sealed and written; a
 * sealed index is recorded and never sealed again (nonce reuse). Every
 * full chunk is sealed with last = 0; finish seals the final, short (maybe
 * empty) chunk with last = 1, so the chunk count is implied by the file
 * size and truncation at any point, even at a chunk boundary, is caught.
 * The SHA-256 of plaintext and ciphertext are computed while chunks are
 * sealed in order; chunks sealed ahead of the hashing point are kept in
 * memory (bounded) until it reaches them, and past that bound the hashes
 * are recomputed by a re-read pass at finish.
 *
 * Sealing runs in libcrypto (seal_chunk_ctx below: the same bytes as
 * libsodium's XChaCha20-Poly1305-IETF, about 4x faster on this CPU);
 * opening stays in libsodium, which checks a tag before it writes any
 * plaintext.
 *
 * Reader: the header tag and the last chunk are verified at open; a read
 * decrypts and verifies only the chunks it touches, and on any failure
 * wipes what it had put in the caller's buffer.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "common/fsx.h"
#include "common/log.h"
#include "common/banned.h"

static_assert(CRY_DOC_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES,
    "tag");
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ==
                  CRY_DOC_PREFIX_LEN + 8,
    "nonce");

#define HDR_AUTH_LEN  48 /* header bytes covered by its tag and every AD */
#define AD_LEN        (CRY_DOC_ID_LEN + 8 + 1 + HDR_AUTH_LEN)
#define HDR_NONCE_IDX UINT64_MAX /* no chunk ever has this index */
/* Plaintext size limit: keeps every offset computation far from 2^64. */
#define DOC_MAX_SIZE ((uint64_t)1 << 50)
/* Chunks sealed ahead of the hashing point that we keep in memory. */
#define DOC_MAX_RETAINED 64

static const char hdr_label[] = "kura-doc-header-v1";

/*
 * In-order hashing moves to two helper threads once a body passes
 * HASH_THREAD_AFTER chunks, one per digest: each SHA-256 pass costs about
 * as much as the cipher and the caller's own work together, so the three
 * run side by side (tests/bench/b10-aead.sh, b20-vault.sh). HASH_SLOTS
 * chunks may wait for each thread; ciphertext is sealed straight into the
 * ciphertext thread's slot.
 */
#define HASH_THREAD_AFTER 16
#define HASH_SLOTS        32

struct hasher {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_free;
	uint8_t *buf[HASH_SLOTS];
	size_t len[HASH_SLOTS], cap;
	uint64_t head, tail; /* filled by the writer / hashed by the thread */
	bool stop;
	struct cry_sha256 *h;
};

struct pend {
	uint64_t idx;
	uint8_t *buf;    /* chunk_size bytes of plaintext */
	uint64_t *bits;  /* which bytes have arrived */
	uint32_t filled; /* how many */
	bool retained;   /* already sealed; kept only for the hash */
};

struct cry_doc_writer {
	int fd;
	struct cry_secret *key;
	uint8_t doc_id[CRY_DOC_ID_LEN];
	uint8_t hdr[CRY_DOC_HDR_LEN];
	uint32_t csize;
	uint64_t size;    /* highest offset written + 1 */
	uint64_t *sealed; /* bit per chunk index */
	size_t sealed_words;
	struct pend **pend; /* incomplete (and retained) chunks */
	size_t npend, nincomplete, nretained;
	struct pend *spare; /* one freed pend kept for reuse */
	uint8_t *ct;        /* csize + tag */
	EVP_CIPHER_CTX *aead; /* ChaCha20-Poly1305, re-keyed per chunk */
	uint64_t hash_next; /* next chunk index the hashes need */
	bool hash_in_order; /* false: recompute at finish */
	bool broken;        /* an I/O error happened: only abort is left */
	bool no_thread;     /* the helper threads could not start */
	struct hasher *hzp, *hzc; /* NULL: that digest is hashed inline */
	struct cry_sha256 hp, hc;
};

struct cry_doc_reader {
	int fd;
	struct cry_secret *key;
	uint8_t doc_id[CRY_DOC_ID_LEN];
	uint8_t hdr[CRY_DOC_HDR_LEN];
	uint32_t csize;
	uint64_t size; /* plaintext */
	uint64_t nchunks;
	uint8_t *ct;     /* csize + tag */
	uint8_t *pt;     /* one decrypted chunk (cache) */
	uint64_t pt_idx; /* UINT64_MAX: empty */
	size_t pt_len;
};

static void
be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
chunk_off(uint32_t csize, uint64_t idx)
{
	return CRY_DOC_HDR_LEN + idx * ((uint64_t)csize + CRY_DOC_TAG_LEN);
}

static void
make_nonce_ad(const uint8_t *hdr, const uint8_t *doc_id, uint64_t idx,
    bool last, uint8_t nonce[static 24], uint8_t ad[static AD_LEN])
{
	memcpy(nonce, hdr + 16, CRY_DOC_PREFIX_LEN);
	be64(nonce + CRY_DOC_PREFIX_LEN, idx);
	memcpy(ad, doc_id, CRY_DOC_ID_LEN);
	be64(ad + CRY_DOC_ID_LEN, idx);
	ad[CRY_DOC_ID_LEN + 8] = last ? 1 : 0;
	memcpy(ad + CRY_DOC_ID_LEN + 9, hdr, HDR_AUTH_LEN);
}

/* The header tag: the AEAD of nothing under the reserved nonce index. */
static void
header_tag(const uint8_t *hdr, const uint8_t *doc_id, const uint8_t *key,
    uint8_t tag[static CRY_DOC_TAG_LEN])
{
	uint8_t nonce[24],
	    ad[sizeof(hdr_label) - 1 + HDR_AUTH_LEN + CRY_DOC_ID_LEN];
	unsigned long long maclen = 0;
	uint8_t none[1] = {0};

	memcpy(nonce, hdr + 16, CRY_DOC_PREFIX_LEN);
	be64(nonce + CRY_DOC_PREFIX_LEN, HDR_NONCE_IDX);
	memcpy(ad, hdr_label, sizeof(hdr_label) - 1);
	memcpy(ad + sizeof(hdr_label) - 1, hdr, HDR_AUTH_LEN);
	memcpy(ad + sizeof(hdr_label) - 1 + HDR_AUTH_LEN, doc_id,
	    CRY_DOC_ID_LEN);
	INVARIANT(crypto_aead_xchacha20poly1305_ietf_encrypt_detached(none, tag,
	              &maclen, none, 0, ad, sizeof(ad), NULL, nonce, key) == 0);
}

void
cry_doc_header(const struct cry_secret *key,
    const uint8_t doc_id[static CRY_DOC_ID_LEN], uint32_t chunk_size,
    const uint8_t prefix[static CRY_DOC_PREFIX_LEN],
    uint8_t hdr[static CRY_DOC_HDR_LEN])
{
	memset(hdr, 0, CRY_DOC_HDR_LEN);
	memcpy(hdr, CRY_DOC_MAGIC, 8);
	hdr[8] = CRY_DOC_VERSION;
	hdr[9] = 1; /* XChaCha20-Poly1305-IETF */
	hdr[12] = (uint8_t)(chunk_size >> 24);
	hdr[13] = (uint8_t)(chunk_size >> 16);
	hdr[14] = (uint8_t)(chunk_size >> 8);
	hdr[15] = (uint8_t)chunk_size;
	memcpy(hdr + 16, prefix, CRY_DOC_PREFIX_LEN);
	header_tag(hdr, doc_id, cry_secret_data(key), hdr + HDR_AUTH_LEN);
}

/* A ChaCha20-Poly1305 (RFC 8439) context of libcrypto, keyed per chunk. */
static enum err
aead_ctx_new(EVP_CIPHER_CTX **out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	*out = NULL;
	if (c == NULL)
		return ERR_NOMEM;
	if (EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, NULL, NULL) !=
	    1) {
		EVP_CIPHER_CTX_free(c);
		return ERR_CRYPTO;
	}
	*out = c;
	return ERR_OK;
}

/*
 * XChaCha20-Poly1305-IETF as libsodium defines it: subkey =
 * HChaCha20(key, nonce[0..16)), then ChaCha20-Poly1305-IETF under the
 * subkey with the nonce 0^4 ‖ nonce[16..24). The second step runs in
 * libcrypto. out receives len + CRY_DOC_TAG_LEN bytes. tests/unit/
 * test_crypto.c checks the result against libsodium and the committed
 * vectors.
 */
static void
xchacha_seal(EVP_CIPHER_CTX *c, const uint8_t *key,
    const uint8_t nonce[static 24], const uint8_t *ad, size_t ad_len,
    const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t sub[crypto_core_hchacha20_OUTPUTBYTES], iv[12] = {0};
	int n = 0, adl = 0, ptl = 0;

	INVARIANT(size_to_int(ad_len, &adl) == ERR_OK &&
	          size_to_int(len, &ptl) == ERR_OK);
	INVARIANT(crypto_core_hchacha20(sub, nonce, key, NULL) == 0);
	memcpy(iv + 4, nonce + 16, 8);
	/* A keyed context of the right cipher cannot fail these. */
	INVARIANT(EVP_EncryptInit_ex(c, NULL, NULL, sub, iv) == 1);
	sodium_memzero(sub, sizeof(sub));
	INVARIANT(EVP_EncryptUpdate(c, NULL, &n, ad, adl) == 1);
	n = 0;
	if (ptl > 0)
		INVARIANT(EVP_EncryptUpdate(c, out, &n, pt, ptl) == 1 &&
		          n == ptl);
	INVARIANT(EVP_EncryptFinal_ex(c, out + len, &n) == 1 && n == 0);
	INVARIANT(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG,
	              CRY_DOC_TAG_LEN, out + len) == 1);
}

static void
seal_chunk_ctx(EVP_CIPHER_CTX *c, const uint8_t *hdr, const uint8_t *doc_id,
    const struct cry_secret *key, uint64_t idx, bool last, const uint8_t *pt,
    size_t len, uint8_t *out)
{
	uint8_t nonce[24], ad[AD_LEN];

	make_nonce_ad(hdr, doc_id, idx, last, nonce, ad);
	xchacha_seal(c, cry_secret_data(key), nonce, ad, sizeof(ad), pt, len,
	    out);
}

enum err
cry_doc_chunk_seal(const uint8_t hdr[static CRY_DOC_HDR_LEN],
    const uint8_t doc_id[static CRY_DOC_ID_LEN], const struct cry_secret *key,
    uint64_t idx, bool last, const uint8_t *pt, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = NULL;
	enum err r;

	if ((r = aead_ctx_new(&c)) != ERR_OK)
		return r;
	seal_chunk_ctx(c, hdr, doc_id, key, idx, last, pt, len, out);
	EVP_CIPHER_CTX_free(c); /* wipes the subkey schedule */
	return ERR_OK;
}

enum err
cry_doc_chunk_open(const uint8_t hdr[static CRY_DOC_HDR_LEN],
    const uint8_t doc_id[static CRY_DOC_ID_LEN], const struct cry_secret *key,
    uint64_t idx, bool last, const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	uint8_t nonce[24], ad[AD_LEN];

	if (ct_len < CRY_DOC_TAG_LEN)
		return ERR_CORRUPT;
	make_nonce_ad(hdr, doc_id, idx, last, nonce, ad);
	/* libsodium checks the tag before it writes any plaintext. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct,
	        ct_len, ad, sizeof(ad), nonce, cry_secret_data(key)) != 0)
		return ERR_CORRUPT;
	return ERR_OK;
}

/* ---- writer ---- */

static bool
is_sealed(const struct cry_doc_writer *w, uint64_t idx)
{
	uint64_t word = idx / 64;

	return word < w->sealed_words &&
	       (w->sealed[word] >> (idx % 64) & 1) != 0;
}

static enum err
mark_sealed(struct cry_doc_writer *w, uint64_t idx)
{
	uint64_t word = idx / 64;

	if (word >= w->sealed_words) {
		size_t n = w->sealed_words ? w->sealed_words : 64;
		uint64_t *p;

		while (n <= word)
			n *= 2;
		if ((p = calloc(n, sizeof(*p))) == NULL)
			return ERR_NOMEM;
		if (w->sealed_words > 0)
			memcpy(p, w->sealed, w->sealed_words * sizeof(*p));
		free(w->sealed);
		w->sealed = p;
		w->sealed_words = n;
	}
	w->sealed[word] |= (uint64_t)1 << (idx % 64);
	return ERR_OK;
}

static void
pend_free(struct cry_doc_writer *w, struct pend *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p->buf, w->csize);
	if (w->spare == NULL) {
		memset(p->bits, 0, w->csize / 8);
		p->filled = 0;
		p->retained = false;
		w->spare = p;
		return;
	}
	free(p->buf);
	free(p->bits);
	free(p);
}

static enum err
pend_new(struct cry_doc_writer *w, uint64_t idx, struct pend **out)
{
	struct pend *p = w->spare;

	*out = NULL;
	if (w->npend >= CRY_DOC_MAX_PENDING + DOC_MAX_RETAINED ||
	    w->nincomplete >= CRY_DOC_MAX_PENDING)
		return ERR_TOO_BIG;
	if (p != NULL) {
		w->spare = NULL;
	} else {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return ERR_NOMEM;
		p->buf = malloc(w->csize);
		p->bits = calloc(w->csize / 64, sizeof(uint64_t));
		if (p->buf == NULL || p->bits == NULL) {
			free(p->buf);
			free(p->bits);
			free(p);
			return ERR_NOMEM;
		}
	}
	p->idx = idx;
	w->pend[w->npend++] = p;
	*out = p;
	return ERR_OK;
}

static void
pend_remove(struct cry_doc_writer *w, struct pend *p)
{
	for (size_t i = 0; i < w->npend; i++) {
		if (w->pend[i] == p) {
			w->pend[i] = w->pend[--w->npend];
			break;
		}
	}
}

static struct pend *
pend_find(const struct cry_doc_writer *w, uint64_t idx)
{
	/* Most writes go to the newest chunk: search from the end. */
	for (size_t i = w->npend; i > 0; i--) {
		if (w->pend[i - 1]->idx == idx)
			return w->pend[i - 1];
	}
	return NULL;
}

/* Marks [from, from+len) arrived; returns how many bytes were new. */
static uint32_t
bits_set(uint64_t *bits, uint32_t from, uint32_t len)
{
	uint32_t added = 0, end = from + len;

	while (from < end) {
		uint32_t word = from / 64, lo = from % 64;
		uint32_t n = end - from < 64 - lo ? end - from : 64 - lo;
		uint64_t mask =
		    (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1) << lo);

		added += (uint32_t)__builtin_popcountll(mask & ~bits[word]);
		bits[word] |= mask;
		from += n;
	}
	return added;
}

static void *
hasher_main(void *arg)
{
	struct hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		size_t slot;

		while (h->head == h->tail && !h->stop)
			pthread_cond_wait(&h->cv_work, &h->mu);
		if (h->head == h->tail)
			break;
		slot = (size_t)(h->tail % HASH_SLOTS);
		pthread_mutex_unlock(&h->mu);
		/* Slots in [tail, head) belong to this thread. */
		cry_sha256_update(h->h, h->buf[slot], h->len[slot]);
		pthread_mutex_lock(&h->mu);
		h->tail++;
		pthread_cond_signal(&h->cv_free);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void
hasher_free(struct hasher *h)
{
	for (size_t i = 0; i < HASH_SLOTS; i++) {
		if (h->buf[i] != NULL)
			sodium_memzero(h->buf[i], h->cap);
		free(h->buf[i]);
	}
	free(h);
}

/* A thread feeding digest d from slots of cap bytes; NULL if it cannot. */
static struct hasher *
hasher_start(struct cry_sha256 *d, size_t cap)
{
	struct hasher *h;
	pthread_attr_t attr;
	bool started;
	int stage = 0;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->h = d;
	h->cap = cap;
	for (size_t i = 0; i < HASH_SLOTS; i++)
		if ((h->buf[i] = malloc(cap)) == NULL)
			goto fail;
	if (pthread_mutex_init(&h->mu, NULL) != 0)
		goto fail;
	stage = 1;
	if (pthread_cond_init(&h->cv_work, NULL) != 0)
		goto fail;
	stage = 2;
	if (pthread_cond_init(&h->cv_free, NULL) != 0)
		goto fail;
	stage = 3;
	/*
	 * A small stack: sessions run under RLIMIT_AS. If the thread cannot
	 * start, the writer hashes inline.
	 */
	if (pthread_attr_init(&attr) != 0)
		goto fail;
	(void)pthread_attr_setstacksize(&attr, 256 * 1024);
	started = pthread_create(&h->th, &attr, hasher_main, h) == 0;
	pthread_attr_destroy(&attr);
	if (!started)
		goto fail;
	return h;
fail:
	if (stage >= 3)
		pthread_cond_destroy(&h->cv_free);
	if (stage >= 2)
		pthread_cond_destroy(&h->cv_work);
	if (stage >= 1)
		pthread_mutex_destroy(&h->mu);
	hasher_free(h);
	return NULL;
}

/* Waits until everything queued is hashed and the thread has ended. */
static void
hasher_stop(struct hasher **hp)
{
	struct hasher *h = *hp;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->cv_work);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL);
	pthread_cond_destroy(&h->cv_free);
	pthread_cond_destroy(&h->cv_work);
	pthread_mutex_destroy(&h->mu);
	hasher_free(h);
	*hp = NULL;
}

/* The free slot at head: the writer's until hasher_push moves past it. */
static uint8_t *
hasher_slot(struct hasher *h)
{
	pthread_mutex_lock(&h->mu);
	while (h->head - h->tail == HASH_SLOTS)
		pthread_cond_wait(&h->cv_free, &h->mu);
	pthread_mutex_unlock(&h->mu);
	return h->buf[h->head % HASH_SLOTS];
}

static void
hasher_push(struct hasher *h, size_t len)
{
	INVARIANT(len <= h->cap);
	h->len[h->head % HASH_SLOTS] = len;
	pthread_mutex_lock(&h->mu);
	h->head++;
	pthread_cond_signal(&h->cv_work);
	pthread_mutex_unlock(&h->mu);
}

static void
hashers_stop(struct cry_doc_writer *w)
{
	hasher_stop(&w->hzp);
	hasher_stop(&w->hzc);
}

/*
 * Where the next in-order chunk's ciphertext goes: straight into the
 * ciphertext thread's next slot (no copy), or w->ct when hashing inline.
 * The threads start once the body is long enough to be worth them.
 */
static uint8_t *
ct_out(struct cry_doc_writer *w)
{
	if (!w->no_thread && w->hzp == NULL && w->hzc == NULL &&
	    w->hash_next >= HASH_THREAD_AFTER) {
		w->hzp = hasher_start(&w->hp, w->csize);
		w->hzc = hasher_start(&w->hc, (size_t)w->csize + CRY_DOC_TAG_LEN);
		w->no_thread = w->hzp == NULL && w->hzc == NULL;
	}
	return w->hzc != NULL ? hasher_slot(w->hzc) : w->ct;
}

/*
 * Feeds the next chunk, in order, to both digests; ct is what ct_out
 * returned (the ciphertext slot is handed over, not copied).
 */
static void
hash_chunk(struct cry_doc_writer *w, const uint8_t *pt, size_t len,
    const uint8_t *ct)
{
	if (w->hzp != NULL) {
		memcpy(hasher_slot(w->hzp), pt, len);
		hasher_push(w->hzp, len);
	} else {
		cry_sha256_update(&w->hp, pt, len);
	}
	if (w->hzc != NULL)
		hasher_push(w->hzc, len + CRY_DOC_TAG_LEN);
	else
		cry_sha256_update(&w->hc, ct, len + CRY_DOC_TAG_LEN);
}

static void
drop_retained(struct cry_doc_writer *w)
{
	for (size_t i = w->npend; i > 0; i--) {
		struct pend *p = w->pend[i - 1];

		if (p->retained) {
			pend_remove(w, p);
			pend_free(w, p);
		}
	}
	w->nretained = 0;
	w->hash_in_order = false;
}

/*
 * Seals chunk idx (plaintext pt, len bytes) and writes it. p, when not
 * NULL, is the pending buffer pt lives in: it is either freed or kept as a
 * retained copy for the in-order hash.
 */
static enum err
seal_chunk(struct cry_doc_writer *w, uint64_t idx, const uint8_t *pt,
    size_t len, bool last, struct pend *p)
{
	bool in_order = w->hash_in_order && idx == w->hash_next;
	uint8_t *out = in_order ? ct_out(w) : w->ct;
	enum err r = ERR_INTERNAL;

	INVARIANT(!is_sealed(w, idx) && len <= w->csize);
	/* Record the index first: whatever happens next, never again. */
	if ((r = mark_sealed(w, idx)) != ERR_OK)
		return r;
	seal_chunk_ctx(w->aead, w->hdr, w->doc_id, w->key, idx, last, pt, len,
	    out);
	if ((r = fsx_pwrite_all(w->fd, out, len + CRY_DOC_TAG_LEN,
	         chunk_off(w->csize, idx))) != ERR_OK) {
		log_err("cannot write a document chunk");
		w->broken = true;
		return r;
	}
	if (in_order) {
		hash_chunk(w, pt, len, out);
		w->hash_next++;
		if (p != NULL) {
			pend_remove(w, p);
			pend_free(w, p);
		}
		/* Catch up with chunks that were sealed ahead. */
		while (w->nretained > 0 &&
		       (p = pend_find(w, w->hash_next)) != NULL &&
		       p->retained) {
			out = ct_out(w);
			if ((r = fsx_pread_exact(w->fd, out,
			         w->csize + CRY_DOC_TAG_LEN,
			         chunk_off(w->csize, p->idx))) != ERR_OK) {
				w->broken = true;
				return ERR_IO;
			}
			hash_chunk(w, p->buf, w->csize, out);
			w->hash_next++;
			w->nretained--;
			pend_remove(w, p);
			pend_free(w, p);
		}
		return ERR_OK;
	}
	if (w->hash_in_order && !last && w->nretained < DOC_MAX_RETAINED) {
		/* Ahead of the hash: keep the plaintext until it catches up. */
		if (p == NULL) {
			if (pend_new(w, idx, &p) != ERR_OK) {
				drop_retained(w);
				return ERR_OK;
			}
			memcpy(p->buf, pt, len);
		}
		p->retained = true;
		w->nretained++;
		return ERR_OK;
	}
	if (w->hash_in_order)
		drop_retained(w);
	if (p != NULL) {
		pend_remove(w, p);
		pend_free(w, p);
	}
	return ERR_OK;
}

/* A write over an already sealed chunk: allowed only if nothing changes. */
static enum err
compare_sealed(struct cry_doc_writer *w, uint64_t idx, uint32_t within,
    const uint8_t *data, uint32_t n)
{
	uint8_t *pt = NULL;
	size_t clen = (size_t)w->csize + CRY_DOC_TAG_LEN;
	enum err r = ERR_INTERNAL;

	if ((pt = malloc(w->csize)) == NULL)
		return ERR_NOMEM;
	if ((r = fsx_pread_exact(w->fd, w->ct, clen,
	         chunk_off(w->csize, idx))) != ERR_OK)
		goto out;
	if ((r = cry_doc_chunk_open(w->hdr, w->doc_id, w->key, idx, false,
	         w->ct, clen, pt)) != ERR_OK)
		goto out;
	/* Not a secret comparison: both sides are the writer's plaintext. */
	r = memcmp(pt + within, data, n) == 0 ? ERR_OK : ERR_INVALID;
out:
	sodium_memzero(pt, w->csize);
	free(pt);
	return r;
}

enum err
cry_doc_writer_open_fixed(int fd, const struct cry_secret *key,
    const uint8_t doc_id[static CRY_DOC_ID_LEN], uint32_t chunk_size,
    const uint8_t prefix[static CRY_DOC_PREFIX_LEN],
    struct cry_doc_writer **out)
{
	struct cry_doc_writer *w = NULL;
	struct stat st;
	enum err r = ERR_INTERNAL;

	*out = NULL;
	if (chunk_size == 0)
		chunk_size = CRY_DOC_CHUNK;
	if (cry_secret_len(key) != CRY_KEY_LEN ||
	    chunk_size < CRY_DOC_CHUNK_MIN || chunk_size > CRY_DOC_CHUNK_MAX ||
	    chunk_size % 64 != 0)
		return ERR_INVALID;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0)
		return ERR_INVALID;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ERR_NOMEM;
	w->fd = fd;
	w->csize = chunk_size;
	w->hash_in_order = true;
	memcpy(w->doc_id, doc_id, CRY_DOC_ID_LEN);
	if ((r = cry_secret_from(cry_secret_data(key), CRY_KEY_LEN, &w->key)) !=
	    ERR_OK)
		goto out;
	r = ERR_NOMEM;
	if ((w->ct = malloc((size_t)chunk_size + CRY_DOC_TAG_LEN)) == NULL ||
	    (w->pend = calloc(CRY_DOC_MAX_PENDING + DOC_MAX_RETAINED,
	         sizeof(*w->pend))) == NULL)
		goto out;
	if ((r = aead_ctx_new(&w->aead)) != ERR_OK)
		goto out;
	cry_doc_header(w->key, w->doc_id, chunk_size, prefix, w->hdr);
	if ((r = cry_sha256_init(&w->hp)) != ERR_OK ||
	    (r = cry_sha256_init(&w->hc)) != ERR_OK)
		goto out;
	cry_sha256_update(&w->hc, w->hdr, sizeof(w->hdr));
	if ((r = fsx_pwrite_all(fd, w->hdr, sizeof(w->hdr), 0)) != ERR_OK)
		goto out;
	*out = w;
	w = NULL; /* transferred */
	r = ERR_OK;
out:
	cry_doc_writer_abort(w);
	return r;
}

enum err
cry_doc_writer_open(int fd, const struct cry_secret *key,
    const uint8_t doc_id[static CRY_DOC_ID_LEN], uint32_t chunk_size,
    struct cry_doc_writer **out)
{
	uint8_t prefix[CRY_DOC_PREFIX_LEN];

	/* A random 128-bit prefix per body: keys are never shared anyway. */
	randombytes_buf(prefix, sizeof(prefix));
	return cry_doc_writer_open_fixed(fd, key, doc_id, chunk_size, prefix,
	    out);
}

enum err
cry_doc_write(struct cry_doc_writer *w, uint64_t off, struct span data)
{
	const uint8_t *d = data.p;
	size_t left = data.len;
	enum err r = ERR_INTERNAL;

	if (w->broken)
		return ERR_IO;
	if (off > DOC_MAX_SIZE || data.len > DOC_MAX_SIZE - off)
		return ERR_TOO_BIG;
	while (left > 0) {
		uint64_t idx = off / w->csize;
		uint32_t within = (uint32_t)(off % w->csize);
		uint32_t n = w->csize - within;
		struct pend *p;

		if (left < n)
			n = (uint32_t)left;
		if (is_sealed(w, idx)) {
			if ((r = compare_sealed(w, idx, within, d, n)) !=
			    ERR_OK)
				return r;
		} else if ((p = pend_find(w, idx)) == NULL && n == w->csize) {
			/* The fast path: a whole chunk, sealed from data. */
			if ((r = seal_chunk(w, idx, d, n, false, NULL)) !=
			    ERR_OK)
				return r;
		} else {
			if (p == NULL) {
				if ((r = pend_new(w, idx, &p)) != ERR_OK)
					return r;
				w->nincomplete++;
			}
			memcpy(p->buf + within, d, n);
			p->filled += bits_set(p->bits, within, n);
			if (p->filled == w->csize) {
				w->nincomplete--;
				if ((r = seal_chunk(w, idx, p->buf, w->csize,
				         false, p)) != ERR_OK)
					return r;
			}
		}
		if (off + n > w->size)
			w->size = off + n;
		off += n;
		d += n;
		left -= n;
	}
	return ERR_OK;
}

uint64_t
cry_doc_writer_size(const struct cry_doc_writer *w)
{
	return w->size;
}

/* The re-read pass: hashes of the body as written, every chunk verified. */
static enum err
rehash(struct cry_doc_writer *w, uint64_t nchunks, struct cry_doc_result *res)
{
	uint8_t *pt = NULL;
	enum err r = ERR_INTERNAL;

	cry_sha256_release(&w->hp);
	cry_sha256_release(&w->hc);
	if ((pt = malloc(w->csize)) == NULL)
		return ERR_NOMEM;
	if ((r = cry_sha256_init(&w->hp)) != ERR_OK ||
	    (r = cry_sha256_init(&w->hc)) != ERR_OK)
		goto out;
	cry_sha256_update(&w->hc, w->hdr, sizeof(w->hdr));
	for (uint64_t i = 0; i < nchunks; i++) {
		bool last = i + 1 == nchunks;
		size_t len = last ? (size_t)(w->size % w->csize) : w->csize;

		if ((r = fsx_pread_exact(w->fd, w->ct, len + CRY_DOC_TAG_LEN,
		         chunk_off(w->csize, i))) != ERR_OK)
			goto out;
		if (cry_doc_chunk_open(w->hdr, w->doc_id, w->key, i, last,
		        w->ct, len + CRY_DOC_TAG_LEN, pt) != ERR_OK) {
			log_err("a chunk just written does not verify");
			r = ERR_CORRUPT;
			goto out;
		}
		cry_sha256_update(&w->hp, pt, len);
		cry_sha256_update(&w->hc, w->ct, len + CRY_DOC_TAG_LEN);
	}
	cry_sha256_final(&w->hp, res->plain_sha256);
	cry_sha256_final(&w->hc, res->cipher_sha256);
	r = ERR_OK;
out:
	sodium_memzero(pt, w->csize);
	free(pt);
	return r;
}

enum err
cry_doc_writer_finish(struct cry_doc_writer *w, struct cry_doc_result *res)
{
	uint64_t last = w->size / w->csize;
	uint32_t tail = (uint32_t)(w->size % w->csize);
	struct pend *p = pend_find(w, last);
	enum err r = ERR_INTERNAL;

	memset(res, 0, sizeof(*res));
	if (w->broken) {
		r = ERR_IO;
		goto out;
	}
	/* A hole: some chunk before the last is not complete. */
	if (w->nincomplete != (p != NULL ? 1u : 0u) ||
	    (p != NULL && p->filled != tail) || (p == NULL && tail != 0)) {
		r = ERR_INVALID;
		goto out;
	}
	for (uint64_t i = 0; i < last; i++) {
		if (!is_sealed(w, i)) {
			r = ERR_INVALID;
			goto out;
		}
	}
	if (p != NULL)
		w->nincomplete--;
	if ((r = seal_chunk(w, last, p != NULL ? p->buf : (const uint8_t *)"",
	         tail, true, p)) != ERR_OK)
		goto out;
	hashers_stop(w); /* the digests are complete only after this */
	res->plain_size = w->size;
	res->cipher_size = chunk_off(w->csize, last) + tail + CRY_DOC_TAG_LEN;
	if (w->hash_in_order && w->hash_next == last + 1) {
		cry_sha256_final(&w->hp, res->plain_sha256);
		cry_sha256_final(&w->hc, res->cipher_sha256);
	} else if ((r = rehash(w, last + 1, res)) != ERR_OK) {
		goto out;
	}
	r = ERR_OK;
out:
	if (r != ERR_OK)
		memset(res, 0, sizeof(*res));
	cry_doc_writer_abort(w);
	return r;
}

void
cry_doc_writer_abort(struct cry_doc_writer *w)
{
	if (w == NULL)
		return;
	hashers_stop(w);
	for (size_t i = 0; i < w->npend; i++) {
		sodium_memzero(w->pend[i]->buf, w->csize);
		free(w->pend[i]->buf);
		free(w->pend[i]->bits);
		free(w->pend[i]);
	}
	if (w->spare != NULL) {
		free(w->spare->buf);
		free(w->spare->bits);
		free(w->spare);
	}
	free(w->pend);
	free(w->ct);
	EVP_CIPHER_CTX_free(w->aead);
	free(w->sealed);
	cry_sha256_release(&w->hp);
	cry_sha256_release(&w->hc);
	cry_secret_free(w->key);
	free(w);
}

/* ---- reader ---- */

static enum err
read_chunk(struct cry_doc_reader *r, uint64_t idx, uint8_t *out,
    size_t *len_out)
{
	bool last = idx + 1 == r->nchunks;
	size_t len = last ? (size_t)(r->size % r->csize) : r->csize;
	enum err e;

	*len_out = 0;
	if ((e = fsx_pread_exact(r->fd, r->ct, len + CRY_DOC_TAG_LEN,
	         chunk_off(r->csize, idx))) != ERR_OK)
		return e == ERR_IO ? ERR_IO : ERR_CORRUPT;
	if ((e = cry_doc_chunk_open(r->hdr, r->doc_id, r->key, idx, last, r->ct,
	         len + CRY_DOC_TAG_LEN, out)) != ERR_OK)
		return e;
	*len_out = len;
	return ERR_OK;
}

enum err
cry_doc_reader_open(int fd, const struct cry_secret *key,
    const uint8_t doc_id[static CRY_DOC_ID_LEN], struct cry_doc_reader **out)
{
	struct cry_doc_reader *rd = NULL;
	uint8_t tag[CRY_DOC_TAG_LEN];
	struct stat st;
	uint64_t fsize, rest, full;
	size_t n;
	enum err r = ERR_INTERNAL;

	*out = NULL;
	if (cry_secret_len(key) != CRY_KEY_LEN)
		return ERR_INVALID;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return ERR_INVALID;
	fsize = (uint64_t)st.st_size;
	if (fsize < CRY_DOC_HDR_LEN + CRY_DOC_TAG_LEN)
		return ERR_CORRUPT;
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return ERR_NOMEM;
	rd->fd = fd;
	rd->pt_idx = UINT64_MAX;
	memcpy(rd->doc_id, doc_id, CRY_DOC_ID_LEN);
	if ((r = cry_secret_from(cry_secret_data(key), CRY_KEY_LEN,
	         &rd->key)) != ERR_OK)
		goto out;
	if ((r = fsx_pread_exact(fd, rd->hdr, sizeof(rd->hdr), 0)) != ERR_OK)
		goto out;
	r = ERR_CORRUPT;
	rd->csize = get_be32(rd->hdr + 12);
	if (memcmp(rd->hdr, CRY_DOC_MAGIC, 8) != 0 ||
	    rd->hdr[8] != CRY_DOC_VERSION || rd->hdr[9] != 1 ||
	    rd->hdr[10] != 0 || rd->hdr[11] != 0 ||
	    rd->csize < CRY_DOC_CHUNK_MIN || rd->csize > CRY_DOC_CHUNK_MAX ||
	    rd->csize % 64 != 0 || !sodium_is_zero(rd->hdr + 32, 16))
		goto out;
	header_tag(rd->hdr, rd->doc_id, cry_secret_data(rd->key), tag);
	if (!cry_equal(tag, rd->hdr + HDR_AUTH_LEN, CRY_DOC_TAG_LEN))
		goto out;
	/* rest = full chunks * (csize + 16) + (tail + 16), tail < csize. */
	rest = fsize - CRY_DOC_HDR_LEN - CRY_DOC_TAG_LEN;
	full = rest / ((uint64_t)rd->csize + CRY_DOC_TAG_LEN);
	rest -= full * ((uint64_t)rd->csize + CRY_DOC_TAG_LEN);
	if (rest >= rd->csize)
		goto out;
	rd->nchunks = full + 1;
	rd->size = full * rd->csize + rest;
	if (rd->size > DOC_MAX_SIZE)
		goto out;
	r = ERR_NOMEM;
	if ((rd->ct = malloc((size_t)rd->csize + CRY_DOC_TAG_LEN)) == NULL ||
	    (rd->pt = malloc(rd->csize)) == NULL)
		goto out;
	/* The last chunk carries the last flag: truncation shows here. */
	if ((r = read_chunk(rd, full, rd->pt, &n)) != ERR_OK)
		goto out;
	rd->pt_idx = full;
	rd->pt_len = n;
	*out = rd;
	rd = NULL; /* transferred */
	r = ERR_OK;
out:
	cry_doc_reader_close(rd);
	return r;
}

uint64_t
cry_doc_reader_size(const struct cry_doc_reader *r)
{
	return r->size;
}

enum err
cry_doc_read(struct cry_doc_reader *r, uint64_t off, uint8_t *buf, size_t len,
    size_t *nread)
{
	size_t done = 0;
	enum err e = ERR_INTERNAL;

	*nread = 0;
	if (off >= r->size || len == 0)
		return ERR_OK;
	if (len > r->size - off)
		len = (size_t)(r->size - off);
	while (done < len) {
		uint64_t idx = (off + done) / r->csize;
		size_t within = (size_t)((off + done) % r->csize), n, clen;

		n = r->csize - within;
		if (n > len - done)
			n = len - done;
		if (idx == r->pt_idx) {
			memcpy(buf + done, r->pt + within, n);
		} else if (within == 0 && n == r->csize) {
			/* A whole chunk: decrypt straight into buf. */
			if ((e = read_chunk(r, idx, buf + done, &clen)) !=
			    ERR_OK)
				goto fail;
		} else {
			r->pt_idx = UINT64_MAX;
			if ((e = read_chunk(r, idx, r->pt, &clen)) != ERR_OK)
				goto fail;
			r->pt_idx = idx;
			r->pt_len = clen;
			memcpy(buf + done, r->pt + within, n);
		}
		done += n;
	}
	*nread = len;
	return ERR_OK;
fail:
	/* Nothing of a read that failed reaches the caller. */
	sodium_memzero(buf, len);
	return e;
}

void
cry_doc_reader_close(struct cry_doc_reader *r)
{
	if (r == NULL)
		return;
	if (r->pt != NULL) {
		sodium_memzero(r->pt, r->csize);
		free(r->pt);
	}
	free(r->ct);
	cry_secret_free(r->key);
	free(r);
}
