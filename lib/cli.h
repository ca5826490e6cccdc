/*
 * cli.h - what every cdp program shares on its command line: the common
 * options, the exit statuses, diagnostics, and the final check of stdout.
 */
#ifndef CDP_CLI_H
#define CDP_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CDP_VERSION "0.1.0"

/* Exit statuses, the same for every program. */
enum cdp_exit {
    CDP_EXIT_OK = 0,       /* success */
    CDP_EXIT_FAILURE = 1,  /* store or I/O failure; the failing batch is not committed */
    CDP_EXIT_USAGE = 2,    /* bad command line */
    CDP_EXIT_REJECTED = 3, /* finished, but some input was rejected */
};

/* The options every program takes; filled by cdp_cli_common_option(). */
struct cdp_common {
    const char *db;           /* -d/--db, else $CDP_DB, else ./cdp.db */
    const char *format;       /* -f/--format: what it writes (cdp-ingest: what it reads) */
    const char *input_format; /* -i/--input-format: what it reads */
    const char *output;       /* -o/--output FILE */
    int quiet;                /* -q */
    int verbose;              /* -v, may repeat */
    int64_t now;              /* --now TIME in ms, or the wall clock */
    bool now_given;
};

/* Long option values of the common options that have no short letter. */
enum { CDP_OPT_NOW = 0x1000, CDP_OPT_FIRST_PRIVATE = 0x1100 };

/* The common short options, to put at the front of a program's optstring. */
#define CDP_COMMON_SHORTOPTS "d:f:i:o:qvhV"

/* The common long options, to put at the front of a program's option table. */
#define CDP_COMMON_LONGOPTS                                                                        \
    {"db", required_argument, NULL, 'd'}, {"format", required_argument, NULL, 'f'},                \
        {"input-format", required_argument, NULL, 'i'}, {"output", required_argument, NULL, 'o'},  \
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},                    \
        {"now", required_argument, NULL, CDP_OPT_NOW}, {"help", no_argument, NULL, 'h'},           \
    {                                                                                              \
        "version", no_argument, NULL, 'V'                                                          \
    }

/* The help text of the common options, printed at the end of every usage. */
extern const char cdp_cli_common_help[];

/*
 * Sets the program name used in diagnostics, the defaults of the common
 * options (db from $CDP_DB, now from the clock), ignores SIGPIPE so that a
 * closed pipe is seen as EPIPE on write, and sets stdout fully buffered.
 * Call it first in main().
 */
void cdp_cli_init(const char *progname, struct cdp_common *common);

/*
 * Handles one option returned by getopt_long if it is a common one.
 * Returns 1 when handled, 0 when it is not a common option, and exits for
 * -h (calling usage(stdout) then exit 0), -V, and bad values (status 2).
 */
int cdp_cli_common_option(struct cdp_common *common, int opt, const char *arg,
                          void (*usage)(FILE *));

/* Reports the option getopt_long() could not take (it returned '?'), exit 2. */
_Noreturn void cdp_cli_unknown_option(char **argv);

/* The program name set by cdp_cli_init(). */
const char *cdp_cli_progname(void);

/* "prog: message\n" on stderr. */
void cdp_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "prog: message\n" on stderr, then exit(status). */
_Noreturn void cdp_cli_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "prog: message\nTry 'prog --help'.\n" on stderr, then exit(2). */
_Noreturn void cdp_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Output files that appear whole or not at all: the text goes to a
 * temporary file beside path (path.tmp.XXXXXX), which replaces path only
 * when committed; if the program ends without committing it (a failure, a
 * signal-free exit), the temporary file is removed.
 *
 *     FILE *f = cdp_cli_atomic_open(path);     dies when it cannot be made
 *     ... write to f ...
 *     if (!cdp_cli_atomic_commit(f)) ...        false: nothing replaced path
 *
 * cdp_cli_atomic_stdout(path) does the same for standard output (the -o
 * option; a NULL path leaves standard output alone); cdp_cli_finish_stdout()
 * then commits it when the status is 0 or 3 and removes it otherwise.
 */
FILE *cdp_cli_atomic_open(const char *path);
bool cdp_cli_atomic_commit(FILE *f);
void cdp_cli_atomic_stdout(const char *path);

/*
 * Flushes and closes stdout at the end of a program.  A write error is
 * reported and turns status into 1, except a broken pipe, which is quiet and
 * leaves the status as it is (a reader such as `head` closing early is normal).
 * Returns the status to exit with.
 */
int cdp_cli_finish_stdout(int status);

/*
 * Reports a failed write to stdout as above and exits: quietly with 0 on a
 * broken pipe, with 1 and a message otherwise.  For loops that check ferror().
 */
_Noreturn void cdp_cli_stdout_failed(void);

/* True when stderr is a terminal (progress lines are shown then). */
bool cdp_cli_stderr_is_tty(void);

#endif
