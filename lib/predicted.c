/*
 * predicted.c - stored predicted attributes: record layout, lookup and the
 * "predicted" object.
 */
#include "predicted.h"

#include "predict.h"
#include "timeparse.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RECORD_VERSION 1

/*
 * Record, host byte order:
 *   0 version (1)  1 rfm_r  2 rfm_f  3 rfm_m  4 rfm_segment  5..7 zero
 *   8 horizon_days (uint32)  12 zero (4)  16 as_of (int64)
 *   24 p_alive  32 churn_risk  40 expected_orders  48 expected_aov  56 clv (doubles)
 */
void
cdp_predicted_encode(const struct cdp_predicted *p, unsigned char out[CDP_PREDICTED_SIZE])
{
    memset(out, 0, CDP_PREDICTED_SIZE);
    out[0] = RECORD_VERSION;
    out[1] = p->rfm_r;
    out[2] = p->rfm_f;
    out[3] = p->rfm_m;
    out[4] = p->rfm_segment;
    memcpy(out + 8, &p->horizon_days, 4);
    memcpy(out + 16, &p->as_of, 8);
    memcpy(out + 24, &p->p_alive, 8);
    memcpy(out + 32, &p->churn_risk, 8);
    memcpy(out + 40, &p->expected_orders, 8);
    memcpy(out + 48, &p->expected_aov, 8);
    memcpy(out + 56, &p->clv, 8);
}

bool
cdp_predicted_decode(const void *data, size_t len, struct cdp_predicted *p)
{
    const unsigned char *in = data;
    if (len != CDP_PREDICTED_SIZE || in[0] != RECORD_VERSION)
        return false;
    p->rfm_r = in[1];
    p->rfm_f = in[2];
    p->rfm_m = in[3];
    p->rfm_segment = in[4];
    memcpy(&p->horizon_days, in + 8, 4);
    memcpy(&p->as_of, in + 16, 8);
    memcpy(&p->p_alive, in + 24, 8);
    memcpy(&p->churn_risk, in + 32, 8);
    memcpy(&p->expected_orders, in + 40, 8);
    memcpy(&p->expected_aov, in + 48, 8);
    memcpy(&p->clv, in + 56, 8);
    return true;
}

int
cdp_predicted_get(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                  struct cdp_predicted *p)
{
    if (store->absent[CDP_DB_PREDICTIONS])
        return MDB_NOTFOUND;
    MDB_val key = {16, (void *)id->bytes}, value;
    int rc = mdb_get(txn, store->dbi[CDP_DB_PREDICTIONS], &key, &value);
    if (rc != 0)
        return rc;
    return cdp_predicted_decode(value.mv_data, value.mv_size, p) ? 0 : MDB_CORRUPTED;
}

int
cdp_predicted_delete(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id)
{
    if (store->absent[CDP_DB_PREDICTIONS])
        return 0;
    MDB_val key = {16, (void *)id->bytes};
    int rc = mdb_del(txn, store->dbi[CDP_DB_PREDICTIONS], &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

enum {
    F_P_ALIVE,
    F_CHURN_RISK,
    F_EXPECTED_ORDERS,
    F_EXPECTED_AOV,
    F_CLV,
    F_RFM_SCORE,
    F_RFM_SEGMENT,
    F_RFM_RECENCY,
    F_RFM_FREQUENCY,
    F_RFM_MONETARY,
    F_AS_OF,
    F_HORIZON_DAYS,
    F_COUNT
};

const struct cdp_predicted_field cdp_predicted_fields[] = {
    [F_P_ALIVE] = {"p_alive", CDP_PREDICTED_NUMBER},
    [F_CHURN_RISK] = {"churn_risk", CDP_PREDICTED_NUMBER},
    [F_EXPECTED_ORDERS] = {"expected_orders", CDP_PREDICTED_NUMBER},
    [F_EXPECTED_AOV] = {"expected_aov", CDP_PREDICTED_NUMBER},
    [F_CLV] = {"clv", CDP_PREDICTED_NUMBER},
    [F_RFM_SCORE] = {"rfm_score", CDP_PREDICTED_NUMBER},
    [F_RFM_SEGMENT] = {"rfm_segment", CDP_PREDICTED_STRING},
    [F_RFM_RECENCY] = {"rfm_recency", CDP_PREDICTED_NUMBER},
    [F_RFM_FREQUENCY] = {"rfm_frequency", CDP_PREDICTED_NUMBER},
    [F_RFM_MONETARY] = {"rfm_monetary", CDP_PREDICTED_NUMBER},
    [F_AS_OF] = {"as_of", CDP_PREDICTED_TIME},
    [F_HORIZON_DAYS] = {"horizon_days", CDP_PREDICTED_NUMBER},
};
const int cdp_predicted_nfields = F_COUNT;

int
cdp_predicted_field_index(const char *name)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strcmp(cdp_predicted_fields[i].name, name) == 0)
            return i;
    return -1;
}

int
cdp_predicted_field(const struct cdp_predicted *p, int which, double *num, struct cdp_buf *out)
{
    *num = NAN;
    cdp_buf_reset(out);
    switch (which) {
    case F_P_ALIVE:
        *num = p->p_alive;
        break;
    case F_CHURN_RISK:
        *num = p->churn_risk;
        break;
    case F_EXPECTED_ORDERS:
        *num = p->expected_orders;
        break;
    case F_EXPECTED_AOV:
        *num = p->expected_aov;
        break;
    case F_CLV:
        *num = p->clv;
        break;
    case F_RFM_SCORE:
        *num = p->rfm_r * 100 + p->rfm_f * 10 + p->rfm_m;
        break;
    case F_RFM_SEGMENT:
        cdp_buf_puts(out, cdp_predict_segment_name(p->rfm_segment));
        break;
    case F_RFM_RECENCY:
        *num = p->rfm_r;
        break;
    case F_RFM_FREQUENCY:
        *num = p->rfm_f;
        break;
    case F_RFM_MONETARY:
        *num = p->rfm_m;
        break;
    case F_AS_OF: {
        char when[40];
        cdp_time_format(p->as_of, when, sizeof when);
        cdp_buf_puts(out, when);
        break;
    }
    case F_HORIZON_DAYS:
        *num = p->horizon_days;
        break;
    default:
        return -1;
    }
    return cdp_predicted_fields[which].kind;
}

void
cdp_predicted_number(struct cdp_buf *out, double v)
{
    if (!isfinite(v)) {
        cdp_buf_puts(out, "null");
        return;
    }
    double mag = fabs(v);
    if (v == 0 || (mag < 1e15 && v == (double)(int64_t)v)) {
        char text[24], *w = text + sizeof text;
        uint64_t u = (uint64_t)(int64_t)mag;
        do
            *--w = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        if (v < 0)
            *--w = '-';
        cdp_buf_append(out, w, (size_t)(text + sizeof text - w));
        return;
    }
    int e = (int)floor(log10(mag));
    if (e < -4 || e > 5) {
        cdp_buf_printf(out, "%.6g", v);
        return;
    }
    /* The six digits as an integer, then the point put in by hand. */
    int64_t digits = llround(mag * pow(10, 5 - e));
    if (digits >= 1000000) { /* 9.999995 rounds up to 10.0000 */
        digits /= 10;
        e++;
        if (e > 5) {
            cdp_buf_printf(out, "%.6g", v);
            return;
        }
    }
    char text[32], *w = text;
    if (v < 0)
        *w++ = '-';
    char d[7];
    for (int i = 5; i >= 0; i--, digits /= 10)
        d[i] = (char)('0' + digits % 10);
    int last = 5; /* the last digit to print: no trailing zeros after the point */
    while (last > e && last > 0 && d[last] == '0')
        last--;
    if (e < 0) {
        *w++ = '0';
        *w++ = '.';
        for (int i = -1; i > e; i--)
            *w++ = '0';
        for (int i = 0; i <= last; i++)
            *w++ = d[i];
    } else {
        for (int i = 0; i <= last; i++) {
            *w++ = d[i];
            if (i == e && i < last)
                *w++ = '.';
        }
    }
    cdp_buf_append(out, text, (size_t)(w - text));
}

void
cdp_predicted_view(const struct cdp_predicted *p, struct cdp_buf *out)
{
    struct cdp_buf text = CDP_BUF_INIT;
    cdp_buf_putc(out, '{');
    for (int i = 0; i < F_COUNT; i++) {
        double num;
        int kind = cdp_predicted_field(p, i, &num, &text);
        if (i)
            cdp_buf_putc(out, ',');
        cdp_buf_putc(out, '"');
        cdp_buf_puts(out, cdp_predicted_fields[i].name);
        cdp_buf_puts(out, "\":");
        if (kind == CDP_PREDICTED_NUMBER)
            cdp_predicted_number(out, num);
        else
            cdp_view_string(out, text.data, text.len);
    }
    cdp_buf_putc(out, '}');
    cdp_buf_free(&text);
}
