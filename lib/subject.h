/*
 * subject.h - everything the store holds on one person, for access and
 * portability requests (GDPR Art. 15 and 20): cdp-export --subject.
 */
#ifndef CDP_SUBJECT_H
#define CDP_SUBJECT_H

#include "hash.h"
#include "profile.h"
#include "store.h"

#include <jansson.h>
#include <stdint.h>

/* Every stored event of the profile, in time order, as a new JSON array; *rc is 0 or an LMDB code. */
json_t *cdp_subject_events(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id, int *rc);

/*
 * The merge-log entries that concern the person, oldest first, as a new
 * JSON array: those that name the profile id, and, walking back in time,
 * those that name a profile later merged into it (the loser of a merge it
 * won) or an id it had before a rename.  A refused merge names the other
 * profiles involved but does not lead to them.  Sets *rc to 0 or an LMDB
 * code.
 */
json_t *cdp_subject_merge_log(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                              int *rc);

/*
 * The document: {"subject": given, "exported_at": now, "profile": profile
 * (stolen), "identifiers", "events", "trait_history" (each trait's current
 * value, time and source: the store keeps no older values),
 * "consent_records", "merge_log" (the entries that name the profile, or a
 * profile merged into it or renamed to it), "segments" (name and entry
 * time of every set the profile belongs to)}.  A new object; *rc is 0 or
 * an LMDB code, and the document is incomplete when it is not 0.
 */
json_t *cdp_subject_document(struct cdp_store *store, MDB_txn *txn, struct cdp_profile *p,
                             const char *given, int64_t now, json_t *profile, int *rc);

#endif
