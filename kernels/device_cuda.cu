/* imbal: CUDA device queries and memory, with every runtime call checked. */
#include <cuda_runtime.h>
#include <stdio.h>

#include "cuda_internal.h"
#include "internal.h"

extern "C" int imbal_cuda_count_devices(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

extern "C" imbal_status imbal_cuda_device_name(imbal_ctx *ctx, int index, char *buf, int buf_len) {
    cudaDeviceProp prop;
    IMBAL_CUDA_TRY(ctx, cudaGetDeviceProperties(&prop, index));
    snprintf(buf, (size_t)buf_len, "%s", prop.name);
    return IMBAL_OK;
}

extern "C" imbal_status imbal_cuda_malloc(imbal_ctx *ctx, int device, void **ptr, size_t bytes) {
    *ptr = NULL;
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    cudaError_t e = cudaMalloc(ptr, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        *ptr = NULL;
        return imbal_fail(
            ctx, e == cudaErrorMemoryAllocation ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY : IMBAL_ERR_CUDA,
            "cudaMalloc of %zu bytes on cuda:%d failed: %s%s", bytes, device, cudaGetErrorString(e),
            imbal_cuda_lost_note());
    }
    return IMBAL_OK;
}

extern "C" void imbal_cuda_free(int device, void *ptr) {
    if (!ptr) return;
    if (cudaSetDevice(device) == cudaSuccess) (void)cudaFree(ptr);
    (void)cudaGetLastError();
}

extern "C" imbal_status imbal_cuda_memcpy(imbal_ctx *ctx, int device, void *dst, const void *src,
                                          size_t bytes, int kind) {
    static const cudaMemcpyKind kinds[3] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost,
                                            cudaMemcpyDeviceToDevice};
    if (kind < 0 || kind > 2)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_cuda_memcpy: bad kind %d", kind);
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    IMBAL_CUDA_TRY(ctx, cudaMemcpy(dst, src, bytes, kinds[kind]));
    return IMBAL_OK;
}
