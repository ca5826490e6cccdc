/*
 * cdp-segment - select profiles with an expression; save segments and
 * report what entered and left them.
 *
 * Scans stream: one profile at a time, in id order, from the store (or in
 * input order from --stdin).  Memory does not grow with the number of
 * profiles; --save and --changes write the membership in the store, and
 * --changes walks the recorded membership beside the scan, both in id order.
 */
#include "buf.h"
#include "cli.h"
#include "expr.h"
#include "input.h"
#include "output.h"
#include "profile.h"
#include "store.h"
#include "timeparse.h"
#include "view.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_STDIN = CDP_OPT_FIRST_PRIVATE,
    OPT_IDS,
    OPT_COUNT,
    OPT_FIELDS,
    OPT_HEADER,
    OPT_NO_HEADER,
    OPT_DELIMITER,
    OPT_SAVE,
    OPT_RUN,
    OPT_CHANGES,
    OPT_LIST,
    OPT_DELETE,
};

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cdp-segment [options] EXPRESSION\n"
            "       cdp-segment [options] --stdin EXPRESSION < profiles.ndjson\n"
            "       cdp-segment [options] --save NAME EXPRESSION\n"
            "       cdp-segment [options] --run NAME | --changes NAME | --delete NAME\n"
            "       cdp-segment [options] --list\n"
            "Select the profiles for which EXPRESSION is true (see cdp-segment(1)), e.g.\n"
            "  cdp-segment 'computed.orders_count >= 2 and computed.last_order_at > now - 90d'\n"
            "\n"
            "Options:\n"
            "      --stdin             read profiles as NDJSON from stdin, not from the store\n"
            "      --ids               write the ids of the matching profiles, one a line\n"
            "      --count             write only the number of matching profiles\n"
            "  -f, --format FMT        ndjson (default) or csv\n"
            "      --fields LIST       CSV columns (default: id), e.g. id,traits.email\n"
            "      --header            CSV: write a header row (default)\n"
            "      --no-header         CSV: no header row\n"
            "      --delimiter C       CSV field delimiter (default: ,)\n"
            "      --save NAME         save EXPRESSION as segment NAME with its members\n"
            "      --run NAME          evaluate saved segment NAME (records nothing)\n"
            "      --changes NAME      write what entered and exited NAME since its members\n"
            "                          were last recorded, and record the new members\n"
            "      --list              list the saved segments\n"
            "      --delete NAME       forget saved segment NAME\n"
            "\n%s",
            cdp_cli_common_help);
}

enum mode { MODE_QUERY, MODE_SAVE, MODE_RUN, MODE_CHANGES, MODE_LIST, MODE_DELETE };

struct segment {
    struct cdp_common common;
    struct cdp_store store;
    bool store_open;
    struct cdp_output out;
    enum mode mode;
    const char *name;
    bool from_stdin, ids, count;
    const char *text;      /* the expression */
    char *saved_text;      /* the expression of a saved segment (owned) */
    struct cdp_expr *expr;
    uint64_t matched, entered, exited;
    struct cdp_buf line;
    bool rejected;
};

/* ---- output of one result ---- */

static void
emit_line(struct segment *sg)
{
    if (fwrite(sg->line.data, 1, sg->line.len, stdout) != sg->line.len)
        cdp_cli_stdout_failed();
    cdp_buf_reset(&sg->line);
}

/* An id for --ids: "ID" or "TAG<tab>ID". */
static void
emit_id(struct segment *sg, const struct cdp_id *id, const char *tag)
{
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(id, hex);
    cdp_buf_printf(&sg->line, "%s%s%s\n", tag ? tag : "", tag ? "\t" : "", hex);
    emit_line(sg);
}

/* ---- the store ---- */

static void
open_store(struct segment *sg, bool write)
{
    char err[512];
    if (cdp_store_open(&sg->store, sg->common.db, write ? CDP_STORE_WRITE : CDP_STORE_READ, err,
                       sizeof err) != 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s", err);
    sg->store_open = true;
}

static _Noreturn void
store_failed(struct segment *sg, int rc)
{
    cdp_cli_die(CDP_EXIT_FAILURE, "store '%s': %s", sg->common.db, cdp_store_strerror(rc));
}

static int
put_member(struct segment *sg, MDB_txn *txn, const struct cdp_id *id)
{
    unsigned char key[CDP_MEMBER_KEY_MAX], when[8];
    MDB_val k = {cdp_store_member_key(key, sg->name, id), key}, v = {8, when};
    cdp_store_put_be64(when, (uint64_t)sg->common.now);
    return mdb_put(txn, sg->store.dbi[CDP_DB_MEMBERS], &k, &v, 0);
}

static int
delete_member(struct segment *sg, MDB_txn *txn, const struct cdp_id *id)
{
    unsigned char key[CDP_MEMBER_KEY_MAX];
    MDB_val k = {cdp_store_member_key(key, sg->name, id), key};
    return mdb_del(txn, sg->store.dbi[CDP_DB_MEMBERS], &k, NULL);
}

/* Deletes every member record of the segment. */
static int
clear_members(struct segment *sg, MDB_txn *txn)
{
    MDB_cursor *cursor;
    struct cdp_id id;
    int rc = mdb_cursor_open(txn, sg->store.dbi[CDP_DB_MEMBERS], &cursor);
    if (rc != 0)
        return rc;
    while ((rc = cdp_store_next_member(cursor, sg->name, NULL, &id)) == 0)
        if ((rc = mdb_cursor_del(cursor, 0)) != 0)
            break;
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The saved definition of segment name, as a new JSON object, or NULL. */
static json_t *
load_definition(struct segment *sg, MDB_txn *txn, const char *name)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, sg->store.dbi[CDP_DB_SEGMENTS], &k, &v);
    if (rc == MDB_NOTFOUND)
        return NULL;
    if (rc != 0)
        store_failed(sg, rc);
    json_t *def = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    if (!json_is_object(def))
        cdp_cli_die(CDP_EXIT_FAILURE, "saved segment '%s' is damaged", name);
    return def;
}

static int
store_definition(struct segment *sg, MDB_txn *txn, json_t *def)
{
    char *text = json_dumps(def, JSON_COMPACT);
    MDB_val k = {strlen(sg->name), (void *)sg->name}, v = {strlen(text), text};
    int rc = mdb_put(txn, sg->store.dbi[CDP_DB_SEGMENTS], &k, &v, 0);
    free(text);
    return rc;
}

static json_t *
time_json(int64_t ms)
{
    char text[40];
    cdp_time_format(ms, text, sizeof text);
    return json_string(text);
}

/* ---- evaluating profiles of the store ---- */

/* A decoded record: the head always, the whole profile when needed. */
struct record {
    struct cdp_profile_head head;
    struct cdp_profile profile;
    bool full;
};

static bool
decode(struct record *r, const struct cdp_id *id, const MDB_val *value, bool full)
{
    r->full = false;
    if (!full)
        return cdp_profile_decode_head(&r->head, value->mv_data, value->mv_size);
    if (!cdp_profile_decode(&r->profile, id, value->mv_data, value->mv_size)) {
        cdp_profile_free(&r->profile);
        return false;
    }
    r->full = true;
    r->head = r->profile.head;
    return true;
}

static void
release(struct record *r)
{
    if (r->full)
        cdp_profile_free(&r->profile);
    r->full = false;
}

/* Evaluates the expression on one record; false (after a warning) for a damaged one. */
static bool
evaluate(struct segment *sg, MDB_txn *txn, const struct cdp_id *id, const MDB_val *value,
         struct record *r, bool *match)
{
    /* The head only: the evaluator decodes the rest if a field needs it. */
    if (!decode(r, id, value, false)) {
        char hex[CDP_ID_HEX_SIZE];
        cdp_hash_to_hex(id, hex);
        cdp_cli_warn("profile %s: damaged record skipped", hex);
        return false;
    }
    struct cdp_expr_subject s = {.id = *id, .head = &r->head, .store = &sg->store, .txn = txn,
                                 .record = value->mv_data, .record_len = value->mv_size};
    int rc = cdp_expr_match(sg->expr, &s, match);
    if (rc != 0)
        store_failed(sg, rc);
    return true;
}

/* Makes sure the profile is fully decoded, for writing it out. */
static bool
complete(struct record *r, const struct cdp_id *id, const MDB_val *value)
{
    if (r->full)
        return true;
    return decode(r, id, value, true);
}

/*
 * Scans every profile; writes the matches; with record, also writes them as
 * the segment's members (the old members were cleared by the caller).
 */
static int
scan(struct segment *sg, MDB_txn *txn, bool record)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open(txn, sg->store.dbi[CDP_DB_PROFILES], &cursor);
    if (rc != 0)
        return rc;
    bool need_profile = !sg->count && !sg->ids;
    uint64_t scanned = 0;
    while ((rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) == 0) {
        /* The pages read leave the resident set as the scan goes: memory stays flat. */
        if (++scanned % 16384 == 0)
            cdp_store_release_pages(&sg->store);
        struct cdp_id id;
        struct record r;
        bool match;
        if (key.mv_size != 16)
            continue;
        memcpy(id.bytes, key.mv_data, 16);
        if (!evaluate(sg, txn, &id, &value, &r, &match))
            continue;
        if (match && need_profile && !complete(&r, &id, &value)) {
            char hex[CDP_ID_HEX_SIZE];
            cdp_hash_to_hex(&id, hex);
            cdp_cli_warn("profile %s: damaged record skipped", hex);
            match = false;
        }
        if (match) {
            sg->matched++;
            if (record && (rc = put_member(sg, txn, &id)) != 0) {
                release(&r);
                break;
            }
            if (sg->ids)
                emit_id(sg, &id, NULL);
            else if (need_profile)
                cdp_output_profile(&sg->out, &r.profile, NULL);
        }
        release(&r);
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* An exited member: its profile when it still exists, else its id alone. */
static void
emit_exited(struct segment *sg, MDB_txn *txn, const struct cdp_id *id)
{
    sg->exited++;
    if (sg->count)
        return;
    MDB_val k = {16, (void *)id->bytes}, v;
    struct record r;
    int rc = mdb_get(txn, sg->store.dbi[CDP_DB_PROFILES], &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        store_failed(sg, rc);
    if (sg->ids) {
        emit_id(sg, id, "exited");
        return;
    }
    if (rc == 0 && decode(&r, id, &v, true)) {
        cdp_output_profile(&sg->out, &r.profile, "exited");
        release(&r);
        return;
    }
    char hex[CDP_ID_HEX_SIZE];
    cdp_hash_to_hex(id, hex);
    cdp_output_id_only(&sg->out, hex, "exited");
}

/*
 * --changes: the scan and the recorded members side by side, both in id
 * order.  A member that no matching profile meets has exited; a match that
 * is not a member has entered.  The members are updated as it goes.
 */
static int
changes(struct segment *sg, MDB_txn *txn)
{
    MDB_cursor *profiles, *members;
    MDB_val key, value;
    struct cdp_id old;
    int rc = mdb_cursor_open(txn, sg->store.dbi[CDP_DB_PROFILES], &profiles);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, sg->store.dbi[CDP_DB_MEMBERS], &members)) != 0) {
        mdb_cursor_close(profiles);
        return rc;
    }
    int have = cdp_store_next_member(members, sg->name, NULL, &old);
    while (rc == 0 && (have == 0 || have == MDB_NOTFOUND) &&
           (rc = mdb_cursor_get(profiles, &key, &value, MDB_NEXT)) == 0) {
        struct cdp_id id;
        struct record r;
        bool match;
        if (key.mv_size != 16)
            continue;
        memcpy(id.bytes, key.mv_data, 16);
        /* Members before this profile no longer exist: they have exited. */
        while (have == 0 && cdp_hash_compare(&old, &id) < 0) {
            emit_exited(sg, txn, &old);
            struct cdp_id gone = old;
            if ((rc = delete_member(sg, txn, &gone)) != 0)
                break;
            have = cdp_store_next_member(members, sg->name, &gone, &old);
        }
        if (rc != 0)
            break;
        bool member = have == 0 && cdp_hash_compare(&old, &id) == 0;
        if (!evaluate(sg, txn, &id, &value, &r, &match)) {
            /* A damaged record: its membership stays as it was. */
            if (member)
                have = cdp_store_next_member(members, sg->name, &id, &old);
            continue;
        }
        release(&r);
        if (match)
            sg->matched++;
        if (match && !member) {
            sg->entered++;
            if ((rc = put_member(sg, txn, &id)) != 0)
                break;
            if (sg->ids) {
                emit_id(sg, &id, "entered");
            } else if (!sg->count && complete(&r, &id, &value)) {
                cdp_output_profile(&sg->out, &r.profile, "entered");
                release(&r);
            }
        } else if (!match && member) {
            emit_exited(sg, txn, &id);
            if ((rc = delete_member(sg, txn, &id)) != 0)
                break;
        }
        if (member)
            have = cdp_store_next_member(members, sg->name, &id, &old);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc == 0 && have != 0 && have != MDB_NOTFOUND)
        rc = have;
    /* Members after the last profile no longer exist either. */
    while (rc == 0 && have == 0) {
        emit_exited(sg, txn, &old);
        struct cdp_id gone = old;
        if ((rc = delete_member(sg, txn, &gone)) != 0)
            break;
        have = cdp_store_next_member(members, sg->name, &gone, &old);
        if (have != 0 && have != MDB_NOTFOUND)
            rc = have;
    }
    mdb_cursor_close(members);
    mdb_cursor_close(profiles);
    return rc;
}

/* ---- modes ---- */

/* Compiles text into sg->expr; false after printing where and why it failed. */
static bool
compile(struct segment *sg, const char *text)
{
    struct cdp_expr_error err;
    sg->expr = cdp_expr_compile(text, sg->common.now, &err);
    if (sg->expr != NULL)
        return true;
    struct cdp_buf shown = CDP_BUF_INIT;
    cdp_expr_show_error(text, &err, &shown);
    fprintf(stderr, "%s: %s error at column %zu: %s\n%s", cdp_cli_progname(),
            err.type ? "type" : "syntax", err.column, err.message, shown.data);
    cdp_buf_free(&shown);
    return false;
}

/* Enough free map for a membership of every profile, so a write does not run out mid-scan. */
static void
reserve_for_members(struct segment *sg)
{
    MDB_txn *txn;
    MDB_stat st;
    int rc = cdp_store_begin(&sg->store, false, &txn);
    if (rc == 0) {
        rc = mdb_stat(txn, sg->store.dbi[CDP_DB_PROFILES], &st);
        mdb_txn_abort(txn);
    }
    if (rc == 0)
        rc = cdp_store_reserve_bytes(&sg->store, (size_t)st.ms_entries * 128 + ((size_t)16 << 20));
    if (rc != 0)
        store_failed(sg, rc);
}

static void
write_count(struct segment *sg)
{
    if (sg->mode == MODE_CHANGES)
        cdp_buf_printf(&sg->line, "entered\t%llu\nexited\t%llu\n", (unsigned long long)sg->entered,
                       (unsigned long long)sg->exited);
    else
        cdp_buf_printf(&sg->line, "%llu\n", (unsigned long long)sg->matched);
    emit_line(sg);
}

static void
run_store(struct segment *sg)
{
    bool write = sg->mode == MODE_SAVE || sg->mode == MODE_CHANGES;
    open_store(sg, write);
    MDB_txn *txn;
    int rc;
    json_t *def = NULL;
    if (write)
        reserve_for_members(sg);
    if ((rc = cdp_store_begin(&sg->store, write, &txn)) != 0)
        store_failed(sg, rc);
    if (sg->mode == MODE_RUN || sg->mode == MODE_CHANGES) {
        def = load_definition(sg, txn, sg->name);
        if (def == NULL)
            cdp_cli_die(CDP_EXIT_FAILURE, "no saved segment '%s' (see --list)", sg->name);
        const char *saved = json_string_value(json_object_get(def, "expression"));
        sg->saved_text = cdp_xstrdup(saved ? saved : "");
        if (!compile(sg, sg->saved_text)) {
            mdb_txn_abort(txn);
            cdp_cli_die(CDP_EXIT_FAILURE, "saved segment '%s' no longer compiles", sg->name);
        }
    }
    if (sg->mode == MODE_SAVE) {
        def = json_pack("{ss}", "expression", sg->text);
        json_object_set_new(def, "saved_at", time_json(sg->common.now));
    }
    sg->out.tag_name = sg->mode == MODE_CHANGES ? "change" : NULL;
    sg->out.store = &sg->store;
    sg->out.txn = txn;
    sg->out.now = sg->common.now;
    if (!sg->count && !sg->ids)
        cdp_output_begin(&sg->out);

    if (sg->mode == MODE_SAVE && (rc = clear_members(sg, txn)) != 0)
        goto fail;
    rc = sg->mode == MODE_CHANGES ? changes(sg, txn) : scan(sg, txn, sg->mode == MODE_SAVE);
    if (rc == 0)
        rc = sg->out.error;
    if (rc != 0)
        goto fail;
    if (write) {
        json_object_set_new(def, "last_run", time_json(sg->common.now));
        json_object_set_new(def, "members", json_integer((json_int_t)sg->matched));
        if ((rc = store_definition(sg, txn, def)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
            txn = NULL;
            goto fail;
        }
    } else {
        mdb_txn_abort(txn);
    }
    json_decref(def);
    if (sg->count)
        write_count(sg);
    return;

fail:
    if (txn)
        mdb_txn_abort(txn);
    store_failed(sg, rc);
}

static void
run_stdin(struct segment *sg)
{
    /*
     * Event conditions need the store; consent and predictions read it when
     * the stream's objects carry none of their own and there is a store.
     */
    unsigned needs = cdp_expr_needs(sg->expr);
    char err[512];
    if (needs & CDP_EXPR_NEEDS_EVENTS)
        open_store(sg, false);
    else if ((needs & (CDP_EXPR_NEEDS_CONSENT | CDP_EXPR_NEEDS_PREDICTED)) &&
             cdp_store_open(&sg->store, sg->common.db, CDP_STORE_READ, err, sizeof err) == 0)
        sg->store_open = true;
    MDB_txn *txn = NULL;
    int rc;
    if (sg->store_open && (rc = cdp_store_begin(&sg->store, false, &txn)) != 0)
        store_failed(sg, rc);
    if (!sg->count && !sg->ids)
        cdp_output_begin(&sg->out);

    struct cdp_lines lines;
    const char *line;
    size_t len;
    bool too_long;
    cdp_lines_init(&lines, STDIN_FILENO, CDP_INPUT_DEFAULT_MAX_LINE);
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        if (too_long) {
            cdp_cli_warn("-:%llu: line longer than %zu bytes, skipped",
                         (unsigned long long)lines.lineno, (size_t)CDP_INPUT_DEFAULT_MAX_LINE);
            sg->rejected = true;
            continue;
        }
        if (cdp_input_blank(line, len))
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, len, 0, &jerr);
        if (!json_is_object(obj)) {
            cdp_cli_warn("-:%llu: %s", (unsigned long long)lines.lineno,
                         obj ? "not a JSON object" : jerr.text);
            json_decref(obj);
            sg->rejected = true;
            continue;
        }
        struct cdp_expr_subject s = {.json = obj, .store = sg->store_open ? &sg->store : NULL,
                                     .txn = txn};
        const char *hex = json_string_value(json_object_get(obj, "id"));
        if (hex == NULL || !cdp_hash_from_hex(hex, &s.id))
            memset(&s.id, 0, sizeof s.id);
        bool match;
        if ((rc = cdp_expr_match(sg->expr, &s, &match)) != 0)
            store_failed(sg, rc);
        if (match) {
            sg->matched++;
            if (sg->ids && hex == NULL) {
                cdp_cli_warn("-:%llu: the profile has no id", (unsigned long long)lines.lineno);
                sg->rejected = true;
            } else if (sg->ids) {
                cdp_buf_printf(&sg->line, "%s\n", hex);
                emit_line(sg);
            } else if (!sg->count) {
                cdp_output_json(&sg->out, obj, line, len, NULL);
            }
        }
        json_decref(obj);
    }
    if (lines.error)
        cdp_cli_die(CDP_EXIT_FAILURE, "-: %s", strerror(lines.error));
    cdp_lines_free(&lines);
    if (txn)
        mdb_txn_abort(txn);
    if (sg->count)
        write_count(sg);
}

static void
list_segments(struct segment *sg)
{
    open_store(sg, false);
    MDB_txn *txn;
    MDB_cursor *cursor;
    MDB_val k, v;
    int rc = cdp_store_begin(&sg->store, false, &txn);
    if (rc != 0 || (rc = mdb_cursor_open(txn, sg->store.dbi[CDP_DB_SEGMENTS], &cursor)) != 0)
        store_failed(sg, rc);
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        json_t *def = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        json_t *out = json_object();
        json_object_set_new(out, "name", json_stringn(k.mv_data, k.mv_size));
        if (json_is_object(def))
            json_object_update(out, def);
        else
            json_object_set_new(out, "damaged", json_true());
        char *text = json_dumps(out, JSON_COMPACT);
        cdp_buf_printf(&sg->line, "%s\n", text);
        emit_line(sg);
        free(text);
        json_decref(out);
        json_decref(def);
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    if (rc != MDB_NOTFOUND)
        store_failed(sg, rc);
}

static void
delete_segment(struct segment *sg)
{
    open_store(sg, true);
    MDB_txn *txn;
    int rc = cdp_store_begin(&sg->store, true, &txn);
    if (rc != 0)
        store_failed(sg, rc);
    MDB_val k = {strlen(sg->name), (void *)sg->name};
    rc = mdb_del(txn, sg->store.dbi[CDP_DB_SEGMENTS], &k, NULL);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        cdp_cli_die(CDP_EXIT_FAILURE, "no saved segment '%s' (see --list)", sg->name);
    }
    if (rc != 0 || (rc = clear_members(sg, txn)) != 0 || (rc = mdb_txn_commit(txn)) != 0)
        store_failed(sg, rc);
}

static void
check_name(const char *name)
{
    size_t n = strlen(name);
    bool ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || c == '.';
    }
    if (!ok)
        cdp_cli_usage_error("segment names are 1 to 64 letters, digits, '_', '-' or '.', not '%s'",
                            name);
}

static void
set_mode(struct segment *sg, enum mode mode, const char *name)
{
    if (sg->mode != MODE_QUERY)
        cdp_cli_usage_error("--save, --run, --changes, --list and --delete exclude each other");
    sg->mode = mode;
    if (name) {
        check_name(name);
        sg->name = name;
    }
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CDP_COMMON_LONGOPTS,
        {"stdin", no_argument, NULL, OPT_STDIN},
        {"ids", no_argument, NULL, OPT_IDS},
        {"count", no_argument, NULL, OPT_COUNT},
        {"fields", required_argument, NULL, OPT_FIELDS},
        {"header", no_argument, NULL, OPT_HEADER},
        {"no-header", no_argument, NULL, OPT_NO_HEADER},
        {"delimiter", required_argument, NULL, OPT_DELIMITER},
        {"save", required_argument, NULL, OPT_SAVE},
        {"run", required_argument, NULL, OPT_RUN},
        {"changes", required_argument, NULL, OPT_CHANGES},
        {"list", no_argument, NULL, OPT_LIST},
        {"delete", required_argument, NULL, OPT_DELETE},
        {NULL, 0, NULL, 0},
    };
    static struct segment sg;
    const char *fields = NULL;
    int opt;

    cdp_cli_init(argv[0], &sg.common);
    cdp_output_init(&sg.out);
    while ((opt = getopt_long(argc, argv, CDP_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (cdp_cli_common_option(&sg.common, opt, optarg, usage))
            continue;
        switch (opt) {
        case OPT_STDIN:
            sg.from_stdin = true;
            break;
        case OPT_IDS:
            sg.ids = true;
            break;
        case OPT_COUNT:
            sg.count = true;
            break;
        case OPT_FIELDS:
            fields = optarg;
            break;
        case OPT_HEADER:
            sg.out.header = true;
            break;
        case OPT_NO_HEADER:
            sg.out.header = false;
            break;
        case OPT_DELIMITER:
            if (!cdp_output_set_delimiter(&sg.out, optarg))
                cdp_cli_usage_error("--delimiter takes one character (or tab)");
            break;
        case OPT_SAVE:
            set_mode(&sg, MODE_SAVE, optarg);
            break;
        case OPT_RUN:
            set_mode(&sg, MODE_RUN, optarg);
            break;
        case OPT_CHANGES:
            set_mode(&sg, MODE_CHANGES, optarg);
            break;
        case OPT_LIST:
            set_mode(&sg, MODE_LIST, NULL);
            break;
        case OPT_DELETE:
            set_mode(&sg, MODE_DELETE, optarg);
            break;
        default:
            cdp_cli_unknown_option(argv);
        }
    }
    argc -= optind;
    argv += optind;
    bool wants_expression = sg.mode == MODE_QUERY || sg.mode == MODE_SAVE;
    if (wants_expression && argc == 0)
        cdp_cli_usage_error("no expression given");
    if (argc > (wants_expression ? 1 : 0))
        cdp_cli_usage_error("unexpected argument '%s'%s", argv[wants_expression ? 1 : 0],
                            wants_expression ? " (quote the expression as one argument)" : "");
    sg.text = wants_expression ? argv[0] : NULL;
    if (sg.ids && sg.count)
        cdp_cli_usage_error("--ids and --count exclude each other");
    if (sg.common.format && !cdp_output_set_format(&sg.out, sg.common.format))
        cdp_cli_usage_error("unknown format '%s' (ndjson or csv)", sg.common.format);
    if (!cdp_output_set_fields(&sg.out, fields ? fields : "id"))
        cdp_cli_usage_error("--fields needs at least one field");
    if (sg.from_stdin && sg.mode != MODE_QUERY)
        cdp_cli_usage_error("--stdin works with an expression, not with saved segments");
    /* The expression is checked before the store or the output file is touched. */
    if (wants_expression && !compile(&sg, sg.text))
        return CDP_EXIT_USAGE;
    if (sg.common.output && freopen(sg.common.output, "w", stdout) == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", sg.common.output, strerror(errno));

    switch (sg.mode) {
    case MODE_LIST:
        list_segments(&sg);
        break;
    case MODE_DELETE:
        delete_segment(&sg);
        break;
    default:
        if (sg.from_stdin)
            run_stdin(&sg);
        else
            run_store(&sg);
        break;
    }
    if (sg.store_open)
        cdp_store_close(&sg.store);
    cdp_expr_free(sg.expr);
    free(sg.saved_text);
    cdp_output_free(&sg.out);
    cdp_buf_free(&sg.line);
    return cdp_cli_finish_stdout(sg.rejected ? CDP_EXIT_REJECTED : CDP_EXIT_OK);
}
