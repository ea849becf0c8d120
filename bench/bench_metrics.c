/* bench_metrics: rows per second of imbal_metrics_add_logits (arg-max, top-5 rank count, NaN
 * check, confusion increment) for C = 10 and 1000, on T threads (default 1).
 *
 *   bench_metrics [--json] [--rows N] [--threads T]
 *
 * Logits are uniform in [0, 1) from Philox (IMBAL_OP_TEST), labels uniform. The median of a few
 * repeats (CLOCK_MONOTONIC). With --json, one JSON object per line and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

#define REPEATS 5

static int bench_one(imbal_ctx *ctx, int c, int64_t rows, int threads, int json) {
    float *x = malloc((size_t)rows * (size_t)c * sizeof *x);
    int32_t *y = malloc((size_t)rows * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        fprintf(stderr, "bench_metrics: out of memory\n");
        return 1;
    }
    for (int64_t i = 0; i < rows; ++i) {
        imbal_rng r;
        imbal_rng_init(&r, 7, 0, (uint64_t)i, IMBAL_OP_TEST);
        for (int j = 0; j < c; ++j)
            x[i * c + j] = imbal_rng_uniform(&r);
        y[i] = (int32_t)imbal_rng_below(&r, (uint32_t)c);
    }
    imbal_metrics *m = NULL;
    if (imbal_metrics_create(ctx, c, 5, &m) != IMBAL_OK) {
        fprintf(stderr, "bench_metrics: %s\n", imbal_ctx_error(ctx));
        free(x);
        free(y);
        return 1;
    }
    double t[REPEATS];
    for (int rep = 0; rep < REPEATS; ++rep) {
        imbal_metrics_reset(m);
        double t0 = bench_now();
        if (imbal_metrics_add_logits(ctx, m, x, y, rows) != IMBAL_OK) {
            fprintf(stderr, "bench_metrics: %s\n", imbal_ctx_error(ctx));
            break;
        }
        t[rep] = bench_now() - t0;
    }
    double sec = bench_median(t, REPEATS);
    double rps = (double)rows / sec;
    double gbs = (double)rows * c * sizeof(float) / sec / 1e9;
    if (json)
        printf("{\"bench\": \"metrics_add_logits\", \"classes\": %d, \"rows\": %lld, \"threads\": "
               "%d, \"seconds\": %.6g, \"rows_per_s\": %.6g, \"logit_gb_per_s\": %.4g}\n",
               c, (long long)rows, threads, sec, rps, gbs);
    else
        printf("add_logits C=%-5d rows=%-8lld threads=%d  %.3g rows/s  (%.3g GB/s of logits)\n", c,
               (long long)rows, threads, rps, gbs);
    imbal_metrics_destroy(m);
    free(x);
    free(y);
    return 0;
}

int main(int argc, char **argv) {
    int json = 0, threads = 1;
    int64_t rows = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_metrics [--json] [--rows N] [--threads T]\n");
            return 2;
        }
    }
    imbal_ctx *ctx = NULL;
    if (imbal_ctx_create(&ctx) != IMBAL_OK || imbal_ctx_set_threads(ctx, threads) != IMBAL_OK) {
        fprintf(stderr, "bench_metrics: %s\n", imbal_ctx_error(ctx));
        return 1;
    }
    int rc = bench_one(ctx, 10, rows > 0 ? rows : 2000000, threads, json);
    if (!rc) rc = bench_one(ctx, 1000, rows > 0 ? rows : 50000, threads, json);
    imbal_ctx_destroy(ctx);
    return rc;
}
