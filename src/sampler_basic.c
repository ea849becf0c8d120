/* imbal: the sequential and shuffle samplers and the keyed Fisher-Yates shuffle every shuffled
 * sampler ends with (Durstenfeld, CACM 7(7) 1964, "Algorithm 235: random permutation"). */
#include <stdlib.h>

#include "imbal/philox.h"
#include "internal.h"
#include "sampler_internal.h"

/* Positions whose swap targets are drawn together (in parallel) before the swaps are applied in
 * order: bounds the temporary memory and keeps the result independent of the thread count. */
#define SHUFFLE_BLOCK (1 << 16)

imbal_status imbal_shuffle_keyed(imbal_ctx *ctx, int64_t *a, int64_t n, uint64_t seed,
                                 uint32_t epoch, uint64_t sample_base, uint32_t op) {
    if (n < 2) return IMBAL_OK;
    int64_t len = n - 1 < SHUFFLE_BLOCK ? n - 1 : SHUFFLE_BLOCK;
    uint64_t *j = imbal_xmalloc(ctx, (size_t)len, sizeof *j, "shuffle draws");
    if (!j) return IMBAL_ERR_OUT_OF_MEMORY;
    int threads = imbal_ctx_omp_threads(ctx);
    for (int64_t hi = n - 1; hi >= 1; hi -= SHUFFLE_BLOCK) {
        int64_t lo = hi - SHUFFLE_BLOCK + 1 > 1 ? hi - SHUFFLE_BLOCK + 1 : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (hi - lo >= 4096)
        for (int64_t i = lo; i <= hi; ++i) {
            imbal_rng r;
            imbal_rng_init(&r, seed, epoch, sample_base + (uint64_t)i, op);
            j[hi - i] = imbal_rng_below64(&r, (uint64_t)i + 1);
        }
        for (int64_t i = hi; i >= lo; --i) {
            int64_t k = (int64_t)j[hi - i];
            int64_t t = a[i];
            a[i] = a[k];
            a[k] = t;
        }
    }
    free(j);
    return IMBAL_OK;
}

imbal_status imbal_sampler_epoch_basic(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                       int64_t *out) {
    int threads = imbal_ctx_omp_threads(ctx);
#pragma omp parallel for schedule(static) num_threads(threads) if (s->n >= 65536)
    for (int64_t i = 0; i < s->n; ++i)
        out[i] = i;
    if (s->kind == IMBAL_SAMPLER_SEQUENTIAL) return IMBAL_OK;
    return imbal_shuffle_keyed(ctx, out, s->n, s->seed, epoch, 0, IMBAL_OP_SHUFFLE);
}
