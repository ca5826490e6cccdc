/*
 * events.h - the events database: every stored event under its profile, in
 * time order.
 *
 * Key:   profile id (16) . time (8, big-endian, sign-flipped) . message hash (16)
 * Value: struct cdp_event_head, then name, source, message id and the event's
 *        JSON text (the lengths are in the head).
 * Keeping the profile first clusters a profile's events, so "all events of
 * this person in time order" is one cursor walk.
 */
#ifndef CDP_EVENTS_H
#define CDP_EVENTS_H

#include "buf.h"
#include "hash.h"
#include "store.h"
#include "codec.h"

#include <stdint.h>

#define CDP_EVENT_KEY_SIZE 40
#define CDP_MESSAGE_KEY_SIZE 24

/* Event head flags. */
#define CDP_EVENT_UNTIMED 1 /* no timestamp: the time is that of the import */
#define CDP_EVENT_PACKED 2  /* the JSON text is compressed with the store's dictionary */

struct cdp_event_head {
    int64_t time;
    uint8_t type; /* enum cdp_event_type */
    uint8_t flags;
    uint16_t name_len;
    uint16_t source_len;
    uint16_t message_len;
    uint32_t json_len;
    char country[2];  /* the default region its phone numbers were read in, or zeros */
    uint8_t regioned; /* 1: country says it (zeros: none was given); 0: not recorded */
    uint8_t counter;  /* 1 + the computed counter it fed (enum cdp_counter); 0: not recorded */
};

/* A stored event, pointing into the LMDB page it was read from. */
struct cdp_stored_event {
    struct cdp_id profile;
    struct cdp_id message;
    int64_t time;
    int type;
    int flags;
    const char *name;
    size_t name_len;
    const char *source;
    size_t source_len;
    const char *message_id;
    size_t message_len;
    const char *json; /* the JSON text, or its compressed form when flags has PACKED */
    size_t json_len;
    char country[3]; /* the region given to cdp-ingest --country, or "" */
    bool regioned;   /* false: a record made before regions were kept */
    int counter;     /* the computed counter it fed (enum cdp_counter), or -1: not recorded */
};

void cdp_events_key(unsigned char key[CDP_EVENT_KEY_SIZE], const struct cdp_id *profile,
                    int64_t time, const struct cdp_id *message);

/*
 * The key of an event's record in the messages database: its time then its
 * message hash, so that events arriving roughly in time order touch few
 * pages.  An event without a timestamp files under the smallest time, so a
 * re-import (which gives it another import time) still finds it.
 */
void cdp_events_message_key(unsigned char key[CDP_MESSAGE_KEY_SIZE], bool untimed, int64_t time,
                            const struct cdp_id *message);

/*
 * Encodes an event value into out (reset first); flags are CDP_EVENT_*.  With
 * a codec the JSON text is compressed (and CDP_EVENT_PACKED set).
 */
void cdp_events_encode(struct cdp_buf *out, struct cdp_codec *codec, int64_t time, int type,
                       int flags, const char *name, const char *source, const char *country,
                       bool regioned, int counter, const char *message_id, const char *json,
                       size_t json_len);

/*
 * The JSON text of a stored event, decompressed into buf when packed.
 * Returns NULL when it cannot be read (damaged, or no dictionary).
 */
const char *cdp_events_text(struct cdp_store *store, const struct cdp_stored_event *ev,
                            struct cdp_buf *buf, size_t *len);

/* Decodes a key and value read from the events database; false if damaged. */
bool cdp_events_decode(const MDB_val *key, const MDB_val *value, struct cdp_stored_event *ev);

/*
 * Walks the events of one profile in time order, calling fn for each; fn
 * returns 0 to go on, anything else to stop (which is returned).  Returns 0
 * or an LMDB code.
 */
int cdp_events_each(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *profile,
                    int (*fn)(const struct cdp_stored_event *ev, void *ctx), void *ctx);

/* The same, for the events with a time in [from, to] only: the walk seeks to from. */
int cdp_events_each_between(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *profile,
                            int64_t from, int64_t to,
                            int (*fn)(const struct cdp_stored_event *ev, void *ctx), void *ctx);

/*
 * Moves every event of profile from to profile to, keeping time and message,
 * and points their message records at the new profile.
 */
int cdp_events_move(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *from,
                    const struct cdp_id *to);

/* Deletes the events of a profile and their message records; *count counts them. */
int cdp_events_delete_all(struct cdp_store *store, MDB_txn *txn, const struct cdp_id *id,
                          uint64_t *count);

#endif
