/*
 * store.h - the LMDB profile store shared by every program.
 *
 * One LMDB environment (a directory holding data.mdb and lock.mdb) with one
 * named database per concern.  The layout of each, key and value, is
 * described in cdp-store(5); the constants below are its table of contents.
 * Integers inside keys are big-endian so that LMDB's byte order is their
 * numeric order; integers inside values are in the host's byte order.
 */
#ifndef CDP_STORE_H
#define CDP_STORE_H

#include "hash.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#define CDP_SCHEMA_VERSION 1

enum cdp_db {
    CDP_DB_META,        /* name -> value: schema version, salt, creation time */
    CDP_DB_PROFILES,    /* profile id (16) -> profile record (profile.h) */
    CDP_DB_IDENTIFIERS, /* "kind:value" -> profile id (16) */
    CDP_DB_EVENTS,      /* profile id (16) . time (8) . message hash (16) -> event record */
    CDP_DB_MESSAGES,    /* time (8) . message hash (16) -> profile id (16) . time (8) */
    CDP_DB_ORDERS,      /* hash of "order:ID" or "refund:ID" (16) -> order record */
    CDP_DB_CONSENT,     /* profile id (16) . purpose . time (8) . seq -> consent record */
    CDP_DB_SUPPRESSION, /* keyed hash of an erased identifier (32) -> erasure time (8) */
    CDP_DB_MERGELOG,    /* sequence (8) -> merge-log entry (JSON) */
    CDP_DB_SEGMENTS,    /* segment name -> definition (JSON) */
    CDP_DB_MEMBERS,     /* segment name . NUL . profile id (16) -> entered-at time (8) */
    CDP_DB_AUDIT,       /* sequence (8) -> audit line (JSON) */
    CDP_DB_PREDICTIONS, /* profile id (16) -> predicted attributes (predicted.h) */
    CDP_DB_COUNT
};

struct cdp_codec;

struct cdp_store {
    MDB_env *env;
    MDB_dbi dbi[CDP_DB_COUNT];
    /* A database that a store opened read-only lacks because it was made
       before the database was added (predictions); read as empty. */
    bool absent[CDP_DB_COUNT];
    bool readonly;
    char path[4096];
    struct cdp_codec *codec; /* the event dictionary's codec, or NULL while there is none */
    size_t mapped_size;      /* the map size when mapped_lo/hi were found, or 0 */
    unsigned long mapped_lo, mapped_hi;
};

/* Open modes. */
enum { CDP_STORE_READ = 0, CDP_STORE_WRITE = 1 };

/*
 * Opens the store in directory path.  CDP_STORE_WRITE creates the directory
 * and the databases on first use (mode 0700 for the directory, 0600 for the
 * files) and records the schema version; CDP_STORE_READ fails with ENOENT
 * when there is no store there.  Returns 0 or an errno/LMDB code, with a
 * message for the user in errbuf.
 */
int cdp_store_open(struct cdp_store *store, const char *path, int mode, char *errbuf,
                   size_t errsize);

/* Closes the environment.  Safe on a store that failed to open. */
void cdp_store_close(struct cdp_store *store);

/*
 * Begins a transaction: a read transaction when write is false.  When
 * another process has grown the map since we opened it, adopts the new size
 * and retries.  Returns 0 or an LMDB code.
 */
int cdp_store_begin(struct cdp_store *store, bool write, MDB_txn **txn);

/*
 * Grows the map to twice its size (call with no transaction open in this
 * process).  Used after MDB_MAP_FULL: abort, grow, run the batch again.
 */
int cdp_store_grow(struct cdp_store *store);

/* Grows the map ahead of time when less than a quarter of it is free. */
int cdp_store_reserve(struct cdp_store *store);

/*
 * Grows the map, if needed, so that at least bytes are free after what the
 * store uses: for a write transaction whose size is known beforehand.
 * Call it outside any transaction.  Returns 0 or an LMDB code.
 */
int cdp_store_reserve_bytes(struct cdp_store *store, size_t bytes);

/*
 * Rewrites the store at path into a new data file that holds only the live
 * records, every page written afresh, and puts it in place of the old one:
 * what was deleted is then gone from the file, not merely freed (LMDB keeps
 * freed pages, and the free space inside pages, with their old bytes).  The
 * store must not be open in this process; it fails with EBUSY when another
 * process has it open.  fn, when given, sees every record on the way (db is
 * an enum cdp_db) and may point *value at new bytes, return CDP_STORE_DROP
 * to leave the record out, or return an error code to stop.  Returns 0, or
 * an error code with errbuf set.
 */
enum { CDP_STORE_DROP = -1 };
typedef int (*cdp_store_transform_fn)(int db, const MDB_val *key, MDB_val *value, void *ctx);
int cdp_store_rewrite(const char *path, cdp_store_transform_fn fn, void *ctx, char *errbuf,
                      size_t errsize);

/*
 * Tells the kernel this process no longer needs the pages of the map it has
 * read: they stay in the page cache, but leave the process's resident set,
 * so a long import's memory does not grow with the size of the store.
 */
void cdp_store_release_pages(struct cdp_store *store);

/*
 * Releases the pages read, as cdp_store_release_pages() does, only once the
 * file-backed part of the process's resident set (the pages of the map it
 * holds, and its own code) passes limit bytes; where that cannot be read
 * (no /proc), releases them every time.  One small read of
 * /proc/self/statm: cheap enough to call every thousand records of a scan,
 * whose memory then stays under the limit whatever the store's size.
 */
void cdp_store_release_pages_over(struct cdp_store *store, size_t limit);

/*
 * Sets of profiles kept in the members database (a saved segment's members,
 * what cdp-export sent to a target): key = set name . NUL . profile id
 * (16), so a set's ids sort together in id order.
 */
#define CDP_MEMBER_KEY_MAX (200 + 1 + 16)

/* The key of id in set (the set's prefix alone when id is NULL); returns its length, 0 if too long. */
size_t cdp_store_member_key(unsigned char key[CDP_MEMBER_KEY_MAX], const char *set,
                            const struct cdp_id *id);

/*
 * The first id of set after *after (the first of all when after is NULL).
 * Returns 0 with *id set, MDB_NOTFOUND past the last, or an LMDB code.
 */
int cdp_store_next_member(MDB_cursor *cursor, const char *set, const struct cdp_id *after,
                          struct cdp_id *id);

/* A message for an LMDB or errno code. */
const char *cdp_store_strerror(int rc);

/*
 * Loads the event dictionary from the metadata into store->codec if it is
 * there and not loaded yet (another process may have made it since this one
 * opened the store).  Returns 0 or an LMDB code.
 */
int cdp_store_load_codec(struct cdp_store *store, MDB_txn *txn);

/* Reads a metadata value; returns 0, MDB_NOTFOUND or an LMDB code. */
int cdp_store_meta_get(struct cdp_store *store, MDB_txn *txn, const char *name, MDB_val *value);

/* Writes a metadata value. */
int cdp_store_meta_put(struct cdp_store *store, MDB_txn *txn, const char *name, const void *data,
                       size_t len);

/* The next sequence number for an append-only database (merge log, audit). */
int cdp_store_next_sequence(struct cdp_store *store, MDB_txn *txn, enum cdp_db db, uint64_t *seq);

/* Big-endian encoding of integers in keys. */
void cdp_store_put_be64(unsigned char *p, uint64_t v);
uint64_t cdp_store_get_be64(const unsigned char *p);
/* A time in ms as 8 key bytes that sort in time order, negative times included. */
void cdp_store_put_time(unsigned char *p, int64_t ms);
int64_t cdp_store_get_time(const unsigned char *p);

#endif
