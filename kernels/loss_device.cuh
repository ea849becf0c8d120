/* imbal: device helpers shared by the CUDA loss kernels (kernels/loss_*.cu): dtype conversions,
 * 128-bit vector loads and streaming stores, deterministic warp/block reductions, the arguments
 * of the fused kernels and the scratch header. Design: docs/loss-kernels.md. */
#ifndef IMBAL_LOSS_DEVICE_CUH
#define IMBAL_LOSS_DEVICE_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <string.h>

#include "loss_internal.h"

namespace loss_kernels {

constexpr float kInf = __builtin_huge_valf();

/* ---- scratch: one stream-ordered allocation per call, zeroed by one memset ------------------- */

struct ScratchHeader {
    unsigned int prepass_done; /* blocks of the pre-pass that finished ("last block" pattern) */
    unsigned int main_done;    /* blocks of the fused kernel that finished */
    /* check_finite: the first bad element / row, stored complemented (~key) so that a zeroed
     * header means "none" and atomicMax picks the smallest key. */
    unsigned long long bad_nan; /* logits: first NaN */
    unsigned long long bad_inf; /* logits: first +inf (kept apart: in place, the logit is gone) */
    unsigned long long bad_target;
    unsigned long long bad_tnan; /* sigmoid kinds' float targets: first NaN (row * C + class) */
    unsigned long long bad_tinf; /* ... first +inf */
    float denom;                 /* weighted-mean denominator (pre-pass) */
    float wsum;                  /* sum of the class weights (label smoothing with class weights) */
};

/* check_finite: records the element `key` (row * C + class) if the logit is NaN or +inf. */
__device__ __forceinline__ void flag_logit(ScratchHeader *h, float v, unsigned long long key) {
    if (v != v)
        atomicMax(&h->bad_nan, ~key);
    else if (v == __builtin_huge_valf())
        atomicMax(&h->bad_inf, ~key);
}

/* check_finite, sigmoid kinds: the same for a float target (loss.h: a NaN or +inf sigmoid-kind
 * target is IMBAL_ERR_DATA too, as on the CPU). */
__device__ __forceinline__ void flag_target(ScratchHeader *h, float v, unsigned long long key) {
    if (v != v)
        atomicMax(&h->bad_tnan, ~key);
    else if (v == __builtin_huge_valf())
        atomicMax(&h->bad_tinf, ~key);
}

/* ---- dtypes ---------------------------------------------------------------------------------- */

__device__ __forceinline__ float to_f(float v) {
    return v;
}
__device__ __forceinline__ float to_f(__half v) {
    return __half2float(v);
}
__device__ __forceinline__ float to_f(__nv_bfloat16 v) {
    return __bfloat162float(v);
}

template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) {
    return v;
}
template <> __device__ __forceinline__ __half from_f<__half>(float v) {
    return __float2half_rn(v);
}
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}

/* Elements per 128-bit vector. */
template <typename T> struct VecWidth { static constexpr int value = 16 / (int)sizeof(T); };

/* Plain loads (not __ldg): dlogits may alias the logits, so the logits are not read-only for the
 * kernel's lifetime. */
template <typename T> __device__ __forceinline__ float load1(const T *p) {
    return to_f(*p);
}

/* The raw word moved by one vector access of B bytes. */
template <int B> struct RawVec;
template <> struct RawVec<16> { using type = uint4; };
template <> struct RawVec<8> { using type = uint2; };
template <> struct RawVec<4> { using type = unsigned int; };

/* V values in one access of V * sizeof(T) bytes (16, 8 or 4; p aligned to it). */
template <typename T, int V> __device__ __forceinline__ void load_vec(const T *p, float (&out)[V]) {
    using R = typename RawVec<V *(int)sizeof(T)>::type;
    R raw = *reinterpret_cast<const R *>(p);
    T tmp[V];
    memcpy(tmp, &raw, sizeof raw);
#pragma unroll
    for (int i = 0; i < V; ++i)
        out[i] = to_f(tmp[i]);
}

/* V floats of a per-class table (16-byte aligned base, c a multiple of V): float4 words where V
 * allows, so a row of the register kernel reads its table slice with vector loads too. */
template <int V> __device__ __forceinline__ void load_table(const float *p, float (&out)[V]) {
    if constexpr (V % 4 == 0) {
#pragma unroll
        for (int i = 0; i < V; i += 4) {
            const float4 w = *reinterpret_cast<const float4 *>(p + i);
            out[i] = w.x;
            out[i + 1] = w.y;
            out[i + 2] = w.z;
            out[i + 3] = w.w;
        }
    } else if constexpr (V % 2 == 0) {
#pragma unroll
        for (int i = 0; i < V; i += 2) {
            const float2 w = *reinterpret_cast<const float2 *>(p + i);
            out[i] = w.x;
            out[i + 1] = w.y;
        }
    } else {
#pragma unroll
        for (int i = 0; i < V; ++i)
            out[i] = p[i];
    }
}

/* Streaming (evict-first) stores: the gradient is not read again by this kernel. */
__device__ __forceinline__ void store1_cs(float *p, float v) {
    __stcs(p, v);
}
__device__ __forceinline__ void store1_cs(__half *p, float v) {
    __stcs(p, __float2half_rn(v));
}
__device__ __forceinline__ void store1_cs(__nv_bfloat16 *p, float v) {
    __stcs(p, __float2bfloat16_rn(v));
}

template <typename T, int V>
__device__ __forceinline__ void store_vec_cs(T *p, const float (&v)[V]) {
    using R = typename RawVec<V *(int)sizeof(T)>::type;
    T tmp[V];
#pragma unroll
    for (int i = 0; i < V; ++i)
        tmp[i] = from_f<T>(v[i]);
    R raw;
    memcpy(&raw, tmp, sizeof raw);
    __stcs(reinterpret_cast<R *>(p), raw);
}

/* ---- programmatic dependent launch (Hopper) ---------------------------------------------------
 * The pre-pass lets the fused kernel start at once (launch_dependents); the fused kernel loads and
 * reduces its rows, then waits (wait) for the pre-pass's results and memory before it reads the
 * denominator. Both are no-ops below sm_90 and in a kernel launched without the attribute. */
__device__ __forceinline__ void griddep_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void griddep_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

/* ---- reductions: fixed trees, so every run gives the same bits ---------------------------------
 */

/* Over aligned groups of G lanes (G a power of two <= 32). Every lane of the group ends with the
 * same value (the butterfly adds the same pairs; float addition is commutative). */
template <int G> __device__ __forceinline__ float group_max(float v) {
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
template <int G, typename F> __device__ __forceinline__ F group_sum(F v) {
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* Sum over the block; the result is returned to every thread. blockDim.x is a multiple of 32. */
template <typename F> __device__ F block_sum(F v) {
    __shared__ F warp_part[32];
    __shared__ F total;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = group_sum<32>(v);
    if (lane == 0) warp_part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        F w = lane < nwarps ? warp_part[lane] : F(0);
        w = group_sum<32>(w);
        if (lane == 0) total = w;
    }
    __syncthreads();
    F r = total;
    __syncthreads(); /* the shared slots may be reused by the next call */
    return r;
}

/* Online-softmax state (Milakov & Gimelshein 2018): running max m and sum s of exp(z - m). */
struct MaxSum {
    float m, s;
};

__device__ __forceinline__ MaxSum maxsum_merge(MaxSum a, MaxSum b) {
    float m = fmaxf(a.m, b.m);
    /* An empty side (m = -inf) contributes nothing; exp(-inf - -inf) would be NaN. But a side that
     * saw only NaN (and -inf) logits also has m = -inf, with s = NaN: s * 0 keeps that NaN, so a
     * NaN logit poisons the row whichever thread held it (as on the CPU). */
    float sa = a.m == -kInf ? a.s * 0.0f : a.s * expf(a.m - m);
    float sb = b.m == -kInf ? b.s * 0.0f : b.s * expf(b.m - m);
    if (m != m) return MaxSum{m, m}; /* NaN propagates */
    return MaxSum{m, sa + sb};
}

__device__ __forceinline__ void maxsum_add(MaxSum &st, float z) {
    if (z > st.m) {
        st.s = st.s * expf(st.m - z) + 1.0f; /* m = -inf: 0 * 0 + 1 */
        st.m = z;
    } else if (z != -kInf) {
        st.s += expf(z - st.m); /* NaN z lands here and poisons s */
    }
}

__device__ __forceinline__ MaxSum block_maxsum(MaxSum v) {
    __shared__ float wm[32], ws[32];
    __shared__ MaxSum total;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        MaxSum other{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
        v = maxsum_merge(v, other);
    }
    if (lane == 0) {
        wm[warp] = v.m;
        ws[warp] = v.s;
    }
    __syncthreads();
    if (warp == 0) {
        MaxSum w = lane < nwarps ? MaxSum{wm[lane], ws[lane]} : MaxSum{-kInf, 0.0f};
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            MaxSum other{__shfl_xor_sync(0xffffffffu, w.m, o),
                         __shfl_xor_sync(0xffffffffu, w.s, o)};
            w = maxsum_merge(w, other);
        }
        if (lane == 0) total = w;
    }
    __syncthreads();
    MaxSum r = total;
    __syncthreads();
    return r;
}

/* ---- the last block of a grid reduces the per-block partials in a fixed order -----------------
 */

/* Every block calls this with its partial (significant in thread 0). The block that finishes last
 * (threadfence + counter, as CUDA's threadFenceReduction sample) sums partials[0..gridDim.x) in
 * index order with a fixed tree, so the result does not depend on which block was last. Returns
 * true in the last block, where *out holds the total in every thread. */
template <typename F>
__device__ bool last_block_total(F partial, F *partials, unsigned int *counter, double *out) {
    __shared__ bool is_last;
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = partial;
        __threadfence();
        unsigned int prev = atomicAdd(counter, 1u);
        is_last = prev == gridDim.x - 1;
    }
    __syncthreads();
    if (!is_last) return false;
    __threadfence();
    double acc = 0.0;
    for (unsigned int i = threadIdx.x; i < gridDim.x; i += blockDim.x)
        acc += (double)__ldcg(&partials[i]);
    *out = block_sum<double>(acc);
    return true;
}

/* ---- arguments of the fused kernels -----------------------------------------------------------
 */

struct SoftmaxArgs {
    const void *x; /* [n, c] logits */
    void *dx;      /* [n, c] dlogits or NULL; may equal x */
    const void *tgt;
    int tgt64;          /* targets are i64 (else i32) */
    const float *cw;    /* class weights [c] or NULL */
    const float *sw;    /* sample weights [n] or NULL */
    const float *bias;  /* balanced-softmax: tau * log prior [c] (scratch), else NULL */
    const float *delta; /* ldam: Delta_c [c] (scratch), else NULL */
    float a;            /* logits scale: ldam s, else 1 */
    float eps;          /* label smoothing */
    float gamma;        /* focal */
    float grad_scale;
    int64_t ignore;
    int64_t n, c;
    int reduction;
    int check;
    int vec_store;      /* dx - x is a multiple of 16 bytes (block path: vector stores line up) */
    float w_total_host; /* sum of class weights when known on the host (no class weights: c) */
    const ScratchHeader *hdr_in; /* denom, wsum from the pre-pass */
    int use_wsum;                /* read wsum from the header (label smoothing + class weights) */
    int use_denom;               /* mean: read the denominator from the header */
    float *per_sample;           /* [n] or NULL */
    float *loss;                 /* reduced loss or NULL */
    float *partials;             /* one per block of the fused kernel */
    ScratchHeader *hdr;
};

struct SigmoidArgs {
    const void *x, *t;
    void *dx;
    const float *cw, *sw, *pw;
    float gamma, alpha, grad_scale;
    int bce; /* 1: bce, 0: sigmoid-focal */
    int64_t n, c;
    int reduction;
    int check;
    float *per_sample; /* [n, c] or NULL */
    float *loss;
    float *partials;
    ScratchHeader *hdr;
};

/* Host-side launchers (kernels/loss_softmax.cu, kernels/loss_sigmoid.cu). They return the
 * launch's cudaError_t (cudaGetLastError); grid sizes come from n and c only. */
int softmax_grid(int64_t n, int64_t c);
/* pdl: launch with programmatic stream serialization after the pre-pass (sm_90+). */
cudaError_t softmax_launch(const SoftmaxArgs &a, imbal_dtype dtype, int focal, int pdl);
int sigmoid_grid(int64_t n, int64_t c);
cudaError_t sigmoid_launch(const SigmoidArgs &a, imbal_dtype dtype);

} // namespace loss_kernels

#endif
