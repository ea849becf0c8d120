/* imbal stats: class counts and imbalance of a dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal stats (DIR_OR_MANIFEST | --counts N1,N2,...) [--split train|val|test|all]\n"
    "                   [--beta B] [--merge MAP] [--allow-empty] [--json]\n"
    "\n"
    "Counts each class and reports the total and the imbalance ratio (largest/smallest class).\n"
    "\n"
    "  --counts LIST     class counts instead of a dataset (e.g. 500,50,5)\n"
    "  --split S         which split of a manifest with a split column (default: train if\n"
    "                    there is one, else all)\n"
    "  --beta B          also give each class's effective number (1-B^n)/(1-B), B in [0,1)\n"
    "  --merge MAP       merge classes first by a map of old_name,new_name lines\n"
    "  --allow-empty     keep classes without images instead of failing\n"
    "  --json            print {\"classes\", \"counts\", \"total\", \"imbalance_ratio\", ...}\n";

static void print_table(const cli_source *src, const char *source, const int64_t *counts,
                        const imbal_class_stats *st, const double *eff) {
    int k = st->num_classes;
    printf("dataset: %s (split: %s)\n", source, src->split);
    printf("classes: %d, samples: %lld, imbalance ratio: %.4g (largest '%s' %lld, smallest '%s' "
           "%lld)\n\n",
           k, (long long)st->total, st->imbalance_ratio,
           imbal_dataset_class_name(src->ds, st->max_class), (long long)st->max_count,
           imbal_dataset_class_name(src->ds, st->min_class), (long long)st->min_count);
    int width = 5;
    for (int c = 0; c < k; ++c) {
        int len = (int)strlen(imbal_dataset_class_name(src->ds, c));
        if (len > width) width = len;
    }
    if (width > 40) width = 40;
    printf("%5s  %-*s %10s %8s%s  \n", "id", width, "class", "count", "share",
           eff ? "   eff.num" : "");
    for (int c = 0; c < k; ++c) {
        double share = st->total ? (double)counts[c] / (double)st->total : 0.0;
        printf("%5d  %-*.*s %10lld %7.2f%%", c, width, width, imbal_dataset_class_name(src->ds, c),
               (long long)counts[c], 100.0 * share);
        if (eff) printf(" %10.2f", eff[c]);
        int bar = st->max_count ? (int)(30.0 * (double)counts[c] / (double)st->max_count + 0.5) : 0;
        printf("  ");
        for (int b = 0; b < bar; ++b)
            putchar('#');
        putchar('\n');
    }
}

static void print_json(const cli_source *src, const char *source, const int64_t *counts,
                       const imbal_class_stats *st, const double *eff, double beta) {
    json_writer w;
    json_begin(&w, stdout);
    json_object_begin(&w);
    json_kv_string(&w, "source", source);
    json_kv_string(&w, "split", src->split);
    json_key(&w, "classes");
    json_array_begin(&w);
    for (int c = 0; c < st->num_classes; ++c)
        json_string(&w, imbal_dataset_class_name(src->ds, c));
    json_array_end(&w);
    json_kv_int_array(&w, "counts", counts, st->num_classes);
    json_kv_int(&w, "total", st->total);
    json_kv_int(&w, "num_classes", st->num_classes);
    json_kv_double(&w, "imbalance_ratio", st->imbalance_ratio);
    json_kv_int(&w, "max_count", st->max_count);
    json_kv_int(&w, "min_count", st->min_count);
    json_kv_string(&w, "max_class", imbal_dataset_class_name(src->ds, st->max_class));
    json_kv_string(&w, "min_class", imbal_dataset_class_name(src->ds, st->min_class));
    if (eff) {
        json_kv_double(&w, "beta", beta);
        json_kv_double_array(&w, "effective_number", eff, st->num_classes);
    }
    json_object_end(&w);
    json_end(&w);
}

typedef struct stats_args {
    cli_common_opts o;
    double beta; /* < 0: no effective numbers */
    const char *path;
} stats_args;

/* CLI_EXIT_OK, CLI_EXIT_USAGE (after the message), or -1 after --help. */
static int parse_args(const char *cmd, int argc, char **argv, stats_args *a) {
    static const struct option longopts[] = {
        CLI_SOURCE_OPTIONS, {"beta", required_argument, 0, 'b'}, CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->beta = -1;
    int c;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        cli_option_result r = cli_common_option(c, usage, &a->o);
        if (r == CLI_OPTION_HELP) return -1;
        if (r == CLI_OPTION_TAKEN) continue;
        if (c != 'b' || cli_parse_double(cmd, "--beta", optarg, 0.0, 0.999999999999, &a->beta))
            return CLI_EXIT_USAGE;
    }
    if (argc - optind > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    a->path = optind < argc ? argv[optind] : NULL;
    return CLI_EXIT_OK;
}

int cli_parse_only_stats(int argc, char **argv) {
    stats_args a;
    int rc = parse_args("stats", argc, argv, &a);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int cmd_stats(int argc, char **argv) {
    const char *cmd = "stats";
    stats_args a;
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    cli_session s;
    rc = cli_session_open(cmd, a.path, &a.o, NULL, &s);
    if (rc != CLI_EXIT_OK) return rc;
    int k = s.num_classes;
    double *eff = a.beta >= 0 ? calloc((size_t)k, sizeof *eff) : NULL;
    imbal_class_stats st;
    rc = CLI_EXIT_FAIL;
    if (a.beta >= 0 && !eff) goto done;
    if (imbal_class_stats_compute(s.ctx, s.counts, k, &st) != IMBAL_OK) {
        rc = cli_fail(cmd, s.ctx);
        goto done;
    }
    for (int i = 0; eff && i < k; ++i)
        eff[i] = imbal_effective_number(s.counts[i], a.beta);
    const char *source = a.path ? a.path : "--counts";
    if (a.o.json)
        print_json(&s.src, source, s.counts, &st, eff, a.beta);
    else
        print_table(&s.src, source, s.counts, &st, eff);
    rc = CLI_EXIT_OK;
done:
    free(eff);
    cli_session_close(&s);
    return rc;
}
