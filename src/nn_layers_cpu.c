/* imbal: the CPU twins of batch norm, relu, add, global average pooling and the linear layer
 * (definitions in docs/nn.md). Every per-channel or per-column sum is taken in double precision
 * in an order fixed by the shapes (batch norm: per plane, the planes added in image order; the
 * others: by one thread), so results do not depend on the thread count. The batch-norm
 * plane sums are `omp simd` reductions: the lanes' partial sums are combined in an order fixed by
 * the compiled vector width, never by the thread count. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nn_cpu.h"

#define OMP_THREADS imbal_ctx_omp_threads(ctx)

/* v where y > 0, else +0: a select written with bit masks so that it vectorises without branches
 * (a conditional load or store keeps the compiler scalar). */
static inline float relu_pass(float y, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= (uint32_t) - (int32_t)(y > 0.0f);
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ---- batch norm (Ioffe & Szegedy 2015) ----------------------------------------------------- */

/* The statistics passes walk the tensor in memory order, one (image, channel) plane at a time
 * (each an `omp simd` reduction in double), and keep every plane's sums; each channel's total
 * then adds its planes in image order, so the result never depends on the thread count. Walking
 * one channel's planes across the batch instead (a 4 KiB plane every C*H*W floats) kept the
 * hardware prefetchers, which stop at page boundaries, from running ahead. */
typedef struct bn_sums {
    int64_t planes, c; /* n * c planes */
    double *part;      /* [2][n][c]: two sums per plane, then 2c doubles' room for per */
    float *per;        /* [3][c]: the per-channel transform the last pass applies */
} bn_sums;

static imbal_status bn_sums_alloc(imbal_ctx *ctx, int64_t n, int64_t c, bn_sums *b) {
    b->planes = n * c;
    b->c = c;
    b->part = imbal_xmalloc(ctx, (size_t)(2 * b->planes + 2 * c), sizeof *b->part,
                            "batch-norm partial sums");
    b->per = b->part ? (float *)(b->part + 2 * b->planes) : NULL;
    return b->part ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
}

/* The totals of channel ch, its planes' sums added in image order. */
static void bn_sums_total(const bn_sums *b, int64_t ch, double *s0, double *s1) {
    double a = 0.0, q = 0.0;
    for (int64_t pl = ch; pl < b->planes; pl += b->c) {
        a += b->part[pl];
        q += b->part[b->planes + pl];
    }
    *s0 = a, *s1 = q;
}

/* The shifted sums of x - K and (x - K)^2 per channel, K the channel's first value: one pass, and
 * with the shift the variance S1/M - (S0/M)^2 loses nothing to cancellation in double (the
 * "shifted data" algorithm; Chan, Golub and LeVeque 1983). */
static void bn_stats_sums(imbal_ctx *ctx, const float *xd, int64_t c, int64_t hw, bn_sums *b) {
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t pl = 0; pl < b->planes; ++pl) {
        const float *p = xd + pl * hw;
        const double shift = xd[pl % c * hw];
        double a = 0.0, q = 0.0;
#pragma omp simd reduction(+ : a, q)
        for (int64_t j = 0; j < hw; ++j) {
            const double d = p[j] - shift;
            a += d;
            q += d * d;
        }
        b->part[pl] = a;
        b->part[b->planes + pl] = q;
    }
}

static imbal_status bn_forward_train(imbal_ctx *ctx, const imbal_tensor *x,
                                     const imbal_tensor *gamma, const imbal_tensor *beta,
                                     imbal_tensor *running_mean, imbal_tensor *running_var,
                                     float momentum, float eps, imbal_tensor *y,
                                     imbal_tensor *save_mean, imbal_tensor *save_invstd, int relu) {
    const int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    const double m = (double)(n * hw);
    const float *xd = x->data, *g = gamma->data, *b = beta->data;
    float *yd = y->data, *rm = running_mean->data, *rv = running_var->data;
    float *sm = save_mean->data, *si = save_invstd->data;
    bn_sums sums;
    if (bn_sums_alloc(ctx, n, c, &sums) != IMBAL_OK) return IMBAL_ERR_OUT_OF_MEMORY;
    bn_stats_sums(ctx, xd, c, hw, &sums);
    float *scale = sums.per, *meanf = scale + c, *shift = meanf + c;
    for (int64_t ch = 0; ch < c; ++ch) {
        double a, q;
        bn_sums_total(&sums, ch, &a, &q);
        const double ms = a / m, var = fmax(q / m - ms * ms, 0.0), mean = xd[ch * hw] + ms;
        const double invstd = 1.0 / sqrt(var + (double)eps);
        sm[ch] = (float)mean;
        si[ch] = (float)invstd;
        rm[ch] = (float)((1.0 - momentum) * rm[ch] + momentum * mean);
        rv[ch] = (float)((1.0 - momentum) * rv[ch] + momentum * var * m / (m - 1.0));
        scale[ch] = (float)(g[ch] * invstd), meanf[ch] = (float)mean, shift[ch] = b[ch];
    }
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t plane = 0; plane < n * c; ++plane) {
        const int64_t ch = plane % c;
        const float sc = scale[ch], mu = meanf[ch], sh = shift[ch];
        const float *p = xd + plane * hw;
        float *q = yd + plane * hw;
        if (relu) {
#pragma omp simd
            for (int64_t j = 0; j < hw; ++j) {
                float v = (p[j] - mu) * sc + sh;
                q[j] = v > 0.0f ? v : 0.0f;
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < hw; ++j)
                q[j] = (p[j] - mu) * sc + sh;
        }
    }
    free(sums.part);
    return IMBAL_OK;
}

imbal_status imbal_nn_cpu_bn_forward_train(imbal_ctx *ctx, const imbal_tensor *x,
                                           const imbal_tensor *gamma, const imbal_tensor *beta,
                                           imbal_tensor *running_mean, imbal_tensor *running_var,
                                           float momentum, float eps, imbal_tensor *y,
                                           imbal_tensor *save_mean, imbal_tensor *save_invstd) {
    return bn_forward_train(ctx, x, gamma, beta, running_mean, running_var, momentum, eps, y,
                            save_mean, save_invstd, 0);
}

imbal_status imbal_nn_cpu_bn_relu_forward_train(imbal_ctx *ctx, const imbal_tensor *x,
                                                const imbal_tensor *gamma, const imbal_tensor *beta,
                                                imbal_tensor *running_mean,
                                                imbal_tensor *running_var, float momentum,
                                                float eps, imbal_tensor *y, imbal_tensor *save_mean,
                                                imbal_tensor *save_invstd) {
    return bn_forward_train(ctx, x, gamma, beta, running_mean, running_var, momentum, eps, y,
                            save_mean, save_invstd, 1);
}

void imbal_nn_cpu_bn_forward_eval(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *gamma,
                                  const imbal_tensor *beta, const imbal_tensor *running_mean,
                                  const imbal_tensor *running_var, float eps, imbal_tensor *y) {
    const int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    const float *xd = x->data, *g = gamma->data, *b = beta->data;
    const float *rm = running_mean->data, *rv = running_var->data;
    float *yd = y->data;
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t plane = 0; plane < n * c; ++plane) {
        const int64_t ch = plane % c;
        const float scale = (float)(g[ch] / sqrt((double)rv[ch] + (double)eps));
        const float mean = rm[ch], shift = b[ch];
        const float *p = xd + plane * hw;
        float *q = yd + plane * hw;
#pragma omp simd
        for (int64_t j = 0; j < hw; ++j)
            q[j] = (p[j] - mean) * scale + shift;
    }
}

/* mask, when not NULL, is the ReLU output after this BN: dy counts only where mask > 0. */
static imbal_status bn_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *mask,
                                const imbal_tensor *dy, const imbal_tensor *gamma,
                                const imbal_tensor *save_mean, const imbal_tensor *save_invstd,
                                imbal_tensor *dx, imbal_tensor *dgamma, imbal_tensor *dbeta) {
    const float *md = mask ? mask->data : NULL;
    const int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    const double m = (double)(n * hw);
    const float *xd = x->data, *dyd = dy->data, *g = gamma->data;
    const float *sm = save_mean->data, *si = save_invstd->data;
    float *dxd = dx ? dx->data : NULL, *dg = dgamma->data, *db = dbeta->data;
    bn_sums sums;
    if (bn_sums_alloc(ctx, n, c, &sums) != IMBAL_OK) return IMBAL_ERR_OUT_OF_MEMORY;
        /* sum dy and sum dy (x - mean) per plane, as the forward's statistics */
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t pl = 0; pl < sums.planes; ++pl) {
        const float *p = xd + pl * hw, *d = dyd + pl * hw;
        const double mean = sm[pl % c];
        double sdy = 0.0, sdyx = 0.0;
        if (md) {
            const float *y = md + pl * hw;
#pragma omp simd reduction(+ : sdy, sdyx)
            for (int64_t j = 0; j < hw; ++j) {
                const float dj = relu_pass(y[j], d[j]);
                sdy += dj;
                sdyx += dj * (p[j] - mean);
            }
        } else {
#pragma omp simd reduction(+ : sdy, sdyx)
            for (int64_t j = 0; j < hw; ++j) {
                sdy += d[j];
                sdyx += d[j] * (p[j] - mean);
            }
        }
        sums.part[pl] = sdy;
        sums.part[sums.planes + pl] = sdyx;
    }
    /* dx = gamma invstd / M (M dy - dbeta - xhat dgamma) = a dy + b x + k per channel */
    float *af = sums.per, *bf = af + c, *kf = bf + c;
    for (int64_t ch = 0; ch < c; ++ch) {
        double sdy, sdyx;
        bn_sums_total(&sums, ch, &sdy, &sdyx);
        const double mean = sm[ch], invstd = si[ch];
        const double dgamma_c = sdyx * invstd;
        dg[ch] = (float)dgamma_c;
        db[ch] = (float)sdy;
        const double a = g[ch] * invstd, bx = -a * invstd * dgamma_c / m;
        const double k0 = -a * sdy / m - bx * mean;
        af[ch] = (float)a, bf[ch] = (float)bx, kf[ch] = (float)k0;
    }
    if (dxd) {
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
        for (int64_t plane = 0; plane < n * c; ++plane) {
            const int64_t ch = plane % c;
            const float a = af[ch], b = bf[ch], k = kf[ch];
            const float *p = xd + plane * hw, *d = dyd + plane * hw;
            float *q = dxd + plane * hw;
            if (md) {
                const float *y = md + plane * hw;
#pragma omp simd
                for (int64_t j = 0; j < hw; ++j)
                    q[j] = a * relu_pass(y[j], d[j]) + b * p[j] + k;
            } else {
#pragma omp simd
                for (int64_t j = 0; j < hw; ++j)
                    q[j] = a * d[j] + b * p[j] + k;
            }
        }
    }
    free(sums.part);
    return IMBAL_OK;
}

imbal_status imbal_nn_cpu_bn_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *dy,
                                      const imbal_tensor *gamma, const imbal_tensor *save_mean,
                                      const imbal_tensor *save_invstd, imbal_tensor *dx,
                                      imbal_tensor *dgamma, imbal_tensor *dbeta) {
    return bn_backward(ctx, x, NULL, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
}

imbal_status imbal_nn_cpu_bn_relu_backward(imbal_ctx *ctx, const imbal_tensor *x,
                                           const imbal_tensor *y, const imbal_tensor *dy,
                                           const imbal_tensor *gamma, const imbal_tensor *save_mean,
                                           const imbal_tensor *save_invstd, imbal_tensor *dx,
                                           imbal_tensor *dgamma, imbal_tensor *dbeta) {
    return bn_backward(ctx, x, y, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
}

/* ---- element-wise -------------------------------------------------------------------------- */

void imbal_nn_cpu_relu_forward(imbal_ctx *ctx, const imbal_tensor *x, imbal_tensor *y) {
    const int64_t n = imbal_tensor_numel(x);
    const float *xd = x->data;
    float *yd = y->data;
#pragma omp parallel for simd schedule(static) num_threads(OMP_THREADS)
    for (int64_t i = 0; i < n; ++i)
        yd[i] = xd[i] > 0.0f ? xd[i] : 0.0f;
}

void imbal_nn_cpu_relu_backward(imbal_ctx *ctx, const imbal_tensor *y, const imbal_tensor *dy,
                                imbal_tensor *dx) {
    const int64_t n = imbal_tensor_numel(y);
    const float *yd = y->data, *dyd = dy->data;
    float *dxd = dx->data;
#pragma omp parallel for simd schedule(static) num_threads(OMP_THREADS)
    for (int64_t i = 0; i < n; ++i) {
        dxd[i] = relu_pass(yd[i], dyd[i]);
    }
}

void imbal_nn_cpu_add(imbal_ctx *ctx, const imbal_tensor *a, const imbal_tensor *b,
                      imbal_tensor *y) {
    const int64_t n = imbal_tensor_numel(a);
    const float *ad = a->data, *bd = b->data;
    float *yd = y->data;
#pragma omp parallel for simd schedule(static) num_threads(OMP_THREADS)
    for (int64_t i = 0; i < n; ++i)
        yd[i] = ad[i] + bd[i];
}

void imbal_nn_cpu_add_relu_forward(imbal_ctx *ctx, const imbal_tensor *a, const imbal_tensor *b,
                                   imbal_tensor *y) {
    const int64_t n = imbal_tensor_numel(a);
    const float *ad = a->data, *bd = b->data;
    float *yd = y->data;
#pragma omp parallel for simd schedule(static) num_threads(OMP_THREADS)
    for (int64_t i = 0; i < n; ++i) {
        const float v = ad[i] + bd[i];
        yd[i] = v > 0.0f ? v : 0.0f;
    }
}

void imbal_nn_cpu_add_relu_backward(imbal_ctx *ctx, const imbal_tensor *y, const imbal_tensor *a,
                                    const imbal_tensor *b, imbal_tensor *dx) {
    const int64_t n = imbal_tensor_numel(y);
    const float *yd = y->data, *ad = a->data, *bd = b->data;
    float *dxd = dx->data;
#pragma omp parallel for simd schedule(static) num_threads(OMP_THREADS)
    for (int64_t i = 0; i < n; ++i) {
        dxd[i] = relu_pass(yd[i], ad[i] + bd[i]);
    }
}

/* ---- pooling and the head ------------------------------------------------------------------ */

void imbal_nn_cpu_avgpool_forward(imbal_ctx *ctx, const imbal_tensor *x, imbal_tensor *y) {
    const int64_t planes = x->shape[0] * x->shape[1], hw = x->shape[2] * x->shape[3];
    const float *xd = x->data;
    float *yd = y->data;
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t pl = 0; pl < planes; ++pl) {
        double sum = 0.0;
        for (int64_t j = 0; j < hw; ++j)
            sum += xd[pl * hw + j];
        yd[pl] = (float)(sum / (double)hw);
    }
}

void imbal_nn_cpu_avgpool_backward(imbal_ctx *ctx, const imbal_tensor *dy, imbal_tensor *dx) {
    const int64_t planes = dx->shape[0] * dx->shape[1], hw = dx->shape[2] * dx->shape[3];
    const float *dyd = dy->data;
    float *dxd = dx->data;
    const float inv = (float)(1.0 / (double)hw);
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t pl = 0; pl < planes; ++pl) {
        const float v = dyd[pl] * inv;
        for (int64_t j = 0; j < hw; ++j)
            dxd[pl * hw + j] = v;
    }
}

void imbal_nn_cpu_linear_forward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *w,
                                 const imbal_tensor *b, imbal_tensor *y) {
    const int n = (int)x->shape[0], in = (int)x->shape[1], out = (int)w->shape[0];
    float *yd = y->data;
    if (n == 0 || out == 0) return;
    if (in == 0) {
        memset(yd, 0, (size_t)n * (size_t)out * sizeof *yd);
    } else {
        imbal_nn_sgemm(ctx, 0, 1, n, out, in, 1.0f, x->data, in, w->data, in, 0.0f, yd, out);
    }
    if (!b) return;
    const float *bd = b->data;
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int i = 0; i < n; ++i)
        for (int o = 0; o < out; ++o)
            yd[(int64_t)i * out + o] += bd[o];
}

void imbal_nn_cpu_linear_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *w,
                                  const imbal_tensor *dy, imbal_tensor *dx, imbal_tensor *dw,
                                  imbal_tensor *db) {
    const int n = (int)x->shape[0], in = (int)x->shape[1], out = (int)w->shape[0];
    const float *dyd = dy->data;
    if (dx && n > 0 && in > 0) {
        if (out == 0)
            memset(dx->data, 0, (size_t)n * (size_t)in * sizeof(float));
        else
            imbal_nn_sgemm(ctx, 0, 0, n, in, out, 1.0f, dyd, out, w->data, in, 0.0f, dx->data, in);
    }
    if (out > 0 && in > 0) {
        if (n == 0)
            memset(dw->data, 0, (size_t)out * (size_t)in * sizeof(float));
        else
            imbal_nn_sgemm(ctx, 1, 0, out, in, n, 1.0f, dyd, out, x->data, in, 0.0f, dw->data, in);
    }
    if (!db) return;
    float *dbd = db->data;
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int o = 0; o < out; ++o) {
        double sum = 0.0;
        for (int i = 0; i < n; ++i)
            sum += dyd[(int64_t)i * out + o];
        dbd[o] = (float)sum;
    }
}
