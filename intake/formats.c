/*
 * intake/formats.c - what a document really is (R2): libmagic names the
 * content, then deep checks decide: an OOXML package must hold
 * [Content_Types].xml and its main part and no macros; a PDF must parse
 * with qpdf (no recovery) and not be encrypted; legacy binary Office,
 * executables and archives are not allowed whatever their extension.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <qpdf/qpdf-c.h>

#include "intake/check_int.h"
#include "common/banned.h"

#define MAGIC_BYTES (256u << 10) /* libmagic sees at most this much */
#define CT_MAX      (1u << 20)   /* [Content_Types].xml */

void
format_cleanup(void **magic)
{
	if (*magic != NULL) {
		magic_close((magic_t)*magic);
		*magic = NULL;
	}
}

static magic_t
magic_new(void)
{
	/* No decompression: libmagic must not inflate our input. */
	magic_t m =
	    magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);

	if (m != NULL && magic_load(m, NULL) != 0) {
		magic_close(m);
		m = NULL;
	}
	return m;
}

struct intake_libs {
	magic_t magic;
	iconv_t cp932; /* kept open: glibc then keeps its module loaded */
};

enum err
intake_libs_load(struct intake_libs **out)
{
	struct intake_libs *l;
	static const uint8_t probe[] = "%PDF-1.4\n";

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ERR_NOMEM;
	l->cp932 = (iconv_t)-1;
	if ((l->magic = magic_new()) == NULL) {
		free(l);
		return ERR_IO;
	}
	/* One lookup: whatever libmagic loads lazily is loaded now. */
	(void)magic_buffer(l->magic, probe, sizeof(probe) - 1);
	/* names.c decodes CP932 names: the gconv module, loaded now. */
	l->cp932 = iconv_open("UTF-8", "CP932");
	xmlInitParser();
	tzset(); /* libarchive converts DOS times with mktime() */
	*out = l;
	return ERR_OK;
}

void
intake_libs_free(struct intake_libs *l)
{
	if (l == NULL)
		return;
	magic_close(l->magic);
	if (l->cp932 != (iconv_t)-1)
		iconv_close(l->cp932);
	free(l);
}

void *
format_libs_magic(struct intake_libs *l)
{
	return l != NULL ? (void *)l->magic : NULL;
}

/* libmagic's MIME type of the head; loaded on first use per check. */
static const char *
magic_mime(void **magic, struct span head)
{
	magic_t m = *magic;

	if (m == NULL) {
		if ((m = magic_new()) == NULL)
			return NULL;
		*magic = m;
	}
	return magic_buffer(m, head.p,
	    head.len < MAGIC_BYTES ? head.len : MAGIC_BYTES);
}

/* Short, static names for what libmagic found (never its raw text). */
static const char *
short_name(const char *mime)
{
	static const struct {
		const char *mime, *name;
	} map[] = {
	    {"application/x-dosexec", "exe"},
	    {"application/x-msdownload", "exe"},
	    {"application/x-executable", "elf"},
	    {"application/x-pie-executable", "elf"},
	    {"application/x-sharedlib", "elf"},
	    {"application/x-mach-binary", "macho"},
	    {"application/x-7z-compressed", "7z"},
	    {"application/x-rar", "rar"},
	    {"application/vnd.rar", "rar"},
	    {"application/gzip", "gzip"},
	    {"application/x-gzip", "gzip"},
	    {"application/x-bzip2", "bzip2"},
	    {"application/x-xz", "xz"},
	    {"application/zstd", "zstd"},
	    {"application/x-tar", "tar"},
	    {"application/x-lzh-compressed", "lzh"},
	    {"application/vnd.ms-cab-compressed", "cab"},
	    {"application/x-iso9660-image", "iso"},
	    {"application/msword", "doc"},
	    {"application/vnd.ms-excel", "xls"},
	    {"application/vnd.ms-powerpoint", "ppt"},
	    {"application/x-shellscript", "script"},
	    {"text/x-shellscript", "script"},
	    {"text/html", "html"},
	    {"application/javascript", "script"},
	    {"text/javascript", "script"},
	    {"image/jpeg", "jpeg"},
	    {"image/png", "png"},
	    {"image/gif", "gif"},
	    {"text/plain", "text"},
	    {"application/x-empty", "empty"},
	};

	if (mime == NULL)
		return "unknown";
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(mime, map[i].mime) == 0)
			return map[i].name;
	if (strncmp(mime, "text/", 5) == 0)
		return "text";
	if (strncmp(mime, "image/", 6) == 0)
		return "image";
	return "unknown";
}

static const uint8_t *
find(struct span s, const void *needle, size_t n)
{
	return s.len >= n ? memmem(s.p, s.len, needle, n) : NULL;
}

/* ---- PDF ---- */

enum pdf_verdict {
	PDF_OK = 0,
	PDF_ENCRYPTED,
	PDF_DAMAGED,
	PDF_NO_PAGES,
	PDF_TOO_COMPLEX, /* the parser ran out of its memory or CPU budget */
};

/* qpdf without recovery: a PDF whose xref or trailer is broken is refused. */
static enum pdf_verdict
pdf_verdict(struct span pdf)
{
	qpdf_data q;
	QPDF_ERROR_CODE rc;
	enum pdf_verdict v = PDF_OK;

	q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	qpdf_set_attempt_recovery(q, QPDF_FALSE);
	/* From memory: qpdf wraps the buffer without copying it. */
	rc = qpdf_read_memory(q, "document", (const char *)pdf.p,
	    (unsigned long long)pdf.len, NULL);
	if ((rc & QPDF_ERRORS) != 0) {
		qpdf_error e = qpdf_get_error(q);

		v = e != NULL && qpdf_get_error_code(q, e) == qpdf_e_password
		        ? PDF_ENCRYPTED
		        : PDF_DAMAGED;
	} else if (qpdf_is_encrypted(q)) {
		v = PDF_ENCRYPTED;
	} else if (qpdf_get_num_pages(q) < 1) {
		v = PDF_NO_PAGES;
	}
	while (qpdf_has_error(q))
		(void)qpdf_get_error(q);
	qpdf_cleanup(&q);
	return v;
}

#if defined(__SANITIZE_ADDRESS__)
#define PDF_ISOLATE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PDF_ISOLATE 0
#endif
#endif
#ifndef PDF_ISOLATE
#define PDF_ISOLATE 1
#endif

#define PDF_RSS_BUDGET (60u << 20) /* the whole check stays under 64 MiB */
#define PDF_MIN_GROWTH (16u << 20)
#define PDF_CPU_SECS   10

/*
 * qpdf inflates object and xref streams in memory as it needs them: a
 * 16 MiB PDF can ask for gigabytes. It runs in a child whose address space
 * may grow only by what keeps the whole check within its memory budget,
 * with a CPU limit; a child that dies or runs out says "too complex".
 * Returns -1 when no child could be made (the caller parses inline).
 */
static int
pdf_isolated(struct span pdf, size_t spilled)
{
	unsigned long long vm = 0, rss = 0, growth;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f;
	int fds[2], st;
	pid_t pid;
	uint8_t v = PDF_TOO_COMPLEX;
	ssize_t n;

	if (!PDF_ISOLATE || page <= 0)
		return -1;
	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return -1;
	if (fscanf(f, "%llu %llu", &vm, &rss) != 2) {
		fclose(f);
		return -1;
	}
	fclose(f);
	vm *= (unsigned long long)page;
	rss *= (unsigned long long)page;
	/* The spilled copy of the PDF was a memfd's, outside the budget. */
	rss = rss > spilled ? rss - spilled : 0;
	growth = rss + PDF_MIN_GROWTH < PDF_RSS_BUDGET ? PDF_RSS_BUDGET - rss
	                                               : PDF_MIN_GROWTH;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		struct rlimit as = {(rlim_t)(vm + growth),
		    (rlim_t)(vm + growth)};
		struct rlimit cpu = {PDF_CPU_SECS, PDF_CPU_SECS};
		struct rlimit none = {0, 0};

		close(fds[0]);
		/* NPROC 0: the helper itself never forks (non-root users). */
		if (setrlimit(RLIMIT_AS, &as) != 0 ||
		    setrlimit(RLIMIT_CPU, &cpu) != 0 ||
		    setrlimit(RLIMIT_NPROC, &none) != 0)
			_exit(1);
		v = (uint8_t)pdf_verdict(pdf);
		if (write(fds[1], &v, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	do
		n = read(fds[0], &v, 1);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n != 1)
		v = PDF_TOO_COMPLEX;
	/* ECHILD is fine: a SIGCHLD handler may have reaped it first. */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return v;
}

static void
check_pdf(struct span head, struct span tail, bool complete, struct span whole,
    struct fmt_result *res)
{
	int v;
	size_t spilled;

	res->format = "pdf";
	(void)tail;
	if (!complete && whole.len == 0) {
		/*
		 * Not all of it at hand: a search of the last MiB for
		 * "/Encrypt" misses /Encr#79pt or an earlier trailer (review
		 * #4), so such a PDF is refused rather than guessed about.
		 */
		res->unopenable = true;
		res->why = "PDF too large to check whole";
		return;
	}
	spilled = complete ? 0 : whole.len;
	if (complete)
		whole = head;
	if ((v = pdf_isolated(whole, spilled)) < 0)
		v = (int)pdf_verdict(whole);
	switch (v) {
	case PDF_OK:
		break;
	case PDF_ENCRYPTED:
		res->encrypted = true;
		break;
	case PDF_NO_PAGES:
		res->unopenable = true;
		res->why = "PDF has no readable pages";
		break;
	case PDF_TOO_COMPLEX:
		res->unopenable = true;
		res->why = "PDF too complex to open within the limits";
		break;
	default:
		res->unopenable = true;
		res->why = "PDF structure (header, xref, trailer) is damaged";
		break;
	}
}

/* ---- OOXML ---- */

static void
quiet(void *arg, xmlErrorPtr e)
{
	(void)arg;
	(void)e;
}

/* Reads [Content_Types].xml: main part kind and name, macro types. */
static void
content_types(const struct bytes *ct, struct fmt_result *res, char *main,
    size_t mainsz)
{
	xmlTextReaderPtr rd;
	int len, ret;

	main[0] = 0;
	if (size_to_int(ct->len, &len) != ERR_OK ||
	    (rd = xmlReaderForMemory((const char *)ct->p, len, NULL, NULL,
	         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) ==
	        NULL) {
		res->unopenable = true;
		res->why = "[Content_Types].xml unreadable";
		return;
	}
	xmlTextReaderSetStructuredErrorHandler(rd, quiet, NULL);
	while ((ret = xmlTextReaderRead(rd)) == 1) {
		xmlChar *t, *pn;
		const char *kind = NULL;

		if (xmlTextReaderNodeType(rd) ==
		    XML_READER_TYPE_DOCUMENT_TYPE) {
			ret = -1;
			break;
		}
		if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT)
			continue;
		t = xmlTextReaderGetAttribute(rd,
		    (const xmlChar *)"ContentType");
		if (t == NULL)
			continue;
		if (strcasestr((const char *)t, "macroEnabled") != NULL ||
		    strcasestr((const char *)t, "vbaProject") != NULL)
			res->macro = true;
		if (strstr((const char *)t,
		        "wordprocessingml.document.main+xml") != NULL ||
		    strstr((const char *)t,
		        "ms-word.document.macroEnabled.main+xml") != NULL)
			kind = "docx";
		else if (strstr((const char *)t,
		             "spreadsheetml.sheet.main+xml") != NULL ||
		         strstr((const char *)t,
		             "ms-excel.sheet.macroEnabled.main+xml") != NULL)
			kind = "xlsx";
		else if (strstr((const char *)t, ".main+xml") != NULL &&
		         res->format == NULL)
			kind = "ooxml";
		if (kind != NULL &&
		    (pn = xmlTextReaderGetAttribute(rd,
		         (const xmlChar *)"PartName")) != NULL) {
			if (res->format == NULL ||
			    strcmp(res->format, "ooxml") == 0) {
				res->format = kind;
				snprintf(main, mainsz, "%s",
				    (const char *)pn + (pn[0] == '/'));
			}
			xmlFree(pn);
		}
		xmlFree(t);
	}
	if (ret != 0) {
		res->unopenable = true;
		res->why = "[Content_Types].xml is not well-formed";
	}
	xmlFreeTextReader(rd);
}

static void
check_ooxml(struct span head, struct span tail, uint64_t size, bool complete,
    struct fmt_result *res)
{
	struct zsrc s = {.fd = -1,
	    .mem = head.p,
	    .mem_len = head.len,
	    .tail = tail.p,
	    .tail_off = size - tail.len,
	    .size = size};
	struct zdir d;
	struct bytes ct;
	bool has_ct = false, has_main = false;
	char main[256];

	res->format = NULL;
	if (zdir_parse(&s, complete, &d) != ERR_OK || d.unreadable ||
	    d.too_many) {
		res->format = "zip";
		res->unopenable = true;
		res->why = "damaged ZIP package";
		zdir_release(&d);
		return;
	}
	if (d.inconsistent || d.overlap) {
		res->format = "zip";
		res->unopenable = true;
		res->why = "inconsistent ZIP package";
		zdir_release(&d);
		return;
	}
	for (size_t i = 0; i < d.n; i++) {
		const char *n = (const char *)d.e[i].name;
		size_t l = d.e[i].name_len;

		if (strcmp(n, "[Content_Types].xml") == 0)
			has_ct = true;
		if (l >= 14 && strcasecmp(n + l - 14, "vbaProject.bin") == 0)
			res->macro = true;
		if (d.e[i].encrypted)
			res->encrypted = true;
	}
	if (!has_ct) {
		/* A ZIP that is not an Office document: a nested archive. */
		res->format = "zip";
		res->not_allowed = true;
		zdir_release(&d);
		return;
	}
	/* The content types part: whole package, or from the head alone. */
	if (ooxml_read_part(head, "[Content_Types].xml", !complete, CT_MAX,
	        &ct) != ERR_OK) {
		res->format = "ooxml";
		res->unopenable = true;
		res->why = "[Content_Types].xml unreadable";
		zdir_release(&d);
		return;
	}
	content_types(&ct, res, main, sizeof(main));
	bytes_release(&ct);
	if (res->format == NULL) {
		res->format = "ooxml";
		res->not_allowed = !res->unopenable && !res->macro;
	} else if (strcmp(res->format, "ooxml") == 0) {
		res->not_allowed = !res->macro;
	}
	for (size_t i = 0; i < d.n && main[0]; i++)
		if (strcmp((const char *)d.e[i].name, main) == 0)
			has_main = true;
	if (!has_main && !res->unopenable && !res->not_allowed) {
		res->unopenable = true;
		res->why = "main part missing";
	}
	zdir_release(&d);
}

void
format_check(void **magic, struct span head, struct span tail, uint64_t size,
    bool complete, struct span whole, struct fmt_result *res)
{
	static const uint8_t cfb[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a,
	    0xe1};
	static const uint8_t encpkg[] = {'E', 0, 'n', 0, 'c', 0, 'r', 0, 'y', 0,
	    'p', 0, 't', 0, 'e', 0, 'd', 0, 'P', 0, 'a', 0, 'c', 0, 'k', 0, 'a',
	    0, 'g', 0, 'e', 0};
	struct span first = span_of(head.p, head.len < 1024 ? head.len : 1024);

	memset(res, 0, sizeof(*res));
	if (head.len >= 5 && find(first, "%PDF-", 5) != NULL) {
		check_pdf(head, tail, complete, whole, res);
		return;
	}
	if (head.len >= 4 && memcmp(head.p, "PK\x03\x04", 4) == 0) {
		check_ooxml(head, tail, size, complete, res);
		return;
	}
	if (head.len >= 8 && memcmp(head.p, cfb, 8) == 0) {
		/* Encrypted OOXML is a CFB file holding "EncryptedPackage". */
		if (find(head, encpkg, sizeof(encpkg)) != NULL ||
		    find(tail, encpkg, sizeof(encpkg)) != NULL) {
			res->format = "encrypted-office";
			res->encrypted = true;
			return;
		}
		res->format = short_name(magic_mime(magic, head));
		if (strcmp(res->format, "unknown") == 0)
			res->format = "cfb";
		res->not_allowed = true;
		return;
	}
	res->format =
	    head.len == 0 ? "empty" : short_name(magic_mime(magic, head));
	res->not_allowed = true;
}
