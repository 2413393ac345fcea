/*
 * intake/intake.h - the submission intake: validation of a submission ZIP
 * (this part) and, later, the SFTP server (its own section below).
 *
 * Validation is one code path shared by `kura check` and the SFTP intake.
 * It implements RULES.md R1-R5: container safety (hostile ZIPs), names
 * (CP932/UTF-8/NFD, length, characters), numbering against the inventory
 * (提出書類及び資料内訳書), roles, submission type and file formats.
 *
 * It never extracts to disk and never trusts declared sizes: the ZIP's
 * central directory and local headers are parsed here (bounded) and
 * cross-checked before libarchive inflates anything, and the limits of
 * struct intake_limits are enforced on the bytes actually produced.
 * Memory stays bounded whatever the input (about 64 MiB peak).
 */
#ifndef INTAKE_INTAKE_H
#define INTAKE_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/config.h"
#include "common/err.h"

/* ==== validation (owner: check) ======================================= */

#define INTAKE_HASH_LEN 32 /* SHA-256 */

/* Defaults of struct intake_limits (kura.conf keys in brackets). */
#define INTAKE_DEF_MAX_TOTAL  (1ull << 30)   /* limits.max_total_bytes */
#define INTAKE_DEF_MAX_ENTRY  (512ull << 20) /* limits.max_entry_bytes */
#define INTAKE_DEF_MAX_RATIO  200u           /* limits.max_ratio */
#define INTAKE_DEF_RATIO_FROM (1ull << 20)   /* limits.ratio_from_bytes */
#define INTAKE_DEF_MAX_FILES  10u            /* limits.max_files */
#define INTAKE_DEF_MAX_NAME   143u           /* limits.max_name_bytes */

enum intake_type {
	INTAKE_TYPE_INFER = 0, /* infer from the documents (issue 3) */
	INTAKE_TYPE_NEW,
	INTAKE_TYPE_RENEWAL,
	INTAKE_TYPE_CHANGE,
	INTAKE_TYPE_TERMINATION,
};

enum intake_role {
	INTAKE_ROLE_ATTACHMENT = 0, /* 添付資料 (.pdf) */
	INTAKE_ROLE_INVENTORY,   /* 提出書類及び資料内訳書 (.xlsx) */
	INTAKE_ROLE_FORM_A,      /* 申請書A (.docx) */
	INTAKE_ROLE_FORM_B,      /* 申請書B (.xlsx) */
	INTAKE_ROLE_CHANGE_LIST, /* 変更箇所一覧表 (.xlsx) */
	INTAKE_ROLE_MARK_USE, /* 認定マークの適正使用報告 (.xlsx) */
	INTAKE_ROLE_CHANGE_FORM, /* 変更届出書 (.docx) */
	INTAKE_ROLE_TERMINATION, /* 認定サービス終了届出書 (.docx) */
	INTAKE_ROLE__COUNT
};

struct intake_limits {
	uint64_t max_total;  /* inflated bytes of all entries */
	uint64_t max_entry;  /* inflated bytes of one entry */
	uint64_t max_ratio;  /* inflated / compressed, above ratio_from */
	uint64_t ratio_from; /* the ratio applies once this much came out */
	uint32_t max_files;  /* documents (OS metadata not counted) */
	uint32_t max_name;   /* UTF-8 bytes of the NFC file name */
};

/* One document (a regular, non-metadata entry), in ZIP order. */
struct intake_doc {
	size_t entry;       /* index in the central directory */
	char *name;         /* NFC UTF-8 file name, wrapping folder stripped */
	char *raw_name_hex; /* hex of the entry's name bytes as stored */
	char *number;       /* 資料番号 it belongs to, or NULL */
	enum intake_role role;
	const char *format; /* "pdf" "xlsx" "docx" "zip" "exe" ... */
	uint64_t size;      /* inflated bytes (0 if not read) */
	bool hashed;        /* sha256 is valid */
	uint8_t sha256[INTAKE_HASH_LEN];
};

struct intake_problem {
	const char *code; /* stable: "zip.bomb", "name.too_long", ... */
	bool error;       /* false: warning */
	char *file;       /* NFC name, "" for the whole submission */
	char *message_ja;
	char *message_en;
};

struct intake_report {
	bool accept;
	enum intake_type type; /* given or inferred */
	bool type_inferred;
	uint8_t zip_sha256[INTAKE_HASH_LEN];
	uint64_t zip_size;
	size_t zip_entries; /* central directory records */
	struct intake_doc *docs;
	size_t ndocs;
	struct intake_problem *problems;
	size_t nproblems, problems_cap;
};

/*
 * Optional per-document sink: the bytes of every document, in the single
 * inflate pass, without touching the disk. begin() is called with the
 * document's index in report->docs (its name is final, its number and
 * role are not yet known), then data() for each chunk, then end() with
 * ok = false when the document was cut short (limit, CRC, I/O). The
 * verdict is only known when intake_check_*() returns: a caller storing
 * documents must discard them all when report->accept is false. A sink
 * error aborts the check with that error.
 */
struct intake_sink {
	void *arg;
	MUST_CHECK enum err (
	    *begin)(void *arg, size_t doc, const struct intake_doc *d);
	MUST_CHECK enum err (
	    *data)(void *arg, size_t doc, const uint8_t *p, size_t len);
	MUST_CHECK enum err (*end)(void *arg, size_t doc, bool ok);
};

/*
 * Libraries' data loaded once (libmagic's database, the CP932 converter,
 * libxml2, the time zone) so that checks can reuse it and so that a
 * sandboxed validator needs no file after its seccomp filter is on.
 */
struct intake_libs;
MUST_CHECK enum err intake_libs_load(struct intake_libs **out);
void intake_libs_free(struct intake_libs *l); /* NULL-safe */

struct intake_check_opts {
	enum intake_type type; /* INTAKE_TYPE_INFER unless --type */
	struct intake_limits limits;
	const struct intake_sink *sink; /* NULL: none */
	struct intake_libs *libs;       /* NULL: libmagic loaded per check */
};

/*
 * A source of ZIP bytes: read() fills buf with exactly len bytes at off
 * (off + len <= the size given with it), else returns ERR_IO.
 */
struct intake_reader {
	void *arg;
	MUST_CHECK enum err (
	    *read)(void *arg, uint64_t off, void *buf, size_t len);
};

/* Fills o with INFER, the default limits and no sink. */
void intake_check_opts_default(struct intake_check_opts *o);
/* Reads the limits.* keys of kura.conf (defaults above); ERR_CONFIG. */
MUST_CHECK enum err intake_limits_from_config(const struct config *c,
    struct intake_limits *out);
/* "new" ... "termination" -> type; ERR_INVALID otherwise. */
MUST_CHECK enum err intake_type_parse(const char *s, enum intake_type *out);
const char *intake_type_str(enum intake_type t);
const char *intake_role_str(enum intake_role r);

/*
 * Validates the submission ZIP in path / fd / memory and returns a report
 * in *out (free with intake_report_free) whatever the verdict: ERR_OK
 * means the check ran, report->accept says whether it passed. ERR_IO if
 * the file cannot be read, ERR_NOMEM, or the sink's error; *out is NULL
 * then. fd is only read (pread), not closed.
 */
MUST_CHECK enum err intake_check_file(const char *path,
    const struct intake_check_opts *o, struct intake_report **out);
MUST_CHECK enum err intake_check_fd(int fd, const struct intake_check_opts *o,
    struct intake_report **out);
MUST_CHECK enum err intake_check_memory(struct span zip,
    const struct intake_check_opts *o, struct intake_report **out);
/* The same through a reader of a ZIP of size bytes (the SFTP intake). */
MUST_CHECK enum err intake_check_reader(const struct intake_reader *rd,
    uint64_t size, const struct intake_check_opts *o,
    struct intake_report **out);
void intake_report_free(struct intake_report *rep); /* NULL-safe */

/* The issue 3 JSON object (one line, no newline) appended to out. */
MUST_CHECK enum err intake_report_json(const struct intake_report *rep,
    struct bytes *out);
/* A readable report: lang "ja" (Japanese first, then English) or "en". */
MUST_CHECK enum err intake_report_text(const struct intake_report *rep,
    const char *lang, struct bytes *out);
/*
 * Appends s for a terminal or a text file, as intake_report_text prints
 * names: C0/C1 controls, DEL and invalid UTF-8 bytes as \xNN, bidi and
 * line-separator controls as <U+XXXX>, all else (Japanese) unchanged.
 */
MUST_CHECK enum err intake_text_safe(struct bytes *out, const char *s);

/*
 * Parses an inventory workbook (.xlsx bytes) for tests and fuzzing: rows
 * with a number, as "number\ttitle\tmedium\n" lines appended to out.
 * ERR_CORRUPT when it cannot be read or has no header row.
 */
MUST_CHECK enum err intake_inventory_dump(struct span xlsx, struct bytes *out);

/* ==== end of validation =============================================== */

/* ==== the SFTP intake server (`kura serve`) ===========================
 *
 * One listening process accepts connections and forks one process per
 * connection; each child runs libssh (key exchange, password or public-key
 * authentication against the vault's accounts), offers only the `sftp`
 * subsystem, and serves the applicant's virtual tree. No path from a
 * client is ever used as a host path: intake_vpath_resolve() maps every
 * client path, component by component, onto a small fixed tree, and uploads
 * are stored under names of our own in VAULT/staging/, encrypted as they
 * arrive. The server never loads a secret decryption key.
 */
#define INTAKE_VPATH_MAX 1024 /* longest client path we look at */
#define INTAKE_VNAME_MAX 255  /* longest component, bytes */
#define INTAKE_CERT_MAX  64   /* longest 認定番号 */

/* The upload folders; the type of a submission comes from its folder. */
enum intake_folder {
	INTAKE_FOLDER_NEW,
	INTAKE_FOLDER_RENEWAL,
	INTAKE_FOLDER_CHANGE,
	INTAKE_FOLDER_TERMINATION,
};

/* What a client path names in the virtual tree. */
enum intake_vnode {
	INTAKE_VN_NONE,    /* nothing can exist there */
	INTAKE_VN_ROOT,    /* "/" */
	INTAKE_VN_README,  /* "/README.txt" */
	INTAKE_VN_KINDDIR, /* "/renewal", "/change", "/termination" */
	INTAKE_VN_UPDIR,   /* "/new" or "/renewal/<認定番号>" ... */
	INTAKE_VN_UPFILE,  /* a file name inside an upload folder */
	INTAKE_VN_RESULTS, /* "/results" */
	INTAKE_VN_RESULT,  /* "/results/<name>" */
};

struct intake_vpath {
	enum intake_vnode kind;
	enum intake_folder folder;        /* KINDDIR, UPDIR, UPFILE */
	char cert[INTAKE_CERT_MAX + 1];   /* 認定番号 for non-new folders */
	char name[INTAKE_VNAME_MAX + 1];  /* UPFILE, RESULT */
	char canon[INTAKE_VPATH_MAX + 1]; /* canonical absolute path */
};

/*
 * Resolves a client path (relative paths start at "/"): splits it on '/',
 * skips "" and ".", lets ".." go up (never above "/"), and rejects any
 * component that is not valid UTF-8, holds a control character or a
 * backslash, or is longer than INTAKE_VNAME_MAX bytes (ERR_INVALID).
 * A path that is well formed but names nothing gets kind INTAKE_VN_NONE.
 * The result says nothing about whether the node exists for an account
 * (a linked 認定番号, an upload, a result): the caller checks that.
 */
MUST_CHECK enum err intake_vpath_resolve(const char *in,
    struct intake_vpath *out);
/* "new", "renewal", "change", "termination": the type `kura check` takes. */
const char *intake_folder_name(enum intake_folder f);
/* True for names clients use while uploading (WinSCP's NAME.filepart). */
bool intake_name_is_temporary(const char *name);

struct intake_serve_opts {
	const char *vault_dir;
	const char *listen; /* "ADDR:PORT"; NULL: kura.conf, 127.0.0.1:2222 */
	/* Written once listening (tests, `kura demo`); may be NULL. */
	void (*on_listening)(const char *addr, const char *fingerprint,
	    void *arg);
	void *arg;
};

/*
 * Runs the server until SIGTERM or SIGINT; then stops accepting, ends
 * every session (uploads in flight are not accepted), and returns ERR_OK.
 */
MUST_CHECK enum err intake_serve(const struct intake_serve_opts *o);

/*
 * The SSH host key's SHA-256 fingerprint ("SHA256:...", as OpenSSH prints
 * it) and its public key line, for publication to applicants. Creates an
 * Ed25519 host key under VAULT/keys/ when there is none yet.
 */
MUST_CHECK enum err intake_hostkey(const char *vault_dir, struct bytes *fp,
    struct bytes *publine);

#endif /* INTAKE_INTAKE_H */
