/* audit/merkle.c - RFC 9162 §2.1 hashing, proofs and their verification. */
#include <string.h>

#include "audit/merkle.h"
#include "common/banned.h"

void
merkle_leaf_hash(const void *leaf, size_t len, uint8_t out[static CRY_HASH_LEN])
{
	struct cry_sha256 h;
	static const uint8_t zero = 0x00;
	uint8_t buf[512];

	/* Short leaves (nearly all events): one call, no context set-up. */
	if (len < sizeof(buf)) {
		buf[0] = 0x00;
		if (len > 0)
			memcpy(buf + 1, leaf, len);
		cry_sha256(buf, len + 1, out);
		return;
	}
	/* cry_sha256_init fails only when out of memory: fail closed. */
	INVARIANT(cry_sha256_init(&h) == ERR_OK);
	cry_sha256_update(&h, &zero, 1);
	cry_sha256_update(&h, leaf, len);
	cry_sha256_final(&h, out);
}

void
merkle_node_hash(const uint8_t l[static CRY_HASH_LEN],
    const uint8_t r[static CRY_HASH_LEN], uint8_t out[static CRY_HASH_LEN])
{
	uint8_t buf[1 + 2 * CRY_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l, CRY_HASH_LEN);
	memcpy(buf + 1 + CRY_HASH_LEN, r, CRY_HASH_LEN);
	cry_sha256(buf, sizeof(buf), out);
}

void
merkle_empty_root(uint8_t out[static CRY_HASH_LEN])
{
	cry_sha256("", 0, out);
}

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static unsigned
log2_exact(uint64_t k)
{
	unsigned l = 0;

	while (((uint64_t)1 << l) < k)
		l++;
	return l;
}

/*
 * MTH(D[start:start+len]) where start is a multiple of the largest power of
 * two <= len (always true inside the RFC recursion): the complete subtrees
 * of len's binary decomposition, folded from the right.
 */
static enum err
subtree_root(merkle_node_fn fn, void *ctx, uint64_t start, uint64_t len,
    uint8_t out[static CRY_HASH_LEN])
{
	uint8_t parts[64][CRY_HASH_LEN];
	unsigned np = 0;
	enum err r = ERR_INTERNAL;

	if (len == 0) {
		merkle_empty_root(out);
		return ERR_OK;
	}
	for (int l = 63; l >= 0; l--) {
		uint64_t w = (uint64_t)1 << l;

		if ((len & w) == 0)
			continue;
		if ((r = fn(ctx, (unsigned)l, start >> l, parts[np])) != ERR_OK)
			return r;
		np++;
		start += w;
	}
	memcpy(out, parts[np - 1], CRY_HASH_LEN);
	for (unsigned i = np - 1; i > 0; i--)
		merkle_node_hash(parts[i - 1], out, out);
	return ERR_OK;
}

enum err
merkle_root(merkle_node_fn fn, void *ctx, uint64_t size,
    uint8_t out[static CRY_HASH_LEN])
{
	if (size > MERKLE_MAX_SIZE)
		return ERR_INVALID;
	return subtree_root(fn, ctx, 0, size, out);
}

static void
proof_reverse(struct merkle_proof *p)
{
	uint8_t t[CRY_HASH_LEN];

	for (size_t i = 0, j = p->n; i + 1 < j; i++, j--) {
		memcpy(t, p->h[i], CRY_HASH_LEN);
		memcpy(p->h[i], p->h[j - 1], CRY_HASH_LEN);
		memcpy(p->h[j - 1], t, CRY_HASH_LEN);
	}
}

enum err
merkle_prove_inclusion(merkle_node_fn fn, void *ctx, uint64_t index,
    uint64_t size, struct merkle_proof *out)
{
	uint64_t a = 0, n = size, m = index;
	enum err r = ERR_INTERNAL;

	out->n = 0;
	if (index >= size || size > MERKLE_MAX_SIZE)
		return ERR_INVALID;
	/* The iterative form of PATH: siblings are found root side first. */
	while (n > 1) {
		uint64_t k = split_point(n);

		INVARIANT(out->n < MERKLE_MAX_PROOF);
		if (m < k) {
			r = subtree_root(fn, ctx, a + k, n - k, out->h[out->n]);
			n = k;
		} else {
			r = fn(ctx, log2_exact(k), a / k, out->h[out->n]);
			a += k;
			m -= k;
			n -= k;
		}
		if (r != ERR_OK)
			return r;
		out->n++;
	}
	proof_reverse(out);
	return ERR_OK;
}

enum err
merkle_prove_consistency(merkle_node_fn fn, void *ctx, uint64_t size1,
    uint64_t size2, struct merkle_proof *out)
{
	uint64_t a = 0, n = size2, m = size1;
	bool b = true;
	enum err r = ERR_INTERNAL;

	out->n = 0;
	if (size1 == 0 || size1 > size2 || size2 > MERKLE_MAX_SIZE)
		return ERR_INVALID;
	for (;;) {
		INVARIANT(out->n < MERKLE_MAX_PROOF);
		if (m == n) {
			if (!b) {
				r = subtree_root(fn, ctx, a, n, out->h[out->n]);
				if (r != ERR_OK)
					return r;
				out->n++;
			}
			break;
		}
		uint64_t k = split_point(n);
		if (m <= k) {
			r = subtree_root(fn, ctx, a + k, n - k, out->h[out->n]);
			n = k;
		} else {
			r = fn(ctx, log2_exact(k), a / k, out->h[out->n]);
			a += k;
			m -= k;
			n -= k;
			b = false;
		}
		if (r != ERR_OK)
			return r;
		out->n++;
	}
	proof_reverse(out);
	return ERR_OK;
}

enum err
merkle_verify_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf_hash[static CRY_HASH_LEN],
    const struct merkle_proof *proof, const uint8_t root[static CRY_HASH_LEN])
{
	uint8_t r[CRY_HASH_LEN];
	uint64_t fn, sn;

	if (index >= size || proof->n > MERKLE_MAX_PROOF)
		return ERR_CORRUPT;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, CRY_HASH_LEN);
	for (size_t i = 0; i < proof->n; i++) {
		if (sn == 0)
			return ERR_CORRUPT; /* more elements than levels */
		if ((fn & 1) == 1 || fn == sn) {
			merkle_node_hash(proof->h[i], r, r);
			if ((fn & 1) == 0) {
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			merkle_node_hash(r, proof->h[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !cry_equal(r, root, CRY_HASH_LEN))
		return ERR_CORRUPT;
	return ERR_OK;
}

enum err
merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const uint8_t root1[static CRY_HASH_LEN],
    const uint8_t root2[static CRY_HASH_LEN], const struct merkle_proof *proof)
{
	uint8_t fr[CRY_HASH_LEN], sr[CRY_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;

	if (size1 == 0 || size1 > size2 || proof->n > MERKLE_MAX_PROOF)
		return ERR_CORRUPT;
	if (size1 == size2) {
		if (proof->n == 0 && cry_equal(root1, root2, CRY_HASH_LEN))
			return ERR_OK;
		return ERR_CORRUPT;
	}
	if (proof->n == 0)
		return ERR_CORRUPT;
	fn = size1 - 1;
	sn = size2 - 1;
	while ((fn & 1) == 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* A power-of-two old tree is a complete subtree: its root starts. */
	if ((size1 & (size1 - 1)) == 0) {
		memcpy(fr, root1, CRY_HASH_LEN);
	} else {
		memcpy(fr, proof->h[0], CRY_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, CRY_HASH_LEN);
	for (; i < proof->n; i++) {
		if (sn == 0)
			return ERR_CORRUPT;
		if ((fn & 1) == 1 || fn == sn) {
			merkle_node_hash(proof->h[i], fr, fr);
			merkle_node_hash(proof->h[i], sr, sr);
			if ((fn & 1) == 0) {
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			merkle_node_hash(sr, proof->h[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !cry_equal(fr, root1, CRY_HASH_LEN) ||
	    !cry_equal(sr, root2, CRY_HASH_LEN))
		return ERR_CORRUPT;
	return ERR_OK;
}

void
merkle_frontier_init(struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

void
merkle_frontier_push(struct merkle_frontier *f,
    const uint8_t leaf_hash[static CRY_HASH_LEN], uint8_t (*done)[CRY_HASH_LEN],
    unsigned *ndone)
{
	uint8_t h[CRY_HASH_LEN];
	unsigned l = 0;

	INVARIANT(f->size < MERKLE_MAX_SIZE);
	memcpy(h, leaf_hash, CRY_HASH_LEN);
	while ((f->size >> l) & 1) {
		merkle_node_hash(f->node[l], h, h);
		if (done != NULL)
			memcpy(done[l], h, CRY_HASH_LEN);
		l++;
	}
	memcpy(f->node[l], h, CRY_HASH_LEN);
	f->size++;
	if (ndone != NULL)
		*ndone = l;
}

void
merkle_frontier_root(const struct merkle_frontier *f,
    uint8_t out[static CRY_HASH_LEN])
{
	bool have = false;

	if (f->size == 0) {
		merkle_empty_root(out);
		return;
	}
	for (unsigned l = 0; l < 64; l++) {
		if (((f->size >> l) & 1) == 0)
			continue;
		if (!have) {
			memcpy(out, f->node[l], CRY_HASH_LEN);
			have = true;
		} else {
			merkle_node_hash(f->node[l], out, out);
		}
	}
}
