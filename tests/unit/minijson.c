/* tests/unit/minijson.c - see minijson.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/minijson.h"
#include "common/banned.h"

struct mp {
	const char *p, *end;
};

static struct mj *value(struct mp *m, int depth);

static void
ws(struct mp *m)
{
	while (m->p < m->end && (*m->p == ' ' || *m->p == '\n' ||
	                            *m->p == '\r' || *m->p == '\t'))
		m->p++;
}

static int
hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
put_utf8(char *out, size_t *n, unsigned long cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | (cp >> 6));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | (cp >> 12));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | (cp >> 18));
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static unsigned long
hex4(const char *p)
{
	unsigned long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexv(p[i]);
		if (h < 0)
			return 0x110000;
		v = v * 16 + (unsigned long)h;
	}
	return v;
}

static char *
string(struct mp *m, size_t *len)
{
	char *out;
	size_t n = 0;

	if (m->p >= m->end || *m->p != '"')
		return NULL;
	m->p++;
	out = malloc((size_t)(m->end - m->p) + 1);
	if (out == NULL)
		return NULL;
	while (m->p < m->end && *m->p != '"') {
		if (*m->p != '\\') {
			out[n++] = *m->p++;
			continue;
		}
		m->p++;
		if (m->p >= m->end)
			break;
		char c = *m->p++;
		switch (c) {
		case 'n':
			out[n++] = '\n';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'u': {
			unsigned long cp;
			if (m->end - m->p < 4)
				goto bad;
			cp = hex4(m->p);
			m->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && m->end - m->p >= 6 &&
			    m->p[0] == '\\' && m->p[1] == 'u') {
				unsigned long lo = hex4(m->p + 2);
				m->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			if (cp > 0x10ffff)
				goto bad;
			put_utf8(out, &n, cp);
			break;
		}
		default:
			out[n++] = c;
			break;
		}
	}
	if (m->p >= m->end)
		goto bad;
	m->p++;
	out[n] = 0;
	*len = n;
	return out;
bad:
	free(out);
	return NULL;
}

static bool
push(struct mj *v, char *key, struct mj *item)
{
	struct mj **ni = realloc(v->items, (v->len + 1) * sizeof(*ni));
	if (ni == NULL)
		return false;
	v->items = ni;
	if (v->type == MJ_OBJ) {
		char **nk = realloc(v->keys, (v->len + 1) * sizeof(*nk));
		if (nk == NULL)
			return false;
		v->keys = nk;
		v->keys[v->len] = key;
	}
	v->items[v->len++] = item;
	return true;
}

static struct mj *
value(struct mp *m, int depth)
{
	struct mj *v;

	if (depth > 64)
		return NULL;
	ws(m);
	if (m->p >= m->end)
		return NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	if (*m->p == '{' || *m->p == '[') {
		char close = *m->p == '{' ? '}' : ']';
		v->type = *m->p == '{' ? MJ_OBJ : MJ_ARR;
		m->p++;
		ws(m);
		if (m->p < m->end && *m->p == close) {
			m->p++;
			return v;
		}
		for (;;) {
			char *key = NULL;
			size_t kl;
			struct mj *item;
			ws(m);
			if (v->type == MJ_OBJ) {
				if ((key = string(m, &kl)) == NULL)
					goto bad;
				ws(m);
				if (m->p >= m->end || *m->p != ':') {
					free(key);
					goto bad;
				}
				m->p++;
			}
			if ((item = value(m, depth + 1)) == NULL ||
			    !push(v, key, item)) {
				free(key);
				mj_free(item);
				goto bad;
			}
			ws(m);
			if (m->p < m->end && *m->p == ',') {
				m->p++;
				continue;
			}
			if (m->p < m->end && *m->p == close) {
				m->p++;
				return v;
			}
			goto bad;
		}
	}
	if (*m->p == '"') {
		v->type = MJ_STR;
		if ((v->str = string(m, &v->len)) == NULL)
			goto bad;
		return v;
	}
	if (m->end - m->p >= 4 && memcmp(m->p, "true", 4) == 0) {
		v->type = MJ_BOOL;
		v->b = true;
		m->p += 4;
		return v;
	}
	if (m->end - m->p >= 5 && memcmp(m->p, "false", 5) == 0) {
		v->type = MJ_BOOL;
		m->p += 5;
		return v;
	}
	if (m->end - m->p >= 4 && memcmp(m->p, "null", 4) == 0) {
		v->type = MJ_NULL;
		m->p += 4;
		return v;
	}
	{
		char buf[64];
		size_t n = 0;
		char *endp;
		while (m->p < m->end && n < sizeof(buf) - 1 &&
		       strchr("0123456789+-.eE", *m->p) != NULL)
			buf[n++] = *m->p++;
		buf[n] = 0;
		if (n == 0)
			goto bad;
		v->type = MJ_NUM;
		v->num = strtod(buf, &endp);
		if (*endp != 0)
			goto bad;
		if (strspn(buf, "0123456789") == n) {
			errno = 0;
			v->u = strtoull(buf, &endp, 10);
			v->isu = errno == 0 && *endp == 0;
		}
		return v;
	}
bad:
	mj_free(v);
	return NULL;
}

struct mj *
mj_parse(const char *text, size_t len)
{
	struct mp m = {text, text + len};
	struct mj *v = value(&m, 0);

	ws(&m);
	if (v != NULL && m.p != m.end) {
		mj_free(v);
		return NULL;
	}
	return v;
}

struct mj *
mj_parse_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	struct mj *v = NULL;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);
			if (nb == NULL)
				goto out;
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	v = mj_parse(buf, n);
out:
	free(buf);
	fclose(f);
	return v;
}

void
mj_free(struct mj *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v->type >= MJ_ARR && i < v->len; i++) {
		mj_free(v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

const struct mj *
mj_get(const struct mj *obj, const char *key)
{
	if (obj == NULL || obj->type != MJ_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->len; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}
