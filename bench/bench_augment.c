/* Benchmark of the augmentation ops: images per second for the chain
 *   crop (pad 4, reflect) -> hflip -> rotate -> brightness -> contrast -> saturation -> hue ->
 *   normalize
 * on batches of 256 random images at 32x32 and 224x224, with one thread and with all threads
 * (images of a batch in parallel; each op on one image stays on its thread below 64K pixels), and
 * per op on one thread.
 *
 *   bench_augment [--reps R] [--json]
 *
 * With --json one object per line: {"bench", "case", "size", "threads", "images", "seconds",
 * "images_per_second"}; the median of R (default 5) repetitions. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

enum { BATCH = 256, MAX_REPS = 64 };
static const float MEAN[3] = {0.485f, 0.456f, 0.406f}, STD[3] = {0.229f, 0.224f, 0.225f};
static const uint8_t FILL[3] = {0, 0, 0};

/* op < 0: the whole chain; else only that step (0 crop .. 7 normalize) applied to the source. */
static int augment_one(imbal_ctx *ctx, const imbal_image *src, int i, int op, float *norm) {
    imbal_image a = {0}, b = {0};
    const imbal_image *cur = src;
    int s = src->width;
    float f = 0.6f + 0.8f * (float)(i % 17) / 16.0f;
#define STEP(k, call)                                                                              \
    if (op < 0 || op == (k)) {                                                                     \
        if ((call) != IMBAL_OK) return 1;                                                          \
        if (cur != src) imbal_image_free(&a);                                                      \
        a = b, cur = &a, b = (imbal_image){0};                                                     \
    }
    STEP(0, imbal_aug_crop(ctx, cur, i % 9, (i / 9) % 9, s, s, 4, IMBAL_PAD_REFLECT, 0, &b));
    STEP(1, imbal_aug_hflip(ctx, cur, &b));
    STEP(2, imbal_aug_rotate(ctx, cur, (float)(i % 31) - 15.0f, FILL, &b));
    STEP(3, imbal_aug_brightness(ctx, cur, f, &b));
    STEP(4, imbal_aug_contrast(ctx, cur, f, &b));
    STEP(5, imbal_aug_saturation(ctx, cur, f, &b));
    STEP(6, imbal_aug_hue(ctx, cur, 0.1f * (f - 1.0f), &b));
#undef STEP
    int rc = 0;
    if (op < 0 || op == 7) rc = imbal_aug_normalize(ctx, cur, MEAN, STD, norm) != IMBAL_OK;
    if (cur != src) imbal_image_free(&a);
    return rc;
}

static double run_batch(imbal_ctx *ctx, imbal_image *imgs, float *norm, int size, int threads,
                        int op) {
    int failed = 0;
    double t0 = bench_now();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4) reduction(| : failed)
    for (int i = 0; i < BATCH; ++i)
        failed |= augment_one(ctx, &imgs[i], i, op, norm + (size_t)i * 3 * size * size);
    double t = bench_now() - t0;
    if (failed) {
        fprintf(stderr, "bench_augment: %s\n", imbal_ctx_error(ctx));
        exit(1);
    }
    return t;
}

static void report(int json, const char *what, int size, int threads, double seconds) {
    if (json)
        printf("{\"bench\": \"augment\", \"case\": \"%s\", \"size\": %d, \"threads\": %d, "
               "\"images\": %d, \"seconds\": %.6g, \"images_per_second\": %.6g}\n",
               what, size, threads, BATCH, seconds, BATCH / seconds);
    else
        printf("%-11s %3dx%-3d %2d thread(s): %d images in %.4f s, %9.0f images/s\n", what, size,
               size, threads, BATCH, seconds, BATCH / seconds);
}

int main(int argc, char **argv) {
    int json = 0, reps = 5;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--reps R] [--json]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "bench_augment: --reps must be in [1, %d]\n", MAX_REPS);
        return 2;
    }
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;
    imbal_ctx_set_threads(ctx, 1); /* ops stay serial inside; the batch loop is the parallel one */
    static const char *const names[8] = {"crop",     "hflip",      "rotate", "brightness",
                                         "contrast", "saturation", "hue",    "normalize"};
    const int sizes[2] = {32, 224}, all = omp_get_max_threads();
    for (int si = 0; si < 2; ++si) {
        const int size = sizes[si];
        imbal_image *imgs = calloc(BATCH, sizeof *imgs);
        float *norm = malloc((size_t)BATCH * 3 * size * size * sizeof *norm);
        uint32_t x = 2463534242u;
        for (int i = 0; i < BATCH; ++i) {
            if (imbal_image_alloc(ctx, size, size, 3, &imgs[i]) != IMBAL_OK) return 1;
            for (size_t k = 0; k < (size_t)size * size * 3; ++k) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                imgs[i].data[k] = (uint8_t)x;
            }
        }
        const int thread_counts[2] = {1, all};
        for (int ti = 0; ti < (all > 1 ? 2 : 1); ++ti) {
            double t[MAX_REPS];
            run_batch(ctx, imgs, norm, size, thread_counts[ti], -1); /* warm-up */
            for (int r = 0; r < reps; ++r)
                t[r] = run_batch(ctx, imgs, norm, size, thread_counts[ti], -1);
            report(json, "chain", size, thread_counts[ti], bench_median(t, reps));
        }
        for (int op = 0; op < 8; ++op) {
            double t[MAX_REPS];
            for (int r = 0; r < reps; ++r)
                t[r] = run_batch(ctx, imgs, norm, size, 1, op);
            report(json, names[op], size, 1, bench_median(t, reps));
        }
        for (int i = 0; i < BATCH; ++i)
            imbal_image_free(&imgs[i]);
        free(imgs);
        free(norm);
    }
    imbal_ctx_destroy(ctx);
    return 0;
}
