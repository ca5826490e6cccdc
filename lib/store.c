/*
 * store.c - opening the LMDB environment, growing its map, metadata.
 */
#include "store.h"
#include "codec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define INITIAL_MAP_SIZE ((size_t)256 << 20)

static const char *const db_names[CDP_DB_COUNT] = {
    "meta",    "profiles",    "identifiers", "events",   "messages", "orders",
    "consent", "suppression", "mergelog",    "segments", "members",  "audit",
    "predictions",
};

const char *
cdp_store_strerror(int rc)
{
    return mdb_strerror(rc);
}

static int
make_directory(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return errno;
    return 0;
}

static int
init_metadata(struct cdp_store *store, MDB_txn *txn)
{
    MDB_val value;
    int rc = cdp_store_meta_get(store, txn, "schema_version", &value);
    if (rc == 0) {
        uint32_t version;
        if (value.mv_size != sizeof version)
            return MDB_INCOMPATIBLE;
        memcpy(&version, value.mv_data, sizeof version);
        return version == CDP_SCHEMA_VERSION ? 0 : MDB_VERSION_MISMATCH;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    uint32_t version = CDP_SCHEMA_VERSION;
    unsigned char salt[32];
    if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt)
        return errno ? errno : EIO;
    uint64_t created = (uint64_t)time(NULL);
    if ((rc = cdp_store_meta_put(store, txn, "schema_version", &version, sizeof version)) != 0 ||
        (rc = cdp_store_meta_put(store, txn, "salt", salt, sizeof salt)) != 0 ||
        (rc = cdp_store_meta_put(store, txn, "created", &created, sizeof created)) != 0)
        return rc;
    return 0;
}

int
cdp_store_open(struct cdp_store *store, const char *path, int mode, char *errbuf, size_t errsize)
{
    MDB_txn *txn = NULL;
    int rc;
    struct stat st;

    memset(store, 0, sizeof *store);
    store->readonly = mode == CDP_STORE_READ;
    snprintf(store->path, sizeof store->path, "%s", path);

    if (store->readonly) {
        char data[4200];
        snprintf(data, sizeof data, "%s/data.mdb", path);
        if (stat(data, &st) != 0) {
            snprintf(errbuf, errsize, "no store at '%s' (create one with cdp-ingest, or give --db)",
                     path);
            return ENOENT;
        }
    } else if ((rc = make_directory(path)) != 0) {
        snprintf(errbuf, errsize, "cannot create store directory '%s': %s", path, strerror(rc));
        return rc;
    }

    if ((rc = mdb_env_create(&store->env)) != 0)
        goto fail;
    if ((rc = mdb_env_set_maxdbs(store->env, CDP_DB_COUNT + 4)) != 0)
        goto fail;
    if (!store->readonly && (rc = mdb_env_set_mapsize(store->env, INITIAL_MAP_SIZE)) != 0)
        goto fail;
    /*
     * MDB_NORDAHEAD: lookups are random, and read-ahead would fill memory with
     * pages nobody asked for.  MDB_NOTLS: read transactions are not tied to a
     * thread, which keeps the reader table small for short-lived programs.
     */
    unsigned int flags = MDB_NORDAHEAD | MDB_NOTLS | (store->readonly ? MDB_RDONLY : 0);
    if ((rc = mdb_env_open(store->env, path, flags, 0600)) != 0)
        goto fail;

    if ((rc = cdp_store_begin(store, !store->readonly, &txn)) != 0)
        goto fail;
    for (int i = 0; i < CDP_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], store->readonly ? 0 : MDB_CREATE, &store->dbi[i]);
        if (rc == MDB_NOTFOUND && store->readonly && i == CDP_DB_PREDICTIONS) {
            store->absent[i] = true;
            continue;
        }
        if (rc == MDB_NOTFOUND && store->readonly) {
            snprintf(errbuf, errsize, "'%s' is not a cdp store (no '%s' database)", path,
                     db_names[i]);
            goto fail_quiet;
        }
        if (rc != 0)
            goto fail;
    }
    if (!store->readonly && (rc = init_metadata(store, txn)) != 0)
        goto fail;
    if ((rc = cdp_store_load_codec(store, txn)) != 0)
        goto fail;
    if (store->readonly) {
        MDB_val value;
        uint32_t version = 0;
        if (cdp_store_meta_get(store, txn, "schema_version", &value) == 0 &&
            value.mv_size == sizeof version)
            memcpy(&version, value.mv_data, sizeof version);
        if (version != CDP_SCHEMA_VERSION) {
            rc = MDB_VERSION_MISMATCH;
            goto fail;
        }
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        goto fail;
    }
    return 0;

fail:
    snprintf(errbuf, errsize, "cannot open store '%s': %s", path, cdp_store_strerror(rc));
fail_quiet:
    if (txn)
        mdb_txn_abort(txn);
    if (store->env)
        mdb_env_close(store->env);
    store->env = NULL;
    return rc ? rc : EINVAL;
}

int
cdp_store_load_codec(struct cdp_store *store, MDB_txn *txn)
{
    MDB_val value;
    if (store->codec != NULL)
        return 0;
    int rc = cdp_store_meta_get(store, txn, "event_dict", &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    store->codec = cdp_codec_new(value.mv_data, value.mv_size);
    return store->codec ? 0 : MDB_CORRUPTED;
}

void
cdp_store_close(struct cdp_store *store)
{
    cdp_codec_free(store->codec);
    store->codec = NULL;
    if (store->env)
        mdb_env_close(store->env);
    store->env = NULL;
}

int
cdp_store_begin(struct cdp_store *store, bool write, MDB_txn **txn)
{
    unsigned int flags = write ? 0 : MDB_RDONLY;
    int rc = mdb_txn_begin(store->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the map: adopt its size and try again. */
        if ((rc = mdb_env_set_mapsize(store->env, 0)) != 0)
            return rc;
        rc = mdb_txn_begin(store->env, NULL, flags, txn);
    }
    return rc;
}

int
cdp_store_grow(struct cdp_store *store)
{
    MDB_envinfo info;
    int rc = mdb_env_info(store->env, &info);
    if (rc != 0)
        return rc;
    return mdb_env_set_mapsize(store->env, info.me_mapsize * 2);
}

int
cdp_store_reserve(struct cdp_store *store)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc;
    if ((rc = mdb_env_info(store->env, &info)) != 0 || (rc = mdb_env_stat(store->env, &st)) != 0)
        return rc;
    size_t used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    if (used > info.me_mapsize / 4 * 3)
        return mdb_env_set_mapsize(store->env, info.me_mapsize * 2);
    return 0;
}

int
cdp_store_reserve_bytes(struct cdp_store *store, size_t bytes)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc;
    if ((rc = mdb_env_info(store->env, &info)) != 0 || (rc = mdb_env_stat(store->env, &st)) != 0)
        return rc;
    size_t used = (info.me_last_pgno + 1) * (size_t)st.ms_psize, size = info.me_mapsize;
    while (size - used < bytes)
        size *= 2;
    return size == info.me_mapsize ? 0 : mdb_env_set_mapsize(store->env, size);
}

/* Copies every record of database name from txn into a fresh environment, in key order. */
static int
copy_database(MDB_txn *from, MDB_env *to, int db, const char *name, cdp_store_transform_fn fn,
              void *ctx)
{
    MDB_dbi src, dst;
    MDB_cursor *cursor;
    MDB_txn *txn;
    MDB_val k, v;
    int rc = mdb_dbi_open(from, name, 0, &src);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0 || (rc = mdb_cursor_open(from, src, &cursor)) != 0)
        return rc;
    if ((rc = mdb_txn_begin(to, NULL, 0, &txn)) != 0 ||
        (rc = mdb_dbi_open(txn, name, MDB_CREATE, &dst)) != 0)
        goto done;
    size_t n = 0;
    while ((rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) == 0) {
        if (fn != NULL) {
            int t = fn(db, &k, &v, ctx);
            if (t == CDP_STORE_DROP)
                continue;
            if (t != 0) {
                rc = t;
                break;
            }
        }
        if ((rc = mdb_put(txn, dst, &k, &v, MDB_APPEND)) != 0)
            break;
        if (++n % 100000 == 0) {
            if ((rc = mdb_txn_commit(txn)) != 0 || (rc = mdb_txn_begin(to, NULL, 0, &txn)) != 0) {
                txn = NULL;
                break;
            }
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = mdb_txn_commit(txn);
    else if (txn)
        mdb_txn_abort(txn);
done:
    mdb_cursor_close(cursor);
    return rc;
}

/*
 * Takes the lock that every process holding the store open shares: LMDB
 * keeps a shared fcntl lock on the first byte of lock.mdb from
 * mdb_env_open() to mdb_env_close(), and a new one waits there while the
 * lock is held exclusively.  Returns the descriptor holding it, or -1 with
 * errno EBUSY when another process has the store open.
 */
static int
lock_out_others(const char *path)
{
    char name[PATH_MAX];
    if (snprintf(name, sizeof name, "%s/lock.mdb", path) >= (int)sizeof name) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_SETLK, &lk) != 0) {
        close(fd);
        errno = EBUSY;
        return -1;
    }
    return fd;
}

int
cdp_store_rewrite(const char *path, cdp_store_transform_fn fn, void *ctx, char *errbuf,
                  size_t errsize)
{
    MDB_env *old = NULL, *fresh = NULL;
    MDB_txn *hold = NULL;
    MDB_envinfo info;
    char tmp[PATH_MAX - 32], from[PATH_MAX], to[PATH_MAX];
    int rc, lock;
    snprintf(errbuf, errsize, "cannot rewrite the store");
    if (snprintf(tmp, sizeof tmp, "%s/rewrite.tmp", path) >= (int)sizeof tmp)
        return ENAMETOOLONG;
    snprintf(from, sizeof from, "%s/data.mdb", tmp);
    snprintf(to, sizeof to, "%s/data.mdb", path);
    /*
     * No other process may have the store open: what it wrote later would
     * go to the replaced file.  Holding the lock keeps new ones waiting in
     * mdb_env_open() until the new file is in place; this process reads the
     * old file without LMDB's locks, which would give the lock up.
     */
    if ((lock = lock_out_others(path)) < 0) {
        rc = errno;
        if (rc == EBUSY)
            snprintf(errbuf, errsize, "other processes have the store open");
        return rc;
    }
    if ((rc = mdb_env_create(&old)) != 0 || (rc = mdb_env_set_maxdbs(old, CDP_DB_COUNT + 4)) != 0 ||
        (rc = mdb_env_open(old, path, MDB_NOTLS | MDB_NORDAHEAD | MDB_NOLOCK | MDB_RDONLY, 0600)) !=
            0)
        goto out;
    if ((rc = mdb_txn_begin(old, NULL, MDB_RDONLY, &hold)) != 0 ||
        (rc = mdb_env_info(old, &info)) != 0)
        goto out;
    rmdir(tmp);
    unlink(from);
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
        rc = errno;
        goto out;
    }
    if ((rc = mdb_env_create(&fresh)) != 0 ||
        (rc = mdb_env_set_maxdbs(fresh, CDP_DB_COUNT + 4)) != 0 ||
        (rc = mdb_env_set_mapsize(fresh, info.me_mapsize)) != 0 ||
        (rc = mdb_env_open(fresh, tmp, MDB_NOTLS | MDB_NOSYNC, 0600)) != 0)
        goto out;
    for (int i = 0; i < CDP_DB_COUNT && rc == 0; i++)
        rc = copy_database(hold, fresh, i, db_names[i], fn, ctx);
    if (rc == 0)
        rc = mdb_env_sync(fresh, 1);
    mdb_env_close(fresh);
    fresh = NULL;
    if (rc == 0 && rename(from, to) != 0)
        rc = errno;
    if (rc == 0) {
        int dir = open(path, O_RDONLY | O_DIRECTORY);
        if (dir >= 0) {
            fsync(dir);
            close(dir);
        }
    }
out:
    if (fresh)
        mdb_env_close(fresh);
    if (hold)
        mdb_txn_abort(hold);
    if (old)
        mdb_env_close(old);
    close(lock);
    snprintf(from, sizeof from, "%s/data.mdb", tmp);
    unlink(from);
    snprintf(from, sizeof from, "%s/lock.mdb", tmp);
    unlink(from);
    rmdir(tmp);
    if (rc != 0)
        snprintf(errbuf, errsize, "cannot rewrite the store: %s", cdp_store_strerror(rc));
    return rc;
}

/* Finds where data.mdb is mapped, by device and inode in /proc/self/maps. */
static bool
find_mapping(struct cdp_store *store, unsigned long *lo, unsigned long *hi)
{
    int fd;
    struct stat st;
    char line[512];
    bool found = false;
    if (mdb_env_get_fd(store->env, &fd) != 0 || fstat(fd, &st) != 0)
        return false;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL)
        return false;
    while (!found && fgets(line, sizeof line, maps) != NULL) {
        unsigned long a, b, offset, inode;
        unsigned int major, minor;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &a, &b, perms, &offset, &major, &minor,
                   &inode) == 7 &&
            inode == (unsigned long)st.st_ino && makedev(major, minor) == st.st_dev) {
            *lo = a;
            *hi = b;
            found = true;
        }
    }
    fclose(maps);
    return found;
}

void
cdp_store_release_pages(struct cdp_store *store)
{
    /*
     * LMDB does not tell where it mapped the file (me_mapaddr is only set for
     * fixed maps), so the mapping is looked up once per map size.
     */
    MDB_envinfo info;
    if (mdb_env_info(store->env, &info) != 0)
        return;
    size_t mapsize = info.me_mapsize;
    if (mapsize != store->mapped_size) {
        store->mapped_size = 0;
        if (!find_mapping(store, &store->mapped_lo, &store->mapped_hi))
            return;
        store->mapped_size = mapsize;
    }
    madvise((void *)store->mapped_lo, store->mapped_hi - store->mapped_lo, MADV_DONTNEED);
}

/* The file-backed part of the resident set, from /proc/self/statm; 0 when unknown. */
static size_t
resident_shared(void)
{
    static int fd = -2;
    char text[128];
    unsigned long size, resident, shared;
    if (fd == -2)
        fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, text, sizeof text - 1, 0) : -1;
    if (n <= 0)
        return 0;
    text[n] = '\0';
    if (sscanf(text, "%lu %lu %lu", &size, &resident, &shared) != 3)
        return 0;
    return (size_t)shared * (size_t)sysconf(_SC_PAGESIZE);
}

void
cdp_store_release_pages_over(struct cdp_store *store, size_t limit)
{
    size_t shared = resident_shared();
    if (shared == 0 || shared > limit)
        cdp_store_release_pages(store);
}

int
cdp_store_meta_get(struct cdp_store *store, MDB_txn *txn, const char *name, MDB_val *value)
{
    MDB_val key = {strlen(name), (void *)name};
    return mdb_get(txn, store->dbi[CDP_DB_META], &key, value);
}

int
cdp_store_meta_put(struct cdp_store *store, MDB_txn *txn, const char *name, const void *data,
                   size_t len)
{
    MDB_val key = {strlen(name), (void *)name};
    MDB_val value = {len, (void *)data};
    return mdb_put(txn, store->dbi[CDP_DB_META], &key, &value, 0);
}

int
cdp_store_next_sequence(struct cdp_store *store, MDB_txn *txn, enum cdp_db db, uint64_t *seq)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    int rc = mdb_cursor_open(txn, store->dbi[db], &cursor);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    if (rc == MDB_NOTFOUND) {
        *seq = 1;
        rc = 0;
    } else if (rc == 0) {
        *seq = key.mv_size == 8 ? cdp_store_get_be64(key.mv_data) + 1 : 1;
    }
    mdb_cursor_close(cursor);
    return rc;
}

void
cdp_store_put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

uint64_t
cdp_store_get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void
cdp_store_put_time(unsigned char *p, int64_t ms)
{
    cdp_store_put_be64(p, (uint64_t)ms ^ ((uint64_t)1 << 63));
}

int64_t
cdp_store_get_time(const unsigned char *p)
{
    return (int64_t)(cdp_store_get_be64(p) ^ ((uint64_t)1 << 63));
}

size_t
cdp_store_member_key(unsigned char key[CDP_MEMBER_KEY_MAX], const char *set,
                     const struct cdp_id *id)
{
    size_t n = strlen(set) + 1;
    if (n > 201)
        return 0;
    memcpy(key, set, n);
    if (id)
        memcpy(key + n, id->bytes, 16);
    return n + (id ? 16 : 0);
}

int
cdp_store_next_member(MDB_cursor *cursor, const char *set, const struct cdp_id *after,
                      struct cdp_id *id)
{
    unsigned char key[CDP_MEMBER_KEY_MAX];
    size_t prefix = cdp_store_member_key(key, set, NULL);
    size_t klen = cdp_store_member_key(key, set, after);
    if (prefix == 0)
        return EINVAL;
    MDB_val k = {klen, key}, v;
    int rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && after && k.mv_size == klen && memcmp(k.mv_data, key, klen) == 0)
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    if (rc != 0)
        return rc;
    if (k.mv_size != prefix + 16 || memcmp(k.mv_data, key, prefix) != 0)
        return MDB_NOTFOUND;
    memcpy(id->bytes, (const unsigned char *)k.mv_data + prefix, 16);
    return 0;
}
