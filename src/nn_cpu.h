/* imbal internal: the CPU twins of the layer ops (src/nn_conv_cpu.c, src/nn_layers_cpu.c). They
 * assume validated f32 CPU tensors (src/nn_conv.c and src/nn_layers.c check every argument) and
 * give the same bits for any context thread count. Definitions in docs/nn.md. */
#ifndef IMBAL_NN_CPU_H
#define IMBAL_NN_CPU_H

#include "nn_internal.h"

/* Row-major C = alpha op(A) op(B) + beta C through cblas_sgemm, on the context's thread count
 * (src/nn_blas.c). */
void imbal_nn_sgemm(imbal_ctx *ctx, int trans_a, int trans_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c,
                    int ldc);

/* Chooses a CPU plan's path for forward and backward-data: 0 the im2col path, else the direct
 * path with that imbal_direct_isa (src/nn_conv_direct.h). Plans start on the fastest path the
 * shape and the CPU allow; tests force the others. Returns 0 (and changes nothing) when the shape
 * or this CPU cannot take the path asked for. */
int imbal_nn_cpu_conv_set_path(imbal_conv_plan *plan, int direct_isa);

/* Images per im2col group for a shape (fixed by the shape alone, so the batch is cut into the
 * same groups whatever the thread count), and the plan's workspace size in floats. */
int imbal_nn_cpu_conv_group(const imbal_conv2d_shape *shape);
size_t imbal_nn_cpu_conv_workspace(const imbal_conv2d_shape *shape);

imbal_status imbal_nn_cpu_conv_forward(imbal_ctx *ctx, imbal_conv_plan *plan, const imbal_tensor *x,
                                       const imbal_tensor *w, imbal_tensor *y);
imbal_status imbal_nn_cpu_conv_backward_data(imbal_ctx *ctx, imbal_conv_plan *plan,
                                             const imbal_tensor *dy, const imbal_tensor *w,
                                             imbal_tensor *dx);
imbal_status imbal_nn_cpu_conv_backward_filter(imbal_ctx *ctx, imbal_conv_plan *plan,
                                               const imbal_tensor *x, const imbal_tensor *dy,
                                               imbal_tensor *dw);

imbal_status imbal_nn_cpu_bn_forward_train(imbal_ctx *ctx, const imbal_tensor *x,
                                           const imbal_tensor *gamma, const imbal_tensor *beta,
                                           imbal_tensor *running_mean, imbal_tensor *running_var,
                                           float momentum, float eps, imbal_tensor *y,
                                           imbal_tensor *save_mean, imbal_tensor *save_invstd);
void imbal_nn_cpu_bn_forward_eval(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *gamma,
                                  const imbal_tensor *beta, const imbal_tensor *running_mean,
                                  const imbal_tensor *running_var, float eps, imbal_tensor *y);
imbal_status imbal_nn_cpu_bn_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *dy,
                                      const imbal_tensor *gamma, const imbal_tensor *save_mean,
                                      const imbal_tensor *save_invstd, imbal_tensor *dx,
                                      imbal_tensor *dgamma, imbal_tensor *dbeta);

void imbal_nn_cpu_relu_forward(imbal_ctx *ctx, const imbal_tensor *x, imbal_tensor *y);
void imbal_nn_cpu_relu_backward(imbal_ctx *ctx, const imbal_tensor *y, const imbal_tensor *dy,
                                imbal_tensor *dx);
void imbal_nn_cpu_add(imbal_ctx *ctx, const imbal_tensor *a, const imbal_tensor *b,
                      imbal_tensor *y);

/* Fusions the model's CPU pass uses to save a sweep over memory (src/model_pass.c); each gives the
 * same bits as its two separate ops. bn_relu_forward_train: relu(bn(x)). bn_relu_backward: the BN
 * backward of dy masked by the ReLU output y (dy where y > 0, else 0). add_relu_forward:
 * relu(a + b). add_relu_backward: dx = a + b where y > 0, else 0 (dx may alias a or b). */
imbal_status imbal_nn_cpu_bn_relu_forward_train(imbal_ctx *ctx, const imbal_tensor *x,
                                                const imbal_tensor *gamma, const imbal_tensor *beta,
                                                imbal_tensor *running_mean,
                                                imbal_tensor *running_var, float momentum,
                                                float eps, imbal_tensor *y, imbal_tensor *save_mean,
                                                imbal_tensor *save_invstd);
imbal_status imbal_nn_cpu_bn_relu_backward(imbal_ctx *ctx, const imbal_tensor *x,
                                           const imbal_tensor *y, const imbal_tensor *dy,
                                           const imbal_tensor *gamma, const imbal_tensor *save_mean,
                                           const imbal_tensor *save_invstd, imbal_tensor *dx,
                                           imbal_tensor *dgamma, imbal_tensor *dbeta);
void imbal_nn_cpu_add_relu_forward(imbal_ctx *ctx, const imbal_tensor *a, const imbal_tensor *b,
                                   imbal_tensor *y);
void imbal_nn_cpu_add_relu_backward(imbal_ctx *ctx, const imbal_tensor *y, const imbal_tensor *a,
                                    const imbal_tensor *b, imbal_tensor *dx);
void imbal_nn_cpu_avgpool_forward(imbal_ctx *ctx, const imbal_tensor *x, imbal_tensor *y);
void imbal_nn_cpu_avgpool_backward(imbal_ctx *ctx, const imbal_tensor *dy, imbal_tensor *dx);
void imbal_nn_cpu_linear_forward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *w,
                                 const imbal_tensor *b, imbal_tensor *y);
void imbal_nn_cpu_linear_backward(imbal_ctx *ctx, const imbal_tensor *x, const imbal_tensor *w,
                                  const imbal_tensor *dy, imbal_tensor *dx, imbal_tensor *dw,
                                  imbal_tensor *db);

#endif
