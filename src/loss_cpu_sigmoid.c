/* imbal: CPU row pass of the sigmoid losses (sigmoid-focal, bce) on float targets [N, C]. Every
 * element is independent; the row is read into private buffers before dlogits is written, so
 * dlogits may alias the logits. Derivations in docs/losses.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "loss_cpu.h"

typedef struct elem_out {
    float loss, grad;
} elem_out;

/* BCEWithLogits with pos_weight (torch.nn.BCEWithLogitsLoss): with lw = 1 + (pw - 1) t,
 * l = (1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0)) and dl/dx = lw sigmoid(x) - pw t. */
static elem_out bce_elem(float x, float t, float pw) {
    float e = imbal_expf_nonpos(-fabsf(x));
    /* Both sides are computed and then selected (no conditional arithmetic), so the loop over
     * classes vectorises. */
    float inv = 1.0f / (1.0f + e);
    float sig = imbal_loss_select(x >= 0.0f, inv, e * inv);
    float lw = 1.0f + (pw - 1.0f) * t;
    elem_out o;
    /* (1 - t) x + lw max(-x, 0) regrouped by the sign of x, so nothing cancels: for x < 0 it is
     * (1 - t - lw) x = -pw t x. */
    float lin_pos = (1.0f - t) * x, lin_neg = -pw * t * x;
    o.loss = imbal_loss_select(x >= 0.0f, lin_pos, lin_neg) + lw * imbal_log1pf_unit(e);
    o.grad = lw * sig - pw * t;
    return o;
}

/* torchvision.ops.sigmoid_focal_loss (Lin et al. 2017, eq. 5 with sigmoid): with p = sigmoid(x),
 * ce = max(x, 0) - x t + log1p(exp(-|x|)), q = 1 - p_t = p (1 - t) + (1 - p) t,
 * l = alpha_t ce q^gamma and
 * dl/dx = alpha_t [(p - t) q^gamma - gamma ce q^(gamma-1) p (1 - p) (2t - 1)]. */
static inline elem_out focal_elem(float x, float t, float gamma, float alpha, int general) {
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

static void sigmoid_row(const imbal_loss_cpu_plan *plan, int64_t i, float *restrict x,
                        float *restrict t, const float *restrict cw, const float *restrict pw) {
    const imbal_loss_job *job = plan->job;
    const int64_t c = job->c;
    imbal_loss_load_row(job->dtype, job->logits, i, c, x);
    imbal_loss_load_row(job->dtype, job->targets, i, c, t);
    float sw = job->sample_weights ? job->sample_weights[i] : 1.0f;
    float coef = sw * plan->grad_coef;
    /* Separate loops per kind with no optional pointers, so each vectorises; t becomes the
     * element losses and x the gradient. */
    if (job->p.kind == IMBAL_LOSS_BCE) {
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) {
            elem_out o = bce_elem(x[j], t[j], pw[j]);
            t[j] = cw[j] * sw * o.loss;
            x[j] = cw[j] * coef * o.grad;
        }
    } else {
        const float gamma = job->p.gamma, alpha = job->p.alpha;
        if (gamma == 0.0f || gamma == 1.0f || gamma == 2.0f) {
#pragma omp simd
            for (int64_t j = 0; j < c; ++j) {
                elem_out o = focal_elem(x[j], t[j], gamma, alpha, 0);
                t[j] = cw[j] * sw * o.loss;
                x[j] = cw[j] * coef * o.grad;
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < c; ++j) {
                elem_out o = focal_elem(x[j], t[j], gamma, alpha, 1);
                t[j] = cw[j] * sw * o.loss;
                x[j] = cw[j] * coef * o.grad;
            }
        }
    }
    double row = 0.0;
    for (int64_t j = 0; j < c; ++j)
        row += (double)t[j];
    plan->row_loss[i] = row;
    if (job->per_sample) memcpy(job->per_sample + i * c, t, (size_t)c * sizeof(float));
    if (job->dlogits) imbal_loss_store_row(job->dtype, job->dlogits, i, c, x);
}

imbal_status imbal_loss_cpu_sigmoid(imbal_ctx *ctx, const imbal_loss_cpu_plan *plan) {
    const imbal_loss_job *job = plan->job;
    /* Column weights and pos_weight, 1 where absent. */
    float *cols = imbal_xmalloc(ctx, (size_t)job->c * 2, sizeof(float), "loss column weights");
    if (!cols) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t j = 0; j < job->c; ++j) {
        cols[j] = job->class_weights ? job->class_weights[j] : 1.0f;
        cols[job->c + j] = job->pos_weight ? job->pos_weight[j] : 1.0f;
    }
    int failed = 0;
#pragma omp parallel num_threads(plan->threads) reduction(| : failed)
    {
        float *buf = malloc((size_t)job->c * 2 * sizeof(float));
        if (!buf) failed = 1;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < job->n; ++i)
            if (buf) sigmoid_row(plan, i, buf, buf + job->c, cols, cols + job->c);
        free(buf);
    }
    free(cols);
    if (failed)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "loss: row buffer of %lld floats",
                          (long long)(2 * job->c));
    return IMBAL_OK;
}
