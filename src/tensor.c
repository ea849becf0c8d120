/* imbal: dense tensors on the CPU or a CUDA device (see imbal/tensor.h). */
#include "imbal/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "internal.h"
#include "tensor_internal.h"

size_t imbal_dtype_size(imbal_dtype dtype) {
    switch (dtype) {
    case IMBAL_F32:
        return 4;
    case IMBAL_F16:
        return 2;
    case IMBAL_BF16:
        return 2;
    case IMBAL_U8:
        return 1;
    case IMBAL_I32:
        return 4;
    case IMBAL_I64:
        return 8;
    }
    return 0;
}

const char *imbal_dtype_name(imbal_dtype dtype) {
    switch (dtype) {
    case IMBAL_F32:
        return "f32";
    case IMBAL_F16:
        return "f16";
    case IMBAL_BF16:
        return "bf16";
    case IMBAL_U8:
        return "u8";
    case IMBAL_I32:
        return "i32";
    case IMBAL_I64:
        return "i64";
    }
    return "?";
}

imbal_status imbal_dtype_parse(imbal_ctx *ctx, const char *name, imbal_dtype *out) {
    /* Short names first, then NumPy/PyTorch spellings as aliases. */
    static const struct {
        const char *name;
        imbal_dtype dtype;
    } names[] = {{"f32", IMBAL_F32},     {"f16", IMBAL_F16},     {"bf16", IMBAL_BF16},
                 {"u8", IMBAL_U8},       {"i32", IMBAL_I32},     {"i64", IMBAL_I64},
                 {"float32", IMBAL_F32}, {"float16", IMBAL_F16}, {"bfloat16", IMBAL_BF16},
                 {"uint8", IMBAL_U8},    {"int32", IMBAL_I32},   {"int64", IMBAL_I64}};
    if (!name || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_dtype_parse: NULL argument");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].dtype;
            return IMBAL_OK;
        }
    }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "unknown dtype '%s' (expected f32, f16, bf16, u8, i32 or i64)", name);
}

int64_t imbal_tensor_numel(const imbal_tensor *t) {
    if (!t || t->ndim < 0 || t->ndim > IMBAL_MAX_DIMS) return 0;
    /* A zero extent anywhere makes the tensor empty, however large the others (no overflow);
     * unsigned arithmetic keeps an unvalidated shape from being undefined behaviour. */
    for (int d = 0; d < t->ndim; ++d)
        if (t->shape[d] == 0) return 0;
    uint64_t n = 1;
    for (int d = 0; d < t->ndim; ++d)
        n *= (uint64_t)t->shape[d];
    return (int64_t)n;
}

size_t imbal_tensor_nbytes(const imbal_tensor *t) {
    if (!t) return 0;
    return (size_t)imbal_tensor_numel(t) * imbal_dtype_size(t->dtype);
}

void imbal_shape_format(int ndim, const int64_t *shape, char *buf, size_t len) {
    size_t pos = 0;
    if (len == 0) return;
    buf[0] = '\0';
    if (ndim < 0 || ndim > IMBAL_MAX_DIMS || (ndim > 0 && !shape)) {
        snprintf(buf, len, "<ndim %d>", ndim);
        return;
    }
    pos += (size_t)snprintf(buf + pos, len - pos, "[");
    for (int d = 0; d < ndim && pos < len; ++d)
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (pos < len) snprintf(buf + pos, len - pos, "]");
}

imbal_status imbal_shape_bytes(imbal_ctx *ctx, const char *what, imbal_dtype dtype, int ndim,
                               const int64_t *shape, size_t *bytes) {
    *bytes = 0;
    size_t esize = imbal_dtype_size(dtype);
    if (esize == 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: unknown dtype %d", what,
                          (int)dtype);
    if (ndim < 0 || ndim > IMBAL_MAX_DIMS)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: ndim %d is outside 0..%d", what,
                          ndim, IMBAL_MAX_DIMS);
    if (ndim > 0 && !shape)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: shape is NULL for ndim %d", what,
                          ndim);
    char text[IMBAL_SHAPE_TEXT_MAX];
    /* The byte count must fit both size_t and int64_t (numel is int64_t). */
    uint64_t limit = (uint64_t)INT64_MAX < (uint64_t)SIZE_MAX ? (uint64_t)INT64_MAX : SIZE_MAX;
    uint64_t total = esize;
    for (int d = 0; d < ndim; ++d) {
        if (shape[d] < 0) {
            imbal_shape_format(ndim, shape, text, sizeof text);
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: extent %lld of dimension %d in shape %s is negative", what,
                              (long long)shape[d], d, text);
        }
        uint64_t e = (uint64_t)shape[d];
        if (e != 0 && total > limit / e) {
            /* Keep scanning: a later zero extent makes the tensor empty, never an overflow. */
            int has_zero = 0;
            for (int k = d + 1; k < ndim; ++k)
                has_zero |= shape[k] == 0;
            if (has_zero) {
                total = 0;
                break;
            }
            imbal_shape_format(ndim, shape, text, sizeof text);
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: shape %s of %s overflows the byte count", what, text,
                              imbal_dtype_name(dtype));
        }
        total *= e;
    }
    *bytes = (size_t)total;
    return IMBAL_OK;
}

imbal_status imbal_tensor_alloc(imbal_ctx *ctx, imbal_tensor *t, imbal_dtype dtype, int ndim,
                                const int64_t *shape, imbal_device device) {
    if (!t) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_tensor_alloc: t is NULL");
    memset(t, 0, sizeof *t);
    size_t bytes;
    imbal_status st = imbal_shape_bytes(ctx, "imbal_tensor_alloc", dtype, ndim, shape, &bytes);
    if (st != IMBAL_OK) return st;
    st = imbal_device_check(ctx, device);
    if (st != IMBAL_OK) return st;

    void *data = NULL;
    if (device.kind == IMBAL_DEVICE_CPU) {
        char what[64 + IMBAL_SHAPE_TEXT_MAX], text[IMBAL_SHAPE_TEXT_MAX];
        imbal_shape_format(ndim, shape, text, sizeof text);
        snprintf(what, sizeof what, "tensor %s %s", imbal_dtype_name(dtype), text);
        data = imbal_xmalloc(ctx, bytes ? bytes : 1, 1, what);
        if (!data) return IMBAL_ERR_OUT_OF_MEMORY;
    } else {
#ifdef IMBAL_WITH_CUDA
        st = imbal_cuda_malloc(ctx, device.index, &data, bytes);
        if (st != IMBAL_OK) return st;
#else
        return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "imbal_tensor_alloc: CUDA device without CUDA");
#endif
    }
    t->data = data;
    t->dtype = dtype;
    t->device = device;
    t->ndim = ndim;
    for (int d = 0; d < ndim; ++d)
        t->shape[d] = shape[d];
    t->owns_data = 1;
    return IMBAL_OK;
}

imbal_tensor imbal_tensor_wrap(void *data, imbal_dtype dtype, int ndim, const int64_t *shape,
                               imbal_device device) {
    imbal_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.dtype = dtype;
    t.device = device;
    t.ndim = ndim; /* an invalid ndim is kept so that later calls can report it */
    if (shape && ndim > 0 && ndim <= IMBAL_MAX_DIMS)
        for (int d = 0; d < ndim; ++d)
            t.shape[d] = shape[d];
    t.owns_data = 0;
    return t;
}

void imbal_tensor_free(imbal_tensor *t) {
    if (!t || !t->owns_data) return;
    if (t->device.kind == IMBAL_DEVICE_CPU) {
        free(t->data);
    } else {
#ifdef IMBAL_WITH_CUDA
        imbal_cuda_free(t->device.index, t->data);
#endif
    }
    memset(t, 0, sizeof *t);
}

int imbal_tensor_same_shape(const imbal_tensor *a, const imbal_tensor *b) {
    if (!a || !b || a->ndim != b->ndim || a->ndim < 0 || a->ndim > IMBAL_MAX_DIMS) return 0;
    for (int d = 0; d < a->ndim; ++d)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

imbal_status imbal_tensor_validate(imbal_ctx *ctx, const char *what, const imbal_tensor *t,
                                   size_t *bytes) {
    *bytes = 0;
    if (!t) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", what);
    imbal_status st = imbal_shape_bytes(ctx, what, t->dtype, t->ndim, t->shape, bytes);
    if (st != IMBAL_OK) return st;
    if (!t->data && *bytes > 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: data is NULL for %zu bytes", what,
                          *bytes);
    return imbal_device_check(ctx, t->device);
}

#ifdef IMBAL_WITH_CUDA
/* Two different GPUs: stage through host memory, which needs no peer access. */
static imbal_status copy_between_gpus(imbal_ctx *ctx, imbal_tensor *dst, const imbal_tensor *src,
                                      size_t bytes) {
    void *tmp = imbal_xmalloc(ctx, bytes, 1, "staging buffer for a GPU-to-GPU copy");
    if (!tmp) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st = imbal_cuda_memcpy(ctx, src->device.index, tmp, src->data, bytes, 1);
    if (st == IMBAL_OK) st = imbal_cuda_memcpy(ctx, dst->device.index, dst->data, tmp, bytes, 0);
    free(tmp);
    return st;
}
#endif

imbal_status imbal_tensor_copy(imbal_ctx *ctx, imbal_tensor *dst, const imbal_tensor *src) {
    size_t dbytes, sbytes;
    imbal_status st = imbal_tensor_validate(ctx, "imbal_tensor_copy: dst", dst, &dbytes);
    if (st != IMBAL_OK) return st;
    st = imbal_tensor_validate(ctx, "imbal_tensor_copy: src", src, &sbytes);
    if (st != IMBAL_OK) return st;
    if (!imbal_tensor_same_shape(dst, src)) {
        char ds[IMBAL_SHAPE_TEXT_MAX], ss[IMBAL_SHAPE_TEXT_MAX];
        imbal_shape_format(dst->ndim, dst->shape, ds, sizeof ds);
        imbal_shape_format(src->ndim, src->shape, ss, sizeof ss);
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_tensor_copy: shapes differ: %s vs %s (dst vs src)", ds, ss);
    }
    if (dst->dtype != src->dtype)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_tensor_copy: dtypes differ: %s vs %s (dst vs src)",
                          imbal_dtype_name(dst->dtype), imbal_dtype_name(src->dtype));
    if (sbytes == 0 || dst->data == src->data) return IMBAL_OK;
    int dcpu = dst->device.kind == IMBAL_DEVICE_CPU, scpu = src->device.kind == IMBAL_DEVICE_CPU;
    if (dcpu && scpu) {
        memmove(dst->data, src->data, sbytes);
        return IMBAL_OK;
    }
#ifdef IMBAL_WITH_CUDA
    if (scpu) return imbal_cuda_memcpy(ctx, dst->device.index, dst->data, src->data, sbytes, 0);
    if (dcpu) return imbal_cuda_memcpy(ctx, src->device.index, dst->data, src->data, sbytes, 1);
    if (dst->device.index == src->device.index)
        return imbal_cuda_memcpy(ctx, dst->device.index, dst->data, src->data, sbytes, 2);
    return copy_between_gpus(ctx, dst, src, sbytes);
#else
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "imbal_tensor_copy: CUDA device without CUDA");
#endif
}

imbal_status imbal_tensor_fill_f32(imbal_ctx *ctx, imbal_tensor *t, float v) {
    if (!t || t->dtype != IMBAL_F32)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_tensor_fill_f32: need an f32 tensor");
    int64_t n = imbal_tensor_numel(t);
    float *h = imbal_xmalloc(ctx, (size_t)(n ? n : 1), sizeof *h, "tensor fill");
    if (!h) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < n; i++)
        h[i] = v;
    imbal_tensor src = imbal_tensor_wrap(h, IMBAL_F32, t->ndim, t->shape, imbal_device_cpu());
    imbal_status st = imbal_tensor_copy(ctx, t, &src);
    free(h);
    return st;
}
