/*
 * crypto/note.c - C2SP signed notes (https://c2sp.org/signed-note) with
 * Ed25519 (signature type 0x01) and their verifier key strings.
 *
 * Parsing is strict and rejects rather than repairs: a note is text (valid
 * UTF-8, no control character but '\n', ends in '\n'), a blank line, then
 * one or more lines "— name base64(keyid ‖ signature)\n". Signatures by
 * keys we were not asked about are ignored; a signature line by the key we
 * were asked about that does not verify rejects the whole note.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "common/utf8.h"
#include "common/banned.h"

#define SIG_TYPE_ED25519 0x01
static const uint8_t em_dash_sp[4] = {0xe2, 0x80, 0x94, 0x20}; /* "— " */

/* Unicode White_Space code points (what Go's unicode.IsSpace accepts). */
static bool
is_space(uint32_t cp)
{
	switch (cp) {
	case 0x09:
	case 0x0a:
	case 0x0b:
	case 0x0c:
	case 0x0d:
	case 0x20:
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

/* A key name (spec): non-empty UTF-8, no Unicode space, no '+'. */
static bool
name_valid(const uint8_t *p, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	if (len == 0 || len > CRY_NOTE_NAME_MAX)
		return false;
	while (i < len) {
		if ((n = utf8_decode(p + i, len - i, &cp)) == 0)
			return false;
		if (cp < 0x20 || cp == '+' || is_space(cp))
			return false;
		i += n;
	}
	return true;
}

/* Note text (spec): valid UTF-8, no control below 0x20 but '\n'. */
static bool
text_valid(const uint8_t *p, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_decode(p + i, len - i, &cp)) == 0)
			return false;
		if (cp < 0x20 && cp != '\n')
			return false;
		i += n;
	}
	return true;
}

static uint32_t
key_id(const uint8_t *name, size_t name_len,
    const uint8_t pk[static CRY_SIGN_PK_LEN])
{
	struct cry_sha256 h;
	uint8_t d[CRY_HASH_LEN], sep[2] = {'\n', SIG_TYPE_ED25519};

	if (cry_sha256_init(&h) != ERR_OK) {
		/* Allocation failure: fall back to the one-shot form. */
		uint8_t buf[CRY_NOTE_NAME_MAX + 2 + CRY_SIGN_PK_LEN];

		INVARIANT(name_len <= CRY_NOTE_NAME_MAX);
		memcpy(buf, name, name_len);
		memcpy(buf + name_len, sep, 2);
		memcpy(buf + name_len + 2, pk, CRY_SIGN_PK_LEN);
		cry_sha256(buf, name_len + 2 + CRY_SIGN_PK_LEN, d);
	} else {
		cry_sha256_update(&h, name, name_len);
		cry_sha256_update(&h, sep, 2);
		cry_sha256_update(&h, pk, CRY_SIGN_PK_LEN);
		cry_sha256_final(&h, d);
	}
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	       (uint32_t)d[2] << 8 | d[3];
}

enum err
cry_vkey_format(const char *name, const uint8_t pk[static CRY_SIGN_PK_LEN],
    struct bytes *out)
{
	uint8_t raw[1 + CRY_SIGN_PK_LEN];
	size_t nlen = strlen(name), old = out->len;
	enum err r;

	if (!name_valid((const uint8_t *)name, nlen))
		return ERR_INVALID;
	raw[0] = SIG_TYPE_ED25519;
	memcpy(raw + 1, pk, CRY_SIGN_PK_LEN);
	if ((r = bytes_printf(out, "%s+%08x+", name,
	         key_id((const uint8_t *)name, nlen, pk))) != ERR_OK ||
	    (r = cry_b64_encode(span_of(raw, sizeof(raw)), out)) != ERR_OK) {
		out->len = old;
		if (out->p != NULL)
			out->p[old] = 0;
		return r;
	}
	return ERR_OK;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* lower case only: what every implementation prints */
}

enum err
cry_vkey_parse(const char *vkey, struct bytes *name_out, uint32_t *keyid,
    uint8_t pk[static CRY_SIGN_PK_LEN])
{
	const char *p1, *p2;
	struct bytes raw;
	uint32_t id = 0;
	size_t nlen, blen;
	enum err r = ERR_INVALID;

	*keyid = 0;
	bytes_init(&raw, 128);
	/* Split on the first two '+' only: base64 may contain '+'. */
	if ((p1 = strchr(vkey, '+')) == NULL ||
	    (p2 = strchr(p1 + 1, '+')) == NULL)
		goto out;
	nlen = (size_t)(p1 - vkey);
	if (!name_valid((const uint8_t *)vkey, nlen) || p2 - p1 - 1 != 8)
		goto out;
	for (int i = 0; i < 8; i++) {
		int v = hexval(p1[1 + i]);
		if (v < 0)
			goto out;
		id = id << 4 | (uint32_t)v;
	}
	blen = strlen(p2 + 1);
	if (blen == 0 || blen > 64)
		goto out;
	if (cry_b64_decode(p2 + 1, blen, &raw) != ERR_OK)
		goto out;
	if (raw.len != 1 + CRY_SIGN_PK_LEN || raw.p[0] != SIG_TYPE_ED25519)
		goto out;
	if (key_id((const uint8_t *)vkey, nlen, raw.p + 1) != id)
		goto out;
	if (name_out != NULL) {
		size_t old = name_out->len;

		if ((r = bytes_put(name_out, vkey, nlen)) != ERR_OK) {
			name_out->len = old;
			goto out;
		}
	}
	memcpy(pk, raw.p + 1, CRY_SIGN_PK_LEN);
	*keyid = id;
	r = ERR_OK;
out:
	bytes_release(&raw);
	return r;
}

enum err
cry_note_sign(struct span text, const char *name, const struct cry_secret *sk,
    const uint8_t pk[static CRY_SIGN_PK_LEN], struct bytes *out)
{
	uint8_t sig[4 + CRY_SIG_LEN];
	size_t nlen = strlen(name), old = out->len;
	uint32_t id;
	enum err r = ERR_INTERNAL;

	if (text.len == 0 || text.len > CRY_NOTE_MAX / 2 ||
	    text.p[text.len - 1] != '\n' || !text_valid(text.p, text.len) ||
	    !name_valid((const uint8_t *)name, nlen))
		return ERR_INVALID;
	/* The secret key must belong to pk, or the key id would lie. */
	if (cry_secret_len(sk) != CRY_SIGN_SK_LEN ||
	    !cry_equal(cry_secret_data(sk) + 32, pk, CRY_SIGN_PK_LEN))
		return ERR_INVALID;
	id = key_id((const uint8_t *)name, nlen, pk);
	sig[0] = (uint8_t)(id >> 24);
	sig[1] = (uint8_t)(id >> 16);
	sig[2] = (uint8_t)(id >> 8);
	sig[3] = (uint8_t)id;
	if ((r = cry_sign(sk, text, sig + 4)) != ERR_OK)
		goto out;
	if ((r = bytes_put(out, text.p, text.len)) != ERR_OK ||
	    (r = bytes_put_u8(out, '\n')) != ERR_OK ||
	    (r = bytes_put(out, em_dash_sp, sizeof(em_dash_sp))) != ERR_OK ||
	    (r = bytes_put(out, name, nlen)) != ERR_OK ||
	    (r = bytes_put_u8(out, ' ')) != ERR_OK ||
	    (r = cry_b64_encode(span_of(sig, sizeof(sig)), out)) != ERR_OK ||
	    (r = bytes_put_u8(out, '\n')) != ERR_OK)
		goto out;
	r = ERR_OK;
out:
	if (r != ERR_OK) {
		out->len = old;
		if (out->p != NULL)
			out->p[old] = 0;
	}
	return r;
}

/* The start of the last "\n\n" in p, or SIZE_MAX. */
static size_t
last_blank(const uint8_t *p, size_t len)
{
	for (size_t i = len; i >= 2; i--) {
		if (p[i - 2] == '\n' && p[i - 1] == '\n')
			return i - 2;
	}
	return SIZE_MAX;
}

enum err
cry_note_verify(struct span note, const char *vkey, struct span *text)
{
	uint8_t pk[CRY_SIGN_PK_LEN];
	struct bytes name, sig;
	const uint8_t *p, *end, *nl, *sp;
	size_t split, nsigs = 0;
	uint32_t id, line_id;
	bool verified = false, bad = false;
	enum err r = ERR_INVALID;

	text->p = NULL;
	text->len = 0;
	bytes_init(&name, CRY_NOTE_NAME_MAX + 1);
	bytes_init(&sig, CRY_NOTE_MAX);
	if ((r = cry_vkey_parse(vkey, &name, &id, pk)) != ERR_OK) {
		r = ERR_INVALID;
		goto out;
	}
	r = ERR_INVALID;
	if (note.len == 0 || note.len > CRY_NOTE_MAX)
		goto out;
	if ((split = last_blank(note.p, note.len)) == SIZE_MAX)
		goto out;
	/* Text: everything up to and including the first '\n' of "\n\n". */
	if (!text_valid(note.p, split + 1))
		goto out;
	p = note.p + split + 2;
	end = note.p + note.len;
	if (p == end || end[-1] != '\n')
		goto out;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p)); /* found: end[-1] */
		if (++nsigs > CRY_NOTE_MAX_SIGS)
			goto out;
		if ((size_t)(nl - p) < sizeof(em_dash_sp) ||
		    memcmp(p, em_dash_sp, sizeof(em_dash_sp)) != 0)
			goto out;
		p += sizeof(em_dash_sp);
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL ||
		    !name_valid(p, (size_t)(sp - p)) || sp + 1 == nl)
			goto out;
		bytes_clear(&sig);
		if (cry_b64_decode((const char *)sp + 1, (size_t)(nl - sp - 1),
		        &sig) != ERR_OK ||
		    sig.len < 5)
			goto out;
		line_id = (uint32_t)sig.p[0] << 24 | (uint32_t)sig.p[1] << 16 |
		          (uint32_t)sig.p[2] << 8 | sig.p[3];
		/* Key names and ids are public: plain comparisons are fine. */
		if (line_id == id && (size_t)(sp - p) == name.len &&
		    memcmp(p, name.p, name.len) == 0) {
			/* Every line by our key must verify (stricter than Go).
			 */
			if (sig.len != 4 + CRY_SIG_LEN ||
			    cry_verify(pk, span_of(note.p, split + 1),
			        sig.p + 4) != ERR_OK)
				bad = true;
			else
				verified = true;
		}
		p = nl + 1;
	}
	if (bad || !verified) {
		r = ERR_BAD_SIGNATURE;
		goto out;
	}
	text->p = note.p;
	text->len = split + 1;
	r = ERR_OK;
out:
	bytes_release(&name);
	bytes_release(&sig);
	return r;
}
