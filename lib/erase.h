/*
 * erase.h - erasing a person (GDPR Art. 17): everything the store holds on
 * one profile, in one write transaction, leaving a receipt and the
 * suppression list behind.
 */
#ifndef CDP_ERASE_H
#define CDP_ERASE_H

#include "buf.h"
#include "hash.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct cdp_erase_counts {
    uint64_t events;
    uint64_t identifiers;
    uint64_t consent_records;
    uint64_t segment_memberships;
    uint64_t merge_log_entries;
    uint64_t audit_lines_redacted;
};

/*
 * Deletes profile id in txn: its events and their message records, its
 * identifiers, consent records and segment memberships, the merge-log
 * entries that name it or one of its identifiers, and the record itself;
 * its identifiers and e-mail, name... are redacted from audit lines.  Each
 * identifier's keyed hash joins the suppression list, so the person's old
 * events do not come back with the next import.  *receipt (a new object)
 * holds what may be kept: the request time, the keyed hash of each erased
 * identifier, the counts.  Returns 0, MDB_NOTFOUND when there is no such
 * profile, or an LMDB code.
 *
 * The bytes stay in the data file's free pages until the store is
 * rewritten (cdp_store_rewrite).
 */
int cdp_erase_profile(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                      int64_t now, struct cdp_erase_counts *counts, json_t **receipt,
                      struct cdp_buf *marks);

/*
 * After cdp_erase_profile() has committed: rewrites the store at path so
 * that the erased bytes leave the data file.  marks (NUL-separated, as
 * cdp_erase_profile() left them) are the person's identifiers and texts:
 * when the event dictionary holds one of them (it was trained on the
 * store's first events), a new dictionary is trained on the events left and
 * every event is recompressed with it; with marks NULL, that is done
 * whenever there is a dictionary.  Needs the store closed in this
 * process and not open in any other.  Returns 0, or an error code with the
 * reason in err; *recoded tells whether events were recompressed.
 */
int cdp_erase_scrub(const char *path, const struct cdp_buf *marks, bool *recoded, char *err,
                    size_t errsize);

#endif
