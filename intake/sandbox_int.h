/*
 * intake/sandbox_int.h - the sandboxed validator of the SFTP intake and
 * its framed protocol (intake/sandbox.c). Internal to intake/.
 *
 * For each completed upload the session forks a validator that closes
 * every fd but one socket, lowers its rlimits, sets no_new_privs and a
 * seccomp filter, and then runs intake_check_reader(): it reads the ZIP
 * through SBX_READ requests that the session answers from the encrypted
 * staging file, streams the documents back (SBX_DOC_*), and ends with
 * SBX_VERDICT. The session trusts none of it: every frame's type and
 * length are checked before its payload is read, strings must be UTF-8
 * without control characters, document sizes and SHA-256 are measured by
 * the session from the bytes it stores, and any violation, a timeout or a
 * dead child ends the validation with an internal error (nothing kept).
 *
 * A frame: u32 type, u32 payload length (big-endian), payload.
 */
#ifndef INTAKE_SANDBOX_INT_H
#define INTAKE_SANDBOX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"
#include "intake/intake.h"

#define SBX_HDR_LEN      8
#define SBX_DATA_MAX     (1u << 20) /* a read reply or a document chunk */
#define SBX_DOCS_MAX     4096       /* ZIP_MAX_ENTRIES */
#define SBX_NAME_MAX     4100       /* 1024 name bytes, escaped */
#define SBX_NUMBER_MAX   256
#define SBX_FORMAT_MAX   31
#define SBX_PROBLEMS_MAX (1u << 17)
#define SBX_JSON_MAX     (8u << 20)
#define SBX_TEXT_MAX     (8u << 20)
#define SBX_VERDICT_MAX                                                        \
	(SBX_JSON_MAX + SBX_TEXT_MAX +                                         \
	    SBX_DOCS_MAX *                                                     \
	        (SBX_NAME_MAX + SBX_NUMBER_MAX + SBX_FORMAT_MAX + 64) +        \
	    64)

enum sbx_type {
	SBX_READ = 1,  /* child: u64 offset, u32 length (1..SBX_DATA_MAX) */
	SBX_DOC_BEGIN, /* child: u32 document */
	SBX_DOC_DATA,  /* child: u32 document, 1..SBX_DATA_MAX bytes */
	SBX_DOC_END,   /* child: u32 document, u8 ok (0 or 1) */
	SBX_VERDICT,   /* child: see sbx_verdict_encode */
	SBX_FAIL,      /* child: u32 enum err: the check could not run */
	SBX_DATA,      /* parent: exactly the bytes asked for */
	SBX_REFUSE,    /* parent: u32 enum err: the read failed */
};

/* One document as the child describes it (strings owned). */
struct sbx_doc_msg {
	char *number; /* NULL: none */
	char *name;
	uint8_t role; /* enum intake_role */
	char *format;
	uint64_t size;
	bool hashed;
	uint8_t sha256[INTAKE_HASH_LEN];
};

/* A decoded frame; spans borrow the payload, docs are owned. */
struct sbx_msg {
	uint32_t type;
	uint64_t off;     /* READ */
	uint32_t len;     /* READ */
	uint32_t doc;     /* DOC_* */
	bool ok;          /* DOC_END */
	uint32_t err;     /* FAIL, REFUSE */
	struct span data; /* DOC_DATA, DATA */
	/* VERDICT */
	bool accept;
	uint32_t nproblems;
	uint8_t zip_sha256[INTAKE_HASH_LEN];
	struct sbx_doc_msg *docs;
	size_t ndocs;
	struct span json, text;
};

void sbx_hdr_encode(uint8_t h[static SBX_HDR_LEN], uint32_t type, uint32_t len);
/*
 * Checks a header: a known type of the direction (from_child: what a
 * validator may send) and a length within that type's bounds. ERR_PROTOCOL
 * otherwise; *type and *len are set only on success.
 */
MUST_CHECK enum err sbx_hdr_decode(const uint8_t h[static SBX_HDR_LEN],
    bool from_child, uint32_t *type, uint32_t *len);
/*
 * Decodes a payload of a type sbx_hdr_decode accepted: exact lengths,
 * strings UTF-8 without control characters, formats [a-z0-9-], roles in
 * range, no bytes left over. ERR_PROTOCOL (out released) or ERR_NOMEM.
 */
MUST_CHECK enum err sbx_msg_decode(uint32_t type, struct span payload,
    struct sbx_msg *out);
void sbx_msg_release(struct sbx_msg *m);
/*
 * Loads the validator's seccomp filter into the calling process (for good:
 * tests call it in a child). Refused with EPERM from then on: opening
 * files, sockets, exec, ptrace, signals to other processes, namespaces,
 * mounts, file changes, id changes (intake/sandbox.c lists them).
 */
MUST_CHECK enum err sbx_seccomp_on(void);
/* The SBX_VERDICT payload of rep with its rendered JSON and text. */
MUST_CHECK enum err sbx_verdict_encode(const struct intake_report *rep,
    struct span json, struct span text, struct bytes *out);

#endif /* INTAKE_SANDBOX_INT_H */
