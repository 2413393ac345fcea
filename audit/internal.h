/*
 * audit/internal.h - state shared by the audit/ files (not for other
 * modules).
 *
 * Storage (docs/audit.md): audit_events holds one row per leaf with its
 * stored fields, its leaf hash and "nodes", the hashes of the complete
 * subtrees that end at this leaf (levels 1..t, 32 bytes each, t = number
 * of trailing one bits of the index). So the node (level l, index k) is in
 * row (k+1)·2^l − 1: one database read per node, one insert per append.
 */
#ifndef AUDIT_INTERNAL_H
#define AUDIT_INTERNAL_H

#include "audit/audit.h"
#include "audit/merkle.h"

#define AUDIT_KEY_TAG  "kura-log-key/v1"
#define AUDIT_VKEY_MAX 512

struct audit {
	sqlite3 *db;
	char *vault_dir;
	sqlite3_stmt *ins_event, *ins_next, *sel_last, *sel_node, *sel_range, *sel_action,
	    *sel_ckpt_last, *sel_ckpts, *ins_ckpt;
	/*
	 * Cached right frontier, checked against the stored rows on use (by
	 * the INSERT itself in the common case: ins_next_sql).
	 */
	bool cached;
	struct merkle_frontier fr;
	uint8_t last_leaf[CRY_HASH_LEN];
	uint64_t reads;
	/* The formatted time of the current second (audit_append). */
	bool now_valid;
	long long now_sec;
	char now_buf[AUDIT_TIME_LEN + 1];
	/* The signer, loaded on first use (audit_sign_note, checkpoints). */
	struct cry_secret *sk;
	uint8_t pk[CRY_SIGN_PK_LEN];
	char origin[256];
	char vkey[AUDIT_VKEY_MAX];
	bool have_vkey;
	/* The append-only triggers were missing when the log was opened. */
	bool triggers_were_missing;
};

/* The hash of complete subtree (level, index) from the stored rows. */
enum err audit_node_get(void *ctx, unsigned level, uint64_t index,
    uint8_t out[static CRY_HASH_LEN]);
/* Loads keys/log.pub into a->vkey / a->origin (ERR_NOT_FOUND). */
MUST_CHECK enum err audit_load_vkey(struct audit *a);
MUST_CHECK enum err audit_now(char out[static AUDIT_TIME_LEN + 1]);
/* Appends base64(h) to out. */
MUST_CHECK enum err audit_b64_hash(const uint8_t h[static CRY_HASH_LEN],
    struct bytes *out);
/* Decodes exactly 32 bytes of base64 (ERR_INVALID otherwise). */
MUST_CHECK enum err audit_unb64_hash(const char *s, size_t len,
    uint8_t h[static CRY_HASH_LEN]);
/* Strict decimal: digits only, no leading zero, <= 2^63-1. */
MUST_CHECK enum err audit_parse_u64(const char *s, size_t len, uint64_t *out);

#endif /* AUDIT_INTERNAL_H */
