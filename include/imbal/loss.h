/* imbal: fused classification losses. One pass over the logits gives the loss and dlogits.
 *
 * Kinds (formulas, gradients and papers in docs/losses.md):
 *   ce                softmax cross-entropy with torch.nn.functional.cross_entropy's semantics:
 *                     class `weight`, `ignore_index`, `label_smoothing`, and a weighted mean that
 *                     divides by the sum of the targets' weights. All rows ignored: mean is NaN
 *                     (0/0, as PyTorch), sum is 0.
 *   focal             softmax focal loss -w_y (1 - p_y)^gamma log p_y (Lin et al. 2017), same
 *                     reductions and ignore_index; gamma = 0 equals ce exactly. The modulating
 *                     factor is computed in log space, so gamma < 1 and p_y -> 1 give finite
 *                     gradients.
 *   sigmoid-focal     torchvision.ops.sigmoid_focal_loss (alpha, gamma) on float targets [N, C];
 *                     mean over all N*C elements.
 *   bce               BCEWithLogits with pos_weight [C] on float targets [N, C].
 *   balanced-softmax  ce on logits + tau * log(prior), prior_c = n_c / N from class_counts (Ren et
 *                     al. 2020 at tau = 1; the logit-adjusted loss of Menon et al. 2021).
 *   ldam              ce on s * (logits - Delta_y at the target), Delta_c = m_max * (n_min/n_c)^(1/4)
 *                     so the rarest class gets m_max (Cao et al. 2019), from class_counts.
 *
 * Class-balanced variants: pass ENS weights (imbal_class_weights with IMBAL_WEIGHTS_ENS) as
 * class_weights; weight_norm picks PyTorch's weighted mean or Cui et al.'s (divide by the count).
 *
 * Inputs are row-major [N, C] logits in f32, f16 or bf16 (accumulation is always f32), on the
 * CPU or a CUDA device; every tensor of one call must be on that call's device. The CUDA path
 * launches without synchronising the host: reduced losses are written to a device scalar. */
#ifndef IMBAL_LOSS_H
#define IMBAL_LOSS_H

#include <stdint.h>

#include "tensor.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_loss_kind {
    IMBAL_LOSS_CE = 0,
    IMBAL_LOSS_FOCAL = 1,
    IMBAL_LOSS_SIGMOID_FOCAL = 2,
    IMBAL_LOSS_BCE = 3,
    IMBAL_LOSS_BALANCED_SOFTMAX = 4,
    IMBAL_LOSS_LDAM = 5
} imbal_loss_kind;

/* "ce", "focal", "sigmoid-focal", "bce", "balanced-softmax", "ldam". */
IMBAL_API const char *imbal_loss_kind_name(imbal_loss_kind kind);
IMBAL_API imbal_status imbal_loss_kind_parse(imbal_ctx *ctx, const char *name,
                                             imbal_loss_kind *out);

typedef enum imbal_reduction {
    IMBAL_REDUCTION_MEAN = 0,
    IMBAL_REDUCTION_SUM = 1,
    IMBAL_REDUCTION_NONE = 2
} imbal_reduction;

/* "mean", "sum", "none". */
IMBAL_API const char *imbal_reduction_name(imbal_reduction r);
IMBAL_API imbal_status imbal_reduction_parse(imbal_ctx *ctx, const char *name,
                                             imbal_reduction *out);

/* What a weighted mean divides by (softmax kinds with class or sample weights). */
typedef enum imbal_weight_norm {
    IMBAL_WEIGHT_NORM_PYTORCH = 0, /* sum over non-ignored rows of w_{y_n} * s_n (F.cross_entropy) */
    IMBAL_WEIGHT_NORM_COUNT = 1    /* the number of non-ignored rows (Cui et al.'s code; Keras's
                                      sum_over_batch_size) */
} imbal_weight_norm;

typedef struct imbal_loss_params {
    imbal_loss_kind kind;
    imbal_reduction reduction;     /* default mean */
    imbal_weight_norm weight_norm; /* default PYTORCH */
    float gamma;           /* focal, sigmoid-focal: >= 0; default 2 */
    float alpha;           /* sigmoid-focal: in [0, 1], or < 0 to disable; default 0.25 */
    float label_smoothing; /* ce, balanced-softmax, ldam: in [0, 1]; default 0. PyTorch's form:
                              (1-e) w_y nll + (e/C) sum_c w_c (-log p_c), both terms divided by
                              the same mean denominator. Other kinds refuse a non-zero value */
    int64_t ignore_index;  /* softmax kinds: rows with this target are skipped (loss 0, dlogits
                              0, not in the mean's denominator); default -100 */
    float tau;             /* balanced-softmax: default 1 */
    float ldam_max_margin; /* ldam: m_max > 0; default 0.5. A class with count 0 gets m_max */
    float ldam_scale;      /* ldam: s > 0; default 30 */
    float grad_scale;      /* upstream gradient of the reduced loss (dL/dloss); default 1. With
                              reduction none, every per-sample loss gets this upstream gradient */
    int check_finite;      /* 1: a NaN or +inf logit (or sigmoid-kind float target) is
                              IMBAL_ERR_DATA naming (row, class) instead of propagating; -inf
                              stays allowed (masked classes). On CUDA this also checks the
                              targets, and costs one host synchronisation. default 0 */
} imbal_loss_params;

/* Sets the defaults above for `kind`. */
IMBAL_API void imbal_loss_params_default(imbal_loss_params *p, imbal_loss_kind kind);

typedef struct imbal_loss_inputs {
    const imbal_tensor *logits;         /* [N, C] f32 | f16 | bf16 */
    const imbal_tensor *targets;        /* softmax kinds: [N] i32 | i64; sigmoid kinds: [N, C] of
                                           the logits' dtype (0/1 or soft targets) */
    const imbal_tensor *class_weights;  /* optional [C] f32, >= 0 (alpha of focal; ENS weights) */
    const imbal_tensor *sample_weights; /* optional [N] f32, >= 0 (per-batch INS/ISNS/ENS);
                                           multiplies row n's loss (and, with weight_norm
                                           PYTORCH, its share of the mean's denominator).
                                           Sigmoid kinds: class_weights multiplies column c,
                                           sample_weights row n; their mean divides by N*C */
    const imbal_tensor *class_counts;   /* [C] f32 counts: required by balanced-softmax and ldam */
    const imbal_tensor *pos_weight;     /* bce: optional [C] f32 */
} imbal_loss_inputs;

typedef struct imbal_loss_outputs {
    imbal_tensor *loss;       /* mean/sum: a 0-d (or [1]) f32 tensor; NULL to skip. Must be
                                 NULL with reduction none */
    imbal_tensor *per_sample; /* optional f32: [N] for softmax kinds (0 on ignored rows), [N, C]
                                 for sigmoid kinds; required with reduction none */
    imbal_tensor *dlogits;    /* optional, [N, C] in the logits' dtype; its data may be the
                                 logits' own (the gradient then overwrites them in place) */
} imbal_loss_outputs;

/* Computes the loss and, when out->dlogits is given, its gradient with respect to the logits,
 * in one pass, on `device`. Validates every shape, dtype, device and parameter and names the one
 * at fault. A target outside [0, C) (other than ignore_index) is IMBAL_ERR_DATA naming its row:
 * always on the CPU; on CUDA when check_finite is set (without it, such a row's loss and
 * gradient are NaN, so the host never waits). Deterministic: the same inputs give bit-identical
 * results run after run (no order-dependent float atomics). */
IMBAL_API imbal_status imbal_loss(imbal_ctx *ctx, imbal_device device, const imbal_loss_params *p,
                                  const imbal_loss_inputs *in, const imbal_loss_outputs *out);

IMBAL_EXTERN_C_END

#endif
