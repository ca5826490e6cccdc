/*
 * survive.h - survivorship: which value of a trait a profile keeps when its
 * events (or the profiles merged into it) give several.
 *
 * A rule is one of
 *   recent            the value of the latest event (the default)
 *   first             the value of the earliest event
 *   frequent          the value given most often (ties: the latest)
 *   nonempty          the latest value that is not null, "", [] or {}
 *   source:A,B,...    the value from the first source of the list that gave
 *                     one (sources not listed come after); then the latest
 * Rules are kept per trait name in the store's meta record "survivorship"
 * (a JSON object, trait -> rule text; "*" names the rule of every trait not
 * named).  Every rule orders the candidate values completely, so a profile
 * keeps the same value whatever order its events arrive in; the one
 * exception is a "frequent" trait given more than CDP_SURVIVE_FREQUENT_MAX
 * distinct values, whose rarest counts are dropped as they come (a rebuild
 * then gives the time-order result).
 */
#ifndef CDP_SURVIVE_H
#define CDP_SURVIVE_H

#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum cdp_survive_policy {
    CDP_SURVIVE_RECENT,
    CDP_SURVIVE_FIRST,
    CDP_SURVIVE_FREQUENT,
    CDP_SURVIVE_NONEMPTY,
    CDP_SURVIVE_SOURCE,
};

/* How many distinct values a "frequent" trait counts; past it the rarest is dropped. */
#define CDP_SURVIVE_FREQUENT_MAX 64

struct cdp_survive_rule {
    enum cdp_survive_policy policy;
    char **sources; /* CDP_SURVIVE_SOURCE: the sources, best first */
    size_t nsources;
};

struct cdp_survive {
    json_t *spec; /* trait -> rule text, as stored */
    size_t n;
    char **names;
    struct cdp_survive_rule *rules;
    const struct cdp_survive_rule *fallback; /* the "*" rule, or NULL */
};

/* Parses a rule's text into r (to free with cdp_survive_rule_free); false with err set. */
bool cdp_survive_parse_rule(const char *text, struct cdp_survive_rule *r, char *err,
                            size_t errsize);
void cdp_survive_rule_free(struct cdp_survive_rule *r);

/* True when name can carry a rule: a trait name, or "*". */
bool cdp_survive_name_ok(const char *name);

/*
 * Builds the rules from their JSON object.  NULL with err set when a rule
 * does not parse; an empty object gives rules that name nothing.
 */
struct cdp_survive *cdp_survive_from_json(json_t *spec, char *err, size_t errsize);

/*
 * Loads the store's rules into *out: NULL when the store has none (every
 * trait keeps its latest value).  Returns 0 or an LMDB code
 * (MDB_CORRUPTED when the record does not parse).
 */
int cdp_survive_load(struct cdp_store *store, MDB_txn *txn, struct cdp_survive **out);

/* Writes spec as the store's rules (deleting the record when spec is empty). */
int cdp_survive_save(struct cdp_store *store, MDB_txn *txn, json_t *spec);

void cdp_survive_free(struct cdp_survive *s);

/* The rule of a trait; NULL means the default, recent.  s may be NULL. */
const struct cdp_survive_rule *cdp_survive_rule_for(const struct cdp_survive *s,
                                                    const char *trait);

/* True when a value counts as empty for "nonempty": null, blank string, [] or {}. */
bool cdp_survive_empty(json_t *value);

/*
 * Orders two candidates of one trait under a rule (NULL: recent): > 0 when a
 * is kept over b, < 0 when b is, 0 only when they are the same candidate.
 */
int cdp_survive_compare(const struct cdp_survive_rule *rule, json_t *value_a, int64_t time_a,
                        const char *source_a, json_t *value_b, int64_t time_b,
                        const char *source_b);

#endif
