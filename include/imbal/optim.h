/* imbal: optimizer steps and learning-rate schedules, with PyTorch's exact update rules.
 *
 * A step updates one parameter tensor from its gradient and its state tensors, all f32 and of the
 * same shape on the call's device (CPU twin: a vectorisable OpenMP loop; CUDA twin: one
 * element-wise kernel on the default stream, without synchronising the host: a training step's
 * 60-odd parameter updates queue behind the backward pass, and a later copy to the host sees
 * them). Definitions and papers in docs/optim.md. */
#ifndef IMBAL_OPTIM_H
#define IMBAL_OPTIM_H

#include <stdint.h>

#include "tensor.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_optim_kind { IMBAL_OPTIM_SGD = 0, IMBAL_OPTIM_ADAMW = 1 } imbal_optim_kind;

/* "sgd", "adamw". */
IMBAL_API const char *imbal_optim_kind_name(imbal_optim_kind kind);
IMBAL_API imbal_status imbal_optim_kind_parse(imbal_ctx *ctx, const char *name,
                                              imbal_optim_kind *out);

typedef struct imbal_optim_config {
    imbal_optim_kind kind;
    float momentum;     /* sgd: in [0, 1); default 0.9 */
    int nesterov;       /* sgd: 1 for Nesterov momentum (Sutskever et al. 2013); default 0 */
    float weight_decay; /* sgd: L2 added to the gradient; adamw: decoupled (Loshchilov & Hutter
                           2019). >= 0; default 5e-4 (sgd) / 1e-2 (adamw) */
    float beta1, beta2; /* adamw: in [0, 1); default 0.9, 0.999 */
    float eps;          /* adamw: > 0; default 1e-8 */
} imbal_optim_config;

IMBAL_API void imbal_optim_config_default(imbal_optim_config *cfg, imbal_optim_kind kind);
/* Validates every field; the message names it. */
IMBAL_API imbal_status imbal_optim_config_check(imbal_ctx *ctx, const imbal_optim_config *cfg);

/* torch.optim.SGD (dampening 0): g = grad + weight_decay * p; buf = momentum * buf + g;
 * g = nesterov ? g + momentum * buf : buf; p -= lr * g. `buf` starts at zero (which equals
 * PyTorch's first-step buf = g). With momentum 0, buf may be NULL. `weight_decay` overrides the
 * config's (callers pass 0 for batch-norm and bias parameters). */
IMBAL_API imbal_status imbal_sgd_step(imbal_ctx *ctx, imbal_device device,
                                      const imbal_optim_config *cfg, float lr, float weight_decay,
                                      imbal_tensor *param, const imbal_tensor *grad,
                                      imbal_tensor *buf);

/* torch.optim.AdamW: p *= 1 - lr * weight_decay; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), with t = step >= 1 (the step's
 * number, counted from 1). m and v start at zero. */
IMBAL_API imbal_status imbal_adamw_step(imbal_ctx *ctx, imbal_device device,
                                        const imbal_optim_config *cfg, float lr, float weight_decay,
                                        int64_t step, imbal_tensor *param, const imbal_tensor *grad,
                                        imbal_tensor *m, imbal_tensor *v);

/* ---- learning-rate schedules --------------------------------------------------------------- */

typedef enum imbal_lr_kind {
    IMBAL_LR_CONSTANT = 0,
    IMBAL_LR_STEP = 1,  /* multiply by gamma at each milestone (torch MultiStepLR) */
    IMBAL_LR_COSINE = 2 /* cosine from base_lr to min_lr over the steps after warm-up (SGDR,
                           Loshchilov & Hutter 2017, without restarts) */
} imbal_lr_kind;

/* "constant", "step", "cosine". */
IMBAL_API const char *imbal_lr_kind_name(imbal_lr_kind kind);
IMBAL_API imbal_status imbal_lr_kind_parse(imbal_ctx *ctx, const char *name, imbal_lr_kind *out);

#define IMBAL_LR_MAX_MILESTONES 8

typedef struct imbal_lr_schedule {
    imbal_lr_kind kind;
    double base_lr;       /* > 0 */
    int64_t total_steps;  /* >= 1: steps of the whole run */
    int64_t warmup_steps; /* >= 0: linear warm-up, lr = base_lr * (step + 1) / warmup_steps for
                             step < warmup_steps (Goyal et al. 2017); default 0 */
    int num_milestones;   /* step: 0..IMBAL_LR_MAX_MILESTONES increasing step numbers */
    int64_t milestones[IMBAL_LR_MAX_MILESTONES];
    double gamma;  /* step: factor per milestone; default 0.1 */
    double min_lr; /* cosine: the final rate; default 0 */
} imbal_lr_schedule;

IMBAL_API void imbal_lr_schedule_default(imbal_lr_schedule *s, imbal_lr_kind kind, double base_lr,
                                         int64_t total_steps);
IMBAL_API imbal_status imbal_lr_schedule_check(imbal_ctx *ctx, const imbal_lr_schedule *s);

/* The learning rate of step `step` (0-based). After warm-up: constant = base_lr; step = base_lr *
 * gamma^(number of milestones <= step); cosine = min_lr + (base_lr - min_lr) (1 + cos(pi t)) / 2
 * with t = (step - warmup) / (total - warmup), clamped to [0, 1]. */
IMBAL_API double imbal_lr_at(const imbal_lr_schedule *s, int64_t step);

IMBAL_EXTERN_C_END

#endif
