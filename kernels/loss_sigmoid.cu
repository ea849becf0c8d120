/* imbal: the elementwise sigmoid losses on CUDA (sigmoid-focal as torchvision.ops.
 * sigmoid_focal_loss, bce as BCEWithLogits with pos_weight), fused with their gradient. Each block
 * owns a fixed range of elements (128-bit loads when logits, targets and dlogits are 16-byte
 * aligned), writes dlogits with streaming stores and one partial loss; the last block reduces the
 * partials in a fixed order. Formulas: docs/losses.md; design: docs/loss-kernels.md. */
#include "loss_device.cuh"

namespace loss_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kVecPerThread = 4; /* vectors per thread: a block owns kThreads * 4 * V elements */

struct ElemOut {
    float loss, grad;
};

/* One element: logit x, target t, weight w (class weight x sample weight), pos_weight pw. */
__device__ __forceinline__ ElemOut elem(const SigmoidArgs &a, float x, float t, float w, float pw) {
    /* sigmoid and its complement without cancellation; softplus(-|x|) = log1p(exp(-|x|)) */
    const float e = expf(-fabsf(x));
    const float inv = 1.0f / (1.0f + e);
    const float p = x >= 0.0f ? inv : e * inv;    /* sigma(x) */
    const float onem = x >= 0.0f ? e * inv : inv; /* 1 - sigma(x) */
    const float sp = log1pf(e);
    ElemOut o;
    if (a.bce) {
        /* PyTorch: (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)) */
        const float lw = 1.0f + (pw - 1.0f) * t;
        o.loss = w * ((1.0f - t) * x + lw * (sp + fmaxf(-x, 0.0f)));
        o.grad = w * ((1.0f - t) - lw * onem);
    } else {
        /* torchvision: ce * (1 - p_t)^gamma * alpha_t, ce = BCEWithLogits(x, t) */
        const float ce = fmaxf(x, 0.0f) - x * t + sp;
        const float q = p * (1.0f - t) + onem * t; /* 1 - p_t */
        const float g = a.gamma;
        const float mod = g == 0.0f ? 1.0f : (q > 0.0f ? expf(g * logf(q)) : 0.0f);
        /* d/dx q^g = g q^(g-1) dq/dx with dq/dx = p (1 - p) (1 - 2t); at q = 0, p (1 - p) = 0 */
        const float dmod = (g == 0.0f || q <= 0.0f) ? 0.0f : g * mod / q;
        float l = ce * mod;
        float d = (p - t) * mod + ce * dmod * (p * onem * (1.0f - 2.0f * t));
        if (a.alpha >= 0.0f) {
            const float at = a.alpha * t + (1.0f - a.alpha) * (1.0f - t);
            l *= at;
            d *= at;
        }
        o.loss = w * l;
        o.grad = w * d;
    }
    return o;
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
                    atomicMax(&a.hdr->bad_logit, ~(unsigned long long)(i0 + i));
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
