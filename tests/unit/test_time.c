/*
 * test_time.c - unit tests for lib/timeparse.c.
 */
#include "timeparse.h"
#include "check.h"

#include <string.h>

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* 2025-12-24T10:00:00Z */
#define XMAS_10H INT64_C(1766570400000)

static int64_t parsed;

static bool
parse(const char *s)
{
    parsed = INT64_MIN;
    return cdp_time_parse(s, strlen(s), &parsed);
}

/* Parses s and returns the result, or INT64_MIN when it is rejected. */
static int64_t
ms_of(const char *s)
{
    int64_t v = INT64_MIN;
    if (!cdp_time_parse(s, strlen(s), &v)) {
        return INT64_MIN;
    }
    return v;
}

static int64_t
ms_fmt(const char *s, const char *format)
{
    int64_t v = INT64_MIN;
    if (!cdp_time_parse_format(s, strlen(s), format, &v)) {
        return INT64_MIN;
    }
    return v;
}

static int64_t
dur(const char *s)
{
    int64_t v = INT64_MIN;
    if (!cdp_time_parse_duration(s, strlen(s), &v)) {
        return INT64_MIN;
    }
    return v;
}

static const char *
fmt(int64_t ms)
{
    static char out[64];
    cdp_time_format(ms, out, sizeof out);
    return out;
}

/* Formats parse(s); "" when s is rejected. */
static const char *
roundtrip(const char *s)
{
    int64_t v;
    if (!cdp_time_parse(s, strlen(s), &v)) {
        return "";
    }
    return fmt(v);
}

static void
test_civil(void)
{
    CHECK_INT(cdp_time_from_civil(1970, 1, 1, 0, 0, 0, 0), 0);
    CHECK_INT(cdp_time_from_civil(1970, 1, 2, 0, 0, 0, 0), DAY);
    CHECK_INT(cdp_time_from_civil(1969, 12, 31, 23, 59, 59, 999), -1);
    CHECK_INT(cdp_time_from_civil(2025, 12, 24, 10, 0, 0, 0), XMAS_10H);
    CHECK_INT(cdp_time_from_civil(2024, 2, 29, 0, 0, 0, 0), INT64_C(1709164800000));
    CHECK_INT(cdp_time_from_civil(2000, 2, 29, 0, 0, 0, 0), INT64_C(951782400000));
    CHECK_INT(cdp_time_from_civil(1900, 3, 1, 0, 0, 0, 0), INT64_C(-2203891200000));
    CHECK_INT(cdp_time_from_civil(1600, 2, 29, 12, 0, 0, 0), INT64_C(-11670955200000));
    CHECK_INT(cdp_time_from_civil(1, 1, 1, 0, 0, 0, 0), INT64_C(-62135596800000));
    CHECK_INT(cdp_time_from_civil(9999, 12, 31, 23, 59, 59, 999), INT64_C(253402300799999));
    /* Out-of-range fields carry over */
    CHECK_INT(cdp_time_from_civil(2025, 12, 24, 24, 0, 0, 0), INT64_C(1766620800000));
    CHECK_INT(cdp_time_from_civil(2025, 13, 1, 0, 0, 0, 0), INT64_C(1767225600000));
    CHECK_INT(cdp_time_from_civil(2026, 0, 1, 0, 0, 0, 0),
              cdp_time_from_civil(2025, 12, 1, 0, 0, 0, 0));

    int y, mo, d, h, mi, s, ms;
    cdp_time_to_civil(-1, &y, &mo, &d, &h, &mi, &s, &ms);
    CHECK(y == 1969 && mo == 12 && d == 31 && h == 23 && mi == 59 && s == 59 && ms == 999);
    cdp_time_to_civil(0, &y, &mo, &d, &h, &mi, &s, &ms);
    CHECK(y == 1970 && mo == 1 && d == 1 && h == 0 && mi == 0 && s == 0 && ms == 0);
    cdp_time_to_civil(XMAS_10H + 5123, &y, &mo, &d, &h, &mi, &s, &ms);
    CHECK(y == 2025 && mo == 12 && d == 24 && h == 10 && mi == 0 && s == 5 && ms == 123);
    cdp_time_to_civil(INT64_C(951782400000), &y, &mo, &d, &h, &mi, &s, &ms);
    CHECK(y == 2000 && mo == 2 && d == 29);
    cdp_time_to_civil(INT64_C(-62135596800000) - 1, &y, &mo, &d, &h, &mi, &s, &ms);
    CHECK(y == 0 && mo == 12 && d == 31 && h == 23 && ms == 999);

    /* Walk every day from 1583 to 2417 against a naive calendar. */
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t expect = cdp_time_from_civil(1583, 1, 1, 0, 0, 0, 0);
    int bad = 0;
    for (int year = 1583; year < 2417; year++) {
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        for (int month = 1; month <= 12; month++) {
            int n = month_days[month - 1] + (month == 2 && leap ? 1 : 0);
            for (int day = 1; day <= n; day++) {
                int64_t t = cdp_time_from_civil(year, month, day, 12, 0, 0, 0);
                cdp_time_to_civil(t, &y, &mo, &d, &h, &mi, &s, &ms);
                if (t != expect + 12 * HOUR || y != year || mo != month || d != day || h != 12) {
                    bad++;
                }
                expect += DAY;
            }
        }
    }
    CHECK_INT(bad, 0);
}

static void
test_format(void)
{
    CHECK_STR(fmt(0), "1970-01-01T00:00:00.000Z");
    CHECK_STR(fmt(XMAS_10H), "2025-12-24T10:00:00.000Z");
    CHECK_STR(fmt(XMAS_10H + 5007), "2025-12-24T10:00:05.007Z");
    CHECK_STR(fmt(-1), "1969-12-31T23:59:59.999Z");
    CHECK_STR(fmt(-DAY), "1969-12-31T00:00:00.000Z");
    CHECK_STR(fmt(-DAY - 1), "1969-12-30T23:59:59.999Z");
    CHECK_STR(fmt(INT64_C(-62135596800000)), "0001-01-01T00:00:00.000Z");
    CHECK_STR(fmt(INT64_C(253402300799999)), "9999-12-31T23:59:59.999Z");
    CHECK_STR(fmt(INT64_C(951782400000)), "2000-02-29T00:00:00.000Z");
    CHECK_INT(strlen(fmt(XMAS_10H)), 24);

    /* Exactly 25 bytes is enough; fewer truncates but still terminates. */
    char out[25];
    cdp_time_format(XMAS_10H, out, sizeof out);
    CHECK_STR(out, "2025-12-24T10:00:00.000Z");
    char small[8];
    cdp_time_format(XMAS_10H, small, sizeof small);
    CHECK_STR(small, "2025-12");
    char one[1] = {'x'};
    cdp_time_format(XMAS_10H, one, 1);
    CHECK_STR(one, "");
    cdp_time_format(XMAS_10H, NULL, 0);
}

static void
test_parse_iso(void)
{
    CHECK_INT(ms_of("2025-12-24"), INT64_C(1766534400000));
    CHECK_INT(ms_of("2025-12-24T10:00"), XMAS_10H);
    CHECK_INT(ms_of("2025-12-24T10:00:05"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("2025-12-24 10:00:05"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("2025-12-24t10:00:05"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("2025-12-24T10:00:05Z"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("2025-12-24T10:00:05z"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("  2025-12-24T10:00:05Z \n"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("2025-12-24T10:00Z"), XMAS_10H);

    /* Fractions of any length, truncated to ms */
    CHECK_INT(ms_of("2025-12-24T10:00:05.5"), XMAS_10H + 5500);
    CHECK_INT(ms_of("2025-12-24T10:00:05.12"), XMAS_10H + 5120);
    CHECK_INT(ms_of("2025-12-24T10:00:05.123"), XMAS_10H + 5123);
    CHECK_INT(ms_of("2025-12-24T10:00:05.123456789"), XMAS_10H + 5123);
    CHECK_INT(ms_of("2025-12-24T10:00:05.999999Z"), XMAS_10H + 5999);
    CHECK_INT(ms_of("2025-12-24T10:00:05,25Z"), XMAS_10H + 5250);
    CHECK(!parse("2025-12-24T10:00:05."));
    CHECK(!parse("2025-12-24T10:00:05.Z"));

    /* Zones */
    CHECK_INT(ms_of("2025-12-24T10:00:00+01:00"), XMAS_10H - HOUR);
    CHECK_INT(ms_of("2025-12-24T10:00:00+01:00"), ms_of("2025-12-24T09:00:00Z"));
    CHECK_INT(ms_of("2025-12-24T10:00:00+0100"), XMAS_10H - HOUR);
    CHECK_INT(ms_of("2025-12-24T10:00:00+01"), XMAS_10H - HOUR);
    CHECK_INT(ms_of("2025-12-24T10:00:00-05:30"), XMAS_10H + 5 * HOUR + 30 * MIN);
    CHECK_INT(ms_of("2025-12-24T10:00:00-00:00"), XMAS_10H);
    CHECK_INT(ms_of("2025-12-24T10:00:00.250+05:45"), XMAS_10H - 5 * HOUR - 45 * MIN + 250);
    CHECK_INT(ms_of("2025-12-24T00:30:00+01:00"), ms_of("2025-12-23T23:30:00Z"));
    CHECK_INT(ms_of("2025-12-24 10:00:05 +0100"), XMAS_10H + 5 * SEC - HOUR);
    CHECK(!parse("2025-12-24T10:00:00+1"));
    CHECK(!parse("2025-12-24T10:00:00+01:0"));
    CHECK(!parse("2025-12-24T10:00:00+24:00"));
    CHECK(!parse("2025-12-24T10:00:00+01:60"));
    CHECK(parse("2025-12-24T10:00:00 "));
    CHECK(!parse("2025-12-24T10:00:00ZZ"));
    CHECK(!parse("2025-12-24T10:00:00 Z x"));
    CHECK(!parse("2025-12-24T10:00:00UTC"));

    /* Basic format */
    CHECK_INT(ms_of("20251224T100005Z"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("20251224T100005"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_of("20251224T1000"), XMAS_10H);
    CHECK_INT(ms_of("20251224T100005.5+0100"), XMAS_10H + 5500 - HOUR);
    CHECK(!parse("20251224T10"));
    CHECK(!parse("20251324T100005Z"));

    /* Midnight at 24:00 and leap seconds */
    CHECK_INT(ms_of("2025-12-24T24:00:00"), INT64_C(1766620800000));
    CHECK_INT(ms_of("2025-12-31T24:00"), INT64_C(1767225600000));
    CHECK(!parse("2025-12-24T24:00:01"));
    CHECK(!parse("2025-12-24T24:01:00"));
    CHECK(!parse("2025-12-24T24:00:00.5"));
    CHECK(!parse("2025-12-24T25:00:00"));
    CHECK_INT(ms_of("2016-12-31T23:59:60Z"), ms_of("2016-12-31T23:59:59.999Z"));
    CHECK(!parse("2025-12-24T10:00:61"));
    CHECK(!parse("2025-12-24T10:60:00"));

    /* Range checks */
    CHECK(!parse("2025-13-01"));
    CHECK(!parse("2025-00-01"));
    CHECK(!parse("2025-01-00"));
    CHECK(!parse("2025-01-32"));
    CHECK(!parse("2025-02-30"));
    CHECK(!parse("2025-04-31"));
    CHECK(parse("2025-04-30"));
    CHECK(parse("2025-12-31"));

    /* Leap years */
    CHECK(parse("2024-02-29"));
    CHECK_INT(parsed, INT64_C(1709164800000));
    CHECK(!parse("2023-02-29"));
    CHECK(parse("2000-02-29"));
    CHECK_INT(parsed, INT64_C(951782400000));
    CHECK(!parse("1900-02-29"));
    CHECK(parse("1600-02-29"));
    CHECK(!parse("2100-02-29"));
    CHECK(parse("2023-02-28"));

    /* Garbage */
    CHECK(!parse("2025-12-24x"));
    CHECK(!parse("2025-12-24T"));
    CHECK(!parse("2025-12-24T10"));
    CHECK(!parse("2025-12-24T10:0"));
    CHECK(!parse("2025-12-24T10:00:0"));
    CHECK(!parse("2025-12-24T10:00:05x"));
    CHECK(!parse("2025-12-24  10:00:05"));
    CHECK(!parse("2025-1-24"));
    CHECK(!parse("25-12-24"));
    CHECK(!parse("2025/12/24"));
    CHECK(!parse("2025-12"));
    CHECK(!parse("December 24, 2025"));
    CHECK(!parse(""));
    CHECK(!parse("   "));
    CHECK(!parse("T10:00"));
    CHECK(!cdp_time_parse(NULL, 0, &parsed));
    CHECK(!cdp_time_parse("2025-12-24", 10, NULL));

    /* Only len bytes are read. */
    CHECK(cdp_time_parse("2025-12-24T10:00:00Zjunk", 20, &parsed));
    CHECK_INT(parsed, XMAS_10H);

    /* Failure leaves the output alone. */
    int64_t keep = 42;
    CHECK(!cdp_time_parse("2025-02-30", 10, &keep));
    CHECK_INT(keep, 42);
}

static void
test_parse_epoch(void)
{
    CHECK_INT(ms_of("0"), 0);
    CHECK_INT(ms_of("1735034400"), INT64_C(1735034400000));
    CHECK_INT(ms_of("1735034400.5"), INT64_C(1735034400500));
    CHECK_INT(ms_of("1735034400.123456"), INT64_C(1735034400123));
    CHECK_INT(ms_of("1735034400000"), INT64_C(1735034400000));
    CHECK_INT(ms_of("1735034400000.9"), INT64_C(1735034400000));
    CHECK_INT(ms_of(" 1735034400 "), INT64_C(1735034400000));
    /* The seconds / milliseconds boundary at 1e11 */
    CHECK_INT(ms_of("99999999999"), INT64_C(99999999999000));
    CHECK_INT(ms_of("100000000000"), INT64_C(100000000000));
    CHECK(!parse("-99999999999")); /* year -1199: before 0001, out of range */
    CHECK_INT(ms_of("-62135596800"), INT64_C(-62135596800000)); /* 0001-01-01 */
    CHECK(!parse("-62135596801"));
    CHECK_INT(ms_of("253402300799999"), INT64_C(253402300799999)); /* 9999-12-31T23:59:59.999 */
    CHECK(!parse("253402300800000"));
    CHECK_INT(ms_of("-100000000000"), INT64_C(-100000000000));
    /* Negative values */
    CHECK_INT(ms_of("-1"), -1000);
    CHECK_INT(ms_of("-1.5"), -1500);
    CHECK_INT(ms_of("-86400"), -DAY);
    CHECK_STR(fmt(ms_of("-86400")), "1969-12-31T00:00:00.000Z");
    CHECK_INT(ms_of("-1735034400000"), INT64_C(-1735034400000));
    /* Leading zeros, small values, exponents from JSON numbers */
    CHECK_INT(ms_of("0001"), 1000);
    CHECK_INT(ms_of("0.001"), 1);
    CHECK_INT(ms_of("0.0001"), 0);
    CHECK_INT(ms_of("1.7350344e9"), INT64_C(1735034400000));
    CHECK_INT(ms_of("1.7350344E+12"), INT64_C(1735034400000));
    CHECK_INT(ms_of("5e-3"), 5);
    CHECK_INT(ms_of("20251224"), INT64_C(20251224000));
    /* Garbage and overflow */
    CHECK(!parse("-"));
    CHECK(!parse("1."));
    CHECK(!parse(".5"));
    CHECK(!parse("1.2.3"));
    CHECK(!parse("12a"));
    CHECK(!parse("1e"));
    CHECK(!parse("--1"));
    CHECK(!parse("+1"));
    CHECK(!parse("1 2"));
    CHECK(!parse("99999999999999999999"));
    CHECK(!parse("1e400"));
    CHECK(!parse("9223372036854775807")); /* a valid int64, but past the year 9999 */
    CHECK(!parse("9223372036854775808"));
}

static void
test_roundtrip(void)
{
    CHECK_STR(roundtrip("2025-12-24T10:00:00Z"), "2025-12-24T10:00:00.000Z");
    CHECK_STR(roundtrip("2025-12-24T10:00:00.123Z"), "2025-12-24T10:00:00.123Z");
    CHECK_STR(roundtrip("2025-12-24"), "2025-12-24T00:00:00.000Z");
    CHECK_STR(roundtrip("2025-12-24T10:00:00+01:00"), "2025-12-24T09:00:00.000Z");
    CHECK_STR(roundtrip("2025-01-01T00:30:00+01:00"), "2024-12-31T23:30:00.000Z");
    CHECK_STR(roundtrip("2024-02-29T23:59:59.999Z"), "2024-02-29T23:59:59.999Z");
    CHECK_STR(roundtrip("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00.000Z");
    CHECK_STR(roundtrip("9999-12-31T23:59:59.999Z"), "9999-12-31T23:59:59.999Z");
    CHECK_STR(roundtrip("1969-07-20T20:17:40Z"), "1969-07-20T20:17:40.000Z");
    CHECK_STR(roundtrip("1900-01-01"), "1900-01-01T00:00:00.000Z");
    CHECK_STR(roundtrip("1735034400"), "2024-12-24T10:00:00.000Z");
    CHECK_STR(roundtrip("-1"), "1969-12-31T23:59:59.000Z");

    /* format then parse gives back the same value over a wide range */
    int bad = 0;
    for (int64_t t = INT64_C(-62135596800000); t < INT64_C(253402300799999);
         t += INT64_C(86399999937)) {
        char out[32];
        int64_t back;
        cdp_time_format(t, out, sizeof out);
        if (!cdp_time_parse(out, strlen(out), &back) || back != t) {
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

static void
test_parse_format(void)
{
    CHECK_INT(ms_fmt("24/12/2025", "%d/%m/%Y"), INT64_C(1766534400000));
    CHECK_INT(ms_fmt("12/24/2025 3:04 PM", "%m/%d/%Y %I:%M %p"),
              cdp_time_from_civil(2025, 12, 24, 15, 4, 0, 0));
    CHECK_INT(ms_fmt("12/24/2025 3:04 am", "%m/%d/%Y %I:%M %p"),
              cdp_time_from_civil(2025, 12, 24, 3, 4, 0, 0));
    CHECK_INT(ms_fmt("12/24/2025 12:00 AM", "%m/%d/%Y %I:%M %p"),
              cdp_time_from_civil(2025, 12, 24, 0, 0, 0, 0));
    CHECK_INT(ms_fmt("12/24/2025 12:30 PM", "%m/%d/%Y %I:%M %p"),
              cdp_time_from_civil(2025, 12, 24, 12, 30, 0, 0));
    CHECK(ms_fmt("12/24/2025 13:04 PM", "%m/%d/%Y %I:%M %p") == INT64_MIN);
    CHECK(ms_fmt("12/24/2025 0:04 PM", "%m/%d/%Y %I:%M %p") == INT64_MIN);
    CHECK(ms_fmt("12/24/2025 3:04 XM", "%m/%d/%Y %I:%M %p") == INT64_MIN);

    CHECK_INT(ms_fmt("2025-12-24 10:00:05", "%Y-%m-%d %H:%M:%S"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_fmt("2025-12-24T10:00:05", "%FT%T"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_fmt("20251224100005", "%Y%m%d%H%M%S"), XMAS_10H + 5 * SEC);
    CHECK_INT(ms_fmt("2025-12-24 10:00:05.123", "%Y-%m-%d %H:%M:%S.%f"), XMAS_10H + 5123);
    CHECK_INT(ms_fmt("2025-12-24 10:00:05.1", "%Y-%m-%d %H:%M:%S.%f"), XMAS_10H + 5100);
    CHECK_INT(ms_fmt("2025-12-24 10:00:05.123456", "%Y-%m-%d %H:%M:%S.%f"), XMAS_10H + 5123);

    /* Month names */
    CHECK_INT(ms_fmt("24 Dec 2025", "%d %b %Y"), INT64_C(1766534400000));
    CHECK_INT(ms_fmt("24 DEC 2025", "%d %b %Y"), INT64_C(1766534400000));
    CHECK_INT(ms_fmt("24 dec 2025", "%d %b %Y"), INT64_C(1766534400000));
    CHECK_INT(ms_fmt("24 December 2025", "%d %B %Y"), INT64_C(1766534400000));
    CHECK_INT(ms_fmt("Mar 1 2024", "%b %e %Y"), cdp_time_from_civil(2024, 3, 1, 0, 0, 0, 0));
    CHECK_INT(ms_fmt("May 31 2024", "%b %d %Y"), cdp_time_from_civil(2024, 5, 31, 0, 0, 0, 0));
    CHECK(ms_fmt("24 Dex 2025", "%d %b %Y") == INT64_MIN);
    CHECK(ms_fmt("31 Apr 2025", "%d %b %Y") == INT64_MIN);

    /* RFC 2822 style with a weekday and a zone */
    CHECK_INT(ms_fmt("Wed, 24 Dec 2025 10:00:05 +0100", "%a, %d %b %Y %H:%M:%S %z"),
              XMAS_10H + 5 * SEC - HOUR);
    CHECK_INT(ms_fmt("2025-12-24T10:00:00-05:30", "%Y-%m-%dT%H:%M:%S%z"),
              XMAS_10H + 5 * HOUR + 30 * MIN);
    CHECK_INT(ms_fmt("2025-12-24T10:00:00Z", "%Y-%m-%dT%H:%M:%S%z"), XMAS_10H);

    /* %y pivots at 69 */
    CHECK_INT(ms_fmt("24/12/25", "%d/%m/%y"), INT64_C(1766534400000));
    CHECK_INT(ms_fmt("01/01/69", "%d/%m/%y"), cdp_time_from_civil(1969, 1, 1, 0, 0, 0, 0));
    CHECK_INT(ms_fmt("01/01/68", "%d/%m/%y"), cdp_time_from_civil(2068, 1, 1, 0, 0, 0, 0));

    /* %e with a space-padded day, and single-digit fields */
    CHECK_INT(ms_fmt("Dec  4 2025", "%b %e %Y"), cdp_time_from_civil(2025, 12, 4, 0, 0, 0, 0));
    CHECK_INT(ms_fmt("4/5/2025", "%d/%m/%Y"), cdp_time_from_civil(2025, 5, 4, 0, 0, 0, 0));

    /* Literals, %% and defaults */
    CHECK_INT(ms_fmt("10%", "%H%%"), 10 * HOUR);
    CHECK_INT(ms_fmt("2025", "%Y"), cdp_time_from_civil(2025, 1, 1, 0, 0, 0, 0));
    CHECK_INT(ms_fmt("at 10:00", "at %H:%M"), 10 * HOUR);
    CHECK(ms_fmt("on 10:00", "at %H:%M") == INT64_MIN);

    /* Validation and trailing garbage */
    CHECK(ms_fmt("24/12/2025x", "%d/%m/%Y") == INT64_MIN);
    CHECK(ms_fmt("24/12/2025 10", "%d/%m/%Y") == INT64_MIN);
    CHECK(ms_fmt("24/12", "%d/%m/%Y") == INT64_MIN);
    CHECK(ms_fmt("32/12/2025", "%d/%m/%Y") == INT64_MIN);
    CHECK(ms_fmt("29/02/2023", "%d/%m/%Y") == INT64_MIN);
    CHECK_INT(ms_fmt("29/02/2024", "%d/%m/%Y"), cdp_time_from_civil(2024, 2, 29, 0, 0, 0, 0));
    CHECK(ms_fmt("24/13/2025", "%d/%m/%Y") == INT64_MIN);
    CHECK(ms_fmt("24-12-2025", "%d/%m/%Y") == INT64_MIN);
    CHECK(ms_fmt("25:00", "%H:%M") == INT64_MIN);
    CHECK(ms_fmt("10:60", "%H:%M") == INT64_MIN);
    CHECK(ms_fmt("10:00", "%H:%M %") == INT64_MIN);
    CHECK(ms_fmt("10:00", "%H:%Q") == INT64_MIN);
    CHECK(ms_fmt("", "%Y") == INT64_MIN);
    CHECK_INT(ms_fmt("  24/12/2025  ", "%d/%m/%Y"), INT64_C(1766534400000));
    CHECK(!cdp_time_parse_format("24/12/2025", 10, NULL, &parsed));
    CHECK(!cdp_time_parse_format(NULL, 0, "%Y", &parsed));
}

static void
test_duration(void)
{
    CHECK_INT(dur("30d"), 30 * DAY);
    CHECK_INT(dur("12h"), 12 * HOUR);
    CHECK_INT(dur("15m"), 15 * MIN);
    CHECK_INT(dur("2w"), 14 * DAY);
    CHECK_INT(dur("45s"), 45 * SEC);
    CHECK_INT(dur("500ms"), 500);
    CHECK_INT(dur("1d12h"), DAY + 12 * HOUR);
    CHECK_INT(dur("1h30m15s250ms"), HOUR + 30 * MIN + 15 * SEC + 250);
    CHECK_INT(dur("1h 30m"), HOUR + 30 * MIN);
    CHECK_INT(dur(" 2w "), 14 * DAY);
    CHECK_INT(dur("0s"), 0);
    CHECK_INT(dur("1.5h"), 90 * MIN);
    CHECK_INT(dur("0.5s"), 500);
    CHECK_INT(dur("1m1ms"), MIN + 1);
    CHECK(dur("") == INT64_MIN);
    CHECK(dur("  ") == INT64_MIN);
    CHECK(dur("30") == INT64_MIN);
    CHECK(dur("d") == INT64_MIN);
    CHECK(dur("30x") == INT64_MIN);
    CHECK(dur("30dd") == INT64_MIN);
    CHECK(dur("-5m") == INT64_MIN);
    CHECK(dur("1h30") == INT64_MIN);
    CHECK(dur("30D") == INT64_MIN);
    CHECK(dur(".h") == INT64_MIN);
    CHECK(dur("99999999999999999999d") == INT64_MIN);
    CHECK(dur("9999999999999w") == INT64_MIN);
    CHECK(!cdp_time_parse_duration(NULL, 0, &parsed));
}

static void
test_now(void)
{
    int64_t now = 0;
    CHECK(cdp_time_now(&now));
    /* Later than 2020-01-01 and earlier than 2200-01-01. */
    CHECK(now > INT64_C(1577836800000));
    CHECK(now < cdp_time_from_civil(2200, 1, 1, 0, 0, 0, 0));
    CHECK(!cdp_time_now(NULL));
}

int
main(void)
{
    test_civil();
    test_format();
    test_parse_iso();
    test_parse_epoch();
    test_roundtrip();
    test_parse_format();
    test_duration();
    test_now();
    return check_summary("time");
}
