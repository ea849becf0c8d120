/* Layer ops (imbal/nn.h), CPU twins: PyTorch 1.13 reference values (tests/data/nn, made by
 * make_nn_ref.py), finite-difference gradient checks of every op on tiny odd shapes (strides 1
 * and 2, pads 0 and 1, 3x3 and 1x1 kernels, a batch smaller than the plan's), bit-identical
 * results with 1 and 2 threads, and every error case (the message names the argument). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/nn.h"
#include "imbal/npy.h"
#include "nn_conv_direct.h"
#include "nn_cpu.h"
#include "test_util.h"

#define NN_DIR IMBAL_TEST_DATA_DIR "/nn/"

/* ---- helpers ------------------------------------------------------------------------------- */

static imbal_tensor mk(imbal_ctx *ctx, int ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t shape[4] = {a, b, c, d};
    imbal_tensor t;
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, ndim, shape, imbal_device_cpu()), IMBAL_OK);
    if (imbal_tensor_numel(&t) > 0) memset(t.data, 0, imbal_tensor_nbytes(&t));
    return t;
}

static imbal_tensor mk_like(imbal_ctx *ctx, const imbal_tensor *like) {
    imbal_tensor t;
    cr_assert_eq(
        imbal_tensor_alloc(ctx, &t, IMBAL_F32, like->ndim, like->shape, imbal_device_cpu()),
        IMBAL_OK);
    if (imbal_tensor_numel(&t) > 0) memset(t.data, 0, imbal_tensor_nbytes(&t));
    return t;
}

static float *F(const imbal_tensor *t) {
    return (float *)t->data;
}

/* A fixed pseudo-random fill in [-1, 1) (xorshift; the tests' own, not the library's RNG). */
static void fill(imbal_tensor *t, uint32_t seed, float scale, float offset) {
    uint32_t s = seed * 2654435761u + 12345u;
    int64_t n = imbal_tensor_numel(t);
    for (int64_t i = 0; i < n; ++i) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        F(t)[i] = offset + scale * ((float)(s >> 8) / 8388608.0f - 1.0f);
    }
}

static imbal_tensor load(imbal_ctx *ctx, const char *name) {
    char path[512];
    snprintf(path, sizeof path, NN_DIR "%s.npy", name);
    imbal_tensor t;
    cr_assert_eq(imbal_npy_read(ctx, path, &t), IMBAL_OK, "%s: %s", path, imbal_ctx_error(ctx));
    return t;
}

/* |got - ref| <= rtol * max(1, max |ref|) element-wise. */
static void expect_close(const imbal_tensor *got, const imbal_tensor *ref, double rtol,
                         const char *what) {
    cr_assert(imbal_tensor_same_shape(got, ref), "%s: shape", what);
    int64_t n = imbal_tensor_numel(ref);
    double scale = 1.0;
    for (int64_t i = 0; i < n; ++i)
        scale = fmax(scale, fabs(F(ref)[i]));
    for (int64_t i = 0; i < n; ++i)
        cr_assert(fabs((double)F(got)[i] - F(ref)[i]) <= rtol * scale, "%s[%lld]: %.8g vs %.8g",
                  what, (long long)i, (double)F(got)[i], (double)F(ref)[i]);
}

static void expect_same_bits(const imbal_tensor *a, const imbal_tensor *b, const char *what) {
    cr_assert(imbal_tensor_same_shape(a, b));
    cr_assert(memcmp(a->data, b->data, imbal_tensor_nbytes(a)) == 0, "%s differs", what);
}

static void ok(imbal_ctx *ctx, imbal_status st) {
    cr_assert_eq(st, IMBAL_OK, "%s", imbal_ctx_error(ctx));
}

static void expect_err(imbal_ctx *ctx, imbal_status st, imbal_status want, const char *needle) {
    cr_assert_eq(st, want, "status %s, want %s (%s)", imbal_status_string(st),
                 imbal_status_string(want), imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "'%s' lacks '%s'", imbal_ctx_error(ctx),
              needle);
}

/* ---- finite differences -------------------------------------------------------------------- */

/* L = sum(out * proj) in double after running the op. */
typedef double (*loss_fn)(imbal_ctx *ctx, void *state);

static double dot(const imbal_tensor *a, const imbal_tensor *b) {
    double s = 0.0;
    int64_t n = imbal_tensor_numel(a);
    for (int64_t i = 0; i < n; ++i)
        s += (double)F(a)[i] * F(b)[i];
    return s;
}

/* Central differences of L over the elements of `param` vs the analytic gradient `grad`:
 * ||grad - num|| <= 1e-2 ||num|| and each element within 2e-2 max|num|. */
static void grad_check(imbal_ctx *ctx, loss_fn loss, void *state, imbal_tensor *param,
                       const imbal_tensor *grad, float h, const char *what) {
    int64_t n = imbal_tensor_numel(param);
    /* At most ~120 elements, spread by a stride that is not a multiple of the small extents. */
    int64_t step = n > 120 ? n / 120 + (n / 120) % 2 + 1 : 1;
    double *num = calloc((size_t)n, sizeof *num), err2 = 0.0, ref2 = 0.0, mx = 0.0;
    for (int64_t i = 0; i < n; i += step) {
        float keep = F(param)[i];
        F(param)[i] = keep + h;
        double lp = loss(ctx, state);
        F(param)[i] = keep - h;
        double lm = loss(ctx, state);
        F(param)[i] = keep;
        num[i] = (lp - lm) / (2.0 * (double)h);
        mx = fmax(mx, fabs(num[i]));
    }
    for (int64_t i = 0; i < n; i += step) {
        double d = F(grad)[i] - num[i];
        err2 += d * d, ref2 += num[i] * num[i];
        cr_assert(fabs(d) <= 2e-2 * mx + 1e-4, "%s[%lld]: analytic %.6g numeric %.6g", what,
                  (long long)i, (double)F(grad)[i], num[i]);
    }
    cr_assert(sqrt(err2) <= 1e-2 * sqrt(ref2) + 1e-4, "%s: relative error %.3g", what,
              sqrt(err2 / (ref2 > 0 ? ref2 : 1)));
    free(num);
}

/* ---- convolution --------------------------------------------------------------------------- */

typedef struct conv_case {
    const char *name;
    int n, c, h, w, k, r, s, stride, pad;
} conv_case;

/* The same list as make_nn_ref.py. */
static const conv_case conv_cases[] = {
    {"conv_a", 2, 3, 7, 6, 4, 3, 3, 1, 1}, {"conv_b", 3, 4, 9, 8, 5, 3, 3, 2, 1},
    {"conv_c", 2, 5, 6, 5, 3, 1, 1, 1, 0}, {"conv_d", 2, 4, 8, 7, 6, 1, 1, 2, 0},
    {"conv_e", 2, 3, 5, 5, 2, 3, 3, 1, 0},
};

static imbal_conv_plan *plan_for(imbal_ctx *ctx, const conv_case *cc, int plan_n) {
    imbal_conv2d_shape sh = {plan_n, cc->c, cc->h, cc->w, cc->k, cc->r, cc->s, cc->stride, cc->pad};
    imbal_conv_plan *plan = NULL;
    ok(ctx, imbal_conv_plan_create(ctx, imbal_device_cpu(), &sh, IMBAL_F32, &plan));
    return plan;
}

Test(nn_ref, conv_matches_pytorch) {
    imbal_ctx *ctx = tu_ctx();
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; ++i) {
        const conv_case *cc = &conv_cases[i];
        char name[64];
#define LOAD(what) (snprintf(name, sizeof name, "%s_" what, cc->name), load(ctx, name))
        imbal_tensor x = LOAD("x"), w = LOAD("w"), y = LOAD("y"), dy = LOAD("dy");
        imbal_tensor dx = LOAD("dx"), dw = LOAD("dw");
#undef LOAD
        /* A plan for a larger batch than the call's. */
        imbal_conv_plan *plan = plan_for(ctx, cc, cc->n + 3);
        int p, q;
        imbal_conv2d_out_hw(imbal_conv_plan_shape(plan), &p, &q);
        cr_assert_eq(p, y.shape[2]);
        cr_assert_eq(q, y.shape[3]);
        imbal_tensor y2 = mk_like(ctx, &y), dx2 = mk_like(ctx, &dx), dw2 = mk_like(ctx, &dw);
        fill(&dx2, 1, 9.0f, 0.0f); /* outputs are overwritten, never accumulated */
        fill(&dw2, 2, 9.0f, 0.0f);
        ok(ctx, imbal_conv2d_forward(ctx, plan, &x, &w, &y2));
        ok(ctx, imbal_conv2d_backward_data(ctx, plan, &dy, &w, &dx2));
        ok(ctx, imbal_conv2d_backward_filter(ctx, plan, &x, &dy, &dw2));
        expect_close(&y2, &y, 1e-4, cc->name);
        expect_close(&dx2, &dx, 1e-4, cc->name);
        expect_close(&dw2, &dw, 1e-4, cc->name);
        imbal_tensor *all[] = {&x, &w, &y, &dy, &dx, &dw, &y2, &dx2, &dw2};
        for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
            imbal_tensor_free(all[j]);
        imbal_conv_plan_destroy(plan);
    }
    imbal_ctx_destroy(ctx);
}

typedef struct conv_state {
    imbal_conv_plan *plan;
    imbal_tensor *x, *w, *y, *proj;
} conv_state;

static double conv_loss(imbal_ctx *ctx, void *state) {
    conv_state *s = state;
    ok(ctx, imbal_conv2d_forward(ctx, s->plan, s->x, s->w, s->y));
    return dot(s->y, s->proj);
}

Test(nn_grad, conv_all_geometries) {
    imbal_ctx *ctx = tu_ctx();
    const conv_case extra[] = {
        {"odd_s2_p0", 2, 3, 7, 5, 4, 3, 3, 2, 0},
        {"rect_3x1", 1, 2, 6, 5, 3, 3, 1, 1, 1},
        {"1x1_s2", 2, 3, 5, 5, 2, 1, 1, 2, 0},
        {"pad2", 2, 2, 4, 4, 3, 3, 3, 1, 2},
    };
    for (size_t i = 0; i < 9; ++i) {
        const conv_case *cc = i < 5 ? &conv_cases[i] : &extra[i - 5];
        imbal_conv_plan *plan = plan_for(ctx, cc, cc->n + 1);
        int p, q;
        imbal_conv2d_out_hw(imbal_conv_plan_shape(plan), &p, &q);
        imbal_tensor x = mk(ctx, 4, cc->n, cc->c, cc->h, cc->w);
        imbal_tensor w = mk(ctx, 4, cc->k, cc->c, cc->r, cc->s);
        imbal_tensor y = mk(ctx, 4, cc->n, cc->k, p, q), proj = mk_like(ctx, &y);
        imbal_tensor dx = mk_like(ctx, &x), dw = mk_like(ctx, &w);
        fill(&x, 10 + (uint32_t)i, 1.0f, 0.0f);
        fill(&w, 20 + (uint32_t)i, 0.5f, 0.0f);
        fill(&proj, 30 + (uint32_t)i, 1.0f, 0.0f);
        ok(ctx, imbal_conv2d_backward_data(ctx, plan, &proj, &w, &dx));
        ok(ctx, imbal_conv2d_backward_filter(ctx, plan, &x, &proj, &dw));
        conv_state st = {plan, &x, &w, &y, &proj};
        grad_check(ctx, conv_loss, &st, &x, &dx, 1e-2f, cc->name);
        grad_check(ctx, conv_loss, &st, &w, &dw, 1e-2f, cc->name);
        imbal_tensor *all[] = {&x, &w, &y, &proj, &dx, &dw};
        for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
            imbal_tensor_free(all[j]);
        imbal_conv_plan_destroy(plan);
    }
    imbal_ctx_destroy(ctx);
}

/* A batch larger than one im2col group (ResNet's first stage: 7 images per group, 30 here: four
 * full groups and a part group of 2): the grouped path against one call per image, and
 * bit-identical results for 1 and 2 threads. */
Test(nn_conv, groups_and_threads) {
    imbal_ctx *ctx = tu_ctx();
    const conv_case cc = {"stage1", 30, 16, 32, 32, 16, 3, 3, 1, 1};
    imbal_conv_plan *plan = plan_for(ctx, &cc, cc.n);
    cr_assert_eq(imbal_nn_cpu_conv_group(imbal_conv_plan_shape(plan)), 7);
    imbal_tensor x = mk(ctx, 4, cc.n, cc.c, cc.h, cc.w), w = mk(ctx, 4, cc.k, cc.c, 3, 3);
    imbal_tensor dy = mk(ctx, 4, cc.n, cc.k, cc.h, cc.w);
    fill(&x, 1, 1.0f, 0.0f), fill(&w, 2, 0.2f, 0.0f), fill(&dy, 3, 1.0f, 0.0f);
    imbal_tensor y[2], dx[2], dw[2];
    for (int t = 0; t < 2; ++t) {
        ok(ctx, imbal_ctx_set_threads(ctx, t + 1));
        y[t] = mk_like(ctx, &dy), dx[t] = mk_like(ctx, &x), dw[t] = mk_like(ctx, &w);
        ok(ctx, imbal_conv2d_forward(ctx, plan, &x, &w, &y[t]));
        ok(ctx, imbal_conv2d_backward_data(ctx, plan, &dy, &w, &dx[t]));
        ok(ctx, imbal_conv2d_backward_filter(ctx, plan, &x, &dy, &dw[t]));
    }
    expect_same_bits(&y[0], &y[1], "y");
    expect_same_bits(&dx[0], &dx[1], "dx");
    expect_same_bits(&dw[0], &dw[1], "dw");
    /* One image at a time. */
    const int64_t xi = cc.c * cc.h * cc.w, yi = cc.k * cc.h * cc.w;
    imbal_tensor dwsum = mk_like(ctx, &w), dw1 = mk_like(ctx, &w);
    imbal_tensor y1 = mk(ctx, 4, 1, cc.k, cc.h, cc.w), dx1 = mk(ctx, 4, 1, cc.c, cc.h, cc.w);
    double *acc = calloc((size_t)imbal_tensor_numel(&w), sizeof *acc);
    for (int n = 0; n < cc.n; ++n) {
        int64_t s1[4] = {1, cc.c, cc.h, cc.w}, s2[4] = {1, cc.k, cc.h, cc.w};
        imbal_tensor xn = imbal_tensor_wrap(F(&x) + n * xi, IMBAL_F32, 4, s1, imbal_device_cpu());
        imbal_tensor dyn = imbal_tensor_wrap(F(&dy) + n * yi, IMBAL_F32, 4, s2, imbal_device_cpu());
        ok(ctx, imbal_conv2d_forward(ctx, plan, &xn, &w, &y1));
        ok(ctx, imbal_conv2d_backward_data(ctx, plan, &dyn, &w, &dx1));
        ok(ctx, imbal_conv2d_backward_filter(ctx, plan, &xn, &dyn, &dw1));
        for (int64_t i = 0; i < yi; ++i)
            cr_assert(fabsf(F(&y1)[i] - F(&y[0])[n * yi + i]) <= 1e-5f * (1 + fabsf(F(&y1)[i])));
        for (int64_t i = 0; i < xi; ++i)
            cr_assert(fabsf(F(&dx1)[i] - F(&dx[0])[n * xi + i]) <= 1e-5f * (1 + fabsf(F(&dx1)[i])));
        for (int64_t i = 0; i < imbal_tensor_numel(&w); ++i)
            acc[i] += F(&dw1)[i];
    }
    for (int64_t i = 0; i < imbal_tensor_numel(&w); ++i)
        F(&dwsum)[i] = (float)acc[i];
    expect_close(&dw[0], &dwsum, 1e-5, "dw vs per-image sum");
    free(acc);
    imbal_tensor *all[] = {&x,     &w,     &dy,    &y[0], &y[1], &dx[0], &dx[1],
                           &dw[0], &dw[1], &dwsum, &dw1,  &y1,   &dx1};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_conv_plan_destroy(plan);
    imbal_ctx_destroy(ctx);
}

/* The direct path (src/nn_conv_direct.c) against the im2col path on stride-1 "same" shapes: odd
 * planes whose last tile is partial, fewer output channels than a register block and a part
 * block, 5x5 taps (forward and backward-data only; the weight gradient's direct path is 3x3), a
 * 1x1 plane where only the centre tap lands, ResNet's stage shapes; and on 3x3 stride-2 shapes
 * (forward and weight gradient through phase planes; backward-data stays on im2col): a non-square
 * plane, a 2x2 plane, ResNet's two downsampling convolutions, and a batch larger than one phase
 * split's chunk. For y and dx AVX2 and AVX-512 must give the same bits (each output is one FMA
 * chain in the same order); dw sums 16 or 8 lanes, so only closeness. The CPU running the tests
 * sets which of them can run. */
Test(nn_conv, direct_path_matches_im2col) {
    imbal_ctx *ctx = tu_ctx();
    const conv_case cases[] = {
        {"odd", 3, 5, 7, 9, 11, 3, 3, 1, 1},        {"k3", 2, 4, 6, 5, 3, 3, 3, 1, 1},
        {"5x5", 2, 3, 5, 6, 9, 5, 5, 1, 2},         {"1x1plane", 2, 6, 1, 1, 10, 3, 3, 1, 1},
        {"stage1", 2, 16, 32, 32, 16, 3, 3, 1, 1},  {"stage3", 3, 64, 8, 8, 64, 3, 3, 1, 1},
        {"s2odd", 3, 5, 6, 10, 7, 3, 3, 2, 1},      {"s2tiny", 2, 3, 2, 2, 9, 3, 3, 2, 1},
        {"s2down2", 2, 16, 32, 32, 32, 3, 3, 2, 1}, {"s2down3", 2, 32, 16, 16, 64, 3, 3, 2, 1},
        {"s2chunks", 70, 4, 64, 64, 4, 3, 3, 2, 1},
    };
    const int paths[] = {0, IMBAL_DIRECT_AVX2, IMBAL_DIRECT_AVX512};
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const conv_case *cc = &cases[i];
        imbal_conv_plan *plan = plan_for(ctx, cc, cc->n);
        imbal_conv2d_shape sh = {cc->n, cc->c, cc->h,      cc->w,  cc->k,
                                 cc->r, cc->s, cc->stride, cc->pad};
        int p_out, q_out;
        imbal_conv2d_out_hw(&sh, &p_out, &q_out);
        imbal_tensor x = mk(ctx, 4, cc->n, cc->c, cc->h, cc->w),
                     w = mk(ctx, 4, cc->k, cc->c, cc->r, cc->s),
                     dy = mk(ctx, 4, cc->n, cc->k, p_out, q_out);
        fill(&x, 11 + (uint32_t)i, 1.0f, 0.0f), fill(&w, 12, 0.3f, 0.0f), fill(&dy, 13, 1.0f, 0.0f);
        imbal_tensor y[3], dx[3], dw[3];
        int have[3] = {0, 0, 0};
        for (int p = 0; p < 3; ++p) {
            y[p] = mk_like(ctx, &dy), dx[p] = mk_like(ctx, &x), dw[p] = mk_like(ctx, &w);
            if (!imbal_nn_cpu_conv_set_path(plan, paths[p])) continue;
            have[p] = 1;
            ok(ctx, imbal_conv2d_forward(ctx, plan, &x, &w, &y[p]));
            ok(ctx, imbal_conv2d_backward_data(ctx, plan, &dy, &w, &dx[p]));
            ok(ctx, imbal_conv2d_backward_filter(ctx, plan, &x, &dy, &dw[p]));
        }
        cr_assert(have[0], "%s: the im2col path always runs", cc->name);
        for (int p = 1; p < 3; ++p) {
            if (!have[p]) continue;
            ++ran;
            expect_close(&y[p], &y[0], 1e-5, cc->name);
            expect_close(&dx[p], &dx[0], 1e-5, cc->name);
            expect_close(&dw[p], &dw[0], 1e-5, cc->name);
        }
        if (have[1] && have[2]) {
            expect_same_bits(&y[1], &y[2], "y avx2 vs avx512");
            expect_same_bits(&dx[1], &dx[2], "dx avx2 vs avx512");
        }
        for (int p = 0; p < 3; ++p)
            imbal_tensor_free(&y[p]), imbal_tensor_free(&dx[p]), imbal_tensor_free(&dw[p]);
        imbal_tensor_free(&x), imbal_tensor_free(&w), imbal_tensor_free(&dy);
        imbal_conv_plan_destroy(plan);
    }
    if (!ran) cr_log_warn("direct_path_matches_im2col: this CPU has neither AVX2+FMA nor AVX-512");
    /* Shapes outside the direct path keep the im2col path. */
    const conv_case other[] = {
        {"stride2odd", 1, 4, 7, 8, 4, 3, 3, 2, 1}, {"stride2pad0", 1, 4, 8, 8, 4, 3, 3, 2, 0},
        {"1x1stride2", 1, 4, 8, 8, 4, 1, 1, 2, 0}, {"pad0", 1, 4, 8, 8, 4, 3, 3, 1, 0},
        {"1x1", 1, 4, 8, 8, 4, 1, 1, 1, 0},        {"3x1", 1, 4, 8, 8, 4, 3, 1, 1, 1}};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; ++i) {
        imbal_conv_plan *plan = plan_for(ctx, &other[i], 1);
        cr_assert_eq(imbal_nn_cpu_conv_set_path(plan, IMBAL_DIRECT_AVX2), 0, "%s", other[i].name);
        cr_assert_eq(imbal_nn_cpu_conv_set_path(plan, 0), 1);
        imbal_conv_plan_destroy(plan);
    }
    imbal_ctx_destroy(ctx);
}

/* ---- batch norm ---------------------------------------------------------------------------- */

Test(nn_ref, batchnorm_matches_pytorch) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor x = load(ctx, "bn_x"), g = load(ctx, "bn_gamma"), b = load(ctx, "bn_beta");
    imbal_tensor rm = load(ctx, "bn_rm0"), rv = load(ctx, "bn_rv0"), dy = load(ctx, "bn_dy");
    imbal_tensor ry = load(ctx, "bn_y"), rrm = load(ctx, "bn_rm"), rrv = load(ctx, "bn_rv");
    imbal_tensor rmean = load(ctx, "bn_mean"), rinv = load(ctx, "bn_invstd");
    imbal_tensor rdx = load(ctx, "bn_dx"), rdg = load(ctx, "bn_dgamma"),
                 rdb = load(ctx, "bn_dbeta");
    imbal_tensor rye = load(ctx, "bn_yeval");
    imbal_tensor y = mk_like(ctx, &x), sm = mk_like(ctx, &g), si = mk_like(ctx, &g);
    imbal_tensor dx = mk_like(ctx, &x), dg = mk_like(ctx, &g), db = mk_like(ctx, &g);
    imbal_device cpu = imbal_device_cpu();
    ok(ctx,
       imbal_batchnorm_forward_train(ctx, cpu, &x, &g, &b, &rm, &rv, 0.1f, 1e-5f, &y, &sm, &si));
    expect_close(&y, &ry, 1e-4, "y");
    expect_close(&rm, &rrm, 1e-5, "running_mean");
    expect_close(&rv, &rrv, 1e-5, "running_var");
    expect_close(&sm, &rmean, 1e-5, "save_mean");
    expect_close(&si, &rinv, 1e-5, "save_invstd");
    ok(ctx, imbal_batchnorm_backward(ctx, cpu, &x, &dy, &g, &sm, &si, &dx, &dg, &db));
    expect_close(&dx, &rdx, 1e-4, "dx");
    expect_close(&dg, &rdg, 1e-4, "dgamma");
    expect_close(&db, &rdb, 1e-4, "dbeta");
    /* dx NULL: the parameter gradients alone. */
    memset(dg.data, 0, imbal_tensor_nbytes(&dg));
    ok(ctx, imbal_batchnorm_backward(ctx, cpu, &x, &dy, &g, &sm, &si, NULL, &dg, &db));
    expect_close(&dg, &rdg, 1e-4, "dgamma (dx NULL)");
    ok(ctx, imbal_batchnorm_forward_eval(ctx, cpu, &x, &g, &b, &rm, &rv, 1e-5f, &y));
    expect_close(&y, &rye, 1e-4, "eval y");
    imbal_tensor *all[] = {&x,   &g,   &b,   &rm,  &rv, &dy, &ry, &rrm, &rrv, &rmean, &rinv,
                           &rdx, &rdg, &rdb, &rye, &y,  &sm, &si, &dx,  &dg,  &db};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_ctx_destroy(ctx);
}

typedef struct bn_state {
    imbal_tensor *x, *g, *b, *rm, *rv, *y, *sm, *si, *proj;
} bn_state;

static double bn_loss(imbal_ctx *ctx, void *state) {
    bn_state *s = state;
    ok(ctx, imbal_batchnorm_forward_train(ctx, imbal_device_cpu(), s->x, s->g, s->b, s->rm, s->rv,
                                          0.1f, 1e-5f, s->y, s->sm, s->si));
    return dot(s->y, s->proj);
}

Test(nn_grad, batchnorm) {
    imbal_ctx *ctx = tu_ctx();
    /* N*H*W = 2 (the smallest allowed) and an odd 3x3x5 case. */
    const int shapes[2][4] = {{2, 3, 1, 1}, {3, 2, 3, 5}};
    for (int k = 0; k < 2; ++k) {
        imbal_tensor x = mk(ctx, 4, shapes[k][0], shapes[k][1], shapes[k][2], shapes[k][3]);
        int64_t c = shapes[k][1];
        imbal_tensor g = mk(ctx, 1, c, 0, 0, 0), b = mk_like(ctx, &g), rm = mk_like(ctx, &g);
        imbal_tensor rv = mk_like(ctx, &g), sm = mk_like(ctx, &g), si = mk_like(ctx, &g);
        imbal_tensor dg = mk_like(ctx, &g), db = mk_like(ctx, &g);
        imbal_tensor y = mk_like(ctx, &x), proj = mk_like(ctx, &x), dx = mk_like(ctx, &x);
        fill(&x, 40 + (uint32_t)k, 1.5f, 0.3f), fill(&g, 41, 0.5f, 1.0f), fill(&b, 42, 0.5f, 0.f);
        fill(&proj, 43 + (uint32_t)k, 1.0f, 0.0f);
        bn_state st = {&x, &g, &b, &rm, &rv, &y, &sm, &si, &proj};
        bn_loss(ctx, &st);
        ok(ctx, imbal_batchnorm_backward(ctx, imbal_device_cpu(), &x, &proj, &g, &sm, &si, &dx, &dg,
                                         &db));
        grad_check(ctx, bn_loss, &st, &x, &dx, 2e-3f, "bn dx");
        grad_check(ctx, bn_loss, &st, &g, &dg, 1e-2f, "bn dgamma");
        grad_check(ctx, bn_loss, &st, &b, &db, 1e-2f, "bn dbeta");
        imbal_tensor *all[] = {&x, &g, &b, &rm, &rv, &sm, &si, &dg, &db, &y, &proj, &dx};
        for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
            imbal_tensor_free(all[j]);
    }
    imbal_ctx_destroy(ctx);
}

/* ---- relu, add, pooling, linear ------------------------------------------------------------ */

Test(nn_ref, relu_pool_linear_match_pytorch) {
    imbal_ctx *ctx = tu_ctx();
    imbal_device cpu = imbal_device_cpu();
    imbal_tensor rx = load(ctx, "relu_x"), ry = load(ctx, "relu_y"), y = mk_like(ctx, &rx);
    ok(ctx, imbal_relu_forward(ctx, cpu, &rx, &y));
    expect_same_bits(&y, &ry, "relu");
    ok(ctx, imbal_relu_forward(ctx, cpu, &rx, &rx)); /* in place */
    expect_same_bits(&rx, &ry, "relu in place");
    imbal_tensor px = load(ctx, "pool_x"), py = load(ctx, "pool_y"), pdy = load(ctx, "pool_dy");
    imbal_tensor pdx = load(ctx, "pool_dx"), py2 = mk_like(ctx, &py), pdx2 = mk_like(ctx, &pdx);
    ok(ctx, imbal_avgpool_forward(ctx, cpu, &px, &py2));
    ok(ctx, imbal_avgpool_backward(ctx, cpu, &pdy, &pdx2));
    expect_close(&py2, &py, 1e-5, "avgpool y");
    expect_close(&pdx2, &pdx, 1e-5, "avgpool dx");
    imbal_tensor lx = load(ctx, "linear_x"), lw = load(ctx, "linear_w"), lb = load(ctx, "linear_b");
    imbal_tensor ly = load(ctx, "linear_y"), ldy = load(ctx, "linear_dy");
    imbal_tensor ldx = load(ctx, "linear_dx"), ldw = load(ctx, "linear_dw");
    imbal_tensor ldb = load(ctx, "linear_db");
    imbal_tensor ly2 = mk_like(ctx, &ly), ldx2 = mk_like(ctx, &ldx), ldw2 = mk_like(ctx, &ldw);
    imbal_tensor ldb2 = mk_like(ctx, &ldb);
    ok(ctx, imbal_linear_forward(ctx, cpu, &lx, &lw, &lb, &ly2));
    expect_close(&ly2, &ly, 1e-5, "linear y");
    ok(ctx, imbal_linear_backward(ctx, cpu, &lx, &lw, &ldy, &ldx2, &ldw2, &ldb2));
    expect_close(&ldx2, &ldx, 1e-5, "linear dx");
    expect_close(&ldw2, &ldw, 1e-5, "linear dw");
    expect_close(&ldb2, &ldb, 1e-5, "linear db");
    /* Without a bias: y - b. */
    ok(ctx, imbal_linear_forward(ctx, cpu, &lx, &lw, NULL, &ly2));
    for (int i = 0; i < 5; ++i)
        for (int o = 0; o < 3; ++o)
            cr_assert(fabsf(F(&ly2)[i * 3 + o] + F(&lb)[o] - F(&ly)[i * 3 + o]) < 1e-5f);
    ok(ctx, imbal_linear_backward(ctx, cpu, &lx, &lw, &ldy, NULL, &ldw2, NULL));
    expect_close(&ldw2, &ldw, 1e-5, "linear dw alone");
    imbal_tensor *all[] = {&rx, &ry, &y,   &px,  &py,  &pdy, &pdx, &py2,  &pdx2, &lx,  &lw,
                           &lb, &ly, &ldy, &ldx, &ldw, &ldb, &ly2, &ldx2, &ldw2, &ldb2};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_ctx_destroy(ctx);
}

typedef struct simple_state {
    int op; /* 0 relu, 1 add, 2 avgpool, 3 linear */
    imbal_tensor *a, *b, *c, *y, *proj;
} simple_state;

static double simple_loss(imbal_ctx *ctx, void *state) {
    simple_state *s = state;
    imbal_device cpu = imbal_device_cpu();
    if (s->op == 0) ok(ctx, imbal_relu_forward(ctx, cpu, s->a, s->y));
    if (s->op == 1) ok(ctx, imbal_add(ctx, cpu, s->a, s->b, s->y));
    if (s->op == 2) ok(ctx, imbal_avgpool_forward(ctx, cpu, s->a, s->y));
    if (s->op == 3) ok(ctx, imbal_linear_forward(ctx, cpu, s->a, s->b, s->c, s->y));
    return dot(s->y, s->proj);
}

Test(nn_grad, relu_add_avgpool_linear) {
    imbal_ctx *ctx = tu_ctx();
    imbal_device cpu = imbal_device_cpu();
    /* relu, away from the kink at 0 (|x| >= 0.1 > h). */
    imbal_tensor x = mk(ctx, 4, 2, 3, 3, 5), y = mk_like(ctx, &x), proj = mk_like(ctx, &x);
    imbal_tensor dx = mk_like(ctx, &x);
    fill(&x, 50, 1.0f, 0.0f), fill(&proj, 51, 1.0f, 0.0f);
    for (int64_t i = 0; i < imbal_tensor_numel(&x); ++i)
        F(&x)[i] += F(&x)[i] >= 0 ? 0.1f : -0.1f;
    simple_state st = {0, &x, NULL, NULL, &y, &proj};
    simple_loss(ctx, &st);
    ok(ctx, imbal_relu_backward(ctx, cpu, &y, &proj, &dx));
    grad_check(ctx, simple_loss, &st, &x, &dx, 1e-2f, "relu");
    imbal_tensor dyc = mk_like(ctx, &proj);
    memcpy(dyc.data, proj.data, imbal_tensor_nbytes(&proj));
    ok(ctx, imbal_relu_backward(ctx, cpu, &y, &dyc, &dyc)); /* in place */
    expect_same_bits(&dyc, &dx, "relu backward in place");
    /* add: d/da = d/db = proj. */
    imbal_tensor b = mk_like(ctx, &x);
    fill(&b, 52, 1.0f, 0.0f);
    simple_state sa = {1, &x, &b, NULL, &y, &proj};
    grad_check(ctx, simple_loss, &sa, &x, &proj, 1e-2f, "add a");
    grad_check(ctx, simple_loss, &sa, &b, &proj, 1e-2f, "add b");
    ok(ctx, imbal_add(ctx, cpu, &x, &b, &b)); /* in place into b */
    ok(ctx, imbal_add(ctx, cpu, &x, &x, &y));
    cr_assert_eq(F(&y)[7], 2 * F(&x)[7]);
    /* avgpool over 3x5. */
    imbal_tensor py = mk(ctx, 2, 2, 3, 0, 0), pproj = mk_like(ctx, &py);
    fill(&pproj, 53, 1.0f, 0.0f);
    simple_state sp = {2, &x, NULL, NULL, &py, &pproj};
    ok(ctx, imbal_avgpool_backward(ctx, cpu, &pproj, &dx));
    grad_check(ctx, simple_loss, &sp, &x, &dx, 1e-2f, "avgpool");
    /* linear 4 x 5 -> 3 with bias. */
    imbal_tensor lx = mk(ctx, 2, 4, 5, 0, 0), lw = mk(ctx, 2, 3, 5, 0, 0),
                 lb = mk(ctx, 1, 3, 0, 0, 0);
    imbal_tensor ly = mk(ctx, 2, 4, 3, 0, 0), lp = mk_like(ctx, &ly);
    imbal_tensor ldx = mk_like(ctx, &lx), ldw = mk_like(ctx, &lw), ldb = mk_like(ctx, &lb);
    fill(&lx, 54, 1.0f, 0.0f), fill(&lw, 55, 1.0f, 0.0f), fill(&lb, 56, 1.0f, 0.0f);
    fill(&lp, 57, 1.0f, 0.0f);
    ok(ctx, imbal_linear_backward(ctx, cpu, &lx, &lw, &lp, &ldx, &ldw, &ldb));
    simple_state sl = {3, &lx, &lw, &lb, &ly, &lp};
    grad_check(ctx, simple_loss, &sl, &lx, &ldx, 1e-2f, "linear dx");
    grad_check(ctx, simple_loss, &sl, &lw, &ldw, 1e-2f, "linear dw");
    grad_check(ctx, simple_loss, &sl, &lb, &ldb, 1e-2f, "linear db");
    imbal_tensor *all[] = {&x,  &y,  &proj, &dx, &dyc, &b,   &py,  &pproj,
                           &lx, &lw, &lb,   &ly, &lp,  &ldx, &ldw, &ldb};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_ctx_destroy(ctx);
}

/* Every layer op on larger tensors with 1 and 2 threads: the same bits. */
Test(nn_threads, layers_bit_identical) {
    imbal_ctx *ctx = tu_ctx();
    imbal_device cpu = imbal_device_cpu();
    imbal_tensor x = mk(ctx, 4, 16, 16, 16, 16), dy = mk_like(ctx, &x);
    imbal_tensor g = mk(ctx, 1, 16, 0, 0, 0), b = mk_like(ctx, &g);
    imbal_tensor lw = mk(ctx, 2, 10, 16, 0, 0), lb = mk(ctx, 1, 10, 0, 0, 0);
    imbal_tensor ldy = mk(ctx, 2, 16, 10, 0, 0);
    fill(&x, 60, 2.0f, 0.5f), fill(&dy, 61, 1.0f, 0.0f), fill(&g, 62, 0.5f, 1.0f);
    fill(&b, 63, 0.5f, 0.0f), fill(&lw, 64, 1.0f, 0.0f), fill(&lb, 65, 1.0f, 0.0f);
    fill(&ldy, 66, 1.0f, 0.0f);
    enum { NOUT = 14 };
    imbal_tensor out[2][NOUT];
    for (int t = 0; t < 2; ++t) {
        ok(ctx, imbal_ctx_set_threads(ctx, t + 1));
        imbal_tensor *o = out[t];
        o[0] = mk_like(ctx, &x), o[1] = mk_like(ctx, &g), o[2] = mk_like(ctx, &g);
        o[3] = mk_like(ctx, &g), o[4] = mk_like(ctx, &g);
        o[5] = mk_like(ctx, &x), o[6] = mk_like(ctx, &g), o[7] = mk_like(ctx, &g);
        o[8] = mk_like(ctx, &x), o[9] = mk(ctx, 2, 16, 16, 0, 0), o[10] = mk_like(ctx, &x);
        o[11] = mk(ctx, 2, 16, 10, 0, 0), o[12] = mk_like(ctx, &lw), o[13] = mk_like(ctx, &lb);
        ok(ctx, imbal_batchnorm_forward_train(ctx, cpu, &x, &g, &b, &o[1], &o[2], 0.1f, 1e-5f,
                                              &o[0], &o[3], &o[4]));
        ok(ctx, imbal_batchnorm_backward(ctx, cpu, &x, &dy, &g, &o[3], &o[4], &o[5], &o[6], &o[7]));
        ok(ctx, imbal_relu_forward(ctx, cpu, &o[0], &o[8]));
        ok(ctx, imbal_avgpool_forward(ctx, cpu, &o[8], &o[9]));
        ok(ctx, imbal_avgpool_backward(ctx, cpu, &o[9], &o[10]));
        ok(ctx, imbal_add(ctx, cpu, &o[10], &o[5], &o[10]));
        ok(ctx, imbal_linear_forward(ctx, cpu, &o[9], &lw, &lb, &o[11]));
        ok(ctx, imbal_linear_backward(ctx, cpu, &o[9], &lw, &ldy, NULL, &o[12], &o[13]));
    }
    for (int i = 0; i < NOUT; ++i) {
        char what[16];
        snprintf(what, sizeof what, "output %d", i);
        expect_same_bits(&out[0][i], &out[1][i], what);
        imbal_tensor_free(&out[0][i]);
        imbal_tensor_free(&out[1][i]);
    }
    imbal_tensor *all[] = {&x, &dy, &g, &b, &lw, &lb, &ldy};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_ctx_destroy(ctx);
}

/* ---- errors -------------------------------------------------------------------------------- */

Test(nn_errors, conv_plan) {
    imbal_ctx *ctx = tu_ctx();
    imbal_device cpu = imbal_device_cpu();
    imbal_conv2d_shape sh = {4, 3, 8, 8, 16, 3, 3, 1, 1};
    imbal_conv_plan *plan = (imbal_conv_plan *)&sh;
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &sh, IMBAL_F32, NULL),
               IMBAL_ERR_INVALID_ARGUMENT, "out is NULL");
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, NULL, IMBAL_F32, &plan),
               IMBAL_ERR_INVALID_ARGUMENT, "shape is NULL");
    cr_assert_null(plan);
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &sh, IMBAL_BF16, &plan), IMBAL_ERR_UNSUPPORTED,
               "dtype bf16");
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &sh, IMBAL_F16, &plan), IMBAL_ERR_UNSUPPORTED,
               "dtype f16");
    const char *fields[] = {"shape.n", "shape.c", "shape.h", "shape.w",
                            "shape.k", "shape.r", "shape.s", "shape.stride"};
    for (int f = 0; f < 8; ++f) {
        imbal_conv2d_shape bad = sh;
        int *v[] = {&bad.n, &bad.c, &bad.h, &bad.w, &bad.k, &bad.r, &bad.s, &bad.stride};
        *v[f] = 0;
        expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &bad, IMBAL_F32, &plan),
                   IMBAL_ERR_INVALID_ARGUMENT, fields[f]);
    }
    imbal_conv2d_shape bad = sh;
    bad.pad = -1;
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &bad, IMBAL_F32, &plan),
               IMBAL_ERR_INVALID_ARGUMENT, "shape.pad");
    bad = sh, bad.pad = 0, bad.r = 9;
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &bad, IMBAL_F32, &plan),
               IMBAL_ERR_INVALID_ARGUMENT, "shape.r 9");
    bad = sh, bad.pad = 0, bad.s = 11;
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &bad, IMBAL_F32, &plan),
               IMBAL_ERR_INVALID_ARGUMENT, "shape.s 11");
    bad = sh, bad.c = 1 << 20, bad.h = 1 << 12, bad.w = 1 << 12;
    expect_err(ctx, imbal_conv_plan_create(ctx, cpu, &bad, IMBAL_F32, &plan),
               IMBAL_ERR_INVALID_ARGUMENT, "too large");
    expect_err(
        ctx,
        imbal_conv_plan_create(ctx, (imbal_device){(imbal_device_kind)7, 0}, &sh, IMBAL_F32, &plan),
        IMBAL_ERR_INVALID_ARGUMENT, "imbal_conv_plan_create: unknown device kind");
    if (imbal_cuda_device_count() == 0)
        expect_err(ctx, imbal_conv_plan_create(ctx, imbal_device_cuda(0), &sh, IMBAL_F32, &plan),
                   IMBAL_ERR_NO_DEVICE, "imbal_conv_plan_create: cuda:0");
    cr_assert_null(imbal_conv_plan_shape(NULL));
    imbal_conv_plan_destroy(NULL);
    imbal_ctx_destroy(ctx);
}

Test(nn_errors, conv_calls) {
    imbal_ctx *ctx = tu_ctx();
    imbal_conv2d_shape sh = {4, 3, 8, 8, 16, 3, 3, 2, 1}; /* output 4x4 */
    imbal_conv_plan *plan = NULL;
    ok(ctx, imbal_conv_plan_create(ctx, imbal_device_cpu(), &sh, IMBAL_F32, &plan));
    imbal_tensor x = mk(ctx, 4, 2, 3, 8, 8), w = mk(ctx, 4, 16, 3, 3, 3);
    imbal_tensor y = mk(ctx, 4, 2, 16, 4, 4), wbad = mk(ctx, 4, 8, 3, 3, 3);
    imbal_tensor xbig = mk(ctx, 4, 5, 3, 8, 8), x3 = mk(ctx, 3, 3, 8, 8, 0);
    expect_err(ctx, imbal_conv2d_forward(ctx, NULL, &x, &w, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_conv2d_forward: plan is NULL");
    expect_err(ctx, imbal_conv2d_forward(ctx, plan, NULL, &w, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_conv2d_forward: x is NULL");
    expect_err(ctx, imbal_conv2d_forward(ctx, plan, &x, &wbad, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_conv2d_forward: w has shape [8,3,3,3], expected [16,3,3,3]");
    expect_err(ctx, imbal_conv2d_forward(ctx, plan, &x, &w, &x), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_conv2d_forward: y has shape [2,3,8,8], expected [2,16,4,4]");
    expect_err(ctx, imbal_conv2d_forward(ctx, plan, &xbig, &w, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "x has batch 5 but the plan serves 1..4");
    expect_err(ctx, imbal_conv2d_forward(ctx, plan, &x3, &w, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "x has shape [3,8,8], expected [*,3,8,8]");
    expect_err(ctx, imbal_conv2d_backward_data(ctx, plan, &y, &w, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_conv2d_backward_data: dx has shape [2,16,4,4], expected [2,3,8,8]");
    expect_err(ctx, imbal_conv2d_backward_data(ctx, plan, &x, &w, &x), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_conv2d_backward_data: dy has shape");
    expect_err(ctx, imbal_conv2d_backward_filter(ctx, plan, &x, &y, &wbad),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_conv2d_backward_filter: dw has shape");
    expect_err(ctx, imbal_conv2d_backward_filter(ctx, plan, &x, &x, &w), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_conv2d_backward_filter: dy has shape");
    /* dtype and device of one tensor. */
    imbal_tensor wb = w;
    wb.dtype = IMBAL_BF16;
    expect_err(ctx, imbal_conv2d_forward(ctx, plan, &x, &wb, &y), IMBAL_ERR_UNSUPPORTED,
               "imbal_conv2d_forward: w has dtype bf16, expected f32");
    imbal_tensor wc = w;
    wc.device = imbal_device_cuda(0);
    expect_err(ctx, imbal_conv2d_backward_filter(ctx, plan, &x, &y, &wc),
               IMBAL_ERR_INVALID_ARGUMENT, "dw is on cuda:0 but the call runs on cpu:0");
    imbal_tensor xn = x;
    xn.data = NULL;
    expect_err(ctx, imbal_conv2d_forward(ctx, plan, &xn, &w, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "x has no data");
    imbal_tensor *all[] = {&x, &w, &y, &wbad, &xbig, &x3};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_conv_plan_destroy(plan);
    imbal_ctx_destroy(ctx);
}

Test(nn_errors, batchnorm) {
    imbal_ctx *ctx = tu_ctx();
    imbal_device cpu = imbal_device_cpu();
    imbal_tensor x = mk(ctx, 4, 2, 3, 2, 2), y = mk_like(ctx, &x), v = mk(ctx, 1, 3, 0, 0, 0);
    imbal_tensor v2 = mk_like(ctx, &v), v3 = mk_like(ctx, &v), v4 = mk_like(ctx, &v);
    imbal_tensor v5 = mk_like(ctx, &v), v6 = mk_like(ctx, &v), bad = mk(ctx, 1, 4, 0, 0, 0);
    imbal_tensor x1 = mk(ctx, 4, 1, 3, 1, 1), y1 = mk_like(ctx, &x1);
    const char *fn = "imbal_batchnorm_forward_train";
    (void)fn;
    expect_err(
        ctx,
        imbal_batchnorm_forward_train(ctx, cpu, NULL, &v, &v2, &v3, &v4, 0.1f, 1e-5f, &y, &v5, &v6),
        IMBAL_ERR_INVALID_ARGUMENT, "imbal_batchnorm_forward_train: x is NULL");
    expect_err(
        ctx,
        imbal_batchnorm_forward_train(ctx, cpu, &x1, &v, &v2, &v3, &v4, 0.1f, 1e-5f, &y1, &v5, &v6),
        IMBAL_ERR_INVALID_ARGUMENT, "N*H*W = 1");
    const char *names[] = {"gamma",       "beta",      "running_mean",
                           "running_var", "save_mean", "save_invstd"};
    for (int k = 0; k < 6; ++k) {
        imbal_tensor *a[6] = {&v, &v2, &v3, &v4, &v5, &v6};
        a[k] = &bad;
        char want[96];
        snprintf(want, sizeof want, "%s has shape [4], expected [3]", names[k]);
        expect_err(ctx,
                   imbal_batchnorm_forward_train(ctx, cpu, &x, a[0], a[1], a[2], a[3], 0.1f, 1e-5f,
                                                 &y, a[4], a[5]),
                   IMBAL_ERR_INVALID_ARGUMENT, want);
    }
    expect_err(
        ctx,
        imbal_batchnorm_forward_train(ctx, cpu, &x, &v, &v2, &v3, &v4, 0.1f, 1e-5f, &x1, &v5, &v6),
        IMBAL_ERR_INVALID_ARGUMENT, "y has shape [1,3,1,1], expected [2,3,2,2]");
    expect_err(
        ctx,
        imbal_batchnorm_forward_train(ctx, cpu, &x, &v, &v2, &v3, &v4, 1.5f, 1e-5f, &y, &v5, &v6),
        IMBAL_ERR_INVALID_ARGUMENT, "momentum");
    expect_err(
        ctx,
        imbal_batchnorm_forward_train(ctx, cpu, &x, &v, &v2, &v3, &v4, 0.1f, 0.0f, &y, &v5, &v6),
        IMBAL_ERR_INVALID_ARGUMENT, "eps");
    imbal_tensor xb = x;
    xb.dtype = IMBAL_BF16;
    expect_err(
        ctx,
        imbal_batchnorm_forward_train(ctx, cpu, &xb, &v, &v2, &v3, &v4, 0.1f, 1e-5f, &y, &v5, &v6),
        IMBAL_ERR_UNSUPPORTED, "x has dtype bf16; the CPU twin takes f32 only");
    expect_err(ctx, imbal_batchnorm_forward_eval(ctx, cpu, &x, &v, &v2, &v3, &bad, 1e-5f, &y),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_batchnorm_forward_eval: running_var has shape");
    expect_err(ctx, imbal_batchnorm_forward_eval(ctx, cpu, &x, &v, &v2, &v3, &v4, -1.0f, &y),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_batchnorm_forward_eval: eps");
    expect_err(ctx, imbal_batchnorm_forward_eval(ctx, cpu, &x, &v, &v2, &v3, &v4, 1e-5f, NULL),
               IMBAL_ERR_INVALID_ARGUMENT, "y is NULL");
    expect_err(ctx, imbal_batchnorm_backward(ctx, cpu, &x, &x1, &v, &v2, &v3, &y, &v4, &v5),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_batchnorm_backward: dy has shape");
    expect_err(ctx, imbal_batchnorm_backward(ctx, cpu, &x, &y, &v, &v2, &v3, &x1, &v4, &v5),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_batchnorm_backward: dx has shape");
    expect_err(ctx, imbal_batchnorm_backward(ctx, cpu, &x, &y, &v, &v2, &v3, &y, NULL, &v5),
               IMBAL_ERR_INVALID_ARGUMENT, "dgamma is NULL");
    expect_err(ctx, imbal_batchnorm_backward(ctx, cpu, &x, &y, &v, &v2, &bad, &y, &v4, &v5),
               IMBAL_ERR_INVALID_ARGUMENT, "save_invstd has shape [4]");
    if (imbal_cuda_device_count() == 0)
        expect_err(
            ctx,
            imbal_batchnorm_backward(ctx, imbal_device_cuda(0), &x, &y, &v, &v2, &v3, &y, &v4, &v5),
            IMBAL_ERR_NO_DEVICE, "imbal_batchnorm_backward: cuda:0");
    imbal_tensor *all[] = {&x, &y, &v, &v2, &v3, &v4, &v5, &v6, &bad, &x1, &y1};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_ctx_destroy(ctx);
}

Test(nn_errors, eltwise_pool_linear) {
    imbal_ctx *ctx = tu_ctx();
    imbal_device cpu = imbal_device_cpu();
    imbal_tensor a = mk(ctx, 4, 2, 3, 2, 2), b = mk(ctx, 4, 2, 3, 2, 3), p = mk(ctx, 2, 2, 3, 0, 0);
    imbal_tensor p4 = mk(ctx, 2, 2, 4, 0, 0);
    expect_err(ctx, imbal_relu_forward(ctx, cpu, &a, &b), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_relu_forward: y has shape [2,3,2,3], expected [2,3,2,2]");
    expect_err(ctx, imbal_relu_forward(ctx, cpu, NULL, &b), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_relu_forward: x is NULL");
    expect_err(ctx, imbal_relu_backward(ctx, cpu, &a, &b, &a), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_relu_backward: dy has shape");
    expect_err(ctx, imbal_relu_backward(ctx, cpu, &a, &a, &b), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_relu_backward: dx has shape");
    expect_err(ctx, imbal_add(ctx, cpu, &a, &b, &a), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_add: b has shape");
    expect_err(ctx, imbal_add(ctx, cpu, &a, &a, NULL), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_add: y is NULL");
    imbal_tensor ai = a;
    ai.dtype = IMBAL_I32;
    expect_err(ctx, imbal_add(ctx, cpu, &ai, &a, &a), IMBAL_ERR_UNSUPPORTED,
               "imbal_add: a has dtype i32");
    imbal_tensor ab = a;
    ab.dtype = IMBAL_BF16;
    expect_err(ctx, imbal_add(ctx, cpu, &a, &ab, &a), IMBAL_ERR_UNSUPPORTED,
               "imbal_add: b has dtype bf16, expected f32 (the CPU twin takes f32 only)");
    imbal_tensor ac = a;
    ac.device = imbal_device_cuda(1);
    expect_err(ctx, imbal_relu_forward(ctx, cpu, &a, &ac), IMBAL_ERR_INVALID_ARGUMENT,
               "y is on cuda:1 but the call runs on cpu:0");
    if (imbal_cuda_device_count() == 0)
        expect_err(ctx, imbal_relu_forward(ctx, imbal_device_cuda(0), &ac, &ac),
                   IMBAL_ERR_NO_DEVICE, "imbal_relu_forward: cuda:0");
    expect_err(ctx, imbal_avgpool_forward(ctx, cpu, &a, &p4), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_avgpool_forward: y has shape [2,4], expected [2,3]");
    expect_err(ctx, imbal_avgpool_forward(ctx, cpu, &p, &p), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_avgpool_forward: x has 2 dimensions, expected 4");
    expect_err(ctx, imbal_avgpool_backward(ctx, cpu, &p4, &a), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_avgpool_backward: dy has shape [2,4], expected [2,3]");
    imbal_tensor x = mk(ctx, 2, 4, 5, 0, 0), w = mk(ctx, 2, 3, 5, 0, 0),
                 wb = mk(ctx, 2, 3, 6, 0, 0);
    imbal_tensor bias = mk(ctx, 1, 3, 0, 0, 0), y = mk(ctx, 2, 4, 3, 0, 0);
    expect_err(ctx, imbal_linear_forward(ctx, cpu, &x, &wb, &bias, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_linear_forward: w has shape [3,6], expected [*,5]");
    expect_err(ctx, imbal_linear_forward(ctx, cpu, &x, &w, &p4, &y), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_linear_forward: b has shape [2,4], expected [3]");
    expect_err(ctx, imbal_linear_forward(ctx, cpu, &x, &w, &bias, &x), IMBAL_ERR_INVALID_ARGUMENT,
               "imbal_linear_forward: y has shape [4,5], expected [4,3]");
    expect_err(ctx, imbal_linear_backward(ctx, cpu, &x, &w, &x, NULL, &w, NULL),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_linear_backward: dy has shape");
    expect_err(ctx, imbal_linear_backward(ctx, cpu, &x, &w, &y, &y, &w, NULL),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_linear_backward: dx has shape [4,3]");
    expect_err(ctx, imbal_linear_backward(ctx, cpu, &x, &w, &y, NULL, NULL, NULL),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_linear_backward: dw is NULL");
    expect_err(ctx, imbal_linear_backward(ctx, cpu, &x, &w, &y, NULL, &wb, NULL),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_linear_backward: dw has shape [3,6]");
    expect_err(ctx, imbal_linear_backward(ctx, cpu, &x, &w, &y, NULL, &w, &p),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_linear_backward: db has shape");
    imbal_tensor *all[] = {&a, &b, &p, &p4, &x, &w, &wb, &bias, &y};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; ++j)
        imbal_tensor_free(all[j]);
    imbal_ctx_destroy(ctx);
}
