#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/banned.h"

struct span
span_str(const char *s)
{
	return span_of(s, s ? strlen(s) : 0);
}

bool
span_eq_str(struct span s, const char *str)
{
	size_t n = strlen(str);
	return s.len == n && (n == 0 || memcmp(s.p, str, n) == 0);
}

void
mem_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

void
bytes_init(struct bytes *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

enum err
bytes_reserve(struct bytes *b, size_t extra)
{
	size_t need, ncap, alloc;
	uint8_t *np;

	if (size_add(b->len, extra, &need) != ERR_OK || need > b->max)
		return ERR_TOO_BIG;
	if (size_add(need, 1, &alloc) != ERR_OK)
		return ERR_TOO_BIG;
	if (alloc <= b->cap)
		return ERR_OK;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < alloc) {
		if (ncap > SIZE_MAX / 2) {
			ncap = alloc;
			break;
		}
		ncap *= 2;
	}
	if (ncap > b->max + 1)
		ncap = b->max + 1 > alloc ? b->max + 1 : alloc;
	if ((np = malloc(ncap)) == NULL)
		return ERR_NOMEM;
	if (b->p != NULL) {
		memcpy(np, b->p, b->len + 1);
		mem_wipe(b->p, b->cap);
		free(b->p);
	} else {
		np[0] = 0;
	}
	b->p = np;
	b->cap = ncap;
	return ERR_OK;
}

enum err
bytes_put(struct bytes *b, const void *p, size_t len)
{
	enum err r;

	if ((r = bytes_reserve(b, len)) != ERR_OK)
		return r;
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = 0;
	return ERR_OK;
}

enum err
bytes_put_str(struct bytes *b, const char *s)
{
	return bytes_put(b, s, strlen(s));
}

enum err
bytes_put_u8(struct bytes *b, uint8_t v)
{
	return bytes_put(b, &v, 1);
}

enum err
bytes_put_be32(struct bytes *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};
	return bytes_put(b, x, sizeof(x));
}

enum err
bytes_put_be64(struct bytes *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (56 - 8 * i));
	return bytes_put(b, x, sizeof(x));
}

enum err
bytes_vprintf(struct bytes *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	enum err r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return ERR_INVALID;
	if ((r = bytes_reserve(b, (size_t)n)) != ERR_OK)
		return r;
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return ERR_OK;
}

enum err
bytes_printf(struct bytes *b, const char *fmt, ...)
{
	va_list ap;
	enum err r;

	va_start(ap, fmt);
	r = bytes_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
bytes_clear(struct bytes *b)
{
	if (b->p != NULL) {
		mem_wipe(b->p, b->cap);
		b->p[0] = 0;
	}
	b->len = 0;
}

void
bytes_release(struct bytes *b)
{
	if (b == NULL)
		return;
	if (b->p != NULL) {
		mem_wipe(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

uint8_t *
bytes_take(struct bytes *b, size_t *len_out)
{
	uint8_t *p = b->p;

	if (len_out != NULL)
		*len_out = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

enum err
size_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return ERR_TOO_BIG;
	*out = a + b;
	return ERR_OK;
}

enum err
size_mul(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return ERR_TOO_BIG;
	*out = a * b;
	return ERR_OK;
}

enum err
size_to_int(size_t a, int *out)
{
	if (a > (size_t)2147483647)
		return ERR_TOO_BIG;
	*out = (int)a;
	return ERR_OK;
}

void
hex_encode(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum err
hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
	size_t n = strlen(hex);

	if (n != 2 * out_len)
		return ERR_INVALID;
	for (size_t i = 0; i < out_len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return ERR_OK;
}
