/*
 * intake/vpath.c - the one canonical resolver of client paths.
 *
 * SFTPGo's CVE-2026-30914 was two path normalisers that disagreed; here
 * every SFTP operation goes through intake_vpath_resolve(), which works on
 * components (never string prefixes) and maps them onto a fixed tree. The
 * result is never a host path.
 */
#include <string.h>

#include "common/utf8.h"
#include "intake/intake.h"
#include "common/banned.h"

#define VPATH_MAX_DEPTH 8

static const char *const folder_names[] = {"new", "renewal", "change",
    "termination"};

const char *
intake_folder_name(enum intake_folder f)
{
	if ((unsigned)f >= sizeof(folder_names) / sizeof(folder_names[0]))
		return "new";
	return folder_names[f];
}

bool
intake_name_is_temporary(const char *name)
{
	static const char *const suffixes[] = {".filepart", ".part", ".partial",
	    ".tmp", ".crdownload"};
	size_t n = strlen(name);

	/* Hidden names (".foo", lftp's and rsync's temporaries) too. */
	if (n > 0 && name[0] == '.')
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t k = strlen(suffixes[i]);
		if (n > k && strcasecmp(name + n - k, suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* A component we are willing to look at (not "", ".", ".."). */
static bool
component_ok(const char *p, size_t len)
{
	if (len == 0 || len > INTAKE_VNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		/* Control characters and '\\': Windows separators never pass.
		 */
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
	}
	return utf8_valid((const uint8_t *)p, len);
}

enum err
intake_vpath_resolve(const char *in, struct intake_vpath *out)
{
	struct {
		const char *p;
		size_t len;
	} comp[VPATH_MAX_DEPTH];
	size_t depth = 0, inlen, pos = 0;

	memset(out, 0, sizeof(*out));
	out->kind = INTAKE_VN_NONE;
	if (in == NULL)
		return ERR_INVALID;
	inlen = strlen(in);
	if (inlen > INTAKE_VPATH_MAX)
		return ERR_INVALID;
	while (pos < inlen) {
		size_t start = pos, len;

		while (pos < inlen && in[pos] != '/')
			pos++;
		len = pos - start;
		if (pos < inlen)
			pos++; /* the '/' */
		if (len == 0 || (len == 1 && in[start] == '.'))
			continue;
		if (len == 2 && in[start] == '.' && in[start + 1] == '.') {
			if (depth > 0)
				depth--;
			continue;
		}
		if (!component_ok(in + start, len))
			return ERR_INVALID;
		if (depth == VPATH_MAX_DEPTH)
			return ERR_INVALID;
		comp[depth].p = in + start;
		comp[depth].len = len;
		depth++;
	}

	/* The canonical path: "/" then the components joined by '/'. */
	{
		size_t o = 0;
		out->canon[o++] = '/';
		for (size_t i = 0; i < depth; i++) {
			if (o + comp[i].len + 1 > INTAKE_VPATH_MAX)
				return ERR_INVALID;
			if (i > 0)
				out->canon[o++] = '/';
			memcpy(out->canon + o, comp[i].p, comp[i].len);
			o += comp[i].len;
		}
		out->canon[o] = 0;
	}

#define IS(i, s)                                                               \
	(comp[i].len == strlen(s) && memcmp(comp[i].p, s, comp[i].len) == 0)
	if (depth == 0) {
		out->kind = INTAKE_VN_ROOT;
		return ERR_OK;
	}
	if (depth == 1 && IS(0, "README.txt")) {
		out->kind = INTAKE_VN_README;
		return ERR_OK;
	}
	if (IS(0, "results")) {
		if (depth == 1)
			out->kind = INTAKE_VN_RESULTS;
		else if (depth == 2) {
			out->kind = INTAKE_VN_RESULT;
			memcpy(out->name, comp[1].p, comp[1].len);
		}
		return ERR_OK;
	}
	if (IS(0, "new")) {
		out->folder = INTAKE_FOLDER_NEW;
		if (depth == 1)
			out->kind = INTAKE_VN_UPDIR;
		else if (depth == 2) {
			out->kind = INTAKE_VN_UPFILE;
			memcpy(out->name, comp[1].p, comp[1].len);
		}
		return ERR_OK;
	}
	for (int f = INTAKE_FOLDER_RENEWAL; f <= INTAKE_FOLDER_TERMINATION;
	     f++) {
		if (!IS(0, folder_names[f]))
			continue;
		out->folder = (enum intake_folder)f;
		if (depth == 1) {
			out->kind = INTAKE_VN_KINDDIR;
			return ERR_OK;
		}
		if (comp[1].len > INTAKE_CERT_MAX)
			return ERR_OK; /* no such 認定番号 */
		memcpy(out->cert, comp[1].p, comp[1].len);
		if (depth == 2)
			out->kind = INTAKE_VN_UPDIR;
		else if (depth == 3) {
			out->kind = INTAKE_VN_UPFILE;
			memcpy(out->name, comp[2].p, comp[2].len);
		}
		return ERR_OK;
	}
#undef IS
	return ERR_OK;
}
