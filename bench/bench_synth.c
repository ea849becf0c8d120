/* Benchmark of `imbal synth`: images per second for rendering alone, rendering + JPEG encoding
 * (one thread), and the whole writer (all threads, atomic files) on the default 32x32 set.
 *
 *   bench_synth [--out DIR] [--threads T] [--json]
 *
 * The writer's output goes to DIR (default: a fresh directory under $TMPDIR, removed afterwards).
 * With --json one object per line: {"bench", "case", "threads", "images", "seconds",
 * "images_per_second"} (and "bytes_per_image" for the encode case). */
#include <ftw.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "imbal/imbal.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void report(int json, const char *what, int threads, long images, double seconds,
                   double bytes_per_image) {
    if (json) {
        printf("{\"bench\": \"synth\", \"case\": \"%s\", \"threads\": %d, \"images\": %ld, "
               "\"seconds\": %.6g, \"images_per_second\": %.6g",
               what, threads, images, seconds, (double)images / seconds);
        if (bytes_per_image > 0) printf(", \"bytes_per_image\": %.1f", bytes_per_image);
        printf("}\n");
    } else {
        printf("%-28s %2d thread(s): %6ld images in %.3f s, %8.0f images/s", what, threads, images,
               seconds, (double)images / seconds);
        if (bytes_per_image > 0) printf(" (%.0f bytes/image)", bytes_per_image);
        printf("\n");
    }
}

int main(int argc, char **argv) {
    const char *out = NULL;
    int threads = 0, json = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--out DIR] [--threads T] [--json]\n", argv[0]);
            return 2;
        }
    }
    char tmpdir[4096];
    if (!out) {
        const char *t = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/imbal-bench-synth-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror(tmpdir);
            return 1;
        }
    }
    enum { S = 32, N = 20000 };
    unsigned char rgb[S * S * 3];
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;

    double t0 = omp_get_wtime();
    for (int i = 0; i < N; ++i)
        imbal_synth_render(ctx, i % 10, 1, (uint64_t)i, S, rgb);
    report(json, "render-32x32", 1, N, omp_get_wtime() - t0, 0);

    tjhandle tj = tjInitCompress();
    unsigned long cap = tjBufSize(S, S, TJSAMP_420);
    unsigned char *jpeg = tjAlloc((int)cap);
    size_t bytes = 0;
    t0 = omp_get_wtime();
    for (int i = 0; i < N; ++i) {
        imbal_synth_render(ctx, i % 10, 1, (uint64_t)i, S, rgb);
        unsigned long len = cap;
        tjCompress2(tj, rgb, S, 0, S, TJPF_RGB, &jpeg, &len, TJSAMP_420, 95, TJFLAG_NOREALLOC);
        bytes += len;
    }
    report(json, "render+jpeg-q95-420", 1, N, omp_get_wtime() - t0, (double)bytes / N);
    tjFree(jpeg);
    tjDestroy(tj);

    imbal_synth_options o;
    imbal_synth_options_default(&o);
    o.out_dir = out ? out : tmpdir;
    imbal_ctx_set_threads(ctx, threads);
    t0 = omp_get_wtime();
    int rc = imbal_synth_write(ctx, &o) != IMBAL_OK;
    double t_write = omp_get_wtime() - t0;
    if (rc) {
        fprintf(stderr, "bench_synth: %s\n", imbal_ctx_error(ctx));
    } else {
        int64_t counts[10], total = 1000; /* the balanced test split beside the train counts */
        imbal_profile_counts(ctx, o.profile, 10, o.max_per_class, o.ratio, counts);
        for (int k = 0; k < 10; ++k)
            total += counts[k];
        report(json, "write-default-set", threads ? threads : omp_get_max_threads(), (long)total,
               t_write, 0);
    }
    imbal_ctx_destroy(ctx);
    if (!out) nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
