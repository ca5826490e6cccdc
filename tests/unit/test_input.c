/*
 * test_input.c - unit tests for lib/input.c: bounded line reading from files
 * and pipes, and the checks made on a line before it is parsed.
 */
#include "input.h"
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[256];
static int files_made;

/* A file under the temporary directory holding len bytes of data, open for reading. */
static int
file_with(const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/in%d", root, files_made++);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            perror("write");
            exit(1);
        }
        p += n;
        len -= (size_t)n;
    }
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    return fd;
}

static void
pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*
 * A pipe whose other end a child fills with the pieces given, pausing
 * between them so that each one arrives as a read of its own.
 */
static int
pipe_with(const char *const *pieces, const size_t *lens, int count, pid_t *child)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(1);
    }
    *child = fork();
    if (*child < 0) {
        perror("fork");
        exit(1);
    }
    if (*child == 0) {
        close(fds[0]);
        for (int i = 0; i < count; i++) {
            const char *p = pieces[i];
            size_t len = lens[i];
            while (len > 0) {
                ssize_t n = write(fds[1], p, len);
                if (n <= 0)
                    _exit(1);
                p += n;
                len -= (size_t)n;
            }
            pause_ms(30);
        }
        _exit(0);
    }
    close(fds[1]);
    return fds[0];
}

static void
reap(pid_t child)
{
    int status;
    waitpid(child, &status, 0);
}

struct got {
    const char *line;
    size_t len;
    bool too_long;
};

static bool
next(struct cdp_lines *r, struct got *g)
{
    return cdp_lines_next(r, &g->line, &g->len, &g->too_long);
}

static bool
is(const struct got *g, const char *want)
{
    return !g->too_long && g->len == strlen(want) && memcmp(g->line, want, g->len) == 0;
}

static void
test_simple(void)
{
    struct cdp_lines r;
    struct got g;
    static const char text[] = "one\ntwo\r\n\nlast";
    int fd = file_with(text, sizeof text - 1);

    cdp_lines_init(&r, fd, 100);
    CHECK(next(&r, &g) && is(&g, "one"));
    CHECK_INT(r.lineno, 1);
    CHECK(next(&r, &g) && is(&g, "two")); /* CRLF */
    CHECK(next(&r, &g) && is(&g, ""));
    CHECK(next(&r, &g) && is(&g, "last")); /* no newline at the end */
    CHECK_INT(r.lineno, 4);
    CHECK(!next(&r, &g));
    CHECK(!next(&r, &g)); /* and stays at the end */
    CHECK_INT(r.error, 0);
    cdp_lines_free(&r);
    close(fd);

    /* An empty file: no line at all. */
    fd = file_with("", 0);
    cdp_lines_init(&r, fd, 100);
    CHECK(!next(&r, &g));
    CHECK_INT(r.lineno, 0);
    CHECK_INT(r.error, 0);
    cdp_lines_free(&r);
    close(fd);

    /* One newline: one empty line. */
    fd = file_with("\n", 1);
    cdp_lines_init(&r, fd, 100);
    CHECK(next(&r, &g) && is(&g, ""));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);

    /* A lone CR inside a line is kept; only CR before LF goes. */
    static const char cr[] = "a\rb\r\nc\r\r\n";
    fd = file_with(cr, sizeof cr - 1);
    cdp_lines_init(&r, fd, 100);
    CHECK(next(&r, &g) && is(&g, "a\rb"));
    CHECK(next(&r, &g) && is(&g, "c\r"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);

    /* NUL bytes are bytes like others. */
    static const char nul[] = "a\0b\nc";
    fd = file_with(nul, sizeof nul - 1);
    cdp_lines_init(&r, fd, 100);
    CHECK(next(&r, &g) && g.len == 3 && memcmp(g.line, "a\0b", 3) == 0);
    CHECK(next(&r, &g) && is(&g, "c"));
    cdp_lines_free(&r);
    close(fd);

    /* A read error is reported. */
    cdp_lines_init(&r, -1, 100);
    CHECK(!next(&r, &g));
    CHECK(r.error != 0);
    cdp_lines_free(&r);
}

static void
test_too_long(void)
{
    struct cdp_lines r;
    struct got g;
    size_t max = 1000;
    char *text = malloc(20000);
    size_t n = 0;

    /* A line of exactly max bytes is fine; one more is too long. */
    memset(text + n, 'a', max);
    n += max;
    text[n++] = '\n';
    for (size_t i = 0; i < 5000; i++)
        text[n++] = (char)('A' + i % 26);
    text[n++] = '\n';
    memcpy(text + n, "after\n", 6);
    n += 6;
    memset(text + n, 'b', max);
    n += max;
    memcpy(text + n, "\r\n", 2); /* max bytes and a CRLF: fine */
    n += 2;
    memset(text + n, 'c', max + 1);
    n += max + 1;
    text[n++] = '\n';
    memcpy(text + n, "end", 3);
    n += 3;

    int fd = file_with(text, n);
    cdp_lines_init(&r, fd, max);
    CHECK(next(&r, &g) && !g.too_long && g.len == max);
    CHECK(next(&r, &g) && g.too_long);
    CHECK_INT(g.len, 256);
    CHECK(g.len >= 26 && memcmp(g.line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26) == 0);
    CHECK(memcmp(g.line, r.excerpt, g.len) == 0);
    CHECK_INT(r.lineno, 2);
    CHECK(next(&r, &g) && is(&g, "after")); /* the next line is intact */
    CHECK_INT(r.lineno, 3);
    CHECK(next(&r, &g) && !g.too_long && g.len == max && g.line[0] == 'b');
    CHECK(next(&r, &g) && g.too_long && g.line[0] == 'c');
    CHECK(next(&r, &g) && is(&g, "end"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);

    /* A line far longer than the read block, then a normal one. */
    size_t big = 300000;
    char *huge = malloc(big + 32);
    for (size_t i = 0; i < big; i++)
        huge[i] = (char)('a' + i % 26);
    memcpy(huge + big, "\nnext line\n", 11);
    fd = file_with(huge, big + 11);
    cdp_lines_init(&r, fd, 70000);
    CHECK(next(&r, &g) && g.too_long);
    CHECK_INT(g.len, 256);
    CHECK(memcmp(g.line, huge, 256) == 0);
    CHECK(next(&r, &g) && is(&g, "next line"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);

    /* A last line without a newline: max bytes is fine, one more is too long. */
    fd = file_with(huge, 1000);
    cdp_lines_init(&r, fd, 1000);
    CHECK(next(&r, &g) && !g.too_long && g.len == 1000);
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);
    fd = file_with(huge, 1001);
    cdp_lines_init(&r, fd, 1000);
    CHECK(next(&r, &g) && g.too_long);
    CHECK(g.len <= 256 && memcmp(g.line, huge, g.len) == 0);
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);
    fd = file_with(huge, 1002);
    cdp_lines_init(&r, fd, 1000);
    CHECK(next(&r, &g) && g.too_long);
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);

    /* A too-long last line without a newline. */
    fd = file_with(huge, big);
    cdp_lines_init(&r, fd, 1000);
    CHECK(next(&r, &g) && g.too_long);
    CHECK(!next(&r, &g));
    CHECK_INT(r.lineno, 1);
    cdp_lines_free(&r);
    close(fd);

    /* The same through a pipe, in pieces. */
    const char *pieces[] = {huge, huge + 100000, huge + 200000, "\nnext line\n"};
    size_t lens[] = {100000, 100000, 100000, 11};
    pid_t child;
    fd = pipe_with(pieces, lens, 4, &child);
    cdp_lines_init(&r, fd, 70000);
    CHECK(next(&r, &g) && g.too_long);
    CHECK_INT(g.len, 256);
    CHECK(memcmp(g.line, huge, 256) == 0);
    CHECK(next(&r, &g) && is(&g, "next line"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);
    reap(child);

    free(huge);
    free(text);
}

/* Lines that arrive cut anywhere, through a pipe. */
static void
test_pipe_pieces(void)
{
    struct cdp_lines r;
    struct got g;
    pid_t child;

    const char *pieces[] = {"fir", "st\nsec", "ond\r", "\nthi", "rd"};
    size_t lens[] = {3, 6, 4, 4, 2};
    int fd = pipe_with(pieces, lens, 5, &child);
    cdp_lines_init(&r, fd, 100);
    CHECK(next(&r, &g) && is(&g, "first"));
    CHECK(next(&r, &g) && is(&g, "second")); /* CR and LF in two reads */
    CHECK(next(&r, &g) && is(&g, "third"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);
    reap(child);

    /*
     * A line of exactly max_line bytes ended by CRLF, with the CR arriving
     * before the LF: still max_line bytes, so not too long.
     */
    char line[64];
    memset(line, 'x', 16);
    line[16] = '\r';
    const char *p2[] = {line, "\nok\n"};
    size_t l2[] = {17, 4};
    fd = pipe_with(p2, l2, 2, &child);
    cdp_lines_init(&r, fd, 16);
    CHECK(next(&r, &g) && !g.too_long && g.len == 16);
    CHECK(next(&r, &g) && is(&g, "ok"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);
    reap(child);

    /*
     * A too-long line that arrives in small pieces: the excerpt is still the
     * head of the line, as much of it as fits the excerpt.
     */
    char longline[600];
    for (int i = 0; i < 600; i++)
        longline[i] = (char)('a' + i % 26);
    const char *p3[] = {longline, longline + 50, longline + 100, longline + 300, "\nnext\n"};
    size_t l3[] = {50, 50, 200, 300, 6};
    fd = pipe_with(p3, l3, 5, &child);
    cdp_lines_init(&r, fd, 300);
    CHECK(next(&r, &g) && g.too_long);
    CHECK_INT(g.len, 256);
    CHECK(memcmp(g.line, longline, g.len) == 0);
    CHECK(next(&r, &g) && is(&g, "next"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);
    reap(child);

    /*
     * The same with a max_line under the excerpt size: the excerpt does not
     * depend on how the reads happened to cut the line (a file read in one
     * go gives the first 256 bytes).
     */
    int tfd = file_with("", 0);
    {
        char both[700];
        memcpy(both, longline, 600);
        memcpy(both + 600, "\nnext\n", 6);
        if (write(tfd, both, 606) != 606)
            perror("write");
        lseek(tfd, 0, SEEK_SET);
    }
    cdp_lines_init(&r, tfd, 100);
    CHECK(next(&r, &g) && g.too_long);
    size_t file_excerpt = g.len;
    CHECK_INT(file_excerpt, 256);
    cdp_lines_free(&r);
    close(tfd);

    const char *p4[] = {longline, longline + 50, longline + 100, longline + 150, longline + 200,
                        longline + 400, "\nnext\n"};
    size_t l4[] = {50, 50, 50, 50, 200, 200, 6};
    fd = pipe_with(p4, l4, 7, &child);
    cdp_lines_init(&r, fd, 100);
    CHECK(next(&r, &g) && g.too_long);
    CHECK_INT(g.len, file_excerpt);
    CHECK(memcmp(g.line, longline, g.len) == 0);
    CHECK(next(&r, &g) && is(&g, "next"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);
    reap(child);
}

/* Many lines of varied lengths, crossing the 64 KiB read block many times. */
static void
test_many_lines(void)
{
    struct cdp_lines r;
    struct got g;
    size_t count = 20000, cap = 8 << 20, n = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < count; i++) {
        size_t len = (i * 7919) % 700;
        n += (size_t)snprintf(text + n, cap - n, "%zu:", i);
        for (size_t j = 0; j < len; j++)
            text[n++] = (char)('a' + (i + j) % 26);
        if (i % 3 == 0)
            text[n++] = '\r';
        text[n++] = '\n';
    }
    int fd = file_with(text, n);
    cdp_lines_init(&r, fd, 1000);
    size_t i = 0, bad = 0;
    while (next(&r, &g)) {
        char prefix[32];
        size_t len = (i * 7919) % 700;
        int pn = snprintf(prefix, sizeof prefix, "%zu:", i);
        if (g.too_long || g.len != (size_t)pn + len || memcmp(g.line, prefix, (size_t)pn) != 0)
            bad++;
        else
            for (size_t j = 0; j < len; j++)
                if (g.line[pn + j] != (char)('a' + (i + j) % 26)) {
                    bad++;
                    break;
                }
        i++;
    }
    CHECK_INT(i, count);
    CHECK_INT(bad, 0);
    CHECK_INT(r.lineno, count);
    CHECK(n > 4 * 65536);
    cdp_lines_free(&r);
    close(fd);

    /* Lines that end exactly at, just before and just after the 64 KiB mark. */
    for (int shift = -2; shift <= 2; shift++) {
        size_t first = 65536 + (size_t)shift - 1; /* the newline lands at 65536 + shift - 1 */
        n = 0;
        memset(text, 'p', first);
        n = first;
        text[n++] = '\n';
        memcpy(text + n, "second\n", 7);
        n += 7;
        fd = file_with(text, n);
        cdp_lines_init(&r, fd, 100000);
        CHECK(next(&r, &g) && !g.too_long && g.len == first);
        CHECK(next(&r, &g) && is(&g, "second"));
        CHECK(!next(&r, &g));
        cdp_lines_free(&r);
        close(fd);
    }

    /* A CRLF split by the 64 KiB mark. */
    memset(text, 'q', 65535);
    text[65535] = '\r';
    text[65536] = '\n';
    memcpy(text + 65537, "z", 1);
    fd = file_with(text, 65538);
    cdp_lines_init(&r, fd, 100000);
    CHECK(next(&r, &g) && !g.too_long && g.len == 65535 && g.line[65534] == 'q');
    CHECK(next(&r, &g) && is(&g, "z"));
    CHECK(!next(&r, &g));
    cdp_lines_free(&r);
    close(fd);

    free(text);
}

static bool
pre(const char *line, int depth, const char **reason, size_t *column)
{
    *reason = NULL;
    *column = 0;
    return cdp_input_precheck(line, strlen(line), depth, reason, column);
}

static void
test_precheck(void)
{
    const char *reason;
    size_t column;

    CHECK(pre("{\"a\":\"caf\xc3\xa9\",\"b\":[1,{\"c\":\"\xf0\x9f\x98\x80\"}]}", 64, &reason,
              &column));
    CHECK(pre("", 64, &reason, &column));

    /* Invalid UTF-8, with the byte column of the first bad sequence. */
    CHECK(!pre("ab\xff" "cd", 64, &reason, &column));
    CHECK_STR(reason, "invalid UTF-8");
    CHECK_INT(column, 3);
    CHECK(!pre("{\"a\":\"\xc3\"}", 64, &reason, &column)); /* truncated sequence */
    CHECK_INT(column, 7);
    CHECK(!pre("\x80", 64, &reason, &column)); /* stray continuation byte */
    CHECK_INT(column, 1);
    CHECK(!pre("x\xc0\xaf", 64, &reason, &column)); /* overlong */
    CHECK_INT(column, 2);
    CHECK(!pre("\xc3\xa9\xc3\xa9\xed\xa0\x80", 64, &reason, &column)); /* surrogate */
    CHECK_INT(column, 5);
    CHECK(!pre("abcdefghij\xe2\x82", 64, &reason, &column)); /* cut at the end */
    CHECK_INT(column, 11);
    CHECK(!pre("\xf4\x90\x80\x80", 64, &reason, &column)); /* above U+10FFFF */
    CHECK_INT(column, 1);
    CHECK(!pre("0123456789abcdef\xe9t\xe9", 64, &reason, &column)); /* Latin-1 */
    CHECK_INT(column, 17);

    /* Nesting. */
    CHECK(pre("[[[1]]]", 3, &reason, &column));
    CHECK(!pre("[[[[1]]]]", 3, &reason, &column));
    CHECK_STR(reason, "nesting too deep");
    CHECK_INT(column, 4);
    CHECK(!pre("{\"a\":{\"b\":[{}]}}", 3, &reason, &column));
    CHECK_INT(column, 12);
    CHECK(pre("{\"a\":{\"b\":[]},\"c\":{\"d\":[]}}", 3, &reason, &column)); /* siblings */
    /* Brackets inside strings do not count. */
    CHECK(pre("{\"a\":\"[[[[[[{{{{\"}", 1, &reason, &column));
    CHECK(pre("{\"[[[[\":1}", 1, &reason, &column));
    /* An escaped quote does not end the string. */
    CHECK(pre("{\"a\":\"\\\"[[[[\"}", 1, &reason, &column));
    /* An escaped backslash does end it, and what follows counts. */
    CHECK(!pre("{\"a\":\"\\\\\",\"b\":[[1]]}", 2, &reason, &column));
    CHECK_INT(column, 16);
    CHECK(pre("{\"a\":\"\\\\\",\"b\":[1]}", 2, &reason, &column));
    CHECK(pre("{\"a\":\"x\\\\\\\"[[\"}", 1, &reason, &column));
    /* The default depth of the programs. */
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < CDP_INPUT_DEFAULT_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < CDP_INPUT_DEFAULT_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    CHECK(pre(deep, CDP_INPUT_DEFAULT_MAX_DEPTH, &reason, &column));
    memmove(deep + 1, deep, n + 1);
    deep[0] = '[';
    deep[n + 1] = ']';
    deep[n + 2] = '\0';
    CHECK(!pre(deep, CDP_INPUT_DEFAULT_MAX_DEPTH, &reason, &column));
    CHECK_INT(column, CDP_INPUT_DEFAULT_MAX_DEPTH + 1);

    /* Blank lines. */
    CHECK(cdp_input_blank("", 0));
    CHECK(cdp_input_blank("   ", 3));
    CHECK(cdp_input_blank(" \t \r", 4));
    CHECK(!cdp_input_blank(" x ", 3));
    CHECK(!cdp_input_blank("{}", 2));
    CHECK(cdp_input_blank("  x", 2)); /* only len bytes are looked at */
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(root, sizeof root, "%s/cdp-test-input-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_simple();
    test_too_long();
    test_pipe_pieces();
    test_many_lines();
    test_precheck();
    rmdir(root);
    return check_summary("input");
}
