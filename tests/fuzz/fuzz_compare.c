/*
 * fuzz_compare.c - field comparators: folding, Jaro and Jaro-Winkler,
 * Levenshtein and optimal string alignment distances, date levels.
 *
 * The input is split in two strings a and b (after two bytes that choose a
 * distance bound and a short output size).  Properties checked:
 *   - Jaro and Jaro-Winkler lie in [0, 1], are symmetric to the last bit,
 *     Jaro-Winkler is never below Jaro, and a string compared with itself
 *     gives 1;
 *   - both edit distances agree with a plain full-matrix reference computed
 *     on the code points of a reference decoder (Windows-1252 for bytes that
 *     are not UTF-8), are symmetric, never exceed the longer length, the
 *     OSA distance never exceeds Levenshtein's, and a bounded call returns
 *     the exact distance when it is within the bound and bound + 1 otherwise;
 *   - a fold is valid UTF-8 with no NUL byte, no space at either end and no
 *     two spaces in a row, fits the buffer it was given (of exactly that
 *     size, so that ASan sees an overrun), folds to itself, and a fold into
 *     a short buffer is a prefix of the full fold;
 *   - date levels are in range, symmetric, and a date compared with itself
 *     is exact or null;
 *   - the Jaro-Winkler level is in range and symmetric.
 */
#include "compare.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utf8_reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what, const char *a, size_t alen, const char *b, size_t blen)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s (a \"%.*s\", b \"%.*s\")\n", what,
                (int)(alen < 200 ? alen : 200), a, (int)(blen < 200 ? blen : 200), b);
        abort();
    }
}

/* ------------------------------------------------------------------------ */
/* References                                                               */

/* Windows-1252 at 0x80..0x9F, with the five undefined bytes kept as C1 controls. */
static const uint32_t windows_1252[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178,
};

/*
 * Decodes at most CDP_COMPARE_MAX_CHARS code points as the header says: a
 * well-formed UTF-8 sequence is one code point, and any other byte is one
 * on its own, read as Windows-1252.
 */
static size_t
ref_decode(const unsigned char *s, size_t len, uint32_t *out)
{
    size_t i = 0, n = 0;
    while (i < len && n < CDP_COMPARE_MAX_CHARS) {
        size_t k; /* the shortest valid prefix is the sequence */
        for (k = 1; k <= 4 && i + k <= len; k++) {
            if (utf8_reference(s + i, k))
                break;
        }
        if (k <= 4 && i + k <= len) {
            uint32_t cp = k == 1 ? s[i] : (uint32_t)(s[i] & (0x7F >> k));
            for (size_t j = 1; j < k; j++)
                cp = (cp << 6) | (s[i + j] & 0x3F);
            out[n++] = cp;
            i += k;
        } else {
            out[n++] = (s[i] >= 0x80 && s[i] < 0xA0) ? windows_1252[s[i] - 0x80] : s[i];
            i++;
        }
    }
    return n;
}

static int
min3(int x, int y, int z)
{
    int m = x < y ? x : y;
    return m < z ? m : z;
}

/* Full-matrix Levenshtein or OSA distance. */
static int
ref_distance(const uint32_t *a, size_t n, const uint32_t *b, size_t m, bool transpose)
{
    static int d[CDP_COMPARE_MAX_CHARS + 1][CDP_COMPARE_MAX_CHARS + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int v =
                min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]));
            if (transpose && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[n][m];
}

/* ------------------------------------------------------------------------ */
/* Properties                                                               */

static void
check_similarity(const char *a, size_t alen, const char *b, size_t blen)
{
    double j = cdp_compare_jaro(a, alen, b, blen);
    double w = cdp_compare_jaro_winkler(a, alen, b, blen);

    check(j >= 0.0 && j <= 1.0, "jaro in [0, 1]", a, alen, b, blen);
    check(w >= 0.0 && w <= 1.0, "jaro-winkler in [0, 1]", a, alen, b, blen);
    check(w >= j, "jaro-winkler >= jaro", a, alen, b, blen);
    check(j == cdp_compare_jaro(b, blen, a, alen), "jaro symmetric", a, alen, b, blen);
    check(w == cdp_compare_jaro_winkler(b, blen, a, alen), "jaro-winkler symmetric", a, alen, b,
          blen);
    check(cdp_compare_jaro_winkler(a, alen, a, alen) == 1.0, "jaro-winkler(a, a) == 1", a, alen, a,
          alen);

    static const double levels[] = {0.92, 0.88, 0.70};
    int level = cdp_compare_jaro_winkler_level(a, alen, b, blen, levels, 3);
    check(level >= -1 && level <= 4, "jaro-winkler level range", a, alen, b, blen);
    check(level == cdp_compare_jaro_winkler_level(b, blen, a, alen, levels, 3),
          "jaro-winkler level symmetric", a, alen, b, blen);
}

static void
check_distances(const char *a, size_t alen, const char *b, size_t blen, int bound)
{
    uint32_t x[CDP_COMPARE_MAX_CHARS], y[CDP_COMPARE_MAX_CHARS];
    size_t n = ref_decode((const unsigned char *)a, alen, x);
    size_t m = ref_decode((const unsigned char *)b, blen, y);
    int lev = cdp_compare_levenshtein(a, alen, b, blen, -1);
    int osa = cdp_compare_damerau(a, alen, b, blen, -1);
    int longer = (int)(n > m ? n : m);

    check(lev >= 0 && lev <= longer, "levenshtein <= longer length", a, alen, b, blen);
    check(osa >= 0 && osa <= lev, "osa <= levenshtein", a, alen, b, blen);
    check(lev == cdp_compare_levenshtein(b, blen, a, alen, -1), "levenshtein symmetric", a, alen, b,
          blen);
    check(osa == cdp_compare_damerau(b, blen, a, alen, -1), "osa symmetric", a, alen, b, blen);
    check(cdp_compare_levenshtein(a, alen, a, alen, 0) == 0, "levenshtein(a, a) == 0", a, alen, a,
          alen);
    check(cdp_compare_damerau(a, alen, a, alen, 0) == 0, "osa(a, a) == 0", a, alen, a, alen);

    check(lev == ref_distance(x, n, y, m, false), "levenshtein agrees with reference", a, alen, b,
          blen);
    check(osa == ref_distance(x, n, y, m, true), "osa agrees with reference", a, alen, b, blen);

    for (int k = 0; k <= bound; k++) {
        int want = lev <= k ? lev : k + 1;
        check(cdp_compare_levenshtein(a, alen, b, blen, k) == want, "bounded levenshtein", a, alen,
              b, blen);
        want = osa <= k ? osa : k + 1;
        check(cdp_compare_damerau(a, alen, b, blen, k) == want, "bounded osa", a, alen, b, blen);
    }
}

/* Folds into a buffer of exactly cap bytes and checks the output's form. */
static char *
checked_fold(const char *s, size_t len, size_t cap, size_t *outlen)
{
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t n = cdp_compare_fold(s, len, out, cap);
    check(n < cap, "fold fits the buffer", s, len, "", 0);
    check(out[n] == '\0' && strlen(out) == n, "fold NUL-terminated, no NUL inside", s, len, out, n);
    check(utf8_reference((const unsigned char *)out, n), "fold is UTF-8", s, len, out, n);
    check(n == 0 || (out[0] != ' ' && out[n - 1] != ' '), "fold trimmed", s, len, out, n);
    check(strstr(out, "  ") == NULL, "fold has single spaces", s, len, out, n);
    *outlen = n;
    return out;
}

static void
check_fold(const char *s, size_t len, size_t small)
{
    size_t cap = 8 * len + 64; /* more than any fold of len bytes needs */
    size_t n, m, k;
    char *full = checked_fold(s, len, cap, &n);
    if (full == NULL)
        return;

    char *again = checked_fold(full, n, cap, &m);
    if (again != NULL) {
        check(m == n && memcmp(full, again, n) == 0, "fold idempotent", s, len, again, m);
        free(again);
    }

    char *part = checked_fold(s, len, small, &k);
    if (part != NULL) {
        check(k <= n && memcmp(part, full, k) == 0, "short fold is a prefix", s, len, part, k);
        free(part);
    }
    free(full);
}

static void
check_dates(const char *a, size_t alen, const char *b, size_t blen)
{
    int level = cdp_compare_date_level(a, alen, b, blen);
    check(level >= CDP_COMPARE_DATE_NULL && level <= CDP_COMPARE_DATE_EXACT, "date level range", a,
          alen, b, blen);
    check(level == cdp_compare_date_level(b, blen, a, alen), "date level symmetric", a, alen, b,
          blen);
    int self = cdp_compare_date_level(a, alen, a, alen);
    check(self == CDP_COMPARE_DATE_EXACT || self == CDP_COMPARE_DATE_NULL,
          "a date is exact or null against itself", a, alen, a, alen);
    if (level != CDP_COMPARE_DATE_NULL)
        check(self == CDP_COMPARE_DATE_EXACT, "a comparable date is valid", a, alen, b, blen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int bound = data[0] % 6;         /* distance bounds 0..bound are tried */
    size_t small = 1 + data[1] % 24; /* a short fold buffer */
    size_t rest = size - 3;
    size_t split = rest == 0 ? 0 : data[2] % (rest + 1);

    /* Exact copies, so that a read past either end is caught. */
    char *a = malloc(split ? split : 1);
    char *b = malloc(rest - split ? rest - split : 1);
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return 0;
    }
    size_t alen = split, blen = rest - split;
    memcpy(a, data + 3, alen);
    memcpy(b, data + 3 + alen, blen);

    check_similarity(a, alen, b, blen);
    check_distances(a, alen, b, blen, bound);
    check_fold(a, alen, small);
    check_fold(b, blen, small);
    check_dates(a, alen, b, blen);

    /* The comparisons of the folded forms, as a matcher would run them. */
    size_t fa, fb;
    char *x = checked_fold(a, alen, 4 * CDP_COMPARE_MAX_CHARS + 1, &fa);
    char *y = checked_fold(b, blen, 4 * CDP_COMPARE_MAX_CHARS + 1, &fb);
    if (x != NULL && y != NULL) {
        check_similarity(x, fa, y, fb);
        check_distances(x, fa, y, fb, bound);
    }
    free(x);
    free(y);
    free(a);
    free(b);
    return 0;
}
