/*
 * tools/kura.c - the kura binary: a table of subcommands (WireGuard's
 * wg.c idea), global options, and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "crypto/crypto.h"
#include "tools/cmd.h"
#include "common/banned.h"

#ifndef KURA_VERSION
#define KURA_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	kura_cmd_fn fn;
	const char *help;
} commands[] = {
    {"init", cmd_init, "create a new vault (keys, databases, config)"},
    {"staff", cmd_staff, "add, list or remove secretariat staff"},
    {"check", cmd_check, "validate a submission ZIP offline"},
    {"serve", cmd_serve, "run the SFTP intake server"},
    {"hostkey", cmd_hostkey, "print the SSH host key fingerprint"},
    {"account", cmd_account, "manage applicant accounts"},
    {"case", cmd_case, "list, export, decide, return cases"},
    {"retention", cmd_retention, "list or apply what retention rules make due"},
    {"audit", cmd_audit, "the audit log: events, checkpoints, proofs, verify"},
    {"cert", cmd_cert, "verify a deletion certificate"},
    {"demo", cmd_demo, "create a demo vault and applicant, then serve"},
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "kura %s - 蔵: secure document vault with an SFTP intake\n"
	    "usage: kura [-d VAULT] COMMAND [ARGS...]\n"
	    "       kura COMMAND --help\n\n"
	    "  -d VAULT   the vault folder (default: $KURA_VAULT, else "
	    "./vault)\n"
	    "  --version  print the version\n\n"
	    "commands:\n",
	    KURA_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int
main(int argc, char **argv)
{
	struct kura_ctx ctx = {0};
	const char *env = getenv("KURA_VAULT");
	int i = 1;

	ctx.vault_dir = env != NULL && *env != 0 ? env : "./vault";
	if (cry_init() != ERR_OK) {
		fprintf(stderr, "kura: libsodium failed to initialise\n");
		return 2;
	}
	if (getenv("KURA_DEBUG") != NULL)
		log_set_level(LOG_LEVEL_DEBUG);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			ctx.vault_dir = argv[i + 1];
			ctx.vault_dir_explicit = 1;
			i += 2;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("kura %s\n", KURA_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 ||
		           strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "kura: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].fn(&ctx, argc - i, argv + i);
	fprintf(stderr, "kura: unknown command '%s' (see kura --help)\n",
	    argv[i]);
	return 2;
}
