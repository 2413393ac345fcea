/*
 * tests/fuzz/fuzz_checkpoint.c - libFuzzer target for the checkpoint note
 * and body parsers and the proof-file parser (audit_checkpoint_open,
 * audit_checkpoint_parse_text, audit_proof_check).
 *
 * Input: the whole input is tried as a checkpoint text, as a signed
 * checkpoint under the fixed test key, and as a proof file checked against
 * the fixed signed checkpoint. If the input holds a line "--\n", what
 * follows it is used as the checkpoint for the proof before it.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* corpus/merkle/derived/selfgen-checkpoint-example.json (test key). */
static const char vkey[] = "example.com/vault-audit-test+294389a2+"
                           "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
static const char note8[] =
    "example.com/vault-audit-test\n8\n"
    "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
    "\xe2\x80\x94 example.com/vault-audit-test KUOJomsWuXOI2RLgs7/EbUXwig"
    "qaTark1aF+78eEf00H0XhcoDYRGLGpIVJvU5g8/pFasOA2tzF6VtQq1QDO1qEpsQA=\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct audit_checkpoint c;
	struct bytes msg;
	struct span notes[2], proof = span_of(data, size);
	size_t nn = 1;
	const uint8_t *sep = NULL;

	if (!inited) {
		if (cry_init() != ERR_OK)
			abort();
		inited = 1;
	}
	if (size > (1u << 20))
		return 0;
	if (audit_checkpoint_parse_text(span_of(data, size), &c) == ERR_OK &&
	    (c.origin[0] == 0 || c.size > (uint64_t)INT64_MAX))
		abort();
	(void)audit_checkpoint_open(span_of(data, size), vkey, &c);
	notes[0] = span_of(note8, sizeof(note8) - 1);
	for (size_t i = 0; i + 3 <= size; i++) {
		if ((i == 0 || data[i - 1] == '\n') &&
		    memcmp(data + i, "--\n", 3) == 0) {
			sep = data + i;
			break;
		}
	}
	if (sep != NULL) {
		proof = span_of(data, (size_t)(sep - data));
		notes[1] = span_of(sep + 3, size - (size_t)(sep - data) - 3);
		nn = 2;
	}
	bytes_init(&msg, 4096);
	(void)audit_proof_check(proof, notes, nn, vkey, NULL, &msg);
	(void)audit_proof_check(proof, notes, nn, vkey, &notes[0], &msg);
	bytes_release(&msg);
	return 0;
}
