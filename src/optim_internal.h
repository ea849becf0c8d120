/* imbal: the twins of the optimizer steps (imbal/optim.h). The dispatcher (src/optim.c) validates
 * the config, the tensors (f32, same shape, the call's device) and the scalars, then calls one of
 * these with raw pointers on that device and the per-call constants already folded. */
#ifndef IMBAL_OPTIM_INTERNAL_H
#define IMBAL_OPTIM_INTERNAL_H

#include <stdint.h>

#include "imbal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SGD: buf may be NULL only when momentum == 0. */
typedef struct imbal_sgd_job {
    int64_t n;
    float lr, weight_decay, momentum;
    int nesterov;
    float *param;
    const float *grad;
    float *buf;
} imbal_sgd_job;

/* AdamW, with PyTorch's scalars computed once in double and rounded to f32 as PyTorch does:
 * decay = 1 - lr * weight_decay, step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t). */
typedef struct imbal_adamw_job {
    int64_t n;
    float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps;
    float *param;
    const float *grad;
    float *m, *v;
} imbal_adamw_job;

void imbal_sgd_cpu(imbal_ctx *ctx, const imbal_sgd_job *job);
void imbal_adamw_cpu(imbal_ctx *ctx, const imbal_adamw_job *job);
#ifdef IMBAL_WITH_CUDA
imbal_status imbal_sgd_cuda(imbal_ctx *ctx, int device, const imbal_sgd_job *job);
imbal_status imbal_adamw_cuda(imbal_ctx *ctx, int device, const imbal_adamw_job *job);
#endif

#ifdef __cplusplus
}
#endif

#endif
