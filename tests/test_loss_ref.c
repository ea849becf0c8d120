/* Loss: every case of tests/data/loss/cases.txt (PyTorch 1.13 / torchvision 0.14 references made by
 * make_loss_reference.py) through the CPU twin: the reduced loss, per-sample losses and the
 * autograd gradient; also bit-identical results with 1 and 2 threads, in place and not. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/loss.h"
#include "imbal/npy.h"
#include "loss_internal.h"
#include "test_util.h"

#define LOSS_DIR IMBAL_TEST_DATA_DIR "/loss/"

typedef struct ref_case {
    char name[64], kind[32], reduction[8], dtype[8], norm[16], tdtype[8];
    double gamma, alpha, eps, tau, ldam_m, ldam_s, grad_scale;
    long long ignore;
    int cw, sw, pw, counts;
} ref_case;

static void load(imbal_ctx *ctx, const char *name, const char *what, imbal_tensor *t) {
    char path[512];
    snprintf(path, sizeof path, LOSS_DIR "%s_%s.npy", name, what);
    imbal_status st = imbal_npy_read(ctx, path, t);
    cr_assert_eq(st, IMBAL_OK, "%s: %s", path, imbal_ctx_error(ctx));
}

/* An f32 CPU tensor converted to dtype (values are exact there by construction). */
static imbal_tensor to_dtype(imbal_ctx *ctx, const imbal_tensor *f, imbal_dtype dtype) {
    imbal_tensor t;
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, dtype, f->ndim, f->shape, imbal_device_cpu()),
                 IMBAL_OK);
    int64_t n = imbal_tensor_numel(f);
    const float *src = f->data;
    for (int64_t i = 0; i < n; ++i) {
        if (dtype == IMBAL_F32) ((float *)t.data)[i] = src[i];
        if (dtype == IMBAL_F16) {
            uint16_t h = imbal_f32_to_f16(src[i]);
            cr_assert_eq(imbal_f16_to_f32(h), src[i]);
            ((uint16_t *)t.data)[i] = h;
        }
        if (dtype == IMBAL_BF16) {
            uint16_t h = imbal_f32_to_bf16(src[i]);
            cr_assert_eq(imbal_bf16_to_f32(h), src[i]);
            ((uint16_t *)t.data)[i] = h;
        }
    }
    return t;
}

static float elem(const imbal_tensor *t, int64_t i) {
    if (t->dtype == IMBAL_F16) return imbal_f16_to_f32(((const uint16_t *)t->data)[i]);
    if (t->dtype == IMBAL_BF16) return imbal_bf16_to_f32(((const uint16_t *)t->data)[i]);
    return ((const float *)t->data)[i];
}

static void expect_close(const char *cname, const char *what, int64_t i, double got, double want,
                         double rel, double abs_tol) {
    double tol = abs_tol + rel * fabs(want);
    cr_expect(fabs(got - want) <= tol || (isnan(got) && isnan(want)),
              "%s %s[%lld]: got %.9g want %.9g (tol %.3g)", cname, what, (long long)i, got, want,
              tol);
}

typedef struct run_result {
    imbal_tensor loss, per, dl;
} run_result;

static int read_case(FILE *f, ref_case *c) {
    return fscanf(f, "%63s %31s %7s %7s %15s %lf %lf %lf %lld %lf %lf %lf %lf %7s %d %d %d %d",
                  c->name, c->kind, c->reduction, c->dtype, c->norm, &c->gamma, &c->alpha, &c->eps,
                  &c->ignore, &c->tau, &c->ldam_m, &c->ldam_s, &c->grad_scale, c->tdtype, &c->cw,
                  &c->sw, &c->pw, &c->counts) == 18;
}

/* Runs one case with `threads` threads; in_place: dlogits overwrite a copy of the logits. */
static void run_case(imbal_ctx *ctx, const ref_case *c, int threads, int in_place, run_result *r,
                     double *ref_tol) {
    imbal_loss_kind kind;
    imbal_reduction red;
    imbal_dtype dtype;
    cr_assert_eq(imbal_loss_kind_parse(ctx, c->kind, &kind), IMBAL_OK);
    cr_assert_eq(imbal_reduction_parse(ctx, c->reduction, &red), IMBAL_OK);
    cr_assert_eq(imbal_dtype_parse(ctx, c->dtype, &dtype), IMBAL_OK);
    cr_assert_eq(imbal_ctx_set_threads(ctx, threads), IMBAL_OK);
    imbal_loss_params p;
    imbal_loss_params_default(&p, kind);
    p.reduction = red;
    p.weight_norm =
        strcmp(c->norm, "count") == 0 ? IMBAL_WEIGHT_NORM_COUNT : IMBAL_WEIGHT_NORM_PYTORCH;
    p.gamma = (float)c->gamma;
    p.alpha = (float)c->alpha;
    p.label_smoothing = (float)c->eps;
    p.ignore_index = c->ignore;
    p.tau = (float)c->tau;
    p.ldam_max_margin = (float)c->ldam_m;
    p.ldam_scale = (float)c->ldam_s;
    p.grad_scale = (float)c->grad_scale;
    p.check_finite = 1;

    imbal_tensor lf, tg, cw = {0}, sw = {0}, pw = {0}, cnt = {0};
    load(ctx, c->name, "logits", &lf);
    load(ctx, c->name, "targets", &tg);
    if (c->cw) load(ctx, c->name, "class_weights", &cw);
    if (c->sw) load(ctx, c->name, "sample_weights", &sw);
    if (c->pw) load(ctx, c->name, "pos_weight", &pw);
    if (c->counts) load(ctx, c->name, "class_counts", &cnt);
    imbal_tensor lg = to_dtype(ctx, &lf, dtype);
    imbal_tensor tgd = tg;
    int sigmoid = !imbal_loss_is_softmax(kind);
    if (sigmoid) tgd = to_dtype(ctx, &tg, dtype);

    memset(r, 0, sizeof *r);
    cr_assert_eq(imbal_tensor_alloc(ctx, &r->loss, IMBAL_F32, 0, NULL, imbal_device_cpu()),
                 IMBAL_OK);
    int64_t pshape[2] = {lf.shape[0], lf.shape[1]};
    cr_assert_eq(
        imbal_tensor_alloc(ctx, &r->per, IMBAL_F32, sigmoid ? 2 : 1, pshape, imbal_device_cpu()),
        IMBAL_OK);
    if (in_place)
        r->dl = to_dtype(ctx, &lf, dtype);
    else
        cr_assert_eq(imbal_tensor_alloc(ctx, &r->dl, dtype, 2, lf.shape, imbal_device_cpu()),
                     IMBAL_OK);
    imbal_loss_inputs in = {&lg,
                            &tgd,
                            c->cw ? &cw : NULL,
                            c->sw ? &sw : NULL,
                            c->counts ? &cnt : NULL,
                            c->pw ? &pw : NULL};
    if (in_place) in.logits = &r->dl;
    imbal_loss_outputs out = {red == IMBAL_REDUCTION_NONE ? NULL : &r->loss, &r->per, &r->dl};
    imbal_status st = imbal_loss(ctx, imbal_device_cpu(), &p, &in, &out);
    cr_assert_eq(st, IMBAL_OK, "%s: %s", c->name, imbal_ctx_error(ctx));
    *ref_tol = dtype == IMBAL_F32 ? 1e-5 : dtype == IMBAL_F16 ? 2e-3 : 1.6e-2;

    imbal_tensor_free(&lf);
    imbal_tensor_free(&tg);
    imbal_tensor_free(&lg);
    if (sigmoid) imbal_tensor_free(&tgd);
    imbal_tensor_free(&cw);
    imbal_tensor_free(&sw);
    imbal_tensor_free(&pw);
    imbal_tensor_free(&cnt);
}

static void free_result(run_result *r) {
    imbal_tensor_free(&r->loss);
    imbal_tensor_free(&r->per);
    imbal_tensor_free(&r->dl);
}

static void check_against_reference(imbal_ctx *ctx, const ref_case *c, const run_result *r,
                                    double rel) {
    imbal_tensor want;
    /* Losses are f32 outputs computed from exact inputs in f32: always tight. */
    if (strcmp(c->reduction, "none") != 0) {
        load(ctx, c->name, "loss", &want);
        expect_close(c->name, "loss", 0, ((float *)r->loss.data)[0], ((float *)want.data)[0], 1e-5,
                     1e-7);
        imbal_tensor_free(&want);
    }
    load(ctx, c->name, "per_sample", &want);
    cr_assert_eq(imbal_tensor_numel(&want), imbal_tensor_numel(&r->per), "%s", c->name);
    for (int64_t i = 0; i < imbal_tensor_numel(&want); ++i)
        expect_close(c->name, "per_sample", i, ((float *)r->per.data)[i], ((float *)want.data)[i],
                     1e-5, 1e-7);
    imbal_tensor_free(&want);
    load(ctx, c->name, "dlogits", &want);
    double maxg = 0;
    for (int64_t i = 0; i < imbal_tensor_numel(&want); ++i)
        maxg = fmax(maxg, fabs(((float *)want.data)[i]));
    for (int64_t i = 0; i < imbal_tensor_numel(&want); ++i)
        expect_close(c->name, "dlogits", i, elem(&r->dl, i), ((float *)want.data)[i], rel,
                     rel == 1e-5 ? 1e-7 + 1e-6 * maxg : rel * maxg * 0.01);
    imbal_tensor_free(&want);
}

static int same_bits(const imbal_tensor *a, const imbal_tensor *b) {
    return imbal_tensor_nbytes(a) == imbal_tensor_nbytes(b) &&
           memcmp(a->data, b->data, imbal_tensor_nbytes(a)) == 0;
}

Test(loss_ref, pytorch_cases_threads_and_in_place) {
    imbal_ctx *ctx = tu_ctx();
    FILE *f = fopen(LOSS_DIR "cases.txt", "r");
    cr_assert_not_null(f);
    ref_case c;
    int count = 0;
    while (read_case(f, &c)) {
        run_result one, two, inplace;
        double rel;
        run_case(ctx, &c, 1, 0, &one, &rel);
        check_against_reference(ctx, &c, &one, rel);
        run_case(ctx, &c, 2, 0, &two, &rel);
        run_case(ctx, &c, 2, 1, &inplace, &rel);
        cr_expect(same_bits(&one.per, &two.per), "%s: per_sample differs with 2 threads", c.name);
        cr_expect(same_bits(&one.dl, &two.dl), "%s: dlogits differ with 2 threads", c.name);
        cr_expect(same_bits(&one.dl, &inplace.dl), "%s: in-place dlogits differ", c.name);
        if (strcmp(c.reduction, "none") != 0)
            cr_expect(same_bits(&one.loss, &two.loss), "%s: loss differs with 2 threads", c.name);
        free_result(&one);
        free_result(&two);
        free_result(&inplace);
        ++count;
    }
    fclose(f);
    cr_assert_geq(count, 40, "only %d cases read", count);
    imbal_ctx_destroy(ctx);
}
