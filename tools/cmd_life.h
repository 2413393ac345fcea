/*
 * tools/cmd_life.h - helpers shared by the case-life commands
 * (tools/cmd_case.c, tools/cmd_audit_case.c). Internal to tools/.
 */
#ifndef TOOLS_CMD_LIFE_H
#define TOOLS_CMD_LIFE_H

#include <stdbool.h>

#include "vault/vault.h"
#include "tools/cmd.h"

/* --name VALUE anywhere after argv[0]; NULL if absent. */
const char *life_opt(int argc, char **argv, const char *name);
bool life_flag(int argc, char **argv, const char *name);
/* The n-th (1-based) positional argument, options skipped. */
const char *life_pos(int argc, char **argv, int n);
/* Opens ctx's vault and the lifecycle tables; prints and returns 2. */
int life_open(struct kura_ctx *ctx, struct vault **v);
/* Unlocks a staff member (name NULL: $KURA_STAFF or the only one). */
int life_unlock(struct vault *v, const char *name, const char *pwfile,
    struct vault_staff_session **out);
/* One return with its certificate written to out (and html if set). */
int life_return(struct kura_ctx *ctx, struct vault *v,
    struct vault_staff_session *s, struct vault_staff_session *ap,
    const char *id, const char *reason, const char *out, const char *html);

#endif /* TOOLS_CMD_LIFE_H */
