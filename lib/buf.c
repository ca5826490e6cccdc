/*
 * buf.c - growable buffers and checked allocation.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
out_of_memory(size_t n)
{
    fprintf(stderr, "cdp: out of memory (%zu bytes)\n", n);
    exit(1);
}

void *
cdp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        out_of_memory(n);
    return p;
}

void *
cdp_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        out_of_memory(count * n);
    return p;
}

void *
cdp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        out_of_memory(n);
    return q;
}

char *
cdp_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = cdp_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

char *
cdp_buf_reserve(struct cdp_buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = cdp_xrealloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

void
cdp_buf_commit(struct cdp_buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

void
cdp_buf_append(struct cdp_buf *b, const void *data, size_t len)
{
    char *p = cdp_buf_reserve(b, len);
    if (len)
        memcpy(p, data, len);
    cdp_buf_commit(b, len);
}

void
cdp_buf_puts(struct cdp_buf *b, const char *s)
{
    cdp_buf_append(b, s, strlen(s));
}

void
cdp_buf_putc(struct cdp_buf *b, char c)
{
    char *p = cdp_buf_reserve(b, 1);
    *p = c;
    cdp_buf_commit(b, 1);
}

void
cdp_buf_printf(struct cdp_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *p = cdp_buf_reserve(b, 64);
    va_start(ap, fmt);
    int n = vsnprintf(p, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        p = cdp_buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(p, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    cdp_buf_commit(b, (size_t)n);
}

void
cdp_buf_reset(struct cdp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void
cdp_buf_truncate(struct cdp_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

void
cdp_buf_free(struct cdp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
