/* Metrics: hand-computed 3- and 4-class cases (every zero-division corner), top-k ties, many /
 * medium / few groups, invariants, report.json, errors, and scikit-learn 1.2 references
 * (tests/data/metrics/make_metrics_ref.py) for C = 2, 5, 10 and 37. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/metrics.h"
#include "imbal/npy.h"
#include "test_util.h"

#define METRICS_DIR IMBAL_TEST_DATA_DIR "/metrics/"

static void close_to(const char *what, double got, double want) {
    cr_expect(fabs(got - want) <= 1e-12 + 1e-12 * fabs(want) || (isnan(got) && isnan(want)),
              "%s: got %.17g want %.17g", what, got, want);
}

static imbal_metrics *make(imbal_ctx *ctx, int c, int k, const int32_t *y, const int32_t *p,
                           int64_t n) {
    imbal_metrics *m = NULL;
    cr_assert_eq(imbal_metrics_create(ctx, c, k, &m), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_metrics_add(ctx, m, y, p, n), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    return m;
}

static imbal_metrics_report report(imbal_ctx *ctx, const imbal_metrics *m,
                                   const imbal_metrics_options *o) {
    imbal_metrics_report r;
    cr_assert_eq(imbal_metrics_compute(ctx, m, o, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    return r;
}

/* labels [0,0,0,1,1,2,2,2,2], preds [0,0,1,1,0,2,2,1,0]: confusion [[2,1,0],[1,1,0],[1,1,2]],
 * support [3,2,4], predicted [4,3,2], tp [2,1,2]. */
static const int32_t A_Y[] = {0, 0, 0, 1, 1, 2, 2, 2, 2};
static const int32_t A_P[] = {0, 0, 1, 1, 0, 2, 2, 1, 0};

Test(metrics, hand_three_classes) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = make(ctx, 3, 1, A_Y, A_P, 9);
    const int64_t want_cm[9] = {2, 1, 0, 1, 1, 0, 1, 1, 2};
    cr_assert_arr_eq(imbal_metrics_confusion(m), want_cm, sizeof want_cm);
    imbal_metrics_report r = report(ctx, m, NULL);
    cr_assert_eq(r.num_classes, 3);
    cr_assert_eq(r.total, 9);
    const double p[3] = {0.5, 1.0 / 3, 1.0}, rc[3] = {2.0 / 3, 0.5, 0.5};
    const double f1[3] = {4.0 / 7, 0.4, 2.0 / 3}, fb[3] = {10.0 / 19, 5.0 / 14, 5.0 / 6};
    const int64_t sup[3] = {3, 2, 4}, pred[3] = {4, 3, 2};
    for (int j = 0; j < 3; ++j) {
        cr_expect_eq(r.per_class[j].support, sup[j]);
        cr_expect_eq(r.per_class[j].predicted, pred[j]);
        close_to("precision", r.per_class[j].precision, p[j]);
        close_to("recall", r.per_class[j].recall, rc[j]);
        close_to("f1", r.per_class[j].f1, f1[j]);
        close_to("fbeta", r.per_class[j].fbeta, fb[j]);
    }
    close_to("accuracy", r.accuracy, 5.0 / 9);
    close_to("balanced", r.balanced_accuracy, (2.0 / 3 + 0.5 + 0.5) / 3);
    close_to("macro_p", r.macro_precision, (0.5 + 1.0 / 3 + 1.0) / 3);
    close_to("macro_r", r.macro_recall, (2.0 / 3 + 0.5 + 0.5) / 3);
    close_to("macro_f1", r.macro_f1, (4.0 / 7 + 0.4 + 2.0 / 3) / 3);
    close_to("macro_fbeta", r.macro_fbeta, (10.0 / 19 + 5.0 / 14 + 5.0 / 6) / 3);
    close_to("weighted_f1", r.weighted_f1, (3 * 4.0 / 7 + 2 * 0.4 + 4 * 2.0 / 3) / 9);
    close_to("gmean", r.gmean, cbrt(1.0 / 6));
    cr_expect_eq(r.top_k, 1);
    cr_expect(isnan(r.top_k_accuracy), "no logits were added");
    cr_expect(isnan(r.many_shot) && isnan(r.medium_shot) && isnan(r.few_shot));
    cr_expect_eq(r.many_classes + r.medium_classes + r.few_classes, 0);
    imbal_metrics_report_free(&r);
    cr_expect_null(r.per_class);
    imbal_metrics_report_free(&r); /* twice is harmless */
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* C = 4: class 1 is never predicted (precision 0/0), class 2 is predicted but has no support
 * (recall 0/0), class 3 appears nowhere (left out of the macro averages). labels [0,0,0,1,1],
 * preds [0,0,2,0,0]. */
Test(metrics, hand_zero_division_corners) {
    imbal_ctx *ctx = tu_ctx();
    const int32_t y[] = {0, 0, 0, 1, 1}, p[] = {0, 0, 2, 0, 0};
    imbal_metrics *m = make(ctx, 4, 2, y, p, 5);
    imbal_metrics_report r = report(ctx, m, NULL);
    close_to("p0", r.per_class[0].precision, 0.5);
    close_to("r0", r.per_class[0].recall, 2.0 / 3);
    close_to("f1_0", r.per_class[0].f1, 4.0 / 7);
    for (int j = 1; j < 4; ++j) {
        cr_expect_eq(r.per_class[j].precision, 0.0, "class %d", j);
        cr_expect_eq(r.per_class[j].recall, 0.0, "class %d", j);
        cr_expect_eq(r.per_class[j].f1, 0.0, "class %d", j);
        cr_expect_eq(r.per_class[j].fbeta, 0.0, "class %d", j);
    }
    cr_expect_eq(r.per_class[2].predicted, 1);
    cr_expect_eq(r.per_class[2].support, 0);
    cr_expect_eq(r.per_class[3].predicted + r.per_class[3].support, 0);
    close_to("accuracy", r.accuracy, 0.4);
    /* Balanced accuracy and G-mean: classes with support (0 and 1). */
    close_to("balanced", r.balanced_accuracy, (2.0 / 3) / 2);
    cr_expect_eq(r.gmean, 0.0, "class 1 has recall 0");
    /* Macro: classes with support or predictions (0, 1, 2), not class 3. */
    close_to("macro_p", r.macro_precision, 0.5 / 3);
    close_to("macro_r", r.macro_recall, (2.0 / 3) / 3);
    close_to("macro_f1", r.macro_f1, (4.0 / 7) / 3);
    close_to("macro_fbeta", r.macro_fbeta, (10.0 / 19) / 3);
    close_to("weighted_f1", r.weighted_f1, 3 * (4.0 / 7) / 5);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

Test(metrics, hand_all_correct) {
    imbal_ctx *ctx = tu_ctx();
    const int32_t y[] = {0, 1, 2, 2};
    imbal_metrics *m = make(ctx, 3, 1, y, y, 4);
    imbal_metrics_report r = report(ctx, m, NULL);
    for (int j = 0; j < 3; ++j) {
        cr_expect_eq(r.per_class[j].precision, 1.0);
        cr_expect_eq(r.per_class[j].recall, 1.0);
        cr_expect_eq(r.per_class[j].f1, 1.0);
        cr_expect_eq(r.per_class[j].fbeta, 1.0);
    }
    cr_expect_eq(r.accuracy, 1.0);
    cr_expect_eq(r.balanced_accuracy, 1.0);
    cr_expect_eq(r.macro_f1, 1.0);
    cr_expect_eq(r.weighted_f1, 1.0);
    cr_expect_eq(r.gmean, 1.0);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* Ties: the arg-max is the lowest tied index; in top-k a tied entry at a lower index ranks
 * ahead of the label (scikit-learn 1.2 ranks the HIGHER index first: docs/metrics.md). */
Test(metrics, top_k_ties_and_infinities) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = NULL;
    cr_assert_eq(imbal_metrics_create(ctx, 4, 2, &m), IMBAL_OK);
    const float inf = INFINITY;
    const float x[] = {
        1,    1,    1,    0,    /* label 2: two ties ahead -> miss; pred 0 */
        1,    1,    1,    0,    /* label 1: one tie ahead -> hit */
        0,    0,    0,    0,    /* label 3: three ties ahead -> miss; pred 0 */
        0,    5,    5,    9,    /* label 2: 9 and the tie at index 1 ahead -> miss; pred 3 */
        -inf, inf,  2,    inf,  /* label 3: only the +inf at index 1 ahead -> hit; pred 1 */
        -inf, -inf, -inf, -inf, /* label 0: hit; pred 0 */
    };
    const int32_t y[] = {2, 1, 3, 2, 3, 0};
    cr_assert_eq(imbal_metrics_add_logits(ctx, m, x, y, 6), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    const int64_t *cm = imbal_metrics_confusion(m);
    cr_expect_eq(cm[2 * 4 + 0], 1);
    cr_expect_eq(cm[1 * 4 + 0], 1);
    cr_expect_eq(cm[3 * 4 + 0], 1);
    cr_expect_eq(cm[2 * 4 + 3], 1);
    cr_expect_eq(cm[3 * 4 + 1], 1);
    cr_expect_eq(cm[0 * 4 + 0], 1);
    imbal_metrics_report r = report(ctx, m, NULL);
    close_to("top2", r.top_k_accuracy, 3.0 / 6);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* C = 50 takes the lane-wise arg-max: ties across lanes and a maximum in the tail. */
Test(metrics, argmax_wide_rows) {
    imbal_ctx *ctx = tu_ctx();
    enum { C = 50, N = 4 };
    imbal_metrics *m = NULL;
    cr_assert_eq(imbal_metrics_create(ctx, C, 5, &m), IMBAL_OK);
    float x[N * C];
    for (int i = 0; i < N * C; ++i)
        x[i] = 0.25f;
    x[0 * C + 45] = x[0 * C + 17] = 3; /* row 0: tie of 17 and 45 -> 17 */
    x[1 * C + 49] = 1;                 /* row 1: the maximum in the tail -> 49 */
    x[2 * C + 8] = x[2 * C + 40] = -1; /* row 2: all else equal -> 0 */
    x[3 * C + 33] = 2;                 /* row 3: -> 33 */
    const int32_t y[N] = {45, 49, 7, 1};
    cr_assert_eq(imbal_metrics_add_logits(ctx, m, x, y, N), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    const int64_t *cm = imbal_metrics_confusion(m);
    cr_expect_eq(cm[45 * C + 17], 1);
    cr_expect_eq(cm[49 * C + 49], 1);
    cr_expect_eq(cm[7 * C + 0], 1);
    cr_expect_eq(cm[1 * C + 33], 1);
    /* Top-5 hits: row 0 (one ahead), row 1, row 3 (33 and index 0 ahead); row 2 has 7 ahead. */
    imbal_metrics_report r = report(ctx, m, NULL);
    close_to("top5", r.top_k_accuracy, 3.0 / 4);
    imbal_metrics_report_free(&r);
    x[3 * C + 49] = NAN;
    cr_expect_eq(imbal_metrics_add_logits(ctx, m, x, y, N), IMBAL_ERR_DATA);
    cr_expect(strstr(imbal_ctx_error(ctx), "row 3") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

Test(metrics, top_k_needs_more_classes_than_k) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = NULL;
    cr_assert_eq(imbal_metrics_create(ctx, 3, 3, &m), IMBAL_OK);
    const float x[] = {0, 1, 2};
    const int32_t y[] = {0};
    cr_assert_eq(imbal_metrics_add_logits(ctx, m, x, y, 1), IMBAL_OK);
    imbal_metrics_report r = report(ctx, m, NULL);
    cr_expect(isnan(r.top_k_accuracy));
    cr_expect_eq(r.accuracy, 0.0);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* Groups by training count with the defaults (many > 100, few < 20) and their boundaries. */
Test(metrics, many_medium_few) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = make(ctx, 3, 1, A_Y, A_P, 9);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    cr_expect_eq(o.beta, 0.5);
    cr_expect_eq(o.many_above, 100);
    cr_expect_eq(o.few_below, 20);
    const int64_t counts[3] = {101, 100, 19};
    o.train_counts = counts;
    imbal_metrics_report r = report(ctx, m, &o);
    close_to("many", r.many_shot, 2.0 / 3);
    close_to("medium", r.medium_shot, 0.5);
    close_to("few", r.few_shot, 0.5);
    cr_expect_eq(r.many_classes, 1);
    cr_expect_eq(r.medium_classes, 1);
    cr_expect_eq(r.few_classes, 1);
    imbal_metrics_report_free(&r);

    /* 20 is medium; no class is many -> NaN. */
    const int64_t counts2[3] = {20, 50, 0};
    o.train_counts = counts2;
    r = report(ctx, m, &o);
    cr_expect(isnan(r.many_shot));
    close_to("medium", r.medium_shot, (2.0 / 3 + 0.5) / 2);
    close_to("few", r.few_shot, 0.5);
    cr_expect_eq(r.many_classes, 0);
    cr_expect_eq(r.medium_classes, 2);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);

    /* A group whose only class has no support is NaN but still counts the class. */
    const int32_t y[] = {0, 0, 0, 1, 1}, p[] = {0, 0, 2, 0, 0};
    m = make(ctx, 4, 1, y, p, 5);
    const int64_t counts3[4] = {500, 50, 3, 60};
    o.train_counts = counts3;
    r = report(ctx, m, &o);
    close_to("many", r.many_shot, 2.0 / 3);
    cr_expect_eq(r.medium_shot, 0.0, "class 1 recall 0; class 3 has no support");
    cr_expect(isnan(r.few_shot));
    cr_expect_eq(r.few_classes, 1);
    cr_expect_eq(r.medium_classes, 2);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* ---- scikit-learn references ---- */

static void load(imbal_ctx *ctx, const char *name, const char *what, imbal_tensor *t) {
    char path[512];
    snprintf(path, sizeof path, METRICS_DIR "%s_%s.npy", name, what);
    cr_assert_eq(imbal_npy_read(ctx, path, t), IMBAL_OK, "%s: %s", path, imbal_ctx_error(ctx));
}

typedef struct ref_case {
    char name[16];
    int c, k;
    long long n;
    double v[9]; /* acc, bal, macro p, r, f1, fbeta, weighted f1, gmean, top-k */
} ref_case;

static int read_case(FILE *f, ref_case *rc) {
    return fscanf(f, "%15s %d %d %lld %lf %lf %lf %lf %lf %lf %lf %lf %lf", rc->name, &rc->c,
                  &rc->k, &rc->n, &rc->v[0], &rc->v[1], &rc->v[2], &rc->v[3], &rc->v[4], &rc->v[5],
                  &rc->v[6], &rc->v[7], &rc->v[8]) == 13;
}

/* Runs a case through add_logits in uneven batches with `threads` threads. */
static imbal_metrics *run_case(imbal_ctx *ctx, const ref_case *rc, const imbal_tensor *logits,
                               const imbal_tensor *labels, int threads) {
    cr_assert_eq(imbal_ctx_set_threads(ctx, threads), IMBAL_OK);
    imbal_metrics *m = NULL;
    cr_assert_eq(imbal_metrics_create(ctx, rc->c, rc->k, &m), IMBAL_OK);
    const float *x = logits->data;
    const int32_t *y = labels->data;
    int64_t done = 0, step = 1;
    while (done < rc->n) {
        int64_t b = rc->n - done < step ? rc->n - done : step;
        cr_assert_eq(imbal_metrics_add_logits(ctx, m, x + done * rc->c, y + done, b), IMBAL_OK,
                     "%s", imbal_ctx_error(ctx));
        done += b;
        step = step * 3 + 1;
    }
    return m;
}

Test(metrics, sklearn_references) {
    imbal_ctx *ctx = tu_ctx();
    FILE *f = fopen(METRICS_DIR "cases.txt", "r");
    cr_assert_not_null(f);
    ref_case rc;
    int cases = 0;
    const char *names[9] = {"accuracy",      "balanced_accuracy", "macro_precision", "macro_recall",
                            "macro_f1",      "macro_fbeta",       "weighted_f1",     "gmean",
                            "top_k_accuracy"};
    while (read_case(f, &rc)) {
        ++cases;
        imbal_tensor y, p, x, cm;
        load(ctx, rc.name, "labels", &y);
        load(ctx, rc.name, "preds", &p);
        load(ctx, rc.name, "logits", &x);
        load(ctx, rc.name, "confusion", &cm);
        char path[512];
        snprintf(path, sizeof path, METRICS_DIR "%s_per_class.txt", rc.name);
        FILE *pf = fopen(path, "r");
        cr_assert_not_null(pf, "%s", path);
        cr_assert_eq(x.shape[1], rc.c);
        imbal_metrics *m1 = run_case(ctx, &rc, &x, &y, 1);
        imbal_metrics *m2 = run_case(ctx, &rc, &x, &y, 2);
        const size_t cc = (size_t)rc.c * (size_t)rc.c;
        cr_assert_arr_eq(imbal_metrics_confusion(m1), cm.data, cc * sizeof(int64_t), "%s", rc.name);
        cr_assert_arr_eq(imbal_metrics_confusion(m2), cm.data, cc * sizeof(int64_t), "%s", rc.name);
        /* The same pairs through imbal_metrics_add give the same confusion counts. */
        imbal_metrics *mp = make(ctx, rc.c, rc.k, y.data, p.data, rc.n);
        cr_assert_arr_eq(imbal_metrics_confusion(mp), cm.data, cc * sizeof(int64_t), "%s", rc.name);

        imbal_metrics_report r = report(ctx, m1, NULL);
        const double got[9] = {
            r.accuracy,    r.balanced_accuracy, r.macro_precision, r.macro_recall,  r.macro_f1,
            r.macro_fbeta, r.weighted_f1,       r.gmean,           r.top_k_accuracy};
        char what[96];
        for (int i = 0; i < 9; ++i) {
            snprintf(what, sizeof what, "%s %s", rc.name, names[i]);
            close_to(what, got[i], rc.v[i]);
        }
        for (int j = 0; j < rc.c; ++j) {
            const imbal_class_metrics *k = &r.per_class[j];
            const double g[4] = {k->precision, k->recall, k->f1, k->fbeta};
            for (int q = 0; q < 4; ++q) {
                double want = 0;
                cr_assert_eq(fscanf(pf, "%lf", &want), 1, "%s", path);
                snprintf(what, sizeof what, "%s class %d column %d", rc.name, j, q);
                close_to(what, g[q], want);
            }
        }
        fclose(pf);
        /* Invariants: supports and predictions both sum to n; the support-weighted mean
         * recall is the accuracy. */
        int64_t s = 0, pr = 0;
        double wr = 0;
        for (int j = 0; j < rc.c; ++j) {
            s += r.per_class[j].support;
            pr += r.per_class[j].predicted;
            wr += r.per_class[j].recall * (double)r.per_class[j].support;
        }
        cr_expect_eq(s, rc.n);
        cr_expect_eq(pr, rc.n);
        close_to("weighted recall", wr / (double)rc.n, r.accuracy);
        cr_expect(r.gmean <= r.balanced_accuracy + 1e-15, "AM-GM");
        imbal_metrics_report_free(&r);
        imbal_metrics_destroy(m1);
        imbal_metrics_destroy(m2);
        imbal_metrics_destroy(mp);
        imbal_tensor_free(&y);
        imbal_tensor_free(&p);
        imbal_tensor_free(&x);
        imbal_tensor_free(&cm);
    }
    fclose(f);
    cr_expect_eq(cases, 4);
    imbal_ctx_destroy(ctx);
}

Test(metrics, reset_and_batches) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = make(ctx, 3, 1, A_Y, A_P, 4);
    cr_assert_eq(imbal_metrics_add(ctx, m, A_Y + 4, A_P + 4, 5), IMBAL_OK);
    cr_assert_eq(imbal_metrics_add(ctx, m, NULL, NULL, 0), IMBAL_OK, "n = 0 is a no-op");
    const int64_t want_cm[9] = {2, 1, 0, 1, 1, 0, 1, 1, 2};
    cr_assert_arr_eq(imbal_metrics_confusion(m), want_cm, sizeof want_cm);
    cr_expect_eq(imbal_metrics_num_classes(m), 3);
    imbal_metrics_reset(m);
    imbal_metrics_report r;
    cr_expect_eq(imbal_metrics_compute(ctx, m, NULL, &r), IMBAL_ERR_DATA);
    cr_expect(strstr(imbal_ctx_error(ctx), "no samples") != NULL, "%s", imbal_ctx_error(ctx));
    for (int i = 0; i < 9; ++i)
        cr_expect_eq(imbal_metrics_confusion(m)[i], 0);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* ---- report.json ---- */

Test(metrics, report_json) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = make(ctx, 3, 1, A_Y, A_P, 9);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    const int64_t counts[3] = {150, 10, 40};
    o.train_counts = counts;
    imbal_metrics_report r = report(ctx, m, &o);
    char *dir = tu_mkdtemp();
    char *path = tu_join(dir, "report.json");
    const char *names[3] = {"cat", "a\"b\\c", NULL};
    cr_assert_eq(imbal_metrics_write_json(ctx, path, m, &r, &o, names), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text);
    const char *want[] = {
        "{\"num_classes\": 3, \"total\": 9, \"accuracy\": 0.55555555555555558, ",
        "\"beta\": 0.5, ",
        "\"gmean\": 0.55032120814910446, ",
        "\"top_k\": 1, \"top_k_accuracy\": null, ",
        "\"many_shot\": 0.66666666666666663, \"medium_shot\": 0.5, \"few_shot\": 0.5, ",
        "\"many_classes\": 1, \"medium_classes\": 1, \"few_classes\": 1, ",
        "{\"id\": 0, \"name\": \"cat\", \"count\": 3, \"train_count\": 150, \"predicted\": 4, "
        "\"precision\": 0.5, \"recall\": 0.66666666666666663, \"f1\": 0.571428571428571",
        "\"name\": \"a\\\"b\\\\c\", \"count\": 2, \"train_count\": 10,",
        "{\"id\": 2, \"name\": \"2\", \"count\": 4,",
        "\"confusion\": [[2, 1, 0], [1, 1, 0], [1, 1, 2]]}\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; ++i)
        cr_expect(strstr(text, want[i]) != NULL, "missing %s in %s", want[i], text);
    free(text);
    imbal_metrics_report_free(&r);

    /* Without train counts: no train_count keys, shot accuracies null; names NULL -> ids. */
    r = report(ctx, m, NULL);
    cr_assert_eq(imbal_metrics_write_json(ctx, path, m, &r, NULL, NULL), IMBAL_OK);
    text = tu_read_file(path, NULL);
    cr_expect(strstr(text, "train_count") == NULL);
    cr_expect(strstr(text, "\"many_shot\": null, \"medium_shot\": null, \"few_shot\": null") !=
              NULL);
    cr_expect(strstr(text, "{\"id\": 1, \"name\": \"1\",") != NULL);
    free(text);

    /* A path in a missing directory is an I/O error naming it. */
    char *bad = tu_join(dir, "missing/report.json");
    cr_expect_eq(imbal_metrics_write_json(ctx, bad, m, &r, NULL, NULL), IMBAL_ERR_IO);
    cr_expect(strstr(imbal_ctx_error(ctx), "missing") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_metrics_report_free(&r);
    free(bad);
    free(path);
    tu_rmtree(dir);
    free(dir);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* ---- errors ---- */

static void expect_error(imbal_ctx *ctx, imbal_status got, imbal_status want, const char *text) {
    cr_expect_eq(got, want, "status %d want %d (%s)", got, want, imbal_ctx_error(ctx));
    cr_expect(strstr(imbal_ctx_error(ctx), text) != NULL, "'%s' not in '%s'", text,
              imbal_ctx_error(ctx));
}

Test(metrics, errors) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = (imbal_metrics *)0x1;
    expect_error(ctx, imbal_metrics_create(ctx, 0, 1, &m), IMBAL_ERR_INVALID_ARGUMENT,
                 "num_classes is 0");
    cr_expect_null(m);
    expect_error(ctx, imbal_metrics_create(ctx, 100001, 1, &m), IMBAL_ERR_INVALID_ARGUMENT,
                 "100001");
    expect_error(ctx, imbal_metrics_create(ctx, 3, 0, &m), IMBAL_ERR_INVALID_ARGUMENT,
                 "top_k is 0");
    expect_error(ctx, imbal_metrics_create(ctx, 3, 1, NULL), IMBAL_ERR_INVALID_ARGUMENT,
                 "out is NULL");
    cr_assert_eq(imbal_metrics_create(ctx, 3, 2, &m), IMBAL_OK);

    const int32_t y[] = {0, 1, 2, 1}, bad_y[] = {0, 1, 3, 1}, bad_p[] = {0, 1, 2, -1};
    expect_error(ctx, imbal_metrics_add(ctx, m, bad_y, y, 4), IMBAL_ERR_DATA,
                 "labels[2] is 3, outside [0, 3)");
    expect_error(ctx, imbal_metrics_add(ctx, m, y, bad_p, 4), IMBAL_ERR_DATA,
                 "preds[3] is -1, outside [0, 3)");
    expect_error(ctx, imbal_metrics_add(ctx, NULL, y, y, 4), IMBAL_ERR_INVALID_ARGUMENT,
                 "metrics is NULL");
    expect_error(ctx, imbal_metrics_add(ctx, m, NULL, y, 4), IMBAL_ERR_INVALID_ARGUMENT,
                 "labels is NULL");
    expect_error(ctx, imbal_metrics_add(ctx, m, y, NULL, 4), IMBAL_ERR_INVALID_ARGUMENT,
                 "preds is NULL");
    expect_error(ctx, imbal_metrics_add(ctx, m, y, y, -1), IMBAL_ERR_INVALID_ARGUMENT, "n is -1");

    const float x[] = {0, 1, 2, 1, 0, 2, 1, 2, NAN, 0, 1, 2};
    expect_error(ctx, imbal_metrics_add_logits(ctx, m, x, y, 4), IMBAL_ERR_DATA,
                 "row 2 of the logits has a NaN");
    expect_error(ctx, imbal_metrics_add_logits(ctx, m, x, bad_y, 4), IMBAL_ERR_DATA,
                 "labels[2] is 3");
    expect_error(ctx, imbal_metrics_add_logits(ctx, m, NULL, y, 4), IMBAL_ERR_INVALID_ARGUMENT,
                 "logits is NULL");
    /* Nothing was added by the failed calls. */
    for (int i = 0; i < 9; ++i)
        cr_expect_eq(imbal_metrics_confusion(m)[i], 0);

    imbal_metrics_report r;
    expect_error(ctx, imbal_metrics_compute(ctx, m, NULL, &r), IMBAL_ERR_DATA, "no samples");
    cr_assert_eq(imbal_metrics_add(ctx, m, y, y, 4), IMBAL_OK);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    o.beta = 0;
    expect_error(ctx, imbal_metrics_compute(ctx, m, &o, &r), IMBAL_ERR_INVALID_ARGUMENT,
                 "beta is 0");
    o.beta = -1;
    expect_error(ctx, imbal_metrics_compute(ctx, m, &o, &r), IMBAL_ERR_INVALID_ARGUMENT,
                 "beta is -1");
    o.beta = NAN;
    expect_error(ctx, imbal_metrics_compute(ctx, m, &o, &r), IMBAL_ERR_INVALID_ARGUMENT,
                 "beta is nan");
    imbal_metrics_options_default(&o);
    const int64_t neg[3] = {5, -2, 7};
    o.train_counts = neg;
    expect_error(ctx, imbal_metrics_compute(ctx, m, &o, &r), IMBAL_ERR_INVALID_ARGUMENT,
                 "train_counts[1] is -2");
    const int64_t ok[3] = {5, 2, 7};
    o.train_counts = ok;
    o.few_below = 200;
    expect_error(ctx, imbal_metrics_compute(ctx, m, &o, &r), IMBAL_ERR_INVALID_ARGUMENT,
                 "few_below 200");
    expect_error(ctx, imbal_metrics_compute(ctx, NULL, NULL, &r), IMBAL_ERR_INVALID_ARGUMENT,
                 "metrics is NULL");
    expect_error(ctx, imbal_metrics_compute(ctx, m, NULL, NULL), IMBAL_ERR_INVALID_ARGUMENT,
                 "out is NULL");

    cr_assert_eq(imbal_metrics_compute(ctx, m, NULL, &r), IMBAL_OK);
    imbal_metrics *other = NULL;
    cr_assert_eq(imbal_metrics_create(ctx, 4, 1, &other), IMBAL_OK);
    expect_error(ctx, imbal_metrics_write_json(ctx, "/tmp/x.json", other, &r, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT, "3 classes");
    expect_error(ctx, imbal_metrics_write_json(ctx, NULL, m, &r, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT, "path is NULL");
    expect_error(ctx, imbal_metrics_write_json(ctx, "/tmp/x.json", m, NULL, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT, "report is NULL");
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(other);
    imbal_metrics_destroy(m);
    imbal_metrics_destroy(NULL);
    imbal_metrics_reset(NULL);
    cr_expect_eq(imbal_metrics_num_classes(NULL), 0);
    imbal_ctx_destroy(ctx);
}
