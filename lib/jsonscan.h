/*
 * jsonscan.h - validating JSON text and finding the members of an object
 * without building a tree.
 *
 * Ingest reads a dozen fields of events whose text is mostly context it
 * never looks at (user agents, page URLs, library versions).  Checking the
 * whole line and parsing only the members it needs costs a fraction of
 * building the full tree.
 */
#ifndef CDP_JSONSCAN_H
#define CDP_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

struct cdp_json_member {
    const char *key; /* the key's text between its quotes (escapes left as they are) */
    size_t key_len;
    bool key_escaped;  /* the key holds a backslash escape */
    const char *value; /* the value's text */
    size_t value_len;
};

/*
 * Checks that text[0..len) is exactly one JSON value (RFC 8259) with white
 * space around it allowed, nested no deeper than max_depth.  On failure
 * returns false with the 1-based column and a reason.  Bytes are not checked
 * for UTF-8 here (cdp_normalize_utf8_valid does that).
 */
bool cdp_jsonscan_check(const char *text, size_t len, int max_depth, size_t *column,
                        const char **reason);

/*
 * Lists the members of the object in text (which must have passed
 * cdp_jsonscan_check) into out, at most max of them.  Returns how many there
 * are (may exceed max: only the first max are written), or -1 when the
 * value is not an object.
 */
int cdp_jsonscan_members(const char *text, size_t len, struct cdp_json_member *out, int max);

/* True when a member's key equals name (keys with escapes never match). */
bool cdp_jsonscan_key_is(const struct cdp_json_member *m, const char *name);

#endif
