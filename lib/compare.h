/*
 * compare.h - field comparators for probabilistic record linkage: name
 * folding, Jaro and Jaro-Winkler similarity, bounded Levenshtein and
 * Damerau (optimal string alignment) distances, and agreement levels for
 * dates of birth.
 *
 * These are the comparisons of a Fellegi-Sunter model as Splink builds it:
 * each field of a record pair is reduced to a small agreement level (exact,
 * close, somewhat close, different, or null), and the model weighs the
 * levels.  The functions here compute the similarities and the levels; the
 * weights are the caller's business.
 *
 * They are written for the inner loop of a matcher, which runs several of
 * them on every candidate pair: none allocates memory, takes a lock or keeps
 * state between calls, so they are safe to call from several threads.  The
 * string comparators work on Unicode code points (an "é" is one character,
 * not two bytes) and read at most CDP_COMPARE_MAX_CHARS of them from each
 * string: longer strings are compared on that prefix.  Pure ASCII input is
 * read without decoding.
 *
 * Inputs are byte ranges (pointer and length) and need not be
 * NUL-terminated; a NULL pointer is accepted with a length of 0.  Text
 * should be UTF-8.  A byte that does not begin a well-formed UTF-8 sequence
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) is
 * read on its own as a Windows-1252 character, so that a stray Latin-1 or
 * Windows-1252 export ("Andr\xE9") compares equal to its UTF-8 form
 * ("André").  The five bytes Windows-1252 leaves undefined (0x81, 0x8D,
 * 0x8F, 0x90, 0x9D) read as the C1 controls of the same value.
 *
 * The comparators do not fold case or accents themselves: fold each value
 * once per record with cdp_compare_fold() and compare the folded forms.
 *
 * A typical name comparison, with Splink's default thresholds:
 *
 *     static const double jw_levels[] = {0.92, 0.88, 0.70};
 *     char a[256], b[256];
 *     size_t alen = cdp_compare_fold(first_a, strlen(first_a), a, sizeof a);
 *     size_t blen = cdp_compare_fold(first_b, strlen(first_b), b, sizeof b);
 *     int level = cdp_compare_jaro_winkler_level(a, alen, b, blen, jw_levels, 3);
 *     // -1 null, 4 exact, 3 >= 0.92, 2 >= 0.88, 1 >= 0.70, 0 different
 */
#ifndef CDP_COMPARE_H
#define CDP_COMPARE_H

#include <stddef.h>

/* Code points read from each string by the comparators; the rest is ignored. */
#define CDP_COMPARE_MAX_CHARS 256

/*
 * The Winkler prefix adjustment: the length of the common prefix, up to
 * CDP_COMPARE_WINKLER_PREFIX code points, times CDP_COMPARE_WINKLER_SCALE,
 * closes that share of the gap between the Jaro similarity and 1.  It is
 * made only when the Jaro similarity is above CDP_COMPARE_WINKLER_THRESHOLD,
 * as in Winkler (1990) and in the implementations Splink and its users rely
 * on (DuckDB's jaro_winkler_similarity, rapidfuzz, jellyfish).
 */
#define CDP_COMPARE_WINKLER_SCALE 0.1
#define CDP_COMPARE_WINKLER_PREFIX 4
#define CDP_COMPARE_WINKLER_THRESHOLD 0.7

/* ------------------------------------------------------------------------ */
/* Folding                                                                  */

/*
 * Folds a name, street or city for comparison, writing the result into out
 * (cap bytes, owned by the caller) and returning its length in bytes.  The
 * steps, per code point:
 *
 *   - compatibility decomposition (NFKD) and full Unicode case folding, so
 *     that "Ｊｏｈｎ" (full width) gives "john", "ﬁ" gives "fi", "ß" and "ẞ"
 *     give "ss" and "™" gives "tm";
 *   - every combining mark is dropped, which removes the accents ("Inès
 *     ANDRÉ" gives "ines andre", "İ" gives "i").  This is done in every
 *     script alike: it also merges Cyrillic "й" with "и" and Japanese "ガ"
 *     with "カ", and removes the vowel signs of Indic scripts.  Both sides of
 *     a comparison lose the same marks, which is what matters for matching;
 *   - the Latin letters that NFKD leaves alone because their diacritic is
 *     part of the letter are spelt out in ASCII: "ø" gives "o" (so "Søren"
 *     matches "Soren"), "ł" "l", "đ" and "ð" "d", "ħ" "h", "ı" "i", "ŧ" "t",
 *     "æ" "ae", "œ" "oe" and "þ" "th" (their capitals are folded first);
 *   - default-ignorable code points (soft hyphen, zero-width space and
 *     joiners, byte order mark) are dropped without leaving a gap;
 *   - letters and numbers are kept; everything else (white space,
 *     punctuation such as hyphens, apostrophes, dots and commas, symbols,
 *     controls, unassigned code points, and the spacing modifier letters
 *     U+02B0..U+02FF such as "ʼ" and "ˆ") separates words: "O'Brien-Smith"
 *     gives "o brien smith";
 *   - runs of separators become one ASCII space, and none is left at either
 *     end.
 *
 * Invalid UTF-8 is read as Windows-1252 (see above), so "Andr\xE9" folds to
 * "andre"; the output is always valid UTF-8, never holds a NUL byte, and
 * folding it again gives it back unchanged.  ASCII input is folded without
 * the Unicode tables: ASCII letters are lowered, digits kept, and every
 * other ASCII byte separates words.
 *
 * out is always NUL-terminated when cap > 0 (the terminator is not counted
 * in the result); with cap == 0 nothing is written, out may be NULL, and
 * the result is 0.  When the folded text does not fit in cap - 1 bytes it
 * is cut at the last whole code point that fits (and a space it would end
 * on is dropped), so the result is always a prefix of the full fold; the
 * caller cannot tell that this happened, which is harmless for a comparison
 * key.  The fold can be longer than the input (U+FDFA, three bytes, folds
 * to 33), though names rarely grow: a buffer of 4 * CDP_COMPARE_MAX_CHARS
 * + 1 bytes holds everything the comparators will read.
 */
size_t cdp_compare_fold(const char *s, size_t len, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Similarities                                                             */

/*
 * Returns the Jaro similarity of a and b, in [0, 1]: with m the number of
 * matching code points (equal, and no further apart than half the longer
 * length, minus one) and t half the number of matched code points that come
 * in a different order,
 *
 *     jaro = (m / |a| + m / |b| + (m - t) / m) / 3,
 *
 * and 0 when m == 0.  CRATE and TRACE give 0.7333; JELLYFISH and SMELLYFISH
 * 0.8963.  The result is symmetric in a and b.  Two empty strings give 1
 * (they are identical); an empty and a non-empty string give 0.  A caller
 * that treats empty values as null should test for them first, as
 * cdp_compare_jaro_winkler_level() does.
 */
double cdp_compare_jaro(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Returns the Jaro-Winkler similarity of a and b, in [0, 1]: the Jaro
 * similarity j, raised to j + l * 0.1 * (1 - j) when j > 0.7, where l is
 * the length of the common prefix in code points, at most 4 (see
 * CDP_COMPARE_WINKLER_*).  MARTHA and MARHTA give 0.9611, DWAYNE and DUANE
 * 0.84, DIXON and DICKSONX 0.8133: the values of Winkler's papers, DuckDB
 * (which Splink uses) and jellyfish, whose results this function reproduces
 * exactly.  Below the threshold the prefix is ignored: "abcdwxyz" and
 * "abcdpqrs" have a Jaro similarity of 0.6667 and keep it.  Symmetric; empty
 * strings as for cdp_compare_jaro().
 */
double cdp_compare_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen);

/* ------------------------------------------------------------------------ */
/* Edit distances                                                           */

/*
 * Returns the Levenshtein distance between a and b in code points: the least
 * number of insertions, deletions and substitutions that turn one into the
 * other ("kitten", "sitting" -> 3; "flaw", "lawn" -> 2; "", "abc" -> 3).
 *
 * max bounds the work: when the distance is greater than max the function
 * returns max + 1 as soon as that is certain, having looked only at the
 * cells of the dynamic programme within max of the diagonal, so a bound of
 * 1 or 2 (the usual "one typo" question) costs O(max * length) rather than
 * O(length^2).  A negative max asks for the exact distance, however large.
 * Symmetric in a and b.
 */
int cdp_compare_levenshtein(const char *a, size_t alen, const char *b, size_t blen, int max);

/*
 * Returns the optimal string alignment distance between a and b in code
 * points: Levenshtein's edits plus the transposition of two adjacent code
 * points, counted as one edit ("2119", "2191" -> 1; "ab", "ba" -> 1).  No
 * substring is edited twice, so "ca" and "abc" are 3 apart, not 2 as in the
 * unrestricted Damerau-Levenshtein distance; this is the distance Splink's
 * damerau_levenshtein levels compute.  max as for cdp_compare_levenshtein().
 */
int cdp_compare_damerau(const char *a, size_t alen, const char *b, size_t blen, int max);

/* ------------------------------------------------------------------------ */
/* Levels                                                                   */

/*
 * Agreement levels of two dates; a higher value means closer agreement, and
 * the values are those of Splink's comparison vectors (-1 for null, 0 for
 * the lowest level).  Each pair gets the highest level whose test it meets.
 */
enum cdp_compare_date_level {
    CDP_COMPARE_DATE_NULL = -1,     /* either date is missing or not a valid date */
    CDP_COMPARE_DATE_DIFFERENT = 0, /* more than 366 days apart, and not one edit */
    CDP_COMPARE_DATE_YEAR = 1,      /* at most 366 days apart */
    CDP_COMPARE_DATE_MONTH = 2,     /* at most 31 days apart */
    CDP_COMPARE_DATE_ONE_EDIT = 3,  /* the eight digits are one substitution or one
                                       transposition of adjacent digits apart */
    CDP_COMPARE_DATE_EXACT = 4,     /* the same day */
};

/*
 * Compares two dates written YYYYMMDD or YYYY-MM-DD (ASCII white space
 * around them is ignored; the two may use different forms) and returns
 * their enum cdp_compare_date_level.  A date must exist in the proleptic
 * Gregorian calendar, in the years 0001 to 9999: "2024-02-29" does,
 * "2023-02-29", "2024-13-01", "0000-00-00", "" and "12/03/1985" do not, and
 * make the result CDP_COMPARE_DATE_NULL.  The one-edit test looks at the
 * digits only, so "19850312" and "19850321" (a typo in the day) or
 * "19580312" (in the year) are CDP_COMPARE_DATE_ONE_EDIT, while day and
 * month swapped ("1985-12-03") are not; the day counts are exact, across
 * month ends, leap days and years.
 */
int cdp_compare_date_level(const char *a, size_t alen, const char *b, size_t blen);

/*
 * The Splink name comparison on two folded values: returns -1 (null) when
 * either is empty, n + 1 when they are the same bytes, and otherwise the
 * number of thresholds[0..n) their Jaro-Winkler similarity reaches (is at
 * least).  With the thresholds in decreasing order, as Splink writes them
 * ({0.92, 0.88, 0.70}), the result grows with agreement: 0 below the
 * last, n at or above the first.  thresholds may be NULL when n == 0.
 */
int cdp_compare_jaro_winkler_level(const char *a, size_t alen, const char *b, size_t blen,
                                   const double *thresholds, size_t n);

#endif
