/* imbal: Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel
 * random numbers: as easy as 1, 2, 3" (SC'11, Random123).
 *
 * One header for host and device: the same (seed, epoch, sample, op) gives the same numbers in C
 * and in CUDA, whatever the batch size, thread count or launch geometry. Nothing here is keyed by
 * a thread or block index; that was PyTorch's mistake (its CUDA streams depend on the SM count).
 *
 * Keying of imbal_rng streams:
 *   key     = seed (64 bits)
 *   counter = { block, sample[31:0], epoch, op << 24 | sample[55:32] }
 * so a stream is identified by (seed, epoch, sample < 2^56, op < 256) and yields 2^32 blocks of
 * four 32-bit words. `op` separates independent uses of the same sample (crop vs flip vs sampler
 * draws); the values live in enum imbal_rng_op. */
#ifndef IMBAL_PHILOX_H
#define IMBAL_PHILOX_H

#include <stdint.h>

#include "export.h"

#if !defined(__CUDACC__)
#include <math.h>
#endif

#define IMBAL_PHILOX_M0 0xD2511F53u
#define IMBAL_PHILOX_M1 0xCD9E8D57u
#define IMBAL_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define IMBAL_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

typedef struct imbal_u32x4 {
    uint32_t v[4];
} imbal_u32x4;

/* Stream purposes. Append only: a value, once released, keys users' results. */
typedef enum imbal_rng_op {
    IMBAL_OP_TEST = 0,
    IMBAL_OP_SHUFFLE = 1,         /* Fisher-Yates permutations */
    IMBAL_OP_SAMPLE_DRAW = 2,     /* weighted / alias draws */
    IMBAL_OP_SAMPLE_RETRY = 3,    /* rare rejection retries of a draw */
    IMBAL_OP_CLASS_PERMUTE = 4,   /* per-class permutations (rotating undersampling, batches) */
    IMBAL_OP_SUBSET = 5,          /* over/undersampling choices */
    IMBAL_OP_REPEAT = 6,          /* stochastic rounding of repeat factors */
    IMBAL_OP_SPLIT = 7,           /* stratified split */
    IMBAL_OP_SYNTH = 8,           /* synthetic image drawing */
    IMBAL_OP_AUG_CROP = 16,       /* augmentation ops (Image pipeline issue) */
    IMBAL_OP_AUG_FLIP = 17,
    IMBAL_OP_AUG_ROTATE = 18,
    IMBAL_OP_AUG_JITTER = 19,
    IMBAL_OP_AUG_RESIZED_CROP = 20,
    IMBAL_OP_LOADER_REPLACE = 21, /* deterministic replacement of an unreadable sample */
    IMBAL_OP_INIT = 32 /* weight initialisation */
} imbal_rng_op;

IMBAL_HD void imbal_philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
#if defined(__CUDA_ARCH__)
    *hi = __umulhi(a, b);
    *lo = a * b;
#else
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
#endif
}

/* The bare bijection: 10 rounds of Philox4x32 on `ctr` under key (k0, k1). */
IMBAL_HD imbal_u32x4 imbal_philox4x32_10(imbal_u32x4 ctr, uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += IMBAL_PHILOX_W0;
            k1 += IMBAL_PHILOX_W1;
        }
        uint32_t hi0, lo0, hi1, lo1;
        imbal_philox_mulhilo(IMBAL_PHILOX_M0, ctr.v[0], &hi0, &lo0);
        imbal_philox_mulhilo(IMBAL_PHILOX_M1, ctr.v[2], &hi1, &lo1);
        imbal_u32x4 next;
        next.v[0] = hi1 ^ ctr.v[1] ^ k0;
        next.v[1] = lo1;
        next.v[2] = hi0 ^ ctr.v[3] ^ k1;
        next.v[3] = lo0;
        ctr = next;
    }
    return ctr;
}

/* The counter of block `block` of stream (epoch, sample, op). */
IMBAL_HD imbal_u32x4 imbal_philox_counter(uint32_t epoch, uint64_t sample, uint32_t op,
                                          uint32_t block) {
    imbal_u32x4 c;
    c.v[0] = block;
    c.v[1] = (uint32_t)sample;
    c.v[2] = epoch;
    c.v[3] = ((op & 0xFFu) << 24) | ((uint32_t)(sample >> 32) & 0xFFFFFFu);
    return c;
}

/* One block of four words of stream (seed, epoch, sample, op) without keeping state: the
 * random-access form that kernels and parallel loops use. */
IMBAL_HD imbal_u32x4 imbal_philox_block(uint64_t seed, uint32_t epoch, uint64_t sample, uint32_t op,
                                        uint32_t block) {
    return imbal_philox4x32_10(imbal_philox_counter(epoch, sample, op, block), (uint32_t)seed,
                               (uint32_t)(seed >> 32));
}

/* A sequential reader over one stream. Plain struct, no heap: put one on the stack per sample. */
typedef struct imbal_rng {
    uint32_t key[2];
    imbal_u32x4 ctr;
    imbal_u32x4 buf;
    int used; /* words of buf already handed out (4 = empty) */
} imbal_rng;

IMBAL_HD void imbal_rng_init(imbal_rng *r, uint64_t seed, uint32_t epoch, uint64_t sample,
                             uint32_t op) {
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->ctr = imbal_philox_counter(epoch, sample, op, 0);
    r->used = 4;
}

IMBAL_HD uint32_t imbal_rng_u32(imbal_rng *r) {
    if (r->used == 4) {
        r->buf = imbal_philox4x32_10(r->ctr, r->key[0], r->key[1]);
        r->ctr.v[0] += 1u;
        r->used = 0;
    }
    return r->buf.v[r->used++];
}

IMBAL_HD uint64_t imbal_rng_u64(imbal_rng *r) {
    uint64_t hi = imbal_rng_u32(r);
    return (hi << 32) | imbal_rng_u32(r);
}

/* Uniform float in [0, 1) with 24 random bits: every value is exactly representable, so the host
 * and the device agree bit for bit. */
IMBAL_HD float imbal_u32_to_unit_float(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

IMBAL_HD float imbal_rng_uniform(imbal_rng *r) { return imbal_u32_to_unit_float(imbal_rng_u32(r)); }

/* Uniform float in [lo, hi). */
IMBAL_HD float imbal_rng_uniform_range(imbal_rng *r, float lo, float hi) {
    return lo + (hi - lo) * imbal_rng_uniform(r);
}

/* Uniform double in [0, 1) with 53 random bits. */
IMBAL_HD double imbal_rng_uniform_double(imbal_rng *r) {
    return (double)(imbal_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n >= 1, without modulo bias: Lemire, "Fast random integer generation
 * in an interval" (ACM TOMACS 2019), multiply-shift with rejection of the biased low region. */
IMBAL_HD uint32_t imbal_rng_below(imbal_rng *r, uint32_t n) {
    uint64_t m = (uint64_t)imbal_rng_u32(r) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n; /* 2^32 mod n */
        while (low < threshold) {
            m = (uint64_t)imbal_rng_u32(r) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

IMBAL_HD void imbal_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
#if defined(__CUDA_ARCH__)
    *hi = __umul64hi(a, b);
    *lo = a * b;
#else
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#endif
}

/* Uniform integer in [0, n), n >= 1, for ranges beyond 2^32 (Lemire's method on 64 bits). */
IMBAL_HD uint64_t imbal_rng_below64(imbal_rng *r, uint64_t n) {
    if (n <= 0xFFFFFFFFull) return imbal_rng_below(r, (uint32_t)n);
    uint64_t hi, lo;
    imbal_mul64(imbal_rng_u64(r), n, &hi, &lo);
    if (lo < n) {
        uint64_t threshold = (0 - n) % n;
        while (lo < threshold) imbal_mul64(imbal_rng_u64(r), n, &hi, &lo);
    }
    return hi;
}

/* Standard normal from two words by Box-Muller (one of the pair). The first uniform is in (0, 1]
 * so the log is finite. The float maths functions may differ in the last ulp between host and
 * device libraries; everything else is bit-identical. */
IMBAL_HD float imbal_box_muller(uint32_t a, uint32_t b) {
    float u1 = (float)((a >> 8) + 1u) * (1.0f / 16777216.0f);
    float u2 = imbal_u32_to_unit_float(b);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}

IMBAL_HD float imbal_rng_normal(imbal_rng *r) {
    uint32_t a = imbal_rng_u32(r);
    return imbal_box_muller(a, imbal_rng_u32(r));
}

#endif
