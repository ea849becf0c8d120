/* imbal command: shared option parsing, number parsing and data-source handling. */
#include "cli_common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "imbal %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'imbal %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *cmd, imbal_ctx *ctx) {
    fprintf(stderr, "imbal %s: %s\n", cmd, imbal_ctx_error(ctx));
    return CLI_EXIT_FAIL;
}

void cli_getopt_reset(void) {
    optind = 1;
    opterr = 0;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts) {
    int prev = optind;
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == '?' || c == ':') {
        /* getopt has advanced optind past the culprit; argv[optind - 1] is the word it choked on
         * (for a missing argument it is the option itself). */
        const char *word = (optind - 1 >= prev && optind - 1 < argc) ? argv[optind - 1] : "?";
        if (c == ':')
            cli_usage_error(cmd, "option '%s' needs a value", word);
        else if (optopt && strncmp(word, "--", 2) != 0)
            cli_usage_error(cmd, "unknown option '-%c'", optopt);
        else
            cli_usage_error(cmd, "unknown option '%s'", word);
        return '?';
    }
    return c;
}

int cli_parse_i64(const char *cmd, const char *opt, const char *text, int64_t min, int64_t max,
                  int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max) {
        cli_usage_error(cmd, "%s expects an integer in [%lld, %lld], got '%s'", opt, (long long)min,
                        (long long)max, text);
        return 1;
    }
    *out = v;
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (!*text || *end || errno || text[0] == '-') {
        cli_usage_error(cmd, "%s expects a non-negative integer, got '%s'", opt, text);
        return 1;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max,
                     double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v) || v < min || v > max) {
        cli_usage_error(cmd, "%s expects a number in [%g, %g], got '%s'", opt, min, max, text);
        return 1;
    }
    *out = v;
    return 0;
}

/* Splits a comma-separated list into a malloc'd copy whose commas are NULs; empty items (",,",
 * a trailing comma) are kept so they can be reported. Returns the item count, 0 on OOM. */
static int split_list(const char *text, char **copy) {
    *copy = strdup(text);
    if (!*copy) return 0;
    int n = 1;
    for (char *p = *copy; *p; ++p)
        if (*p == ',') {
            *p = '\0';
            ++n;
        }
    return n;
}

/* Advances to the next NUL-separated item of a split_list copy. */
static const char *next_item(const char *item) {
    return item + strlen(item) + 1;
}

/* Parses every item of a comma-separated list into a malloc'd array of `size`-byte elements with
 * parse_item (which reports its own errors); shared by the two typed list parsers. `min` travels
 * as a double, exact for the integer bounds used (below 2^53 in magnitude). */
typedef int (*list_item_fn)(const char *cmd, const char *opt, const char *item, double min,
                            void *slot);

static int parse_list(const char *cmd, const char *opt, const char *text, double min, size_t size,
                      list_item_fn parse_item, void **out, int *count) {
    char *copy;
    int n = split_list(text, &copy);
    char *v = n ? malloc(size * (size_t)n) : NULL;
    if (!v) {
        free(copy);
        return cli_usage_error(cmd, "out of memory"), 1;
    }
    const char *item = copy;
    for (int i = 0; i < n; ++i, item = next_item(item)) {
        if (parse_item(cmd, opt, item, min, v + size * (size_t)i)) {
            free(copy), free(v);
            return 1;
        }
    }
    free(copy);
    *out = v;
    *count = n;
    return 0;
}

static int i64_item(const char *cmd, const char *opt, const char *item, double min, void *slot) {
    return cli_parse_i64(cmd, opt, item, (int64_t)min, INT64_MAX, slot);
}

static int double_item(const char *cmd, const char *opt, const char *item, double min, void *slot) {
    return cli_parse_double(cmd, opt, item, min, INFINITY, slot);
}

int cli_parse_i64_list(const char *cmd, const char *opt, const char *text, int64_t min,
                       int64_t **out, int *count) {
    void *v;
    int rc = parse_list(cmd, opt, text, (double)min, sizeof **out, i64_item, &v, count);
    if (!rc) *out = v;
    return rc;
}

int cli_parse_double_list(const char *cmd, const char *opt, const char *text, double min,
                          double **out, int *count) {
    void *v;
    int rc = parse_list(cmd, opt, text, min, sizeof **out, double_item, &v, count);
    if (!rc) *out = v;
    return rc;
}

static int has_splits(const imbal_dataset *ds) {
    const int8_t *s = imbal_dataset_splits(ds);
    int64_t n = imbal_dataset_size(ds);
    for (int64_t i = 0; i < n; ++i)
        if (s[i] != IMBAL_SPLIT_NONE) return 1;
    return 0;
}

int cli_open_source(const char *cmd, imbal_ctx *ctx, const char *path, const char *counts_text,
                    const char *split_text, const char *merge_map, unsigned flags,
                    cli_source *src) {
    memset(src, 0, sizeof *src);
    if (path && counts_text)
        return cli_usage_error(cmd, "give either a dataset path or --counts, not both");
    if (!path && !counts_text)
        return cli_usage_error(cmd,
                               "missing the dataset (a directory, a CSV manifest or --counts)");
    imbal_split want = IMBAL_SPLIT_NONE;
    int explicit_split = 0;
    if (split_text) {
        explicit_split = 1;
        if (strcmp(split_text, "train") == 0)
            want = IMBAL_SPLIT_TRAIN;
        else if (strcmp(split_text, "val") == 0)
            want = IMBAL_SPLIT_VAL;
        else if (strcmp(split_text, "test") == 0)
            want = IMBAL_SPLIT_TEST;
        else if (strcmp(split_text, "all") != 0)
            return cli_usage_error(cmd, "--split expects train, val, test or all, got '%s'",
                                   split_text);
    }
    if (counts_text) {
        int64_t *counts;
        int k;
        if (cli_parse_i64_list(cmd, "--counts", counts_text, 0, &counts, &k)) return CLI_EXIT_USAGE;
        imbal_status st = imbal_dataset_from_counts(ctx, counts, k, NULL, &src->all);
        free(counts);
        if (st != IMBAL_OK) return cli_fail(cmd, ctx);
    } else if (imbal_dataset_open(ctx, path, flags, &src->all) != IMBAL_OK) {
        return cli_fail(cmd, ctx);
    }
    if (merge_map && imbal_dataset_merge_classes(ctx, src->all, merge_map) != IMBAL_OK) {
        int rc = cli_fail(cmd, ctx);
        cli_close_source(src);
        return rc;
    }
    src->ds = src->all;
    src->split = "all";
    int split_present = has_splits(src->all);
    if (!explicit_split && split_present) want = IMBAL_SPLIT_TRAIN;
    if (want != IMBAL_SPLIT_NONE) {
        if (!split_present) {
            cli_close_source(src);
            return cli_usage_error(cmd, "--split %s: the dataset has no split column", split_text);
        }
        if (imbal_dataset_subset(ctx, src->all, want, &src->ds) != IMBAL_OK) {
            int rc = cli_fail(cmd, ctx);
            cli_close_source(src);
            return rc;
        }
        src->split = imbal_split_name(want);
    }
    return CLI_EXIT_OK;
}

void cli_close_source(cli_source *src) {
    if (src->ds && src->ds != src->all) imbal_dataset_destroy(src->ds);
    imbal_dataset_destroy(src->all);
    memset(src, 0, sizeof *src);
}

const char **cli_class_names(const imbal_dataset *ds) {
    int k = imbal_dataset_num_classes(ds);
    const char **names = malloc(sizeof *names * (size_t)(k > 0 ? k : 1));
    if (!names) return NULL;
    for (int c = 0; c < k; ++c)
        names[c] = imbal_dataset_class_name(ds, c);
    return names;
}

cli_option_result cli_common_option(int c, const char *usage, cli_common_opts *o) {
    switch (c) {
    case CLI_OPT_COUNTS:
        o->counts = optarg;
        return CLI_OPTION_TAKEN;
    case CLI_OPT_SPLIT:
        o->split = optarg;
        return CLI_OPTION_TAKEN;
    case CLI_OPT_MERGE:
        o->merge = optarg;
        return CLI_OPTION_TAKEN;
    case CLI_OPT_ALLOW_EMPTY:
        o->flags |= IMBAL_INDEX_ALLOW_EMPTY_CLASSES;
        return CLI_OPTION_TAKEN;
    case CLI_OPT_JSON:
        o->json = 1;
        return CLI_OPTION_TAKEN;
    case CLI_OPT_HELP:
        fputs(usage, stdout);
        return CLI_OPTION_HELP;
    default:
        return CLI_OPTION_OTHER;
    }
}

int cli_session_open(const char *cmd, const char *path, const cli_common_opts *o,
                     const char *split_override, cli_session *s) {
    memset(s, 0, sizeof *s);
    if (imbal_ctx_create(&s->ctx) != IMBAL_OK) return cli_fail(cmd, NULL);
    int rc =
        cli_open_source(cmd, s->ctx, path, o->counts, split_override ? split_override : o->split,
                        o->merge, o->flags, &s->src);
    if (rc != CLI_EXIT_OK) {
        cli_session_close(s);
        return rc;
    }
    s->num_classes = imbal_dataset_num_classes(s->src.ds);
    s->counts = calloc((size_t)s->num_classes + 1, sizeof *s->counts);
    if (!s->counts) {
        cli_session_close(s);
        fprintf(stderr, "imbal %s: out of memory\n", cmd);
        return CLI_EXIT_FAIL;
    }
    if (imbal_dataset_class_counts(s->ctx, s->src.ds, IMBAL_SPLIT_NONE, s->counts) != IMBAL_OK) {
        rc = cli_fail(cmd, s->ctx);
        cli_session_close(s);
        return rc;
    }
    return CLI_EXIT_OK;
}

void cli_session_close(cli_session *s) {
    if (s->src.all) cli_close_source(&s->src);
    free(s->counts);
    imbal_ctx_destroy(s->ctx);
    memset(s, 0, sizeof *s);
}
