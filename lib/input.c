/*
 * input.c - bounded line reading and pre-parse checks.
 */
#include "input.h"
#include "buf.h"
#include "normalize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_BLOCK ((size_t)1 << 16)

void
cdp_lines_init(struct cdp_lines *r, int fd, size_t max_line)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->max_line = max_line;
    r->cap = max_line + READ_BLOCK + 1;
    r->buf = cdp_xmalloc(r->cap);
}

void
cdp_lines_free(struct cdp_lines *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Reads more bytes after end; false at end of input or on error. */
static bool
fill(struct cdp_lines *r)
{
    if (r->eof)
        return false;
    if (r->start > 0 && (r->cap - r->end) < READ_BLOCK) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - 1 - r->end);
        if (n > 0) {
            r->end += (size_t)n;
            return true;
        }
        if (n == 0) {
            r->eof = true;
            return false;
        }
        if (errno != EINTR) {
            r->error = errno;
            r->eof = true;
            return false;
        }
    }
}

bool
cdp_lines_next(struct cdp_lines *r, const char **line, size_t *len, bool *too_long)
{
    size_t scanned = r->start;
    *too_long = false;
    for (;;) {
        char *nl = memchr(r->buf + scanned, '\n', r->end - scanned);
        if (nl != NULL) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            *line = r->buf + r->start;
            r->start += n + 1;
            if (n > 0 && (*line)[n - 1] == '\r')
                n--;
            if (n > r->max_line) {
                size_t keep = n < sizeof r->excerpt ? n : sizeof r->excerpt;
                memcpy(r->excerpt, *line, keep);
                *line = r->excerpt;
                n = keep;
                *too_long = true;
            }
            *len = n;
            r->lineno++;
            return true;
        }
        /* One byte more than max_line may be the CR of a CRLF still waiting for its LF. */
        if (r->end - r->start > r->max_line + 1) {
            /* Too long: keep the first bytes as an excerpt, skip to the next newline. */
            size_t keep =
                r->end - r->start < sizeof r->excerpt ? r->end - r->start : sizeof r->excerpt;
            memcpy(r->excerpt, r->buf + r->start, keep);
            r->start = r->end = 0;
            while (fill(r)) {
                nl = memchr(r->buf, '\n', r->end);
                size_t upto = nl ? (size_t)(nl - r->buf) : r->end;
                if (keep < sizeof r->excerpt) {
                    size_t more = sizeof r->excerpt - keep < upto ? sizeof r->excerpt - keep : upto;
                    memcpy(r->excerpt + keep, r->buf, more);
                    keep += more;
                }
                if (nl != NULL) {
                    r->start = (size_t)(nl + 1 - r->buf);
                    break;
                }
                r->start = r->end = 0;
            }
            *line = r->excerpt;
            *len = keep;
            *too_long = true;
            r->lineno++;
            return true;
        }
        size_t unscanned = r->end - r->start;
        if (!fill(r)) {
            if (r->end > r->start) {
                *line = r->buf + r->start;
                *len = r->end - r->start;
                r->start = r->end;
                r->lineno++;
                if (*len > r->max_line) {
                    size_t keep = *len < sizeof r->excerpt ? *len : sizeof r->excerpt;
                    memcpy(r->excerpt, *line, keep);
                    *line = r->excerpt;
                    *len = keep;
                    *too_long = true;
                }
                return true;
            }
            return false;
        }
        scanned = r->start + unscanned; /* fill() may have moved the bytes down */
    }
}

bool
cdp_input_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}

bool
cdp_input_precheck(const char *line, size_t len, int max_depth, const char **reason, size_t *column)
{
    if (!cdp_normalize_utf8_valid(line, len)) {
        /* Find the first bad sequence for the message. */
        size_t i = 0;
        while (i < len) {
            unsigned char c = (unsigned char)line[i];
            size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (i + n > len || !cdp_normalize_utf8_valid(line + i, n))
                break;
            i += n;
        }
        *reason = "invalid UTF-8";
        *column = i + 1;
        return false;
    }
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                *reason = "nesting too deep";
                *column = i + 1;
                return false;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}
