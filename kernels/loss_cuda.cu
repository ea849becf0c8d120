/* imbal: the CUDA twin of imbal_loss (see imbal/loss.h, src/loss_internal.h). Launch structure
 * (docs/loss-kernels.md), all on the default stream, the host never waits unless check_finite:
 *   1. cudaMallocAsync one scratch buffer + cudaMemsetAsync of its header;
 *   2. softmax kinds that need it (mean, balanced-softmax, ldam, label smoothing with class
 *      weights): the pre-pass kernel, which reduces the weighted-mean denominator over the targets
 *      (per-block partials, summed in a fixed order by the last block) and fills the per-class
 *      tables (tau log prior, ldam margins, sum of class weights);
 *   3. the fused loss + dlogits kernel (kernels/loss_softmax.cu or kernels/loss_sigmoid.cu),
 *      whose last block reduces the per-block partial losses in a fixed order;
 *   4. check_finite only: one cudaMemcpy of the header back (the one synchronisation);
 *   5. cudaFreeAsync. */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "internal.h"
#include "loss_device.cuh"

namespace loss_kernels {
namespace {

constexpr int kPrepassThreads = 256;
constexpr int64_t kPrepassMaxBlocks = 256;

struct PrepassArgs {
    const void *tgt;
    int tgt64;
    const float *cw, *sw, *counts;
    int64_t ignore, n, c;
    int count_norm;        /* IMBAL_WEIGHT_NORM_COUNT */
    int kind;              /* balanced-softmax / ldam fill cls */
    float tau, max_margin; /* balanced-softmax, ldam */
    float *cls;            /* [c] table or NULL */
    double *partials;
    ScratchHeader *hdr;
};

int prepass_grid(int64_t n) {
    int64_t b = (n + kPrepassThreads * 4 - 1) / (kPrepassThreads * 4);
    if (b > kPrepassMaxBlocks) b = kPrepassMaxBlocks;
    return b > 0 ? (int)b : 1;
}

__device__ float block_min(float v) {
    __shared__ float part[32];
    __shared__ float total;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1)
        v = fminf(v, __shfl_xor_sync(0xffffffffu, v, o));
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < nwarps ? part[lane] : kInf;
        for (int o = 16; o > 0; o >>= 1)
            w = fminf(w, __shfl_xor_sync(0xffffffffu, w, o));
        if (lane == 0) total = w;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

/* The weighted-mean denominator: sum over non-ignored rows of w_{y_n} s_n (PyTorch) or their
 * count (Cui et al.). A row whose target is out of range counts with w = 1 (its own loss is NaN).
 * The grid depends on n only and each thread sums a fixed strided set in order, so the partials
 * and their fixed-order total are the same bits on every run. */
__global__ void __launch_bounds__(kPrepassThreads) loss_prepass(PrepassArgs a) {
    griddep_launch_dependents(); /* the fused kernel may start now; it waits before reading */
    double acc = 0.0;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.n; i += stride) {
        const int64_t y = a.tgt64 ? static_cast<const int64_t *>(a.tgt)[i]
                                  : (int64_t) static_cast<const int32_t *>(a.tgt)[i];
        if (y == a.ignore) continue;
        if (a.count_norm) {
            acc += 1.0;
        } else {
            const float w = (a.cw && y >= 0 && y < a.c) ? a.cw[y] : 1.0f;
            acc += (double)(w * (a.sw ? a.sw[i] : 1.0f));
        }
    }
    const double part = block_sum<double>(acc);
    double total;
    if (!last_block_total(part, a.partials, &a.hdr->prepass_done, &total)) return;
    if (threadIdx.x == 0) a.hdr->denom = (float)total;

    /* Per-class tables, by the last block alone (c is small next to n * c). */
    if (a.cw) {
        double ws = 0.0;
        for (int64_t c = threadIdx.x; c < a.c; c += blockDim.x)
            ws += (double)a.cw[c];
        ws = block_sum<double>(ws);
        if (threadIdx.x == 0) a.hdr->wsum = (float)ws;
    }
    if (!a.cls) return;
    double cnt = 0.0;
    float nmin = kInf;
    for (int64_t c = threadIdx.x; c < a.c; c += blockDim.x) {
        const float nc = a.counts[c];
        cnt += (double)nc;
        if (nc > 0.0f) nmin = fminf(nmin, nc);
    }
    cnt = block_sum<double>(cnt);
    nmin = block_min(nmin);
    for (int64_t c = threadIdx.x; c < a.c; c += blockDim.x) {
        const float nc = a.counts[c];
        if (a.kind == IMBAL_LOSS_BALANCED_SOFTMAX)
            /* tau log(n_c / N) (Ren et al. 2020; Menon et al. 2021); an empty class gets -inf
             * whatever tau (docs/losses.md, as the CPU twin): tau log 0 would be NaN at tau = 0
             * and +inf for tau < 0 */
            a.cls[c] = !(nc > 0.0f)    ? -kInf
                       : a.tau == 0.0f ? 0.0f
                                       : a.tau * logf((float)((double)nc / cnt));
        else
            /* Delta_c = m_max (n_min / n_c)^(1/4) (Cao et al. 2019); an empty class gets m_max,
             * as on the CPU (the reference code would divide by zero) */
            a.cls[c] = nc > 0.0f ? a.max_margin * powf(nmin / nc, 0.25f) : a.max_margin;
    }
}

size_t align256(size_t b) {
    return (b + 255) & ~(size_t)255;
}

struct Scratch {
    ScratchHeader *hdr;
    double *pre_partials;
    float *partials;
    float *cls;
};

/* The first NaN / +inf element of an [n, c] tensor from its two flags: the smaller key
 * (complements: the larger stored value) comes first in row-major order. */
imbal_status report_nonfinite(imbal_ctx *ctx, const imbal_loss_job *job, const char *name,
                              unsigned long long bad_nan, unsigned long long bad_inf) {
    if (!bad_nan && !bad_inf) return IMBAL_OK;
    const bool nan = bad_nan > bad_inf;
    const int64_t key = (int64_t) ~(nan ? bad_nan : bad_inf);
    return imbal_fail(ctx, IMBAL_ERR_DATA,
                      "imbal_loss: %s row %lld class %lld is %s (check_finite)", name,
                      (long long)(key / job->c), (long long)(key % job->c), nan ? "NaN" : "+inf");
}

imbal_status report_check(imbal_ctx *ctx, const imbal_loss_job *job, const ScratchHeader &h) {
    if (h.bad_target) {
        const int64_t row = (int64_t)~h.bad_target;
        int64_t y = 0;
        if (job->target_dtype == IMBAL_I64) {
            IMBAL_CUDA_TRY(ctx, cudaMemcpy(&y, static_cast<const int64_t *>(job->targets) + row,
                                           sizeof y, cudaMemcpyDeviceToHost));
        } else {
            int32_t y32 = 0;
            IMBAL_CUDA_TRY(ctx, cudaMemcpy(&y32, static_cast<const int32_t *>(job->targets) + row,
                                           sizeof y32, cudaMemcpyDeviceToHost));
            y = y32;
        }
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "imbal_loss: targets row %lld: class %lld is outside [0, %lld) and is "
                          "not ignore_index %lld",
                          (long long)row, (long long)y, (long long)job->c,
                          (long long)job->p.ignore_index);
    }
    /* Logits, then (sigmoid kinds) targets, as the CPU twin checks them. */
    imbal_status st = report_nonfinite(ctx, job, "logits", h.bad_nan, h.bad_inf);
    if (st != IMBAL_OK) return st;
    return report_nonfinite(ctx, job, "targets", h.bad_tnan, h.bad_tinf);
}

/* Programmatic dependent launch of the fused kernel after the pre-pass: on sm_90 and later,
 * unless IMBAL_LOSS_PDL=0 in the environment (a switch for measuring it, docs/loss-kernels.md). */
bool use_pdl(int device) {
    int major = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
        (void)cudaGetLastError();
        return false;
    }
    const char *env = getenv("IMBAL_LOSS_PDL");
    return major >= 9 && !(env && strcmp(env, "0") == 0);
}

imbal_status run(imbal_ctx *ctx, int device, const imbal_loss_job *job, const Scratch &s,
                 int pre_grid, bool prepass, bool cls_needed) {
    const imbal_loss_params &p = job->p;
    const bool softmax = imbal_loss_is_softmax(p.kind);
    IMBAL_CUDA_TRY(ctx, cudaMemsetAsync(s.hdr, 0, sizeof(ScratchHeader), 0));
    if (softmax) {
        if (prepass) {
            PrepassArgs pa{};
            pa.tgt = job->targets;
            pa.tgt64 = job->target_dtype == IMBAL_I64;
            pa.cw = job->class_weights;
            pa.sw = job->sample_weights;
            pa.counts = job->class_counts;
            pa.ignore = p.ignore_index;
            pa.n = job->n;
            pa.c = job->c;
            pa.count_norm = p.weight_norm == IMBAL_WEIGHT_NORM_COUNT;
            pa.kind = (int)p.kind;
            pa.tau = p.tau;
            pa.max_margin = p.ldam_max_margin;
            pa.cls = cls_needed ? s.cls : nullptr;
            pa.partials = s.pre_partials;
            pa.hdr = s.hdr;
            loss_prepass<<<pre_grid, kPrepassThreads>>>(pa);
            IMBAL_CUDA_TRY(ctx, cudaGetLastError());
        }
        SoftmaxArgs a{};
        a.x = job->logits;
        a.dx = job->dlogits;
        a.tgt = job->targets;
        a.tgt64 = job->target_dtype == IMBAL_I64;
        a.cw = job->class_weights;
        a.sw = job->sample_weights;
        a.bias = p.kind == IMBAL_LOSS_BALANCED_SOFTMAX ? s.cls : nullptr;
        a.delta = p.kind == IMBAL_LOSS_LDAM ? s.cls : nullptr;
        a.a = p.kind == IMBAL_LOSS_LDAM ? p.ldam_scale : 1.0f;
        a.eps = p.kind == IMBAL_LOSS_FOCAL ? 0.0f : p.label_smoothing;
        a.gamma = p.gamma;
        a.grad_scale = p.grad_scale;
        a.ignore = p.ignore_index;
        a.n = job->n;
        a.c = job->c;
        a.reduction = (int)p.reduction;
        a.check = p.check_finite != 0;
        const size_t es = job->dtype == IMBAL_F32 ? 4 : 2;
        a.vec_store = job->dlogits != nullptr &&
                      (((uintptr_t)job->dlogits - (uintptr_t)job->logits) % 16u) == 0 &&
                      ((uintptr_t)job->dlogits % es) == 0;
        a.w_total_host = (float)job->c;
        a.hdr_in = s.hdr;
        a.use_wsum = job->class_weights != nullptr && a.eps > 0.0f;
        a.use_denom = p.reduction == IMBAL_REDUCTION_MEAN;
        a.per_sample = job->per_sample;
        a.loss = job->loss;
        a.partials = s.partials;
        a.hdr = s.hdr;
        IMBAL_CUDA_TRY(ctx, softmax_launch(a, job->dtype, p.kind == IMBAL_LOSS_FOCAL,
                                           prepass && use_pdl(device)));
    } else {
        SigmoidArgs a{};
        a.x = job->logits;
        a.t = job->targets;
        a.dx = job->dlogits;
        a.cw = job->class_weights;
        a.sw = job->sample_weights;
        a.pw = p.kind == IMBAL_LOSS_BCE ? job->pos_weight : nullptr;
        a.gamma = p.gamma;
        a.alpha = p.alpha;
        a.grad_scale = p.grad_scale;
        a.bce = p.kind == IMBAL_LOSS_BCE;
        a.n = job->n;
        a.c = job->c;
        a.reduction = (int)p.reduction;
        a.check = p.check_finite != 0;
        a.per_sample = job->per_sample;
        a.loss = job->loss;
        a.partials = s.partials;
        a.hdr = s.hdr;
        IMBAL_CUDA_TRY(ctx, sigmoid_launch(a, job->dtype));
    }
    if (!p.check_finite) return IMBAL_OK;
    ScratchHeader h;
    IMBAL_CUDA_TRY(ctx, cudaMemcpy(&h, s.hdr, sizeof h, cudaMemcpyDeviceToHost));
    return report_check(ctx, job, h);
}

} // namespace
} // namespace loss_kernels

extern "C" imbal_status imbal_loss_cuda(imbal_ctx *ctx, int device, const imbal_loss_job *job) {
    using namespace loss_kernels;
    const imbal_loss_params &p = job->p;
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    if (job->c <= 0 || job->n < 0)
        return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "imbal_loss: cuda:%d got shape [%lld, %lld]",
                          device, (long long)job->n, (long long)job->c);
    const bool softmax = imbal_loss_is_softmax(p.kind);
    const bool cls_needed =
        softmax && (p.kind == IMBAL_LOSS_BALANCED_SOFTMAX || p.kind == IMBAL_LOSS_LDAM);
    const bool wsum_needed =
        softmax && job->class_weights && p.kind != IMBAL_LOSS_FOCAL && p.label_smoothing > 0.0f;
    const bool prepass =
        softmax && (p.reduction == IMBAL_REDUCTION_MEAN || cls_needed || wsum_needed);
    const int pre_grid = prepass ? prepass_grid(job->n) : 0;
    const int main_grid = softmax ? softmax_grid(job->n, job->c) : sigmoid_grid(job->n, job->c);

    const size_t off_pre = align256(sizeof(ScratchHeader));
    const size_t off_part = off_pre + align256(sizeof(double) * (size_t)pre_grid);
    const size_t off_cls = off_part + align256(sizeof(float) * (size_t)main_grid);
    const size_t bytes = off_cls + (cls_needed ? sizeof(float) * (size_t)job->c : 0);
    void *mem = nullptr;
    IMBAL_CUDA_TRY(ctx, cudaMallocAsync(&mem, bytes, 0));
    char *base = static_cast<char *>(mem);
    Scratch s;
    s.hdr = reinterpret_cast<ScratchHeader *>(base);
    s.pre_partials = reinterpret_cast<double *>(base + off_pre);
    s.partials = reinterpret_cast<float *>(base + off_part);
    s.cls = cls_needed ? reinterpret_cast<float *>(base + off_cls) : nullptr;
    imbal_status st = run(ctx, device, job, s, pre_grid, prepass, cls_needed);
    cudaError_t e = cudaFreeAsync(mem, 0);
    if (st == IMBAL_OK && e != cudaSuccess) IMBAL_CUDA_TRY(ctx, e);
    return st;
}
