/* imbal: the elementwise sigmoid losses on CUDA (sigmoid-focal as torchvision.ops.
 * sigmoid_focal_loss, bce as BCEWithLogits with pos_weight), fused with their gradient. Each block
 * owns a fixed range of elements (128-bit loads when logits, targets and dlogits are 16-byte
 * aligned), writes dlogits with streaming stores and one partial loss; the last block reduces the
 * partials in a fixed order. Formulas: docs/losses.md; design: docs/loss-kernels.md. */
#include "loss_device.cuh"
#include "loss_math.cuh"

namespace loss_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kVecPerThread = 4; /* vectors per thread: a block owns kThreads * 4 * V elements */

__device__ __forceinline__ ElemOut elem(const SigmoidArgs &a, float x, float t, float w, float pw) {
    return sigmoid_elem(a.bce, a.gamma, a.alpha, x, t, w, pw);
}

template <typename T, bool VEC>
__global__ void __launch_bounds__(kThreads) sigmoid_loss(SigmoidArgs a) {
    constexpr int V = VEC ? VecWidth<T>::value : 1;
    constexpr int64_t kPerBlock = (int64_t)kThreads * kVecPerThread * V;
    const int64_t total = a.n * a.c;
    const int64_t begin = (int64_t)blockIdx.x * kPerBlock;
    const float gs =
        a.reduction == IMBAL_REDUCTION_MEAN ? a.grad_scale / (float)total : a.grad_scale;
    const T *x = static_cast<const T *>(a.x);
    const T *t = static_cast<const T *>(a.t);
    T *dx = static_cast<T *>(a.dx);
    float acc = 0.0f;
#pragma unroll
    for (int j = 0; j < kVecPerThread; ++j) {
        const int64_t i0 = begin + ((int64_t)j * kThreads + threadIdx.x) * V;
        if (i0 >= total) break;
        float xv[V], tv[V], gv[V];
        if (VEC && i0 + V <= total) {
            if constexpr (VEC) {
                load_vec(x + i0, xv);
                load_vec(t + i0, tv);
            }
        } else {
#pragma unroll
            for (int i = 0; i < V; ++i) {
                xv[i] = i0 + i < total ? load1(x + i0 + i) : 0.0f;
                tv[i] = i0 + i < total ? load1(t + i0 + i) : 0.0f;
            }
        }
        int64_t row = i0 / a.c, col = i0 - row * a.c;
#pragma unroll
        for (int i = 0; i < V; ++i) {
            gv[i] = 0.0f;
            if (i0 + i < total) {
                if (a.check && !(xv[i] < kInf))
                    flag_logit(a.hdr, xv[i], (unsigned long long)(i0 + i));
                if (a.check && !(tv[i] < kInf))
                    flag_target(a.hdr, tv[i], (unsigned long long)(i0 + i));
                const float w = (a.cw ? a.cw[col] : 1.0f) * (a.sw ? a.sw[row] : 1.0f);
                const ElemOut o = elem(a, xv[i], tv[i], w, a.pw ? a.pw[col] : 1.0f);
                acc += o.loss;
                gv[i] = o.grad * gs;
                if (a.per_sample) __stcs(a.per_sample + i0 + i, o.loss);
            }
            if (++col == a.c) {
                col = 0;
                ++row;
            }
        }
        if (dx) {
            if (VEC && i0 + V <= total) {
                if constexpr (VEC) store_vec_cs(dx + i0, gv);
            } else {
#pragma unroll
                for (int i = 0; i < V; ++i)
                    if (i0 + i < total) store1_cs(dx + i0 + i, gv[i]);
            }
        }
    }
    const float block_loss = block_sum<float>(acc);
    if (!a.loss || a.reduction == IMBAL_REDUCTION_NONE) return;
    double sum;
    if (last_block_total(block_loss, a.partials, &a.hdr->main_done, &sum) && threadIdx.x == 0)
        *a.loss = a.reduction == IMBAL_REDUCTION_MEAN ? (float)(sum / (double)total) : (float)sum;
}

bool aligned16(const void *p) {
    return p == nullptr || ((uintptr_t)p & 15u) == 0;
}

int grid_for(int64_t n, int64_t c, int v) {
    const int64_t per_block = (int64_t)kThreads * kVecPerThread * v;
    const int64_t blocks = (n * c + per_block - 1) / per_block;
    return blocks > 0 ? (int)blocks : 1;
}

template <typename T> void launch(const SigmoidArgs &a) {
    if (aligned16(a.x) && aligned16(a.t) && aligned16(a.dx))
        sigmoid_loss<T, true><<<grid_for(a.n, a.c, VecWidth<T>::value), kThreads>>>(a);
    else
        sigmoid_loss<T, false><<<grid_for(a.n, a.c, 1), kThreads>>>(a);
}

} // namespace

/* The most blocks either variant launches (the scalar one): the size of the partials. */
int sigmoid_grid(int64_t n, int64_t c) {
    return grid_for(n, c, 1);
}

cudaError_t sigmoid_launch(const SigmoidArgs &a, imbal_dtype dtype) {
    switch (dtype) {
    case IMBAL_F16:
        launch<__half>(a);
        break;
    case IMBAL_BF16:
        launch<__nv_bfloat16>(a);
        break;
    default:
        launch<float>(a);
        break;
    }
    return cudaGetLastError();
}

} // namespace loss_kernels
