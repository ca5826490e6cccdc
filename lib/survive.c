/*
 * survive.c - survivorship rules per trait.
 */
#include "survive.h"
#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum cdp_survive_policy policy;
} policies[] = {
    {"recent", CDP_SURVIVE_RECENT},
    {"first", CDP_SURVIVE_FIRST},
    {"frequent", CDP_SURVIVE_FREQUENT},
    {"nonempty", CDP_SURVIVE_NONEMPTY},
};

bool
cdp_survive_parse_rule(const char *text, struct cdp_survive_rule *r, char *err, size_t errsize)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
        if (strcmp(text, policies[i].name) == 0) {
            r->policy = policies[i].policy;
            return true;
        }
    if (strncmp(text, "source:", 7) != 0) {
        snprintf(err, errsize,
                 "unknown rule '%.80s' (recent, first, frequent, nonempty or source:A,B,...)",
                 text);
        return false;
    }
    r->policy = CDP_SURVIVE_SOURCE;
    const char *s = text + 7;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n > 128) {
            snprintf(err, errsize, "rule '%.80s': a source name is empty or too long", text);
            cdp_survive_rule_free(r);
            return false;
        }
        r->sources = cdp_xrealloc(r->sources, (r->nsources + 1) * sizeof *r->sources);
        r->sources[r->nsources] = cdp_xmalloc(n + 1);
        memcpy(r->sources[r->nsources], s, n);
        r->sources[r->nsources++][n] = '\0';
        s += n;
        if (*s == ',' && *++s == '\0') {
            snprintf(err, errsize, "rule '%.80s': a source name is empty", text);
            cdp_survive_rule_free(r);
            return false;
        }
    }
    if (r->nsources == 0) {
        snprintf(err, errsize, "rule 'source:' needs a list of sources, best first");
        return false;
    }
    return true;
}

void
cdp_survive_rule_free(struct cdp_survive_rule *r)
{
    for (size_t i = 0; i < r->nsources; i++)
        free(r->sources[i]);
    free(r->sources);
    r->sources = NULL;
    r->nsources = 0;
}

bool
cdp_survive_name_ok(const char *name)
{
    if (strcmp(name, "*") == 0)
        return true;
    size_t n = strlen(name);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (iscntrl((unsigned char)name[i]))
            return false;
    return true;
}

struct cdp_survive *
cdp_survive_from_json(json_t *spec, char *err, size_t errsize)
{
    if (!json_is_object(spec)) {
        snprintf(err, errsize, "survivorship rules are not a JSON object");
        return NULL;
    }
    struct cdp_survive *s = cdp_xcalloc(1, sizeof *s);
    s->spec = json_incref(spec);
    size_t n = json_object_size(spec);
    s->names = cdp_xcalloc(n + 1, sizeof *s->names);
    s->rules = cdp_xcalloc(n + 1, sizeof *s->rules);
    const char *name;
    json_t *text;
    json_object_foreach(spec, name, text)
    {
        if (!json_is_string(text) || !cdp_survive_name_ok(name)) {
            snprintf(err, errsize, "survivorship rule for '%.80s' is not a rule's text", name);
            cdp_survive_free(s);
            return NULL;
        }
        if (!cdp_survive_parse_rule(json_string_value(text), &s->rules[s->n], err, errsize)) {
            cdp_survive_free(s);
            return NULL;
        }
        s->names[s->n] = cdp_xstrdup(name);
        if (strcmp(name, "*") == 0)
            s->fallback = &s->rules[s->n];
        s->n++;
    }
    return s;
}

int
cdp_survive_load(struct cdp_store *store, MDB_txn *txn, struct cdp_survive **out)
{
    *out = NULL;
    MDB_val v;
    int rc = cdp_store_meta_get(store, txn, "survivorship", &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    json_t *spec = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    char err[256];
    *out = cdp_survive_from_json(spec, err, sizeof err);
    json_decref(spec);
    return *out ? 0 : MDB_CORRUPTED;
}

int
cdp_survive_save(struct cdp_store *store, MDB_txn *txn, json_t *spec)
{
    MDB_val key = {12, "survivorship"};
    if (json_object_size(spec) == 0) {
        int rc = mdb_del(txn, store->dbi[CDP_DB_META], &key, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    char *text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    MDB_val value = {strlen(text), text};
    int rc = mdb_put(txn, store->dbi[CDP_DB_META], &key, &value, 0);
    free(text);
    return rc;
}

void
cdp_survive_free(struct cdp_survive *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        cdp_survive_rule_free(&s->rules[i]);
    }
    free(s->names);
    free(s->rules);
    json_decref(s->spec);
    free(s);
}

const struct cdp_survive_rule *
cdp_survive_rule_for(const struct cdp_survive *s, const char *trait)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], trait) == 0)
            return &s->rules[i];
    return s->fallback;
}

bool
cdp_survive_empty(json_t *value)
{
    if (value == NULL || json_is_null(value))
        return true;
    if (json_is_string(value)) {
        const char *t = json_string_value(value);
        while (*t && isspace((unsigned char)*t))
            t++;
        return *t == '\0';
    }
    if (json_is_array(value))
        return json_array_size(value) == 0;
    if (json_is_object(value))
        return json_object_size(value) == 0;
    return false;
}

static size_t
source_rank(const struct cdp_survive_rule *rule, const char *source)
{
    for (size_t i = 0; i < rule->nsources; i++)
        if (source && strcmp(rule->sources[i], source) == 0)
            return i;
    return rule->nsources;
}

/* The order every rule falls back on: later time, then greater source, then greater value. */
static int
compare_recent(json_t *value_a, int64_t time_a, const char *source_a, json_t *value_b,
               int64_t time_b, const char *source_b)
{
    if (time_a != time_b)
        return time_a > time_b ? 1 : -1;
    int c = strcmp(source_a ? source_a : "", source_b ? source_b : "");
    if (c != 0)
        return c;
    char *ta = json_dumps(value_a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *tb = json_dumps(value_b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    c = strcmp(ta ? ta : "", tb ? tb : "");
    free(ta);
    free(tb);
    return c;
}

int
cdp_survive_compare(const struct cdp_survive_rule *rule, json_t *value_a, int64_t time_a,
                    const char *source_a, json_t *value_b, int64_t time_b, const char *source_b)
{
    enum cdp_survive_policy policy = rule ? rule->policy : CDP_SURVIVE_RECENT;
    switch (policy) {
    case CDP_SURVIVE_FIRST:
        if (time_a != time_b)
            return time_a < time_b ? 1 : -1;
        break;
    case CDP_SURVIVE_NONEMPTY: {
        bool ea = cdp_survive_empty(value_a), eb = cdp_survive_empty(value_b);
        if (ea != eb)
            return ea ? -1 : 1;
        break;
    }
    case CDP_SURVIVE_SOURCE: {
        size_t ra = source_rank(rule, source_a), rb = source_rank(rule, source_b);
        if (ra != rb)
            return ra < rb ? 1 : -1;
        break;
    }
    case CDP_SURVIVE_RECENT:
    case CDP_SURVIVE_FREQUENT: /* counts are weighed by the profile; then the latest */
        break;
    }
    return compare_recent(value_a, time_a, source_a, value_b, time_b, source_b);
}
