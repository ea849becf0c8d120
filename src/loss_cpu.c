/* imbal: the CPU twin of the fused losses (the reference): checks the data the dispatcher cannot
 * see (finite logits, targets in range, non-negative weights), builds the per-call constants
 * (denominator, balanced-softmax offsets, ldam margins), runs the row pass and reduces the row
 * losses in a fixed order. Formulas in docs/losses.md. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "loss_cpu.h"
#include "loss_internal.h"

/* check_finite: the first (row, class) of an [n, c] tensor of job->dtype holding NaN or +inf. Rows
 * are scanned in parallel for the smallest bad row (a min reduction, so any thread count finds the
 * same one). */
static imbal_status check_finite_rows(imbal_ctx *ctx, const char *name, const void *data,
                                      const imbal_loss_job *job, int threads) {
    int64_t n = job->n, c = job->c, first = n;
#pragma omp parallel for num_threads(threads) reduction(min : first) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        if (i >= first) continue;
        for (int64_t j = 0; j < c; ++j) {
            float v = imbal_loss_load(job->dtype, data, i * c + j);
            if (isnan(v) || v == INFINITY) {
                first = i;
                break;
            }
        }
    }
    if (first == n) return IMBAL_OK;
    for (int64_t j = 0; j < c; ++j) {
        float v = imbal_loss_load(job->dtype, data, first * c + j);
        if (isnan(v) || v == INFINITY)
            return imbal_fail(ctx, IMBAL_ERR_DATA, "%s: row %lld, class %lld is %s", name,
                              (long long)first, (long long)j, isnan(v) ? "NaN" : "+inf");
    }
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "%s: non-finite row %lld vanished", name,
                      (long long)first);
}

static imbal_status check_nonneg(imbal_ctx *ctx, const char *name, const float *v, int64_t len) {
    if (!v) return IMBAL_OK;
    for (int64_t i = 0; i < len; ++i)
        if (!(v[i] >= 0.0f) || isinf(v[i]))
            return imbal_fail(ctx, IMBAL_ERR_DATA, "%s[%lld] = %g: expected a finite value >= 0",
                              name, (long long)i, (double)v[i]);
    return IMBAL_OK;
}

/* 8 double lanes added pairwise (lane k takes lane k + h for h = 4, 2, 1): a fixed order. */
static inline double lanes_total(double lane[8]) {
    for (int h = 4; h >= 1; h /= 2)
        for (int k = 0; k < h; ++k)
            lane[k] += lane[k + h];
    return lane[0];
}

static inline int64_t target_at(const void *targets, int i32, int64_t i) {
    return i32 ? (int64_t)((const int32_t *)targets)[i] : ((const int64_t *)targets)[i];
}

/* One scan of the targets: the number of rows whose target is neither ignore_index nor in
 * [0, c), and the mean's denominator, the sum of w_{y_n} s_n over the other non-ignored rows
 * (PyTorch) or their number (count). Branch-free and in 8 double lanes (row i in lane i % 8,
 * then the lanes pairwise), so it vectorises: a scalar loop of dependent adds took ~10% of ce at
 * 65536 x 10. The order is fixed, so the sum is the same for any thread count. i32 is a constant
 * at both call sites. */
__attribute__((always_inline)) static inline int64_t denominator_scan(const imbal_loss_job *job,
                                                                      int i32, double *out) {
    const int64_t n = job->n, c = job->c, ig = job->p.ignore_index;
    const int count = job->p.weight_norm == IMBAL_WEIGHT_NORM_COUNT;
    const float *cw = count ? NULL : job->class_weights;
    const float *sw = count ? NULL : job->sample_weights;
    int64_t bad = 0;
    if (!cw && !sw) { /* every weight 1: the denominator counts rows, exactly */
        int64_t kept = 0;
        for (int64_t i = 0; i < n; ++i) {
            int64_t y = target_at(job->targets, i32, i);
            int in = (uint64_t)y < (uint64_t)c, skip = y == ig;
            bad += !in & !skip;
            kept += in & !skip;
        }
        *out = (double)kept;
        return bad;
    }
    double lane[8] = {0};
    /* Groups of 8 rows; lanes past the last row read row i0 again and add 0. */
    for (int64_t i0 = 0; i0 < n; i0 += 8) {
        const int64_t len = n - i0 < 8 ? n - i0 : 8;
        for (int64_t k = 0; k < 8; ++k) {
            int64_t i = i0 + (k < len ? k : 0);
            int64_t y = k < len ? target_at(job->targets, i32, i) : ig;
            int in = (uint64_t)y < (uint64_t)c, skip = y == ig;
            bad += !in & !skip;
            float w = cw && in ? cw[y] : 1.0f, s = sw ? sw[i] : 1.0f;
            lane[k] += in && !skip ? (double)(w * s) : 0.0;
        }
    }
    *out = lanes_total(lane);
    return bad;
}

/* The scan in the clone for this machine's vector unit. */
IMBAL_LOSS_CLONES static int64_t denominator(const imbal_loss_job *job, double *out) {
    return job->target_dtype == IMBAL_I32 ? denominator_scan(job, 1, out)
                                          : denominator_scan(job, 0, out);
}

/* Checks the targets and returns the mean's denominator for the softmax kinds. */
static imbal_status softmax_denominator(imbal_ctx *ctx, const imbal_loss_job *job, double *out) {
    int64_t bad = denominator(job, out);
    if (bad == 0) return IMBAL_OK;
    for (int64_t i = 0; i < job->n; ++i) {
        int64_t y = imbal_loss_target(job, i);
        if (y != job->p.ignore_index && (y < 0 || y >= job->c))
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "targets: row %lld has class %lld outside [0, %lld) (ignore_index "
                              "is %lld)",
                              (long long)i, (long long)y, (long long)job->c,
                              (long long)job->p.ignore_index);
    }
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "targets: bad row vanished");
}

/* sum_i v_i in 8 double lanes (v_i in lane i % 8), then the lanes pairwise: a fixed order, so the
 * same total for any thread count, without one chain of n dependent adds. */
static double row_total(const double *v, int64_t n) {
    double lane[8] = {0};
    const int64_t whole = n / 8 * 8;
    for (int64_t i = 0; i < whole; i += 8)
        for (int k = 0; k < 8; ++k)
            lane[k] += v[i + k];
    for (int64_t i = whole; i < n; ++i)
        lane[i - whole] += v[i];
    return lanes_total(lane);
}

/* balanced-softmax: tau * log(n_c / N) (Ren et al. 2020; Menon et al. 2021); a class with no
 * sample gets -inf. ldam: Delta_c = m_max (n_min / n_c)^(1/4) over classes with n_c > 0 (Cao et
 * al. 2019); an empty class gets m_max. */
static imbal_status class_transform(imbal_ctx *ctx, const imbal_loss_job *job, float *buf) {
    const float *cnt = job->class_counts;
    double total = 0.0, nmin = INFINITY;
    for (int64_t j = 0; j < job->c; ++j) {
        total += cnt[j];
        if (cnt[j] > 0.0f && cnt[j] < nmin) nmin = cnt[j];
    }
    if (!(total > 0.0))
        return imbal_fail(ctx, IMBAL_ERR_DATA, "class_counts: all %lld counts are 0",
                          (long long)job->c);
    for (int64_t j = 0; j < job->c; ++j) {
        if (job->p.kind == IMBAL_LOSS_BALANCED_SOFTMAX)
            buf[j] = cnt[j] > 0.0f ? (float)(job->p.tau * log(cnt[j] / total)) : -INFINITY;
        else
            buf[j] = cnt[j] > 0.0f ? (float)(job->p.ldam_max_margin * pow(nmin / cnt[j], 0.25))
                                   : job->p.ldam_max_margin;
    }
    return IMBAL_OK;
}

static imbal_status check_data(imbal_ctx *ctx, const imbal_loss_job *job, int threads) {
    imbal_status st = IMBAL_OK;
    if (job->p.check_finite) st = check_finite_rows(ctx, "logits", job->logits, job, threads);
    /* Float targets of the sigmoid kinds: NaN or +inf would poison the loss the same way. */
    if (st == IMBAL_OK && job->p.check_finite && !imbal_loss_is_softmax(job->p.kind))
        st = check_finite_rows(ctx, "targets", job->targets, job, threads);
    if (st == IMBAL_OK) st = check_nonneg(ctx, "class_weights", job->class_weights, job->c);
    if (st == IMBAL_OK) st = check_nonneg(ctx, "sample_weights", job->sample_weights, job->n);
    if (st == IMBAL_OK) st = check_nonneg(ctx, "class_counts", job->class_counts, job->c);
    if (st == IMBAL_OK) st = check_nonneg(ctx, "pos_weight", job->pos_weight, job->c);
    return st;
}

imbal_status imbal_loss_cpu(imbal_ctx *ctx, const imbal_loss_job *job) {
    return imbal_loss_cpu_path(ctx, job, 1);
}

imbal_status imbal_loss_cpu_path(imbal_ctx *ctx, const imbal_loss_job *job, int narrow) {
    int threads = imbal_ctx_omp_threads(ctx);
    imbal_status st = check_data(ctx, job, threads);
    if (st != IMBAL_OK) return st;
    imbal_loss_cpu_plan plan = {0};
    plan.job = job;
    plan.threads = threads;
    plan.narrow = narrow;
    int softmax = imbal_loss_is_softmax(job->p.kind);
    double denom = (double)job->n * (double)job->c;
    if (softmax) {
        st = softmax_denominator(ctx, job, &denom);
        if (st != IMBAL_OK) return st;
    }
    double wsum = 0.0;
    for (int64_t j = 0; j < job->c; ++j)
        wsum += job->class_weights ? job->class_weights[j] : 1.0f;
    plan.class_weight_sum = (float)wsum;
    float g = job->p.grad_scale;
    plan.grad_coef = job->p.reduction == IMBAL_REDUCTION_MEAN ? (float)(g / denom) : g;
    if (job->p.reduction == IMBAL_REDUCTION_MEAN && denom == 0.0) plan.grad_coef = 0.0f;

    float *transform = NULL;
    if (job->class_counts) {
        transform = imbal_xmalloc(ctx, (size_t)job->c, sizeof(float), "loss class transform");
        if (!transform) return IMBAL_ERR_OUT_OF_MEMORY;
        st = class_transform(ctx, job, transform);
        if (st != IMBAL_OK) {
            free(transform);
            return st;
        }
        if (job->p.kind == IMBAL_LOSS_BALANCED_SOFTMAX)
            plan.offset = transform;
        else
            plan.margin = transform;
    }
    double *rows = NULL;
    if (job->n > 0) {
        rows = imbal_xmalloc(ctx, (size_t)job->n, sizeof(double), "loss row buffer");
        if (!rows) {
            free(transform);
            return IMBAL_ERR_OUT_OF_MEMORY;
        }
    }
    plan.row_loss = rows;
    st = softmax ? imbal_loss_cpu_softmax(ctx, &plan) : imbal_loss_cpu_sigmoid(ctx, &plan);
    if (st == IMBAL_OK && job->loss) {
        /* Fixed order, double accumulation: the same result for any thread count. */
        double total = row_total(rows, job->n);
        *job->loss = (float)(job->p.reduction == IMBAL_REDUCTION_MEAN ? total / denom : total);
    }
    free(rows);
    free(transform);
    return st;
}
