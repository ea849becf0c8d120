/* imbal weights: class weights by a named scheme. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal weights (DIR_OR_MANIFEST | --counts N1,N2,...) --scheme NAME [--beta B]\n"
    "                     [--power P] [--manual SPEC] [--zero-empty] [--split S] [--merge MAP]\n"
    "                     [--allow-empty] [--json]\n"
    "\n"
    "Computes one weight per class (docs/weights.md has the formulas). With n_c samples in\n"
    "class c, N in all and K classes:\n"
    "  none            1\n"
    "  inverse         N / n_c\n"
    "  balanced        N / (K n_c)              (scikit-learn's compute_class_weight)\n"
    "  one-minus-freq  1 - n_c / N\n"
    "  ins             1 / n_c                  normalised to sum K\n"
    "  isns            1 / sqrt(n_c)            normalised to sum K\n"
    "  ens             (1-B) / (1-B^n_c)        normalised to sum K (Cui et al. 2019)\n"
    "  manual          from --manual\n"
    "\n"
    "  --scheme NAME     one of the above (required)\n"
    "  --beta B          ens: B in [0,1) (default 0.999)\n"
    "  --power P         raise every weight to P >= 0 to soften it (default 1)\n"
    "  --manual SPEC     manual weights: 2,1,0.5 (class-id order), cat=2,dog=0.5, or @FILE of\n"
    "                    name_or_id,weight lines\n"
    "  --zero-empty      give a class with no samples weight 0 instead of failing\n"
    "  --counts LIST     class counts instead of a dataset (e.g. 500,50,5)\n"
    "  --split S         train|val|test|all (default: train if the manifest has splits)\n"
    "  --merge MAP       merge classes first (old_name,new_name lines)\n"
    "  --allow-empty     index classes without images (use with --zero-empty)\n"
    "  --json            print {\"scheme\", \"classes\", \"counts\", \"weights\", ...}\n";

/* Parses one weights-specific option into opts; returns nonzero on a bad value. */
static int weights_option(int c, imbal_weight_options *opts, const char **scheme,
                          const char **manual) {
    const char *cmd = "weights";
    switch (c) {
    case 'x':
        *scheme = optarg;
        return 0;
    case 'm':
        *manual = optarg;
        return 0;
    case 'z':
        opts->zero_weight_for_empty = 1;
        return 0;
    case 'b':
        return cli_parse_double(cmd, "--beta", optarg, 0.0, 0.999999999999, &opts->beta);
    case 'p':
        return cli_parse_double(cmd, "--power", optarg, 0.0, 1e6, &opts->power);
    default:
        return 1;
    }
}

static void print_weights(const cli_session *s, const imbal_weight_options *opts,
                          const char **names, const double *weights, int json) {
    int k = s->num_classes;
    if (json) {
        json_writer w;
        json_begin(&w, stdout);
        json_object_begin(&w);
        json_kv_string(&w, "scheme", imbal_weight_scheme_name(opts->scheme));
        json_kv_double(&w, "beta", opts->beta);
        json_kv_double(&w, "power", opts->power);
        json_kv_string(&w, "split", s->src.split);
        json_key(&w, "classes");
        json_array_begin(&w);
        for (int i = 0; i < k; ++i)
            json_string(&w, names[i]);
        json_array_end(&w);
        json_kv_int_array(&w, "counts", s->counts, k);
        json_kv_double_array(&w, "weights", weights, k);
        json_object_end(&w);
        json_end(&w);
        return;
    }
    printf("scheme: %s", imbal_weight_scheme_name(opts->scheme));
    if (opts->scheme == IMBAL_WEIGHTS_ENS) printf(" (beta %g)", opts->beta);
    if (opts->power != 1.0) printf(", power %g", opts->power);
    printf(", split: %s\n\n%5s  %-24s %10s %14s\n", s->src.split, "id", "class", "count", "weight");
    for (int i = 0; i < k; ++i)
        printf("%5d  %-24.24s %10lld %14.6g\n", i, names[i], (long long)s->counts[i], weights[i]);
}

typedef struct weights_args {
    cli_common_opts o;
    imbal_weight_options opts; /* the scheme parsed */
    const char *manual, *path;
} weights_args;

/* CLI_EXIT_OK, CLI_EXIT_USAGE (after the message), or -1 after --help. */
static int parse_args(const char *cmd, int argc, char **argv, weights_args *a) {
    static const struct option longopts[] = {CLI_SOURCE_OPTIONS,
                                             {"scheme", required_argument, 0, 'x'},
                                             {"beta", required_argument, 0, 'b'},
                                             {"power", required_argument, 0, 'p'},
                                             {"manual", required_argument, 0, 'm'},
                                             {"zero-empty", no_argument, 0, 'z'},
                                             CLI_COMMON_OPTIONS,
                                             {0, 0, 0, 0}};
    const char *scheme = NULL;
    memset(a, 0, sizeof *a);
    imbal_weight_options_default(&a->opts);
    int c;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        cli_option_result r = cli_common_option(c, usage, &a->o);
        if (r == CLI_OPTION_HELP) return -1;
        if (r == CLI_OPTION_OTHER && weights_option(c, &a->opts, &scheme, &a->manual))
            return CLI_EXIT_USAGE;
    }
    if (argc - optind > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (!scheme) return cli_usage_error(cmd, "--scheme NAME is required");
    imbal_ctx *pctx;
    if (imbal_ctx_create(&pctx) != IMBAL_OK) return cli_fail(cmd, NULL);
    imbal_status parsed = imbal_weight_scheme_parse(pctx, scheme, &a->opts.scheme);
    if (parsed != IMBAL_OK) cli_usage_error(cmd, "%s", imbal_ctx_error(pctx));
    imbal_ctx_destroy(pctx);
    if (parsed != IMBAL_OK) return CLI_EXIT_USAGE;
    if ((a->opts.scheme == IMBAL_WEIGHTS_MANUAL) != (a->manual != NULL))
        return cli_usage_error(cmd, a->manual ? "--manual goes with --scheme manual"
                                              : "--scheme manual needs --manual SPEC");
    a->path = optind < argc ? argv[optind] : NULL;
    return CLI_EXIT_OK;
}

int cli_parse_only_weights(int argc, char **argv) {
    weights_args a;
    int rc = parse_args("weights", argc, argv, &a);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int cmd_weights(int argc, char **argv) {
    const char *cmd = "weights";
    weights_args a;
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    imbal_weight_options opts = a.opts; /* .manual is set below once the classes are known */
    const char *manual = a.manual;
    const cli_common_opts o = a.o;
    cli_session s;
    rc = cli_session_open(cmd, a.path, &o, NULL, &s);
    if (rc != CLI_EXIT_OK) return rc;
    int k = s.num_classes;
    double *weights = calloc((size_t)k, sizeof *weights), *manual_w = NULL;
    const char **names = cli_class_names(s.src.ds);
    rc = CLI_EXIT_FAIL;
    if (!weights || !names) goto done;
    if (manual) {
        manual_w = calloc((size_t)k, sizeof *manual_w);
        if (!manual_w) goto done;
        if (imbal_weights_parse_manual(s.ctx, manual, names, k, manual_w) != IMBAL_OK) {
            rc = cli_fail(cmd, s.ctx);
            goto done;
        }
        opts.manual = manual_w;
    }
    if (imbal_class_weights(s.ctx, s.counts, k, names, &opts, weights) != IMBAL_OK) {
        rc = cli_fail(cmd, s.ctx);
        goto done;
    }
    print_weights(&s, &opts, names, weights, o.json);
    rc = CLI_EXIT_OK;
done:
    free(weights);
    free(manual_w);
    free(names);
    cli_session_close(&s);
    return rc;
}
