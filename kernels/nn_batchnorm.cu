/* imbal: the CUDA twin of batch normalisation (Ioffe & Szegedy 2015; torch.nn.BatchNorm2d's
 * semantics, imbal/nn.h). One block per channel: its threads walk the channel's M = N*H*W values
 * in a fixed strided order, accumulate in double, and a fixed shuffle/shared-memory tree reduces
 * them, so the statistics and gradients are the same bits on every run (no atomics). The
 * statistics are two-pass (mean, then sum of squared deviations), as numerically safe as the
 * CPU twin. x, y, dy, dx may be f32 or bf16 (element by element, f32 arithmetic); gamma, beta,
 * running and saved statistics and the parameter gradients are f32. */
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "cuda_internal.h"
#include "internal.h"
#include "nn_act.cuh"
extern "C" {
#include "nn_internal.h" /* a C header without C++ guards */
}

namespace {

constexpr int kThreads = 512;

/* Sum over the block in a fixed order; every thread gets the total. */
__device__ double block_sum(double v) {
    __shared__ double part[kThreads / 32];
    __shared__ double total;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        double w = lane < nwarps ? part[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1)
            w += __shfl_xor_sync(0xffffffffu, w, o);
        if (lane == 0) total = w;
    }
    __syncthreads();
    const double r = total;
    __syncthreads(); /* part/total may be reused by the next call */
    return r;
}

struct Layout {
    int64_t n, c, hw; /* element (i, ch, j) is at (i * c + ch) * hw + j */
};

/* Calls f(index) for every element of channel ch, this thread's share, in a fixed order. */
template <class F> __device__ __forceinline__ void for_channel(const Layout &l, int64_t ch, F f) {
    const int64_t m = l.n * l.hw;
    for (int64_t t = threadIdx.x; t < m; t += blockDim.x) {
        const int64_t i = t / l.hw, j = t - i * l.hw;
        f((i * l.c + ch) * l.hw + j);
    }
}

struct TrainArgs {
    const void *x;
    void *y;
    int x16, y16;
    const float *gamma, *beta;
    float *running_mean, *running_var, *save_mean, *save_invstd;
    float momentum, eps;
    Layout l;
};

__global__ void __launch_bounds__(kThreads) bn_train(TrainArgs a) {
    const int64_t ch = blockIdx.x;
    const double m = (double)(a.l.n * a.l.hw);
    double s = 0.0;
    for_channel(a.l, ch, [&](int64_t idx) { s += (double)nn_act_load(a.x, a.x16, idx); });
    const double mean = block_sum(s) / m;
    double q = 0.0;
    for_channel(a.l, ch, [&](int64_t idx) {
        const double d = (double)nn_act_load(a.x, a.x16, idx) - mean;
        q += d * d;
    });
    const double var = block_sum(q) / m; /* biased: normalises the batch */
    const double invstd = 1.0 / sqrt(var + (double)a.eps);
    const float fmean = (float)mean, finv = (float)invstd;
    const float scale = a.gamma[ch] * finv, shift = a.beta[ch] - fmean * scale;
    for_channel(a.l, ch, [&](int64_t idx) {
        nn_act_store(a.y, a.y16, idx, nn_act_load(a.x, a.x16, idx) * scale + shift);
    });
    if (threadIdx.x == 0) {
        a.save_mean[ch] = fmean;
        a.save_invstd[ch] = finv;
        const double unbiased = var * m / (m - 1.0); /* PyTorch's running_var */
        const float mo = a.momentum;
        a.running_mean[ch] = (1.0f - mo) * a.running_mean[ch] + mo * fmean;
        a.running_var[ch] = (1.0f - mo) * a.running_var[ch] + mo * (float)unbiased;
    }
}

struct EvalArgs {
    const void *x;
    void *y;
    int x16, y16;
    const float *gamma, *beta, *mean, *var;
    float eps;
    Layout l;
};

/* Element-wise: a grid-stride over all elements, the channel recovered from the index. */
__global__ void bn_eval(EvalArgs a) {
    const int64_t total = a.l.n * a.l.c * a.l.hw;
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t ch = (idx / a.l.hw) % a.l.c;
        const float inv = 1.0f / sqrtf(a.var[ch] + a.eps);
        const float scale = a.gamma[ch] * inv;
        nn_act_store(a.y, a.y16, idx,
                     (nn_act_load(a.x, a.x16, idx) - a.mean[ch]) * scale + a.beta[ch]);
    }
}

struct BwdArgs {
    const void *x, *dy;
    void *dx; /* may be NULL */
    int x16, dy16, dx16;
    const float *gamma, *save_mean, *save_invstd;
    float *dgamma, *dbeta;
    Layout l;
};

__global__ void __launch_bounds__(kThreads) bn_bwd(BwdArgs a) {
    const int64_t ch = blockIdx.x;
    const float mean = a.save_mean[ch], invstd = a.save_invstd[ch];
    double sb = 0.0, sg = 0.0;
    for_channel(a.l, ch, [&](int64_t idx) {
        const float g = nn_act_load(a.dy, a.dy16, idx);
        const float xhat = (nn_act_load(a.x, a.x16, idx) - mean) * invstd;
        sb += (double)g;
        sg += (double)g * (double)xhat;
    });
    const double dbeta = block_sum(sb);
    const double dgamma = block_sum(sg);
    if (threadIdx.x == 0) {
        a.dbeta[ch] = (float)dbeta;
        a.dgamma[ch] = (float)dgamma;
    }
    if (!a.dx) return;
    /* dx = gamma invstd / M (M dy - dbeta - xhat dgamma) */
    const float m = (float)(a.l.n * a.l.hw);
    const float k = a.gamma[ch] * invstd / m, fb = (float)dbeta, fg = (float)dgamma;
    for_channel(a.l, ch, [&](int64_t idx) {
        const float xhat = (nn_act_load(a.x, a.x16, idx) - mean) * invstd;
        nn_act_store(a.dx, a.dx16, idx, k * (m * nn_act_load(a.dy, a.dy16, idx) - fb - xhat * fg));
    });
}

Layout layout_of(const imbal_tensor *x) {
    Layout l;
    l.n = x->shape[0];
    l.c = x->shape[1];
    l.hw = x->shape[2] * x->shape[3];
    return l;
}

} // namespace

extern "C" imbal_status imbal_nn_cuda_bn_forward_train(
    imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *gamma, const imbal_tensor *beta,
    imbal_tensor *running_mean, imbal_tensor *running_var, float momentum, float eps,
    imbal_tensor *y, imbal_tensor *save_mean, imbal_tensor *save_invstd) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(x->device.index));
    TrainArgs a;
    a.x = x->data;
    a.y = y->data;
    a.x16 = x->dtype == IMBAL_BF16;
    a.y16 = y->dtype == IMBAL_BF16;
    a.gamma = (const float *)gamma->data;
    a.beta = (const float *)beta->data;
    a.running_mean = (float *)running_mean->data;
    a.running_var = (float *)running_var->data;
    a.save_mean = (float *)save_mean->data;
    a.save_invstd = (float *)save_invstd->data;
    a.momentum = momentum;
    a.eps = eps;
    a.l = layout_of(x);
    if (a.l.c == 0) return IMBAL_OK;
    if (a.l.c > INT32_MAX)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "batchnorm: %lld channels on CUDA",
                          (long long)a.l.c);
    bn_train<<<(unsigned)a.l.c, kThreads>>>(a);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    return IMBAL_OK;
}

extern "C" imbal_status
imbal_nn_cuda_bn_forward_eval(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *gamma,
                              const imbal_tensor *beta, const imbal_tensor *running_mean,
                              const imbal_tensor *running_var, float eps, imbal_tensor *y) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(x->device.index));
    EvalArgs a;
    a.x = x->data;
    a.y = y->data;
    a.x16 = x->dtype == IMBAL_BF16;
    a.y16 = y->dtype == IMBAL_BF16;
    a.gamma = (const float *)gamma->data;
    a.beta = (const float *)beta->data;
    a.mean = (const float *)running_mean->data;
    a.var = (const float *)running_var->data;
    a.eps = eps;
    a.l = layout_of(x);
    const int64_t total = a.l.n * a.l.c * a.l.hw;
    if (total == 0) return IMBAL_OK;
    int64_t blocks = (total + 255) / 256;
    if (blocks > 4096) blocks = 4096;
    bn_eval<<<(int)blocks, 256>>>(a);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    return IMBAL_OK;
}

extern "C" imbal_status imbal_nn_cuda_bn_backward(imbal_ctx *ctx, const imbal_tensor *x,
                                                  const imbal_tensor *dy, const imbal_tensor *gamma,
                                                  const imbal_tensor *save_mean,
                                                  const imbal_tensor *save_invstd, imbal_tensor *dx,
                                                  imbal_tensor *dgamma, imbal_tensor *dbeta) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(x->device.index));
    BwdArgs a;
    a.x = x->data;
    a.dy = dy->data;
    a.dx = dx ? dx->data : NULL;
    a.x16 = x->dtype == IMBAL_BF16;
    a.dy16 = dy->dtype == IMBAL_BF16;
    a.dx16 = dx && dx->dtype == IMBAL_BF16;
    a.gamma = (const float *)gamma->data;
    a.save_mean = (const float *)save_mean->data;
    a.save_invstd = (const float *)save_invstd->data;
    a.dgamma = (float *)dgamma->data;
    a.dbeta = (float *)dbeta->data;
    a.l = layout_of(x);
    if (a.l.c == 0) return IMBAL_OK;
    if (a.l.c > INT32_MAX)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "batchnorm backward: %lld channels on CUDA",
                          (long long)a.l.c);
    bn_bwd<<<(unsigned)a.l.c, kThreads>>>(a);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    return IMBAL_OK;
}
