/*
 * common/fsx.h - careful file operations.
 *
 * Every open uses O_CLOEXEC and, where a path might be swapped for a link,
 * O_NOFOLLOW. fsx_write_atomic() is the one way we replace a file: temp
 * file in the same folder, write, fsync, rename, fsync the folder.
 */
#ifndef COMMON_FSX_H
#define COMMON_FSX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/bytes.h"
#include "common/err.h"

/* Writes all of p or fails with ERR_IO (EINTR and short writes retried). */
MUST_CHECK enum err fsx_write_all(int fd, const void *p, size_t len);
MUST_CHECK enum err fsx_pwrite_all(int fd, const void *p, size_t len,
    uint64_t off);
/* Reads exactly len bytes at off; ERR_CORRUPT if the file is shorter. */
MUST_CHECK enum err fsx_pread_exact(int fd, void *p, size_t len, uint64_t off);
/*
 * Atomically replaces path with data, file mode `mode` (e.g. 0600):
 * path.tmp.<random>, fsync, rename, fsync of the folder.
 */
MUST_CHECK enum err fsx_write_atomic(const char *path, struct span data,
    mode_t mode);
/* Reads a whole regular file (not a link) of at most max bytes. */
MUST_CHECK enum err fsx_read_file(const char *path, size_t max,
    struct bytes *out);
/* fsync of the folder that holds path (or of path if it is a folder). */
MUST_CHECK enum err fsx_fsync_dir(const char *dir);
/* mkdir with mode; ERR_OK if it already exists as a folder (not a link). */
MUST_CHECK enum err fsx_mkdir(const char *path, mode_t mode);
/* path joined: dir "/" name into out (outsz); ERR_TOO_BIG if it won't fit. */
MUST_CHECK enum err fsx_join(char *out, size_t outsz, const char *dir,
    const char *name);

#endif /* COMMON_FSX_H */
