/*
 * tests/fuzz/fuzz_inventory.c - the inventory workbook parser (OOXML parts
 * through libarchive, XML through libxml2's reader) on a memory buffer.
 */
#include <stddef.h>
#include <stdint.h>

#include "intake/intake.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytes out;

	bytes_init(&out, 1u << 20);
	if (intake_inventory_dump(span_of(data, size), &out) != ERR_OK) {
		/* unreadable inventories are expected */
	}
	bytes_release(&out);
	return 0;
}
