/*
 * test_store.c - unit tests for lib/store.c: opening, modes, metadata,
 * sequences, key encodings, growing the map and releasing its pages.
 */
#include "store.h"
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

/* A path under the test's temporary directory. */
static const char *
path_of(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", root, name);
    return p;
}

static void
remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static void
test_open_modes(void)
{
    struct cdp_store store;
    char err[512] = "";
    struct stat st;
    const char *dir = path_of("db");

    int rc = cdp_store_open(&store, dir, CDP_STORE_WRITE, err, sizeof err);
    CHECK_INT(rc, 0);
    CHECK(!store.readonly);
    CHECK_STR(store.path, dir);
    CHECK_INT(stat(path_of("db/data.mdb"), &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_INT(stat(dir, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_INT(st.st_mode & 0077, 0); /* private directory */

    /* The schema version and a salt are recorded on creation. */
    MDB_txn *txn;
    MDB_val v;
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK_INT(cdp_store_meta_get(&store, txn, "schema_version", &v), 0);
    CHECK_INT(v.mv_size, 4);
    uint32_t version = 0;
    if (v.mv_size == 4)
        memcpy(&version, v.mv_data, 4);
    CHECK_INT(version, CDP_SCHEMA_VERSION);
    CHECK_INT(cdp_store_meta_get(&store, txn, "salt", &v), 0);
    CHECK_INT(v.mv_size, 32);
    CHECK_INT(cdp_store_meta_get(&store, txn, "no such name", &v), MDB_NOTFOUND);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
    cdp_store_close(&store); /* twice is harmless */

    /* Reopen for writing keeps the salt. */
    unsigned char salt1[32] = {0}, salt2[32] = {1};
    CHECK_INT(cdp_store_open(&store, dir, CDP_STORE_WRITE, err, sizeof err), 0);
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    if (cdp_store_meta_get(&store, txn, "salt", &v) == 0 && v.mv_size == 32)
        memcpy(salt1, v.mv_data, 32);
    mdb_txn_abort(txn);
    cdp_store_close(&store);

    /* Read-only. */
    rc = cdp_store_open(&store, dir, CDP_STORE_READ, err, sizeof err);
    CHECK_INT(rc, 0);
    CHECK(store.readonly);
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    if (cdp_store_meta_get(&store, txn, "salt", &v) == 0 && v.mv_size == 32)
        memcpy(salt2, v.mv_data, 32);
    CHECK(memcmp(salt1, salt2, 32) == 0);
    mdb_txn_abort(txn);
    txn = NULL;
    CHECK(cdp_store_begin(&store, true, &txn) != 0); /* no writing through a read-only store */
    if (txn)
        mdb_txn_abort(txn);
    cdp_store_close(&store);

    /* Read-only on a missing directory: ENOENT, the path in the message, nothing created. */
    const char *missing = path_of("nowhere");
    err[0] = '\0';
    rc = cdp_store_open(&store, missing, CDP_STORE_READ, err, sizeof err);
    CHECK_INT(rc, ENOENT);
    CHECK(strstr(err, missing) != NULL);
    CHECK(access(missing, F_OK) != 0);
    cdp_store_close(&store); /* safe after a failed open */

    /* Read-only on an existing but empty directory: also ENOENT. */
    const char *empty = path_of("empty");
    CHECK_INT(mkdir(empty, 0700), 0);
    err[0] = '\0';
    rc = cdp_store_open(&store, empty, CDP_STORE_READ, err, sizeof err);
    CHECK_INT(rc, ENOENT);
    CHECK(strstr(err, empty) != NULL);
    CHECK(access(path_of("empty/data.mdb"), F_OK) != 0);

    /* Write mode on a path that is a file fails with a message. */
    const char *file = path_of("afile");
    FILE *f = fopen(file, "w");
    if (f)
        fclose(f);
    err[0] = '\0';
    rc = cdp_store_open(&store, file, CDP_STORE_WRITE, err, sizeof err);
    CHECK(rc != 0);
    CHECK(strstr(err, file) != NULL);
    cdp_store_close(&store);
}

static void
test_meta_and_sequence(void)
{
    struct cdp_store store;
    char err[512];
    MDB_txn *txn;
    MDB_val v;
    uint64_t seq = 0;
    const char *dir = path_of("meta");

    CHECK_INT(cdp_store_open(&store, dir, CDP_STORE_WRITE, err, sizeof err), 0);
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    CHECK_INT(cdp_store_meta_put(&store, txn, "greeting", "hello", 5), 0);
    CHECK_INT(cdp_store_meta_get(&store, txn, "greeting", &v), 0);
    CHECK(v.mv_size == 5 && memcmp(v.mv_data, "hello", 5) == 0);
    CHECK_INT(cdp_store_meta_put(&store, txn, "greeting", "bye", 3), 0); /* overwrite */
    CHECK_INT(cdp_store_meta_put(&store, txn, "empty", "", 0), 0);

    /* Sequences: 1 on an empty database, then one past the last key. */
    CHECK_INT(cdp_store_next_sequence(&store, txn, CDP_DB_MERGELOG, &seq), 0);
    CHECK_INT(seq, 1);
    unsigned char key[8];
    for (uint64_t i = 1; i <= 3; i++) {
        cdp_store_put_be64(key, i);
        MDB_val k = {8, key}, d = {2, "{}"};
        CHECK_INT(mdb_put(txn, store.dbi[CDP_DB_MERGELOG], &k, &d, MDB_APPEND), 0);
    }
    CHECK_INT(cdp_store_next_sequence(&store, txn, CDP_DB_MERGELOG, &seq), 0);
    CHECK_INT(seq, 4);
    /* A key past 255 checks the byte order of the decoding. */
    cdp_store_put_be64(key, 1000);
    MDB_val k = {8, key}, d = {2, "{}"};
    CHECK_INT(mdb_put(txn, store.dbi[CDP_DB_MERGELOG], &k, &d, MDB_APPEND), 0);
    CHECK_INT(cdp_store_next_sequence(&store, txn, CDP_DB_MERGELOG, &seq), 0);
    CHECK_INT(seq, 1001);
    /* Each database counts on its own. */
    CHECK_INT(cdp_store_next_sequence(&store, txn, CDP_DB_AUDIT, &seq), 0);
    CHECK_INT(seq, 1);
    CHECK_INT(mdb_txn_commit(txn), 0);
    cdp_store_close(&store);

    /* What was committed is there after reopening read-only. */
    CHECK_INT(cdp_store_open(&store, dir, CDP_STORE_READ, err, sizeof err), 0);
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK_INT(cdp_store_meta_get(&store, txn, "greeting", &v), 0);
    CHECK(v.mv_size == 3 && memcmp(v.mv_data, "bye", 3) == 0);
    CHECK_INT(cdp_store_meta_get(&store, txn, "empty", &v), 0);
    CHECK_INT(v.mv_size, 0);
    CHECK_INT(cdp_store_next_sequence(&store, txn, CDP_DB_MERGELOG, &seq), 0);
    CHECK_INT(seq, 1001);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
}

static int
sign(int v)
{
    return (v > 0) - (v < 0);
}

static void
test_key_encodings(void)
{
    unsigned char a[8], b[8];

    cdp_store_put_be64(a, UINT64_C(0x0102030405060708));
    CHECK(memcmp(a, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0);
    CHECK(cdp_store_get_be64(a) == UINT64_C(0x0102030405060708));

    static const uint64_t u[] = {0, 1, 255, 256, 65535, 65536, UINT64_C(1) << 32,
                                 (UINT64_C(1) << 63) - 1, UINT64_C(1) << 63, UINT64_MAX};
    size_t nu = sizeof u / sizeof u[0];
    int bad = 0;
    for (size_t i = 0; i < nu; i++) {
        cdp_store_put_be64(a, u[i]);
        if (cdp_store_get_be64(a) != u[i])
            bad++;
        for (size_t j = 0; j < nu; j++) {
            cdp_store_put_be64(b, u[j]);
            int want = (u[i] > u[j]) - (u[i] < u[j]);
            if (sign(memcmp(a, b, 8)) != want)
                bad++;
        }
    }
    CHECK_INT(bad, 0);

    static const int64_t t[] = {INT64_MIN, INT64_MIN + 1, -86400000LL * 365 * 100, -1000, -1,
                                0, 1, 999, 1000, 1766570400000LL, INT64_MAX - 1, INT64_MAX};
    size_t nt = sizeof t / sizeof t[0];
    bad = 0;
    for (size_t i = 0; i < nt; i++) {
        cdp_store_put_time(a, t[i]);
        if (cdp_store_get_time(a) != t[i])
            bad++;
        for (size_t j = 0; j < nt; j++) {
            cdp_store_put_time(b, t[j]);
            int want = (t[i] > t[j]) - (t[i] < t[j]);
            if (sign(memcmp(a, b, 8)) != want)
                bad++;
        }
    }
    CHECK_INT(bad, 0);

    /* Negative before positive, explicitly. */
    cdp_store_put_time(a, -1);
    cdp_store_put_time(b, 1);
    CHECK(memcmp(a, b, 8) < 0);
    cdp_store_put_time(a, -5000);
    cdp_store_put_time(b, -4000);
    CHECK(memcmp(a, b, 8) < 0);
    cdp_store_put_time(a, 0);
    CHECK(memcmp(a, "\x80\x00\x00\x00\x00\x00\x00\x00", 8) == 0);

    /* A pseudo-random sweep. */
    uint64_t x = 88172645463325252ULL;
    bad = 0;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t p = (int64_t)x;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t q = (int64_t)(x >> (i % 60));
        if (i & 1)
            q = -q;
        cdp_store_put_time(a, p);
        cdp_store_put_time(b, q);
        if (sign(memcmp(a, b, 8)) != (p > q) - (p < q))
            bad++;
        if (cdp_store_get_time(a) != p || cdp_store_get_time(b) != q)
            bad++;
    }
    CHECK_INT(bad, 0);
}

static size_t
map_size(struct cdp_store *store)
{
    MDB_envinfo info;
    if (mdb_env_info(store->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

/* Writes count values of size bytes with keys from *next on; returns the first error. */
static int
fill(struct cdp_store *store, MDB_txn *txn, uint64_t *next, int count, size_t size)
{
    static unsigned char value[8192];
    memset(value, 'v', sizeof value);
    for (int i = 0; i < count; i++) {
        unsigned char key[8];
        cdp_store_put_be64(key, (*next)++);
        MDB_val k = {8, key}, v = {size, value};
        int rc = mdb_put(txn, store->dbi[CDP_DB_AUDIT], &k, &v, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void
test_grow(void)
{
    struct cdp_store store;
    char err[512];
    MDB_txn *txn;
    const char *dir = path_of("grow");

    CHECK_INT(cdp_store_open(&store, dir, CDP_STORE_WRITE, err, sizeof err), 0);
    size_t initial = map_size(&store);
    CHECK(initial >= ((size_t)256 << 20));
    CHECK_INT(cdp_store_grow(&store), 0);
    CHECK_INT(map_size(&store), initial * 2);

    /* A tiny map: writing runs into MDB_MAP_FULL. */
    CHECK_INT(mdb_env_set_mapsize(store.env, (size_t)1 << 20), 0);
    size_t small = map_size(&store);
    CHECK(small < ((size_t)2 << 20));

    uint64_t next = 1;
    int rc = 0, rounds = 0;
    CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
    while (rc == 0 && rounds < 10000) {
        rc = fill(&store, txn, &next, 1, 2000);
        rounds++;
    }
    CHECK_INT(rc, MDB_MAP_FULL);
    mdb_txn_abort(txn);
    uint64_t wanted = next - 1; /* the value that did not fit, included */

    /* Grow and run the same batch again. */
    CHECK_INT(cdp_store_grow(&store), 0);
    CHECK_INT(map_size(&store), small * 2);
    int grows = 1;
    for (;;) {
        next = 1;
        CHECK_INT(cdp_store_begin(&store, true, &txn), 0);
        rc = fill(&store, txn, &next, (int)wanted, 2000);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc != MDB_MAP_FULL || grows > 8)
            break;
        CHECK_INT(cdp_store_grow(&store), 0);
        grows++;
    }
    CHECK_INT(rc, 0);
    CHECK(grows <= 2);

    /* Everything is there. */
    MDB_stat st;
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK_INT(mdb_stat(txn, store.dbi[CDP_DB_AUDIT], &st), 0);
    CHECK_INT(st.ms_entries, wanted);
    mdb_txn_abort(txn);

    /* reserve grows when less than a quarter is free, and only then. */
    size_t before = map_size(&store);
    CHECK_INT(cdp_store_reserve(&store), 0);
    size_t after = map_size(&store);
    CHECK(after == before || after == before * 2);
    CHECK_INT(mdb_env_set_mapsize(store.env, (size_t)512 << 20), 0);
    CHECK_INT(cdp_store_reserve(&store), 0);
    CHECK_INT(map_size(&store), (size_t)512 << 20);
    cdp_store_close(&store);

    /* A second handle sees the grown map after reopening. */
    CHECK_INT(cdp_store_open(&store, dir, CDP_STORE_READ, err, sizeof err), 0);
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    CHECK_INT(mdb_stat(txn, store.dbi[CDP_DB_AUDIT], &st), 0);
    CHECK_INT(st.ms_entries, wanted);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
}

/* The file-backed resident memory of this process, in bytes, or 0 when unknown. */
static size_t
shared_bytes(void)
{
    unsigned long size, resident, shared;
    FILE *f = fopen("/proc/self/statm", "r");
    int n = f ? fscanf(f, "%lu %lu %lu", &size, &resident, &shared) : 0;
    if (f)
        fclose(f);
    return n == 3 ? shared * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Reads every record of the audit database (filled by test_grow); their bytes' sum. */
static unsigned long
read_all(struct cdp_store *store, MDB_txn *txn)
{
    MDB_cursor *cursor;
    MDB_val k, v;
    unsigned long sum = 0;
    CHECK_INT(mdb_cursor_open(txn, store->dbi[CDP_DB_AUDIT], &cursor), 0);
    while (mdb_cursor_get(cursor, &k, &v, MDB_NEXT) == 0) {
        for (size_t i = 0; i < v.mv_size; i++)
            sum += ((const unsigned char *)v.mv_data)[i];
    }
    mdb_cursor_close(cursor);
    return sum;
}

static void
test_release_pages(void)
{
    struct cdp_store store;
    char err[512];
    MDB_txn *txn;

    CHECK_INT(cdp_store_open(&store, path_of("grow"), CDP_STORE_READ, err, sizeof err), 0);
    CHECK_INT(cdp_store_begin(&store, false, &txn), 0);
    unsigned long sum = read_all(&store, txn);
    CHECK(sum > 0);
    size_t before = shared_bytes();

    /* Under the limit: nothing is released. */
    cdp_store_release_pages_over(&store, SIZE_MAX);
    size_t kept = shared_bytes();
    /* Over it (the limit 0): the pages read leave the resident set... */
    cdp_store_release_pages_over(&store, 0);
    size_t released = shared_bytes();
    if (before != 0) {
        CHECK(kept + ((size_t)256 << 10) > before);
        CHECK(released + ((size_t)256 << 10) < kept);
    }
    /* ... and read back the same, within the same transaction. */
    CHECK(read_all(&store, txn) == sum);
    cdp_store_release_pages(&store);
    CHECK(read_all(&store, txn) == sum);
    mdb_txn_abort(txn);
    cdp_store_close(&store);
}

int
main(void)
{
    snprintf(root, sizeof root, "%s/cdp-test-store-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    umask(022);
    test_open_modes();
    test_meta_and_sequence();
    test_key_encodings();
    test_grow();
    test_release_pages();
    remove_tree(root);
    return check_summary("store");
}
