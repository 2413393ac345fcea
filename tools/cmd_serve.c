/* tools/cmd_serve.c - placeholder until its module lands. */
#include <stdio.h>

#include "tools/cmd.h"
#include "common/banned.h"

int
cmd_serve(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}

int
cmd_hostkey(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}

int
cmd_account(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}

int
cmd_demo(struct kura_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	fprintf(stderr, "kura: '%s' is not available in this build yet\n",
	    argv[0]);
	return 2;
}
