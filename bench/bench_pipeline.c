/* Benchmark of the random augmentation pipeline (imbal_augment_batch): images per second for
 * batches of 256 through
 *   32 x 32:   crop=32:pad=4,flip,jitter=0.4/0.4/0.4/0.1,normalize=cifar10       (input 32 x 32)
 *   224 x 224: rrc=224,flip,jitter=0.4/0.4/0.4/0.1,normalize=imagenet            (input 256 x 256)
 * on the CPU twin (--threads T, default all) or the fused CUDA kernel (--device cuda: timed with
 * CUDA events over >= 50 batches after a warm-up; inputs and outputs in device memory).
 *
 *   bench_pipeline [--device cpu|cuda|all] [--threads T] [--reps R] [--json]
 *
 * --device all (the default) runs the CPU twin, then the CUDA kernel when a device answers, so
 * scripts/gpu-check.sh records both.
 *
 * With --json one object per line: {"bench": "augment_pipeline", "device", "size", "batch",
 * "threads", "images_per_s", "ms_per_batch"}. The CPU figure is the median of R (default 5)
 * batches after one warm-up. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

#ifdef IMBAL_WITH_CUDA
#include <cuda_runtime.h>
#endif

enum { BATCH = 256, MAX_REPS = 64, GPU_ITERS = 50 };

typedef struct bench_case {
    int size, in_size;
    const char *spec;
} bench_case;

static const bench_case CASES[2] = {
    {32, 32, "crop=32:pad=4,flip,jitter=0.4/0.4/0.4/0.1,normalize=cifar10"},
    {224, 256, "rrc=224,flip,jitter=0.4/0.4/0.4/0.1,normalize=imagenet"},
};

static void report(int json, const char *device, const bench_case *c, int threads, double s) {
    if (json)
        printf("{\"bench\": \"augment_pipeline\", \"device\": \"%s\", \"size\": %d, \"batch\": %d, "
               "\"threads\": %d, \"images_per_s\": %.6g, \"ms_per_batch\": %.6g}\n",
               device, c->size, BATCH, threads, BATCH / s, 1e3 * s);
    else
        printf("%-4s %3dx%-3d %2d thread(s): %8.3f ms per batch of %d, %10.0f images/s  (%s)\n",
               device, c->size, c->size, threads, 1e3 * s, BATCH, BATCH / s, c->spec);
}

static int fail(imbal_ctx *ctx) {
    fprintf(stderr, "bench_pipeline: %s\n", imbal_ctx_error(ctx));
    return 1;
}

static int bench_cpu(imbal_ctx *ctx, const bench_case *c, const imbal_aug_pipeline *p,
                     const uint8_t *imgs, const int64_t *keys, int threads, int reps, int json) {
    float *out = malloc((size_t)BATCH * 3 * c->size * c->size * sizeof *out);
    if (!out) return 1;
    imbal_ctx_set_threads(ctx, threads);
    double t[MAX_REPS];
    for (int r = -1; r < reps; ++r) {
        double t0 = bench_now();
        if (imbal_augment_batch(ctx, imbal_device_cpu(), p, imgs, BATCH, c->in_size, c->in_size,
                                keys, NULL, 1, (uint32_t)(r + 1), out, NULL) != IMBAL_OK)
            return fail(ctx);
        if (r >= 0) t[r] = bench_now() - t0;
    }
    report(json, "cpu", c, threads, bench_median(t, reps));
    free(out);
    return 0;
}

#ifdef IMBAL_WITH_CUDA
#define CK(x)                                                                                      \
    do {                                                                                           \
        cudaError_t e_ = (x);                                                                      \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "bench_pipeline: %s: %s\n", #x, cudaGetErrorString(e_));               \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int bench_cuda(imbal_ctx *ctx, const bench_case *c, const imbal_aug_pipeline *p,
                      const uint8_t *imgs, const int64_t *keys, int json) {
    size_t in_bytes = (size_t)BATCH * c->in_size * c->in_size * 3;
    size_t out_bytes = (size_t)BATCH * 3 * c->size * c->size * sizeof(float);
    uint8_t *d_in;
    int64_t *d_keys;
    float *d_out;
    cudaEvent_t e0, e1;
    cudaStream_t s;
    CK(cudaMalloc((void **)&d_in, in_bytes));
    CK(cudaMalloc((void **)&d_keys, BATCH * sizeof(int64_t)));
    CK(cudaMalloc((void **)&d_out, out_bytes));
    CK(cudaMemcpy(d_in, imgs, in_bytes, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_keys, keys, BATCH * sizeof(int64_t), cudaMemcpyHostToDevice));
    CK(cudaStreamCreate(&s));
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (int w = 0; w < 5; ++w) /* warm-up */
        if (imbal_augment_batch(ctx, imbal_device_cuda(0), p, d_in, BATCH, c->in_size, c->in_size,
                                d_keys, NULL, 1, (uint32_t)w, d_out, s) != IMBAL_OK)
            return fail(ctx);
    CK(cudaEventRecord(e0, s));
    for (int it = 0; it < GPU_ITERS; ++it)
        if (imbal_augment_batch(ctx, imbal_device_cuda(0), p, d_in, BATCH, c->in_size, c->in_size,
                                d_keys, NULL, 1, (uint32_t)it, d_out, s) != IMBAL_OK)
            return fail(ctx);
    CK(cudaEventRecord(e1, s));
    CK(cudaEventSynchronize(e1));
    float ms = 0.0f;
    CK(cudaEventElapsedTime(&ms, e0, e1));
    report(json, "cuda", c, 0, (double)ms / 1e3 / GPU_ITERS);
    CK(cudaEventDestroy(e0));
    CK(cudaEventDestroy(e1));
    CK(cudaStreamDestroy(s));
    CK(cudaFree(d_in));
    CK(cudaFree(d_keys));
    CK(cudaFree(d_out));
    return 0;
}
#endif

int main(int argc, char **argv) {
    int json = 0, reps = 5, threads = omp_get_max_threads(), cpu = 1, cuda = -1;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            const char *d = argv[++i];
            cpu = strcmp(d, "cuda") != 0;
            cuda = strcmp(d, "cuda") == 0 ? 1 : (strcmp(d, "all") == 0 ? -1 : 0);
            if (strcmp(d, "cuda") != 0 && strcmp(d, "cpu") != 0 && strcmp(d, "all") != 0) {
                fprintf(stderr, "bench_pipeline: --device must be cpu, cuda or all\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--device cpu|cuda|all] [--threads T] [--reps R] [--json]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS || threads < 1) {
        fprintf(stderr, "bench_pipeline: --reps must be in [1, %d], --threads >= 1\n", MAX_REPS);
        return 2;
    }
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;
    if (cuda < 0) cuda = imbal_cuda_device_count() > 0;
    if (cuda && imbal_device_check(ctx, imbal_device_cuda(0)) != IMBAL_OK) return fail(ctx);
    int64_t keys[BATCH];
    for (int i = 0; i < BATCH; ++i)
        keys[i] = i;
    int rc = 0;
    for (int ci = 0; ci < 2 && rc == 0; ++ci) {
        const bench_case *c = &CASES[ci];
        imbal_aug_pipeline p;
        if (imbal_aug_pipeline_parse(ctx, c->spec, &p) != IMBAL_OK) return fail(ctx);
        size_t n = (size_t)BATCH * c->in_size * c->in_size * 3;
        uint8_t *imgs = malloc(n);
        if (!imgs) return 1;
        uint32_t x = 2463534242u;
        for (size_t k = 0; k < n; ++k) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            imgs[k] = (uint8_t)x;
        }
        if (cpu) rc = bench_cpu(ctx, c, &p, imgs, keys, threads, reps, json);
#ifdef IMBAL_WITH_CUDA
        if (cuda && rc == 0) rc = bench_cuda(ctx, c, &p, imgs, keys, json);
#endif
        free(imgs);
    }
    imbal_ctx_destroy(ctx);
    return rc;
}
