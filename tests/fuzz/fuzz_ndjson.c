/*
 * fuzz_ndjson.c - one NDJSON line through the path cdp-ingest takes before
 * the store: the pre-parse checks, the JSON scanner, cdp_event_parse and
 * cdp_event_read, compared with a plain json_loadb of the same line.
 *
 * The whole input is one line.  The event options depend on the input's
 * length so that every input is read with one fixed set of options: the
 * default region "FR" most of the time, with or without a date format, and
 * now and then no region at all.  The same bytes also go through the line
 * reader (cdp_lines over a memory file, with a small line limit) so that
 * long lines, "\r\n" endings and a missing final newline are exercised.
 *
 * Properties checked:
 *   - a line jansson parses (with no NUL byte, after which jansson reads
 *     nothing) is not rejected by cdp_jsonscan_check, and each member value
 *     cdp_jsonscan_members finds lies inside the line and is valid JSON;
 *   - cdp_event_read gives the same answer (status, type, time, identifiers,
 *     message id, warnings) on the tree of cdp_event_parse as on the whole
 *     tree from json_loadb;
 *   - an event read has sane fields (known type, unique identifiers of at
 *     most CDP_IDENTIFIER_MAX bytes, the strongest one in range, the hash of
 *     its message id);
 *   - the line reader never returns a line longer than its limit without
 *     saying so, nor one holding a newline.
 */
#include "buf.h"
#include "event.h"
#include "input.h"
#include "jsonscan.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOW_MS INT64_C(1766570400000) /* 2025-12-24T10:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1); /* the same hash order in every run */
    memfd = memfd_create("fuzz_ndjson", 0);
    return 0;
}

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s\n", what);
        abort();
    }
}

/* What cdp_event_read made of one tree. */
struct outcome {
    enum cdp_event_status status;
    struct cdp_event ev;
    struct cdp_buf warnings;
    char reason[256];
};

static void
read_tree(json_t *root, const struct cdp_event_options *options, struct outcome *out)
{
    memset(out, 0, sizeof *out);
    out->status = cdp_event_read(&out->ev, root, options, NOW_MS, &out->warnings, out->reason,
                                 sizeof out->reason);
}

static bool
same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Checks what cdp_event_read gave back for one tree. */
static void
check_outcome(const struct outcome *o)
{
    const struct cdp_event *ev = &o->ev;
    if (o->status != CDP_EVENT_OK) {
        check(o->reason[0] != '\0', "rejection has a reason");
        return;
    }
    check(ev->type >= CDP_EVENT_IDENTIFY && ev->type <= CDP_EVENT_ALIAS, "event type");
    check(strcmp(cdp_event_type_name(ev->type), "unknown") != 0, "type name");
    check(ev->name != NULL, "event name");
    check(ev->message_id != NULL && ev->message_id[0] != '\0', "message id");
    check(ev->identifiers_count >= 0 && ev->identifiers_count <= CDP_EVENT_MAX_IDENTIFIERS,
          "identifier count");
    check(ev->identifiers_count > 0 || ev->previous_id != NULL, "an identifier");
    for (int i = 0; i < ev->identifiers_count; i++) {
        check(strnlen(ev->identifiers[i], CDP_IDENTIFIER_MAX) < CDP_IDENTIFIER_MAX,
              "identifier terminated");
        check(strchr(ev->identifiers[i], ':') != NULL, "identifier has a kind");
        check(cdp_identifier_strength(ev->identifiers[i]) == ev->strength[i],
              "identifier strength");
        for (int j = 0; j < i; j++)
            check(strcmp(ev->identifiers[i], ev->identifiers[j]) != 0, "identifier unique");
    }
    int best = cdp_event_strongest(ev);
    check(ev->identifiers_count == 0 ? best == -1 : best >= 0 && best < ev->identifiers_count,
          "strongest identifier");
    struct cdp_id h = cdp_hash_string(ev->message_id);
    check(cdp_hash_compare(&h, &ev->message) == 0, "message hash");
}

/* The two trees of one line must read the same. */
static void
compare_outcomes(const struct outcome *a, const struct outcome *b)
{
    check(a->status == b->status, "same status from cdp_event_parse and json_loadb");
    check(same_text(a->warnings.data, b->warnings.data), "same warnings");
    if (a->status != CDP_EVENT_OK)
        return;
    const struct cdp_event *x = &a->ev, *y = &b->ev;
    check(x->type == y->type, "same type");
    check(same_text(x->name, y->name), "same name");
    check(x->time == y->time && x->time_from_import == y->time_from_import, "same time");
    check(same_text(x->message_id, y->message_id) &&
              x->message_generated == y->message_generated,
          "same message id");
    check(same_text(x->previous_id, y->previous_id), "same previous id");
    check(x->identifiers_count == y->identifiers_count, "same identifier count");
    for (int i = 0; i < x->identifiers_count && i < y->identifiers_count; i++)
        check(strcmp(x->identifiers[i], y->identifiers[i]) == 0, "same identifiers");
    check((x->traits == NULL) == (y->traits == NULL), "same traits");
    check((x->context_traits == NULL) == (y->context_traits == NULL), "same context traits");
    check((x->properties == NULL) == (y->properties == NULL), "same properties");
}

/* Reads one line the way cdp-ingest does, and the plain way, and compares. */
static void
read_event(const char *line, size_t len, const struct cdp_event_options *options)
{
    const char *why = NULL;
    size_t column = 0;

    (void)cdp_input_blank(line, len);
    if (!cdp_input_precheck(line, len, CDP_INPUT_DEFAULT_MAX_DEPTH, &why, &column)) {
        check(why != NULL && column >= 1 && column <= len + 1, "precheck reason and column");
        return;
    }
    /* jansson stops at a NUL byte and ignores what follows; the scanner does not. */
    json_error_t error;
    json_t *whole = NULL;
    if (memchr(line, '\0', len) == NULL)
        whole = json_loadb(line, len, JSON_DECODE_ANY, &error);

    why = NULL;
    column = 0;
    bool scanned = cdp_jsonscan_check(line, len, CDP_INPUT_DEFAULT_MAX_DEPTH, &column, &why);
    if (!scanned) {
        check(why != NULL && column >= 1 && column <= len + 1, "scanner reason and column");
        check(whole == NULL, "a line jansson reads passes cdp_jsonscan_check");
        json_decref(whole);
        return;
    }

    /* The members the scanner finds, each a valid JSON value when the line is. */
    struct cdp_json_member members[32];
    int n = cdp_jsonscan_members(line, len, members, 32);
    check(json_is_object(whole) ? n >= 0 : (whole == NULL || n == -1), "member count");
    for (int i = 0; i < n && i < 32; i++) {
        check(members[i].key >= line && members[i].key + members[i].key_len <= line + len,
              "member key inside the line");
        check(members[i].value >= line && members[i].value + members[i].value_len <= line + len,
              "member value inside the line");
        if (whole != NULL) {
            json_t *v = json_loadb(members[i].value, members[i].value_len, JSON_DECODE_ANY, NULL);
            check(v != NULL, "a member value is valid JSON");
            json_decref(v);
        }
    }

    json_t *parsed = cdp_event_parse(line, len);
    if (whole != NULL)
        check(parsed != NULL, "cdp_event_parse reads what jansson reads");
    struct outcome a, b;
    if (parsed != NULL) {
        read_tree(parsed, options, &a);
        check_outcome(&a);
    }
    if (whole != NULL) {
        read_tree(whole, options, &b);
        check_outcome(&b);
        if (parsed != NULL) {
            compare_outcomes(&a, &b);
        }
        cdp_buf_free(&b.warnings);
    }
    if (parsed != NULL)
        cdp_buf_free(&a.warnings);
    json_decref(parsed);
    json_decref(whole);
}

/* Runs the bytes through the line reader and checks the lines it returns. */
static void
read_lines(const uint8_t *data, size_t size, size_t max_line)
{
    if (memfd < 0 || ftruncate(memfd, 0) != 0 || lseek(memfd, 0, SEEK_SET) != 0)
        return;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(memfd, data + done, size - done);
        if (n <= 0)
            return;
        done += (size_t)n;
    }
    if (lseek(memfd, 0, SEEK_SET) != 0)
        return;

    struct cdp_lines lines;
    const char *line;
    size_t len, total = 0;
    bool too_long;
    cdp_lines_init(&lines, memfd, max_line);
    while (cdp_lines_next(&lines, &line, &len, &too_long)) {
        check(lines.lineno <= (uint64_t)size, "line count");
        if (too_long) {
            check(len <= sizeof lines.excerpt, "excerpt length");
        } else {
            check(len <= max_line, "line length");
            check(memchr(line, '\n', len) == NULL, "no newline inside a line");
        }
        total += len;
        check(total <= size, "lines fit in the input");
    }
    check(lines.error == 0, "read error");
    cdp_lines_free(&lines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct cdp_event_options option_sets[] = {
        {"FR", NULL},
        {"FR", "%d/%m/%Y %H:%M"},
        {"FR", "%d/%m/%Y"},
        {NULL, "%Y-%m-%d %H:%M:%S"},
        {"FR", NULL},
        {"US", "%m/%d/%Y %I:%M %p"},
    };
    const struct cdp_event_options *options =
        &option_sets[size % (sizeof option_sets / sizeof option_sets[0])];

    read_event((const char *)data, size, options);
    read_lines(data, size, 64);
    return 0;
}
