/*
 * tests/unit/test_intake_check.c - the submission validator (issue 3):
 * names (CP932 with a 0x5C trail byte, NFD, 143 bytes, reserved names,
 * bidi overrides), container checks on ZIPs built here, numbering, roles
 * and type inference on the submissions in tests/data/intake/ (made by
 * tests/data/intake/make.py), the JSON report and the document sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crypto/crypto.h"
#include "intake/check_int.h"
#include "intake/intake.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

/* ---- a tiny ZIP writer: stored entries, raw names, our own flags ---- */

struct zw_entry {
	const char *name; /* raw bytes, NUL-terminated */
	const char *data;
	uint16_t flags;
	uint32_t ext_attr;
	uint16_t made_by;
	int lho_of; /* >= 0: reuse another entry's local header (overlap) */
};

static uint32_t
crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void
le16(struct bytes *b, uint32_t v)
{
	CHECK_OK(bytes_put_u8(b, (uint8_t)(v & 0xff)));
	CHECK_OK(bytes_put_u8(b, (uint8_t)((v >> 8) & 0xff)));
}

static void
le32(struct bytes *b, uint32_t v)
{
	le16(b, v & 0xffff);
	le16(b, v >> 16);
}

/* Builds a ZIP; prefix bytes of junk go in front (offsets adjusted). */
static void
zw_build(const struct zw_entry *e, size_t n, size_t prefix, struct bytes *out)
{
	uint32_t lho[32];
	size_t cd_off, cd_len, cd_start;

	bytes_init(out, 1u << 24);
	for (size_t i = 0; i < prefix; i++)
		CHECK_OK(bytes_put_u8(out, 'J'));
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name), dl = strlen(e[i].data);

		if (e[i].lho_of >= 0) {
			lho[i] = lho[e[i].lho_of];
			continue;
		}
		lho[i] = (uint32_t)(out->len - prefix);
		le32(out, 0x04034b50);
		le16(out, 20);
		le16(out, e[i].flags);
		le16(out, 0);
		le16(out, 0);
		le16(out, 0x5821);
		le32(out, crc32_of((const uint8_t *)e[i].data, dl));
		le32(out, (uint32_t)dl);
		le32(out, (uint32_t)dl);
		le16(out, (uint32_t)nl);
		le16(out, 0);
		CHECK_OK(bytes_put(out, e[i].name, nl));
		CHECK_OK(bytes_put(out, e[i].data, dl));
	}
	cd_start = out->len;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name), dl = strlen(e[i].data);
		size_t src = e[i].lho_of >= 0 ? (size_t)e[i].lho_of : i;

		nl = strlen(e[src].name);
		dl = strlen(e[src].data);
		le32(out, 0x02014b50);
		le16(out, e[i].made_by ? e[i].made_by : 20);
		le16(out, 20);
		le16(out, e[src].flags);
		le16(out, 0);
		le16(out, 0);
		le16(out, 0x5821);
		le32(out, crc32_of((const uint8_t *)e[src].data, dl));
		le32(out, (uint32_t)dl);
		le32(out, (uint32_t)dl);
		le16(out, (uint32_t)nl);
		le16(out, 0);
		le16(out, 0);
		le16(out, 0);
		le16(out, 0);
		le32(out, e[i].ext_attr);
		le32(out, lho[i]);
		CHECK_OK(bytes_put(out, e[src].name, nl));
	}
	cd_off = cd_start - prefix;
	cd_len = out->len - cd_start;
	le32(out, 0x06054b50);
	le16(out, 0);
	le16(out, 0);
	le16(out, (uint32_t)n);
	le16(out, (uint32_t)n);
	le32(out, (uint32_t)cd_len);
	le32(out, (uint32_t)cd_off);
	le16(out, 0);
}

#define E(name, data)                                                          \
	{                                                                      \
		name, data, 0, 0, 0, -1                                        \
	}

static struct intake_report *
check_entries(const struct zw_entry *e, size_t n, size_t prefix)
{
	struct bytes z;
	struct intake_report *rep = NULL;

	zw_build(e, n, prefix, &z);
	if (intake_check_memory(bytes_span(&z), NULL, &rep) != ERR_OK)
		rep = NULL;
	bytes_release(&z);
	return rep;
}

static bool
has(const struct intake_report *rep, const char *code)
{
	for (size_t i = 0; rep != NULL && i < rep->nproblems; i++)
		if (strcmp(rep->problems[i].code, code) == 0)
			return true;
	return false;
}

static struct intake_report *
check_data(const char *file, enum intake_type type)
{
	char path[512];
	const char *top = getenv("KURA_TOP");
	struct intake_check_opts o;
	struct intake_report *rep = NULL;

	snprintf(path, sizeof(path), "%s%stests/data/intake/%s", top ? top : "",
	    top ? "/" : "", file);
	intake_check_opts_default(&o);
	o.type = type;
	if (intake_check_file(path, &o, &rep) != ERR_OK)
		return NULL;
	return rep;
}

static const struct intake_doc *
doc_named(const struct intake_report *rep, const char *name)
{
	for (size_t i = 0; rep != NULL && i < rep->ndocs; i++)
		if (strcmp(rep->docs[i].name, name) == 0)
			return &rep->docs[i];
	return NULL;
}

/* ---- names (R3, R4) ---- */

static void
test_name_cp932_5c_trail(void)
{
	/* 表 is 95 5C in CP932: the 0x5C is not a backslash. R4 */
	static const uint8_t raw[] = {'0', '1', '_', 0x95, 0x5c, '.', 'p', 'd',
	    'f'};
	char *s = NULL;

	REQUIRE_OK(name_decode(raw, sizeof(raw), false, NULL, 0, &s));
	CHECK(strcmp(s, "01_表.pdf") == 0);
	CHECK(strchr(s, '\\') == NULL);
	free(s);
	/* The same bytes flagged UTF-8 are not valid UTF-8. */
	CHECK(name_decode(raw, sizeof(raw), true, NULL, 0, &s) == ERR_CORRUPT);
}

static void
test_name_nfd_to_nfc(void)
{
	/* macOS: が as か + U+3099. R4 */
	const char *nfd = "01_\xe3\x81\x8b\xe3\x82\x99.pdf";
	char *s = NULL;

	REQUIRE_OK(
	    name_decode((const uint8_t *)nfd, strlen(nfd), true, NULL, 0, &s));
	CHECK(strcmp(s, "01_が.pdf") == 0);
	free(s);
}

static void
test_name_reserved_and_bidi(void)
{
	char what[32];

	CHECK(name_bad_reason("CON", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("con.pdf", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("COM1.pdf", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("lpt9.docx", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("NUL.tar.gz", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("CONSOLE.pdf", what, sizeof(what)) == NULL);
	CHECK(name_bad_reason("01_a.pdf.", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("01_a.pdf ", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("01_a<b.pdf", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("01_a|b.pdf", what, sizeof(what)) != NULL);
	CHECK(name_bad_reason("01_tab\t.pdf", what, sizeof(what)) != NULL);
	/* RLO: "01_evil\u202Efdp.exe" shows as ...exe.pdf */
	CHECK(name_bad_reason("01_evil\xe2\x80\xae"
	                      "fdp.exe",
	          what, sizeof(what)) != NULL);
	CHECK(strcmp(what, "U+202E") == 0);
	CHECK(name_bad_reason("01_\xe2\x81\xa6x.pdf", what, sizeof(what)) !=
	      NULL); /* LRI */
	CHECK(name_bad_reason("01_申請書A.docx", what, sizeof(what)) == NULL);
}

static void
test_name_os_metadata(void)
{
	CHECK(name_is_os_metadata("__MACOSX/._01_a.pdf"));
	CHECK(name_is_os_metadata("__MACOSX/"));
	CHECK(name_is_os_metadata("w/._01_a.pdf"));
	CHECK(name_is_os_metadata(".DS_Store"));
	CHECK(name_is_os_metadata("w/Thumbs.db"));
	CHECK(name_is_os_metadata("desktop.ini"));
	CHECK(!name_is_os_metadata("01_a.pdf"));
	CHECK(!name_is_os_metadata("w/"));
}

static void
test_name_143_bytes(void)
{
	/* R3: 143 UTF-8 bytes of the NFC name pass, 144 do not. */
	char n143[160], n144[160];
	struct intake_report *rep;

	memset(n143, 'a', sizeof(n143));
	memcpy(n143, "01_", 3);
	memcpy(n143 + 139, ".pdf", 5);
	memcpy(n144, n143, 139);
	n144[139] = 'b';
	memcpy(n144 + 140, ".pdf", 5);
	CHECK(strlen(n143) == 143 && strlen(n144) == 144);
	{
		struct zw_entry e[] = {E(n143, "%PDF-1.4")};

		rep = check_entries(e, 1, 0);
		REQUIRE(rep != NULL);
		CHECK(!has(rep, "name.too_long"));
		intake_report_free(rep);
	}
	{
		struct zw_entry e[] = {E(n144, "%PDF-1.4")};

		rep = check_entries(e, 1, 0);
		REQUIRE(rep != NULL);
		CHECK(has(rep, "name.too_long"));
		CHECK(!rep->accept);
		intake_report_free(rep);
	}
	{
		/* 47 kanji = 141 bytes with "01" in front: 143, accepted */
		char jp[200] = "01";

		for (int i = 0; i < 47; i++)
			memcpy(jp + 2 + 3 * i, "資", 4);
		CHECK(strlen(jp) == 143);
		struct zw_entry e[] = {E(jp, "x")};

		rep = check_entries(e, 1, 0);
		REQUIRE(rep != NULL);
		CHECK(!has(rep, "name.too_long"));
		intake_report_free(rep);
	}
}

/* ---- container checks ---- */

static void
test_zip_cp932_entry(void)
{
	struct zw_entry e[] = {E("01_\x95\x5c"
	                         ".pdf",
	    "%PDF-1.4")};
	struct intake_report *rep = check_entries(e, 1, 0);

	REQUIRE(rep != NULL);
	REQUIRE(rep->ndocs == 1);
	CHECK(strcmp(rep->docs[0].name, "01_表.pdf") == 0);
	CHECK(strcmp(rep->docs[0].raw_name_hex, "30315f955c2e706466") == 0);
	CHECK(!has(rep, "zip.path_traversal"));
	CHECK(!has(rep, "name.encoding"));
	intake_report_free(rep);
}

static void
test_zip_traversal_and_links(void)
{
	struct zw_entry e[] = {
	    E("../01_a.pdf", "x"),
	    E("/etc/02_b.pdf", "x"),
	    {"03_c\\d.pdf", "x", 0x800, 0, 0, -1},
	    E("C:03_e.pdf", "x"),
	    {"04_link.pdf", "target", 0, 0120777u << 16, 0x0314, -1},
	};
	struct intake_report *rep = check_entries(e, 5, 0);

	REQUIRE(rep != NULL);
	CHECK(has(rep, "zip.path_traversal"));
	CHECK(has(rep, "zip.link"));
	CHECK(!rep->accept);
	intake_report_free(rep);
}

static void
test_zip_wrapper_and_metadata(void)
{
	struct zw_entry ok[] = {
	    E("提出/", ""),
	    E("提出/01_a.pdf", "x"),
	    E("提出/02_b.pdf", "x"),
	    E("__MACOSX/提出/._01_a.pdf", "x"),
	    E("提出/.DS_Store", "x"),
	};
	struct zw_entry deep[] = {
	    E("a/b/01_a.pdf", "x"),
	    E("02_b.pdf", "x"),
	};
	struct intake_report *rep = check_entries(ok, 5, 0);

	REQUIRE(rep != NULL);
	CHECK(rep->ndocs == 2);
	CHECK(doc_named(rep, "01_a.pdf") != NULL);
	CHECK(!has(rep, "zip.path_traversal"));
	CHECK(has(rep, "zip.os_metadata_ignored"));
	intake_report_free(rep);
	rep = check_entries(deep, 2, 0);
	REQUIRE(rep != NULL);
	CHECK(has(rep, "zip.path_traversal"));
	intake_report_free(rep);
}

static void
test_zip_duplicates_and_count(void)
{
	/* Ä and a + U+0308 (NFD ä): equal after NFC and case folding */
	struct zw_entry dup[] = {E("01_Ä.pdf", "x"),
	    E("01_a\xcc\x88.pdf", "y")};
	struct zw_entry many[11];
	char names[11][32];
	struct intake_report *rep = check_entries(dup, 2, 0);

	REQUIRE(rep != NULL);
	CHECK(has(rep, "zip.duplicate_name"));
	intake_report_free(rep);
	for (int i = 0; i < 11; i++) {
		snprintf(names[i], sizeof(names[i]), "%02d_x.pdf", i + 1);
		many[i] = (struct zw_entry)E(names[i], "x");
	}
	rep = check_entries(many, 10, 0);
	REQUIRE(rep != NULL);
	CHECK(!has(rep, "zip.too_many_files"));
	intake_report_free(rep);
	rep = check_entries(many, 11, 0);
	REQUIRE(rep != NULL);
	CHECK(has(rep, "zip.too_many_files"));
	intake_report_free(rep);
}

static void
test_zip_hostile_structure(void)
{
	struct zw_entry overlap[] = {E("01_a.pdf", "x"),
	    {"02_b.pdf", "x", 0, 0, 0, 0}};
	struct zw_entry enc[] = {{"01_a.pdf", "x", 1, 0, 0, -1}};
	struct zw_entry one[] = {E("01_a.pdf", "x")};
	struct intake_report *rep;
	static const uint8_t junk[] = "not a zip at all, just text";
	static const uint8_t empty[22] = {'P', 'K', 5, 6};

	rep = check_entries(overlap, 2, 0);
	REQUIRE(rep != NULL);
	CHECK(has(rep, "zip.bomb"));
	intake_report_free(rep);
	rep = check_entries(enc, 1, 0);
	REQUIRE(rep != NULL);
	CHECK(has(rep, "zip.encrypted"));
	intake_report_free(rep);
	rep = check_entries(one, 1, 7); /* data before the first entry */
	REQUIRE(rep != NULL);
	CHECK(has(rep, "zip.inconsistent"));
	intake_report_free(rep);
	REQUIRE_OK(
	    intake_check_memory(span_of(junk, sizeof(junk)), NULL, &rep));
	CHECK(has(rep, "zip.unreadable"));
	intake_report_free(rep);
	REQUIRE_OK(
	    intake_check_memory(span_of(empty, sizeof(empty)), NULL, &rep));
	CHECK(has(rep, "zip.empty"));
	CHECK(rep->nproblems == 1);
	intake_report_free(rep);
}

/* ---- deflate bombs whose headers lie (issue 3 "Safety") ---- */

/* Raw deflate of usize bytes: zeros, or a 4 KiB period with noise. */
static void
deflate_fill(uint64_t usize, bool noisy, struct bytes *out)
{
	static uint8_t blk[1u << 16];
	z_stream z;
	uint64_t left = usize, seed = 12345;

	memset(&z, 0, sizeof(z));
	REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 8,
	            Z_DEFAULT_STRATEGY) == Z_OK);
	bytes_init(out, 1u << 26);
	CHECK_OK(bytes_reserve(out, (size_t)(usize / 100 + (1u << 16))));
	while (left > 0) {
		size_t n = left < sizeof(blk) ? (size_t)left : sizeof(blk);

		memset(blk, 0, sizeof(blk));
		for (size_t i = 0; noisy && i < n; i += 4096)
			for (size_t k = 0; k < 20 && i + k < n; k++) {
				seed = seed * 6364136223846793005ull + 1;
				blk[i + k] = (uint8_t)(seed >> 56);
			}
		left -= n;
		z.next_in = blk;
		z.avail_in = (uInt)n;
		do {
			uint8_t o[1u << 14];

			z.next_out = o;
			z.avail_out = sizeof(o);
			REQUIRE(deflate(&z, left ? Z_NO_FLUSH : Z_FINISH) !=
			        Z_STREAM_ERROR);
			CHECK_OK(bytes_put(out, o, sizeof(o) - z.avail_out));
		} while (z.avail_out == 0);
	}
	deflateEnd(&z);
}

/* CRC-32 of usize bytes made like deflate_fill makes them. */
static uint32_t
fill_crc(uint64_t usize, bool noisy)
{
	static uint8_t blk[1u << 16];
	uLong crc = crc32(0, NULL, 0);
	uint64_t left = usize, seed = 12345;

	while (left > 0) {
		size_t n = left < sizeof(blk) ? (size_t)left : sizeof(blk);

		memset(blk, 0, sizeof(blk));
		for (size_t i = 0; noisy && i < n; i += 4096)
			for (size_t k = 0; k < 20 && i + k < n; k++) {
				seed = seed * 6364136223846793005ull + 1;
				blk[i + k] = (uint8_t)(seed >> 56);
			}
		crc = crc32(crc, blk, (uInt)n);
		left -= n;
	}
	return (uint32_t)crc;
}

/* n deflated entries NN_bomb.pdf of the same data, declaring usize. */
static void
zw_deflated(size_t n, const struct bytes *comp, uint32_t crc,
    uint32_t declared, struct bytes *out)
{
	uint32_t lho[8];
	size_t cd_start;
	char name[32];

	REQUIRE(n <= 8);
	bytes_init(out, 1u << 26);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%02zu_bomb.pdf", i + 1);
		lho[i] = (uint32_t)out->len;
		le32(out, 0x04034b50);
		le16(out, 20);
		le16(out, 0);
		le16(out, 8);
		le16(out, 0);
		le16(out, 0x5821);
		le32(out, crc);
		le32(out, (uint32_t)comp->len);
		le32(out, declared);
		le16(out, (uint32_t)strlen(name));
		le16(out, 0);
		CHECK_OK(bytes_put(out, name, strlen(name)));
		CHECK_OK(bytes_put(out, comp->p, comp->len));
	}
	cd_start = out->len;
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%02zu_bomb.pdf", i + 1);
		le32(out, 0x02014b50);
		le16(out, 20);
		le16(out, 20);
		le16(out, 0);
		le16(out, 8);
		le16(out, 0);
		le16(out, 0x5821);
		le32(out, crc);
		le32(out, (uint32_t)comp->len);
		le32(out, declared);
		le16(out, (uint32_t)strlen(name));
		le16(out, 0);
		le16(out, 0);
		le16(out, 0);
		le16(out, 0);
		le32(out, 0);
		le32(out, lho[i]);
		CHECK_OK(bytes_put(out, name, strlen(name)));
	}
	le32(out, 0x06054b50);
	le16(out, 0);
	le16(out, 0);
	le16(out, (uint32_t)n);
	le16(out, (uint32_t)n);
	le32(out, (uint32_t)(out->len - cd_start - 12));
	le32(out, (uint32_t)cd_start);
	le16(out, 0);
}

static void
test_zip_bomb_lying_sizes(void)
{
	/*
	 * 128 MiB of zeros deflate to ~128 KiB, declared as 4 KiB. The
	 * ratio is enforced against the compressed bytes read so far, so
	 * each entry stops after ~1 MiB plus 200 x what was read, far below
	 * 200 x its whole compressed size (~25 MiB) that a check against
	 * the entry's declared compressed size would let through.
	 */
	const uint64_t bomb = 128u << 20, legit = 12u << 20;
	const uint64_t bound = 4u << 20; /* per entry */
	struct bytes comp, z;
	struct intake_report *rep = NULL;
	uint64_t total = 0;
	size_t nbomb = 0;

	deflate_fill(bomb, false, &comp);
	REQUIRE(comp.len * 200 < bomb / 2); /* a true bomb */
	zw_deflated(3, &comp, fill_crc(bomb, false), 4096, &z);
	REQUIRE_OK(intake_check_memory(bytes_span(&z), NULL, &rep));
	CHECK(has(rep, "zip.bomb"));
	CHECK(!rep->accept);
	for (size_t i = 0; rep != NULL && i < rep->ndocs; i++) {
		CHECK(rep->docs[i].size <= bound);
		total += rep->docs[i].size;
		nbomb++;
	}
	CHECK(nbomb == 3);
	CHECK(total <= 3 * bound);
	intake_report_free(rep);
	bytes_release(&z);
	bytes_release(&comp);

	/* Legitimate: ~150:1 all along, 12 MiB, honest sizes: read whole. */
	deflate_fill(legit, true, &comp);
	REQUIRE(comp.len * 200 > legit && comp.len * 100 < legit);
	zw_deflated(1, &comp, fill_crc(legit, true), (uint32_t)legit, &z);
	REQUIRE_OK(intake_check_memory(bytes_span(&z), NULL, &rep));
	CHECK(!has(rep, "zip.bomb"));
	REQUIRE(rep != NULL && rep->ndocs == 1);
	CHECK(rep->docs[0].size == legit);
	CHECK(rep->docs[0].hashed);
	intake_report_free(rep);
	bytes_release(&z);
	bytes_release(&comp);
}

static void
test_report_text_escapes(void)
{
	/* ESC, C1 NEL, DEL and RLO in names must not reach a terminal. */
	struct zw_entry e[] = {E("01_\xe6\x83\x85\xe5\xa0\xb1\x1b[2J.pdf", "x"),
	    E("02_a\xe2\x80\xae" "fdp.exe.pdf", "x"),
	    E("03_b\xc2\x85\x7f\xe2\x81\xa6.pdf", "x")};
	struct intake_report *rep = check_entries(e, 3, 0);
	struct bytes t;

	REQUIRE(rep != NULL);
	for (int lang = 0; lang < 2; lang++) {
		bytes_init(&t, 1u << 20);
		REQUIRE_OK(intake_report_text(rep, lang ? "en" : "ja", &t));
		CHECK_OK(bytes_put_u8(&t, 0));
		CHECK(memchr(t.p, 0x1b, t.len) == NULL);
		CHECK(memchr(t.p, 0x7f, t.len) == NULL);
		CHECK(strstr((char *)t.p, "\xe2\x80\xae") == NULL);
		CHECK(strstr((char *)t.p, "\xe2\x81\xa6") == NULL);
		CHECK(strstr((char *)t.p, "\xc2\x85") == NULL);
		CHECK(strstr((char *)t.p, "01_\xe6\x83\x85\xe5\xa0\xb1\\x1b[2J.pdf") !=
		      NULL);
		CHECK(strstr((char *)t.p, "02_a<U+202E>fdp.exe.pdf") != NULL);
		CHECK(strstr((char *)t.p, "03_b\\x85\\x7f<U+2066>.pdf") != NULL);
		for (size_t i = 0; i + 1 < t.len; i++)
			CHECK(t.p[i] >= 0x20 || t.p[i] == '\n');
		bytes_release(&t);
	}
	intake_report_free(rep);
}

static void
test_zip_long_comment_and_name(void)
{
	/* a 20 KiB archive comment and a 2000-byte name are still read */
	char *longname = malloc(2001);
	struct intake_report *rep = NULL;
	struct bytes z;

	REQUIRE(longname != NULL);
	memset(longname, 'a', 2000);
	memcpy(longname, "01_", 3);
	longname[2000] = 0;
	{
		struct zw_entry e[] = {E("01_a.pdf", "%PDF-1.4"),
		    E(longname, "x")};

		zw_build(e, 2, 0, &z);
	}
	z.p[z.len - 2] = 0x00;
	z.p[z.len - 1] = 0x50; /* comment length 20480 */
	for (size_t i = 0; i < 20480; i++)
		CHECK_OK(bytes_put_u8(&z, 'c'));
	REQUIRE_OK(intake_check_memory(bytes_span(&z), NULL, &rep));
	CHECK(!has(rep, "zip.unreadable"));
	CHECK(!has(rep, "zip.inconsistent"));
	CHECK(has(rep, "name.too_long"));
	REQUIRE(rep->ndocs == 2);
	CHECK(rep->docs[0].hashed && rep->docs[0].size == 8);
	intake_report_free(rep);
	bytes_release(&z);
	free(longname);
}

/* ---- numbering, roles, type (R1, R3) ---- */

static void
test_numbering_and_roles(void)
{
	struct intake_report *rep = check_data("ok-new.zip", INTAKE_TYPE_INFER);
	const struct intake_doc *d;

	REQUIRE(rep != NULL);
	CHECK(rep->accept);
	CHECK(rep->type == INTAKE_TYPE_NEW && rep->type_inferred);
	/* full-width ０２ is 02 after NFKC */
	d = doc_named(rep, "０２_申請書A.docx");
	REQUIRE(d != NULL);
	CHECK(d->number != NULL && strcmp(d->number, "02") == 0);
	CHECK(d->role == INTAKE_ROLE_FORM_A);
	CHECK(strcmp(d->format, "docx") == 0);
	/* the longest number wins: 04-10, not 04 */
	d = doc_named(rep, "04-10_情報セキュリティ基本方針.pdf");
	REQUIRE(d != NULL);
	CHECK(d->number != NULL && strcmp(d->number, "04-10") == 0);
	CHECK(d->role == INTAKE_ROLE_ATTACHMENT);
	d = doc_named(rep, "01_提出書類及び資料内訳書.xlsx");
	REQUIRE(d != NULL);
	CHECK(d->role == INTAKE_ROLE_INVENTORY && d->hashed);
	/* 05 is on paper (紙): no file expected */
	CHECK(!has(rep, "number.missing_file"));
	intake_report_free(rep);
}

static void
test_type_inference(void)
{
	static const struct {
		const char *file;
		enum intake_type t;
	} cases[] = {
	    {"ok-renewal.zip", INTAKE_TYPE_RENEWAL},
	    {"ok-change.zip", INTAKE_TYPE_CHANGE},
	    {"ok-termination.zip", INTAKE_TYPE_TERMINATION},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct intake_report *rep =
		    check_data(cases[i].file, INTAKE_TYPE_INFER);

		REQUIRE(rep != NULL);
		CHECK(rep->accept);
		CHECK(rep->type == cases[i].t);
		intake_report_free(rep);
	}
	/* R1: a new application declared as renewal lacks documents */
	{
		struct intake_report *rep =
		    check_data("ok-new.zip", INTAKE_TYPE_RENEWAL);

		REQUIRE(rep != NULL);
		CHECK(!rep->accept && !rep->type_inferred);
		CHECK(has(rep, "docs.missing_required"));
		intake_report_free(rep);
	}
}

static void
test_bad_submission(void)
{
	struct intake_report *rep =
	    check_data("bad-new.zip", INTAKE_TYPE_INFER);

	REQUIRE(rep != NULL);
	CHECK(!rep->accept);
	CHECK(has(rep, "number.not_in_inventory"));
	CHECK(has(rep, "name.no_number"));
	CHECK(has(rep, "number.missing_file"));
	CHECK(has(rep, "name.title_mismatch"));
	CHECK(has(rep, "format.macro"));
	CHECK(has(rep, "docs.missing_required"));
	/* every problem has both messages */
	for (size_t i = 0; i < rep->nproblems; i++)
		CHECK(rep->problems[i].message_ja[0] &&
		      rep->problems[i].message_en[0]);
	intake_report_free(rep);
}

static void
test_inventory_parse(void)
{
	char path[512];
	const char *top = getenv("KURA_TOP");
	FILE *f;
	uint8_t buf[65536];
	size_t n;
	struct bytes out;

	snprintf(path, sizeof(path), "%s%stests/data/intake/%s", top ? top : "",
	    top ? "/" : "", "inventory-shared.xlsx");
	REQUIRE((f = fopen(path, "rb")) != NULL);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	bytes_init(&out, 1u << 20);
	REQUIRE_OK(intake_inventory_dump(span_of(buf, n), &out));
	/* shared strings with phonetic runs left out; 紙 = paper */
	CHECK(strstr((char *)out.p, "01\t提出書類及び資料内訳書\t\n") != NULL);
	CHECK(strstr((char *)out.p, "04-10\t情報セキュリティ基本方針\t\n") !=
	      NULL);
	CHECK(strstr((char *)out.p, "05\t登記事項証明書\t紙\n") != NULL);
	CHECK(strstr((char *)out.p, "ヨミ") == NULL);
	bytes_release(&out);
	/* not a workbook */
	bytes_init(&out, 1024);
	CHECK(intake_inventory_dump(span_of(buf, 100), &out) != ERR_OK);
	bytes_release(&out);
}

/* ---- report and sink ---- */

struct sink_count {
	uint64_t bytes[16];
	int begins, ends_ok;
};

static enum err
s_begin(void *arg, size_t doc, const struct intake_doc *d)
{
	struct sink_count *s = arg;

	(void)d;
	if (doc >= 16)
		return ERR_INVALID;
	s->begins++;
	return ERR_OK;
}

static enum err
s_data(void *arg, size_t doc, const uint8_t *p, size_t len)
{
	struct sink_count *s = arg;

	(void)p;
	s->bytes[doc] += len;
	return ERR_OK;
}

static enum err
s_end(void *arg, size_t doc, bool ok)
{
	struct sink_count *s = arg;

	(void)doc;
	s->ends_ok += ok;
	return ERR_OK;
}

static void
test_json_and_sink(void)
{
	struct sink_count sc = {{0}, 0, 0};
	struct intake_sink sink = {&sc, s_begin, s_data, s_end};
	struct intake_check_opts o;
	struct intake_report *rep = NULL;
	struct bytes j;
	char path[512];
	const char *top = getenv("KURA_TOP");

	snprintf(path, sizeof(path), "%s%stests/data/intake/ok-new.zip",
	    top ? top : "", top ? "/" : "");
	intake_check_opts_default(&o);
	o.sink = &sink;
	REQUIRE_OK(intake_check_file(path, &o, &rep));
	CHECK(sc.begins == 5 && sc.ends_ok == 5);
	for (size_t i = 0; i < rep->ndocs; i++)
		CHECK(sc.bytes[i] == rep->docs[i].size);
	bytes_init(&j, 1u << 20);
	REQUIRE_OK(intake_report_json(rep, &j));
	{
		static const char head[] =
		    "{\"verdict\":\"accept\","
		    "\"type\":\"new\",\"zip\":{\"sha256\":\"";

		CHECK(strncmp((char *)j.p, head, sizeof(head) - 1) == 0);
	}
	CHECK(
	    strstr((char *)j.p, "\"documents\":[{\"number\":\"01\",") != NULL);
	CHECK(strstr((char *)j.p, "\"problems\":[]}") != NULL);
	bytes_release(&j);
	bytes_init(&j, 1u << 20);
	REQUIRE_OK(intake_report_text(rep, "ja", &j));
	CHECK(strstr((char *)j.p, "受付可") != NULL);
	bytes_release(&j);
	intake_report_free(rep);
}

static void
test_problem_table(void)
{
	/* every code has both messages and is unique */
	for (size_t i = 0; i < intake_problem_ndefs; i++) {
		CHECK(intake_problem_defs[i].ja[0] != 0);
		CHECK(intake_problem_defs[i].en[0] != 0);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(intake_problem_defs[i].code,
			          intake_problem_defs[k].code) != 0);
	}
	CHECK(intake_problem_ndefs == 26);
}

int
main(void)
{
	if (cry_init() != ERR_OK)
		return 1;
	TEST_RUN(test_name_cp932_5c_trail);
	TEST_RUN(test_name_nfd_to_nfc);
	TEST_RUN(test_name_reserved_and_bidi);
	TEST_RUN(test_name_os_metadata);
	TEST_RUN(test_name_143_bytes);
	TEST_RUN(test_zip_cp932_entry);
	TEST_RUN(test_zip_traversal_and_links);
	TEST_RUN(test_zip_wrapper_and_metadata);
	TEST_RUN(test_zip_duplicates_and_count);
	TEST_RUN(test_zip_hostile_structure);
	TEST_RUN(test_zip_bomb_lying_sizes);
	TEST_RUN(test_report_text_escapes);
	TEST_RUN(test_zip_long_comment_and_name);
	TEST_RUN(test_numbering_and_roles);
	TEST_RUN(test_type_inference);
	TEST_RUN(test_bad_submission);
	TEST_RUN(test_inventory_parse);
	TEST_RUN(test_json_and_sink);
	TEST_RUN(test_problem_table);
	return test_summary();
}
