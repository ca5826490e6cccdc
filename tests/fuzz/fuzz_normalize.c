/*
 * fuzz_normalize.c - identifier values: e-mail addresses, phone numbers,
 * trimming, junk detection and UTF-8 validation.
 *
 * Properties checked:
 *   - a normalised e-mail normalises to itself, has one '@' and no ASCII
 *     capital;
 *   - a normalised phone number is "+" and 8 to 15 digits, and normalises
 *     to itself with the same default country and with none;
 *   - trimming is idempotent and never grows the text (checked on text
 *     without NUL bytes, whose length strlen() gives);
 *   - cdp_normalize_utf8_valid agrees with a plain reference decoder;
 *   - a result written into an output buffer of exactly the size given
 *     never overruns it, and a short buffer gives either the same result or
 *     a failure with "".
 */
#include "normalize.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utf8_reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what, const char *in, size_t len)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s (input \"%.*s\")\n", what, (int)(len < 200 ? len : 200),
                in);
        abort();
    }
}

/* Calls fn with an output buffer of exactly outsize bytes (so ASan sees an overrun). */
typedef bool (*norm_fn)(const char *in, size_t len, const char *country, char *out,
                        size_t outsize);

static bool
email_fn(const char *in, size_t len, const char *country, char *out, size_t outsize)
{
    (void)country;
    return cdp_normalize_email(in, len, out, outsize);
}

static bool
phone_fn(const char *in, size_t len, const char *country, char *out, size_t outsize)
{
    return cdp_normalize_phone(in, len, country, out, outsize);
}

static bool
trim_fn(const char *in, size_t len, const char *country, char *out, size_t outsize)
{
    (void)country;
    return cdp_normalize_trim(in, len, out, outsize);
}

/* Runs fn with a short exact-size buffer and compares with the full result. */
static void
short_buffer(norm_fn fn, const char *in, size_t len, const char *country, bool full_ok,
             const char *full, size_t outsize)
{
    char *out = malloc(outsize);
    if (out == NULL)
        return;
    bool ok = fn(in, len, country, out, outsize);
    if (ok)
        check(full_ok && strcmp(out, full) == 0, "short buffer gives the full result", in, len);
    else
        check(out[0] == '\0', "a failure leaves \"\"", in, len);
    free(out);
}

static void
check_email(const char *in, size_t len, size_t small)
{
    char out[400], again[400];
    bool ok = cdp_normalize_email(in, len, out, sizeof out);
    if (!ok) {
        check(out[0] == '\0', "a failed e-mail leaves \"\"", in, len);
    } else {
        size_t n = strlen(out);
        check(n > 0 && n <= len, "e-mail length", in, len);
        const char *at = strchr(out, '@');
        check(at != NULL && strchr(at + 1, '@') == NULL, "one '@'", in, len);
        for (size_t i = 0; i < n; i++)
            check(!(out[i] >= 'A' && out[i] <= 'Z'), "e-mail lower-cased", in, len);
        check(cdp_normalize_utf8_valid(out, n), "e-mail is UTF-8", in, len);
        check(cdp_normalize_email(out, n, again, sizeof again) && strcmp(out, again) == 0,
              "a normalised e-mail normalises to itself", in, len);
    }
    short_buffer(email_fn, in, len, NULL, ok, out, small);
}

static void
check_phone(const char *in, size_t len, const char *country, size_t small)
{
    char out[64], again[64];
    bool ok = cdp_normalize_phone(in, len, country, out, sizeof out);
    if (!ok) {
        check(out[0] == '\0', "a failed phone leaves \"\"", in, len);
    } else {
        size_t n = strlen(out);
        check(out[0] == '+' && n >= 9 && n <= 16, "E.164 length", in, len);
        for (size_t i = 1; i < n; i++)
            check(out[i] >= '0' && out[i] <= '9', "E.164 digits", in, len);
        check(out[1] != '0', "E.164 calling code", in, len);
        check(n + 1 <= 17, "17 bytes are enough", in, len);
        check(cdp_normalize_phone(out, n, country, again, sizeof again) &&
                  strcmp(out, again) == 0,
              "a normalised phone normalises to itself", in, len);
        check(cdp_normalize_phone(out, n, NULL, again, sizeof again) && strcmp(out, again) == 0,
              "a normalised phone normalises to itself without a country", in, len);
    }
    short_buffer(phone_fn, in, len, country, ok, out, small);
}

static void
check_trim(const char *in, size_t len, size_t small)
{
    char *out = malloc(len + 1), *again = malloc(len + 1);
    if (out == NULL || again == NULL) {
        free(out);
        free(again);
        return;
    }
    bool ok = cdp_normalize_trim(in, len, out, len + 1);
    /* Inner NUL bytes are kept; strlen() could not tell the length then. */
    if (ok && memchr(in, '\0', len) == NULL) {
        size_t n = strlen(out);
        check(n <= len, "trim does not grow", in, len);
        check(cdp_normalize_trim(out, n, again, len + 1) && strcmp(out, again) == 0,
              "trim is idempotent", in, len);
    }
    short_buffer(trim_fn, in, len, NULL, ok, out, small);
    free(out);
    free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const countries[] = {"FR", "fr", "US", "IT", "GB", "DE", "BR",
                                            "RU", "HU", "LT", "CN", "ES", NULL, "XX"};
    /* An exact copy, so that a read past the end is caught. */
    char *in = malloc(size ? size : 1);
    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    size_t small = 1 + size % 24; /* a short output buffer */

    check(cdp_normalize_utf8_valid(in, size) == utf8_reference(data, size),
          "UTF-8 validation agrees with the reference", in, size);
    check_email(in, size, small);
    for (size_t i = 0; i < sizeof countries / sizeof countries[0]; i++)
        check_phone(in, size, countries[i], small);
    check_trim(in, size, small);

    /* Junk and country codes want NUL-terminated text. */
    char *text = malloc(size + 1);
    if (text != NULL) {
        memcpy(text, data, size);
        text[size] = '\0';
        bool junk = cdp_normalize_is_junk(text);
        char trimmed[512];
        if (size < sizeof trimmed && cdp_normalize_trim(text, strlen(text), trimmed,
                                                        sizeof trimmed))
            check(cdp_normalize_is_junk(trimmed) == junk, "junk ignores surrounding space", in,
                  size);
        int code = cdp_normalize_country_code(text);
        check(code >= 0 && code < 1000, "calling code range", in, size);
        free(text);
    }
    check(cdp_normalize_is_junk(NULL), "NULL is junk", "", 0);
    free(in);
    return 0;
}
