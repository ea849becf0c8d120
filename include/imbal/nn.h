/* imbal: the layers of the CNN backbone, each a CPU twin and a CUDA twin behind one call.
 *
 * Layouts (PyTorch's): activations NCHW, conv weights [K, C, R, S] (out, in, kernel h, kernel w),
 * linear weights [out, in]. Every tensor of one call is on that call's device and f32 (the CUDA
 * twins may also take bf16 activations and weights where a comment says so; parameters,
 * statistics and their gradients stay f32). Shapes, dtypes and devices are validated and the
 * message names the argument at fault. The CPU twin is the reference (im2col + OpenBLAS sgemm,
 * OpenMP); the CUDA twin uses the cuDNN graph (backend) API for convolution, cuBLAS for the
 * linear layer and our own kernels for the rest, all on the default stream, without synchronising
 * the host. Results do not depend on the context's thread count.
 *
 * Parameter gradients (dw, dgamma, dbeta, db) are overwritten, never accumulated: each parameter
 * is used once per forward pass in the backbone. Definitions in docs/nn.md. */
#ifndef IMBAL_NN_H
#define IMBAL_NN_H

#include <stdint.h>

#include "tensor.h"

IMBAL_EXTERN_C_BEGIN

/* ---- convolution --------------------------------------------------------------------------- */

typedef struct imbal_conv2d_shape {
    int n, c, h, w; /* input: the largest batch the plan serves, channels, height, width */
    int k;          /* output channels */
    int r, s;       /* kernel height and width */
    int stride;     /* the same in both directions, >= 1 */
    int pad;        /* zero padding on every side, >= 0 */
} imbal_conv2d_shape;

/* The output height and width: (h + 2 pad - r) / stride + 1 (floor), likewise for w. */
IMBAL_API void imbal_conv2d_out_hw(const imbal_conv2d_shape *shape, int *out_h, int *out_w);

/* A convolution planned once for one shape on one device (no bias: batch norm follows it).
 * CPU: the im2col workspace. CUDA: cuDNN graph-API execution plans for forward, data-grad and
 * weight-grad, chosen by cuDNN's heuristics, and their workspace. A call may pass any batch
 * 1..shape.n (the last batch of an epoch is smaller): the CUDA plan builds and caches plans for
 * each distinct batch it meets. `dtype` is IMBAL_F32 (both devices) or IMBAL_BF16 (CUDA only:
 * x, w, y, dx, dy in bf16, dw in f32 accumulated in f32). A plan owns its workspace: calls on one
 * plan must not run concurrently from several threads. */
typedef struct imbal_conv_plan imbal_conv_plan;

IMBAL_API imbal_status imbal_conv_plan_create(imbal_ctx *ctx, imbal_device device,
                                              const imbal_conv2d_shape *shape, imbal_dtype dtype,
                                              imbal_conv_plan **out);
IMBAL_API void imbal_conv_plan_destroy(imbal_conv_plan *plan);
/* CUDA: with search non-zero, the execution plans built from then on (one per direction and
 * batch, on first use) time up to 8 candidate cuDNN engines of the allowed numerics on that first
 * call's operands and keep the fastest, like PyTorch's torch.backends.cudnn.benchmark; the search
 * costs a few milliseconds per plan, once. Off (the default), the heuristics' first engine is
 * taken, so the engine, and the bits, are the same in every process; with it on, reruns in one
 * process still give the same bits, but another process may time its way to another engine. The
 * CPU ignores it. */
IMBAL_API void imbal_conv_plan_set_search(imbal_conv_plan *plan, int search);
/* CUDA, f32 plans: with allow non-zero, the plans built from then on may use TF32 tensor-core
 * engines (inputs rounded to a 10-bit mantissa inside the product, f32 accumulation; also FFT and
 * Winograd), as PyTorch does by default (torch.backends.cudnn.allow_tf32). Off (the default),
 * only full-f32 engines are taken, so results match the CPU twin to ~1e-5. bf16 plans and the
 * CPU ignore it. */
IMBAL_API void imbal_conv_plan_set_tf32(imbal_conv_plan *plan, int allow);
IMBAL_API const imbal_conv2d_shape *imbal_conv_plan_shape(const imbal_conv_plan *plan);

/* y[n,k,p,q] = sum_{c,r,s} x[n,c,p*stride-pad+r,q*stride-pad+s] * w[k,c,r,s] (cross-correlation,
 * as torch.nn.functional.conv2d). x [N,C,H,W], w [K,C,R,S], y [N,K,P,Q]. */
IMBAL_API imbal_status imbal_conv2d_forward(imbal_ctx *ctx, imbal_conv_plan *plan,
                                            const imbal_tensor *x, const imbal_tensor *w,
                                            imbal_tensor *y);
/* dx = dL/dx given dy = dL/dy (overwritten). */
IMBAL_API imbal_status imbal_conv2d_backward_data(imbal_ctx *ctx, imbal_conv_plan *plan,
                                                  const imbal_tensor *dy, const imbal_tensor *w,
                                                  imbal_tensor *dx);
/* dw = dL/dw given x and dy (overwritten). */
IMBAL_API imbal_status imbal_conv2d_backward_filter(imbal_ctx *ctx, imbal_conv_plan *plan,
                                                    const imbal_tensor *x, const imbal_tensor *dy,
                                                    imbal_tensor *dw);

/* ---- batch normalisation (Ioffe & Szegedy 2015), torch.nn.BatchNorm2d's semantics ---------- */

/* Training mode over x [N,C,H,W]: per channel mean and biased variance over N*H*W,
 * y = gamma (x - mean) / sqrt(var + eps) + beta. Updates the running statistics as PyTorch does:
 * running = (1 - momentum) running + momentum * batch, with the UNBIASED variance (M/(M-1)) for
 * running_var. save_mean and save_invstd [C] (1/sqrt(var + eps)) are kept for the backward.
 * N*H*W must be >= 2. gamma, beta, running_*, save_* are f32 [C]; x, y may be bf16 on CUDA. */
IMBAL_API imbal_status imbal_batchnorm_forward_train(
    imbal_ctx *ctx, imbal_device device, const imbal_tensor *x, const imbal_tensor *gamma,
    const imbal_tensor *beta, imbal_tensor *running_mean, imbal_tensor *running_var, float momentum,
    float eps, imbal_tensor *y, imbal_tensor *save_mean, imbal_tensor *save_invstd);

/* Evaluation mode: y = gamma (x - running_mean) / sqrt(running_var + eps) + beta. */
IMBAL_API imbal_status imbal_batchnorm_forward_eval(
    imbal_ctx *ctx, imbal_device device, const imbal_tensor *x, const imbal_tensor *gamma,
    const imbal_tensor *beta, const imbal_tensor *running_mean, const imbal_tensor *running_var,
    float eps, imbal_tensor *y);

/* The training-mode backward: with xhat = (x - mean) invstd and M = N*H*W,
 * dbeta = sum dy, dgamma = sum dy xhat, dx = gamma invstd / M (M dy - dbeta - xhat dgamma).
 * dx may be NULL (not needed for the first layer's input). */
IMBAL_API imbal_status imbal_batchnorm_backward(imbal_ctx *ctx, imbal_device device,
                                                const imbal_tensor *x, const imbal_tensor *dy,
                                                const imbal_tensor *gamma,
                                                const imbal_tensor *save_mean,
                                                const imbal_tensor *save_invstd, imbal_tensor *dx,
                                                imbal_tensor *dgamma, imbal_tensor *dbeta);

/* ---- element-wise -------------------------------------------------------------------------- */

/* y = max(x, 0); y may be x (in place). Any shape. On CUDA the element-wise ops also take bf16
 * (every tensor of a call the same dtype; f32 arithmetic). */
IMBAL_API imbal_status imbal_relu_forward(imbal_ctx *ctx, imbal_device device,
                                          const imbal_tensor *x, imbal_tensor *y);
/* dx = dy where y > 0, else 0, from the forward's OUTPUT y; dx may be dy (in place). */
IMBAL_API imbal_status imbal_relu_backward(imbal_ctx *ctx, imbal_device device,
                                           const imbal_tensor *y, const imbal_tensor *dy,
                                           imbal_tensor *dx);
/* y = a + b (same shape); y may be a or b. The residual join and its gradient's sum. */
IMBAL_API imbal_status imbal_add(imbal_ctx *ctx, imbal_device device, const imbal_tensor *a,
                                 const imbal_tensor *b, imbal_tensor *y);

/* ---- pooling and the head ------------------------------------------------------------------ */

/* Global average pool: x [N,C,H,W] -> y [N,C], y = mean over H*W. On CUDA x may be bf16, with y
 * bf16 or f32 (a bf16 backbone feeding the f32 head); backward likewise: dx bf16, dy bf16 or f32.
 */
IMBAL_API imbal_status imbal_avgpool_forward(imbal_ctx *ctx, imbal_device device,
                                             const imbal_tensor *x, imbal_tensor *y);
/* dx [N,C,H,W] = dy[n,c] / (H*W) everywhere. */
IMBAL_API imbal_status imbal_avgpool_backward(imbal_ctx *ctx, imbal_device device,
                                              const imbal_tensor *dy, imbal_tensor *dx);

/* y [N,out] = x [N,in] w^T + b, w [out,in], b [out] or NULL (torch.nn.functional.linear).
 * Always f32. */
IMBAL_API imbal_status imbal_linear_forward(imbal_ctx *ctx, imbal_device device,
                                            const imbal_tensor *x, const imbal_tensor *w,
                                            const imbal_tensor *b, imbal_tensor *y);
/* dx = dy w (NULL to skip), dw = dy^T x, db = sum over rows of dy (NULL to skip). */
IMBAL_API imbal_status imbal_linear_backward(imbal_ctx *ctx, imbal_device device,
                                             const imbal_tensor *x, const imbal_tensor *w,
                                             const imbal_tensor *dy, imbal_tensor *dx,
                                             imbal_tensor *dw, imbal_tensor *db);

IMBAL_EXTERN_C_END

#endif
