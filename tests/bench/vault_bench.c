/*
 * tests/bench/vault_bench.c - vault put throughput against plain writes,
 * and the peak RSS of a put and of a range read (issue 2 §4).
 *
 * usage: vault_bench DIR MIB
 * In DIR (a fresh folder on the disk under test), same run, same data:
 *   plain  write MIB MiB of plaintext to DIR/plain.bin, one fsync at the end
 *   put    store the same bytes as one vault document (chunked AEAD,
 *          SHA-256 of plaintext and ciphertext, fsyncs, key sealing, row)
 *   read   open that document and read 16 random 1 MiB ranges, then the
 *          whole document sequentially
 * Each runs in its own child process (fresh pages: data is one 256 KiB
 * piece stamped with its index) so its peak RSS (ru_maxrss) is its
 * own; "idle" is a child that only opens the vault, for reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/fsx.h"
#include "crypto/crypto.h"
#include "vault/vault.h"
#include "common/banned.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define PIECE (256 * 1024) /* an SFTP client's large write */

static char vdir[2048], docid[VAULT_ID_MAX];
static uint64_t total;
static uint8_t *data; /* PIECE bytes of random data */

/* Piece k of the document: the random bytes, stamped with k. */
static const uint8_t *
piece(uint64_t k, uint8_t *buf)
{
	memcpy(buf, data, PIECE);
	memcpy(buf, &k, sizeof(k));
	return buf;
}

static uint8_t
byte_at(uint64_t off)
{
	uint64_t k = off / PIECE, w = off % PIECE;

	return w < sizeof(k) ? ((const uint8_t *)&k)[w] : data[w];
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct cry_secret *
pw(void)
{
	struct cry_secret *p = NULL;

	if (cry_secret_from("bench-pass", 10, &p) != ERR_OK)
		exit(2);
	return p;
}

static int
do_plain(const char *dir)
{
	char path[2200];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/plain.bin", dir);
	uint8_t *buf = malloc(PIECE);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || buf == NULL)
		return 1;
	for (uint64_t off = 0; off < total; off += PIECE)
		if (fsx_write_all(fd, piece(off / PIECE, buf), PIECE) != ERR_OK)
			return 1;
	if (fsync(fd) != 0)
		return 1;
	close(fd);
	(void)unlink(path);
	return 0;
}

static int
do_put(uint64_t size)
{
	struct vault *v = NULL;
	struct vault_put *p = NULL;
	char c[VAULT_ID_MAX];
	struct vault_doc_meta m = {.actor = "bench", .name = "big.bin"};
	char path[2200];
	uint8_t *buf = malloc(PIECE);

	if (buf == NULL || vault_open(vdir, 0, &v) != ERR_OK ||
	    vault_case_create(v, "bench", c) != ERR_OK ||
	    vault_put_begin(v, 0, &p) != ERR_OK)
		return 1;
	for (uint64_t off = 0; off < size; off += PIECE)
		if (vault_put_write(p, off,
		        span_of(piece(off / PIECE, buf), PIECE)) != ERR_OK)
			return 1;
	if (vault_put_commit(p, c, &m, docid) != ERR_OK)
		return 1;
	vault_close(v);
	/* Hand the id to the parent. */
	(void)snprintf(path, sizeof(path), "%s/docid", vdir);
	return fsx_write_atomic(path, span_str(docid), 0600) == ERR_OK ? 0 : 1;
}

/* The crypto writer alone on the same disk: the floor of a put. */
static int
do_writer(const char *dir)
{
	char path[2200];
	struct cry_secret *k = NULL;
	struct cry_doc_writer *w = NULL;
	struct cry_doc_result res;
	uint8_t id[CRY_DOC_ID_LEN] = { 0 };
	uint8_t *buf = malloc(PIECE);
	int fd;

	(void)snprintf(path, sizeof(path), "%s/writer.bin", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || buf == NULL ||
	    cry_secret_random(CRY_KEY_LEN, &k) != ERR_OK ||
	    cry_doc_writer_open(fd, k, id, CRY_DOC_CHUNK, &w) != ERR_OK)
		return 1;
	for (uint64_t off = 0; off < total; off += PIECE)
		if (cry_doc_write(w, off,
			span_of(piece(off / PIECE, buf), PIECE)) != ERR_OK)
			return 1;
	if (cry_doc_writer_finish(w, &res) != ERR_OK || fsync(fd) != 0)
		return 1;
	close(fd);
	(void)unlink(path);
	cry_secret_free(k);
	return 0;
}

static int
do_read(bool whole)
{
	struct vault *v = NULL;
	struct vault_staff_session *s = NULL;
	struct vault_doc *d = NULL;
	struct cry_secret *p = pw();
	uint8_t *buf = malloc(1u << 20);
	size_t got;
	uint64_t x = 88172645463325252ull;

	if (buf == NULL || vault_open(vdir, 0, &v) != ERR_OK ||
	    vault_staff_unlock(v, "admin", p, &s) != ERR_OK ||
	    vault_doc_open(v, s, docid, "bench", &d) != ERR_OK)
		return 1;
	for (int i = 0; i < 16; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t off = x % (total - (1u << 20));
		if (vault_doc_read(d, off, buf, 1u << 20, &got) != ERR_OK ||
		    got != 1u << 20)
			return 1;
		for (size_t j = 0; j < got; j += 4093)
			if (buf[j] != byte_at(off + j))
				return 1;
	}
	if (whole)
		for (uint64_t off = 0; off < total; off += got)
			if (vault_doc_read(d, off, buf, 1u << 20, &got) !=
			        ERR_OK ||
			    got == 0)
				return 1;
	vault_doc_close(d);
	vault_staff_session_free(s);
	vault_close(v);
	cry_secret_free(p);
	free(buf);
	return 0;
}

static int
do_idle(void)
{
	struct vault *v = NULL;

	if (vault_open(vdir, 0, &v) != ERR_OK)
		return 1;
	vault_close(v);
	return 0;
}

/* CPU seconds (user + system, all threads) of the last run() child. */
static double last_cpu;

/* Runs what in a child; returns seconds, *rss_kib its peak RSS. */
static double
run(int what, long *rss_kib)
{
	double t0 = now(), t;
	struct rusage ru;
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		exit(2);
	if (pid == 0) {
		int rc = 1;
		switch (what) {
		case 0:
			rc = do_plain(vdir);
			break;
		case 1:
			rc = do_put(total);
			break;
		case 5:
			rc = do_put(8u << 20);
			break;
		case 6:
			rc = do_writer(vdir);
			break;
		case 2:
			rc = do_read(false);
			break;
		case 3:
			rc = do_read(true);
			break;
		default:
			rc = do_idle();
		}
		_exit(rc);
	}
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "vault_bench: step %d failed\n", what);
		exit(1);
	}
	t = now() - t0;
	*rss_kib = ru.ru_maxrss;
	last_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return t;
}

int
main(int argc, char **argv)
{
	struct vault_init_opts o = {0};
	long mib, rss_plain, rss_put, rss_range, rss_seq, rss_idle, rss_small;
	double t_plain, t_put, t_seq, t_writer, c_plain, c_put, c_writer;
	long rss_writer;
	struct bytes idb;
	char path[2200];

	if (argc != 3 || (mib = strtol(argv[2], NULL, 10)) < 2) {
		fprintf(stderr, "usage: vault_bench DIR MIB\n");
		return 2;
	}
	setenv("KURA_TEST_FAST_KDF", "1", 1);
	if (cry_init() != ERR_OK)
		return 2;
	total = (uint64_t)mib << 20;
	/* Random bytes, stamped per piece: the cipher does not care. */
	if ((data = malloc(PIECE)) == NULL)
		return 2;
	cry_random(data, PIECE);
	(void)snprintf(vdir, sizeof(vdir), "%s/vault", argv[1]);
	o.passphrase = pw();
	o.log_origin = "bench/kura";
	if (vault_init(vdir, &o) != ERR_OK)
		return 2;
	rss_idle = 0;
	(void)run(4, &rss_idle);
	(void)run(5, &rss_small);
	t_plain = run(0, &rss_plain);
	c_plain = last_cpu;
	t_writer = run(6, &rss_writer);
	c_writer = last_cpu;
	t_put = run(1, &rss_put);
	c_put = last_cpu;
	(void)snprintf(path, sizeof(path), "%s/docid", vdir);
	bytes_init(&idb, 64);
	if (fsx_read_file(path, 64, &idb) != ERR_OK)
		return 1;
	(void)snprintf(docid, sizeof(docid), "%s", (const char *)idb.p);
	bytes_release(&idb);
	(void)run(2, &rss_range);
	t_seq = run(3, &rss_seq);
	printf("vault bench, %ld MiB document, %d KiB writes\n", mib,
	    PIECE / 1024);
	printf("  plain write + 1 fsync   %8.1f MB/s\n",
	    (double)total / t_plain / 1e6);
	printf("  vault put (encrypted)   %8.1f MB/s\n",
	    (double)total / t_put / 1e6);
	printf("  ratio put/plain         %8.2f   (target >= 0.70)\n",
	    t_plain / t_put);
	printf("  crypto writer alone     %8.1f MB/s  (AEAD + SHA-256 of plaintext"
	       " and ciphertext;\n"
	       "                                       put/writer %.2f: what the"
	       " vault itself costs)\n",
	    (double)total / t_writer / 1e6, t_writer / t_put);
	printf("  CPU seconds per GiB     plain %.2f, put %.2f, writer %.2f "
	       "(user + system, all threads: what the wall-clock ratio\n"
	       "                          costs when no core is free; the machine"
	       " is shared, so compare these too)\n",
	    c_plain * (double)(1u << 30) / (double)total,
	    c_put * (double)(1u << 30) / (double)total,
	    c_writer * (double)(1u << 30) / (double)total);
	printf("  vault read, sequential  %8.1f MB/s\n",
	    (double)total / t_seq / 1e6);
	printf("  peak RSS: idle %ld KiB, plain %ld KiB, put %ld KiB, "
	       "16 x 1 MiB range reads %ld KiB, full read %ld KiB\n",
	    rss_idle, rss_plain, rss_put, rss_range, rss_seq);
	printf("  put RSS: 8 MiB document %ld KiB, %ld MiB document %ld KiB "
	       "(growth %ld KiB: independent of size)\n",
	    rss_small, mib, rss_put, rss_put - rss_small);
	printf("  put RSS above an idle open: %ld KiB = %.1f chunks of %d KiB "
	       "(incl. the 256 KiB write buffer, SQLite caches)\n",
	    rss_put - rss_idle, (double)(rss_put - rss_idle) / 64.0,
	    CRY_DOC_CHUNK / 1024);
	return 0;
}
