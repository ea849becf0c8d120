/* imbal: argument checks for the layer ops (see src/nn_check.h). */
#include "nn_check.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

imbal_status imbal_nn_check_device(imbal_ctx *ctx, const char *fn, imbal_device device) {
    imbal_status st = imbal_device_check(ctx, device);
    if (st == IMBAL_OK) return IMBAL_OK;
    char why[256];
    snprintf(why, sizeof why, "%s", imbal_ctx_error(ctx));
    return imbal_fail(ctx, st, "%s: %s", fn, why);
}

static const char *device_text(imbal_device d, char *buf, size_t size) {
    snprintf(buf, size, "%s:%d", d.kind == IMBAL_DEVICE_CPU ? "cpu" : "cuda", d.index);
    return buf;
}

/* "[8,3,3,3]"; IMBAL_NN_ANY prints as "*". */
static const char *shape_text(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; ++d) {
        if (shape[d] == IMBAL_NN_ANY)
            used += (size_t)snprintf(buf + used, size - used, "%s*", d ? "," : "");
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? "," : "",
                                     (long long)shape[d]);
    }
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

imbal_status imbal_nn_check_tensor(imbal_ctx *ctx, const char *fn, const char *name,
                                   const imbal_tensor *t, imbal_device device, imbal_dtype dtype,
                                   int ndim, const int64_t *shape) {
    char a[48], b[48];
    if (!t) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
    if (t->ndim < 0 || t->ndim > IMBAL_MAX_DIMS)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s has ndim %d (0..%d)", fn, name,
                          t->ndim, IMBAL_MAX_DIMS);
    if (t->device.kind != device.kind || t->device.index != device.index)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: %s is on %s but the call runs on %s", fn, name,
                          device_text(t->device, a, sizeof a), device_text(device, b, sizeof b));
    if (t->dtype != dtype) {
        imbal_status st = (device.kind == IMBAL_DEVICE_CPU && dtype == IMBAL_F32)
                              ? IMBAL_ERR_UNSUPPORTED
                              : IMBAL_ERR_INVALID_ARGUMENT;
        return imbal_fail(ctx, st, "%s: %s has dtype %s, expected %s%s", fn, name,
                          imbal_dtype_name(t->dtype), imbal_dtype_name(dtype),
                          st == IMBAL_ERR_UNSUPPORTED ? " (the CPU twin takes f32 only)" : "");
    }
    if (shape) {
        int same = t->ndim == ndim;
        for (int d = 0; same && d < ndim; ++d)
            same = shape[d] == IMBAL_NN_ANY || t->shape[d] == shape[d];
        if (!same) {
            char got[160], want[160];
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s has shape %s, expected %s",
                              fn, name, shape_text(t->ndim, t->shape, got, sizeof got),
                              shape_text(ndim, shape, want, sizeof want));
        }
    }
    for (int d = 0; d < t->ndim; ++d)
        if (t->shape[d] < 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: %s has a negative extent %lld in dimension %d", fn, name,
                              (long long)t->shape[d], d);
    if (!t->data && imbal_tensor_numel(t) > 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s has no data", fn, name);
    return IMBAL_OK;
}

imbal_status imbal_nn_act_dtype(imbal_ctx *ctx, const char *fn, const char *name,
                                const imbal_tensor *t, imbal_device device, int allow_bf16,
                                imbal_dtype *out) {
    *out = t->dtype;
    if (t->dtype == IMBAL_F32) return IMBAL_OK;
    if (t->dtype == IMBAL_BF16 && allow_bf16 && device.kind == IMBAL_DEVICE_CUDA) return IMBAL_OK;
    return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "%s: %s has dtype %s; %s", fn, name,
                      imbal_dtype_name(t->dtype),
                      device.kind == IMBAL_DEVICE_CPU ? "the CPU twin takes f32 only"
                      : allow_bf16                    ? "the CUDA twin takes f32 or bf16"
                                                      : "the CUDA twin takes f32 only");
}

imbal_status imbal_nn_cuda_available(imbal_ctx *ctx, const char *fn) {
#ifdef IMBAL_WITH_CUDA
    (void)ctx;
    (void)fn;
    return IMBAL_OK;
#else
    return imbal_fail(ctx, IMBAL_ERR_NO_DEVICE, "%s: this libimbal was built without CUDA", fn);
#endif
}
