/*
 * linkage.h - probabilistic record linkage: the Fellegi-Sunter model, its
 * estimation by expectation-maximisation, blocking, clusters and their
 * evaluation.
 *
 * The model is that of
 *
 *   Fellegi and Sunter (1969), "A Theory for Record Linkage", Journal of the
 *   American Statistical Association 64(328),
 *
 * in the form the Splink tool uses.  Each candidate pair of records is
 * compared field by field, elsewhere; the comparison of one field gives a
 * level from 0 ("else": the values disagree) to nlevels - 1 (they agree
 * exactly), or CDP_LINKAGE_NULL when either value is missing.  The levels of
 * all fields make up the pair's comparison vector, its gamma: one byte per
 * field.  For each field f and level l the model holds
 *
 *   m[f][l] = P(level l | the pair is a match),
 *   u[f][l] = P(level l | the pair is not a match),
 *
 * and lambda, the probability that two records drawn at random match.  A
 * pair's match weight is
 *
 *   w = log2(lambda / (1 - lambda)) + sum over fields of log2(m[f][l] / u[f][l]),
 *
 * a null level adding nothing, and its match probability is 2^w / (1 + 2^w).
 *
 * A typical run:
 *
 *   1. cdp_linkage_model_init() with the number of levels of each field;
 *   2. cdp_linkage_estimate_u() on the gammas of pairs drawn at random (nearly
 *      all of which are non-matches); set lambda from what is known about the
 *      data (e.g. expected matches / all pairs);
 *   3. cdp_linkage_block() to enumerate the candidate pairs, compare each and
 *      add its gamma to a pattern table (cdp_linkage_patterns_add());
 *   4. cdp_linkage_em() on the pattern table to estimate m, u held fixed;
 *   5. cdp_linkage_weights_init(), then cdp_linkage_weight() and
 *      cdp_linkage_probability() for each candidate pair;
 *   6. cdp_linkage_clusters_union() for each pair above a threshold, then
 *      cdp_linkage_clusters_labels();
 *   7. with labelled data, cdp_linkage_evaluate() to measure the result.
 *
 * Pure computation on arrays the caller owns: nothing here does I/O or
 * touches the store.  Functions that allocate return CDP_LINKAGE_ENOMEM when
 * memory runs out and leave their outputs as the function's comment says.
 */
#ifndef CDP_LINKAGE_H
#define CDP_LINKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CDP_LINKAGE_MAX_FIELDS 32 /* fields in a comparison vector */
#define CDP_LINKAGE_MAX_LEVELS 8  /* levels of one field's comparison */
#define CDP_LINKAGE_MAX_RULES 32  /* blocking rules */
#define CDP_LINKAGE_NULL 255      /* the level of a field missing on either side */

/* What the functions return. */
enum cdp_linkage_status {
    CDP_LINKAGE_OK = 0,
    CDP_LINKAGE_EINVAL,  /* an argument outside its documented domain */
    CDP_LINKAGE_ENOMEM,  /* out of memory */
    CDP_LINKAGE_ENOCONV, /* EM ran out of iterations before it converged */
    CDP_LINKAGE_STOPPED, /* the caller's callback asked to stop */
};

/* A short English description of a status, for messages. */
const char *cdp_linkage_strerror(int status);

/* ------------------------------------------------------------------------ */
/* The model                                                                */

/*
 * A fixed-size model: no allocation, copy it with =.  Entries of levels at
 * or beyond nlevels[f], and of fields at or beyond nfields, are never read
 * (cdp_linkage_model_init() sets them to 0).  The levels of a field need
 * not be probabilities that sum to 1 for the weights to be computed, but
 * the estimators below make them so.
 */
struct cdp_linkage_model {
    unsigned nfields;                                         /* 1..CDP_LINKAGE_MAX_FIELDS */
    unsigned char nlevels[CDP_LINKAGE_MAX_FIELDS];            /* 2..CDP_LINKAGE_MAX_LEVELS */
    double m[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS]; /* in (0, 1] */
    double u[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS]; /* in (0, 1] */
    double lambda;                                            /* in (0, 1) */
};

/* The default prior, 1e-4: one random pair in ten thousand matches. */
#define CDP_LINKAGE_DEFAULT_LAMBDA 1e-4

/*
 * Sets up a model of nfields fields, field f having nlevels[f] levels, with
 * starting values meant to be estimated over: m favours the higher levels
 * and u the lower ones, geometrically,
 *
 *   m[f][l] = 4^l / S,  u[f][l] = 4^(L-1-l) / S,  S = (4^L - 1) / 3,
 *
 * with L = nlevels[f] (for two levels m = {0.2, 0.8} and u = {0.8, 0.2}),
 * and lambda = CDP_LINKAGE_DEFAULT_LAMBDA.
 *
 * Returns CDP_LINKAGE_EINVAL, leaving *model all zeros, when nfields is 0 or
 * above CDP_LINKAGE_MAX_FIELDS or a field has fewer than 2 or more than
 * CDP_LINKAGE_MAX_LEVELS levels.
 */
int cdp_linkage_model_init(struct cdp_linkage_model *model, unsigned nfields,
                           const unsigned char *nlevels);

/*
 * Checks that a model is one the functions below accept: nfields and
 * nlevels in range, every m and u of a used level finite and in (0, 1],
 * lambda in (0, 1).  Returns CDP_LINKAGE_OK or CDP_LINKAGE_EINVAL.
 */
int cdp_linkage_model_check(const struct cdp_linkage_model *model);

/* ------------------------------------------------------------------------ */
/* Weights                                                                  */

/*
 * The log2 Bayes factors of a model, computed once so that scoring a pair
 * takes one table look-up and one addition per field.  A snapshot: after
 * changing the model, make it again.
 */
struct cdp_linkage_weights {
    unsigned nfields;
    unsigned char nlevels[CDP_LINKAGE_MAX_FIELDS];
    double prior; /* log2(lambda / (1 - lambda)) */
    /* log2(m / u); column CDP_LINKAGE_MAX_LEVELS is 0, for null and out-of-range levels */
    double level[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS + 1];
    double log2_m_exact[CDP_LINKAGE_MAX_FIELDS]; /* log2 m of the exact level, for overrides */
};

/*
 * Fills *weights from a model.  Returns CDP_LINKAGE_EINVAL, leaving
 * *weights untouched, when cdp_linkage_model_check() refuses the model.
 */
int cdp_linkage_weights_init(struct cdp_linkage_weights *weights,
                             const struct cdp_linkage_model *model);

/*
 * The match weight of a comparison vector of weights->nfields levels: the
 * prior plus, for each field whose level is below its nlevels, that level's
 * log2(m / u).  A level of CDP_LINKAGE_NULL adds 0; so does any other level
 * at or above nlevels, which is the caller's error.
 *
 * u_exact, when not NULL, holds weights->nfields term-frequency overrides,
 * as in Splink: when field f is at its exact level (nlevels[f] - 1) and
 * u_exact[f] > 0, the field adds log2(m[f][exact] / u_exact[f]) instead.
 * The caller passes the frequency of the value the two records share,
 * typically max(tf(value), tf_min), so a common surname counts for less
 * than a rare one.  u_exact[f] <= 0 or NaN means "no override" for f, and
 * an override is ignored at every level but the exact one.
 */
double cdp_linkage_weight(const struct cdp_linkage_weights *weights, const uint8_t *gamma,
                          const double *u_exact);

/*
 * What one field at one level adds to a match weight, by the rules of
 * cdp_linkage_weight() (u_exact is the one field's override, or a negative
 * number for none); 0 for a null or out-of-range level or field.  For
 * explaining a score field by field.
 */
double cdp_linkage_field_weight(const struct cdp_linkage_weights *weights, unsigned field,
                                unsigned level, double u_exact);

/*
 * The weight of a prior alone: log2(lambda / (1 - lambda)); -infinity for
 * 0, +infinity for 1, NaN outside [0, 1].
 */
double cdp_linkage_prior_weight(double lambda);

/*
 * The match probability of a match weight (which includes the prior):
 * 2^w / (1 + 2^w), so 0.5 at 0, 0 at -infinity and 1 at +infinity.
 */
double cdp_linkage_probability(double weight);

/* ------------------------------------------------------------------------ */
/* Estimating u                                                             */

/*
 * Estimates u from the comparison vectors of npairs pairs of records drawn
 * at random, nearly all of them non-matches: gammas holds npairs rows of
 * model->nfields levels each, pair p's field f at gammas[p * nfields + f].
 * Null levels are left out of their field's count.  With c[f][l] the number
 * of pairs at level l of field f and N[f] the non-null pairs of f,
 *
 *   u[f][l] = (c[f][l] + 0.5) / (N[f] + 0.5 nlevels[f]),
 *
 * an add-one-half smoothing, so that a level the sample never showed (an
 * exact match on a nearly unique value, say) gets a u near 1 / (2 N) rather
 * than 0, and a field that is null in every pair gets uniform u.  m and
 * lambda are left alone.
 *
 * nonnull, when not NULL, receives N[f] for each of the model's fields, so
 * that the caller can warn about a field too sparse to estimate.
 *
 * Returns CDP_LINKAGE_EINVAL, changing nothing, when the model's shape is
 * out of range (see cdp_linkage_model_init()), when gammas is NULL while
 * npairs > 0, or when a level is neither below its field's nlevels nor
 * CDP_LINKAGE_NULL.  npairs may be 0: every u is then uniform.
 */
int cdp_linkage_estimate_u(struct cdp_linkage_model *model, const uint8_t *gammas, size_t npairs,
                           uint64_t *nonnull);

/* ------------------------------------------------------------------------ */
/* Pattern table                                                            */

/*
 * The distinct comparison vectors ("patterns") of many pairs and how often
 * each occurred, so that EM costs time in proportion to the patterns, not
 * the pairs.  An open-addressing hash table over the vectors; patterns are
 * numbered from 0 in the order they were first added, and keep their
 * number as the table grows.
 *
 *     struct cdp_linkage_patterns table;
 *     if (cdp_linkage_patterns_init(&table, nfields) != CDP_LINKAGE_OK) ...
 *     for each candidate pair:
 *         if (cdp_linkage_patterns_add(&table, gamma, 1, NULL) != CDP_LINKAGE_OK) ...
 *     cdp_linkage_em(&model, &table, NULL, &report);
 *     cdp_linkage_patterns_free(&table);
 */
struct cdp_linkage_patterns {
    unsigned nfields;
    size_t count;     /* distinct patterns */
    uint64_t total;   /* the sum of all counts */
    uint8_t *gammas;  /* pattern i is gammas[i * nfields .. i * nfields + nfields - 1] */
    uint64_t *counts; /* how often pattern i was added */
    /* private */
    size_t allocated; /* patterns gammas and counts have room for */
    uint32_t *slots;  /* hash slots: pattern number + 1, or 0 when empty */
    size_t nslots;    /* a power of two, at least twice count */
};

/*
 * Makes an empty table for vectors of nfields levels (1 to
 * CDP_LINKAGE_MAX_FIELDS).  Returns CDP_LINKAGE_EINVAL or CDP_LINKAGE_ENOMEM,
 * leaving *table empty but safe to free, or CDP_LINKAGE_OK; the caller then
 * owns the table and releases it with cdp_linkage_patterns_free().
 */
int cdp_linkage_patterns_init(struct cdp_linkage_patterns *table, unsigned nfields);

/*
 * Adds count occurrences of the nfields-byte vector gamma (count may be 0,
 * which records the pattern without weight).  The bytes are taken as they
 * are: an invalid level is only refused later, by cdp_linkage_em().  When
 * index is not NULL it receives the pattern's number.
 *
 * Returns CDP_LINKAGE_ENOMEM, the table unchanged, when memory runs out or
 * the table already holds UINT32_MAX - 1 patterns.
 */
int cdp_linkage_patterns_add(struct cdp_linkage_patterns *table, const uint8_t *gamma,
                             uint64_t count, size_t *index);

/* The number of the pattern gamma, or SIZE_MAX when it was never added. */
size_t cdp_linkage_patterns_find(const struct cdp_linkage_patterns *table, const uint8_t *gamma);

/* Releases the table's memory and leaves it empty; it may be initialised again. */
void cdp_linkage_patterns_free(struct cdp_linkage_patterns *table);

/* ------------------------------------------------------------------------ */
/* Expectation-maximisation                                                 */

/* The least m EM leaves a level, before renormalisation (see cdp_linkage_em()). */
#define CDP_LINKAGE_M_FLOOR 1e-6

/*
 * How EM runs.  Pass NULL, or leave a field 0, for the default: 1000
 * iterations, a tolerance of 1e-6 and a starting lambda of 0.1.
 */
struct cdp_linkage_em_options {
    int max_iterations;
    double tolerance;    /* stop when no m and not lambda moved by more than this */
    double start_lambda; /* the share of matches among the pairs, to start from; in (0, 1) */
};

/* What EM did. */
struct cdp_linkage_em_report {
    int iterations;        /* E and M steps taken */
    bool converged;        /* the last step moved nothing by more than the tolerance */
    double lambda;         /* the estimated share of matches among the pairs */
    double max_change;     /* the largest move of an m or lambda in the last step */
    double log_likelihood; /* natural log-likelihood of the pairs at the estimate */
};

/*
 * Estimates m by EM over the pairs of a pattern table, u held fixed at
 * model->u, starting from model->m.  Each iteration
 *
 *   E: gives each pattern its posterior match probability
 *        p = 1 / (1 + 2^-w),
 *      w the pattern's match weight with the current m and lambda;
 *   M: sets, for each field f and level l,
 *        m[f][l] = sum of count p [gamma_f == l] / sum of count p [gamma_f not null]
 *      over the patterns, and lambda = sum of count p / sum of count.
 *
 * A level the matches never show would get m = 0, and a weight of minus
 * infinity for evermore; so each new m is raised to CDP_LINKAGE_M_FLOOR
 * when below it and the field's levels divided by their new sum, leaving
 * every m at least CDP_LINKAGE_M_FLOOR / (1 + nlevels CDP_LINKAGE_M_FLOOR).
 * A field with no non-null level among the weighted patterns keeps its m.
 * lambda is kept within [1e-12, 1 - 1e-12].
 *
 * The lambda estimated is the share of matches among the pairs of the
 * table (after blocking, typically far above the prior of random pairs):
 * it goes to report->lambda, and model->lambda is left alone, to be set by
 * the caller.  EM stops after an iteration that moved no m and not lambda
 * by more than the tolerance, or after max_iterations.
 *
 * Returns CDP_LINKAGE_OK when it converged, CDP_LINKAGE_ENOCONV when it ran
 * out of iterations (model->m then holds the last iterate and report says
 * how far it still moved).  Returns CDP_LINKAGE_EINVAL, changing nothing,
 * when the model fails cdp_linkage_model_check() (its lambda is not read,
 * but must be valid), the table's nfields differs from the model's, the
 * table holds no weight (total 0), a pattern has a level neither below its
 * field's nlevels nor CDP_LINKAGE_NULL, or an option is negative or a
 * start_lambda not in (0, 1).  report, when not NULL, is filled in except
 * after EINVAL.
 */
int cdp_linkage_em(struct cdp_linkage_model *model, const struct cdp_linkage_patterns *table,
                   const struct cdp_linkage_em_options *options,
                   struct cdp_linkage_em_report *report);

/* ------------------------------------------------------------------------ */
/* Blocking                                                                 */

/*
 * Receives one candidate pair, i < j.  A non-zero return stops the
 * enumeration.
 */
typedef int (*cdp_linkage_emit_fn)(void *ctx, uint32_t i, uint32_t j);

/* What a blocking run did. */
struct cdp_linkage_block_report {
    uint64_t pairs;                             /* pairs emitted */
    uint64_t skipped_blocks;                    /* blocks larger than max_block, left out */
    uint64_t skipped_pairs;                     /* size (size - 1) / 2 summed over those blocks */
    uint32_t largest_block;                     /* records in the largest block, skipped or not */
    uint64_t rule_pairs[CDP_LINKAGE_MAX_RULES]; /* pairs emitted under each rule */
    uint64_t rule_skipped_blocks[CDP_LINKAGE_MAX_RULES]; /* blocks left out under each rule */
};

/*
 * Enumerates the candidate pairs of n records under nrules blocking rules
 * (1 to CDP_LINKAGE_MAX_RULES).  keys[r][i] is record i's key under rule r,
 * for instance a hash of its postcode; 0 means the record has no key under
 * that rule (a missing postcode) and takes no part in its blocks.  The
 * records with equal non-zero keys under a rule form a block, and each
 * pair of records in a block is a candidate.
 *
 * A block of more than max_block records (when max_block is not 0) is left
 * out, lest one common key make n^2 pairs; report counts such blocks so
 * that the caller can warn.  Then every pair that shares a key in a block
 * not left out, under one rule or several, is passed to emit exactly once,
 * with i < j, and no other pair is: as in Splink, a pair found under rule k
 * is dropped when it also shares a non-zero key under an earlier rule r < k
 * (whose block, if not left out, produced it already).  Pairs come rule by
 * rule; within a rule, block by block, and within a block in ascending
 * order of i, then of j.
 *
 * Each rule's records are radix-sorted by key.  Time is O(n R) plus the
 * pairs times the rules; memory 32 n bytes, plus 4 n once a block is left
 * out.
 *
 * Returns CDP_LINKAGE_OK; CDP_LINKAGE_STOPPED when emit returned non-zero
 * (the caller keeps its reason in ctx); CDP_LINKAGE_EINVAL when nrules is
 * out of range or keys, a keys[r] (when n > 0) or emit is NULL;
 * CDP_LINKAGE_ENOMEM.  report, when not NULL, counts what was done until
 * then; in particular report->pairs is the number of calls to emit.
 */
int cdp_linkage_block(const uint64_t *const *keys, unsigned nrules, uint32_t n, uint32_t max_block,
                      cdp_linkage_emit_fn emit, void *ctx, struct cdp_linkage_block_report *report);

/* ------------------------------------------------------------------------ */
/* Clusters                                                                 */

/*
 * Disjoint sets over records 0..n-1 (union-find with path halving and union
 * by size), to turn linked pairs into clusters.
 *
 *     struct cdp_linkage_clusters c;
 *     if (cdp_linkage_clusters_init(&c, n) != CDP_LINKAGE_OK) ...
 *     for each pair (i, j) above the threshold:
 *         cdp_linkage_clusters_union(&c, i, j);
 *     cdp_linkage_clusters_labels(&c, labels);
 *     cdp_linkage_clusters_free(&c);
 */
struct cdp_linkage_clusters {
    uint32_t n;
    uint32_t count; /* clusters: n, less one for each union that merged two */
    /* private */
    uint32_t *parent;
    uint32_t *size;
};

/*
 * Makes n singleton clusters.  Returns CDP_LINKAGE_OK, the caller then
 * owning the sets, or CDP_LINKAGE_ENOMEM, leaving *clusters empty but safe
 * to free.  n may be 0.
 */
int cdp_linkage_clusters_init(struct cdp_linkage_clusters *clusters, uint32_t n);

/* The representative of record i's cluster (i < n); it changes as clusters merge. */
uint32_t cdp_linkage_clusters_find(struct cdp_linkage_clusters *clusters, uint32_t i);

/*
 * Merges the clusters of records i and j (both < n).  Returns true when
 * they were apart, false when already together.
 */
bool cdp_linkage_clusters_union(struct cdp_linkage_clusters *clusters, uint32_t i, uint32_t j);

/*
 * Writes each record's cluster id to labels (n entries): the smallest
 * record index in its cluster, so the labels depend only on which records
 * are together, not on the order of the unions.
 */
void cdp_linkage_clusters_labels(struct cdp_linkage_clusters *clusters, uint32_t *labels);

/* Releases the sets' memory and leaves them empty. */
void cdp_linkage_clusters_free(struct cdp_linkage_clusters *clusters);

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

/*
 * Pairwise agreement of a predicted clustering with the true one.  A pair
 * of records is predicted when both have the same predicted label, and
 * true when both have the same true label.
 */
struct cdp_linkage_evaluation {
    uint64_t true_positives;     /* pairs both predicted and true */
    uint64_t false_positives;    /* predicted, not true */
    uint64_t false_negatives;    /* true, not predicted */
    uint64_t predicted_pairs;    /* true_positives + false_positives */
    uint64_t true_pairs;         /* true_positives + false_negatives */
    uint64_t predicted_clusters; /* distinct predicted labels */
    uint64_t true_clusters;      /* distinct true labels */
    double precision;            /* TP / predicted pairs; 1 when none was predicted */
    double recall;               /* TP / true pairs; 1 when there are none */
    double f1;                   /* 2 P R / (P + R); 0 when P + R == 0 */
};

/*
 * Compares the predicted labels of n records with their true labels; the
 * labels are any numbers, and only equality matters.  With cells the
 * groups of records sharing both labels,
 *
 *   TP = sum over cells of C(size, 2),
 *   predicted pairs = sum over predicted clusters of C(size, 2),
 *   true pairs = sum over true clusters of C(size, 2).
 *
 * Precision with no predicted pair is 1 (no link was claimed, so none is
 * wrong) and recall with no true pair is 1 (there was nothing to find), so
 * that all singletons against all singletons scores 1, 1, 1, while all
 * singletons against a truth with pairs scores precision 1, recall 0 and
 * F1 0.  The label pairs are radix-sorted: O(n) time, 16 n bytes.
 *
 * Returns CDP_LINKAGE_OK; CDP_LINKAGE_EINVAL when n > 0 and a label array
 * is NULL, or CDP_LINKAGE_ENOMEM, *out then untouched.
 */
int cdp_linkage_evaluate(const uint32_t *predicted, const uint32_t *truth, size_t n,
                         struct cdp_linkage_evaluation *out);

#endif
