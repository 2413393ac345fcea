#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/utf8.h"
#include "common/banned.h"

void
json_init(struct json *j, struct bytes *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->r = ERR_OK;
}

static void
put(struct json *j, const char *s, size_t n)
{
	if (j->r == ERR_OK)
		j->r = bytes_put(j->out, s, n);
}

static void
before_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->need_comma[j->depth - 1])
			put(j, ",", 1);
		j->need_comma[j->depth - 1] = true;
	}
}

static void
open_c(struct json *j, const char *c)
{
	before_value(j);
	if (j->depth >= JSON_MAX_DEPTH) {
		j->r = ERR_TOO_BIG;
		return;
	}
	put(j, c, 1);
	j->need_comma[j->depth++] = false;
}

static void
close_c(struct json *j, const char *c)
{
	if (j->depth <= 0) {
		j->r = ERR_INVALID;
		return;
	}
	j->depth--;
	put(j, c, 1);
}

void
json_obj_begin(struct json *j)
{
	open_c(j, "{");
}

void
json_obj_end(struct json *j)
{
	close_c(j, "}");
}

void
json_arr_begin(struct json *j)
{
	open_c(j, "[");
}

void
json_arr_end(struct json *j)
{
	close_c(j, "]");
}

static void
put_string(struct json *j, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	char esc[8];

	put(j, "\"", 1);
	while (i < len) {
		uint8_t c = p[i];
		size_t n;
		if (c < 0x80) {
			switch (c) {
			case '"':
				put(j, "\\\"", 2);
				break;
			case '\\':
				put(j, "\\\\", 2);
				break;
			case '\n':
				put(j, "\\n", 2);
				break;
			case '\r':
				put(j, "\\r", 2);
				break;
			case '\t':
				put(j, "\\t", 2);
				break;
			default:
				if (c < 0x20 || c == 0x7f) {
					snprintf(esc, sizeof(esc), "\\u%04x",
					    c);
					put(j, esc, 6);
				} else {
					put(j, (const char *)&p[i], 1);
				}
			}
			i++;
			continue;
		}
		n = utf8_valid_prefix(p + i, len - i);
		if (n == 0) {
			put(j, "\xef\xbf\xbd", 3);
			i++;
		} else {
			put(j, (const char *)p + i, n);
			i += n;
		}
	}
	put(j, "\"", 1);
}

void
json_key(struct json *j, const char *key)
{
	before_value(j);
	put_string(j, key, strlen(key));
	put(j, ":", 1);
	j->after_key = true;
}

void
json_strn(struct json *j, const char *s, size_t len)
{
	before_value(j);
	put_string(j, s, len);
}

void
json_str(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void
json_int(struct json *j, int64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	before_value(j);
	put(j, buf, (size_t)n);
}

void
json_uint(struct json *j, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	before_value(j);
	put(j, buf, (size_t)n);
}

void
json_bool(struct json *j, bool v)
{
	before_value(j);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void
json_null(struct json *j)
{
	before_value(j);
	put(j, "null", 4);
}

void
json_raw(struct json *j, const char *raw)
{
	before_value(j);
	put(j, raw, strlen(raw));
}

void
json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void
json_kv_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void
json_kv_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

void
json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

enum err
json_finish(struct json *j)
{
	if (j->r == ERR_OK && (j->depth != 0 || j->after_key))
		return ERR_INVALID;
	return j->r;
}
