/*
 * cdp-ingest - take in events and records, resolve identity, update profiles.
 *
 * Reads NDJSON (Segment spec) or CSV from the named files or stdin, and
 * writes nothing on stdout.  Events are applied in batches, one write
 * transaction each; a batch that does not fit the map is run again after
 * the map grows.  Diagnostics of a batch are printed once it is committed.
 */
#include "buf.h"
#include "cli.h"
#include "codec.h"
#include "computed.h"
#include "csvin.h"
#include "ingest.h"
#include "input.h"
#include "jsonscan.h"
#include "normalize.h"
#include "store.h"
#include "timeparse.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_SOURCE = CDP_OPT_FIRST_PRIVATE,
    OPT_MAP,
    OPT_ID,
    OPT_TYPE,
    OPT_EVENT,
    OPT_DELIMITER,
    OPT_COUNTRY,
    OPT_DATE_FORMAT,
    OPT_REJECTS,
    OPT_MAX_LINE,
    OPT_MAX_DEPTH,
    OPT_COUNT,
    OPT_LIMIT,
    OPT_BATCH,
    OPT_MEMORY,
};

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cdp-ingest [options] [FILE...]\n"
            "Take in events (NDJSON, Segment spec) or records (CSV), resolve identity and\n"
            "update the profiles in the store.  No FILE, or '-', reads stdin.\n"
            "\n"
            "Options:\n"
            "      --source NAME       where the data comes from (default: default)\n"
            "  -f, --format FMT        input format: ndjson or csv (default: guessed)\n"
            "      --map F=COL,...     CSV: column COL fills field F (email, phone, userId,\n"
            "                          firstName, traits.x, properties.x, timestamp, ...)\n"
            "      --id KIND=COL       CSV: column COL is an identifier of kind KIND\n"
            "      --type TYPE         CSV rows are identify (default) or track events\n"
            "      --event NAME        CSV track rows: the event name\n"
            "      --delimiter C       CSV field delimiter (default: ,)\n"
            "      --country CC        default region of national phone numbers (e.g. FR)\n"
            "      --date-format FMT   timestamps in this format (e.g. %%d/%%m/%%Y)\n"
            "      --rejects FILE      rejected lines as NDJSON to FILE (else stderr)\n"
            "      --max-line BYTES    longest line accepted (default: 1048576)\n"
            "      --max-depth N       deepest JSON nesting accepted (default: 64)\n"
            "      --count NAME=CTR    track event NAME feeds computed counter CTR\n"
            "      --limit KIND=N      at most N identifiers of KIND per profile\n"
            "      --batch N           events per transaction at most (default: 50000)\n"
            "      --memory MB         keep the resident set near MB (default: 140;\n"
            "                          0: no limit)\n"
            "\n%s",
            cdp_cli_common_help);
}

/*
 * One input record of the batch.  NDJSON lines are kept as text and parsed
 * when the batch is applied, so a batch holds no parse trees; CSV rows
 * arrive as events already built.
 */
struct item {
    json_t *root; /* CSV: the event built from the row; NDJSON: NULL */
    char *raw;    /* NDJSON: the line as read; CSV: NULL */
    size_t rawlen;
    uint64_t line;
    const char *file;
    bool too_long; /* NDJSON: the line was over --max-line (raw is its head) */
    char *reason;  /* CSV: why the row could not become an event */
};

struct run {
    struct cdp_common common;
    struct cdp_store store;
    struct cdp_ingest ing;
    struct cdp_ingest_options options;
    struct cdp_ingest_stats totals;
    struct item *items;
    size_t nitems, capitems, batch_size, batch_bytes;
    struct cdp_buf diag;    /* messages of the batch */
    struct cdp_buf rejects; /* NDJSON rejects of the batch */
    FILE *rejects_file;
    const char *rejects_path;
    size_t max_line;
    int max_depth;
    bool csv_forced, ndjson_forced;
    struct cdp_csvin_options csv;
    const char **ids;
    size_t nids;
    int status;
    bool progress;
    size_t memory_budget; /* --memory, in bytes; 0: no limit */
};

static void
reject(struct run *run, const char *file, uint64_t line, const char *reason, const char *text,
       size_t len)
{
    json_t *r = json_object();
    json_object_set_new(r, "file", json_string(file));
    json_object_set_new(r, "line", json_integer((json_int_t)line));
    json_object_set_new(r, "reason", json_string(reason));
    size_t n = len < 200 ? len : 200;
    json_t *excerpt = json_stringn(text, n);
    if (excerpt == NULL) {
        /* Not UTF-8: show the bytes as Latin-1 would, escaped. */
        struct cdp_buf b = CDP_BUF_INIT;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c < 0x80 && c >= 0x20)
                cdp_buf_putc(&b, (char)c);
            else
                cdp_buf_printf(&b, "\\x%02x", c);
        }
        excerpt = json_string(b.data ? b.data : "");
        cdp_buf_free(&b);
    }
    json_object_set_new(r, "excerpt", excerpt);
    char *textr = json_dumps(r, JSON_COMPACT);
    cdp_buf_puts(&run->rejects, textr);
    cdp_buf_putc(&run->rejects, '\n');
    free(textr);
    json_decref(r);
    if (run->rejects_file == NULL || run->common.verbose)
        cdp_buf_printf(&run->diag, "%s: %s:%llu: %s\n", cdp_cli_progname(), file,
                       (unsigned long long)line, reason);
}

static void
free_items(struct run *run)
{
    for (size_t i = 0; i < run->nitems; i++) {
        json_decref(run->items[i].root);
        free(run->items[i].raw);
        free(run->items[i].reason);
    }
    run->nitems = 0;
    run->batch_bytes = 0;
}

/* Parses an NDJSON line; NULL with the reason when it is not a usable JSON object. */
static json_t *
parse_line(struct run *run, const struct item *it, char *reason, size_t size)
{
    const char *why;
    size_t column;
    if (it->too_long) {
        snprintf(reason, size, "line longer than %zu bytes", run->max_line);
        return NULL;
    }
    /* The full pre-check runs only to explain a line that is not UTF-8. */
    if (!cdp_normalize_utf8_valid(it->raw, it->rawlen) &&
        !cdp_input_precheck(it->raw, it->rawlen, run->max_depth, &why, &column)) {
        snprintf(reason, size, "%s at column %zu", why, column);
        return NULL;
    }
    if (!cdp_jsonscan_check(it->raw, it->rawlen, run->max_depth, &column, &why)) {
        if (strcmp(why, "nesting too deep") == 0)
            snprintf(reason, size, "%s at column %zu", why, column);
        else
            snprintf(reason, size, "invalid JSON at column %zu: %s", column, why);
        return NULL;
    }
    json_t *root = cdp_event_parse(it->raw, it->rawlen);
    if (root == NULL) {
        json_error_t error;
        json_t *again = json_loadb(it->raw, it->rawlen, JSON_DECODE_ANY, &error);
        if (again != NULL) {
            json_decref(again);
            snprintf(reason, size, "cannot parse the JSON: out of memory");
        } else {
            snprintf(reason, size, "invalid JSON at column %d: %s", error.column, error.text);
        }
    }
    return root;
}

/*
 * The process's resident memory, split in two, from /proc/self/statm: the
 * pages of the store's file mapping ("shared") and the rest, mostly the
 * copies of the pages the open transaction changed ("own").  Both are 0
 * when unknown.  The file stays open: this is read every few events.
 */
struct memory_use {
    size_t own, shared;
};

static struct memory_use
memory_use(void)
{
    static int fd = -2;
    struct memory_use m = {0, 0};
    char text[128];
    if (fd == -2)
        fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return m;
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return m;
    text[n] = '\0';
    unsigned long size, resident, shared;
    if (sscanf(text, "%lu %lu %lu", &size, &resident, &shared) != 3)
        return m;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    m.shared = shared * page;
    m.own = resident > shared ? (resident - shared) * page : 0;
    return m;
}

/*
 * Applies items [first, nitems) in one write transaction, stopping early
 * (at *next) when the process's memory passes the budget: LMDB keeps a copy
 * of every page a transaction changes, and on a large store a batch of
 * random updates changes many.  Committing early bounds memory whatever the
 * store's size; the result does not depend on where batches end.
 */
/*
 * The store has no event dictionary yet: train one on the lines of this
 * batch and keep it in the metadata, inside the batch's transaction.  Too
 * few lines (a small import) leave events uncompressed until a later batch.
 * Returns 0 or an LMDB code; *made tells whether a dictionary was made.
 */
static int
train_dictionary(struct run *run, size_t first, bool *made)
{
    struct cdp_buf samples = CDP_BUF_INIT, dict = CDP_BUF_INIT;
    size_t *sizes = cdp_xmalloc(5000 * sizeof *sizes), count = 0;
    int rc = 0;
    *made = false;
    for (size_t i = first; i < run->nitems && count < 5000; i++) {
        if (run->items[i].raw != NULL && !run->items[i].too_long) {
            cdp_buf_append(&samples, run->items[i].raw, run->items[i].rawlen);
            sizes[count++] = run->items[i].rawlen;
        }
    }
    if (cdp_codec_train(samples.data, sizes, count, &dict)) {
        run->store.codec = cdp_codec_new(dict.data, dict.len);
        if (run->store.codec != NULL) {
            rc = cdp_store_meta_put(&run->store, run->ing.txn, "event_dict", dict.data, dict.len);
            *made = true;
        }
    }
    cdp_buf_free(&samples);
    cdp_buf_free(&dict);
    free(sizes);
    return rc;
}

static int
process_items(struct run *run, size_t first, size_t *next)
{
    char reason[256];
    bool made_dictionary = false;
    int rc = cdp_ingest_begin(&run->ing);
    if (rc != 0)
        return rc;
    if (run->store.codec == NULL && (rc = train_dictionary(run, first, &made_dictionary)) != 0)
        goto abort;
    size_t i;
    for (i = first; i < run->nitems; i++) {
        struct item *it = &run->items[i];
        /*
         * Memory is looked at every 16 events.  Random lookups touch pages
         * all over the map: once they pass an eighth of the budget they are
         * dropped from the resident set (the map is a shared file mapping;
         * the pages stay in the page cache and read back the same).  The
         * rest is mostly LMDB's copies of the pages this transaction
         * changed, which grow with the store's size: past seven eighths of
         * the budget the transaction commits early.  The result does not
         * depend on where transactions end.
         */
        if (run->memory_budget && (i - first) % 16 == 15) {
            struct memory_use m = memory_use();
            if (m.shared > run->memory_budget / 8)
                cdp_store_release_pages(&run->store);
            if (m.own > run->memory_budget / 8 * 7)
                break;
        }
        json_t *root = it->raw ? parse_line(run, it, reason, sizeof reason) : it->root;
        if (root == NULL) {
            run->ing.stats.read++;
            run->ing.stats.rejected++;
            reject(run, it->file, it->line, it->raw ? reason : it->reason, it->raw ? it->raw : "",
                   it->raw ? it->rawlen : 0);
            continue;
        }
        enum cdp_ingest_result result;
        rc = cdp_ingest_event(&run->ing, root, it->raw, it->rawlen, &result, reason, sizeof reason);
        if (rc != 0) {
            if (it->raw)
                json_decref(root);
            goto abort;
        }
        if (run->ing.warnings.len > 0) {
            const char *w = run->ing.warnings.data;
            while (*w) {
                const char *nl = strchr(w, '\n');
                cdp_buf_printf(&run->diag, "%s: %s:%llu: warning: %.*s\n", cdp_cli_progname(),
                               it->file, (unsigned long long)it->line, (int)(nl - w), w);
                w = nl + 1;
            }
        }
        if (result == CDP_INGEST_REJECTED) {
            char *text = it->raw;
            char *dumped = NULL;
            if (text == NULL)
                text = dumped = json_dumps(root, JSON_COMPACT);
            reject(run, it->file, it->line, reason, text ? text : "", text ? strlen(text) : 0);
            free(dumped);
        }
        if (it->raw)
            json_decref(root);
    }
    *next = i;
    rc = cdp_ingest_commit(&run->ing);
    if (rc != 0 && made_dictionary) {
        /* The dictionary was not committed: forget it, the batch runs again. */
        cdp_codec_free(run->store.codec);
        run->store.codec = NULL;
    }
    return rc;

abort:
    cdp_ingest_abort(&run->ing);
    if (made_dictionary) {
        cdp_codec_free(run->store.codec);
        run->store.codec = NULL;
    }
    return rc;
}

/* Applies the buffered items: one transaction, again after growing the map if full. */
/* Reports what a committed transaction left: diagnostics, rejects, progress. */
static void
report_committed(struct run *run)
{
    cdp_ingest_stats_add(&run->totals, &run->ing.stats);
    if (run->diag.len)
        fputs(run->diag.data, stderr);
    if (run->rejects.len && run->rejects_file) {
        if (fwrite(run->rejects.data, 1, run->rejects.len, run->rejects_file) != run->rejects.len)
            cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", run->rejects_path, strerror(errno));
    }
    if (run->progress)
        fprintf(stderr, "\r%s: %llu read, %llu landed, %llu profiles", cdp_cli_progname(),
                (unsigned long long)run->totals.read, (unsigned long long)run->totals.landed,
                (unsigned long long)run->totals.profiles_created);
}

/* Applies the buffered items: one transaction or more, each again after growing a full map. */
static void
flush_batch(struct run *run)
{
    size_t first = 0;
    while (first < run->nitems) {
        size_t next = first;
        int rc = cdp_store_reserve(&run->store);
        for (;;) {
            cdp_buf_reset(&run->diag);
            cdp_buf_reset(&run->rejects);
            if (rc == 0)
                rc = process_items(run, first, &next);
            if (rc != MDB_MAP_FULL)
                break;
            if ((rc = cdp_store_grow(&run->store)) != 0)
                break;
        }
        if (rc != 0) {
            cdp_cli_die(CDP_EXIT_FAILURE,
                        "store '%s': %s (the %zu events from %s:%llu on were not stored; "
                        "running the same import again is safe)",
                        run->common.db, cdp_store_strerror(rc), run->nitems - first,
                        run->items[first].file, (unsigned long long)run->items[first].line);
        }
        cdp_store_release_pages(&run->store);
        report_committed(run);
        first = next;
    }
    free_items(run);
}

static struct item *
new_item(struct run *run, const char *file, uint64_t line)
{
    if (run->nitems == run->capitems) {
        run->capitems = run->capitems ? run->capitems * 2 : 1024;
        run->items = cdp_xrealloc(run->items, run->capitems * sizeof *run->items);
    }
    struct item *it = &run->items[run->nitems++];
    memset(it, 0, sizeof *it);
    it->file = file;
    it->line = line;
    return it;
}

static void
maybe_flush(struct run *run)
{
    if (run->nitems >= run->batch_size || run->batch_bytes >= ((size_t)32 << 20))
        flush_batch(run);
}

static void
take_json_line(struct run *run, const char *file, uint64_t lineno, const char *line, size_t len,
               bool too_long)
{
    struct item *it = new_item(run, file, lineno);
    it->raw = cdp_xmalloc(len + 1);
    memcpy(it->raw, line, len);
    it->raw[len] = '\0';
    it->rawlen = len;
    it->too_long = too_long;
    run->batch_bytes += len;
    maybe_flush(run);
}

struct csv_ctx {
    struct run *run;
    const char *file;
};

static int
take_csv_row(json_t *event, uint64_t line, const char *reason, void *ctx)
{
    struct csv_ctx *c = ctx;
    struct item *it = new_item(c->run, c->file, line);
    it->root = event;
    if (event == NULL)
        it->reason = cdp_xstrdup(reason);
    c->run->batch_bytes += 512;
    maybe_flush(c->run);
    return 0;
}

/* Reads one input; returns false when it could not be read. */
static bool
ingest_file(struct run *run, const char *path, struct cdp_csvin *csv)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
    if (fd < 0) {
        cdp_cli_warn("%s: %s", path, strerror(errno));
        return false;
    }
    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long, decided = false, as_csv = run->csv_forced;
    char err[300];

    cdp_lines_init(&lines, fd, run->max_line);
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (lines.lineno == 1 && !as_csv && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            line += 3; /* a byte order mark before NDJSON */
            len -= 3;
        }
        if (!decided) {
            if (cdp_input_blank(line, len) && !as_csv)
                continue;
            if (!run->csv_forced && !run->ndjson_forced) {
                size_t i = 0;
                if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
                    i = 3;
                while (i < len && (line[i] == ' ' || line[i] == '\t'))
                    i++;
                as_csv = !(i < len && line[i] == '{');
            }
            decided = true;
        }
        if (as_csv) {
            if (too_long) {
                struct item *it = new_item(run, name, lines.lineno);
                char reason[80];
                snprintf(reason, sizeof reason, "line longer than %zu bytes", run->max_line);
                it->reason = cdp_xstrdup(reason);
                continue;
            }
            if (cdp_csvin_feed(csv, line, len, lines.lineno, err, sizeof err) < 0) {
                cdp_cli_warn("%s:%llu: %s", name, (unsigned long long)lines.lineno, err);
                run->status = CDP_EXIT_FAILURE;
                break;
            }
        } else {
            if (!too_long && cdp_input_blank(line, len))
                continue;
            take_json_line(run, name, lines.lineno, line, len, too_long);
        }
    }
    if (as_csv && csv && cdp_csvin_finish(csv, err, sizeof err) < 0) {
        cdp_cli_warn("%s: %s", name, err);
        run->status = CDP_EXIT_FAILURE;
    }
    bool ok = lines.error == 0;
    if (!ok)
        cdp_cli_warn("%s: read error: %s", name, strerror(lines.error));
    cdp_lines_free(&lines);
    if (!is_stdin)
        close(fd);
    return ok;
}

static bool
parse_limit(struct cdp_limits *limits, const char *spec)
{
    const char *eq = strchr(spec, '=');
    char *end;
    if (eq == NULL)
        return false;
    long n = strtol(eq + 1, &end, 10);
    if (*end != '\0' || n < 1 || n > 100000)
        return false;
    size_t k = (size_t)(eq - spec);
    if (k == 4 && strncmp(spec, "user", 4) == 0)
        limits->user = (int)n;
    else if (k == 5 && strncmp(spec, "email", 5) == 0)
        limits->email = (int)n;
    else if (k == 5 && strncmp(spec, "phone", 5) == 0)
        limits->phone = (int)n;
    else if (k == 4 && strncmp(spec, "anon", 4) == 0)
        limits->anon = (int)n;
    else if (k == 5 && strncmp(spec, "other", 5) == 0)
        limits->other = (int)n;
    else
        return false;
    return true;
}

static size_t
parse_size(const char *s, const char *option, size_t min, size_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        cdp_cli_usage_error("%s: '%s' is not a number from %zu to %zu", option, s, min, max);
    return (size_t)v;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDP_COMMON_LONGOPTS,
        {"source", required_argument, NULL, OPT_SOURCE},
        {"map", required_argument, NULL, OPT_MAP},
        {"id", required_argument, NULL, OPT_ID},
        {"type", required_argument, NULL, OPT_TYPE},
        {"event", required_argument, NULL, OPT_EVENT},
        {"delimiter", required_argument, NULL, OPT_DELIMITER},
        {"country", required_argument, NULL, OPT_COUNTRY},
        {"date-format", required_argument, NULL, OPT_DATE_FORMAT},
        {"rejects", required_argument, NULL, OPT_REJECTS},
        {"max-line", required_argument, NULL, OPT_MAX_LINE},
        {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
        {"count", required_argument, NULL, OPT_COUNT},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"memory", required_argument, NULL, OPT_MEMORY},
        {NULL, 0, NULL, 0},
    };
    static struct run run;
    const struct cdp_limits default_limits = CDP_LIMITS_DEFAULT;
    struct cdp_counter_map *counters = cdp_computed_map_new();
    char err[512];
    int opt;

    cdp_cli_init(argv[0], &run.common);
    run.options.source = "default";
    run.options.limits = default_limits;
    run.options.counters = counters;
    run.max_line = CDP_INPUT_DEFAULT_MAX_LINE;
    run.max_depth = CDP_INPUT_DEFAULT_MAX_DEPTH;
    run.batch_size = 50000;
    run.memory_budget = (size_t)140 << 20;
    run.csv.delimiter = ',';

    while ((opt = getopt_long(argc, argv, CDP_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cdp_cli_common_option(&run.common, opt, optarg, usage))
            continue;
        switch (opt) {
        case OPT_SOURCE:
            if (optarg[0] == '\0')
                cdp_cli_usage_error("--source needs a name");
            if (!cdp_normalize_utf8_valid(optarg, strlen(optarg)))
                cdp_cli_usage_error("--source must be UTF-8 text");
            run.options.source = optarg;
            break;
        case OPT_MAP:
            run.csv.map = optarg;
            break;
        case OPT_ID:
            run.ids = cdp_xrealloc(run.ids, (run.nids + 2) * sizeof *run.ids);
            run.ids[run.nids++] = optarg;
            run.ids[run.nids] = NULL;
            break;
        case OPT_TYPE:
            if (strcmp(optarg, "identify") != 0 && strcmp(optarg, "track") != 0)
                cdp_cli_usage_error("--type is identify or track, not '%s'", optarg);
            run.csv.type = optarg;
            break;
        case OPT_EVENT:
            run.csv.event = optarg;
            break;
        case OPT_DELIMITER:
            if (strcmp(optarg, "\\t") == 0 || strcmp(optarg, "tab") == 0)
                run.csv.delimiter = '\t';
            else if (strlen(optarg) == 1)
                run.csv.delimiter = optarg[0];
            else
                cdp_cli_usage_error("--delimiter takes one character, not '%s'", optarg);
            break;
        case OPT_COUNTRY:
            if (strlen(optarg) != 2)
                cdp_cli_usage_error("--country takes a two-letter code such as FR");
            run.options.event.country = optarg;
            break;
        case OPT_DATE_FORMAT:
            run.options.event.date_format = optarg;
            break;
        case OPT_REJECTS:
            run.rejects_path = optarg;
            break;
        case OPT_MAX_LINE:
            run.max_line = parse_size(optarg, "--max-line", 16, (size_t)1 << 30);
            break;
        case OPT_MAX_DEPTH:
            run.max_depth = (int)parse_size(optarg, "--max-depth", 1, 10000);
            break;
        case OPT_COUNT:
            if (!cdp_computed_map_add(counters, optarg, err, sizeof err))
                cdp_cli_usage_error("%s", err);
            break;
        case OPT_LIMIT:
            if (!parse_limit(&run.options.limits, optarg))
                cdp_cli_usage_error("--limit wants KIND=N with KIND one of user, email, phone, "
                                    "anon, other, not '%s'",
                                    optarg);
            break;
        case OPT_BATCH:
            run.batch_size = parse_size(optarg, "--batch", 1, 1000000);
            break;
        case OPT_MEMORY:
            run.memory_budget = parse_size(optarg, "--memory", 0, 1 << 20) << 20;
            break;
        default:
            cdp_cli_unknown_option(argv);
        }
    }
    argc -= optind;
    argv += optind;

    const char *format = run.common.format ? run.common.format : run.common.input_format;
    if (format) {
        if (strcmp(format, "csv") == 0)
            run.csv_forced = true;
        else if (strcmp(format, "ndjson") == 0 || strcmp(format, "json") == 0)
            run.ndjson_forced = true;
        else
            cdp_cli_usage_error("unknown format '%s' (ndjson or csv)", format);
    }
    if (run.csv.type && strcmp(run.csv.type, "track") == 0 && run.csv.event == NULL &&
        (run.csv.map == NULL || strstr(run.csv.map, "event=") == NULL))
        cdp_cli_usage_error("--type track needs --event NAME (or a column mapped to event)");
    run.csv.ids = run.ids;

    if (!run.ndjson_forced) {
        /* Check --map and --id now, before anything is read. */
        struct cdp_csvin *check = cdp_csvin_new(&run.csv, take_csv_row, NULL, err, sizeof err);
        if (check == NULL)
            cdp_cli_usage_error("%s", err);
        cdp_csvin_free(check);
    }

    if (run.rejects_path) {
        run.rejects_file = fopen(run.rejects_path, "w");
        if (run.rejects_file == NULL)
            cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", run.rejects_path, strerror(errno));
    }
    if (cdp_store_open(&run.store, run.common.db, CDP_STORE_WRITE, err, sizeof err) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    cdp_ingest_init(&run.ing, &run.store, &run.options, run.common.now);
    run.progress = !run.common.quiet && cdp_cli_stderr_is_tty();

    static const char *const stdin_only[] = {"-", NULL};
    const char *const *files = argc > 0 ? (const char *const *)argv : stdin_only;
    for (size_t i = 0; files[i]; i++) {
        struct csv_ctx ctx = {&run, strcmp(files[i], "-") == 0 ? "<stdin>" : files[i]};
        struct cdp_csvin *csv = NULL;
        if (!run.ndjson_forced)
            csv = cdp_csvin_new(&run.csv, take_csv_row, &ctx, err, sizeof err);
        if (!ingest_file(&run, files[i], csv))
            run.status = CDP_EXIT_FAILURE;
        flush_batch(&run);
        cdp_csvin_free(csv);
    }
    flush_batch(&run);
    if (run.progress)
        fputc('\n', stderr);

    const struct cdp_ingest_stats *t = &run.totals;
    if (!run.common.quiet) {
        fprintf(stderr,
                "%s: %llu read, %llu landed, %llu duplicates, %llu rejected, %llu warnings, "
                "%llu profiles created, %llu merges (%llu refused)",
                cdp_cli_progname(), (unsigned long long)t->read, (unsigned long long)t->landed,
                (unsigned long long)t->duplicates, (unsigned long long)t->rejected,
                (unsigned long long)t->warnings, (unsigned long long)t->profiles_created,
                (unsigned long long)t->merges, (unsigned long long)t->merges_refused);
        if (t->suppressed)
            fprintf(stderr, ", %llu dropped as erased", (unsigned long long)t->suppressed);
        fputc('\n', stderr);
        if (t->untimed)
            fprintf(stderr, "%s: %llu events had no timestamp and took the time of import\n",
                    cdp_cli_progname(), (unsigned long long)t->untimed);
    } else if (t->suppressed) {
        fprintf(stderr, "%s: %llu events dropped as erased\n", cdp_cli_progname(),
                (unsigned long long)t->suppressed);
    }

    cdp_ingest_free(&run.ing);
    cdp_store_close(&run.store);
    cdp_computed_map_free(counters);
    free(run.items);
    free(run.ids);
    cdp_buf_free(&run.diag);
    cdp_buf_free(&run.rejects);
    if (run.rejects_file && fclose(run.rejects_file) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", run.rejects_path, strerror(errno));
    int status = run.status;
    if (status == CDP_EXIT_OK && t->rejected > 0)
        status = CDP_EXIT_REJECTED;
    return cdp_cli_finish_stdout(status);
}
