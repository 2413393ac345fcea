/*
 * tests/helpers/mkcase.c - test helper: stores files as one new case
 * through the vault API (what the SFTP intake does after validation),
 * so the case-life tests do not depend on a running server.
 *
 *   mkcase VAULT [--case ID] [--submission S] ROLE:NUMBER:NAME=FILE...
 *
 * Prints the new case id (or ID: --case adds a submission to a case). Needs no
 * secret (the vault seals to the epoch public key).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "vault/vault.h"
#include "common/banned.h"

static int
store(struct vault *v, const char *case_id, const char *spec,
    const char *submission)
{
	char buf[1024], *role, *number, *name, *file, *p;
	struct vault_put *put = NULL;
	struct vault_doc_meta meta;
	char doc_id[VAULT_ID_MAX];
	uint8_t chunk[65536];
	uint64_t off = 0;
	ssize_t n;
	int fd;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return 2;
	role = buf;
	if ((p = strchr(role, ':')) == NULL)
		return 2;
	*p = 0;
	number = p + 1;
	if ((p = strchr(number, ':')) == NULL)
		return 2;
	*p = 0;
	name = p + 1;
	if ((p = strrchr(name, '=')) == NULL)
		return 2;
	*p = 0;
	file = p + 1;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		perror(file);
		return 2;
	}
	if (vault_put_begin(v, 0, &put) != ERR_OK) {
		close(fd);
		return 2;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (vault_put_write(put, off, span_of(chunk, (size_t)n)) !=
		    ERR_OK) {
			close(fd);
			vault_put_abort(put);
			return 2;
		}
		off += (uint64_t)n;
	}
	close(fd);
	memset(&meta, 0, sizeof(meta));
	meta.actor = "intake-test";
	meta.number = *number != 0 ? number : NULL;
	meta.name = name;
	meta.role = role;
	meta.format = strrchr(name, '.') != NULL ? strrchr(name, '.') + 1 : "";
	meta.submission = submission;
	if (vault_put_commit(put, case_id, &meta, doc_id) != ERR_OK)
		return 2;
	return 0;
}

int
main(int argc, char **argv)
{
	struct vault *v = NULL;
	char id[VAULT_ID_MAX];
	const char *submission = NULL, *existing = NULL;
	int i = 2, rc = 2;

	if (argc < 3 || cry_init() != ERR_OK) {
		fprintf(stderr, "usage: mkcase VAULT [--submission S] "
		                "ROLE:NUMBER:NAME=FILE...\n");
		return 2;
	}
	if (strcmp(argv[i], "--case") == 0 && argc > i + 2) {
		existing = argv[i + 1];
		i += 2;
	}
	if (strcmp(argv[i], "--submission") == 0 && argc > i + 2) {
		submission = argv[i + 1];
		i += 2;
	}
	if (vault_open(argv[1], 0, &v) != ERR_OK) {
		fprintf(stderr, "mkcase: cannot open %s\n", argv[1]);
		return 2;
	}
	if (vault_begin(v) != ERR_OK)
		goto out;
	if (existing != NULL)
		(void)snprintf(id, sizeof(id), "%s", existing);
	else if (vault_case_create(v, "intake-test", id) != ERR_OK) {
		vault_rollback(v);
		goto out;
	}
	for (; i < argc; i++)
		if (store(v, id, argv[i], submission) != 0) {
			fprintf(stderr, "mkcase: %s failed\n", argv[i]);
			vault_rollback(v);
			goto out;
		}
	if (vault_commit(v) != ERR_OK)
		goto out;
	printf("%s\n", id);
	rc = 0;
out:
	vault_close(v);
	return rc;
}
