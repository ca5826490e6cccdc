/*
 * ingest.h - the ingest engine: one event into the store, inside a write
 * transaction the caller batches.
 *
 * For each event: skip it when its message was seen; drop it when one of its
 * identifiers is on the suppression list; find the profiles its identifiers
 * belong to; merge them when the merge rules allow it (else log the refusal
 * and use the profile of the strongest identifier); attach new identifiers;
 * move the profile when the event is its new earliest one (the profile id is
 * the hash of the strongest identifier of its earliest event, so it does not
 * depend on arrival order); update traits and computed traits; store the
 * event.
 */
#ifndef CDP_INGEST_H
#define CDP_INGEST_H

#include "buf.h"
#include "computed.h"
#include "event.h"
#include "store.h"
#include "survive.h"

#include <jansson.h>
#include <stdint.h>

/* Merge protection: how many identifiers of a kind one profile may hold. */
struct cdp_limits {
    int user;
    int email;
    int phone;
    int anon;
    int other; /* each external kind */
};

#define CDP_LIMITS_DEFAULT                                                                         \
    {                                                                                              \
        1, 5, 5, 200, 5                                                                            \
    }

struct cdp_ingest_options {
    const char *source; /* --source, recorded with each trait and event */
    struct cdp_event_options event;
    struct cdp_limits limits;
    const struct cdp_counter_map *counters;
};

struct cdp_ingest_stats {
    uint64_t read;
    uint64_t landed;
    uint64_t duplicates;
    uint64_t rejected;
    uint64_t warnings;
    uint64_t suppressed;
    uint64_t untimed; /* events that took the time of import */
    uint64_t profiles_created;
    uint64_t merges;
    uint64_t merges_refused;
};

/* What became of one event. */
enum cdp_ingest_result {
    CDP_INGEST_LANDED,
    CDP_INGEST_DUPLICATE,
    CDP_INGEST_SUPPRESSED,
    CDP_INGEST_REJECTED,
};

struct cdp_ingest {
    struct cdp_store *store;
    const struct cdp_ingest_options *options;
    MDB_txn *txn;
    int64_t now;
    struct cdp_ingest_stats stats; /* of the open transaction */
    unsigned char salt[32];
    bool suppression_empty;
    struct cdp_buf scratch;
    struct cdp_buf record;
    struct cdp_buf warnings;
    json_t *purposes;          /* the store's consent purposes, loaded with the transaction */
    struct cdp_survive *rules; /* the store's survivorship rules (NULL: none), likewise */
    /*
     * The store's separations (meta "separations"), likewise, or NULL: each
     * {"merge": SEQ, "a": [identifiers], "b": [identifiers]} keeps profiles
     * holding identifiers of side a from merging with those of side b, as
     * merge protection does, since merge SEQ was undone.
     */
    json_t *separations;
    uint64_t replay; /* a replay (lib/rebuild): merge-log entries carry "replay": this seq */
    uint64_t consent_records;  /* consent records written, over the engine's life */
    struct cdp_id last_profile; /* the profile the last landed event went to */
};

/* Sets up an engine (no transaction yet). */
void cdp_ingest_init(struct cdp_ingest *ing, struct cdp_store *store,
                     const struct cdp_ingest_options *options, int64_t now);
void cdp_ingest_free(struct cdp_ingest *ing);

/* Begins a write transaction and resets the batch's stats. */
int cdp_ingest_begin(struct cdp_ingest *ing);
/* Commits the transaction; the caller then adds ing->stats to its totals. */
int cdp_ingest_commit(struct cdp_ingest *ing);
void cdp_ingest_abort(struct cdp_ingest *ing);

/*
 * Takes one parsed event.  raw is the text of the event as read (stored as
 * is when the event has a messageId; NULL to store root's JSON dump).  What
 * became of it goes to *result; on CDP_INGEST_REJECTED the reason is in
 * reason.  Non-fatal warnings are left in ing->warnings (one per line) for
 * the caller to report.  Returns 0, or an LMDB code: then the transaction
 * must be aborted (MDB_MAP_FULL: grow the map and run the batch again).
 */
int cdp_ingest_event(struct cdp_ingest *ing, json_t *root, const char *raw, size_t rawlen,
                     enum cdp_ingest_result *result, char *reason, size_t reasonsize);

/*
 * The keyed hash of an identifier as kept on the suppression list: BLAKE2b
 * of "kind:value" keyed with the store's salt.
 */
void cdp_ingest_suppression_hash(const unsigned char salt[32], const char *identifier,
                                 unsigned char out[32]);

/* Reads the store's salt into salt (32 bytes). */
int cdp_ingest_load_salt(struct cdp_store *store, MDB_txn *txn, unsigned char salt[32]);

/*
 * An order's amount as the counters count it, from the properties of an
 * Order Completed event: total, else revenue, else value, else the sum of
 * price times quantity (1 when absent) of its products; 0 without any.
 * Numbers may be JSON numbers or strings, with a decimal comma.
 */
double cdp_ingest_order_amount(json_t *properties);

/*
 * An order's id: the properties' order_id, else orderId, when a non-empty
 * string (returned as is) or an integer (written into buf); else NULL.
 */
const char *cdp_ingest_order_id(json_t *properties, char *buf, size_t size);

/*
 * True for the identify event by which cdp-merge records a merge it made
 * (source "cdp-merge", a "cdp-merge-" message id, context.merge): kept
 * with the events, but no activity of the person's, and deleted when the
 * merge is undone.  An imported event with a context.merge is none.
 */
bool cdp_ingest_link_event(const char *source, const char *message_id, bool has_merge);

/* Reads the store's separations (a JSON array, or NULL when it has none) into *out. */
int cdp_ingest_load_separations(struct cdp_store *store, MDB_txn *txn, json_t **out);

/*
 * Sets the traits of profile p again from its stored events, oldest first,
 * under the engine's survivorship rules (after a change of rules).  The
 * profile is not saved.  Returns 0 or an LMDB code.
 */
int cdp_ingest_retrait(struct cdp_ingest *ing, struct cdp_profile *p);

/* Adds b into a. */
void cdp_ingest_stats_add(struct cdp_ingest_stats *a, const struct cdp_ingest_stats *b);

#endif
