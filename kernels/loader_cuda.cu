/* imbal: the loader's host-side CUDA calls: pinned slot memory, asynchronous host-to-device
 * copies and the events that tell when a slot's copy has completed. No kernels. */
#include <cuda_runtime.h>

#include "cuda_internal.h"
#include "internal.h"

extern "C" imbal_status imbal_cuda_host_alloc(imbal_ctx *ctx, void **ptr, size_t bytes) {
    *ptr = NULL;
    cudaError_t e = cudaHostAlloc(ptr, bytes ? bytes : 1, cudaHostAllocPortable);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        *ptr = NULL;
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "cudaHostAlloc of %zu pinned bytes failed: %s", bytes,
                          cudaGetErrorString(e));
    }
    return IMBAL_OK;
}

extern "C" void imbal_cuda_host_free(void *ptr) {
    if (ptr) (void)cudaFreeHost(ptr);
    (void)cudaGetLastError();
}

extern "C" imbal_status imbal_cuda_memcpy_async_h2d(imbal_ctx *ctx, int device, void *dst,
                                                    const void *src, size_t bytes, void *stream) {
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    IMBAL_CUDA_TRY(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice,
                                        (cudaStream_t)stream));
    return IMBAL_OK;
}

extern "C" imbal_status imbal_cuda_event_create(imbal_ctx *ctx, int device, void **event) {
    *event = NULL;
    cudaEvent_t ev;
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    IMBAL_CUDA_TRY(ctx, cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
    *event = (void *)ev;
    return IMBAL_OK;
}

extern "C" imbal_status imbal_cuda_event_record(imbal_ctx *ctx, void *event, void *stream) {
    IMBAL_CUDA_TRY(ctx, cudaEventRecord((cudaEvent_t)event, (cudaStream_t)stream));
    return IMBAL_OK;
}

extern "C" imbal_status imbal_cuda_event_synchronize(imbal_ctx *ctx, void *event) {
    IMBAL_CUDA_TRY(ctx, cudaEventSynchronize((cudaEvent_t)event));
    return IMBAL_OK;
}

extern "C" void imbal_cuda_event_destroy(void *event) {
    if (event) (void)cudaEventDestroy((cudaEvent_t)event);
    (void)cudaGetLastError();
}
