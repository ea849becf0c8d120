/* Benchmark: imbal_random_uniform_fill / imbal_random_normal_fill on the CPU and, where a device
 * answers, on cuda:0.
 *
 *   bench_random_fill [--json] [--n ELEMENTS] [--reps R]
 *
 * With --json each measurement is one JSON object per line (scripts/gpu-check.sh collects them
 * into bench/results/random_fill-<gpu>.jsonl); otherwise a table. Times are wall-clock medians
 * of R calls after one warm-up; the CUDA twins synchronise before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

typedef imbal_status (*fill_fn)(imbal_ctx *, imbal_device, uint64_t, uint32_t, uint32_t, uint64_t,
                                int64_t, float *);

static int run_case(imbal_ctx *ctx, const char *name, fill_fn fn, imbal_device dev, float *out,
                    int64_t n, int reps, int json) {
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!t) return 1;
    for (int r = -1; r < reps; ++r) {
        double t0 = bench_now();
        if (fn(ctx, dev, 42, (uint32_t)(r + 1), IMBAL_OP_TEST, 0, n, out) != IMBAL_OK) {
            fprintf(stderr, "bench_random_fill: %s failed: %s\n", name, imbal_ctx_error(ctx));
            free(t);
            return 1;
        }
        if (r >= 0) t[r] = bench_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
    double med = t[reps / 2], best = t[0];
    char devname[256];
    if (imbal_device_name(ctx, dev, devname, sizeof devname) != IMBAL_OK)
        snprintf(devname, sizeof devname, "?");
    char devtext[32];
    snprintf(devtext, sizeof devtext, dev.kind == IMBAL_DEVICE_CPU ? "cpu" : "cuda:%d", dev.index);
    double gbs = (double)n * sizeof(float) / med / 1e9;
    if (json)
        printf("{\"bench\": \"random_fill\", \"case\": \"%s\", \"device\": \"%s\", "
               "\"device_name\": \"%s\", \"threads\": %d, \"n\": %lld, \"reps\": %d, "
               "\"median_s\": %.9g, \"best_s\": %.9g, \"gelem_per_s\": %.6g, \"gb_per_s\": %.6g}\n",
               name, devtext, devname, imbal_ctx_threads(ctx), (long long)n, reps, med, best,
               (double)n / med / 1e9, gbs);
    else
        printf("%-8s %-8s %-28s n=%-10lld median %9.3f ms  best %9.3f ms  %7.2f Gelem/s  %7.1f "
               "GB/s\n",
               name, devtext, devname, (long long)n, med * 1e3, best * 1e3, (double)n / med / 1e9,
               gbs);
    free(t);
    return 0;
}

int main(int argc, char **argv) {
    int json = 0, reps = 10;
    int64_t n = 1 << 24;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            n = atoll(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--json] [--n ELEMENTS] [--reps R]\n", argv[0]);
            return 2;
        }
    }
    if (n < 1 || reps < 1) {
        fprintf(stderr, "bench_random_fill: --n and --reps must be positive\n");
        return 2;
    }
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) {
        fprintf(stderr, "bench_random_fill: %s\n", imbal_ctx_error(NULL));
        return 1;
    }
    int rc = 0;
    imbal_tensor host;
    if (imbal_tensor_alloc(ctx, &host, IMBAL_F32, 1, &n, imbal_device_cpu()) != IMBAL_OK) {
        fprintf(stderr, "bench_random_fill: %s\n", imbal_ctx_error(ctx));
        imbal_ctx_destroy(ctx);
        return 1;
    }
    rc |= run_case(ctx, "uniform", imbal_random_uniform_fill, imbal_device_cpu(), host.data, n,
                   reps, json);
    rc |= run_case(ctx, "normal", imbal_random_normal_fill, imbal_device_cpu(), host.data, n, reps,
                   json);
    imbal_tensor_free(&host);
    if (imbal_cuda_device_count() > 0) {
        imbal_tensor dev;
        if (imbal_tensor_alloc(ctx, &dev, IMBAL_F32, 1, &n, imbal_device_cuda(0)) != IMBAL_OK) {
            fprintf(stderr, "bench_random_fill: %s\n", imbal_ctx_error(ctx));
            rc = 1;
        } else {
            rc |= run_case(ctx, "uniform", imbal_random_uniform_fill, dev.device, dev.data, n, reps,
                           json);
            rc |= run_case(ctx, "normal", imbal_random_normal_fill, dev.device, dev.data, n, reps,
                           json);
            imbal_tensor_free(&dev);
        }
    }
    imbal_ctx_destroy(ctx);
    return rc;
}
