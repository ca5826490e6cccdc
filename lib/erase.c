/*
 * erase.c - erasing a person from the store.
 */
#include "erase.h"
#include "predicted.h"
#include "buf.h"
#include "codec.h"
#include "consent.h"
#include "events.h"
#include "ingest.h"
#include "profile.h"
#include "timeparse.h"

#include <stdio.h>
#include <stdlib.h>
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

/*
 * Deletes the profile from every set of members: saved segments, and the
 * sets cdp-export keeps of what it sent to each target ("NAME@TARGET").
 */
static int
erase_memberships(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, uint64_t *count)
{
    MDB_cursor *cursor;
    MDB_val k, v;
    struct cdp_buf keys = CDP_BUF_INIT; /* length (2) . key, of the records to delete */
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_MEMBERS], &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        const unsigned char *key = k.mv_data;
        if (k.mv_size < 18 || k.mv_size > 65535 || key[k.mv_size - 17] != '\0' ||
            memcmp(key + k.mv_size - 16, id->bytes, 16) != 0)
            continue;
        unsigned char len[2] = {(unsigned char)(k.mv_size >> 8), (unsigned char)k.mv_size};
        cdp_buf_append(&keys, len, 2);
        cdp_buf_append(&keys, k.mv_data, k.mv_size);
    }
    mdb_cursor_close(cursor);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    for (size_t off = 0; rc == 0 && off < keys.len;) {
        size_t n = ((size_t)(unsigned char)keys.data[off] << 8) | (unsigned char)keys.data[off + 1];
        MDB_val dk = {n, keys.data + off + 2};
        if ((rc = mdb_del(txn, store->dbi[CDP_DB_MEMBERS], &dk, NULL)) == 0)
            (*count)++;
        off += 2 + n;
    }
    cdp_buf_free(&keys);
    return rc;
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

/*
 * Takes the person's identifiers out of the separations that undone merges
 * left (meta "separations"); a separation with a side left empty goes.
 */
static int
erase_separations(struct cdp_store *store, MDB_txn *txn, const struct cdp_profile *p)
{
    json_t *seps, *kept = json_array(), *sep;
    int rc = cdp_ingest_load_separations(store, txn, &seps);
    bool changed = false;
    size_t i;
    json_array_foreach(seps, i, sep)
    {
        json_t *copy = json_deep_copy(sep);
        bool empty = false;
        for (int k = 0; k < 2; k++) {
            json_t *side = json_object_get(copy, k ? "b" : "a");
            for (size_t j = json_array_size(side); j-- > 0;) {
                const char *identifier = json_string_value(json_array_get(side, j));
                if (identifier && cdp_profile_has_identifier(p, identifier)) {
                    json_array_remove(side, j);
                    changed = true;
                }
            }
            empty = empty || json_array_size(side) == 0;
        }
        if (empty)
            json_decref(copy);
        else
            json_array_append_new(kept, copy);
    }
    if (rc == 0 && changed) {
        if (json_array_size(kept) == 0) {
            MDB_val key = {11, "separations"};
            rc = mdb_del(txn, store->dbi[CDP_DB_META], &key, NULL);
        } else {
            char *text = json_dumps(kept, JSON_COMPACT);
            rc = cdp_store_meta_put(store, txn, "separations", text, strlen(text));
            free(text);
        }
    }
    json_decref(seps);
    json_decref(kept);
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
                  struct cdp_erase_counts *counts, json_t **receipt, struct cdp_buf *marks)
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
    if ((rc = cdp_events_delete_all(store, txn, id, &counts->events)) != 0 ||
        (rc = cdp_consent_delete_all(store, txn, id, &counts->consent_records)) != 0 ||
        (rc = erase_memberships(store, txn, id, &counts->segment_memberships)) != 0 ||
        (rc = erase_merge_log(store, txn, &m, n_id, &counts->merge_log_entries)) != 0 ||
        (rc = erase_separations(store, txn, &p)) != 0 ||
        (rc = redact_audit(store, txn, &m, n_id, &counts->audit_lines_redacted)) != 0 ||
        (rc = cdp_ingest_load_salt(store, txn, salt)) != 0)
        goto out;
    cdp_profile_each_identifier(&p, suppress_identifier, &sc);
    counts->identifiers = sc.count;
    if ((rc = sc.rc) != 0)
        goto out;
    if ((rc = mdb_del(txn, store->dbi[CDP_DB_PROFILES], &k, NULL)) != 0 ||
        (rc = cdp_predicted_delete(store, txn, id)) != 0)
        goto out;

    char when[40];
    cdp_time_format(now, when, sizeof when);
    *receipt = json_pack("{s:s,s:s,s:O,s:{s:I,s:I,s:I,s:I,s:I,s:I}}", "action", "erasure",
                         "requested", when, "identifier_hashes", sc.hashes, "counts", "events",
                         (json_int_t)counts->events, "identifiers",
                         (json_int_t)counts->identifiers, "consent_records",
                         (json_int_t)counts->consent_records, "segment_memberships",
                         (json_int_t)counts->segment_memberships, "merge_log_entries",
                         (json_int_t)counts->merge_log_entries, "audit_lines_redacted",
                         (json_int_t)counts->audit_lines_redacted);
    cdp_buf_reset(marks);
    for (size_t i = 0; i < m.count; i++)
        cdp_buf_append(marks, m.items[i], strlen(m.items[i]) + 1);
out:
    json_decref(sc.hashes);
    free_marks(&m);
    cdp_profile_free(&p);
    return rc;
}

/* ---- the rewrite, with the events recompressed when the dictionary names the person ---- */

struct recode {
    struct cdp_codec *old, *fresh;
    struct cdp_buf dict; /* the new dictionary (empty: none) */
    struct cdp_buf text, value;
};

static int
recode_record(int db, const MDB_val *key, MDB_val *value, void *ctx)
{
    struct recode *r = ctx;
    if (db == CDP_DB_META && key->mv_size == 10 && memcmp(key->mv_data, "event_dict", 10) == 0) {
        if (r->dict.len == 0)
            return CDP_STORE_DROP;
        value->mv_size = r->dict.len;
        value->mv_data = r->dict.data;
        return 0;
    }
    if (db != CDP_DB_EVENTS)
        return 0;
    struct cdp_stored_event ev;
    if (!cdp_events_decode(key, value, &ev) || !(ev.flags & CDP_EVENT_PACKED))
        return 0;
    if (!cdp_codec_decompress(r->old, ev.json, ev.json_len, &r->text))
        return MDB_CORRUPTED;
    /* Names and ids are not NUL-terminated in the record: copy them. */
    char *name = cdp_xmalloc(ev.name_len + ev.source_len + ev.message_len + 3);
    char *source = name + ev.name_len + 1, *message = source + ev.source_len + 1;
    memcpy(name, ev.name, ev.name_len);
    name[ev.name_len] = '\0';
    memcpy(source, ev.source, ev.source_len);
    source[ev.source_len] = '\0';
    memcpy(message, ev.message_id, ev.message_len);
    message[ev.message_len] = '\0';
    cdp_events_encode(&r->value, r->fresh, ev.time, ev.type, ev.flags & ~CDP_EVENT_PACKED, name,
                      source, ev.country, ev.regioned, ev.counter, message, r->text.data,
                      r->text.len);
    free(name);
    value->mv_size = r->value.len;
    value->mv_data = r->value.data;
    return 0;
}

/* Trains a dictionary on up to 5000 of the store's events, decompressed with the old one. */
static int
train_again(struct cdp_store *store, struct recode *r)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cursor;
    MDB_val k, v;
    struct cdp_buf samples = CDP_BUF_INIT;
    size_t *sizes = cdp_xmalloc(5000 * sizeof *sizes), count = 0;
    int rc = cdp_store_begin(store, false, &txn);
    if (rc != 0 || (rc = mdb_cursor_open(txn, store->dbi[CDP_DB_EVENTS], &cursor)) != 0)
        goto out;
    while (count < 5000 && (rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        struct cdp_stored_event ev;
        size_t len;
        if (!cdp_events_decode(&k, &v, &ev))
            continue;
        const char *text = cdp_events_text(store, &ev, &r->text, &len);
        if (text == NULL)
            continue;
        cdp_buf_append(&samples, text, len);
        sizes[count++] = len;
    }
    mdb_cursor_close(cursor);
    rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
    if (rc == 0 && cdp_codec_train(samples.data, sizes, count, &r->dict))
        r->fresh = cdp_codec_new(r->dict.data, r->dict.len);
    if (r->fresh == NULL)
        cdp_buf_reset(&r->dict);
out:
    if (txn)
        mdb_txn_abort(txn);
    cdp_buf_free(&samples);
    free(sizes);
    return rc;
}

int
cdp_erase_scrub(const char *path, const struct cdp_buf *marks, bool *recoded, char *err,
                size_t errsize)
{
    struct cdp_store store;
    struct recode r;
    memset(&r, 0, sizeof r);
    *recoded = false;
    int rc = cdp_store_open(&store, path, CDP_STORE_READ, err, errsize);
    if (rc != 0)
        return rc;
    bool named = false;
    MDB_txn *txn;
    MDB_val dict;
    if ((rc = cdp_store_begin(&store, false, &txn)) == 0) {
        if (cdp_store_meta_get(&store, txn, "event_dict", &dict) == 0) {
            named = marks == NULL; /* no marks: a new dictionary in any case */
            for (size_t off = 0; marks != NULL && off < marks->len && !named;) {
                const char *mark = marks->data + off;
                size_t n = strlen(mark);
                named = memmem(dict.mv_data, dict.mv_size, mark, n) != NULL;
                off += n + 1;
            }
        }
        mdb_txn_abort(txn);
    }
    if (rc == 0 && named && store.codec != NULL) {
        /* The old codec reads the samples, then the rewrite's records: it outlives the store. */
        r.old = store.codec;
        rc = train_again(&store, &r);
        store.codec = NULL;
    }
    cdp_store_close(&store);
    if (rc == 0) {
        rc = cdp_store_rewrite(path, r.old ? recode_record : NULL, &r, err, errsize);
        *recoded = rc == 0 && r.old != NULL;
    } else {
        snprintf(err, errsize, "%s", cdp_store_strerror(rc));
    }
    cdp_codec_free(r.old);
    cdp_codec_free(r.fresh);
    cdp_buf_free(&r.dict);
    cdp_buf_free(&r.text);
    cdp_buf_free(&r.value);
    return rc;
}
