/* imbal: TEMPORARY stand-ins for the public layer ops of imbal/nn.h, on branch nncuda only, so
 * that this branch links (tests/test_nn_gpu.c calls the public API, whose dispatch and CPU twins
 * live on another branch). Every op answers IMBAL_ERR_UNSUPPORTED, which makes the GPU tests skip.
 * DELETE THIS FILE AT MERGE (git rm src/nn_stub_until_merge.c): left beside the real src/nn*.c it
 * gives duplicate-symbol link errors, so it cannot survive a merge unnoticed. */
#include "imbal/nn.h"
#include "internal.h"

static imbal_status stub(imbal_ctx *ctx, const char *op) {
    return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "%s: the layer ops are not on this branch", op);
}

void imbal_conv2d_out_hw(const imbal_conv2d_shape *shape, int *out_h, int *out_w) {
    *out_h = (shape->h + 2 * shape->pad - shape->r) / shape->stride + 1;
    *out_w = (shape->w + 2 * shape->pad - shape->s) / shape->stride + 1;
}

imbal_status imbal_conv_plan_create(imbal_ctx *ctx, imbal_device device,
                                    const imbal_conv2d_shape *shape, imbal_dtype dtype,
                                    imbal_conv_plan **out) {
    (void)device, (void)shape, (void)dtype;
    if (out) *out = NULL;
    return stub(ctx, "imbal_conv_plan_create");
}
void imbal_conv_plan_destroy(imbal_conv_plan *plan) {
    (void)plan;
}
const imbal_conv2d_shape *imbal_conv_plan_shape(const imbal_conv_plan *plan) {
    (void)plan;
    return NULL;
}
imbal_status imbal_conv2d_forward(imbal_ctx *ctx, imbal_conv_plan *plan, const imbal_tensor *x,
                                  const imbal_tensor *w, imbal_tensor *y) {
    (void)plan, (void)x, (void)w, (void)y;
    return stub(ctx, "imbal_conv2d_forward");
}
imbal_status imbal_conv2d_backward_data(imbal_ctx *ctx, imbal_conv_plan *plan,
                                        const imbal_tensor *dy, const imbal_tensor *w,
                                        imbal_tensor *dx) {
    (void)plan, (void)dy, (void)w, (void)dx;
    return stub(ctx, "imbal_conv2d_backward_data");
}
imbal_status imbal_conv2d_backward_filter(imbal_ctx *ctx, imbal_conv_plan *plan,
                                          const imbal_tensor *x, const imbal_tensor *dy,
                                          imbal_tensor *dw) {
    (void)plan, (void)x, (void)dy, (void)dw;
    return stub(ctx, "imbal_conv2d_backward_filter");
}
imbal_status imbal_batchnorm_forward_train(imbal_ctx *ctx, imbal_device device,
                                           const imbal_tensor *x, const imbal_tensor *gamma,
                                           const imbal_tensor *beta, imbal_tensor *running_mean,
                                           imbal_tensor *running_var, float momentum, float eps,
                                           imbal_tensor *y, imbal_tensor *save_mean,
                                           imbal_tensor *save_invstd) {
    (void)device, (void)x, (void)gamma, (void)beta, (void)running_mean, (void)running_var;
    (void)momentum, (void)eps, (void)y, (void)save_mean, (void)save_invstd;
    return stub(ctx, "imbal_batchnorm_forward_train");
}
imbal_status imbal_batchnorm_forward_eval(imbal_ctx *ctx, imbal_device device,
                                          const imbal_tensor *x, const imbal_tensor *gamma,
                                          const imbal_tensor *beta,
                                          const imbal_tensor *running_mean,
                                          const imbal_tensor *running_var, float eps,
                                          imbal_tensor *y) {
    (void)device, (void)x, (void)gamma, (void)beta, (void)running_mean, (void)running_var;
    (void)eps, (void)y;
    return stub(ctx, "imbal_batchnorm_forward_eval");
}
imbal_status imbal_batchnorm_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                      const imbal_tensor *dy, const imbal_tensor *gamma,
                                      const imbal_tensor *save_mean,
                                      const imbal_tensor *save_invstd, imbal_tensor *dx,
                                      imbal_tensor *dgamma, imbal_tensor *dbeta) {
    (void)device, (void)x, (void)dy, (void)gamma, (void)save_mean, (void)save_invstd;
    (void)dx, (void)dgamma, (void)dbeta;
    return stub(ctx, "imbal_batchnorm_backward");
}
imbal_status imbal_relu_forward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                imbal_tensor *y) {
    (void)device, (void)x, (void)y;
    return stub(ctx, "imbal_relu_forward");
}
imbal_status imbal_relu_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *y,
                                 const imbal_tensor *dy, imbal_tensor *dx) {
    (void)device, (void)y, (void)dy, (void)dx;
    return stub(ctx, "imbal_relu_backward");
}
imbal_status imbal_add(imbal_ctx *ctx, imbal_device device, const imbal_tensor *a,
                       const imbal_tensor *b, imbal_tensor *y) {
    (void)device, (void)a, (void)b, (void)y;
    return stub(ctx, "imbal_add");
}
imbal_status imbal_avgpool_forward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                   imbal_tensor *y) {
    (void)device, (void)x, (void)y;
    return stub(ctx, "imbal_avgpool_forward");
}
imbal_status imbal_avgpool_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *dy,
                                    imbal_tensor *dx) {
    (void)device, (void)dy, (void)dx;
    return stub(ctx, "imbal_avgpool_backward");
}
imbal_status imbal_linear_forward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                  const imbal_tensor *w, const imbal_tensor *b, imbal_tensor *y) {
    (void)device, (void)x, (void)w, (void)b, (void)y;
    return stub(ctx, "imbal_linear_forward");
}
imbal_status imbal_linear_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                   const imbal_tensor *w, const imbal_tensor *dy, imbal_tensor *dx,
                                   imbal_tensor *dw, imbal_tensor *db) {
    (void)device, (void)x, (void)w, (void)dy, (void)dx, (void)dw, (void)db;
    return stub(ctx, "imbal_linear_backward");
}
