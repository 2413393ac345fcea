/*
 * intake/check_int.h - internals of the submission validator, shared by
 * the files of intake/ only (zipdir.c, names.c, inventory.c, formats.c,
 * check.c, messages.c). Other modules use intake/intake.h.
 */
#ifndef INTAKE_CHECK_INT_H
#define INTAKE_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"
#include "intake/intake.h"

/* Named limits of our own ZIP parser (STYLE.md "Untrusted input"). */
#define ZIP_MAX_ENTRIES    4096         /* central directory records */
#define ZIP_MAX_CD_BYTES   (8u << 20)   /* central directory size */
#define ZIP_MAX_NAME_BYTES 1024         /* largest limits.max_name_bytes */
#define ZIP_EOCD_SEARCH    (65535 + 22) /* comment + EOCD record */

/*
 * A byte source: a file (pread), a reader callback (the sandboxed
 * validator asks its parent) or memory. For a large inner OOXML package
 * only the head [0, mem_len) and a tail [tail_off, size) are in memory;
 * reading outside them returns ERR_NOT_FOUND.
 */
struct zsrc {
	int fd;                         /* -1 for a reader or memory */
	const struct intake_reader *rd; /* when fd < 0 and rd != NULL */
	const uint8_t *mem;
	size_t mem_len;
	const uint8_t *tail;
	uint64_t tail_off;
	uint64_t size;
};
MUST_CHECK enum err zsrc_read(const struct zsrc *s, uint64_t off, void *buf,
    size_t len);

/* One central directory record, cross-checked with its local header. */
struct zent {
	uint16_t made_by, flags, method;
	uint32_t crc, ext_attr;
	uint64_t csize, usize, lho;
	uint8_t *name; /* raw bytes, NUL-terminated, name_len long */
	size_t name_len;
	char *upath; /* Info-ZIP Unicode Path (0x7075) if its CRC matched */
	size_t upath_len;
	uint64_t data_off; /* first byte of the compressed data */
	uint64_t end;      /* after the data and any data descriptor */
	bool encrypted;    /* flag bit 0/6, method 99 or LFH says so */
	bool is_dir;       /* name ends in '/' or DOS directory attribute */
	bool is_link;      /* symlink, device, FIFO... (Unix mode) */
	bool method_ok;    /* stored or deflate */
};

struct zdir {
	struct zent *e;
	size_t n;
	uint64_t cd_off, cd_size;
	uint64_t eocd_off; /* of the classic end record */
	/* Problems found (each reported once by the caller). */
	bool unreadable;
	const char *unreadable_why;
	bool inconsistent;
	const char *inconsistent_why;
	bool overlap;      /* entries share bytes: zip.bomb */
	bool too_many;     /* over ZIP_MAX_ENTRIES */
	bool cd_encrypted; /* the directory itself is encrypted */
};

/*
 * Parses the EOCD (Zip64 too) and the central directory of s and, when
 * check_local, every local header: name, method, flags, sizes and CRC
 * must agree, entries may not overlap, and no byte may lie outside an
 * entry, the directory or the EOCD. Fills d (release with zdir_release)
 * even on failure; returns ERR_OK, or ERR_NOMEM/ERR_IO.
 */
MUST_CHECK enum err zdir_parse(const struct zsrc *s, bool check_local,
    struct zdir *d);
void zdir_release(struct zdir *d);

/* ---- names (names.c) ---- */
/*
 * Decodes a raw entry name to NFC UTF-8 (*out malloc'd): UTF-8 flag or
 * upath -> UTF-8; valid UTF-8 -> UTF-8; else CP932. ERR_CORRUPT when the
 * bytes are not valid in the encoding chosen.
 */
MUST_CHECK enum err name_decode(const uint8_t *raw, size_t len, bool flag_utf8,
    const char *upath, size_t upath_len, char **out);
/* NFC / NFKC / NFKC + case fold of valid UTF-8 s; NULL on failure. */
char *name_nfc(const char *s);
char *name_nfkc(const char *s);
char *name_fold(const char *s);
/* NFC + case fold: equal names collide on a Windows or macOS disk. */
char *name_casefold(const char *s);
/*
 * Why a file name (one path component, NFC) is not acceptable on Windows
 * or is dangerous: NULL if fine, else a short reason in English (the
 * caller's message names the character).
 */
const char *name_bad_reason(const char *s, char *what, size_t whatsz);
/* True for __MACOSX/, ._*, .DS_Store, Thumbs.db, desktop.ini. */
bool name_is_os_metadata(const char *path);

/* ---- problems (messages.c) ---- */
struct problem_def {
	const char *code;
	bool error;
	const char *ja; /* "{}" is replaced by the detail */
	const char *en;
};
extern const struct problem_def intake_problem_defs[];
extern const size_t intake_problem_ndefs;
/* Adds a problem; detail may be NULL (then "{}" becomes ""). */
MUST_CHECK enum err rep_problem(struct intake_report *rep, const char *code,
    const char *file, const char *detail_ja, const char *detail_en);

/* ---- inventory (inventory.c) ---- */
struct inv_row {
	char *number; /* NFKC, trimmed */
	char *fnum;   /* number, NFKC + case folded (for matching) */
	char *title;  /* NFC, trimmed */
	bool paper;   /* 媒体 紙 */
};
struct inventory {
	struct inv_row *rows;
	size_t n, cap;
};
/* ERR_CORRUPT: not a readable workbook or no header row. */
MUST_CHECK enum err inventory_parse(struct span xlsx, struct inventory *inv);
void inventory_release(struct inventory *inv);

/*
 * Reads one part of an in-memory OOXML/ZIP package (at most max bytes;
 * ERR_TOO_BIG beyond). stream: pkg is only the head of the package (no
 * central directory), read the local headers in order.
 */
MUST_CHECK enum err ooxml_read_part(struct span pkg, const char *name,
    bool stream, size_t max, struct bytes *out);

/* ---- formats (formats.c) ---- */
struct fmt_result {
	const char *format; /* "pdf" "xlsx" "docx" ... */
	bool not_allowed;   /* executables, archives, legacy Office ... */
	bool macro;         /* vbaProject.bin or macro content types */
	bool encrypted;     /* encrypted PDF, EncryptedPackage */
	bool unopenable;    /* corrupt or truncated */
	const char *why;    /* English detail for unopenable */
};
/*
 * Classifies a document from its content: head is the complete content
 * when complete, else its first bytes and tail its last bytes, of a
 * document of size bytes; whole, when not empty, is the complete content
 * of a PDF too big for head (qpdf reads it from memory: no file is
 * opened, which the validator's seccomp filter would refuse).
 * *magic caches a libmagic handle (start with NULL, release with
 * format_cleanup; a handle from intake_libs is borrowed, never closed).
 */
void format_check(void **magic, struct span head, struct span tail,
    uint64_t size, bool complete, struct span whole, struct fmt_result *res);
void format_cleanup(void **magic);
/* The handle inside l (may be NULL). */
void *format_libs_magic(struct intake_libs *l);

#endif /* INTAKE_CHECK_INT_H */
