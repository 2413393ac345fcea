/*
 * tests/fuzz/fuzz_sandbox.c - libFuzzer target for the session's decoder
 * of what a (possibly compromised) validator sends: a stream of frames,
 * each header checked (sbx_hdr_decode, child direction) before its
 * payload is decoded (sbx_msg_decode), as intake/sandbox.c's parent loop
 * does.
 *
 * Invariants: a decoded frame's spans lie inside its payload; a verdict's
 * documents have names, formats and roles within their limits, and those
 * of an accepted verdict hold no control character.
 */
#include <stdlib.h>
#include <string.h>

#include "intake/sandbox_int.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(struct span s, const uint8_t *p, size_t len)
{
	if (s.len > 0 && (s.p < p || s.p + s.len > p + len))
		abort();
}

static void
text_checks(const char *s, size_t max, bool strict)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		abort();
	for (size_t i = 0; strict && i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (size - off >= SBX_HDR_LEN) {
		struct sbx_msg m;
		uint32_t type, len;
		const uint8_t *payload;

		if (sbx_hdr_decode(data + off, true, &type, &len) != ERR_OK)
			break;
		off += SBX_HDR_LEN;
		if (len > size - off)
			break;
		payload = data + off;
		off += len;
		if (sbx_msg_decode(type, span_of(payload, len), &m) != ERR_OK)
			continue;
		if (m.type != type)
			abort();
		inside(m.data, payload, len);
		inside(m.json, payload, len);
		inside(m.text, payload, len);
		if (type == SBX_READ && (m.len == 0 || m.len > SBX_DATA_MAX))
			abort();
		if ((type == SBX_DOC_BEGIN || type == SBX_DOC_DATA ||
		        type == SBX_DOC_END) &&
		    m.doc >= SBX_DOCS_MAX)
			abort();
		if (m.ndocs > SBX_DOCS_MAX || m.nproblems > SBX_PROBLEMS_MAX)
			abort();
		for (size_t i = 0; i < m.ndocs; i++) {
			const struct sbx_doc_msg *d = &m.docs[i];

			text_checks(d->name, SBX_NAME_MAX, m.accept);
			text_checks(d->format, SBX_FORMAT_MAX, true);
			if (d->number != NULL)
				text_checks(d->number, SBX_NUMBER_MAX,
				    m.accept);
			if (d->role >= INTAKE_ROLE__COUNT)
				abort();
		}
		sbx_msg_release(&m);
	}
	return 0;
}
