/* imbal: tensor helpers shared by the library's translation units (npy, ops); not installed. */
#ifndef IMBAL_TENSOR_INTERNAL_H
#define IMBAL_TENSOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/tensor.h"

/* Room for "[e0,e1,...,e7]" with 20-digit extents. */
#define IMBAL_SHAPE_TEXT_MAX 200

/* Writes "[2,3]" ("[]" for 0-d) into buf. */
void imbal_shape_format(int ndim, const int64_t *shape, char *buf, size_t len);

/* Validates dtype, ndim (0..IMBAL_MAX_DIMS) and extents (>= 0) and writes the byte count,
 * refusing one that overflows size_t or int64_t. `what` prefixes the error message. */
imbal_status imbal_shape_bytes(imbal_ctx *ctx, const char *what, imbal_dtype dtype, int ndim,
                               const int64_t *shape, size_t *bytes);

/* imbal_shape_bytes on t's fields, plus a non-NULL data pointer when bytes > 0 and a usable
 * device. */
imbal_status imbal_tensor_validate(imbal_ctx *ctx, const char *what, const imbal_tensor *t,
                                   size_t *bytes);

/* Sets every element of an f32 tensor on any device to v (through one host buffer: for parameter
 * initialisation and optimizer state, not for hot loops). */
imbal_status imbal_tensor_fill_f32(imbal_ctx *ctx, imbal_tensor *t, float v);

#endif
