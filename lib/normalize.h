/*
 * normalize.h - canonical forms for identifier values (e-mail addresses,
 * phone numbers, free text) and the checks that go with them: junk values,
 * country calling codes and strict UTF-8 validation.
 *
 * Every function that produces text writes into a caller buffer `out` of
 * size `outsize` and always NUL-terminates it when outsize > 0.  They return
 * true on success and false when the input is not valid or the result does
 * not fit; `out` then holds "".  Inputs are byte ranges (`in`, `len`) and do
 * not need to be NUL-terminated.
 */
#ifndef CDP_NORMALIZE_H
#define CDP_NORMALIZE_H

#include <stddef.h>
#include <stdbool.h>

/*
 * Normalizes an e-mail address: trims, strips a leading "mailto:", lower-cases
 * ASCII letters (other bytes are kept as they are) and checks that the result
 * has a plausible form (one '@', sane local part, dotted domain with a TLD of
 * at least two characters).
 */
bool cdp_normalize_email(const char *in, size_t len, char *out, size_t outsize);

/*
 * Normalizes a phone number to E.164 ("+" and 8 to 15 digits).  Numbers
 * without an international prefix ("+", "00", or "011" for US/CA) are read as
 * national numbers of `default_country` (ISO 3166 alpha-2, any case); when it
 * is NULL or unknown such numbers are rejected.
 */
bool cdp_normalize_phone(const char *in, size_t len, const char *default_country, char *out,
                         size_t outsize);

/*
 * Copies the input without leading and trailing ASCII whitespace and UTF-8
 * no-break spaces (C2 A0).  Returns false when nothing is left.
 */
bool cdp_normalize_trim(const char *in, size_t len, char *out, size_t outsize);

/*
 * Tells whether a NUL-terminated value is a placeholder rather than a real
 * identifier ("null", "n/a", "test@test.com", "0000", ...).  The comparison
 * ignores case and surrounding whitespace.  NULL counts as junk.
 */
bool cdp_normalize_is_junk(const char *value);

/*
 * Returns the international calling code of an ISO 3166 alpha-2 country
 * ("FR" or "fr" -> 33), or 0 when the country is unknown or NULL.
 */
int cdp_normalize_country_code(const char *country);

/*
 * Tells whether the byte range is strict UTF-8: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequences.
 */
bool cdp_normalize_utf8_valid(const char *s, size_t len);

#endif
