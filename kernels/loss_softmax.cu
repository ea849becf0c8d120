/* imbal: the fused softmax-family losses on CUDA (ce, focal, balanced-softmax, ldam): one kernel
 * reads each row of logits, computes the row's loss and writes its dlogits, and its last block
 * reduces the per-block partial losses in a fixed order. Formulas: docs/losses.md; launch
 * structure and thresholds: docs/loss-kernels.md.
 *
 * Every row is the same computation on z_c = a * x_c + bias_c - shift * [c == y]
 * (ce, focal: a = 1; balanced-softmax: bias_c = tau log prior_c; ldam: a = s, shift = s Delta_y),
 * and dL/dx_c = a * g * (a1 (p_c - [c == y]) + a2 (W p_c - w_c)), g the upstream gradient, with
 * a1, a2 the row coefficients of kernels/loss_math.cuh (a2 only with label smoothing). */
#include "loss_device.cuh"
#include "loss_math.cuh"

namespace loss_kernels {
namespace {

constexpr int kSmallThreads = 256; /* warp/group-per-row kernel */

struct RowInfo {
    int64_t y;
    bool ignored, valid;
    float wy, s, shift;
};

__device__ __forceinline__ RowInfo row_info(const SoftmaxArgs &a, int64_t row, bool leader) {
    RowInfo r;
    r.y = a.tgt64 ? static_cast<const int64_t *>(a.tgt)[row]
                  : (int64_t) static_cast<const int32_t *>(a.tgt)[row];
    r.ignored = r.y == a.ignore;
    r.valid = !r.ignored && r.y >= 0 && r.y < a.c;
    if (a.check && leader && !r.ignored && !r.valid)
        atomicMax(&a.hdr->bad_target, ~(unsigned long long)row);
    r.wy = (r.valid && a.cw) ? a.cw[r.y] : 1.0f;
    r.s = a.sw ? a.sw[row] : 1.0f;
    r.shift = (r.valid && a.delta) ? a.a * a.delta[r.y] : 0.0f;
    return r;
}

/* A padding row past n (its group or block still takes part in the reductions). */
__device__ __forceinline__ RowInfo inactive_row() {
    RowInfo r;
    r.y = -1;
    r.ignored = true;
    r.valid = false;
    r.wy = r.s = 1.0f;
    r.shift = 0.0f;
    return r;
}

/* z_c from the raw logit; flags NaN / +inf for check_finite. */
__device__ __forceinline__ float transform(const SoftmaxArgs &a, int64_t row, int64_t c, float xv,
                                           int64_t y, float shift) {
    if (a.check && !(xv < kInf)) flag_logit(a.hdr, xv, (unsigned long long)(row * a.c + c));
    float z = a.a * xv;
    if (a.bias) z += a.bias[c];
    if (c == y) z -= shift;
    return z;
}

/* The row's loss and gradient coefficients (kernels/loss_math.cuh), multiplied by a and the
 * upstream gradient gs; ignored rows give 0, rows with a target out of range NaN. */
template <bool FOCAL>
__device__ __forceinline__ RowOut row_out(const SoftmaxArgs &a, const RowInfo &r, float m, float S,
                                          float zy, float swz, float gs) {
    if (r.ignored) return RowOut{0.0f, 0.0f, 0.0f, 0.0f};
    if (!r.valid) {
        const float nan = __int_as_float(0x7fc00000);
        return RowOut{nan, nan, nan, nan};
    }
    const RowStats st{m, S, zy, swz};
    if (FOCAL) return focal_row(a.gamma, r.wy, r.s, st, gs * a.a);
    const float wsum = a.use_wsum ? a.hdr_in->wsum : a.w_total_host;
    return ce_row(a.eps, (float)a.c, wsum, r.wy, r.s, st, gs * a.a);
}

/* dL/dx_c from the row's coefficients and p_c. */
__device__ __forceinline__ float grad_of(const SoftmaxArgs &a, const RowOut &o, float p, int64_t c,
                                         int64_t y) {
    float g = o.a1 * (c == y ? p - 1.0f : p);
    if (o.a2 != 0.0f) g += o.a2 * (o.wsum * p - (a.cw ? a.cw[c] : 1.0f));
    return g;
}

__device__ __forceinline__ float grad_scale_of(const SoftmaxArgs &a) {
    return a.use_denom ? a.grad_scale / a.hdr_in->denom : a.grad_scale;
}

__device__ __forceinline__ void finish_loss(const SoftmaxArgs &a, float block_loss) {
    if (!a.loss || a.reduction == IMBAL_REDUCTION_NONE) return;
    double total;
    if (last_block_total(block_loss, a.partials, &a.hdr->main_done, &total) && threadIdx.x == 0)
        *a.loss = a.reduction == IMBAL_REDUCTION_MEAN ? (float)(total / (double)a.hdr_in->denom)
                                                      : (float)total;
}

/* Small C: a group of G lanes per row (G <= 32, 256 / G rows per block), K values per lane held in
 * registers, so the row is read once and written once; max, sum and sum w z by butterfly
 * shuffles. Lane l holds classes l, l + G, ..., which keeps the group's loads contiguous. */
template <typename T, int G, int K, bool FOCAL>
__global__ void __launch_bounds__(kSmallThreads, 2) softmax_small(SoftmaxArgs a) {
    constexpr int kRows = kSmallThreads / G;
    const int lane = (int)threadIdx.x % G;
    const int64_t row = (int64_t)blockIdx.x * kRows + (int)threadIdx.x / G;
    const bool active = row < a.n;
    const int64_t C = a.c;
    const int64_t r0 = active ? row : 0;
    const RowInfo ri = active ? row_info(a, r0, lane == 0) : inactive_row();
    const T *x = static_cast<const T *>(a.x) + r0 * C;
    const float gs = grad_scale_of(a);

    float zy = 0.0f;
    if (ri.valid) zy = a.a * load1(x + ri.y) + (a.bias ? a.bias[ri.y] : 0.0f) - ri.shift;

    float z[K];
    float mloc = -kInf;
#pragma unroll
    for (int k = 0; k < K; ++k) {
        const int64_t c = lane + (int64_t)k * G;
        z[k] = -kInf;
        if (active && c < C) z[k] = transform(a, r0, c, load1(x + c), ri.y, ri.shift);
        mloc = fmaxf(mloc, z[k]);
    }
    const float m = group_max<G>(mloc);
    float sloc = 0.0f, wzloc = 0.0f;
#pragma unroll
    for (int k = 0; k < K; ++k) {
        const int64_t c = lane + (int64_t)k * G;
        if (c < C) {
            sloc += expf(z[k] - m);
            if (!FOCAL && a.eps > 0.0f) wzloc += (a.cw ? a.cw[c] : 1.0f) * z[k];
        }
    }
    const float S = group_sum<G>(sloc);
    const float swz = (!FOCAL && a.eps > 0.0f) ? group_sum<G>(wzloc) : 0.0f;
    const RowOut o = row_out<FOCAL>(a, ri, m, S, zy, swz, gs);

    /* In place, every lane of the group read x[y] (zy above), which another lane of the group
     * overwrites below. The shuffles make the lanes meet but give no memory ordering; __syncwarp
     * does, so every read of the row happens before any store to it. (All 32 lanes get here.) */
    if (a.dx == a.x) __syncwarp();
    if (active && a.dx) {
        T *dx = static_cast<T *>(a.dx) + r0 * C;
        const float inv_s = 1.0f / S;
#pragma unroll
        for (int k = 0; k < K; ++k) {
            const int64_t c = lane + (int64_t)k * G;
            if (c < C) {
                float g = 0.0f;
                if (!ri.ignored) {
                    g = grad_of(a, o, expf(z[k] - m) * inv_s, c, ri.y);
                }
                store1_cs(dx + c, g);
            }
        }
    }
    const bool leader = active && lane == 0;
    if (leader && a.per_sample) a.per_sample[row] = o.loss;
    const float block_loss = block_sum<float>(leader ? o.loss : 0.0f);
    finish_loss(a, block_loss);
}

/* Large C: a block per row. Pass 1: online (max, sum) over the row with 128-bit loads on the
 * 16-byte-aligned body (scalar head and tail), then a block reduction (whose __syncthreads also
 * orders every read of the row before any in-place write). Pass 2 re-reads the row (an L2 hit
 * for rows in flight) and writes dlogits with streaming stores. */
template <typename T, bool FOCAL>
__global__ void __launch_bounds__(1024) softmax_large(SoftmaxArgs a) {
    constexpr int V = VecWidth<T>::value;
    const int64_t row = blockIdx.x;
    const int64_t C = a.c;
    const int tid = threadIdx.x, nt = blockDim.x;
    if (row >= a.n) { /* n = 0: one empty block still finishes the reduced loss */
        finish_loss(a, 0.0f);
        return;
    }
    const RowInfo ri = row_info(a, row, tid == 0);
    const T *x = static_cast<const T *>(a.x) + row * C;
    const float gs = grad_scale_of(a);
    const bool smooth = !FOCAL && a.eps > 0.0f;

    float zy = 0.0f;
    if (ri.valid) zy = a.a * load1(x + ri.y) + (a.bias ? a.bias[ri.y] : 0.0f) - ri.shift;

    int64_t head = (int64_t)(((16u - ((uintptr_t)x & 15u)) & 15u) / sizeof(T));
    if (head > C) head = C;
    const int64_t nvec = (C - head) / V;
    const int64_t tail = head + nvec * V;

    MaxSum st{-kInf, 0.0f};
    float wz = 0.0f;
    auto take = [&](int64_t c, float xv) {
        const float z = transform(a, row, c, xv, ri.y, ri.shift);
        maxsum_add(st, z);
        if (smooth) wz += (a.cw ? a.cw[c] : 1.0f) * z;
    };
    for (int64_t c = tid; c < head; c += nt)
        take(c, load1(x + c));
    for (int64_t v = tid; v < nvec; v += nt) {
        float xv[V];
        load_vec(x + head + v * V, xv);
#pragma unroll
        for (int i = 0; i < V; ++i)
            take(head + v * V + i, xv[i]);
    }
    for (int64_t c = tail + tid; c < C; c += nt)
        take(c, load1(x + c));

    const MaxSum rs = block_maxsum(st);
    const float swz = smooth ? block_sum<float>(wz) : 0.0f;
    const RowOut o = row_out<FOCAL>(a, ri, rs.m, rs.s, zy, swz, gs);

    if (a.dx) {
        T *dx = static_cast<T *>(a.dx) + row * C;
        const float m = rs.m, inv_s = 1.0f / rs.s;
        auto grad = [&](int64_t c, float xv) -> float {
            if (ri.ignored) return 0.0f;
            const float z = a.a * xv + (a.bias ? a.bias[c] : 0.0f) - (c == ri.y ? ri.shift : 0.0f);
            return grad_of(a, o, expf(z - m) * inv_s, c, ri.y);
        };
        for (int64_t c = tid; c < head; c += nt)
            store1_cs(dx + c, grad(c, load1(x + c)));
        for (int64_t v = tid; v < nvec; v += nt) {
            const int64_t c0 = head + v * V;
            float xv[V];
            load_vec(x + c0, xv);
#pragma unroll
            for (int i = 0; i < V; ++i)
                xv[i] = grad(c0 + i, xv[i]);
            if (a.vec_store) {
                store_vec_cs(dx + c0, xv);
            } else {
#pragma unroll
                for (int i = 0; i < V; ++i)
                    store1_cs(dx + c0 + i, xv[i]);
            }
        }
        for (int64_t c = tail + tid; c < C; c += nt)
            store1_cs(dx + c, grad(c, load1(x + c)));
    }
    if (tid == 0 && a.per_sample) a.per_sample[row] = o.loss;
    finish_loss(a, o.loss);
}

constexpr int64_t kSmallMaxC = 1024;

/* Lanes per row and values per lane for C <= kSmallMaxC: four values per lane up to C = 128 (a
 * group of C/4 lanes, several rows per warp), then a full warp with 8, 16 or 32 values per lane. */
struct SmallShape {
    int g, k;
};

SmallShape small_shape(int64_t c) {
    if (c <= 4) return {1, 4};
    if (c <= 8) return {2, 4};
    if (c <= 16) return {4, 4};
    if (c <= 32) return {8, 4};
    if (c <= 64) return {16, 4};
    if (c <= 128) return {32, 4};
    if (c <= 256) return {32, 8};
    if (c <= 512) return {32, 16};
    return {32, 32};
}

/* Threads per row for C > kSmallMaxC, from the row's bytes: at 2048 threads per SM, bigger blocks
 * mean fewer rows in flight, so the rows between their two reads (about 132 SMs x 2048 / threads x
 * row bytes) stay near 17-34 MB and the second read can hit L2 (50 MB on H100). */
int large_threads(int64_t c, size_t es) {
    const int64_t row_bytes = c * (int64_t)es;
    if (row_bytes > 32768) return 1024;
    if (row_bytes > 16384) return 512;
    if (row_bytes > 8192) return 256;
    return 128;
}

template <typename T, bool FOCAL> void launch_small(const SoftmaxArgs &a, int grid) {
    const SmallShape s = small_shape(a.c);
#define IMBAL_SMALL_CASE(G, K)                                                                     \
    if (s.g == G && s.k == K) {                                                                    \
        softmax_small<T, G, K, FOCAL><<<grid, kSmallThreads>>>(a);                                 \
        return;                                                                                    \
    }
    IMBAL_SMALL_CASE(1, 4)
    IMBAL_SMALL_CASE(2, 4)
    IMBAL_SMALL_CASE(4, 4)
    IMBAL_SMALL_CASE(8, 4)
    IMBAL_SMALL_CASE(16, 4)
    IMBAL_SMALL_CASE(32, 4)
    IMBAL_SMALL_CASE(32, 8)
    IMBAL_SMALL_CASE(32, 16)
    IMBAL_SMALL_CASE(32, 32)
#undef IMBAL_SMALL_CASE
}

template <typename T, bool FOCAL> void launch(const SoftmaxArgs &a) {
    const int grid = softmax_grid(a.n, a.c);
    if (a.c <= kSmallMaxC)
        launch_small<T, FOCAL>(a, grid);
    else
        softmax_large<T, FOCAL><<<grid, large_threads(a.c, sizeof(T))>>>(a);
}

template <typename T> void launch_kind(const SoftmaxArgs &a, int focal) {
    if (focal)
        launch<T, true>(a);
    else
        launch<T, false>(a);
}

} // namespace

int softmax_grid(int64_t n, int64_t c) {
    int64_t blocks = c <= kSmallMaxC ? (n + kSmallThreads / small_shape(c).g - 1) /
                                           (kSmallThreads / small_shape(c).g)
                                     : n;
    return blocks > 0 ? (int)blocks : 1;
}

cudaError_t softmax_launch(const SoftmaxArgs &a, imbal_dtype dtype, int focal) {
    switch (dtype) {
    case IMBAL_F16:
        launch_kind<__half>(a, focal);
        break;
    case IMBAL_BF16:
        launch_kind<__nv_bfloat16>(a, focal);
        break;
    default:
        launch_kind<float>(a, focal);
        break;
    }
    return cudaGetLastError();
}

} // namespace loss_kernels
