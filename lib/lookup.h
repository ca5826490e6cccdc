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

#endif
