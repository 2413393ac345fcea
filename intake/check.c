/*
 * intake/check.c - the submission validator: one pass over a ZIP that
 * checks the container, the names, every document's content and the
 * inventory, and produces the report (RULES.md R1-R5, issue 3).
 *
 * Order: hash and parse the container ourselves (zipdir.c); decide which
 * entries are documents; one libarchive inflate pass over the entries in
 * file order with the limits enforced on the bytes produced, hashing each
 * document and keeping at most a bounded head and tail of it for the
 * format checks; then inventory, numbering, roles, type and R1.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/json.h"
#include "common/log.h"
#include "common/utf8.h"
#include "crypto/crypto.h"
#include "intake/check_int.h"
#include "common/banned.h"

#define READ_BLOCK  (1u << 20)  /* read callback block */
#define CAP_FULL    (16u << 20) /* documents kept whole up to this size */
#define CAP_HEAD    (1u << 20)  /* else their first bytes */
#define CAP_TAIL    (1u << 20)  /* and their last bytes */
#define INV_MAX     (8u << 20)  /* inventory workbook kept whole */
#define SPILL_STEP  (64u << 20) /* growth of a spilled PDF's copy */
#define REPORT_TEXT (1u << 22)

/* ---- options and names of things ---- */

void
intake_check_opts_default(struct intake_check_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->type = INTAKE_TYPE_INFER;
	o->limits.max_total = INTAKE_DEF_MAX_TOTAL;
	o->limits.max_entry = INTAKE_DEF_MAX_ENTRY;
	o->limits.max_ratio = INTAKE_DEF_MAX_RATIO;
	o->limits.ratio_from = INTAKE_DEF_RATIO_FROM;
	o->limits.max_files = INTAKE_DEF_MAX_FILES;
	o->limits.max_name = INTAKE_DEF_MAX_NAME;
}

enum err
intake_limits_from_config(const struct config *c, struct intake_limits *out)
{
	enum err r;
	uint64_t files, name;

	if ((r = config_u64(c, "limits.max_total_bytes", INTAKE_DEF_MAX_TOTAL,
	         &out->max_total)) != ERR_OK ||
	    (r = config_u64(c, "limits.max_entry_bytes", INTAKE_DEF_MAX_ENTRY,
	         &out->max_entry)) != ERR_OK ||
	    (r = config_u64(c, "limits.max_ratio", INTAKE_DEF_MAX_RATIO,
	         &out->max_ratio)) != ERR_OK ||
	    (r = config_u64(c, "limits.ratio_from_bytes", INTAKE_DEF_RATIO_FROM,
	         &out->ratio_from)) != ERR_OK ||
	    (r = config_u64(c, "limits.max_files", INTAKE_DEF_MAX_FILES,
	         &files)) != ERR_OK ||
	    (r = config_u64(c, "limits.max_name_bytes", INTAKE_DEF_MAX_NAME,
	         &name)) != ERR_OK)
		return r;
	if (files == 0 || files > ZIP_MAX_ENTRIES || name == 0 ||
	    name > ZIP_MAX_NAME_BYTES || out->max_ratio == 0)
		return ERR_CONFIG;
	out->max_files = (uint32_t)files;
	out->max_name = (uint32_t)name;
	return ERR_OK;
}

static const char *const type_names[] = {"infer", "new", "renewal", "change",
    "termination"};

enum err
intake_type_parse(const char *s, enum intake_type *out)
{
	for (size_t i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum intake_type)i;
			return ERR_OK;
		}
	return ERR_INVALID;
}

const char *
intake_type_str(enum intake_type t)
{
	return (size_t)t < sizeof(type_names) / sizeof(type_names[0])
	           ? type_names[t]
	           : "?";
}

static const struct {
	const char *name, *keyword, *ext, *ja, *en;
} roles[INTAKE_ROLE__COUNT] = {
    [INTAKE_ROLE_ATTACHMENT] = {"attachment", NULL, "pdf", "添付資料（PDF）",
        "attachments (添付資料, PDF)"},
    [INTAKE_ROLE_INVENTORY] = {"inventory", "内訳書", "xlsx",
        "提出書類及び資料内訳書（Excel .xlsx）",
        "inventory (提出書類及び資料内訳書, Excel .xlsx)"},
    [INTAKE_ROLE_FORM_A] = {"form_a", "申請書a", "docx",
        "申請書A（Word .docx）", "application form A (申請書A, Word .docx)"},
    [INTAKE_ROLE_FORM_B] = {"form_b", "申請書b", "xlsx",
        "申請書B（Excel .xlsx）", "application form B (申請書B, Excel .xlsx)"},
    [INTAKE_ROLE_CHANGE_LIST] = {"change_list", "変更箇所一覧表", "xlsx",
        "変更箇所一覧表（Excel .xlsx）",
        "change list (変更箇所一覧表, Excel .xlsx)"},
    [INTAKE_ROLE_MARK_USE] = {"mark_use", "認定マーク", "xlsx",
        "認定マークの適正使用報告（Excel .xlsx）",
        "mark-use report (認定マークの適正使用報告, Excel .xlsx)"},
    [INTAKE_ROLE_CHANGE_FORM] = {"change_form", "変更届出書", "docx",
        "変更届出書（Word .docx）",
        "change notification form (変更届出書, Word .docx)"},
    [INTAKE_ROLE_TERMINATION] = {"termination_form", "終了届出書", "docx",
        "認定サービス終了届出書（Word .docx）",
        "termination notice (認定サービス終了届出書, Word .docx)"},
};

const char *
intake_role_str(enum intake_role r)
{
	return (size_t)r < INTAKE_ROLE__COUNT ? roles[r].name : "?";
}

/* Keyword search on an NFKC + case-folded name; most specific first. */
static enum intake_role
role_of(const char *folded)
{
	static const enum intake_role order[] = {INTAKE_ROLE_INVENTORY,
	    INTAKE_ROLE_TERMINATION, INTAKE_ROLE_CHANGE_FORM,
	    INTAKE_ROLE_CHANGE_LIST, INTAKE_ROLE_MARK_USE, INTAKE_ROLE_FORM_A,
	    INTAKE_ROLE_FORM_B};

	if (folded == NULL)
		return INTAKE_ROLE_ATTACHMENT;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strstr(folded, roles[order[i]].keyword) != NULL)
			return order[i];
	return INTAKE_ROLE_ATTACHMENT;
}

/* ---- per-document working state ---- */

struct work {
	struct intake_doc *d; /* in rep->docs */
	struct zent *e;
	char *fold;      /* NFKC + case fold of the name */
	char *nfkc;      /* NFKC of the name */
	char *key;       /* NFC + case fold: duplicate detection */
	const char *ext; /* inside d->name, lower-case compared */
	bool skip;       /* do not read (limits, encryption) */
	bool read_ok;    /* fully read, CRC good */
	bool is_inventory;
	struct fmt_result fmt;
	bool fmt_done;
	uint8_t *keep; /* the whole inventory workbook */
	size_t keep_len;
	int row; /* matched inventory row or -1 */
};

struct ctx {
	const struct intake_check_opts *o;
	struct intake_report *rep;
	struct zsrc src;
	struct zdir dir;
	struct work *w;
	size_t nw;
	struct cry_sha256 zip_hash;
	bool hashing;
	uint64_t hashed;
	uint8_t *rbuf;
	uint64_t pos;
	uint64_t la_size; /* what libarchive sees: up to the end record */
	uint64_t total_out;
	bool total_over;
	struct inventory inv;
	bool inv_ok;
	void *magic; /* libmagic handle, opened on first use */
};

static enum err
hash_to_end(struct ctx *c)
{
	enum err r;

	while (c->hashed < c->src.size) {
		size_t n = c->src.size - c->hashed < READ_BLOCK
		               ? (size_t)(c->src.size - c->hashed)
		               : READ_BLOCK;

		if ((r = zsrc_read(&c->src, c->hashed, c->rbuf, n)) != ERR_OK)
			return r == ERR_NOT_FOUND ? ERR_IO : r;
		cry_sha256_update(&c->zip_hash, c->rbuf, n);
		c->hashed += n;
	}
	return ERR_OK;
}

/* ---- libarchive client callbacks: our source, hashing in passing ---- */

static la_ssize_t
la_read(struct archive *a, void *arg, const void **out)
{
	struct ctx *c = arg;
	size_t n;
	enum err r;
	uint64_t clen = c->dir.eocd_off + 20; /* the comment length field */

	if (c->pos >= c->la_size)
		return 0;
	n = c->la_size - c->pos < READ_BLOCK ? (size_t)(c->la_size - c->pos)
	                                     : READ_BLOCK;
	if (c->src.fd < 0 && c->src.rd == NULL) {
		*out = c->src.mem + c->pos;
	} else {
		if ((r = zsrc_read(&c->src, c->pos, c->rbuf, n)) != ERR_OK) {
			archive_set_error(a, EIO, "read failed");
			return -1;
		}
		*out = c->rbuf;
	}
	/* The ZIP's own hash, when libarchive reads in file order. */
	if (c->pos == c->hashed) {
		cry_sha256_update(&c->zip_hash, *out, n);
		c->hashed += n;
	}
	/*
	 * libarchive sees the archive without its comment (it looks for
	 * the end record only near the end): the length field reads 0.
	 */
	if (c->la_size < c->src.size && clen + 2 > c->pos &&
	    clen < c->pos + n) {
		if (*out != c->rbuf)
			memcpy(c->rbuf, *out, n);
		for (uint64_t i = clen; i < clen + 2; i++)
			if (i >= c->pos && i < c->pos + n)
				c->rbuf[i - c->pos] = 0;
		*out = c->rbuf;
	}
	c->pos += n;
	return (la_ssize_t)n;
}

static la_int64_t
la_seek(struct archive *a, void *arg, la_int64_t off, int whence)
{
	struct ctx *c = arg;
	int64_t base = whence == SEEK_SET   ? 0
	               : whence == SEEK_CUR ? (int64_t)c->pos
	                                    : (int64_t)c->la_size;

	if (off > INT64_MAX - base || base + off < 0 ||
	    (uint64_t)(base + off) > c->la_size) {
		archive_set_error(a, EINVAL, "bad seek");
		return ARCHIVE_FATAL;
	}
	c->pos = (uint64_t)(base + off);
	return (la_int64_t)c->pos;
}

/* ---- helpers ---- */

static char *
hexdup(const uint8_t *p, size_t len)
{
	char *s = malloc(2 * len + 1);

	if (s != NULL)
		hex_encode(p, len, s);
	return s;
}

/* A printable stand-in for a name we could not decode. */
static char *
escaped_name(const uint8_t *p, size_t len)
{
	char *s = malloc(4 * len + 1);
	size_t o = 0;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\') {
			static const char hx[] = "0123456789abcdef";

			s[o++] = '\\';
			s[o++] = 'x';
			s[o++] = hx[p[i] >> 4];
			s[o++] = hx[p[i] & 15];
		} else {
			s[o++] = (char)p[i];
		}
	}
	s[o] = 0;
	return s;
}

static void
human(uint64_t v, char *out, size_t outsz)
{
	if (v >= (1ull << 30) && v % (1ull << 30) == 0)
		snprintf(out, outsz, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v >= (1ull << 20))
		snprintf(out, outsz, "%llu MiB", (unsigned long long)(v >> 20));
	else
		snprintf(out, outsz, "%llu bytes", (unsigned long long)v);
}

static enum err
bomb(struct ctx *c, const char *file, const char *what_ja, const char *what_en,
    uint64_t limit)
{
	char l[32], ja[160], en[160];

	human(limit, l, sizeof(l));
	snprintf(ja, sizeof(ja), "%s 上限 %s", what_ja, l);
	snprintf(en, sizeof(en), "%s, limit %s", what_en, l);
	return rep_problem(c->rep, "zip.bomb", file, ja, en);
}

/* True when path (NFC) escapes or is not a plain relative path. */
static const char *
traversal_reason(const char *p)
{
	const char *s = p;

	if (strchr(p, '\\') != NULL)
		return "backslash";
	if (p[0] == '/')
		return "absolute path";
	if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':')
		return "drive letter";
	while (*s) {
		size_t n = strcspn(s, "/");

		if ((n == 2 && strncmp(s, "..", 2) == 0) ||
		    (n == 1 && s[0] == '.'))
			return "'..' or '.'";
		if (n == 0)
			return "empty path component";
		s += n;
		if (*s == '/')
			s++;
	}
	return NULL;
}

/* ---- stage 1: entries -> documents ---- */

static enum err
plan_documents(struct ctx *c)
{
	enum err r = ERR_INTERNAL;
	struct intake_report *rep = c->rep;
	char **path = NULL; /* decoded NFC paths (NULL: undecodable) */
	char *wrap = NULL;
	bool wrapped = true, any_file = false, meta_seen = false;
	size_t ndoc = 0;

	if ((path = calloc(c->dir.n + 1, sizeof(*path))) == NULL ||
	    (rep->docs = calloc(c->dir.n + 1, sizeof(*rep->docs))) == NULL ||
	    (c->w = calloc(c->dir.n + 1, sizeof(*c->w))) == NULL)
		goto nomem;
	/* Decode every name and find whether one folder wraps everything. */
	for (size_t i = 0; i < c->dir.n; i++) {
		struct zent *e = &c->dir.e[i];
		const char *slash;

		r = name_decode(e->name, e->name_len, (e->flags & 0x800u) != 0,
		    e->upath, e->upath_len, &path[i]);
		if (r == ERR_NOMEM)
			goto out;
		if (path[i] == NULL || name_is_os_metadata(path[i]) ||
		    traversal_reason(path[i]) != NULL || e->is_link)
			continue;
		slash = strchr(path[i], '/');
		if (e->is_dir) {
			/* "W/" may name the wrapper; anything deeper cannot */
			if (slash == NULL || slash[1] != 0) {
				wrapped = false;
				continue;
			}
		} else {
			any_file = true;
			if (slash == NULL || strchr(slash + 1, '/') != NULL) {
				wrapped = false;
				continue;
			}
		}
		if (wrap == NULL) {
			if ((wrap = strndup(path[i],
			         (size_t)(slash - path[i]))) == NULL)
				goto nomem;
		} else if (strlen(wrap) != (size_t)(slash - path[i]) ||
		           strncmp(wrap, path[i], strlen(wrap)) != 0) {
			wrapped = false;
		}
	}
	if (!any_file || wrap == NULL)
		wrapped = false;
	for (size_t i = 0; i < c->dir.n; i++) {
		struct zent *e = &c->dir.e[i];
		const char *why, *base;
		char *shown = path[i];
		struct work *w;
		struct intake_doc *d;

		if (path[i] == NULL) {
			if ((shown = escaped_name(e->name, e->name_len)) ==
			    NULL)
				goto nomem;
		}
		if (path[i] != NULL && name_is_os_metadata(path[i])) {
			/* one warning for all of them, naming the first */
			if (!e->is_dir && !meta_seen &&
			    (r = rep_problem(rep, "zip.os_metadata_ignored",
			         path[i], NULL, NULL)) != ERR_OK)
				goto out;
			meta_seen = meta_seen || !e->is_dir;
			continue;
		}
		if (path[i] != NULL && (why = traversal_reason(path[i]))) {
			char en[64];

			snprintf(en, sizeof(en), "%s", why);
			if ((r = rep_problem(rep, "zip.path_traversal", shown,
			         en, en)) != ERR_OK)
				goto out;
			continue;
		}
		if (e->is_link) {
			r = rep_problem(rep, "zip.link", shown, NULL, NULL);
			if (shown != path[i])
				free(shown);
			if (r != ERR_OK)
				goto out;
			continue;
		}
		if (e->is_dir) {
			/* folder structure is judged on the files in it */
			if (shown != path[i])
				free(shown);
			continue;
		}
		/* A document. */
		w = &c->w[ndoc];
		d = &rep->docs[ndoc];
		w->d = d;
		w->e = e;
		w->row = -1;
		d->entry = i;
		d->role = INTAKE_ROLE_ATTACHMENT;
		d->format = "unknown";
		if ((d->raw_name_hex = hexdup(e->name, e->name_len)) == NULL)
			goto nomem;
		if (path[i] == NULL) {
			d->name = shown; /* transferred */
			if ((r = rep_problem(rep, "name.encoding", d->name,
			         NULL, NULL)) != ERR_OK)
				goto out;
		} else {
			base = path[i];
			if (wrapped) {
				base = path[i] + strlen(wrap) + 1;
			} else if (strchr(path[i], '/') != NULL) {
				if ((r = rep_problem(rep, "zip.path_traversal",
				         path[i], "フォルダー構造",
				         "folder structure")) != ERR_OK)
					goto out;
				base = strrchr(path[i], '/') + 1;
			}
			if ((d->name = strdup(base)) == NULL)
				goto nomem;
		}
		ndoc++;
		rep->ndocs = ndoc;
		c->nw = ndoc;
		if (path[i] != NULL) {
			w->nfkc = name_nfkc(d->name);
			w->fold = name_fold(d->name);
			w->key = name_casefold(d->name);
			if (w->nfkc == NULL || w->fold == NULL ||
			    w->key == NULL)
				goto nomem;
		}
		{
			const char *dot = strrchr(d->name, '.');

			w->ext = dot != NULL ? dot + 1 : "";
		}
	}
	r = ERR_OK;
	goto out;
nomem:
	r = ERR_NOMEM;
out:
	if (path != NULL)
		for (size_t i = 0; i < c->dir.n; i++)
			free(path[i]);
	free(path);
	free(wrap);
	return r;
}

/* ---- stage 2: name rules and declared sizes ---- */

/* R3 (length, characters), R4 (10 files), limits on declared sizes. */
static enum err
check_names(struct ctx *c)
{
	enum err r;
	const struct intake_limits *L = &c->o->limits;
	uint64_t declared = 0;

	for (size_t i = 0; i < c->nw; i++) {
		struct work *w = &c->w[i];
		const char *name = w->d->name;
		char what[32], ja[96], en[96];
		const char *why;
		size_t len = strlen(name);

		if (w->fold == NULL)
			continue; /* undecodable: reported already */
		if ((why = name_bad_reason(name, what, sizeof(what))) != NULL) {
			snprintf(en, sizeof(en), "%s%s%s", why,
			    what[0] ? " " : "", what);
			if ((r = rep_problem(c->rep, "name.invalid_character",
			         name, en, en)) != ERR_OK)
				return r;
		}
		if (len > L->max_name) {
			snprintf(ja, sizeof(ja), "%zu バイト、上限 %u バイト",
			    len, L->max_name);
			snprintf(en, sizeof(en), "%zu UTF-8 bytes, limit %u",
			    len, L->max_name);
			if ((r = rep_problem(c->rep, "name.too_long", name, ja,
			         en)) != ERR_OK)
				return r;
		}
		for (size_t j = 0; j < i; j++) {
			if (c->w[j].key != NULL && w->key != NULL &&
			    strcmp(c->w[j].key, w->key) == 0) {
				if ((r = rep_problem(c->rep,
				         "zip.duplicate_name", name, NULL,
				         NULL)) != ERR_OK)
					return r;
				break;
			}
		}
	}
	for (size_t i = 0; i < c->nw; i++) {
		struct work *w = &c->w[i];
		struct zent *e = w->e;

		if (e->encrypted) {
			w->skip = true;
			continue;
		}
		if (e->usize > L->max_entry) {
			w->skip = true;
			if ((r = bomb(c, w->d->name, "展開後のサイズ（申告値）",
			         "declared size", L->max_entry)) != ERR_OK)
				return r;
			continue;
		}
		if (e->usize > L->ratio_from &&
		    e->usize / (e->csize ? e->csize : 1) > L->max_ratio) {
			w->skip = true;
			if ((r = rep_problem(c->rep, "zip.bomb", w->d->name,
			         "圧縮率（申告値）", "declared ratio")) !=
			    ERR_OK)
				return r;
			continue;
		}
		declared += e->usize;
	}
	if (declared > L->max_total) {
		if ((r = bomb(c, "", "合計サイズ（申告値）", "declared total",
		         L->max_total)) != ERR_OK)
			return r;
		c->total_over = true;
	}
	if (c->nw > L->max_files) {
		char ja[64], en[64];

		snprintf(ja, sizeof(ja), "%zu 個、上限 %u 個", c->nw,
		    L->max_files);
		snprintf(en, sizeof(en), "%zu files, limit %u", c->nw,
		    L->max_files);
		if ((r = rep_problem(c->rep, "zip.too_many_files", "", ja,
		         en)) != ERR_OK)
			return r;
	}
	return ERR_OK;
}

/* ---- stage 3: the inflate pass ---- */

struct capture {
	uint8_t *buf; /* whole content, or the head once over CAP_FULL */
	size_t len, cap;
	bool whole; /* buf holds everything so far */
	uint8_t *tail;
	size_t tail_pos;
	bool tail_full;
	uint64_t size;
	uint64_t hint; /* declared size (untrusted, only for allocation) */
	/*
	 * A PDF over CAP_FULL is also copied whole into anonymous memory, so
	 * that qpdf checks all of it (security review #4: a trailer outside
	 * the last MiB or /Encr#79pt hid the encryption from the tail check).
	 * Its size is bounded by limits.max_entry (read_document stops
	 * there); it grows by mremap, so no copy and no file: the sandboxed
	 * validator may neither open nor write files (RLIMIT_FSIZE 0).
	 */
	uint8_t *spill; /* the mapping, or NULL */
	size_t spill_len, spill_cap;
	bool spill_bad;     /* could not keep it: format_check refuses */
	bool spill_decided; /* the head showed whether it is a PDF */
};

static void
capture_release(struct capture *k)
{
	free(k->buf);
	free(k->tail);
	if (k->spill != NULL)
		munmap(k->spill, k->spill_cap);
	memset(k, 0, sizeof(*k));
}

static void
spill_drop(struct capture *k)
{
	if (k->spill != NULL)
		munmap(k->spill, k->spill_cap);
	k->spill = NULL;
	k->spill_len = k->spill_cap = 0;
	k->spill_bad = true;
}

static void
spill_add(struct capture *k, const uint8_t *p, size_t n)
{
	if (k->spill == NULL || n == 0)
		return;
	if (n > k->spill_cap - k->spill_len) {
		size_t nc = k->spill_cap, page = (size_t)sysconf(_SC_PAGESIZE);
		void *m;

		/* Linear steps: mremap moves pages, the slack stays small. */
		if (k->spill_len > SIZE_MAX - n - SPILL_STEP) {
			spill_drop(k);
			return;
		}
		nc = (k->spill_len + n + SPILL_STEP + page - 1) / page * page;
		m = mremap(k->spill, k->spill_cap, nc, MREMAP_MAYMOVE);
		if (m == MAP_FAILED) {
			spill_drop(k); /* format_check then refuses the PDF */
			return;
		}
		k->spill = m;
		k->spill_cap = nc;
	}
	memcpy(k->spill + k->spill_len, p, n);
	k->spill_len += n;
}

/* Once the head holds 1 KiB (or all it can): a PDF is spilled whole. */
static enum err
capture_spill_decide(struct capture *k, const uint8_t *rest, size_t n)
{
	size_t first = k->len < 1024 ? k->len : 1024;
	void *m;

	if (k->spill_decided || (k->len < 1024 && k->len < CAP_HEAD))
		return ERR_OK;
	k->spill_decided = true;
	if (first < 5 || memmem(k->buf, first, "%PDF-", 5) == NULL)
		return ERR_OK;
	m = mmap(NULL, 2 * CAP_FULL, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		k->spill_bad = true; /* format_check then refuses the PDF */
		return ERR_OK;
	}
	k->spill = m;
	k->spill_cap = 2 * CAP_FULL;
	spill_add(k, k->buf, k->len);
	spill_add(k, rest, n);
	return ERR_OK;
}

static enum err
capture_add(struct capture *k, const uint8_t *p, size_t n)
{
	k->size += n;
	if (k->whole && k->len + n <= CAP_FULL) {
		if (k->len + n > k->cap) {
			/* the declared size first: no doubling when honest */
			size_t nc = k->cap            ? k->cap
			            : k->hint > 65536 ? (size_t)k->hint
			                              : 65536;
			uint8_t *nb;

			while (nc < k->len + n)
				nc *= 2;
			if (nc > CAP_FULL)
				nc = CAP_FULL;
			if ((nb = malloc(nc)) == NULL)
				return ERR_NOMEM;
			if (k->len > 0)
				memcpy(nb, k->buf, k->len);
			free(k->buf);
			k->buf = nb;
			k->cap = nc;
		}
		memcpy(k->buf + k->len, p, n);
		k->len += n;
		return ERR_OK;
	}
	if (k->whole) {
		/* Too big to keep whole: keep a head and a tail ring. */
		uint8_t *old = k->buf;
		size_t oldlen = k->len;
		enum err r;

		k->buf = malloc(CAP_HEAD);
		k->tail = malloc(CAP_TAIL);
		if (k->buf == NULL || k->tail == NULL) {
			free(old);
			return ERR_NOMEM;
		}
		k->whole = false;
		k->len = 0;
		k->cap = CAP_HEAD;
		k->size -= n + oldlen; /* added again below */
		r = capture_add(k, old, oldlen);
		free(old);
		if (r != ERR_OK)
			return r;
		return capture_add(k, p, n);
	}
	spill_add(k, p, n);
	if (k->len < CAP_HEAD) {
		size_t m = CAP_HEAD - k->len < n ? CAP_HEAD - k->len : n;
		enum err r;

		memcpy(k->buf + k->len, p, m);
		k->len += m;
		p += m;
		n -= m;
		if ((r = capture_spill_decide(k, p, n)) != ERR_OK)
			return r;
	}
	while (n > 0) {
		size_t m =
		    CAP_TAIL - k->tail_pos < n ? CAP_TAIL - k->tail_pos : n;

		memcpy(k->tail + k->tail_pos, p, m);
		k->tail_pos += m;
		p += m;
		n -= m;
		if (k->tail_pos == CAP_TAIL) {
			k->tail_pos = 0;
			k->tail_full = true;
		}
	}
	return ERR_OK;
}

/* Rotates the tail ring into order; returns its length. */
static size_t
capture_tail(struct capture *k)
{
	uint8_t *t;

	if (k->tail == NULL)
		return 0;
	if (!k->tail_full)
		return k->tail_pos;
	if ((t = malloc(CAP_TAIL)) == NULL)
		return 0;
	memcpy(t, k->tail + k->tail_pos, CAP_TAIL - k->tail_pos);
	memcpy(t + CAP_TAIL - k->tail_pos, k->tail, k->tail_pos);
	free(k->tail);
	k->tail = t;
	k->tail_pos = 0;
	return CAP_TAIL;
}

static bool
ext_is(const struct work *w, const char *ext)
{
	return strcasecmp(w->ext, ext) == 0;
}

/*
 * Compressed bytes of entry e that libarchive has consumed so far (its
 * position in our stream, past what it only buffered), at least 1 and at
 * most the entry's compressed size: the ratio limit is enforced against
 * what was actually read, so a bomb is stopped after inflating about
 * max_ratio times the few bytes read, not times the whole entry.
 */
static uint64_t
consumed(struct archive *a, const struct zent *e)
{
	la_int64_t pos = archive_filter_bytes(a, -1);
	uint64_t n;

	if (pos < 0 || (uint64_t)pos <= e->data_off)
		return 1;
	n = (uint64_t)pos - e->data_off;
	if (e->csize > 0 && n > e->csize)
		n = e->csize;
	return n;
}

/* Reads one document's data; returns ERR_OK even when it was cut short. */
static enum err
read_document(struct ctx *c, struct archive *a, struct work *w)
{
	enum err r = ERR_INTERNAL;
	const struct intake_limits *L = &c->o->limits;
	const struct intake_sink *sink = c->o->sink;
	struct cry_sha256 h = {0};
	struct capture k = {.whole = true};
	uint64_t out = 0;
	size_t idx = (size_t)(w - c->w);
	bool ok = false, sink_open = false;
	const char *name = w->d->name;

	/* Declared over the cap: do not even start keeping it whole. */
	k.hint = w->e->usize <= CAP_FULL ? w->e->usize : 0;
	if (w->e->usize > CAP_FULL) {
		k.buf = malloc(CAP_HEAD);
		k.tail = malloc(CAP_TAIL);
		if (k.buf == NULL || k.tail == NULL) {
			capture_release(&k);
			return ERR_NOMEM;
		}
		k.whole = false;
		k.cap = CAP_HEAD;
	}

	if ((r = cry_sha256_init(&h)) != ERR_OK)
		goto out;
	if (sink != NULL) {
		if ((r = sink->begin(sink->arg, idx, w->d)) != ERR_OK)
			goto out;
		sink_open = true;
	}
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int ar = archive_read_data_block(a, &buf, &n, &off);

		if (ar == ARCHIVE_EOF) {
			ok = true;
			break;
		}
		if (ar != ARCHIVE_OK) {
			char en[256];

			snprintf(en, sizeof(en), "%s: %s", name,
			    archive_error_string(a) ? archive_error_string(a)
			                            : "read error");
			if ((r = rep_problem(c->rep, "zip.unreadable", name, en,
			         en)) != ERR_OK)
				goto out;
			break;
		}
		if (n == 0 || buf == NULL)
			continue;
		out += n;
		c->total_out += n;
		if (out > L->max_entry) {
			if ((r = bomb(c, name, "展開後のサイズ",
			         "size of one file", L->max_entry)) != ERR_OK)
				goto out;
			break;
		}
		if (out > L->ratio_from &&
		    out / consumed(a, w->e) > L->max_ratio) {
			char ja[64], en[64];

			snprintf(ja, sizeof(ja), "圧縮率 %llu:1 超",
			    (unsigned long long)L->max_ratio);
			snprintf(en, sizeof(en), "ratio over %llu:1",
			    (unsigned long long)L->max_ratio);
			if ((r = rep_problem(c->rep, "zip.bomb", name, ja,
			         en)) != ERR_OK)
				goto out;
			break;
		}
		if (c->total_out > L->max_total) {
			c->total_over = true;
			if ((r = bomb(c, "", "展開後の合計サイズ", "total size",
			         L->max_total)) != ERR_OK)
				goto out;
			break;
		}
		cry_sha256_update(&h, buf, n);
		if ((r = capture_add(&k, buf, n)) != ERR_OK)
			goto out;
		if (sink != NULL &&
		    (r = sink->data(sink->arg, idx, buf, n)) != ERR_OK)
			goto out;
	}
	w->d->size = out;
	if (ok) {
		size_t tl;

		cry_sha256_final(&h, w->d->sha256);
		w->d->hashed = true;
		w->read_ok = true;
		tl = capture_tail(&k);
		format_check(&c->magic, span_of(k.buf, k.len),
		    span_of(k.tail, tl), out, k.whole,
		    span_of(k.spill, k.spill_bad ? 0 : k.spill_len), &w->fmt);
		w->fmt_done = true;
		w->d->format = w->fmt.format;
		if (w->is_inventory && k.whole && k.len <= INV_MAX) {
			w->keep = k.buf; /* transferred */
			w->keep_len = k.len;
			k.buf = NULL;
		}
	}
	if (sink_open) {
		sink_open = false;
		if ((r = sink->end(sink->arg, idx, ok)) != ERR_OK)
			goto out;
	}
	r = ERR_OK;
out:
	if (sink_open && sink->end(sink->arg, idx, false) != ERR_OK)
		r = r == ERR_OK ? ERR_INTERNAL : r;
	if (!w->d->hashed)
		cry_sha256_release(&h);
	capture_release(&k);
	return r;
}

static int
cmp_entry_lho(const void *a, const void *b)
{
	const struct zent *x = *(const struct zent *const *)a;
	const struct zent *y = *(const struct zent *const *)b;

	if (x->lho != y->lho)
		return x->lho < y->lho ? -1 : 1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

static enum err
inflate_pass(struct ctx *c)
{
	enum err r = ERR_INTERNAL;
	struct archive *a = NULL;
	struct zent **order = NULL;
	struct work **by_entry = NULL;

	if ((order = calloc(c->dir.n + 1, sizeof(*order))) == NULL ||
	    (by_entry = calloc(c->dir.n + 1, sizeof(*by_entry))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->dir.n; i++)
		order[i] = &c->dir.e[i];
	for (size_t i = 0; i < c->nw; i++)
		by_entry[c->w[i].d->entry] = &c->w[i];
	qsort(order, c->dir.n, sizeof(*order), cmp_entry_lho);
	if ((a = archive_read_new()) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	/* Only the seekable ZIP reader: it follows the central directory. */
	if (archive_read_support_format_zip_seekable(a) != ARCHIVE_OK ||
	    archive_read_set_callback_data(a, c) != ARCHIVE_OK ||
	    archive_read_set_read_callback(a, la_read) != ARCHIVE_OK ||
	    archive_read_set_seek_callback(a, la_seek) != ARCHIVE_OK) {
		r = ERR_INTERNAL;
		goto out;
	}
	c->pos = 0;
	c->la_size = c->dir.eocd_off + 22 <= c->src.size ? c->dir.eocd_off + 22
	                                                 : c->src.size;
	if (archive_read_open1(a) != ARCHIVE_OK) {
		char en[256];

		snprintf(en, sizeof(en), "%s",
		    archive_error_string(a) ? archive_error_string(a)
		                            : "libarchive cannot open it");
		r = rep_problem(c->rep, "zip.unreadable", "", en, en);
		goto out;
	}
	for (size_t k = 0; k < c->dir.n && !c->total_over; k++) {
		struct archive_entry *ae;
		struct zent *e = order[k];
		struct work *w = by_entry[e - c->dir.e];
		int ar = archive_read_next_header(a, &ae);

		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			char en[256];

			snprintf(en, sizeof(en), "%s",
			    archive_error_string(a) ? archive_error_string(a)
			                            : "entry header");
			r = rep_problem(c->rep, "zip.unreadable",
			    w != NULL ? w->d->name : "", en, en);
			goto out;
		}
		/* Same entry as ours? Sizes come from the same directory. */
		if (archive_entry_size_is_set(ae) && !e->is_dir &&
		    !e->is_link &&
		    (uint64_t)archive_entry_size(ae) != e->usize) {
			r = rep_problem(c->rep, "zip.inconsistent", "",
			    "libarchive との不一致", "reader disagreement");
			goto out;
		}
		if (w == NULL || w->skip || e->is_dir || e->is_link ||
		    e->encrypted) {
			if (archive_read_data_skip(a) != ARCHIVE_OK &&
			    w == NULL && !e->encrypted) {
				/* a skipped entry that cannot be read is
				 * left to the entries' own checks */
			}
			continue;
		}
		if ((r = read_document(c, a, w)) != ERR_OK)
			goto out;
	}
	r = ERR_OK;
out:
	if (a != NULL)
		archive_read_free(a);
	free(order);
	free(by_entry);
	return r;
}

/* ---- stage 4: formats, inventory, numbering, roles, type, R1 ---- */

static const char *
leading_token(const char *nfkc, char *out, size_t outsz)
{
	size_t n = 0;

	while (nfkc[n] != 0 && n + 1 < outsz &&
	       ((nfkc[n] >= '0' && nfkc[n] <= '9') ||
	           ((nfkc[n] | 0x20) >= 'a' && (nfkc[n] | 0x20) <= 'z') ||
	           nfkc[n] == '-'))
		n++;
	while (n > 0 && nfkc[n - 1] == '-')
		n--;
	memcpy(out, nfkc, n);
	out[n] = 0;
	return out;
}

/* A name "begins with a number": a digit, or up to 3 letters + digit. */
static bool
has_number_prefix(const char *s)
{
	size_t i = 0;

	while (i < 3 && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
		i++;
	if (i > 0 && s[i] == '-')
		i++;
	return s[i] >= '0' && s[i] <= '9';
}

static bool
is_sep(const char *s)
{
	return *s == '_' || *s == '-' || *s == ' ' || *s == '.' ||
	       strncmp(s, "\xe3\x80\x80", 3) == 0;
}

static bool
all_digits(const char *s)
{
	if (*s == 0)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Length of the match of number num at the start of name (folded), or 0. */
static size_t
number_match(const char *name, const char *num)
{
	size_t n = strlen(num);

	if (n > 0 && strncmp(name, num, n) == 0 && is_sep(name + n))
		return n;
	if (all_digits(num)) {
		/* 1 in a numeric cell matches 01 in a name */
		size_t z = 0, d;

		while (num[z] == '0' && num[z + 1] != 0)
			z++;
		d = 0;
		while (name[d] == '0')
			d++;
		if (d > 0 && strncmp(name + d, num + z, strlen(num + z)) == 0 &&
		    is_sep(name + d + strlen(num + z)))
			return d + strlen(num + z);
	}
	return 0;
}

/* Compares titles ignoring width, case, spaces and separators. */
static bool
title_equal(const char *a, const char *b)
{
	char *fa = name_fold(a), *fb = name_fold(b);
	bool eq = false;

	if (fa != NULL && fb != NULL) {
		size_t i = 0, j = 0;

		for (;;) {
			while (fa[i] == ' ' || fa[i] == '_' || fa[i] == '-')
				i++;
			while (fb[j] == ' ' || fb[j] == '_' || fb[j] == '-')
				j++;
			if (fa[i] != fb[j])
				break;
			if (fa[i] == 0) {
				eq = true;
				break;
			}
			i++;
			j++;
		}
	}
	free(fa);
	free(fb);
	return eq;
}

/* R2: the real content type, openable, no macros, no passwords. */
static enum err
format_problems(struct ctx *c, struct work *w)
{
	const struct fmt_result *f = &w->fmt;
	const char *name = w->d->name;
	char ja[160], en[160];

	if (!w->fmt_done)
		return ERR_OK;
	if (f->not_allowed) {
		snprintf(en, sizeof(en), "%s", f->format);
		return rep_problem(c->rep, "format.not_allowed", name, en, en);
	}
	if (f->macro || ext_is(w, "xlsm") || ext_is(w, "docm"))
		return rep_problem(c->rep, "format.macro", name, NULL, NULL);
	if (f->encrypted)
		return rep_problem(c->rep, "format.encrypted", name, NULL,
		    NULL);
	if (f->unopenable)
		return rep_problem(c->rep, "format.unopenable", name, f->why,
		    f->why);
	if (!ext_is(w, f->format)) {
		snprintf(ja, sizeof(ja), "拡張子 .%s、内容 %s", w->ext,
		    f->format);
		snprintf(en, sizeof(en), "extension .%s, content %s", w->ext,
		    f->format);
		return rep_problem(c->rep, "format.mismatch", name, ja, en);
	}
	if (strcmp(roles[w->d->role].ext, f->format) != 0) {
		snprintf(ja, sizeof(ja), "%s は %s であるべきです",
		    roles[w->d->role].ja, roles[w->d->role].ext);
		snprintf(en, sizeof(en), "%s must be .%s", roles[w->d->role].en,
		    roles[w->d->role].ext);
		return rep_problem(c->rep, "format.mismatch", name, ja, en);
	}
	return ERR_OK;
}

static enum err
set_number(struct work *w, const char *num)
{
	free(w->d->number);
	w->d->number = strdup(num);
	return w->d->number != NULL ? ERR_OK : ERR_NOMEM;
}

/* R3: every name begins with a number the inventory lists; R5 lists. */
static enum err
check_inventory_and_numbers(struct ctx *c)
{
	enum err r;
	struct work *invw = NULL;
	struct intake_report *rep = c->rep;
	char tok[64];

	/* Roles from the file names first: they find the inventory. */
	for (size_t i = 0; i < c->nw; i++) {
		struct work *w = &c->w[i];

		w->d->role = role_of(w->fold);
		if (w->d->role == INTAKE_ROLE_INVENTORY && invw == NULL &&
		    ext_is(w, "xlsx"))
			invw = w;
	}
	if (invw != NULL) {
		if (invw->keep == NULL) {
			const char *why = !invw->read_ok
			                      ? "not read"
			                      : "too large or not a workbook";

			if ((r = rep_problem(rep, "inventory.unreadable",
			         invw->d->name, why, why)) != ERR_OK)
				return r;
		} else if (inventory_parse(span_of(invw->keep, invw->keep_len),
		               &c->inv) != ERR_OK) {
			if ((r = rep_problem(rep, "inventory.unreadable",
			         invw->d->name,
			         "見出し行（資料番号・資料名称）が見つからない"
			         "か、形式が不正",
			         "no header row (資料番号, 資料名称) or not a "
			         "valid workbook")) != ERR_OK)
				return r;
		} else {
			c->inv_ok = true;
		}
	}
	/* Duplicate numbers inside the inventory. */
	for (size_t i = 0; c->inv_ok && i < c->inv.n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->inv.rows[i].number,
			        c->inv.rows[j].number) == 0) {
				if ((r = rep_problem(rep, "number.duplicate",
				         invw->d->name, c->inv.rows[i].number,
				         NULL)) != ERR_OK)
					return r;
				break;
			}
	/* Numbering (R3). */
	for (size_t i = 0; i < c->nw; i++) {
		struct work *w = &c->w[i];
		size_t best = 0;

		if (w->fold == NULL)
			continue;
		for (size_t k = 0; c->inv_ok && k < c->inv.n; k++) {
			size_t m = number_match(w->fold, c->inv.rows[k].fnum);

			if (m > best) {
				best = m;
				w->row = (int)k;
			}
		}
		if (w->row >= 0) {
			if ((r = set_number(w, c->inv.rows[w->row].number)) !=
			    ERR_OK)
				return r;
			continue;
		}
		if (has_number_prefix(w->nfkc)) {
			leading_token(w->nfkc, tok, sizeof(tok));
			if ((r = set_number(w, tok)) != ERR_OK)
				return r;
			if (c->inv_ok && w != invw &&
			    (r = rep_problem(rep, "number.not_in_inventory",
			         w->d->name, tok, tok)) != ERR_OK)
				return r;
		} else if (w != invw &&
		           (r = rep_problem(rep, "name.no_number", w->d->name,
		                NULL, NULL)) != ERR_OK) {
			return r;
		}
	}
	/* One file per number. */
	for (size_t i = 0; i < c->nw; i++)
		for (size_t j = 0; j < i; j++)
			if (c->w[i].d->number != NULL &&
			    c->w[j].d->number != NULL &&
			    strcmp(c->w[i].d->number, c->w[j].d->number) == 0) {
				if ((r = rep_problem(rep, "number.duplicate",
				         c->w[i].d->name, c->w[i].d->number,
				         NULL)) != ERR_OK)
					return r;
				break;
			}
	/* Every electronic document the inventory lists has its file. */
	for (size_t k = 0; c->inv_ok && k < c->inv.n; k++) {
		bool found = false;
		char d[512];

		if (c->inv.rows[k].paper)
			continue;
		for (size_t i = 0; i < c->nw && !found; i++)
			found = c->w[i].row == (int)k;
		if (found)
			continue;
		snprintf(d, sizeof(d), "%s %s", c->inv.rows[k].number,
		    c->inv.rows[k].title);
		if ((r = rep_problem(rep, "number.missing_file", "", d, d)) !=
		    ERR_OK)
			return r;
	}
	/* Roles from the inventory's names; titles (warning only). */
	for (size_t i = 0; i < c->nw; i++) {
		struct work *w = &c->w[i];
		const struct inv_row *row;
		const char *t;
		char *title;
		size_t n;

		if (w->row < 0)
			continue;
		row = &c->inv.rows[w->row];
		if (w->d->role == INTAKE_ROLE_ATTACHMENT) {
			char *f = name_fold(row->title);

			w->d->role = role_of(f);
			free(f);
		}
		/* the name after the number and separator, no extension */
		t = w->nfkc;
		while (*t && !is_sep(t))
			t++;
		{
			size_t m = number_match(w->fold, row->fnum);

			if (m > 0 && m <= strlen(w->nfkc))
				t = w->nfkc + m;
		}
		if (strncmp(t, "\xe3\x80\x80", 3) == 0)
			t += 3;
		else if (*t)
			t++;
		n = strlen(t);
		{
			const char *dot = strrchr(t, '.');

			if (dot != NULL)
				n = (size_t)(dot - t);
		}
		if ((title = strndup(t, n)) == NULL)
			return ERR_NOMEM;
		if (!title_equal(title, row->title)) {
			r = rep_problem(rep, "name.title_mismatch", w->d->name,
			    row->title, row->title);
			if (r != ERR_OK) {
				free(title);
				return r;
			}
		}
		free(title);
	}
	return ERR_OK;
}

/* R1: the submission type (given or inferred) and its documents. */
static enum err
check_type_and_required(struct ctx *c)
{
	enum err r;
	bool has[INTAKE_ROLE__COUNT] = {false};
	static const enum intake_role req_new[] = {INTAKE_ROLE_INVENTORY,
	    INTAKE_ROLE_FORM_A, INTAKE_ROLE_FORM_B, INTAKE_ROLE_ATTACHMENT};
	static const enum intake_role req_renewal[] = {INTAKE_ROLE_INVENTORY,
	    INTAKE_ROLE_FORM_A, INTAKE_ROLE_FORM_B, INTAKE_ROLE_CHANGE_LIST,
	    INTAKE_ROLE_ATTACHMENT, INTAKE_ROLE_MARK_USE};
	static const enum intake_role req_change[] = {INTAKE_ROLE_CHANGE_FORM,
	    INTAKE_ROLE_FORM_B, INTAKE_ROLE_INVENTORY, INTAKE_ROLE_CHANGE_LIST,
	    INTAKE_ROLE_ATTACHMENT};
	static const enum intake_role req_term[] = {INTAKE_ROLE_TERMINATION};
	const enum intake_role *req;
	size_t nreq;

	for (size_t i = 0; i < c->nw; i++)
		has[c->w[i].d->role] = true;
	if (c->o->type != INTAKE_TYPE_INFER) {
		c->rep->type = c->o->type;
	} else {
		c->rep->type_inferred = true;
		if (has[INTAKE_ROLE_TERMINATION])
			c->rep->type = INTAKE_TYPE_TERMINATION;
		else if (has[INTAKE_ROLE_CHANGE_FORM])
			c->rep->type = INTAKE_TYPE_CHANGE;
		else if (has[INTAKE_ROLE_CHANGE_LIST] ||
		         has[INTAKE_ROLE_MARK_USE])
			c->rep->type = INTAKE_TYPE_RENEWAL;
		else
			c->rep->type = INTAKE_TYPE_NEW;
	}
	switch (c->rep->type) {
	case INTAKE_TYPE_RENEWAL:
		req = req_renewal;
		nreq = sizeof(req_renewal) / sizeof(req_renewal[0]);
		break;
	case INTAKE_TYPE_CHANGE:
		req = req_change;
		nreq = sizeof(req_change) / sizeof(req_change[0]);
		break;
	case INTAKE_TYPE_TERMINATION:
		req = req_term;
		nreq = 1;
		break;
	default:
		req = req_new;
		nreq = sizeof(req_new) / sizeof(req_new[0]);
		break;
	}
	for (size_t i = 0; i < nreq; i++) {
		enum intake_role ro = req[i];

		if (has[ro])
			continue;
		if (ro == INTAKE_ROLE_INVENTORY)
			r = rep_problem(c->rep, "inventory.missing", "", NULL,
			    NULL);
		else
			r = rep_problem(c->rep, "docs.missing_required", "",
			    roles[ro].ja, roles[ro].en);
		if (r != ERR_OK)
			return r;
	}
	return ERR_OK;
}

/* ---- the whole check ---- */

static void
ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->nw; i++) {
		free(c->w[i].fold);
		free(c->w[i].key);
		free(c->w[i].nfkc);
		free(c->w[i].keep);
	}
	free(c->w);
	free(c->rbuf);
	zdir_release(&c->dir);
	inventory_release(&c->inv);
	if (c->hashing)
		cry_sha256_release(&c->zip_hash);
}

static enum err
container_problems(struct ctx *c, bool *fatal)
{
	enum err r = ERR_OK;
	struct zdir *d = &c->dir;

	*fatal = true;
	if (d->too_many) {
		r = rep_problem(c->rep, "zip.too_many_files", "",
		    "エントリ数が多すぎます", "far too many entries");
	} else if (d->cd_encrypted) {
		r = rep_problem(c->rep, "zip.encrypted", "", NULL, NULL);
	} else if (d->unreadable) {
		r = rep_problem(c->rep, "zip.unreadable", "", d->unreadable_why,
		    d->unreadable_why);
	} else {
		*fatal = false;
		if (d->inconsistent) {
			*fatal = true;
			r = rep_problem(c->rep, "zip.inconsistent", "",
			    d->inconsistent_why, d->inconsistent_why);
		}
		if (r == ERR_OK && d->overlap) {
			*fatal = true;
			r = rep_problem(c->rep, "zip.bomb", "",
			    "エントリの重複（重なり）", "overlapping entries");
		}
		for (size_t i = 0; r == ERR_OK && i < d->n; i++) {
			if (!d->e[i].method_ok && !d->e[i].encrypted) {
				char m[64];

				snprintf(m, sizeof(m),
				    "unsupported compression method %u",
				    d->e[i].method);
				*fatal = true;
				r = rep_problem(c->rep, "zip.unreadable", "", m,
				    m);
				break;
			}
		}
		for (size_t i = 0; r == ERR_OK && i < d->n; i++)
			if (d->e[i].encrypted) {
				r = rep_problem(c->rep, "zip.encrypted", "",
				    NULL, NULL);
				break;
			}
	}
	return r;
}

static enum err
run(struct ctx *c)
{
	enum err r;
	bool fatal;

	if ((c->rbuf = malloc(READ_BLOCK)) == NULL)
		return ERR_NOMEM;
	if ((r = cry_sha256_init(&c->zip_hash)) != ERR_OK)
		return r;
	c->hashing = true;
	c->rep->zip_size = c->src.size;
	if ((r = zdir_parse(&c->src, true, &c->dir)) != ERR_OK)
		return r;
	c->rep->zip_entries = c->dir.n;
	if ((r = container_problems(c, &fatal)) != ERR_OK)
		return r;
	if (!fatal ||
	    (!c->dir.unreadable && !c->dir.too_many && !c->dir.cd_encrypted)) {
		if ((r = plan_documents(c)) != ERR_OK ||
		    (r = check_names(c)) != ERR_OK)
			return r;
		for (size_t i = 0; i < c->nw; i++) {
			struct work *w = &c->w[i];

			w->is_inventory =
			    role_of(w->fold) == INTAKE_ROLE_INVENTORY &&
			    ext_is(w, "xlsx");
		}
	}
	if (!fatal && c->nw == 0) {
		/* Nothing more to say about an empty archive. */
		if ((r = rep_problem(c->rep, "zip.empty", "", NULL, NULL)) !=
		    ERR_OK)
			return r;
		fatal = true;
	}
	if (!fatal) {
		if ((r = inflate_pass(c)) != ERR_OK)
			return r;
		if ((r = check_inventory_and_numbers(c)) != ERR_OK)
			return r;
		for (size_t i = 0; i < c->nw; i++)
			if ((r = format_problems(c, &c->w[i])) != ERR_OK)
				return r;
		if ((r = check_type_and_required(c)) != ERR_OK)
			return r;
	} else {
		c->rep->type = c->o->type != INTAKE_TYPE_INFER
		                   ? c->o->type
		                   : INTAKE_TYPE_NEW;
		c->rep->type_inferred = c->o->type == INTAKE_TYPE_INFER;
	}
	if ((r = hash_to_end(c)) != ERR_OK)
		return r;
	cry_sha256_final(&c->zip_hash, c->rep->zip_sha256);
	c->hashing = false;
	return ERR_OK;
}

static enum err
check_src(struct zsrc *src, const struct intake_check_opts *o,
    struct intake_report **out)
{
	enum err r = ERR_INTERNAL;
	struct ctx c;
	struct intake_check_opts dflt;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if (o == NULL) {
		intake_check_opts_default(&dflt);
		o = &dflt;
	}
	c.o = o;
	c.src = *src;
	/* A handle loaded once by the caller is borrowed, not closed. */
	c.magic = format_libs_magic(o->libs);
	if ((c.rep = calloc(1, sizeof(*c.rep))) == NULL)
		return ERR_NOMEM;
	c.rep->accept = true;
	r = run(&c);
	if (o->libs == NULL)
		format_cleanup(&c.magic);
	ctx_release(&c);
	if (r != ERR_OK) {
		intake_report_free(c.rep);
		return r;
	}
	*out = c.rep;
	return ERR_OK;
}

enum err
intake_check_fd(int fd, const struct intake_check_opts *o,
    struct intake_report **out)
{
	struct stat st;
	struct zsrc s = {.fd = fd};

	*out = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_err("not a regular file");
		return ERR_IO;
	}
	s.size = (uint64_t)st.st_size;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return check_src(&s, o, out);
}

enum err
intake_check_file(const char *path, const struct intake_check_opts *o,
    struct intake_report **out)
{
	enum err r;
	int fd;

	*out = NULL;
	/* O_NOFOLLOW: a submission is a file, never a link to one. */
	/* O_NONBLOCK: a FIFO must not hang us; fstat rejects it next. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) <
	    0) {
		log_err("%s: %s", path, strerror(errno));
		return ERR_IO;
	}
	r = intake_check_fd(fd, o, out);
	close(fd);
	return r;
}

enum err
intake_check_memory(struct span zip, const struct intake_check_opts *o,
    struct intake_report **out)
{
	struct zsrc s = {.fd = -1,
	    .mem = zip.p,
	    .mem_len = zip.len,
	    .size = zip.len};

	return check_src(&s, o, out);
}

enum err
intake_check_reader(const struct intake_reader *rd, uint64_t size,
    const struct intake_check_opts *o, struct intake_report **out)
{
	struct zsrc s = {.fd = -1, .rd = rd, .size = size};

	return check_src(&s, o, out);
}

void
intake_report_free(struct intake_report *rep)
{
	if (rep == NULL)
		return;
	for (size_t i = 0; i < rep->ndocs; i++) {
		free(rep->docs[i].name);
		free(rep->docs[i].raw_name_hex);
		free(rep->docs[i].number);
	}
	free(rep->docs);
	for (size_t i = 0; i < rep->nproblems; i++) {
		free(rep->problems[i].file);
		free(rep->problems[i].message_ja);
		free(rep->problems[i].message_en);
	}
	free(rep->problems);
	free(rep);
}

/* ---- output ---- */

enum err
intake_report_json(const struct intake_report *rep, struct bytes *out)
{
	struct json j;
	char hex[2 * INTAKE_HASH_LEN + 1];

	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "verdict", rep->accept ? "accept" : "reject");
	json_kv_str(&j, "type", intake_type_str(rep->type));
	json_key(&j, "zip");
	json_obj_begin(&j);
	hex_encode(rep->zip_sha256, INTAKE_HASH_LEN, hex);
	json_kv_str(&j, "sha256", hex);
	json_kv_uint(&j, "size", rep->zip_size);
	json_kv_uint(&j, "entries", rep->zip_entries);
	json_obj_end(&j);
	json_key(&j, "documents");
	json_arr_begin(&j);
	for (size_t i = 0; i < rep->ndocs; i++) {
		const struct intake_doc *d = &rep->docs[i];

		json_obj_begin(&j);
		json_key(&j, "number");
		if (d->number != NULL)
			json_str(&j, d->number);
		else
			json_null(&j);
		json_kv_str(&j, "name", d->name);
		json_kv_str(&j, "raw_name_hex", d->raw_name_hex);
		json_kv_str(&j, "role", intake_role_str(d->role));
		json_kv_str(&j, "format", d->format);
		json_kv_uint(&j, "size", d->size);
		json_key(&j, "sha256");
		if (d->hashed) {
			hex_encode(d->sha256, INTAKE_HASH_LEN, hex);
			json_str(&j, hex);
		} else {
			json_null(&j);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "problems");
	json_arr_begin(&j);
	for (size_t i = 0; i < rep->nproblems; i++) {
		const struct intake_problem *p = &rep->problems[i];

		json_obj_begin(&j);
		json_kv_str(&j, "code", p->code);
		json_kv_str(&j, "severity", p->error ? "error" : "warning");
		json_kv_str(&j, "file", p->file);
		json_kv_str(&j, "message_ja", p->message_ja);
		json_kv_str(&j, "message_en", p->message_en);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	return json_finish(&j);
}

/*
 * Appends s for a terminal or a text file: C0 and C1 controls, DEL and
 * invalid UTF-8 bytes as \xNN, bidirectional controls and line or
 * paragraph separators as <U+XXXX>; everything else (Japanese) as is.
 * When pad > 0, spaces follow up to pad displayed bytes.
 */
static enum err
put_text_safe(struct bytes *out, const char *s, size_t pad)
{
	static const char hx[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), done = 0, shown = 0;
	enum err r = ERR_OK;

	while (r == ERR_OK && done < len) {
		uint32_t cp = 0;
		size_t n = utf8_decode(p + done, len - done, &cp);
		char esc[16];

		if (n == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp <= 0x9f)) {
			uint8_t b = n == 0 ? p[done] : (uint8_t)cp;

			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hx[b >> 4];
			esc[3] = hx[b & 15];
			esc[4] = 0;
			n = n == 0 ? 1 : n;
			r = bytes_put_str(out, esc);
			shown += 4;
		} else if (cp == 0x061c || cp == 0x200e || cp == 0x200f ||
		           (cp >= 0x2028 && cp <= 0x202e) ||
		           (cp >= 0x2066 && cp <= 0x2069)) {
			snprintf(esc, sizeof(esc), "<U+%04X>", (unsigned)cp);
			r = bytes_put_str(out, esc);
			shown += strlen(esc);
		} else {
			r = bytes_put(out, p + done, n);
			shown += n;
		}
		done += n;
	}
	while (r == ERR_OK && shown < pad) {
		r = bytes_put_u8(out, ' ');
		shown++;
	}
	return r;
}

enum err
intake_text_safe(struct bytes *out, const char *s)
{
	return put_text_safe(out, s, 0);
}

enum err
intake_report_text(const struct intake_report *rep, const char *lang,
    struct bytes *out)
{
	enum err r = ERR_OK;
	bool ja = lang == NULL || strcmp(lang, "en") != 0;
	size_t nerr = 0, nwarn = 0;
	char hex[2 * INTAKE_HASH_LEN + 1];

	for (size_t i = 0; i < rep->nproblems; i++) {
		if (rep->problems[i].error)
			nerr++;
		else
			nwarn++;
	}
	hex_encode(rep->zip_sha256, INTAKE_HASH_LEN, hex);
	if (ja)
		r = bytes_printf(out,
		    "判定: %s（エラー %zu 件、警告 %zu 件）\n"
		    "Verdict: %s (%zu errors, %zu warnings)\n"
		    "種別 / type: %s%s\nZIP: %llu バイト, %zu エントリ, "
		    "SHA-256 %s\n",
		    rep->accept ? "受付可" : "受付不可", nerr, nwarn,
		    rep->accept ? "accept" : "reject", nerr, nwarn,
		    intake_type_str(rep->type),
		    rep->type_inferred ? "（推定 / inferred）" : "",
		    (unsigned long long)rep->zip_size, rep->zip_entries, hex);
	else
		r = bytes_printf(out,
		    "Verdict: %s (%zu errors, %zu warnings)\n"
		    "Type: %s%s\nZIP: %llu bytes, %zu entries, SHA-256 %s\n",
		    rep->accept ? "accept" : "reject", nerr, nwarn,
		    intake_type_str(rep->type),
		    rep->type_inferred ? " (inferred)" : "",
		    (unsigned long long)rep->zip_size, rep->zip_entries, hex);
	if (r == ERR_OK && rep->ndocs > 0)
		r = bytes_printf(out, "\n%s\n",
		    ja ? "書類 / Documents:" : "Documents:");
	for (size_t i = 0; r == ERR_OK && i < rep->ndocs; i++) {
		const struct intake_doc *d = &rep->docs[i];

		r = bytes_put_str(out, "  ");
		if (r == ERR_OK)
			r = put_text_safe(out, d->number ? d->number : "-", 6);
		if (r == ERR_OK)
			r = bytes_printf(out, " %-16s ",
			    intake_role_str(d->role));
		if (r == ERR_OK)
			r = put_text_safe(out, d->format, 5);
		if (r == ERR_OK)
			r = bytes_printf(out, " %10llu  ",
			    (unsigned long long)d->size);
		if (r == ERR_OK)
			r = put_text_safe(out, d->name, 0);
		if (r == ERR_OK)
			r = bytes_put_u8(out, '\n');
	}
	if (r == ERR_OK && rep->nproblems > 0)
		r = bytes_printf(out, "\n%s\n",
		    ja ? "指摘事項 / Problems:" : "Problems:");
	for (size_t i = 0; r == ERR_OK && i < rep->nproblems; i++) {
		const struct intake_problem *p = &rep->problems[i];
		const char *sev = p->error ? (ja ? "エラー" : "error")
		                           : (ja ? "警告" : "warning");

		r = bytes_printf(out, "- [%s] %s%s", sev, p->code,
		    p->file[0] ? "  " : "");
		if (r == ERR_OK)
			r = put_text_safe(out, p->file, 0);
		if (r == ERR_OK && ja)
			r = bytes_put_str(out, "\n    ");
		if (r == ERR_OK && ja)
			r = put_text_safe(out, p->message_ja, 0);
		if (r == ERR_OK)
			r = bytes_put_str(out, "\n    ");
		if (r == ERR_OK)
			r = put_text_safe(out, p->message_en, 0);
		if (r == ERR_OK)
			r = bytes_put_u8(out, '\n');
	}
	if (r == ERR_OK && rep->accept)
		r = bytes_printf(out, "\n%s\n",
		    ja ? "このZIPは提出できます。 / This ZIP can be submitted."
		       : "This ZIP can be submitted.");
	else if (r == ERR_OK)
		r = bytes_printf(out, "\n%s\n",
		    ja ? "上のエラーを直してから、もう一度提出してください。 / "
		         "Fix the errors above, then submit again."
		       : "Fix the errors above, then submit again.");
	return r;
}
