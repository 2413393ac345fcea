/*
 * audit/merkle.h - RFC 9162 §2.1 Merkle tree hashing, proof generation and
 * proof verification (internal to audit/; other modules use audit/audit.h).
 *
 * Hashes are SHA-256 (cry_sha256*). Leaf hash = H(0x00 ‖ leaf bytes),
 * interior node = H(0x01 ‖ left ‖ right), empty tree = H(""). Proof
 * generation asks a caller-supplied function for the hash of a complete
 * subtree (level, index): the node covering leaves [index·2^level,
 * (index+1)·2^level). It asks for at most 2·log2(size)+2 of them, which is
 * what makes proofs over SQLite O(log n) reads.
 */
#ifndef AUDIT_MERKLE_H
#define AUDIT_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/crypto.h"

#define MERKLE_MAX_PROOF 64 /* no proof of a 64-bit tree is longer */
/* Sizes and indices stay at or below 2^63-1 (a signed SQLite INTEGER). */
#define MERKLE_MAX_SIZE ((uint64_t)INT64_MAX)

struct merkle_proof {
	size_t n;
	uint8_t h[MERKLE_MAX_PROOF][CRY_HASH_LEN];
};

/* The hash of complete subtree (level, index); ERR_* on failure. */
typedef enum err (*merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
    uint8_t out[static CRY_HASH_LEN]);

void merkle_leaf_hash(const void *leaf, size_t len,
    uint8_t out[static CRY_HASH_LEN]);
void merkle_node_hash(const uint8_t l[static CRY_HASH_LEN],
    const uint8_t r[static CRY_HASH_LEN], uint8_t out[static CRY_HASH_LEN]);
void merkle_empty_root(uint8_t out[static CRY_HASH_LEN]);

/* Root of the first size leaves (size 0: the empty root). */
MUST_CHECK enum err merkle_root(merkle_node_fn fn, void *ctx, uint64_t size,
    uint8_t out[static CRY_HASH_LEN]);
/* PATH(index, D[0:size]) (RFC 9162 §2.1.3.1); ERR_INVALID if index>=size. */
MUST_CHECK enum err merkle_prove_inclusion(merkle_node_fn fn, void *ctx,
    uint64_t index, uint64_t size, struct merkle_proof *out);
/*
 * PROOF(size1, D[0:size2]) (§2.1.4.1); empty when size1 == size2;
 * ERR_INVALID when size1 == 0 or size1 > size2.
 */
MUST_CHECK enum err merkle_prove_consistency(merkle_node_fn fn, void *ctx,
    uint64_t size1, uint64_t size2, struct merkle_proof *out);

/*
 * §2.1.3.2: ERR_OK when proof shows leaf_hash at index in the tree of size
 * with root; ERR_CORRUPT otherwise. Hash lengths are fixed by the types.
 */
MUST_CHECK enum err merkle_verify_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf_hash[static CRY_HASH_LEN],
    const struct merkle_proof *proof, const uint8_t root[static CRY_HASH_LEN]);
/* §2.1.4.2 with the edge rules of the reference (size1 == 0 fails). */
MUST_CHECK enum err merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const uint8_t root1[static CRY_HASH_LEN],
    const uint8_t root2[static CRY_HASH_LEN], const struct merkle_proof *proof);

/*
 * An in-memory right frontier: appending a leaf costs O(log n) and the
 * root at any moment is a fold of at most 64 hashes. full[l] is set when
 * the frontier holds a complete subtree of 2^l leaves (bit l of size).
 */
struct merkle_frontier {
	uint64_t size;
	uint8_t node[64][CRY_HASH_LEN];
};
void merkle_frontier_init(struct merkle_frontier *f);
/*
 * Appends leaf_hash. done[l-1] (l = 1..*ndone) receives each interior node
 * that became complete (level l, ending at this leaf); done may be NULL.
 */
void merkle_frontier_push(struct merkle_frontier *f,
    const uint8_t leaf_hash[static CRY_HASH_LEN], uint8_t (*done)[CRY_HASH_LEN],
    unsigned *ndone);
void merkle_frontier_root(const struct merkle_frontier *f,
    uint8_t out[static CRY_HASH_LEN]);

#endif /* AUDIT_MERKLE_H */
