/* imbal: the CUDA twins of imbal/random_fill.h (kernels/random_fill.cu). Arguments are checked
 * by the dispatcher in src/random_fill.c; these check that `out` is memory of `device`, launch,
 * check the launch and synchronise. */
#ifndef IMBAL_RANDOM_FILL_CUDA_H
#define IMBAL_RANDOM_FILL_CUDA_H

#include <stdint.h>

#include "imbal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

imbal_status imbal_cuda_random_uniform_fill(imbal_ctx *ctx, int device, uint64_t seed,
                                            uint32_t epoch, uint32_t op, uint64_t first,
                                            int64_t count, float *out);
imbal_status imbal_cuda_random_normal_fill(imbal_ctx *ctx, int device, uint64_t seed,
                                           uint32_t epoch, uint32_t op, uint64_t first,
                                           int64_t count, float *out);

#ifdef __cplusplus
}
#endif

#endif
