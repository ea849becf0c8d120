/* imbal: class statistics of a label distribution. */
#ifndef IMBAL_CLASS_STATS_H
#define IMBAL_CLASS_STATS_H

#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef struct imbal_class_stats {
    int num_classes;
    int64_t total;
    int64_t min_count; /* smallest class count (0 if a class is empty) */
    int64_t max_count;
    int min_class; /* id of the smallest class (first in id order on ties) */
    int max_class;
    double imbalance_ratio; /* max_count / min_count; +inf if a class is empty */
} imbal_class_stats;

IMBAL_API imbal_status imbal_class_stats_compute(imbal_ctx *ctx, const int64_t *counts,
                                                 int num_classes, imbal_class_stats *out);

/* Effective number of samples E_n = (1 - beta^n) / (1 - beta), Cui et al., "Class-Balanced Loss
 * Based on Effective Number of Samples" (CVPR 2019). beta in [0, 1); beta = 0 gives 1 (n > 0).
 * Computed with expm1/log1p so beta close to 1 keeps its precision (E_n -> n as beta -> 1).
 * n = 0 gives 0. n < 0 or beta outside [0, 1) (or NaN) gives NaN: there is no context to carry a
 * message, so callers that take beta from users validate it first. */
IMBAL_API double imbal_effective_number(int64_t n, double beta);

IMBAL_EXTERN_C_END

#endif
