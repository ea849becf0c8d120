/* imbal: device selection and queries; the CUDA half lives in kernels/device_cuda.cu. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "internal.h"

int imbal_built_with_cuda(void) {
#ifdef IMBAL_WITH_CUDA
    return 1;
#else
    return 0;
#endif
}

int imbal_cuda_device_count(void) {
#ifdef IMBAL_WITH_CUDA
    return imbal_cuda_count_devices();
#else
    return 0;
#endif
}

imbal_status imbal_device_check(imbal_ctx *ctx, imbal_device device) {
    if (device.kind == IMBAL_DEVICE_CPU) return IMBAL_OK;
    if (device.kind != IMBAL_DEVICE_CUDA)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "unknown device kind %d",
                          (int)device.kind);
    if (!imbal_built_with_cuda())
        return imbal_fail(ctx, IMBAL_ERR_NO_DEVICE,
                          "cuda:%d requested but this libimbal was built without CUDA "
                          "(configure with -DIMBAL_CUDA=ON where nvcc is installed)",
                          device.index);
    int count = imbal_cuda_device_count();
    if (count == 0)
        return imbal_fail(ctx, IMBAL_ERR_NO_DEVICE,
                          "cuda:%d requested but no CUDA device answers (no GPU or no driver)",
                          device.index);
    if (device.index < 0 || device.index >= count)
        return imbal_fail(ctx, IMBAL_ERR_NO_DEVICE, "cuda:%d requested but only %d device%s found",
                          device.index, count, count == 1 ? "" : "s");
    return IMBAL_OK;
}

imbal_status imbal_device_name(imbal_ctx *ctx, imbal_device device, char *buf, int buf_len) {
    if (!buf || buf_len < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_device_name: empty buffer");
    if (device.kind == IMBAL_DEVICE_CPU) {
        snprintf(buf, (size_t)buf_len, "cpu");
        return IMBAL_OK;
    }
    imbal_status st = imbal_device_check(ctx, device);
    if (st != IMBAL_OK) return st;
#ifdef IMBAL_WITH_CUDA
    return imbal_cuda_device_name(ctx, device.index, buf, buf_len);
#else
    return IMBAL_ERR_NO_DEVICE;
#endif
}

imbal_status imbal_device_parse(imbal_ctx *ctx, const char *text, imbal_device *out) {
    if (!text || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_device_parse: NULL argument");
    if (strcmp(text, "cpu") == 0) {
        *out = imbal_device_cpu();
        return IMBAL_OK;
    }
    if (strcmp(text, "auto") == 0) {
        *out = imbal_cuda_device_count() > 0 ? imbal_device_cuda(0) : imbal_device_cpu();
        return IMBAL_OK;
    }
    if (strcmp(text, "cuda") == 0) {
        *out = imbal_device_cuda(0);
        return imbal_device_check(ctx, *out);
    }
    if (strncmp(text, "cuda:", 5) == 0 && text[5]) {
        char *end;
        long idx = strtol(text + 5, &end, 10);
        if (*end == '\0' && idx >= 0 && idx < 1024) {
            *out = imbal_device_cuda((int)idx);
            return imbal_device_check(ctx, *out);
        }
    }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "unknown device '%s' (expected cpu, cuda, cuda:N or auto)", text);
}
