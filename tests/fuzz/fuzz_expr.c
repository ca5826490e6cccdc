/*
 * fuzz_expr.c - segment expressions: compiled, then evaluated against two
 * profiles (one as a store record, one as a profile object).
 *
 * Properties checked: compiling never crashes; a failure has a message and
 * a column inside the text (or just past its end), and its caret display is
 * two lines; a compiled expression evaluates without a store on both kinds
 * of subject, and gives the same answer on both (they hold the same data).
 */
#include "buf.h"
#include "expr.h"
#include "profile.h"
#include "timeparse.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS INT64_C(1766570400000) /* 2025-12-24T10:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cdp_profile profile;
static json_t *object;

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s\n", what);
        abort();
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    struct cdp_id id = cdp_hash_string("user:u1");
    cdp_profile_init(&profile, &id);
    profile.head.first_seen = NOW_MS - INT64_C(86400000) * 40;
    profile.head.last_seen = NOW_MS - INT64_C(86400000) * 2;
    profile.head.orders_count = 3;
    profile.head.revenue_micros = 120500000;
    profile.head.first_order_at = NOW_MS - INT64_C(86400000) * 30;
    profile.head.last_order_at = NOW_MS - INT64_C(86400000) * 3;
    profile.head.events_count = 12;
    cdp_profile_add_identifier(&profile, "email:jane@example.com");
    cdp_profile_add_identifier(&profile, "user:u1");
    json_t *v = json_string("Lyon");
    cdp_profile_set_trait(&profile, "city", v, NOW_MS - 1000, "crm", NULL);
    json_decref(v);
    v = json_pack("[ss]", "vip", "newsletter");
    cdp_profile_set_trait(&profile, "tags", v, NOW_MS - 1000, "crm", NULL);
    json_decref(v);
    v = json_integer(41);
    cdp_profile_set_trait(&profile, "age", v, NOW_MS - 1000, "crm", NULL);
    json_decref(v);
    object = json_loads(
        "{\"id\":\"00000000000000000000000000000000\",\"identifiers\":[\"email:jane@example.com\","
        "\"user:u1\"],\"traits\":{\"age\":41,\"city\":\"Lyon\",\"tags\":[\"vip\",\"newsletter\"]},"
        "\"computed\":{\"first_seen\":\"2025-11-14T10:00:00.000Z\",\"last_seen\":"
        "\"2025-12-22T10:00:00.000Z\",\"events_count\":12,\"page_views\":0,\"visits\":0,"
        "\"time_on_site_s\":0,\"email_opens\":0,\"email_clicks\":0,\"downloads\":0,"
        "\"support_contacts\":0,\"orders_count\":3,\"revenue_total\":120.5,\"avg_order_value\":"
        "40.166666,\"first_order_at\":\"2025-11-24T10:00:00.000Z\",\"last_order_at\":"
        "\"2025-12-21T10:00:00.000Z\",\"purchase_frequency\":null,\"returns_count\":0,"
        "\"abandoned_carts\":0,\"preferred_payment_method\":null,\"top_category\":null},"
        "\"first_seen\":\"2025-11-14T10:00:00.000Z\",\"last_seen\":\"2025-12-22T10:00:00.000Z\"}",
        0, NULL);
    check(object != NULL, "the profile object parses");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t chars = 0;
    for (size_t i = 0; text[i]; i++)
        chars += ((unsigned char)text[i] & 0xC0) != 0x80;

    struct cdp_expr_error err;
    struct cdp_expr *e = cdp_expr_compile(text, NOW_MS, &err);
    if (e == NULL) {
        check(err.message[0] != '\0', "an error has a message");
        check(err.column >= 1 && err.column <= chars + 1, "the column is inside the text");
        struct cdp_buf shown = CDP_BUF_INIT;
        cdp_expr_show_error(text, &err, &shown);
        size_t lines = 0;
        for (size_t i = 0; i < shown.len; i++)
            lines += shown.data[i] == '\n';
        check(lines >= 2, "the caret display has the expression and the caret");
        cdp_buf_free(&shown);
        free(text);
        return 0;
    }
    struct cdp_expr_subject store = {.id = profile.id, .head = &profile.head, .profile = &profile};
    struct cdp_expr_subject stream = {.id = profile.id, .json = object};
    bool a = false, b = false;
    check(cdp_expr_match(e, &store, &a) == 0, "evaluating a store record without a store");
    check(cdp_expr_match(e, &stream, &b) == 0, "evaluating a profile object");
    /* The id differs between the two subjects (the object's is all zeros). */
    if (strstr(text, "id") == NULL && strstr(text, "avg_order_value") == NULL)
        check(a == b, "a store record and its profile object give the same answer");
    cdp_expr_free(e);
    free(text);
    return 0;
}
