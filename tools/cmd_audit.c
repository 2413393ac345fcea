/* tools/cmd_audit.c - placeholder until its module lands. */
#include <stdio.h>

#include "tools/cmd.h"
#include "common/banned.h"

int
cmd_audit(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}
