/* imbal compare: the per-class change of precision, recall and F-beta from run A to run B, read
 * from their report.json files (written by imbal eval or imbal train), as a table and a picture. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_parse.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal compare RUN_A RUN_B [--out DIR] [--json]\n"
    "\n"
    "RUN_A and RUN_B are run (or eval output) directories holding report.json, or report.json\n"
    "files themselves, evaluated on the same data. Prints balanced accuracy, macro-F1,\n"
    "accuracy and many/medium/few-shot accuracy (classes with > 100, 20..100, < 20 training\n"
    "images) side by side and, per class, both recalls and the percent change (B - A) / A of\n"
    "precision, recall and F-beta; writes the chart DIR/compare.png (default: RUN_B's\n"
    "directory).\n";

typedef struct report {
    json_value root; /* the parsed report.json: names point into it */
    double accuracy, balanced_accuracy, macro_f1, beta;
    double shot[3]; /* many-, medium-, few-shot accuracy (NaN without training counts) */
    int num_classes;
    const char **names;
    double *precision, *recall, *fbeta;
} report;

/* report.json's accuracy over the classes with many (> 100), medium and few (< 20) training images
 * (docs/metrics.md): the tail's recall in one number. */
static const char *const shot_keys[3] = {"many_shot", "medium_shot", "few_shot"};
static const char *const shot_labels[3] = {"many-shot accuracy", "medium-shot accuracy",
                                           "few-shot accuracy"};

/* A number field of an object (null or absent: NaN). */
static double field_number(const json_value *obj, const char *key) {
    const json_value *v = json_object_find(obj, key);
    return v && (v->type == JSON_INT || v->type == JSON_NUMBER) ? v->number : NAN;
}

static char *read_text(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *text = NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long n = ftell(fp);
        if (n >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1)) != NULL) {
            *len = fread(text, 1, (size_t)n, fp);
            if (*len != (size_t)n) {
                free(text);
                text = NULL;
            }
        }
    }
    fclose(fp);
    return text;
}

static int read_classes(report *r, const json_value *pc) {
    int K = (int)pc->count;
    r->names = calloc((size_t)K, sizeof *r->names);
    r->precision = malloc(sizeof *r->precision * (size_t)K);
    r->recall = malloc(sizeof *r->recall * (size_t)K);
    r->fbeta = malloc(sizeof *r->fbeta * (size_t)K);
    if (!r->names || !r->precision || !r->recall || !r->fbeta) return -1;
    for (int k = 0; k < K; k++) {
        const json_value *c = &pc->items[k];
        const json_value *name = json_object_find(c, "name");
        r->names[k] = name && name->type == JSON_STRING ? name->string : NULL;
        r->precision[k] = field_number(c, "precision");
        r->recall[k] = field_number(c, "recall");
        r->fbeta[k] = field_number(c, "fbeta");
    }
    r->num_classes = K;
    return 0;
}

static int read_report(const char *cmd, const char *arg, report *r) {
    char path[4096];
    struct stat sb;
    if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(path, sizeof path, "%s/report.json", arg);
    else
        snprintf(path, sizeof path, "%s", arg);
    size_t len = 0;
    char *text = read_text(path, &len);
    if (!text) {
        fprintf(stderr, "imbal %s: cannot read '%s' (run imbal eval first?)\n", cmd, path);
        return -1;
    }
    char err[128];
    json_result jr = json_parse(text, len, &r->root, err, sizeof err);
    free(text);
    if (jr != JSON_OK) {
        fprintf(stderr, "imbal %s: '%s' is not JSON (%s)\n", cmd, path,
                jr == JSON_NOMEM ? "out of memory" : err);
        return -1;
    }
    const json_value *pc = json_object_find(&r->root, "per_class");
    if (!pc || pc->type != JSON_ARRAY)
        return fprintf(stderr, "imbal %s: '%s' has no per_class array\n", cmd, path), -1;
    r->accuracy = field_number(&r->root, "accuracy");
    r->balanced_accuracy = field_number(&r->root, "balanced_accuracy");
    r->macro_f1 = field_number(&r->root, "macro_f1");
    r->beta = field_number(&r->root, "beta");
    for (int i = 0; i < 3; i++)
        r->shot[i] = field_number(&r->root, shot_keys[i]);
    if (read_classes(r, pc) != 0)
        return fprintf(stderr, "imbal %s: out of memory reading '%s'\n", cmd, path), -1;
    if (r->num_classes == 0)
        return fprintf(stderr, "imbal %s: '%s' lists no classes\n", cmd, path), -1;
    return 0;
}

static void free_report(report *r) {
    free(r->names);
    free(r->precision);
    free(r->recall);
    free(r->fbeta);
    json_value_free(&r->root);
}

static double pct(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (a == 0) return b == 0 ? 0 : NAN;
    return 100.0 * (b - a) / a;
}

static void print_table(const report *a, const report *b, const double *v) {
    printf("%-22s %10s %10s\n", "", "A", "B");
    printf("%-22s %10.4f %10.4f\n", "balanced accuracy", a->balanced_accuracy,
           b->balanced_accuracy);
    printf("%-22s %10.4f %10.4f\n", "macro-F1", a->macro_f1, b->macro_f1);
    printf("%-22s %10.4f %10.4f\n", "accuracy", a->accuracy, b->accuracy);
    for (int i = 0; i < 3; i++)
        if (!isnan(a->shot[i]) || !isnan(b->shot[i]))
            printf("%-22s %10.4f %10.4f\n", shot_labels[i], a->shot[i], b->shot[i]);
    printf("\n%-22s %9s %9s %11s %11s %11s\n", "class", "recall A", "recall B", "precision %",
           "recall %", "F-beta %");
    for (int k = 0; k < a->num_classes; k++) {
        printf("%-22.22s %9.3f %9.3f", a->names[k] ? a->names[k] : "?", a->recall[k], b->recall[k]);
        for (int s = 0; s < 3; s++) {
            double x = v[k * 3 + s];
            if (isnan(x))
                printf(" %11s", "n/a");
            else
                printf(" %+10.1f%%", x);
        }
        printf("\n");
    }
}

static void print_json(const report *a, const report *b, const double *v) {
    json_writer w;
    json_begin(&w, stdout);
    json_object_begin(&w);
    json_kv_double(&w, "balanced_accuracy_a", a->balanced_accuracy);
    json_kv_double(&w, "balanced_accuracy_b", b->balanced_accuracy);
    json_kv_double(&w, "macro_f1_a", a->macro_f1);
    json_kv_double(&w, "macro_f1_b", b->macro_f1);
    json_kv_double(&w, "accuracy_a", a->accuracy);
    json_kv_double(&w, "accuracy_b", b->accuracy);
    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s_a", shot_keys[i]);
        json_kv_double(&w, key, a->shot[i]);
        snprintf(key, sizeof key, "%s_b", shot_keys[i]);
        json_kv_double(&w, key, b->shot[i]);
    }
    json_key(&w, "per_class");
    json_array_begin(&w);
    for (int k = 0; k < a->num_classes; k++) {
        json_object_begin(&w);
        json_kv_string(&w, "name", a->names[k] ? a->names[k] : "");
        json_kv_double(&w, "recall_a", a->recall[k]);
        json_kv_double(&w, "recall_b", b->recall[k]);
        json_kv_double(&w, "precision_change_pct", v[k * 3]);
        json_kv_double(&w, "recall_change_pct", v[k * 3 + 1]);
        json_kv_double(&w, "fbeta_change_pct", v[k * 3 + 2]);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);
    json_end(&w);
}

static int compare(const char *cmd, report *a, report *b, const char *out_dir, int json) {
    if (a->num_classes != b->num_classes)
        return fprintf(stderr, "imbal %s: the reports have %d and %d classes\n", cmd,
                       a->num_classes, b->num_classes),
               CLI_EXIT_FAIL;
    for (int k = 0; k < a->num_classes; k++)
        if (!a->names[k] || !b->names[k] || strcmp(a->names[k], b->names[k]) != 0)
            return fprintf(stderr, "imbal %s: class %d is '%s' in A and '%s' in B\n", cmd, k,
                           a->names[k] ? a->names[k] : "?", b->names[k] ? b->names[k] : "?"),
                   CLI_EXIT_FAIL;
    int K = a->num_classes;
    double *v = malloc(sizeof *v * (size_t)K * 3);
    if (!v) return CLI_EXIT_FAIL;
    for (int k = 0; k < K; k++) {
        v[k * 3] = pct(a->precision[k], b->precision[k]);
        v[k * 3 + 1] = pct(a->recall[k], b->recall[k]);
        v[k * 3 + 2] = pct(a->fbeta[k], b->fbeta[k]);
    }
    if (json)
        print_json(a, b, v);
    else
        print_table(a, b, v);
    imbal_ctx *ctx = NULL;
    int rc = CLI_EXIT_OK;
    char path[4200], fb[32];
    snprintf(path, sizeof path, "%s/compare.png", out_dir);
    snprintf(fb, sizeof fb, "F%.2g", isnan(a->beta) ? 0.5 : a->beta);
    const char *series[3] = {"precision", "recall", fb};
    if (imbal_ctx_create(&ctx) != IMBAL_OK ||
        imbal_plot_bars(ctx, path, "Per-class change from A to B (percent)", K, a->names, 3, series,
                        v, "%") != IMBAL_OK)
        rc = cli_fail(cmd, ctx);
    else if (!json)
        printf("\nchart: %s\n", path);
    imbal_ctx_destroy(ctx);
    free(v);
    return rc;
}

typedef struct compare_args {
    const char *out, *run_a, *run_b;
    int json;
} compare_args;

/* CLI_EXIT_OK, CLI_EXIT_USAGE (after the message), or -1 after --help. */
static int parse_args(const char *cmd, int argc, char **argv, compare_args *a) {
    static const struct option longopts[] = {
        {"out", required_argument, 0, 'o'}, CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    int c;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        if (c == CLI_OPT_HELP) {
            fputs(usage, stdout);
            return -1;
        } else if (c == CLI_OPT_JSON) {
            a->json = 1;
        } else if (c == 'o') {
            a->out = optarg;
        } else {
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) return cli_usage_error(cmd, "give two runs: RUN_A RUN_B");
    a->run_a = argv[optind];
    a->run_b = argv[optind + 1];
    return CLI_EXIT_OK;
}

int cli_parse_only_compare(int argc, char **argv) {
    compare_args a;
    int rc = parse_args("compare", argc, argv, &a);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int cmd_compare(int argc, char **argv) {
    const char *cmd = "compare";
    compare_args args;
    int prc = parse_args(cmd, argc, argv, &args);
    if (prc != CLI_EXIT_OK) return prc < 0 ? CLI_EXIT_OK : prc;
    const char *out = args.out;
    const int json = args.json;
    report *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    int rc = CLI_EXIT_FAIL;
    if (a && b && read_report(cmd, args.run_a, a) == 0 && read_report(cmd, args.run_b, b) == 0) {
        char dir[4096];
        struct stat sb;
        const char *rb = args.run_b;
        if (!out) {
            snprintf(dir, sizeof dir, "%s", rb);
            if (!(stat(rb, &sb) == 0 && S_ISDIR(sb.st_mode))) {
                char *slash = strrchr(dir, '/');
                if (slash)
                    *slash = '\0';
                else
                    snprintf(dir, sizeof dir, ".");
            }
            out = dir;
        }
        rc = compare(cmd, a, b, out, json);
    }
    if (a) free_report(a);
    if (b) free_report(b);
    free(a);
    free(b);
    return rc;
}
