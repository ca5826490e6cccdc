/*
 * consent.c - the consent ledger: records, the state of a purpose at a
 * time, and the consent object of a profile.
 */
#include "consent.h"
#include "timeparse.h"
#include "view.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

const char *const cdp_consent_default_purposes[] = {
    "email_marketing", "sms_marketing", "ads_personalization", "analytics",
    "profiling",       "data_sharing",  NULL,
};

json_t *
cdp_consent_purposes(struct cdp_store *store, MDB_txn *txn, int *rc)
{
    MDB_val v;
    *rc = cdp_store_meta_get(store, txn, "purposes", &v);
    if (*rc == 0) {
        json_t *list = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (json_is_array(list))
            return list;
        json_decref(list);
        *rc = MDB_CORRUPTED;
        return NULL;
    }
    if (*rc != MDB_NOTFOUND)
        return NULL;
    *rc = 0;
    json_t *list = json_array();
    for (int i = 0; cdp_consent_default_purposes[i]; i++)
        json_array_append_new(list, json_string(cdp_consent_default_purposes[i]));
    return list;
}

bool
cdp_consent_purpose_known(json_t *purposes, const char *name)
{
    size_t i;
    json_t *item;
    json_array_foreach(purposes, i, item)
    {
        if (json_is_string(item) && strcmp(json_string_value(item), name) == 0)
            return true;
    }
    return false;
}

bool
cdp_consent_purpose_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= CDP_CONSENT_PURPOSE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_'))
            return false;
    return true;
}

bool
cdp_consent_parse_status(const char *word, enum cdp_consent_status *status)
{
    static const struct {
        const char *word;
        enum cdp_consent_status status;
    } words[] = {
        {"granted", CDP_CONSENT_GRANTED},    {"grant", CDP_CONSENT_GRANTED},
        {"yes", CDP_CONSENT_GRANTED},        {"y", CDP_CONSENT_GRANTED},
        {"oui", CDP_CONSENT_GRANTED},        {"o", CDP_CONSENT_GRANTED},
        {"true", CDP_CONSENT_GRANTED},       {"1", CDP_CONSENT_GRANTED},
        {"opt-in", CDP_CONSENT_GRANTED},     {"optin", CDP_CONSENT_GRANTED},
        {"opted in", CDP_CONSENT_GRANTED},   {"accepted", CDP_CONSENT_GRANTED},
        {"denied", CDP_CONSENT_DENIED},      {"deny", CDP_CONSENT_DENIED},
        {"no", CDP_CONSENT_DENIED},          {"n", CDP_CONSENT_DENIED},
        {"non", CDP_CONSENT_DENIED},         {"false", CDP_CONSENT_DENIED},
        {"0", CDP_CONSENT_DENIED},           {"opt-out", CDP_CONSENT_DENIED},
        {"optout", CDP_CONSENT_DENIED},      {"refused", CDP_CONSENT_DENIED},
        {"rejected", CDP_CONSENT_DENIED},    {"withdrawn", CDP_CONSENT_WITHDRAWN},
        {"withdraw", CDP_CONSENT_WITHDRAWN}, {"revoked", CDP_CONSENT_WITHDRAWN},
        {"retiré", CDP_CONSENT_WITHDRAWN},   {"retire", CDP_CONSENT_WITHDRAWN},
        {"objected", CDP_CONSENT_WITHDRAWN}, {"unsubscribed", CDP_CONSENT_WITHDRAWN},
    };
    while (*word == ' ' || *word == '\t')
        word++;
    size_t n = strlen(word);
    while (n > 0 && (word[n - 1] == ' ' || word[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strlen(words[i].word) == n && strncasecmp(words[i].word, word, n) == 0) {
            *status = words[i].status;
            return true;
        }
    }
    return false;
}

const char *
cdp_consent_status_name(enum cdp_consent_status status)
{
    switch (status) {
    case CDP_CONSENT_GRANTED:
        return "granted";
    case CDP_CONSENT_WITHDRAWN:
        return "withdrawn";
    default:
        return "denied";
    }
}

const char *
cdp_consent_reason_name(enum cdp_consent_reason reason)
{
    switch (reason) {
    case CDP_CONSENT_OK:
        return "granted";
    case CDP_CONSENT_NO_RECORD:
        return "no record";
    case CDP_CONSENT_IS_DENIED:
        return "denied";
    case CDP_CONSENT_IS_WITHDRAWN:
        return "withdrawn";
    default:
        return "expired";
    }
}

/* id . purpose . NUL: the prefix of a purpose's records; returns its length. */
static size_t
purpose_prefix(unsigned char *key, const struct cdp_id *id, const char *purpose)
{
    size_t n = strlen(purpose);
    memcpy(key, id->bytes, 16);
    memcpy(key + 16, purpose, n + 1);
    return 16 + n + 1;
}

static void
put_optional(json_t *obj, const char *name, const char *value)
{
    if (value != NULL && *value)
        json_object_set_new(obj, name, json_string(value));
}

int
cdp_consent_append(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                   const struct cdp_consent_record *r)
{
    if (!cdp_consent_purpose_valid(r->purpose))
        return EINVAL;
    json_t *details = json_object();
    put_optional(details, "channel", r->channel);
    put_optional(details, "source", r->source);
    put_optional(details, "proof", r->proof);
    put_optional(details, "subject", r->subject);
    char *identity = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    char recorded[40];
    cdp_time_format(r->recorded, recorded, sizeof recorded);
    json_object_set_new(details, "recorded", json_string(recorded));
    char *text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(details);
    if (identity == NULL || text == NULL) {
        free(identity);
        free(text);
        return ENOMEM;
    }

    /* The value: status, expiry, details. */
    struct cdp_buf value = CDP_BUF_INIT;
    unsigned char status = (unsigned char)r->status;
    cdp_buf_append(&value, &status, 1);
    cdp_buf_append(&value, &r->expires, 8);
    size_t fixed = value.len;
    cdp_buf_puts(&value, identity);
    /* The hash leaves "recorded" out: the same record imported again is the same record. */
    XXH64_hash_t h = XXH3_64bits(value.data, value.len);
    cdp_buf_truncate(&value, fixed);
    cdp_buf_puts(&value, text);
    free(identity);
    free(text);

    unsigned char key[16 + CDP_CONSENT_PURPOSE_MAX + 16];
    size_t n = purpose_prefix(key, id, r->purpose);
    cdp_store_put_time(key + n, r->time);
    cdp_store_put_be64(key + n + 8, (uint64_t)h);
    MDB_val k = {n + 16, key}, v = {value.len, value.data};
    int rc = mdb_put(txn, store->dbi[CDP_DB_CONSENT], &k, &v, 0);
    cdp_buf_free(&value);
    return rc;
}

/* Decodes a value's status and expiry; false when damaged. */
static bool
decode_value(const MDB_val *v, enum cdp_consent_status *status, int64_t *expires)
{
    if (v->mv_size < 9)
        return false;
    const unsigned char *p = v->mv_data;
    if (p[0] > CDP_CONSENT_WITHDRAWN)
        return false;
    *status = (enum cdp_consent_status)p[0];
    memcpy(expires, p + 1, 8);
    return true;
}

int
cdp_consent_state(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                  const char *purpose, int64_t as_of, struct cdp_consent_state *state)
{
    memset(state, 0, sizeof *state);
    state->reason = CDP_CONSENT_NO_RECORD;
    state->time = CDP_TIME_NONE;
    state->expires = CDP_TIME_NONE;
    if (!cdp_consent_purpose_valid(purpose))
        return 0;
    unsigned char key[16 + CDP_CONSENT_PURPOSE_MAX + 16];
    size_t prefix = purpose_prefix(key, id, purpose);
    cdp_store_put_time(key + prefix, as_of);
    memset(key + prefix + 8, 0xff, 8);

    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_CONSENT], &cursor);
    if (rc != 0)
        return rc;
    /* From the last record at or before as_of, backwards. */
    MDB_val k = {prefix + 16, key}, v;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && !(k.mv_size == prefix + 16 && memcmp(k.mv_data, key, prefix + 16) == 0))
        rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
    bool chosen = false, saw_expired = false;
    enum cdp_consent_status best = CDP_CONSENT_DENIED;
    const MDB_val *best_value = NULL;
    MDB_val kept;
    for (; rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV)) {
        if (k.mv_size != prefix + 16 || memcmp(k.mv_data, key, prefix) != 0)
            break;
        int64_t t = cdp_store_get_time((const unsigned char *)k.mv_data + prefix);
        enum cdp_consent_status status;
        int64_t expires;
        if (t > as_of || !decode_value(&v, &status, &expires))
            continue;
        if (chosen && t < state->time)
            break; /* every record at the deciding time has been seen */
        /* Only a grant expires: a refusal or a withdrawal stands until a later record. */
        if (status == CDP_CONSENT_GRANTED && expires != CDP_TIME_NONE && expires <= as_of) {
            saw_expired = true;
            continue;
        }
        /* At equal times a refusal or withdrawal wins over a grant. */
        if (!chosen || (best == CDP_CONSENT_GRANTED && status != CDP_CONSENT_GRANTED)) {
            chosen = true;
            best = status;
            state->time = t;
            state->expires = expires;
            kept = v;
            best_value = &kept;
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc == 0 && chosen) {
        state->reason = best == CDP_CONSENT_GRANTED  ? CDP_CONSENT_OK
                        : best == CDP_CONSENT_DENIED ? CDP_CONSENT_IS_DENIED
                                                     : CDP_CONSENT_IS_WITHDRAWN;
        json_t *details = json_loadb((const char *)best_value->mv_data + 9,
                                     best_value->mv_size - 9, 0, NULL);
        const char *source = json_string_value(json_object_get(details, "source"));
        snprintf(state->source, sizeof state->source, "%s", source ? source : "");
        json_decref(details);
    } else if (rc == 0 && saw_expired) {
        state->reason = CDP_CONSENT_EXPIRED;
    }
    mdb_cursor_close(cursor);
    return rc;
}

int
cdp_consent_granted(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                    const char *purpose, int64_t as_of, bool *granted)
{
    struct cdp_consent_state state;
    int rc = cdp_consent_state(store, txn, id, purpose, as_of, &state);
    *granted = rc == 0 && state.reason == CDP_CONSENT_OK;
    return rc;
}

int
cdp_consent_each(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                 int (*fn)(const struct cdp_consent_record *record, void *ctx), void *ctx)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_CONSENT], &cursor);
    if (rc != 0)
        return rc;
    MDB_val k = {16, (void *)id->bytes}, v;
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 16 + 2 + 16 || memcmp(k.mv_data, id->bytes, 16) != 0)
            break;
        const char *purpose = (const char *)k.mv_data + 16;
        size_t plen = k.mv_size - 16 - 16;
        struct cdp_consent_record r;
        memset(&r, 0, sizeof r);
        if (plen == 0 || plen > sizeof r.purpose || purpose[plen - 1] != '\0' ||
            !decode_value(&v, &r.status, &r.expires))
            continue;
        memcpy(r.purpose, purpose, plen);
        r.time = cdp_store_get_time((const unsigned char *)k.mv_data + 16 + plen);
        json_t *details = json_loadb((const char *)v.mv_data + 9, v.mv_size - 9, 0, NULL);
        r.channel = json_string_value(json_object_get(details, "channel"));
        r.source = json_string_value(json_object_get(details, "source"));
        r.proof = json_string_value(json_object_get(details, "proof"));
        r.subject = json_string_value(json_object_get(details, "subject"));
        const char *recorded = json_string_value(json_object_get(details, "recorded"));
        r.recorded = CDP_TIME_NONE;
        if (recorded)
            cdp_time_parse(recorded, strlen(recorded), &r.recorded);
        int stop = fn(&r, ctx);
        json_decref(details);
        if (stop) {
            rc = stop;
            break;
        }
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Collects the distinct purposes of a profile's records, in order. */
static int
collect_purpose(const struct cdp_consent_record *r, void *ctx)
{
    json_t *list = ctx;
    size_t n = json_array_size(list);
    if (n == 0 || strcmp(json_string_value(json_array_get(list, n - 1)), r->purpose) != 0)
        json_array_append_new(list, json_string(r->purpose));
    return 0;
}

int
cdp_consent_view(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, int64_t as_of,
                 struct cdp_buf *out)
{
    json_t *purposes = json_array();
    int rc = cdp_consent_each(store, txn, id, collect_purpose, purposes);
    cdp_buf_putc(out, '{');
    size_t i;
    json_t *item;
    json_array_foreach(purposes, i, item)
    {
        if (rc != 0)
            break;
        const char *purpose = json_string_value(item);
        struct cdp_consent_state st;
        if ((rc = cdp_consent_state(store, txn, id, purpose, as_of, &st)) != 0)
            break;
        if (i)
            cdp_buf_putc(out, ',');
        cdp_view_string(out, purpose, strlen(purpose));
        cdp_buf_printf(out, ":{\"granted\":%s,\"status\":\"%s\",\"time\":",
                       st.reason == CDP_CONSENT_OK ? "true" : "false",
                       cdp_consent_reason_name(st.reason));
        cdp_view_time(out, st.time);
        cdp_buf_puts(out, ",\"source\":");
        cdp_view_string(out, st.source, strlen(st.source));
        cdp_buf_putc(out, '}');
    }
    cdp_buf_putc(out, '}');
    json_decref(purposes);
    return rc;
}

int
cdp_consent_delete_all(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                       uint64_t *count)
{
    MDB_cursor *cursor;
    *count = 0;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_CONSENT], &cursor);
    if (rc != 0)
        return rc;
    for (;;) {
        MDB_val k = {16, (void *)id->bytes}, v;
        if ((rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)) != 0)
            break;
        if (k.mv_size < 16 || memcmp(k.mv_data, id->bytes, 16) != 0)
            break;
        if ((rc = mdb_cursor_del(cursor, 0)) != 0)
            break;
        (*count)++;
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
