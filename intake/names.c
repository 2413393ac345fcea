/*
 * intake/names.c - entry names: encoding (UTF-8, CP932), Unicode
 * normalisation (utf8proc) and the characters Windows or a reviewer's
 * screen cannot take safely.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "common/utf8.h"
#include "intake/check_int.h"
#include "common/banned.h"

static char *
map(const char *s, utf8proc_option_t opt)
{
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t n;

	n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
	    (utf8proc_option_t)(opt | UTF8PROC_NULLTERM | UTF8PROC_STABLE));
	if (n < 0) {
		free(out);
		return NULL;
	}
	return (char *)out;
}

char *
name_nfc(const char *s)
{
	return map(s, UTF8PROC_COMPOSE);
}

char *
name_nfkc(const char *s)
{
	return map(s, (utf8proc_option_t)(UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
}

char *
name_casefold(const char *s)
{
	return map(s,
	    (utf8proc_option_t)(UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD));
}

char *
name_fold(const char *s)
{
	return map(s, (utf8proc_option_t)(UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
	                                  UTF8PROC_CASEFOLD));
}

/*
 * R4: Japanese Windows writes CP932 names without the UTF-8 flag.
 * CP932 through glibc's iconv: it maps 0x5C to U+005C and decodes a 0x5C
 * trail byte (表 = 95 5C) as part of its character, which is why names
 * are split into path components only after decoding.
 */
static enum err
cp932_to_utf8(const uint8_t *raw, size_t len, char **out)
{
	iconv_t cd;
	char *in = (char *)(uintptr_t)raw, *o, *buf;
	size_t inleft = len, outleft = len * 3 + 1, cap = len * 3 + 1;
	enum err r = ERR_CORRUPT;

	*out = NULL;
	if ((buf = malloc(cap + 1)) == NULL)
		return ERR_NOMEM;
	if ((cd = iconv_open("UTF-8", "CP932")) == (iconv_t)-1) {
		free(buf);
		return ERR_INTERNAL;
	}
	o = buf;
	if (iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1 &&
	    inleft == 0) {
		*o = 0;
		*out = buf;
		buf = NULL;
		r = ERR_OK;
	}
	iconv_close(cd);
	free(buf);
	return r;
}

enum err
name_decode(const uint8_t *raw, size_t len, bool flag_utf8, const char *upath,
    size_t upath_len, char **out)
{
	enum err r = ERR_INTERNAL;
	char *tmp = NULL;

	*out = NULL;
	if (memchr(raw, 0, len) != NULL) {
		/*
		 * NUL inside a name (truncates it in C): decode a copy with
		 * U+0001 instead, so the name is reported as having an
		 * invalid character rather than silently shortened.
		 */
		uint8_t *cp = malloc(len + 1);

		if (cp == NULL)
			return ERR_NOMEM;
		for (size_t i = 0; i < len; i++)
			cp[i] = raw[i] == 0 ? 1 : raw[i];
		r = name_decode(cp, len, flag_utf8, upath, upath_len, out);
		free(cp);
		return r;
	}
	if (upath != NULL) {
		if (!utf8_valid((const uint8_t *)upath, upath_len) ||
		    memchr(upath, 0, upath_len) != NULL)
			return ERR_CORRUPT;
		if ((tmp = strndup(upath, upath_len)) == NULL)
			return ERR_NOMEM;
	} else if (flag_utf8 || utf8_valid(raw, len)) {
		if (!utf8_valid(raw, len))
			return ERR_CORRUPT;
		if ((tmp = strndup((const char *)raw, len)) == NULL)
			return ERR_NOMEM;
	} else if ((r = cp932_to_utf8(raw, len, &tmp)) != ERR_OK) {
		return r;
	}
	*out = name_nfc(tmp);
	free(tmp);
	return *out == NULL ? ERR_CORRUPT : ERR_OK;
}

static bool
is_bidi_control(uint32_t c)
{
	return c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

static bool
is_reserved_device(const char *s)
{
	static const char *const dev[] = {"CON", "PRN", "AUX", "NUL"};
	size_t stem = strcspn(s, ".");

	while (stem > 0 && s[stem - 1] == ' ')
		stem--;
	for (size_t i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
		if (stem == 3 && strncasecmp(s, dev[i], 3) == 0)
			return true;
	if ((strncasecmp(s, "COM", 3) == 0 || strncasecmp(s, "LPT", 3) == 0)) {
		/* COM0-9, LPT0-9 and the superscript digits ¹ ² ³. */
		if (stem == 4 && s[3] >= '0' && s[3] <= '9')
			return true;
		if (stem == 5 && (uint8_t)s[3] == 0xc2 &&
		    ((uint8_t)s[4] == 0xb9 || (uint8_t)s[4] == 0xb2 ||
		        (uint8_t)s[4] == 0xb3))
			return true;
	}
	return false;
}

const char *
name_bad_reason(const char *s, char *what, size_t whatsz)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len = strlen(s), i = 0;

	if (whatsz > 0)
		what[0] = 0;
	if (len == 0)
		return "empty name";
	while (i < len) {
		uint32_t c;
		size_t n = utf8_decode(p + i, len - i, &c);

		if (n == 0)
			return "invalid UTF-8";
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
			snprintf(what, whatsz, "U+%04X", (unsigned)c);
			return c == 1 ? "NUL or control character"
			              : "control character";
		}
		if (is_bidi_control(c)) {
			snprintf(what, whatsz, "U+%04X", (unsigned)c);
			return "bidirectional control character";
		}
		if (c < 0x80 && strchr("<>:\"/\\|?*", (int)c) != NULL) {
			snprintf(what, whatsz, "%c", (char)c);
			return "character Windows forbids";
		}
		i += n;
	}
	if (s[len - 1] == '.' || s[len - 1] == ' ')
		return "name ends with a dot or a space";
	if (is_reserved_device(s))
		return "reserved device name";
	return NULL;
}

bool
name_is_os_metadata(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t first = strcspn(path, "/");

	if (first == 8 && strncmp(path, "__MACOSX", 8) == 0)
		return true;
	base = base == NULL ? path : base + 1;
	if (*base == 0)
		return false; /* a directory entry */
	if (strncmp(base, "._", 2) == 0)
		return true;
	return strcasecmp(base, ".DS_Store") == 0 ||
	       strcasecmp(base, "Thumbs.db") == 0 ||
	       strcasecmp(base, "desktop.ini") == 0;
}
