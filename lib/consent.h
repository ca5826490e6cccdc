/*
 * consent.h - the consent ledger: what each profile agreed to, purpose by
 * purpose, over time.
 *
 * Key:   profile id (16) . purpose . NUL . time (8, big-endian, sign-flipped)
 *        . sequence (8, big-endian)
 * Value: a state byte (CDP_CONSENT_GRANTED or CDP_CONSENT_DENIED), then the
 *        record's details as JSON.
 * The latest record of a purpose is its current state; older ones are the
 * history that an audit shows.
 */
#ifndef CDP_CONSENT_H
#define CDP_CONSENT_H

#include "hash.h"
#include "store.h"

#include <stdbool.h>

enum { CDP_CONSENT_DENIED = 0, CDP_CONSENT_GRANTED = 1 };

/*
 * Sets *granted to whether the latest consent record of this profile and
 * purpose is a grant (false when there is none).  Returns 0 or an LMDB
 * error code.
 */
int cdp_consent_granted(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *profile,
                        const char *purpose, bool *granted);

#endif
