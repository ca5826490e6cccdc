/*
 * cdp-merge - find the records that describe the same person, beyond exact
 * identifiers: probabilistic matching (Fellegi-Sunter) on names, dates,
 * postcodes and the like.
 *
 * As a filter, with no store: --dedupe reads records (CSV or NDJSON) and
 * writes them back with a cluster_id; --link does the same across two
 * files, comparing only records of different files; --evaluate measures
 * the clusters against the truth; --explain writes each scored pair with
 * the evidence of every field.  All of it lives in lib/match (comparisons,
 * blocking, training, clusters) and lib/linkage (the model).
 */
#include "buf.h"
#include "cli.h"
#include "computed.h"
#include "event.h"
#include "hash.h"
#include "ingest.h"
#include "input.h"
#include "linkage.h"
#include "lookup.h"
#include "match.h"
#include "normalize.h"
#include "profile.h"
#include "rebuild.h"
#include "survive.h"
#include "store.h"
#include "subject.h"
#include "timeparse.h"
#include "view.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xxhash.h>

enum {
    OPT_DEDUPE = CDP_OPT_FIRST_PRIVATE,
    OPT_LINK,
    OPT_KEY,
    OPT_FIELDS,
    OPT_BLOCK,
    OPT_THRESHOLD,
    OPT_PRIOR,
    OPT_EXPLAIN,
    OPT_EVALUATE,
    OPT_TRUTH_PATTERN,
    OPT_DELIMITER,
    OPT_NO_TF,
    OPT_MAX_BLOCK,
    OPT_MODEL,
    OPT_THREADS,
    OPT_FUZZY,
    OPT_APPLY,
    OPT_DRY_RUN,
    OPT_PAIRS,
    OPT_WHY,
    OPT_QUARANTINE,
    OPT_APPROVE,
    OPT_REJECT,
    OPT_COUNTRY,
    OPT_RECALL,
    OPT_REBUILD,
    OPT_UNDO,
    OPT_RULES,
    OPT_RULE,
    OPT_COUNT,
};

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cdp-merge --dedupe [options] < records.csv\n"
            "       cdp-merge --link A B [options]\n"
            "       cdp-merge --fuzzy [--apply] [options]     (the store's profiles)\n"
            "       cdp-merge --pairs < pairs.txt | --why ID | --quarantine\n"
            "       cdp-merge --approve SEQ | --reject SEQ\n"
            "       cdp-merge --rebuild | --undo SEQ | --rules | --rule TRAIT=RULE...\n"
            "Find the records that describe the same person with a probabilistic model\n"
            "(Fellegi-Sunter) trained on the records themselves, and write every record\n"
            "with a cluster_id column: the key of the first record of its cluster.\n"
            "\n"
            "Options:\n"
            "      --dedupe            cluster the records of stdin\n"
            "      --link A B          link the records of files A and B (pairs across them)\n"
            "      --key FIELD         the column or member that identifies a record\n"
            "                          (default: the first column; NDJSON: id)\n"
            "      --fields LIST       the fields compared, each NAME[:KIND] with KIND one\n"
            "                          of name, code, date, exact (default: guessed from\n"
            "                          the name); default: every column but the key\n"
            "      --block RULE        a blocking rule, FIELD[:N]+FIELD[:N]... (N: first N\n"
            "                          characters); may repeat (default: rules for the\n"
            "                          fields recognised: phone, email, birth date, ...)\n"
            "      --threshold P       link pairs with match probability >= P (default 0.95)\n"
            "      --prior P           the probability that two random records match\n"
            "                          (default: estimated)\n"
            "      --recall R          the share of all matches the blocking rules find, to\n"
            "                          correct the estimated prior (default 1)\n"
            "      --no-tf             no term-frequency adjustment of exact matches\n"
            "      --max-block N       skip blocks of more than N records (default 5000)\n"
            "      --explain           write every scored pair with its evidence (NDJSON)\n"
            "      --evaluate TRUTH    write pairwise precision, recall and F1 against the\n"
            "                          true clusters: a column, or a CSV file of key,cluster\n"
            "      --truth-pattern RE  the true cluster is the part of TRUTH matching RE\n"
            "      --model             write the trained model (m, u, weights) on stderr\n"
            "      --threads N         compare pairs on N threads (default: the number of CPUs)\n"
            "      --delimiter C       CSV field delimiter (default: ,)\n"
            "Store:\n"
            "      --fuzzy             score the store's profiles on their traits (--fields:\n"
            "                          trait paths) and print the merges proposed (NDJSON)\n"
            "      --apply             with --fuzzy: make the merges, through the merge log\n"
            "      --pairs             merge the profiles of each 'A B' line of stdin\n"
            "                          (identifiers such as email:x@y.z, or profile ids)\n"
            "      --why ID            the merge-log entries that made profile ID\n"
            "      --quarantine        list the merges that merge protection refused\n"
            "      --approve SEQ       merge the profiles of quarantined merge SEQ\n"
            "      --reject SEQ        settle quarantined merge SEQ without merging\n"
            "      --rebuild           build every profile again from the stored events, in\n"
            "                          time order, under the current rules\n"
            "      --undo SEQ          split the profile that merge SEQ made, and keep its\n"
            "                          two sides apart from then on\n"
            "      --dry-run           with --fuzzy, --rebuild, --undo, --rule: change nothing\n"
            "      --rules             the survivorship rule of each trait\n"
            "      --rule TRAIT=RULE   set a trait's rule (* for every other trait): recent,\n"
            "                          first, frequent, nonempty or source:A,B,...; TRAIT=\n"
            "                          removes it; every profile's traits are set again\n"
            "      --count NAME=COUNTER  for replays of events whose counter was not kept:\n"
            "                          event NAME feeds COUNTER, as cdp-ingest --count\n"
            "      --country CC        default region of national phone numbers (FR; for\n"
            "                          replays, of events whose region was not kept)\n"
            "\n%s",
            cdp_cli_common_help);
}

/* ---- records as read ---- */

struct table {
    bool ndjson;
    size_t ncols;          /* CSV: columns of the header */
    struct cdp_buf header; /* CSV: the header row as written back */
    struct cdp_buf text;   /* CSV: NUL-separated cells; NDJSON: NUL-terminated lines */
    size_t *row;           /* per record: offset of its first cell or of its line */
    uint64_t *lineno;
    int *source;           /* --link: 0 for A, 1 for B */
    size_t n, cap;
    char **names; /* CSV: the header cells */
};

struct merge {
    struct cdp_common common;
    bool dedupe, link, explain, show_model, no_tf;
    bool fuzzy, apply, dry_run, pairs, list_quarantine, rebuild, show_rules, country_given;
    const char *why, *approve, *reject, *country, *undo;
    json_t *set_rules; /* --rule: trait -> rule text ("" to remove) */
    struct cdp_store store;
    bool store_open;
    struct cdp_counter_map *counters;
    const char *link_files[2];
    const char *key, *fields_arg, *evaluate, *truth_pattern;
    const char *blocks[CDP_LINKAGE_MAX_RULES];
    size_t nblocks;
    char delimiter;
    struct cdp_match_options options;
    struct table t;
    uint64_t rejected;
};

static void
add_row(struct table *t, size_t offset, uint64_t lineno, int source)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->row = cdp_xrealloc(t->row, t->cap * sizeof *t->row);
        t->lineno = cdp_xrealloc(t->lineno, t->cap * sizeof *t->lineno);
        t->source = cdp_xrealloc(t->source, t->cap * sizeof *t->source);
    }
    t->row[t->n] = offset;
    t->lineno[t->n] = lineno;
    t->source[t->n] = source;
    t->n++;
}

/* CSV reading: cells of the row being read, then the row into the table. */
struct csv_state {
    struct merge *mg;
    const char *name; /* for messages */
    int source;
    bool header_done;
    struct cdp_buf cells;
    size_t ncells;
    uint64_t line;
};

static void
cell_cb(void *data, size_t len, void *ctx)
{
    struct csv_state *st = ctx;
    cdp_buf_append(&st->cells, data ? data : "", data ? len : 0);
    cdp_buf_putc(&st->cells, '\0');
    st->ncells++;
}

static void
row_cb(int c, void *ctx)
{
    (void)c;
    struct csv_state *st = ctx;
    struct table *t = &st->mg->t;
    if (!st->header_done) {
        st->header_done = true;
        if (t->ncols == 0) {
            t->ncols = st->ncells;
            t->names = cdp_xmalloc(st->ncells * sizeof *t->names);
            const char *p = st->cells.data;
            for (size_t i = 0; i < st->ncells; i++, p += strlen(p) + 1)
                t->names[i] = cdp_xstrdup(p);
        } else {
            /* --link: B's header must name the same columns. */
            const char *p = st->cells.data;
            bool same = st->ncells == t->ncols;
            for (size_t i = 0; same && i < st->ncells; i++, p += strlen(p) + 1)
                same = strcmp(p, t->names[i]) == 0;
            if (!same)
                cdp_cli_die(CDP_EXIT_FAILURE, "%s: the header differs from the first file's",
                            st->name);
        }
        cdp_buf_reset(&st->cells);
        st->ncells = 0;
        return;
    }
    if (st->ncells == 1 && st->cells.data[0] == '\0') { /* a blank line */
        cdp_buf_reset(&st->cells);
        st->ncells = 0;
        return;
    }
    if (st->ncells != t->ncols) {
        cdp_cli_warn("%s:%llu: %zu fields where the header has %zu; record skipped", st->name,
                     (unsigned long long)st->line, st->ncells, t->ncols);
        st->mg->rejected++;
    } else {
        add_row(t, t->text.len, st->line, st->source);
        cdp_buf_append(&t->text, st->cells.data, st->cells.len);
    }
    cdp_buf_reset(&st->cells);
    st->ncells = 0;
}

static void
read_input(struct merge *mg, int fd, const char *name, int source)
{
    struct table *t = &mg->t;
    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long, decided = source == 1;
    struct csv_parser parser;
    struct csv_state st = {mg, name, source, false, CDP_BUF_INIT, 0, 0};
    if (csv_init(&parser, CSV_APPEND_NULL) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "out of memory");
    csv_set_delim(&parser, (unsigned char)mg->delimiter);
    cdp_lines_init(&lines, fd, CDP_INPUT_DEFAULT_MAX_LINE);
    if (mg->common.input_format) {
        if (strcmp(mg->common.input_format, "ndjson") == 0)
            t->ndjson = true;
        else if (strcmp(mg->common.input_format, "csv") != 0)
            cdp_cli_usage_error("--input-format is csv or ndjson, not '%s'",
                                mg->common.input_format);
        decided = true;
    }
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (too_long) {
            cdp_cli_warn("%s:%llu: line longer than %zu bytes, skipped", name,
                         (unsigned long long)lines.lineno, (size_t)CDP_INPUT_DEFAULT_MAX_LINE);
            mg->rejected++;
            continue;
        }
        if (!decided) {
            if (cdp_input_blank(line, len))
                continue;
            size_t i = 0;
            while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
            t->ndjson = line[i] == '{';
            decided = true;
        }
        if (t->ndjson) {
            if (cdp_input_blank(line, len))
                continue;
            add_row(t, t->text.len, lines.lineno, source);
            cdp_buf_append(&t->text, line, len);
            cdp_buf_putc(&t->text, '\0');
            continue;
        }
        st.line = lines.lineno;
        if (csv_parse(&parser, line, len, cell_cb, row_cb, &st) != len ||
            csv_parse(&parser, "\n", 1, cell_cb, row_cb, &st) != 1)
            cdp_cli_die(CDP_EXIT_FAILURE, "%s:%llu: %s", name, (unsigned long long)lines.lineno,
                        csv_strerror(csv_error(&parser)));
    }
    if (lines.error)
        cdp_cli_die(CDP_EXIT_FAILURE, "reading %s: %s", name, strerror(lines.error));
    if (!t->ndjson)
        csv_fini(&parser, cell_cb, row_cb, &st);
    csv_free(&parser);
    cdp_buf_free(&st.cells);
    cdp_lines_free(&lines);
}

/* ---- fields of a record ---- */

static int
column_of(const struct table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->names[i], name) == 0)
            return (int)i;
    return -1;
}

/* CSV: cell c of record i. */
static const char *
csv_cell(const struct table *t, size_t i, size_t c)
{
    const char *p = t->text.data + t->row[i];
    while (c-- > 0)
        p += strlen(p) + 1;
    return p;
}

/* A value's text (strings as they are, numbers as written), or NULL. */
static const char *
scalar_text(json_t *v, char *buf, size_t size)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, size, "%.17g", json_real_value(v));
        return buf;
    }
    return NULL;
}

/* NDJSON: a member's text, by path, or NULL. */
static const char *
json_text(json_t *obj, const char *path, char *buf, size_t size)
{
    return scalar_text(cdp_json_path(obj, path), buf, size);
}

/* ---- the fields compared ---- */

struct spec {
    struct cdp_match_field fields[CDP_LINKAGE_MAX_FIELDS];
    char *names[CDP_LINKAGE_MAX_FIELDS];
    int cols[CDP_LINKAGE_MAX_FIELDS]; /* CSV columns */
    size_t n;
    int key_col;
    const char *key;
};

/*
 * Cuts the ":KIND" off a --fields item and returns the kind, or
 * CDP_MATCH_KIND_COUNT when the item names none (the caller guesses it).
 */
static enum cdp_match_kind
split_kind(char *item)
{
    char *colon = strrchr(item, ':');
    if (colon == NULL)
        return CDP_MATCH_KIND_COUNT;
    for (int k = 0; k < CDP_MATCH_KIND_COUNT; k++) {
        if (strcmp(colon + 1, cdp_match_kind_names[k]) == 0) {
            *colon = '\0';
            return (enum cdp_match_kind)k;
        }
    }
    cdp_cli_usage_error("--fields: '%s' is not a kind (name, code, date, exact)", colon + 1);
}

static void
add_field(struct merge *mg, struct spec *s, const char *item)
{
    if (s->n == CDP_LINKAGE_MAX_FIELDS)
        cdp_cli_usage_error("at most %d fields", CDP_LINKAGE_MAX_FIELDS);
    char *name = cdp_xstrdup(item);
    enum cdp_match_kind kind = split_kind(name);
    if (kind == CDP_MATCH_KIND_COUNT)
        kind = cdp_match_guess_kind(name);
    int col = -1;
    if (!mg->t.ndjson && (col = column_of(&mg->t, name)) < 0)
        cdp_cli_die(CDP_EXIT_USAGE, "--fields: the input has no column '%s'", name);
    s->names[s->n] = name;
    s->cols[s->n] = col;
    s->fields[s->n] = (struct cdp_match_field){name, kind,
                                               !mg->no_tf && kind != CDP_MATCH_DATE};
    s->n++;
}

static void
make_spec(struct merge *mg, struct spec *s)
{
    struct table *t = &mg->t;
    s->key = mg->key ? mg->key : t->ndjson ? "id" : t->names[0];
    s->key_col = -1;
    if (!t->ndjson && (s->key_col = column_of(t, s->key)) < 0)
        cdp_cli_die(CDP_EXIT_USAGE, "--key: the input has no column '%s'", s->key);
    if (mg->fields_arg) {
        char *copy = cdp_xstrdup(mg->fields_arg), *save = NULL;
        for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save))
            add_field(mg, s, f);
        free(copy);
    } else if (t->ndjson) {
        cdp_cli_usage_error("NDJSON input needs --fields");
    } else {
        for (size_t c = 0; c < t->ncols; c++)
            if ((int)c != s->key_col && (mg->evaluate == NULL || strcmp(t->names[c], mg->evaluate)))
                add_field(mg, s, t->names[c]);
    }
    if (s->n == 0)
        cdp_cli_usage_error("no field to compare");
}

/* ---- output ---- */

static void
put_csv_cell(struct cdp_buf *out, const char *s, char delimiter)
{
    if (strpbrk(s, "\"\r\n") == NULL && strchr(s, delimiter) == NULL) {
        cdp_buf_puts(out, s);
        return;
    }
    cdp_buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            cdp_buf_putc(out, '"');
        cdp_buf_putc(out, *s);
    }
    cdp_buf_putc(out, '"');
}

static void
flush(struct cdp_buf *line)
{
    if (fwrite(line->data, 1, line->len, stdout) != line->len)
        cdp_cli_stdout_failed();
    cdp_buf_reset(line);
}

static void
write_records(struct merge *mg, struct cdp_match *m, const size_t *record)
{
    struct table *t = &mg->t;
    struct cdp_buf line = CDP_BUF_INIT;
    if (!t->ndjson) {
        for (size_t c = 0; c < t->ncols; c++) {
            put_csv_cell(&line, t->names[c], mg->delimiter);
            cdp_buf_putc(&line, mg->delimiter);
        }
        if (mg->link) {
            cdp_buf_puts(&line, "source");
            cdp_buf_putc(&line, mg->delimiter);
        }
        cdp_buf_puts(&line, "cluster_id\n");
        flush(&line);
    }
    for (size_t i = 0; i < t->n; i++) {
        if (record[i] == SIZE_MAX)
            continue;
        const char *cluster = cdp_match_cluster(m, record[i]);
        if (t->ndjson) {
            const char *text = t->text.data + t->row[i];
            size_t len = strlen(text);
            while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
                len--;
            /* The object's text, the new members before its closing brace. */
            cdp_buf_append(&line, text, len - 1);
            size_t k = len - 1;
            while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t' || text[k - 1] == '\n'))
                k--;
            cdp_buf_puts(&line, text[k - 1] == '{' ? "" : ",");
            if (mg->link) {
                cdp_buf_puts(&line, "\"source\":");
                const char *src = mg->link_files[t->source[i]];
                cdp_view_string(&line, src, strlen(src));
                cdp_buf_putc(&line, ',');
            }
            cdp_buf_puts(&line, "\"cluster_id\":");
            cdp_view_string(&line, cluster, strlen(cluster));
            cdp_buf_puts(&line, "}\n");
        } else {
            const char *p = t->text.data + t->row[i];
            for (size_t c = 0; c < t->ncols; c++, p += strlen(p) + 1) {
                put_csv_cell(&line, p, mg->delimiter);
                cdp_buf_putc(&line, mg->delimiter);
            }
            if (mg->link) {
                put_csv_cell(&line, mg->link_files[t->source[i]], mg->delimiter);
                cdp_buf_putc(&line, mg->delimiter);
            }
            put_csv_cell(&line, cluster, mg->delimiter);
            cdp_buf_putc(&line, '\n');
        }
        flush(&line);
    }
    cdp_buf_free(&line);
}

/* --explain: one line per scored pair, the evidence field by field. */
struct explain {
    struct merge *mg;
    struct cdp_match *m;
    const struct spec *s;
    struct cdp_buf line;
};

/* The evidence of one pair as a JSON object, appended to out. */
static void
explain_text(struct explain *x, size_t i, size_t j, double weight, double probability,
             const uint8_t *gamma, struct cdp_buf *out)
{
    struct cdp_match *m = x->m;
    const struct cdp_linkage_model *model = cdp_match_model(m);
    cdp_buf_puts(out, "{\"a\":");
    cdp_view_string(out, cdp_match_key(m, i), strlen(cdp_match_key(m, i)));
    cdp_buf_puts(out, ",\"b\":");
    cdp_view_string(out, cdp_match_key(m, j), strlen(cdp_match_key(m, j)));
    cdp_buf_printf(out, ",\"probability\":%.6g,\"weight\":%.4f,\"prior\":%.4f,\"fields\":[",
                   probability, weight, cdp_linkage_prior_weight(model->lambda));
    for (size_t f = 0; f < x->s->n; f++) {
        if (f)
            cdp_buf_putc(out, ',');
        cdp_buf_puts(out, "{\"field\":");
        cdp_view_string(out, x->s->names[f], strlen(x->s->names[f]));
        const char *a = cdp_match_value(m, i, f), *b = cdp_match_value(m, j, f);
        cdp_buf_puts(out, ",\"a\":");
        cdp_view_string(out, a, strlen(a));
        cdp_buf_puts(out, ",\"b\":");
        cdp_view_string(out, b, strlen(b));
        cdp_buf_printf(out, ",\"level\":\"%s\",\"weight\":%.4f}",
                       cdp_match_level_name(m, f, gamma[f]),
                       cdp_match_field_weight(m, i, j, f, gamma[f]));
    }
    cdp_buf_puts(out, "]}");
}

static void
explain_pair(void *ctx, size_t i, size_t j, double weight, double probability,
             const uint8_t *gamma)
{
    struct explain *x = ctx;
    explain_text(x, i, j, weight, probability, gamma, &x->line);
    cdp_buf_putc(&x->line, '\n');
    flush(&x->line);
}

/* ---- evaluation ---- */

static const char *
truth_of(regex_t *re, const char *value, char *buf, size_t size)
{
    if (re == NULL)
        return value;
    regmatch_t mt;
    if (regexec(re, value, 1, &mt, 0) != 0)
        return value;
    snprintf(buf, size, "%.*s", (int)(mt.rm_eo - mt.rm_so), value + mt.rm_so);
    return buf;
}

/* Labels as numbers: equal texts, equal numbers (a sorted table of hashes). */
static uint32_t
label_of(uint64_t *table, size_t size, const char *text)
{
    uint64_t h = XXH3_64bits(text, strlen(text)) | 1;
    size_t s = h & (size - 1);
    while (table[s] != 0 && table[s] != h)
        s = (s + 1) & (size - 1);
    table[s] = h;
    return (uint32_t)s;
}

static void
evaluate(struct merge *mg, struct cdp_match *m, const size_t *record,
         const struct cdp_match_report *rep)
{
    struct table *t = &mg->t;
    size_t n = cdp_match_count(m);
    regex_t re, *rp = NULL;
    if (mg->truth_pattern) {
        if (regcomp(&re, mg->truth_pattern, REG_EXTENDED) != 0)
            cdp_cli_usage_error("--truth-pattern: not a regular expression: %s",
                                mg->truth_pattern);
        rp = &re;
    }
    size_t size = 1;
    while (size < 4 * (n + 1))
        size <<= 1;
    uint64_t *table = cdp_xcalloc(size, sizeof *table);
    uint64_t *ptable = cdp_xcalloc(size, sizeof *ptable);
    uint32_t *truth = cdp_xmalloc((n ? n : 1) * sizeof *truth);
    uint32_t *pred = cdp_xmalloc((n ? n : 1) * sizeof *pred);
    int col = t->ndjson ? -1 : column_of(t, mg->evaluate);
    char buf[512], jbuf[64];
    /* A file of key,cluster when TRUTH is not a field. */
    json_t *keyed = NULL;
    if (!t->ndjson && col < 0) {
        FILE *f = fopen(mg->evaluate, "r");
        if (f == NULL)
            cdp_cli_die(CDP_EXIT_USAGE, "--evaluate: '%s' is neither a column nor a file: %s",
                        mg->evaluate, strerror(errno));
        keyed = json_object();
        char row[4096];
        while (fgets(row, sizeof row, f)) {
            row[strcspn(row, "\r\n")] = '\0';
            char *comma = strchr(row, ',');
            if (comma == NULL)
                continue;
            *comma = '\0';
            json_object_set_new(keyed, row, json_string(comma + 1));
        }
        fclose(f);
    }
    for (size_t i = 0; i < t->n; i++) {
        if (record[i] == SIZE_MAX)
            continue;
        size_t r = record[i];
        const char *value = NULL;
        if (keyed) {
            value = json_string_value(json_object_get(keyed, cdp_match_key(m, r)));
        } else if (t->ndjson) {
            json_t *obj = json_loads(t->text.data + t->row[i], 0, NULL);
            value = json_text(obj, mg->evaluate, jbuf, sizeof jbuf);
            snprintf(buf, sizeof buf, "%s", value ? value : "");
            json_decref(obj);
            value = buf;
        } else {
            value = csv_cell(t, i, (size_t)col);
        }
        if (value == NULL || *value == '\0') {
            /* No truth: a cluster of its own. */
            snprintf(buf, sizeof buf, "\x01%s", cdp_match_key(m, r));
            value = buf;
        }
        char tb[512];
        truth[r] = label_of(table, size, truth_of(rp, value, tb, sizeof tb));
        pred[r] = label_of(ptable, size, cdp_match_cluster(m, r));
    }
    struct cdp_linkage_evaluation ev;
    if (cdp_linkage_evaluate(pred, truth, n, &ev) != CDP_LINKAGE_OK)
        cdp_cli_die(CDP_EXIT_FAILURE, "out of memory");
    printf("{\"records\":%zu,\"pairs_compared\":%llu,\"links\":%llu,\"predicted_clusters\":%llu,"
           "\"true_clusters\":%llu,\"predicted_pairs\":%llu,\"true_pairs\":%llu,"
           "\"true_positives\":%llu,\"false_positives\":%llu,\"false_negatives\":%llu,"
           "\"precision\":%.6f,\"recall\":%.6f,\"f1\":%.6f}\n",
           n, (unsigned long long)rep->pairs, (unsigned long long)rep->links,
           (unsigned long long)ev.predicted_clusters, (unsigned long long)ev.true_clusters,
           (unsigned long long)ev.predicted_pairs, (unsigned long long)ev.true_pairs,
           (unsigned long long)ev.true_positives, (unsigned long long)ev.false_positives,
           (unsigned long long)ev.false_negatives, ev.precision, ev.recall, ev.f1);
    json_decref(keyed);
    if (rp)
        regfree(rp);
    free(table);
    free(ptable);
    free(truth);
    free(pred);
}

/* ---- the store: fuzzy matching of profiles, manual merges, the quarantine ---- */

/* The traits compared by --fuzzy unless --fields says otherwise. */
static const char default_store_fields[] =
    "firstName,lastName,email,phone,birthday,address.postalCode,address.street";

static void
open_store(struct merge *mg, bool write)
{
    char err[512];
    int rc = cdp_store_open(&mg->store, mg->common.db, write ? CDP_STORE_WRITE : CDP_STORE_READ,
                            err, sizeof err);
    if (rc != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    mg->store_open = true;
}

static _Noreturn void
store_failed(struct merge *mg, int rc)
{
    cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", mg->common.db, cdp_store_strerror(rc));
}

/* The strongest of a profile's identifiers (ties: the first in byte order). */
struct strongest {
    char best[CDP_IDENTIFIER_MAX];
    int strength;
};

static void
strongest_cb(const char *identifier, void *ctx)
{
    struct strongest *s = ctx;
    int strength = cdp_identifier_strength(identifier);
    if (s->best[0] == '\0' || strength > s->strength) {
        snprintf(s->best, sizeof s->best, "%s", identifier);
        s->strength = strength;
    }
}

/* A profile's strongest identifier into out; false when it has none or cannot be read. */
static bool
profile_identifier(struct merge *mg, MDB_txn *txn, const struct cdp_id *id, char *out,
                   size_t size)
{
    MDB_val k = {16, (void *)id->bytes}, v;
    int rc = mdb_get(txn, mg->store.dbi[CDP_DB_PROFILES], &k, &v);
    if (rc == MDB_NOTFOUND)
        return false;
    if (rc != 0)
        store_failed(mg, rc);
    struct cdp_profile p;
    struct strongest best = {"", 0};
    if (cdp_profile_decode(&p, id, v.mv_data, v.mv_size))
        cdp_profile_each_identifier(&p, strongest_cb, &best);
    cdp_profile_free(&p);
    snprintf(out, size, "%s", best.best);
    return best.best[0] != '\0';
}

/*
 * Merges go through the ingest engine as an identify event that carries an
 * identifier of each profile (context.externalIds) and the decision
 * (context.merge): the engine applies its merge protection, writes the
 * merge log with the decision as evidence, and keeps the event in the
 * history, so that a replay of the events makes the same merge.
 */
struct applier {
    struct merge *mg;
    struct cdp_ingest ing;
    struct cdp_ingest_options options;
    bool open;
    json_t *waiting; /* the quarantine when the run began: seq -> refused entry */
    uint64_t merged, refused, already, queued, events;
};

static json_t *quarantine(struct merge *mg, MDB_txn *txn);

static void
applier_begin(struct applier *ap)
{
    struct merge *mg = ap->mg;
    ap->options.source = "cdp-merge";
    ap->options.limits = (struct cdp_limits)CDP_LIMITS_DEFAULT;
    ap->options.counters = mg->counters;
    cdp_ingest_init(&ap->ing, &mg->store, &ap->options, mg->common.now);
    int rc;
    if ((rc = cdp_store_reserve_bytes(&mg->store, 256u << 20)) != 0 ||
        (rc = cdp_ingest_begin(&ap->ing)) != 0)
        store_failed(mg, rc);
    ap->open = true;
    ap->waiting = quarantine(mg, ap->ing.txn);
}

/* The profile ids named by a refused entry: its profiles and its target. */
static bool
entry_names(json_t *entry, const char *hex)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(entry, "profiles"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), hex) == 0)
            return true;
    }
    const char *target = json_string_value(json_object_get(entry, "target"));
    return target && strcmp(target, hex) == 0;
}

/* True when a refused merge of all these profiles waits in the quarantine already. */
static bool
already_waiting(const struct applier *ap, const struct cdp_id *ids, size_t n)
{
    const char *key;
    json_t *entry;
    json_object_foreach(ap->waiting, key, entry)
    {
        bool all = true;
        for (size_t k = 0; all && k < n; k++) {
            char hex[CDP_ID_HEX_SIZE];
            cdp_hash_to_hex(&ids[k], hex);
            all = entry_names(entry, hex);
        }
        if (all)
            return true;
    }
    return false;
}

static void
applier_commit(struct applier *ap)
{
    if (!ap->open)
        return;
    json_decref(ap->waiting);
    ap->waiting = NULL;
    int rc = cdp_ingest_commit(&ap->ing);
    if (rc != 0)
        store_failed(ap->mg, rc);
    cdp_ingest_free(&ap->ing);
    ap->open = false;
}

/*
 * Links the profiles of identifiers[0..n) with the decision merge (stolen).
 * Profiles that are one already, or whose refused merge waits in the
 * quarantine, are left alone: no event, nothing changes.
 */
static void
apply_link(struct applier *ap, const char *const *identifiers, size_t n, json_t *merge)
{
    struct cdp_id profile[16];
    bool one = true, forced = json_is_true(json_object_get(merge, "force"));
    char err[256];
    for (size_t k = 0; k < n && k < 16; k++) {
        int rc = cdp_lookup_profile(&ap->mg->store, ap->ing.txn, identifiers[k], NULL, &profile[k],
                                    err, sizeof err);
        if (rc != 0 && rc != MDB_NOTFOUND && rc != EINVAL)
            store_failed(ap->mg, rc);
        one = one && rc == 0 && (k == 0 || cdp_hash_compare(&profile[k], &profile[0]) == 0);
    }
    if (one) {
        ap->already++;
        json_decref(merge);
        return;
    }
    if (!forced && already_waiting(ap, profile, n < 16 ? n : 16)) {
        ap->queued++;
        json_decref(merge);
        return;
    }
    json_t *ids = json_array();
    struct cdp_buf seed = CDP_BUF_INIT;
    for (size_t k = 0; k < n; k++) {
        const char *colon = strchr(identifiers[k], ':');
        json_array_append_new(ids, json_pack("{s:s%,s:s}", "type", identifiers[k],
                                             (size_t)(colon - identifiers[k]), "id", colon + 1));
        cdp_buf_puts(&seed, identifiers[k]);
        cdp_buf_putc(&seed, '\n');
    }
    cdp_buf_puts(&seed, json_string_value(json_object_get(merge, "rule")));
    char when[40], message[64], hex[CDP_ID_HEX_SIZE];
    struct cdp_id h = cdp_hash_bytes(seed.data, seed.len);
    cdp_hash_to_hex(&h, hex);
    snprintf(message, sizeof message, "cdp-merge-%s", hex);
    cdp_time_format(ap->mg->common.now, when, sizeof when);
    json_t *event = json_pack("{s:s,s:s,s:s,s:{s:o,s:o}}", "type", "identify", "messageId", message,
                              "timestamp", when, "context", "externalIds", ids, "merge", merge);
    cdp_buf_free(&seed);
    uint64_t merges = ap->ing.stats.merges, refused = ap->ing.stats.merges_refused;
    enum cdp_ingest_result result;
    char reason[256];
    int rc = cdp_ingest_event(&ap->ing, event, NULL, 0, &result, reason, sizeof reason);
    json_decref(event);
    if (rc != 0)
        store_failed(ap->mg, rc);
    ap->events++;
    if (result == CDP_INGEST_REJECTED || result == CDP_INGEST_SUPPRESSED) {
        cdp_cli_warn("link of %s and %s not applied: %s", identifiers[0], identifiers[1],
                     result == CDP_INGEST_SUPPRESSED ? "an identifier is on the suppression list"
                                                     : reason);
        ap->mg->rejected++;
    } else if (ap->ing.stats.merges_refused > refused) {
        ap->refused++;
    } else if (ap->ing.stats.merges > merges) {
        ap->merged += ap->ing.stats.merges - merges;
    } else {
        ap->already++;
    }
    cdp_buf_reset(&ap->ing.warnings);
}

/* --fuzzy: the store's profiles as records, keyed by id. */
struct fuzzy {
    struct explain x;
    char **identifier; /* by match record: the profile's strongest identifier */
    struct cdp_buf links;    /* --apply: the evidence of each link, one per line */
    uint64_t nlinks;
    double threshold;
    bool apply;
};

static void
fuzzy_pair(void *ctx, size_t i, size_t j, double weight, double probability,
           const uint8_t *gamma)
{
    struct fuzzy *fz = ctx;
    if (probability < fz->threshold)
        return;
    fz->nlinks++;
    struct cdp_buf *out = fz->apply ? &fz->links : &fz->x.line;
    explain_text(&fz->x, i, j, weight, probability, gamma, out);
    /* The identifiers the link goes by, before the closing brace. */
    cdp_buf_truncate(out, out->len - 1);
    cdp_buf_puts(out, ",\"a_identifier\":");
    cdp_view_string(out, fz->identifier[i], strlen(fz->identifier[i]));
    cdp_buf_puts(out, ",\"b_identifier\":");
    cdp_view_string(out, fz->identifier[j], strlen(fz->identifier[j]));
    cdp_buf_puts(out, "}\n");
    if (!fz->apply)
        flush(out);
}

/* A trait's value by path ("address.city"), as text, or NULL. */
static const char *
trait_text(json_t *traits, const char *path, char *buf, size_t size)
{
    char first[128];
    size_t n = strcspn(path, ".");
    if (n >= sizeof first)
        return NULL;
    memcpy(first, path, n);
    first[n] = '\0';
    json_t *v = json_array_get(json_object_get(traits, first), 0);
    if (path[n] == '.')
        v = cdp_json_path(v, path + n + 1);
    return scalar_text(v, buf, size);
}

static void
run_fuzzy(struct merge *mg)
{
    open_store(mg, mg->apply);
    struct spec s = {0};
    char *copy = cdp_xstrdup(mg->fields_arg ? mg->fields_arg : default_store_fields), *save = NULL;
    for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        if (s.n == CDP_LINKAGE_MAX_FIELDS)
            cdp_cli_usage_error("at most %d fields", CDP_LINKAGE_MAX_FIELDS);
        enum cdp_match_kind kind = split_kind(f);
        if (strncmp(f, "traits.", 7) == 0)
            f += 7;
        /* Read by path, named (and guessed) by the last part: address.postalCode is a postcode. */
        const char *last = strrchr(f, '.') ? strrchr(f, '.') + 1 : f;
        s.names[s.n] = cdp_xstrdup(f);
        if (kind == CDP_MATCH_KIND_COUNT)
            kind = cdp_match_guess_kind(last);
        s.fields[s.n] = (struct cdp_match_field){strrchr(s.names[s.n], '.')
                                                     ? strrchr(s.names[s.n], '.') + 1
                                                     : s.names[s.n],
                                                 kind, !mg->no_tf && kind != CDP_MATCH_DATE};
        s.n++;
    }
    free(copy);
    struct cdp_match *m = cdp_match_new(s.fields, s.n);
    char err[256];
    for (size_t b = 0; b < mg->nblocks; b++)
        if (!cdp_match_add_rule(m, mg->blocks[b], err, sizeof err))
            cdp_cli_usage_error("%s", err);
    if (mg->nblocks == 0 && cdp_match_default_rules(m) == 0)
        cdp_cli_usage_error("no default blocking rule fits these fields: give --block");

    /* Every profile, with the traits compared and its strongest identifier. */
    struct fuzzy fz = {{mg, m, &s, CDP_BUF_INIT}, NULL, CDP_BUF_INIT, 0, 0, mg->apply};
    size_t cap = 0;
    MDB_txn *txn;
    MDB_cursor *cursor;
    int rc;
    if ((rc = cdp_store_begin(&mg->store, false, &txn)) != 0 ||
        (rc = mdb_cursor_open(txn, mg->store.dbi[CDP_DB_PROFILES], &cursor)) != 0)
        store_failed(mg, rc);
    MDB_val k, v;
    const char *values[CDP_LINKAGE_MAX_FIELDS];
    char bufs[CDP_LINKAGE_MAX_FIELDS][32];
    size_t walked = 0;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        struct cdp_id id;
        struct cdp_profile p;
        if (++walked % 1024 == 0) /* the store's pages out of the way: memory is the records' */
            cdp_store_release_pages_over(&mg->store, (size_t)64 << 20);
        if (k.mv_size != 16)
            continue;
        memcpy(id.bytes, k.mv_data, 16);
        if (!cdp_profile_decode(&p, &id, v.mv_data, v.mv_size)) {
            cdp_profile_free(&p);
            cdp_cli_warn("a damaged profile record is left out");
            mg->rejected++;
            continue;
        }
        cdp_profile_load(&p);
        for (size_t f = 0; f < s.n; f++)
            values[f] = trait_text(p.traits, s.names[f], bufs[f], sizeof bufs[f]);
        struct strongest best = {"", 0};
        cdp_profile_each_identifier(&p, strongest_cb, &best);
        if (best.best[0] != '\0') {
            size_t r = cdp_match_count(m);
            if (r == cap) {
                cap = cap ? 2 * cap : 1024;
                fz.identifier = cdp_xrealloc(fz.identifier, cap * sizeof *fz.identifier);
            }
            fz.identifier[r] = cdp_xstrdup(best.best);
            char hex[CDP_ID_HEX_SIZE];
            cdp_hash_to_hex(&id, hex);
            cdp_match_add(m, hex, values); /* values point into p's traits: copied here */
        }
        cdp_profile_free(&p);
    }
    if (rc != MDB_NOTFOUND)
        store_failed(mg, rc);
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);

    fz.threshold = mg->options.threshold > 0 ? mg->options.threshold : 0.95;
    mg->options.pair = fuzzy_pair;
    mg->options.ctx = &fz;
    struct cdp_match_report rep;
    rc = cdp_match_run(m, &mg->options, &rep);
    if (rc != CDP_LINKAGE_OK)
        cdp_cli_die(CDP_EXIT_FAILURE, "matching failed: %s", cdp_linkage_strerror(rc));

    struct applier ap = {.mg = mg};
    if (mg->apply && fz.nlinks > 0) {
        applier_begin(&ap);
        char *line = fz.links.data, *next;
        for (; line && *line; line = next) {
            next = strchr(line, '\n');
            *next++ = '\0';
            json_t *evidence = json_loads(line, 0, NULL);
            const char *pair[2] = {json_string_value(json_object_get(evidence, "a_identifier")),
                                   json_string_value(json_object_get(evidence, "b_identifier"))};
            json_t *merge = json_pack("{s:s,s:o,s:O,s:O,s:O}", "rule", "fuzzy", "profiles",
                                      json_pack("[OO]", json_object_get(evidence, "a"),
                                                json_object_get(evidence, "b")),
                                      "probability", json_object_get(evidence, "probability"),
                                      "weight", json_object_get(evidence, "weight"), "fields",
                                      json_object_get(evidence, "fields"));
            apply_link(&ap, pair, 2, merge);
            json_decref(evidence);
        }
        applier_commit(&ap);
    }
    if (!mg->common.quiet) {
        cdp_cli_warn("%zu profiles, %llu pairs compared, %llu above %.3g%s", cdp_match_count(m),
                     (unsigned long long)rep.pairs, (unsigned long long)fz.nlinks, fz.threshold,
                     mg->apply ? "" : " (a dry run: nothing merged; --apply merges them)");
        if (mg->apply)
            cdp_cli_warn("%llu merges, %llu refused by merge protection (see --quarantine), "
                         "%llu waiting there already, %llu already one profile",
                         (unsigned long long)ap.merged, (unsigned long long)ap.refused,
                         (unsigned long long)ap.queued, (unsigned long long)ap.already);
    }
    for (size_t r = 0; r < cdp_match_count(m); r++)
        free(fz.identifier[r]);
    free(fz.identifier);
    cdp_buf_free(&fz.links);
    cdp_buf_free(&fz.x.line);
    cdp_match_free(m);
    for (size_t f = 0; f < s.n; f++)
        free(s.names[f]);
}

/* --pairs: links decided elsewhere, "A B" a line, each an identifier or a profile id. */
static void
run_pairs(struct merge *mg)
{
    open_store(mg, true);
    struct applier ap = {.mg = mg};
    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long;
    applier_begin(&ap);
    cdp_lines_init(&lines, STDIN_FILENO, CDP_INPUT_DEFAULT_MAX_LINE);
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (too_long || cdp_input_blank(line, len) || line[0] == '#')
            continue;
        char *text = cdp_xmalloc(len + 1), *save = NULL;
        memcpy(text, line, len);
        text[len] = '\0';
        const char *spec[2] = {strtok_r(text, " \t,", &save), strtok_r(NULL, " \t,", &save)};
        const char *note = strtok_r(NULL, "", &save);
        char ident[2][CDP_IDENTIFIER_MAX], err[256];
        bool ok = spec[1] != NULL;
        for (int k = 0; ok && k < 2; k++) {
            struct cdp_id id;
            int rc = cdp_lookup_profile(&mg->store, ap.ing.txn, spec[k], mg->country, &id, err,
                                        sizeof err);
            /* The identifier given (normalised) goes into the link, for replays to follow. */
            if (rc == 0)
                rc = cdp_lookup_subject(&mg->store, ap.ing.txn, spec[k], mg->country, &id,
                                        ident[k], sizeof ident[k]);
            if (rc != 0) {
                if (rc == EINVAL)
                    cdp_cli_warn("-:%llu: %s; pair skipped", (unsigned long long)lines.lineno,
                                 err);
                else
                    cdp_cli_warn("-:%llu: %s: no such profile; pair skipped",
                                 (unsigned long long)lines.lineno, spec[k]);
                ok = false;
            }
        }
        if (spec[1] == NULL)
            cdp_cli_warn("-:%llu: a pair needs two identifiers or profile ids; line skipped",
                         (unsigned long long)lines.lineno);
        if (ok) {
            const char *pair[2] = {ident[0], ident[1]};
            json_t *merge = json_pack("{s:s,s:[ss]}", "rule", "manual", "pair", spec[0], spec[1]);
            if (note)
                json_object_set_new(merge, "note", json_string(note + strspn(note, " \t,")));
            apply_link(&ap, pair, 2, merge);
        } else {
            mg->rejected++;
        }
        free(text);
    }
    cdp_lines_free(&lines);
    applier_commit(&ap);
    if (!mg->common.quiet)
        cdp_cli_warn("%llu pairs: %llu merges, %llu refused by merge protection (see "
                     "--quarantine), %llu waiting there already, %llu already one profile",
                     (unsigned long long)(ap.merged + ap.refused + ap.queued + ap.already),
                     (unsigned long long)ap.merged, (unsigned long long)ap.refused,
                     (unsigned long long)ap.queued, (unsigned long long)ap.already);
}

/* --why: the merge-log entries that made a profile, oldest first. */
static void
run_why(struct merge *mg)
{
    open_store(mg, false);
    MDB_txn *txn;
    int rc = cdp_store_begin(&mg->store, false, &txn);
    if (rc != 0)
        store_failed(mg, rc);
    struct cdp_id id;
    char err[256], hex[CDP_ID_HEX_SIZE];
    rc = cdp_lookup_profile(&mg->store, txn, mg->why, mg->country, &id, err, sizeof err);
    if (rc == EINVAL)
        cdp_cli_usage_error("--why: %s", err);
    if (rc == MDB_NOTFOUND || (rc == 0 && !profile_identifier(mg, txn, &id, err, sizeof err)))
        cdp_cli_die(CDP_EXIT_FAILURE, "--why: no profile for '%s'", mg->why);
    if (rc != 0)
        store_failed(mg, rc);
    json_t *log = cdp_subject_merge_log(&mg->store, txn, &id, &rc);
    if (rc != 0)
        store_failed(mg, rc);
    size_t i;
    json_t *entry;
    json_array_foreach(log, i, entry)
    {
        char *text = json_dumps(entry, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
    }
    cdp_hash_to_hex(&id, hex);
    if (!mg->common.quiet)
        cdp_cli_warn("profile %s: %zu merge-log entries", hex, json_array_size(log));
    json_decref(log);
    mdb_txn_abort(txn);
}

/*
 * The quarantine: merges that merge protection refused (merge-log entries
 * "refused") and nobody settled yet.  A settlement is itself an entry,
 * {"action":"settled","quarantine":SEQ,"decision":"approved"|"rejected"}.
 */
static int
quarantine_cb(uint64_t seq, const char *action, json_t *entry, void *ctx)
{
    json_t *open = ctx; /* seq -> entry */
    char key[32];
    (void)seq;
    if (strcmp(action, "refused") == 0) {
        snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(entry, "seq")));
        json_object_set(open, key, entry);
    } else if (strcmp(action, "settled") == 0) {
        snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(entry, "quarantine")));
        json_object_del(open, key);
    }
    return 0;
}

static json_t *
quarantine(struct merge *mg, MDB_txn *txn)
{
    json_t *open = json_object();
    int rc = cdp_mergelog_each(&mg->store, txn, quarantine_cb, open);
    if (rc != 0)
        store_failed(mg, rc);
    return open;
}

static void
run_quarantine(struct merge *mg)
{
    open_store(mg, false);
    MDB_txn *txn;
    int rc = cdp_store_begin(&mg->store, false, &txn);
    if (rc != 0)
        store_failed(mg, rc);
    json_t *open = quarantine(mg, txn);
    /* In the order of the log: the keys are decimal sequence numbers. */
    uint64_t *seqs = cdp_xmalloc((json_object_size(open) + 1) * sizeof *seqs);
    size_t n = 0;
    const char *key;
    json_t *entry;
    json_object_foreach(open, key, entry)
    {
        seqs[n++] = strtoull(key, NULL, 10);
    }
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && seqs[b - 1] > seqs[b]; b--) {
            uint64_t t = seqs[b];
            seqs[b] = seqs[b - 1];
            seqs[b - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        char seq[32];
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)seqs[i]);
        char *text = json_dumps(json_object_get(open, seq), JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
    }
    if (!mg->common.quiet)
        cdp_cli_warn("%zu refused merges waiting (settle with --approve SEQ or --reject SEQ)", n);
    free(seqs);
    json_decref(open);
    mdb_txn_abort(txn);
}

/* --approve / --reject: settles a quarantined merge; approving merges the profiles it named. */
static void
run_settle(struct merge *mg, const char *arg, bool approve)
{
    char *end;
    unsigned long long seq = strtoull(arg, &end, 10);
    if (end == arg || *end || seq == 0 || arg[0] == '-' || arg[0] == '+')
        cdp_cli_usage_error("--%s wants the seq of a quarantined merge (see --quarantine)",
                            approve ? "approve" : "reject");
    open_store(mg, true);
    struct applier ap = {.mg = mg};
    applier_begin(&ap);
    MDB_txn *txn = ap.ing.txn;
    json_t *open = quarantine(mg, txn);
    char key[32];
    snprintf(key, sizeof key, "%llu", seq);
    json_t *entry = json_object_get(open, key);
    if (entry == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "no quarantined merge %llu (see --quarantine)", seq);
    if (approve) {
        /*
         * The refused event's identifiers, those still in the store: the
         * link then joins what the event joined, in a replay too.  Else the
         * profiles it named, by an identifier each.
         */
        const char *identifiers[16];
        char ident[16][CDP_IDENTIFIER_MAX];
        struct cdp_id seen[16];
        size_t n = 0, distinct = 0, i;
        json_t *idv;
        json_array_foreach(json_object_get(entry, "event_identifiers"), i, idv)
        {
            const char *identifier = json_string_value(idv);
            struct cdp_id id;
            char err[256];
            if (n == 16 || identifier == NULL ||
                strlen(identifier) >= CDP_IDENTIFIER_MAX ||
                cdp_lookup_profile(&mg->store, txn, identifier, NULL, &id, err, sizeof err) != 0)
                continue;
            snprintf(ident[n], sizeof ident[n], "%s", identifier);
            identifiers[n] = ident[n];
            n++;
            size_t k;
            for (k = 0; k < distinct; k++)
                if (cdp_hash_compare(&seen[k], &id) == 0)
                    break;
            if (k == distinct)
                seen[distinct++] = id;
        }
        if (distinct < 2) {
            n = 0;
            json_t *named = json_deep_copy(json_object_get(entry, "profiles"));
            if (!json_is_array(named))
                named = json_array();
            json_array_append(named, json_object_get(entry, "target"));
            json_array_foreach(named, i, idv)
            {
                struct cdp_id id;
                const char *hex = json_string_value(idv);
                bool dup = false;
                for (size_t k = 0; hex && k < i; k++)
                    dup = dup || json_equal(json_array_get(named, k), idv);
                if (n < 16 && hex && !dup && cdp_hash_from_hex(hex, &id) &&
                    profile_identifier(mg, txn, &id, ident[n], sizeof ident[n])) {
                    identifiers[n] = ident[n];
                    n++;
                }
            }
            json_decref(named);
        }
        if (n < 2)
            cdp_cli_die(CDP_EXIT_FAILURE,
                        "quarantined merge %llu: fewer than two of its profiles remain", seq);
        json_t *merge = json_pack("{s:s,s:I,s:b}", "rule", "approved", "quarantine",
                                  (json_int_t)seq, "force", 1);
        apply_link(&ap, identifiers, n, merge);
    }
    /* The settlement, in the same transaction. */
    int rc = cdp_rebuild_settle(&ap.ing, seq, approve ? "approved" : "rejected");
    json_decref(open);
    if (rc != 0)
        store_failed(mg, rc);
    applier_commit(&ap);
    if (!mg->common.quiet)
        cdp_cli_warn("quarantined merge %llu %s%s", seq, approve ? "approved" : "rejected",
                     approve ? (ap.merged ? ": profiles merged" : ": nothing left to merge") : "");
}

/* ---- profiles built again from their events ---- */

/*
 * The engine's options for a replay: those of cdp-ingest, with --count; each
 * event is read in the region it was first read in (--country: for events
 * stored before regions were kept).
 */
static void
replay_options(const struct merge *mg, struct cdp_ingest_options *o)
{
    memset(o, 0, sizeof *o);
    o->source = "cdp-merge";
    o->limits = (struct cdp_limits)CDP_LIMITS_DEFAULT;
    o->counters = mg->counters;
    o->event.country = mg->country_given ? mg->country : NULL;
}

/* Bytes of the data file in use: a rebuild writes about as much again. */
static size_t
store_used(struct merge *mg)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(mg->store.env, &info) != 0 || mdb_env_stat(mg->store.env, &st) != 0)
        return 0;
    return (info.me_last_pgno + 1) * (size_t)st.ms_psize;
}

static void
report_rebuild(struct merge *mg, const struct cdp_rebuild_stats *st, json_t *line)
{
    const char *s = st->warnings.data, *end = s ? s + st->warnings.len : NULL;
    while (s && s < end) {
        size_t n = strcspn(s, "\n");
        cdp_cli_warn("%.*s", (int)n, s);
        s += n + 1;
    }
    if (line == NULL)
        return;
    json_object_set_new(line, "profiles_before", json_integer((json_int_t)st->profiles_before));
    json_object_set_new(line, "profiles_after", json_integer((json_int_t)st->profiles_after));
    json_object_set_new(line, "events", json_integer((json_int_t)st->events));
    json_object_set_new(line, "not_replayed", json_integer((json_int_t)st->not_replayed));
    json_object_set_new(line, "merges", json_integer((json_int_t)st->merges));
    json_object_set_new(line, "refused", json_integer((json_int_t)st->refused));
    json_object_set_new(line, "consent_carried", json_integer((json_int_t)st->consent_carried));
    json_object_set_new(line, "grants_dropped", json_integer((json_int_t)st->grants_dropped));
    json_object_set_new(line, "consent_homeless",
                        json_integer((json_int_t)st->consent_homeless));
    json_object_set_new(line, "settled", json_integer((json_int_t)st->settled));
    if (mg->dry_run)
        json_object_set_new(line, "dry_run", json_true());
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    if (!mg->common.quiet) {
        cdp_cli_warn("%llu profiles taken apart, %llu events replayed, %llu profiles made: %llu "
                     "merges, %llu refused",
                     (unsigned long long)st->profiles_before, (unsigned long long)st->events,
                     (unsigned long long)st->profiles_after, (unsigned long long)st->merges,
                     (unsigned long long)st->refused);
        if (st->consent_homeless)
            cdp_cli_warn("%llu consent records not carried: no profile holds their person's "
                         "identifiers any more",
                         (unsigned long long)st->consent_homeless);
        if (st->unregioned)
            cdp_cli_warn("%llu events were stored before their phone region was kept: their "
                         "national numbers were read %s%s; give --country as to cdp-ingest",
                         (unsigned long long)st->unregioned,
                         mg->country_given ? "in " : "without a region",
                         mg->country_given ? mg->country : "");
        if (st->grants_dropped)
            cdp_cli_warn("%llu consent grants not carried: the profile they were given to is "
                         "now several; record them again for the right person",
                         (unsigned long long)st->grants_dropped);
        if (mg->dry_run)
            cdp_cli_warn("a dry run: nothing changed");
    }
    if (st->not_replayed)
        mg->rejected += st->not_replayed;
}

/*
 * One write transaction for a rebuild: begins the engine and a read
 * transaction on the same state (for the old records), and runs fn; on
 * MDB_MAP_FULL grows the map and runs it again.  Commits unless a dry run.
 */
struct rebuild_job {
    struct merge *mg;
    int (*fn)(struct rebuild_job *job, struct cdp_ingest *ing, MDB_txn *old);
    struct cdp_rebuild_stats st;
    json_t *line; /* what the job reports on stdout */
    const char *arg;
};

static void
run_job(struct rebuild_job *job, size_t reserve)
{
    struct merge *mg = job->mg;
    int rc;
    if ((rc = cdp_store_reserve_bytes(&mg->store, reserve)) != 0)
        store_failed(mg, rc);
    for (;;) {
        struct cdp_ingest_options o;
        struct cdp_ingest ing;
        MDB_txn *old = NULL;
        replay_options(mg, &o);
        cdp_ingest_init(&ing, &mg->store, &o, mg->common.now);
        memset(&job->st, 0, sizeof job->st);
        json_decref(job->line);
        job->line = json_object();
        rc = cdp_ingest_begin(&ing);
        if (rc == 0)
            rc = cdp_store_begin(&mg->store, false, &old);
        if (rc == 0)
            rc = job->fn(job, &ing, old);
        if (old)
            mdb_txn_abort(old);
        if (rc == MDB_MAP_FULL) {
            cdp_ingest_free(&ing);
            cdp_buf_free(&job->st.warnings);
            if ((rc = cdp_store_grow(&mg->store)) != 0)
                store_failed(mg, rc);
            continue;
        }
        if (rc == CDP_REBUILD_UNREPLAYABLE) {
            report_rebuild(mg, &job->st, NULL);
            cdp_cli_die(CDP_EXIT_FAILURE,
                        "a stored event cannot be replayed (see above): nothing changed");
        }
        if (rc != 0)
            store_failed(mg, rc);
        if (mg->dry_run)
            cdp_ingest_abort(&ing);
        else if ((rc = cdp_ingest_commit(&ing)) != 0)
            store_failed(mg, rc);
        cdp_ingest_free(&ing);
        break;
    }
}

static int
rebuild_all(struct rebuild_job *job, struct cdp_ingest *ing, MDB_txn *old)
{
    uint64_t seq;
    int rc = cdp_rebuild_log(ing, json_pack("{s:s}", "action", "rebuild"), &seq);
    if (rc != 0)
        return rc;
    ing->replay = seq;
    json_object_set_new(job->line, "rebuild", json_integer((json_int_t)seq));
    return cdp_rebuild_all(ing, old, &job->st);
}

/* --rebuild: every profile again from the stored events, under the current rules. */
static void
run_rebuild(struct merge *mg)
{
    open_store(mg, true);
    struct rebuild_job job = {.mg = mg, .fn = rebuild_all};
    run_job(&job, store_used(mg) + (256u << 20));
    report_rebuild(mg, &job.st, job.line);
    cdp_buf_free(&job.st.warnings);
    json_decref(job.line);
}

static json_t *
mergelog_entry(struct merge *mg, MDB_txn *txn, uint64_t seq)
{
    unsigned char k8[8];
    cdp_store_put_be64(k8, seq);
    MDB_val k = {8, k8}, v;
    int rc = mdb_get(txn, mg->store.dbi[CDP_DB_MERGELOG], &k, &v);
    if (rc == MDB_NOTFOUND)
        return NULL;
    if (rc != 0)
        store_failed(mg, rc);
    return json_loadb(v.mv_data, v.mv_size, 0, NULL);
}

struct link_scan {
    const char *message;
    json_t *replay;
    json_t *list;
};

static int
link_scan_cb(uint64_t seq, const char *action, json_t *entry, void *ctx)
{
    struct link_scan *c = ctx;
    const char *m = json_string_value(json_object_get(entry, "message_id"));
    json_t *r = json_object_get(entry, "replay");
    (void)seq;
    if (strcmp(action, "merge") == 0 && m && strcmp(m, c->message) == 0 &&
        ((r == NULL && c->replay == NULL) || (r && c->replay && json_equal(r, c->replay))))
        json_array_append(c->list, entry);
    return 0;
}

/*
 * The merges an undo undoes: entry seq and, when it came from a link event
 * of cdp-merge's that joined more than two profiles, the other merges of
 * that event (same message id, same replay).  An array of entries.
 */
static json_t *
merges_of_link(struct merge *mg, MDB_txn *txn, json_t *entry, bool link)
{
    struct link_scan c = {json_string_value(json_object_get(entry, "message_id")),
                          json_object_get(entry, "replay"), json_array()};
    if (!link) {
        json_array_append(c.list, entry);
        return c.list;
    }
    int rc = cdp_mergelog_each(&mg->store, txn, link_scan_cb, &c);
    if (rc != 0)
        store_failed(mg, rc);
    return c.list;
}

/* Adds to ids[*n] (at most max) the profiles that hold the identifiers of a JSON array. */
static int
holders(struct merge *mg, MDB_txn *txn, json_t *identifiers, struct cdp_id *ids, size_t *n,
        size_t max)
{
    size_t i;
    json_t *v;
    json_array_foreach(identifiers, i, v)
    {
        const char *identifier = json_string_value(v);
        if (identifier == NULL)
            continue;
        MDB_val ik = {strlen(identifier), (void *)identifier}, iv;
        int rc = mdb_get(txn, mg->store.dbi[CDP_DB_IDENTIFIERS], &ik, &iv);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            return rc;
        if (iv.mv_size != 16)
            return MDB_CORRUPTED;
        size_t j;
        for (j = 0; j < *n; j++)
            if (memcmp(ids[j].bytes, iv.mv_data, 16) == 0)
                break;
        if (j < *n)
            continue;
        if (*n == max)
            cdp_cli_die(CDP_EXIT_FAILURE, "the merge's identifiers are spread over more than %zu "
                        "profiles: undo the later merges first",
                        max);
        memcpy(ids[(*n)++].bytes, iv.mv_data, 16);
    }
    return 0;
}

static int
undo_merge(struct rebuild_job *job, struct cdp_ingest *ing, MDB_txn *old)
{
    struct merge *mg = job->mg;
    char *end;
    unsigned long long seq = strtoull(job->arg, &end, 10);
    json_t *entry = mergelog_entry(mg, ing->txn, seq);
    const char *action = json_string_value(json_object_get(entry, "action"));
    if (action == NULL || strcmp(action, "merge") != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "merge-log entry %llu is %s%s, not a merge (see --why)", seq,
                    entry ? "a " : "not there", action ? action : "");
    /* A merge cdp-merge made was an event of its own: it goes, with every merge it made. */
    const char *message = json_string_value(json_object_get(entry, "message_id"));
    bool link = cdp_ingest_link_event(json_string_value(json_object_get(entry, "source")), message,
                                      json_object_get(entry, "evidence") != NULL);
    json_t *merges = merges_of_link(mg, ing->txn, entry, link);
    json_t *seps = ing->separations ? json_deep_copy(ing->separations) : json_array();
    json_t *seqs = json_array();
    struct cdp_id ids[64];
    size_t n = 0, i;
    json_t *m;
    int rc = 0;
    json_array_foreach(merges, i, m)
    {
        json_int_t s = json_integer_value(json_object_get(m, "seq"));
        json_t *winner = json_object_get(m, "winner_identifiers");
        json_t *loser = json_object_get(m, "loser_identifiers");
        if (!json_is_array(winner) || !json_is_array(loser))
            cdp_cli_die(CDP_EXIT_FAILURE, "merge-log entry %" JSON_INTEGER_FORMAT
                        " lacks the identifiers of its two sides", s);
        size_t j;
        json_t *sep;
        json_array_foreach(ing->separations, j, sep)
        {
            if (json_integer_value(json_object_get(sep, "merge")) == s)
                cdp_cli_die(CDP_EXIT_FAILURE, "merge %" JSON_INTEGER_FORMAT " was undone already",
                            s);
        }
        /* From now on the two sides stay apart, through ingest and rebuilds alike. */
        json_array_append_new(seps, json_pack("{s:I,s:O,s:O}", "merge", s, "a", loser, "b", winner));
        json_array_append_new(seqs, json_integer(s));
        if ((rc = holders(mg, ing->txn, winner, ids, &n, 64)) != 0 ||
            (rc = holders(mg, ing->txn, loser, ids, &n, 64)) != 0)
            break;
    }
    if (rc == 0 && n == 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "merge %llu: no profile holds its identifiers any more", seq);
    char *text = json_dumps(seps, JSON_COMPACT);
    if (rc == 0)
        rc = cdp_store_meta_put(&mg->store, ing->txn, "separations", text, strlen(text));
    free(text);
    json_decref(ing->separations);
    ing->separations = seps;
    json_t *before = json_array();
    for (size_t j = 0; j < n; j++) {
        char hex[CDP_ID_HEX_SIZE];
        cdp_hash_to_hex(&ids[j], hex);
        json_array_append_new(before, json_string(hex));
    }
    uint64_t useq = 0;
    if (rc == 0)
        rc = cdp_rebuild_log(ing,
                             json_pack("{s:s,s:I,s:O,s:O}", "action", "undo", "merge",
                                       (json_int_t)seq, "merges", seqs, "profiles", before),
                             &useq);
    struct cdp_id drop;
    if (link)
        drop = cdp_hash_string(message);
    json_t *made = json_array();
    if (rc == 0) {
        ing->replay = useq;
        rc = cdp_rebuild_profiles(ing, old, ids, n, link ? &drop : NULL, made, &job->st);
    }
    json_object_set_new(job->line, "undo", json_integer((json_int_t)useq));
    json_object_set_new(job->line, "merge", json_integer((json_int_t)seq));
    json_object_set_new(job->line, "undone", seqs);
    json_object_set_new(job->line, "before", before);
    json_object_set_new(job->line, "profiles", made);
    json_decref(merges);
    json_decref(entry);
    return rc;
}

/* --undo SEQ: splits the profile that merge SEQ made, and keeps its sides apart. */
static void
run_undo(struct merge *mg, const char *arg)
{
    char *end;
    unsigned long long seq = strtoull(arg, &end, 10);
    if (end == arg || *end || seq == 0 || arg[0] == '-' || arg[0] == '+')
        cdp_cli_usage_error("--undo wants the seq of a merge in the merge log (see --why)");
    open_store(mg, true);
    struct rebuild_job job = {.mg = mg, .fn = undo_merge, .arg = arg};
    run_job(&job, 64u << 20);
    report_rebuild(mg, &job.st, job.line);
    cdp_buf_free(&job.st.warnings);
    json_decref(job.line);
}

/* --rules: the survivorship rule of each trait named, and of the others ("*"). */
static void
run_rules(struct merge *mg)
{
    open_store(mg, false);
    MDB_txn *txn;
    struct cdp_survive *rules;
    int rc = cdp_store_begin(&mg->store, false, &txn);
    if (rc == 0)
        rc = cdp_survive_load(&mg->store, txn, &rules);
    if (rc != 0)
        store_failed(mg, rc);
    json_t *spec = rules ? json_deep_copy(rules->spec) : json_object();
    if (json_object_get(spec, "*") == NULL)
        json_object_set_new(spec, "*", json_string("recent"));
    const char **names = cdp_xmalloc(json_object_size(spec) * sizeof *names);
    size_t n = 0;
    const char *name;
    json_t *v;
    json_object_foreach(spec, name, v)
    {
        names[n++] = name;
    }
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
            const char *t = names[b];
            names[b] = names[b - 1];
            names[b - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_pack("{s:s,s:O}", "trait", names[i], "rule",
                                json_object_get(spec, names[i]));
        char *line = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", line);
        free(line);
        json_decref(row);
    }
    free(names);
    json_decref(spec);
    cdp_survive_free(rules);
    mdb_txn_abort(txn);
}

static int
set_rules(struct rebuild_job *job, struct cdp_ingest *ing, MDB_txn *old)
{
    (void)old;
    struct merge *mg = job->mg;
    json_t *spec = ing->rules ? json_deep_copy(ing->rules->spec) : json_object();
    const char *name;
    json_t *v;
    json_object_foreach(mg->set_rules, name, v)
    {
        if (json_string_length(v) == 0)
            json_object_del(spec, name);
        else
            json_object_set(spec, name, v);
    }
    char err[256];
    struct cdp_survive *rules = cdp_survive_from_json(spec, err, sizeof err);
    if (rules == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    int rc = cdp_survive_save(&mg->store, ing->txn, spec);
    json_decref(spec);
    cdp_survive_free(ing->rules);
    ing->rules = rules;
    uint64_t profiles = 0, changed = 0;
    if (rc == 0)
        rc = cdp_rebuild_traits(ing, &profiles, &changed);
    json_object_set_new(job->line, "rules", json_deep_copy(rules->spec));
    json_object_set_new(job->line, "profiles", json_integer((json_int_t)profiles));
    json_object_set_new(job->line, "changed", json_integer((json_int_t)changed));
    return rc;
}

/* --rule TRAIT=RULE...: saves the rules and sets every profile's traits again from its events. */
static void
run_set_rules(struct merge *mg)
{
    open_store(mg, true);
    struct rebuild_job job = {.mg = mg, .fn = set_rules};
    run_job(&job, store_used(mg) / 2 + (64u << 20));
    if (mg->dry_run)
        json_object_set_new(job.line, "dry_run", json_true());
    char *text = json_dumps(job.line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    if (!mg->common.quiet)
        cdp_cli_warn("rules %s; the traits of %" JSON_INTEGER_FORMAT " profiles set again from "
                     "their events, %" JSON_INTEGER_FORMAT " changed",
                     !mg->dry_run ? "saved" : "not saved (a dry run)",
                     json_integer_value(json_object_get(job.line, "profiles")),
                     json_integer_value(json_object_get(job.line, "changed")));
    json_decref(job.line);
}

/* ---- main ---- */

static unsigned long
parse_count(const char *opt, const char *arg, unsigned long lo, unsigned long hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (end == arg || *end || errno || arg[0] == '-' || v < lo || v > hi)
        cdp_cli_usage_error("%s wants a number from %lu to %lu", opt, lo, hi);
    return v;
}

static double
parse_probability(const char *opt, const char *arg, bool open_zero)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || errno || !(v > 0 || (!open_zero && v == 0)) || !(v < 1))
        cdp_cli_usage_error("%s wants a probability between 0 and 1, not '%s'", opt, arg);
    return v;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDP_COMMON_LONGOPTS,
        {"dedupe", no_argument, NULL, OPT_DEDUPE},
        {"link", no_argument, NULL, OPT_LINK},
        {"key", required_argument, NULL, OPT_KEY},
        {"fields", required_argument, NULL, OPT_FIELDS},
        {"block", required_argument, NULL, OPT_BLOCK},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"prior", required_argument, NULL, OPT_PRIOR},
        {"explain", no_argument, NULL, OPT_EXPLAIN},
        {"evaluate", required_argument, NULL, OPT_EVALUATE},
        {"truth-pattern", required_argument, NULL, OPT_TRUTH_PATTERN},
        {"delimiter", required_argument, NULL, OPT_DELIMITER},
        {"no-tf", no_argument, NULL, OPT_NO_TF},
        {"max-block", required_argument, NULL, OPT_MAX_BLOCK},
        {"model", no_argument, NULL, OPT_MODEL},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"fuzzy", no_argument, NULL, OPT_FUZZY},
        {"apply", no_argument, NULL, OPT_APPLY},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"pairs", no_argument, NULL, OPT_PAIRS},
        {"why", required_argument, NULL, OPT_WHY},
        {"quarantine", no_argument, NULL, OPT_QUARANTINE},
        {"approve", required_argument, NULL, OPT_APPROVE},
        {"reject", required_argument, NULL, OPT_REJECT},
        {"country", required_argument, NULL, OPT_COUNTRY},
        {"recall", required_argument, NULL, OPT_RECALL},
        {"rebuild", no_argument, NULL, OPT_REBUILD},
        {"undo", required_argument, NULL, OPT_UNDO},
        {"rules", no_argument, NULL, OPT_RULES},
        {"rule", required_argument, NULL, OPT_RULE},
        {"count", required_argument, NULL, OPT_COUNT},
        {NULL, 0, NULL, 0},
    };
    static struct merge mg;
    int opt;
    cdp_cli_init(argv[0], &mg.common);
    mg.delimiter = ',';
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    mg.options.threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
    while ((opt = getopt_long(argc, argv, CDP_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cdp_cli_common_option(&mg.common, opt, optarg, usage))
            continue;
        switch (opt) {
        case OPT_DEDUPE:
            mg.dedupe = true;
            break;
        case OPT_LINK:
            mg.link = true;
            break;
        case OPT_KEY:
            mg.key = optarg;
            break;
        case OPT_FIELDS:
            mg.fields_arg = optarg;
            break;
        case OPT_BLOCK:
            if (mg.nblocks == CDP_LINKAGE_MAX_RULES)
                cdp_cli_usage_error("at most %d --block rules", CDP_LINKAGE_MAX_RULES);
            mg.blocks[mg.nblocks++] = optarg;
            break;
        case OPT_THRESHOLD:
            mg.options.threshold = parse_probability("--threshold", optarg, true);
            break;
        case OPT_PRIOR:
            mg.options.prior = parse_probability("--prior", optarg, true);
            break;
        case OPT_RECALL:
            mg.options.recall = strcmp(optarg, "1") == 0 ? 1
                                                          : parse_probability("--recall", optarg, true);
            break;
        case OPT_EXPLAIN:
            mg.explain = true;
            break;
        case OPT_EVALUATE:
            mg.evaluate = optarg;
            break;
        case OPT_TRUTH_PATTERN:
            mg.truth_pattern = optarg;
            break;
        case OPT_DELIMITER:
            if (strcmp(optarg, "tab") == 0)
                mg.delimiter = '\t';
            else if (strlen(optarg) == 1)
                mg.delimiter = optarg[0];
            else
                cdp_cli_usage_error("--delimiter takes one character (or tab)");
            break;
        case OPT_NO_TF:
            mg.no_tf = true;
            break;
        case OPT_MAX_BLOCK:
            mg.options.max_block = (uint32_t)parse_count("--max-block", optarg, 2, 10000000);
            break;
        case OPT_MODEL:
            mg.show_model = true;
            break;
        case OPT_FUZZY:
            mg.fuzzy = true;
            break;
        case OPT_APPLY:
            mg.apply = true;
            break;
        case OPT_DRY_RUN:
            mg.apply = false;
            mg.dry_run = true;
            break;
        case OPT_REBUILD:
            mg.rebuild = true;
            break;
        case OPT_UNDO:
            mg.undo = optarg;
            break;
        case OPT_RULES:
            mg.show_rules = true;
            break;
        case OPT_RULE: {
            const char *eq = strchr(optarg, '=');
            char err[256], name[160];
            struct cdp_survive_rule rule;
            if (eq == NULL || (size_t)(eq - optarg) >= sizeof name)
                cdp_cli_usage_error("--rule wants TRAIT=RULE, not '%s'", optarg);
            if (!cdp_normalize_utf8_valid(optarg, strlen(optarg)))
                cdp_cli_usage_error("--rule must be UTF-8 text");
            memcpy(name, optarg, (size_t)(eq - optarg));
            name[eq - optarg] = '\0';
            if (!cdp_survive_name_ok(name))
                cdp_cli_usage_error("--rule: '%s' is not a trait name (or *)", name);
            if (eq[1] != '\0') {
                if (!cdp_survive_parse_rule(eq + 1, &rule, err, sizeof err))
                    cdp_cli_usage_error("--rule %s", err);
                cdp_survive_rule_free(&rule);
            }
            if (mg.set_rules == NULL)
                mg.set_rules = json_object();
            json_object_set_new(mg.set_rules, name, json_string(eq + 1));
            break;
        }
        case OPT_COUNT:
            if (mg.counters == NULL)
                mg.counters = cdp_computed_map_new();
            {
                char err[256];
                if (!cdp_computed_map_add(mg.counters, optarg, err, sizeof err))
                    cdp_cli_usage_error("--count: %s", err);
            }
            break;
        case OPT_PAIRS:
            mg.pairs = true;
            break;
        case OPT_WHY:
            mg.why = optarg;
            break;
        case OPT_QUARANTINE:
            mg.list_quarantine = true;
            break;
        case OPT_APPROVE:
            mg.approve = optarg;
            break;
        case OPT_REJECT:
            mg.reject = optarg;
            break;
        case OPT_COUNTRY:
            if (strlen(optarg) != 2)
                cdp_cli_usage_error("--country takes a two-letter code such as FR");
            mg.country = optarg;
            mg.country_given = true;
            break;
        case OPT_THREADS:
            mg.options.threads = (unsigned)parse_count("--threads", optarg, 1, 64);
            break;
        default:
            cdp_cli_unknown_option(argv);
        }
    }
    int modes = mg.dedupe + mg.link + mg.fuzzy + mg.pairs + (mg.why != NULL) +
                mg.list_quarantine + (mg.approve != NULL) + (mg.reject != NULL) + mg.rebuild +
                (mg.undo != NULL) + mg.show_rules + (mg.set_rules != NULL);
    if (modes != 1)
        cdp_cli_usage_error("give one of --dedupe, --link A B, --fuzzy, --pairs, --why ID, "
                            "--quarantine, --approve SEQ, --reject SEQ, --rebuild, --undo SEQ, "
                            "--rules, --rule TRAIT=RULE");
    if (mg.dry_run && !(mg.fuzzy || mg.rebuild || mg.undo || mg.set_rules))
        cdp_cli_usage_error("--dry-run goes with --fuzzy, --rebuild, --undo or --rule");
    if (mg.apply && !mg.fuzzy)
        cdp_cli_usage_error("--apply goes with --fuzzy");
    if (mg.country == NULL)
        mg.country = "FR";
    if (!mg.dedupe && !mg.link) {
        if (optind < argc)
            cdp_cli_usage_error("unexpected argument '%s'", argv[optind]);
        if (mg.common.output)
            cdp_cli_atomic_stdout(mg.common.output);
        if (mg.counters == NULL)
            mg.counters = cdp_computed_map_new();
        if (mg.fuzzy)
            run_fuzzy(&mg);
        else if (mg.pairs)
            run_pairs(&mg);
        else if (mg.why)
            run_why(&mg);
        else if (mg.list_quarantine)
            run_quarantine(&mg);
        else if (mg.rebuild)
            run_rebuild(&mg);
        else if (mg.undo)
            run_undo(&mg, mg.undo);
        else if (mg.show_rules)
            run_rules(&mg);
        else if (mg.set_rules)
            run_set_rules(&mg);
        else
            run_settle(&mg, mg.approve ? mg.approve : mg.reject, mg.approve != NULL);
        cdp_computed_map_free(mg.counters);
        json_decref(mg.set_rules);
        if (mg.store_open)
            cdp_store_close(&mg.store);
        return cdp_cli_finish_stdout(mg.rejected ? CDP_EXIT_REJECTED : CDP_EXIT_OK);
    }
    if (mg.link) {
        if (argc - optind != 2)
            cdp_cli_usage_error("--link wants two files");
        mg.link_files[0] = argv[optind];
        mg.link_files[1] = argv[optind + 1];
    } else if (optind < argc) {
        cdp_cli_usage_error("unexpected argument '%s' (--dedupe reads stdin)", argv[optind]);
    }
    if (mg.explain && mg.evaluate)
        cdp_cli_usage_error("--explain and --evaluate write different things: give one");
    if (mg.truth_pattern && !mg.evaluate)
        cdp_cli_usage_error("--truth-pattern goes with --evaluate");
    if (mg.common.output)
        cdp_cli_atomic_stdout(mg.common.output);

    if (mg.link) {
        for (int k = 0; k < 2; k++) {
            int fd = open(mg.link_files[k], O_RDONLY);
            if (fd < 0)
                cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", mg.link_files[k], strerror(errno));
            read_input(&mg, fd, mg.link_files[k], k);
            close(fd);
        }
    } else {
        read_input(&mg, STDIN_FILENO, "-", 0);
    }
    if (mg.t.n == 0 && mg.t.ncols == 0 && !mg.t.ndjson)
        cdp_cli_die(CDP_EXIT_FAILURE, "no input");

    struct spec s = {0};
    make_spec(&mg, &s);
    struct cdp_match *m = cdp_match_new(s.fields, s.n);
    char err[256];
    for (size_t b = 0; b < mg.nblocks; b++)
        if (!cdp_match_add_rule(m, mg.blocks[b], err, sizeof err))
            cdp_cli_usage_error("%s", err);
    if (mg.nblocks == 0 && cdp_match_default_rules(m) == 0)
        cdp_cli_usage_error("no default blocking rule fits these fields: give --block");

    /* The records, each with its key; duplicates and keyless records are refused. */
    size_t *record = cdp_xmalloc((mg.t.n ? mg.t.n : 1) * sizeof *record);
    int *source = cdp_xmalloc((mg.t.n ? mg.t.n : 1) * sizeof *source);
    json_t *seen = json_object();
    const char *values[CDP_LINKAGE_MAX_FIELDS];
    char bufs[CDP_LINKAGE_MAX_FIELDS][64], keybuf[64];
    for (size_t i = 0; i < mg.t.n; i++) {
        const char *name = mg.link ? mg.link_files[mg.t.source[i]] : "-";
        record[i] = SIZE_MAX;
        json_t *obj = NULL;
        const char *key;
        if (mg.t.ndjson) {
            json_error_t jerr;
            obj = json_loads(mg.t.text.data + mg.t.row[i], 0, &jerr);
            if (!json_is_object(obj)) {
                cdp_cli_warn("%s:%llu: %s; record skipped", name,
                             (unsigned long long)mg.t.lineno[i],
                             obj ? "not a JSON object" : jerr.text);
                json_decref(obj);
                mg.rejected++;
                continue;
            }
            key = json_text(obj, s.key, keybuf, sizeof keybuf);
            for (size_t f = 0; f < s.n; f++)
                values[f] = json_text(obj, s.names[f], bufs[f], sizeof bufs[f]);
        } else {
            key = csv_cell(&mg.t, i, (size_t)s.key_col);
            for (size_t f = 0; f < s.n; f++)
                values[f] = csv_cell(&mg.t, i, (size_t)s.cols[f]);
        }
        if (key == NULL || *key == '\0' || json_object_get(seen, key)) {
            cdp_cli_warn("%s:%llu: %s key '%s'; record skipped", name,
                         (unsigned long long)mg.t.lineno[i], key && *key ? "a duplicate" : "no",
                         key ? key : "");
            mg.rejected++;
        } else {
            json_object_set_new(seen, key, json_true());
            record[i] = cdp_match_count(m);
            source[record[i]] = mg.t.source[i];
            cdp_match_add(m, key, values);
        }
        json_decref(obj);
    }
    json_decref(seen);

    struct explain x = {&mg, m, &s, CDP_BUF_INIT};
    if (mg.explain) {
        mg.options.pair = explain_pair;
        mg.options.ctx = &x;
    }
    struct cdp_match_report rep;
    if (mg.link)
        cdp_match_set_link(m, source);
    int rc = cdp_match_run(m, &mg.options, &rep);
    if (rc != CDP_LINKAGE_OK)
        cdp_cli_die(CDP_EXIT_FAILURE, "matching failed: %s", cdp_linkage_strerror(rc));
    if (!mg.common.quiet) {
        cdp_cli_warn("%zu records, %llu pairs compared (%zu blocking rules%s), %llu linked, %zu "
                     "clusters; prior %.3g",
                     cdp_match_count(m), (unsigned long long)rep.pairs, cdp_match_nrules(m),
                     rep.skipped_blocks ? ", some blocks too large were skipped" : "",
                     (unsigned long long)rep.links, rep.clusters, rep.prior);
        if (mg.common.verbose && rep.pairs)
            cdp_cli_warn("pairs compared and scored in %.2f s on %u threads: %.0f a second per "
                         "thread",
                         rep.compare_seconds, mg.options.threads,
                         (double)rep.pairs / rep.compare_seconds / mg.options.threads);
        if (mg.common.verbose)
            for (size_t r = 0; r < cdp_match_nrules(m); r++)
                cdp_cli_warn("blocking rule %zu: %s: %llu pairs", r + 1, cdp_match_rule_text(m, r),
                             (unsigned long long)rep.rule_pairs[r]);
        if (rep.em_converged < rep.em_sessions)
            cdp_cli_warn("EM converged in %d of %d sessions; the others were left out",
                         rep.em_converged, rep.em_sessions);
    }
    if (mg.show_model) {
        struct cdp_buf text = CDP_BUF_INIT;
        cdp_match_model_json(m, &text);
        fprintf(stderr, "%s\n", text.data);
        cdp_buf_free(&text);
    }
    if (mg.evaluate)
        evaluate(&mg, m, record, &rep);
    else if (!mg.explain)
        write_records(&mg, m, record);

    cdp_buf_free(&x.line);
    cdp_match_free(m);
    for (size_t f = 0; f < s.n; f++)
        free(s.names[f]);
    for (size_t c = 0; c < mg.t.ncols; c++)
        free(mg.t.names[c]);
    free(mg.t.names);
    free(mg.t.row);
    free(mg.t.lineno);
    free(mg.t.source);
    cdp_buf_free(&mg.t.text);
    cdp_buf_free(&mg.t.header);
    free(record);
    free(source);
    return cdp_cli_finish_stdout(mg.rejected ? CDP_EXIT_REJECTED : CDP_EXIT_OK);
}
