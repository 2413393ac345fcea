#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/config.h"
#include "common/fsx.h"
#include "common/log.h"
#include "common/banned.h"

struct config_entry {
	char *key, *value;
};

struct config {
	struct config_entry e[CONFIG_MAX_ENTRIES];
	size_t n;
};

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (
	    end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = 0;
	return s;
}

enum err
config_empty(struct config **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? ERR_OK : ERR_NOMEM;
}

enum err
config_load(const char *path, struct config **out)
{
	struct bytes b;
	struct config *c = NULL;
	enum err r;
	char *line, *next;
	unsigned lineno = 0;

	*out = NULL;
	if ((r = fsx_read_file(path, CONFIG_MAX_BYTES, &b)) != ERR_OK)
		return r;
	if ((r = config_empty(&c)) != ERR_OK)
		goto out;
	r = ERR_CONFIG;
	for (line = b.len ? (char *)b.p : NULL; line != NULL; line = next) {
		char *eq, *k, *v;
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = 0;
		line = trim(line);
		if (*line == 0 || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			log_err("%s:%u: expected key = value", path, lineno);
			goto out;
		}
		*eq = 0;
		k = trim(line);
		v = trim(eq + 1);
		if (*k == 0 || c->n >= CONFIG_MAX_ENTRIES) {
			log_err("%s:%u: bad or too many keys", path, lineno);
			goto out;
		}
		if ((c->e[c->n].key = strdup(k)) == NULL ||
		    (c->e[c->n].value = strdup(v)) == NULL) {
			free(c->e[c->n].key);
			r = ERR_NOMEM;
			goto out;
		}
		c->n++;
	}
	*out = c;
	c = NULL;
	r = ERR_OK;
out:
	config_free(c);
	bytes_release(&b);
	return r;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c);
}

const char *
config_str(const struct config *c, const char *key, const char *dflt)
{
	/* The last assignment wins, as in most config files. */
	for (size_t i = c ? c->n : 0; i > 0; i--)
		if (strcmp(c->e[i - 1].key, key) == 0)
			return c->e[i - 1].value;
	return dflt;
}

enum err
config_u64(const struct config *c, const char *key, uint64_t dflt,
    uint64_t *out)
{
	const char *v = config_str(c, key, NULL);
	char *end;
	unsigned long long x;

	*out = dflt;
	if (v == NULL)
		return ERR_OK;
	if (*v < '0' || *v > '9')
		return ERR_CONFIG;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != 0)
		return ERR_CONFIG;
	*out = x;
	return ERR_OK;
}

bool
config_bool(const struct config *c, const char *key, bool dflt)
{
	const char *v = config_str(c, key, NULL);

	if (v == NULL)
		return dflt;
	return strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	       strcmp(v, "on") == 0 || strcmp(v, "1") == 0;
}
