/*
 * tests/fuzz/fuzz_doc.c - libFuzzer target for the document body reader:
 * the input is a body file (memfd) opened with a fixed key and doc id.
 * Nothing may crash, and whatever opens must read back consistently. The
 * first input byte also picks a write pattern for the writer, whose
 * output must then open and read back exactly.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "common/fsx.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cry_secret *key;
/* The key and doc id of the KAT vectors, which seed the corpus. */
static const uint8_t doc_id[CRY_DOC_ID_LEN] = {0x40, 0x41, 0x42, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f};

static void
read_back(int fd, const uint8_t *want, size_t want_len, int must_open)
{
	struct cry_doc_reader *r = NULL;
	uint8_t buf[4096];
	size_t n = 0;
	enum err e = cry_doc_reader_open(fd, key, doc_id, &r);

	if (e != ERR_OK) {
		if (must_open)
			abort();
		return;
	}
	for (uint64_t off = 0; off < cry_doc_reader_size(r);
	     off += sizeof(buf)) {
		if (cry_doc_read(r, off, buf, sizeof(buf), &n) != ERR_OK) {
			if (must_open)
				abort();
			break;
		}
		if (want != NULL &&
		    (off + n > want_len || memcmp(buf, want + off, n) != 0))
			abort();
	}
	cry_doc_reader_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cry_doc_writer *w = NULL;
	struct cry_doc_result res;
	int fd;

	if (key == NULL) {
		uint8_t k[CRY_KEY_LEN];
		for (size_t i = 0; i < sizeof(k); i++)
			k[i] = (uint8_t)i;
		if (cry_init() != ERR_OK ||
		    cry_secret_from(k, sizeof(k), &key) != ERR_OK)
			abort();
	}
	if (size > (1u << 20))
		return 0;
	/* 1: the input as a body file. */
	if ((fd = memfd_create("fuzz-doc", MFD_CLOEXEC)) < 0)
		abort();
	if (size > 0 && fsx_pwrite_all(fd, data, size, 0) != ERR_OK)
		abort();
	read_back(fd, NULL, 0, 0);
	close(fd);
	/* 2: the input as plaintext, written in a pattern it chooses. */
	if ((fd = memfd_create("fuzz-doc", MFD_CLOEXEC)) < 0)
		abort();
	if (cry_doc_writer_open(fd, key, doc_id, 1024, &w) != ERR_OK)
		abort();
	{
		size_t step = size > 0 ? (size_t)data[0] * 7 + 1 : 1;
		int backwards = size > 1 && (data[1] & 1);
		size_t nsteps = (size + step - 1) / step;

		for (size_t i = 0; i < nsteps; i++) {
			size_t k = backwards ? nsteps - 1 - i : i;
			size_t off = k * step;
			size_t n = size - off < step ? size - off : step;
			if (cry_doc_write(w, off, span_of(data + off, n)) !=
			    ERR_OK)
				abort();
		}
	}
	if (cry_doc_writer_finish(w, &res) != ERR_OK || res.plain_size != size)
		abort();
	read_back(fd, data, size, 1);
	close(fd);
	return 0;
}
