/* imbal internal: the layer ops' dispatch (src/nn*.c validates every argument, then calls the CPU
 * twin in src/nn_*_cpu.c or the CUDA twin in kernels/nn_*.cu). The CUDA twins may assume
 * validated arguments: shapes agree, dtypes are the documented ones, every tensor is on the
 * call's CUDA device. */
#ifndef IMBAL_NN_INTERNAL_H
#define IMBAL_NN_INTERNAL_H

#include <stddef.h>

#include "imbal/nn.h"

struct imbal_conv_plan {
    imbal_device device;
    imbal_conv2d_shape shape;
    imbal_dtype dtype;
    float *col;        /* CPU: im2col workspace (owned) */
    size_t col_floats; /* its size in floats */
    int direct_isa;    /* CPU: the direct path's instruction set (imbal_direct_isa), 0: im2col */
    void *cuda;        /* CUDA: the cuDNN plans and workspace (kernels/nn_conv_cudnn.cu) */
    int search;        /* CUDA: time the candidate engines (imbal_conv_plan_set_search) */
    int tf32;          /* CUDA f32: allow TF32 tensor-core engines (imbal_conv_plan_set_tf32) */
};

/* src -> dst, same shape and device, converting the dtype (src/nn_layers.c). */
imbal_status imbal_nn_cast(imbal_ctx *ctx, const imbal_tensor *src, imbal_tensor *dst);

#ifdef IMBAL_WITH_CUDA
/* Convolution through the cuDNN graph (backend) API: plan->device/shape/dtype are set; fills
 * plan->cuda. destroy frees it (NULL-safe). */
imbal_status imbal_nn_cuda_conv_plan_create(imbal_ctx *ctx, imbal_conv_plan *plan);
void imbal_nn_cuda_conv_plan_destroy(imbal_conv_plan *plan);
imbal_status imbal_nn_cuda_conv_forward(imbal_ctx *ctx, imbal_conv_plan *plan,
                                        const imbal_tensor *x, const imbal_tensor *w,
                                        imbal_tensor *y);
imbal_status imbal_nn_cuda_conv_backward_data(imbal_ctx *ctx, imbal_conv_plan *plan,
                                              const imbal_tensor *dy, const imbal_tensor *w,
                                              imbal_tensor *dx);
imbal_status imbal_nn_cuda_conv_backward_filter(imbal_ctx *ctx, imbal_conv_plan *plan,
                                                const imbal_tensor *x, const imbal_tensor *dy,
                                                imbal_tensor *dw);

/* Batch norm kernels (kernels/nn_batchnorm.cu). */
imbal_status imbal_nn_cuda_bn_forward_train(imbal_ctx *ctx, const imbal_tensor *x,
                                            const imbal_tensor *gamma, const imbal_tensor *beta,
                                            imbal_tensor *running_mean, imbal_tensor *running_var,
                                            float momentum, float eps, imbal_tensor *y,
                                            imbal_tensor *save_mean, imbal_tensor *save_invstd);
imbal_status imbal_nn_cuda_bn_forward_eval(imbal_ctx *ctx, const imbal_tensor *x,
                                           const imbal_tensor *gamma, const imbal_tensor *beta,
                                           const imbal_tensor *running_mean,
                                           const imbal_tensor *running_var, float eps,
                                           imbal_tensor *y);
imbal_status imbal_nn_cuda_bn_backward(imbal_ctx *ctx, const imbal_tensor *x,
                                       const imbal_tensor *dy, const imbal_tensor *gamma,
                                       const imbal_tensor *save_mean,
                                       const imbal_tensor *save_invstd, imbal_tensor *dx,
                                       imbal_tensor *dgamma, imbal_tensor *dbeta);

/* Element-wise and pooling kernels (kernels/nn_eltwise.cu). */
imbal_status imbal_nn_cuda_relu_forward(imbal_ctx *ctx, const imbal_tensor *x, imbal_tensor *y);
imbal_status imbal_nn_cuda_relu_backward(imbal_ctx *ctx, const imbal_tensor *y,
                                         const imbal_tensor *dy, imbal_tensor *dx);
imbal_status imbal_nn_cuda_add(imbal_ctx *ctx, const imbal_tensor *a, const imbal_tensor *b,
                               imbal_tensor *y);
/* dst = src converted (f32 <-> bf16), element by element. */
imbal_status imbal_nn_cuda_cast(imbal_ctx *ctx, const imbal_tensor *src, imbal_tensor *dst);
imbal_status imbal_nn_cuda_avgpool_forward(imbal_ctx *ctx, const imbal_tensor *x, imbal_tensor *y);
imbal_status imbal_nn_cuda_avgpool_backward(imbal_ctx *ctx, const imbal_tensor *dy,
                                            imbal_tensor *dx);

/* The linear layer through cuBLAS (kernels/nn_linear_cublas.cu). */
imbal_status imbal_nn_cuda_linear_forward(imbal_ctx *ctx, const imbal_tensor *x,
                                          const imbal_tensor *w, const imbal_tensor *b,
                                          imbal_tensor *y);
imbal_status imbal_nn_cuda_linear_backward(imbal_ctx *ctx, const imbal_tensor *x,
                                           const imbal_tensor *w, const imbal_tensor *dy,
                                           imbal_tensor *dx, imbal_tensor *dw, imbal_tensor *db);
#endif

#endif
