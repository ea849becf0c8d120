/* imbal: the per-row (softmax kinds) and per-element (sigmoid kinds) loss maths of the CUDA twin,
 * as __host__ __device__ functions: the kernels call them on the device, and they compile on the
 * host too, so the formulas can be checked outside a GPU. Formulas: docs/losses.md. */
#ifndef IMBAL_LOSS_MATH_CUH
#define IMBAL_LOSS_MATH_CUH

#include <cuda_runtime.h>
#include <math.h>

namespace loss_kernels {

/* A softmax row's loss (with w_y and s_n, before the reduction) and its gradient
 * dL/dz_c = a1 (p_c - [c == y]) + a2 (wsum p_c - w_c), a1 and a2 already multiplied by `scale`
 * (the upstream gradient times dz/dx). Each bracket cancels on its own, so C = 1 gives exactly 0.
 */
struct RowOut {
    float loss, a1, a2, wsum;
};

/* Inputs: the row's max m, S = sum_c exp(z_c - m), z_y, swz = sum_c w_c (z_c - ref) (label
 * smoothing only) about a reference value ref of the row (m or z_y), wy = w_{y}, s = s_n, c = the
 * class count, wsum = sum_c w_c (c without class weights). Summing z_c - ref instead of z_c keeps
 * large logits (ldam's s = 30 scales them to ~100) from cancelling in W (m + log S) - sum w z: with
 * C = 1 the smoothing term is then exactly 0, not a few ulps of 100 (seen on the first H100 run).
 */
struct RowStats {
    float m, S, zy, swz, ref;
};

__host__ __device__ inline RowOut ce_row(float eps, float c, float wsum, float wy, float s,
                                         RowStats st, float scale) {
    const float log_s = logf(st.S);
    const float lpy = st.zy - st.m - log_s; /* log p_y */
    RowOut o;
    float loss = (1.0f - eps) * wy * (-lpy);
    /* -sum_c w_c log p_c = W lse - sum_c w_c z_c (PyTorch's weighted label smoothing) */
    if (eps > 0.0f) loss += (eps / c) * (wsum * ((st.m - st.ref) + log_s) - st.swz);
    o.loss = s * loss;
    o.a1 = s * (1.0f - eps) * wy * scale;
    o.a2 = s * eps / c * scale;
    o.wsum = wsum;
    return o;
}

/* Softmax focal loss -w_y (1 - p_y)^gamma log p_y (Lin et al. 2017). With u = 1 - p_y computed as
 * (S - e_y) / S and u^gamma = exp(gamma log u), the gradient is
 * w_y s u^gamma (1 + gamma p_y r) (p_c - [c == y]) with r = log1p(-u) / (-u) (= -log p_y / u),
 * finite as p_y -> 1 and for gamma < 1. */
__host__ __device__ inline RowOut focal_row(float gamma, float wy, float s, RowStats st,
                                            float scale) {
    const float log_s = logf(st.S);
    const float lpy = st.zy - st.m - log_s;
    const float ey = expf(st.zy - st.m), py = ey / st.S;
    const float u = fmaxf((st.S - ey) / st.S, 0.0f);
    const float ug = gamma == 0.0f ? 1.0f : (u > 0.0f ? expf(gamma * logf(u)) : 0.0f);
    float t; /* p_y * r */
    if (u <= 0.0f)
        t = py;
    else if (u < 1.0f)
        t = py * (log1pf(-u) / (-u));
    else /* u rounded to 1: r = -log p_y, taken from the log-space value */
        t = -py * lpy;
    RowOut o;
    o.loss = s * wy * ug * (-lpy);
    o.a1 = s * wy * ug * (gamma * t + 1.0f) * scale;
    o.a2 = 0.0f;
    o.wsum = 0.0f;
    return o;
}

struct ElemOut {
    float loss, grad;
};

/* One element of the sigmoid kinds: logit x, target t, weight w (class x sample weight), pos_weight
 * pw (bce). The gradient is dloss/dx (before the reduction's scale). */
__host__ __device__ inline ElemOut sigmoid_elem(int bce, float gamma, float alpha, float x, float t,
                                                float w, float pw) {
    /* sigmoid and its complement without cancellation; log1p(exp(-|x|)) */
    const float e = expf(-fabsf(x));
    const float inv = 1.0f / (1.0f + e);
    const float p = x >= 0.0f ? inv : e * inv;    /* sigma(x) */
    const float onem = x >= 0.0f ? e * inv : inv; /* 1 - sigma(x) */
    const float sp = log1pf(e);
    ElemOut o;
    if (bce) {
        /* PyTorch: (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)) */
        const float lw = 1.0f + (pw - 1.0f) * t;
        o.loss = w * ((1.0f - t) * x + lw * (sp + fmaxf(-x, 0.0f)));
        o.grad = w * ((1.0f - t) - lw * onem);
    } else {
        /* torchvision: ce (1 - p_t)^gamma alpha_t, ce = BCEWithLogits(x, t) */
        const float ce = fmaxf(x, 0.0f) - x * t + sp;
        const float q = p * (1.0f - t) + onem * t; /* 1 - p_t */
        /* q^gamma; gamma = 2 (the default) as q * q: no transcendental per element */
        const float mod = gamma == 0.0f   ? 1.0f
                          : gamma == 2.0f ? q * q
                          : q > 0.0f      ? expf(gamma * logf(q))
                                          : 0.0f;
        /* d/dx q^gamma = gamma q^(gamma-1) dq/dx, dq/dx = p (1 - p) (1 - 2t); at q = 0,
         * p (1 - p) = 0 and the term is 0 */
        const float dmod = (gamma == 0.0f || q <= 0.0f) ? 0.0f
                           : gamma == 2.0f              ? 2.0f * q
                                                        : gamma * mod / q;
        float l = ce * mod;
        float d = (p - t) * mod + ce * dmod * (p * onem * (1.0f - 2.0f * t));
        if (alpha >= 0.0f) {
            const float at = alpha * t + (1.0f - alpha) * (1.0f - t);
            l *= at;
            d *= at;
        }
        o.loss = w * l;
        o.grad = w * d;
    }
    return o;
}

} // namespace loss_kernels

#endif
