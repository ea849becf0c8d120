/* imbal: the sampler's internal pieces shared by src/sampler*.c and src/alias.c; not installed.
 * Tests include it to check the alias table itself. */
#ifndef IMBAL_SAMPLER_INTERNAL_H
#define IMBAL_SAMPLER_INTERNAL_H

#include <stdint.h>

#include "imbal/sampler.h"

/* One alias column: accept the column itself when a 32-bit uniform word is < threshold, else take
 * `alias`. 8 bytes, interleaved so that one draw touches one cache line. */
typedef struct imbal_alias_entry {
    uint32_t threshold;
    uint32_t alias;
} imbal_alias_entry;

struct imbal_alias {
    uint64_t n;            /* categories, 1 .. 2^32 */
    uint32_t reject_below; /* Lemire: a column word w with (uint32)(w * n) < this is redrawn */
    imbal_alias_entry *table;
};

/* IMBAL_PHILOX_BATCH consecutive Philox4x32-10 blocks of key `seed`, counters {c0 + i, c1, c2,
 * c3}, i < IMBAL_PHILOX_BATCH, written as four word arrays (o0[i] = word 0 of block i, ...);
 * c0 + IMBAL_PHILOX_BATCH must not wrap (callers align c0 to IMBAL_PHILOX_BATCH). Vectorised. */
#define IMBAL_PHILOX_BATCH 256
void imbal_philox_batch(uint64_t seed, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                        uint32_t *restrict o0, uint32_t *restrict o1, uint32_t *restrict o2,
                        uint32_t *restrict o3);

/* Builds a table from either float (wf) or double (wd) weights; `what` names the weight array
 * in error messages ("weights", "sample_weights", ...). */
imbal_status imbal_alias_build(imbal_ctx *ctx, const float *wf, const double *wd, uint64_t n,
                               const char *what, imbal_alias **out);

/* Class-then-member draws: draw d picks a column of `a` (whose categories are groups) and then a
 * uniform member of that group: out = members[group_start[g] + u], u < group_start[g+1] -
 * group_start[g]. Draw d uses block (d mod 2^32) of Philox stream (seed, epoch, d >> 32,
 * IMBAL_OP_SAMPLE_DRAW): word 0 column, word 1 coin, word 2 member; rejections (rare) read stream
 * (seed, epoch, d, IMBAL_OP_SAMPLE_RETRY) in order (column first, then member). Every group with
 * positive weight must be non-empty. */
void imbal_alias_draw_grouped(imbal_ctx *ctx, const imbal_alias *a, uint64_t seed, uint32_t epoch,
                              uint64_t first, int64_t count, const int64_t *group_start,
                              const int64_t *members, int64_t *out);

/* Fisher-Yates shuffle of a[0..n) in place (Durstenfeld's form): for i = n-1 down to 1, swap a[i]
 * with a[j], j = imbal_rng_below64(stream (seed, epoch, sample_base + i, op), i + 1). The draws are
 * generated in parallel in fixed-size blocks, the swaps in order, so the result does not depend on
 * the thread count. sample_base + n must stay below 2^56. */
imbal_status imbal_shuffle_keyed(imbal_ctx *ctx, int64_t *a, int64_t n, uint64_t seed,
                                 uint32_t epoch, uint64_t sample_base, uint32_t op);

/* A 64-bit key derived from the stream (seed, epoch, sample, op) block `block` (words 0 and 1):
 * nested keying, e.g. a per-class permutation keyed by (seed, cycle, class). */
uint64_t imbal_derive_seed(uint64_t seed, uint32_t epoch, uint64_t sample, uint32_t op,
                           uint32_t block);

struct imbal_sampler {
    imbal_sampler_kind kind;
    uint64_t seed;
    int64_t n;
    int num_classes;
    int32_t *labels;      /* n */
    int64_t *class_count; /* K */
    int64_t *class_start; /* K + 1: members of class c are members[class_start[c] ..] */
    int64_t *members;     /* n sample indices grouped by class, ascending within a class */
    int64_t num_samples;  /* WEIGHTED, CLASS_POWER, BALANCED_BATCH: resolved (0 -> n) */
    int64_t fixed_length; /* epoch length for every kind but REPEAT and SCHEDULE */
    /* WEIGHTED / CLASS_POWER */
    imbal_alias *alias; /* over samples (per-sample weights) or over classes */
    int alias_over_classes;
    /* OVERSAMPLE / UNDERSAMPLE: per-class target counts; ROTATING: n_min */
    int64_t *target;
    int64_t n_min;
    /* REPEAT */
    double *repeat; /* K */
    /* BALANCED_BATCH */
    int64_t batch_size;
    int num_active;  /* non-empty classes */
    int32_t *active; /* their ids, ascending */
    /* SCHEDULE */
    uint32_t switch_epoch;
    imbal_sampler *before, *after;
};

/* Per-kind builders and epoch writers (the common fields are filled before build is called). */
imbal_status imbal_sampler_build_weighted(imbal_ctx *ctx, imbal_sampler *s,
                                          const imbal_sampler_config *cfg);
imbal_status imbal_sampler_build_resample(imbal_ctx *ctx, imbal_sampler *s,
                                          const imbal_sampler_config *cfg);
imbal_status imbal_sampler_build_balanced_batch(imbal_ctx *ctx, imbal_sampler *s,
                                                const imbal_sampler_config *cfg);
imbal_status imbal_sampler_build_schedule(imbal_ctx *ctx, imbal_sampler *s,
                                          const imbal_sampler_config *cfg, const int32_t *labels);

imbal_status imbal_sampler_epoch_basic(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                       int64_t *out);
imbal_status imbal_sampler_epoch_weighted(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                          int64_t *out);
imbal_status imbal_sampler_epoch_resample(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                          int64_t *out);
imbal_status imbal_sampler_epoch_balanced_batch(imbal_ctx *ctx, const imbal_sampler *s,
                                                uint32_t epoch, int64_t *out);
int64_t imbal_sampler_repeat_length(const imbal_sampler *s, uint32_t epoch);

#endif
