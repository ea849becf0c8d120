/* Indexing speed and memory: writes a synthetic manifest of N rows (1000 classes) under $TMPDIR,
 * opens it, splits it 80/10/10, writes it back, and reports the times and the peak RSS growth.
 *
 *   bench_dataset_index [--rows N] [--json]      (default N = 1,000,000)
 *
 * With --json one object per line: {"bench", "rows", "open_s", "split_s", "write_s",
 * "rss_growth_mib", "bytes_per_sample"}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_timing.h"
#include "imbal/imbal.h"

static long peak_rss_kib(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [--rows N] [--json]\n", argv0);
    return 2;
}

static int write_manifest(const char *path, long n) {
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        return 1;
    }
    fputs("path,label\n", fp);
    for (long i = 0; i < n; ++i)
        fprintf(fp, "images/class%03ld/img_%08ld.jpg,class%03ld\n", i % 1000, i, i % 1000);
    return fclose(fp) != 0;
}

int main(int argc, char **argv) {
    long n = 1000000;
    int json = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*end || n <= 0) {
                fprintf(stderr, "bench_dataset_index: --rows '%s' is not a positive integer\n",
                        argv[i]);
                return 2;
            }
        } else
            return usage(argv[0]);
    }
    const char *tmp = getenv("TMPDIR");
    char path[4000], out[4096];
    snprintf(path, sizeof path, "%s/imbal_bench_%ld.csv", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    snprintf(out, sizeof out, "%s.out", path);
    if (write_manifest(path, n)) return 1;

    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return 1;
    long rss0 = peak_rss_kib();
    imbal_dataset *ds = NULL;
    int rc = 1;
    double t0 = bench_now();
    if (imbal_dataset_open_manifest(ctx, path, 0, &ds) != IMBAL_OK) goto fail;
    double t1 = bench_now();
    if (imbal_dataset_split(ctx, ds, 0.8, 0.1, 0.1, 1) != IMBAL_OK) goto fail;
    double t2 = bench_now();
    if (imbal_dataset_write_manifest(ctx, ds, out) != IMBAL_OK) goto fail;
    double t3 = bench_now();
    double mib = (double)(peak_rss_kib() - rss0) / 1024.0;
    double per = mib * 1048576.0 / (double)n;
    if (json)
        printf("{\"bench\": \"dataset_index\", \"rows\": %ld, \"open_s\": %.6g, \"split_s\": %.6g, "
               "\"write_s\": %.6g, \"rss_growth_mib\": %.4g, \"bytes_per_sample\": %.4g}\n",
               n, t1 - t0, t2 - t1, t3 - t2, mib, per);
    else
        printf("rows %ld: open %.3f s, split %.3f s, write %.3f s, peak RSS growth %.1f MiB "
               "(%.1f bytes/sample; paths are 35 bytes + NUL)\n",
               n, t1 - t0, t2 - t1, t3 - t2, mib, per);
    rc = 0;
fail:
    if (rc) fprintf(stderr, "bench_dataset_index: %s\n", imbal_ctx_error(ctx));
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    remove(path);
    remove(out);
    return rc;
}
