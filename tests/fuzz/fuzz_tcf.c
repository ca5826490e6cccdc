/*
 * fuzz_tcf.c - TCF v2.2 TC strings: cdp_tcf_decode, cdp_tcf_to_json,
 * cdp_tcf_purpose_granted.
 *
 * Properties checked:
 *   - a rejected string leaves the struct empty and gives a reason;
 *   - every id set is ascending without repeats; vendor ids lie in 1..65535
 *     and, in the vendor sections, within MaxVendorId; purpose sets hold
 *     purposes 1..11 only and unknown_purposes 12..24 only; restriction types
 *     are 0..2 and restriction purposes 1..24;
 *   - no legitimate interest for purpose 1, nor for 3..6 under policy >= 4;
 *   - the JSON is one valid object whose vendorConsents has as many ids as
 *     the struct;
 *   - a grant implies vendor consent and consent for purpose 1;
 *   - the same string with a '.' appended is rejected (an empty segment).
 */
#include "tcf.h"
#include "buf.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what, const char *text, size_t len)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s (input \"%.*s\")\n", what,
                (int)(len < 200 ? len : 200), text);
        abort();
    }
}

static bool
ascending(const struct cdp_tcf_ids *set, int lo, int hi)
{
    if (set->count > 0 && set->ids == NULL)
        return false;
    for (size_t i = 0; i < set->count; i++) {
        if (set->ids[i] < lo || set->ids[i] > hi || (i > 0 && set->ids[i] <= set->ids[i - 1]))
            return false;
    }
    return true;
}

static bool
vendor_section_ok(const struct cdp_tcf_ids *set)
{
    return ascending(set, 1, set->max_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const purposes[] = {
        "ads_personalization", "profiling",    "analytics", "email_marketing",
        "sms_marketing",       "data_sharing", "unknown"};
    /* Copy, one byte longer for the '.' test, so that reading past the end is caught. */
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);

    struct cdp_tcf t;
    char reason[200];
    if (!cdp_tcf_decode(s, size, &t, reason, sizeof reason)) {
        check(reason[0] != '\0', "a rejection has a reason", s, size);
        check(t.vendor_consents.ids == NULL && t.restrictions == NULL && t.warnings == NULL &&
                  t.purpose_consents.count == 0,
              "a rejection leaves the struct empty", s, size);
        free(s);
        return 0;
    }

    check(t.version == 2, "version 2", s, size);
    check(strlen(t.consent_language) == 2 && strlen(t.publisher_cc) == 2, "two letters", s, size);
    check(vendor_section_ok(&t.vendor_consents), "vendor consents in range", s, size);
    check(vendor_section_ok(&t.vendor_legitimate_interests), "vendor LI in range", s, size);
    check(vendor_section_ok(&t.disclosed_vendors), "disclosed vendors in range", s, size);
    check(t.has_disclosed_vendors || t.disclosed_vendors.count == 0, "no stray disclosed vendors",
          s, size);
    check(ascending(&t.special_feature_optins, 1, 12), "special features", s, size);
    check(ascending(&t.purpose_consents, 1, CDP_TCF_PURPOSES), "purpose consents", s, size);
    check(ascending(&t.purpose_legitimate_interests, 1, CDP_TCF_PURPOSES), "purpose LI", s, size);
    check(ascending(&t.pub_purposes_consent, 1, CDP_TCF_PURPOSES), "publisher consents", s, size);
    check(ascending(&t.pub_purposes_li_transparency, 1, CDP_TCF_PURPOSES), "publisher LI", s, size);
    check(ascending(&t.custom_purposes_consent, 1, t.num_custom_purposes), "custom consents", s,
          size);
    check(ascending(&t.custom_purposes_li_transparency, 1, t.num_custom_purposes), "custom LI", s,
          size);
    check(ascending(&t.unknown_purposes, CDP_TCF_PURPOSES + 1, 24), "unknown purposes", s, size);
    check((t.unknown_purposes.count > 0) <= (t.warning_count > 0), "unknown purposes warn", s,
          size);
    for (size_t i = 0; i < t.restriction_count; i++) {
        const struct cdp_tcf_restriction *r = &t.restrictions[i];
        check(r->purpose >= 1 && r->purpose <= 24, "restriction purpose", s, size);
        check(r->type <= CDP_TCF_REQUIRE_LI, "restriction type", s, size);
        check(ascending(&r->vendors, 1, 65535), "restriction vendors", s, size);
    }
    for (int p = 1; p <= 6; p++) {
        if (p == 2 || (p >= 3 && t.policy_version < 4))
            continue;
        check(!cdp_tcf_has(&t.purpose_legitimate_interests, p), "no LI where consent is needed", s,
              size);
    }

    struct cdp_buf out = CDP_BUF_INIT;
    cdp_tcf_to_json(&t, &out);
    json_error_t error;
    json_t *json = json_loads(out.data, 0, &error);
    check(json_is_object(json), "the JSON parses", s, size);
    check(json_array_size(json_object_get(json, "vendorConsents")) == t.vendor_consents.count,
          "the JSON lists every vendor consent", s, size);
    json_decref(json);
    cdp_buf_free(&out);

    int vendors[] = {1, 2, 7, 100, 755, 65535};
    for (size_t i = 0; i < sizeof purposes / sizeof purposes[0]; i++) {
        for (size_t k = 0; k < sizeof vendors / sizeof vendors[0]; k++) {
            if (cdp_tcf_purpose_granted(&t, purposes[i], vendors[k]))
                check(cdp_tcf_has(&t.vendor_consents, vendors[k]) &&
                          cdp_tcf_has(&t.purpose_consents, 1),
                      "a grant needs vendor consent and purpose 1", s, size);
        }
    }
    cdp_tcf_free(&t);

    s[size] = '.';
    check(!cdp_tcf_decode(s, size + 1, &t, reason, sizeof reason), "a trailing '.' is rejected", s,
          size);
    free(s);
    return 0;
}
