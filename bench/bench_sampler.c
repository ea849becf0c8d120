/* bench_sampler: Vose's alias table against a binary-search inverse CDF (double prefix sums), both
 * fed by the same Philox4x32-10 words (draw d: block d/2 of stream (seed, epoch, d >> 33,
 * IMBAL_OP_SAMPLE_DRAW)). Weights are a Zipf-like long tail w_i = 1/(i+1).
 *
 *   bench_sampler [--json] [--max-categories N] [--draws D] [--threads T]
 *
 * Reports setup seconds (table build / prefix sums), draws per second on T threads (default 1)
 * and table bytes per category; the median of a few repeats (CLOCK_MONOTONIC). With --json,
 * prints one JSON object per line and nothing else. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "imbal/imbal.h"
#include "sampler_internal.h"

#define REPEATS 3

/* The baseline: prefix[i] = w_0 + ... + w_i; draw d takes the 53-bit uniform u from its two words
 * (column word high, coin word low) and returns the first i with prefix[i] > u * total. */
static void cdf_draw(const double *prefix, uint64_t n, uint64_t seed, uint32_t epoch, int64_t count,
                     int threads, int64_t *out) {
    const int64_t per = 2 * IMBAL_PHILOX_BATCH;
    int64_t chunks = (count + per - 1) / per;
    double total = prefix[n - 1];
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t k = 0; k < chunks; ++k) {
        uint32_t w[4][IMBAL_PHILOX_BATCH];
        uint64_t block = (uint64_t)k * IMBAL_PHILOX_BATCH;
        imbal_u32x4 c =
            imbal_philox_counter(epoch, block >> 32, IMBAL_OP_SAMPLE_DRAW, (uint32_t)block);
        imbal_philox_batch(seed, c.v[0], c.v[1], c.v[2], c.v[3], w[0], w[1], w[2], w[3]);
        int64_t lo = k * per, hi = lo + per < count ? lo + per : count;
        for (int64_t d = lo; d < hi; ++d) {
            int64_t local = d - lo;
            int h = (int)(local & 1) * 2;
            uint64_t bits = ((uint64_t)w[h][local >> 1] << 32) | w[h + 1][local >> 1];
            double u = (double)(bits >> 11) * (1.0 / 9007199254740992.0) * total;
            uint64_t a = 0, b = n - 1; /* first index with prefix > u */
            while (a < b) {
                uint64_t m = a + (b - a) / 2;
                if (prefix[m] > u)
                    b = m;
                else
                    a = m + 1;
            }
            out[d] = (int64_t)a;
        }
    }
}

static void report(int json, const char *method, uint64_t n, double dps, double setup, double bytes,
                   int threads) {
    if (json)
        printf("{\"method\": \"%s\", \"categories\": %llu, \"draws_per_second\": %.6g, "
               "\"setup_seconds\": %.6g, \"bytes_per_category\": %g, \"threads\": %d}\n",
               method, (unsigned long long)n, dps, setup, bytes, threads);
    else
        printf("%-6s %12llu %16.4g %14.4g %10g %8d\n", method, (unsigned long long)n, dps, setup,
               bytes, threads);
    fflush(stdout);
}

static int bench_size(imbal_ctx *ctx, uint64_t n, int64_t draws, int threads, int json) {
    float *w = malloc(n * sizeof *w);
    int64_t *out = malloc((size_t)draws * sizeof *out);
    double *prefix = malloc(n * sizeof *prefix);
    if (!w || !out || !prefix) {
        fprintf(stderr, "bench_sampler: out of memory at %llu categories\n", (unsigned long long)n);
        free(w), free(out), free(prefix);
        return 1;
    }
    for (uint64_t i = 0; i < n; ++i)
        w[i] = (float)(1.0 / (double)(i + 1));
    double setup[REPEATS], rate[REPEATS];
    imbal_alias *a = NULL;
    for (int r = 0; r < REPEATS; ++r) {
        imbal_alias_destroy(a);
        a = NULL;
        double t0 = bench_now();
        if (imbal_alias_create(ctx, w, n, &a) != IMBAL_OK) {
            fprintf(stderr, "bench_sampler: %s\n", imbal_ctx_error(ctx));
            return 1;
        }
        setup[r] = bench_now() - t0;
    }
    imbal_alias_draw(ctx, a, 1, 0, 0, draws < 1000000 ? draws : 1000000, out); /* warm up */
    for (int r = 0; r < REPEATS; ++r) {
        double t0 = bench_now();
        imbal_alias_draw(ctx, a, 1, (uint32_t)r, 0, draws, out);
        rate[r] = (double)draws / (bench_now() - t0);
    }
    report(json, "alias", n, bench_median(rate, REPEATS), bench_median(setup, REPEATS),
           (double)imbal_alias_table_bytes(a) / (double)n, threads);
    imbal_alias_destroy(a);

    for (int r = 0; r < REPEATS; ++r) {
        double t0 = bench_now(), s = 0.0;
        for (uint64_t i = 0; i < n; ++i)
            prefix[i] = s += (double)w[i];
        setup[r] = bench_now() - t0;
    }
    cdf_draw(prefix, n, 1, 0, draws < 1000000 ? draws : 1000000, threads, out);
    for (int r = 0; r < REPEATS; ++r) {
        double t0 = bench_now();
        cdf_draw(prefix, n, 1, (uint32_t)r, draws, threads, out);
        rate[r] = (double)draws / (bench_now() - t0);
    }
    report(json, "cdf", n, bench_median(rate, REPEATS), bench_median(setup, REPEATS),
           (double)sizeof *prefix, threads);
    free(w), free(out), free(prefix);
    return 0;
}

int main(int argc, char **argv) {
    int json = 0, threads = 1;
    uint64_t max_categories = 100000000ull;
    int64_t draws = 20000000;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--max-categories") == 0 && i + 1 < argc) {
            max_categories = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--draws") == 0 && i + 1 < argc) {
            draws = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else {
            fprintf(
                stderr,
                "usage: bench_sampler [--json] [--max-categories N] [--draws D] [--threads T]\n");
            return 2;
        }
    }
    if (draws < 1 || threads < 1) {
        fprintf(stderr, "bench_sampler: --draws and --threads must be >= 1\n");
        return 2;
    }
    imbal_ctx *ctx = NULL;
    if (imbal_ctx_create(&ctx) != IMBAL_OK || imbal_ctx_set_threads(ctx, threads) != IMBAL_OK) {
        fprintf(stderr, "bench_sampler: %s\n", imbal_ctx_error(ctx));
        return 1;
    }
    if (!json)
        printf("%-6s %12s %16s %14s %10s %8s\n", "method", "categories", "draws/s", "setup s",
               "B/categ", "threads");
    const uint64_t sizes[] = {1000ull, 1000000ull, 100000000ull};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; ++i)
        if (sizes[i] <= max_categories) rc = bench_size(ctx, sizes[i], draws, threads, json);
    imbal_ctx_destroy(ctx);
    return rc;
}
