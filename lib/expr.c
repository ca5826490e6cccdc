/*
 * expr.c - the segment expression language: lexer, parser with type checks,
 * and evaluator.
 *
 * The parser builds a tree of nodes, each with the type it is known to have
 * (or "any" for values read from traits and events), folds constant
 * arithmetic such as "now - 90d", and compiles regular expressions, so that
 * evaluating a profile allocates nothing: values point into the profile's
 * record or its JSON.  Fields of the fixed profile head are read with no
 * parsing at all, which is what makes scans over computed fields fast.
 */
#include "expr.h"
#include "consent.h"
#include "predict.h"
#include "predicted.h"
#include "events.h"
#include "event.h"
#include "timeparse.h"
#include "view.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- values ---- */

enum vtype {
    VT_ANY, /* static type only: not known until evaluated */
    VT_NULL,
    VT_BOOL,
    VT_NUM,
    VT_STR,
    VT_TIME,
    VT_DUR,
    VT_LIST,
    VT_OBJ,
};

static const char *const type_names[] = {"a value", "null",     "a boolean", "a number", "a string",
                                         "a time",  "a duration", "a list",  "an object"};

struct node;

/*
 * A value during evaluation.  Lists come in three shapes: a JSON array, the
 * items of a literal list, or a profile's NUL-separated identifiers.
 */
struct value {
    enum vtype t;
    bool b;
    double n;
    int64_t ms; /* VT_TIME, VT_DUR */
    const char *s;
    size_t len;
    json_t *json;              /* VT_LIST (array) or VT_OBJ */
    struct node *const *items; /* VT_LIST: literal list */
    size_t nitems;
    const char *nulsep; /* VT_LIST: identifiers */
    size_t nulsep_len;
};

/* ---- nodes ---- */

enum nkind {
    N_LIT,
    N_LIST,
    N_FIELD,   /* a field of the profile */
    N_EVFIELD, /* a field of the event being looked at */
    N_AND,
    N_OR,
    N_NOT,
    N_CMP,
    N_ISNULL, /* x = null (op '=') or x != null (op '!') */
    N_ARITH,
    N_NEG,
    N_EXISTS,
    N_IN,
    N_STROP, /* contains, starts_with, ends_with */
    N_MATCH,
    N_EVFN,
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
enum str_op { SOP_CONTAINS, SOP_STARTS, SOP_ENDS };
enum ev_fn { FN_COUNT, FN_SUM, FN_AVG, FN_MIN, FN_MAX, FN_FIRST, FN_LAST, FN_EVER };

/* Fields of the profile. */
enum field {
    F_ID,
    F_IDENTIFIERS,
    F_FIRST_SEEN,
    F_LAST_SEEN,
    F_TRAITS,
    F_CONSENT,
    F_PREDICTED, /* the field's index in cdp_predicted_fields is in node.op */
    F_COMPUTED,  /* + enum computed */
};

enum computed {
    C_FIRST_SEEN,
    C_LAST_SEEN,
    C_EVENTS_COUNT,
    C_PAGE_VIEWS,
    C_VISITS,
    C_TIME_ON_SITE_S,
    C_EMAIL_OPENS,
    C_EMAIL_CLICKS,
    C_DOWNLOADS,
    C_SUPPORT_CONTACTS,
    C_ORDERS_COUNT,
    C_REVENUE_TOTAL,
    C_AVG_ORDER_VALUE,
    C_FIRST_ORDER_AT,
    C_LAST_ORDER_AT,
    C_PURCHASE_FREQUENCY,
    C_RETURNS_COUNT,
    C_ABANDONED_CARTS,
    C_PREFERRED_PAYMENT_METHOD,
    C_TOP_CATEGORY,
    C_COUNT
};

static const struct {
    const char *name;
    enum vtype type;
} computed_fields[C_COUNT] = {
    {"first_seen", VT_TIME},        {"last_seen", VT_TIME},
    {"events_count", VT_NUM},       {"page_views", VT_NUM},
    {"visits", VT_NUM},             {"time_on_site_s", VT_NUM},
    {"email_opens", VT_NUM},        {"email_clicks", VT_NUM},
    {"downloads", VT_NUM},          {"support_contacts", VT_NUM},
    {"orders_count", VT_NUM},       {"revenue_total", VT_NUM},
    {"avg_order_value", VT_NUM},    {"first_order_at", VT_TIME},
    {"last_order_at", VT_TIME},     {"purchase_frequency", VT_NUM},
    {"returns_count", VT_NUM},      {"abandoned_carts", VT_NUM},
    {"preferred_payment_method", VT_STR}, {"top_category", VT_STR},
};

/* Fields of an event. */
enum evfield { EF_EVENT, EF_TYPE, EF_SOURCE, EF_TIME, EF_MESSAGE_ID, EF_PATH };

struct node {
    enum nkind kind;
    enum vtype type; /* static type */
    size_t column;
    int op;
    struct node *a, *b;
    struct node **items; /* N_LIST */
    size_t nitems;
    struct value lit; /* N_LIT */
    char *text;       /* owned text of a string literal or of a path segment list */
    int field;        /* N_FIELD: enum field (+ computed); N_EVFIELD: enum evfield */
    char **path;      /* owned segments: traits path, consent purpose, event path */
    size_t npath;
    regex_t re; /* N_MATCH */
    bool has_re;
    /* N_EVFN */
    int fn;
    struct node *cond, *arg;
    bool has_within;
    int64_t within;
};

struct cdp_expr {
    struct node *root;
    struct node **all; /* every node, for freeing */
    size_t nall, capall;
    int64_t now;
    unsigned needs;
    /* evaluation scratch */
    char id_hex[CDP_ID_HEX_SIZE];
    struct cdp_buf event_text;
};

/* ---- lexer ---- */

enum tok {
    T_EOF,
    T_NUM,
    T_DUR,
    T_TIME,
    T_STR,
    T_WORD,
    T_DOT,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_BAD,
};

struct token {
    enum tok t;
    size_t pos, len; /* byte offset and length in the text */
    double n;
    int64_t ms;
    char *str; /* T_STR: unescaped, owned by the parser until taken */
    size_t slen;
};

struct parser {
    const char *text;
    size_t pos;
    struct token tok;
    struct cdp_expr *e;
    struct cdp_expr_error *err;
    bool failed;
    int in_event; /* inside an event function's arguments */
    int depth;    /* nesting of parentheses, lists, calls and unary operators */
};

/* Deeper nesting than this is refused rather than risking the stack. */
#define MAX_DEPTH 256

/* 1-based column in characters of byte offset pos. */
static size_t
column_of(const char *text, size_t pos)
{
    size_t col = 1;
    for (size_t i = 0; i < pos && text[i]; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static void
vfail_at(struct parser *p, size_t pos, bool type, const char *fmt, va_list ap)
{
    if (p->failed)
        return;
    p->failed = true;
    p->err->column = column_of(p->text, pos);
    p->err->type = type;
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
}

/* A syntax error at byte offset pos. */
static void __attribute__((format(printf, 3, 4)))
fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(p, pos, false, fmt, ap);
    va_end(ap);
}

/* A type error at byte offset pos: well-formed, but the types do not fit. */
static void __attribute__((format(printf, 3, 4)))
type_fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(p, pos, true, fmt, ap);
    va_end(ap);
}

static bool
is_word_start(int c)
{
    return isalpha(c) || c == '_' || c == '$' || (c & 0x80);
}

static bool
is_word_char(int c)
{
    return isalnum(c) || c == '_' || c == '$' || (c & 0x80);
}

/* A quoted string at p->pos (the opening quote); escapes \\ \' \" \n \t. */
static void
lex_string(struct parser *p, struct token *t)
{
    const char *s = p->text;
    char quote = s[p->pos];
    size_t i = p->pos + 1;
    struct cdp_buf b = CDP_BUF_INIT;
    for (;;) {
        char c = s[i];
        if (c == '\0') {
            cdp_buf_free(&b);
            fail_at(p, p->pos, "unclosed string");
            t->t = T_BAD;
            return;
        }
        if (c == quote) {
            i++;
            break;
        }
        if (c == '\\' && s[i + 1] != '\0') {
            char n = s[i + 1];
            cdp_buf_putc(&b, n == 'n' ? '\n' : n == 't' ? '\t' : n);
            i += 2;
            continue;
        }
        cdp_buf_putc(&b, c);
        i++;
    }
    t->t = T_STR;
    t->slen = b.len;
    t->str = cdp_xmalloc(b.len + 1);
    if (b.len)
        memcpy(t->str, b.data, b.len);
    t->str[b.len] = '\0';
    cdp_buf_free(&b);
    t->len = i - p->pos;
}

/* A date or time such as 2024-05-01 or 2024-05-01T10:00:00.5+02:00. */
static size_t
scan_datetime(const char *s)
{
    size_t i = 10; /* YYYY-MM-DD, checked by the caller */
    if (s[i] == 'T' || s[i] == 't') {
        i++;
        while (isdigit((unsigned char)s[i]) || s[i] == ':' || s[i] == '.')
            i++;
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if ((s[i] == '+' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) &&
                   isdigit((unsigned char)s[i + 2])) {
            i += 3;
            if (s[i] == ':')
                i++;
            while (isdigit((unsigned char)s[i]))
                i++;
        }
    }
    return i;
}

static bool
looks_like_date(const char *s)
{
    for (int i = 0; i < 10; i++) {
        bool want_dash = i == 4 || i == 7;
        if (want_dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static void
lex_number(struct parser *p, struct token *t)
{
    const char *s = p->text + p->pos;
    if (looks_like_date(s)) {
        size_t n = scan_datetime(s);
        t->len = n;
        if (is_word_char((unsigned char)s[n]) || !cdp_time_parse(s, n, &t->ms)) {
            fail_at(p, p->pos, "invalid date or time '%.*s'", (int)n, s);
            t->t = T_BAD;
            return;
        }
        t->t = T_TIME;
        return;
    }
    size_t i = 0;
    while (isdigit((unsigned char)s[i]))
        i++;
    if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
        i++;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if ((s[i] == 'e' || s[i] == 'E') &&
        (isdigit((unsigned char)s[i + 1]) ||
         ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit((unsigned char)s[i + 2])))) {
        i += 2;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if (is_word_start((unsigned char)s[i])) {
        /* A duration: a number then units, possibly several parts (1d12h). */
        size_t j = i;
        while (is_word_char((unsigned char)s[j]))
            j++;
        t->len = j;
        if (!cdp_time_parse_duration(s, j, &t->ms)) {
            fail_at(p, p->pos, "invalid duration '%.*s' (units: w, d, h, m, s, ms)", (int)j, s);
            t->t = T_BAD;
            return;
        }
        t->t = T_DUR;
        return;
    }
    char buf[64];
    if (i >= sizeof buf) {
        fail_at(p, p->pos, "number too long");
        t->t = T_BAD;
        return;
    }
    memcpy(buf, s, i);
    buf[i] = '\0';
    t->n = strtod(buf, NULL);
    t->len = i;
    t->t = T_NUM;
}

/* Reads the next token into p->tok. */
static void
next(struct parser *p)
{
    struct token *t = &p->tok;
    free(t->str);
    memset(t, 0, sizeof *t);
    const char *s = p->text;
    while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
        p->pos++;
    t->pos = p->pos;
    unsigned char c = (unsigned char)s[p->pos];
    t->len = 1;
    switch (c) {
    case '\0':
        t->t = T_EOF;
        t->len = 0;
        return;
    case '.':
        t->t = T_DOT;
        break;
    case '(':
        t->t = T_LPAREN;
        break;
    case ')':
        t->t = T_RPAREN;
        break;
    case '[':
        t->t = T_LBRACK;
        break;
    case ']':
        t->t = T_RBRACK;
        break;
    case ',':
        t->t = T_COMMA;
        break;
    case '+':
        t->t = T_PLUS;
        break;
    case '-':
        t->t = T_MINUS;
        break;
    case '*':
        t->t = T_STAR;
        break;
    case '/':
        t->t = T_SLASH;
        break;
    case '=':
        t->t = T_EQ;
        if (s[p->pos + 1] == '=')
            t->len = 2;
        break;
    case '!':
        if (s[p->pos + 1] == '=') {
            t->t = T_NE;
            t->len = 2;
        } else {
            fail_at(p, p->pos, "unexpected '!' (use 'not' or '!=')");
            t->t = T_BAD;
        }
        break;
    case '<':
        t->t = s[p->pos + 1] == '=' ? T_LE : s[p->pos + 1] == '>' ? T_NE : T_LT;
        t->len = t->t == T_LT ? 1 : 2;
        break;
    case '>':
        t->t = s[p->pos + 1] == '=' ? T_GE : T_GT;
        t->len = t->t == T_GE ? 2 : 1;
        break;
    case '\'':
    case '"':
        lex_string(p, t);
        break;
    default:
        if (isdigit(c)) {
            lex_number(p, t);
        } else if (is_word_start(c)) {
            size_t i = p->pos;
            while (is_word_char((unsigned char)s[i]))
                i++;
            t->t = T_WORD;
            t->len = i - p->pos;
        } else {
            fail_at(p, p->pos, "unexpected character '%c'", isprint(c) ? c : '?');
            t->t = T_BAD;
        }
    }
    p->pos += t->len;
}

/* True when the current token is the (case-insensitive) keyword kw. */
static bool
is_kw(const struct parser *p, const char *kw)
{
    return p->tok.t == T_WORD && strlen(kw) == p->tok.len &&
           strncasecmp(p->text + p->tok.pos, kw, p->tok.len) == 0;
}

static const char *const keywords[] = {"and",    "or",     "not",    "in",          "contains",
                                       "starts_with", "ends_with", "matches", "exists", "within",
                                       "true",   "false",  "null",   "now",         NULL};

static bool
is_keyword(const struct parser *p)
{
    for (int i = 0; keywords[i]; i++)
        if (is_kw(p, keywords[i]))
            return true;
    return false;
}

/* How the current token reads in a message. */
static void
describe(const struct parser *p, char *out, size_t size)
{
    if (p->tok.t == T_EOF)
        snprintf(out, size, "the end of the expression");
    else
        snprintf(out, size, "'%.*s'", (int)(p->tok.len > 40 ? 40 : p->tok.len),
                 p->text + p->tok.pos);
}

static void
unexpected(struct parser *p, const char *wanted)
{
    char what[64];
    describe(p, what, sizeof what);
    fail_at(p, p->tok.pos, "expected %s, found %s", wanted, what);
}

/* ---- node construction ---- */

static struct node *
new_node(struct parser *p, enum nkind kind, size_t pos)
{
    struct cdp_expr *e = p->e;
    if (e->nall == e->capall) {
        e->capall = e->capall ? e->capall * 2 : 32;
        e->all = cdp_xrealloc(e->all, e->capall * sizeof *e->all);
    }
    struct node *n = calloc(1, sizeof *n);
    if (n == NULL)
        abort();
    n->kind = kind;
    n->column = pos;
    e->all[e->nall++] = n;
    return n;
}

static void
free_node(struct node *n)
{
    free(n->text);
    for (size_t i = 0; i < n->npath; i++)
        free(n->path[i]);
    free(n->path);
    free(n->items);
    if (n->has_re)
        regfree(&n->re);
    free(n);
}

static struct node *
literal(struct parser *p, size_t pos, enum vtype t)
{
    struct node *n = new_node(p, N_LIT, pos);
    n->type = t;
    n->lit.t = t;
    return n;
}

/* ---- parser ---- */

static struct node *parse_or(struct parser *p);

static void
add_segment(struct node *n, const char *s, size_t len)
{
    n->path = cdp_xrealloc(n->path, (n->npath + 1) * sizeof *n->path);
    char *copy = cdp_xmalloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    n->path[n->npath++] = copy;
}

/* The segments after a field name: .word or ["text"], as many as there are. */
static void
parse_segments(struct parser *p, struct node *n)
{
    for (;;) {
        if (p->tok.t == T_DOT) {
            next(p);
            if (p->tok.t != T_WORD) {
                unexpected(p, "a field name after '.'");
                return;
            }
            add_segment(n, p->text + p->tok.pos, p->tok.len);
            next(p);
        } else if (p->tok.t == T_LBRACK && p->text[p->pos] != ']') {
            size_t save = p->pos;
            struct token saved = p->tok;
            saved.str = NULL;
            next(p);
            if (p->tok.t != T_STR) {
                /* Not a quoted segment: leave the bracket to the caller. */
                free(p->tok.str);
                p->tok = saved;
                p->pos = save;
                return;
            }
            add_segment(n, p->tok.str, p->tok.slen);
            next(p);
            if (p->tok.t != T_RBRACK) {
                unexpected(p, "']' after the quoted field name");
                return;
            }
            next(p);
        } else {
            return;
        }
    }
}

/* A field in the scope of events: event, type, source, time, message_id or a JSON path. */
static struct node *
parse_event_field(struct parser *p, const char *name, size_t len, size_t pos)
{
    struct node *n = new_node(p, N_EVFIELD, pos);
    static const struct {
        const char *name;
        int field;
        enum vtype type;
    } fixed[] = {{"event", EF_EVENT, VT_STR},   {"name", EF_EVENT, VT_STR},
                 {"type", EF_TYPE, VT_STR},     {"source", EF_SOURCE, VT_STR},
                 {"time", EF_TIME, VT_TIME},    {"timestamp", EF_TIME, VT_TIME},
                 {"message_id", EF_MESSAGE_ID, VT_STR}, {"messageId", EF_MESSAGE_ID, VT_STR}};
    next(p);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (strlen(fixed[i].name) == len && memcmp(fixed[i].name, name, len) == 0 &&
            p->tok.t != T_DOT) {
            n->field = fixed[i].field;
            n->type = fixed[i].type;
            return n;
        }
    }
    n->field = EF_PATH;
    n->type = VT_ANY;
    add_segment(n, name, len);
    parse_segments(p, n);
    return n;
}

/* A field of the profile, starting at the word in p->tok. */
static struct node *
parse_field(struct parser *p)
{
    size_t pos = p->tok.pos;
    const char *name = p->text + p->tok.pos;
    size_t len = p->tok.len;
    if (p->in_event)
        return parse_event_field(p, name, len, pos);
    struct node *n = new_node(p, N_FIELD, pos);
#define NAME_IS(s) (len == strlen(s) && memcmp(name, s, len) == 0)
    next(p);
    if (NAME_IS("id")) {
        n->field = F_ID;
        n->type = VT_STR;
    } else if (NAME_IS("identifiers")) {
        n->field = F_IDENTIFIERS;
        n->type = VT_LIST;
        p->e->needs |= CDP_EXPR_NEEDS_SECTIONS;
    } else if (NAME_IS("first_seen")) {
        n->field = F_FIRST_SEEN;
        n->type = VT_TIME;
    } else if (NAME_IS("last_seen")) {
        n->field = F_LAST_SEEN;
        n->type = VT_TIME;
    } else if (NAME_IS("traits")) {
        n->field = F_TRAITS;
        n->type = VT_ANY;
        p->e->needs |= CDP_EXPR_NEEDS_SECTIONS;
        parse_segments(p, n);
        if (n->npath == 0)
            n->type = VT_OBJ;
    } else if (NAME_IS("computed") || NAME_IS("consent")) {
        bool computed = NAME_IS("computed");
        size_t seg = p->tok.pos;
        parse_segments(p, n);
        if (p->failed)
            return n;
        if (n->npath != 1) {
            fail_at(p, n->npath ? seg : p->tok.pos, "expected %s after '%s.'",
                    computed ? "a computed field name" : "a purpose", computed ? "computed" : "consent");
            return n;
        }
        if (!computed) {
            n->field = F_CONSENT;
            n->type = VT_BOOL;
            p->e->needs |= CDP_EXPR_NEEDS_CONSENT;
            return n;
        }
        for (int c = 0; c < C_COUNT; c++) {
            if (strcmp(computed_fields[c].name, n->path[0]) == 0) {
                n->field = F_COMPUTED + c;
                n->type = computed_fields[c].type;
                if (c == C_PREFERRED_PAYMENT_METHOD || c == C_TOP_CATEGORY)
                    p->e->needs |= CDP_EXPR_NEEDS_SECTIONS;
                return n;
            }
        }
        fail_at(p, seg + 1, "unknown computed field '%s' (see cdp-segment(1) for the list)",
                n->path[0]);
    } else if (NAME_IS("predicted")) {
        size_t seg = p->tok.pos;
        parse_segments(p, n);
        if (p->failed)
            return n;
        int which = n->npath == 1 ? cdp_predicted_field_index(n->path[0]) : -1;
        if (which < 0) {
            if (n->npath == 1)
                fail_at(p, seg + 1, "unknown predicted field '%s' (see cdp-predict(1) for the list)",
                        n->path[0]);
            else
                fail_at(p, n->npath ? seg : p->tok.pos,
                        "expected a predicted field name after 'predicted.'");
            return n;
        }
        static const enum vtype kinds[] = {[CDP_PREDICTED_NUMBER] = VT_NUM,
                                           [CDP_PREDICTED_STRING] = VT_STR,
                                           [CDP_PREDICTED_TIME] = VT_TIME};
        n->field = F_PREDICTED;
        n->op = which;
        n->type = kinds[cdp_predicted_fields[which].kind];
        p->e->needs |= CDP_EXPR_NEEDS_PREDICTED;
    } else {
        fail_at(p, pos,
                "unknown field '%.*s' (fields: id, identifiers, traits.*, computed.*, "
                "first_seen, last_seen, consent.*, predicted.*)",
                (int)len, name);
    }
#undef NAME_IS
    return n;
}

static int64_t
constant_duration(struct parser *p, struct node *n)
{
    if (n->kind != N_LIT || n->type != VT_DUR) {
        type_fail_at(p, n->column, "'within' takes a duration such as 30d");
        return 0;
    }
    if (n->lit.ms <= 0) {
        fail_at(p, n->column, "'within' takes a duration longer than 0");
        return 0;
    }
    return n->lit.ms;
}

static const struct {
    const char *name;
    int fn;
    bool takes_value;
    enum vtype type;
} ev_fns[] = {
    {"count", FN_COUNT, false, VT_NUM}, {"sum", FN_SUM, true, VT_NUM},
    {"avg", FN_AVG, true, VT_NUM},      {"min", FN_MIN, true, VT_NUM},
    {"max", FN_MAX, true, VT_NUM},      {"first", FN_FIRST, false, VT_TIME},
    {"last", FN_LAST, false, VT_TIME},  {"ever", FN_EVER, false, VT_BOOL},
};

static bool condition_type(enum vtype t);

/* name(...) with p->tok on the '('. */
static struct node *
parse_call(struct parser *p, const char *name, size_t len, size_t pos)
{
    if (len == 6 && strncasecmp(name, "exists", 6) == 0) {
        next(p);
        if (p->tok.t != T_WORD || is_keyword(p)) {
            unexpected(p, "a field in exists()");
            return NULL;
        }
        struct node *n = new_node(p, N_EXISTS, pos);
        n->type = VT_BOOL;
        n->a = parse_field(p);
        if (!p->failed && p->tok.t != T_RPAREN)
            unexpected(p, "')'");
        next(p);
        return n;
    }
    int which = -1;
    for (size_t i = 0; i < sizeof ev_fns / sizeof ev_fns[0]; i++)
        if (strlen(ev_fns[i].name) == len && strncasecmp(ev_fns[i].name, name, len) == 0)
            which = (int)i;
    if (which < 0) {
        fail_at(p, pos,
                "unknown function '%.*s' (functions: count, sum, avg, min, max, first, last, "
                "ever, exists)",
                (int)len, name);
        return NULL;
    }
    if (p->in_event) {
        fail_at(p, pos, "event functions cannot be nested");
        return NULL;
    }
    struct node *n = new_node(p, N_EVFN, pos);
    n->fn = ev_fns[which].fn;
    n->type = ev_fns[which].type;
    p->e->needs |= CDP_EXPR_NEEDS_EVENTS;
    next(p);
    p->in_event = 1;
    int nargs = 0;
    while (!p->failed && p->tok.t != T_RPAREN) {
        if (nargs > 0) {
            if (p->tok.t != T_COMMA) {
                unexpected(p, "',' or ')'");
                break;
            }
            next(p);
        }
        size_t argpos = p->tok.pos;
        if (is_kw(p, "within")) {
            if (n->has_within) {
                fail_at(p, argpos, "'within' given twice");
                break;
            }
            next(p);
            struct node *d = parse_or(p);
            if (p->failed)
                break;
            n->has_within = true;
            n->within = constant_duration(p, d);
        } else if (n->has_within) {
            fail_at(p, argpos, "'within' comes last");
            break;
        } else if (ev_fns[which].takes_value && n->arg == NULL) {
            n->arg = parse_or(p);
            if (!p->failed && n->arg->type != VT_ANY && n->arg->type != VT_NUM)
                type_fail_at(p, argpos, "%s() adds up numbers, not %s", ev_fns[which].name,
                        type_names[n->arg->type]);
        } else if (n->cond == NULL) {
            n->cond = parse_or(p);
            if (!p->failed && !condition_type(n->cond->type))
                type_fail_at(p, argpos, "expected a condition on the event, found %s",
                        type_names[n->cond->type]);
        } else {
            fail_at(p, argpos, "too many arguments to %s()", ev_fns[which].name);
        }
        nargs++;
    }
    p->in_event = 0;
    if (p->failed)
        return n;
    if (ev_fns[which].takes_value && n->arg == NULL) {
        fail_at(p, p->tok.pos, "%s() needs the event field to add up, e.g. %s(properties.revenue)",
                ev_fns[which].name, ev_fns[which].name);
        return n;
    }
    next(p);
    return n;
}

static struct node *
parse_list(struct parser *p)
{
    struct node *n = new_node(p, N_LIST, p->tok.pos);
    n->type = VT_LIST;
    next(p);
    while (!p->failed && p->tok.t != T_RBRACK) {
        if (n->nitems > 0) {
            if (p->tok.t != T_COMMA) {
                unexpected(p, "',' or ']'");
                return n;
            }
            next(p);
        }
        struct node *item = parse_or(p);
        if (p->failed)
            return n;
        if (item->kind != N_LIT) {
            fail_at(p, item->column, "list items are constants");
            return n;
        }
        n->items = cdp_xrealloc(n->items, (n->nitems + 1) * sizeof *n->items);
        n->items[n->nitems++] = item;
    }
    next(p);
    return n;
}

static struct node *
parse_primary(struct parser *p)
{
    size_t pos = p->tok.pos;
    struct node *n;
    switch (p->tok.t) {
    case T_NUM:
        n = literal(p, pos, VT_NUM);
        n->lit.n = p->tok.n;
        next(p);
        return n;
    case T_DUR:
        n = literal(p, pos, VT_DUR);
        n->lit.ms = p->tok.ms;
        next(p);
        return n;
    case T_TIME:
        n = literal(p, pos, VT_TIME);
        n->lit.ms = p->tok.ms;
        next(p);
        return n;
    case T_STR:
        n = literal(p, pos, VT_STR);
        n->text = p->tok.str;
        p->tok.str = NULL;
        n->lit.s = n->text;
        n->lit.len = p->tok.slen;
        next(p);
        return n;
    case T_LPAREN:
        next(p);
        n = parse_or(p);
        if (p->failed)
            return n;
        if (p->tok.t != T_RPAREN) {
            unexpected(p, "')'");
            return n;
        }
        next(p);
        return n;
    case T_LBRACK:
        return parse_list(p);
    case T_WORD:
        if (is_kw(p, "true") || is_kw(p, "false")) {
            n = literal(p, pos, VT_BOOL);
            n->lit.b = is_kw(p, "true");
            next(p);
            return n;
        }
        if (is_kw(p, "null")) {
            n = literal(p, pos, VT_NULL);
            next(p);
            return n;
        }
        if (is_kw(p, "now")) {
            n = literal(p, pos, VT_TIME);
            n->lit.ms = p->e->now;
            next(p);
            return n;
        }
        if (p->text[p->pos + strspn(p->text + p->pos, " \t\r\n")] == '(' &&
            (!is_keyword(p) || is_kw(p, "exists"))) {
            const char *name = p->text + pos;
            size_t len = p->tok.len;
            next(p);
            return parse_call(p, name, len, pos);
        }
        if (is_keyword(p))
            break;
        return parse_field(p);
    default:
        break;
    }
    unexpected(p, "a value");
    return NULL;
}

/* ---- constant folding and arithmetic types ---- */

static enum vtype
arith_type(int op, enum vtype a, enum vtype b)
{
    if (a == VT_ANY || b == VT_ANY)
        return VT_ANY;
    switch (op) {
    case T_PLUS:
        if (a == VT_NUM && b == VT_NUM)
            return VT_NUM;
        if ((a == VT_TIME && b == VT_DUR) || (a == VT_DUR && b == VT_TIME))
            return VT_TIME;
        if (a == VT_DUR && b == VT_DUR)
            return VT_DUR;
        break;
    case T_MINUS:
        if (a == VT_NUM && b == VT_NUM)
            return VT_NUM;
        if (a == VT_TIME && b == VT_DUR)
            return VT_TIME;
        if (a == VT_TIME && b == VT_TIME)
            return VT_DUR;
        if (a == VT_DUR && b == VT_DUR)
            return VT_DUR;
        break;
    case T_STAR:
        if (a == VT_NUM && b == VT_NUM)
            return VT_NUM;
        if ((a == VT_DUR && b == VT_NUM) || (a == VT_NUM && b == VT_DUR))
            return VT_DUR;
        break;
    case T_SLASH:
        if (a == VT_NUM && b == VT_NUM)
            return VT_NUM;
        if (a == VT_DUR && b == VT_NUM)
            return VT_DUR;
        if (a == VT_DUR && b == VT_DUR)
            return VT_NUM;
        break;
    }
    return VT_NULL; /* not allowed */
}

static const char *
op_text(int op)
{
    switch (op) {
    case T_PLUS:
        return "+";
    case T_MINUS:
        return "-";
    case T_STAR:
        return "*";
    default:
        return "/";
    }
}

/* a op b on known values; false when the result is null (division by zero, overflow). */
static bool
arith_values(int op, const struct value *a, const struct value *b, struct value *out)
{
    memset(out, 0, sizeof *out);
    enum vtype t = arith_type(op, a->t, b->t);
    out->t = t;
    double x = a->t == VT_NUM ? a->n : (double)a->ms;
    double y = b->t == VT_NUM ? b->n : (double)b->ms;
    double r;
    switch (op) {
    case T_PLUS:
        r = x + y;
        break;
    case T_MINUS:
        r = x - y;
        break;
    case T_STAR:
        r = x * y;
        break;
    default:
        if (y == 0)
            return false;
        r = x / y;
        break;
    }
    if (!isfinite(r))
        return false;
    if (t == VT_NUM) {
        out->n = r;
    } else {
        if (r >= 9.2e18 || r <= -9.2e18)
            return false;
        out->ms = (int64_t)llround(r);
    }
    return true;
}

static struct node *
parse_unary(struct parser *p)
{
    if (p->tok.t == T_MINUS && p->depth + 1 > MAX_DEPTH) {
        fail_at(p, p->tok.pos, "the expression is nested too deeply (more than %d levels)",
                MAX_DEPTH);
        return NULL;
    }
    if (p->tok.t == T_MINUS) {
        p->depth++;
        size_t pos = p->tok.pos;
        next(p);
        struct node *a = parse_unary(p);
        p->depth--;
        if (p->failed)
            return a;
        if (a->type != VT_ANY && a->type != VT_NUM && a->type != VT_DUR) {
            type_fail_at(p, pos, "cannot negate %s", type_names[a->type]);
            return a;
        }
        if (a->kind == N_LIT) {
            a->lit.n = -a->lit.n;
            a->lit.ms = -a->lit.ms;
            a->column = pos;
            return a;
        }
        struct node *n = new_node(p, N_NEG, pos);
        n->a = a;
        n->type = a->type;
        return n;
    }
    return parse_primary(p);
}

/*
 * One level of arithmetic: operands read by operand, joined by the two
 * operators op1 and op2 (* and /, or + and -), left to right.  Constant
 * operands are folded.
 */
static struct node *
parse_arith(struct parser *p, struct node *(*operand)(struct parser *), enum tok op1,
            enum tok op2)
{
    struct node *a = operand(p);
    while (!p->failed && (p->tok.t == op1 || p->tok.t == op2)) {
        int op = p->tok.t;
        size_t pos = p->tok.pos;
        next(p);
        struct node *b = operand(p);
        if (p->failed)
            return a;
        enum vtype t = arith_type(op, a->type, b->type);
        if (t == VT_NULL) {
            type_fail_at(p, pos, "cannot compute %s %s %s", type_names[a->type], op_text(op),
                         type_names[b->type]);
            return a;
        }
        struct node *n = new_node(p, N_ARITH, a->column);
        n->op = op;
        n->a = a;
        n->b = b;
        n->type = t;
        if (a->kind == N_LIT && b->kind == N_LIT) {
            struct value r;
            n->kind = N_LIT;
            if (arith_values(op, &a->lit, &b->lit, &r))
                n->lit = r;
            else
                n->lit.t = VT_NULL; /* 1 / 0: a number that has no value */
        }
        a = n;
    }
    return a;
}

static struct node *
parse_mul(struct parser *p)
{
    return parse_arith(p, parse_unary, T_STAR, T_SLASH);
}

static struct node *
parse_add(struct parser *p)
{
    return parse_arith(p, parse_mul, T_PLUS, T_MINUS);
}

/* ---- comparisons ---- */

static bool
condition_type(enum vtype t)
{
    return t == VT_BOOL || t == VT_ANY;
}

/*
 * Checks that a and b can be compared with op, converting a string literal
 * compared with a time (or duration) into one.  Returns false after failing.
 */
static bool
check_comparison(struct parser *p, int op, struct node *a, struct node *b, size_t pos)
{
    struct node *sides[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct node *lit = sides[i], *other = sides[1 - i];
        if (lit->kind == N_LIT && lit->type == VT_STR &&
            (other->type == VT_TIME || other->type == VT_DUR)) {
            int64_t ms;
            bool ok = other->type == VT_TIME ? cdp_time_parse(lit->lit.s, lit->lit.len, &ms)
                                             : cdp_time_parse_duration(lit->lit.s, lit->lit.len, &ms);
            if (!ok) {
                type_fail_at(p, lit->column, "cannot compare %s with the string '%s', which is not %s",
                        type_names[other->type], lit->lit.s, type_names[other->type]);
                return false;
            }
            lit->type = lit->lit.t = other->type;
            lit->lit.ms = ms;
        }
    }
    enum vtype x = a->type, y = b->type;
    if (x == VT_ANY || y == VT_ANY)
        return true;
    if (x == VT_OBJ || y == VT_OBJ || x == VT_LIST || y == VT_LIST) {
        type_fail_at(p, pos, "cannot compare %s with %s (use contains or in for lists)", type_names[x],
                type_names[y]);
        return false;
    }
    if (x != y) {
        type_fail_at(p, pos, "cannot compare %s with %s", type_names[x], type_names[y]);
        return false;
    }
    if (x == VT_BOOL && op != T_EQ && op != T_NE) {
        type_fail_at(p, pos, "booleans are only equal or not");
        return false;
    }
    return true;
}

static struct node *
parse_comparison(struct parser *p)
{
    struct node *a = parse_add(p);
    if (p->failed)
        return a;
    size_t pos = p->tok.pos;
    int t = p->tok.t;
    if (t == T_EQ || t == T_NE || t == T_LT || t == T_LE || t == T_GT || t == T_GE) {
        next(p);
        struct node *b = parse_add(p);
        if (p->failed)
            return a;
        struct node *n;
        if (a->kind == N_LIT && a->type == VT_NULL && !(b->kind == N_LIT && b->type == VT_NULL)) {
            struct node *swap = a;
            a = b;
            b = swap;
        }
        if (b->kind == N_LIT && b->type == VT_NULL) {
            if (t != T_EQ && t != T_NE) {
                type_fail_at(p, pos, "only = and != compare with null");
                return a;
            }
            n = new_node(p, N_ISNULL, a->column);
            n->op = t == T_EQ ? '=' : '!';
            n->a = a;
            n->type = VT_BOOL;
        } else {
            if (!check_comparison(p, t, a, b, pos))
                return a;
            n = new_node(p, N_CMP, a->column);
            n->op = t == T_EQ ? OP_EQ : t == T_NE ? OP_NE : t == T_LT ? OP_LT : t == T_LE ? OP_LE
                                                               : t == T_GT ? OP_GT : OP_GE;
            n->a = a;
            n->b = b;
            n->type = VT_BOOL;
        }
        t = p->tok.t;
        if (t == T_EQ || t == T_NE || t == T_LT || t == T_LE || t == T_GT || t == T_GE)
            fail_at(p, p->tok.pos, "comparisons do not chain: use 'and'");
        return n;
    }
    bool negated_in = false;
    if (is_kw(p, "not")) {
        /* "x not in [...]" */
        size_t save = p->pos;
        next(p);
        if (!is_kw(p, "in")) {
            free(p->tok.str);
            p->tok.str = NULL;
            p->pos = save;
            p->tok.t = T_WORD;
            p->tok.pos = pos;
            p->tok.len = 3;
            return a;
        }
        negated_in = true;
    }
    if (is_kw(p, "in")) {
        next(p);
        struct node *b = parse_add(p);
        if (p->failed)
            return a;
        if (b->type != VT_LIST && b->type != VT_ANY) {
            type_fail_at(p, b->column, "'in' takes a list, such as ['a', 'b'], not %s",
                    type_names[b->type]);
            return a;
        }
        if (b->kind == N_LIST) {
            for (size_t i = 0; i < b->nitems; i++)
                if (!check_comparison(p, T_EQ, a->type == VT_LIST ? b->items[i] : a, b->items[i],
                                      b->items[i]->column))
                    return a;
        }
        struct node *n = new_node(p, N_IN, a->column);
        n->op = negated_in; /* "not in" is false on null, like every comparison */
        n->a = a;
        n->b = b;
        n->type = VT_BOOL;
        return n;
    }
    int sop = is_kw(p, "contains") ? SOP_CONTAINS : is_kw(p, "starts_with") ? SOP_STARTS
                                                  : is_kw(p, "ends_with")   ? SOP_ENDS
                                                                            : -1;
    if (sop >= 0) {
        const char *opname = sop == SOP_CONTAINS ? "contains" : sop == SOP_STARTS ? "starts_with"
                                                                                   : "ends_with";
        if (a->type != VT_ANY && a->type != VT_STR && a->type != VT_LIST) {
            type_fail_at(p, pos, "'%s' works on strings and lists, not %s", opname, type_names[a->type]);
            return a;
        }
        next(p);
        struct node *b = parse_add(p);
        if (p->failed)
            return a;
        if (b->type != VT_ANY && b->type != VT_STR &&
            !(sop == SOP_CONTAINS && a->type != VT_STR && b->type != VT_LIST && b->type != VT_OBJ)) {
            type_fail_at(p, b->column, "'%s' takes a string, not %s", opname, type_names[b->type]);
            return a;
        }
        struct node *n = new_node(p, N_STROP, a->column);
        n->op = sop;
        n->a = a;
        n->b = b;
        n->type = VT_BOOL;
        return n;
    }
    if (is_kw(p, "matches")) {
        if (a->type != VT_ANY && a->type != VT_STR && a->type != VT_LIST) {
            type_fail_at(p, pos, "'matches' works on strings, not %s", type_names[a->type]);
            return a;
        }
        next(p);
        if (p->tok.t != T_STR) {
            unexpected(p, "a quoted regular expression after 'matches'");
            return a;
        }
        struct node *n = new_node(p, N_MATCH, a->column);
        n->a = a;
        n->type = VT_BOOL;
        n->text = p->tok.str;
        p->tok.str = NULL;
        int rc = regcomp(&n->re, n->text, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &n->re, msg, sizeof msg);
            fail_at(p, p->tok.pos, "invalid regular expression: %s", msg);
            return a;
        }
        n->has_re = true;
        next(p);
        return n;
    }
    if (is_kw(p, "exists")) {
        if (a->kind != N_FIELD && a->kind != N_EVFIELD) {
            fail_at(p, pos, "'exists' follows a field");
            return a;
        }
        struct node *n = new_node(p, N_EXISTS, a->column);
        n->a = a;
        n->type = VT_BOOL;
        next(p);
        return n;
    }
    return a;
}

static struct node *
parse_not(struct parser *p)
{
    if (is_kw(p, "not")) {
        size_t pos = p->tok.pos;
        if (p->depth + 1 > MAX_DEPTH) {
            fail_at(p, pos, "the expression is nested too deeply (more than %d levels)", MAX_DEPTH);
            return NULL;
        }
        next(p);
        p->depth++;
        struct node *a = parse_not(p);
        p->depth--;
        if (p->failed)
            return a;
        if (!condition_type(a->type)) {
            type_fail_at(p, a->column, "'not' needs a condition, not %s", type_names[a->type]);
            return a;
        }
        struct node *n = new_node(p, N_NOT, pos);
        n->a = a;
        n->type = VT_BOOL;
        return n;
    }
    return parse_comparison(p);
}

/* Which side of and/or costs less: events are read last. */
static bool
reads_events(const struct node *n)
{
    if (n == NULL)
        return false;
    if (n->kind == N_EVFN)
        return true;
    return reads_events(n->a) || reads_events(n->b);
}

static struct node *
parse_logic(struct parser *p, const char *kw, enum nkind kind, struct node *(*operand)(struct parser *))
{
    struct node *a = operand(p);
    while (!p->failed && is_kw(p, kw)) {
        size_t pos = p->tok.pos;
        next(p);
        struct node *b = operand(p);
        if (p->failed)
            return a;
        if (!condition_type(a->type)) {
            type_fail_at(p, a->column, "'%s' needs conditions on both sides, not %s", kw,
                    type_names[a->type]);
            return a;
        }
        if (!condition_type(b->type)) {
            type_fail_at(p, b->column, "'%s' needs conditions on both sides, not %s", kw,
                    type_names[b->type]);
            return a;
        }
        struct node *n = new_node(p, kind, pos);
        /* Both orders give the same answer; the cheaper side first. */
        bool swap = reads_events(a) && !reads_events(b);
        n->a = swap ? b : a;
        n->b = swap ? a : b;
        n->type = VT_BOOL;
        a = n;
    }
    return a;
}

static struct node *
parse_and(struct parser *p)
{
    return parse_logic(p, "and", N_AND, parse_not);
}

static struct node *
parse_or(struct parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        fail_at(p, p->tok.pos, "the expression is nested too deeply (more than %d levels)",
                MAX_DEPTH);
        p->depth--;
        return NULL;
    }
    struct node *n = parse_logic(p, "or", N_OR, parse_and);
    p->depth--;
    return n;
}

struct cdp_expr *
cdp_expr_compile(const char *text, int64_t now, struct cdp_expr_error *err)
{
    struct cdp_expr *e = calloc(1, sizeof *e);
    if (e == NULL)
        abort();
    e->now = now;
    memset(err, 0, sizeof *err);
    struct parser p = {.text = text, .e = e, .err = err};
    next(&p);
    if (p.tok.t == T_EOF && !p.failed)
        fail_at(&p, p.tok.pos, "the expression is empty");
    struct node *root = p.failed ? NULL : parse_or(&p);
    if (!p.failed && p.tok.t != T_EOF) {
        char what[64];
        describe(&p, what, sizeof what);
        fail_at(&p, p.tok.pos, "unexpected %s (expected an operator, 'and' or 'or')", what);
    }
    if (!p.failed && !condition_type(root->type))
        type_fail_at(&p, root->column, "the expression is %s, not a condition (compare it with something)",
                type_names[root->type]);
    free(p.tok.str);
    if (p.failed) {
        cdp_expr_free(e);
        return NULL;
    }
    e->root = root;
    return e;
}

void
cdp_expr_free(struct cdp_expr *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->nall; i++)
        free_node(e->all[i]);
    free(e->all);
    cdp_buf_free(&e->event_text);
    free(e);
}

unsigned
cdp_expr_needs(const struct cdp_expr *e)
{
    return e->needs;
}

void
cdp_expr_show_error(const char *text, const struct cdp_expr_error *err, struct cdp_buf *out)
{
    cdp_buf_puts(out, "  ");
    for (const char *s = text; *s; s++)
        cdp_buf_putc(out, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
    cdp_buf_puts(out, "\n  ");
    for (size_t i = 1; i < err->column; i++)
        cdp_buf_putc(out, ' ');
    cdp_buf_puts(out, "^\n");
}

/* ---- evaluation ---- */

/* The state of one evaluation: the profile and, inside event functions, the event. */
struct eval {
    struct cdp_expr *e;
    struct cdp_expr_subject *s;
    const struct cdp_stored_event *ev; /* the event being looked at */
    json_t *ev_json;                   /* its parsed JSON, once needed */
    bool ev_parsed;
    int rc; /* an LMDB error met on the way */
    struct cdp_profile lazy; /* the record decoded on demand (subject->record) */
    int lazy_state;          /* 0 not tried, 1 decoded, -1 damaged */
};

static void eval(struct eval *x, const struct node *n, struct value *out);

/*
 * The subject's decoded profile: given by the caller, or decoded from its
 * record the first time a field needs it (most expressions never do, and a
 * scan then decodes nothing but the head).  NULL when there is none.
 */
static struct cdp_profile *
subject_profile(struct eval *x)
{
    if (x->s->profile)
        return x->s->profile;
    if (x->s->record == NULL || x->lazy_state < 0)
        return NULL;
    if (x->lazy_state == 0) {
        if (!cdp_profile_decode(&x->lazy, &x->s->id, x->s->record, x->s->record_len)) {
            cdp_profile_free(&x->lazy);
            x->lazy_state = -1;
            return NULL;
        }
        x->lazy_state = 1;
    }
    return &x->lazy;
}


static void
from_json(json_t *j, struct value *out)
{
    memset(out, 0, sizeof *out);
    if (j == NULL || json_is_null(j)) {
        out->t = VT_NULL;
    } else if (json_is_string(j)) {
        out->t = VT_STR;
        out->s = json_string_value(j);
        out->len = json_string_length(j);
    } else if (json_is_number(j)) {
        out->t = VT_NUM;
        out->n = json_number_value(j);
    } else if (json_is_boolean(j)) {
        out->t = VT_BOOL;
        out->b = json_is_true(j);
    } else if (json_is_array(j)) {
        out->t = VT_LIST;
        out->json = j;
    } else {
        out->t = VT_OBJ;
        out->json = j;
    }
}

/* Follows path segments [from, n) into a JSON value. */
static json_t *
json_walk(json_t *j, char *const *path, size_t from, size_t n)
{
    for (size_t i = from; i < n && j != NULL; i++)
        j = json_is_object(j) ? json_object_get(j, path[i]) : NULL;
    return j;
}

static void
set_time(struct value *out, int64_t ms)
{
    memset(out, 0, sizeof *out);
    if (ms == CDP_TIME_NONE) {
        out->t = VT_NULL;
    } else {
        out->t = VT_TIME;
        out->ms = ms;
    }
}

static void
set_num(struct value *out, double n)
{
    memset(out, 0, sizeof *out);
    out->t = VT_NUM;
    out->n = n;
}

static void
set_str(struct value *out, const char *s)
{
    memset(out, 0, sizeof *out);
    if (s == NULL) {
        out->t = VT_NULL;
        return;
    }
    out->t = VT_STR;
    out->s = s;
    out->len = strlen(s);
}

/* A JSON value read where the static type is known (times come as ISO strings). */
static void
typed_from_json(json_t *j, enum vtype type, struct value *out)
{
    from_json(j, out);
    if (type == VT_TIME && out->t == VT_STR) {
        int64_t ms;
        if (cdp_time_parse(out->s, out->len, &ms))
            set_time(out, ms);
        else
            out->t = VT_NULL;
    } else if (out->t != VT_NULL && out->t != type && type != VT_ANY) {
        out->t = VT_NULL;
    }
}

/* A field of the profile's stored prediction; null when it has none. */
static void
predicted_value(struct eval *x, int which, struct value *out)
{
    const struct cdp_expr_subject *s = x->s;
    struct cdp_predicted p;
    if (s->store == NULL || s->txn == NULL)
        return;
    int rc = cdp_predicted_get(s->store, s->txn, &s->id, &p);
    if (rc != 0) {
        if (rc != MDB_NOTFOUND)
            x->rc = rc;
        return;
    }
    double num;
    switch (cdp_predicted_fields[which].kind) {
    case CDP_PREDICTED_TIME:
        set_time(out, p.as_of);
        return;
    case CDP_PREDICTED_STRING:
        set_str(out, cdp_predict_segment_name(p.rfm_segment));
        return;
    default: {
        struct cdp_buf unused = CDP_BUF_INIT; /* numbers write no text */
        cdp_predicted_field(&p, which, &num, &unused);
        cdp_buf_free(&unused);
        if (!isnan(num))
            set_num(out, num);
        return;
    }
    }
}

static void
computed_value(struct eval *x, int c, struct value *out)
{
    const struct cdp_profile_head *h = x->s->head;
    switch (c) {
    case C_FIRST_SEEN:
        set_time(out, h->first_seen);
        return;
    case C_LAST_SEEN:
        set_time(out, h->last_seen);
        return;
    case C_EVENTS_COUNT:
        set_num(out, h->events_count);
        return;
    case C_PAGE_VIEWS:
        set_num(out, h->page_views);
        return;
    case C_VISITS:
        set_num(out, h->visits);
        return;
    case C_TIME_ON_SITE_S:
        set_num(out, (double)(h->time_on_site_ms / 1000));
        return;
    case C_EMAIL_OPENS:
        set_num(out, h->email_opens);
        return;
    case C_EMAIL_CLICKS:
        set_num(out, h->email_clicks);
        return;
    case C_DOWNLOADS:
        set_num(out, h->downloads);
        return;
    case C_SUPPORT_CONTACTS:
        set_num(out, h->support_contacts);
        return;
    case C_ORDERS_COUNT:
        set_num(out, h->orders_count);
        return;
    case C_REVENUE_TOTAL:
        set_num(out, (double)h->revenue_micros / 1e6);
        return;
    case C_AVG_ORDER_VALUE:
        if (h->orders_count == 0) {
            out->t = VT_NULL;
            return;
        }
        set_num(out, (double)(h->revenue_micros / (int64_t)h->orders_count) / 1e6);
        return;
    case C_FIRST_ORDER_AT:
        set_time(out, h->first_order_at);
        return;
    case C_LAST_ORDER_AT:
        set_time(out, h->last_order_at);
        return;
    case C_PURCHASE_FREQUENCY: {
        double f;
        if (cdp_view_purchase_frequency(h, &f))
            set_num(out, f);
        else
            out->t = VT_NULL;
        return;
    }
    case C_RETURNS_COUNT:
        set_num(out, h->returns_count);
        return;
    case C_ABANDONED_CARTS:
        set_num(out, h->abandoned_carts);
        return;
    case C_PREFERRED_PAYMENT_METHOD:
    case C_TOP_CATEGORY: {
        struct cdp_profile *p = subject_profile(x);
        if (p == NULL) {
            out->t = VT_NULL;
            return;
        }
        set_str(out, cdp_profile_top_tally(p, c == C_TOP_CATEGORY ? "category" : "payment_method"));
        return;
    }
    }
    out->t = VT_NULL;
}

static void
field_value(struct eval *x, const struct node *n, struct value *out)
{
    struct cdp_expr_subject *s = x->s;
    memset(out, 0, sizeof *out);
    out->t = VT_NULL;
    if (s->json != NULL) {
        /* A profile object from a stream. */
        switch (n->field) {
        case F_ID:
            typed_from_json(json_object_get(s->json, "id"), VT_STR, out);
            return;
        case F_IDENTIFIERS:
            typed_from_json(json_object_get(s->json, "identifiers"), VT_LIST, out);
            return;
        case F_FIRST_SEEN:
        case F_LAST_SEEN:
            typed_from_json(json_object_get(s->json, n->field == F_FIRST_SEEN ? "first_seen"
                                                                               : "last_seen"),
                            VT_TIME, out);
            return;
        case F_TRAITS:
            from_json(json_walk(json_object_get(s->json, "traits"), n->path, 0, n->npath), out);
            return;
        case F_CONSENT: {
            /* The stream's own consent object, else the store's ledger. */
            json_t *consent = json_object_get(s->json, "consent");
            if (json_is_object(consent) || s->store == NULL || s->txn == NULL) {
                /* true, or {"granted": true, ...} as cdp-export writes it */
                json_t *c = json_walk(consent, n->path, 0, 1);
                if (json_is_object(c))
                    c = json_object_get(c, "granted");
                out->t = VT_BOOL;
                out->b = json_is_true(c);
                return;
            }
            break;
        }
        case F_PREDICTED: {
            /* The stream's own predicted object, else the store's record. */
            json_t *predicted = json_object_get(s->json, "predicted");
            if (json_is_object(predicted) || s->store == NULL || s->txn == NULL) {
                static const enum vtype kinds[] = {[CDP_PREDICTED_NUMBER] = VT_NUM,
                                                   [CDP_PREDICTED_STRING] = VT_STR,
                                                   [CDP_PREDICTED_TIME] = VT_TIME};
                typed_from_json(json_object_get(predicted, n->path[0]),
                                kinds[cdp_predicted_fields[n->op].kind], out);
                return;
            }
            break;
        }
        default:
            typed_from_json(json_walk(json_object_get(s->json, "computed"), n->path, 0, 1),
                            computed_fields[n->field - F_COMPUTED].type, out);
            return;
        }
    }
    if (s->head == NULL && s->json == NULL && n->field != F_ID && n->field != F_CONSENT &&
        n->field != F_PREDICTED)
        return;
    switch (n->field) {
    case F_ID:
        cdp_hash_to_hex(&s->id, x->e->id_hex);
        set_str(out, x->e->id_hex);
        return;
    case F_IDENTIFIERS: {
        struct cdp_profile *p = subject_profile(x);
        if (p) {
            out->t = VT_LIST;
            out->nulsep = p->identifiers.data;
            out->nulsep_len = p->identifiers.len;
        }
        return;
    }
    case F_FIRST_SEEN:
        set_time(out, s->head->first_seen);
        return;
    case F_LAST_SEEN:
        set_time(out, s->head->last_seen);
        return;
    case F_TRAITS: {
        struct cdp_profile *p = subject_profile(x);
        if (p == NULL)
            return;
        cdp_profile_load(p);
        if (n->npath == 0) {
            /* The traits object itself: only "exists" makes sense of it. */
            out->t = VT_OBJ;
            out->json = p->traits;
            return;
        }
        json_t *entry = json_object_get(p->traits, n->path[0]);
        from_json(json_walk(json_array_get(entry, 0), n->path, 1, n->npath), out);
        return;
    }
    case F_CONSENT: {
        out->t = VT_BOOL;
        out->b = false;
        if (s->store && s->txn) {
            int rc = cdp_consent_granted(s->store, s->txn, &s->id, n->path[0], x->e->now, &out->b);
            if (rc != 0)
                x->rc = rc;
        }
        return;
    }
    case F_PREDICTED:
        predicted_value(x, n->op, out);
        return;
    default:
        computed_value(x, n->field - F_COMPUTED, out);
        return;
    }
}

static void
event_field_value(struct eval *x, const struct node *n, struct value *out)
{
    const struct cdp_stored_event *ev = x->ev;
    memset(out, 0, sizeof *out);
    out->t = VT_NULL;
    if (ev == NULL)
        return;
    switch (n->field) {
    case EF_EVENT:
        if (ev->name_len) {
            out->t = VT_STR;
            out->s = ev->name;
            out->len = ev->name_len;
        }
        return;
    case EF_TYPE:
        set_str(out, cdp_event_type_name(ev->type));
        return;
    case EF_SOURCE:
        out->t = VT_STR;
        out->s = ev->source;
        out->len = ev->source_len;
        return;
    case EF_MESSAGE_ID:
        out->t = VT_STR;
        out->s = ev->message_id;
        out->len = ev->message_len;
        return;
    case EF_TIME:
        set_time(out, ev->time);
        return;
    default:
        if (!x->ev_parsed) {
            size_t len;
            const char *text = cdp_events_text(x->s->store, ev, &x->e->event_text, &len);
            x->ev_json = text ? json_loadb(text, len, 0, NULL) : NULL;
            x->ev_parsed = true;
        }
        from_json(json_walk(x->ev_json, n->path, 0, n->npath), out);
        return;
    }
}

/*
 * Strings name, source and message id of a stored event are not
 * NUL-terminated; everything that needs a C string copies.
 */
static bool
string_to_number(const struct value *v, double *n)
{
    char buf[64];
    if (v->len == 0 || v->len >= sizeof buf)
        return false;
    memcpy(buf, v->s, v->len);
    buf[v->len] = '\0';
    char *end;
    errno = 0;
    *n = strtod(buf, &end);
    while (*end == ' ')
        end++;
    return end != buf && *end == '\0' && errno == 0 && isfinite(*n) && !isspace((unsigned char)buf[0]);
}

/* Brings a and b to one type for comparing; false when they cannot be. */
static bool
coerce_pair(struct value *a, struct value *b)
{
    if (a->t == b->t)
        return true;
    struct value *sides[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct value *str = sides[i], *other = sides[1 - i];
        if (str->t != VT_STR)
            continue;
        int64_t ms;
        double n;
        if (other->t == VT_TIME && cdp_time_parse(str->s, str->len, &ms)) {
            str->t = VT_TIME;
            str->ms = ms;
            return true;
        }
        if (other->t == VT_DUR && cdp_time_parse_duration(str->s, str->len, &ms)) {
            str->t = VT_DUR;
            str->ms = ms;
            return true;
        }
        if (other->t == VT_NUM && string_to_number(str, &n)) {
            str->t = VT_NUM;
            str->n = n;
            return true;
        }
    }
    return false;
}

/* -1, 0, 1, or 2 when a and b do not compare. */
static int
compare_values(struct value a, struct value b)
{
    if (a.t == VT_NULL || b.t == VT_NULL)
        return 2;
    if (!coerce_pair(&a, &b))
        return 2;
    switch (a.t) {
    case VT_NUM:
        return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    case VT_TIME:
    case VT_DUR:
        return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : 0;
    case VT_STR: {
        size_t n = a.len < b.len ? a.len : b.len;
        int c = memcmp(a.s, b.s, n);
        if (c == 0)
            c = a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case VT_BOOL:
        return a.b == b.b ? 0 : 3; /* unequal, but not ordered */
    default:
        return 2;
    }
}

static bool
compare(int op, const struct value *a, const struct value *b)
{
    int c = compare_values(*a, *b);
    if (c == 2)
        return false;
    switch (op) {
    case OP_EQ:
        return c == 0;
    case OP_NE:
        return c != 0;
    case OP_LT:
        return c == -1;
    case OP_LE:
        return c == -1 || c == 0;
    case OP_GT:
        return c == 1;
    default:
        return c == 1 || c == 0;
    }
}

/* Calls fn on each item until it returns true; returns whether one did. */
static bool
list_any(const struct value *v, bool (*fn)(const struct value *item, const void *ctx),
         const void *ctx)
{
    struct value item;
    if (v->json) {
        size_t i;
        json_t *j;
        json_array_foreach(v->json, i, j)
        {
            from_json(j, &item);
            if (fn(&item, ctx))
                return true;
        }
    } else if (v->items) {
        for (size_t i = 0; i < v->nitems; i++)
            if (fn(&v->items[i]->lit, ctx))
                return true;
    } else if (v->nulsep != NULL) { /* an empty literal list has neither */
        const char *s = v->nulsep, *end = s + v->nulsep_len;
        while (s < end) {
            set_str(&item, s);
            if (fn(&item, ctx))
                return true;
            s += item.len + 1;
        }
    }
    return false;
}

static bool
equal_to(const struct value *item, const void *ctx)
{
    return compare(OP_EQ, item, ctx);
}

static bool
string_op(int op, const struct value *a, const struct value *b)
{
    if (a->t != VT_STR || b->t != VT_STR || b->len > a->len)
        return false;
    switch (op) {
    case SOP_STARTS:
        return memcmp(a->s, b->s, b->len) == 0;
    case SOP_ENDS:
        return memcmp(a->s + a->len - b->len, b->s, b->len) == 0;
    default:
        return b->len == 0 || memmem(a->s, a->len, b->s, b->len) != NULL;
    }
}

struct strop_ctx {
    int op;
    const struct value *needle;
};

static bool
item_string_op(const struct value *item, const void *ctx)
{
    const struct strop_ctx *c = ctx;
    return string_op(c->op, item, c->needle);
}

static bool
matches_string(const regex_t *re, const struct value *v)
{
    if (v->t != VT_STR)
        return false;
    if (v->s[v->len] == '\0')
        return regexec(re, v->s, 0, NULL, 0) == 0;
    char *copy = cdp_xmalloc(v->len + 1);
    memcpy(copy, v->s, v->len);
    copy[v->len] = '\0';
    bool m = regexec(re, copy, 0, NULL, 0) == 0;
    free(copy);
    return m;
}

static bool
item_matches(const struct value *item, const void *ctx)
{
    return matches_string(ctx, item);
}

static bool
in_list(const struct value *item, const void *ctx)
{
    return list_any(ctx, equal_to, item);
}

static bool
truthy(const struct value *v)
{
    return v->t == VT_BOOL && v->b;
}

/* Arithmetic on values of any type, bringing strings to numbers, times or durations. */
static void
arith_dynamic(int op, struct value a, struct value b, struct value *out)
{
    memset(out, 0, sizeof *out);
    out->t = VT_NULL;
    if (a.t == VT_NULL || b.t == VT_NULL)
        return;
    struct value *sides[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        struct value *v = sides[i];
        double n;
        int64_t ms;
        if (v->t != VT_STR)
            continue;
        if (string_to_number(v, &n)) {
            v->t = VT_NUM;
            v->n = n;
        } else if (cdp_time_parse(v->s, v->len, &ms)) {
            v->t = VT_TIME;
            v->ms = ms;
        } else if (cdp_time_parse_duration(v->s, v->len, &ms)) {
            v->t = VT_DUR;
            v->ms = ms;
        }
    }
    enum vtype t = arith_type(op, a.t, b.t);
    if (t == VT_NULL || t == VT_ANY || a.t == VT_STR || b.t == VT_STR || a.t == VT_BOOL ||
        b.t == VT_BOOL || a.t == VT_LIST || b.t == VT_LIST || a.t == VT_OBJ || b.t == VT_OBJ)
        return;
    if (!arith_values(op, &a, &b, out)) {
        memset(out, 0, sizeof *out);
        out->t = VT_NULL;
    }
}

/* ---- event functions ---- */

/* What visit_event returns to stop the walk early: no LMDB or errno code. */
#define STOP (-1)

struct evfn_state {
    struct eval *x;
    const struct node *n;
    int64_t from, to; /* the window, inclusive */
    double count, sum, best;
    bool have;
    int64_t first, last;
};

static int
visit_event(const struct cdp_stored_event *ev, void *ctx)
{
    struct evfn_state *st = ctx;
    const struct node *n = st->n;
    if (ev->time < st->from || ev->time > st->to)
        return 0;
    struct eval *x = st->x;
    x->ev = ev;
    x->ev_json = NULL;
    x->ev_parsed = false;
    bool take = true;
    struct value v;
    if (n->cond) {
        eval(x, n->cond, &v);
        take = truthy(&v);
    }
    if (take && n->arg) {
        eval(x, n->arg, &v);
        double num;
        if (v.t == VT_STR && string_to_number(&v, &num)) {
            v.t = VT_NUM;
            v.n = num;
        }
        take = v.t == VT_NUM;
        if (take) {
            st->sum += v.n;
            if (!st->have || (n->fn == FN_MIN ? v.n < st->best : v.n > st->best))
                st->best = v.n;
        }
    }
    json_decref(x->ev_json);
    x->ev = NULL;
    x->ev_json = NULL;
    if (!take)
        return 0;
    if (!st->have)
        st->first = ev->time;
    st->last = ev->time;
    st->have = true;
    st->count++;
    /* ever() and first() know the answer at the first match. */
    return (n->fn == FN_EVER || n->fn == FN_FIRST) ? STOP : 0;
}

static void
event_function(struct eval *x, const struct node *n, struct value *out)
{
    struct evfn_state st = {.x = x, .n = n, .from = INT64_MIN, .to = INT64_MAX};
    if (n->has_within) {
        st.to = x->e->now;
        st.from = x->e->now - n->within;
    }
    memset(out, 0, sizeof *out);
    if (x->s->store && x->s->txn) {
        int rc = cdp_events_each_between(x->s->store, x->s->txn, &x->s->id, st.from, st.to,
                                         visit_event, &st);
        if (rc != 0 && rc != STOP)
            x->rc = rc;
    }
    switch (n->fn) {
    case FN_COUNT:
        set_num(out, st.count);
        return;
    case FN_SUM:
        set_num(out, st.sum);
        return;
    case FN_AVG:
        if (st.have)
            set_num(out, st.sum / st.count);
        else
            out->t = VT_NULL;
        return;
    case FN_MIN:
    case FN_MAX:
        if (st.have)
            set_num(out, st.best);
        else
            out->t = VT_NULL;
        return;
    case FN_FIRST:
        set_time(out, st.have ? st.first : CDP_TIME_NONE);
        return;
    case FN_LAST:
        set_time(out, st.have ? st.last : CDP_TIME_NONE);
        return;
    default:
        out->t = VT_BOOL;
        out->b = st.have;
        return;
    }
}

static void
eval(struct eval *x, const struct node *n, struct value *out)
{
    struct value a, b;
    switch (n->kind) {
    case N_LIT:
        *out = n->lit;
        return;
    case N_LIST:
        memset(out, 0, sizeof *out);
        out->t = VT_LIST;
        out->items = n->items;
        out->nitems = n->nitems;
        return;
    case N_FIELD:
        field_value(x, n, out);
        return;
    case N_EVFIELD:
        event_field_value(x, n, out);
        return;
    default:
        break;
    }
    memset(out, 0, sizeof *out);
    out->t = VT_BOOL;
    switch (n->kind) {
    case N_AND:
        eval(x, n->a, &a);
        if (truthy(&a)) {
            eval(x, n->b, &b);
            out->b = truthy(&b);
        }
        return;
    case N_OR:
        eval(x, n->a, &a);
        out->b = truthy(&a);
        if (!out->b) {
            eval(x, n->b, &b);
            out->b = truthy(&b);
        }
        return;
    case N_NOT:
        eval(x, n->a, &a);
        out->b = !truthy(&a);
        return;
    case N_CMP:
        eval(x, n->a, &a);
        eval(x, n->b, &b);
        out->b = compare(n->op, &a, &b);
        return;
    case N_ISNULL:
        eval(x, n->a, &a);
        out->b = (a.t == VT_NULL) == (n->op == '=');
        return;
    case N_EXISTS:
        eval(x, n->a, &a);
        out->b = a.t != VT_NULL;
        return;
    case N_IN:
        eval(x, n->a, &a);
        eval(x, n->b, &b);
        if (a.t == VT_NULL || b.t != VT_LIST)
            return;
        if (a.t == VT_LIST)
            out->b = list_any(&a, in_list, &b);
        else
            out->b = list_any(&b, equal_to, &a);
        out->b = out->b != (n->op != 0);
        return;
    case N_STROP:
        eval(x, n->a, &a);
        eval(x, n->b, &b);
        if (a.t == VT_LIST) {
            if (n->op == SOP_CONTAINS) {
                out->b = b.t != VT_NULL && list_any(&a, equal_to, &b);
            } else {
                struct strop_ctx c = {n->op, &b};
                out->b = list_any(&a, item_string_op, &c);
            }
        } else {
            out->b = string_op(n->op, &a, &b);
        }
        return;
    case N_MATCH:
        eval(x, n->a, &a);
        out->b = a.t == VT_LIST ? list_any(&a, item_matches, &n->re) : matches_string(&n->re, &a);
        return;
    case N_ARITH:
        eval(x, n->a, &a);
        eval(x, n->b, &b);
        if (n->type != VT_ANY && a.t == n->a->type && b.t == n->b->type) {
            if (!arith_values(n->op, &a, &b, out)) {
                memset(out, 0, sizeof *out);
                out->t = VT_NULL;
            }
        } else {
            arith_dynamic(n->op, a, b, out);
        }
        return;
    case N_NEG:
        eval(x, n->a, &a);
        *out = a;
        if (a.t == VT_STR) {
            double num = 0;
            out->t = string_to_number(&a, &num) ? VT_NUM : VT_NULL;
            out->n = num;
        }
        if (out->t == VT_NUM)
            out->n = -out->n;
        else if (out->t == VT_DUR)
            out->ms = -out->ms;
        else
            out->t = VT_NULL;
        return;
    case N_EVFN:
        event_function(x, n, out);
        return;
    default:
        out->t = VT_NULL;
        return;
    }
}

int
cdp_expr_match(struct cdp_expr *e, struct cdp_expr_subject *s, bool *match)
{
    if (s->json == NULL && s->head == NULL && s->profile != NULL)
        s->head = &s->profile->head;
    struct eval x = {.e = e, .s = s};
    struct value v;
    eval(&x, e->root, &v);
    *match = x.rc == 0 && truthy(&v);
    if (x.lazy_state == 1)
        cdp_profile_free(&x.lazy);
    return x.rc;
}

int
cdp_expr_match_record(struct cdp_expr *e, struct cdp_store *store, MDB_txn *txn,
                      const struct cdp_id *id, const MDB_val *value, struct cdp_profile *p,
                      bool *full, bool *match)
{
    struct cdp_expr_subject s = {.id = *id, .store = store, .txn = txn,
                                 .record = value->mv_data, .record_len = value->mv_size};
    struct cdp_profile_head head;
    (void)p;
    *full = false;
    *match = false;
    if (!cdp_profile_decode_head(&head, value->mv_data, value->mv_size))
        return CDP_EXPR_DAMAGED;
    s.head = &head;
    return cdp_expr_match(e, &s, match);
}
