/* The CUDA twin of imbal_loss against the CPU twin (the reference, itself checked against PyTorch
 * in test_loss.c): every kind x reduction x dtype (f32, f16, bf16) x shape class (C from 1 to
 * 32000), with and without class weights, sample weights, ignore_index, label smoothing, soft
 * targets, pos_weight, i32 targets and in-place dlogits; bit-identical results across runs;
 * misaligned rows and views; check_finite reporting of a NaN / +inf logit at (row, class) and of a
 * target out of range; NaN rows without check_finite; all rows ignored. Every test skips where no
 * CUDA device answers (scripts/gpu-check.sh makes sure they run on a GPU machine). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/half.h"
#include "imbal/imbal.h"
#include "imbal/loss.h"
#include "imbal/philox.h"
#include "test_util.h"

#define SEED UINT64_C(0x10554C055)

static void need_gpu(void) {
    if (!imbal_built_with_cuda())
        cr_skip_test("no CUDA device: this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0) cr_skip_test("no CUDA device answers on this machine");
}

enum {
    V_CW = 1,          /* class weights */
    V_SW = 2,          /* sample weights */
    V_IGNORE = 4,      /* some rows carry ignore_index */
    V_SMOOTH = 8,      /* label smoothing 0.1 (ce, balanced-softmax, ldam) */
    V_INPLACE = 16,    /* dlogits overwrite the logits */
    V_I32 = 32,        /* i32 targets */
    V_PERSAMPLE = 64,  /* also ask for per_sample with mean / sum */
    V_SOFT = 128,      /* soft sigmoid targets; bce pos_weight */
    V_COUNTNORM = 256, /* IMBAL_WEIGHT_NORM_COUNT */
    V_OFFSET = 512     /* logits are a view one element into their buffer (misaligned rows) */
};
#define V_ALL (V_CW | V_SW | V_IGNORE | V_SMOOTH | V_INPLACE | V_I32 | V_PERSAMPLE | V_SOFT)

typedef struct host_case {
    imbal_loss_params p;
    imbal_dtype dtype;
    int64_t n, c;
    int flags;
    int softmax;
    void *logits;  /* [n, c] dtype (+1 leading element with V_OFFSET) */
    void *targets; /* [n] i32/i64 or [n, c] dtype */
    float *cw, *sw, *counts, *pw;
} host_case;

static float dt_get(imbal_dtype dt, const void *buf, int64_t i) {
    if (dt == IMBAL_F32) return ((const float *)buf)[i];
    uint16_t h = ((const uint16_t *)buf)[i];
    return dt == IMBAL_F16 ? imbal_f16_to_f32(h) : imbal_bf16_to_f32(h);
}

static void dt_set(imbal_dtype dt, void *buf, int64_t i, float v) {
    if (dt == IMBAL_F32)
        ((float *)buf)[i] = v;
    else
        ((uint16_t *)buf)[i] = dt == IMBAL_F16 ? imbal_f32_to_f16(v) : imbal_f32_to_bf16(v);
}

static int is_softmax(imbal_loss_kind k) {
    return k == IMBAL_LOSS_CE || k == IMBAL_LOSS_FOCAL || k == IMBAL_LOSS_BALANCED_SOFTMAX ||
           k == IMBAL_LOSS_LDAM;
}

static void case_init(host_case *h, imbal_loss_kind kind, imbal_reduction red, imbal_dtype dt,
                      int64_t n, int64_t c, int flags, uint32_t salt) {
    memset(h, 0, sizeof *h);
    imbal_loss_params_default(&h->p, kind);
    h->p.reduction = red;
    h->p.grad_scale = 0.75f;
    h->dtype = dt;
    h->n = n;
    h->c = c;
    h->softmax = is_softmax(kind);
    if (!h->softmax) flags &= ~(V_IGNORE | V_SMOOTH | V_I32 | V_COUNTNORM);
    if (kind == IMBAL_LOSS_FOCAL) flags &= ~V_SMOOTH;
    h->flags = flags;
    if (flags & V_SMOOTH) h->p.label_smoothing = 0.1f;
    if (flags & V_COUNTNORM) h->p.weight_norm = IMBAL_WEIGHT_NORM_COUNT;
    if (kind == IMBAL_LOSS_FOCAL && (salt & 1)) h->p.gamma = 0.5f; /* gamma < 1 */
    if (kind == IMBAL_LOSS_SIGMOID_FOCAL && (salt & 1)) h->p.alpha = -1.0f;

    imbal_rng r;
    imbal_rng_init(&r, SEED, salt, (uint64_t)(n * 100003 + c), IMBAL_OP_TEST);
    size_t es = imbal_dtype_size(dt);
    int64_t off = (flags & V_OFFSET) ? 1 : 0;
    h->logits = malloc(es * (size_t)(n * c + off));
    cr_assert_not_null(h->logits);
    for (int64_t i = 0; i < n * c + off; ++i)
        dt_set(dt, h->logits, i, 2.5f * imbal_rng_normal(&r));
    if (h->softmax) {
        int i32 = (flags & V_I32) != 0;
        h->targets = malloc((i32 ? 4 : 8) * (size_t)(n ? n : 1));
        cr_assert_not_null(h->targets);
        for (int64_t i = 0; i < n; ++i) {
            int64_t y = (int64_t)imbal_rng_below(&r, (uint32_t)c);
            if ((flags & V_IGNORE) && i % 5 == 2) y = h->p.ignore_index;
            if (i32)
                ((int32_t *)h->targets)[i] = (int32_t)y;
            else
                ((int64_t *)h->targets)[i] = y;
        }
    } else {
        h->targets = malloc(es * (size_t)(n * c > 0 ? n * c : 1));
        cr_assert_not_null(h->targets);
        for (int64_t i = 0; i < n * c; ++i) {
            float t = (flags & V_SOFT) ? imbal_rng_uniform(&r)
                                       : (imbal_rng_uniform(&r) < 0.2f ? 1.0f : 0.0f);
            dt_set(dt, h->targets, i, t);
        }
    }
    if (flags & V_CW) {
        h->cw = malloc(sizeof(float) * (size_t)c);
        for (int64_t j = 0; j < c; ++j)
            h->cw[j] = 0.25f + 1.5f * imbal_rng_uniform(&r);
    }
    if (flags & V_SW) {
        h->sw = malloc(sizeof(float) * (size_t)(n ? n : 1));
        for (int64_t i = 0; i < n; ++i)
            h->sw[i] = 0.5f + imbal_rng_uniform(&r);
    }
    if (kind == IMBAL_LOSS_BALANCED_SOFTMAX || kind == IMBAL_LOSS_LDAM) {
        h->counts = malloc(sizeof(float) * (size_t)c);
        for (int64_t j = 0; j < c; ++j)
            h->counts[j] = (float)(1 + imbal_rng_below(&r, 2000));
    }
    if (kind == IMBAL_LOSS_BCE && (flags & V_SOFT)) {
        h->pw = malloc(sizeof(float) * (size_t)c);
        for (int64_t j = 0; j < c; ++j)
            h->pw[j] = 0.5f + 3.0f * imbal_rng_uniform(&r);
    }
}

static void case_free(host_case *h) {
    free(h->logits);
    free(h->targets);
    free(h->cw);
    free(h->sw);
    free(h->counts);
    free(h->pw);
}

/* The results of one run, on the host. */
typedef struct result {
    float loss;
    void *dlogits;     /* [n, c] dtype */
    float *per_sample; /* [n] or [n, c], or NULL */
    int64_t ps_len;
} result;

static void result_free(result *r) {
    free(r->dlogits);
    free(r->per_sample);
}

static int want_per_sample(const host_case *h) {
    return h->p.reduction == IMBAL_REDUCTION_NONE || (h->flags & V_PERSAMPLE);
}

static void run_cpu(imbal_ctx *ctx, const host_case *h, result *res) {
    imbal_device cpu = imbal_device_cpu();
    int64_t shape[2] = {h->n, h->c};
    size_t es = imbal_dtype_size(h->dtype);
    int64_t off = (h->flags & V_OFFSET) ? 1 : 0;
    imbal_tensor logits =
        imbal_tensor_wrap((char *)h->logits + off * (int64_t)es, h->dtype, 2, shape, cpu);
    imbal_tensor targets =
        h->softmax ? imbal_tensor_wrap(h->targets, (h->flags & V_I32) ? IMBAL_I32 : IMBAL_I64, 1,
                                       shape, cpu)
                   : imbal_tensor_wrap(h->targets, h->dtype, 2, shape, cpu);
    imbal_tensor cw = imbal_tensor_wrap(h->cw, IMBAL_F32, 1, &h->c, cpu);
    imbal_tensor sw = imbal_tensor_wrap(h->sw, IMBAL_F32, 1, &h->n, cpu);
    imbal_tensor counts = imbal_tensor_wrap(h->counts, IMBAL_F32, 1, &h->c, cpu);
    imbal_tensor pw = imbal_tensor_wrap(h->pw, IMBAL_F32, 1, &h->c, cpu);
    imbal_loss_inputs in = {&logits,
                            &targets,
                            h->cw ? &cw : NULL,
                            h->sw ? &sw : NULL,
                            h->counts ? &counts : NULL,
                            h->pw ? &pw : NULL};
    memset(res, 0, sizeof *res);
    res->dlogits = malloc(es * (size_t)(h->n * h->c > 0 ? h->n * h->c : 1));
    cr_assert_not_null(res->dlogits);
    imbal_tensor loss = imbal_tensor_wrap(&res->loss, IMBAL_F32, 0, NULL, cpu);
    imbal_tensor dl = imbal_tensor_wrap(res->dlogits, h->dtype, 2, shape, cpu);
    imbal_tensor ps;
    if (want_per_sample(h)) {
        res->ps_len = h->softmax ? h->n : h->n * h->c;
        res->per_sample = malloc(sizeof(float) * (size_t)(res->ps_len ? res->ps_len : 1));
        ps = imbal_tensor_wrap(res->per_sample, IMBAL_F32, h->softmax ? 1 : 2, shape, cpu);
    }
    imbal_loss_outputs out = {h->p.reduction == IMBAL_REDUCTION_NONE ? NULL : &loss,
                              want_per_sample(h) ? &ps : NULL, &dl};
    imbal_status st = imbal_loss(ctx, cpu, &h->p, &in, &out);
    cr_assert_eq(st, IMBAL_OK, "cpu %s: %s", imbal_loss_kind_name(h->p.kind), imbal_ctx_error(ctx));
}

static void upload(imbal_ctx *ctx, imbal_tensor *dev, const void *host, imbal_dtype dt, int ndim,
                   const int64_t *shape) {
    imbal_tensor src = imbal_tensor_wrap((void *)host, dt, ndim, shape, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_alloc(ctx, dev, dt, ndim, shape, imbal_device_cuda(0)), IMBAL_OK,
                 "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_copy(ctx, dev, &src), IMBAL_OK, "%s", imbal_ctx_error(ctx));
}

static void download(imbal_ctx *ctx, void *host, const imbal_tensor *dev) {
    imbal_tensor dst =
        imbal_tensor_wrap(host, dev->dtype, dev->ndim, dev->shape, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_copy(ctx, &dst, dev), IMBAL_OK, "%s", imbal_ctx_error(ctx));
}

/* Runs the case on cuda:0 and returns the status (results only when IMBAL_OK). */
static imbal_status run_gpu(imbal_ctx *ctx, const host_case *h, result *res) {
    int64_t shape[2] = {h->n, h->c};
    int64_t off = (h->flags & V_OFFSET) ? 1 : 0;
    int64_t flat = h->n * h->c + off;
    size_t es = imbal_dtype_size(h->dtype);
    imbal_tensor buf, targets, cw = {0}, sw = {0}, counts = {0}, pw = {0}, loss, dl = {0}, ps = {0};
    upload(ctx, &buf, h->logits, h->dtype, 1, &flat);
    imbal_tensor logits = imbal_tensor_wrap((char *)buf.data + off * (int64_t)es, h->dtype, 2,
                                            shape, imbal_device_cuda(0));
    if (h->softmax)
        upload(ctx, &targets, h->targets, (h->flags & V_I32) ? IMBAL_I32 : IMBAL_I64, 1, shape);
    else
        upload(ctx, &targets, h->targets, h->dtype, 2, shape);
    if (h->cw) upload(ctx, &cw, h->cw, IMBAL_F32, 1, &h->c);
    if (h->sw) upload(ctx, &sw, h->sw, IMBAL_F32, 1, &h->n);
    if (h->counts) upload(ctx, &counts, h->counts, IMBAL_F32, 1, &h->c);
    if (h->pw) upload(ctx, &pw, h->pw, IMBAL_F32, 1, &h->c);
    cr_assert_eq(imbal_tensor_alloc(ctx, &loss, IMBAL_F32, 0, NULL, imbal_device_cuda(0)),
                 IMBAL_OK);
    imbal_tensor *dlp = &logits;
    if (!(h->flags & V_INPLACE)) {
        cr_assert_eq(imbal_tensor_alloc(ctx, &dl, h->dtype, 2, shape, imbal_device_cuda(0)),
                     IMBAL_OK, "%s", imbal_ctx_error(ctx));
        dlp = &dl;
    }
    int64_t ps_len = h->softmax ? h->n : h->n * h->c;
    if (want_per_sample(h))
        cr_assert_eq(imbal_tensor_alloc(ctx, &ps, IMBAL_F32, h->softmax ? 1 : 2, shape,
                                        imbal_device_cuda(0)),
                     IMBAL_OK);
    imbal_loss_inputs in = {&logits,
                            &targets,
                            h->cw ? &cw : NULL,
                            h->sw ? &sw : NULL,
                            h->counts ? &counts : NULL,
                            h->pw ? &pw : NULL};
    imbal_loss_outputs out = {h->p.reduction == IMBAL_REDUCTION_NONE ? NULL : &loss,
                              want_per_sample(h) ? &ps : NULL, dlp};
    imbal_status st = imbal_loss(ctx, imbal_device_cuda(0), &h->p, &in, &out);
    if (st == IMBAL_OK) {
        memset(res, 0, sizeof *res);
        res->dlogits = malloc(es * (size_t)(h->n * h->c > 0 ? h->n * h->c : 1));
        cr_assert_not_null(res->dlogits);
        download(ctx, res->dlogits, dlp);
        if (h->p.reduction != IMBAL_REDUCTION_NONE) download(ctx, &res->loss, &loss);
        if (want_per_sample(h)) {
            res->ps_len = ps_len;
            res->per_sample = malloc(sizeof(float) * (size_t)(ps_len ? ps_len : 1));
            download(ctx, res->per_sample, &ps);
        }
    }
    imbal_tensor_free(&buf);
    imbal_tensor_free(&targets);
    imbal_tensor_free(&cw);
    imbal_tensor_free(&sw);
    imbal_tensor_free(&counts);
    imbal_tensor_free(&pw);
    imbal_tensor_free(&loss);
    imbal_tensor_free(&dl);
    imbal_tensor_free(&ps);
    return st;
}

static int close_to(float got, float want, float rtol, float atol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    return fabsf(got - want) <= rtol * fabsf(want) + atol;
}

/* f32: 2e-5 relative; f16/bf16 outputs: about one unit in the last place of the dtype, since
 * both twins compute in f32 and may round to either neighbour. */
static float grad_rtol(imbal_dtype dt) {
    return dt == IMBAL_F32 ? 2e-5f : (dt == IMBAL_F16 ? 2e-3f : 1.6e-2f);
}

static void describe(const host_case *h, char *buf, size_t len) {
    snprintf(buf, len, "%s %s %s n=%lld c=%lld flags=0x%x gamma=%g alpha=%g",
             imbal_loss_kind_name(h->p.kind), imbal_reduction_name(h->p.reduction),
             imbal_dtype_name(h->dtype), (long long)h->n, (long long)h->c, h->flags,
             (double)h->p.gamma, (double)h->p.alpha);
}

static void compare(const host_case *h, const result *gpu, const result *cpu) {
    char what[256];
    describe(h, what, sizeof what);
    if (h->p.reduction != IMBAL_REDUCTION_NONE)
        cr_assert(close_to(gpu->loss, cpu->loss, 3e-5f, 1e-6f), "%s: loss gpu %.9g cpu %.9g", what,
                  (double)gpu->loss, (double)cpu->loss);
    for (int64_t i = 0; i < cpu->ps_len; ++i)
        cr_assert(close_to(gpu->per_sample[i], cpu->per_sample[i], 3e-5f, 1e-6f),
                  "%s: per_sample[%lld] gpu %.9g cpu %.9g", what, (long long)i,
                  (double)gpu->per_sample[i], (double)cpu->per_sample[i]);
    int64_t cnt = h->n * h->c;
    float maxabs = 0.0f;
    for (int64_t i = 0; i < cnt; ++i) {
        float v = fabsf(dt_get(h->dtype, cpu->dlogits, i));
        if (isfinite(v) && v > maxabs) maxabs = v;
    }
    /* The absolute floor covers p_y - 1 for a confident row: both twins round p_y to within an
     * ulp of 1 (6e-8), so the difference is about 1e-7 of the row's gradient scale. That scale is
     * at least what one row can contribute, |p - y| <= 1 times the logit scale (s for ldam) over
     * n for the mean (n * C for the elementwise sigmoid kinds): with C = 1 every true gradient is 0
     * and the twins' rounding noise (1e-9) is all there is (seen on the first H100 run). f16
     * outputs below 6.1e-5 are subnormal, spaced 2^-24 apart, so one unit there is absolute. */
    float rtol = grad_rtol(h->dtype);
    int64_t terms = h->softmax ? h->n : h->n * h->c;
    float row_scale = (h->p.kind == IMBAL_LOSS_LDAM ? h->p.ldam_scale : 1.0f) *
                      fabsf(h->p.grad_scale) /
                      (h->p.reduction == IMBAL_REDUCTION_MEAN && terms > 0 ? (float)terms : 1.0f);
    float scale = maxabs > row_scale ? maxabs : row_scale;
    float atol = (h->dtype == IMBAL_F32 ? 1e-6f : rtol * 1e-3f) * scale + 1e-30f;
    if (h->dtype == IMBAL_F16) atol += 0x1p-24f;
    for (int64_t i = 0; i < cnt; ++i) {
        float g = dt_get(h->dtype, gpu->dlogits, i), c = dt_get(h->dtype, cpu->dlogits, i);
        cr_assert(close_to(g, c, rtol, atol), "%s: dlogits[%lld, %lld] gpu %.9g cpu %.9g", what,
                  (long long)(i / h->c), (long long)(i % h->c), (double)g, (double)c);
    }
}

static void check_case(imbal_ctx *ctx, imbal_loss_kind kind, imbal_reduction red, imbal_dtype dt,
                       int64_t n, int64_t c, int flags, uint32_t salt) {
    host_case h;
    case_init(&h, kind, red, dt, n, c, flags, salt);
    result cpu, gpu;
    run_cpu(ctx, &h, &cpu);
    imbal_status st = run_gpu(ctx, &h, &gpu);
    cr_assert_eq(st, IMBAL_OK, "gpu: %s", imbal_ctx_error(ctx));
    compare(&h, &gpu, &cpu);
    if (!(h.flags & V_INPLACE)) { /* determinism: a second run gives the same bits */
        result again;
        cr_assert_eq(run_gpu(ctx, &h, &again), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        size_t bytes = imbal_dtype_size(dt) * (size_t)(n * c);
        cr_assert(memcmp(again.dlogits, gpu.dlogits, bytes) == 0, "dlogits differ across runs");
        cr_assert(memcmp(&again.loss, &gpu.loss, sizeof gpu.loss) == 0,
                  "loss differs across runs: %.9g vs %.9g", (double)again.loss, (double)gpu.loss);
        if (gpu.per_sample)
            cr_assert(
                memcmp(again.per_sample, gpu.per_sample, sizeof(float) * (size_t)gpu.ps_len) == 0,
                "per_sample differs across runs");
        result_free(&again);
    }
    result_free(&cpu);
    result_free(&gpu);
    case_free(&h);
}

/* The shape classes: one value per lane (C <= 4, several rows per warp) up to block-per-row with
 * a misaligned row start (8142) and a large vocabulary (32000). */
static const int64_t kClasses[] = {1, 2, 10, 100, 1000, 8142, 32000};
static const imbal_dtype kDtypes[] = {IMBAL_F32, IMBAL_F16, IMBAL_BF16};

static void sweep(imbal_loss_kind kind) {
    imbal_ctx *ctx = tu_ctx();
    uint32_t salt = 0;
    for (int r = 0; r < 3; ++r)
        for (size_t d = 0; d < 3; ++d)
            for (size_t s = 0; s < sizeof kClasses / sizeof kClasses[0]; ++s) {
                int64_t c = kClasses[s], n = c >= 8000 ? 3 : 64;
                check_case(ctx, kind, (imbal_reduction)r, kDtypes[d], n, c, 0, salt++);
                check_case(ctx, kind, (imbal_reduction)r, kDtypes[d], n, c, V_ALL, salt++);
                check_case(ctx, kind, (imbal_reduction)r, kDtypes[d], n, c,
                           V_CW | V_IGNORE | V_COUNTNORM | V_PERSAMPLE, salt++);
            }
    imbal_ctx_destroy(ctx);
}

Test(loss_gpu, ce_matches_cpu) {
    need_gpu();
    sweep(IMBAL_LOSS_CE);
}
Test(loss_gpu, focal_matches_cpu) {
    need_gpu();
    sweep(IMBAL_LOSS_FOCAL);
}
Test(loss_gpu, balanced_softmax_matches_cpu) {
    need_gpu();
    sweep(IMBAL_LOSS_BALANCED_SOFTMAX);
}
Test(loss_gpu, ldam_matches_cpu) {
    need_gpu();
    sweep(IMBAL_LOSS_LDAM);
}
Test(loss_gpu, sigmoid_focal_matches_cpu) {
    need_gpu();
    sweep(IMBAL_LOSS_SIGMOID_FOCAL);
}
Test(loss_gpu, bce_matches_cpu) {
    need_gpu();
    sweep(IMBAL_LOSS_BCE);
}

/* Many blocks (the last-block reduction over several partials), every small-C group shape, the
 * block path just above the threshold, and rows that start misaligned. */
Test(loss_gpu, many_rows_and_group_shapes) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    /* Every group shape of the register kernel (C = 3 ... 4097), the shared-memory kernel (8193,
     * 70001 in bf16) and the two-pass kernel for rows larger than shared memory (70001 in f32:
     * 280 KB). */
    static const int64_t cs[] = {3, 5, 9, 17, 33, 65, 129, 257, 513, 1025, 2001, 4097, 8193, 70001};
    const imbal_loss_kind kinds[] = {IMBAL_LOSS_CE, IMBAL_LOSS_FOCAL, IMBAL_LOSS_BCE};
    uint32_t salt = 1000;
    for (size_t k = 0; k < 3; ++k)
        for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i) {
            int64_t n = cs[i] > 10000 ? 40 : (cs[i] > 1000 ? 300 : 3001);
            check_case(ctx, kinds[k], IMBAL_REDUCTION_MEAN, IMBAL_F32, n, cs[i],
                       V_CW | V_SW | V_SMOOTH, salt++);
            check_case(ctx, kinds[k], IMBAL_REDUCTION_SUM, IMBAL_BF16, n, cs[i],
                       V_IGNORE | V_INPLACE, salt++);
        }
    imbal_ctx_destroy(ctx);
}

/* Logits one element into their buffer: scalar heads and tails on the block path, the scalar
 * kernel for the sigmoid kinds, and unaligned dlogits relative to the logits. */
Test(loss_gpu, misaligned_views) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    const imbal_loss_kind kinds[] = {IMBAL_LOSS_CE, IMBAL_LOSS_LDAM, IMBAL_LOSS_SIGMOID_FOCAL};
    uint32_t salt = 2000;
    for (size_t k = 0; k < 3; ++k)
        for (size_t d = 0; d < 3; ++d) {
            check_case(ctx, kinds[k], IMBAL_REDUCTION_MEAN, kDtypes[d], 7, 2048, V_OFFSET, salt++);
            check_case(ctx, kinds[k], IMBAL_REDUCTION_SUM, kDtypes[d], 33, 100,
                       V_OFFSET | V_INPLACE | V_SW, salt++);
        }
    imbal_ctx_destroy(ctx);
}

static void set_logit(host_case *h, int64_t row, int64_t col, float v) {
    dt_set(h->dtype, h->logits, row * h->c + col, v);
}

Test(loss_gpu, check_finite_names_first_bad_logit) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    const imbal_loss_kind kinds[] = {IMBAL_LOSS_CE, IMBAL_LOSS_FOCAL, IMBAL_LOSS_BCE};
    const int64_t cs[] = {10, 3000};
    for (size_t k = 0; k < 3; ++k)
        for (size_t d = 0; d < 3; ++d)
            for (size_t s = 0; s < 2; ++s) {
                host_case h;
                case_init(&h, kinds[k], IMBAL_REDUCTION_MEAN, kDtypes[d], 16, cs[s],
                          s ? V_INPLACE : 0, 7);
                h.p.check_finite = 1;
                set_logit(&h, 9, 4, INFINITY);
                set_logit(&h, 5, 7, NAN);
                set_logit(&h, 2, 1, -INFINITY); /* allowed: a masked class */
                result res;
                imbal_status st = run_gpu(ctx, &h, &res);
                cr_assert_eq(st, IMBAL_ERR_DATA, "%s", imbal_ctx_error(ctx));
                cr_assert(strstr(imbal_ctx_error(ctx), "row 5") &&
                              strstr(imbal_ctx_error(ctx), "class 7") &&
                              strstr(imbal_ctx_error(ctx), "NaN"),
                          "%s", imbal_ctx_error(ctx));
                set_logit(&h, 5, 7, 0.0f);
                st = run_gpu(ctx, &h, &res);
                cr_assert_eq(st, IMBAL_ERR_DATA, "%s", imbal_ctx_error(ctx));
                cr_assert(strstr(imbal_ctx_error(ctx), "row 9") &&
                              strstr(imbal_ctx_error(ctx), "class 4") &&
                              strstr(imbal_ctx_error(ctx), "+inf"),
                          "%s", imbal_ctx_error(ctx));
                set_logit(&h, 9, 4, 0.0f);
                st = run_gpu(ctx, &h, &res);
                cr_assert_eq(st, IMBAL_OK, "-inf must stay allowed: %s", imbal_ctx_error(ctx));
                result_free(&res);
                case_free(&h);
            }
    imbal_ctx_destroy(ctx);
}

static void set_target(host_case *h, int64_t row, int64_t y) {
    if (h->flags & V_I32)
        ((int32_t *)h->targets)[row] = (int32_t)y;
    else
        ((int64_t *)h->targets)[row] = y;
}

Test(loss_gpu, target_out_of_range) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    const int64_t cs[] = {10, 3000};
    for (size_t s = 0; s < 2; ++s)
        for (int i32 = 0; i32 < 2; ++i32) {
            host_case h;
            case_init(&h, IMBAL_LOSS_CE, IMBAL_REDUCTION_SUM, IMBAL_F32, 8, cs[s],
                      V_PERSAMPLE | (i32 ? V_I32 : 0), 11);
            set_target(&h, 6, -3);
            set_target(&h, 3, cs[s] + 2);
            h.p.check_finite = 1;
            result res;
            cr_assert_eq(run_gpu(ctx, &h, &res), IMBAL_ERR_DATA);
            char want[64];
            snprintf(want, sizeof want, "class %lld", (long long)(cs[s] + 2));
            cr_assert(strstr(imbal_ctx_error(ctx), "row 3") && strstr(imbal_ctx_error(ctx), want),
                      "%s", imbal_ctx_error(ctx));
            /* Without check_finite the host never waits: those rows are NaN, the others not. */
            h.p.check_finite = 0;
            cr_assert_eq(run_gpu(ctx, &h, &res), IMBAL_OK, "%s", imbal_ctx_error(ctx));
            cr_assert(isnan(res.loss));
            for (int64_t r = 0; r < h.n; ++r) {
                int bad = r == 3 || r == 6;
                cr_assert_eq(isnan(res.per_sample[r]) != 0, bad, "row %lld", (long long)r);
                for (int64_t j = 0; j < h.c; ++j)
                    cr_assert_eq(isnan(((float *)res.dlogits)[r * h.c + j]) != 0, bad,
                                 "row %lld class %lld", (long long)r, (long long)j);
            }
            result_free(&res);
            case_free(&h);
        }
    imbal_ctx_destroy(ctx);
}

/* Every row ignored: mean is NaN (0/0, as PyTorch), sum is 0, the gradient is 0. */
Test(loss_gpu, all_rows_ignored) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    for (int r = 0; r < 2; ++r) {
        host_case h;
        case_init(&h, IMBAL_LOSS_CE, (imbal_reduction)r, IMBAL_F32, 40, 50, V_CW, 13);
        for (int64_t i = 0; i < h.n; ++i)
            set_target(&h, i, h.p.ignore_index);
        result gpu, cpu;
        run_cpu(ctx, &h, &cpu);
        cr_assert_eq(run_gpu(ctx, &h, &gpu), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        if (r == IMBAL_REDUCTION_MEAN)
            cr_assert(isnan(gpu.loss) && isnan(cpu.loss));
        else
            cr_assert(gpu.loss == 0.0f && cpu.loss == 0.0f);
        for (int64_t i = 0; i < h.n * h.c; ++i)
            cr_assert_eq(((float *)gpu.dlogits)[i], 0.0f);
        result_free(&gpu);
        result_free(&cpu);
        case_free(&h);
    }
    imbal_ctx_destroy(ctx);
}

/* focal with gamma = 0 is ce exactly, on the GPU too. */
Test(loss_gpu, focal_gamma0_is_ce) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    host_case h;
    case_init(&h, IMBAL_LOSS_FOCAL, IMBAL_REDUCTION_MEAN, IMBAL_F32, 64, 1000, V_CW | V_IGNORE, 2);
    h.p.gamma = 0.0f;
    result f, c;
    cr_assert_eq(run_gpu(ctx, &h, &f), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    h.p.kind = IMBAL_LOSS_CE;
    cr_assert_eq(run_gpu(ctx, &h, &c), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert(close_to(f.loss, c.loss, 1e-6f, 0.0f), "%.9g vs %.9g", (double)f.loss,
              (double)c.loss);
    for (int64_t i = 0; i < h.n * h.c; ++i)
        cr_assert(close_to(((float *)f.dlogits)[i], ((float *)c.dlogits)[i], 1e-6f, 1e-12f));
    result_free(&f);
    result_free(&c);
    case_free(&h);
    imbal_ctx_destroy(ctx);
}

/* check_finite also names a NaN / +inf float target of the sigmoid kinds (loss.h), after the
 * logits, as the CPU twin. */
Test(loss_gpu, check_finite_names_bad_sigmoid_target) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    for (size_t d = 0; d < 3; ++d) {
        host_case h;
        case_init(&h, IMBAL_LOSS_BCE, IMBAL_REDUCTION_MEAN, kDtypes[d], 16, 37, V_SOFT, 19);
        h.p.check_finite = 1;
        dt_set(h.dtype, h.targets, 6 * h.c + 30, INFINITY);
        dt_set(h.dtype, h.targets, 11 * h.c + 2, NAN);
        result res;
        cr_assert_eq(run_gpu(ctx, &h, &res), IMBAL_ERR_DATA, "%s", imbal_ctx_error(ctx));
        cr_assert(
            strstr(imbal_ctx_error(ctx), "targets") && strstr(imbal_ctx_error(ctx), "row 6") &&
                strstr(imbal_ctx_error(ctx), "class 30") && strstr(imbal_ctx_error(ctx), "+inf"),
            "%s", imbal_ctx_error(ctx));
        set_logit(&h, 12, 0, NAN); /* a bad logit is named first */
        cr_assert_eq(run_gpu(ctx, &h, &res), IMBAL_ERR_DATA, "%s", imbal_ctx_error(ctx));
        cr_assert(strstr(imbal_ctx_error(ctx), "logits") && strstr(imbal_ctx_error(ctx), "row 12"),
                  "%s", imbal_ctx_error(ctx));
        case_free(&h);
    }
    imbal_ctx_destroy(ctx);
}

/* Block-per-row: a NaN logit whose thread saw nothing but -inf besides still makes the row NaN
 * (the (m, S) merge must not treat that thread as empty), as on the CPU. */
Test(loss_gpu, nan_among_masked_logits_poisons_the_row) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    host_case h;
    case_init(&h, IMBAL_LOSS_CE, IMBAL_REDUCTION_SUM, IMBAL_F32, 4, 3000, V_PERSAMPLE, 23);
    for (int64_t j = 0; j < h.c; ++j)
        set_logit(&h, 1, j, -INFINITY);
    set_logit(&h, 1, 0, 1.0f);
    set_logit(&h, 1, 2999, NAN);
    set_target(&h, 1, 0);
    result res;
    cr_assert_eq(run_gpu(ctx, &h, &res), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert(isnan(res.per_sample[1]) && isnan(res.loss), "row 1 loss %g", res.per_sample[1]);
    for (int64_t r = 0; r < h.n; ++r)
        if (r != 1) cr_assert(isfinite(res.per_sample[r]), "row %lld", (long long)r);
    result_free(&res);
    case_free(&h);
    imbal_ctx_destroy(ctx);
}

/* balanced-softmax: an empty class gets offset -inf for every tau (0 and negative included). */
Test(loss_gpu, balanced_softmax_empty_class_any_tau) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    const float taus[] = {1.0f, 0.0f, -0.5f};
    for (size_t t = 0; t < 3; ++t) {
        host_case h;
        case_init(&h, IMBAL_LOSS_BALANCED_SOFTMAX, IMBAL_REDUCTION_MEAN, IMBAL_F32, 32, 10,
                  V_PERSAMPLE, 29);
        h.p.tau = taus[t];
        h.counts[3] = 0.0f;
        for (int64_t i = 0; i < h.n; ++i)
            if (((int64_t *)h.targets)[i] == 3) set_target(&h, i, 4);
        result cpu, gpu;
        run_cpu(ctx, &h, &cpu);
        cr_assert_eq(run_gpu(ctx, &h, &gpu), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        cr_assert(isfinite(gpu.loss), "tau %g: loss %g", (double)taus[t], (double)gpu.loss);
        compare(&h, &gpu, &cpu);
        result_free(&cpu);
        result_free(&gpu);
        case_free(&h);
    }
    imbal_ctx_destroy(ctx);
}
