/*
 * match.h - finding the records that describe the same person: fields
 * compared with the comparators of compare.h, candidate pairs found by
 * blocking, a Fellegi-Sunter model (linkage.h) trained on the records
 * themselves, and clusters of the pairs above a threshold.
 *
 *     struct cdp_match *m = cdp_match_new(fields, nfields, &err);
 *     cdp_match_add_rule(m, "postcode+surname:1", ...);      (or the defaults)
 *     for each record: cdp_match_add(m, key, values);
 *     cdp_match_run(m, &options, &report);      blocks, trains, scores, clusters
 *     cdp_match_cluster(m, i)                    the cluster of record i
 *     cdp_match_free(m);
 *
 * Everything that depends on chance (the random pairs that estimate u)
 * depends on the records' keys, not on the order they were added in, so
 * the same records in any order give the same clusters.
 */
#ifndef CDP_MATCH_H
#define CDP_MATCH_H

#include "buf.h"
#include "linkage.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a field is compared; the levels, lowest first. */
enum cdp_match_kind {
    CDP_MATCH_NAME,  /* else, Jaro-Winkler >= 0.70, >= 0.88, >= 0.92, exact (folded) */
    CDP_MATCH_CODE,  /* else, 2 edits, 1 edit (Damerau), exact */
    CDP_MATCH_DATE,  /* else, within a year, within a month, one digit edit, exact */
    CDP_MATCH_EXACT, /* else, exact */
    CDP_MATCH_KIND_COUNT
};

/* "name", "code", "date", "exact" */
extern const char *const cdp_match_kind_names[CDP_MATCH_KIND_COUNT];

/*
 * The kind a column's name suggests: the names of common person fields
 * first (surname: name, postcode: code, dob: date), then the name's ends
 * (purchase_date, date_signed: date; crm_id, vat_number, zip, state,
 * year_of_birth: code); anything else is a name.
 */
enum cdp_match_kind cdp_match_guess_kind(const char *column);

struct cdp_match_field {
    const char *name; /* borrowed */
    enum cdp_match_kind kind;
    bool tf; /* term-frequency adjustment of an exact match */
};

struct cdp_match;

/* A matcher for records of nfields fields (1 .. CDP_LINKAGE_MAX_FIELDS). */
struct cdp_match *cdp_match_new(const struct cdp_match_field *fields, size_t nfields);
void cdp_match_free(struct cdp_match *m);

/*
 * Adds a blocking rule: fields joined by '+', each optionally cut to its
 * first N characters with ":N" ("postcode+surname:1").  Records that agree
 * on every part, none of them empty, are compared.  Returns false with a
 * message in err for an unknown field or a bad prefix.
 */
bool cdp_match_add_rule(struct cdp_match *m, const char *rule, char *err, size_t errsize);

/*
 * Adds the default rules that the fields allow, in this order: phone;
 * email; a national id such as soc_sec_id; date of birth; postcode with
 * the first letter of the surname; surname with the given
 * name's first letter; given name with the surname's first letter and the
 * year of birth; street number with the postcode; given name with the
 * postcode.  A rule is added when all its fields are there (recognised by
 * their names, as cdp_match_guess_kind() does).  Returns the number added.
 */
size_t cdp_match_default_rules(struct cdp_match *m);

/* The rules, as text, for reports. */
size_t cdp_match_nrules(const struct cdp_match *m);
const char *cdp_match_rule_text(const struct cdp_match *m, size_t rule);

/*
 * Adds a record: its key (an id, unique, for output and ordering) and
 * nfields values (NULL or "" for missing), copied and folded.
 */
void cdp_match_add(struct cdp_match *m, const char *key, const char *const *values);

/*
 * Linking instead of deduplicating: source[i] (for each record added, in
 * order; copied) names the file record i came from, and only records of
 * different sources are compared, for the model as for the links.
 */
void cdp_match_set_link(struct cdp_match *m, const int *source);

/* The number of records. */
size_t cdp_match_count(const struct cdp_match *m);

struct cdp_match_options {
    double threshold;  /* link pairs with at least this match probability (default 0.95) */
    double prior;      /* P(match) of a random pair; 0: estimated by EM */
    double recall;     /* the share of all matches the blocking rules find (default 1):
                          the estimated prior is divided by it */
    size_t u_pairs;    /* random pairs for u (default 1,000,000, fewer when n is small) */
    uint32_t max_block; /* larger blocks are skipped (default 5000) */
    unsigned threads;   /* comparisons run on this many threads (default 1) */
    /* Called for each scored pair when set (explanations); i, j are record indexes. */
    void (*pair)(void *ctx, size_t i, size_t j, double weight, double probability,
                 const uint8_t *gamma);
    void *ctx;
};

struct cdp_match_report {
    uint64_t pairs;          /* candidate pairs scored */
    uint64_t skipped_blocks; /* blocks over max_block */
    uint64_t links;          /* pairs at or above the threshold */
    size_t clusters;
    double prior;            /* the prior used */
    double expected_matches; /* among the candidate pairs, by EM with m and u estimated */
    int em_sessions, em_converged;
    uint64_t rule_pairs[CDP_LINKAGE_MAX_RULES]; /* pairs each rule found first */
    double compare_seconds; /* wall time of comparing and scoring the candidate pairs */
};

/*
 * Blocks, estimates u from random pairs and m by EM (one session per
 * blocking rule, the rule's own fields left out), scores every candidate
 * pair and clusters the links.  Returns 0, or a CDP_LINKAGE_* status.
 */
int cdp_match_run(struct cdp_match *m, const struct cdp_match_options *options,
                  struct cdp_match_report *report);

/* After a run: the cluster of record i, the key of its first member in key order. */
const char *cdp_match_cluster(const struct cdp_match *m, size_t i);

/* The record's key and its folded value of field f ("" when missing). */
const char *cdp_match_key(const struct cdp_match *m, size_t i);
const char *cdp_match_value(const struct cdp_match *m, size_t i, size_t f);

/* The model after a run (m and u per level, lambda = the prior). */
const struct cdp_linkage_model *cdp_match_model(const struct cdp_match *m);

/* The name of level l of field f ("exact", "jaro_winkler>=0.92", ..., "null"). */
const char *cdp_match_level_name(const struct cdp_match *m, size_t f, unsigned level);

/* What field f at level l added to the pair (i, j)'s weight (term frequency included). */
double cdp_match_field_weight(const struct cdp_match *m, size_t i, size_t j, size_t f,
                              unsigned level);

/* Appends the model as JSON: per field its kind and, per level, m, u and the weight. */
void cdp_match_model_json(const struct cdp_match *m, struct cdp_buf *out);

#endif
