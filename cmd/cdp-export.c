/*
 * cdp-export - write profiles for other systems.
 *
 * Streams every profile of the store as NDJSON (default) or CSV, prints one
 * profile found by any of its identifiers (--lookup), with its events in
 * time order (--events), or everything the store holds on one person as one
 * JSON document (--subject: access and portability requests).  Memory does
 * not grow with the number of profiles.
 *
 * Every run that writes profiles leaves an audit line in the store once its
 * output is flushed.  The export itself reads a read-only environment in one
 * read transaction; only afterwards is the store opened again for writing,
 * for the one short transaction of the audit line, so that no write lock is
 * held while profiles are written.
 */
#include "activation.h"
#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "consent.h"
#include "event.h"
#include "events.h"
#include "expr.h"
#include "input.h"
#include "output.h"
#include "profile.h"
#include "subject.h"
#include "store.h"
#include "timeparse.h"
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
    OPT_SUBJECT,
    OPT_STDIN,
    OPT_PURPOSE,
    OPT_NO_CONSENT_CHECK,
    OPT_RAW,
    OPT_SEGMENT,
    OPT_CHANGES,
    OPT_TARGET,
    OPT_REMOVALS,
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
            "      --subject ID        everything held on the person with identifier or\n"
            "                          profile id ID, as one JSON document\n"
            "      --country CC        default region of national phone numbers (--lookup,\n"
            "                          --subject, activation formats)\n"
            "      --stdin             the profiles named on stdin (profile objects or ids)\n"
            "      --segment NAME      the profiles saved segment NAME selects now\n"
            "      --changes           with --segment and --target: only those that entered\n"
            "                          since the last export to the target\n"
            "      --target NAME       the destination whose last export --changes follows\n"
            "      --removals FILE     with --changes: those that left, to FILE\n"
            "      --purpose LIST      only profiles that granted every purpose (required by\n"
            "                          the activation formats)\n"
            "      --no-consent-check  activation without consent (recorded in the audit)\n"
            "      --raw               CSV: no escaping of cells that look like formulas\n"
            "Formats: ndjson, csv, mailchimp, brevo, klaviyo, google-customer-match,\n"
            "meta-custom-audience.\n"
            "\n%s",
            cdp_cli_common_help);
}

struct export
{
    struct cdp_common common;
    struct cdp_store store;
    struct cdp_output out;
    const char *lookup; /* --lookup or --subject: the identifier given */
    const char *option; /* which of the two, for messages */
    /* The identifier as stored ("kind:value" normalised, or the profile id). */
    char found[CDP_IDENTIFIER_MAX];
    char profile[CDP_ID_HEX_SIZE]; /* the id of the profile it found, or "" */
    bool subject;
    bool events;
    const char *country;
    struct cdp_buf line;
    /* For the audit line. */
    int argc;
    char **argv;
    int lookup_index;     /* the argv element holding the identifier, or -1 */
    size_t lookup_prefix; /* its bytes before the identifier ("--subject=") */
    MDB_txn *txn;         /* the export's read transaction while it is open */
    bool writing;         /* profiles are being written (see audit_at_exit) */
    uint64_t written;     /* profiles handed to the output so far */
    /* Activation formats, consent, sources. */
    bool activation;
    enum cdp_activation_format act;
    json_t *purposes; /* required purposes, or NULL */
    bool no_consent_check;
    bool from_stdin;
    const char *segment, *target, *removals;
    bool changes;
    FILE *removals_file;
    uint64_t removed;
    uint64_t left_out[6]; /* by enum cdp_consent_reason, and LEFT_MISSING */
    struct cdp_buf entered, exited; /* 16-byte ids for the target's watermark */
    bool rejected;                  /* some --stdin line was rejected */
};

#define LEFT_MISSING 5 /* an activation row lacks what the format needs */

/*
 * The resident memory that the pages of the map read by a whole-store
 * export may take before they are handed back (see export_all).  A page
 * fault maps the 64 KiB around the page read (Linux's default), mostly
 * other databases' pages, so the limit is soon reached, and after each
 * release the pages are faulted in again as the scan meets them: a larger
 * limit saves a little time, a smaller one memory.
 */
#define RESIDENT_LIMIT ((size_t)64 << 20)

/* Static, so that audit_at_exit() can reach it. */
static struct export ex;

static void
write_out(const struct cdp_buf *b)
{
    if (fwrite(b->data, 1, b->len, stdout) != b->len)
        cdp_cli_stdout_failed();
}

/* Why the profile may not be sent: CDP_CONSENT_OK when every required purpose is granted. */
static enum cdp_consent_reason
consent_reason(struct export *e, MDB_txn *txn, const struct cdp_id *id)
{
    size_t i;
    json_t *purpose;
    json_array_foreach(e->purposes, i, purpose)
    {
        struct cdp_consent_state st;
        int rc = cdp_consent_state(&e->store, txn, id, json_string_value(purpose), e->common.now,
                                   &st);
        if (rc != 0)
            cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", e->common.db, cdp_store_strerror(rc));
        if (st.reason != CDP_CONSENT_OK)
            return st.reason;
    }
    return CDP_CONSENT_OK;
}

/* True when consent lets the profile go to out; else counts why it was left out. */
static bool
consented(struct export *e, MDB_txn *txn, const struct cdp_id *id, FILE *out)
{
    /* Removals are sent whatever the consent: they stop the use of the data. */
    if (e->purposes == NULL || out != stdout)
        return true;
    enum cdp_consent_reason why = consent_reason(e, txn, id);
    if (why == CDP_CONSENT_OK)
        return true;
    e->left_out[why]++;
    return false;
}

/*
 * Writes the activation row of a profile record to out (stdout or the
 * removals file), after checking consent; false when it was left out.
 */
static bool
export_row(struct export *e, MDB_txn *txn, const struct cdp_id *id,
           const struct cdp_profile_record *r, FILE *out)
{
    const char *why;
    if (!consented(e, txn, id, out))
        return false;
    cdp_buf_reset(&e->line);
    if (!cdp_activation_record_row(e->act, r, e->country, &e->line, &why)) {
        e->left_out[LEFT_MISSING]++;
        return false;
    }
    if (fwrite(e->line.data, 1, e->line.len, out) != e->line.len) {
        if (out == stdout)
            cdp_cli_stdout_failed();
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", e->removals, strerror(errno));
    }
    return true;
}

/*
 * Writes one profile as NDJSON or CSV to out (stdout or the removals file),
 * after checking consent; false when it was left out.
 */
static bool
export_profile(struct export *e, MDB_txn *txn, struct cdp_profile *p, FILE *out, const char *tag)
{
    if (!consented(e, txn, &p->id, out))
        return false;
    e->out.file = out == stdout ? NULL : out;
    cdp_output_profile(&e->out, p, tag);
    e->out.file = NULL;
    return true;
}

/* The header row of the format, on out. */
static void
begin_file(struct export *e, FILE *out)
{
    if (e->activation) {
        cdp_buf_reset(&e->line);
        if (e->out.header)
            cdp_activation_header(e->act, &e->line);
        if (e->line.len && fwrite(e->line.data, 1, e->line.len, out) != e->line.len)
            cdp_cli_die(CDP_EXIT_FAILURE, "write error: %s", strerror(errno));
        return;
    }
    e->out.file = out == stdout ? NULL : out;
    cdp_output_begin(&e->out);
    e->out.file = NULL;
}

static int
export_all(struct export *e, MDB_txn *txn)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open(txn, e->store.dbi[CDP_DB_PROFILES], &cursor);
    if (rc != 0)
        return rc;
    e->writing = true;
    begin_file(e, stdout);
    uint64_t scanned = 0;
    while ((rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) == 0) {
        struct cdp_profile p;
        struct cdp_id id;
        if (key.mv_size != 16)
            continue;
        memcpy(id.bytes, key.mv_data, 16);
        /* The pages read leave the resident set past a limit: memory stays flat. */
        if (++scanned % 1024 == 0)
            cdp_store_release_pages_over(&e->store, RESIDENT_LIMIT);
        if (!e->activation && !e->purposes && cdp_output_direct(&e->out)) {
            /* CSV straight from the record's bytes. */
            if (cdp_output_record(&e->out, &id, value.mv_data, value.mv_size))
                e->written++;
            else
                cdp_cli_warn("profile: damaged record skipped");
            continue;
        }
        if (e->activation) {
            /* Activation rows too are made from the record's bytes. */
            struct cdp_profile_record r;
            if (!cdp_profile_record_read(&r, value.mv_data, value.mv_size)) {
                char hex[CDP_ID_HEX_SIZE];
                cdp_hash_to_hex(&id, hex);
                cdp_cli_warn("profile %s: damaged record skipped", hex);
                continue;
            }
            if (export_row(e, txn, &id, &r, stdout))
                e->written++;
            continue;
        }
        if (!cdp_profile_decode(&p, &id, value.mv_data, value.mv_size)) {
            char hex[CDP_ID_HEX_SIZE];
            cdp_hash_to_hex(&id, hex);
            cdp_cli_warn("profile %s: damaged record skipped", hex);
            cdp_profile_free(&p);
            continue;
        }
        if (export_profile(e, txn, &p, stdout, NULL))
            e->written++;
        cdp_profile_free(&p);
    }
    cdp_output_flush(&e->out);
    e->writing = false;
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Reads and exports the profile with this id: 1 when it was written, 0 when
 * it was left out (consent, missing fields, a damaged record), -1 when the
 * store has no such profile.
 */
static int
export_by_id(struct export *e, MDB_txn *txn, const struct cdp_id *id, FILE *out, const char *tag)
{
    MDB_val k = {16, (void *)id->bytes}, v;
    int rc = mdb_get(txn, e->store.dbi[CDP_DB_PROFILES], &k, &v);
    if (rc == MDB_NOTFOUND)
        return -1;
    if (rc != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", e->common.db, cdp_store_strerror(rc));
    struct cdp_profile p;
    struct cdp_profile_record r;
    int written = 0;
    if (e->activation) {
        written =
            cdp_profile_record_read(&r, v.mv_data, v.mv_size) && export_row(e, txn, id, &r, out);
    } else {
        written = cdp_profile_decode(&p, id, v.mv_data, v.mv_size) &&
                  export_profile(e, txn, &p, out, tag);
        cdp_profile_free(&p);
    }
    if (written)
        out == stdout ? e->written++ : e->removed++;
    return written;
}

/*
 * --stdin: profiles named by a stream, one a line: a profile object (as
 * cdp-segment and cdp-consent write it) or a bare id.  The profile written
 * is the store's record of that id.
 */
static int
export_stdin(struct export *e, MDB_txn *txn)
{
    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long;
    e->writing = true;
    begin_file(e, stdout);
    cdp_lines_init(&lines, STDIN_FILENO, CDP_INPUT_DEFAULT_MAX_LINE);
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (cdp_input_blank(line, len))
            continue;
        char hex[CDP_ID_HEX_SIZE] = "";
        struct cdp_id id;
        size_t skip = strspn(line, " \t");
        if (!too_long && line[skip] == '{') {
            json_t *obj = json_loadb(line, len, 0, NULL);
            const char *h = json_string_value(json_object_get(obj, "id"));
            if (h && strlen(h) == CDP_ID_HEX_SIZE - 1)
                memcpy(hex, h, CDP_ID_HEX_SIZE);
            json_decref(obj);
        } else if (!too_long && len - skip >= CDP_ID_HEX_SIZE - 1) {
            /* 32 hexadecimal digits and nothing but blanks after them. */
            size_t rest = skip + CDP_ID_HEX_SIZE - 1;
            if (rest + strspn(line + rest, " \t\r") >= len) {
                memcpy(hex, line + skip, CDP_ID_HEX_SIZE - 1);
                hex[CDP_ID_HEX_SIZE - 1] = '\0';
            }
        }
        if (!cdp_hash_from_hex(hex, &id)) {
            cdp_cli_warn("<stdin>:%llu: not a profile object or a profile id",
                         (unsigned long long)lines.lineno);
            e->rejected = true;
            continue;
        }
        if (export_by_id(e, txn, &id, stdout, NULL) < 0) {
            cdp_cli_warn("<stdin>:%llu: no profile %s in the store", (unsigned long long)lines.lineno,
                         hex);
            e->rejected = true;
        }
    }
    e->writing = false;
    if (lines.error)
        cdp_cli_die(CDP_EXIT_FAILURE, "<stdin>: %s", strerror(lines.error));
    cdp_lines_free(&lines);
    return 0;
}

/* The set that remembers what was last exported to a target: "SEGMENT@TARGET". */
static size_t
target_key(unsigned char *key, const struct export *e, const struct cdp_id *id)
{
    char set[160];
    snprintf(set, sizeof set, "%s@%s", e->segment, e->target);
    return cdp_store_member_key(key, set, id);
}

/* The first id of the target's set after *after (or the first of all); 0 or MDB_NOTFOUND. */
static int
next_exported(struct export *e, MDB_cursor *cursor, const struct cdp_id *after, struct cdp_id *id)
{
    char set[160];
    snprintf(set, sizeof set, "%s@%s", e->segment, e->target);
    return cdp_store_next_member(cursor, set, after, id);
}

/* An exited profile: to the removals file (its id alone when it is gone from the store). */
static void
export_exited(struct export *e, MDB_txn *txn, const struct cdp_id *id)
{
    cdp_buf_append(&e->exited, id->bytes, 16);
    if (e->removals_file == NULL)
        return;
    if (export_by_id(e, txn, id, e->removals_file, "exited") < 0 && !e->activation) {
        char hex[CDP_ID_HEX_SIZE];
        cdp_hash_to_hex(id, hex);
        e->out.file = e->removals_file;
        cdp_output_id_only(&e->out, hex, "exited");
        e->out.file = NULL;
        e->removed++;
    }
}

/*
 * --segment NAME: the profiles the saved segment selects now.  With
 * --changes, only those that entered since the last export to --target
 * (and, to --removals, those that left), side by side with the target's
 * set in id order; the set is updated only once the files are in place.
 */
static int
export_segment(struct export *e, MDB_txn *txn)
{
    MDB_val k = {strlen(e->segment), (void *)e->segment}, v;
    int rc = mdb_get(txn, e->store.dbi[CDP_DB_SEGMENTS], &k, &v);
    if (rc == MDB_NOTFOUND)
        cdp_cli_die(CDP_EXIT_FAILURE, "no saved segment '%s' (see cdp-segment --list)", e->segment);
    if (rc != 0)
        return rc;
    json_t *def = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    const char *text = json_string_value(json_object_get(def, "expression"));
    struct cdp_expr_error err;
    struct cdp_expr *expr = text ? cdp_expr_compile(text, e->common.now, &err) : NULL;
    json_decref(def);
    if (expr == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "saved segment '%s' does not compile", e->segment);

    MDB_cursor *profiles, *exported = NULL;
    if ((rc = mdb_cursor_open(txn, e->store.dbi[CDP_DB_PROFILES], &profiles)) != 0)
        goto out;
    if (e->changes && (rc = mdb_cursor_open(txn, e->store.dbi[CDP_DB_MEMBERS], &exported)) != 0)
        goto out;
    struct cdp_id old;
    int have = e->changes ? next_exported(e, exported, NULL, &old) : MDB_NOTFOUND;
    e->writing = true;
    begin_file(e, stdout);
    if (e->removals_file)
        begin_file(e, e->removals_file);
    MDB_val key, value;
    while ((rc = mdb_cursor_get(profiles, &key, &value, MDB_NEXT)) == 0) {
        struct cdp_id id;
        struct cdp_profile p;
        bool full, match;
        if (key.mv_size != 16)
            continue;
        memcpy(id.bytes, key.mv_data, 16);
        while (have == 0 && cdp_hash_compare(&old, &id) < 0) {
            export_exited(e, txn, &old); /* gone from the store */
            struct cdp_id gone = old;
            have = next_exported(e, exported, &gone, &old);
        }
        bool member = have == 0 && cdp_hash_compare(&old, &id) == 0;
        rc = cdp_expr_match_record(expr, &e->store, txn, &id, &value, &p, &full, &match);
        if (full)
            cdp_profile_free(&p);
        if (rc == CDP_EXPR_DAMAGED) {
            match = member; /* a damaged record keeps its place */
            rc = 0;
        }
        if (rc != 0)
            break;
        /* A member who withdrew consent leaves the target's audience. */
        if (match && member && e->purposes) {
            enum cdp_consent_reason why = consent_reason(e, txn, &id);
            if (why != CDP_CONSENT_OK) {
                e->left_out[why]++;
                match = false;
            }
        }
        if (match && !member) {
            /* Only what was sent joins the target's set: the others are tried next time. */
            if (export_by_id(e, txn, &id, stdout, NULL) == 1 && e->changes)
                cdp_buf_append(&e->entered, id.bytes, 16);
        } else if (!match && member) {
            export_exited(e, txn, &id);
        }
        if (member)
            have = next_exported(e, exported, &id, &old);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    while (rc == 0 && have == 0) {
        export_exited(e, txn, &old);
        struct cdp_id gone = old;
        have = next_exported(e, exported, &gone, &old);
    }
    e->writing = false;
out:
    if (exported)
        mdb_cursor_close(exported);
    mdb_cursor_close(profiles);
    cdp_expr_free(expr);
    return rc;
}

/* After a successful --changes export: the target's set moves to what was sent. */
static int
advance_watermark(struct export *e, MDB_txn *txn)
{
    unsigned char key[CDP_MEMBER_KEY_MAX], when[8];
    cdp_store_put_be64(when, (uint64_t)e->common.now);
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < e->entered.len; off += 16) {
        struct cdp_id id;
        memcpy(id.bytes, e->entered.data + off, 16);
        MDB_val k = {target_key(key, e, &id), key}, v = {8, when};
        rc = mdb_put(txn, e->store.dbi[CDP_DB_MEMBERS], &k, &v, 0);
    }
    for (size_t off = 0; rc == 0 && off < e->exited.len; off += 16) {
        struct cdp_id id;
        memcpy(id.bytes, e->exited.data + off, 16);
        MDB_val k = {target_key(key, e, &id), key};
        rc = mdb_del(txn, e->store.dbi[CDP_DB_MEMBERS], &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc;
}

/*
 * Finds the profile id for --lookup or --subject: an identifier, or a
 * profile id in hex.  Returns 0, MDB_NOTFOUND or an LMDB code.
 */
static int
find_profile(struct export *e, MDB_txn *txn, struct cdp_id *id)
{
    const char *colon = strchr(e->lookup, ':');
    if (colon == NULL) {
        if (cdp_hash_from_hex(e->lookup, id)) {
            cdp_hash_to_hex(id, e->found);
            return 0;
        }
        cdp_cli_usage_error("%s wants kind:value (e.g. email:jane@example.com) or a "
                            "profile id, not '%s'",
                            e->option, e->lookup);
    }
    char kind[64], text[CDP_IDENTIFIER_MAX];
    const char *why;
    size_t n = (size_t)(colon - e->lookup);
    if (n == 0 || n >= sizeof kind)
        cdp_cli_usage_error("%s: bad identifier kind in '%s'", e->option, e->lookup);
    memcpy(kind, e->lookup, n);
    kind[n] = '\0';
    if (strcmp(kind, "id") == 0 && cdp_hash_from_hex(colon + 1, id)) {
        cdp_hash_to_hex(id, e->found);
        return 0;
    }
    if (!cdp_identifier_normalize(kind, colon + 1, e->country, text, sizeof text, &why))
        cdp_cli_die(CDP_EXIT_FAILURE, "%s %s: %s", e->option, e->lookup, why);
    snprintf(e->found, sizeof e->found, "%s", text);
    MDB_val key = {strlen(text), text}, value;
    int rc = mdb_get(txn, e->store.dbi[CDP_DB_IDENTIFIERS], &key, &value);
    if (rc == 0 && value.mv_size == 16)
        memcpy(id->bytes, value.mv_data, 16);
    return rc;
}

/*
 * Finds and decodes the profile that --lookup or --subject names into p
 * (to be freed by the caller when 0 is returned).  Says so and returns
 * MDB_NOTFOUND when there is none.
 */
static int
load_profile(struct export *e, MDB_txn *txn, struct cdp_profile *p)
{
    struct cdp_id id;
    int rc = find_profile(e, txn, &id);
    MDB_val key = {16, id.bytes}, value;
    if (rc == 0)
        rc = mdb_get(txn, e->store.dbi[CDP_DB_PROFILES], &key, &value);
    if (rc == MDB_NOTFOUND) {
        cdp_cli_warn("no profile holds %s", e->lookup);
        return MDB_NOTFOUND;
    }
    if (rc != 0)
        return rc;
    if (!cdp_profile_decode(p, &id, value.mv_data, value.mv_size)) {
        cdp_profile_free(p);
        cdp_cli_die(CDP_EXIT_FAILURE, "profile record of %s is damaged", e->lookup);
    }
    cdp_hash_to_hex(&id, e->profile);
    return 0;
}

/* Writes a JSON value on one line, or indented when stdout is a terminal. */
static void
write_document(struct export *e, json_t *doc)
{
    size_t flags = JSON_ENCODE_ANY | JSON_REAL_PRECISION(15) |
                   (isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT);
    char *text = json_dumps(doc, flags);
    cdp_buf_reset(&e->line);
    cdp_buf_puts(&e->line, text ? text : "null");
    cdp_buf_putc(&e->line, '\n');
    free(text);
    e->writing = true;
    write_out(&e->line);
    e->written++;
    e->writing = false;
}

static int
export_one(struct export *e, MDB_txn *txn)
{
    struct cdp_profile p;
    int rc = load_profile(e, txn, &p);
    if (rc != 0)
        return rc;
    if (e->out.csv) {
        e->writing = true;
        cdp_output_begin(&e->out);
        cdp_output_profile(&e->out, &p, NULL);
        e->written++;
        e->writing = false;
        cdp_profile_free(&p);
        return 0;
    }
    struct cdp_id id = p.id;
    json_t *obj = cdp_output_profile_json(&e->out, &p);
    cdp_profile_free(&p);
    if (e->events)
        json_object_set_new(obj, "events", cdp_subject_events(&e->store, txn, &id, &rc));
    if (rc == 0)
        write_document(e, obj);
    json_decref(obj);
    return rc;
}

/* ---- --subject: everything held on one person ---- */

/*
 * Writes everything the store holds on the person --subject names, as one
 * JSON document, all read in the export's one read transaction.  Nothing is
 * written unless every part could be read.
 */
static int
export_subject(struct export *e, MDB_txn *txn)
{
    struct cdp_profile p;
    int rc = load_profile(e, txn, &p);
    if (rc != 0)
        return rc;
    json_t *profile = cdp_output_profile_json(&e->out, &p);
    rc = e->out.error;
    json_t *doc = NULL;
    if (rc == 0)
        doc = cdp_subject_document(&e->store, txn, &p, e->lookup, e->common.now, profile, &rc);
    else
        json_decref(profile);
    cdp_profile_free(&p);
    if (rc == 0)
        write_document(e, doc);
    json_decref(doc);
    return rc;
}

/* ---- the audit line ---- */

static bool
store_file_exists(const char *dir, const char *file, int mode)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, mode) == 0;
}

/*
 * The command line for the audit line: argv, except that the value of
 * --lookup or --subject is the identifier as stored (normalised, or the
 * profile id), the form an erasure of the person looks for when it redacts
 * the audit trail: "--subject=phone:06 12 34 56 78" would escape it.
 * (cdp_audit_append() itself keeps an argument that looks like an
 * identifier as "[identifier]".)  Returns a new array of argc pointers into
 * argv and *arg (a new string, or NULL), both to be freed.
 */
static char **
audit_command(struct export *e, char **arg)
{
    char **command = cdp_xmalloc((size_t)(e->argc > 0 ? e->argc : 1) * sizeof *command);
    *arg = NULL;
    for (int i = 0; i < e->argc; i++)
        command[i] = e->argv[i];
    int i = e->lookup_index;
    if (i >= 0 && i < e->argc && e->found[0]) {
        size_t prefix = e->lookup_prefix;
        *arg = cdp_xmalloc(prefix + strlen(e->found) + 1);
        memcpy(*arg, e->argv[i], prefix);
        strcpy(*arg + prefix, e->found);
        command[i] = *arg;
    }
    return command;
}

/*
 * Appends the run's audit line, reopening the store for writing (the
 * export's read-only environment must be closed by then: LMDB allows one
 * environment per file in a process).  A store that has disappeared since
 * the export is not created again.  Warns and returns nonzero on failure.
 */
static int
record_audit(struct export *e, bool incomplete)
{
    char err[512];
    if (!store_file_exists(e->common.db, "data.mdb", F_OK)) {
        cdp_cli_warn("store '%s' disappeared: this export is not in the audit trail", e->common.db);
        return ENOENT;
    }
    int rc = cdp_store_open(&e->store, e->common.db, CDP_STORE_WRITE, err, sizeof err);
    if (rc != 0) {
        cdp_cli_warn("%s: this export is not in the audit trail", err);
        return rc;
    }
    json_t *extra = json_object();
    if (e->subject)
        json_object_set_new(extra, "subject", json_string(e->found));
    if (e->profile[0])
        json_object_set_new(extra, "profile", json_string(e->profile));
    if (incomplete)
        json_object_set_new(extra, "incomplete", json_true());
    if (e->no_consent_check)
        json_object_set_new(extra, "consent_check", json_false());
    if (e->segment)
        json_object_set_new(extra, "segment", json_string(e->segment));
    if (e->target)
        json_object_set_new(extra, "target", json_string(e->target));
    if (e->removals)
        json_object_set_new(extra, "removed", json_integer((json_int_t)e->removed));
    char *arg;
    char **command = audit_command(e, &arg);
    MDB_txn *txn;
    /* The watermark moves in the same transaction as the audit line. */
    if ((rc = cdp_store_reserve(&e->store)) == 0 && (rc = cdp_store_begin(&e->store, true, &txn)) == 0) {
        if (e->changes && !incomplete)
            rc = advance_watermark(e, txn);
        if (rc == 0)
            rc = cdp_audit_append_txn(&e->store, txn, e->common.now, e->argc, command, e->purposes,
                                      e->written, extra);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    free(command);
    free(arg);
    json_decref(extra);
    cdp_store_close(&e->store);
    if (rc != 0)
        cdp_cli_warn("store '%s': cannot append the audit line: %s", e->common.db,
                     cdp_store_strerror(rc));
    return rc;
}

/*
 * A reader that closes the pipe early (`cdp-export | head`) makes the
 * output code exit quietly with status 0 from deep inside a write; the
 * profiles written until then have left the store all the same, so they
 * are recorded here, as an incomplete export.  Any other exit while
 * writing is a write error: the run fails and records nothing.
 */
static void
audit_at_exit(void)
{
    if (!ex.writing || errno != EPIPE)
        return;
    ex.writing = false;
    if (ex.txn) {
        mdb_txn_abort(ex.txn);
        ex.txn = NULL;
    }
    cdp_store_close(&ex.store);
    if (record_audit(&ex, true) != 0)
        _exit(CDP_EXIT_FAILURE);
}

/*
 * Remembers where the identifier of --lookup or --subject is on the command
 * line: optarg is the end of the element getopt_long just read, after
 * "--subject=" or as the whole element.  (getopt_long moves elements only
 * when there are operands, which are refused before any audit line.)
 */
static void
note_identifier(char **argv)
{
    ex.lookup_index = optind - 1;
    ex.lookup_prefix = strlen(argv[optind - 1]) - strlen(optarg);
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
        {"subject", required_argument, NULL, OPT_SUBJECT},
        {"stdin", no_argument, NULL, OPT_STDIN},
        {"purpose", required_argument, NULL, OPT_PURPOSE},
        {"no-consent-check", no_argument, NULL, OPT_NO_CONSENT_CHECK},
        {"raw", no_argument, NULL, OPT_RAW},
        {"segment", required_argument, NULL, OPT_SEGMENT},
        {"changes", no_argument, NULL, OPT_CHANGES},
        {"target", required_argument, NULL, OPT_TARGET},
        {"removals", required_argument, NULL, OPT_REMOVALS},
        {NULL, 0, NULL, 0},
    };
    const char *fields = NULL, *lookup = NULL, *subject = NULL, *purposes = NULL;
    char err[512];
    int opt;

    cdp_cli_init(argv[0], &ex.common);
    cdp_output_init(&ex.out);
    ex.argc = argc;
    ex.argv = argv;
    ex.lookup_index = -1;
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
            lookup = optarg;
            note_identifier(argv);
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
        case OPT_SUBJECT:
            subject = optarg;
            note_identifier(argv);
            break;
        case OPT_STDIN:
            ex.from_stdin = true;
            break;
        case OPT_PURPOSE:
            purposes = optarg;
            break;
        case OPT_NO_CONSENT_CHECK:
            ex.no_consent_check = true;
            break;
        case OPT_RAW:
            ex.out.escape = false;
            break;
        case OPT_SEGMENT:
            ex.segment = optarg;
            break;
        case OPT_CHANGES:
            ex.changes = true;
            break;
        case OPT_TARGET:
            ex.target = optarg;
            break;
        case OPT_REMOVALS:
            ex.removals = optarg;
            break;
        default:
            cdp_cli_unknown_option(argv);
        }
    }
    argc -= optind;
    argv += optind;
    if (argc > 0)
        cdp_cli_usage_error("unexpected argument '%s'", argv[0]);
    if (ex.common.format && cdp_activation_format_from_name(ex.common.format, &ex.act))
        ex.activation = true;
    else if (ex.common.format && !cdp_output_set_format(&ex.out, ex.common.format))
        cdp_cli_usage_error("unknown format '%s' (ndjson, csv, mailchimp, brevo, klaviyo, "
                            "google-customer-match, meta-custom-audience)",
                            ex.common.format);
    int sources = (lookup != NULL) + (subject != NULL) + ex.from_stdin + (ex.segment != NULL);
    if (sources > 1)
        cdp_cli_usage_error("--lookup, --subject, --stdin and --segment exclude each other");
    if (ex.changes && (ex.segment == NULL || ex.target == NULL))
        cdp_cli_usage_error("--changes needs --segment NAME and --target NAME");
    if ((ex.target || ex.removals) && !ex.changes)
        cdp_cli_usage_error("--target and --removals go with --changes");
    if (ex.target && (strlen(ex.target) == 0 || strlen(ex.target) > 64 || strchr(ex.target, '@')))
        cdp_cli_usage_error("--target takes a name of 1 to 64 characters without '@'");
    if (ex.activation && (lookup || subject))
        cdp_cli_usage_error("activation formats write audiences, not one person");
    if (ex.activation && purposes == NULL && !ex.no_consent_check)
        cdp_cli_usage_error("format '%s' sends personal data to another company: give --purpose "
                            "(e.g. --purpose %s) so that only profiles that consented are written, "
                            "or --no-consent-check, which the audit trail records",
                            ex.common.format,
                            ex.act == CDP_ACT_GOOGLE || ex.act == CDP_ACT_META
                                ? "ads_personalization"
                                : "email_marketing");
    if (purposes && ex.no_consent_check)
        cdp_cli_usage_error("--purpose and --no-consent-check exclude each other");
    if (purposes && (lookup || subject))
        cdp_cli_usage_error("--lookup and --subject write the person whatever their consent "
                            "(an access request): --purpose does not apply");
    if (lookup && subject)
        cdp_cli_usage_error("--lookup and --subject do not go together");
    if (ex.events && !lookup)
        cdp_cli_usage_error(subject ? "--events goes with --lookup (--subject always has them)"
                                    : "--events goes with --lookup");
    if (subject && ex.out.csv)
        cdp_cli_usage_error("--subject writes one JSON document, not CSV");
    ex.lookup = lookup ? lookup : subject;
    ex.option = lookup ? "--lookup" : "--subject";
    ex.subject = subject != NULL;
    if (!cdp_output_set_fields(&ex.out, fields ? fields
                                               : "id,traits.email,traits.firstName,"
                                                 "traits.lastName,computed.orders_count,"
                                                 "computed.revenue_total,last_seen"))
        cdp_cli_usage_error("--fields needs at least one field");
    if (cdp_store_open(&ex.store, ex.common.db, CDP_STORE_READ, err, sizeof err) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    if (purposes) {
        int prc;
        MDB_txn *t;
        json_t *known = NULL;
        if ((prc = cdp_store_begin(&ex.store, false, &t)) == 0) {
            known = cdp_consent_purposes(&ex.store, t, &prc);
            mdb_txn_abort(t);
        }
        if (known == NULL)
            cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", ex.common.db, cdp_store_strerror(prc));
        ex.purposes = json_array();
        char *copy = cdp_xstrdup(purposes), *save = NULL;
        for (char *q = strtok_r(copy, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
            if (!cdp_consent_purpose_known(known, q))
                cdp_cli_usage_error("unknown purpose '%s' (see cdp-consent --purposes)", q);
            if (!cdp_consent_purpose_known(ex.purposes, q))
                json_array_append_new(ex.purposes, json_string(q));
        }
        free(copy);
        /*
         * Google's EU user consent policy asks for consent both to
         * personalised ads and to sharing the data with Google.
         */
        if (ex.activation && ex.act == CDP_ACT_GOOGLE &&
            cdp_consent_purpose_known(ex.purposes, "ads_personalization") &&
            !cdp_consent_purpose_known(ex.purposes, "data_sharing") &&
            cdp_consent_purpose_known(known, "data_sharing"))
            json_array_append_new(ex.purposes, json_string("data_sharing"));
        json_decref(known);
    }
    if (ex.common.output)
        cdp_cli_atomic_stdout(ex.common.output);
    if (ex.removals)
        ex.removals_file = cdp_cli_atomic_open(ex.removals);
    /* An export that could not be recorded in the audit trail does not start. */
    if (!store_file_exists(ex.common.db, "data.mdb", W_OK) ||
        (!store_file_exists(ex.common.db, "lock.mdb", W_OK) && errno != ENOENT))
        cdp_cli_die(CDP_EXIT_FAILURE,
                    "store '%s' is not writable, so the export could not be audited: %s",
                    ex.common.db, strerror(errno));
    int rc = cdp_store_begin(&ex.store, false, &ex.txn);
    if (rc != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", ex.common.db, cdp_store_strerror(rc));
    ex.out.store = &ex.store;
    ex.out.txn = ex.txn;
    ex.out.now = ex.common.now;
    atexit(audit_at_exit);
    rc = ex.subject      ? export_subject(&ex, ex.txn)
         : ex.lookup     ? export_one(&ex, ex.txn)
         : ex.from_stdin ? export_stdin(&ex, ex.txn)
         : ex.segment    ? export_segment(&ex, ex.txn)
                         : export_all(&ex, ex.txn);
    if (rc == 0)
        rc = ex.out.error;
    mdb_txn_abort(ex.txn);
    ex.txn = NULL;
    ex.out.txn = NULL;
    cdp_store_close(&ex.store);
    int status = CDP_EXIT_OK;
    if (rc == MDB_NOTFOUND && ex.lookup) {
        status = CDP_EXIT_FAILURE;
    } else if (rc != 0) {
        cdp_cli_warn("store '%s': %s", ex.common.db, cdp_store_strerror(rc));
        status = CDP_EXIT_FAILURE;
    }
    uint64_t left = 0;
    for (int i = 0; i < 6; i++)
        left += ex.left_out[i];
    if (!ex.common.quiet && (ex.purposes || ex.activation || ex.segment || ex.from_stdin))
        fprintf(stderr,
                "%s: %llu written, %llu left out (%llu no consent record, %llu denied, "
                "%llu withdrawn, %llu expired, %llu missing what the format needs)%s\n",
                cdp_cli_progname(), (unsigned long long)ex.written, (unsigned long long)left,
                (unsigned long long)ex.left_out[CDP_CONSENT_NO_RECORD],
                (unsigned long long)ex.left_out[CDP_CONSENT_IS_DENIED],
                (unsigned long long)ex.left_out[CDP_CONSENT_IS_WITHDRAWN],
                (unsigned long long)ex.left_out[CDP_CONSENT_EXPIRED],
                (unsigned long long)ex.left_out[LEFT_MISSING], "");
    /* The audit line (and the watermark), once what was written has reached the output. */
    if (status == CDP_EXIT_OK && ex.common.output) {
        /*
         * -o: the file must be in place before the watermark moves; the
         * removals file follows it, so a failure leaves the old one.
         */
        status = cdp_cli_finish_stdout(status);
        if (status == CDP_EXIT_OK && ex.removals_file && !cdp_cli_atomic_commit(ex.removals_file)) {
            cdp_cli_warn("%s: %s", ex.removals, strerror(errno));
            status = CDP_EXIT_FAILURE;
        }
        if (status == CDP_EXIT_OK && record_audit(&ex, false) != 0)
            status = CDP_EXIT_FAILURE;
        cdp_output_free(&ex.out);
        cdp_buf_free(&ex.line);
        return status == CDP_EXIT_OK && ex.rejected ? CDP_EXIT_REJECTED : status;
    }
    if (status == CDP_EXIT_OK && ex.removals_file) {
        errno = 0;
        if (fflush(stdout) != 0 || ferror(stdout))
            cdp_cli_stdout_failed();
        if (!cdp_cli_atomic_commit(ex.removals_file)) {
            cdp_cli_warn("%s: %s", ex.removals, strerror(errno));
            status = CDP_EXIT_FAILURE;
        }
    }
    if (status == CDP_EXIT_OK) {
        errno = 0;
        bool flushed = fflush(stdout) == 0 && !ferror(stdout);
        if (flushed || errno == EPIPE) {
            if (record_audit(&ex, !flushed) != 0)
                status = CDP_EXIT_FAILURE;
        }
    }
    cdp_output_free(&ex.out);
    cdp_buf_free(&ex.line);
    status = cdp_cli_finish_stdout(status);
    return status == CDP_EXIT_OK && ex.rejected ? CDP_EXIT_REJECTED : status;
}
