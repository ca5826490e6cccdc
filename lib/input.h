/*
 * input.h - reading input line by line with a bound on line length, and the
 * cheap checks made on a line before it is parsed as JSON.
 */
#ifndef CDP_INPUT_H
#define CDP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CDP_INPUT_DEFAULT_MAX_LINE ((size_t)1 << 20)
#define CDP_INPUT_DEFAULT_MAX_DEPTH 64

struct cdp_lines {
    int fd;
    char *buf;
    size_t cap;   /* max_line + read block */
    size_t start; /* first unread byte */
    size_t end;   /* end of the bytes read */
    size_t max_line;
    uint64_t lineno; /* the number of the line last returned */
    bool eof;
    int error;         /* errno of a failed read, or 0 */
    char excerpt[256]; /* the head of a line that was too long */
};

/* Reads from fd (not closed by cdp_lines_free). */
void cdp_lines_init(struct cdp_lines *r, int fd, size_t max_line);
void cdp_lines_free(struct cdp_lines *r);

/*
 * The next line, without its "\n" (and "\r\n").  Returns false at the end
 * of input or on a read error (r->error).  A line longer than max_line is
 * returned as its first 256 bytes with *too_long set; the rest is skipped.
 * The line stays valid until the next call.
 */
bool cdp_lines_next(struct cdp_lines *r, const char **line, size_t *len, bool *too_long);

/*
 * Checks what a JSON parser would not report clearly: strict UTF-8, and
 * nesting no deeper than max_depth.  False with the reason (and the byte
 * column, from 1) when the line fails.
 */
bool cdp_input_precheck(const char *line, size_t len, int max_depth, const char **reason,
                        size_t *column);

/* True when the line holds only white space. */
bool cdp_input_blank(const char *line, size_t len);

#endif
