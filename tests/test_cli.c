/* The imbal command end to end: help, errors and exit codes, and the JSON of every subcommand on
 * hand-checkable inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

/* Reads the numbers of the JSON array after "key": into out (at most max); returns how many.
 * `from` lets a caller walk repeated keys (epochs). */
static int json_numbers(const char *json, const char *key, double *out, int max,
                        const char **from) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": [", key);
    const char *p = strstr(from && *from ? *from : json, pat);
    if (!p) return -1;
    p += strlen(pat);
    int n = 0;
    while (*p && *p != ']' && n < max) {
        char *end;
        out[n++] = strtod(p, &end);
        p = end;
        while (*p == ',' || *p == ' ') ++p;
    }
    if (from) *from = p;
    return n;
}

static double json_number(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    cr_assert_not_null(p, "no key %s in %s", key, json);
    return strtod(p + strlen(pat), NULL);
}

Test(cli, help_and_unknown_command) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("--help", &out, &err), 0);
    cr_assert(strstr(out, "synth") && strstr(out, "sample"));
    free(out), free(err);
    cr_assert_eq(tu_run_cli("frobnicate", &out, &err), 2);
    cr_assert(strstr(err, "unknown command 'frobnicate'"), "%s", err);
    free(out), free(err);
    static const char *cmds[] = {"synth", "stats", "weights", "split", "sample"};
    for (int i = 0; i < 5; ++i) {
        char args[64];
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", args);
        cr_assert(strstr(out, "Usage: imbal"), "%s: %s", args, out);
        free(out), free(err);
    }
}

Test(cli, unknown_option_and_missing_value) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("stats --counts 1,2 --bogus", &out, &err), 2);
    cr_assert(strstr(err, "unknown option '--bogus'"), "%s", err);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("weights --counts 1,2 --scheme", &out, &err), 2);
    cr_assert(strstr(err, "needs a value"), "%s", err);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("weights --counts 1,2 --scheme ens --beta 1.5", &out, &err), 2);
    cr_assert(strstr(err, "--beta") && strstr(err, "1.5"), "%s", err);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("stats --counts 1,,2", &out, &err), 2);
    cr_assert(strstr(err, "--counts"), "%s", err);
    free(out), free(err);
}

Test(cli, weights_balanced_json) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("weights --counts 500,50,5 --scheme balanced --json", &out, &err), 0,
                 "%s", err);
    double w[8];
    cr_assert_eq(json_numbers(out, "weights", w, 8, NULL), 3, "%s", out);
    /* scikit-learn: N / (K n_c) = 555 / (3 * n_c) */
    cr_assert_float_eq(w[0], 0.37, 1e-12);
    cr_assert_float_eq(w[1], 3.7, 1e-12);
    cr_assert_float_eq(w[2], 37.0, 1e-12);
    free(out), free(err);
}

Test(cli, weights_errors_name_the_problem) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("weights --counts 5,0,3 --scheme ins", &out, &err), 1);
    cr_assert(strstr(err, "'1'") || strstr(err, "class 1"), "%s", err);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("weights --counts 5,0,3 --scheme ins --zero-empty --json", &out, &err),
                 0, "%s", err);
    double w[4];
    cr_assert_eq(json_numbers(out, "weights", w, 4, NULL), 3);
    cr_assert_eq(w[1], 0.0);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("weights --counts 5,3", &out, &err), 2);
    cr_assert(strstr(err, "--scheme"), "%s", err);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("weights --counts 5,3 --scheme bogus", &out, &err), 2);
    cr_assert(strstr(err, "bogus"), "%s", err);
    free(out), free(err);
}

Test(cli, stats_counts_json) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("stats --counts 500,50,5 --json", &out, &err), 0, "%s", err);
    cr_assert_eq(json_number(out, "total"), 555);
    cr_assert_eq(json_number(out, "imbalance_ratio"), 100);
    double c[4];
    cr_assert_eq(json_numbers(out, "counts", c, 4, NULL), 3);
    cr_assert(c[0] == 500 && c[1] == 50 && c[2] == 5);
    cr_assert(strstr(out, "\"classes\": [\"0\", \"1\", \"2\"]"), "%s", out);
    free(out), free(err);
}

Test(cli, stats_missing_directory) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("stats /nonexistent/imbal-data", &out, &err), 1);
    cr_assert(strstr(err, "/nonexistent/imbal-data"), "%s", err);
    free(out), free(err);
}

Test(cli, sample_sequential_and_rotating) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("sample --counts 100,10 --sampler sequential --json", &out, &err), 0,
                 "%s", err);
    double h[4];
    cr_assert_eq(json_numbers(out, "histogram", h, 4, NULL), 2);
    cr_assert(h[0] == 100 && h[1] == 10);
    cr_assert_eq(json_number(out, "draws"), 110);
    cr_assert_eq(json_number(out, "seen"), 110);
    free(out), free(err);

    /* Chunks of n_min = 10: every epoch holds 10 of each class; after ceil(30/10) = 3 epochs all
     * 40 samples have been seen. */
    cr_assert_eq(tu_run_cli("sample --counts 30,10 --sampler rotating-undersample --epochs 3 "
                            "--seed 4 --json",
                            &out, &err),
                 0, "%s", err);
    const char *at = NULL;
    for (int e = 0; e < 3; ++e) {
        cr_assert_eq(json_numbers(out, "histogram", h, 4, &at), 2, "%s", out);
        cr_assert(h[0] == 10 && h[1] == 10, "epoch %d: %g %g", e, h[0], h[1]);
    }
    const char *last = strstr(out, "\"epoch\": 2");
    cr_assert_not_null(last);
    cr_assert_eq(json_number(last, "seen"), 40, "%s", out);
    free(out), free(err);
}

Test(cli, sample_class_balanced_is_balanced) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("sample --counts 5000,50 --sampler class-balanced --seed 1 --json", &out,
                            &err),
                 0, "%s", err);
    double h[4];
    cr_assert_eq(json_numbers(out, "histogram", h, 4, NULL), 2);
    cr_assert_eq(h[0] + h[1], 5050);
    /* Binomial(5050, 1/2): sd ~ 35.5; 6 sd is a safe bound at a fixed seed. */
    cr_assert(fabs(h[0] - 2525) < 215, "%g %g", h[0], h[1]);
    free(out), free(err);
}

Test(cli, sample_schedule_switches) {
    char *out, *err;
    cr_assert_eq(tu_run_cli("sample --counts 90,10 --sampler sequential --then undersample "
                            "--switch-epoch 1 --epochs 2 --json",
                            &out, &err),
                 0, "%s", err);
    double h[4];
    const char *at = NULL;
    cr_assert_eq(json_numbers(out, "histogram", h, 4, &at), 2);
    cr_assert(h[0] == 90 && h[1] == 10);
    cr_assert_eq(json_numbers(out, "histogram", h, 4, &at), 2);
    cr_assert(h[0] == 10 && h[1] == 10, "%g %g", h[0], h[1]);
    free(out), free(err);
}

Test(cli, synth_stats_split_weights_sample_end_to_end) {
    char *dir = tu_mkdtemp();
    char args[1024], *out, *err;
    snprintf(args, sizeof args,
             "synth --out '%s/set' --classes 4 --max-per-class 40 --ratio 10 --size 16 "
             "--test-per-class 3 --seed 7 --json",
             dir);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    double tc[8];
    cr_assert_eq(json_numbers(out, "train_counts", tc, 8, NULL), 4, "%s", out);
    /* exp profile: floor(40 * 10^(-i/3)) = 40, 18, 8, 4 */
    cr_assert(tc[0] == 40 && tc[1] == 18 && tc[2] == 8 && tc[3] == 4, "%s", out);
    free(out), free(err);

    snprintf(args, sizeof args, "stats '%s/set/train' --json", dir);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    double c[8];
    cr_assert_eq(json_numbers(out, "counts", c, 8, NULL), 4);
    for (int i = 0; i < 4; ++i) cr_assert_eq(c[i], tc[i]);
    cr_assert_eq(json_number(out, "imbalance_ratio"), 10);
    free(out), free(err);

    snprintf(args, sizeof args,
             "split '%s/set/train' --out '%s/split.csv' --train 0.5 --val 0.25 --test 0.25 "
             "--seed 3 --json",
             dir, dir);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    double tr[8], va[8], te[8];
    cr_assert_eq(json_numbers(out, "train", tr, 8, NULL), 4, "%s", out);
    cr_assert_eq(json_numbers(out, "val", va, 8, NULL), 4);
    cr_assert_eq(json_numbers(out, "test", te, 8, NULL), 4);
    for (int i = 0; i < 4; ++i) {
        cr_assert_eq(tr[i] + va[i] + te[i], tc[i]);
        cr_assert(va[i] >= 1 && te[i] >= 1, "class %d", i);
    }
    free(out), free(err);

    /* On a manifest with splits, weights and sampling use the train split by default. */
    snprintf(args, sizeof args, "weights '%s/split.csv' --scheme inverse --json", dir);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"split\": \"train\""), "%s", out);
    double w[8], n_train = tr[0] + tr[1] + tr[2] + tr[3];
    cr_assert_eq(json_numbers(out, "weights", w, 8, NULL), 4);
    for (int i = 0; i < 4; ++i) cr_assert_float_eq(w[i], n_train / tr[i], 1e-9);
    free(out), free(err);

    snprintf(args, sizeof args, "sample '%s/split.csv' --sampler oversample --json", dir);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    double h[8];
    cr_assert_eq(json_numbers(out, "histogram", h, 8, NULL), 4);
    for (int i = 0; i < 4; ++i) cr_assert_eq(h[i], tr[0], "class %d: %g", i, h[i]);
    free(out), free(err);
    tu_rmtree(dir);
    free(dir);
}
