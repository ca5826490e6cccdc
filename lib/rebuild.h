/*
 * rebuild.h - profiles built again from their stored events.
 *
 * A rebuild takes profiles apart (their records, identifiers, events,
 * message records, predictions and consent records) and feeds their stored
 * events through the ingest engine again, oldest first (time, then message
 * hash: the key order of the messages database), so the result does not
 * depend on the order in which the events first arrived.  The engine
 * applies the store's current rules: merge protection, survivorship and
 * the separations that undone merges left.
 *
 * Each event is replayed with the source and, when it carried no
 * timestamp, the time it was stored with; an event whose message id was
 * made up by ingest gets the same one again.  Consent records that no event
 * reproduces (objections, TCF strings recorded with cdp-consent) go to the
 * profile that now holds the identifier they were written for (their
 * "subject"); records without one go to the new profiles holding the old
 * profile's identifiers: refusals and withdrawals to every one of them,
 * grants only when the old profile's identifiers all went to one profile
 * (a grant is not given to a person who did not give it).
 *
 * Everything happens in the engine's write transaction; the old state is
 * read from a read transaction begun after it (the same snapshot), which
 * keeps its pages alive meanwhile.  Merge-log entries that the replay
 * writes carry "replay" (the engine's replay seq); refusals that the
 * replay supersedes, or settles as they were settled before, are settled
 * in the log.
 */
#ifndef CDP_REBUILD_H
#define CDP_REBUILD_H

#include "ingest.h"

struct cdp_rebuild_stats {
    uint64_t profiles_before; /* profiles taken apart */
    uint64_t profiles_after;  /* profiles the replay made */
    uint64_t events;          /* events replayed */
    uint64_t not_replayed;    /* events dropped (an erased person's) or refused (listed on warnings) */
    uint64_t merges, refused; /* merges the replay made, and refused */
    uint64_t consent_carried; /* consent records carried to the new profiles */
    uint64_t grants_dropped;  /* grants not carried: their profile was split */
    uint64_t settled;         /* quarantine entries settled by the replay */
    uint64_t unregioned;      /* events stored before their region was kept */
    uint64_t consent_homeless; /* records whose person holds no identifier any more */
    struct cdp_buf warnings;  /* one line per event not replayed (caller frees) */
};

/*
 * Returned when a stored event cannot be replayed (its text unreadable, or
 * the engine rejects it): the transaction must be abandoned, since the
 * event would be lost.  The replay stops there; that event is named in
 * st->warnings.
 */
#define CDP_REBUILD_UNREPLAYABLE (-29000)

/* Rebuilds every profile of the store.  Returns 0, CDP_REBUILD_UNREPLAYABLE or an LMDB code. */
int cdp_rebuild_all(struct cdp_ingest *ing, MDB_txn *old, struct cdp_rebuild_stats *st);

/*
 * Rebuilds the profiles ids[0..n) from their events, leaving out the event
 * whose message hash is *drop (when drop is not NULL), which is deleted.
 * The ids of the profiles made go to st->profiles_after and, as hex
 * strings, into made (a JSON array) when made is not NULL.
 */
int cdp_rebuild_profiles(struct cdp_ingest *ing, MDB_txn *old, const struct cdp_id *ids, size_t n,
                         const struct cdp_id *drop, json_t *made, struct cdp_rebuild_stats *st);

/*
 * Sets the traits of every profile again from its events under the
 * engine's survivorship rules; *changed counts the profiles whose traits
 * changed.  Returns 0 or an LMDB code.
 */
int cdp_rebuild_traits(struct cdp_ingest *ing, uint64_t *profiles, uint64_t *changed);

/*
 * Appends entry (taken) to the merge log with its "seq" and "recorded" (the
 * engine's now) and, during a replay, "replay"; the seq goes to *seq when
 * seq is not NULL.
 */
int cdp_rebuild_log(struct cdp_ingest *ing, json_t *entry, uint64_t *seq);

/*
 * Calls fn for every merge-log entry in seq order, with its seq, its action
 * ("" when it has none) and the entry parsed (borrowed; NULL when it does
 * not parse).  fn returns 0 to go on, or a code that stops the walk and is
 * returned.  Returns 0 or an LMDB code.
 */
int cdp_mergelog_each(struct cdp_store *store, MDB_txn *txn,
                      int (*fn)(uint64_t seq, const char *action, json_t *entry, void *ctx),
                      void *ctx);

/*
 * Appends to the merge log the settlement of quarantined merge seq
 * quarantine: {"action":"settled","quarantine":SEQ,"decision":decision}.
 */
int cdp_rebuild_settle(struct cdp_ingest *ing, uint64_t quarantine, const char *decision);

#endif
