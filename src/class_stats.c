/* imbal: class statistics and the effective number of samples. */
#include "imbal/class_stats.h"

#include <math.h>
#include <stdint.h>

#include "internal.h"

imbal_status imbal_class_stats_compute(imbal_ctx *ctx, const int64_t *counts, int num_classes,
                                       imbal_class_stats *out) {
    if (!counts || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "class_stats: %s is NULL",
                          counts ? "out" : "counts");
    if (num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "class_stats: num_classes is %d, need at least 1", num_classes);
    imbal_class_stats s = {.num_classes = num_classes};
    s.min_count = INT64_MAX;
    s.max_count = -1;
    for (int c = 0; c < num_classes; ++c) {
        int64_t n = counts[c];
        if (n < 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "class_stats: count of class %d is negative (%lld)", c, (long long)n);
        if (n > INT64_MAX - s.total)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "class_stats: the total overflows at class %d (%lld)", c,
                              (long long)n);
        s.total += n;
        if (n < s.min_count) {
            s.min_count = n;
            s.min_class = c;
        }
        if (n > s.max_count) {
            s.max_count = n;
            s.max_class = c;
        }
    }
    s.imbalance_ratio = s.min_count == 0 ? INFINITY : (double)s.max_count / (double)s.min_count;
    *out = s;
    return IMBAL_OK;
}

/* E_n = (1 - beta^n) / (1 - beta) (Cui et al., CVPR 2019) as -expm1(n ln beta) / (1 - beta).
 * 1 - beta is exact for beta >= 0.5 (Sterbenz) and ln beta = log1p(-(1 - beta)) keeps the
 * precision that 1 - beta^n would lose to cancellation when beta is close to 1. */
double imbal_effective_number(int64_t n, double beta) {
    if (n < 0 || !(beta >= 0.0 && beta < 1.0)) return NAN;
    if (n == 0) return 0.0;
    if (beta == 0.0) return 1.0;
    double d = 1.0 - beta;
    double log_beta = beta >= 0.5 ? log1p(-d) : log(beta);
    return -expm1((double)n * log_beta) / d;
}
