#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/log.h"
#include "common/banned.h"

enum err
fsx_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		c += n;
		len -= (size_t)n;
	}
	return ERR_OK;
}

enum err
fsx_pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
	const uint8_t *c = p;

	while (len > 0) {
		ssize_t n = pwrite(fd, c, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		c += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return ERR_OK;
}

enum err
fsx_pread_exact(int fd, void *p, size_t len, uint64_t off)
{
	uint8_t *c = p;

	while (len > 0) {
		ssize_t n = pread(fd, c, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		if (n == 0)
			return ERR_CORRUPT;
		c += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return ERR_OK;
}

enum err
fsx_join(char *out, size_t outsz, const char *dir, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outsz)
		return ERR_TOO_BIG;
	return ERR_OK;
}

enum err
fsx_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum err r = ERR_OK;

	if (fd < 0)
		return ERR_IO;
	if (fsync(fd) != 0)
		r = ERR_IO;
	close(fd);
	return r;
}

enum err
fsx_write_atomic(const char *path, struct span data, mode_t mode)
{
	char tmp[4096], dir[4096];
	unsigned char rnd[6];
	int fd = -1, n;
	enum err r = ERR_IO;
	FILE *ur;

	if ((ur = fopen("/dev/urandom", "rbe")) == NULL)
		return ERR_IO;
	if (fread(rnd, 1, sizeof(rnd), ur) != sizeof(rnd)) {
		fclose(ur);
		return ERR_IO;
	}
	fclose(ur);
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%02x%02x%02x%02x%02x%02x", path,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ERR_TOO_BIG;
	n = snprintf(dir, sizeof(dir), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return ERR_TOO_BIG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0) {
		log_err("open %s: %s", tmp, strerror(errno));
		return ERR_IO;
	}
	if (fchmod(fd, mode) != 0)
		goto out;
	if (fsx_write_all(fd, data.p, data.len) != ERR_OK)
		goto out;
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	r = fsx_fsync_dir(dirname(dir));
out:
	if (fd >= 0)
		close(fd);
	if (r != ERR_OK)
		unlink(tmp);
	return r;
}

enum err
fsx_read_file(const char *path, size_t max, struct bytes *out)
{
	struct stat st;
	uint8_t buf[65536];
	int fd;
	enum err r = ERR_IO;

	bytes_init(out, max);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = ERR_INVALID;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		if ((r = bytes_put(out, buf, (size_t)n)) != ERR_OK)
			goto out;
	}
	r = ERR_OK;
out:
	mem_wipe(buf, sizeof(buf));
	close(fd);
	if (r != ERR_OK)
		bytes_release(out);
	return r;
}

enum err
fsx_mkdir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return ERR_OK;
	if (errno != EEXIST)
		return ERR_IO;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return ERR_EXISTS;
	return ERR_OK;
}
