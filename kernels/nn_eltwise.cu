/* imbal: the CUDA twins of the element-wise layer ops and the global average pool (imbal/nn.h).
 * Grid-stride loops on the default stream; f32 tensors whose pointers are all 16-byte aligned go
 * through float4 loads and stores (the tail element by element); bf16 tensors are handled element
 * by element with f32 arithmetic. Each output element is a pure function of its inputs, so the
 * results are the same bits on every run. */
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_internal.h"
#include "internal.h"
#include "nn_act.cuh"
extern "C" {
#include "nn_internal.h" /* a C header without C++ guards */
}

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) {
    int64_t b = (n + kThreads - 1) / kThreads;
    if (b > 4096) b = 4096; /* grid-stride covers the rest */
    return b > 0 ? (int)b : 1;
}

int aligned16(const void *p) {
    return ((uintptr_t)p & 15u) == 0;
}

/* op 0: relu y = max(x, 0) (a = x); op 1: relu backward dx = y > 0 ? dy : 0 (a = y, b = dy);
 * op 2: y = a + b; op 3: y = a (a dtype conversion: the store rounds to y's dtype).
 * fmaxf(NaN, 0) would give 0: a NaN input stays NaN, as torch.relu does. */
__device__ __forceinline__ float apply(int op, float a, float b) {
    if (op == 0) return a > 0.0f ? a : (a != a ? a : 0.0f);
    if (op == 1) return a > 0.0f ? b : 0.0f;
    if (op == 3) return a;
    return a + b;
}

/* Not __restrict__: y may alias a or b (in place). */
__global__ void eltwise_vec4(int op, const float4 *a, const float4 *b, float4 *y, int64_t n4) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4;
         i += (int64_t)gridDim.x * blockDim.x) {
        const float4 va = a[i];
        const float4 vb = b ? b[i] : va;
        float4 r;
        r.x = apply(op, va.x, vb.x);
        r.y = apply(op, va.y, vb.y);
        r.z = apply(op, va.z, vb.z);
        r.w = apply(op, va.w, vb.w);
        y[i] = r;
    }
}

/* Not __restrict__: y may alias a or b (in place), and each element is read before it is
 * written by the same thread. */
__global__ void eltwise_scalar(int op, const void *a, int a16, const void *b, int b16, void *y,
                               int y16, int64_t start, int64_t n) {
    for (int64_t i = start + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const float va = nn_act_load(a, a16, i);
        const float vb = b ? nn_act_load(b, b16, i) : va;
        nn_act_store(y, y16, i, apply(op, va, vb));
    }
}

imbal_status eltwise(imbal_ctx *ctx, int op, const imbal_tensor *a, const imbal_tensor *b,
                     imbal_tensor *y) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(y->device.index));
    const int64_t n = imbal_tensor_numel(y);
    if (n == 0) return IMBAL_OK;
    const int a16 = a->dtype == IMBAL_BF16, b16 = b && b->dtype == IMBAL_BF16,
              y16 = y->dtype == IMBAL_BF16;
    int64_t done = 0;
    if (!a16 && !b16 && !y16 && aligned16(a->data) && (!b || aligned16(b->data)) &&
        aligned16(y->data) && n >= 4) {
        const int64_t n4 = n / 4;
        eltwise_vec4<<<grid_for(n4), kThreads>>>(
            op, (const float4 *)a->data, b ? (const float4 *)b->data : NULL, (float4 *)y->data, n4);
        IMBAL_CUDA_TRY(ctx, cudaGetLastError());
        done = n4 * 4;
    }
    if (done < n) {
        eltwise_scalar<<<grid_for(n - done), kThreads>>>(op, a->data, a16, b ? b->data : NULL, b16,
                                                         y->data, y16, done, n);
        IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    }
    return IMBAL_OK;
}

/* One warp per (n, c) row of H*W: lane l sums elements l, l+32, ... in order, then a fixed
 * butterfly; the same bits on every run. */
__global__ void avgpool_fwd(const void *x, int x16, void *y, int y16, int64_t rows, int64_t hw) {
    const int lane = threadIdx.x & 31;
    const int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
    for (int64_t r = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); r < rows;
         r += warps) {
        float acc = 0.0f;
        for (int64_t i = lane; i < hw; i += 32)
            acc += nn_act_load(x, x16, r * hw + i);
        for (int o = 16; o > 0; o >>= 1)
            acc += __shfl_xor_sync(0xffffffffu, acc, o);
        if (lane == 0) nn_act_store(y, y16, r, acc / (float)hw);
    }
}

__global__ void avgpool_bwd(const void *dy, int dy16, void *dx, int dx16, int64_t n, int64_t hw) {
    const float inv = 1.0f / (float)hw;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        nn_act_store(dx, dx16, i, nn_act_load(dy, dy16, i / hw) * inv);
}

} // namespace

extern "C" imbal_status imbal_nn_cuda_relu_forward(imbal_ctx *ctx, const imbal_tensor *x,
                                                   imbal_tensor *y) {
    return eltwise(ctx, 0, x, NULL, y);
}

extern "C" imbal_status imbal_nn_cuda_relu_backward(imbal_ctx *ctx, const imbal_tensor *y,
                                                    const imbal_tensor *dy, imbal_tensor *dx) {
    return eltwise(ctx, 1, y, dy, dx);
}

extern "C" imbal_status imbal_nn_cuda_add(imbal_ctx *ctx, const imbal_tensor *a,
                                          const imbal_tensor *b, imbal_tensor *y) {
    return eltwise(ctx, 2, a, b, y);
}

extern "C" imbal_status imbal_nn_cuda_cast(imbal_ctx *ctx, const imbal_tensor *src,
                                           imbal_tensor *dst) {
    return eltwise(ctx, 3, src, NULL, dst);
}

extern "C" imbal_status imbal_nn_cuda_avgpool_forward(imbal_ctx *ctx, const imbal_tensor *x,
                                                      imbal_tensor *y) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(x->device.index));
    const int64_t rows = x->shape[0] * x->shape[1], hw = x->shape[2] * x->shape[3];
    if (rows == 0) return IMBAL_OK;
    int64_t blocks = (rows + 7) / 8; /* 8 warps per block */
    if (blocks > 4096) blocks = 4096;
    avgpool_fwd<<<(int)blocks, kThreads>>>(x->data, x->dtype == IMBAL_BF16, y->data,
                                           y->dtype == IMBAL_BF16, rows, hw);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    return IMBAL_OK;
}

extern "C" imbal_status imbal_nn_cuda_avgpool_backward(imbal_ctx *ctx, const imbal_tensor *dy,
                                                       imbal_tensor *dx) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(dx->device.index));
    const int64_t n = imbal_tensor_numel(dx), hw = dx->shape[2] * dx->shape[3];
    if (n == 0) return IMBAL_OK;
    avgpool_bwd<<<grid_for(n), kThreads>>>(dy->data, dy->dtype == IMBAL_BF16, dx->data,
                                           dx->dtype == IMBAL_BF16, n, hw);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    return IMBAL_OK;
}
