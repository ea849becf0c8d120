/* imbal: the fused softmax-family losses on CUDA (ce, focal, balanced-softmax, ldam): one kernel
 * reads each row of logits, computes the row's loss and writes its dlogits, and its last block
 * reduces the per-block partial losses in a fixed order. Formulas: docs/losses.md; launch
 * structure and thresholds: docs/loss-kernels.md.
 *
 * Every row is the same computation on z_c = a * x_c + bias_c - shift * [c == y]
 * (ce, focal: a = 1; balanced-softmax: bias_c = tau log prior_c; ldam: a = s, shift = s Delta_y),
 * and dL/dx_c = a * g * (a1 (p_c - [c == y]) + a2 (W p_c - w_c)), g the upstream gradient, with
 * a1, a2 the row coefficients of kernels/loss_math.cuh (a2 only with label smoothing). */
#include <type_traits>

#include "loss_device.cuh"
#include "loss_math.cuh"

namespace loss_kernels {
namespace {

constexpr int kSmallThreads = 256; /* group-per-row kernel: the block size for groups <= 256 */

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

/* How a row's z_c is made from its logits x_c (loss_kernels header comment), so the common cases
 * skip the general per-element transform: PLAIN z = x (ce, focal); BIAS z = x + bias_c
 * (balanced-softmax); SCALE z = a x - shift [c == y] (ldam); GENERAL everything, with
 * check_finite and label smoothing. The gradient of every one but GENERAL is a1 (p_c - [c == y])
 * (a is folded into a1). */
enum Xf { XF_PLAIN = 0, XF_BIAS = 1, XF_SCALE = 2, XF_GENERAL = 3 };

Xf xf_of(const SoftmaxArgs &a) {
    if (a.check || a.eps > 0.0f) return XF_GENERAL;
    if (a.bias) return (a.a == 1.0f && !a.delta) ? XF_BIAS : XF_GENERAL;
    if (a.delta || a.a != 1.0f) return XF_SCALE;
    return XF_PLAIN;
}

/* z_y, loaded directly (the row pass may not hold it in this thread); 0 for a row without a valid
 * target. */
template <int XF, typename T>
__device__ __forceinline__ float target_z(const SoftmaxArgs &a, const T *x, const RowInfo &ri) {
    if (!ri.valid) return 0.0f;
    const float xv = load1(x + ri.y);
    if (XF == XF_PLAIN) return xv;
    if (XF == XF_BIAS) return xv + a.bias[ri.y];
    if (XF == XF_SCALE) return a.a * xv - ri.shift;
    return a.a * xv + (a.bias ? a.bias[ri.y] : 0.0f) - ri.shift;
}

/* The row's loss and gradient coefficients (kernels/loss_math.cuh), multiplied by a and the
 * upstream gradient gs; ignored rows give 0, rows with a target out of range NaN. */
template <bool FOCAL>
__device__ __forceinline__ RowOut row_out(const SoftmaxArgs &a, const RowInfo &r, float m, float S,
                                          float zy, float swz, float ref, float gs) {
    if (r.ignored) return RowOut{0.0f, 0.0f, 0.0f, 0.0f};
    if (!r.valid) {
        const float nan = __int_as_float(0x7fc00000);
        return RowOut{nan, nan, nan, nan};
    }
    const RowStats st{m, S, zy, swz, ref};
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

template <int XF>
__device__ __forceinline__ float grad_at(const SoftmaxArgs &a, const RowOut &o, float p, int c,
                                         int64_t y) {
    if (XF != XF_GENERAL) return o.a1 * (c == y ? p - 1.0f : p);
    return grad_of(a, o, p, c, y);
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

/* Over a group of G lanes (a power of two up to 1024, groups aligned in the block). G <= 32:
 * butterfly shuffles. G > 32: each warp reduces by shuffles, then every lane reads its group's
 * warp results from shared memory in index order, so all lanes get the same bits every run. The
 * __syncthreads also orders every read of the row before any in-place store of dlogits. */
struct MaxOp {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
    __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};

template <int G, typename Op> __device__ __forceinline__ float group_reduce(float v, float *red) {
    if constexpr (G <= 32) {
        return std::is_same<Op, MaxOp>::value ? group_max<G>(v) : group_sum<G>(v);
    } else {
        v = group_reduce<32, Op>(v, red);
        if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
        __syncthreads();
        const int first = (int)(threadIdx.x / G) * (G / 32);
        float r = red[first];
#pragma unroll
        for (int w = 1; w < G / 32; ++w)
            r = Op()(r, red[first + w]);
        __syncthreads();
        return r;
    }
}

template <int G> __device__ __forceinline__ float group_max_any(float v, float *red) {
    return group_reduce<G, MaxOp>(v, red);
}
template <int G> __device__ __forceinline__ float group_sum_any(float v, float *red) {
    return group_reduce<G, SumOp>(v, red);
}

/* Blocks for n rows at `rows` rows per block; one empty block for n = 0 (it still finishes the
 * reduced loss). */
inline int blocks_for(int64_t n, int64_t rows) {
    const int64_t blocks = (n + rows - 1) / rows;
    return blocks > 0 ? (int)blocks : 1;
}

__host__ __device__ constexpr int rows_threads(int g) {
    return g > kSmallThreads ? g : kSmallThreads;
}

/* C <= kRowsMaxC: a group of G lanes per row (rows_threads(G) / G rows per block), K values per
 * lane held in registers, so the row is read once and written once. VB > 0: lane l holds the
 * VB-byte vectors l, l + G, l + 2G, ... of the row (one 16-, 8- or 4-byte load and store per
 * V = VB / sizeof(T) values; needs every row aligned to VB bytes), VB = 0 the single values
 * l, l + G, ... Both keep the group's accesses contiguous. exp(z - m) is computed once, kept in
 * the registers, and reused for the gradient. With pdl the kernel was launched while the pre-pass
 * runs: it reads and reduces its rows first and waits for the denominator only then. */
template <typename T, int G, int K, int VB, bool FOCAL, int XF>
__global__ void __launch_bounds__(rows_threads(G)) softmax_rows(SoftmaxArgs a) {
    constexpr int kThreads = rows_threads(G);
    constexpr int kRows = kThreads / G;
    constexpr int V = VB > 0 ? VB / (int)sizeof(T) : 1;
    static_assert(V >= 1 && K % V == 0, "K must be a multiple of the vector width");
    constexpr int NV = K / V;
    __shared__ float red[kThreads / 32];
    const int lane = (int)threadIdx.x % G;
    const int64_t row = (int64_t)blockIdx.x * kRows + (int)threadIdx.x / G;
    const bool active = row < a.n;
    const int C = (int)a.c;
    const int64_t r0 = active ? row : 0;
    /* The per-class tables (balanced-softmax bias, ldam margins) come from the pre-pass too. */
    if (a.bias || a.delta) griddep_wait();
    const RowInfo ri = active ? row_info(a, r0, lane == 0) : inactive_row();
    const T *x = static_cast<const T *>(a.x) + r0 * a.c;
    const bool smooth = XF == XF_GENERAL && !FOCAL && a.eps > 0.0f;

    const float zy = target_z<XF>(a, x, ri);

    /* All loads first (independent, in flight together), then the transform. */
    float z[K];
#pragma unroll
    for (int j = 0; j < NV; ++j) {
        const int c0 = (j * G + lane) * V;
        if (active && c0 < C) {
            if constexpr (VB > 0) {
                float v[V];
                load_vec(x + c0, v);
#pragma unroll
                for (int i = 0; i < V; ++i)
                    z[j * V + i] = v[i];
            } else {
                z[j] = load1(x + c0);
            }
        }
    }
    float mloc = -kInf;
#pragma unroll
    for (int j = 0; j < NV; ++j) {
        const int c0 = (j * G + lane) * V;
        float bias[V];
        if constexpr (XF == XF_BIAS) {
            if (active && c0 < C) load_table(a.bias + c0, bias);
        }
#pragma unroll
        for (int i = 0; i < V; ++i) {
            float &v = z[j * V + i];
            if (!(active && c0 < C))
                v = -kInf;
            else if constexpr (XF == XF_BIAS)
                v += bias[i];
            else if constexpr (XF == XF_SCALE)
                v = a.a * v - (c0 + i == ri.y ? ri.shift : 0.0f);
            else if constexpr (XF == XF_GENERAL)
                v = transform(a, r0, c0 + i, v, ri.y, ri.shift);
            mloc = fmaxf(mloc, v);
        }
    }
    const float m = group_max_any<G>(mloc, red);
    float sloc = 0.0f, wzloc = 0.0f;
#pragma unroll
    for (int j = 0; j < NV; ++j) {
        const int c0 = (j * G + lane) * V;
#pragma unroll
        for (int i = 0; i < V; ++i) {
            float &v = z[j * V + i];
            if (active && c0 < C) {
                if (smooth) wzloc += (a.cw ? a.cw[c0 + i] : 1.0f) * (v - m);
                v = __expf(v - m); /* ex2.approx: ~2 ulp, far inside the CPU-twin tolerance */
                sloc += v;
            }
        }
    }
    const float S = group_sum_any<G>(sloc, red);
    const float swz = smooth ? group_sum_any<G>(wzloc, red) : 0.0f;
    griddep_wait();
    const RowOut o = row_out<FOCAL>(a, ri, m, S, zy, swz, m, grad_scale_of(a));

    /* In place with G <= 32, every lane of the group read x[y] (zy above), which another lane
     * overwrites below. The shuffles make the lanes meet but give no memory ordering; __syncwarp
     * does. (All 32 lanes get here; for G > 32 the __syncthreads above did it.) */
    if (G <= 32 && a.dx == a.x) __syncwarp();
    if (active && a.dx) {
        T *dx = static_cast<T *>(a.dx) + r0 * a.c;
        const float inv_s = 1.0f / S;
#pragma unroll
        for (int j = 0; j < NV; ++j) {
            const int c0 = (j * G + lane) * V;
            if (c0 < C) {
                float g[V];
#pragma unroll
                for (int i = 0; i < V; ++i)
                    g[i] =
                        ri.ignored ? 0.0f : grad_at<XF>(a, o, z[j * V + i] * inv_s, c0 + i, ri.y);
                if constexpr (VB > 0)
                    store_vec_cs(dx + c0, g);
                else
                    store1_cs(dx + c0, g[0]);
            }
        }
    }
    const bool leader = active && lane == 0;
    if (leader && a.per_sample) a.per_sample[row] = o.loss;
    const float block_loss = block_sum<float>(leader ? o.loss : 0.0f);
    finish_loss(a, block_loss);
}

/* C > kRowsMaxC, or rows past kScalarMaxC not aligned for a vector: a block per row. Pass 1:
 * online (max, sum) over the row with 128-bit loads on the 16-byte-aligned body (scalar head and
 * tail), then a block reduction (whose __syncthreads also orders every read of the row before any
 * in-place write). Pass 2 re-reads the row (an L2 hit for rows in flight) and writes dlogits with
 * streaming stores. */
template <typename T, bool FOCAL>
__global__ void __launch_bounds__(1024) softmax_large(SoftmaxArgs a) {
    constexpr int V = VecWidth<T>::value;
    const int64_t row = blockIdx.x;
    const int64_t C = a.c;
    const int tid = threadIdx.x, nt = blockDim.x;
    if (row >= a.n) { /* n = 0: one empty block still finishes the reduced loss */
        griddep_wait();
        finish_loss(a, 0.0f);
        return;
    }
    if (a.bias || a.delta) griddep_wait(); /* the per-class tables come from the pre-pass */
    const RowInfo ri = row_info(a, row, tid == 0);
    const T *x = static_cast<const T *>(a.x) + row * C;
    const bool smooth = !FOCAL && a.eps > 0.0f;

    const float zy = target_z<XF_GENERAL>(a, x, ri);

    int64_t head = (int64_t)(((16u - ((uintptr_t)x & 15u)) & 15u) / sizeof(T));
    if (head > C) head = C;
    const int64_t nvec = (C - head) / V;
    const int64_t tail = head + nvec * V;

    MaxSum st{-kInf, 0.0f};
    float wz = 0.0f;
    auto take = [&](int64_t c, float xv) {
        const float z = transform(a, row, c, xv, ri.y, ri.shift);
        maxsum_add(st, z);
        if (smooth) wz += (a.cw ? a.cw[c] : 1.0f) * (z - zy); /* about z_y: m is not known yet */
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
    griddep_wait();
    const RowOut o = row_out<FOCAL>(a, ri, rs.m, rs.s, zy, swz, zy, grad_scale_of(a));

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

constexpr int64_t kRowsMaxC = 32768;

/* Lanes per row G and values per lane K for C <= kRowsMaxC: four values per lane up to C = 128 (a
 * group of C/4 lanes, several rows per warp), a warp with 8 or 16 up to 512, then 16 values per
 * lane and as many lanes as the row needs (up to a 1024-thread block), 32 past C = 16384. Measured
 * on an H100 (docs/loss-kernels.md): this beat both a shared-memory row cache and the two-pass
 * kernel at C = 32000, although 32 values per lane spill some registers. */
struct RowsShape {
    int g, k;
};

RowsShape rows_shape(int64_t c) {
    if (c <= 4) return {1, 4};
    if (c <= 8) return {2, 4};
    if (c <= 16) return {4, 4};
    if (c <= 32) return {8, 4};
    if (c <= 64) return {16, 4};
    if (c <= 128) return {32, 4};
    if (c <= 256) return {32, 8};
    if (c <= 512) return {32, 16};
    if (c <= 1024) return {64, 16};
    if (c <= 2048) return {128, 16};
    if (c <= 4096) return {256, 16};
    if (c <= 8192) return {512, 16};
    if (c <= 16384) return {1024, 16};
    return {1024, 32};
}

/* Threads per row for the two-pass kernel, from the row's bytes: at 2048 threads per SM, bigger
 * blocks mean fewer rows in flight, so the rows between their two reads (about 132 SMs x 2048 /
 * threads x row bytes) stay near 17-34 MB and the second read can hit L2 (50 MB on H100). */
int large_threads(int64_t c, size_t es) {
    const int64_t row_bytes = c * (int64_t)es;
    if (row_bytes > 32768) return 1024;
    if (row_bytes > 16384) return 512;
    if (row_bytes > 8192) return 256;
    return 128;
}

/* The widest vector access (16, 8 or 4 bytes; 0: none) on which every row's logits and dlogits
 * start, so the register kernel can move whole words. */
template <typename T> int rows_align_bytes(const SoftmaxArgs &a) {
    const uintptr_t x = (uintptr_t)a.x, dx = (uintptr_t)a.dx;
    const int64_t row_bytes = a.c * (int64_t)sizeof(T);
    for (int b = 16; b >= 4; b /= 2)
        if (row_bytes % b == 0 && x % b == 0 && (!a.dx || dx % b == 0)) return b;
    return 0;
}

/* Rows that are not 16-byte aligned: single values for C <= kScalarMaxC; past it 8- or 4-byte
 * vectors in registers where the rows allow (C = 8142: f32 rows are 8-byte aligned, bf16 rows
 * 4-byte), else the two-pass kernel, whose scalar head and tail around a vector body measured
 * faster than single values in registers on an H100 (C = 8142: 0.25 ms f32 and 0.17 ms bf16,
 * against 0.28 and 0.29). */
constexpr int64_t kScalarMaxC = 1024;

/* One launch: with pdl, programmatic stream serialization, so the kernel may start while the
 * pre-pass before it still runs (it waits in griddep_wait). */
template <typename Kernel>
cudaError_t launch_main(Kernel kernel, int grid, int threads, bool pdl, const SoftmaxArgs &a) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3((unsigned)grid);
    cfg.blockDim = dim3((unsigned)threads);
    cfg.dynamicSmemBytes = 0;
    cfg.stream = 0;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = pdl ? 1 : 0;
    return cudaLaunchKernelEx(&cfg, kernel, a);
}

template <typename T, bool FOCAL> cudaError_t launch_large(const SoftmaxArgs &a, bool pdl) {
    return launch_main(softmax_large<T, FOCAL>, blocks_for(a.n, 1), large_threads(a.c, sizeof(T)),
                       pdl, a);
}

/* The register kernel with vectors of VB bytes (0: single values), by row transform. The
 * specialised transforms exist for vector rows of the non-focal kinds only (balanced-softmax and
 * ldam), to bound the number of kernels. */
template <typename T, int G, int K, int VB, bool FOCAL>
cudaError_t launch_rows(const SoftmaxArgs &a, bool pdl) {
    constexpr int threads = rows_threads(G);
    const int grid = blocks_for(a.n, threads / G);
    switch (xf_of(a)) {
    case XF_PLAIN:
        return launch_main(softmax_rows<T, G, K, VB, FOCAL, XF_PLAIN>, grid, threads, pdl, a);
    case XF_BIAS:
        if constexpr (VB > 0 && !FOCAL)
            return launch_main(softmax_rows<T, G, K, VB, FOCAL, XF_BIAS>, grid, threads, pdl, a);
        break;
    case XF_SCALE:
        if constexpr (VB > 0 && !FOCAL)
            return launch_main(softmax_rows<T, G, K, VB, FOCAL, XF_SCALE>, grid, threads, pdl, a);
        break;
    default:
        break;
    }
    return launch_main(softmax_rows<T, G, K, VB, FOCAL, XF_GENERAL>, grid, threads, pdl, a);
}

template <typename T, int G, int K, bool FOCAL>
cudaError_t launch_gk(const SoftmaxArgs &a, bool pdl) {
    constexpr int es = (int)sizeof(T);
    const int align = rows_align_bytes<T>(a);
    if constexpr (K % (16 / es) == 0) {
        if (align >= 16) return launch_rows<T, G, K, 16, FOCAL>(a, pdl);
    }
    if constexpr (G * K <= kScalarMaxC) {
        return launch_rows<T, G, K, 0, FOCAL>(a, pdl);
    } else {
        if (align >= 8) return launch_rows<T, G, K, 8, FOCAL>(a, pdl);
        if constexpr (es == 2) {
            if (align >= 4) return launch_rows<T, G, K, 4, FOCAL>(a, pdl);
        }
        return launch_large<T, FOCAL>(a, pdl);
    }
}

template <typename T, bool FOCAL> cudaError_t launch(const SoftmaxArgs &a, bool pdl) {
    const RowsShape s = rows_shape(a.c);
#define IMBAL_ROWS_CASE(G, K)                                                                      \
    if (s.g == G && s.k == K) return launch_gk<T, G, K, FOCAL>(a, pdl);
    if (a.c <= kRowsMaxC) {
        IMBAL_ROWS_CASE(1, 4)
        IMBAL_ROWS_CASE(2, 4)
        IMBAL_ROWS_CASE(4, 4)
        IMBAL_ROWS_CASE(8, 4)
        IMBAL_ROWS_CASE(16, 4)
        IMBAL_ROWS_CASE(32, 4)
        IMBAL_ROWS_CASE(32, 8)
        IMBAL_ROWS_CASE(32, 16)
        IMBAL_ROWS_CASE(64, 16)
        IMBAL_ROWS_CASE(128, 16)
        IMBAL_ROWS_CASE(256, 16)
        IMBAL_ROWS_CASE(512, 16)
        IMBAL_ROWS_CASE(1024, 16)
        IMBAL_ROWS_CASE(1024, 32)
    }
#undef IMBAL_ROWS_CASE
    return launch_large<T, FOCAL>(a, pdl);
}

template <typename T> cudaError_t launch_kind(const SoftmaxArgs &a, int focal, bool pdl) {
    return focal ? launch<T, true>(a, pdl) : launch<T, false>(a, pdl);
}

} // namespace

/* The most blocks the launch for [n, c] can use (the scratch holds one partial per block): the
 * register kernel's for C <= kScalarMaxC, else one per row (the two-pass kernel's, never fewer than
 * the register kernel's). */
int softmax_grid(int64_t n, int64_t c) {
    int64_t rows = 1;
    if (c <= kScalarMaxC) {
        const int g = rows_shape(c).g;
        rows = rows_threads(g) / g;
    }
    return blocks_for(n, rows);
}

cudaError_t softmax_launch(const SoftmaxArgs &a, imbal_dtype dtype, int focal, int pdl) {
    switch (dtype) {
    case IMBAL_F16:
        return launch_kind<__half>(a, focal, pdl != 0);
    case IMBAL_BF16:
        return launch_kind<__nv_bfloat16>(a, focal, pdl != 0);
    default:
        return launch_kind<float>(a, focal, pdl != 0);
    }
}

} // namespace loss_kernels
