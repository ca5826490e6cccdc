/*
 * csvin.h - CSV exports of other tools turned into events.
 *
 * The header row names the columns.  Each column goes to a target field:
 * given with --map (field=Column), else guessed from common header names in
 * English and French (e-mail, Téléphone, Prénom, ...), else kept under its own
 * name as a trait (identify) or a property (track).  Each data row becomes
 * one JSON event that the ingest engine takes like any other.
 */
#ifndef CDP_CSVIN_H
#define CDP_CSVIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cdp_csvin_options {
    char delimiter;    /* ',' unless --delimiter */
    const char *map;   /* "field=Column,field=Column", or NULL */
    const char **ids;  /* "kind=Column" entries, NULL-terminated, or NULL */
    const char *type;  /* "identify" (default) or "track" */
    const char *event; /* track: the event name, unless a column maps to "event" */
};

struct cdp_csvin;

/*
 * Called for each data row: event is owned by the callee (json_decref it),
 * line is where the row starts.  A row that cannot become an event comes
 * with event NULL and the reason.  Return non-zero to stop the parse.
 */
typedef int (*cdp_csvin_row_fn)(json_t *event, uint64_t line, const char *reason, void *ctx);

/* A parser; returns NULL with a message in errbuf when the options are wrong. */
struct cdp_csvin *cdp_csvin_new(const struct cdp_csvin_options *options, cdp_csvin_row_fn fn,
                                void *ctx, char *errbuf, size_t errsize);

/*
 * Feeds one physical line (without its newline) read at line number lineno.
 * Returns 0, the callback's non-zero value, or -1 when the header is unusable
 * (message in errbuf).
 */
int cdp_csvin_feed(struct cdp_csvin *in, const char *line, size_t len, uint64_t lineno,
                   char *errbuf, size_t errsize);

/* Ends the input (a last row without newline, an unclosed quote). */
int cdp_csvin_finish(struct cdp_csvin *in, char *errbuf, size_t errsize);

/* Resets for the next file: the next line is a header again. */
void cdp_csvin_reset(struct cdp_csvin *in);

void cdp_csvin_free(struct cdp_csvin *in);

/* The target a header name maps to by default ("email", "firstName", ...), or NULL. */
const char *cdp_csvin_guess(const char *header);

#endif
