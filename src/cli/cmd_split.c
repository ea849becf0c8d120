/* imbal split: stratified train/val/test split written as a CSV manifest. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal split DIR_OR_MANIFEST --out MANIFEST.csv [--train F] [--val F] [--test F]\n"
    "                   [--seed S] [--merge MAP] [--allow-empty] [--json]\n"
    "\n"
    "Splits every class separately (stratified) by a seeded permutation and writes a manifest of\n"
    "path,label,split rows. Every split with a non-zero fraction gets at least one sample of each\n"
    "class that has enough. Later commands fit rebalancing on the train split only.\n"
    "\n"
    "  --out FILE      the manifest to write (written to a temporary name, then renamed)\n"
    "  --train F       fraction for training (default 0.8 when no fraction is given)\n"
    "  --val F         fraction for validation (default 0.1)\n"
    "  --test F        fraction for testing (default 0.1)\n"
    "                  fractions not given share what the given ones leave; all sum to 1\n"
    "  --seed S        seed (default 0)\n"
    "  --merge MAP     merge classes first (old_name,new_name lines)\n"
    "  --allow-empty   keep classes without images\n"
    "  --json          print the per-class counts of each split as JSON\n";

/* Fractions not given share what the given ones leave; none given means 0.8/0.1/0.1. */
static int complete_fractions(const char *cmd, double frac[3]) {
    int given = 0;
    double sum = 0;
    for (int i = 0; i < 3; ++i)
        if (!isnan(frac[i])) ++given, sum += frac[i];
    if (given == 0) {
        frac[0] = 0.8, frac[1] = 0.1, frac[2] = 0.1;
    } else if (given < 3) {
        if (sum > 1.0 + 1e-9) return cli_usage_error(cmd, "the fractions given sum to %g > 1", sum);
        for (int i = 0; i < 3; ++i)
            if (isnan(frac[i])) frac[i] = (1.0 - sum) / (3 - given);
    }
    return CLI_EXIT_OK;
}

static void print_split(const cli_session *s, const char *out, uint64_t seed, const double *frac,
                        const int64_t *counts, int json) {
    int k = s->num_classes;
    const imbal_dataset *ds = s->src.ds;
    if (json) {
        json_writer w;
        json_begin(&w, stdout);
        json_object_begin(&w);
        json_kv_string(&w, "out", out);
        json_kv_int(&w, "seed", (int64_t)seed);
        json_kv_double_array(&w, "fractions", frac, 3);
        json_key(&w, "classes");
        json_array_begin(&w);
        for (int i = 0; i < k; ++i)
            json_string(&w, imbal_dataset_class_name(ds, i));
        json_array_end(&w);
        json_kv_int_array(&w, "train", counts, k);
        json_kv_int_array(&w, "val", counts + k, k);
        json_kv_int_array(&w, "test", counts + 2 * k, k);
        json_object_end(&w);
        json_end(&w);
        return;
    }
    printf("wrote %s (seed %llu, fractions %g/%g/%g)\n\n%5s  %-24s %8s %8s %8s\n", out,
           (unsigned long long)seed, frac[0], frac[1], frac[2], "id", "class", "train", "val",
           "test");
    for (int i = 0; i < k; ++i)
        printf("%5d  %-24.24s %8lld %8lld %8lld\n", i, imbal_dataset_class_name(ds, i),
               (long long)counts[i], (long long)counts[k + i], (long long)counts[2 * k + i]);
}

typedef struct split_args {
    cli_common_opts o;
    double frac[3]; /* train, val, test */
    uint64_t seed;
    const char *out, *path;
} split_args;

/* CLI_EXIT_OK, CLI_EXIT_USAGE (after the message), or -1 after --help. */
static int parse_args(const char *cmd, int argc, char **argv, split_args *a) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                             {"train", required_argument, 0, 't'},
                                             {"val", required_argument, 0, 'v'},
                                             {"test", required_argument, 0, 'T'},
                                             {"seed", required_argument, 0, 's'},
                                             {"merge", required_argument, 0, CLI_OPT_MERGE},
                                             {"allow-empty", no_argument, 0, CLI_OPT_ALLOW_EMPTY},
                                             CLI_COMMON_OPTIONS,
                                             {0, 0, 0, 0}};
    static const char *const frac_opt[3] = {"--train", "--val", "--test"};
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 3; ++i)
        a->frac[i] = NAN;
    int c;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        cli_option_result r = cli_common_option(c, usage, &a->o);
        if (r == CLI_OPTION_HELP) return -1;
        if (r == CLI_OPTION_TAKEN) continue;
        int fi = c == 't' ? 0 : c == 'v' ? 1 : c == 'T' ? 2 : -1;
        int bad = 0;
        if (fi >= 0)
            bad = cli_parse_double(cmd, frac_opt[fi], optarg, 0.0, 1.0, &a->frac[fi]);
        else if (c == 's')
            bad = cli_parse_u64(cmd, "--seed", optarg, &a->seed);
        else if (c == 'o')
            a->out = optarg;
        else
            bad = 1;
        if (bad) return CLI_EXIT_USAGE;
    }
    if (optind >= argc) return cli_usage_error(cmd, "missing the dataset (directory or manifest)");
    if (argc - optind > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (!a->out) return cli_usage_error(cmd, "--out MANIFEST.csv is required");
    if (complete_fractions(cmd, a->frac) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
    a->path = argv[optind];
    return CLI_EXIT_OK;
}

int cli_parse_only_split(int argc, char **argv) {
    split_args a;
    int rc = parse_args("split", argc, argv, &a);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int cmd_split(int argc, char **argv) {
    const char *cmd = "split";
    split_args a;
    int prc = parse_args(cmd, argc, argv, &a);
    if (prc != CLI_EXIT_OK) return prc < 0 ? CLI_EXIT_OK : prc;
    const cli_common_opts o = a.o;
    const double *frac = a.frac;
    const uint64_t seed = a.seed;
    const char *out = a.out;
    cli_session s;
    int rc = cli_session_open(cmd, a.path, &o, "all", &s);
    if (rc != CLI_EXIT_OK) return rc;
    int k = s.num_classes;
    int64_t *counts = calloc((size_t)k * 3, sizeof *counts);
    rc = CLI_EXIT_FAIL;
    if (!counts) goto done;
    if (imbal_dataset_split(s.ctx, s.src.ds, frac[0], frac[1], frac[2], seed) != IMBAL_OK ||
        imbal_dataset_write_manifest(s.ctx, s.src.ds, out) != IMBAL_OK) {
        rc = cli_fail(cmd, s.ctx);
        goto done;
    }
    for (int i = 0; i < 3; ++i)
        if (imbal_dataset_class_counts(s.ctx, s.src.ds, (imbal_split)i, counts + (size_t)i * k) !=
            IMBAL_OK) {
            rc = cli_fail(cmd, s.ctx);
            goto done;
        }
    print_split(&s, out, seed, frac, counts, o.json);
    rc = CLI_EXIT_OK;
done:
    free(counts);
    cli_session_close(&s);
    return rc;
}
