/* imbal: random fills (see imbal/random_fill.h): argument checks, device dispatch and the CPU
 * twin. The CUDA twin is kernels/random_fill.cu; both compute element j from Philox alone. */
#include "imbal/random_fill.h"

#include <math.h>

#include "imbal/philox.h"
#include "internal.h"
#include "random_fill_cuda.h"

/* Below this many elements a parallel region costs more than it saves. */
#define FILL_PARALLEL_MIN 32768

static imbal_status check_args(imbal_ctx *ctx, const char *fn, imbal_device device, uint32_t op,
                               uint64_t first, int64_t count, const float *out, int per_block) {
    if (count < 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: count %lld is negative", fn,
                          (long long)count);
    if (op > 255)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: op %u is not below 256", fn, op);
    /* The Philox stream index (first + count) / per_block must stay below 2^56. */
    uint64_t limit = (UINT64_C(1) << 56) * (uint64_t)per_block;
    if (first > limit || (uint64_t)count > limit - first)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: first %llu + count %lld exceeds 2^%d elements", fn,
                          (unsigned long long)first, (long long)count, per_block == 4 ? 58 : 57);
    if (count > 0 && !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    return imbal_device_check(ctx, device);
}

static void uniform_cpu(int threads, uint64_t seed, uint32_t epoch, uint32_t op, uint64_t first,
                        int64_t count, float *out) {
    uint64_t end = first + (uint64_t)count;
    int64_t b0 = (int64_t)(first / 4), nblocks = (int64_t)((end - 1) / 4) - b0 + 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (count >= FILL_PARALLEL_MIN)
    for (int64_t k = 0; k < nblocks; ++k) {
        uint64_t b = (uint64_t)(b0 + k);
        imbal_u32x4 r = imbal_philox_block(seed, epoch, b, op, 0);
        for (int w = 0; w < 4; ++w) {
            uint64_t j = b * 4 + (uint64_t)w;
            if (j >= first && j < end) out[j - first] = imbal_u32_to_unit_float(r.v[w]);
        }
    }
}

static void normal_cpu(int threads, uint64_t seed, uint32_t epoch, uint32_t op, uint64_t first,
                       int64_t count, float *out) {
#pragma omp parallel for num_threads(threads) schedule(static) if (count >= FILL_PARALLEL_MIN)
    for (int64_t i = 0; i < count; ++i) {
        uint64_t j = first + (uint64_t)i;
        imbal_u32x4 r = imbal_philox_block(seed, epoch, j / 2, op, 0);
        int w = (int)(j % 2) * 2;
        out[i] = imbal_box_muller(r.v[w], r.v[w + 1]);
    }
}

/* The one route both fills take: validate, then the CPU twin or the CUDA kernel. `normal` picks
 * the distribution; a uniform uses 4 words of a Philox block per element group, a normal 2. */
static imbal_status fill(imbal_ctx *ctx, const char *name, int normal, imbal_device device,
                         uint64_t seed, uint32_t epoch, uint32_t op, uint64_t first, int64_t count,
                         float *out) {
    imbal_status st = check_args(ctx, name, device, op, first, count, out, normal ? 2 : 4);
    if (st != IMBAL_OK || count == 0) return st;
    if (device.kind == IMBAL_DEVICE_CPU) {
        int threads = imbal_ctx_omp_threads(ctx);
        if (normal)
            normal_cpu(threads, seed, epoch, op, first, count, out);
        else
            uniform_cpu(threads, seed, epoch, op, first, count, out);
        return IMBAL_OK;
    }
#ifdef IMBAL_WITH_CUDA
    return normal ? imbal_cuda_random_normal_fill(ctx, device.index, seed, epoch, op, first, count,
                                                  out)
                  : imbal_cuda_random_uniform_fill(ctx, device.index, seed, epoch, op, first, count,
                                                   out);
#else
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "%s: CUDA without CUDA", name);
#endif
}

imbal_status imbal_random_uniform_fill(imbal_ctx *ctx, imbal_device device, uint64_t seed,
                                       uint32_t epoch, uint32_t op, uint64_t first, int64_t count,
                                       float *out) {
    return fill(ctx, "imbal_random_uniform_fill", 0, device, seed, epoch, op, first, count, out);
}

imbal_status imbal_random_normal_fill(imbal_ctx *ctx, imbal_device device, uint64_t seed,
                                      uint32_t epoch, uint32_t op, uint64_t first, int64_t count,
                                      float *out) {
    return fill(ctx, "imbal_random_normal_fill", 1, device, seed, epoch, op, first, count, out);
}
