#include <stdio.h>
#include <stdlib.h>

#include "common/banned.h"
#include "common/err.h"

static const char *const messages[ERR__COUNT] = {
    [ERR_OK] = "success",
    [ERR_NOMEM] = "out of memory",
    [ERR_INVALID] = "invalid argument",
    [ERR_TOO_BIG] = "over a size limit",
    [ERR_IO] = "input/output error",
    [ERR_NOT_FOUND] = "not found",
    [ERR_EXISTS] = "already exists",
    [ERR_PERM] = "permission denied",
    [ERR_REJECTED] = "rejected by policy",
    [ERR_CORRUPT] = "data corrupt or tampered with",
    [ERR_BAD_SIGNATURE] = "bad signature",
    [ERR_DB] = "database error",
    [ERR_CRYPTO] = "cryptographic failure",
    [ERR_PROTOCOL] = "protocol error",
    [ERR_CONFIG] = "configuration error",
    [ERR_INTERNAL] = "internal error",
    [ERR_AUTH] = "authentication failed",
};

const char *
err_str(enum err r)
{
	if ((unsigned)r >= ERR__COUNT || messages[r] == NULL)
		return "unknown error";
	return messages[r];
}

void
err_invariant_failed(const char *what, const char *file, int line)
{
	fprintf(stderr, "kura: invariant failed: %s (%s:%d)\n", what, file,
	    line);
	abort();
}
