/* imbal: the front ends of batch norm, relu, add, global average pooling and the linear layer
 * (see imbal/nn.h): validation of every argument, then the CPU twin (src/nn_layers_cpu.c) or the
 * CUDA twin (kernels/nn_*.cu). */
#include <math.h>
#include <stddef.h>

#include "imbal/nn.h"
#include "internal.h"
#include "nn_check.h"
#include "nn_cpu.h"
#include "nn_internal.h"

#ifdef IMBAL_WITH_CUDA
#define NN_CUDA(call) (call)
#else
#define NN_CUDA(call) IMBAL_ERR_INTERNAL
#endif

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        imbal_status try_st_ = (expr);                                                             \
        if (try_st_ != IMBAL_OK) return try_st_;                                                   \
    } while (0)

/* An activation tensor of the same dtype and shape as `like`. */
static imbal_status check_like(imbal_ctx *ctx, const char *fn, const char *name,
                               const imbal_tensor *t, imbal_device device,
                               const imbal_tensor *like) {
    return imbal_nn_check_tensor(ctx, fn, name, t, device, like->dtype, like->ndim, like->shape);
}

/* The first activation of a call: present, on the device, of an allowed dtype, `ndim` extents
 * (ndim < 0: any). */
static imbal_status check_first(imbal_ctx *ctx, const char *fn, const char *name,
                                const imbal_tensor *t, imbal_device device, int allow_bf16,
                                int ndim) {
    TRY(imbal_nn_check_device(ctx, fn, device));
    imbal_dtype dt;
    TRY(imbal_nn_check_tensor(ctx, fn, name, t, device, t ? t->dtype : IMBAL_F32, 0, NULL));
    TRY(imbal_nn_act_dtype(ctx, fn, name, t, device, allow_bf16, &dt));
    if (ndim >= 0 && t->ndim != ndim)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s has %d dimensions, expected %d",
                          fn, name, t->ndim, ndim);
    return IMBAL_OK;
}

static imbal_status check_vec(imbal_ctx *ctx, const char *fn, const char *name,
                              const imbal_tensor *t, imbal_device device, int64_t len) {
    return imbal_nn_check_tensor(ctx, fn, name, t, device, IMBAL_F32, 1, &len);
}

static imbal_status cuda_or_fail(imbal_ctx *ctx, const char *fn) {
    return imbal_nn_cuda_available(ctx, fn);
}

/* ---- batch norm ---------------------------------------------------------------------------- */

static imbal_status check_eps(imbal_ctx *ctx, const char *fn, float eps) {
    if (!(eps > 0.0f) || !isfinite(eps))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: eps must be finite and > 0, got %g",
                          fn, (double)eps);
    return IMBAL_OK;
}

imbal_status imbal_batchnorm_forward_train(imbal_ctx *ctx, imbal_device device,
                                           const imbal_tensor *x, const imbal_tensor *gamma,
                                           const imbal_tensor *beta, imbal_tensor *running_mean,
                                           imbal_tensor *running_var, float momentum, float eps,
                                           imbal_tensor *y, imbal_tensor *save_mean,
                                           imbal_tensor *save_invstd) {
    const char *fn = "imbal_batchnorm_forward_train";
    TRY(check_first(ctx, fn, "x", x, device, 1, 4));
    int64_t c = x->shape[1], m = x->shape[0] * x->shape[2] * x->shape[3];
    if (m < 2)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: x has N*H*W = %lld values per channel, need >= 2", fn, (long long)m);
    TRY(check_vec(ctx, fn, "gamma", gamma, device, c));
    TRY(check_vec(ctx, fn, "beta", beta, device, c));
    TRY(check_vec(ctx, fn, "running_mean", running_mean, device, c));
    TRY(check_vec(ctx, fn, "running_var", running_var, device, c));
    TRY(check_like(ctx, fn, "y", y, device, x));
    TRY(check_vec(ctx, fn, "save_mean", save_mean, device, c));
    TRY(check_vec(ctx, fn, "save_invstd", save_invstd, device, c));
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: momentum must be in [0, 1], got %g",
                          fn, (double)momentum);
    TRY(check_eps(ctx, fn, eps));
    if (device.kind == IMBAL_DEVICE_CPU) {
        return imbal_nn_cpu_bn_forward_train(ctx, x, gamma, beta, running_mean, running_var,
                                             momentum, eps, y, save_mean, save_invstd);
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_bn_forward_train(ctx, x, gamma, beta, running_mean, running_var,
                                                  momentum, eps, y, save_mean, save_invstd));
}

imbal_status imbal_batchnorm_forward_eval(imbal_ctx *ctx, imbal_device device,
                                          const imbal_tensor *x, const imbal_tensor *gamma,
                                          const imbal_tensor *beta,
                                          const imbal_tensor *running_mean,
                                          const imbal_tensor *running_var, float eps,
                                          imbal_tensor *y) {
    const char *fn = "imbal_batchnorm_forward_eval";
    TRY(check_first(ctx, fn, "x", x, device, 1, 4));
    int64_t c = x->shape[1];
    TRY(check_vec(ctx, fn, "gamma", gamma, device, c));
    TRY(check_vec(ctx, fn, "beta", beta, device, c));
    TRY(check_vec(ctx, fn, "running_mean", running_mean, device, c));
    TRY(check_vec(ctx, fn, "running_var", running_var, device, c));
    TRY(check_like(ctx, fn, "y", y, device, x));
    TRY(check_eps(ctx, fn, eps));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_bn_forward_eval(ctx, x, gamma, beta, running_mean, running_var, eps, y);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(
        imbal_nn_cuda_bn_forward_eval(ctx, x, gamma, beta, running_mean, running_var, eps, y));
}

imbal_status imbal_batchnorm_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                      const imbal_tensor *dy, const imbal_tensor *gamma,
                                      const imbal_tensor *save_mean,
                                      const imbal_tensor *save_invstd, imbal_tensor *dx,
                                      imbal_tensor *dgamma, imbal_tensor *dbeta) {
    const char *fn = "imbal_batchnorm_backward";
    TRY(check_first(ctx, fn, "x", x, device, 1, 4));
    int64_t c = x->shape[1], m = x->shape[0] * x->shape[2] * x->shape[3];
    if (m < 1) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: x is empty (N*H*W = 0)", fn);
    TRY(check_like(ctx, fn, "dy", dy, device, x));
    TRY(check_vec(ctx, fn, "gamma", gamma, device, c));
    TRY(check_vec(ctx, fn, "save_mean", save_mean, device, c));
    TRY(check_vec(ctx, fn, "save_invstd", save_invstd, device, c));
    if (dx) TRY(check_like(ctx, fn, "dx", dx, device, x));
    TRY(check_vec(ctx, fn, "dgamma", dgamma, device, c));
    TRY(check_vec(ctx, fn, "dbeta", dbeta, device, c));
    if (device.kind == IMBAL_DEVICE_CPU) {
        return imbal_nn_cpu_bn_backward(ctx, x, dy, gamma, save_mean, save_invstd, dx, dgamma,
                                        dbeta);
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(
        imbal_nn_cuda_bn_backward(ctx, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta));
}

/* ---- element-wise -------------------------------------------------------------------------- */

imbal_status imbal_relu_forward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                imbal_tensor *y) {
    const char *fn = "imbal_relu_forward";
    TRY(check_first(ctx, fn, "x", x, device, 1, -1));
    TRY(check_like(ctx, fn, "y", y, device, x));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_relu_forward(ctx, x, y);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_relu_forward(ctx, x, y));
}

imbal_status imbal_relu_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *y,
                                 const imbal_tensor *dy, imbal_tensor *dx) {
    const char *fn = "imbal_relu_backward";
    TRY(check_first(ctx, fn, "y", y, device, 1, -1));
    TRY(check_like(ctx, fn, "dy", dy, device, y));
    TRY(check_like(ctx, fn, "dx", dx, device, y));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_relu_backward(ctx, y, dy, dx);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_relu_backward(ctx, y, dy, dx));
}

imbal_status imbal_add(imbal_ctx *ctx, imbal_device device, const imbal_tensor *a,
                       const imbal_tensor *b, imbal_tensor *y) {
    const char *fn = "imbal_add";
    TRY(check_first(ctx, fn, "a", a, device, 1, -1));
    TRY(check_like(ctx, fn, "b", b, device, a));
    TRY(check_like(ctx, fn, "y", y, device, a));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_add(ctx, a, b, y);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_add(ctx, a, b, y));
}

/* ---- pooling and the head ------------------------------------------------------------------ */

/* The dtype the pooled side (y forward, dy backward) must have: f32 when it is f32, else the
 * activation's (so a mismatch is reported against the activation's dtype). */
static imbal_dtype pool_dtype(const imbal_tensor *pooled, const imbal_tensor *act) {
    return pooled && pooled->dtype == IMBAL_F32 ? IMBAL_F32 : act->dtype;
}

/* Converts src into dst (same shape and device; f32 <-> bf16 on CUDA, any pair of float dtypes
 * on the CPU). Internal: the bf16 backbone's weight and input copies. */
imbal_status imbal_nn_cast(imbal_ctx *ctx, const imbal_tensor *src, imbal_tensor *dst) {
    if (src->device.kind == IMBAL_DEVICE_CPU) return imbal_tensor_cast(ctx, dst, src);
    TRY(cuda_or_fail(ctx, "imbal_nn_cast"));
    return NN_CUDA(imbal_nn_cuda_cast(ctx, src, dst));
}

imbal_status imbal_avgpool_forward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                   imbal_tensor *y) {
    const char *fn = "imbal_avgpool_forward";
    TRY(check_first(ctx, fn, "x", x, device, 1, 4));
    if (x->shape[2] * x->shape[3] < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: x has H*W = 0", fn);
    int64_t want[2] = {x->shape[0], x->shape[1]};
    /* y: f32, or x's dtype (a bf16 backbone feeds an f32 head) */
    TRY(imbal_nn_check_tensor(ctx, fn, "y", y, device, pool_dtype(y, x), 2, want));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_avgpool_forward(ctx, x, y);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_avgpool_forward(ctx, x, y));
}

imbal_status imbal_avgpool_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *dy,
                                    imbal_tensor *dx) {
    const char *fn = "imbal_avgpool_backward";
    TRY(check_first(ctx, fn, "dx", dx, device, 1, 4));
    if (dx->shape[2] * dx->shape[3] < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: dx has H*W = 0", fn);
    int64_t want[2] = {dx->shape[0], dx->shape[1]};
    TRY(imbal_nn_check_tensor(ctx, fn, "dy", dy, device, pool_dtype(dy, dx), 2, want));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_avgpool_backward(ctx, dy, dx);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_avgpool_backward(ctx, dy, dx));
}

static imbal_status check_linear_sizes(imbal_ctx *ctx, const char *fn, const imbal_tensor *x,
                                       const imbal_tensor *w) {
    if (x->shape[0] > 0x7fffffff || x->shape[1] > 0x7fffffff || w->shape[0] > 0x7fffffff)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: x [%lld,%lld] or w rows %lld exceed INT_MAX", fn,
                          (long long)x->shape[0], (long long)x->shape[1], (long long)w->shape[0]);
    return IMBAL_OK;
}

imbal_status imbal_linear_forward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                  const imbal_tensor *w, const imbal_tensor *b, imbal_tensor *y) {
    const char *fn = "imbal_linear_forward";
    TRY(check_first(ctx, fn, "x", x, device, 0, 2));
    int64_t nin[2] = {IMBAL_NN_ANY, x->shape[1]};
    TRY(imbal_nn_check_tensor(ctx, fn, "w", w, device, IMBAL_F32, 2, nin));
    TRY(check_linear_sizes(ctx, fn, x, w));
    int64_t out = w->shape[0];
    if (b) TRY(check_vec(ctx, fn, "b", b, device, out));
    int64_t ys[2] = {x->shape[0], out};
    TRY(imbal_nn_check_tensor(ctx, fn, "y", y, device, IMBAL_F32, 2, ys));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_linear_forward(ctx, x, w, b, y);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_linear_forward(ctx, x, w, b, y));
}

imbal_status imbal_linear_backward(imbal_ctx *ctx, imbal_device device, const imbal_tensor *x,
                                   const imbal_tensor *w, const imbal_tensor *dy, imbal_tensor *dx,
                                   imbal_tensor *dw, imbal_tensor *db) {
    const char *fn = "imbal_linear_backward";
    TRY(check_first(ctx, fn, "x", x, device, 0, 2));
    int64_t nin[2] = {IMBAL_NN_ANY, x->shape[1]};
    TRY(imbal_nn_check_tensor(ctx, fn, "w", w, device, IMBAL_F32, 2, nin));
    TRY(check_linear_sizes(ctx, fn, x, w));
    int64_t out = w->shape[0];
    int64_t ys[2] = {x->shape[0], out};
    TRY(imbal_nn_check_tensor(ctx, fn, "dy", dy, device, IMBAL_F32, 2, ys));
    if (dx) TRY(imbal_nn_check_tensor(ctx, fn, "dx", dx, device, IMBAL_F32, 2, x->shape));
    TRY(imbal_nn_check_tensor(ctx, fn, "dw", dw, device, IMBAL_F32, 2, w->shape));
    if (db) TRY(check_vec(ctx, fn, "db", db, device, out));
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_nn_cpu_linear_backward(ctx, x, w, dy, dx, dw, db);
        return IMBAL_OK;
    }
    TRY(cuda_or_fail(ctx, fn));
    return NN_CUDA(imbal_nn_cuda_linear_backward(ctx, x, w, dy, dx, dw, db));
}
