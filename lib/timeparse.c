/*
 * timeparse.c - timestamps and durations without the C library's locale or
 * time zone machinery: civil-date arithmetic, ISO 8601 and epoch parsing, a
 * small strptime-like parser and a fixed ISO formatter.
 */
#include "timeparse.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_SECOND INT64_C(1000)
#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

/* Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar. */
#define DAYS_0000_03_01_TO_EPOCH INT64_C(719468)
#define DAYS_PER_400_YEARS INT64_C(146097)

/* Epoch numbers below this absolute value are seconds, others milliseconds. */
#define EPOCH_SECONDS_LIMIT UINT64_C(100000000000)

/* ------------------------------------------------------------------------ */
/* Civil calendar                                                           */
/* ------------------------------------------------------------------------ */

/* Division rounding towards minus infinity (b > 0). */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static bool
is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t year, int month)
{
    static const unsigned char lengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && is_leap_year(year)) {
        return 29;
    }
    return lengths[month - 1];
}

/*
 * Days since 1970-01-01 for a Gregorian date.  Years are counted from March
 * so that the leap day falls at the end of the counting year, which turns
 * the month offsets into a linear formula.
 */
static int64_t
days_from_date(int64_t year, int64_t month, int64_t day)
{
    /* Bring the month into 1..12, carrying whole years. */
    int64_t carry = floor_div(month - 1, 12);
    year += carry;
    month -= carry * 12;

    int64_t y = month <= 2 ? year - 1 : year;
    int64_t m = month <= 2 ? month + 9 : month - 3; /* March = 0 ... February = 11 */
    int64_t days = 365 * y + floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400);
    days += (153 * m + 2) / 5 + day - 1;
    return days - DAYS_0000_03_01_TO_EPOCH;
}

/* Inverse of days_from_date. */
static void
date_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + DAYS_0000_03_01_TO_EPOCH;
    int64_t cycles = floor_div(z, DAYS_PER_400_YEARS);
    int64_t r = z - cycles * DAYS_PER_400_YEARS; /* 0 .. 146096 */

    /* Centuries of 36524 days; the last one of the cycle has the extra day. */
    int64_t centuries = r / 36524;
    if (centuries > 3) {
        centuries = 3;
    }
    r -= centuries * 36524;

    int64_t quads = r / 1461; /* four-year groups */
    r -= quads * 1461;

    int64_t years = r / 365; /* the last year of a group may hold day 366 */
    if (years > 3) {
        years = 3;
    }
    r -= years * 365; /* day of the March-based year, 0 .. 365 */

    int64_t y = cycles * 400 + centuries * 100 + quads * 4 + years;
    int mp = (int)((5 * r + 2) / 153);
    *day = (int)(r - (153 * mp + 2) / 5 + 1);
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = *month <= 2 ? y + 1 : y;
}

/*
 * Converts a UTC civil time in the proleptic Gregorian calendar to
 * milliseconds since the epoch.  Fields are not range-checked: values past
 * their usual range carry into the next field (month 13 is January of the
 * next year, hour 24 is the next day's midnight).  No time zone is applied.
 */
int64_t
cdp_time_from_civil(int year, int month, int day, int hour, int minute, int second, int millis)
{
    int64_t days = days_from_date(year, month, day);
    return days * MS_PER_DAY + (int64_t)hour * MS_PER_HOUR + (int64_t)minute * MS_PER_MINUTE +
           (int64_t)second * MS_PER_SECOND + millis;
}

/*
 * Splits milliseconds since the epoch into UTC civil fields; negative times
 * are handled (the fields of -1 are 1969-12-31 23:59:59.999).  Every output
 * pointer must be valid.
 */
void
cdp_time_to_civil(int64_t ms, int *year, int *month, int *day, int *hour, int *minute, int *second,
                  int *millis)
{
    /* Remainder first: days * MS_PER_DAY can overflow near the ends of int64. */
    int64_t days = ms / MS_PER_DAY;
    int64_t rem = ms % MS_PER_DAY;
    int64_t y;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }

    date_from_days(days, &y, month, day);
    *year = (int)y;
    *hour = (int)(rem / MS_PER_HOUR);
    rem %= MS_PER_HOUR;
    *minute = (int)(rem / MS_PER_MINUTE);
    rem %= MS_PER_MINUTE;
    *second = (int)(rem / MS_PER_SECOND);
    *millis = (int)(rem % MS_PER_SECOND);
}

/*
 * Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (25 bytes including the
 * NUL).  Years outside 0000..9999 are written with a sign ("-0001", "+10000").
 * The output is truncated but still NUL-terminated when outsize is too small;
 * nothing is written when outsize is 0.
 */
void
cdp_time_format(int64_t ms, char *out, size_t outsize)
{
    int year, month, day, hour, minute, second, millis;

    if (out == NULL || outsize == 0) {
        return;
    }
    cdp_time_to_civil(ms, &year, &month, &day, &hour, &minute, &second, &millis);
    if (year >= 0 && year <= 9999) {
        snprintf(out, outsize, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day, hour,
                 minute, second, millis);
    } else {
        snprintf(out, outsize, "%+05d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month, day, hour,
                 minute, second, millis);
    }
}

/*
 * Reads the wall clock (CLOCK_REALTIME) into *ms.  Returns false, leaving
 * *ms untouched, when the clock cannot be read.
 */
bool
cdp_time_now(int64_t *ms)
{
    struct timespec ts;

    if (ms == NULL || clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return false;
    }
    *ms = (int64_t)ts.tv_sec * MS_PER_SECOND + (int64_t)(ts.tv_nsec / 1000000);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Scanning helpers                                                         */
/* ------------------------------------------------------------------------ */

/* A cursor over the input bytes. */
struct cursor {
    const char *p;
    const char *end;
};

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static void
trim(const char **s, const char **end)
{
    while (*s < *end && is_space(**s)) {
        (*s)++;
    }
    while (*end > *s && is_space((*end)[-1])) {
        (*end)--;
    }
}

static bool
at_end(const struct cursor *c)
{
    return c->p >= c->end;
}

static bool
accept_char(struct cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* Reads exactly n digits. */
static bool
fixed_digits(struct cursor *c, int n, int *value)
{
    int v = 0;

    if (c->end - c->p < n) {
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (!is_digit(c->p[i])) {
            return false;
        }
        v = v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *value = v;
    return true;
}

/* Reads between 1 and max_n digits, as many as there are. */
static bool
some_digits(struct cursor *c, int max_n, int *value)
{
    int v = 0, n = 0;

    while (n < max_n && c->p < c->end && is_digit(*c->p)) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    *value = v;
    return n > 0;
}

/* Reads a fraction's digits (at least one) and keeps the first three as ms. */
static bool
fraction_ms(struct cursor *c, int *millis)
{
    int v = 0, n = 0;

    while (c->p < c->end && is_digit(*c->p)) {
        if (n < 3) {
            v = v * 10 + (*c->p - '0');
        }
        c->p++;
        n++;
    }
    for (int i = n; i < 3; i++) {
        v *= 10;
    }
    *millis = v;
    return n > 0;
}

/*
 * Reads a zone designator: "Z", "z", "+hh", "+hhmm" or "+hh:mm" (or with
 * '-').  Stores the offset east of UTC in minutes.
 */
static bool
zone_offset(struct cursor *c, int *minutes)
{
    int sign, hh, mm = 0;

    if (accept_char(c, 'Z') || accept_char(c, 'z')) {
        *minutes = 0;
        return true;
    }
    if (accept_char(c, '+')) {
        sign = 1;
    } else if (accept_char(c, '-')) {
        sign = -1;
    } else {
        return false;
    }
    if (!fixed_digits(c, 2, &hh)) {
        return false;
    }
    if (accept_char(c, ':')) {
        if (!fixed_digits(c, 2, &mm)) {
            return false;
        }
    } else if (c->p < c->end && is_digit(*c->p)) {
        if (!fixed_digits(c, 2, &mm)) {
            return false;
        }
    }
    if (hh > 23 || mm > 59) {
        return false;
    }
    *minutes = sign * (hh * 60 + mm);
    return true;
}

/* Calendar fields gathered by the parsers before conversion. */
struct fields {
    int year, month, day, hour, minute, second, millis;
    int offset_minutes;
};

/*
 * Checks the ranges of parsed fields and converts them.  Hour 24 is only
 * allowed as 24:00:00.000 (the next midnight); second 60 (a leap second) is
 * read as 59.999.
 */
static bool
fields_to_ms(struct fields *f, int64_t *ms)
{
    if (f->month < 1 || f->month > 12 || f->day < 1 || f->day > days_in_month(f->year, f->month)) {
        return false;
    }
    if (f->hour > 24 || f->minute > 59 || f->second > 60 || f->millis > 999) {
        return false;
    }
    if (f->hour == 24 && (f->minute != 0 || f->second != 0 || f->millis != 0)) {
        return false;
    }
    if (f->second == 60) {
        f->second = 59;
        f->millis = 999;
    }
    *ms = cdp_time_from_civil(f->year, f->month, f->day, f->hour, f->minute, f->second, f->millis) -
          (int64_t)f->offset_minutes * MS_PER_MINUTE;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Epoch numbers                                                            */
/* ------------------------------------------------------------------------ */

/*
 * Parses "-?digits(.digits)?([eE][+-]?digits)?" as an epoch value.  The
 * decimal point is moved by the exponent on the digit string itself, so no
 * floating point rounding is involved.
 */
static bool
parse_epoch(const char *s, const char *end, int64_t *ms)
{
    char digits[64];
    int nd = 0, int_len = 0, exp = 0;
    bool negative = false, seen_digit = false;
    const char *p = s;

    if (p < end && *p == '-') {
        negative = true;
        p++;
    }
    while (p < end && is_digit(*p)) {
        seen_digit = true;
        if (nd == 0 && *p == '0') {
            p++; /* leading zeros carry no value */
            continue;
        }
        if (nd >= (int)sizeof digits) {
            return false;
        }
        digits[nd++] = *p++;
        int_len++;
    }
    if (!seen_digit) {
        return false;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p)) {
            return false;
        }
        while (p < end && is_digit(*p)) {
            if (nd < (int)sizeof digits) {
                digits[nd++] = *p;
            }
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool exp_negative = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            exp_negative = *p == '-';
            p++;
        }
        if (p >= end || !is_digit(*p)) {
            return false;
        }
        while (p < end && is_digit(*p)) {
            if (exp > 1000) {
                return false;
            }
            exp = exp * 10 + (*p - '0');
            p++;
        }
        if (exp_negative) {
            exp = -exp;
        }
    }
    if (p != end) {
        return false;
    }

    /* Position of the decimal point within digits[]. */
    int point = int_len + exp;
    uint64_t whole = 0;
    for (int i = 0; i < point; i++) {
        int d = i < nd ? digits[i] - '0' : 0;
        if (whole > (UINT64_MAX - 9) / 10) {
            return false;
        }
        whole = whole * 10 + (uint64_t)d;
    }

    uint64_t value;
    if (whole < EPOCH_SECONDS_LIMIT) {
        int frac = 0;
        for (int i = 0; i < 3; i++) {
            int idx = point + i;
            frac = frac * 10 + ((idx >= 0 && idx < nd) ? digits[idx] - '0' : 0);
        }
        value = whole * 1000 + (uint64_t)frac;
    } else {
        value = whole;
    }
    if (value > (uint64_t)INT64_MAX) {
        return false;
    }
    *ms = negative ? -(int64_t)value : (int64_t)value;
    return true;
}

static bool
looks_like_epoch(const char *s, const char *end)
{
    if (s < end && *s == '-') {
        s++;
    }
    while (s < end && is_digit(*s)) {
        s++;
    }
    return s == end || *s == '.' || *s == 'e' || *s == 'E';
}

/* ------------------------------------------------------------------------ */
/* ISO 8601                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Parses the time part after the 'T' (or space): "hh:mm[:ss[.f]]" in the
 * extended form, "hhmm[ss[.f]]" in the basic form, then an optional zone.
 */
static bool
parse_iso_time(struct cursor *c, bool basic, struct fields *f)
{
    if (!fixed_digits(c, 2, &f->hour)) {
        return false;
    }
    if (!basic && !accept_char(c, ':')) {
        return false;
    }
    if (!fixed_digits(c, 2, &f->minute)) {
        return false;
    }
    bool has_seconds = basic ? (c->p < c->end && is_digit(*c->p)) : accept_char(c, ':');
    if (has_seconds) {
        if (!fixed_digits(c, 2, &f->second)) {
            return false;
        }
        if (accept_char(c, '.') || accept_char(c, ',')) {
            if (!fraction_ms(c, &f->millis)) {
                return false;
            }
        }
    }
    if (at_end(c)) {
        return true;
    }
    /* Tolerate one space before the zone ("2025-12-24 10:00:05 +0100"). */
    if (*c->p == ' ' && c->end - c->p > 1) {
        c->p++;
    }
    return zone_offset(c, &f->offset_minutes) && at_end(c);
}

static bool
parse_iso(const char *s, const char *end, int64_t *ms)
{
    struct cursor c = {s, end};
    struct fields f = {0, 1, 1, 0, 0, 0, 0, 0};
    bool basic;

    if (!fixed_digits(&c, 4, &f.year)) {
        return false;
    }
    if (accept_char(&c, '-')) {
        basic = false;
        if (!fixed_digits(&c, 2, &f.month) || !accept_char(&c, '-') ||
            !fixed_digits(&c, 2, &f.day)) {
            return false;
        }
    } else {
        basic = true;
        if (!fixed_digits(&c, 2, &f.month) || !fixed_digits(&c, 2, &f.day)) {
            return false;
        }
    }
    if (!at_end(&c)) {
        char sep = *c.p;
        if (sep != 'T' && sep != 't' && (sep != ' ' || basic)) {
            return false;
        }
        c.p++;
        if (!parse_iso_time(&c, basic, &f)) {
            return false;
        }
    }
    return fields_to_ms(&f, ms);
}

/*
 * Parses s[0..len) as a timestamp after trimming whitespace.  Accepted forms:
 * ISO 8601 dates ("2025-12-24", midnight UTC), date-times with 'T', 't' or a
 * space ("2025-12-24T10:00", "2025-12-24 10:00:05.123"), fractions of any
 * length (truncated to ms), zones Z / +hh / +hhmm / +hh:mm (none means UTC),
 * the basic form "20251224T100005Z"; and epoch numbers ("-?digits(.digits)",
 * an exponent is also read), which are seconds when their absolute value is
 * below 1e11 and milliseconds otherwise.  Returns false on anything else,
 * including out-of-range fields and trailing garbage; *ms is only written on
 * success.
 */
/* The times accepted from input: years 0001 to 9999, so that every one formats and subtracts. */
#define TIME_MIN INT64_C(-62135596800000) /* 0001-01-01T00:00:00Z */
#define TIME_MAX INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

static bool parse_unchecked(const char *s, size_t len, int64_t *ms);
static bool parse_format_unchecked(const char *s, size_t len, const char *format, int64_t *ms);

bool
cdp_time_parse(const char *s, size_t len, int64_t *ms)
{
    int64_t v;
    if (ms == NULL || !parse_unchecked(s, len, &v) || v < TIME_MIN || v > TIME_MAX)
        return false;
    *ms = v;
    return true;
}

bool
cdp_time_parse_format(const char *s, size_t len, const char *format, int64_t *ms)
{
    int64_t v;
    if (ms == NULL || !parse_format_unchecked(s, len, format, &v) || v < TIME_MIN || v > TIME_MAX)
        return false;
    *ms = v;
    return true;
}

static bool
parse_unchecked(const char *s, size_t len, int64_t *ms)
{
    const char *end;

    if (s == NULL || ms == NULL) {
        return false;
    }
    end = s + len;
    trim(&s, &end);
    if (s == end) {
        return false;
    }
    /* Eight digits alone are an epoch value, not a basic-format date. */
    if (looks_like_epoch(s, end)) {
        return parse_epoch(s, end, ms);
    }
    return parse_iso(s, end, ms);
}

/* ------------------------------------------------------------------------ */
/* strptime-style formats                                                   */
/* ------------------------------------------------------------------------ */

static const char *const month_names[12] = {"january",   "february", "march",    "april",
                                            "may",       "june",     "july",     "august",
                                            "september", "october",  "november", "december"};

static const char *const weekday_names[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                             "friday", "saturday", "sunday"};

/* Matches a full English name or its three-letter abbreviation. */
static int
match_name(struct cursor *c, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        size_t n = strlen(names[i]);
        for (int pass = 0; pass < 2; pass++) {
            size_t want = pass == 0 ? n : 3;
            if ((size_t)(c->end - c->p) < want) {
                continue;
            }
            size_t k = 0;
            while (k < want && lower(c->p[k]) == names[i][k]) {
                k++;
            }
            if (k == want) {
                c->p += want;
                return i;
            }
        }
    }
    return -1;
}

/* State shared by the directives of one format. */
struct format_state {
    struct fields f;
    bool twelve_hour;
    int pm; /* -1 unknown, 0 AM, 1 PM */
};

static bool
apply_format(struct cursor *c, const char *format, struct format_state *st, int depth)
{
    const char *fmt = format;

    if (depth > 2) {
        return false;
    }
    while (*fmt != '\0') {
        if (is_space(*fmt)) {
            /* Whitespace in the format matches any amount of whitespace. */
            while (c->p < c->end && is_space(*c->p)) {
                c->p++;
            }
            fmt++;
            continue;
        }
        if (*fmt != '%') {
            if (!accept_char(c, *fmt)) {
                return false;
            }
            fmt++;
            continue;
        }

        fmt++;
        int v;
        switch (*fmt) {
        case 'Y':
            if (!some_digits(c, 4, &st->f.year)) {
                return false;
            }
            break;
        case 'y':
            if (!some_digits(c, 2, &v)) {
                return false;
            }
            st->f.year = v < 69 ? 2000 + v : 1900 + v;
            break;
        case 'm':
            if (!some_digits(c, 2, &st->f.month)) {
                return false;
            }
            break;
        case 'd':
        case 'e':
            /* %e pads single-digit days with a space. */
            if (*fmt == 'e' && c->p < c->end && *c->p == ' ') {
                c->p++;
            }
            if (!some_digits(c, 2, &st->f.day)) {
                return false;
            }
            break;
        case 'H':
            if (!some_digits(c, 2, &st->f.hour) || st->f.hour > 23) {
                return false;
            }
            st->twelve_hour = false;
            break;
        case 'I':
            if (!some_digits(c, 2, &st->f.hour) || st->f.hour < 1 || st->f.hour > 12) {
                return false;
            }
            st->twelve_hour = true;
            break;
        case 'M':
            if (!some_digits(c, 2, &st->f.minute)) {
                return false;
            }
            break;
        case 'S':
            if (!some_digits(c, 2, &st->f.second)) {
                return false;
            }
            break;
        case 'f':
            if (!fraction_ms(c, &st->f.millis)) {
                return false;
            }
            break;
        case 'b':
        case 'B':
        case 'h':
            v = match_name(c, month_names, 12);
            if (v < 0) {
                return false;
            }
            st->f.month = v + 1;
            break;
        case 'a':
        case 'A':
            if (match_name(c, weekday_names, 7) < 0) {
                return false;
            }
            break;
        case 'p':
            if (c->end - c->p < 2 || lower(c->p[1]) != 'm') {
                return false;
            }
            if (lower(c->p[0]) == 'a') {
                st->pm = 0;
            } else if (lower(c->p[0]) == 'p') {
                st->pm = 1;
            } else {
                return false;
            }
            c->p += 2;
            break;
        case 'z':
            if (!zone_offset(c, &st->f.offset_minutes)) {
                return false;
            }
            break;
        case 'F':
            if (!apply_format(c, "%Y-%m-%d", st, depth + 1)) {
                return false;
            }
            break;
        case 'T':
            if (!apply_format(c, "%H:%M:%S", st, depth + 1)) {
                return false;
            }
            break;
        case '%':
            if (!accept_char(c, '%')) {
                return false;
            }
            break;
        default:
            return false; /* unknown directive, or a '%' ending the format */
        }
        fmt++;
    }
    return true;
}

/*
 * Parses s[0..len) (whitespace-trimmed) with a strptime-like format, without
 * locale or time zone.  Directives: %Y (up to 4 digits), %y (69-99 -> 19xx,
 * 00-68 -> 20xx), %m, %d, %e, %H, %I, %M, %S (1 or 2 digits), %f (fraction
 * digits, truncated to ms), %b/%B/%h (English month name or abbreviation,
 * any case), %a/%A (weekday name, skipped), %p (AM/PM), %z (Z, +hh, +hhmm,
 * +hh:mm), %F (%Y-%m-%d), %T (%H:%M:%S) and %%.  Other characters must match
 * literally; whitespace matches any run of whitespace.  Missing fields
 * default to 1970-01-01 00:00:00 UTC.  The whole input must be consumed and
 * the date must exist.  *ms is only written on success.
 */
static bool
parse_format_unchecked(const char *s, size_t len, const char *format, int64_t *ms)
{
    struct format_state st = {{1970, 1, 1, 0, 0, 0, 0, 0}, false, -1};
    const char *end;

    if (s == NULL || format == NULL || ms == NULL) {
        return false;
    }
    end = s + len;
    trim(&s, &end);

    struct cursor c = {s, end};
    if (!apply_format(&c, format, &st, 0) || !at_end(&c)) {
        return false;
    }
    if (st.twelve_hour && st.pm >= 0) {
        st.f.hour = st.f.hour % 12 + (st.pm ? 12 : 0);
    }
    return fields_to_ms(&st.f, ms);
}

/* ------------------------------------------------------------------------ */
/* Durations                                                                */
/* ------------------------------------------------------------------------ */

/*
 * Parses a duration such as "30d", "12h", "15m", "2w", "45s", "500ms" or a
 * sequence of such parts ("1d12h", "1h 30m"); a part's number may have a
 * decimal fraction ("1.5h"), which is truncated to whole milliseconds.  The
 * units are lower-case.  Surrounding whitespace is ignored; an empty string,
 * a bare number, a negative value or an overflow is rejected.  *ms is only
 * written on success.
 */
bool
cdp_time_parse_duration(const char *s, size_t len, int64_t *ms)
{
    const char *end;
    int64_t total = 0;
    int parts = 0;

    if (s == NULL || ms == NULL) {
        return false;
    }
    end = s + len;
    trim(&s, &end);

    while (s < end) {
        int64_t whole = 0;
        int64_t frac_num = 0, frac_den = 1;
        bool digits = false;

        while (s < end && is_digit(*s)) {
            if (whole > (INT64_MAX - 9) / 10) {
                return false;
            }
            whole = whole * 10 + (*s - '0');
            s++;
            digits = true;
        }
        if (s < end && *s == '.') {
            s++;
            while (s < end && is_digit(*s)) {
                if (frac_den < INT64_C(1000000000)) {
                    frac_num = frac_num * 10 + (*s - '0');
                    frac_den *= 10;
                }
                s++;
                digits = true;
            }
        }
        if (!digits) {
            return false;
        }

        int64_t unit;
        if (end - s >= 2 && s[0] == 'm' && s[1] == 's') {
            unit = 1;
            s += 2;
        } else if (s < end && *s == 'w') {
            unit = 7 * MS_PER_DAY;
            s++;
        } else if (s < end && *s == 'd') {
            unit = MS_PER_DAY;
            s++;
        } else if (s < end && *s == 'h') {
            unit = MS_PER_HOUR;
            s++;
        } else if (s < end && *s == 'm') {
            unit = MS_PER_MINUTE;
            s++;
        } else if (s < end && *s == 's') {
            unit = MS_PER_SECOND;
            s++;
        } else {
            return false;
        }

        if (whole > INT64_MAX / unit || whole * unit > INT64_MAX - unit) {
            return false;
        }
        int64_t part = whole * unit + frac_num * unit / frac_den;
        if (part > INT64_MAX - total) {
            return false;
        }
        total += part;
        parts++;

        while (s < end && is_space(*s)) {
            s++;
        }
    }
    if (parts == 0) {
        return false;
    }
    *ms = total;
    return true;
}
