/*
 * activation.h - profiles as audience files for e-mail tools and ad
 * platforms: the CSV that Mailchimp, Brevo and Klaviyo import, and the
 * hashed customer lists of Google Ads Customer Match and Meta Custom
 * Audiences.
 *
 *     enum cdp_activation_format f;
 *     if (!cdp_activation_format_from_name("meta-custom-audience", &f))
 *         usage error;
 *     cdp_activation_header(f, &line);                  one header row
 *     for each record (data, len) of the profiles database:
 *         struct cdp_profile_record r;
 *         if (!cdp_profile_record_read(&r, data, len))
 *             damaged record;
 *         cdp_buf_reset(&line);
 *         if (!cdp_activation_record_row(f, &r, "FR", &line, &why))
 *             count it as skipped, with why;
 *         else
 *             write line;
 *
 * cdp_activation_row() does the same for a profile in memory.
 *
 * Rows end with "\r\n" (RFC 4180).  Cells are quoted only when they hold the
 * delimiter, a double quote or a line break.
 *
 * Where each value comes from (the first one present wins):
 *
 *   e-mail      the first "email:" identifier, else traits.email (checked
 *               with cdp_normalize_email and not junk)
 *   phone       the first "phone:" identifier (already E.164), else
 *               traits.phone read as E.164 with the profile's country, or
 *               the default country when the profile has none
 *   first name  traits firstName, first_name, firstname
 *   last name   traits lastName, last_name, lastname
 *   city        traits city
 *   state       traits state, region
 *   zip         traits postalCode, postal_code, zip, zipcode
 *   country     traits country when it is a two-letter code; else the
 *               default country when the trait is absent; else empty
 *   birth date  traits birthday, birthdate, dob (YYYY-MM-DD, YYYY/MM/DD,
 *               YYYY.MM.DD or YYYYMMDD, optionally followed by a time)
 *   gender      traits gender: f, female, woman, femme... or m, male, man,
 *               homme...
 *   external id the first "user:" identifier, without "user:"
 *   tags        traits tags, an array of strings or one comma-separated
 *               string
 *
 * The columns of each format:
 *
 *   mailchimp             Email Address,First Name,Last Name,Tags
 *                         (Tags: one cell, the tags joined with ",")
 *   brevo                 EMAIL;FIRSTNAME;LASTNAME;SMS   (';' delimited,
 *                         SMS in E.164 with "+")
 *   klaviyo               Email,Phone Number,First Name,Last Name
 *                         (phone in E.164)
 *   google-customer-match Email,Phone,First Name,Last Name,Country,Zip
 *                         Email, Phone and the names are the lower-case hex
 *                         SHA-256 of their normal forms
 *                         (cdp_activation_google_email, E.164 with "+",
 *                         cdp_activation_name); Country (upper case) and
 *                         Zip (trimmed) are plain text.
 *   meta-custom-audience  email,phone,fn,ln,ct,st,zip,country,dob,gen,
 *                         external_id
 *                         every cell but external_id is the lower-case hex
 *                         SHA-256 of the normal form Meta documents: e-mail
 *                         trimmed and lower-cased; phone digits with country
 *                         code, no "+"; fn, ln, ct and st letters a-z only
 *                         (cdp_activation_meta_name); zip lower-case without
 *                         spaces (first five digits in the US); country
 *                         two letters lower-case; dob YYYYMMDD; gen f or m.
 *
 * A value that is missing or normalises to nothing leaves its cell empty
 * (never the hash of "").  The e-mail tools need an e-mail address; the ad
 * platforms need an e-mail address or a phone number.
 *
 * Spreadsheet safety: cells of free text (names, tags, Google's zip) that
 * start with = + - @ TAB or CR get a leading ' so a spreadsheet does not run
 * them as formulas.  E-mail addresses, E.164 numbers, hashes and country
 * codes are never changed: a prefix would break the upload, and these
 * values cannot hold a formula that does anything.
 *
 * A row is read from the record's bytes without building its traits as
 * JSON: a trait that is a string without escapes is read where it lies,
 * any other value is parsed alone.  Nothing here allocates except through
 * the caller's buffers and for those parsed values (and, in
 * cdp_activation_row(), the record it encodes), and nothing keeps state
 * between calls (sodium_init() is called once, on first use).
 */
#ifndef CDP_ACTIVATION_H
#define CDP_ACTIVATION_H

#include "buf.h"
#include "profile.h"

#include <stdbool.h>
#include <stddef.h>

enum cdp_activation_format {
    CDP_ACT_MAILCHIMP,
    CDP_ACT_BREVO,
    CDP_ACT_KLAVIYO,
    CDP_ACT_GOOGLE,
    CDP_ACT_META
};

/*
 * Looks a format up by its name: "mailchimp", "brevo", "klaviyo",
 * "google-customer-match" or "meta-custom-audience" (exact, lower case).
 * Returns false and leaves *f alone for any other name.
 */
bool cdp_activation_format_from_name(const char *name, enum cdp_activation_format *f);

/* The cell delimiter of the format: ';' for Brevo, ',' for the others. */
char cdp_activation_delimiter(enum cdp_activation_format f);

/* Appends the header row of the format, with its "\r\n", to out. */
void cdp_activation_header(enum cdp_activation_format f, struct cdp_buf *out);

/*
 * Appends one row for the profile record r (cdp_profile_record_read), with
 * its "\r\n", to out, and returns true.  country is the default ISO 3166
 * alpha-2 region (any case) for profiles without a country trait: it reads
 * national phone numbers and fills the country columns; it may be NULL.
 * When the profile lacks what the format needs, nothing is appended, *why
 * (when why is not NULL) points to a static reason ("no e-mail" for the
 * e-mail tools, "no e-mail or phone" for the ad platforms) and the result
 * is false.  The bytes r points to are only read.
 */
bool cdp_activation_record_row(enum cdp_activation_format f, const struct cdp_profile_record *r,
                               const char *country, struct cdp_buf *out, const char **why);

/*
 * The same row for profile p, loaded or not: p is encoded as the store
 * would hold it (into a buffer freed before returning) and read back.
 */
bool cdp_activation_row(enum cdp_activation_format f, const struct cdp_profile *p,
                        const char *country, struct cdp_buf *out, const char **why);

/*
 * The normal forms, exposed for tests and for callers that hash on their
 * own.  Each appends to out (it does not reset it); NULL or empty input
 * appends nothing.
 */

/*
 * Google's e-mail form: trimmed (ASCII white space and NBSP), ASCII letters
 * lower-cased; for gmail.com and googlemail.com addresses the dots of the
 * local part are removed and so is a "+suffix" ("J.Doe+news@GMail.com" ->
 * "jdoe@gmail.com").  Other domains keep their dots and "+".
 */
void cdp_activation_google_email(const char *email, struct cdp_buf *out);

/*
 * Appends phone in E.164 ("+33612345678") and returns true; national
 * numbers are read as numbers of country (cdp_normalize_phone).  Returns
 * false and appends nothing when the number is not valid.
 */
bool cdp_activation_phone_e164(const char *phone, const char *country, struct cdp_buf *out);

/*
 * Google's name form: lower-cased (ASCII, Latin, Greek and Cyrillic
 * letters; accents are kept: "Éloïse" -> "éloïse"), punctuation and symbols
 * removed ("O'Brien" -> "obrien", "Jean-Luc" -> "jeanluc"), runs of white
 * space made one space, no space at either end.  Invalid UTF-8 bytes are
 * dropped.
 */
void cdp_activation_name(const char *name, struct cdp_buf *out);

/*
 * Meta's form of first and last names, cities and states: letters a-z
 * only.  Latin letters lose their accents ("Éloïse" -> "eloise",
 * "François" -> "francois"), ligatures and sharp s become two letters (æ ->
 * ae, œ -> oe, ß -> ss, þ -> th); everything else (spaces, digits,
 * punctuation, letters of other scripts) is removed.
 */
void cdp_activation_meta_name(const char *name, struct cdp_buf *out);

/* Writes the lower-case hex SHA-256 of text[0..len) and a NUL into out. */
void cdp_activation_sha256_hex(const char *text, size_t len, char out[65]);

/*
 * Appends s as one CSV cell.  When escape is true and s starts with = + - @
 * TAB or CR, a ' is put before it so spreadsheets show it as text instead
 * of running it as a formula.  The cell is then put in double quotes (inner
 * quotes doubled) when it holds delimiter, '"', CR or LF.  NULL is an empty
 * cell.  s must not point into out.
 */
void cdp_activation_csv_cell(struct cdp_buf *out, const char *s, char delimiter, bool escape);

#endif
