/*
 * fuzz_survive.c - survivorship rules: cdp_survive_parse_rule on the text
 * of --rule, cdp_survive_from_json on a rules object, and the values a
 * profile keeps under the rule.
 *
 * The first line of the input is a rule's text; every following line is
 * "SOURCE TIME VALUE", VALUE any JSON text and SOURCE UTF-8 (lines that do
 * not read so are skipped).  Properties checked:
 *   - a rule that parses also parses as the "*" rule of a rules object;
 *   - offering the values in input order and in reverse order keeps the
 *     same entry (value, time, source and counts), since every rule orders
 *     the candidates completely (up to the cap of "frequent");
 *   - the profile encodes, and decodes to the same bytes.
 */
#include "profile.h"
#include "survive.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OFFERS 40

struct offer {
    char source[16];
    int64_t time;
    json_t *value;
};

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s\n", what);
        abort();
    }
}

static char *
kept(const struct cdp_survive_rule *rule, const struct offer *offers, size_t n, bool reverse)
{
    struct cdp_id id = cdp_hash_string("fuzz");
    struct cdp_profile p;
    cdp_profile_init(&p, &id);
    for (size_t i = 0; i < n; i++) {
        const struct offer *o = &offers[reverse ? n - 1 - i : i];
        cdp_profile_set_trait(&p, "t", o->value, o->time, o->source, rule);
    }
    struct cdp_buf a = CDP_BUF_INIT, b = CDP_BUF_INIT;
    cdp_profile_encode(&p, &a);
    struct cdp_profile q;
    check(cdp_profile_decode(&q, &id, a.data, a.len), "an encoded profile decodes");
    cdp_profile_encode(&q, &b);
    check(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "decode and encode again");
    cdp_profile_load(&p);
    char *text = json_dumps(json_object_get(p.traits, "t"), JSON_COMPACT | JSON_SORT_KEYS |
                                                                JSON_ENCODE_ANY);
    cdp_profile_free(&p);
    cdp_profile_free(&q);
    cdp_buf_free(&a);
    cdp_buf_free(&b);
    return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (line == NULL) {
        free(text);
        return 0;
    }
    struct cdp_survive_rule rule;
    char err[256];
    bool ok = cdp_survive_parse_rule(line, &rule, err, sizeof err);
    check(ok || err[0] != '\0', "a refused rule says why");
    json_t *spec = json_pack("{s:s}", "*", line);
    struct cdp_survive *rules = spec ? cdp_survive_from_json(spec, err, sizeof err) : NULL;
    if (spec)
        check((rules != NULL) == ok, "a rule parses alone and in a rules object alike");
    json_decref(spec);

    struct offer offers[MAX_OFFERS];
    size_t n = 0;
    while (n < MAX_OFFERS && (line = strtok_r(NULL, "\n", &save)) != NULL) {
        char source[16];
        long long t;
        int used = 0;
        if (sscanf(line, "%15s %lld %n", source, &t, &used) < 2 || used == 0)
            continue;
        json_t *v = json_loads(line + used, JSON_DECODE_ANY, NULL);
        json_t *s = json_string(source); /* sources are UTF-8 (--source checks it) */
        json_decref(s);
        if (v == NULL || s == NULL) {
            json_decref(v);
            continue;
        }
        snprintf(offers[n].source, sizeof offers[n].source, "%s", source);
        offers[n].time = t;
        offers[n].value = v;
        n++;
    }
    if (ok) {
        const struct cdp_survive_rule *r = cdp_survive_rule_for(rules, "t");
        char *forward = kept(r, offers, n, false), *backward = kept(r, offers, n, true);
        check((forward == NULL) == (backward == NULL) &&
                  (forward == NULL || strcmp(forward, backward) == 0),
              "the same entry whatever the order of the offers");
        free(forward);
        free(backward);
        cdp_survive_rule_free(&rule);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(offers[i].value);
    cdp_survive_free(rules);
    free(text);
    return 0;
}
