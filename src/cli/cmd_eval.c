/* imbal eval: evaluate a trained run on a dataset; writes report.json, report.md and pictures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal eval --model RUN_DIR --data DIR_OR_MANIFEST [--out DIR] [--device D]\n"
    "                  [--batch B] [--beta B] [--logit-adjust T] [--threshold P]\n"
    "                  [--threads T] [--json]\n"
    "\n"
    "Runs the run's model over every image of the data and writes report.json (confusion\n"
    "matrix, per-class precision/recall/F1/F-beta, accuracy, balanced accuracy, macro-F1,\n"
    "G-mean, many/medium/few-shot accuracy, top-5), report.md, confusion.png,\n"
    "confusion_normalized.png and recall_vs_count.png into DIR (default RUN_DIR).\n"
    "\n"
    "  --beta B          F-beta's beta (default 0.5)\n"
    "  --logit-adjust T  post-hoc logit adjustment tau (default: the run's own)\n"
    "  --threshold P     two-class runs: predict the positive class when its probability\n"
    "                    >= P (default: the threshold the run chose, if any; 0: argmax)\n"
    "  --json            print report.json's content\n";

enum {
    OPT_MODEL = 300,
    OPT_DATA,
    OPT_OUT,
    OPT_DEVICE,
    OPT_BATCH,
    OPT_BETA,
    OPT_ADJ,
    OPT_THREADS,
    OPT_THRESHOLD
};

static int print_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(fp);
    return 0;
}

static void print_summary(const imbal_metrics_report *r, const char *out) {
    printf("samples %lld: accuracy %.4f, balanced accuracy %.4f, macro-F1 %.4f, G-mean %.4f\n",
           (long long)r->total, r->accuracy, r->balanced_accuracy, r->macro_f1, r->gmean);
    if (!isnan(r->many_shot) || !isnan(r->medium_shot) || !isnan(r->few_shot))
        printf("many-shot %.4f, medium-shot %.4f, few-shot %.4f\n", r->many_shot, r->medium_shot,
               r->few_shot);
    printf("report: %s/report.md\n", out);
}

typedef struct eval_args {
    imbal_eval_config cfg;
    const char *device;
    int json;
} eval_args;

/* CLI_EXIT_OK, CLI_EXIT_USAGE (after the message), or -1 after --help. */
static int parse_args(const char *cmd, int argc, char **argv, eval_args *a) {
    static const struct option longopts[] = {{"model", required_argument, 0, OPT_MODEL},
                                             {"data", required_argument, 0, OPT_DATA},
                                             {"out", required_argument, 0, OPT_OUT},
                                             {"device", required_argument, 0, OPT_DEVICE},
                                             {"batch", required_argument, 0, OPT_BATCH},
                                             {"beta", required_argument, 0, OPT_BETA},
                                             {"logit-adjust", required_argument, 0, OPT_ADJ},
                                             {"threads", required_argument, 0, OPT_THREADS},
                                             {"threshold", required_argument, 0, OPT_THRESHOLD},
                                             CLI_COMMON_OPTIONS,
                                             {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    imbal_eval_config_default(&a->cfg);
    a->device = "auto";
    int bad = 0, c;
    int64_t v = 0;
    double d = 0;
    while (!bad && (c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        switch (c) {
        case CLI_OPT_HELP:
            fputs(usage, stdout);
            return -1;
        case CLI_OPT_JSON:
            a->json = 1;
            break;
        case OPT_MODEL:
            a->cfg.run_dir = optarg;
            break;
        case OPT_DATA:
            a->cfg.data = optarg;
            break;
        case OPT_OUT:
            a->cfg.out_dir = optarg;
            break;
        case OPT_DEVICE:
            a->device = optarg;
            break;
        case OPT_BATCH:
            bad = cli_parse_i64(cmd, "--batch", optarg, 1, 65536, &v);
            a->cfg.batch = (int)v;
            break;
        case OPT_BETA:
            bad = cli_parse_double(cmd, "--beta", optarg, 1e-6, 1e6, &a->cfg.beta);
            break;
        case OPT_ADJ:
            bad = cli_parse_double(cmd, "--logit-adjust", optarg, 0, 10, &d);
            a->cfg.logit_adjust = (float)d;
            break;
        case OPT_THRESHOLD:
            bad = cli_parse_double(cmd, "--threshold", optarg, 0, 0.999999, &a->cfg.threshold);
            break;
        case OPT_THREADS:
            bad = cli_parse_i64(cmd, "--threads", optarg, 1, 1024, &v);
            a->cfg.threads = (int)v;
            break;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (bad) return CLI_EXIT_USAGE;
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->cfg.run_dir || !a->cfg.data)
        return cli_usage_error(cmd, "--model RUN_DIR and --data are required");
    return CLI_EXIT_OK;
}

int cli_parse_only_eval(int argc, char **argv) {
    eval_args a;
    int rc = parse_args("eval", argc, argv, &a);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail("eval", NULL);
    if (imbal_device_parse(ctx, a.device, &a.cfg.device) != IMBAL_OK)
        rc = cli_usage_error("eval", "--device: %s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    const char *cmd = "eval";
    eval_args a;
    int prc = parse_args(cmd, argc, argv, &a);
    if (prc != CLI_EXIT_OK) return prc < 0 ? CLI_EXIT_OK : prc;
    imbal_eval_config cfg = a.cfg;
    const char *device = a.device;
    const int json = a.json;
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) {
        fprintf(stderr, "imbal eval: %s\n", imbal_ctx_error(NULL));
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_OK;
    imbal_metrics_report rep;
    if (imbal_device_parse(ctx, device, &cfg.device) != IMBAL_OK) {
        rc = cli_usage_error(cmd, "--device: %s", imbal_ctx_error(ctx));
    } else if (imbal_eval(ctx, &cfg, &rep) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
    } else {
        const char *out = cfg.out_dir ? cfg.out_dir : cfg.run_dir;
        char path[4096];
        snprintf(path, sizeof path, "%s/report.json", out);
        if (json ? print_file(path) != 0 : (print_summary(&rep, out), 0)) {
            fprintf(stderr, "imbal eval: cannot read back '%s'\n", path);
            rc = CLI_EXIT_FAIL;
        }
        imbal_metrics_report_free(&rep);
    }
    imbal_ctx_destroy(ctx);
    return rc;
}
