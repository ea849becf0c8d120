/* imbal: the dtype codes of the safetensors format shared by the writer (src/safetensors.c) and
 * the reader (src/safetensors_read.c). */
#ifndef IMBAL_SAFETENSORS_INTERNAL_H
#define IMBAL_SAFETENSORS_INTERNAL_H

#include <string.h>

#include "imbal/tensor.h"

/* The header's spelling of our dtypes ("F32", ...), or NULL for an unknown value. */
static inline const char *imbal_st_dtype_code(imbal_dtype d) {
    static const char *const codes[] = {"F32", "F16", "BF16", "U8", "I32", "I64"};
    return (unsigned)d < 6u ? codes[d] : NULL;
}

/* 1 and *out for a code we read; 0 otherwise. */
static inline int imbal_st_dtype_from_code(const char *code, imbal_dtype *out) {
    for (int d = 0; d < 6; ++d)
        if (strcmp(code, imbal_st_dtype_code((imbal_dtype)d)) == 0) {
            *out = (imbal_dtype)d;
            return 1;
        }
    return 0;
}

/* Codes of the format (safetensors 0.4: BOOL ... F8 / F6 / F4 variants, C64) that are valid but
 * have no imbal dtype: IMBAL_ERR_UNSUPPORTED rather than IMBAL_ERR_FORMAT. */
static inline int imbal_st_dtype_known_unsupported(const char *code) {
    static const char *const codes[] = {"BOOL",    "I8",      "U16",     "I16",     "U32",
                                        "U64",     "F64",     "F8_E4M3", "F8_E5M2", "F8_E8M0",
                                        "F6_E2M3", "F6_E3M2", "F4",      "C64"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; ++i)
        if (strcmp(code, codes[i]) == 0) return 1;
    return 0;
}

#endif
