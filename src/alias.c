/* imbal: Vose's alias method (Vose, "A linear algorithm for generating random numbers with a
 * given distribution", IEEE TSE 17(9), 1991) with Philox4x32-10 words, see docs/sampling.md.
 *
 * Word mapping of imbal_alias_draw: draw d reads block (d >> 1) mod 2^32 of stream
 * (seed, epoch, d >> 33, IMBAL_OP_SAMPLE_DRAW); an even d uses words 0 (column) and 1 (coin), an
 * odd d words 2 and 3. The column is Lemire's multiply-shift floor(w * n / 2^32), redrawn from
 * stream (seed, epoch, d, IMBAL_OP_SAMPLE_RETRY) when it falls in the biased low region; the draw
 * is the column when coin < threshold, else its alias. So draw d depends only on (seed, epoch, d).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/philox.h"
#include "internal.h"
#include "sampler_internal.h"

#define TWO32  4294967296.0
#define ALWAYS 0xFFFFFFFFu /* threshold of a column that keeps itself (its alias is itself) */

#define BATCH_BLOCKS IMBAL_PHILOX_BATCH

static uint32_t threshold_of(double p) {
    double t = p * TWO32;
    if (!(t < 4294967295.0)) return ALWAYS;
    if (t <= 0.0) return 0;
    return (uint32_t)(t + 0.5);
}

imbal_status imbal_alias_build(imbal_ctx *ctx, const float *wf, const double *wd, uint64_t n,
                               const char *what, imbal_alias **out) {
    *out = NULL;
    if (n < 1 || n > (1ull << 32))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "alias table: %s has %llu categories; must be 1 .. 2^32", what,
                          (unsigned long long)n);
    /* Neumaier's compensated sum: 2^32 terms would otherwise lose ~n * eps of the total. */
    double sum = 0.0, comp = 0.0;
    for (uint64_t i = 0; i < n; ++i) {
        double w = wf ? (double)wf[i] : wd[i];
        if (!(w >= 0.0) || !isfinite(w))
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "alias table: %s[%llu] = %g; weights must be finite and >= 0", what,
                              (unsigned long long)i, w);
        double t = sum + w;
        comp += fabs(sum) >= w ? (sum - t) + w : (w - t) + sum;
        sum = t;
    }
    sum += comp;
    if (!(sum > 0.0) || !isfinite(sum))
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "alias table: %s sum to %g; need a positive finite sum", what, sum);

    imbal_alias *a = imbal_xcalloc(ctx, 1, sizeof *a, "alias table");
    double *p = imbal_xmalloc(ctx, n, sizeof *p, "alias table scaled probabilities");
    uint32_t *work = imbal_xmalloc(ctx, n, sizeof *work, "alias table work lists");
    if (a) a->table = imbal_xmalloc(ctx, n, sizeof *a->table, "alias table");
    if (!a || !p || !work || !a->table) {
        free(p), free(work);
        imbal_alias_destroy(a);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    a->n = n;
    a->reject_below = (uint32_t)((1ull << 32) % n);

    /* Scaled probabilities n * w / sum average 1. `work` holds both stacks: the small ones (< 1)
     * grow from the front, the large ones from the back; a pairing removes one entry. */
    double scale = (double)n / sum;
    uint64_t ns = 0, nl = 0;
    for (uint64_t i = 0; i < n; ++i) {
        p[i] = (wf ? (double)wf[i] : wd[i]) * scale;
        if (p[i] < 1.0)
            work[ns++] = (uint32_t)i;
        else
            work[n - 1 - nl++] = (uint32_t)i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t l = work[--ns];
        uint32_t g = work[n - nl];
        a->table[l].threshold = threshold_of(p[l]);
        a->table[l].alias = g;
        p[g] = (p[g] + p[l]) - 1.0; /* Vose's ordering, more accurate than p_g - (1 - p_l) */
        if (p[g] < 1.0) {
            --nl;
            work[ns++] = g;
        }
    }
    /* What is left has p within rounding of 1: it keeps itself. */
    while (ns > 0) {
        uint32_t l = work[--ns];
        a->table[l].threshold = ALWAYS;
        a->table[l].alias = l;
    }
    while (nl > 0) {
        uint32_t g = work[n - nl--];
        a->table[g].threshold = ALWAYS;
        a->table[g].alias = g;
    }
    free(p);
    free(work);
    *out = a;
    return IMBAL_OK;
}

imbal_status imbal_alias_create(imbal_ctx *ctx, const float *weights, uint64_t n,
                                imbal_alias **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_alias_create: out is NULL");
    *out = NULL;
    if (!weights)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_alias_create: weights is NULL");
    return imbal_alias_build(ctx, weights, NULL, n, "weights", out);
}

void imbal_alias_destroy(imbal_alias *a) {
    if (!a) return;
    free(a->table);
    free(a);
}

uint64_t imbal_alias_size(const imbal_alias *a) {
    return a ? a->n : 0;
}

uint64_t imbal_alias_table_bytes(const imbal_alias *a) {
    return a ? a->n * sizeof(imbal_alias_entry) : 0;
}

uint64_t imbal_derive_seed(uint64_t seed, uint32_t epoch, uint64_t sample, uint32_t op,
                           uint32_t block) {
    imbal_u32x4 b = imbal_philox_block(seed, epoch, sample, op, block);
    return ((uint64_t)b.v[1] << 32) | b.v[0];
}

/* Structure of arrays and a fixed trip count so that the loop vectorises (32x32->64 multiplies
 * map to vpmuludq); target_clones picks the widest vector unit at load time. */
__attribute__((target_clones("avx512f", "avx2", "default"))) void
imbal_philox_batch(uint64_t seed, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                   uint32_t *restrict o0, uint32_t *restrict o1, uint32_t *restrict o2,
                   uint32_t *restrict o3) {
    uint32_t k0[10], k1[10];
    k0[0] = (uint32_t)seed;
    k1[0] = (uint32_t)(seed >> 32);
    for (int r = 1; r < 10; ++r) {
        k0[r] = k0[r - 1] + IMBAL_PHILOX_W0;
        k1[r] = k1[r - 1] + IMBAL_PHILOX_W1;
    }
    for (uint32_t i = 0; i < BATCH_BLOCKS; ++i) {
        uint32_t x0 = c0 + i, x1 = c1, x2 = c2, x3 = c3;
        for (int r = 0; r < 10; ++r) {
            uint64_t p0 = (uint64_t)IMBAL_PHILOX_M0 * x0;
            uint64_t p1 = (uint64_t)IMBAL_PHILOX_M1 * x2;
            uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1 ^ k0[r];
            uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3 ^ k1[r];
            x1 = (uint32_t)p1;
            x3 = (uint32_t)p0;
            x0 = y0;
            x2 = y2;
        }
        o0[i] = x0;
        o1[i] = x1;
        o2[i] = x2;
        o3[i] = x3;
    }
}

/* Lemire's redraw: the column word fell in the biased low region (low half of w * n below
 * 2^32 mod n), so read fresh words from the retry stream of draw d. Rare, kept out of line. */
__attribute__((noinline, cold)) static uint64_t column_retry(const imbal_alias *a, uint64_t seed,
                                                             uint32_t epoch, uint64_t d) {
    imbal_rng r;
    imbal_rng_init(&r, seed, epoch, d, IMBAL_OP_SAMPLE_RETRY);
    uint64_t m;
    do
        m = (uint64_t)imbal_rng_u32(&r) * a->n;
    while ((uint32_t)m < a->reject_below);
    return m;
}

/* The draw from column word w and coin word: column floor(w * n / 2^32) (n = 2^32 never
 * rejects), kept when coin < threshold, else its alias. */
static inline int64_t draw_one(const imbal_alias *a, uint32_t w, uint32_t coin, uint64_t seed,
                               uint32_t epoch, uint64_t d) {
    uint64_t m = (uint64_t)w * a->n;
    if (__builtin_expect((uint32_t)m < a->reject_below, 0)) m = column_retry(a, seed, epoch, d);
    uint32_t col = (uint32_t)(m >> 32);
    imbal_alias_entry e = a->table[col];
    return coin < e.threshold ? col : e.alias;
}

/* Draws [lo, hi) (absolute draw numbers) of the chunk of 2 * BATCH_BLOCKS draws starting at
 * `base` (a multiple of 2 * BATCH_BLOCKS, so its blocks never cross a stream boundary). */
static void draw_chunk(const imbal_alias *a, uint64_t seed, uint32_t epoch, uint64_t base,
                       uint64_t lo, uint64_t hi, int64_t *out) {
    uint32_t w[4][BATCH_BLOCKS];
    uint64_t block = base >> 1;
    imbal_u32x4 c = imbal_philox_counter(epoch, block >> 32, IMBAL_OP_SAMPLE_DRAW, (uint32_t)block);
    imbal_philox_batch(seed, c.v[0], c.v[1], c.v[2], c.v[3], w[0], w[1], w[2], w[3]);
    if (lo == base && hi == base + 2 * BATCH_BLOCKS) {
        for (uint32_t b = 0; b < BATCH_BLOCKS; ++b) {
            uint64_t d = base + 2 * b;
            out[2 * b] = draw_one(a, w[0][b], w[1][b], seed, epoch, d);
            out[2 * b + 1] = draw_one(a, w[2][b], w[3][b], seed, epoch, d + 1);
        }
        return;
    }
    for (uint64_t d = lo; d < hi; ++d) {
        uint64_t local = d - base;
        uint32_t b = (uint32_t)(local >> 1), h = (uint32_t)(local & 1) * 2;
        *out++ = draw_one(a, w[h][b], w[h + 1][b], seed, epoch, d);
    }
}

/* Runs `fn` over the fixed chunks that cover draws [first, first + count): chunk boundaries are
 * multiples of the chunk size whatever the thread count, so the result never depends on it. */
#define PARALLEL_MIN_DRAWS (1 << 16)

void imbal_alias_draw(imbal_ctx *ctx, const imbal_alias *a, uint64_t seed, uint32_t epoch,
                      uint64_t first, int64_t count, int64_t *out) {
    if (!a || !out || count <= 0) return;
    const uint64_t per = 2 * BATCH_BLOCKS;
    uint64_t end = first + (uint64_t)count;
    int64_t c0 = (int64_t)(first / per), c1 = (int64_t)((end - 1) / per);
    int threads = imbal_ctx_omp_threads(ctx);
#pragma omp parallel for schedule(static) num_threads(threads) if (count >= PARALLEL_MIN_DRAWS)
    for (int64_t k = c0; k <= c1; ++k) {
        uint64_t base = (uint64_t)k * per;
        uint64_t lo = base > first ? base : first;
        uint64_t hi = base + per < end ? base + per : end;
        draw_chunk(a, seed, epoch, base, lo, hi, out + (lo - first));
    }
}

/* A uniform index below m (>= 1) from word w, Lemire's method; rejections read `retry`. */
static uint64_t member_of(uint64_t m, uint32_t w, imbal_rng *retry, int *retry_ready, uint64_t seed,
                          uint32_t epoch, uint64_t d) {
    if (m > (1ull << 32)) {
        if (!*retry_ready) {
            imbal_rng_init(retry, seed, epoch, d, IMBAL_OP_SAMPLE_RETRY);
            *retry_ready = 1;
        }
        return imbal_rng_below64(retry, m);
    }
    uint64_t prod = (uint64_t)w * m;
    if ((uint32_t)prod < m) {
        uint32_t reject = (uint32_t)((1ull << 32) % m);
        if ((uint32_t)prod < reject) {
            if (!*retry_ready) {
                imbal_rng_init(retry, seed, epoch, d, IMBAL_OP_SAMPLE_RETRY);
                *retry_ready = 1;
            }
            do
                prod = (uint64_t)imbal_rng_u32(retry) * m;
            while ((uint32_t)prod < reject);
        }
    }
    return prod >> 32;
}

static void draw_grouped_chunk(const imbal_alias *a, uint64_t seed, uint32_t epoch, uint64_t base,
                               uint64_t lo, uint64_t hi, const int64_t *group_start,
                               const int64_t *members, int64_t *out) {
    uint32_t w[4][BATCH_BLOCKS];
    imbal_u32x4 c = imbal_philox_counter(epoch, base >> 32, IMBAL_OP_SAMPLE_DRAW, (uint32_t)base);
    imbal_philox_batch(seed, c.v[0], c.v[1], c.v[2], c.v[3], w[0], w[1], w[2], w[3]);
    for (uint64_t d = lo; d < hi; ++d) {
        uint32_t b = (uint32_t)(d - base);
        imbal_rng retry;
        int ready = 0;
        uint64_t m = (uint64_t)w[0][b] * a->n;
        if ((uint32_t)m < a->reject_below) {
            imbal_rng_init(&retry, seed, epoch, d, IMBAL_OP_SAMPLE_RETRY);
            ready = 1;
            do
                m = (uint64_t)imbal_rng_u32(&retry) * a->n;
            while ((uint32_t)m < a->reject_below);
        }
        uint32_t col = (uint32_t)(m >> 32);
        uint32_t g = w[1][b] < a->table[col].threshold ? col : a->table[col].alias;
        uint64_t size = (uint64_t)(group_start[g + 1] - group_start[g]);
        *out++ = members[group_start[g] +
                         (int64_t)member_of(size, w[2][b], &retry, &ready, seed, epoch, d)];
    }
}

void imbal_alias_draw_grouped(imbal_ctx *ctx, const imbal_alias *a, uint64_t seed, uint32_t epoch,
                              uint64_t first, int64_t count, const int64_t *group_start,
                              const int64_t *members, int64_t *out) {
    if (count <= 0) return;
    const uint64_t per = BATCH_BLOCKS;
    uint64_t end = first + (uint64_t)count;
    int64_t c0 = (int64_t)(first / per), c1 = (int64_t)((end - 1) / per);
    int threads = imbal_ctx_omp_threads(ctx);
#pragma omp parallel for schedule(static) num_threads(threads) if (count >= PARALLEL_MIN_DRAWS)
    for (int64_t k = c0; k <= c1; ++k) {
        uint64_t base = (uint64_t)k * per;
        uint64_t lo = base > first ? base : first;
        uint64_t hi = base + per < end ? base + per : end;
        draw_grouped_chunk(a, seed, epoch, base, lo, hi, group_start, members, out + (lo - first));
    }
}
