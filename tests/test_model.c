/* The residual backbone on the CPU: layout and names, initialisation, a finite-difference check of
 * the whole forward/backward, head-only backward, the classifier edits and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

static imbal_model *tiny(imbal_ctx *ctx, int classes, int batch) {
    imbal_model_config c;
    imbal_model_config_default(&c, classes);
    c.depth = 8;
    c.width = 2;
    c.height = c.width_px = 8;
    imbal_model *m = NULL;
    cr_assert_eq(imbal_model_create(ctx, imbal_device_cpu(), &c, batch, 7, &m), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    return m;
}

static imbal_tensor input(float *buf, int n, int side, unsigned seed) {
    srand(seed);
    for (int i = 0; i < n * 3 * side * side; i++)
        buf[i] = (float)rand() / RAND_MAX * 2 - 1;
    int64_t s[4] = {n, 3, side, side};
    return imbal_tensor_wrap(buf, IMBAL_F32, 4, s, imbal_device_cpu());
}

Test(model, names_follow_pytorch_state_dict) {
    imbal_ctx *ctx = tu_ctx();
    imbal_model *m = tiny(ctx, 3, 4);
    int n = imbal_model_num_params(m);
    /* stem (5) + 3 blocks x 10 + 2 projections x 5 + fc (2) */
    cr_assert_eq(n, 5 + 30 + 10 + 2);
    cr_assert_str_eq(imbal_model_param(m, 0)->name, "conv1.weight");
    cr_assert_str_eq(imbal_model_param(m, 3)->name, "bn1.running_mean");
    cr_assert_str_eq(imbal_model_param(m, 5)->name, "layer1.0.conv1.weight");
    cr_assert_str_eq(imbal_model_param(m, n - 2)->name, "fc.weight");
    cr_assert_str_eq(imbal_model_param(m, n - 1)->name, "fc.bias");
    int found = 0;
    for (int i = 0; i < n; i++)
        found += strcmp(imbal_model_param(m, i)->name, "layer2.0.shortcut.0.weight") == 0;
    cr_assert_eq(found, 1);
    cr_assert_eq(imbal_model_param(m, n - 2)->value->shape[1], 8); /* 4 x width features */
    /* trainable scalars: conv 3*2*9 + blocks + ... just check buffers are excluded */
    int64_t all = 0;
    for (int i = 0; i < n; i++)
        all += imbal_tensor_numel(imbal_model_param(m, i)->value);
    cr_assert_lt(imbal_model_num_scalars(m), all);
    imbal_model_destroy(m);
    imbal_ctx_destroy(ctx);
}

Test(model, he_init_statistics_and_seed) {
    imbal_ctx *ctx = tu_ctx();
    imbal_model_config c;
    imbal_model_config_default(&c, 10);
    imbal_model *a = NULL, *b = NULL;
    cr_assert_eq(imbal_model_create(ctx, imbal_device_cpu(), &c, 2, 1, &a), IMBAL_OK);
    cr_assert_eq(imbal_model_create(ctx, imbal_device_cpu(), &c, 2, 1, &b), IMBAL_OK);
    /* layer3's first conv: 32 -> 64 channels, 3x3: std sqrt(2 / 288) */
    const imbal_param *p = NULL, *q = NULL;
    for (int i = 0; i < imbal_model_num_params(a); i++)
        if (strcmp(imbal_model_param(a, i)->name, "layer3.0.conv1.weight") == 0) {
            p = imbal_model_param(a, i);
            q = imbal_model_param(b, i);
        }
    cr_assert_not_null(p);
    int64_t n = imbal_tensor_numel(p->value);
    const float *w = p->value->data;
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
        s += w[i];
        s2 += (double)w[i] * w[i];
    }
    double mean = s / n, sd = sqrt(s2 / n - mean * mean);
    cr_assert_lt(fabs(mean), 0.01);
    cr_assert_lt(fabs(sd / sqrt(2.0 / 288) - 1), 0.03, "std %g", sd);
    cr_assert_eq(memcmp(p->value->data, q->value->data, (size_t)n * 4), 0);
    imbal_model_destroy(a);
    imbal_model_destroy(b);
    imbal_ctx_destroy(ctx);
}

/* L = sum(logits * R): dL/dlogits = R. */
static double loss_of(imbal_ctx *ctx, imbal_model *m, const imbal_tensor *x, const float *R) {
    imbal_tensor logits;
    cr_assert_eq(imbal_model_forward(ctx, m, x, IMBAL_MODEL_TRAIN, &logits), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    double L = 0;
    const float *z = logits.data;
    for (int64_t i = 0; i < imbal_tensor_numel(&logits); i++)
        L += (double)z[i] * R[i];
    return L;
}

Test(model, gradients_match_finite_differences) {
    imbal_ctx *ctx = tu_ctx();
    int N = 4, C = 3;
    imbal_model *m = tiny(ctx, C, N);
    float xbuf[4 * 3 * 8 * 8], R[12];
    imbal_tensor x = input(xbuf, N, 8, 3);
    for (int i = 0; i < N * C; i++)
        R[i] = (float)((i * 7 % 5) - 2) * 0.5f;
    loss_of(ctx, m, &x, R);
    int64_t ds[2] = {N, C};
    imbal_tensor dl = imbal_tensor_wrap(R, IMBAL_F32, 2, ds, imbal_device_cpu());
    cr_assert_eq(imbal_model_backward(ctx, m, &dl, 0), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    int checked = 0;
    for (int i = 0; i < imbal_model_num_params(m); i++) {
        const imbal_param *p = imbal_model_param(m, i);
        if (p->role == IMBAL_PARAM_BUFFER) continue;
        int64_t n = imbal_tensor_numel(p->value);
        float *v = p->value->data;
        const float *g = p->grad->data;
        for (int64_t j = 0; j < n; j += n / 3 + 1) {
            float keep = v[j];
            /* small: ReLU kinks downstream make larger steps secants across them */
            float h = 3e-4f;
            v[j] = keep + h;
            double lp = loss_of(ctx, m, &x, R);
            v[j] = keep - h;
            double lm = loss_of(ctx, m, &x, R);
            v[j] = keep;
            double fd = (lp - lm) / (2 * h);
            double tol = 2e-2 * fmax(1.0, fabs(fd));
            cr_expect_leq(fabs(fd - g[j]), tol, "%s[%lld]: analytic %g, finite difference %g",
                          p->name, (long long)j, (double)g[j], fd);
            checked++;
        }
    }
    cr_assert_gt(checked, 40);
    imbal_model_destroy(m);
    imbal_ctx_destroy(ctx);
}

Test(model, eval_mode_uses_running_statistics_and_head_only_backward) {
    imbal_ctx *ctx = tu_ctx();
    imbal_model *m = tiny(ctx, 3, 4);
    float xbuf[4 * 3 * 8 * 8];
    imbal_tensor x = input(xbuf, 4, 8, 5), logits;
    /* Eval on a batch of 1 and of 4 give the same row 0: no batch statistics in eval mode. */
    cr_assert_eq(imbal_model_forward(ctx, m, &x, IMBAL_MODEL_EVAL, &logits), IMBAL_OK);
    float row0[3];
    memcpy(row0, logits.data, sizeof row0);
    imbal_tensor x1 = x;
    x1.shape[0] = 1;
    cr_assert_eq(imbal_model_forward(ctx, m, &x1, IMBAL_MODEL_EVAL, &logits), IMBAL_OK);
    for (int c = 0; c < 3; c++)
        cr_assert_float_eq(((float *)logits.data)[c], row0[c], 1e-5);
    /* A full backward needs a training-mode forward; head-only works. */
    float R[3] = {1, -1, 0.5f};
    int64_t ds[2] = {1, 3};
    imbal_tensor dl = imbal_tensor_wrap(R, IMBAL_F32, 2, ds, imbal_device_cpu());
    cr_assert_eq(imbal_model_backward(ctx, m, &dl, 0), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "training-mode"));
    cr_assert_eq(imbal_model_backward(ctx, m, &dl, 1), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    /* fc.bias gradient = sum of dlogits rows */
    const imbal_param *fcb = imbal_model_param(m, imbal_model_num_params(m) - 1);
    cr_assert_float_eq(((float *)fcb->grad->data)[0], 1.0f, 1e-6);
    cr_assert_float_eq(((float *)fcb->grad->data)[2], 0.5f, 1e-6);
    imbal_model_destroy(m);
    imbal_ctx_destroy(ctx);
}

Test(model, prior_bias_and_tau_normalisation) {
    imbal_ctx *ctx = tu_ctx();
    imbal_model *m = tiny(ctx, 3, 2);
    int64_t counts[3] = {80, 15, 5};
    cr_assert_eq(imbal_model_init_prior_bias(ctx, m, counts), IMBAL_OK);
    const imbal_param *w = imbal_model_param(m, imbal_model_num_params(m) - 2);
    const imbal_param *b = imbal_model_param(m, imbal_model_num_params(m) - 1);
    const float *bias = b->value->data;
    cr_assert_float_eq(bias[0], logf(0.8f), 1e-6);
    cr_assert_float_eq(bias[2], logf(0.05f), 1e-6);
    cr_assert_eq(imbal_model_tau_normalize(ctx, m, 1.0f), IMBAL_OK);
    const float *wv = w->value->data;
    for (int c = 0; c < 3; c++) {
        double nrm = 0;
        for (int j = 0; j < 8; j++)
            nrm += (double)wv[c * 8 + j] * wv[c * 8 + j];
        cr_assert_float_eq(sqrt(nrm), 1.0, 1e-5, "row %d norm %g", c, sqrt(nrm));
    }
    cr_assert_eq(imbal_model_tau_normalize(ctx, m, -1.0f), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_model_destroy(m);
    imbal_ctx_destroy(ctx);
}

Test(model, errors_name_the_argument) {
    imbal_ctx *ctx = tu_ctx();
    imbal_model_config c;
    imbal_model_config_default(&c, 10);
    imbal_model *m = NULL;
    c.depth = 10;
    cr_assert_eq(imbal_model_create(ctx, imbal_device_cpu(), &c, 4, 0, &m),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "depth 10"));
    cr_assert_eq(imbal_model_config_preset(ctx, "resnet50", &c), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "resnet50"));
    imbal_model_config_default(&c, 0);
    cr_assert_eq(imbal_model_create(ctx, imbal_device_cpu(), &c, 4, 0, &m),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "num_classes"));
    /* compute dtype: f32 everywhere, bf16 on CUDA only, nothing else */
    imbal_model_config_default(&c, 10);
    cr_assert_eq(c.dtype, IMBAL_F32);
    c.dtype = IMBAL_BF16;
    cr_assert_eq(imbal_model_create(ctx, imbal_device_cpu(), &c, 4, 0, &m), IMBAL_ERR_UNSUPPORTED);
    cr_assert_str_eq(imbal_ctx_error(ctx),
                     "model: dtype bf16 needs a CUDA device (the CPU twins take f32 only)");
    c.dtype = IMBAL_F16;
    cr_assert_eq(imbal_model_create(ctx, imbal_device_cpu(), &c, 4, 0, &m),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_str_eq(imbal_ctx_error(ctx), "model: dtype f16 is not f32 or bf16");
    cr_assert_null(m);
    m = tiny(ctx, 3, 2);
    float xbuf[3 * 3 * 8 * 8];
    imbal_tensor x = input(xbuf, 3, 8, 1), logits;
    cr_assert_eq(imbal_model_forward(ctx, m, &x, IMBAL_MODEL_TRAIN, &logits),
                 IMBAL_ERR_INVALID_ARGUMENT); /* batch 3 > max 2 */
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "x must be"));
    imbal_model_destroy(m);
    imbal_ctx_destroy(ctx);
}
