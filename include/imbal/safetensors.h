/* imbal: safetensors files (the Hugging Face format), for checkpoints.
 *
 * Layout: an 8-byte little-endian header length L, L bytes of UTF-8 JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {"key": "value", ...}}, padded with spaces to a multiple of 8, then the tensor
 * bytes (little-endian, C order; offsets relative to the end of the header). Files we write load
 * with the Python `safetensors` package (safetensors.numpy.load_file / torch.load_file). docs/
 * checkpoints.md. */
#ifndef IMBAL_SAFETENSORS_H
#define IMBAL_SAFETENSORS_H

#include <stdint.h>

#include "tensor.h"

IMBAL_EXTERN_C_BEGIN

/* Writes `count` named CPU tensors (f32, f16, bf16, u8, i32, i64 as F32, F16, BF16, U8, I32, I64)
 * and optional string metadata (n_meta key/value pairs, may be 0) to `path`, atomically: a
 * temporary name in the same directory, fsync, rename. Names must be unique, non-empty, not
 * "__metadata__"; tensors are stored in the order given. */
IMBAL_API imbal_status imbal_safetensors_write(imbal_ctx *ctx, const char *path, int count,
                                               const char *const *names,
                                               const imbal_tensor *const *tensors, int n_meta,
                                               const char *const *meta_keys,
                                               const char *const *meta_values);

/* A file read into memory and validated: header JSON well-formed, every dtype known (BOOL, I8,
 * U16 ... F64 are IMBAL_ERR_UNSUPPORTED naming the tensor), shape product * size == the offsets'
 * span, spans inside the data, sorted and non-overlapping, no trailing garbage. Any violation is
 * IMBAL_ERR_FORMAT naming the file and the tensor or byte at fault. As in the reference reader,
 * the header's key order is free: the spans, sorted by offset, must tile the data section exactly
 * (begin <= end, no overlap, no gap, nothing after the last). */
typedef struct imbal_safetensors imbal_safetensors;

IMBAL_API imbal_status imbal_safetensors_open(imbal_ctx *ctx, const char *path,
                                              imbal_safetensors **out);
IMBAL_API void imbal_safetensors_close(imbal_safetensors *st);

IMBAL_API int imbal_safetensors_count(const imbal_safetensors *st);
/* The i-th tensor's name, in file order (0 <= i < count): the order of the data, which for files
 * from imbal and from the Python package is also the header's order. NULL out of range. */
IMBAL_API const char *imbal_safetensors_name(const imbal_safetensors *st, int i);
/* A CPU view of the named tensor into the file's buffer (valid until close). IMBAL_ERR_DATA
 * naming the tensor and the file when absent. */
IMBAL_API imbal_status imbal_safetensors_get(imbal_ctx *ctx, const imbal_safetensors *st,
                                             const char *name, imbal_tensor *view);
/* The metadata value for `key`, or NULL. */
IMBAL_API const char *imbal_safetensors_metadata(const imbal_safetensors *st, const char *key);

IMBAL_EXTERN_C_END

#endif
