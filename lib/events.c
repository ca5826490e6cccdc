/*
 * events.c - keys and records of the events database.
 */
#include "events.h"

#include <string.h>

void
cdp_events_key(unsigned char key[CDP_EVENT_KEY_SIZE], const struct cdp_id *profile, int64_t time,
               const struct cdp_id *message)
{
    memcpy(key, profile->bytes, 16);
    cdp_store_put_time(key + 16, time);
    memcpy(key + 24, message->bytes, 16);
}

void
cdp_events_message_key(unsigned char key[CDP_MESSAGE_KEY_SIZE], bool untimed, int64_t time,
                       const struct cdp_id *message)
{
    cdp_store_put_time(key, untimed ? INT64_MIN : time);
    memcpy(key + 8, message->bytes, 16);
}

void
cdp_events_encode(struct cdp_buf *out, struct cdp_codec *codec, int64_t time, int type, int flags,
                  const char *name, const char *source, const char *country, bool regioned,
                  int counter, const char *message_id, const char *json, size_t json_len)
{
    struct cdp_event_head head;
    memset(&head, 0, sizeof head);
    if (regioned && country != NULL && strlen(country) == 2)
        memcpy(head.country, country, 2);
    head.regioned = regioned ? 1 : 0;
    head.counter = counter >= 0 && counter < 255 ? (uint8_t)(counter + 1) : 0;
    size_t name_len = strlen(name), source_len = strlen(source), message_len = strlen(message_id);
    head.time = time;
    head.type = (uint8_t)type;
    head.flags = (uint8_t)flags;
    head.name_len = (uint16_t)(name_len > 65535 ? 65535 : name_len);
    head.source_len = (uint16_t)(source_len > 65535 ? 65535 : source_len);
    head.message_len = (uint16_t)(message_len > 65535 ? 65535 : message_len);
    head.json_len = (uint32_t)json_len;
    cdp_buf_reset(out);
    cdp_buf_append(out, &head, sizeof head);
    cdp_buf_append(out, name, head.name_len);
    cdp_buf_append(out, source, head.source_len);
    cdp_buf_append(out, message_id, head.message_len);
    size_t before = out->len;
    if (codec != NULL && cdp_codec_compress(codec, json, json_len, out)) {
        struct cdp_event_head *h = (struct cdp_event_head *)out->data;
        h->flags |= CDP_EVENT_PACKED;
        h->json_len = (uint32_t)(out->len - before);
        return;
    }
    cdp_buf_truncate(out, before);
    cdp_buf_append(out, json, json_len);
}

const char *
cdp_events_text(struct cdp_store *store, const struct cdp_stored_event *ev, struct cdp_buf *buf,
                size_t *len)
{
    if (!(ev->flags & CDP_EVENT_PACKED)) {
        *len = ev->json_len;
        return ev->json;
    }
    if (store->codec == NULL || !cdp_codec_decompress(store->codec, ev->json, ev->json_len, buf))
        return NULL;
    *len = buf->len;
    return buf->data;
}

bool
cdp_events_decode(const MDB_val *key, const MDB_val *value, struct cdp_stored_event *ev)
{
    struct cdp_event_head head;
    if (key->mv_size != CDP_EVENT_KEY_SIZE || value->mv_size < sizeof head)
        return false;
    memcpy(&head, value->mv_data, sizeof head);
    size_t need =
        sizeof head + (size_t)head.name_len + head.source_len + head.message_len + head.json_len;
    if (value->mv_size != need)
        return false;
    const unsigned char *k = key->mv_data;
    const char *p = (const char *)value->mv_data + sizeof head;
    memcpy(ev->profile.bytes, k, 16);
    memcpy(ev->message.bytes, k + 24, 16);
    ev->time = head.time;
    ev->type = head.type;
    ev->flags = head.flags;
    ev->name = p;
    ev->name_len = head.name_len;
    p += head.name_len;
    ev->source = p;
    ev->source_len = head.source_len;
    p += head.source_len;
    ev->message_id = p;
    ev->message_len = head.message_len;
    p += head.message_len;
    ev->json = p;
    ev->json_len = head.json_len;
    ev->country[0] = head.country[0];
    ev->country[1] = head.country[0] ? head.country[1] : '\0';
    ev->country[2] = '\0';
    ev->regioned = head.regioned == 1;
    ev->counter = head.counter ? head.counter - 1 : -1;
    return true;
}

int
cdp_events_each(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *profile,
                int (*fn)(const struct cdp_stored_event *ev, void *ctx), void *ctx)
{
    return cdp_events_each_between(store, txn, profile, INT64_MIN, INT64_MAX, fn, ctx);
}

int
cdp_events_each_between(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *profile,
                        int64_t from, int64_t to,
                        int (*fn)(const struct cdp_stored_event *ev, void *ctx), void *ctx)
{
    MDB_cursor *cursor;
    unsigned char start[24];
    memcpy(start, profile->bytes, 16);
    cdp_store_put_time(start + 16, from);
    /* Keys sort by profile, then time: the walk starts at from and stops after to. */
    MDB_val key = {from == INT64_MIN ? 16 : 24, start}, value;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_EVENTS], &cursor);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == CDP_EVENT_KEY_SIZE &&
           memcmp(key.mv_data, profile->bytes, 16) == 0 &&
           cdp_store_get_time((const unsigned char *)key.mv_data + 16) <= to) {
        struct cdp_stored_event ev;
        if (cdp_events_decode(&key, &value, &ev)) {
            int stop = fn(&ev, ctx);
            if (stop != 0) {
                mdb_cursor_close(cursor);
                return stop;
            }
        }
        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int
cdp_events_move(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *from,
                const struct cdp_id *to)
{
    MDB_cursor *cursor;
    MDB_val key = {16, (void *)from->bytes}, value;
    struct cdp_buf copy = CDP_BUF_INIT;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_EVENTS], &cursor);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == CDP_EVENT_KEY_SIZE &&
           memcmp(key.mv_data, from->bytes, 16) == 0) {
        unsigned char newkey[CDP_EVENT_KEY_SIZE], msgval[24];
        memcpy(newkey, key.mv_data, CDP_EVENT_KEY_SIZE);
        memcpy(newkey, to->bytes, 16);
        /* The value lives in a page the put below may change: copy it first. */
        cdp_buf_reset(&copy);
        cdp_buf_append(&copy, value.mv_data, value.mv_size);
        MDB_val nk = {CDP_EVENT_KEY_SIZE, newkey}, nv = {copy.len, copy.data};
        if ((rc = mdb_cursor_del(cursor, 0)) != 0)
            break;
        if ((rc = mdb_put(txn, store->dbi[CDP_DB_EVENTS], &nk, &nv, 0)) != 0)
            break;
        struct cdp_event_head head;
        unsigned char msgkey[CDP_MESSAGE_KEY_SIZE];
        struct cdp_id message;
        memcpy(&head, copy.data, sizeof head);
        memcpy(message.bytes, newkey + 24, 16);
        cdp_events_message_key(msgkey, head.flags & CDP_EVENT_UNTIMED, head.time, &message);
        memcpy(msgval, to->bytes, 16);
        memcpy(msgval + 16, newkey + 16, 8);
        MDB_val mk = {sizeof msgkey, msgkey}, mv = {sizeof msgval, msgval};
        if ((rc = mdb_put(txn, store->dbi[CDP_DB_MESSAGES], &mk, &mv, 0)) != 0)
            break;
        key.mv_size = 16;
        key.mv_data = (void *)from->bytes;
        rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    }
    mdb_cursor_close(cursor);
    cdp_buf_free(&copy);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
cdp_events_delete_all(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                      uint64_t *count)
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
