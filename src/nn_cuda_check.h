/* imbal internal: a host-only self-check of the cuDNN graph descriptors the CUDA convolution
 * builds (kernels/nn_conv_cudnn.cu). It needs the cuDNN library but no GPU and no handle, so CI
 * machines without a device still exercise the descriptor code against the real library. */
#ifndef IMBAL_NN_CUDA_CHECK_H
#define IMBAL_NN_CUDA_CHECK_H

#include "imbal/nn.h"

#ifdef IMBAL_WITH_CUDA
#ifdef __cplusplus
extern "C" {
#endif
/* Builds and finalizes the tensor, convolution and operation descriptors of all three directions
 * (forward, backward-data, backward-filter) for `shape` at batch shape->n in `dtype` (f32 or bf16)
 * and the operation graph of each, without a handle; destroys them. cuDNN's refusal comes back as
 * IMBAL_ERR_CUDA with cuDNN's message. */
imbal_status imbal_nn_cuda_conv_check_descriptors(imbal_ctx *ctx, const imbal_conv2d_shape *shape,
                                                  imbal_dtype dtype);
#ifdef __cplusplus
}
#endif
#endif

#endif
