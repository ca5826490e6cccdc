/*
 * event.h - reading one incoming event (Segment spec JSON) into the fields
 * the store needs: type, name, time, message id and normalised identifiers.
 */
#ifndef CDP_EVENT_H
#define CDP_EVENT_H

#include "buf.h"
#include "hash.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum cdp_event_type {
    CDP_EVENT_IDENTIFY = 1,
    CDP_EVENT_TRACK,
    CDP_EVENT_PAGE,
    CDP_EVENT_SCREEN,
    CDP_EVENT_GROUP,
    CDP_EVENT_ALIAS,
};

#define CDP_EVENT_MAX_IDENTIFIERS 16
#define CDP_IDENTIFIER_MAX 300 /* "kind:value" with its NUL */

/* Strength of identifier kinds: which one names a profile, which one wins a refused merge. */
enum cdp_strength {
    CDP_STRENGTH_ANON = 1,
    CDP_STRENGTH_EXTERNAL,
    CDP_STRENGTH_PHONE,
    CDP_STRENGTH_EMAIL,
    CDP_STRENGTH_USER
};

struct cdp_event_options {
    const char *country;     /* default region of national phone numbers, or NULL */
    const char *date_format; /* strptime-like format tried before ISO 8601, or NULL */
    /*
     * A replay of a stored event (lib/rebuild): its time is the one it was
     * stored with, replay_time, whatever its timestamp fields say (they
     * were read with the options of their import), and it had none when
     * replay_untimed.
     */
    bool replay;
    bool replay_untimed;
    int64_t replay_time;
    int replay_counter; /* the computed counter it fed when stored, or -1: by its name */
    bool replay_unregioned; /* stored before its region was kept: it stays unknown */
};

struct cdp_event {
    enum cdp_event_type type;
    const char *name;       /* track event name, page/screen name, or "" (borrowed) */
    int64_t time;           /* ms since the epoch, UTC */
    bool time_from_import;  /* no timestamp in the event: the time of import */
    const char *message_id; /* borrowed from the JSON or points into message_buf */
    char message_buf[40];
    struct cdp_id message;  /* hash of message_id */
    bool message_generated; /* no messageId: made from the content */
    int identifiers_count;
    char identifiers[CDP_EVENT_MAX_IDENTIFIERS][CDP_IDENTIFIER_MAX];
    int strength[CDP_EVENT_MAX_IDENTIFIERS];
    const char *previous_id; /* alias: the id being linked, or NULL */
    json_t *traits;          /* identify/group traits, or NULL (borrowed) */
    json_t *context_traits;  /* context.traits, or NULL (borrowed) */
    json_t *properties;      /* track/page/screen properties, or NULL (borrowed) */
    /*
     * context.merge: a merge decided elsewhere (cdp-merge), or NULL
     * (borrowed).  Its "rule" names the merge in the merge log instead of
     * "shared identifier", the object is kept there as the evidence, and
     * "force": true joins profiles past the identifier limits (a merge a
     * person approved).
     */
    json_t *merge;
};

/* Why an event was rejected. */
enum cdp_event_status {
    CDP_EVENT_OK = 0,
    CDP_EVENT_NOT_OBJECT,
    CDP_EVENT_NO_TYPE,
    CDP_EVENT_UNKNOWN_TYPE,
    CDP_EVENT_BAD_TIMESTAMP,
    CDP_EVENT_NO_IDENTIFIER,
    CDP_EVENT_BAD_FIELD,
};

/*
 * Reads root into ev.  Warnings that do not reject the event (an invalid
 * e-mail or phone dropped, a junk identifier dropped) are appended to
 * warnings, one per line.  On rejection returns a status and writes the
 * reason into reason.  ev borrows from root: keep root alive while using ev.
 * now is the time given to events that carry none.
 */
enum cdp_event_status cdp_event_read(struct cdp_event *ev, json_t *root,
                                     const struct cdp_event_options *options, int64_t now,
                                     struct cdp_buf *warnings, char *reason, size_t reasonsize);

/*
 * Parses one event line that passed cdp_jsonscan_check() into a JSON tree
 * holding only the members ingest reads (type, ids, times, traits,
 * context.traits, context.externalIds and the properties that feed computed
 * traits).  Falls back to the whole tree when the event has no messageId
 * (its id is then a hash of all its content) or a key uses escapes.
 * Returns a new reference, or NULL when jansson fails (out of memory).
 */
json_t *cdp_event_parse(const char *text, size_t len);

/* The name of a type ("identify", ...). */
const char *cdp_event_type_name(enum cdp_event_type type);

/* Adds a "kind:value" identifier; false when full or a duplicate. */
bool cdp_event_add_identifier(struct cdp_event *ev, const char *kind, const char *value,
                              int strength);

/* The index of the strongest identifier (ties: the smallest text), or -1. */
int cdp_event_strongest(const struct cdp_event *ev);

/* Looks up a dotted path ("context.traits.email") in a JSON object; NULL if absent. */
json_t *cdp_json_path(json_t *root, const char *path);

/*
 * Normalises an identifier given as kind and raw text the way ingest does
 * ("email" lower-cased and checked, "phone" to E.164 with country, others
 * trimmed), writing "kind:value" into out.  False with a reason when invalid.
 */
bool cdp_identifier_normalize(const char *kind, const char *value, const char *country, char *out,
                              size_t outsize, const char **reason);

/* Strength of a "kind:value" identifier by its kind. */
int cdp_identifier_strength(const char *identifier);

#endif
