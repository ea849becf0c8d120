/* imbal: the convolution front end (see imbal/nn.h): the plan, validation of every argument, and
 * dispatch to the CPU twin (src/nn_conv_cpu.c) or the cuDNN twin (kernels/nn_conv_cudnn.cu). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/nn.h"
#include "internal.h"
#include "nn_check.h"
#include "nn_conv_direct.h"
#include "nn_cpu.h"
#include "nn_internal.h"

void imbal_conv2d_out_hw(const imbal_conv2d_shape *shape, int *out_h, int *out_w) {
    if (!shape) return;
    int stride = shape->stride > 0 ? shape->stride : 1;
    if (out_h) *out_h = (shape->h + 2 * shape->pad - shape->r) / stride + 1;
    if (out_w) *out_w = (shape->w + 2 * shape->pad - shape->s) / stride + 1;
}

static imbal_status check_shape(imbal_ctx *ctx, const imbal_conv2d_shape *s) {
    const char *fn = "imbal_conv_plan_create";
    const struct {
        const char *name;
        int value;
    } pos[] = {{"n", s->n}, {"c", s->c}, {"h", s->h}, {"w", s->w},
               {"k", s->k}, {"r", s->r}, {"s", s->s}, {"stride", s->stride}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; ++i)
        if (pos[i].value < 1)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: shape.%s must be >= 1, got %d",
                              fn, pos[i].name, pos[i].value);
    if (s->pad < 0 || s->pad > (1 << 20))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: shape.pad must be in 0..%d, got %d",
                          fn, 1 << 20, s->pad);
    if ((int64_t)s->h + 2 * (int64_t)s->pad < s->r)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: shape.r %d is larger than h %d + 2 pad %d", fn, s->r, s->h, s->pad);
    if ((int64_t)s->w + 2 * (int64_t)s->pad < s->s)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: shape.s %d is larger than w %d + 2 pad %d", fn, s->s, s->w, s->pad);
    int p, q;
    imbal_conv2d_out_hw(s, &p, &q);
    /* BLAS takes int dimensions: each matrix side of the lowering must fit. */
    int64_t crs = (int64_t)s->c * s->r * s->s, pq = (int64_t)p * q, hw = (int64_t)s->h * s->w;
    int64_t img = (int64_t)s->c * hw, out = (int64_t)s->k * pq;
    if (crs > INT_MAX || pq > INT_MAX / 64 || img > INT_MAX || out > INT_MAX ||
        (int64_t)s->k * crs > INT_MAX)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: shape [n=%d c=%d h=%d w=%d k=%d r=%d s=%d] is too large "
                          "(a per-image matrix exceeds INT_MAX elements)",
                          fn, s->n, s->c, s->h, s->w, s->k, s->r, s->s);
    return IMBAL_OK;
}

imbal_status imbal_conv_plan_create(imbal_ctx *ctx, imbal_device device,
                                    const imbal_conv2d_shape *shape, imbal_dtype dtype,
                                    imbal_conv_plan **out) {
    const char *fn = "imbal_conv_plan_create";
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    *out = NULL;
    if (!shape) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: shape is NULL", fn);
    imbal_status st = imbal_nn_check_device(ctx, fn, device);
    if (st != IMBAL_OK) return st;
    if (dtype != IMBAL_F32 && !(dtype == IMBAL_BF16 && device.kind == IMBAL_DEVICE_CUDA))
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "%s: dtype %s is not supported on %s (%s)",
                          fn, imbal_dtype_name(dtype),
                          device.kind == IMBAL_DEVICE_CPU ? "the CPU" : "CUDA",
                          device.kind == IMBAL_DEVICE_CPU ? "f32 only" : "f32 or bf16");
    st = check_shape(ctx, shape);
    if (st != IMBAL_OK) return st;
    if (device.kind == IMBAL_DEVICE_CUDA) {
        st = imbal_nn_cuda_available(ctx, fn);
        if (st != IMBAL_OK) return st;
    }
    imbal_conv_plan *plan = imbal_xcalloc(ctx, 1, sizeof *plan, "conv plan");
    if (!plan) return IMBAL_ERR_OUT_OF_MEMORY;
    plan->device = device;
    plan->shape = *shape;
    plan->dtype = dtype;
    if (device.kind == IMBAL_DEVICE_CPU) {
        plan->col_floats = imbal_nn_cpu_conv_workspace(shape);
        imbal_nn_cpu_conv_set_path(plan, (int)imbal_nn_direct_conv_isa()); /* im2col if refused */
        plan->col = imbal_xmalloc(ctx, plan->col_floats, sizeof(float), "conv im2col workspace");
        if (!plan->col) {
            free(plan);
            return IMBAL_ERR_OUT_OF_MEMORY;
        }
    }
#ifdef IMBAL_WITH_CUDA
    else {
        st = imbal_nn_cuda_conv_plan_create(ctx, plan);
        if (st != IMBAL_OK) {
            imbal_nn_cuda_conv_plan_destroy(plan);
            free(plan);
            return st;
        }
    }
#endif
    *out = plan;
    return IMBAL_OK;
}

void imbal_conv_plan_set_search(imbal_conv_plan *plan, int search) {
    if (plan) plan->search = search != 0;
}

void imbal_conv_plan_set_tf32(imbal_conv_plan *plan, int allow) {
    if (plan) plan->tf32 = allow != 0;
}

void imbal_conv_plan_destroy(imbal_conv_plan *plan) {
    if (!plan) return;
#ifdef IMBAL_WITH_CUDA
    if (plan->device.kind == IMBAL_DEVICE_CUDA) imbal_nn_cuda_conv_plan_destroy(plan);
#endif
    free(plan->col);
    free(plan);
}

const imbal_conv2d_shape *imbal_conv_plan_shape(const imbal_conv_plan *plan) {
    return plan ? &plan->shape : NULL;
}

/* The shared part of the three calls: the plan, the device, and `x`-like input (the batch
 * tensor with C or K channels) whose batch sets N. */
typedef struct conv_call {
    const char *fn;
    imbal_device device;
    int64_t n, c, h, w, k, r, s, p, q;
} conv_call;

static imbal_status begin(imbal_ctx *ctx, const char *fn, const imbal_conv_plan *plan,
                          const char *bname, const imbal_tensor *batch, int batch_is_out,
                          conv_call *call) {
    if (!plan) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: plan is NULL", fn);
    call->fn = fn;
    call->device = plan->device;
    const imbal_conv2d_shape *s = &plan->shape;
    int p, q;
    imbal_conv2d_out_hw(s, &p, &q);
    call->c = s->c, call->h = s->h, call->w = s->w, call->k = s->k;
    call->r = s->r, call->s = s->s, call->p = p, call->q = q;
    imbal_status st = imbal_nn_check_device(ctx, fn, plan->device);
    if (st != IMBAL_OK) return st;
    int64_t want[4] = {IMBAL_NN_ANY, batch_is_out ? call->k : call->c, batch_is_out ? p : s->h,
                       batch_is_out ? q : s->w};
    st = imbal_nn_check_tensor(ctx, fn, bname, batch, plan->device, plan->dtype, 4, want);
    if (st != IMBAL_OK) return st;
    call->n = batch->shape[0];
    if (call->n < 1 || call->n > s->n)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: %s has batch %lld but the plan serves 1..%d", fn, bname,
                          (long long)call->n, s->n);
    return IMBAL_OK;
}

static imbal_status check4(imbal_ctx *ctx, const conv_call *call, const char *name,
                           const imbal_tensor *t, imbal_dtype dtype, int64_t a, int64_t b,
                           int64_t c, int64_t d) {
    int64_t want[4] = {a, b, c, d};
    return imbal_nn_check_tensor(ctx, call->fn, name, t, call->device, dtype, 4, want);
}

imbal_status imbal_conv2d_forward(imbal_ctx *ctx, imbal_conv_plan *plan, const imbal_tensor *x,
                                  const imbal_tensor *w, imbal_tensor *y) {
    conv_call c = {0};
    imbal_status st = begin(ctx, "imbal_conv2d_forward", plan, "x", x, 0, &c);
    if (st == IMBAL_OK) st = check4(ctx, &c, "w", w, plan->dtype, c.k, c.c, c.r, c.s);
    if (st == IMBAL_OK) st = check4(ctx, &c, "y", y, plan->dtype, c.n, c.k, c.p, c.q);
    if (st != IMBAL_OK) return st;
    if (c.device.kind == IMBAL_DEVICE_CPU) return imbal_nn_cpu_conv_forward(ctx, plan, x, w, y);
    st = imbal_nn_cuda_available(ctx, c.fn);
    if (st != IMBAL_OK) return st;
#ifdef IMBAL_WITH_CUDA
    return imbal_nn_cuda_conv_forward(ctx, plan, x, w, y);
#else
    return IMBAL_ERR_INTERNAL;
#endif
}

imbal_status imbal_conv2d_backward_data(imbal_ctx *ctx, imbal_conv_plan *plan,
                                        const imbal_tensor *dy, const imbal_tensor *w,
                                        imbal_tensor *dx) {
    conv_call c = {0};
    imbal_status st = begin(ctx, "imbal_conv2d_backward_data", plan, "dy", dy, 1, &c);
    if (st == IMBAL_OK) st = check4(ctx, &c, "w", w, plan->dtype, c.k, c.c, c.r, c.s);
    if (st == IMBAL_OK) st = check4(ctx, &c, "dx", dx, plan->dtype, c.n, c.c, c.h, c.w);
    if (st != IMBAL_OK) return st;
    if (c.device.kind == IMBAL_DEVICE_CPU)
        return imbal_nn_cpu_conv_backward_data(ctx, plan, dy, w, dx);
    st = imbal_nn_cuda_available(ctx, c.fn);
    if (st != IMBAL_OK) return st;
#ifdef IMBAL_WITH_CUDA
    return imbal_nn_cuda_conv_backward_data(ctx, plan, dy, w, dx);
#else
    return IMBAL_ERR_INTERNAL;
#endif
}

imbal_status imbal_conv2d_backward_filter(imbal_ctx *ctx, imbal_conv_plan *plan,
                                          const imbal_tensor *x, const imbal_tensor *dy,
                                          imbal_tensor *dw) {
    conv_call c = {0};
    imbal_status st = begin(ctx, "imbal_conv2d_backward_filter", plan, "x", x, 0, &c);
    if (st == IMBAL_OK) st = check4(ctx, &c, "dy", dy, plan->dtype, c.n, c.k, c.p, c.q);
    /* dw is f32 for a bf16 plan too (accumulated in f32). */
    if (st == IMBAL_OK) st = check4(ctx, &c, "dw", dw, IMBAL_F32, c.k, c.c, c.r, c.s);
    if (st != IMBAL_OK) return st;
    if (c.device.kind == IMBAL_DEVICE_CPU)
        return imbal_nn_cpu_conv_backward_filter(ctx, plan, x, dy, dw);
    st = imbal_nn_cuda_available(ctx, c.fn);
    if (st != IMBAL_OK) return st;
#ifdef IMBAL_WITH_CUDA
    return imbal_nn_cuda_conv_backward_filter(ctx, plan, x, dy, dw);
#else
    return IMBAL_ERR_INTERNAL;
#endif
}
