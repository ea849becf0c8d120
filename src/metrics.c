/* imbal: the metrics accumulator (confusion counts and top-k hits). */
#include "imbal/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metrics_internal.h"

imbal_status imbal_metrics_create(imbal_ctx *ctx, int num_classes, int top_k, imbal_metrics **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "metrics_create: out is NULL");
    *out = NULL;
    if (num_classes < 1 || num_classes > 100000)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "metrics_create: num_classes is %d, need 1..100000", num_classes);
    if (top_k < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "metrics_create: top_k is %d, need at least 1", top_k);
    imbal_metrics *m = imbal_xcalloc(ctx, 1, sizeof *m, "metrics");
    if (!m) return imbal_ctx_last_status(ctx);
    size_t c = (size_t)num_classes;
    m->confusion = imbal_xcalloc(ctx, c * c, sizeof *m->confusion, "metrics confusion matrix");
    if (!m->confusion) {
        free(m);
        return imbal_ctx_last_status(ctx);
    }
    m->num_classes = num_classes;
    m->top_k = top_k;
    *out = m;
    return IMBAL_OK;
}

void imbal_metrics_destroy(imbal_metrics *m) {
    if (!m) return;
    free(m->confusion);
    free(m);
}

void imbal_metrics_reset(imbal_metrics *m) {
    if (!m) return;
    size_t c = (size_t)m->num_classes;
    memset(m->confusion, 0, c * c * sizeof *m->confusion);
    m->total = m->logit_rows = m->top_k_hits = 0;
}

int imbal_metrics_num_classes(const imbal_metrics *m) {
    return m ? m->num_classes : 0;
}

const int64_t *imbal_metrics_confusion(const imbal_metrics *m) {
    return m ? m->confusion : NULL;
}

/* Checks every value of v[0..n) against [0, C) before anything is counted. */
static imbal_status check_range(imbal_ctx *ctx, const char *fn, const char *what, const int32_t *v,
                                int64_t n, int num_classes) {
    for (int64_t i = 0; i < n; ++i)
        if (v[i] < 0 || v[i] >= num_classes)
            return imbal_fail(ctx, IMBAL_ERR_DATA, "%s: %s[%lld] is %d, outside [0, %d)", fn, what,
                              (long long)i, (int)v[i], num_classes);
    return IMBAL_OK;
}

static imbal_status check_args(imbal_ctx *ctx, const char *fn, const imbal_metrics *m,
                               const void *a, const char *a_name, const int32_t *labels,
                               int64_t n) {
    if (!m) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: metrics is NULL", fn);
    if (n < 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: n is %lld, need n >= 0", fn,
                          (long long)n);
    if (n > 0 && (!a || !labels))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          labels ? a_name : "labels");
    return IMBAL_OK;
}

imbal_status imbal_metrics_add(imbal_ctx *ctx, imbal_metrics *m, const int32_t *labels,
                               const int32_t *preds, int64_t n) {
    const char *fn = "metrics_add";
    imbal_status st = check_args(ctx, fn, m, preds, "preds", labels, n);
    if (st != IMBAL_OK) return st;
    if ((st = check_range(ctx, fn, "labels", labels, n, m->num_classes)) != IMBAL_OK) return st;
    if ((st = check_range(ctx, fn, "preds", preds, n, m->num_classes)) != IMBAL_OK) return st;
    /* One increment per pair: memory-bound and cheaper than summing per-thread C x C partials. */
    const int64_t c = m->num_classes;
    for (int64_t i = 0; i < n; ++i)
        ++m->confusion[labels[i] * c + preds[i]];
    m->total += n;
    return IMBAL_OK;
}

/* Lanes of the arg-max and counting loops: plain fixed-width inner loops that GCC and Clang
 * turn into compares and blends (the branchy scalar arg-max ran at ~6 ns per logit). */
#define METRICS_LANES 8

/* The arg-max of a NaN-free x[0..c), the lowest index among ties (as numpy.argmax): the
 * maximum by lanes (compares and blends, vectorised), then the first index holding it. */
static int row_argmax(const float *x, int c) {
    if (c < 4 * METRICS_LANES) { /* few classes: one scalar pass beats the lane set-up */
        int b = 0;
        for (int j = 1; j < c; ++j)
            b = x[j] > x[b] ? j : b;
        return b;
    }
    float bv[METRICS_LANES];
    for (int l = 0; l < METRICS_LANES; ++l)
        bv[l] = x[0];
    int j = 0;
    for (; j + METRICS_LANES <= c; j += METRICS_LANES)
        for (int l = 0; l < METRICS_LANES; ++l)
            bv[l] = x[j + l] > bv[l] ? x[j + l] : bv[l];
    float best = bv[0];
    for (int l = 1; l < METRICS_LANES; ++l)
        best = bv[l] > best ? bv[l] : best;
    for (; j < c; ++j)
        best = x[j] > best ? x[j] : best;
    int i = 0;
    while (x[i] != best)
        ++i;
    return i;
}

/* One row: the arg-max, whether the label is among the k largest, and whether the row has a NaN
 * (returns -1 then). The label's rank is the number of entries that come before it: larger ones,
 * and equal ones at a lower index (ties go to the lower index); it is a top-k hit when fewer
 * than k come before it. Counting is one O(C) vectorisable pass, cheaper than a partial
 * selection of the k largest (and exact for any k). */
static int row_scan(const float *x, int c, int32_t label, int k, int *hit) {
    const float xl = x[label];
    int gt = 0, eq = 0, nan = 0;
    for (int j = 0; j < c; ++j) {
        gt += x[j] > xl;
        nan |= x[j] != x[j];
    }
    if (nan) return -1;
    for (int j = 0; j < label; ++j)
        eq += x[j] == xl;
    *hit = gt + eq < k;
    return row_argmax(x, c);
}

imbal_status imbal_metrics_add_logits(imbal_ctx *ctx, imbal_metrics *m, const float *logits,
                                      const int32_t *labels, int64_t n) {
    const char *fn = "metrics_add_logits";
    imbal_status st = check_args(ctx, fn, m, logits, "logits", labels, n);
    if (st != IMBAL_OK) return st;
    if ((st = check_range(ctx, fn, "labels", labels, n, m->num_classes)) != IMBAL_OK) return st;
    if (n == 0) return IMBAL_OK;
    const int64_t c = m->num_classes;
    const int k = m->top_k;
    /* Predictions are kept for the whole input (1/C of the logits' size) so that nothing is
     * counted when any row has a NaN, without scanning the logits twice. */
    int32_t *preds = imbal_xmalloc(ctx, (size_t)n, sizeof *preds, "metrics predictions");
    if (!preds) return imbal_ctx_last_status(ctx);
    int64_t hits = 0, first_nan = INT64_MAX;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) schedule(static)              \
    reduction(min : first_nan) reduction(+ : hits)
    for (int64_t i = 0; i < n; ++i) {
        int hit = 0;
        int p = row_scan(logits + i * c, (int)c, labels[i], k, &hit);
        if (p < 0) {
            if (i < first_nan) first_nan = i;
            continue;
        }
        preds[i] = p;
        hits += hit;
    }
    if (first_nan != INT64_MAX) {
        free(preds);
        return imbal_fail(ctx, IMBAL_ERR_DATA, "%s: row %lld of the logits has a NaN", fn,
                          (long long)first_nan);
    }
    /* One increment per row: cheaper than summing per-thread C x C partials. */
    for (int64_t i = 0; i < n; ++i)
        ++m->confusion[labels[i] * c + preds[i]];
    free(preds);
    m->total += n;
    m->logit_rows += n;
    m->top_k_hits += hits;
    return IMBAL_OK;
}
