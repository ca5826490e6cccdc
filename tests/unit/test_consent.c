/*
 * test_consent.c - unit tests for lib/consent.c: the consent ledger, driven
 * through its public API against a real store in a temporary directory.
 *
 * lib/consent.h is the authority on what the answers should be: among the
 * records of a purpose dated no later than as_of, the latest one still in
 * force decides, and at equal times a refusal or a withdrawal wins over a
 * grant.  The last tests feed events through the ingest engine to check that
 * records move with their profile when two profiles merge or one is renamed.
 */
#include "computed.h"
#include "consent.h"
#include "ingest.h"
#include "profile.h"
#include "store.h"
#include "timeparse.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t now_ms; /* 2024-06-01T00:00:00Z */
static char root[256]; /* temporary directory of the test stores */
static struct cdp_store store;

/* ---- set-up ---- */

/* A time from ISO 8601 text; the test data is fixed, so a bad one is fatal. */
static int64_t
at(const char *iso)
{
    int64_t ms;
    if (!cdp_time_parse(iso, strlen(iso), &ms)) {
        fprintf(stderr, "bad test time %s\n", iso);
        exit(1);
    }
    return ms;
}

static void
remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* Opens a fresh store in a new directory under root. */
static bool
open_store(const char *name)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    int rc = cdp_store_open(&store, path, CDP_STORE_WRITE, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    return rc == 0;
}

/* A record with every optional field empty, no expiry, recorded at now. */
static struct cdp_consent_record
record(const char *purpose, enum cdp_consent_status status, const char *when)
{
    struct cdp_consent_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.purpose, sizeof r.purpose, "%s", purpose);
    r.status = status;
    r.time = at(when);
    r.expires = CDP_TIME_NONE;
    r.recorded = now_ms;
    return r;
}

/* Appends a record with a source (may be NULL), checking it went in. */
static void
put(MDB_txn *txn, const struct cdp_id *id, const char *purpose, enum cdp_consent_status status,
    const char *when, const char *source)
{
    struct cdp_consent_record r = record(purpose, status, when);
    r.source = source;
    CHECK_INT(cdp_consent_append(&store, txn, id, &r), 0);
}

/* The state of a purpose as of a time given as text. */
static struct cdp_consent_state
state_at(MDB_txn *txn, const struct cdp_id *id, const char *purpose, const char *when)
{
    struct cdp_consent_state st;
    CHECK_INT(cdp_consent_state(&store, txn, id, purpose, at(when), &st), 0);
    return st;
}

#define REASON(txn, id, purpose, when, want)                                                       \
    CHECK_STR(cdp_consent_reason_name(state_at(txn, id, purpose, when).reason),                    \
              cdp_consent_reason_name(want))

/* A copy of one record as cdp_consent_each showed it. */
struct seen {
    char purpose[CDP_CONSENT_PURPOSE_MAX];
    enum cdp_consent_status status;
    int64_t time, expires, recorded;
    char channel[64], source[64], proof[64];
    bool has_channel, has_source, has_proof;
};

struct collected {
    struct seen list[32];
    int n;
    int stop_after; /* 0: never stop */
};

static void
copy_optional(char *out, size_t size, bool *has, const char *value)
{
    *has = value != NULL;
    snprintf(out, size, "%s", value ? value : "");
}

static int
collect(const struct cdp_consent_record *r, void *ctx)
{
    struct collected *c = ctx;
    if (c->n < (int)(sizeof c->list / sizeof c->list[0])) {
        struct seen *s = &c->list[c->n];
        memset(s, 0, sizeof *s);
        snprintf(s->purpose, sizeof s->purpose, "%s", r->purpose);
        s->status = r->status;
        s->time = r->time;
        s->expires = r->expires;
        s->recorded = r->recorded;
        copy_optional(s->channel, sizeof s->channel, &s->has_channel, r->channel);
        copy_optional(s->source, sizeof s->source, &s->has_source, r->source);
        copy_optional(s->proof, sizeof s->proof, &s->has_proof, r->proof);
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

/* How many records profile id holds (-1 when cdp_consent_each fails). */
static int
count_records(MDB_txn *txn, const struct cdp_id *id)
{
    struct collected c;
    memset(&c, 0, sizeof c);
    int rc = cdp_consent_each(&store, txn, id, collect, &c);
    CHECK_INT(rc, 0);
    return rc == 0 ? c.n : -1;
}

/* How many records of one purpose profile id holds. */
static int
count_purpose(MDB_txn *txn, const struct cdp_id *id, const char *purpose)
{
    struct collected c;
    memset(&c, 0, sizeof c);
    CHECK_INT(cdp_consent_each(&store, txn, id, collect, &c), 0);
    int n = 0;
    for (int i = 0; i < c.n && i < (int)(sizeof c.list / sizeof c.list[0]); i++)
        n += strcmp(c.list[i].purpose, purpose) == 0;
    return n;
}

/* ---- status words, purpose names, the vocabulary ---- */

static void
expect_status(int line, const char *word, enum cdp_consent_status want)
{
    enum cdp_consent_status got = (enum cdp_consent_status)99;
    if (!cdp_consent_parse_status(word, &got)) {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: \"%s\" is not read as a status\n", __FILE__, line, word);
    } else if (got != want) {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: \"%s\" read as %s, want %s\n", __FILE__, line, word,
                cdp_consent_status_name(got), cdp_consent_status_name(want));
    } else {
        check_passed++;
    }
}

#define STATUS(word, want) expect_status(__LINE__, word, want)

static void
expect_no_status(int line, const char *word)
{
    enum cdp_consent_status got = CDP_CONSENT_WITHDRAWN;
    if (cdp_consent_parse_status(word, &got)) {
        check_failed++;
        fprintf(stderr, "%s:%d: FAIL: \"%s\" read as %s, want a rejection\n", __FILE__, line, word,
                cdp_consent_status_name(got));
    } else {
        check_passed++;
    }
}

#define NO_STATUS(word) expect_no_status(__LINE__, word)

static void
test_parse_status(void)
{
    const enum cdp_consent_status G = CDP_CONSENT_GRANTED, D = CDP_CONSENT_DENIED,
                                  W = CDP_CONSENT_WITHDRAWN;
    STATUS("granted", G);
    STATUS("yes", G);
    STATUS("oui", G);
    STATUS("true", G);
    STATUS("1", G);
    STATUS("opt-in", G);
    STATUS("GRANTED", G);
    STATUS("Yes", G);
    STATUS("OUI", G);
    STATUS("True", G);
    STATUS("Opt-In", G);
    STATUS("  granted  ", G);
    STATUS("\tyes\t", G);
    STATUS(" 1", G);

    STATUS("denied", D);
    STATUS("no", D);
    STATUS("non", D);
    STATUS("false", D);
    STATUS("0", D);
    STATUS("opt-out", D);
    STATUS("DENIED", D);
    STATUS("No", D);
    STATUS("NON", D);
    STATUS("FALSE", D);
    STATUS("OPT-OUT", D);
    STATUS(" \t0 \t", D);
    STATUS("  denied", D);

    STATUS("withdrawn", W);
    STATUS("withdraw", W);
    STATUS("revoked", W);
    STATUS("retiré", W);
    STATUS("Retiré", W);
    STATUS("WITHDRAWN", W);
    STATUS("Revoked", W);
    STATUS(" withdraw ", W);

    NO_STATUS("maybe");
    NO_STATUS("");
    NO_STATUS("   ");
    NO_STATUS("2");
    NO_STATUS("granted!");
    NO_STATUS("grantedx");
    NO_STATUS("yes no");
    NO_STATUS("opt in out");
    NO_STATUS("-1");

    /* The names the other way round. */
    CHECK_STR(cdp_consent_status_name(G), "granted");
    CHECK_STR(cdp_consent_status_name(D), "denied");
    CHECK_STR(cdp_consent_status_name(W), "withdrawn");
    CHECK_STR(cdp_consent_reason_name(CDP_CONSENT_OK), "granted");
    CHECK_STR(cdp_consent_reason_name(CDP_CONSENT_NO_RECORD), "no record");
    CHECK_STR(cdp_consent_reason_name(CDP_CONSENT_IS_DENIED), "denied");
    CHECK_STR(cdp_consent_reason_name(CDP_CONSENT_IS_WITHDRAWN), "withdrawn");
    CHECK_STR(cdp_consent_reason_name(CDP_CONSENT_EXPIRED), "expired");
}

static void
test_purpose_valid(void)
{
    char longest[CDP_CONSENT_PURPOSE_MAX + 1];
    memset(longest, 'a', sizeof longest);
    longest[CDP_CONSENT_PURPOSE_MAX - 1] = '\0'; /* 63 letters */
    CHECK(cdp_consent_purpose_valid(longest));
    longest[CDP_CONSENT_PURPOSE_MAX - 1] = 'a';
    longest[CDP_CONSENT_PURPOSE_MAX] = '\0'; /* 64 letters */
    CHECK(!cdp_consent_purpose_valid(longest));

    CHECK(cdp_consent_purpose_valid("email_marketing"));
    CHECK(cdp_consent_purpose_valid("a"));
    CHECK(cdp_consent_purpose_valid("0"));
    CHECK(cdp_consent_purpose_valid("_"));
    CHECK(cdp_consent_purpose_valid("push_2024"));
    for (int i = 0; cdp_consent_default_purposes[i]; i++)
        CHECK(cdp_consent_purpose_valid(cdp_consent_default_purposes[i]));

    CHECK(!cdp_consent_purpose_valid(""));
    CHECK(!cdp_consent_purpose_valid("Email"));
    CHECK(!cdp_consent_purpose_valid("EMAIL_MARKETING"));
    CHECK(!cdp_consent_purpose_valid("e-mail"));
    CHECK(!cdp_consent_purpose_valid("email marketing"));
    CHECK(!cdp_consent_purpose_valid(" email"));
    CHECK(!cdp_consent_purpose_valid("email.marketing"));
    CHECK(!cdp_consent_purpose_valid("email:x"));
    CHECK(!cdp_consent_purpose_valid("publicité"));
}

/* The vocabulary as a space-separated list, for one CHECK_STR. */
static void
join(json_t *list, char *out, size_t size)
{
    size_t i, used = 0;
    json_t *item;
    out[0] = '\0';
    json_array_foreach(list, i, item)
    {
        const char *s = json_is_string(item) ? json_string_value(item) : "?";
        int n = snprintf(out + used, size - used, "%s%s", i ? " " : "", s);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static void
test_purposes(void)
{
    char text[512];
    int rc = -1;
    MDB_txn *txn;
    if (!open_store("purposes"))
        return;

    /* No "purposes" in meta: the six defaults, in their order. */
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    json_t *list = cdp_consent_purposes(&store, txn, &rc);
    CHECK(list != NULL);
    CHECK_INT(rc, 0);
    CHECK(json_is_array(list));
    CHECK_INT(json_array_size(list), 6);
    join(list, text, sizeof text);
    CHECK_STR(text, "email_marketing sms_marketing ads_personalization analytics profiling "
                    "data_sharing");
    int defaults = 0;
    while (cdp_consent_default_purposes[defaults])
        defaults++;
    CHECK_INT(defaults, 6);
    CHECK(cdp_consent_purpose_known(list, "email_marketing"));
    CHECK(cdp_consent_purpose_known(list, "data_sharing"));
    CHECK(!cdp_consent_purpose_known(list, "push"));
    CHECK(!cdp_consent_purpose_known(list, "email"));
    CHECK(!cdp_consent_purpose_known(list, "Email_marketing"));
    CHECK(!cdp_consent_purpose_known(list, ""));
    json_decref(list);
    mdb_txn_abort(txn);

    /* A configured list replaces the defaults. */
    const char *configured = "[\"push\",\"email_marketing\",\"research_2024\"]";
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    CHECK_INT(cdp_store_meta_put(&store, txn, "purposes", configured, strlen(configured)), 0);
    CHECK_INT(mdb_txn_commit(txn), 0);
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    rc = -1;
    list = cdp_consent_purposes(&store, txn, &rc);
    CHECK(list != NULL);
    CHECK_INT(rc, 0);
    CHECK_INT(json_array_size(list), 3);
    join(list, text, sizeof text);
    CHECK_STR(text, "push email_marketing research_2024");
    CHECK(cdp_consent_purpose_known(list, "push"));
    CHECK(cdp_consent_purpose_known(list, "research_2024"));
    CHECK(!cdp_consent_purpose_known(list, "sms_marketing")); /* a default, not configured */
    CHECK(!cdp_consent_purpose_known(list, "pus"));
    json_decref(list);
    mdb_txn_abort(txn);

    /* An empty configured list means no purpose at all, not the defaults. */
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    CHECK_INT(cdp_store_meta_put(&store, txn, "purposes", "[]", 2), 0);
    list = cdp_consent_purposes(&store, txn, &rc);
    CHECK(list != NULL && json_array_size(list) == 0);
    CHECK(!cdp_consent_purpose_known(list, "email_marketing"));
    json_decref(list);

    /* Something that is not a JSON array: NULL and an error code. */
    CHECK_INT(cdp_store_meta_put(&store, txn, "purposes", "{\"a\":1}", 7), 0);
    rc = 0;
    list = cdp_consent_purposes(&store, txn, &rc);
    CHECK(list == NULL);
    CHECK(rc != 0);
    json_decref(list);
    mdb_txn_abort(txn);

    /* purpose_known skips what is not a string. */
    json_t *mixed = json_pack("[i, n, s]", 1, "analytics");
    CHECK(cdp_consent_purpose_known(mixed, "analytics"));
    CHECK(!cdp_consent_purpose_known(mixed, "1"));
    json_decref(mixed);

    cdp_store_close(&store);
}

/* ---- the state of a purpose ---- */

static void
test_state(void)
{
    MDB_txn *txn;
    struct cdp_consent_state st;
    const enum cdp_consent_status G = CDP_CONSENT_GRANTED, D = CDP_CONSENT_DENIED,
                                  W = CDP_CONSENT_WITHDRAWN;
    if (!open_store("state"))
        return;
    struct cdp_id p = cdp_hash_string("user:p"), q = cdp_hash_string("user:q");
    struct cdp_id nobody = cdp_hash_string("user:nobody");

    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);

    /* Granted, then withdrawn later. */
    put(txn, &p, "email_marketing", G, "2024-01-01T00:00:00Z", "web");
    put(txn, &p, "email_marketing", W, "2024-03-01T00:00:00Z", "support");
    st = state_at(txn, &p, "email_marketing", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_WITHDRAWN);
    CHECK_INT(st.time, at("2024-03-01T00:00:00Z"));
    CHECK_INT(st.expires, CDP_TIME_NONE);
    CHECK_STR(st.source, "support");
    /* Before the first record: nothing. */
    st = state_at(txn, &p, "email_marketing", "2023-12-31T23:59:59.999Z");
    CHECK_INT(st.reason, CDP_CONSENT_NO_RECORD);
    CHECK_INT(st.time, CDP_TIME_NONE);
    CHECK_INT(st.expires, CDP_TIME_NONE);
    CHECK_STR(st.source, "");
    /* Between the records: the earlier one. */
    st = state_at(txn, &p, "email_marketing", "2024-02-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_INT(st.time, at("2024-01-01T00:00:00Z"));
    CHECK_STR(st.source, "web");
    /* A record dated exactly as_of counts ("no later than as_of"). */
    REASON(txn, &p, "email_marketing", "2024-01-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &p, "email_marketing", "2024-02-29T23:59:59.999Z", CDP_CONSENT_OK);
    REASON(txn, &p, "email_marketing", "2024-03-01T00:00:00Z", CDP_CONSENT_IS_WITHDRAWN);

    /*
     * Out-of-order import: the withdrawal is written first, then an older
     * grant turns up.  The ledger goes by when the person said it, not by
     * when it was written, so the withdrawal still decides.
     */
    put(txn, &p, "sms_marketing", W, "2024-05-01T00:00:00Z", "import-2");
    put(txn, &p, "sms_marketing", G, "2024-04-01T00:00:00Z", "import-1");
    st = state_at(txn, &p, "sms_marketing", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_WITHDRAWN);
    CHECK_INT(st.time, at("2024-05-01T00:00:00Z"));
    CHECK_STR(st.source, "import-2");
    REASON(txn, &p, "sms_marketing", "2024-04-15T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &p, "sms_marketing", "2024-03-15T00:00:00Z", CDP_CONSENT_NO_RECORD);

    /* Records dated after as_of are ignored (a later refusal, as of before it). */
    put(txn, &p, "analytics", G, "2024-01-01T00:00:00Z", "web");
    put(txn, &p, "analytics", D, "2024-09-01T00:00:00Z", "web");
    st = state_at(txn, &p, "analytics", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_INT(st.time, at("2024-01-01T00:00:00Z"));
    REASON(txn, &p, "analytics", "2024-10-01T00:00:00Z", CDP_CONSENT_IS_DENIED);
    REASON(txn, &p, "analytics", "2024-08-31T23:59:59.999Z", CDP_CONSENT_OK);
    /* Far outside the usual range, both ways. */
    REASON(txn, &p, "analytics", "9999-12-31T00:00:00Z", CDP_CONSENT_IS_DENIED);
    REASON(txn, &p, "analytics", "0001-01-01T00:00:00Z", CDP_CONSENT_NO_RECORD);

    /* Expiry: a lone grant that has run out. */
    struct cdp_consent_record r = record("profiling", G, "2024-01-01T00:00:00Z");
    r.expires = at("2024-03-01T00:00:00Z");
    r.source = "web";
    CHECK_INT(cdp_consent_append(&store, txn, &p, &r), 0);
    st = state_at(txn, &p, "profiling", "2024-02-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_INT(st.time, at("2024-01-01T00:00:00Z"));
    CHECK_INT(st.expires, at("2024-03-01T00:00:00Z"));
    CHECK_STR(st.source, "web");
    st = state_at(txn, &p, "profiling", "2024-04-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_EXPIRED);
    REASON(txn, &p, "profiling", "2023-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);

    /*
     * Expiry with an older grant that never expires.  consent.h says the
     * latest record *still in force* decides, so once the newer, time-limited
     * grant runs out, the older open-ended one decides again: the purpose is
     * granted, and the deciding record is the older one.  (The expired grant
     * does not end the older one; only a refusal or a withdrawal would.)
     */
    put(txn, &p, "data_sharing", G, "2024-01-01T00:00:00Z", "paper");
    r = record("data_sharing", G, "2024-02-01T00:00:00Z");
    r.expires = at("2024-03-01T00:00:00Z");
    r.source = "campaign";
    CHECK_INT(cdp_consent_append(&store, txn, &p, &r), 0);
    st = state_at(txn, &p, "data_sharing", "2024-02-15T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_INT(st.time, at("2024-02-01T00:00:00Z"));
    CHECK_INT(st.expires, at("2024-03-01T00:00:00Z"));
    CHECK_STR(st.source, "campaign");
    st = state_at(txn, &p, "data_sharing", "2024-04-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_INT(st.time, at("2024-01-01T00:00:00Z"));
    CHECK_INT(st.expires, CDP_TIME_NONE);
    CHECK_STR(st.source, "paper");

    /*
     * By the same reading, a refusal followed by a time-limited grant is a
     * refusal again once the grant has run out.
     */
    put(txn, &p, "ads_personalization", D, "2024-01-01T00:00:00Z", "banner");
    r = record("ads_personalization", G, "2024-02-01T00:00:00Z");
    r.expires = at("2024-03-01T00:00:00Z");
    CHECK_INT(cdp_consent_append(&store, txn, &p, &r), 0);
    REASON(txn, &p, "ads_personalization", "2024-02-15T00:00:00Z", CDP_CONSENT_OK);
    st = state_at(txn, &p, "ads_personalization", "2024-04-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_DENIED);
    CHECK_INT(st.time, at("2024-01-01T00:00:00Z"));
    CHECK_STR(st.source, "banner");

    /* A grant and a refusal at the same instant: the refusal wins, whatever the order. */
    put(txn, &p, "tie_a", G, "2024-01-01T00:00:00Z", "left");
    put(txn, &p, "tie_a", D, "2024-01-01T00:00:00Z", "right");
    put(txn, &p, "tie_b", D, "2024-01-01T00:00:00Z", "right");
    put(txn, &p, "tie_b", G, "2024-01-01T00:00:00Z", "left");
    st = state_at(txn, &p, "tie_a", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_DENIED);
    CHECK_STR(st.source, "right");
    CHECK_INT(st.time, at("2024-01-01T00:00:00Z"));
    st = state_at(txn, &p, "tie_b", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_DENIED);
    CHECK_STR(st.source, "right");
    /* With a withdrawal, and among several grants at that instant. */
    for (int i = 0; i < 5; i++) {
        char source[16];
        snprintf(source, sizeof source, "g%d", i);
        put(txn, &p, "tie_c", G, "2024-01-01T00:00:00Z", source);
    }
    put(txn, &p, "tie_c", W, "2024-01-01T00:00:00Z", "w");
    for (int i = 5; i < 10; i++) {
        char source[16];
        snprintf(source, sizeof source, "g%d", i);
        put(txn, &p, "tie_c", G, "2024-01-01T00:00:00Z", source);
    }
    CHECK_INT(count_purpose(txn, &p, "tie_c"), 11);
    st = state_at(txn, &p, "tie_c", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_WITHDRAWN);
    CHECK_STR(st.source, "w");
    /* A tie only counts at the deciding instant: a later grant still wins. */
    put(txn, &p, "tie_c", G, "2024-01-01T00:00:00.001Z", "later");
    st = state_at(txn, &p, "tie_c", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_STR(st.source, "later");

    /* Purposes that are prefixes of each other do not mix. */
    put(txn, &p, "email", G, "2024-01-01T00:00:00Z", "short");
    REASON(txn, &p, "email", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &p, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_WITHDRAWN);
    REASON(txn, &p, "email_marketing", "2024-02-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &p, "emai", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &p, "email_marketing_x", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &p, "e", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    st = state_at(txn, &p, "email", "2024-06-01T00:00:00Z");
    CHECK_STR(st.source, "short");
    /* ... with only the longer name on record, and only the shorter one. */
    struct cdp_id only_long = cdp_hash_string("user:only-long");
    struct cdp_id only_short = cdp_hash_string("user:only-short");
    put(txn, &only_long, "email_marketing", G, "2024-01-01T00:00:00Z", NULL);
    put(txn, &only_short, "email", D, "2024-01-01T00:00:00Z", NULL);
    REASON(txn, &only_long, "email", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &only_long, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &only_short, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &only_short, "email", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_DENIED);
    st = state_at(txn, &only_long, "email_marketing", "2024-06-01T00:00:00Z");
    CHECK_STR(st.source, ""); /* no source given */

    /* Two profiles do not mix. */
    put(txn, &q, "email_marketing", G, "2024-04-01T00:00:00Z", "q-web");
    st = state_at(txn, &q, "email_marketing", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_STR(st.source, "q-web");
    REASON(txn, &p, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_WITHDRAWN);
    REASON(txn, &q, "sms_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &q, "analytics", "2024-10-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &nobody, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);

    /*
     * Profiles whose ids are neighbours in key order: one id all 0x42, the
     * next one up and the one just below.  The search for one must not stop
     * at, or read from, its neighbours.
     */
    struct cdp_id mid, up, down;
    memset(mid.bytes, 0x42, 16);
    up = mid;
    up.bytes[15] = 0x43;
    down = mid;
    down.bytes[15] = 0x41;
    put(txn, &up, "analytics", D, "2024-01-01T00:00:00Z", "up");
    put(txn, &down, "analytics", W, "2024-01-01T00:00:00Z", "down");
    REASON(txn, &mid, "analytics", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    put(txn, &mid, "analytics", G, "2024-02-01T00:00:00Z", "mid");
    st = state_at(txn, &mid, "analytics", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_STR(st.source, "mid");
    REASON(txn, &mid, "analytics", "2024-01-15T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &up, "analytics", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_DENIED);
    REASON(txn, &down, "analytics", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_WITHDRAWN);
    REASON(txn, &up, "analytics", "9999-01-01T00:00:00Z", CDP_CONSENT_IS_DENIED);

    /* Times before 1970 sort and compare as times. */
    put(txn, &q, "profiling", G, "1960-01-01T00:00:00Z", "old");
    put(txn, &q, "profiling", D, "1965-01-01T00:00:00Z", "old");
    REASON(txn, &q, "profiling", "1962-01-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &q, "profiling", "1970-01-01T00:00:00Z", CDP_CONSENT_IS_DENIED);
    REASON(txn, &q, "profiling", "1959-01-01T00:00:00Z", CDP_CONSENT_NO_RECORD);

    /* An invalid purpose: nothing to append, nothing on record. */
    struct cdp_consent_record bad = record("Email-Marketing", G, "2024-01-01T00:00:00Z");
    CHECK(cdp_consent_append(&store, txn, &p, &bad) != 0);
    bad = record("", G, "2024-01-01T00:00:00Z");
    CHECK(cdp_consent_append(&store, txn, &p, &bad) != 0);
    REASON(txn, &p, "Email-Marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &p, "", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);

    /* cdp_consent_granted agrees with the state. */
    bool granted = true;
    CHECK_INT(cdp_consent_granted(&store, txn, &p, "email_marketing", now_ms, &granted), 0);
    CHECK(!granted);
    CHECK_INT(cdp_consent_granted(&store, txn, &p, "email_marketing", at("2024-02-01T00:00:00Z"),
                                  &granted),
              0);
    CHECK(granted);
    CHECK_INT(cdp_consent_granted(&store, txn, &p, "analytics", now_ms, &granted), 0);
    CHECK(granted);
    CHECK_INT(cdp_consent_granted(&store, txn, &p, "tie_a", now_ms, &granted), 0);
    CHECK(!granted);
    CHECK_INT(cdp_consent_granted(&store, txn, &p, "profiling", now_ms, &granted), 0);
    CHECK(!granted); /* expired */
    CHECK_INT(cdp_consent_granted(&store, txn, &p, "data_sharing", now_ms, &granted), 0);
    CHECK(granted); /* the older open-ended grant */
    CHECK_INT(cdp_consent_granted(&store, txn, &q, "email_marketing", now_ms, &granted), 0);
    CHECK(granted);
    granted = true;
    CHECK_INT(cdp_consent_granted(&store, txn, &nobody, "email_marketing", now_ms, &granted), 0);
    CHECK(!granted);

    /* All of it survives a commit and reads the same in a read transaction. */
    CHECK_INT(mdb_txn_commit(txn), 0);
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    REASON(txn, &p, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_WITHDRAWN);
    REASON(txn, &p, "sms_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_WITHDRAWN);
    REASON(txn, &p, "profiling", "2024-06-01T00:00:00Z", CDP_CONSENT_EXPIRED);
    REASON(txn, &p, "tie_b", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_DENIED);
    REASON(txn, &q, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
}

/* ---- idempotence ---- */

static void
test_idempotence(void)
{
    MDB_txn *txn;
    if (!open_store("idempotence"))
        return;
    struct cdp_id id = cdp_hash_string("user:i");
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);

    struct cdp_consent_record r =
        record("email_marketing", CDP_CONSENT_GRANTED, "2024-01-01T10:00:00Z");
    r.channel = "web";
    r.source = "signup";
    r.proof = "form-1";
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 1);
    /* The same record again: still one. */
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 1);
    /* Imported again later (another recorded time): still one. */
    r.recorded = now_ms + 86400000;
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 1);
    /* Across a commit too. */
    CHECK_INT(mdb_txn_commit(txn), 0);
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    r.recorded = now_ms + 2 * 86400000;
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 1);

    /* A record that differs only in proof is a second record. */
    r.proof = "form-2";
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 2);
    /* ... and in channel, source, expiry or status, a third and so on. */
    r.channel = "app";
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 3);
    r.source = "crm";
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 4);
    r.expires = at("2025-01-01T00:00:00Z");
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 5);
    r.status = CDP_CONSENT_DENIED;
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 6);
    /* ... or in time, or purpose. */
    r.time += 1;
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 7);
    snprintf(r.purpose, sizeof r.purpose, "%s", "sms_marketing");
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    CHECK_INT(count_records(txn, &id), 8);
    /* The same record under another profile is that profile's own. */
    struct cdp_id other = cdp_hash_string("user:other");
    CHECK_INT(cdp_consent_append(&store, txn, &other, &r), 0);
    CHECK_INT(count_records(txn, &id), 8);
    CHECK_INT(count_records(txn, &other), 1);

    /* A NULL and an empty optional field are the same record. */
    struct cdp_consent_record n = record("analytics", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z");
    CHECK_INT(cdp_consent_append(&store, txn, &other, &n), 0);
    n.channel = "";
    n.source = "";
    n.proof = "";
    CHECK_INT(cdp_consent_append(&store, txn, &other, &n), 0);
    CHECK_INT(count_records(txn, &other), 2);

    CHECK_INT(mdb_txn_commit(txn), 0);
    cdp_store_close(&store);
}

/* ---- reading the ledger back ---- */

static void
test_each(void)
{
    MDB_txn *txn;
    if (!open_store("each"))
        return;
    struct cdp_id id = cdp_hash_string("user:e"), other = cdp_hash_string("user:f");
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);

    /* Written out of order, in purpose and in time. */
    struct cdp_consent_record r =
        record("sms_marketing", CDP_CONSENT_WITHDRAWN, "2024-03-01T00:00:00Z");
    r.channel = "sms";
    r.source = "stop-reply";
    r.proof = "msg-99";
    r.recorded = at("2024-03-02T08:00:00.250Z");
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    r = record("email_marketing", CDP_CONSENT_GRANTED, "2024-02-01T12:30:00Z");
    r.channel = "web";
    r.source = "newsletter";
    r.proof = "form-7";
    r.expires = at("2026-02-01T00:00:00Z");
    r.recorded = at("2024-02-01T12:31:00Z");
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    r = record("sms_marketing", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z");
    r.recorded = at("2024-01-05T00:00:00Z"); /* no channel, source or proof */
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    r = record("email", CDP_CONSENT_DENIED, "2024-05-01T00:00:00Z");
    r.source = "call";
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    r = record("email_marketing", CDP_CONSENT_DENIED, "2023-12-01T00:00:00Z");
    r.proof = "paper";
    CHECK_INT(cdp_consent_append(&store, txn, &id, &r), 0);
    /* Another profile's record must not show. */
    r = record("analytics", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z");
    CHECK_INT(cdp_consent_append(&store, txn, &other, &r), 0);

    struct collected c;
    memset(&c, 0, sizeof c);
    CHECK_INT(cdp_consent_each(&store, txn, &id, collect, &c), 0);
    CHECK_INT(c.n, 5);
    if (c.n == 5) {
        /* By purpose ("email" before "email_marketing"), then by time. */
        CHECK_STR(c.list[0].purpose, "email");
        CHECK_STR(c.list[1].purpose, "email_marketing");
        CHECK_STR(c.list[2].purpose, "email_marketing");
        CHECK_STR(c.list[3].purpose, "sms_marketing");
        CHECK_STR(c.list[4].purpose, "sms_marketing");
        CHECK_INT(c.list[0].time, at("2024-05-01T00:00:00Z"));
        CHECK_INT(c.list[1].time, at("2023-12-01T00:00:00Z"));
        CHECK_INT(c.list[2].time, at("2024-02-01T12:30:00Z"));
        CHECK_INT(c.list[3].time, at("2024-01-01T00:00:00Z"));
        CHECK_INT(c.list[4].time, at("2024-03-01T00:00:00Z"));
        CHECK_INT(c.list[0].status, CDP_CONSENT_DENIED);
        CHECK_INT(c.list[1].status, CDP_CONSENT_DENIED);
        CHECK_INT(c.list[2].status, CDP_CONSENT_GRANTED);
        CHECK_INT(c.list[3].status, CDP_CONSENT_GRANTED);
        CHECK_INT(c.list[4].status, CDP_CONSENT_WITHDRAWN);

        /* Every field of the fullest records. */
        struct seen *s = &c.list[2];
        CHECK(s->has_channel && s->has_source && s->has_proof);
        CHECK_STR(s->channel, "web");
        CHECK_STR(s->source, "newsletter");
        CHECK_STR(s->proof, "form-7");
        CHECK_INT(s->expires, at("2026-02-01T00:00:00Z"));
        CHECK_INT(s->recorded, at("2024-02-01T12:31:00Z"));
        s = &c.list[4];
        CHECK_STR(s->channel, "sms");
        CHECK_STR(s->source, "stop-reply");
        CHECK_STR(s->proof, "msg-99");
        CHECK_INT(s->expires, CDP_TIME_NONE);
        CHECK_INT(s->recorded, at("2024-03-02T08:00:00.250Z")); /* milliseconds kept */
        /* Absent fields read back as NULL. */
        s = &c.list[3];
        CHECK(!s->has_channel);
        CHECK(!s->has_source);
        CHECK(!s->has_proof);
        CHECK_INT(s->expires, CDP_TIME_NONE);
        CHECK_INT(s->recorded, at("2024-01-05T00:00:00Z"));
        s = &c.list[0];
        CHECK(!s->has_channel && s->has_source && !s->has_proof);
        CHECK_STR(s->source, "call");
        CHECK_INT(s->recorded, now_ms);
        s = &c.list[1];
        CHECK(!s->has_channel && !s->has_source && s->has_proof);
        CHECK_STR(s->proof, "paper");
    }

    /* fn's non-zero value stops the walk and comes back. */
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    CHECK_INT(cdp_consent_each(&store, txn, &id, collect, &c), 7);
    CHECK_INT(c.n, 2);

    /* The other profile sees only its own; a profile with none sees nothing. */
    memset(&c, 0, sizeof c);
    CHECK_INT(cdp_consent_each(&store, txn, &other, collect, &c), 0);
    CHECK_INT(c.n, 1);
    CHECK_STR(c.list[0].purpose, "analytics");
    struct cdp_id nobody = cdp_hash_string("user:nobody");
    CHECK_INT(count_records(txn, &nobody), 0);

    CHECK_INT(mdb_txn_commit(txn), 0);

    /* The same in a read transaction. */
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK_INT(count_records(txn, &id), 5);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
}

/* The view of a profile as of a time, as text. */
static void
view_text(MDB_txn *txn, const struct cdp_id *id, int64_t as_of, char *out, size_t size)
{
    struct cdp_buf b = CDP_BUF_INIT;
    CHECK_INT(cdp_consent_view(&store, txn, id, as_of, &b), 0);
    snprintf(out, size, "%s", b.data ? b.data : "(nothing)");
    cdp_buf_free(&b);
}

static void
test_view_and_delete(void)
{
    MDB_txn *txn;
    char text[1024];
    if (!open_store("view"))
        return;
    struct cdp_id v = cdp_hash_string("user:v"), w = cdp_hash_string("user:w");
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);

    view_text(txn, &v, now_ms, text, sizeof text);
    CHECK_STR(text, "{}");

    put(txn, &v, "sms_marketing", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z", "web");
    put(txn, &v, "sms_marketing", CDP_CONSENT_WITHDRAWN, "2024-03-01T00:00:00Z", "stop \"reply\"");
    put(txn, &v, "email_marketing", CDP_CONSENT_GRANTED, "2024-02-01T10:00:00.5Z", "web");
    put(txn, &w, "analytics", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z", "w-web");
    put(txn, &w, "email_marketing", CDP_CONSENT_DENIED, "2024-01-01T00:00:00Z", "w-web");

    view_text(txn, &v, now_ms, text, sizeof text);
    CHECK_STR(text, "{\"email_marketing\":{\"granted\":true,\"status\":\"granted\","
                    "\"time\":\"2024-02-01T10:00:00.500Z\",\"source\":\"web\"},"
                    "\"sms_marketing\":{\"granted\":false,\"status\":\"withdrawn\","
                    "\"time\":\"2024-03-01T00:00:00.000Z\",\"source\":\"stop \\\"reply\\\"\"}}");
    /* The view is valid JSON. */
    json_error_t error;
    json_t *parsed = json_loads(text, 0, &error);
    CHECK(json_is_object(parsed));
    CHECK_INT(json_object_size(parsed), 2);
    json_decref(parsed);
    /* As of an earlier time, the earlier state. */
    view_text(txn, &v, at("2024-02-15T00:00:00Z"), text, sizeof text);
    CHECK_STR(text, "{\"email_marketing\":{\"granted\":true,\"status\":\"granted\","
                    "\"time\":\"2024-02-01T10:00:00.500Z\",\"source\":\"web\"},"
                    "\"sms_marketing\":{\"granted\":true,\"status\":\"granted\","
                    "\"time\":\"2024-01-01T00:00:00.000Z\",\"source\":\"web\"}}");
    /* A profile with none: {}. */
    struct cdp_id nobody = cdp_hash_string("user:nobody");
    view_text(txn, &nobody, now_ms, text, sizeof text);
    CHECK_STR(text, "{}");
    /* The view appends to what out holds. */
    struct cdp_buf b = CDP_BUF_INIT;
    cdp_buf_puts(&b, "consent=");
    CHECK_INT(cdp_consent_view(&store, txn, &nobody, now_ms, &b), 0);
    CHECK_STR(b.data, "consent={}");
    cdp_buf_free(&b);

    /* Erasure: every record of v goes, w's stay. */
    uint64_t count = 99;
    CHECK_INT(cdp_consent_delete_all(&store, txn, &v, &count), 0);
    CHECK_INT(count, 3);
    CHECK_INT(count_records(txn, &v), 0);
    view_text(txn, &v, now_ms, text, sizeof text);
    CHECK_STR(text, "{}");
    REASON(txn, &v, "sms_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, &v, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    CHECK_INT(count_records(txn, &w), 2);
    REASON(txn, &w, "analytics", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &w, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_IS_DENIED);
    /* Again: nothing left to delete. */
    count = 99;
    CHECK_INT(cdp_consent_delete_all(&store, txn, &v, &count), 0);
    CHECK_INT(count, 0);
    CHECK_INT(cdp_consent_delete_all(&store, txn, &nobody, &count), 0);
    CHECK_INT(count, 0);
    CHECK_INT(mdb_txn_commit(txn), 0);

    /* The deletion was committed; the neighbour's records too. */
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK_INT(count_records(txn, &v), 0);
    CHECK_INT(count_records(txn, &w), 2);
    mdb_txn_abort(txn);

    /* Deleting the last profile in key order, and the first. */
    struct cdp_id first, last;
    memset(first.bytes, 0x00, 16);
    memset(last.bytes, 0xff, 16);
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    put(txn, &first, "analytics", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z", NULL);
    put(txn, &last, "analytics", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z", NULL);
    put(txn, &last, "profiling", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z", NULL);
    REASON(txn, &last, "analytics", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, &first, "profiling", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    CHECK_INT(cdp_consent_delete_all(&store, txn, &last, &count), 0);
    CHECK_INT(count, 2);
    CHECK_INT(cdp_consent_delete_all(&store, txn, &first, &count), 0);
    CHECK_INT(count, 1);
    CHECK_INT(count_records(txn, &w), 2);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
}

/* ---- records move with their profile (through the ingest engine) ---- */

/* Ingests events (JSON texts) in one transaction; checks each landed. */
static void
feed_all(struct cdp_ingest *ing, const char *const *texts, size_t n)
{
    CHECK_INT(cdp_ingest_begin(ing), 0);
    for (size_t i = 0; i < n; i++) {
        enum cdp_ingest_result result = CDP_INGEST_REJECTED;
        char reason[256] = "";
        json_error_t error;
        json_t *event = json_loads(texts[i], 0, &error);
        if (event == NULL) {
            fprintf(stderr, "bad test JSON: %s: %s\n", texts[i], error.text);
            exit(1);
        }
        int rc = cdp_ingest_event(ing, event, texts[i], strlen(texts[i]), &result, reason,
                                  sizeof reason);
        json_decref(event);
        CHECK_INT(rc, 0);
        if (result != CDP_INGEST_LANDED)
            fprintf(stderr, "not landed: %s: %s\n", texts[i], reason);
        CHECK_INT(result, CDP_INGEST_LANDED);
    }
    CHECK_INT(cdp_ingest_commit(ing), 0);
}

/* The profile that holds an identifier ("kind:value"); false when none does. */
static bool
owner_of(MDB_txn *txn, const char *identifier, struct cdp_id *id)
{
    MDB_val key = {strlen(identifier), (void *)identifier}, value;
    if (mdb_get(txn, store.dbi[CDP_DB_IDENTIFIERS], &key, &value) != 0 || value.mv_size != 16)
        return false;
    memcpy(id->bytes, value.mv_data, 16);
    return true;
}

static bool
profile_exists(MDB_txn *txn, const struct cdp_id *id)
{
    MDB_val key = {16, (void *)id->bytes}, value;
    return mdb_get(txn, store.dbi[CDP_DB_PROFILES], &key, &value) == 0;
}

static bool
same_id(const struct cdp_id *a, const struct cdp_id *b)
{
    return cdp_hash_compare(a, b) == 0;
}

static const char *const before_merge[] = {
    /* Profile A: a user with an e-mail address. */
    "{\"type\":\"identify\",\"userId\":\"a\",\"traits\":{\"email\":\"a@x.com\"},"
    "\"timestamp\":\"2024-01-01T00:00:00Z\",\"messageId\":\"a-1\"}",
    /* Profile B: an anonymous visitor who left another address. */
    "{\"type\":\"identify\",\"anonymousId\":\"b\",\"traits\":{\"email\":\"b@x.com\"},"
    "\"timestamp\":\"2024-01-05T00:00:00Z\",\"messageId\":\"b-1\"}",
    /* Profile C: anonymous, to be renamed by an earlier event. */
    "{\"type\":\"page\",\"anonymousId\":\"c\",\"name\":\"Home\","
    "\"timestamp\":\"2024-03-01T00:00:00Z\",\"messageId\":\"c-1\"}",
};

/* The visitor logs in as a: both profiles become one. */
static const char *const merging[] = {
    "{\"type\":\"page\",\"anonymousId\":\"b\",\"userId\":\"a\",\"name\":\"Account\","
    "\"timestamp\":\"2024-05-01T00:00:00Z\",\"messageId\":\"ab-1\"}",
};

/* An event older than anything of C's, naming a user: C takes that user's id. */
static const char *const renaming[] = {
    "{\"type\":\"identify\",\"anonymousId\":\"c\",\"userId\":\"c\","
    "\"timestamp\":\"2024-02-01T00:00:00Z\",\"messageId\":\"c-0\"}",
};

static void
test_merge(void)
{
    struct cdp_ingest_options options;
    struct cdp_ingest ing;
    const struct cdp_limits limits = CDP_LIMITS_DEFAULT;
    struct cdp_consent_state st;
    MDB_txn *txn;
    memset(&options, 0, sizeof options);
    options.source = "test";
    options.limits = limits;
    options.counters = cdp_computed_map_new();
    if (!open_store("merge")) {
        cdp_computed_map_free((struct cdp_counter_map *)options.counters);
        return;
    }
    cdp_ingest_init(&ing, &store, &options, now_ms);
    feed_all(&ing, before_merge, sizeof before_merge / sizeof before_merge[0]);

    /* Two profiles, as the engine made them. */
    struct cdp_id a, b, c, a_email, b_email;
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    bool found = owner_of(txn, "user:a", &a) && owner_of(txn, "anon:b", &b) &&
                 owner_of(txn, "anon:c", &c) && owner_of(txn, "email:a@x.com", &a_email) &&
                 owner_of(txn, "email:b@x.com", &b_email);
    CHECK(found);
    if (!found) {
        mdb_txn_abort(txn);
        goto out;
    }
    CHECK(!same_id(&a, &b));
    CHECK(same_id(&a, &a_email));
    CHECK(same_id(&b, &b_email));

    /* A: granted at T2.  B: withdrawn at T3 > T2, and a purpose of its own. */
    put(txn, &a, "email_marketing", CDP_CONSENT_GRANTED, "2024-02-01T00:00:00Z", "a-form");
    put(txn, &b, "email_marketing", CDP_CONSENT_WITHDRAWN, "2024-03-01T00:00:00Z", "b-unsub");
    put(txn, &b, "sms_marketing", CDP_CONSENT_GRANTED, "2024-01-10T00:00:00Z", "b-sms");
    /* The very same record on both: one record after the merge. */
    put(txn, &a, "analytics", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z", "banner");
    put(txn, &b, "analytics", CDP_CONSENT_GRANTED, "2024-01-01T00:00:00Z", "banner");
    /* C's records, for the rename. */
    put(txn, &c, "profiling", CDP_CONSENT_DENIED, "2024-03-01T00:00:00Z", "c-banner");
    put(txn, &c, "email_marketing", CDP_CONSENT_GRANTED, "2024-03-01T00:00:00Z", "c-form");
    CHECK_INT(count_records(txn, &a), 2);
    CHECK_INT(count_records(txn, &b), 3);
    CHECK_INT(count_records(txn, &c), 2);
    REASON(txn, &a, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    CHECK_INT(mdb_txn_commit(txn), 0);

    feed_all(&ing, merging, sizeof merging / sizeof merging[0]);
    CHECK_INT(ing.stats.merges, 1);

    struct cdp_id survivor, other;
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK(owner_of(txn, "user:a", &survivor));
    CHECK(owner_of(txn, "anon:b", &other) && same_id(&other, &survivor));
    CHECK(owner_of(txn, "email:b@x.com", &other) && same_id(&other, &survivor));
    CHECK(owner_of(txn, "email:a@x.com", &other) && same_id(&other, &survivor));
    CHECK(same_id(&survivor, &a)); /* A's first event is the earlier */
    const struct cdp_id *loser = same_id(&survivor, &a) ? &b : &a;
    CHECK(profile_exists(txn, &survivor));
    CHECK(!profile_exists(txn, loser));

    /* Every record is the survivor's; the loser holds none. */
    CHECK_INT(count_records(txn, &survivor), 4);
    CHECK_INT(count_records(txn, loser), 0);
    CHECK_INT(count_purpose(txn, &survivor, "email_marketing"), 2);
    CHECK_INT(count_purpose(txn, &survivor, "sms_marketing"), 1);
    CHECK_INT(count_purpose(txn, &survivor, "analytics"), 1);
    /* The newer record wins: a withdrawal is never lost to an older grant. */
    st = state_at(txn, &survivor, "email_marketing", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_WITHDRAWN);
    CHECK_INT(st.time, at("2024-03-01T00:00:00Z"));
    CHECK_STR(st.source, "b-unsub");
    st = state_at(txn, &survivor, "email_marketing", "2024-02-15T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_STR(st.source, "a-form");
    /* B's own purpose came along. */
    st = state_at(txn, &survivor, "sms_marketing", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_OK);
    CHECK_STR(st.source, "b-sms");
    REASON(txn, &survivor, "analytics", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    REASON(txn, loser, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    REASON(txn, loser, "sms_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_NO_RECORD);
    bool granted = true;
    CHECK_INT(cdp_consent_granted(&store, txn, &survivor, "email_marketing", now_ms, &granted), 0);
    CHECK(!granted);
    char text[1024];
    view_text(txn, &survivor, now_ms, text, sizeof text);
    CHECK_STR(text, "{\"analytics\":{\"granted\":true,\"status\":\"granted\","
                    "\"time\":\"2024-01-01T00:00:00.000Z\",\"source\":\"banner\"},"
                    "\"email_marketing\":{\"granted\":false,\"status\":\"withdrawn\","
                    "\"time\":\"2024-03-01T00:00:00.000Z\",\"source\":\"b-unsub\"},"
                    "\"sms_marketing\":{\"granted\":true,\"status\":\"granted\","
                    "\"time\":\"2024-01-10T00:00:00.000Z\",\"source\":\"b-sms\"}}");
    /* C was not touched by the merge. */
    CHECK_INT(count_records(txn, &c), 2);
    mdb_txn_abort(txn);

    /* The rename: C's records follow it to its new id. */
    feed_all(&ing, renaming, sizeof renaming / sizeof renaming[0]);
    struct cdp_id renamed, user_c = cdp_hash_string("user:c");
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK(owner_of(txn, "anon:c", &renamed));
    CHECK(owner_of(txn, "user:c", &other) && same_id(&other, &renamed));
    CHECK(same_id(&renamed, &user_c));
    CHECK(!same_id(&renamed, &c));
    CHECK_INT(count_records(txn, &renamed), 2);
    if (!same_id(&renamed, &c))
        CHECK_INT(count_records(txn, &c), 0);
    st = state_at(txn, &renamed, "profiling", "2024-06-01T00:00:00Z");
    CHECK_INT(st.reason, CDP_CONSENT_IS_DENIED);
    CHECK_STR(st.source, "c-banner");
    REASON(txn, &renamed, "email_marketing", "2024-06-01T00:00:00Z", CDP_CONSENT_OK);
    /* The survivor of the merge is unchanged. */
    CHECK_INT(count_records(txn, &survivor), 4);
    mdb_txn_abort(txn);

out:
    cdp_ingest_free(&ing);
    cdp_store_close(&store);
    cdp_computed_map_free((struct cdp_counter_map *)options.counters);
}

int
main(void)
{
    now_ms = at("2024-06-01T00:00:00Z");
    snprintf(root, sizeof root, "%s/cdp-test-consent-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    test_parse_status();
    test_purpose_valid();
    test_purposes();
    test_state();
    test_idempotence();
    test_each();
    test_view_and_delete();
    test_merge();

    remove_tree(root);
    return check_summary("consent");
}
