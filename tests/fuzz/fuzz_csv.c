/*
 * fuzz_csv.c - CSV exports turned into events by cdp_csvin.
 *
 * The first byte of the input picks the options:
 *   bit 0  delimiter ';' (else ',')
 *   bit 1  --map for the French sample columns
 *   bit 2  --id crm_id=Code client
 *   bit 3  --type track --event "Order Completed" (else identify)
 *   bit 4  --map for the English sample columns
 *   bit 5  after the end, reset the parser and read everything again
 * The rest is split into lines the way the line reader does (a final "\r"
 * dropped, a last line without newline kept) and fed one line at a time,
 * stopping at the first error as cdp-ingest does.  Each event built is
 * dumped, read back with cdp_event_read and freed.
 */
#include "buf.h"
#include "csvin.h"
#include "event.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS INT64_C(1766570400000) /* 2025-12-24T10:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    return 0;
}

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "property failed: %s\n", what);
        abort();
    }
}

static int
take_row(json_t *event, uint64_t line, const char *reason, void *ctx)
{
    uint64_t *last_line = ctx;
    check(line >= 1 && line <= *last_line, "row line number");
    if (event == NULL) {
        check(reason != NULL && reason[0] != '\0', "a row without event has a reason");
        return 0;
    }
    check(json_is_object(event), "an event is an object");
    char *text = json_dumps(event, JSON_COMPACT);
    check(text != NULL, "an event can be dumped");
    free(text);

    static const struct cdp_event_options options = {"FR", "%d/%m/%Y"};
    struct cdp_event ev;
    struct cdp_buf warnings = CDP_BUF_INIT;
    char why[256];
    (void)cdp_event_read(&ev, event, &options, NOW_MS, &warnings, why, sizeof why);
    cdp_buf_free(&warnings);
    json_decref(event);
    return 0;
}

/* Feeds the lines of data; returns false when the parser reported an error. */
static bool
feed_all(struct cdp_csvin *in, const char *data, size_t size, uint64_t *lineno)
{
    char err[300];
    size_t start = 0;
    while (start < size) {
        const char *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t len = end - start;
        if (nl && len > 0 && data[end - 1] == '\r')
            len--;
        (*lineno)++;
        int rc = cdp_csvin_feed(in, data + start, len, *lineno, err, sizeof err);
        if (rc < 0) {
            check(err[0] != '\0', "a feed error has a message");
            return false;
        }
        start = end + 1;
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    static const char *ids[] = {"crm_id=Code client", NULL};
    struct cdp_csvin_options options = {0};
    options.delimiter = (flags & 1) ? ';' : ',';
    if (flags & 2)
        options.map = "email=Courriel,traits.customer_code=Code client,skip=Ville";
    if (flags & 16)
        options.map = "userId=customer_id,traits.plan=plan,properties.total=amount";
    if (flags & 4)
        options.ids = ids;
    if (flags & 8) {
        options.type = "track";
        options.event = "Order Completed";
    }

    char err[300];
    uint64_t lineno = 0;
    struct cdp_csvin *in = cdp_csvin_new(&options, take_row, &lineno, err, sizeof err);
    check(in != NULL, "the options are valid");

    (void)feed_all(in, text, len, &lineno);
    (void)cdp_csvin_finish(in, err, sizeof err);
    if (flags & 32) {
        cdp_csvin_reset(in);
        lineno = 0;
        (void)feed_all(in, text, len, &lineno);
        (void)cdp_csvin_finish(in, err, sizeof err);
    }
    cdp_csvin_free(in);

    /* The header guesser on the first line. */
    const char *nl = memchr(text, '\n', len);
    size_t n = nl ? (size_t)(nl - text) : len;
    char *head = malloc(n + 1);
    if (head != NULL) {
        memcpy(head, text, n);
        head[n] = '\0';
        (void)cdp_csvin_guess(head);
        free(head);
    }
    return 0;
}
