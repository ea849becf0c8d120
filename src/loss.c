/* imbal: the fused-loss front end (see imbal/loss.h): names, defaults, validation of every
 * tensor and parameter, and dispatch to the CPU or CUDA twin (formulas in docs/losses.md). */
#include "imbal/loss.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "loss_internal.h"

static const char *const kind_names[] = {"ce",  "focal", "sigmoid-focal", "bce", "balanced-softmax",
                                         "ldam"};
#define KIND_COUNT ((int)(sizeof kind_names / sizeof kind_names[0]))
static const char *const reduction_names[] = {"mean", "sum", "none"};
#define REDUCTION_COUNT ((int)(sizeof reduction_names / sizeof reduction_names[0]))

const char *imbal_loss_kind_name(imbal_loss_kind kind) {
    int k = (int)kind;
    return (k >= 0 && k < KIND_COUNT) ? kind_names[k] : "unknown";
}

imbal_status imbal_loss_kind_parse(imbal_ctx *ctx, const char *name, imbal_loss_kind *out) {
    if (!name || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loss_kind_parse: name or out is NULL");
    for (int k = 0; k < KIND_COUNT; ++k) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (imbal_loss_kind)k;
            return IMBAL_OK;
        }
    }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "unknown loss '%s' (expected ce, focal, sigmoid-focal, bce, "
                      "balanced-softmax or ldam)",
                      name);
}

const char *imbal_reduction_name(imbal_reduction r) {
    int k = (int)r;
    return (k >= 0 && k < REDUCTION_COUNT) ? reduction_names[k] : "unknown";
}

imbal_status imbal_reduction_parse(imbal_ctx *ctx, const char *name, imbal_reduction *out) {
    if (!name || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_reduction_parse: name or out is NULL");
    for (int k = 0; k < REDUCTION_COUNT; ++k) {
        if (strcmp(name, reduction_names[k]) == 0) {
            *out = (imbal_reduction)k;
            return IMBAL_OK;
        }
    }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "unknown reduction '%s' (expected mean, sum or none)", name);
}

void imbal_loss_params_default(imbal_loss_params *p, imbal_loss_kind kind) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->reduction = IMBAL_REDUCTION_MEAN;
    p->weight_norm = IMBAL_WEIGHT_NORM_PYTORCH;
    p->gamma = 2.0f;
    p->alpha = 0.25f;
    p->label_smoothing = 0.0f;
    p->ignore_index = -100;
    p->tau = 1.0f;
    p->ldam_max_margin = 0.5f;
    p->ldam_scale = 30.0f;
    p->grad_scale = 1.0f;
    p->check_finite = 0;
}

/* "[7, 5]" or "[]" for a 0-d tensor. */
static const char *shape_text(const imbal_tensor *t, char *buf, size_t size) {
    size_t used = 0;
    used += (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && used < size; ++d)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "",
                                 (long long)t->shape[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

/* Checks one tensor: non-NULL data (when any element), the call's device, an allowed dtype
 * (a bit mask over imbal_dtype) and the expected shape (ndim values of `shape`). */
static imbal_status check_tensor(imbal_ctx *ctx, const char *name, const imbal_tensor *t,
                                 imbal_device device, unsigned dtype_mask, int ndim,
                                 const int64_t *shape) {
    char got[96], want[96];
    if (t->device.kind != device.kind || t->device.index != device.index)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: on %s:%d but the call runs on %s:%d", name,
                          t->device.kind == IMBAL_DEVICE_CPU ? "cpu" : "cuda", t->device.index,
                          device.kind == IMBAL_DEVICE_CPU ? "cpu" : "cuda", device.index);
    if (((unsigned)t->dtype >= 32u) || !(dtype_mask & (1u << (unsigned)t->dtype))) {
        char allowed[64] = "";
        for (unsigned d = 0; d < 6; ++d) {
            if (!(dtype_mask & (1u << d))) continue;
            if (allowed[0]) strncat(allowed, " | ", sizeof allowed - strlen(allowed) - 1);
            strncat(allowed, imbal_dtype_name((imbal_dtype)d),
                    sizeof allowed - strlen(allowed) - 1);
        }
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: expected dtype %s, got %s", name,
                          allowed, imbal_dtype_name(t->dtype));
    }
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; ++d)
        same = t->shape[d] == shape[d];
    if (!same) {
        imbal_tensor w;
        memset(&w, 0, sizeof w);
        w.ndim = ndim;
        for (int d = 0; d < ndim; ++d)
            w.shape[d] = shape[d];
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: expected %s got %s", name,
                          shape_text(&w, want, sizeof want), shape_text(t, got, sizeof got));
    }
    if (!t->data && imbal_tensor_numel(t) > 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: data is NULL", name);
    return IMBAL_OK;
}

#define MASK(d)    (1u << (unsigned)(d))
#define FLOAT_MASK (MASK(IMBAL_F32) | MASK(IMBAL_F16) | MASK(IMBAL_BF16))

static imbal_status check_params(imbal_ctx *ctx, const imbal_loss_params *p) {
    const char *kn = imbal_loss_kind_name(p->kind);
    if ((int)p->kind < 0 || (int)p->kind >= KIND_COUNT)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "params.kind: unknown loss kind %d",
                          (int)p->kind);
    if ((int)p->reduction < 0 || (int)p->reduction >= REDUCTION_COUNT)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "params.reduction: unknown reduction %d",
                          (int)p->reduction);
    if (p->weight_norm != IMBAL_WEIGHT_NORM_PYTORCH && p->weight_norm != IMBAL_WEIGHT_NORM_COUNT)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "params.weight_norm: unknown weight normalisation %d",
                          (int)p->weight_norm);
    if (!isfinite(p->grad_scale))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "params.grad_scale: %g is not finite",
                          (double)p->grad_scale);
    int focal = p->kind == IMBAL_LOSS_FOCAL || p->kind == IMBAL_LOSS_SIGMOID_FOCAL;
    if (focal && !(p->gamma >= 0.0f && isfinite(p->gamma)))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "params.gamma: %g for %s must be finite and >= 0", (double)p->gamma, kn);
    if (p->kind == IMBAL_LOSS_SIGMOID_FOCAL && !(p->alpha <= 1.0f))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "params.alpha: %g for %s must be in [0, 1] (or < 0 to disable)",
                          (double)p->alpha, kn);
    if (!(p->label_smoothing >= 0.0f && p->label_smoothing <= 1.0f))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "params.label_smoothing: %g must be in [0, 1]",
                          (double)p->label_smoothing);
    if (p->label_smoothing != 0.0f &&
        (p->kind == IMBAL_LOSS_FOCAL || !imbal_loss_is_softmax(p->kind)))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "params.label_smoothing: %g is not supported by %s (only ce, "
                          "balanced-softmax and ldam smooth labels)",
                          (double)p->label_smoothing, kn);
    if (p->kind == IMBAL_LOSS_BALANCED_SOFTMAX && !isfinite(p->tau))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "params.tau: %g is not finite",
                          (double)p->tau);
    if (p->kind == IMBAL_LOSS_LDAM) {
        if (!(p->ldam_max_margin > 0.0f && isfinite(p->ldam_max_margin)))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "params.ldam_max_margin: %g must be finite and > 0",
                              (double)p->ldam_max_margin);
        if (!(p->ldam_scale > 0.0f && isfinite(p->ldam_scale)))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "params.ldam_scale: %g must be finite and > 0",
                              (double)p->ldam_scale);
    }
    return IMBAL_OK;
}

static imbal_status check_inputs(imbal_ctx *ctx, imbal_device dev, const imbal_loss_params *p,
                                 const imbal_loss_inputs *in, imbal_loss_job *job) {
    const imbal_tensor *lg = in->logits;
    const char *kn = imbal_loss_kind_name(p->kind);
    if (!lg) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "logits: NULL");
    if (lg->ndim != 2) {
        char got[96];
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "logits: expected [N, C] got %s",
                          shape_text(lg, got, sizeof got));
    }
    if (lg->shape[1] < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "logits: C = %lld must be >= 1",
                          (long long)lg->shape[1]);
    imbal_status st = check_tensor(ctx, "logits", lg, dev, FLOAT_MASK, 2, lg->shape);
    if (st != IMBAL_OK) return st;
    int64_t n = lg->shape[0], c = lg->shape[1];
    int64_t rows[1] = {n}, cols[1] = {c};
    int softmax = imbal_loss_is_softmax(p->kind);

    if (!in->targets) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "targets: NULL");
    if (softmax)
        st = check_tensor(ctx, "targets", in->targets, dev, MASK(IMBAL_I32) | MASK(IMBAL_I64), 1,
                          rows);
    else
        st = check_tensor(ctx, "targets", in->targets, dev, MASK(lg->dtype), 2, lg->shape);
    if (st != IMBAL_OK) return st;

    const imbal_tensor *opt[4] = {in->class_weights, in->sample_weights, in->class_counts,
                                  in->pos_weight};
    const char *opt_names[4] = {"class_weights", "sample_weights", "class_counts", "pos_weight"};
    for (int i = 0; i < 4; ++i) {
        if (!opt[i]) continue;
        st = check_tensor(ctx, opt_names[i], opt[i], dev, MASK(IMBAL_F32), 1, i == 1 ? rows : cols);
        if (st != IMBAL_OK) return st;
    }
    int needs_counts = p->kind == IMBAL_LOSS_BALANCED_SOFTMAX || p->kind == IMBAL_LOSS_LDAM;
    if (needs_counts && !in->class_counts)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "class_counts: required by %s", kn);
    if (!needs_counts && in->class_counts)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "class_counts: only balanced-softmax and ldam use it, not %s", kn);
    if (in->pos_weight && p->kind != IMBAL_LOSS_BCE)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "pos_weight: only bce uses it, not %s",
                          kn);

    job->p = *p;
    job->n = n;
    job->c = c;
    job->dtype = lg->dtype;
    job->logits = lg->data;
    job->targets = in->targets->data;
    job->target_dtype = in->targets->dtype;
    job->class_weights = in->class_weights ? (const float *)in->class_weights->data : NULL;
    job->sample_weights = in->sample_weights ? (const float *)in->sample_weights->data : NULL;
    job->class_counts = in->class_counts ? (const float *)in->class_counts->data : NULL;
    job->pos_weight = in->pos_weight ? (const float *)in->pos_weight->data : NULL;
    return IMBAL_OK;
}

static imbal_status check_outputs(imbal_ctx *ctx, imbal_device dev, const imbal_loss_params *p,
                                  const imbal_loss_inputs *in, const imbal_loss_outputs *out,
                                  imbal_loss_job *job) {
    const imbal_tensor *lg = in->logits;
    imbal_status st;
    if (out->loss) {
        if (p->reduction == IMBAL_REDUCTION_NONE)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "loss: must be NULL with reduction none (the losses go to "
                              "per_sample)");
        int64_t one[1] = {1};
        const imbal_tensor *t = out->loss;
        st = check_tensor(ctx, "loss", t, dev, MASK(IMBAL_F32), t->ndim == 0 ? 0 : 1, one);
        if (st != IMBAL_OK) return st;
        job->loss = (float *)t->data;
    }
    if (out->per_sample) {
        if (imbal_loss_is_softmax(p->kind)) {
            int64_t rows[1] = {lg->shape[0]};
            st = check_tensor(ctx, "per_sample", out->per_sample, dev, MASK(IMBAL_F32), 1, rows);
        } else {
            st = check_tensor(ctx, "per_sample", out->per_sample, dev, MASK(IMBAL_F32), 2,
                              lg->shape);
        }
        if (st != IMBAL_OK) return st;
        job->per_sample = (float *)out->per_sample->data;
    } else if (p->reduction == IMBAL_REDUCTION_NONE) {
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "per_sample: required with reduction none");
    }
    if (out->dlogits) {
        st = check_tensor(ctx, "dlogits", out->dlogits, dev, MASK(lg->dtype), 2, lg->shape);
        if (st != IMBAL_OK) return st;
        job->dlogits = out->dlogits->data;
    }
    return IMBAL_OK;
}

imbal_status imbal_loss(imbal_ctx *ctx, imbal_device device, const imbal_loss_params *p,
                        const imbal_loss_inputs *in, const imbal_loss_outputs *out) {
    if (!p || !in || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_loss: params, in or out is NULL");
    imbal_status st = imbal_device_check(ctx, device);
    if (st != IMBAL_OK) return st;
    st = check_params(ctx, p);
    if (st != IMBAL_OK) return st;
    imbal_loss_job job;
    memset(&job, 0, sizeof job);
    st = check_inputs(ctx, device, p, in, &job);
    if (st != IMBAL_OK) return st;
    st = check_outputs(ctx, device, p, in, out, &job);
    if (st != IMBAL_OK) return st;
    if (device.kind == IMBAL_DEVICE_CPU) return imbal_loss_cpu(ctx, &job);
#ifdef IMBAL_WITH_CUDA
    return imbal_loss_cuda(ctx, device.index, &job);
#else
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "imbal_loss: CUDA device without CUDA support");
#endif
}
