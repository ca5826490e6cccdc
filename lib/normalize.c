/*
 * normalize.c - canonical forms for e-mail addresses, phone numbers and
 * free text, junk detection and strict UTF-8 validation.
 */
#include "normalize.h"

#include <stdint.h>
#include <string.h>

/* Longest run of digits kept while reading a phone number. */
#define PHONE_MAX_DIGITS 32

/* E.164 limits on the number of digits after the "+". */
#define E164_MIN_DIGITS 8
#define E164_MAX_DIGITS 15

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static bool
is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static unsigned char
ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool
is_nbsp_at(const unsigned char *p, size_t i, size_t end)
{
    return i + 1 < end && p[i] == 0xC2 && p[i + 1] == 0xA0;
}

/* Narrows [*begin, *end) past ASCII whitespace and NBSP on both sides. */
static void
trim_bounds(const unsigned char *p, size_t *begin, size_t *end)
{
    size_t b = *begin, e = *end;

    for (;;) {
        if (b < e && is_ascii_space(p[b])) {
            b++;
        } else if (is_nbsp_at(p, b, e)) {
            b += 2;
        } else {
            break;
        }
    }
    for (;;) {
        if (e > b && is_ascii_space(p[e - 1])) {
            e--;
        } else if (e >= b + 2 && p[e - 2] == 0xC2 && p[e - 1] == 0xA0) {
            e -= 2;
        } else {
            break;
        }
    }
    *begin = b;
    *end = e;
}

/* Stores "" in out when there is room; used on every failure path. */
static bool
fail(char *out, size_t outsize)
{
    if (out != NULL && outsize > 0) {
        out[0] = '\0';
    }
    return false;
}

static bool
prefix_nocase(const unsigned char *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);

    if (n < k) {
        return false;
    }
    for (size_t i = 0; i < k; i++) {
        if (ascii_lower(p[i]) != (unsigned char)prefix[i]) {
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Checks that s[0..len) is strict UTF-8.  ASCII runs are scanned eight bytes
 * at a time; multi-byte sequences are checked against the ranges of RFC 3629
 * (which rule out overlong forms, UTF-16 surrogates and code points above
 * U+10FFFF).  An empty range is valid; a NULL pointer is valid only with
 * len == 0.  Embedded NUL bytes are valid (U+0000).
 */
bool
cdp_normalize_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL) {
        return len == 0;
    }
    while (i < len) {
        while (len - i >= 8) {
            uint64_t word;
            memcpy(&word, p + i, sizeof word);
            if (word & UINT64_C(0x8080808080808080)) {
                break;
            }
            i += 8;
        }
        if (i >= len) {
            break;
        }

        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c < 0xC2) {
            /* Stray continuation byte, or C0/C1 which only start overlongs. */
            return false;
        }
        if (c < 0xE0) {
            if (len - i < 2 || (p[i + 1] & 0xC0) != 0x80) {
                return false;
            }
            i += 2;
            continue;
        }
        if (c < 0xF0) {
            if (len - i < 3) {
                return false;
            }
            unsigned char c1 = p[i + 1];
            unsigned char lo = 0x80, hi = 0xBF;
            if (c == 0xE0) {
                lo = 0xA0; /* below is an overlong form */
            } else if (c == 0xED) {
                hi = 0x9F; /* above are the surrogates D800..DFFF */
            }
            if (c1 < lo || c1 > hi || (p[i + 2] & 0xC0) != 0x80) {
                return false;
            }
            i += 3;
            continue;
        }
        if (c < 0xF5) {
            if (len - i < 4) {
                return false;
            }
            unsigned char c1 = p[i + 1];
            unsigned char lo = 0x80, hi = 0xBF;
            if (c == 0xF0) {
                lo = 0x90; /* below is an overlong form */
            } else if (c == 0xF4) {
                hi = 0x8F; /* above is beyond U+10FFFF */
            }
            if (c1 < lo || c1 > hi || (p[i + 2] & 0xC0) != 0x80 || (p[i + 3] & 0xC0) != 0x80) {
                return false;
            }
            i += 4;
            continue;
        }
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Trim                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Copies in[0..len) into out without the leading and trailing ASCII
 * whitespace and UTF-8 no-break spaces.  Inner spaces are kept.  The caller
 * owns both buffers.  Returns false (out = "") when the input is NULL, when
 * nothing is left after trimming, or when out is too small.
 */
bool
cdp_normalize_trim(const char *in, size_t len, char *out, size_t outsize)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t b = 0, e = len;

    if (in == NULL || out == NULL) {
        return fail(out, outsize);
    }
    trim_bounds(p, &b, &e);
    if (b == e || e - b >= outsize) {
        return fail(out, outsize);
    }
    memmove(out, in + b, e - b);
    out[e - b] = '\0';
    return true;
}

/* ------------------------------------------------------------------------ */
/* E-mail                                                                   */
/* ------------------------------------------------------------------------ */

/* Characters that cannot appear unquoted in a local part. */
static bool
is_email_special(unsigned char c)
{
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == ':' ||
           c == ';' || c == ',' || c == '\\' || c == '"' || c == '@';
}

static bool
email_local_ok(const unsigned char *p, size_t n)
{
    if (n < 1 || n > 64 || p[0] == '.' || p[n - 1] == '.') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c <= 0x20 || c == 0x7F || is_email_special(c) || is_nbsp_at(p, i, n)) {
            return false;
        }
        if (c == '.' && i + 1 < n && p[i + 1] == '.') {
            return false;
        }
    }
    return true;
}

static bool
email_domain_ok(const unsigned char *p, size_t n)
{
    size_t label_start = 0;
    size_t dots = 0;

    if (n < 1 || n > 253) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') {
            unsigned char c = p[i];
            bool ok = (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c >= 0x80;
            if (!ok || is_nbsp_at(p, i, n)) {
                return false;
            }
            continue;
        }
        /* End of a label at i. */
        size_t label_len = i - label_start;
        if (label_len == 0 || label_len > 63) {
            return false;
        }
        if (p[label_start] == '-' || p[i - 1] == '-') {
            return false;
        }
        if (i == n) {
            /* Top-level domain: two characters at least, not all digits. */
            bool all_digits = true;
            for (size_t k = label_start; k < i; k++) {
                if (!is_digit(p[k])) {
                    all_digits = false;
                }
            }
            if (label_len < 2 || all_digits) {
                return false;
            }
        } else {
            dots++;
        }
        label_start = i + 1;
    }
    return dots > 0;
}

/*
 * Normalizes an e-mail address into out: surrounding whitespace and NBSP are
 * trimmed, a leading "mailto:" (any case) is removed and ASCII letters are
 * lower-cased; non-ASCII bytes are copied unchanged but must form valid
 * UTF-8.  The result must have exactly one '@', a local part of 1..64 bytes
 * (no whitespace, control characters or RFC 5322 specials, no leading,
 * trailing or doubled dot) and a domain of 1..253 bytes made of non-empty
 * labels of [a-z0-9-] or non-ASCII bytes, not starting or ending with '-',
 * with at least one dot and a non-numeric TLD of two or more characters.
 * The caller owns out; on failure it holds "".
 */
bool
cdp_normalize_email(const char *in, size_t len, char *out, size_t outsize)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t b = 0, e = len;

    if (in == NULL || out == NULL) {
        return fail(out, outsize);
    }
    trim_bounds(p, &b, &e);
    if (prefix_nocase(p + b, e - b, "mailto:")) {
        b += 7;
        trim_bounds(p, &b, &e);
    }

    size_t n = e - b;
    if (n == 0 || n > 64 + 1 + 253 || n >= outsize) {
        return fail(out, outsize);
    }

    unsigned char *o = (unsigned char *)out;
    size_t at = n;
    size_t at_count = 0;
    for (size_t i = 0; i < n; i++) {
        o[i] = ascii_lower(p[b + i]);
        if (o[i] == '@') {
            at = i;
            at_count++;
        }
    }
    o[n] = '\0';

    if (at_count != 1 || !cdp_normalize_utf8_valid(out, n) || !email_local_ok(o, at) ||
        !email_domain_ok(o + at + 1, n - at - 1)) {
        return fail(out, outsize);
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Countries and phone numbers                                              */
/* ------------------------------------------------------------------------ */

/*
 * One row per country: calling code, trunk prefix(es) used when dialling a
 * national number, and the accepted length range of the national significant
 * number (the digits after the calling code).
 */
struct country {
    char iso[3];
    unsigned short calling_code;
    const char *trunk;     /* NULL when the country has no trunk prefix */
    const char *trunk_alt; /* a second accepted trunk prefix, or NULL */
    unsigned char nsn_min;
    unsigned char nsn_max;
    bool keep_trunk;     /* the leading 0 is part of the number (Italy) */
    bool trunk_optional; /* national numbers may omit the trunk (NANP, CN, BR) */
};

static const struct country countries[] = {
    /* European Union */
    {"AT", 43, "0", NULL, 4, 13, false, false},
    {"BE", 32, "0", NULL, 8, 9, false, false},
    {"BG", 359, "0", NULL, 7, 9, false, false},
    {"HR", 385, "0", NULL, 7, 9, false, false},
    {"CY", 357, NULL, NULL, 8, 8, false, false},
    {"CZ", 420, NULL, NULL, 9, 9, false, false},
    {"DK", 45, NULL, NULL, 8, 8, false, false},
    {"EE", 372, NULL, NULL, 7, 8, false, false},
    {"FI", 358, "0", NULL, 5, 12, false, false},
    {"FR", 33, "0", NULL, 9, 9, false, false},
    {"DE", 49, "0", NULL, 5, 13, false, false},
    {"GR", 30, NULL, NULL, 10, 10, false, false},
    {"HU", 36, "06", NULL, 8, 9, false, false},
    {"IE", 353, "0", NULL, 7, 9, false, false},
    {"IT", 39, "0", NULL, 6, 11, true, false},
    {"LV", 371, NULL, NULL, 8, 8, false, false},
    {"LT", 370, "8", "0", 8, 8, false, false},
    {"LU", 352, NULL, NULL, 4, 11, false, false},
    {"MT", 356, NULL, NULL, 8, 8, false, false},
    {"NL", 31, "0", NULL, 9, 9, false, false},
    {"PL", 48, NULL, NULL, 9, 9, false, false},
    {"PT", 351, NULL, NULL, 9, 9, false, false},
    {"RO", 40, "0", NULL, 9, 9, false, false},
    {"SK", 421, "0", NULL, 9, 9, false, false},
    {"SI", 386, "0", NULL, 8, 8, false, false},
    {"ES", 34, NULL, NULL, 9, 9, false, false},
    {"SE", 46, "0", NULL, 6, 10, false, false},
    /* Rest of the EEA and other European countries */
    {"IS", 354, NULL, NULL, 7, 7, false, false},
    {"LI", 423, NULL, NULL, 7, 7, false, false},
    {"NO", 47, NULL, NULL, 8, 8, false, false},
    {"CH", 41, "0", NULL, 9, 9, false, false},
    {"GB", 44, "0", NULL, 7, 10, false, false},
    {"MC", 377, NULL, NULL, 8, 9, false, false},
    {"AD", 376, NULL, NULL, 6, 9, false, false},
    {"UA", 380, "0", NULL, 9, 9, false, false},
    {"RU", 7, "8", NULL, 10, 10, false, false},
    {"TR", 90, "0", NULL, 10, 10, false, false},
    /* Americas */
    {"US", 1, "1", NULL, 10, 10, false, true},
    {"CA", 1, "1", NULL, 10, 10, false, true},
    {"MX", 52, NULL, NULL, 10, 10, false, false},
    {"BR", 55, "0", NULL, 10, 11, false, true},
    /* Africa and Middle East */
    {"MA", 212, "0", NULL, 9, 9, false, false},
    {"DZ", 213, "0", NULL, 8, 9, false, false},
    {"TN", 216, NULL, NULL, 8, 8, false, false},
    {"SN", 221, NULL, NULL, 9, 9, false, false},
    {"CI", 225, NULL, NULL, 8, 10, false, false},
    {"ZA", 27, "0", NULL, 9, 9, false, false},
    {"IL", 972, "0", NULL, 8, 9, false, false},
    {"AE", 971, "0", NULL, 8, 9, false, false},
    /* Asia and Oceania */
    {"IN", 91, "0", NULL, 10, 10, false, false},
    {"CN", 86, "0", NULL, 9, 11, false, true},
    {"JP", 81, "0", NULL, 9, 10, false, false},
    {"KR", 82, "0", NULL, 8, 10, false, false},
    {"HK", 852, NULL, NULL, 8, 8, false, false},
    {"SG", 65, NULL, NULL, 8, 8, false, false},
    {"AU", 61, "0", NULL, 8, 9, false, false},
    {"NZ", 64, "0", NULL, 8, 10, false, false},
};

#define COUNTRY_COUNT (sizeof countries / sizeof countries[0])

static const struct country *
country_by_iso(const char *iso)
{
    if (iso == NULL || iso[0] == '\0' || iso[1] == '\0' || iso[2] != '\0') {
        return NULL;
    }
    unsigned char a = (unsigned char)iso[0], b = (unsigned char)iso[1];
    a = (a >= 'a' && a <= 'z') ? (unsigned char)(a - 'a' + 'A') : a;
    b = (b >= 'a' && b <= 'z') ? (unsigned char)(b - 'a' + 'A') : b;
    for (size_t i = 0; i < COUNTRY_COUNT; i++) {
        if ((unsigned char)countries[i].iso[0] == a && (unsigned char)countries[i].iso[1] == b) {
            return &countries[i];
        }
    }
    return NULL;
}

static const struct country *
country_by_calling_code(unsigned code)
{
    for (size_t i = 0; i < COUNTRY_COUNT; i++) {
        if (countries[i].calling_code == code) {
            return &countries[i];
        }
    }
    return NULL;
}

/*
 * Returns how many leading digits of an international number form its
 * calling code.  Codes are prefix-free: 1 and 7 are one digit, a fixed set of
 * two-digit codes exists, and every other code has three digits.
 */
static size_t
calling_code_length(const char *d)
{
    static const unsigned char two_digit[] = {
        20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
        55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98};

    if (d[0] == '1' || d[0] == '7') {
        return 1;
    }
    if (d[1] == '\0') {
        return 2;
    }
    unsigned v = (unsigned)(d[0] - '0') * 10 + (unsigned)(d[1] - '0');
    for (size_t i = 0; i < sizeof two_digit; i++) {
        if (two_digit[i] == v) {
            return 2;
        }
    }
    return 3;
}

static bool
all_same_char(const char *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (s[i] != s[0]) {
            return false;
        }
    }
    return true;
}

/*
 * Returns the calling code for an ISO 3166 alpha-2 country code, matched
 * without regard to case.  Returns 0 for NULL, for strings that are not
 * exactly two characters and for countries missing from the table.
 */
int
cdp_normalize_country_code(const char *country)
{
    const struct country *c = country_by_iso(country);
    return c != NULL ? (int)c->calling_code : 0;
}

/* Digits read from a phone number, plus where a "(0)" group was seen. */
struct phone_digits {
    char d[PHONE_MAX_DIGITS + 1];
    size_t n;
    size_t paren_zero; /* index in d of a "(0)" digit, or SIZE_MAX */
    bool plus;
};

/*
 * Reads the part of a phone number before any extension marker: digits,
 * separators (space, tab, '.', '-', '/', parentheses, NBSP) and one leading
 * '+'.  Anything else makes the number invalid.
 */
static bool
phone_scan(const unsigned char *p, size_t n, struct phone_digits *pd)
{
    pd->n = 0;
    pd->paren_zero = SIZE_MAX;
    pd->plus = false;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (is_digit(c)) {
            if (pd->n >= PHONE_MAX_DIGITS) {
                return false;
            }
            pd->d[pd->n++] = (char)c;
        } else if (c == '+') {
            if (pd->plus || pd->n > 0) {
                return false;
            }
            pd->plus = true;
        } else if (c == '(') {
            /* Look for "(0)", allowing spaces inside the parentheses. */
            size_t j = i + 1;
            while (j < n && (p[j] == ' ' || p[j] == '\t')) {
                j++;
            }
            if (j < n && p[j] == '0') {
                size_t k = j + 1;
                while (k < n && (p[k] == ' ' || p[k] == '\t')) {
                    k++;
                }
                if (k < n && p[k] == ')') {
                    if (pd->n >= PHONE_MAX_DIGITS) {
                        return false;
                    }
                    if (pd->paren_zero == SIZE_MAX) {
                        pd->paren_zero = pd->n;
                    }
                    pd->d[pd->n++] = '0';
                    i = k;
                }
            }
        } else if (c == ' ' || c == '\t' || c == '.' || c == '-' || c == '/' || c == ')') {
            /* separator */
        } else if (is_nbsp_at(p, i, n)) {
            i++;
        } else {
            return false;
        }
    }
    pd->d[pd->n] = '\0';
    return pd->n > 0;
}

/* Length of the number before an extension marker ("ext", "x", "#"). */
static size_t
phone_main_length(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = ascii_lower(p[i]);
        if (c == '#' || c == 'x') {
            return i;
        }
        if (c == 'e' && prefix_nocase(p + i, n - i, "ext")) {
            return i;
        }
    }
    return n;
}

static bool
has_prefix(const char *s, const char *prefix)
{
    return prefix != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Normalizes a phone number to E.164.  Separators (spaces, dots, dashes,
 * slashes, parentheses, NBSP) are ignored; an extension introduced by "ext",
 * "x" or "#" is dropped with everything after it; any other letter or symbol
 * makes the number invalid.  An international number starts with "+", "00"
 * or, when default_country is US or CA, "011"; a "(0)" right after its
 * calling code is dropped (except for Italy, where the 0 belongs to the
 * number), and so is a stray national 0 for countries whose trunk prefix is
 * 0.  Any other number is national and needs default_country (ISO alpha-2,
 * any case): its trunk prefix is removed (optional for US/CA, CN, BR; kept for
 * Italy; none for ES, PT, GR, DK, NO, ...).  When the calling code is in the
 * country table the national length must fit that country; the whole number
 * must have 8..15 digits and the national digits must not all be the same.
 * The caller owns out (17 bytes are always enough); on failure it holds "".
 */
bool
cdp_normalize_phone(const char *in, size_t len, const char *default_country, char *out,
                    size_t outsize)
{
    const unsigned char *p = (const unsigned char *)in;
    const struct country *home = country_by_iso(default_country);
    const struct country *cty = NULL;
    struct phone_digits pd;
    size_t b = 0, e = len;
    const char *nsn;
    size_t nsn_len;
    unsigned code = 0;

    if (in == NULL || out == NULL) {
        return fail(out, outsize);
    }
    trim_bounds(p, &b, &e);
    e = b + phone_main_length(p + b, e - b);
    if (!phone_scan(p + b, e - b, &pd)) {
        return fail(out, outsize);
    }

    size_t start = SIZE_MAX; /* where an international number's digits begin */
    if (pd.plus) {
        start = 0;
    } else if (has_prefix(pd.d, "00")) {
        start = 2;
    } else if (home != NULL && home->calling_code == 1 && has_prefix(pd.d, "011")) {
        start = 3;
    }

    if (start != SIZE_MAX) {
        const char *d = pd.d + start;
        size_t n = pd.n - start;
        if (n < 2 || d[0] == '0') {
            return fail(out, outsize);
        }
        size_t cc_len = calling_code_length(d);
        if (cc_len >= n) {
            return fail(out, outsize);
        }
        for (size_t i = 0; i < cc_len; i++) {
            code = code * 10 + (unsigned)(d[i] - '0');
        }
        cty = country_by_calling_code(code);
        nsn = d + cc_len;
        nsn_len = n - cc_len;
        bool keep = cty != NULL && cty->keep_trunk;
        if (!keep && pd.paren_zero == start + cc_len) {
            nsn++;
            nsn_len--;
        } else if (cty != NULL && !keep && cty->trunk != NULL && strcmp(cty->trunk, "0") == 0 &&
                   nsn[0] == '0') {
            nsn++;
            nsn_len--;
        }
    } else {
        if (home == NULL) {
            return fail(out, outsize);
        }
        cty = home;
        code = home->calling_code;
        nsn = pd.d;
        nsn_len = pd.n;
        if (home->trunk != NULL && !home->keep_trunk) {
            const char *trunk = NULL;
            if (has_prefix(nsn, home->trunk)) {
                trunk = home->trunk;
            } else if (has_prefix(nsn, home->trunk_alt)) {
                trunk = home->trunk_alt;
            }
            if (home->trunk_optional) {
                /* Strip it only when what is left has a valid length. */
                size_t rest = trunk != NULL ? nsn_len - strlen(trunk) : 0;
                if (trunk != NULL && rest >= home->nsn_min && rest <= home->nsn_max) {
                    nsn += strlen(trunk);
                    nsn_len = rest;
                }
            } else if (trunk != NULL) {
                nsn += strlen(trunk);
                nsn_len -= strlen(trunk);
            } else {
                return fail(out, outsize);
            }
        }
    }

    if (nsn_len == 0 || all_same_char(nsn, nsn_len)) {
        return fail(out, outsize);
    }
    /*
     * Where the trunk prefix is 0, no national number starts with 0 once it
     * is removed: such a number would not read back to itself.
     */
    if (cty != NULL && !cty->keep_trunk && cty->trunk != NULL && strcmp(cty->trunk, "0") == 0 &&
        nsn[0] == '0') {
        return fail(out, outsize);
    }
    if (cty != NULL && (nsn_len < cty->nsn_min || nsn_len > cty->nsn_max)) {
        return fail(out, outsize);
    }

    char code_text[8];
    size_t code_len = 0;
    for (unsigned c = code; c > 0; c /= 10) {
        code_text[code_len++] = (char)('0' + c % 10);
    }
    size_t total = code_len + nsn_len;
    if (total < E164_MIN_DIGITS || total > E164_MAX_DIGITS || total + 2 > outsize) {
        return fail(out, outsize);
    }
    out[0] = '+';
    for (size_t i = 0; i < code_len; i++) {
        out[1 + i] = code_text[code_len - 1 - i];
    }
    memcpy(out + 1 + code_len, nsn, nsn_len);
    out[1 + total] = '\0';
    return true;
}

/* ------------------------------------------------------------------------ */
/* Junk values                                                              */
/* ------------------------------------------------------------------------ */

static const char *const junk_values[] = {
    "",
    "null",
    "nil",
    "none",
    "undefined",
    "nan",
    "n/a",
    "na",
    "-",
    "0",
    "unknown",
    "test",
    "test@test.com",
    "test@example.com",
    "noemail@noemail.com",
    "no@email.com",
    "none@none.com",
    "email@email.com",
    "0000000000",
    "1234567890",
    "00000000-0000-0000-0000-000000000000",
    "anonymous",
    "guest",
};

static bool
equal_nocase(const unsigned char *p, size_t n, const char *word)
{
    return strlen(word) == n && prefix_nocase(p, n, word);
}

/*
 * Tells whether value is a placeholder rather than a real identifier.  The
 * value is compared without surrounding whitespace/NBSP and without regard
 * to ASCII case against a fixed blocklist ("", "null", "n/a", "test",
 * "test@test.com", "0000000000", the nil UUID, ...).  Also junk: a value of
 * four or more copies of one byte ("aaaa", "9999999"), and an E.164 string
 * whose digits after the calling code are all zeros ("+33000000000").  A
 * NULL value counts as junk.  Nothing is allocated.
 */
bool
cdp_normalize_is_junk(const char *value)
{
    if (value == NULL) {
        return true;
    }

    const unsigned char *p = (const unsigned char *)value;
    size_t b = 0, e = strlen(value);
    trim_bounds(p, &b, &e);
    p += b;
    size_t n = e - b;

    for (size_t i = 0; i < sizeof junk_values / sizeof junk_values[0]; i++) {
        if (equal_nocase(p, n, junk_values[i])) {
            return true;
        }
    }

    if (n >= 4) {
        bool same = true;
        for (size_t i = 1; i < n && same; i++) {
            same = ascii_lower(p[i]) == ascii_lower(p[0]);
        }
        if (same) {
            return true;
        }
    }

    if (n >= 3 && p[0] == '+' && p[1] != '0') {
        char digits[PHONE_MAX_DIGITS + 1];
        size_t nd = n - 1;
        if (nd <= PHONE_MAX_DIGITS) {
            bool ok = true;
            for (size_t i = 0; i < nd && ok; i++) {
                ok = is_digit(p[1 + i]);
                digits[i] = (char)p[1 + i];
            }
            digits[nd] = '\0';
            if (ok) {
                size_t cc_len = calling_code_length(digits);
                if (cc_len < nd) {
                    bool zeros = true;
                    for (size_t i = cc_len; i < nd && zeros; i++) {
                        zeros = digits[i] == '0';
                    }
                    if (zeros) {
                        return true;
                    }
                }
            }
        }
    }
    return false;
}
