/* imbal: a metrics report from the accumulated confusion counts (scikit-learn 1.2's definitions;
 * docs/metrics.md). */
#include "imbal/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metrics_internal.h"

void imbal_metrics_options_default(imbal_metrics_options *o) {
    if (!o) return;
    /* many > 100, few < 20 training images: Liu et al., "Large-Scale Long-Tailed Recognition in
     * an Open World" (CVPR 2019), as used by Kang et al. (ICLR 2020). */
    *o = (imbal_metrics_options){
        .beta = 0.5, .train_counts = NULL, .many_above = 100, .few_below = 20};
}

void imbal_metrics_report_free(imbal_metrics_report *r) {
    if (!r) return;
    free(r->per_class);
    memset(r, 0, sizeof *r);
}

static imbal_status check_options(imbal_ctx *ctx, const imbal_metrics_options *o, int c) {
    const char *fn = "metrics_compute";
    if (!(o->beta > 0.0) || !isfinite(o->beta))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: beta is %g, need a finite beta > 0",
                          fn, o->beta);
    if (!o->train_counts) return IMBAL_OK;
    if (o->many_above < 0 || o->few_below < 0 || o->few_below > o->many_above + 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: many_above %lld and few_below %lld overlap or are negative (need "
                          "0 <= few_below <= many_above + 1)",
                          fn, (long long)o->many_above, (long long)o->few_below);
    for (int j = 0; j < c; ++j)
        if (o->train_counts[j] < 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: train_counts[%d] is %lld, need >= 0", fn, j,
                              (long long)o->train_counts[j]);
    return IMBAL_OK;
}

/* sklearn 1.2 precision_recall_fscore_support with zero_division=0: a zero denominator gives 0,
 * and F-beta = (1 + b^2) P R / (b^2 P + R) with a zero denominator replaced by 1. */
static void class_scores(imbal_class_metrics *k, int64_t tp, double beta2) {
    k->precision = k->predicted > 0 ? (double)tp / (double)k->predicted : 0.0;
    k->recall = k->support > 0 ? (double)tp / (double)k->support : 0.0;
    double p = k->precision, r = k->recall;
    double d1 = p + r, db = beta2 * p + r;
    k->f1 = 2.0 * p * r / (d1 == 0.0 ? 1.0 : d1);
    k->fbeta = (1.0 + beta2) * p * r / (db == 0.0 ? 1.0 : db);
}

/* A class's group by training count: 0 many (> many_above), 2 few (< few_below), 1 medium. */
static int shot_group(const imbal_metrics_options *o, int64_t count) {
    if (count > o->many_above) return 0;
    if (count < o->few_below) return 2;
    return 1;
}

/* Per group: the mean recall of its classes that have support; NaN when none has. */
static void shot_accuracy(imbal_metrics_report *r, const imbal_metrics_options *o) {
    r->many_shot = r->medium_shot = r->few_shot = NAN;
    r->many_classes = r->medium_classes = r->few_classes = 0;
    if (!o->train_counts) return;
    double sum[3] = {0, 0, 0};
    int with_support[3] = {0, 0, 0}, classes[3] = {0, 0, 0};
    for (int j = 0; j < r->num_classes; ++j) {
        int g = shot_group(o, o->train_counts[j]);
        ++classes[g];
        if (r->per_class[j].support == 0) continue;
        sum[g] += r->per_class[j].recall;
        ++with_support[g];
    }
    double *out[3] = {&r->many_shot, &r->medium_shot, &r->few_shot};
    for (int g = 0; g < 3; ++g)
        if (with_support[g] > 0) *out[g] = sum[g] / with_support[g];
    r->many_classes = classes[0];
    r->medium_classes = classes[1];
    r->few_classes = classes[2];
}

imbal_status imbal_metrics_compute(imbal_ctx *ctx, const imbal_metrics *m,
                                   const imbal_metrics_options *opts, imbal_metrics_report *out) {
    const char *fn = "metrics_compute";
    if (!m || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          m ? "out" : "metrics");
    memset(out, 0, sizeof *out);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    if (opts) o = *opts;
    const int c = m->num_classes;
    imbal_status st = check_options(ctx, &o, c);
    if (st != IMBAL_OK) return st;
    if (m->total == 0) return imbal_fail(ctx, IMBAL_ERR_DATA, "%s: no samples", fn);
    imbal_class_metrics *pc = imbal_xcalloc(ctx, (size_t)c, sizeof *pc, "metrics per-class");
    if (!pc) return imbal_ctx_last_status(ctx);

    /* Row sums (support) and column sums (predictions) in one row-major sweep. */
    const int64_t *cm = m->confusion;
    int64_t correct = 0;
    for (int i = 0; i < c; ++i) {
        const int64_t *row = cm + (int64_t)i * c;
        int64_t s = 0;
        for (int j = 0; j < c; ++j) {
            s += row[j];
            pc[j].predicted += row[j];
        }
        pc[i].support = s;
        correct += row[i];
    }
    const double beta2 = o.beta * o.beta;
    double recall_sum = 0, log_recall_sum = 0, wf1 = 0;
    double macro_p = 0, macro_r = 0, macro_f = 0, macro_fb = 0;
    int with_support = 0, present = 0, zero_recall = 0;
    for (int j = 0; j < c; ++j) {
        imbal_class_metrics *k = &pc[j];
        class_scores(k, cm[(int64_t)j * c + j], beta2);
        if (k->support > 0) {
            ++with_support;
            recall_sum += k->recall;
            if (k->recall == 0.0)
                zero_recall = 1;
            else
                log_recall_sum += log(k->recall);
            wf1 += k->f1 * (double)k->support;
        }
        if (k->support > 0 || k->predicted > 0) {
            ++present;
            macro_p += k->precision;
            macro_r += k->recall;
            macro_f += k->f1;
            macro_fb += k->fbeta;
        }
    }
    const double total = (double)m->total;
    out->num_classes = c;
    out->total = m->total;
    out->accuracy = (double)correct / total;
    /* total > 0 guarantees some class has support (and so is present). */
    out->balanced_accuracy = recall_sum / with_support;
    out->macro_precision = macro_p / present;
    out->macro_recall = macro_r / present;
    out->macro_f1 = macro_f / present;
    out->macro_fbeta = macro_fb / present;
    out->weighted_f1 = wf1 / total;
    /* exp(mean log r): the product of many recalls below 1 would underflow. */
    out->gmean = zero_recall ? 0.0 : exp(log_recall_sum / with_support);
    out->top_k = m->top_k;
    out->top_k_accuracy =
        (c > m->top_k && m->logit_rows > 0) ? (double)m->top_k_hits / (double)m->logit_rows : NAN;
    out->per_class = pc;
    shot_accuracy(out, &o);
    return IMBAL_OK;
}
