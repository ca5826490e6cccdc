/*
 * linkage.c - the Fellegi-Sunter model, u estimation, the pattern table, EM,
 * blocking, clusters and pairwise evaluation.
 *
 * Speed: scoring a pair is a table look-up and an addition per field, the
 * logarithms having been taken once in cdp_linkage_weights_init().  EM works
 * on the distinct comparison vectors with their counts, so an iteration over
 * millions of pairs costs a few thousand patterns.  Blocking radix-sorts the
 * records of each rule by key, 64-bit keys in at most eight byte-wide
 * passes, and skips a pass when every key has the same byte there; the
 * labels of an evaluation are sorted the same way.
 */
#include "linkage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_ITERATIONS 1000
#define DEFAULT_TOLERANCE 1e-6
#define DEFAULT_START_LAMBDA 0.1

/* EM keeps lambda this far from 0 and 1, where the prior weight is infinite. */
#define LAMBDA_FLOOR 1e-12

/* The first sizes of a pattern table: slots, and patterns before growing. */
#define INITIAL_SLOTS 64
#define INITIAL_PATTERNS 32

const char *
cdp_linkage_strerror(int status)
{
    switch (status) {
    case CDP_LINKAGE_OK:
        return "success";
    case CDP_LINKAGE_EINVAL:
        return "invalid argument";
    case CDP_LINKAGE_ENOMEM:
        return "out of memory";
    case CDP_LINKAGE_ENOCONV:
        return "EM did not converge";
    case CDP_LINKAGE_STOPPED:
        return "stopped by the caller";
    }
    return "unknown status";
}

/* ------------------------------------------------------------------------ */
/* The model                                                                */

/* True when nfields and the levels of each field are within range. */
static bool
shape_ok(unsigned nfields, const unsigned char *nlevels)
{
    if (nfields == 0 || nfields > CDP_LINKAGE_MAX_FIELDS || nlevels == NULL)
        return false;
    for (unsigned f = 0; f < nfields; f++) {
        if (nlevels[f] < 2 || nlevels[f] > CDP_LINKAGE_MAX_LEVELS)
            return false;
    }
    return true;
}

/* True when p is a usable m or u: finite and in (0, 1]. */
static bool
probability_ok(double p)
{
    return p > 0 && p <= 1;
}

int
cdp_linkage_model_init(struct cdp_linkage_model *model, unsigned nfields,
                       const unsigned char *nlevels)
{
    memset(model, 0, sizeof *model);
    if (!shape_ok(nfields, nlevels))
        return CDP_LINKAGE_EINVAL;
    model->nfields = nfields;
    for (unsigned f = 0; f < nfields; f++) {
        unsigned levels = nlevels[f];
        double sum = (ldexp(1, 2 * (int)levels) - 1) / 3; /* 1 + 4 + ... + 4^(L-1) */
        model->nlevels[f] = nlevels[f];
        for (unsigned l = 0; l < levels; l++) {
            model->m[f][l] = ldexp(1, 2 * (int)l) / sum;
            model->u[f][l] = ldexp(1, 2 * (int)(levels - 1 - l)) / sum;
        }
    }
    model->lambda = CDP_LINKAGE_DEFAULT_LAMBDA;
    return CDP_LINKAGE_OK;
}

int
cdp_linkage_model_check(const struct cdp_linkage_model *model)
{
    if (model == NULL || !shape_ok(model->nfields, model->nlevels))
        return CDP_LINKAGE_EINVAL;
    for (unsigned f = 0; f < model->nfields; f++) {
        for (unsigned l = 0; l < model->nlevels[f]; l++) {
            if (!probability_ok(model->m[f][l]) || !probability_ok(model->u[f][l]))
                return CDP_LINKAGE_EINVAL;
        }
    }
    if (!(model->lambda > 0 && model->lambda < 1))
        return CDP_LINKAGE_EINVAL;
    return CDP_LINKAGE_OK;
}

/* ------------------------------------------------------------------------ */
/* Weights                                                                  */

int
cdp_linkage_weights_init(struct cdp_linkage_weights *weights, const struct cdp_linkage_model *model)
{
    if (cdp_linkage_model_check(model) != CDP_LINKAGE_OK)
        return CDP_LINKAGE_EINVAL;
    memset(weights, 0, sizeof *weights);
    weights->nfields = model->nfields;
    weights->prior = cdp_linkage_prior_weight(model->lambda);
    for (unsigned f = 0; f < model->nfields; f++) {
        unsigned levels = model->nlevels[f];
        weights->nlevels[f] = model->nlevels[f];
        for (unsigned l = 0; l < levels; l++)
            weights->level[f][l] = log2(model->m[f][l]) - log2(model->u[f][l]);
        weights->log2_m_exact[f] = log2(model->m[f][levels - 1]);
    }
    return CDP_LINKAGE_OK;
}

double
cdp_linkage_weight(const struct cdp_linkage_weights *weights, const uint8_t *gamma,
                   const double *u_exact)
{
    double sum = weights->prior;
    unsigned nfields = weights->nfields;
    if (u_exact == NULL) {
        for (unsigned f = 0; f < nfields; f++) {
            /*
             * One comparison sends both CDP_LINKAGE_NULL and a level out of
             * range to the column of zeros.  Done with a mask, as compilers
             * turn the ?: into a branch, which nulls scattered at random
             * mispredict: 10% of nulls halve the speed of the branch.
             */
            unsigned level = gamma[f];
            unsigned in = 0u - (unsigned)(level < weights->nlevels[f]);
            unsigned column = (level & in) | (CDP_LINKAGE_MAX_LEVELS & ~in);
            sum += weights->level[f][column];
        }
        return sum;
    }
    for (unsigned f = 0; f < nfields; f++) {
        unsigned level = gamma[f];
        if (level >= weights->nlevels[f])
            continue;
        if (level == weights->nlevels[f] - 1u && u_exact[f] > 0)
            sum += weights->log2_m_exact[f] - log2(u_exact[f]);
        else
            sum += weights->level[f][level];
    }
    return sum;
}

double
cdp_linkage_field_weight(const struct cdp_linkage_weights *weights, unsigned field, unsigned level,
                         double u_exact)
{
    if (field >= weights->nfields || level >= weights->nlevels[field])
        return 0;
    if (level == weights->nlevels[field] - 1u && u_exact > 0)
        return weights->log2_m_exact[field] - log2(u_exact);
    return weights->level[field][level];
}

double
cdp_linkage_prior_weight(double lambda)
{
    if (!(lambda >= 0 && lambda <= 1))
        return NAN;
    if (lambda == 1)
        return INFINITY;
    return log2(lambda) - log2(1 - lambda);
}

double
cdp_linkage_probability(double weight)
{
    /* exp2(-w) overflows to infinity for very negative w, and 1 / inf is the 0 we want. */
    return 1 / (1 + exp2(-weight));
}

/* ------------------------------------------------------------------------ */
/* Estimating u                                                             */

int
cdp_linkage_estimate_u(struct cdp_linkage_model *model, const uint8_t *gammas, size_t npairs,
                       uint64_t *nonnull)
{
    if (model == NULL || !shape_ok(model->nfields, model->nlevels))
        return CDP_LINKAGE_EINVAL;
    if (gammas == NULL && npairs > 0)
        return CDP_LINKAGE_EINVAL;

    unsigned nfields = model->nfields;
    uint64_t counts[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS + 1];
    memset(counts, 0, sizeof counts);
    /* Count into a row of nlevels + 1 so that the loop has no branch: nulls go last. */
    unsigned char slot[CDP_LINKAGE_MAX_FIELDS][256];
    for (unsigned f = 0; f < nfields; f++) {
        memset(slot[f], 0xff, sizeof slot[f]);
        for (unsigned l = 0; l < model->nlevels[f]; l++)
            slot[f][l] = (unsigned char)l;
        slot[f][CDP_LINKAGE_NULL] = CDP_LINKAGE_MAX_LEVELS;
    }
    for (size_t p = 0; p < npairs; p++) {
        const uint8_t *gamma = gammas + p * nfields;
        for (unsigned f = 0; f < nfields; f++) {
            unsigned char s = slot[f][gamma[f]];
            if (s == 0xff)
                return CDP_LINKAGE_EINVAL;
            counts[f][s]++;
        }
    }

    for (unsigned f = 0; f < nfields; f++) {
        unsigned levels = model->nlevels[f];
        uint64_t total = 0;
        for (unsigned l = 0; l < levels; l++)
            total += counts[f][l];
        double denominator = (double)total + 0.5 * levels;
        for (unsigned l = 0; l < levels; l++)
            model->u[f][l] = ((double)counts[f][l] + 0.5) / denominator;
        if (nonnull != NULL)
            nonnull[f] = total;
    }
    return CDP_LINKAGE_OK;
}

/* ------------------------------------------------------------------------ */
/* Pattern table                                                            */

/* FNV-1a over the bytes, then a 64-bit finaliser so the low bits, which pick the slot, mix well. */
static uint64_t
hash_gamma(const uint8_t *gamma, unsigned nfields)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (unsigned f = 0; f < nfields; f++)
        h = (h ^ gamma[f]) * UINT64_C(0x100000001b3);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

int
cdp_linkage_patterns_init(struct cdp_linkage_patterns *table, unsigned nfields)
{
    memset(table, 0, sizeof *table);
    if (nfields == 0 || nfields > CDP_LINKAGE_MAX_FIELDS)
        return CDP_LINKAGE_EINVAL;
    table->gammas = malloc((size_t)INITIAL_PATTERNS * nfields);
    table->counts = malloc(INITIAL_PATTERNS * sizeof *table->counts);
    table->slots = calloc(INITIAL_SLOTS, sizeof *table->slots);
    if (table->gammas == NULL || table->counts == NULL || table->slots == NULL) {
        cdp_linkage_patterns_free(table);
        return CDP_LINKAGE_ENOMEM;
    }
    table->nfields = nfields;
    table->allocated = INITIAL_PATTERNS;
    table->nslots = INITIAL_SLOTS;
    return CDP_LINKAGE_OK;
}

/* The slot holding gamma, or the empty slot where it would go. */
static size_t
probe(const struct cdp_linkage_patterns *table, const uint8_t *gamma)
{
    size_t mask = table->nslots - 1;
    size_t at = (size_t)hash_gamma(gamma, table->nfields) & mask;
    for (;;) {
        uint32_t entry = table->slots[at];
        if (entry == 0)
            return at;
        if (memcmp(table->gammas + (size_t)(entry - 1) * table->nfields, gamma, table->nfields) ==
            0)
            return at;
        at = (at + 1) & mask;
    }
}

/* Doubles the slots and places every pattern again; false, nothing changed, when out of memory. */
static bool
grow_slots(struct cdp_linkage_patterns *table)
{
    size_t nslots = table->nslots * 2;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (slots == NULL)
        return false;
    size_t mask = nslots - 1;
    for (size_t i = 0; i < table->count; i++) {
        size_t at = (size_t)hash_gamma(table->gammas + i * table->nfields, table->nfields) & mask;
        while (slots[at] != 0)
            at = (at + 1) & mask;
        slots[at] = (uint32_t)(i + 1);
    }
    free(table->slots);
    table->slots = slots;
    table->nslots = nslots;
    return true;
}

/* Doubles the room for patterns; false when out of memory, the table still consistent. */
static bool
grow_patterns(struct cdp_linkage_patterns *table)
{
    size_t allocated = table->allocated * 2;
    uint8_t *gammas = realloc(table->gammas, allocated * table->nfields);
    if (gammas == NULL)
        return false;
    table->gammas = gammas;
    uint64_t *counts = realloc(table->counts, allocated * sizeof *counts);
    if (counts == NULL)
        return false; /* gammas merely has spare room; allocated still tells the truth */
    table->counts = counts;
    table->allocated = allocated;
    return true;
}

int
cdp_linkage_patterns_add(struct cdp_linkage_patterns *table, const uint8_t *gamma, uint64_t count,
                         size_t *index)
{
    size_t at = probe(table, gamma);
    uint32_t entry = table->slots[at];
    if (entry != 0) {
        table->counts[entry - 1] += count;
        table->total += count;
        if (index != NULL)
            *index = entry - 1;
        return CDP_LINKAGE_OK;
    }

    if (table->count >= UINT32_MAX - 1)
        return CDP_LINKAGE_ENOMEM;
    if (table->count == table->allocated && !grow_patterns(table))
        return CDP_LINKAGE_ENOMEM;
    if ((table->count + 1) * 2 > table->nslots) {
        if (!grow_slots(table))
            return CDP_LINKAGE_ENOMEM;
        at = probe(table, gamma);
    }
    size_t i = table->count++;
    memcpy(table->gammas + i * table->nfields, gamma, table->nfields);
    table->counts[i] = count;
    table->total += count;
    table->slots[at] = (uint32_t)(i + 1);
    if (index != NULL)
        *index = i;
    return CDP_LINKAGE_OK;
}

size_t
cdp_linkage_patterns_find(const struct cdp_linkage_patterns *table, const uint8_t *gamma)
{
    if (table->nslots == 0)
        return SIZE_MAX;
    uint32_t entry = table->slots[probe(table, gamma)];
    return entry == 0 ? SIZE_MAX : (size_t)(entry - 1);
}

void
cdp_linkage_patterns_free(struct cdp_linkage_patterns *table)
{
    free(table->gammas);
    free(table->counts);
    free(table->slots);
    memset(table, 0, sizeof *table);
}

/* ------------------------------------------------------------------------ */
/* Expectation-maximisation                                                 */

/*
 * Natural-log weights of the current parameters: bayes[f][l] = ln(m / u),
 * and the prior ln(lambda / (1 - lambda)).
 */
struct em_state {
    double bayes[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS];
    double prior;
};

static void
em_state_set(struct em_state *state, const struct cdp_linkage_model *model,
             const double m[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS], double lambda)
{
    for (unsigned f = 0; f < model->nfields; f++) {
        for (unsigned l = 0; l < model->nlevels[f]; l++)
            state->bayes[f][l] = log(m[f][l]) - log(model->u[f][l]);
    }
    state->prior = log(lambda) - log1p(-lambda);
}

/* The natural-log match weight of one pattern, whose levels have been checked. */
static double
em_weight(const struct em_state *state, const uint8_t *gamma, unsigned nfields)
{
    double w = state->prior;
    for (unsigned f = 0; f < nfields; f++) {
        if (gamma[f] != CDP_LINKAGE_NULL)
            w += state->bayes[f][gamma[f]];
    }
    return w;
}

/* ln(1 + e^x) without overflow. */
static double
softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* The log-likelihood of the table's pairs under (m, lambda) and the model's u. */
static double
em_log_likelihood(const struct cdp_linkage_model *model, const struct cdp_linkage_patterns *table,
                  const double m[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS], double lambda)
{
    struct em_state state;
    em_state_set(&state, model, m, lambda);
    double log_non_match = log1p(-lambda);
    double sum = 0;
    for (size_t i = 0; i < table->count; i++) {
        const uint8_t *gamma = table->gammas + i * table->nfields;
        /* P(gamma) = (1 - lambda) prod u (1 + e^w) */
        double ll = log_non_match + softplus(em_weight(&state, gamma, table->nfields));
        for (unsigned f = 0; f < table->nfields; f++) {
            if (gamma[f] != CDP_LINKAGE_NULL)
                ll += log(model->u[f][gamma[f]]);
        }
        sum += (double)table->counts[i] * ll;
    }
    return sum;
}

int
cdp_linkage_em(struct cdp_linkage_model *model, const struct cdp_linkage_patterns *table,
               const struct cdp_linkage_em_options *options, struct cdp_linkage_em_report *report)
{
    int max_iterations = DEFAULT_MAX_ITERATIONS;
    double tolerance = DEFAULT_TOLERANCE;
    double lambda = DEFAULT_START_LAMBDA;
    if (options != NULL) {
        if (options->max_iterations < 0 || !(options->tolerance >= 0) ||
            !(options->start_lambda >= 0 && options->start_lambda < 1))
            return CDP_LINKAGE_EINVAL;
        if (options->max_iterations > 0)
            max_iterations = options->max_iterations;
        if (options->tolerance > 0)
            tolerance = options->tolerance;
        if (options->start_lambda > 0)
            lambda = options->start_lambda;
    }
    if (cdp_linkage_model_check(model) != CDP_LINKAGE_OK || table == NULL ||
        table->nfields != model->nfields || table->total == 0)
        return CDP_LINKAGE_EINVAL;
    unsigned nfields = model->nfields;
    for (size_t i = 0; i < table->count; i++) {
        const uint8_t *gamma = table->gammas + i * nfields;
        for (unsigned f = 0; f < nfields; f++) {
            if (gamma[f] >= model->nlevels[f] && gamma[f] != CDP_LINKAGE_NULL)
                return CDP_LINKAGE_EINVAL;
        }
    }
    lambda = fmin(fmax(lambda, LAMBDA_FLOOR), 1 - LAMBDA_FLOOR);

    double m[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS];
    memcpy(m, model->m, sizeof m);
    double total = (double)table->total;
    struct em_state state;
    int iterations = 0;
    double change = INFINITY;
    bool converged = false;

    while (iterations < max_iterations) {
        /* E step, accumulating the M step's sums as it goes. */
        double matched[CDP_LINKAGE_MAX_FIELDS][CDP_LINKAGE_MAX_LEVELS];
        double matches = 0;
        memset(matched, 0, sizeof matched);
        em_state_set(&state, model, (const double(*)[CDP_LINKAGE_MAX_LEVELS])m, lambda);
        for (size_t i = 0; i < table->count; i++) {
            if (table->counts[i] == 0)
                continue;
            const uint8_t *gamma = table->gammas + i * nfields;
            double p = 1 / (1 + exp(-em_weight(&state, gamma, nfields)));
            double weighted = (double)table->counts[i] * p;
            matches += weighted;
            for (unsigned f = 0; f < nfields; f++) {
                if (gamma[f] != CDP_LINKAGE_NULL)
                    matched[f][gamma[f]] += weighted;
            }
        }

        /* M step */
        change = 0;
        for (unsigned f = 0; f < nfields; f++) {
            unsigned levels = model->nlevels[f];
            double denominator = 0;
            for (unsigned l = 0; l < levels; l++)
                denominator += matched[f][l];
            if (!(denominator > 0))
                continue; /* nothing seen of this field among the matches: keep its m */
            double next[CDP_LINKAGE_MAX_LEVELS], sum = 0;
            for (unsigned l = 0; l < levels; l++) {
                next[l] = fmax(matched[f][l] / denominator, CDP_LINKAGE_M_FLOOR);
                sum += next[l];
            }
            for (unsigned l = 0; l < levels; l++) {
                next[l] /= sum;
                change = fmax(change, fabs(next[l] - m[f][l]));
                m[f][l] = next[l];
            }
        }
        double next_lambda = fmin(fmax(matches / total, LAMBDA_FLOOR), 1 - LAMBDA_FLOOR);
        change = fmax(change, fabs(next_lambda - lambda));
        lambda = next_lambda;
        iterations++;
        if (change <= tolerance) {
            converged = true;
            break;
        }
    }

    memcpy(model->m, m, sizeof m);
    if (report != NULL) {
        report->iterations = iterations;
        report->converged = converged;
        report->lambda = lambda;
        report->max_change = change;
        report->log_likelihood =
            em_log_likelihood(model, table, (const double(*)[CDP_LINKAGE_MAX_LEVELS])m, lambda);
    }
    return converged ? CDP_LINKAGE_OK : CDP_LINKAGE_ENOCONV;
}

/* ------------------------------------------------------------------------ */
/* Radix sorts                                                              */

/* A record and its key under one blocking rule. */
struct keyed {
    uint64_t key;
    uint32_t index;
};

/*
 * Sorts a[0..n-1] by key, stably, by least-significant-digit radix sort on
 * bytes, using tmp (n entries) as scratch.  A byte the same in every key
 * needs no pass.  Returns whichever of a and tmp holds the result.
 */
static struct keyed *
radix_sort_keyed(struct keyed *a, struct keyed *tmp, size_t n)
{
    size_t counts[8][256];
    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < n; i++) {
        uint64_t key = a[i].key;
        for (int d = 0; d < 8; d++)
            counts[d][(key >> (8 * d)) & 0xff]++;
    }
    for (int d = 0; d < 8 && n > 0; d++) {
        if (counts[d][(a[0].key >> (8 * d)) & 0xff] == n)
            continue;
        size_t offset[256], sum = 0;
        for (int b = 0; b < 256; b++) {
            offset[b] = sum;
            sum += counts[d][b];
        }
        for (size_t i = 0; i < n; i++)
            tmp[offset[(a[i].key >> (8 * d)) & 0xff]++] = a[i];
        struct keyed *swap = a;
        a = tmp;
        tmp = swap;
    }
    return a;
}

/* The same for plain 64-bit numbers. */
static uint64_t *
radix_sort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
    size_t counts[8][256];
    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < n; i++) {
        for (int d = 0; d < 8; d++)
            counts[d][(a[i] >> (8 * d)) & 0xff]++;
    }
    for (int d = 0; d < 8 && n > 0; d++) {
        if (counts[d][(a[0] >> (8 * d)) & 0xff] == n)
            continue;
        size_t offset[256], sum = 0;
        for (int b = 0; b < 256; b++) {
            offset[b] = sum;
            sum += counts[d][b];
        }
        for (size_t i = 0; i < n; i++)
            tmp[offset[(a[i] >> (8 * d)) & 0xff]++] = a[i];
        uint64_t *swap = a;
        a = tmp;
        tmp = swap;
    }
    return a;
}

/* size (size - 1) / 2 without overflow for any size whose result fits. */
static uint64_t
pairs_of(uint64_t size)
{
    if (size < 2)
        return 0;
    return size % 2 == 0 ? size / 2 * (size - 1) : (size - 1) / 2 * size;
}

/* ------------------------------------------------------------------------ */
/* Blocking                                                                 */

int
cdp_linkage_block(const uint64_t *const *keys, unsigned nrules, uint32_t n, uint32_t max_block,
                  cdp_linkage_emit_fn emit, void *ctx, struct cdp_linkage_block_report *report)
{
    struct cdp_linkage_block_report local;
    if (report == NULL)
        report = &local;
    memset(report, 0, sizeof *report);
    if (keys == NULL || nrules == 0 || nrules > CDP_LINKAGE_MAX_RULES || emit == NULL)
        return CDP_LINKAGE_EINVAL;
    if (n == 0)
        return CDP_LINKAGE_OK;
    for (unsigned r = 0; r < nrules; r++) {
        if (keys[r] == NULL)
            return CDP_LINKAGE_EINVAL;
    }

    struct keyed *records = malloc((size_t)n * sizeof *records);
    struct keyed *scratch = malloc((size_t)n * sizeof *scratch);
    uint32_t *left_out = NULL; /* bit r of record i: i's block under rule r was left out */
    int status = CDP_LINKAGE_OK;
    if (records == NULL || scratch == NULL) {
        status = CDP_LINKAGE_ENOMEM;
        goto done;
    }

    for (unsigned r = 0; r < nrules; r++) {
        const uint64_t *rule_keys = keys[r];
        size_t count = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (rule_keys[i] != 0) {
                records[count].key = rule_keys[i];
                records[count].index = i;
                count++;
            }
        }
        /* Stable, and the records went in by index, so each block lists them in ascending order. */
        const struct keyed *sorted = radix_sort_keyed(records, scratch, count);

        size_t end;
        for (size_t start = 0; start < count; start = end) {
            uint64_t key = sorted[start].key;
            for (end = start + 1; end < count && sorted[end].key == key; end++)
                ;
            size_t size = end - start;
            if (size > report->largest_block)
                report->largest_block = (uint32_t)size;
            if (size < 2)
                continue;
            if (max_block != 0 && size > max_block) {
                report->skipped_blocks++;
                report->rule_skipped_blocks[r]++;
                report->skipped_pairs += pairs_of(size);
                if (left_out == NULL) {
                    left_out = calloc(n, sizeof *left_out);
                    if (left_out == NULL) {
                        status = CDP_LINKAGE_ENOMEM;
                        goto done;
                    }
                }
                for (size_t x = start; x < end; x++)
                    left_out[sorted[x].index] |= UINT32_C(1) << r;
                continue;
            }

            for (size_t x = start; x + 1 < end; x++) {
                uint32_t i = sorted[x].index;
                /* i's keys under the earlier rules, 0 where that block was left out */
                uint64_t earlier[CDP_LINKAGE_MAX_RULES];
                for (unsigned q = 0; q < r; q++) {
                    bool out = left_out != NULL && (left_out[i] >> q & 1);
                    earlier[q] = out ? 0 : keys[q][i];
                }
                for (size_t y = x + 1; y < end; y++) {
                    uint32_t j = sorted[y].index;
                    unsigned q = 0;
                    while (q < r && (earlier[q] == 0 || earlier[q] != keys[q][j]))
                        q++;
                    if (q < r)
                        continue; /* an earlier rule's block has produced this pair */
                    report->pairs++;
                    report->rule_pairs[r]++;
                    if (emit(ctx, i, j) != 0) {
                        status = CDP_LINKAGE_STOPPED;
                        goto done;
                    }
                }
            }
        }
    }

done:
    free(left_out);
    free(scratch);
    free(records);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Clusters                                                                 */

int
cdp_linkage_clusters_init(struct cdp_linkage_clusters *clusters, uint32_t n)
{
    memset(clusters, 0, sizeof *clusters);
    /* One entry more than needed, so that n == 0 is no special case for malloc. */
    clusters->parent = malloc(((size_t)n + 1) * sizeof *clusters->parent);
    clusters->size = malloc(((size_t)n + 1) * sizeof *clusters->size);
    if (clusters->parent == NULL || clusters->size == NULL) {
        cdp_linkage_clusters_free(clusters);
        return CDP_LINKAGE_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        clusters->parent[i] = i;
        clusters->size[i] = 1;
    }
    clusters->n = n;
    clusters->count = n;
    return CDP_LINKAGE_OK;
}

uint32_t
cdp_linkage_clusters_find(struct cdp_linkage_clusters *clusters, uint32_t i)
{
    uint32_t *parent = clusters->parent;
    while (parent[i] != i) {
        parent[i] = parent[parent[i]]; /* path halving */
        i = parent[i];
    }
    return i;
}

bool
cdp_linkage_clusters_union(struct cdp_linkage_clusters *clusters, uint32_t i, uint32_t j)
{
    uint32_t a = cdp_linkage_clusters_find(clusters, i);
    uint32_t b = cdp_linkage_clusters_find(clusters, j);
    if (a == b)
        return false;
    if (clusters->size[a] < clusters->size[b]) {
        uint32_t swap = a;
        a = b;
        b = swap;
    }
    clusters->parent[b] = a;
    clusters->size[a] += clusters->size[b];
    clusters->count--;
    return true;
}

void
cdp_linkage_clusters_labels(struct cdp_linkage_clusters *clusters, uint32_t *labels)
{
    uint32_t n = clusters->n;
    for (uint32_t i = 0; i < n; i++)
        labels[i] = UINT32_MAX;
    /*
     * Going up from 0, the first member met of a cluster is its smallest, and
     * its label is left at the root's entry: the root's own label is that
     * same smallest index, and a root below i has had it written already.
     */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t root = cdp_linkage_clusters_find(clusters, i);
        if (labels[root] == UINT32_MAX)
            labels[root] = i;
        labels[i] = labels[root];
    }
}

void
cdp_linkage_clusters_free(struct cdp_linkage_clusters *clusters)
{
    free(clusters->parent);
    free(clusters->size);
    memset(clusters, 0, sizeof *clusters);
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

int
cdp_linkage_evaluate(const uint32_t *predicted, const uint32_t *truth, size_t n,
                     struct cdp_linkage_evaluation *out)
{
    if (n > 0 && (predicted == NULL || truth == NULL))
        return CDP_LINKAGE_EINVAL;
    uint64_t *labels = malloc((n + 1) * sizeof *labels);
    uint64_t *scratch = malloc((n + 1) * sizeof *scratch);
    if (labels == NULL || scratch == NULL) {
        free(labels);
        free(scratch);
        return CDP_LINKAGE_ENOMEM;
    }

    struct cdp_linkage_evaluation e;
    memset(&e, 0, sizeof e);

    /* Sorted by (predicted, true), the predicted clusters and the cells are runs. */
    for (size_t i = 0; i < n; i++)
        labels[i] = (uint64_t)predicted[i] << 32 | truth[i];
    const uint64_t *sorted = radix_sort_u64(labels, scratch, n);
    size_t cluster_start = 0, cell_start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || sorted[i] != sorted[cell_start]) {
            e.true_positives += pairs_of(i - cell_start);
            cell_start = i;
        }
        if (i == n || sorted[i] >> 32 != sorted[cluster_start] >> 32) {
            e.predicted_pairs += pairs_of(i - cluster_start);
            e.predicted_clusters++;
            cluster_start = i;
        }
    }

    for (size_t i = 0; i < n; i++)
        labels[i] = truth[i];
    sorted = radix_sort_u64(labels, scratch, n);
    cluster_start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || sorted[i] != sorted[cluster_start]) {
            e.true_pairs += pairs_of(i - cluster_start);
            e.true_clusters++;
            cluster_start = i;
        }
    }
    free(labels);
    free(scratch);

    e.false_positives = e.predicted_pairs - e.true_positives;
    e.false_negatives = e.true_pairs - e.true_positives;
    e.precision = e.predicted_pairs == 0 ? 1 : (double)e.true_positives / (double)e.predicted_pairs;
    e.recall = e.true_pairs == 0 ? 1 : (double)e.true_positives / (double)e.true_pairs;
    e.f1 = e.precision + e.recall == 0 ? 0 : 2 * e.precision * e.recall / (e.precision + e.recall);
    *out = e;
    return CDP_LINKAGE_OK;
}
