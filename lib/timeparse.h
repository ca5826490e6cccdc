/*
 * timeparse.h - parsing and formatting of timestamps and durations.
 *
 * Times are int64 milliseconds since 1970-01-01T00:00:00Z (UTC).  Calendar
 * arithmetic uses the proleptic Gregorian calendar and never consults the
 * C library's locale or time zone settings.
 */
#ifndef CDP_TIMEPARSE_H
#define CDP_TIMEPARSE_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Parses an ISO 8601 timestamp ("2025-12-24", "2025-12-24T10:00:05.123+01:00",
 * "20251224T100005Z", ...) or an epoch number (seconds when its absolute
 * value is below 1e11, milliseconds otherwise).  A missing zone means UTC.
 */
/* Accepted times lie in the years 0001 to 9999; anything else is rejected. */
bool cdp_time_parse(const char *s, size_t len, int64_t *ms);

/*
 * Parses a timestamp with a strptime-style format (%Y %m %d %e %H %I %M %S
 * %y %b %B %a %p %z %f %F %T %%).  The whole input must be consumed.
 */
bool cdp_time_parse_format(const char *s, size_t len, const char *format, int64_t *ms);

/*
 * Parses a duration made of <number><unit> parts ("30d", "1d12h", "500ms");
 * units are w, d, h, m, s and ms.
 */
bool cdp_time_parse_duration(const char *s, size_t len, int64_t *ms);

/*
 * Formats a time as "2025-12-24T10:00:00.000Z" (needs 25 bytes).
 */
void cdp_time_format(int64_t ms, char *out, size_t outsize);

/*
 * Converts a UTC civil date and time to milliseconds since the epoch.
 */
int64_t cdp_time_from_civil(int year, int month, int day, int hour, int minute, int second,
                            int millis);

/*
 * Splits milliseconds since the epoch into UTC civil fields.
 */
void cdp_time_to_civil(int64_t ms, int *year, int *month, int *day, int *hour, int *minute,
                       int *second, int *millis);

/*
 * Reads the wall clock in milliseconds since the epoch.
 */
bool cdp_time_now(int64_t *ms);

#endif
