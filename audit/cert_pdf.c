/*
 * audit/cert_pdf.c - the deletion certificate as a printable PDF for the
 * applicant: Japanese first, then English, then the signed text itself
 * (which stays the certificate; the PDF is a rendering of it).
 *
 * The text uses the PDF standard Japanese font HeiseiKakuGo-W5 through
 * the predefined CMap UniJIS-UTF16-H (Adobe-Japan1), which PDF readers
 * supply themselves: nothing is embedded, so no font file is needed to
 * make it and the output stays a few kilobytes. Strings are UTF-16BE
 * hex; ASCII takes half an em, everything else a full em.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "common/utf8.h"
#include "common/banned.h"

#define PAGE_W    595 /* A4, points */
#define PAGE_H    842
#define MARGIN    48
#define MAX_PAGES 200
#define FONT      "HeiseiKakuGo-W5"

struct pdf {
	struct bytes pages[MAX_PAGES]; /* content streams */
	size_t npages;
	double y; /* baseline of the next line on the current page */
	enum err r;
};

static void
pdf_newpage(struct pdf *p)
{
	if (p->r != ERR_OK)
		return;
	if (p->npages >= MAX_PAGES) {
		p->r = ERR_TOO_BIG;
		return;
	}
	bytes_init(&p->pages[p->npages++], AUDIT_CERT_MAX_FILE);
	p->y = PAGE_H - MARGIN;
}

/* Width of one code point in em/1000 (ASCII half, the rest full). */
static unsigned
cp_width(uint32_t cp)
{
	return cp < 0x80 ? 500 : 1000;
}

/* Writes one line of at most maxw points; returns bytes consumed. */
static size_t
pdf_line(struct pdf *p, const char *s, size_t len, double size, double x)
{
	struct bytes *b;
	double maxw = PAGE_W - MARGIN - x, w = 0;
	size_t i = 0, n;
	uint32_t cp;

	if (p->r != ERR_OK)
		return len;
	if (p->npages == 0 || p->y < MARGIN + size)
		pdf_newpage(p);
	if (p->r != ERR_OK)
		return len;
	b = &p->pages[p->npages - 1];
	p->r = bytes_printf(b, "BT /F1 %.1f Tf %.1f %.1f Td <", size, x, p->y);
	while (i < len && p->r == ERR_OK) {
		n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
		if (n == 0) { /* not UTF-8: shown as U+FFFD, one byte */
			n = 1;
			cp = 0xFFFD;
		}
		if (cp == '\n')
			break;
		if (w + cp_width(cp) * size / 1000 > maxw)
			break;
		w += cp_width(cp) * size / 1000;
		if (cp < 0x20)
			cp = 0x20;
		if (cp > 0xFFFF) {
			uint32_t v = cp - 0x10000;
			p->r = bytes_printf(b, "%04X%04X",
			    (unsigned)(0xD800 + (v >> 10)),
			    (unsigned)(0xDC00 + (v & 0x3FF)));
		} else {
			p->r = bytes_printf(b, "%04X", (unsigned)cp);
		}
		i += n;
	}
	if (p->r == ERR_OK)
		p->r = bytes_put_str(b, "> Tj ET\n");
	p->y -= size * 1.45;
	return i == 0 && len > 0 ? 1 : i;
}

/* Writes s, wrapping at the page width; '\n' starts a new line. */
static void
pdf_text(struct pdf *p, const char *s, double size, double x)
{
	size_t len = s != NULL ? strlen(s) : 0, off = 0, n;

	if (len == 0) {
		(void)pdf_line(p, "", 0, size, x);
		return;
	}
	while (off < len && p->r == ERR_OK) {
		n = pdf_line(p, s + off, len - off, size, x);
		off += n;
		if (off < len && s[off] == '\n')
			off++;
	}
}

static void
pdf_gap(struct pdf *p, double pts)
{
	p->y -= pts;
}

static void
pdf_field(struct pdf *p, const char *ja, const char *en, const char *v)
{
	char label[160];

	(void)snprintf(label, sizeof(label), "%s / %s", ja, en);
	pdf_text(p, label, 8, MARGIN);
	pdf_text(p, v != NULL ? v : "-", 10, MARGIN + 14);
}

static void
pdf_docs(struct pdf *p, const struct audit_cert_doc *d, size_t n, bool retained)
{
	char line[2 * AUDIT_CERT_VALUE_MAX], hx[2 * CRY_HASH_LEN + 1];

	for (size_t i = 0; i < n && p->r == ERR_OK; i++) {
		hex_encode(d[i].sha256, CRY_HASH_LEN, hx);
		(void)snprintf(line, sizeof(line), "%s  %s  (%llu bytes)",
		    d[i].number, d[i].name, (unsigned long long)d[i].size);
		pdf_text(p, line, 10, MARGIN + 14);
		(void)snprintf(line, sizeof(line), "SHA-256 %s%s%s%s%s", hx,
		    retained ? "  理由/reason " : "",
		    retained ? d[i].reason : "", retained ? ", " : "",
		    retained ? d[i].until : "");
		pdf_text(p, line, 7, MARGIN + 28);
	}
	if (n == 0)
		pdf_text(p, "なし / none", 10, MARGIN + 14);
}

static enum err
pdf_assemble(struct pdf *p, struct bytes *out)
{
	size_t nobj = 4 + 2 * p->npages, off[4 + 2 * MAX_PAGES + 1];
	size_t xref, base = out->len;
	enum err r;

	r = bytes_put_str(out, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
#define OBJ(i)                                                                 \
	(off[i] = out->len - base,                                             \
	    bytes_printf(out, "%zu 0 obj\n", (size_t)(i)))
	if (r == ERR_OK)
		r = OBJ(1);
	if (r == ERR_OK)
		r = bytes_put_str(out,
		    "<< /Type /Catalog /Pages 2 0 R /Lang (ja) >>\nendobj\n");
	if (r == ERR_OK)
		r = OBJ(2);
	if (r == ERR_OK)
		r = bytes_put_str(out, "<< /Type /Pages /Kids [");
	for (size_t i = 0; i < p->npages && r == ERR_OK; i++)
		r = bytes_printf(out, " %zu 0 R", 5 + 2 * i);
	if (r == ERR_OK)
		r = bytes_printf(out, " ] /Count %zu >>\nendobj\n", p->npages);
	if (r == ERR_OK)
		r = OBJ(3);
	if (r == ERR_OK)
		r = bytes_put_str(out,
		    "<< /Type /Font /Subtype /Type0 /BaseFont /" FONT
		    " /Encoding /UniJIS-UTF16-H /DescendantFonts [4 0 R] >>\n"
		    "endobj\n");
	if (r == ERR_OK)
		r = OBJ(4);
	if (r == ERR_OK)
		r = bytes_put_str(out,
		    "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /" FONT
		    " /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1)"
		    " /Supplement 2 >> /DW 1000 /W [1 95 500 231 632 500]"
		    " /FontDescriptor << /Type /FontDescriptor /FontName /" FONT
		    " /Flags 4 /FontBBox [-92 -250 1010 922] /ItalicAngle 0"
		    " /Ascent 752 /Descent -221 /CapHeight 737 /StemV 114 >>"
		    " >>\nendobj\n");
	for (size_t i = 0; i < p->npages && r == ERR_OK; i++) {
		r = OBJ(5 + 2 * i);
		if (r == ERR_OK)
			r = bytes_printf(out,
			    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]"
			    " /Resources << /Font << /F1 3 0 R >> >>"
			    " /Contents %zu 0 R >>\nendobj\n",
			    PAGE_W, PAGE_H, 6 + 2 * i);
		if (r == ERR_OK)
			r = OBJ(6 + 2 * i);
		if (r == ERR_OK)
			r = bytes_printf(out, "<< /Length %zu >>\nstream\n",
			    p->pages[i].len);
		if (r == ERR_OK)
			r = bytes_put(out, p->pages[i].p, p->pages[i].len);
		if (r == ERR_OK)
			r = bytes_put_str(out, "\nendstream\nendobj\n");
	}
#undef OBJ
	xref = out->len - base;
	if (r == ERR_OK)
		r = bytes_printf(out, "xref\n0 %zu\n0000000000 65535 f \n",
		    nobj + 1);
	for (size_t i = 1; i <= nobj && r == ERR_OK; i++)
		r = bytes_printf(out, "%010zu 00000 n \n", off[i]);
	if (r == ERR_OK)
		r = bytes_printf(out,
		    "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n"
		    "%%%%EOF\n",
		    nobj + 1, xref);
	return r;
}

enum err
audit_cert_render_pdf(const struct audit_cert *c, struct span file,
    struct bytes *out)
{
	struct pdf p;
	uint8_t h[CRY_HASH_LEN];
	char hx[2 * CRY_HASH_LEN + 1], line[256];
	const char *const *f = (const char *const *)c->f;
	struct bytes text;
	const uint8_t *end;
	enum err r;

	memset(&p, 0, sizeof(p));
	cry_sha256(file.p, file.len, h);
	hex_encode(h, CRY_HASH_LEN, hx);
	pdf_text(&p, "削除証明書", 20, MARGIN);
	pdf_text(&p, "Certificate of deletion", 12, MARGIN);
	pdf_gap(&p, 6);
	pdf_text(&p,
	    "下記の電子データを当事務局のサーバーから暗号学的消去により削除した"
	    "こと"
	    "を証明します。保持するものは理由とともに記載しています。",
	    10, MARGIN);
	pdf_text(&p,
	    "We certify that the electronic materials below were deleted from "
	    "our server by cryptographic erasure. Anything retained is listed "
	    "with its reason.",
	    9, MARGIN);
	pdf_gap(&p, 6);
	pdf_field(&p, "証明書番号", "Certificate id", f[AUDIT_CERT_ID]);
	pdf_field(&p, "発行日時", "Issued at", f[AUDIT_CERT_ISSUED_AT]);
	pdf_field(&p, "発行者", "Issuer", f[AUDIT_CERT_ISSUER]);
	pdf_field(&p, "段階", "Stage",
	    strcmp(f[AUDIT_CERT_STAGE], "final") == 0
	        ? "final 最終: バックアップを含め復号できる鍵はありません / no "
	          "key that opens the case remains, backups included"
	        : "primary 一次: "
	          "稼働中の鍵は破棄済み。古い鍵保管庫のバックアップは"
	          "期限まで残ります / live keys destroyed; older keystore "
	          "backups remain until they expire");
	if (f[AUDIT_CERT_SUPERSEDES] != NULL)
		pdf_field(&p, "置き換える証明書", "Supersedes",
		    f[AUDIT_CERT_SUPERSEDES]);
	pdf_field(&p, "案件番号", "Case", f[AUDIT_CERT_CASE]);
	pdf_field(&p, "受付番号", "Receipt number", f[AUDIT_CERT_RECEIPT]);
	pdf_field(&p, "申請者", "Applicant", f[AUDIT_CERT_APPLICANT]);
	pdf_field(&p, "認定番号", "Certification number",
	    f[AUDIT_CERT_CERTIFICATION]);
	pdf_field(&p, "削除の理由", "Basis", f[AUDIT_CERT_BASIS]);
	pdf_field(&p, "方法", "Method", f[AUDIT_CERT_METHOD]);
	pdf_field(&p, "検証", "Verification", f[AUDIT_CERT_VERIFICATION]);
	pdf_field(&p, "実施者", "Operator", f[AUDIT_CERT_OPERATOR]);
	pdf_field(&p, "承認者", "Approver", f[AUDIT_CERT_APPROVER]);
	for (size_t i = 0; i < c->n_backups; i++)
		pdf_field(&p, "バックアップ", "Backups", c->backups[i]);
	pdf_gap(&p, 6);
	(void)snprintf(line, sizeof(line),
	    "削除した資料 / Deleted documents (%zu)", c->n_destroyed);
	pdf_text(&p, line, 12, MARGIN);
	pdf_docs(&p, c->destroyed, c->n_destroyed, false);
	pdf_gap(&p, 6);
	(void)snprintf(line, sizeof(line),
	    "保持する資料 / Retained documents (%zu)", c->n_retained);
	pdf_text(&p, line, 12, MARGIN);
	pdf_docs(&p, c->retained, c->n_retained, true);
	pdf_gap(&p, 6);
	pdf_text(&p, "検証方法 / How to verify", 12, MARGIN);
	pdf_text(&p,
	    "この証明書の正本は次の署名付きテキストです。kura cert verify "
	    "とログの公開鍵で、秘密鍵なしに検証できます。",
	    9, MARGIN);
	pdf_text(&p,
	    "The signed text below is the certificate: anyone can check the "
	    "certificate file with kura cert verify and the log's public key, "
	    "without any secret.",
	    9, MARGIN);
	(void)snprintf(line, sizeof(line), "SHA-256 (certificate file): %s",
	    hx);
	pdf_text(&p, line, 7, MARGIN);
	pdf_gap(&p, 4);
	/* the signed note (text and signature lines), not the evidence */
	bytes_init(&text, AUDIT_CERT_MAX_FILE);
	end = NULL;
	for (size_t i = 0; i + 2 < file.len; i++)
		if (file.p[i] == '\n' && file.p[i + 1] == '\n' &&
		    file.p[i + 2] != 0xe2) {
			end = file.p + i + 1;
			break;
		}
	r = bytes_put(&text, file.p,
	    end != NULL ? (size_t)(end - file.p) : file.len);
	if (r == ERR_OK)
		pdf_text(&p, (const char *)text.p, 6.5, MARGIN);
	bytes_release(&text);
	if (r == ERR_OK)
		r = p.r;
	if (r == ERR_OK)
		r = pdf_assemble(&p, out);
	for (size_t i = 0; i < p.npages; i++)
		bytes_release(&p.pages[i]);
	return r;
}
