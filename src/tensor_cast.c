/* imbal: element-wise dtype conversion of CPU tensors (imbal_tensor_cast). */
#include <math.h>
#include <stdint.h>

#include "imbal/half.h"
#include "internal.h"
#include "tensor_internal.h"

/* Reads element i of a typed buffer as double (exact for every dtype but i64 beyond 2^53). */
static double load(const void *data, imbal_dtype dtype, int64_t i) {
    switch (dtype) {
    case IMBAL_F32:
        return ((const float *)data)[i];
    case IMBAL_F16:
        return imbal_f16_to_f32(((const uint16_t *)data)[i]);
    case IMBAL_BF16:
        return imbal_bf16_to_f32(((const uint16_t *)data)[i]);
    case IMBAL_U8:
        return ((const uint8_t *)data)[i];
    case IMBAL_I32:
        return ((const int32_t *)data)[i];
    case IMBAL_I64:
        return (double)((const int64_t *)data)[i];
    }
    return NAN;
}

/* The inclusive range an integer dtype holds (as doubles, checked before conversion). */
static void int_range(imbal_dtype dtype, double *lo, double *hi) {
    *lo = dtype == IMBAL_U8 ? 0.0 : dtype == IMBAL_I32 ? -2147483648.0 : -9223372036854775808.0;
    *hi = dtype == IMBAL_U8 ? 255.0 : dtype == IMBAL_I32 ? 2147483647.0 : 9223372036854774784.0;
}

static int is_float(imbal_dtype d) {
    return d == IMBAL_F32 || d == IMBAL_F16 || d == IMBAL_BF16;
}

imbal_status imbal_tensor_cast(imbal_ctx *ctx, imbal_tensor *dst, const imbal_tensor *src) {
    size_t sb, db;
    imbal_status st = imbal_tensor_validate(ctx, "imbal_tensor_cast: src", src, &sb);
    if (st == IMBAL_OK) st = imbal_tensor_validate(ctx, "imbal_tensor_cast: dst", dst, &db);
    if (st != IMBAL_OK) return st;
    if (src->device.kind != IMBAL_DEVICE_CPU || dst->device.kind != IMBAL_DEVICE_CPU)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "imbal_tensor_cast: CPU tensors only");
    if (!imbal_tensor_same_shape(src, dst)) {
        char a[IMBAL_SHAPE_TEXT_MAX], b[IMBAL_SHAPE_TEXT_MAX];
        imbal_shape_format(dst->ndim, dst->shape, a, sizeof a);
        imbal_shape_format(src->ndim, src->shape, b, sizeof b);
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_tensor_cast: shapes differ: %s vs %s", a, b);
    }
    int64_t n = imbal_tensor_numel(src);
    if (src->dtype == IMBAL_I64 && dst->dtype == IMBAL_I64) {
        for (int64_t i = 0; i < n; ++i)
            ((int64_t *)dst->data)[i] = ((const int64_t *)src->data)[i];
        return IMBAL_OK;
    }
    double lo = 0, hi = 0;
    if (!is_float(dst->dtype)) int_range(dst->dtype, &lo, &hi);
    for (int64_t i = 0; i < n; ++i) {
        double v = load(src->data, src->dtype, i);
        if (!is_float(dst->dtype)) {
            if (!isfinite(v) || trunc(v) < lo || trunc(v) > hi)
                return imbal_fail(ctx, IMBAL_ERR_DATA,
                                  "imbal_tensor_cast: element %lld (%g) does not fit in %s",
                                  (long long)i, v, imbal_dtype_name(dst->dtype));
            v = trunc(v);
        }
        switch (dst->dtype) {
        case IMBAL_F32:
            ((float *)dst->data)[i] = (float)v;
            break;
        case IMBAL_F16:
            ((uint16_t *)dst->data)[i] = imbal_f32_to_f16((float)v);
            break;
        case IMBAL_BF16:
            ((uint16_t *)dst->data)[i] = imbal_f32_to_bf16((float)v);
            break;
        case IMBAL_U8:
            ((uint8_t *)dst->data)[i] = (uint8_t)v;
            break;
        case IMBAL_I32:
            ((int32_t *)dst->data)[i] = (int32_t)v;
            break;
        case IMBAL_I64:
            /* i64 sources are handled above, so v came from an exact smaller type */
            ((int64_t *)dst->data)[i] = (int64_t)v;
            break;
        }
    }
    return IMBAL_OK;
}
