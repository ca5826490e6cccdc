/*
 * test_predict.c - unit tests for lib/predict.c.
 *
 * The model tests run on the CDNOW sample of Fader, Hardie and Lee
 * (tests/data/cdnow/CDNOW_sample.txt, found from the working directory or
 * from $CDP_TESTDATA, the directory holding cdnow/) and check the estimates
 * published with it.  Without the file those tests are skipped with a
 * message; the others still run.
 */
#include "predict.h"
#include "timeparse.h"
#include "buf.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

/* The estimates of FHL (2005) for the CDNOW sample, in weeks. */
static const struct cdp_predict_bgnbd published = {0.243, 4.414, 0.793, 2.426};

/*
 * Checks got against a published value to its third significant digit:
 * within half a unit of that digit.
 */
#define CHECK_3SF(got, want) CHECK_NEAR(got, want, 0.5 * pow(10, floor(log10(fabs(want))) - 2))

/* ------------------------------------------------------------------------ */
/* Summaries                                                                */

static void
test_summary_edges(void)
{
    struct cdp_predict_summary s;
    int64_t base = cdp_time_from_civil(2024, 1, 1, 0, 0, 0, 0);

    /* Empty history */
    s.x = 99;
    CHECK(!cdp_predict_summarize(NULL, 0, base, CDP_PREDICT_DAYS, &s));
    CHECK_INT(s.days, 0);
    CHECK(s.x == 0 && s.t_x == 0 && s.T == 0 && s.monetary == 0 && s.total == 0);

    /* One purchase: x == 0, t_x == 0, no monetary value */
    struct cdp_predict_txn one[] = {{base + 10 * HOUR_MS, 20}};
    CHECK(cdp_predict_summarize(one, 1, base + 5 * DAY_MS, CDP_PREDICT_DAYS, &s));
    CHECK_INT(s.days, 1);
    CHECK_INT(s.orders, 1);
    CHECK(s.x == 0 && s.t_x == 0);
    CHECK(s.T == 5 && s.recency == 5);
    CHECK(s.monetary == 0);
    CHECK(s.total == 20);
    CHECK_INT(s.first_day, base / DAY_MS);
    CHECK_INT(s.last_day, base / DAY_MS);

    /* Same-day purchases merge; the as-of day itself is included. */
    struct cdp_predict_txn merged[] = {
        {base + 1 * HOUR_MS, 10},
        {base + 23 * HOUR_MS + 59 * 60000, 5},
        {base + 3 * DAY_MS + 2 * HOUR_MS, 7},
        {base + 3 * DAY_MS + 20 * HOUR_MS, 8},
    };
    CHECK(cdp_predict_summarize(merged, 4, base + 10 * DAY_MS, CDP_PREDICT_DAYS, &s));
    CHECK_INT(s.days, 2);
    CHECK_INT(s.orders, 4);
    CHECK(s.x == 1 && s.t_x == 3 && s.T == 10 && s.recency == 7);
    CHECK(s.monetary == 15);
    CHECK(s.total == 30);

    /* Unsorted input gives the same summary, and is left sorted. */
    struct cdp_predict_txn shuffled[] = {
        {base + 3 * DAY_MS + 20 * HOUR_MS, 8},
        {base + 23 * HOUR_MS + 59 * 60000, 5},
        {base + 3 * DAY_MS + 2 * HOUR_MS, 7},
        {base + 1 * HOUR_MS, 10},
    };
    struct cdp_predict_summary u;
    CHECK(cdp_predict_summarize(shuffled, 4, base + 10 * DAY_MS, CDP_PREDICT_DAYS, &u));
    CHECK(memcmp(&s, &u, sizeof s) == 0);
    CHECK(shuffled[0].time_ms == base + 1 * HOUR_MS);
    CHECK(shuffled[3].time_ms == base + 3 * DAY_MS + 20 * HOUR_MS);

    /* In weeks */
    CHECK(cdp_predict_summarize(shuffled, 4, base + 10 * DAY_MS, CDP_PREDICT_WEEKS, &s));
    CHECK_NEAR(s.t_x, 3.0 / 7, 1e-15);
    CHECK_NEAR(s.T, 10.0 / 7, 1e-15);
    CHECK_NEAR(s.recency, 1.0, 1e-15);
    CHECK(s.x == 1 && s.monetary == 15);

    /* The as-of day is whole: midnight of day 3 still takes all of day 3. */
    CHECK(cdp_predict_summarize(shuffled, 4, base + 3 * DAY_MS, CDP_PREDICT_DAYS, &s));
    CHECK(s.x == 1 && s.t_x == 3 && s.T == 3 && s.recency == 0);
    CHECK_INT(s.orders, 4);

    /* Transactions after the as-of day are left out. */
    CHECK(cdp_predict_summarize(shuffled, 4, base + 3 * DAY_MS - 1, CDP_PREDICT_DAYS, &s));
    CHECK(s.x == 0 && s.t_x == 0 && s.T == 2 && s.recency == 2);
    CHECK_INT(s.orders, 2);
    CHECK(s.total == 15 && s.monetary == 0);
    CHECK(!cdp_predict_summarize(shuffled, 4, base - 1, CDP_PREDICT_DAYS, &s));
    CHECK_INT(s.days, 0);

    /* The monetary value is the mean of the repeat days, the first day left out. */
    struct cdp_predict_txn three[] = {
        {base + 2 * DAY_MS, 15},
        {base, 10},
        {base + 2 * DAY_MS + HOUR_MS, 25},
        {base + DAY_MS, 20},
    };
    CHECK(cdp_predict_summarize(three, 4, base + 2 * DAY_MS, CDP_PREDICT_DAYS, &s));
    CHECK(s.x == 2 && s.monetary == 30 && s.total == 70);

    /* Days before 1970 are floored, not truncated towards 0. */
    struct cdp_predict_txn early[] = {{-1, 1}, {-DAY_MS, 2}, {0, 3}};
    CHECK(cdp_predict_summarize(early, 3, 0, CDP_PREDICT_DAYS, &s));
    CHECK_INT(s.days, 2);
    CHECK_INT(s.first_day, -1);
    CHECK_INT(s.last_day, 0);
    CHECK(s.x == 1 && s.t_x == 1 && s.T == 1 && s.monetary == 3);

    /* A unit other than days or weeks is refused. */
    CHECK(!cdp_predict_summarize(one, 1, base + DAY_MS, (enum cdp_predict_unit)3, &s));
    CHECK_INT(s.days, 0);
}

/* ------------------------------------------------------------------------ */
/* 2F1                                                                      */

static void
test_hyp2f1(void)
{
    /* 2F1(1, 1; 2; z) = -ln(1-z)/z; rounding adds up as z nears 1. */
    const double zs[] = {0.001, 0.3, 0.5, 0.7, 0.9, 0.99, 0.9999, -0.5, -0.999, -3, -100};
    const double tolerance[] = {1e-15, 1e-15, 1e-15, 1e-15, 1e-15, 1e-13,
                                1e-11, 1e-15, 1e-15, 1e-15, 1e-13};
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        double z = zs[i];
        double want = -log1p(-z) / z;
        CHECK_NEAR(cdp_predict_hyp2f1(1, 1, 2, z), want, tolerance[i] * want);
    }
    /* 2F1(a, b; b; z) = (1-z)^-a */
    CHECK_NEAR(cdp_predict_hyp2f1(2.5, 1.7, 1.7, 0.6), pow(0.4, -2.5), 1e-12);
    CHECK_NEAR(cdp_predict_hyp2f1(0.3, 4, 4, 0.95), pow(0.05, -0.3), 1e-13);
    CHECK_NEAR(cdp_predict_hyp2f1(3, 2, 2, -2), pow(3, -3), 1e-15);
    /* 2F1(1/2, 1/2; 3/2; z^2) = asin(z)/z */
    CHECK_NEAR(cdp_predict_hyp2f1(0.5, 0.5, 1.5, 0.81), asin(0.9) / 0.9, 1e-14);
    CHECK_NEAR(cdp_predict_hyp2f1(0.5, 0.5, 1.5, 0.25), asin(0.5) / 0.5, 1e-15);
    /* Values from mpmath at 40 digits */
    CHECK_NEAR(cdp_predict_hyp2f1(2.5, 1.3, 0.7, 0.95), 25141.224744118785953, 1e-9);
    CHECK_NEAR(cdp_predict_hyp2f1(2.5, 1.3, 0.7, -5), -0.038628519801529235454, 1e-14);
    CHECK_NEAR(cdp_predict_hyp2f1(0.5, -1.5, 2.2, 0.8), 0.75547427594951837297, 1e-14);
    CHECK_NEAR(cdp_predict_hyp2f1(3, 4, 5, 0.99), 19634.999360690477260, 1e-8);
    CHECK_NEAR(cdp_predict_hyp2f1(-3, 2, 1.5, 0.7), -0.0752, 1e-15);
    CHECK_NEAR(cdp_predict_hyp2f1(1.5, 2.5, 0.3, -0.4), -0.68789067195625808772, 1e-14);
    CHECK_NEAR(cdp_predict_hyp2f1(20, 30, 2, 0.9) / 7.887796207557719424556e58, 1, 1e-12);
    /* Edges and the domain */
    CHECK(cdp_predict_hyp2f1(2, 3, 4, 0) == 1);
    CHECK(isnan(cdp_predict_hyp2f1(1, 1, 2, 1)));
    CHECK(isnan(cdp_predict_hyp2f1(1, 1, 2, 1.5)));
    CHECK(isnan(cdp_predict_hyp2f1(1, 1, 0, 0.5)));
    CHECK(isnan(cdp_predict_hyp2f1(1, 1, -2, 0.5)));
    CHECK(isnan(cdp_predict_hyp2f1(NAN, 1, 2, 0.5)));
    CHECK(isnan(cdp_predict_hyp2f1(1, 1, 2, NAN)));
    CHECK(isnan(cdp_predict_hyp2f1(1, 1, 2, -INFINITY)));
    /* So close to 1 that a million terms do not do: refused, not wrong. */
    CHECK(isnan(cdp_predict_hyp2f1(1, 1, 2, 1 - 1e-9)));
}

/* ------------------------------------------------------------------------ */
/* BG/NBD and Gamma-Gamma on hand-made values                               */

/* The BG/NBD likelihood of one customer, straight from eq. 6 with beta functions. */
static double
direct_bgnbd_ll(const struct cdp_predict_bgnbd *p, double x, double t_x, double T)
{
    double lbeta_ab = lgamma(p->a) + lgamma(p->b) - lgamma(p->a + p->b);
    double common = lgamma(p->r + x) - lgamma(p->r) + p->r * log(p->alpha);
    double first = lgamma(p->a) + lgamma(p->b + x) - lgamma(p->a + p->b + x) - lbeta_ab -
                   (p->r + x) * log(p->alpha + T);
    if (x == 0)
        return common + first;
    double second = lgamma(p->a + 1) + lgamma(p->b + x - 1) - lgamma(p->a + p->b + x) - lbeta_ab -
                    (p->r + x) * log(p->alpha + t_x);
    double top = fmax(first, second);
    return common + top + log(exp(first - top) + exp(second - top));
}

static void
test_bgnbd_small(void)
{
    const struct cdp_predict_bgnbd *p = &published;

    /* P(alive) */
    CHECK(cdp_predict_bgnbd_p_alive(p, 0, 0, 38) == 1);
    CHECK(cdp_predict_bgnbd_p_alive(p, 0, 0, 0) == 1);
    CHECK(cdp_predict_bgnbd_p_alive(p, 0, 0, 1e9) == 1);
    double want = 1 / (1 + 0.793 / (2.426 + 1) * pow((4.414 + 38.86) / (4.414 + 30.43), 2.243));
    CHECK_NEAR(cdp_predict_bgnbd_p_alive(p, 2, 30.43, 38.86), want, 1e-14);
    CHECK(cdp_predict_bgnbd_p_alive(p, 2, 30.43, 38.86) >
          cdp_predict_bgnbd_p_alive(p, 2, 10, 38.86));
    CHECK(cdp_predict_bgnbd_p_alive(p, 5, 38, 38) > cdp_predict_bgnbd_p_alive(p, 1, 38, 38));
    CHECK(cdp_predict_bgnbd_p_alive(p, 3, 1, 1e6) >= 0);
    CHECK(cdp_predict_bgnbd_p_alive(p, 3, 1, 1e6) < 1e-10);
    CHECK(isnan(cdp_predict_bgnbd_p_alive(p, 2, 40, 38)));
    CHECK(isnan(cdp_predict_bgnbd_p_alive(p, 1.5, 10, 38)));
    CHECK(isnan(cdp_predict_bgnbd_p_alive(p, -1, 10, 38)));
    struct cdp_predict_bgnbd bad = {0.243, -1, 0.793, 2.426};
    CHECK(isnan(cdp_predict_bgnbd_p_alive(&bad, 2, 10, 38)));
    CHECK(isnan(cdp_predict_bgnbd_p_alive(NULL, 2, 10, 38)));

    /* Expected purchases: the paper's customer (x=2, t_x=30.43, T=38.86), 39 weeks on */
    double e = cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, 39);
    CHECK_3SF(e, 1.226);
    CHECK_NEAR(e, 1.226, 0.0005);
    CHECK_NEAR(e, 1.2260281747671444463, 1e-12); /* mpmath */
    CHECK_NEAR(cdp_predict_bgnbd_expected(p, 2, 213.0 / 7, 272.0 / 7, 39), 1.2261158061493217126,
               1e-12);
    CHECK_NEAR(cdp_predict_bgnbd_expected(p, 0, 0, 38, 39), 0.19865779040999582656, 1e-13);
    CHECK_NEAR(cdp_predict_bgnbd_expected(p, 0, 0, 1, 2000), 7.9904045438016660178, 1e-10);
    CHECK_NEAR(cdp_predict_bgnbd_expected(p, 50, 36, 38, 5000), 358.10007672050663210, 1e-7);
    CHECK_NEAR(cdp_predict_bgnbd_expected(p, 1, 5, 6, 0.001), 8.708452496099990869e-5, 1e-17);
    CHECK(cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, 0) == 0);
    CHECK(cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, 40) >
          cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, 39));
    CHECK(isnan(cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, -1)));
    CHECK(isnan(cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, INFINITY)));
    CHECK(isnan(cdp_predict_bgnbd_expected(p, 2, 40, 38.86, 39)));
    CHECK(isnan(cdp_predict_bgnbd_expected(&bad, 2, 30.43, 38.86, 39)));

    /* a == 1, where eq. 10 reads 0/0, and a > 2, where the terms first grow */
    struct cdp_predict_bgnbd one = {0.5, 3, 1, 2};
    CHECK_NEAR(cdp_predict_bgnbd_expected(&one, 3, 20, 30, 40), 1.6086001201404452591, 1e-12);
    one.a = 1 + 1e-9;
    CHECK_NEAR(cdp_predict_bgnbd_expected(&one, 3, 20, 30, 40), 1.6086001201404452591, 1e-8);
    one.a = 1 - 1e-9;
    CHECK_NEAR(cdp_predict_bgnbd_expected(&one, 3, 20, 30, 40), 1.6086001201404452591, 1e-8);
    struct cdp_predict_bgnbd big_a = {0.5, 3, 3.5, 2};
    CHECK_NEAR(cdp_predict_bgnbd_expected(&big_a, 3, 20, 30, 40), 0.47391079991721816915, 1e-12);

    /* The log-likelihood against eq. 6 written out, row by row, big x included */
    double x[] = {0, 0, 1, 2, 2, 7, 0, 2, 1500, 1000, 1001};
    double t_x[] = {0, 5, 3, 30.43, 30.43, 35, 0, 38.86, 37, 30, 30};
    double T[] = {38.86, 20, 10, 38.86, 38.86, 36, 0, 38.86, 38, 38, 38};
    double direct = 0;
    for (size_t i = 0; i < 8; i++)
        direct += direct_bgnbd_ll(p, x[i], t_x[i], T[i]);
    CHECK_NEAR(cdp_predict_bgnbd_log_likelihood(p, x, t_x, T, 8), direct, 1e-10);
    for (size_t i = 8; i < 11; i++)
        direct += direct_bgnbd_ll(p, x[i], t_x[i], T[i]);
    CHECK_NEAR(cdp_predict_bgnbd_log_likelihood(p, x, t_x, T, 11) / direct, 1, 1e-12);
    CHECK(isnan(cdp_predict_bgnbd_log_likelihood(p, x, t_x, T, 0)));
    CHECK(isnan(cdp_predict_bgnbd_log_likelihood(&bad, x, t_x, T, 8)));
    double bad_t_x[] = {0, 5, 3, 30.43, 40, 35, 0, 38.86};
    CHECK(isnan(cdp_predict_bgnbd_log_likelihood(p, x, bad_t_x, T, 8)));
    double bad_x[] = {0, 0, 1, 2.5, 2, 7, 0, 2};
    CHECK(isnan(cdp_predict_bgnbd_log_likelihood(p, bad_x, t_x, T, 8)));
}

static void
test_fit_failures(void)
{
    struct cdp_predict_bgnbd params = {-1, -1, -1, -1};
    struct cdp_predict_fit_report report;
    double x[] = {0, 1, 2, 0, 5, 3};
    double t_x[] = {0, 4, 9, 0, 10, 2};
    double T[] = {10, 12, 11, 3, 12, 12};

    /* Bad input: nothing is written to the parameters. */
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x, T, 0, NULL, &params, &report), CDP_PREDICT_EINVAL);
    CHECK(params.r == -1 && !report.converged);
    double bad_T[] = {10, 12, 11, 3, 9, 12};
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x, bad_T, 6, NULL, &params, &report), CDP_PREDICT_EINVAL);
    CHECK(params.r == -1);

    /* One iteration is not enough: reported, not passed off as an estimate. */
    struct cdp_predict_fit_options once = {1, 0};
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x, T, 6, &once, &params, &report), CDP_PREDICT_ENOCONV);
    CHECK(!report.converged);
    CHECK_INT(report.iterations, 1);
    CHECK(report.evaluations >= 2);
    CHECK(isfinite(params.r) && isfinite(report.log_likelihood));
    CHECK_INT(report.rows, 6);

    /*
     * Six customers are too few to tell the drop-out rate's spread: the
     * likelihood keeps growing as a and b go to infinity together.
     */
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x, T, 6, NULL, &params, &report), CDP_PREDICT_EBOUNDARY);
    CHECK(!report.converged);
    CHECK(params.a > 1e13 || params.b > 1e13);

    /* Nobody came back: the likelihood grows towards 0 as the rate goes to 0. */
    double zero[] = {0, 0, 0, 0};
    double ages[] = {5, 10, 20, 30};
    CHECK_INT(cdp_predict_bgnbd_fit(zero, zero, ages, 4, NULL, &params, &report),
              CDP_PREDICT_EBOUNDARY);
    CHECK(!report.converged);

    /* Gamma-Gamma: no repeat customers is bad input, and so is a repeat spend of 0. */
    struct cdp_predict_gamma_gamma gg = {-1, -1, -1};
    double mbar[] = {0, 10, 20, 0, 15, 30};
    CHECK_INT(cdp_predict_gamma_gamma_fit(zero, mbar, 4, NULL, &gg, &report), CDP_PREDICT_EINVAL);
    double bad_mbar[] = {0, 10, 0, 0, 15, 30};
    CHECK_INT(cdp_predict_gamma_gamma_fit(x, bad_mbar, 6, NULL, &gg, &report), CDP_PREDICT_EINVAL);
    CHECK(gg.p == -1);
    CHECK_INT(cdp_predict_gamma_gamma_fit(x, mbar, 6, &once, &gg, &report), CDP_PREDICT_ENOCONV);
    CHECK(!report.converged);
    CHECK_INT(report.rows, 4);

    CHECK_STR(cdp_predict_strerror(CDP_PREDICT_OK), "success");
    CHECK_STR(cdp_predict_strerror(CDP_PREDICT_ENOCONV), "the fit did not converge");
    CHECK_STR(cdp_predict_strerror(CDP_PREDICT_EBOUNDARY), "the data do not identify the model");
    CHECK_STR(cdp_predict_strerror(99), "unknown status");
}

static void
test_gamma_gamma_small(void)
{
    struct cdp_predict_gamma_gamma g = {6.25, 3.74, 15.44};
    double population = 15.44 * 6.25 / 2.74;
    CHECK_NEAR(cdp_predict_gamma_gamma_expected(&g, 0, 0), population, 1e-12);
    CHECK_NEAR(cdp_predict_gamma_gamma_expected(&g, 0, 123), population, 1e-12);
    double w = 6.25 * 2 / (6.25 * 2 + 2.74);
    CHECK_NEAR(cdp_predict_gamma_gamma_expected(&g, 2, 50), (1 - w) * population + w * 50, 1e-12);
    /* More purchases: closer to the customer's own mean */
    CHECK(cdp_predict_gamma_gamma_expected(&g, 10, 50) >
          cdp_predict_gamma_gamma_expected(&g, 2, 50));
    struct cdp_predict_gamma_gamma heavy = {1, 0.8, 10};
    CHECK(isnan(cdp_predict_gamma_gamma_expected(&heavy, 0, 0)));
    CHECK(isfinite(cdp_predict_gamma_gamma_expected(&heavy, 1, 20)));
    CHECK(isnan(cdp_predict_gamma_gamma_expected(&g, 1.5, 20)));

    /* The log-likelihood written out for two customers; x == 0 rows are skipped. */
    double x[] = {1, 0, 3};
    double mbar[] = {20, 0, 35};
    double direct = 0;
    for (int i = 0; i < 3; i += 2) {
        double px = g.p * x[i];
        direct += lgamma(px + g.q) - lgamma(px) - lgamma(g.q) + g.q * log(g.gamma) +
                  (px - 1) * log(mbar[i]) + px * log(x[i]) -
                  (px + g.q) * log(g.gamma + x[i] * mbar[i]);
    }
    CHECK_NEAR(cdp_predict_gamma_gamma_log_likelihood(&g, x, mbar, 3), direct, 1e-11);
    double only_zero[] = {0};
    CHECK(isnan(cdp_predict_gamma_gamma_log_likelihood(&g, only_zero, mbar, 1)));
}

static void
test_clv(void)
{
    const struct cdp_predict_bgnbd *p = &published;
    double e52 = cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, 52);
    double e4 = cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, 4);

    /* Undiscounted, the increments add up to the whole horizon. */
    CHECK_NEAR(cdp_predict_clv(p, 2, 30.43, 38.86, 40, 52, 1, 0), 40 * e52, 1e-11);
    CHECK_NEAR(cdp_predict_clv(p, 2, 30.43, 38.86, 40, 13, 4, 0), 40 * e52, 1e-11);
    /* One period: discounted once */
    CHECK_NEAR(cdp_predict_clv(p, 2, 30.43, 38.86, 40, 1, 4, 0.01), 40 * e4 / 1.01, 1e-12);
    /* Two periods by hand */
    double e8 = cdp_predict_bgnbd_expected(p, 2, 30.43, 38.86, 8);
    CHECK_NEAR(cdp_predict_clv(p, 2, 30.43, 38.86, 40, 2, 4, 0.01),
               40 * (e4 / 1.01 + (e8 - e4) / (1.01 * 1.01)), 1e-12);
    /* Discounting lowers the value, more so at higher rates. */
    double v0 = cdp_predict_clv(p, 2, 30.43, 38.86, 40, 52, 1, 0);
    double v1 = cdp_predict_clv(p, 2, 30.43, 38.86, 40, 52, 1, 0.002);
    double v2 = cdp_predict_clv(p, 2, 30.43, 38.86, 40, 52, 1, 0.01);
    CHECK(v0 > v1 && v1 > v2 && v2 > 0);
    /* x == 0: still worth something */
    CHECK(cdp_predict_clv(p, 0, 0, 38, 40, 52, 1, 0.01) > 0);
    /* Edges */
    CHECK(cdp_predict_clv(p, 2, 30.43, 38.86, 40, 0, 1, 0.01) == 0);
    CHECK(isnan(cdp_predict_clv(p, 2, 30.43, 38.86, 40, 52, 0, 0.01)));
    CHECK(isnan(cdp_predict_clv(p, 2, 30.43, 38.86, 40, 52, 1, -1)));
    CHECK(isnan(cdp_predict_clv(p, 2, 30.43, 38.86, NAN, 52, 1, 0)));
    CHECK(isnan(cdp_predict_clv(p, 2, 40, 38.86, 40, 52, 1, 0)));
}

/* ------------------------------------------------------------------------ */
/* RFM                                                                      */

static void
test_rfm(void)
{
    unsigned char scores[10];
    double cuts[4];

    /* Frequency, higher is better; ties straddling a boundary go down. */
    double f[] = {3, 1, 13, 2, 1, 8, 1, 5, 2, 1};
    CHECK_INT(cdp_predict_rfm_scores(f, 10, true, scores, cuts), CDP_PREDICT_OK);
    const unsigned char f_want[] = {4, 1, 5, 3, 1, 5, 1, 4, 3, 1};
    CHECK(memcmp(scores, f_want, 10) == 0);
    CHECK(cuts[0] == 1 && cuts[1] == 1 && cuts[2] == 2 && cuts[3] == 5);

    /* Recency, lower is better: cuts descend. */
    double r[] = {10, 0, 200, 5, 30, 10, 90, 0, 60, 10};
    CHECK_INT(cdp_predict_rfm_scores(r, 10, false, scores, cuts), CDP_PREDICT_OK);
    const unsigned char r_want[] = {3, 5, 1, 4, 2, 3, 1, 5, 2, 3};
    CHECK(memcmp(scores, r_want, 10) == 0);
    CHECK(cuts[0] == 90 && cuts[1] == 30 && cuts[2] == 10 && cuts[3] == 5);
    CHECK(!signbit(cuts[3]));

    /* Distinct values: two per quintile */
    double d[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    CHECK_INT(cdp_predict_rfm_scores(d, 10, true, scores, cuts), CDP_PREDICT_OK);
    const unsigned char d_want[] = {5, 5, 4, 4, 3, 3, 2, 2, 1, 1};
    CHECK(memcmp(scores, d_want, 10) == 0);
    CHECK(cuts[0] == 2 && cuts[1] == 4 && cuts[2] == 6 && cuts[3] == 8);

    /* Fewer than five values, and all equal */
    double small[] = {30, 10, 20};
    CHECK_INT(cdp_predict_rfm_scores(small, 3, true, scores, cuts), CDP_PREDICT_OK);
    CHECK(scores[0] == 4 && scores[1] == 1 && scores[2] == 2);
    CHECK(cuts[0] == 10 && cuts[1] == 20 && cuts[2] == 20 && cuts[3] == 30);
    double same[] = {7, 7, 7, 7, 7, 7};
    CHECK_INT(cdp_predict_rfm_scores(same, 6, true, scores, cuts), CDP_PREDICT_OK);
    CHECK(scores[0] == 1 && scores[5] == 1);
    CHECK(cuts[0] == 7 && cuts[3] == 7);
    CHECK_INT(cdp_predict_rfm_scores(same, 1, false, scores, cuts), CDP_PREDICT_OK);
    CHECK(scores[0] == 1);

    /* Bad input writes nothing. */
    scores[0] = 9;
    double with_nan[] = {1, NAN, 3};
    CHECK_INT(cdp_predict_rfm_scores(with_nan, 3, true, scores, cuts), CDP_PREDICT_EINVAL);
    CHECK_INT(cdp_predict_rfm_scores(f, 0, true, scores, cuts), CDP_PREDICT_EINVAL);
    CHECK_INT(scores[0], 9);
}

static void
test_segments(void)
{
    CHECK_INT(cdp_predict_rfm_segment(5, 5, 5), CDP_PREDICT_CHAMPIONS);
    CHECK_INT(cdp_predict_rfm_segment(4, 4, 4), CDP_PREDICT_CHAMPIONS);
    CHECK_INT(cdp_predict_rfm_segment(3, 5, 1), CDP_PREDICT_LOYAL);
    CHECK_INT(cdp_predict_rfm_segment(5, 4, 2), CDP_PREDICT_LOYAL);
    CHECK_INT(cdp_predict_rfm_segment(1, 5, 5), CDP_PREDICT_CANNOT_LOSE);
    CHECK_INT(cdp_predict_rfm_segment(2, 4, 4), CDP_PREDICT_CANNOT_LOSE);
    CHECK_INT(cdp_predict_rfm_segment(2, 4, 3), CDP_PREDICT_AT_RISK);
    CHECK_INT(cdp_predict_rfm_segment(1, 3, 1), CDP_PREDICT_AT_RISK);
    CHECK_INT(cdp_predict_rfm_segment(5, 1, 5), CDP_PREDICT_NEW);
    CHECK_INT(cdp_predict_rfm_segment(4, 1, 1), CDP_PREDICT_NEW);
    CHECK_INT(cdp_predict_rfm_segment(4, 2, 2), CDP_PREDICT_POTENTIAL_LOYALIST);
    CHECK_INT(cdp_predict_rfm_segment(3, 1, 1), CDP_PREDICT_POTENTIAL_LOYALIST);
    CHECK_INT(cdp_predict_rfm_segment(5, 3, 5), CDP_PREDICT_POTENTIAL_LOYALIST);
    CHECK_INT(cdp_predict_rfm_segment(2, 2, 5), CDP_PREDICT_HIBERNATING);
    CHECK_INT(cdp_predict_rfm_segment(2, 1, 1), CDP_PREDICT_HIBERNATING);
    CHECK_INT(cdp_predict_rfm_segment(1, 1, 1), CDP_PREDICT_LOST);
    CHECK_INT(cdp_predict_rfm_segment(1, 2, 5), CDP_PREDICT_LOST);
    CHECK_INT(cdp_predict_rfm_segment(0, 3, 3), CDP_PREDICT_SEGMENT_UNKNOWN);
    CHECK_INT(cdp_predict_rfm_segment(3, 6, 3), CDP_PREDICT_SEGMENT_UNKNOWN);
    CHECK_INT(cdp_predict_rfm_segment(3, 3, -1), CDP_PREDICT_SEGMENT_UNKNOWN);

    /* Every score triple has a segment, and every segment has a triple. */
    int seen[CDP_PREDICT_SEGMENT_UNKNOWN + 1] = {0};
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++)
            for (int m = 1; m <= 5; m++)
                seen[cdp_predict_rfm_segment(r, f, m)]++;
    CHECK_INT(seen[CDP_PREDICT_SEGMENT_UNKNOWN], 0);
    int empty = 0;
    for (int s = 0; s < CDP_PREDICT_SEGMENT_UNKNOWN; s++)
        empty += seen[s] == 0;
    CHECK_INT(empty, 0);

    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_CHAMPIONS), "Champions");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_LOYAL), "Loyal");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_POTENTIAL_LOYALIST), "Potential loyalist");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_NEW), "New");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_AT_RISK), "At risk");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_CANNOT_LOSE), "Cannot lose them");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_HIBERNATING), "Hibernating");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_LOST), "Lost");
    CHECK_STR(cdp_predict_segment_name(CDP_PREDICT_SEGMENT_UNKNOWN), "Unknown");
    CHECK_STR(cdp_predict_segment_name((enum cdp_predict_segment)42), "Unknown");
}

/* ------------------------------------------------------------------------ */
/* Fits on simulated customers                                              */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

/* A uniform variate in (0, 1), from xorshift64*. */
static double
uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t v = rng_state * UINT64_C(2685821657736338717);
    return ((double)(v >> 11) + 0.5) / 9007199254740992.0;
}

static double
normal(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/* A gamma variate of the given shape and scale 1 (Marsaglia and Tsang). */
static double
gamma_variate(double shape)
{
    if (shape < 1)
        return gamma_variate(shape + 1) * pow(uniform(), 1 / shape);
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double z = normal(), v = 1 + c * z;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = uniform();
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
            return d * v;
    }
}

/*
 * Simulates n BG/NBD customers observed for 26 to 52 weeks, and for each one
 * with repeat purchases gamma-gamma spends: a purchase rate from
 * Gamma(r, alpha), a drop-out probability from Beta(a, b), a mean spend
 * 1 / nu with nu from Gamma(q, gamma), each spend from Gamma(p, nu).
 */
static void
simulate(size_t n, const struct cdp_predict_bgnbd *bg, const struct cdp_predict_gamma_gamma *gg,
         double *x, double *t_x, double *T, double *mbar)
{
    for (size_t i = 0; i < n; i++) {
        double rate = gamma_variate(bg->r) / bg->alpha;
        double ga = gamma_variate(bg->a);
        double drop = ga / (ga + gamma_variate(bg->b));
        double nu = gamma_variate(gg->q) / gg->gamma;
        double t = 0, spend = 0;
        T[i] = 26 + 26 * uniform();
        x[i] = t_x[i] = 0;
        for (;;) {
            t += -log(uniform()) / rate;
            if (t > T[i])
                break;
            x[i]++;
            t_x[i] = t;
            spend += gamma_variate(gg->p) / nu;
            if (uniform() < drop)
                break;
        }
        mbar[i] = x[i] > 0 ? spend / x[i] : 0;
    }
}

static void
test_fit_simulated(void)
{
    enum { N = 20000 };
    static double x[N], t_x[N], T[N], mbar[N];
    const struct cdp_predict_bgnbd truth = {0.5, 5, 0.8, 2.5};
    const struct cdp_predict_gamma_gamma gg_truth = {6, 4, 15};
    simulate(N, &truth, &gg_truth, x, t_x, T, mbar);

    struct cdp_predict_bgnbd bg;
    struct cdp_predict_fit_report report;
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x, T, N, NULL, &bg, &report), CDP_PREDICT_OK);
    CHECK(report.converged);
    CHECK_NEAR(bg.r / truth.r, 1, 0.1);
    CHECK_NEAR(bg.alpha / truth.alpha, 1, 0.1);
    CHECK_NEAR(bg.a / truth.a, 1, 0.25);
    CHECK_NEAR(bg.b / truth.b, 1, 0.25);
    /* The estimate beats the truth on the data it came from. */
    CHECK(report.log_likelihood >= cdp_predict_bgnbd_log_likelihood(&truth, x, t_x, T, N));

    struct cdp_predict_gamma_gamma gg;
    CHECK_INT(cdp_predict_gamma_gamma_fit(x, mbar, N, NULL, &gg, &report), CDP_PREDICT_OK);
    CHECK(report.converged);
    CHECK_NEAR(gg.p / gg_truth.p, 1, 0.1);
    CHECK_NEAR(gg.q / gg_truth.q, 1, 0.2);
    CHECK_NEAR(gg.gamma / gg_truth.gamma, 1, 0.2);
    CHECK(report.log_likelihood >= cdp_predict_gamma_gamma_log_likelihood(&gg_truth, x, mbar, N));

    /* A few customers with more than a thousand repeat purchases */
    for (size_t i = 0; i < 5; i++) {
        x[i] = 1200 + 100 * (double)i;
        t_x[i] = T[i] - 1;
    }
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x, T, N, NULL, &bg, &report), CDP_PREDICT_OK);
    double at_fit = cdp_predict_bgnbd_log_likelihood(&bg, x, t_x, T, N);
    CHECK_NEAR(report.log_likelihood, at_fit, 1e-8);
    double worse = 0;
    for (int j = 0; j < 4; j++) {
        for (int side = -1; side <= 1; side += 2) {
            struct cdp_predict_bgnbd moved = bg;
            double *field[] = {&moved.r, &moved.alpha, &moved.a, &moved.b};
            *field[j] *= 1 + side * 1e-3;
            worse += cdp_predict_bgnbd_log_likelihood(&moved, x, t_x, T, N) <= at_fit;
        }
    }
    CHECK(worse == 8);

    /*
     * Everyone who came back bought again on the last day: the likelihood of
     * a and b is then the product of E[(1-p)^(x-1)], highest when the
     * drop-out probability p is 0 for all, which takes a to 0 or b to
     * infinity; and the fit says so.
     */
    for (size_t i = 0; i < N; i++)
        if (x[i] > 0)
            t_x[i] = T[i];
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x, T, N, NULL, &bg, &report), CDP_PREDICT_EBOUNDARY);
    CHECK(!report.converged);
    CHECK(bg.a < 1e-3 || bg.b > 1e3);
}

/* ------------------------------------------------------------------------ */
/* The CDNOW sample                                                         */

struct row {
    long id;
    struct cdp_predict_txn txn;
};

static int
row_compare(const void *pa, const void *pb)
{
    const struct row *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

/*
 * Reads CDNOW_sample.txt into rows (caller frees); returns how many, 0 when
 * the file is missing (path names it) and -1 on a malformed line.
 */
static long
load_cdnow(struct row **rows, char *path, size_t pathsize)
{
    const char *dir = getenv("CDP_TESTDATA");
    snprintf(path, pathsize, "%s/cdnow/CDNOW_sample.txt", dir && *dir ? dir : "tests/data");
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    size_t count = 0, cap = 8192;
    *rows = cdp_xmalloc(cap * sizeof **rows);
    char line[256];
    long status = 0;
    while (fgets(line, sizeof line, fp) != NULL) {
        long master, id, date, cds;
        double value;
        if (sscanf(line, "%ld %ld %ld %ld %lf", &master, &id, &date, &cds, &value) != 5) {
            status = -1;
            break;
        }
        if (count == cap) {
            cap *= 2;
            *rows = cdp_xrealloc(*rows, cap * sizeof **rows);
        }
        int64_t ms = cdp_time_from_civil((int)(date / 10000), (int)(date / 100 % 100),
                                         (int)(date % 100), 0, 0, 0, 0);
        (*rows)[count++] = (struct row){id, {ms, value}};
    }
    fclose(fp);
    if (status < 0)
        return -1;
    return (long)count;
}

static double
seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void
test_cdnow(void)
{
    char path[4096];
    struct row *rows = NULL;
    long nrows = load_cdnow(&rows, path, sizeof path);
    if (nrows == 0) {
        printf("predict: skipping the CDNOW tests: cannot open %s "
               "(run from the project root, or set CDP_TESTDATA to the tests/data directory)\n",
               path);
        free(rows);
        return;
    }
    CHECK(nrows == 6919);
    if (nrows != 6919) {
        free(rows);
        return;
    }
    qsort(rows, (size_t)nrows, sizeof *rows, row_compare);

    /* Summaries as of 1997-09-30, inclusive, in weeks */
    int64_t as_of = cdp_time_from_civil(1997, 9, 30, 0, 0, 0, 0);
    size_t n = 0;
    double *x = cdp_xmalloc((size_t)nrows * sizeof *x);
    double *t_x = cdp_xmalloc((size_t)nrows * sizeof *t_x);
    double *T = cdp_xmalloc((size_t)nrows * sizeof *T);
    double *mbar = cdp_xmalloc((size_t)nrows * sizeof *mbar);
    struct cdp_predict_txn *txns = cdp_xmalloc((size_t)nrows * sizeof *txns);
    int no_purchase = 0, zeros = 0, repeaters = 0;
    double sum_x = 0, sum_mbar = 0;
    struct cdp_predict_summary first = {0};
    for (long i = 0; i < nrows;) {
        long j = i;
        size_t m = 0;
        while (j < nrows && rows[j].id == rows[i].id)
            txns[m++] = rows[j++].txn;
        struct cdp_predict_summary s;
        if (!cdp_predict_summarize(txns, m, as_of, CDP_PREDICT_WEEKS, &s)) {
            no_purchase++;
        } else {
            if (rows[i].id == 1)
                first = s;
            x[n] = s.x;
            t_x[n] = s.t_x;
            T[n] = s.T;
            mbar[n] = s.monetary;
            sum_x += s.x;
            if (s.x == 0) {
                zeros++;
            } else {
                repeaters++;
                sum_mbar += s.monetary;
            }
            n++;
        }
        i = j;
    }
    CHECK_INT(n, 2357);
    CHECK_INT(no_purchase, 0);
    CHECK_INT(zeros, 1411);
    CHECK_INT(repeaters, 946);
    CHECK(sum_x == 2457);
    CHECK(first.x == 2);
    CHECK_NEAR(first.t_x, 213.0 / 7, 1e-12);
    CHECK_NEAR(first.T, 272.0 / 7, 1e-12);
    CHECK_NEAR(sum_mbar / repeaters, 35.08, 0.005);

    /* BG/NBD: FHL (2005) report r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4. */
    struct cdp_predict_bgnbd bg;
    struct cdp_predict_fit_report report;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = cdp_predict_bgnbd_fit(x, t_x, T, n, NULL, &bg, &report);
    double took = seconds_since(&start);
    CHECK_INT(status, CDP_PREDICT_OK);
    CHECK(report.converged);
    CHECK_INT(report.rows, 2357);
    CHECK_3SF(bg.r, 0.243);
    CHECK_3SF(bg.alpha, 4.414);
    CHECK_3SF(bg.a, 0.793);
    CHECK_3SF(bg.b, 2.426);
    CHECK_NEAR(report.log_likelihood, -9582.4, 0.1);
    CHECK_NEAR(cdp_predict_bgnbd_log_likelihood(&bg, x, t_x, T, n), report.log_likelihood, 1e-9);
    printf("predict: BG/NBD r=%.4f alpha=%.4f a=%.4f b=%.4f LL=%.3f, %d iterations, "
           "%d evaluations, %.3f s\n",
           bg.r, bg.alpha, bg.a, bg.b, report.log_likelihood, report.iterations, report.evaluations,
           took);

    /* The same in days: alpha scales by 7 and the LL falls by sum(x) ln 7. */
    double *t_x_days = cdp_xmalloc(n * sizeof *t_x_days);
    double *T_days = cdp_xmalloc(n * sizeof *T_days);
    for (size_t i = 0; i < n; i++) {
        t_x_days[i] = t_x[i] * 7;
        T_days[i] = T[i] * 7;
    }
    struct cdp_predict_bgnbd days = bg;
    days.alpha *= 7;
    CHECK_NEAR(cdp_predict_bgnbd_log_likelihood(&days, x, t_x_days, T_days, n),
               report.log_likelihood - 2457 * log(7), 1e-8);
    CHECK_INT(cdp_predict_bgnbd_fit(x, t_x_days, T_days, n, NULL, &days, &report), CDP_PREDICT_OK);
    CHECK_NEAR(days.alpha / 7 / bg.alpha, 1, 1e-3);
    CHECK_NEAR(days.r / bg.r, 1, 1e-3);
    free(t_x_days);
    free(T_days);

    /* The published parameters' likelihood, row by row */
    double direct = 0;
    for (size_t i = 0; i < n; i++)
        direct += direct_bgnbd_ll(&published, x[i], t_x[i], T[i]);
    CHECK_NEAR(cdp_predict_bgnbd_log_likelihood(&published, x, t_x, T, n), direct, 1e-8);

    /* Gamma-Gamma: Fader and Hardie (2013) report p = 6.25, q = 3.74, gamma = 15.44. */
    struct cdp_predict_gamma_gamma gg;
    clock_gettime(CLOCK_MONOTONIC, &start);
    status = cdp_predict_gamma_gamma_fit(x, mbar, n, NULL, &gg, &report);
    took = seconds_since(&start);
    CHECK_INT(status, CDP_PREDICT_OK);
    CHECK(report.converged);
    CHECK_INT(report.rows, 946);
    CHECK_3SF(gg.p, 6.25);
    CHECK_3SF(gg.q, 3.74);
    CHECK_3SF(gg.gamma, 15.44);
    printf("predict: Gamma-Gamma p=%.4f q=%.4f gamma=%.4f LL=%.3f, %d iterations, "
           "%d evaluations, %.3f s\n",
           gg.p, gg.q, gg.gamma, report.log_likelihood, report.iterations, report.evaluations,
           took);

    free(x);
    free(t_x);
    free(T);
    free(mbar);
    free(txns);
    free(rows);
}

int
main(void)
{
    test_summary_edges();
    test_hyp2f1();
    test_bgnbd_small();
    test_fit_failures();
    test_gamma_gamma_small();
    test_clv();
    test_fit_simulated();
    test_rfm();
    test_segments();
    test_cdnow();
    return check_summary("predict");
}
