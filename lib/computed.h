/*
 * computed.h - which events feed which computed trait.
 *
 * The defaults follow the Segment e-commerce and e-mail specs; a user adds
 * names with cdp-ingest --count 'Event Name=counter'.  Orders, refunds and
 * checkouts are handled by the ingest engine, which needs the store for them
 * (deduplication by order_id, the 24-hour abandoned-cart window).
 */
#ifndef CDP_COMPUTED_H
#define CDP_COMPUTED_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

enum cdp_counter {
    CDP_COUNTER_NONE = 0,
    CDP_COUNTER_EMAIL_OPENS,
    CDP_COUNTER_EMAIL_CLICKS,
    CDP_COUNTER_DOWNLOADS,
    CDP_COUNTER_SUPPORT_CONTACTS,
    CDP_COUNTER_ORDER,    /* Order Completed */
    CDP_COUNTER_REFUND,   /* Order Refunded */
    CDP_COUNTER_CHECKOUT, /* Checkout Started */
};

#define CDP_SESSION_GAP_MS (30 * 60 * 1000LL)
#define CDP_ABANDON_WINDOW_MS (24 * 3600 * 1000LL)

struct cdp_counter_map;

/* The default mapping.  Free with cdp_computed_map_free(). */
struct cdp_counter_map *cdp_computed_map_new(void);
void cdp_computed_map_free(struct cdp_counter_map *map);

/* Adds "Event Name=counter"; false with a message in errbuf when malformed. */
bool cdp_computed_map_add(struct cdp_counter_map *map, const char *spec, char *errbuf,
                          size_t errsize);

/* The counter a track event of this name feeds. */
enum cdp_counter cdp_computed_classify(const struct cdp_counter_map *map, const char *name);

/* Adds one to the counter in the head (not orders/refunds/checkouts). */
void cdp_computed_count(struct cdp_profile_head *head, enum cdp_counter counter);

/* The names of counters accepted by --count, for messages and docs. */
extern const char cdp_computed_counter_names[];

/*
 * Sessions over a sorted list of activity times: visits and time on site
 * (the sum of gaps of at most 30 minutes).
 */
void cdp_computed_sessions(const int64_t *times, size_t n, uint32_t *visits, int64_t *time_ms);

/*
 * Abandoned carts: checkouts (sorted) with no order (sorted) in
 * [checkout, checkout + 24 h].
 */
uint32_t cdp_computed_abandoned(const int64_t *checkouts, size_t ncheckouts, const int64_t *orders,
                                size_t norders);

#endif
