/* Benchmark of the optimizer steps: SGD (momentum 0.9, Nesterov) and AdamW over one f32
 * parameter tensor of N elements (default 11M, about ResNet-50's largest total; ResNet-32 has
 * 0.46M), on the CPU with one thread and with all threads, and on CUDA device 0 when one answers.
 * Reports the median of R steps in ms and the effective bandwidth (SGD moves 5 x 4 bytes per
 * element: p, g, buf read, p, buf written; AdamW 7 x 4).
 *
 *   bench_optim [--n N] [--reps R] [--json] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_timing.h"
#include "imbal/imbal.h"
#include "imbal/optim.h"

enum { MAX_REPS = 64 };

typedef struct state {
    imbal_tensor p, g, a, b;
} state;

static int make_state(imbal_ctx *ctx, state *s, int64_t n, imbal_device dev) {
    int64_t sh[1] = {n};
    imbal_tensor *ts[4] = {&s->p, &s->g, &s->a, &s->b};
    float *host = calloc((size_t)n, sizeof(float));
    if (!host) return 1;
    for (int64_t i = 0; i < n; ++i)
        host[i] = (float)(i % 1000) * 1e-3f - 0.5f;
    imbal_tensor h = imbal_tensor_wrap(host, IMBAL_F32, 1, sh, imbal_device_cpu());
    for (int k = 0; k < 4; ++k) {
        if (imbal_tensor_alloc(ctx, ts[k], IMBAL_F32, 1, sh, dev) != IMBAL_OK ||
            imbal_tensor_copy(ctx, ts[k], &h) != IMBAL_OK) {
            free(host);
            return 1;
        }
    }
    free(host);
    return 0;
}

static void free_state(state *s) {
    imbal_tensor_free(&s->p);
    imbal_tensor_free(&s->g);
    imbal_tensor_free(&s->a);
    imbal_tensor_free(&s->b);
}

static void run(imbal_ctx *ctx, imbal_device dev, const char *where, int threads, int64_t n,
                int reps, int json) {
    state s;
    memset(&s, 0, sizeof s);
    if (make_state(ctx, &s, n, dev)) {
        fprintf(stderr, "bench_optim: %s\n", imbal_ctx_error(ctx));
        free_state(&s);
        return;
    }
    for (int kind = 0; kind < 2; ++kind) {
        imbal_optim_config cfg;
        imbal_optim_config_default(&cfg, kind ? IMBAL_OPTIM_ADAMW : IMBAL_OPTIM_SGD);
        cfg.nesterov = !kind;
        double t[MAX_REPS];
        for (int r = -1; r < reps; ++r) {
            double t0 = bench_now();
            imbal_status st =
                kind ? imbal_adamw_step(ctx, dev, &cfg, 1e-3f, 1e-2f, r + 2, &s.p, &s.g, &s.a, &s.b)
                     : imbal_sgd_step(ctx, dev, &cfg, 0.1f, 5e-4f, &s.p, &s.g, &s.a);
            if (st != IMBAL_OK) {
                fprintf(stderr, "bench_optim: %s\n", imbal_ctx_error(ctx));
                break;
            }
            if (r >= 0) t[r] = bench_now() - t0;
        }
        double sec = bench_median(t, reps), bytes = (kind ? 28.0 : 20.0) * (double)n;
        if (json)
            printf("{\"bench\": \"optim\", \"case\": \"%s\", \"device\": \"%s\", \"threads\": %d, "
                   "\"n\": %lld, \"seconds\": %.6g, \"gb_per_second\": %.4g}\n",
                   kind ? "adamw" : "sgd-nesterov", where, threads, (long long)n, sec,
                   bytes / sec * 1e-9);
        else
            printf("%-13s %-5s threads %2d  n %lld  %8.3f ms  %7.2f GB/s\n",
                   kind ? "adamw" : "sgd-nesterov", where, threads, (long long)n, sec * 1e3,
                   bytes / sec * 1e-9);
    }
    free_state(&s);
}

int main(int argc, char **argv) {
    int64_t n = 11000000;
    int reps = 9, json = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            n = atoll(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else {
            fprintf(stderr, "usage: bench_optim [--n N] [--reps R] [--json]\n");
            return 2;
        }
    }
    if (n < 1 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "bench_optim: need n >= 1 and 1 <= reps <= %d\n", MAX_REPS);
        return 2;
    }
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;
    int all = omp_get_max_threads();
    imbal_ctx_set_threads(ctx, 1);
    run(ctx, imbal_device_cpu(), "cpu", 1, n, reps, json);
    if (all > 1) {
        imbal_ctx_set_threads(ctx, all);
        run(ctx, imbal_device_cpu(), "cpu", all, n, reps, json);
    }
    if (imbal_cuda_device_count() > 0) run(ctx, imbal_device_cuda(0), "cuda", 0, n, reps, json);
    imbal_ctx_destroy(ctx);
    return 0;
}
