/* imbal: the backbone's forward and backward passes, layer by layer through the nn ops (each a
 * CPU twin and a CUDA twin), and the classifier edits (prior bias, tau-normalisation). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/model.h"
#include "internal.h"
#include "model_internal.h"
#include "nn_cpu.h"
#include "nn_internal.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        imbal_status st_ = (expr);                                                                 \
        if (st_ != IMBAL_OK) return st_;                                                           \
    } while (0)

/* On the CPU the pass fuses each ReLU into the op before it (forward) or after it (backward): the
 * same bits as the separate ops, one sweep over memory fewer (src/nn_cpu.h). The model's buffers
 * were shaped and placed by imbal_model_create, so the checks of the public ops are not needed. */
static int on_cpu(const imbal_model *m) {
    return m->device.kind == IMBAL_DEVICE_CPU;
}

/* A view of a flat scratch buffer with the given 4-d shape. */
static imbal_tensor scratch_view(const imbal_tensor *buf, int64_t n, int64_t c, int64_t h,
                                 int64_t w) {
    int64_t shape[4] = {n, c, h, w};
    return imbal_tensor_wrap(buf->data, buf->dtype, 4, shape, buf->device);
}

static imbal_status conv_bn_forward(imbal_ctx *ctx, imbal_model *m, conv_bn *cb,
                                    const imbal_tensor *x, imbal_model_mode mode, int relu) {
    imbal_tensor co = imbal_model_batch_view(&cb->conv_out, m->n);
    imbal_tensor bo = imbal_model_batch_view(&cb->bn_out, m->n);
    TRY(imbal_conv2d_forward(ctx, cb->plan, x, conv_bn_weights(cb), &co));
    if (relu && mode == IMBAL_MODEL_TRAIN && on_cpu(m)) {
        return imbal_nn_cpu_bn_relu_forward_train(ctx, &co, &cb->gamma, &cb->beta, &cb->rmean,
                                                  &cb->rvar, m->cfg.bn_momentum, m->cfg.bn_eps, &bo,
                                                  &cb->smean, &cb->sinv);
    }
    if (mode == IMBAL_MODEL_TRAIN)
        TRY(imbal_batchnorm_forward_train(ctx, m->device, &co, &cb->gamma, &cb->beta, &cb->rmean,
                                          &cb->rvar, m->cfg.bn_momentum, m->cfg.bn_eps, &bo,
                                          &cb->smean, &cb->sinv));
    else
        TRY(imbal_batchnorm_forward_eval(ctx, m->device, &co, &cb->gamma, &cb->beta, &cb->rmean,
                                         &cb->rvar, m->cfg.bn_eps, &bo));
    if (relu) TRY(imbal_relu_forward(ctx, m->device, &bo, &bo));
    return IMBAL_OK;
}

static imbal_status conv_bn_cast(imbal_ctx *ctx, conv_bn *cb) {
    return imbal_nn_cast(ctx, &cb->w, &cb->w16);
}

/* A bf16 model: the f32 weights rounded into their bf16 copies (they change at every optimizer
 * step, and this is ~300k values against a batch's millions of activations) and the f32 input
 * into input16, which becomes m->input. */
static imbal_status to_compute_dtype(imbal_ctx *ctx, imbal_model *m, const imbal_tensor *x) {
    TRY(conv_bn_cast(ctx, &m->stem));
    for (int i = 0; i < m->num_blocks; i++) {
        res_block *b = &m->blocks[i];
        TRY(conv_bn_cast(ctx, &b->a));
        TRY(conv_bn_cast(ctx, &b->b));
        if (b->has_proj) TRY(conv_bn_cast(ctx, &b->proj));
    }
    m->input = imbal_model_batch_view(&m->input16, m->n);
    return imbal_nn_cast(ctx, x, &m->input);
}

static imbal_status block_forward(imbal_ctx *ctx, imbal_model *m, res_block *b,
                                  imbal_model_mode mode) {
    imbal_tensor in = imbal_model_batch_view(b->in, m->n);
    TRY(conv_bn_forward(ctx, m, &b->a, &in, mode, 1));
    imbal_tensor a_out = imbal_model_batch_view(&b->a.bn_out, m->n);
    TRY(conv_bn_forward(ctx, m, &b->b, &a_out, mode, 0));
    imbal_tensor out = imbal_model_batch_view(&b->b.bn_out, m->n);
    imbal_tensor s = in;
    if (b->has_proj) {
        TRY(conv_bn_forward(ctx, m, &b->proj, &in, mode, 0));
        s = imbal_model_batch_view(&b->proj.bn_out, m->n);
    }
    if (on_cpu(m)) {
        imbal_nn_cpu_add_relu_forward(ctx, &out, &s, &out);
        return IMBAL_OK;
    }
    TRY(imbal_add(ctx, m->device, &out, &s, &out));
    return imbal_relu_forward(ctx, m->device, &out, &out);
}

imbal_status imbal_model_forward(imbal_ctx *ctx, imbal_model *m, const imbal_tensor *x,
                                 imbal_model_mode mode, imbal_tensor *logits) {
    if (!m || !x || !logits)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_model_forward: NULL argument");
    if (mode != IMBAL_MODEL_TRAIN && mode != IMBAL_MODEL_EVAL)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_model_forward: bad mode %d",
                          (int)mode);
    const imbal_model_config *c = &m->cfg;
    if (x->ndim != 4 || x->shape[0] < 1 || x->shape[0] > m->max_batch ||
        x->shape[1] != c->in_channels || x->shape[2] != c->height || x->shape[3] != c->width_px)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_forward: x must be [1..%d, %d, %d, %d] (ndim %d, shape[0] "
                          "%lld)",
                          m->max_batch, c->in_channels, c->height, c->width_px, x->ndim,
                          x->ndim > 0 ? (long long)x->shape[0] : -1LL);
    if (x->dtype != IMBAL_F32 || x->device.kind != m->device.kind ||
        x->device.index != m->device.index)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_forward: x must be f32 on the model's device");
    m->n = (int)x->shape[0];
    m->input = *x;
    m->input.owns_data = 0;
    m->have_forward = 0;
    if (m->input16.data) TRY(to_compute_dtype(ctx, m, x));
    TRY(conv_bn_forward(ctx, m, &m->stem, &m->input, mode, 1));
    for (int i = 0; i < m->num_blocks; i++)
        TRY(block_forward(ctx, m, &m->blocks[i], mode));
    const imbal_tensor *last =
        m->num_blocks ? &m->blocks[m->num_blocks - 1].b.bn_out : &m->stem.bn_out;
    imbal_tensor lv = imbal_model_batch_view(last, m->n);
    imbal_tensor pool = imbal_model_batch_view(&m->pool, m->n);
    imbal_tensor out = imbal_model_batch_view(&m->logits, m->n);
    TRY(imbal_avgpool_forward(ctx, m->device, &lv, &pool));
    TRY(imbal_linear_forward(ctx, m->device, &pool, &m->fc_w, &m->fc_b, &out));
    m->have_forward = 1;
    m->last_mode = mode;
    *logits = out;
    return IMBAL_OK;
}

/* Back through BN (+ ReLU when relu): d holds dL/d(output) on entry (overwritten by the ReLU's
 * gradient); writes dL/d(conv output) into dconv. */
static imbal_status bn_backward(imbal_ctx *ctx, imbal_model *m, conv_bn *cb, imbal_tensor *d,
                                imbal_tensor *dconv, int relu) {
    imbal_tensor co = imbal_model_batch_view(&cb->conv_out, m->n);
    if (relu) {
        imbal_tensor bo = imbal_model_batch_view(&cb->bn_out, m->n);
        if (on_cpu(m)) {
            return imbal_nn_cpu_bn_relu_backward(ctx, &co, &bo, d, &cb->gamma, &cb->smean,
                                                 &cb->sinv, dconv, &cb->ggamma, &cb->gbeta);
        }
        TRY(imbal_relu_backward(ctx, m->device, &bo, d, d));
    }
    return imbal_batchnorm_backward(ctx, m->device, &co, d, &cb->gamma, &cb->smean, &cb->sinv,
                                    dconv, &cb->ggamma, &cb->gbeta);
}

/* Back through one block. A holds dL/d(block output), already through the block's final ReLU when
 * masked; on return C holds dL/d(block input), on the CPU already through the ReLU that produced
 * the input (every block's input is a ReLU output: the stem's or the block before's). */
static imbal_status block_backward(imbal_ctx *ctx, imbal_model *m, res_block *b, imbal_tensor *A,
                                   imbal_tensor *B, imbal_tensor *C, int masked) {
    int n = m->n;
    imbal_tensor in = imbal_model_batch_view(b->in, n);
    imbal_tensor out = imbal_model_batch_view(&b->b.bn_out, n);
    int64_t oc = b->b.cout, oh = b->b.h_out, ow = b->b.w_out;
    imbal_tensor dA = scratch_view(A, n, oc, oh, ow);
    if (!masked) TRY(imbal_relu_backward(ctx, m->device, &out, &dA, &dA));
    /* main path: bn2, conv2, relu1, bn1, conv1 */
    imbal_tensor dB = scratch_view(B, n, oc, oh, ow);
    TRY(bn_backward(ctx, m, &b->b, &dA, &dB, 0));
    imbal_tensor a_out = imbal_model_batch_view(&b->a.bn_out, n);
    imbal_tensor dC = scratch_view(C, n, b->a.cout, b->a.h_out, b->a.w_out);
    TRY(imbal_conv2d_backward_data(ctx, b->b.plan, &dB, conv_bn_weights(&b->b), &dC));
    TRY(imbal_conv2d_backward_filter(ctx, b->b.plan, &a_out, &dB, &b->b.gw));
    imbal_tensor dB1 = scratch_view(B, n, b->a.cout, b->a.h_out, b->a.w_out);
    TRY(bn_backward(ctx, m, &b->a, &dC, &dB1, 1));
    imbal_tensor dIn = scratch_view(C, n, in.shape[1], in.shape[2], in.shape[3]);
    TRY(imbal_conv2d_backward_data(ctx, b->a.plan, &dB1, conv_bn_weights(&b->a), &dIn));
    TRY(imbal_conv2d_backward_filter(ctx, b->a.plan, &in, &dB1, &b->a.gw));
    /* shortcut */
    if (!b->has_proj) {
        if (!on_cpu(m)) return imbal_add(ctx, m->device, &dIn, &dA, &dIn);
        imbal_nn_cpu_add_relu_backward(ctx, &in, &dIn, &dA, &dIn);
        return IMBAL_OK;
    }
    imbal_tensor dP = scratch_view(B, n, oc, oh, ow);
    TRY(bn_backward(ctx, m, &b->proj, &dA, &dP, 0));
    imbal_tensor dS = scratch_view(A, n, in.shape[1], in.shape[2], in.shape[3]);
    TRY(imbal_conv2d_backward_data(ctx, b->proj.plan, &dP, conv_bn_weights(&b->proj), &dS));
    TRY(imbal_conv2d_backward_filter(ctx, b->proj.plan, &in, &dP, &b->proj.gw));
    if (!on_cpu(m)) return imbal_add(ctx, m->device, &dIn, &dS, &dIn);
    imbal_nn_cpu_add_relu_backward(ctx, &in, &dIn, &dS, &dIn);
    return IMBAL_OK;
}

imbal_status imbal_model_backward(imbal_ctx *ctx, imbal_model *m, const imbal_tensor *dlogits,
                                  int head_only) {
    if (!m || !dlogits)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_model_backward: NULL argument");
    if (!m->have_forward)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_backward: no successful forward pass to go back through");
    if (!head_only && m->last_mode != IMBAL_MODEL_TRAIN)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_backward: a full backward needs a training-mode forward "
                          "(head_only works after either)");
    if (dlogits->ndim != 2 || dlogits->shape[0] != m->n ||
        dlogits->shape[1] != m->cfg.num_classes || dlogits->dtype != IMBAL_F32)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_backward: dlogits must be f32 [%d, %d] like the last "
                          "forward's logits",
                          m->n, m->cfg.num_classes);
    int n = m->n;
    imbal_tensor pool = imbal_model_batch_view(&m->pool, n);
    imbal_tensor dpool = imbal_model_batch_view(&m->dpool, n);
    TRY(imbal_linear_backward(ctx, m->device, &pool, &m->fc_w, dlogits, head_only ? NULL : &dpool,
                              &m->fc_gw, &m->fc_gb));
    if (head_only) return IMBAL_OK;
    imbal_tensor *A = &m->scratch[0], *B = &m->scratch[1], *C = &m->scratch[2];
    const imbal_tensor *last = &m->blocks[m->num_blocks - 1].b.bn_out;
    imbal_tensor dlast = scratch_view(A, n, last->shape[1], last->shape[2], last->shape[3]);
    TRY(imbal_avgpool_backward(ctx, m->device, &dpool, &dlast));
    for (int i = m->num_blocks - 1; i >= 0; i--) {
        TRY(block_backward(ctx, m, &m->blocks[i], A, B, C, i < m->num_blocks - 1 && on_cpu(m)));
        imbal_tensor *t = A; /* C now holds the gradient of this block's input */
        A = C;
        C = t;
    }
    conv_bn *s = &m->stem;
    imbal_tensor dS = scratch_view(A, n, s->cout, s->h_out, s->w_out);
    imbal_tensor dConv = scratch_view(B, n, s->cout, s->h_out, s->w_out);
    TRY(bn_backward(ctx, m, s, &dS, &dConv, 1));
    return imbal_conv2d_backward_filter(ctx, s->plan, &m->input, &dConv, &s->gw);
}

imbal_status imbal_model_features(imbal_ctx *ctx, const imbal_model *m, imbal_tensor *features) {
    if (!m || !features)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_model_features: NULL argument");
    if (!m->have_forward)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_features: no forward pass yet");
    *features = imbal_model_batch_view(&m->pool, m->n);
    return IMBAL_OK;
}

/* ---- classifier edits (host round trip: small tensors, rare calls) ------------------------- */

static imbal_status fc_to_host(imbal_ctx *ctx, imbal_model *m, float **w, float **b) {
    int64_t C = m->cfg.num_classes, F = m->features;
    *w = imbal_xmalloc(ctx, (size_t)(C * F), sizeof **w, "classifier weights");
    *b = imbal_xmalloc(ctx, (size_t)C, sizeof **b, "classifier bias");
    if (!*w || !*b) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_tensor hw = imbal_tensor_wrap(*w, IMBAL_F32, 2, m->fc_w.shape, imbal_device_cpu());
    imbal_tensor hb = imbal_tensor_wrap(*b, IMBAL_F32, 1, m->fc_b.shape, imbal_device_cpu());
    TRY(imbal_tensor_copy(ctx, &hw, &m->fc_w));
    return imbal_tensor_copy(ctx, &hb, &m->fc_b);
}

static imbal_status fc_from_host(imbal_ctx *ctx, imbal_model *m, float *w, float *b) {
    imbal_tensor hw = imbal_tensor_wrap(w, IMBAL_F32, 2, m->fc_w.shape, imbal_device_cpu());
    imbal_tensor hb = imbal_tensor_wrap(b, IMBAL_F32, 1, m->fc_b.shape, imbal_device_cpu());
    TRY(imbal_tensor_copy(ctx, &m->fc_w, &hw));
    return imbal_tensor_copy(ctx, &m->fc_b, &hb);
}

imbal_status imbal_model_init_prior_bias(imbal_ctx *ctx, imbal_model *m, const int64_t *counts) {
    if (!m || !counts)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_init_prior_bias: NULL argument");
    int C = m->cfg.num_classes;
    double total = 0;
    for (int c = 0; c < C; c++) {
        if (counts[c] < 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "imbal_model_init_prior_bias: count of class %d is negative", c);
        total += (double)(counts[c] > 0 ? counts[c] : 1);
    }
    float *w = NULL, *b = NULL;
    imbal_status st = fc_to_host(ctx, m, &w, &b);
    if (st == IMBAL_OK) {
        for (int c = 0; c < C; c++)
            b[c] = (float)log((double)(counts[c] > 0 ? counts[c] : 1) / total);
        st = fc_from_host(ctx, m, w, b);
    }
    free(w);
    free(b);
    return st;
}

imbal_status imbal_model_tau_normalize(imbal_ctx *ctx, imbal_model *m, float tau) {
    if (!m)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_model_tau_normalize: NULL model");
    if (!(tau >= 0.0f && tau <= 10.0f))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_model_tau_normalize: tau %g out of [0, 10]", (double)tau);
    float *w = NULL, *b = NULL;
    imbal_status st = fc_to_host(ctx, m, &w, &b);
    int64_t F = m->features;
    for (int c = 0; st == IMBAL_OK && c < m->cfg.num_classes; c++) {
        double norm = 0;
        for (int64_t j = 0; j < F; j++)
            norm += (double)w[c * F + j] * w[c * F + j];
        norm = sqrt(norm);
        if (norm > 0) {
            double s = 1.0 / pow(norm, (double)tau);
            for (int64_t j = 0; j < F; j++)
                w[c * F + j] = (float)(w[c * F + j] * s);
            b[c] = (float)(b[c] * s);
        }
    }
    if (st == IMBAL_OK) st = fc_from_host(ctx, m, w, b);
    free(w);
    free(b);
    return st;
}
