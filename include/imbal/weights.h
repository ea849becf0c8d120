/* imbal: class weights. One function, a scheme name; the exact formulas are in docs/weights.md.
 *
 * With n_c samples in class c, N in all and K classes:
 *   none            1
 *   inverse         N / n_c
 *   balanced        N / (K n_c)               scikit-learn's compute_class_weight("balanced")
 *   one-minus-freq  1 - n_c / N
 *   ins             1 / n_c                   \
 *   isns            1 / sqrt(n_c)              > each normalised so the K weights sum to K
 *   ens             (1 - b) / (1 - b^n_c)     /  (Cui et al., CVPR 2019; b = beta)
 *   manual          given per class
 * then w_c <- w_c^power (power = 1 leaves them alone; 0.5 softens); for ins/isns/ens the
 * normalisation to sum K is applied after the power. A class with n_c = 0 is an error naming it
 * unless zero_weight_for_empty is set, in which case it gets weight 0 and is left out of the
 * normalisation (the others then sum to the number of non-empty classes). This applies to every
 * count-based scheme, one-minus-freq included; K in "balanced" always counts all K classes.
 * none and manual ignore counts (they may be NULL there); manual weights are not normalised. */
#ifndef IMBAL_WEIGHTS_H
#define IMBAL_WEIGHTS_H

#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_weight_scheme {
    IMBAL_WEIGHTS_NONE = 0,
    IMBAL_WEIGHTS_INVERSE = 1,
    IMBAL_WEIGHTS_BALANCED = 2,
    IMBAL_WEIGHTS_ONE_MINUS_FREQ = 3,
    IMBAL_WEIGHTS_INS = 4,
    IMBAL_WEIGHTS_ISNS = 5,
    IMBAL_WEIGHTS_ENS = 6,
    IMBAL_WEIGHTS_MANUAL = 7
} imbal_weight_scheme;

/* Names: "none", "inverse", "balanced", "one-minus-freq", "ins", "isns", "ens", "manual". */
IMBAL_API const char *imbal_weight_scheme_name(imbal_weight_scheme scheme);
IMBAL_API imbal_status imbal_weight_scheme_parse(imbal_ctx *ctx, const char *name,
                                                 imbal_weight_scheme *out);

typedef struct imbal_weight_options {
    imbal_weight_scheme scheme;
    double beta;               /* ens: in [0, 1); default 0.999 */
    double power;              /* applied as w^power; default 1; must be finite and >= 0 */
    int zero_weight_for_empty; /* 1: an empty class gets weight 0 instead of an error */
    const double *manual;      /* manual: K weights, each finite and >= 0 */
} imbal_weight_options;

/* scheme none, beta 0.999, power 1, zero_weight_for_empty 0, manual NULL. */
IMBAL_API void imbal_weight_options_default(imbal_weight_options *opts);

/* Writes K class weights to out. names (may be NULL, or hold NULLs) are used in error messages
 * only. opts and out must not be NULL. Bad arguments (K < 1, negative counts, beta or power out
 * of range, unknown scheme, bad manual weights) give IMBAL_ERR_INVALID_ARGUMENT, an empty class
 * IMBAL_ERR_DATA, each naming the value and class. */
IMBAL_API imbal_status imbal_class_weights(imbal_ctx *ctx, const int64_t *counts, int num_classes,
                                           const char *const *names,
                                           const imbal_weight_options *opts, double *out);

/* Parses manual weights for K classes from `spec`, which is either
 *   - a list "2,1,0.5" in class-id order (exactly K values),
 *   - a list of "name=weight" or "id=weight" pairs "cat=2,dog=0.5" (classes not named get 1), or
 *   - "@FILE": a file of lines "name_or_id,weight" (# comments allowed; classes not named get 1).
 * Unknown class names or ids, duplicates, negative or non-finite weights are errors naming them.
 * A key that equals a class name means that class; otherwise it must be a decimal id in [0, K).
 * In files the line's last comma splits key and weight. Inline specs fail with
 * IMBAL_ERR_INVALID_ARGUMENT, file content with IMBAL_ERR_FORMAT (naming file and line), an
 * unreadable file with IMBAL_ERR_IO. out is written only on success. Grammar: docs/weights.md. */
IMBAL_API imbal_status imbal_weights_parse_manual(imbal_ctx *ctx, const char *spec,
                                                  const char *const *names, int num_classes,
                                                  double *out);

/* Per-batch sample weights (the INS / ISNS / ENS "sample weighting" of Cui et al. and the GumGum
 * post): the scheme is applied to the batch's own class counts, normalised over the classes
 * present in the batch so their weights sum to the number present, and each of the n samples gets
 * its class's weight. Schemes ins, isns, ens and none are accepted (others: an error). Labels
 * outside [0, K) are an error (IMBAL_ERR_DATA) naming the position and value. Classes absent
 * from the batch are ignored. n = 0 returns IMBAL_OK and writes nothing. */
IMBAL_API imbal_status imbal_batch_sample_weights(imbal_ctx *ctx, const int32_t *labels, int64_t n,
                                                  int num_classes, const imbal_weight_options *opts,
                                                  float *out);

IMBAL_EXTERN_C_END

#endif
