/*
 * cdp-consent - the consent ledger: import records, filter profiles by
 * consent, show a person's consent, record an objection, erase a person,
 * list the audit trail.
 *
 * --import streams its input through the ingest engine in transactions of
 * 1000 records; --require streams profiles, one at a time; --forget works
 * on one profile and then rewrites the store.
 */
#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "consent.h"
#include "csvin.h"
#include "erase.h"
#include "event.h"
#include "ingest.h"
#include "input.h"
#include "lookup.h"
#include "normalize.h"
#include "store.h"
#include "tcf.h"
#include "timeparse.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_IMPORT = CDP_OPT_FIRST_PRIVATE,
    OPT_REQUIRE,
    OPT_STATUS,
    OPT_OBJECT,
    OPT_FORGET,
    OPT_AUDIT,
    OPT_PURPOSES,
    OPT_SET_PURPOSES,
    OPT_MAP,
    OPT_DELIMITER,
    OPT_ID,
    OPT_DATE_FORMAT,
    OPT_SOURCE,
    OPT_COUNTRY,
    OPT_TCF,
    OPT_RECORD,
    OPT_VENDOR,
    OPT_COMPACT,
    OPT_TCF_MAP,
    OPT_SET_TCF_MAP,
};

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cdp-consent --import [options] [FILE...]\n"
            "       cdp-consent --require PURPOSE[,PURPOSE...] < profiles.ndjson\n"
            "       cdp-consent --status ID | --object ID | --forget ID\n"
            "       cdp-consent --audit | --purposes | --set-purposes LIST | --compact\n"
            "       cdp-consent --tcf STRING [--record ID --vendor N]\n"
            "Record consent, filter profiles by it, and act on a person's rights.\n"
            "\n"
            "Modes:\n"
            "      --import            consent records from CSV or NDJSON files (or stdin)\n"
            "      --require LIST      pass only profiles that hold every purpose's consent\n"
            "      --status ID         the consent and consent records of a person\n"
            "      --object ID         an objection to direct marketing: withdraw every\n"
            "                          marketing purpose\n"
            "      --forget ID         erase a person from the store, for good\n"
            "      --audit             list the audit trail\n"
            "      --purposes          list the purposes\n"
            "      --set-purposes LIST configure the purposes (comma-separated)\n"
            "      --compact           rewrite the store so that deleted bytes leave the file\n"
            "      --tcf-map           the table from purposes to TCF purposes\n"
            "      --set-tcf-map MAP   set it, e.g. 'ads_personalization=2,3,4;analytics=7,8'\n"
            "      --tcf STRING        decode an IAB TCF v2.2 TC string; with --record ID\n"
            "                          and --vendor N, record what it grants vendor N\n"
            "ID is any identifier (email:jane@example.com, user:u1, phone:...) or a\n"
            "profile id.\n"
            "\n"
            "Import options:\n"
            "      --map FIELD=COLUMN,...   CSV columns, e.g. consent.email_marketing=Optin\n"
            "      --delimiter C       CSV field delimiter (default: ,)\n"
            "      --id KIND=COLUMN    a CSV column holding an external id\n"
            "      --date-format FMT   timestamps in this format (e.g. %%d/%%m/%%Y)\n"
            "      --source NAME       where the records come from (default: consent)\n"
            "      --country CC        default region of national phone numbers\n"
            "\n%s",
            cdp_cli_common_help);
}

enum mode { M_NONE, M_IMPORT, M_REQUIRE, M_STATUS, M_OBJECT, M_FORGET, M_AUDIT, M_PURPOSES,
            M_SET_PURPOSES, M_TCF, M_COMPACT, M_TCF_MAP, M_SET_TCF_MAP };

struct consent {
    struct cdp_common common;
    struct cdp_store store;
    bool store_open;
    enum mode mode;
    const char *arg; /* the mode's argument */
    const char *map, *delimiter, *date_format, *source, *country;
    const char **ids;
    size_t nids;
    const char *record; /* --tcf --record ID */
    int vendor;         /* --vendor N, or -1 */
    json_t *purposes; /* the vocabulary */
    bool rejected;    /* some input was rejected: exit 3 */
    bool failed;      /* an input could not be read: exit 1 */
    struct cdp_buf line;
};

static _Noreturn void
store_failed(struct consent *c, int rc)
{
    cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", c->common.db, cdp_store_strerror(rc));
}

static void
open_store(struct consent *c, bool write)
{
    char err[512];
    if (write && c->mode != M_IMPORT && c->mode != M_SET_PURPOSES && c->mode != M_SET_TCF_MAP) {
        /* Acting on a person needs a store that holds them: never create one. */
        if (cdp_store_open(&c->store, c->common.db, CDP_STORE_READ, err, sizeof err) != 0)
            cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
        cdp_store_close(&c->store);
    }
    if (cdp_store_open(&c->store, c->common.db, write ? CDP_STORE_WRITE : CDP_STORE_READ, err,
                       sizeof err) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    c->store_open = true;
    MDB_txn *txn;
    int rc = cdp_store_begin(&c->store, false, &txn);
    if (rc != 0)
        store_failed(c, rc);
    c->purposes = cdp_consent_purposes(&c->store, txn, &rc);
    mdb_txn_abort(txn);
    if (c->purposes == NULL)
        store_failed(c, rc);
}

static void
emit(struct consent *c)
{
    if (fwrite(c->line.data, 1, c->line.len, stdout) != c->line.len)
        cdp_cli_stdout_failed();
    cdp_buf_reset(&c->line);
}

static void
emit_json(struct consent *c, json_t *obj)
{
    size_t flags = JSON_COMPACT | (isatty(STDOUT_FILENO) ? JSON_INDENT(2) : 0);
    char *text = json_dumps(obj, isatty(STDOUT_FILENO) ? JSON_INDENT(2) : flags);
    cdp_buf_printf(&c->line, "%s\n", text ? text : "null");
    free(text);
    emit(c);
}

/* The purposes of a comma-separated list, each checked against the vocabulary. */
static json_t *
purpose_list(struct consent *c, const char *list, bool check)
{
    json_t *out = json_array();
    char *copy = cdp_xstrdup(list), *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        if (!cdp_consent_purpose_valid(p))
            cdp_cli_usage_error("'%s' is not a purpose name (a-z, 0-9, _)", p);
        if (check && !cdp_consent_purpose_known(c->purposes, p))
            cdp_cli_usage_error("unknown purpose '%s' (see cdp-consent --purposes)", p);
        if (cdp_consent_purpose_known(out, p))
            cdp_cli_usage_error("purpose '%s' given twice", p);
        json_array_append_new(out, json_string(p));
    }
    free(copy);
    if (json_array_size(out) == 0)
        cdp_cli_usage_error("no purpose given");
    return out;
}

/* ---- --import ---- */

struct pending {
    json_t *event;
    const char *file;
    uint64_t line;
};

struct importer {
    struct consent *c;
    struct cdp_ingest_options options;
    struct cdp_ingest ing;
    struct pending *items;
    size_t count, cap;
    struct cdp_ingest_stats totals;
    uint64_t records;
    const char *file;
};

static void
import_reject(struct importer *im, const char *file, uint64_t line, const char *reason)
{
    cdp_cli_warn("%s:%llu: %s", file, (unsigned long long)line, reason);
    im->c->rejected = true;
    im->totals.read++;
    im->totals.rejected++;
}

/* Runs the pending events through the ingest engine: one transaction, again if the map grows. */
static void
flush_import(struct importer *im)
{
    char reason[256];
    int rc;
    for (;;) {
        uint64_t before = im->ing.consent_records;
        if ((rc = cdp_store_reserve(&im->c->store)) != 0 || (rc = cdp_ingest_begin(&im->ing)) != 0)
            store_failed(im->c, rc);
        struct cdp_buf diag = CDP_BUF_INIT;
        for (size_t i = 0; i < im->count && rc == 0; i++) {
            struct pending *p = &im->items[i];
            enum cdp_ingest_result result;
            rc = cdp_ingest_event(&im->ing, p->event, NULL, 0, &result, reason, sizeof reason);
            if (rc != 0)
                break;
            const char *w = im->ing.warnings.data;
            while (w && *w) {
                const char *nl = strchr(w, '\n');
                cdp_buf_printf(&diag, "%s: %s:%llu: warning: %.*s\n", cdp_cli_progname(), p->file,
                               (unsigned long long)p->line, (int)(nl - w), w);
                w = nl + 1;
            }
            if (result == CDP_INGEST_REJECTED)
                cdp_buf_printf(&diag, "%s: %s:%llu: %s\n", cdp_cli_progname(), p->file,
                               (unsigned long long)p->line, reason);
        }
        if (rc == 0)
            rc = cdp_ingest_commit(&im->ing);
        else
            cdp_ingest_abort(&im->ing);
        if (rc == MDB_MAP_FULL) {
            im->ing.consent_records = before;
            cdp_buf_free(&diag);
            if ((rc = cdp_store_grow(&im->c->store)) != 0)
                store_failed(im->c, rc);
            continue;
        }
        if (rc != 0)
            store_failed(im->c, rc);
        if (diag.len)
            fputs(diag.data, stderr);
        cdp_buf_free(&diag);
        if (im->ing.stats.rejected)
            im->c->rejected = true;
        cdp_ingest_stats_add(&im->totals, &im->ing.stats);
        break;
    }
    for (size_t i = 0; i < im->count; i++)
        json_decref(im->items[i].event);
    im->count = 0;
}

static void
add_pending(struct importer *im, json_t *event, const char *file, uint64_t line)
{
    if (im->count == im->cap) {
        im->cap = im->cap ? im->cap * 2 : 256;
        im->items = cdp_xrealloc(im->items, im->cap * sizeof *im->items);
    }
    im->items[im->count++] = (struct pending){event, file, line};
    if (im->count >= 1000)
        flush_import(im);
}

/* Puts identifier "kind:value" where an event carries it. */
static void
place_identifier(json_t *ev, const char *identifier)
{
    const char *colon = strchr(identifier, ':');
    if (colon == NULL)
        return;
    size_t n = (size_t)(colon - identifier);
    const char *value = colon + 1;
    if (n == 4 && strncmp(identifier, "user", 4) == 0) {
        json_object_set_new(ev, "userId", json_string(value));
    } else if (n == 4 && strncmp(identifier, "anon", 4) == 0) {
        json_object_set_new(ev, "anonymousId", json_string(value));
    } else if ((n == 5 && strncmp(identifier, "email", 5) == 0) ||
               (n == 5 && strncmp(identifier, "phone", 5) == 0)) {
        json_t *traits = json_object_get(ev, "traits");
        if (traits == NULL)
            json_object_set_new(ev, "traits", traits = json_object());
        json_object_set_new(traits, n == 5 && identifier[0] == 'e' ? "email" : "phone",
                            json_string(value));
    } else {
        json_t *ctx = json_object_get(ev, "context");
        if (ctx == NULL)
            json_object_set_new(ev, "context", ctx = json_object());
        json_t *list = json_object_get(ctx, "externalIds");
        if (list == NULL)
            json_object_set_new(ctx, "externalIds", list = json_array());
        json_array_append_new(list, json_pack("{s:s%,s:s%}", "id", value, strlen(value), "type",
                                              identifier, n));
    }
}

/*
 * A consent record as NDJSON ({"email" or "userId" or "phone" or
 * "identifier", "purpose", "status", "time", "expires", "channel", "proof"};
 * --source names where it came from) turned into the identify event that carries it; NULL with a
 * reason when the record is unusable.
 */
static json_t *
record_event(struct importer *im, json_t *rec, char *reason, size_t size)
{
    const char *purpose = json_string_value(json_object_get(rec, "purpose"));
    json_t *status = json_object_get(rec, "status");
    json_t *time = json_object_get(rec, "time");
    if (purpose == NULL) {
        snprintf(reason, size, "no purpose");
        return NULL;
    }
    if (!cdp_consent_purpose_known(im->c->purposes, purpose)) {
        snprintf(reason, size, "unknown purpose '%.60s' (see cdp-consent --purposes)", purpose);
        return NULL;
    }
    enum cdp_consent_status st;
    if (!(json_is_boolean(status) ||
          (json_is_string(status) && cdp_consent_parse_status(json_string_value(status), &st)))) {
        snprintf(reason, size, "no status, or not granted, denied or withdrawn");
        return NULL;
    }
    if (!json_is_string(time) && !json_is_number(time)) {
        snprintf(reason, size, "no time: a record needs the time the person gave it");
        return NULL;
    }
    const char *identifier = json_string_value(json_object_get(rec, "identifier"));
    if (identifier && strchr(identifier, ':') == NULL) {
        snprintf(reason, size, "identifier '%.60s' is not kind:value", identifier);
        return NULL;
    }
    json_t *ev = json_pack("{s:s,s:O}", "type", "identify", "timestamp", time);
    json_t *traits = json_object();
    static const char *const fields[] = {"userId", "anonymousId", "email", "phone"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(rec, fields[i]);
        if (json_is_string(v))
            json_object_set(i < 2 ? ev : traits, fields[i], v);
    }
    if (json_object_size(traits))
        json_object_set(ev, "traits", traits);
    json_decref(traits);
    if (identifier)
        place_identifier(ev, identifier);
    json_t *entry = json_object();
    json_object_set(entry, "status", status);
    static const char *const extra[] = {"expires", "channel", "proof"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(rec, extra[i]);
        if (json_is_string(v))
            json_object_set(entry, extra[i], v);
    }
    json_t *context = json_object_get(ev, "context");
    if (context == NULL)
        json_object_set_new(ev, "context", context = json_object());
    json_object_set_new(context, "consent", json_pack("{s:{s:o}}", "purposes", purpose, entry));
    return ev;
}

static int
take_csv_row(json_t *event, uint64_t line, const char *reason, void *ctx)
{
    struct importer *im = ctx;
    if (event == NULL)
        import_reject(im, im->file, line, reason);
    else
        add_pending(im, event, im->file, line);
    return 0;
}

static void
import_file(struct importer *im, const char *path)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cdp_cli_warn("%s: %s", path, strerror(errno));
        im->c->failed = true;
        return;
    }
    im->file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long, csv = false, first = true;
    struct cdp_csvin *in = NULL;
    char err[512];
    cdp_lines_init(&lines, fd, CDP_INPUT_DEFAULT_MAX_LINE);
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (first && !cdp_input_blank(line, len)) {
            first = false;
            const char *fmt = im->c->common.input_format;
            size_t skip = len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
            csv = fmt ? strcmp(fmt, "csv") == 0 : line[skip + strspn(line + skip, " \t")] != '{';
            if (csv) {
                struct cdp_csvin_options o = {
                    .delimiter = im->c->delimiter ? im->c->delimiter[0] : ',',
                    .map = im->c->map,
                    .ids = im->c->ids,
                    .type = "identify",
                };
                in = cdp_csvin_new(&o, take_csv_row, im, err, sizeof err);
                if (in == NULL)
                    cdp_cli_usage_error("%s", err);
            }
        }
        if (too_long) {
            import_reject(im, im->file, lines.lineno, "line too long");
            continue;
        }
        if (csv) {
            if (cdp_csvin_feed(in, line, len, lines.lineno, err, sizeof err) < 0)
                cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", im->file, err);
            continue;
        }
        if (cdp_input_blank(line, len))
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, len, 0, &jerr);
        char reason[256];
        if (!json_is_object(obj)) {
            import_reject(im, im->file, lines.lineno, obj ? "not a JSON object" : jerr.text);
            json_decref(obj);
            continue;
        }
        /* An event is taken as it is; a record becomes the event that carries it. */
        json_t *ev = json_object_get(obj, "type") ? json_incref(obj)
                                                   : record_event(im, obj, reason, sizeof reason);
        json_decref(obj);
        if (ev == NULL)
            import_reject(im, im->file, lines.lineno, reason);
        else
            add_pending(im, ev, im->file, lines.lineno);
    }
    if (in) {
        if (cdp_csvin_finish(in, err, sizeof err) < 0)
            cdp_cli_warn("%s: %s", im->file, err);
        cdp_csvin_free(in);
    }
    if (lines.error)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", im->file, strerror(lines.error));
    cdp_lines_free(&lines);
    if (fd != STDIN_FILENO)
        close(fd);
}

/* The consent.PURPOSE targets of --map must name known purposes. */
static void
check_map(struct consent *c)
{
    if (c->map == NULL)
        return;
    char *copy = cdp_xstrdup(c->map), *save = NULL;
    for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        if (strncmp(f, "consent.", 8) != 0)
            continue;
        char purpose[CDP_CONSENT_PURPOSE_MAX];
        size_t n = strcspn(f + 8, ".=");
        snprintf(purpose, sizeof purpose, "%.*s", (int)(n < sizeof purpose ? n : 0), f + 8);
        if (!cdp_consent_purpose_known(c->purposes, purpose))
            cdp_cli_usage_error("--map: unknown purpose '%s' (see cdp-consent --purposes)", purpose);
    }
    free(copy);
}

static void
run_import(struct consent *c, int argc, char **argv)
{
    open_store(c, true);
    check_map(c);
    struct importer im;
    memset(&im, 0, sizeof im);
    im.c = c;
    const struct cdp_limits limits = CDP_LIMITS_DEFAULT;
    im.options.source = c->source;
    im.options.limits = limits;
    im.options.event.country = c->country;
    im.options.event.date_format = c->date_format;
    im.options.counters = cdp_computed_map_new();
    cdp_ingest_init(&im.ing, &c->store, &im.options, c->common.now);
    if (argc == 0)
        import_file(&im, "-");
    for (int i = 0; i < argc; i++)
        import_file(&im, argv[i]);
    if (im.count)
        flush_import(&im);
    if (!c->common.quiet)
        fprintf(stderr,
                "%s: %llu read, %llu records, %llu duplicates, %llu dropped as erased, "
                "%llu rejected, %llu warnings\n",
                cdp_cli_progname(), (unsigned long long)im.totals.read,
                (unsigned long long)im.ing.consent_records,
                (unsigned long long)im.totals.duplicates,
                (unsigned long long)im.totals.suppressed,
                (unsigned long long)im.totals.rejected, (unsigned long long)im.totals.warnings);
    cdp_ingest_free(&im.ing);
    cdp_computed_map_free((struct cdp_counter_map *)im.options.counters);
    free(im.items);
}

/* ---- --require ---- */

static void
run_require(struct consent *c)
{
    open_store(c, false);
    json_t *wanted = purpose_list(c, c->arg, true);
    MDB_txn *txn;
    int rc = cdp_store_begin(&c->store, false, &txn);
    if (rc != 0)
        store_failed(c, rc);
    uint64_t passed = 0, held[5] = {0};
    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long;
    cdp_lines_init(&lines, STDIN_FILENO, CDP_INPUT_DEFAULT_MAX_LINE);
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (too_long) {
            cdp_cli_warn("<stdin>:%llu: line too long, skipped", (unsigned long long)lines.lineno);
            c->rejected = true;
            continue;
        }
        if (cdp_input_blank(line, len))
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, len, 0, &jerr);
        const char *hex = json_string_value(json_object_get(obj, "id"));
        struct cdp_id id;
        if (!json_is_object(obj) || hex == NULL || !cdp_hash_from_hex(hex, &id)) {
            cdp_cli_warn("<stdin>:%llu: %s", (unsigned long long)lines.lineno,
                         obj == NULL ? jerr.text : "not a profile object with an id");
            json_decref(obj);
            c->rejected = true;
            continue;
        }
        json_decref(obj);
        enum cdp_consent_reason why = CDP_CONSENT_OK;
        size_t i;
        json_t *p;
        json_array_foreach(wanted, i, p)
        {
            struct cdp_consent_state st;
            if ((rc = cdp_consent_state(&c->store, txn, &id, json_string_value(p), c->common.now,
                                        &st)) != 0)
                store_failed(c, rc);
            if (st.reason != CDP_CONSENT_OK) {
                why = st.reason;
                break;
            }
        }
        if (why != CDP_CONSENT_OK) {
            held[why]++;
            continue;
        }
        passed++;
        cdp_buf_append(&c->line, line, len);
        cdp_buf_putc(&c->line, '\n');
        emit(c);
    }
    if (lines.error)
        cdp_cli_die(CDP_EXIT_FAILURE, "<stdin>: %s", strerror(lines.error));
    cdp_lines_free(&lines);
    mdb_txn_abort(txn);
    uint64_t total = held[1] + held[2] + held[3] + held[4];
    if (!c->common.quiet)
        fprintf(stderr,
                "%s: %llu passed, %llu held back (%llu no record, %llu denied, %llu withdrawn, "
                "%llu expired)\n",
                cdp_cli_progname(), (unsigned long long)passed, (unsigned long long)total,
                (unsigned long long)held[CDP_CONSENT_NO_RECORD],
                (unsigned long long)held[CDP_CONSENT_IS_DENIED],
                (unsigned long long)held[CDP_CONSENT_IS_WITHDRAWN],
                (unsigned long long)held[CDP_CONSENT_EXPIRED]);
    json_decref(wanted);
}

/* ---- --status, --object, --forget ---- */

static void
find_person(struct consent *c, MDB_txn *txn, struct cdp_id *id)
{
    char err[256];
    int rc = cdp_lookup_profile(&c->store, txn, c->arg, c->country, id, err, sizeof err);
    if (rc == EINVAL)
        cdp_cli_usage_error("%s", err);
    if (rc == 0) {
        MDB_val k = {16, id->bytes}, v;
        rc = mdb_get(txn, c->store.dbi[CDP_DB_PROFILES], &k, &v);
    }
    if (rc == MDB_NOTFOUND)
        cdp_cli_die(CDP_EXIT_FAILURE, "no profile holds %s", c->arg);
    if (rc != 0)
        store_failed(c, rc);
}

static int
record_json(const struct cdp_consent_record *r, void *ctx)
{
    char t[40];
    json_t *o = json_object();
    json_object_set_new(o, "purpose", json_string(r->purpose));
    json_object_set_new(o, "status", json_string(cdp_consent_status_name(r->status)));
    cdp_time_format(r->time, t, sizeof t);
    json_object_set_new(o, "time", json_string(t));
    if (r->expires != CDP_TIME_NONE) {
        cdp_time_format(r->expires, t, sizeof t);
        json_object_set_new(o, "expires", json_string(t));
    }
    if (r->channel)
        json_object_set_new(o, "channel", json_string(r->channel));
    if (r->source)
        json_object_set_new(o, "source", json_string(r->source));
    if (r->proof)
        json_object_set_new(o, "proof", json_string(r->proof));
    if (r->subject)
        json_object_set_new(o, "subject", json_string(r->subject));
    if (r->recorded != CDP_TIME_NONE) {
        cdp_time_format(r->recorded, t, sizeof t);
        json_object_set_new(o, "recorded", json_string(t));
    }
    json_array_append_new(ctx, o);
    return 0;
}

static void
run_status(struct consent *c)
{
    open_store(c, false);
    MDB_txn *txn;
    struct cdp_id id;
    int rc = cdp_store_begin(&c->store, false, &txn);
    if (rc != 0)
        store_failed(c, rc);
    find_person(c, txn, &id);
    struct cdp_buf view = CDP_BUF_INIT;
    json_t *records = json_array();
    if ((rc = cdp_consent_view(&c->store, txn, &id, c->common.now, &view)) != 0 ||
        (rc = cdp_consent_each(&c->store, txn, &id, record_json, records)) != 0)
        store_failed(c, rc);
    mdb_txn_abort(txn);
    char hex[CDP_ID_HEX_SIZE], when[40];
    cdp_hash_to_hex(&id, hex);
    cdp_time_format(c->common.now, when, sizeof when);
    json_t *out = json_pack("{s:s,s:s,s:o,s:o}", "id", hex, "as_of", when, "consent",
                            json_loadb(view.data, view.len, 0, NULL), "records", records);
    emit_json(c, out);
    json_decref(out);
    cdp_buf_free(&view);
}

/* The purposes an objection to direct marketing (Art. 21) withdraws. */
static const char *const marketing_purposes[] = {"email_marketing", "sms_marketing",
                                                 "ads_personalization", "profiling", NULL};

static void
run_object(struct consent *c, int argc, char **argv)
{
    open_store(c, true);
    MDB_txn *txn;
    struct cdp_id id;
    int rc = cdp_store_begin(&c->store, true, &txn);
    if (rc != 0)
        store_failed(c, rc);
    find_person(c, txn, &id);
    char subject[CDP_IDENTIFIER_MAX];
    if ((rc = cdp_lookup_subject(&c->store, txn, c->arg, c->country, &id, subject,
                                 sizeof subject)) != 0 &&
        rc != MDB_NOTFOUND)
        store_failed(c, rc);
    json_t *done = json_array();
    for (int i = 0; marketing_purposes[i]; i++) {
        struct cdp_consent_record r;
        memset(&r, 0, sizeof r);
        snprintf(r.purpose, sizeof r.purpose, "%s", marketing_purposes[i]);
        r.status = CDP_CONSENT_WITHDRAWN;
        r.time = c->common.now;
        r.expires = CDP_TIME_NONE;
        r.source = c->source;
        r.proof = "objection to direct marketing (GDPR Art. 21)";
        r.subject = subject[0] ? subject : NULL;
        r.recorded = c->common.now;
        if ((rc = cdp_consent_append(&c->store, txn, &id, &r)) != 0)
            break;
        json_array_append_new(done, json_string(r.purpose));
    }
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(&id, hex);
    json_t *extra = json_pack("{s:s,s:s}", "action", "objection", "profile", hex);
    if (rc == 0)
        rc = cdp_audit_append_txn(&c->store, txn, c->common.now, argc, argv, done, 1, extra);
    json_decref(extra);
    if (rc != 0 || (rc = mdb_txn_commit(txn)) != 0)
        store_failed(c, rc);
    json_t *out = json_pack("{s:s,s:s,s:o}", "id", hex, "action", "objection", "withdrawn", done);
    emit_json(c, out);
    json_decref(out);
}

static void
run_forget(struct consent *c, int argc, char **argv)
{
    open_store(c, true);
    MDB_txn *txn;
    struct cdp_id id;
    struct cdp_erase_counts counts;
    json_t *receipt;
    int rc = cdp_store_reserve(&c->store);
    if (rc != 0 || (rc = cdp_store_begin(&c->store, true, &txn)) != 0)
        store_failed(c, rc);
    find_person(c, txn, &id);
    struct cdp_buf marks = CDP_BUF_INIT;
    if ((rc = cdp_erase_profile(&c->store, txn, &id, c->common.now, &counts, &receipt, &marks)) !=
        0) {
        mdb_txn_abort(txn);
        store_failed(c, rc);
    }
    /* The receipt is the audit line; the command line would name the person. */
    char *args[] = {argv[0], "--forget", "[erased]"};
    (void)argc;
    if ((rc = cdp_audit_append_txn(&c->store, txn, c->common.now, 3, args, NULL, 1, receipt)) != 0 ||
        (rc = mdb_txn_commit(txn)) != 0)
        store_failed(c, rc);
    cdp_store_close(&c->store);
    c->store_open = false;
    emit_json(c, receipt);
    json_decref(receipt);
    if (fflush(stdout) != 0)
        cdp_cli_stdout_failed();
    /* Freed pages keep their bytes: rewrite the file so they are gone. */
    char err[512];
    bool recoded;
    rc = cdp_erase_scrub(c->common.db, &marks, &recoded, err, sizeof err);
    cdp_buf_free(&marks);
    if (rc != 0)
        cdp_cli_die(CDP_EXIT_FAILURE,
                    "the erasure is committed, but its bytes are still in the data file (%s): "
                    "run 'cdp-consent --compact' when no other cdp program is using the store",
                    err);
    if (recoded && c->common.verbose)
        cdp_cli_warn("the event dictionary held the person's data: events recompressed with a "
                     "new one");
}

/* Rewrites the store (and its event dictionary) so that freed bytes leave the file. */
static void
run_compact(struct consent *c)
{
    char err[512];
    bool recoded;
    if (cdp_store_open(&c->store, c->common.db, CDP_STORE_READ, err, sizeof err) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    cdp_store_close(&c->store);
    if (cdp_erase_scrub(c->common.db, NULL, &recoded, err, sizeof err) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
}

/* ---- --audit, --purposes ---- */

static void
run_audit(struct consent *c)
{
    open_store(c, false);
    MDB_txn *txn;
    MDB_cursor *cursor;
    MDB_val k, v;
    int rc = cdp_store_begin(&c->store, false, &txn);
    if (rc != 0 || (rc = mdb_cursor_open(txn, c->store.dbi[CDP_DB_AUDIT], &cursor)) != 0)
        store_failed(c, rc);
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        cdp_buf_append(&c->line, v.mv_data, v.mv_size);
        cdp_buf_putc(&c->line, '\n');
        emit(c);
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    if (rc != MDB_NOTFOUND)
        store_failed(c, rc);
}

static void
run_purposes(struct consent *c)
{
    open_store(c, false);
    size_t i;
    json_t *p;
    json_array_foreach(c->purposes, i, p)
    {
        cdp_buf_printf(&c->line, "%s\n", json_string_value(p));
        emit(c);
    }
}

static void
run_set_purposes(struct consent *c)
{
    open_store(c, true);
    json_t *list = purpose_list(c, c->arg, false);
    char *text = json_dumps(list, JSON_COMPACT);
    MDB_txn *txn;
    int rc = cdp_store_begin(&c->store, true, &txn);
    if (rc != 0)
        store_failed(c, rc);
    if ((rc = cdp_store_meta_put(&c->store, txn, "purposes", text, strlen(text))) != 0 ||
        (rc = mdb_txn_commit(txn)) != 0)
        store_failed(c, rc);
    free(text);
    json_decref(list);
}

/* ---- --tcf ---- */

/*
 * The table from the store's purposes to TCF purposes: the meta entry
 * "tcf_map" ({"purpose": [TCF purpose ids], ...}) when set with
 * --set-tcf-map, else the default of cdp_tcf_purpose_map().  A new object.
 */
static json_t *
tcf_table(struct consent *c, MDB_txn *txn)
{
    MDB_val v;
    if (cdp_store_meta_get(&c->store, txn, "tcf_map", &v) == 0) {
        json_t *table = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (json_is_object(table))
            return table;
        json_decref(table);
    }
    json_t *table = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(c->purposes, i, p)
    {
        size_t n;
        const int *ids = cdp_tcf_purpose_map(json_string_value(p), &n);
        if (ids == NULL || n == 0)
            continue;
        json_t *list = json_array();
        for (size_t k = 0; k < n; k++)
            json_array_append_new(list, json_integer(ids[k]));
        json_object_set_new(table, json_string_value(p), list);
    }
    return table;
}

/*
 * --set-tcf-map 'ads_personalization=2,3,4;analytics=7,8,9,10': the
 * store's own table; --tcf-map prints the table in force.
 */
static void
run_tcf_map(struct consent *c, bool set)
{
    open_store(c, set);
    MDB_txn *txn;
    int rc = cdp_store_begin(&c->store, set, &txn);
    if (rc != 0)
        store_failed(c, rc);
    if (!set) {
        json_t *table = tcf_table(c, txn);
        mdb_txn_abort(txn);
        emit_json(c, table);
        json_decref(table);
        return;
    }
    json_t *table = json_object();
    char *copy = cdp_xstrdup(c->arg), *save = NULL;
    for (char *entry = strtok_r(copy, ";", &save); entry; entry = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(entry, '=');
        if (eq == NULL)
            cdp_cli_usage_error("--set-tcf-map wants purpose=ids;purpose=ids, not '%s'", entry);
        *eq = '\0';
        if (!cdp_consent_purpose_known(c->purposes, entry))
            cdp_cli_usage_error("unknown purpose '%s' (see cdp-consent --purposes)", entry);
        json_t *list = json_array();
        char *save2 = NULL;
        for (char *id = strtok_r(eq + 1, ",", &save2); id; id = strtok_r(NULL, ",", &save2)) {
            char *end;
            long v = strtol(id, &end, 10);
            if (*id == '\0' || *end != '\0' || v < 1 || v > 11)
                cdp_cli_usage_error("TCF purposes run from 1 to 11, not '%s'", id);
            json_array_append_new(list, json_integer(v));
        }
        json_object_set_new(table, entry, list);
    }
    free(copy);
    char *text = json_dumps(table, JSON_COMPACT | JSON_SORT_KEYS);
    if ((rc = cdp_store_meta_put(&c->store, txn, "tcf_map", text, strlen(text))) != 0 ||
        (rc = mdb_txn_commit(txn)) != 0)
        store_failed(c, rc);
    free(text);
    json_decref(table);
}

/*
 * Decodes a TC string and prints it; with --record, writes a record per
 * purpose the TCF table maps: granted when the string grants it to our
 * vendor, denied otherwise, at the string's lastUpdated time, with the
 * string as proof.
 */
static void
run_tcf(struct consent *c, int argc, char **argv)
{
    struct cdp_tcf t;
    char reason[256];
    if (!cdp_tcf_decode(c->arg, strlen(c->arg), &t, reason, sizeof reason)) {
        cdp_cli_warn("TC string rejected: %s", reason);
        c->rejected = true;
        return;
    }
    for (size_t i = 0; i < t.warning_count; i++)
        cdp_cli_warn("TC string: %s", t.warnings[i]);
    if (c->record == NULL) {
        cdp_tcf_to_json(&t, &c->line);
        cdp_buf_putc(&c->line, '\n');
        emit(c);
        cdp_tcf_free(&t);
        return;
    }
    open_store(c, true);
    MDB_txn *txn;
    struct cdp_id id;
    int rc = cdp_store_begin(&c->store, true, &txn);
    if (rc != 0)
        store_failed(c, rc);
    const char *arg = c->arg;
    c->arg = c->record;
    find_person(c, txn, &id);
    c->arg = arg;
    char subject[CDP_IDENTIFIER_MAX];
    if ((rc = cdp_lookup_subject(&c->store, txn, c->record, c->country, &id, subject,
                                 sizeof subject)) != 0 &&
        rc != MDB_NOTFOUND)
        store_failed(c, rc);
    json_t *made = json_object();
    json_t *table = tcf_table(c, txn);
    size_t i;
    json_t *p;
    json_array_foreach(c->purposes, i, p)
    {
        const char *purpose = json_string_value(p);
        int tcf[24];
        size_t n = 0;
        json_t *ids = json_object_get(table, purpose);
        size_t k;
        json_t *idv;
        json_array_foreach(ids, k, idv)
        {
            if (n < 24 && json_is_integer(idv))
                tcf[n++] = (int)json_integer_value(idv);
        }
        if (n == 0)
            continue;
        struct cdp_consent_record r;
        memset(&r, 0, sizeof r);
        snprintf(r.purpose, sizeof r.purpose, "%s", purpose);
        r.status = cdp_tcf_purposes_granted(&t, tcf, n, c->vendor) ? CDP_CONSENT_GRANTED
                                                                   : CDP_CONSENT_DENIED;
        r.time = t.last_updated;
        r.expires = CDP_TIME_NONE;
        r.channel = "web";
        r.source = c->source;
        r.proof = c->arg;
        r.subject = subject[0] ? subject : NULL;
        r.recorded = c->common.now;
        if ((rc = cdp_consent_append(&c->store, txn, &id, &r)) != 0)
            break;
        json_object_set_new(made, purpose, json_string(cdp_consent_status_name(r.status)));
    }
    json_decref(table);
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(&id, hex);
    json_t *extra = json_pack("{s:s,s:s}", "action", "tcf", "profile", hex);
    if (rc == 0)
        rc = cdp_audit_append_txn(&c->store, txn, c->common.now, argc, argv, NULL,
                                  json_object_size(made), extra);
    json_decref(extra);
    if (rc != 0 || (rc = mdb_txn_commit(txn)) != 0)
        store_failed(c, rc);
    json_t *out = json_pack("{s:s,s:i,s:o}", "id", hex, "vendor", c->vendor, "recorded", made);
    emit_json(c, out);
    json_decref(out);
    cdp_tcf_free(&t);
}

static void
set_mode(struct consent *c, enum mode mode, const char *arg)
{
    if (c->mode != M_NONE)
        cdp_cli_usage_error("one mode at a time (--import, --require, --status, --object, "
                            "--forget, --audit, --purposes, --set-purposes, --tcf, --compact, "
                            "--tcf-map, --set-tcf-map)");
    c->mode = mode;
    c->arg = arg;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDP_COMMON_LONGOPTS,
        {"import", no_argument, NULL, OPT_IMPORT},
        {"require", required_argument, NULL, OPT_REQUIRE},
        {"status", required_argument, NULL, OPT_STATUS},
        {"object", required_argument, NULL, OPT_OBJECT},
        {"forget", required_argument, NULL, OPT_FORGET},
        {"audit", no_argument, NULL, OPT_AUDIT},
        {"purposes", no_argument, NULL, OPT_PURPOSES},
        {"set-purposes", required_argument, NULL, OPT_SET_PURPOSES},
        {"map", required_argument, NULL, OPT_MAP},
        {"delimiter", required_argument, NULL, OPT_DELIMITER},
        {"id", required_argument, NULL, OPT_ID},
        {"date-format", required_argument, NULL, OPT_DATE_FORMAT},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"country", required_argument, NULL, OPT_COUNTRY},
        {"tcf", required_argument, NULL, OPT_TCF},
        {"record", required_argument, NULL, OPT_RECORD},
        {"vendor", required_argument, NULL, OPT_VENDOR},
        {"compact", no_argument, NULL, OPT_COMPACT},
        {"tcf-map", no_argument, NULL, OPT_TCF_MAP},
        {"set-tcf-map", required_argument, NULL, OPT_SET_TCF_MAP},
        {NULL, 0, NULL, 0},
    };
    static struct consent c;
    int opt;
    int saved_argc = argc;
    char **saved_argv = argv;

    cdp_cli_init(argv[0], &c.common);
    c.source = "consent";
    c.vendor = -1;
    while ((opt = getopt_long(argc, argv, CDP_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cdp_cli_common_option(&c.common, opt, optarg, usage))
            continue;
        switch (opt) {
        case OPT_IMPORT:
            set_mode(&c, M_IMPORT, NULL);
            break;
        case OPT_REQUIRE:
            set_mode(&c, M_REQUIRE, optarg);
            break;
        case OPT_STATUS:
            set_mode(&c, M_STATUS, optarg);
            break;
        case OPT_OBJECT:
            set_mode(&c, M_OBJECT, optarg);
            break;
        case OPT_FORGET:
            set_mode(&c, M_FORGET, optarg);
            break;
        case OPT_AUDIT:
            set_mode(&c, M_AUDIT, NULL);
            break;
        case OPT_PURPOSES:
            set_mode(&c, M_PURPOSES, NULL);
            break;
        case OPT_SET_PURPOSES:
            set_mode(&c, M_SET_PURPOSES, optarg);
            break;
        case OPT_MAP:
            c.map = optarg;
            break;
        case OPT_DELIMITER:
            if (strcmp(optarg, "tab") == 0)
                optarg = "\t";
            if (strlen(optarg) != 1)
                cdp_cli_usage_error("--delimiter takes one character (or tab)");
            c.delimiter = optarg;
            break;
        case OPT_ID:
            if (strchr(optarg, '=') == NULL)
                cdp_cli_usage_error("--id wants KIND=COLUMN, not '%s'", optarg);
            c.ids = cdp_xrealloc(c.ids, (c.nids + 2) * sizeof *c.ids);
            c.ids[c.nids++] = optarg;
            c.ids[c.nids] = NULL;
            break;
        case OPT_DATE_FORMAT:
            c.date_format = optarg;
            break;
        case OPT_SOURCE:
            if (optarg[0] == '\0' || !cdp_normalize_utf8_valid(optarg, strlen(optarg)))
                cdp_cli_usage_error("--source needs a name in UTF-8 text");
            c.source = optarg;
            break;
        case OPT_COUNTRY:
            c.country = optarg;
            break;
        case OPT_TCF:
            set_mode(&c, M_TCF, optarg);
            break;
        case OPT_COMPACT:
            set_mode(&c, M_COMPACT, NULL);
            break;
        case OPT_TCF_MAP:
            set_mode(&c, M_TCF_MAP, NULL);
            break;
        case OPT_SET_TCF_MAP:
            set_mode(&c, M_SET_TCF_MAP, optarg);
            break;
        case OPT_RECORD:
            c.record = optarg;
            break;
        case OPT_VENDOR: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 65535)
                cdp_cli_usage_error("--vendor takes a vendor id from 1 to 65535");
            c.vendor = (int)v;
            break;
        }
        default:
            cdp_cli_unknown_option(argv);
        }
    }
    argc -= optind;
    argv += optind;
    if (c.mode == M_NONE)
        cdp_cli_usage_error("no mode given (--import, --require, --status, ...)");
    if (c.mode != M_IMPORT && argc > 0)
        cdp_cli_usage_error("unexpected argument '%s'", argv[0]);
    if ((c.record || c.vendor >= 0) && c.mode != M_TCF)
        cdp_cli_usage_error("--record and --vendor go with --tcf");
    if (c.record && c.vendor < 0)
        cdp_cli_usage_error("--tcf --record needs --vendor N, the vendor id cdp acts for");
    if (c.common.output && freopen(c.common.output, "w", stdout) == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", c.common.output, strerror(errno));

    switch (c.mode) {
    case M_IMPORT:
        run_import(&c, argc, argv);
        break;
    case M_REQUIRE:
        run_require(&c);
        break;
    case M_STATUS:
        run_status(&c);
        break;
    case M_OBJECT:
        run_object(&c, saved_argc, saved_argv);
        break;
    case M_FORGET:
        run_forget(&c, saved_argc, saved_argv);
        break;
    case M_AUDIT:
        run_audit(&c);
        break;
    case M_PURPOSES:
        run_purposes(&c);
        break;
    case M_SET_PURPOSES:
        run_set_purposes(&c);
        break;
    case M_TCF:
        run_tcf(&c, saved_argc, saved_argv);
        break;
    case M_COMPACT:
        run_compact(&c);
        break;
    case M_TCF_MAP:
        run_tcf_map(&c, false);
        break;
    case M_SET_TCF_MAP:
        run_tcf_map(&c, true);
        break;
    case M_NONE:
        break;
    }
    if (c.store_open)
        cdp_store_close(&c.store);
    json_decref(c.purposes);
    free(c.ids);
    cdp_buf_free(&c.line);
    return cdp_cli_finish_stdout(c.failed     ? CDP_EXIT_FAILURE
                                 : c.rejected ? CDP_EXIT_REJECTED
                                              : CDP_EXIT_OK);
}
