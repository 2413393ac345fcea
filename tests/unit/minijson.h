/*
 * tests/unit/minijson.h - a tiny JSON reader for test vectors only (trusted
 * input from ../shared/corpus; not for production use).
 */
#ifndef TESTS_UNIT_MINIJSON_H
#define TESTS_UNIT_MINIJSON_H

#include <stdbool.h>
#include <stddef.h>

enum mj_type { MJ_NULL, MJ_BOOL, MJ_NUM, MJ_STR, MJ_ARR, MJ_OBJ };

struct mj {
	enum mj_type type;
	bool b;
	double num;
	unsigned long long u; /* MJ_NUM: exact value when isu */
	bool isu;
	char *str;   /* MJ_STR: NUL-terminated (may hold NULs: len) */
	size_t len;  /* MJ_STR bytes; MJ_ARR/MJ_OBJ items */
	char **keys; /* MJ_OBJ */
	struct mj **items;
};

/* Parses text; NULL on a syntax error. */
struct mj *mj_parse(const char *text, size_t len);
/* Reads and parses a file; NULL on failure. */
struct mj *mj_parse_file(const char *path);
void mj_free(struct mj *v);
/* Object member or NULL. */
const struct mj *mj_get(const struct mj *obj, const char *key);

#endif
