/*
 * cdp-export - write profiles for other systems.
 *
 * Streams every profile of the store as NDJSON (default) or CSV, or prints
 * one profile found by any of its identifiers (--lookup), with its events
 * in time order (--events).  Memory does not grow with the number of
 * profiles.
 */
#include "buf.h"
#include "cli.h"
#include "event.h"
#include "events.h"
#include "output.h"
#include "profile.h"
#include "store.h"
#include "view.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_FIELDS = CDP_OPT_FIRST_PRIVATE,
    OPT_HEADER,
    OPT_NO_HEADER,
    OPT_LOOKUP,
    OPT_EVENTS,
    OPT_DELIMITER,
    OPT_COUNTRY,
};

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cdp-export [options]\n"
            "Write the profiles of the store, or one profile found by an identifier.\n"
            "\n"
            "Options:\n"
            "  -f, --format FMT        ndjson (default) or csv\n"
            "      --fields LIST       CSV columns: paths such as id, traits.email,\n"
            "                          computed.orders_count, identifiers, first_seen\n"
            "      --header            CSV: write a header row (default)\n"
            "      --no-header         CSV: no header row\n"
            "      --delimiter C       CSV field delimiter (default: ,)\n"
            "      --lookup ID         only the profile holding identifier ID (kind:value,\n"
            "                          e.g. email:jane@example.com) or with profile id ID\n"
            "      --events            with --lookup: add the profile's events in time order\n"
            "      --country CC        default region for a national phone number in --lookup\n"
            "\n%s",
            cdp_cli_common_help);
}

struct export
{
    struct cdp_common common;
    struct cdp_store store;
    struct cdp_output out;
    const char *lookup;
    bool events;
    const char *country;
    struct cdp_buf line;
};

static void
write_out(const struct cdp_buf *b)
{
    if (fwrite(b->data, 1, b->len, stdout) != b->len)
        cdp_cli_stdout_failed();
}

static int
export_all(struct export *ex, MDB_txn *txn)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open(txn, ex->store.dbi[CDP_DB_PROFILES], &cursor);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) == 0) {
        struct cdp_profile p;
        struct cdp_id id;
        if (key.mv_size != 16)
            continue;
        memcpy(id.bytes, key.mv_data, 16);
        if (!cdp_profile_decode(&p, &id, value.mv_data, value.mv_size)) {
            char hex[CDP_ID_HEX_SIZE];
            cdp_hash_to_hex(&id, hex);
            cdp_cli_warn("profile %s: damaged record skipped", hex);
            cdp_profile_free(&p);
            continue;
        }
        cdp_output_profile(&ex->out, &p, NULL);
        cdp_profile_free(&p);
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

struct events_ctx {
    struct cdp_store *store;
    json_t *list;
    struct cdp_buf text;
};

static int
collect_event(const struct cdp_stored_event *ev, void *ctx)
{
    struct events_ctx *c = ctx;
    size_t len;
    const char *text = cdp_events_text(c->store, ev, &c->text, &len);
    json_t *v = text ? json_loadb(text, len, 0, NULL) : NULL;
    if (v)
        json_array_append_new(c->list, v);
    else
        cdp_cli_warn("an event of this profile cannot be read (damaged record)");
    return 0;
}

/* Finds the profile id for --lookup: an identifier, or a profile id in hex. */
static int
find_profile(struct export *ex, MDB_txn *txn, struct cdp_id *id)
{
    const char *colon = strchr(ex->lookup, ':');
    if (colon == NULL) {
        if (cdp_hash_from_hex(ex->lookup, id))
            return 0;
        cdp_cli_usage_error("--lookup wants kind:value (e.g. email:jane@example.com) or a "
                            "profile id, not '%s'",
                            ex->lookup);
    }
    char kind[64], text[CDP_IDENTIFIER_MAX];
    const char *why;
    size_t n = (size_t)(colon - ex->lookup);
    if (n == 0 || n >= sizeof kind)
        cdp_cli_usage_error("--lookup: bad identifier kind in '%s'", ex->lookup);
    memcpy(kind, ex->lookup, n);
    kind[n] = '\0';
    if (strcmp(kind, "id") == 0 && cdp_hash_from_hex(colon + 1, id))
        return 0;
    if (!cdp_identifier_normalize(kind, colon + 1, ex->country, text, sizeof text, &why))
        cdp_cli_die(CDP_EXIT_FAILURE, "--lookup %s: %s", ex->lookup, why);
    MDB_val key = {strlen(text), text}, value;
    int rc = mdb_get(txn, ex->store.dbi[CDP_DB_IDENTIFIERS], &key, &value);
    if (rc == 0 && value.mv_size == 16)
        memcpy(id->bytes, value.mv_data, 16);
    return rc;
}

static int
export_one(struct export *ex, MDB_txn *txn)
{
    struct cdp_id id;
    int rc = find_profile(ex, txn, &id);
    MDB_val key = {16, id.bytes}, value;
    if (rc == 0)
        rc = mdb_get(txn, ex->store.dbi[CDP_DB_PROFILES], &key, &value);
    if (rc == MDB_NOTFOUND) {
        cdp_cli_warn("no profile holds %s", ex->lookup);
        return MDB_NOTFOUND;
    }
    if (rc != 0)
        return rc;
    struct cdp_profile p;
    if (!cdp_profile_decode(&p, &id, value.mv_data, value.mv_size)) {
        cdp_profile_free(&p);
        cdp_cli_die(CDP_EXIT_FAILURE, "profile record of %s is damaged", ex->lookup);
    }
    if (ex->out.csv) {
        cdp_output_profile(&ex->out, &p, NULL);
        cdp_profile_free(&p);
        return 0;
    }
    json_t *obj = cdp_output_profile_json(&ex->out, &p);
    cdp_profile_free(&p);
    if (ex->events) {
        struct events_ctx c = {&ex->store, json_array(), CDP_BUF_INIT};
        rc = cdp_events_each(&ex->store, txn, &id, collect_event, &c);
        json_object_set_new(obj, "events", c.list);
        cdp_buf_free(&c.text);
    }
    size_t flags = JSON_ENCODE_ANY | JSON_REAL_PRECISION(15) |
                   (isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT);
    char *text = json_dumps(obj, flags);
    json_decref(obj);
    cdp_buf_reset(&ex->line);
    cdp_buf_puts(&ex->line, text ? text : "null");
    cdp_buf_putc(&ex->line, '\n');
    free(text);
    write_out(&ex->line);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDP_COMMON_LONGOPTS,
        {"fields", required_argument, NULL, OPT_FIELDS},
        {"header", no_argument, NULL, OPT_HEADER},
        {"no-header", no_argument, NULL, OPT_NO_HEADER},
        {"lookup", required_argument, NULL, OPT_LOOKUP},
        {"events", no_argument, NULL, OPT_EVENTS},
        {"delimiter", required_argument, NULL, OPT_DELIMITER},
        {"country", required_argument, NULL, OPT_COUNTRY},
        {NULL, 0, NULL, 0},
    };
    static struct export ex;
    const char *fields = NULL;
    char err[512];
    int opt;

    cdp_cli_init(argv[0], &ex.common);
    cdp_output_init(&ex.out);
    while ((opt = getopt_long(argc, argv, CDP_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cdp_cli_common_option(&ex.common, opt, optarg, usage))
            continue;
        switch (opt) {
        case OPT_FIELDS:
            fields = optarg;
            break;
        case OPT_HEADER:
            ex.out.header = true;
            break;
        case OPT_NO_HEADER:
            ex.out.header = false;
            break;
        case OPT_LOOKUP:
            ex.lookup = optarg;
            break;
        case OPT_EVENTS:
            ex.events = true;
            break;
        case OPT_DELIMITER:
            if (!cdp_output_set_delimiter(&ex.out, optarg))
                cdp_cli_usage_error("--delimiter takes one character (or tab)");
            break;
        case OPT_COUNTRY:
            ex.country = optarg;
            break;
        default:
            cdp_cli_unknown_option(argv);
        }
    }
    argc -= optind;
    argv += optind;
    if (argc > 0)
        cdp_cli_usage_error("unexpected argument '%s'", argv[0]);
    if (ex.common.format && !cdp_output_set_format(&ex.out, ex.common.format))
        cdp_cli_usage_error("unknown format '%s' (ndjson or csv)", ex.common.format);
    if (ex.events && !ex.lookup)
        cdp_cli_usage_error("--events goes with --lookup");
    if (!cdp_output_set_fields(&ex.out, fields ? fields
                                                : "id,traits.email,traits.firstName,"
                                                  "traits.lastName,computed.orders_count,"
                                                  "computed.revenue_total,last_seen"))
        cdp_cli_usage_error("--fields needs at least one field");
    if (ex.common.output && freopen(ex.common.output, "w", stdout) == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", ex.common.output, strerror(errno));

    if (cdp_store_open(&ex.store, ex.common.db, CDP_STORE_READ, err, sizeof err) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    MDB_txn *txn;
    int rc = cdp_store_begin(&ex.store, false, &txn);
    if (rc != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", ex.common.db, cdp_store_strerror(rc));
    ex.out.store = &ex.store;
    ex.out.txn = txn;
    ex.out.now = ex.common.now;
    cdp_output_begin(&ex.out);
    rc = ex.lookup ? export_one(&ex, txn) : export_all(&ex, txn);
    if (rc == 0)
        rc = ex.out.error;
    mdb_txn_abort(txn);
    cdp_store_close(&ex.store);
    int status = CDP_EXIT_OK;
    if (rc == MDB_NOTFOUND && ex.lookup) {
        status = CDP_EXIT_FAILURE;
    } else if (rc != 0) {
        cdp_cli_warn("store '%s': %s", ex.common.db, cdp_store_strerror(rc));
        status = CDP_EXIT_FAILURE;
    }
    cdp_output_free(&ex.out);
    cdp_buf_free(&ex.line);
    return cdp_cli_finish_stdout(status);
}
