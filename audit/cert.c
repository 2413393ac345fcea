/*
 * audit/cert.c - deletion certificates: format, strict parse, issue,
 * verify, render (docs/certificate.md). R9.
 *
 * Strictness comes from one rule: a text is accepted only when formatting
 * what was parsed reproduces it byte for byte, so every value has exactly
 * one spelling and counts and totals are checked for free.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/utf8.h"
#include "common/banned.h"

static const char *const field_key[AUDIT_CERT_NFIELDS] = {
    [AUDIT_CERT_ID] = "certificate-id",
    [AUDIT_CERT_ISSUED_AT] = "issued-at",
    [AUDIT_CERT_ISSUER] = "issuer",
    [AUDIT_CERT_LOG_ORIGIN] = "log-origin",
    [AUDIT_CERT_TOOL] = "tool",
    [AUDIT_CERT_SUPERSEDES] = "supersedes",
    [AUDIT_CERT_STAGE] = "stage",
    [AUDIT_CERT_CASE] = "case-id",
    [AUDIT_CERT_RECEIPT] = "receipt",
    [AUDIT_CERT_APPLICANT] = "applicant",
    [AUDIT_CERT_CERTIFICATION] = "certification",
    [AUDIT_CERT_BASIS] = "basis",
    [AUDIT_CERT_REQUEST] = "request",
    [AUDIT_CERT_CATEGORY] = "category",
    [AUDIT_CERT_METHOD] = "method",
    [AUDIT_CERT_STANDARDS] = "standards",
    [AUDIT_CERT_CRYPTO] = "crypto",
    [AUDIT_CERT_ENCRYPTED_SINCE] = "encrypted-at-rest-since",
    [AUDIT_CERT_DERIVED] = "derived",
    [AUDIT_CERT_EPOCH_RETIRED] = "epoch-retired",
    [AUDIT_CERT_CIPHERTEXT_REMOVED] = "ciphertext-removed",
    [AUDIT_CERT_VERIFICATION] = "verification",
    [AUDIT_CERT_RESULT] = "result",
    [AUDIT_CERT_OPERATOR] = "operator",
    [AUDIT_CERT_APPROVER] = "approver",
    [AUDIT_CERT_ATTESTATION] = "attestation",
    [AUDIT_CERT_MEDIA] = "media",
    [AUDIT_CERT_TRUST] = "trust",
};

/* The slots of the text, in order. */
enum slot_kind {
	S_FIELD,
	S_DESTROYED, /* destroyed: lines, then destroyed-count/-bytes */
	S_RETAINED,  /* retained: lines, then retained-count */
	S_KEYS,
	S_BACKUPS,
	S_CHECKPOINT,
	S_EVIDENCE
};
static const struct {
	enum slot_kind kind;
	enum audit_cert_field f;
} slots[] = {
    {S_FIELD, AUDIT_CERT_ID},
    {S_FIELD, AUDIT_CERT_ISSUED_AT},
    {S_FIELD, AUDIT_CERT_ISSUER},
    {S_FIELD, AUDIT_CERT_LOG_ORIGIN},
    {S_FIELD, AUDIT_CERT_TOOL},
    {S_FIELD, AUDIT_CERT_SUPERSEDES},
    {S_FIELD, AUDIT_CERT_STAGE},
    {S_FIELD, AUDIT_CERT_CASE},
    {S_FIELD, AUDIT_CERT_RECEIPT},
    {S_FIELD, AUDIT_CERT_APPLICANT},
    {S_FIELD, AUDIT_CERT_CERTIFICATION},
    {S_FIELD, AUDIT_CERT_BASIS},
    {S_FIELD, AUDIT_CERT_REQUEST},
    {S_FIELD, AUDIT_CERT_CATEGORY},
    {S_FIELD, AUDIT_CERT_METHOD},
    {S_FIELD, AUDIT_CERT_STANDARDS},
    {S_FIELD, AUDIT_CERT_CRYPTO},
    {S_FIELD, AUDIT_CERT_ENCRYPTED_SINCE},
    {S_DESTROYED, 0},
    {S_FIELD, AUDIT_CERT_DERIVED},
    {S_RETAINED, 0},
    {S_KEYS, 0},
    {S_FIELD, AUDIT_CERT_EPOCH_RETIRED},
    {S_FIELD, AUDIT_CERT_CIPHERTEXT_REMOVED},
    {S_BACKUPS, 0},
    {S_FIELD, AUDIT_CERT_VERIFICATION},
    {S_FIELD, AUDIT_CERT_RESULT},
    {S_FIELD, AUDIT_CERT_OPERATOR},
    {S_FIELD, AUDIT_CERT_APPROVER},
    {S_FIELD, AUDIT_CERT_ATTESTATION},
    {S_FIELD, AUDIT_CERT_MEDIA},
    {S_CHECKPOINT, 0},
    {S_EVIDENCE, 0},
    {S_FIELD, AUDIT_CERT_TRUST},
};
#define NSLOTS (sizeof(slots) / sizeof(slots[0]))

static bool
field_optional(enum audit_cert_field f)
{
	return f == AUDIT_CERT_SUPERSEDES;
}

/* ---- values ---- */

/* A value: valid UTF-8, no control character, not blank at either end. */
static bool
value_ok(const char *v, size_t len)
{
	if (len == 0 || len > AUDIT_CERT_VALUE_MAX)
		return false;
	if (v[0] == ' ' || v[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = (uint8_t)v[i];
		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return utf8_valid((const uint8_t *)v, len);
}

static bool
needs_pct(uint8_t ch)
{
	return ch <= 0x20 || ch == '%' || ch == 0x7f;
}

static enum err
put_pct(struct bytes *b, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";
	enum err r = ERR_OK;

	if (*s == 0)
		return bytes_put_str(b, "%00"); /* never produced by decode */
	for (const uint8_t *p = (const uint8_t *)s; *p != 0 && r == ERR_OK;
	     p++) {
		if (needs_pct(*p)) {
			char e[3] = {'%', hx[*p >> 4], hx[*p & 15]};
			r = bytes_put(b, e, 3);
		} else {
			r = bytes_put(b, p, 1);
		}
	}
	return r;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes a percent-encoded token into a new string (canonical: upper). */
static enum err
pct_decode(const char *s, size_t len, char **out)
{
	char *d = NULL;
	size_t n = 0;

	*out = NULL;
	if (len == 0 || len > AUDIT_CERT_VALUE_MAX)
		return ERR_INVALID;
	if ((d = malloc(len + 1)) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len)
				goto bad;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			d[n++] = (char)(uint8_t)((hi << 4) | lo);
			i += 2;
		} else {
			d[n++] = s[i];
		}
	}
	d[n] = 0;
	if (n == 0 || strlen(d) != n || !utf8_valid((uint8_t *)d, n))
		goto bad;
	*out = d;
	return ERR_OK;
bad:
	free(d);
	return ERR_INVALID;
}

static enum err
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_INVALID;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return ERR_INVALID;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return ERR_OK;
}

static enum err
parse_hex32(const char *s, size_t len, uint8_t out[static CRY_HASH_LEN])
{
	char tmp[2 * CRY_HASH_LEN + 1];

	if (len != 2 * CRY_HASH_LEN)
		return ERR_INVALID;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	return hex_decode(tmp, out, CRY_HASH_LEN);
}

static enum err
parse_b64_32(const char *s, size_t len, uint8_t out[static CRY_HASH_LEN])
{
	struct bytes b;
	enum err r;

	bytes_init(&b, 64);
	if ((r = cry_b64_decode(s, len, &b)) == ERR_OK) {
		if (b.len == CRY_HASH_LEN)
			memcpy(out, b.p, CRY_HASH_LEN);
		else
			r = ERR_INVALID;
	}
	bytes_release(&b);
	return r;
}

static enum err
put_b64(struct bytes *b, const uint8_t *p, size_t len)
{
	return cry_b64_encode(span_of(p, len), b);
}

static enum err
put_hex(struct bytes *b, const uint8_t h[static CRY_HASH_LEN])
{
	char x[2 * CRY_HASH_LEN + 1];

	hex_encode(h, CRY_HASH_LEN, x);
	return bytes_put_str(b, x);
}

static char *
dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static char *
dup_str(const char *s)
{
	return s == NULL ? NULL : dup_n(s, strlen(s));
}

/* ---- the struct ---- */

void
audit_cert_init(struct audit_cert *c)
{
	memset(c, 0, sizeof(*c));
	bytes_init(&c->checkpoint, CRY_NOTE_MAX);
}

static void
doc_release(struct audit_cert_doc *d)
{
	free(d->number);
	free(d->name);
	free(d->key_id);
	free(d->file);
	free(d->reason);
	free(d->until);
	memset(d, 0, sizeof(*d));
}

void
audit_cert_release(struct audit_cert *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < AUDIT_CERT_NFIELDS; i++)
		free(c->f[i]);
	for (size_t i = 0; i < c->n_destroyed; i++)
		doc_release(&c->destroyed[i]);
	for (size_t i = 0; i < c->n_retained; i++)
		doc_release(&c->retained[i]);
	free(c->destroyed);
	free(c->retained);
	for (size_t i = 0; i < c->n_keys; i++)
		free(c->keys[i]);
	free(c->keys);
	for (size_t i = 0; i < c->n_backups; i++)
		free(c->backups[i]);
	free(c->backups);
	for (size_t i = 0; i < c->n_evidence; i++) {
		free(c->evidence[i].action);
		free(c->evidence[i].path);
		free(c->evidence[i].leaf);
	}
	free(c->evidence);
	bytes_release(&c->checkpoint);
	audit_cert_init(c);
}

/* Grows *arr (elements of size sz) by one, zeroed; returns the new slot. */
static void *
grow(void **arr, size_t *n, size_t sz, size_t max)
{
	uint8_t *p;

	if (*n >= max)
		return NULL;
	p = calloc(*n + 1, sz);
	if (p == NULL)
		return NULL;
	if (*n > 0)
		memcpy(p, *arr, *n * sz);
	free(*arr);
	*arr = p;
	return p + (*n)++ * sz;
}

enum err
audit_cert_set(struct audit_cert *c, enum audit_cert_field f, const char *v)
{
	char *d;

	if ((unsigned)f >= AUDIT_CERT_NFIELDS || v == NULL ||
	    !value_ok(v, strlen(v)))
		return ERR_INVALID;
	if ((d = dup_str(v)) == NULL)
		return ERR_NOMEM;
	free(c->f[f]);
	c->f[f] = d;
	return ERR_OK;
}

static bool
doc_tokens_ok(const struct audit_cert_doc *d, bool retained)
{
	const char *t[] = {d->number, d->name, d->key_id, d->file};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] == NULL || *t[i] == 0 ||
		    !utf8_valid((const uint8_t *)t[i], strlen(t[i])) ||
		    strlen(t[i]) > AUDIT_CERT_VALUE_MAX / 4)
			return false;
	if (retained)
		return d->reason != NULL && *d->reason != 0 &&
		       d->until != NULL && *d->until != 0 &&
		       utf8_valid((const uint8_t *)d->reason,
		           strlen(d->reason)) &&
		       utf8_valid((const uint8_t *)d->until, strlen(d->until));
	return d->reason == NULL && d->until == NULL;
}

static enum err
doc_copy(struct audit_cert_doc *dst, const struct audit_cert_doc *src)
{
	*dst = *src;
	dst->number = dup_str(src->number);
	dst->name = dup_str(src->name);
	dst->key_id = dup_str(src->key_id);
	dst->file = dup_str(src->file);
	dst->reason = dup_str(src->reason);
	dst->until = dup_str(src->until);
	if (dst->number == NULL || dst->name == NULL || dst->key_id == NULL ||
	    dst->file == NULL || (src->reason != NULL && dst->reason == NULL) ||
	    (src->until != NULL && dst->until == NULL)) {
		doc_release(dst);
		return ERR_NOMEM;
	}
	return ERR_OK;
}

enum err
audit_cert_add_doc(struct audit_cert *c, bool retained,
    const struct audit_cert_doc *d)
{
	struct audit_cert_doc *slot;
	enum err r;

	if (!doc_tokens_ok(d, retained))
		return ERR_INVALID;
	if (c->n_destroyed + c->n_retained >= AUDIT_CERT_MAX_DOCS)
		return ERR_TOO_BIG;
	if (retained)
		slot = grow((void **)&c->retained, &c->n_retained,
		    sizeof(*slot), AUDIT_CERT_MAX_DOCS);
	else
		slot = grow((void **)&c->destroyed, &c->n_destroyed,
		    sizeof(*slot), AUDIT_CERT_MAX_DOCS);
	if (slot == NULL)
		return ERR_NOMEM;
	if ((r = doc_copy(slot, d)) != ERR_OK) {
		if (retained)
			c->n_retained--;
		else
			c->n_destroyed--;
	}
	return r;
}

enum err
audit_cert_add_line(struct audit_cert *c, bool backup, const char *v)
{
	char **slot;

	if (v == NULL || !value_ok(v, strlen(v)))
		return ERR_INVALID;
	if (backup)
		slot = grow((void **)&c->backups, &c->n_backups, sizeof(*slot),
		    AUDIT_CERT_MAX_LINES);
	else
		slot = grow((void **)&c->keys, &c->n_keys, sizeof(*slot),
		    AUDIT_CERT_MAX_LINES);
	if (slot == NULL)
		return ERR_TOO_BIG;
	if ((*slot = dup_str(v)) == NULL) {
		if (backup)
			c->n_backups--;
		else
			c->n_keys--;
		return ERR_NOMEM;
	}
	return ERR_OK;
}

static bool
action_ok(const char *a)
{
	size_t n = strlen(a);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((a[i] >= 'a' && a[i] <= 'z') ||
		        (a[i] >= '0' && a[i] <= '9') || a[i] == '.' ||
		        a[i] == '-' || a[i] == '_'))
			return false;
	return true;
}

enum err
audit_cert_add_evidence(struct audit_cert *c,
    const struct audit_cert_evidence *e)
{
	struct audit_cert_evidence *slot;

	if (e->action == NULL || !action_ok(e->action) ||
	    e->path_len > AUDIT_CERT_MAX_PATH ||
	    e->leaf_len > AUDIT_CERT_MAX_LEAF ||
	    (e->path_len > 0 && e->path == NULL))
		return ERR_INVALID;
	slot = grow((void **)&c->evidence, &c->n_evidence, sizeof(*slot),
	    AUDIT_CERT_MAX_EVIDENCE);
	if (slot == NULL)
		return ERR_TOO_BIG;
	*slot = *e;
	slot->action = dup_str(e->action);
	slot->path = NULL;
	slot->leaf = NULL;
	if (e->path_len > 0) {
		slot->path = calloc(e->path_len, CRY_HASH_LEN);
		if (slot->path != NULL)
			memcpy(slot->path, e->path, e->path_len * CRY_HASH_LEN);
	}
	if (e->leaf != NULL) {
		slot->leaf = malloc(e->leaf_len + 1);
		if (slot->leaf != NULL)
			memcpy(slot->leaf, e->leaf, e->leaf_len);
	}
	if (slot->action == NULL || (e->path_len > 0 && slot->path == NULL) ||
	    (e->leaf != NULL && slot->leaf == NULL)) {
		free(slot->action);
		free(slot->path);
		free(slot->leaf);
		c->n_evidence--;
		return ERR_NOMEM;
	}
	return ERR_OK;
}

/* ---- formatting ---- */

static enum err
put_doc(struct bytes *b, const struct audit_cert_doc *d, bool retained)
{
	enum err r;

	r = bytes_printf(b, "%s: ", retained ? "retained" : "destroyed");
	if (r == ERR_OK)
		r = put_pct(b, d->number);
	if (r == ERR_OK)
		r = bytes_printf(b,
		    " %llu sha256=", (unsigned long long)d->size);
	if (r == ERR_OK)
		r = put_hex(b, d->sha256);
	if (r == ERR_OK)
		r = bytes_put_str(b, " cipher-sha256=");
	if (r == ERR_OK)
		r = put_hex(b, d->cipher_sha256);
	if (r == ERR_OK && retained) {
		r = bytes_put_str(b, " reason=");
		if (r == ERR_OK)
			r = put_pct(b, d->reason);
		if (r == ERR_OK)
			r = bytes_put_str(b, " until=");
		if (r == ERR_OK)
			r = put_pct(b, d->until);
	}
	if (r == ERR_OK)
		r = bytes_printf(b,
		    " log=%llu key=", (unsigned long long)d->log_index);
	if (r == ERR_OK)
		r = put_pct(b, d->key_id);
	if (r == ERR_OK)
		r = bytes_put_str(b, " file=");
	if (r == ERR_OK)
		r = put_pct(b, d->file);
	if (r == ERR_OK)
		r = bytes_put_str(b, " name=");
	if (r == ERR_OK)
		r = put_pct(b, d->name);
	if (r == ERR_OK)
		r = bytes_put_str(b, "\n");
	return r;
}

static enum err
put_field(struct bytes *b, const char *key, const char *v)
{
	return bytes_printf(b, "%s: %s\n", key, v);
}

enum err
audit_cert_format(const struct audit_cert *c, struct bytes *out)
{
	enum err r = ERR_OK;
	uint64_t total = 0;

	if ((r = bytes_printf(out, "%s\n", AUDIT_CERT_FORMAT)) != ERR_OK)
		return r;
	for (size_t s = 0; s < NSLOTS && r == ERR_OK; s++) {
		switch (slots[s].kind) {
		case S_FIELD: {
			const char *v = c->f[slots[s].f];
			if (v == NULL) {
				if (!field_optional(slots[s].f))
					return ERR_INVALID;
				break;
			}
			r = put_field(out, field_key[slots[s].f], v);
			break;
		}
		case S_DESTROYED:
			for (size_t i = 0; i < c->n_destroyed && r == ERR_OK;
			     i++) {
				r = put_doc(out, &c->destroyed[i], false);
				total += c->destroyed[i].size;
			}
			if (r == ERR_OK)
				r = bytes_printf(out,
				    "destroyed-count: %zu\n"
				    "destroyed-bytes: %llu\n",
				    c->n_destroyed, (unsigned long long)total);
			break;
		case S_RETAINED:
			for (size_t i = 0; i < c->n_retained && r == ERR_OK;
			     i++)
				r = put_doc(out, &c->retained[i], true);
			if (r == ERR_OK)
				r = bytes_printf(out, "retained-count: %zu\n",
				    c->n_retained);
			break;
		case S_KEYS:
			for (size_t i = 0; i < c->n_keys && r == ERR_OK; i++)
				r = put_field(out, "keys-destroyed",
				    c->keys[i]);
			break;
		case S_BACKUPS:
			for (size_t i = 0; i < c->n_backups && r == ERR_OK; i++)
				r = put_field(out, "backups", c->backups[i]);
			break;
		case S_CHECKPOINT:
			r = bytes_printf(out, "evidence-checkpoint: %llu ",
			    (unsigned long long)c->cp_size);
			if (r == ERR_OK)
				r = put_b64(out, c->cp_root, CRY_HASH_LEN);
			if (r == ERR_OK)
				r = bytes_put_str(out, "\n");
			break;
		case S_EVIDENCE:
			for (size_t i = 0; i < c->n_evidence && r == ERR_OK;
			     i++) {
				const struct audit_cert_evidence *e =
				    &c->evidence[i];
				r = bytes_printf(out, "evidence: %s %llu ",
				    e->action, (unsigned long long)e->index);
				if (r == ERR_OK)
					r = put_b64(out, e->leaf_hash,
					    CRY_HASH_LEN);
				if (r == ERR_OK)
					r = bytes_put_str(out, "\n");
			}
			break;
		}
	}
	return r;
}

/* ---- parsing ---- */

struct line {
	const char *key;
	size_t key_len;
	const char *v;
	size_t v_len;
};

/* Splits "key: value"; the key is [a-z-]+. */
static enum err
split_line(const char *p, size_t len, struct line *l)
{
	const char *colon = memchr(p, ':', len);
	size_t k;

	if (colon == NULL)
		return ERR_INVALID;
	k = (size_t)(colon - p);
	if (k == 0 || k > 32 || k + 2 > len || colon[1] != ' ')
		return ERR_INVALID;
	for (size_t i = 0; i < k; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || p[i] == '-'))
			return ERR_INVALID;
	l->key = p;
	l->key_len = k;
	l->v = colon + 2;
	l->v_len = len - k - 2;
	if (!value_ok(l->v, l->v_len))
		return ERR_INVALID;
	return ERR_OK;
}

static bool
key_is(const struct line *l, const char *k)
{
	return l->key_len == strlen(k) && memcmp(l->key, k, l->key_len) == 0;
}

/* Next space-separated token of [*p, end); ERR_INVALID if none. */
static enum err
next_tok(const char **p, const char *end, const char **t, size_t *tl)
{
	const char *s = *p, *e;

	if (s >= end)
		return ERR_INVALID;
	e = memchr(s, ' ', (size_t)(end - s));
	if (e == NULL)
		e = end;
	if (e == s)
		return ERR_INVALID;
	*t = s;
	*tl = (size_t)(e - s);
	*p = e < end ? e + 1 : end;
	return ERR_OK;
}

/* A "name=value" token with the given name: the value part. */
static enum err
tagged(const char *t, size_t tl, const char *name, const char **v, size_t *vl)
{
	size_t n = strlen(name);

	if (tl <= n + 1 || memcmp(t, name, n) != 0 || t[n] != '=')
		return ERR_INVALID;
	*v = t + n + 1;
	*vl = tl - n - 1;
	return ERR_OK;
}

static enum err
parse_doc(const struct line *l, bool retained, struct audit_cert *c)
{
	struct audit_cert_doc d;
	const char *p = l->v, *end = l->v + l->v_len, *t, *v;
	size_t tl, vl;
	enum err r = ERR_INVALID;

	memset(&d, 0, sizeof(d));
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    pct_decode(t, tl, &d.number) != ERR_OK)
		goto out;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    parse_u64(t, tl, &d.size) != ERR_OK)
		goto out;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    tagged(t, tl, "sha256", &v, &vl) != ERR_OK ||
	    parse_hex32(v, vl, d.sha256) != ERR_OK)
		goto out;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    tagged(t, tl, "cipher-sha256", &v, &vl) != ERR_OK ||
	    parse_hex32(v, vl, d.cipher_sha256) != ERR_OK)
		goto out;
	if (retained) {
		if (next_tok(&p, end, &t, &tl) != ERR_OK ||
		    tagged(t, tl, "reason", &v, &vl) != ERR_OK ||
		    pct_decode(v, vl, &d.reason) != ERR_OK)
			goto out;
		if (next_tok(&p, end, &t, &tl) != ERR_OK ||
		    tagged(t, tl, "until", &v, &vl) != ERR_OK ||
		    pct_decode(v, vl, &d.until) != ERR_OK)
			goto out;
	}
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    tagged(t, tl, "log", &v, &vl) != ERR_OK ||
	    parse_u64(v, vl, &d.log_index) != ERR_OK)
		goto out;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    tagged(t, tl, "key", &v, &vl) != ERR_OK ||
	    pct_decode(v, vl, &d.key_id) != ERR_OK)
		goto out;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    tagged(t, tl, "file", &v, &vl) != ERR_OK ||
	    pct_decode(v, vl, &d.file) != ERR_OK)
		goto out;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    tagged(t, tl, "name", &v, &vl) != ERR_OK ||
	    pct_decode(v, vl, &d.name) != ERR_OK)
		goto out;
	if (p != end)
		goto out;
	r = audit_cert_add_doc(c, retained, &d);
out:
	doc_release(&d);
	return r;
}

static enum err
parse_evidence_line(const struct line *l, struct audit_cert *c)
{
	struct audit_cert_evidence e;
	const char *p = l->v, *end = l->v + l->v_len, *t;
	size_t tl;
	char action[65];

	memset(&e, 0, sizeof(e));
	if (next_tok(&p, end, &t, &tl) != ERR_OK || tl >= sizeof(action))
		return ERR_INVALID;
	memcpy(action, t, tl);
	action[tl] = 0;
	e.action = action;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    parse_u64(t, tl, &e.index) != ERR_OK)
		return ERR_INVALID;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    parse_b64_32(t, tl, e.leaf_hash) != ERR_OK || p != end)
		return ERR_INVALID;
	return audit_cert_add_evidence(c, &e);
}

static enum err
parse_checkpoint_line(const struct line *l, struct audit_cert *c)
{
	const char *p = l->v, *end = l->v + l->v_len, *t;
	size_t tl;

	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    parse_u64(t, tl, &c->cp_size) != ERR_OK)
		return ERR_INVALID;
	if (next_tok(&p, end, &t, &tl) != ERR_OK ||
	    parse_b64_32(t, tl, c->cp_root) != ERR_OK || p != end)
		return ERR_INVALID;
	return ERR_OK;
}

static enum err
parse_lines(struct span text, struct audit_cert *c)
{
	const char *p = (const char *)text.p, *end = p + text.len;
	const char *nl;
	size_t s = 0, flen = strlen(AUDIT_CERT_FORMAT);
	struct line l;
	bool have = false;
	enum err r;

	if (text.len < flen + 1 || memcmp(p, AUDIT_CERT_FORMAT, flen) != 0 ||
	    p[flen] != '\n')
		return ERR_INVALID;
	p += flen + 1;
	for (;;) {
		if (!have) {
			if (p == end)
				break;
			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				return ERR_INVALID; /* last line unterminated */
			if ((r = split_line(p, (size_t)(nl - p), &l)) != ERR_OK)
				return r;
			p = nl + 1;
			have = true;
		}
		if (s >= NSLOTS)
			return ERR_INVALID; /* a line after the last slot */
		switch (slots[s].kind) {
		case S_FIELD:
			if (key_is(&l, field_key[slots[s].f])) {
				c->f[slots[s].f] = dup_n(l.v, l.v_len);
				if (c->f[slots[s].f] == NULL)
					return ERR_NOMEM;
				have = false;
			} else if (!field_optional(slots[s].f)) {
				return ERR_INVALID;
			}
			s++;
			break;
		case S_DESTROYED:
		case S_RETAINED: {
			bool ret = slots[s].kind == S_RETAINED;
			if (key_is(&l, ret ? "retained" : "destroyed")) {
				if ((r = parse_doc(&l, ret, c)) != ERR_OK)
					return r;
				have = false;
				break;
			}
			/* the counts are checked by the round trip */
			if (!key_is(&l,
			        ret ? "retained-count" : "destroyed-count"))
				return ERR_INVALID;
			have = false;
			if (!ret) {
				/* destroyed-bytes must follow */
				if (p == end)
					return ERR_INVALID;
				nl = memchr(p, '\n', (size_t)(end - p));
				if (nl == NULL ||
				    split_line(p, (size_t)(nl - p), &l) !=
				        ERR_OK ||
				    !key_is(&l, "destroyed-bytes"))
					return ERR_INVALID;
				p = nl + 1;
			}
			s++;
			break;
		}
		case S_KEYS:
		case S_BACKUPS: {
			bool bk = slots[s].kind == S_BACKUPS;
			if (key_is(&l, bk ? "backups" : "keys-destroyed")) {
				char *v = dup_n(l.v, l.v_len);
				if (v == NULL)
					return ERR_NOMEM;
				r = audit_cert_add_line(c, bk, v);
				free(v);
				if (r != ERR_OK)
					return r;
				have = false;
			} else {
				s++;
			}
			break;
		}
		case S_CHECKPOINT:
			if (!key_is(&l, "evidence-checkpoint"))
				return ERR_INVALID;
			if ((r = parse_checkpoint_line(&l, c)) != ERR_OK)
				return r;
			have = false;
			s++;
			break;
		case S_EVIDENCE:
			if (key_is(&l, "evidence")) {
				if ((r = parse_evidence_line(&l, c)) != ERR_OK)
					return r;
				have = false;
			} else {
				s++;
			}
			break;
		}
	}
	/* Every remaining slot must be optional or repeatable-empty. */
	for (; s < NSLOTS; s++)
		if (slots[s].kind != S_KEYS && slots[s].kind != S_BACKUPS &&
		    slots[s].kind != S_EVIDENCE &&
		    !(slots[s].kind == S_FIELD && field_optional(slots[s].f)))
			return ERR_INVALID;
	return ERR_OK;
}

enum err
audit_cert_parse(struct span text, struct audit_cert *c)
{
	struct bytes again;
	enum err r = ERR_INTERNAL;

	audit_cert_release(c);
	bytes_init(&again, AUDIT_CERT_MAX_FILE);
	if (text.len == 0 || text.len > AUDIT_CERT_MAX_FILE) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = parse_lines(text, c)) != ERR_OK)
		goto out;
	/* The round trip: one spelling per certificate. */
	if ((r = audit_cert_format(c, &again)) != ERR_OK)
		goto out;
	if (again.len != text.len || memcmp(again.p, text.p, text.len) != 0) {
		r = ERR_INVALID;
		goto out;
	}
	if (strcmp(c->f[AUDIT_CERT_STAGE], "primary") != 0 &&
	    strcmp(c->f[AUDIT_CERT_STAGE], "final") != 0) {
		r = ERR_INVALID;
		goto out;
	}
	r = ERR_OK;
out:
	if (r != ERR_OK)
		audit_cert_release(c);
	bytes_release(&again);
	return r;
}

/* ---- the bundle ---- */

static enum err
put_bundle(const struct audit_cert *c, struct bytes *out)
{
	enum err r;

	if (c->checkpoint.len == 0)
		return ERR_INVALID;
	r = bytes_printf(out, "\n%s\n", AUDIT_CERT_EVIDENCE_FORMAT);
	for (size_t i = 0; i < c->n_evidence && r == ERR_OK; i++) {
		const struct audit_cert_evidence *e = &c->evidence[i];
		if (e->leaf != NULL) {
			r = bytes_printf(out, "leaf %llu ",
			    (unsigned long long)e->index);
			if (r == ERR_OK)
				r = put_b64(out, e->leaf, e->leaf_len);
			if (r == ERR_OK)
				r = bytes_put_str(out, "\n");
		}
		if (r == ERR_OK)
			r = bytes_printf(out, "proof %llu %zu\n",
			    (unsigned long long)e->index, e->path_len);
		for (size_t k = 0; k < e->path_len && r == ERR_OK; k++) {
			r = put_b64(out, e->path[k], CRY_HASH_LEN);
			if (r == ERR_OK)
				r = bytes_put_str(out, "\n");
		}
	}
	if (r == ERR_OK)
		r = bytes_put_str(out, "checkpoint\n");
	if (r == ERR_OK)
		r = bytes_put(out, c->checkpoint.p, c->checkpoint.len);
	return r;
}

enum err
audit_cert_bundle(const struct audit_cert *c, struct span signed_note,
    struct bytes *out)
{
	enum err r;

	if ((r = bytes_put(out, signed_note.p, signed_note.len)) != ERR_OK)
		return r;
	return put_bundle(c, out);
}

/* Splits a file into the signed note and the evidence bundle. */
static enum err
split_file(struct span file, struct span *note, struct span *bundle)
{
	const char *p = (const char *)file.p, *end = p + file.len, *nl;
	const char *blank = NULL;
	size_t dash = strlen("\xe2\x80\x94 ");
	bool sigs = false;

	/* The text has no blank line: the first one ends it. */
	for (const char *q = p; q + 1 < end; q++)
		if (q[0] == '\n' && q[1] == '\n') {
			blank = q + 1;
			break;
		}
	if (blank == NULL)
		return ERR_INVALID;
	p = blank + 1;
	while (p < end && (size_t)(end - p) > dash &&
	       memcmp(p, "\xe2\x80\x94 ", dash) == 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return ERR_INVALID;
		p = nl + 1;
		sigs = true;
	}
	if (!sigs || p >= end || *p != '\n')
		return ERR_INVALID;
	*note = span_of(file.p, (size_t)(p - (const char *)file.p));
	*bundle = span_of(p + 1, (size_t)(end - p - 1));
	return ERR_OK;
}

static enum err
bundle_line(const char **p, const char *end, const char **l, size_t *ll)
{
	const char *nl;

	if (*p >= end)
		return ERR_INVALID;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		return ERR_INVALID;
	*l = *p;
	*ll = (size_t)(nl - *p);
	*p = nl + 1;
	return ERR_OK;
}

static struct audit_cert_evidence *
find_evidence(struct audit_cert *c, uint64_t index, size_t from)
{
	for (size_t i = from; i < c->n_evidence; i++)
		if (c->evidence[i].index == index)
			return &c->evidence[i];
	return NULL;
}

/* Parses the bundle into c's evidence paths, leaves and checkpoint. */
static enum err
parse_bundle(struct span bundle, struct audit_cert *c)
{
	const char *p = (const char *)bundle.p, *end = p + bundle.len, *l;
	size_t ll, next = 0;
	struct bytes tmp;
	enum err r = ERR_INVALID;

	bytes_init(&tmp, AUDIT_CERT_MAX_LEAF + 4);
	if (bundle_line(&p, end, &l, &ll) != ERR_OK ||
	    ll != strlen(AUDIT_CERT_EVIDENCE_FORMAT) ||
	    memcmp(l, AUDIT_CERT_EVIDENCE_FORMAT, ll) != 0)
		goto out;
	for (;;) {
		struct audit_cert_evidence *e;
		const char *q, *t;
		size_t tl;
		uint64_t idx, n;

		if (bundle_line(&p, end, &l, &ll) != ERR_OK)
			goto out;
		if (ll == 10 && memcmp(l, "checkpoint", 10) == 0)
			break;
		q = l;
		if (next_tok(&q, l + ll, &t, &tl) != ERR_OK)
			goto out;
		if (tl == 4 && memcmp(t, "leaf", 4) == 0) {
			if (next_tok(&q, l + ll, &t, &tl) != ERR_OK ||
			    parse_u64(t, tl, &idx) != ERR_OK ||
			    next >= c->n_evidence ||
			    c->evidence[next].index != idx ||
			    c->evidence[next].leaf != NULL)
				goto out;
			e = &c->evidence[next];
			if (next_tok(&q, l + ll, &t, &tl) != ERR_OK ||
			    q != l + ll || tl > AUDIT_CERT_MAX_LEAF / 3 * 4 + 4)
				goto out;
			bytes_clear(&tmp);
			if (cry_b64_decode(t, tl, &tmp) != ERR_OK)
				goto out;
			if ((e->leaf = malloc(tmp.len + 1)) == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			memcpy(e->leaf, tmp.p, tmp.len);
			e->leaf_len = tmp.len;
			continue;
		}
		if (!(tl == 5 && memcmp(t, "proof", 5) == 0))
			goto out;
		if (next_tok(&q, l + ll, &t, &tl) != ERR_OK ||
		    parse_u64(t, tl, &idx) != ERR_OK ||
		    next_tok(&q, l + ll, &t, &tl) != ERR_OK ||
		    parse_u64(t, tl, &n) != ERR_OK || q != l + ll ||
		    n > AUDIT_CERT_MAX_PATH)
			goto out;
		/* proofs come in the order of the evidence lines */
		e = find_evidence(c, idx, next);
		if (e == NULL || e != &c->evidence[next])
			goto out;
		next++;
		if (n > 0 &&
		    (e->path = calloc((size_t)n, CRY_HASH_LEN)) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		e->path_len = (size_t)n;
		for (size_t k = 0; k < n; k++)
			if (bundle_line(&p, end, &l, &ll) != ERR_OK ||
			    parse_b64_32(l, ll, e->path[k]) != ERR_OK)
				goto out;
	}
	if (next != c->n_evidence)
		goto out;
	bytes_clear(&c->checkpoint);
	if ((r = bytes_put(&c->checkpoint, p, (size_t)(end - p))) != ERR_OK)
		goto out;
	r = ERR_OK;
out:
	bytes_release(&tmp);
	return r;
}

/* ---- verification ---- */

static void
node_hash(const uint8_t l[static CRY_HASH_LEN],
    const uint8_t rt[static CRY_HASH_LEN], uint8_t out[static CRY_HASH_LEN])
{
	uint8_t buf[1 + 2 * CRY_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l, CRY_HASH_LEN);
	memcpy(buf + 1 + CRY_HASH_LEN, rt, CRY_HASH_LEN);
	cry_sha256(buf, sizeof(buf), out);
}

enum err
audit_cert_check_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf[static CRY_HASH_LEN],
    const uint8_t (*path)[CRY_HASH_LEN], size_t path_len,
    const uint8_t root[static CRY_HASH_LEN])
{
	uint64_t fn = index, sn;
	uint8_t r[CRY_HASH_LEN];

	if (index >= size)
		return ERR_CORRUPT;
	sn = size - 1;
	memcpy(r, leaf, CRY_HASH_LEN);
	for (size_t i = 0; i < path_len; i++) {
		if (sn == 0)
			return ERR_CORRUPT;
		if ((fn & 1) == 1 || fn == sn) {
			node_hash(path[i], r, r);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			node_hash(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !cry_equal(r, root, CRY_HASH_LEN))
		return ERR_CORRUPT;
	return ERR_OK;
}

void
audit_cert_tree_root(const uint8_t (*leaves)[CRY_HASH_LEN], uint64_t size,
    uint8_t root[static CRY_HASH_LEN])
{
	uint8_t l[CRY_HASH_LEN], rt[CRY_HASH_LEN];
	uint64_t k = 1;

	if (size == 0) {
		cry_sha256("", 0, root);
		return;
	}
	if (size == 1) {
		memcpy(root, leaves[0], CRY_HASH_LEN);
		return;
	}
	while (k << 1 < size)
		k <<= 1;
	audit_cert_tree_root(leaves, k, l);
	audit_cert_tree_root(leaves + k, size - k, rt);
	node_hash(l, rt, root);
}

enum err
audit_cert_tree_path(const uint8_t (*leaves)[CRY_HASH_LEN], uint64_t size,
    uint64_t index, uint8_t (*path)[CRY_HASH_LEN], size_t *path_len)
{
	uint64_t k = 1;
	enum err r;

	if (index >= size)
		return ERR_INVALID;
	if (size == 1) {
		*path_len = 0;
		return ERR_OK;
	}
	while (k << 1 < size)
		k <<= 1;
	if (index < k) {
		r = audit_cert_tree_path(leaves, k, index, path, path_len);
		if (r != ERR_OK)
			return r;
		if (*path_len >= AUDIT_CERT_MAX_PATH)
			return ERR_TOO_BIG;
		audit_cert_tree_root(leaves + k, size - k, path[*path_len]);
	} else {
		r = audit_cert_tree_path(leaves + k, size - k, index - k, path,
		    path_len);
		if (r != ERR_OK)
			return r;
		if (*path_len >= AUDIT_CERT_MAX_PATH)
			return ERR_TOO_BIG;
		audit_cert_tree_root(leaves, k, path[*path_len]);
	}
	(*path_len)++;
	return ERR_OK;
}

/*
 * Levels of an RFC 9162 tree: level 0 the leaves, level k+1 the hashes of
 * pairs of level k, an unpaired last node carried up unchanged. That is
 * the same tree as the recursive definition (the largest power of two
 * split), so paths read off the levels are RFC 9162 inclusion paths.
 */
struct audit_cert_tree {
	uint64_t size;
	size_t nlevels;
	uint64_t count[65];
	uint8_t (*level[65])[CRY_HASH_LEN];
};

void
audit_cert_tree_free(struct audit_cert_tree *t)
{
	if (t == NULL)
		return;
	for (size_t i = 1; i < t->nlevels; i++)
		free(t->level[i]);
	free(t->level[0]);
	free(t);
}

enum err
audit_cert_tree_new(const uint8_t (*leaves)[CRY_HASH_LEN], uint64_t size,
    struct audit_cert_tree **out)
{
	struct audit_cert_tree *t;
	uint64_t n = size;

	*out = NULL;
	if (size == 0 || size > (SIZE_MAX / CRY_HASH_LEN) / 2)
		return ERR_INVALID;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERR_NOMEM;
	t->size = size;
	t->level[0] = malloc((size_t)size * CRY_HASH_LEN);
	if (t->level[0] == NULL) {
		free(t);
		return ERR_NOMEM;
	}
	memcpy(t->level[0], leaves, (size_t)size * CRY_HASH_LEN);
	t->count[0] = size;
	t->nlevels = 1;
	while (n > 1) {
		uint64_t m = (n + 1) / 2;
		uint8_t(*up)[CRY_HASH_LEN] = malloc((size_t)m * CRY_HASH_LEN);
		uint8_t(*lo)[CRY_HASH_LEN] = t->level[t->nlevels - 1];
		if (up == NULL) {
			audit_cert_tree_free(t);
			return ERR_NOMEM;
		}
		for (uint64_t i = 0; i + 1 < n; i += 2)
			node_hash(lo[i], lo[i + 1], up[i / 2]);
		if (n % 2 == 1)
			memcpy(up[m - 1], lo[n - 1], CRY_HASH_LEN);
		t->level[t->nlevels] = up;
		t->count[t->nlevels++] = m;
		n = m;
	}
	*out = t;
	return ERR_OK;
}

void
audit_cert_tree_root_of(const struct audit_cert_tree *t,
    uint8_t root[static CRY_HASH_LEN])
{
	memcpy(root, t->level[t->nlevels - 1][0], CRY_HASH_LEN);
}

enum err
audit_cert_tree_prove(const struct audit_cert_tree *t, uint64_t index,
    uint8_t (*path)[CRY_HASH_LEN], size_t *path_len)
{
	uint64_t i = index;

	*path_len = 0;
	if (index >= t->size)
		return ERR_INVALID;
	for (size_t l = 0; l + 1 < t->nlevels; l++, i >>= 1) {
		uint64_t sib = i ^ 1;
		if (sib >= t->count[l])
			continue; /* carried up: no sibling at this level */
		if (*path_len >= AUDIT_CERT_MAX_PATH)
			return ERR_TOO_BIG;
		memcpy(path[(*path_len)++], t->level[l][sib], CRY_HASH_LEN);
	}
	return ERR_OK;
}

static void report(struct bytes *rep, bool good, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
report(struct bytes *rep, bool good, const char *fmt, ...)
{
	va_list ap;

	if (rep == NULL)
		return;
	if (bytes_put_str(rep, good ? "ok   " : "FAIL ") != ERR_OK)
		return;
	va_start(ap, fmt);
	if (bytes_vprintf(rep, fmt, ap) == ERR_OK)
		(void)!bytes_put_str(rep, "\n");
	va_end(ap);
}

/* Checks the checkpoint note: signed by vkey, origin, size, root. */
static enum err
check_checkpoint(struct audit_cert *c, const char *vkey, struct bytes *rep)
{
	struct span text;
	const char *p, *end, *nl;
	uint64_t size = 0;
	uint8_t root[CRY_HASH_LEN];
	size_t olen = strlen(c->f[AUDIT_CERT_LOG_ORIGIN]);
	enum err r;

	r = cry_note_verify(bytes_span(&c->checkpoint), vkey, &text);
	if (r != ERR_OK) {
		report(rep, false, "checkpoint signature by the log key");
		return r == ERR_INVALID ? ERR_INVALID : ERR_BAD_SIGNATURE;
	}
	report(rep, true, "checkpoint signature by the log key");
	p = (const char *)text.p;
	end = p + text.len;
	if ((size_t)(end - p) < olen + 1 ||
	    memcmp(p, c->f[AUDIT_CERT_LOG_ORIGIN], olen) != 0 ||
	    p[olen] != '\n') {
		report(rep, false, "checkpoint origin is log-origin");
		return ERR_CORRUPT;
	}
	p += olen + 1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    parse_u64(p, (size_t)(nl - p), &size) != ERR_OK)
		return ERR_INVALID;
	p = nl + 1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    parse_b64_32(p, (size_t)(nl - p), root) != ERR_OK)
		return ERR_INVALID;
	if (size != c->cp_size || !cry_equal(root, c->cp_root, CRY_HASH_LEN)) {
		report(rep, false,
		    "checkpoint size and root match evidence-checkpoint");
		return ERR_CORRUPT;
	}
	report(rep, true,
	    "checkpoint origin, size and root match the certificate");
	return ERR_OK;
}

static enum err
check_evidence(struct audit_cert *c, struct bytes *rep)
{
	char msg[160];

	for (size_t i = 0; i < c->n_evidence; i++) {
		struct audit_cert_evidence *e = &c->evidence[i];
		if (e->leaf != NULL) {
			uint8_t h[CRY_HASH_LEN];
			struct cry_sha256 s;
			uint8_t z = 0;
			if (cry_sha256_init(&s) != ERR_OK)
				return ERR_INTERNAL;
			cry_sha256_update(&s, &z, 1);
			cry_sha256_update(&s, e->leaf, e->leaf_len);
			cry_sha256_final(&s, h);
			if (!cry_equal(h, e->leaf_hash, CRY_HASH_LEN)) {
				snprintf(msg, sizeof(msg), "%s %llu", e->action,
				    (unsigned long long)e->index);
				report(rep, false,
				    "leaf bytes of %s hash to "
				    "the cited leaf hash",
				    msg);
				return ERR_CORRUPT;
			}
		}
		if (audit_cert_check_inclusion(e->index, c->cp_size,
		        e->leaf_hash, (const uint8_t(*)[CRY_HASH_LEN])e->path,
		        e->path_len, c->cp_root) != ERR_OK) {
			snprintf(msg, sizeof(msg), "%s %llu", e->action,
			    (unsigned long long)e->index);
			report(rep, false,
			    "inclusion proof of %s in the checkpoint", msg);
			return ERR_CORRUPT;
		}
	}
	snprintf(msg, sizeof(msg), "%zu", c->n_evidence);
	report(rep, true, "inclusion proofs of all %s cited events", msg);
	return ERR_OK;
}

static bool
evidence_has_index(const struct audit_cert *c, uint64_t index)
{
	for (size_t i = 0; i < c->n_evidence; i++)
		if (c->evidence[i].index == index)
			return true;
	return false;
}

static bool
evidence_has_action(const struct audit_cert *c, const char *action)
{
	for (size_t i = 0; i < c->n_evidence; i++)
		if (strcmp(c->evidence[i].action, action) == 0)
			return true;
	return false;
}

/* The claims that can be checked inside the certificate itself. */
static enum err
check_semantics(const struct audit_cert *c, struct bytes *rep)
{
	if (strcmp(c->f[AUDIT_CERT_RESULT], "PASS") != 0) {
		report(rep, false, "result is PASS");
		return ERR_CORRUPT;
	}
	for (size_t i = 0; i < c->n_destroyed; i++)
		if (!evidence_has_index(c, c->destroyed[i].log_index)) {
			report(rep, false,
			    "destroyed document %s cites its storing event",
			    c->destroyed[i].number);
			return ERR_CORRUPT;
		}
	for (size_t i = 0; i < c->n_retained; i++) {
		if (!evidence_has_index(c, c->retained[i].log_index)) {
			report(rep, false,
			    "retained document %s cites its re-seal event",
			    c->retained[i].number);
			return ERR_CORRUPT;
		}
		for (size_t k = 0; k < c->n_destroyed; k++)
			if (strcmp(c->retained[i].key_id,
			        c->destroyed[k].key_id) == 0) {
				report(rep, false,
				    "retained document %s is under a key that "
				    "was not destroyed",
				    c->retained[i].number);
				return ERR_CORRUPT;
			}
	}
	if (!evidence_has_action(c, "case.erase") &&
	    !evidence_has_action(c, "case.rekey")) {
		report(rep, false, "the erasure event is cited");
		return ERR_CORRUPT;
	}
	report(rep, true,
	    "result PASS; every document cites its event; retained keys "
	    "differ from destroyed ones");
	return ERR_OK;
}

enum err
audit_cert_verify(struct span file, const char *vkey, struct audit_cert *out,
    struct bytes *rep)
{
	struct audit_cert c;
	struct span note, bundle, text;
	enum err r = ERR_INTERNAL;

	audit_cert_init(&c);
	if (file.len > AUDIT_CERT_MAX_FILE ||
	    split_file(file, &note, &bundle) != ERR_OK) {
		report(rep, false, "certificate file layout");
		r = ERR_INVALID;
		goto out;
	}
	if ((r = cry_note_verify(note, vkey, &text)) != ERR_OK) {
		report(rep, false, "certificate signature by the log key");
		if (r != ERR_INVALID)
			r = ERR_BAD_SIGNATURE;
		goto out;
	}
	report(rep, true, "certificate signature by the log key");
	if ((r = audit_cert_parse(text, &c)) != ERR_OK) {
		report(rep, false, "certificate text is well formed");
		goto out;
	}
	report(rep, true, "certificate text is well formed (%s)",
	    c.f[AUDIT_CERT_ID]);
	if ((r = parse_bundle(bundle, &c)) != ERR_OK) {
		report(rep, false, "evidence bundle is well formed");
		goto out;
	}
	if ((r = check_checkpoint(&c, vkey, rep)) != ERR_OK)
		goto out;
	if ((r = check_evidence(&c, rep)) != ERR_OK)
		goto out;
	if ((r = check_semantics(&c, rep)) != ERR_OK)
		goto out;
	r = ERR_OK;
	if (out != NULL) {
		audit_cert_release(out);
		*out = c; /* transferred */
		audit_cert_init(&c);
	}
out:
	audit_cert_release(&c);
	return r;
}

/* ---- HTML ---- */

static enum err
put_html(struct bytes *b, const char *s)
{
	enum err r = ERR_OK;

	for (; s != NULL && *s != 0 && r == ERR_OK; s++) {
		switch (*s) {
		case '&':
			r = bytes_put_str(b, "&amp;");
			break;
		case '<':
			r = bytes_put_str(b, "&lt;");
			break;
		case '>':
			r = bytes_put_str(b, "&gt;");
			break;
		case '"':
			r = bytes_put_str(b, "&quot;");
			break;
		case '\'':
			r = bytes_put_str(b, "&#39;");
			break;
		default:
			r = bytes_put(b, s, 1);
		}
	}
	return r;
}

static enum err
html_row(struct bytes *b, const char *ja, const char *en, const char *v)
{
	enum err r;

	r = bytes_printf(b, "<tr><th>%s<br><span class=en>%s</span></th><td>",
	    ja, en);
	if (r == ERR_OK)
		r = put_html(b, v);
	if (r == ERR_OK)
		r = bytes_put_str(b, "</td></tr>\n");
	return r;
}

static enum err
html_docs(struct bytes *b, const struct audit_cert_doc *d, size_t n,
    bool retained)
{
	char hx[2 * CRY_HASH_LEN + 1];
	enum err r;

	r = bytes_printf(b,
	    "<table class=docs><tr><th>資料番号<br><span class=en>No.</span>"
	    "</th><th>ファイル名<br><span class=en>File name</span></th>"
	    "<th>サイズ<br><span class=en>Bytes</span></th>"
	    "<th>SHA-256</th>%s</tr>\n",
	    retained ? "<th>理由・保存期限<br><span class=en>Reason, until"
	               "</span></th>"
	             : "");
	for (size_t i = 0; i < n && r == ERR_OK; i++) {
		hex_encode(d[i].sha256, CRY_HASH_LEN, hx);
		r = bytes_put_str(b, "<tr><td>");
		if (r == ERR_OK)
			r = put_html(b, d[i].number);
		if (r == ERR_OK)
			r = bytes_put_str(b, "</td><td>");
		if (r == ERR_OK)
			r = put_html(b, d[i].name);
		if (r == ERR_OK)
			r = bytes_printf(b,
			    "</td><td>%llu</td><td class=h>%s</td>",
			    (unsigned long long)d[i].size, hx);
		if (r == ERR_OK && retained) {
			r = bytes_put_str(b, "<td>");
			if (r == ERR_OK)
				r = put_html(b, d[i].reason);
			if (r == ERR_OK)
				r = bytes_put_str(b, ", ");
			if (r == ERR_OK)
				r = put_html(b, d[i].until);
			if (r == ERR_OK)
				r = bytes_put_str(b, "</td>");
		}
		if (r == ERR_OK)
			r = bytes_put_str(b, "</tr>\n");
	}
	if (r == ERR_OK)
		r = bytes_put_str(b, "</table>\n");
	return r;
}

enum err
audit_cert_render_html(const struct audit_cert *c, struct span file,
    struct bytes *out)
{
	uint8_t h[CRY_HASH_LEN];
	char hx[2 * CRY_HASH_LEN + 1];
	char buf[64];
	struct bytes tmp;
	enum err r;
	const char *const *f = (const char *const *)c->f;

	cry_sha256(file.p, file.len, h);
	hex_encode(h, CRY_HASH_LEN, hx);
	r = bytes_put_str(out,
	    "<!DOCTYPE html>\n<html lang=ja><head><meta charset=utf-8>"
	    "<title>削除証明書 Deletion certificate</title>\n<style>"
	    "body{font-family:'Noto Sans CJK JP','IPAexGothic',sans-serif;"
	    "margin:2em;max-width:60em}th{text-align:left;vertical-align:top;"
	    "padding-right:1em}.en{color:#555;font-size:90%}"
	    "table.docs td,table.docs th{border:1px solid #999;padding:2px 4px}"
	    ".h{font-family:monospace;font-size:75%;word-break:break-all}"
	    "pre{font-size:70%;white-space:pre-wrap;word-break:break-all;"
	    "border:1px solid #ccc;padding:.5em}"
	    "</style></head><body>\n"
	    "<h1>削除証明書<br><span class=en>Certificate of deletion</span>"
	    "</"
	    "h1>\n<p>下記の電子データを当事務局のサーバーから暗号学的消去により"
	    "削除したことを証明します。保持するものは理由とともに記載しています"
	    "。"
	    "<br><span class=en>We certify that the electronic materials "
	    "below were deleted from our server by cryptographic erasure. "
	    "Anything retained is listed with its "
	    "reason.</span></p>\n<table>\n");
	if (r == ERR_OK)
		r = html_row(out, "証明書番号", "Certificate id",
		    f[AUDIT_CERT_ID]);
	if (r == ERR_OK)
		r = html_row(out, "発行日時", "Issued at",
		    f[AUDIT_CERT_ISSUED_AT]);
	if (r == ERR_OK)
		r = html_row(out, "発行者", "Issuer", f[AUDIT_CERT_ISSUER]);
	if (r == ERR_OK)
		r = html_row(out, "段階", "Stage",
		    strcmp(f[AUDIT_CERT_STAGE], "final") == 0
		        ? "final 最終 (バックアップを含め復号不能 / unreadable "
		          "in backups too)"
		        : "primary 一次 (稼働中の鍵は破棄済み。古い鍵保管庫の"
		          "バックアップは期限まで残る / live keys destroyed; "
		          "older keystore backups remain until they expire)");
	if (r == ERR_OK && f[AUDIT_CERT_SUPERSEDES] != NULL)
		r = html_row(out, "置き換える証明書", "Supersedes",
		    f[AUDIT_CERT_SUPERSEDES]);
	if (r == ERR_OK)
		r = html_row(out, "案件番号", "Case", f[AUDIT_CERT_CASE]);
	if (r == ERR_OK)
		r = html_row(out, "受付番号", "Receipt number",
		    f[AUDIT_CERT_RECEIPT]);
	if (r == ERR_OK)
		r = html_row(out, "申請者", "Applicant",
		    f[AUDIT_CERT_APPLICANT]);
	if (r == ERR_OK)
		r = html_row(out, "認定番号", "Certification number",
		    f[AUDIT_CERT_CERTIFICATION]);
	if (r == ERR_OK)
		r = html_row(out, "削除の理由", "Basis", f[AUDIT_CERT_BASIS]);
	if (r == ERR_OK)
		r = html_row(out, "方法", "Method", f[AUDIT_CERT_METHOD]);
	if (r == ERR_OK)
		r = html_row(out, "区分", "Category", f[AUDIT_CERT_CATEGORY]);
	if (r == ERR_OK)
		r = html_row(out, "準拠", "Standards", f[AUDIT_CERT_STANDARDS]);
	if (r == ERR_OK)
		r = html_row(out, "検証", "Verification",
		    f[AUDIT_CERT_VERIFICATION]);
	if (r == ERR_OK)
		r = html_row(out, "実施者", "Operator", f[AUDIT_CERT_OPERATOR]);
	if (r == ERR_OK)
		r = html_row(out, "承認者", "Approver", f[AUDIT_CERT_APPROVER]);
	for (size_t i = 0; i < c->n_backups && r == ERR_OK; i++)
		r = html_row(out, "バックアップ", "Backups", c->backups[i]);
	if (r == ERR_OK) {
		snprintf(buf, sizeof(buf), "%zu", c->n_destroyed);
		r = bytes_printf(out,
		    "</table>\n<h2>削除した資料 (%s)<br><span class=en>"
		    "Deleted documents</span></h2>\n",
		    buf);
	}
	if (r == ERR_OK)
		r = html_docs(out, c->destroyed, c->n_destroyed, false);
	if (r == ERR_OK)
		r = bytes_printf(out,
		    "<h2>保持する資料 (%zu)<br><span class=en>Retained "
		    "documents"
		    "</span></h2>\n",
		    c->n_retained);
	if (r == ERR_OK && c->n_retained > 0)
		r = html_docs(out, c->retained, c->n_retained, true);
	else if (r == ERR_OK)
		r = bytes_put_str(out,
		    "<p>なし <span class=en>None</span></p>\n");
	if (r == ERR_OK)
		r = bytes_printf(out,
		    "<h2>検証方法<br><span class=en>How to verify</span></h2>\n"
		    "<p>この証明書の正本は下記の署名付きテキストです。"
		    "<code>kura cert verify</code> "
		    "とログの公開鍵で、鍵を持たずに"
		    "検証できます。<br><span class=en>The signed text below is "
		    "the "
		    "certificate; anyone can check it with <code>kura cert "
		    "verify</code> and the log's public key, without any "
		    "secret."
		    "</span></p>\n<p>SHA-256: <span "
		    "class=h>%s</span></p>\n<pre>",
		    hx);
	bytes_init(&tmp, AUDIT_CERT_MAX_FILE);
	if (r == ERR_OK)
		r = bytes_put(&tmp, file.p, file.len);
	if (r == ERR_OK)
		r = put_html(out, (const char *)tmp.p);
	bytes_release(&tmp);
	if (r == ERR_OK)
		r = bytes_put_str(out, "</pre>\n</body></html>\n");
	return r;
}
