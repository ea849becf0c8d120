/* imbal: the CUDA twin of batch normalisation (Ioffe & Szegedy 2015; torch.nn.BatchNorm2d's
 * semantics, imbal/nn.h). x, y, dy, dx may be f32 or bf16 (element by element, f32 arithmetic);
 * gamma, beta, running and saved statistics and the parameter gradients are f32.
 *
 * Training mode is two kernels over a grid of (channel, chunk) blocks; a chunk is a run of whole
 * images of one channel (chunk_plan: about 4096 values, at most 64 chunks a channel), so a layer
 * of 16 channels still fills the GPU (one block per channel, the first version, used 16 of an
 * H100's 132 multiprocessors and took 250 us per call on a 17 MB activation: 15x its bandwidth
 * floor). Forward: (1) each block's count, mean and sum of squared deviations from that mean
 * (two passes over its chunk, the second from cache), in double; (2) every block combines its
 * channel's partials in chunk order (Chan, Golub & LeVeque 1979: as safe as a two-pass over the
 * channel), normalises its chunk, and the first block writes the saved and running statistics.
 * Backward: (1) per-chunk sums of dy and dy * xhat in double; (2) their sums in chunk order give
 * dbeta and dgamma, and each block writes its chunk of dx. The chunking depends on the shape
 * only, the sums run in a fixed order (no atomics): the same bits on every run. Where H*W is a
 * multiple of 4 and the pointers allow, four values move per load and store. */
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

constexpr int kThreads = 256;
constexpr int64_t kChunkValues = 4096; /* a block's share of a channel, about */
constexpr int64_t kMaxChunks = 64;

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
    int64_t rows;     /* images per chunk (the last chunk may have fewer) */
    int64_t chunks;   /* chunks per channel: gridDim.y */
};

/* Loads / stores V consecutive values (V = 4: one 16-byte f32 or 8-byte bf16 access). */
template <int V> __device__ __forceinline__ void ld(const void *p, int bf16, int64_t i, float *v) {
    if (V == 1) {
        v[0] = nn_act_load(p, bf16, i);
    } else if (bf16) {
        const uint2 r = *reinterpret_cast<const uint2 *>(static_cast<const __nv_bfloat16 *>(p) + i);
        const float2 a = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162 *>(&r.x));
        const float2 b = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162 *>(&r.y));
        v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
    } else {
        const float4 q = *reinterpret_cast<const float4 *>(static_cast<const float *>(p) + i);
        v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
    }
}
template <int V> __device__ __forceinline__ void st(void *p, int bf16, int64_t i, const float *v) {
    if (V == 1) {
        nn_act_store(p, bf16, i, v[0]);
    } else if (bf16) {
        __nv_bfloat162 a = __floats2bfloat162_rn(v[0], v[1]), b = __floats2bfloat162_rn(v[2], v[3]);
        uint2 r;
        r.x = *reinterpret_cast<const unsigned *>(&a);
        r.y = *reinterpret_cast<const unsigned *>(&b);
        *reinterpret_cast<uint2 *>(static_cast<__nv_bfloat16 *>(p) + i) = r;
    } else {
        *reinterpret_cast<float4 *>(static_cast<float *>(p) + i) =
            make_float4(v[0], v[1], v[2], v[3]);
    }
}

/* This block's chunk: channel blockIdx.x, images [r0, r1). */
struct Chunk {
    int64_t ch, r0, r1;
};
__device__ __forceinline__ Chunk my_chunk(const Layout &l) {
    Chunk k;
    k.ch = blockIdx.x;
    k.r0 = (int64_t)blockIdx.y * l.rows;
    k.r1 = k.r0 + l.rows < l.n ? k.r0 + l.rows : l.n;
    return k;
}

/* Calls f(index of the first of V values) for this thread's share of the chunk, in a fixed
 * order. A chunk holds fewer than 2^31 values (chunk_plan), so the index arithmetic is 32-bit. */
template <int V, class F>
__device__ __forceinline__ void for_chunk(const Layout &l, const Chunk &k, F f) {
    const uint32_t hw = (uint32_t)l.hw, nvec = (uint32_t)((k.r1 - k.r0) * l.hw / V);
    for (uint32_t t = threadIdx.x; t < nvec; t += blockDim.x) {
        const uint32_t e = t * V, i = e / hw, j = e - i * hw;
        f(((k.r0 + (int64_t)i) * l.c + k.ch) * l.hw + j);
    }
}

struct TrainArgs {
    const void *x;
    void *y;
    int x16, y16;
    const float *gamma, *beta;
    float *running_mean, *running_var, *save_mean, *save_invstd;
    float momentum, eps;
    double *part; /* [c][chunks][3]: count, mean, sum of squared deviations */
    Layout l;
};

template <int V> __global__ void __launch_bounds__(kThreads) bn_stats(TrainArgs a) {
    const Chunk k = my_chunk(a.l);
    const double cnt = (double)((k.r1 - k.r0) * a.l.hw);
    double s = 0.0;
    for_chunk<V>(a.l, k, [&](int64_t idx) {
        float v[V];
        ld<V>(a.x, a.x16, idx, v);
        for (int u = 0; u < V; u++)
            s += (double)v[u];
    });
    const double mean = block_sum(s) / cnt;
    double q = 0.0;
    for_chunk<V>(a.l, k, [&](int64_t idx) {
        float v[V];
        ld<V>(a.x, a.x16, idx, v);
        for (int u = 0; u < V; u++) {
            const double d = (double)v[u] - mean;
            q += d * d;
        }
    });
    q = block_sum(q);
    if (threadIdx.x == 0) {
        double *o = a.part + (k.ch * a.l.chunks + blockIdx.y) * 3;
        o[0] = cnt, o[1] = mean, o[2] = q;
    }
}

template <int V> __global__ void __launch_bounds__(kThreads) bn_normalize(TrainArgs a) {
    const Chunk k = my_chunk(a.l);
    __shared__ float sh_scale, sh_shift;
    if (threadIdx.x == 0) {
        /* Chan et al.'s pairwise update, chunk by chunk in order. */
        const double *p = a.part + k.ch * a.l.chunks * 3;
        double n = 0.0, mean = 0.0, m2 = 0.0;
        for (int64_t c = 0; c < a.l.chunks; c++, p += 3) {
            const double nb = p[0], delta = p[1] - mean, tot = n + nb;
            mean += delta * (nb / tot);
            m2 += p[2] + delta * delta * (n * nb / tot);
            n = tot;
        }
        const double var = m2 / n; /* biased: normalises the batch */
        const double invstd = 1.0 / sqrt(var + (double)a.eps);
        const float fmean = (float)mean, finv = (float)invstd;
        const float scale = a.gamma[k.ch] * finv;
        sh_scale = scale;
        sh_shift = a.beta[k.ch] - fmean * scale;
        if (blockIdx.y == 0) {
            a.save_mean[k.ch] = fmean;
            a.save_invstd[k.ch] = finv;
            const double unbiased = var * n / (n - 1.0); /* PyTorch's running_var */
            const float mo = a.momentum;
            a.running_mean[k.ch] = (1.0f - mo) * a.running_mean[k.ch] + mo * fmean;
            a.running_var[k.ch] = (1.0f - mo) * a.running_var[k.ch] + mo * (float)unbiased;
        }
    }
    __syncthreads();
    const float scale = sh_scale, shift = sh_shift;
    for_chunk<V>(a.l, k, [&](int64_t idx) {
        float v[V];
        ld<V>(a.x, a.x16, idx, v);
        for (int u = 0; u < V; u++)
            v[u] = v[u] * scale + shift;
        st<V>(a.y, a.y16, idx, v);
    });
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
    double *part; /* [c][chunks][2]: sum dy, sum dy * xhat */
    Layout l;
};

template <int V> __global__ void __launch_bounds__(kThreads) bn_bwd_sums(BwdArgs a) {
    const Chunk k = my_chunk(a.l);
    const float mean = a.save_mean[k.ch], invstd = a.save_invstd[k.ch];
    double sb = 0.0, sg = 0.0;
    for_chunk<V>(a.l, k, [&](int64_t idx) {
        float g[V], x[V];
        ld<V>(a.dy, a.dy16, idx, g);
        ld<V>(a.x, a.x16, idx, x);
        for (int u = 0; u < V; u++) {
            const float xhat = (x[u] - mean) * invstd;
            sb += (double)g[u];
            sg += (double)g[u] * (double)xhat;
        }
    });
    sb = block_sum(sb);
    sg = block_sum(sg);
    if (threadIdx.x == 0) {
        double *o = a.part + (k.ch * a.l.chunks + blockIdx.y) * 2;
        o[0] = sb, o[1] = sg;
    }
}

template <int V> __global__ void __launch_bounds__(kThreads) bn_bwd_dx(BwdArgs a) {
    const Chunk k = my_chunk(a.l);
    __shared__ float sh_b, sh_g;
    if (threadIdx.x == 0) {
        const double *p = a.part + k.ch * a.l.chunks * 2;
        double dbeta = 0.0, dgamma = 0.0;
        for (int64_t c = 0; c < a.l.chunks; c++, p += 2)
            dbeta += p[0], dgamma += p[1];
        sh_b = (float)dbeta;
        sh_g = (float)dgamma;
        if (blockIdx.y == 0) {
            a.dbeta[k.ch] = (float)dbeta;
            a.dgamma[k.ch] = (float)dgamma;
        }
    }
    if (!a.dx) return;
    __syncthreads();
    /* dx = gamma invstd / M (M dy - dbeta - xhat dgamma) */
    const float mean = a.save_mean[k.ch], invstd = a.save_invstd[k.ch];
    const float m = (float)(a.l.n * a.l.hw);
    const float kk = a.gamma[k.ch] * invstd / m, fb = sh_b, fg = sh_g;
    for_chunk<V>(a.l, k, [&](int64_t idx) {
        float g[V], x[V], d[V];
        ld<V>(a.dy, a.dy16, idx, g);
        ld<V>(a.x, a.x16, idx, x);
        for (int u = 0; u < V; u++) {
            const float xhat = (x[u] - mean) * invstd;
            d[u] = kk * (m * g[u] - fb - xhat * fg);
        }
        st<V>(a.dx, a.dx16, idx, d);
    });
}

Layout layout_of(const imbal_tensor *x) {
    Layout l;
    l.n = x->shape[0];
    l.c = x->shape[1];
    l.hw = x->shape[2] * x->shape[3];
    l.rows = l.n;
    l.chunks = 1;
    return l;
}

/* Splits each channel's N images into chunks of whole images, about kChunkValues values each,
 * at most kMaxChunks: from the shape alone, so the sums' order (and bits) never change. */
imbal_status chunk_plan(imbal_ctx *ctx, const char *fn, Layout *l) {
    if (l->c > INT32_MAX || l->hw > INT32_MAX / 4)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "%s: %lld channels of %lld values on CUDA",
                          fn, (long long)l->c, (long long)l->hw);
    int64_t want = l->n * l->hw / kChunkValues;
    want = want < 1 ? 1 : want > kMaxChunks ? kMaxChunks : want;
    if (want > l->n) want = l->n;
    l->rows = (l->n + want - 1) / want;
    if (l->rows * l->hw > INT32_MAX) l->rows = INT32_MAX / l->hw; /* 32-bit chunk indexing */
    l->chunks = (l->n + l->rows - 1) / l->rows;
    return IMBAL_OK;
}

/* 4 values per access when every row of H*W starts 16-byte (f32) or 8-byte (bf16) aligned. */
int vec4_ok(const Layout &l, const void *const *ptrs, const int *is16, int count) {
    if (l.hw % 4 != 0) return 0;
    for (int i = 0; i < count; i++)
        if (ptrs[i] && (uintptr_t)ptrs[i] % (is16[i] ? 8u : 16u) != 0) return 0;
    return 1;
}

/* A pass's two kernels (partials, then combine-and-apply) on the default stream, then the
 * partials' scratch freed behind them; a launch error is reported once the free is queued. */
template <class Args>
imbal_status run_pass(imbal_ctx *ctx, void (*partials)(Args), void (*apply)(Args), dim3 grid1,
                      dim3 grid2, const Args &a, double *part) {
    partials<<<grid1, kThreads>>>(a);
    apply<<<grid2, kThreads>>>(a);
    const cudaError_t launch = cudaGetLastError();
    IMBAL_CUDA_TRY(ctx, cudaFreeAsync(part, 0));
    IMBAL_CUDA_TRY(ctx, launch);
    return IMBAL_OK;
}

/* Stream-ordered scratch for the per-chunk partial sums. */
imbal_status part_alloc(imbal_ctx *ctx, const char *fn, double **part, size_t count) {
    *part = NULL;
    cudaError_t e = cudaMallocAsync((void **)part, count * sizeof(double), 0);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        *part = NULL;
        return imbal_fail(
            ctx, e == cudaErrorMemoryAllocation ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY : IMBAL_ERR_CUDA,
            "%s: cudaMallocAsync of %zu bytes of scratch: %s%s", fn, count * sizeof(double),
            cudaGetErrorString(e), imbal_cuda_lost_note());
    }
    return IMBAL_OK;
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
    static const char fn[] = "batchnorm";
    imbal_status st = chunk_plan(ctx, fn, &a.l);
    if (st != IMBAL_OK) return st;
    if ((st = part_alloc(ctx, fn, &a.part, (size_t)(a.l.c * a.l.chunks * 3))) != IMBAL_OK)
        return st;
    const void *ptrs[2] = {a.x, a.y};
    const int is16[2] = {a.x16, a.y16};
    const dim3 grid((unsigned)a.l.c, (unsigned)a.l.chunks);
    const int v4 = vec4_ok(a.l, ptrs, is16, 2);
    return run_pass(ctx, v4 ? bn_stats<4> : bn_stats<1>, v4 ? bn_normalize<4> : bn_normalize<1>,
                    grid, grid, a, a.part);
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
    static const char fn[] = "batchnorm backward";
    imbal_status st = chunk_plan(ctx, fn, &a.l);
    if (st != IMBAL_OK) return st;
    if ((st = part_alloc(ctx, fn, &a.part, (size_t)(a.l.c * a.l.chunks * 2))) != IMBAL_OK)
        return st;
    const void *ptrs[3] = {a.x, a.dy, a.dx};
    const int is16[3] = {a.x16, a.dy16, a.dx16};
    const dim3 grid((unsigned)a.l.c, (unsigned)a.l.chunks);
    /* Without dx the second kernel only adds the partials: one block per channel. */
    const dim3 grid_dx((unsigned)a.l.c, a.dx ? (unsigned)a.l.chunks : 1u);
    const int v4 = vec4_ok(a.l, ptrs, is16, 3);
    return run_pass(ctx, v4 ? bn_bwd_sums<4> : bn_bwd_sums<1>, v4 ? bn_bwd_dx<4> : bn_bwd_dx<1>,
                    grid, grid_dx, a, a.part);
}
