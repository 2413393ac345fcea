/* tools/cmd_vault.c - placeholder until its module lands. */
#include <stdio.h>

#include "tools/cmd.h"
#include "common/banned.h"

int
cmd_init(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}

int
cmd_staff(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}
