/*
 * tests/bench/aead_bench.c - the document format's cost, measured against
 * its peers over the same bytes in the same run (tests/bench/b10-aead.sh).
 *
 *   chunked AEAD (cry_doc_chunk_seal/open, the code the writer and reader
 *   use) vs one-shot crypto_aead_xchacha20poly1305_ietf_encrypt/decrypt
 *   over the whole buffer; then the full writer and reader (memfd: both
 *   SHA-256 hashes, copies, pwrite/pread) for information; then SHA-256 of
 *   libcrypto (EVP, what cry_sha256 uses) vs libsodium.
 *
 * A benchmark may use libsodium directly: it measures the peer we chose
 * against. Usage: aead_bench [MiB] (default 1024).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "common/banned.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define REPS 3

static double
best(double a, double b)
{
	return a > b ? a : b;
}

static double
mbps(size_t bytes, double secs)
{
	return (double)bytes / 1e6 / secs;
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1024;
	size_t len = mib << 20, cs = CRY_DOC_CHUNK, nchunks = len / cs + 1;
	size_t ctlen = len + nchunks * CRY_DOC_TAG_LEN, off;
	uint8_t *pt, *ct, *back, hdr[CRY_DOC_HDR_LEN], id[CRY_DOC_ID_LEN];
	uint8_t prefix[CRY_DOC_PREFIX_LEN], nonce[24], h[32];
	unsigned long long outlen;
	struct cry_secret *key = NULL;
	struct cry_doc_writer *w = NULL;
	struct cry_doc_reader *rd = NULL;
	struct cry_doc_result res;
	struct cry_sha256 sh;
	crypto_hash_sha256_state st;
	double t, one_enc, one_dec, ch_enc, ch_dec, wr, rdr, sha_ssl, sha_na;
	int fd, rc = 0;

	if (mib == 0 || cry_init() != ERR_OK ||
	    cry_secret_random(CRY_KEY_LEN, &key) != ERR_OK)
		return 2;
	pt = malloc(len);
	ct = malloc(ctlen + 64);
	back = malloc(len);
	if (pt == NULL || ct == NULL || back == NULL)
		return 2;
	randombytes_buf(pt, len);
	memset(ct, 0, ctlen + 64);
	memset(back, 0, len);
	randombytes_buf(id, sizeof(id));
	randombytes_buf(prefix, sizeof(prefix));
	randombytes_buf(nonce, sizeof(nonce));
	cry_doc_header(key, id, (uint32_t)cs, prefix, hdr);
	printf("buffer: %zu MiB, chunk %zu KiB, best of %d runs\n", mib,
	    cs / 1024, REPS);

	/*
	 * The machine is shared: each measurement is repeated, peers
	 * interleaved, and the best run of each kept.
	 */
	one_enc = one_dec = ch_enc = ch_dec = wr = rdr = sha_ssl = sha_na = 0;
	for (int rep = 0; rep < REPS; rep++) {
		/* One-shot, the peer. */
		t = now();
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &outlen, pt, len,
		    id, sizeof(id), NULL, nonce, cry_secret_data(key));
		one_enc = best(one_enc, mbps(len, now() - t));
		t = now();
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(back, &outlen,
		        NULL, ct, len + 16, id, sizeof(id), nonce,
		        cry_secret_data(key)) != 0)
			return 3;
		one_dec = best(one_dec, mbps(len, now() - t));

		/* Chunked, the document format. */
		t = now();
		for (off = 0; off + cs <= len; off += cs)
			if (cry_doc_chunk_seal(hdr, id, key, off / cs, false,
			        pt + off, cs, ct + off / cs * (cs + 16)) !=
			    ERR_OK)
				return 3;
		if (cry_doc_chunk_seal(hdr, id, key, off / cs, true, pt + off,
		        len - off, ct + off / cs * (cs + 16)) != ERR_OK)
			return 3;
		ch_enc = best(ch_enc, mbps(len, now() - t));
		memset(back, 0, len);
		t = now();
		for (off = 0; off + cs <= len; off += cs)
			if (cry_doc_chunk_open(hdr, id, key, off / cs, false,
			        ct + off / cs * (cs + 16), cs + 16,
			        back + off) != ERR_OK)
				return 3;
		if (cry_doc_chunk_open(hdr, id, key, off / cs, true,
		        ct + off / cs * (cs + 16), len - off + 16,
		        back + off) != ERR_OK)
			return 3;
		ch_dec = best(ch_dec, mbps(len, now() - t));
		if (memcmp(pt, back, len) != 0)
			return 3;

		/* The whole writer and reader on a memfd. */
		if ((fd = memfd_create("kura-bench", MFD_CLOEXEC)) < 0 ||
		    fallocate(fd, FALLOC_FL_KEEP_SIZE, 0,
		        (off_t)(ctlen + 64)) != 0)
			return 2;
		t = now();
		if (cry_doc_writer_open(fd, key, id, 0, &w) != ERR_OK)
			return 3;
		for (off = 0; off < len; off += 32768)
			if (cry_doc_write(w, off, span_of(pt + off, 32768)) !=
			    ERR_OK)
				return 3;
		if (cry_doc_writer_finish(w, &res) != ERR_OK)
			return 3;
		wr = best(wr, mbps(len, now() - t));
		memset(back, 0, len);
		t = now();
		if (cry_doc_reader_open(fd, key, id, &rd) != ERR_OK)
			return 3;
		for (off = 0; off < len; off += 1u << 20) {
			size_t n = 0;
			if (cry_doc_read(rd, off, back + off, 1u << 20, &n) !=
			    ERR_OK)
				return 3;
		}
		cry_doc_reader_close(rd);
		rdr = best(rdr, mbps(len, now() - t));
		close(fd);
		if (memcmp(pt, back, len) != 0)
			return 3;

		/* SHA-256: libcrypto (cry_sha256) vs libsodium. */
		t = now();
		if (cry_sha256_init(&sh) != ERR_OK)
			return 2;
		for (off = 0; off < len; off += 1u << 20)
			cry_sha256_update(&sh, pt + off, 1u << 20);
		cry_sha256_final(&sh, h);
		sha_ssl = best(sha_ssl, mbps(len, now() - t));
		t = now();
		crypto_hash_sha256_init(&st);
		for (off = 0; off < len; off += 1u << 20)
			crypto_hash_sha256_update(&st, pt + off, 1u << 20);
		crypto_hash_sha256_final(&st, h);
		sha_na = best(sha_na, mbps(len, now() - t));
	}

	printf("one-shot xchacha20poly1305 encrypt   %8.0f MB/s\n", one_enc);
	printf("chunked AEAD (format) encrypt        %8.0f MB/s  ratio %.2f "
	       "(target >= 0.90)\n",
	    ch_enc, ch_enc / one_enc);
	printf("one-shot xchacha20poly1305 decrypt   %8.0f MB/s\n", one_dec);
	printf("chunked AEAD (format) decrypt        %8.0f MB/s  ratio %.2f "
	       "(target >= 0.90)\n",
	    ch_dec, ch_dec / one_dec);
	printf("cry_doc writer, 32 KiB writes, memfd %8.0f MB/s  ratio %.2f "
	       "(includes SHA-256 of plaintext and ciphertext)\n",
	    wr, wr / one_enc);
	printf("cry_doc reader, 1 MiB reads, memfd   %8.0f MB/s  ratio %.2f\n",
	    rdr, rdr / one_dec);
	printf("SHA-256 libcrypto (EVP)              %8.0f MB/s\n", sha_ssl);
	printf("SHA-256 libsodium                    %8.0f MB/s  libcrypto is "
	       "%.1fx\n",
	    sha_na, sha_ssl / sha_na);
	if (ch_enc / one_enc < 0.90 || ch_dec / one_dec < 0.90) {
		printf("aead: below target\n");
		rc = 1;
	}
	cry_secret_free(key);
	free(pt);
	free(ct);
	free(back);
	return rc;
}
