/*
 * test_ingest.c - unit tests for lib/ingest.c and lib/computed.c: the ingest
 * engine driven directly against a store in a temporary directory.
 */
#include "computed.h"
#include "events.h"
#include "ingest.h"
#include "profile.h"
#include "store.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

static char root[256];
static struct cdp_store store;
static struct cdp_ingest_options options;
static struct cdp_ingest ing;
static char reason[256];

static void
remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* Opens a fresh store in a new directory under root. */
static void
open_store(const char *name)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    int rc = cdp_store_open(&store, path, CDP_STORE_WRITE, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    cdp_ingest_init(&ing, &store, &options, NOW);
}

static void
close_store(void)
{
    cdp_ingest_free(&ing);
    cdp_store_close(&store);
}

/* Ingests one event (JSON text) in a transaction of its own; returns the result or -1. */
static int
feed(const char *text)
{
    enum cdp_ingest_result result = -1;
    json_error_t error;
    json_t *event = json_loads(text, 0, &error);
    if (event == NULL) {
        fprintf(stderr, "bad test JSON: %s: %s\n", text, error.text);
        return -1;
    }
    reason[0] = '\0';
    int rc = cdp_ingest_begin(&ing);
    if (rc == 0)
        rc = cdp_ingest_event(&ing, event, text, strlen(text), &result, reason, sizeof reason);
    if (rc == 0)
        rc = cdp_ingest_commit(&ing);
    else
        cdp_ingest_abort(&ing);
    json_decref(event);
    if (rc != 0) {
        fprintf(stderr, "ingest of %s: %s\n", text, cdp_store_strerror(rc));
        return -1;
    }
    return (int)result;
}

/* The profile that holds an identifier; false when none. */
static bool
owner_of(const char *identifier, struct cdp_id *id)
{
    MDB_txn *txn;
    MDB_val key = {strlen(identifier), (void *)identifier}, value;
    if (cdp_store_begin(&store, false, &txn) != 0)
        return false;
    int rc = mdb_get(txn, store.dbi[CDP_DB_IDENTIFIERS], &key, &value);
    bool found = rc == 0 && value.mv_size == 16;
    if (found)
        memcpy(id->bytes, value.mv_data, 16);
    mdb_txn_abort(txn);
    return found;
}

/* Loads a profile; false when there is none under that id. */
static bool
load(const struct cdp_id *id, struct cdp_profile *p)
{
    MDB_txn *txn;
    MDB_val key = {16, (void *)id->bytes}, value;
    cdp_profile_init(p, id);
    if (cdp_store_begin(&store, false, &txn) != 0)
        return false;
    bool found = mdb_get(txn, store.dbi[CDP_DB_PROFILES], &key, &value) == 0;
    if (found) {
        cdp_profile_free(p);
        found = cdp_profile_decode(p, id, value.mv_data, value.mv_size);
        cdp_profile_load(p);
    }
    mdb_txn_abort(txn);
    return found;
}

static size_t
entries(enum cdp_db db)
{
    MDB_txn *txn;
    MDB_stat st;
    if (cdp_store_begin(&store, false, &txn) != 0)
        return (size_t)-1;
    int rc = mdb_stat(txn, store.dbi[db], &st);
    mdb_txn_abort(txn);
    return rc == 0 ? st.ms_entries : (size_t)-1;
}

/* The merge log as a JSON array of its entries, in order. */
static json_t *
mergelog(void)
{
    MDB_txn *txn;
    MDB_cursor *cursor;
    MDB_val key, value;
    json_t *list = json_array();
    if (cdp_store_begin(&store, false, &txn) != 0)
        return list;
    if (mdb_cursor_open(txn, store.dbi[CDP_DB_MERGELOG], &cursor) == 0) {
        int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
        while (rc == 0) {
            json_t *entry = json_loadb(value.mv_data, value.mv_size, 0, NULL);
            json_array_append_new(list, entry ? entry : json_null());
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
        }
        mdb_cursor_close(cursor);
    }
    mdb_txn_abort(txn);
    return list;
}

static const char *
hex(const struct cdp_id *id)
{
    static char out[4][CDP_ID_HEX_SIZE];
    static int next;
    char *p = out[next++ % 4];
    cdp_hash_to_hex(id, p);
    return p;
}

struct event_list {
    int count;
    char ids[32][64];
};

static int
collect_cb(const struct cdp_stored_event *ev, void *ctx)
{
    struct event_list *l = ctx;
    if (l->count < 32) {
        size_t n = ev->message_len < 63 ? ev->message_len : 63;
        memcpy(l->ids[l->count], ev->message_id, n);
        l->ids[l->count][n] = '\0';
    }
    l->count++;
    return 0;
}

/* The message ids of a profile's stored events, space-separated, in time order. */
static const char *
events_of(const struct cdp_id *id)
{
    static char out[1024];
    struct event_list l = {0};
    MDB_txn *txn;
    out[0] = '\0';
    if (cdp_store_begin(&store, false, &txn) != 0)
        return "(error)";
    int rc = cdp_events_each(&store, txn, id, collect_cb, &l);
    mdb_txn_abort(txn);
    if (rc != 0)
        return "(error)";
    for (int i = 0; i < l.count && i < 32; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, l.ids[i]);
    }
    return out;
}

static void
test_new_profile_and_duplicates(void)
{
    open_store("basic");
    struct cdp_id want = cdp_hash_string("user:u1"), got;
    struct cdp_profile p;

    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"firstName\":\"Jane\"},"
                   "\"timestamp\":\"2025-01-01T10:00:00Z\",\"messageId\":\"m1\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(ing.stats.read, 1);
    CHECK_INT(ing.stats.landed, 1);
    CHECK_INT(ing.stats.profiles_created, 1);
    CHECK(owner_of("user:u1", &got));
    CHECK_STR(hex(&got), hex(&want));
    CHECK(load(&want, &p));
    CHECK_INT(p.head.events_count, 1);
    CHECK_INT(p.head.first_seen, 1735725600000LL);
    CHECK_INT(p.head.anchor_time, 1735725600000LL);
    CHECK(cdp_profile_has_identifier(&p, "user:u1"));
    CHECK_STR(json_string_value(json_array_get(json_object_get(p.traits, "firstName"), 0)),
              "Jane");
    CHECK_STR(json_string_value(json_array_get(json_object_get(p.traits, "firstName"), 2)),
              "test");
    cdp_profile_free(&p);
    CHECK_STR(events_of(&want), "m1");

    /* The same messageId at the same time, even with other content: a duplicate. */
    CHECK_INT(feed("{\"type\":\"track\",\"event\":\"X\",\"userId\":\"u1\","
                   "\"timestamp\":\"2025-01-01T10:00:00Z\",\"messageId\":\"m1\"}"),
              CDP_INGEST_DUPLICATE);
    CHECK_INT(ing.stats.duplicates, 1);
    CHECK_INT(ing.stats.landed, 0);
    CHECK(load(&want, &p));
    CHECK_INT(p.head.events_count, 1);
    cdp_profile_free(&p);
    /* An event without timestamp is found again although its import time differs. */
    const char *untimed = "{\"type\":\"page\",\"userId\":\"u7\",\"messageId\":\"u7-1\"}";
    CHECK_INT(feed(untimed), CDP_INGEST_LANDED);
    ing.now += 3600 * 1000;
    CHECK_INT(feed(untimed), CDP_INGEST_DUPLICATE);
    ing.now -= 3600 * 1000;

    /* No messageId: the content names the event, so the same content is a duplicate. */
    const char *nomid = "{\"type\":\"page\",\"userId\":\"u1\",\"timestamp\":\"2025-01-03T10:00:00Z\"}";
    CHECK_INT(feed(nomid), CDP_INGEST_LANDED);
    CHECK_INT(feed(nomid), CDP_INGEST_DUPLICATE);
    CHECK_INT(feed("{\"timestamp\":\"2025-01-03T10:00:00Z\",\"userId\":\"u1\",\"type\":\"page\"}"),
              CDP_INGEST_DUPLICATE); /* key order does not matter */
    CHECK(load(&want, &p));
    CHECK_INT(p.head.events_count, 2);
    CHECK_INT(p.head.page_views, 1);
    cdp_profile_free(&p);

    /* Two events in one transaction, the second a duplicate of the first. */
    enum cdp_ingest_result r1 = -1, r2 = -1;
    json_t *e = json_loads("{\"type\":\"page\",\"userId\":\"u1\",\"messageId\":\"m9\","
                           "\"timestamp\":\"2025-01-04T10:00:00Z\"}",
                           0, NULL);
    CHECK_INT(cdp_ingest_begin(&ing), 0);
    CHECK_INT(cdp_ingest_event(&ing, e, NULL, 0, &r1, reason, sizeof reason), 0);
    CHECK_INT(cdp_ingest_event(&ing, e, NULL, 0, &r2, reason, sizeof reason), 0);
    CHECK_INT(cdp_ingest_commit(&ing), 0);
    json_decref(e);
    CHECK_INT(r1, CDP_INGEST_LANDED);
    CHECK_INT(r2, CDP_INGEST_DUPLICATE);
    CHECK_INT(ing.stats.read, 2);
    {
        const char *list = events_of(&want);
        CHECK(strncmp(list, "m1 cdp-", 7) == 0);
        CHECK(strlen(list) > 3 && strcmp(list + strlen(list) - 3, " m9") == 0);
    }

    /* An aborted transaction leaves nothing behind. */
    e = json_loads("{\"type\":\"identify\",\"userId\":\"ghost\",\"messageId\":\"g1\","
                   "\"timestamp\":\"2025-01-04T10:00:00Z\"}",
                   0, NULL);
    CHECK_INT(cdp_ingest_begin(&ing), 0);
    CHECK_INT(cdp_ingest_event(&ing, e, NULL, 0, &r1, reason, sizeof reason), 0);
    CHECK_INT(r1, CDP_INGEST_LANDED);
    cdp_ingest_abort(&ing);
    json_decref(e);
    struct cdp_id ghost;
    CHECK(!owner_of("user:ghost", &ghost));
    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"ghost\",\"messageId\":\"g1\","
                   "\"timestamp\":\"2025-01-04T10:00:00Z\"}"),
              CDP_INGEST_LANDED);

    /* An event without a timestamp takes the time of import. */
    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"late\",\"messageId\":\"t0\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(ing.stats.untimed, 1);
    struct cdp_id late = cdp_hash_string("user:late");
    CHECK(load(&late, &p));
    CHECK_INT(p.head.first_seen, NOW);
    cdp_profile_free(&p);
    close_store();
}

static void
test_rejected(void)
{
    open_store("rejected");
    static const char *const bad[] = {
        "[1,2]",
        "{\"userId\":\"u1\"}",
        "{\"type\":\"bogus\",\"userId\":\"u1\"}",
        "{\"type\":\"track\",\"userId\":\"u1\"}",
        "{\"type\":\"track\",\"event\":\"\",\"userId\":\"u1\"}",
        "{\"type\":\"page\",\"messageId\":\"x\"}",
        "{\"type\":\"page\",\"userId\":\"u1\",\"timestamp\":\"yesterday-ish\"}",
        "{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":[1]}",
        "{\"type\":\"alias\",\"userId\":\"u1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = feed(bad[i]);
        CHECK_INT(r, CDP_INGEST_REJECTED);
        CHECK(reason[0] != '\0');
        if (r != CDP_INGEST_REJECTED || reason[0] == '\0')
            fprintf(stderr, "    event: %s\n", bad[i]);
        CHECK_INT(ing.stats.rejected, 1);
    }
    feed("{\"type\":\"bogus\",\"userId\":\"u1\"}");
    CHECK(strstr(reason, "bogus") != NULL);
    feed("{\"type\":\"page\",\"messageId\":\"x\"}");
    CHECK(strstr(reason, "identifier") != NULL);
    CHECK_INT(entries(CDP_DB_PROFILES), 0);
    CHECK_INT(entries(CDP_DB_EVENTS), 0);
    CHECK_INT(entries(CDP_DB_MESSAGES), 0);

    /* An event whose only identifier is junk is rejected, with a warning. */
    CHECK_INT(feed("{\"type\":\"page\",\"anonymousId\":\"undefined\",\"messageId\":\"j\"}"),
              CDP_INGEST_REJECTED);
    CHECK(ing.warnings.len > 0);
    CHECK_INT(entries(CDP_DB_PROFILES), 0);
    close_store();
}

static void
test_merge_and_refusal(void)
{
    open_store("merge");
    struct cdp_id u1 = cdp_hash_string("user:u1"), a1 = cdp_hash_string("anon:a1"), got;
    struct cdp_profile p;

    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"Jane@Example.com\"},"
                   "\"timestamp\":\"2025-01-01T10:00:00Z\",\"messageId\":\"m1\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(feed("{\"type\":\"page\",\"anonymousId\":\"a1\","
                   "\"timestamp\":\"2025-01-02T10:00:00Z\",\"messageId\":\"m2\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(feed("{\"type\":\"page\",\"anonymousId\":\"a1\","
                   "\"timestamp\":\"2025-01-02T10:10:00Z\",\"messageId\":\"m3\"}"),
              CDP_INGEST_LANDED);
    CHECK(owner_of("anon:a1", &got));
    CHECK_STR(hex(&got), hex(&a1));
    CHECK_INT(entries(CDP_DB_PROFILES), 2);

    /* This event links both: one profile, under the id of the earlier one. */
    CHECK_INT(feed("{\"type\":\"page\",\"anonymousId\":\"a1\",\"userId\":\"u1\","
                   "\"timestamp\":\"2025-01-02T10:20:00Z\",\"messageId\":\"m4\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(ing.stats.merges, 1);
    CHECK_INT(entries(CDP_DB_PROFILES), 1);
    CHECK(owner_of("anon:a1", &got));
    CHECK_STR(hex(&got), hex(&u1));
    CHECK(owner_of("email:jane@example.com", &got));
    CHECK_STR(hex(&got), hex(&u1));
    CHECK(!load(&a1, &p));
    cdp_profile_free(&p);
    CHECK(load(&u1, &p));
    CHECK_INT(p.head.events_count, 4);
    CHECK_INT(p.head.page_views, 3);
    CHECK_INT(p.head.visits, 1); /* recomputed from the merged events */
    CHECK_INT(p.head.time_on_site_ms, 20 * 60 * 1000);
    CHECK_INT(p.identifiers_count, 3);
    cdp_profile_free(&p);
    CHECK_STR(events_of(&u1), "m1 m2 m3 m4");
    CHECK_STR(events_of(&a1), "");

    json_t *log = mergelog();
    CHECK_INT(json_array_size(log), 1);
    json_t *entry = json_array_get(log, 0);
    CHECK_STR(json_string_value(json_object_get(entry, "action")), "merge");
    CHECK_STR(json_string_value(json_object_get(entry, "winner")), hex(&u1));
    CHECK_STR(json_string_value(json_object_get(entry, "loser")), hex(&a1));
    CHECK_STR(json_string_value(json_object_get(entry, "message_id")), "m4");
    CHECK_STR(json_string_value(json_object_get(entry, "source")), "test");
    CHECK_INT(json_integer_value(json_object_get(entry, "seq")), 1);
    CHECK_INT(json_array_size(json_object_get(entry, "loser_identifiers")), 1);
    json_decref(log);

    /* A second user with its own e-mail. */
    struct cdp_id u2 = cdp_hash_string("user:u2");
    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"u2\",\"traits\":{\"email\":\"bob@example.org\"},"
                   "\"timestamp\":\"2025-01-03T10:00:00Z\",\"messageId\":\"m5\"}"),
              CDP_INGEST_LANDED);
    /* u2 claims Jane's e-mail: merging would give one profile two userIds. */
    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"u2\",\"traits\":{\"email\":\"jane@example.com\"},"
                   "\"timestamp\":\"2025-01-04T10:00:00Z\",\"messageId\":\"m6\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(ing.stats.merges, 0);
    CHECK_INT(ing.stats.merges_refused, 1);
    CHECK(ing.warnings.len > 0 && strstr(ing.warnings.data, "refused") != NULL);
    CHECK_INT(entries(CDP_DB_PROFILES), 2);
    CHECK(owner_of("email:jane@example.com", &got));
    CHECK_STR(hex(&got), hex(&u1)); /* the e-mail stays where it was */
    CHECK_STR(events_of(&u2), "m5 m6"); /* the event went to the userId's profile */
    log = mergelog();
    CHECK_INT(json_array_size(log), 2);
    entry = json_array_get(log, 1);
    CHECK_STR(json_string_value(json_object_get(entry, "action")), "refused");
    CHECK_STR(json_string_value(json_object_get(entry, "target")), hex(&u2));
    CHECK_INT(json_integer_value(json_object_get(entry, "seq")), 2);
    CHECK(json_string_value(json_object_get(entry, "reason")) != NULL &&
          strstr(json_string_value(json_object_get(entry, "reason")), "user") != NULL);
    CHECK_INT(json_array_size(json_object_get(entry, "profiles")), 2);
    json_decref(log);
    close_store();
}

static void
test_suppression(void)
{
    open_store("suppression");
    unsigned char salt[32], h[32], h2[32];
    MDB_txn *txn;

    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    CHECK_INT(cdp_ingest_load_salt(&store, txn, salt), 0);
    cdp_ingest_suppression_hash(salt, "email:x@example.com", h);
    cdp_ingest_suppression_hash(salt, "email:x@example.com", h2);
    CHECK(memcmp(h, h2, 32) == 0);
    cdp_ingest_suppression_hash(salt, "email:y@example.com", h2);
    CHECK(memcmp(h, h2, 32) != 0);
    unsigned char when[8];
    cdp_store_put_time(when, NOW);
    MDB_val k = {32, h}, v = {8, when};
    CHECK_INT(mdb_put(txn, store.dbi[CDP_DB_SUPPRESSION], &k, &v, 0), 0);
    CHECK_INT(mdb_txn_commit(txn), 0);

    /* Keyed: another salt gives another hash. */
    unsigned char other[32];
    memcpy(other, salt, 32);
    other[0] ^= 1;
    cdp_ingest_suppression_hash(other, "email:x@example.com", h2);
    CHECK(memcmp(h, h2, 32) != 0);

    size_t before = entries(CDP_DB_PROFILES);
    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"s1\",\"traits\":{\"email\":\" X@Example.COM \"},"
                   "\"timestamp\":\"2025-01-01T10:00:00Z\",\"messageId\":\"s1\"}"),
              CDP_INGEST_SUPPRESSED);
    CHECK_INT(ing.stats.suppressed, 1);
    CHECK_INT(ing.stats.landed, 0);
    CHECK_INT(entries(CDP_DB_PROFILES), before);
    CHECK_INT(entries(CDP_DB_EVENTS), 0);
    struct cdp_id id;
    CHECK(!owner_of("user:s1", &id));
    CHECK(!owner_of("email:x@example.com", &id));
    /* Also when the e-mail rides in context.traits of a track event. */
    CHECK_INT(feed("{\"type\":\"track\",\"event\":\"E\",\"anonymousId\":\"zz\","
                   "\"context\":{\"traits\":{\"email\":\"x@example.com\"}},\"messageId\":\"s2\"}"),
              CDP_INGEST_SUPPRESSED);
    /* Someone else lands. */
    CHECK_INT(feed("{\"type\":\"identify\",\"userId\":\"s3\",\"traits\":{\"email\":\"y@example.com\"},"
                   "\"timestamp\":\"2025-01-01T10:00:00Z\",\"messageId\":\"s3\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(entries(CDP_DB_PROFILES), before + 1);
    close_store();
}

static void
test_rename(void)
{
    open_store("rename");
    struct cdp_id a9 = cdp_hash_string("anon:a9"), u9 = cdp_hash_string("user:u9"), got;
    struct cdp_profile p;

    CHECK_INT(feed("{\"type\":\"page\",\"anonymousId\":\"a9\","
                   "\"timestamp\":\"2025-03-01T10:00:00Z\",\"messageId\":\"r2\"}"),
              CDP_INGEST_LANDED);
    CHECK_INT(feed("{\"type\":\"identify\",\"anonymousId\":\"a9\",\"userId\":\"u9\","
                   "\"timestamp\":\"2025-03-01T10:05:00Z\",\"messageId\":\"r3\"}"),
              CDP_INGEST_LANDED);
    CHECK(owner_of("user:u9", &got));
    CHECK_STR(hex(&got), hex(&a9)); /* the earliest event named only the anonymousId */
    CHECK_STR(events_of(&a9), "r2 r3");

    /* An earlier event arrives late: the profile takes the id it names. */
    CHECK_INT(feed("{\"type\":\"page\",\"userId\":\"u9\","
                   "\"timestamp\":\"2025-02-01T10:00:00Z\",\"messageId\":\"r1\"}"),
              CDP_INGEST_LANDED);
    CHECK(owner_of("user:u9", &got));
    CHECK_STR(hex(&got), hex(&u9));
    CHECK(owner_of("anon:a9", &got));
    CHECK_STR(hex(&got), hex(&u9));
    CHECK_STR(events_of(&u9), "r1 r2 r3");
    CHECK_STR(events_of(&a9), "");
    CHECK(!load(&a9, &p));
    cdp_profile_free(&p);
    CHECK(load(&u9, &p));
    CHECK_INT(p.head.events_count, 3);
    CHECK_INT(p.head.anchor_time, 1738404000000LL);
    CHECK_INT(p.head.first_seen, 1738404000000LL);
    CHECK_INT(p.head.visits, 2);
    cdp_profile_free(&p);
    CHECK_INT(entries(CDP_DB_PROFILES), 1);
    CHECK_INT(entries(CDP_DB_EVENTS), 3);

    /* The message records point at the new profile. */
    MDB_txn *txn;
    MDB_cursor *cursor;
    MDB_val k, v;
    const char *mids[] = {"r1", "r2", "r3"};
    int seen = 0;
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK_INT(mdb_cursor_open(txn, store.dbi[CDP_DB_MESSAGES], &cursor), 0);
    while (mdb_cursor_get(cursor, &k, &v, MDB_NEXT) == 0) {
        for (int i = 0; i < 3; i++) {
            struct cdp_id m = cdp_hash_string(mids[i]);
            if (k.mv_size == CDP_MESSAGE_KEY_SIZE && memcmp((char *)k.mv_data + 8, m.bytes, 16) == 0) {
                seen++;
                CHECK(v.mv_size == 24 && memcmp(v.mv_data, u9.bytes, 16) == 0);
            }
        }
    }
    CHECK_INT(seen, 3);
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);

    json_t *log = mergelog();
    json_t *last = json_array_get(log, json_array_size(log) - 1);
    CHECK_STR(json_string_value(json_object_get(last, "action")), "rename");
    CHECK_STR(json_string_value(json_object_get(last, "from")), hex(&a9));
    CHECK_STR(json_string_value(json_object_get(last, "to")), hex(&u9));
    json_decref(log);

    /* The same three events in time order give the same profile. */
    struct cdp_profile q;
    struct cdp_buf x = CDP_BUF_INIT, y = CDP_BUF_INIT;
    load(&u9, &p);
    cdp_profile_encode(&p, &x);
    cdp_profile_free(&p);
    close_store();
    open_store("rename-ordered");
    feed("{\"type\":\"page\",\"userId\":\"u9\",\"timestamp\":\"2025-02-01T10:00:00Z\",\"messageId\":\"r1\"}");
    feed("{\"type\":\"page\",\"anonymousId\":\"a9\",\"timestamp\":\"2025-03-01T10:00:00Z\",\"messageId\":\"r2\"}");
    feed("{\"type\":\"identify\",\"anonymousId\":\"a9\",\"userId\":\"u9\",\"timestamp\":\"2025-03-01T10:05:00Z\",\"messageId\":\"r3\"}");
    CHECK(owner_of("anon:a9", &got));
    CHECK_STR(hex(&got), hex(&u9));
    CHECK(load(&u9, &q));
    cdp_profile_encode(&q, &y);
    cdp_profile_free(&q);
    CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
    cdp_buf_free(&x);
    cdp_buf_free(&y);
    close_store();
}

static void
test_orders(void)
{
    open_store("orders");
    struct cdp_id u = cdp_hash_string("user:o1");
    struct cdp_profile p;
    feed("{\"type\":\"track\",\"event\":\"Checkout Started\",\"userId\":\"o1\","
         "\"timestamp\":\"2025-01-01T10:00:00Z\",\"messageId\":\"c1\"}");
    CHECK(load(&u, &p));
    CHECK_INT(p.head.abandoned_carts, 1);
    cdp_profile_free(&p);
    feed("{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"o1\","
         "\"properties\":{\"order_id\":\"A\",\"total\":\"10.10\",\"payment_method\":\"card\"},"
         "\"timestamp\":\"2025-01-01T11:00:00Z\",\"messageId\":\"o1\"}");
    /* The same order under another messageId counts once. */
    feed("{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"o1\","
         "\"properties\":{\"order_id\":\"A\",\"total\":10.10},"
         "\"timestamp\":\"2025-01-01T11:00:05Z\",\"messageId\":\"o1-retry\"}");
    feed("{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"o1\","
         "\"properties\":{\"orderId\":7,\"products\":[{\"price\":2.5,\"quantity\":2,\"category\":\"Toys\"}]},"
         "\"timestamp\":\"2025-01-05T11:00:00Z\",\"messageId\":\"o2\"}");
    feed("{\"type\":\"track\",\"event\":\"Order Refunded\",\"userId\":\"o1\","
         "\"properties\":{\"order_id\":\"A\"},\"timestamp\":\"2025-01-06T11:00:00Z\",\"messageId\":\"f1\"}");
    feed("{\"type\":\"track\",\"event\":\"Order Refunded\",\"userId\":\"o1\","
         "\"properties\":{\"order_id\":\"A\"},\"timestamp\":\"2025-01-06T12:00:00Z\",\"messageId\":\"f2\"}");
    feed("{\"type\":\"track\",\"event\":\"Email Opened\",\"userId\":\"o1\","
         "\"timestamp\":\"2025-01-07T12:00:00Z\",\"messageId\":\"e1\"}");
    CHECK(load(&u, &p));
    CHECK_INT(p.head.orders_count, 2);
    CHECK_INT(p.head.revenue_micros, 15100000);
    CHECK_INT(p.head.returns_count, 1);
    CHECK_INT(p.head.abandoned_carts, 0);
    CHECK_INT(p.head.email_opens, 1);
    CHECK_INT(p.head.events_count, 7);
    CHECK_INT(p.head.first_order_at, 1735729200000LL);
    CHECK_STR(cdp_profile_top_tally(&p, "payment_method"), "card");
    CHECK_STR(cdp_profile_top_tally(&p, "category"), "Toys");
    cdp_profile_free(&p);
    close_store();
}

static void
test_sessions_and_abandoned(void)
{
    const int64_t M = 60 * 1000;
    uint32_t visits = 99;
    int64_t ms = 99;

    cdp_computed_sessions(NULL, 0, &visits, &ms);
    CHECK_INT(visits, 0);
    CHECK_INT(ms, 0);
    int64_t one[] = {5 * M};
    cdp_computed_sessions(one, 1, &visits, &ms);
    CHECK_INT(visits, 1);
    CHECK_INT(ms, 0);
    int64_t t[] = {0, 10 * M, 50 * M, 55 * M, 85 * M, 115 * M + 1, -1 + 200 * M};
    /* gaps: 10 (in), 40 (new), 5 (in), 30 (in: not more than 30), 30m+1ms (new), 85m-1ms (new) */
    cdp_computed_sessions(t, 7, &visits, &ms);
    CHECK_INT(visits, 4);
    CHECK_INT(ms, 45 * M);
    int64_t same[] = {1000, 1000, 1000};
    cdp_computed_sessions(same, 3, &visits, &ms);
    CHECK_INT(visits, 1);
    CHECK_INT(ms, 0);
    int64_t neg[] = {-40 * M, -30 * M, 0};
    cdp_computed_sessions(neg, 3, &visits, &ms);
    CHECK_INT(visits, 1);
    CHECK_INT(ms, 40 * M);

    const int64_t H = 60 * M, D = 24 * H;
    CHECK_INT(cdp_computed_abandoned(NULL, 0, NULL, 0), 0);
    int64_t c1[] = {0};
    CHECK_INT(cdp_computed_abandoned(c1, 1, NULL, 0), 1);
    int64_t o_in[] = {H};
    CHECK_INT(cdp_computed_abandoned(c1, 1, o_in, 1), 0);
    int64_t o_edge[] = {D};
    CHECK_INT(cdp_computed_abandoned(c1, 1, o_edge, 1), 0); /* the window is closed */
    int64_t o_late[] = {D + 1};
    CHECK_INT(cdp_computed_abandoned(c1, 1, o_late, 1), 1);
    int64_t o_before[] = {-1};
    CHECK_INT(cdp_computed_abandoned(c1, 1, o_before, 1), 1);
    int64_t o_at[] = {0};
    CHECK_INT(cdp_computed_abandoned(c1, 1, o_at, 1), 0);
    int64_t c3[] = {0, 2 * D, 10 * D};
    int64_t o3[] = {-D, H, 3 * D + H, 10 * D + 2 * H};
    CHECK_INT(cdp_computed_abandoned(c3, 3, o3, 4), 1); /* only the second one */
    int64_t c2[] = {0, H};
    int64_t o1[] = {2 * H};
    CHECK_INT(cdp_computed_abandoned(c2, 2, o1, 1), 0); /* one order closes both */

    /* The counter map. */
    struct cdp_counter_map *map = cdp_computed_map_new();
    char err[256];
    CHECK_INT(cdp_computed_classify(map, "Order Completed"), CDP_COUNTER_ORDER);
    CHECK_INT(cdp_computed_classify(map, "Checkout Started"), CDP_COUNTER_CHECKOUT);
    CHECK_INT(cdp_computed_classify(map, "order completed"), CDP_COUNTER_NONE);
    CHECK(cdp_computed_map_add(map, "Newsletter Read=email_opens", err, sizeof err));
    CHECK_INT(cdp_computed_classify(map, "Newsletter Read"), CDP_COUNTER_EMAIL_OPENS);
    CHECK(cdp_computed_map_add(map, "A=B=downloads", err, sizeof err));
    CHECK_INT(cdp_computed_classify(map, "A=B"), CDP_COUNTER_DOWNLOADS);
    CHECK(!cdp_computed_map_add(map, "X=nothing", err, sizeof err));
    CHECK(strstr(err, "nothing") != NULL);
    CHECK(!cdp_computed_map_add(map, "=orders", err, sizeof err));
    CHECK(!cdp_computed_map_add(map, "X=", err, sizeof err));
    CHECK(!cdp_computed_map_add(map, "X", err, sizeof err));
    cdp_computed_map_free(map);
}

int
main(void)
{
    const struct cdp_limits limits = CDP_LIMITS_DEFAULT;
    snprintf(root, sizeof root, "%s/cdp-test-ingest-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    options.source = "test";
    options.limits = limits;
    options.counters = cdp_computed_map_new();

    test_new_profile_and_duplicates();
    test_rejected();
    test_merge_and_refusal();
    test_suppression();
    test_rename();
    test_orders();
    test_sessions_and_abandoned();

    cdp_computed_map_free((struct cdp_counter_map *)options.counters);
    remove_tree(root);
    return check_summary("ingest");
}
