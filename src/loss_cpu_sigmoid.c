/* imbal: CPU row pass of the sigmoid losses (sigmoid-focal, bce) on float targets [N, C]. Every
 * element is independent; the row is read into private buffers before dlogits is written, so
 * dlogits may alias the logits. Derivations in docs/losses.md. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "loss_cpu.h"

typedef struct elem_out {
    float loss, grad;
} elem_out;

/* BCEWithLogits with pos_weight (torch.nn.BCEWithLogitsLoss): with lw = 1 + (pw - 1) t,
 * l = (1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0)) and dl/dx = lw sigmoid(x) - pw t. */
static elem_out bce_elem(float x, float t, float pw) {
    float e = imbal_expf_nonpos(-fabsf(x));
    float sig = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    float lw = 1.0f + (pw - 1.0f) * t;
    elem_out o;
    /* (1 - t) x + lw max(-x, 0) regrouped by the sign of x, so nothing cancels: for x < 0 it is
     * (1 - t - lw) x = -pw t x. */
    o.loss = (x >= 0.0f ? (1.0f - t) * x : -pw * t * x) + lw * log1pf(e);
    o.grad = lw * sig - pw * t;
    return o;
}

/* torchvision.ops.sigmoid_focal_loss (Lin et al. 2017, eq. 5 with sigmoid): with p = sigmoid(x),
 * ce = max(x, 0) - x t + log1p(exp(-|x|)), q = 1 - p_t = p (1 - t) + (1 - p) t,
 * l = alpha_t ce q^gamma and
 * dl/dx = alpha_t [(p - t) q^gamma - gamma ce q^(gamma-1) p (1 - p) (2t - 1)]. */
static elem_out focal_elem(float x, float t, float gamma, float alpha) {
    float e = imbal_expf_nonpos(-fabsf(x));
    float inv = 1.0f / (1.0f + e);
    float p = x >= 0.0f ? inv : e * inv;
    float omp = x >= 0.0f ? e * inv : inv;
    float ce = fmaxf(x, 0.0f) - x * t + log1pf(e);
    float q = p * (1.0f - t) + omp * t;
    float mod, dmod; /* q^gamma and gamma q^(gamma - 1) */
    if (gamma == 0.0f) {
        mod = 1.0f;
        dmod = 0.0f;
    } else if (gamma == 1.0f) {
        mod = q;
        dmod = 1.0f;
    } else if (gamma == 2.0f) {
        mod = q * q;
        dmod = 2.0f * q;
    } else if (q > 0.0f) {
        mod = powf(q, gamma);
        dmod = gamma * mod / q;
    } else {
        mod = q == 0.0f ? 0.0f : q; /* q = 0 with gamma < 1: the finite limit 0; NaN stays */
        dmod = mod;
    }
    float at = alpha >= 0.0f ? alpha * t + (1.0f - alpha) * (1.0f - t) : 1.0f;
    elem_out o;
    o.loss = at * ce * mod;
    o.grad = at * ((p - t) * mod - dmod * ce * p * omp * (2.0f * t - 1.0f));
    return o;
}

static void sigmoid_row(const imbal_loss_cpu_plan *plan, int64_t i, float *x, float *t) {
    const imbal_loss_job *job = plan->job;
    const int64_t c = job->c;
    imbal_loss_load_row(job->dtype, job->logits, i, c, x);
    imbal_loss_load_row(job->dtype, job->targets, i, c, t);
    float sw = job->sample_weights ? job->sample_weights[i] : 1.0f;
    float coef = sw * plan->grad_coef;
    float *ps = job->per_sample ? job->per_sample + i * c : NULL;
    double row = 0.0;
    for (int64_t j = 0; j < c; ++j) {
        elem_out o;
        if (job->p.kind == IMBAL_LOSS_BCE)
            o = bce_elem(x[j], t[j], job->pos_weight ? job->pos_weight[j] : 1.0f);
        else
            o = focal_elem(x[j], t[j], job->p.gamma, job->p.alpha);
        float w = job->class_weights ? job->class_weights[j] * sw : sw;
        float l = w * o.loss;
        if (ps) ps[j] = l;
        row += (double)l;
        x[j] = (job->class_weights ? job->class_weights[j] : 1.0f) * coef * o.grad;
    }
    plan->row_loss[i] = row;
    if (job->dlogits) imbal_loss_store_row(job->dtype, job->dlogits, i, c, x);
}

imbal_status imbal_loss_cpu_sigmoid(imbal_ctx *ctx, const imbal_loss_cpu_plan *plan) {
    const imbal_loss_job *job = plan->job;
    int failed = 0;
#pragma omp parallel num_threads(plan->threads) reduction(| : failed)
    {
        float *buf = malloc((size_t)job->c * 2 * sizeof(float));
        if (!buf) failed = 1;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < job->n; ++i)
            if (buf) sigmoid_row(plan, i, buf, buf + job->c);
        free(buf);
    }
    if (failed)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "loss: row buffer of %lld floats",
                          (long long)(2 * job->c));
    return IMBAL_OK;
}
