/*
 * subject.c - everything the store holds on one person (GDPR Art. 15, 20),
 * as one JSON document.
 */
#include "subject.h"
#include "cli.h"
#include "consent.h"
#include "events.h"
#include "timeparse.h"

#include <stdlib.h>
#include <string.h>

struct events_ctx {
    struct cdp_store *store;
    json_t *list;
    struct cdp_buf text;
};

static int
collect_event(const struct cdp_stored_event *ev, void *ctx)
{
    struct events_ctx *c = ctx;
    size_t len;
    const char *text = cdp_events_text(c->store, ev, &c->text, &len);
    json_t *v = text ? json_loadb(text, len, 0, NULL) : NULL;
    if (v)
        json_array_append_new(c->list, v);
    else
        cdp_cli_warn("an event of this profile cannot be read (damaged record)");
    return 0;
}


json_t *
cdp_subject_events(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, int *rc)
{
    struct events_ctx c = {store, json_array(), CDP_BUF_INIT};
    *rc = cdp_events_each(store, txn, id, collect_event, &c);
    cdp_buf_free(&c.text);
    return c.list;
}

/* A time as an ISO 8601 JSON string, or null for none. */
static json_t *
time_json(int64_t ms)
{
    if (ms == CDP_TIME_NONE)
        return json_null();
    char text[40];
    cdp_time_format(ms, text, sizeof text);
    return json_string(text);
}

/* A string, or null when s is NULL (or, defensively, not UTF-8). */
static json_t *
string_json(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static void
add_identifier(const char *identifier, void *ctx)
{
    json_array_append_new(ctx, string_json(identifier));
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * What the store keeps of the traits: for each, in name order, the value
 * that won, the time of the event that gave it and that event's source.
 * The store keeps no older values, so there is no more history than this.
 */
static json_t *
subject_traits(struct cdp_profile *p)
{
    cdp_profile_load(p);
    json_t *result = json_object();
    size_t count = json_object_size(p->traits), i = 0;
    if (count == 0)
        return result;
    const char **names = cdp_xmalloc(count * sizeof *names);
    const char *name;
    json_t *entry;
    json_object_foreach(p->traits, name, entry) names[i++] = name;
    qsort(names, count, sizeof *names, compare_names);
    for (i = 0; i < count; i++) {
        entry = json_object_get(p->traits, names[i]);
        json_t *value = json_array_get(entry, 0), *when = json_array_get(entry, 1);
        json_t *item = json_object();
        json_object_set(item, "value", value ? value : json_null());
        json_object_set_new(item, "time",
                            json_is_integer(when) ? time_json((int64_t)json_integer_value(when))
                                                  : json_null());
        json_object_set_new(item, "source",
                            string_json(json_string_value(json_array_get(entry, 2))));
        json_object_set_new(result, names[i], item);
    }
    free(names);
    return result;
}

static int
add_consent_record(const struct cdp_consent_record *r, void *ctx)
{
    json_t *item = json_object();
    json_object_set_new(item, "purpose", string_json(r->purpose));
    json_object_set_new(item, "status", json_string(cdp_consent_status_name(r->status)));
    json_object_set_new(item, "time", time_json(r->time));
    json_object_set_new(item, "expires", time_json(r->expires));
    json_object_set_new(item, "channel", string_json(r->channel));
    json_object_set_new(item, "source", string_json(r->source));
    json_object_set_new(item, "proof", string_json(r->proof));
    json_object_set_new(item, "recorded", time_json(r->recorded));
    json_array_append_new(ctx, item);
    return 0;
}

/* The profile ids a person has had: the current one, then those merged into it or renamed. */
struct id_set {
    char (*hex)[CDP_ID_HEX_SIZE];
    size_t count;
};

static bool
id_set_has(const struct id_set *s, const char *hex)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->hex[i], hex) == 0)
            return true;
    return false;
}

static void
id_set_add(struct id_set *s, const char *hex)
{
    if (hex == NULL || strlen(hex) != CDP_ID_HEX_SIZE - 1 || id_set_has(s, hex))
        return;
    s->hex = cdp_xrealloc(s->hex, (s->count + 1) * sizeof *s->hex);
    memcpy(s->hex[s->count++], hex, CDP_ID_HEX_SIZE);
}

/* True when the JSON text names one of the ids as a string. */
static bool
names_any(const struct id_set *s, const char *text, size_t len)
{
    char needle[CDP_ID_HEX_SIZE + 2];
    for (size_t i = 0; i < s->count; i++) {
        needle[0] = '"';
        memcpy(needle + 1, s->hex[i], CDP_ID_HEX_SIZE - 1);
        needle[CDP_ID_HEX_SIZE] = '"';
        if (memmem(text, len, needle, CDP_ID_HEX_SIZE + 1) != NULL)
            return true;
    }
    return false;
}

json_t *
cdp_subject_merge_log(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, int *rc)
{
    json_t *result = json_array();
    struct id_set ids = {NULL, 0};
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(id, hex);
    id_set_add(&ids, hex);
    MDB_cursor *cursor;
    MDB_val key, value;
    if ((*rc = mdb_cursor_open(txn, store->dbi[CDP_DB_MERGELOG], &cursor)) != 0) {
        free(ids.hex);
        return result;
    }
    for (*rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST); *rc == 0;
         *rc = mdb_cursor_get(cursor, &key, &value, MDB_PREV)) {
        if (!names_any(&ids, value.mv_data, value.mv_size))
            continue;
        json_t *entry = json_loadb(value.mv_data, value.mv_size, 0, NULL);
        if (!json_is_object(entry)) {
            cdp_cli_warn("merge-log entry %llu: damaged record skipped",
                         key.mv_size == 8 ? (unsigned long long)cdp_store_get_be64(key.mv_data)
                                          : 0ULL);
            json_decref(entry);
            continue;
        }
        const char *action = json_string_value(json_object_get(entry, "action"));
        const char *winner = json_string_value(json_object_get(entry, "winner"));
        const char *to = json_string_value(json_object_get(entry, "to"));
        if (action && strcmp(action, "merge") == 0 && winner && id_set_has(&ids, winner))
            id_set_add(&ids, json_string_value(json_object_get(entry, "loser")));
        else if (action && strcmp(action, "rename") == 0 && to && id_set_has(&ids, to))
            id_set_add(&ids, json_string_value(json_object_get(entry, "from")));
        json_array_insert_new(result, 0, entry);
    }
    mdb_cursor_close(cursor);
    free(ids.hex);
    if (*rc == MDB_NOTFOUND)
        *rc = 0;
    return result;
}

/*
 * The saved segments the profile is a member of, in name order, with the
 * time it entered each.  Member keys are name . NUL . id, so the walk
 * visits each segment name once and looks the profile up under it: a few
 * lookups per segment, whatever the number of members.  Sets *rc.
 */
static json_t *
subject_segments(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, int *rc)
{
    enum { NAME_MAX_LEN = 64 };
    json_t *result = json_array();
    MDB_dbi dbi = store->dbi[CDP_DB_MEMBERS];
    MDB_cursor *cursor;
    if ((*rc = mdb_cursor_open(txn, dbi, &cursor)) != 0)
        return result;
    unsigned char probe[NAME_MAX_LEN + 1 + 16];
    MDB_val key, value;
    *rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
    while (*rc == 0) {
        const unsigned char *nul = memchr(key.mv_data, '\0', key.mv_size);
        size_t n = nul ? (size_t)(nul - (const unsigned char *)key.mv_data) : 0;
        if (nul == NULL || n == 0 || n > NAME_MAX_LEN) {
            *rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
            continue;
        }
        memcpy(probe, key.mv_data, n);
        probe[n] = '\0';
        memcpy(probe + n + 1, id->bytes, 16);
        MDB_val k = {n + 1 + 16, probe}, v;
        int found = mdb_get(txn, dbi, &k, &v);
        if (found == 0 && v.mv_size == 8) {
            json_t *item = json_object();
            json_object_set_new(item, "name", json_stringn((const char *)probe, n));
            json_object_set_new(item, "entered_at",
                                time_json((int64_t)cdp_store_get_be64(v.mv_data)));
            json_array_append_new(result, item);
        } else if (found != 0 && found != MDB_NOTFOUND) {
            *rc = found;
            break;
        }
        /* On to the next name: name . 0x01 sorts after every name . NUL . id. */
        probe[n] = '\1';
        k.mv_size = n + 1;
        k.mv_data = probe;
        key = k;
        *rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    }
    mdb_cursor_close(cursor);
    if (*rc == MDB_NOTFOUND)
        *rc = 0;
    return result;
}


json_t *
cdp_subject_document(struct cdp_store *store, MDB_txn *txn, struct cdp_profile *p,
                     const char *given, int64_t now, json_t *profile, int *rc)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "subject", string_json(given));
    json_object_set_new(doc, "exported_at", time_json(now));
    json_object_set_new(doc, "profile", profile);
    json_t *identifiers = json_array();
    cdp_profile_each_identifier(p, add_identifier, identifiers);
    json_object_set_new(doc, "identifiers", identifiers);
    json_object_set_new(doc, "events", cdp_subject_events(store, txn, &p->id, rc));
    json_object_set_new(doc, "trait_history", subject_traits(p));
    json_t *consent = json_array();
    if (*rc == 0)
        *rc = cdp_consent_each(store, txn, &p->id, add_consent_record, consent);
    json_object_set_new(doc, "consent_records", consent);
    if (*rc == 0)
        json_object_set_new(doc, "merge_log", cdp_subject_merge_log(store, txn, &p->id, rc));
    if (*rc == 0)
        json_object_set_new(doc, "segments", subject_segments(store, txn, &p->id, rc));
    return doc;
}
