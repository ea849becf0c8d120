/* imbal: the CPU twins of the optimizer steps, element-wise loops in PyTorch's operation order
 * (torch/optim/sgd.py and adamw.py, single-tensor path) so results agree to f32 rounding. */
#include <math.h>

#include "internal.h"
#include "optim_internal.h"

/* Below this the OpenMP fork costs more than the loop. */
#define OPTIM_PAR_MIN 32768

void imbal_sgd_cpu(imbal_ctx *ctx, const imbal_sgd_job *job) {
    const int64_t n = job->n;
    const float lr = job->lr, wd = job->weight_decay, mom = job->momentum;
    float *restrict p = job->param;
    const float *restrict g = job->grad;
    float *restrict b = job->buf;
    if (mom == 0.0f) {
#pragma omp parallel for simd num_threads(imbal_ctx_omp_threads(ctx)) if (n >= OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; ++i)
            p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    if (job->nesterov) {
#pragma omp parallel for simd num_threads(imbal_ctx_omp_threads(ctx)) if (n >= OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; ++i) {
            float d = g[i] + wd * p[i];
            float nb = mom * b[i] + d;
            b[i] = nb;
            p[i] -= lr * (d + mom * nb);
        }
    } else {
#pragma omp parallel for simd num_threads(imbal_ctx_omp_threads(ctx)) if (n >= OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; ++i) {
            float d = g[i] + wd * p[i];
            float nb = mom * b[i] + d;
            b[i] = nb;
            p[i] -= lr * nb;
        }
    }
}

void imbal_adamw_cpu(imbal_ctx *ctx, const imbal_adamw_job *job) {
    const int64_t n = job->n;
    const float decay = job->decay, b1 = job->beta1, c1 = job->one_minus_beta1;
    const float b2 = job->beta2, c2 = job->one_minus_beta2;
    const float step_size = job->step_size, bc2_sqrt = job->bc2_sqrt, eps = job->eps;
    float *restrict p = job->param;
    const float *restrict g = job->grad;
    float *restrict m = job->m;
    float *restrict v = job->v;
#pragma omp parallel for simd num_threads(imbal_ctx_omp_threads(ctx)) if (n >= OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; ++i) {
        float gi = g[i];
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = p[i] * decay - step_size * (mi / denom);
    }
}
