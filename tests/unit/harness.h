/*
 * tests/unit/harness.h - the in-house unit test harness (no dependency).
 *
 * A test file defines test functions and a main() that calls
 * TEST_RUN(fn) for each, then returns test_summary(), which prints
 * "N passed, N failed" (the line CI reads). CHECK() records a failure
 * and goes on; REQUIRE() records a failure and returns from the test.
 */
#ifndef TESTS_UNIT_HARNESS_H
#define TESTS_UNIT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void test_fail(const char *file, int line, const char *expr);
void test_run(const char *name, void (*fn)(void));
int test_summary(void);
/* A fresh temporary folder for this test binary (removed at summary). */
const char *test_tmpdir(void);
/* Folder of ../shared (KURA_SHARED or relative to the repo); NULL if absent. */
const char *test_shared_dir(void);
bool test_failed_now(void);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			test_fail(__FILE__, __LINE__, #x);                     \
	} while (0)
#define REQUIRE(x)                                                             \
	do {                                                                   \
		if (!(x)) {                                                    \
			test_fail(__FILE__, __LINE__, #x);                     \
			return;                                                \
		}                                                              \
	} while (0)
#define CHECK_OK(e)   CHECK((e) == ERR_OK)
#define REQUIRE_OK(e) REQUIRE((e) == ERR_OK)
#define TEST_RUN(fn)  test_run(#fn, fn)

#endif /* TESTS_UNIT_HARNESS_H */
