/* tools/cmd_case.c - placeholder until its module lands. */
#include <stdio.h>

#include "tools/cmd.h"
#include "common/banned.h"

int
cmd_case(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}

int
cmd_cert(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}

int
cmd_retention(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}
