/*
 * match.c - records compared field by field, blocked, scored with a
 * Fellegi-Sunter model trained on themselves, and clustered.
 */
#include "match.h"

#include "compare.h"
#include "view.h"

#include <ctype.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define MAX_PARTS 4
#define EM_PAIRS 4000000 /* candidate pairs the estimates are made on, at most */
#define FOLD_CAP (4 * CDP_COMPARE_MAX_CHARS + 1)

const char *const cdp_match_kind_names[CDP_MATCH_KIND_COUNT] = {"name", "code", "date", "exact"};

static const unsigned char kind_levels[CDP_MATCH_KIND_COUNT] = {5, 4, 5, 2};

static const char *const level_names[CDP_MATCH_KIND_COUNT][5] = {
    {"else", "jaro_winkler>=0.70", "jaro_winkler>=0.88", "jaro_winkler>=0.92", "exact"},
    {"else", "damerau<=2", "damerau<=1", "exact"},
    {"else", "within_year", "within_month", "one_edit", "exact"},
    {"else", "exact"},
};

static const double jw_thresholds[3] = {0.92, 0.88, 0.70};

struct rule {
    size_t nparts;
    size_t field[MAX_PARTS];
    size_t prefix[MAX_PARTS]; /* characters kept, 0 for all */
    char *text;
};

struct cdp_match {
    struct cdp_match_field fields[CDP_LINKAGE_MAX_FIELDS];
    size_t nfields;
    struct rule rules[CDP_LINKAGE_MAX_RULES];
    size_t nrules;

    size_t n, cap;
    size_t *key;     /* offset of each record's key in text */
    size_t *value;   /* n * nfields offsets of the folded values in text */
    uint16_t *len;   /* their lengths, 0 for missing */
    uint64_t *vhash; /* n * nfields: a 64-bit hash of each value, for the comparison cache */
    uint32_t *tf;    /* n * nfields: how many records share the value (tf fields) */
    struct cdp_buf text;

    struct cdp_linkage_model model;
    struct cdp_linkage_weights weights;
    uint32_t *cluster; /* after a run: the record whose key names the cluster */
    int *source;       /* linking: the source of each record, else NULL */
};

/* ---- fields and rules ---- */

/* The column name in lower case without separators: "Date of Birth" -> "dateofbirth". */
static void
squash(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 1 < cap; s++)
        if (isalnum((unsigned char)*s))
            out[n++] = (char)tolower((unsigned char)*s);
    out[n] = '\0';
}

enum role { R_NONE, R_GIVEN, R_SURNAME, R_DOB, R_POSTCODE, R_PHONE, R_EMAIL, R_STREETNO, R_SSN };

static enum role
role_of(const char *column)
{
    static const struct {
        const char *name;
        enum role role;
    } roles[] = {
        {"givenname", R_GIVEN},        {"firstname", R_GIVEN},    {"forename", R_GIVEN},
        {"prenom", R_GIVEN},           {"surname", R_SURNAME},    {"lastname", R_SURNAME},
        {"familyname", R_SURNAME},     {"nom", R_SURNAME},        {"dateofbirth", R_DOB},
        {"dob", R_DOB},                {"birthdate", R_DOB},      {"birthday", R_DOB},
        {"postcode", R_POSTCODE},      {"postalcode", R_POSTCODE}, {"zip", R_POSTCODE},
        {"zipcode", R_POSTCODE},       {"codepostal", R_POSTCODE}, {"phone", R_PHONE},
        {"telephone", R_PHONE},        {"mobile", R_PHONE},       {"email", R_EMAIL},
        {"mail", R_EMAIL},             {"streetnumber", R_STREETNO}, {"housenumber", R_STREETNO},
        {"socsecid", R_SSN},           {"ssn", R_SSN},            {"nationalid", R_SSN},
    };
    char s[64];
    squash(column, s, sizeof s);
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(s, roles[i].name) == 0)
            return roles[i].role;
    return R_NONE;
}

enum cdp_match_kind
cdp_match_guess_kind(const char *column)
{
    switch (role_of(column)) {
    case R_DOB:
        return CDP_MATCH_DATE;
    case R_POSTCODE:
    case R_PHONE:
    case R_EMAIL:
    case R_STREETNO:
    case R_SSN:
        return CDP_MATCH_CODE;
    default:
        break;
    }
    /* By the name's first or last word: "purchase_date", "vat_number", "crm_id", "state". */
    char s[64];
    squash(column, s, sizeof s);
    size_t n = strlen(s);
#define ENDS(w) (n >= sizeof(w) - 1 && strcmp(s + n - (sizeof(w) - 1), w) == 0)
    if (ENDS("date") || ENDS("dob") || strncmp(s, "date", 4) == 0)
        return CDP_MATCH_DATE;
    if (ENDS("code") || ENDS("number") || ENDS("no") || ENDS("id") || ENDS("zip") ||
        ENDS("state") || ENDS("phone") || ENDS("year") || ENDS("yearofbirth"))
        return CDP_MATCH_CODE;
#undef ENDS
    return CDP_MATCH_NAME;
}

struct cdp_match *
cdp_match_new(const struct cdp_match_field *fields, size_t nfields)
{
    if (nfields == 0 || nfields > CDP_LINKAGE_MAX_FIELDS)
        return NULL;
    struct cdp_match *m = cdp_xcalloc(1, sizeof *m);
    memcpy(m->fields, fields, nfields * sizeof *fields);
    m->nfields = nfields;
    unsigned char levels[CDP_LINKAGE_MAX_FIELDS];
    for (size_t f = 0; f < nfields; f++)
        levels[f] = kind_levels[fields[f].kind];
    cdp_linkage_model_init(&m->model, (unsigned)nfields, levels);
    return m;
}

void
cdp_match_free(struct cdp_match *m)
{
    if (m == NULL)
        return;
    for (size_t r = 0; r < m->nrules; r++)
        free(m->rules[r].text);
    free(m->key);
    free(m->value);
    free(m->len);
    free(m->vhash);
    free(m->tf);
    free(m->cluster);
    free(m->source);
    cdp_buf_free(&m->text);
    free(m);
}

static int
field_index(const struct cdp_match *m, const char *name, size_t len)
{
    for (size_t f = 0; f < m->nfields; f++)
        if (strlen(m->fields[f].name) == len && strncmp(m->fields[f].name, name, len) == 0)
            return (int)f;
    return -1;
}

bool
cdp_match_add_rule(struct cdp_match *m, const char *text, char *err, size_t errsize)
{
    if (m->nrules == CDP_LINKAGE_MAX_RULES) {
        snprintf(err, errsize, "at most %d blocking rules", CDP_LINKAGE_MAX_RULES);
        return false;
    }
    struct rule r = {0};
    const char *p = text;
    while (*p) {
        const char *end = p + strcspn(p, "+"), *colon = memchr(p, ':', (size_t)(end - p));
        size_t namelen = (size_t)((colon ? colon : end) - p);
        int f = field_index(m, p, namelen);
        if (f < 0) {
            snprintf(err, errsize, "blocking rule '%s': no field '%.*s' among --fields", text,
                     (int)namelen, p);
            return false;
        }
        size_t prefix = 0;
        if (colon) {
            char *stop;
            unsigned long v = strtoul(colon + 1, &stop, 10);
            if (stop != end || v == 0 || v > 64) {
                snprintf(err, errsize, "blocking rule '%s': ':N' wants a number of characters "
                                       "from 1 to 64",
                         text);
                return false;
            }
            prefix = v;
        }
        if (r.nparts == MAX_PARTS) {
            snprintf(err, errsize, "blocking rule '%s': at most %d fields", text, MAX_PARTS);
            return false;
        }
        r.field[r.nparts] = (size_t)f;
        r.prefix[r.nparts++] = prefix;
        if (*end == '+' && end[1] == '\0') {
            snprintf(err, errsize, "blocking rule '%s': no field after the last '+'", text);
            return false;
        }
        p = *end ? end + 1 : end;
    }
    if (r.nparts == 0) {
        snprintf(err, errsize, "an empty blocking rule");
        return false;
    }
    r.text = cdp_xstrdup(text);
    m->rules[m->nrules++] = r;
    return true;
}

size_t
cdp_match_default_rules(struct cdp_match *m)
{
    const char *of[R_SSN + 1] = {0};
    for (size_t f = 0; f < m->nfields; f++) {
        enum role r = role_of(m->fields[f].name);
        if (r != R_NONE && of[r] == NULL)
            of[r] = m->fields[f].name;
    }
    /* Each default: its roles, with a prefix length per part (0 for all). */
    static const struct {
        enum role role[3];
        int prefix[3];
    } defaults[] = {
        {{R_PHONE}, {0}},
        {{R_EMAIL}, {0}},
        {{R_SSN}, {0}},
        {{R_DOB}, {0}},
        {{R_POSTCODE, R_SURNAME}, {0, 1}},
        {{R_SURNAME, R_GIVEN}, {0, 1}},
        {{R_GIVEN, R_SURNAME, R_DOB}, {0, 1, 4}},
        {{R_STREETNO, R_POSTCODE}, {0, 0}},
        {{R_GIVEN, R_POSTCODE}, {0, 0}},
    };
    size_t added = 0;
    for (size_t d = 0; d < sizeof defaults / sizeof defaults[0]; d++) {
        struct cdp_buf text = CDP_BUF_INIT;
        bool ok = true;
        for (int k = 0; k < 3 && defaults[d].role[k] != R_NONE; k++) {
            const char *name = of[defaults[d].role[k]];
            if (name == NULL) {
                ok = false;
                break;
            }
            if (k)
                cdp_buf_putc(&text, '+');
            cdp_buf_puts(&text, name);
            if (defaults[d].prefix[k])
                cdp_buf_printf(&text, ":%d", defaults[d].prefix[k]);
        }
        char err[256];
        if (ok && cdp_match_add_rule(m, text.data, err, sizeof err))
            added++;
        cdp_buf_free(&text);
    }
    return added;
}

size_t
cdp_match_nrules(const struct cdp_match *m)
{
    return m->nrules;
}

const char *
cdp_match_rule_text(const struct cdp_match *m, size_t rule)
{
    return rule < m->nrules ? m->rules[rule].text : NULL;
}

/* ---- records ---- */

/* A value as it is compared: folded for names, without blanks for codes, trimmed dates. */
static size_t
fold_value(enum cdp_match_kind kind, const char *s, char *out)
{
    size_t len = strlen(s);
    if (kind == CDP_MATCH_DATE) {
        while (len && isspace((unsigned char)*s))
            s++, len--;
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        if (len > 32)
            len = 32;
        memcpy(out, s, len);
        out[len] = '\0';
        return len;
    }
    size_t n = cdp_compare_fold(s, len, out, FOLD_CAP);
    if (kind == CDP_MATCH_CODE || kind == CDP_MATCH_EXACT) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (out[i] != ' ')
                out[k++] = out[i];
        out[k] = '\0';
        n = k;
    }
    return n;
}

void
cdp_match_add(struct cdp_match *m, const char *key, const char *const *values)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->key = cdp_xrealloc(m->key, m->cap * sizeof *m->key);
        m->value = cdp_xrealloc(m->value, m->cap * m->nfields * sizeof *m->value);
        m->len = cdp_xrealloc(m->len, m->cap * m->nfields * sizeof *m->len);
        m->vhash = cdp_xrealloc(m->vhash, m->cap * m->nfields * sizeof *m->vhash);
    }
    size_t i = m->n++;
    m->key[i] = m->text.len;
    cdp_buf_append(&m->text, key, strlen(key) + 1);
    char folded[FOLD_CAP];
    for (size_t f = 0; f < m->nfields; f++) {
        const char *v = values[f] ? values[f] : "";
        size_t n = fold_value(m->fields[f].kind, v, folded);
        if (n > UINT16_MAX)
            n = UINT16_MAX;
        m->value[i * m->nfields + f] = m->text.len;
        m->len[i * m->nfields + f] = (uint16_t)n;
        m->vhash[i * m->nfields + f] = XXH3_64bits(folded, n);
        cdp_buf_append(&m->text, folded, n);
        cdp_buf_putc(&m->text, '\0');
    }
}

void
cdp_match_set_link(struct cdp_match *m, const int *source)
{
    free(m->source);
    m->source = cdp_xmalloc((m->n ? m->n : 1) * sizeof *m->source);
    memcpy(m->source, source, m->n * sizeof *source);
}

size_t
cdp_match_count(const struct cdp_match *m)
{
    return m->n;
}

const char *
cdp_match_key(const struct cdp_match *m, size_t i)
{
    return m->text.data + m->key[i];
}

const char *
cdp_match_value(const struct cdp_match *m, size_t i, size_t f)
{
    return m->text.data + m->value[i * m->nfields + f];
}

/* ---- comparing ---- */

/*
 * True when the Jaro similarity of two ASCII strings is certainly below
 * 0.70, the lowest name level: jaro <= (c / |a| + c / |b| + 1) / 3, where
 * c, the matching characters, is at most the number of b's characters
 * that occur in a (found with a 64-bit set of a's characters, which can
 * only overcount).  Below 0.70 Winkler's boost does not apply, so the pair
 * is at the lowest level without the full comparison.  False for anything
 * not ASCII, which the full comparison handles.
 */
static bool
surely_unlike(const char *a, size_t alen, const char *b, size_t blen)
{
    uint64_t set = 0;
    unsigned char high = 0;
    for (size_t k = 0; k < alen; k++) {
        set |= UINT64_C(1) << ((unsigned char)a[k] & 63);
        high |= (unsigned char)a[k];
    }
    size_t common = 0;
    for (size_t k = 0; k < blen; k++) {
        common += (set >> ((unsigned char)b[k] & 63)) & 1;
        high |= (unsigned char)b[k];
    }
    if (high & 0x80)
        return false;
    double bound = ((double)common / (double)alen + (double)common / (double)blen + 1) / 3;
    return bound < jw_thresholds[2] - 1e-12;
}

static unsigned
compare_field(const struct cdp_match *m, size_t i, size_t j, size_t f)
{
    size_t nf = m->nfields;
    size_t alen = m->len[i * nf + f], blen = m->len[j * nf + f];
    if (alen == 0 || blen == 0)
        return CDP_LINKAGE_NULL;
    const char *a = m->text.data + m->value[i * nf + f], *b = m->text.data + m->value[j * nf + f];
    switch (m->fields[f].kind) {
    case CDP_MATCH_NAME:
        if (alen <= CDP_COMPARE_MAX_CHARS && blen <= CDP_COMPARE_MAX_CHARS &&
            surely_unlike(a, alen, b, blen))
            return 0;
        return (unsigned)cdp_compare_jaro_winkler_level(a, alen, b, blen, jw_thresholds, 3);
    case CDP_MATCH_CODE: {
        if (alen == blen && memcmp(a, b, alen) == 0)
            return 3;
        if (alen > blen + 2 || blen > alen + 2) /* more than two edits apart */
            return 0;
        int d = cdp_compare_damerau(a, alen, b, blen, 2);
        return d == 1 ? 2 : d == 2 ? 1 : 0;
    }
    case CDP_MATCH_DATE: {
        int level = cdp_compare_date_level(a, alen, b, blen);
        return level < 0 ? CDP_LINKAGE_NULL : (unsigned)level;
    }
    default:
        return alen == blen && memcmp(a, b, alen) == 0;
    }
}

/*
 * Names repeat (first names, streets, cities), so their comparisons do
 * too: a thread keeps the last levels it computed, by the pair of values'
 * 64-bit hashes, in a small direct-mapped table per field.
 */
#define CACHE_SLOTS 1024
struct compare_cache {
    uint64_t a[CDP_LINKAGE_MAX_FIELDS][CACHE_SLOTS], b[CDP_LINKAGE_MAX_FIELDS][CACHE_SLOTS];
    uint8_t level[CDP_LINKAGE_MAX_FIELDS][CACHE_SLOTS];
};

static void
compare(const struct cdp_match *m, size_t i, size_t j, uint8_t *gamma, struct compare_cache *cache)
{
    size_t nf = m->nfields;
    for (size_t f = 0; f < nf; f++) {
        if (cache == NULL || m->fields[f].kind != CDP_MATCH_NAME) {
            gamma[f] = (uint8_t)compare_field(m, i, j, f);
            continue;
        }
        uint64_t x = m->vhash[i * nf + f], y = m->vhash[j * nf + f];
        if (x > y) {
            uint64_t t = x;
            x = y;
            y = t;
        }
        size_t slot = (size_t)((x * 0x9E3779B97F4A7C15ULL ^ y) >> 54) & (CACHE_SLOTS - 1);
        if (cache->level[f][slot] != 0xfe && cache->a[f][slot] == x && cache->b[f][slot] == y) {
            gamma[f] = cache->level[f][slot];
            continue;
        }
        gamma[f] = (uint8_t)compare_field(m, i, j, f);
        cache->a[f][slot] = x;
        cache->b[f][slot] = y;
        cache->level[f][slot] = gamma[f];
    }
}

/* The term-frequency overrides of a pair, for the fields that agree exactly. */
static const double *
tf_overrides(const struct cdp_match *m, size_t i, const uint8_t *gamma, double *u)
{
    if (m->tf == NULL)
        return NULL;
    bool any = false;
    for (size_t f = 0; f < m->nfields; f++) {
        u[f] = -1;
        if (m->fields[f].tf && gamma[f] == m->model.nlevels[f] - 1) {
            u[f] = (double)m->tf[i * m->nfields + f] / (double)m->n;
            any = true;
        }
    }
    return any ? u : NULL;
}

/* How many records share each value of the tf fields. */
static void
count_terms(struct cdp_match *m)
{
    bool any = false;
    for (size_t f = 0; f < m->nfields; f++)
        any = any || m->fields[f].tf;
    if (!any || m->n == 0)
        return;
    m->tf = cdp_xcalloc(m->n * m->nfields, sizeof *m->tf);
    size_t size = 1;
    while (size < 2 * m->n)
        size <<= 1;
    uint64_t *hashes = cdp_xmalloc(size * sizeof *hashes);
    uint32_t *counts = cdp_xmalloc(size * sizeof *counts);
    for (size_t f = 0; f < m->nfields; f++) {
        if (!m->fields[f].tf)
            continue;
        memset(hashes, 0, size * sizeof *hashes);
        memset(counts, 0, size * sizeof *counts);
        uint64_t *slot_of = cdp_xmalloc(m->n * sizeof *slot_of);
        for (size_t i = 0; i < m->n; i++) {
            size_t len = m->len[i * m->nfields + f];
            slot_of[i] = SIZE_MAX;
            if (len == 0)
                continue;
            uint64_t h = XXH3_64bits(cdp_match_value(m, i, f), len) | 1;
            size_t s = h & (size - 1);
            while (hashes[s] != 0 && hashes[s] != h)
                s = (s + 1) & (size - 1);
            hashes[s] = h;
            counts[s]++;
            slot_of[i] = s;
        }
        for (size_t i = 0; i < m->n; i++)
            if (slot_of[i] != SIZE_MAX)
                m->tf[i * m->nfields + f] = counts[slot_of[i]];
        free(slot_of);
    }
    free(hashes);
    free(counts);
}

/* ---- the run ---- */

/* Records in key order (ties by input order): the order chance is drawn in. */
static const struct cdp_match *sort_m;

static int
by_key(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = strcmp(cdp_match_key(sort_m, x), cdp_match_key(sort_m, y));
    return c ? c : (x > y) - (x < y);
}

static double
seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t
rule_key(const struct cdp_match *m, const struct rule *r, size_t i)
{
    char text[MAX_PARTS * (FOLD_CAP + 1)];
    size_t used = 0;
    for (size_t p = 0; p < r->nparts; p++) {
        size_t f = r->field[p], len = m->len[i * m->nfields + f];
        const char *v = cdp_match_value(m, i, f);
        if (len == 0)
            return 0;
        if (r->prefix[p] && r->prefix[p] < len) {
            /* the first N code points */
            size_t k = 0, chars = 0;
            while (k < len && chars < r->prefix[p]) {
                k++;
                while (k < len && ((unsigned char)v[k] & 0xC0) == 0x80)
                    k++;
                chars++;
            }
            len = k;
        }
        if (len > FOLD_CAP)
            len = FOLD_CAP;
        memcpy(text + used, v, len);
        used += len;
        text[used++] = '\x1f';
    }
    uint64_t key = XXH3_64bits(text, used);
    return key ? key : 1;
}

/* The candidate pairs, as blocking finds them: positions in key order. */
struct pairs {
    const struct cdp_match *m;
    const uint32_t *order; /* position -> record */
    uint32_t *a, *b;       /* records */
    uint32_t *pa, *pb;     /* their positions, for the rule keys */
    uint8_t *gamma;        /* nfields bytes per pair, once compared */
    size_t n, cap;
};

static int
take_pair(void *ctx, uint32_t i, uint32_t j)
{
    struct pairs *p = ctx;
    const struct cdp_match *m = p->m;
    uint32_t x = p->order[i], y = p->order[j];
    if (m->source && m->source[x] == m->source[y])
        return 0;
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 65536;
        p->a = cdp_xrealloc(p->a, p->cap * sizeof *p->a);
        p->b = cdp_xrealloc(p->b, p->cap * sizeof *p->b);
        p->pa = cdp_xrealloc(p->pa, p->cap * sizeof *p->pa);
        p->pb = cdp_xrealloc(p->pb, p->cap * sizeof *p->pb);
    }
    p->a[p->n] = x;
    p->b[p->n] = y;
    p->pa[p->n] = i;
    p->pb[p->n] = j;
    p->n++;
    return 0;
}

/* Comparing pairs a[k], b[k] into gamma rows, split over threads. */
struct compare_job {
    const struct cdp_match *m;
    const uint32_t *a, *b;
    uint8_t *gamma;
    size_t from, to;
};

/*
 * Pairs join records far apart in memory: the records of a pair a few
 * pairs ahead are fetched while this one is compared.
 */
#define PREFETCH_AHEAD 8

static void
prefetch_record(const struct cdp_match *m, uint32_t i)
{
    size_t nf = m->nfields;
    __builtin_prefetch(&m->len[i * nf]);
    __builtin_prefetch(&m->value[i * nf]);
    __builtin_prefetch(m->text.data + m->value[i * nf]);
}

static void *
compare_range(void *arg)
{
    struct compare_job *job = arg;
    const struct cdp_match *m = job->m;
    struct compare_cache *cache = cdp_xcalloc(1, sizeof *cache);
    memset(cache->level, 0xfe, sizeof cache->level); /* no entry yet */
    for (size_t k = job->from; k < job->to; k++) {
        if (k + PREFETCH_AHEAD < job->to) {
            prefetch_record(m, job->a[k + PREFETCH_AHEAD]);
            prefetch_record(m, job->b[k + PREFETCH_AHEAD]);
        }
        compare(m, job->a[k], job->b[k], job->gamma + k * m->nfields, cache);
    }
    free(cache);
    return NULL;
}

static void
compare_all(const struct cdp_match *m, const uint32_t *a, const uint32_t *b, size_t n,
            uint8_t *gamma, unsigned threads)
{
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if (n < 4096 * (size_t)threads)
        threads = 1;
    struct compare_job jobs[64];
    pthread_t ids[64];
    bool started[64] = {false};
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (struct compare_job){m, a, b, gamma, n * t / threads, n * (t + 1) / threads};
        if (t > 0)
            started[t] = pthread_create(&ids[t], NULL, compare_range, &jobs[t]) == 0;
        if (t > 0 && !started[t])
            compare_range(&jobs[t]); /* no thread: do it here */
    }
    compare_range(&jobs[0]);
    for (unsigned t = 1; t < threads; t++)
        if (started[t])
            pthread_join(ids[t], NULL);
}

/*
 * Scoring pairs, split over threads: link[k] is set when pair k's match
 * probability reaches the threshold.  The weight is that of
 * cdp_linkage_weight() with the term-frequency overrides, summed from
 * tables: log2 m - log2 tf for a field that agrees exactly on a value of
 * known frequency, the level's log2(m/u) otherwise.
 */
struct score_job {
    const struct cdp_match *m;
    const struct pairs *p;
    const double *log2_tf;
    double min_weight; /* the weight of the threshold probability */
    uint8_t *link;
    size_t from, to;
};

static void *
score_range(void *arg)
{
    struct score_job *job = arg;
    const struct cdp_match *m = job->m;
    const struct cdp_linkage_weights *w = &m->weights;
    size_t nf = m->nfields;
    for (size_t k = job->from; k < job->to; k++) {
        const uint8_t *gamma = job->p->gamma + k * nf;
        const double *tf = job->log2_tf ? job->log2_tf + (size_t)job->p->a[k] * nf : NULL;
        double sum = w->prior;
        for (size_t f = 0; f < nf; f++) {
            unsigned l = gamma[f];
            if (l >= w->nlevels[f])
                continue;
            if (tf && l == w->nlevels[f] - 1u && tf[f] <= 0)
                sum += w->log2_m_exact[f] - tf[f];
            else
                sum += w->level[f][l];
        }
        job->link[k] = sum >= job->min_weight;
    }
    return NULL;
}

static void
score_all(const struct cdp_match *m, const struct pairs *p, double threshold, uint8_t *link,
          unsigned threads)
{
    size_t nf = m->nfields;
    double *log2_tf = NULL;
    if (m->tf) {
        log2_tf = cdp_xmalloc(m->n * nf * sizeof *log2_tf);
        for (size_t i = 0; i < m->n * nf; i++)
            log2_tf[i] = m->fields[i % nf].tf && m->tf[i] ? log2((double)m->tf[i] / (double)m->n)
                                                           : 1.0; /* > 0: no override */
    }
    /* p >= threshold exactly when w >= log2(threshold / (1 - threshold)). */
    double min_weight = log2(threshold / (1 - threshold));
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if (p->n < 4096 * (size_t)threads)
        threads = 1;
    struct score_job jobs[64];
    pthread_t ids[64];
    bool started[64] = {false};
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (struct score_job){m, p, log2_tf, min_weight, link, p->n * t / threads,
                                     p->n * (t + 1) / threads};
        if (t > 0)
            started[t] = pthread_create(&ids[t], NULL, score_range, &jobs[t]) == 0;
        if (t > 0 && !started[t])
            score_range(&jobs[t]);
    }
    score_range(&jobs[0]);
    for (unsigned t = 1; t < threads; t++)
        if (started[t])
            pthread_join(ids[t], NULL);
    free(log2_tf);
}

/*
 * The share of matches among the candidate pairs, m and u held at their
 * estimates: the one-parameter EM over every pair's pattern.  It sets the
 * prior, since the candidates hold nearly all the matches; the sessions'
 * own shares would count a pair once for each rule it meets.
 */
static double
share_of_matches(const struct cdp_match *m, const struct cdp_linkage_patterns *all)
{
    struct cdp_linkage_model even = m->model;
    struct cdp_linkage_weights w;
    even.lambda = 0.5;
    if (all->total == 0 || cdp_linkage_weights_init(&w, &even) != CDP_LINKAGE_OK)
        return 0;
    double *factor = cdp_xmalloc(all->count * sizeof *factor);
    for (size_t k = 0; k < all->count; k++)
        factor[k] = exp2(cdp_linkage_weight(&w, all->gammas + k * all->nfields, NULL));
    double lambda = 0.1;
    for (int it = 0; it < 1000; it++) {
        double sum = 0;
        for (size_t k = 0; k < all->count; k++) {
            double odds = lambda / (1 - lambda) * factor[k];
            sum += (double)all->counts[k] * (isinf(odds) ? 1 : odds / (1 + odds));
        }
        double next = sum / (double)all->total;
        bool done = fabs(next - lambda) < 1e-9;
        lambda = fmin(fmax(next, 1e-12), 1 - 1e-12);
        if (done)
            break;
    }
    free(factor);
    return lambda;
}

/* u from pairs drawn at random, in key order, from a fixed seed. */
static int
estimate_u(struct cdp_match *m, const uint32_t *order, size_t want, unsigned threads)
{
    size_t nf = m->nfields;
    double all = (double)m->n * (double)(m->n - 1) / 2;
    size_t npairs = all < (double)want ? (size_t)all : want;
    uint8_t *gammas = cdp_xmalloc((npairs ? npairs : 1) * nf);
    uint32_t *a = cdp_xmalloc((npairs ? npairs : 1) * sizeof *a);
    uint32_t *b = cdp_xmalloc((npairs ? npairs : 1) * sizeof *b);
    uint64_t state = 0x63647020756e6974ULL;
    for (size_t k = 0; k < npairs; k++) {
        size_t i, j, tries = 0;
        do {
            i = splitmix(&state) % m->n;
            j = splitmix(&state) % (m->n - 1);
            if (j >= i)
                j++;
        } while (m->source && m->source[order[i]] == m->source[order[j]] && ++tries < 64);
        a[k] = order[i];
        b[k] = order[j];
    }
    compare_all(m, a, b, npairs, gammas, threads);
    int rc = cdp_linkage_estimate_u(&m->model, gammas, npairs, NULL);
    free(a);
    free(b);
    free(gammas);
    return rc;
}

int
cdp_match_run(struct cdp_match *m, const struct cdp_match_options *options,
              struct cdp_match_report *report)
{
    struct cdp_match_options opt = *options;
    if (opt.threshold <= 0)
        opt.threshold = 0.95;
    if (opt.u_pairs == 0)
        opt.u_pairs = 1000000;
    if (opt.max_block == 0)
        opt.max_block = 5000;
    memset(report, 0, sizeof *report);
    size_t nf = m->nfields, n = m->n;
    free(m->cluster);
    m->cluster = cdp_xmalloc((n ? n : 1) * sizeof *m->cluster);
    for (size_t i = 0; i < n; i++)
        m->cluster[i] = (uint32_t)i;
    report->clusters = n;
    if (n < 2 || m->nrules == 0)
        return CDP_LINKAGE_OK;

    uint32_t *order = cdp_xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    sort_m = m;
    qsort(order, n, sizeof *order, by_key);
    count_terms(m);

    unsigned threads = opt.threads ? opt.threads : 1;
    int rc = estimate_u(m, order, opt.u_pairs, threads);
    if (rc != CDP_LINKAGE_OK) {
        free(order);
        return rc;
    }

    /* Blocking, in key order: every candidate pair once. */
    uint64_t *keys[CDP_LINKAGE_MAX_RULES];
    for (size_t r = 0; r < m->nrules; r++) {
        keys[r] = cdp_xmalloc(n * sizeof *keys[r]);
        for (size_t i = 0; i < n; i++)
            keys[r][i] = rule_key(m, &m->rules[r], order[i]);
    }
    struct pairs p = {m, order, NULL, NULL, NULL, NULL, NULL, 0, 0};
    struct cdp_linkage_block_report block;
    rc = cdp_linkage_block((const uint64_t *const *)keys, (unsigned)m->nrules, (uint32_t)n,
                           opt.max_block, take_pair, &p, &block);
    report->pairs = p.n;
    report->skipped_blocks = block.skipped_blocks;
    memcpy(report->rule_pairs, block.rule_pairs, sizeof report->rule_pairs);

    /* Compare them all, on every thread. */
    p.gamma = cdp_xmalloc((p.n ? p.n : 1) * nf);
    double started = seconds();
    compare_all(m, p.a, p.b, p.n, p.gamma, threads);
    report->compare_seconds = seconds() - started;

    /*
     * Each rule's EM session holds every pair that meets the rule (not
     * only those it found first), its own fields made null: they agree by
     * construction and say nothing there.  One more table holds all pairs.
     * Past EM_PAIRS pairs, every stride-th pair (in blocking order, which
     * depends on the records only) stands for the others.
     */
    struct cdp_linkage_patterns sessions[CDP_LINKAGE_MAX_RULES], all;
    cdp_linkage_patterns_init(&all, (unsigned)nf);
    for (size_t r = 0; r < m->nrules; r++)
        cdp_linkage_patterns_init(&sessions[r], (unsigned)nf);
    size_t stride = p.n / EM_PAIRS + 1; /* beyond EM_PAIRS, an even sample */
    for (size_t k = 0; rc == CDP_LINKAGE_OK && k < p.n; k += stride) {
        const uint8_t *gamma = p.gamma + k * nf;
        rc = cdp_linkage_patterns_add(&all, gamma, 1, NULL);
        for (size_t r = 0; rc == CDP_LINKAGE_OK && r < m->nrules; r++) {
            uint64_t key = keys[r][p.pa[k]];
            if (key == 0 || key != keys[r][p.pb[k]])
                continue;
            uint8_t g[CDP_LINKAGE_MAX_FIELDS];
            memcpy(g, gamma, nf);
            for (size_t q = 0; q < m->rules[r].nparts; q++)
                g[m->rules[r].field[q]] = CDP_LINKAGE_NULL;
            rc = cdp_linkage_patterns_add(&sessions[r], g, 1, NULL);
        }
    }
    free(p.pa);
    free(p.pb);

    /* m: one EM session per rule, averaged over the sessions that estimated each field. */
    double msum[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS] = {{0}};
    int mcount[CDP_LINKAGE_MAX_FIELDS] = {0};
    for (size_t r = 0; rc == CDP_LINKAGE_OK && r < m->nrules; r++) {
        if (sessions[r].total == 0)
            continue;
        struct cdp_linkage_model session = m->model;
        struct cdp_linkage_model start;
        cdp_linkage_model_init(&start, (unsigned)nf, m->model.nlevels);
        memcpy(session.m, start.m, sizeof session.m);
        struct cdp_linkage_em_report em;
        int status = cdp_linkage_em(&session, &sessions[r], NULL, &em);
        report->em_sessions++;
        if (status != CDP_LINKAGE_OK)
            continue;
        report->em_converged++;
        for (size_t f = 0; f < nf; f++) {
            bool own = false;
            for (size_t k = 0; k < m->rules[r].nparts; k++)
                own = own || m->rules[r].field[k] == f;
            if (own)
                continue;
            for (unsigned l = 0; l < m->model.nlevels[f]; l++)
                msum[f][l] += session.m[f][l];
            mcount[f]++;
        }
    }
    for (size_t r = 0; r < m->nrules; r++) {
        cdp_linkage_patterns_free(&sessions[r]);
        free(keys[r]);
    }
    for (size_t f = 0; f < nf; f++)
        if (mcount[f])
            for (unsigned l = 0; l < m->model.nlevels[f]; l++)
                m->model.m[f][l] = msum[f][l] / mcount[f];
    double every_pair = (double)n * (double)(n - 1) / 2;
    if (rc == CDP_LINKAGE_OK)
        report->expected_matches = share_of_matches(m, &all) * (double)all.total;
    cdp_linkage_patterns_free(&all);
    double recall = opt.recall > 0 && opt.recall <= 1 ? opt.recall : 1;
    double prior = opt.prior > 0 ? opt.prior : report->expected_matches / recall / every_pair;
    m->model.lambda = fmin(fmax(prior, 1e-12), 0.5);
    report->prior = m->model.lambda;
    if (rc == CDP_LINKAGE_OK)
        rc = cdp_linkage_weights_init(&m->weights, &m->model);

    /* Score, link, cluster. */
    struct cdp_linkage_clusters clusters;
    if (rc == CDP_LINKAGE_OK)
        rc = cdp_linkage_clusters_init(&clusters, (uint32_t)n);
    if (rc == CDP_LINKAGE_OK) {
        uint8_t *link = cdp_xmalloc(p.n ? p.n : 1);
        if (opt.pair) { /* explanations: in order, on this thread */
            double u[CDP_LINKAGE_MAX_FIELDS];
            for (size_t k = 0; k < p.n; k++) {
                const uint8_t *gamma = p.gamma + k * nf;
                double w =
                    cdp_linkage_weight(&m->weights, gamma, tf_overrides(m, p.a[k], gamma, u));
                double prob = cdp_linkage_probability(w);
                opt.pair(opt.ctx, p.a[k], p.b[k], w, prob, gamma);
                link[k] = prob >= opt.threshold;
            }
        } else {
            started = seconds();
            score_all(m, &p, opt.threshold, link, threads);
            report->compare_seconds += seconds() - started;
        }
        for (size_t k = 0; k < p.n; k++) {
            if (link[k]) {
                report->links++;
                cdp_linkage_clusters_union(&clusters, p.a[k], p.b[k]);
            }
        }
        free(link);
        /* Each cluster is named by its member with the first key. */
        uint32_t *first = cdp_xmalloc(n * sizeof *first);
        for (size_t i = 0; i < n; i++)
            first[i] = UINT32_MAX;
        for (size_t k = 0; k < n; k++) { /* order is key order: the first seen is the first key */
            uint32_t root = cdp_linkage_clusters_find(&clusters, order[k]);
            if (first[root] == UINT32_MAX)
                first[root] = order[k];
        }
        for (size_t i = 0; i < n; i++)
            m->cluster[i] = first[cdp_linkage_clusters_find(&clusters, (uint32_t)i)];
        report->clusters = clusters.count;
        free(first);
        cdp_linkage_clusters_free(&clusters);
    }
    free(p.a);
    free(p.b);
    free(p.gamma);
    free(order);
    return rc;
}

const char *
cdp_match_cluster(const struct cdp_match *m, size_t i)
{
    return cdp_match_key(m, m->cluster ? m->cluster[i] : i);
}

const struct cdp_linkage_model *
cdp_match_model(const struct cdp_match *m)
{
    return &m->model;
}

const char *
cdp_match_level_name(const struct cdp_match *m, size_t f, unsigned level)
{
    if (f >= m->nfields || level >= kind_levels[m->fields[f].kind])
        return "null";
    return level_names[m->fields[f].kind][level];
}

double
cdp_match_field_weight(const struct cdp_match *m, size_t i, size_t j, size_t f, unsigned level)
{
    (void)j; /* an exact match has one value: record i's frequency is the pair's */
    double u = -1;
    if (m->tf && m->fields[f].tf && level == m->model.nlevels[f] - 1u)
        u = (double)m->tf[i * m->nfields + f] / (double)m->n;
    return cdp_linkage_field_weight(&m->weights, (unsigned)f, level, u);
}

void
cdp_match_model_json(const struct cdp_match *m, struct cdp_buf *out)
{
    cdp_buf_printf(out, "{\"prior\":%.6g,\"fields\":[", m->model.lambda);
    for (size_t f = 0; f < m->nfields; f++) {
        cdp_buf_puts(out, f ? ",{\"field\":" : "{\"field\":");
        cdp_view_string(out, m->fields[f].name, strlen(m->fields[f].name));
        cdp_buf_printf(out, ",\"kind\":\"%s\",\"tf\":%s,\"levels\":[",
                       cdp_match_kind_names[m->fields[f].kind], m->fields[f].tf ? "true" : "false");
        for (unsigned l = 0; l < m->model.nlevels[f]; l++)
            cdp_buf_printf(out, "%s{\"level\":\"%s\",\"m\":%.6g,\"u\":%.6g,\"weight\":%.4f}",
                           l ? "," : "", level_names[m->fields[f].kind][l], m->model.m[f][l],
                           m->model.u[f][l], log2(m->model.m[f][l] / m->model.u[f][l]));
        cdp_buf_puts(out, "]}");
    }
    cdp_buf_puts(out, "]}");
}
