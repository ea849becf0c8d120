/* imbal: CPU row pass of the sigmoid losses (sigmoid-focal, bce) on float targets [N, C]. Every
 * element is independent and each reads its logit before writing its gradient, so dlogits may
 * alias the logits. Derivations in docs/losses.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "loss_cpu.h"

typedef struct elem_out {
    float loss, grad;
} elem_out;

/* BCEWithLogits with pos_weight (torch.nn.BCEWithLogitsLoss): with lw = 1 + (pw - 1) t,
 * l = (1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0)) and dl/dx = lw sigmoid(x) - pw t.
 * has_pw = 0 (a constant at its call site) drops the pos_weight arithmetic, which with pw = 1 is
 * exact (multiplications by 1, lw = 1), so the same bits for finite targets. */
__attribute__((always_inline)) static inline elem_out bce_elem(float x, float t, float pw,
                                                               int has_pw) {
    float e = imbal_expf_nonpos(-fabsf(x));
    /* Both sides are computed and then selected (no conditional arithmetic), so the loop over
     * classes vectorises. */
    float inv = 1.0f / (1.0f + e);
    float sig = imbal_loss_select(x >= 0.0f, inv, e * inv);
    elem_out o;
    /* (1 - t) x + lw max(-x, 0) regrouped by the sign of x, so nothing cancels: for x < 0 it is
     * (1 - t - lw) x = -pw t x. */
    float lin_pos = (1.0f - t) * x;
    if (has_pw) {
        float lw = 1.0f + (pw - 1.0f) * t;
        o.loss = imbal_loss_select(x >= 0.0f, lin_pos, -pw * t * x) + lw * imbal_log1pf_unit(e);
        o.grad = lw * sig - pw * t;
    } else {
        o.loss = imbal_loss_select(x >= 0.0f, lin_pos, -t * x) + imbal_log1pf_unit(e);
        o.grad = sig - t;
    }
    return o;
}

/* torchvision.ops.sigmoid_focal_loss (Lin et al. 2017, eq. 5 with sigmoid): with p = sigmoid(x),
 * ce = max(x, 0) - x t + log1p(exp(-|x|)), q = 1 - p_t = p (1 - t) + (1 - p) t,
 * l = alpha_t ce q^gamma and
 * dl/dx = alpha_t [(p - t) q^gamma - gamma ce q^(gamma-1) p (1 - p) (2t - 1)]. */
__attribute__((always_inline)) static inline elem_out focal_elem(float x, float t, float gamma,
                                                                 float alpha, int general) {
    float e = imbal_expf_nonpos(-fabsf(x));
    float inv = 1.0f / (1.0f + e);
    float p = imbal_loss_select(x >= 0.0f, inv, e * inv);
    float omp = imbal_loss_select(x >= 0.0f, e * inv, inv);
    float ce = imbal_loss_select(x > 0.0f, x, 0.0f) - x * t + imbal_log1pf_unit(e);
    float q = p * (1.0f - t) + omp * t;
    /* q^gamma and gamma q^(gamma - 1): exact forms for gamma 0, 1, 2, else exp(gamma log q); q = 0
     * with gamma < 1 takes the finite limit 0 for the gradient; NaN stays NaN. Every form is
     * computed and one selected, so the loop vectorises. */
    float gen = 0.0f, dgen = 0.0f;
    if (general) { /* a constant at each call site: the common gammas skip the log and exp */
        float pos = imbal_expf_nonpos(gamma * imbal_logf_pos(q));
        float dpos = gamma * pos / q;
        gen = imbal_loss_select(q > 0.0f, pos, imbal_loss_select(q == 0.0f, 0.0f, q));
        dgen = imbal_loss_select(q > 0.0f, dpos, gen);
    }
    float mod = imbal_loss_select(
        gamma == 0.0f, 1.0f,
        imbal_loss_select(gamma == 1.0f, q, imbal_loss_select(gamma == 2.0f, q * q, gen)));
    float dmod = imbal_loss_select(
        gamma == 0.0f, 0.0f,
        imbal_loss_select(gamma == 1.0f, 1.0f, imbal_loss_select(gamma == 2.0f, 2.0f * q, dgen)));
    float at = imbal_loss_select(alpha >= 0.0f, alpha * t + (1.0f - alpha) * (1.0f - t), 1.0f);
    elem_out o;
    o.loss = at * ce * mod;
    o.grad = at * ((p - t) * mod - dmod * ce * p * omp * (2.0f * t - 1.0f));
    return o;
}

/* sum_j v_j in double, in 16 lanes (a fixed order: the same for every clone and thread count),
 * then the lanes pairwise and the tail; one running sum would be a chain of dependent adds. */
__attribute__((always_inline)) static inline double row_sum(const float *restrict v, int64_t c) {
    double lane[16] = {0};
    int64_t j = 0;
    for (; j + 16 <= c; j += 16)
        for (int k = 0; k < 16; ++k)
            lane[k] += (double)v[j + k];
    for (int w = 8; w >= 1; w /= 2)
        for (int k = 0; k < w; ++k)
            lane[k] += lane[k + w];
    double s = lane[0];
    for (; j < c; ++j)
        s += (double)v[j];
    return s;
}

/* Per-thread rows: xb, tb (f32 copies of the logits and targets rows when they are not f32), lb
 * (the element losses when per_sample is absent), gb (the gradient when dlogits is not f32). */
typedef struct row_scratch {
    float *xb, *tb, *lb, *gb;
} row_scratch;

/* Rows [i, i + r) as one run of r * c elements: r > 1 only for f32 without sample weights, where
 * every element's formula depends on its column alone, and then cw and pw hold their C values
 * repeated r times. Many classes take r = 1; few classes take whole blocks, so the vector loop
 * runs over the block instead of paying its start-up and tail once per short row. Each element
 * reads x and t and then writes l and g; g may be x itself (dlogits in place of the logits),
 * which the element-wise loops allow. */
__attribute__((always_inline)) static inline void
sigmoid_span(const imbal_loss_cpu_plan *plan, int64_t i, int64_t r, const row_scratch *s,
             const float *restrict cw, const float *restrict pw) {
    const imbal_loss_job *job = plan->job;
    const int64_t c = job->c, len = r * c;
    const int f32 = job->dtype == IMBAL_F32;
    const float *x, *t;
    if (f32) {
        x = (const float *)job->logits + i * c;
        t = (const float *)job->targets + i * c;
    } else {
        imbal_loss_load_row(job->dtype, job->logits, i, c, s->xb);
        imbal_loss_load_row(job->dtype, job->targets, i, c, s->tb);
        x = s->xb;
        t = s->tb;
    }
    float *l = job->per_sample ? job->per_sample + i * c : s->lb;
    float *g = job->dlogits && f32 ? (float *)job->dlogits + i * c : s->gb;
    float sw = job->sample_weights ? job->sample_weights[i] : 1.0f;
    float coef = sw * plan->grad_coef;
    /* Separate loops per kind with no optional pointers, so each vectorises. */
    if (job->p.kind == IMBAL_LOSS_BCE && !job->pos_weight && !job->class_weights) {
        /* Unweighted (pw = cw = 1): the weights' multiplications are exact, so skipping them
         * gives the same bits for finite targets, and 8% less time at 65536 x 10. */
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
            elem_out o = bce_elem(x[j], t[j], 1.0f, 0);
            l[j] = sw * o.loss;
            g[j] = coef * o.grad;
        }
    } else if (job->p.kind == IMBAL_LOSS_BCE) {
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
            elem_out o = bce_elem(x[j], t[j], pw[j], 1);
            l[j] = cw[j] * sw * o.loss;
            g[j] = cw[j] * coef * o.grad;
        }
    } else {
        const float gamma = job->p.gamma, alpha = job->p.alpha;
        if (gamma == 0.0f || gamma == 1.0f || gamma == 2.0f) {
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) {
                elem_out o = focal_elem(x[j], t[j], gamma, alpha, 0);
                l[j] = cw[j] * sw * o.loss;
                g[j] = cw[j] * coef * o.grad;
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) {
                elem_out o = focal_elem(x[j], t[j], gamma, alpha, 1);
                l[j] = cw[j] * sw * o.loss;
                g[j] = cw[j] * coef * o.grad;
            }
        }
    }
    if (c < 16) {
        /* Few classes: 8 rows side by side, each summed left to right from 0 as row_sum does
         * for C < 16 (its lanes stay 0), so the same bits without a chain of dependent scalar
         * adds per row, which took ~40% of bce at 65536 x 10. Whole groups of 8 index with
         * constant strides (clamping the row index for a partial group per element cost a
         * third of bce at 65536 x 10: 0.73 -> 0.60 ms); the last rows go one by one. */
        int64_t q0 = 0;
        for (; q0 + 8 <= r; q0 += 8) {
            const float *b = l + q0 * c;
            double acc[8] = {0};
            for (int64_t j = 0; j < c; ++j)
                for (int k = 0; k < 8; ++k)
                    acc[k] += (double)b[k * c + j];
            for (int k = 0; k < 8; ++k)
                plan->row_loss[i + q0 + k] = acc[k];
        }
        for (; q0 < r; ++q0)
            plan->row_loss[i + q0] = row_sum(l + q0 * c, c);
    } else {
        for (int64_t q = 0; q < r; ++q)
            plan->row_loss[i + q] = row_sum(l + q * c, c);
    }
    if (job->dlogits && !f32) imbal_loss_store_row(job->dtype, job->dlogits, i, c, g);
}

/* Rows [begin, end) in spans of `span` rows, in the clone for this machine's vector unit. */
IMBAL_LOSS_CLONES static void sigmoid_rows(const imbal_loss_cpu_plan *plan, int64_t begin,
                                           int64_t end, int64_t span, const row_scratch *s,
                                           const float *cw, const float *pw) {
    for (int64_t i = begin; i < end; i += span)
        sigmoid_span(plan, i, end - i < span ? end - i : span, s, cw, pw);
}

imbal_status imbal_loss_cpu_sigmoid(imbal_ctx *ctx, const imbal_loss_cpu_plan *plan) {
    const imbal_loss_job *job = plan->job;
    const int64_t c = job->c, block = 64;
    /* f32 without sample weights: runs of rows as single spans of about 2048 elements (at most a
     * block), with the column tables repeated over the span, so rows of up to a few hundred
     * classes do not pay the vector loop's start-up and scalar tail once per row. */
    const int64_t fit = 2048 / c < 1 ? 1 : 2048 / c;
    const int64_t span =
        job->dtype == IMBAL_F32 && !job->sample_weights ? (fit < block ? fit : block) : 1;
    const size_t len = (size_t)(span * c);
    /* Column weights and pos_weight, 1 where absent. */
    float *cols = imbal_xmalloc(ctx, len * 2, sizeof(float), "loss column weights");
    if (!cols) return IMBAL_ERR_OUT_OF_MEMORY;
    for (size_t k = 0; k < len; ++k) {
        size_t j = k % (size_t)c;
        cols[k] = job->class_weights ? job->class_weights[j] : 1.0f;
        cols[len + k] = job->pos_weight ? job->pos_weight[j] : 1.0f;
    }
    /* xb, tb, gb: one row; lb: one span. */
    const size_t per_thread = (size_t)c * 3 + len;
    int failed = 0;
#pragma omp parallel num_threads(plan->threads) reduction(| : failed)
    {
        float *buf = malloc(per_thread * sizeof(float));
        if (!buf) failed = 1;
        row_scratch s = {buf, buf ? buf + c : NULL, buf ? buf + 3 * c : NULL,
                         buf ? buf + 2 * c : NULL};
        /* Blocks of rows, so the clone dispatch is paid once per block; every row's result is
         * independent of the blocking, the spans and the thread count. */
        const int64_t nb = (job->n + block - 1) / block;
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nb; ++b)
            if (buf)
                sigmoid_rows(plan, b * block,
                             b * block + block < job->n ? b * block + block : job->n, span, &s,
                             cols, cols + len);
        free(buf);
    }
    free(cols);
    if (failed)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "loss: row buffer of %lld floats",
                          (long long)per_thread);
    return IMBAL_OK;
}
