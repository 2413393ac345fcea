#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/harness.h"
#include "common/banned.h"

static int passed, failed;
static bool cur_failed;
static const char *cur_name = "?";
static char tmpdir[256];

void
test_fail(const char *file, int line, const char *expr)
{
	printf("  FAILED %s: %s:%d: %s\n", cur_name, file, line, expr);
	cur_failed = true;
}

bool
test_failed_now(void)
{
	return cur_failed;
}

void
test_run(const char *name, void (*fn)(void))
{
	cur_name = name;
	cur_failed = false;
	fn();
	if (cur_failed) {
		failed++;
		printf("not ok - %s\n", name);
	} else {
		passed++;
		printf("ok - %s\n", name);
	}
	fflush(stdout);
}

const char *
test_tmpdir(void)
{
	if (tmpdir[0] == 0) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof(tmpdir), "%s/kura-unit.XXXXXX",
		    base ? base : "/tmp");
		if (mkdtemp(tmpdir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return tmpdir;
}

const char *
test_shared_dir(void)
{
	static char buf[4096];
	const char *e = getenv("KURA_SHARED");

	if (e != NULL && *e)
		return e;
	if (access("../shared/corpus", F_OK) == 0)
		return "../shared";
	e = getenv("KURA_TOP");
	if (e != NULL) {
		snprintf(buf, sizeof(buf), "%s/../shared", e);
		return buf;
	}
	return NULL;
}

int
test_summary(void)
{
	if (tmpdir[0] != 0) {
		const char *argv[] = {"rm", "-rf", tmpdir, NULL};
		pid_t pid = fork();
		if (pid == 0) {
			execvp("rm", (char *const *)(uintptr_t)argv);
			_exit(127);
		}
		if (pid > 0) {
			int st;
			waitpid(pid, &st, 0);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
