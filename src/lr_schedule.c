/* imbal: learning-rate schedules (imbal/optim.h): constant, multi-step (torch MultiStepLR) and
 * cosine (SGDR, Loshchilov & Hutter 2017, without restarts; torch CosineAnnealingLR's closed
 * form), each after an optional linear warm-up (Goyal et al. 2017). docs/optim.md. */
#include <math.h>
#include <string.h>

#include "imbal/optim.h"
#include "internal.h"

static const char *const lr_names[] = {"constant", "step", "cosine"};

const char *imbal_lr_kind_name(imbal_lr_kind kind) {
    return (unsigned)kind < 3u ? lr_names[kind] : "?";
}

imbal_status imbal_lr_kind_parse(imbal_ctx *ctx, const char *name, imbal_lr_kind *out) {
    if (!name || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_lr_kind_parse: name and out must not be NULL");
    for (int k = 0; k < 3; ++k)
        if (strcmp(name, lr_names[k]) == 0) {
            *out = (imbal_lr_kind)k;
            return IMBAL_OK;
        }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "learning-rate schedule '%s' is unknown (expected constant, step or cosine)",
                      name);
}

void imbal_lr_schedule_default(imbal_lr_schedule *s, imbal_lr_kind kind, double base_lr,
                               int64_t total_steps) {
    if (!s) return;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->base_lr = base_lr;
    s->total_steps = total_steps;
    s->warmup_steps = 0;
    s->num_milestones = 0;
    s->gamma = 0.1;
    s->min_lr = 0.0;
}

imbal_status imbal_lr_schedule_check(imbal_ctx *ctx, const imbal_lr_schedule *s) {
    if (!s)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_lr_schedule_check: schedule must not be NULL");
    if ((unsigned)s->kind >= 3u)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "lr schedule: kind = %d is not an imbal_lr_kind", (int)s->kind);
    if (!(s->base_lr > 0.0) || isinf(s->base_lr))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "lr schedule: base_lr = %g must be finite and > 0", s->base_lr);
    if (s->total_steps < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "lr schedule: total_steps = %lld must be >= 1",
                          (long long)s->total_steps);
    if (s->warmup_steps < 0 || s->warmup_steps > s->total_steps)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "lr schedule: warmup_steps = %lld must be in [0, total_steps = %lld]",
                          (long long)s->warmup_steps, (long long)s->total_steps);
    if (s->kind == IMBAL_LR_STEP) {
        if (s->num_milestones < 0 || s->num_milestones > IMBAL_LR_MAX_MILESTONES)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "lr schedule: num_milestones = %d must be in [0, %d]",
                              s->num_milestones, IMBAL_LR_MAX_MILESTONES);
        for (int i = 0; i < s->num_milestones; ++i) {
            int64_t m = s->milestones[i];
            if (m < 1 || m >= s->total_steps)
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "lr schedule: milestones[%d] = %lld must be in [1, total_steps "
                                  "= %lld)",
                                  i, (long long)m, (long long)s->total_steps);
            if (i > 0 && m <= s->milestones[i - 1])
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "lr schedule: milestones[%d] = %lld must be greater than "
                                  "milestones[%d] = %lld",
                                  i, (long long)m, i - 1, (long long)s->milestones[i - 1]);
        }
        if (!(s->gamma > 0.0) || isinf(s->gamma))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "lr schedule: gamma = %g must be finite and > 0", s->gamma);
    }
    if (s->kind == IMBAL_LR_COSINE && !(s->min_lr >= 0.0 && s->min_lr <= s->base_lr))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "lr schedule: min_lr = %g must be in [0, base_lr = %g]", s->min_lr,
                          s->base_lr);
    return IMBAL_OK;
}

double imbal_lr_at(const imbal_lr_schedule *s, int64_t step) {
    if (!s) return 0.0;
    if (step < 0) step = 0;
    if (step < s->warmup_steps) return s->base_lr * (double)(step + 1) / (double)s->warmup_steps;
    switch (s->kind) {
    case IMBAL_LR_STEP: {
        double lr = s->base_lr;
        for (int i = 0; i < s->num_milestones && i < IMBAL_LR_MAX_MILESTONES; ++i)
            if (s->milestones[i] <= step) lr *= s->gamma;
        return lr;
    }
    case IMBAL_LR_COSINE: {
        int64_t span = s->total_steps - s->warmup_steps;
        double t = span > 0 ? (double)(step - s->warmup_steps) / (double)span : 1.0;
        if (t > 1.0) t = 1.0;
        return s->min_lr + (s->base_lr - s->min_lr) * (1.0 + cos(3.14159265358979323846 * t)) / 2.0;
    }
    default:
        return s->base_lr;
    }
}
