/*
 * intake/zipdir.c - our own bounded parse of a ZIP's end records, central
 * directory and local headers, done before libarchive inflates anything.
 *
 * libarchive reads the archive the way an extractor would; this parse
 * looks at it the way an attacker builds it: every byte of the file must
 * belong to exactly one entry, the directory or the end records, local
 * headers must agree with the directory, and no two entries may share
 * bytes (Fifield's overlapping "better zip bomb").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "intake/check_int.h"
#include "common/banned.h"

#define SIG_LFH    0x04034b50u
#define SIG_CDH    0x02014b50u
#define SIG_EOCD   0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64  0x07064b50u
#define SIG_DD     0x08074b50u

enum err
zsrc_read(const struct zsrc *s, uint64_t off, void *buf, size_t len)
{
	uint64_t end;

	if (len == 0)
		return ERR_OK;
	end = off + len;
	if (end < off || end > s->size)
		return ERR_NOT_FOUND;
	if (s->fd >= 0) {
		size_t got = 0;

		while (got < len) {
			ssize_t n = pread(s->fd, (uint8_t *)buf + got,
			    len - got, (off_t)(off + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				log_err("pread: %s", strerror(errno));
				return ERR_IO;
			}
			if (n == 0)
				return ERR_NOT_FOUND; /* file shrank */
			got += (size_t)n;
		}
		return ERR_OK;
	}
	if (s->rd != NULL)
		return s->rd->read(s->rd->arg, off, buf, len);
	if (end <= s->mem_len) {
		memcpy(buf, s->mem + off, len);
		return ERR_OK;
	}
	if (s->tail != NULL && off >= s->tail_off) {
		memcpy(buf, s->tail + (off - s->tail_off), len);
		return ERR_OK;
	}
	return ERR_NOT_FOUND;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static uint32_t
crc32_buf(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return c ^ 0xffffffffu;
}

static void
set_unreadable(struct zdir *d, const char *why)
{
	if (!d->unreadable) {
		d->unreadable = true;
		d->unreadable_why = why;
	}
}

static void
set_inconsistent(struct zdir *d, const char *why)
{
	if (!d->inconsistent) {
		d->inconsistent = true;
		d->inconsistent_why = why;
	}
}

void
zdir_release(struct zdir *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->e[i].name);
		free(d->e[i].upath);
	}
	free(d->e);
	memset(d, 0, sizeof(*d));
}

/*
 * Zip64 extended information: values appear only for the fields whose
 * 32-bit form is saturated, in this order.
 */
static void
parse_zip64(const uint8_t *p, size_t len, uint64_t *usize, uint64_t *csize,
    uint64_t *lho, bool want_u, bool want_c, bool want_o)
{
	size_t o = 0;

	if (want_u && o + 8 <= len) {
		*usize = rd64(p + o);
		o += 8;
	}
	if (want_c && o + 8 <= len) {
		*csize = rd64(p + o);
		o += 8;
	}
	if (want_o && lho != NULL && o + 8 <= len)
		*lho = rd64(p + o);
}

/* Walks the extra fields of a central directory record. */
static enum err
parse_cd_extra(struct zent *e, const uint8_t *p, size_t len, bool want_u,
    bool want_c, bool want_o)
{
	size_t o = 0;

	while (o + 4 <= len) {
		uint16_t id = rd16(p + o), sz = rd16(p + o + 2);
		const uint8_t *v = p + o + 4;

		if (o + 4 + sz > len)
			break; /* padding or junk: ignore the rest */
		if (id == 0x0001) {
			parse_zip64(v, sz, &e->usize, &e->csize, &e->lho,
			    want_u, want_c, want_o);
		} else if (id == 0x0017) {
			e->encrypted = true; /* PKWARE strong encryption */
		} else if (id == 0x9901) {
			e->encrypted = true; /* WinZip AES */
		} else if (id == 0x7075 && sz > 5 && v[0] == 1 &&
		           e->upath == NULL) {
			/* Used only when it describes this very name. */
			if (rd32(v + 1) == crc32_buf(e->name, e->name_len)) {
				size_t n = sz - 5u;

				if ((e->upath = malloc(n + 1)) == NULL)
					return ERR_NOMEM;
				memcpy(e->upath, v + 5, n);
				e->upath[n] = 0;
				e->upath_len = n;
			}
		}
		o += 4u + sz;
	}
	return ERR_OK;
}

static void
classify(struct zent *e)
{
	uint8_t host = (uint8_t)(e->made_by >> 8);
	uint32_t mode = e->ext_attr >> 16;

	e->is_dir = e->name_len > 0 && e->name[e->name_len - 1] == '/';
	if ((e->ext_attr & 0x10u) != 0 && host != 3 && host != 19)
		e->is_dir = true;
	/* Unix (3) and OS X (19) hosts keep st_mode in the high half. */
	if ((host == 3 || host == 19) && (mode & 0170000u) != 0) {
		uint32_t t = mode & 0170000u;

		if (t == 0040000u)
			e->is_dir = true;
		else if (t != 0100000u)
			e->is_link = true;
	}
	e->method_ok = e->method == 0 || e->method == 8;
	if ((e->flags & 0x41u) != 0 || e->method == 99)
		e->encrypted = true;
}

struct eocd {
	uint64_t off; /* of the classic EOCD record */
	uint64_t entries;
	uint64_t cd_size, cd_off;
	uint64_t z64_off; /* of the Zip64 EOCD record, or UINT64_MAX */
	uint64_t z64_len; /* its whole length */
};

static enum err
find_eocd(const struct zsrc *s, struct zdir *d, struct eocd *q)
{
	enum err r = ERR_INTERNAL;
	uint8_t *buf = NULL;
	size_t n, at = SIZE_MAX;
	uint64_t base;
	uint8_t z[56];

	q->z64_off = UINT64_MAX;
	n = s->size < ZIP_EOCD_SEARCH ? (size_t)s->size : ZIP_EOCD_SEARCH;
	if (n < 22) {
		set_unreadable(d, "too short to be a ZIP file");
		return ERR_OK;
	}
	base = s->size - n;
	if ((buf = malloc(n)) == NULL)
		return ERR_NOMEM;
	r = zsrc_read(s, base, buf, n);
	if (r == ERR_NOT_FOUND) {
		set_unreadable(d, "end of central directory not readable");
		r = ERR_OK;
		goto out;
	}
	if (r != ERR_OK)
		goto out;
	/* The last record whose comment ends exactly at the end of file. */
	for (size_t i = n - 22 + 1; i-- > 0;) {
		if (rd32(buf + i) != SIG_EOCD)
			continue;
		if (i + 22 + rd16(buf + i + 20) == n) {
			at = i;
			break;
		}
		if (at == SIZE_MAX)
			at = i; /* remember a padded one */
	}
	if (at == SIZE_MAX) {
		set_unreadable(d, "no end of central directory record");
		r = ERR_OK;
		goto out;
	}
	if (at + 22 + rd16(buf + at + 20) != n)
		set_inconsistent(d, "bytes after the end of the archive");
	q->off = base + at;
	/* 0xFFFF: the value is in the Zip64 record. */
	if ((rd16(buf + at + 4) != 0 && rd16(buf + at + 4) != 0xffff) ||
	    (rd16(buf + at + 6) != 0 && rd16(buf + at + 6) != 0xffff)) {
		set_unreadable(d, "multi-disk (split) archive");
		r = ERR_OK;
		goto out;
	}
	q->entries = rd16(buf + at + 10);
	q->cd_size = rd32(buf + at + 12);
	q->cd_off = rd32(buf + at + 16);
	/* Zip64 locator right before the EOCD. */
	if (q->off >= 20 && (r = zsrc_read(s, q->off - 20, z, 20)) == ERR_OK &&
	    rd32(z) == SIG_LOC64) {
		uint64_t zo = rd64(z + 8);

		if ((r = zsrc_read(s, zo, z, 56)) != ERR_OK ||
		    rd32(z) != SIG_EOCD64 || rd64(z + 4) > (1u << 16)) {
			set_unreadable(d, "Zip64 end record not readable");
			r = r == ERR_NOT_FOUND || r == ERR_OK ? ERR_OK : r;
			goto out;
		}
		if (rd32(z + 16) != 0 || rd32(z + 20) != 0) {
			set_unreadable(d, "multi-disk (split) archive");
			r = ERR_OK;
			goto out;
		}
		q->z64_off = zo;
		q->z64_len = 12 + rd64(z + 4);
		q->entries = rd64(z + 32);
		q->cd_size = rd64(z + 40);
		q->cd_off = rd64(z + 48);
	} else if (r != ERR_OK && r != ERR_NOT_FOUND) {
		goto out;
	} else if (rd16(buf + at + 4) != 0 || rd16(buf + at + 6) != 0) {
		set_unreadable(d, "multi-disk (split) archive");
		r = ERR_OK;
		goto out;
	}
	r = ERR_OK;
out:
	free(buf);
	return r;
}

/* Checks the local header of e and computes where its bytes end. */
static enum err
check_local(const struct zsrc *s, struct zdir *d, struct zent *e,
    uint8_t *scratch)
{
	enum err r;
	uint8_t h[30], dd[24];
	uint16_t nl, xl, fl;
	uint64_t lu, lc;

	if ((r = zsrc_read(s, e->lho, h, 30)) != ERR_OK || rd32(h) != SIG_LFH) {
		if (r != ERR_OK && r != ERR_NOT_FOUND)
			return r;
		set_inconsistent(d, "a local header is missing");
		return ERR_OK;
	}
	fl = rd16(h + 6);
	nl = rd16(h + 26);
	xl = rd16(h + 28);
	if ((r = zsrc_read(s, e->lho + 30, scratch, (size_t)nl + xl)) !=
	    ERR_OK) {
		if (r != ERR_NOT_FOUND)
			return r;
		set_inconsistent(d, "a local header is truncated");
		return ERR_OK;
	}
	if (nl != e->name_len || memcmp(scratch, e->name, nl) != 0)
		set_inconsistent(d, "a local header names another file");
	if (rd16(h + 8) != e->method)
		set_inconsistent(d, "a local header has another method");
	if ((fl & 0x41u) != 0)
		e->encrypted = true;
	if (((fl ^ e->flags) & 0x09u) != 0)
		set_inconsistent(d, "a local header has other flags");
	lu = rd32(h + 22);
	lc = rd32(h + 18);
	{
		size_t o = 0;
		const uint8_t *x = scratch + nl;

		while (o + 4 <= xl) {
			uint16_t id = rd16(x + o), sz = rd16(x + o + 4 - 2);

			if (o + 4 + sz > xl)
				break;
			if (id == 0x0001)
				parse_zip64(x + o + 4, sz, &lu, &lc, NULL,
				    lu == 0xffffffffu, lc == 0xffffffffu,
				    false);
			if (id == 0x9901 || id == 0x0017)
				e->encrypted = true;
			o += 4u + sz;
		}
	}
	if ((fl & 0x08u) == 0) {
		if (rd32(h + 14) != e->crc || lu != e->usize || lc != e->csize)
			set_inconsistent(d,
			    "a local header disagrees on size or CRC");
	} else if ((rd32(h + 14) != 0 && rd32(h + 14) != e->crc) ||
	           (lc != 0 && lc != e->csize && lc != 0xffffffffu)) {
		set_inconsistent(d, "a local header disagrees on size or CRC");
	}
	e->data_off = e->lho + 30 + nl + xl;
	if (e->data_off + e->csize < e->data_off ||
	    e->data_off + e->csize > s->size) {
		set_unreadable(d, "an entry runs past the end of the file");
		e->end = s->size;
		return ERR_OK;
	}
	e->end = e->data_off + e->csize;
	if ((fl & 0x08u) != 0) {
		/* Data descriptor: find which of its four layouts this is. */
		size_t avail =
		    s->size - e->end < 24 ? (size_t)(s->size - e->end) : 24;
		size_t len = 0;

		memset(dd, 0, sizeof(dd));
		if ((r = zsrc_read(s, e->end, dd, avail)) != ERR_OK &&
		    r != ERR_NOT_FOUND)
			return r;
		if (avail >= 24 && rd32(dd) == SIG_DD &&
		    rd32(dd + 4) == e->crc && rd64(dd + 8) == e->csize &&
		    rd64(dd + 16) == e->usize)
			len = 24;
		else if (avail >= 16 && rd32(dd) == SIG_DD &&
		         rd32(dd + 4) == e->crc && rd32(dd + 8) == e->csize &&
		         rd32(dd + 12) == e->usize)
			len = 16;
		else if (avail >= 20 && rd32(dd) == e->crc &&
		         rd64(dd + 4) == e->csize && rd64(dd + 12) == e->usize)
			len = 20;
		else if (avail >= 12 && rd32(dd) == e->crc &&
		         rd32(dd + 4) == e->csize && rd32(dd + 8) == e->usize)
			len = 12;
		if (len == 0)
			set_inconsistent(d, "a data descriptor disagrees with "
			                    "the central directory");
		e->end += len;
	}
	return ERR_OK;
}

static int
cmp_lho(const void *a, const void *b)
{
	const struct zent *x = *(const struct zent *const *)a;
	const struct zent *y = *(const struct zent *const *)b;

	if (x->lho != y->lho)
		return x->lho < y->lho ? -1 : 1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Every byte belongs to one entry, the directory or the end records. */
static enum err
check_layout(struct zdir *d, const struct eocd *q)
{
	struct zent **v = NULL;
	uint64_t pos = 0, cd_end;

	if (d->n > 0 && (v = calloc(d->n, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < d->n; i++)
		v[i] = &d->e[i];
	if (d->n > 1)
		qsort(v, d->n, sizeof(*v), cmp_lho);
	for (size_t i = 0; i < d->n; i++) {
		if (v[i]->lho < pos) {
			d->overlap = true;
		} else if (v[i]->lho > pos) {
			set_inconsistent(d, pos == 0
			                        ? "data before the first entry"
			                        : "data not referenced by the "
			                          "central directory");
		}
		if (v[i]->end > pos)
			pos = v[i]->end;
	}
	free(v);
	if (pos > d->cd_off)
		d->overlap = true;
	else if (pos < d->cd_off)
		set_inconsistent(d,
		    d->n == 0 ? "data before the first entry"
		              : "data not referenced by the central directory");
	cd_end = d->cd_off + d->cd_size;
	if (q->z64_off != UINT64_MAX) {
		if (cd_end != q->z64_off ||
		    q->z64_off + q->z64_len + 20 != q->off)
			set_inconsistent(d, "data around the Zip64 end record");
	} else if (cd_end != q->off) {
		set_inconsistent(d, "data between the central directory and "
		                    "its end record");
	}
	return ERR_OK;
}

enum err
zdir_parse(const struct zsrc *s, bool check_lfh, struct zdir *d)
{
	enum err r = ERR_INTERNAL;
	struct eocd q;
	uint8_t *cd = NULL, *scratch = NULL;
	size_t o = 0;

	memset(d, 0, sizeof(*d));
	memset(&q, 0, sizeof(q));
	if ((r = find_eocd(s, d, &q)) != ERR_OK || d->unreadable)
		goto out;
	d->eocd_off = q.off;
	if (q.entries > ZIP_MAX_ENTRIES) {
		d->too_many = true;
		r = ERR_OK;
		goto out;
	}
	if (q.cd_size > ZIP_MAX_CD_BYTES || q.cd_off > s->size ||
	    q.cd_size > s->size - q.cd_off) {
		set_unreadable(d, "central directory out of bounds");
		r = ERR_OK;
		goto out;
	}
	d->cd_off = q.cd_off;
	d->cd_size = q.cd_size;
	if ((cd = malloc(q.cd_size + 1)) == NULL ||
	    (scratch = malloc(2 * 65536)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	{
		/*
		 * Bytes in front with offsets not adjusted (self-extractor
		 * layout): the directory sits right before the end records,
		 * not where the end record says.
		 */
		uint64_t end = q.z64_off != UINT64_MAX ? q.z64_off : q.off;
		uint8_t sig[4];

		if (q.cd_size > 0 && end >= q.cd_size &&
		    end - q.cd_size != q.cd_off &&
		    zsrc_read(s, end - q.cd_size, sig, 4) == ERR_OK &&
		    rd32(sig) == SIG_CDH) {
			set_inconsistent(d, "data before the first entry");
			r = ERR_OK;
			goto out;
		}
	}
	if ((r = zsrc_read(s, q.cd_off, cd, (size_t)q.cd_size)) != ERR_OK) {
		if (r != ERR_NOT_FOUND)
			goto out;
		set_unreadable(d, "central directory not readable");
		r = ERR_OK;
		goto out;
	}
	if (q.entries > 0 &&
	    (d->e = calloc((size_t)q.entries, sizeof(*d->e))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < q.entries; i++) {
		struct zent *e = &d->e[i];
		const uint8_t *h = cd + o;
		uint16_t nl, xl, cl;

		if (o + 46 > q.cd_size || rd32(h) != SIG_CDH) {
			/* An encrypted directory looks like this (bit 13). */
			uint8_t lh[30];

			if (zsrc_read(s, 0, lh, 30) == ERR_OK &&
			    rd32(lh) == SIG_LFH && (rd16(lh + 6) & 0x2000u))
				d->cd_encrypted = true;
			set_unreadable(d, "central directory is corrupt");
			r = ERR_OK;
			goto out;
		}
		nl = rd16(h + 28);
		xl = rd16(h + 30);
		cl = rd16(h + 32);
		if (o + 46u + nl + xl + cl > q.cd_size) {
			set_unreadable(d, "central directory is truncated");
			r = ERR_OK;
			goto out;
		}
		d->n = i + 1;
		e->made_by = rd16(h + 4);
		e->flags = rd16(h + 8);
		e->method = rd16(h + 10);
		e->crc = rd32(h + 16);
		e->csize = rd32(h + 20);
		e->usize = rd32(h + 24);
		e->ext_attr = rd32(h + 38);
		e->lho = rd32(h + 42);
		/* Names up to 64 KiB: the directory's cap bounds them all. */
		if ((e->name = malloc((size_t)nl + 1)) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		memcpy(e->name, h + 46, nl);
		e->name[nl] = 0;
		e->name_len = nl;
		if ((r = parse_cd_extra(e, h + 46 + nl, xl,
		         e->usize == 0xffffffffu, e->csize == 0xffffffffu,
		         e->lho == 0xffffffffu)) != ERR_OK)
			goto out;
		if (rd16(h + 34) != 0 && rd16(h + 34) != 0xffff) {
			set_unreadable(d, "multi-disk (split) archive");
			r = ERR_OK;
			goto out;
		}
		if (rd16(h + 8) & 0x2000u)
			d->cd_encrypted = true;
		classify(e);
		o += 46u + nl + xl + cl;
	}
	if (o != q.cd_size)
		set_inconsistent(d, "the central directory holds more records "
		                    "than its end record says");
	if (!check_lfh) {
		r = ERR_OK;
		goto out;
	}
	for (size_t i = 0; i < d->n; i++)
		if ((r = check_local(s, d, &d->e[i], scratch)) != ERR_OK)
			goto out;
	if (d->unreadable) {
		r = ERR_OK;
		goto out;
	}
	r = check_layout(d, &q);
out:
	free(cd);
	free(scratch);
	return r;
}
