/* The CUDA twins of the layer ops (imbal/nn.h) against the CPU twins (the reference, checked
 * against PyTorch in test_nn.c): relu / add (odd lengths, in place, misaligned views), global
 * average pool, batch norm (train, eval, backward, dx NULL, a large channel, bf16 activations),
 * linear (with and without bias, dx / db NULL), convolution over a table of shapes in all three
 * directions (f32 strictly: the cuDNN engines are chosen without TF32; a batch smaller than the
 * plan's before and after the full one; a misaligned input; bf16), bit-identical results run after
 * run, and a small residual block forward + backward end to end.
 *
 * Every test skips where no CUDA device answers, and where the public dispatch does not reach the
 * CUDA twins (a build without IMBAL_NN_CUDA answers IMBAL_ERR_UNSUPPORTED: "CUDA twins not
 * wired"). Nothing here could be run where it was written (no GPU): docs/nn-cuda.md. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/half.h"
#include "imbal/imbal.h"
#include "imbal/nn.h"
#include "imbal/philox.h"
#include "nn_internal.h"
#include "test_util.h"

#define SEED UINT64_C(0x4E4E435544)

#define OK(ctx, expr) cr_assert_eq((expr), IMBAL_OK, "%s: %s", #expr, imbal_ctx_error(ctx))

static const imbal_device CPU = {IMBAL_DEVICE_CPU, 0};
static const imbal_device GPU = {IMBAL_DEVICE_CUDA, 0};

/* Skips unless a CUDA device answers and the public ops reach the CUDA twins. */
static imbal_ctx *gpu_ctx(void) {
    if (!imbal_built_with_cuda()) cr_skip_test("this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0) cr_skip_test("no CUDA device answers on this machine");
    imbal_ctx *ctx = tu_ctx();
    const int64_t shape[1] = {4};
    imbal_tensor x, y;
    OK(ctx, imbal_tensor_alloc(ctx, &x, IMBAL_F32, 1, shape, GPU));
    OK(ctx, imbal_tensor_alloc(ctx, &y, IMBAL_F32, 1, shape, GPU));
    const float host[4] = {-1.0f, 0.0f, 1.0f, 2.0f};
    imbal_tensor h = imbal_tensor_wrap((void *)host, IMBAL_F32, 1, shape, CPU);
    OK(ctx, imbal_tensor_copy(ctx, &x, &h));
    imbal_status st = imbal_relu_forward(ctx, GPU, &x, &y);
    imbal_tensor_free(&x);
    imbal_tensor_free(&y);
    if (st == IMBAL_ERR_UNSUPPORTED) {
        char msg[512];
        snprintf(msg, sizeof msg, "CUDA twins not wired: %s", imbal_ctx_error(ctx));
        imbal_ctx_destroy(ctx);
        cr_skip_test("%s", msg);
    }
    cr_assert_eq(st, IMBAL_OK, "relu probe on CUDA: %s", imbal_ctx_error(ctx));
    return ctx;
}

/* ---- tensors ------------------------------------------------------------------------------- */

static imbal_tensor host_new(imbal_ctx *ctx, int ndim, const int64_t *shape) {
    imbal_tensor t;
    OK(ctx, imbal_tensor_alloc(ctx, &t, IMBAL_F32, ndim, shape, CPU));
    memset(t.data, 0, imbal_tensor_nbytes(&t));
    return t;
}

/* Uniform in [lo, hi), keyed by salt: the same values on every run. */
static imbal_tensor host_rand(imbal_ctx *ctx, int ndim, const int64_t *shape, uint32_t salt,
                              float lo, float hi) {
    imbal_tensor t = host_new(ctx, ndim, shape);
    imbal_rng r;
    imbal_rng_init(&r, SEED, 0, salt, IMBAL_OP_TEST);
    float *p = (float *)t.data;
    for (int64_t i = 0; i < imbal_tensor_numel(&t); i++)
        p[i] = lo + (hi - lo) * imbal_rng_uniform(&r);
    return t;
}

/* A copy of host tensor h on `device` in `dtype` (rounded on the host for bf16). */
static imbal_tensor on_device(imbal_ctx *ctx, const imbal_tensor *h, imbal_device device,
                              imbal_dtype dtype) {
    imbal_tensor src = *h, cast;
    src.owns_data = 0;
    int casted = 0;
    if (dtype != IMBAL_F32) {
        OK(ctx, imbal_tensor_alloc(ctx, &cast, dtype, h->ndim, h->shape, CPU));
        OK(ctx, imbal_tensor_cast(ctx, &cast, h));
        src = cast;
        casted = 1;
    }
    imbal_tensor d;
    OK(ctx, imbal_tensor_alloc(ctx, &d, dtype, h->ndim, h->shape, device));
    OK(ctx, imbal_tensor_copy(ctx, &d, &src));
    if (casted) imbal_tensor_free(&cast);
    return d;
}

static imbal_tensor new_on(imbal_ctx *ctx, int ndim, const int64_t *shape, imbal_device device,
                           imbal_dtype dtype) {
    imbal_tensor t;
    OK(ctx, imbal_tensor_alloc(ctx, &t, dtype, ndim, shape, device));
    return t;
}

/* A host f32 copy of any tensor (widened from bf16). */
static imbal_tensor to_host(imbal_ctx *ctx, const imbal_tensor *d) {
    imbal_tensor raw = new_on(ctx, d->ndim, d->shape, CPU, d->dtype);
    OK(ctx, imbal_tensor_copy(ctx, &raw, d));
    if (d->dtype == IMBAL_F32) return raw;
    imbal_tensor f = host_new(ctx, d->ndim, d->shape);
    OK(ctx, imbal_tensor_cast(ctx, &f, &raw));
    imbal_tensor_free(&raw);
    return f;
}

/* The host tensor rounded through bf16 and back (the inputs a bf16 GPU op really sees). */
static imbal_tensor bf16_rounded(imbal_ctx *ctx, const imbal_tensor *h) {
    imbal_tensor r = host_new(ctx, h->ndim, h->shape);
    const float *s = (const float *)h->data;
    float *o = (float *)r.data;
    for (int64_t i = 0; i < imbal_tensor_numel(h); i++)
        o[i] = imbal_bf16_to_f32(imbal_f32_to_bf16(s[i]));
    return r;
}

/* |got - ref| <= rtol (|ref| + max(mean |ref|, floor)) everywhere: relative where values are
 * large, scaled by the tensor's typical magnitude (or `floor`, the typical size of the terms that
 * cancel, where the result itself is all cancellation) where they are near zero. */
static void expect_close_floor(imbal_ctx *ctx, const char *what, const imbal_tensor *ref,
                               const imbal_tensor *got_any, double rtol, double floor) {
    imbal_tensor got = to_host(ctx, got_any);
    const int64_t n = imbal_tensor_numel(ref);
    cr_assert_eq(n, imbal_tensor_numel(&got), "%s: %lld vs %lld elements", what, (long long)n,
                 (long long)imbal_tensor_numel(&got));
    const float *r = (const float *)ref->data, *g = (const float *)got.data;
    double scale = 0.0;
    for (int64_t i = 0; i < n; i++)
        scale += fabs((double)r[i]);
    scale = n ? scale / (double)n : 0.0;
    scale = fmax(scale, floor);
    if (scale == 0.0) scale = 1e-30;
    double worst = 0.0;
    int64_t worst_i = -1;
    for (int64_t i = 0; i < n; i++) {
        const double err = fabs((double)g[i] - (double)r[i]) / (fabs((double)r[i]) + scale);
        if (!(err <= worst) || isnan(g[i]) != isnan(r[i])) {
            worst = isnan(err) ? INFINITY : err;
            worst_i = i;
        }
    }
    cr_expect(worst <= rtol, "%s: worst relative error %.3g > %.3g at %lld (cuda %.9g, cpu %.9g)",
              what, worst, rtol, (long long)worst_i, worst_i >= 0 ? g[worst_i] : 0.0,
              worst_i >= 0 ? r[worst_i] : 0.0);
    imbal_tensor_free(&got);
}

static void expect_close(imbal_ctx *ctx, const char *what, const imbal_tensor *ref,
                         const imbal_tensor *got_any, double rtol) {
    expect_close_floor(ctx, what, ref, got_any, rtol, 0.0);
}

static void expect_same_bits(imbal_ctx *ctx, const char *what, const imbal_tensor *a_any,
                             const imbal_tensor *b_any) {
    imbal_tensor a = to_host(ctx, a_any), b = to_host(ctx, b_any);
    cr_expect(memcmp(a.data, b.data, imbal_tensor_nbytes(&a)) == 0, "%s: runs differ", what);
    imbal_tensor_free(&a);
    imbal_tensor_free(&b);
}

static void free_all(imbal_tensor *ts, int n) {
    for (int i = 0; i < n; i++)
        imbal_tensor_free(&ts[i]);
}

/* ---- element-wise -------------------------------------------------------------------------- */

static void eltwise_case(imbal_ctx *ctx, int64_t n, int offset) {
    char what[96];
    const int64_t shape[1] = {n}, big[1] = {n + 1};
    imbal_tensor a = host_rand(ctx, 1, shape, 1, -1.0f, 1.0f),
                 b = host_rand(ctx, 1, shape, 2, -1.0f, 1.0f);
    imbal_tensor ry = host_new(ctx, 1, shape), rd = host_new(ctx, 1, shape),
                 rs = host_new(ctx, 1, shape);
    OK(ctx, imbal_relu_forward(ctx, CPU, &a, &ry));
    OK(ctx, imbal_relu_backward(ctx, CPU, &ry, &b, &rd));
    OK(ctx, imbal_add(ctx, CPU, &a, &b, &rs));

    /* device buffers one element longer, viewed from `offset` (1: 4-byte aligned only) */
    imbal_tensor buf[5];
    for (int i = 0; i < 5; i++)
        buf[i] = new_on(ctx, 1, big, GPU, IMBAL_F32);
    imbal_tensor v[5];
    for (int i = 0; i < 5; i++)
        v[i] = imbal_tensor_wrap((float *)buf[i].data + offset, IMBAL_F32, 1, shape, GPU);
    OK(ctx, imbal_tensor_copy(ctx, &v[0], &a));
    OK(ctx, imbal_tensor_copy(ctx, &v[1], &b));
    OK(ctx, imbal_relu_forward(ctx, GPU, &v[0], &v[2]));
    OK(ctx, imbal_relu_backward(ctx, GPU, &v[2], &v[1], &v[3]));
    OK(ctx, imbal_add(ctx, GPU, &v[0], &v[1], &v[4]));
    snprintf(what, sizeof what, "relu forward n %lld offset %d", (long long)n, offset);
    expect_close(ctx, what, &ry, &v[2], 0.0);
    snprintf(what, sizeof what, "relu backward n %lld offset %d", (long long)n, offset);
    expect_close(ctx, what, &rd, &v[3], 0.0);
    snprintf(what, sizeof what, "add n %lld offset %d", (long long)n, offset);
    expect_close(ctx, what, &rs, &v[4], 0.0);

    /* in place: relu into x, relu backward into dy, add into a */
    OK(ctx, imbal_tensor_copy(ctx, &v[2], &a));
    OK(ctx, imbal_relu_forward(ctx, GPU, &v[2], &v[2]));
    expect_close(ctx, "relu forward in place", &ry, &v[2], 0.0);
    OK(ctx, imbal_tensor_copy(ctx, &v[3], &b));
    OK(ctx, imbal_relu_backward(ctx, GPU, &v[2], &v[3], &v[3]));
    expect_close(ctx, "relu backward in place", &rd, &v[3], 0.0);
    OK(ctx, imbal_tensor_copy(ctx, &v[4], &a));
    OK(ctx, imbal_add(ctx, GPU, &v[4], &v[1], &v[4]));
    expect_close(ctx, "add in place", &rs, &v[4], 0.0);
    free_all(buf, 5);
    imbal_tensor ts[5] = {a, b, ry, rd, rs};
    free_all(ts, 5);
}

Test(nn_gpu, eltwise_matches_cpu_exactly) {
    imbal_ctx *ctx = gpu_ctx();
    const int64_t sizes[] = {1, 3, 4, 1003, 65536 + 7};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int off = 0; off < 2; off++)
            eltwise_case(ctx, sizes[i], off);
    imbal_ctx_destroy(ctx);
}

Test(nn_gpu, avgpool_matches_cpu) {
    imbal_ctx *ctx = gpu_ctx();
    const int64_t xs[4] = {5, 7, 6, 5}, ys[2] = {5, 7};
    imbal_tensor x = host_rand(ctx, 4, xs, 3, -2.0f, 2.0f),
                 dy = host_rand(ctx, 2, ys, 4, -1.0f, 1.0f);
    imbal_tensor ry = host_new(ctx, 2, ys), rdx = host_new(ctx, 4, xs);
    OK(ctx, imbal_avgpool_forward(ctx, CPU, &x, &ry));
    OK(ctx, imbal_avgpool_backward(ctx, CPU, &dy, &rdx));
    imbal_tensor gx = on_device(ctx, &x, GPU, IMBAL_F32), gdy = on_device(ctx, &dy, GPU, IMBAL_F32);
    imbal_tensor gy = new_on(ctx, 2, ys, GPU, IMBAL_F32), gdx = new_on(ctx, 4, xs, GPU, IMBAL_F32);
    OK(ctx, imbal_avgpool_forward(ctx, GPU, &gx, &gy));
    OK(ctx, imbal_avgpool_backward(ctx, GPU, &gdy, &gdx));
    expect_close(ctx, "avgpool forward", &ry, &gy, 1e-5);
    expect_close(ctx, "avgpool backward", &rdx, &gdx, 1e-6);
    imbal_tensor ts[8] = {x, dy, ry, rdx, gx, gdy, gy, gdx};
    free_all(ts, 8);
    imbal_ctx_destroy(ctx);
}

/* The bf16 backbone's element-wise ops, pooling and dtype casts: relu, its backward and add on
 * bf16 tensors against the CPU on the bf16-rounded inputs (relu exactly; add within one bf16
 * rounding), the pool from bf16 activations into f32 and its gradient back into bf16, and the
 * f32 <-> bf16 cast against the host's rounding (exactly). */
Test(nn_gpu, bf16_eltwise_pool_and_cast) {
    imbal_ctx *ctx = gpu_ctx();
    const int64_t n = 4099, shape[1] = {n};
    imbal_tensor a = host_rand(ctx, 1, shape, 11, -2.0f, 2.0f),
                 b = host_rand(ctx, 1, shape, 12, -2.0f, 2.0f);
    imbal_tensor a16 = bf16_rounded(ctx, &a), b16 = bf16_rounded(ctx, &b);
    imbal_tensor ry = host_new(ctx, 1, shape), rd = host_new(ctx, 1, shape),
                 rs = host_new(ctx, 1, shape);
    OK(ctx, imbal_relu_forward(ctx, CPU, &a16, &ry));
    OK(ctx, imbal_relu_backward(ctx, CPU, &ry, &b16, &rd));
    OK(ctx, imbal_add(ctx, CPU, &a16, &b16, &rs));
    imbal_tensor rs16 = bf16_rounded(ctx, &rs);
    imbal_tensor ga = new_on(ctx, 1, shape, GPU, IMBAL_BF16),
                 gb = new_on(ctx, 1, shape, GPU, IMBAL_BF16);
    imbal_tensor fa = on_device(ctx, &a, GPU, IMBAL_F32), fb = on_device(ctx, &b, GPU, IMBAL_F32);
    OK(ctx, imbal_nn_cast(ctx, &fa, &ga)); /* the cast under test */
    OK(ctx, imbal_nn_cast(ctx, &fb, &gb));
    expect_close(ctx, "cast f32 -> bf16", &a16, &ga, 0.0);
    imbal_tensor back = new_on(ctx, 1, shape, GPU, IMBAL_F32);
    OK(ctx, imbal_nn_cast(ctx, &ga, &back));
    expect_close(ctx, "cast bf16 -> f32", &a16, &back, 0.0);
    imbal_tensor gy = new_on(ctx, 1, shape, GPU, IMBAL_BF16),
                 gd = new_on(ctx, 1, shape, GPU, IMBAL_BF16),
                 gs = new_on(ctx, 1, shape, GPU, IMBAL_BF16);
    OK(ctx, imbal_relu_forward(ctx, GPU, &ga, &gy));
    OK(ctx, imbal_relu_backward(ctx, GPU, &gy, &gb, &gd));
    OK(ctx, imbal_add(ctx, GPU, &ga, &gb, &gs));
    expect_close(ctx, "bf16 relu forward", &ry, &gy, 0.0);
    expect_close(ctx, "bf16 relu backward", &rd, &gd, 0.0);
    expect_close(ctx, "bf16 add", &rs16, &gs, 4e-3);
    /* pool: bf16 [N,C,H,W] -> f32 [N,C]; gradient f32 [N,C] -> bf16 [N,C,H,W] */
    const int64_t xs[4] = {6, 8, 5, 7}, ys[2] = {6, 8};
    imbal_tensor x = host_rand(ctx, 4, xs, 13, -2.0f, 2.0f),
                 dy = host_rand(ctx, 2, ys, 14, -1.0f, 1.0f);
    imbal_tensor x16 = bf16_rounded(ctx, &x);
    imbal_tensor rpy = host_new(ctx, 2, ys), rpdx = host_new(ctx, 4, xs);
    OK(ctx, imbal_avgpool_forward(ctx, CPU, &x16, &rpy));
    OK(ctx, imbal_avgpool_backward(ctx, CPU, &dy, &rpdx));
    imbal_tensor gx = on_device(ctx, &x, GPU, IMBAL_BF16),
                 gdy = on_device(ctx, &dy, GPU, IMBAL_F32);
    imbal_tensor gpy = new_on(ctx, 2, ys, GPU, IMBAL_F32),
                 gpdx = new_on(ctx, 4, xs, GPU, IMBAL_BF16);
    OK(ctx, imbal_avgpool_forward(ctx, GPU, &gx, &gpy));
    OK(ctx, imbal_avgpool_backward(ctx, GPU, &gdy, &gpdx));
    expect_close(ctx, "avgpool bf16 -> f32", &rpy, &gpy, 1e-5);
    expect_close(ctx, "avgpool backward f32 -> bf16", &rpdx, &gpdx, 4e-3);
    /* a bf16 pool output is refused where the input is f32 */
    imbal_tensor fx = on_device(ctx, &x, GPU, IMBAL_F32), by = new_on(ctx, 2, ys, GPU, IMBAL_BF16);
    cr_expect_eq(imbal_avgpool_forward(ctx, GPU, &fx, &by), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_tensor ts[] = {a,  b,  a16, b16, ry,  rd,  rs,   rs16, ga,  gb,  fa,   fb, back, gy,
                         gd, gs, x,   dy,  x16, rpy, rpdx, gx,   gdy, gpy, gpdx, fx, by};
    free_all(ts, (int)(sizeof ts / sizeof ts[0]));
    imbal_ctx_destroy(ctx);
}

/* ---- batch norm ---------------------------------------------------------------------------- */

typedef struct bn_out {
    imbal_tensor y, mean, invstd, rmean, rvar, eval_y, dx, dgamma, dbeta;
} bn_out;

/* Runs train forward, eval forward (with the updated running statistics) and backward on
 * `device` with activations in `dtype`; returns host f32 copies. */
static bn_out bn_run(imbal_ctx *ctx, imbal_device dev, imbal_dtype dt, const imbal_tensor *x,
                     const imbal_tensor *dy, const imbal_tensor *gamma, const imbal_tensor *beta,
                     const imbal_tensor *rm0, const imbal_tensor *rv0, int with_dx) {
    const int64_t *xs = x->shape, cs[1] = {x->shape[1]};
    imbal_tensor gx = on_device(ctx, x, dev, dt), gdy = on_device(ctx, dy, dev, dt);
    imbal_tensor gg = on_device(ctx, gamma, dev, IMBAL_F32),
                 gb = on_device(ctx, beta, dev, IMBAL_F32);
    imbal_tensor rm = on_device(ctx, rm0, dev, IMBAL_F32), rv = on_device(ctx, rv0, dev, IMBAL_F32);
    imbal_tensor y = new_on(ctx, 4, xs, dev, dt), ey = new_on(ctx, 4, xs, dev, dt),
                 dx = new_on(ctx, 4, xs, dev, dt);
    imbal_tensor sm = new_on(ctx, 1, cs, dev, IMBAL_F32), si = new_on(ctx, 1, cs, dev, IMBAL_F32),
                 dg = new_on(ctx, 1, cs, dev, IMBAL_F32), db = new_on(ctx, 1, cs, dev, IMBAL_F32);
    OK(ctx,
       imbal_batchnorm_forward_train(ctx, dev, &gx, &gg, &gb, &rm, &rv, 0.1f, 1e-5f, &y, &sm, &si));
    OK(ctx, imbal_batchnorm_forward_eval(ctx, dev, &gx, &gg, &gb, &rm, &rv, 1e-5f, &ey));
    OK(ctx, imbal_batchnorm_backward(ctx, dev, &gx, &gdy, &gg, &sm, &si, with_dx ? &dx : NULL, &dg,
                                     &db));
    bn_out o;
    o.y = to_host(ctx, &y);
    o.mean = to_host(ctx, &sm);
    o.invstd = to_host(ctx, &si);
    o.rmean = to_host(ctx, &rm);
    o.rvar = to_host(ctx, &rv);
    o.eval_y = to_host(ctx, &ey);
    o.dx = with_dx ? to_host(ctx, &dx) : host_new(ctx, 4, xs);
    o.dgamma = to_host(ctx, &dg);
    o.dbeta = to_host(ctx, &db);
    imbal_tensor ts[13] = {gx, gdy, gg, gb, rm, rv, y, ey, dx, sm, si, dg, db};
    free_all(ts, 13);
    return o;
}

static void bn_free(bn_out *o) {
    imbal_tensor *ts = &o->y;
    free_all(ts, 9);
}

/* mean |gamma_c invstd_c dy|: the size of the terms dx = gamma invstd (dy - mean dy - xhat
 * mean(dy xhat)) cancels down from (Ioffe & Szegedy 2015). With 2 values per channel xhat is
 * +-sqrt(var / (var + eps)) and dx is all cancellation, about eps / var of those terms: there
 * f32 rounding of the terms, not dx itself, sets the error (an H100 missed a plain relative
 * bound by 1.2% on a 3e-5 entry). */
static double bn_dx_terms(const bn_out *ref, const imbal_tensor *dy, const imbal_tensor *gamma) {
    const int64_t n = dy->shape[0], c = dy->shape[1], hw = dy->shape[2] * dy->shape[3];
    const float *d = (const float *)dy->data, *g = (const float *)gamma->data,
                *is = (const float *)ref->invstd.data;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t k = 0; k < hw; k++)
                sum += fabs((double)g[ch] * is[ch] * d[(i * c + ch) * hw + k]);
    return sum / (double)(n * c * hw);
}

static void bn_case(imbal_ctx *ctx, const int64_t xs[4], imbal_dtype dt, double rtol, int with_dx) {
    const int64_t cs[1] = {xs[1]};
    imbal_tensor x = host_rand(ctx, 4, xs, 10, 1.0f, 5.0f); /* mean ~3: the two-pass matters */
    imbal_tensor dy = host_rand(ctx, 4, xs, 11, -1.0f, 1.0f);
    imbal_tensor g = host_rand(ctx, 1, cs, 12, 0.5f, 1.5f),
                 b = host_rand(ctx, 1, cs, 13, -0.5f, 0.5f);
    imbal_tensor rm = host_rand(ctx, 1, cs, 14, -0.1f, 0.1f),
                 rv = host_rand(ctx, 1, cs, 15, 0.9f, 1.1f);
    imbal_tensor xr = dt == IMBAL_BF16 ? bf16_rounded(ctx, &x) : x;
    imbal_tensor dyr = dt == IMBAL_BF16 ? bf16_rounded(ctx, &dy) : dy;
    bn_out ref = bn_run(ctx, CPU, IMBAL_F32, &xr, &dyr, &g, &b, &rm, &rv, with_dx);
    bn_out got = bn_run(ctx, GPU, dt, &x, &dy, &g, &b, &rm, &rv, with_dx);
    expect_close(ctx, "bn train y", &ref.y, &got.y, rtol);
    expect_close(ctx, "bn save_mean", &ref.mean, &got.mean, 1e-5);
    expect_close(ctx, "bn save_invstd", &ref.invstd, &got.invstd, 1e-4);
    expect_close(ctx, "bn running_mean", &ref.rmean, &got.rmean, 1e-5);
    expect_close(ctx, "bn running_var", &ref.rvar, &got.rvar, 1e-4);
    expect_close(ctx, "bn eval y", &ref.eval_y, &got.eval_y, rtol);
    if (with_dx)
        expect_close_floor(ctx, "bn dx", &ref.dx, &got.dx, dt == IMBAL_BF16 ? 3e-2 : 1e-3,
                           bn_dx_terms(&ref, &dyr, &g));
    expect_close(ctx, "bn dgamma", &ref.dgamma, &got.dgamma, 1e-3);
    expect_close(ctx, "bn dbeta", &ref.dbeta, &got.dbeta, 1e-4);

    /* the same inputs again: the same bits */
    bn_out again = bn_run(ctx, GPU, dt, &x, &dy, &g, &b, &rm, &rv, with_dx);
    expect_same_bits(ctx, "bn y", &got.y, &again.y);
    expect_same_bits(ctx, "bn save_invstd", &got.invstd, &again.invstd);
    expect_same_bits(ctx, "bn running_var", &got.rvar, &again.rvar);
    expect_same_bits(ctx, "bn dx", &got.dx, &again.dx);
    expect_same_bits(ctx, "bn dgamma", &got.dgamma, &again.dgamma);
    bn_free(&ref);
    bn_free(&got);
    bn_free(&again);
    if (dt == IMBAL_BF16) {
        imbal_tensor_free(&xr);
        imbal_tensor_free(&dyr);
    }
    imbal_tensor ts[6] = {x, dy, g, b, rm, rv};
    free_all(ts, 6);
}

Test(nn_gpu, batchnorm_matches_cpu_and_repeats_bitwise) {
    imbal_ctx *ctx = gpu_ctx();
    const int64_t small[4] = {6, 5, 7, 3}, two[4] = {2, 3, 1, 1}, large[4] = {64, 4, 32, 32};
    bn_case(ctx, small, IMBAL_F32, 1e-4, 1);
    bn_case(ctx, small, IMBAL_F32, 1e-4, 0); /* dx NULL */
    bn_case(ctx, two, IMBAL_F32, 1e-4, 1);   /* M = 2, the smallest allowed */
    bn_case(ctx, large, IMBAL_F32, 1e-4, 1); /* M = 65536 per channel */
    imbal_ctx_destroy(ctx);
}

Test(nn_gpu, batchnorm_bf16_activations) {
    imbal_ctx *ctx = gpu_ctx();
    const int64_t xs[4] = {8, 6, 5, 5};
    bn_case(ctx, xs, IMBAL_BF16, 2e-2, 1);
    imbal_ctx_destroy(ctx);
}

/* ---- linear -------------------------------------------------------------------------------- */

static void linear_case(imbal_ctx *ctx, int64_t n, int64_t in, int64_t out, int with_b,
                        int with_dx) {
    const int64_t xs[2] = {n, in}, ws[2] = {out, in}, ys[2] = {n, out}, bs[1] = {out};
    imbal_tensor x = host_rand(ctx, 2, xs, 20, -1.0f, 1.0f),
                 w = host_rand(ctx, 2, ws, 21, -0.5f, 0.5f),
                 b = host_rand(ctx, 1, bs, 22, -1.0f, 1.0f),
                 dy = host_rand(ctx, 2, ys, 23, -1.0f, 1.0f);
    imbal_tensor ry = host_new(ctx, 2, ys), rdx = host_new(ctx, 2, xs), rdw = host_new(ctx, 2, ws),
                 rdb = host_new(ctx, 1, bs);
    OK(ctx, imbal_linear_forward(ctx, CPU, &x, &w, with_b ? &b : NULL, &ry));
    OK(ctx, imbal_linear_backward(ctx, CPU, &x, &w, &dy, with_dx ? &rdx : NULL, &rdw,
                                  with_b ? &rdb : NULL));
    imbal_tensor gx = on_device(ctx, &x, GPU, IMBAL_F32), gw = on_device(ctx, &w, GPU, IMBAL_F32),
                 gb = on_device(ctx, &b, GPU, IMBAL_F32), gdy = on_device(ctx, &dy, GPU, IMBAL_F32);
    imbal_tensor gy = new_on(ctx, 2, ys, GPU, IMBAL_F32), gdx = new_on(ctx, 2, xs, GPU, IMBAL_F32),
                 gdw = new_on(ctx, 2, ws, GPU, IMBAL_F32), gdb = new_on(ctx, 1, bs, GPU, IMBAL_F32);
    OK(ctx, imbal_linear_forward(ctx, GPU, &gx, &gw, with_b ? &gb : NULL, &gy));
    OK(ctx, imbal_linear_backward(ctx, GPU, &gx, &gw, &gdy, with_dx ? &gdx : NULL, &gdw,
                                  with_b ? &gdb : NULL));
    char what[96];
    snprintf(what, sizeof what, "linear y [%lld,%lld] bias %d", (long long)n, (long long)out,
             with_b);
    expect_close(ctx, what, &ry, &gy, 1e-4);
    if (with_dx) expect_close(ctx, "linear dx", &rdx, &gdx, 1e-4);
    expect_close(ctx, "linear dw", &rdw, &gdw, 1e-4);
    if (with_b) expect_close(ctx, "linear db", &rdb, &gdb, 1e-5);
    imbal_tensor ts[16] = {x, w, b, dy, ry, rdx, rdw, rdb, gx, gw, gb, gdy, gy, gdx, gdw, gdb};
    free_all(ts, 16);
}

Test(nn_gpu, linear_matches_cpu) {
    imbal_ctx *ctx = gpu_ctx();
    linear_case(ctx, 7, 33, 10, 1, 1);
    linear_case(ctx, 7, 33, 10, 0, 0);
    linear_case(ctx, 1, 5, 3, 1, 1);
    linear_case(ctx, 128, 256, 100, 1, 1);
    imbal_ctx_destroy(ctx);
}

/* ---- convolution --------------------------------------------------------------------------- */

typedef struct conv_io {
    imbal_tensor y, dx, dw;
} conv_io;

/* Forward, backward-data and backward-filter at batch `nb` (<= the plan's n) through `plan`.
 * x_off shifts x one element into its buffer (a 4-byte aligned pointer for cuDNN). */
static conv_io conv_run(imbal_ctx *ctx, imbal_conv_plan *plan, imbal_device dev, imbal_dtype dt,
                        const imbal_tensor *x, const imbal_tensor *w, const imbal_tensor *dy,
                        int x_off) {
    int p, q;
    const imbal_conv2d_shape *s = imbal_conv_plan_shape(plan);
    imbal_conv2d_out_hw(s, &p, &q);
    const int64_t nb = x->shape[0];
    const int64_t xs[4] = {nb, s->c, s->h, s->w}, ys[4] = {nb, s->k, p, q},
                  ws[4] = {s->k, s->c, s->r, s->s}, big[1] = {imbal_tensor_numel(x) + 1};
    imbal_tensor xbuf = new_on(ctx, 1, big, dev, dt);
    imbal_tensor gx =
        imbal_tensor_wrap((char *)xbuf.data + (size_t)x_off * imbal_dtype_size(dt), dt, 4, xs, dev);
    imbal_tensor xd = on_device(ctx, x, dev, dt);
    OK(ctx, imbal_tensor_copy(ctx, &gx, &xd));
    imbal_tensor_free(&xd);
    imbal_tensor gw = on_device(ctx, w, dev, dt), gdy = on_device(ctx, dy, dev, dt);
    imbal_tensor gy = new_on(ctx, 4, ys, dev, dt), gdx = new_on(ctx, 4, xs, dev, dt),
                 gdw = new_on(ctx, 4, ws, dev, IMBAL_F32);
    OK(ctx, imbal_conv2d_forward(ctx, plan, &gx, &gw, &gy));
    OK(ctx, imbal_conv2d_backward_data(ctx, plan, &gdy, &gw, &gdx));
    OK(ctx, imbal_conv2d_backward_filter(ctx, plan, &gx, &gdy, &gdw));
    conv_io o = {to_host(ctx, &gy), to_host(ctx, &gdx), to_host(ctx, &gdw)};
    imbal_tensor ts[6] = {xbuf, gw, gdy, gy, gdx, gdw};
    free_all(ts, 6);
    return o;
}

static void conv_free(conv_io *o) {
    imbal_tensor_free(&o->y);
    imbal_tensor_free(&o->dx);
    imbal_tensor_free(&o->dw);
}

static void conv_compare(imbal_ctx *ctx, const char *tag, const conv_io *ref, const conv_io *got,
                         double rtol) {
    char what[256];
    snprintf(what, sizeof what, "%s forward", tag);
    expect_close(ctx, what, &ref->y, &got->y, rtol);
    snprintf(what, sizeof what, "%s backward-data", tag);
    expect_close(ctx, what, &ref->dx, &got->dx, rtol);
    snprintf(what, sizeof what, "%s backward-filter", tag);
    expect_close(ctx, what, &ref->dw, &got->dw, rtol);
}

static void conv_case(imbal_ctx *ctx, imbal_conv2d_shape s, imbal_dtype dt, double rtol,
                      uint32_t salt) {
    char tag[160];
    snprintf(tag, sizeof tag, "conv n%d c%d %dx%d k%d %dx%d s%d p%d %s", s.n, s.c, s.h, s.w, s.k,
             s.r, s.s, s.stride, s.pad, dt == IMBAL_BF16 ? "bf16" : "f32");
    imbal_conv_plan *cpu = NULL, *gpu = NULL;
    OK(ctx, imbal_conv_plan_create(ctx, CPU, &s, IMBAL_F32, &cpu));
    OK(ctx, imbal_conv_plan_create(ctx, GPU, &s, dt, &gpu));
    int p, q;
    imbal_conv2d_out_hw(&s, &p, &q);
    /* batches: a smaller one first (its own plan), the full one, the smaller one again (cached) */
    const int nbs[3] = {s.n > 1 ? s.n - 1 : 1, s.n, s.n > 1 ? s.n - 1 : 1};
    const int64_t ws[4] = {s.k, s.c, s.r, s.s};
    imbal_tensor w = host_rand(ctx, 4, ws, salt + 1, -0.5f, 0.5f);
    imbal_tensor wr = dt == IMBAL_BF16 ? bf16_rounded(ctx, &w) : w;
    for (int t = 0; t < 3; t++) {
        const int64_t xs[4] = {nbs[t], s.c, s.h, s.w}, ys[4] = {nbs[t], s.k, p, q};
        imbal_tensor x = host_rand(ctx, 4, xs, salt + 2, -1.0f, 1.0f),
                     dy = host_rand(ctx, 4, ys, salt + 3, -1.0f, 1.0f);
        imbal_tensor xr = dt == IMBAL_BF16 ? bf16_rounded(ctx, &x) : x;
        imbal_tensor dyr = dt == IMBAL_BF16 ? bf16_rounded(ctx, &dy) : dy;
        conv_io ref = conv_run(ctx, cpu, CPU, IMBAL_F32, &xr, &wr, &dyr, 0);
        conv_io got = conv_run(ctx, gpu, GPU, dt, &x, &w, &dy, 0);
        char what[200];
        snprintf(what, sizeof what, "%s batch %d", tag, nbs[t]);
        conv_compare(ctx, what, &ref, &got, rtol);
        /* run after run: the same bits */
        conv_io again = conv_run(ctx, gpu, GPU, dt, &x, &w, &dy, 0);
        snprintf(what, sizeof what, "%s batch %d rerun", tag, nbs[t]);
        expect_same_bits(ctx, what, &got.y, &again.y);
        expect_same_bits(ctx, what, &got.dx, &again.dx);
        expect_same_bits(ctx, what, &got.dw, &again.dw);
        /* x 4-byte aligned (f32) / 2-byte aligned (bf16): other cuDNN plans (first batch only,
         * plan builds are the slow part) */
        if (t == 0) {
            conv_io mis = conv_run(ctx, gpu, GPU, dt, &x, &w, &dy, 1);
            snprintf(what, sizeof what, "%s batch %d misaligned x", tag, nbs[t]);
            conv_compare(ctx, what, &ref, &mis, rtol);
            conv_free(&mis);
        }
        conv_free(&ref);
        conv_free(&got);
        conv_free(&again);
        if (dt == IMBAL_BF16) {
            imbal_tensor_free(&xr);
            imbal_tensor_free(&dyr);
        }
        imbal_tensor_free(&x);
        imbal_tensor_free(&dy);
    }
    if (dt == IMBAL_BF16) imbal_tensor_free(&wr);
    imbal_tensor_free(&w);
    imbal_conv_plan_destroy(cpu);
    imbal_conv_plan_destroy(gpu);
}

static const imbal_conv2d_shape kShapes[] = {
    /* n  c   h   w   k  r  s  stride pad */
    {4, 3, 16, 16, 8, 3, 3, 1, 1},  /* a first layer: 3 input channels */
    {3, 8, 9, 7, 16, 3, 3, 2, 1},   /* stride 2, odd sizes */
    {2, 16, 8, 8, 32, 1, 1, 2, 0},  /* the 1x1 projection shortcut */
    {5, 4, 6, 6, 4, 3, 3, 1, 0},    /* no padding */
    {1, 5, 5, 5, 3, 5, 5, 1, 2},    /* batch 1, 5x5 kernel */
    {8, 16, 32, 32, 16, 3, 3, 1, 1} /* ResNet-20's first stage */
};

Test(nn_gpu, conv_f32_matches_cpu_strictly) {
    imbal_ctx *ctx = gpu_ctx();
    /* 1e-4: only full-f32 engines (no TF32) pass the plan's filter; docs/nn-cuda.md */
    for (size_t i = 0; i < sizeof kShapes / sizeof *kShapes; i++)
        conv_case(ctx, kShapes[i], IMBAL_F32, 1e-4, 100 + 10 * (uint32_t)i);
    imbal_ctx_destroy(ctx);
}

Test(nn_gpu, conv_bf16_matches_cpu_on_rounded_inputs) {
    imbal_ctx *ctx = gpu_ctx();
    /* inputs rounded to bf16 on both sides; the GPU's y and dx are rounded to bf16 once (2^-8
     * relative), dw is accumulated in f32 and rounded through bf16 (docs/nn-cuda.md) */
    for (size_t i = 0; i < 3; i++)
        conv_case(ctx, kShapes[i], IMBAL_BF16, 2e-2, 300 + 10 * (uint32_t)i);
    imbal_ctx_destroy(ctx);
}

/* ---- a residual block end to end ----------------------------------------------------------- */

typedef struct chain_out {
    imbal_tensor logits, dx, dw1, dw2, dg1, db1, dg2, db2, dfw, dfb;
} chain_out;

/* x -> conv1 -> bn1 -> relu (= r1) -> conv2 -> bn2 -> + r1 -> relu -> avgpool -> linear -> logits,
 * then the backward from a fixed dlogits; returns host copies of every gradient. */
static chain_out chain_run(imbal_ctx *ctx, imbal_device dev, const imbal_tensor *hx,
                           const imbal_tensor *hw1, const imbal_tensor *hw2,
                           const imbal_tensor *hfw, const imbal_tensor *hfb,
                           const imbal_tensor *hdl) {
    const int N = 4, C = 3, H = 8, W = 8, K = 8, CLS = 5;
    const imbal_conv2d_shape s1 = {N, C, H, W, K, 3, 3, 1, 1}, s2 = {N, K, H, W, K, 3, 3, 1, 1};
    imbal_conv_plan *p1 = NULL, *p2 = NULL;
    OK(ctx, imbal_conv_plan_create(ctx, dev, &s1, IMBAL_F32, &p1));
    OK(ctx, imbal_conv_plan_create(ctx, dev, &s2, IMBAL_F32, &p2));
    const int64_t as[4] = {N, K, H, W}, xs[4] = {N, C, H, W}, ks[1] = {K}, ps[2] = {N, K},
                  ls[2] = {N, CLS}, w1s[4] = {K, C, 3, 3}, w2s[4] = {K, K, 3, 3}, fws[2] = {CLS, K},
                  fbs[1] = {CLS};
    imbal_tensor x = on_device(ctx, hx, dev, IMBAL_F32), w1 = on_device(ctx, hw1, dev, IMBAL_F32),
                 w2 = on_device(ctx, hw2, dev, IMBAL_F32), fw = on_device(ctx, hfw, dev, IMBAL_F32),
                 fb = on_device(ctx, hfb, dev, IMBAL_F32), dl = on_device(ctx, hdl, dev, IMBAL_F32);
    imbal_tensor ones_h = host_new(ctx, 1, ks), zeros_h = host_new(ctx, 1, ks);
    for (int i = 0; i < K; i++)
        ((float *)ones_h.data)[i] = 1.0f;
    imbal_tensor g1 = on_device(ctx, &ones_h, dev, IMBAL_F32),
                 b1 = on_device(ctx, &zeros_h, dev, IMBAL_F32),
                 g2 = on_device(ctx, &ones_h, dev, IMBAL_F32),
                 b2 = on_device(ctx, &zeros_h, dev, IMBAL_F32),
                 rm1 = on_device(ctx, &zeros_h, dev, IMBAL_F32),
                 rv1 = on_device(ctx, &ones_h, dev, IMBAL_F32),
                 rm2 = on_device(ctx, &zeros_h, dev, IMBAL_F32),
                 rv2 = on_device(ctx, &ones_h, dev, IMBAL_F32);
    imbal_tensor c1 = new_on(ctx, 4, as, dev, IMBAL_F32), n1 = new_on(ctx, 4, as, dev, IMBAL_F32),
                 r1 = new_on(ctx, 4, as, dev, IMBAL_F32), c2 = new_on(ctx, 4, as, dev, IMBAL_F32),
                 n2 = new_on(ctx, 4, as, dev, IMBAL_F32), s = new_on(ctx, 4, as, dev, IMBAL_F32),
                 r2 = new_on(ctx, 4, as, dev, IMBAL_F32),
                 pooled = new_on(ctx, 2, ps, dev, IMBAL_F32),
                 logits = new_on(ctx, 2, ls, dev, IMBAL_F32);
    imbal_tensor sm1 = new_on(ctx, 1, ks, dev, IMBAL_F32), si1 = new_on(ctx, 1, ks, dev, IMBAL_F32),
                 sm2 = new_on(ctx, 1, ks, dev, IMBAL_F32), si2 = new_on(ctx, 1, ks, dev, IMBAL_F32);
    OK(ctx, imbal_conv2d_forward(ctx, p1, &x, &w1, &c1));
    OK(ctx, imbal_batchnorm_forward_train(ctx, dev, &c1, &g1, &b1, &rm1, &rv1, 0.1f, 1e-5f, &n1,
                                          &sm1, &si1));
    OK(ctx, imbal_relu_forward(ctx, dev, &n1, &r1));
    OK(ctx, imbal_conv2d_forward(ctx, p2, &r1, &w2, &c2));
    OK(ctx, imbal_batchnorm_forward_train(ctx, dev, &c2, &g2, &b2, &rm2, &rv2, 0.1f, 1e-5f, &n2,
                                          &sm2, &si2));
    OK(ctx, imbal_add(ctx, dev, &n2, &r1, &s));
    OK(ctx, imbal_relu_forward(ctx, dev, &s, &r2));
    OK(ctx, imbal_avgpool_forward(ctx, dev, &r2, &pooled));
    OK(ctx, imbal_linear_forward(ctx, dev, &pooled, &fw, &fb, &logits));
    /* backward */
    imbal_tensor dpool = new_on(ctx, 2, ps, dev, IMBAL_F32),
                 dfw = new_on(ctx, 2, fws, dev, IMBAL_F32),
                 dfb = new_on(ctx, 1, fbs, dev, IMBAL_F32),
                 dr2 = new_on(ctx, 4, as, dev, IMBAL_F32), ds = new_on(ctx, 4, as, dev, IMBAL_F32),
                 dc2 = new_on(ctx, 4, as, dev, IMBAL_F32), dr1 = new_on(ctx, 4, as, dev, IMBAL_F32),
                 dc1 = new_on(ctx, 4, as, dev, IMBAL_F32), dx = new_on(ctx, 4, xs, dev, IMBAL_F32),
                 dw1 = new_on(ctx, 4, w1s, dev, IMBAL_F32),
                 dw2 = new_on(ctx, 4, w2s, dev, IMBAL_F32),
                 dg1 = new_on(ctx, 1, ks, dev, IMBAL_F32), db1 = new_on(ctx, 1, ks, dev, IMBAL_F32),
                 dg2 = new_on(ctx, 1, ks, dev, IMBAL_F32), db2 = new_on(ctx, 1, ks, dev, IMBAL_F32);
    OK(ctx, imbal_linear_backward(ctx, dev, &pooled, &fw, &dl, &dpool, &dfw, &dfb));
    OK(ctx, imbal_avgpool_backward(ctx, dev, &dpool, &dr2));
    OK(ctx, imbal_relu_backward(ctx, dev, &r2, &dr2, &ds)); /* ds flows to n2 and to r1 */
    OK(ctx, imbal_batchnorm_backward(ctx, dev, &c2, &ds, &g2, &sm2, &si2, &dc2, &dg2, &db2));
    OK(ctx, imbal_conv2d_backward_filter(ctx, p2, &r1, &dc2, &dw2));
    OK(ctx, imbal_conv2d_backward_data(ctx, p2, &dc2, &w2, &dr1));
    OK(ctx, imbal_add(ctx, dev, &dr1, &ds, &dr1)); /* the residual path's gradient */
    OK(ctx, imbal_relu_backward(ctx, dev, &r1, &dr1, &dr1));
    OK(ctx, imbal_batchnorm_backward(ctx, dev, &c1, &dr1, &g1, &sm1, &si1, &dc1, &dg1, &db1));
    OK(ctx, imbal_conv2d_backward_filter(ctx, p1, &x, &dc1, &dw1));
    OK(ctx, imbal_conv2d_backward_data(ctx, p1, &dc1, &w1, &dx));
    chain_out o = {to_host(ctx, &logits), to_host(ctx, &dx),  to_host(ctx, &dw1),
                   to_host(ctx, &dw2),    to_host(ctx, &dg1), to_host(ctx, &db1),
                   to_host(ctx, &dg2),    to_host(ctx, &db2), to_host(ctx, &dfw),
                   to_host(ctx, &dfb)};
    imbal_tensor ts[] = {x,  w1,     w2,     fw,  fb,  dl,  ones_h, zeros_h, g1,  b1,  g2,
                         b2, rm1,    rv1,    rm2, rv2, c1,  n1,     r1,      c2,  n2,  s,
                         r2, pooled, logits, sm1, si1, sm2, si2,    dpool,   dfw, dfb, dr2,
                         ds, dc2,    dr1,    dc1, dx,  dw1, dw2,    dg1,     db1, dg2, db2};
    free_all(ts, (int)(sizeof ts / sizeof *ts));
    imbal_conv_plan_destroy(p1);
    imbal_conv_plan_destroy(p2);
    return o;
}

Test(nn_gpu, residual_block_forward_backward_matches_cpu) {
    imbal_ctx *ctx = gpu_ctx();
    const int64_t xs[4] = {4, 3, 8, 8}, w1s[4] = {8, 3, 3, 3}, w2s[4] = {8, 8, 3, 3},
                  fws[2] = {5, 8}, fbs[1] = {5}, ls[2] = {4, 5};
    imbal_tensor x = host_rand(ctx, 4, xs, 50, -1.0f, 1.0f),
                 w1 = host_rand(ctx, 4, w1s, 51, -0.4f, 0.4f),
                 w2 = host_rand(ctx, 4, w2s, 52, -0.2f, 0.2f),
                 fw = host_rand(ctx, 2, fws, 53, -0.5f, 0.5f),
                 fb = host_rand(ctx, 1, fbs, 54, -0.1f, 0.1f),
                 dl = host_rand(ctx, 2, ls, 55, -0.25f, 0.25f);
    chain_out ref = chain_run(ctx, CPU, &x, &w1, &w2, &fw, &fb, &dl);
    chain_out got = chain_run(ctx, GPU, &x, &w1, &w2, &fw, &fb, &dl);
    chain_out again = chain_run(ctx, GPU, &x, &w1, &w2, &fw, &fb, &dl);
    static const char *names[10] = {"logits", "dx",      "dw1",    "dw2",   "dgamma1",
                                    "dbeta1", "dgamma2", "dbeta2", "dfc_w", "dfc_b"};
    imbal_tensor *r = &ref.logits, *g = &got.logits, *a = &again.logits;
    for (int i = 0; i < 10; i++) {
        char what[64];
        snprintf(what, sizeof what, "residual block %s", names[i]);
        expect_close(ctx, what, &r[i], &g[i], 1e-3);
        expect_same_bits(ctx, what, &g[i], &a[i]);
    }
    free_all(r, 10);
    free_all(g, 10);
    free_all(a, 10);
    imbal_tensor ts[6] = {x, w1, w2, fw, fb, dl};
    free_all(ts, 6);
    imbal_ctx_destroy(ctx);
}
