/*
 * cli.c - common options, diagnostics and the stdout check of every program.
 */
#include "cli.h"
#include "buf.h"
#include "timeparse.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *progname = "cdp";
static char stdout_buffer[1 << 16];

const char cdp_cli_common_help[] =
    "Common options:\n"
    "  -d, --db DIR            the store (default: $CDP_DB, else ./cdp.db)\n"
    "  -f, --format FMT        output format (cdp-ingest: input format)\n"
    "  -i, --input-format FMT  input format: ndjson or csv (default: guessed)\n"
    "  -o, --output FILE       write to FILE instead of stdout\n"
    "  -q, --quiet             no summary on stderr\n"
    "  -v, --verbose           more detail on stderr\n"
    "      --now TIME          the time taken as now (ISO 8601 or epoch)\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 some input rejected.\n";

void
cdp_cli_init(const char *name, struct cdp_common *common)
{
    const char *slash = strrchr(name, '/');
    progname = slash ? slash + 1 : name;
    memset(common, 0, sizeof *common);
    common->db = getenv("CDP_DB");
    if (common->db == NULL || common->db[0] == '\0')
        common->db = "cdp.db";
    if (!cdp_time_now(&common->now))
        common->now = 0;
    opterr = 0; /* unknown options are reported by cdp_cli_unknown_option() */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer);
}

const char *
cdp_cli_progname(void)
{
    return progname;
}

static void
vwarn_line(const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void
cdp_cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn_line(fmt, ap);
    va_end(ap);
}

void
cdp_cli_die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn_line(fmt, ap);
    va_end(ap);
    exit(status);
}

void
cdp_cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn_line(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", progname);
    exit(CDP_EXIT_USAGE);
}

int
cdp_cli_common_option(struct cdp_common *common, int opt, const char *arg, void (*usage)(FILE *))
{
    switch (opt) {
    case 'd':
        if (arg[0] == '\0')
            cdp_cli_usage_error("--db needs a directory");
        common->db = arg;
        return 1;
    case 'f':
        common->format = arg;
        return 1;
    case 'i':
        if (strcmp(arg, "ndjson") != 0 && strcmp(arg, "csv") != 0)
            cdp_cli_usage_error("unknown input format '%s' (ndjson or csv)", arg);
        common->input_format = arg;
        return 1;
    case 'o':
        common->output = arg;
        return 1;
    case 'q':
        common->quiet = 1;
        return 1;
    case 'v':
        common->verbose++;
        return 1;
    case CDP_OPT_NOW:
        if (!cdp_time_parse(arg, strlen(arg), &common->now))
            cdp_cli_usage_error("--now: cannot read '%s' as a time", arg);
        common->now_given = true;
        return 1;
    case 'h':
        usage(stdout);
        exit(cdp_cli_finish_stdout(CDP_EXIT_OK));
    case 'V':
        printf("%s (cdp) %s\n", progname, CDP_VERSION);
        exit(cdp_cli_finish_stdout(CDP_EXIT_OK));
    default:
        return 0;
    }
}

void
cdp_cli_unknown_option(char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (optopt != 0 && strchr(CDP_COMMON_SHORTOPTS, optopt) != NULL)
        cdp_cli_usage_error("option '-%c' needs a value", optopt);
    if (optopt != 0 && arg[0] == '-' && arg[1] != '-')
        cdp_cli_usage_error("unknown option '-%c'", optopt);
    cdp_cli_usage_error("unknown option, or option without its value: '%s'", arg);
}

/* ---- atomic output files ---- */

struct atomic {
    FILE *f;
    char *path, *tmp;
};

static struct atomic atomics[4];
static bool atomic_cleanup_set;

/* The process's umask, without changing it for good. */
static mode_t
current_umask(void)
{
    mode_t m = umask(022);
    umask(m);
    return m;
}

/* At exit: the temporary files never committed go. */
static void
atomic_cleanup(void)
{
    for (size_t i = 0; i < sizeof atomics / sizeof atomics[0]; i++) {
        if (atomics[i].tmp) {
            unlink(atomics[i].tmp);
            free(atomics[i].tmp);
            free(atomics[i].path);
            atomics[i].tmp = NULL;
        }
    }
}

static struct atomic *
atomic_new(const char *path, int *fd)
{
    struct atomic *a = NULL;
    for (size_t i = 0; i < sizeof atomics / sizeof atomics[0]; i++)
        if (atomics[i].tmp == NULL && atomics[i].path == NULL) {
            a = &atomics[i];
            break;
        }
    if (a == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: too many output files", path);
    size_t n = strlen(path);
    a->tmp = cdp_xmalloc(n + 12);
    snprintf(a->tmp, n + 12, "%s.tmp.XXXXXX", path);
    if ((*fd = mkstemp(a->tmp)) < 0) {
        int saved = errno;
        free(a->tmp);
        a->tmp = NULL;
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", path, strerror(saved));
    }
    fchmod(*fd, 0644 & ~current_umask());
    a->path = cdp_xstrdup(path);
    if (!atomic_cleanup_set) {
        atexit(atomic_cleanup);
        atomic_cleanup_set = true;
    }
    return a;
}

/* Puts a's file (flushed to disk by the caller) in place, or removes it. */
static bool
atomic_finish(struct atomic *a, bool ok)
{
    if (ok && rename(a->tmp, a->path) != 0)
        ok = false;
    int saved = errno;
    if (!ok)
        unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
    a->f = NULL;
    errno = saved;
    return ok;
}

/*
 * Only a regular file (or a new one) is replaced atomically: a device such
 * as /dev/null, a pipe or a terminal is written in place, never renamed
 * over.
 */
static bool
replaceable(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 ? errno == ENOENT : S_ISREG(st.st_mode);
}

FILE *
cdp_cli_atomic_open(const char *path)
{
    if (!replaceable(path)) {
        FILE *f = fopen(path, "w");
        if (f == NULL)
            cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", path, strerror(errno));
        return f;
    }
    int fd;
    struct atomic *a = atomic_new(path, &fd);
    a->f = fdopen(fd, "w");
    if (a->f == NULL)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", path, strerror(errno));
    return a->f;
}

bool
cdp_cli_atomic_commit(FILE *f)
{
    bool found = false;
    for (size_t i = 0; i < sizeof atomics / sizeof atomics[0]; i++)
        found = found || atomics[i].f == f;
    if (!found) {
        /* Written in place (not a regular file). */
        bool ok = fflush(f) == 0 && !ferror(f);
        return fclose(f) == 0 && ok;
    }
    for (size_t i = 0; i < sizeof atomics / sizeof atomics[0]; i++) {
        struct atomic *a = &atomics[i];
        if (a->f != f || a->tmp == NULL)
            continue;
        bool ok = fflush(f) == 0 && !ferror(f);
        int fd = fileno(f);
        if (ok && fsync(fd) != 0 && errno != EINVAL)
            ok = false;
        int saved = errno;
        if (fclose(f) != 0)
            ok = false;
        else
            errno = saved;
        /* fclose closed fd: only the rename is left. */
        return atomic_finish(a, ok);
    }
    return false;
}

static struct atomic *stdout_atomic;

void
cdp_cli_atomic_stdout(const char *path)
{
    if (path == NULL) /* no -o: standard output as it is */
        return;
    if (!replaceable(path)) {
        if (freopen(path, "w", stdout) == NULL)
            cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", path, strerror(errno));
        return;
    }
    int fd;
    stdout_atomic = atomic_new(path, &fd);
    fflush(stdout);
    if (dup2(fd, STDOUT_FILENO) < 0)
        cdp_cli_die(CDP_EXIT_FAILURE, "%s: %s", path, strerror(errno));
    close(fd);
}

int
cdp_cli_finish_stdout(int status)
{
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int saved = errno;
    if (stdout_atomic && !failed && fsync(STDOUT_FILENO) != 0 && errno != EINVAL) {
        failed = 1;
        saved = errno;
    }
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (stdout_atomic) {
        struct atomic *a = stdout_atomic;
        stdout_atomic = NULL;
        char *copy = cdp_xstrdup(a->path);
        /* A run that finished, rejected input aside, has written its output whole. */
        bool whole = !failed && (status == CDP_EXIT_OK || status == CDP_EXIT_REJECTED);
        if (!atomic_finish(a, whole) && whole) {
            fprintf(stderr, "%s: %s: %s\n", progname, copy, strerror(errno));
            free(copy);
            return CDP_EXIT_FAILURE;
        }
        free(copy);
    }
    if (failed && saved != EPIPE) {
        fprintf(stderr, "%s: write error: %s\n", progname, strerror(saved));
        return CDP_EXIT_FAILURE;
    }
    return status;
}

void
cdp_cli_stdout_failed(void)
{
    if (errno == EPIPE)
        exit(CDP_EXIT_OK);
    fprintf(stderr, "%s: write error: %s\n", progname, strerror(errno));
    exit(CDP_EXIT_FAILURE);
}

bool
cdp_cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) == 1;
}
