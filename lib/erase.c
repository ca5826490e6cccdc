/*
 * erase.c - erasing a person from the store.
 */
#include "erase.h"
#include "buf.h"
#include "consent.h"
#include "events.h"
#include "ingest.h"
#include "profile.h"
#include "timeparse.h"

#include <string.h>

/* The strings that give the person away: id, identifiers and their values, trait texts. */
struct marks {
    char **items;
    size_t count;
};

static void
add_mark(struct marks *m, const char *s)
{
    if (s == NULL || strlen(s) < 3)
        return;
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->items[i], s) == 0)
            return;
    m->items = cdp_xrealloc(m->items, (m->count + 1) * sizeof *m->items);
    m->items[m->count++] = cdp_xstrdup(s);
}

static void
mark_identifier(const char *identifier, void *ctx)
{
    add_mark(ctx, identifier);
    const char *colon = strchr(identifier, ':');
    if (colon)
        add_mark(ctx, colon + 1);
}

static void
free_marks(struct marks *m)
{
    for (size_t i = 0; i < m->count; i++)
        free(m->items[i]);
    free(m->items);
}

/* True when text[0..len) holds one of the first n marks. */
static bool
holds_mark(const struct marks *m, size_t n, const char *text, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (memmem(text, len, m->items[i], strlen(m->items[i])) != NULL)
            return true;
    return false;
}

/* Deletes the events of the profile and their message records. */
static int
erase_events(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, uint64_t *count)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_EVENTS], &cursor);
    if (rc != 0)
        return rc;
    for (;;) {
        MDB_val k = {16, (void *)id->bytes}, v;
        if ((rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)) != 0)
            break;
        if (k.mv_size < 16 || memcmp(k.mv_data, id->bytes, 16) != 0)
            break;
        struct cdp_stored_event ev;
        if (cdp_events_decode(&k, &v, &ev)) {
            unsigned char mk[CDP_MESSAGE_KEY_SIZE];
            cdp_events_message_key(mk, (ev.flags & CDP_EVENT_UNTIMED) != 0, ev.time, &ev.message);
            MDB_val mkey = {sizeof mk, mk};
            rc = mdb_del(txn, store->dbi[CDP_DB_MESSAGES], &mkey, NULL);
            if (rc != 0 && rc != MDB_NOTFOUND)
                break;
        }
        if ((rc = mdb_cursor_del(cursor, 0)) != 0)
            break;
        (*count)++;
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Deletes the profile from every saved segment's members. */
static int
erase_memberships(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, uint64_t *count)
{
    MDB_cursor *cursor;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_SEGMENTS], &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        unsigned char key[128];
        if (k.mv_size > sizeof key - 17)
            continue;
        memcpy(key, k.mv_data, k.mv_size);
        key[k.mv_size] = '\0';
        memcpy(key + k.mv_size + 1, id->bytes, 16);
        MDB_val mk = {k.mv_size + 17, key};
        int d = mdb_del(txn, store->dbi[CDP_DB_MEMBERS], &mk, NULL);
        if (d == 0)
            (*count)++;
        else if (d != MDB_NOTFOUND) {
            rc = d;
            break;
        }
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Deletes the merge-log entries that name the person (the first n_id marks). */
static int
erase_merge_log(struct cdp_store *store, MDB_txn *txn, const struct marks *m, size_t n_id,
                uint64_t *count)
{
    MDB_cursor *cursor;
    MDB_val k, v;
    struct cdp_buf keys = CDP_BUF_INIT; /* the 8-byte keys to delete */
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_MERGELOG], &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0)
        if (k.mv_size == 8 && holds_mark(m, n_id, v.mv_data, v.mv_size))
            cdp_buf_append(&keys, k.mv_data, 8);
    mdb_cursor_close(cursor);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    for (size_t off = 0; rc == 0 && off < keys.len; off += 8) {
        MDB_val dk = {8, keys.data + off};
        if ((rc = mdb_del(txn, store->dbi[CDP_DB_MERGELOG], &dk, NULL)) == 0)
            (*count)++;
    }
    cdp_buf_free(&keys);
    return rc;
}

/* Replaces every mark in the audit lines that name the person with "[erased]". */
static int
redact_audit(struct cdp_store *store, MDB_txn *txn, const struct marks *m, size_t n_id,
             uint64_t *count)
{
    MDB_cursor *cursor;
    MDB_val k, v;
    struct cdp_buf text = CDP_BUF_INIT;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_AUDIT], &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        if (!holds_mark(m, n_id, v.mv_data, v.mv_size))
            continue;
        cdp_buf_reset(&text);
        cdp_buf_append(&text, v.mv_data, v.mv_size);
        for (size_t i = 0; i < m->count; i++) {
            const char *mark = m->items[i];
            size_t n = strlen(mark);
            char *at;
            while ((at = memmem(text.data, text.len, mark, n)) != NULL) {
                size_t off = (size_t)(at - text.data);
                struct cdp_buf rest = CDP_BUF_INIT;
                cdp_buf_append(&rest, at + n, text.len - off - n);
                cdp_buf_truncate(&text, off);
                cdp_buf_puts(&text, "[erased]");
                cdp_buf_append(&text, rest.data ? rest.data : "", rest.len);
                cdp_buf_free(&rest);
            }
        }
        /* The key points into the page the put rewrites: copy it first. */
        unsigned char key[8];
        if (k.mv_size != sizeof key)
            continue;
        memcpy(key, k.mv_data, sizeof key);
        MDB_val nk = {sizeof key, key}, nv = {text.len, text.data};
        if ((rc = mdb_cursor_put(cursor, &nk, &nv, MDB_CURRENT)) != 0)
            break;
        (*count)++;
    }
    mdb_cursor_close(cursor);
    cdp_buf_free(&text);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

struct suppress_ctx {
    struct cdp_store *store;
    MDB_txn *txn;
    const unsigned char *salt;
    int64_t now;
    json_t *hashes;
    uint64_t count;
    int rc;
};

/* Removes one identifier and puts its keyed hash on the suppression list. */
static void
suppress_identifier(const char *identifier, void *ctx)
{
    struct suppress_ctx *c = ctx;
    if (c->rc != 0)
        return;
    MDB_val k = {strlen(identifier), (void *)identifier};
    int rc = mdb_del(c->txn, c->store->dbi[CDP_DB_IDENTIFIERS], &k, NULL);
    if (rc == 0)
        c->count++;
    else if (rc != MDB_NOTFOUND) {
        c->rc = rc;
        return;
    }
    unsigned char h[32], when[8];
    cdp_ingest_suppression_hash(c->salt, identifier, h);
    memcpy(when, &c->now, 8);
    MDB_val hk = {32, h}, hv = {8, when};
    if ((c->rc = mdb_put(c->txn, c->store->dbi[CDP_DB_SUPPRESSION], &hk, &hv, 0)) != 0)
        return;
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    json_array_append_new(c->hashes, json_string(hex));
}

int
cdp_erase_profile(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, int64_t now,
                  struct cdp_erase_counts *counts, json_t **receipt)
{
    memset(counts, 0, sizeof *counts);
    *receipt = NULL;
    MDB_val k = {16, (void *)id->bytes}, v;
    int rc = mdb_get(txn, store->dbi[CDP_DB_PROFILES], &k, &v);
    if (rc != 0)
        return rc;
    struct cdp_profile p;
    if (!cdp_profile_decode(&p, id, v.mv_data, v.mv_size)) {
        cdp_profile_free(&p);
        return MDB_CORRUPTED;
    }
    cdp_profile_load(&p);

    /* What names the person: the id and identifiers first, then trait texts. */
    struct marks m = {NULL, 0};
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(id, hex);
    add_mark(&m, hex);
    cdp_profile_each_identifier(&p, mark_identifier, &m);
    size_t n_id = m.count;
    const char *name;
    json_t *entry;
    json_object_foreach(p.traits, name, entry)
    {
        json_t *value = json_array_get(entry, 0);
        if (json_is_string(value) && json_string_length(value) >= 4)
            add_mark(&m, json_string_value(value));
    }

    unsigned char salt[32];
    struct suppress_ctx sc = {store, txn, salt, now, json_array(), 0, 0};
    if ((rc = erase_events(store, txn, id, &counts->events)) != 0 ||
        (rc = cdp_consent_delete_all(store, txn, id, &counts->consent_records)) != 0 ||
        (rc = erase_memberships(store, txn, id, &counts->segment_memberships)) != 0 ||
        (rc = erase_merge_log(store, txn, &m, n_id, &counts->merge_log_entries)) != 0 ||
        (rc = redact_audit(store, txn, &m, n_id, &counts->audit_lines_redacted)) != 0 ||
        (rc = cdp_ingest_load_salt(store, txn, salt)) != 0)
        goto out;
    cdp_profile_each_identifier(&p, suppress_identifier, &sc);
    counts->identifiers = sc.count;
    if ((rc = sc.rc) != 0)
        goto out;
    if ((rc = mdb_del(txn, store->dbi[CDP_DB_PROFILES], &k, NULL)) != 0)
        goto out;

    char when[40];
    cdp_time_format(now, when, sizeof when);
    *receipt = json_pack("{s:s,s:s,s:O,s:{s:I,s:I,s:I,s:I,s:I}}", "action", "erasure",
                         "requested", when, "identifier_hashes", sc.hashes, "counts", "events",
                         (json_int_t)counts->events, "identifiers",
                         (json_int_t)counts->identifiers, "consent_records",
                         (json_int_t)counts->consent_records, "segment_memberships",
                         (json_int_t)counts->segment_memberships, "merge_log_entries",
                         (json_int_t)counts->merge_log_entries);
out:
    json_decref(sc.hashes);
    free_marks(&m);
    cdp_profile_free(&p);
    return rc;
}
