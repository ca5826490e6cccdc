/*
 * rebuild.c - profiles built again from their stored events.
 */
#include "rebuild.h"
#include "consent.h"
#include "events.h"
#include "predicted.h"
#include "profile.h"
#include "timeparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DBI(ing, db) ((ing)->store->dbi[db])

/* One event to replay: where it sorts, and its key in the events database. */
struct pending {
    unsigned char order[CDP_MESSAGE_KEY_SIZE];
    unsigned char key[CDP_EVENT_KEY_SIZE];
};

struct replay {
    struct cdp_ingest *ing;
    MDB_txn *old;
    struct cdp_ingest_options options; /* the engine's, with each event's source */
    char source[256];
    const char *fallback_country; /* for events stored before their region was */
    struct cdp_buf text;
    json_t *messages; /* message ids replayed, when not all of them are */
    const struct cdp_id *drop; /* the link event an undo deletes, or NULL */
    struct cdp_rebuild_stats *st;
};

/*
 * True when the event's message id is one ingest made up (the hash of the
 * event without it); then *bare is the event without it, to be named again.
 */
static bool
made_up_id(json_t *root, const struct cdp_stored_event *se, json_t **bare)
{
    *bare = NULL;
    if (se->message_len != 4 + 32 || memcmp(se->message_id, "cdp-", 4) != 0)
        return false;
    json_t *copy = json_copy(root);
    json_object_del(copy, "messageId");
    char *canonical = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    struct cdp_id h = cdp_hash_string(canonical ? canonical : "");
    free(canonical);
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(&h, hex);
    if (memcmp(hex, se->message_id + 4, 32) != 0) {
        json_decref(copy);
        return false;
    }
    *bare = copy;
    return true;
}

static int
replay_event(struct replay *r, const struct cdp_stored_event *se)
{
    struct cdp_ingest *ing = r->ing;
    size_t len;
    const char *text = cdp_events_text(ing->store, se, &r->text, &len);
    json_t *root = NULL, *bare = NULL;
    if (text != NULL) {
        bool maybe_made = se->message_len == 36 && memcmp(se->message_id, "cdp-", 4) == 0;
        root = maybe_made ? json_loadb(text, len, 0, NULL) : cdp_event_parse(text, len);
    }
    r->st->events++;
    if (root == NULL) {
        r->st->not_replayed++;
        cdp_buf_printf(&r->st->warnings, "event %.*s cannot be replayed: its stored text cannot be read\n",
                       (int)se->message_len, se->message_id);
        return CDP_REBUILD_UNREPLAYABLE;
    }
    if (made_up_id(root, se, &bare)) {
        json_decref(root);
        root = bare;
        text = NULL;
        len = 0;
    }
    size_t n = se->source_len < sizeof r->source ? se->source_len : sizeof r->source - 1;
    memcpy(r->source, se->source, n);
    r->source[n] = '\0';
    r->options.event.country =
        se->regioned ? (se->country[0] ? se->country : NULL) : r->fallback_country;
    r->options.event.replay = true;
    r->options.event.replay_time = se->time;
    r->options.event.replay_untimed = se->flags & CDP_EVENT_UNTIMED;
    r->options.event.replay_counter = se->counter;
    r->options.event.replay_unregioned = !se->regioned;
    if (!se->regioned)
        r->st->unregioned++;
    enum cdp_ingest_result result;
    char reason[256];
    int rc = cdp_ingest_event(ing, root, text, len, &result, reason, sizeof reason);
    r->options.event.replay = false;
    cdp_buf_reset(&ing->warnings);
    if (rc == 0 && result == CDP_INGEST_SUPPRESSED) {
        /* It names an erased person: it would have been dropped at import. */
        r->st->not_replayed++;
        cdp_buf_printf(&r->st->warnings,
                       "event %.*s dropped: an identifier is on the suppression list\n",
                       (int)se->message_len, se->message_id);
    } else if (rc == 0 && result != CDP_INGEST_LANDED) {
        /* Never lose a stored event: the caller abandons the transaction. */
        r->st->not_replayed++;
        cdp_buf_printf(&r->st->warnings, "event %.*s cannot be replayed: %s\n",
                       (int)se->message_len, se->message_id,
                       result == CDP_INGEST_DUPLICATE ? "a duplicate" : reason);
        rc = CDP_REBUILD_UNREPLAYABLE;
    }
    json_decref(root);
    return rc;
}

/* Replays the event whose key in the events database (of the old state) is key. */
static int
replay_key(struct replay *r, const unsigned char key[CDP_EVENT_KEY_SIZE])
{
    MDB_val k = {CDP_EVENT_KEY_SIZE, (void *)key}, v;
    int rc = mdb_get(r->old, DBI(r->ing, CDP_DB_EVENTS), &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
    struct cdp_stored_event se;
    if (!cdp_events_decode(&k, &v, &se))
        return MDB_CORRUPTED;
    if (r->messages) {
        char id[512];
        size_t n = se.message_len < sizeof id ? se.message_len : sizeof id - 1;
        memcpy(id, se.message_id, n);
        id[n] = '\0';
        json_object_set_new(r->messages, id, json_true());
    }
    json_t *keep = r->messages;
    r->messages = NULL;
    rc = replay_event(r, &se);
    r->messages = keep;
    return rc;
}

static void
replay_init(struct replay *r, struct cdp_ingest *ing, MDB_txn *old, struct cdp_rebuild_stats *st)
{
    memset(r, 0, sizeof *r);
    r->ing = ing;
    r->old = old;
    r->options = *ing->options;
    r->options.source = r->source;
    r->fallback_country = ing->options->event.country;
    r->st = st;
}

/* ---- consent records no event gives ---- */

struct targets {
    struct cdp_id ids[64];
    size_t n;
};

/* The profiles that now hold the identifiers of old profile id. */
static int
new_homes(struct replay *r, const struct cdp_id *id, struct targets *t)
{
    struct cdp_ingest *ing = r->ing;
    t->n = 0;
    MDB_val k = {16, (void *)id->bytes}, v;
    int rc = mdb_get(r->old, DBI(ing, CDP_DB_PROFILES), &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    struct cdp_profile_record rec;
    if (!cdp_profile_record_read(&rec, v.mv_data, v.mv_size))
        return 0;
    const char *s = rec.identifiers, *end = s + rec.identifiers_len;
    while (s < end) {
        size_t len = strlen(s);
        MDB_val ik = {len, (void *)s}, iv;
        rc = mdb_get(ing->txn, DBI(ing, CDP_DB_IDENTIFIERS), &ik, &iv);
        if (rc == 0 && iv.mv_size == 16) {
            size_t j;
            for (j = 0; j < t->n; j++)
                if (memcmp(t->ids[j].bytes, iv.mv_data, 16) == 0)
                    break;
            if (j == t->n && t->n < sizeof t->ids / sizeof t->ids[0])
                memcpy(t->ids[t->n++].bytes, iv.mv_data, 16);
        } else if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }
        s += len + 1;
    }
    return 0;
}

/*
 * The profile that now holds the identifier a consent record names as its
 * subject: true with *home set; false when it names none or none holds it
 * (or on an LMDB error, left in *rc).
 */
static bool
subject_home(struct replay *r, const MDB_val *value, struct cdp_id *home, int *rc)
{
    *rc = 0;
    if (value->mv_size <= 9)
        return 0;
    json_t *details = json_loadb((const char *)value->mv_data + 9, value->mv_size - 9, 0, NULL);
    const char *subject = json_string_value(json_object_get(details, "subject"));
    bool found = false;
    if (subject != NULL) {
        MDB_val k = {strlen(subject), (void *)subject}, v;
        *rc = mdb_get(r->ing->txn, DBI(r->ing, CDP_DB_IDENTIFIERS), &k, &v);
        if (*rc == 0 && v.mv_size == 16) {
            memcpy(home->bytes, v.mv_data, 16);
            found = true;
        }
        if (*rc == MDB_NOTFOUND)
            *rc = 0;
    }
    json_decref(details);
    return found;
}

/*
 * Carries the consent records of old profiles to their new homes: all of
 * the old state's records when only is NULL, else those of only[0..n).
 * A record the replay wrote again is written over, so it keeps the time it
 * was first recorded.
 */
static int
carry_consent(struct replay *r, const struct cdp_id *only, size_t n)
{
    struct cdp_ingest *ing = r->ing;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(r->old, DBI(ing, CDP_DB_CONSENT), &cursor);
    if (rc != 0)
        return rc;
    struct cdp_id current;
    struct targets t = {.n = 0};
    bool have = false;
    struct cdp_buf key = CDP_BUF_INIT;
    for (size_t i = 0; i < (only ? n : 1) && rc == 0; i++) {
        MDB_val k = {only ? 16 : 0, only ? (void *)only[i].bytes : NULL}, v;
        rc = mdb_cursor_get(cursor, &k, &v, only ? MDB_SET_RANGE : MDB_FIRST);
        while (rc == 0 && k.mv_size > 16 && (!only || memcmp(k.mv_data, only[i].bytes, 16) == 0)) {
            if (!have || memcmp(current.bytes, k.mv_data, 16) != 0) {
                memcpy(current.bytes, k.mv_data, 16);
                have = true;
                if ((rc = new_homes(r, &current, &t)) != 0)
                    break;
            }
            bool grant = v.mv_size > 0 && ((const unsigned char *)v.mv_data)[0] ==
                                               (unsigned char)CDP_CONSENT_GRANTED;
            /*
             * A record an event gave is there again: it keeps the time it
             * was first recorded, and goes nowhere else.
             */
            bool again = false;
            for (size_t j = 0; j < t.n && rc == 0; j++) {
                cdp_buf_reset(&key);
                cdp_buf_append(&key, t.ids[j].bytes, 16);
                cdp_buf_append(&key, (const char *)k.mv_data + 16, k.mv_size - 16);
                MDB_val nk = {key.len, key.data}, cur, nv = v;
                rc = mdb_get(ing->txn, DBI(ing, CDP_DB_CONSENT), &nk, &cur);
                if (rc == 0) {
                    again = true;
                    rc = mdb_put(ing->txn, DBI(ing, CDP_DB_CONSENT), &nk, &nv, 0);
                }
                if (rc == MDB_NOTFOUND)
                    rc = 0;
            }
            if (rc != 0)
                break;
            if (again) {
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
                continue;
            }
            /* A record written for one identifier goes where that identifier is. */
            struct cdp_id home;
            bool at = subject_home(r, &v, &home, &rc);
            if (rc != 0)
                break;
            size_t count = at ? 1 : t.n;
            const struct cdp_id *to = at ? &home : t.ids;
            if (grant && count > 1)
                r->st->grants_dropped++;
            if (count == 0)
                r->st->consent_homeless++;
            for (size_t j = 0; j < count && !(grant && count > 1); j++) {
                cdp_buf_reset(&key);
                cdp_buf_append(&key, to[j].bytes, 16);
                cdp_buf_append(&key, (const char *)k.mv_data + 16, k.mv_size - 16);
                MDB_val nk = {key.len, key.data}, nv = v;
                if ((rc = mdb_put(ing->txn, DBI(ing, CDP_DB_CONSENT), &nk, &nv, 0)) != 0)
                    break;
                r->st->consent_carried++;
            }
            if (rc == 0)
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
        }
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    cdp_buf_free(&key);
    mdb_cursor_close(cursor);
    return rc;
}

/* ---- the quarantine after a replay ---- */

int
cdp_mergelog_each(struct cdp_store *store, MDB_txn *txn,
                  int (*fn)(uint64_t seq, const char *action, json_t *entry, void *ctx), void *ctx)
{
    MDB_cursor *cursor;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_MERGELOG], &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        json_t *entry = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        const char *action = json_string_value(json_object_get(entry, "action"));
        rc = fn(k.mv_size == 8 ? cdp_store_get_be64(k.mv_data) : 0, action ? action : "", entry,
                ctx);
        json_decref(entry);
        if (rc != 0)
            break;
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
cdp_rebuild_log(struct cdp_ingest *ing, json_t *entry, uint64_t *seq)
{
    uint64_t next;
    int rc = cdp_store_next_sequence(ing->store, ing->txn, CDP_DB_MERGELOG, &next);
    if (rc != 0) {
        json_decref(entry);
        return rc;
    }
    char when[40];
    cdp_time_format(ing->now, when, sizeof when);
    json_object_set_new(entry, "seq", json_integer((json_int_t)next));
    json_object_set_new(entry, "recorded", json_string(when));
    if (ing->replay != 0)
        json_object_set_new(entry, "replay", json_integer((json_int_t)ing->replay));
    char *text = json_dumps(entry, JSON_COMPACT);
    json_decref(entry);
    unsigned char k8[8];
    cdp_store_put_be64(k8, next);
    MDB_val k = {8, k8}, v = {strlen(text), text};
    rc = mdb_put(ing->txn, DBI(ing, CDP_DB_MERGELOG), &k, &v, MDB_APPEND);
    free(text);
    if (rc == 0 && seq != NULL)
        *seq = next;
    return rc;
}

int
cdp_rebuild_settle(struct cdp_ingest *ing, uint64_t quarantine, const char *decision)
{
    return cdp_rebuild_log(ing,
                           json_pack("{s:s,s:I,s:s}", "action", "settled", "quarantine",
                                     (json_int_t)quarantine, "decision", decision),
                           NULL);
}

/*
 * Refusals open before the replay whose events were replayed are settled
 * as "replayed" (the replay's own refusal, if any, stands for them now);
 * the replay's refusals of events whose refusal was settled before are
 * settled the same way again.  first is the first seq the replay wrote.
 */
struct settle_scan {
    const struct replay *r;
    uint64_t first;    /* the first seq the replay wrote */
    json_t *open;      /* seq -> message id of an open refusal before */
    json_t *refused;   /* seq -> message id of every refusal before */
    json_t *decided;   /* message id -> decision, for refusals settled before */
    json_t *again;     /* [seq, message id] refusals of the replay */
    json_t *approval;  /* seq of a refusal -> message id of the link approving it */
};

static int
settle_scan_cb(uint64_t seq, const char *action, json_t *entry, void *ctx)
{
    struct settle_scan *c = ctx;
    const char *message = json_string_value(json_object_get(entry, "message_id"));
    json_t *evidence = json_object_get(entry, "evidence");
    char key[32];
    if (strcmp(action, "refused") == 0 && message) {
        snprintf(key, sizeof key, "%llu", (unsigned long long)seq);
        if (seq < c->first) {
            json_object_set_new(c->open, key, json_string(message));
            json_object_set_new(c->refused, key, json_string(message));
        } else {
            json_array_append_new(c->again, json_pack("[I,s]", (json_int_t)seq, message));
        }
    } else if (strcmp(action, "merge") == 0 && message &&
               json_is_integer(json_object_get(evidence, "quarantine"))) {
        snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(evidence, "quarantine")));
        json_object_set_new(c->approval, key, json_string(message));
    } else if (strcmp(action, "settled") == 0 && seq < c->first) {
        snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(entry, "quarantine")));
        json_t *m = json_object_get(c->refused, key);
        const char *decision = json_string_value(json_object_get(entry, "decision"));
        /* An approval whose link the undo deletes no longer stands. */
        const char *link = json_string_value(json_object_get(c->approval, key));
        struct cdp_id h = cdp_hash_string(link ? link : "");
        bool undone = c->r->drop && link && cdp_hash_compare(&h, c->r->drop) == 0 && decision &&
                      strcmp(decision, "approved") == 0;
        if (m && decision && strcmp(decision, "replayed") != 0 && !undone)
            json_object_set_new(c->decided, json_string_value(m), json_string(decision));
        json_object_del(c->open, key);
    }
    return 0;
}

static int
settle_quarantine(struct replay *r, uint64_t first)
{
    struct cdp_ingest *ing = r->ing;
    struct settle_scan c = {r,           first,        json_object(), json_object(),
                            json_object(), json_array(), json_object()};
    json_t *open = c.open, *decided = c.decided, *again = c.again;
    int rc = cdp_mergelog_each(ing->store, ing->txn, settle_scan_cb, &c);
    if (rc != 0)
        goto out;
    const char *key;
    json_t *m;
    json_object_foreach(open, key, m)
    {
        if (r->messages == NULL || json_object_get(r->messages, json_string_value(m))) {
            if ((rc = cdp_rebuild_settle(ing, strtoull(key, NULL, 10), "replayed")) != 0)
                goto out;
            r->st->settled++;
        }
    }
    size_t i;
    json_t *pair;
    json_array_foreach(again, i, pair)
    {
        json_t *d = json_object_get(decided, json_string_value(json_array_get(pair, 1)));
        if (d == NULL)
            continue;
        if ((rc = cdp_rebuild_settle(ing, (uint64_t)json_integer_value(json_array_get(pair, 0)),
                                     json_string_value(d))) != 0)
            goto out;
        r->st->settled++;
    }
out:
    json_decref(c.open);
    json_decref(c.refused);
    json_decref(c.decided);
    json_decref(c.again);
    json_decref(c.approval);
    return rc;
}

/* ---- the order of replay ---- */

static int
compare_pending(const void *a, const void *b)
{
    return memcmp(((const struct pending *)a)->order, ((const struct pending *)b)->order,
                  CDP_MESSAGE_KEY_SIZE);
}

struct collect {
    struct pending *list;
    size_t n, cap;
    const struct cdp_id *drop;
};

static void
pending_add(struct collect *c, const unsigned char order[CDP_MESSAGE_KEY_SIZE],
            const unsigned char key[CDP_EVENT_KEY_SIZE])
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->list = cdp_xrealloc(c->list, c->cap * sizeof *c->list);
    }
    memcpy(c->list[c->n].order, order, CDP_MESSAGE_KEY_SIZE);
    memcpy(c->list[c->n].key, key, CDP_EVENT_KEY_SIZE);
    c->n++;
}

/* Collects a profile's events in the order of replay: by time (stored time for untimed), hash. */
static int
collect_cb(const struct cdp_stored_event *se, void *ctx)
{
    struct collect *c = ctx;
    unsigned char key[CDP_EVENT_KEY_SIZE], order[CDP_MESSAGE_KEY_SIZE];
    cdp_events_key(key, &se->profile, se->time, &se->message);
    if (c->drop && cdp_hash_compare(&se->message, c->drop) == 0)
        return 0;
    cdp_events_message_key(order, false, se->time, &se->message);
    pending_add(c, order, key);
    return 0;
}

/* ---- the whole store ---- */

static int
next_seq(struct cdp_ingest *ing, uint64_t *seq)
{
    return cdp_store_next_sequence(ing->store, ing->txn, CDP_DB_MERGELOG, seq);
}

/* Deletes the predictions of profiles that are no more. */
static int
prune_predictions(struct cdp_ingest *ing)
{
    if (ing->store->absent[CDP_DB_PREDICTIONS])
        return 0;
    MDB_cursor *cursor;
    MDB_val k, v, pv;
    int rc = mdb_cursor_open(ing->txn, DBI(ing, CDP_DB_PREDICTIONS), &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        int got = mdb_get(ing->txn, DBI(ing, CDP_DB_PROFILES), &k, &pv);
        if (got == MDB_NOTFOUND)
            rc = mdb_cursor_del(cursor, 0);
        else if (got != 0)
            rc = got;
        if (rc != 0)
            break;
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
cdp_rebuild_all(struct cdp_ingest *ing, MDB_txn *old, struct cdp_rebuild_stats *st)
{
    struct replay r;
    replay_init(&r, ing, old, st);
    const struct cdp_ingest_options *saved = ing->options;
    ing->options = &r.options;
    MDB_stat ms;
    uint64_t first = 0, merges = ing->stats.merges, refused = ing->stats.merges_refused;
    MDB_cursor *cursor = NULL;
    int rc = mdb_stat(old, DBI(ing, CDP_DB_PROFILES), &ms);
    if (rc != 0)
        goto out;
    st->profiles_before = ms.ms_entries;
    static const enum cdp_db derived[] = {CDP_DB_PROFILES, CDP_DB_IDENTIFIERS, CDP_DB_EVENTS,
                                          CDP_DB_MESSAGES, CDP_DB_ORDERS,      CDP_DB_CONSENT};
    for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++)
        if ((rc = mdb_drop(ing->txn, DBI(ing, derived[i]), 0)) != 0)
            goto out;
    if ((rc = next_seq(ing, &first)) != 0)
        goto out;
    /*
     * The messages database lists the timed events in the order of replay
     * (time, then message hash); the events without a timestamp come first
     * there, filed under the smallest time, and are merged into that order
     * by the time they were stored with.
     */
    if ((rc = mdb_cursor_open(old, DBI(ing, CDP_DB_MESSAGES), &cursor)) != 0)
        goto out;
    struct collect untimed = {0};
    unsigned char none[8];
    cdp_store_put_time(none, INT64_MIN);
    MDB_val k, v;
    uint64_t done = 0;
    size_t next = 0;
    bool sorted = false;
    for (;;) {
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
        if (rc != 0 && rc != MDB_NOTFOUND)
            break;
        if (rc == 0 && (k.mv_size != CDP_MESSAGE_KEY_SIZE || v.mv_size != 24)) {
            rc = MDB_CORRUPTED;
            break;
        }
        unsigned char key[CDP_EVENT_KEY_SIZE], order[CDP_MESSAGE_KEY_SIZE];
        if (rc == 0) {
            memcpy(key, v.mv_data, 24);
            memcpy(key + 24, (const char *)k.mv_data + 8, 16);
            memcpy(order, key + 16, 8);
            memcpy(order + 8, key + 24, 16);
            if (memcmp(k.mv_data, none, 8) == 0) {
                pending_add(&untimed, order, key);
                continue;
            }
        }
        if (!sorted && untimed.n > 0)
            qsort(untimed.list, untimed.n, sizeof *untimed.list, compare_pending);
        sorted = true;
        /* The untimed events due before this one (all of them at the end). */
        while (next < untimed.n &&
               (rc == MDB_NOTFOUND || memcmp(untimed.list[next].order, order, sizeof order) < 0)) {
            int rr = replay_key(&r, untimed.list[next++].key);
            if (rr != 0) {
                rc = rr;
                break;
            }
        }
        if (rc != 0)
            break;
        if ((rc = replay_key(&r, key)) != 0)
            break;
        if (++done % 1024 == 0)
            cdp_store_release_pages_over(ing->store, 64u << 20);
    }
    mdb_cursor_close(cursor);
    free(untimed.list);
    if (rc != MDB_NOTFOUND)
        goto out;
    if ((rc = carry_consent(&r, NULL, 0)) != 0 || (rc = prune_predictions(ing)) != 0 ||
        (rc = settle_quarantine(&r, first)) != 0 ||
        (rc = mdb_stat(ing->txn, DBI(ing, CDP_DB_PROFILES), &ms)) != 0)
        goto out;
    st->profiles_after = ms.ms_entries;
out:
    st->merges += ing->stats.merges - merges;
    st->refused += ing->stats.merges_refused - refused;
    ing->options = saved;
    cdp_buf_free(&r.text);
    return rc;
}

/* Deletes every record of profile id from the engine's transaction (its events too). */
static int
take_apart(struct cdp_ingest *ing, const struct cdp_id *id)
{
    MDB_val k = {16, (void *)id->bytes}, v;
    int rc = mdb_get(ing->txn, DBI(ing, CDP_DB_PROFILES), &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    struct cdp_profile p;
    if (!cdp_profile_decode(&p, id, v.mv_data, v.mv_size)) {
        cdp_profile_free(&p);
        return MDB_CORRUPTED;
    }
    const char *s = p.identifiers.data, *end = s ? s + p.identifiers.len : NULL;
    while (rc == 0 && s < end) {
        MDB_val ik = {strlen(s), (void *)s}, iv;
        rc = mdb_get(ing->txn, DBI(ing, CDP_DB_IDENTIFIERS), &ik, &iv);
        if (rc == 0 && iv.mv_size == 16 && memcmp(iv.mv_data, id->bytes, 16) == 0)
            rc = mdb_del(ing->txn, DBI(ing, CDP_DB_IDENTIFIERS), &ik, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
        s += ik.mv_size + 1;
    }
    cdp_profile_free(&p);
    if (rc != 0)
        return rc;
    /* Events, message records and consent records (carried afterwards from the old state). */
    uint64_t events = 0, records = 0;
    if ((rc = cdp_events_delete_all(ing->store, ing->txn, id, &events)) != 0 ||
        (rc = cdp_consent_delete_all(ing->store, ing->txn, id, &records)) != 0)
        return rc;
    k.mv_size = 16;
    k.mv_data = (void *)id->bytes;
    if ((rc = mdb_del(ing->txn, DBI(ing, CDP_DB_PROFILES), &k, NULL)) != 0)
        return rc;
    return cdp_predicted_delete(ing->store, ing->txn, id);
}

int
cdp_rebuild_profiles(struct cdp_ingest *ing, MDB_txn *old, const struct cdp_id *ids, size_t n,
                     const struct cdp_id *drop, json_t *made, struct cdp_rebuild_stats *st)
{
    struct replay r;
    replay_init(&r, ing, old, st);
    r.messages = json_object();
    r.drop = drop;
    const struct cdp_ingest_options *saved = ing->options;
    ing->options = &r.options;
    struct collect c = {.drop = drop};
    uint64_t first = 0, merges = ing->stats.merges, refused = ing->stats.merges_refused;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        MDB_val k = {16, (void *)ids[i].bytes}, v;
        rc = mdb_get(old, DBI(ing, CDP_DB_PROFILES), &k, &v);
        if (rc == 0) {
            st->profiles_before++;
            rc = cdp_events_each(ing->store, old, &ids[i], collect_cb, &c);
        } else if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
        if (rc == 0)
            rc = take_apart(ing, &ids[i]);
    }
    if (rc != 0)
        goto out;
    if (c.n > 0)
        qsort(c.list, c.n, sizeof *c.list, compare_pending);
    if ((rc = next_seq(ing, &first)) != 0)
        goto out;
    for (size_t i = 0; i < c.n && rc == 0; i++)
        rc = replay_key(&r, c.list[i].key);
    if (rc != 0)
        goto out;
    if ((rc = carry_consent(&r, ids, n)) != 0 || (rc = settle_quarantine(&r, first)) != 0)
        goto out;
    /* The profiles made: where the old profiles' identifiers are now. */
    json_t *seen = json_object();
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct targets t;
        if ((rc = new_homes(&r, &ids[i], &t)) != 0)
            break;
        for (size_t j = 0; j < t.n; j++) {
            char hex[CDP_ID_HEX_SIZE];
            cdp_hash_to_hex(&t.ids[j], hex);
            if (json_object_get(seen, hex))
                continue;
            json_object_set_new(seen, hex, json_true());
            st->profiles_after++;
            if (made)
                json_array_append_new(made, json_string(hex));
        }
    }
    json_decref(seen);
out:
    st->merges += ing->stats.merges - merges;
    st->refused += ing->stats.merges_refused - refused;
    ing->options = saved;
    json_decref(r.messages);
    cdp_buf_free(&r.text);
    free(c.list);
    return rc;
}

/* ---- traits under new rules ---- */

int
cdp_rebuild_traits(struct cdp_ingest *ing, uint64_t *profiles, uint64_t *changed)
{
    *profiles = *changed = 0;
    struct cdp_id *ids = NULL;
    size_t n = 0, cap = 0;
    MDB_cursor *cursor;
    MDB_val k, v;
    int rc = mdb_cursor_open(ing->txn, DBI(ing, CDP_DB_PROFILES), &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        if (k.mv_size != 16)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            ids = cdp_xrealloc(ids, cap * sizeof *ids);
        }
        memcpy(ids[n++].bytes, k.mv_data, 16);
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_NOTFOUND) {
        free(ids);
        return rc;
    }
    rc = 0;
    struct cdp_buf before = CDP_BUF_INIT, after = CDP_BUF_INIT;
    for (size_t i = 0; i < n && rc == 0; i++) {
        k.mv_size = 16;
        k.mv_data = ids[i].bytes;
        if ((rc = mdb_get(ing->txn, DBI(ing, CDP_DB_PROFILES), &k, &v)) != 0)
            break;
        struct cdp_profile p;
        if (!cdp_profile_decode(&p, &ids[i], v.mv_data, v.mv_size)) {
            cdp_profile_free(&p);
            continue; /* damaged: reported by the programs that read profiles */
        }
        cdp_profile_encode(&p, &before);
        if ((rc = cdp_ingest_retrait(ing, &p)) == 0) {
            cdp_profile_encode(&p, &after);
            if (after.len != before.len || memcmp(after.data, before.data, after.len) != 0) {
                MDB_val nv = {after.len, after.data};
                rc = mdb_put(ing->txn, DBI(ing, CDP_DB_PROFILES), &k, &nv, 0);
                ++*changed;
            }
        }
        cdp_profile_free(&p);
        ++*profiles;
        if (i % 1024 == 1023)
            cdp_store_release_pages_over(ing->store, 64u << 20);
    }
    cdp_buf_free(&before);
    cdp_buf_free(&after);
    free(ids);
    return rc;
}
