/* imbal: the two twins of imbal_augment_batch (src/augment_pipeline.c checks the arguments and
 * dispatches): the CPU twin (src/augment_pipeline_cpu.c) and the fused CUDA kernel
 * (kernels/augment_pipeline.cu). Not installed. */
#ifndef IMBAL_AUGMENT_PIPELINE_INTERNAL_H
#define IMBAL_AUGMENT_PIPELINE_INTERNAL_H

#include <stdint.h>

#include "imbal/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The CPU twin: host pointers, arguments already checked. OpenMP over images (the context's
 * thread count); fails only when a per-thread scratch image cannot be allocated. */
imbal_status imbal_augment_batch_cpu(imbal_ctx *ctx, const imbal_aug_pipeline *p,
                                     const uint8_t *images, int n, int in_height, int in_width,
                                     const int64_t *keys, const int32_t *labels, uint64_t seed,
                                     uint32_t epoch, void *out);

/* The CUDA twin: device pointers, arguments already checked; launches on `stream` without
 * synchronising. */
imbal_status imbal_cuda_augment_batch(imbal_ctx *ctx, int device, const imbal_aug_pipeline *p,
                                      const uint8_t *images, int n, int in_height, int in_width,
                                      const int64_t *keys, const int32_t *labels, uint64_t seed,
                                      uint32_t epoch, void *out, void *stream);

#ifdef __cplusplus
}
#endif

#endif
