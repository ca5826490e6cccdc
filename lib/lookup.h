/*
 * lookup.h - finding a person's profile from what a user types: any
 * identifier as kind:value (email:jane@example.com, phone:06 12 34 56 78,
 * user:u-1001), or a profile id (32 hexadecimal digits, or id:HEX).
 */
#ifndef CDP_LOOKUP_H
#define CDP_LOOKUP_H

#include "hash.h"
#include "store.h"

#include <stddef.h>

/*
 * Sets *id to the profile that spec names; country is the default region of
 * a national phone number (or NULL).  A profile id is returned as given,
 * without checking that it exists.  Returns 0, MDB_NOTFOUND when no profile
 * holds the identifier, EINVAL with the reason in err when spec cannot be
 * read, or an LMDB code.
 */
int cdp_lookup_profile(struct cdp_store *store, MDB_txn *txn, const char *spec,
                       const char *country, struct cdp_id *id, char *err, size_t errsize);

/*
 * The identifier that stands for the person spec names, found as profile
 * id: spec itself, normalised, when it is an identifier; else the
 * profile's strongest identifier (ties: the first in byte order).  Written
 * into out; returns 0, MDB_NOTFOUND when the profile has none, or an LMDB
 * code.
 */
int cdp_lookup_subject(struct cdp_store *store, MDB_txn *txn, const char *spec, const char *country,
                       const struct cdp_id *id, char *out, size_t size);

#endif
