/* bench_decode: JPEG decoding throughput of imbal_image_decode (TurboJPEG, policy NONE).
 *
 *   bench_decode [--json]
 *
 * JPEGs are made in memory with tjCompress2 (quality 90, 4:2:0) from smooth gradients plus
 * uniform noise of +-12 levels so they do not compress trivially: 8 distinct images at each of
 * 32x32, 256x256 and 1024x768. A batch is decoded by an OpenMP parallel for at 1, 2, 4, ...,
 * omp_get_max_threads() threads, each thread with its own context and decode calls. Reports the
 * median of 3 timed batches (CLOCK_MONOTONIC) in images/s and images/s per thread. With --json,
 * one JSON object per line and nothing else. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

#define DISTINCT       8
#define REPEATS        3
#define TARGET_SECONDS 0.25 /* per timed batch */

typedef struct jpeg {
    unsigned char *data;
    unsigned long len;
} jpeg;

static int make_jpeg(int w, int h, unsigned seed, jpeg *out) {
    unsigned char *px = malloc((size_t)w * h * 3);
    if (!px) return 1;
    unsigned s = seed * 2654435761u + 1;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                s = s * 1664525u + 1013904223u; /* LCG noise: content only, not an imbal draw */
                int v = (x * 255 / w + y * 255 / h * (c + 1) / 2 + (int)seed * 31 * c) % 256;
                v += (int)(s >> 27) - 16 + 4;
                px[((size_t)y * w + x) * 3 + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    tjhandle tj = tjInitCompress();
    out->data = NULL, out->len = 0;
    int rc = !tj ||
             tjCompress2(tj, px, w, 0, h, TJPF_RGB, &out->data, &out->len, TJSAMP_420, 90, 0) != 0;
    if (tj) tjDestroy(tj);
    free(px);
    return rc;
}

/* Decodes n images (cycling through the distinct ones) on `threads` threads; seconds. */
static double run_batch(jpeg *j, int n, int threads, imbal_ctx **ctxs, int *failed) {
    double t0 = bench_now();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < n; ++i) {
        imbal_image img;
        imbal_ctx *ctx = ctxs[omp_get_thread_num()];
        if (imbal_image_decode(ctx, j[i % DISTINCT].data, j[i % DISTINCT].len, "bench", NULL,
                               &img) != IMBAL_OK) {
#pragma omp atomic write
            *failed = 1;
        }
        imbal_image_free(&img);
    }
    return bench_now() - t0;
}

int main(int argc, char **argv) {
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    static const int sizes[3][2] = {{32, 32}, {256, 256}, {1024, 768}};
    int max_threads = omp_get_max_threads();
    imbal_ctx **ctxs = calloc((size_t)max_threads, sizeof *ctxs);
    for (int t = 0; t < max_threads; ++t)
        if (imbal_ctx_create(&ctxs[t]) != IMBAL_OK) {
            fprintf(stderr, "bench_decode: %s\n", imbal_ctx_error(NULL));
            return 1;
        }
    if (!json)
        printf("%-10s %8s %14s %14s %10s\n", "size", "threads", "images/s", "per core", "KB");
    for (int s = 0; s < 3; ++s) {
        int w = sizes[s][0], h = sizes[s][1];
        jpeg j[DISTINCT];
        unsigned long bytes = 0;
        for (int k = 0; k < DISTINCT; ++k) {
            if (make_jpeg(w, h, (unsigned)k + 1, &j[k])) {
                fprintf(stderr, "bench_decode: tjCompress2 failed at %dx%d\n", w, h);
                return 1;
            }
            bytes += j[k].len;
        }
        for (int threads = 1;; threads = threads * 2 > max_threads && threads < max_threads
                                             ? max_threads
                                             : threads * 2) {
            int failed = 0;
            /* calibrate: grow the batch until it takes TARGET_SECONDS */
            int n = 2 * threads;
            double sec = run_batch(j, n, threads, ctxs, &failed);
            while (sec < TARGET_SECONDS && n < (1 << 24)) {
                double grow = sec > 0 ? TARGET_SECONDS / sec * 1.1 : 8;
                n = (int)(n * (grow > 8 ? 8 : grow < 1.5 ? 1.5 : grow));
                sec = run_batch(j, n, threads, ctxs, &failed);
            }
            double rate[REPEATS];
            for (int r = 0; r < REPEATS; ++r)
                rate[r] = n / run_batch(j, n, threads, ctxs, &failed);
            if (failed) {
                fprintf(stderr, "bench_decode: a decode failed: %s\n", imbal_ctx_error(ctxs[0]));
                return 1;
            }
            double ips = bench_median(rate, REPEATS);
            char size[32];
            snprintf(size, sizeof size, "%dx%d", w, h);
            if (json)
                printf("{\"bench\":\"decode\",\"size\":\"%s\",\"threads\":%d,"
                       "\"images_per_second\":%.6g,\"per_core\":%.6g,\"jpeg_bytes\":%lu}\n",
                       size, threads, ips, ips / threads, bytes / DISTINCT);
            else
                printf("%-10s %8d %14.1f %14.1f %10.1f\n", size, threads, ips, ips / threads,
                       bytes / DISTINCT / 1024.0);
            fflush(stdout);
            if (threads >= max_threads) break;
        }
        for (int k = 0; k < DISTINCT; ++k)
            tjFree(j[k].data);
    }
    for (int t = 0; t < max_threads; ++t)
        imbal_ctx_destroy(ctxs[t]);
    free(ctxs);
    return 0;
}
