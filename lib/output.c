/*
 * output.c - profiles as NDJSON or CSV on stdout.
 */
#include "output.h"
#include "cli.h"
#include "consent.h"
#include "predicted.h"
#include "event.h"
#include "jsonscan.h"
#include "view.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cdp_output_init(struct cdp_output *o)
{
    memset(o, 0, sizeof *o);
    o->header = true;
    o->delimiter = ',';
    o->escape = true;
}

bool
cdp_output_set_format(struct cdp_output *o, const char *format)
{
    if (strcmp(format, "csv") == 0)
        o->csv = true;
    else if (strcmp(format, "ndjson") == 0)
        o->csv = false;
    else
        return false;
    return true;
}

bool
cdp_output_set_delimiter(struct cdp_output *o, const char *arg)
{
    if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
        o->delimiter = '\t';
    else if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n' && arg[0] != '\r')
        o->delimiter = arg[0];
    else
        return false;
    return true;
}

static bool direct_field(const char *path);

bool
cdp_output_set_fields(struct cdp_output *o, const char *list)
{
    for (size_t i = 0; i < o->nfields; i++)
        free(o->fields[i]);
    o->nfields = 0;
    char *copy = cdp_xstrdup(list), *save = NULL;
    for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        o->fields = cdp_xrealloc(o->fields, (o->nfields + 1) * sizeof *o->fields);
        o->fields[o->nfields++] = cdp_xstrdup(f);
    }
    free(copy);
    o->direct = true;
    o->wants_consent = false;
    free(o->kinds);
    o->kinds = cdp_xmalloc((o->nfields ? o->nfields : 1) * sizeof *o->kinds);
    for (size_t i = 0; i < o->nfields; i++) {
        const char *f = o->fields[i];
        o->kinds[i] = strcmp(f, "id") == 0               ? -1
                      : strcmp(f, "identifiers") == 0    ? -2
                      : strncmp(f, "traits.", 7) == 0    ? -3
                      : strncmp(f, "computed.", 9) == 0  ? cdp_view_computed_index(f + 9)
                                                         : cdp_view_computed_index(f);
        o->direct = o->direct && direct_field(o->fields[i]);
        o->wants_consent = o->wants_consent || strncmp(o->fields[i], "consent", 7) == 0 ||
                           strncmp(o->fields[i], "predicted", 9) == 0;
    }
    return o->nfields > 0;
}

static void
flush_line(struct cdp_output *o)
{
    FILE *f = o->file ? o->file : stdout;
    if (fwrite(o->line.data, 1, o->line.len, f) != o->line.len) {
        if (f == stdout)
            cdp_cli_stdout_failed();
        cdp_cli_die(CDP_EXIT_FAILURE, "write error: %s", strerror(errno));
    }
    cdp_buf_reset(&o->line);
}

/*
 * Spreadsheet safety: a cell that starts with = + - @, a tab or a carriage
 * return would be run as a formula by a spreadsheet, so it gets a leading
 * single quote (the usual defence; --raw turns it off for machines).  A
 * plain number such as -2 or +33612345678 is left as it is.
 */
static bool escape_formulas;

/* "-2", "+33612345678", "1.5e3": a number, which a spreadsheet reads as one, not a formula. */
static bool
plain_number(const char *s)
{
    const char *p = s + (*s == '+' || *s == '-');
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p) || *p == '.')
        p++;
    if ((*p == 'e' || *p == 'E') && (isdigit((unsigned char)p[1]) ||
                                     ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char)p[2])))) {
        p += 2;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/*
 * Turns out[mark..len), the text of one cell, into its CSV form in place:
 * the ' before a formula, then double quotes around it (inner quotes
 * doubled) when it holds the delimiter, a quote or a line break.  The text
 * is rewritten from its end, so nothing moves when it needs no change.
 */
static void
csv_finish(struct cdp_buf *out, size_t mark, char delimiter)
{
    size_t n = out->len - mark;
    if (n == 0)
        return;
    const char *s = out->data + mark; /* NUL-terminated: the cell ends the buffer */
    bool formula = escape_formulas &&
                   (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                    s[0] == '\r') &&
                   !plain_number(s);
    static const bool quoted[256] = {['"'] = true, ['\n'] = true, ['\r'] = true};
    bool quote = false;
    for (size_t i = 0; i < n; i++)
        quote |= quoted[(unsigned char)s[i]] | (s[i] == delimiter);
    if (!formula && !quote)
        return;
    size_t quotes = 0;
    for (size_t i = 0; i < n; i++)
        quotes += s[i] == '"';
    size_t extra = (formula ? 1 : 0) + (quote ? 2 + quotes : 0);
    cdp_buf_reserve(out, extra);
    char *d = out->data + mark;
    size_t w = n + extra;
    if (quote)
        d[--w] = '"';
    for (size_t i = n; i-- > 0;) {
        char c = d[i];
        d[--w] = c;
        if (c == '"')
            d[--w] = '"';
    }
    if (formula)
        d[--w] = '\'';
    if (quote)
        d[--w] = '"';
    cdp_buf_commit(out, extra);
}

/* A CSV cell, quoted when it holds the delimiter, a quote or a line break. */
static void
csv_cell(struct cdp_buf *out, const char *s, char delimiter)
{
    size_t mark = out->len;
    cdp_buf_puts(out, s);
    csv_finish(out, mark, delimiter);
}

/* The text of a field of the profile object for a CSV cell: empty for null. */
static void
csv_value(struct cdp_buf *out, json_t *profile, const char *path, char delimiter)
{
    json_t *v = cdp_json_path(profile, path);
    if (v == NULL || json_is_null(v))
        return;
    if (json_is_string(v)) {
        csv_cell(out, json_string_value(v), delimiter);
    } else if (strcmp(path, "identifiers") == 0) {
        struct cdp_buf joined = CDP_BUF_INIT;
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (i)
                cdp_buf_putc(&joined, ' ');
            cdp_buf_puts(&joined, json_string_value(item));
        }
        csv_cell(out, joined.data ? joined.data : "", delimiter);
        cdp_buf_free(&joined);
    } else {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        csv_cell(out, text ? text : "", delimiter);
        free(text);
    }
}

/* ---- CSV cells read straight from the profile record ---- */

/*
 * The fields that can be read without building the profile object: id,
 * identifiers, first_seen, last_seen, computed.NAME and traits.NAME.  When
 * every field is one of them (and there is no consent to show), a CSV row
 * costs no JSON at all, which is what makes a million rows a second.
 */
static bool
direct_field(const char *path)
{
    if (strcmp(path, "id") == 0 || strcmp(path, "identifiers") == 0 ||
        strcmp(path, "first_seen") == 0 || strcmp(path, "last_seen") == 0)
        return true;
    if (strncmp(path, "traits.", 7) == 0)
        return path[7] != '\0' && strchr(path + 7, '.') == NULL;
    if (strncmp(path, "computed.", 9) == 0)
        return cdp_view_computed_text(NULL, path + 9, NULL) &&
               strcmp(path + 9, "preferred_payment_method") != 0 &&
               strcmp(path + 9, "top_category") != 0;
    return false;
}

/* The cell text of a trait: a string as it is, anything else as compact JSON. */
static void
trait_text(struct cdp_profile *p, const char *name, struct cdp_buf *cell)
{
    cdp_profile_load(p);
    json_t *v = json_array_get(json_object_get(p->traits, name), 0);
    if (v == NULL || json_is_null(v))
        return;
    if (json_is_string(v)) {
        cdp_buf_append(cell, json_string_value(v), json_string_length(v));
        return;
    }
    char small[64];
    size_t n = json_dumpb(v, small, sizeof small,
                          JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (n > 0 && n <= sizeof small) {
        cdp_buf_append(cell, small, n);
        return;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (text)
        cdp_buf_puts(cell, text);
    free(text);
}

static void
direct_cell(struct cdp_profile *p, const char *path, struct cdp_buf *cell)
{
    cdp_buf_reset(cell);
    if (strcmp(path, "id") == 0) {
        char hex[CDP_ID_HEX_SIZE];
        cdp_hash_to_hex(&p->id, hex);
        cdp_buf_puts(cell, hex);
    } else if (strcmp(path, "identifiers") == 0) {
        for (size_t i = 0; i < p->identifiers.len; i++)
            cdp_buf_putc(cell, p->identifiers.data[i] ? p->identifiers.data[i] : ' ');
        if (cell->len)
            cdp_buf_truncate(cell, cell->len - 1);
    } else if (strncmp(path, "traits.", 7) == 0) {
        trait_text(p, path + 7, cell);
    } else {
        cdp_view_computed_text(p, strncmp(path, "computed.", 9) == 0 ? path + 9 : path, cell);
    }
}

/*
 * The fastest path: a CSV row made from the record's bytes as LMDB gives
 * them, with no copy of its sections and no JSON tree.  Traits are found
 * with the scanner; a trait value that is not a plain string (an escape, a
 * number, an array) is read with the JSON parser.
 */
static bool
record_sections(const void *data, size_t len, struct cdp_profile_head *head, const char **ids,
                size_t *ids_len, const char **traits, size_t *traits_len)
{
    const unsigned char *p = data, *end = p + len;
    uint32_t n;
    if (!cdp_profile_decode_head(head, data, len))
        return false;
    p += sizeof *head;
    if ((size_t)(end - p) < 4)
        return false;
    memcpy(&n, p, 4);
    p += 4;
    if ((size_t)(end - p) < n)
        return false;
    *ids = (const char *)p;
    *ids_len = n;
    p += n;
    if ((size_t)(end - p) < 4)
        return false;
    memcpy(&n, p, 4);
    p += 4;
    if ((size_t)(end - p) < n)
        return false;
    *traits = (const char *)p;
    *traits_len = n;
    return true;
}

/* Appends the first element of a trait's [value, time, source] array text as cell text. */
static void
trait_value_text(const char *v, size_t len, struct cdp_buf *cell)
{
    if (len >= 2 && v[0] == '[' && v[1] == '"') {
        const char *s = v + 2, *end = v + len;
        const char *q = s;
        while (q < end && *q != '"' && *q != '\\')
            q++;
        if (q < end && *q == '"') {
            cdp_buf_append(cell, s, (size_t)(q - s));
            return;
        }
    }
    json_t *arr = json_loadb(v, len, 0, NULL);
    json_t *x = json_array_get(arr, 0);
    if (json_is_string(x)) {
        cdp_buf_append(cell, json_string_value(x), json_string_length(x));
    } else if (x != NULL && !json_is_null(x)) {
        char *text = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        if (text)
            cdp_buf_puts(cell, text);
        free(text);
    }
    json_decref(arr);
}

bool
cdp_output_record(struct cdp_output *o, const struct cdp_id *id, const void *data, size_t len)
{
    const char *ids, *traits;
    size_t ids_len, traits_len;
    struct cdp_json_member members[64];
    int nmembers = -2;
    /* Only its head is set: the computed fields direct_field() accepts read nothing else. */
    struct cdp_profile computed;
    if (!record_sections(data, len, &computed.head, &ids, &ids_len, &traits, &traits_len))
        return false;
    escape_formulas = o->escape;
    /* Each cell is written at the end of the line, then quoted there if it must be. */
    for (size_t i = 0; i < o->nfields; i++) {
        const char *path = o->fields[i];
        if (i)
            cdp_buf_putc(&o->line, o->delimiter);
        size_t mark = o->line.len;
        int kind = o->kinds[i];
        if (kind == -3) {
            if (nmembers == -2)
                nmembers = traits_len ? cdp_jsonscan_members(traits, traits_len, members, 64) : 0;
            if (nmembers > 64) {
                /* Too many traits to scan here: the parser reads them. */
                struct cdp_profile p;
                if (cdp_profile_decode(&p, id, data, len))
                    trait_text(&p, path + 7, &o->line);
                cdp_profile_free(&p);
            } else {
                for (int m = 0; m < nmembers; m++)
                    if (cdp_jsonscan_key_is(&members[m], path + 7)) {
                        trait_value_text(members[m].value, members[m].value_len, &o->line);
                        break;
                    }
            }
        } else if (kind == -1) {
            cdp_hash_to_hex(id, cdp_buf_reserve(&o->line, CDP_ID_HEX_SIZE));
            cdp_buf_commit(&o->line, CDP_ID_HEX_SIZE - 1);
        } else if (kind == -2) {
            if (ids_len) {
                char *w = cdp_buf_reserve(&o->line, ids_len);
                for (size_t k = 0; k < ids_len; k++)
                    w[k] = ids[k] ? ids[k] : ' ';
                cdp_buf_commit(&o->line, ids_len - 1); /* the last NUL is not a separator */
            }
        } else {
            cdp_view_computed_text_at(&computed, kind, &o->line);
        }
        csv_finish(&o->line, mark, o->delimiter);
    }
    cdp_buf_append(&o->line, "\r\n", 2);
    /* Rows go out in blocks: one write per row would cost more than the row. */
    if (o->line.len >= 65536)
        flush_line(o);
    return true;
}

void
cdp_output_flush(struct cdp_output *o)
{
    if (o->line.len)
        flush_line(o);
}

void
cdp_output_begin(struct cdp_output *o)
{
    if (!o->csv || !o->header)
        return;
    if (o->tag_name) {
        csv_cell(&o->line, o->tag_name, o->delimiter);
        cdp_buf_putc(&o->line, o->delimiter);
    }
    for (size_t i = 0; i < o->nfields; i++) {
        if (i)
            cdp_buf_putc(&o->line, o->delimiter);
        csv_cell(&o->line, o->fields[i], o->delimiter);
    }
    cdp_buf_puts(&o->line, "\r\n");
    flush_line(o);
}

static void
csv_row(struct cdp_output *o, json_t *obj, const char *tag)
{
    escape_formulas = o->escape;
    if (o->tag_name) {
        csv_cell(&o->line, tag ? tag : "", o->delimiter);
        cdp_buf_putc(&o->line, o->delimiter);
    }
    for (size_t i = 0; i < o->nfields; i++) {
        if (i)
            cdp_buf_putc(&o->line, o->delimiter);
        csv_value(&o->line, obj, o->fields[i], o->delimiter);
    }
    cdp_buf_puts(&o->line, "\r\n");
    flush_line(o);
}

/* {"NAME":"TAG", as the start of a tagged NDJSON record. */
static void
open_tagged(struct cdp_output *o, const char *tag)
{
    cdp_buf_putc(&o->line, '{');
    cdp_view_string(&o->line, o->tag_name, strlen(o->tag_name));
    cdp_buf_putc(&o->line, ':');
    cdp_view_string(&o->line, tag ? tag : "", tag ? strlen(tag) : 0);
    cdp_buf_putc(&o->line, ',');
}

/*
 * The profile object's members read from the store's other databases, when
 * a store is at hand: consent, and the prediction when there is one.
 */
static const char *
extra_members(struct cdp_output *o, struct cdp_profile *p)
{
    if (o->store == NULL || o->txn == NULL)
        return NULL;
    cdp_buf_reset(&o->members);
    cdp_buf_puts(&o->members, "\"consent\":");
    int rc = cdp_consent_view(o->store, o->txn, &p->id, o->now, &o->members);
    if (rc != 0 && o->error == 0)
        o->error = rc;
    struct cdp_predicted predicted;
    rc = cdp_predicted_get(o->store, o->txn, &p->id, &predicted);
    if (rc == 0) {
        cdp_buf_puts(&o->members, ",\"predicted\":");
        cdp_predicted_view(&predicted, &o->members);
    } else if (rc != MDB_NOTFOUND && o->error == 0) {
        o->error = rc;
    }
    return o->members.data;
}

json_t *
cdp_output_profile_json(struct cdp_output *o, struct cdp_profile *p)
{
    const char *members = extra_members(o, p);
    struct cdp_buf text = CDP_BUF_INIT;
    cdp_view_profile_with(p, members, &text);
    json_t *obj = json_loadb(text.data, text.len, 0, NULL);
    cdp_buf_free(&text);
    return obj;
}

void
cdp_output_profile(struct cdp_output *o, struct cdp_profile *p, const char *tag)
{
    if (o->csv && o->direct && (o->store == NULL || !o->wants_consent)) {
        escape_formulas = o->escape;
        if (o->tag_name) {
            csv_cell(&o->line, tag ? tag : "", o->delimiter);
            cdp_buf_putc(&o->line, o->delimiter);
        }
        for (size_t i = 0; i < o->nfields; i++) {
            if (i)
                cdp_buf_putc(&o->line, o->delimiter);
            direct_cell(p, o->fields[i], &o->cell);
            if (o->cell.len)
                csv_cell(&o->line, o->cell.data, o->delimiter);
        }
        cdp_buf_puts(&o->line, "\r\n");
        flush_line(o);
        return;
    }
    if (o->csv) {
        json_t *obj = cdp_output_profile_json(o, p);
        csv_row(o, obj, tag);
        json_decref(obj);
        return;
    }
    const char *members = extra_members(o, p);
    if (o->tag_name) {
        open_tagged(o, tag);
        size_t start = o->line.len;
        cdp_view_profile_with(p, members, &o->line);
        /* Drop the view's opening brace: the tag opened the object. */
        memmove(o->line.data + start, o->line.data + start + 1, o->line.len - start - 1);
        cdp_buf_truncate(&o->line, o->line.len - 1);
    } else {
        cdp_view_profile_with(p, members, &o->line);
    }
    cdp_buf_putc(&o->line, '\n');
    flush_line(o);
}

void
cdp_output_json(struct cdp_output *o, json_t *profile, const char *text, size_t len,
                const char *tag)
{
    if (o->csv) {
        csv_row(o, profile, tag);
        return;
    }
    cdp_buf_append(&o->line, text, len);
    cdp_buf_putc(&o->line, '\n');
    flush_line(o);
}

void
cdp_output_id_only(struct cdp_output *o, const char *id_hex, const char *tag)
{
    if (o->csv) {
        json_t *obj = json_pack("{ss}", "id", id_hex);
        csv_row(o, obj, tag);
        json_decref(obj);
        return;
    }
    if (o->tag_name)
        open_tagged(o, tag);
    else
        cdp_buf_putc(&o->line, '{');
    cdp_buf_printf(&o->line, "\"id\":\"%s\"}\n", id_hex);
    flush_line(o);
}

void
cdp_output_free(struct cdp_output *o)
{
    for (size_t i = 0; i < o->nfields; i++)
        free(o->fields[i]);
    free(o->fields);
    cdp_buf_free(&o->line);
    cdp_buf_free(&o->members);
    cdp_buf_free(&o->cell);
    free(o->kinds);
}
