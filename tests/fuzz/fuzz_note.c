/*
 * tests/fuzz/fuzz_note.c - libFuzzer target for the signed-note and
 * verifier-key parsers (cry_note_verify, cry_vkey_parse).
 *
 * Input: the first line is tried as a vkey; the rest is a note checked
 * against that vkey and against a fixed valid one. The same bytes are also
 * tried whole as a vkey.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fixed_vkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	uint8_t pk[CRY_SIGN_PK_LEN];
	struct bytes name;
	struct span text;
	uint32_t id;
	const uint8_t *nl;
	char *s;
	size_t vlen;

	if (!inited) {
		if (cry_init() != ERR_OK)
			abort();
		inited = 1;
	}
	if (size > CRY_NOTE_MAX + 1024)
		return 0;
	nl = memchr(data, '\n', size);
	vlen = nl != NULL ? (size_t)(nl - data) : size;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, vlen);
	s[vlen] = 0;
	bytes_init(&name, 512);
	if (cry_vkey_parse(s, &name, &id, pk) == ERR_OK) {
		/* A parsed key formats back to exactly the same string. */
		struct bytes again;

		bytes_init(&again, 512);
		if (cry_vkey_format((const char *)name.p, pk, &again) !=
		        ERR_OK ||
		    strcmp((const char *)again.p, s) != 0)
			abort();
		bytes_release(&again);
	}
	bytes_release(&name);
	if (nl != NULL) {
		struct span note = span_of(nl + 1, size - vlen - 1);

		if (cry_note_verify(note, s, &text) == ERR_OK &&
		    (text.p != note.p || text.len == 0 ||
		        text.p[text.len - 1] != '\n'))
			abort();
		if (cry_note_verify(note, fixed_vkey, &text) == ERR_OK &&
		    (text.p != note.p || text.len >= note.len))
			abort();
	}
	memcpy(s, data, size);
	s[size] = 0;
	(void)cry_vkey_parse(s, NULL, &id, pk);
	free(s);
	return 0;
}
