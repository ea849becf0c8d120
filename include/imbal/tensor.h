/* imbal: a small dense tensor (row-major, C order) on the CPU or a CUDA device.
 *
 * A plain struct: it either owns its buffer (made by imbal_tensor_alloc, freed by
 * imbal_tensor_free) or views memory the caller owns (imbal_tensor_wrap). */
#ifndef IMBAL_TENSOR_H
#define IMBAL_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_dtype {
    IMBAL_F32 = 0,
    IMBAL_F16 = 1,
    IMBAL_BF16 = 2,
    IMBAL_U8 = 3,
    IMBAL_I32 = 4,
    IMBAL_I64 = 5
} imbal_dtype;

#define IMBAL_MAX_DIMS 8

typedef struct imbal_tensor {
    void *data;
    imbal_dtype dtype;
    imbal_device device;
    int ndim;
    int64_t shape[IMBAL_MAX_DIMS];
    int owns_data; /* 1 when imbal_tensor_free must release data */
} imbal_tensor;

/* Bytes per element (2 for f16/bf16); 0 for an unknown dtype. */
IMBAL_API size_t imbal_dtype_size(imbal_dtype dtype);
/* "f32", "f16", "bf16", "u8", "i32", "i64"; "?" for an unknown value. */
IMBAL_API const char *imbal_dtype_name(imbal_dtype dtype);
IMBAL_API imbal_status imbal_dtype_parse(imbal_ctx *ctx, const char *name, imbal_dtype *out);

/* Product of the shape (1 for ndim == 0). */
IMBAL_API int64_t imbal_tensor_numel(const imbal_tensor *t);
IMBAL_API size_t imbal_tensor_nbytes(const imbal_tensor *t);

/* Allocates an owned, uninitialised tensor on `device` (host malloc, or cudaMalloc). Validates
 * ndim (0..IMBAL_MAX_DIMS), non-negative extents and overflow of the byte count. On failure *t is
 * zeroed. A CUDA out-of-memory is IMBAL_ERR_DEVICE_OUT_OF_MEMORY and names the byte count. */
IMBAL_API imbal_status imbal_tensor_alloc(imbal_ctx *ctx, imbal_tensor *t, imbal_dtype dtype,
                                          int ndim, const int64_t *shape, imbal_device device);

/* A non-owning view of caller memory. */
IMBAL_API imbal_tensor imbal_tensor_wrap(void *data, imbal_dtype dtype, int ndim,
                                         const int64_t *shape, imbal_device device);

/* Frees an owned buffer and zeroes the struct; a view or NULL is left alone/ignored. */
IMBAL_API void imbal_tensor_free(imbal_tensor *t);

/* Copies src into dst (same dtype and shape, any pair of devices). */
IMBAL_API imbal_status imbal_tensor_copy(imbal_ctx *ctx, imbal_tensor *dst, const imbal_tensor *src);

/* 1 if the two tensors have the same ndim and extents. */
IMBAL_API int imbal_tensor_same_shape(const imbal_tensor *a, const imbal_tensor *b);

/* Converts src into dst element by element: same shape, both on the CPU, any pair of dtypes.
 * Floats to f16/bf16 round to nearest even; floats to integers truncate toward zero and must be
 * finite and in range, integers to u8 must be in 0..255, else IMBAL_ERR_DATA names the index. */
IMBAL_API imbal_status imbal_tensor_cast(imbal_ctx *ctx, imbal_tensor *dst, const imbal_tensor *src);

IMBAL_EXTERN_C_END

#endif
