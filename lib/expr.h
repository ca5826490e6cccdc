/*
 * expr.h - the segment expression language: compiled once, evaluated once
 * per profile.
 *
 *   computed.orders_count >= 2 and computed.last_order_at > now - 90d
 *   count(event = 'Order Completed', within 90d) >= 2
 *   traits.city in ['Lyon', 'Villeurbanne'] and consent.email_marketing
 *
 * The language is described in cdp-segment(1).  In short:
 *
 *   fields     id, identifiers, traits.x.y, computed.x, first_seen,
 *              last_seen, consent.PURPOSE; traits["odd name"] for names
 *              that are not identifiers.  A missing field is null.
 *   literals   numbers, 'strings' and "strings", true, false, null,
 *              ISO 8601 dates and times (2024-05-01, 2024-05-01T10:00:00Z),
 *              durations (30d, 12h, 15m, 45s, 500ms, 2w, 1d12h), now,
 *              lists of constants [a, b, ...]
 *   operators  or < and < not < comparison < + - < * / < unary -
 *              = (also ==) != (also <>) < <= > >= in, not in, contains,
 *              starts_with, ends_with, matches (POSIX extended regex), exists
 *   events     count(COND, within D), sum(PATH, COND, within D), avg, min,
 *              max (like sum), first(COND, within D), last(COND, within D),
 *              ever(COND, within D); COND and "within D" are optional; in
 *              COND, event, type, source, time, message_id and any path into
 *              the event (properties.revenue, context.ip) are the event's
 *
 * A comparison with null (a missing field) is false, whichever the operator,
 * except "= null" and "!= null" which test for it.  Types are checked when
 * the expression is compiled wherever they are known (a date compared with
 * a string that is not a date is an error); values read from traits are
 * checked when evaluated, and a mismatch there compares false.
 */
#ifndef CDP_EXPR_H
#define CDP_EXPR_H

#include "buf.h"
#include "hash.h"
#include "profile.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A compiled expression; opaque. */
struct cdp_expr;

/* Where and why compiling failed. */
struct cdp_expr_error {
    size_t column;     /* 1-based, in characters of the expression text */
    bool type;         /* a type error (well-formed, but the types do not fit) */
    char message[256]; /* e.g. "expected a value, found 'and'" */
};

/* What evaluating needs from a profile, so that a scan does no more work than that. */
enum {
    CDP_EXPR_NEEDS_SECTIONS = 1, /* identifiers, traits or tallies: decode the whole record */
    CDP_EXPR_NEEDS_EVENTS = 2,   /* the profile's stored events */
    CDP_EXPR_NEEDS_CONSENT = 4,  /* the consent database */
    CDP_EXPR_NEEDS_PREDICTED = 8, /* the predictions database */
};

/*
 * Compiles text; now is the time (ms since the epoch, UTC) that "now"
 * stands for.  Returns the expression, to free with cdp_expr_free(), or
 * NULL with *err telling where and why.
 */
struct cdp_expr *cdp_expr_compile(const char *text, int64_t now, struct cdp_expr_error *err);

/* Frees an expression (NULL is fine). */
void cdp_expr_free(struct cdp_expr *e);

/* CDP_EXPR_NEEDS_* bits of the expression. */
unsigned cdp_expr_needs(const struct cdp_expr *e);

/*
 * Appends the two lines that show where a compile error is: the expression
 * (tabs and newlines shown as spaces) and a caret under err->column, each
 * ending with a newline, each indented by two spaces.
 */
void cdp_expr_show_error(const char *text, const struct cdp_expr_error *err, struct cdp_buf *out);

/*
 * A profile to evaluate: either a record of the store (head, and profile
 * when the expression needs sections) or a profile object as cdp-export
 * writes it (json).  store and txn, when set, give the events and the
 * consent records of the profile with this id; without them an event
 * condition sees no events and every consent is false.  A profile object
 * with a "consent" object of its own is read from it instead of the store.
 */
struct cdp_expr_subject {
    struct cdp_id id;
    const struct cdp_profile_head *head; /* store: the record's head */
    struct cdp_profile *profile;         /* store: the decoded record, when needed */
    json_t *json;                        /* stream: the profile object (borrowed) */
    /* store: the record's bytes, decoded only if a field needs more than the head */
    const void *record;
    size_t record_len;
    struct cdp_store *store;
    MDB_txn *txn;
};

/*
 * Evaluates e against s; *match is true when the value is true.  Returns 0,
 * or an LMDB error code from reading events or consent.  Not thread-safe:
 * an expression keeps scratch space between calls.
 */
int cdp_expr_match(struct cdp_expr *e, struct cdp_expr_subject *s, bool *match);

/*
 * Evaluates e on a record read from the profiles database: decodes the
 * fixed head, or the whole record into *p (to free with
 * cdp_profile_free() when *full is set) when the expression needs it.
 * Returns 0, CDP_EXPR_DAMAGED for a record that cannot be decoded, or an
 * LMDB error code.
 */
#define CDP_EXPR_DAMAGED (-2)
int cdp_expr_match_record(struct cdp_expr *e, struct cdp_store *store, MDB_txn *txn,
                          const struct cdp_id *id, const MDB_val *value, struct cdp_profile *p,
                          bool *full, bool *match);

#endif
