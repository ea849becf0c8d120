/* imbal: the validated description of one loss call, shared by the dispatcher (src/loss.c), the
 * CPU twin (src/loss_cpu*.c) and the CUDA twin (kernels/loss*.cu). Every pointer is on the call's
 * device; absent optional inputs are NULL. */
#ifndef IMBAL_LOSS_INTERNAL_H
#define IMBAL_LOSS_INTERNAL_H

#include <stdint.h>

#include "imbal/loss.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imbal_loss_job {
    imbal_loss_params p;
    int64_t n, c;
    imbal_dtype dtype;        /* of logits, dlogits and sigmoid targets: f32 | f16 | bf16 */
    const void *logits;       /* [n, c] */
    const void *targets;      /* softmax kinds: [n] of target_dtype; sigmoid kinds: [n, c] dtype */
    imbal_dtype target_dtype; /* i32 | i64 for softmax kinds, == dtype for sigmoid kinds */
    const float *class_weights;  /* [c] or NULL */
    const float *sample_weights; /* [n] or NULL */
    const float *class_counts;   /* [c] or NULL (required by balanced-softmax, ldam) */
    const float *pos_weight;     /* [c] or NULL (bce) */
    float *loss;                 /* 1 float or NULL */
    float *per_sample;           /* [n] (softmax) or [n, c] (sigmoid), or NULL */
    void *dlogits;               /* [n, c] of dtype, or NULL; may equal logits */
} imbal_loss_job;

/* 1 for the kinds whose targets are class indices (ce, focal, balanced-softmax, ldam). */
static inline int imbal_loss_is_softmax(imbal_loss_kind k) {
    return k == IMBAL_LOSS_CE || k == IMBAL_LOSS_FOCAL || k == IMBAL_LOSS_BALANCED_SOFTMAX ||
           k == IMBAL_LOSS_LDAM;
}

/* The two twins. Both assume the job was validated by imbal_loss. */
imbal_status imbal_loss_cpu(imbal_ctx *ctx, const imbal_loss_job *job);
#ifdef IMBAL_WITH_CUDA
imbal_status imbal_loss_cuda(imbal_ctx *ctx, int device, const imbal_loss_job *job);
#endif

#ifdef __cplusplus
}
#endif

#endif
