/* imbal chip: cut every image of a dataset into size x size tiles, written as an ImageFolder plus
 * a manifest (docs/pipeline.md, "Chipping"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal chip --in DIR_OR_MANIFEST --out DIR --size S [--overlap O] [--min-cover F]\n"
    "                  [--max-pixels N] [--skip-bad] [--threads T] [--json]\n"
    "\n"
    "Cuts every image into S x S tiles that keep the image's class, and writes them as lossless\n"
    "PNGs to DIR/<class>/<stem>_y<Y>_x<X>.png plus DIR/manifest.csv\n"
    "(path,label,source,x,y,width,height), which every imbal command reads as a dataset.\n"
    "Tiles step by S - O; the last tile on each axis is shifted inwards to end at the image's\n"
    "edge (no padding). Images smaller than S on a side give no tiles and are counted.\n"
    "\n"
    "  --in PATH         the dataset: an ImageFolder directory or a CSV manifest\n"
    "  --out DIR         where to write the chips and manifest.csv (created)\n"
    "  --size S          tile side in pixels (required)\n"
    "  --overlap O       pixels shared by neighbouring tiles, 0 <= O < S (default 0)\n"
    "  --min-cover F     keep the shifted edge tile only when at least a fraction F of it is not\n"
    "                    covered by the previous tile (0..1, default 0: always keep it)\n"
    "  --max-pixels N    refuse sources with more pixels (default 89478485)\n"
    "  --skip-bad        count and skip unreadable images instead of failing\n"
    "  --threads T       worker threads (default: all cores)\n"
    "  --json            print the summary as one JSON object\n";

enum {
    OPT_IN = 300,
    OPT_OUT,
    OPT_SIZE,
    OPT_OVERLAP,
    OPT_MIN_COVER,
    OPT_MAX_PIXELS,
    OPT_SKIP_BAD,
    OPT_THREADS
};

typedef struct chip_args {
    const char *in, *out;
    int64_t size, overlap, threads, max_pixels;
    double min_cover;
    int have_size, skip_bad, json;
} chip_args;

static int parse_args(const char *cmd, int argc, char **argv, chip_args *a) {
    static const struct option longopts[] = {{"in", required_argument, 0, OPT_IN},
                                             {"out", required_argument, 0, OPT_OUT},
                                             {"size", required_argument, 0, OPT_SIZE},
                                             {"overlap", required_argument, 0, OPT_OVERLAP},
                                             {"min-cover", required_argument, 0, OPT_MIN_COVER},
                                             {"max-pixels", required_argument, 0, OPT_MAX_PIXELS},
                                             {"skip-bad", no_argument, 0, OPT_SKIP_BAD},
                                             {"threads", required_argument, 0, OPT_THREADS},
                                             CLI_COMMON_OPTIONS,
                                             {0, 0, 0, 0}};
    int c, bad = 0;
    while (!bad && (c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        switch (c) {
        case CLI_OPT_HELP:
            fputs(usage, stdout);
            return -1;
        case CLI_OPT_JSON:
            a->json = 1;
            break;
        case OPT_IN:
            a->in = optarg;
            break;
        case OPT_OUT:
            a->out = optarg;
            break;
        case OPT_SIZE:
            bad = cli_parse_i64(cmd, "--size", optarg, 1, 1 << 15, &a->size);
            a->have_size = 1;
            break;
        case OPT_OVERLAP:
            bad = cli_parse_i64(cmd, "--overlap", optarg, 0, 1 << 15, &a->overlap);
            break;
        case OPT_MIN_COVER:
            bad = cli_parse_double(cmd, "--min-cover", optarg, 0.0, 1.0, &a->min_cover);
            break;
        case OPT_MAX_PIXELS:
            bad = cli_parse_i64(cmd, "--max-pixels", optarg, 1, INT64_MAX, &a->max_pixels);
            break;
        case OPT_SKIP_BAD:
            a->skip_bad = 1;
            break;
        case OPT_THREADS:
            bad = cli_parse_i64(cmd, "--threads", optarg, 1, 4096, &a->threads);
            break;
        default:
            bad = 1;
        }
    }
    if (bad) return CLI_EXIT_USAGE;
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->in) return cli_usage_error(cmd, "--in DIR_OR_MANIFEST is required");
    if (!a->out) return cli_usage_error(cmd, "--out DIR is required");
    if (!a->have_size) return cli_usage_error(cmd, "--size S is required");
    if (a->overlap >= a->size)
        return cli_usage_error(cmd, "--overlap %lld must be below --size %lld",
                               (long long)a->overlap, (long long)a->size);
    return CLI_EXIT_OK;
}

static void print_summary(const chip_args *a, const imbal_chip_stats *s) {
    if (a->json) {
        json_writer w;
        json_begin(&w, stdout);
        json_object_begin(&w);
        json_kv_string(&w, "in", a->in);
        json_kv_string(&w, "out", a->out);
        json_kv_int(&w, "size", a->size);
        json_kv_int(&w, "overlap", a->overlap);
        json_kv_double(&w, "min_cover", a->min_cover);
        json_kv_int(&w, "sources", s->sources);
        json_kv_int(&w, "chips", s->chips);
        json_kv_int(&w, "too_small", s->too_small);
        json_kv_int(&w, "bad", s->bad);
        json_object_end(&w);
        json_end(&w);
        return;
    }
    printf("wrote %lld chips of %lldx%lld (overlap %lld) to %s (manifest %s/manifest.csv)\n",
           (long long)s->chips, (long long)a->size, (long long)a->size, (long long)a->overlap,
           a->out, a->out);
    printf("sources %lld, too small %lld, unreadable skipped %lld\n", (long long)s->sources,
           (long long)s->too_small, (long long)s->bad);
}

/* Skipped files are reported on stderr as the library logs them. */
static void log_to_stderr(void *user, imbal_log_level level, const char *message) {
    (void)level;
    fprintf(stderr, "imbal %s: %s\n", (const char *)user, message);
}

int cmd_chip(int argc, char **argv) {
    const char *cmd = "chip";
    chip_args a = {0};
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc == -1) return CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK) return rc;
    imbal_ctx *ctx = NULL;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail(cmd, NULL);
    imbal_ctx_set_log(ctx, log_to_stderr, (void *)cmd, IMBAL_LOG_WARN);
    imbal_chip_config cfg;
    imbal_chip_config_default(&cfg);
    cfg.size = (int)a.size;
    cfg.overlap = (int)a.overlap;
    cfg.min_cover = a.min_cover;
    if (a.max_pixels) cfg.max_pixels = a.max_pixels;
    cfg.skip_bad = a.skip_bad;
    imbal_dataset *ds = NULL;
    imbal_chip_stats stats;
    if ((a.threads && imbal_ctx_set_threads(ctx, (int)a.threads) != IMBAL_OK) ||
        imbal_dataset_open(ctx, a.in, 0, &ds) != IMBAL_OK ||
        imbal_chip_dataset(ctx, ds, &cfg, a.out, &stats) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
    } else {
        print_summary(&a, &stats);
        rc = CLI_EXIT_OK;
    }
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    return rc;
}

int cli_parse_only_chip(int argc, char **argv) {
    chip_args a = {0};
    int rc = parse_args("chip", argc, argv, &a);
    return rc == -1 ? CLI_EXIT_OK : rc;
}
