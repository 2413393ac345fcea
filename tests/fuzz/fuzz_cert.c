/*
 * tests/fuzz/fuzz_cert.c - libFuzzer target for the deletion certificate
 * parser (audit_cert_parse) and the evidence bundle parser behind
 * audit_cert_verify.
 *
 * Input: the whole input is parsed as a certificate text (a text that
 * parses must format back to the same bytes). Then the part before the
 * first blank line is signed with a key made at start-up, so the fuzzer
 * reaches the bundle parser and the evidence checks with the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "kura.fuzz/audit"

static struct cry_secret *sk;
static uint8_t pk[CRY_SIGN_PK_LEN];
static struct bytes vkey;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct audit_cert c;
	struct bytes again, note, file;
	const uint8_t *blank = NULL;

	if (!inited) {
		if (cry_init() != ERR_OK || cry_sign_keypair(pk, &sk) != ERR_OK)
			abort();
		bytes_init(&vkey, 1024);
		if (cry_vkey_format(ORIGIN, pk, &vkey) != ERR_OK)
			abort();
		inited = 1;
	}
	if (size > AUDIT_CERT_MAX_FILE)
		return 0;
	audit_cert_init(&c);
	bytes_init(&again, AUDIT_CERT_MAX_FILE);
	if (audit_cert_parse(span_of(data, size), &c) == ERR_OK) {
		if (audit_cert_format(&c, &again) != ERR_OK ||
		    again.len != size || memcmp(again.p, data, size) != 0)
			abort(); /* the round trip is the parser's promise */
	}
	audit_cert_release(&c);
	bytes_release(&again);

	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\n' && data[i + 1] == '\n') {
			blank = data + i + 1;
			break;
		}
	if (blank == NULL)
		return 0;
	bytes_init(&note, AUDIT_CERT_MAX_FILE);
	bytes_init(&file, AUDIT_CERT_MAX_FILE * 2);
	if (cry_note_sign(span_of(data, (size_t)(blank - data)), ORIGIN, sk, pk,
	        &note) == ERR_OK &&
	    bytes_put(&file, note.p, note.len) == ERR_OK &&
	    bytes_put(&file, blank, size - (size_t)(blank - data)) == ERR_OK) {
		audit_cert_init(&c);
		(void)!audit_cert_verify(bytes_span(&file), (char *)vkey.p, &c,
		    NULL);
		audit_cert_release(&c);
	}
	bytes_release(&note);
	bytes_release(&file);
	return 0;
}
