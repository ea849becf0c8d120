/* imbal split: stratified train/val/test split written as a CSV manifest. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_common.h"
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

int cmd_split(int argc, char **argv) {
    static const struct option longopts[] = {
        {"out", required_argument, 0, 'o'},   {"train", required_argument, 0, 't'},
        {"val", required_argument, 0, 'v'},   {"test", required_argument, 0, 'T'},
        {"seed", required_argument, 0, 's'},  {"merge", required_argument, 0, 'm'},
        {"allow-empty", no_argument, 0, 'e'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *cmd = "split", *out = NULL, *merge = NULL;
    double frac[3] = {NAN, NAN, NAN};
    static const char *const frac_opt[3] = {"--train", "--val", "--test"};
    uint64_t seed = 0;
    int json = 0, c;
    unsigned flags = 0;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        int fi = c == 't' ? 0 : c == 'v' ? 1 : c == 'T' ? 2 : -1;
        if (fi >= 0) {
            if (cli_parse_double(cmd, frac_opt[fi], optarg, 0.0, 1.0, &frac[fi]))
                return CLI_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 's':
            if (cli_parse_u64(cmd, "--seed", optarg, &seed)) return CLI_EXIT_USAGE;
            break;
        case 'm':
            merge = optarg;
            break;
        case 'e':
            flags |= IMBAL_INDEX_ALLOW_EMPTY_CLASSES;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) return cli_usage_error(cmd, "missing the dataset (directory or manifest)");
    if (argc - optind > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (!out) return cli_usage_error(cmd, "--out MANIFEST.csv is required");
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
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail(cmd, NULL);
    cli_source src;
    int rc = cli_open_source(cmd, ctx, argv[optind], NULL, "all", merge, flags, &src);
    if (rc != CLI_EXIT_OK) {
        imbal_ctx_destroy(ctx);
        return rc;
    }
    int k = imbal_dataset_num_classes(src.ds);
    int64_t *counts = calloc((size_t)k * 3, sizeof *counts);
    rc = CLI_EXIT_FAIL;
    if (!counts) goto done;
    if (imbal_dataset_split(ctx, src.ds, frac[0], frac[1], frac[2], seed) != IMBAL_OK ||
        imbal_dataset_write_manifest(ctx, src.ds, out) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
        goto done;
    }
    for (int s = 0; s < 3; ++s)
        if (imbal_dataset_class_counts(ctx, src.ds, (imbal_split)s, counts + (size_t)s * k) !=
            IMBAL_OK) {
            rc = cli_fail(cmd, ctx);
            goto done;
        }
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
            json_string(&w, imbal_dataset_class_name(src.ds, i));
        json_array_end(&w);
        json_kv_int_array(&w, "train", counts, k);
        json_kv_int_array(&w, "val", counts + k, k);
        json_kv_int_array(&w, "test", counts + 2 * k, k);
        json_object_end(&w);
        json_end(&w);
    } else {
        printf("wrote %s (seed %llu, fractions %g/%g/%g)\n\n%5s  %-24s %8s %8s %8s\n", out,
               (unsigned long long)seed, frac[0], frac[1], frac[2], "id", "class", "train", "val",
               "test");
        for (int i = 0; i < k; ++i)
            printf("%5d  %-24.24s %8lld %8lld %8lld\n", i, imbal_dataset_class_name(src.ds, i),
                   (long long)counts[i], (long long)counts[k + i], (long long)counts[2 * k + i]);
    }
    rc = CLI_EXIT_OK;
done:
    free(counts);
    cli_close_source(&src);
    imbal_ctx_destroy(ctx);
    return rc;
}
