/*
 * profile.c - encoding, decoding and merging profile records.
 */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

static json_t *load_object(const unsigned char *data, uint32_t len);

void
cdp_profile_init(struct cdp_profile *p, const struct cdp_id *id)
{
    memset(p, 0, sizeof *p);
    p->id = *id;
    p->head.magic = CDP_PROFILE_MAGIC;
    p->head.first_seen = p->head.last_seen = CDP_TIME_NONE;
    p->head.anchor_time = INT64_MAX;
    memset(p->head.anchor_message, 0xff, sizeof p->head.anchor_message);
    p->head.first_order_at = p->head.last_order_at = CDP_TIME_NONE;
    p->traits = json_object();
    p->tallies = json_object();
}

void
cdp_profile_load(struct cdp_profile *p)
{
    if (p->traits == NULL)
        p->traits =
            load_object((const unsigned char *)p->traits_text.data, (uint32_t)p->traits_text.len);
    if (p->traits == NULL)
        p->traits = json_object(); /* damaged text: the traits are lost, not the profile */
    if (p->tallies == NULL)
        p->tallies =
            load_object((const unsigned char *)p->tallies_text.data, (uint32_t)p->tallies_text.len);
    if (p->tallies == NULL)
        p->tallies = json_object();
}

void
cdp_profile_free(struct cdp_profile *p)
{
    cdp_buf_free(&p->identifiers);
    cdp_buf_free(&p->traits_text);
    cdp_buf_free(&p->tallies_text);
    json_decref(p->traits);
    json_decref(p->tallies);
    p->traits = p->tallies = NULL;
}

bool
cdp_profile_decode_head(struct cdp_profile_head *head, const void *data, size_t len)
{
    if (len < sizeof *head)
        return false;
    memcpy(head, data, sizeof *head);
    return head->magic == CDP_PROFILE_MAGIC;
}

static bool
read_section(const unsigned char **p, const unsigned char *end, const char **data, size_t *len)
{
    uint32_t n;
    if ((size_t)(end - *p) < sizeof n)
        return false;
    memcpy(&n, *p, sizeof n);
    *p += sizeof n;
    if ((size_t)(end - *p) < n)
        return false;
    *data = (const char *)*p;
    *len = n;
    *p += n;
    return true;
}

bool
cdp_profile_record_read(struct cdp_profile_record *r, const void *data, size_t len)
{
    const unsigned char *cursor = data, *end = cursor + len;

    if (!cdp_profile_decode_head(&r->head, data, len))
        return false;
    cursor += sizeof r->head;
    return read_section(&cursor, end, &r->identifiers, &r->identifiers_len) &&
           read_section(&cursor, end, &r->traits, &r->traits_len) &&
           read_section(&cursor, end, &r->tallies, &r->tallies_len) && cursor == end;
}

static json_t *
load_object(const unsigned char *data, uint32_t len)
{
    if (data == NULL)
        return json_object();
    if (len == 0)
        return json_object();
    json_t *v = json_loadb((const char *)data, len, 0, NULL);
    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

bool
cdp_profile_decode(struct cdp_profile *p, const struct cdp_id *id, const void *data, size_t len)
{
    struct cdp_profile_record r;

    cdp_profile_init(p, id);
    if (!cdp_profile_record_read(&r, data, len))
        return false;
    p->head = r.head;
    cdp_buf_append(&p->identifiers, r.identifiers, r.identifiers_len);
    for (size_t i = 0; i < r.identifiers_len; i++)
        p->identifiers_count += r.identifiers[i] == '\0';
    json_decref(p->traits);
    p->traits = NULL;
    cdp_buf_append(&p->traits_text, r.traits, r.traits_len);
    json_decref(p->tallies);
    p->tallies = NULL;
    cdp_buf_append(&p->tallies_text, r.tallies, r.tallies_len);
    return true;
}

static void
put_section(struct cdp_buf *out, const void *data, size_t len)
{
    uint32_t n = (uint32_t)len;
    cdp_buf_append(out, &n, sizeof n);
    cdp_buf_append(out, data, len);
}

static void
put_object(struct cdp_buf *out, json_t *object)
{
    if (object == NULL || json_object_size(object) == 0) {
        put_section(out, "", 0);
        return;
    }
    char *text = json_dumps(object, JSON_COMPACT | JSON_SORT_KEYS);
    put_section(out, text, text ? strlen(text) : 0);
    free(text);
}

void
cdp_profile_encode(const struct cdp_profile *p, struct cdp_buf *out)
{
    cdp_buf_reset(out);
    cdp_buf_append(out, &p->head, sizeof p->head);
    put_section(out, p->identifiers.data, p->identifiers.len);
    if (p->traits)
        put_object(out, p->traits);
    else
        put_section(out, p->traits_text.data, p->traits_text.len);
    if (p->tallies)
        put_object(out, p->tallies);
    else
        put_section(out, p->tallies_text.data, p->tallies_text.len);
}

bool
cdp_profile_has_identifier(const struct cdp_profile *p, const char *identifier)
{
    if (p->identifiers.data == NULL)
        return false;
    const char *s = p->identifiers.data, *end = s + p->identifiers.len;
    while (s < end) {
        int c = strcmp(s, identifier);
        if (c == 0)
            return true;
        if (c > 0)
            return false;
        s += strlen(s) + 1;
    }
    return false;
}

bool
cdp_profile_add_identifier(struct cdp_profile *p, const char *identifier)
{
    size_t offset = 0, n = strlen(identifier) + 1;
    while (offset < p->identifiers.len) {
        const char *s = p->identifiers.data + offset;
        int c = strcmp(s, identifier);
        if (c == 0)
            return false;
        if (c > 0)
            break;
        offset += strlen(s) + 1;
    }
    cdp_buf_reserve(&p->identifiers, n);
    memmove(p->identifiers.data + offset + n, p->identifiers.data + offset,
            p->identifiers.len - offset);
    memcpy(p->identifiers.data + offset, identifier, n);
    cdp_buf_commit(&p->identifiers, n);
    p->identifiers_count++;
    return true;
}

size_t
cdp_profile_count_kind(const struct cdp_profile *p, const char *kind)
{
    if (p->identifiers.data == NULL)
        return 0;
    size_t count = 0, klen = strlen(kind);
    const char *s = p->identifiers.data, *end = s + p->identifiers.len;
    while (s < end) {
        size_t n = strlen(s);
        if (n > klen && memcmp(s, kind, klen) == 0 && s[klen] == ':')
            count++;
        s += n + 1;
    }
    return count;
}

void
cdp_profile_each_identifier(const struct cdp_profile *p,
                            void (*fn)(const char *identifier, void *ctx), void *ctx)
{
    if (p->identifiers.data == NULL)
        return;
    const char *s = p->identifiers.data, *end = s + p->identifiers.len;
    while (s < end) {
        fn(s, ctx);
        s += strlen(s) + 1;
    }
}

/*
 * "frequent": the entry keeps, as its fourth member, how often each value
 * (by its JSON text) came, with the time and source of its latest coming:
 * {"text": [count, time, "source"]}.  The value kept is the one that came
 * most often; ties go to the later, then as for "recent".
 */
static bool
count_better(json_int_t na, int64_t ta, const char *sa, const char *xa, json_int_t nb,
             int64_t tb, const char *sb, const char *xb)
{
    if (na != nb)
        return na > nb;
    if (ta != tb)
        return ta > tb;
    int c = strcmp(sa, sb);
    if (c != 0)
        return c > 0;
    return strcmp(xa, xb) > 0;
}

#define COUNT_N(c) json_integer_value(json_array_get(c, 0))
#define COUNT_T(c) ((int64_t)json_integer_value(json_array_get(c, 1)))
#define COUNT_S(c) (json_string_value(json_array_get(c, 2)) ? json_string_value(json_array_get(c, 2)) : "")

static void
count_value(json_t *counts, const char *text, json_int_t n, int64_t time, const char *source)
{
    json_t *c = json_object_get(counts, text);
    if (c == NULL) {
        json_object_set_new(counts, text, json_pack("[I,I,s]", n, (json_int_t)time, source));
    } else {
        json_array_set_new(c, 0, json_integer(COUNT_N(c) + n));
        if (time > COUNT_T(c) || (time == COUNT_T(c) && strcmp(source, COUNT_S(c)) > 0)) {
            json_array_set_new(c, 1, json_integer(time));
            json_array_set_new(c, 2, json_string(source));
        }
    }
    if (json_object_size(counts) <= CDP_SURVIVE_FREQUENT_MAX)
        return;
    /* Past the cap, the value least worth keeping goes. */
    const char *key, *worst = NULL;
    json_t *v, *w = NULL;
    json_object_foreach(counts, key, v)
    {
        if (worst == NULL || count_better(COUNT_N(w), COUNT_T(w), COUNT_S(w), worst, COUNT_N(v),
                                          COUNT_T(v), COUNT_S(v), key)) {
            worst = key;
            w = v;
        }
    }
    json_object_del(counts, worst);
}

static void
set_frequent(struct cdp_profile *p, const char *name, json_t *value, json_int_t n, int64_t time,
             const char *source, json_t *more)
{
    json_t *old = json_object_get(p->traits, name);
    json_t *counts = json_is_array(old) ? json_array_get(old, 3) : NULL;
    counts = json_is_object(counts) ? json_incref(counts) : json_object();
    if (json_object_size(counts) == 0 && json_is_array(old)) {
        /* Kept under another rule until now: it counts once. */
        char *t = json_dumps(json_array_get(old, 0), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        const char *s = json_string_value(json_array_get(old, 2));
        count_value(counts, t ? t : "null", 1, json_integer_value(json_array_get(old, 1)),
                    s ? s : "");
        free(t);
    }
    if (more != NULL) {
        const char *key;
        json_t *c;
        json_object_foreach(more, key, c)
        {
            if (json_is_array(c))
                count_value(counts, key, COUNT_N(c), COUNT_T(c), COUNT_S(c));
        }
    } else {
        char *t = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        count_value(counts, t ? t : "null", n, time, source ? source : "");
        free(t);
    }
    const char *key, *best = NULL;
    json_t *c, *b = NULL;
    json_object_foreach(counts, key, c)
    {
        if (best == NULL ||
            count_better(COUNT_N(c), COUNT_T(c), COUNT_S(c), key, COUNT_N(b), COUNT_T(b),
                         COUNT_S(b), best)) {
            best = key;
            b = c;
        }
    }
    json_t *kept = json_loads(best, JSON_DECODE_ANY, NULL);
    json_t *entry = json_pack("[o,I,s,o]", kept ? kept : json_null(), (json_int_t)COUNT_T(b),
                              COUNT_S(b), counts);
    json_object_set_new(p->traits, name, entry);
}

bool
cdp_profile_set_trait(struct cdp_profile *p, const char *name, json_t *value, int64_t time,
                      const char *source, const struct cdp_survive_rule *rule)
{
    cdp_profile_load(p);
    if (rule && rule->policy == CDP_SURVIVE_FREQUENT) {
        set_frequent(p, name, value, 1, time, source, NULL);
        return true;
    }
    json_t *old = json_object_get(p->traits, name);
    if (old != NULL && json_is_array(old) &&
        cdp_survive_compare(rule, value, time, source, json_array_get(old, 0),
                            json_integer_value(json_array_get(old, 1)),
                            json_string_value(json_array_get(old, 2))) <= 0)
        return false;
    json_t *entry = json_array();
    json_array_append(entry, value);
    json_array_append_new(entry, json_integer(time));
    json_array_append_new(entry, json_string(source ? source : ""));
    json_object_set_new(p->traits, name, entry);
    return true;
}

void
cdp_profile_tally(struct cdp_profile *p, const char *group, const char *value, int delta)
{
    cdp_profile_load(p);
    json_t *g = json_object_get(p->tallies, group);
    if (g == NULL) {
        if (delta <= 0)
            return;
        g = json_object();
        json_object_set_new(p->tallies, group, g);
    }
    json_int_t count = json_integer_value(json_object_get(g, value)) + delta;
    if (count > 0)
        json_object_set_new(g, value, json_integer(count));
    else
        json_object_del(g, value);
    if (json_object_size(g) == 0)
        json_object_del(p->tallies, group);
}

const char *
cdp_profile_top_tally(struct cdp_profile *p, const char *group)
{
    cdp_profile_load(p);
    json_t *g = json_object_get(p->tallies, group), *count;
    const char *key, *best = NULL;
    json_int_t best_count = 0;
    json_object_foreach(g, key, count)
    {
        json_int_t c = json_integer_value(count);
        if (c > best_count || (c == best_count && best != NULL && strcmp(key, best) < 0)) {
            best = key;
            best_count = c;
        }
    }
    return best;
}

static int64_t
min_time(int64_t a, int64_t b)
{
    if (a == CDP_TIME_NONE)
        return b;
    if (b == CDP_TIME_NONE)
        return a;
    return a < b ? a : b;
}

static int64_t
max_time(int64_t a, int64_t b)
{
    return a > b ? a : b; /* CDP_TIME_NONE is the smallest value */
}

bool
cdp_profile_before_anchor(const struct cdp_profile *p, int64_t time,
                          const unsigned char message[16])
{
    if (time != p->head.anchor_time)
        return time < p->head.anchor_time;
    return memcmp(message, p->head.anchor_message, 16) < 0;
}

static void
add_identifier_cb(const char *identifier, void *ctx)
{
    cdp_profile_add_identifier(ctx, identifier);
}

void
cdp_profile_merge(struct cdp_profile *dst, struct cdp_profile *src,
                  const struct cdp_survive *rules)
{
    cdp_profile_load(dst);
    cdp_profile_load(src);
    struct cdp_profile_head *d = &dst->head;
    const struct cdp_profile_head *s = &src->head;

    cdp_profile_each_identifier(src, add_identifier_cb, dst);

    const char *name;
    json_t *entry;
    json_object_foreach(src->traits, name, entry)
    {
        const struct cdp_survive_rule *rule = cdp_survive_rule_for(rules, name);
        json_t *counts = json_array_get(entry, 3);
        if (rule && rule->policy == CDP_SURVIVE_FREQUENT && json_is_object(counts) &&
            json_object_size(counts) > 0)
            set_frequent(dst, name, NULL, 0, 0, NULL, counts);
        else
            cdp_profile_set_trait(dst, name, json_array_get(entry, 0),
                                  json_integer_value(json_array_get(entry, 1)),
                                  json_string_value(json_array_get(entry, 2)), rule);
    }
    const char *group;
    json_t *values;
    json_object_foreach(src->tallies, group, values)
    {
        const char *value;
        json_t *count;
        json_object_foreach(values, value, count)
        {
            cdp_profile_tally(dst, group, value, (int)json_integer_value(count));
        }
    }

    if (cdp_profile_before_anchor(dst, s->anchor_time, s->anchor_message)) {
        d->anchor_time = s->anchor_time;
        memcpy(d->anchor_message, s->anchor_message, sizeof d->anchor_message);
    }
    d->first_seen = min_time(d->first_seen, s->first_seen);
    d->last_seen = max_time(d->last_seen, s->last_seen);
    d->first_order_at = min_time(d->first_order_at, s->first_order_at);
    d->last_order_at = max_time(d->last_order_at, s->last_order_at);
    d->revenue_micros += s->revenue_micros;
    d->events_count += s->events_count;
    d->page_views += s->page_views;
    d->email_opens += s->email_opens;
    d->email_clicks += s->email_clicks;
    d->downloads += s->downloads;
    d->support_contacts += s->support_contacts;
    d->orders_count += s->orders_count;
    d->returns_count += s->returns_count;
}
