/* imbal command: what every subcommand shares: option parsing with clear errors, number parsing,
 * opening the data source (a directory, a manifest or --counts), and the error conventions.
 *
 * Exit codes: 0 success, 1 the work failed (the library's message is printed), 2 usage error. */
#ifndef IMBAL_CLI_COMMON_H
#define IMBAL_CLI_COMMON_H

#include <getopt.h>
#include <stdint.h>

#include "imbal/imbal.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

typedef int (*cli_command_fn)(int argc, char **argv);

/* Prints "imbal CMD: message" and a pointer to --help on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "imbal CMD: <the context's last error>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, imbal_ctx *ctx);

/* getopt_long with our own messages: returns the option, -1 at the end, or '?' after printing
 * an error about an unknown option or a missing argument. `shortopts` must start with ':'. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);
/* Resets getopt's state before a subcommand parses its arguments. */
void cli_getopt_reset(void);

/* Number parsing that accepts the whole string only; on error prints a usage error naming the
 * option and the text and returns nonzero. */
int cli_parse_i64(const char *cmd, const char *opt, const char *text, int64_t min, int64_t max,
                  int64_t *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t *out);
int cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max,
                     double *out);
/* A comma-separated list of numbers ("500,50,5"); *out is malloc'd. */
int cli_parse_i64_list(const char *cmd, const char *opt, const char *text, int64_t min,
                       int64_t **out, int *count);
int cli_parse_double_list(const char *cmd, const char *opt, const char *text, double min,
                          double **out, int *count);

/* Where a command's samples come from: a dataset path, or --counts. */
typedef struct cli_source {
    imbal_dataset *all; /* everything indexed */
    imbal_dataset *ds;  /* what the command works on: `all` or its selected split */
    const char *split;  /* "train", "val", "test" or "all": what ds holds */
} cli_source;

/* Opens `path` (directory or manifest) or builds an index from `counts_text`. Exactly one must be
 * given. split_text selects train|val|test|all; NULL means: the train split when the index has
 * split assignments (rebalancing is only ever fitted on training data), else all. */
/* merge_map (may be NULL) merges classes (old_name,new_name lines) before the split is taken. */
int cli_open_source(const char *cmd, imbal_ctx *ctx, const char *path, const char *counts_text,
                    const char *split_text, const char *merge_map, unsigned flags, cli_source *src);
void cli_close_source(cli_source *src);

/* Options shared by the commands that read a dataset, as long-only codes past the char range. */
enum {
    CLI_OPT_COUNTS = 256,
    CLI_OPT_SPLIT,
    CLI_OPT_MERGE,
    CLI_OPT_ALLOW_EMPTY,
    CLI_OPT_JSON,
    CLI_OPT_HELP = 'h'
};
#define CLI_SOURCE_OPTIONS                                                                         \
    {"counts", required_argument, 0, CLI_OPT_COUNTS},                                              \
        {"split", required_argument, 0, CLI_OPT_SPLIT},                                            \
        {"merge", required_argument, 0, CLI_OPT_MERGE}, {                                          \
        "allow-empty", no_argument, 0, CLI_OPT_ALLOW_EMPTY                                         \
    }
#define CLI_COMMON_OPTIONS                                                                         \
    {"json", no_argument, 0, CLI_OPT_JSON}, {                                                      \
        "help", no_argument, 0, CLI_OPT_HELP                                                       \
    }

typedef struct cli_common_opts {
    const char *counts, *split, *merge;
    unsigned flags; /* IMBAL_INDEX_* */
    int json;
} cli_common_opts;

typedef enum cli_option_result {
    CLI_OPTION_OTHER = 0, /* not a shared option: the command handles it */
    CLI_OPTION_TAKEN = 1,
    CLI_OPTION_HELP = 2 /* --help: usage was printed, the command returns CLI_EXIT_OK */
} cli_option_result;

cli_option_result cli_common_option(int c, const char *usage, cli_common_opts *o);

/* What a dataset command works with: a context, its source, and the class counts of src.ds. */
typedef struct cli_session {
    imbal_ctx *ctx;
    cli_source src;
    int64_t *counts;
    int num_classes;
} cli_session;

/* Creates the context, opens the source (split_override replaces o->split when not NULL) and
 * counts the classes; prints any error and returns the exit code. */
int cli_session_open(const char *cmd, const char *path, const cli_common_opts *o,
                     const char *split_override, cli_session *s);
void cli_session_close(cli_session *s);

/* The class names of a dataset as an array (pointers into the dataset); malloc'd. */
const char **cli_class_names(const imbal_dataset *ds);

/* The subcommands. */
int cmd_synth(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_weights(int argc, char **argv);
int cmd_split(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_loss(int argc, char **argv);
int cmd_augment(int argc, char **argv);
int cmd_chip(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_compare(int argc, char **argv);

#endif
