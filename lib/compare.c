/*
 * compare.c - field comparators for record linkage: folding, Jaro and
 * Jaro-Winkler, bounded Levenshtein and optimal string alignment distances,
 * date agreement levels.
 *
 * Everything works in fixed buffers on the stack.  The Unicode tables
 * (utf8proc) are only consulted by cdp_compare_fold(), and only for code
 * points outside ASCII.
 */
#include "compare.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Windows-1252 for the bytes 0x80..0x9F; the five it leaves undefined keep
 * their Latin-1 value (a C1 control).  From 0xA0 up Windows-1252 is Latin-1.
 */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static uint32_t
cp1252(unsigned char c)
{
    return (c >= 0x80 && c < 0xA0) ? cp1252_high[c - 0x80] : c;
}

/*
 * Reads the code point that starts at p[0] (n >= 1 bytes available) into
 * *cp and returns its length in bytes.  A byte that does not start a
 * well-formed sequence (RFC 3629) is read alone, as Windows-1252.
 */
static size_t
decode_one(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c < 0xE0) {
        if (n >= 2 && (p[1] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x1F) << 6) | (p[1] & 0x3F);
            return 2;
        }
    } else if (c >= 0xE0 && c < 0xF0) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80; /* below: overlong */
        unsigned char hi = c == 0xED ? 0x9F : 0xBF; /* above: surrogates */
        if (n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            return 3;
        }
    } else if (c >= 0xF0 && c < 0xF5) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80; /* below: overlong */
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF; /* above: beyond U+10FFFF */
        if (n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
                  ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
            return 4;
        }
    }
    *cp = cp1252(c);
    return 1;
}

/*
 * Decodes s[0..len) into out[], at most CDP_COMPARE_MAX_CHARS code points,
 * and returns how many it stored.  ASCII is copied a byte at a time without
 * going through the decoder.
 */
static size_t
decode(const char *s, size_t len, uint32_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = 0;

    while (i < len && n < CDP_COMPARE_MAX_CHARS) {
        if (p[i] < 0x80) {
            out[n++] = p[i++];
        } else {
            i += decode_one(p + i, len - i, &out[n++]);
        }
    }
    return n;
}

/* Tells whether all n code points are ASCII. */
static bool
all_ascii(const uint32_t *s, size_t n)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        bits |= s[i];
    }
    return bits < 0x80;
}

/* ------------------------------------------------------------------------ */
/* Folding                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * What an ASCII byte folds to: a lower-case letter or a digit, or 0 for a
 * separator.
 */
static const char ascii_fold[128] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
    ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
    ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm',
    ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

/* NFKD, full case folding, marks and default-ignorables dropped. */
#define FOLD_OPTIONS                                                                               \
    (UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |               \
     UTF8PROC_IGNORE)

/*
 * Room for one code point's fold.  The longest in Unicode is 18 code points
 * (U+FDFA); one that would not fit is read as a separator.
 */
#define FOLD_BUFFER 32

/*
 * The ASCII spelling of a lower-case Latin letter whose diacritic NFKD does
 * not separate (a stroke, a ligature), or NULL for any other code point.
 */
static const char *
spell_out(uint32_t cp)
{
    switch (cp) {
    case 0x00E6:
        return "ae"; /* æ */
    case 0x00F0:
        return "d"; /* ð */
    case 0x00F8:
        return "o"; /* ø */
    case 0x00FE:
        return "th"; /* þ */
    case 0x0111:
        return "d"; /* đ */
    case 0x0127:
        return "h"; /* ħ */
    case 0x0131:
        return "i"; /* ı */
    case 0x0142:
        return "l"; /* ł */
    case 0x0153:
        return "oe"; /* œ */
    case 0x0167:
        return "t"; /* ŧ */
    default:
        return NULL;
    }
}

/* What becomes of a code point once decomposed and case-folded. */
enum fold_kind {
    FOLD_KEEP,     /* a letter or a number */
    FOLD_DROP,     /* a combining mark */
    FOLD_SEPARATE, /* anything else: it separates words */
};

static enum fold_kind
classify(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return FOLD_DROP;
    case UTF8PROC_CATEGORY_LM:
        /* Spacing modifier letters are apostrophes and accents in names. */
        return (cp >= 0x02B0 && cp <= 0x02FF) ? FOLD_SEPARATE : FOLD_KEEP;
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return FOLD_KEEP;
    default:
        return FOLD_SEPARATE;
    }
}

/* The output side of cdp_compare_fold(). */
struct fold_out {
    char *buf;
    size_t len;   /* bytes written */
    size_t limit; /* bytes available, the terminator excluded */
    bool space;   /* a separator is pending */
    bool full;    /* something did not fit: stop */
};

static void
fold_separator(struct fold_out *o)
{
    o->space = o->len > 0;
}

/* Appends n bytes (one code point) after the pending space, if both fit. */
static void
fold_emit(struct fold_out *o, const char *bytes, size_t n)
{
    size_t need = n + (o->space ? 1 : 0);

    if (need > o->limit - o->len) {
        o->full = true;
        return;
    }
    if (o->space) {
        o->buf[o->len++] = ' ';
        o->space = false;
    }
    memcpy(o->buf + o->len, bytes, n);
    o->len += n;
}

/* Folds one code point outside ASCII. */
static void
fold_unicode(struct fold_out *o, uint32_t cp)
{
    utf8proc_int32_t parts[FOLD_BUFFER];
    int boundclass = 0;
    utf8proc_ssize_t n;

    n = utf8proc_decompose_char((utf8proc_int32_t)cp, parts, FOLD_BUFFER, FOLD_OPTIONS,
                                &boundclass);
    if (n < 0 || n > FOLD_BUFFER) {
        fold_separator(o);
        return;
    }
    for (utf8proc_ssize_t k = 0; k < n && !o->full; k++) {
        utf8proc_int32_t part = parts[k];
        if (part < 0x80) {
            char c = ascii_fold[part];
            if (c != 0) {
                fold_emit(o, &c, 1);
            } else {
                fold_separator(o);
            }
            continue;
        }
        switch (classify(part)) {
        case FOLD_DROP:
            break;
        case FOLD_KEEP: {
            const char *ascii = spell_out((uint32_t)part);
            if (ascii != NULL) {
                for (; *ascii != '\0' && !o->full; ascii++) {
                    fold_emit(o, ascii, 1);
                }
            } else {
                utf8proc_uint8_t bytes[4];
                utf8proc_ssize_t m = utf8proc_encode_char(part, bytes);
                fold_emit(o, (const char *)bytes, (size_t)m);
            }
            break;
        }
        case FOLD_SEPARATE:
            fold_separator(o);
            break;
        }
    }
}

size_t
cdp_compare_fold(const char *s, size_t len, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    struct fold_out o = {out, 0, 0, false, false};
    size_t i = 0;

    if (cap == 0) {
        return 0;
    }
    o.limit = cap - 1;
    while (i < len && !o.full) {
        if (p[i] < 0x80) {
            char c = ascii_fold[p[i++]];
            if (c != 0) {
                fold_emit(&o, &c, 1);
            } else {
                fold_separator(&o);
            }
        } else {
            uint32_t cp;
            i += decode_one(p + i, len - i, &cp);
            fold_unicode(&o, cp);
        }
    }
    out[o.len] = '\0';
    return o.len;
}

/* ------------------------------------------------------------------------ */
/* Jaro and Jaro-Winkler                                                    */
/* ------------------------------------------------------------------------ */

/* The Jaro formula, computed in the same order as jellyfish and DuckDB. */
static double
jaro_formula(size_t alen, size_t blen, size_t matches, size_t half_transpositions)
{
    double m = (double)matches;
    double t = (double)(half_transpositions / 2);
    return (m / (double)alen + m / (double)blen + (m - t) / m) / 3.0;
}

/* The search range: half the longer length, minus one. */
static size_t
jaro_range(size_t alen, size_t blen)
{
    size_t range = (alen > blen ? alen : blen) / 2;
    return range > 0 ? range - 1 : 0;
}

/* The index of the lowest set bit of x, which is not 0. */
static unsigned
lowest_bit(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    while (!(x & 1)) {
        x >>= 1, n++;
    }
    return n;
#endif
}

/*
 * Jaro similarity of two decoded strings, both 1 to 64 code points long.
 * The same matching as jaro_long(), with the matched positions of b kept as
 * a bit mask: the positions in a's window where b holds a's code point form
 * a mask, and the first unmatched one is its lowest set bit.  For ASCII
 * (folded names nearly always are) that mask comes from a table of each
 * code point's positions in b, built for the call; otherwise from a scan of
 * the window.  Neither takes a branch that depends on the letters.
 */
static double
jaro_short(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen)
{
    size_t range = jaro_range(alen, blen), matches = 0, half_transpositions = 0;
    uint64_t all_b = blen == 64 ? ~UINT64_C(0) : (UINT64_C(1) << blen) - 1;
    uint64_t bfree = all_b, amatched = 0, bmatched;
    uint64_t positions[128]; /* where each ASCII code point is in b */
    bool ascii = all_ascii(a, alen) && all_ascii(b, blen);

    if (ascii) {
        /* Only the entries that are read are set. */
        for (size_t i = 0; i < alen; i++) {
            positions[a[i]] = 0;
        }
        for (size_t j = 0; j < blen; j++) {
            positions[b[j]] = 0;
        }
        for (size_t j = 0; j < blen; j++) {
            positions[b[j]] |= UINT64_C(1) << j;
        }
    }
    for (size_t i = 0; i < alen; i++) {
        size_t lo = i > range ? i - range : 0;
        size_t hi = i + range + 1 < blen ? i + range + 1 : blen;
        uint64_t equal = 0, first;
        if (ascii) {
            uint64_t below_hi = hi == 64 ? ~UINT64_C(0) : (UINT64_C(1) << hi) - 1;
            uint64_t below_lo = lo >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << lo) - 1;
            equal = positions[a[i]] & below_hi & ~below_lo;
        } else {
            for (size_t j = lo; j < hi; j++) {
                equal |= (uint64_t)(b[j] == a[i]) << j;
            }
        }
        first = equal & bfree;
        first &= ~first + 1; /* its lowest set bit */
        bfree &= ~first;
        amatched |= (uint64_t)(first != 0) << i;
        matches += first != 0;
    }
    if (matches == 0) {
        return 0.0;
    }
    bmatched = ~bfree & all_b;
    while (amatched != 0) {
        half_transpositions += a[lowest_bit(amatched)] != b[lowest_bit(bmatched)];
        amatched &= amatched - 1;
        bmatched &= bmatched - 1;
    }
    return jaro_formula(alen, blen, matches, half_transpositions);
}

/*
 * Jaro similarity of two decoded strings of any length.  For each code
 * point of a, in order, the first unmatched equal code point of b within
 * the search range is its match.  For each code point value this is a
 * merge of its positions in a and b (a position too far behind the other
 * string's next one can never match, and is passed over), which pairs the
 * same positions whichever string drives it: the result is symmetric.
 */
static double
jaro_long(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen)
{
    bool amatched[CDP_COMPARE_MAX_CHARS], bmatched[CDP_COMPARE_MAX_CHARS];
    size_t range = jaro_range(alen, blen), matches = 0, half_transpositions = 0;

    memset(amatched, 0, alen * sizeof amatched[0]);
    memset(bmatched, 0, blen * sizeof bmatched[0]);
    for (size_t i = 0; i < alen; i++) {
        size_t lo = i > range ? i - range : 0;
        size_t hi = i + range + 1 < blen ? i + range + 1 : blen;
        for (size_t j = lo; j < hi; j++) {
            if (!bmatched[j] && b[j] == a[i]) {
                amatched[i] = bmatched[j] = true;
                matches++;
                break;
            }
        }
    }
    if (matches == 0) {
        return 0.0;
    }
    for (size_t i = 0, j = 0; i < alen; i++) {
        if (!amatched[i]) {
            continue;
        }
        while (!bmatched[j]) {
            j++;
        }
        if (a[i] != b[j]) {
            half_transpositions++;
        }
        j++;
    }
    return jaro_formula(alen, blen, matches, half_transpositions);
}

/* Jaro similarity of two decoded strings; two empty strings are identical. */
static double
jaro_codepoints(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen)
{
    if (alen == 0 || blen == 0) {
        return alen == blen ? 1.0 : 0.0;
    }
    if (alen <= 64 && blen <= 64) {
        return jaro_short(a, alen, b, blen);
    }
    return jaro_long(a, alen, b, blen);
}

double
cdp_compare_jaro(const char *a, size_t alen, const char *b, size_t blen)
{
    uint32_t x[CDP_COMPARE_MAX_CHARS], y[CDP_COMPARE_MAX_CHARS];

    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0)) {
        return 1.0;
    }
    return jaro_codepoints(x, decode(a, alen, x), y, decode(b, blen, y));
}

double
cdp_compare_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen)
{
    uint32_t x[CDP_COMPARE_MAX_CHARS], y[CDP_COMPARE_MAX_CHARS];
    size_t xlen, ylen, prefix = 0, most;
    double j;

    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0)) {
        return 1.0;
    }
    xlen = decode(a, alen, x);
    ylen = decode(b, blen, y);
    j = jaro_codepoints(x, xlen, y, ylen);
    if (j > CDP_COMPARE_WINKLER_THRESHOLD) {
        most = xlen < ylen ? xlen : ylen;
        if (most > CDP_COMPARE_WINKLER_PREFIX) {
            most = CDP_COMPARE_WINKLER_PREFIX;
        }
        while (prefix < most && x[prefix] == y[prefix]) {
            prefix++;
        }
        j += (double)prefix * CDP_COMPARE_WINKLER_SCALE * (1.0 - j);
    }
    return j;
}

/* ------------------------------------------------------------------------ */
/* Edit distances                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Levenshtein (transpose false) or optimal string alignment (transpose
 * true) distance between two decoded strings, or max + 1 when it is larger
 * than max (max >= 0).
 *
 * The common prefix and suffix are dropped first: an optimal alignment can
 * always match them to each other, for either distance.  Then only the
 * cells of the matrix that a path of cost max or less can cross are
 * computed (Ukkonen's band): reaching cell (i, j) costs at least |i - j|
 * and going on from it at least |(alen - i) - (blen - j)|, so with a the
 * longer string and d = alen - blen, j stays within (max + d) / 2 behind i
 * and (max - d) / 2 ahead of it.  The cells just outside the band hold
 * max + 1, and values are capped at max + 1.  The work stops once a
 * whole row exceeds max: a row's minimum is at most one more than the
 * previous row's, so the row before is then at least max, and every later
 * cell descends from one of those two rows at a cost of at least 0 and 1.
 */
static int
edit_distance(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen, int max,
              bool transpose)
{
    int rows[3][CDP_COMPARE_MAX_CHARS + 1];
    int *before = rows[0], *prev = rows[1], *cur = rows[2];
    int inf;
    size_t behind, ahead, i, j;

    while (alen > 0 && blen > 0 && a[0] == b[0]) {
        a++, b++, alen--, blen--;
    }
    while (alen > 0 && blen > 0 && a[alen - 1] == b[blen - 1]) {
        alen--, blen--;
    }
    /* Shorter string across, so the rows are short. */
    if (blen > alen) {
        const uint32_t *t = a;
        size_t tl = alen;
        a = b, alen = blen;
        b = t, blen = tl;
    }
    if (max < 0 || (size_t)max > alen) {
        max = (int)alen; /* the distance is never larger than that */
    }
    inf = max + 1;
    if (alen - blen > (size_t)max) {
        return inf;
    }
    if (blen == 0) {
        return (int)alen;
    }
    behind = ((size_t)max + (alen - blen)) / 2;
    ahead = ((size_t)max - (alen - blen)) / 2;

    for (j = 0; j <= blen; j++) {
        prev[j] = j <= ahead ? (int)j : inf;
    }
    for (i = 1; i <= alen; i++) {
        size_t lo = i > behind ? i - behind : 1;
        size_t hi = i + ahead < blen ? i + ahead : blen;
        int row_min;

        cur[0] = i <= behind ? (int)i : inf;
        if (lo > 1) {
            cur[lo - 1] = inf;
        }
        row_min = lo == 1 ? cur[0] : inf;
        for (j = lo; j <= hi; j++) {
            int v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v) {
                v = prev[j] + 1;
            }
            if (cur[j - 1] + 1 < v) {
                v = cur[j - 1] + 1;
            }
            if (transpose && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                before[j - 2] + 1 < v) {
                v = before[j - 2] + 1;
            }
            if (v > inf) {
                v = inf;
            }
            cur[j] = v;
            if (v < row_min) {
                row_min = v;
            }
        }
        if (hi < blen) {
            cur[hi + 1] = inf;
        }
        if (row_min > max) {
            return inf;
        }

        int *t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    return prev[blen] > max ? inf : prev[blen];
}

int
cdp_compare_levenshtein(const char *a, size_t alen, const char *b, size_t blen, int max)
{
    uint32_t x[CDP_COMPARE_MAX_CHARS], y[CDP_COMPARE_MAX_CHARS];
    size_t xlen = decode(a, alen, x), ylen = decode(b, blen, y);
    int d = edit_distance(x, xlen, y, ylen, max, false);

    return (max >= 0 && d > max) ? max + 1 : d;
}

int
cdp_compare_damerau(const char *a, size_t alen, const char *b, size_t blen, int max)
{
    uint32_t x[CDP_COMPARE_MAX_CHARS], y[CDP_COMPARE_MAX_CHARS];
    size_t xlen = decode(a, alen, x), ylen = decode(b, blen, y);
    int d = edit_distance(x, xlen, y, ylen, max, true);

    return (max >= 0 && d > max) ? max + 1 : d;
}

/* ------------------------------------------------------------------------ */
/* Dates                                                                    */
/* ------------------------------------------------------------------------ */

/* A date as compared: its eight digits and its day number. */
struct date {
    char digits[8];
    long day;
};

static bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
static long
days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads YYYYMMDD or YYYY-MM-DD, with white space around it, into *d. */
static bool
parse_date(const char *s, size_t len, struct date *d)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0;

    while (len > 0 && is_space(p[0])) {
        p++, len--;
    }
    while (len > 0 && is_space(p[len - 1])) {
        len--;
    }
    if (len != 8 && !(len == 10 && p[4] == '-' && p[7] == '-')) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (len == 10 && (i == 4 || i == 7)) {
            continue;
        }
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        d->digits[k++] = (char)p[i];
    }

    long y = 0, m, day;
    for (k = 0; k < 4; k++) {
        y = y * 10 + (d->digits[k] - '0');
    }
    m = (d->digits[4] - '0') * 10 + (d->digits[5] - '0');
    day = (d->digits[6] - '0') * 10 + (d->digits[7] - '0');
    if (y < 1 || m < 1 || m > 12 || day < 1) {
        return false;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (day > month_days[m - 1] + (m == 2 && leap)) {
        return false;
    }
    d->day = days_from_civil(y, m, day);
    return true;
}

/* Tells whether two digit strings of the same length are one edit apart. */
static bool
one_edit(const char *a, const char *b, size_t n)
{
    size_t i = 0;

    while (i < n && a[i] == b[i]) {
        i++;
    }
    if (i == n) {
        return false; /* equal */
    }
    if (memcmp(a + i + 1, b + i + 1, n - i - 1) == 0) {
        return true; /* one substitution */
    }
    return i + 1 < n && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           memcmp(a + i + 2, b + i + 2, n - i - 2) == 0;
}

int
cdp_compare_date_level(const char *a, size_t alen, const char *b, size_t blen)
{
    struct date x, y;
    long apart;

    if (!parse_date(a, alen, &x) || !parse_date(b, blen, &y)) {
        return CDP_COMPARE_DATE_NULL;
    }
    if (x.day == y.day) {
        return CDP_COMPARE_DATE_EXACT;
    }
    if (one_edit(x.digits, y.digits, sizeof x.digits)) {
        return CDP_COMPARE_DATE_ONE_EDIT;
    }
    apart = x.day > y.day ? x.day - y.day : y.day - x.day;
    if (apart <= 31) {
        return CDP_COMPARE_DATE_MONTH;
    }
    if (apart <= 366) {
        return CDP_COMPARE_DATE_YEAR;
    }
    return CDP_COMPARE_DATE_DIFFERENT;
}

/* ------------------------------------------------------------------------ */
/* Levels                                                                   */
/* ------------------------------------------------------------------------ */

int
cdp_compare_jaro_winkler_level(const char *a, size_t alen, const char *b, size_t blen,
                               const double *thresholds, size_t n)
{
    double score;
    int level = 0;

    if (alen == 0 || blen == 0) {
        return -1;
    }
    if (alen == blen && memcmp(a, b, alen) == 0) {
        return (int)n + 1;
    }
    score = cdp_compare_jaro_winkler(a, alen, b, blen);
    for (size_t i = 0; i < n; i++) {
        if (score >= thresholds[i]) {
            level++;
        }
    }
    return level;
}
