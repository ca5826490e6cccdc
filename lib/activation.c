/*
 * activation.c - audience files for e-mail tools and ad platforms: the
 * columns of each format, the normal forms the platforms ask for before
 * hashing, SHA-256 and spreadsheet-safe CSV cells.
 *
 * Rows are built in place in the caller's buffer: a value is normalised at
 * the end of the row, then hashed and replaced by its hex form, or quoted in
 * place.  Rows are made from a record's bytes: traits are found in its JSON
 * text with the scanner and read where they lie, so a row of plain strings
 * allocates nothing but the growth of that buffer and builds no JSON tree.
 */
#include "activation.h"
#include "jsonscan.h"
#include "normalize.h"

#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Bytes and UTF-8                                                          */
/* ------------------------------------------------------------------------ */

#define INVALID_CODE_POINT UINT32_MAX

static bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static unsigned char
lower_ascii(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static unsigned char
upper_ascii(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

static bool
is_alpha_ascii(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Narrows s[0..*len) past ASCII white space and UTF-8 no-break spaces. */
static const char *
trim(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t b = 0, e = *len;

    for (;;) {
        if (b < e && is_space(p[b]))
            b++;
        else if (b + 1 < e && p[b] == 0xC2 && p[b + 1] == 0xA0)
            b += 2;
        else
            break;
    }
    for (;;) {
        if (e > b && is_space(p[e - 1]))
            e--;
        else if (e >= b + 2 && p[e - 2] == 0xC2 && p[e - 1] == 0xA0)
            e -= 2;
        else
            break;
    }
    *len = e - b;
    return s + b;
}

/*
 * Decodes the UTF-8 sequence at s[0..n), n > 0, into *cp and returns its
 * length.  A byte that does not start a valid sequence (stray continuation,
 * overlong form, surrogate, truncated sequence) is consumed alone and gives
 * INVALID_CODE_POINT.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];

    *cp = INVALID_CODE_POINT;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2)
        return 1;
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return 1;
        *cp = (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 1;
        uint32_t v = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
            return 1;
        *cp = v;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 1;
        uint32_t v = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
                     (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        if (v < 0x10000 || v > 0x10FFFF)
            return 1;
        *cp = v;
        return 4;
    }
    return 1;
}

/* Writes cp as UTF-8 at w (room for 4 bytes) and returns the byte after it. */
static char *
utf8_encode(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | cp >> 6);
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | cp >> 12);
        *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | cp >> 18);
        *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

/* ------------------------------------------------------------------------ */
/* Letters beyond ASCII                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Lower-case mappings of the Latin-1 Supplement, Latin Extended-A and -B,
 * Greek, Cyrillic and Latin Extended Additional blocks, from the Unicode
 * 14.0 data (simple case mappings; U+0130 İ maps to plain i).  Each range
 * maps first..last by adding delta, every code point (stride 1) or every
 * other one (stride 2, upper and lower case alternating).
 */
struct lower_range {
    uint16_t first;
    uint16_t last;
    int16_t delta;
    uint16_t stride;
};

static const struct lower_range lower_ranges[] = {
    {0x00C0, 0x00D6, 32, 1},   {0x00D8, 0x00DE, 32, 1},   {0x0100, 0x012E, 1, 2},
    {0x0130, 0x0130, -199, 1}, {0x0132, 0x0136, 1, 2},    {0x0139, 0x0147, 1, 2},
    {0x014A, 0x0176, 1, 2},    {0x0178, 0x0178, -121, 1}, {0x0179, 0x017D, 1, 2},
    {0x0181, 0x0181, 210, 1},  {0x0182, 0x0184, 1, 2},    {0x0186, 0x0186, 206, 1},
    {0x0187, 0x0187, 1, 1},    {0x0189, 0x018A, 205, 1},  {0x018B, 0x018B, 1, 1},
    {0x018E, 0x018E, 79, 1},   {0x018F, 0x018F, 202, 1},  {0x0190, 0x0190, 203, 1},
    {0x0191, 0x0191, 1, 1},    {0x0193, 0x0193, 205, 1},  {0x0194, 0x0194, 207, 1},
    {0x0196, 0x0196, 211, 1},  {0x0197, 0x0197, 209, 1},  {0x0198, 0x0198, 1, 1},
    {0x019C, 0x019C, 211, 1},  {0x019D, 0x019D, 213, 1},  {0x019F, 0x019F, 214, 1},
    {0x01A0, 0x01A4, 1, 2},    {0x01A6, 0x01A6, 218, 1},  {0x01A7, 0x01A7, 1, 1},
    {0x01A9, 0x01A9, 218, 1},  {0x01AC, 0x01AC, 1, 1},    {0x01AE, 0x01AE, 218, 1},
    {0x01AF, 0x01AF, 1, 1},    {0x01B1, 0x01B2, 217, 1},  {0x01B3, 0x01B5, 1, 2},
    {0x01B7, 0x01B7, 219, 1},  {0x01B8, 0x01B8, 1, 1},    {0x01BC, 0x01BC, 1, 1},
    {0x01C4, 0x01C4, 2, 1},    {0x01C5, 0x01C5, 1, 1},    {0x01C7, 0x01C7, 2, 1},
    {0x01C8, 0x01C8, 1, 1},    {0x01CA, 0x01CA, 2, 1},    {0x01CB, 0x01DB, 1, 2},
    {0x01DE, 0x01EE, 1, 2},    {0x01F1, 0x01F1, 2, 1},    {0x01F2, 0x01F4, 1, 2},
    {0x01F6, 0x01F6, -97, 1},  {0x01F7, 0x01F7, -56, 1},  {0x01F8, 0x021E, 1, 2},
    {0x0220, 0x0220, -130, 1}, {0x0222, 0x0232, 1, 2},    {0x023A, 0x023A, 10795, 1},
    {0x023B, 0x023B, 1, 1},    {0x023D, 0x023D, -163, 1}, {0x023E, 0x023E, 10792, 1},
    {0x0241, 0x0241, 1, 1},    {0x0243, 0x0243, -195, 1}, {0x0244, 0x0244, 69, 1},
    {0x0245, 0x0245, 71, 1},   {0x0246, 0x024E, 1, 2},    {0x0370, 0x0372, 1, 2},
    {0x0376, 0x0376, 1, 1},    {0x037F, 0x037F, 116, 1},  {0x0386, 0x0386, 38, 1},
    {0x0388, 0x038A, 37, 1},   {0x038C, 0x038C, 64, 1},   {0x038E, 0x038F, 63, 1},
    {0x0391, 0x03A1, 32, 1},   {0x03A3, 0x03AB, 32, 1},   {0x03CF, 0x03CF, 8, 1},
    {0x03D8, 0x03EE, 1, 2},    {0x03F4, 0x03F4, -60, 1},  {0x03F7, 0x03F7, 1, 1},
    {0x03F9, 0x03F9, -7, 1},   {0x03FA, 0x03FA, 1, 1},    {0x03FD, 0x03FF, -130, 1},
    {0x0400, 0x040F, 80, 1},   {0x0410, 0x042F, 32, 1},   {0x0460, 0x0480, 1, 2},
    {0x048A, 0x04BE, 1, 2},    {0x04C0, 0x04C0, 15, 1},   {0x04C1, 0x04CD, 1, 2},
    {0x04D0, 0x052E, 1, 2},    {0x1E00, 0x1E94, 1, 2},    {0x1E9E, 0x1E9E, -7615, 1},
    {0x1EA0, 0x1EFE, 1, 2},
};

/* The lower-case form of cp (itself when it has none or is not covered). */
static uint32_t
lower_code_point(uint32_t cp)
{
    if (cp < 0x80)
        return lower_ascii((unsigned char)cp);
    size_t lo = 0, hi = sizeof lower_ranges / sizeof lower_ranges[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct lower_range *r = &lower_ranges[mid];
        if (cp < r->first) {
            hi = mid;
        } else if (cp > r->last) {
            lo = mid + 1;
        } else {
            if ((cp - r->first) % r->stride != 0)
                return cp;
            return (uint32_t)((int32_t)cp + r->delta);
        }
    }
    return cp;
}

/*
 * The ASCII letters of each Latin letter once its accents are gone, for
 * U+00C0..U+024F and U+1E00..U+1EFF, one character per code point: a letter
 * is the folded form, '.' means "not a letter, drop it" and '*' means "two
 * letters, see fold_pairs".  Generated from the NFKD decompositions of
 * Unicode 14.0, with the letters that have none (đ ł ø ß æ œ þ ı ħ ŋ ŧ ...)
 * filled in by hand.
 */
struct fold_pair {
    uint16_t code_point;
    char letters[3];
};

/* clang-format off */
static const char fold_00c0[0x250 - 0xC0 + 1] =
    /* U+00C0 */ "aaaaaa*ceeeeiiii"
    /* U+00D0 */ "dnooooo.ouuuuy**"
    /* U+00E0 */ "aaaaaa*ceeeeiiii"
    /* U+00F0 */ "dnooooo.ouuuuy*y"
    /* U+0100 */ "aaaaaaccccccccdd"
    /* U+0110 */ "ddeeeeeeeeeegggg"
    /* U+0120 */ "gggghhhhiiiiiiii"
    /* U+0130 */ "ii**jjkkklllllll"
    /* U+0140 */ "lllnnnnnnnnnoooo"
    /* U+0150 */ "oo**rrrrrrssssss"
    /* U+0160 */ "ssttttttuuuuuuuu"
    /* U+0170 */ "uuuuwwyyyzzzzzzs"
    /* U+0180 */ "bbbb...ccdddd..."
    /* U+0190 */ ".ffg...ikkl..nno"
    /* U+01A0 */ "oo..pp.....ttttu"
    /* U+01B0 */ "u.vyyzz........."
    /* U+01C0 */ "....*********aai"
    /* U+01D0 */ "ioouuuuuuuuuu.aa"
    /* U+01E0 */ "aa**ggggkkoooo.."
    /* U+01F0 */ "j***gg..nnaa**oo"
    /* U+0200 */ "aaaaeeeeiiiioooo"
    /* U+0210 */ "rrrruuuusstt..hh"
    /* U+0220 */ ".d..zzaaeeoooooo"
    /* U+0230 */ "ooyylntj..acclts"
    /* U+0240 */ "z..bu.eejjqqrryy";
static const char fold_1e00[0x100 + 1] =
    /* U+1E00 */ "aabbbbbbccdddddd"
    /* U+1E10 */ "ddddeeeeeeeeeeff"
    /* U+1E20 */ "gghhhhhhhhhhiiii"
    /* U+1E30 */ "kkkkkkllllllllmm"
    /* U+1E40 */ "mmmmnnnnnnnnoooo"
    /* U+1E50 */ "oooopppprrrrrrrr"
    /* U+1E60 */ "sssssssssstttttt"
    /* U+1E70 */ "ttuuuuuuuuuuvvvv"
    /* U+1E80 */ "wwwwwwwwwwxxxxyy"
    /* U+1E90 */ "zzzzzzhtwyas..*."
    /* U+1EA0 */ "aaaaaaaaaaaaaaaa"
    /* U+1EB0 */ "aaaaaaaaeeeeeeee"
    /* U+1EC0 */ "eeeeeeeeiiiioooo"
    /* U+1ED0 */ "oooooooooooooooo"
    /* U+1EE0 */ "oooouuuuuuuuuuuu"
    /* U+1EF0 */ "uuyyyyyyyy......";
static const struct fold_pair fold_pairs[] = {
    {0x00C6, "ae"}, /* Æ */
    {0x00DE, "th"}, /* Þ */
    {0x00DF, "ss"}, /* ß */
    {0x00E6, "ae"}, /* æ */
    {0x00FE, "th"}, /* þ */
    {0x0132, "ij"}, /* Ĳ */
    {0x0133, "ij"}, /* ĳ */
    {0x0152, "oe"}, /* Œ */
    {0x0153, "oe"}, /* œ */
    {0x01C4, "dz"}, /* Ǆ */
    {0x01C5, "dz"}, /* ǅ */
    {0x01C6, "dz"}, /* ǆ */
    {0x01C7, "lj"}, /* Ǉ */
    {0x01C8, "lj"}, /* ǈ */
    {0x01C9, "lj"}, /* ǉ */
    {0x01CA, "nj"}, /* Ǌ */
    {0x01CB, "nj"}, /* ǋ */
    {0x01CC, "nj"}, /* ǌ */
    {0x01E2, "ae"}, /* Ǣ */
    {0x01E3, "ae"}, /* ǣ */
    {0x01F1, "dz"}, /* Ǳ */
    {0x01F2, "dz"}, /* ǲ */
    {0x01F3, "dz"}, /* ǳ */
    {0x01FC, "ae"}, /* Ǽ */
    {0x01FD, "ae"}, /* ǽ */
    {0x1E9E, "ss"}, /* ẞ */
};
/* clang-format on */

_Static_assert(sizeof fold_00c0 == 0x250 - 0xC0 + 1, "one character per code point");
_Static_assert(sizeof fold_1e00 == 0x100 + 1, "one character per code point");

/*
 * Writes the a-z letters of a Latin letter cp without accents at w and
 * returns the byte after them (w itself when cp folds to nothing).
 */
static char *
fold_code_point(char *w, uint32_t cp)
{
    char c;

    if (cp >= 0xC0 && cp < 0x250)
        c = fold_00c0[cp - 0xC0];
    else if (cp >= 0x1E00 && cp < 0x1F00)
        c = fold_1e00[cp - 0x1E00];
    else
        return w;
    if (c == '.')
        return w;
    if (c != '*') {
        *w++ = c;
        return w;
    }
    for (size_t i = 0; i < sizeof fold_pairs / sizeof fold_pairs[0]; i++) {
        if (fold_pairs[i].code_point == cp) {
            *w++ = fold_pairs[i].letters[0];
            *w++ = fold_pairs[i].letters[1];
            break;
        }
    }
    return w;
}

/* What Google's name form does with a character that is not ASCII. */
enum name_class { NAME_KEEP, NAME_SPACE, NAME_DROP };

/*
 * Sorts a non-ASCII code point for cdp_activation_name: white space, or
 * punctuation and symbols to drop (C1 controls, Latin-1 signs, modifier
 * letters used as apostrophes, General Punctuation, currency, dingbats and
 * emoji, CJK and full-width punctuation, format characters).  Letters,
 * digits and combining accents are kept.
 */
static enum name_class
name_class_of(uint32_t cp)
{
    if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return NAME_SPACE;
    if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2B0 && cp <= 0x2FF) ||
        (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x20A0 && cp <= 0x20CF) ||
        (cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x3001 && cp <= 0x3003) ||
        (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x3014 && cp <= 0x301F) ||
        (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || (cp >= 0xFF01 && cp <= 0xFF0F) ||
        (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
        (cp >= 0xFF5B && cp <= 0xFF65) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
        (cp >= 0x1F000 && cp <= 0x1FAFF) || cp == INVALID_CODE_POINT)
        return NAME_DROP;
    return NAME_KEEP;
}

/* ------------------------------------------------------------------------ */
/* Normal forms                                                             */
/* ------------------------------------------------------------------------ */

/* Appends s[0..len) trimmed, with ASCII letters lower-cased. */
static void
append_lower(struct cdp_buf *out, const char *s, size_t len)
{
    s = trim(s, &len);
    char *w = cdp_buf_reserve(out, len);
    for (size_t i = 0; i < len; i++)
        w[i] = (char)lower_ascii((unsigned char)s[i]);
    cdp_buf_commit(out, len);
}

static void
google_email(const char *s, size_t len, struct cdp_buf *out)
{
    size_t start = out->len;

    append_lower(out, s, len);
    char *local = out->data ? out->data + start : NULL;
    char *at = local ? memrchr(local, '@', out->len - start) : NULL;
    if (at == NULL)
        return;
    const char *domain = at + 1;
    if (strcmp(domain, "gmail.com") != 0 && strcmp(domain, "googlemail.com") != 0)
        return;
    /* Gmail ignores dots and everything from '+' on in the local part. */
    char *w = local;
    for (char *r = local; r < at && *r != '+'; r++) {
        if (*r != '.')
            *w++ = *r;
    }
    size_t domain_len = out->len - (size_t)(domain - out->data) + 1;
    memmove(w, at, domain_len); /* with its '@' */
    cdp_buf_truncate(out, (size_t)(w - out->data) + domain_len);
}

void
cdp_activation_google_email(const char *email, struct cdp_buf *out)
{
    if (email != NULL)
        google_email(email, strlen(email), out);
}

bool
cdp_activation_phone_e164(const char *phone, const char *country, struct cdp_buf *out)
{
    char e164[24];

    if (phone == NULL || !cdp_normalize_phone(phone, strlen(phone), country, e164, sizeof e164))
        return false;
    cdp_buf_puts(out, e164);
    return true;
}

static void
google_name(const char *s, size_t len, struct cdp_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    /* Lower-casing can turn 2 bytes into 3 (U+023A -> U+2C65), never more. */
    char *begin = cdp_buf_reserve(out, len + len / 2 + 4);
    char *w = begin;
    bool space = false;

    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            if (is_alpha_ascii(c) || is_digit(c)) {
                if (space && w > begin)
                    *w++ = ' ';
                space = false;
                *w++ = (char)lower_ascii(c);
            } else if (is_space(c)) {
                space = true;
            }
            continue;
        }
        uint32_t cp;
        i += utf8_decode(p + i, len - i, &cp);
        switch (name_class_of(cp)) {
        case NAME_SPACE:
            space = true;
            break;
        case NAME_DROP:
            break;
        case NAME_KEEP:
            if (space && w > begin)
                *w++ = ' ';
            space = false;
            w = utf8_encode(w, lower_code_point(cp));
            break;
        }
    }
    cdp_buf_commit(out, (size_t)(w - begin));
}

void
cdp_activation_name(const char *name, struct cdp_buf *out)
{
    if (name != NULL)
        google_name(name, strlen(name), out);
}

static void
meta_name(const char *s, size_t len, struct cdp_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    /* No letter folds to more bytes than it has (ß -> ss, ẞ -> ss). */
    char *begin = cdp_buf_reserve(out, len);
    char *w = begin;

    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            if (is_alpha_ascii(c))
                *w++ = (char)lower_ascii(c);
            continue;
        }
        uint32_t cp;
        i += utf8_decode(p + i, len - i, &cp);
        w = fold_code_point(w, cp);
    }
    cdp_buf_commit(out, (size_t)(w - begin));
}

void
cdp_activation_meta_name(const char *name, struct cdp_buf *out)
{
    if (name != NULL)
        meta_name(name, strlen(name), out);
}

/* Meta's zip: lower case without white space; in the US its first 5 digits. */
static void
meta_zip(const char *s, size_t len, bool us, struct cdp_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    char *begin = cdp_buf_reserve(out, len);
    char *w = begin;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (us) {
            if (is_digit(c) && w - begin < 5)
                *w++ = (char)c;
        } else if (c == 0xC2 && i + 1 < len && p[i + 1] == 0xA0) {
            i++;
        } else if (!is_space(c)) {
            *w++ = (char)lower_ascii(c);
        }
    }
    cdp_buf_commit(out, (size_t)(w - begin));
}

static bool
leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/*
 * Reads a birth date as YYYYMMDD into out[9]: "1990-05-17", "1990/5/17",
 * "1990.05.17" or "19900517", each possibly followed by a time
 * ("1990-05-17T00:00:00Z").  Day-first and month-first dates are refused:
 * "05/06/1990" cannot be read safely.  The date must exist.
 */
static bool
dob_form(const char *s, size_t len, char out[9])
{
    size_t i = 0;
    int y, m, d;

    while (i < len && i < 4 && is_digit((unsigned char)s[i]))
        i++;
    if (i != 4)
        return false;
    y = digits_value(s, 4);
    if (len >= 8 && is_digit((unsigned char)s[4])) {
        for (i = 4; i < 8; i++) {
            if (!is_digit((unsigned char)s[i]))
                return false;
        }
        if (len > 8 && is_digit((unsigned char)s[8]))
            return false;
        m = digits_value(s + 4, 2);
        d = digits_value(s + 6, 2);
    } else {
        char sep = len > 4 ? s[4] : '\0';
        if (sep != '-' && sep != '/' && sep != '.')
            return false;
        size_t b = 5;
        for (i = b; i < len && i < b + 2 && is_digit((unsigned char)s[i]); i++)
            ;
        if (i == b || i >= len || s[i] != sep)
            return false;
        m = digits_value(s + b, i - b);
        b = i + 1;
        for (i = b; i < len && i < b + 2 && is_digit((unsigned char)s[i]); i++)
            ;
        if (i == b || (i < len && is_digit((unsigned char)s[i])))
            return false;
        d = digits_value(s + b, i - b);
    }
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1800 || m < 1 || m > 12 || d < 1 || d > days[m - 1] + (m == 2 && leap_year(y) ? 1 : 0))
        return false;
    memcpy(out, s, 4);
    out[4] = (char)('0' + m / 10);
    out[5] = (char)('0' + m % 10);
    out[6] = (char)('0' + d / 10);
    out[7] = (char)('0' + d % 10);
    out[8] = '\0';
    return true;
}

static bool
equal_lower(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (n != len)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (lower_ascii((unsigned char)s[i]) != (unsigned char)word[i])
            return false;
    }
    return true;
}

/* Meta's gender: 'f', 'm', or 0 when the value says neither. */
static char
gender_form(const char *s, size_t len)
{
    static const char *const female[] = {"f",     "female",  "woman",   "w",
                                         "femme", "feminin", "féminin", "weiblich"};
    static const char *const male[] = {"m", "male", "man", "h", "homme", "masculin", "männlich"};

    for (size_t i = 0; i < sizeof female / sizeof female[0]; i++) {
        if (equal_lower(s, len, female[i]))
            return 'f';
    }
    for (size_t i = 0; i < sizeof male / sizeof male[0]; i++) {
        if (equal_lower(s, len, male[i]))
            return 'm';
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* SHA-256 and CSV cells                                                    */
/* ------------------------------------------------------------------------ */

void
cdp_activation_sha256_hex(const char *text, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    static bool ready;
    unsigned char digest[crypto_hash_sha256_BYTES];

    /* sodium_init() takes a lock on every call: call it once, not per hash. */
    if (!ready) {
        if (sodium_init() < 0) {
            fputs("cdp: libsodium cannot start\n", stderr);
            exit(1);
        }
        ready = true;
    }
    crypto_hash_sha256(digest, (const unsigned char *)text, len);
    for (size_t i = 0; i < sizeof digest; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0x0F];
    }
    out[64] = '\0';
}

/*
 * Replaces out[mark..len) by its SHA-256 hex; leaves an empty tail empty,
 * so a missing value gives an empty cell and not the hash of "".
 */
static void
hash_tail(struct cdp_buf *out, size_t mark)
{
    char hex[65];

    if (out->len == mark)
        return;
    cdp_activation_sha256_hex(out->data + mark, out->len - mark, hex);
    cdp_buf_truncate(out, mark);
    cdp_buf_append(out, hex, 64);
}

static bool
starts_formula(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/*
 * Turns out[mark..len), the text of one cell, into its CSV form in place:
 * the ' before a formula when escape is set, then the quotes when the text
 * holds the delimiter, a quote or a line break.  The text is rewritten from
 * its end, so nothing is copied when no change is needed.
 */
static void
finish_cell(struct cdp_buf *out, size_t mark, char delimiter, bool escape)
{
    size_t n = out->len - mark;
    const char *s = out->data + mark;
    bool prefix = escape && n > 0 && starts_formula(s[0]);
    bool quote = false;
    size_t quotes = 0;

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            quotes++;
            quote = true;
        } else if (c == delimiter || c == '\r' || c == '\n') {
            quote = true;
        }
    }
    if (!prefix && !quote)
        return;

    size_t extra = (prefix ? 1 : 0) + (quote ? 2 + quotes : 0);
    cdp_buf_reserve(out, extra);
    char *d = out->data + mark;
    size_t w = n + extra;
    if (quote)
        d[--w] = '"';
    for (size_t i = n; i-- > 0;) {
        char c = d[i];
        d[--w] = c;
        if (quote && c == '"')
            d[--w] = '"';
    }
    if (prefix)
        d[--w] = '\'';
    if (quote)
        d[--w] = '"';
    cdp_buf_commit(out, extra);
}

/* Appends s[0..len) as one cell. */
static void
cell(struct cdp_buf *out, const char *s, size_t len, char delimiter, bool escape)
{
    size_t mark = out->len;
    cdp_buf_append(out, s, len);
    finish_cell(out, mark, delimiter, escape);
}

void
cdp_activation_csv_cell(struct cdp_buf *out, const char *s, char delimiter, bool escape)
{
    if (s == NULL) {
        cdp_buf_reserve(out, 0); /* an empty cell still leaves out NUL-terminated */
        cdp_buf_commit(out, 0);
        return;
    }
    cell(out, s, strlen(s), delimiter, escape);
}

/* ------------------------------------------------------------------------ */
/* What a profile holds                                                     */
/* ------------------------------------------------------------------------ */

/*
 * The traits of one record, read from its JSON text without building the
 * object: the scanner lists the members ({name: [value, time, source]}),
 * and a value that is a string without escapes (almost all of them) is
 * read where it lies.  Any other value is parsed with jansson, member by
 * member, which is what reading the whole object would give.
 */
struct traits {
    struct cdp_json_member *members;
    int count;
    struct cdp_json_member *many; /* allocated when more than fit on the stack */
    json_t *parsed;               /* the value parsed last, freed by the next parse */
};

#define TRAITS_ON_STACK 64

/*
 * Lists the members of text[0..len) into tr; members (room for
 * TRAITS_ON_STACK) is the caller's.  Text that is not an object has no
 * traits.  Free with traits_close().
 */
static void
traits_open(struct traits *tr, struct cdp_json_member *members, const char *text, size_t len)
{
    int n = len ? cdp_jsonscan_members(text, len, members, TRAITS_ON_STACK) : 0;

    tr->members = members;
    tr->many = NULL;
    tr->parsed = NULL;
    if (n > TRAITS_ON_STACK) {
        /* Rare: scanned again into the heap once the parser accepts the whole object. */
        json_t *all = json_loadb(text, len, 0, NULL);
        bool object = json_is_object(all);
        json_decref(all);
        if (object) {
            tr->many = cdp_xmalloc((size_t)n * sizeof *tr->many);
            tr->members = tr->many;
            n = cdp_jsonscan_members(text, len, tr->many, n);
        } else {
            n = 0;
        }
    }
    tr->count = n < 0 ? 0 : n;
}

static void
traits_close(struct traits *tr)
{
    json_decref(tr->parsed);
    free(tr->many);
}

/* The member holding the named trait (the last one, as a parser keeps), or NULL. */
static const struct cdp_json_member *
trait_member(const struct traits *tr, const char *name)
{
    for (int i = tr->count; i-- > 0;) {
        if (cdp_jsonscan_key_is(&tr->members[i], name))
            return &tr->members[i];
    }
    return NULL;
}

/* The value of a trait's member, parsed, or NULL; valid until the next parse. */
static json_t *
member_json(struct traits *tr, const struct cdp_json_member *m)
{
    json_decref(tr->parsed);
    tr->parsed = json_loadb(m->value, m->value_len, 0, NULL);
    return json_array_get(tr->parsed, 0);
}

/* The parsed value of the named trait, or NULL; valid until the next parse. */
static json_t *
trait_json(struct traits *tr, const char *name)
{
    const struct cdp_json_member *m = trait_member(tr, name);
    return m ? member_json(tr, m) : NULL;
}

/* A trait value as text: a trimmed byte range, not NUL-terminated. */
struct text {
    const char *s;
    size_t len;
    char number[32]; /* the digits when the value is a JSON number */
};

/* Reads a string or a whole number as text; false for anything else or "". */
static bool
value_text(json_t *v, struct text *t)
{
    if (json_is_string(v)) {
        t->len = json_string_length(v);
        t->s = trim(json_string_value(v), &t->len);
    } else if (json_is_integer(v)) {
        t->len = (size_t)snprintf(t->number, sizeof t->number, "%" JSON_INTEGER_FORMAT,
                                  json_integer_value(v));
        t->s = t->number;
    } else if (json_is_real(v) && fabs(json_real_value(v)) < 1e15 &&
               json_real_value(v) == floor(json_real_value(v))) {
        /* A zip code or a date stored as 75001.0: its digits, not "75001.0". */
        t->len = (size_t)snprintf(t->number, sizeof t->number, "%.0f", json_real_value(v));
        t->s = t->number;
    } else {
        return false;
    }
    return t->len > 0;
}

/*
 * Reads the named trait as text (see value_text).  The text may point into
 * the value parsed last: use it before reading another trait.
 */
static bool
trait_value_text(struct traits *tr, const char *name, struct text *t)
{
    const struct cdp_json_member *m = trait_member(tr, name);

    if (m == NULL)
        return false;
    const char *v = m->value, *end = v + m->value_len;
    if (m->value_len >= 2 && v[0] == '[' && v[1] == '"') {
        const char *s = v + 2, *q = s;
        while (q < end && *q != '"' && *q != '\\')
            q++;
        if (q < end && *q == '"') {
            t->len = (size_t)(q - s);
            t->s = trim(s, &t->len);
            return t->len > 0;
        }
    }
    return value_text(member_json(tr, m), t);
}

/* The first of the named traits (a NULL-ended list) that has text. */
static bool
trait_text(struct traits *tr, const char *const *names, struct text *t)
{
    for (; *names != NULL; names++) {
        if (trait_value_text(tr, *names, t))
            return true;
    }
    return false;
}

static const char *const email_traits[] = {"email", NULL};
static const char *const phone_traits[] = {"phone", NULL};
static const char *const first_name_traits[] = {"firstName", "first_name", "firstname", NULL};
static const char *const last_name_traits[] = {"lastName", "last_name", "lastname", NULL};
static const char *const city_traits[] = {"city", NULL};
static const char *const state_traits[] = {"state", "region", NULL};
static const char *const zip_traits[] = {"postalCode", "postal_code", "zip", "zipcode", NULL};
static const char *const country_traits[] = {"country", NULL};
static const char *const dob_traits[] = {"birthday", "birthdate", "dob", NULL};
static const char *const gender_traits[] = {"gender", NULL};

/* The contact points of a profile, resolved once per row. */
struct contact {
    const char *email; /* normalised; NULL when none */
    const char *user;  /* the external id; NULL when none */
    char phone[24];    /* E.164, or "" */
    char country[3];   /* ISO alpha-2 upper case, or "" */
    char email_buf[320];
};

static bool
two_letters(const char *s, size_t len)
{
    return len == 2 && is_alpha_ascii((unsigned char)s[0]) && is_alpha_ascii((unsigned char)s[1]);
}

/*
 * Sets c->country from the profile's country trait when it is a two-letter
 * code, else from the default country when the trait is absent.  A trait
 * that is not a code ("France") leaves it empty: guessing is worse than
 * nothing for matching.
 */
static void
country_of(struct traits *tr, const char *default_country, struct contact *c)
{
    struct text t;
    const char *s = NULL;

    if (trait_text(tr, country_traits, &t)) {
        if (two_letters(t.s, t.len))
            s = t.s;
    } else if (default_country != NULL && two_letters(default_country, strlen(default_country))) {
        s = default_country;
    }
    if (s != NULL) {
        c->country[0] = (char)upper_ascii((unsigned char)s[0]);
        c->country[1] = (char)upper_ascii((unsigned char)s[1]);
    }
}

/*
 * Fills c from the record: identifiers first (they were normalised when
 * stored), then traits.  The country is resolved when want_country is set
 * or when a phone trait needs it; the phone is looked for only when
 * want_phone is set.  c->email and c->user may point into the record.
 */
static void
contact_of(const struct cdp_profile_record *r, struct traits *tr, const char *default_country,
           bool want_phone, bool want_country, struct contact *c)
{
    const char *phone_id = NULL;
    struct text t;

    c->email = c->user = NULL;
    memset(c->phone, 0, sizeof c->phone);
    memset(c->country, 0, sizeof c->country);
    const char *s = r->identifiers, *end = s + r->identifiers_len;
    while (s < end) {
        size_t n = strnlen(s, (size_t)(end - s));
        if (n == (size_t)(end - s))
            break; /* not NUL-terminated: a damaged record */
        if (c->email == NULL && n > 6 && memcmp(s, "email:", 6) == 0)
            c->email = s + 6;
        else if (phone_id == NULL && n > 6 && memcmp(s, "phone:", 6) == 0)
            phone_id = s + 6;
        else if (c->user == NULL && n > 5 && memcmp(s, "user:", 5) == 0)
            c->user = s + 5;
        s += n + 1;
    }
    if (want_country)
        country_of(tr, default_country, c);

    if (c->email == NULL && trait_text(tr, email_traits, &t) &&
        cdp_normalize_email(t.s, t.len, c->email_buf, sizeof c->email_buf) &&
        !cdp_normalize_is_junk(c->email_buf))
        c->email = c->email_buf;

    if (!want_phone)
        return;
    if (phone_id != NULL) {
        size_t n = strlen(phone_id);
        if (n < sizeof c->phone)
            memcpy(c->phone, phone_id, n); /* NUL-terminated by the memset */
    } else if (trait_text(tr, phone_traits, &t)) {
        if (!want_country)
            country_of(tr, default_country, c);
        const char *region = c->country[0] ? c->country : default_country;
        if (!cdp_normalize_phone(t.s, t.len, region, c->phone, sizeof c->phone) ||
            cdp_normalize_is_junk(c->phone))
            c->phone[0] = '\0';
    }
}

/* ------------------------------------------------------------------------ */
/* Formats                                                                  */
/* ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum cdp_activation_format format;
    const char *header;
} formats[] = {
    {"mailchimp", CDP_ACT_MAILCHIMP, "Email Address,First Name,Last Name,Tags\r\n"},
    {"brevo", CDP_ACT_BREVO, "EMAIL;FIRSTNAME;LASTNAME;SMS\r\n"},
    {"klaviyo", CDP_ACT_KLAVIYO, "Email,Phone Number,First Name,Last Name\r\n"},
    {"google-customer-match", CDP_ACT_GOOGLE, "Email,Phone,First Name,Last Name,Country,Zip\r\n"},
    {"meta-custom-audience", CDP_ACT_META,
     "email,phone,fn,ln,ct,st,zip,country,dob,gen,external_id\r\n"},
};

bool
cdp_activation_format_from_name(const char *name, enum cdp_activation_format *f)
{
    for (size_t i = 0; name != NULL && i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *f = formats[i].format;
            return true;
        }
    }
    return false;
}

char
cdp_activation_delimiter(enum cdp_activation_format f)
{
    return f == CDP_ACT_BREVO ? ';' : ',';
}

void
cdp_activation_header(enum cdp_activation_format f, struct cdp_buf *out)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (formats[i].format == f) {
            cdp_buf_puts(out, formats[i].header);
            return;
        }
    }
}

/* A cell of free text from the named traits, trimmed and formula-safe. */
static void
trait_cell(struct cdp_buf *out, struct traits *tr, const char *const *names, char delimiter)
{
    struct text t;
    if (trait_text(tr, names, &t))
        cell(out, t.s, t.len, delimiter, true);
}

/* Appends one tag, trimmed, after a ',' unless it is the first. */
static void
append_tag(struct cdp_buf *out, size_t mark, const char *s, size_t len)
{
    s = trim(s, &len);
    if (len == 0)
        return;
    if (out->len > mark)
        cdp_buf_putc(out, ',');
    cdp_buf_append(out, s, len);
}

/* Mailchimp's Tags cell: every tag in one cell, joined with ",". */
static void
tags_cell(struct cdp_buf *out, struct traits *tr, char delimiter)
{
    json_t *v = trait_json(tr, "tags");
    size_t mark = out->len;
    struct text t;

    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (value_text(item, &t))
                append_tag(out, mark, t.s, t.len);
        }
    } else if (value_text(v, &t)) {
        const char *s = t.s, *end = t.s + t.len;
        while (s <= end) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *stop = comma ? comma : end;
            append_tag(out, mark, s, (size_t)(stop - s));
            s = stop + 1;
        }
    }
    finish_cell(out, mark, delimiter, true);
}

/* A hashed cell of Google's or Meta's name form of the named traits. */
static void
hashed_name_cell(struct cdp_buf *out, struct traits *tr, const char *const *names, bool meta)
{
    struct text t;
    size_t mark = out->len;

    if (!trait_text(tr, names, &t))
        return;
    if (meta)
        meta_name(t.s, t.len, out);
    else
        google_name(t.s, t.len, out);
    hash_tail(out, mark);
}

static void
mailchimp_row(struct cdp_buf *out, struct traits *tr, const struct contact *c)
{
    cell(out, c->email, strlen(c->email), ',', false);
    cdp_buf_putc(out, ',');
    trait_cell(out, tr, first_name_traits, ',');
    cdp_buf_putc(out, ',');
    trait_cell(out, tr, last_name_traits, ',');
    cdp_buf_putc(out, ',');
    tags_cell(out, tr, ',');
}

static void
brevo_row(struct cdp_buf *out, struct traits *tr, const struct contact *c)
{
    cell(out, c->email, strlen(c->email), ';', false);
    cdp_buf_putc(out, ';');
    trait_cell(out, tr, first_name_traits, ';');
    cdp_buf_putc(out, ';');
    trait_cell(out, tr, last_name_traits, ';');
    cdp_buf_putc(out, ';');
    cdp_buf_puts(out, c->phone);
}

static void
klaviyo_row(struct cdp_buf *out, struct traits *tr, const struct contact *c)
{
    cell(out, c->email, strlen(c->email), ',', false);
    cdp_buf_putc(out, ',');
    cdp_buf_puts(out, c->phone);
    cdp_buf_putc(out, ',');
    trait_cell(out, tr, first_name_traits, ',');
    cdp_buf_putc(out, ',');
    trait_cell(out, tr, last_name_traits, ',');
}

static void
google_row(struct cdp_buf *out, struct traits *tr, const struct contact *c)
{
    size_t mark = out->len;

    if (c->email != NULL) {
        google_email(c->email, strlen(c->email), out);
        hash_tail(out, mark);
    }
    cdp_buf_putc(out, ',');
    mark = out->len;
    cdp_buf_puts(out, c->phone);
    hash_tail(out, mark);
    cdp_buf_putc(out, ',');
    hashed_name_cell(out, tr, first_name_traits, false);
    cdp_buf_putc(out, ',');
    hashed_name_cell(out, tr, last_name_traits, false);
    cdp_buf_putc(out, ',');
    cdp_buf_puts(out, c->country);
    cdp_buf_putc(out, ',');
    trait_cell(out, tr, zip_traits, ',');
}

static void
meta_row(struct cdp_buf *out, struct traits *tr, const struct contact *c)
{
    struct text t;
    size_t mark = out->len;

    if (c->email != NULL) {
        append_lower(out, c->email, strlen(c->email));
        hash_tail(out, mark);
    }
    cdp_buf_putc(out, ',');
    mark = out->len;
    if (c->phone[0] == '+')
        cdp_buf_puts(out, c->phone + 1); /* digits only, country code first */
    hash_tail(out, mark);
    cdp_buf_putc(out, ',');
    hashed_name_cell(out, tr, first_name_traits, true);
    cdp_buf_putc(out, ',');
    hashed_name_cell(out, tr, last_name_traits, true);
    cdp_buf_putc(out, ',');
    hashed_name_cell(out, tr, city_traits, true);
    cdp_buf_putc(out, ',');
    hashed_name_cell(out, tr, state_traits, true);
    cdp_buf_putc(out, ',');
    mark = out->len;
    if (trait_text(tr, zip_traits, &t))
        meta_zip(t.s, t.len, strcmp(c->country, "US") == 0, out);
    hash_tail(out, mark);
    cdp_buf_putc(out, ',');
    mark = out->len;
    if (c->country[0]) {
        cdp_buf_putc(out, (char)lower_ascii((unsigned char)c->country[0]));
        cdp_buf_putc(out, (char)lower_ascii((unsigned char)c->country[1]));
    }
    hash_tail(out, mark);
    cdp_buf_putc(out, ',');
    mark = out->len;
    char dob[9];
    if (trait_text(tr, dob_traits, &t) && dob_form(t.s, t.len, dob))
        cdp_buf_append(out, dob, 8);
    hash_tail(out, mark);
    cdp_buf_putc(out, ',');
    mark = out->len;
    char gender;
    if (trait_text(tr, gender_traits, &t) && (gender = gender_form(t.s, t.len)) != 0)
        cdp_buf_putc(out, gender);
    hash_tail(out, mark);
    cdp_buf_putc(out, ',');
    /* The external id is the advertiser's own: sent as it is, like Meta's pixel sends it. */
    if (c->user != NULL)
        cell(out, c->user, strlen(c->user), ',', false);
}

bool
cdp_activation_record_row(enum cdp_activation_format f, const struct cdp_profile_record *r,
                          const char *country, struct cdp_buf *out, const char **why)
{
    bool email_tool = f == CDP_ACT_MAILCHIMP || f == CDP_ACT_BREVO || f == CDP_ACT_KLAVIYO;
    struct cdp_json_member members[TRAITS_ON_STACK];
    struct traits tr;
    struct contact c;
    bool written = false;

    traits_open(&tr, members, r->traits, r->traits_len);
    contact_of(r, &tr, country, f != CDP_ACT_MAILCHIMP, !email_tool, &c);
    if (email_tool && c.email == NULL) {
        if (why != NULL)
            *why = "no e-mail";
        goto out;
    }
    if (!email_tool && c.email == NULL && c.phone[0] == '\0') {
        if (why != NULL)
            *why = "no e-mail or phone";
        goto out;
    }

    switch (f) {
    case CDP_ACT_MAILCHIMP:
        mailchimp_row(out, &tr, &c);
        break;
    case CDP_ACT_BREVO:
        brevo_row(out, &tr, &c);
        break;
    case CDP_ACT_KLAVIYO:
        klaviyo_row(out, &tr, &c);
        break;
    case CDP_ACT_GOOGLE:
        google_row(out, &tr, &c);
        break;
    case CDP_ACT_META:
        meta_row(out, &tr, &c);
        break;
    }
    cdp_buf_append(out, "\r\n", 2);
    written = true;
out:
    traits_close(&tr);
    return written;
}

bool
cdp_activation_row(enum cdp_activation_format f, const struct cdp_profile *p, const char *country,
                   struct cdp_buf *out, const char **why)
{
    struct cdp_buf record = CDP_BUF_INIT;
    struct cdp_profile_record r;
    bool written;

    /* The profile as the store would hold it (a record just encoded always reads back). */
    cdp_profile_encode(p, &record);
    written = cdp_profile_record_read(&r, record.data, record.len) &&
              cdp_activation_record_row(f, &r, country, out, why);
    cdp_buf_free(&record);
    return written;
}
