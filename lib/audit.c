/*
 * audit.c - appending to the audit trail.
 */
#include "audit.h"
#include "timeparse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * True when a command-line argument may name a person (an identifier such
 * as email:jane@example.com or user:u1, or anything with an @): the trail
 * keeps the profile id instead, which an erasure can redact.
 */
static bool
names_person(const char *arg)
{
    static const char *const kinds[] = {"email:", "phone:", "user:", "anon:", "id:", NULL};
    if (strchr(arg, '@') != NULL)
        return true;
    for (int i = 0; kinds[i]; i++)
        if (strncmp(arg, kinds[i], strlen(kinds[i])) == 0)
            return true;
    /* Any other kind:value: a run of lower-case letters, then a colon (not a time). */
    size_t kind = strspn(arg, "abcdefghijklmnopqrstuvwxyz_");
    return kind > 0 && kind <= 32 && arg[kind] == ':' && arg[kind + 1] != '\0';
}

int
cdp_audit_append_txn(struct cdp_store *store, MDB_txn *txn, int64_t now, int argc, char **argv,
                     json_t *purposes, uint64_t count, json_t *extra)
{
    uint64_t seq;
    int rc = cdp_store_next_sequence(store, txn, CDP_DB_AUDIT, &seq);
    if (rc != 0)
        return rc;
    char when[40];
    cdp_time_format(now, when, sizeof when);
    json_t *line = json_object(), *command = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(command, json_string(names_person(argv[i]) ? "[identifier]"
                                                                         : argv[i]));
    json_object_set_new(line, "seq", json_integer((json_int_t)seq));
    json_object_set_new(line, "time", json_string(when));
    json_object_set_new(line, "command", command);
    json_object_set(line, "purposes", purposes ? purposes : json_null());
    json_object_set_new(line, "count", json_integer((json_int_t)count));
    if (json_is_object(extra))
        json_object_update(line, extra);
    char *text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    if (text == NULL)
        return ENOMEM;
    unsigned char key[8];
    cdp_store_put_be64(key, seq);
    MDB_val k = {8, key}, v = {strlen(text), text};
    rc = mdb_put(txn, store->dbi[CDP_DB_AUDIT], &k, &v, 0);
    free(text);
    return rc;
}

int
cdp_audit_append(struct cdp_store *store, int64_t now, int argc, char **argv, json_t *purposes,
                 uint64_t count, json_t *extra)
{
    MDB_txn *txn;
    int rc = cdp_store_reserve(store);
    if (rc == 0)
        rc = cdp_store_begin(store, true, &txn);
    if (rc != 0)
        return rc;
    rc = cdp_audit_append_txn(store, txn, now, argc, argv, purposes, count, extra);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    return rc;
}
