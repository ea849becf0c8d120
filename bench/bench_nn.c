/* Benchmark: imbal_conv2d_forward / backward_data / backward_filter through the public API for
 * the convolutions of ResNet-20 on 32x32 images (He et al. 2016, CIFAR variant), on the CPU or
 * cuda:0.
 *
 *   bench_nn [--device auto|cpu|cuda] [--batch N] [--dtype f32|bf16] [--threads T] [--reps R]
 *
 * --device auto (the default) is cuda:0 where a device answers, else the CPU; a CUDA device
 * without the CUDA twin built is reported on stderr and skipped. --batch defaults to 64. Wall
 * clock (after cudaDeviceSynchronize on CUDA), one warm-up call, median of R calls (default 5 on
 * the CPU, 50 on CUDA). gflops counts 2 N K C R S P Q multiply-adds per call; images_s = N / t.
 * One JSON object per line per (layer, pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_setup.h"
#include "bench_timing.h"
#include "imbal/imbal.h"
#include "imbal/nn.h"

typedef struct layer {
    const char *name;
    int c, hw, k, r, stride, pad;
} layer;

/* ResNet-20's distinct convolutions (each stage repeats its 3x3 conv 6 times), plus the 1x1
 * stride-2 projection shortcut of the "option B" variant. */
static const layer layers[] = {
    {"stem_3x3_3to16_32", 3, 32, 16, 3, 1, 1},     {"s1_3x3_16to16_32", 16, 32, 16, 3, 1, 1},
    {"s2down_3x3_16to32_32", 16, 32, 32, 3, 2, 1}, {"s2_3x3_32to32_16", 32, 16, 32, 3, 1, 1},
    {"s3down_3x3_32to64_16", 32, 16, 64, 3, 2, 1}, {"s3_3x3_64to64_8", 64, 8, 64, 3, 1, 1},
    {"proj_1x1_16to32_32", 16, 32, 32, 1, 2, 0},
};

/* A tensor on dev filled with values in [-1, 1) (through a CPU staging copy). */
static int make(imbal_ctx *ctx, imbal_tensor *t, imbal_dtype dt, int64_t a, int64_t b, int64_t c,
                int64_t d, imbal_device dev, uint32_t seed) {
    int64_t shape[4] = {a, b, c, d};
    imbal_tensor h;
    if (imbal_tensor_alloc(ctx, &h, IMBAL_F32, 4, shape, imbal_device_cpu()) != IMBAL_OK) return -1;
    uint32_t s = seed * 2654435761u + 1u;
    for (int64_t i = 0; i < imbal_tensor_numel(&h); ++i) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        ((float *)h.data)[i] = (float)(s >> 8) / 8388608.0f - 1.0f;
    }
    int rc = -1;
    if (dt == IMBAL_F32 && dev.kind == IMBAL_DEVICE_CPU) {
        *t = h;
        return 0;
    }
    imbal_tensor conv = h;
    if (dt != IMBAL_F32) {
        if (imbal_tensor_alloc(ctx, &conv, dt, 4, shape, imbal_device_cpu()) != IMBAL_OK ||
            imbal_tensor_cast(ctx, &conv, &h) != IMBAL_OK)
            goto done;
    }
    if (imbal_tensor_alloc(ctx, t, dt, 4, shape, dev) == IMBAL_OK &&
        imbal_tensor_copy(ctx, t, &conv) == IMBAL_OK)
        rc = 0;
done:
    if (conv.data != h.data) imbal_tensor_free(&conv);
    imbal_tensor_free(&h);
    return rc;
}

static int run_layer(imbal_ctx *ctx, const layer *L, int batch, imbal_dtype dt, imbal_device dev,
                     const char *devname, int threads, int reps) {
    imbal_conv2d_shape sh = {batch, L->c, L->hw, L->hw, L->k, L->r, L->r, L->stride, L->pad};
    imbal_conv_plan *plan = NULL;
    if (imbal_conv_plan_create(ctx, dev, &sh, dt, &plan) != IMBAL_OK) {
        fprintf(stderr, "bench_nn: %s: %s\n", L->name, imbal_ctx_error(ctx));
        return -1;
    }
    int p, q;
    imbal_conv2d_out_hw(&sh, &p, &q);
    imbal_tensor x, w, y, dy, dx, dw;
    int bad = make(ctx, &x, dt, batch, L->c, L->hw, L->hw, dev, 1) |
              make(ctx, &w, dt, L->k, L->c, L->r, L->r, dev, 2) |
              make(ctx, &y, dt, batch, L->k, p, q, dev, 3) |
              make(ctx, &dy, dt, batch, L->k, p, q, dev, 4) |
              make(ctx, &dx, dt, batch, L->c, L->hw, L->hw, dev, 5) |
              make(ctx, &dw, IMBAL_F32, L->k, L->c, L->r, L->r, dev, 6);
    if (bad) {
        fprintf(stderr, "bench_nn: %s: allocation failed: %s\n", L->name, imbal_ctx_error(ctx));
        imbal_conv_plan_destroy(plan);
        return -1;
    }
    const char *pass_names[3] = {"forward", "backward_data", "backward_filter"};
    double flops = 2.0 * batch * L->k * L->c * L->r * L->r * p * q;
    double *t = malloc((size_t)reps * sizeof *t);
    for (int pass = 0; pass < 3; ++pass) {
        for (int i = -1; i < reps; ++i) {
            bench_sync_device(dev);
            double t0 = bench_now();
            imbal_status st = pass == 0   ? imbal_conv2d_forward(ctx, plan, &x, &w, &y)
                              : pass == 1 ? imbal_conv2d_backward_data(ctx, plan, &dy, &w, &dx)
                                          : imbal_conv2d_backward_filter(ctx, plan, &x, &dy, &dw);
            bench_sync_device(dev);
            if (st != IMBAL_OK) {
                fprintf(stderr, "bench_nn: %s %s: %s\n", L->name, pass_names[pass],
                        imbal_ctx_error(ctx));
                break;
            }
            if (i >= 0) t[i] = bench_now() - t0;
        }
        double med = bench_median(t, reps);
        printf(
            "{\"bench\": \"nn\", \"op\": \"conv2d_%s\", \"layer\": \"%s\", \"n\": %d, \"c\": %d, "
            "\"hw\": %d, \"k\": %d, \"r\": %d, \"stride\": %d, \"pad\": %d, \"dtype\": \"%s\", "
            "\"device\": \"%s\", \"device_name\": \"%s\", \"threads\": %d, \"reps\": %d, "
            "\"median_ms\": %.4f, \"gflops\": %.2f, \"images_s\": %.1f}\n",
            pass_names[pass], L->name, batch, L->c, L->hw, L->k, L->r, L->stride, L->pad,
            imbal_dtype_name(dt), dev.kind == IMBAL_DEVICE_CPU ? "cpu" : "cuda", devname, threads,
            reps, med * 1e3, flops / med * 1e-9, batch / med);
        fflush(stdout);
    }
    free(t);
    imbal_tensor *all[] = {&x, &w, &y, &dy, &dx, &dw};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        imbal_tensor_free(all[i]);
    imbal_conv_plan_destroy(plan);
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: bench_nn [--device auto|cpu|cuda] [--batch N] [--dtype f32|bf16] "
                    "[--threads T] [--reps R]\n");
}

int main(int argc, char **argv) {
    const char *device = "auto", *dtype = "f32";
    int batch = 64, threads = 0, reps = 0;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) continue; /* always JSON, like the other benches' --json */
        if (!v) {
            usage();
            return 2;
        }
        if (strcmp(a, "--device") == 0)
            device = v;
        else if (strcmp(a, "--batch") == 0)
            batch = atoi(v);
        else if (strcmp(a, "--dtype") == 0)
            dtype = v;
        else if (strcmp(a, "--threads") == 0)
            threads = atoi(v);
        else if (strcmp(a, "--reps") == 0)
            reps = atoi(v);
        else {
            usage();
            return 2;
        }
        ++i;
    }
    if (batch < 1 || threads < 0 || reps < 0) {
        usage();
        return 2;
    }
    imbal_device dev;
    int rc = 0;
    imbal_ctx *ctx = bench_setup("bench_nn", device, threads, &dev, &rc);
    if (!ctx) return rc;
    imbal_dtype dt;
    if (imbal_dtype_parse(ctx, dtype, &dt) != IMBAL_OK) {
        fprintf(stderr, "bench_nn: %s\n", imbal_ctx_error(ctx));
        imbal_ctx_destroy(ctx);
        return 2;
    }
    if (!reps) reps = dev.kind == IMBAL_DEVICE_CPU ? 5 : 50;
    char devname[128];
    bench_device_name(ctx, dev, devname, sizeof devname);
    int failures = 0;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; ++i)
        failures += run_layer(ctx, &layers[i], batch, dt, dev, devname, threads, reps) != 0;
    imbal_ctx_destroy(ctx);
    return failures == (int)(sizeof layers / sizeof layers[0]) ? 1 : 0;
}
