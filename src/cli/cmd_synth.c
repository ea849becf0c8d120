/* imbal synth: draw a long-tailed synthetic image set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal synth --out DIR [--classes K] [--max-per-class N] [--ratio R]\n"
    "                   [--profile exp|step] [--size S] [--test-per-class M] [--seed X]\n"
    "                   [--quality Q] [--json]\n"
    "\n"
    "Draws K classes of shapes (random position, scale, rotation, colours and noise) as JPEGs in\n"
    "ImageFolder layout: DIR/train/<class>/NNNNNN.jpg with a long-tailed profile and a balanced\n"
    "DIR/test/<class>/. Deterministic from the seed.\n"
    "\n"
    "  --out DIR             output directory (created; refused if it holds other files)\n"
    "  --classes K           number of classes, 1..1000 (default 10)\n"
    "  --max-per-class N     training images of the largest class (default 500)\n"
    "  --ratio R             imbalance ratio n_max/n_min, >= 1 (default 100)\n"
    "  --profile exp|step    exp: n_i = floor(N * R^(-i/(K-1))) (CIFAR-LT); step: the first\n"
    "                        half get N, the rest floor(N/R) (default exp)\n"
    "  --size S              image side in pixels, 8..1024 (default 32)\n"
    "  --test-per-class M    balanced test images per class (default 100; 0: none)\n"
    "  --seed X              seed (default 0)\n"
    "  --quality Q           JPEG quality 1..100 (default 95)\n"
    "  --json                print the per-class counts as JSON\n";

typedef struct synth_args {
    imbal_synth_options o;
    const char *profile;
    int json;
} synth_args;

/* CLI_EXIT_OK, CLI_EXIT_USAGE (after the message), or -1 after --help. */
static int parse_args(const char *cmd, int argc, char **argv, synth_args *a) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                             {"classes", required_argument, 0, 'k'},
                                             {"max-per-class", required_argument, 0, 'n'},
                                             {"ratio", required_argument, 0, 'r'},
                                             {"profile", required_argument, 0, 'p'},
                                             {"size", required_argument, 0, 's'},
                                             {"test-per-class", required_argument, 0, 't'},
                                             {"seed", required_argument, 0, 'S'},
                                             {"quality", required_argument, 0, 'q'},
                                             {"json", no_argument, 0, 'j'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    imbal_synth_options_default(&a->o);
    int c;
    int64_t v;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        switch (c) {
        case 'o':
            a->o.out_dir = optarg;
            break;
        case 'k':
            if (cli_parse_i64(cmd, "--classes", optarg, 1, 1000, &v)) return CLI_EXIT_USAGE;
            a->o.num_classes = (int)v;
            break;
        case 'n':
            if (cli_parse_i64(cmd, "--max-per-class", optarg, 1, 10000000, &a->o.max_per_class))
                return CLI_EXIT_USAGE;
            break;
        case 'r':
            if (cli_parse_double(cmd, "--ratio", optarg, 1.0, 1e12, &a->o.ratio))
                return CLI_EXIT_USAGE;
            break;
        case 'p':
            a->profile = optarg;
            break;
        case 's':
            if (cli_parse_i64(cmd, "--size", optarg, 8, 1024, &v)) return CLI_EXIT_USAGE;
            a->o.size = (int)v;
            break;
        case 't':
            if (cli_parse_i64(cmd, "--test-per-class", optarg, 0, 10000000, &a->o.test_per_class))
                return CLI_EXIT_USAGE;
            break;
        case 'S':
            if (cli_parse_u64(cmd, "--seed", optarg, &a->o.seed)) return CLI_EXIT_USAGE;
            break;
        case 'q':
            if (cli_parse_i64(cmd, "--quality", optarg, 1, 100, &v)) return CLI_EXIT_USAGE;
            a->o.quality = (int)v;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->o.out_dir) return cli_usage_error(cmd, "--out DIR is required");
    return CLI_EXIT_OK;
}

int cli_parse_only_synth(int argc, char **argv) {
    synth_args a;
    int rc = parse_args("synth", argc, argv, &a);
    if (rc != CLI_EXIT_OK || !a.profile) return rc < 0 ? CLI_EXIT_OK : rc;
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail("synth", NULL);
    if (imbal_profile_parse(ctx, a.profile, &a.o.profile) != IMBAL_OK)
        rc = cli_usage_error("synth", "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return rc;
}

int cmd_synth(int argc, char **argv) {
    const char *cmd = "synth";
    synth_args a;
    int prc = parse_args(cmd, argc, argv, &a);
    if (prc != CLI_EXIT_OK) return prc < 0 ? CLI_EXIT_OK : prc;
    imbal_synth_options o = a.o;
    const char *profile = a.profile;
    const int json = a.json;
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail(cmd, NULL);
    int rc = CLI_EXIT_FAIL;
    int64_t *counts = malloc(sizeof *counts * (size_t)o.num_classes);
    if (!counts) goto done;
    if (profile && imbal_profile_parse(ctx, profile, &o.profile) != IMBAL_OK) {
        rc = cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
        goto done;
    }
    if (imbal_profile_counts(ctx, o.profile, o.num_classes, o.max_per_class, o.ratio, counts) !=
            IMBAL_OK ||
        imbal_synth_write(ctx, &o) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
        goto done;
    }
    int64_t total = 0;
    for (int i = 0; i < o.num_classes; ++i)
        total += counts[i];
    if (json) {
        json_writer w;
        json_begin(&w, stdout);
        json_object_begin(&w);
        json_kv_string(&w, "out", o.out_dir);
        json_key(&w, "classes");
        json_array_begin(&w);
        char name[64];
        for (int i = 0; i < o.num_classes; ++i) {
            imbal_synth_class_name(ctx, i, o.num_classes, name, sizeof name);
            json_string(&w, name);
        }
        json_array_end(&w);
        json_kv_int_array(&w, "train_counts", counts, o.num_classes);
        json_kv_int(&w, "train_total", total);
        json_kv_int(&w, "test_per_class", o.test_per_class);
        json_kv_string(&w, "profile", imbal_profile_name(o.profile));
        json_kv_double(&w, "ratio", o.ratio);
        json_kv_int(&w, "size", o.size);
        json_kv_int(&w, "seed", (int64_t)o.seed);
        json_object_end(&w);
        json_end(&w);
    } else {
        printf("wrote %lld training images (%s profile, ratio %g, largest %lld, smallest %lld) and "
               "%lld test images per class to %s/{train,test}\n",
               (long long)total, imbal_profile_name(o.profile), o.ratio, (long long)counts[0],
               (long long)counts[o.num_classes - 1], (long long)o.test_per_class, o.out_dir);
    }
    rc = CLI_EXIT_OK;
done:
    free(counts);
    imbal_ctx_destroy(ctx);
    return rc;
}
