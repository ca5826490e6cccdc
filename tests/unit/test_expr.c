/*
 * test_expr.c - unit tests for lib/expr.c: the segment expression language,
 * driven only through its public API (cdp_expr_compile, cdp_expr_match,
 * cdp_expr_needs, cdp_expr_show_error, cdp_expr_free).
 *
 * Every expression is compiled with the same fixed "now",
 * 2024-06-01T00:00:00Z, and most are evaluated against two people, each in
 * both shapes a subject can take: a record of the store (head + decoded
 * profile) and the JSON object cdp-export writes for it.  The answer must not
 * depend on the shape.  Event functions and consent run against a real store
 * in a temporary directory, filled with the ingest engine.
 */
#include "computed.h"
#include "consent.h"
#include "expr.h"
#include "ingest.h"
#include "profile.h"
#include "store.h"
#include "timeparse.h"
#include "view.h"
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int64_t now_ms; /* 2024-06-01T00:00:00Z */
static char root[256]; /* temporary directory of the test stores */

/* ---- reporting ---- */

static void
pass(void)
{
    check_passed++;
}

static void fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(int line, const char *fmt, ...)
{
    va_list ap;
    check_failed++;
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A time from ISO 8601 text; the test data is fixed, so a bad one is fatal. */
static int64_t
at(const char *iso)
{
    int64_t ms;
    if (!cdp_time_parse(iso, strlen(iso), &ms)) {
        fprintf(stderr, "bad test time %s\n", iso);
        exit(1);
    }
    return ms;
}

/* Characters (not bytes) of UTF-8 text: bytes that are not continuation bytes. */
static size_t
characters(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- assertions on expressions ---- */

/* Compiles text and evaluates it against s; checks the answer is want. */
static void
expect_match(int line, const char *label, struct cdp_expr_subject *s, const char *text, bool want)
{
    struct cdp_expr_error err;
    memset(&err, 0, sizeof err);
    struct cdp_expr *e = cdp_expr_compile(text, now_ms, &err);
    if (e == NULL) {
        fail(line, "[%s] %s: compile error at column %zu: %s", label, text, err.column,
             err.message);
        return;
    }
    bool match = !want;
    int rc = cdp_expr_match(e, s, &match);
    if (rc != 0)
        fail(line, "[%s] %s: cdp_expr_match returned %d", label, text, rc);
    else if (match != want)
        fail(line, "[%s] %s: got %s, want %s", label, text, match ? "true" : "false",
             want ? "true" : "false");
    else
        pass();
    cdp_expr_free(e);
}

#define MATCH(subject, text, want) expect_match(__LINE__, #subject, subject, text, want)

/*
 * Checks that text does not compile, that the error has a message, and (when
 * any column is given, non-zero) that the column is one of them.  The first
 * column is the one the header implies; the others are readings that are
 * equally defensible where lib/expr.h does not say which token an error
 * points at.
 */
static void
expect_error(int line, const char *text, size_t col1, size_t col2, size_t col3)
{
    struct cdp_expr_error err;
    memset(&err, 0, sizeof err);
    err.column = 9999;
    struct cdp_expr *e = cdp_expr_compile(text, now_ms, &err);
    if (e != NULL) {
        fail(line, "%s: compiled, want an error", text);
        cdp_expr_free(e);
        return;
    }
    if (err.message[0] == '\0')
        fail(line, "%s: the error has no message", text);
    else
        pass();
    size_t chars = characters(text, strlen(text));
    if (err.column < 1 || err.column > chars + 1)
        fail(line, "%s: column %zu is outside the text (1..%zu)", text, err.column, chars + 1);
    else
        pass();
    if (col1 == 0)
        return;
    if (err.column == col1 || (col2 && err.column == col2) || (col3 && err.column == col3))
        pass();
    else
        fail(line, "%s: error at column %zu (%s), want column %zu", text, err.column, err.message,
             col1);
}

#define ERROR_AT(text, col) expect_error(__LINE__, text, col, 0, 0)
#define ERROR_AT_EITHER(text, col, other) expect_error(__LINE__, text, col, other, 0)
#define ERROR_AT_ANY(text, a, b, c) expect_error(__LINE__, text, a, b, c)
#define ERROR_ANYWHERE(text) expect_error(__LINE__, text, 0, 0, 0)

/* Checks that text compiles. */
static void
expect_compiles(int line, const char *text)
{
    struct cdp_expr_error err;
    memset(&err, 0, sizeof err);
    struct cdp_expr *e = cdp_expr_compile(text, now_ms, &err);
    if (e == NULL)
        fail(line, "%s: compile error at column %zu: %s", text, err.column, err.message);
    else
        pass();
    cdp_expr_free(e);
}

#define COMPILES(text) expect_compiles(__LINE__, text)

/* Checks the CDP_EXPR_NEEDS_* bits of text. */
static void
expect_needs(int line, const char *text, unsigned want)
{
    struct cdp_expr_error err;
    memset(&err, 0, sizeof err);
    struct cdp_expr *e = cdp_expr_compile(text, now_ms, &err);
    if (e == NULL) {
        fail(line, "%s: compile error at column %zu: %s", text, err.column, err.message);
        return;
    }
    unsigned got = cdp_expr_needs(e);
    if (got == want)
        pass();
    else
        fail(line, "%s: needs %u, want %u", text, got, want);
    cdp_expr_free(e);
}

#define NEEDS(text, want) expect_needs(__LINE__, text, want)

/* ---- the two people of the field tests ---- */

/*
 * A person as a store record and as JSON: the JSON made by cdp_view (exactly
 * what cdp-export writes) and, for A, also written out by hand.
 */
struct person {
    struct cdp_profile profile;
    json_t *view;
    json_t *hand;
    struct cdp_expr_subject store_subject;
    struct cdp_expr_subject view_subject;
    struct cdp_expr_subject hand_subject;
};

static struct person a, b;
static char a_hex[CDP_ID_HEX_SIZE];

static void
set_trait(struct cdp_profile *p, const char *name, json_t *value)
{
    cdp_profile_set_trait(p, name, value, 1000, "crm", NULL);
    json_decref(value);
}

static void
subjects_of(struct person *x)
{
    memset(&x->store_subject, 0, sizeof x->store_subject);
    x->store_subject.id = x->profile.id;
    x->store_subject.head = &x->profile.head;
    x->store_subject.profile = &x->profile;
    x->view = cdp_view_profile_json(&x->profile);
    memset(&x->view_subject, 0, sizeof x->view_subject);
    x->view_subject.id = x->profile.id;
    x->view_subject.json = x->view;
    x->hand_subject = x->view_subject;
}

/*
 * Person A: e-mail and user id, many traits of every JSON type, orders, a
 * preferred payment method and a top category.
 */
static void
make_a(void)
{
    struct cdp_id id = cdp_hash_string("user:u1");
    struct cdp_profile *p = &a.profile;
    cdp_profile_init(p, &id);
    cdp_hash_to_hex(&id, a_hex);
    p->head.first_seen = at("2024-01-01T00:00:00Z");
    p->head.last_seen = at("2024-05-20T12:00:00.250Z");
    p->head.anchor_time = p->head.first_seen;
    p->head.first_order_at = at("2024-02-01T00:00:00Z");
    p->head.last_order_at = at("2024-05-10T12:30:00Z");
    p->head.time_on_site_ms = 3723500;
    p->head.revenue_micros = 120500000;
    p->head.events_count = 25;
    p->head.page_views = 10;
    p->head.visits = 4;
    p->head.email_opens = 2;
    p->head.email_clicks = 1;
    p->head.downloads = 0;
    p->head.support_contacts = 5;
    p->head.orders_count = 3;
    p->head.returns_count = 1;
    p->head.abandoned_carts = 1;
    cdp_profile_add_identifier(p, "user:u1");
    cdp_profile_add_identifier(p, "email:a@b.c");
    set_trait(p, "name", json_string("Jane Doe"));
    set_trait(p, "city", json_string("Lyon"));
    set_trait(p, "city2", json_string("Z\xc3\xbcrich"));
    set_trait(p, "age", json_string("31"));
    set_trait(p, "score", json_integer(42));
    set_trait(p, "ratio", json_real(2.5));
    set_trait(p, "neg", json_integer(-3));
    set_trait(p, "vip", json_true());
    set_trait(p, "churned", json_false());
    set_trait(p, "tags", json_pack("[s,s]", "vip", "early"));
    set_trait(p, "scores", json_pack("[i,i,i]", 1, 5, 9));
    set_trait(p, "signup_date", json_string("2024-05-15T00:00:00Z"));
    set_trait(p, "address", json_pack("{s:s,s:s}", "city", "Paris", "zip", "75001"));
    set_trait(p, "odd name", json_string("x"));
    set_trait(p, "quote", json_string("it's \"q\" \\ ok"));
    set_trait(p, "nothing", json_null());
    set_trait(p, "plan", json_string("Pro"));
    cdp_profile_tally(p, "payment_method", "card", 2);
    cdp_profile_tally(p, "payment_method", "paypal", 1);
    cdp_profile_tally(p, "category", "Books", 3);
    subjects_of(&a);

    /* The same person written out by hand, as cdp-export writes it. */
    static const char hand[] =
        "{\"id\":\"\",\"identifiers\":[\"email:a@b.c\",\"user:u1\"],"
        "\"traits\":{\"address\":{\"city\":\"Paris\",\"zip\":\"75001\"},\"age\":\"31\","
        "\"churned\":false,\"city\":\"Lyon\",\"city2\":\"Z\xc3\xbcrich\",\"name\":\"Jane Doe\","
        "\"neg\":-3,\"nothing\":null,\"odd name\":\"x\",\"plan\":\"Pro\","
        "\"quote\":\"it's \\\"q\\\" \\\\ ok\",\"ratio\":2.5,\"score\":42,\"scores\":[1,5,9],"
        "\"signup_date\":\"2024-05-15T00:00:00Z\",\"tags\":[\"vip\",\"early\"],\"vip\":true},"
        "\"computed\":{\"first_seen\":\"2024-01-01T00:00:00.000Z\","
        "\"last_seen\":\"2024-05-20T12:00:00.250Z\",\"events_count\":25,\"page_views\":10,"
        "\"visits\":4,\"time_on_site_s\":3723,\"email_opens\":2,\"email_clicks\":1,"
        "\"downloads\":0,\"support_contacts\":5,\"orders_count\":3,\"revenue_total\":120.5,"
        "\"avg_order_value\":40.166666,\"first_order_at\":\"2024-02-01T00:00:00.000Z\","
        "\"last_order_at\":\"2024-05-10T12:30:00.000Z\",\"purchase_frequency\":0.6029,"
        "\"returns_count\":1,\"abandoned_carts\":1,\"preferred_payment_method\":\"card\","
        "\"top_category\":\"Books\"},"
        "\"first_seen\":\"2024-01-01T00:00:00.000Z\",\"last_seen\":\"2024-05-20T12:00:00.250Z\"}";
    json_error_t error;
    a.hand = json_loads(hand, 0, &error);
    if (a.hand == NULL) {
        fprintf(stderr, "bad test JSON: %s\n", error.text);
        exit(1);
    }
    json_object_set_new(a.hand, "id", json_string(a_hex));
    a.hand_subject.json = a.hand;
}

/* Person B: one anonymous id, no traits, no orders: most computed fields are null. */
static void
make_b(void)
{
    struct cdp_id id = cdp_hash_string("anon:x");
    struct cdp_profile *p = &b.profile;
    cdp_profile_init(p, &id);
    p->head.first_seen = at("2024-05-30T00:00:00Z");
    p->head.last_seen = at("2024-05-30T00:00:00Z");
    p->head.anchor_time = p->head.first_seen;
    p->head.events_count = 1;
    p->head.page_views = 1;
    p->head.visits = 1;
    cdp_profile_add_identifier(p, "anon:x");
    subjects_of(&b);
    b.hand = NULL;
}

static void
free_person(struct person *x)
{
    cdp_profile_free(&x->profile);
    json_decref(x->view);
    json_decref(x->hand);
}

/* The fixture itself: the hand-written JSON is what cdp-export writes for A. */
static void
test_fixture(void)
{
    CHECK(json_equal(a.view, a.hand));
    if (!json_equal(a.view, a.hand)) {
        char *text = json_dumps(a.view, JSON_SORT_KEYS);
        fprintf(stderr, "view of A: %s\n", text ? text : "(null)");
        free(text);
    }
    CHECK(json_is_null(json_object_get(json_object_get(b.view, "computed"), "avg_order_value")));
}

/* ---- the table: each expression, on every subject of A and B ---- */

struct row {
    const char *text;
    int a; /* want for person A: 1 true, 0 false, -1 not checked */
    int b; /* want for person B */
};

static const struct row table[] = {
    /* Computed fields, one by one; null ones on B. */
    {"computed.orders_count = 3", 1, 0},
    {"computed.orders_count = 0", 0, 1},
    {"computed.orders_count >= 2", 1, 0},
    {"computed.orders_count in [1, 2, 3]", 1, 0},
    {"computed.orders_count not in [1, 2, 3]", 0, 1},
    /* An empty list holds nothing. */
    {"computed.orders_count in []", 0, 0},
    {"traits.city in []", 0, 0},
    {"computed.revenue_total = 120.5", 1, 0},
    {"computed.revenue_total = 0", 0, 1},
    {"computed.revenue_total > 120 and computed.revenue_total < 121", 1, 0},
    {"computed.avg_order_value > 40.16 and computed.avg_order_value < 40.17", 1, 0},
    {"computed.avg_order_value = null", 0, 1},
    {"computed.avg_order_value != null", 1, 0},
    {"computed.avg_order_value >= 0", 1, 0},
    {"computed.avg_order_value < 0", 0, 0},
    {"computed.purchase_frequency > 0.6 and computed.purchase_frequency < 0.61", 1, 0},
    {"computed.purchase_frequency = null", 0, 1},
    {"computed.events_count = 25", 1, 0},
    {"computed.events_count = 1", 0, 1},
    {"computed.page_views = 10", 1, 0},
    {"computed.visits = 4", 1, 0},
    {"computed.time_on_site_s = 3723", 1, 0},
    {"computed.time_on_site_s = 0", 0, 1},
    {"computed.email_opens = 2 and computed.email_clicks = 1", 1, 0},
    {"computed.downloads = 0", 1, 1},
    {"computed.support_contacts = 5", 1, 0},
    {"computed.returns_count = 1 and computed.abandoned_carts = 1", 1, 0},
    {"computed.preferred_payment_method = 'card'", 1, 0},
    {"computed.preferred_payment_method = null", 0, 1},
    {"computed.preferred_payment_method != 'card'", 0, 0},
    {"computed.preferred_payment_method != 'paypal'", 1, 0},
    {"computed.top_category = 'Books'", 1, 0},
    {"computed.top_category in ['Books', 'Toys']", 1, 0},

    /* Times: top-level and computed, literals, quoted dates, arithmetic. */
    {"computed.first_seen = 2024-01-01", 1, 0},
    {"computed.first_seen = 2024-01-01T00:00:00Z", 1, 0},
    {"computed.first_seen = '2024-01-01'", 1, 0},
    {"computed.first_seen = \"2024-01-01T00:00:00Z\"", 1, 0},
    {"computed.first_seen < '2024-01-02T00:00:00Z'", 1, 0},
    {"first_seen = computed.first_seen", 1, 1},
    {"last_seen = computed.last_seen", 1, 1},
    {"first_seen <= last_seen", 1, 1},
    {"first_seen < last_seen", 1, 0},
    {"last_seen = 2024-05-20T12:00:00.250Z", 1, 0},
    {"last_seen > 2024-05-20T12:00:00Z", 1, 1},
    {"last_seen >= now - 14d", 1, 1},
    {"last_seen >= now - 7d", 0, 1},
    {"last_seen < now", 1, 1},
    {"first_seen = 2024-05-30", 0, 1},
    {"computed.first_order_at = 2024-02-01", 1, 0},
    {"computed.first_order_at < now", 1, 0},
    {"computed.first_order_at = null", 0, 1},
    {"computed.first_order_at != null", 1, 0},
    {"computed.first_order_at > 2000-01-01", 1, 0},
    {"computed.last_order_at > now - 30d", 1, 0},
    {"computed.last_order_at > now - 7d", 0, 0},
    {"computed.last_order_at - computed.first_order_at > 99d", 1, 0},
    {"computed.last_order_at - computed.first_order_at < 100d", 1, 0},
    {"computed.last_order_at - computed.first_order_at = 99d + 12h + 30m", 1, 0},
    {"last_seen - first_seen > 140d", 1, 0},
    {"last_seen - first_seen = 0s", 0, 1},
    {"computed.first_seen + 31d = 2024-02-01", 1, 0},
    {"computed.first_seen + 1w > 2024-01-07", 1, 1},
    {"computed.orders_count >= 2 and computed.last_order_at > now - 90d", 1, 0},

    /* Identifiers: an array, true when any element does. */
    {"identifiers contains 'email:a@b.c'", 1, 0},
    {"identifiers contains 'user:u1'", 1, 0},
    {"identifiers contains 'user:u2'", 0, 0},
    {"identifiers contains 'anon:x'", 0, 1},
    {"identifiers starts_with 'email:'", 1, 0},
    {"identifiers starts_with 'anon:'", 0, 1},
    {"identifiers starts_with 'phone:'", 0, 0},
    {"identifiers ends_with ':u1'", 1, 0},
    {"identifiers in ['user:u1', 'user:u2']", 1, 0},
    {"identifiers in ['user:u9']", 0, 0},

    /* Trait strings, lists, nested paths, odd names. */
    {"traits.city = 'Lyon'", 1, 0},
    {"traits.city == \"Lyon\"", 1, 0},
    {"traits.city != 'Paris'", 1, 0},
    {"traits.city in ['Lyon', 'Villeurbanne']", 1, 0},
    {"traits.city in ['Paris']", 0, 0},
    {"traits.city not in ['Paris', 'Nice']", 1, 0},
    {"traits.city not in ['Lyon']", 0, 0},
    {"traits.address.city = 'Paris'", 1, 0},
    {"traits.address.zip starts_with '75'", 1, 0},
    {"traits[\"odd name\"] = 'x'", 1, 0},
    {"traits['odd name'] = 'x'", 1, 0},
    {"traits.city < 'M'", 1, 0},
    {"traits.city > 'Lyon'", 0, 0},
    {"traits.city >= 'Lyon' and traits.city <= 'Lyon'", 1, 0},
    {"traits.plan > 'Ap'", 1, 0},
    {"traits.plan < 'pro'", 1, 0}, /* 'P' (0x50) sorts before 'p' (0x70) */
    {"traits.plan = 'pro'", 0, 0}, /* comparisons are case-sensitive */

    /* Trait arrays. */
    {"traits.tags contains 'vip'", 1, 0},
    {"traits.tags contains 'gold'", 0, 0},
    {"traits.tags in ['early', 'late']", 1, 0},
    {"traits.tags in ['late']", 0, 0},
    {"traits.scores contains 5", 1, 0},
    {"traits.scores contains 6", 0, 0},

    /* Trait numbers, numeric strings, mismatches at evaluation. */
    {"traits.score = 42", 1, 0},
    {"traits.score = 42.0", 1, 0},
    {"traits.score > 41.5 and traits.score < 42.5", 1, 0},
    {"traits.score * 2 = 84", 1, 0},
    {"traits.score / 4 = 10.5", 1, 0},
    {"traits.score - 50 = -8", 1, 0},
    {"traits.score in [41, 42, 43]", 1, 0},
    {"traits.ratio = 2.5", 1, 0},
    {"traits.ratio * traits.score = 105", 1, 0},
    {"traits.neg < 0 and traits.neg = -3", 1, 0},
    {"-traits.neg = 3", 1, 0},
    {"traits.age = '31'", 1, 0},
    {"traits.age = \"31\"", 1, 0},
    {"traits.age > 30", 1, 0},
    {"traits.age = 31", 1, 0},
    {"traits.age < 31", 0, 0},
    {"traits.city > 3", 0, 0},
    {"traits.city = 3", 0, 0},
    {"not (traits.city > 3)", 1, 1},
    {"traits.score / 0 > 0", 0, 0},
    {"traits.score / 0 < 0", 0, 0},
    {"traits.score / 0 = 0", 0, 0},
    {"traits.score / 0 != 0", 0, 0},
    {"traits.score / 0 = null", 1, 1},
    {"computed.orders_count / 0 >= 0", 0, 0},

    /* Trait dates stored as ISO strings, compared with times. */
    {"traits.signup_date = 2024-05-15", 1, 0},
    {"traits.signup_date > now - 30d", 1, 0},
    {"traits.signup_date < now - 7d", 1, 0},
    {"traits.signup_date > computed.first_seen", 1, 0},
    {"now - traits.signup_date = 17d", 1, 0},
    {"traits.city > 2024-01-01", 0, 0},
    {"traits.city < 2024-01-01", 0, 0},

    /* String operators. */
    {"traits.name contains 'Doe'", 1, 0},
    {"traits.name contains 'doe'", 0, 0},
    {"traits.name contains ''", 1, 0},
    {"traits.name starts_with 'Jane'", 1, 0},
    {"traits.name starts_with 'Doe'", 0, 0},
    {"traits.name ends_with 'Doe'", 1, 0},
    {"traits.name ends_with 'Jane'", 0, 0},
    {"traits.name matches '^J[a-z]+ D'", 1, 0},
    {"traits.name matches '^(Jane|John) Doe$'", 1, 0},
    {"traits.name matches 'e D'", 1, 0},
    {"traits.name matches '^doe'", 0, 0},
    {"traits.name matches '[0-9]+'", 0, 0},
    {"traits.address.zip matches '^[0-9]{5}$'", 1, 0},

    /* Quotes, escapes and UTF-8. */
    {"traits.quote = 'it\\'s \"q\" \\\\ ok'", 1, 0},
    {"traits.quote = \"it's \\\"q\\\" \\\\ ok\"", 1, 0},
    {"traits.quote contains '\\\\'", 1, 0},
    {"traits.quote contains \"'\"", 1, 0},
    {"traits.quote contains '\"'", 1, 0},
    {"traits.city2 = 'Z\xc3\xbcrich'", 1, 0},
    {"traits.city2 contains '\xc3\xbc'", 1, 0},
    {"traits.city2 starts_with 'Z\xc3\xbc'", 1, 0},
    {"traits.city2 matches '\xc3\xbcr'", 1, 0},
    {"traits.city2 = 'Zurich'", 0, 0},

    /* Booleans: literals and boolean traits used directly. */
    {"traits.vip", 1, 0},
    {"not traits.vip", 0, -1},
    {"traits.vip = true", 1, 0},
    {"traits.vip != false", 1, 0},
    {"traits.churned", 0, 0},
    {"not traits.churned", 1, -1},
    {"traits.churned = false", 1, 0},
    {"traits.vip and not traits.churned", 1, 0},
    {"traits.churned or traits.vip", 1, 0},
    {"traits.churned and traits.vip", 0, 0},
    {"traits.vip = traits.vip", 1, 0},

    /* Nulls: a missing field is false under every operator, but = null / != null. */
    {"traits.missing = 1", 0, 0},
    {"traits.missing != 1", 0, 0},
    {"traits.missing < 1", 0, 0},
    {"traits.missing <= 1", 0, 0},
    {"traits.missing > 1", 0, 0},
    {"traits.missing >= 1", 0, 0},
    {"traits.missing = 'a'", 0, 0},
    {"traits.missing != 'a'", 0, 0},
    {"traits.missing < 'a'", 0, 0},
    {"traits.missing contains 'a'", 0, 0},
    {"traits.missing starts_with 'a'", 0, 0},
    {"traits.missing ends_with 'a'", 0, 0},
    {"traits.missing matches 'a'", 0, 0},
    {"traits.missing matches '.*'", 0, 0},
    {"traits.missing in ['a', 'b']", 0, 0},
    {"traits.missing in [1, 2]", 0, 0},
    {"traits.missing not in ['a', 'b']", 0, 0},
    {"traits.missing < now", 0, 0},
    {"traits.missing > 2024-01-01", 0, 0},
    {"traits.missing = true", 0, 0},
    {"traits.missing = false", 0, 0},
    {"traits.missing != true", 0, 0},
    {"traits.missing + 1 > 0", 0, 0},
    {"-traits.missing < 0", 0, 0},
    {"traits.missing = traits.missing2", 0, 0},
    {"traits.missing = null", 1, 1},
    {"traits.missing != null", 0, 0},
    {"not (traits.missing > 1)", 1, 1},
    {"not (traits.missing = 'a')", 1, 1},
    {"traits.nothing = null", 1, 1},
    {"traits.nothing = 'x'", 0, 0},
    {"traits.city = null", 0, 1},
    {"traits.city != null", 1, 0},
    {"traits.address.nope = 'x'", 0, 0},
    {"traits.address.nope = null", 1, 1},
    {"traits.city.sub = 'x'", 0, 0},
    {"traits.city.sub = null", 1, 1},

    /* exists, postfix and function form. */
    {"traits.city exists", 1, 0},
    {"traits.missing exists", 0, 0},
    {"traits.churned exists", 1, 0},
    {"traits.address.city exists", 1, 0},
    {"traits.address.nope exists", 0, 0},
    {"traits.city.sub exists", 0, 0},
    {"exists(traits.city)", 1, 0},
    {"exists(traits.missing)", 0, 0},
    {"not exists(traits.missing)", 1, 1},
    {"not traits.missing exists", 1, 1},
    {"not traits.city exists", 0, 1},
    {"computed.first_order_at exists", 1, 0},
    {"identifiers exists", 1, 1},

    /* Consent without a store or a consent member: false for everyone. */
    {"consent.email_marketing", 0, 0},
    {"not consent.email_marketing", 1, 1},
    {"consent.email_marketing or traits.vip", 1, 0},

    /* Event functions without a store see no events. */
    {"count() = 0", 1, 1},
    {"count(event = 'Order Completed') > 0", 0, 0},
    {"ever()", 0, 0},
    {"not ever(event = 'Order Completed', within 30d)", 1, 1},

    /* Keywords in any case. */
    {"traits.vip AND TRUE", 1, 0},
    {"FALSE Or traits.vip", 1, 0},
    {"NOT traits.churned And traits.city IN ['Lyon']", 1, 0},
    {"traits.city Not In ['Paris']", 1, 0},
    {"traits.city NOT IN ['Paris']", 1, 0},
    {"traits.missing = NULL", 1, 1},
    {"traits.city != Null", 1, 0},
    {"traits.name CONTAINS 'Doe' and traits.name Starts_With 'J'", 1, 0},
    {"traits.name ENDS_WITH 'Doe' and traits.name MATCHES 'D'", 1, 0},
    {"traits.city EXISTS", 1, 0},
    {"last_seen > NOW - 30d", 1, 1},
    {"traits.vip = True", 1, 0},
};

/* Every row of the table on every subject: the shape of the subject never matters. */
static void
test_table(void)
{
    struct cdp_expr_subject *as[] = {&a.store_subject, &a.view_subject, &a.hand_subject};
    const char *a_names[] = {"A store", "A view JSON", "A hand JSON"};
    struct cdp_expr_subject *bs[] = {&b.store_subject, &b.view_subject};
    const char *b_names[] = {"B store", "B view JSON"};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct row *r = &table[i];
        if (r->a >= 0)
            for (size_t k = 0; k < 3; k++)
                expect_match(__LINE__, a_names[k], as[k], r->text, r->a == 1);
        if (r->b >= 0)
            for (size_t k = 0; k < 2; k++)
                expect_match(__LINE__, b_names[k], bs[k], r->text, r->b == 1);
    }
}

/* The id field: 32 lower-case hex digits of the profile id. */
static void
test_id(void)
{
    char text[128];
    snprintf(text, sizeof text, "id = '%s'", a_hex);
    MATCH(&a.store_subject, text, true);
    MATCH(&a.view_subject, text, true);
    MATCH(&a.hand_subject, text, true);
    MATCH(&b.store_subject, text, false);
    MATCH(&b.view_subject, text, false);
    snprintf(text, sizeof text, "id starts_with '%.6s'", a_hex);
    MATCH(&a.store_subject, text, true);
    MATCH(&a.view_subject, text, true);
    snprintf(text, sizeof text, "id != '%s'", a_hex);
    MATCH(&b.store_subject, text, true);
    MATCH(&b.view_subject, text, true);
    MATCH(&a.store_subject, "id matches '^[0-9a-f]{32}$'", true);
    MATCH(&a.view_subject, "id matches '^[0-9a-f]{32}$'", true);
}

/* ---- literals and operators, on constant expressions ---- */

/* Constant expressions are the same on every subject; two are enough. */
static void
constant(int line, const char *text, bool want)
{
    expect_match(line, "A view JSON", &a.view_subject, text, want);
    expect_match(line, "B store", &b.store_subject, text, want);
}

#define CONSTANT(text, want) constant(__LINE__, text, want)

static void
test_precedence(void)
{
    /* and binds tighter than or, both sides. */
    CONSTANT("true or false and false", true);  /* true or (false and false) */
    CONSTANT("false and false or true", true);  /* (false and false) or true */
    CONSTANT("false and true or true", true);   /* (false and true) or true */
    CONSTANT("true or true and false", true);   /* not (true or true) and false */
    CONSTANT("false or true and false", false); /* false or (true and false) */
    /* not binds tighter than and and or. */
    CONSTANT("not false and false", false); /* (not false) and false */
    CONSTANT("not true or true", true);     /* (not true) or true */
    CONSTANT("not (true or true)", false);
    CONSTANT("not not true", true);
    CONSTANT("not not not true", false);
    /* Comparison binds tighter than not: not (1 = 2). */
    CONSTANT("not 1 = 2", true);
    CONSTANT("not 1 < 2", false);
    CONSTANT("not 1 + 1 = 3", true);
    /* Comparison binds tighter than and/or. */
    CONSTANT("1 = 1 and 2 = 2", true);
    CONSTANT("1 = 2 or 2 = 2", true);
    /* * and / before + and -. */
    CONSTANT("1 + 2 * 3 = 7", true);
    CONSTANT("(1 + 2) * 3 = 9", true);
    CONSTANT("2 * 3 + 4 * 5 = 26", true);
    CONSTANT("10 - 6 / 2 = 7", true);
    CONSTANT("1 + 2 * 3 = 9", false);
    /* Left associativity. */
    CONSTANT("10 - 4 - 3 = 3", true);
    CONSTANT("24 / 4 / 2 = 3", true);
    CONSTANT("2 * 6 / 3 = 4", true);
    CONSTANT("10 - 4 + 3 = 9", true);
    /* Unary minus binds tightest. */
    CONSTANT("-1 < 0", true);
    CONSTANT("-2 * 3 = -6", true);
    CONSTANT("-2 * -3 = 6", true);
    CONSTANT("2 - -1 = 3", true);
    CONSTANT("-(1 + 2) = -3", true);
    CONSTANT("- 2 + 5 = 3", true);
    CONSTANT("-3 - -3 = 0", true);
    /* Parentheses, nested and redundant. */
    CONSTANT("((1 + 2) * (3 + 4)) = 21", true);
    CONSTANT("(((true)))", true);
    CONSTANT("(false or (true and (not false)))", true);
    CONSTANT("(1 = 1) = true", true);
    CONSTANT("(1 = 2) = false", true);
}

static void
test_numbers(void)
{
    CONSTANT("3 = 3.0", true);
    CONSTANT("0.5 < 1", true);
    CONSTANT("1.25 + 1.25 = 2.5", true);
    CONSTANT("-1 < 0", true);
    CONSTANT("-0.5 > -1", true);
    CONSTANT("10 / 4 = 2.5", true); /* not integer division */
    CONSTANT("7 - 10 = -3", true);
    CONSTANT("1000000 * 1000000 = 1000000000000", true);
    CONSTANT("1 != 2", true);
    CONSTANT("2 <= 2 and 2 >= 2 and not (2 < 2) and not (2 > 2)", true);
    CONSTANT("1 == 1", true);
    /* Division by zero is null: false under every comparison but "= null". */
    CONSTANT("1 / 0 = 0", false);
    CONSTANT("1 / 0 != 0", false);
    CONSTANT("1 / 0 > 0", false);
    CONSTANT("1 / 0 < 0", false);
    CONSTANT("1 / 0 = 1 / 0", false);
    CONSTANT("not (1 / 0 > 0)", true);
    CONSTANT("1 / 0 = null", true);
    CONSTANT("0 / 0 = null", true);
    CONSTANT("(1 / 0) + 1 > 0", false);
    /* A date is one token; the same digits with spaces are arithmetic. */
    CONSTANT("2024 - 5 - 1 = 2018", true);
    CONSTANT("2024-05-01 < 2024-05-02", true);
    /* Numbers in lists. */
    CONSTANT("2 in [1, 2, 3]", true);
    CONSTANT("4 in [1, 2, 3]", false);
    CONSTANT("4 not in [1, 2, 3]", true);
    CONSTANT("2.5 in [2.5]", true);
    CONSTANT("-1 in [-1]", true);
}

static void
test_times(void)
{
    /* now is what compile was given. */
    CONSTANT("now = 2024-06-01", true);
    CONSTANT("now = 2024-06-01T00:00:00Z", true);
    CONSTANT("now = '2024-06-01'", true);
    CONSTANT("now > 2024-05-31T23:59:59Z", true);
    CONSTANT("now < 2024-06-01T00:00:01Z", true);
    CONSTANT("2024-05-01T10:00:00Z > 2024-05-01", true);
    CONSTANT("2024-05-01T10:00:00Z = 2024-05-01 + 10h", true);
    /* Durations of every unit. */
    CONSTANT("1d = 24h", true);
    CONSTANT("2w = 14d", true);
    CONSTANT("1h = 60m", true);
    CONSTANT("1m = 60s", true);
    CONSTANT("15m = 900s", true);
    CONSTANT("45s < 1m", true);
    CONSTANT("30d > 4w", true);
    CONSTANT("12h + 12h = 1d", true);
    CONSTANT("1d - 12h = 12h", true);
    /* now - duration, time - time, time + duration. */
    CONSTANT("now - 90d = 2024-03-03", true);
    CONSTANT("now - 1d = 2024-05-31", true);
    CONSTANT("now + 1d = 2024-06-02", true);
    CONSTANT("now - 12h = 2024-05-31T12:00:00Z", true);
    CONSTANT("now - 1d - 1d = now - 2d", true);
    CONSTANT("now - 2024-05-01 = 31d", true);
    CONSTANT("now - 2024-05-01 > 30d", true);
    CONSTANT("2024-05-02 - 2024-05-01 = 24h", true);
    CONSTANT("2024-05-01 - now < 0s", true);
    CONSTANT("2024-05-01 + 2w = 2024-05-15", true);
    CONSTANT("2024-05-01 < now - 30d", true);
    CONSTANT("2024-05-01 > now - 31d", false);
    /* Quoted date strings beside a time are dates. */
    CONSTANT("now > '2024-05-01'", true);
    CONSTANT("'2024-05-01' < now", true);
}

static void
test_strings(void)
{
    CONSTANT("'abc' = \"abc\"", true);
    CONSTANT("'abc' != 'abd'", true);
    CONSTANT("'abc' < 'abd'", true);
    CONSTANT("'abd' > 'abc'", true);
    CONSTANT("'B' < 'a'", true);    /* byte order, not case-folded */
    CONSTANT("'ab' < 'abc'", true); /* a prefix sorts first */
    CONSTANT("'' < 'a'", true);
    CONSTANT("'z' < '\xc3\xa9'", true); /* UTF-8 bytes above ASCII */
    CONSTANT("'abc' contains 'b'", true);
    CONSTANT("'abc' starts_with 'ab'", true);
    CONSTANT("'abc' ends_with 'bc'", true);
    CONSTANT("'abc' ends_with 'ab'", false);
    CONSTANT("'abc' matches 'a.c'", true);
    CONSTANT("'a+c' matches 'a\\\\+c'", true);
    CONSTANT("'abc' in ['x', 'abc']", true);
    CONSTANT("'abc' not in ['x', 'abc']", false);
    /* Escapes in both quote styles. */
    CONSTANT("'it\\'s' = \"it's\"", true);
    CONSTANT("\"say \\\"hi\\\"\" = 'say \"hi\"'", true);
    CONSTANT("'a\\\\b' = \"a\\\\b\"", true);
    CONSTANT("'a\\\\b' != 'ab'", true);
    CONSTANT("'a\\\\' ends_with '\\\\'", true); /* an escaped backslash before the quote */
    /* UTF-8 text in literals, and in names of traits given in brackets. */
    CONSTANT("'\xc3\xa9t\xc3\xa9' = \"\xc3\xa9t\xc3\xa9\"", true);
    CONSTANT("'\xe6\x9d\xb1\xe4\xba\xac' contains '\xe4\xba\xac'", true);
    CONSTANT("traits['\xc3\xa9t\xc3\xa9'] = null", true);
}

/* Every keyword and literal form in upper or mixed case. */
static void
test_keywords(void)
{
    CONSTANT("TRUE", true);
    CONSTANT("True and not False", true);
    CONSTANT("NOT FALSE", true);
    CONSTANT("false OR true", true);
    CONSTANT("true AnD true", true);
    CONSTANT("1 IN [1]", true);
    CONSTANT("1 NOT IN [2]", true);
    CONSTANT("'ab' CONTAINS 'b'", true);
    CONSTANT("now = NOW", true);
    CONSTANT("1 / 0 = NULL", true);
}

/* ---- compile errors ---- */

static void
test_errors(void)
{
    /* The examples of lib/expr.h compile. */
    COMPILES("computed.orders_count >= 2 and computed.last_order_at > now - 90d");
    COMPILES("count(event = 'Order Completed', within 90d) >= 2");
    COMPILES("traits.city in ['Lyon', 'Villeurbanne'] and consent.email_marketing");
    COMPILES("  traits.x = 1\t\n");
    /* Unexpected end: the column is just past the last character. */
    ERROR_AT("", 1);
    ERROR_AT_EITHER("   ", 4, 1); /* past the blanks, or "the expression is empty" */
    ERROR_AT("traits.x =", 11);
    ERROR_AT("traits.x = 'a' and", 19);
    ERROR_AT("not", 4);
    ERROR_AT("traits.x in", 12);
    ERROR_AT_EITHER("traits.x not", 13, 10); /* the end, or the "not" that no "in" follows */
    ERROR_AT("1 +", 4);
    ERROR_AT("traits.", 8);
    /* Unexpected token: the column of the token. */
    ERROR_AT("traits.x = = 3", 12);
    ERROR_AT("traits.x = 1 1", 14);
    ERROR_AT("traits.x = 1)", 13);
    ERROR_AT("and true", 1);
    ERROR_AT("true and or false", 10);
    ERROR_AT("traits.x = 1 traits.y = 2", 14);
    ERROR_AT("()", 2);
    ERROR_AT("traits.x = ,", 12);
    ERROR_AT_EITHER("traits.x not 'a'", 14, 10);
    /* An unexpected character. */
    ERROR_AT("traits.x @ 1", 10);
    ERROR_AT("traits.x = 1 # comment", 14);
    ERROR_AT("traits.x = $1", 12);
    /* Unclosed string: at its opening quote (or at the end, where it was noticed). */
    ERROR_AT_EITHER("traits.x = 'abc", 12, 16);
    ERROR_AT_EITHER("traits.x = \"abc", 12, 16);
    ERROR_AT_EITHER("traits.x = 'abc\\'", 12, 18);
    ERROR_AT_EITHER("traits['odd = 1", 8, 16);
    /* Unclosed parenthesis and bracket: at the end (or at the opener). */
    ERROR_AT_EITHER("(traits.x = 1", 14, 1);
    ERROR_AT_EITHER("((true)", 8, 1);
    ERROR_AT_EITHER("traits.x in ['a', 'b'", 22, 13);
    ERROR_AT_ANY("count(event = 'x'", 18, 6, 1);
    ERROR_AT_EITHER("traits['odd' = 1", 14, 7);
    /* Unknown fields: at the start of the field (or at the bad name). */
    ERROR_AT_EITHER("computed.nope > 1", 1, 10);
    ERROR_AT_EITHER("true and computed.nope = 1", 10, 19);
    ERROR_AT("bogus > 1", 1);
    ERROR_AT("foo.bar = 1", 1);
    ERROR_AT("true and name = 'x'", 10);
    /* Bad durations. */
    ERROR_AT("last_seen > now - 30x", 19);
    ERROR_AT("last_seen > now - 30dd", 19);
    ERROR_ANYWHERE("last_seen > now - 3.5.1d");
    /* Bad dates. */
    ERROR_AT("last_seen > 2024-13-45", 13);
    /* Unknown function. */
    ERROR_AT("frobnicate(1) > 2", 1);
    ERROR_AT("true and nope() > 2", 10);
    /* Wrong arguments to a function. */
    ERROR_ANYWHERE("count(event = 'x', within 1d, 3) > 1");
    ERROR_ANYWHERE("count(event = 'x', within 1d, within 2d) > 1");
    ERROR_ANYWHERE("sum() > 1");
    ERROR_ANYWHERE("avg() > 1");
    ERROR_ANYWHERE("min() > 1");
    ERROR_ANYWHERE("max() > 1");
    ERROR_ANYWHERE("exists()");
    ERROR_ANYWHERE("exists(traits.x, traits.y)");
    ERROR_ANYWHERE("count(event = 'x' within 1d) > 1");
    ERROR_ANYWHERE("count(event = 'x', within) > 1");
    ERROR_ANYWHERE("count(event = 'x', within 5) > 1");
    ERROR_ANYWHERE("count(event = 'x', within 'abc') > 1");
    ERROR_ANYWHERE("count(, ) > 1");
    /* An invalid regular expression, at the pattern (or at "matches"). */
    ERROR_AT_EITHER("traits.x matches '('", 18, 10);
    ERROR_AT_EITHER("traits.x matches '[a-'", 18, 10);
    ERROR_AT_EITHER("traits.x matches 'a{2,1}'", 18, 10);
    /* Type errors: a string that is not a date beside a time. */
    ERROR_AT_ANY("computed.first_seen = 'hello'", 23, 21, 1);
    ERROR_AT_ANY("'hello' < now", 1, 9, 11);
    ERROR_AT_ANY("last_seen > '2024-13-45'", 13, 11, 1);
    ERROR_ANYWHERE("computed.first_seen = 3");
    ERROR_ANYWHERE("computed.first_seen + 1 > now");
    /* Number against duration, time against duration. */
    ERROR_AT_ANY("computed.orders_count > 30d", 25, 23, 1);
    ERROR_ANYWHERE("1 + 1d > 0");
    ERROR_ANYWHERE("computed.first_seen > 30d");
    ERROR_ANYWHERE("computed.orders_count > now");
    ERROR_ANYWHERE("now + now > now");
    ERROR_ANYWHERE("computed.orders_count + 'a' > 1");
    ERROR_ANYWHERE("'a' * 2 = 'aa'");
    ERROR_ANYWHERE("-'a' = 'a'");
    ERROR_ANYWHERE("-true");
    /* and/or/not on something that is not a condition. */
    ERROR_AT_ANY("traits.x and 1", 14, 10, 0);
    ERROR_AT_ANY("1 or traits.x", 1, 3, 0);
    ERROR_AT_ANY("not 5", 5, 1, 0);
    ERROR_ANYWHERE("computed.orders_count and true");
    ERROR_ANYWHERE("'yes' or true");
    ERROR_ANYWHERE("now and true");
    /* The whole expression is not a condition. */
    ERROR_AT("computed.orders_count", 1);
    ERROR_AT("1", 1);
    ERROR_AT("'abc'", 1);
    ERROR_AT("now", 1);
    ERROR_AT("30d", 1);
    ERROR_AT_EITHER("1 + 2", 1, 3);
    ERROR_AT("computed.last_seen", 1);
    ERROR_ANYWHERE("count()");
    ERROR_ANYWHERE("first()");
    ERROR_ANYWHERE("sum(properties.revenue)");
    /* Comparisons do not chain: (1 < 2) < 3 would compare a condition with a number. */
    ERROR_AT_EITHER("1 < 2 < 3", 7, 1);
    ERROR_AT_EITHER("computed.orders_count > 1 > 0", 27, 1);
    /* Character columns, not byte columns: 'Zürich' is 8 characters, 9 bytes. */
    ERROR_AT("traits.city = 'Z\xc3\xbcrich' 1", 24);
    ERROR_AT("'\xe6\x9d\xb1\xe4\xba\xac' = 'x' 1", 12);
}

/* A comparison chain must not crash: either it compiles and evaluates, or it is an error. */
static void
test_chains(void)
{
    const char *chains[] = {"1 < 2 < 3", "traits.x = 1 = 2", "1 = 1 = true",
                            "computed.orders_count > 1 > 0", "'a' < 'b' < 'c'"};
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        struct cdp_expr_error err;
        memset(&err, 0, sizeof err);
        struct cdp_expr *e = cdp_expr_compile(chains[i], now_ms, &err);
        if (e == NULL) {
            CHECK(err.message[0] != '\0');
            CHECK(err.column >= 1 && err.column <= strlen(chains[i]) + 1);
        } else {
            bool m;
            CHECK_INT(cdp_expr_match(e, &a.store_subject, &m), 0);
            CHECK_INT(cdp_expr_match(e, &a.view_subject, &m), 0);
            cdp_expr_free(e);
        }
    }
}

/* The two lines of cdp_expr_show_error, exactly. */
static void
test_show_error(void)
{
    struct cdp_expr_error err;
    struct cdp_buf out = CDP_BUF_INIT;

    /* From a real compile error. */
    const char *text = "traits.x = = 3";
    memset(&err, 0, sizeof err);
    CHECK(cdp_expr_compile(text, now_ms, &err) == NULL);
    CHECK_INT(err.column, 12);
    cdp_expr_show_error(text, &err, &out);
    CHECK_STR(out.data, "  traits.x = = 3\n"
                        "             ^\n");

    /* Appends to what the buffer holds. */
    cdp_buf_reset(&out);
    cdp_buf_puts(&out, "cdp-segment: syntax error\n");
    text = "traits.x = 1 +";
    memset(&err, 0, sizeof err);
    CHECK(cdp_expr_compile(text, now_ms, &err) == NULL);
    CHECK_INT(err.column, 15);
    cdp_expr_show_error(text, &err, &out);
    CHECK_STR(out.data, "cdp-segment: syntax error\n"
                        "  traits.x = 1 +\n"
                        "                ^\n");

    /* Tabs and newlines are shown as spaces. */
    cdp_buf_reset(&out);
    memset(&err, 0, sizeof err);
    err.column = 3;
    snprintf(err.message, sizeof err.message, "test");
    cdp_expr_show_error("a\tb\n= c", &err, &out);
    CHECK_STR(out.data, "  a b = c\n"
                        "    ^\n");

    /* The caret counts characters: one space for the two bytes of ü. */
    cdp_buf_reset(&out);
    text = "traits.city = 'Z\xc3\xbcrich' 1";
    memset(&err, 0, sizeof err);
    CHECK(cdp_expr_compile(text, now_ms, &err) == NULL);
    CHECK_INT(err.column, 24);
    cdp_expr_show_error(text, &err, &out);
    CHECK_STR(out.data, "  traits.city = 'Z\xc3\xbcrich' 1\n"
                        "                         ^\n");

    /* Column 1. */
    cdp_buf_reset(&out);
    memset(&err, 0, sizeof err);
    err.column = 1;
    cdp_expr_show_error("bogus", &err, &out);
    CHECK_STR(out.data, "  bogus\n"
                        "  ^\n");
    cdp_buf_free(&out);
}

/* ---- what evaluation needs ---- */

static void
test_needs(void)
{
    NEEDS("computed.orders_count > 1", 0);
    NEEDS("computed.last_order_at > now - 90d and computed.revenue_total > 10", 0);
    NEEDS("first_seen > 2024-01-01 and last_seen < now", 0);
    NEEDS("true", 0);
    NEEDS("traits.city = 'Lyon'", CDP_EXPR_NEEDS_SECTIONS);
    NEEDS("traits.vip", CDP_EXPR_NEEDS_SECTIONS);
    NEEDS("exists(traits.x)", CDP_EXPR_NEEDS_SECTIONS);
    NEEDS("identifiers contains 'email:a@b.c'", CDP_EXPR_NEEDS_SECTIONS);
    NEEDS("computed.preferred_payment_method = 'card'", CDP_EXPR_NEEDS_SECTIONS);
    NEEDS("computed.top_category = 'Books'", CDP_EXPR_NEEDS_SECTIONS);
    NEEDS("computed.orders_count > 1 or traits.x = 1", CDP_EXPR_NEEDS_SECTIONS);
    NEEDS("count(event = 'Order Completed') > 1", CDP_EXPR_NEEDS_EVENTS);
    NEEDS("count() > 1", CDP_EXPR_NEEDS_EVENTS);
    NEEDS("ever(event = 'x', within 7d)", CDP_EXPR_NEEDS_EVENTS);
    NEEDS("sum(properties.revenue, event = 'Order Completed', within 365d) > 1",
          CDP_EXPR_NEEDS_EVENTS);
    NEEDS("last(type = 'identify') > now - 1d", CDP_EXPR_NEEDS_EVENTS);
    /* Inside an event condition, traits.x is the event's own member, not the profile's. */
    NEEDS("count(type = 'identify' and traits.plan = 'pro') > 0", CDP_EXPR_NEEDS_EVENTS);
    NEEDS("consent.email_marketing", CDP_EXPR_NEEDS_CONSENT);
    NEEDS("not consent.sms", CDP_EXPR_NEEDS_CONSENT);
    NEEDS("traits.x = 1 and ever() and consent.sms",
          CDP_EXPR_NEEDS_SECTIONS | CDP_EXPR_NEEDS_EVENTS | CDP_EXPR_NEEDS_CONSENT);
    NEEDS("computed.orders_count > 1 and consent.sms", CDP_EXPR_NEEDS_CONSENT);
    /* Even a branch that short-circuiting may skip counts. */
    NEEDS("false and traits.x = 1", CDP_EXPR_NEEDS_SECTIONS);
    cdp_expr_free(NULL); /* NULL is fine */
    pass();
}

/* ---- and/or short-circuit ---- */

/*
 * A right-hand side that would need events or consent is not evaluated when
 * the left decides, so a subject that lacks what it needs still answers.
 * That is observable only as "no error": both orders give the same answer.
 */
static void
test_short_circuit(void)
{
    CONSTANT("false and 1 / 0 = null", false);
    CONSTANT("true or 1 / 0 > 0", true);
    MATCH(&a.store_subject, "traits.vip or traits.missing > 1", true);
    MATCH(&a.view_subject, "traits.churned and traits.missing = null", false);
    MATCH(&a.view_subject, "traits.missing = null or traits.missing > 1", true);
    /* Many subjects through one compiled expression (scratch space is reused). */
    struct cdp_expr_error err;
    struct cdp_expr *e =
        cdp_expr_compile("traits.city = 'Lyon' and computed.orders_count > 1", now_ms, &err);
    CHECK(e != NULL);
    if (e) {
        for (int i = 0; i < 50; i++) {
            bool m = false;
            struct cdp_expr_subject *s = i % 2 ? &b.view_subject : &a.store_subject;
            CHECK_INT(cdp_expr_match(e, s, &m), 0);
            CHECK(m == (i % 2 == 0));
        }
        cdp_expr_free(e);
    }
}

/* ---- robustness, in a child process so that a crash is a failure, not the end ---- */

/* Runs fn in a child; checks it exited 0 (not killed by a signal). */
static void
in_child(int line, const char *what, int (*fn)(void))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        fail(line, "%s: cannot fork", what);
        return;
    }
    if (pid == 0)
        _exit(fn());
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        fail(line, "%s: waitpid failed", what);
    } else if (WIFSIGNALED(status)) {
        fail(line, "%s: killed by signal %d", what, WTERMSIG(status));
    } else if (WEXITSTATUS(status) != 0) {
        fail(line, "%s: %d failures (see above)", what, WEXITSTATUS(status));
    } else {
        pass();
    }
}

static const char *const samples[] = {
    "computed.orders_count >= 2 and computed.last_order_at > now - 90d",
    "count(event = 'Order Completed', within 90d) >= 2",
    "traits.city in ['Lyon', 'Villeurbanne'] and consent.email_marketing",
    "not (traits[\"odd name\"] matches '^(a|b)+$' or -traits.score * 2 / 3 < 4)",
    "sum(properties.revenue, event = 'Order Completed', within 365d) > 100.5",
    "traits.quote = 'it\\'s \"q\" \\\\ ok' or traits.city2 = 'Z\xc3\xbcrich'",
    "first(type = 'identify') < 2024-05-01T10:00:00Z and last_seen - first_seen > 2w",
    "exists(traits.x) and traits.tags not in [1, 'a', 2024-01-01, true, null]",
};

/* Every prefix of the samples compiles or fails cleanly; what compiles evaluates. */
static int
prefixes(void)
{
    int bad = 0;
    char text[512];
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        size_t len = strlen(samples[i]);
        for (size_t n = 0; n <= len; n++) {
            memcpy(text, samples[i], n);
            text[n] = '\0';
            struct cdp_expr_error err;
            memset(&err, 0, sizeof err);
            struct cdp_expr *e = cdp_expr_compile(text, now_ms, &err);
            if (e == NULL) {
                size_t chars = characters(text, n);
                if (err.column < 1 || err.column > chars + 1 || err.message[0] == '\0') {
                    fprintf(stderr, "%s:%d: FAIL: prefix [%s]: column %zu, message '%s'\n",
                            __FILE__, __LINE__, text, err.column, err.message);
                    bad++;
                }
                struct cdp_buf out = CDP_BUF_INIT;
                cdp_expr_show_error(text, &err, &out);
                cdp_buf_free(&out);
                continue;
            }
            bool m;
            if (cdp_expr_match(e, &a.store_subject, &m) != 0 ||
                cdp_expr_match(e, &a.view_subject, &m) != 0 ||
                cdp_expr_match(e, &b.store_subject, &m) != 0) {
                fprintf(stderr, "%s:%d: FAIL: prefix [%s]: match failed\n", __FILE__, __LINE__,
                        text);
                bad++;
            }
            cdp_expr_free(e);
        }
    }
    return bad > 100 ? 100 : bad;
}

/* Builds prefix * count + middle + suffix * count; the caller frees it. */
static char *
repeat(const char *prefix, const char *middle, const char *suffix, size_t count)
{
    size_t p = strlen(prefix), m = strlen(middle), s = strlen(suffix);
    char *text = malloc(count * (p + s) + m + 1), *q = text;
    if (text == NULL)
        exit(1);
    for (size_t i = 0; i < count; i++, q += p)
        memcpy(q, prefix, p);
    memcpy(q, middle, m);
    q += m;
    for (size_t i = 0; i < count; i++, q += s)
        memcpy(q, suffix, s);
    *q = '\0';
    return text;
}

/* Compiles text; when it compiles, evaluates it and checks the answer is want. */
static int
deep_one(const char *prefix, const char *middle, const char *suffix, size_t count,
         bool must_compile, bool want)
{
    char *text = repeat(prefix, middle, suffix, count);
    struct cdp_expr_error err;
    memset(&err, 0, sizeof err);
    struct cdp_expr *e = cdp_expr_compile(text, now_ms, &err);
    int bad = 0;
    if (e == NULL) {
        if (must_compile || err.message[0] == '\0') {
            fprintf(stderr, "%s:%d: FAIL: %zu x '%s': %s\n", __FILE__, __LINE__, count, prefix,
                    err.message);
            bad = 1;
        }
    } else {
        bool m = !want;
        if (cdp_expr_match(e, &a.view_subject, &m) != 0 || m != want) {
            fprintf(stderr, "%s:%d: FAIL: %zu x '%s': got %d\n", __FILE__, __LINE__, count, prefix,
                    m);
            bad = 1;
        }
        cdp_expr_free(e);
    }
    free(text);
    return bad;
}

/* Modest nesting works; absurd nesting is refused or handled, never a crash. */
static int
deep(void)
{
    int bad = 0;
    bad += deep_one("(", "true", ")", 200, true, true);
    bad += deep_one("not ", "true", "", 200, true, true);
    bad += deep_one("-", "1 = 1", "", 200, true, true);
    bad += deep_one("true and ", "true", "", 500, true, true);
    bad += deep_one("false or ", "true", "", 500, true, true);
    bad += deep_one("1 + ", "1 = 501", "", 500, true, true);
    bad += deep_one("(", "true", ")", 200000, false, true);
    bad += deep_one("not ", "true", "", 200000, false, true);
    bad += deep_one("-", "1 = 1", "", 200000, false, true);
    bad += deep_one("[", "1", "]", 100000, false, false);
    bad += deep_one("count(", "true", ") > 0", 100000, false, false);
    return bad;
}

/* Odd input bytes: controls, stray quotes, lone UTF-8 bytes. */
static int
junk(void)
{
    static const char *const texts[] = {
        "\x01",
        "traits.x = '\x80'",
        "\xff\xfe",
        "traits.\xc3",
        "'",
        "\"",
        "[",
        "]",
        "traits[",
        "traits[1] = 1",
        "traits[]",
        "traits..x = 1",
        "traits.x.",
        "computed.",
        ".x",
        "1.",
        "1..2 = 1",
        "1e999 > 0",
        "99999999999999999999d > 1d",
        "2024-05-01T",
        "2024-05",
        "-",
        "(((((",
        ")))))",
        "within 1d",
        "count(within 1d)",
        "ever(,)",
        "traits.x in [,]",
        "consent.",
        "exists",
        "exists(",
        "x = \\",
        "'\\",
        "'\\x'",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct cdp_expr_error err;
        memset(&err, 0, sizeof err);
        struct cdp_expr *e = cdp_expr_compile(texts[i], now_ms, &err);
        if (e) {
            bool m;
            cdp_expr_match(e, &a.view_subject, &m);
            cdp_expr_match(e, &a.store_subject, &m);
            cdp_expr_free(e);
        }
    }
    return 0;
}

static void
test_robustness(void)
{
    in_child(__LINE__, "prefixes of the samples", prefixes);
    in_child(__LINE__, "deep nesting", deep);
    in_child(__LINE__, "junk input", junk);
}

/* ---- consent ---- */

/* A JSON subject may carry its consent; the latest state of each purpose counts. */
static void
test_consent_json(void)
{
    json_t *with = json_deep_copy(b.view);
    json_object_set_new(with, "consent", json_pack("{s:b,s:b}", "email_marketing", 1, "sms", 0));
    struct cdp_expr_subject s = b.view_subject;
    s.json = with;
    MATCH(&s, "consent.email_marketing", true);
    MATCH(&s, "not consent.email_marketing", false);
    MATCH(&s, "consent.sms", false);
    MATCH(&s, "consent.push", false);
    MATCH(&s, "consent.email_marketing and not consent.sms", true);
    json_decref(with);
    MATCH(&b.view_subject, "consent.email_marketing", false);
    MATCH(&a.hand_subject, "consent.email_marketing", false);
}

/* ---- event functions and consent over a real store ---- */

static struct cdp_store store;

static void
remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static bool
open_store(struct cdp_store *st, const char *name)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    int rc = cdp_store_open(st, path, CDP_STORE_WRITE, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    return rc == 0;
}

/* Ingests events (JSON texts) in one transaction; checks each landed. */
static void
feed_all(struct cdp_ingest *ing, const char *const *texts, size_t n)
{
    CHECK_INT(cdp_ingest_begin(ing), 0);
    for (size_t i = 0; i < n; i++) {
        enum cdp_ingest_result result = CDP_INGEST_REJECTED;
        char reason[256] = "";
        json_error_t error;
        json_t *event = json_loads(texts[i], 0, &error);
        if (event == NULL) {
            fprintf(stderr, "bad test JSON: %s: %s\n", texts[i], error.text);
            exit(1);
        }
        int rc = cdp_ingest_event(ing, event, texts[i], strlen(texts[i]), &result, reason,
                                  sizeof reason);
        json_decref(event);
        CHECK_INT(rc, 0);
        if (result != CDP_INGEST_LANDED)
            fprintf(stderr, "not landed: %s: %s\n", texts[i], reason);
        CHECK_INT(result, CDP_INGEST_LANDED);
    }
    CHECK_INT(cdp_ingest_commit(ing), 0);
}

/* The events, in the order they arrive: not time order. */
static const char *const events[] = {
    /* e1: an identify, orders in and out of every window, one after now. */
    "{\"type\":\"identify\",\"userId\":\"e1\",\"traits\":{\"email\":\"e1@example.com\","
    "\"plan\":\"pro\"},\"context\":{\"ip\":\"10.0.0.1\"},"
    "\"timestamp\":\"2024-01-10T09:00:00Z\",\"messageId\":\"e1-id\"}",
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"e1\","
    "\"properties\":{\"order_id\":\"A1\",\"revenue\":100},"
    "\"timestamp\":\"2024-05-20T10:00:00Z\",\"messageId\":\"e1-o1\"}",
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"e1\","
    "\"properties\":{\"order_id\":\"A2\",\"revenue\":50},"
    "\"timestamp\":\"2024-01-15T10:00:00Z\",\"messageId\":\"e1-o2\"}",
    "{\"type\":\"track\",\"event\":\"Email Opened\",\"userId\":\"e1\","
    "\"timestamp\":\"2024-05-28T08:00:00Z\",\"messageId\":\"e1-m1\"}",
    "{\"type\":\"track\",\"event\":\"Checkout Started\",\"userId\":\"e1\","
    "\"timestamp\":\"2024-04-01T10:00:00Z\",\"messageId\":\"e1-c1\"}",
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"e1\","
    "\"properties\":{\"order_id\":\"A4\",\"revenue\":20},"
    "\"timestamp\":\"2024-07-01T10:00:00Z\",\"messageId\":\"e1-o4\"}",
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"e1\","
    "\"properties\":{\"order_id\":\"A3\",\"revenue\":30},"
    "\"timestamp\":\"2023-03-01T10:00:00Z\",\"messageId\":\"e1-o3\"}",
    /* e2: an identify and a page view, no orders. */
    "{\"type\":\"page\",\"name\":\"Home\",\"userId\":\"e2\","
    "\"timestamp\":\"2024-05-30T01:00:00Z\",\"messageId\":\"e2-p1\"}",
    "{\"type\":\"identify\",\"userId\":\"e2\",\"traits\":{\"email\":\"e2@example.com\"},"
    "\"timestamp\":\"2024-05-30T00:00:00Z\",\"messageId\":\"e2-id\"}",
    /* a3: anonymous, one recent order. */
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"anonymousId\":\"a3\","
    "\"properties\":{\"order_id\":\"B1\",\"revenue\":12.5},"
    "\"timestamp\":\"2024-05-31T12:00:00Z\",\"messageId\":\"a3-o1\"}",
};

/* A stored person as both kinds of subject, with the store and a read transaction. */
struct stored {
    struct cdp_profile profile;
    json_t *view;
    struct cdp_expr_subject store_subject;
    struct cdp_expr_subject json_subject;
};

static bool
load_stored(MDB_txn *txn, const char *identifier, struct stored *x)
{
    MDB_val key = {strlen(identifier), (void *)identifier}, value;
    struct cdp_id id;
    memset(x, 0, sizeof *x);
    if (mdb_get(txn, store.dbi[CDP_DB_IDENTIFIERS], &key, &value) != 0 || value.mv_size != 16) {
        fprintf(stderr, "no profile holds %s\n", identifier);
        return false;
    }
    memcpy(id.bytes, value.mv_data, 16);
    key.mv_size = 16;
    key.mv_data = id.bytes;
    if (mdb_get(txn, store.dbi[CDP_DB_PROFILES], &key, &value) != 0 ||
        !cdp_profile_decode(&x->profile, &id, value.mv_data, value.mv_size)) {
        fprintf(stderr, "cannot read the profile of %s\n", identifier);
        return false;
    }
    cdp_profile_load(&x->profile);
    x->view = cdp_view_profile_json(&x->profile);
    x->store_subject.id = id;
    x->store_subject.head = &x->profile.head;
    x->store_subject.profile = &x->profile;
    x->store_subject.store = &store;
    x->store_subject.txn = txn;
    x->json_subject.id = id;
    x->json_subject.json = x->view;
    x->json_subject.store = &store;
    x->json_subject.txn = txn;
    return true;
}

static void
free_stored(struct stored *x)
{
    cdp_profile_free(&x->profile);
    json_decref(x->view);
}

/* One expression on both subjects of a stored person. */
static void
stored_match(int line, struct stored *x, const char *text, bool want)
{
    expect_match(line, "store", &x->store_subject, text, want);
    expect_match(line, "JSON+store", &x->json_subject, text, want);
}

#define EVENTS(x, text, want) stored_match(__LINE__, x, text, want)

/* Adds a consent record to the ledger (seq only tells records apart in the source). */
static void
put_consent(MDB_txn *txn, const struct cdp_id *id, const char *purpose, const char *when,
            uint64_t seq, bool granted)
{
    struct cdp_consent_record r;
    char proof[32];
    memset(&r, 0, sizeof r);
    snprintf(r.purpose, sizeof r.purpose, "%s", purpose);
    snprintf(proof, sizeof proof, "form-%llu", (unsigned long long)seq);
    r.status = granted ? CDP_CONSENT_GRANTED : CDP_CONSENT_DENIED;
    r.time = at(when);
    r.expires = CDP_TIME_NONE;
    r.source = "test";
    r.proof = proof;
    r.recorded = now_ms;
    CHECK_INT(cdp_consent_append(&store, txn, id, &r), 0);
}

static void
test_events(void)
{
    struct cdp_ingest_options options;
    struct cdp_ingest ing;
    const struct cdp_limits limits = CDP_LIMITS_DEFAULT;
    memset(&options, 0, sizeof options);
    options.source = "test";
    options.limits = limits;
    options.counters = cdp_computed_map_new();
    if (!open_store(&store, "events"))
        return;
    cdp_ingest_init(&ing, &store, &options, now_ms);
    feed_all(&ing, events, sizeof events / sizeof events[0]);
    cdp_ingest_free(&ing);

    /* Consent records for e1 (e2 and a3 have none). */
    MDB_txn *txn;
    MDB_val key = {7, (void *)"user:e1"}, value;
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    if (mdb_get(txn, store.dbi[CDP_DB_IDENTIFIERS], &key, &value) == 0 && value.mv_size == 16) {
        struct cdp_id id;
        memcpy(id.bytes, value.mv_data, 16);
        put_consent(txn, &id, "email_marketing", "2024-01-01T00:00:00Z", 1, true);
        put_consent(txn, &id, "sms", "2024-01-01T00:00:00Z", 2, true);
        put_consent(txn, &id, "sms", "2024-02-01T00:00:00Z", 3, false);
        put_consent(txn, &id, "push", "2024-01-01T00:00:00Z", 4, false);
        put_consent(txn, &id, "push", "2024-03-01T00:00:00Z", 5, true);
    }
    CHECK_INT(mdb_txn_commit(txn), 0);

    struct stored e1, e2, a3;
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    bool ok1 = load_stored(txn, "user:e1", &e1);
    bool ok2 = load_stored(txn, "user:e2", &e2);
    bool ok3 = load_stored(txn, "anon:a3", &a3);
    CHECK(ok1 && ok2 && ok3);
    if (!(ok1 && ok2 && ok3)) {
        if (ok1)
            free_stored(&e1);
        if (ok2)
            free_stored(&e2);
        if (ok3)
            free_stored(&a3);
        mdb_txn_abort(txn);
        cdp_store_close(&store);
        return;
    }

    /* The profiles are as the ingest engine made them. */
    EVENTS(&e1, "computed.orders_count = 4 and computed.revenue_total = 200", true);
    EVENTS(&e1, "traits.plan = 'pro' and identifiers contains 'email:e1@example.com'", true);

    /* count(): all events, by name, by type, in windows. */
    EVENTS(&e1, "count() = 7", true);
    EVENTS(&e1, "count(event = 'Order Completed') = 4", true);
    EVENTS(&e1, "count(event = 'Order Completed') = computed.orders_count", true);
    EVENTS(&e1, "count(event = 'Order Completed', within 90d) = 1", true);
    EVENTS(&e1, "count(event = 'Order Completed', within 90d) >= 2", false);
    EVENTS(&e1, "count(event = 'Order Completed', within 365d) = 2", true);
    EVENTS(&e1, "count(event = 'Order Completed', within 1000d) = 3", true); /* not 07-01 */
    EVENTS(&e1, "count(event = 'Order Completed', within 30d) = 1", true);
    EVENTS(&e1, "count(within 7d) = 1", true);
    EVENTS(&e1, "count(within 90d) = 3", true);
    EVENTS(&e1, "count(within 1d) = 0", true);
    EVENTS(&e1, "count(type = 'identify') = 1", true);
    EVENTS(&e1, "count(type = 'track') = 6", true);
    EVENTS(&e1, "count(type = 'page') = 0", true);
    EVENTS(&e1, "count(event = 'Email Opened', within 7d) = 1", true);
    EVENTS(&e1, "count(event in ['Email Opened', 'Checkout Started']) = 2", true);
    EVENTS(&e1, "count(event starts_with 'Order') = 4", true);
    EVENTS(&e1, "count(event = 'order completed') = 0", true);
    EVENTS(&e1, "count(event = 'Nope') = 0", true);
    /* Conditions on the event's own fields and paths. */
    EVENTS(&e1, "count(properties.revenue > 60) = 1", true);
    EVENTS(&e1, "count(properties.revenue >= 30 and properties.revenue <= 50) = 2", true);
    EVENTS(&e1, "count(properties.revenue exists) = 4", true);
    EVENTS(&e1, "count(exists(properties.order_id)) = 4", true);
    EVENTS(&e1, "count(properties.order_id = 'A3') = 1", true);
    EVENTS(&e1, "count(time > 2024-05-01) = 3", true);
    EVENTS(&e1, "count(time < now) = 6", true);
    EVENTS(&e1, "count(time >= now - 90d and time <= now) = 3", true);
    EVENTS(&e1, "count(message_id = 'e1-o1') = 1", true);
    EVENTS(&e1, "count(context.ip = '10.0.0.1') = 1", true);
    EVENTS(&e1, "count(source = 'test') = 7", true);
    EVENTS(&e1, "count(type = 'identify' and traits.plan = 'pro') = 1", true);
    EVENTS(&e1, "count(userId = 'e1') = 7", true);
    EVENTS(&e1, "count(event = 'Order Completed', within 90d) + count(event = 'Email Opened') = 2",
           true);

    /* sum, avg, min, max over a path. */
    EVENTS(&e1, "sum(properties.revenue, event = 'Order Completed', within 365d) = 150", true);
    EVENTS(&e1, "sum(properties.revenue, event = 'Order Completed') = 200", true);
    EVENTS(&e1, "sum(properties.revenue, event = 'Order Completed') = computed.revenue_total",
           true);
    EVENTS(&e1, "sum(properties.revenue) = 200", true);
    EVENTS(&e1, "sum(properties.revenue, within 90d) = 100", true);
    EVENTS(&e1, "avg(properties.revenue, event = 'Order Completed', within 365d) = 75", true);
    EVENTS(&e1, "avg(properties.revenue, event = 'Order Completed') = 50", true);
    EVENTS(&e1, "min(properties.revenue, event = 'Order Completed') = 20", true);
    EVENTS(&e1, "min(properties.revenue, event = 'Order Completed', within 365d) = 50", true);
    EVENTS(&e1, "max(properties.revenue, event = 'Order Completed') = 100", true);
    EVENTS(&e1, "max(properties.revenue, within 90d) = 100", true);
    EVENTS(&e1, "max(properties.revenue, event = 'Order Completed', within 7d) > 0", false);
    EVENTS(&e1, "sum(properties.revenue, event = 'Order Completed') / 4 = 50", true);

    /* first and last: times. */
    EVENTS(&e1, "first(event = 'Order Completed') = 2023-03-01T10:00:00Z", true);
    EVENTS(&e1, "first(event = 'Order Completed', within 365d) = 2024-01-15T10:00:00Z", true);
    EVENTS(&e1, "last(event = 'Order Completed') = 2024-07-01T10:00:00Z", true);
    EVENTS(&e1, "last(event = 'Order Completed', within 365d) = 2024-05-20T10:00:00Z", true);
    EVENTS(&e1, "last(event = 'Order Completed', within 365d) > '2024-05-01'", true);
    EVENTS(&e1, "first() = 2023-03-01T10:00:00Z", true);
    EVENTS(&e1, "last() = 2024-07-01T10:00:00Z", true);
    EVENTS(&e1, "last(within 365d) = 2024-05-28T08:00:00Z", true);
    EVENTS(&e1, "last(event = 'Email Opened') > now - 7d", true);
    EVENTS(&e1, "first(type = 'identify') < 2024-02-01", true);
    EVENTS(&e1, "now - last(event = 'Email Opened') = 3d + 16h", true);
    EVENTS(&e1, "first(event = 'Nope') = null", true);
    EVENTS(&e1, "first(event = 'Nope') < now", false);
    EVENTS(&e1, "last(event = 'Nope') > 2000-01-01", false);

    /* ever. */
    EVENTS(&e1, "ever()", true);
    EVENTS(&e1, "ever(event = 'Email Opened')", true);
    EVENTS(&e1, "ever(event = 'Email Opened', within 7d)", true);
    EVENTS(&e1, "ever(event = 'Checkout Started', within 7d)", false);
    EVENTS(&e1, "not ever(event = 'Checkout Started', within 7d)", true);
    EVENTS(&e1, "ever(event = 'Checkout Started', within 90d)", true);
    EVENTS(&e1, "ever(event = 'Nope')", false);
    EVENTS(&e1, "ever(within 1d)", false); /* the 2024-07-01 order is after now */
    EVENTS(&e1, "ever(event = 'Order Completed', within 30d) and traits.plan = 'pro'", true);

    /* e2: no orders. */
    EVENTS(&e2, "count() = 2", true);
    EVENTS(&e2, "count(event = 'Order Completed') = 0", true);
    EVENTS(&e2, "count(type = 'page') = 1 and count(type = 'identify') = 1", true);
    EVENTS(&e2, "ever(event = 'Order Completed')", false);
    EVENTS(&e2, "not ever(event = 'Order Completed')", true);
    EVENTS(&e2, "first(event = 'Order Completed') = null", true);
    EVENTS(&e2, "ever(within 7d)", true);
    EVENTS(&e2, "first() = 2024-05-30", true);

    /* a3: one order inside a day. */
    EVENTS(&a3, "count(event = 'Order Completed', within 1d) = 1", true);
    EVENTS(&a3, "ever(within 1d)", true);
    EVENTS(&a3, "sum(properties.revenue, within 1d) = 12.5", true);
    EVENTS(&a3, "identifiers contains 'anon:a3'", true);

    /* Consent: the latest record of each purpose. */
    EVENTS(&e1, "consent.email_marketing", true);
    EVENTS(&e1, "consent.sms", false); /* granted, then withdrawn */
    EVENTS(&e1, "consent.push", true); /* refused, then granted */
    EVENTS(&e1, "consent.other", false);
    EVENTS(&e2, "consent.email_marketing", false);
    EVENTS(&e2, "not consent.email_marketing", true);
    EVENTS(&a3, "consent.email_marketing or consent.sms or consent.push", false);

    free_stored(&e1);
    free_stored(&e2);
    free_stored(&a3);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
    cdp_computed_map_free((struct cdp_counter_map *)options.counters);
}

/* A real but empty store: no events, and every consent is false. */
static void
test_empty_store(void)
{
    if (!open_store(&store, "empty"))
        return;
    MDB_txn *txn;
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    struct cdp_expr_subject s = a.store_subject;
    s.store = &store;
    s.txn = txn;
    struct cdp_expr_subject j = a.view_subject;
    j.store = &store;
    j.txn = txn;
    MATCH(&s, "consent.email_marketing", false);
    MATCH(&s, "not consent.email_marketing", true);
    MATCH(&j, "consent.email_marketing", false);
    MATCH(&s, "count() = 0", true);
    MATCH(&j, "count() = 0", true);
    MATCH(&s, "ever()", false);
    MATCH(&s, "first() = null", true);
    MATCH(&s, "traits.city = 'Lyon' and not ever(event = 'Order Completed')", true);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
}

int
main(void)
{
    now_ms = at("2024-06-01T00:00:00Z");
    snprintf(root, sizeof root, "%s/cdp-test-expr-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    make_a();
    make_b();

    test_fixture();
    test_table();
    test_id();
    test_precedence();
    test_numbers();
    test_times();
    test_strings();
    test_keywords();
    test_errors();
    test_chains();
    test_show_error();
    test_needs();
    test_short_circuit();
    test_consent_json();
    test_robustness();
    test_events();
    test_empty_store();

    free_person(&a);
    free_person(&b);
    remove_tree(root);
    return check_summary("expr");
}
