/* imbal: where an op runs. Every compute op takes an imbal_device; the CPU twin is the reference,
 * the CUDA twin the fast path, and tests compare the two. */
#ifndef IMBAL_DEVICE_H
#define IMBAL_DEVICE_H

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_device_kind { IMBAL_DEVICE_CPU = 0, IMBAL_DEVICE_CUDA = 1 } imbal_device_kind;

typedef struct imbal_device {
    imbal_device_kind kind;
    int index; /* CUDA ordinal; 0 for the CPU */
} imbal_device;

static inline imbal_device imbal_device_cpu(void) {
    imbal_device d = {IMBAL_DEVICE_CPU, 0};
    return d;
}
static inline imbal_device imbal_device_cuda(int index) {
    imbal_device d = {IMBAL_DEVICE_CUDA, index};
    return d;
}

/* 1 if this library was built with CUDA kernels, else 0. */
IMBAL_API int imbal_built_with_cuda(void);

/* Number of CUDA devices that answer. 0 (and IMBAL_OK) when CUDA is not built in or no driver or
 * device is present: absence is not an error here, so callers can fall back to the CPU. */
IMBAL_API int imbal_cuda_device_count(void);

/* Checks that `device` can be used: IMBAL_ERR_NO_DEVICE with a reason if it cannot. */
IMBAL_API imbal_status imbal_device_check(imbal_ctx *ctx, imbal_device device);

/* Writes a human-readable name ("cpu", or the GPU's name) into buf. */
IMBAL_API imbal_status imbal_device_name(imbal_ctx *ctx, imbal_device device, char *buf,
                                         int buf_len);

/* Parses "cpu", "cuda", "cuda:N" or "auto" (CUDA device 0 when one answers, else the CPU). */
IMBAL_API imbal_status imbal_device_parse(imbal_ctx *ctx, const char *text, imbal_device *out);

IMBAL_EXTERN_C_END

#endif
