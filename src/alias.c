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

/* Weights summed in fixed blocks (in parallel), the block sums combined in order by Neumaier's
 * compensated sum: deterministic for any thread count, error ~ (block + few) * eps. */
#define SUM_BLOCK 65536

static inline double weight_at(const float *wf, const double *wd, uint64_t i) {
    return wf ? (double)wf[i] : wd[i];
}

/* Sums the weights; returns the first bad index (>= n when all are finite and >= 0). */
static uint64_t checked_sum(imbal_ctx *ctx, const float *wf, const double *wd, uint64_t n,
                            double *sum_out) {
    int64_t blocks = (int64_t)((n + SUM_BLOCK - 1) / SUM_BLOCK);
    double sum = 0.0, comp = 0.0;
    uint64_t first_bad = n;
    int threads = imbal_ctx_omp_threads(ctx);
    /* Blocks are handled in groups so the partial sums fit in a small stack array. */
    enum { GROUP = 1024 };
    for (int64_t g0 = 0; g0 < blocks && first_bad == n; g0 += GROUP) {
        int64_t g1 = g0 + GROUP < blocks ? g0 + GROUP : blocks;
        double part[GROUP];
        uint64_t bad[GROUP];
#pragma omp parallel for schedule(static) num_threads(threads) if (g1 - g0 > 1)
        for (int64_t b = g0; b < g1; ++b) {
            uint64_t lo = (uint64_t)b * SUM_BLOCK, hi = lo + SUM_BLOCK < n ? lo + SUM_BLOCK : n;
            double acc[4] = {0, 0, 0, 0};
            uint64_t first = n;
            for (uint64_t i = lo; i < hi; ++i) {
                double w = weight_at(wf, wd, i);
                if (!(w >= 0.0 && w <= 1.7976931348623157e308) && first == n) first = i;
                acc[i & 3] += w;
            }
            part[b - g0] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
            bad[b - g0] = first;
        }
        for (int64_t b = g0; b < g1; ++b) {
            if (bad[b - g0] < first_bad) {
                first_bad = bad[b - g0];
                break;
            }
            double w = part[b - g0], t = sum + w;
            comp += fabs(sum) >= fabs(w) ? (sum - t) + w : (w - t) + sum;
            sum = t;
        }
    }
    *sum_out = sum + comp;
    return first_bad;
}

imbal_status imbal_alias_build(imbal_ctx *ctx, const float *wf, const double *wd, uint64_t n,
                               const char *what, imbal_alias **out) {
    *out = NULL;
    if (n < 1 || n > (1ull << 32))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "alias table: %s has %llu categories; must be 1 .. 2^32", what,
                          (unsigned long long)n);
    double sum;
    uint64_t bad = checked_sum(ctx, wf, wd, n, &sum);
    if (bad < n)
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "alias table: %s[%llu] = %g; weights must be finite and >= 0", what,
                          (unsigned long long)bad, weight_at(wf, wd, bad));
    if (!(sum > 0.0) || !isfinite(sum))
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "alias table: %s sum to %g; need a positive finite sum", what, sum);

    imbal_alias *a = imbal_xcalloc(ctx, 1, sizeof *a, "alias table");
    uint32_t *work = imbal_xmalloc(ctx, n, sizeof *work, "alias table work lists");
    if (a) a->table = imbal_xmalloc(ctx, n, sizeof *a->table, "alias table");
    if (!a || !work || !a->table) {
        free(work);
        imbal_alias_destroy(a);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    a->n = n;
    a->reject_below = (uint32_t)((1ull << 32) % n);

    /* Scaled probabilities p_i = n w_i / sum (mean 1) in double. They live in the table's own
     * storage (8 bytes per column, allocated memory, so its effective type follows the last
     * store): column l's p is dead once l is paired and its entry written, and a large column's
     * entry is written only when it is finished, so no separate array is needed. `work` holds
     * both stacks: the small ones (p < 1) grow from the front, the large ones from the back; a
     * pairing removes one entry. */
    double *p = (double *)(void *)a->table;
    double scale = (double)n / sum;
    uint64_t ns = 0, nl = 0;
    for (uint64_t i = 0; i < n; ++i) {
        double pi = weight_at(wf, wd, i) * scale;
        p[i] = pi;
        if (pi < 1.0)
            work[ns++] = (uint32_t)i;
        else
            work[n - 1 - nl++] = (uint32_t)i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t l = work[--ns];
        uint32_t g = work[n - nl];
        double pl = p[l], pg = (p[g] + pl) - 1.0; /* Vose's ordering, more accurate than
                                                     p_g - (1 - p_l) */
        imbal_alias_entry e = {threshold_of(pl), g};
        a->table[l] = e;
        p[g] = pg;
        if (pg < 1.0) {
            --nl;
            work[ns++] = g;
        }
    }
    /* What is left has p within rounding of 1: it keeps itself. */
    while (ns > 0) {
        uint32_t l = work[--ns];
        imbal_alias_entry e = {ALWAYS, l};
        a->table[l] = e;
    }
    while (nl > 0) {
        uint32_t g = work[n - nl--];
        imbal_alias_entry e = {ALWAYS, g};
        a->table[g] = e;
    }
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

/* Tables above this many columns (512 KiB) get their entries prefetched. */
#define PREFETCH_ABOVE 65536

/* Draws [lo, hi) (absolute draw numbers) of the chunk of 2 * BATCH_BLOCKS draws starting at
 * `base` (a multiple of 2 * BATCH_BLOCKS, so its blocks never cross a stream boundary). */
static void draw_chunk(const imbal_alias *a, uint64_t seed, uint32_t epoch, uint64_t base,
                       uint64_t lo, uint64_t hi, int64_t *out) {
    uint32_t w[4][BATCH_BLOCKS];
    uint64_t block = base >> 1;
    imbal_u32x4 c = imbal_philox_counter(epoch, block >> 32, IMBAL_OP_SAMPLE_DRAW, (uint32_t)block);
    imbal_philox_batch(seed, c.v[0], c.v[1], c.v[2], c.v[3], w[0], w[1], w[2], w[3]);
    int full = lo == base && hi == base + 2 * BATCH_BLOCKS;
    if (full && a->n <= PREFETCH_ABOVE) { /* small table: it sits in cache */
        for (uint32_t b = 0; b < BATCH_BLOCKS; ++b) {
            uint64_t d = base + 2 * b;
            out[2 * b] = draw_one(a, w[0][b], w[1][b], seed, epoch, d);
            out[2 * b + 1] = draw_one(a, w[2][b], w[3][b], seed, epoch, d + 1);
        }
        return;
    }
    if (full) {
        /* Columns first (a vectorisable multiply), then the lookups with the table entries
         * prefetched a few draws ahead: large tables are bound by memory latency. */
        uint32_t col[2 * BATCH_BLOCKS], coin[2 * BATCH_BLOCKS];
        uint32_t rejected = 0;
        for (uint32_t b = 0; b < BATCH_BLOCKS; ++b) {
            uint64_t m0 = (uint64_t)w[0][b] * a->n, m1 = (uint64_t)w[2][b] * a->n;
            rejected |= ((uint32_t)m0 < a->reject_below) | ((uint32_t)m1 < a->reject_below);
            col[2 * b] = (uint32_t)(m0 >> 32);
            col[2 * b + 1] = (uint32_t)(m1 >> 32);
            coin[2 * b] = w[1][b];
            coin[2 * b + 1] = w[3][b];
        }
        if (__builtin_expect(rejected != 0, 0))
            for (uint32_t b = 0; b < BATCH_BLOCKS; ++b)
                for (uint32_t h = 0; h < 2; ++h) {
                    uint64_t m = (uint64_t)w[2 * h][b] * a->n;
                    if ((uint32_t)m < a->reject_below)
                        col[2 * b + h] =
                            (uint32_t)(column_retry(a, seed, epoch, base + 2 * b + h) >> 32);
                }
        enum { AHEAD = 16 };
        if (a->n > 65536)
            for (uint32_t i = 0; i < AHEAD; ++i)
                __builtin_prefetch(&a->table[col[i]]);
        for (uint32_t i = 0; i < 2 * BATCH_BLOCKS; ++i) {
            if (a->n > 65536 && i + AHEAD < 2 * BATCH_BLOCKS)
                __builtin_prefetch(&a->table[col[i + AHEAD]]);
            imbal_alias_entry e = a->table[col[i]];
            out[i] = coin[i] < e.threshold ? col[i] : e.alias;
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
        /* Zeroed although member_of only reads it once ready: gcc 13 cannot see that. */
        imbal_rng retry = {0};
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
