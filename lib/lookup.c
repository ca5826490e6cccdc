/*
 * lookup.c - a profile from an identifier or a profile id.
 */
#include "lookup.h"
#include "event.h"

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
