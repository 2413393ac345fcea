/*
 * common/bytes.h - borrowed views (struct span) and owned, capped,
 * growable buffers (struct bytes).
 *
 * A struct bytes has a mandatory maximum size: appending past it returns
 * ERR_TOO_BIG and leaves the buffer exactly as it was. Growth allocates a
 * new block, copies, wipes and frees the old one (never realloc), so
 * secrets held in a buffer never linger in freed memory. p is always
 * NUL-terminated after a successful append (not counted in len), so text
 * can be used as a C string.
 */
#ifndef COMMON_BYTES_H
#define COMMON_BYTES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct span {
	const uint8_t *p;
	size_t len;
};

struct bytes {
	uint8_t *p;
	size_t len, cap, max;
};

/* A span over a NUL-terminated string (without the NUL). */
struct span span_str(const char *s);
static inline struct span
span_of(const void *p, size_t len)
{
	struct span s = {(const uint8_t *)p, len};
	return s;
}
bool span_eq_str(struct span s, const char *str); /* not constant time */

void bytes_init(struct bytes *b, size_t max);
MUST_CHECK enum err bytes_reserve(struct bytes *b, size_t extra);
MUST_CHECK enum err bytes_put(struct bytes *b, const void *p, size_t len);
MUST_CHECK enum err bytes_put_str(struct bytes *b, const char *s);
MUST_CHECK enum err bytes_put_u8(struct bytes *b, uint8_t v);
MUST_CHECK enum err bytes_put_be32(struct bytes *b, uint32_t v);
MUST_CHECK enum err bytes_put_be64(struct bytes *b, uint64_t v);
MUST_CHECK enum err bytes_printf(struct bytes *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
MUST_CHECK enum err bytes_vprintf(struct bytes *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Empties the buffer (wiping the old contents), keeps the allocation. */
void bytes_clear(struct bytes *b);
/* Wipes and frees the contents; b may be reused after bytes_init(). */
void bytes_release(struct bytes *b);
/* Hands the memory to the caller (free() it); b becomes empty. */
uint8_t *bytes_take(struct bytes *b, size_t *len_out);
static inline struct span
bytes_span(const struct bytes *b)
{
	return span_of(b->p, b->len);
}

/* Checked arithmetic: ERR_TOO_BIG on overflow, *out untouched then. */
MUST_CHECK enum err size_add(size_t a, size_t b, size_t *out);
MUST_CHECK enum err size_mul(size_t a, size_t b, size_t *out);
MUST_CHECK enum err size_to_int(size_t a, int *out);

/* Wipes memory in a way the compiler cannot remove. */
void mem_wipe(void *p, size_t len);

/* Lower-case hex of p into out (2*len+1 bytes, NUL-terminated). */
void hex_encode(const uint8_t *p, size_t len, char *out);
/* Strict hex decode; ERR_INVALID on odd length or non-hex characters. */
MUST_CHECK enum err hex_decode(const char *hex, uint8_t *out, size_t out_len);

#endif /* COMMON_BYTES_H */
