/* imbal: NumPy .npy files (format versions 1.0, 2.0 and 3.0; little-endian, C order).
 *
 * Supported element types: <f4 (f32), <f2 (f16), |u1 (u8), <i4 (i32), <i8 (i64); '=' and '<' are
 * both read as little-endian. Anything else (big-endian, Fortran order, object arrays, structured
 * dtypes, a truncated payload) is a clear error naming the file and what was found.
 * fortran_order True is accepted for 0-d and 1-d arrays only, where the layout is the same. */
#ifndef IMBAL_NPY_H
#define IMBAL_NPY_H

#include "tensor.h"

IMBAL_EXTERN_C_BEGIN

/* Reads `path` into a new owned CPU tensor. */
IMBAL_API imbal_status imbal_npy_read(imbal_ctx *ctx, const char *path, imbal_tensor *out);

/* Writes a CPU tensor as a version 1.0 file (2.0 when the header needs it), byte for byte what
 * numpy 1.24's np.save writes (header padded with spaces and '\n' to a multiple of 64 bytes,
 * with numpy's spare room after the shape). The file is written
 * under a temporary name, fsync'd and renamed, so an existing file is never left half-written.
 * bf16 has no .npy type and is refused (IMBAL_ERR_UNSUPPORTED). */
IMBAL_API imbal_status imbal_npy_write(imbal_ctx *ctx, const char *path, const imbal_tensor *t);

IMBAL_EXTERN_C_END

#endif
