/*
 * lookup.c - a profile from an identifier or a profile id.
 */
#include "lookup.h"
#include "event.h"
#include "profile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
cdp_lookup_profile(struct cdp_store *store, MDB_txn *txn, const char *spec, const char *country,
                   struct cdp_id *id, char *err, size_t errsize)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL) {
        if (cdp_hash_from_hex(spec, id))
            return 0;
        snprintf(err, errsize,
                 "'%s' is neither kind:value (e.g. email:jane@example.com) nor a profile id",
                 spec);
        return EINVAL;
    }
    char kind[64], text[CDP_IDENTIFIER_MAX];
    const char *why;
    size_t n = (size_t)(colon - spec);
    if (n == 0 || n >= sizeof kind) {
        snprintf(err, errsize, "bad identifier kind in '%s'", spec);
        return EINVAL;
    }
    memcpy(kind, spec, n);
    kind[n] = '\0';
    if (strcmp(kind, "id") == 0 && cdp_hash_from_hex(colon + 1, id))
        return 0;
    if (!cdp_identifier_normalize(kind, colon + 1, country, text, sizeof text, &why)) {
        snprintf(err, errsize, "%s: %s", spec, why);
        return EINVAL;
    }
    MDB_val key = {strlen(text), text}, value;
    int rc = mdb_get(txn, store->dbi[CDP_DB_IDENTIFIERS], &key, &value);
    if (rc == 0 && value.mv_size != 16)
        rc = MDB_CORRUPTED;
    if (rc == 0)
        memcpy(id->bytes, value.mv_data, 16);
    return rc;
}

int
cdp_lookup_subject(struct cdp_store *store, MDB_txn *txn, const char *spec, const char *country,
                   const struct cdp_id *id, char *out, size_t size)
{
    const char *colon = strchr(spec, ':');
    const char *why;
    if (colon != NULL && (size_t)(colon - spec) < 64 && strncmp(spec, "id:", 3) != 0) {
        char kind[64];
        memcpy(kind, spec, (size_t)(colon - spec));
        kind[colon - spec] = '\0';
        if (cdp_identifier_normalize(kind, colon + 1, country, out, size, &why))
            return 0;
    }
    /* A profile id: its strongest identifier (ties: the first in byte order). */
    MDB_val k = {16, (void *)id->bytes}, v;
    int rc = mdb_get(txn, store->dbi[CDP_DB_PROFILES], &k, &v);
    if (rc != 0)
        return rc;
    struct cdp_profile_record r;
    if (!cdp_profile_record_read(&r, v.mv_data, v.mv_size))
        return MDB_CORRUPTED;
    int best = 0;
    out[0] = '\0';
    for (const char *s = r.identifiers; s < r.identifiers + r.identifiers_len; s += strlen(s) + 1) {
        int strength = cdp_identifier_strength(s);
        if (out[0] == '\0' || strength > best) {
            snprintf(out, size, "%s", s);
            best = strength;
        }
    }
    return out[0] ? 0 : MDB_NOTFOUND;
}
