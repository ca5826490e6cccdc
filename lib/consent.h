/*
 * consent.h - the consent ledger: what each profile agreed to, purpose by
 * purpose, over time.  Records are only ever added (erasure aside); the
 * state of a purpose at a time t is worked out from them.
 *
 * Key:   profile id (16) . purpose . NUL . time (8, big-endian, sign-flipped)
 *        . record hash (8)
 * Value: status (1: CDP_CONSENT_*), expiry (8, host order; CDP_TIME_NONE for
 *        none), then the record's details as compact JSON: channel, source,
 *        proof, subject, recorded (when it was written).
 *
 * The record hash is the first 8 bytes of the XXH3 hash of the status,
 * expiry and details, so the same record imported twice is stored once.
 * Records move with their profile when profiles merge or are renamed.
 */
#ifndef CDP_CONSENT_H
#define CDP_CONSENT_H

#include "buf.h"
#include "hash.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum cdp_consent_status {
    CDP_CONSENT_DENIED = 0,
    CDP_CONSENT_GRANTED = 1,
    CDP_CONSENT_WITHDRAWN = 2,
};

/* The state of a purpose at a time: why consent is or is not there. */
enum cdp_consent_reason {
    CDP_CONSENT_OK,        /* granted and in force */
    CDP_CONSENT_NO_RECORD, /* nothing recorded (before that time) */
    CDP_CONSENT_IS_DENIED,
    CDP_CONSENT_IS_WITHDRAWN,
    CDP_CONSENT_EXPIRED, /* the grants on record had all expired */
};

#define CDP_CONSENT_PURPOSE_MAX 64

/* One record of the ledger. */
struct cdp_consent_record {
    char purpose[CDP_CONSENT_PURPOSE_MAX];
    enum cdp_consent_status status;
    int64_t time;    /* when the person gave it (not when it was imported) */
    int64_t expires; /* CDP_TIME_NONE: never */
    const char *channel, *source, *proof; /* each may be NULL */
    /*
     * The identifier of the person the record was written for, when it
     * came from no event (an objection, a TCF string), or NULL: a rebuild
     * that splits the profile gives the record to that person's side.
     */
    const char *subject;
    int64_t recorded;                     /* when it was written */
};

/* What cdp_consent_state() found. */
struct cdp_consent_state {
    enum cdp_consent_reason reason;
    int64_t time;           /* of the deciding record; CDP_TIME_NONE when none */
    int64_t expires;        /* of the deciding record */
    char source[128];       /* of the deciding record ("" when none) */
};

/* The purposes known when the store configures none. */
extern const char *const cdp_consent_default_purposes[];

/*
 * The store's purpose vocabulary: the "purposes" entry of the meta database
 * (a JSON array of names) or, when there is none, the defaults.  Returns a
 * new JSON array, or NULL with an LMDB code in *rc.
 */
json_t *cdp_consent_purposes(struct cdp_store *store, MDB_txn *txn, int *rc);

/* True when name is in the vocabulary (a JSON array of strings). */
bool cdp_consent_purpose_known(json_t *purposes, const char *name);

/* A valid purpose name: 1 to 63 of [a-z0-9_]. */
bool cdp_consent_purpose_valid(const char *name);

/*
 * Reads a status word: granted, yes, oui, true, 1, opt-in...; denied, no,
 * non, false, 0, opt-out...; withdrawn, withdraw, retiré...  Case and
 * surrounding blanks do not matter.  False for anything else.
 */
bool cdp_consent_parse_status(const char *word, enum cdp_consent_status *status);

const char *cdp_consent_status_name(enum cdp_consent_status status);
const char *cdp_consent_reason_name(enum cdp_consent_reason reason);

/* Adds a record for profile id.  Returns 0 or an LMDB code. */
int cdp_consent_append(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                       const struct cdp_consent_record *record);

/*
 * The state of a purpose for profile id as of time as_of: among the records
 * of that purpose with a time no later than as_of, the latest that is still
 * in force decides (a grant whose expiry has passed is not; refusals and
 * withdrawals do not expire); at equal times a refusal or a withdrawal
 * wins over a grant.  Returns 0 or an LMDB code.
 */
int cdp_consent_state(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                      const char *purpose, int64_t as_of, struct cdp_consent_state *state);

/* Sets *granted to whether the purpose is granted and in force at as_of. */
int cdp_consent_granted(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                        const char *purpose, int64_t as_of, bool *granted);

/*
 * Calls fn for each record of profile id, by purpose then time; fn returns
 * 0 to go on.  The record's strings point into the store and a scratch
 * buffer: copy what must outlive the call.  Returns 0, fn's value or an
 * LMDB code.
 */
int cdp_consent_each(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                     int (*fn)(const struct cdp_consent_record *record, void *ctx), void *ctx);

/*
 * The profile's consent as the profile object shows it: a JSON object
 * purpose -> {"granted": bool, "status": ..., "time": ISO, "source": ...}
 * for every purpose that has a record, as of as_of.  Appended to out as
 * compact JSON ("{}" when there is none).  Returns 0 or an LMDB code.
 */
int cdp_consent_view(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                     int64_t as_of, struct cdp_buf *out);

/* Deletes every record of profile id; *count is how many.  Returns 0 or an LMDB code. */
int cdp_consent_delete_all(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                           uint64_t *count);

#endif
