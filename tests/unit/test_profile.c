/*
 * test_profile.c - unit tests for lib/profile.c: the record format, traits,
 * tallies, identifiers and merging.
 */
#include "profile.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static struct cdp_id
id_of(const char *s)
{
    return cdp_hash_string(s);
}

/* The identifiers of p joined with spaces (static buffer). */
static void
join_cb(const char *identifier, void *ctx)
{
    struct cdp_buf *b = ctx;
    if (b->len)
        cdp_buf_putc(b, ' ');
    cdp_buf_puts(b, identifier);
}

static const char *
identifiers_of(const struct cdp_profile *p)
{
    static char out[1024];
    struct cdp_buf b = CDP_BUF_INIT;
    cdp_profile_each_identifier(p, join_cb, &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    cdp_buf_free(&b);
    return out;
}

/* A JSON value as compact sorted text (static buffer). */
static const char *
dump(json_t *v)
{
    static char out[2048];
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    snprintf(out, sizeof out, "%s", text ? text : "(null)");
    free(text);
    return out;
}

/* The value of trait name as text, or NULL. */
static const char *
trait(const struct cdp_profile *p, const char *name)
{
    json_t *entry = json_object_get(p->traits, name);
    return entry ? dump(json_array_get(entry, 0)) : NULL;
}

static bool
same_encoding(const struct cdp_profile *a, const struct cdp_profile *b)
{
    struct cdp_buf x = CDP_BUF_INIT, y = CDP_BUF_INIT;
    cdp_profile_encode(a, &x);
    cdp_profile_encode(b, &y);
    bool same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    cdp_buf_free(&x);
    cdp_buf_free(&y);
    return same;
}

/* A copy of p made through its encoding. */
static void
copy_profile(struct cdp_profile *dst, const struct cdp_profile *src)
{
    struct cdp_buf b = CDP_BUF_INIT;
    cdp_profile_encode(src, &b);
    cdp_profile_decode(dst, &src->id, b.data, b.len);
    cdp_profile_load(dst);
    cdp_buf_free(&b);
}

static void
test_init(void)
{
    struct cdp_id id = id_of("user:u1");
    struct cdp_profile p;
    cdp_profile_init(&p, &id);
    CHECK(memcmp(p.id.bytes, id.bytes, 16) == 0);
    CHECK(p.head.magic == CDP_PROFILE_MAGIC);
    CHECK(p.head.first_seen == CDP_TIME_NONE);
    CHECK(p.head.last_seen == CDP_TIME_NONE);
    CHECK(p.head.first_order_at == CDP_TIME_NONE);
    CHECK(p.head.last_order_at == CDP_TIME_NONE);
    CHECK_INT(p.head.events_count, 0);
    CHECK_INT(p.identifiers_count, 0);
    CHECK(p.traits != NULL && json_object_size(p.traits) == 0);
    CHECK(p.tallies != NULL && json_object_size(p.tallies) == 0);
    cdp_profile_free(&p);
}

static void
test_round_trip(void)
{
    struct cdp_id id = id_of("user:u1");
    struct cdp_profile p, q;
    struct cdp_buf rec = CDP_BUF_INIT;

    cdp_profile_init(&p, &id);
    p.head.flags = 5;
    p.head.first_seen = -1000;
    p.head.last_seen = 1766570400000LL;
    p.head.anchor_time = -1000;
    memset(p.head.anchor_message, 0x42, 16);
    p.head.first_order_at = 1000;
    p.head.last_order_at = 2000;
    p.head.time_on_site_ms = 123456;
    p.head.revenue_micros = 42500000;
    p.head.events_count = 7;
    p.head.page_views = 3;
    p.head.visits = 4;
    p.head.email_opens = 5;
    p.head.email_clicks = 6;
    p.head.downloads = 8;
    p.head.support_contacts = 9;
    p.head.orders_count = 10;
    p.head.returns_count = 11;
    p.head.abandoned_carts = 12;

    CHECK(cdp_profile_add_identifier(&p, "user:u1"));
    CHECK(cdp_profile_add_identifier(&p, "email:b@example.com"));
    CHECK(cdp_profile_add_identifier(&p, "anon:z"));
    CHECK(cdp_profile_add_identifier(&p, "email:a@example.com"));
    CHECK(!cdp_profile_add_identifier(&p, "email:b@example.com")); /* duplicate */
    CHECK(!cdp_profile_add_identifier(&p, "user:u1"));
    CHECK(cdp_profile_add_identifier(&p, "anon:a"));
    CHECK_INT(p.identifiers_count, 5);
    CHECK_STR(identifiers_of(&p),
              "anon:a anon:z email:a@example.com email:b@example.com user:u1");
    CHECK(cdp_profile_has_identifier(&p, "anon:z"));
    CHECK(cdp_profile_has_identifier(&p, "user:u1"));
    CHECK(!cdp_profile_has_identifier(&p, "user:u2"));
    CHECK(!cdp_profile_has_identifier(&p, "anon"));
    CHECK(!cdp_profile_has_identifier(&p, "email:a@example.co"));

    json_t *v = json_string("Jane");
    CHECK(cdp_profile_set_trait(&p, "firstName", v, 100, "crm", NULL));
    json_decref(v);
    v = json_pack("{s:i,s:[s,s]}", "n", 3, "tags", "x", "y");
    CHECK(cdp_profile_set_trait(&p, "nested", v, 200, NULL, NULL));
    json_decref(v);
    v = json_string("caf\xc3\xa9");
    CHECK(cdp_profile_set_trait(&p, "city", v, -5, "web", NULL));
    json_decref(v);
    cdp_profile_tally(&p, "payment_method", "card", 2);
    cdp_profile_tally(&p, "category", "Books", 1);

    cdp_profile_encode(&p, &rec);
    CHECK(rec.len > sizeof p.head);

    struct cdp_profile_head head;
    CHECK(cdp_profile_decode_head(&head, rec.data, rec.len));
    CHECK(memcmp(&head, &p.head, sizeof head) == 0);

    CHECK(cdp_profile_decode(&q, &id, rec.data, rec.len));
    CHECK(same_encoding(&p, &q)); /* before the traits are parsed, too */
    cdp_profile_load(&q);
    CHECK(memcmp(q.id.bytes, id.bytes, 16) == 0);
    CHECK(memcmp(&q.head, &p.head, sizeof q.head) == 0);
    CHECK_INT(q.head.abandoned_carts, 12);
    CHECK_INT(q.head.revenue_micros, 42500000);
    CHECK_INT(q.head.first_seen, -1000);
    CHECK_INT(q.identifiers_count, 5);
    CHECK_STR(identifiers_of(&q),
              "anon:a anon:z email:a@example.com email:b@example.com user:u1");
    CHECK(cdp_profile_has_identifier(&q, "email:a@example.com"));
    CHECK_STR(dump(q.traits), dump(p.traits));
    CHECK_STR(trait(&q, "firstName"), "\"Jane\"");
    CHECK_STR(dump(json_object_get(q.traits, "firstName")), "[\"Jane\",100,\"crm\"]");
    CHECK_STR(dump(json_object_get(q.traits, "nested")),
              "[{\"n\":3,\"tags\":[\"x\",\"y\"]},200,\"\"]");
    CHECK_STR(dump(json_object_get(q.traits, "city")), "[\"caf\xc3\xa9\",-5,\"web\"]");
    CHECK_STR(dump(q.tallies), "{\"category\":{\"Books\":1},\"payment_method\":{\"card\":2}}");
    CHECK(same_encoding(&p, &q));
    cdp_profile_free(&q);

    /* An empty profile round-trips too. */
    struct cdp_profile e, f;
    cdp_profile_init(&e, &id);
    cdp_profile_encode(&e, &rec);
    CHECK(cdp_profile_decode(&f, &id, rec.data, rec.len));
    cdp_profile_load(&f);
    CHECK_INT(f.identifiers_count, 0);
    CHECK(same_encoding(&e, &f));
    cdp_profile_free(&e);
    cdp_profile_free(&f);

    /* Damaged records: truncated anywhere, or a bad magic. */
    cdp_profile_encode(&p, &rec);
    size_t cuts[] = {0, 3, sizeof p.head - 1, sizeof p.head, sizeof p.head + 2,
                     sizeof p.head + 10, rec.len / 2, rec.len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        struct cdp_profile d;
        bool ok = cdp_profile_decode(&d, &id, rec.data, cuts[i]);
        CHECK(!ok);
        CHECK(memcmp(d.id.bytes, id.bytes, 16) == 0);
        CHECK_INT(d.identifiers_count, 0);
        CHECK_INT(d.identifiers.len, 0);
        cdp_profile_load(&d);
        CHECK(d.traits != NULL && json_object_size(d.traits) == 0);
        CHECK(d.tallies != NULL && json_object_size(d.tallies) == 0);
        CHECK_INT(d.head.events_count, 0);
        CHECK(d.head.magic == CDP_PROFILE_MAGIC);
        cdp_profile_free(&d);
    }
    CHECK(!cdp_profile_decode_head(&head, rec.data, sizeof head - 1));

    /* The record read in place: its sections point into its bytes. */
    struct cdp_profile_record r;
    CHECK(cdp_profile_record_read(&r, rec.data, rec.len));
    CHECK(memcmp(&r.head, &p.head, sizeof r.head) == 0);
    CHECK(r.identifiers > rec.data && r.identifiers < rec.data + rec.len);
    CHECK_INT(r.identifiers_len, p.identifiers.len);
    CHECK(memcmp(r.identifiers, p.identifiers.data, r.identifiers_len) == 0);
    CHECK_INT(r.traits_len, strlen(dump(p.traits)));
    CHECK(memcmp(r.traits, dump(p.traits), r.traits_len) == 0);
    const char *tallies = "{\"category\":{\"Books\":1},\"payment_method\":{\"card\":2}}";
    CHECK_INT(r.tallies_len, strlen(tallies));
    CHECK(memcmp(r.tallies, tallies, r.tallies_len) == 0);
    CHECK(r.tallies + r.tallies_len == rec.data + rec.len);
    /* ... and refused exactly where decoding is. */
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        CHECK(!cdp_profile_record_read(&r, rec.data, cuts[i]));

    struct cdp_buf bad = CDP_BUF_INIT;
    cdp_buf_append(&bad, rec.data, rec.len);
    bad.data[0] ^= 0x55;
    struct cdp_profile d;
    CHECK(!cdp_profile_decode_head(&head, bad.data, bad.len));
    CHECK(!cdp_profile_record_read(&r, bad.data, bad.len));
    CHECK(!cdp_profile_decode(&d, &id, bad.data, bad.len));
    CHECK_INT(d.identifiers_count, 0);
    CHECK_INT(d.head.events_count, 0);
    cdp_profile_load(&d);
    CHECK(json_object_size(d.traits) == 0);
    cdp_profile_free(&d);

    /* Bytes after the last section: damaged, and the profile is left empty. */
    cdp_buf_reset(&bad);
    cdp_buf_append(&bad, rec.data, rec.len);
    cdp_buf_putc(&bad, 'x');
    CHECK(!cdp_profile_record_read(&r, bad.data, bad.len));
    {
        bool ok = cdp_profile_decode(&d, &id, bad.data, bad.len);
        CHECK(!ok);
        CHECK_INT(d.identifiers_count, 0);
        CHECK_INT(d.identifiers.len, 0);
        CHECK_INT(d.head.events_count, 0);
        cdp_profile_load(&d);
        CHECK(json_object_size(d.traits) == 0);
        cdp_profile_free(&d);
    }

    /* A traits section that is not a JSON object gives no traits, never NULL ones. */
    cdp_buf_reset(&bad);
    uint32_t n;
    cdp_buf_append(&bad, &p.head, sizeof p.head);
    n = 0;
    cdp_buf_append(&bad, &n, sizeof n);
    n = 2;
    cdp_buf_append(&bad, &n, sizeof n);
    cdp_buf_append(&bad, "[]", 2);
    n = 0;
    cdp_buf_append(&bad, &n, sizeof n);
    cdp_profile_decode(&d, &id, bad.data, bad.len);
    cdp_profile_load(&d);
    CHECK(json_is_object(d.traits) && json_object_size(d.traits) == 0);
    CHECK(json_is_object(d.tallies));
    cdp_profile_free(&d);
    /* ... while the same with "{}" is fine. */
    cdp_buf_reset(&bad);
    cdp_buf_append(&bad, &p.head, sizeof p.head);
    n = 0;
    cdp_buf_append(&bad, &n, sizeof n);
    n = 2;
    cdp_buf_append(&bad, &n, sizeof n);
    cdp_buf_append(&bad, "{}", 2);
    n = 0;
    cdp_buf_append(&bad, &n, sizeof n);
    CHECK(cdp_profile_decode(&d, &id, bad.data, bad.len));
    CHECK_INT(d.head.events_count, 7);
    cdp_profile_load(&d);
    CHECK(json_is_object(d.traits) && json_object_size(d.traits) == 0);
    cdp_profile_free(&d);

    /* A decoded profile used without an explicit load: traits and tallies come in on demand. */
    cdp_profile_encode(&p, &rec);
    CHECK(cdp_profile_decode(&d, &id, rec.data, rec.len));
    CHECK_STR(cdp_profile_top_tally(&d, "payment_method"), "card");
    cdp_profile_free(&d);
    CHECK(cdp_profile_decode(&d, &id, rec.data, rec.len));
    v = json_string("Older");
    CHECK(!cdp_profile_set_trait(&d, "firstName", v, 50, "crm", NULL)); /* the stored one is later */
    json_decref(v);
    v = json_string("Newer");
    CHECK(cdp_profile_set_trait(&d, "firstName", v, 150, "crm", NULL));
    json_decref(v);
    CHECK_STR(trait(&d, "firstName"), "\"Newer\"");
    CHECK_STR(trait(&d, "city"), "\"caf\xc3\xa9\"");
    cdp_profile_free(&d);
    CHECK(cdp_profile_decode(&d, &id, rec.data, rec.len));
    cdp_profile_tally(&d, "payment_method", "card", 1);
    cdp_profile_load(&d);
    CHECK_STR(dump(d.tallies), "{\"category\":{\"Books\":1},\"payment_method\":{\"card\":3}}");
    cdp_profile_free(&d);

    cdp_buf_free(&bad);
    cdp_buf_free(&rec);
    cdp_profile_free(&p);
}

/* Sets a string trait. */
static bool
set(struct cdp_profile *p, const char *name, const char *value, int64_t time, const char *source)
{
    json_t *v = json_string(value);
    bool changed = cdp_profile_set_trait(p, name, v, time, source, NULL);
    json_decref(v);
    return changed;
}

static void
test_traits(void)
{
    struct cdp_id id = id_of("user:t");
    struct cdp_profile p, a, b;

    cdp_profile_init(&p, &id);
    CHECK(set(&p, "plan", "basic", 100, "web"));
    CHECK(!set(&p, "plan", "older", 50, "web")); /* earlier: ignored */
    CHECK_STR(trait(&p, "plan"), "\"basic\"");
    CHECK(set(&p, "plan", "pro", 200, "web"));
    CHECK_STR(trait(&p, "plan"), "\"pro\"");
    CHECK(!set(&p, "plan", "pro", 200, "web")); /* the same again: no change */
    CHECK(!set(&p, "plan", "free", INT64_MIN + 1, "zzz"));
    CHECK_STR(trait(&p, "plan"), "\"pro\"");
    /* Negative times compare as numbers. */
    CHECK(set(&p, "old", "x", -2000, "web"));
    CHECK(set(&p, "old", "y", -1000, "web"));
    CHECK(!set(&p, "old", "z", -3000, "web"));
    CHECK_STR(trait(&p, "old"), "\"y\"");
    /* A null value is a value like any other. */
    json_t *null = json_null();
    CHECK(cdp_profile_set_trait(&p, "gone", null, 10, "web", NULL));
    CHECK_STR(dump(json_object_get(p.traits, "gone")), "[null,10,\"web\"]");
    json_decref(null);
    cdp_profile_free(&p);

    /* Ties at the same time: the result does not depend on the order of calls. */
    static const struct {
        const char *value;
        const char *source;
    } tie[][2] = {
        {{"one", "crm"}, {"two", "web"}},   /* different sources */
        {{"one", "web"}, {"two", "web"}},   /* same source, different values */
        {{"same", "a"}, {"same", "b"}},     /* same value, different sources */
        {{"x", NULL}, {"y", ""}},           /* no source and an empty one */
        {{"Z", "web"}, {"a", "web"}},       /* case */
    };
    for (size_t i = 0; i < sizeof tie / sizeof tie[0]; i++) {
        cdp_profile_init(&a, &id);
        cdp_profile_init(&b, &id);
        set(&a, "t", tie[i][0].value, 500, tie[i][0].source);
        set(&a, "t", tie[i][1].value, 500, tie[i][1].source);
        set(&b, "t", tie[i][1].value, 500, tie[i][1].source);
        set(&b, "t", tie[i][0].value, 500, tie[i][0].source);
        CHECK(same_encoding(&a, &b));
        if (!same_encoding(&a, &b))
            fprintf(stderr, "    tie case %zu: %s vs %s\n", i, dump(a.traits), dump(b.traits));
        cdp_profile_free(&a);
        cdp_profile_free(&b);
    }
    /* Documented tie-breaks: the greater source, then the greater value text. */
    cdp_profile_init(&a, &id);
    set(&a, "t", "from-web", 500, "web");
    set(&a, "t", "from-crm", 500, "crm");
    CHECK_STR(trait(&a, "t"), "\"from-web\"");
    set(&a, "u", "b", 500, "web");
    set(&a, "u", "a", 500, "web");
    CHECK_STR(trait(&a, "u"), "\"b\"");
    cdp_profile_free(&a);

    /* Values of different JSON types tie-break by their text, in both orders. */
    cdp_profile_init(&a, &id);
    cdp_profile_init(&b, &id);
    json_t *n = json_integer(5), *s = json_string("5");
    cdp_profile_set_trait(&a, "k", n, 1, "s", NULL);
    cdp_profile_set_trait(&a, "k", s, 1, "s", NULL);
    cdp_profile_set_trait(&b, "k", s, 1, "s", NULL);
    cdp_profile_set_trait(&b, "k", n, 1, "s", NULL);
    CHECK(same_encoding(&a, &b));
    json_decref(n);
    json_decref(s);
    cdp_profile_free(&a);
    cdp_profile_free(&b);

    /* Many updates in two opposite orders give the same traits. */
    cdp_profile_init(&a, &id);
    cdp_profile_init(&b, &id);
    char value[32], source[32];
    for (int i = 0; i < 60; i++) {
        snprintf(value, sizeof value, "v%d", (i * 7) % 11);
        snprintf(source, sizeof source, "s%d", i % 3);
        set(&a, i % 2 ? "odd" : "even", value, (i * 13) % 5, source);
    }
    for (int i = 59; i >= 0; i--) {
        snprintf(value, sizeof value, "v%d", (i * 7) % 11);
        snprintf(source, sizeof source, "s%d", i % 3);
        set(&b, i % 2 ? "odd" : "even", value, (i * 13) % 5, source);
    }
    CHECK(same_encoding(&a, &b));
    cdp_profile_free(&a);
    cdp_profile_free(&b);
}

static void
test_tallies(void)
{
    struct cdp_id id = id_of("user:t");
    struct cdp_profile p;
    cdp_profile_init(&p, &id);

    CHECK(cdp_profile_top_tally(&p, "payment_method") == NULL);
    cdp_profile_tally(&p, "payment_method", "visa", 2);
    cdp_profile_tally(&p, "payment_method", "card", 1);
    cdp_profile_tally(&p, "payment_method", "amex", 2);
    CHECK_STR(cdp_profile_top_tally(&p, "payment_method"), "amex"); /* tie: smallest name */
    cdp_profile_tally(&p, "payment_method", "card", 2);
    CHECK_STR(cdp_profile_top_tally(&p, "payment_method"), "card");
    cdp_profile_tally(&p, "payment_method", "card", -3);
    CHECK(json_object_get(json_object_get(p.tallies, "payment_method"), "card") == NULL);
    CHECK_STR(cdp_profile_top_tally(&p, "payment_method"), "amex");
    cdp_profile_free(&p);

    /* The same counts inserted in the other order. */
    cdp_profile_init(&p, &id);
    cdp_profile_tally(&p, "category", "amex", 2);
    cdp_profile_tally(&p, "category", "visa", 2);
    cdp_profile_tally(&p, "category", "Zed", 1);
    CHECK_STR(cdp_profile_top_tally(&p, "category"), "amex");
    cdp_profile_tally(&p, "category", "Zed", 1);
    CHECK_STR(cdp_profile_top_tally(&p, "category"), "Zed"); /* "Z" < "a" in byte order */
    cdp_profile_free(&p);

    cdp_profile_init(&p, &id);
    cdp_profile_tally(&p, "category", "b", 1);
    cdp_profile_tally(&p, "category", "c", 1);
    cdp_profile_tally(&p, "category", "a", 1);
    CHECK_STR(cdp_profile_top_tally(&p, "category"), "a");
    /* Dropping the last entry drops the group; a negative delta never creates one. */
    cdp_profile_tally(&p, "category", "a", -1);
    cdp_profile_tally(&p, "category", "b", -1);
    cdp_profile_tally(&p, "category", "c", -5);
    CHECK(json_object_get(p.tallies, "category") == NULL);
    cdp_profile_tally(&p, "other", "x", -1);
    CHECK(json_object_get(p.tallies, "other") == NULL);
    CHECK(cdp_profile_top_tally(&p, "category") == NULL);
    cdp_profile_free(&p);
}

static void
test_count_kind(void)
{
    struct cdp_id id = id_of("user:t");
    struct cdp_profile p;
    cdp_profile_init(&p, &id);
    CHECK_INT(cdp_profile_count_kind(&p, "email"), 0);
    cdp_profile_add_identifier(&p, "email:a@example.com");
    cdp_profile_add_identifier(&p, "email:b@example.com");
    cdp_profile_add_identifier(&p, "emailx:c");
    cdp_profile_add_identifier(&p, "user:email:d");
    cdp_profile_add_identifier(&p, "anon:1");
    cdp_profile_add_identifier(&p, "crm_id:9");
    CHECK_INT(cdp_profile_count_kind(&p, "email"), 2);
    CHECK_INT(cdp_profile_count_kind(&p, "emailx"), 1);
    CHECK_INT(cdp_profile_count_kind(&p, "user"), 1);
    CHECK_INT(cdp_profile_count_kind(&p, "anon"), 1);
    CHECK_INT(cdp_profile_count_kind(&p, "crm_id"), 1);
    CHECK_INT(cdp_profile_count_kind(&p, "e"), 0);
    CHECK_INT(cdp_profile_count_kind(&p, "phone"), 0);
    CHECK_INT(cdp_profile_count_kind(&p, "crm"), 0);
    cdp_profile_free(&p);
}

static void
test_anchor(void)
{
    struct cdp_id id = id_of("user:t");
    struct cdp_profile p;
    unsigned char m1[16], m2[16], m3[16];
    memset(m1, 0x10, 16);
    memset(m2, 0x20, 16);
    memset(m3, 0x30, 16);

    cdp_profile_init(&p, &id);
    /* A new profile has no anchor: everything is before it. */
    CHECK(cdp_profile_before_anchor(&p, 0, m1));
    CHECK(cdp_profile_before_anchor(&p, INT64_MIN, m3));
    CHECK(cdp_profile_before_anchor(&p, INT64_MAX - 1, m3));

    p.head.anchor_time = 1000;
    memcpy(p.head.anchor_message, m2, 16);
    CHECK(cdp_profile_before_anchor(&p, 999, m3));
    CHECK(!cdp_profile_before_anchor(&p, 1001, m1));
    CHECK(cdp_profile_before_anchor(&p, 1000, m1));  /* tie: smaller message */
    CHECK(!cdp_profile_before_anchor(&p, 1000, m2)); /* the anchor itself */
    CHECK(!cdp_profile_before_anchor(&p, 1000, m3));
    CHECK(cdp_profile_before_anchor(&p, -5, m3)); /* negative times */
    p.head.anchor_time = -100;
    CHECK(cdp_profile_before_anchor(&p, -101, m3));
    CHECK(!cdp_profile_before_anchor(&p, -99, m1));
    cdp_profile_free(&p);
}

/* Builds one of the two sides of a merge. */
static void
make_side(struct cdp_profile *p, int which)
{
    struct cdp_id id = id_of(which ? "user:b" : "user:a");
    cdp_profile_init(p, &id);
    struct cdp_profile_head *h = &p->head;
    if (which == 0) {
        cdp_profile_add_identifier(p, "user:a");
        cdp_profile_add_identifier(p, "email:shared@example.com");
        cdp_profile_add_identifier(p, "anon:a1");
        h->first_seen = 1000;
        h->last_seen = 5000;
        h->anchor_time = 1000;
        memset(h->anchor_message, 0x22, 16);
        h->first_order_at = 2000;
        h->last_order_at = 3000;
        h->revenue_micros = 1500000;
        h->events_count = 10;
        h->page_views = 4;
        h->email_opens = 1;
        h->email_clicks = 2;
        h->downloads = 3;
        h->support_contacts = 4;
        h->orders_count = 2;
        h->returns_count = 1;
        set(p, "firstName", "Ann", 1000, "web");
        set(p, "city", "Paris", 4000, "crm");
        set(p, "tie", "left", 3000, "web");
        set(p, "only_a", "yes", 1, "web");
        cdp_profile_tally(p, "payment_method", "card", 2);
        cdp_profile_tally(p, "category", "Books", 1);
    } else {
        cdp_profile_add_identifier(p, "anon:b1");
        cdp_profile_add_identifier(p, "email:shared@example.com");
        cdp_profile_add_identifier(p, "phone:+33612345678");
        h->first_seen = 500;
        h->last_seen = 4500;
        h->anchor_time = 500;
        memset(h->anchor_message, 0x11, 16);
        h->first_order_at = CDP_TIME_NONE;
        h->last_order_at = CDP_TIME_NONE;
        h->revenue_micros = 250000;
        h->events_count = 3;
        h->page_views = 1;
        h->email_opens = 5;
        h->downloads = 1;
        h->returns_count = 2;
        set(p, "firstName", "Anne", 2000, "web");
        set(p, "city", "Lyon", 3000, "crm");
        set(p, "tie", "right", 3000, "web");
        set(p, "only_b", "yes", 2, "web");
        cdp_profile_tally(p, "payment_method", "paypal", 2);
        cdp_profile_tally(p, "payment_method", "card", 1);
        cdp_profile_tally(p, "category", "Games", 4);
    }
}

static void
test_merge(void)
{
    struct cdp_profile a, b, ab, ba;
    make_side(&a, 0);
    make_side(&b, 1);

    copy_profile(&ab, &a);
    cdp_profile_merge(&ab, &b, NULL); /* b into a */
    copy_profile(&ba, &b);
    cdp_profile_merge(&ba, &a, NULL); /* a into b */

    CHECK_INT(ab.head.revenue_micros, 1750000);
    CHECK_INT(ba.head.revenue_micros, 1750000);
    CHECK_INT(ab.head.events_count, 13);
    CHECK_INT(ba.head.events_count, 13);
    CHECK_INT(ab.head.page_views, 5);
    CHECK_INT(ab.head.email_opens, 6);
    CHECK_INT(ab.head.email_clicks, 2);
    CHECK_INT(ab.head.downloads, 4);
    CHECK_INT(ab.head.support_contacts, 4);
    CHECK_INT(ab.head.orders_count, 2);
    CHECK_INT(ab.head.returns_count, 3);
    CHECK_INT(ab.head.first_seen, 500);
    CHECK_INT(ab.head.last_seen, 5000);
    CHECK_INT(ab.head.first_order_at, 2000);
    CHECK_INT(ab.head.last_order_at, 3000);
    CHECK_INT(ba.head.first_order_at, 2000);
    CHECK_INT(ba.head.last_order_at, 3000);
    CHECK_INT(ab.head.anchor_time, 500);
    CHECK(memcmp(ab.head.anchor_message, b.head.anchor_message, 16) == 0);
    CHECK_INT(ba.head.anchor_time, 500);
    CHECK(memcmp(ba.head.anchor_message, b.head.anchor_message, 16) == 0);

    const char *want_ids =
        "anon:a1 anon:b1 email:shared@example.com phone:+33612345678 user:a";
    CHECK_STR(identifiers_of(&ab), want_ids);
    CHECK_STR(identifiers_of(&ba), want_ids);
    CHECK_INT(ab.identifiers_count, 5);
    CHECK_INT(ba.identifiers_count, 5);

    CHECK_STR(trait(&ab, "firstName"), "\"Anne\"");
    CHECK_STR(trait(&ab, "city"), "\"Paris\"");
    CHECK_STR(trait(&ab, "tie"), "\"right\"");
    CHECK_STR(trait(&ab, "only_a"), "\"yes\"");
    CHECK_STR(trait(&ab, "only_b"), "\"yes\"");
    {
        char t1[2048];
        snprintf(t1, sizeof t1, "%s", dump(ab.traits));
        CHECK_STR(dump(ba.traits), t1);
        snprintf(t1, sizeof t1, "%s", dump(ab.tallies));
        CHECK_STR(dump(ba.tallies), t1);
    }
    CHECK_STR(dump(ab.tallies),
              "{\"category\":{\"Books\":1,\"Games\":4},\"payment_method\":{\"card\":3,\"paypal\":2}}");
    CHECK_STR(cdp_profile_top_tally(&ab, "payment_method"), "card");
    CHECK_STR(cdp_profile_top_tally(&ba, "category"), "Games");

    /* The counters left for the caller aside, both directions agree byte for byte. */
    ab.head.visits = ba.head.visits = 0;
    ab.head.time_on_site_ms = ba.head.time_on_site_ms = 0;
    ab.head.abandoned_carts = ba.head.abandoned_carts = 0;
    CHECK(ab.head.flags == ba.head.flags);
    CHECK(same_encoding(&ab, &ba));

    /* Merging an empty profile changes nothing but what it must not. */
    struct cdp_profile e, ae;
    struct cdp_id eid = id_of("anon:empty");
    cdp_profile_init(&e, &eid);
    copy_profile(&ae, &a);
    cdp_profile_merge(&ae, &e, NULL);
    CHECK(same_encoding(&ae, &a));
    cdp_profile_free(&ae);
    /* ... and an empty profile that takes one becomes a copy (id aside). */
    cdp_profile_merge(&e, &a, NULL);
    e.head.visits = a.head.visits;
    e.head.time_on_site_ms = a.head.time_on_site_ms;
    e.head.abandoned_carts = a.head.abandoned_carts;
    CHECK(same_encoding(&e, &a));
    cdp_profile_free(&e);

    /* Anchors tied on time: the smaller message wins whichever side it is on. */
    struct cdp_profile x, y, xy, yx;
    make_side(&x, 0);
    make_side(&y, 1);
    y.head.anchor_time = x.head.anchor_time;
    copy_profile(&xy, &x);
    cdp_profile_merge(&xy, &y, NULL);
    copy_profile(&yx, &y);
    cdp_profile_merge(&yx, &x, NULL);
    CHECK(memcmp(xy.head.anchor_message, y.head.anchor_message, 16) == 0);
    CHECK(memcmp(yx.head.anchor_message, y.head.anchor_message, 16) == 0);
    cdp_profile_free(&x);
    cdp_profile_free(&y);
    cdp_profile_free(&xy);
    cdp_profile_free(&yx);

    cdp_profile_free(&a);
    cdp_profile_free(&b);
    cdp_profile_free(&ab);
    cdp_profile_free(&ba);
}

int
main(void)
{
    test_init();
    test_round_trip();
    test_traits();
    test_tallies();
    test_count_kind();
    test_anchor();
    test_merge();
    return check_summary("profile");
}
