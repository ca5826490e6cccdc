/*
 * test_tcf.c - unit tests for lib/tcf.c.
 *
 * The vectors (tests/data/tcf/vectors.json, found from the working directory
 * or from $CDP_TESTDATA, the directory holding tcf/) were made and decoded
 * with the IAB's reference library; every field cdp decodes must equal the
 * library's.  The strings that must be rejected are built here, field by
 * field, with a small bit writer, since the library refuses to write them.
 */
#include "tcf.h"
#include "buf.h"
#include "check.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The vendor id the grant tests ask about when a vector gives no reason to pick another. */
#define OUR_VENDOR 7

/* Decoding helpers */

static char reason[256];

/* Decodes s into *t; true on success (reason holds the message otherwise). */
static bool
decode(const char *s, struct cdp_tcf *t)
{
    return cdp_tcf_decode(s, strlen(s), t, reason, sizeof reason);
}

/* Checks that s is rejected with a reason containing want. */
static void
reject_at(int line, const char *s, const char *want)
{
    struct cdp_tcf t;
    bool ok = decode(s, &t);
    if (ok) {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: \"%.80s\" decoded, want a rejection with \"%s\"\n", __FILE__,
                line, s, want);
        cdp_tcf_free(&t);
        return;
    }
    if (strstr(reason, want) == NULL) {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: \"%.80s\": reason \"%s\" lacks \"%s\"\n", __FILE__, line, s,
                reason, want);
        return;
    }
    check_passed++;
    /* A rejected string leaves nothing behind. */
    CHECK(t.vendor_consents.ids == NULL && t.restrictions == NULL && t.warnings == NULL);
}
#define REJECT(s, want) reject_at(__LINE__, (s), (want))

/* A bit writer for hand-made strings */

struct bits {
    unsigned char bit[4096];
    size_t n;
};

/* Appends the low n bits of v, most significant first. */
static void
put(struct bits *b, uint64_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        if (b->n < sizeof b->bit)
            b->bit[b->n++] = (unsigned char)(v >> i & 1);
    }
}

/* Appends the segment's base64url text to out, padded with zero bits to a byte boundary. */
static void
encode(const struct bits *b, struct cdp_buf *out)
{
    static const char dict[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t nbits = (b->n + 7) / 8 * 8;
    for (size_t i = 0; i < nbits; i += 6) {
        unsigned v = 0;
        for (size_t j = i; j < i + 6; j++)
            v = v << 1 | (j < b->n ? b->bit[j] : 0u);
        cdp_buf_putc(out, dict[v]);
    }
}

/* A 24-bit purpose field with the listed purposes (ended by 0) set. */
static uint32_t
purposes(int first, ...)
{
    uint32_t mask = 0;
    va_list ap;
    va_start(ap, first);
    for (int p = first; p != 0; p = va_arg(ap, int))
        mask |= UINT32_C(1) << (24 - p);
    va_end(ap);
    return mask;
}

/* The core segment's fields up to and including PublisherCC. */
struct core {
    unsigned version, policy;
    uint32_t consents, li;
    unsigned lang1, lang2, cc1, cc2;
};

static void
core_head(struct bits *b, const struct core *c)
{
    put(b, c->version, 6);
    put(b, UINT64_C(16961184000), 36); /* Created: 2023-10-01T00:00:00Z */
    put(b, UINT64_C(16961184000), 36); /* LastUpdated */
    put(b, 10, 12);                    /* CmpId */
    put(b, 2, 12);                     /* CmpVersion */
    put(b, 1, 6);                      /* ConsentScreen */
    put(b, c->lang1, 6);
    put(b, c->lang2, 6);
    put(b, 48, 12); /* VendorListVersion */
    put(b, c->policy, 6);
    put(b, 1, 1);  /* IsServiceSpecific */
    put(b, 0, 1);  /* UseNonStandardTexts */
    put(b, 0, 12); /* SpecialFeatureOptIns */
    put(b, c->consents, 24);
    put(b, c->li, 24);
    put(b, 0, 1); /* PurposeOneTreatment */
    put(b, c->cc1, 6);
    put(b, c->cc2, 6);
}

/* A core with sensible defaults: version 2, policy 4, "EN", "FR". */
static struct core
core_default(void)
{
    struct core c = {2, 4, purposes(1, 2, 3, 4, 7, 0), purposes(2, 8, 0), 4, 13, 5, 17};
    return c;
}

/* A vendor section in bitfield encoding with the listed vendors (ended by 0). */
static void
vendors_bitfield(struct bits *b, int max_id, ...)
{
    unsigned char set[1024] = {0};
    va_list ap;
    va_start(ap, max_id);
    for (int id = va_arg(ap, int); id != 0; id = va_arg(ap, int))
        set[id] = 1;
    va_end(ap);
    put(b, (uint64_t)max_id, 16);
    put(b, 0, 1);
    for (int id = 1; id <= max_id; id++)
        put(b, set[id], 1);
}

/* A range entry: a single vendor when end is 0. */
static void
range_entry(struct bits *b, int start, int end)
{
    put(b, end != 0, 1);
    put(b, (uint64_t)start, 16);
    if (end != 0)
        put(b, (uint64_t)end, 16);
}

static void
empty_vendors(struct bits *b)
{
    put(b, 0, 16);
    put(b, 0, 1);
}

/* Builds the text of one segment into a static buffer (for the simple cases). */
static const char *
text_of(const struct bits *b)
{
    static struct cdp_buf out = CDP_BUF_INIT;
    cdp_buf_reset(&out);
    encode(b, &out);
    return out.data;
}

/* A complete core: head, vendor consents 1..max set by bitfield, no LI, no restrictions. */
static const char *
simple_core(const struct core *c)
{
    struct bits b = {{0}, 0};
    core_head(&b, c);
    vendors_bitfield(&b, 10, 1, 2, 7, 10, 0);
    empty_vendors(&b);
    put(&b, 0, 12);
    return text_of(&b);
}

/* The vectors */

static json_t *
load_vectors(char *path, size_t pathsize)
{
    const char *dir = getenv("CDP_TESTDATA");
    snprintf(path, pathsize, "%s/tcf/vectors.json", dir && *dir ? dir : "tests/data");
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (root == NULL)
        fprintf(stderr, "%s: %s (line %d)\n", path, error.text, error.line);
    return root;
}

/* Checks that a set in the struct holds exactly the ids of a JSON array. */
static void
check_set(const char *name, const char *field, const struct cdp_tcf_ids *set, json_t *want)
{
    size_t n = json_array_size(want);
    bool ok = set->count == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = set->ids[i] == (int)json_integer_value(json_array_get(want, i)) &&
             cdp_tcf_has(set, set->ids[i]);
    if (ok) {
        check_passed++;
    } else {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: %s: %s: %zu ids decoded, %zu expected\n", __FILE__, __LINE__,
                name, field, set->count, n);
    }
}

/* Decodes one vector and compares every expected field. */
static void
check_vector(json_t *vector)
{
    const char *name = json_string_value(json_object_get(vector, "name"));
    const char *s = json_string_value(json_object_get(vector, "tcString"));
    json_t *want = json_object_get(vector, "expected");
    CHECK(name != NULL && s != NULL && json_is_object(want));
    if (name == NULL || s == NULL || !json_is_object(want))
        return;

    struct cdp_tcf t;
    if (!decode(s, &t)) {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: %s: rejected: %s\n", __FILE__, __LINE__, name, reason);
        return;
    }
    struct cdp_buf out = CDP_BUF_INIT;
    cdp_tcf_to_json(&t, &out);
    json_error_t error;
    json_t *got = json_loads(out.data, 0, &error);
    if (got == NULL) {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: %s: cdp_tcf_to_json wrote invalid JSON: %s\n", __FILE__,
                __LINE__, name, error.text);
        cdp_buf_free(&out);
        cdp_tcf_free(&t);
        return;
    }

    /* Every expected field, with the library's value. */
    const char *key;
    json_t *value;
    json_object_foreach(want, key, value)
    {
        json_t *mine = json_object_get(got, key);
        if (mine != NULL && json_equal(mine, value)) {
            check_passed++;
        } else {
            char *a = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
            char *b = mine ? json_dumps(mine, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            check_failed++;
            fprintf(stderr, "%s:%d: FAIL: %s: %s: got %.200s, want %.200s\n", __FILE__, __LINE__,
                    name, key, b ? b : "(missing)", a ? a : "?");
            free(a);
            free(b);
        }
    }
    /* Nothing else but cdp's own two. */
    json_object_foreach(got, key, value)
    {
        if (json_object_get(want, key) == NULL && strcmp(key, "warnings") != 0 &&
            strcmp(key, "unknownPurposes") != 0) {
            check_failed++;
            fprintf(stderr, "%s:%d: FAIL: %s: unexpected field %s\n", __FILE__, __LINE__, name,
                    key);
        }
    }
    /* The library's strings only have purposes 1..11. */
    CHECK(json_object_get(got, "unknownPurposes") == NULL);

    /* The struct itself, not only its JSON. */
    check_set(name, "vendorConsents", &t.vendor_consents, json_object_get(want, "vendorConsents"));
    check_set(name, "vendorLegitimateInterests", &t.vendor_legitimate_interests,
              json_object_get(want, "vendorLegitimateInterests"));
    check_set(name, "purposeConsents", &t.purpose_consents,
              json_object_get(want, "purposeConsents"));
    CHECK(t.has_disclosed_vendors == (json_object_get(want, "disclosedVendors") != NULL));
    if (t.has_disclosed_vendors)
        check_set(name, "disclosedVendors", &t.disclosed_vendors,
                  json_object_get(want, "disclosedVendors"));
    CHECK(t.has_publisher_tc == (json_object_get(want, "publisherTC") != NULL));
    json_t *restrictions = json_object_get(want, "publisherRestrictions");
    CHECK_INT(t.restriction_count, json_array_size(restrictions));
    for (size_t i = 0; i < t.restriction_count && i < json_array_size(restrictions); i++)
        check_set(name, "publisherRestrictions vendors", &t.restrictions[i].vendors,
                  json_object_get(json_array_get(restrictions, i), "vendors"));
    CHECK_INT(t.policy_version, json_integer_value(json_object_get(want, "policyVersion")));
    CHECK_INT(t.cmp_id, json_integer_value(json_object_get(want, "cmpId")));
    CHECK_STR(t.consent_language, json_string_value(json_object_get(want, "consentLanguage")));
    CHECK_STR(t.publisher_cc, json_string_value(json_object_get(want, "publisherCC")));

    /* Vendor ids never exceed MaxVendorId. */
    CHECK(t.vendor_consents.count == 0 ||
          t.vendor_consents.ids[t.vendor_consents.count - 1] <= t.vendor_consents.max_id);

    json_decref(got);
    cdp_buf_free(&out);
    cdp_tcf_free(&t);
}

/* Looks a vector's string up by name. */
static const char *
vector_string(json_t *root, const char *name)
{
    json_t *vectors = json_object_get(root, "vectors");
    for (size_t i = 0; i < json_array_size(vectors); i++) {
        json_t *v = json_array_get(vectors, i);
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            return json_string_value(json_object_get(v, "tcString"));
    }
    return NULL;
}

static void
test_vectors(json_t *root)
{
    json_t *vectors = json_object_get(root, "vectors");
    CHECK(json_array_size(vectors) >= 14);
    for (size_t i = 0; i < json_array_size(vectors); i++)
        check_vector(json_array_get(vectors, i));
}

/* The encodings the vectors are meant to exercise really are there. */
static void
test_vector_encodings(json_t *root)
{
    struct cdp_tcf t;
    const char *s;

    s = vector_string(root, "core-bitfield");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK(!t.vendor_consents.range_encoded);
        CHECK_INT(t.vendor_consents.max_id, 32);
        CHECK(!t.has_disclosed_vendors && !t.has_publisher_tc);
        CHECK_INT(t.warning_count, 0);
        cdp_tcf_free(&t);
    }

    s = vector_string(root, "core-range");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK(t.vendor_consents.range_encoded);
        CHECK(t.vendor_legitimate_interests.range_encoded);
        CHECK_INT(t.vendor_consents.max_id, 600);
        CHECK(cdp_tcf_has(&t.vendor_consents, 600));
        CHECK(!cdp_tcf_has(&t.vendor_consents, 250));
        CHECK(!cdp_tcf_has(&t.vendor_consents, 3));
        cdp_tcf_free(&t);
    }

    s = vector_string(root, "single-high-vendor");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK(t.vendor_consents.range_encoded);
        CHECK_INT(t.vendor_consents.count, 1);
        CHECK_INT(t.vendor_consents.max_id, 1195);
        cdp_tcf_free(&t);
    }

    s = vector_string(root, "many-vendors-range");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK(t.has_disclosed_vendors && t.disclosed_vendors.range_encoded);
        CHECK(!t.vendor_consents.range_encoded);
        cdp_tcf_free(&t);
    }

    s = vector_string(root, "publisher-restrictions");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK_INT(t.restriction_count, 4);
        bool types[3] = {false, false, false};
        for (size_t i = 0; i < t.restriction_count; i++)
            types[t.restrictions[i].type] = true;
        CHECK(types[CDP_TCF_NOT_ALLOWED] && types[CDP_TCF_REQUIRE_CONSENT] &&
              types[CDP_TCF_REQUIRE_LI]);
        cdp_tcf_free(&t);
    }

    /* The specification's examples: old policy, and a skipped AllowedVendors segment. */
    s = vector_string(root, "spec-global-four-segments");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK_INT(t.warning_count, 2);
        CHECK(t.warning_count == 2 && strstr(t.warnings[0], "AllowedVendors") != NULL);
        CHECK(t.warning_count == 2 && strstr(t.warnings[1], "policy version 2") != NULL);
        CHECK(t.has_disclosed_vendors && t.has_publisher_tc);
        cdp_tcf_free(&t);
    }
}

/* The exact JSON of one vector: compact, fields in the documented order. */
static void
test_json_exact(json_t *root)
{
    const char *s = vector_string(root, "publisher-tc");
    struct cdp_tcf t;
    CHECK(s != NULL && decode(s, &t));
    if (s == NULL)
        return;
    struct cdp_buf out = CDP_BUF_INIT;
    cdp_buf_puts(&out, "x"); /* appends, never overwrites */
    cdp_tcf_to_json(&t, &out);
    CHECK_STR(out.data,
              "x{\"version\":2,\"created\":\"2023-09-30T12:00:00.000Z\","
              "\"lastUpdated\":\"2024-01-15T08:30:12.300Z\",\"cmpId\":10,\"cmpVersion\":2,"
              "\"consentScreen\":1,\"consentLanguage\":\"EN\",\"vendorListVersion\":48,"
              "\"policyVersion\":4,\"isServiceSpecific\":true,\"useNonStandardTexts\":false,"
              "\"specialFeatureOptins\":[],\"purposeConsents\":[1,2],"
              "\"purposeLegitimateInterests\":[],\"purposeOneTreatment\":false,"
              "\"publisherCC\":\"GB\",\"vendorConsents\":[9],\"vendorLegitimateInterests\":[],"
              "\"publisherRestrictions\":[],\"publisherTC\":{\"pubPurposesConsent\":[1,2,3,10],"
              "\"pubPurposesLITransparency\":[2,7],\"numCustomPurposes\":3,"
              "\"customPurposesConsent\":[1,3],\"customPurposesLITransparency\":[2]}}");
    cdp_buf_free(&out);
    cdp_tcf_free(&t);
}

/* Malformed text */

static void
test_base64(json_t *root)
{
    const char *good = vector_string(root, "core-bitfield");
    CHECK(good != NULL);
    if (good == NULL)
        return;
    char s[128];
    snprintf(s, sizeof s, "%s", good);

    REJECT("", "empty TC string");
    struct cdp_tcf t;
    CHECK(!cdp_tcf_decode(NULL, 0, &t, reason, sizeof reason));
    CHECK_STR(reason, "empty TC string");

    /* Standard base64, padding, white space, bytes beyond ASCII: each with its position. */
    static const struct {
        size_t at;
        char c;
        const char *want;
    } bad[] = {
        {4, '+', "invalid base64url character '+' at position 5"},
        {0, '/', "invalid base64url character '/' at position 1"},
        {19, '=', "invalid base64url character '=' at position 20"},
        {7, ' ', "invalid base64url character 0x20 at position 8"},
        {30, '\n', "invalid base64url character 0x0a at position 31"},
        {12, (char)0xc3, "invalid base64url character 0xc3 at position 13"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char copy[128];
        snprintf(copy, sizeof copy, "%s", s);
        copy[bad[i].at] = bad[i].c;
        REJECT(copy, bad[i].want);
    }
    /* A trailing "=" pad, as standard base64 would add. */
    char padded[140];
    snprintf(padded, sizeof padded, "%s==", s);
    REJECT(padded, "'=' at position");

    /* A NUL inside the given length is a bad character, not the end. */
    char with_nul[128];
    memcpy(with_nul, s, strlen(s) + 1);
    with_nul[10] = '\0';
    CHECK(!cdp_tcf_decode(with_nul, strlen(s), &t, reason, sizeof reason));
    CHECK(strstr(reason, "0x00 at position 11") != NULL);

    /* Empty segments. */
    char dotted[140];
    snprintf(dotted, sizeof dotted, "%s.", s);
    REJECT(dotted, "segment 2 is empty");
    snprintf(dotted, sizeof dotted, ".%s", s);
    REJECT(dotted, "segment 1 is empty");
    REJECT(".", "segment 1 is empty");

    /* The length given is honoured: a prefix is truncated. */
    CHECK(!cdp_tcf_decode(s, 10, &t, reason, sizeof reason));
    CHECK_STR(reason, "core segment is truncated: LastUpdated needs 36 bits, 18 left");
}

/* Every prefix of every vector either decodes or names a truncated field. */
static void
test_truncation(json_t *root)
{
    json_t *vectors = json_object_get(root, "vectors");
    int rejected = 0, bad = 0;
    for (size_t i = 0; i < json_array_size(vectors); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(vectors, i), "tcString"));
        size_t len = strlen(s);
        for (size_t n = 1; n < len; n++) {
            struct cdp_tcf t;
            /* A copy of exactly n bytes, so reading past them is caught by ASan. */
            char *copy = cdp_xmalloc(n);
            memcpy(copy, s, n);
            if (cdp_tcf_decode(copy, n, &t, reason, sizeof reason)) {
                cdp_tcf_free(&t);
            } else {
                rejected++;
                if (strstr(reason, " is truncated: ") == NULL &&
                    strstr(reason, " is empty") == NULL) {
                    bad++;
                    fprintf(stderr, "%s:%d: FAIL: prefix %zu of %.40s: %s\n", __FILE__, __LINE__, n,
                            s, reason);
                }
            }
            free(copy);
        }
    }
    CHECK(rejected > 1000);
    CHECK_INT(bad, 0);

    /* Some truncations, field by field (the bits left are those of the prefix). */
    REJECT("C", "core segment is truncated: Created needs 36 bits, 0 left");
    REJECT("CPy8ImAP4cULLAKACBENAw",
           "core segment is truncated: TcfPolicyVersion needs 6 bits, 0 left");
    REJECT("CPy8ImAP4cULLAKACBENAwEg",
           "core segment is truncated: SpecialFeatureOptIns needs 12 bits, 4 left");
    REJECT("CPy8ImAP4cULLAKACBENAwEgAPIAAEMAAAwIAQN",
           "core segment is truncated: VendorConsents BitField needs 32 bits, 4 left");
    REJECT("CPy8ImAP4cULLAKACBENAwEgAPIAAEMAAAwIAQNEBAAEABCg",
           "core segment is truncated: NumPubRestrictions needs 12 bits, 5 left");
}

/* Flipping any character to any other never crashes and never decodes to garbage JSON. */
static void
test_corruption(json_t *root)
{
    static const char dict[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    const char *s = vector_string(root, "all-segments");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    size_t len = strlen(s);
    char *copy = cdp_xmalloc(len + 1);
    int decoded = 0, rejected = 0, bad_json = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof dict - 1; k += 7) {
            memcpy(copy, s, len + 1);
            if (copy[i] == dict[k])
                continue;
            copy[i] = dict[k];
            struct cdp_tcf t;
            if (!cdp_tcf_decode(copy, len, &t, reason, sizeof reason)) {
                rejected++;
                continue;
            }
            decoded++;
            struct cdp_buf out = CDP_BUF_INIT;
            cdp_tcf_to_json(&t, &out);
            json_t *j = json_loads(out.data, 0, NULL);
            if (j == NULL)
                bad_json++;
            json_decref(j);
            cdp_buf_free(&out);
            cdp_tcf_free(&t);
        }
    }
    free(copy);
    CHECK(decoded > 0 && rejected > 0);
    CHECK_INT(bad_json, 0);
}

/* Hand-made strings */

static void
test_version(void)
{
    /* A real TCF v1.1 string (version 1). */
    REJECT("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA",
           "unsupported TC string version 1 (only version 2 is decoded)");
    struct core c = core_default();
    c.version = 3;
    REJECT(simple_core(&c), "unsupported TC string version 3");
    c.version = 0;
    REJECT(simple_core(&c), "unsupported TC string version 0");
    c.version = 2;
    struct cdp_tcf t;
    CHECK(decode(simple_core(&c), &t));
    CHECK_INT(t.version, 2);
    CHECK_INT(t.created, INT64_C(1696118400000));
    CHECK_STR(t.consent_language, "EN");
    CHECK_STR(t.publisher_cc, "FR");
    CHECK_INT(t.vendor_consents.count, 4);
    CHECK_INT(t.warning_count, 0);
    cdp_tcf_free(&t);
}

static void
test_letters(void)
{
    struct core c = core_default();
    c.lang2 = 26;
    REJECT(simple_core(&c), "ConsentLanguage letter 2 has value 26, beyond 'Z'");
    c = core_default();
    c.cc1 = 63;
    REJECT(simple_core(&c), "PublisherCC letter 1 has value 63");
    c = core_default();
    c.lang1 = 25;
    c.lang2 = 0;
    struct cdp_tcf t;
    CHECK(decode(simple_core(&c), &t));
    CHECK_STR(t.consent_language, "ZA");
    cdp_tcf_free(&t);
}

static void
test_policy(void)
{
    struct cdp_tcf t;
    struct core c = core_default();

    /* LI for purpose 3 under TCF v2.2 (policy 4 and 5). */
    c.li = purposes(2, 3, 0);
    REJECT(simple_core(&c),
           "PurposesLITransparency claims legitimate interest for purpose 3, which policy version "
           "4 (TCF v2.2) allows with consent only");
    c.policy = 5;
    REJECT(simple_core(&c), "legitimate interest for purpose 3, which policy version 5");
    for (int p = 4; p <= 6; p++) {
        c.li = purposes(p, 0);
        char want[80];
        snprintf(want, sizeof want, "legitimate interest for purpose %d,", p);
        REJECT(simple_core(&c), want);
    }
    /* ...allowed under policy 2 (TCF v2.0), with a warning. */
    c.policy = 2;
    c.li = purposes(3, 4, 5, 6, 0);
    CHECK(decode(simple_core(&c), &t));
    CHECK_INT(t.purpose_legitimate_interests.count, 4);
    CHECK_INT(t.warning_count, 1);
    CHECK(t.warning_count == 1 && strstr(t.warnings[0], "policy version 2 predates") != NULL);
    cdp_tcf_free(&t);

    /* Purpose 1 is consent only under every policy. */
    for (unsigned policy = 2; policy <= 5; policy++) {
        c.policy = policy;
        c.li = purposes(1, 0);
        REJECT(simple_core(&c), "legitimate interest for purpose 1, which allows consent only");
    }

    /* LI for 2 and 7..11 is fine. */
    c.policy = 4;
    c.li = purposes(2, 7, 8, 9, 10, 11, 0);
    CHECK(decode(simple_core(&c), &t));
    CHECK_INT(t.purpose_legitimate_interests.count, 6);
    CHECK_INT(t.warning_count, 0);
    cdp_tcf_free(&t);

    /* The publisher's LI follows the same rule. */
    struct cdp_buf s = CDP_BUF_INIT;
    struct bits pub = {{0}, 0};
    c = core_default();
    cdp_buf_puts(&s, simple_core(&c));
    put(&pub, 3, 3);
    put(&pub, purposes(1, 0), 24);
    put(&pub, purposes(5, 0), 24);
    put(&pub, 0, 6);
    cdp_buf_putc(&s, '.');
    encode(&pub, &s);
    REJECT(s.data, "PubPurposesLITransparency claims legitimate interest for purpose 5");
    cdp_buf_free(&s);
}

static void
test_unknown_purposes(void)
{
    struct cdp_tcf t;
    struct core c = core_default();
    c.consents = purposes(1, 2, 3, 4, 12, 0);
    c.li = purposes(7, 24, 0);
    CHECK(decode(simple_core(&c), &t));
    /* Never reported as consent or LI... */
    CHECK(!cdp_tcf_has(&t.purpose_consents, 12));
    CHECK_INT(t.purpose_consents.count, 4);
    CHECK(!cdp_tcf_has(&t.purpose_legitimate_interests, 24));
    CHECK_INT(t.purpose_legitimate_interests.count, 1);
    /* ...but listed, with a warning. */
    CHECK_INT(t.unknown_purposes.count, 2);
    CHECK(cdp_tcf_has(&t.unknown_purposes, 12) && cdp_tcf_has(&t.unknown_purposes, 24));
    CHECK_INT(t.warning_count, 1);
    CHECK_STR(t.warning_count ? t.warnings[0] : NULL,
              "purposes 12, 24 not defined by TCF v2.2; not taken as consent");
    struct cdp_buf out = CDP_BUF_INIT;
    cdp_tcf_to_json(&t, &out);
    CHECK(strstr(out.data, "\"purposeConsents\":[1,2,3,4],") != NULL);
    CHECK(strstr(out.data, "\"purposeLegitimateInterests\":[7],") != NULL);
    CHECK(strstr(out.data, ",\"unknownPurposes\":[12,24],\"warnings\":[\"purposes 12, 24 not "
                           "defined by TCF v2.2; not taken as consent\"]}") != NULL);
    json_t *j = json_loads(out.data, 0, NULL);
    CHECK(j != NULL);
    json_decref(j);
    cdp_buf_free(&out);
    /* The grant still works for what is known. */
    CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", 7));
    cdp_tcf_free(&t);

    /* Purpose 12 alone: no consent at all for it, one unknown purpose. */
    c.consents = purposes(12, 0);
    c.li = 0;
    CHECK(decode(simple_core(&c), &t));
    CHECK_INT(t.purpose_consents.count, 0);
    CHECK_STR(t.warning_count ? t.warnings[0] : NULL,
              "purpose 12 not defined by TCF v2.2; not taken as consent");
    CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 7));
    cdp_tcf_free(&t);
}

/* A core whose vendor consent section is given by the caller. */
static const char *
core_with(void (*vendors)(struct bits *), void (*restrictions)(struct bits *))
{
    struct bits b = {{0}, 0};
    struct core c = core_default();
    core_head(&b, &c);
    vendors(&b);
    empty_vendors(&b);
    if (restrictions != NULL)
        restrictions(&b);
    else
        put(&b, 0, 12);
    return text_of(&b);
}

static void
ranges_ok(struct bits *b)
{
    put(b, 300, 16);
    put(b, 1, 1);
    put(b, 3, 12);
    range_entry(b, 2, 0);
    range_entry(b, 5, 9);
    range_entry(b, 10, 300);
}
static void
ranges_backwards(struct bits *b)
{
    put(b, 300, 16);
    put(b, 1, 1);
    put(b, 1, 12);
    range_entry(b, 9, 5);
}
static void
ranges_unordered(struct bits *b)
{
    put(b, 300, 16);
    put(b, 1, 1);
    put(b, 2, 12);
    range_entry(b, 20, 0);
    range_entry(b, 10, 12);
}
static void
ranges_overlap(struct bits *b)
{
    put(b, 300, 16);
    put(b, 1, 1);
    put(b, 2, 12);
    range_entry(b, 10, 20);
    range_entry(b, 20, 25);
}
static void
ranges_beyond(struct bits *b)
{
    put(b, 300, 16);
    put(b, 1, 1);
    put(b, 2, 12);
    range_entry(b, 10, 20);
    range_entry(b, 299, 301);
}
static void
ranges_zero(struct bits *b)
{
    put(b, 300, 16);
    put(b, 1, 1);
    put(b, 1, 12);
    range_entry(b, 0, 4);
}
static void
ranges_short(struct bits *b)
{
    put(b, 300, 16);
    put(b, 1, 1);
    put(b, 2, 12);
    range_entry(b, 10, 20);
    put(b, 1, 1); /* IsARange, then the end: padding is less than the 16 bits that should follow */
}

static void
test_ranges(void)
{
    struct cdp_tcf t;
    CHECK(decode(core_with(ranges_ok, NULL), &t));
    CHECK(t.vendor_consents.range_encoded);
    CHECK_INT(t.vendor_consents.max_id, 300);
    CHECK_INT(t.vendor_consents.count, 1 + 5 + 291);
    CHECK(cdp_tcf_has(&t.vendor_consents, 2) && !cdp_tcf_has(&t.vendor_consents, 3) &&
          cdp_tcf_has(&t.vendor_consents, 9) && cdp_tcf_has(&t.vendor_consents, 300) &&
          !cdp_tcf_has(&t.vendor_consents, 301) && !cdp_tcf_has(&t.vendor_consents, 0));
    cdp_tcf_free(&t);

    REJECT(core_with(ranges_backwards, NULL),
           "VendorConsents range entry 1 of 1 ends at vendor 5, before its start 9");
    REJECT(core_with(ranges_unordered, NULL),
           "VendorConsents range entry 2 of 2 starts at vendor 10, not after the previous "
           "entry's end 20");
    REJECT(core_with(ranges_overlap, NULL), "starts at vendor 20, not after the previous entry");
    REJECT(core_with(ranges_beyond, NULL),
           "VendorConsents range entry 2 of 2 reaches vendor 301, beyond MaxVendorId 300");
    REJECT(core_with(ranges_zero, NULL), "VendorConsents range entry 1 of 1 names vendor 0");
    /* The string ends inside the section (no LI section or restrictions after it). */
    struct bits b = {{0}, 0};
    struct core c = core_default();
    core_head(&b, &c);
    ranges_short(&b);
    REJECT(text_of(&b),
           "core segment is truncated: VendorConsents range entry 2 of 2 needs 16 bits");
}

static void
restriction_type3(struct bits *b)
{
    put(b, 1, 12);
    put(b, 2, 6);
    put(b, 3, 2);
    put(b, 1, 12);
    range_entry(b, 4, 0);
}
static void
restriction_twice(struct bits *b)
{
    put(b, 3, 12);
    for (int i = 0; i < 2; i++) {
        put(b, 7, 6);
        put(b, 1, 2);
        put(b, 1, 12);
        range_entry(b, 4 + 10 * i, 0);
    }
    put(b, 0, 6);
}
static void
restriction_purpose0(struct bits *b)
{
    put(b, 1, 12);
    put(b, 0, 6);
    put(b, 0, 2);
    put(b, 0, 12);
}
static void
restriction_purpose25(struct bits *b)
{
    put(b, 1, 12);
    put(b, 25, 6);
    put(b, 0, 2);
    put(b, 0, 12);
}
static void
restriction_unordered(struct bits *b)
{
    put(b, 1, 12);
    put(b, 2, 6);
    put(b, 0, 2);
    put(b, 2, 12);
    range_entry(b, 500, 600);
    range_entry(b, 4, 0);
}
static void
restriction_high(struct bits *b)
{
    /* Restrictions have no MaxVendorId: any id up to 65535 is fine. */
    put(b, 2, 12);
    put(b, 2, 6);
    put(b, 0, 2);
    put(b, 2, 12);
    range_entry(b, 7, 0);
    range_entry(b, 65530, 65535);
    put(b, 7, 6);
    put(b, 2, 2);
    put(b, 1, 12);
    range_entry(b, 1, 8);
}
static void
vendors_small(struct bits *b)
{
    vendors_bitfield(b, 8, 1, 7, 8, 0);
}

static void
test_restrictions(void)
{
    REJECT(core_with(vendors_small, restriction_type3),
           "publisher restriction 1 of 1 (purpose 2) has restriction type 3, which is undefined");
    REJECT(core_with(vendors_small, restriction_twice),
           "publisher restriction 2 of 3 repeats purpose 7 with restriction type 1");
    REJECT(core_with(vendors_small, restriction_purpose0),
           "publisher restriction 1 of 1 is for purpose 0 (purposes are 1 to 24)");
    REJECT(core_with(vendors_small, restriction_purpose25), "is for purpose 25");
    REJECT(core_with(vendors_small, restriction_unordered),
           "publisher restriction 1 of 1 range entry 2 of 2 starts at vendor 4");

    struct cdp_tcf t;
    CHECK(decode(core_with(vendors_small, restriction_high), &t));
    CHECK_INT(t.restriction_count, 2);
    if (t.restriction_count == 2) {
        CHECK_INT(t.restrictions[0].purpose, 2);
        CHECK_INT(t.restrictions[0].type, CDP_TCF_NOT_ALLOWED);
        CHECK_INT(t.restrictions[0].vendors.count, 7);
        CHECK(cdp_tcf_has(&t.restrictions[0].vendors, 65535));
        CHECK_INT(t.restrictions[1].type, CDP_TCF_REQUIRE_LI);
        CHECK_INT(t.restrictions[1].vendors.count, 8);
    }
    /* Purpose 2 is "not allowed" for vendor 7 only; "require LI" (purpose 7) blocks nothing. */
    CHECK(!cdp_tcf_purpose_granted(&t, "ads_personalization", 7));
    CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", 8));
    CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", 1));
    cdp_tcf_free(&t);
}

/* Appends ".<segment>" to s. */
static void
add_segment(struct cdp_buf *s, const struct bits *b)
{
    cdp_buf_putc(s, '.');
    encode(b, s);
}

static void
test_segments(void)
{
    struct core c = core_default();
    struct bits disclosed = {{0}, 0}, allowed = {{0}, 0}, pub = {{0}, 0}, odd = {{0}, 0};
    put(&disclosed, 1, 3);
    vendors_bitfield(&disclosed, 12, 1, 2, 12, 0);
    put(&allowed, 2, 3);
    vendors_bitfield(&allowed, 3, 1, 0);
    put(&pub, 3, 3);
    put(&pub, purposes(1, 2, 0), 24);
    put(&pub, purposes(7, 0), 24);
    put(&pub, 2, 6);
    put(&pub, 1, 2); /* custom purpose 1 no, 2 yes */
    put(&pub, 1, 2); /* custom LI 2 */

    struct cdp_tcf t;
    struct cdp_buf s = CDP_BUF_INIT;

    /* Optional segments in any order, the removed AllowedVendors skipped. */
    cdp_buf_puts(&s, simple_core(&c));
    add_segment(&s, &pub);
    add_segment(&s, &allowed);
    add_segment(&s, &disclosed);
    CHECK(decode(s.data, &t));
    CHECK(t.has_disclosed_vendors && t.has_publisher_tc);
    CHECK_INT(t.disclosed_vendors.count, 3);
    CHECK_INT(t.disclosed_vendors.max_id, 12);
    CHECK_INT(t.num_custom_purposes, 2);
    CHECK(t.custom_purposes_consent.count == 1 && t.custom_purposes_consent.ids[0] == 2);
    CHECK(t.custom_purposes_li_transparency.count == 1 &&
          t.custom_purposes_li_transparency.ids[0] == 2);
    CHECK_INT(t.pub_purposes_consent.count, 2);
    CHECK_INT(t.warning_count, 1);
    CHECK_STR(t.warning_count ? t.warnings[0] : NULL,
              "segment 3 is an AllowedVendors segment (type 2), removed in TCF v2.2; ignored");
    cdp_tcf_free(&t);

    /* A segment type twice. */
    cdp_buf_reset(&s);
    cdp_buf_puts(&s, simple_core(&c));
    add_segment(&s, &disclosed);
    add_segment(&s, &pub);
    add_segment(&s, &disclosed);
    REJECT(s.data, "segment 4 repeats segment type 1");
    cdp_buf_reset(&s);
    cdp_buf_puts(&s, simple_core(&c));
    add_segment(&s, &allowed);
    add_segment(&s, &allowed);
    REJECT(s.data, "segment 3 repeats segment type 2");

    /* Unknown types: 0 (a second core) and 4 to 7. */
    for (unsigned type = 0; type < 8; type++) {
        if (type >= 1 && type <= 3)
            continue;
        odd.n = 0;
        put(&odd, type, 3);
        put(&odd, 0, 21);
        cdp_buf_reset(&s);
        cdp_buf_puts(&s, simple_core(&c));
        add_segment(&s, &odd);
        char want[64];
        snprintf(want, sizeof want, "segment 2 has unknown segment type %u", type);
        REJECT(s.data, want);
    }

    /* A core alone as an optional segment. */
    cdp_buf_reset(&s);
    cdp_buf_puts(&s, simple_core(&c));
    cdp_buf_putc(&s, '.');
    cdp_buf_puts(&s, simple_core(&c));
    REJECT(s.data, "segment 2 has unknown segment type 0");

    /* Truncated optional segments name their field. */
    cdp_buf_reset(&s);
    cdp_buf_puts(&s, simple_core(&c));
    cdp_buf_puts(&s, ".I");
    REJECT(s.data, "DisclosedVendors segment is truncated: DisclosedVendors MaxVendorId");
    odd.n = 0;
    put(&odd, 1, 3);
    put(&odd, 100, 16);
    put(&odd, 0, 1);
    put(&odd, 31, 5);
    cdp_buf_reset(&s);
    cdp_buf_puts(&s, simple_core(&c));
    add_segment(&s, &odd);
    REJECT(s.data, "DisclosedVendors segment is truncated: DisclosedVendors BitField needs 100 "
                   "bits, 16 left");
    cdp_buf_reset(&s);
    cdp_buf_puts(&s, simple_core(&c));
    cdp_buf_puts(&s, ".YAAAAAA");
    REJECT(s.data, "PublisherTC segment is truncated: PubPurposesLITransparency");
    pub.n -= 2;
    cdp_buf_reset(&s);
    cdp_buf_puts(&s, simple_core(&c));
    cdp_buf_puts(&s, ".");
    /* Cut the custom purposes short: no padding may cover them. */
    {
        char text[64];
        struct cdp_buf seg = CDP_BUF_INIT;
        encode(&pub, &seg);
        snprintf(text, sizeof text, "%s", seg.data);
        text[strlen(text) - 1] = '\0';
        cdp_buf_puts(&s, text);
        cdp_buf_free(&seg);
    }
    REJECT(s.data, "PublisherTC segment is truncated: CustomPurposesLITransparency needs 2 bits, 1 "
                   "left");
    cdp_buf_free(&s);
}

static void
test_reason_buffer(void)
{
    struct cdp_tcf t;
    char small[12];
    CHECK(!cdp_tcf_decode("B", 1, &t, small, sizeof small));
    CHECK_STR(small, "unsupported");
    CHECK(!cdp_tcf_decode("B", 1, &t, NULL, 0));
    CHECK(!cdp_tcf_decode("B", 1, &t, small, 0));
    /* A failed decode can be freed anyway. */
    cdp_tcf_free(&t);
    cdp_tcf_free(&t);
}

/* Purpose mapping and grants */

static void
test_purpose_map(void)
{
    size_t n;
    const int *p;
    p = cdp_tcf_purpose_map("ads_personalization", &n);
    CHECK(p != NULL && n == 3 && p[0] == 2 && p[1] == 3 && p[2] == 4);
    p = cdp_tcf_purpose_map("profiling", &n);
    CHECK(p != NULL && n == 3 && p[0] == 5 && p[1] == 6 && p[2] == 11);
    p = cdp_tcf_purpose_map("analytics", &n);
    CHECK(p != NULL && n == 4 && p[0] == 7 && p[1] == 8 && p[2] == 9 && p[3] == 10);
    CHECK(cdp_tcf_purpose_map("email_marketing", &n) != NULL && n == 0);
    CHECK(cdp_tcf_purpose_map("sms_marketing", &n) != NULL && n == 0);
    CHECK(cdp_tcf_purpose_map("data_sharing", &n) != NULL && n == 0);
    n = 9;
    CHECK(cdp_tcf_purpose_map("marketing", &n) == NULL && n == 0);
    CHECK(cdp_tcf_purpose_map("", &n) == NULL);
    CHECK(cdp_tcf_purpose_map(NULL, &n) == NULL);
    CHECK(cdp_tcf_purpose_map("Analytics", &n) == NULL);

    /* Every TCF purpose 2..11 is mapped exactly once. */
    static const char *const names[] = {"ads_personalization", "profiling",     "analytics",
                                        "email_marketing",     "sms_marketing", "data_sharing"};
    int seen[CDP_TCF_PURPOSES + 1] = {0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        p = cdp_tcf_purpose_map(names[i], &n);
        for (size_t k = 0; k < n; k++)
            seen[p[k]]++;
    }
    CHECK_INT(seen[1], 0);
    for (int k = 2; k <= CDP_TCF_PURPOSES; k++)
        CHECK_INT(seen[k], 1);
}

static void
test_granted(json_t *root)
{
    struct cdp_tcf t;
    const char *s;

    /* Every purpose consented; vendors 7, 11, 13, ... */
    s = vector_string(root, "special-features");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", OUR_VENDOR));
        CHECK(cdp_tcf_purpose_granted(&t, "profiling", OUR_VENDOR));
        CHECK(cdp_tcf_purpose_granted(&t, "analytics", OUR_VENDOR));
        CHECK(cdp_tcf_purpose_granted(&t, "analytics", 41));
        /* TCF does not cover these. */
        CHECK(!cdp_tcf_purpose_granted(&t, "email_marketing", OUR_VENDOR));
        CHECK(!cdp_tcf_purpose_granted(&t, "sms_marketing", OUR_VENDOR));
        CHECK(!cdp_tcf_purpose_granted(&t, "data_sharing", OUR_VENDOR));
        CHECK(!cdp_tcf_purpose_granted(&t, "marketing", OUR_VENDOR));
        /* A vendor without consent, and ids that cannot be vendors. */
        CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 8));
        CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 0));
        CHECK(!cdp_tcf_purpose_granted(&t, "analytics", -7));
        CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 65536 + 7));
        cdp_tcf_free(&t);
    }

    /* Purposes 1-4 consented, vendors 1..60 (not 3, 53); purpose 3 not allowed for
     * vendors 10..20, purpose 1 not allowed for vendor 42. */
    s = vector_string(root, "publisher-restrictions");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", 5));
        CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", 9));
        CHECK(!cdp_tcf_purpose_granted(&t, "ads_personalization", 10));
        CHECK(!cdp_tcf_purpose_granted(&t, "ads_personalization", 20));
        CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", 21));
        CHECK(!cdp_tcf_purpose_granted(&t, "ads_personalization", 42));
        CHECK(!cdp_tcf_purpose_granted(&t, "ads_personalization", 3));
        CHECK(!cdp_tcf_purpose_granted(&t, "ads_personalization", 61));
        /* Types 1 and 2 do not block: vendor 40 has "require LI" for purpose 2. */
        CHECK(cdp_tcf_purpose_granted(&t, "ads_personalization", 40));
        /* Purposes 5..11 have no consent here. */
        CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 5));
        CHECK(!cdp_tcf_purpose_granted(&t, "profiling", 5));
        cdp_tcf_free(&t);
    }

    /* No consent for purpose 1 (PurposeOneTreatment): nothing is granted. */
    s = vector_string(root, "purpose-one-treatment");
    CHECK(s != NULL && decode(s, &t));
    if (s != NULL) {
        CHECK(t.purpose_one_treatment);
        CHECK(cdp_tcf_has(&t.vendor_consents, 5));
        CHECK(!cdp_tcf_purpose_granted(&t, "ads_personalization", 5));
        cdp_tcf_free(&t);
    }

    /* Legitimate interest never grants: purposes 7..10 by LI only. */
    struct core c = core_default();
    c.consents = purposes(1, 0);
    c.li = purposes(7, 8, 9, 10, 0);
    CHECK(decode(simple_core(&c), &t));
    CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 7));
    cdp_tcf_free(&t);

    /* One mapped purpose missing is enough to refuse. */
    c.consents = purposes(1, 7, 8, 9, 0);
    c.li = 0;
    CHECK(decode(simple_core(&c), &t));
    CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 7));
    cdp_tcf_free(&t);
    c.consents = purposes(1, 7, 8, 9, 10, 0);
    CHECK(decode(simple_core(&c), &t));
    CHECK(cdp_tcf_purpose_granted(&t, "analytics", 7));
    CHECK(cdp_tcf_purpose_granted(&t, "analytics", 10));
    CHECK(!cdp_tcf_purpose_granted(&t, "analytics", 3));
    cdp_tcf_free(&t);
}

int
main(void)
{
    char path[4096];
    json_t *root = load_vectors(path, sizeof path);
    CHECK(root != NULL);
    if (root != NULL) {
        test_vectors(root);
        test_vector_encodings(root);
        test_json_exact(root);
        test_base64(root);
        test_truncation(root);
        test_corruption(root);
        test_granted(root);
    }
    test_version();
    test_letters();
    test_policy();
    test_unknown_purposes();
    test_ranges();
    test_restrictions();
    test_segments();
    test_reason_buffer();
    test_purpose_map();
    json_decref(root);
    return check_summary("test_tcf");
}
