/*
 * common/err.h - the one project-wide error enum.
 *
 * Codes are appended, never renumbered (they appear in logs and in tests).
 * err_str() never returns NULL.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#define MUST_CHECK __attribute__((warn_unused_result))

enum err {
	ERR_OK = 0,
	ERR_NOMEM,
	ERR_INVALID, /* bad argument */
	ERR_TOO_BIG, /* over a limit or an overflow */
	ERR_IO,      /* read/write/fsync failed; errno logged */
	ERR_NOT_FOUND,
	ERR_EXISTS,
	ERR_PERM,
	ERR_REJECTED, /* a submission failed policy: a normal outcome */
	ERR_CORRUPT,  /* tag, hash or chain mismatch */
	ERR_BAD_SIGNATURE,
	ERR_DB,
	ERR_CRYPTO,
	ERR_PROTOCOL,
	ERR_CONFIG,
	ERR_INTERNAL,
	ERR_AUTH,  /* wrong passphrase or password */
	ERR__COUNT /* keep last */
};

/* A short English message for r; never NULL, distinct for every code. */
const char *err_str(enum err r);

/* Aborts in every build when x is false: guards memory safety. */
#define INVARIANT(x)                                                           \
	do {                                                                   \
		if (!(x))                                                      \
			err_invariant_failed(#x, __FILE__, __LINE__);          \
	} while (0)

__attribute__((noreturn)) void err_invariant_failed(const char *what,
    const char *file, int line);

#endif /* COMMON_ERR_H */
