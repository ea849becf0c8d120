/* Benchmark of `imbal synth`: images per second for rendering alone, rendering + JPEG encoding
 * (one thread), and the whole writer (all threads, atomic files) on the default 32x32 set.
 * Usage: bench_synth [out_dir] [threads] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "imbal/imbal.h"

int main(int argc, char **argv) {
    const char *out = argc > 1 ? argv[1] : "/tmp/imbal-bench-synth";
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    enum { S = 32, N = 20000 };
    unsigned char rgb[S * S * 3];
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;

    double t0 = omp_get_wtime();
    for (int i = 0; i < N; ++i)
        imbal_synth_render(ctx, i % 10, 1, (uint64_t)i, S, rgb);
    double t_render = omp_get_wtime() - t0;

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
    double t_encode = omp_get_wtime() - t0;
    tjFree(jpeg);
    tjDestroy(tj);

    printf("render 32x32, 1 thread:          %8.0f images/s\n", N / t_render);
    printf("render + JPEG q95 4:2:0, 1 thread: %8.0f images/s (%.0f bytes/image)\n", N / t_encode,
           (double)bytes / N);

    imbal_synth_options o;
    imbal_synth_options_default(&o);
    o.out_dir = out;
    imbal_ctx_set_threads(ctx, threads);
    t0 = omp_get_wtime();
    if (imbal_synth_write(ctx, &o) != IMBAL_OK) {
        fprintf(stderr, "%s\n", imbal_ctx_error(ctx));
        return 1;
    }
    double t_write = omp_get_wtime() - t0;
    int64_t counts[10], total = 1000;
    imbal_profile_counts(ctx, o.profile, 10, o.max_per_class, o.ratio, counts);
    for (int k = 0; k < 10; ++k)
        total += counts[k];
    printf("imbal_synth_write default set (%lld files) into %s, %d threads: %.3f s, %8.0f "
           "images/s\n",
           (long long)total, out, threads ? threads : omp_get_max_threads(), t_write,
           total / t_write);
    imbal_ctx_destroy(ctx);
    return 0;
}
