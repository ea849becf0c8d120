/* imbal: optimizer names, configs and the step dispatchers (imbal/optim.h): every argument is
 * validated here, then the CPU twin (src/optim_cpu.c) or the CUDA twin (kernels/optim_cuda.cu)
 * runs with the per-call scalars folded the way PyTorch folds them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/optim.h"
#include "internal.h"
#include "optim_internal.h"

static const char *const kind_names[] = {"sgd", "adamw"};

const char *imbal_optim_kind_name(imbal_optim_kind kind) {
    return (unsigned)kind < 2u ? kind_names[kind] : "?";
}

imbal_status imbal_optim_kind_parse(imbal_ctx *ctx, const char *name, imbal_optim_kind *out) {
    if (!name || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_optim_kind_parse: name and out must not be NULL");
    for (int k = 0; k < 2; ++k)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (imbal_optim_kind)k;
            return IMBAL_OK;
        }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "optimizer '%s' is unknown (expected sgd or adamw)", name);
}

void imbal_optim_config_default(imbal_optim_config *cfg, imbal_optim_kind kind) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->momentum = 0.9f;
    cfg->nesterov = 0;
    cfg->weight_decay = kind == IMBAL_OPTIM_ADAMW ? 1e-2f : 5e-4f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-8f;
}

static imbal_status check_unit(imbal_ctx *ctx, const char *field, float x) {
    if (!(x >= 0.0f && x < 1.0f))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "optimizer config: %s = %g must be in [0, 1)", field, (double)x);
    return IMBAL_OK;
}

static imbal_status check_weight_decay(imbal_ctx *ctx, const char *field, float wd) {
    if (!(wd >= 0.0f) || isinf(wd))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s = %g must be finite and >= 0", field,
                          (double)wd);
    return IMBAL_OK;
}

imbal_status imbal_optim_config_check(imbal_ctx *ctx, const imbal_optim_config *cfg) {
    if (!cfg)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_optim_config_check: cfg must not be NULL");
    if ((unsigned)cfg->kind >= 2u)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "optimizer config: kind = %d is not an imbal_optim_kind", (int)cfg->kind);
    imbal_status st = check_weight_decay(ctx, "optimizer config: weight_decay", cfg->weight_decay);
    if (st != IMBAL_OK) return st;
    if (cfg->kind == IMBAL_OPTIM_SGD) {
        if ((st = check_unit(ctx, "momentum", cfg->momentum)) != IMBAL_OK) return st;
        if (cfg->nesterov != 0 && cfg->nesterov != 1)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "optimizer config: nesterov = %d must be 0 or 1", cfg->nesterov);
        /* PyTorch's rule: Nesterov needs momentum (and zero dampening, which we always have). */
        if (cfg->nesterov && cfg->momentum == 0.0f)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "optimizer config: nesterov = 1 needs momentum > 0");
        return IMBAL_OK;
    }
    if ((st = check_unit(ctx, "beta1", cfg->beta1)) != IMBAL_OK) return st;
    if ((st = check_unit(ctx, "beta2", cfg->beta2)) != IMBAL_OK) return st;
    if (!(cfg->eps > 0.0f) || isinf(cfg->eps))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "optimizer config: eps = %g must be finite and > 0", (double)cfg->eps);
    return IMBAL_OK;
}

/* The double a user meant when the f32 field holds it: the shortest decimal that rounds to the
 * float (0.999f -> 0.999, not 0.99900001287), so 1 - beta2 and the bias corrections equal
 * PyTorch's, which sees the Python float 0.999. */
static double decimal_double(float f) {
    char text[32];
    for (int digits = 1; digits <= 9; ++digits) {
        snprintf(text, sizeof text, "%.*g", digits, (double)f);
        double d = strtod(text, NULL);
        if ((float)d == f) return d;
    }
    return (double)f;
}

static const char *dev_kind(imbal_device d) {
    return d.kind == IMBAL_DEVICE_CPU ? "cpu" : "cuda";
}

/* f32, the call's device, param's shape, data present when there are elements. */
static imbal_status check_tensor(imbal_ctx *ctx, const char *fn, const char *name,
                                 const imbal_tensor *t, imbal_device device,
                                 const imbal_tensor *param) {
    if (!t) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
    if (t->device.kind != device.kind || t->device.index != device.index)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: %s is on %s:%d but the call runs on %s:%d", fn, name,
                          dev_kind(t->device), t->device.index, dev_kind(device), device.index);
    if (t->dtype != IMBAL_F32)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s has dtype %s, expected f32", fn,
                          name, imbal_dtype_name(t->dtype));
    if (t->ndim < 0 || t->ndim > IMBAL_MAX_DIMS)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s has ndim %d", fn, name, t->ndim);
    if (t != param && !imbal_tensor_same_shape(t, param))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: %s has a different shape from param (%d dims, %lld elements vs %d "
                          "dims, %lld elements)",
                          fn, name, t->ndim, (long long)imbal_tensor_numel(t), param->ndim,
                          (long long)imbal_tensor_numel(param));
    if (imbal_tensor_numel(t) > 0 && !t->data)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s has no data", fn, name);
    return IMBAL_OK;
}

static imbal_status check_common(imbal_ctx *ctx, const char *fn, imbal_device device,
                                 const imbal_optim_config *cfg, imbal_optim_kind kind, float lr,
                                 float weight_decay) {
    if (!cfg) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: cfg is NULL", fn);
    if (cfg->kind != kind)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: cfg.kind is %s, expected %s", fn,
                          imbal_optim_kind_name(cfg->kind), imbal_optim_kind_name(kind));
    imbal_status st = imbal_optim_config_check(ctx, cfg);
    if (st != IMBAL_OK) return st;
    if (!(lr >= 0.0f) || isinf(lr))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: lr = %g must be finite and >= 0",
                          fn, (double)lr);
    char field[64];
    snprintf(field, sizeof field, "%s: weight_decay", fn);
    if ((st = check_weight_decay(ctx, field, weight_decay)) != IMBAL_OK) return st;
    return imbal_device_check(ctx, device);
}

imbal_status imbal_sgd_step(imbal_ctx *ctx, imbal_device device, const imbal_optim_config *cfg,
                            float lr, float weight_decay, imbal_tensor *param,
                            const imbal_tensor *grad, imbal_tensor *buf) {
    static const char fn[] = "imbal_sgd_step";
    imbal_status st = check_common(ctx, fn, device, cfg, IMBAL_OPTIM_SGD, lr, weight_decay);
    if (st != IMBAL_OK) return st;
    if ((st = check_tensor(ctx, fn, "param", param, device, param)) != IMBAL_OK) return st;
    if ((st = check_tensor(ctx, fn, "grad", grad, device, param)) != IMBAL_OK) return st;
    if (buf || cfg->momentum != 0.0f)
        if ((st = check_tensor(ctx, fn, "buf (momentum buffer)", buf, device, param)) != IMBAL_OK)
            return st;
    imbal_sgd_job job = {imbal_tensor_numel(param),
                         lr,
                         weight_decay,
                         cfg->momentum,
                         cfg->nesterov,
                         (float *)param->data,
                         (const float *)grad->data,
                         cfg->momentum != 0.0f ? (float *)buf->data : NULL};
    if (job.n == 0) return IMBAL_OK;
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_sgd_cpu(ctx, &job);
        return IMBAL_OK;
    }
#ifdef IMBAL_WITH_CUDA
    return imbal_sgd_cuda(ctx, device.index, &job);
#else
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "%s: CUDA device without CUDA support", fn);
#endif
}

imbal_status imbal_adamw_step(imbal_ctx *ctx, imbal_device device, const imbal_optim_config *cfg,
                              float lr, float weight_decay, int64_t step, imbal_tensor *param,
                              const imbal_tensor *grad, imbal_tensor *m, imbal_tensor *v) {
    static const char fn[] = "imbal_adamw_step";
    imbal_status st = check_common(ctx, fn, device, cfg, IMBAL_OPTIM_ADAMW, lr, weight_decay);
    if (st != IMBAL_OK) return st;
    if (step < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: step = %lld must be >= 1 (the step's number, counted from 1)", fn,
                          (long long)step);
    if ((st = check_tensor(ctx, fn, "param", param, device, param)) != IMBAL_OK) return st;
    if ((st = check_tensor(ctx, fn, "grad", grad, device, param)) != IMBAL_OK) return st;
    if ((st = check_tensor(ctx, fn, "m (first moment)", m, device, param)) != IMBAL_OK) return st;
    if ((st = check_tensor(ctx, fn, "v (second moment)", v, device, param)) != IMBAL_OK) return st;
    /* PyTorch computes these in Python floats (double) and rounds them to f32 in the kernels. */
    double b1 = decimal_double(cfg->beta1), b2 = decimal_double(cfg->beta2);
    double bc1 = 1.0 - pow(b1, (double)step), bc2 = 1.0 - pow(b2, (double)step);
    imbal_adamw_job job;
    job.n = imbal_tensor_numel(param);
    job.decay = (float)(1.0 - (double)lr * (double)weight_decay);
    job.beta1 = cfg->beta1;
    job.one_minus_beta1 = (float)(1.0 - b1);
    job.beta2 = cfg->beta2;
    job.one_minus_beta2 = (float)(1.0 - b2);
    job.step_size = (float)((double)lr / bc1);
    job.bc2_sqrt = (float)sqrt(bc2);
    job.eps = cfg->eps;
    job.param = (float *)param->data;
    job.grad = (const float *)grad->data;
    job.m = (float *)m->data;
    job.v = (float *)v->data;
    if (job.n == 0) return IMBAL_OK;
    if (device.kind == IMBAL_DEVICE_CPU) {
        imbal_adamw_cpu(ctx, &job);
        return IMBAL_OK;
    }
#ifdef IMBAL_WITH_CUDA
    return imbal_adamw_cuda(ctx, device.index, &job);
#else
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "%s: CUDA device without CUDA support", fn);
#endif
}
