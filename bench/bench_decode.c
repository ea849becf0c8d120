/* bench_decode: JPEG decoding throughput (TurboJPEG, policy NONE), one-shot and reusable decoder.
 *
 *   bench_decode [--json] [--impl oneshot|decoder|both] [--size 32x32|256x256|1024x768]
 *                [--write-dir DIR]
 *
 * JPEGs are made in memory with tjCompress2 (quality 90, 4:2:0) from smooth gradients plus
 * uniform noise of +-12 levels so they do not compress trivially: 8 distinct images at each of
 * 32x32, 256x256 and 1024x768. A batch is decoded by an OpenMP parallel for at 1, 2, 4, ...,
 * omp_get_max_threads() threads, each thread with its own context. impl "imbal_oneshot" calls
 * imbal_image_decode (a TurboJPEG handle and an output buffer made and freed per image, then the
 * image freed); "imbal_decoder" gives each thread its own imbal_image_decoder (handle and buffer
 * reused). Reports the median of 3 timed batches (CLOCK_MONOTONIC) in images/s, images/s per
 * thread and the scaling: images/s at t threads / (t x images/s at 1 thread) of the same impl and
 * size (1 = linear), and images per CPU-second of the process (CLOCK_PROCESS_CPUTIME_ID, all
 * threads; on a machine shared with other jobs this is the per-core speed that time slicing
 * does not distort; with several threads it includes OpenMP's spin-waiting). With --json, one
 * JSON object per line and nothing else.
 * --write-dir DIR writes the exact JPEGs timed to DIR/<W>x<H>/<k>.jpg (k = 0..7), so other
 * decoders (bench/pil_decode.py) can be timed on the same files. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* CPU seconds of the whole process (every thread). */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Decodes n images (cycling through the distinct ones) on `threads` threads, with a thread's
 * decoder when decs is not NULL, one-shot otherwise; seconds. */
static double run_batch(jpeg *j, int n, int threads, imbal_ctx **ctxs, imbal_image_decoder **decs,
                        int *failed, double *cpu_seconds) {
    double c0 = cpu_now(), t0 = bench_now();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < n; ++i) {
        imbal_image img;
        int t = omp_get_thread_num();
        const jpeg *f = &j[i % DISTINCT];
        imbal_status st = decs ? imbal_image_decoder_decode(decs[t], ctxs[t], f->data, f->len,
                                                            "bench", NULL, &img)
                               : imbal_image_decode(ctxs[t], f->data, f->len, "bench", NULL, &img);
        if (st != IMBAL_OK) {
#pragma omp atomic write
            *failed = 1;
        }
        if (!decs) imbal_image_free(&img);
    }
    double wall = bench_now() - t0;
    *cpu_seconds = cpu_now() - c0;
    return wall;
}

/* Writes the distinct JPEGs of one size to dir/<W>x<H>/<k>.jpg; 0 on success. */
static int write_files(const char *dir, const char *size, const jpeg *j) {
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s", dir, size);
    mkdir(path, 0777);
    for (int k = 0; k < DISTINCT; ++k) {
        snprintf(path, sizeof path, "%s/%s/%d.jpg", dir, size, k);
        FILE *fp = fopen(path, "wb");
        int bad = !fp || fwrite(j[k].data, 1, j[k].len, fp) != j[k].len;
        if (fp && fclose(fp) != 0) bad = 1;
        if (bad) {
            fprintf(stderr, "bench_decode: cannot write '%s'\n", path);
            return 1;
        }
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: bench_decode [--json] [--impl oneshot|decoder|both] "
                    "[--size 32x32|256x256|1024x768] [--write-dir DIR]\n");
    return 2;
}

int main(int argc, char **argv) {
    int json = 0, impl_lo = 0, impl_hi = 1; /* 0 oneshot, 1 decoder */
    const char *write_dir = NULL, *only_size = NULL;
    for (int a = 1; a < argc; ++a) {
        if (strcmp(argv[a], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[a], "--impl") == 0 && a + 1 < argc) {
            const char *v = argv[++a];
            if (strcmp(v, "oneshot") == 0)
                impl_lo = impl_hi = 0;
            else if (strcmp(v, "decoder") == 0)
                impl_lo = impl_hi = 1;
            else if (strcmp(v, "both") != 0)
                return usage();
        } else if (strcmp(argv[a], "--size") == 0 && a + 1 < argc) {
            only_size = argv[++a];
        } else if (strcmp(argv[a], "--write-dir") == 0 && a + 1 < argc) {
            write_dir = argv[++a];
        } else {
            return usage();
        }
    }
    static const char *const impl_names[2] = {"imbal_oneshot", "imbal_decoder"};
    static const int sizes[3][2] = {{32, 32}, {256, 256}, {1024, 768}};
    if (only_size && strcmp(only_size, "32x32") != 0 && strcmp(only_size, "256x256") != 0 &&
        strcmp(only_size, "1024x768") != 0)
        return usage();
    int max_threads = omp_get_max_threads();
    imbal_ctx **ctxs = calloc((size_t)max_threads, sizeof *ctxs);
    imbal_image_decoder **decs = calloc((size_t)max_threads, sizeof *decs);
    if (!ctxs || !decs) return 1;
    for (int t = 0; t < max_threads; ++t)
        if (imbal_ctx_create(&ctxs[t]) != IMBAL_OK ||
            imbal_image_decoder_create(ctxs[t], &decs[t]) != IMBAL_OK) {
            fprintf(stderr, "bench_decode: %s\n", imbal_ctx_error(ctxs[t]));
            return 1;
        }
    if (!json)
        printf("%-10s %-14s %8s %14s %14s %8s %14s %10s\n", "size", "impl", "threads", "images/s",
               "per core", "scaling", "per CPU-s", "KB");
    for (int s = 0; s < 3; ++s) {
        int w = sizes[s][0], h = sizes[s][1];
        char size[32];
        snprintf(size, sizeof size, "%dx%d", w, h);
        if (only_size && strcmp(only_size, size) != 0) continue;
        jpeg j[DISTINCT];
        unsigned long bytes = 0;
        for (int k = 0; k < DISTINCT; ++k) {
            if (make_jpeg(w, h, (unsigned)k + 1, &j[k])) {
                fprintf(stderr, "bench_decode: tjCompress2 failed at %dx%d\n", w, h);
                return 1;
            }
            bytes += j[k].len;
        }
        if (write_dir && write_files(write_dir, size, j)) return 1;
        for (int impl = impl_lo; impl <= impl_hi; ++impl) {
            imbal_image_decoder **d = impl ? decs : NULL;
            double one_thread = 0;
            for (int threads = 1;; threads = threads * 2 > max_threads && threads < max_threads
                                                 ? max_threads
                                                 : threads * 2) {
                int failed = 0;
                /* calibrate: grow the batch until it takes TARGET_SECONDS */
                int n = 2 * threads;
                double cpu, sec = run_batch(j, n, threads, ctxs, d, &failed, &cpu);
                while (sec < TARGET_SECONDS && n < (1 << 24)) {
                    double grow = sec > 0 ? TARGET_SECONDS / sec * 1.1 : 8;
                    n = (int)(n * (grow > 8 ? 8 : grow < 1.5 ? 1.5 : grow));
                    sec = run_batch(j, n, threads, ctxs, d, &failed, &cpu);
                }
                double rate[REPEATS], cpu_rate[REPEATS];
                for (int r = 0; r < REPEATS; ++r) {
                    rate[r] = n / run_batch(j, n, threads, ctxs, d, &failed, &cpu);
                    cpu_rate[r] = n / cpu;
                }
                if (failed) {
                    for (int t = 0; t < max_threads; ++t)
                        if (imbal_ctx_last_status(ctxs[t]) != IMBAL_OK)
                            fprintf(stderr, "bench_decode: a decode failed: %s\n",
                                    imbal_ctx_error(ctxs[t]));
                    return 1;
                }
                double ips = bench_median(rate, REPEATS), cps = bench_median(cpu_rate, REPEATS);
                if (threads == 1) one_thread = ips;
                double scaling = ips / (threads * one_thread);
                if (json)
                    printf("{\"bench\":\"decode\",\"impl\":\"%s\",\"size\":\"%s\","
                           "\"threads\":%d,\"images_per_second\":%.6g,\"per_core\":%.6g,"
                           "\"scaling\":%.4g,\"per_cpu_second\":%.6g,\"jpeg_bytes\":%lu}\n",
                           impl_names[impl], size, threads, ips, ips / threads, scaling, cps,
                           bytes / DISTINCT);
                else
                    printf("%-10s %-14s %8d %14.1f %14.1f %7.0f%% %14.1f %10.1f\n", size,
                           impl_names[impl], threads, ips, ips / threads, 100 * scaling, cps,
                           bytes / DISTINCT / 1024.0);
                fflush(stdout);
                if (threads >= max_threads) break;
            }
        }
        for (int k = 0; k < DISTINCT; ++k)
            tjFree(j[k].data);
    }
    for (int t = 0; t < max_threads; ++t) {
        imbal_image_decoder_destroy(decs[t]);
        imbal_ctx_destroy(ctxs[t]);
    }
    free(decs);
    free(ctxs);
    return 0;
}
