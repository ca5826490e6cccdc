/*
 * fuzz_time.c - timestamps and durations: cdp_time_parse,
 * cdp_time_parse_format with the formats users give to --date-format (and
 * with a format taken from the input), cdp_time_parse_duration.
 *
 * Properties checked:
 *   - a time that parses formats to text that parses back to the same ms
 *     (for years 0000..9999, the only ones the formatter writes in the
 *     unsigned four-digit form the ISO parser reads);
 *   - to_civil then from_civil gives back the same ms;
 *   - a duration is never negative.
 * When the input holds a NUL byte, the bytes before it are used as a format
 * and the bytes after it as the text.
 */
#include "timeparse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what, const char *text, size_t len)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s (input \"%.*s\")\n", what, (int)(len < 200 ? len : 200),
                text);
        abort();
    }
}

/* The range written as YYYY-MM-DDTHH:MM:SS.mmmZ with an unsigned four-digit year. */
static bool
formattable(int64_t ms)
{
    static const int64_t lo = INT64_C(-62167219200000);  /* 0000-01-01T00:00:00Z */
    static const int64_t hi = INT64_C(253402300800000);  /* 10000-01-01T00:00:00Z */
    return ms >= lo && ms < hi;
}

static void
round_trip(int64_t ms, const char *text, size_t len)
{
    int year, month, day, hour, minute, second, millis;
    cdp_time_to_civil(ms, &year, &month, &day, &hour, &minute, &second, &millis);
    check(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour >= 0 && hour <= 23 &&
              minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && millis >= 0 &&
              millis <= 999,
          "civil fields in range", text, len);
    check(cdp_time_from_civil(year, month, day, hour, minute, second, millis) == ms,
          "from_civil(to_civil(ms)) == ms", text, len);

    char out[32];
    cdp_time_format(ms, out, sizeof out);
    check(strlen(out) < sizeof out, "formatted time fits", text, len);
    if (!formattable(ms))
        return;
    check(strlen(out) == 24, "formatted time is 24 characters", text, len);
    int64_t again = 0;
    check(cdp_time_parse(out, strlen(out), &again), "formatted time parses", text, len);
    check(again == ms, "format then parse gives the same ms", text, len);

    /* A short buffer is truncated, never overrun. */
    char small[8];
    cdp_time_format(ms, small, sizeof small);
    check(strlen(small) == sizeof small - 1 && memcmp(small, out, sizeof small - 1) == 0,
          "truncated format", text, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = {
        "%d/%m/%Y",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%m/%d/%Y %I:%M %p",
        "%Y-%m-%d %H:%M:%S",
        "%F %T%z",
        "%e %B %Y",
        "%a, %d %b %Y %H:%M:%S %z",
        "%d.%m.%y",
        "%Y%m%d%H%M%S.%f",
        "%H:%M %d-%b-%Y",
    };
    /* Copy so that reading one byte past the end is caught. */
    char *s = malloc(size ? size : 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    int64_t ms = 0;

    if (cdp_time_parse(s, size, &ms))
        round_trip(ms, s, size);

    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (cdp_time_parse_format(s, size, formats[i], &ms))
            round_trip(ms, s, size);
    }

    if (cdp_time_parse_duration(s, size, &ms))
        check(ms >= 0, "a duration is not negative", s, size);

    /* "format\0text": a format of the input's own. */
    const char *nul = memchr(s, '\0', size);
    if (nul != NULL) {
        const char *text = nul + 1;
        size_t len = size - (size_t)(text - s);
        if (cdp_time_parse_format(text, len, s, &ms))
            round_trip(ms, text, len);
    }
    free(s);
    return 0;
}
