/*
 * audit/verify.c - the auditor's checks: the whole log against its stored
 * checkpoints (audit_verify) and a single proof offline (audit_proof_check).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"
#include "common/log.h"
#include "common/banned.h"

#define MAX_CHECKPOINTS (1u << 20)

/* Messages are best effort: a too-long one is cut, never fatal. */
static void msgf(struct bytes *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
msgf(struct bytes *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (bytes_vprintf(b, fmt, ap) != ERR_OK)
		log_debug("audit: message cut");
	va_end(ap);
}

struct vckpt {
	uint64_t size;
	uint8_t root[CRY_HASH_LEN];
	const char *name; /* NULL: stored; else the auditor's file */
	bool seen;        /* root compared with the recomputed tree */
};

static int
vckpt_cmp(const void *x, const void *y)
{
	const struct vckpt *a = x, *b = y;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return 0;
}

struct vstate {
	struct audit *a;
	struct merkle_frontier fr;
	struct vckpt *ck;
	size_t nck, next_ck;
	uint64_t total;
	struct bytes *msg;
	const struct audit_verify_opts *opts;
	sqlite3_stmt *rows;
};

static void
ckpt_label(const struct vckpt *c, struct bytes *msg)
{
	if (c->name != NULL)
		msgf(msg, "auditor checkpoint %s (size %llu)", c->name,
		    (unsigned long long)c->size);
	else
		msgf(msg, "stored checkpoint of size %llu",
		    (unsigned long long)c->size);
}

/* Compares every checkpoint of size fr.size with the recomputed root. */
static enum err
check_roots(struct vstate *v)
{
	uint8_t root[CRY_HASH_LEN];

	if (v->next_ck >= v->nck || v->ck[v->next_ck].size != v->fr.size)
		return ERR_OK;
	merkle_frontier_root(&v->fr, root);
	for (; v->next_ck < v->nck && v->ck[v->next_ck].size == v->fr.size;
	     v->next_ck++) {
		struct vckpt *c = &v->ck[v->next_ck];
		if (!cry_equal(c->root, root, CRY_HASH_LEN)) {
			bytes_clear(v->msg);
			ckpt_label(c, v->msg);
			msgf(v->msg,
			    ": its root does not match the events 0..%llu: the "
			    "log is not consistent with it (history rewritten)",
			    (unsigned long long)(v->fr.size - 1));
			return ERR_CORRUPT;
		}
		c->seen = true;
	}
	return ERR_OK;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static enum err
scan(struct vstate *v)
{
	sqlite3_stmt *st = NULL;
	struct bytes leaf;
	uint8_t lh[CRY_HASH_LEN], done[64][CRY_HASH_LEN];
	unsigned ndone;
	uint64_t expect = 0;
	int rc;
	enum err r = ERR_INTERNAL;
	static const char sql[] =
	    "SELECT seq, time, actor, action, case_id, document_id, account,"
	    " details, leaf_hash, nodes FROM audit_events ORDER BY seq";

	bytes_init(&leaf, AUDIT_LEAF_MAX);
	if (sqlite3_prepare_v2(v->a->db, sql, -1, &st, NULL) != SQLITE_OK) {
		r = ERR_DB;
		goto out;
	}
	if ((r = check_roots(v)) != ERR_OK) /* size-0 checkpoints */
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_event ev;
		const char *time;
		sqlite3_int64 seq = sqlite3_column_int64(st, 0);

		v->a->reads++;
		r = ERR_CORRUPT;
		if (seq < 0 || (uint64_t)seq != expect) {
			bytes_clear(v->msg);
			msgf(v->msg,
			    "index %llu: event missing (the next stored event "
			    "has index %lld)",
			    (unsigned long long)expect, (long long)seq);
			goto out;
		}
		time = col_text(st, 1);
		ev.actor = col_text(st, 2);
		ev.action = col_text(st, 3);
		ev.case_id = col_text(st, 4);
		ev.document_id = col_text(st, 5);
		ev.account = col_text(st, 6);
		ev.details_json = col_text(st, 7);
		bytes_clear(&leaf);
		if (time == NULL || ev.details_json == NULL ||
		    audit_leaf_encode(expect, time, &ev, &leaf) != ERR_OK) {
			bytes_clear(v->msg);
			msgf(v->msg,
			    "index %llu: stored fields are malformed (edited)",
			    (unsigned long long)expect);
			goto out;
		}
		merkle_leaf_hash(leaf.p, leaf.len, lh);
		if (sqlite3_column_bytes(st, 8) != CRY_HASH_LEN ||
		    !cry_equal(sqlite3_column_blob(st, 8), lh, CRY_HASH_LEN)) {
			bytes_clear(v->msg);
			msgf(v->msg,
			    "index %llu: the stored fields do not match the "
			    "event's leaf hash (event edited, moved or "
			    "swapped)",
			    (unsigned long long)expect);
			goto out;
		}
		merkle_frontier_push(&v->fr, lh, done, &ndone);
		if ((size_t)sqlite3_column_bytes(st, 9) !=
		        (size_t)ndone * CRY_HASH_LEN ||
		    (ndone > 0 && !cry_equal(sqlite3_column_blob(st, 9), done,
		                      (size_t)ndone * CRY_HASH_LEN))) {
			bytes_clear(v->msg);
			msgf(v->msg,
			    "index %llu: stored tree hashes do not match the "
			    "recomputed tree (edited)",
			    (unsigned long long)expect);
			goto out;
		}
		expect++;
		if ((r = check_roots(v)) != ERR_OK)
			goto out;
		if (v->opts->progress != NULL && (expect & 0xffff) == 0)
			v->opts->progress(v->opts->progress_ctx, expect,
			    v->total);
	}
	if (rc != SQLITE_DONE) {
		log_err("audit: verify: %s", sqlite3_errmsg(v->a->db));
		r = ERR_DB;
		goto out;
	}
	if (v->opts->progress != NULL)
		v->opts->progress(v->opts->progress_ctx, expect, v->total);
	r = ERR_OK;
out:
	sqlite3_finalize(st);
	bytes_release(&leaf);
	return r;
}

static enum err
load_stored(struct vstate *v, size_t cap)
{
	sqlite3_stmt *st = v->a->sel_ckpts;
	struct audit_checkpoint cp;
	int rc;
	enum err r = ERR_INTERNAL;

	sqlite3_reset(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 size = sqlite3_column_int64(st, 0);
		struct span note = span_of(sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3));

		v->a->reads++;
		r = ERR_TOO_BIG;
		if (v->nck >= cap)
			goto out;
		r = audit_checkpoint_open(note, v->a->vkey, &cp);
		if (r != ERR_OK) {
			bytes_clear(v->msg);
			msgf(v->msg, "stored checkpoint of size %lld: %s",
			    (long long)size,
			    r == ERR_BAD_SIGNATURE
			        ? "its signature does not verify with "
			          "the log's verifier key (forged or signed by "
			          "another key)"
			        : "it is not a checkpoint signed by the log's "
			          "verifier key");
			r = r == ERR_BAD_SIGNATURE ? r : ERR_CORRUPT;
			goto out;
		}
		r = ERR_CORRUPT;
		if (size < 0 || cp.size != (uint64_t)size ||
		    sqlite3_column_bytes(st, 1) != CRY_HASH_LEN ||
		    !cry_equal(sqlite3_column_blob(st, 1), cp.root,
		        CRY_HASH_LEN)) {
			bytes_clear(v->msg);
			msgf(v->msg,
			    "stored checkpoint of size %lld: its columns do "
			    "not "
			    "match its signed note (edited)",
			    (long long)size);
			goto out;
		}
		v->ck[v->nck].size = cp.size;
		memcpy(v->ck[v->nck].root, cp.root, CRY_HASH_LEN);
		v->ck[v->nck].name = NULL;
		v->nck++;
	}
	r = rc == SQLITE_DONE ? ERR_OK : ERR_DB;
out:
	sqlite3_reset(st);
	return r;
}

static enum err
count_checkpoints(struct audit *a, size_t *n)
{
	sqlite3_stmt *st = NULL;
	enum err r = ERR_DB;

	*n = 0;
	if (sqlite3_prepare_v2(a->db, "SELECT count(*) FROM audit_checkpoints",
	        -1, &st, NULL) != SQLITE_OK)
		return ERR_DB;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int64(st, 0) >= 0 &&
	    sqlite3_column_int64(st, 0) < MAX_CHECKPOINTS) {
		*n = (size_t)sqlite3_column_int64(st, 0);
		r = ERR_OK;
	}
	sqlite3_finalize(st);
	return r;
}

enum err
audit_verify(struct audit *a, const struct audit_verify_opts *opts,
    struct bytes *msg)
{
	static const struct audit_verify_opts none = {0};
	struct vstate v;
	struct merkle_proof p;
	struct vckpt *last_stored = NULL;
	size_t nstored = 0, cap;
	uint64_t n = 0;
	enum err r = ERR_INTERNAL;

	memset(&v, 0, sizeof(v));
	v.a = a;
	v.msg = msg;
	v.opts = opts != NULL ? opts : &none;
	merkle_frontier_init(&v.fr);
	bytes_clear(msg);
	if (v.opts->vkey != NULL) {
		size_t vl = strlen(v.opts->vkey);
		struct bytes name;
		uint32_t id;
		bytes_init(&name, sizeof(a->origin));
		r = vl < sizeof(a->vkey)
		        ? cry_vkey_parse(v.opts->vkey, &name, &id, a->pk)
		        : ERR_INVALID;
		if (r == ERR_OK && name.len < sizeof(a->origin)) {
			memcpy(a->vkey, v.opts->vkey, vl + 1);
			memcpy(a->origin, name.p, name.len);
			a->origin[name.len] = 0;
			a->have_vkey = true;
		}
		bytes_release(&name);
		if (r != ERR_OK) {
			msgf(msg, "the given verifier key is malformed");
			return ERR_INVALID;
		}
	} else if ((r = audit_load_vkey(a)) != ERR_OK) {
		msgf(msg, "keys/log.pub: cannot read the verifier key");
		return r;
	}
	if ((r = count_checkpoints(a, &nstored)) != ERR_OK ||
	    (r = audit_size(a, &n)) != ERR_OK)
		return r;
	v.total = n;
	cap = nstored + v.opts->nkept;
	if ((v.ck = calloc(cap + 1, sizeof(*v.ck))) == NULL)
		return ERR_NOMEM;
	if ((r = load_stored(&v, cap)) != ERR_OK)
		goto out;
	nstored = v.nck;
	for (size_t i = 0; i < v.opts->nkept; i++) {
		struct audit_checkpoint cp;
		const char *name = v.opts->kept_names != NULL
		                       ? v.opts->kept_names[i]
		                       : "(kept)";
		r = audit_checkpoint_open(v.opts->kept[i], a->vkey, &cp);
		if (r != ERR_OK) {
			bytes_clear(msg);
			msgf(msg, "auditor checkpoint %s: %s", name,
			    r == ERR_BAD_SIGNATURE
			        ? "its signature does not verify with "
			          "the log's verifier key (forged or signed by "
			          "another key)"
			        : "not a checkpoint of this log");
			r = r == ERR_BAD_SIGNATURE ? r : ERR_CORRUPT;
			goto out;
		}
		v.ck[v.nck].size = cp.size;
		memcpy(v.ck[v.nck].root, cp.root, CRY_HASH_LEN);
		v.ck[v.nck].name = name;
		v.nck++;
	}
	qsort(v.ck, v.nck, sizeof(*v.ck), vckpt_cmp);
	/* A checkpoint beyond the log: events were deleted. */
	if (v.nck > 0 && v.ck[v.nck - 1].size > n) {
		bytes_clear(msg);
		ckpt_label(&v.ck[v.nck - 1], msg);
		msgf(msg,
		    ": it covers %llu events but the log holds %llu (events "
		    "from index %llu deleted)",
		    (unsigned long long)v.ck[v.nck - 1].size,
		    (unsigned long long)n, (unsigned long long)n);
		r = ERR_CORRUPT;
		goto out;
	}
	if ((r = scan(&v)) != ERR_OK)
		goto out;
	/*
	 * Every root now matches the recomputed tree; the proofs below are
	 * what an auditor with only the checkpoints would check (RFC 9162
	 * §2.1.4.2), built from the stored nodes the scan just confirmed.
	 */
	for (size_t i = 0; i < v.nck; i++) {
		struct vckpt *c = &v.ck[i];
		if (c->name == NULL)
			last_stored = c;
	}
	for (size_t i = 0; i < v.nck; i++) {
		struct vckpt *c = &v.ck[i], *to = NULL;
		if (c->size == 0)
			continue;
		if (c->name == NULL) { /* the next stored one */
			for (size_t j = i + 1; j < v.nck; j++)
				if (v.ck[j].name == NULL &&
				    v.ck[j].size > c->size) {
					to = &v.ck[j];
					break;
				}
		} else {
			to = last_stored;
		}
		if (to == NULL || to->size < c->size)
			continue;
		r = merkle_prove_consistency(audit_node_get, a, c->size,
		    to->size, &p);
		if (r == ERR_OK)
			r = merkle_verify_consistency(c->size, to->size,
			    c->root, to->root, &p);
		if (r != ERR_OK) {
			bytes_clear(msg);
			ckpt_label(c, msg);
			msgf(msg,
			    ": no valid consistency proof to the checkpoint of "
			    "size %llu",
			    (unsigned long long)to->size);
			r = ERR_CORRUPT;
			goto out;
		}
	}
	if (a->triggers_were_missing) {
		bytes_clear(msg);
		msgf(msg,
		    "the append-only triggers of the audit tables had been "
		    "dropped (now restored): the log was open to editing, "
		    "although the %llu events verify",
		    (unsigned long long)n);
		r = ERR_CORRUPT;
		goto out;
	}
	bytes_clear(msg);
	msgf(msg,
	    "ok: %llu events, %zu stored checkpoints, %zu auditor checkpoints: "
	    "every leaf, node, root, signature and consistency proof holds",
	    (unsigned long long)n, nstored, v.opts->nkept);
	r = ERR_OK;
out:
	free(v.ck);
	return r;
}

/* ---- offline proof check ---- */

struct lines {
	const char *p, *end;
};

/* Next line without its '\n'; false at the end or on a missing '\n'. */
static bool
next_line(struct lines *l, const char **s, size_t *len)
{
	const char *nl;

	if (l->p >= l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (nl == NULL)
		return false;
	*s = l->p;
	*len = (size_t)(nl - l->p);
	l->p = nl + 1;
	return true;
}

static bool
keyed(const char *s, size_t len, const char *key, const char **val,
    size_t *vlen)
{
	size_t k = strlen(key);

	if (len <= k + 1 || memcmp(s, key, k) != 0 || s[k] != ' ')
		return false;
	*val = s + k + 1;
	*vlen = len - k - 1;
	return true;
}

struct parsed_proof {
	bool inclusion;
	uint64_t a, b; /* index,size or old,new */
	bool have_leaf;
	uint8_t leaf[CRY_HASH_LEN];
	struct merkle_proof p;
};

static enum err
parse_proof(struct span text, struct parsed_proof *pp)
{
	struct lines l = {(const char *)text.p,
	    (const char *)text.p + text.len};
	const char *s, *val;
	size_t len, vlen;

	memset(pp, 0, sizeof(*pp));
	if (text.len == 0 || text.len > 16384 ||
	    memchr(text.p, 0, text.len) != NULL)
		return ERR_INVALID;
	if (!next_line(&l, &s, &len) || len != 19 ||
	    memcmp(s, "kura-audit-proof/v1", 19) != 0)
		return ERR_INVALID;
	if (!next_line(&l, &s, &len))
		return ERR_INVALID;
	if (len == 9 && memcmp(s, "inclusion", 9) == 0) {
		pp->inclusion = true;
		if (!next_line(&l, &s, &len) ||
		    !keyed(s, len, "index", &val, &vlen) ||
		    audit_parse_u64(val, vlen, &pp->a) != ERR_OK)
			return ERR_INVALID;
		if (!next_line(&l, &s, &len) ||
		    !keyed(s, len, "size", &val, &vlen) ||
		    audit_parse_u64(val, vlen, &pp->b) != ERR_OK)
			return ERR_INVALID;
		if (!next_line(&l, &s, &len) ||
		    !keyed(s, len, "leaf-hash", &val, &vlen) ||
		    audit_unb64_hash(val, vlen, pp->leaf) != ERR_OK)
			return ERR_INVALID;
		pp->have_leaf = true;
	} else if (len == 11 && memcmp(s, "consistency", 11) == 0) {
		if (!next_line(&l, &s, &len) ||
		    !keyed(s, len, "old", &val, &vlen) ||
		    audit_parse_u64(val, vlen, &pp->a) != ERR_OK)
			return ERR_INVALID;
		if (!next_line(&l, &s, &len) ||
		    !keyed(s, len, "new", &val, &vlen) ||
		    audit_parse_u64(val, vlen, &pp->b) != ERR_OK)
			return ERR_INVALID;
	} else {
		return ERR_INVALID;
	}
	while (next_line(&l, &s, &len)) {
		if (pp->p.n >= MERKLE_MAX_PROOF ||
		    audit_unb64_hash(s, len, pp->p.h[pp->p.n]) != ERR_OK)
			return ERR_INVALID;
		pp->p.n++;
	}
	if (l.p != l.end) /* a last line without '\n' */
		return ERR_INVALID;
	return ERR_OK;
}

#define TLOG_PROOF_TAG "c2sp.org/tlog-proof@v1\n"

/*
 * c2sp.org/tlog-proof@v1: header, optional "extra" line (not
 * authenticated, ignored), "index N", the audit path, an empty line, then
 * the signed checkpoint it is checked against. It carries no leaf hash:
 * the verifier hashes the leaf it holds.
 */
static enum err
tlog_proof_check(struct span proof, const char *vkey, const struct span *leaf,
    struct bytes *msg)
{
	struct lines l = {(const char *)proof.p,
	    (const char *)proof.p + proof.len};
	struct merkle_proof p = {0};
	struct audit_checkpoint cp;
	uint8_t lh[CRY_HASH_LEN];
	const char *s, *val;
	size_t len, vlen;
	uint64_t index = 0;
	bool blank = false;
	enum err r;

	if (proof.len > (1u << 20) || memchr(proof.p, 0, proof.len) != NULL ||
	    !next_line(&l, &s, &len) || !next_line(&l, &s, &len))
		goto bad;
	if (keyed(s, len, "extra", &val, &vlen) && !next_line(&l, &s, &len))
		goto bad;
	if (!keyed(s, len, "index", &val, &vlen) ||
	    audit_parse_u64(val, vlen, &index) != ERR_OK)
		goto bad;
	while (next_line(&l, &s, &len)) {
		if (len == 0) {
			blank = true;
			break;
		}
		if (p.n >= MERKLE_MAX_PROOF ||
		    audit_unb64_hash(s, len, p.h[p.n]) != ERR_OK)
			goto bad;
		p.n++;
	}
	if (!blank || l.p >= l.end)
		goto bad;
	r = audit_checkpoint_open(span_of(l.p, (size_t)(l.end - l.p)), vkey,
	    &cp);
	if (r != ERR_OK) {
		msgf(msg, "the proof's checkpoint %s",
		    r == ERR_BAD_SIGNATURE ? "has no valid signature by the "
		                             "verifier key"
		                           : "is malformed");
		return r == ERR_BAD_SIGNATURE ? r : ERR_CORRUPT;
	}
	if (leaf == NULL) {
		msgf(msg, "a tlog-proof carries no leaf hash: give the leaf "
		          "bytes (--leaf-file)");
		return ERR_INVALID;
	}
	merkle_leaf_hash(leaf->p, leaf->len, lh);
	if (merkle_verify_inclusion(index, cp.size, lh, &p, cp.root) !=
	    ERR_OK) {
		msgf(msg,
		    "FAILED: the proof does not show this leaf at index %llu "
		    "in the tree of size %llu",
		    (unsigned long long)index, (unsigned long long)cp.size);
		return ERR_CORRUPT;
	}
	msgf(msg,
	    "ok: leaf %llu is in the tree of size %llu signed by %s "
	    "(tlog-proof, leaf bytes checked)",
	    (unsigned long long)index, (unsigned long long)cp.size, cp.origin);
	return ERR_OK;
bad:
	msgf(msg, "the tlog-proof is malformed");
	return ERR_INVALID;
}

enum err
audit_proof_check(struct span proof, const struct span *notes, size_t nnotes,
    const char *vkey, const struct span *leaf, struct bytes *msg)
{
	struct parsed_proof pp;
	struct audit_checkpoint cp[2], *c1 = NULL, *c2 = NULL;
	uint8_t lh[CRY_HASH_LEN];
	enum err r = ERR_INTERNAL;

	bytes_clear(msg);
	if (proof.len >= strlen(TLOG_PROOF_TAG) &&
	    memcmp(proof.p, TLOG_PROOF_TAG, strlen(TLOG_PROOF_TAG)) == 0)
		return tlog_proof_check(proof, vkey, leaf, msg);
	if (parse_proof(proof, &pp) != ERR_OK) {
		msgf(msg, "the proof file is malformed");
		return ERR_INVALID;
	}
	if (nnotes == 0 || nnotes > 2) {
		msgf(msg, "give one checkpoint (inclusion) or "
		          "two (consistency)");
		return ERR_INVALID;
	}
	for (size_t i = 0; i < nnotes; i++) {
		r = audit_checkpoint_open(notes[i], vkey, &cp[i]);
		if (r != ERR_OK) {
			msgf(msg, "checkpoint %zu: %s", i + 1,
			    r == ERR_BAD_SIGNATURE
			        ? "its signature does not verify with the "
			          "verifier key"
			        : "not a checkpoint signed by the verifier "
			          "key");
			return r == ERR_BAD_SIGNATURE ? r : ERR_CORRUPT;
		}
	}
	if (pp.inclusion) {
		for (size_t i = 0; i < nnotes; i++)
			if (cp[i].size == pp.b)
				c2 = &cp[i];
		if (c2 == NULL) {
			msgf(msg, "no checkpoint of size %llu was given",
			    (unsigned long long)pp.b);
			return ERR_INVALID;
		}
		if (leaf != NULL) {
			merkle_leaf_hash(leaf->p, leaf->len, lh);
			if (!cry_equal(lh, pp.leaf, CRY_HASH_LEN)) {
				msgf(msg,
				    "the leaf does not hash to the proof's "
				    "leaf-hash");
				return ERR_CORRUPT;
			}
		}
		if (merkle_verify_inclusion(pp.a, pp.b, pp.leaf, &pp.p,
		        c2->root) != ERR_OK) {
			msgf(msg,
			    "FAILED: the proof does not show leaf %llu in the "
			    "tree of size %llu",
			    (unsigned long long)pp.a, (unsigned long long)pp.b);
			return ERR_CORRUPT;
		}
		msgf(msg,
		    "ok: leaf %llu is in the tree of size %llu signed by %s%s",
		    (unsigned long long)pp.a, (unsigned long long)pp.b,
		    c2->origin, leaf != NULL ? " (leaf bytes checked)" : "");
		return ERR_OK;
	}
	for (size_t i = 0; i < nnotes; i++) {
		if (cp[i].size == pp.a && c1 == NULL)
			c1 = &cp[i];
		else if (cp[i].size == pp.b)
			c2 = &cp[i];
	}
	if (pp.a == pp.b && c1 != NULL && c2 == NULL)
		c2 = c1;
	if (c1 == NULL || c2 == NULL) {
		msgf(msg, "give the checkpoints of sizes %llu and %llu",
		    (unsigned long long)pp.a, (unsigned long long)pp.b);
		return ERR_INVALID;
	}
	if (merkle_verify_consistency(pp.a, pp.b, c1->root, c2->root, &pp.p) !=
	    ERR_OK) {
		msgf(msg,
		    "FAILED: the tree of size %llu is not proven to extend the "
		    "tree of size %llu",
		    (unsigned long long)pp.b, (unsigned long long)pp.a);
		return ERR_CORRUPT;
	}
	msgf(msg,
	    "ok: the tree of size %llu extends the tree of size %llu (%s)",
	    (unsigned long long)pp.b, (unsigned long long)pp.a, c1->origin);
	return ERR_OK;
}
