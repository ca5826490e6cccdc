/*
 * test_compare.c - unit tests for lib/compare.c.
 *
 * The Jaro and Jaro-Winkler values are the published ones: Winkler's
 * examples (MARTHA/MARHTA, DWAYNE/DUANE, DIXON/DICKSONX), the test table of
 * the jellyfish package, and fractions worked out by hand where the
 * comment shows them.  Edit distances are the textbook examples; the OSA
 * case "ca"/"abc" is the one that tells it from the unrestricted
 * Damerau-Levenshtein distance.
 */
#include "compare.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

/* Jaro-Winkler values quoted to 3 decimals are checked to within half a unit. */
#define CHECK_3DP(got, want) CHECK_NEAR(got, want, 0.0005)

/* Exact fractions are checked to rounding error. */
#define CHECK_EXACT(got, want) CHECK_NEAR(got, want, 1e-12)

static double
jaro(const char *a, const char *b)
{
    return cdp_compare_jaro(a, strlen(a), b, strlen(b));
}

static double
jw(const char *a, const char *b)
{
    return cdp_compare_jaro_winkler(a, strlen(a), b, strlen(b));
}

static int
lev(const char *a, const char *b, int max)
{
    return cdp_compare_levenshtein(a, strlen(a), b, strlen(b), max);
}

static int
osa(const char *a, const char *b, int max)
{
    return cdp_compare_damerau(a, strlen(a), b, strlen(b), max);
}

static int
date(const char *a, const char *b)
{
    return cdp_compare_date_level(a, strlen(a), b, strlen(b));
}

/* Folds s into a buffer of cap bytes (at most 512) and returns it. */
static char fold_buf[512];

static const char *
fold_cap(const char *s, size_t len, size_t cap)
{
    memset(fold_buf, 'X', sizeof fold_buf);
    size_t n = cdp_compare_fold(s, len, fold_buf, cap);
    if (n != strlen(fold_buf)) {
        return "(length returned differs from the string)";
    }
    return fold_buf;
}

static const char *
fold(const char *s)
{
    return fold_cap(s, strlen(s), sizeof fold_buf);
}

/* ------------------------------------------------------------------------ */
/* Folding                                                                  */

static void
test_fold_ascii(void)
{
    CHECK_STR(fold("John"), "john");
    CHECK_STR(fold("O'Brien-Smith"), "o brien smith");
    CHECK_STR(fold("  St. John,  Jr.  "), "st john jr");
    CHECK_STR(fold("MARY\tANN\r\nLEE"), "mary ann lee");
    CHECK_STR(fold("12 Rue de la Paix"), "12 rue de la paix");
    CHECK_STR(fold("A&B/C_D+E"), "a b c d e");
    CHECK_STR(fold(""), "");
    CHECK_STR(fold("-- . , ' --"), "");
    CHECK_STR(fold_cap("ab\0cd", 5, sizeof fold_buf), "ab cd");
    CHECK_INT(cdp_compare_fold(NULL, 0, fold_buf, sizeof fold_buf), 0);
    CHECK_STR(fold_buf, "");
}

static void
test_fold_unicode(void)
{
    /* Accents go; case folds. */
    CHECK_STR(fold("Inès ANDRÉ"), "ines andre");
    CHECK_STR(fold("Lefèbvre"), "lefebvre");
    CHECK_STR(fold("José"), "jose");
    CHECK_STR(fold("Ñúñez Çelik"), "nunez celik");
    CHECK_STR(fold("Żółć"), "zolc");
    CHECK_STR(fold("İstanbul"), "istanbul");
    /* The same accent written as a combining mark (e + U+0301). */
    CHECK_STR(fold("Jose\xcc\x81"), "jose");

    /* ß and capital ẞ fold to "ss" (full case folding). */
    CHECK_STR(fold("Straße"), "strasse");
    CHECK_STR(fold("STRAẞE"), "strasse");

    /* Letters NFKD leaves alone are spelt out. */
    CHECK_STR(fold("Søren ØSTERGÅRD"), "soren ostergard");
    CHECK_STR(fold("Łukasz"), "lukasz");
    CHECK_STR(fold("Đorđe"), "dorde");
    CHECK_STR(fold("Æsa Œuvre"), "aesa oeuvre");
    CHECK_STR(fold("Þór"), "thor");

    /* Compatibility forms: full width, ligatures, superscripts. */
    CHECK_STR(fold("  Ｊｏｈｎ  "), "john");
    CHECK_STR(fold("Ｊｏｈｎ　Ｓｍｉｔｈ"), "john smith"); /* ideographic space */
    CHECK_STR(fold("ﬁnn"), "finn");
    CHECK_STR(fold("１２３"), "123");
    CHECK_STR(fold("x²"), "x2");

    /* Unicode punctuation and spaces separate words. */
    CHECK_STR(fold("O’Brien"), "o brien");
    CHECK_STR(fold("Jean–Luc"), "jean luc");
    CHECK_STR(fold("Oʼbrien"), "o brien");              /* U+02BC, a spacing modifier letter */
    CHECK_STR(fold("Anne\xc2\xa0Marie"), "anne marie"); /* no-break space */
    /* Soft hyphen and zero-width space vanish without a gap (octal escapes
       where a letter follows the bytes). */
    CHECK_STR(fold("Ann\302\255a"), "anna");
    CHECK_STR(fold("Ma\xe2\x80\x8brie"), "marie");

    /* Other scripts keep their letters, lower-cased, without marks. */
    CHECK_STR(fold("Дмитрий"), "дмитрии");
    CHECK_STR(fold("ΑΛΈΞΗΣ"), "αλεξησ"); /* final sigma folds to sigma */
    CHECK_STR(fold("王小明"), "王小明");
}

static void
test_fold_invalid(void)
{
    /* Invalid UTF-8 is read as Windows-1252 (octal escapes where a letter
       follows the bytes). */
    CHECK_STR(fold("Andr\xe9"), "andre");
    CHECK_STR(fold("\212erban"), "serban");       /* 0x8A is Š */
    CHECK_STR(fold("Du\232an"), "dusan");         /* 0x9A is š */
    CHECK_STR(fold("O\222Brien"), "o brien");     /* 0x92 is ’ */
    CHECK_STR(fold("\xff"), "y");                 /* ÿ */
    CHECK_STR(fold("\x80"), "");                  /* € is a symbol */
    CHECK_STR(fold("a\xc3"), "aa");               /* truncated sequence: Ã */
    CHECK_STR(fold("\300\257b"), "a b");          /* overlong '/': À, then ¯ */
    CHECK_STR(fold("\xed\xa0\x80x"), "i x");      /* a surrogate: í, NBSP, € */
    CHECK_STR(fold("\xf8\x88\x80\x80\x80"), "o"); /* five-byte form: ø, ˆ, then € */
    /* The Windows-1252 and UTF-8 spellings fold alike. */
    char a[64], b[64];
    size_t alen = cdp_compare_fold("Ren\xe9", 4, a, sizeof a);
    size_t blen = cdp_compare_fold("René", strlen("René"), b, sizeof b);
    CHECK(alen == blen && memcmp(a, b, alen) == 0);
}

static void
test_fold_truncation(void)
{
    const char *jp = "Jean-Pierre";

    CHECK_STR(fold_cap(jp, strlen(jp), 5), "jean");
    CHECK_STR(fold_cap(jp, strlen(jp), 6), "jean"); /* no trailing space */
    CHECK_STR(fold_cap(jp, strlen(jp), 7), "jean p");
    CHECK_STR(fold_cap(jp, strlen(jp), 1), "");
    CHECK_STR(fold_cap(jp, strlen(jp), 12), "jean pierre");
    /* Cut at a code point boundary: α and β are two bytes each. */
    CHECK_STR(fold_cap("ΑΒΓ", strlen("ΑΒΓ"), 4), "α");
    CHECK_STR(fold_cap("ΑΒΓ", strlen("ΑΒΓ"), 5), "αβ");
    /* cap == 0 writes nothing, and out may be NULL. */
    fold_buf[0] = 'X';
    CHECK_INT(cdp_compare_fold("abc", 3, fold_buf, 0), 0);
    CHECK(fold_buf[0] == 'X');
    CHECK_INT(cdp_compare_fold("abc", 3, NULL, 0), 0);
}

static void
test_fold_idempotent(void)
{
    static const char *const names[] = {
        "Inès ANDRÉ", "O'Brien-Smith", "Straße",   "Søren", "ﬁnn ﬂo",
        "Ｊｏｈｎ",   "\xff\xfe\x80",  "ǅemal",    "ŉ",     "℡ №",
        "Дмитрий",    "김민준",        "ガッコウ",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char once[256], twice[256];
        size_t n = cdp_compare_fold(names[i], strlen(names[i]), once, sizeof once);
        size_t m = cdp_compare_fold(once, n, twice, sizeof twice);
        CHECK(n == m && strcmp(once, twice) == 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Jaro and Jaro-Winkler                                                    */

static void
test_jaro(void)
{
    CHECK_EXACT(jaro("MARTHA", "MARHTA"), 17.0 / 18);  /* m 6, t 1 */
    CHECK_EXACT(jaro("DWAYNE", "DUANE"), 37.0 / 45);   /* m 4, t 0 */
    CHECK_EXACT(jaro("DIXON", "DICKSONX"), 23.0 / 30); /* m 4, t 0 */
    CHECK_EXACT(jaro("CRATE", "TRACE"), 11.0 / 15);    /* 0.7333 */
    CHECK_3DP(jaro("JELLYFISH", "SMELLYFISH"), 0.896);
    CHECK_EXACT(jaro("abc", "abc"), 1.0);
    CHECK_EXACT(jaro("abc", "xyz"), 0.0);
    CHECK_EXACT(jaro("", ""), 1.0);
    CHECK_EXACT(jaro("", "abc"), 0.0);
    CHECK_EXACT(jaro("abc", ""), 0.0);
    CHECK_EXACT(cdp_compare_jaro(NULL, 0, NULL, 0), 1.0);
    /* One shared letter out of the search range does not match. */
    CHECK_EXACT(jaro("abcd", "xyza"), 0.0);
}

static void
test_jaro_winkler(void)
{
    CHECK_3DP(jw("MARTHA", "MARHTA"), 0.961);
    CHECK_3DP(jw("DIXON", "DICKSONX"), 0.813);
    CHECK_3DP(jw("DWAYNE", "DUANE"), 0.840);
    CHECK_EXACT(jw("MARTHA", "MARHTA"), 17.0 / 18 + 0.3 * (1.0 / 18));
    CHECK_3DP(jw("JELLYFISH", "SMELLYFISH"), 0.896); /* no common prefix */
    CHECK_EXACT(jw("martha", "martha"), 1.0);
    CHECK_EXACT(jw("abc", "xyz"), 0.0);
    CHECK_EXACT(jw("", ""), 1.0);
    CHECK_EXACT(jw("", "foo"), 0.0);

    /* The rest of jellyfish's table. */
    CHECK_3DP(jw("William", "Williams"), 0.975);
    CHECK_3DP(jw("aaaa", "aaaaa"), 0.96);
    CHECK_3DP(jw("orangutan-kumquat", "orangutan kumquat"), 0.976);
    CHECK_3DP(jw("jaz", "jal"), 0.822);
    CHECK_3DP(jw("@", "@@"), 0.85);
    CHECK_3DP(jw("a", "ab"), 0.85);
    CHECK_3DP(jw("012345", "0123456"), 0.971);
    CHECK_3DP(jw("012abc", "013abcd"), 0.879);
    CHECK_3DP(jw("a1bc", "a1be"), 0.883);

    /* The prefix counts at most 4 code points. */
    CHECK_EXACT(jw("abcdefgh", "abcdefgx"), 11.0 / 12 + 0.4 * (1.0 / 12));
    /* No prefix boost when Jaro is 0.7 or less: here 2/3 with a prefix of 4. */
    CHECK_EXACT(jaro("abcdwxyz", "abcdpqrs"), 2.0 / 3);
    CHECK_EXACT(jw("abcdwxyz", "abcdpqrs"), 2.0 / 3);
}

static void
test_jaro_codepoints(void)
{
    /* "é" is one code point: 3 matches out of 4 each side. */
    CHECK_EXACT(jaro("josé", "jose"), 5.0 / 6);
    CHECK_EXACT(jw("josé", "jose"), 5.0 / 6 + 0.3 * (1.0 / 6));
    CHECK_EXACT(jaro("Müller", "Muller"), 8.0 / 9);

    /* After folding they are equal. */
    char a[64], b[64];
    size_t alen = cdp_compare_fold("José", strlen("José"), a, sizeof a);
    size_t blen = cdp_compare_fold("JOSE", 4, b, sizeof b);
    CHECK_EXACT(cdp_compare_jaro_winkler(a, alen, b, blen), 1.0);

    /* Windows-1252 bytes read as the same code points as their UTF-8. */
    CHECK_EXACT(cdp_compare_jaro("Andr\xe9", 5, "André", strlen("André")), 1.0);

    /* Only the first CDP_COMPARE_MAX_CHARS code points are compared. */
    char x[300], y[300];
    memset(x, 'a', sizeof x);
    memcpy(y, x, sizeof y);
    y[299] = 'b';
    CHECK_EXACT(cdp_compare_jaro_winkler(x, sizeof x, y, sizeof y), 1.0);
    y[10] = 'b';
    CHECK(cdp_compare_jaro_winkler(x, sizeof x, y, sizeof y) < 1.0);
}

static void
test_jaro_symmetry(void)
{
    static const char *const pairs[][2] = {
        {"MARTHA", "MARHTA"},
        {"DIXON", "DICKSONX"},
        {"DWAYNE", "DUANE"},
        {"JELLYFISH", "SMELLYFISH"},
        {"CRATE", "TRACE"},
        {"abcab", "bacba"},
        {"aabbaa", "ababab"},
        {"jon", "john"},
        {"", "x"},
        {"josé", "jose"},
        {"catherine", "kathryn"},
        {"abcdefghij", "jihgfedcba"},
        {"aaab", "baaa"},
        {"ababababab", "bababababa"},
        {"xyxyxzzzyx", "yxyzzxyxxy"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *a = pairs[i][0], *b = pairs[i][1];
        CHECK(jw(a, b) == jw(b, a));
        CHECK(jaro(a, b) == jaro(b, a));
    }
}

/* ------------------------------------------------------------------------ */
/* Edit distances                                                           */

static void
test_levenshtein(void)
{
    CHECK_INT(lev("kitten", "sitting", -1), 3);
    CHECK_INT(lev("sitting", "kitten", -1), 3);
    CHECK_INT(lev("flaw", "lawn", -1), 2);
    CHECK_INT(lev("", "", -1), 0);
    CHECK_INT(lev("", "abc", -1), 3);
    CHECK_INT(lev("abc", "", -1), 3);
    CHECK_INT(lev("abc", "abc", 0), 0);
    CHECK_INT(lev("2119", "2191", -1), 2);
    CHECK_INT(lev("ca", "abc", -1), 3);
    CHECK_INT(lev("saturday", "sunday", -1), 3);
    CHECK_INT(cdp_compare_levenshtein(NULL, 0, "ab", 2, -1), 2);

    /* Bounded: max + 1 once the distance is known to exceed max. */
    CHECK_INT(lev("kitten", "sitting", 3), 3);
    CHECK_INT(lev("kitten", "sitting", 2), 3);
    CHECK_INT(lev("kitten", "sitting", 1), 2);
    CHECK_INT(lev("kitten", "sitting", 0), 1);
    CHECK_INT(lev("kitten", "sitting", 100), 3);
    CHECK_INT(lev("", "abc", 1), 2);
    CHECK_INT(lev("abcdef", "ghijkl", 2), 3);
    CHECK_INT(lev("abcdef", "abcdef", 0), 0);
    CHECK_INT(lev("abcdefghij", "abcdxfghij", 1), 1);

    /* Code points, not bytes. */
    CHECK_INT(lev("café", "cafe", -1), 1);
    CHECK_INT(lev("naïve", "naive", 1), 1);
    CHECK_INT(lev("Дмитрий", "Дмитри", -1), 1);
}

static void
test_damerau(void)
{
    CHECK_INT(osa("2119", "2191", -1), 1);
    CHECK_INT(osa("2119", "2191", 1), 1);
    CHECK_INT(osa("ab", "ba", -1), 1);
    CHECK_INT(osa("teh", "the", -1), 1);
    CHECK_INT(osa("ca", "abc", -1), 3); /* unrestricted Damerau-Levenshtein gives 2 */
    CHECK_INT(osa("abc", "ca", -1), 3);
    CHECK_INT(osa("kitten", "sitting", -1), 3);
    CHECK_INT(osa("abcdef", "badcfe", -1), 3);
    CHECK_INT(osa("abcdef", "badcfe", 2), 3);
    CHECK_INT(osa("", "", -1), 0);
    CHECK_INT(osa("", "ab", -1), 2);
    CHECK_INT(osa("19850312", "19850321", 1), 1);
    CHECK_INT(osa("19850312", "19851203", 1), 2);
    CHECK_INT(osa("josé", "jsoé", -1), 1);
}

/* ------------------------------------------------------------------------ */
/* Dates                                                                    */

static void
test_date_levels(void)
{
    /* Exact, in either form, white space ignored. */
    CHECK_INT(date("19850312", "19850312"), CDP_COMPARE_DATE_EXACT);
    CHECK_INT(date("19850312", "1985-03-12"), CDP_COMPARE_DATE_EXACT);
    CHECK_INT(date(" 1985-03-12\n", "1985-03-12"), CDP_COMPARE_DATE_EXACT);

    /* One edit on the digits: a typo or two adjacent digits swapped. */
    CHECK_INT(date("19850312", "19850321"), CDP_COMPARE_DATE_ONE_EDIT);
    CHECK_INT(date("19850312", "19850313"), CDP_COMPARE_DATE_ONE_EDIT);
    CHECK_INT(date("1985-03-12", "1958-03-12"), CDP_COMPARE_DATE_ONE_EDIT);
    CHECK_INT(date("1985-03-12", "1995-03-12"), CDP_COMPARE_DATE_ONE_EDIT); /* 10 years */
    CHECK_INT(date("2024-01-15", "2024-02-15"), CDP_COMPARE_DATE_ONE_EDIT);
    CHECK_INT(date("2000-02-29", "2000-02-28"), CDP_COMPARE_DATE_ONE_EDIT); /* 2000 is leap */

    /* Within 31 days, across month and year ends and leap days. */
    CHECK_INT(date("2024-02-28", "2024-03-01"), CDP_COMPARE_DATE_MONTH);
    CHECK_INT(date("2023-12-31", "2024-01-01"), CDP_COMPARE_DATE_MONTH);
    CHECK_INT(date("2024-01-31", "2024-03-02"), CDP_COMPARE_DATE_MONTH); /* 31 days */
    CHECK_INT(date("2024-01-31", "2024-03-03"), CDP_COMPARE_DATE_YEAR);  /* 32 days */
    CHECK_INT(date("2023-01-31", "2023-03-03"), CDP_COMPARE_DATE_MONTH); /* 31 days */
    CHECK_INT(date("2023-01-31", "2023-03-04"), CDP_COMPARE_DATE_YEAR);  /* 32 days */

    /* Within 366 days. */
    CHECK_INT(date("2023-02-28", "2024-02-29"), CDP_COMPARE_DATE_YEAR);      /* 366 */
    CHECK_INT(date("2023-02-28", "2024-03-01"), CDP_COMPARE_DATE_DIFFERENT); /* 367 */
    CHECK_INT(date("2024-02-29", "2025-03-01"), CDP_COMPARE_DATE_YEAR);      /* 366 */
    CHECK_INT(date("2024-02-29", "2025-03-02"), CDP_COMPARE_DATE_DIFFERENT); /* 367 */
    CHECK_INT(date("2021-06-15", "2022-06-16"), CDP_COMPARE_DATE_YEAR);      /* 366 */
    CHECK_INT(date("2021-06-15", "2022-06-17"), CDP_COMPARE_DATE_DIFFERENT); /* 367 */
    CHECK_INT(date("1985-03-12", "1985-12-03"), CDP_COMPARE_DATE_YEAR); /* day and month swapped */

    /* Different. */
    CHECK_INT(date("1985-03-12", "1990-07-01"), CDP_COMPARE_DATE_DIFFERENT);
    CHECK_INT(date("0001-01-01", "9999-12-31"), CDP_COMPARE_DATE_DIFFERENT);

    /* Missing or invalid. */
    CHECK_INT(date("", "1985-03-12"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("1985-03-12", "   "), CDP_COMPARE_DATE_NULL);
    CHECK_INT(cdp_compare_date_level(NULL, 0, "19850312", 8), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("2023-02-29", "2023-02-28"), CDP_COMPARE_DATE_NULL); /* not a leap year */
    CHECK_INT(date("1900-02-29", "1900-02-28"), CDP_COMPARE_DATE_NULL); /* nor is 1900 */
    CHECK_INT(date("2024-04-31", "2024-04-30"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("2024-13-01", "2024-12-01"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("2024-00-10", "2024-01-10"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("2024-01-00", "2024-01-01"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("0000-00-00", "0000-00-00"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("00000000", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("1985/03/12", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("1985-3-12", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("1985-0312", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("198503120", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("1985-03-12T00:00", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("1985 03 12", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("abcdefgh", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(date("+1985031", "19850312"), CDP_COMPARE_DATE_NULL);
    CHECK_INT(cdp_compare_date_level("19850312\0", 9, "19850312", 8), CDP_COMPARE_DATE_NULL);

    /* The levels are ordered by agreement. */
    CHECK(CDP_COMPARE_DATE_NULL < CDP_COMPARE_DATE_DIFFERENT &&
          CDP_COMPARE_DATE_DIFFERENT < CDP_COMPARE_DATE_YEAR &&
          CDP_COMPARE_DATE_YEAR < CDP_COMPARE_DATE_MONTH &&
          CDP_COMPARE_DATE_MONTH < CDP_COMPARE_DATE_ONE_EDIT &&
          CDP_COMPARE_DATE_ONE_EDIT < CDP_COMPARE_DATE_EXACT);
}

/* ------------------------------------------------------------------------ */
/* Levels                                                                   */

static int
jw_level(const char *a, const char *b)
{
    static const double splink[] = {0.92, 0.88, 0.70};
    return cdp_compare_jaro_winkler_level(a, strlen(a), b, strlen(b), splink, 3);
}

static void
test_jaro_winkler_level(void)
{
    CHECK_INT(jw_level("", "martha"), -1);
    CHECK_INT(jw_level("martha", ""), -1);
    CHECK_INT(jw_level("", ""), -1);
    CHECK_INT(jw_level("martha", "martha"), 4);
    CHECK_INT(jw_level("martha", "marhta"), 3);        /* 0.961 */
    CHECK_INT(jw_level("jellyfish", "smellyfish"), 2); /* 0.896 */
    CHECK_INT(jw_level("dwayne", "duane"), 1);         /* 0.840 */
    CHECK_INT(jw_level("dixon", "dicksonx"), 1);       /* 0.813 */
    CHECK_INT(jw_level("abc", "xyz"), 0);
    /* A threshold is reached when the score equals it. */
    static const double exactly[] = {17.0 / 18 + 0.3 * (1.0 / 18)};
    CHECK_INT(cdp_compare_jaro_winkler_level("martha", 6, "marhta", 6, exactly, 1), 1);
    /* No thresholds: null, different or exact. */
    CHECK_INT(cdp_compare_jaro_winkler_level("ab", 2, "ac", 2, NULL, 0), 0);
    CHECK_INT(cdp_compare_jaro_winkler_level("ab", 2, "ab", 2, NULL, 0), 1);
}

int
main(void)
{
    test_fold_ascii();
    test_fold_unicode();
    test_fold_invalid();
    test_fold_truncation();
    test_fold_idempotent();
    test_jaro();
    test_jaro_winkler();
    test_jaro_codepoints();
    test_jaro_symmetry();
    test_levenshtein();
    test_damerau();
    test_date_levels();
    test_jaro_winkler_level();
    return check_summary("test_compare");
}
