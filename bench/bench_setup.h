/* imbal benchmarks: the context, device and thread count a bench_*.c main starts with. */
#ifndef IMBAL_BENCH_SETUP_H
#define IMBAL_BENCH_SETUP_H

#include <stddef.h>
#include <stdio.h>

#include "imbal/imbal.h"

#ifdef IMBAL_WITH_CUDA
#include <cuda_runtime.h>
#endif

/* A context for benchmark `prog` with `threads` OpenMP threads (0: the library's default), and
 * the device named `device` ("cpu", "cuda", "cuda:N") parsed into *dev. NULL where any of it
 * fails, after a line `prog: reason` on stderr, with *rc set to the exit status: 1 when no context
 * could be made, 2 for a bad argument. */
static inline imbal_ctx *bench_setup(const char *prog, const char *device, int threads,
                                     imbal_device *dev, int *rc) {
    imbal_ctx *ctx = NULL;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) {
        fprintf(stderr, "%s: cannot create a context\n", prog);
        *rc = 1;
        return NULL;
    }
    if (imbal_device_parse(ctx, device, dev) != IMBAL_OK ||
        (threads && imbal_ctx_set_threads(ctx, threads) != IMBAL_OK)) {
        fprintf(stderr, "%s: %s\n", prog, imbal_ctx_error(ctx));
        imbal_ctx_destroy(ctx);
        *rc = 2;
        return NULL;
    }
    return ctx;
}

/* The device's name for the records ("?" where it cannot be had). */
static inline void bench_device_name(imbal_ctx *ctx, imbal_device dev, char *buf, size_t n) {
    if (imbal_device_name(ctx, dev, buf, n) != IMBAL_OK) snprintf(buf, n, "?");
}

/* Waits for the device's queued work (a no-op on the CPU), so a wall-clock interval covers it. */
static inline void bench_sync_device(imbal_device dev) {
#ifdef IMBAL_WITH_CUDA
    if (dev.kind == IMBAL_DEVICE_CUDA) (void)cudaDeviceSynchronize();
#else
    (void)dev;
#endif
}

#endif
