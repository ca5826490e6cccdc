/*
 * test_survive.c - unit tests for lib/survive.c (survivorship rules) and the
 * survivorship of traits in lib/profile.c: cdp_profile_set_trait() under each
 * rule, the counts of "frequent", and cdp_profile_merge() with rules.
 *
 * The key property is order independence: a profile keeps the same value,
 * time and source of a trait whatever order its offers arrive in.
 */
#include "survive.h"
#include "profile.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static struct cdp_id
id_of(const char *s)
{
    return cdp_hash_string(s);
}

/* A JSON value as compact sorted text (static buffer). */
static const char *
dump(json_t *v)
{
    static char out[8192];
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    snprintf(out, sizeof out, "%s", text ? text : "(null)");
    free(text);
    return out;
}

/* The kept value of trait name as text, or NULL. */
static const char *
trait(const struct cdp_profile *p, const char *name)
{
    json_t *entry = json_object_get(p->traits, name);
    return entry ? dump(json_array_get(entry, 0)) : NULL;
}

/* The time of trait name's entry. */
static long long
trait_time(const struct cdp_profile *p, const char *name)
{
    return (long long)json_integer_value(json_array_get(json_object_get(p->traits, name), 1));
}

/* The source of trait name's entry, or NULL. */
static const char *
trait_source(const struct cdp_profile *p, const char *name)
{
    return json_string_value(json_array_get(json_object_get(p->traits, name), 2));
}

/* The "frequent" counts of trait name (entry[3]), or NULL. */
static json_t *
trait_counts(const struct cdp_profile *p, const char *name)
{
    return json_array_get(json_object_get(p->traits, name), 3);
}

/* entry[3][text][i] as an integer (-1 when missing). */
static long long
count_of(const struct cdp_profile *p, const char *name, const char *text, size_t i)
{
    json_t *c = json_array_get(json_object_get(trait_counts(p, name), text), i);
    return json_is_integer(c) ? (long long)json_integer_value(c) : -1;
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

/* Offers a string value of a trait under rule. */
static bool
offer(struct cdp_profile *p, const char *name, const char *value, int64_t time,
      const char *source, const struct cdp_survive_rule *rule)
{
    json_t *v = json_string(value);
    bool changed = cdp_profile_set_trait(p, name, v, time, source, rule);
    json_decref(v);
    return changed;
}

static int
sign(int x)
{
    return (x > 0) - (x < 0);
}

/* Parses a rule that must parse. */
static void
parse_ok(const char *text, struct cdp_survive_rule *r)
{
    char err[256] = "";
    bool ok = cdp_survive_parse_rule(text, r, err, sizeof err);
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "    rule '%s': %s\n", text, err);
    CHECK_STR(err, "");
}

static void
test_parse_rule(void)
{
    static const struct {
        const char *text;
        enum cdp_survive_policy policy;
    } good[] = {
        {"recent", CDP_SURVIVE_RECENT},
        {"first", CDP_SURVIVE_FIRST},
        {"frequent", CDP_SURVIVE_FREQUENT},
        {"nonempty", CDP_SURVIVE_NONEMPTY},
    };
    struct cdp_survive_rule r;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        parse_ok(good[i].text, &r);
        CHECK_INT(r.policy, good[i].policy);
        CHECK_INT(r.nsources, 0);
        CHECK(r.sources == NULL);
        cdp_survive_rule_free(&r);
    }

    parse_ok("source:crm,shop,web", &r);
    CHECK_INT(r.policy, CDP_SURVIVE_SOURCE);
    CHECK_INT(r.nsources, 3);
    if (r.nsources == 3) {
        CHECK_STR(r.sources[0], "crm");
        CHECK_STR(r.sources[1], "shop");
        CHECK_STR(r.sources[2], "web");
    }
    cdp_survive_rule_free(&r);
    CHECK_INT(r.nsources, 0);
    CHECK(r.sources == NULL);
    cdp_survive_rule_free(&r); /* twice is harmless */

    parse_ok("source:crm", &r);
    CHECK_INT(r.policy, CDP_SURVIVE_SOURCE);
    CHECK_INT(r.nsources, 1);
    if (r.nsources == 1)
        CHECK_STR(r.sources[0], "crm");
    cdp_survive_rule_free(&r);

    /* A source name of 128 bytes is fine, 129 is too long. */
    {
        char text[7 + 129 + 1];
        memcpy(text, "source:", 7);
        memset(text + 7, 'x', 128);
        text[7 + 128] = '\0';
        parse_ok(text, &r);
        CHECK_INT(r.nsources, 1);
        if (r.nsources == 1)
            CHECK_INT(strlen(r.sources[0]), 128);
        cdp_survive_rule_free(&r);
        text[7 + 128] = 'x';
        text[7 + 129] = '\0';
        char err[256] = "";
        CHECK(!cdp_survive_parse_rule(text, &r, err, sizeof err));
        CHECK(err[0] != '\0');
        cdp_survive_rule_free(&r);
    }

    static const char *bad[] = {
        "",          "latest",        "source:",     "source:a,,b", "source:a,",
        "Recent",    " recent",       "recent ",     "source",      "source:,a",
        "sources:a", "frequent,first", "source:a,b,", "nonempty:x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        bool ok = cdp_survive_parse_rule(bad[i], &r, err, sizeof err);
        CHECK(!ok);
        if (ok)
            fprintf(stderr, "    rule '%s' parsed\n", bad[i]);
        CHECK(err[0] != '\0');
        /* Nothing is left allocated by a refused rule. */
        CHECK_INT(r.nsources, 0);
        CHECK(r.sources == NULL);
        cdp_survive_rule_free(&r);
    }
}

static void
test_name_ok(void)
{
    CHECK(cdp_survive_name_ok("*"));
    CHECK(cdp_survive_name_ok("email"));
    CHECK(cdp_survive_name_ok("first name"));
    CHECK(cdp_survive_name_ok("caf\xc3\xa9"));
    CHECK(!cdp_survive_name_ok(""));
    char name[201];
    memset(name, 'n', 200);
    name[200] = '\0';
    CHECK(!cdp_survive_name_ok(name));
    CHECK(!cdp_survive_name_ok("em\tail"));
    CHECK(!cdp_survive_name_ok("email\n"));
    CHECK(!cdp_survive_name_ok("\x01"));
    CHECK(!cdp_survive_name_ok("a\x7f"));
}

static void
test_from_json(void)
{
    char err[256];
    struct cdp_survive *s;

    /* Named rules and the "*" fallback. */
    json_t *spec = json_pack("{s:s,s:s,s:s}", "email", "first", "*", "nonempty", "plan",
                             "source:crm,web");
    err[0] = '\0';
    s = cdp_survive_from_json(spec, err, sizeof err);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK_INT(s->n, 3);
        const struct cdp_survive_rule *r = cdp_survive_rule_for(s, "email");
        CHECK(r != NULL && r->policy == CDP_SURVIVE_FIRST);
        r = cdp_survive_rule_for(s, "city");
        CHECK(r != NULL && r->policy == CDP_SURVIVE_NONEMPTY);
        CHECK(r == s->fallback);
        r = cdp_survive_rule_for(s, "plan");
        CHECK(r != NULL && r->policy == CDP_SURVIVE_SOURCE && r->nsources == 2);
        if (r != NULL && r->nsources == 2) {
            CHECK_STR(r->sources[0], "crm");
            CHECK_STR(r->sources[1], "web");
        }
        r = cdp_survive_rule_for(s, "Email"); /* names are case-sensitive */
        CHECK(r == s->fallback);
        CHECK(s->spec == spec);
    }
    cdp_survive_free(s);
    json_decref(spec);

    /* Without "*", traits not named keep the default (NULL). */
    spec = json_pack("{s:s}", "email", "frequent");
    s = cdp_survive_from_json(spec, err, sizeof err);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK(s->fallback == NULL);
        const struct cdp_survive_rule *r = cdp_survive_rule_for(s, "email");
        CHECK(r != NULL && r->policy == CDP_SURVIVE_FREQUENT);
        CHECK(cdp_survive_rule_for(s, "city") == NULL);
    }
    cdp_survive_free(s);
    json_decref(spec);

    /* An empty object names nothing. */
    spec = json_object();
    s = cdp_survive_from_json(spec, err, sizeof err);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK_INT(s->n, 0);
        CHECK(cdp_survive_rule_for(s, "email") == NULL);
    }
    cdp_survive_free(s);
    json_decref(spec);

    /* No rules at all: the default. */
    CHECK(cdp_survive_rule_for(NULL, "email") == NULL);
    cdp_survive_free(NULL);

    /* Refused: each gives NULL with err set, and leaks nothing. */
    json_t *bad[] = {
        json_pack("[s]", "first"),
        json_string("first"),
        json_null(),
        json_pack("{s:i}", "email", 3),
        json_pack("{s:n}", "email"),
        json_pack("{s:s}", "email", "latest"),
        json_pack("{s:s}", "email", "source:"),
        json_pack("{s:s}", "", "first"),
        json_pack("{s:s,s:s}", "a", "source:x,y", "b", "bogus"),
        json_pack("{s:s,s:s,s:i}", "*", "first", "a", "source:x,y", "b", 1),
        json_pack("{s:s,s:s}", "a", "source:x,y", "b", "source:p,,q"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        s = cdp_survive_from_json(bad[i], err, sizeof err);
        CHECK(s == NULL);
        if (s != NULL)
            fprintf(stderr, "    spec %s accepted\n", dump(bad[i]));
        CHECK(err[0] != '\0');
        cdp_survive_free(s);
        json_decref(bad[i]);
    }
    {
        char name[201];
        memset(name, 'n', 200);
        name[200] = '\0';
        spec = json_object();
        json_object_set_new(spec, name, json_string("first"));
        err[0] = '\0';
        s = cdp_survive_from_json(spec, err, sizeof err);
        CHECK(s == NULL);
        CHECK(err[0] != '\0');
        cdp_survive_free(s);
        json_decref(spec);
    }
    /* NULL is not an object either. */
    err[0] = '\0';
    CHECK(cdp_survive_from_json(NULL, err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
}

static void
test_empty(void)
{
    CHECK(cdp_survive_empty(NULL));
    const char *empty[] = {"null", "\"\"", "\"   \"", "\" \\t\\n\"", "[]", "{}"};
    const char *full[] = {"\"a\"", "\" a \"", "0",     "0.0",       "false",
                          "true",  "[1]",    "[null]", "{\"a\":null}", "\"0\""};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        json_t *v = json_loads(empty[i], JSON_DECODE_ANY, NULL);
        CHECK(v != NULL);
        CHECK(cdp_survive_empty(v));
        if (!cdp_survive_empty(v))
            fprintf(stderr, "    %s is not empty\n", empty[i]);
        json_decref(v);
    }
    for (size_t i = 0; i < sizeof full / sizeof full[0]; i++) {
        json_t *v = json_loads(full[i], JSON_DECODE_ANY, NULL);
        CHECK(v != NULL);
        CHECK(!cdp_survive_empty(v));
        if (cdp_survive_empty(v))
            fprintf(stderr, "    %s is empty\n", full[i]);
        json_decref(v);
    }
}

/* One candidate of a trait. */
struct cand {
    const char *value; /* JSON text */
    int64_t time;
    const char *source;
};

static int
cmp(const struct cdp_survive_rule *rule, struct cand a, struct cand b)
{
    json_t *va = json_loads(a.value, JSON_DECODE_ANY, NULL);
    json_t *vb = json_loads(b.value, JSON_DECODE_ANY, NULL);
    int c = cdp_survive_compare(rule, va, a.time, a.source, vb, b.time, b.source);
    json_decref(va);
    json_decref(vb);
    return sign(c);
}

static void
test_compare(void)
{
    struct cdp_survive_rule recent, first, frequent, nonempty, source;
    parse_ok("recent", &recent);
    parse_ok("first", &first);
    parse_ok("frequent", &frequent);
    parse_ok("nonempty", &nonempty);
    parse_ok("source:crm,shop,web", &source);

    struct cand a1 = {"\"a\"", 1, "web"}, b2 = {"\"b\"", 2, "web"};

    /* recent (NULL is recent): the later wins. */
    CHECK_INT(cmp(NULL, b2, a1), 1);
    CHECK_INT(cmp(NULL, a1, b2), -1);
    CHECK_INT(cmp(&recent, b2, a1), 1);
    CHECK_INT(cmp(&recent, a1, b2), -1);
    CHECK_INT(cmp(NULL, (struct cand){"\"a\"", -5, "web"}, (struct cand){"\"a\"", -6, "web"}), 1);
    /* frequent compares like recent (the counts are the profile's). */
    CHECK_INT(cmp(&frequent, b2, a1), 1);
    CHECK_INT(cmp(&frequent, a1, b2), -1);

    /* first: the earlier wins. */
    CHECK_INT(cmp(&first, a1, b2), 1);
    CHECK_INT(cmp(&first, b2, a1), -1);
    CHECK_INT(cmp(&first, (struct cand){"\"a\"", -100, "web"}, (struct cand){"\"b\"", 0, "web"}),
              1);

    /* nonempty: a value beats an empty one whatever the times; then the later. */
    struct cand x1 = {"\"x\"", 1, "web"}, e2 = {"\"\"", 2, "web"}, n3 = {"null", 3, "crm"},
                arr4 = {"[]", 4, "web"}, obj5 = {"{}", 5, "web"}, y0 = {"\"y\"", 0, "web"},
                sp9 = {"\"  \"", 9, "zzz"};
    CHECK_INT(cmp(&nonempty, x1, e2), 1);
    CHECK_INT(cmp(&nonempty, e2, x1), -1);
    CHECK_INT(cmp(&nonempty, x1, n3), 1);
    CHECK_INT(cmp(&nonempty, arr4, x1), -1);
    CHECK_INT(cmp(&nonempty, y0, obj5), 1);
    CHECK_INT(cmp(&nonempty, y0, sp9), 1);
    CHECK_INT(cmp(&nonempty, x1, y0), 1); /* both non-empty: the later */
    CHECK_INT(cmp(&nonempty, y0, x1), -1);
    CHECK_INT(cmp(&nonempty, obj5, arr4), 1); /* both empty: the later */
    CHECK_INT(cmp(&nonempty, e2, n3), -1);
    /* Under recent the empty one would have won. */
    CHECK_INT(cmp(NULL, e2, x1), 1);

    /* source:crm,shop,web: the rank first, whatever the times. */
    struct cand crm1 = {"\"c\"", 1, "crm"}, shop5 = {"\"s\"", 5, "shop"},
                web100 = {"\"w\"", 100, "web"}, other200 = {"\"o\"", 200, "other"},
                none300 = {"\"n\"", 300, NULL}, zzz1 = {"\"z\"", 1, "zzz"},
                aaa2 = {"\"a\"", 2, "aaa"};
    CHECK_INT(cmp(&source, crm1, web100), 1);
    CHECK_INT(cmp(&source, web100, crm1), -1);
    CHECK_INT(cmp(&source, crm1, shop5), 1);
    CHECK_INT(cmp(&source, shop5, web100), 1);
    CHECK_INT(cmp(&source, web100, other200), 1); /* an unlisted source loses */
    CHECK_INT(cmp(&source, other200, web100), -1);
    CHECK_INT(cmp(&source, crm1, none300), 1); /* so does no source */
    CHECK_INT(cmp(&source, none300, crm1), -1);
    CHECK_INT(cmp(&source, aaa2, zzz1), 1); /* two unlisted: the later */
    CHECK_INT(cmp(&source, zzz1, aaa2), -1);
    CHECK_INT(cmp(&source, none300, other200), 1);
    /* Same listed source: the later. */
    CHECK_INT(cmp(&source, (struct cand){"\"p\"", 7, "shop"}, shop5), 1);
    CHECK_INT(cmp(&source, shop5, (struct cand){"\"p\"", 7, "shop"}), -1);
    /* Under recent, the later wins whatever the source. */
    CHECK_INT(cmp(NULL, web100, crm1), 1);

    /* Ties on time: the greater source name, then the greater value text, under every rule. */
    const struct cdp_survive_rule *rules[] = {NULL, &recent, &first, &frequent, &nonempty};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        CHECK_INT(cmp(rules[i], (struct cand){"\"a\"", 10, "web"}, (struct cand){"\"b\"", 10, "crm"}),
                  1);
        CHECK_INT(cmp(rules[i], (struct cand){"\"b\"", 10, "crm"}, (struct cand){"\"a\"", 10, "web"}),
                  -1);
        CHECK_INT(cmp(rules[i], (struct cand){"\"b\"", 10, "web"}, (struct cand){"\"a\"", 10, "web"}),
                  1);
        CHECK_INT(cmp(rules[i], (struct cand){"\"a\"", 10, "web"}, (struct cand){"\"b\"", 10, "web"}),
                  -1);
        CHECK_INT(cmp(rules[i], (struct cand){"\"x\"", 10, "a"}, (struct cand){"\"x\"", 10, NULL}), 1);
        CHECK_INT(cmp(rules[i], (struct cand){"\"x\"", 10, "web"}, (struct cand){"\"x\"", 10, "web"}),
                  0);
    }
    /* Under source, two unlisted at the same time: the greater source name. */
    CHECK_INT(cmp(&source, (struct cand){"\"a\"", 10, "zed"}, (struct cand){"\"b\"", 10, "abc"}), 1);
    /* Same source and time: the greater value text (the number 5, as '5' > '"'). */
    CHECK_INT(cmp(&source, (struct cand){"5", 10, "crm"}, (struct cand){"\"5\"", 10, "crm"}), 1);
    CHECK_INT(cmp(&source, (struct cand){"\"5\"", 10, "crm"}, (struct cand){"5", 10, "crm"}), -1);

    /*
     * Every rule orders any set of distinct candidates completely:
     * antisymmetric, 0 only for a candidate against itself, and transitive.
     */
    static const struct cand set[] = {
        {"\"a\"", 1, "web"},  {"\"a\"", 1, "crm"},  {"\"b\"", 1, "web"},  {"\"\"", 1, "web"},
        {"null", 2, "shop"},  {"\"a\"", 2, NULL},   {"5", 2, "crm"},      {"\"5\"", 2, "crm"},
        {"[]", 3, "zzz"},     {"[1]", 3, "zzz"},    {"{}", -1, "other"},  {"\"q\"", -1, "shop"},
        {"\"  \"", 4, "web"}, {"\"z\"", 4, "aaa"},  {"true", 0, "crm"},   {"\"c\"", 100, "zzz"},
    };
    const size_t nset = sizeof set / sizeof set[0];
    const struct cdp_survive_rule *all[] = {NULL, &recent, &first, &frequent, &nonempty, &source};
    for (size_t r = 0; r < sizeof all / sizeof all[0]; r++) {
        int bad_anti = 0, bad_zero = 0, bad_trans = 0;
        for (size_t i = 0; i < nset; i++)
            for (size_t j = 0; j < nset; j++) {
                int ij = cmp(all[r], set[i], set[j]), ji = cmp(all[r], set[j], set[i]);
                if (ij != -ji)
                    bad_anti++;
                if ((ij == 0) != (i == j))
                    bad_zero++;
                for (size_t k = 0; k < nset; k++)
                    if (ij > 0 && cmp(all[r], set[j], set[k]) > 0 &&
                        cmp(all[r], set[i], set[k]) <= 0)
                        bad_trans++;
            }
        CHECK_INT(bad_anti, 0);
        CHECK_INT(bad_zero, 0);
        CHECK_INT(bad_trans, 0);
    }

    cdp_survive_rule_free(&recent);
    cdp_survive_rule_free(&first);
    cdp_survive_rule_free(&frequent);
    cdp_survive_rule_free(&nonempty);
    cdp_survive_rule_free(&source);
}

/* The six orders of three offers. */
static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};

/*
 * Offers the three candidates to a fresh profile in every order and checks
 * that each keeps want (value text), want_time and want_source, and that all
 * six profiles encode the same.
 */
static void
check_orders(const char *what, const struct cdp_survive_rule *rule, const struct cand offers[3],
             const char *want, long long want_time, const char *want_source)
{
    struct cdp_id id = id_of("user:orders");
    struct cdp_profile ref;
    cdp_profile_init(&ref, &id);
    for (size_t o = 0; o < 6; o++) {
        struct cdp_profile p;
        cdp_profile_init(&p, &id);
        for (size_t k = 0; k < 3; k++) {
            const struct cand *c = &offers[perms[o][k]];
            json_t *v = json_loads(c->value, JSON_DECODE_ANY, NULL);
            cdp_profile_set_trait(&p, "t", v, c->time, c->source, rule);
            json_decref(v);
        }
        int before = check_failed;
        CHECK_STR(trait(&p, "t"), want);
        CHECK_INT(trait_time(&p, "t"), want_time);
        CHECK_STR(trait_source(&p, "t"), want_source);
        if (o == 0) {
            cdp_profile_free(&ref);
            ref = p;
            continue;
        }
        CHECK(same_encoding(&p, &ref));
        if (check_failed != before) {
            fprintf(stderr, "    %s, order %d%d%d: %s\n", what, perms[o][0], perms[o][1],
                    perms[o][2], dump(p.traits));
        }
        cdp_profile_free(&p);
    }
    cdp_profile_free(&ref);
}

static void
test_profile_orders(void)
{
    struct cdp_survive_rule recent, first, frequent, nonempty, source;
    parse_ok("recent", &recent);
    parse_ok("first", &first);
    parse_ok("frequent", &frequent);
    parse_ok("nonempty", &nonempty);
    parse_ok("source:crm,shop,web", &source);

    static const struct cand distinct[3] = {
        {"\"a\"", 10, "web"}, {"\"b\"", 30, "crm"}, {"\"c\"", 20, "shop"}};
    check_orders("recent(NULL)", NULL, distinct, "\"b\"", 30, "crm");
    check_orders("recent", &recent, distinct, "\"b\"", 30, "crm");
    check_orders("first", &first, distinct, "\"a\"", 10, "web");
    check_orders("nonempty", &nonempty, distinct, "\"b\"", 30, "crm");
    check_orders("source", &source, distinct, "\"b\"", 30, "crm");
    check_orders("frequent", &frequent, distinct, "\"b\"", 30, "crm");

    /* The latest is empty. */
    static const struct cand with_empty[3] = {
        {"\"x\"", 10, "web"}, {"\"\"", 30, "crm"}, {"\"y\"", 20, "shop"}};
    check_orders("recent(NULL), empty", NULL, with_empty, "\"\"", 30, "crm");
    check_orders("first, empty", &first, with_empty, "\"x\"", 10, "web");
    check_orders("nonempty, empty", &nonempty, with_empty, "\"y\"", 20, "shop");
    check_orders("source, empty", &source, with_empty, "\"\"", 30, "crm");

    /* The best source is the earliest; the latest source is not listed. */
    static const struct cand sources[3] = {
        {"\"w\"", 10, "web"}, {"\"c\"", 5, "crm"}, {"\"o\"", 30, "other"}};
    check_orders("source, ranks", &source, sources, "\"c\"", 5, "crm");
    check_orders("recent, ranks", NULL, sources, "\"o\"", 30, "other");
    check_orders("first, ranks", &first, sources, "\"c\"", 5, "crm");

    /* A value given twice. */
    static const struct cand twice[3] = {
        {"\"a\"", 10, "web"}, {"\"b\"", 30, "crm"}, {"\"a\"", 20, "shop"}};
    check_orders("frequent, twice", &frequent, twice, "\"a\"", 20, "shop");
    check_orders("recent, twice", NULL, twice, "\"b\"", 30, "crm");
    check_orders("first, twice", &first, twice, "\"a\"", 10, "web");
    check_orders("source, twice", &source, twice, "\"b\"", 30, "crm");

    /* All at the same time: the greater source, then the greater value; source ranks first. */
    static const struct cand same_time[3] = {
        {"\"p\"", 10, "web"}, {"\"q\"", 10, "crm"}, {"\"r\"", 10, "web"}};
    check_orders("recent, same time", NULL, same_time, "\"r\"", 10, "web");
    check_orders("first, same time", &first, same_time, "\"r\"", 10, "web");
    check_orders("nonempty, same time", &nonempty, same_time, "\"r\"", 10, "web");
    check_orders("source, same time", &source, same_time, "\"q\"", 10, "crm");
    check_orders("frequent, same time", &frequent, same_time, "\"r\"", 10, "web");

    /* The same value given by two sources at the same time: the greater source's. */
    static const struct cand same_value[3] = {
        {"\"v\"", 10, "crm"}, {"\"v\"", 10, "web"}, {"\"u\"", 5, "shop"}};
    check_orders("frequent, same value", &frequent, same_value, "\"v\"", 10, "web");
    check_orders("recent, same value", NULL, same_value, "\"v\"", 10, "web");
    check_orders("source, same value", &source, same_value, "\"v\"", 10, "crm");

    /* Values of several JSON types. */
    static const struct cand types[3] = {{"5", 10, "web"}, {"\"5\"", 10, "web"}, {"[5]", 9, "crm"}};
    check_orders("recent, types", NULL, types, "5", 10, "web");
    check_orders("frequent, types", &frequent, types, "5", 10, "web");
    check_orders("first, types", &first, types, "[5]", 9, "crm");

    cdp_survive_rule_free(&recent);
    cdp_survive_rule_free(&first);
    cdp_survive_rule_free(&frequent);
    cdp_survive_rule_free(&nonempty);
    cdp_survive_rule_free(&source);
}

static void
test_frequent(void)
{
    struct cdp_survive_rule frequent;
    parse_ok("frequent", &frequent);
    struct cdp_id id = id_of("user:f");
    struct cdp_profile p, q;

    /* a@1 b@2 a@3 b@4 b@5: b came 3 times, a twice. */
    cdp_profile_init(&p, &id);
    CHECK(offer(&p, "t", "a", 1, "web", &frequent));
    CHECK_STR(trait(&p, "t"), "\"a\"");
    offer(&p, "t", "b", 2, "crm", &frequent);
    CHECK_STR(trait(&p, "t"), "\"b\""); /* 1 each: the later */
    offer(&p, "t", "a", 3, "web", &frequent);
    CHECK_STR(trait(&p, "t"), "\"a\"");
    offer(&p, "t", "b", 4, "crm", &frequent);
    offer(&p, "t", "b", 5, "shop", &frequent);
    CHECK_STR(trait(&p, "t"), "\"b\"");
    CHECK_INT(trait_time(&p, "t"), 5);
    CHECK_STR(trait_source(&p, "t"), "shop");
    CHECK_INT(json_array_size(json_object_get(p.traits, "t")), 4);
    CHECK(json_is_object(trait_counts(&p, "t")));
    CHECK_INT(json_object_size(trait_counts(&p, "t")), 2);
    CHECK_INT(count_of(&p, "t", "\"b\"", 0), 3);
    CHECK_INT(count_of(&p, "t", "\"b\"", 1), 5);
    CHECK_STR(json_string_value(json_array_get(json_object_get(trait_counts(&p, "t"), "\"b\""), 2)),
              "shop");
    CHECK_INT(count_of(&p, "t", "\"a\"", 0), 2);
    CHECK_INT(count_of(&p, "t", "\"a\"", 1), 3);
    CHECK_STR(dump(json_object_get(p.traits, "t")),
              "[\"b\",5,\"shop\",{\"\\\"a\\\"\":[2,3,\"web\"],\"\\\"b\\\"\":[3,5,\"shop\"]}]");

    /* The same offers in the reverse order. */
    cdp_profile_init(&q, &id);
    offer(&q, "t", "b", 5, "shop", &frequent);
    offer(&q, "t", "b", 4, "crm", &frequent);
    offer(&q, "t", "a", 3, "web", &frequent);
    offer(&q, "t", "b", 2, "crm", &frequent);
    offer(&q, "t", "a", 1, "web", &frequent);
    CHECK(same_encoding(&p, &q));
    CHECK_STR(trait(&q, "t"), "\"b\"");
    CHECK_INT(count_of(&q, "t", "\"b\"", 0), 3);
    CHECK_INT(count_of(&q, "t", "\"a\"", 0), 2);
    cdp_profile_free(&q);

    /* ... and encoded then decoded, the counts go on. */
    {
        struct cdp_buf b = CDP_BUF_INIT;
        cdp_profile_encode(&p, &b);
        CHECK(cdp_profile_decode(&q, &id, b.data, b.len));
        cdp_buf_free(&b);
        offer(&q, "t", "a", 0, "web", &frequent);
        CHECK_STR(trait(&q, "t"), "\"b\""); /* 3 each: b's latest is later */
        CHECK_INT(count_of(&q, "t", "\"a\"", 0), 3);
        CHECK_INT(count_of(&q, "t", "\"a\"", 1), 3); /* time of the latest a stays */
        offer(&q, "t", "a", 0, "web", &frequent);
        CHECK_STR(trait(&q, "t"), "\"a\"");
        CHECK_INT(trait_time(&q, "t"), 3);
        CHECK_STR(trait_source(&q, "t"), "web");
        cdp_profile_free(&q);
    }
    cdp_profile_free(&p);

    /* Ties: the one whose latest offer is later. */
    cdp_profile_init(&p, &id);
    offer(&p, "t", "a", 1, "web", &frequent);
    offer(&p, "t", "a", 2, "web", &frequent);
    offer(&p, "t", "b", 3, "web", &frequent);
    offer(&p, "t", "b", 4, "web", &frequent);
    CHECK_STR(trait(&p, "t"), "\"b\"");
    CHECK_INT(trait_time(&p, "t"), 4);
    CHECK_INT(count_of(&p, "t", "\"a\"", 0), 2);
    CHECK_INT(count_of(&p, "t", "\"b\"", 0), 2);
    cdp_profile_free(&p);
    cdp_profile_init(&p, &id);
    offer(&p, "t", "b", 1, "web", &frequent);
    offer(&p, "t", "b", 2, "web", &frequent);
    offer(&p, "t", "a", 3, "web", &frequent);
    offer(&p, "t", "a", 4, "web", &frequent);
    CHECK_STR(trait(&p, "t"), "\"a\"");
    CHECK_INT(trait_time(&p, "t"), 4);
    cdp_profile_free(&p);
    /* ... the same offers of a tie in another order keep the same. */
    cdp_profile_init(&p, &id);
    offer(&p, "t", "a", 4, "web", &frequent);
    offer(&p, "t", "b", 1, "web", &frequent);
    offer(&p, "t", "a", 3, "web", &frequent);
    offer(&p, "t", "b", 2, "web", &frequent);
    CHECK_STR(trait(&p, "t"), "\"a\"");
    CHECK_INT(trait_time(&p, "t"), 4);
    cdp_profile_free(&p);

    /* A trait kept under another rule until now counts once when it turns "frequent". */
    cdp_profile_init(&p, &id);
    offer(&p, "t", "old", 50, "crm", NULL);
    CHECK_INT(json_array_size(json_object_get(p.traits, "t")), 3);
    offer(&p, "t", "new", 10, "web", &frequent);
    CHECK_INT(count_of(&p, "t", "\"old\"", 0), 1);
    CHECK_INT(count_of(&p, "t", "\"old\"", 1), 50);
    CHECK_INT(count_of(&p, "t", "\"new\"", 0), 1);
    CHECK_STR(trait(&p, "t"), "\"old\"");
    offer(&p, "t", "new", 11, "web", &frequent);
    CHECK_STR(trait(&p, "t"), "\"new\"");
    CHECK_INT(trait_time(&p, "t"), 11);
    cdp_profile_free(&p);

    /* Non-string values are counted by their JSON text. */
    cdp_profile_init(&p, &id);
    {
        json_t *v1 = json_pack("{s:i,s:i}", "b", 2, "a", 1), *v2 = json_pack("{s:i,s:i}", "a", 1, "b", 2),
               *n = json_null();
        cdp_profile_set_trait(&p, "t", v1, 1, "web", &frequent);
        cdp_profile_set_trait(&p, "t", n, 5, "web", &frequent);
        cdp_profile_set_trait(&p, "t", v2, 2, "web", &frequent);
        CHECK_STR(trait(&p, "t"), "{\"a\":1,\"b\":2}");
        CHECK_INT(count_of(&p, "t", "{\"a\":1,\"b\":2}", 0), 2);
        CHECK_INT(count_of(&p, "t", "null", 0), 1);
        json_decref(v1);
        json_decref(v2);
        json_decref(n);
    }
    cdp_profile_free(&p);

    /* Past CDP_SURVIVE_FREQUENT_MAX distinct values, the rarest go. */
    cdp_profile_init(&p, &id);
    char value[32];
    int over = 0;
    for (int i = 0; i < 3 * CDP_SURVIVE_FREQUENT_MAX; i++) {
        snprintf(value, sizeof value, "v%d", i);
        offer(&p, "t", value, i, "web", &frequent);
        if (json_object_size(trait_counts(&p, "t")) > CDP_SURVIVE_FREQUENT_MAX)
            over++;
    }
    CHECK_INT(over, 0);
    CHECK_INT(json_object_size(trait_counts(&p, "t")), CDP_SURVIVE_FREQUENT_MAX);
    snprintf(value, sizeof value, "\"v%d\"", 3 * CDP_SURVIVE_FREQUENT_MAX - 1);
    CHECK_STR(trait(&p, "t"), value);
    /* The oldest were dropped, the latest kept. */
    CHECK(json_object_get(trait_counts(&p, "t"), "\"v0\"") == NULL);
    snprintf(value, sizeof value, "\"v%d\"", 2 * CDP_SURVIVE_FREQUENT_MAX);
    CHECK(json_object_get(trait_counts(&p, "t"), value) != NULL);
    cdp_profile_free(&p);

    /* ... but a value given more often than the rest stays, and stays kept. */
    cdp_profile_init(&p, &id);
    offer(&p, "t", "keep", 0, "web", &frequent);
    offer(&p, "t", "keep", 1, "web", &frequent);
    for (int i = 0; i < 2 * CDP_SURVIVE_FREQUENT_MAX; i++) {
        snprintf(value, sizeof value, "v%d", i);
        offer(&p, "t", value, 100 + i, "web", &frequent);
    }
    CHECK_INT(json_object_size(trait_counts(&p, "t")), CDP_SURVIVE_FREQUENT_MAX);
    CHECK_STR(trait(&p, "t"), "\"keep\"");
    CHECK_INT(count_of(&p, "t", "\"keep\"", 0), 2);
    cdp_profile_free(&p);

    cdp_survive_rule_free(&frequent);
}

static void
test_frequent_merge(void)
{
    char err[256];
    json_t *spec = json_pack("{s:s}", "t", "frequent");
    struct cdp_survive *rules = cdp_survive_from_json(spec, err, sizeof err);
    json_decref(spec);
    CHECK(rules != NULL);
    if (rules == NULL)
        return;
    const struct cdp_survive_rule *frequent = cdp_survive_rule_for(rules, "t");
    struct cdp_id ida = id_of("user:a"), idb = id_of("user:b"), idc = id_of("user:c");
    struct cdp_profile a, b, a2, b2, all;

    /* A saw "a" twice; B saw "b" once and "a" once. */
    cdp_profile_init(&a, &ida);
    offer(&a, "t", "a", 1, "web", frequent);
    offer(&a, "t", "a", 2, "web", frequent);
    cdp_profile_init(&b, &idb);
    offer(&b, "t", "b", 3, "crm", frequent);
    offer(&b, "t", "a", 4, "crm", frequent);
    CHECK_STR(trait(&b, "t"), "\"a\"");

    cdp_profile_init(&a2, &ida);
    cdp_profile_merge(&a2, &a, rules);
    cdp_profile_merge(&a2, &b, rules); /* B into A */
    CHECK_STR(trait(&a2, "t"), "\"a\"");
    CHECK_INT(count_of(&a2, "t", "\"a\"", 0), 3);
    CHECK_INT(count_of(&a2, "t", "\"a\"", 1), 4);
    CHECK_INT(count_of(&a2, "t", "\"b\"", 0), 1);
    CHECK_INT(trait_time(&a2, "t"), 4);
    CHECK_STR(trait_source(&a2, "t"), "crm");

    cdp_profile_init(&b2, &ida);
    cdp_profile_merge(&b2, &b, rules);
    cdp_profile_merge(&b2, &a, rules); /* A into B */
    CHECK_STR(dump(b2.traits), dump(a2.traits));

    /* The same as one profile that saw the four offers. */
    cdp_profile_init(&all, &ida);
    offer(&all, "t", "a", 4, "crm", frequent);
    offer(&all, "t", "a", 1, "web", frequent);
    offer(&all, "t", "b", 3, "crm", frequent);
    offer(&all, "t", "a", 2, "web", frequent);
    CHECK_STR(dump(all.traits), dump(a2.traits));
    cdp_profile_free(&all);
    cdp_profile_free(&a2);
    cdp_profile_free(&b2);

    /* Merging a profile whose entry has no counts: it counts once. */
    struct cdp_profile c, ac, ca;
    cdp_profile_init(&c, &idc);
    offer(&c, "t", "c", 9, "shop", NULL);
    CHECK(trait_counts(&c, "t") == NULL);
    cdp_profile_init(&ac, &ida);
    cdp_profile_merge(&ac, &a, rules);
    cdp_profile_merge(&ac, &c, rules);
    CHECK_STR(trait(&ac, "t"), "\"a\"");
    CHECK_INT(count_of(&ac, "t", "\"a\"", 0), 2);
    CHECK_INT(count_of(&ac, "t", "\"c\"", 0), 1);
    CHECK_INT(count_of(&ac, "t", "\"c\"", 1), 9);
    CHECK_STR(json_string_value(json_array_get(json_object_get(trait_counts(&ac, "t"), "\"c\""), 2)),
              "shop");
    /* ... and the other way round, the one without counts taking the other. */
    cdp_profile_init(&ca, &idc);
    cdp_profile_merge(&ca, &c, rules);
    CHECK_INT(count_of(&ca, "t", "\"c\"", 0), 1); /* counted once on the way in */
    cdp_profile_merge(&ca, &a, rules);
    CHECK_STR(dump(ca.traits), dump(ac.traits));
    cdp_profile_free(&ca);
    /* ... and the profile itself, never given counts, taking A's. */
    cdp_profile_init(&ca, &idc);
    offer(&ca, "t", "c", 9, "shop", NULL);
    cdp_profile_merge(&ca, &a, rules);
    CHECK_STR(dump(ca.traits), dump(ac.traits));
    cdp_profile_free(&ca);
    cdp_profile_free(&ac);
    cdp_profile_free(&c);

    /* Two "c" without counts and one "a" with them: c twice beats a once. */
    {
        struct cdp_profile d, e;
        cdp_profile_init(&d, &idc);
        offer(&d, "t", "c", 1, "web", NULL);
        cdp_profile_init(&e, &idb);
        offer(&e, "t", "c", 2, "web", NULL);
        struct cdp_profile f;
        cdp_profile_init(&f, &ida);
        offer(&f, "t", "a", 10, "web", frequent);
        cdp_profile_merge(&f, &d, rules);
        cdp_profile_merge(&f, &e, rules);
        CHECK_STR(trait(&f, "t"), "\"c\"");
        CHECK_INT(count_of(&f, "t", "\"c\"", 0), 2);
        CHECK_INT(count_of(&f, "t", "\"c\"", 1), 2);
        CHECK_INT(count_of(&f, "t", "\"a\"", 0), 1);
        cdp_profile_free(&d);
        cdp_profile_free(&e);
        cdp_profile_free(&f);
    }

    /* Without rules, a merge keeps the latest and drops nothing it should not. */
    {
        struct cdp_profile g;
        cdp_profile_init(&g, &ida);
        cdp_profile_merge(&g, &b, NULL);
        CHECK_STR(trait(&g, "t"), "\"a\"");
        CHECK_INT(trait_time(&g, "t"), 4);
        cdp_profile_merge(&g, &a, NULL);
        CHECK_STR(trait(&g, "t"), "\"a\"");
        CHECK_INT(trait_time(&g, "t"), 4);
        cdp_profile_free(&g);
    }

    /* Past the cap, a merge keeps at most CDP_SURVIVE_FREQUENT_MAX values. */
    {
        struct cdp_profile x, y;
        char value[32];
        cdp_profile_init(&x, &ida);
        cdp_profile_init(&y, &idb);
        for (int i = 0; i < CDP_SURVIVE_FREQUENT_MAX; i++) {
            snprintf(value, sizeof value, "x%d", i);
            offer(&x, "t", value, i, "web", frequent);
            snprintf(value, sizeof value, "y%d", i);
            offer(&y, "t", value, 1000 + i, "web", frequent);
        }
        CHECK_INT(json_object_size(trait_counts(&x, "t")), CDP_SURVIVE_FREQUENT_MAX);
        cdp_profile_merge(&x, &y, rules);
        CHECK(json_object_size(trait_counts(&x, "t")) <= CDP_SURVIVE_FREQUENT_MAX);
        snprintf(value, sizeof value, "\"y%d\"", CDP_SURVIVE_FREQUENT_MAX - 1);
        CHECK_STR(trait(&x, "t"), value);
        cdp_profile_free(&x);
        cdp_profile_free(&y);
    }

    cdp_profile_free(&a);
    cdp_profile_free(&b);
    cdp_survive_free(rules);
}

static void
test_merge_rules(void)
{
    char err[256];
    json_t *spec = json_pack("{s:s,s:s,s:s}", "name", "first", "plan", "source:crm,shop,web", "*",
                             "nonempty");
    struct cdp_survive *rules = cdp_survive_from_json(spec, err, sizeof err);
    json_decref(spec);
    CHECK(rules != NULL);
    if (rules == NULL)
        return;
    struct cdp_id ida = id_of("user:a"), idb = id_of("user:b");
    struct cdp_profile a, b, ab, ba;

    cdp_profile_init(&a, &ida);
    offer(&a, "name", "Ann", 100, "web", cdp_survive_rule_for(rules, "name"));
    offer(&a, "plan", "pro", 500, "web", cdp_survive_rule_for(rules, "plan"));
    offer(&a, "city", "", 900, "web", cdp_survive_rule_for(rules, "city"));
    cdp_profile_init(&b, &idb);
    offer(&b, "name", "Anne", 200, "crm", cdp_survive_rule_for(rules, "name"));
    offer(&b, "plan", "basic", 50, "crm", cdp_survive_rule_for(rules, "plan"));
    offer(&b, "city", "Paris", 10, "crm", cdp_survive_rule_for(rules, "city"));

    cdp_profile_init(&ab, &ida);
    cdp_profile_merge(&ab, &a, rules);
    cdp_profile_merge(&ab, &b, rules);
    cdp_profile_init(&ba, &ida);
    cdp_profile_merge(&ba, &b, rules);
    cdp_profile_merge(&ba, &a, rules);
    CHECK_STR(trait(&ab, "name"), "\"Ann\"");
    CHECK_STR(trait(&ab, "plan"), "\"basic\"");
    CHECK_STR(trait(&ab, "city"), "\"Paris\"");
    CHECK_INT(trait_time(&ab, "city"), 10);
    CHECK_STR(dump(ab.traits), dump(ba.traits));

    /* Without rules the latest wins. */
    struct cdp_profile n;
    cdp_profile_init(&n, &ida);
    cdp_profile_merge(&n, &b, NULL);
    cdp_profile_merge(&n, &a, NULL);
    CHECK_STR(trait(&n, "name"), "\"Anne\"");
    CHECK_STR(trait(&n, "plan"), "\"pro\"");
    CHECK_STR(trait(&n, "city"), "\"\"");
    cdp_profile_free(&n);

    cdp_profile_free(&a);
    cdp_profile_free(&b);
    cdp_profile_free(&ab);
    cdp_profile_free(&ba);
    cdp_survive_free(rules);
}

static void
test_nonempty_profile(void)
{
    struct cdp_survive_rule nonempty;
    parse_ok("nonempty", &nonempty);
    struct cdp_id id = id_of("user:n");
    struct cdp_profile p;

    cdp_profile_init(&p, &id);
    CHECK(offer(&p, "t", "x", 1, "web", &nonempty));
    CHECK(!offer(&p, "t", "", 2, "web", &nonempty)); /* an empty newer value loses */
    CHECK_STR(trait(&p, "t"), "\"x\"");
    CHECK_INT(trait_time(&p, "t"), 1);
    CHECK(!offer(&p, "t", "   ", 3, "web", &nonempty));
    CHECK_STR(trait(&p, "t"), "\"x\"");
    {
        json_t *null = json_null(), *arr = json_array();
        CHECK(!cdp_profile_set_trait(&p, "t", null, 4, "web", &nonempty));
        CHECK(!cdp_profile_set_trait(&p, "t", arr, 5, "web", &nonempty));
        json_decref(null);
        json_decref(arr);
    }
    CHECK_STR(trait(&p, "t"), "\"x\"");
    CHECK(offer(&p, "t", "z", 6, "web", &nonempty)); /* a newer non-empty one wins */
    CHECK_STR(trait(&p, "t"), "\"z\"");
    CHECK(!offer(&p, "t", "w", 0, "web", &nonempty)); /* an older one does not */
    CHECK_STR(trait(&p, "t"), "\"z\"");
    cdp_profile_free(&p);

    /* Nothing better offered: the empty one is kept, until a value comes, even older. */
    cdp_profile_init(&p, &id);
    CHECK(offer(&p, "t", "", 1, "web", &nonempty));
    CHECK_STR(trait(&p, "t"), "\"\"");
    CHECK_INT(trait_time(&p, "t"), 1);
    CHECK(offer(&p, "t", "y", 0, "crm", &nonempty));
    CHECK_STR(trait(&p, "t"), "\"y\"");
    CHECK_INT(trait_time(&p, "t"), 0);
    CHECK_STR(trait_source(&p, "t"), "crm");
    cdp_profile_free(&p);

    /* Two empty ones: the later. */
    cdp_profile_init(&p, &id);
    CHECK(offer(&p, "t", "", 5, "web", &nonempty));
    {
        json_t *null = json_null();
        CHECK(cdp_profile_set_trait(&p, "t", null, 6, "web", &nonempty));
        json_decref(null);
    }
    CHECK_STR(trait(&p, "t"), "null");
    CHECK(!offer(&p, "t", "", 4, "web", &nonempty));
    CHECK_STR(trait(&p, "t"), "null");
    cdp_profile_free(&p);

    cdp_survive_rule_free(&nonempty);
}

int
main(void)
{
    test_parse_rule();
    test_name_ok();
    test_from_json();
    test_empty();
    test_compare();
    test_profile_orders();
    test_frequent();
    test_frequent_merge();
    test_merge_rules();
    test_nonempty_profile();
    return check_summary("survive");
}
