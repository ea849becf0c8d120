/* imbal: running a model over a whole dataset for evaluation (validation during training and
 * `imbal eval`): loader in sequential order, resize + normalise, eval-mode forward, metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imbal/loader.h"
#include "imbal/loss.h"
#include "internal.h"
#include "train_internal.h"

double train_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

imbal_status logit_adjustment(imbal_ctx *ctx, const int64_t *counts, int num_classes, float tau,
                              float **out) {
    *out = NULL;
    if (!(tau > 0)) return IMBAL_OK;
    float *a = imbal_xmalloc(ctx, (size_t)num_classes, sizeof *a, "logit adjustment");
    if (!a) return IMBAL_ERR_OUT_OF_MEMORY;
    double total = 0;
    for (int k = 0; k < num_classes; k++)
        total += (double)(counts[k] > 0 ? counts[k] : 1);
    for (int k = 0; k < num_classes; k++)
        a[k] = (float)(tau * log((double)(counts[k] > 0 ? counts[k] : 1) / total));
    *out = a;
    return IMBAL_OK;
}

void eval_pipeline(imbal_aug_pipeline *p, int size, const float mean[3], const float std[3]) {
    imbal_aug_pipeline_default(p);
    p->out_height = size;
    p->out_width = size;
    p->output = IMBAL_AUG_OUT_F32_NCHW;
    for (int i = 0; i < 3; i++) {
        p->mean[i] = mean[i];
        p->std[i] = std[i];
    }
}

imbal_status batch_buffers_alloc(imbal_ctx *ctx, imbal_device dev, int batch, int size,
                                 batch_buffers *b) {
    memset(b, 0, sizeof *b);
    int64_t xs[4] = {batch, 3, size, size}, ls[1] = {batch};
    imbal_status st = imbal_tensor_alloc(ctx, &b->x, IMBAL_F32, 4, xs, dev);
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &b->labels, IMBAL_I32, 1, ls, dev);
    if (st == IMBAL_OK && dev.kind == IMBAL_DEVICE_CUDA) {
        int64_t us[1] = {(int64_t)batch * size * size * 3};
        st = imbal_tensor_alloc(ctx, &b->dev_u8, IMBAL_U8, 1, us, dev);
        if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &b->dev_keys, IMBAL_I64, 1, ls, dev);
    }
    return st;
}

void batch_buffers_free(batch_buffers *b) {
    imbal_tensor_free(&b->x);
    imbal_tensor_free(&b->labels);
    imbal_tensor_free(&b->dev_u8);
    imbal_tensor_free(&b->dev_keys);
}

imbal_status batch_to_input(imbal_ctx *ctx, imbal_device dev, const imbal_aug_pipeline *p,
                            const imbal_batch *batch, uint64_t seed, uint32_t epoch,
                            batch_buffers *b, imbal_tensor *x) {
    int n = batch->n, S = p->out_height;
    *x = imbal_model_batch_view(&b->x, n);
    int64_t ns[1] = {n};
    imbal_tensor hl =
        imbal_tensor_wrap((void *)batch->labels, IMBAL_I32, 1, ns, imbal_device_cpu());
    imbal_tensor dl = imbal_model_batch_view(&b->labels, n);
    imbal_status st = imbal_tensor_copy(ctx, &dl, &hl);
    if (st != IMBAL_OK) return st;
    if (dev.kind == IMBAL_DEVICE_CPU)
        return imbal_augment_batch(ctx, dev, p, batch->images, n, S, S, batch->positions,
                                   batch->labels, seed, epoch, x->data, NULL);
    int64_t us[1] = {(int64_t)n * S * S * 3};
    imbal_tensor hu = imbal_tensor_wrap(batch->images, IMBAL_U8, 1, us, imbal_device_cpu());
    imbal_tensor du = imbal_tensor_wrap(b->dev_u8.data, IMBAL_U8, 1, us, dev);
    imbal_tensor hk =
        imbal_tensor_wrap((void *)batch->positions, IMBAL_I64, 1, ns, imbal_device_cpu());
    imbal_tensor dk = imbal_tensor_wrap(b->dev_keys.data, IMBAL_I64, 1, ns, dev);
    st = imbal_tensor_copy(ctx, &du, &hu);
    if (st == IMBAL_OK) st = imbal_tensor_copy(ctx, &dk, &hk);
    if (st == IMBAL_OK)
        st = imbal_augment_batch(ctx, dev, p, du.data, n, S, S, dk.data, dl.data, seed, epoch,
                                 x->data, NULL);
    return st;
}

/* Mean cross-entropy of a host logits batch (after adjustment), in double. */
static double batch_ce_sum(const float *logits, const int32_t *labels, int n, int C) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (int64_t)i * C;
        float mx = z[0];
        for (int c = 1; c < C; c++)
            mx = z[c] > mx ? z[c] : mx;
        double s = 0;
        for (int c = 0; c < C; c++)
            s += exp((double)z[c] - mx);
        sum += log(s) + mx - z[labels[i]];
    }
    return sum;
}

imbal_status evaluate_dataset(imbal_ctx *ctx, imbal_model *m, const imbal_dataset *ds,
                              const imbal_aug_pipeline *eval_pipe, int batch, int threads,
                              const float *adjust, imbal_metrics *metrics, double *mean_loss,
                              float *logits_out) {
    const imbal_model_config *mc = imbal_model_get_config(m);
    imbal_device dev = imbal_model_device(m);
    int C = mc->num_classes, S = eval_pipe->out_height;
    if (batch > imbal_model_max_batch(m)) batch = imbal_model_max_batch(m);
    int64_t N = imbal_dataset_size(ds);
    imbal_loader_config lc;
    imbal_loader_config_default(&lc);
    lc.height = lc.width = S;
    lc.batch_size = batch;
    lc.threads = threads;
    lc.cache = 0;
    imbal_loader *loader = NULL;
    batch_buffers b;
    imbal_tensor logits_host = {0};
    int64_t *order = imbal_xmalloc(ctx, (size_t)(N ? N : 1), sizeof *order, "evaluation order");
    if (!order) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < N; i++)
        order[i] = i;
    int64_t ls[2] = {batch, C};
    imbal_status st = batch_buffers_alloc(ctx, dev, batch, S, &b);
    if (st == IMBAL_OK)
        st = imbal_tensor_alloc(ctx, &logits_host, IMBAL_F32, 2, ls, imbal_device_cpu());
    if (st == IMBAL_OK) st = imbal_loader_create(ctx, ds, &lc, &loader);
    if (st == IMBAL_OK) st = imbal_loader_start_epoch(ctx, loader, order, N, 0);
    double loss_sum = 0;
    int64_t seen = 0;
    while (st == IMBAL_OK) {
        imbal_batch bt;
        st = imbal_loader_next(ctx, loader, &bt);
        if (st != IMBAL_OK || bt.n == 0) break;
        imbal_tensor x, logits;
        st = batch_to_input(ctx, dev, eval_pipe, &bt, 0, 0, &b, &x);
        if (st == IMBAL_OK) st = imbal_model_forward(ctx, m, &x, IMBAL_MODEL_EVAL, &logits);
        imbal_tensor hl = imbal_model_batch_view(&logits_host, bt.n);
        if (st == IMBAL_OK) st = imbal_tensor_copy(ctx, &hl, &logits);
        float *z = hl.data;
        for (int i = 0; st == IMBAL_OK && adjust && i < bt.n; i++)
            for (int c = 0; c < C; c++)
                z[(int64_t)i * C + c] -= adjust[c];
        if (st == IMBAL_OK) {
            for (int i = 0; i < bt.n; i++)
                if (bt.labels[i] < 0 || bt.labels[i] >= C)
                    st = imbal_fail(ctx, IMBAL_ERR_DATA,
                                    "evaluation: '%s' has label %d beyond the model's %d classes",
                                    imbal_dataset_path(ds, bt.indices[i]), bt.labels[i], C);
        }
        if (st == IMBAL_OK) st = imbal_metrics_add_logits(ctx, metrics, z, bt.labels, bt.n);
        for (int i = 0; st == IMBAL_OK && logits_out && i < bt.n; i++)
            memcpy(logits_out + bt.indices[i] * C, z + (int64_t)i * C, (size_t)C * sizeof *z);
        if (st == IMBAL_OK) loss_sum += batch_ce_sum(z, bt.labels, bt.n, C);
        seen += bt.n;
        imbal_loader_release(loader, &bt);
    }
    if (mean_loss) *mean_loss = seen ? loss_sum / (double)seen : NAN;
    imbal_loader_destroy(loader);
    batch_buffers_free(&b);
    imbal_tensor_free(&logits_host);
    free(order);
    return st;
}
