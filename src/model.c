/* imbal: building the residual backbone: layout, allocation, initialisation, parameter table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/model.h"
#include "imbal/philox.h"
#include "imbal/random_fill.h"
#include "internal.h"
#include "model_internal.h"
#include "tensor_internal.h"
#include "train_internal.h"

void imbal_model_config_default(imbal_model_config *cfg, int num_classes) {
    memset(cfg, 0, sizeof *cfg);
    cfg->num_classes = num_classes;
    cfg->in_channels = 3;
    cfg->depth = 20;
    cfg->width = 16;
    cfg->stem_stride = 1;
    cfg->height = 32;
    cfg->width_px = 32;
    cfg->bn_momentum = 0.1f;
    cfg->bn_eps = 1e-5f;
    cfg->dtype = IMBAL_F32;
}

static const struct {
    const char *name;
    int depth, width, stem_stride;
} presets[] = {{"resnet8", 8, 16, 1},
               {"resnet20", 20, 16, 1},
               {"resnet32", 32, 16, 1},
               {"resnet20-s2", 20, 16, 2}};

imbal_status imbal_model_config_preset(imbal_ctx *ctx, const char *name, imbal_model_config *cfg) {
    if (!name || !cfg)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "model preset: NULL argument");
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(name, presets[i].name) == 0) {
            cfg->depth = presets[i].depth;
            cfg->width = presets[i].width;
            cfg->stem_stride = presets[i].stem_stride;
            return IMBAL_OK;
        }
    }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "model preset '%s': unknown (resnet8, resnet20, resnet32, resnet20-s2)",
                      name);
}

static imbal_status config_check(imbal_ctx *ctx, const imbal_model_config *c, int max_batch) {
    if (c->num_classes < 1 || c->num_classes > 1000000)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "model: num_classes %d out of 1..1000000", c->num_classes);
    if (c->in_channels < 1 || c->in_channels > 64)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "model: in_channels %d out of 1..64",
                          c->in_channels);
    if (c->depth < 8 || (c->depth - 2) % 6 != 0 || c->depth > 1202)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "model: depth %d is not 6n+2 with n >= 1 (8, 14, 20, 32, ...)", c->depth);
    if (c->width < 1 || c->width > 1024)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "model: width %d out of 1..1024",
                          c->width);
    if (c->stem_stride != 1 && c->stem_stride != 2)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "model: stem_stride %d is not 1 or 2",
                          c->stem_stride);
    int min_side = 4 * c->stem_stride;
    if (c->height < min_side || c->width_px < min_side || c->height > 4096 || c->width_px > 4096)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "model: input %dx%d out of %d..4096 per side", c->height, c->width_px,
                          min_side);
    if (!(c->bn_momentum >= 0.0f && c->bn_momentum <= 1.0f) || !(c->bn_eps > 0.0f))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "model: bn_momentum %g must be in [0, 1] and bn_eps %g > 0",
                          (double)c->bn_momentum, (double)c->bn_eps);
    if (max_batch < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "model: max_batch %d must be >= 1",
                          max_batch);
    if (c->dtype != IMBAL_F32 && c->dtype != IMBAL_BF16)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "model: dtype %s is not f32 or bf16",
                          imbal_dtype_name(c->dtype));
    return IMBAL_OK;
}

imbal_tensor imbal_model_batch_view(const imbal_tensor *t, int n) {
    imbal_tensor v = *t;
    v.shape[0] = n;
    v.owns_data = 0;
    return v;
}

/* ---- allocation helpers -------------------------------------------------------------------- */

/* An f32 tensor (alloc_t) or one of the given dtype (alloc_dt) on the model's device. */
static imbal_status alloc_dt(imbal_ctx *ctx, imbal_model *m, imbal_tensor *t, imbal_dtype dtype,
                             int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    int64_t shape[4] = {d0, d1, d2, d3};
    imbal_status st = imbal_tensor_alloc(ctx, t, dtype, ndim, shape, m->device);
    if (st == IMBAL_ERR_DEVICE_OUT_OF_MEMORY || st == IMBAL_ERR_OUT_OF_MEMORY)
        return imbal_fail(ctx, st, "model: out of memory for batch size %d (%s)", m->max_batch,
                          imbal_ctx_error(ctx));
    return st;
}

static imbal_status alloc_t(imbal_ctx *ctx, imbal_model *m, imbal_tensor *t, int ndim, int64_t d0,
                            int64_t d1, int64_t d2, int64_t d3) {
    return alloc_dt(ctx, m, t, IMBAL_F32, ndim, d0, d1, d2, d3);
}

/* Copies `count` host floats into t (any device). */
static imbal_status set_from_host(imbal_ctx *ctx, imbal_tensor *t, const float *host) {
    imbal_tensor src =
        imbal_tensor_wrap((void *)host, IMBAL_F32, t->ndim, t->shape, imbal_device_cpu());
    return imbal_tensor_copy(ctx, t, &src);
}

static imbal_status conv_bn_alloc(imbal_ctx *ctx, imbal_model *m, conv_bn *cb, int cin, int cout,
                                  int ksize, int stride, int h_in, int w_in) {
    cb->cin = cin;
    cb->cout = cout;
    cb->ksize = ksize;
    cb->stride = stride;
    imbal_conv2d_shape s = {m->max_batch, cin, h_in, w_in, cout, ksize, ksize, stride, ksize / 2};
    imbal_conv2d_out_hw(&s, &cb->h_out, &cb->w_out);
    const imbal_dtype act = m->cfg.dtype;
    imbal_status st = imbal_conv_plan_create(ctx, m->device, &s, act, &cb->plan);
    if (st == IMBAL_OK) {
        imbal_conv_plan_set_search(cb->plan, m->cfg.conv_search);
        imbal_conv_plan_set_tf32(cb->plan, m->cfg.conv_tf32);
    }
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &cb->w, 4, cout, cin, ksize, ksize);
    if (st == IMBAL_OK && act != IMBAL_F32)
        st = alloc_dt(ctx, m, &cb->w16, act, 4, cout, cin, ksize, ksize);
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &cb->gw, 4, cout, cin, ksize, ksize);
    imbal_tensor *vecs[] = {&cb->gamma, &cb->ggamma, &cb->beta,  &cb->gbeta,
                            &cb->rmean, &cb->rvar,   &cb->smean, &cb->sinv};
    for (size_t i = 0; st == IMBAL_OK && i < sizeof vecs / sizeof vecs[0]; i++)
        st = alloc_t(ctx, m, vecs[i], 1, cout, 0, 0, 0);
    if (st == IMBAL_OK)
        st = alloc_dt(ctx, m, &cb->conv_out, act, 4, m->max_batch, cout, cb->h_out, cb->w_out);
    if (st == IMBAL_OK)
        st = alloc_dt(ctx, m, &cb->bn_out, act, 4, m->max_batch, cout, cb->h_out, cb->w_out);
    return st;
}

static void conv_bn_free(conv_bn *cb) {
    imbal_conv_plan_destroy(cb->plan);
    imbal_tensor *ts[] = {&cb->w,    &cb->gw,       &cb->w16,   &cb->gamma, &cb->ggamma,
                          &cb->beta, &cb->gbeta,    &cb->rmean, &cb->rvar,  &cb->smean,
                          &cb->sinv, &cb->conv_out, &cb->bn_out};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        imbal_tensor_free(ts[i]);
}

/* ---- the parameter table ------------------------------------------------------------------- */

static imbal_status add_param(imbal_ctx *ctx, imbal_model *m, const char *name, imbal_tensor *v,
                              imbal_tensor *g, imbal_param_role role, int head) {
    imbal_param *p = imbal_xrealloc(ctx, m->params, (size_t)m->num_params + 1, sizeof *p,
                                    "model parameter table");
    if (!p) return IMBAL_ERR_OUT_OF_MEMORY;
    m->params = p;
    char **names = imbal_xrealloc(ctx, m->param_names, (size_t)m->num_params + 1, sizeof *names,
                                  "model parameter names");
    if (!names) return IMBAL_ERR_OUT_OF_MEMORY;
    m->param_names = names;
    names[m->num_params] = imbal_xstrdup(ctx, name);
    if (!names[m->num_params]) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_param *q = &p[m->num_params++];
    q->name = names[m->num_params - 1];
    q->value = v;
    q->grad = g;
    q->role = role;
    q->head = head;
    return IMBAL_OK;
}

static imbal_status add_conv_bn(imbal_ctx *ctx, imbal_model *m, conv_bn *cb, const char *conv,
                                const char *bn) {
    char name[160];
    snprintf(name, sizeof name, "%s.weight", conv);
    imbal_status st = add_param(ctx, m, name, &cb->w, &cb->gw, IMBAL_PARAM_WEIGHT, 0);
    struct {
        const char *suffix;
        imbal_tensor *v, *g;
        imbal_param_role role;
    } bn_params[] = {{"weight", &cb->gamma, &cb->ggamma, IMBAL_PARAM_NORM},
                     {"bias", &cb->beta, &cb->gbeta, IMBAL_PARAM_NORM},
                     {"running_mean", &cb->rmean, NULL, IMBAL_PARAM_BUFFER},
                     {"running_var", &cb->rvar, NULL, IMBAL_PARAM_BUFFER}};
    for (int i = 0; st == IMBAL_OK && i < 4; i++) {
        snprintf(name, sizeof name, "%s.%s", bn, bn_params[i].suffix);
        st = add_param(ctx, m, name, bn_params[i].v, bn_params[i].g, bn_params[i].role, 0);
    }
    return st;
}

/* ---- initialisation ------------------------------------------------------------------------ */

/* He-normal (fan-in) conv weights, BN gamma 1 / beta 0 / running mean 0 / var 1, the linear layer
 * uniform in +-1/sqrt(in). Parameter i's draws are Philox stream (seed, i, *, IMBAL_OP_INIT). */
static imbal_status init_params(imbal_ctx *ctx, imbal_model *m, uint64_t seed, int head_only) {
    imbal_status st = IMBAL_OK;
    for (int i = 0; st == IMBAL_OK && i < m->num_params; i++) {
        const imbal_param *p = &m->params[i];
        if (head_only && !p->head) continue;
        imbal_tensor *t = p->value;
        int64_t n = imbal_tensor_numel(t);
        const char *leaf = strrchr(p->name, '.');
        leaf = leaf ? leaf + 1 : p->name;
        if (p->role == IMBAL_PARAM_WEIGHT || p->role == IMBAL_PARAM_BIAS) {
            float *h = imbal_xmalloc(ctx, (size_t)n, sizeof *h, "model initialisation");
            if (!h) return IMBAL_ERR_OUT_OF_MEMORY;
            if (p->head) {
                double bound = 1.0 / sqrt((double)m->features);
                st = imbal_random_uniform_fill(ctx, imbal_device_cpu(), seed, (uint32_t)i,
                                               IMBAL_OP_INIT, 0, n, h);
                for (int64_t j = 0; j < n; j++)
                    h[j] = (float)((2.0 * h[j] - 1.0) * bound);
            } else {
                double fan_in = (double)(t->shape[1] * t->shape[2] * t->shape[3]);
                float std = (float)sqrt(2.0 / fan_in);
                st = imbal_random_normal_fill(ctx, imbal_device_cpu(), seed, (uint32_t)i,
                                              IMBAL_OP_INIT, 0, n, h);
                for (int64_t j = 0; j < n; j++)
                    h[j] *= std;
            }
            if (st == IMBAL_OK) st = set_from_host(ctx, t, h);
            free(h);
        } else {
            float v =
                (strcmp(leaf, "weight") == 0 || strcmp(leaf, "running_var") == 0) ? 1.0f : 0.0f;
            st = imbal_tensor_fill_f32(ctx, t, v);
        }
    }
    return st;
}

/* ---- create / destroy ---------------------------------------------------------------------- */

static imbal_status build_layers(imbal_ctx *ctx, imbal_model *m) {
    const imbal_model_config *c = &m->cfg;
    imbal_status st = conv_bn_alloc(ctx, m, &m->stem, c->in_channels, c->width, 3, c->stem_stride,
                                    c->height, c->width_px);
    if (st != IMBAL_OK) return st;
    st = add_conv_bn(ctx, m, &m->stem, "conv1", "bn1");
    int per_stage = (c->depth - 2) / 6;
    m->num_blocks = 3 * per_stage;
    m->blocks = imbal_xcalloc(ctx, (size_t)m->num_blocks, sizeof *m->blocks, "model blocks");
    if (!m->blocks) return IMBAL_ERR_OUT_OF_MEMORY;
    const imbal_tensor *in = &m->stem.bn_out;
    int cin = c->width, h = m->stem.h_out, w = m->stem.w_out;
    char conv[96], bn[96];
    for (int s = 0; st == IMBAL_OK && s < 3; s++) {
        int cout = c->width << s;
        for (int j = 0; st == IMBAL_OK && j < per_stage; j++) {
            res_block *b = &m->blocks[s * per_stage + j];
            int stride = (s > 0 && j == 0) ? 2 : 1;
            b->in = in;
            st = conv_bn_alloc(ctx, m, &b->a, cin, cout, 3, stride, h, w);
            if (st == IMBAL_OK)
                st = conv_bn_alloc(ctx, m, &b->b, cout, cout, 3, 1, b->a.h_out, b->a.w_out);
            b->has_proj = stride != 1 || cin != cout;
            if (st == IMBAL_OK && b->has_proj)
                st = conv_bn_alloc(ctx, m, &b->proj, cin, cout, 1, stride, h, w);
            for (int k = 0; st == IMBAL_OK && k < 2; k++) {
                snprintf(conv, sizeof conv, "layer%d.%d.conv%d", s + 1, j, k + 1);
                snprintf(bn, sizeof bn, "layer%d.%d.bn%d", s + 1, j, k + 1);
                st = add_conv_bn(ctx, m, k ? &b->b : &b->a, conv, bn);
            }
            if (st == IMBAL_OK && b->has_proj) {
                snprintf(conv, sizeof conv, "layer%d.%d.shortcut.0", s + 1, j);
                snprintf(bn, sizeof bn, "layer%d.%d.shortcut.1", s + 1, j);
                st = add_conv_bn(ctx, m, &b->proj, conv, bn);
            }
            in = &b->b.bn_out;
            cin = cout;
            h = b->a.h_out;
            w = b->a.w_out;
        }
    }
    if (st != IMBAL_OK) return st;
    m->features = cin;
    int64_t classes = c->num_classes;
    st = alloc_t(ctx, m, &m->pool, 2, m->max_batch, cin, 0, 0);
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &m->dpool, 2, m->max_batch, cin, 0, 0);
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &m->fc_w, 2, classes, cin, 0, 0);
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &m->fc_gw, 2, classes, cin, 0, 0);
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &m->fc_b, 1, classes, 0, 0, 0);
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &m->fc_gb, 1, classes, 0, 0, 0);
    if (st == IMBAL_OK) st = alloc_t(ctx, m, &m->logits, 2, m->max_batch, classes, 0, 0);
    if (st == IMBAL_OK)
        st = add_param(ctx, m, "fc.weight", &m->fc_w, &m->fc_gw, IMBAL_PARAM_WEIGHT, 1);
    if (st == IMBAL_OK) st = add_param(ctx, m, "fc.bias", &m->fc_b, &m->fc_gb, IMBAL_PARAM_BIAS, 1);
    /* Gradient scratch: the largest activation (the stem's output is never smaller than a later
     * one, but take the maximum anyway). */
    int64_t largest = imbal_tensor_numel(&m->stem.conv_out);
    for (int i = 0; i < m->num_blocks; i++) {
        int64_t a = imbal_tensor_numel(&m->blocks[i].a.conv_out);
        int64_t in_n = imbal_tensor_numel(m->blocks[i].in);
        largest = a > largest ? a : largest;
        largest = in_n > largest ? in_n : largest;
    }
    for (int i = 0; st == IMBAL_OK && i < 3; i++)
        st = alloc_dt(ctx, m, &m->scratch[i], c->dtype, 1, largest, 0, 0, 0);
    if (st == IMBAL_OK && c->dtype != IMBAL_F32)
        st = alloc_dt(ctx, m, &m->input16, c->dtype, 4, m->max_batch, c->in_channels, c->height,
                      c->width_px);
    return st;
}

imbal_status imbal_model_create(imbal_ctx *ctx, imbal_device device, const imbal_model_config *cfg,
                                int max_batch, uint64_t seed, imbal_model **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_model_create: out is NULL");
    *out = NULL;
    if (!cfg) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_model_create: cfg is NULL");
    imbal_status st = config_check(ctx, cfg, max_batch);
    if (st == IMBAL_OK) st = imbal_device_check(ctx, device);
    if (st != IMBAL_OK) return st;
    if (cfg->dtype != IMBAL_F32 && device.kind == IMBAL_DEVICE_CPU)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                          "model: dtype %s needs a CUDA device (the CPU twins take f32 only)",
                          imbal_dtype_name(cfg->dtype));
    imbal_model *m = imbal_xcalloc(ctx, 1, sizeof *m, "model");
    if (!m) return IMBAL_ERR_OUT_OF_MEMORY;
    m->device = device;
    m->cfg = *cfg;
    m->max_batch = max_batch;
    st = build_layers(ctx, m);
    if (st == IMBAL_OK) st = init_params(ctx, m, seed, 0);
    if (st != IMBAL_OK) {
        imbal_model_destroy(m);
        return st;
    }
    *out = m;
    return IMBAL_OK;
}

void imbal_model_destroy(imbal_model *m) {
    if (!m) return;
    conv_bn_free(&m->stem);
    for (int i = 0; m->blocks && i < m->num_blocks; i++) {
        conv_bn_free(&m->blocks[i].a);
        conv_bn_free(&m->blocks[i].b);
        if (m->blocks[i].has_proj) conv_bn_free(&m->blocks[i].proj);
    }
    free(m->blocks);
    imbal_tensor *ts[] = {&m->pool,       &m->dpool,      &m->fc_w,   &m->fc_gw,
                          &m->fc_b,       &m->fc_gb,      &m->logits, &m->scratch[0],
                          &m->scratch[1], &m->scratch[2], &m->input16};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        imbal_tensor_free(ts[i]);
    for (int i = 0; i < m->num_params; i++)
        free(m->param_names[i]);
    free(m->param_names);
    free(m->params);
    free(m);
}

const imbal_model_config *imbal_model_get_config(const imbal_model *m) {
    return m ? &m->cfg : NULL;
}

imbal_device imbal_model_device(const imbal_model *m) {
    return m ? m->device : imbal_device_cpu();
}

int imbal_model_max_batch(const imbal_model *m) {
    return m ? m->max_batch : 0;
}

int imbal_model_num_params(const imbal_model *m) {
    return m ? m->num_params : 0;
}

const imbal_param *imbal_model_param(const imbal_model *m, int i) {
    return (m && i >= 0 && i < m->num_params) ? &m->params[i] : NULL;
}

int64_t imbal_model_num_scalars(const imbal_model *m) {
    int64_t n = 0;
    for (int i = 0; m && i < m->num_params; i++)
        if (m->params[i].role != IMBAL_PARAM_BUFFER) n += imbal_tensor_numel(m->params[i].value);
    return n;
}

imbal_status model_reinit_head(imbal_ctx *ctx, imbal_model *m, uint64_t seed) {
    return init_params(ctx, m, seed, 1);
}
