/* imbal: the decision threshold of a two-class run, chosen on the validation split.
 *
 * argmax predicts the positive class when p_pos >= 0.5. On imbalanced data the cut that serves
 * the user is elsewhere; sweeping it over a held-out split and keeping the best balanced accuracy
 * or F-beta is the usual remedy (e.g. scikit-learn's TunedThresholdClassifierCV). With two
 * classes p_pos >= t is z_pos - z_neg >= log(t / (1 - t)), so the cut lives on the logit margin
 * and is applied as one more post-hoc logit offset. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "train_internal.h"

int threshold_positive_class(const int64_t *train_counts) {
    return train_counts[0] < train_counts[1] ? 0 : 1;
}

double threshold_probability(float margin) {
    return 1.0 / (1.0 + exp(-(double)margin));
}

float threshold_margin(double probability) {
    return (float)log(probability / (1 - probability));
}

typedef struct scored {
    float s;
    int pos;
} scored;

static int by_score_desc(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

static double metric_value(imbal_threshold_metric metric, double beta, int64_t tp, int64_t fp,
                           int64_t p, int64_t n) {
    int64_t fn = p - tp, tn = n - fp;
    if (metric == IMBAL_THRESHOLD_BALANCED_ACCURACY)
        return 0.5 * ((double)tp / (double)p + (double)tn / (double)n);
    double b2 = beta * beta, den = (1 + b2) * (double)tp + b2 * (double)fn + (double)fp;
    return den > 0 ? (1 + b2) * (double)tp / den : 0.0; /* F-beta (van Rijsbergen 1979) */
}

static void consider(double v, float cut, double *best, float *best_cut) {
    if (v > *best + 1e-12 || (v > *best - 1e-12 && fabsf(cut) < fabsf(*best_cut))) {
        *best = v;
        *best_cut = cut;
    }
}

imbal_status threshold_choose(imbal_ctx *ctx, const float *margins, const int32_t *labels,
                              int64_t n, int positive, imbal_threshold_metric metric, double beta,
                              float *cut) {
    if (metric != IMBAL_THRESHOLD_BALANCED_ACCURACY && metric != IMBAL_THRESHOLD_F_BETA)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "threshold: unknown metric %d",
                          (int)metric);
    if (!(beta > 0))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "threshold: beta %g must be > 0", beta);
    scored *v = imbal_xmalloc(ctx, (size_t)(n ? n : 1), sizeof *v, "threshold margins");
    if (!v) return IMBAL_ERR_OUT_OF_MEMORY;
    int64_t p = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(margins[i])) {
            free(v);
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "threshold: validation sample %lld has a non-finite logit margin",
                              (long long)i);
        }
        v[i].s = margins[i];
        v[i].pos = labels[i] == positive;
        p += v[i].pos;
    }
    if (p == 0 || p == n) {
        free(v);
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "threshold: the validation split needs samples of both classes (it has "
                          "%lld of class %d and %lld of the other)",
                          (long long)p, positive, (long long)(n - p));
    }
    qsort(v, (size_t)n, sizeof *v, by_score_desc);
    /* Nothing predicted positive, then each group of tied margins switched on in turn. */
    double best = -1;
    float best_cut = v[0].s + 1.0f;
    consider(metric_value(metric, beta, 0, 0, p, n - p), best_cut, &best, &best_cut);
    int64_t tp = 0, fp = 0;
    for (int64_t i = 0; i < n;) {
        float s = v[i].s;
        for (; i < n && v[i].s == s; i++)
            v[i].pos ? tp++ : fp++;
        float c = i < n ? s + 0.5f * (v[i].s - s) : s - 1.0f;
        consider(metric_value(metric, beta, tp, fp, p, n - p), c, &best, &best_cut);
    }
    free(v);
    *cut = best_cut;
    return IMBAL_OK;
}

imbal_status threshold_fold(imbal_ctx *ctx, int positive, float cut, float **adjust) {
    if (!*adjust) {
        *adjust = imbal_xcalloc(ctx, 2, sizeof **adjust, "decision threshold");
        if (!*adjust) return IMBAL_ERR_OUT_OF_MEMORY;
    }
    (*adjust)[positive] += cut;
    return IMBAL_OK;
}
