/* imbal: the CPU twins of batch norm, relu, add, global average pooling and the linear layer
 * (definitions in docs/nn.md). Every per-channel or per-column sum is taken by one thread in a
 * fixed order in double precision, so results do not depend on the thread count. The batch-norm
 * row sums are `omp simd` reductions: the lanes' partial sums are combined in an order fixed by
 * the compiled vector width, never by the thread count. */
#include <math.h>
#include <stdint.h>
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

static void bn_forward_train(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *gamma,
                             const imbal_tensor *beta, imbal_tensor *running_mean,
                             imbal_tensor *running_var, float momentum, float eps, imbal_tensor *y,
                             imbal_tensor *save_mean, imbal_tensor *save_invstd, int relu) {
    const int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    const double m = (double)(n * hw);
    const float *xd = x->data, *g = gamma->data, *b = beta->data;
    float *yd = y->data, *rm = running_mean->data, *rv = running_var->data;
    float *sm = save_mean->data, *si = save_invstd->data;
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            const float *p = xd + (i * c + ch) * hw;
#pragma omp simd reduction(+ : sum)
            for (int64_t j = 0; j < hw; ++j)
                sum += p[j];
        }
        const double mean = sum / m;
        double sq = 0.0; /* two passes: the variance without cancellation */
        for (int64_t i = 0; i < n; ++i) {
            const float *p = xd + (i * c + ch) * hw;
#pragma omp simd reduction(+ : sq)
            for (int64_t j = 0; j < hw; ++j) {
                double d = p[j] - mean;
                sq += d * d;
            }
        }
        const double var = sq / m;
        const double invstd = 1.0 / sqrt(var + (double)eps);
        sm[ch] = (float)mean;
        si[ch] = (float)invstd;
        rm[ch] = (float)((1.0 - momentum) * rm[ch] + momentum * mean);
        rv[ch] = (float)((1.0 - momentum) * rv[ch] + momentum * var * m / (m - 1.0));
        const float scale = (float)(g[ch] * invstd), meanf = (float)mean, shift = b[ch];
        for (int64_t i = 0; i < n; ++i) {
            const float *p = xd + (i * c + ch) * hw;
            float *q = yd + (i * c + ch) * hw;
            if (relu) {
#pragma omp simd
                for (int64_t j = 0; j < hw; ++j) {
                    float v = (p[j] - meanf) * scale + shift;
                    q[j] = v > 0.0f ? v : 0.0f;
                }
            } else {
#pragma omp simd
                for (int64_t j = 0; j < hw; ++j)
                    q[j] = (p[j] - meanf) * scale + shift;
            }
        }
    }
}

void imbal_nn_cpu_bn_forward_train(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *gamma,
                                   const imbal_tensor *beta, imbal_tensor *running_mean,
                                   imbal_tensor *running_var, float momentum, float eps,
                                   imbal_tensor *y, imbal_tensor *save_mean,
                                   imbal_tensor *save_invstd) {
    bn_forward_train(ctx, x, gamma, beta, running_mean, running_var, momentum, eps, y, save_mean,
                     save_invstd, 0);
}

void imbal_nn_cpu_bn_relu_forward_train(imbal_ctx *ctx, const imbal_tensor *x,
                                        const imbal_tensor *gamma, const imbal_tensor *beta,
                                        imbal_tensor *running_mean, imbal_tensor *running_var,
                                        float momentum, float eps, imbal_tensor *y,
                                        imbal_tensor *save_mean, imbal_tensor *save_invstd) {
    bn_forward_train(ctx, x, gamma, beta, running_mean, running_var, momentum, eps, y, save_mean,
                     save_invstd, 1);
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
static void bn_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *mask,
                        const imbal_tensor *dy, const imbal_tensor *gamma,
                        const imbal_tensor *save_mean, const imbal_tensor *save_invstd,
                        imbal_tensor *dx, imbal_tensor *dgamma, imbal_tensor *dbeta) {
    const float *md = mask ? mask->data : NULL;
    const int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    const double m = (double)(n * hw);
    const float *xd = x->data, *dyd = dy->data, *g = gamma->data;
    const float *sm = save_mean->data, *si = save_invstd->data;
    float *dxd = dx ? dx->data : NULL, *dg = dgamma->data, *db = dbeta->data;
#pragma omp parallel for schedule(static) num_threads(OMP_THREADS)
    for (int64_t ch = 0; ch < c; ++ch) {
        const double mean = sm[ch], invstd = si[ch];
        double sdy = 0.0, sdyx = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            const float *p = xd + (i * c + ch) * hw, *d = dyd + (i * c + ch) * hw;
            if (md) {
                const float *y = md + (i * c + ch) * hw;
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
        }
        const double dgamma_c = sdyx * invstd;
        dg[ch] = (float)dgamma_c;
        db[ch] = (float)sdy;
        if (!dxd) continue;
        /* dx = gamma invstd / M (M dy - dbeta - xhat dgamma) = a dy + b x + k */
        const double a = g[ch] * invstd, bx = -a * invstd * dgamma_c / m;
        const double k0 = -a * sdy / m - bx * mean;
        const float af = (float)a, bf = (float)bx, kf = (float)k0;
        for (int64_t i = 0; i < n; ++i) {
            const float *p = xd + (i * c + ch) * hw, *d = dyd + (i * c + ch) * hw;
            float *q = dxd + (i * c + ch) * hw;
            if (md) {
                const float *y = md + (i * c + ch) * hw;
#pragma omp simd
                for (int64_t j = 0; j < hw; ++j) {
                    q[j] = af * relu_pass(y[j], d[j]) + bf * p[j] + kf;
                }
            } else {
#pragma omp simd
                for (int64_t j = 0; j < hw; ++j)
                    q[j] = af * d[j] + bf * p[j] + kf;
            }
        }
    }
}

void imbal_nn_cpu_bn_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *dy,
                              const imbal_tensor *gamma, const imbal_tensor *save_mean,
                              const imbal_tensor *save_invstd, imbal_tensor *dx,
                              imbal_tensor *dgamma, imbal_tensor *dbeta) {
    bn_backward(ctx, x, NULL, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
}

void imbal_nn_cpu_bn_relu_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *y,
                                   const imbal_tensor *dy, const imbal_tensor *gamma,
                                   const imbal_tensor *save_mean, const imbal_tensor *save_invstd,
                                   imbal_tensor *dx, imbal_tensor *dgamma, imbal_tensor *dbeta) {
    bn_backward(ctx, x, y, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
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
