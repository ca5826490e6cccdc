/*
 * predict.c - purchase summaries, BG/NBD, Gamma-Gamma, CLV and RFM.
 *
 * Speed: a fit evaluates the log-likelihood and its gradient some thirty
 * times, so the evaluation is what must be fast.  Customers with equal rows
 * are merged into one weighted row before fitting, and the rows are sorted
 * by x so that the log-gamma and digamma terms, which depend only on the
 * parameters and x, are computed once per distinct x rather than once per
 * customer.  What remains per row is one logarithm (Gamma-Gamma, and BG/NBD
 * rows with x == 0) or two, an exponential and a log1p (BG/NBD rows with
 * x > 0), and a few divisions for the gradient.
 */
#include "predict.h"
#include "buf.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

/* The optimiser works on log-parameters; beyond this they count as infinite. */
#define LOG_WALL 32.0
/*
 * A fit whose best point has a parameter outside [1e-8, 1e8] ran off to 0 or
 * infinity: no customer base has such a spread, and past it the model is
 * degenerate (a and b near 0 make every customer drop out at once or never).
 */
#define LOG_BOUNDARY 18.4207 /* ln(1e8) */

#define DEFAULT_MAX_ITERATIONS 5000
#define DEFAULT_TOLERANCE 1e-10
#define MAX_RESTARTS 20

/* The checks of minimize(): how far to move each log-parameter, and the least fall in LL. */
#define PROBE 3.0
#define FLAT_DROP 1e-3

/* Counts up to this have their log-gamma ratios summed term by term. */
#define SMALL_X 1000

/* The most terms a hypergeometric series may take before we give up on it. */
#define SERIES_MAX_TERMS 1000000

/* How many horizons cdp_predict_clv() takes through one pass of the series. */
#define HORIZONS 32

const char *
cdp_predict_strerror(int status)
{
    switch (status) {
    case CDP_PREDICT_OK:
        return "success";
    case CDP_PREDICT_EINVAL:
        return "invalid input";
    case CDP_PREDICT_ENOCONV:
        return "the fit did not converge";
    case CDP_PREDICT_EBOUNDARY:
        return "the data do not identify the model";
    }
    return "unknown status";
}

/* ------------------------------------------------------------------------ */
/* Summaries                                                                */

/* The UTC day holding ms, counted from 1970-01-01 (floor division). */
static int64_t
day_of(int64_t ms)
{
    int64_t day = ms / DAY_MS;
    if (ms % DAY_MS < 0)
        day--;
    return day;
}

/* By time, then amount: a total order, so that sums do not depend on the input's order. */
static int
txn_compare(const void *pa, const void *pb)
{
    const struct cdp_predict_txn *a = pa, *b = pb;
    if (a->time_ms != b->time_ms)
        return (a->time_ms > b->time_ms) - (a->time_ms < b->time_ms);
    return (a->amount > b->amount) - (a->amount < b->amount);
}

bool
cdp_predict_summarize(struct cdp_predict_txn *txns, size_t n, int64_t as_of_ms,
                      enum cdp_predict_unit unit, struct cdp_predict_summary *out)
{
    memset(out, 0, sizeof *out);
    if (unit != CDP_PREDICT_DAYS && unit != CDP_PREDICT_WEEKS)
        return false;
    if (n == 0 || txns == NULL)
        return false;

    /* Most histories come in order already; sort only when they do not. */
    for (size_t i = 1; i < n; i++) {
        if (txn_compare(&txns[i], &txns[i - 1]) < 0) {
            qsort(txns, n, sizeof *txns, txn_compare);
            break;
        }
    }

    int64_t as_of = day_of(as_of_ms);
    int64_t first = 0, last = 0;
    uint64_t days = 0, orders = 0;
    double total = 0, repeat_total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t day = day_of(txns[i].time_ms);
        if (day > as_of)
            break; /* sorted: the rest are later still */
        if (days == 0) {
            first = day;
            days = 1;
        } else if (day != last) {
            days++;
        }
        last = day;
        orders++;
        total += txns[i].amount;
        if (days > 1)
            repeat_total += txns[i].amount;
    }
    if (days == 0)
        return false;

    double per = (double)unit;
    out->first_day = first;
    out->last_day = last;
    out->days = days;
    out->orders = orders;
    out->x = (double)(days - 1);
    out->t_x = (double)(last - first) / per;
    out->T = (double)(as_of - first) / per;
    out->recency = (double)(as_of - last) / per;
    out->monetary = days > 1 ? repeat_total / out->x : 0;
    out->total = total;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Hypergeometric series                                                    */

/*
 * Sums the series t_0 + t_1 + ... with t_0 = 1 and
 *
 *   t_{k+1} = t_k (a1+k)(a2+k)(a3+k) z / ((b1+k)(b2+k)(k+1)),
 *
 * which is 3F2(a1, a2, a3; b1, b2; z); with a3 = b2 = 1 it is
 * 2F1(a1, a2; b1; z).  The sum stops once the terms shrink geometrically
 * and the tail they bound, |t| rho / (1 - rho) with rho the larger of the
 * last ratio and its limit z, is below DBL_EPSILON of the sum (or of the
 * largest term, when the terms cancel to near 0).  NaN when that has not
 * happened after SERIES_MAX_TERMS terms or a term is not finite.
 */
static double
series(double a1, double a2, double a3, double b1, double b2, double z)
{
    double sum = 1, term = 1, largest = 1;
    for (int k = 0; k < SERIES_MAX_TERMS; k++) {
        double ratio = (a1 + k) * (a2 + k) * (a3 + k) * z / ((b1 + k) * (b2 + k) * (k + 1.0));
        term *= ratio;
        sum += term;
        if (!isfinite(sum))
            return NAN;
        if (term == 0)
            return sum; /* a numerator parameter was a non-positive integer */
        double size = fabs(term);
        if (size > largest)
            largest = size;
        double rho = fmax(fabs(ratio), fabs(z));
        if (rho < 1 &&
            size * rho <= (1 - rho) * DBL_EPSILON * fmax(fabs(sum), DBL_EPSILON * largest))
            return sum;
    }
    return NAN;
}

/* 2F1(a, b; c; z) for 0 <= z < 1. */
static double
hyp2f1_unit(double a, double b, double c, double z)
{
    /*
     * The terms of the direct series go like k^(a+b-c-1) z^k and those of
     * Euler's (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) like k^(c-a-b-1) z^k, so
     * when a + b > c the second shrinks sooner; it only matters once z^k
     * no longer does the work by itself.
     */
    if (z > 0.5 && a + b > c)
        return pow(1 - z, c - a - b) * series(c - a, c - b, 1, c, 1, z);
    return series(a, b, 1, c, 1, z);
}

double
cdp_predict_hyp2f1(double a, double b, double c, double z)
{
    if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(z) || !(z < 1))
        return NAN;
    if (c <= 0 && c == floor(c))
        return NAN;
    if (z == 0)
        return 1;
    if (z < 0) {
        /* Pfaff: 2F1(a, b; c; z) = (1-z)^-a 2F1(a, c-b; c; z/(z-1)), z/(z-1) in (0, 1). */
        double w = z / (z - 1);
        double value = pow(1 - z, -a) * hyp2f1_unit(a, c - b, c, w);
        return isfinite(value) ? value : NAN;
    }
    double value = hyp2f1_unit(a, b, c, z);
    return isfinite(value) ? value : NAN;
}

/* ------------------------------------------------------------------------ */
/* Minimisation                                                             */

/*
 * The fits minimise minus the log-likelihood over the logarithms of the
 * parameters, which keeps the parameters positive without constraints.  The
 * main method is BFGS (quasi-Newton) with the analytic gradient: about
 * twenty to forty evaluations, where Nelder-Mead needs some four hundred,
 * and an evaluation over a million customers costs tens of milliseconds.
 * Should BFGS stall (its line search finding no decrease, as can happen when
 * rounding noise swamps the slope), Nelder-Mead, which needs no gradient,
 * takes over from the best point and has the last word on convergence.
 */

#define MAX_DIM 4

/*
 * A minimisation problem: f of dim variables, with the budget and the
 * tolerance of the fit options, and counters the methods add to.  f returns
 * HUGE_VAL where it is not defined, and writes its gradient to grad unless
 * grad is NULL.
 */
struct problem {
    double (*f)(const double *u, double *grad, const void *ctx);
    const void *ctx;
    int dim;
    int max_iterations;
    double tolerance;
    int iterations;
    int evaluations;
};

static double
nm_eval(struct problem *p, const double *u)
{
    p->evaluations++;
    double value = p->f(u, NULL, p->ctx);
    return isnan(value) ? HUGE_VAL : value;
}

/* f and its gradient; HUGE_VAL when either is not finite. */
static double
eval_with_gradient(struct problem *p, const double *u, double *grad)
{
    p->evaluations++;
    double value = p->f(u, grad, p->ctx);
    for (int j = 0; j < p->dim; j++)
        if (!isfinite(grad[j]))
            return HUGE_VAL;
    return isfinite(value) ? value : HUGE_VAL;
}

static double
dot(const double *a, const double *b, int n)
{
    double sum = 0;
    for (int j = 0; j < n; j++)
        sum += a[j] * b[j];
    return sum;
}

enum bfgs_result { BFGS_CONVERGED, BFGS_BUDGET, BFGS_STALLED };

/*
 * BFGS from u, where *fu must hold f(u) and grad its gradient.  Each step
 * goes along -H grad, H the running estimate of the inverse Hessian, cut so
 * that no log-parameter moves by more than 1, and is halved until it
 * lowers f by at least 1e-4 of what the slope promises (Armijo).  Converged
 * when a step moves no log-parameter by more than sqrt(tolerance) and lowers
 * f by at most tolerance * (1 + |f|).  On return u, *fu and grad are the
 * best point seen.
 */
static enum bfgs_result
bfgs(struct problem *p, double *u, double *fu, double *grad)
{
    int n = p->dim;
    double h[MAX_DIM][MAX_DIM], d[MAX_DIM], trial[MAX_DIM], trial_grad[MAX_DIM];
    double s[MAX_DIM], y[MAX_DIM], hy[MAX_DIM];
    double xtol = sqrt(p->tolerance);
    bool scaled = false;

    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            h[i][j] = i == j;

    for (;;) {
        if (p->iterations >= p->max_iterations)
            return BFGS_BUDGET;
        p->iterations++;

        for (int i = 0; i < n; i++)
            d[i] = -dot(h[i], grad, n);
        double slope = dot(grad, d, n);
        if (!(slope < 0)) {
            /* Not downhill: forget the curvature learnt and go down the gradient. */
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++)
                    h[i][j] = i == j;
                d[i] = -grad[i];
            }
            scaled = false;
            slope = dot(grad, d, n);
            if (slope == 0)
                return BFGS_CONVERGED; /* a zero gradient */
        }
        double longest = 0;
        for (int i = 0; i < n; i++)
            longest = fmax(longest, fabs(d[i]));
        double step = longest > 1 ? 1 / longest : 1;

        double f = HUGE_VAL;
        int halvings;
        for (halvings = 0; halvings < 40; halvings++, step /= 2) {
            for (int i = 0; i < n; i++)
                trial[i] = u[i] + step * d[i];
            f = eval_with_gradient(p, trial, trial_grad);
            if (f <= *fu + 1e-4 * step * slope)
                break;
        }
        if (halvings == 40)
            return BFGS_STALLED;

        double moved = 0;
        for (int i = 0; i < n; i++) {
            s[i] = trial[i] - u[i];
            y[i] = trial_grad[i] - grad[i];
            moved = fmax(moved, fabs(s[i]));
        }
        double gain = *fu - f;
        memcpy(u, trial, (size_t)n * sizeof *u);
        memcpy(grad, trial_grad, (size_t)n * sizeof *grad);
        *fu = f;
        if (moved <= xtol && gain <= p->tolerance * (1 + fabs(f)))
            return BFGS_CONVERGED;

        /*
         * The BFGS update of H, skipped when the curvature along the step is
         * not positive (the update would make H indefinite).  Before the
         * first update H is rescaled to the curvature seen, so that the
         * first guess of the Hessian has the right size.
         */
        double sy = dot(s, y, n);
        if (!(sy > 1e-12 * sqrt(dot(s, s, n) * dot(y, y, n))))
            continue;
        if (!scaled) {
            double scale = sy / dot(y, y, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    h[i][j] = (i == j) * scale;
            scaled = true;
        }
        for (int i = 0; i < n; i++)
            hy[i] = dot(h[i], y, n);
        double yhy = dot(y, hy, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                h[i][j] += ((sy + yhy) * s[i] * s[j] / sy - hy[i] * s[j] - s[i] * hy[j]) / sy;
    }
}

/*
 * One Nelder-Mead run (reflection 1, expansion 2, contraction 1/2, shrink
 * 1/2) from the simplex made of u and u + step along each axis.  Stops when
 * the corners agree in value to tolerance * (1 + |f|) and in position to
 * sqrt(tolerance) (returns true), or when the iterations run out (false).
 * Either way u and *fu (which must hold f(u) on entry) come back as the
 * best corner.
 */
static bool
nm_run(struct problem *p, double *u, double *fu, double step)
{
    int n = p->dim;
    size_t size = (size_t)n * sizeof(double);
    double v[MAX_DIM + 1][MAX_DIM], fv[MAX_DIM + 1];
    double centroid[MAX_DIM], trial[MAX_DIM], second[MAX_DIM];
    double xtol = sqrt(p->tolerance);
    bool converged = false;

    for (int i = 0; i <= n; i++) {
        memcpy(v[i], u, size);
        if (i > 0)
            v[i][i - 1] += step;
        fv[i] = i == 0 ? *fu : nm_eval(p, v[i]);
    }

    for (;;) {
        /* Best corner first; insertion sort, as there are at most five. */
        for (int i = 1; i <= n; i++) {
            double f = fv[i], corner[MAX_DIM];
            memcpy(corner, v[i], size);
            int j = i;
            while (j > 0 && fv[j - 1] > f) {
                fv[j] = fv[j - 1];
                memcpy(v[j], v[j - 1], size);
                j--;
            }
            fv[j] = f;
            memcpy(v[j], corner, size);
        }

        if (isfinite(fv[n]) && fv[n] - fv[0] <= p->tolerance * (1 + fabs(fv[0]))) {
            double spread = 0;
            for (int i = 1; i <= n; i++)
                for (int j = 0; j < n; j++)
                    spread = fmax(spread, fabs(v[i][j] - v[0][j]));
            if (spread <= xtol) {
                converged = true;
                break;
            }
        }
        if (p->iterations >= p->max_iterations)
            break;
        p->iterations++;

        for (int j = 0; j < n; j++) {
            centroid[j] = 0;
            for (int i = 0; i < n; i++)
                centroid[j] += v[i][j];
            centroid[j] /= n;
        }

        /* Reflect the worst corner through the centroid of the others. */
        for (int j = 0; j < n; j++)
            trial[j] = 2 * centroid[j] - v[n][j];
        double fr = nm_eval(p, trial);

        if (fr < fv[0]) {
            /* Better than the best: try going twice as far. */
            for (int j = 0; j < n; j++)
                second[j] = 3 * centroid[j] - 2 * v[n][j];
            double fe = nm_eval(p, second);
            if (fe < fr) {
                memcpy(v[n], second, size);
                fv[n] = fe;
            } else {
                memcpy(v[n], trial, size);
                fv[n] = fr;
            }
            continue;
        }
        if (fr < fv[n - 1]) {
            memcpy(v[n], trial, size);
            fv[n] = fr;
            continue;
        }

        /* Contract: outside if the reflection beat the worst, else inside. */
        bool outside = fr < fv[n];
        for (int j = 0; j < n; j++)
            second[j] = outside ? (centroid[j] + trial[j]) / 2 : (centroid[j] + v[n][j]) / 2;
        double fc = nm_eval(p, second);
        if (outside ? fc <= fr : fc < fv[n]) {
            memcpy(v[n], second, size);
            fv[n] = fc;
            continue;
        }

        /* Shrink every corner halfway towards the best. */
        for (int i = 1; i <= n; i++) {
            for (int j = 0; j < n; j++)
                v[i][j] = (v[0][j] + v[i][j]) / 2;
            fv[i] = nm_eval(p, v[i]);
        }
    }

    memcpy(u, v[0], size);
    *fu = fv[0];
    return converged;
}

/*
 * Minimises p->f from u, leaving the best point in u and its value in *fu:
 * BFGS, then Nelder-Mead if BFGS stalled.  Nelder-Mead runs again from a
 * fresh, smaller simplex around its best point until a run no longer
 * improves on it: a simplex can collapse on a slope, and a restart is the
 * cheap cure.
 *
 * Then two checks that the point is a real maximum of the likelihood.  It
 * must lie inside LOG_BOUNDARY.  And moving any one log-parameter by PROBE
 * (a factor 20) either way must lower the log-likelihood by at least
 * FLAT_DROP: on a likelihood that levels off as a parameter goes to 0 or
 * infinity (a drop-out probability that is 0 for everyone, say) every
 * convergence test passes wherever the optimiser happens to stop, and the
 * parameter's value means nothing.  A probe that finds a clearly better
 * point sends the search on from there instead.
 *
 * Returns CDP_PREDICT_EINVAL when f(u) is not finite at the start,
 * CDP_PREDICT_ENOCONV when the iterations run out and CDP_PREDICT_EBOUNDARY
 * when a check fails.
 */
static int
minimize(struct problem *p, double *u, double *fu)
{
    double grad[MAX_DIM];
    *fu = eval_with_gradient(p, u, grad);
    if (!isfinite(*fu))
        return CDP_PREDICT_EINVAL;
    for (int attempt = 0;; attempt++) {
        enum bfgs_result result = bfgs(p, u, fu, grad);
        if (result == BFGS_BUDGET)
            return CDP_PREDICT_ENOCONV;
        if (result == BFGS_STALLED) {
            for (int run = 0;; run++) {
                double before = *fu;
                if (!nm_run(p, u, fu, run == 0 ? 0.1 : 0.01))
                    return CDP_PREDICT_ENOCONV;
                if (run > 0 && before - *fu <= p->tolerance * (1 + fabs(*fu)))
                    break;
                if (run == MAX_RESTARTS)
                    return CDP_PREDICT_ENOCONV;
            }
        }
        for (int j = 0; j < p->dim; j++)
            if (fabs(u[j]) > LOG_BOUNDARY)
                return CDP_PREDICT_EBOUNDARY;

        double better[MAX_DIM], f_better = *fu;
        for (int j = 0; j < p->dim; j++) {
            for (int side = -1; side <= 1; side += 2) {
                double probe[MAX_DIM];
                memcpy(probe, u, (size_t)p->dim * sizeof *u);
                probe[j] += side * PROBE;
                double f = nm_eval(p, probe);
                if (f < f_better - FLAT_DROP) {
                    memcpy(better, probe, sizeof probe);
                    f_better = f;
                } else if (f < *fu + FLAT_DROP) {
                    return CDP_PREDICT_EBOUNDARY;
                }
            }
        }
        if (f_better == *fu)
            return CDP_PREDICT_OK;
        if (attempt == MAX_RESTARTS)
            return CDP_PREDICT_ENOCONV;
        memcpy(u, better, (size_t)p->dim * sizeof *u);
        *fu = eval_with_gradient(p, u, grad);
    }
}

/* Fills in the budget from the options, or the defaults. */
static void
problem_setup(struct problem *p, const struct cdp_predict_fit_options *options)
{
    p->max_iterations = DEFAULT_MAX_ITERATIONS;
    p->tolerance = DEFAULT_TOLERANCE;
    if (options != NULL && options->max_iterations > 0)
        p->max_iterations = options->max_iterations;
    if (options != NULL && options->tolerance > 0 && isfinite(options->tolerance))
        p->tolerance = options->tolerance;
    p->iterations = 0;
    p->evaluations = 0;
}

/* True when every log-parameter is inside the wall. */
static bool
inside_wall(const double *u, int n)
{
    for (int j = 0; j < n; j++)
        if (!(fabs(u[j]) <= LOG_WALL))
            return false;
    return true;
}

static bool
positive(double v)
{
    return v > 0 && isfinite(v);
}

/* A purchase count: a whole number >= 0 (and small enough to be exact). */
static bool
valid_count(double x)
{
    return x >= 0 && x <= 1e15 && x == floor(x);
}

/*
 * The digamma function psi = (ln G)' for v > 0: the recurrence
 * psi(v) = psi(v+1) - 1/v up to v >= 10, then the asymptotic series, whose
 * first omitted term is below 1e-15 there.
 */
static double
digamma(double v)
{
    double result = 0;
    while (v < 10) {
        result -= 1 / v;
        v += 1;
    }
    double f = 1 / (v * v);
    double series =
        f *
        (1.0 / 12 -
         f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132 - f * 691.0 / 32760)))));
    return result + log(v) - 0.5 / v - series;
}

/* ------------------------------------------------------------------------ */
/* BG/NBD                                                                   */

/* Customers with equal (x, t_x, T), summed once with their count as weight. */
struct bg_row {
    double x, t_x, T, weight;
};

struct bg_data {
    struct bg_row *rows; /* sorted by x, so equal x are adjacent */
    size_t count;
    size_t customers;
    double sum_x, sum_T;
};

static bool
bg_history_valid(double x, double t_x, double T)
{
    if (!valid_count(x) || !(T >= 0) || !isfinite(T))
        return false;
    return x == 0 || (t_x >= 0 && t_x <= T);
}

static bool
bg_params_valid(const struct cdp_predict_bgnbd *params)
{
    return params != NULL && positive(params->r) && positive(params->alpha) &&
           positive(params->a) && positive(params->b);
}

static int
bg_row_compare(const void *pa, const void *pb)
{
    const struct bg_row *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->T != b->T)
        return a->T < b->T ? -1 : 1;
    if (a->t_x != b->t_x)
        return a->t_x < b->t_x ? -1 : 1;
    return 0;
}

/*
 * Sorts n rows of size bytes with cmp, then folds each run of equal rows
 * into its first, adding up their weights: the weight is the row's last
 * double (struct bg_row and struct gg_row).  Returns how many rows are left.
 * Customers with the same history share one likelihood term this way.
 */
static size_t
sort_and_merge(void *rows, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *base = rows;
    size_t weight = size - sizeof(double), count = 0;
    qsort(rows, n, size, cmp);
    for (size_t i = 0; i < n; i++) {
        char *row = base + i * size, *last = count > 0 ? base + (count - 1) * size : NULL;
        if (last != NULL && cmp(last, row) == 0) {
            double w, add;
            memcpy(&w, last + weight, sizeof w);
            memcpy(&add, row + weight, sizeof add);
            w += add;
            memcpy(last + weight, &w, sizeof w);
        } else {
            if (base + count * size != row)
                memcpy(base + count * size, row, size);
            count++;
        }
    }
    return count;
}

/* Checks, copies, sorts and merges the rows; false (nothing allocated) when one is invalid. */
static bool
bg_prepare(const double *x, const double *t_x, const double *T, size_t n, struct bg_data *d)
{
    memset(d, 0, sizeof *d);
    if (n == 0 || x == NULL || t_x == NULL || T == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!bg_history_valid(x[i], t_x[i], T[i]))
            return false;

    struct bg_row *rows = cdp_xmalloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        /* t_x does not enter the likelihood when x == 0; 0 lets such rows merge. */
        rows[i] = (struct bg_row){x[i], x[i] > 0 ? t_x[i] : 0, T[i], 1};
        d->sum_x += x[i];
        d->sum_T += T[i];
    }
    d->rows = rows;
    d->count = sort_and_merge(rows, n, sizeof *rows, bg_row_compare);
    d->customers = n;
    return true;
}

/*
 * The log-likelihood, written as in FHL's own derivation:
 *
 *   LL = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4))
 *   A1 = lnG(r+x) - lnG(r) + r ln(alpha)
 *   A2 = lnG(a+b) + lnG(b+x) - lnG(b) - lnG(a+b+x)
 *   A3 = -(r+x) ln(alpha+T)
 *   A4 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x)
 *
 * A1 + A2 and ln(a) - ln(b+x-1) depend on x alone and are computed once for
 * each run of rows with equal x.  The sum of the two exponentials is taken
 * as the larger one times 1 + exp(difference), which neither overflows nor
 * loses the smaller term; w4 = exp(A4) / (exp(A3) + exp(A4)) is the share of
 * the second, which the gradient needs.
 *
 * When grad is not NULL it receives dLL/d(r, alpha, a, b):
 *
 *   dr     = psi(r+x) - psi(r) + ln(alpha) - w3 ln(alpha+T) - w4 ln(alpha+t_x)
 *   dalpha = r/alpha - (r+x) (w3/(alpha+T) + w4/(alpha+t_x))
 *   da     = psi(a+b) - psi(a+b+x) + w4/a
 *   db     = psi(b+x) - psi(b) + psi(a+b) - psi(a+b+x) - w4/(b+x-1)
 *
 * with w3 = 1 - w4 (and w4 = 0 when x == 0).
 */
static double
bg_eval(const struct bg_data *d, const double *theta, double *grad)
{
    double r = theta[0], alpha = theta[1], a = theta[2], b = theta[3];
    double ln_alpha = log(alpha), ln_a = log(a);
    double sum = 0, g_r = 0, g_alpha = 0, g_a = 0, g_b = 0;
    /*
     * For x up to SMALL_X, lnG(r+x) - lnG(r) + lnG(b+x) - lnG(b) - lnG(a+b+x)
     * + lnG(a+b) is kept as the running sum over j < x of
     * ln((r+j)(b+j)/(a+b+j)), and the digamma differences likewise as sums of
     * 1/(r+j), 1/(b+j) and 1/(a+b+j).  As x only grows along the rows, this
     * costs one log per step of x, and it is exact where the log-gammas
     * would cancel to noise: when a and b are huge, where degenerate fits go.
     */
    double k = 0, sum_log = 0, sum_r = 0, sum_b = 0, sum_ab = 0;
    size_t i = 0;
    while (i < d->count) {
        double x = d->rows[i].x;
        double ratios, d_r, d_b, d_ab;
        if (x <= SMALL_X) {
            for (; k < x; k++) {
                sum_log += log((r + k) * (b + k) / (a + b + k));
                if (grad != NULL) {
                    sum_r += 1 / (r + k);
                    sum_b += 1 / (b + k);
                    sum_ab += 1 / (a + b + k);
                }
            }
            ratios = sum_log;
            d_r = sum_r;
            d_b = sum_b;
            d_ab = sum_ab;
        } else {
            ratios = lgamma(r + x) - lgamma(r) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x) +
                     lgamma(a + b);
            d_r = digamma(r + x) - digamma(r);
            d_b = digamma(b + x) - digamma(b);
            d_ab = digamma(a + b + x) - digamma(a + b);
        }
        double rx = r + x;
        double tail = x > 0 ? ln_a - log(b + x - 1) : 0;

        /* The rows with this x: their weight, likelihood and gradient sums */
        double weight = 0, lse = 0, by_log = 0, by_inverse = 0, by_w4 = 0;
        for (; i < d->count && d->rows[i].x == x; i++) {
            const struct bg_row *row = &d->rows[i];
            double w = row->weight;
            double ln_T = log(alpha + row->T);
            double a3 = -rx * ln_T;
            weight += w;
            if (x == 0) {
                lse += w * a3;
                if (grad != NULL) {
                    by_log += w * ln_T;
                    by_inverse += w / (alpha + row->T);
                }
                continue;
            }
            double ln_t = log(alpha + row->t_x);
            double a4 = tail - rx * ln_t;
            double e, w4;
            if (a3 > a4) {
                e = exp(a4 - a3);
                lse += w * (a3 + log1p(e));
                w4 = e / (1 + e);
            } else {
                e = exp(a3 - a4);
                lse += w * (a4 + log1p(e));
                w4 = 1 / (1 + e);
            }
            if (grad != NULL) {
                double w3 = 1 - w4;
                by_log += w * (w3 * ln_T + w4 * ln_t);
                by_inverse += w * (w3 / (alpha + row->T) + w4 / (alpha + row->t_x));
                by_w4 += w * w4;
            }
        }
        sum += weight * (ratios + r * ln_alpha) + lse;
        if (grad != NULL) {
            g_r += weight * (d_r + ln_alpha) - by_log;
            g_alpha += weight * r / alpha - rx * by_inverse;
            g_a += by_w4 / a - weight * d_ab;
            g_b += weight * (d_b - d_ab) - (x > 0 ? by_w4 / (b + x - 1) : 0);
        }
    }
    if (grad != NULL) {
        grad[0] = g_r;
        grad[1] = g_alpha;
        grad[2] = g_a;
        grad[3] = g_b;
    }
    return sum;
}

/*
 * The fit's objective: minus the log-likelihood at exp(u), and its gradient
 * in u (d/du = theta d/dtheta).
 */
static double
bg_objective(const double *u, double *grad, const void *ctx)
{
    if (!inside_wall(u, 4))
        return HUGE_VAL;
    double theta[4], g[4];
    for (int j = 0; j < 4; j++)
        theta[j] = exp(u[j]);
    double ll = bg_eval(ctx, theta, grad != NULL ? g : NULL);
    if (grad != NULL)
        for (int j = 0; j < 4; j++)
            grad[j] = -theta[j] * g[j];
    return isfinite(ll) ? -ll : HUGE_VAL;
}

double
cdp_predict_bgnbd_log_likelihood(const struct cdp_predict_bgnbd *params, const double *x,
                                 const double *t_x, const double *T, size_t n)
{
    struct bg_data d;
    if (!bg_params_valid(params) || !bg_prepare(x, t_x, T, n, &d))
        return NAN;
    double theta[4] = {params->r, params->alpha, params->a, params->b};
    double ll = bg_eval(&d, theta, NULL);
    free(d.rows);
    return isfinite(ll) ? ll : NAN;
}

int
cdp_predict_bgnbd_fit(const double *x, const double *t_x, const double *T, size_t n,
                      const struct cdp_predict_fit_options *options,
                      struct cdp_predict_bgnbd *params, struct cdp_predict_fit_report *report)
{
    if (report != NULL)
        memset(report, 0, sizeof *report);
    struct bg_data d;
    if (params == NULL || !bg_prepare(x, t_x, T, n, &d))
        return CDP_PREDICT_EINVAL;

    /* Start from r = a = b = 1 and the alpha that makes the mean purchase rate r / alpha the
     * data's. */
    double alpha = d.sum_x > 0 && d.sum_T > 0 ? d.sum_T / d.sum_x : 1;
    double u[4] = {0, log(alpha), 0, 0}, f;
    struct problem p = {.f = bg_objective, .ctx = &d, .dim = 4};
    problem_setup(&p, options);
    int status = minimize(&p, u, &f);
    free(d.rows);
    if (status == CDP_PREDICT_EINVAL)
        return status;
    /* Without a repeat purchase the rate's best estimate is 0, whatever f says. */
    if (status == CDP_PREDICT_OK && d.sum_x == 0)
        status = CDP_PREDICT_EBOUNDARY;

    params->r = exp(u[0]);
    params->alpha = exp(u[1]);
    params->a = exp(u[2]);
    params->b = exp(u[3]);
    if (report != NULL) {
        report->log_likelihood = -f;
        report->iterations = p.iterations;
        report->evaluations = p.evaluations;
        report->rows = d.customers;
        report->converged = status == CDP_PREDICT_OK;
    }
    return status;
}

/* ln of the odds a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) that a customer with x > 0 has left. */
static double
bg_dropout_log_odds(const struct cdp_predict_bgnbd *p, double x, double t_x, double T)
{
    return log(p->a) - log(p->b + x - 1) + (p->r + x) * log1p((T - t_x) / (p->alpha + t_x));
}

/* 1 / (1 + exp(u)) without overflow. */
static double
inverse_one_plus_exp(double u)
{
    if (u > 0) {
        double e = exp(-u);
        return e / (1 + e);
    }
    return 1 / (1 + exp(u));
}

double
cdp_predict_bgnbd_p_alive(const struct cdp_predict_bgnbd *params, double x, double t_x, double T)
{
    if (!bg_params_valid(params) || !bg_history_valid(x, t_x, T))
        return NAN;
    if (x == 0)
        return 1;
    return inverse_one_plus_exp(bg_dropout_log_odds(params, x, t_x, T));
}

/*
 * Eq. 10 without its P(alive) factor: the expected purchases in (T, T+t] of
 * a customer known to be alive at T.  With c = a+b+x-1, z = t/(alpha+T+t),
 * L = ln(1-z) and the Euler transformation, eq. 10's numerator
 *
 *   c/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x; c; z)]
 *   = c/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)].
 *
 * The series 2F1(P, a-1; c; z), P = a+b-1-r, is 1 + (a-1) S with
 *
 *   S = sum over k >= 1 of (P)_k (a)_(k-1) z^k / ((c)_k k!)
 *     = (P z / c) 3F2(P+1, a, 1; c+1, 2; z),
 *
 * so the bracket over a-1 is -expm1((a-1) L)/(a-1) - (1-z)^(a-1) S, which
 * is smooth through a = 1 (there the first part is -L).
 *
 * Computes this at count (at most HORIZONS) horizons t[] > 0 into out[];
 * false when the series does not converge or a result is not finite.
 */
static bool
bg_expected_if_alive(const struct cdp_predict_bgnbd *params, double x, double T, const double *t,
                     double *out, int count)
{
    double a = params->a, scale = params->alpha + T;
    double c = a + params->b + x - 1, pp = a + params->b - 1 - params->r;
    double z[HORIZONS], power[HORIZONS], sum[HORIZONS];
    double z_max = 0;
    for (int i = 0; i < count; i++) {
        z[i] = t[i] / (scale + t[i]);
        power[i] = 1;
        sum[i] = 1;
        z_max = fmax(z_max, z[i]);
    }

    /*
     * The 3F2 series at every z at once: the coefficients, and their
     * divisions, are shared.  The stopping rule is series()'s, applied to
     * the largest z, whose terms and ratios bound everyone else's, and
     * measured against the smallest sum.
     */
    double coefficient = 1, power_max = 1, largest = 1;
    bool converged = false;
    for (int j = 0; j < SERIES_MAX_TERMS && !converged; j++) {
        double ratio = (pp + 1 + j) * (a + j) / ((c + 1 + j) * (2 + j));
        coefficient *= ratio;
        power_max *= z_max;
        for (int i = 0; i < count; i++) {
            power[i] *= z[i];
            sum[i] += coefficient * power[i];
        }
        double size = fabs(coefficient) * power_max;
        if (!isfinite(size))
            return false;
        if (size == 0) {
            converged = true; /* P+1 was a non-positive integer: a polynomial */
            break;
        }
        if (size > largest)
            largest = size;
        double rho = fabs(ratio) * z_max;
        if (rho < z_max)
            rho = z_max;
        double bound = (1 - rho) * DBL_EPSILON;
        /* Any one sum is at least the smallest: a quick test before the scan. */
        if (rho >= 1 || size * rho > bound * fmax(fabs(sum[count - 1]), DBL_EPSILON * largest))
            continue;
        double smallest = HUGE_VAL;
        for (int i = 0; i < count; i++)
            if (fabs(sum[i]) < smallest)
                smallest = fabs(sum[i]);
        if (!isfinite(smallest))
            return false;
        converged = size * rho <= bound * fmax(smallest, DBL_EPSILON * largest);
    }
    if (!converged)
        return false;

    for (int i = 0; i < count; i++) {
        double ln_1mz = -log1p(t[i] / scale);
        double u = (a - 1) * ln_1mz, growth = expm1(u);
        double first = a == 1 ? -ln_1mz : -growth / (a - 1);
        double s = pp * z[i] / c * sum[i];
        out[i] = c * (first - (1 + growth) * s);
        if (!isfinite(out[i]))
            return false;
    }
    return true;
}

double
cdp_predict_bgnbd_expected(const struct cdp_predict_bgnbd *params, double x, double t_x, double T,
                           double t)
{
    if (!bg_params_valid(params) || !bg_history_valid(x, t_x, T) || !(t >= 0) || !isfinite(t))
        return NAN;
    if (t == 0)
        return 0;
    double e;
    if (!bg_expected_if_alive(params, x, T, &t, &e, 1))
        return NAN;
    if (x > 0)
        e *= inverse_one_plus_exp(bg_dropout_log_odds(params, x, t_x, T));
    return isfinite(e) ? e : NAN;
}

/* ------------------------------------------------------------------------ */
/* Gamma-Gamma                                                              */

/* Customers with equal (x, mbar), summed once with their count as weight. */
struct gg_row {
    double x, mbar, ln_mbar, weight;
};

struct gg_data {
    struct gg_row *rows; /* sorted by x, so equal x are adjacent */
    size_t count;
    size_t customers; /* rows with x > 0 */
    double sum_mbar;
};

static bool
gg_params_valid(const struct cdp_predict_gamma_gamma *params)
{
    return params != NULL && positive(params->p) && positive(params->q) && positive(params->gamma);
}

static int
gg_row_compare(const void *pa, const void *pb)
{
    const struct gg_row *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->mbar != b->mbar)
        return a->mbar < b->mbar ? -1 : 1;
    return 0;
}

/*
 * Checks, copies, sorts and merges the rows with x > 0; false (nothing
 * allocated) when a row is invalid or none has x > 0.
 */
static bool
gg_prepare(const double *x, const double *mbar, size_t n, struct gg_data *d)
{
    memset(d, 0, sizeof *d);
    if (n == 0 || x == NULL || mbar == NULL)
        return false;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (!valid_count(x[i]))
            return false;
        if (x[i] > 0) {
            if (!positive(mbar[i]))
                return false;
            used++;
        }
    }
    if (used == 0)
        return false;

    struct gg_row *rows = cdp_xmalloc(used * sizeof *rows);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] > 0) {
            rows[m++] = (struct gg_row){x[i], mbar[i], log(mbar[i]), 1};
            d->sum_mbar += mbar[i];
        }
    }
    d->rows = rows;
    d->count = sort_and_merge(rows, used, sizeof *rows, gg_row_compare);
    d->customers = used;
    return true;
}

/*
 * The log-likelihood of the mean values (Fader and Hardie 2013):
 *
 *   lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + px ln(x)
 *     + (px-1) ln(mbar) - (px+q) ln(gamma + x mbar)
 *
 * The first line depends on x alone and is computed once for each run of
 * rows with equal x; ln(mbar) was taken once in gg_prepare().  When grad is
 * not NULL it receives dLL/d(p, q, gamma):
 *
 *   dp     = x (psi(px+q) - psi(px) + ln(x) + ln(mbar) - ln(gamma + x mbar))
 *   dq     = psi(px+q) - psi(q) + ln(gamma) - ln(gamma + x mbar)
 *   dgamma = q/gamma - (px+q) / (gamma + x mbar)
 */
static double
gg_eval(const struct gg_data *d, const double *theta, double *grad)
{
    double p = theta[0], q = theta[1], gamma = theta[2];
    double lg_q = lgamma(q), ln_gamma = log(gamma), psi_q = grad != NULL ? digamma(q) : 0;
    double sum = 0, g_p = 0, g_q = 0, g_gamma = 0;
    size_t i = 0;
    while (i < d->count) {
        double x = d->rows[i].x, px = p * x, ln_x = log(x);
        double head = lgamma(px + q) - lgamma(px) - lg_q + q * ln_gamma + px * ln_x;

        /* The rows with this x: sums of weight, ln(mbar), ln(gamma + x mbar), 1/(gamma + x mbar) */
        double weight = 0, by_ln_mbar = 0, by_ln_sum = 0, by_inverse = 0;
        for (; i < d->count && d->rows[i].x == x; i++) {
            const struct gg_row *row = &d->rows[i];
            double w = row->weight, spread = gamma + x * row->mbar;
            weight += w;
            by_ln_mbar += w * row->ln_mbar;
            by_ln_sum += w * log(spread);
            if (grad != NULL)
                by_inverse += w / spread;
        }
        sum += weight * head + (px - 1) * by_ln_mbar - (px + q) * by_ln_sum;
        if (grad != NULL) {
            double psi_pxq = digamma(px + q);
            g_p += x * (weight * (psi_pxq - digamma(px) + ln_x) + by_ln_mbar - by_ln_sum);
            g_q += weight * (psi_pxq - psi_q + ln_gamma) - by_ln_sum;
            g_gamma += weight * q / gamma - (px + q) * by_inverse;
        }
    }
    if (grad != NULL) {
        grad[0] = g_p;
        grad[1] = g_q;
        grad[2] = g_gamma;
    }
    return sum;
}

static double
gg_objective(const double *u, double *grad, const void *ctx)
{
    if (!inside_wall(u, 3))
        return HUGE_VAL;
    double theta[3], g[3];
    for (int j = 0; j < 3; j++)
        theta[j] = exp(u[j]);
    double ll = gg_eval(ctx, theta, grad != NULL ? g : NULL);
    if (grad != NULL)
        for (int j = 0; j < 3; j++)
            grad[j] = -theta[j] * g[j];
    return isfinite(ll) ? -ll : HUGE_VAL;
}

double
cdp_predict_gamma_gamma_log_likelihood(const struct cdp_predict_gamma_gamma *params,
                                       const double *x, const double *mbar, size_t n)
{
    struct gg_data d;
    if (!gg_params_valid(params) || !gg_prepare(x, mbar, n, &d))
        return NAN;
    double theta[3] = {params->p, params->q, params->gamma};
    double ll = gg_eval(&d, theta, NULL);
    free(d.rows);
    return isfinite(ll) ? ll : NAN;
}

int
cdp_predict_gamma_gamma_fit(const double *x, const double *mbar, size_t n,
                            const struct cdp_predict_fit_options *options,
                            struct cdp_predict_gamma_gamma *params,
                            struct cdp_predict_fit_report *report)
{
    if (report != NULL)
        memset(report, 0, sizeof *report);
    struct gg_data d;
    if (params == NULL || !gg_prepare(x, mbar, n, &d))
        return CDP_PREDICT_EINVAL;

    /* Start from p = 1, q = 2 and the gamma whose population mean gamma p / (q-1) is the data's. */
    double u[3] = {0, log(2.0), log(d.sum_mbar / (double)d.customers)}, f;
    struct problem p = {.f = gg_objective, .ctx = &d, .dim = 3};
    problem_setup(&p, options);
    int status = minimize(&p, u, &f);
    free(d.rows);
    if (status == CDP_PREDICT_EINVAL)
        return status;

    params->p = exp(u[0]);
    params->q = exp(u[1]);
    params->gamma = exp(u[2]);
    if (report != NULL) {
        report->log_likelihood = -f;
        report->iterations = p.iterations;
        report->evaluations = p.evaluations;
        report->rows = d.customers;
        report->converged = status == CDP_PREDICT_OK;
    }
    return status;
}

double
cdp_predict_gamma_gamma_expected(const struct cdp_predict_gamma_gamma *params, double x,
                                 double mbar)
{
    if (!gg_params_valid(params) || !valid_count(x) || !isfinite(mbar))
        return NAN;
    double px = params->p * x;
    double denominator = px + params->q - 1;
    if (!(denominator > 0))
        return NAN;
    double e = (params->gamma * params->p + px * mbar) / denominator;
    return isfinite(e) ? e : NAN;
}

/* ------------------------------------------------------------------------ */
/* Customer lifetime value                                                  */

double
cdp_predict_clv(const struct cdp_predict_bgnbd *params, double x, double t_x, double T, double aov,
                unsigned periods, double period_length, double discount_rate)
{
    if (!bg_params_valid(params) || !bg_history_valid(x, t_x, T) || !isfinite(aov) ||
        !positive(period_length) || !(discount_rate > -1) || !isfinite(discount_rate))
        return NAN;

    /* P(alive) is common to every horizon: take it once, outside the sum. */
    double alive = x > 0 ? inverse_one_plus_exp(bg_dropout_log_odds(params, x, t_x, T)) : 1;
    double value = 0, previous = 0, discount = 1;
    double t[HORIZONS], e[HORIZONS];
    for (unsigned k = 1; k <= periods;) {
        /* Up to HORIZONS period ends at a time, through one pass of the series */
        int count = 0;
        for (; count < HORIZONS && k <= periods; count++, k++)
            t[count] = k * period_length;
        if (!bg_expected_if_alive(params, x, T, t, e, count))
            return NAN;
        for (int i = 0; i < count; i++) {
            discount /= 1 + discount_rate;
            value += (e[i] - previous) * discount;
            previous = e[i];
        }
    }
    value *= alive * aov;
    return isfinite(value) ? value : NAN;
}

/* ------------------------------------------------------------------------ */
/* RFM                                                                      */

static int
double_compare(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

int
cdp_predict_rfm_scores(const double *values, size_t n, bool higher_is_better, unsigned char *scores,
                       double cuts[4])
{
    if (n == 0 || values == NULL || scores == NULL || cuts == NULL)
        return CDP_PREDICT_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (isnan(values[i]))
            return CDP_PREDICT_EINVAL;

    /* Lower-is-better values are negated, so one rule serves both. */
    double sign = higher_is_better ? 1 : -1;
    double *sorted = cdp_xmalloc(n * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = sign * values[i];
    qsort(sorted, n, sizeof *sorted, double_compare);

    /*
     * cut[j-1] is the value at 1-based rank ceil(j n / 5).  It is below a
     * value v exactly when at least ceil(j n / 5) values are below v, that
     * is when j <= 5 L / n, so counting the cuts below v gives
     * floor(5 L / n) (never above 4, as L < n).
     */
    double cut[4];
    for (size_t j = 1; j <= 4; j++)
        cut[j - 1] = sorted[(j * n + 4) / 5 - 1];
    free(sorted);

    for (size_t i = 0; i < n; i++) {
        double v = sign * values[i];
        unsigned char score = 1;
        for (int j = 0; j < 4; j++)
            if (cut[j] < v)
                score++;
        scores[i] = score;
    }
    for (int j = 0; j < 4; j++)
        cuts[j] = sign * cut[j] + 0.0; /* + 0.0 turns -0 into 0 */
    return CDP_PREDICT_OK;
}

enum cdp_predict_segment
cdp_predict_rfm_segment(int r, int f, int m)
{
    if (r < 1 || r > 5 || f < 1 || f > 5 || m < 1 || m > 5)
        return CDP_PREDICT_SEGMENT_UNKNOWN;
    if (r >= 4 && f >= 4 && m >= 4)
        return CDP_PREDICT_CHAMPIONS;
    if (r >= 3 && f >= 4)
        return CDP_PREDICT_LOYAL;
    if (r <= 2 && f >= 4 && m >= 4)
        return CDP_PREDICT_CANNOT_LOSE;
    if (r <= 2 && f >= 3)
        return CDP_PREDICT_AT_RISK;
    if (r >= 4 && f == 1)
        return CDP_PREDICT_NEW;
    if (r >= 3)
        return CDP_PREDICT_POTENTIAL_LOYALIST;
    if (r == 2)
        return CDP_PREDICT_HIBERNATING;
    return CDP_PREDICT_LOST;
}

const char *
cdp_predict_segment_name(enum cdp_predict_segment segment)
{
    switch (segment) {
    case CDP_PREDICT_CHAMPIONS:
        return "Champions";
    case CDP_PREDICT_LOYAL:
        return "Loyal";
    case CDP_PREDICT_POTENTIAL_LOYALIST:
        return "Potential loyalist";
    case CDP_PREDICT_NEW:
        return "New";
    case CDP_PREDICT_AT_RISK:
        return "At risk";
    case CDP_PREDICT_CANNOT_LOSE:
        return "Cannot lose them";
    case CDP_PREDICT_HIBERNATING:
        return "Hibernating";
    case CDP_PREDICT_LOST:
        return "Lost";
    case CDP_PREDICT_SEGMENT_UNKNOWN:
        break;
    }
    return "Unknown";
}
