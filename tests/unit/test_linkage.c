/*
 * test_linkage.c - unit tests for lib/linkage.c.
 *
 * Weights and probabilities are checked against values worked out by hand,
 * EM against a synthetic sample drawn from a known model, and blocking,
 * clusters and evaluation against brute-force enumeration of all pairs.  A
 * splitmix64 generator with fixed seeds makes every run draw the same data.
 */
#include "linkage.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUL CDP_LINKAGE_NULL

/* ------------------------------------------------------------------------ */
/* A fixed-seed generator                                                   */

static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
    rng_state = seed;
}

/* splitmix64 */
static uint64_t
rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
rng_uniform(void)
{
    return (double)(rng_next() >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n). */
static uint32_t
rng_below(uint32_t n)
{
    return (uint32_t)(rng_uniform() * n);
}

/* A level drawn from the distribution p[0..n-1]. */
static uint8_t
rng_level(const double *p, unsigned n)
{
    double x = rng_uniform();
    for (unsigned l = 0; l + 1 < n; l++) {
        if (x < p[l])
            return (uint8_t)l;
        x -= p[l];
    }
    return (uint8_t)(n - 1);
}

/* ------------------------------------------------------------------------ */
/* The model and its weights                                                */

static void
test_model_init(void)
{
    struct cdp_linkage_model model;
    const unsigned char levels[] = {2, 3, 8};
    CHECK_INT(cdp_linkage_model_init(&model, 3, levels), CDP_LINKAGE_OK);
    CHECK_INT(model.nfields, 3);
    CHECK_NEAR(model.m[0][0], 0.2, 1e-15);
    CHECK_NEAR(model.m[0][1], 0.8, 1e-15);
    CHECK_NEAR(model.u[0][0], 0.8, 1e-15);
    CHECK_NEAR(model.u[0][1], 0.2, 1e-15);
    CHECK_NEAR(model.m[1][0], 1.0 / 21, 1e-15);
    CHECK_NEAR(model.m[1][1], 4.0 / 21, 1e-15);
    CHECK_NEAR(model.m[1][2], 16.0 / 21, 1e-15);
    CHECK_NEAR(model.u[1][2], 1.0 / 21, 1e-15);
    CHECK(model.lambda == CDP_LINKAGE_DEFAULT_LAMBDA);
    double msum = 0, usum = 0;
    int rising = 1;
    for (unsigned l = 0; l < 8; l++) {
        msum += model.m[2][l];
        usum += model.u[2][l];
        if (l > 0 && !(model.m[2][l] > model.m[2][l - 1] && model.u[2][l] < model.u[2][l - 1]))
            rising = 0;
    }
    CHECK_NEAR(msum, 1, 1e-15);
    CHECK_NEAR(usum, 1, 1e-15);
    CHECK(rising);
    CHECK(model.m[0][2] == 0 && model.m[3][0] == 0); /* unused entries are zero */
    CHECK_INT(cdp_linkage_model_check(&model), CDP_LINKAGE_OK);

    /* Shapes out of range */
    const unsigned char one[] = {1};
    const unsigned char nine[] = {2, 9};
    unsigned char many[CDP_LINKAGE_MAX_FIELDS + 1];
    memset(many, 2, sizeof many);
    CHECK_INT(cdp_linkage_model_init(&model, 0, levels), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_model_init(&model, 1, one), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_model_init(&model, 2, nine), CDP_LINKAGE_EINVAL);
    CHECK_INT(model.nfields, 0);
    CHECK_INT(cdp_linkage_model_init(&model, CDP_LINKAGE_MAX_FIELDS + 1, many), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_model_init(&model, CDP_LINKAGE_MAX_FIELDS, many), CDP_LINKAGE_OK);

    /* cdp_linkage_model_check() refuses zeros, values above 1 and lambda outside (0, 1) */
    CHECK_INT(cdp_linkage_model_init(&model, 3, levels), CDP_LINKAGE_OK);
    struct cdp_linkage_model bad = model;
    bad.m[1][0] = 0;
    CHECK_INT(cdp_linkage_model_check(&bad), CDP_LINKAGE_EINVAL);
    bad = model;
    bad.u[2][7] = 1.5;
    CHECK_INT(cdp_linkage_model_check(&bad), CDP_LINKAGE_EINVAL);
    bad = model;
    bad.u[0][0] = NAN;
    CHECK_INT(cdp_linkage_model_check(&bad), CDP_LINKAGE_EINVAL);
    bad = model;
    bad.lambda = 1;
    CHECK_INT(cdp_linkage_model_check(&bad), CDP_LINKAGE_EINVAL);
    bad.lambda = 0;
    CHECK_INT(cdp_linkage_model_check(&bad), CDP_LINKAGE_EINVAL);
    struct cdp_linkage_weights weights;
    weights.nfields = 99;
    CHECK_INT(cdp_linkage_weights_init(&weights, &bad), CDP_LINKAGE_EINVAL);
    CHECK_INT(weights.nfields, 99); /* untouched */
}

/*
 * Three fields:
 *   0: two levels,   m = {0.1, 0.9},      u = {0.9, 0.1}
 *   1: three levels, m = {0.1, 0.3, 0.6}, u = {0.7, 0.2, 0.1}
 *   2: two levels,   m = {0.5, 0.5},      u = {0.25, 0.75}
 */
static void
hand_model(struct cdp_linkage_model *model, double lambda)
{
    const unsigned char levels[] = {2, 3, 2};
    cdp_linkage_model_init(model, 3, levels);
    model->m[0][0] = 0.1, model->m[0][1] = 0.9;
    model->u[0][0] = 0.9, model->u[0][1] = 0.1;
    model->m[1][0] = 0.1, model->m[1][1] = 0.3, model->m[1][2] = 0.6;
    model->u[1][0] = 0.7, model->u[1][1] = 0.2, model->u[1][2] = 0.1;
    model->m[2][0] = 0.5, model->m[2][1] = 0.5;
    model->u[2][0] = 0.25, model->u[2][1] = 0.75;
    model->lambda = lambda;
}

static void
test_weights(void)
{
    struct cdp_linkage_model model;
    struct cdp_linkage_weights w;

    /* One field, m = 0.9 and u = 0.1 at the exact level, an even prior: log2(9). */
    const unsigned char two[] = {2};
    CHECK_INT(cdp_linkage_model_init(&model, 1, two), CDP_LINKAGE_OK);
    model.m[0][0] = 0.1, model.m[0][1] = 0.9;
    model.u[0][0] = 0.9, model.u[0][1] = 0.1;
    model.lambda = 0.5;
    CHECK_INT(cdp_linkage_weights_init(&w, &model), CDP_LINKAGE_OK);
    const uint8_t exact[] = {1}, differ[] = {0}, missing[] = {NUL}, wrong[] = {5};
    CHECK(w.prior == 0);
    CHECK_NEAR(cdp_linkage_weight(&w, exact, NULL), log2(9), 1e-15);
    CHECK_NEAR(cdp_linkage_weight(&w, differ, NULL), -log2(9), 1e-15);
    CHECK(cdp_linkage_weight(&w, missing, NULL) == 0);
    CHECK(cdp_linkage_weight(&w, wrong, NULL) == 0);
    CHECK_NEAR(cdp_linkage_probability(cdp_linkage_weight(&w, exact, NULL)), 0.9, 1e-15);
    CHECK_NEAR(cdp_linkage_probability(cdp_linkage_weight(&w, differ, NULL)), 0.1, 1e-15);
    CHECK(cdp_linkage_probability(cdp_linkage_weight(&w, missing, NULL)) == 0.5);

    /* A prior of 0.2 adds log2(0.25) = -2: odds 9/4, probability 9/13. */
    model.lambda = 0.2;
    CHECK_INT(cdp_linkage_weights_init(&w, &model), CDP_LINKAGE_OK);
    CHECK_NEAR(w.prior, -2, 1e-15);
    CHECK_NEAR(cdp_linkage_weight(&w, exact, NULL), log2(9) - 2, 1e-15);
    CHECK_NEAR(cdp_linkage_probability(cdp_linkage_weight(&w, exact, NULL)), 9.0 / 13, 1e-15);
    CHECK_NEAR(cdp_linkage_weight(&w, missing, NULL), -2, 1e-15);
    CHECK_NEAR(cdp_linkage_probability(-2), 0.2, 1e-15);

    /* Three fields */
    hand_model(&model, 0.5);
    CHECK_INT(cdp_linkage_weights_init(&w, &model), CDP_LINKAGE_OK);
    const uint8_t g1[] = {1, 1, NUL}; /* 9 * 1.5 */
    const uint8_t g2[] = {1, 2, 1};   /* 9 * 6 * (2/3) */
    const uint8_t g3[] = {0, 0, 0};   /* (1/9) (1/7) 2 */
    const uint8_t g4[] = {NUL, NUL, NUL};
    CHECK_NEAR(cdp_linkage_weight(&w, g1, NULL), log2(13.5), 1e-14);
    CHECK_NEAR(cdp_linkage_weight(&w, g2, NULL), log2(36), 1e-14);
    CHECK_NEAR(cdp_linkage_weight(&w, g3, NULL), log2(2.0 / 63), 1e-14);
    CHECK(cdp_linkage_weight(&w, g4, NULL) == 0);
    CHECK_NEAR(cdp_linkage_probability(log2(36)), 36.0 / 37, 1e-15);

    /* Term-frequency overrides take the place of u at the exact level only. */
    const double tf[] = {0.01, NAN, -1};
    const double tf_all[] = {0.01, 0.05, 0.5};
    CHECK_NEAR(cdp_linkage_weight(&w, g2, tf), log2(90) + log2(6) + log2(2.0 / 3), 1e-13);
    CHECK_NEAR(cdp_linkage_weight(&w, g2, tf_all), log2(90) + log2(12) + log2(1), 1e-13);
    CHECK_NEAR(cdp_linkage_weight(&w, g3, tf_all), log2(2.0 / 63), 1e-14);
    CHECK_NEAR(cdp_linkage_weight(&w, g1, tf_all), log2(90) + log2(1.5), 1e-13);
    const double none[] = {-1, 0, NAN};
    CHECK(cdp_linkage_weight(&w, g2, none) == cdp_linkage_weight(&w, g2, NULL));

    /* Field by field */
    CHECK_NEAR(cdp_linkage_field_weight(&w, 0, 1, -1), log2(9), 1e-15);
    CHECK_NEAR(cdp_linkage_field_weight(&w, 0, 1, 0.01), log2(90), 1e-14);
    CHECK_NEAR(cdp_linkage_field_weight(&w, 0, 0, 0.01), -log2(9), 1e-15);
    CHECK_NEAR(cdp_linkage_field_weight(&w, 1, 1, -1), log2(1.5), 1e-15);
    CHECK(cdp_linkage_field_weight(&w, 1, NUL, -1) == 0);
    CHECK(cdp_linkage_field_weight(&w, 1, 3, -1) == 0);
    CHECK(cdp_linkage_field_weight(&w, 3, 0, -1) == 0);
    double sum = w.prior;
    for (unsigned f = 0; f < 3; f++)
        sum += cdp_linkage_field_weight(&w, f, g2[f], tf[f]);
    CHECK_NEAR(sum, cdp_linkage_weight(&w, g2, tf), 1e-14);

    /* Priors and probabilities at the edges */
    CHECK(cdp_linkage_prior_weight(0.5) == 0);
    CHECK_NEAR(cdp_linkage_prior_weight(0.2), -2, 1e-15);
    CHECK_NEAR(cdp_linkage_prior_weight(1.0 / 1025), -10, 1e-12);
    CHECK(isinf(cdp_linkage_prior_weight(0)) && cdp_linkage_prior_weight(0) < 0);
    CHECK(isinf(cdp_linkage_prior_weight(1)) && cdp_linkage_prior_weight(1) > 0);
    CHECK(isnan(cdp_linkage_prior_weight(1.5)));
    CHECK(isnan(cdp_linkage_prior_weight(NAN)));
    CHECK(cdp_linkage_probability(0) == 0.5);
    CHECK(cdp_linkage_probability(INFINITY) == 1);
    CHECK(cdp_linkage_probability(-INFINITY) == 0);
    CHECK(cdp_linkage_probability(-5000) == 0);
    CHECK(cdp_linkage_probability(5000) == 1);
    CHECK_NEAR(cdp_linkage_probability(-40) / 0x1p-40, 1 / (1 + 0x1p-40), 1e-15);
    CHECK_NEAR(cdp_linkage_probability(cdp_linkage_prior_weight(0.001)), 0.001, 1e-15);
}

/* ------------------------------------------------------------------------ */
/* Estimating u                                                             */

static void
test_estimate_u(void)
{
    struct cdp_linkage_model model;
    const unsigned char levels[] = {2, 3};
    CHECK_INT(cdp_linkage_model_init(&model, 2, levels), CDP_LINKAGE_OK);
    model.lambda = 0.001;
    double m10 = model.m[1][0];

    const uint8_t sample[6][2] = {{0, 0}, {0, 1}, {1, 2}, {0, NUL}, {NUL, NUL}, {1, 0}};
    uint64_t nonnull[2] = {99, 99};
    CHECK_INT(cdp_linkage_estimate_u(&model, &sample[0][0], 6, nonnull), CDP_LINKAGE_OK);
    /* Field 0: 3 at level 0, 2 at level 1, 1 null. */
    CHECK_NEAR(model.u[0][0], 3.5 / 6, 1e-15);
    CHECK_NEAR(model.u[0][1], 2.5 / 6, 1e-15);
    /* Field 1: 2, 1, 1 and 2 nulls. */
    CHECK_NEAR(model.u[1][0], 2.5 / 5.5, 1e-15);
    CHECK_NEAR(model.u[1][1], 1.5 / 5.5, 1e-15);
    CHECK_NEAR(model.u[1][2], 1.5 / 5.5, 1e-15);
    CHECK_INT(nonnull[0], 5);
    CHECK_INT(nonnull[1], 4);
    CHECK(model.m[1][0] == m10 && model.lambda == 0.001);

    /* A level out of range is refused and nothing changes. */
    const uint8_t bad[] = {0, 0, 2, 0};
    struct cdp_linkage_model before = model;
    CHECK_INT(cdp_linkage_estimate_u(&model, bad, 2, NULL), CDP_LINKAGE_EINVAL);
    CHECK(memcmp(&before, &model, sizeof model) == 0);
    CHECK_INT(cdp_linkage_estimate_u(&model, NULL, 1, NULL), CDP_LINKAGE_EINVAL);

    /* No pairs, or a field always null: uniform u. */
    CHECK_INT(cdp_linkage_estimate_u(&model, NULL, 0, NULL), CDP_LINKAGE_OK);
    CHECK_NEAR(model.u[0][1], 0.5, 1e-15);
    CHECK_NEAR(model.u[1][0], 1.0 / 3, 1e-15);
    const uint8_t nulls[] = {1, NUL, 1, NUL, 1, NUL, 1, NUL};
    CHECK_INT(cdp_linkage_estimate_u(&model, nulls, 4, nonnull), CDP_LINKAGE_OK);
    CHECK_NEAR(model.u[0][1], 4.5 / 5, 1e-15);
    CHECK_NEAR(model.u[1][2], 1.0 / 3, 1e-15);
    CHECK_INT(nonnull[1], 0);
    CHECK_INT(cdp_linkage_model_check(&model), CDP_LINKAGE_OK);

    /* A large sample from known frequencies comes back close. */
    const double truth[] = {0.7, 0.25, 0.05};
    size_t n = 100000;
    uint8_t *gammas = malloc(n * 2);
    rng_seed(7);
    for (size_t p = 0; p < n; p++) {
        gammas[2 * p] = rng_uniform() < 0.5 ? 1 : 0;
        gammas[2 * p + 1] = rng_level(truth, 3);
    }
    CHECK_INT(cdp_linkage_estimate_u(&model, gammas, n, nonnull), CDP_LINKAGE_OK);
    CHECK_NEAR(model.u[1][0], 0.7, 0.01);
    CHECK_NEAR(model.u[1][1], 0.25, 0.01);
    CHECK_NEAR(model.u[1][2], 0.05, 0.005);
    CHECK_NEAR(model.u[0][0] + model.u[0][1], 1, 1e-15);
    free(gammas);
}

/* ------------------------------------------------------------------------ */
/* Pattern table                                                            */

#define PATTERN_FIELDS 5
#define PATTERN_SYMBOLS 4 /* levels 0, 1, 2 and null */

/* A vector's number among the PATTERN_SYMBOLS^PATTERN_FIELDS possible ones. */
static unsigned
pattern_code(const uint8_t *gamma)
{
    unsigned code = 0;
    for (unsigned f = 0; f < PATTERN_FIELDS; f++)
        code = code * PATTERN_SYMBOLS + (gamma[f] == NUL ? 3u : gamma[f]);
    return code;
}

static void
test_patterns(void)
{
    struct cdp_linkage_patterns table;
    CHECK_INT(cdp_linkage_patterns_init(&table, 0), CDP_LINKAGE_EINVAL);
    cdp_linkage_patterns_free(&table); /* safe after a failed init */
    CHECK_INT(cdp_linkage_patterns_init(&table, CDP_LINKAGE_MAX_FIELDS + 1), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_patterns_init(&table, PATTERN_FIELDS), CDP_LINKAGE_OK);
    CHECK_INT(table.count, 0);

    enum { SPACE = 1024 }; /* PATTERN_SYMBOLS^PATTERN_FIELDS */
    uint64_t want[SPACE] = {0};
    size_t number[SPACE];
    size_t first_seen = 0;
    uint64_t total = 0;
    int index_errors = 0, order_errors = 0;
    for (size_t i = 0; i < SPACE; i++)
        number[i] = SIZE_MAX;

    rng_seed(11);
    for (int k = 0; k < 20000; k++) {
        uint8_t gamma[PATTERN_FIELDS];
        for (unsigned f = 0; f < PATTERN_FIELDS; f++) {
            /* skewed, so that some patterns are common and some rare */
            uint32_t x = rng_below(16);
            gamma[f] = x < 9 ? 0 : x < 13 ? 1 : x < 15 ? 2 : NUL;
        }
        uint64_t count = 1 + rng_below(3);
        unsigned code = pattern_code(gamma);
        size_t index;
        if (cdp_linkage_patterns_add(&table, gamma, count, &index) != CDP_LINKAGE_OK) {
            index_errors++;
            continue;
        }
        if (number[code] == SIZE_MAX) {
            if (index != first_seen++)
                order_errors++;
            number[code] = index;
        } else if (number[code] != index) {
            index_errors++;
        }
        want[code] += count;
        total += count;
    }
    CHECK_INT(index_errors, 0);
    CHECK_INT(order_errors, 0);
    CHECK_INT(table.count, first_seen);
    CHECK(table.count > 300); /* the table grew several times */
    CHECK_INT(table.total, total);

    /* Every pattern's count is right, and the counts add up to the total. */
    uint64_t sum = 0;
    int count_errors = 0, find_errors = 0;
    for (size_t i = 0; i < table.count; i++) {
        const uint8_t *gamma = table.gammas + i * PATTERN_FIELDS;
        unsigned code = pattern_code(gamma);
        if (table.counts[i] != want[code] || number[code] != i)
            count_errors++;
        if (cdp_linkage_patterns_find(&table, gamma) != i)
            find_errors++;
        sum += table.counts[i];
    }
    CHECK_INT(count_errors, 0);
    CHECK_INT(find_errors, 0);
    CHECK_INT(sum, total);

    /* Distinct patterns: as many as codes seen; an unseen one is not found. */
    size_t distinct = 0;
    unsigned unseen = SPACE;
    for (unsigned code = 0; code < SPACE; code++) {
        if (want[code] != 0)
            distinct++;
        else
            unseen = code;
    }
    CHECK_INT(distinct, table.count);
    CHECK(unseen < SPACE);
    uint8_t gamma[PATTERN_FIELDS];
    for (int f = PATTERN_FIELDS - 1, code = (int)unseen; f >= 0; f--, code /= PATTERN_SYMBOLS)
        gamma[f] = code % PATTERN_SYMBOLS == 3 ? NUL : (uint8_t)(code % PATTERN_SYMBOLS);
    CHECK(cdp_linkage_patterns_find(&table, gamma) == SIZE_MAX);

    /* A count of 0 records a pattern without weight. */
    size_t index;
    CHECK_INT(cdp_linkage_patterns_add(&table, gamma, 0, &index), CDP_LINKAGE_OK);
    CHECK_INT(index, distinct);
    CHECK_INT(table.count, distinct + 1);
    CHECK_INT(table.total, total);
    CHECK_INT(cdp_linkage_patterns_find(&table, gamma), distinct);

    cdp_linkage_patterns_free(&table);
    CHECK(table.count == 0 && table.gammas == NULL);
    CHECK(cdp_linkage_patterns_find(&table, gamma) == SIZE_MAX);
}

/* ------------------------------------------------------------------------ */
/* EM                                                                       */

#define EM_FIELDS 4

static const unsigned char em_levels[EM_FIELDS] = {2, 3, 4, 3};
static const double em_m[EM_FIELDS][4] = {
    {0.05, 0.95},
    {0.05, 0.15, 0.80},
    {0.02, 0.08, 0.20, 0.70},
    {0.10, 0.20, 0.70},
};
static const double em_u[EM_FIELDS][4] = {
    {0.90, 0.10},
    {0.85, 0.12, 0.03},
    {0.70, 0.20, 0.08, 0.02},
    {0.60, 0.30, 0.10},
};
#define EM_LAMBDA 0.1
#define EM_PAIRS 200000

/* A model with the true u and the default starting m. */
static void
em_model(struct cdp_linkage_model *model)
{
    cdp_linkage_model_init(model, EM_FIELDS, em_levels);
    for (unsigned f = 0; f < EM_FIELDS; f++) {
        for (unsigned l = 0; l < em_levels[f]; l++)
            model->u[f][l] = em_u[f][l];
    }
}

/* The largest distance of the model's m from the truth. */
static double
em_error(const struct cdp_linkage_model *model)
{
    double worst = 0;
    for (unsigned f = 0; f < EM_FIELDS; f++) {
        for (unsigned l = 0; l < em_levels[f]; l++)
            worst = fmax(worst, fabs(model->m[f][l] - em_m[f][l]));
    }
    return worst;
}

static void
test_em(void)
{
    /* 10% matches drawn from m, 90% non-matches from u; field 3 null in 5% of pairs. */
    struct cdp_linkage_patterns table;
    CHECK_INT(cdp_linkage_patterns_init(&table, EM_FIELDS), CDP_LINKAGE_OK);
    rng_seed(20240601);
    size_t matches = 0;
    for (size_t p = 0; p < EM_PAIRS; p++) {
        int match = rng_uniform() < EM_LAMBDA;
        matches += (size_t)match;
        uint8_t gamma[EM_FIELDS];
        for (unsigned f = 0; f < EM_FIELDS; f++)
            gamma[f] = rng_level(match ? em_m[f] : em_u[f], em_levels[f]);
        if (rng_uniform() < 0.05)
            gamma[3] = NUL;
        cdp_linkage_patterns_add(&table, gamma, 1, NULL);
    }
    CHECK_INT(table.total, EM_PAIRS);
    CHECK(table.count <= 2 * 3 * 4 * 4);
    double share = (double)matches / EM_PAIRS;

    /* From the default m, which favours the higher levels but is far from the truth */
    struct cdp_linkage_model model;
    struct cdp_linkage_em_report report;
    em_model(&model);
    CHECK(em_error(&model) > 0.1);
    double u21 = model.u[2][1], prior = model.lambda;
    CHECK_INT(cdp_linkage_em(&model, &table, NULL, &report), CDP_LINKAGE_OK);
    CHECK(report.converged);
    CHECK(report.iterations > 1 && report.iterations < 1000);
    CHECK(report.max_change <= 1e-6);
    CHECK_NEAR(em_error(&model), 0, 0.01);
    CHECK_NEAR(report.lambda, EM_LAMBDA, 0.005);
    CHECK_NEAR(report.lambda, share, 0.005);
    CHECK(model.u[2][1] == u21);  /* u held fixed */
    CHECK(model.lambda == prior); /* the prior is the caller's */
    CHECK_INT(cdp_linkage_model_check(&model), CDP_LINKAGE_OK);
    for (unsigned f = 0; f < EM_FIELDS; f++) {
        double sum = 0;
        for (unsigned l = 0; l < em_levels[f]; l++)
            sum += model.m[f][l];
        CHECK_NEAR(sum, 1, 1e-12);
    }
    printf("linkage: EM from the default m: %d iterations, max |m error| %.4f, lambda %.4f "
           "(drawn %.4f)\n",
           report.iterations, em_error(&model), report.lambda, share);
    struct cdp_linkage_model fitted = model;

    /* From a flat m and a poor lambda, to the same place */
    em_model(&model);
    for (unsigned f = 0; f < EM_FIELDS; f++) {
        for (unsigned l = 0; l < em_levels[f]; l++)
            model.m[f][l] = 1.0 / em_levels[f];
    }
    struct cdp_linkage_em_options options = {0, 1e-9, 0.5};
    CHECK_INT(cdp_linkage_em(&model, &table, &options, &report), CDP_LINKAGE_OK);
    CHECK_NEAR(em_error(&model), 0, 0.01);
    CHECK_NEAR(report.lambda, EM_LAMBDA, 0.005);
    double apart = 0;
    for (unsigned f = 0; f < EM_FIELDS; f++) {
        for (unsigned l = 0; l < em_levels[f]; l++)
            apart = fmax(apart, fabs(model.m[f][l] - fitted.m[f][l]));
    }
    CHECK(apart < 1e-4);

    /* The log-likelihood never falls from one iteration to the next. */
    double last = -INFINITY;
    int falls = 0;
    for (int k = 1; k <= 12; k++) {
        em_model(&model);
        struct cdp_linkage_em_options few = {k, 1e-300, 0};
        int status = cdp_linkage_em(&model, &table, &few, &report);
        if (status != CDP_LINKAGE_ENOCONV || report.iterations != k || report.converged)
            falls += 100;
        if (report.log_likelihood < last - 1e-6 * fabs(last))
            falls++;
        last = report.log_likelihood;
    }
    CHECK_INT(falls, 0);

    /* Out of iterations: ENOCONV, m holds the last iterate. */
    em_model(&model);
    struct cdp_linkage_em_options one = {1, 0, 0};
    CHECK_INT(cdp_linkage_em(&model, &table, &one, &report), CDP_LINKAGE_ENOCONV);
    CHECK(!report.converged);
    CHECK_INT(report.iterations, 1);
    CHECK(report.max_change > 0);
    CHECK(model.m[0][1] != 0.8);

    /* A level the matches never show is floored, not 0. */
    struct cdp_linkage_patterns sparse;
    const unsigned char three[] = {3};
    CHECK_INT(cdp_linkage_patterns_init(&sparse, 1), CDP_LINKAGE_OK);
    const uint8_t level0[] = {0}, level1[] = {1}, level_null[] = {NUL};
    cdp_linkage_patterns_add(&sparse, level0, 900, NULL);
    cdp_linkage_patterns_add(&sparse, level1, 100, NULL);
    cdp_linkage_patterns_add(&sparse, level_null, 50, NULL);
    cdp_linkage_model_init(&model, 1, three);
    model.u[0][0] = 0.9, model.u[0][1] = 0.09, model.u[0][2] = 0.01;
    cdp_linkage_em(&model, &sparse, NULL, &report);
    CHECK(model.m[0][2] >= CDP_LINKAGE_M_FLOOR / (1 + 3 * CDP_LINKAGE_M_FLOOR));
    CHECK(model.m[0][2] <= 2 * CDP_LINKAGE_M_FLOOR);
    CHECK_INT(cdp_linkage_model_check(&model), CDP_LINKAGE_OK);

    /* Refusals, nothing changed */
    em_model(&model);
    struct cdp_linkage_model before = model;
    struct cdp_linkage_em_options negative = {-1, 0, 0};
    struct cdp_linkage_em_options lambda_one = {0, 0, 1};
    CHECK_INT(cdp_linkage_em(&model, &table, &negative, &report), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_em(&model, &table, &lambda_one, &report), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_em(&model, &sparse, NULL, &report), CDP_LINKAGE_EINVAL); /* nfields */
    struct cdp_linkage_patterns empty;
    cdp_linkage_patterns_init(&empty, EM_FIELDS);
    CHECK_INT(cdp_linkage_em(&model, &empty, NULL, &report), CDP_LINKAGE_EINVAL);
    const uint8_t out_of_range[EM_FIELDS] = {0, 3, 0, 0};
    cdp_linkage_patterns_add(&empty, out_of_range, 1, NULL);
    CHECK_INT(cdp_linkage_em(&model, &empty, NULL, &report), CDP_LINKAGE_EINVAL);
    model.u[1][1] = 0;
    CHECK_INT(cdp_linkage_em(&model, &table, NULL, &report), CDP_LINKAGE_EINVAL);
    model.u[1][1] = before.u[1][1];
    CHECK(memcmp(&model, &before, sizeof model) == 0);

    cdp_linkage_patterns_free(&empty);
    cdp_linkage_patterns_free(&sparse);
    cdp_linkage_patterns_free(&table);
}

/* ------------------------------------------------------------------------ */
/* Blocking                                                                 */

#define BLOCK_RECORDS 400
#define BLOCK_RULES 3

struct collected {
    uint32_t n;
    unsigned char *seen; /* seen[i * n + j]: times (i, j) was emitted */
    uint64_t calls;
    uint64_t stop_after; /* 0: never stop */
    int misordered;      /* pairs with i >= j or out of range */
};

static int
collect(void *ctx, uint32_t i, uint32_t j)
{
    struct collected *c = ctx;
    c->calls++;
    if (i >= j || j >= c->n)
        c->misordered++;
    else if (c->seen[(size_t)i * c->n + j] < 255)
        c->seen[(size_t)i * c->n + j]++;
    return c->stop_after != 0 && c->calls >= c->stop_after;
}

/* Records in i's block under one rule's keys (0 when i has no key there). */
static uint32_t
block_size(const uint64_t *keys, uint32_t n, uint32_t i)
{
    if (keys[i] == 0)
        return 0;
    uint32_t size = 0;
    for (uint32_t k = 0; k < n; k++)
        size += keys[k] == keys[i];
    return size;
}

/*
 * Runs cdp_linkage_block() and compares it with brute force: every pair
 * that shares a key in a block of at most max_block records must come
 * exactly once, and nothing else.  Returns the number of errors.
 */
static int
block_against_brute_force(const uint64_t *const *keys, uint32_t n, uint32_t max_block,
                          struct cdp_linkage_block_report *report)
{
    struct collected c = {n, calloc((size_t)n * n, 1), 0, 0, 0};
    int status = cdp_linkage_block(keys, BLOCK_RULES, n, max_block, collect, &c, report);
    int errors = status != CDP_LINKAGE_OK;
    errors += c.misordered;

    uint32_t *sizes = malloc((size_t)n * BLOCK_RULES * sizeof *sizes);
    for (unsigned r = 0; r < BLOCK_RULES; r++) {
        for (uint32_t i = 0; i < n; i++)
            sizes[r * n + i] = block_size(keys[r], n, i);
    }
    uint64_t want_pairs = 0, want_rule0 = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = i + 1; j < n; j++) {
            int eligible = 0;
            for (unsigned r = 0; r < BLOCK_RULES; r++) {
                if (keys[r][i] != 0 && keys[r][i] == keys[r][j] &&
                    (max_block == 0 || sizes[r * n + i] <= max_block)) {
                    eligible = 1;
                    want_rule0 += r == 0;
                    break;
                }
            }
            want_pairs += (uint64_t)eligible;
            if (c.seen[(size_t)i * n + j] != eligible)
                errors++;
        }
    }
    if (report->pairs != want_pairs || c.calls != want_pairs || report->rule_pairs[0] != want_rule0)
        errors++;
    uint64_t by_rule = 0;
    for (unsigned r = 0; r < CDP_LINKAGE_MAX_RULES; r++)
        by_rule += report->rule_pairs[r];
    if (by_rule != report->pairs)
        errors++;
    free(sizes);
    free(c.seen);
    return errors;
}

/*
 * Counts, rule by rule, the blocks of more than limit records, and the pairs
 * those blocks hold.
 */
static void
skipped_by_brute_force(const uint64_t *const *keys, uint32_t n, uint32_t limit,
                       uint64_t blocks[BLOCK_RULES], uint64_t *pairs)
{
    *pairs = 0;
    for (unsigned r = 0; r < BLOCK_RULES; r++) {
        blocks[r] = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t size = block_size(keys[r], n, i);
            int first = 1;
            for (uint32_t k = 0; k < i && first; k++)
                first = keys[r][k] != keys[r][i];
            if (first && size > limit) {
                blocks[r]++;
                *pairs += (uint64_t)size * (size - 1) / 2;
            }
        }
    }
}

static void
test_blocking(void)
{
    /*
     * Rule 0: small keys; rule 1: keys that differ only in the top byte;
     * rule 2: few keys spread over all 64 bits, so some blocks are big.
     * Records 0 to 9 have no key under any rule.
     */
    uint32_t n = BLOCK_RECORDS;
    uint64_t *keys[BLOCK_RULES];
    for (unsigned r = 0; r < BLOCK_RULES; r++)
        keys[r] = calloc(n, sizeof *keys[r]);
    rng_seed(99);
    for (uint32_t i = 10; i < n; i++) {
        keys[0][i] = rng_uniform() < 0.2 ? 0 : 1 + rng_below(60);
        keys[1][i] = rng_uniform() < 0.3 ? 0 : (uint64_t)(1 + rng_below(90)) << 56;
        keys[2][i] = rng_uniform() < 0.5 ? 0 : (1 + rng_below(8)) * UINT64_C(0x9e3779b97f4a7c15);
    }
    const uint64_t *const *rules = (const uint64_t *const *)keys;

    struct cdp_linkage_block_report report;
    CHECK_INT(block_against_brute_force(rules, n, 0, &report), 0);
    CHECK(report.pairs > 1000);
    CHECK_INT(report.skipped_blocks, 0);
    CHECK_INT(report.skipped_pairs, 0);
    CHECK(report.rule_pairs[0] > 0 && report.rule_pairs[1] > 0 && report.rule_pairs[2] > 0);
    uint64_t unlimited = report.pairs;

    /* The biggest block, brute force */
    uint32_t largest = 0;
    for (unsigned r = 0; r < BLOCK_RULES; r++) {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t size = block_size(keys[r], n, i);
            largest = size > largest ? size : largest;
        }
    }
    CHECK_INT(report.largest_block, largest);

    /* Limits that leave out some blocks: rule 2's big ones, then smaller ones too */
    const uint32_t limits[] = {16, 6};
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        uint64_t want_blocks[BLOCK_RULES], want_skipped_pairs;
        skipped_by_brute_force(rules, n, limits[k], want_blocks, &want_skipped_pairs);
        CHECK_INT(block_against_brute_force(rules, n, limits[k], &report), 0);
        CHECK(want_blocks[2] > 0);
        CHECK_INT(report.skipped_blocks, want_blocks[0] + want_blocks[1] + want_blocks[2]);
        for (unsigned r = 0; r < BLOCK_RULES; r++)
            CHECK_INT(report.rule_skipped_blocks[r], want_blocks[r]);
        CHECK_INT(report.skipped_pairs, want_skipped_pairs);
        CHECK(report.pairs < unlimited);
    }
    CHECK(report.rule_skipped_blocks[0] > 0 && report.rule_skipped_blocks[1] > 0);

    /* Records without keys are never paired. */
    struct collected c = {n, calloc((size_t)n * n, 1), 0, 0, 0};
    CHECK_INT(cdp_linkage_block(rules, BLOCK_RULES, n, 0, collect, &c, &report), CDP_LINKAGE_OK);
    uint64_t keyless = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++) {
            if ((i < 10 || j < 10) && c.seen[(size_t)i * n + j])
                keyless++;
        }
    }
    CHECK_INT(keyless, 0);
    CHECK_INT(c.misordered, 0);

    /* The callback stops the run. */
    memset(c.seen, 0, (size_t)n * n);
    c.calls = 0;
    c.stop_after = 25;
    CHECK_INT(cdp_linkage_block(rules, BLOCK_RULES, n, 0, collect, &c, &report),
              CDP_LINKAGE_STOPPED);
    CHECK_INT(c.calls, 25);
    CHECK_INT(report.pairs, 25);
    free(c.seen);

    /* One rule, all records in one block: n (n - 1) / 2 pairs, or none above the limit */
    uint64_t *same = malloc(n * sizeof *same);
    for (uint32_t i = 0; i < n; i++)
        same[i] = UINT64_C(0xdeadbeef);
    const uint64_t *one_rule[] = {same};
    struct collected all = {n, calloc((size_t)n * n, 1), 0, 0, 0};
    CHECK_INT(cdp_linkage_block(one_rule, 1, n, 0, collect, &all, &report), CDP_LINKAGE_OK);
    CHECK_INT(report.pairs, (uint64_t)n * (n - 1) / 2);
    CHECK_INT(all.misordered, 0);
    CHECK_INT(cdp_linkage_block(one_rule, 1, n, n - 1, collect, &all, &report), CDP_LINKAGE_OK);
    CHECK_INT(report.pairs, 0);
    CHECK_INT(report.skipped_blocks, 1);
    CHECK_INT(report.largest_block, n);
    CHECK_INT(cdp_linkage_block(one_rule, 1, n, n, collect, &all, &report), CDP_LINKAGE_OK);
    CHECK_INT(report.pairs, (uint64_t)n * (n - 1) / 2);
    free(all.seen);
    free(same);

    /* The same rule twice adds nothing. */
    const uint64_t *twice[] = {keys[0], keys[0]};
    struct collected again = {n, calloc((size_t)n * n, 1), 0, 0, 0};
    CHECK_INT(cdp_linkage_block(twice, 2, n, 0, collect, &again, &report), CDP_LINKAGE_OK);
    free(again.seen);
    CHECK(report.rule_pairs[0] > 0);
    CHECK_INT(report.rule_pairs[1], 0);

    /* Refusals, and nothing to do */
    CHECK_INT(cdp_linkage_block(rules, 0, n, 0, collect, NULL, &report), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_block(rules, CDP_LINKAGE_MAX_RULES + 1, n, 0, collect, NULL, &report),
              CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_block(rules, BLOCK_RULES, n, 0, NULL, NULL, &report), CDP_LINKAGE_EINVAL);
    const uint64_t *missing[] = {keys[0], NULL};
    CHECK_INT(cdp_linkage_block(missing, 2, n, 0, collect, NULL, &report), CDP_LINKAGE_EINVAL);
    CHECK_INT(cdp_linkage_block(rules, BLOCK_RULES, 0, 0, collect, NULL, &report), CDP_LINKAGE_OK);
    CHECK_INT(report.pairs, 0);

    for (unsigned r = 0; r < BLOCK_RULES; r++)
        free(keys[r]);
}

/* ------------------------------------------------------------------------ */
/* Clusters                                                                 */

#define CLUSTER_RECORDS 60
#define CLUSTER_UNIONS 45

static void
test_clusters(void)
{
    uint32_t edges[CLUSTER_UNIONS][2];
    rng_seed(5);
    for (int k = 0; k < CLUSTER_UNIONS; k++) {
        edges[k][0] = rng_below(CLUSTER_RECORDS);
        edges[k][1] = rng_below(CLUSTER_RECORDS);
    }

    /* Brute force: relax the smallest index along the edges until nothing moves. */
    uint32_t want[CLUSTER_RECORDS];
    for (uint32_t i = 0; i < CLUSTER_RECORDS; i++)
        want[i] = i;
    for (int moved = 1; moved;) {
        moved = 0;
        for (int k = 0; k < CLUSTER_UNIONS; k++) {
            uint32_t a = edges[k][0], b = edges[k][1];
            uint32_t low = want[a] < want[b] ? want[a] : want[b];
            if (want[a] != low || want[b] != low) {
                want[a] = want[b] = low;
                moved = 1;
            }
        }
    }
    uint32_t want_count = 0;
    for (uint32_t i = 0; i < CLUSTER_RECORDS; i++)
        want_count += want[i] == i;

    struct cdp_linkage_clusters c;
    uint32_t labels[CLUSTER_RECORDS];
    int mismatches = 0, merges_wrong = 0;
    for (int round = 0; round < 10; round++) {
        /* Each round shuffles the unions and swaps their ends at random. */
        for (int k = CLUSTER_UNIONS - 1; k > 0; k--) {
            int other = (int)rng_below((uint32_t)k + 1);
            uint32_t a = edges[k][0], b = edges[k][1];
            edges[k][0] = edges[other][0], edges[k][1] = edges[other][1];
            edges[other][0] = a, edges[other][1] = b;
        }
        for (int k = 0; k < CLUSTER_UNIONS; k++) {
            if (rng_below(2)) {
                uint32_t a = edges[k][0];
                edges[k][0] = edges[k][1];
                edges[k][1] = a;
            }
        }
        if (cdp_linkage_clusters_init(&c, CLUSTER_RECORDS) != CDP_LINKAGE_OK) {
            mismatches++;
            continue;
        }
        uint32_t merges = 0;
        for (int k = 0; k < CLUSTER_UNIONS; k++)
            merges += cdp_linkage_clusters_union(&c, edges[k][0], edges[k][1]);
        cdp_linkage_clusters_labels(&c, labels);
        if (memcmp(labels, want, sizeof labels) != 0)
            mismatches++;
        if (c.count != want_count || merges != CLUSTER_RECORDS - want_count)
            merges_wrong++;
        cdp_linkage_clusters_free(&c);
    }
    CHECK_INT(mismatches, 0);
    CHECK_INT(merges_wrong, 0);
    CHECK(want_count > 1 && want_count < CLUSTER_RECORDS);

    /* A label is the smallest member, and labels itself. */
    int not_smallest = 0;
    for (uint32_t i = 0; i < CLUSTER_RECORDS; i++) {
        if (labels[i] > i || labels[labels[i]] != labels[i])
            not_smallest++;
    }
    CHECK_INT(not_smallest, 0);

    /* By hand: a chain joined from its top end */
    CHECK_INT(cdp_linkage_clusters_init(&c, 6), CDP_LINKAGE_OK);
    CHECK(cdp_linkage_clusters_union(&c, 5, 4));
    CHECK(cdp_linkage_clusters_union(&c, 4, 2));
    CHECK(!cdp_linkage_clusters_union(&c, 2, 5));
    CHECK(cdp_linkage_clusters_union(&c, 3, 0));
    CHECK(cdp_linkage_clusters_find(&c, 5) == cdp_linkage_clusters_find(&c, 2));
    CHECK(cdp_linkage_clusters_find(&c, 5) != cdp_linkage_clusters_find(&c, 3));
    CHECK_INT(c.count, 3);
    uint32_t six[6];
    cdp_linkage_clusters_labels(&c, six);
    const uint32_t want_six[6] = {0, 1, 2, 0, 2, 2};
    CHECK(memcmp(six, want_six, sizeof six) == 0);
    cdp_linkage_clusters_free(&c);

    CHECK_INT(cdp_linkage_clusters_init(&c, 0), CDP_LINKAGE_OK);
    CHECK_INT(c.count, 0);
    cdp_linkage_clusters_labels(&c, NULL);
    cdp_linkage_clusters_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

static void
test_evaluate(void)
{
    /* Truth: {0, 1, 2}, {3, 4}, {5}: 3 + 1 = 4 true pairs. */
    const uint32_t truth[] = {10, 10, 10, 20, 20, 30};
    struct cdp_linkage_evaluation e;

    /* All singletons: nothing claimed, nothing found. */
    const uint32_t singletons[] = {0, 1, 2, 3, 4, 5};
    CHECK_INT(cdp_linkage_evaluate(singletons, truth, 6, &e), CDP_LINKAGE_OK);
    CHECK_INT(e.true_positives, 0);
    CHECK_INT(e.false_positives, 0);
    CHECK_INT(e.false_negatives, 4);
    CHECK_INT(e.predicted_pairs, 0);
    CHECK_INT(e.true_pairs, 4);
    CHECK_INT(e.predicted_clusters, 6);
    CHECK_INT(e.true_clusters, 3);
    CHECK(e.precision == 1 && e.recall == 0 && e.f1 == 0);

    /* Perfect, under other label numbers */
    const uint32_t perfect[] = {7, 7, 7, UINT32_MAX, UINT32_MAX, 0};
    CHECK_INT(cdp_linkage_evaluate(perfect, truth, 6, &e), CDP_LINKAGE_OK);
    CHECK_INT(e.true_positives, 4);
    CHECK_INT(e.false_positives, 0);
    CHECK_INT(e.false_negatives, 0);
    CHECK_INT(e.predicted_clusters, 3);
    CHECK(e.precision == 1 && e.recall == 1 && e.f1 == 1);

    /* One merge too many: {3, 4} joined with {5} makes pairs (3,5) and (4,5) wrong. */
    const uint32_t merged[] = {1, 1, 1, 2, 2, 2};
    CHECK_INT(cdp_linkage_evaluate(merged, truth, 6, &e), CDP_LINKAGE_OK);
    CHECK_INT(e.true_positives, 4);
    CHECK_INT(e.false_positives, 2);
    CHECK_INT(e.false_negatives, 0);
    CHECK_INT(e.predicted_pairs, 6);
    CHECK_INT(e.predicted_clusters, 2);
    CHECK_NEAR(e.precision, 2.0 / 3, 1e-15);
    CHECK(e.recall == 1);
    CHECK_NEAR(e.f1, 0.8, 1e-15);

    /* One split: {0, 1, 2} as {0, 1} and {2} loses (0,2) and (1,2). */
    const uint32_t split[] = {4, 4, 9, 5, 5, 6};
    CHECK_INT(cdp_linkage_evaluate(split, truth, 6, &e), CDP_LINKAGE_OK);
    CHECK_INT(e.true_positives, 2);
    CHECK_INT(e.false_positives, 0);
    CHECK_INT(e.false_negatives, 2);
    CHECK(e.precision == 1);
    CHECK_NEAR(e.recall, 0.5, 1e-15);
    CHECK_NEAR(e.f1, 2.0 / 3, 1e-15);

    /* All in one: 15 predicted pairs, 4 right. */
    const uint32_t lumped[] = {3, 3, 3, 3, 3, 3};
    CHECK_INT(cdp_linkage_evaluate(lumped, truth, 6, &e), CDP_LINKAGE_OK);
    CHECK_INT(e.predicted_pairs, 15);
    CHECK_INT(e.true_positives, 4);
    CHECK_INT(e.false_positives, 11);
    CHECK_NEAR(e.precision, 4.0 / 15, 1e-15);
    CHECK_NEAR(e.f1, 2 * (4.0 / 15) / (4.0 / 15 + 1), 1e-15);

    /* Singletons against singletons, and no records at all */
    CHECK_INT(cdp_linkage_evaluate(singletons, singletons, 6, &e), CDP_LINKAGE_OK);
    CHECK(e.true_pairs == 0 && e.predicted_pairs == 0);
    CHECK(e.precision == 1 && e.recall == 1 && e.f1 == 1);
    CHECK_INT(cdp_linkage_evaluate(NULL, NULL, 0, &e), CDP_LINKAGE_OK);
    CHECK(e.predicted_clusters == 0 && e.true_clusters == 0 && e.true_positives == 0);
    CHECK_INT(cdp_linkage_evaluate(NULL, truth, 6, &e), CDP_LINKAGE_EINVAL);

    /* Random labels against brute force over all pairs */
    enum { N = 500 };
    uint32_t predicted[N], actual[N];
    rng_seed(3);
    for (int i = 0; i < N; i++) {
        actual[i] = rng_below(120) * 0x01000193u;
        predicted[i] = rng_uniform() < 0.8 ? actual[i] ^ 0x80000000u : rng_below(40);
    }
    uint64_t tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < N; i++) {
        for (int j = i + 1; j < N; j++) {
            int p = predicted[i] == predicted[j], t = actual[i] == actual[j];
            tp += (uint64_t)(p && t);
            fp += (uint64_t)(p && !t);
            fn += (uint64_t)(!p && t);
        }
    }
    CHECK_INT(cdp_linkage_evaluate(predicted, actual, N, &e), CDP_LINKAGE_OK);
    CHECK(tp > 0 && fp > 0 && fn > 0);
    CHECK_INT(e.true_positives, tp);
    CHECK_INT(e.false_positives, fp);
    CHECK_INT(e.false_negatives, fn);
    CHECK_NEAR(e.precision, (double)tp / (double)(tp + fp), 1e-15);
    CHECK_NEAR(e.recall, (double)tp / (double)(tp + fn), 1e-15);
}

static void
test_strerror(void)
{
    CHECK_STR(cdp_linkage_strerror(CDP_LINKAGE_OK), "success");
    CHECK_STR(cdp_linkage_strerror(CDP_LINKAGE_ENOCONV), "EM did not converge");
    CHECK_STR(cdp_linkage_strerror(CDP_LINKAGE_STOPPED), "stopped by the caller");
    CHECK_STR(cdp_linkage_strerror(-1), "unknown status");
}

int
main(void)
{
    test_model_init();
    test_weights();
    test_estimate_u();
    test_patterns();
    test_em();
    test_blocking();
    test_clusters();
    test_evaluate();
    test_strerror();
    return check_summary("linkage");
}
