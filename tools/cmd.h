/*
 * tools/cmd.h - the subcommands of the kura binary (one file per family).
 *
 * Each command gets its own argv (argv[0] is the command name) and the
 * global context. It returns the process exit status: 0 success, 1 a
 * negative answer (rejected, verification failed), 2 cannot run (usage,
 * I/O, missing vault).
 */
#ifndef TOOLS_CMD_H
#define TOOLS_CMD_H

struct kura_ctx {
	/* -d DIR, else $KURA_VAULT, else "./vault"; never NULL. */
	const char *vault_dir;
	/* true when -d was given explicitly before the command. */
	int vault_dir_explicit;
};

typedef int (*kura_cmd_fn)(struct kura_ctx *ctx, int argc, char **argv);

int cmd_init(struct kura_ctx *ctx, int argc, char **argv);
int cmd_staff(struct kura_ctx *ctx, int argc, char **argv);
int cmd_check(struct kura_ctx *ctx, int argc, char **argv);
int cmd_audit(struct kura_ctx *ctx, int argc, char **argv);
int cmd_serve(struct kura_ctx *ctx, int argc, char **argv);
int cmd_hostkey(struct kura_ctx *ctx, int argc, char **argv);
int cmd_account(struct kura_ctx *ctx, int argc, char **argv);
int cmd_case(struct kura_ctx *ctx, int argc, char **argv);
int cmd_cert(struct kura_ctx *ctx, int argc, char **argv);
int cmd_retention(struct kura_ctx *ctx, int argc, char **argv);
int cmd_demo(struct kura_ctx *ctx, int argc, char **argv);

/* kura audit scrub | bundle (tools/cmd_audit_case.c, cases engineer). */
int cmd_audit_scrub(struct kura_ctx *ctx, int argc, char **argv);
int cmd_audit_bundle(struct kura_ctx *ctx, int argc, char **argv);

/* Shared helpers for commands (tools/cmd_util.c). */
/* True when argv[i] is -h or --help anywhere in argv. */
int cmd_wants_help(int argc, char **argv);
/* Prints "kura: <msg>" to stderr; returns 2 (usage error). */
int cmd_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TOOLS_CMD_H */
