/*
 * predict.h - customer-base models: purchase summaries, BG/NBD, Gamma-Gamma,
 * customer lifetime value and RFM scores.
 *
 * Pure arithmetic on arrays the caller owns; nothing here touches the store
 * or does I/O.  The models are those of
 *
 *   Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way: An
 *   Alternative to the Pareto/NBD Model", Marketing Science 24(2)  (BG/NBD);
 *   Fader and Hardie (2013), "The Gamma-Gamma Model of Monetary Value".
 *
 * A typical run: summarise each customer's orders with
 * cdp_predict_summarize(), fit cdp_predict_bgnbd_fit() on (x, t_x, T) of all
 * customers and cdp_predict_gamma_gamma_fit() on (x, monetary) of the repeat
 * customers, then ask each customer's P(alive), expected purchases and CLV.
 *
 * Time is measured in a unit chosen once (days or weeks).  The fitted r, a,
 * b, p, q and gamma do not depend on it; alpha scales with it; expectations
 * over a horizon must be asked in the same unit as the fit.
 *
 * Functions that return a double return NaN when their input lies outside
 * the model's domain; fits return a status and never report an estimate they
 * did not reach as if it were one.
 */
#ifndef CDP_PREDICT_H
#define CDP_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The time unit of x's companions t_x and T; the value is days per unit. */
enum cdp_predict_unit {
    CDP_PREDICT_DAYS = 1,
    CDP_PREDICT_WEEKS = 7,
};

/* What the fits return. */
enum cdp_predict_status {
    CDP_PREDICT_OK = 0,
    CDP_PREDICT_EINVAL,    /* input outside the model's domain, or no usable rows */
    CDP_PREDICT_ENOCONV,   /* the optimiser ran out of iterations */
    CDP_PREDICT_EBOUNDARY, /* the optimum ran off to 0 or infinity, or the likelihood is
                              flat along a parameter: the data do not identify the model */
};

/* A short English description of a status, for messages. */
const char *cdp_predict_strerror(int status);

/* ------------------------------------------------------------------------ */
/* Summaries                                                                */

/* One purchase: when (ms since the epoch, UTC) and for how much. */
struct cdp_predict_txn {
    int64_t time_ms;
    double amount;
};

/*
 * One customer's history as the models see it.  Purchases on the same UTC
 * calendar day count as one purchase day, their amounts summed.  Times are in
 * the unit asked for.
 */
struct cdp_predict_summary {
    int64_t first_day; /* UTC day numbers (days since 1970-01-01) of the first */
    int64_t last_day;  /* and last purchase day; 0 when days == 0 */
    uint64_t days;     /* distinct purchase days up to the as-of day */
    uint64_t orders;   /* transactions up to the as-of day, before merging */
    double x;          /* repeat purchase days: days - 1 (0 when days <= 1) */
    double t_x;        /* last - first purchase day; 0 when x == 0 */
    double T;          /* as-of day - first purchase day */
    double recency;    /* as-of day - last purchase day (T - t_x) */
    double monetary;   /* mean amount of the repeat purchase days; 0 when x == 0 */
    double total;      /* sum of all amounts up to the as-of day */
};

/*
 * Summarises one customer's transactions as of the UTC day holding as_of_ms,
 * which is included: transactions on later days are ignored.  The
 * transactions may come in any order; the array is sorted by time, and
 * equal times by amount, in place (that is the only change made to it), so
 * the sums do not depend on the order they came in.  Amounts are summed as given, so a
 * refund recorded as a negative amount lowers its day's value.
 *
 * Returns true when the customer bought something on or before the as-of
 * day.  Otherwise (no transactions, all of them later, or a unit other than
 * CDP_PREDICT_DAYS or CDP_PREDICT_WEEKS) it returns false and *out is all
 * zeros.
 */
bool cdp_predict_summarize(struct cdp_predict_txn *txns, size_t n, int64_t as_of_ms,
                           enum cdp_predict_unit unit, struct cdp_predict_summary *out);

/* ------------------------------------------------------------------------ */
/* Fitting                                                                  */

/*
 * How hard a fit tries.  Pass NULL, or leave a field 0, for the default:
 * 5000 iterations and a tolerance of 1e-10.  The fit has converged when a
 * quasi-Newton step moves no log-parameter by more than sqrt(tolerance) and
 * changes the log-likelihood by at most tolerance * (1 + |log-likelihood|)
 * (or, should the quasi-Newton search stall, when a Nelder-Mead simplex has
 * shrunk to those sizes).
 */
struct cdp_predict_fit_options {
    int max_iterations;
    double tolerance;
};

/* What a fit did. */
struct cdp_predict_fit_report {
    double log_likelihood; /* at the parameters returned */
    int iterations;        /* optimiser iterations (BFGS steps, Nelder-Mead moves) */
    int evaluations;       /* log-likelihood evaluations */
    size_t rows;           /* customers the likelihood was summed over */
    bool converged;        /* true only when the fit returned CDP_PREDICT_OK */
};

/* ------------------------------------------------------------------------ */
/* BG/NBD: how many purchases, and whether the customer is still there      */

struct cdp_predict_bgnbd {
    double r, alpha; /* gamma heterogeneity of the purchase rate */
    double a, b;     /* beta heterogeneity of the drop-out probability */
};

/*
 * The BG/NBD log-likelihood (FHL 2005, eq. 6) summed over n customers, each
 * with x repeat purchases (a whole number >= 0), the last at t_x, observed
 * for T (0 <= t_x <= T; t_x is ignored when x == 0).  Returns NaN when a
 * parameter is not positive and finite, n is 0 or a row is invalid.
 */
double cdp_predict_bgnbd_log_likelihood(const struct cdp_predict_bgnbd *params, const double *x,
                                        const double *t_x, const double *T, size_t n);

/*
 * Fits the BG/NBD by maximum likelihood over the logarithms of (r, alpha, a,
 * b): BFGS with the analytic gradient, from r = a = b = 1 and the alpha that
 * matches the mean purchase rate, with Nelder-Mead to take over should BFGS
 * stall.  Customers with the same (x, t_x, T) are summed once with a
 * weight, so the cost of an evaluation grows with the number of distinct
 * rows.  Writes the estimate to *params and, when report is not NULL, what
 * happened to *report.
 *
 * Returns CDP_PREDICT_OK, or CDP_PREDICT_EINVAL (bad rows, n == 0),
 * CDP_PREDICT_ENOCONV (out of iterations) or CDP_PREDICT_EBOUNDARY: a
 * parameter left [1e-8, 1e8], or the likelihood barely changes when one
 * parameter is multiplied or divided by 20, so the data do not pin it down
 * (nobody bought twice; nobody seems to drop out; too few customers).
 * After ENOCONV or EBOUNDARY *params holds the best point seen, for
 * diagnosis only: it is not an estimate.  After EINVAL *params is untouched.
 */
int cdp_predict_bgnbd_fit(const double *x, const double *t_x, const double *T, size_t n,
                          const struct cdp_predict_fit_options *options,
                          struct cdp_predict_bgnbd *params, struct cdp_predict_fit_report *report);

/*
 * The probability that a customer with history (x, t_x, T) has not dropped
 * out by T:
 *
 *   1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
 *
 * so 1 when x == 0, since in the BG/NBD a customer can only drop out right
 * after a purchase.  NaN for an invalid history.
 */
double cdp_predict_bgnbd_p_alive(const struct cdp_predict_bgnbd *params, double x, double t_x,
                                 double T);

/*
 * The expected number of purchases in the next t units of a customer with
 * history (x, t_x, T) (FHL 2005, eq. 10); 0 when t == 0.
 *
 * Eq. 10 holds 2F1(r+x, b+x; a+b+x-1; z) with z = t/(alpha+T+t), divided by
 * a - 1.  Its series converges slowly, and through large terms, when z is
 * near 1 and x is large.  We use Euler's transformation instead,
 *
 *   2F1(r+x, b+x; c; z) = (1-z)^(c-r-b-2x) 2F1(a+b-1-r, a-1; c; z),
 *
 * whose terms shrink from the start, and take its factor a - 1 out of the
 * series analytically, so a == 1 (where eq. 10 reads 0/0) is no special
 * case.  At most a million terms are summed: NaN when t exceeds about
 * 10^4 (alpha + T), far beyond any horizon of interest.
 */
double cdp_predict_bgnbd_expected(const struct cdp_predict_bgnbd *params, double x, double t_x,
                                  double T, double t);

/*
 * The Gauss hypergeometric function 2F1(a, b; c; z) for real z < 1, by its
 * power series.  For z < 0 the Pfaff transformation maps z to
 * z/(z-1) in (0, 1); for z > 0.5 with a + b > c, where the terms would first
 * grow like k^(a+b-c-1), the Euler transformation makes them shrink.  NaN
 * for z >= 1, for c a non-positive integer and when a million terms do not
 * converge (z within about 1e-5 of 1).  The relative error is near 1e-16
 * for z <= 0.9 and grows with the number of terms as z nears 1, as each
 * term's rounding adds up: about 1e-14 at 0.99 and 1e-12 at 0.9999.
 */
double cdp_predict_hyp2f1(double a, double b, double c, double z);

/* ------------------------------------------------------------------------ */
/* Gamma-Gamma: how much per purchase                                       */

struct cdp_predict_gamma_gamma {
    double p;     /* shape of each purchase's value */
    double q;     /* shape, and */
    double gamma; /* scale, of the customers' spread in mean value */
};

/*
 * The Gamma-Gamma log-likelihood summed over the customers with x > 0 repeat
 * purchases of mean value mbar > 0 (rows with x == 0 are skipped).  NaN when
 * a parameter is not positive and finite, a row is invalid (x not a whole
 * number >= 0, or mbar <= 0 with x > 0) or no row has x > 0.
 */
double cdp_predict_gamma_gamma_log_likelihood(const struct cdp_predict_gamma_gamma *params,
                                              const double *x, const double *mbar, size_t n);

/*
 * Fits the Gamma-Gamma model by maximum likelihood on the rows with x > 0,
 * from p = 1, q = 2 and the gamma that matches the mean of mbar, by the
 * same optimiser and with the same returns as cdp_predict_bgnbd_fit().
 */
int cdp_predict_gamma_gamma_fit(const double *x, const double *mbar, size_t n,
                                const struct cdp_predict_fit_options *options,
                                struct cdp_predict_gamma_gamma *params,
                                struct cdp_predict_fit_report *report);

/*
 * The expected value of a customer's future purchases given x repeat
 * purchases of mean mbar:
 *
 *   (gamma p + p x mbar) / (p x + q - 1)
 *
 * a weighted mean of the population mean gamma p / (q - 1) and mbar.  For
 * x == 0 it is the population mean.  NaN when p x + q <= 1, where the
 * expectation is infinite.
 */
double cdp_predict_gamma_gamma_expected(const struct cdp_predict_gamma_gamma *params, double x,
                                        double mbar);

/* ------------------------------------------------------------------------ */
/* Customer lifetime value                                                  */

/*
 * The discounted value of a customer's next `periods` periods of
 * period_length units each:
 *
 *   sum over k = 1..periods of
 *       (E(k L) - E((k-1) L)) * aov / (1 + discount_rate)^k
 *
 * where E is cdp_predict_bgnbd_expected() and L is period_length.  The
 * purchases of period k are discounted as if made at its end, at a rate
 * per period (a model fitted in weeks with period_length 4 and
 * discount_rate 0.01 discounts 1% every four weeks).  aov is the expected
 * value per purchase, typically cdp_predict_gamma_gamma_expected(); multiply
 * the result by a margin if value should be profit.  With discount_rate 0
 * the result is aov * E(periods * L).  0 for 0 periods; NaN when
 * period_length <= 0, discount_rate <= -1 or the history is invalid.
 */
double cdp_predict_clv(const struct cdp_predict_bgnbd *params, double x, double t_x, double T,
                       double aov, unsigned periods, double period_length, double discount_rate);

/* ------------------------------------------------------------------------ */
/* RFM                                                                      */

/*
 * Quintile scores 1 to 5 for n values.  With higher_is_better (frequency,
 * monetary) a value's score is
 *
 *   1 + floor(5 L / n),  L = the number of values strictly below it,
 *
 * so equal values always get equal scores, a tie that straddles a quintile
 * boundary goes to the lower quintile, the lowest value scores 1 and, when
 * n >= 5, a unique highest value scores 5.  cuts[] receives the upper bound
 * of quintiles 1 to 4 (the value at 1-based rank ceil(j n / 5) in ascending
 * order), and a score is 1 + the number of cuts strictly below the value.
 * Without higher_is_better (recency: time since the last purchase, where
 * lower is better) the same rule runs on the negated values: cuts come out
 * descending and a score is 1 + the number of cuts strictly above the value.
 *
 * scores must hold n bytes.  Returns CDP_PREDICT_EINVAL, writing nothing,
 * when n is 0 or a value is NaN.
 */
int cdp_predict_rfm_scores(const double *values, size_t n, bool higher_is_better,
                           unsigned char *scores, double cuts[4]);

enum cdp_predict_segment {
    CDP_PREDICT_CHAMPIONS,
    CDP_PREDICT_LOYAL,
    CDP_PREDICT_POTENTIAL_LOYALIST,
    CDP_PREDICT_NEW,
    CDP_PREDICT_AT_RISK,
    CDP_PREDICT_CANNOT_LOSE,
    CDP_PREDICT_HIBERNATING,
    CDP_PREDICT_LOST,
    CDP_PREDICT_SEGMENT_UNKNOWN, /* a score outside 1..5 */
};

/*
 * Names the segment of recency, frequency and monetary scores (1..5).  The
 * first matching row wins:
 *
 *   Champions           R >= 4, F >= 4, M >= 4
 *   Loyal               R >= 3, F >= 4
 *   Cannot lose them    R <= 2, F >= 4, M >= 4
 *   At risk             R <= 2, F >= 3
 *   New                 R >= 4, F == 1
 *   Potential loyalist  R >= 3
 *   Hibernating         R == 2
 *   Lost                R == 1
 */
enum cdp_predict_segment cdp_predict_rfm_segment(int r, int f, int m);

/* "Champions", "Loyal", ..., "Lost"; "Unknown" for anything else. */
const char *cdp_predict_segment_name(enum cdp_predict_segment segment);

#endif
