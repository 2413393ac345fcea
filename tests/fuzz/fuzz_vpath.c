/*
 * tests/fuzz/fuzz_vpath.c - libFuzzer target for the one resolver of client
 * paths (intake_vpath_resolve), checking its promises on every input:
 *   - a resolved path is canonical: "/" or "/a/b" with no empty, "." or
 *     ".." component, and resolving it again gives the same node;
 *   - ".." never climbs above "/": "../" + p and "/x/../" + p resolve as p;
 *   - names and 認定番号 are single components of valid UTF-8 without
 *     control characters, '/' or '\\', and fit their buffers;
 *   - the kind agrees with the canonical path's first component.
 * Any broken promise aborts (a crash libFuzzer reports with the input).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "intake/intake.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NEED(c)                                                                \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "broken: %s\n", #c);                   \
			abort();                                               \
		}                                                              \
	} while (0)

static void
same(const struct intake_vpath *a, const struct intake_vpath *b)
{
	NEED(a->kind == b->kind);
	NEED(a->folder == b->folder);
	NEED(strcmp(a->cert, b->cert) == 0);
	NEED(strcmp(a->name, b->name) == 0);
	NEED(strcmp(a->canon, b->canon) == 0);
}

static void
component_checks(const char *s)
{
	size_t n = strlen(s);

	NEED(n <= INTAKE_VNAME_MAX);
	NEED(utf8_valid((const uint8_t *)s, n));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		NEED(c >= 0x20 && c != 0x7f && c != '/' && c != '\\');
	}
	NEED(strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
}

static void
canon_checks(const struct intake_vpath *v)
{
	const char *c = v->canon;
	size_t n = strlen(c);

	NEED(c[0] == '/');
	NEED(n == 1 || c[n - 1] != '/');
	NEED(strstr(c, "//") == NULL);
	NEED(strstr(c, "/./") == NULL && strstr(c, "/../") == NULL);
	NEED(!(n >= 2 && strcmp(c + n - 2, "/.") == 0));
	NEED(!(n >= 3 && strcmp(c + n - 3, "/..") == 0));
	switch (v->kind) {
	case INTAKE_VN_ROOT:
		NEED(strcmp(c, "/") == 0);
		break;
	case INTAKE_VN_README:
		NEED(strcmp(c, "/README.txt") == 0);
		break;
	case INTAKE_VN_RESULTS:
		NEED(strcmp(c, "/results") == 0);
		break;
	case INTAKE_VN_RESULT:
		NEED(strncmp(c, "/results/", 9) == 0);
		NEED(v->name[0] != 0 && strcmp(c + 9, v->name) == 0);
		component_checks(v->name);
		break;
	case INTAKE_VN_UPFILE:
		NEED(v->name[0] != 0);
		component_checks(v->name);
		NEED(n > strlen(v->name) &&
		     strcmp(c + n - strlen(v->name), v->name) == 0);
		/* fall through: an upload is inside an upload folder */
	case INTAKE_VN_UPDIR:
	case INTAKE_VN_KINDDIR: {
		const char *f = intake_folder_name(v->folder);
		size_t k = strlen(f);
		NEED(strncmp(c + 1, f, k) == 0 &&
		     (c[1 + k] == 0 || c[1 + k] == '/'));
		if (v->folder == INTAKE_FOLDER_NEW)
			NEED(v->cert[0] == 0);
		else if (v->kind != INTAKE_VN_KINDDIR) {
			NEED(v->cert[0] != 0 && strlen(v->cert) <= INTAKE_CERT_MAX);
			component_checks(v->cert);
		}
		break;
	}
	case INTAKE_VN_NONE:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intake_vpath a, b, c;
	char *in, *pre;
	enum err r;

	if (size > 2 * INTAKE_VPATH_MAX)
		return 0;
	/* SFTP strings reach the resolver as C strings. */
	if ((in = calloc(1, size + 1)) == NULL ||
	    (pre = calloc(1, size + 8)) == NULL)
		abort();
	memcpy(in, data, size);
	r = intake_vpath_resolve(in, &a);
	if (r == ERR_OK) {
		canon_checks(&a);
		NEED(intake_vpath_resolve(a.canon, &b) == ERR_OK);
		same(&a, &b);
		/* ".." at the root stays at the root. */
		snprintf(pre, size + 8, "../%s", in);
		if (strlen(pre) <= INTAKE_VPATH_MAX) {
			NEED(intake_vpath_resolve(pre, &c) == ERR_OK);
			same(&a, &c);
		}
		snprintf(pre, size + 8, "/x/../%s", in);
		if (strlen(pre) <= INTAKE_VPATH_MAX) {
			NEED(intake_vpath_resolve(pre, &c) == ERR_OK);
			same(&a, &c);
		}
	} else {
		NEED(r == ERR_INVALID);
		NEED(a.kind == INTAKE_VN_NONE);
	}
	free(in);
	free(pre);
	return 0;
}
