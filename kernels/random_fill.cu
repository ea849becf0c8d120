/* imbal: CUDA twins of the random fills (see imbal/random_fill.h and src/random_fill.c).
 *
 * The pattern every CUDA op follows: the C dispatcher validates arguments and the device; the
 * twin here checks that the pointers belong to that device, launches a grid-stride kernel whose
 * result does not depend on the launch geometry, checks the launch with cudaGetLastError and
 * synchronises, each through IMBAL_CUDA_TRY so a failure is a status with CUDA's message. */
#include <cuda_runtime.h>

#include "cuda_internal.h"
#include "imbal/philox.h"
#include "internal.h"
#include "random_fill_cuda.h"

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536; /* grid-stride beyond this */

/* One thread per Philox block of four words, as the CPU twin. */
__global__ void uniform_fill_kernel(uint64_t seed, uint32_t epoch, uint32_t op, uint64_t first,
                                    uint64_t end, uint64_t b0, int64_t nblocks, float *out) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < nblocks; k += stride) {
        uint64_t b = b0 + (uint64_t)k;
        imbal_u32x4 r = imbal_philox_block(seed, epoch, b, op, 0);
#pragma unroll
        for (int w = 0; w < 4; ++w) {
            uint64_t j = b * 4 + (uint64_t)w;
            if (j >= first && j < end) out[j - first] = imbal_u32_to_unit_float(r.v[w]);
        }
    }
}

__global__ void normal_fill_kernel(uint64_t seed, uint32_t epoch, uint32_t op, uint64_t first,
                                   int64_t count, float *out) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) {
        uint64_t j = first + (uint64_t)i;
        imbal_u32x4 r = imbal_philox_block(seed, epoch, j / 2, op, 0);
        int w = (int)(j % 2) * 2;
        out[i] = imbal_box_muller(r.v[w], r.v[w + 1]);
    }
}

static int grid_for(int64_t items) {
    int64_t blocks = (items + kThreads - 1) / kThreads;
    return (int)(blocks < kMaxBlocks ? (blocks > 0 ? blocks : 1) : kMaxBlocks);
}

/* A host pointer handed to a kernel would fault the whole context: refuse it up front. */
imbal_status check_device_pointer(imbal_ctx *ctx, const char *fn, int device, const void *ptr) {
    cudaPointerAttributes attr;
    IMBAL_CUDA_TRY(ctx, cudaPointerGetAttributes(&attr, ptr));
    if (attr.type == cudaMemoryTypeManaged) return IMBAL_OK;
    if (attr.type != cudaMemoryTypeDevice)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: out is host memory but the device is cuda:%d (allocate it with "
                          "imbal_tensor_alloc on that device)",
                          fn, device);
    if (attr.device != device)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: out lives on cuda:%d but the device is cuda:%d", fn, attr.device,
                          device);
    return IMBAL_OK;
}

} // namespace

extern "C" imbal_status imbal_cuda_random_uniform_fill(imbal_ctx *ctx, int device, uint64_t seed,
                                                       uint32_t epoch, uint32_t op, uint64_t first,
                                                       int64_t count, float *out) {
    static const char fn[] = "imbal_random_uniform_fill";
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    imbal_status st = check_device_pointer(ctx, fn, device, out);
    if (st != IMBAL_OK) return st;
    uint64_t end = first + (uint64_t)count;
    uint64_t b0 = first / 4;
    int64_t nblocks = (int64_t)((end - 1) / 4 - b0 + 1);
    uniform_fill_kernel<<<grid_for(nblocks), kThreads>>>(seed, epoch, op, first, end, b0, nblocks,
                                                         out);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    IMBAL_CUDA_TRY(ctx, cudaDeviceSynchronize());
    return IMBAL_OK;
}

extern "C" imbal_status imbal_cuda_random_normal_fill(imbal_ctx *ctx, int device, uint64_t seed,
                                                      uint32_t epoch, uint32_t op, uint64_t first,
                                                      int64_t count, float *out) {
    static const char fn[] = "imbal_random_normal_fill";
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    imbal_status st = check_device_pointer(ctx, fn, device, out);
    if (st != IMBAL_OK) return st;
    normal_fill_kernel<<<grid_for(count), kThreads>>>(seed, epoch, op, first, count, out);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    IMBAL_CUDA_TRY(ctx, cudaDeviceSynchronize());
    return IMBAL_OK;
}
