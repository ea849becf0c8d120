/* imbal: the optimizer state of a whole model (one or two buffers per trainable parameter) and a
 * step over all of them. Weight decay applies to conv and linear weights only (not to batch-norm
 * parameters or biases, the usual practice since Goyal et al. 2017). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tensor_internal.h"
#include "train_internal.h"

static imbal_status zeros_like(imbal_ctx *ctx, imbal_tensor **out, const imbal_tensor *like) {
    *out = imbal_xcalloc(ctx, 1, sizeof **out, "optimizer state");
    if (!*out) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st =
        imbal_tensor_alloc(ctx, *out, IMBAL_F32, like->ndim, like->shape, like->device);
    return st == IMBAL_OK ? imbal_tensor_fill_f32(ctx, *out, 0.0f) : st;
}

imbal_status optim_state_create(imbal_ctx *ctx, const imbal_model *m, const imbal_optim_config *cfg,
                                optim_state *os) {
    memset(os, 0, sizeof *os);
    imbal_status st = imbal_optim_config_check(ctx, cfg);
    if (st != IMBAL_OK) return st;
    os->cfg = *cfg;
    os->num_params = imbal_model_num_params(m);
    for (int k = 0; k < 2; k++) {
        os->buf[k] =
            imbal_xcalloc(ctx, (size_t)os->num_params, sizeof *os->buf[k], "optimizer state table");
        if (!os->buf[k]) return IMBAL_ERR_OUT_OF_MEMORY;
    }
    int nbuf = cfg->kind == IMBAL_OPTIM_ADAMW ? 2 : (cfg->momentum > 0 ? 1 : 0);
    for (int i = 0; i < os->num_params; i++) {
        const imbal_param *p = imbal_model_param(m, i);
        if (p->role == IMBAL_PARAM_BUFFER) continue;
        for (int k = 0; k < nbuf; k++) {
            imbal_tensor *t = NULL;
            st = zeros_like(ctx, &t, p->value);
            if (st != IMBAL_OK) {
                if (t) {
                    imbal_tensor_free(t);
                    free(t);
                }
                return st;
            }
            os->buf[k][i] = t;
        }
    }
    return IMBAL_OK;
}

void optim_state_free(optim_state *os) {
    for (int k = 0; k < 2; k++) {
        imbal_tensor **b = os->buf[k];
        for (int i = 0; b && i < os->num_params; i++) {
            if (b[i]) {
                imbal_tensor_free(b[i]);
                free(b[i]);
            }
        }
        free(b);
        os->buf[k] = NULL;
    }
}

imbal_status optim_state_step(imbal_ctx *ctx, optim_state *os, imbal_model *m, double lr,
                              int head_only) {
    imbal_device dev = imbal_model_device(m);
    imbal_tensor **b0 = os->buf[0], **b1 = os->buf[1];
    os->step++;
    for (int i = 0; i < os->num_params; i++) {
        const imbal_param *p = imbal_model_param(m, i);
        if (p->role == IMBAL_PARAM_BUFFER || (head_only && !p->head)) continue;
        float wd = p->role == IMBAL_PARAM_WEIGHT ? os->cfg.weight_decay : 0.0f;
        imbal_status st;
        if (os->cfg.kind == IMBAL_OPTIM_ADAMW)
            st = imbal_adamw_step(ctx, dev, &os->cfg, (float)lr, wd, os->step, p->value, p->grad,
                                  b0[i], b1[i]);
        else
            st = imbal_sgd_step(ctx, dev, &os->cfg, (float)lr, wd, p->value, p->grad, b0[i]);
        if (st != IMBAL_OK) return st;
    }
    return IMBAL_OK;
}
