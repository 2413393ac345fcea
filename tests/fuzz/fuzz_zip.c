/*
 * tests/fuzz/fuzz_zip.c - the whole submission validator on a memory
 * buffer: container parse, names, inflate pass, formats, inventory and the
 * JSON and text reports. Limits are lowered so a run stays fast; the code
 * paths are the same.
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "intake/intake.h"
#include "common/banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return cry_init() == ERR_OK ? 0 : 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intake_check_opts o;
	struct intake_report *rep = NULL;
	struct bytes out;

	intake_check_opts_default(&o);
	o.limits.max_total = 64u << 20;
	o.limits.max_entry = 32u << 20;
	if (intake_check_memory(span_of(data, size), &o, &rep) != ERR_OK)
		return 0;
	bytes_init(&out, 16u << 20);
	if (intake_report_json(rep, &out) != ERR_OK ||
	    intake_report_text(rep, "ja", &out) != ERR_OK) {
		/* a report too large for the cap is not a crash */
	}
	bytes_release(&out);
	intake_report_free(rep);
	return 0;
}
