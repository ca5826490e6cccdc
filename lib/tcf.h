/*
 * tcf.h - the IAB TCF v2.2 TC string: decoding, JSON, and what it grants to
 * cdp's own consent purposes.
 *
 * A TC string ("Transparency and Consent String", IAB Tech Lab, "Transparency
 * and Consent String with Global Vendor List Format", version 2.2) is what a
 * Consent Management Platform (CMP) leaves in the euconsent-v2 cookie or
 * passes in the gdpr_consent macro: base64url segments joined by '.'.  The
 * first is the core segment; the optional ones after it (DisclosedVendors,
 * PublisherTC) start with a 3-bit segment type.  Decoding reads every field
 * into struct cdp_tcf and checks the string against the format and against
 * the TCF v2.2 policy rules that a string can break on its own.
 *
 *     struct cdp_tcf tcf;
 *     char why[160];
 *     if (!cdp_tcf_decode(s, strlen(s), &tcf, why, sizeof why))
 *         errx(1, "bad TC string: %s", why);
 *     bool ok = cdp_tcf_purpose_granted(&tcf, "analytics", OUR_VENDOR_ID);
 *     cdp_tcf_free(&tcf);
 *
 * What is rejected (false, with a reason that names the segment and field):
 *   - an empty string or an empty segment ("a..b", a trailing '.');
 *   - a character outside base64url ('A'-'Z' 'a'-'z' '0'-'9' '-' '_'), with
 *     its position counted from 1: standard base64 ('+', '/'), '=' padding and
 *     white space are refused, as the format has none of them;
 *   - a segment that ends inside a field (the field is named);
 *   - a version other than 2;
 *   - an optional segment of type 0 or 4 to 7, or a segment type twice;
 *   - a ConsentLanguage or PublisherCC letter beyond 'Z';
 *   - range entries with vendor id 0, with an end before their start, out of
 *     ascending order or overlapping, or (vendor sections) beyond MaxVendorId;
 *   - a publisher restriction of type 3 (undefined), for purpose 0 or above 24,
 *     or for a (purpose, type) pair already given;
 *   - legitimate interest for purpose 1 (consent only, in every TCF v2
 *     policy), and with policy version 4 (TCF v2.2) or later legitimate
 *     interest for purposes 3, 4, 5 or 6, in PurposesLITransparency or in the
 *     publisher's PubPurposesLITransparency.
 * What is accepted with a warning (struct cdp_tcf.warnings):
 *   - purposes 12 to 24 set in a purpose bit field: TCF v2.2 defines purposes
 *     1 to 11 only, so these bits are never reported as consent or legitimate
 *     interest; they go to unknown_purposes instead;
 *   - an AllowedVendors segment (type 2): removed in TCF v2.2, so it is skipped
 *     without being read (strings made under TCF v2.0 still carry it);
 *   - a policy version below 4, which predates TCF v2.2 (such strings are no
 *     longer valid under the policy since 30 September 2023, but their fields
 *     decode the same way).
 * The bits that pad a segment to a byte boundary are not read.
 *
 * Memory grows with the vendors a string names, not with its length: a range
 * entry of 33 bits can name 65535 vendors.  The rules above bound it to 75
 * lists (3 vendor sections, 72 restrictions) of at most 65535 ids, about
 * 20 MB of ids and 28 MB of JSON for a hostile 700-byte string; real strings
 * name a few thousand vendors at most.
 */
#ifndef CDP_TCF_H
#define CDP_TCF_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The purposes TCF v2.2 defines; bits for higher purposes are "unknown". */
#define CDP_TCF_PURPOSES 11

/* Publisher restriction types (2 bits; 3 is undefined and rejected). */
enum cdp_tcf_restriction_type {
    CDP_TCF_NOT_ALLOWED = 0,     /* the vendor may not process for this purpose */
    CDP_TCF_REQUIRE_CONSENT = 1, /* a flexible vendor must use consent */
    CDP_TCF_REQUIRE_LI = 2,      /* a flexible vendor must use legitimate interest */
};

/*
 * A set of ids (vendors, purposes, special features): ascending, each once.
 * For the vendor sections, max_id is the MaxVendorId written in the string
 * (ids never exceed it) and range_encoded tells which of the two encodings
 * the string used; both are 0/false elsewhere.
 */
struct cdp_tcf_ids {
    int *ids; /* NULL when count is 0 */
    size_t count;
    int max_id;
    bool range_encoded;
};

/* One publisher restriction: the vendors it applies to, for one purpose. */
struct cdp_tcf_restriction {
    int purpose; /* 1..24 */
    enum cdp_tcf_restriction_type type;
    struct cdp_tcf_ids vendors;
};

/*
 * A decoded TC string.  Times are milliseconds since the epoch (the string
 * stores deciseconds).  Purpose sets hold purposes 1..11 only.  Everything is
 * owned by the struct; cdp_tcf_free() releases it.
 */
struct cdp_tcf {
    /* Core segment. */
    int version; /* always 2 */
    int64_t created;
    int64_t last_updated;
    int cmp_id;
    int cmp_version;
    int consent_screen;
    char consent_language[3]; /* two capital letters, "EN" */
    int vendor_list_version;
    int policy_version; /* TcfPolicyVersion: 4 and 5 are TCF v2.2 */
    bool is_service_specific;
    bool use_non_standard_texts;
    struct cdp_tcf_ids special_feature_optins;
    struct cdp_tcf_ids purpose_consents;
    struct cdp_tcf_ids purpose_legitimate_interests;
    bool purpose_one_treatment;
    char publisher_cc[3]; /* two capital letters, "FR" */
    struct cdp_tcf_ids vendor_consents;
    struct cdp_tcf_ids vendor_legitimate_interests;
    struct cdp_tcf_restriction *restrictions; /* in the string's order */
    size_t restriction_count;

    /* DisclosedVendors segment (type 1). */
    bool has_disclosed_vendors;
    struct cdp_tcf_ids disclosed_vendors;

    /* PublisherTC segment (type 3). */
    bool has_publisher_tc;
    struct cdp_tcf_ids pub_purposes_consent;
    struct cdp_tcf_ids pub_purposes_li_transparency;
    int num_custom_purposes;
    struct cdp_tcf_ids custom_purposes_consent;
    struct cdp_tcf_ids custom_purposes_li_transparency;

    /* Purposes 12..24 set in any of the four purpose fields (never consent). */
    struct cdp_tcf_ids unknown_purposes;
    /* Human-readable notes on what was accepted but ignored. */
    char **warnings;
    size_t warning_count;
};

/*
 * Decodes the TC string s (len bytes; no NUL needed) into *out and checks it
 * (see the top of this file).  Returns true on success; the caller then owns
 * *out and must call cdp_tcf_free().  On failure returns false, leaves *out
 * empty (cdp_tcf_free() on it is harmless but not needed) and writes a
 * one-line reason into reason (truncated to reason_size; reason may be NULL).
 */
bool cdp_tcf_decode(const char *s, size_t len, struct cdp_tcf *out, char *reason,
                    size_t reason_size);

/* Releases what cdp_tcf_decode() allocated and zeroes *t. */
void cdp_tcf_free(struct cdp_tcf *t);

/* Whether id is in the set (binary search). */
bool cdp_tcf_has(const struct cdp_tcf_ids *set, int id);

/*
 * Appends the decoded string to out as one compact JSON object, with the
 * specification's field names in camelCase:
 *
 *   {"version":2,"created":"2023-09-30T12:00:00.000Z","lastUpdated":...,
 *    "cmpId":10,"cmpVersion":2,"consentScreen":1,"consentLanguage":"EN",
 *    "vendorListVersion":48,"policyVersion":4,"isServiceSpecific":true,
 *    "useNonStandardTexts":false,"specialFeatureOptins":[1],
 *    "purposeConsents":[1,2],"purposeLegitimateInterests":[7],
 *    "purposeOneTreatment":false,"publisherCC":"GB","vendorConsents":[1,2],
 *    "vendorLegitimateInterests":[],"publisherRestrictions":[{"purpose":3,
 *    "restrictionType":0,"vendors":[10,11]}],
 *    "disclosedVendors":[1,2],
 *    "publisherTC":{"pubPurposesConsent":[1],"pubPurposesLITransparency":[],
 *    "numCustomPurposes":2,"customPurposesConsent":[1],
 *    "customPurposesLITransparency":[]},
 *    "unknownPurposes":[12],"warnings":["..."]}
 *
 * disclosedVendors and publisherTC appear only when their segment was in the
 * string; unknownPurposes and warnings only when not empty.  Times are
 * ISO 8601 UTC with milliseconds.  No newline is added.
 */
void cdp_tcf_to_json(const struct cdp_tcf *t, struct cdp_buf *out);

/*
 * The default mapping from cdp's consent purposes to TCF v2.2 purposes:
 *
 *   cdp purpose          TCF purposes (besides purpose 1, needed by all)
 *   ads_personalization  2 use limited data to select advertising,
 *                        3 create profiles for personalised advertising,
 *                        4 use profiles to select personalised advertising
 *   profiling            5 create profiles to personalise content,
 *                        6 use profiles to select personalised content,
 *                        11 use limited data to select content
 *   analytics            7 measure advertising performance,
 *                        8 measure content performance,
 *                        9 understand audiences through statistics,
 *                        10 develop and improve services
 *   email_marketing      none: TCF does not cover them, so a TC string never
 *   sms_marketing        grants them; record them in cdp's consent ledger
 *   data_sharing         from the site's own consent form.
 *
 * Returns the TCF purposes mapped to cdp_purpose, ascending, and sets *count
 * (0 for the three TCF does not cover).  Returns NULL, *count 0, for a name
 * that is not one of cdp's six purposes.  The array is static.
 */
const int *cdp_tcf_purpose_map(const char *cdp_purpose, size_t *count);

/*
 * Whether the TC string grants cdp_purpose to the vendor vendor_id (the
 * Global Vendor List id of whoever runs cdp).  True only when all of these
 * hold:
 *   - cdp_purpose maps to at least one TCF purpose (cdp_tcf_purpose_map);
 *   - purpose 1 and every mapped purpose are in purpose_consents (consent:
 *     legitimate interest never grants a cdp purpose);
 *   - vendor_id is in vendor_consents;
 *   - no publisher restriction of type 0 (not allowed) for purpose 1 or a
 *     mapped purpose lists vendor_id.
 * Restrictions of types 1 and 2 change the legal basis of flexible vendors
 * and are not consulted.  With PurposeOneTreatment set, purpose 1 was not
 * disclosed and normally has no consent bit, so nothing is granted.
 * Unknown purpose names and vendor ids outside 1..65535 give false.
 */
bool cdp_tcf_purpose_granted(const struct cdp_tcf *t, const char *cdp_purpose, int vendor_id);

/*
 * The same rule for a mapping given by the caller: true when purpose 1 and
 * every TCF purpose in tcf[0..count) are granted to vendor_id (count 0:
 * false).  For stores that configure their own table (cdp-consent
 * --set-tcf-map).
 */
bool cdp_tcf_purposes_granted(const struct cdp_tcf *t, const int *tcf, size_t count,
                              int vendor_id);

#endif
