/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * The buffer owns its memory; cdp_buf_free() releases it.  Appends abort the
 * program with a message when memory runs out, so callers need not check.
 *
 *     struct cdp_buf b = CDP_BUF_INIT;
 *     cdp_buf_printf(&b, "%d items", n);
 *     fputs(b.data, stdout);
 *     cdp_buf_free(&b);
 */
#ifndef CDP_BUF_H
#define CDP_BUF_H

#include <stddef.h>

struct cdp_buf {
    char *data; /* NULL until the first append; then NUL-terminated */
    size_t len;
    size_t cap;
};

#define CDP_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void cdp_buf_append(struct cdp_buf *b, const void *data, size_t len);
void cdp_buf_puts(struct cdp_buf *b, const char *s);
void cdp_buf_putc(struct cdp_buf *b, char c);
void cdp_buf_printf(struct cdp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for n more bytes and returns where they go; call cdp_buf_commit() after writing. */
char *cdp_buf_reserve(struct cdp_buf *b, size_t n);
void cdp_buf_commit(struct cdp_buf *b, size_t n);
/* Empties the buffer and keeps its memory. */
void cdp_buf_reset(struct cdp_buf *b);
void cdp_buf_truncate(struct cdp_buf *b, size_t len);
void cdp_buf_free(struct cdp_buf *b);

/* Like malloc/realloc/strdup but exit with a message when memory runs out. */
void *cdp_xmalloc(size_t n);
void *cdp_xcalloc(size_t count, size_t n);
void *cdp_xrealloc(void *p, size_t n);
char *cdp_xstrdup(const char *s);

#endif
