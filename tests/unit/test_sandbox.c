/*
 * tests/unit/test_sandbox.c - the frame codec between the sandboxed
 * validator and its session (intake/sandbox_int.h): a verdict survives a
 * round trip; headers outside a type's bounds or of the wrong direction,
 * truncated or over-long payloads, control characters in the names of an
 * accepted submission, bad roles, formats and flags are all refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "intake/sandbox_int.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

static void
hdr(uint8_t h[SBX_HDR_LEN], uint32_t type, uint32_t len)
{
	sbx_hdr_encode(h, type, len);
}

static void
test_header_bounds(void)
{
	uint8_t h[SBX_HDR_LEN];
	uint32_t t = 0, n = 0;

	hdr(h, SBX_READ, 12);
	CHECK_OK(sbx_hdr_decode(h, true, &t, &n));
	CHECK(t == SBX_READ && n == 12);
	hdr(h, SBX_READ, 11);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	hdr(h, SBX_READ, 13);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	hdr(h, SBX_DOC_DATA, 4);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	hdr(h, SBX_DOC_DATA, 4 + SBX_DATA_MAX);
	CHECK_OK(sbx_hdr_decode(h, true, &t, &n));
	hdr(h, SBX_DOC_DATA, 5 + SBX_DATA_MAX);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	hdr(h, SBX_VERDICT, SBX_VERDICT_MAX + 1);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	hdr(h, 0xffffffffu, 4);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	hdr(h, 0, 4);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	/* Direction: the child never sends DATA; the parent never READ. */
	hdr(h, SBX_DATA, 100);
	CHECK(sbx_hdr_decode(h, true, &t, &n) == ERR_PROTOCOL);
	CHECK_OK(sbx_hdr_decode(h, false, &t, &n));
	hdr(h, SBX_READ, 12);
	CHECK(sbx_hdr_decode(h, false, &t, &n) == ERR_PROTOCOL);
	hdr(h, SBX_DATA, SBX_DATA_MAX + 1);
	CHECK(sbx_hdr_decode(h, false, &t, &n) == ERR_PROTOCOL);
}

static void
test_small_frames(void)
{
	struct sbx_msg m;
	uint8_t p[16] = {0};

	/* READ: offset 2^32 + 5, length 1 MiB */
	p[3] = 1;
	p[7] = 5;
	p[8] = 0, p[9] = 0x10, p[10] = 0, p[11] = 0;
	CHECK_OK(sbx_msg_decode(SBX_READ, span_of(p, 12), &m));
	CHECK(m.off == (1ull << 32) + 5 && m.len == SBX_DATA_MAX);
	sbx_msg_release(&m);
	p[9] = 0x20; /* 2 MiB: too much */
	CHECK(sbx_msg_decode(SBX_READ, span_of(p, 12), &m) == ERR_PROTOCOL);
	memset(p, 0, sizeof(p)); /* length 0 */
	CHECK(sbx_msg_decode(SBX_READ, span_of(p, 12), &m) == ERR_PROTOCOL);
	CHECK(sbx_msg_decode(SBX_READ, span_of(p, 13), &m) == ERR_PROTOCOL);
	/* DOC_END: ok is 0 or 1; the document in range */
	memset(p, 0, sizeof(p));
	p[3] = 7;
	p[4] = 1;
	CHECK_OK(sbx_msg_decode(SBX_DOC_END, span_of(p, 5), &m));
	CHECK(m.doc == 7 && m.ok);
	p[4] = 2;
	CHECK(sbx_msg_decode(SBX_DOC_END, span_of(p, 5), &m) == ERR_PROTOCOL);
	p[4] = 0;
	p[2] = (uint8_t)(SBX_DOCS_MAX >> 8);
	p[3] = (uint8_t)SBX_DOCS_MAX;
	CHECK(sbx_msg_decode(SBX_DOC_END, span_of(p, 5), &m) == ERR_PROTOCOL);
	CHECK(sbx_msg_decode(SBX_DOC_BEGIN, span_of(p, 4), &m) == ERR_PROTOCOL);
	/* DOC_DATA: the data is the rest */
	memset(p, 0, sizeof(p));
	p[3] = 1;
	memcpy(p + 4, "abc", 3);
	CHECK_OK(sbx_msg_decode(SBX_DOC_DATA, span_of(p, 7), &m));
	CHECK(m.doc == 1 && m.data.len == 3 && m.data.p == p + 4);
	CHECK(sbx_msg_decode(SBX_DOC_DATA, span_of(p, 4), &m) == ERR_PROTOCOL);
}

struct fixture {
	struct intake_report rep;
	struct intake_doc docs[2];
	char name0[64], name1[64];
};

static void
fixture(struct fixture *f, bool accept)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name0, sizeof(f->name0), "01_申請書A.docx");
	snprintf(f->name1, sizeof(f->name1), "02_資料.pdf");
	f->rep.accept = accept;
	f->rep.nproblems = 3;
	memset(f->rep.zip_sha256, 0xab, sizeof(f->rep.zip_sha256));
	f->rep.docs = f->docs;
	f->rep.ndocs = 2;
	f->docs[0].name = f->name0;
	f->docs[0].number = (char *)(uintptr_t) "01";
	f->docs[0].role = INTAKE_ROLE_FORM_A;
	f->docs[0].format = "docx";
	f->docs[0].size = 1234;
	f->docs[0].hashed = true;
	memset(f->docs[0].sha256, 0x11, INTAKE_HASH_LEN);
	f->docs[1].name = f->name1;
	f->docs[1].number = NULL;
	f->docs[1].role = INTAKE_ROLE_ATTACHMENT;
	f->docs[1].format = "pdf";
	f->docs[1].size = 99;
}

static enum err
roundtrip(const struct fixture *f, struct sbx_msg *m, struct bytes *b)
{
	enum err r;

	bytes_init(b, SBX_VERDICT_MAX);
	if ((r = sbx_verdict_encode(&f->rep, span_str("{\"verdict\":1}"),
	         span_str("判定: 受付可\n"), b)) != ERR_OK)
		return r;
	return sbx_msg_decode(SBX_VERDICT, bytes_span(b), m);
}

static void
test_verdict_roundtrip(void)
{
	struct fixture f;
	struct sbx_msg m;
	struct bytes b;

	fixture(&f, true);
	REQUIRE_OK(roundtrip(&f, &m, &b));
	CHECK(m.accept && m.nproblems == 3 && m.ndocs == 2);
	CHECK(m.zip_sha256[0] == 0xab && m.zip_sha256[31] == 0xab);
	CHECK(strcmp(m.docs[0].name, "01_申請書A.docx") == 0);
	CHECK(strcmp(m.docs[0].number, "01") == 0);
	CHECK(m.docs[0].role == INTAKE_ROLE_FORM_A);
	CHECK(strcmp(m.docs[0].format, "docx") == 0);
	CHECK(m.docs[0].size == 1234 && m.docs[0].hashed);
	CHECK(m.docs[0].sha256[5] == 0x11);
	CHECK(m.docs[1].number == NULL && !m.docs[1].hashed);
	CHECK(span_eq_str(m.json, "{\"verdict\":1}"));
	CHECK(span_eq_str(m.text, "判定: 受付可\n"));
	sbx_msg_release(&m);
	/* Every truncation and one byte too many are refused. */
	for (size_t n = 0; n < b.len; n++)
		CHECK(sbx_msg_decode(SBX_VERDICT, span_of(b.p, n), &m) ==
		      ERR_PROTOCOL);
	{
		uint8_t *more = malloc(b.len + 1);

		REQUIRE(more != NULL);
		memcpy(more, b.p, b.len);
		more[b.len] = 0;
		CHECK(sbx_msg_decode(SBX_VERDICT, span_of(more, b.len + 1),
		          &m) == ERR_PROTOCOL);
		free(more);
	}
	bytes_release(&b);
}

static void
test_verdict_refusals(void)
{
	struct fixture f;
	struct sbx_msg m;
	struct bytes b;

	/* A newline in an accepted name could forge a receipt line. */
	fixture(&f, true);
	snprintf(f.name1, sizeof(f.name1), "02_a\nb.pdf");
	CHECK(roundtrip(&f, &m, &b) == ERR_PROTOCOL);
	bytes_release(&b);
	/* The same name in a rejected submission is only reported. */
	fixture(&f, false);
	snprintf(f.name1, sizeof(f.name1), "02_a\nb.pdf");
	CHECK_OK(roundtrip(&f, &m, &b));
	sbx_msg_release(&m);
	bytes_release(&b);
	/* C1 control (U+0085) in an accepted number */
	fixture(&f, true);
	f.docs[0].number = (char *)(uintptr_t) "0\xc2\x85";
	CHECK(roundtrip(&f, &m, &b) == ERR_PROTOCOL);
	bytes_release(&b);
	/* Invalid UTF-8 even when rejected */
	fixture(&f, false);
	snprintf(f.name0, sizeof(f.name0), "\xff\xfe.pdf");
	CHECK(roundtrip(&f, &m, &b) == ERR_PROTOCOL);
	bytes_release(&b);
	/* Formats are short lower-case words */
	fixture(&f, false);
	f.docs[1].format = "PDF";
	CHECK(roundtrip(&f, &m, &b) == ERR_PROTOCOL);
	bytes_release(&b);
	fixture(&f, false);
	f.docs[1].format = "pdf pdf";
	CHECK(roundtrip(&f, &m, &b) == ERR_PROTOCOL);
	bytes_release(&b);
	/* Roles in range */
	fixture(&f, false);
	f.docs[1].role = INTAKE_ROLE__COUNT;
	CHECK(roundtrip(&f, &m, &b) == ERR_PROTOCOL);
	bytes_release(&b);
	/* The accept flag is 0 or 1; the problem count bounded */
	fixture(&f, false);
	bytes_init(&b, SBX_VERDICT_MAX);
	REQUIRE_OK(
	    sbx_verdict_encode(&f.rep, span_str("{}"), span_str("x"), &b));
	b.p[0] = 2;
	CHECK(sbx_msg_decode(SBX_VERDICT, bytes_span(&b), &m) == ERR_PROTOCOL);
	b.p[0] = 0;
	b.p[1] = 0xff; /* nproblems 0xff000003 */
	CHECK(sbx_msg_decode(SBX_VERDICT, bytes_span(&b), &m) == ERR_PROTOCOL);
	b.p[1] = 0;
	CHECK_OK(sbx_msg_decode(SBX_VERDICT, bytes_span(&b), &m));
	sbx_msg_release(&m);
	/* A NUL inside the JSON */
	b.p[b.len - 1 - 4 - 1] = 0;
	CHECK(sbx_msg_decode(SBX_VERDICT, bytes_span(&b), &m) == ERR_PROTOCOL);
	bytes_release(&b);
}

/*
 * The filter itself, in a child: what the validator must not do fails
 * with EPERM, what it does (read, write, malloc, fork for qpdf) works.
 * The child's exit status names the first check that failed.
 */
static int
filtered_child(int parent)
{
	char *const argv[] = {(char *)(uintptr_t) "/bin/true", NULL};
	int p[2];
	pid_t pid;
	int st;
	void *m;

	if (pipe(p) != 0)
		return 2;
	if (sbx_seccomp_on() != ERR_OK)
		return 3;
	if (open("/dev/null", O_RDONLY) >= 0 || errno != EPERM)
		return 4;
	if (openat(AT_FDCWD, "/etc/passwd", O_RDONLY) >= 0 || errno != EPERM)
		return 5;
	if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM)
		return 6;
	if (kill(parent, 0) == 0 || errno != EPERM)
		return 7;
	execv("/bin/true", argv);
	if (errno != EPERM)
		return 8;
	if (unlink("/tmp/kura-test-sandbox-none") == 0 || errno != EPERM)
		return 9;
	if (setpgid(0, 0) == 0 || errno != EPERM)
		return 10;
	if (kill(getpid(), 0) != 0)
		return 11; /* itself: allowed */
	if (write(p[1], "x", 1) != 1)
		return 12;
	if ((m = malloc(1u << 20)) == NULL)
		return 13;
	free(m);
	if ((pid = fork()) < 0)
		return 14;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 15;
	return 0;
}

static void
test_seccomp_filter(void)
{
	pid_t parent = getpid(), pid;
	int st = 0;

	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(filtered_child(parent));
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		fprintf(stderr, "# filtered child failed check %d\n",
		    WEXITSTATUS(st));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int
main(void)
{
	TEST_RUN(test_header_bounds);
	TEST_RUN(test_small_frames);
	TEST_RUN(test_verdict_roundtrip);
	TEST_RUN(test_verdict_refusals);
	TEST_RUN(test_seccomp_filter);
	return test_summary();
}
