/*
 * ingest.c - identity resolution and profile updates for one event.
 */
#include "ingest.h"
#include "predicted.h"
#include "consent.h"
#include "events.h"
#include "profile.h"
#include "timeparse.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PROFILES CDP_EVENT_MAX_IDENTIFIERS

void
cdp_ingest_init(struct cdp_ingest *ing, struct cdp_store *store,
                const struct cdp_ingest_options *options, int64_t now)
{
    memset(ing, 0, sizeof *ing);
    ing->store = store;
    ing->options = options;
    ing->now = now;
}

void
cdp_ingest_free(struct cdp_ingest *ing)
{
    if (ing->txn)
        cdp_ingest_abort(ing);
    cdp_buf_free(&ing->scratch);
    cdp_buf_free(&ing->record);
    cdp_buf_free(&ing->warnings);
    json_decref(ing->purposes);
    cdp_survive_free(ing->rules);
    json_decref(ing->separations);
}

int
cdp_ingest_load_salt(struct cdp_store *store, MDB_txn *txn, unsigned char salt[32])
{
    MDB_val value;
    int rc = cdp_store_meta_get(store, txn, "salt", &value);
    if (rc != 0)
        return rc;
    if (value.mv_size != 32)
        return MDB_CORRUPTED;
    memcpy(salt, value.mv_data, 32);
    return 0;
}

void
cdp_ingest_suppression_hash(const unsigned char salt[32], const char *identifier,
                            unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)identifier, strlen(identifier), salt, 32);
}

int
cdp_ingest_begin(struct cdp_ingest *ing)
{
    MDB_stat st;
    int rc = cdp_store_begin(ing->store, true, &ing->txn);
    if (rc != 0)
        return rc;
    memset(&ing->stats, 0, sizeof ing->stats);
    if ((rc = cdp_ingest_load_salt(ing->store, ing->txn, ing->salt)) != 0 ||
        (rc = mdb_stat(ing->txn, ing->store->dbi[CDP_DB_SUPPRESSION], &st)) != 0) {
        cdp_ingest_abort(ing);
        return rc;
    }
    ing->suppression_empty = st.ms_entries == 0;
    if ((rc = cdp_store_load_codec(ing->store, ing->txn)) != 0) {
        cdp_ingest_abort(ing);
        return rc;
    }
    json_decref(ing->purposes);
    if ((ing->purposes = cdp_consent_purposes(ing->store, ing->txn, &rc)) == NULL) {
        cdp_ingest_abort(ing);
        return rc;
    }
    cdp_survive_free(ing->rules);
    json_decref(ing->separations);
    ing->separations = NULL;
    if ((rc = cdp_survive_load(ing->store, ing->txn, &ing->rules)) != 0 ||
        (rc = cdp_ingest_load_separations(ing->store, ing->txn, &ing->separations)) != 0) {
        cdp_ingest_abort(ing);
        return rc;
    }
    return 0;
}

int
cdp_ingest_commit(struct cdp_ingest *ing)
{
    int rc = mdb_txn_commit(ing->txn);
    ing->txn = NULL;
    return rc;
}

void
cdp_ingest_abort(struct cdp_ingest *ing)
{
    if (ing->txn)
        mdb_txn_abort(ing->txn);
    ing->txn = NULL;
}

int
cdp_ingest_load_separations(struct cdp_store *store, MDB_txn *txn, json_t **out)
{
    MDB_val v;
    *out = NULL;
    int rc = cdp_store_meta_get(store, txn, "separations", &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    *out = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    if (json_is_array(*out))
        return 0;
    json_decref(*out);
    *out = NULL;
    return MDB_CORRUPTED;
}

void
cdp_ingest_stats_add(struct cdp_ingest_stats *a, const struct cdp_ingest_stats *b)
{
    a->read += b->read;
    a->landed += b->landed;
    a->duplicates += b->duplicates;
    a->rejected += b->rejected;
    a->warnings += b->warnings;
    a->suppressed += b->suppressed;
    a->untimed += b->untimed;
    a->profiles_created += b->profiles_created;
    a->merges += b->merges;
    a->merges_refused += b->merges_refused;
}

/* ---- small store helpers ---- */

#define DBI(ing, db) ((ing)->store->dbi[db])

static int
load_profile(struct cdp_ingest *ing, const struct cdp_id *id, struct cdp_profile *p, bool *found)
{
    MDB_val key = {16, (void *)id->bytes}, value;
    int rc = mdb_get(ing->txn, DBI(ing, CDP_DB_PROFILES), &key, &value);
    if (rc == MDB_NOTFOUND) {
        cdp_profile_init(p, id);
        *found = false;
        return 0;
    }
    if (rc != 0)
        return rc;
    *found = true;
    if (!cdp_profile_decode(p, id, value.mv_data, value.mv_size))
        return MDB_CORRUPTED;
    return 0;
}

static int
save_profile(struct cdp_ingest *ing, const struct cdp_profile *p)
{
    cdp_profile_encode(p, &ing->record);
    MDB_val key = {16, (void *)p->id.bytes}, value = {ing->record.len, ing->record.data};
    return mdb_put(ing->txn, DBI(ing, CDP_DB_PROFILES), &key, &value, 0);
}

static int
delete_profile(struct cdp_ingest *ing, const struct cdp_id *id)
{
    MDB_val key = {16, (void *)id->bytes};
    int rc = mdb_del(ing->txn, DBI(ing, CDP_DB_PROFILES), &key, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    /* A prediction belongs to the profile as it was fitted: it goes with it. */
    return cdp_predicted_delete(ing->store, ing->txn, id);
}

static int
lookup_identifier(struct cdp_ingest *ing, const char *identifier, struct cdp_id *id)
{
    MDB_val key = {strlen(identifier), (void *)identifier}, value;
    int rc = mdb_get(ing->txn, DBI(ing, CDP_DB_IDENTIFIERS), &key, &value);
    if (rc == 0) {
        if (value.mv_size != 16)
            return MDB_CORRUPTED;
        memcpy(id->bytes, value.mv_data, 16);
    }
    return rc;
}

static int
put_identifier(struct cdp_ingest *ing, const char *identifier, const struct cdp_id *id)
{
    MDB_val key = {strlen(identifier), (void *)identifier}, value = {16, (void *)id->bytes};
    return mdb_put(ing->txn, DBI(ing, CDP_DB_IDENTIFIERS), &key, &value, 0);
}

struct remap_ctx {
    struct cdp_ingest *ing;
    const struct cdp_id *to;
    int rc;
};

static void
remap_identifier_cb(const char *identifier, void *ctx)
{
    struct remap_ctx *r = ctx;
    if (r->rc == 0)
        r->rc = put_identifier(r->ing, identifier, r->to);
}

/* Moves the records keyed by profile-id prefix in db (consent) from one profile to another. */
static int
move_prefixed(struct cdp_ingest *ing, enum cdp_db db, const struct cdp_id *from,
              const struct cdp_id *to)
{
    MDB_cursor *cursor;
    MDB_val key = {16, (void *)from->bytes}, value;
    int rc = mdb_cursor_open(ing->txn, DBI(ing, db), &cursor);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size >= 16 && memcmp(key.mv_data, from->bytes, 16) == 0) {
        cdp_buf_reset(&ing->scratch);
        cdp_buf_append(&ing->scratch, key.mv_data, key.mv_size);
        size_t keylen = key.mv_size;
        cdp_buf_append(&ing->scratch, value.mv_data, value.mv_size);
        memcpy(ing->scratch.data, to->bytes, 16);
        MDB_val nk = {keylen, ing->scratch.data};
        MDB_val nv = {ing->scratch.len - keylen, ing->scratch.data + keylen};
        if ((rc = mdb_cursor_del(cursor, 0)) != 0 ||
            (rc = mdb_put(ing->txn, DBI(ing, db), &nk, &nv, 0)) != 0)
            break;
        key.mv_size = 16;
        key.mv_data = (void *)from->bytes;
        rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Moves events, identifiers and consent of profile p to a new id. */
static int
move_profile_data(struct cdp_ingest *ing, struct cdp_profile *p, const struct cdp_id *to)
{
    struct remap_ctx r = {ing, to, 0};
    int rc;
    if ((rc = cdp_events_move(ing->store, ing->txn, &p->id, to)) != 0)
        return rc;
    cdp_profile_each_identifier(p, remap_identifier_cb, &r);
    if (r.rc != 0)
        return r.rc;
    if ((rc = move_prefixed(ing, CDP_DB_CONSENT, &p->id, to)) != 0)
        return rc;
    return delete_profile(ing, &p->id);
}

/* ---- the merge log ---- */

static void
identifiers_to_json_cb(const char *identifier, void *ctx)
{
    json_array_append_new(ctx, json_string(identifier));
}

static json_t *
profile_identifiers_json(const struct cdp_profile *p)
{
    json_t *list = json_array();
    cdp_profile_each_identifier(p, identifiers_to_json_cb, list);
    return list;
}

static json_t *
event_identifiers_json(const struct cdp_event *ev)
{
    json_t *list = json_array();
    for (int i = 0; i < ev->identifiers_count; i++)
        json_array_append_new(list, json_string(ev->identifiers[i]));
    return list;
}

static json_t *
id_json(const struct cdp_id *id)
{
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(id, hex);
    return json_string(hex);
}

/* Appends an entry to the merge log; takes ownership of entry. */
static int
mergelog_append(struct cdp_ingest *ing, json_t *entry, const struct cdp_event *ev)
{
    uint64_t seq;
    char when[32];
    unsigned char key[8];
    int rc = cdp_store_next_sequence(ing->store, ing->txn, CDP_DB_MERGELOG, &seq);
    if (rc != 0) {
        json_decref(entry);
        return rc;
    }
    json_object_set_new(entry, "seq", json_integer((json_int_t)seq));
    cdp_time_format(ev->time, when, sizeof when);
    json_object_set_new(entry, "time", json_string(when));
    cdp_time_format(ing->now, when, sizeof when);
    json_object_set_new(entry, "recorded", json_string(when));
    json_object_set_new(entry, "message_id", json_string(ev->message_id));
    json_object_set_new(entry, "source", json_string(ing->options->source));
    json_object_set_new(entry, "event_identifiers", event_identifiers_json(ev));
    if (ing->replay != 0)
        json_object_set_new(entry, "replay", json_integer((json_int_t)ing->replay));
    char *text = json_dumps(entry, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(entry);
    cdp_store_put_be64(key, seq);
    MDB_val k = {8, key}, v = {strlen(text), text};
    rc = mdb_put(ing->txn, DBI(ing, CDP_DB_MERGELOG), &k, &v, MDB_APPEND);
    free(text);
    return rc;
}

/* ---- computed traits that need the events ---- */

struct scan_ctx {
    const struct cdp_counter_map *counters;
    int64_t *activity, *checkouts, *orders;
    size_t nactivity, ncheckouts, norders, cap_activity, cap_checkouts, cap_orders;
};

static void
push_time(int64_t **list, size_t *n, size_t *cap, int64_t t)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *list = cdp_xrealloc(*list, *cap * sizeof **list);
    }
    (*list)[(*n)++] = t;
}

static bool
is_activity(int type)
{
    return type == CDP_EVENT_TRACK || type == CDP_EVENT_PAGE || type == CDP_EVENT_SCREEN;
}

static enum cdp_counter
classify_stored(const struct cdp_counter_map *counters, const struct cdp_stored_event *ev)
{
    if (ev->counter >= 0)
        return (enum cdp_counter)ev->counter;
    char name[256];
    if (ev->type != CDP_EVENT_TRACK || ev->name_len >= sizeof name)
        return CDP_COUNTER_NONE;
    memcpy(name, ev->name, ev->name_len);
    name[ev->name_len] = '\0';
    return cdp_computed_classify(counters, name);
}

static int
scan_cb(const struct cdp_stored_event *ev, void *ctx)
{
    struct scan_ctx *s = ctx;
    if (is_activity(ev->type))
        push_time(&s->activity, &s->nactivity, &s->cap_activity, ev->time);
    enum cdp_counter c = classify_stored(s->counters, ev);
    if (c == CDP_COUNTER_CHECKOUT)
        push_time(&s->checkouts, &s->ncheckouts, &s->cap_checkouts, ev->time);
    else if (c == CDP_COUNTER_ORDER)
        push_time(&s->orders, &s->norders, &s->cap_orders, ev->time);
    return 0;
}

/* Recomputes visits, time on site and abandoned carts from the stored events. */
static int
recompute_from_events(struct cdp_ingest *ing, struct cdp_profile *p, bool sessions)
{
    struct scan_ctx s = {0};
    s.counters = ing->options->counters;
    int rc = cdp_events_each(ing->store, ing->txn, &p->id, scan_cb, &s);
    if (rc == 0) {
        if (sessions)
            cdp_computed_sessions(s.activity, s.nactivity, &p->head.visits,
                                  &p->head.time_on_site_ms);
        p->head.abandoned_carts =
            cdp_computed_abandoned(s.checkouts, s.ncheckouts, s.orders, s.norders);
    }
    free(s.activity);
    free(s.checkouts);
    free(s.orders);
    return rc;
}

/*
 * Visits and time on site for one new activity event, from its neighbours
 * among the profile's stored activity events: the same totals as a full
 * recount, whatever order the events arrive in.
 */
static int
update_sessions(struct cdp_ingest *ing, struct cdp_profile *p, const unsigned char *evkey)
{
    MDB_cursor *cursor;
    MDB_val key = {CDP_EVENT_KEY_SIZE, (void *)evkey}, value;
    struct cdp_stored_event se;
    int64_t t = cdp_store_get_time(evkey + 16), prev = 0, next = 0;
    bool has_prev = false, has_next = false;
    int rc = mdb_cursor_open(ing->txn, DBI(ing, CDP_DB_EVENTS), &cursor);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == CDP_EVENT_KEY_SIZE && memcmp(key.mv_data, evkey, 16) == 0) {
        if (cdp_events_decode(&key, &value, &se) && is_activity(se.type)) {
            has_next = true;
            next = se.time;
            break;
        }
        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    key.mv_size = CDP_EVENT_KEY_SIZE;
    key.mv_data = (void *)evkey;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    rc = mdb_cursor_get(cursor, &key, &value, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    while (rc == 0 && key.mv_size == CDP_EVENT_KEY_SIZE && memcmp(key.mv_data, evkey, 16) == 0) {
        if (cdp_events_decode(&key, &value, &se) && is_activity(se.type)) {
            has_prev = true;
            prev = se.time;
            break;
        }
        rc = mdb_cursor_get(cursor, &key, &value, MDB_PREV);
    }
    mdb_cursor_close(cursor);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;

#define BOUNDARY(a, b) ((b) - (a) > CDP_SESSION_GAP_MS)
#define WITHIN(a, b) (BOUNDARY(a, b) ? 0 : (b) - (a))
    struct cdp_profile_head *h = &p->head;
    if (!has_prev && !has_next) {
        h->visits += 1;
    } else if (has_prev && has_next) {
        h->visits = (uint32_t)((int64_t)h->visits + BOUNDARY(prev, t) + BOUNDARY(t, next) -
                               BOUNDARY(prev, next));
        h->time_on_site_ms += WITHIN(prev, t) + WITHIN(t, next) - WITHIN(prev, next);
    } else if (has_prev) {
        h->visits += BOUNDARY(prev, t);
        h->time_on_site_ms += WITHIN(prev, t);
    } else {
        h->visits += BOUNDARY(t, next);
        h->time_on_site_ms += WITHIN(t, next);
    }
#undef BOUNDARY
#undef WITHIN
    return 0;
}

/* ---- orders ---- */

static bool
number_of(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out);
    }
    if (json_is_string(v)) {
        /* Amounts from spreadsheets may use a decimal comma: "42,50". */
        char text[64], *end;
        const char *s = json_string_value(v), *comma = strchr(s, ',');
        if (comma && strchr(comma + 1, ',') == NULL && strchr(s, '.') == NULL &&
            strlen(s) < sizeof text) {
            strcpy(text, s);
            text[comma - s] = '.';
            s = text;
        }
        *out = strtod(s, &end);
        return end != s && *end == '\0' && isfinite(*out);
    }
    return false;
}

double
cdp_ingest_order_amount(json_t *props)
{
    double v, sum = 0;
    if (number_of(json_object_get(props, "total"), &v) ||
        number_of(json_object_get(props, "revenue"), &v) ||
        number_of(json_object_get(props, "value"), &v))
        return v;
    size_t i;
    json_t *product;
    json_array_foreach(json_object_get(props, "products"), i, product)
    {
        double price, quantity = 1;
        if (number_of(json_object_get(product, "price"), &price)) {
            number_of(json_object_get(product, "quantity"), &quantity);
            sum += price * quantity;
        }
    }
    return sum;
}

const char *
cdp_ingest_order_id(json_t *props, char *buf, size_t size)
{
    json_t *v = json_object_get(props, "order_id");
    if (v == NULL)
        v = json_object_get(props, "orderId");
    if (json_is_string(v) && json_string_length(v) > 0)
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return NULL;
}

/*
 * Records an order or refund id once: returns 0 and sets *first when this is
 * the first sighting of the id (from any source).
 */
static int
claim_order(struct cdp_ingest *ing, const char *prefix, const char *order_id,
            const struct cdp_event *ev, bool *first)
{
    cdp_buf_reset(&ing->scratch);
    cdp_buf_printf(&ing->scratch, "%s:%s", prefix, order_id);
    struct cdp_id h = cdp_hash_bytes(ing->scratch.data, ing->scratch.len);
    unsigned char record[24];
    memcpy(record, ev->message.bytes, 16);
    memcpy(record + 16, &ev->time, 8);
    MDB_val key = {16, h.bytes}, value = {sizeof record, record};
    int rc = mdb_put(ing->txn, DBI(ing, CDP_DB_ORDERS), &key, &value, MDB_NOOVERWRITE);
    *first = rc == 0;
    /* The claim may be this very event's, when its profile is built again. */
    if (rc == MDB_KEYEXIST && value.mv_size == sizeof record &&
        memcmp(value.mv_data, record, sizeof record) == 0)
        *first = true;
    return rc == MDB_KEYEXIST ? 0 : rc;
}

static void
tally_string(struct cdp_profile *p, const char *group, json_t *v)
{
    if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 200)
        cdp_profile_tally(p, group, json_string_value(v), 1);
}

static int
apply_order(struct cdp_ingest *ing, struct cdp_profile *p, const struct cdp_event *ev)
{
    char buf[32];
    const char *order_id = cdp_ingest_order_id(ev->properties, buf, sizeof buf);
    bool first = true;
    if (order_id != NULL) {
        int rc = claim_order(ing, "order", order_id, ev, &first);
        if (rc != 0)
            return rc;
    }
    if (!first)
        return 0;
    struct cdp_profile_head *h = &p->head;
    h->orders_count++;
    h->revenue_micros += llround(cdp_ingest_order_amount(ev->properties) * 1e6);
    if (h->first_order_at == CDP_TIME_NONE || ev->time < h->first_order_at)
        h->first_order_at = ev->time;
    if (ev->time > h->last_order_at)
        h->last_order_at = ev->time;
    json_t *pm = json_object_get(ev->properties, "payment_method");
    tally_string(p, "payment_method", pm ? pm : json_object_get(ev->properties, "paymentMethod"));
    tally_string(p, "category", json_object_get(ev->properties, "category"));
    size_t i;
    json_t *product;
    json_array_foreach(json_object_get(ev->properties, "products"), i, product)
    {
        tally_string(p, "category", json_object_get(product, "category"));
    }
    return 0;
}

static int
apply_refund(struct cdp_ingest *ing, struct cdp_profile *p, const struct cdp_event *ev)
{
    char buf[32];
    const char *order_id = cdp_ingest_order_id(ev->properties, buf, sizeof buf);
    bool first = true;
    if (order_id != NULL) {
        int rc = claim_order(ing, "refund", order_id, ev, &first);
        if (rc != 0)
            return rc;
    }
    if (first)
        p->head.returns_count++;
    return 0;
}

/* ---- identity ---- */

static int
limit_of(const struct cdp_limits *limits, const char *identifier)
{
    if (strncmp(identifier, "user:", 5) == 0)
        return limits->user;
    if (strncmp(identifier, "email:", 6) == 0)
        return limits->email;
    if (strncmp(identifier, "phone:", 6) == 0)
        return limits->phone;
    if (strncmp(identifier, "anon:", 5) == 0)
        return limits->anon;
    return limits->other;
}

static void
kind_of(const char *identifier, char *kind, size_t size)
{
    size_t n = strcspn(identifier, ":");
    if (n >= size)
        n = size - 1;
    memcpy(kind, identifier, n);
    kind[n] = '\0';
}

/* Adds one identifier's kind to the tally of kinds (kinds[] of size 64 each). */
static void
count_kind_of(const char *identifier, char (*kinds)[64], size_t *counts, size_t *nkinds, size_t max)
{
    char kind[64];
    kind_of(identifier, kind, sizeof kind);
    for (size_t i = 0; i < *nkinds; i++) {
        if (strcmp(kinds[i], kind) == 0) {
            counts[i]++;
            return;
        }
    }
    if (*nkinds < max) {
        memcpy(kinds[*nkinds], kind, sizeof kind);
        counts[(*nkinds)++] = 1;
    }
}

struct kind_tally {
    char (*kinds)[64];
    size_t *counts;
    size_t nkinds;
    size_t max;
};

static void
tally_identifier_cb(const char *identifier, void *ctx)
{
    struct kind_tally *t = ctx;
    count_kind_of(identifier, t->kinds, t->counts, &t->nkinds, t->max);
}

/* ---- profiles kept apart by an undone merge ---- */

/* The side of separation sep an identifier is on: 1 (a), 2 (b) or 0. */
static int
separation_side(json_t *sep, const char *identifier)
{
    static const char *const sides[] = {"a", "b"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(sep, sides[k]), i, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), identifier) == 0)
                return k + 1;
        }
    }
    return 0;
}

struct sides_ctx {
    json_t *sep;
    int sides; /* bit 1: holds an identifier of side a; bit 2: of side b */
};

static void
sides_cb(const char *identifier, void *ctx)
{
    struct sides_ctx *c = ctx;
    c->sides |= separation_side(c->sep, identifier);
}

static int
profile_sides(json_t *sep, const struct cdp_profile *p)
{
    struct sides_ctx c = {sep, 0};
    cdp_profile_each_identifier(p, sides_cb, &c);
    return c.sides;
}

/*
 * The merge whose undoing keeps two of these profiles apart (one holds an
 * identifier of one side only, another of the other side only), or 0.
 */
static json_int_t
kept_apart(struct cdp_ingest *ing, struct cdp_profile *profiles, int n)
{
    size_t i;
    json_t *sep;
    json_array_foreach(ing->separations, i, sep)
    {
        int seen = 0;
        for (int j = 0; j < n; j++) {
            int sides = profile_sides(sep, &profiles[j]);
            if (sides == 1 || sides == 2)
                seen |= sides;
        }
        if (seen == 3)
            return json_integer_value(json_object_get(sep, "merge"));
    }
    return 0;
}

/* The same for a new identifier joining profile p, or 0. */
static json_int_t
kept_apart_identifier(struct cdp_ingest *ing, const struct cdp_profile *p, const char *identifier)
{
    size_t i;
    json_t *sep;
    json_array_foreach(ing->separations, i, sep)
    {
        int side = separation_side(sep, identifier);
        if (side != 0 && profile_sides(sep, p) == 3 - side)
            return json_integer_value(json_object_get(sep, "merge"));
    }
    return 0;
}

/*
 * Checks the merge rules for folding profiles[0..n) and the event's new
 * identifiers into one profile: every kind held by any side, not only the
 * kinds the event carries.  Returns true when allowed; else writes why.
 */
static bool
merge_allowed(struct cdp_ingest *ing, struct cdp_profile *profiles, int n,
              const struct cdp_event *ev, const bool *mapped, char *why, size_t whysize)
{
    char kinds[64][64];
    size_t counts[64];
    struct kind_tally t = {kinds, counts, 0, 64};
    for (int j = 0; j < n; j++)
        cdp_profile_each_identifier(&profiles[j], tally_identifier_cb, &t);
    for (int i = 0; i < ev->identifiers_count; i++)
        if (!mapped[i])
            tally_identifier_cb(ev->identifiers[i], &t);
    for (size_t k = 0; k < t.nkinds; k++) {
        char probe[80];
        snprintf(probe, sizeof probe, "%s:", kinds[k]);
        int limit = limit_of(&ing->options->limits, probe);
        if (counts[k] > (size_t)limit) {
            snprintf(why, whysize, "would hold %zu %s identifiers (limit %d)", counts[k], kinds[k],
                     limit);
            return false;
        }
    }
    return true;
}

static int
merge_into(struct cdp_ingest *ing, struct cdp_profile *winner, struct cdp_profile *loser,
           const struct cdp_event *ev, const char *rule)
{
    json_t *entry = json_object();
    json_object_set_new(entry, "action", json_string("merge"));
    const char *decided = ev->merge ? json_string_value(json_object_get(ev->merge, "rule")) : NULL;
    json_object_set_new(entry, "rule", json_string(decided ? decided : rule));
    if (ev->merge)
        json_object_set_new(entry, "evidence", json_deep_copy(ev->merge));
    json_object_set_new(entry, "winner", id_json(&winner->id));
    json_object_set_new(entry, "loser", id_json(&loser->id));
    json_object_set_new(entry, "winner_identifiers", profile_identifiers_json(winner));
    json_object_set_new(entry, "loser_identifiers", profile_identifiers_json(loser));
    int rc = move_profile_data(ing, loser, &winner->id);
    if (rc == 0) {
        cdp_profile_merge(winner, loser, ing->rules);
        rc = recompute_from_events(ing, winner, true);
    }
    if (rc == 0)
        rc = mergelog_append(ing, entry, ev);
    else
        json_decref(entry);
    ing->stats.merges++;
    return rc;
}

static int
suppressed(struct cdp_ingest *ing, const struct cdp_event *ev, bool *hit)
{
    *hit = false;
    if (ing->suppression_empty)
        return 0;
    for (int i = 0; i < ev->identifiers_count && !*hit; i++) {
        unsigned char h[32];
        cdp_ingest_suppression_hash(ing->salt, ev->identifiers[i], h);
        MDB_val key = {32, h}, value;
        int rc = mdb_get(ing->txn, DBI(ing, CDP_DB_SUPPRESSION), &key, &value);
        if (rc == 0)
            *hit = true;
        else if (rc != MDB_NOTFOUND)
            return rc;
    }
    return 0;
}

/*
 * Sets the event's traits on the profile.  E-mail and phone traits are kept
 * in their normalised form when they are valid, so exports need not clean
 * them again.
 */
static void
apply_traits(struct cdp_profile *p, json_t *traits, const struct cdp_event *ev,
             const struct cdp_ingest_options *options, const struct cdp_survive *rules)
{
    const char *name;
    json_t *value;
    json_object_foreach(traits, name, value)
    {
        char text[CDP_IDENTIFIER_MAX];
        const char *why;
        if ((strcmp(name, "email") == 0 || strcmp(name, "phone") == 0) && json_is_string(value) &&
            cdp_identifier_normalize(name, json_string_value(value), options->event.country, text,
                                     sizeof text, &why)) {
            json_t *clean = json_string(strchr(text, ':') + 1);
            cdp_profile_set_trait(p, name, clean, ev->time, options->source,
                                  cdp_survive_rule_for(rules, name));
            json_decref(clean);
            continue;
        }
        cdp_profile_set_trait(p, name, value, ev->time, options->source,
                              cdp_survive_rule_for(rules, name));
    }
}

/* Sets the traits an event carries: identify traits, context.traits, a group's id. */
static void
event_traits(struct cdp_ingest *ing, struct cdp_profile *p, const struct cdp_event *ev,
             json_t *root)
{
    if (ev->type == CDP_EVENT_IDENTIFY && ev->traits)
        apply_traits(p, ev->traits, ev, ing->options, ing->rules);
    if (ev->context_traits)
        apply_traits(p, ev->context_traits, ev, ing->options, ing->rules);
    if (ev->type == CDP_EVENT_GROUP) {
        json_t *group = json_object_get(root, "groupId");
        if (json_is_string(group) || json_is_integer(group))
            cdp_profile_set_trait(p, "group_id", group, ev->time, ing->options->source,
                                  cdp_survive_rule_for(ing->rules, "group_id"));
    }
}

/* Writes the event record and its message record. */
static int
store_event(struct cdp_ingest *ing, const struct cdp_profile *p, const struct cdp_event *ev,
            enum cdp_counter counter, json_t *root, const char *raw, size_t rawlen,
            unsigned char key[CDP_EVENT_KEY_SIZE])
{
    char *dumped = NULL;
    if (raw == NULL || ev->message_generated) {
        /* Store the made-up messageId with the event, without changing root. */
        dumped = json_dumps(root, JSON_COMPACT);
        cdp_buf_reset(&ing->scratch);
        if (ev->message_generated) {
            cdp_buf_printf(&ing->scratch, "{\"messageId\":\"%s\"", ev->message_id);
            if (strcmp(dumped, "{}") != 0)
                cdp_buf_putc(&ing->scratch, ',');
            cdp_buf_puts(&ing->scratch, dumped + 1);
        } else {
            cdp_buf_puts(&ing->scratch, dumped);
        }
        free(dumped);
        dumped = cdp_xstrdup(ing->scratch.data);
        raw = dumped;
        rawlen = strlen(dumped);
    }
    /* A replay keeps what the record did not know unknown: a later one may be told it. */
    const struct cdp_event_options *eo = &ing->options->event;
    cdp_events_encode(&ing->record, ing->store->codec, ev->time, ev->type,
                      ev->time_from_import ? CDP_EVENT_UNTIMED : 0, ev->name, ing->options->source,
                      ing->options->event.country, !(eo->replay && eo->replay_unregioned),
                      eo->replay && eo->replay_counter < 0 ? -1 : (int)counter, ev->message_id, raw,
                      rawlen);
    free(dumped);
    cdp_events_key(key, &p->id, ev->time, &ev->message);
    MDB_val k = {CDP_EVENT_KEY_SIZE, key}, v = {ing->record.len, ing->record.data};
    int rc = mdb_put(ing->txn, DBI(ing, CDP_DB_EVENTS), &k, &v, 0);
    if (rc != 0)
        return rc;
    unsigned char msg[24];
    memcpy(msg, p->id.bytes, 16);
    memcpy(msg + 16, key + 16, 8);
    unsigned char msgkey[CDP_MESSAGE_KEY_SIZE];
    cdp_events_message_key(msgkey, ev->time_from_import, ev->time, &ev->message);
    MDB_val mk = {sizeof msgkey, msgkey}, mv = {sizeof msg, msg};
    return mdb_put(ing->txn, DBI(ing, CDP_DB_MESSAGES), &mk, &mv, 0);
}

/* For alias: the previous id is a known userId, else an anonymousId. */
static int
add_previous_id(struct cdp_ingest *ing, struct cdp_event *ev)
{
    char text[CDP_IDENTIFIER_MAX];
    const char *why;
    struct cdp_id found;
    if (!cdp_identifier_normalize("user", ev->previous_id, NULL, text, sizeof text, &why))
        return 0;
    int rc = lookup_identifier(ing, text, &found);
    if (rc == 0) {
        cdp_event_add_identifier(ev, "user", text + 5, CDP_STRENGTH_USER);
        return 0;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    cdp_event_add_identifier(ev, "anon", text + 5, CDP_STRENGTH_ANON);
    return 0;
}

/* A new, empty profile named by the event's identifier number which. */
static int
new_profile(struct cdp_ingest *ing, const struct cdp_event *ev, int which, struct cdp_profile *p)
{
    struct cdp_id id = cdp_hash_string(ev->identifiers[which]);
    bool found;
    int rc = load_profile(ing, &id, p, &found);
    if (rc != 0)
        return rc;
    if (found) {
        /* The id is taken by a profile that no longer holds this identifier. */
        cdp_profile_free(p);
        cdp_buf_reset(&ing->scratch);
        cdp_buf_printf(&ing->scratch, "%s\n%s", ev->identifiers[which], ev->message_id);
        id = cdp_hash_bytes(ing->scratch.data, ing->scratch.len);
        cdp_profile_init(p, &id);
    }
    ing->stats.profiles_created++;
    return 0;
}

/* ---- consent carried by events ---- */

/*
 * Segment's consent categories are named by each site; these common names
 * map to purposes of the vocabulary (a name that is a purpose maps to itself).
 */
static const struct {
    const char *category;
    const char *purpose;
} consent_aliases[] = {
    {"advertising", "ads_personalization"}, {"ads", "ads_personalization"},
    {"targeting", "ads_personalization"},   {"analytics", "analytics"},
    {"performance", "analytics"},           {"marketing", "email_marketing"},
    {"email", "email_marketing"},           {"sms", "sms_marketing"},
    {"personalization", "profiling"},       {"personalisation", "profiling"},
    {"sharing", "data_sharing"},
};

static const char *
consent_purpose(json_t *purposes, const char *category)
{
    if (cdp_consent_purpose_known(purposes, category))
        return category;
    for (size_t i = 0; i < sizeof consent_aliases / sizeof consent_aliases[0]; i++)
        if (strcasecmp(consent_aliases[i].category, category) == 0 &&
            cdp_consent_purpose_known(purposes, consent_aliases[i].purpose))
            return consent_aliases[i].purpose;
    return NULL;
}

/*
 * Writes the consent an event carries into the ledger of profile p, at the
 * event's time: Segment's context.consent.categoryPreferences (category ->
 * true/false) and cdp's context.consent.purposes (purpose -> status word,
 * or {"status", "expires", "channel", "proof"}).  An unknown purpose or an
 * unreadable status is a warning; the event lands all the same.
 */
static int
apply_consent(struct cdp_ingest *ing, const struct cdp_profile *p, const struct cdp_event *ev,
              json_t *root)
{
    json_t *consent = json_object_get(json_object_get(root, "context"), "consent");
    if (!json_is_object(consent))
        return 0;
    const char *groups[] = {"categoryPreferences", "purposes"};
    for (int g = 0; g < 2; g++) {
        json_t *prefs = json_object_get(consent, groups[g]);
        const char *name;
        json_t *v;
        json_object_foreach(prefs, name, v)
        {
            const char *purpose = consent_purpose(ing->purposes, name);
            if (purpose == NULL) {
                cdp_buf_printf(&ing->warnings,
                               "consent for '%s' ignored: not a purpose (see cdp-consent "
                               "--purposes)\n",
                               name);
                ing->stats.warnings++;
                continue;
            }
            struct cdp_consent_record r;
            memset(&r, 0, sizeof r);
            snprintf(r.purpose, sizeof r.purpose, "%s", purpose);
            r.time = ev->time;
            r.expires = CDP_TIME_NONE;
            r.source = ing->options->source;
            r.proof = ev->message_generated ? NULL : ev->message_id;
            r.recorded = ing->now;
            json_t *status = json_is_object(v) ? json_object_get(v, "status") : v;
            bool ok;
            if (json_is_boolean(status)) {
                r.status = json_is_true(status) ? CDP_CONSENT_GRANTED : CDP_CONSENT_DENIED;
                ok = true;
            } else {
                ok = json_is_string(status) &&
                     cdp_consent_parse_status(json_string_value(status), &r.status);
            }
            if (ok && json_is_object(v)) {
                const char *expires = json_string_value(json_object_get(v, "expires"));
                if (expires && *expires && !cdp_time_parse(expires, strlen(expires), &r.expires))
                    ok = false;
                r.channel = json_string_value(json_object_get(v, "channel"));
                const char *proof = json_string_value(json_object_get(v, "proof"));
                if (proof && *proof)
                    r.proof = proof;
            }
            if (!ok) {
                cdp_buf_printf(&ing->warnings,
                               "consent for '%s' ignored: unreadable status or expiry\n", name);
                ing->stats.warnings++;
                continue;
            }
            int rc = cdp_consent_append(ing->store, ing->txn, &p->id, &r);
            if (rc != 0)
                return rc;
            ing->consent_records++;
        }
    }
    return 0;
}

int
cdp_ingest_event(struct cdp_ingest *ing, json_t *root, const char *raw, size_t rawlen,
                 enum cdp_ingest_result *result, char *reason, size_t reasonsize)
{
    struct cdp_event ev;
    struct cdp_profile profiles[MAX_PROFILES];
    int nprofiles = 0, rc, target = -1;
    struct cdp_id owner[CDP_EVENT_MAX_IDENTIFIERS];
    bool mapped[CDP_EVENT_MAX_IDENTIFIERS] = {false};
    MDB_val key, value;

    ing->stats.read++;
    cdp_buf_reset(&ing->warnings);
    enum cdp_event_status status =
        cdp_event_read(&ev, root, &ing->options->event, ing->now, &ing->warnings, reason,
                       reasonsize);
    for (size_t i = 0; i < ing->warnings.len; i++)
        ing->stats.warnings += ing->warnings.data[i] == '\n';
    if (status != CDP_EVENT_OK) {
        ing->stats.rejected++;
        *result = CDP_INGEST_REJECTED;
        return 0;
    }

    unsigned char msgkey[CDP_MESSAGE_KEY_SIZE];
    cdp_events_message_key(msgkey, ev.time_from_import, ev.time, &ev.message);
    key.mv_size = sizeof msgkey;
    key.mv_data = msgkey;
    rc = mdb_get(ing->txn, DBI(ing, CDP_DB_MESSAGES), &key, &value);
    if (rc == 0) {
        ing->stats.duplicates++;
        *result = CDP_INGEST_DUPLICATE;
        return 0;
    }
    if (rc != MDB_NOTFOUND)
        return rc;

    if (ev.previous_id != NULL && (rc = add_previous_id(ing, &ev)) != 0)
        return rc;
    bool hit;
    if ((rc = suppressed(ing, &ev, &hit)) != 0)
        return rc;
    if (hit) {
        ing->stats.suppressed++;
        *result = CDP_INGEST_SUPPRESSED;
        return 0;
    }

    /* Which profiles do the identifiers name? */
    for (int i = 0; i < ev.identifiers_count; i++) {
        rc = lookup_identifier(ing, ev.identifiers[i], &owner[i]);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            goto out;
        mapped[i] = true;
        int j;
        for (j = 0; j < nprofiles; j++)
            if (cdp_hash_compare(&profiles[j].id, &owner[i]) == 0)
                break;
        if (j == nprofiles) {
            bool found;
            if ((rc = load_profile(ing, &owner[i], &profiles[nprofiles], &found)) != 0)
                goto out;
            nprofiles++;
            if (!found) {
                rc = MDB_CORRUPTED;
                goto out;
            }
        }
    }

    rc = 0;
    int strongest = cdp_event_strongest(&ev);
    if (nprofiles == 0) {
        if ((rc = new_profile(ing, &ev, strongest, &profiles[0])) != 0)
            goto out;
        nprofiles = 1;
        target = 0;
    } else if (nprofiles == 1) {
        target = 0;
    } else {
        char why[160];
        bool forced = ev.merge && json_is_true(json_object_get(ev.merge, "force"));
        json_int_t apart = forced || ing->separations == NULL
                               ? 0
                               : kept_apart(ing, profiles, nprofiles);
        if (apart != 0)
            snprintf(why, sizeof why, "kept apart since merge %" JSON_INTEGER_FORMAT " was undone",
                     apart);
        if (apart == 0 &&
            (forced || merge_allowed(ing, profiles, nprofiles, &ev, mapped, why, sizeof why))) {
            target = 0;
            for (int j = 1; j < nprofiles; j++)
                if (cdp_profile_before_anchor(&profiles[target], profiles[j].head.anchor_time,
                                              profiles[j].head.anchor_message))
                    target = j;
            for (int j = 0; j < nprofiles && rc == 0; j++)
                if (j != target)
                    rc = merge_into(ing, &profiles[target], &profiles[j], &ev,
                                    ev.type == CDP_EVENT_ALIAS ? "alias" : "shared identifier");
            if (rc != 0)
                goto out;
        } else {
            /* Refused: the event goes to the profile of its strongest known identifier. */
            int best = -1;
            for (int i = 0; i < ev.identifiers_count; i++)
                if (mapped[i] && (best < 0 || ev.strength[i] > ev.strength[best]))
                    best = i;
            for (int j = 0; j < nprofiles; j++)
                if (cdp_hash_compare(&profiles[j].id, &owner[best]) == 0)
                    target = j;
            json_t *entry = json_object(), *list = json_array();
            json_object_set_new(entry, "action", json_string("refused"));
            json_object_set_new(entry, "reason", json_string(why));
            for (int j = 0; j < nprofiles; j++)
                json_array_append_new(list, id_json(&profiles[j].id));
            json_object_set_new(entry, "profiles", list);
            json_object_set_new(entry, "target", id_json(&profiles[target].id));
            if ((rc = mergelog_append(ing, entry, &ev)) != 0)
                goto out;
            ing->stats.merges_refused++;
            cdp_buf_printf(&ing->warnings, "merge refused: %s\n", why);
            ing->stats.warnings++;
        }
    }
    /*
     * The event's strongest identifier is new, and the profile its other
     * identifiers lead to cannot take it (a second userId): the event starts
     * a profile of its own instead of landing with somebody else's.
     */
    if (!mapped[strongest] && nprofiles < MAX_PROFILES &&
        !cdp_profile_has_identifier(&profiles[target], ev.identifiers[strongest])) {
        char kind[64];
        kind_of(ev.identifiers[strongest], kind, sizeof kind);
        int limit = limit_of(&ing->options->limits, ev.identifiers[strongest]);
        json_int_t apart = ing->separations == NULL ? 0
                                                    : kept_apart_identifier(ing, &profiles[target],
                                                                            ev.identifiers[strongest]);
        if (apart != 0 || cdp_profile_count_kind(&profiles[target], kind) >= (size_t)limit) {
            char why[160];
            if (apart != 0)
                snprintf(why, sizeof why,
                         "%s kept apart from profile since merge %" JSON_INTEGER_FORMAT
                         " was undone",
                         ev.identifiers[strongest], apart);
            else
                snprintf(why, sizeof why, "%s would be a second %s identifier of profile",
                         ev.identifiers[strongest], kind);
            json_t *entry = json_object(), *list = json_array();
            json_object_set_new(entry, "action", json_string("refused"));
            json_object_set_new(entry, "reason", json_string(why));
            json_array_append_new(list, id_json(&profiles[target].id));
            json_object_set_new(entry, "profiles", list);
            if ((rc = new_profile(ing, &ev, strongest, &profiles[nprofiles])) != 0)
                goto out;
            target = nprofiles++;
            json_object_set_new(entry, "target", id_json(&profiles[target].id));
            if ((rc = mergelog_append(ing, entry, &ev)) != 0)
                goto out;
            ing->stats.merges_refused++;
            ing->stats.warnings++;
            cdp_buf_printf(&ing->warnings, "merge refused: %s\n", why);
        }
    }
    struct cdp_profile *p = &profiles[target];

    /* New identifiers join the profile, within the limits. */
    for (int i = 0; i < ev.identifiers_count; i++) {
        if (mapped[i] || cdp_profile_has_identifier(p, ev.identifiers[i]))
            continue;
        if (ing->separations != NULL && kept_apart_identifier(ing, p, ev.identifiers[i]) != 0) {
            cdp_buf_printf(&ing->warnings,
                           "identifier %s not attached: kept apart from the profile by an "
                           "undone merge\n",
                           ev.identifiers[i]);
            ing->stats.warnings++;
            continue;
        }
        char kind[64];
        kind_of(ev.identifiers[i], kind, sizeof kind);
        int limit = limit_of(&ing->options->limits, ev.identifiers[i]);
        if (cdp_profile_count_kind(p, kind) >= (size_t)limit) {
            cdp_buf_printf(&ing->warnings,
                           "identifier %s not attached: the profile holds %d %s "
                           "identifiers already (limit)\n",
                           ev.identifiers[i], limit, kind);
            ing->stats.warnings++;
            continue;
        }
        cdp_profile_add_identifier(p, ev.identifiers[i]);
        if ((rc = put_identifier(ing, ev.identifiers[i], &p->id)) != 0)
            goto out;
    }

    /*
     * The event is the profile's earliest: the profile takes the id it names.
     * (After the identifiers are attached, so the name is one the profile holds.)
     */
    if (cdp_profile_before_anchor(p, ev.time, ev.message.bytes)) {
        /* The strongest of the event's identifiers that the profile holds names it. */
        int named = -1;
        for (int i = 0; i < ev.identifiers_count; i++)
            if (cdp_profile_has_identifier(p, ev.identifiers[i]) &&
                (named < 0 || ev.strength[i] > ev.strength[named] ||
                 (ev.strength[i] == ev.strength[named] &&
                  strcmp(ev.identifiers[i], ev.identifiers[named]) < 0)))
                named = i;
        struct cdp_id id = cdp_hash_string(ev.identifiers[named < 0 ? strongest : named]);
        p->head.anchor_time = ev.time;
        memcpy(p->head.anchor_message, ev.message.bytes, 16);
        if (p->head.events_count > 0 && cdp_hash_compare(&id, &p->id) != 0) {
            key.mv_size = 16;
            key.mv_data = id.bytes;
            rc = mdb_get(ing->txn, DBI(ing, CDP_DB_PROFILES), &key, &value);
            if (rc == MDB_NOTFOUND) {
                json_t *entry = json_object();
                json_object_set_new(entry, "action", json_string("rename"));
                json_object_set_new(entry, "from", id_json(&p->id));
                json_object_set_new(entry, "to", id_json(&id));
                if ((rc = move_profile_data(ing, p, &id)) != 0 ||
                    (rc = mergelog_append(ing, entry, &ev)) != 0)
                    goto out;
                p->id = id;
            } else if (rc != 0) {
                goto out;
            }
            rc = 0;
        }
    }

    /* Traits and computed traits. */
    struct cdp_profile_head *h = &p->head;
    /* cdp-merge's record of a merge is kept with the events, but the person did nothing. */
    if (!cdp_ingest_link_event(ing->options->source, ev.message_id, ev.merge != NULL)) {
        h->events_count++;
        if (h->first_seen == CDP_TIME_NONE || ev.time < h->first_seen)
            h->first_seen = ev.time;
        if (ev.time > h->last_seen)
            h->last_seen = ev.time;
    }
    event_traits(ing, p, &ev, root);
    if (ev.type == CDP_EVENT_PAGE || ev.type == CDP_EVENT_SCREEN)
        h->page_views++;
    const struct cdp_event_options *eo = &ing->options->event;
    enum cdp_counter counter = ev.type != CDP_EVENT_TRACK ? CDP_COUNTER_NONE
                               : eo->replay && eo->replay_counter >= 0
                                   ? (enum cdp_counter)eo->replay_counter
                                   : cdp_computed_classify(ing->options->counters, ev.name);
    if (counter == CDP_COUNTER_ORDER)
        rc = apply_order(ing, p, &ev);
    else if (counter == CDP_COUNTER_REFUND)
        rc = apply_refund(ing, p, &ev);
    else
        cdp_computed_count(h, counter);
    if (rc != 0)
        goto out;

    unsigned char evkey[CDP_EVENT_KEY_SIZE];
    cdp_events_key(evkey, &p->id, ev.time, &ev.message);
    if (is_activity(ev.type) && (rc = update_sessions(ing, p, evkey)) != 0)
        goto out;
    if ((rc = store_event(ing, p, &ev, counter, root, raw, rawlen, evkey)) != 0)
        goto out;
    if ((rc = apply_consent(ing, p, &ev, root)) != 0)
        goto out;
    ing->last_profile = p->id;
    if ((counter == CDP_COUNTER_ORDER || counter == CDP_COUNTER_CHECKOUT) &&
        (rc = recompute_from_events(ing, p, false)) != 0)
        goto out;
    if ((rc = save_profile(ing, p)) != 0)
        goto out;
    if (ev.time_from_import)
        ing->stats.untimed++;
    ing->stats.landed++;
    *result = CDP_INGEST_LANDED;

out:
    for (int j = 0; j < nprofiles; j++)
        cdp_profile_free(&profiles[j]);
    return rc;
}

bool
cdp_ingest_link_event(const char *source, const char *message_id, bool has_merge)
{
    return has_merge && source && strcmp(source, "cdp-merge") == 0 && message_id &&
           strncmp(message_id, "cdp-merge-", 10) == 0;
}

/* ---- traits again from the stored events ---- */

struct retrait_ctx {
    struct cdp_ingest *ing;
    struct cdp_profile *p;
    struct cdp_buf text;
    char source[256];
    int rc;
};

static int
retrait_cb(const struct cdp_stored_event *se, void *ctx)
{
    struct retrait_ctx *c = ctx;
    size_t len;
    const char *text = cdp_events_text(c->ing->store, se, &c->text, &len);
    if (text == NULL)
        return 0; /* unreadable: counted by the programs that read events */
    json_t *root = cdp_event_parse(text, len);
    if (root == NULL)
        return 0;
    struct cdp_event ev;
    char reason[128];
    struct cdp_ingest_options o = *c->ing->options;
    const struct cdp_ingest_options *saved = c->ing->options;
    size_t n = se->source_len < sizeof c->source ? se->source_len : sizeof c->source - 1;
    memcpy(c->source, se->source, n);
    c->source[n] = '\0';
    o.source = c->source;
    if (se->regioned)
        o.event.country = se->country[0] ? se->country : NULL;
    o.event.replay = true;
    o.event.replay_time = se->time;
    o.event.replay_untimed = se->flags & CDP_EVENT_UNTIMED;
    cdp_buf_reset(&c->ing->warnings);
    if (cdp_event_read(&ev, root, &o.event, se->time, &c->ing->warnings, reason, sizeof reason) ==
        CDP_EVENT_OK) {
        ev.time = se->time;
        c->ing->options = &o;
        event_traits(c->ing, c->p, &ev, root);
        c->ing->options = saved;
    }
    cdp_buf_reset(&c->ing->warnings);
    json_decref(root);
    return 0;
}

int
cdp_ingest_retrait(struct cdp_ingest *ing, struct cdp_profile *p)
{
    struct retrait_ctx c = {.ing = ing, .p = p};
    cdp_profile_load(p);
    json_object_clear(p->traits);
    int rc = cdp_events_each(ing->store, ing->txn, &p->id, retrait_cb, &c);
    cdp_buf_free(&c.text);
    return rc;
}
