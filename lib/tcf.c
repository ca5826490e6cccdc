/*
 * tcf.c - decoding IAB TCF v2.2 TC strings (see tcf.h).
 *
 * The string is read where it lies: a bit reader walks one segment's base64url
 * characters, six bits each, most significant bit first, so nothing is copied
 * before the fields are parsed.  Every read names the field it is for, so a
 * segment that ends too early says which field was cut.
 */
#include "tcf.h"
#include "timeparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Optional segment types (the first 3 bits of every segment after the core). */
enum {
    SEGMENT_DISCLOSED_VENDORS = 1,
    SEGMENT_ALLOWED_VENDORS = 2, /* removed in TCF v2.2: skipped with a warning */
    SEGMENT_PUBLISHER_TC = 3,
};

/* The highest purpose id a publisher restriction may name (purpose fields are 24 bits). */
#define MAX_PURPOSE_FIELD 24

struct decoder {
    struct cdp_tcf *t;
    char *reason;
    size_t reason_size;
};

struct reader {
    const char *text; /* the segment's characters, already checked */
    size_t nbits;     /* 6 per character */
    size_t pos;       /* next bit */
    const char *name; /* "core segment", "DisclosedVendors segment", ... */
};

/* Records why decoding failed; returns false so callers can "return fail(...)". */
static bool fail(struct decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
fail(struct decoder *d, const char *fmt, ...)
{
    if (d->reason != NULL && d->reason_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->reason, d->reason_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static void warn(struct cdp_tcf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn(struct cdp_tcf *t, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    t->warnings = cdp_xrealloc(t->warnings, (t->warning_count + 1) * sizeof *t->warnings);
    t->warnings[t->warning_count++] = cdp_xstrdup(text);
}

/* The 6-bit value of a base64url character, or -1. */
static int
base64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Reads n (at most 36) bits as an unsigned number into *value. */
static bool
read_bits(struct decoder *d, struct reader *r, unsigned n, const char *field, uint64_t *value)
{
    size_t left = r->nbits - r->pos;
    if (n > left)
        return fail(d, "%s is truncated: %s needs %u bits, %zu left", r->name, field, n, left);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++, r->pos++) {
        int sextet = base64url_value((unsigned char)r->text[r->pos / 6]);
        v = v << 1 | (uint64_t)((sextet >> (5 - r->pos % 6)) & 1);
    }
    *value = v;
    return true;
}

static bool
read_bool(struct decoder *d, struct reader *r, const char *field, bool *value)
{
    uint64_t v;
    if (!read_bits(d, r, 1, field, &v))
        return false;
    *value = v != 0;
    return true;
}

static bool
read_int(struct decoder *d, struct reader *r, unsigned n, const char *field, int *value)
{
    uint64_t v;
    if (!read_bits(d, r, n, field, &v))
        return false;
    *value = (int)v;
    return true;
}

/* Appends id to a set being built in ascending order; *cap is its capacity. */
static void
ids_push(struct cdp_tcf_ids *set, size_t *cap, int id)
{
    if (set->count == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        set->ids = cdp_xrealloc(set->ids, *cap * sizeof *set->ids);
    }
    set->ids[set->count++] = id;
}

static void
ids_free(struct cdp_tcf_ids *set)
{
    free(set->ids);
    memset(set, 0, sizeof *set);
}

/* Reads a fixed bit field of n bits; bit i (from 0) stands for id i + 1. */
static bool
read_bitfield(struct decoder *d, struct reader *r, unsigned n, const char *field,
              struct cdp_tcf_ids *out)
{
    size_t left = r->nbits - r->pos;
    if (n > left)
        return fail(d, "%s is truncated: %s needs %u bits, %zu left", r->name, field, n, left);
    size_t cap = 0;
    for (unsigned i = 0; i < n; i++) {
        bool set;
        if (!read_bool(d, r, field, &set))
            return false;
        if (set)
            ids_push(out, &cap, (int)i + 1);
    }
    return true;
}

/*
 * Reads one of the 24-bit purpose fields: purposes 1..11 go to out, higher
 * ones to *unknown (bit p - 1 for purpose p).
 */
static bool
read_purposes(struct decoder *d, struct reader *r, const char *field, struct cdp_tcf_ids *out,
              uint32_t *unknown)
{
    uint64_t bits;
    if (!read_bits(d, r, 24, field, &bits))
        return false;
    size_t cap = 0;
    for (int p = 1; p <= 24; p++) {
        if (!(bits >> (24 - p) & 1))
            continue;
        if (p <= CDP_TCF_PURPOSES)
            ids_push(out, &cap, p);
        else
            *unknown |= UINT32_C(1) << (p - 1);
    }
    return true;
}

/* Reads two 6-bit letters (a=0 .. z=25) as two capitals. */
static bool
read_letters(struct decoder *d, struct reader *r, const char *field, char out[3])
{
    for (int i = 0; i < 2; i++) {
        uint64_t v;
        if (!read_bits(d, r, 6, field, &v))
            return false;
        if (v > 25)
            return fail(d, "%s: %s letter %d has value %u, beyond 'Z' (25)", r->name, field, i + 1,
                        (unsigned)v);
        out[i] = (char)('A' + v);
    }
    out[2] = '\0';
    return true;
}

/*
 * Reads NumEntries then that many range entries (IsARange, StartOrOnlyVendorId,
 * EndVendorId) into out.  Entries must be ascending and disjoint, name no
 * vendor 0 and, when max_id >= 0, none beyond max_id.
 */
static bool
read_ranges(struct decoder *d, struct reader *r, const char *section, int max_id,
            struct cdp_tcf_ids *out)
{
    int entries;
    char field[96];
    snprintf(field, sizeof field, "%s NumEntries", section);
    if (!read_int(d, r, 12, field, &entries))
        return false;
    size_t cap = 0;
    int previous_end = 0;
    for (int i = 1; i <= entries; i++) {
        bool is_range;
        int start, end;
        snprintf(field, sizeof field, "%s range entry %d of %d", section, i, entries);
        if (!read_bool(d, r, field, &is_range) || !read_int(d, r, 16, field, &start))
            return false;
        end = start;
        if (is_range && !read_int(d, r, 16, field, &end))
            return false;
        if (start == 0)
            return fail(d, "%s: %s names vendor 0 (vendor ids start at 1)", r->name, field);
        if (end < start)
            return fail(d, "%s: %s ends at vendor %d, before its start %d", r->name, field, end,
                        start);
        if (start <= previous_end)
            return fail(d,
                        "%s: %s starts at vendor %d, not after the previous entry's end %d "
                        "(entries must be ascending and disjoint)",
                        r->name, field, start, previous_end);
        if (max_id >= 0 && end > max_id)
            return fail(d, "%s: %s reaches vendor %d, beyond MaxVendorId %d", r->name, field, end,
                        max_id);
        for (int id = start; id <= end; id++)
            ids_push(out, &cap, id);
        previous_end = end;
    }
    return true;
}

/* Reads a vendor section: MaxVendorId, IsRangeEncoding, then a bit field or ranges. */
static bool
read_vendors(struct decoder *d, struct reader *r, const char *section, struct cdp_tcf_ids *out)
{
    char field[96];
    snprintf(field, sizeof field, "%s MaxVendorId", section);
    if (!read_int(d, r, 16, field, &out->max_id))
        return false;
    snprintf(field, sizeof field, "%s IsRangeEncoding", section);
    if (!read_bool(d, r, field, &out->range_encoded))
        return false;
    if (out->range_encoded)
        return read_ranges(d, r, section, out->max_id, out);
    snprintf(field, sizeof field, "%s BitField", section);
    return read_bitfield(d, r, (unsigned)out->max_id, field, out);
}

static bool
read_restrictions(struct decoder *d, struct reader *r)
{
    struct cdp_tcf *t = d->t;
    int count;
    if (!read_int(d, r, 12, "NumPubRestrictions", &count))
        return false;
    bool seen[MAX_PURPOSE_FIELD + 1][3] = {{false}};
    for (int i = 1; i <= count; i++) {
        int purpose, type;
        char field[96];
        snprintf(field, sizeof field, "publisher restriction %d of %d", i, count);
        if (!read_int(d, r, 6, field, &purpose) || !read_int(d, r, 2, field, &type))
            return false;
        if (purpose < 1 || purpose > MAX_PURPOSE_FIELD)
            return fail(d, "%s: %s is for purpose %d (purposes are 1 to %d)", r->name, field,
                        purpose, MAX_PURPOSE_FIELD);
        if (type == 3)
            return fail(d, "%s: %s (purpose %d) has restriction type 3, which is undefined",
                        r->name, field, purpose);
        if (seen[purpose][type])
            return fail(d, "%s: %s repeats purpose %d with restriction type %d", r->name, field,
                        purpose, type);
        seen[purpose][type] = true;
        /* At most 24 * 3 entries get here, so growing one by one is cheap. */
        t->restrictions =
            cdp_xrealloc(t->restrictions, (t->restriction_count + 1) * sizeof *t->restrictions);
        struct cdp_tcf_restriction *restriction = &t->restrictions[t->restriction_count++];
        memset(restriction, 0, sizeof *restriction);
        restriction->purpose = purpose;
        restriction->type = (enum cdp_tcf_restriction_type)type;
        if (!read_ranges(d, r, field, -1, &restriction->vendors))
            return false;
    }
    return true;
}

/* Rejects legitimate interest where the policy allows consent only. */
static bool
check_legitimate_interest(struct decoder *d, const struct cdp_tcf_ids *li, const char *field)
{
    for (size_t i = 0; i < li->count; i++) {
        int p = li->ids[i];
        if (p == 1)
            return fail(d, "%s claims legitimate interest for purpose 1, which allows consent only",
                        field);
        if (p >= 3 && p <= 6 && d->t->policy_version >= 4)
            return fail(d,
                        "%s claims legitimate interest for purpose %d, which policy version %d "
                        "(TCF v2.2) allows with consent only",
                        field, p, d->t->policy_version);
    }
    return true;
}

static bool
read_core(struct decoder *d, struct reader *r, uint32_t *unknown)
{
    struct cdp_tcf *t = d->t;
    uint64_t created, updated;
    if (!read_int(d, r, 6, "Version", &t->version))
        return false;
    if (t->version != 2)
        return fail(d, "unsupported TC string version %d (only version 2 is decoded)", t->version);
    /* Deciseconds since the epoch, 36 bits: at most year 2187, no overflow. */
    if (!read_bits(d, r, 36, "Created", &created) || !read_bits(d, r, 36, "LastUpdated", &updated))
        return false;
    t->created = (int64_t)created * 100;
    t->last_updated = (int64_t)updated * 100;
    if (!read_int(d, r, 12, "CmpId", &t->cmp_id) ||
        !read_int(d, r, 12, "CmpVersion", &t->cmp_version) ||
        !read_int(d, r, 6, "ConsentScreen", &t->consent_screen) ||
        !read_letters(d, r, "ConsentLanguage", t->consent_language) ||
        !read_int(d, r, 12, "VendorListVersion", &t->vendor_list_version) ||
        !read_int(d, r, 6, "TcfPolicyVersion", &t->policy_version) ||
        !read_bool(d, r, "IsServiceSpecific", &t->is_service_specific) ||
        !read_bool(d, r, "UseNonStandardTexts", &t->use_non_standard_texts) ||
        !read_bitfield(d, r, 12, "SpecialFeatureOptIns", &t->special_feature_optins) ||
        !read_purposes(d, r, "PurposesConsent", &t->purpose_consents, unknown) ||
        !read_purposes(d, r, "PurposesLITransparency", &t->purpose_legitimate_interests, unknown) ||
        !read_bool(d, r, "PurposeOneTreatment", &t->purpose_one_treatment) ||
        !read_letters(d, r, "PublisherCC", t->publisher_cc) ||
        !read_vendors(d, r, "VendorConsents", &t->vendor_consents) ||
        !read_vendors(d, r, "VendorLegitimateInterests", &t->vendor_legitimate_interests) ||
        !read_restrictions(d, r))
        return false;
    return check_legitimate_interest(d, &t->purpose_legitimate_interests, "PurposesLITransparency");
}

static bool
read_publisher_tc(struct decoder *d, struct reader *r, uint32_t *unknown)
{
    struct cdp_tcf *t = d->t;
    if (!read_purposes(d, r, "PubPurposesConsent", &t->pub_purposes_consent, unknown) ||
        !read_purposes(d, r, "PubPurposesLITransparency", &t->pub_purposes_li_transparency,
                       unknown) ||
        !read_int(d, r, 6, "NumCustomPurposes", &t->num_custom_purposes) ||
        !read_bitfield(d, r, (unsigned)t->num_custom_purposes, "CustomPurposesConsent",
                       &t->custom_purposes_consent) ||
        !read_bitfield(d, r, (unsigned)t->num_custom_purposes, "CustomPurposesLITransparency",
                       &t->custom_purposes_li_transparency))
        return false;
    return check_legitimate_interest(d, &t->pub_purposes_li_transparency,
                                     "PubPurposesLITransparency");
}

/* Checks every character, then decodes segment by segment. */
static bool
decode(struct decoder *d, const char *s, size_t len)
{
    struct cdp_tcf *t = d->t;
    if (len == 0)
        return fail(d, "empty TC string");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' || base64url_value(c) >= 0)
            continue;
        if (c >= 0x21 && c <= 0x7e)
            return fail(d, "invalid base64url character '%c' at position %zu", c, i + 1);
        return fail(d, "invalid base64url character 0x%02x at position %zu", c, i + 1);
    }

    uint32_t unknown = 0;
    bool seen[8] = {false};
    size_t start = 0;
    for (int segment = 1; start <= len; segment++) {
        const char *dot = memchr(s + start, '.', len - start);
        size_t end = dot != NULL ? (size_t)(dot - s) : len;
        if (end == start)
            return fail(d, "segment %d is empty", segment);
        struct reader r = {s + start, (end - start) * 6, 0, "core segment"};
        if (segment == 1) {
            if (!read_core(d, &r, &unknown))
                return false;
        } else {
            uint64_t type;
            r.name = "optional segment";
            if (!read_bits(d, &r, 3, "SegmentType", &type))
                return false;
            if (type == 0 || type > SEGMENT_PUBLISHER_TC)
                return fail(d, "segment %d has unknown segment type %u", segment, (unsigned)type);
            if (seen[type])
                return fail(d, "segment %d repeats segment type %u", segment, (unsigned)type);
            seen[type] = true;
            if (type == SEGMENT_DISCLOSED_VENDORS) {
                r.name = "DisclosedVendors segment";
                t->has_disclosed_vendors = true;
                if (!read_vendors(d, &r, "DisclosedVendors", &t->disclosed_vendors))
                    return false;
            } else if (type == SEGMENT_PUBLISHER_TC) {
                r.name = "PublisherTC segment";
                t->has_publisher_tc = true;
                if (!read_publisher_tc(d, &r, &unknown))
                    return false;
            } else {
                warn(t,
                     "segment %d is an AllowedVendors segment (type 2), removed in TCF v2.2; "
                     "ignored",
                     segment);
            }
        }
        start = end + 1;
    }

    if (t->policy_version < 4)
        warn(t, "policy version %d predates TCF v2.2 (policy version 4)", t->policy_version);
    if (unknown != 0) {
        struct cdp_buf list = CDP_BUF_INIT;
        size_t cap = 0;
        for (int p = CDP_TCF_PURPOSES + 1; p <= 24; p++) {
            if (!(unknown >> (p - 1) & 1))
                continue;
            ids_push(&t->unknown_purposes, &cap, p);
            cdp_buf_printf(&list, "%s%d", list.len ? ", " : "", p);
        }
        warn(t, "purpose%s %s not defined by TCF v2.2; not taken as consent",
             t->unknown_purposes.count > 1 ? "s" : "", list.data);
        cdp_buf_free(&list);
    }
    return true;
}

bool
cdp_tcf_decode(const char *s, size_t len, struct cdp_tcf *out, char *reason, size_t reason_size)
{
    struct decoder d = {out, reason, reason_size};
    memset(out, 0, sizeof *out);
    if (reason != NULL && reason_size > 0)
        reason[0] = '\0';
    if (s == NULL)
        len = 0;
    if (!decode(&d, s, len)) {
        cdp_tcf_free(out);
        return false;
    }
    return true;
}

void
cdp_tcf_free(struct cdp_tcf *t)
{
    ids_free(&t->special_feature_optins);
    ids_free(&t->purpose_consents);
    ids_free(&t->purpose_legitimate_interests);
    ids_free(&t->vendor_consents);
    ids_free(&t->vendor_legitimate_interests);
    for (size_t i = 0; i < t->restriction_count; i++)
        ids_free(&t->restrictions[i].vendors);
    free(t->restrictions);
    ids_free(&t->disclosed_vendors);
    ids_free(&t->pub_purposes_consent);
    ids_free(&t->pub_purposes_li_transparency);
    ids_free(&t->custom_purposes_consent);
    ids_free(&t->custom_purposes_li_transparency);
    ids_free(&t->unknown_purposes);
    for (size_t i = 0; i < t->warning_count; i++)
        free(t->warnings[i]);
    free(t->warnings);
    memset(t, 0, sizeof *t);
}

bool
cdp_tcf_has(const struct cdp_tcf_ids *set, int id)
{
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->ids[mid] == id)
            return true;
        if (set->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* JSON */

/* Appends separator, then "key":[ids]. */
static void
json_ids(struct cdp_buf *out, const char *separator, const char *key, const struct cdp_tcf_ids *set)
{
    cdp_buf_printf(out, "%s\"%s\":[", separator, key);
    for (size_t i = 0; i < set->count; i++)
        cdp_buf_printf(out, "%s%d", i ? "," : "", set->ids[i]);
    cdp_buf_putc(out, ']');
}

static void
json_bool(struct cdp_buf *out, const char *key, bool value)
{
    cdp_buf_printf(out, ",\"%s\":%s", key, value ? "true" : "false");
}

static void
json_time(struct cdp_buf *out, const char *key, int64_t ms)
{
    char text[40];
    cdp_time_format(ms, text, sizeof text);
    cdp_buf_printf(out, ",\"%s\":\"%s\"", key, text);
}

static void
json_string(struct cdp_buf *out, const char *s)
{
    cdp_buf_putc(out, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            cdp_buf_printf(out, "\\%c", c);
        else if (c < 0x20)
            cdp_buf_printf(out, "\\u%04x", c);
        else
            cdp_buf_putc(out, (char)c);
    }
    cdp_buf_putc(out, '"');
}

void
cdp_tcf_to_json(const struct cdp_tcf *t, struct cdp_buf *out)
{
    cdp_buf_printf(out, "{\"version\":%d", t->version);
    json_time(out, "created", t->created);
    json_time(out, "lastUpdated", t->last_updated);
    cdp_buf_printf(out,
                   ",\"cmpId\":%d,\"cmpVersion\":%d,\"consentScreen\":%d,"
                   "\"consentLanguage\":\"%s\",\"vendorListVersion\":%d,\"policyVersion\":%d",
                   t->cmp_id, t->cmp_version, t->consent_screen, t->consent_language,
                   t->vendor_list_version, t->policy_version);
    json_bool(out, "isServiceSpecific", t->is_service_specific);
    json_bool(out, "useNonStandardTexts", t->use_non_standard_texts);
    json_ids(out, ",", "specialFeatureOptins", &t->special_feature_optins);
    json_ids(out, ",", "purposeConsents", &t->purpose_consents);
    json_ids(out, ",", "purposeLegitimateInterests", &t->purpose_legitimate_interests);
    json_bool(out, "purposeOneTreatment", t->purpose_one_treatment);
    cdp_buf_printf(out, ",\"publisherCC\":\"%s\"", t->publisher_cc);
    json_ids(out, ",", "vendorConsents", &t->vendor_consents);
    json_ids(out, ",", "vendorLegitimateInterests", &t->vendor_legitimate_interests);
    cdp_buf_puts(out, ",\"publisherRestrictions\":[");
    for (size_t i = 0; i < t->restriction_count; i++) {
        const struct cdp_tcf_restriction *restriction = &t->restrictions[i];
        cdp_buf_printf(out, "%s{\"purpose\":%d,\"restrictionType\":%d", i ? "," : "",
                       restriction->purpose, (int)restriction->type);
        json_ids(out, ",", "vendors", &restriction->vendors);
        cdp_buf_putc(out, '}');
    }
    cdp_buf_putc(out, ']');
    if (t->has_disclosed_vendors)
        json_ids(out, ",", "disclosedVendors", &t->disclosed_vendors);
    if (t->has_publisher_tc) {
        cdp_buf_puts(out, ",\"publisherTC\":{");
        json_ids(out, "", "pubPurposesConsent", &t->pub_purposes_consent);
        json_ids(out, ",", "pubPurposesLITransparency", &t->pub_purposes_li_transparency);
        cdp_buf_printf(out, ",\"numCustomPurposes\":%d", t->num_custom_purposes);
        json_ids(out, ",", "customPurposesConsent", &t->custom_purposes_consent);
        json_ids(out, ",", "customPurposesLITransparency", &t->custom_purposes_li_transparency);
        cdp_buf_putc(out, '}');
    }
    if (t->unknown_purposes.count > 0)
        json_ids(out, ",", "unknownPurposes", &t->unknown_purposes);
    if (t->warning_count > 0) {
        cdp_buf_puts(out, ",\"warnings\":[");
        for (size_t i = 0; i < t->warning_count; i++) {
            if (i)
                cdp_buf_putc(out, ',');
            json_string(out, t->warnings[i]);
        }
        cdp_buf_putc(out, ']');
    }
    cdp_buf_putc(out, '}');
}

/* Purpose mapping */

struct purpose_map {
    const char *cdp_purpose;
    int tcf[4];
    size_t count;
};

static const struct purpose_map purpose_maps[] = {
    {"ads_personalization", {2, 3, 4}, 3},
    {"profiling", {5, 6, 11}, 3},
    {"analytics", {7, 8, 9, 10}, 4},
    {"email_marketing", {0}, 0},
    {"sms_marketing", {0}, 0},
    {"data_sharing", {0}, 0},
};

const int *
cdp_tcf_purpose_map(const char *cdp_purpose, size_t *count)
{
    *count = 0;
    if (cdp_purpose == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof purpose_maps / sizeof purpose_maps[0]; i++) {
        if (strcmp(purpose_maps[i].cdp_purpose, cdp_purpose) == 0) {
            *count = purpose_maps[i].count;
            return purpose_maps[i].tcf;
        }
    }
    return NULL;
}

/* Whether TCF purpose p has consent and no "not allowed" restriction for the vendor. */
static bool
tcf_purpose_allowed(const struct cdp_tcf *t, int p, int vendor_id)
{
    if (!cdp_tcf_has(&t->purpose_consents, p))
        return false;
    for (size_t i = 0; i < t->restriction_count; i++) {
        const struct cdp_tcf_restriction *restriction = &t->restrictions[i];
        if (restriction->purpose == p && restriction->type == CDP_TCF_NOT_ALLOWED &&
            cdp_tcf_has(&restriction->vendors, vendor_id))
            return false;
    }
    return true;
}

bool
cdp_tcf_purpose_granted(const struct cdp_tcf *t, const char *cdp_purpose, int vendor_id)
{
    size_t count;
    const int *tcf = cdp_tcf_purpose_map(cdp_purpose, &count);
    return tcf != NULL && cdp_tcf_purposes_granted(t, tcf, count, vendor_id);
}

bool
cdp_tcf_purposes_granted(const struct cdp_tcf *t, const int *tcf, size_t count, int vendor_id)
{
    if (count == 0 || vendor_id < 1 || vendor_id > 65535)
        return false;
    if (!cdp_tcf_has(&t->vendor_consents, vendor_id) || !tcf_purpose_allowed(t, 1, vendor_id))
        return false;
    for (size_t i = 0; i < count; i++) {
        if (!tcf_purpose_allowed(t, tcf[i], vendor_id))
            return false;
    }
    return true;
}
