/* imbal: the fused random augmentation kernel (imbal/pipeline.h): geometry, flip, rotation,
 * colour jitter and normalisation of a whole batch in one launch, one block per image.
 *
 * Thread 0 draws the image's parameters (src/augment_params.h, the same function as the CPU twin)
 * into shared memory; when the jitter includes contrast, a first pass sums the uint8 gray values
 * of the image as the contrast op sees it (an integer sum: exact and independent of the launch
 * geometry), then the second pass runs the whole per-pixel chain (src/augment_pixel.h) and writes
 * uint8 NHWC or float32 / bf16 NCHW planes (consecutive threads, consecutive pixels). */
#include <cuda_runtime.h>

#include "augment_params.h"
#include "augment_pipeline_internal.h"
#include "augment_pixel.h"
#include "cuda_internal.h"
#include "imbal/half.h"
#include "internal.h"

namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    augment_kernel(imbal_aug_pipeline p, const float *strength, const uint8_t *images, int H,
                   int W, const int64_t *keys, const int32_t *labels, uint64_t seed,
                   uint32_t epoch, void *out) {
    __shared__ imbal_aug_plan plan;
    __shared__ unsigned long long gray_sum;
    const int64_t i = blockIdx.x;
    const uint8_t *src = images + (size_t)i * (size_t)H * (size_t)W * 3;
    if (threadIdx.x == 0) {
        imbal_aug_params q;
        imbal_aug_draw_hd(&p, strength, p.num_classes, H, W, seed, epoch, keys[i],
                          labels ? labels[i] : 0, &q);
        imbal_aug_plan_make(&p, &q, H, W, &plan);
        gray_sum = 0;
    }
    __syncthreads();
    const int oh = p.out_height, ow = p.out_width;
    const int npx = oh * ow;
    imbal_aug_plan pl = plan; /* a private copy: registers / local memory, no bank traffic */
    if (pl.contrast_pos >= 0) {
        unsigned long long sum = 0;
        for (int k = threadIdx.x; k < npx; k += kThreads) {
            uint8_t rgb[3];
            imbal_px_chain(&pl, src, k / ow, k % ow, pl.contrast_pos, rgb);
            sum += imbal_px_gray(rgb);
        }
        /* warp reduction, then one shared atomic per warp: integers, so the order is irrelevant */
        for (int off = 16; off > 0; off /= 2)
            sum += __shfl_down_sync(0xFFFFFFFFu, sum, off);
        if ((threadIdx.x & 31) == 0) atomicAdd(&gray_sum, sum);
        __syncthreads();
        pl.mean = imbal_px_mean(gray_sum, npx);
    }
    if (p.output == IMBAL_AUG_OUT_U8_NHWC) {
        uint8_t *o = (uint8_t *)out + (size_t)i * (size_t)npx * 3;
        for (int k = threadIdx.x; k < npx; k += kThreads) {
            uint8_t rgb[3];
            imbal_px_chain(&pl, src, k / ow, k % ow, pl.num_jitter, rgb);
            o[(size_t)k * 3] = rgb[0], o[(size_t)k * 3 + 1] = rgb[1], o[(size_t)k * 3 + 2] = rgb[2];
        }
        return;
    }
    const size_t base = (size_t)i * 3 * (size_t)npx;
    for (int k = threadIdx.x; k < npx; k += kThreads) {
        uint8_t rgb[3];
        imbal_px_chain(&pl, src, k / ow, k % ow, pl.num_jitter, rgb);
        float v[3];
        for (int c = 0; c < 3; ++c)
            v[c] = imbal_px_normalize(rgb[c], p.mean[c], p.std[c]);
        if (p.output == IMBAL_AUG_OUT_F32_NCHW) {
            float *o = (float *)out + base + k;
            o[0] = v[0], o[npx] = v[1], o[2 * (size_t)npx] = v[2];
        } else {
            uint16_t *o = (uint16_t *)out + base + k;
            o[0] = imbal_f32_to_bf16(v[0]), o[npx] = imbal_f32_to_bf16(v[1]);
            o[2 * (size_t)npx] = imbal_f32_to_bf16(v[2]);
        }
    }
}

/* A host pointer handed to a kernel would fault the whole context: refuse it up front. */
imbal_status check_device_pointer(imbal_ctx *ctx, int device, const char *what, const void *ptr) {
    if (!ptr) return IMBAL_OK;
    cudaPointerAttributes attr;
    IMBAL_CUDA_TRY(ctx, cudaPointerGetAttributes(&attr, ptr));
    if (attr.type == cudaMemoryTypeManaged) return IMBAL_OK;
    if (attr.type != cudaMemoryTypeDevice)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_augment_batch: %s is host memory but the device is cuda:%d",
                          what, device);
    if (attr.device != device)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_augment_batch: %s lives on cuda:%d but the device is cuda:%d",
                          what, attr.device, device);
    return IMBAL_OK;
}

} // namespace

extern "C" imbal_status imbal_cuda_augment_batch(imbal_ctx *ctx, int device,
                                                 const imbal_aug_pipeline *p,
                                                 const uint8_t *images, int n, int in_height,
                                                 int in_width, const int64_t *keys,
                                                 const int32_t *labels, uint64_t seed,
                                                 uint32_t epoch, void *out, void *stream) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    imbal_status st;
    if ((st = check_device_pointer(ctx, device, "images", images)) != IMBAL_OK ||
        (st = check_device_pointer(ctx, device, "keys", keys)) != IMBAL_OK ||
        (st = check_device_pointer(ctx, device, "labels", labels)) != IMBAL_OK ||
        (st = check_device_pointer(ctx, device, "out", out)) != IMBAL_OK)
        return st;
    if ((int64_t)p->out_height * p->out_width > (int64_t)1 << 30)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_augment_batch: output %d x %d is too large for the kernel",
                          p->out_height, p->out_width);
    cudaStream_t s = (cudaStream_t)stream;
    float *strength = NULL;
    if (p->class_strength) {
        size_t bytes = sizeof(float) * (size_t)p->num_classes;
        IMBAL_CUDA_TRY(ctx, cudaMallocAsync((void **)&strength, bytes, s));
        cudaError_t e = cudaMemcpyAsync(strength, p->class_strength, bytes,
                                        cudaMemcpyHostToDevice, s);
        if (e != cudaSuccess) {
            (void)cudaFreeAsync(strength, s);
            IMBAL_CUDA_TRY(ctx, e);
        }
    }
    imbal_aug_pipeline dp = *p;
    dp.class_strength = NULL; /* the kernel gets the device copy as `strength` */
    augment_kernel<<<n, kThreads, 0, s>>>(dp, strength, images, in_height, in_width, keys,
                                          labels, seed, epoch, out);
    cudaError_t launch = cudaGetLastError();
    if (strength) IMBAL_CUDA_TRY(ctx, cudaFreeAsync(strength, s));
    IMBAL_CUDA_TRY(ctx, launch);
    return IMBAL_OK;
}
