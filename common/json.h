/*
 * common/json.h - a small streaming JSON writer into a struct bytes.
 *
 * Strings are escaped per RFC 8259; bytes that are not valid UTF-8 are
 * written as U+FFFD, so the output is always valid JSON. Errors are sticky:
 * check json_finish() once at the end.
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "common/bytes.h"

#define JSON_MAX_DEPTH 32

struct json {
	struct bytes *out;
	enum err r;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j, struct bytes *out);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t len);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Inserts already-serialised JSON (trusted, produced by us). */
void json_raw(struct json *j, const char *raw);
/* Shorthands: key and value. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);
/* ERR_OK when everything was written and all containers were closed. */
MUST_CHECK enum err json_finish(struct json *j);

#endif /* COMMON_JSON_H */
