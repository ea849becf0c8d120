/* imbal: cuBLAS and cuDNN handles held per context, one pair per CUDA device, created on first
 * use. A context is used by one thread at a time, so no locking; nothing is global. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdlib.h>

#include "cuda_internal.h"
#include "internal.h"

#define IMBAL_MAX_CUDA_DEVICES 64

typedef struct cuda_handles {
    cublasHandle_t blas[IMBAL_MAX_CUDA_DEVICES];
    cudnnHandle_t dnn[IMBAL_MAX_CUDA_DEVICES];
} cuda_handles;

static imbal_status handles_get(imbal_ctx *ctx, int device, cuda_handles **out) {
    *out = NULL;
    if (device < 0 || device >= IMBAL_MAX_CUDA_DEVICES)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "CUDA device %d: out of range 0..%d",
                          device, IMBAL_MAX_CUDA_DEVICES - 1);
    void **slot = imbal_ctx_cuda_handles_slot(ctx);
    if (!slot)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "CUDA library handles need a context");
    if (!*slot) {
        *slot = calloc(1, sizeof(cuda_handles));
        if (!*slot)
            return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "out of memory for CUDA handles");
    }
    *out = (cuda_handles *)*slot;
    return IMBAL_OK;
}

extern "C" imbal_status imbal_cuda_cublas(imbal_ctx *ctx, int device, void **handle) {
    cuda_handles *h;
    imbal_status st = handles_get(ctx, device, &h);
    if (st != IMBAL_OK) return st;
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    if (!h->blas[device]) {
        cublasStatus_t bs = cublasCreate(&h->blas[device]);
        if (bs != CUBLAS_STATUS_SUCCESS) {
            h->blas[device] = NULL;
            return imbal_fail(
                ctx,
                bs == CUBLAS_STATUS_ALLOC_FAILED ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY : IMBAL_ERR_CUDA,
                "cublasCreate on CUDA device %d failed: %s", device, cublasGetStatusString(bs));
        }
    }
    *handle = h->blas[device];
    return IMBAL_OK;
}

extern "C" imbal_status imbal_cuda_cudnn(imbal_ctx *ctx, int device, void **handle) {
    cuda_handles *h;
    imbal_status st = handles_get(ctx, device, &h);
    if (st != IMBAL_OK) return st;
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    if (!h->dnn[device]) {
        cudnnStatus_t ds = cudnnCreate(&h->dnn[device]);
        if (ds != CUDNN_STATUS_SUCCESS) {
            h->dnn[device] = NULL;
            return imbal_fail(ctx, IMBAL_ERR_CUDA, "cudnnCreate on CUDA device %d failed: %s",
                              device, cudnnGetErrorString(ds));
        }
    }
    *handle = h->dnn[device];
    return IMBAL_OK;
}

extern "C" void imbal_cuda_handles_free(void *handles) {
    cuda_handles *h = (cuda_handles *)handles;
    if (!h) return;
    for (int d = 0; d < IMBAL_MAX_CUDA_DEVICES; d++) {
        if (h->blas[d] || h->dnn[d]) {
            (void)cudaSetDevice(d);
            if (h->blas[d]) (void)cublasDestroy(h->blas[d]);
            if (h->dnn[d]) (void)cudnnDestroy(h->dnn[d]);
        }
    }
    free(h);
}
