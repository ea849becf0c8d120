/* imbal: classification metrics for imbalanced data, with scikit-learn's definitions.
 *
 * Accumulate (label, prediction) pairs, or logits for top-k too, over any number of batches;
 * then compute a report: the confusion matrix (rows true class, columns predicted), per-class
 * precision, recall, F1 and F-beta, accuracy, balanced accuracy, macro and weighted F1, G-mean,
 * top-k accuracy and many/medium/few-shot accuracy by training count. Exact definitions, and
 * how zero divisions are resolved, in docs/metrics.md. */
#ifndef IMBAL_METRICS_H
#define IMBAL_METRICS_H

#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef struct imbal_metrics imbal_metrics;

/* 1 <= num_classes <= 100000; top_k >= 1 (default 5 in the CLI; top-k is reported only when
 * num_classes > top_k). The confusion matrix is dense (8 C^2 bytes: 80 MB for C = 1000); an
 * allocation that fails is IMBAL_ERR_OUT_OF_MEMORY naming the byte count. */
IMBAL_API imbal_status imbal_metrics_create(imbal_ctx *ctx, int num_classes, int top_k,
                                            imbal_metrics **out);
IMBAL_API void imbal_metrics_destroy(imbal_metrics *m);
IMBAL_API void imbal_metrics_reset(imbal_metrics *m);
IMBAL_API int imbal_metrics_num_classes(const imbal_metrics *m);

/* Adds n pairs (n == 0 is a no-op; the arrays may then be NULL). A label or prediction outside
 * [0, C) is IMBAL_ERR_DATA naming its index; nothing is added then. */
IMBAL_API imbal_status imbal_metrics_add(imbal_ctx *ctx, imbal_metrics *m, const int32_t *labels,
                                         const int32_t *preds, int64_t n);
/* Adds n rows of host f32 logits [n, C]: the prediction is the arg-max (the lowest index among
 * ties, as numpy), and the row counts toward top-k when its label is among the k largest (ties
 * broken by the lower index; scikit-learn 1.2's top_k_accuracy_score ranks the higher index
 * first among ties, docs/metrics.md). A NaN logit is IMBAL_ERR_DATA naming the (first) row;
 * nothing is added then. */
IMBAL_API imbal_status imbal_metrics_add_logits(imbal_ctx *ctx, imbal_metrics *m,
                                                const float *logits, const int32_t *labels,
                                                int64_t n);
/* The C x C confusion counts, row-major [true][pred]. */
IMBAL_API const int64_t *imbal_metrics_confusion(const imbal_metrics *m);

/* Checked by imbal_metrics_compute (else IMBAL_ERR_INVALID_ARGUMENT naming the field): beta finite
 * and > 0; with train_counts, every count >= 0 and 0 <= few_below <= many_above + 1 (no class in
 * two groups). many > 100 and few < 20 are Liu et al. 2019 (OLTR) / Kang et al. 2020. */
typedef struct imbal_metrics_options {
    double beta;                 /* F-beta's beta > 0; default 0.5 */
    const int64_t *train_counts; /* optional [C] training counts for many/medium/few groups */
    int64_t many_above;          /* a class with count > this is many-shot; default 100 */
    int64_t few_below;           /* count < this is few-shot; the rest medium; default 20 */
} imbal_metrics_options;

IMBAL_API void imbal_metrics_options_default(imbal_metrics_options *o);

typedef struct imbal_class_metrics {
    int64_t support;                     /* true count (row sum) */
    int64_t predicted;                   /* predicted count (column sum) */
    double precision, recall, f1, fbeta; /* 0 where the denominator is 0 (sklearn's
                                            zero_division=0) */
} imbal_class_metrics;

typedef struct imbal_metrics_report {
    int num_classes;
    int64_t total;
    double accuracy;
    double balanced_accuracy; /* mean recall over classes with support > 0
                                 (sklearn.metrics.balanced_accuracy_score) */
    double macro_precision, macro_recall, macro_f1, macro_fbeta; /* over classes with support > 0
                                 or predicted > 0 (sklearn's labels = present ones) */
    double weighted_f1;                                          /* support-weighted */
    double gmean; /* geometric mean of recall over classes with support > 0
                     (imbalanced-learn's geometric_mean_score, multi-class) */
    int top_k;
    double top_k_accuracy; /* over the rows added with logits; NaN when C <= top_k or no logits
                              were added */
    double many_shot, medium_shot, few_shot; /* mean recall of the group's classes with support
                                 > 0; NaN when the group is empty or no train_counts */
    int many_classes, medium_classes, few_classes; /* classes per group by training count, with
                                 or without support; 0 without train_counts */
    imbal_class_metrics *per_class;                /* [num_classes], owned by the report */
} imbal_metrics_report;

/* Fills *out (free with imbal_metrics_report_free; *out is zeroed on failure); opts NULL means
 * the defaults. With no samples added: IMBAL_ERR_DATA ("no samples"). */
IMBAL_API imbal_status imbal_metrics_compute(imbal_ctx *ctx, const imbal_metrics *m,
                                             const imbal_metrics_options *opts,
                                             imbal_metrics_report *out);
IMBAL_API void imbal_metrics_report_free(imbal_metrics_report *r);

/* Writes report.json atomically: {"num_classes", "total", "accuracy", "balanced_accuracy",
 * "macro_precision", "macro_recall", "macro_f1", "macro_fbeta", "beta", "weighted_f1", "gmean",
 * "top_k", "top_k_accuracy", "many_shot", "medium_shot", "few_shot", "per_class": [{"id",
 * "name", "count" (support), "train_count" (when known), "predicted", "precision", "recall",
 * "f1", "fbeta"}], "confusion": [[..], ..]}, plus "many_classes", "medium_classes",
 * "few_classes" and, with train_counts, "many_above" and "few_below". NaN is written as null.
 * class_names may be NULL, or hold NULL entries (names become the ids). opts may be NULL (the
 * defaults); it gives "beta" and the train counts, so pass the options given to compute. */
IMBAL_API imbal_status imbal_metrics_write_json(imbal_ctx *ctx, const char *path,
                                                const imbal_metrics *m,
                                                const imbal_metrics_report *r,
                                                const imbal_metrics_options *opts,
                                                const char *const *class_names);

IMBAL_EXTERN_C_END

#endif
