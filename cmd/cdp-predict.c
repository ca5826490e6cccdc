/*
 * cdp-predict - predicted attributes of customers: RFM scores, the
 * probability of being still active, expected purchases, expected order
 * value, lifetime value and churn risk.
 *
 * Three steps.  Read every customer's orders, from the store's Order
 * Completed events (the default) or from a transaction stream on stdin
 * (--transactions), and summarise them as of the calibration day.  Fit the
 * BG/NBD and Gamma-Gamma models by maximum likelihood (lib/predict), or take
 * the parameters of an earlier fit (--params).  Score every customer, and
 * write the scores into the store's predictions database, replacing those of
 * the previous run in one transaction, or as NDJSON.
 *
 * Memory holds each customer's summary and, while reading, the orders: it
 * grows with the number of customers and orders, not with the events.
 */
#include "buf.h"
#include "cli.h"
#include "computed.h"
#include "events.h"
#include "hash.h"
#include "ingest.h"
#include "input.h"
#include "predict.h"
#include "predicted.h"
#include "profile.h"
#include "store.h"
#include "timeparse.h"
#include "view.h"

#include <csv.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define DAY_MS INT64_C(86400000)

enum {
    OPT_TRANSACTIONS = CDP_OPT_FIRST_PRIVATE,
    OPT_AS_OF,
    OPT_HORIZON,
    OPT_UNIT,
    OPT_DISCOUNT,
    OPT_PARAMS,
    OPT_SAVE_PARAMS,
    OPT_DRY_RUN,
    OPT_CUSTOMER,
    OPT_DATE,
    OPT_AMOUNT,
    OPT_DATE_FORMAT,
    OPT_DELIMITER,
    OPT_COUNT,
};

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cdp-predict [options]                  score the store's customers\n"
            "       cdp-predict --transactions [options] < orders.csv\n"
            "Fit the BG/NBD and Gamma-Gamma models to every customer's purchases and\n"
            "predict who is still active, how much they will buy, and their RFM segment.\n"
            "\n"
            "Options:\n"
            "      --transactions      read transactions (customer, date, amount) as CSV or\n"
            "                          NDJSON from stdin and write predictions as NDJSON\n"
            "      --as-of DATE        last day of the calibration period, included (default:\n"
            "                          the day of the latest purchase); later purchases are\n"
            "                          left out of the fit\n"
            "      --horizon DURATION  the future predicted, e.g. 90d, 39w (default: 90d)\n"
            "      --unit UNIT         days (default) or weeks: the models' time unit\n"
            "      --discount RATE     discount rate per 30 days for lifetime value (default: 0)\n"
            "      --params FILE       use the parameters saved in FILE instead of fitting\n"
            "      --save-params FILE  save the fitted parameters to FILE as JSON\n"
            "      --dry-run           store: write the predictions as NDJSON, store nothing\n"
            "      --count SPEC        store: 'Event Name=orders' also counts as an order\n"
            "Transactions:\n"
            "      --customer FIELD    the customer column or member (default: customer)\n"
            "      --date FIELD        the date column or member (default: date)\n"
            "      --amount FIELD      the amount column or member (default: amount)\n"
            "      --date-format FMT   strptime-style format of the dates (default: ISO 8601,\n"
            "                          YYYYMMDD, or epoch seconds or milliseconds)\n"
            "      --delimiter C       CSV field delimiter (default: ,)\n"
            "\n%s",
            cdp_cli_common_help);
}

/* ---- the customers and their orders ---- */

struct customer {
    struct cdp_id id;  /* store: the profile id */
    size_t name;       /* stream: offset of the name in names */
    size_t first, n;   /* their orders: txns[first .. first + n) once grouped */
};

struct predict {
    struct cdp_common common;
    struct cdp_store store;
    bool store_open;
    bool from_stream, dry_run;
    const char *params_file, *save_params_file;
    const char *customer_field, *date_field, *amount_field, *date_format;
    char delimiter;
    struct cdp_counter_map *counters;
    bool more_orders; /* --count was given: look at every profile's events */
    enum cdp_predict_unit unit;
    int64_t as_of;      /* start of the as-of day; INT64_MIN until known */
    int64_t horizon_ms; /* > 0 */
    double discount;

    struct customer *customers;
    size_t ncustomers, capcustomers;
    struct cdp_buf names; /* stream: NUL-terminated customer names */
    /* the hash table of names: index + 1, 0 for empty */
    uint32_t *table;
    size_t table_size;

    /* orders, in reading order, then grouped by customer */
    struct cdp_predict_txn *txns;
    uint32_t *owner;
    size_t ntxns, captxns;
    int64_t latest; /* the latest purchase seen */

    uint64_t rejected, orders_read;
    bool failed;
};

static void
add_txn(struct predict *pr, uint32_t customer, int64_t time, double amount)
{
    if (pr->ntxns == pr->captxns) {
        pr->captxns = pr->captxns ? 2 * pr->captxns : 4096;
        pr->txns = cdp_xrealloc(pr->txns, pr->captxns * sizeof *pr->txns);
        pr->owner = cdp_xrealloc(pr->owner, pr->captxns * sizeof *pr->owner);
    }
    pr->txns[pr->ntxns] = (struct cdp_predict_txn){time, amount};
    pr->owner[pr->ntxns] = customer;
    pr->ntxns++;
    if (time > pr->latest)
        pr->latest = time;
}

static uint32_t
new_customer(struct predict *pr)
{
    if (pr->ncustomers == pr->capcustomers) {
        pr->capcustomers = pr->capcustomers ? 2 * pr->capcustomers : 1024;
        pr->customers = cdp_xrealloc(pr->customers, pr->capcustomers * sizeof *pr->customers);
    }
    memset(&pr->customers[pr->ncustomers], 0, sizeof *pr->customers);
    return (uint32_t)pr->ncustomers++;
}

static const char *
customer_name(const struct predict *pr, const struct customer *c)
{
    return pr->names.data + c->name;
}

/* The customer of a name, made on first sight: an open-addressing table of indexes. */
static uint32_t
customer_of(struct predict *pr, const char *name, size_t len)
{
    if (2 * (pr->ncustomers + 1) > pr->table_size) {
        size_t size = pr->table_size ? 2 * pr->table_size : 4096;
        uint32_t *table = cdp_xcalloc(size, sizeof *table);
        for (size_t i = 0; i < pr->ncustomers; i++) {
            const char *s = customer_name(pr, &pr->customers[i]);
            size_t h = XXH3_64bits(s, strlen(s)) & (size - 1);
            while (table[h])
                h = (h + 1) & (size - 1);
            table[h] = (uint32_t)i + 1;
        }
        free(pr->table);
        pr->table = table;
        pr->table_size = size;
    }
    size_t h = XXH3_64bits(name, len) & (pr->table_size - 1);
    while (pr->table[h]) {
        const char *s = customer_name(pr, &pr->customers[pr->table[h] - 1]);
        if (strncmp(s, name, len) == 0 && s[len] == '\0')
            return pr->table[h] - 1;
        h = (h + 1) & (pr->table_size - 1);
    }
    uint32_t c = new_customer(pr);
    pr->customers[c].name = pr->names.len;
    cdp_buf_append(&pr->names, name, len);
    cdp_buf_putc(&pr->names, '\0');
    pr->table[h] = c + 1;
    return c;
}

/* Groups the orders by customer (a counting sort that keeps their order). */
static void
group_orders(struct predict *pr)
{
    for (size_t i = 0; i < pr->ncustomers; i++)
        pr->customers[i].n = 0;
    for (size_t i = 0; i < pr->ntxns; i++)
        pr->customers[pr->owner[i]].n++;
    size_t at = 0;
    for (size_t i = 0; i < pr->ncustomers; i++) {
        pr->customers[i].first = at;
        at += pr->customers[i].n;
        pr->customers[i].n = 0;
    }
    struct cdp_predict_txn *grouped = cdp_xmalloc((pr->ntxns ? pr->ntxns : 1) * sizeof *grouped);
    for (size_t i = 0; i < pr->ntxns; i++) {
        struct customer *c = &pr->customers[pr->owner[i]];
        grouped[c->first + c->n++] = pr->txns[i];
    }
    free(pr->txns);
    free(pr->owner);
    pr->owner = NULL;
    pr->txns = grouped;
}

/* ---- reading transactions ---- */

/* A number: a JSON number, or a string such as "12.50" or "12,50". */
static bool
parse_amount(const char *s, size_t len, double *out)
{
    char text[64];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, s, len);
    text[len] = '\0';
    char *comma = strchr(text, ',');
    if (comma && strchr(comma + 1, ',') == NULL && strchr(text, '.') == NULL)
        *comma = '.';
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return end != text && *end == '\0' && errno == 0 && isfinite(*out);
}

static bool
parse_date(const struct predict *pr, const char *s, size_t len, int64_t *ms)
{
    if (pr->date_format)
        return cdp_time_parse_format(s, len, pr->date_format, ms);
    bool digits8 = len == 8;
    for (size_t i = 0; digits8 && i < len; i++)
        digits8 = s[i] >= '0' && s[i] <= '9';
    if (digits8)
        return cdp_time_parse_format(s, len, "%Y%m%d", ms);
    return cdp_time_parse(s, len, ms);
}

/* One transaction from its three texts; a bad one is reported with its line and skipped. */
static void
take_transaction(struct predict *pr, uint64_t line, const char *customer, size_t clen,
                 const char *date, size_t dlen, const char *amount, size_t alen)
{
    int64_t ms;
    double value;
    const char *why = NULL;
    if (customer == NULL || clen == 0)
        why = "no customer";
    else if (date == NULL || !parse_date(pr, date, dlen, &ms))
        why = "no date, or a date that cannot be read";
    else if (amount == NULL || !parse_amount(amount, alen, &value))
        why = "no amount, or an amount that is not a number";
    if (why != NULL) {
        cdp_cli_warn("-:%llu: %s; transaction skipped", (unsigned long long)line, why);
        pr->rejected++;
        return;
    }
    add_txn(pr, customer_of(pr, customer, clen), ms, value);
    pr->orders_read++;
}

/* CSV: the header row names the columns. */
struct csv_reader {
    struct predict *pr;
    struct cdp_buf *fields; /* the current row's cells */
    size_t nfields, capfields;
    bool header_done;
    int col_customer, col_date, col_amount;
    uint64_t line;
    bool stop;
};

static void
csv_cell_cb(void *data, size_t len, void *ctx)
{
    struct csv_reader *r = ctx;
    if (r->nfields == r->capfields) {
        size_t cap = r->capfields ? 2 * r->capfields : 16;
        r->fields = cdp_xrealloc(r->fields, cap * sizeof *r->fields);
        for (size_t i = r->capfields; i < cap; i++)
            r->fields[i] = (struct cdp_buf)CDP_BUF_INIT;
        r->capfields = cap;
    }
    cdp_buf_reset(&r->fields[r->nfields]);
    cdp_buf_append(&r->fields[r->nfields], data ? data : "", data ? len : 0);
    r->nfields++;
}

static const char *
csv_cell_text(struct csv_reader *r, int col, size_t *len)
{
    if (col < 0 || (size_t)col >= r->nfields) {
        *len = 0;
        return NULL;
    }
    *len = r->fields[col].len;
    return r->fields[col].data ? r->fields[col].data : "";
}

static int
find_column(struct csv_reader *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const struct cdp_buf *f = &r->fields[i];
        const char *text = f->data ? f->data : "";
        size_t len = f->len;
        while (len > 0 && (*text == ' ' || *text == '\t'))
            text++, len--;
        while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
            len--;
        if (len == strlen(name) && strncasecmp(text, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static void
csv_row_cb(int c, void *ctx)
{
    (void)c;
    struct csv_reader *r = ctx;
    struct predict *pr = r->pr;
    if (!r->header_done) {
        r->header_done = true;
        r->col_customer = find_column(r, pr->customer_field);
        r->col_date = find_column(r, pr->date_field);
        r->col_amount = find_column(r, pr->amount_field);
        const char *missing = r->col_customer < 0 ? pr->customer_field
                              : r->col_date < 0   ? pr->date_field
                              : r->col_amount < 0 ? pr->amount_field
                                                  : NULL;
        if (missing) {
            cdp_cli_warn("-:%llu: the header has no column '%s' (name the columns with "
                         "--customer, --date and --amount)",
                         (unsigned long long)r->line, missing);
            r->stop = true;
            pr->failed = true;
        }
        r->nfields = 0;
        return;
    }
    if (r->nfields == 1 && r->fields[0].len == 0) { /* a blank line */
        r->nfields = 0;
        return;
    }
    size_t clen, dlen, alen;
    const char *customer = csv_cell_text(r, r->col_customer, &clen);
    const char *date = csv_cell_text(r, r->col_date, &dlen);
    const char *amount = csv_cell_text(r, r->col_amount, &alen);
    take_transaction(pr, r->line, customer, clen, date, dlen, amount, alen);
    r->nfields = 0;
}

/* A member's text: a string as it is, a number as written; false for anything else. */
static bool
member_text(json_t *v, char *buf, size_t size, const char **text, size_t *len)
{
    if (json_is_string(v)) {
        *text = json_string_value(v);
        *len = json_string_length(v);
        return true;
    }
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, size, "%.17g", json_real_value(v));
    } else {
        return false;
    }
    *text = buf;
    *len = strlen(buf);
    return true;
}

static void
ndjson_line(struct predict *pr, const char *line, size_t len, uint64_t lineno)
{
    json_error_t jerr;
    json_t *obj = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(obj)) {
        cdp_cli_warn("-:%llu: %s; transaction skipped", (unsigned long long)lineno,
                     obj ? "not a JSON object" : jerr.text);
        pr->rejected++;
        json_decref(obj);
        return;
    }
    char cbuf[64], dbuf[64], abuf[64];
    const char *c = NULL, *d = NULL, *a = NULL;
    size_t clen = 0, dlen = 0, alen = 0;
    member_text(cdp_json_path(obj, pr->customer_field), cbuf, sizeof cbuf, &c, &clen);
    member_text(cdp_json_path(obj, pr->date_field), dbuf, sizeof dbuf, &d, &dlen);
    member_text(cdp_json_path(obj, pr->amount_field), abuf, sizeof abuf, &a, &alen);
    take_transaction(pr, lineno, c, clen, d, dlen, a, alen);
    json_decref(obj);
}

static void
read_transactions(struct predict *pr)
{
    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long;
    int format = 0; /* 0 unknown, 1 csv, 2 ndjson */
    if (pr->common.input_format) {
        if (strcmp(pr->common.input_format, "csv") == 0)
            format = 1;
        else if (strcmp(pr->common.input_format, "ndjson") == 0)
            format = 2;
        else
            cdp_cli_usage_error("--input-format is csv or ndjson, not '%s'",
                                pr->common.input_format);
    }
    struct csv_parser parser;
    struct csv_reader reader = {.pr = pr};
    if (csv_init(&parser, CSV_APPEND_NULL) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "out of memory");
    csv_set_delim(&parser, (unsigned char)pr->delimiter);

    cdp_lines_init(&lines, STDIN_FILENO, CDP_INPUT_DEFAULT_MAX_LINE);
    while (!reader.stop && cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (too_long) {
            cdp_cli_warn("-:%llu: line longer than %zu bytes, skipped",
                         (unsigned long long)lines.lineno, (size_t)CDP_INPUT_DEFAULT_MAX_LINE);
            pr->rejected++;
            continue;
        }
        if (format == 0) {
            if (cdp_input_blank(line, len))
                continue;
            size_t i = 0;
            while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
            format = line[i] == '{' ? 2 : 1;
        }
        if (format == 2) {
            if (!cdp_input_blank(line, len))
                ndjson_line(pr, line, len, lines.lineno);
            continue;
        }
        reader.line = lines.lineno;
        if (csv_parse(&parser, line, len, csv_cell_cb, csv_row_cb, &reader) != len ||
            csv_parse(&parser, "\n", 1, csv_cell_cb, csv_row_cb, &reader) != 1) {
            cdp_cli_warn("-:%llu: %s", (unsigned long long)lines.lineno,
                         csv_strerror(csv_error(&parser)));
            pr->failed = true;
            break;
        }
    }
    if (lines.error)
        cdp_cli_die(CDP_EXIT_FAILURE, "reading stdin: %s", strerror(lines.error));
    if (format == 1 && !reader.stop && csv_fini(&parser, csv_cell_cb, csv_row_cb, &reader) != 0)
        cdp_cli_warn("-:%llu: unclosed quote at the end of the input",
                     (unsigned long long)lines.lineno);
    csv_free(&parser);
    for (size_t i = 0; i < reader.capfields; i++)
        cdp_buf_free(&reader.fields[i]);
    free(reader.fields);
    cdp_lines_free(&lines);
    if (pr->failed)
        cdp_cli_die(CDP_EXIT_FAILURE, "cannot read the transactions");
}

/* ---- reading orders from the store ---- */

struct order_walk {
    struct predict *pr;
    MDB_txn *txn;
    uint32_t customer;
    struct cdp_buf text;
    int rc;
};

/* True when this event is the first sighting of its order id (or the order has none). */
static int
counted_order(struct order_walk *w, const struct cdp_stored_event *ev, json_t *props, bool *yes)
{
    char buf[32];
    const char *order_id = cdp_ingest_order_id(props, buf, sizeof buf);
    *yes = true;
    if (order_id == NULL)
        return 0;
    struct cdp_buf key = CDP_BUF_INIT;
    cdp_buf_printf(&key, "order:%s", order_id);
    struct cdp_id h = cdp_hash_bytes(key.data, key.len);
    cdp_buf_free(&key);
    MDB_val k = {16, h.bytes}, v;
    int rc = mdb_get(w->txn, w->pr->store.dbi[CDP_DB_ORDERS], &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    *yes = v.mv_size >= 16 && memcmp(v.mv_data, ev->message.bytes, 16) == 0;
    return 0;
}

static int
order_event(const struct cdp_stored_event *ev, void *ctx)
{
    struct order_walk *w = ctx;
    char name[256];
    if (ev->type != 2 || ev->name_len >= sizeof name) /* track events only */
        return 0;
    memcpy(name, ev->name, ev->name_len);
    name[ev->name_len] = '\0';
    if (cdp_computed_classify(w->pr->counters, name) != CDP_COUNTER_ORDER)
        return 0;
    size_t len;
    const char *text = cdp_events_text(&w->pr->store, ev, &w->text, &len);
    json_t *root = text ? json_loadb(text, len, 0, NULL) : NULL;
    if (root == NULL) {
        char hex[CDP_ID_HEX_SIZE];
        cdp_hash_to_hex(&ev->profile, hex);
        cdp_cli_warn("profile %s: an order event cannot be read, left out", hex);
        w->pr->rejected++;
        return 0;
    }
    json_t *props = json_object_get(root, "properties");
    bool counted;
    int rc = counted_order(w, ev, props, &counted);
    if (rc == 0 && counted) {
        add_txn(w->pr, w->customer, ev->time, cdp_ingest_order_amount(props));
        w->pr->orders_read++;
    }
    json_decref(root);
    return rc;
}

static _Noreturn void
store_failed(struct predict *pr, int rc)
{
    cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", pr->common.db, cdp_store_strerror(rc));
}

static void
read_store(struct predict *pr)
{
    char err[512];
    int rc = cdp_store_open(&pr->store, pr->common.db, pr->dry_run ? CDP_STORE_READ : CDP_STORE_WRITE,
                            err, sizeof err);
    if (rc != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    pr->store_open = true;
    MDB_txn *txn;
    MDB_cursor *cursor;
    if ((rc = cdp_store_begin(&pr->store, false, &txn)) != 0 ||
        (rc = cdp_store_load_codec(&pr->store, txn)) != 0 ||
        (rc = mdb_cursor_open(txn, pr->store.dbi[CDP_DB_PROFILES], &cursor)) != 0)
        store_failed(pr, rc);
    struct order_walk w = {pr, txn, 0, CDP_BUF_INIT, 0};
    MDB_val k, v;
    size_t walked = 0;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        if (++walked % 1024 == 0) /* the store's pages out of the way: memory is the customers' */
            cdp_store_release_pages_over(&pr->store, (size_t)64 << 20);
        struct cdp_profile_head head;
        if (k.mv_size != 16 || !cdp_profile_decode_head(&head, v.mv_data, v.mv_size)) {
            cdp_cli_warn("a damaged profile record is left out");
            pr->rejected++;
            continue;
        }
        /* The counters know who ordered, unless --count names more order events. */
        if (head.orders_count == 0 && !pr->more_orders)
            continue;
        size_t before = pr->ntxns;
        w.customer = new_customer(pr);
        memcpy(pr->customers[w.customer].id.bytes, k.mv_data, 16);
        rc = cdp_events_each(&pr->store, txn, &pr->customers[w.customer].id, order_event, &w);
        if (rc != 0)
            store_failed(pr, rc);
        if (pr->ntxns == before) /* no counted order after all */
            pr->ncustomers--;
    }
    if (rc != MDB_NOTFOUND)
        store_failed(pr, rc);
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    cdp_buf_free(&w.text);
    cdp_store_release_pages(&pr->store);
}

/* ---- the models ---- */

struct scores {
    size_t n;            /* customers with a purchase by the as-of day */
    uint32_t *who;       /* their indexes in customers, in output order */
    struct cdp_predict_summary *summary;
    double *x, *t_x, *T; /* the BG/NBD's columns */
    unsigned char *r, *f, *m;
    double cuts[3][4];
    uint64_t *holdout; /* purchase days after the as-of day, within the horizon */
};

struct params {
    struct cdp_predict_bgnbd bgnbd;
    struct cdp_predict_gamma_gamma gg;
    struct cdp_predict_fit_report bgnbd_report, gg_report;
    size_t gg_rows;
    bool fitted;
};

static double
unit_days(const struct predict *pr)
{
    return (double)pr->unit;
}

static const char *
unit_name(enum cdp_predict_unit unit)
{
    return unit == CDP_PREDICT_WEEKS ? "weeks" : "days";
}

/* Output order: by name (stream) or id (store), so that input order does not matter. */
static const struct predict *sort_pr;
static const uint32_t *sort_who;

static int
by_customer(const void *a, const void *b)
{
    const struct customer *x = &sort_pr->customers[sort_who[*(const uint32_t *)a]];
    const struct customer *y = &sort_pr->customers[sort_who[*(const uint32_t *)b]];
    if (sort_pr->from_stream)
        return strcmp(customer_name(sort_pr, x), customer_name(sort_pr, y));
    return cdp_hash_compare(&x->id, &y->id);
}

static int64_t
day_of(int64_t ms)
{
    return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
}

/* Summarises every customer who bought by the as-of day, in output order. */
static void
summarize_all(struct predict *pr, struct scores *s)
{
    size_t cap = pr->ncustomers ? pr->ncustomers : 1;
    uint32_t *who = cdp_xmalloc(cap * sizeof *who);
    struct cdp_predict_summary *summary = cdp_xmalloc(cap * sizeof *summary);
    uint64_t *holdout = cdp_xcalloc(cap, sizeof *holdout);
    int64_t after = pr->as_of + DAY_MS, horizon_end = after + pr->horizon_ms;
    size_t n = 0;
    for (size_t i = 0; i < pr->ncustomers; i++) {
        struct customer *c = &pr->customers[i];
        struct cdp_predict_txn *t = pr->txns + c->first;
        if (!cdp_predict_summarize(t, c->n, pr->as_of, pr->unit, &summary[n]))
            continue;
        /* The holdout: distinct purchase days after the as-of day (t is sorted now). */
        int64_t last_day = INT64_MIN;
        for (size_t j = 0; j < c->n; j++) {
            if (t[j].time_ms < after || t[j].time_ms >= horizon_end)
                continue;
            holdout[n] += day_of(t[j].time_ms) != last_day;
            last_day = day_of(t[j].time_ms);
        }
        who[n++] = (uint32_t)i;
    }
    uint32_t *order = cdp_xmalloc(cap * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    sort_pr = pr;
    sort_who = who;
    qsort(order, n, sizeof *order, by_customer);
    s->n = n;
    s->who = cdp_xmalloc(cap * sizeof *s->who);
    s->summary = cdp_xmalloc(cap * sizeof *s->summary);
    s->holdout = cdp_xmalloc(cap * sizeof *s->holdout);
    for (size_t i = 0; i < n; i++) {
        s->who[i] = who[order[i]];
        s->summary[i] = summary[order[i]];
        s->holdout[i] = holdout[order[i]];
    }
    free(order);
    free(who);
    free(summary);
    free(holdout);

    s->x = cdp_xmalloc((s->n ? s->n : 1) * sizeof *s->x);
    s->t_x = cdp_xmalloc((s->n ? s->n : 1) * sizeof *s->t_x);
    s->T = cdp_xmalloc((s->n ? s->n : 1) * sizeof *s->T);
    for (size_t i = 0; i < s->n; i++) {
        s->x[i] = s->summary[i].x;
        s->t_x[i] = s->summary[i].t_x;
        s->T[i] = s->summary[i].T;
    }
}

static void
rfm_all(struct scores *s)
{
    size_t n = s->n ? s->n : 1;
    double *v = cdp_xmalloc(n * sizeof *v);
    s->r = cdp_xmalloc(n);
    s->f = cdp_xmalloc(n);
    s->m = cdp_xmalloc(n);
    if (s->n == 0) {
        free(v);
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        v[i] = s->summary[i].recency;
    cdp_predict_rfm_scores(v, s->n, false, s->r, s->cuts[0]);
    for (size_t i = 0; i < s->n; i++)
        v[i] = (double)s->summary[i].orders;
    cdp_predict_rfm_scores(v, s->n, true, s->f, s->cuts[1]);
    for (size_t i = 0; i < s->n; i++)
        v[i] = s->summary[i].total;
    cdp_predict_rfm_scores(v, s->n, true, s->m, s->cuts[2]);
    free(v);
}

static void
fit_failed(const char *model, int status, const char *detail)
{
    cdp_cli_die(CDP_EXIT_FAILURE, "the %s fit failed: %s%s; nothing was written", model,
                cdp_predict_strerror(status), detail);
}

static void
fit_all(struct scores *s, struct params *p)
{
    char detail[256];
    int status = cdp_predict_bgnbd_fit(s->x, s->t_x, s->T, s->n, NULL, &p->bgnbd, &p->bgnbd_report);
    if (status != CDP_PREDICT_OK) {
        snprintf(detail, sizeof detail,
                 " (%zu customers; best point r=%.4g alpha=%.4g a=%.4g b=%.4g)", s->n,
                 p->bgnbd.r, p->bgnbd.alpha, p->bgnbd.a, p->bgnbd.b);
        fit_failed("BG/NBD", status, s->n ? detail : " (no customer bought by the as-of day)");
    }
    /* Gamma-Gamma on the repeat customers with a positive mean spend. */
    double *x = cdp_xmalloc((s->n ? s->n : 1) * sizeof *x);
    double *mbar = cdp_xmalloc((s->n ? s->n : 1) * sizeof *mbar);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->summary[i].x > 0 && s->summary[i].monetary > 0) {
            x[k] = s->summary[i].x;
            mbar[k] = s->summary[i].monetary;
            k++;
        }
    }
    p->gg_rows = k;
    status = cdp_predict_gamma_gamma_fit(x, mbar, k, NULL, &p->gg, &p->gg_report);
    free(x);
    free(mbar);
    if (status != CDP_PREDICT_OK) {
        snprintf(detail, sizeof detail, " (%zu repeat customers)", k);
        fit_failed("Gamma-Gamma", status, detail);
    }
    p->fitted = true;
}

/* ---- parameters as JSON ---- */

static void
save_params(const struct predict *pr, const struct scores *s, const struct params *p)
{
    char as_of[40];
    cdp_time_format(pr->as_of, as_of, sizeof as_of);
    as_of[10] = '\0';
    json_t *doc = json_pack(
        "{s:s,s:s,s:I,s:{s:f,s:f,s:f,s:f,s:f,s:I,s:i},s:{s:f,s:f,s:f,s:f,s:I,s:i}}", "unit",
        unit_name(pr->unit), "as_of", as_of, "customers", (json_int_t)s->n, "bgnbd", "r",
        p->bgnbd.r, "alpha", p->bgnbd.alpha, "a", p->bgnbd.a, "b", p->bgnbd.b, "log_likelihood",
        p->bgnbd_report.log_likelihood, "customers", (json_int_t)s->n, "iterations",
        p->bgnbd_report.iterations, "gamma_gamma", "p", p->gg.p, "q", p->gg.q, "gamma",
        p->gg.gamma, "log_likelihood", p->gg_report.log_likelihood, "customers",
        (json_int_t)p->gg_rows, "iterations", p->gg_report.iterations);
    FILE *f = cdp_cli_atomic_open(pr->save_params_file);
    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (rc != 0 || fputc('\n', f) == EOF || !cdp_cli_atomic_commit(f))
        cdp_cli_die(CDP_EXIT_FAILURE, "cannot write '%s': %s", pr->save_params_file,
                    strerror(errno));
}

static double
param_number(json_t *obj, const char *model, const char *name, const char *file)
{
    json_t *v = json_object_get(obj, name);
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d <= 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s.%s is missing or not a positive number", file,
                    model, name);
    return d;
}

static void
load_params(const struct predict *pr, struct params *p)
{
    json_error_t jerr;
    json_t *doc = json_load_file(pr->params_file, 0, &jerr);
    if (doc == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s:%d: %s", pr->params_file, jerr.line, jerr.text);
    json_t *bg = json_object_get(doc, "bgnbd"), *gg = json_object_get(doc, "gamma_gamma");
    const char *unit = json_string_value(json_object_get(doc, "unit"));
    double file_days;
    if (unit && strcmp(unit, "days") == 0)
        file_days = 1;
    else if (unit && strcmp(unit, "weeks") == 0)
        file_days = 7;
    else
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: unit is missing, or neither days nor weeks",
                    pr->params_file);
    p->bgnbd.r = param_number(bg, "bgnbd", "r", pr->params_file);
    /* alpha is a time: it scales with the unit; the other parameters do not. */
    p->bgnbd.alpha = param_number(bg, "bgnbd", "alpha", pr->params_file) * file_days /
                     unit_days(pr);
    p->bgnbd.a = param_number(bg, "bgnbd", "a", pr->params_file);
    p->bgnbd.b = param_number(bg, "bgnbd", "b", pr->params_file);
    p->gg.p = param_number(gg, "gamma_gamma", "p", pr->params_file);
    p->gg.q = param_number(gg, "gamma_gamma", "q", pr->params_file);
    p->gg.gamma = param_number(gg, "gamma_gamma", "gamma", pr->params_file);
    json_decref(doc);
}

/* ---- scoring ---- */

static void
predict_one(const struct predict *pr, const struct scores *s, const struct params *p, size_t i,
            struct cdp_predicted *out)
{
    const struct cdp_predict_summary *u = &s->summary[i];
    double horizon_days = (double)pr->horizon_ms / DAY_MS;
    double t = horizon_days / unit_days(pr);
    memset(out, 0, sizeof *out);
    out->as_of = pr->as_of;
    out->horizon_days = (uint32_t)llround(horizon_days);
    out->p_alive = cdp_predict_bgnbd_p_alive(&p->bgnbd, u->x, u->t_x, u->T);
    out->churn_risk = 1 - out->p_alive;
    out->expected_orders = cdp_predict_bgnbd_expected(&p->bgnbd, u->x, u->t_x, u->T, t);
    bool own = u->x > 0 && u->monetary > 0;
    out->expected_aov =
        cdp_predict_gamma_gamma_expected(&p->gg, own ? u->x : 0, own ? u->monetary : 0);
    /* Lifetime value in periods of about 30 days, the discount rate converted to them. */
    unsigned periods = (unsigned)fmax(1, round(horizon_days / 30));
    double period_days = horizon_days / periods;
    double rate = pow(1 + pr->discount, period_days / 30) - 1;
    out->clv = isfinite(out->expected_aov)
                   ? cdp_predict_clv(&p->bgnbd, u->x, u->t_x, u->T, out->expected_aov, periods,
                                     period_days / unit_days(pr), rate)
                   : NAN;
    out->rfm_r = s->r[i];
    out->rfm_f = s->f[i];
    out->rfm_m = s->m[i];
    out->rfm_segment = (unsigned char)cdp_predict_rfm_segment(s->r[i], s->f[i], s->m[i]);
}

static void
put_number(struct cdp_buf *out, const char *name, double v)
{
    cdp_buf_putc(out, ',');
    cdp_view_string(out, name, strlen(name));
    cdp_buf_putc(out, ':');
    cdp_predicted_number(out, v);
}

/* One NDJSON line: the customer, its summary, its prediction. */
static void
write_line(const struct predict *pr, const struct scores *s, size_t i,
           const struct cdp_predicted *p, struct cdp_buf *line)
{
    const struct customer *c = &pr->customers[s->who[i]];
    const struct cdp_predict_summary *u = &s->summary[i];
    cdp_buf_reset(line);
    if (pr->from_stream) {
        const char *name = customer_name(pr, c);
        cdp_buf_puts(line, "{\"customer\":");
        cdp_view_string(line, name, strlen(name));
    } else {
        char hex[CDP_ID_HEX_SIZE];
        cdp_hash_to_hex(&c->id, hex);
        cdp_buf_printf(line, "{\"id\":\"%s\"", hex);
    }
    put_number(line, "orders", (double)u->orders);
    put_number(line, "frequency", u->x);
    put_number(line, "recency", u->t_x);
    put_number(line, "T", u->T);
    put_number(line, "monetary_value", u->monetary);
    put_number(line, "total", u->total);
    cdp_buf_puts(line, ",\"predicted\":");
    cdp_predicted_view(p, line);
    if (pr->from_stream)
        put_number(line, "holdout_orders", (double)s->holdout[i]);
    cdp_buf_puts(line, "}\n");
    if (fwrite(line->data, 1, line->len, stdout) != line->len)
        cdp_cli_stdout_failed();
}

static void
write_store(struct predict *pr, const struct scores *s, const struct params *p)
{
    int rc;
    MDB_txn *txn;
    /* Room for the records and LMDB's pages around them. */
    if ((rc = cdp_store_reserve_bytes(&pr->store, s->n * 2 * (16 + CDP_PREDICTED_SIZE + 16) +
                                                      (1 << 20))) != 0 ||
        (rc = cdp_store_begin(&pr->store, true, &txn)) != 0)
        store_failed(pr, rc);
    MDB_dbi dbi = pr->store.dbi[CDP_DB_PREDICTIONS];
    if ((rc = mdb_drop(txn, dbi, 0)) != 0)
        goto fail;
    for (size_t i = 0; i < s->n; i++) {
        struct cdp_predicted one;
        unsigned char record[CDP_PREDICTED_SIZE];
        predict_one(pr, s, p, i, &one);
        cdp_predicted_encode(&one, record);
        const struct customer *c = &pr->customers[s->who[i]];
        MDB_val k = {16, (void *)c->id.bytes}, v = {sizeof record, record};
        if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
            goto fail;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        store_failed(pr, rc);
    return;
fail:
    mdb_txn_abort(txn);
    store_failed(pr, rc);
}

/* ---- the report on stderr ---- */

static void
report(const struct predict *pr, const struct scores *s, const struct params *p)
{
    if (pr->common.quiet)
        return;
    char as_of[40];
    cdp_time_format(pr->as_of, as_of, sizeof as_of);
    as_of[10] = '\0';
    size_t repeat = 0;
    for (size_t i = 0; i < s->n; i++)
        repeat += s->summary[i].x > 0;
    cdp_cli_warn("%zu customers bought by %s (%zu of them again), %llu orders read; unit %s",
                 s->n, as_of, repeat, (unsigned long long)pr->orders_read, unit_name(pr->unit));
    const char *how = p->fitted ? "fitted" : "from";
    if (p->fitted) {
        cdp_cli_warn("BG/NBD %s: r=%.6g alpha=%.6g a=%.6g b=%.6g log-likelihood=%.6f "
                     "(%d iterations)",
                     how, p->bgnbd.r, p->bgnbd.alpha, p->bgnbd.a, p->bgnbd.b,
                     p->bgnbd_report.log_likelihood, p->bgnbd_report.iterations);
        cdp_cli_warn("Gamma-Gamma %s on %zu repeat customers: p=%.6g q=%.6g gamma=%.6g "
                     "log-likelihood=%.6f (%d iterations)",
                     how, p->gg_rows, p->gg.p, p->gg.q, p->gg.gamma, p->gg_report.log_likelihood,
                     p->gg_report.iterations);
    } else {
        cdp_cli_warn("BG/NBD from %s: r=%.6g alpha=%.6g a=%.6g b=%.6g", pr->params_file,
                     p->bgnbd.r, p->bgnbd.alpha, p->bgnbd.a, p->bgnbd.b);
        cdp_cli_warn("Gamma-Gamma from %s: p=%.6g q=%.6g gamma=%.6g", pr->params_file, p->gg.p,
                     p->gg.q, p->gg.gamma);
    }
    if (s->n > 0) {
        static const char *const what[3] = {"recency (%s since the last purchase)",
                                            "frequency (orders)", "monetary (total)"};
        for (int k = 0; k < 3; k++) {
            char label[64];
            snprintf(label, sizeof label, what[k], unit_name(pr->unit));
            cdp_cli_warn("RFM %s quintile cuts: %.6g %.6g %.6g %.6g", label, s->cuts[k][0],
                         s->cuts[k][1], s->cuts[k][2], s->cuts[k][3]);
        }
    }
}

/* Expected against actual purchase days after the as-of day, when the data go on past it. */
static void
report_holdout(const struct predict *pr, const struct scores *s, double expected)
{
    if (pr->common.quiet || pr->latest < pr->as_of + DAY_MS)
        return;
    uint64_t actual = 0;
    for (size_t i = 0; i < s->n; i++)
        actual += s->holdout[i];
    cdp_cli_warn("holdout: %.1f purchases expected in the %.0f days after the as-of day, %llu "
                 "made (the customers above, purchase days)",
                 expected, (double)pr->horizon_ms / DAY_MS, (unsigned long long)actual);
}

/* ---- main ---- */

static int64_t
day_start(int64_t ms)
{
    return day_of(ms) * DAY_MS;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDP_COMMON_LONGOPTS,
        {"transactions", no_argument, NULL, OPT_TRANSACTIONS},
        {"as-of", required_argument, NULL, OPT_AS_OF},
        {"horizon", required_argument, NULL, OPT_HORIZON},
        {"unit", required_argument, NULL, OPT_UNIT},
        {"discount", required_argument, NULL, OPT_DISCOUNT},
        {"params", required_argument, NULL, OPT_PARAMS},
        {"save-params", required_argument, NULL, OPT_SAVE_PARAMS},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"date", required_argument, NULL, OPT_DATE},
        {"amount", required_argument, NULL, OPT_AMOUNT},
        {"date-format", required_argument, NULL, OPT_DATE_FORMAT},
        {"delimiter", required_argument, NULL, OPT_DELIMITER},
        {"count", required_argument, NULL, OPT_COUNT},
        {NULL, 0, NULL, 0},
    };
    static struct predict pr;
    int opt;
    char err[256];

    cdp_cli_init(argv[0], &pr.common);
    pr.unit = CDP_PREDICT_DAYS;
    pr.as_of = INT64_MIN;
    pr.latest = INT64_MIN;
    pr.horizon_ms = 90 * DAY_MS;
    pr.customer_field = "customer";
    pr.date_field = "date";
    pr.amount_field = "amount";
    pr.delimiter = ',';
    pr.counters = cdp_computed_map_new();
    while ((opt = getopt_long(argc, argv, CDP_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cdp_cli_common_option(&pr.common, opt, optarg, usage))
            continue;
        switch (opt) {
        case OPT_TRANSACTIONS:
            pr.from_stream = true;
            break;
        case OPT_AS_OF: {
            int64_t ms;
            if (!cdp_time_parse(optarg, strlen(optarg), &ms))
                cdp_cli_usage_error("--as-of wants a date such as 2025-12-31, not '%s'", optarg);
            pr.as_of = day_start(ms);
            break;
        }
        case OPT_HORIZON:
            if (!cdp_time_parse_duration(optarg, strlen(optarg), &pr.horizon_ms) ||
                pr.horizon_ms <= 0 || pr.horizon_ms % DAY_MS != 0 ||
                pr.horizon_ms > 36600 * DAY_MS)
                cdp_cli_usage_error("--horizon wants whole days or weeks up to 100 years, such "
                                    "as 90d or 39w, not '%s'",
                                    optarg);
            break;
        case OPT_UNIT:
            if (strcmp(optarg, "days") == 0)
                pr.unit = CDP_PREDICT_DAYS;
            else if (strcmp(optarg, "weeks") == 0)
                pr.unit = CDP_PREDICT_WEEKS;
            else
                cdp_cli_usage_error("--unit is days or weeks, not '%s'", optarg);
            break;
        case OPT_DISCOUNT: {
            char *end;
            errno = 0;
            pr.discount = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || errno != 0 || !(pr.discount >= 0) ||
                pr.discount >= 1)
                cdp_cli_usage_error("--discount wants a rate in [0, 1) such as 0.01, not '%s'",
                                    optarg);
            break;
        }
        case OPT_PARAMS:
            pr.params_file = optarg;
            break;
        case OPT_SAVE_PARAMS:
            pr.save_params_file = optarg;
            break;
        case OPT_DRY_RUN:
            pr.dry_run = true;
            break;
        case OPT_CUSTOMER:
            pr.customer_field = optarg;
            break;
        case OPT_DATE:
            pr.date_field = optarg;
            break;
        case OPT_AMOUNT:
            pr.amount_field = optarg;
            break;
        case OPT_DATE_FORMAT:
            pr.date_format = optarg;
            break;
        case OPT_DELIMITER:
            if (strcmp(optarg, "tab") == 0)
                pr.delimiter = '\t';
            else if (strlen(optarg) == 1)
                pr.delimiter = optarg[0];
            else
                cdp_cli_usage_error("--delimiter takes one character (or tab)");
            break;
        case OPT_COUNT:
            if (!cdp_computed_map_add(pr.counters, optarg, err, sizeof err))
                cdp_cli_usage_error("%s", err);
            pr.more_orders = true;
            break;
        default:
            cdp_cli_unknown_option(argv);
        }
    }
    if (optind < argc)
        cdp_cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (pr.params_file && pr.save_params_file)
        cdp_cli_usage_error("--params reuses a fit and --save-params saves one: give one of them");
    if (pr.dry_run && pr.from_stream)
        cdp_cli_usage_error("--dry-run is for the store: --transactions never writes to it");
    if (pr.common.format && strcmp(pr.common.format, "ndjson") != 0)
        cdp_cli_usage_error("the only output format is ndjson");
    if ((pr.from_stream || pr.dry_run) && pr.common.output)
        cdp_cli_atomic_stdout(pr.common.output);
    else if (pr.common.output)
        cdp_cli_usage_error("-o is for what is written to stdout: with --transactions or "
                            "--dry-run");

    struct params params = {0};
    if (pr.params_file)
        load_params(&pr, &params);

    if (pr.from_stream)
        read_transactions(&pr);
    else
        read_store(&pr);
    group_orders(&pr);
    if (pr.as_of == INT64_MIN) {
        if (pr.latest == INT64_MIN)
            cdp_cli_die(CDP_EXIT_FAILURE, "no orders to learn from%s",
                        pr.from_stream ? " on stdin" : " in the store");
        pr.as_of = day_start(pr.latest);
    }

    struct scores s = {0};
    summarize_all(&pr, &s);
    if (!pr.params_file)
        fit_all(&s, &params);
    rfm_all(&s);
    report(&pr, &s, &params);
    if (pr.save_params_file)
        save_params(&pr, &s, &params);

    double expected_total = 0;
    if (pr.from_stream || pr.dry_run) {
        struct cdp_buf line = CDP_BUF_INIT;
        for (size_t i = 0; i < s.n; i++) {
            struct cdp_predicted one;
            predict_one(&pr, &s, &params, i, &one);
            if (isfinite(one.expected_orders))
                expected_total += one.expected_orders;
            write_line(&pr, &s, i, &one, &line);
        }
        cdp_buf_free(&line);
        if (pr.from_stream)
            report_holdout(&pr, &s, expected_total);
    } else {
        write_store(&pr, &s, &params);
        if (!pr.common.quiet)
            cdp_cli_warn("%zu profiles scored; the predictions of the previous run replaced",
                         s.n);
    }

    free(s.who);
    free(s.summary);
    free(s.holdout);
    free(s.x);
    free(s.t_x);
    free(s.T);
    free(s.r);
    free(s.f);
    free(s.m);
    free(pr.customers);
    free(pr.table);
    free(pr.txns);
    free(pr.owner);
    cdp_buf_free(&pr.names);
    cdp_computed_map_free(pr.counters);
    if (pr.store_open)
        cdp_store_close(&pr.store);
    int status = pr.rejected ? CDP_EXIT_REJECTED : CDP_EXIT_OK;
    return cdp_cli_finish_stdout(status);
}
