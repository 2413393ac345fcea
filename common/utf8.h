/*
 * common/utf8.h - strict UTF-8 checks (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF).
 */
#ifndef COMMON_UTF8_H
#define COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
size_t utf8_valid_prefix(const uint8_t *p, size_t len);
bool utf8_valid(const uint8_t *p, size_t len);
/* Decodes one code point; returns its length or 0 if invalid. */
size_t utf8_decode(const uint8_t *p, size_t len, uint32_t *cp);
/* Encodes cp into out (4 bytes); returns the length or 0 if invalid. */
size_t utf8_encode(uint32_t cp, uint8_t out[static 4]);

#endif /* COMMON_UTF8_H */
