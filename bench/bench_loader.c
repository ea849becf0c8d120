/* bench_loader: images/s of the threaded loader over one epoch.
 *
 *   bench_loader [--json] [--dir TRAIN_DIR] [--threads T] [--size S] [--images N] [--hw H]
 *
 * Without --dir, writes a synthetic ImageFolder of N (default 2000) S x S JPEGs (default 128) in
 * 10 classes under a temporary directory (imbal_synth_write, removed afterwards). Loads one epoch
 * (a permutation, batch 64, prefetch 3, target H x H, default 64, SHORT_SIDE + AREA) with the
 * cache off at 1..T decode threads (T defaults to the number of online CPUs), then once more at T
 * threads with the cache on, timing its second epoch (served from memory). Reports the median of
 * 3 epochs per setting. With --json, one JSON object per line and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

#define REPEATS 3

static int rm_rf(const char *path) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

/* Seconds for one epoch, or a negative value on error. */
static double one_epoch(imbal_ctx *ctx, imbal_loader *L, const int64_t *idx, int64_t n) {
    double t0 = bench_now();
    if (imbal_loader_start_epoch(ctx, L, idx, n, 0) != IMBAL_OK) return -1;
    for (;;) {
        imbal_batch b;
        if (imbal_loader_next(ctx, L, &b) != IMBAL_OK) return -1;
        if (b.n == 0) break;
        imbal_loader_release(L, &b);
    }
    return bench_now() - t0;
}

static int run(imbal_ctx *ctx, imbal_dataset *ds, int threads, int cache, int hw, int json) {
    imbal_loader_config c;
    imbal_loader_config_default(&c);
    c.height = c.width = hw;
    c.batch_size = 64;
    c.threads = threads;
    c.cache = cache;
    imbal_loader *L;
    if (imbal_loader_create(ctx, ds, &c, &L) != IMBAL_OK) return 1;
    int64_t n = imbal_dataset_size(ds);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    for (int64_t i = 0; i < n; ++i)
        idx[i] = i; /* every file once */
    double rate[REPEATS];
    if (cache && one_epoch(ctx, L, idx, n) < 0) return 1; /* fill the cache */
    for (int r = 0; r < REPEATS; ++r) {
        double s = one_epoch(ctx, L, idx, n);
        if (s < 0) return 1;
        rate[r] = (double)n / s;
    }
    double ips = bench_median(rate, REPEATS);
    if (json)
        printf("{\"bench\":\"loader\",\"images_per_s\":%.6g,\"threads\":%d,\"height\":%d,"
               "\"width\":%d,\"cache\":%d,\"images\":%lld}\n",
               ips, threads, hw, hw, cache, (long long)n);
    else
        printf("%8d %6d %6dx%-6d %14.1f\n", threads, cache, hw, hw, ips);
    fflush(stdout);
    imbal_loader_destroy(L);
    free(idx);
    return 0;
}

int main(int argc, char **argv) {
    int json = 0, size = 128, hw = 64;
    long max_threads = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t images = 2000;
    const char *dir = NULL;
    for (int a = 1; a < argc; ++a) {
        if (!strcmp(argv[a], "--json"))
            json = 1;
        else if (!strcmp(argv[a], "--dir") && a + 1 < argc)
            dir = argv[++a];
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            max_threads = atol(argv[++a]);
        else if (!strcmp(argv[a], "--size") && a + 1 < argc)
            size = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--images") && a + 1 < argc)
            images = atoll(argv[++a]);
        else if (!strcmp(argv[a], "--hw") && a + 1 < argc)
            hw = atoi(argv[++a]);
        else {
            fprintf(stderr, "bench_loader: unknown argument '%s'\n", argv[a]);
            return 2;
        }
    }
    if (max_threads < 1) max_threads = 1;
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;
    char tmp[] = "/tmp/bench_loader_XXXXXX", train[4200];
    if (!dir) {
        if (!mkdtemp(tmp)) return 1;
        imbal_synth_options o;
        imbal_synth_options_default(&o);
        o.out_dir = tmp;
        o.num_classes = 10;
        o.max_per_class = images / 10;
        o.ratio = 1;
        o.size = size;
        o.test_per_class = 0;
        if (imbal_synth_write(ctx, &o) != IMBAL_OK) {
            fprintf(stderr, "bench_loader: %s\n", imbal_ctx_error(ctx));
            return 1;
        }
        snprintf(train, sizeof train, "%s/train", tmp);
        dir = train;
    }
    imbal_dataset *ds;
    int rc = imbal_dataset_open_folder(ctx, dir, 0, &ds) != IMBAL_OK;
    if (!rc && !json) printf("%8s %6s %13s %14s\n", "threads", "cache", "size", "images/s");
    for (int t = 1; !rc && t <= max_threads; ++t)
        rc = run(ctx, ds, t, 0, hw, json);
    if (!rc) rc = run(ctx, ds, (int)max_threads, 1, hw, json);
    if (rc) fprintf(stderr, "bench_loader: %s\n", imbal_ctx_error(ctx));
    if (!rc) imbal_dataset_destroy(ds);
    if (dir == train) rm_rf(tmp);
    imbal_ctx_destroy(ctx);
    return rc;
}
