/*
 * check.h - a tiny assertion harness for the unit tests.
 *
 * Each CHECK counts one assertion; a failing one prints the file, line and
 * the expression (or both strings for CHECK_STR) and the test goes on, so one
 * run shows every failure.  check_summary() prints "N passed, N failed" and
 * returns the exit status for main().
 */
#ifndef CDP_TEST_CHECK_H
#define CDP_TEST_CHECK_H

#include <stdio.h>
#include <string.h>
#include <math.h>

static int check_passed;
static int check_failed;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (expr) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #expr);                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *check_got_ = (got), *check_want_ = (want);                                     \
        if (check_got_ != NULL && check_want_ != NULL && strcmp(check_got_, check_want_) == 0) {   \
            check_passed++;                                                                        \
        } else if (check_got_ == NULL && check_want_ == NULL) {                                    \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAIL: %s: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,      \
                    #got, check_got_ ? check_got_ : "(null)",                                      \
                    check_want_ ? check_want_ : "(null)");                                         \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long check_got_ = (long long)(got), check_want_ = (long long)(want);                  \
        if (check_got_ == check_want_) {                                                           \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAIL: %s: got %lld, want %lld\n", __FILE__, __LINE__, #got,    \
                    check_got_, check_want_);                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(got, want, tolerance)                                                           \
    do {                                                                                           \
        double check_got_ = (got), check_want_ = (want);                                           \
        if (fabs(check_got_ - check_want_) <= (tolerance)) {                                       \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAIL: %s: got %.9g, want %.9g\n", __FILE__, __LINE__, #got,    \
                    check_got_, check_want_);                                                      \
        }                                                                                          \
    } while (0)

/* Prints the closing line that the test runner adds up; returns main's status. */
static int
check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
