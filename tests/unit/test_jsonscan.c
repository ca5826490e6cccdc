/*
 * Unit tests of the JSON scanner: it must accept exactly what jansson
 * accepts (one value, RFC 8259), and list an object's members.
 */
#include "check.h"
#include "event.h"
#include "jsonscan.h"

#include <jansson.h>

static bool
scan_ok(const char *text)
{
    size_t column;
    const char *reason;
    return cdp_jsonscan_check(text, strlen(text), 64, &column, &reason);
}

static bool
jansson_ok(const char *text)
{
    json_t *v = json_loadb(text, strlen(text), JSON_DECODE_ANY, NULL);
    json_decref(v);
    return v != NULL;
}

int
main(void)
{
    static const char *const samples[] = {
        "{}", "[]", "0", "-0", "1.5e10", "-1E-3", "true", "false", "null", "\"\"",
        "{\"a\":1,\"b\":[1,2,{\"c\":null}]}", " { \"a\" : \"x\" } ", "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "[1,2,]", "{\"a\":1,}", "{\"a\" 1}",
        "{a:1}", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "\"abc", "\"a\\x\"",
        "\"\\u12\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "[1] [2]",
        "{\"a\":1}}", "[[[]]", "\"tab\there\"", "", "   ", "{\"a\":\"b\",\"a\":\"c\"}",
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        bool scan = scan_ok(samples[i]), reference = jansson_ok(samples[i]);
        if (scan != reference)
            fprintf(stderr, "sample %zu: %s: scanner %d, jansson %d\n", i, samples[i], scan,
                    reference);
        CHECK(scan == reference);
    }

    /* Numbers beyond a double or a 64-bit integer are valid JSON text. */
    CHECK(scan_ok("[1e400]"));
    CHECK(scan_ok("123456789012345678901234567890"));

    /* Depth limit and the reported column (that of the bracket too many). */
    size_t column;
    const char *reason;
    CHECK(!cdp_jsonscan_check("[[[1]]]", 7, 2, &column, &reason));
    CHECK_STR(reason, "nesting too deep");
    CHECK_INT(column, 3);
    CHECK(cdp_jsonscan_check("[[[1]]]", 7, 3, &column, &reason));
    CHECK(!cdp_jsonscan_check("{\"a\":1,}", 8, 8, &column, &reason));
    CHECK_INT(column, 8);

    /* Members of an object, with values of every kind. */
    const char *obj = " {\"type\" : \"page\", \"n\":-1.5e3,\"o\":{\"x\":[1,\"]\"]},\"s\":\"a\\\"}\","
                      "\"t\":true , \"e\\u0074\":null}";
    struct cdp_json_member m[8];
    int n = cdp_jsonscan_members(obj, strlen(obj), m, 8);
    CHECK_INT(n, 6);
    CHECK(cdp_jsonscan_key_is(&m[0], "type"));
    CHECK(m[0].value_len == 6 && memcmp(m[0].value, "\"page\"", 6) == 0);
    CHECK(m[1].value_len == 6 && memcmp(m[1].value, "-1.5e3", 6) == 0);
#define VALUE_IS(member, text)                                                                     \
    ((member).value_len == strlen(text) && memcmp((member).value, text, strlen(text)) == 0)
    CHECK(VALUE_IS(m[2], "{\"x\":[1,\"]\"]}"));
    CHECK(VALUE_IS(m[3], "\"a\\\"}\""));
    CHECK(m[4].value_len == 4 && memcmp(m[4].value, "true", 4) == 0);
    CHECK(m[5].key_escaped && !cdp_jsonscan_key_is(&m[5], "et"));
    CHECK_INT(cdp_jsonscan_members("[1]", 3, m, 8), -1);
    CHECK_INT(cdp_jsonscan_members("{}", 2, m, 8), 0);
    CHECK_INT(cdp_jsonscan_members("{\"a\":1,\"b\":2,\"c\":3}", 19, m, 2), 3);

    /* The slim event tree keeps what ingest reads and drops the rest. */
    const char *ev = "{\"type\":\"track\",\"event\":\"Order Completed\",\"messageId\":\"m1\","
                     "\"context\":{\"userAgent\":\"x\",\"traits\":{\"email\":\"a@b.fr\"}},"
                     "\"properties\":{\"order_id\":\"o1\",\"title\":\"t\",\"total\":3}}";
    json_t *root = cdp_event_parse(ev, strlen(ev));
    CHECK(root != NULL);
    CHECK_STR(json_string_value(cdp_json_path(root, "context.traits.email")), "a@b.fr");
    CHECK(cdp_json_path(root, "context.userAgent") == NULL);
    CHECK_STR(json_string_value(cdp_json_path(root, "properties.order_id")), "o1");
    CHECK(cdp_json_path(root, "properties.title") == NULL);
    CHECK_INT(json_integer_value(cdp_json_path(root, "properties.total")), 3);
    json_decref(root);
    /* Without a messageId the whole event is kept (its id hashes all of it). */
    const char *whole = "{\"type\":\"page\",\"context\":{\"userAgent\":\"x\"}}";
    root = cdp_event_parse(whole, strlen(whole));
    CHECK_STR(json_string_value(cdp_json_path(root, "context.userAgent")), "x");
    json_decref(root);
    return check_summary("jsonscan");
}
