/*
 * fuzz_ingest.c - arbitrary events through the ingest engine: identity
 * resolution, merges, renames, traits, orders and sessions.
 *
 * One store is created in a temporary directory (under $TMPDIR) when the
 * fuzzer starts, and before the first input a few profiles are committed to
 * it so that inputs meet known identifiers, a suppressed e-mail and past
 * orders.  Each input is split into lines; every line that passes the
 * pre-parse checks and the JSON scanner is parsed as cdp-ingest parses it
 * (cdp_event_parse) and goes to cdp_ingest_event, all in one write
 * transaction that is then aborted, so the store stays as it was and every
 * input starts from the same state.  An LMDB error from the engine (a damaged store, a lost profile) is
 * reported as a failure: on a sound store no input should cause one.
 */
#include "buf.h"
#include "computed.h"
#include "ingest.h"
#include "input.h"
#include "jsonscan.h"
#include "store.h"

#include <jansson.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW_MS INT64_C(1766570400000) /* 2025-12-24T10:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char store_dir[4096];
static struct cdp_store store;
static bool store_open;
static struct cdp_counter_map *counters;
static struct cdp_ingest_options options;
static struct cdp_ingest engine;

static void
die(const char *what, int rc)
{
    fprintf(stderr, "fuzz_ingest: %s: %s\n", what, rc ? cdp_store_strerror(rc) : "failed");
    abort();
}

static void
cleanup(void)
{
    if (store_open) {
        cdp_ingest_free(&engine);
        cdp_store_close(&store);
        store_open = false;
    }
    cdp_computed_map_free(counters);
    counters = NULL;
    if (store_dir[0]) {
        char path[4200];
        snprintf(path, sizeof path, "%s/data.mdb", store_dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/lock.mdb", store_dir);
        unlink(path);
        rmdir(store_dir);
        store_dir[0] = '\0';
    }
}

/* Events committed once, before fuzzing: the state every input starts from. */
static const char *const history[] = {
    "{\"type\":\"identify\",\"messageId\":\"seed-1\",\"userId\":\"u-1001\","
    "\"anonymousId\":\"anon-aaa\",\"timestamp\":\"2025-11-02T09:15:00Z\","
    "\"traits\":{\"email\":\"Marie.Dupont@Exemple.fr\",\"phone\":\"06 12 34 56 78\","
    "\"firstName\":\"Marie\",\"lastName\":\"Dupont\",\"city\":\"Lyon\"}}",
    "{\"type\":\"track\",\"messageId\":\"seed-2\",\"userId\":\"u-1001\",\"event\":\"Order "
    "Completed\",\"timestamp\":\"2025-11-03T18:40:00Z\",\"properties\":{\"order_id\":\"C-77\","
    "\"total\":59.9,\"currency\":\"EUR\",\"products\":[{\"category\":\"livres\",\"price\":59.9}]}}",
    "{\"type\":\"page\",\"messageId\":\"seed-3\",\"anonymousId\":\"anon-bbb\",\"name\":\"Accueil\","
    "\"timestamp\":\"2025-11-04T08:00:00Z\",\"context\":{\"traits\":{\"email\":"
    "\"jean.martin@exemple.fr\"}}}",
    "{\"type\":\"track\",\"messageId\":\"seed-4\",\"anonymousId\":\"anon-bbb\",\"event\":"
    "\"Checkout Started\",\"timestamp\":\"2025-11-04T08:05:00Z\",\"properties\":{\"order_id\":"
    "\"C-78\",\"total\":12}}",
    "{\"type\":\"identify\",\"messageId\":\"seed-5\",\"userId\":\"u-2002\","
    "\"timestamp\":\"2025-10-01T12:00:00Z\",\"traits\":{\"phone\":\"+33 7 98 76 54 32\"},"
    "\"context\":{\"externalIds\":[{\"id\":\"CRM-9\",\"type\":\"crm_id\","
    "\"collection\":\"users\",\"encoding\":\"none\"}]}}",
    ("{\"type\":\"alias\",\"messageId\":\"seed-6\",\"userId\":\"u-2002\","
     "\"previousId\":\"anon-ccc\",\"timestamp\":\"2025-10-01T12:01:00Z\"}"),
};

static void
seed_store(void)
{
    int rc = cdp_ingest_begin(&engine);
    if (rc != 0)
        die("begin", rc);
    for (size_t i = 0; i < sizeof history / sizeof history[0]; i++) {
        json_error_t error;
        json_t *root = json_loads(history[i], 0, &error);
        if (root == NULL)
            die("a seed event does not parse", 0);
        enum cdp_ingest_result result;
        char reason[256];
        rc = cdp_ingest_event(&engine, root, history[i], strlen(history[i]), &result, reason,
                              sizeof reason);
        json_decref(root);
        if (rc != 0)
            die("seed event", rc);
        if (result != CDP_INGEST_LANDED)
            die("a seed event did not land", 0);
    }
    /* An erased e-mail on the suppression list. */
    unsigned char h[32];
    uint64_t when = (uint64_t)NOW_MS;
    cdp_ingest_suppression_hash(engine.salt, "email:efface@exemple.fr", h);
    MDB_val key = {32, h}, value = {sizeof when, &when};
    if ((rc = mdb_put(engine.txn, store.dbi[CDP_DB_SUPPRESSION], &key, &value, 0)) != 0)
        die("suppression", rc);
    if ((rc = cdp_ingest_commit(&engine)) != 0)
        die("commit", rc);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    const char *tmp = getenv("TMPDIR");
    snprintf(store_dir, sizeof store_dir, "%s/cdp-fuzz-store.XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(store_dir) == NULL) {
        perror("fuzz_ingest: mkdtemp");
        exit(1);
    }
    atexit(cleanup);

    char err[512];
    int rc = cdp_store_open(&store, store_dir, CDP_STORE_WRITE, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "fuzz_ingest: %s\n", err);
        exit(1);
    }
    store_open = true;
    counters = cdp_computed_map_new();
    const struct cdp_limits limits = CDP_LIMITS_DEFAULT;
    options.source = "fuzz";
    options.event.country = "FR";
    options.event.date_format = NULL;
    options.limits = limits;
    options.counters = counters;
    cdp_ingest_init(&engine, &store, &options, NOW_MS);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool seeded;
    if (!seeded) {
        seed_store(); /* here rather than at start-up, so a failure has an input */
        seeded = true;
    }
    const char *text = (const char *)data;
    int rc = cdp_ingest_begin(&engine);
    if (rc != 0)
        die("begin", rc);

    size_t start = 0;
    while (start < size) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - text) : size;
        size_t len = end - start;
        const char *line = text + start;
        start = end + 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (cdp_input_blank(line, len))
            continue;
        const char *why;
        size_t column;
        if (!cdp_input_precheck(line, len, CDP_INPUT_DEFAULT_MAX_DEPTH, &why, &column))
            continue;
        if (!cdp_jsonscan_check(line, len, CDP_INPUT_DEFAULT_MAX_DEPTH, &column, &why))
            continue;
        json_t *root = cdp_event_parse(line, len);
        if (root == NULL)
            continue;

        enum cdp_ingest_result result;
        char reason[256];
        reason[0] = '\0';
        /* The raw text as the command keeps it: a NUL-terminated copy. */
        char *raw = malloc(len + 1);
        if (raw == NULL) {
            json_decref(root);
            break;
        }
        memcpy(raw, line, len);
        raw[len] = '\0';
        rc = cdp_ingest_event(&engine, root, raw, len, &result, reason, sizeof reason);
        free(raw);
        json_decref(root);
        if (rc == MDB_MAP_FULL)
            break;
        if (rc != 0)
            die("cdp_ingest_event", rc);
        if (result == CDP_INGEST_REJECTED && reason[0] == '\0')
            die("a rejected event has no reason", 0);
    }
    cdp_ingest_abort(&engine);
    return 0;
}
