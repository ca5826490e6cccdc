/*
 * jsonscan.c - a validating JSON scanner that builds nothing.
 */
#include "jsonscan.h"

#include <stdint.h>
#include <string.h>

struct scan {
    const char *start;
    const char *p;
    const char *end;
    int depth;
    int max_depth;
    const char *reason;
};

static void
skip_space(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool
fail(struct scan *s, const char *reason)
{
    if (s->reason == NULL)
        s->reason = reason;
    return false;
}

static bool
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Reads "\\uXXXX" at p into unit; false when it is not one. */
static bool
read_unit(const char *p, const char *end, unsigned *unit)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return false;
    *unit = 0;
    for (int i = 2; i < 6; i++) {
        char c = p[i];
        if (!is_hex(c))
            return false;
        *unit = *unit * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return true;
}

static bool
scan_string(struct scan *s)
{
    s->p++; /* the opening quote */
    for (;;) {
        /* Fast path: eight plain bytes at a time, then byte by byte. */
        while (s->end - s->p >= 8) {
            uint64_t w;
            memcpy(&w, s->p, 8);
            /* Bytes equal to '"' or '\\', or below 0x20, stop the run. */
            uint64_t quote = w ^ UINT64_C(0x2222222222222222);
            uint64_t slash = w ^ UINT64_C(0x5c5c5c5c5c5c5c5c);
            uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
            uint64_t special =
                ((quote - ones) & ~quote) | ((slash - ones) & ~slash) | ((w - ones * 0x20) & ~w);
            if (special & high)
                break;
            s->p += 8;
        }
        while (s->p < s->end) {
            unsigned char c = (unsigned char)*s->p;
            if (c == '"' || c == '\\' || c < 0x20)
                break;
            s->p++;
        }
        if (s->p >= s->end)
            return fail(s, "unterminated string");
        char c = *s->p;
        if (c == '"') {
            s->p++;
            return true;
        }
        if ((unsigned char)c < 0x20)
            return fail(s, "control character in string");
        /* A backslash escape. */
        if (s->end - s->p < 2)
            return fail(s, "unterminated string");
        char e = s->p[1];
        if (e == 'u') {
            unsigned unit;
            if (!read_unit(s->p, s->end, &unit))
                return fail(s, "bad \\u escape");
            s->p += 6;
            if (unit == 0)
                return fail(s, "\\u0000 is not allowed in a string");
            if (unit >= 0xdc00 && unit <= 0xdfff)
                return fail(s, "lone low surrogate in \\u escape");
            if (unit >= 0xd800 && unit <= 0xdbff) {
                unsigned low;
                if (!read_unit(s->p, s->end, &low) || low < 0xdc00 || low > 0xdfff)
                    return fail(s, "high surrogate without its low half");
                s->p += 6;
            }
        } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
            s->p += 2;
        } else {
            return fail(s, "bad escape in string");
        }
    }
}

static bool
scan_number(struct scan *s)
{
    const char *p = s->p;
    if (p < s->end && *p == '-')
        p++;
    if (p >= s->end)
        return fail(s, "bad number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return fail(s, "bad number");
    }
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return fail(s, "bad number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return fail(s, "bad number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return true;
}

static bool
scan_literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "unexpected character");
    s->p += n;
    return true;
}

static bool scan_value(struct scan *s);

static bool
scan_container(struct scan *s, char close)
{
    if (++s->depth > s->max_depth)
        return fail(s, "nesting too deep");
    s->p++; /* the opening bracket */
    skip_space(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        if (close == '}') {
            skip_space(s);
            if (s->p >= s->end || *s->p != '"')
                return fail(s, "object key expected");
            if (!scan_string(s))
                return false;
            skip_space(s);
            if (s->p >= s->end || *s->p != ':')
                return fail(s, "':' expected");
            s->p++;
        }
        if (!scan_value(s))
            return false;
        skip_space(s);
        if (s->p >= s->end)
            return fail(s, "unexpected end of input");
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == close) {
            s->p++;
            s->depth--;
            return true;
        }
        return fail(s, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static bool
scan_value(struct scan *s)
{
    skip_space(s);
    if (s->p >= s->end)
        return fail(s, "value expected");
    switch (*s->p) {
    case '{':
        return scan_container(s, '}');
    case '[':
        return scan_container(s, ']');
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return scan_number(s);
        return fail(s, "unexpected character");
    }
}

bool
cdp_jsonscan_check(const char *text, size_t len, int max_depth, size_t *column, const char **reason)
{
    struct scan s = {text, text, text + len, 0, max_depth, NULL};
    bool ok = scan_value(&s);
    if (ok) {
        skip_space(&s);
        if (s.p != s.end)
            ok = fail(&s, "text after the value");
    }
    if (!ok) {
        *column = (size_t)(s.p - s.start) + 1;
        *reason = s.reason;
    }
    return ok;
}

/* The end of a string (p at its opening quote) known to be valid. */
static const char *
skip_string(const char *p, const char *end)
{
    p++;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL)
            return end;
        /* The quote closes the string unless an odd run of backslashes escapes it. */
        const char *b = q;
        while (b > p && b[-1] == '\\')
            b--;
        if ((q - b) % 2 == 0)
            return q + 1;
        p = q + 1;
    }
}

/* The end of a value known to be valid. */
static const char *
skip_valid(const char *p, const char *end)
{
    int depth = 0;
    do {
        while (p < end &&
               (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',' || *p == ':'))
            p++;
        if (p >= end)
            return end;
        char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
        } else if (c == '}' || c == ']') {
            depth--;
            p++;
        } else {
            while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
                   *p != '\n' && *p != '\r')
                p++;
        }
    } while (depth > 0);
    return p;
}

int
cdp_jsonscan_members(const char *text, size_t len, struct cdp_json_member *out, int max)
{
    const char *p = text, *end = text + len;
    int n = 0;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || *p != '{')
        return -1;
    p++;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ','))
            p++;
        if (p >= end || *p == '}')
            return n;
        /* key */
        const char *key = p + 1;
        p = skip_string(p, end);
        size_t key_len = (size_t)(p - 1 - key);
        bool escaped = memchr(key, '\\', key_len) != NULL;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':'))
            p++;
        const char *value = p;
        p = skip_valid(p, end);
        if (n < max) {
            out[n].key = key;
            out[n].key_len = key_len;
            out[n].key_escaped = escaped;
            out[n].value = value;
            out[n].value_len = (size_t)(p - value);
        }
        n++;
    }
}

bool
cdp_jsonscan_key_is(const struct cdp_json_member *m, const char *name)
{
    return !m->key_escaped && m->key_len > 0 && name[0] == m->key[0] &&
           strncmp(name, m->key, m->key_len) == 0 && name[m->key_len] == '\0';
}
