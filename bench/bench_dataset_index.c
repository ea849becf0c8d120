/* Indexing speed and memory: writes a synthetic manifest of N rows (default 1,000,000; argv[1])
 * under $TMPDIR, opens it, splits it, writes it back, and prints times and peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

static long peak_rss_kib(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *tmp = getenv("TMPDIR");
    char path[4000], out[4096];
    snprintf(path, sizeof path, "%s/imbal_bench_%ld.csv", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    snprintf(out, sizeof out, "%s.out", path);
    FILE *fp = fopen(path, "w");
    if (!fp) return 1;
    fputs("path,label\n", fp);
    for (long i = 0; i < n; ++i)
        fprintf(fp, "images/class%03ld/img_%08ld.jpg,class%03ld\n", i % 1000, i, i % 1000);
    fclose(fp);
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;
    long rss0 = peak_rss_kib();
    imbal_dataset *ds;
    double t0 = bench_now();
    if (imbal_dataset_open_manifest(ctx, path, 0, &ds) != IMBAL_OK) {
        fprintf(stderr, "%s\n", imbal_ctx_error(ctx));
        return 1;
    }
    double t1 = bench_now();
    imbal_dataset_split(ctx, ds, 0.8, 0.1, 0.1, 1);
    double t2 = bench_now();
    imbal_dataset_write_manifest(ctx, ds, out);
    double t3 = bench_now();
    printf("rows %ld: open %.3f s, split %.3f s, write %.3f s, peak RSS growth %.1f MiB "
           "(%.1f bytes/sample; paths are 35 bytes + NUL)\n",
           n, t1 - t0, t2 - t1, t3 - t2, (double)(peak_rss_kib() - rss0) / 1024.0,
           (double)(peak_rss_kib() - rss0) * 1024.0 / (double)n);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    remove(path);
    remove(out);
    return 0;
}
