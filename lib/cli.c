/*
 * cli.c - common options, diagnostics and the stdout check of every program.
 */
#include "cli.h"
#include "timeparse.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

int
cdp_cli_finish_stdout(int status)
{
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int saved = errno;
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        saved = errno;
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
