/*
 * intake/inventory.c - the inventory workbook (提出書類及び資料内訳書):
 * OOXML parts read from memory with libarchive, XML read with libxml2's
 * streaming reader (no tree, no DTD, no entities, no network), first
 * worksheet via the workbook's relationships, shared and inline strings.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/xmlreader.h>

#include "intake/check_int.h"
#include "common/banned.h"

#define PART_MAX      (16u << 20) /* one XML part, inflated */
#define SST_MAX_COUNT 200000      /* shared strings */
#define CELL_MAX      2048        /* bytes of one cell's text */
#define MAX_COLS      64          /* columns looked at */
#define MAX_ROWS      100000      /* rows looked at */
#define MAX_ITEMS     2000        /* numbered rows (documents) */
#define HEADER_ROWS   30          /* the header is within these rows */

enum err
ooxml_read_part(struct span pkg, const char *name, bool stream, size_t max,
    struct bytes *out)
{
	enum err r = ERR_NOT_FOUND;
	struct archive *a;
	struct archive_entry *ae;

	bytes_init(out, max);
	if ((a = archive_read_new()) == NULL)
		return ERR_NOMEM;
	if ((stream ? archive_read_support_format_zip_streamable(a)
	            : archive_read_support_format_zip_seekable(a)) !=
	        ARCHIVE_OK ||
	    archive_read_open_memory(a, pkg.p, pkg.len) != ARCHIVE_OK) {
		archive_read_free(a);
		return ERR_CORRUPT;
	}
	for (int i = 0; i < ZIP_MAX_ENTRIES; i++) {
		int ar = archive_read_next_header(a, &ae);
		const char *p;

		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			r = ERR_CORRUPT;
			break;
		}
		p = archive_entry_pathname(ae);
		if (p == NULL || strcmp(p, name) != 0)
			continue;
		r = ERR_OK;
		for (;;) {
			const void *buf;
			size_t n;
			la_int64_t off;

			ar = archive_read_data_block(a, &buf, &n, &off);
			if (ar == ARCHIVE_EOF)
				break;
			if (ar != ARCHIVE_OK) {
				r = ERR_CORRUPT;
				break;
			}
			if ((r = bytes_put(out, buf, n)) != ERR_OK)
				break;
		}
		if (r == ERR_OK && out->p == NULL)
			r = bytes_put(out, "", 0);
		break;
	}
	archive_read_free(a);
	if (r != ERR_OK)
		bytes_release(out);
	return r;
}

static void
quiet(void *arg, xmlErrorPtr e)
{
	(void)arg;
	(void)e;
}

/* A reader that refuses DTDs and never touches the network. */
static xmlTextReaderPtr
reader_new(const struct bytes *b)
{
	xmlTextReaderPtr rd;
	int len;

	if (size_to_int(b->len, &len) != ERR_OK)
		return NULL;
	rd = xmlReaderForMemory((const char *)b->p, len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (rd != NULL)
		xmlTextReaderSetStructuredErrorHandler(rd, quiet, NULL);
	return rd;
}

/* Next node; -1 on error or a DOCTYPE (entities are how XML bombs work). */
static int
reader_next(xmlTextReaderPtr rd)
{
	int ret = xmlTextReaderRead(rd);

	if (ret == 1 &&
	    xmlTextReaderNodeType(rd) == XML_READER_TYPE_DOCUMENT_TYPE)
		return -1;
	return ret;
}

static bool
is_elem(xmlTextReaderPtr rd, const char *local)
{
	const xmlChar *n = xmlTextReaderConstLocalName(rd);

	return n != NULL && strcmp((const char *)n, local) == 0;
}

static char *
attr(xmlTextReaderPtr rd, const char *name)
{
	xmlChar *v = xmlTextReaderGetAttribute(rd, (const xmlChar *)name);
	char *s;

	if (v == NULL)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

/* r:id of the first <sheet> in xl/workbook.xml. */
static enum err
first_sheet_rid(const struct bytes *wb, char **rid)
{
	xmlTextReaderPtr rd = reader_new(wb);
	int ret;

	*rid = NULL;
	if (rd == NULL)
		return ERR_CORRUPT;
	while ((ret = reader_next(rd)) == 1) {
		if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT ||
		    !is_elem(rd, "sheet"))
			continue;
		{
			xmlChar *v = xmlTextReaderGetAttributeNs(rd,
			    (const xmlChar *)"id",
			    (const xmlChar
			            *)"http://schemas.openxmlformats.org/"
			              "officeDocument/2006/relationships");

			if (v != NULL) {
				*rid = strdup((const char *)v);
				xmlFree(v);
			}
		}
		break;
	}
	xmlFreeTextReader(rd);
	return *rid != NULL ? ERR_OK : ERR_CORRUPT;
}

/* The part name of relationship rid in xl/_rels/workbook.xml.rels. */
static enum err
rel_target(const struct bytes *rels, const char *rid, char **path)
{
	xmlTextReaderPtr rd = reader_new(rels);
	int ret;

	*path = NULL;
	if (rd == NULL)
		return ERR_CORRUPT;
	while ((ret = reader_next(rd)) == 1 && *path == NULL) {
		char *id, *t;

		if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT ||
		    !is_elem(rd, "Relationship"))
			continue;
		id = attr(rd, "Id");
		t = attr(rd, "Target");
		if (id != NULL && t != NULL && strcmp(id, rid) == 0 &&
		    strstr(t, "..") == NULL) {
			size_t n = strlen(t) + 4;

			if ((*path = malloc(n)) != NULL)
				snprintf(*path, n, "%s%s",
				    t[0] == '/' ? "" : "xl/",
				    t[0] == '/' ? t + 1 : t);
		}
		free(id);
		free(t);
	}
	xmlFreeTextReader(rd);
	return *path != NULL ? ERR_OK : ERR_CORRUPT;
}

struct strs {
	char **v;
	size_t n, cap;
};

static void
strs_release(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static enum err
strs_push(struct strs *s, char *v)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		char **nv = calloc(nc, sizeof(*nv));

		if (nv == NULL)
			return ERR_NOMEM;
		if (s->n > 0)
			memcpy(nv, s->v, s->n * sizeof(*nv));
		free(s->v);
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = v;
	return ERR_OK;
}

/* Appends text to a capped cell buffer (silently truncating). */
static enum err
cell_put(struct bytes *b, const char *t)
{
	size_t n = strlen(t);

	if (b->len + n > CELL_MAX)
		n = CELL_MAX - b->len;
	return bytes_put(b, t, n);
}

/* <si> strings: <t> text, rich runs concatenated, phonetic <rPh> left out. */
static enum err
parse_sst(const struct bytes *x, struct strs *out)
{
	enum err r = ERR_OK;
	xmlTextReaderPtr rd = reader_new(x);
	struct bytes cur;
	bool in_si = false, in_t = false;
	int rph = 0, ret;

	bytes_init(&cur, CELL_MAX + 1);
	if (rd == NULL)
		return ERR_CORRUPT;
	while (r == ERR_OK && (ret = reader_next(rd)) == 1) {
		int type = xmlTextReaderNodeType(rd);

		if (type == XML_READER_TYPE_ELEMENT) {
			bool empty = xmlTextReaderIsEmptyElement(rd) == 1;

			if (is_elem(rd, "si")) {
				bytes_clear(&cur);
				in_si = true;
				if (empty) {
					char *s = strdup("");

					r = s ? strs_push(out, s) : ERR_NOMEM;
					if (r != ERR_OK)
						free(s);
					in_si = false;
				}
			} else if (is_elem(rd, "rPh") && !empty) {
				rph++;
			} else if (is_elem(rd, "t") && !empty) {
				in_t = true;
			}
		} else if (type == XML_READER_TYPE_END_ELEMENT) {
			if (is_elem(rd, "si") && in_si) {
				char *s = strndup(cur.p ? (char *)cur.p : "",
				    cur.len);

				in_si = false;
				if (out->n >= SST_MAX_COUNT)
					r = ERR_TOO_BIG;
				else
					r = s ? strs_push(out, s) : ERR_NOMEM;
				if (r != ERR_OK)
					free(s);
			} else if (is_elem(rd, "rPh") && rph > 0) {
				rph--;
			} else if (is_elem(rd, "t")) {
				in_t = false;
			}
		} else if ((type == XML_READER_TYPE_TEXT ||
		               type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
		               type == XML_READER_TYPE_CDATA) &&
		           in_si && in_t && rph == 0) {
			const xmlChar *v = xmlTextReaderConstValue(rd);

			if (v != NULL)
				r = cell_put(&cur, (const char *)v);
		}
	}
	if (r == ERR_OK && ret != 0)
		r = ERR_CORRUPT;
	xmlFreeTextReader(rd);
	bytes_release(&cur);
	return r;
}

/* Column index of a cell reference like "BC12" (0-based), or -1. */
static int
col_of(const char *ref)
{
	int c = 0, n = 0;

	if (ref == NULL)
		return -1;
	while (*ref >= 'A' && *ref <= 'Z' && n < 3) {
		c = c * 26 + (*ref - 'A' + 1);
		ref++;
		n++;
	}
	return n == 0 ? -1 : c - 1;
}

/* Trimmed NFKC with every space removed: for header matching. */
static char *
squeeze(const char *s)
{
	char *k = name_fold(s), *o;
	size_t j = 0;

	if (k == NULL)
		return NULL;
	o = k;
	for (size_t i = 0; k[i]; i++)
		if (k[i] != ' ' && k[i] != '\t' && k[i] != '\n' && k[i] != '\r')
			o[j++] = k[i];
	o[j] = 0;
	return o;
}

/* Trimmed NFKC (numbers) or NFC (titles) of a cell. */
static char *
trimmed(const char *s, bool nfkc)
{
	char *k = nfkc ? name_nfkc(s) : name_nfc(s);
	size_t b = 0, e;

	if (k == NULL)
		return NULL;
	e = strlen(k);
	while (k[b] == ' ' || k[b] == '\t' || k[b] == '\n' || k[b] == '\r' ||
	       strncmp(k + b, "\xe3\x80\x80", 3) == 0)
		b += k[b] == ' ' || k[b] == '\t' || k[b] == '\n' || k[b] == '\r'
		         ? 1
		         : 3;
	while (e > b && (k[e - 1] == ' ' || k[e - 1] == '\t' ||
	                    k[e - 1] == '\n' || k[e - 1] == '\r'))
		e--;
	while (e >= b + 3 && strncmp(k + e - 3, "\xe3\x80\x80", 3) == 0)
		e -= 3;
	memmove(k, k + b, e - b);
	k[e - b] = 0;
	return k;
}

struct sheet_state {
	struct inventory *inv;
	const struct strs *sst;
	char *cell[MAX_COLS];
	int col_num, col_title, col_media;
	bool header;
};

static bool
head_is(const char *sq, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(sq, *names) == 0)
			return true;
	return false;
}

static enum err
end_row(struct sheet_state *st, long rownum)
{
	static const char *const num_names[] = {"番号", "資料番号", "no.", "no",
	    "no.", NULL};
	static const char *const title_names[] = {"資料名称", "名称", "資料名",
	    NULL};
	static const char *const media_names[] = {"媒体", NULL};
	enum err r = ERR_OK;

	if (!st->header) {
		int cn = -1, ct = -1, cm = -1;

		if (rownum > HEADER_ROWS)
			goto clear;
		for (int i = 0; i < MAX_COLS; i++) {
			char *sq;

			if (st->cell[i] == NULL)
				continue;
			if ((sq = squeeze(st->cell[i])) == NULL)
				continue;
			if (cn < 0 && head_is(sq, num_names))
				cn = i;
			else if (ct < 0 && head_is(sq, title_names))
				ct = i;
			else if (cm < 0 && head_is(sq, media_names))
				cm = i;
			free(sq);
		}
		if (cn >= 0 && ct >= 0) {
			st->header = true;
			st->col_num = cn;
			st->col_title = ct;
			st->col_media = cm;
		}
		goto clear;
	}
	if (st->cell[st->col_num] != NULL) {
		struct inventory *inv = st->inv;
		char *num = trimmed(st->cell[st->col_num], true);
		struct inv_row *row;

		if (num == NULL || num[0] == 0) {
			free(num);
			goto clear;
		}
		if (inv->n == inv->cap) {
			size_t nc = inv->cap ? inv->cap * 2 : 16;
			struct inv_row *nr;

			if (inv->n >= MAX_ITEMS ||
			    (nr = calloc(nc, sizeof(*nr))) == NULL) {
				free(num);
				r = inv->n >= MAX_ITEMS ? ERR_TOO_BIG
				                        : ERR_NOMEM;
				goto clear;
			}
			if (inv->n > 0)
				memcpy(nr, inv->rows, inv->n * sizeof(*nr));
			free(inv->rows);
			inv->rows = nr;
			inv->cap = nc;
		}
		row = &inv->rows[inv->n];
		row->number = num;
		row->title = trimmed(
		    st->cell[st->col_title] ? st->cell[st->col_title] : "",
		    false);
		row->paper = false;
		row->fnum = name_fold(num);
		if (st->col_media >= 0 && st->cell[st->col_media] != NULL) {
			char *m = name_nfkc(st->cell[st->col_media]);

			row->paper = m != NULL && strstr(m, "紙") != NULL;
			free(m);
		}
		if (row->title == NULL || row->fnum == NULL) {
			free(num);
			free(row->title);
			free(row->fnum);
			r = ERR_NOMEM;
			goto clear;
		}
		inv->n++;
	}
clear:
	for (int i = 0; i < MAX_COLS; i++) {
		free(st->cell[i]);
		st->cell[i] = NULL;
	}
	return r;
}

static enum err
parse_sheet(const struct bytes *x, const struct strs *sst,
    struct inventory *inv)
{
	enum err r = ERR_OK;
	xmlTextReaderPtr rd = reader_new(x);
	struct sheet_state st;
	struct bytes v, is;
	char *ctype = NULL;
	int col = -1, ret;
	long rownum = 0, nrows = 0;
	bool in_v = false, in_is = false, in_t = false, in_c = false;

	memset(&st, 0, sizeof(st));
	st.inv = inv;
	st.sst = sst;
	st.col_media = -1;
	bytes_init(&v, CELL_MAX + 1);
	bytes_init(&is, CELL_MAX + 1);
	if (rd == NULL)
		return ERR_CORRUPT;
	while (r == ERR_OK && (ret = reader_next(rd)) == 1) {
		int type = xmlTextReaderNodeType(rd);

		if (type == XML_READER_TYPE_ELEMENT) {
			bool empty = xmlTextReaderIsEmptyElement(rd) == 1;

			if (is_elem(rd, "row")) {
				char *rr = attr(rd, "r");
				long n = rr ? strtol(rr, NULL, 10) : 0;

				free(rr);
				rownum = n > rownum ? n : rownum + 1;
				col = -1;
				if (++nrows > MAX_ROWS)
					r = ERR_TOO_BIG;
				if (empty)
					r = r ? r : end_row(&st, rownum);
			} else if (is_elem(rd, "c")) {
				char *ref = attr(rd, "r");
				int cc = col_of(ref);

				free(ref);
				col = cc >= 0 ? cc : col + 1;
				free(ctype);
				ctype = attr(rd, "t");
				bytes_clear(&v);
				bytes_clear(&is);
				in_c = !empty;
			} else if (is_elem(rd, "v") && !empty) {
				in_v = true;
			} else if (is_elem(rd, "is") && !empty) {
				in_is = true;
			} else if (is_elem(rd, "t") && !empty) {
				in_t = true;
			} else if (is_elem(rd, "rPh") && !empty) {
				in_is = false; /* phonetic runs are not text */
			}
		} else if (type == XML_READER_TYPE_END_ELEMENT) {
			if (is_elem(rd, "row")) {
				r = end_row(&st, rownum);
			} else if (is_elem(rd, "c") && in_c) {
				const char *text = NULL;

				in_c = false;
				if (ctype != NULL && strcmp(ctype, "s") == 0) {
					long k =
					    v.p ? strtol((char *)v.p, NULL, 10)
					        : -1;

					if (k >= 0 && (size_t)k < sst->n)
						text = sst->v[k];
				} else if (ctype != NULL &&
				           strcmp(ctype, "inlineStr") == 0) {
					text = is.p ? (char *)is.p : "";
				} else {
					text = v.p ? (char *)v.p : NULL;
				}
				if (text != NULL && col >= 0 &&
				    col < MAX_COLS) {
					free(st.cell[col]);
					if ((st.cell[col] = strdup(text)) ==
					    NULL)
						r = ERR_NOMEM;
				}
			} else if (is_elem(rd, "v")) {
				in_v = false;
			} else if (is_elem(rd, "is")) {
				in_is = false;
			} else if (is_elem(rd, "t")) {
				in_t = false;
			}
		} else if (type == XML_READER_TYPE_TEXT ||
		           type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
		           type == XML_READER_TYPE_CDATA) {
			const char *t =
			    (const char *)xmlTextReaderConstValue(rd);

			if (t == NULL || !in_c)
				continue;
			if (in_v)
				r = cell_put(&v, t);
			else if (in_is && in_t)
				r = cell_put(&is, t);
		}
	}
	if (r == ERR_OK && ret != 0)
		r = ERR_CORRUPT;
	if (r == ERR_OK && !st.header)
		r = ERR_CORRUPT;
	for (int i = 0; i < MAX_COLS; i++)
		free(st.cell[i]);
	free(ctype);
	bytes_release(&v);
	bytes_release(&is);
	xmlFreeTextReader(rd);
	return r;
}

void
inventory_release(struct inventory *inv)
{
	if (inv == NULL)
		return;
	for (size_t i = 0; i < inv->n; i++) {
		free(inv->rows[i].number);
		free(inv->rows[i].title);
		free(inv->rows[i].fnum);
	}
	free(inv->rows);
	memset(inv, 0, sizeof(*inv));
}

enum err
inventory_parse(struct span xlsx, struct inventory *inv)
{
	enum err r;
	struct bytes wb, rels, sst, sheet;
	struct strs strings = {0};
	char *rid = NULL, *path = NULL;

	memset(inv, 0, sizeof(*inv));
	bytes_init(&wb, 0);
	bytes_init(&rels, 0);
	bytes_init(&sst, 0);
	bytes_init(&sheet, 0);
	if ((r = ooxml_read_part(xlsx, "xl/workbook.xml", false, PART_MAX,
	         &wb)) != ERR_OK)
		goto out;
	if ((r = ooxml_read_part(xlsx, "xl/_rels/workbook.xml.rels", false,
	         PART_MAX, &rels)) != ERR_OK ||
	    (r = first_sheet_rid(&wb, &rid)) != ERR_OK ||
	    (r = rel_target(&rels, rid, &path)) != ERR_OK) {
		/* no relationships: the conventional first sheet */
		free(path);
		if ((path = strdup("xl/worksheets/sheet1.xml")) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
	}
	bytes_release(&wb);
	bytes_release(&rels);
	r = ooxml_read_part(xlsx, "xl/sharedStrings.xml", false, PART_MAX,
	    &sst);
	if (r == ERR_OK)
		r = parse_sst(&sst, &strings);
	else if (r == ERR_NOT_FOUND)
		r = ERR_OK;
	bytes_release(&sst);
	if (r != ERR_OK)
		goto out;
	if ((r = ooxml_read_part(xlsx, path, false, PART_MAX, &sheet)) !=
	    ERR_OK)
		goto out;
	r = parse_sheet(&sheet, &strings, inv);
out:
	bytes_release(&wb);
	bytes_release(&rels);
	bytes_release(&sst);
	bytes_release(&sheet);
	strs_release(&strings);
	free(rid);
	free(path);
	if (r != ERR_OK) {
		inventory_release(inv);
		return r == ERR_NOMEM ? r : ERR_CORRUPT;
	}
	return ERR_OK;
}

enum err
intake_inventory_dump(struct span xlsx, struct bytes *out)
{
	struct inventory inv;
	enum err r;

	if ((r = inventory_parse(xlsx, &inv)) != ERR_OK)
		return r;
	for (size_t i = 0; r == ERR_OK && i < inv.n; i++)
		r = bytes_printf(out, "%s\t%s\t%s\n", inv.rows[i].number,
		    inv.rows[i].title, inv.rows[i].paper ? "紙" : "");
	inventory_release(&inv);
	return r;
}
