/*
 * audit.h - the audit trail: one line for every export that leaves the
 * store, and for every erasure.
 *
 * Key:   sequence (8, big-endian, from 1)
 * Value: the line as compact JSON: {"seq", "time", "command", "purposes",
 *        "count", ...}
 */
#ifndef CDP_AUDIT_H
#define CDP_AUDIT_H

#include "store.h"

#include <jansson.h>
#include <stdint.h>

/*
 * Appends an audit line in its own write transaction: time (ISO 8601, from
 * now), command (the program and its arguments; an argument that may name
 * a person, such as email:jane@example.com, is kept as "[identifier]":
 * put the profile id in extra instead), purposes (a JSON array or
 * NULL), count (records written), plus the members of extra (an object, or
 * NULL; borrowed).  Returns 0 or an LMDB code.
 */
int cdp_audit_append(struct cdp_store *store, int64_t now, int argc, char **argv,
                     json_t *purposes, uint64_t count, json_t *extra);

/* The same inside the caller's write transaction. */
int cdp_audit_append_txn(struct cdp_store *store, MDB_txn *txn, int64_t now, int argc,
                         char **argv, json_t *purposes, uint64_t count, json_t *extra);

#endif
