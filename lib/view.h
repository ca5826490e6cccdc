/*
 * view.h - a profile as the outside world sees it: the JSON object that
 * cdp-export writes and cdp-segment reads.
 *
 *   {"id": "...", "identifiers": ["email:...", ...], "traits": {...},
 *    "computed": {...}, "first_seen": "...", "last_seen": "...",
 *    "consent": {...}}     (consent when the store is at hand: consent.h)
 */
#ifndef CDP_VIEW_H
#define CDP_VIEW_H

#include "buf.h"
#include "profile.h"

#include <jansson.h>

/* Appends the profile as one line of compact JSON (no newline) to out. */
void cdp_view_profile(struct cdp_profile *p, struct cdp_buf *out);

/*
 * The same, with more members at the end: members is their JSON text
 * without braces ("\"consent\":{...}"), or NULL.
 */
void cdp_view_profile_with(struct cdp_profile *p, const char *members, struct cdp_buf *out);

/* The profile as a JSON object (new reference). */
json_t *cdp_view_profile_json(struct cdp_profile *p);

/*
 * Orders per 30 days between the first order and the last, rounded to the
 * four significant digits the profile object shows; false when there are
 * fewer than two orders or no span between them.
 */
bool cdp_view_purchase_frequency(const struct cdp_profile_head *h, double *per30);

/*
 * Appends the text of computed field name (as a CSV cell shows it: empty
 * for null) of p.  With p NULL, only tells whether name is a computed
 * field.  False for an unknown name.
 */
bool cdp_view_computed_text(struct cdp_profile *p, const char *name, struct cdp_buf *out);

/* The index of a computed field's name (for cdp_view_computed_text_at), or -1. */
int cdp_view_computed_index(const char *name);

/* cdp_view_computed_text() for a field known by its index. */
void cdp_view_computed_text_at(struct cdp_profile *p, int which, struct cdp_buf *out);

/* Appends a JSON string literal (quoted, escaped) of s[0..len) to out. */
void cdp_view_string(struct cdp_buf *out, const char *s, size_t len);

/* Appends a time as a quoted ISO 8601 string, or null for CDP_TIME_NONE. */
void cdp_view_time(struct cdp_buf *out, int64_t ms);

/* Appends an amount in millionths as a JSON number ("12.5"). */
void cdp_view_micros(struct cdp_buf *out, int64_t micros);

#endif
