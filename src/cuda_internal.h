/* imbal: the host side's view of the CUDA translation units in kernels/. Only meaningful when the
 * library is built with IMBAL_WITH_CUDA; the CPU-only build never calls these. */
#ifndef IMBAL_CUDA_INTERNAL_H
#define IMBAL_CUDA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of devices that answer (0 on any error: no driver, no device). */
int imbal_cuda_count_devices(void);
imbal_status imbal_cuda_device_name(imbal_ctx *ctx, int index, char *buf, int buf_len);

/* Memory: each returns a status with CUDA's message on failure. */
imbal_status imbal_cuda_malloc(imbal_ctx *ctx, int device, void **ptr, size_t bytes);
void imbal_cuda_free(int device, void *ptr);
/* kind: 0 host->device, 1 device->host, 2 device->device (synchronous). */
imbal_status imbal_cuda_memcpy(imbal_ctx *ctx, int device, void *dst, const void *src, size_t bytes,
                               int kind);

/* The loader's pinned slots and asynchronous copies (kernels/loader_cuda.cu). stream and event
 * are a cudaStream_t (NULL = the default stream) and a cudaEvent_t. */
imbal_status imbal_cuda_host_alloc(imbal_ctx *ctx, void **ptr, size_t bytes);
void imbal_cuda_host_free(void *ptr);
imbal_status imbal_cuda_memcpy_async_h2d(imbal_ctx *ctx, int device, void *dst, const void *src,
                                         size_t bytes, void *stream);
imbal_status imbal_cuda_event_create(imbal_ctx *ctx, int device, void **event);
imbal_status imbal_cuda_event_record(imbal_ctx *ctx, void *event, void *stream);
imbal_status imbal_cuda_event_synchronize(imbal_ctx *ctx, void *event);
void imbal_cuda_event_destroy(void *event);

/* Library handles held per context (a context is used by one thread at a time), created on first
 * use for the device asked for and freed by imbal_ctx_destroy through imbal_cuda_handles_free
 * (kernels/cuda_handles.cu). *handle is a cublasHandle_t / cudnnHandle_t bound to the default
 * stream. */
imbal_status imbal_cuda_cublas(imbal_ctx *ctx, int device, void **handle);
imbal_status imbal_cuda_cudnn(imbal_ctx *ctx, int device, void **handle);
void imbal_cuda_handles_free(void *handles);
/* The context's slot for those handles (src/context.c). */
void **imbal_ctx_cuda_handles_slot(imbal_ctx *ctx);

#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
#include <cuda_runtime.h>

/* Call right after cudaGetLastError() has taken a failed call's error. Most CUDA errors are
 * cleared by that and the device stays usable; a sticky one (a kernel's illegal address, a
 * device-side assert) is not, and every later call of the process fails with it: then this
 * returns a note for the message saying so, else "". cudaPeekAtLastError() cannot tell (on an
 * H100 with CUDA 13 it said success after a kernel's illegal address had been taken), so this
 * asks the context: a synchronize fails again only when the error is sticky. */
static inline const char *imbal_cuda_lost_note(void) {
    const cudaError_t e = cudaDeviceSynchronize();
    (void)cudaGetLastError();
    return e != cudaSuccess
               ? "; the CUDA context is lost (a sticky error): this process can no longer use "
                 "the device"
               : "";
}
#endif

/* In .cu files: evaluates a cudaError_t expression and returns IMBAL_ERR_CUDA (or
 * IMBAL_ERR_DEVICE_OUT_OF_MEMORY) with the call's text, CUDA's message, file and line, and, when
 * the error is sticky, that the device can no longer be used by this process. */
#define IMBAL_CUDA_TRY(ctx, expr)                                                                  \
    do {                                                                                           \
        cudaError_t imbal_e_ = (expr);                                                             \
        if (imbal_e_ != cudaSuccess) {                                                             \
            (void)cudaGetLastError(); /* clear the error so the handle stays usable */             \
            return imbal_fail((ctx),                                                               \
                              imbal_e_ == cudaErrorMemoryAllocation                                \
                                  ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY                                 \
                                  : IMBAL_ERR_CUDA,                                                \
                              "%s failed: %s (%s:%d)%s", #expr, cudaGetErrorString(imbal_e_),      \
                              __FILE__, __LINE__, imbal_cuda_lost_note());                         \
        }                                                                                          \
    } while (0)

#endif
