/* imbal internal: argument checks shared by the layer ops' front ends (src/nn_conv.c,
 * src/nn_layers.c). Every message starts with the public function's name and names the argument
 * at fault, e.g. "imbal_conv2d_forward: w has shape [8,3,3,3], expected [16,3,3,3]". */
#ifndef IMBAL_NN_CHECK_H
#define IMBAL_NN_CHECK_H

#include <stdint.h>

#include "imbal/nn.h"

/* Extent value meaning "any" in an expected shape. */
#define IMBAL_NN_ANY ((int64_t)-1)

/* The device itself: a known kind that answers (imbal_device_check, message prefixed by fn). */
imbal_status imbal_nn_check_device(imbal_ctx *ctx, const char *fn, imbal_device device);

/* One tensor: not NULL, on `device`, of dtype `dtype`, with `ndim` extents equal to `shape`
 * (IMBAL_NN_ANY matches any extent; shape NULL skips the shape check), data set when non-empty.
 * A wrong device or shape is IMBAL_ERR_INVALID_ARGUMENT; a wrong dtype too, except that a
 * non-f32 tensor on the CPU is IMBAL_ERR_UNSUPPORTED (the CPU twins take f32 only). */
imbal_status imbal_nn_check_tensor(imbal_ctx *ctx, const char *fn, const char *name,
                                   const imbal_tensor *t, imbal_device device, imbal_dtype dtype,
                                   int ndim, const int64_t *shape);

/* The activation dtype of a call from its first activation tensor `t` (already non-NULL):
 * f32 anywhere, bf16 on CUDA where `allow_bf16` (the ops whose nn.h comment allows it); anything
 * else is IMBAL_ERR_UNSUPPORTED naming the argument. */
imbal_status imbal_nn_act_dtype(imbal_ctx *ctx, const char *fn, const char *name,
                                const imbal_tensor *t, imbal_device device, int allow_bf16,
                                imbal_dtype *out);

/* Fails for a CUDA device in a build without IMBAL_WITH_CUDA (IMBAL_ERR_NO_DEVICE). Returns
 * IMBAL_OK when the CUDA twin may be called. */
imbal_status imbal_nn_cuda_available(imbal_ctx *ctx, const char *fn);

#endif
