/* imbal: the CUDA twin of the linear layer (imbal/nn.h) through cuBLAS, f32.
 *
 * cuBLAS is column-major; a row-major [r, c] matrix is, to cuBLAS, its transpose (c x r, ld c).
 * With x [N,in], w [out,in], y/dy [N,out], dx [N,in], dw [out,in] (all row-major):
 *   y  = x w^T   ->  y^T  (out x N) = (w^T)^T x^T : gemm(T, N, m=out, n=N,  k=in,  A=w lda=in,
 *                                                        B=x ldb=in, C=y ldc=out)
 *   dx = dy w    ->  dx^T (in x N)  = w^T dy^T    : gemm(N, N, m=in,  n=N,  k=out, A=w lda=in,
 *                                                        B=dy ldb=out, C=dx ldc=in)
 *   dw = dy^T x  ->  dw^T (in x out) = x^T dy     : gemm(N, T, m=in,  n=out, k=N,  A=x lda=in,
 *                                                        B=dy ldb=out, C=dw ldc=in)
 * The bias is added by a small kernel after the gemm, and db[o] = sum_n dy[n,o] is one thread per
 * o summing its column in row order (deterministic). The handle's math mode is set to
 * CUBLAS_DEFAULT_MATH before each call so Sgemm stays full f32 (no TF32), matching the CPU twin;
 * cuBLAS gives the same bits run after run on one stream and one GPU model. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda_internal.h"
#include "internal.h"
extern "C" {
#include "nn_internal.h" /* a C header without C++ guards */
}

namespace {

imbal_status blas_fail(imbal_ctx *ctx, cublasStatus_t s, const char *what, const char *file,
                       int line) {
    return imbal_fail(
        ctx, s == CUBLAS_STATUS_ALLOC_FAILED ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY : IMBAL_ERR_CUDA,
        "%s failed: %s (%s:%d)", what, cublasGetStatusString(s), file, line);
}

/* Evaluates a cublasStatus_t expression; on failure returns with cuBLAS's text. */
#define BLAS_TRY(ctx, expr)                                                                        \
    do {                                                                                           \
        cublasStatus_t blas_s_ = (expr);                                                           \
        if (blas_s_ != CUBLAS_STATUS_SUCCESS)                                                      \
            return blas_fail((ctx), blas_s_, #expr, __FILE__, __LINE__);                           \
    } while (0)

__global__ void add_bias(float *y, const float *__restrict__ b, int64_t rows, int64_t out) {
    const int64_t total = rows * out;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] += b[i % out];
}

__global__ void column_sums(const float *__restrict__ dy, float *__restrict__ db, int64_t rows,
                            int64_t out) {
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < out;
         o += (int64_t)gridDim.x * blockDim.x) {
        double s = 0.0;
        for (int64_t r = 0; r < rows; r++)
            s += (double)dy[r * out + o];
        db[o] = (float)s;
    }
}

int grid_for(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    if (b > 4096) b = 4096;
    return b > 0 ? (int)b : 1;
}

imbal_status get_handle(imbal_ctx *ctx, int device, cublasHandle_t *h) {
    void *hv = NULL;
    imbal_status st = imbal_cuda_cublas(ctx, device, &hv); /* also cudaSetDevice */
    if (st != IMBAL_OK) return st;
    *h = (cublasHandle_t)hv;
    BLAS_TRY(ctx, cublasSetStream(*h, 0));
    BLAS_TRY(ctx, cublasSetPointerMode(*h, CUBLAS_POINTER_MODE_HOST));
    BLAS_TRY(ctx, cublasSetMathMode(*h, CUBLAS_DEFAULT_MATH));
    return IMBAL_OK;
}

int dims_fit(int64_t a, int64_t b, int64_t c) {
    return a <= INT32_MAX && b <= INT32_MAX && c <= INT32_MAX;
}

} // namespace

extern "C" imbal_status imbal_nn_cuda_linear_forward(imbal_ctx *ctx, const imbal_tensor *x,
                                                     const imbal_tensor *w, const imbal_tensor *b,
                                                     imbal_tensor *y) {
    const int64_t rows = x->shape[0], in = x->shape[1], out = w->shape[0];
    if (!dims_fit(rows, in, out))
        return imbal_fail(
            ctx, IMBAL_ERR_UNSUPPORTED,
            "linear forward: x [%lld, %lld] / w [%lld, ...] exceed cuBLAS's int range",
            (long long)rows, (long long)in, (long long)out);
    cublasHandle_t h;
    imbal_status st = get_handle(ctx, x->device.index, &h);
    if (st != IMBAL_OK) return st;
    if (rows == 0 || out == 0) return IMBAL_OK;
    if (in == 0) {
        /* k = 0: an empty sum; cuBLAS would scale C by beta (0 * garbage may be NaN), so zero it.
         */
        IMBAL_CUDA_TRY(ctx, cudaMemsetAsync(y->data, 0, (size_t)(rows * out) * sizeof(float), 0));
    } else {
        const float one = 1.0f, zero = 0.0f;
        BLAS_TRY(ctx, cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)out, (int)rows, (int)in, &one,
                                  (const float *)w->data, (int)in, (const float *)x->data, (int)in,
                                  &zero, (float *)y->data, (int)out));
    }
    if (b) {
        add_bias<<<grid_for(rows * out, 256), 256>>>((float *)y->data, (const float *)b->data, rows,
                                                     out);
        IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    }
    return IMBAL_OK;
}

extern "C" imbal_status imbal_nn_cuda_linear_backward(imbal_ctx *ctx, const imbal_tensor *x,
                                                      const imbal_tensor *w, const imbal_tensor *dy,
                                                      imbal_tensor *dx, imbal_tensor *dw,
                                                      imbal_tensor *db) {
    const int64_t rows = x->shape[0], in = x->shape[1], out = w->shape[0];
    if (!dims_fit(rows, in, out))
        return imbal_fail(
            ctx, IMBAL_ERR_UNSUPPORTED,
            "linear backward: x [%lld, %lld] / w [%lld, ...] exceed cuBLAS's int range",
            (long long)rows, (long long)in, (long long)out);
    cublasHandle_t h;
    imbal_status st = get_handle(ctx, x->device.index, &h);
    if (st != IMBAL_OK) return st;
    const float one = 1.0f, zero = 0.0f;
    if (dx && rows > 0 && in > 0) {
        if (out == 0)
            IMBAL_CUDA_TRY(ctx,
                           cudaMemsetAsync(dx->data, 0, (size_t)(rows * in) * sizeof(float), 0));
        else
            BLAS_TRY(ctx,
                     cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)in, (int)rows, (int)out, &one,
                                 (const float *)w->data, (int)in, (const float *)dy->data, (int)out,
                                 &zero, (float *)dx->data, (int)in));
    }
    if (in > 0 && out > 0) {
        if (rows == 0)
            IMBAL_CUDA_TRY(ctx,
                           cudaMemsetAsync(dw->data, 0, (size_t)(out * in) * sizeof(float), 0));
        else
            BLAS_TRY(ctx,
                     cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, (int)in, (int)out, (int)rows, &one,
                                 (const float *)x->data, (int)in, (const float *)dy->data, (int)out,
                                 &zero, (float *)dw->data, (int)in));
    }
    if (db && out > 0) {
        column_sums<<<grid_for(out, 128), 128>>>((const float *)dy->data, (float *)db->data, rows,
                                                 out);
        IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    }
    return IMBAL_OK;
}
