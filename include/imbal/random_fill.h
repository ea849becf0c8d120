/* imbal: filling a float buffer with counter-based random numbers, on the CPU or a CUDA device.
 *
 * The first op with a CPU twin (src/random_fill.c, OpenMP) and a CUDA twin
 * (kernels/random_fill.cu). Element i depends only on (seed, epoch, op, first + i), never on the
 * thread count or the launch geometry, so filling [0, n) in one call or in slices gives the same
 * numbers, and the two twins agree bit for bit for the uniform fill. */
#ifndef IMBAL_RANDOM_FILL_H
#define IMBAL_RANDOM_FILL_H

#include <stdint.h>

#include "device.h"

IMBAL_EXTERN_C_BEGIN

/* out[i] = imbal_u32_to_unit_float(word (first+i) % 4 of
 *          imbal_philox_block(seed, epoch, (first+i) / 4, op, 0)),   0 <= i < count,
 * a uniform float in [0, 1) with 24 random bits. `out` is host memory for the CPU and device
 * memory of that device for CUDA. op must be below 256 and first + count at most 2^58 (the
 * Philox stream index is 56 bits). count == 0 does nothing (out may then be NULL). */
IMBAL_API imbal_status imbal_random_uniform_fill(imbal_ctx *ctx, imbal_device device, uint64_t seed,
                                                 uint32_t epoch, uint32_t op, uint64_t first,
                                                 int64_t count, float *out);

/* Standard normal floats by the Box-Muller transform (Box and Muller, "A note on the generation
 * of random normal deviates", Ann. Math. Statist. 1958), cosine branch only: with j = first + i,
 * block = imbal_philox_block(seed, epoch, j / 2, op, 0) and words a = v[2*(j%2)],
 * b = v[2*(j%2)+1]:
 *   u1 = ((a >> 8) + 1) / 2^24   (in (0, 1], so the log is finite)
 *   u2 = (b >> 8) / 2^24
 *   out[i] = sqrt(-2 ln u1) * cos(2 pi u2)
 * first + count must be at most 2^57. The CPU and CUDA twins use their own logf/cosf/sqrtf, so
 * they may differ by a few ulp (not bit-exact, unlike the uniform fill). */
IMBAL_API imbal_status imbal_random_normal_fill(imbal_ctx *ctx, imbal_device device, uint64_t seed,
                                                uint32_t epoch, uint32_t op, uint64_t first,
                                                int64_t count, float *out);

IMBAL_EXTERN_C_END

#endif
