/*
 * predicted.h - the predicted attributes of a profile, as cdp-predict stores
 * them and every other program reads them.
 *
 * One record per profile in the predictions database, keyed by the profile
 * id (layout in cdp-store(5)).  A run of cdp-predict replaces all of them at
 * once, so the records of a store always come from one fit.  Programs show
 * a profile's record as its "predicted" object:
 *
 *   {"p_alive":0.83,"churn_risk":0.17,"expected_orders":1.21,
 *    "expected_aov":45.2,"clv":52.87,"rfm_score":545,
 *    "rfm_segment":"Champions","rfm_recency":5,"rfm_frequency":4,
 *    "rfm_monetary":5,"as_of":"2025-12-31T00:00:00.000Z","horizon_days":90}
 *
 * rfm_score is the three scores as the digits of one number (R F M).
 * A value the models cannot give (an expected order value where it would be
 * infinite, say) is stored as NaN and shown as null.
 */
#ifndef CDP_PREDICTED_H
#define CDP_PREDICTED_H

#include "buf.h"
#include "hash.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

struct cdp_predicted {
    int64_t as_of;         /* start of the last calibration day (ms, UTC) */
    uint32_t horizon_days; /* expected_orders and clv cover this many days after as_of */
    double p_alive;
    double churn_risk; /* 1 - p_alive */
    double expected_orders;
    double expected_aov;
    double clv;
    unsigned char rfm_r, rfm_f, rfm_m; /* quintile scores 1..5 */
    unsigned char rfm_segment;         /* enum cdp_predict_segment */
};

/* The size of a stored record. */
#define CDP_PREDICTED_SIZE 64

/* Writes the record of p into out[CDP_PREDICTED_SIZE]. */
void cdp_predicted_encode(const struct cdp_predicted *p, unsigned char out[CDP_PREDICTED_SIZE]);

/* Reads a stored record; false when it is not one (wrong size or version). */
bool cdp_predicted_decode(const void *data, size_t len, struct cdp_predicted *p);

/*
 * Reads the record of profile id.  Returns 0, MDB_NOTFOUND when the profile
 * has none (or the store has no predictions database yet), MDB_CORRUPTED
 * for a record that does not decode, or an LMDB code.
 */
int cdp_predicted_get(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                      struct cdp_predicted *p);

/* Deletes the record of profile id, if there is one.  Returns 0 or an LMDB code. */
int cdp_predicted_delete(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id);

/*
 * Appends a number as the object shows it: a whole number below 1e15 in
 * full, anything else to six significant digits, as %.6g would write it
 * (but for the last digit of a value within a rounding error of a tie);
 * null for NaN and infinities.
 */
void cdp_predicted_number(struct cdp_buf *out, double v);

/* Appends the "predicted" object (with braces) of p to out. */
void cdp_predicted_view(const struct cdp_predicted *p, struct cdp_buf *out);

/*
 * The fields of the object, for expressions and CSV columns.  Each has a
 * name and a kind: CDP_PREDICTED_NUMBER, _STRING or _TIME.
 */
enum { CDP_PREDICTED_NUMBER, CDP_PREDICTED_STRING, CDP_PREDICTED_TIME };
struct cdp_predicted_field {
    const char *name;
    int kind;
};
extern const struct cdp_predicted_field cdp_predicted_fields[];
extern const int cdp_predicted_nfields;

/* The index of a field's name in cdp_predicted_fields, or -1. */
int cdp_predicted_field_index(const char *name);

/*
 * Field which of p: a number in *num (NaN for none), or text in out
 * (cleared first; the time as cdp_time_format() writes it).  Returns the
 * field's kind, or -1 for no such field.
 */
int cdp_predicted_field(const struct cdp_predicted *p, int which, double *num,
                        struct cdp_buf *out);

#endif
