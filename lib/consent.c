/*
 * consent.c - reading the consent ledger.
 */
#include "consent.h"

#include <string.h>

int
cdp_consent_granted(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *profile,
                    const char *purpose, bool *granted)
{
    *granted = false;
    size_t plen = strlen(purpose);
    if (plen > 200)
        return 0;
    /* prefix = id . purpose . NUL; the latest record sorts last under it. */
    unsigned char key[16 + 201 + 16];
    size_t prefix = 16 + plen + 1;
    memcpy(key, profile->bytes, 16);
    memcpy(key + 16, purpose, plen + 1);
    memset(key + prefix, 0xff, 16);

    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store->dbi[CDP_DB_CONSENT], &cursor);
    if (rc != 0)
        return rc;
    MDB_val k = {prefix + 16, key}, v;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
    if (rc == 0) {
        if (k.mv_size == prefix + 16 && memcmp(k.mv_data, key, prefix) == 0 && v.mv_size >= 1)
            *granted = ((const unsigned char *)v.mv_data)[0] == CDP_CONSENT_GRANTED;
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
