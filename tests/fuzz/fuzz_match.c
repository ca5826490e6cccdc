/*
 * fuzz_match.c - lib/match on arbitrary records: folding, blocking keys,
 * comparisons of every kind, training and clustering.
 *
 * The input is records, one a line, fields separated by '|': a key, then a
 * name, a code, a date and an exact field.  The first byte picks the
 * blocking rules.  Properties checked:
 *   - the run succeeds and names every record's cluster by a key of the
 *     input, the smallest key of the cluster being its own name;
 *   - the same records added in reverse order give the same clusters.
 */
#include "match.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 4
#define MAX_RECORDS 64

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s\n", what);
        abort();
    }
}

static const struct cdp_match_field fields[FIELDS] = {
    {"surname", CDP_MATCH_NAME, true},
    {"postcode", CDP_MATCH_CODE, true},
    {"dob", CDP_MATCH_DATE, false},
    {"email", CDP_MATCH_EXACT, false},
};

static const char *const rules[] = {"surname:1+postcode", "dob", "email", "surname",
                                    "postcode:2+dob:4"};

struct record {
    char key[32];
    char values[FIELDS][48];
};

static struct cdp_match *
build(const struct record *r, size_t n, unsigned pick, bool reverse)
{
    struct cdp_match *m = cdp_match_new(fields, FIELDS);
    char err[256];
    for (unsigned k = 0; k < 5; k++)
        if (pick & (1u << k))
            check(cdp_match_add_rule(m, rules[k], err, sizeof err), "a rule is refused");
    for (size_t i = 0; i < n; i++) {
        const struct record *rec = &r[reverse ? n - 1 - i : i];
        const char *values[FIELDS];
        for (int f = 0; f < FIELDS; f++)
            values[f] = rec->values[f];
        cdp_match_add(m, rec->key, values);
    }
    struct cdp_match_options options = {.u_pairs = 2000, .threads = 1};
    struct cdp_match_report report;
    check(cdp_match_run(m, &options, &report) == CDP_LINKAGE_OK, "the run fails");
    return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned pick = data[0] | 1;
    static struct record r[MAX_RECORDS];
    size_t n = 0;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p < end && n < MAX_RECORDS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        memset(&r[n], 0, sizeof r[n]);
        snprintf(r[n].key, sizeof r[n].key, "k%02zu", n); /* unique keys */
        int f = 0;
        for (const char *q = p; q < stop && f < FIELDS; f++) {
            const char *bar = memchr(q, '|', (size_t)(stop - q));
            size_t len = (size_t)((bar ? bar : stop) - q);
            snprintf(r[n].values[f], sizeof r[n].values[f], "%.*s", (int)len, q);
            q = bar ? bar + 1 : stop;
        }
        n++;
        p = nl ? nl + 1 : end;
    }
    if (n < 2)
        return 0;
    struct cdp_match *a = build(r, n, pick, false), *b = build(r, n, pick, true);
    for (size_t i = 0; i < n; i++) {
        const char *ca = cdp_match_cluster(a, i), *cb = cdp_match_cluster(b, n - 1 - i);
        check(strcmp(ca, cb) == 0, "the clusters depend on the order of the records");
        check(strcmp(ca, cdp_match_key(a, i)) <= 0, "a cluster is not named by its first key");
    }
    cdp_match_free(a);
    cdp_match_free(b);
    return 0;
}
