/* Loss (CPU twin): finite-difference gradients for every kind and reduction, edge cases (C = 1,
 * huge and -inf logits, zero weights, all rows ignored, focal gamma sweep and p_y -> 1), data
 * checks and the validation of every argument. PyTorch references are in test_loss_ref.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/loss.h"
#include "loss_cpu.h"
#include "loss_cpu_vec.h"
#include "loss_internal.h"
#include "test_util.h"

#define CPU imbal_device_cpu()

static imbal_tensor t1(float *data, int64_t n) {
    int64_t s[1] = {n};
    return imbal_tensor_wrap(data, IMBAL_F32, 1, s, CPU);
}
static imbal_tensor t2(void *data, imbal_dtype dt, int64_t n, int64_t c) {
    int64_t s[2] = {n, c};
    return imbal_tensor_wrap(data, dt, 2, s, CPU);
}
static imbal_tensor ti64(int64_t *data, int64_t n) {
    int64_t s[1] = {n};
    return imbal_tensor_wrap(data, IMBAL_I64, 1, s, CPU);
}
static imbal_tensor scalar(float *v) {
    return imbal_tensor_wrap(v, IMBAL_F32, 0, NULL, CPU);
}

/* A tiny deterministic generator for test data (not the library's RNG: just fixed values). */
static float frand(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f;
}

typedef struct problem {
    imbal_loss_params p;
    int64_t n, c;
    float *x, *tf, *cw, *sw, *counts, *pw;
    int64_t *ti;
} problem;

static void problem_make(problem *pr, imbal_loss_kind kind, imbal_reduction red, int64_t n,
                         int64_t c, int with_weights, uint32_t seed) {
    memset(pr, 0, sizeof *pr);
    imbal_loss_params_default(&pr->p, kind);
    pr->p.reduction = red;
    pr->n = n;
    pr->c = c;
    pr->x = calloc((size_t)(n * c), sizeof(float));
    pr->tf = calloc((size_t)(n * c), sizeof(float));
    pr->ti = calloc((size_t)n, sizeof(int64_t));
    for (int64_t i = 0; i < n * c; ++i) {
        pr->x[i] = 4.0f * frand(&seed) - 2.0f;
        float u = frand(&seed);
        pr->tf[i] = u < 0.4f ? 0.0f : u < 0.7f ? 1.0f : frand(&seed);
    }
    for (int64_t i = 0; i < n; ++i)
        pr->ti[i] = (int64_t)(frand(&seed) * (float)c) % c;
    if (imbal_loss_is_softmax(kind) && n > 2) pr->ti[1] = pr->p.ignore_index;
    if (with_weights) {
        pr->cw = calloc((size_t)c, sizeof(float));
        pr->sw = calloc((size_t)n, sizeof(float));
        pr->pw = calloc((size_t)c, sizeof(float));
        for (int64_t j = 0; j < c; ++j)
            pr->cw[j] = 0.2f + 2.0f * frand(&seed);
        for (int64_t j = 0; j < c; ++j)
            pr->pw[j] = 0.2f + 3.0f * frand(&seed);
        for (int64_t i = 0; i < n; ++i)
            pr->sw[i] = 0.1f + 2.0f * frand(&seed);
    }
    pr->counts = calloc((size_t)c, sizeof(float));
    for (int64_t j = 0; j < c; ++j)
        pr->counts[j] = (float)(1 + (int)(300.0f * frand(&seed) * frand(&seed)));
}

static void problem_free(problem *pr) {
    free(pr->x);
    free(pr->tf);
    free(pr->ti);
    free(pr->cw);
    free(pr->sw);
    free(pr->pw);
    free(pr->counts);
}

/* Runs the loss on x (f32). Returns the value whose gradient dlogits is: grad_scale * loss, or
 * grad_scale * sum(per_sample) with reduction none. */
static double run(imbal_ctx *ctx, const problem *pr, const float *x, float *dl, imbal_status *st) {
    int softmax = imbal_loss_is_softmax(pr->p.kind);
    imbal_tensor lg = t2((void *)x, IMBAL_F32, pr->n, pr->c);
    imbal_tensor tg = softmax ? ti64(pr->ti, pr->n) : t2(pr->tf, IMBAL_F32, pr->n, pr->c);
    imbal_tensor cw = t1(pr->cw, pr->c), sw = t1(pr->sw, pr->n), pw = t1(pr->pw, pr->c);
    imbal_tensor cnt = t1(pr->counts, pr->c);
    int counts = pr->p.kind == IMBAL_LOSS_BALANCED_SOFTMAX || pr->p.kind == IMBAL_LOSS_LDAM;
    imbal_loss_inputs in = {&lg,
                            &tg,
                            pr->cw ? &cw : NULL,
                            pr->sw ? &sw : NULL,
                            counts ? &cnt : NULL,
                            pr->pw && pr->p.kind == IMBAL_LOSS_BCE ? &pw : NULL};
    float loss = NAN;
    float *per = calloc((size_t)(pr->n * pr->c), sizeof(float));
    imbal_tensor lt = scalar(&loss);
    imbal_tensor pt = softmax ? t1(per, pr->n) : t2(per, IMBAL_F32, pr->n, pr->c);
    imbal_tensor dt = t2(dl, IMBAL_F32, pr->n, pr->c);
    int none = pr->p.reduction == IMBAL_REDUCTION_NONE;
    imbal_loss_outputs out = {none ? NULL : &lt, &pt, dl ? &dt : NULL};
    *st = imbal_loss(ctx, CPU, &pr->p, &in, &out);
    double v = loss;
    if (none) {
        v = 0;
        for (int64_t i = 0; i < (softmax ? pr->n : pr->n * pr->c); ++i)
            v += per[i];
    }
    free(per);
    return v * pr->p.grad_scale;
}

static void fd_check(imbal_ctx *ctx, problem *pr, const char *what) {
    int64_t nc = pr->n * pr->c;
    float *dl = calloc((size_t)nc, sizeof(float));
    float *xp = malloc((size_t)nc * sizeof(float));
    imbal_status st;
    run(ctx, pr, pr->x, dl, &st);
    cr_assert_eq(st, IMBAL_OK, "%s: %s", what, imbal_ctx_error(ctx));
    double h = 1e-2;
    for (int64_t k = 0; k < nc; ++k) {
        memcpy(xp, pr->x, (size_t)nc * sizeof(float));
        xp[k] = (float)(pr->x[k] + h);
        double up = run(ctx, pr, xp, NULL, &st);
        xp[k] = (float)(pr->x[k] - h);
        double dn = run(ctx, pr, xp, NULL, &st);
        double hh = ((double)(float)(pr->x[k] + h) - (double)(float)(pr->x[k] - h));
        double fd = (up - dn) / hh;
        double tol = 2e-3 + 5e-3 * fabs(fd);
        cr_expect(fabs(fd - dl[k]) <= tol, "%s: element %lld analytic %.7g numeric %.7g", what,
                  (long long)k, (double)dl[k], fd);
    }
    free(dl);
    free(xp);
}

Test(loss_grad, finite_differences_every_kind_and_reduction) {
    imbal_ctx *ctx = tu_ctx();
    const imbal_loss_kind kinds[6] = {IMBAL_LOSS_CE,
                                      IMBAL_LOSS_FOCAL,
                                      IMBAL_LOSS_SIGMOID_FOCAL,
                                      IMBAL_LOSS_BCE,
                                      IMBAL_LOSS_BALANCED_SOFTMAX,
                                      IMBAL_LOSS_LDAM};
    uint32_t seed = 7;
    for (int k = 0; k < 6; ++k)
        for (int r = 0; r < 3; ++r)
            for (int w = 0; w < 2; ++w) {
                problem pr;
                problem_make(&pr, kinds[k], (imbal_reduction)r, 5, 4, w, seed++);
                pr.p.grad_scale = w ? 0.7f : 1.0f;
                if (kinds[k] == IMBAL_LOSS_CE || kinds[k] == IMBAL_LOSS_BALANCED_SOFTMAX ||
                    kinds[k] == IMBAL_LOSS_LDAM)
                    pr.p.label_smoothing = w ? 0.15f : 0.0f;
                if (kinds[k] == IMBAL_LOSS_FOCAL) pr.p.gamma = w ? 0.5f : 2.0f;
                if (kinds[k] == IMBAL_LOSS_SIGMOID_FOCAL) {
                    pr.p.gamma = w ? 1.5f : 2.0f;
                    pr.p.alpha = w ? -1.0f : 0.25f;
                }
                if (kinds[k] == IMBAL_LOSS_LDAM) {
                    pr.p.ldam_scale = 4.0f;
                    pr.p.ldam_max_margin = 0.4f;
                }
                if (kinds[k] == IMBAL_LOSS_BALANCED_SOFTMAX) pr.p.tau = w ? 0.7f : 1.0f;
                if (w && r == 0 && imbal_loss_is_softmax(kinds[k]))
                    pr.p.weight_norm = IMBAL_WEIGHT_NORM_COUNT;
                char what[96];
                snprintf(what, sizeof what, "%s/%s/%s", imbal_loss_kind_name(kinds[k]),
                         imbal_reduction_name((imbal_reduction)r), w ? "weighted" : "plain");
                fd_check(ctx, &pr, what);
                problem_free(&pr);
            }
    imbal_ctx_destroy(ctx);
}

Test(loss_grad, focal_gamma_sweep_finite_differences) {
    imbal_ctx *ctx = tu_ctx();
    const float gammas[5] = {0.0f, 0.5f, 1.0f, 2.0f, 5.0f};
    for (int g = 0; g < 5; ++g) {
        problem pr;
        problem_make(&pr, IMBAL_LOSS_FOCAL, IMBAL_REDUCTION_MEAN, 6, 5, 1, 100u + (uint32_t)g);
        pr.p.gamma = gammas[g];
        char what[64];
        snprintf(what, sizeof what, "focal gamma %g", (double)gammas[g]);
        fd_check(ctx, &pr, what);
        problem_free(&pr);
    }
    imbal_ctx_destroy(ctx);
}

/* gamma = 0 takes the ce arithmetic unchanged: bit-identical loss, per-sample and dlogits. */
Test(loss_edge, focal_gamma0_equals_ce_bitwise) {
    imbal_ctx *ctx = tu_ctx();
    for (int r = 0; r < 3; ++r) {
        problem a, b;
        problem_make(&a, IMBAL_LOSS_CE, (imbal_reduction)r, 9, 6, 1, 55);
        problem_make(&b, IMBAL_LOSS_FOCAL, (imbal_reduction)r, 9, 6, 1, 55);
        b.p.gamma = 0.0f;
        float da[54], db[54];
        imbal_status st;
        double la = run(ctx, &a, a.x, da, &st);
        cr_assert_eq(st, IMBAL_OK);
        double lb = run(ctx, &b, b.x, db, &st);
        cr_assert_eq(st, IMBAL_OK);
        cr_expect_eq(la, lb, "reduction %d: ce %.9g focal %.9g", r, la, lb);
        cr_expect(memcmp(da, db, sizeof da) == 0, "reduction %d: dlogits differ", r);
        problem_free(&a);
        problem_free(&b);
    }
    imbal_ctx_destroy(ctx);
}

/* p_y -> 1: u = 1 - p_y ~ 2e-13 with gamma 0.5 keeps a finite, tiny gradient; p_y = 1 exactly
 * (u underflows) gives loss 0 and gradient 0. */
Test(loss_edge, focal_confident_rows_are_finite) {
    imbal_ctx *ctx = tu_ctx();
    problem pr;
    problem_make(&pr, IMBAL_LOSS_FOCAL, IMBAL_REDUCTION_SUM, 2, 3, 0, 3);
    pr.p.gamma = 0.5f;
    float x[6] = {30.0f, 0.0f, 0.0f, 200.0f, 0.0f, 0.0f};
    pr.ti[0] = 0;
    pr.ti[1] = 0;
    float dl[6];
    imbal_status st;
    double l = run(ctx, &pr, x, dl, &st);
    cr_assert_eq(st, IMBAL_OK);
    /* u = 2 e^-30, loss = u^0.5 * -log(1-u) ~ u^1.5 */
    double u = 2.0 * exp(-30.0);
    cr_expect(fabs(l - pow(u, 1.5)) <= 1e-3 * pow(u, 1.5), "loss %.9g", l);
    for (int j = 0; j < 6; ++j)
        cr_expect(isfinite(dl[j]), "dlogits[%d] = %g", j, (double)dl[j]);
    /* d/dx_1 = w F (p_1) with F = u^0.5 (1 + 0.5 p_y) -> 1.5 u^0.5 * e^-30 */
    double want = 1.5 * sqrt(u) * exp(-30.0);
    cr_expect(fabs(dl[1] - want) <= 1e-3 * want, "dlogits[1] %.9g want %.9g", (double)dl[1], want);
    cr_expect_eq(dl[3], 0.0f);
    cr_expect_eq(dl[4], 0.0f);
    cr_expect_eq(dl[5], 0.0f);
    problem_free(&pr);
    imbal_ctx_destroy(ctx);
}

Test(loss_edge, huge_and_masked_logits) {
    imbal_ctx *ctx = tu_ctx();
    problem pr;
    problem_make(&pr, IMBAL_LOSS_CE, IMBAL_REDUCTION_NONE, 2, 3, 0, 3);
    float x[6] = {1e4f, -1e4f, 0.0f, 1.0f, -INFINITY, 2.0f};
    pr.ti[0] = 1;
    pr.ti[1] = 2;
    float dl[6];
    imbal_status st;
    double l = run(ctx, &pr, x, dl, &st);
    cr_assert_eq(st, IMBAL_OK, "%s", imbal_ctx_error(ctx));
    double row1 = log1p(exp(-1.0)); /* -log softmax over {1, 2} at 2 */
    cr_expect(fabs(l - (2e4 + row1)) <= 2e4 * 1e-6, "loss %.9g", l);
    cr_expect_eq(dl[0], 1.0f);
    cr_expect_eq(dl[1], -1.0f);
    cr_expect_eq(dl[2], 0.0f);
    cr_expect_eq(dl[4], 0.0f);
    double p1 = 1.0 / (1.0 + exp(1.0));
    cr_expect(fabs(dl[3] - p1) < 1e-6, "dl[3] %g want %g", (double)dl[3], p1);
    cr_expect(fabs(dl[5] + p1) < 1e-6, "dl[5] %g want %g", (double)dl[5], -p1);
    /* An all -inf row is NaN, as in PyTorch. */
    float y[3] = {-INFINITY, -INFINITY, -INFINITY};
    problem one;
    problem_make(&one, IMBAL_LOSS_CE, IMBAL_REDUCTION_SUM, 1, 3, 0, 3);
    one.ti[0] = 0;
    cr_expect(isnan(run(ctx, &one, y, dl, &st)));
    problem_free(&one);
    problem_free(&pr);
    imbal_ctx_destroy(ctx);
}

Test(loss_edge, all_rows_ignored_and_zero_weight) {
    imbal_ctx *ctx = tu_ctx();
    for (int r = 0; r < 2; ++r) {
        problem pr;
        problem_make(&pr, IMBAL_LOSS_CE, (imbal_reduction)r, 3, 4, 1, 9);
        pr.p.label_smoothing = 0.1f;
        for (int i = 0; i < 3; ++i)
            pr.ti[i] = -100;
        float dl[12];
        imbal_status st;
        double l = run(ctx, &pr, pr.x, dl, &st);
        cr_assert_eq(st, IMBAL_OK);
        if (r == 0)
            cr_expect(isnan(l), "mean of no rows %g", l);
        else
            cr_expect_eq(l, 0.0);
        for (int k = 0; k < 12; ++k)
            cr_expect_eq(dl[k], 0.0f);
        problem_free(&pr);
    }
    /* A target whose class weight is 0 contributes nothing (PyTorch: also not to the mean's
     * denominator). */
    problem pr;
    problem_make(&pr, IMBAL_LOSS_CE, IMBAL_REDUCTION_MEAN, 2, 3, 0, 9);
    float cw[3] = {1.0f, 0.0f, 2.0f};
    pr.cw = malloc(sizeof cw);
    memcpy(pr.cw, cw, sizeof cw);
    float x[6] = {0.5f, 1.0f, -1.0f, 0.0f, 0.3f, 0.2f};
    pr.ti[0] = 1;
    pr.ti[1] = 2;
    float dl[6];
    imbal_status st;
    double l = run(ctx, &pr, x, dl, &st);
    cr_assert_eq(st, IMBAL_OK);
    double s = exp(0.0) + exp(0.3) + exp(0.2);
    cr_expect(fabs(l - (-log(exp(0.2) / s))) < 1e-6, "loss %.9g", l);
    for (int j = 0; j < 3; ++j)
        cr_expect_eq(dl[j], 0.0f);
    problem_free(&pr);
    imbal_ctx_destroy(ctx);
}

Test(loss_edge, single_class) {
    imbal_ctx *ctx = tu_ctx();
    problem pr;
    problem_make(&pr, IMBAL_LOSS_FOCAL, IMBAL_REDUCTION_MEAN, 4, 1, 1, 2);
    for (int i = 0; i < 4; ++i)
        pr.ti[i] = 0;
    float dl[4];
    imbal_status st;
    double l = run(ctx, &pr, pr.x, dl, &st);
    cr_assert_eq(st, IMBAL_OK);
    cr_expect_eq(l, 0.0);
    for (int i = 0; i < 4; ++i)
        cr_expect_eq(dl[i], 0.0f);
    problem_free(&pr);
    imbal_ctx_destroy(ctx);
}

/* Half inputs: the result equals the f32 run on the same (exact) values, rounded once. */
Test(loss_edge, half_inputs_match_f32) {
    imbal_ctx *ctx = tu_ctx();
    for (int h = 0; h < 2; ++h) {
        imbal_dtype dt = h ? IMBAL_BF16 : IMBAL_F16;
        problem pr;
        problem_make(&pr, IMBAL_LOSS_CE, IMBAL_REDUCTION_MEAN, 6, 5, 1, 31);
        uint16_t xh[30], dh[30];
        for (int k = 0; k < 30; ++k) {
            xh[k] = h ? imbal_f32_to_bf16(pr.x[k]) : imbal_f32_to_f16(pr.x[k]);
            pr.x[k] = h ? imbal_bf16_to_f32(xh[k]) : imbal_f16_to_f32(xh[k]);
        }
        float dl[30];
        imbal_status st;
        double want = run(ctx, &pr, pr.x, dl, &st);
        imbal_tensor lg = t2(xh, dt, 6, 5), dt2 = t2(dh, dt, 6, 5), tg = ti64(pr.ti, 6);
        imbal_tensor cw = t1(pr.cw, 5), sw = t1(pr.sw, 6);
        float loss;
        imbal_tensor lt = scalar(&loss);
        imbal_loss_inputs in = {&lg, &tg, &cw, &sw, NULL, NULL};
        imbal_loss_outputs out = {&lt, NULL, &dt2};
        cr_assert_eq(imbal_loss(ctx, CPU, &pr.p, &in, &out), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        cr_expect_eq((double)loss, want);
        for (int k = 0; k < 30; ++k) {
            uint16_t r = h ? imbal_f32_to_bf16(dl[k]) : imbal_f32_to_f16(dl[k]);
            cr_expect_eq(dh[k], r, "element %d", k);
        }
        problem_free(&pr);
    }
    imbal_ctx_destroy(ctx);
}

/* Many rows and classes: results are bit-identical with 1, 2 and 3 threads. */
Test(loss_edge, thread_count_independent) {
    imbal_ctx *ctx = tu_ctx();
    for (int k = 0; k < 6; ++k) {
        problem pr;
        problem_make(&pr, (imbal_loss_kind)k, IMBAL_REDUCTION_MEAN, 301, 37, 1, 77);
        float *d1 = malloc(301 * 37 * sizeof(float)), *d2 = malloc(301 * 37 * sizeof(float));
        imbal_status st;
        imbal_ctx_set_threads(ctx, 1);
        double l1 = run(ctx, &pr, pr.x, d1, &st);
        cr_assert_eq(st, IMBAL_OK, "%s", imbal_ctx_error(ctx));
        for (int th = 2; th <= 3; ++th) {
            imbal_ctx_set_threads(ctx, th);
            double l2 = run(ctx, &pr, pr.x, d2, &st);
            cr_expect_eq(l1, l2, "%s threads %d", imbal_loss_kind_name((imbal_loss_kind)k), th);
            cr_expect(memcmp(d1, d2, 301 * 37 * sizeof(float)) == 0);
        }
        free(d1);
        free(d2);
        problem_free(&pr);
    }
    imbal_ctx_destroy(ctx);
}

Test(loss_data, check_finite_names_row_and_class) {
    imbal_ctx *ctx = tu_ctx();
    problem pr;
    problem_make(&pr, IMBAL_LOSS_CE, IMBAL_REDUCTION_MEAN, 6, 5, 0, 4);
    pr.p.check_finite = 1;
    imbal_status st;
    pr.x[4 * 5 + 0] = INFINITY;
    pr.x[2 * 5 + 3] = NAN;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect_eq(st, IMBAL_ERR_DATA);
    cr_expect(strstr(imbal_ctx_error(ctx), "row 2, class 3 is NaN") != NULL, "%s",
              imbal_ctx_error(ctx));
    pr.x[2 * 5 + 3] = -INFINITY; /* allowed: a masked class */
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect_eq(st, IMBAL_ERR_DATA);
    cr_expect(strstr(imbal_ctx_error(ctx), "row 4, class 0 is +inf") != NULL, "%s",
              imbal_ctx_error(ctx));
    pr.x[4 * 5 + 0] = 0.0f;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect_eq(st, IMBAL_OK, "%s", imbal_ctx_error(ctx));
    problem_free(&pr);
    problem_make(&pr, IMBAL_LOSS_BCE, IMBAL_REDUCTION_SUM, 6, 5, 0, 4);
    pr.p.check_finite = 1;
    pr.tf[3 * 5 + 1] = NAN;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect_eq(st, IMBAL_ERR_DATA);
    cr_expect(strstr(imbal_ctx_error(ctx), "targets: row 3, class 1 is NaN") != NULL, "%s",
              imbal_ctx_error(ctx));
    problem_free(&pr);
    imbal_ctx_destroy(ctx);
}

Test(loss_data, bad_targets_and_weights_are_named) {
    imbal_ctx *ctx = tu_ctx();
    problem pr;
    problem_make(&pr, IMBAL_LOSS_CE, IMBAL_REDUCTION_MEAN, 6, 5, 1, 4);
    imbal_status st;
    pr.ti[5] = 7;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect_eq(st, IMBAL_ERR_DATA);
    cr_expect(strstr(imbal_ctx_error(ctx), "row 5 has class 7") != NULL, "%s",
              imbal_ctx_error(ctx));
    pr.ti[5] = -1;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect(strstr(imbal_ctx_error(ctx), "row 5 has class -1") != NULL, "%s",
              imbal_ctx_error(ctx));
    pr.ti[5] = 0;
    pr.cw[3] = -0.5f;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect_eq(st, IMBAL_ERR_DATA);
    cr_expect(strstr(imbal_ctx_error(ctx), "class_weights[3]") != NULL, "%s", imbal_ctx_error(ctx));
    pr.cw[3] = 1.0f;
    pr.sw[2] = NAN;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect(strstr(imbal_ctx_error(ctx), "sample_weights[2]") != NULL, "%s",
              imbal_ctx_error(ctx));
    problem_free(&pr);
    problem_make(&pr, IMBAL_LOSS_LDAM, IMBAL_REDUCTION_MEAN, 6, 5, 0, 4);
    pr.counts[4] = -1.0f;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect(strstr(imbal_ctx_error(ctx), "class_counts[4]") != NULL, "%s", imbal_ctx_error(ctx));
    for (int j = 0; j < 5; ++j)
        pr.counts[j] = 0.0f;
    run(ctx, &pr, pr.x, NULL, &st);
    cr_expect(strstr(imbal_ctx_error(ctx), "class_counts: all 5 counts are 0") != NULL, "%s",
              imbal_ctx_error(ctx));
    problem_free(&pr);
    imbal_ctx_destroy(ctx);
}

/* Each bad argument: IMBAL_ERR_INVALID_ARGUMENT and a message naming it. */
static void expect_invalid(imbal_ctx *ctx, const imbal_loss_params *p, const imbal_loss_inputs *in,
                           const imbal_loss_outputs *out, const char *needle) {
    imbal_status st = imbal_loss(ctx, CPU, p, in, out);
    cr_expect_eq(st, IMBAL_ERR_INVALID_ARGUMENT, "'%s': status %d", needle, (int)st);
    cr_expect(strstr(imbal_ctx_error(ctx), needle) != NULL, "want '%s' in '%s'", needle,
              imbal_ctx_error(ctx));
}

Test(loss_validation, every_argument_is_named) {
    imbal_ctx *ctx = tu_ctx();
    float x[35] = {0}, tf[35] = {0}, w5[5] = {1, 1, 1, 1, 1}, w7[7] = {1, 1, 1, 1, 1, 1, 1}, loss;
    float per[35], dl[35];
    int64_t ti[7] = {0}, ti6[6] = {0};
    uint16_t xh[35] = {0};
    imbal_tensor lg = t2(x, IMBAL_F32, 7, 5), lgh = t2(xh, IMBAL_F16, 7, 5);
    imbal_tensor tg = ti64(ti, 7), tg6 = ti64(ti6, 6), tgf = t2(tf, IMBAL_F32, 7, 5);
    imbal_tensor cw = t1(w5, 5), cw7 = t1(w7, 7), sw = t1(w7, 7), sw5 = t1(w5, 5);
    imbal_tensor lt = scalar(&loss), lt2 = t1(per, 2), pt = t1(per, 7),
                 pt2 = t2(per, IMBAL_F32, 7, 5);
    imbal_tensor dt = t2(dl, IMBAL_F32, 7, 5), dth = t2(dl, IMBAL_F16, 7, 5);
    imbal_tensor lg1 = t1(x, 35);
    imbal_tensor gpu = lg;
    gpu.device = imbal_device_cuda(0);
    imbal_loss_params p;
    imbal_loss_params_default(&p, IMBAL_LOSS_CE);
    imbal_loss_inputs in = {&lg, &tg, NULL, NULL, NULL, NULL};
    imbal_loss_outputs out = {&lt, &pt, &dt};
    cr_assert_eq(imbal_loss(ctx, CPU, &p, &in, &out), IMBAL_OK, "%s", imbal_ctx_error(ctx));

    imbal_loss_inputs bad = in;
    bad.targets = &tg6;
    expect_invalid(ctx, &p, &bad, &out, "targets: expected [7] got [6]");
    bad = in;
    bad.targets = &tgf;
    expect_invalid(ctx, &p, &bad, &out, "targets: expected dtype i32 | i64, got f32");
    bad = in;
    bad.targets = NULL;
    expect_invalid(ctx, &p, &bad, &out, "targets: NULL");
    bad = in;
    bad.logits = &lg1;
    expect_invalid(ctx, &p, &bad, &out, "logits: expected [N, C] got [35]");
    bad = in;
    bad.logits = &gpu;
    expect_invalid(ctx, &p, &bad, &out, "logits: on cuda:0");
    bad = in;
    bad.class_weights = &cw7;
    expect_invalid(ctx, &p, &bad, &out, "class_weights: expected [5] got [7]");
    bad = in;
    bad.sample_weights = &sw5;
    expect_invalid(ctx, &p, &bad, &out, "sample_weights: expected [7] got [5]");
    bad = in;
    bad.class_counts = &cw;
    expect_invalid(ctx, &p, &bad, &out, "class_counts: only balanced-softmax and ldam");
    bad = in;
    bad.pos_weight = &cw;
    expect_invalid(ctx, &p, &bad, &out, "pos_weight: only bce");

    imbal_loss_outputs bo = out;
    bo.loss = &lt2;
    expect_invalid(ctx, &p, &in, &bo, "loss: expected [1] got [2]");
    bo = out;
    bo.per_sample = &pt2;
    expect_invalid(ctx, &p, &in, &bo, "per_sample: expected [7] got [7, 5]");
    bo = out;
    bo.dlogits = &dth;
    expect_invalid(ctx, &p, &in, &bo, "dlogits: expected dtype f32, got f16");
    bad = in;
    bad.logits = &lgh;
    expect_invalid(ctx, &p, &bad, &out, "dlogits: expected dtype f16, got f32");

    imbal_loss_params q = p;
    q.reduction = IMBAL_REDUCTION_NONE;
    expect_invalid(ctx, &q, &in, &out, "loss: must be NULL with reduction none");
    bo = out;
    bo.loss = NULL;
    bo.per_sample = NULL;
    expect_invalid(ctx, &q, &in, &bo, "per_sample: required with reduction none");
    q = p;
    q.label_smoothing = 1.5f;
    expect_invalid(ctx, &q, &in, &out, "params.label_smoothing: 1.5");
    imbal_loss_params_default(&q, IMBAL_LOSS_FOCAL);
    q.label_smoothing = 0.1f;
    expect_invalid(ctx, &q, &in, &out, "not supported by focal");
    imbal_loss_params_default(&q, IMBAL_LOSS_FOCAL);
    q.gamma = -1.0f;
    expect_invalid(ctx, &q, &in, &out, "params.gamma: -1");
    imbal_loss_params_default(&q, IMBAL_LOSS_BALANCED_SOFTMAX);
    expect_invalid(ctx, &q, &in, &out, "class_counts: required by balanced-softmax");
    imbal_loss_params_default(&q, IMBAL_LOSS_LDAM);
    q.ldam_scale = 0.0f;
    expect_invalid(ctx, &q, &in, &out, "params.ldam_scale: 0");
    imbal_loss_params_default(&q, IMBAL_LOSS_SIGMOID_FOCAL);
    q.alpha = 1.5f;
    expect_invalid(ctx, &q, &in, &out, "params.alpha: 1.5");
    q.alpha = 0.25f;
    expect_invalid(ctx, &q, &in, &out, "targets: expected dtype f32, got i64");
    bad = in;
    bad.targets = &tgf;
    bo = out;
    expect_invalid(ctx, &q, &bad, &bo, "per_sample: expected [7, 5] got [7]");
    q = p;
    q.grad_scale = NAN;
    expect_invalid(ctx, &q, &in, &out, "params.grad_scale");
    q = p;
    q.kind = (imbal_loss_kind)42;
    expect_invalid(ctx, &q, &in, &out, "params.kind");
    (void)sw;
    imbal_ctx_destroy(ctx);
}

Test(loss_names, parse_and_print) {
    imbal_ctx *ctx = tu_ctx();
    const char *names[6] = {"ce", "focal", "sigmoid-focal", "bce", "balanced-softmax", "ldam"};
    for (int k = 0; k < 6; ++k) {
        imbal_loss_kind out;
        cr_assert_eq(imbal_loss_kind_parse(ctx, names[k], &out), IMBAL_OK);
        cr_expect_eq((int)out, k);
        cr_expect_str_eq(imbal_loss_kind_name(out), names[k]);
    }
    imbal_loss_kind out;
    cr_expect_eq(imbal_loss_kind_parse(ctx, "hinge", &out), IMBAL_ERR_INVALID_ARGUMENT);
    cr_expect(strstr(imbal_ctx_error(ctx), "'hinge'") != NULL);
    imbal_reduction r;
    cr_expect_eq(imbal_reduction_parse(ctx, "sum", &r), IMBAL_OK);
    cr_expect_eq(r, IMBAL_REDUCTION_SUM);
    cr_expect_str_eq(imbal_reduction_name(IMBAL_REDUCTION_NONE), "none");
    cr_expect_eq(imbal_reduction_parse(ctx, "avg", &r), IMBAL_ERR_INVALID_ARGUMENT);
    cr_expect(strstr(imbal_ctx_error(ctx), "'avg'") != NULL);
    imbal_loss_params p;
    imbal_loss_params_default(&p, IMBAL_LOSS_LDAM);
    cr_expect_eq(p.gamma, 2.0f);
    cr_expect_eq(p.alpha, 0.25f);
    cr_expect_eq(p.ignore_index, -100);
    cr_expect_eq(p.ldam_scale, 30.0f);
    cr_expect_eq(p.ldam_max_margin, 0.5f);
    cr_expect_eq(p.grad_scale, 1.0f);
    imbal_ctx_destroy(ctx);
}

/* The vectorisable exp of the row passes: within 2 ulp of the correctly rounded value on
 * [-87.3, 0], exactly 1 at 0, 0 below, NaN kept. */
static int64_t ulp_distance(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    return ia > ib ? (int64_t)ia - ib : (int64_t)ib - ia;
}

Test(loss_math, expf_nonpos_accuracy) {
    int64_t worst = 0;
    for (int64_t k = 0; k <= 2000000; ++k) {
        float x = (float)(-87.3 * (double)k / 2000000.0);
        float want = (float)exp((double)x);
        int64_t d = ulp_distance(imbal_expf_nonpos(x), want);
        if (d > worst) worst = d;
    }
    cr_expect_leq(worst, 2, "worst error %lld ulp", (long long)worst);
    cr_expect_eq(imbal_expf_nonpos(0.0f), 1.0f);
    cr_expect_eq(imbal_expf_nonpos(-1e-8f), (float)exp(-1e-8));
    cr_expect_eq(imbal_expf_nonpos(-90.0f), 0.0f);
    cr_expect_eq(imbal_expf_nonpos(-INFINITY), 0.0f);
    cr_expect(isnan(imbal_expf_nonpos(NAN)));
}

/* The 16-lane exp of the wide softmax rows gives the scalar exp's bits, lane by lane, over
 * [-100, 0] and the special values (the narrow-row pass uses the scalar one). */
Test(loss_math, vector_exp_matches_scalar) {
    int64_t differ = 0;
    for (int64_t k = 0; k < 200000; ++k) {
        float x[IMBAL_VL], got[IMBAL_VL];
        for (int l = 0; l < IMBAL_VL; ++l)
            x[l] = (float)(-100.0 * (double)(k * IMBAL_VL + l) / (200000.0 * IMBAL_VL));
        if (k == 0) x[1] = -INFINITY, x[2] = NAN, x[3] = -87.3f, x[4] = -0.0f, x[5] = -1e-30f;
        imbal_wstore(got, imbal_wexp_nonpos(imbal_wload(x)));
        for (int l = 0; l < IMBAL_VL; ++l) {
            float want = imbal_expf_nonpos(x[l]);
            differ += memcmp(&got[l], &want, sizeof want) != 0;
        }
    }
    cr_expect_eq(differ, 0, "%lld lanes differ from the scalar exp", (long long)differ);
}

Test(loss_math, log_helpers_accuracy) {
    int64_t worst1 = 0, worst2 = 0;
    for (int64_t k = 0; k <= 1000000; ++k) {
        float e = (float)((double)k / 1000000.0);
        int64_t d = ulp_distance(imbal_log1pf_unit(e), (float)log1p((double)e));
        if (d > worst1) worst1 = d;
    }
    for (int64_t k = 1; k <= 1000000; ++k) {
        /* log-spaced over [1e-44, 1]: subnormals, normals, and values near 1 */
        float x = (float)exp(-101.3 * (double)k / 1000000.0);
        if (x == 0.0f) continue;
        float want = (float)log((double)x);
        int64_t d = ulp_distance(imbal_logf_pos(x), want);
        if (fabs((double)want) < 1e-3) d = fabs(imbal_logf_pos(x) - want) < 1e-9 ? 0 : d;
        if (d > worst2) worst2 = d;
    }
    cr_expect_leq(worst1, 3, "log1p worst %lld ulp", (long long)worst1);
    cr_expect_leq(worst2, 3, "log worst %lld ulp", (long long)worst2);
    cr_expect_eq(imbal_log1pf_unit(0.0f), 0.0f);
    cr_expect_eq(imbal_logf_pos(1.0f), 0.0f);
    cr_expect_eq(imbal_loss_select(1, 2.0f, 3.0f), 2.0f);
    cr_expect_eq(imbal_loss_select(0, 2.0f, 3.0f), 3.0f);
}

/* log S of the softmax rows: log(S) within 3 ulp for S in [1, 1e6] when the target is not the
 * maximum, log1p(S_other) within 3 ulp (absolutely tiny near 0) when it is; NaN kept. */
Test(loss_math, softmax_log_s_accuracy) {
    int64_t worst1 = 0, worst2 = 0;
    for (int64_t k = 0; k <= 1000000; ++k) {
        float sum = (float)exp(13.8 * (double)k / 1000000.0);
        int64_t d = ulp_distance(imbal_softmax_log_s(0.5f, sum - 0.5f, sum), (float)log(sum));
        if (d > worst1) worst1 = d;
        float so = (float)(exp(13.8 * (double)k / 1000000.0) - 1.0);
        float got = imbal_softmax_log_s(1.0f, so, so + 1.0f), want = (float)log1p((double)so);
        d = ulp_distance(got, want);
        if (fabs((double)want) < 1e-6) d = fabs(got - want) < 1e-12 ? 0 : d;
        if (d > worst2) worst2 = d;
    }
    /* the one-row form (softmax_row) selects the same bits */
    int64_t differ = 0;
    for (int64_t k = 0; k <= 100000; ++k) {
        float so = (float)(exp(13.8 * (double)k / 100000.0) - 1.0);
        const float eys[] = {1.0f, 0.5f, 0.0f};
        for (int q = 0; q < 3; ++q) {
            float a = imbal_softmax_log_s(eys[q], so, so + eys[q]);
            float b = imbal_softmax_log_s_row(eys[q], so, so + eys[q]);
            differ += memcmp(&a, &b, sizeof a) != 0;
        }
    }
    float nan_row = imbal_softmax_log_s_row(NAN, NAN, NAN);
    cr_expect(isnan(nan_row));
    cr_expect_eq(differ, 0, "%lld one-row logs differ", (long long)differ);
    cr_expect_leq(worst1, 3, "log worst %lld ulp", (long long)worst1);
    cr_expect_leq(worst2, 3, "log1p worst %lld ulp", (long long)worst2);
    cr_expect_eq(imbal_softmax_log_s(1.0f, 0.0f, 1.0f), 0.0f);
    cr_expect(isnan(imbal_softmax_log_s(NAN, NAN, NAN)));
}

/* The narrow-row pass (C < 16: 16 rows in vector lanes) against row by row: the same bits for
 * the loss, the per-sample losses and dlogits, for every softmax kind, C from 1 to 15, a row
 * count that leaves a part block, ignored rows, class and sample weights, label smoothing, focal
 * gammas, -inf and huge logits, f32/bf16/f16, and dlogits written over the logits. */
Test(loss_cpu, narrow_rows_match_row_by_row) {
    imbal_ctx *ctx = tu_ctx();
    const imbal_loss_kind kinds[] = {IMBAL_LOSS_CE, IMBAL_LOSS_FOCAL, IMBAL_LOSS_BALANCED_SOFTMAX,
                                     IMBAL_LOSS_LDAM};
    const int cs[] = {1, 2, 3, 8, 9, 10, 15}; /* 9: the first C moved by transposes */
    const imbal_dtype dts[] = {IMBAL_F32, IMBAL_BF16, IMBAL_F16};
    const float gammas[] = {0.0f, 0.5f, 2.0f, 3.0f};
    const int64_t n = 37;
    uint32_t seed = 99;
    int cases = 0;
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0]; ++ki)
        for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ++ci)
            for (size_t di = 0; di < sizeof dts / sizeof dts[0]; ++di)
                for (int variant = 0; variant < 4; ++variant) {
                    const int64_t c = cs[ci];
                    const imbal_dtype dt = dts[di];
                    const size_t esz = dt == IMBAL_F32 ? 4 : 2;
                    float *xf = malloc((size_t)(n * c) * sizeof *xf);
                    void *x = malloc((size_t)(n * c) * esz), *x2 = malloc((size_t)(n * c) * esz);
                    int64_t *tg = malloc((size_t)n * sizeof *tg);
                    float cw[16], counts[16], *sw = malloc((size_t)n * sizeof *sw);
                    for (int64_t i = 0; i < n * c; ++i) {
                        xf[i] = 6.0f * frand(&seed);
                        if (i % 29 == 3) xf[i] = -INFINITY;
                        if (i % 31 == 5) xf[i] = 1e4f;
                    }
                    for (int64_t i = 0; i < n; ++i) {
                        tg[i] = (int64_t)((frand(&seed) * 0.5f + 0.5f) * (float)c) % c;
                        if (i % 7 == 2) tg[i] = -100;
                        sw[i] = 0.5f + frand(&seed) * 0.25f;
                        /* keep the target finite so the loss is */
                        if (tg[i] >= 0 && !isfinite(xf[i * c + tg[i]])) xf[i * c + tg[i]] = 0.5f;
                    }
                    for (int64_t j = 0; j < c; ++j)
                        cw[j] = 0.25f + (float)j * 0.1f, counts[j] = (float)(100 >> (j % 7));
                    for (int64_t i = 0; i < n * c; ++i) {
                        if (dt == IMBAL_F32)
                            ((float *)x)[i] = xf[i];
                        else if (dt == IMBAL_BF16)
                            ((uint16_t *)x)[i] = imbal_f32_to_bf16(xf[i]);
                        else
                            ((uint16_t *)x)[i] = imbal_f32_to_f16(xf[i]);
                    }
                    memcpy(x2, x, (size_t)(n * c) * esz);
                    imbal_loss_job job[2];
                    float loss[2], *ps[2];
                    void *dl[2];
                    for (int path = 0; path < 2; ++path) {
                        imbal_loss_job *jb = &job[path];
                        memset(jb, 0, sizeof *jb);
                        imbal_loss_params_default(&jb->p, kinds[ki]);
                        jb->p.gamma = gammas[variant];
                        jb->p.reduction =
                            variant == 3 ? IMBAL_REDUCTION_NONE : IMBAL_REDUCTION_MEAN;
                        if (variant == 1 && kinds[ki] != IMBAL_LOSS_FOCAL)
                            jb->p.label_smoothing = 0.1f;
                        jb->n = n, jb->c = c, jb->dtype = dt;
                        jb->logits = path ? x2 : x;
                        jb->targets = tg, jb->target_dtype = IMBAL_I64;
                        jb->class_weights = variant >= 1 ? cw : NULL;
                        jb->sample_weights = variant >= 2 ? sw : NULL;
                        jb->class_counts =
                            kinds[ki] == IMBAL_LOSS_BALANCED_SOFTMAX || kinds[ki] == IMBAL_LOSS_LDAM
                                ? counts
                                : NULL;
                        jb->loss = &loss[path];
                        ps[path] = calloc((size_t)n, sizeof(float));
                        jb->per_sample = ps[path];
                        /* variant 2: dlogits over the logits (in place) */
                        dl[path] = variant == 2 ? (path ? x2 : x) : calloc((size_t)(n * c), esz);
                        jb->dlogits = dl[path];
                        cr_assert_eq(imbal_loss_cpu_path(ctx, jb, path == 0), IMBAL_OK, "%s",
                                     imbal_ctx_error(ctx));
                    }
                    cr_assert(memcmp(&loss[0], &loss[1], sizeof loss[0]) == 0 ||
                                  (isnan(loss[0]) && isnan(loss[1])),
                              "kind %d C %lld dtype %d variant %d: loss %.9g vs %.9g", (int)ki,
                              (long long)c, (int)di, variant, (double)loss[0], (double)loss[1]);
                    cr_assert(memcmp(ps[0], ps[1], (size_t)n * sizeof(float)) == 0,
                              "kind %d C %lld dtype %d variant %d: per-sample losses differ",
                              (int)ki, (long long)c, (int)di, variant);
                    cr_assert(memcmp(dl[0], dl[1], (size_t)(n * c) * esz) == 0,
                              "kind %d C %lld dtype %d variant %d: dlogits differ", (int)ki,
                              (long long)c, (int)di, variant);
                    if (variant != 2) free(dl[0]), free(dl[1]);
                    free(ps[0]), free(ps[1]), free(xf), free(x), free(x2), free(tg), free(sw);
                    ++cases;
                }
    cr_expect_eq(cases, 4 * 7 * 3 * 4);
    imbal_ctx_destroy(ctx);
}
