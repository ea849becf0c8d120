/* imbal: the CUDA twins of the optimizer steps (src/optim_internal.h): one grid-stride
 * element-wise kernel each on the default stream, in the CPU twin's operation order
 * (src/optim_cpu.c), launch checked, not synchronised. The dispatcher (src/optim.c) has
 * validated the arguments; here the pointers are checked to belong to the device. */
#include <cuda_runtime.h>

#include "cuda_internal.h"
#include "internal.h"
#include "optim_internal.h"

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;

int grid_for(int64_t n) {
    int64_t blocks = (n + kThreads - 1) / kThreads;
    return (int)(blocks < kMaxBlocks ? (blocks > 0 ? blocks : 1) : kMaxBlocks);
}

__global__ void sgd_kernel(int64_t n, float lr, float wd, float mom, int nesterov, float *p,
                           const float *g, float *b) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float d = __fadd_rn(g[i], __fmul_rn(wd, p[i]));
        if (b) {
            float nb = __fadd_rn(__fmul_rn(mom, b[i]), d);
            b[i] = nb;
            d = nesterov ? __fadd_rn(d, __fmul_rn(mom, nb)) : nb;
        }
        p[i] = __fsub_rn(p[i], __fmul_rn(lr, d));
    }
}

__global__ void adamw_kernel(imbal_adamw_job job) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < job.n; i += stride) {
        float gi = job.grad[i];
        float mi = __fadd_rn(__fmul_rn(job.beta1, job.m[i]), __fmul_rn(job.one_minus_beta1, gi));
        float vi = __fadd_rn(__fmul_rn(job.beta2, job.v[i]),
                             __fmul_rn(__fmul_rn(job.one_minus_beta2, gi), gi));
        job.m[i] = mi;
        job.v[i] = vi;
        float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), job.bc2_sqrt), job.eps);
        job.param[i] = __fsub_rn(__fmul_rn(job.param[i], job.decay),
                                 __fmul_rn(job.step_size, __fdiv_rn(mi, denom)));
    }
}

/* A host pointer handed to a kernel would fault the whole context: refuse it up front. */
imbal_status check_ptr(imbal_ctx *ctx, const char *fn, const char *name, int device,
                       const void *ptr) {
    cudaPointerAttributes attr;
    IMBAL_CUDA_TRY(ctx, cudaPointerGetAttributes(&attr, ptr));
    if (attr.type == cudaMemoryTypeManaged) return IMBAL_OK;
    if (attr.type != cudaMemoryTypeDevice)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: %s is host memory but the device is cuda:%d", fn, name, device);
    if (attr.device != device)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: %s lives on cuda:%d but the device is cuda:%d", fn, name,
                          attr.device, device);
    return IMBAL_OK;
}

} // namespace

extern "C" imbal_status imbal_sgd_cuda(imbal_ctx *ctx, int device, const imbal_sgd_job *job) {
    static const char fn[] = "imbal_sgd_step";
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    imbal_status st = check_ptr(ctx, fn, "param", device, job->param);
    if (st == IMBAL_OK) st = check_ptr(ctx, fn, "grad", device, job->grad);
    if (st == IMBAL_OK && job->buf) st = check_ptr(ctx, fn, "buf", device, job->buf);
    if (st != IMBAL_OK) return st;
    sgd_kernel<<<grid_for(job->n), kThreads>>>(job->n, job->lr, job->weight_decay, job->momentum,
                                               job->nesterov, job->param, job->grad, job->buf);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    return IMBAL_OK;
}

extern "C" imbal_status imbal_adamw_cuda(imbal_ctx *ctx, int device, const imbal_adamw_job *job) {
    static const char fn[] = "imbal_adamw_step";
    IMBAL_CUDA_TRY(ctx, cudaSetDevice(device));
    imbal_status st = check_ptr(ctx, fn, "param", device, job->param);
    if (st == IMBAL_OK) st = check_ptr(ctx, fn, "grad", device, job->grad);
    if (st == IMBAL_OK) st = check_ptr(ctx, fn, "m", device, job->m);
    if (st == IMBAL_OK) st = check_ptr(ctx, fn, "v", device, job->v);
    if (st != IMBAL_OK) return st;
    adamw_kernel<<<grid_for(job->n), kThreads>>>(*job);
    IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    return IMBAL_OK;
}
