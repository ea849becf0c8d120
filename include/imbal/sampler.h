/* imbal: samplers, the epoch's index stream. Every sampler is a pure function of (seed, epoch) and
 * the labels: the same inputs give the same indices on any machine and thread count (Philox keyed
 * by seed, epoch, position and op; see philox.h). docs/sampling.md defines each one.
 *
 * Kinds (names for imbal_sampler_kind_parse in brackets):
 *   SEQUENTIAL [sequential]   0, 1, ..., N-1
 *   SHUFFLE [shuffle]         a Fisher-Yates permutation of 0..N-1, new each epoch
 *   WEIGHTED [weighted]       num_samples draws with replacement, P(i) proportional to the
 *                             per-sample weight (or to its class's weight), by Vose's alias method
 *                             (class weights: an alias table over the classes, weight w_c * n_c,
 *                             then a uniform member: the same distribution, 8 bytes per class)
 *   CLASS_POWER [class-power] class c drawn with p_c proportional to n_c^q, then a uniform sample of
 *                             it (Kang et al., ICLR 2020: q = 1 instance-balanced, 0.5 square-root,
 *                             0 class-balanced); aliases [class-balanced] (q = 0), [sqrt] (0.5)
 *   OVERSAMPLE [oversample]   every sample once, plus draws with replacement so each class reaches
 *                             max(n_c, ceil(ratio * n_max)) (ratio 0 or 1: the largest count),
 *                             like imbalanced-learn's RandomOverSampler, redrawn each epoch; shuffled
 *   UNDERSAMPLE [undersample] each class cut, without replacement, to min(n_c, floor(n_min / ratio))
 *                             (ratio 0 or 1: the smallest count), like RandomUnderSampler; shuffled
 *   ROTATING_UNDERSAMPLE [rotating-undersample] each class is cut into disjoint chunks of n_min
 *                             samples of a seeded permutation; epoch e uses chunk e mod
 *                             ceil(n_c / n_min), so every sample is seen within ceil(n_max/n_min)
 *                             epochs; shuffled. The permutation is keyed by (seed, cycle, class),
 *                             cycle = epoch / ceil(n_c / n_min); a last partial chunk is padded with
 *                             the start of the same permutation
 *   REPEAT [repeat]           class c's samples appear r_c times per epoch; a fractional r_c is
 *                             rounded stochastically per sample and epoch (repeat factor sampling,
 *                             Gupta et al., LVIS, CVPR 2019); shuffled
 *   BALANCED_BATCH [balanced-batch] batches of batch_size in which every class appears
 *                             floor(B/K) or ceil(B/K) times (the extra slots rotate over classes);
 *                             a class's samples are taken from a per-class permutation, redrawn when
 *                             used up (the per-class stream continues across epochs); num_samples
 *                             (default N) rounded up to whole batches
 *   SCHEDULE [schedule]       `before` until switch_epoch, then `after` (deferred re-sampling, Cao et
 *                             al. NeurIPS 2019); each part gets the absolute epoch number
 */
#ifndef IMBAL_SAMPLER_H
#define IMBAL_SAMPLER_H

#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_sampler_kind {
    IMBAL_SAMPLER_SEQUENTIAL = 0,
    IMBAL_SAMPLER_SHUFFLE = 1,
    IMBAL_SAMPLER_WEIGHTED = 2,
    IMBAL_SAMPLER_CLASS_POWER = 3,
    IMBAL_SAMPLER_OVERSAMPLE = 4,
    IMBAL_SAMPLER_UNDERSAMPLE = 5,
    IMBAL_SAMPLER_ROTATING_UNDERSAMPLE = 6,
    IMBAL_SAMPLER_REPEAT = 7,
    IMBAL_SAMPLER_BALANCED_BATCH = 8,
    IMBAL_SAMPLER_SCHEDULE = 9
} imbal_sampler_kind;

IMBAL_API const char *imbal_sampler_kind_name(imbal_sampler_kind kind);

typedef struct imbal_sampler_config imbal_sampler_config;
struct imbal_sampler_config {
    imbal_sampler_kind kind;
    uint64_t seed;
    int64_t num_samples;          /* WEIGHTED, CLASS_POWER, BALANCED_BATCH: draws per epoch; 0 = N */
    const double *sample_weights; /* WEIGHTED: N weights >= 0, or NULL to use class_weights */
    const double *class_weights;  /* WEIGHTED: K weights >= 0 (sample weight = its class's) */
    double q;                     /* CLASS_POWER exponent, finite */
    double ratio;                 /* OVERSAMPLE / UNDERSAMPLE: target ratio in (0, 1], 0 = full */
    const double *repeat_factors; /* REPEAT: K factors >= 0 */
    int64_t batch_size;           /* BALANCED_BATCH: >= 1 */
    uint32_t switch_epoch;        /* SCHEDULE: first epoch of `after` */
    const imbal_sampler_config *before, *after; /* SCHEDULE: neither may be a SCHEDULE */
};

/* Zeroes the config and sets kind, q = 0, ratio = 0, batch_size = 128, seed = 0. */
IMBAL_API void imbal_sampler_config_default(imbal_sampler_config *cfg, imbal_sampler_kind kind);

/* Parses a kind name (see above). "class-balanced" and "sqrt" set kind = CLASS_POWER and q. */
IMBAL_API imbal_status imbal_sampler_config_parse_kind(imbal_ctx *ctx, const char *name,
                                                       imbal_sampler_config *cfg);

typedef struct imbal_sampler imbal_sampler;

/* Validates the config against the labels (n samples, K classes; labels in [0, K)) and builds
 * what the sampler needs (alias tables, class member lists). The labels and weights are copied.
 * Errors name the bad parameter; an empty class is allowed (it is never drawn) except where the
 * kind needs every class to have samples (UNDERSAMPLE, ROTATING_UNDERSAMPLE), where it names it. */
IMBAL_API imbal_status imbal_sampler_create(imbal_ctx *ctx, const imbal_sampler_config *cfg,
                                            const int32_t *labels, int64_t n, int num_classes,
                                            imbal_sampler **out);

IMBAL_API void imbal_sampler_destroy(imbal_sampler *s);

/* Number of indices epoch `epoch` yields. */
IMBAL_API int64_t imbal_sampler_epoch_length(const imbal_sampler *s, uint32_t epoch);

/* Writes epoch `epoch`'s indices (imbal_sampler_epoch_length of them) to out. */
IMBAL_API imbal_status imbal_sampler_epoch(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                           int64_t *out);

/* ---- Vose's alias table, usable on its own ------------------------------------------------
 * Vose, "A linear algorithm for generating random numbers with a given distribution" (IEEE TSE
 * 1991). O(n) set-up, O(1) per draw, 8 bytes per category (a 32-bit threshold and a 32-bit
 * alias), so up to 2^32 categories; no 2^24 limit as in torch.multinomial. */
typedef struct imbal_alias imbal_alias;

/* weights: n values, finite and >= 0, with a positive sum. */
IMBAL_API imbal_status imbal_alias_create(imbal_ctx *ctx, const float *weights, uint64_t n,
                                          imbal_alias **out);
IMBAL_API void imbal_alias_destroy(imbal_alias *a);
IMBAL_API uint64_t imbal_alias_size(const imbal_alias *a);
/* Bytes of the table (excluding the small struct): 8 per category. */
IMBAL_API uint64_t imbal_alias_table_bytes(const imbal_alias *a);

/* Draws count categories into out. Draw number d = first + j depends only on (seed, epoch, d)
 * through Philox (op IMBAL_OP_SAMPLE_DRAW; the exact word mapping is in docs/sampling.md), so any
 * slice can be drawn independently, in parallel, with the same result. Uses the context's
 * thread count. */
IMBAL_API void imbal_alias_draw(imbal_ctx *ctx, const imbal_alias *a, uint64_t seed, uint32_t epoch, uint64_t first,
                                int64_t count, int64_t *out);

IMBAL_EXTERN_C_END

#endif
