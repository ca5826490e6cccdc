/*
 * output.h - writing profiles on stdout: NDJSON (the profile object of
 * view.h, one a line) or CSV with chosen fields.  Shared by the programs
 * that print profiles, so they all print them the same way.
 *
 *     struct cdp_output out;
 *     cdp_output_init(&out);
 *     cdp_output_set_format(&out, "csv");       false: unknown format
 *     cdp_output_set_fields(&out, "id,traits.email");
 *     cdp_output_begin(&out);                   the CSV header row, if any
 *     cdp_output_profile(&out, &profile, NULL);  for each profile
 *     cdp_output_free(&out);
 *
 * A write error on stdout ends the program through cdp_cli_stdout_failed().
 */
#ifndef CDP_OUTPUT_H
#define CDP_OUTPUT_H

#include "buf.h"
#include "profile.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct cdp_output {
    bool csv;
    bool header;    /* CSV: write a header row (default) */
    char delimiter; /* CSV: default ',' */
    char **fields;  /* CSV columns: paths into the profile object */
    size_t nfields;
    const char *tag_name; /* when set, each record starts with this member or column */
    /* When set, profiles show their consent as of now and their prediction, read from the store. */
    struct cdp_store *store;
    MDB_txn *txn;
    int64_t now;
    int error; /* an LMDB code met while reading consent, else 0 */
    FILE *file; /* where records go: NULL for standard output */
    bool escape; /* CSV: a cell starting with = + - @ or a tab is escaped (see output.c) */
    struct cdp_buf line;
    struct cdp_buf members;
    struct cdp_buf cell;
    bool direct;        /* every CSV field reads straight from the record */
    int *kinds;         /* per field: -1 id, -2 identifiers, -3 trait, else a computed index */
    bool wants_consent; /* a CSV field reads the store's consent or predictions */
};

void cdp_output_init(struct cdp_output *o);

/* "ndjson" or "csv"; false for anything else. */
bool cdp_output_set_format(struct cdp_output *o, const char *format);

/* One character, or "tab"; false for anything else. */
bool cdp_output_set_delimiter(struct cdp_output *o, const char *arg);

/* A comma-separated list of paths (id, traits.email, computed.orders_count, ...); false if empty. */
bool cdp_output_set_fields(struct cdp_output *o, const char *list);

/* Writes the CSV header row when the format is CSV and a header is wanted. */
void cdp_output_begin(struct cdp_output *o);

/*
 * Writes one profile.  tag, when tag_name is set, is the value of the first
 * member ({"change":"entered",...}) or column.
 */
void cdp_output_profile(struct cdp_output *o, struct cdp_profile *p, const char *tag);

/*
 * Writes a profile given as a JSON object; text[0..len) is the object as it
 * was read, written unchanged in NDJSON (and without a tag).
 */
void cdp_output_json(struct cdp_output *o, json_t *profile, const char *text, size_t len,
                     const char *tag);

/*
 * True when a CSV row can be written from a record's bytes alone (every
 * field reads straight from it, no consent, no tag): then
 * cdp_output_record() writes it, the fast path of whole-store exports.
 */
#define cdp_output_direct(o) ((o)->csv && (o)->direct && !(o)->wants_consent && !(o)->tag_name)

/*
 * Writes the CSV row of the record data[0..len) of profile id; false when it
 * is damaged.  Rows are gathered and written in blocks of about 64 KiB: call
 * cdp_output_flush() after the last one (any other write through o writes
 * them first, too).
 */
bool cdp_output_record(struct cdp_output *o, const struct cdp_id *id, const void *data, size_t len);

/* Writes the rows that cdp_output_record() has gathered, if any. */
void cdp_output_flush(struct cdp_output *o);

/* The profile object that cdp_output_profile() writes, as a new JSON object. */
json_t *cdp_output_profile_json(struct cdp_output *o, struct cdp_profile *p);

/* Writes a record that has only an id ({"change":"exited","id":"..."}). */
void cdp_output_id_only(struct cdp_output *o, const char *id_hex, const char *tag);

void cdp_output_free(struct cdp_output *o);

#endif
