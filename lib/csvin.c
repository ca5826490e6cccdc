/*
 * csvin.c - CSV rows into Segment-shaped events, with libcsv.
 */
#include "csvin.h"
#include "buf.h"
#include "normalize.h"

#include <csv.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum target_kind {
    T_SKIP,
    T_TOP,      /* userId, anonymousId, messageId, timestamp, event */
    T_PERSON,   /* a trait of the person: email, phone, firstName... */
    T_TRAIT,    /* traits.x */
    T_PROPERTY, /* properties.x */
    T_CONTEXT,  /* context.x */
    T_EXTERNAL, /* --id kind=Column */
    T_CONSENT,  /* consent.PURPOSE[.expires|.proof|.channel] */
};

struct column {
    char *header;
    enum target_kind kind;
    char *name;           /* the field within its target */
    bool explicit_target; /* set by --map */
};

struct cdp_csvin {
    struct cdp_csvin_options options;
    struct csv_parser parser;
    cdp_csvin_row_fn fn;
    void *ctx;
    struct column *columns;
    size_t ncolumns;
    bool have_header;
    char **fields; /* fields of the current row */
    size_t nfields, capfields;
    uint64_t row_line; /* line where the current row began */
    uint64_t line;     /* line being fed */
    bool in_row;
    int stop;
    char header_error[200];
};

/* Header names folded to lower-case ASCII letters and digits, accents dropped. */
static void
fold_header(const char *s, char *out, size_t size)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n + 1 < size) {
        unsigned char c = *p;
        if (c < 0x80) {
            if (isalnum(c))
                out[n++] = (char)tolower(c);
            p++;
            continue;
        }
        /* Latin-1 Supplement letters in UTF-8 (C3 xx): fold the common accents. */
        if (c == 0xc3 && p[1]) {
            unsigned char d = p[1] | 0x20; /* upper to lower: C3 80-9E -> A0-BE */
            char base = 0;
            if (d >= 0xa0 && d <= 0xa5)
                base = 'a';
            else if (d == 0xa7)
                base = 'c';
            else if (d >= 0xa8 && d <= 0xab)
                base = 'e';
            else if (d >= 0xac && d <= 0xaf)
                base = 'i';
            else if (d == 0xb1)
                base = 'n';
            else if ((d >= 0xb2 && d <= 0xb6) || d == 0xb8)
                base = 'o';
            else if (d >= 0xb9 && d <= 0xbc)
                base = 'u';
            else if (d == 0xbd || d == 0xbf)
                base = 'y';
            if (base)
                out[n++] = base;
            p += 2;
            continue;
        }
        p++;
    }
    out[n] = '\0';
}

static const struct {
    const char *folded;
    const char *target;
} guesses[] = {
    {"email", "email"},
    {"mail", "email"},
    {"courriel", "email"},
    {"emailaddress", "email"},
    {"adresseemail", "email"},
    {"adressemail", "email"},
    {"adressee-mail", "email"},
    {"phone", "phone"},
    {"phonenumber", "phone"},
    {"telephone", "phone"},
    {"tel", "phone"},
    {"mobile", "phone"},
    {"portable", "phone"},
    {"numerodetelephone", "phone"},
    {"mobilephone", "phone"},
    {"firstname", "firstName"},
    {"prenom", "firstName"},
    {"givenname", "firstName"},
    {"lastname", "lastName"},
    {"nom", "lastName"},
    {"surname", "lastName"},
    {"familyname", "lastName"},
    {"nomdefamille", "lastName"},
    {"userid", "userId"},
    {"anonymousid", "anonymousId"},
    {"messageid", "messageId"},
    {"timestamp", "timestamp"},
    {"date", "timestamp"},
    {"createdat", "timestamp"},
    {"datedecreation", "timestamp"},
    {"orderdate", "timestamp"},
    {"datedecommande", "timestamp"},
    {"event", "event"},
    {"city", "city"},
    {"ville", "city"},
    {"zip", "postalCode"},
    {"zipcode", "postalCode"},
    {"postcode", "postalCode"},
    {"postalcode", "postalCode"},
    {"codepostal", "postalCode"},
    {"country", "country"},
    {"pays", "country"},
    {"birthday", "birthday"},
    {"dateofbirth", "birthday"},
    {"datedenaissance", "birthday"},
    {"gender", "gender"},
    {"sexe", "gender"},
    {"company", "company"},
    {"societe", "company"},
    {"entreprise", "company"},
    {"title", "title"},
    {"jobtitle", "title"},
    {"poste", "title"},
    {"orderid", "order_id"},
    {"numerodecommande", "order_id"},
    {"total", "total"},
    {"montant", "total"},
    {"amount", "total"},
    {"revenue", "revenue"},
    {"currency", "currency"},
    {"devise", "currency"},
    {"paymentmethod", "payment_method"},
    {"moyendepaiement", "payment_method"},
    {"category", "category"},
    {"categorie", "category"},
};

const char *
cdp_csvin_guess(const char *header)
{
    char folded[128];
    fold_header(header, folded, sizeof folded);
    for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++)
        if (strcmp(folded, guesses[i].folded) == 0)
            return guesses[i].target;
    return NULL;
}

static bool
is_person_field(const char *name)
{
    static const char *const person[] = {"email",  "phone",      "firstName", "lastName",
                                         "city",   "postalCode", "country",   "birthday",
                                         "gender", "company",    "title"};
    for (size_t i = 0; i < sizeof person / sizeof person[0]; i++)
        if (strcmp(name, person[i]) == 0)
            return true;
    return false;
}

/* Sets a column's target from a field name as given to --map or guessed. */
static void
set_target(struct column *col, const char *field)
{
    free(col->name);
    if (strcmp(field, "userId") == 0 || strcmp(field, "anonymousId") == 0 ||
        strcmp(field, "messageId") == 0 || strcmp(field, "timestamp") == 0 ||
        strcmp(field, "event") == 0) {
        col->kind = T_TOP;
        col->name = cdp_xstrdup(field);
    } else if (strncmp(field, "traits.", 7) == 0) {
        col->kind = T_TRAIT;
        col->name = cdp_xstrdup(field + 7);
    } else if (strncmp(field, "properties.", 11) == 0) {
        col->kind = T_PROPERTY;
        col->name = cdp_xstrdup(field + 11);
    } else if (strncmp(field, "consent.", 8) == 0 && field[8] != '\0') {
        col->kind = T_CONSENT;
        col->name = cdp_xstrdup(field + 8);
    } else if (strncmp(field, "context.", 8) == 0) {
        col->kind = T_CONTEXT;
        col->name = cdp_xstrdup(field + 8);
    } else if (strcmp(field, "-") == 0 || strcmp(field, "skip") == 0) {
        col->kind = T_SKIP;
        col->name = NULL;
    } else if (is_person_field(field)) {
        col->kind = T_PERSON;
        col->name = cdp_xstrdup(field);
    } else {
        col->kind = T_PROPERTY; /* resolved to a trait for identify rows */
        col->name = cdp_xstrdup(field);
    }
}

static struct column *
find_column(struct cdp_csvin *in, const char *header)
{
    for (size_t i = 0; i < in->ncolumns; i++)
        if (strcmp(in->columns[i].header, header) == 0)
            return &in->columns[i];
    return NULL;
}

/* Applies --map and --id to the header; false with a message when a column is missing. */
static bool
apply_mapping(struct cdp_csvin *in)
{
    for (size_t i = 0; i < in->ncolumns; i++) {
        const char *guess = cdp_csvin_guess(in->columns[i].header);
        set_target(&in->columns[i], guess ? guess : in->columns[i].header);
        if (!guess && in->columns[i].kind == T_PERSON)
            in->columns[i].kind = T_PROPERTY; /* an own name that happens to match */
    }
    if (in->options.map) {
        char *copy = cdp_xstrdup(in->options.map), *save = NULL;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(item, '=');
            *eq = '\0';
            struct column *col = find_column(in, eq + 1);
            if (col == NULL) {
                snprintf(in->header_error, sizeof in->header_error,
                         "--map %s=%s: no column '%s' in the header", item, eq + 1, eq + 1);
                free(copy);
                return false;
            }
            set_target(col, item);
            col->explicit_target = true;
        }
        free(copy);
        /* A guessed column gives way to a column mapped to the same field. */
        for (size_t i = 0; i < in->ncolumns; i++) {
            struct column *col = &in->columns[i];
            if (col->explicit_target || col->name == NULL)
                continue;
            for (size_t j = 0; j < in->ncolumns; j++) {
                struct column *other = &in->columns[j];
                if (other->explicit_target && other->kind == col->kind && other->name &&
                    strcmp(other->name, col->name) == 0) {
                    set_target(col, col->header);
                    if (col->kind == T_PERSON || col->kind == T_TOP)
                        col->kind = T_PROPERTY;
                    break;
                }
            }
        }
    }
    for (size_t k = 0; in->options.ids && in->options.ids[k]; k++) {
        const char *spec = in->options.ids[k], *eq = strchr(spec, '=');
        struct column *col = find_column(in, eq + 1);
        if (col == NULL) {
            snprintf(in->header_error, sizeof in->header_error,
                     "--id %s: no column '%s' in the header", spec, eq + 1);
            return false;
        }
        free(col->name);
        col->kind = T_EXTERNAL;
        col->name = cdp_xmalloc((size_t)(eq - spec) + 1);
        memcpy(col->name, spec, (size_t)(eq - spec));
        col->name[eq - spec] = '\0';
    }
    return true;
}

static json_t *
child(json_t *parent, const char *name)
{
    json_t *c = json_object_get(parent, name);
    if (c == NULL) {
        c = json_object();
        json_object_set_new(parent, name, c);
    }
    return c;
}

/*
 * The event of the current row, or NULL with the reason when a field is not
 * UTF-8 (an export saved in Latin-1, say: convert it with iconv first).
 */
static json_t *
build_event(struct cdp_csvin *in, char *reason, size_t size)
{
    for (size_t i = 0; i < in->nfields && i < in->ncolumns; i++) {
        if (!cdp_normalize_utf8_valid(in->fields[i], strlen(in->fields[i]))) {
            snprintf(reason, size,
                     "column '%.60s' is not UTF-8 (convert the file, e.g. iconv -f latin1 "
                     "-t utf-8)",
                     in->columns[i].header);
            return NULL;
        }
    }
    bool track = strcmp(in->options.type, "track") == 0;
    json_t *ev = json_object();
    json_object_set_new(ev, "type", json_string(track ? "track" : "identify"));
    if (track && in->options.event)
        json_object_set_new(ev, "event", json_string(in->options.event));
    for (size_t i = 0; i < in->nfields && i < in->ncolumns; i++) {
        const struct column *col = &in->columns[i];
        const char *value = in->fields[i];
        if (value[0] == '\0' || col->kind == T_SKIP)
            continue;
        json_t *v = json_string(value);
        switch (col->kind) {
        case T_TOP:
            json_object_set_new(ev, col->name, v);
            break;
        case T_PERSON:
            json_object_set_new(track ? child(child(ev, "context"), "traits") : child(ev, "traits"),
                                col->name, v);
            break;
        case T_TRAIT:
            json_object_set_new(track ? child(child(ev, "context"), "traits") : child(ev, "traits"),
                                col->name, v);
            break;
        case T_PROPERTY:
            json_object_set_new(child(ev, track ? "properties" : "traits"), col->name, v);
            break;
        case T_CONTEXT:
            json_object_set_new(child(ev, "context"), col->name, v);
            break;
        case T_CONSENT: {
            /* context.consent.purposes.PURPOSE = {"status": ..., "expires": ...} */
            json_t *purposes = child(child(child(ev, "context"), "consent"), "purposes");
            const char *dot = strchr(col->name, '.');
            char purpose[80];
            size_t n = dot ? (size_t)(dot - col->name) : strlen(col->name);
            snprintf(purpose, sizeof purpose, "%.*s", (int)(n < 79 ? n : 79), col->name);
            json_object_set_new(child(purposes, purpose), dot ? dot + 1 : "status", v);
            break;
        }
        case T_EXTERNAL: {
            json_t *ctx = child(ev, "context"), *list = json_object_get(ctx, "externalIds");
            if (list == NULL) {
                list = json_array();
                json_object_set_new(ctx, "externalIds", list);
            }
            json_t *item = json_object();
            json_object_set_new(item, "id", v);
            json_object_set_new(item, "type", json_string(col->name));
            json_array_append_new(list, item);
            break;
        }
        case T_SKIP:
            json_decref(v);
            break;
        }
    }
    return ev;
}

static void
field_cb(void *data, size_t len, void *ctx)
{
    struct cdp_csvin *in = ctx;
    if (!in->in_row) {
        in->in_row = true;
        in->row_line = in->line;
    }
    if (in->nfields == in->capfields) {
        in->capfields = in->capfields ? in->capfields * 2 : 16;
        in->fields = cdp_xrealloc(in->fields, in->capfields * sizeof *in->fields);
    }
    char *s = cdp_xmalloc(len + 1);
    memcpy(s, data ? data : "", len);
    s[len] = '\0';
    in->fields[in->nfields++] = s;
}

static void
clear_fields(struct cdp_csvin *in)
{
    for (size_t i = 0; i < in->nfields; i++)
        free(in->fields[i]);
    in->nfields = 0;
    in->in_row = false;
}

static void
row_cb(int c, void *ctx)
{
    struct cdp_csvin *in = ctx;
    (void)c;
    if (!in->in_row)
        in->row_line = in->line;
    if (in->stop != 0 || in->header_error[0]) {
        clear_fields(in);
        return;
    }
    if (!in->have_header) {
        in->columns = cdp_xcalloc(in->nfields ? in->nfields : 1, sizeof *in->columns);
        in->ncolumns = in->nfields;
        for (size_t i = 0; i < in->nfields; i++) {
            in->columns[i].header = in->fields[i];
            in->fields[i] = NULL;
        }
        in->nfields = 0;
        in->in_row = false;
        in->have_header = true;
        if (!apply_mapping(in))
            in->stop = -1;
        return;
    }
    if (in->nfields == 1 && in->fields[0][0] == '\0') {
        clear_fields(in); /* a blank line */
        return;
    }
    if (in->nfields > in->ncolumns) {
        char reason[120];
        snprintf(reason, sizeof reason, "%zu fields where the header has %zu", in->nfields,
                 in->ncolumns);
        in->stop = in->fn(NULL, in->row_line, reason, in->ctx);
    } else {
        char reason[160];
        json_t *event = build_event(in, reason, sizeof reason);
        in->stop = in->fn(event, in->row_line, event ? NULL : reason, in->ctx);
    }
    clear_fields(in);
}

struct cdp_csvin *
cdp_csvin_new(const struct cdp_csvin_options *options, cdp_csvin_row_fn fn, void *ctx, char *errbuf,
              size_t errsize)
{
    if (options->map) {
        char *copy = cdp_xstrdup(options->map), *save = NULL;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(item, '=');
            if (eq == NULL || eq == item || eq[1] == '\0') {
                snprintf(errbuf, errsize, "--map wants field=Column,..., not '%s'", item);
                free(copy);
                return NULL;
            }
        }
        free(copy);
    }
    for (size_t k = 0; options->ids && options->ids[k]; k++) {
        const char *eq = strchr(options->ids[k], '=');
        if (eq == NULL || eq == options->ids[k] || eq[1] == '\0') {
            snprintf(errbuf, errsize, "--id wants kind=Column, not '%s'", options->ids[k]);
            return NULL;
        }
    }
    struct cdp_csvin *in = cdp_xcalloc(1, sizeof *in);
    in->options = *options;
    if (in->options.type == NULL)
        in->options.type = "identify";
    in->fn = fn;
    in->ctx = ctx;
    if (csv_init(&in->parser, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
        snprintf(errbuf, errsize, "cannot start the CSV parser");
        free(in);
        return NULL;
    }
    csv_set_delim(&in->parser, (unsigned char)options->delimiter);
    return in;
}

static void
free_columns(struct cdp_csvin *in)
{
    for (size_t i = 0; i < in->ncolumns; i++) {
        free(in->columns[i].header);
        free(in->columns[i].name);
    }
    free(in->columns);
    in->columns = NULL;
    in->ncolumns = 0;
}

void
cdp_csvin_reset(struct cdp_csvin *in)
{
    csv_fini(&in->parser, field_cb, row_cb, in);
    clear_fields(in);
    free_columns(in);
    in->have_header = false;
    in->stop = 0;
    in->header_error[0] = '\0';
}

int
cdp_csvin_feed(struct cdp_csvin *in, const char *line, size_t len, uint64_t lineno, char *errbuf,
               size_t errsize)
{
    in->line = lineno;
    if (!in->have_header && !in->in_row && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
        line += 3; /* a byte order mark */
        len -= 3;
    }
    if (csv_parse(&in->parser, line, len, field_cb, row_cb, in) != len ||
        csv_parse(&in->parser, "\n", 1, field_cb, row_cb, in) != 1) {
        snprintf(errbuf, errsize, "CSV error: %s", csv_strerror(csv_error(&in->parser)));
        return -1;
    }
    if (in->header_error[0]) {
        snprintf(errbuf, errsize, "%s", in->header_error);
        return -1;
    }
    return in->stop;
}

int
cdp_csvin_finish(struct cdp_csvin *in, char *errbuf, size_t errsize)
{
    (void)errbuf;
    (void)errsize;
    /*
     * libcsv reports an unterminated quote only in strict mode, which would
     * also refuse stray quotes inside fields; look at its state instead.
     * State 2 is "field begun": inside a quoted field, the input ended.
     */
    if (in->parser.quoted && in->parser.pstate == 2) {
        uint64_t row_line = in->row_line;
        csv_free(&in->parser);
        csv_init(&in->parser, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
        csv_set_delim(&in->parser, (unsigned char)in->options.delimiter);
        clear_fields(in);
        if (!in->header_error[0] && in->have_header && in->stop == 0)
            in->stop = in->fn(NULL, row_line, "unclosed quote at the end of the input", in->ctx);
        return in->header_error[0] ? 0 : in->stop;
    }
    csv_fini(&in->parser, field_cb, row_cb, in);
    if (in->header_error[0])
        return 0; /* reported by cdp_csvin_feed() already */
    return in->stop;
}

void
cdp_csvin_free(struct cdp_csvin *in)
{
    if (in == NULL)
        return;
    csv_free(&in->parser);
    clear_fields(in);
    free(in->fields);
    free_columns(in);
    free(in);
}
