/*
 * profile.h - the unified profile and its record in the store.
 *
 * A profile record is a fixed header (struct cdp_profile_head, read with one
 * memcpy: every scan of computed traits needs no parsing) followed by three
 * length-prefixed sections:
 *
 *   u32 length, identifiers: "kind:value" strings, each NUL-terminated, sorted
 *   u32 length, traits:  JSON object  name -> [value, time_ms, "source"]
 *   u32 length, tallies: JSON object  "payment_method"|"category" -> {value: count}
 *
 * The profile id is not in the record: it is the key.
 */
#ifndef CDP_PROFILE_H
#define CDP_PROFILE_H

#include "buf.h"
#include "hash.h"
#include "survive.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CDP_PROFILE_MAGIC 0x31504443u /* "CDP1" */
#define CDP_TIME_NONE INT64_MIN

struct cdp_profile_head {
    uint32_t magic;
    uint32_t flags;
    int64_t first_seen;
    int64_t last_seen;
    int64_t anchor_time;              /* time of the earliest event (the id derives from it) */
    unsigned char anchor_message[16]; /* its message hash, to break ties */
    int64_t first_order_at;
    int64_t last_order_at;
    int64_t time_on_site_ms;
    int64_t revenue_micros; /* in millionths, so sums do not depend on order */
    uint32_t events_count;
    uint32_t page_views;
    uint32_t visits;
    uint32_t email_opens;
    uint32_t email_clicks;
    uint32_t downloads;
    uint32_t support_contacts;
    uint32_t orders_count;
    uint32_t returns_count;
    uint32_t abandoned_carts;
};

struct cdp_profile {
    struct cdp_id id;
    struct cdp_profile_head head;
    struct cdp_buf identifiers; /* NUL-separated, sorted, no duplicates */
    size_t identifiers_count;
    /*
     * Traits and tallies are parsed only when used: most events touch
     * neither, and parsing them for every event would dominate ingest.
     * Until cdp_profile_load(), they are kept as the record's JSON text.
     */
    json_t *traits;  /* owned; NULL until loaded */
    json_t *tallies; /* owned; NULL until loaded */
    struct cdp_buf traits_text;
    struct cdp_buf tallies_text;
};

/* Parses the traits and tallies text if not done yet; after it both are objects. */
void cdp_profile_load(struct cdp_profile *p);

/* A new, empty profile with the given id. */
void cdp_profile_init(struct cdp_profile *p, const struct cdp_id *id);

/* Frees what the profile owns (not p itself). */
void cdp_profile_free(struct cdp_profile *p);

/*
 * Decodes a record read from the store into p (which must be freed after).
 * Returns false when the record is damaged; p is then an empty profile.
 */
bool cdp_profile_decode(struct cdp_profile *p, const struct cdp_id *id, const void *data,
                        size_t len);

/*
 * A record's sections as they lie in the bytes LMDB gives (nothing is
 * copied): valid only while those bytes are, that is within the read
 * transaction.  For readers that go through every profile of the store and
 * need no JSON tree.
 */
struct cdp_profile_record {
    struct cdp_profile_head head;
    const char *identifiers; /* NUL-terminated "kind:value" strings, end to end */
    size_t identifiers_len;
    const char *traits; /* the traits object's JSON text (may be empty) */
    size_t traits_len;
    const char *tallies; /* the tallies object's JSON text (may be empty) */
    size_t tallies_len;
};

/*
 * Points r at the sections of the record data[0..len).  Returns false when
 * the record is damaged, exactly when cdp_profile_decode() would.
 */
bool cdp_profile_record_read(struct cdp_profile_record *r, const void *data, size_t len);

/* Decodes only the fixed header: the fast path of scans.  False if damaged. */
bool cdp_profile_decode_head(struct cdp_profile_head *head, const void *data, size_t len);

/* Encodes p into out (reset first). */
void cdp_profile_encode(const struct cdp_profile *p, struct cdp_buf *out);

/* True when the profile holds this "kind:value" identifier. */
bool cdp_profile_has_identifier(const struct cdp_profile *p, const char *identifier);

/* Adds an identifier (kept sorted); false when it was there already. */
bool cdp_profile_add_identifier(struct cdp_profile *p, const char *identifier);

/* How many identifiers of this kind ("email", "user", ...) the profile holds. */
size_t cdp_profile_count_kind(const struct cdp_profile *p, const char *kind);

/* Calls fn for each identifier in order. */
void cdp_profile_each_identifier(const struct cdp_profile *p,
                                 void (*fn)(const char *identifier, void *ctx), void *ctx);

/*
 * Offers a value of a trait, given at time by source, and keeps the one the
 * trait's survivorship rule prefers (NULL: the latest; ties go to the
 * greater source name, then the greater value text, so the result does not
 * depend on arrival order; see survive.h).  Under "frequent" the entry also
 * counts each value.  value is borrowed.  Returns true when it changed.
 */
bool cdp_profile_set_trait(struct cdp_profile *p, const char *name, json_t *value, int64_t time,
                           const char *source, const struct cdp_survive_rule *rule);

/* Adds delta to tallies[group][value]; drops the entry when it reaches 0. */
void cdp_profile_tally(struct cdp_profile *p, const char *group, const char *value, int delta);

/* The value of tallies[group] with the highest count (ties: the smallest name), or NULL. */
const char *cdp_profile_top_tally(struct cdp_profile *p, const char *group);

/*
 * Folds src into dst: identifiers, traits (by their survivorship rules, from
 * rules, which may be NULL), tallies and additive
 * counters; dates take min/max; the anchor becomes the earlier one.  Counters
 * that depend on the order of events (visits, time on site, abandoned carts)
 * are left for the caller to recompute from the merged events.
 */
void cdp_profile_merge(struct cdp_profile *dst, struct cdp_profile *src,
                       const struct cdp_survive *rules);

/* True when (time, message) is earlier than the profile's anchor. */
bool cdp_profile_before_anchor(const struct cdp_profile *p, int64_t time,
                               const unsigned char message[16]);

#endif
