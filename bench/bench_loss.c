/* Benchmark: imbal_loss forward + backward (loss with reduction mean and dlogits out of place) per
 * kind, shape and dtype, on the CPU or on cuda:0.
 *
 *   bench_loss [--device auto|cpu|cuda] [--kinds ce,focal,...] [--shapes 16384x1000,...]
 *              [--dtypes f32,bf16] [--reduction mean|sum] [--threads T] [--reps R]
 *              [--max-bytes B] [--json]
 *
 * --device auto (the default) is cuda:0 where a device answers, else the CPU; scripts/gpu-check.sh
 * runs `bench_loss --json` and so measures the GPU. On CUDA each run is timed with CUDA events
 * after the L2 cache was flushed (a 256 MiB memset), median of R runs (default 100); on the CPU
 * wall clock, median of R runs (default: as many as fit in about a second per case, 3 to 20).
 * gbps = (logits read + dlogits written + targets + per-class tables) / median time; copy_gbps is
 * a same-size device-to-device cudaMemcpy (or memcpy on the CPU) measured in the same run, counted
 * as bytes read + written. --max-bytes skips cases whose buffers exceed B bytes (default: no limit
 * on CUDA, 1 GiB on the CPU). One JSON object per line with --json, else a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imbal/half.h"
#include "bench_timing.h"
#include "imbal/imbal.h"
#include "imbal/loss.h"
#include "imbal/philox.h"

#ifdef IMBAL_WITH_CUDA
#include <cuda_runtime.h>
#endif

#define MAX_LIST    16
#define TILE_ELEMS  ((int64_t)1 << 20) /* random data is made once and tiled */
#define FLUSH_BYTES ((size_t)256 << 20)

typedef struct shape {
    int64_t n, c;
} shape;

typedef struct options {
    int json, threads, reps, on_gpu;
    imbal_reduction reduction; /* mean (default) or sum */
    int64_t max_bytes;
    imbal_loss_kind kinds[MAX_LIST];
    int nkinds;
    shape shapes[MAX_LIST];
    int nshapes;
    imbal_dtype dtypes[MAX_LIST];
    int ndtypes;
} options;

static int is_softmax(imbal_loss_kind k) {
    return k == IMBAL_LOSS_CE || k == IMBAL_LOSS_FOCAL || k == IMBAL_LOSS_BALANCED_SOFTMAX ||
           k == IMBAL_LOSS_LDAM;
}

static void dt_set(imbal_dtype dt, void *buf, int64_t i, float v) {
    if (dt == IMBAL_F32)
        ((float *)buf)[i] = v;
    else
        ((uint16_t *)buf)[i] = dt == IMBAL_F16 ? imbal_f32_to_f16(v) : imbal_f32_to_bf16(v);
}

/* ---- buffers on either device ------------------------------------------------------------------
 */

static void *dev_alloc(const options *o, size_t bytes) {
    if (!o->on_gpu) return malloc(bytes ? bytes : 1);
#ifdef IMBAL_WITH_CUDA
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
        (void)cudaGetLastError();
        return NULL;
    }
    return p;
#else
    return NULL;
#endif
}

static void dev_free(const options *o, void *p) {
    if (!p) return;
    if (!o->on_gpu) {
        free(p);
        return;
    }
#ifdef IMBAL_WITH_CUDA
    cudaFree(p);
#endif
}

/* Fills dst (count elements of es bytes) by repeating the host tile. */
static int tile_fill(const options *o, void *dst, const void *tile, int64_t tile_elems,
                     int64_t count, size_t es) {
    for (int64_t i = 0; i < count; i += tile_elems) {
        int64_t k = count - i < tile_elems ? count - i : tile_elems;
        char *d = (char *)dst + (size_t)i * es;
        if (!o->on_gpu) {
            memcpy(d, tile, (size_t)k * es);
            continue;
        }
#ifdef IMBAL_WITH_CUDA
        if (cudaMemcpy(d, tile, (size_t)k * es, cudaMemcpyHostToDevice) != cudaSuccess) return 1;
#endif
    }
    return 0;
}

/* ---- one measurement ----------------------------------------------------------------------------
 */

typedef struct bufs {
    void *logits, *dlogits, *sig_targets, *idx_targets, *counts, *loss;
} bufs;

static int time_cases(imbal_ctx *ctx, const options *o, imbal_device dev, imbal_loss_kind kind,
                      shape s, imbal_dtype dt, const bufs *b, double *ms_out) {
    int64_t shp[2] = {s.n, s.c};
    imbal_tensor logits = imbal_tensor_wrap(b->logits, dt, 2, shp, dev);
    imbal_tensor dl = imbal_tensor_wrap(b->dlogits, dt, 2, shp, dev);
    imbal_tensor tgt = is_softmax(kind) ? imbal_tensor_wrap(b->idx_targets, IMBAL_I64, 1, shp, dev)
                                        : imbal_tensor_wrap(b->sig_targets, dt, 2, shp, dev);
    imbal_tensor counts = imbal_tensor_wrap(b->counts, IMBAL_F32, 1, &s.c, dev);
    imbal_tensor loss = imbal_tensor_wrap(b->loss, IMBAL_F32, 0, NULL, dev);
    int needs_counts = kind == IMBAL_LOSS_BALANCED_SOFTMAX || kind == IMBAL_LOSS_LDAM;
    imbal_loss_inputs in = {&logits, &tgt, NULL, NULL, needs_counts ? &counts : NULL, NULL};
    imbal_loss_outputs out = {&loss, NULL, &dl};
    imbal_loss_params p;
    imbal_loss_params_default(&p, kind);
    p.reduction = o->reduction;

    if (imbal_loss(ctx, dev, &p, &in, &out) != IMBAL_OK) { /* warm-up */
        fprintf(stderr, "bench_loss: %s %lldx%lld %s: %s\n", imbal_loss_kind_name(kind),
                (long long)s.n, (long long)s.c, imbal_dtype_name(dt), imbal_ctx_error(ctx));
        return 1;
    }
    int reps = o->reps;
    double *t = NULL;
    if (!o->on_gpu) {
        double t0 = bench_now();
        if (imbal_loss(ctx, dev, &p, &in, &out) != IMBAL_OK) return 1;
        double one = bench_now() - t0;
        if (reps <= 0) {
            reps = one > 0 ? (int)(1.0 / one) : 20;
            reps = reps < 3 ? 3 : (reps > 20 ? 20 : reps);
        }
        t = malloc(sizeof(double) * (size_t)reps);
        for (int r = 0; r < reps; ++r) {
            t0 = bench_now();
            if (imbal_loss(ctx, dev, &p, &in, &out) != IMBAL_OK) {
                free(t);
                return 1;
            }
            t[r] = (bench_now() - t0) * 1e3;
        }
    } else {
#ifdef IMBAL_WITH_CUDA
        if (reps <= 0) reps = 100;
        t = malloc(sizeof(double) * (size_t)reps);
        void *flush = NULL;
        cudaEvent_t e0, e1;
        if (cudaMalloc(&flush, FLUSH_BYTES) != cudaSuccess || cudaEventCreate(&e0) != cudaSuccess ||
            cudaEventCreate(&e1) != cudaSuccess) {
            fprintf(stderr, "bench_loss: CUDA setup failed: %s\n",
                    cudaGetErrorString(cudaGetLastError()));
            free(t);
            return 1;
        }
        for (int r = 0; r < reps; ++r) {
            cudaMemsetAsync(flush, r & 0xFF, FLUSH_BYTES, 0); /* evict the logits from L2 */
            cudaEventRecord(e0, 0);
            imbal_status st = imbal_loss(ctx, dev, &p, &in, &out);
            cudaEventRecord(e1, 0);
            cudaError_t ce = cudaEventSynchronize(e1);
            float ms = 0.0f;
            cudaEventElapsedTime(&ms, e0, e1);
            if (st != IMBAL_OK || ce != cudaSuccess) {
                fprintf(stderr, "bench_loss: %s\n",
                        st != IMBAL_OK ? imbal_ctx_error(ctx) : cudaGetErrorString(ce));
                free(t);
                return 1;
            }
            t[r] = ms;
        }
        cudaEventDestroy(e0);
        cudaEventDestroy(e1);
        cudaFree(flush);
#endif
    }
    *ms_out = bench_median(t, reps);
    free(t);
    return 0;
}

/* Bytes read + written by a same-size copy, per second (GB/s). */
static double copy_gbps(const options *o, void *dst, const void *src, size_t bytes) {
    double t[10];
    for (int r = 0; r < 10; ++r) {
        if (!o->on_gpu) {
            double t0 = bench_now();
            memcpy(dst, src, bytes);
            t[r] = bench_now() - t0;
            continue;
        }
#ifdef IMBAL_WITH_CUDA
        cudaEvent_t e0, e1;
        cudaEventCreate(&e0);
        cudaEventCreate(&e1);
        cudaEventRecord(e0, 0);
        cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0);
        cudaEventRecord(e1, 0);
        cudaEventSynchronize(e1);
        float ms = 0.0f;
        cudaEventElapsedTime(&ms, e0, e1);
        cudaEventDestroy(e0);
        cudaEventDestroy(e1);
        t[r] = ms * 1e-3;
#endif
    }
    double m = bench_median(t, 10);
    return m > 0 ? 2.0 * (double)bytes / m / 1e9 : 0.0;
}

static int run_shape(imbal_ctx *ctx, const options *o, imbal_device dev, const char *devname,
                     shape s, imbal_dtype dt) {
    size_t es = imbal_dtype_size(dt);
    int64_t nc = s.n * s.c;
    int any_sigmoid = 0;
    for (int k = 0; k < o->nkinds; ++k)
        any_sigmoid |= !is_softmax(o->kinds[k]);
    int64_t need = (int64_t)es * nc * (any_sigmoid ? 3 : 2) + 8 * s.n + 4 * s.c;
    if (o->max_bytes > 0 && need > o->max_bytes) {
        fprintf(stderr, "bench_loss: skipping %lldx%lld %s: %lld bytes exceed --max-bytes %lld\n",
                (long long)s.n, (long long)s.c, imbal_dtype_name(dt), (long long)need,
                (long long)o->max_bytes);
        return 0;
    }
    bufs b = {0};
    b.logits = dev_alloc(o, es * (size_t)nc);
    b.dlogits = dev_alloc(o, es * (size_t)nc);
    b.idx_targets = dev_alloc(o, 8 * (size_t)s.n);
    b.counts = dev_alloc(o, 4 * (size_t)s.c);
    b.loss = dev_alloc(o, 4);
    if (any_sigmoid) b.sig_targets = dev_alloc(o, es * (size_t)nc);
    int rc = 1;
    if (!b.logits || !b.dlogits || !b.idx_targets || !b.counts || !b.loss ||
        (any_sigmoid && !b.sig_targets)) {
        fprintf(stderr, "bench_loss: cannot allocate %lld bytes for %lldx%lld %s\n",
                (long long)need, (long long)s.n, (long long)s.c, imbal_dtype_name(dt));
        goto done;
    }
    /* Random data: logits ~ 2 N(0, 1), 0/1 sigmoid targets, class indices, long-tailed counts. */
    {
        imbal_rng r;
        imbal_rng_init(&r, 42, 0, (uint64_t)nc, IMBAL_OP_TEST);
        int64_t te = nc < TILE_ELEMS ? nc : TILE_ELEMS;
        void *tile = malloc(es * (size_t)(te ? te : 1));
        int64_t *idx = malloc(8 * (size_t)(s.n ? s.n : 1));
        float *cnt = malloc(4 * (size_t)s.c);
        for (int64_t i = 0; i < te; ++i)
            dt_set(dt, tile, i, 2.0f * imbal_rng_normal(&r));
        int err = tile_fill(o, b.logits, tile, te, nc, es);
        for (int64_t i = 0; i < te; ++i)
            dt_set(dt, tile, i, imbal_rng_uniform(&r) < 0.1f);
        if (any_sigmoid) err |= tile_fill(o, b.sig_targets, tile, te, nc, es);
        for (int64_t i = 0; i < s.n; ++i)
            idx[i] = (int64_t)imbal_rng_below64(&r, (uint64_t)s.c);
        for (int64_t j = 0; j < s.c; ++j)
            cnt[j] = 1.0f + 1000.0f / (float)(1 + j);
        err |= tile_fill(o, b.idx_targets, idx, s.n, s.n, 8);
        err |= tile_fill(o, b.counts, cnt, s.c, s.c, 4);
        free(tile);
        free(idx);
        free(cnt);
        if (err) {
            fprintf(stderr, "bench_loss: uploading the inputs failed\n");
            goto done;
        }
    }
    double cg = copy_gbps(o, b.dlogits, b.logits, es * (size_t)nc);
    for (int k = 0; k < o->nkinds; ++k) {
        imbal_loss_kind kind = o->kinds[k];
        double ms;
        if (time_cases(ctx, o, dev, kind, s, dt, &b, &ms)) goto done;
        double bytes =
            2.0 * (double)es * (double)nc +
            (is_softmax(kind) ? 8.0 * (double)s.n : (double)es * (double)nc) +
            ((kind == IMBAL_LOSS_BALANCED_SOFTMAX || kind == IMBAL_LOSS_LDAM) ? 4.0 * (double)s.c
                                                                              : 0.0);
        double gbps = bytes / (ms * 1e-3) / 1e9;
        if (o->json)
            printf("{\"bench\": \"loss\", \"impl\": \"imbal\", \"kind\": \"%s\", \"n\": %lld, "
                   "\"c\": %lld, \"dtype\": \"%s\", \"device\": \"%s\", \"device_name\": \"%s\", "
                   "\"threads\": %d, \"reduction\": \"%s\", \"median_ms\": %.6g, \"gbps\": %.6g, "
                   "\"copy_gbps\": %.6g}\n",
                   imbal_loss_kind_name(kind), (long long)s.n, (long long)s.c, imbal_dtype_name(dt),
                   o->on_gpu ? "cuda" : "cpu", devname, imbal_ctx_threads(ctx),
                   o->reduction == IMBAL_REDUCTION_SUM ? "sum" : "mean", ms, gbps, cg);
        else
            printf("%-16s %6lld x %-6lld %-4s %-5s %10.4f ms %8.1f GB/s (copy %8.1f GB/s)\n",
                   imbal_loss_kind_name(kind), (long long)s.n, (long long)s.c, imbal_dtype_name(dt),
                   o->on_gpu ? "cuda" : "cpu", ms, gbps, cg);
        fflush(stdout);
    }
    rc = 0;
done:
    dev_free(o, b.logits);
    dev_free(o, b.dlogits);
    dev_free(o, b.idx_targets);
    dev_free(o, b.counts);
    dev_free(o, b.loss);
    dev_free(o, b.sig_targets);
    return rc;
}

/* ---- arguments ----------------------------------------------------------------------------------
 */

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--device auto|cpu|cuda] [--kinds ce,focal,...] [--shapes NxC,...] "
            "[--dtypes f32,bf16] [--reduction mean|sum] [--threads T] [--reps R] [--max-bytes B] "
            "[--json]\n",
            argv0);
    return 2;
}

/* Splits a comma list in place; returns the item count or -1 when there are too many. */
static int split(char *text, char **items) {
    int n = 0;
    for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
        if (n == MAX_LIST) return -1;
        items[n++] = tok;
    }
    return n;
}

int main(int argc, char **argv) {
    options o;
    memset(&o, 0, sizeof o);
    o.max_bytes = -1;
    o.reduction = IMBAL_REDUCTION_MEAN;
    const char *device = "auto";
    char *kinds = NULL, *shapes = NULL, *dtypes = NULL;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            o.json = 1;
        else if (strcmp(a, "--reduction") == 0 && more) {
            const char *r = argv[++i];
            if (strcmp(r, "mean") != 0 && strcmp(r, "sum") != 0) {
                fprintf(stderr, "bench_loss: --reduction '%s' is not mean or sum\n", r);
                return 2;
            }
            o.reduction = strcmp(r, "sum") == 0 ? IMBAL_REDUCTION_SUM : IMBAL_REDUCTION_MEAN;
        } else if (strcmp(a, "--device") == 0 && more)
            device = argv[++i];
        else if (strcmp(a, "--kinds") == 0 && more)
            kinds = argv[++i];
        else if (strcmp(a, "--shapes") == 0 && more)
            shapes = argv[++i];
        else if (strcmp(a, "--dtypes") == 0 && more)
            dtypes = argv[++i];
        else if (strcmp(a, "--threads") == 0 && more)
            o.threads = atoi(argv[++i]);
        else if (strcmp(a, "--reps") == 0 && more)
            o.reps = atoi(argv[++i]);
        else if (strcmp(a, "--max-bytes") == 0 && more)
            o.max_bytes = atoll(argv[++i]);
        else
            return usage(argv[0]);
    }
    imbal_ctx *ctx = NULL;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) {
        fprintf(stderr, "bench_loss: cannot create a context\n");
        return 1;
    }
    int rc = 1;
    if (strcmp(device, "auto") == 0) {
        o.on_gpu = imbal_built_with_cuda() && imbal_cuda_device_count() > 0;
    } else if (strcmp(device, "cuda") == 0 || strcmp(device, "cuda:0") == 0) {
        if (!imbal_built_with_cuda() || imbal_cuda_device_count() == 0) {
            fprintf(stderr, "bench_loss: --device cuda: %s\n",
                    imbal_built_with_cuda() ? "no CUDA device answers on this machine"
                                            : "this libimbal was built without CUDA");
            goto out;
        }
        o.on_gpu = 1;
    } else if (strcmp(device, "cpu") != 0) {
        fprintf(stderr, "bench_loss: --device '%s' is not auto, cpu or cuda\n", device);
        goto out;
    }
    if (o.threads > 0 && imbal_ctx_set_threads(ctx, o.threads) != IMBAL_OK) {
        fprintf(stderr, "bench_loss: --threads %d: %s\n", o.threads, imbal_ctx_error(ctx));
        goto out;
    }
    if (o.max_bytes < 0) o.max_bytes = o.on_gpu ? 0 : ((int64_t)1 << 30);

    char *items[MAX_LIST];
    int n;
    if (kinds) {
        if ((n = split(kinds, items)) < 0) goto too_many;
        for (int k = 0; k < n; ++k)
            if (imbal_loss_kind_parse(ctx, items[k], &o.kinds[o.nkinds++]) != IMBAL_OK) {
                fprintf(stderr, "bench_loss: --kinds: %s\n", imbal_ctx_error(ctx));
                goto out;
            }
    } else {
        for (int k = 0; k < 6; ++k)
            o.kinds[o.nkinds++] = (imbal_loss_kind)k;
    }
    if (shapes) {
        if ((n = split(shapes, items)) < 0) goto too_many;
        for (int k = 0; k < n; ++k) {
            long long sn, sc;
            char tail;
            if (sscanf(items[k], "%lldx%lld%c", &sn, &sc, &tail) != 2 || sn < 1 || sc < 1) {
                fprintf(stderr, "bench_loss: --shapes: '%s' is not NxC (e.g. 16384x1000)\n",
                        items[k]);
                goto out;
            }
            o.shapes[o.nshapes++] = (shape){sn, sc};
        }
    } else {
        static const shape defaults[] = {
            {65536, 10}, {16384, 100}, {16384, 1000}, {4096, 8142}, {8192, 32000}};
        for (int k = 0; k < 5; ++k)
            o.shapes[o.nshapes++] = defaults[k];
    }
    if (dtypes) {
        if ((n = split(dtypes, items)) < 0) goto too_many;
        for (int k = 0; k < n; ++k) {
            imbal_dtype dt;
            if (imbal_dtype_parse(ctx, items[k], &dt) != IMBAL_OK ||
                (dt != IMBAL_F32 && dt != IMBAL_F16 && dt != IMBAL_BF16)) {
                fprintf(stderr, "bench_loss: --dtypes: '%s' is not f32, f16 or bf16\n", items[k]);
                goto out;
            }
            o.dtypes[o.ndtypes++] = dt;
        }
    } else {
        o.dtypes[o.ndtypes++] = IMBAL_F32;
        o.dtypes[o.ndtypes++] = IMBAL_BF16;
    }

#ifdef IMBAL_WITH_CUDA
    if (o.on_gpu) {
        /* imbal_loss takes its small scratch buffer with cudaMallocAsync; with the default release
         * threshold (0) the pool is trimmed at every synchronisation and the next call maps memory
         * again. A training loop would keep it, as this does. */
        cudaMemPool_t pool;
        uint64_t keep = UINT64_MAX;
        if (cudaDeviceGetDefaultMemPool(&pool, 0) != cudaSuccess ||
            cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep) != cudaSuccess)
            fprintf(stderr,
                    "bench_loss: could not keep the CUDA memory pool (%s); timing goes on\n",
                    cudaGetErrorString(cudaGetLastError()));
    }
#endif
    imbal_device dev = o.on_gpu ? imbal_device_cuda(0) : imbal_device_cpu();
    char devname[256];
    if (imbal_device_name(ctx, dev, devname, sizeof devname) != IMBAL_OK)
        snprintf(devname, sizeof devname, "?");
    for (char *q = devname; *q; ++q)
        if (*q == '"' || *q == '\\') *q = ' ';
    for (int si = 0; si < o.nshapes; ++si)
        for (int di = 0; di < o.ndtypes; ++di)
            if (run_shape(ctx, &o, dev, devname, o.shapes[si], o.dtypes[di])) goto out;
    rc = 0;
    goto out;
too_many:
    fprintf(stderr, "bench_loss: more than %d items in a list\n", MAX_LIST);
out:
    imbal_ctx_destroy(ctx);
    return rc;
}
