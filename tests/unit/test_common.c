#include <string.h>

#include "common/bytes.h"
#include "common/config.h"
#include "common/err.h"
#include "common/fsx.h"
#include "common/json.h"
#include "common/utf8.h"
#include "tests/unit/harness.h"
#include "common/banned.h"

static void
test_err_messages_distinct(void)
{
	for (int i = 0; i < ERR__COUNT; i++) {
		CHECK(err_str((enum err)i) != NULL);
		for (int k = 0; k < i; k++)
			CHECK(strcmp(err_str((enum err)i),
			          err_str((enum err)k)) != 0);
	}
	CHECK(strcmp(err_str((enum err)999), "unknown error") == 0);
}

static void
test_bytes_max_is_enforced(void)
{
	struct bytes b;

	bytes_init(&b, 8);
	CHECK_OK(bytes_put_str(&b, "12345"));
	CHECK(bytes_put_str(&b, "6789") == ERR_TOO_BIG);
	/* A failed append leaves the buffer exactly as before. */
	CHECK(b.len == 5 && memcmp(b.p, "12345", 6) == 0);
	CHECK_OK(bytes_put_str(&b, "678"));
	CHECK(b.len == 8);
	bytes_release(&b);
	CHECK(b.p == NULL && b.len == 0);
}

static void
test_size_overflow(void)
{
	size_t out = 7;
	int i = 0;

	CHECK(size_add(SIZE_MAX, 1, &out) == ERR_TOO_BIG && out == 7);
	CHECK(size_mul(SIZE_MAX / 2, 3, &out) == ERR_TOO_BIG);
	CHECK_OK(size_mul(3, 4, &out));
	CHECK(out == 12);
	CHECK(size_to_int((size_t)1 << 40, &i) == ERR_TOO_BIG);
}

static void
test_hex_roundtrip(void)
{
	uint8_t in[3] = {0x00, 0xab, 0xff}, back[3];
	char hex[7];

	hex_encode(in, 3, hex);
	CHECK(strcmp(hex, "00abff") == 0);
	CHECK_OK(hex_decode("00ABff", back, 3));
	CHECK(memcmp(in, back, 3) == 0);
	CHECK(hex_decode("00abf", back, 3) == ERR_INVALID);
	CHECK(hex_decode("00abfg", back, 3) == ERR_INVALID);
}

static void
test_utf8_strict(void)
{
	CHECK(utf8_valid((const uint8_t *)"\xe8\x94\xb5", 3));  /* 蔵 */
	CHECK(!utf8_valid((const uint8_t *)"\xc0\xaf", 2));     /* overlong */
	CHECK(!utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
	CHECK(!utf8_valid((const uint8_t *)"\x82\xa0", 2));     /* CP932 あ */
}

static void
test_json_escapes(void)
{
	struct bytes b;
	struct json j;

	bytes_init(&b, 4096);
	json_init(&j, &b);
	json_obj_begin(&j);
	json_kv_str(&j, "a", "q\"\\\n\x01");
	json_kv_int(&j, "n", -3);
	json_key(&j, "l");
	json_arr_begin(&j);
	json_bool(&j, true);
	json_strn(&j, "\xff", 1);
	json_arr_end(&j);
	json_obj_end(&j);
	CHECK_OK(json_finish(&j));
	CHECK(strcmp((char *)b.p, "{\"a\":\"q\\\"\\\\\\n\\u0001\",\"n\":-3,"
	                          "\"l\":[true,\"\xef\xbf\xbd\"]}") == 0);
	bytes_release(&b);
}

static void
test_config_parse(void)
{
	char path[512];
	struct config *c = NULL;
	uint64_t v = 0;

	REQUIRE_OK(fsx_join(path, sizeof(path), test_tmpdir(), "k.conf"));
	REQUIRE_OK(fsx_write_atomic(path,
	    span_str("# comment\nlisten = 127.0.0.1:2222\n limits.max = 10 \n"
	             "bad.num = x1\n"),
	    0600));
	REQUIRE_OK(config_load(path, &c));
	CHECK(strcmp(config_str(c, "listen", ""), "127.0.0.1:2222") == 0);
	CHECK_OK(config_u64(c, "limits.max", 5, &v));
	CHECK(v == 10);
	CHECK(config_u64(c, "bad.num", 5, &v) == ERR_CONFIG);
	CHECK_OK(config_u64(c, "absent", 5, &v));
	CHECK(v == 5);
	config_free(c);
	REQUIRE_OK(fsx_write_atomic(path, span_str("novalue\n"), 0600));
	CHECK(config_load(path, &c) == ERR_CONFIG);
}

int
main(void)
{
	TEST_RUN(test_err_messages_distinct);
	TEST_RUN(test_bytes_max_is_enforced);
	TEST_RUN(test_size_overflow);
	TEST_RUN(test_hex_roundtrip);
	TEST_RUN(test_utf8_strict);
	TEST_RUN(test_json_escapes);
	TEST_RUN(test_config_parse);
	return test_summary();
}
