/* imbal: the training loop. One struct holds the run's pieces; each stage is a short function. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "imbal/loader.h"
#include "imbal/synth.h"
#include "internal.h"
#include "json_writer.h"
#include "train_internal.h"

void imbal_train_config_default(imbal_train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->device = imbal_device_cpu();
    cfg->arch = "resnet20";
    cfg->image_size = 32;
    cfg->dtype = IMBAL_F32;
    cfg->epochs = 30;
    cfg->batch = 128;
    cfg->lr = 0.1;
    imbal_optim_config_default(&cfg->optim, IMBAL_OPTIM_SGD);
    cfg->lr_schedule = IMBAL_LR_COSINE;
    cfg->sampler = IMBAL_SAMPLER_SHUFFLE;
    imbal_weight_options_default(&cfg->weights);
    imbal_loss_params_default(&cfg->loss, IMBAL_LOSS_CE);
    cfg->drw_epoch = -1;
    cfg->drs_epoch = -1;
    cfg->threshold_beta = 1.0;
}

typedef struct trainer {
    imbal_ctx *ctx;
    const imbal_train_config *cfg;
    imbal_device dev;
    imbal_dataset *all, *train, *val;
    int C, S, B;
    int64_t *counts;
    char **names; /* borrowed from the training index */
    imbal_model *model;
    optim_state os;
    run_info ri;
    imbal_aug_pipeline aug, evalp;
    float *strength;
    float *adjust; /* post-hoc logit adjustment, or NULL */
    imbal_sampler *sampler, *crt_sampler;
    imbal_loader *loader;
    float *class_w; /* [C] loss class weights (scheme none: NULL) */
    imbal_tensor cw, cnt, dlogits, loss;
    batch_buffers in; /* the batch's model input */
    train_history hist;
    char path[4096];
    double images, seconds;
} trainer;

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        imbal_status st_ = (expr);                                                                 \
        if (st_ != IMBAL_OK) return st_;                                                           \
    } while (0)

static const char *run_path(trainer *t, const char *file) {
    snprintf(t->path, sizeof t->path, "%s/%s", t->cfg->out_dir, file);
    return t->path;
}

/* ---- set-up -------------------------------------------------------------------------------- */

static imbal_status check_config(imbal_ctx *ctx, const imbal_train_config *c) {
    if (!c->data || !c->out_dir)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "train: --data and --out are required");
    if (c->epochs < 1 || c->epochs > 100000)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "train: --epochs %d out of 1..100000",
                          c->epochs);
    if (c->batch < 2 || c->batch > 65536)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "train: --batch %d out of 2..65536",
                          c->batch);
    if (!(c->lr > 0 && c->lr < 100))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "train: --lr %g must be in (0, 100)",
                          c->lr);
    if (c->image_size < 8 || c->image_size > 1024)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "train: --size %d out of 8..1024",
                          c->image_size);
    if (!(c->val_split >= 0 && c->val_split < 1))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "train: --val-split %g out of [0, 1)",
                          c->val_split);
    if (c->drw_epoch >= c->epochs || c->drs_epoch >= c->epochs)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "train: --drw-epoch %d / --drs-epoch %d must be below --epochs %d",
                          c->drw_epoch, c->drs_epoch, c->epochs);
    if (c->stop_after < 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "train: --stop-after %d must be >= 0",
                          c->stop_after);
    if (c->crt_epochs < 0 || c->warmup_epochs < 0 || c->warmup_epochs >= c->epochs)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "train: --crt-epochs %d must be >= 0 and --warmup-epochs %d in "
                          "0..epochs-1",
                          c->crt_epochs, c->warmup_epochs);
    if (!(c->tau_norm >= 0 && c->tau_norm <= 10) ||
        !(c->logit_adjust >= 0 && c->logit_adjust <= 10))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "train: --tau-norm %g and --logit-adjust %g must be in [0, 10]",
                          (double)c->tau_norm, (double)c->logit_adjust);
    if ((unsigned)c->threshold > IMBAL_THRESHOLD_F_BETA || !(c->threshold_beta > 0))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "train: --threshold %d unknown or --threshold-beta %g not > 0",
                          (int)c->threshold, c->threshold_beta);
    if (!(c->aug_tail_power >= 0 && c->aug_tail_power <= 4))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "train: --aug-tail-power %g out of [0, 4]", c->aug_tail_power);
    return imbal_optim_config_check(ctx, &c->optim);
}

/* Checks that the validation index has the training classes, in the same order. */
static imbal_status check_val_classes(trainer *t) {
    int vc = imbal_dataset_num_classes(t->val);
    for (int c = 0; c < vc; c++) {
        const char *name = imbal_dataset_class_name(t->val, c);
        int found = c < t->C && strcmp(name, t->names[c]) == 0;
        if (!found)
            return imbal_fail(t->ctx, IMBAL_ERR_DATA,
                              "train: class '%s' is in the validation set '%s' but not in the "
                              "training set '%s' (as class %d)",
                              name, t->cfg->val, t->cfg->data, c);
    }
    return IMBAL_OK;
}

static imbal_status open_data(trainer *t) {
    const imbal_train_config *c = t->cfg;
    TRY(imbal_dataset_open(t->ctx, c->data, 0, &t->all));
    if (imbal_dataset_size(t->all) == 0)
        return imbal_fail(t->ctx, IMBAL_ERR_DATA, "train: '%s' has no images", c->data);
    int has_val_rows = 0;
    const int8_t *sp = imbal_dataset_splits(t->all);
    for (int64_t i = 0; i < imbal_dataset_size(t->all); i++)
        has_val_rows |= sp[i] == IMBAL_SPLIT_VAL;
    if (!c->val && c->val_split > 0)
        TRY(imbal_dataset_split(t->ctx, t->all, 1.0 - c->val_split, c->val_split, 0.0, c->seed));
    if (!c->val && (c->val_split > 0 || has_val_rows)) {
        TRY(imbal_dataset_subset(t->ctx, t->all, IMBAL_SPLIT_TRAIN, &t->train));
        TRY(imbal_dataset_subset(t->ctx, t->all, IMBAL_SPLIT_VAL, &t->val));
    } else {
        t->train = t->all;
        t->all = NULL;
    }
    t->C = imbal_dataset_num_classes(t->train);
    /* One class trains nothing (the softmax of one logit is 1: the loss is 0 from the start),
     * which would look like a perfect run. */
    if (t->C < 2)
        return imbal_fail(t->ctx, IMBAL_ERR_DATA,
                          "train: '%s' has %d class ('%s'); a classifier needs at least 2", c->data,
                          t->C, t->C ? imbal_dataset_class_name(t->train, 0) : "");
    t->counts = imbal_xcalloc(t->ctx, (size_t)t->C, sizeof *t->counts, "class counts");
    t->names = imbal_xcalloc(t->ctx, (size_t)t->C, sizeof *t->names, "class names");
    if (!t->counts || !t->names) return IMBAL_ERR_OUT_OF_MEMORY;
    TRY(imbal_dataset_class_counts(t->ctx, t->train, IMBAL_SPLIT_NONE, t->counts));
    for (int k = 0; k < t->C; k++) {
        t->names[k] = (char *)imbal_dataset_class_name(t->train, k);
        if (t->counts[k] == 0)
            return imbal_fail(t->ctx, IMBAL_ERR_DATA,
                              "train: class '%s' has no training images in '%s'", t->names[k],
                              c->data);
    }
    if (c->val) {
        TRY(imbal_dataset_open(t->ctx, c->val, IMBAL_INDEX_ALLOW_EMPTY_CLASSES, &t->val));
        TRY(check_val_classes(t));
    }
    if (t->val && imbal_dataset_size(t->val) == 0) {
        imbal_dataset_destroy(t->val);
        t->val = NULL;
    }
    return IMBAL_OK;
}

static imbal_status setup_augment(trainer *t) {
    const imbal_train_config *c = t->cfg;
    char spec[256];
    if (c->augment)
        snprintf(spec, sizeof spec, "%s", c->augment);
    else
        snprintf(spec, sizeof spec, "crop=%d:pad=4:mode=reflect,flip,normalize=cifar10", t->S);
    TRY(imbal_aug_pipeline_parse(t->ctx, spec, &t->aug));
    if (t->aug.output != IMBAL_AUG_OUT_F32_NCHW || t->aug.out_height != t->S ||
        t->aug.out_width != t->S)
        return imbal_fail(t->ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "train: --augment '%s' must end in normalize=... (f32) and give %dx%d "
                          "images",
                          spec, t->S, t->S);
    TRY(imbal_aug_pipeline_check(t->ctx, &t->aug, t->S, t->S));
    eval_pipeline(&t->evalp, t->S, t->aug.mean, t->aug.std);
    if (c->aug_tail_power > 0) {
        int64_t nmax = 0;
        for (int k = 0; k < t->C; k++)
            nmax = t->counts[k] > nmax ? t->counts[k] : nmax;
        t->strength = imbal_xmalloc(t->ctx, (size_t)t->C, sizeof *t->strength, "strength");
        if (!t->strength) return IMBAL_ERR_OUT_OF_MEMORY;
        for (int k = 0; k < t->C; k++) {
            double s = pow((double)nmax / (double)t->counts[k], c->aug_tail_power);
            t->strength[k] = (float)(s > 4 ? 4 : s);
        }
        t->aug.class_strength = t->strength;
        t->aug.num_classes = t->C;
    }
    return IMBAL_OK;
}

static imbal_status setup_samplers(trainer *t) {
    const imbal_train_config *c = t->cfg;
    imbal_sampler_config main_cfg, shuffle, sched, cb;
    imbal_sampler_config_default(&main_cfg, c->sampler);
    main_cfg.seed = c->seed;
    main_cfg.q = c->sampler_q;
    main_cfg.batch_size = t->B;
    imbal_sampler_config_default(&shuffle, IMBAL_SAMPLER_SHUFFLE);
    shuffle.seed = c->seed;
    const imbal_sampler_config *use = &main_cfg;
    if (c->drs_epoch >= 0) {
        imbal_sampler_config_default(&sched, IMBAL_SAMPLER_SCHEDULE);
        sched.seed = c->seed;
        sched.before = &shuffle;
        sched.after = &main_cfg;
        sched.switch_epoch = (uint32_t)c->drs_epoch;
        use = &sched;
    }
    const int32_t *labels = imbal_dataset_labels(t->train);
    int64_t n = imbal_dataset_size(t->train);
    TRY(imbal_sampler_create(t->ctx, use, labels, n, t->C, &t->sampler));
    imbal_sampler_config_default(&cb, IMBAL_SAMPLER_CLASS_POWER);
    cb.seed = c->seed ^ 0x9e3779b97f4a7c15ull;
    cb.q = 0;
    return imbal_sampler_create(t->ctx, &cb, labels, n, t->C, &t->crt_sampler);
}

static imbal_status setup_tensors(trainer *t) {
    imbal_ctx *ctx = t->ctx;
    int64_t cs[1] = {t->C}, ds[2] = {t->B, t->C};
    float *h = imbal_xmalloc(ctx, (size_t)t->C, sizeof *h, "class counts");
    if (!h) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int k = 0; k < t->C; k++)
        h[k] = (float)t->counts[k];
    imbal_tensor hc = imbal_tensor_wrap(h, IMBAL_F32, 1, cs, imbal_device_cpu());
    imbal_status st = imbal_tensor_alloc(ctx, &t->cnt, IMBAL_F32, 1, cs, t->dev);
    if (st == IMBAL_OK) st = imbal_tensor_copy(ctx, &t->cnt, &hc);
    free(h);
    if (st == IMBAL_OK && t->cfg->weights.scheme != IMBAL_WEIGHTS_NONE) {
        double *w = imbal_xmalloc(ctx, (size_t)t->C, sizeof *w, "class weights");
        t->class_w = imbal_xmalloc(ctx, (size_t)t->C, sizeof *t->class_w, "class weights");
        if (!w || !t->class_w) {
            free(w);
            return IMBAL_ERR_OUT_OF_MEMORY;
        }
        st = imbal_class_weights(ctx, t->counts, t->C, (const char *const *)t->names,
                                 &t->cfg->weights, w);
        for (int k = 0; k < t->C; k++)
            t->class_w[k] = (float)w[k];
        free(w);
        imbal_tensor hw = imbal_tensor_wrap(t->class_w, IMBAL_F32, 1, cs, imbal_device_cpu());
        if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &t->cw, IMBAL_F32, 1, cs, t->dev);
        if (st == IMBAL_OK) st = imbal_tensor_copy(ctx, &t->cw, &hw);
    }
    if (st == IMBAL_OK) st = batch_buffers_alloc(ctx, t->dev, t->B, t->S, &t->in);
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &t->dlogits, IMBAL_F32, 2, ds, t->dev);
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &t->loss, IMBAL_F32, 0, NULL, t->dev);
    return st;
}

static imbal_status setup_model(trainer *t) {
    const imbal_train_config *c = t->cfg;
    imbal_model_config mc;
    imbal_model_config_default(&mc, t->C);
    TRY(imbal_model_config_preset(t->ctx, c->arch ? c->arch : "resnet20", &mc));
    if (c->width > 0) mc.width = c->width;
    mc.height = mc.width_px = t->S;
    mc.dtype = c->dtype;
    mc.conv_search = c->conv_search;
    mc.conv_tf32 = c->conv_tf32;
    TRY(imbal_model_create(t->ctx, t->dev, &mc, t->B, c->seed, &t->model));
    if (c->prior_bias) TRY(imbal_model_init_prior_bias(t->ctx, t->model, t->counts));
    TRY(optim_state_create(t->ctx, t->model, &c->optim, &t->os));
    run_info *ri = &t->ri;
    ri->model = mc;
    ri->num_classes = t->C;
    ri->class_names = t->names;   /* borrowed: never freed through run_info_free */
    ri->train_counts = t->counts; /* borrowed */
    memcpy(ri->mean, t->aug.mean, sizeof ri->mean);
    memcpy(ri->std, t->aug.std, sizeof ri->std);
    ri->logit_adjust = c->logit_adjust;
    ri->seed = c->seed;
    ri->positive_class = -1;
    TRY(logit_adjustment(t->ctx, t->counts, t->C, c->logit_adjust, &t->adjust));
    imbal_loader_config lc;
    imbal_loader_config_default(&lc);
    lc.height = lc.width = t->S;
    lc.batch_size = t->B;
    lc.threads = c->threads;
    lc.seed = c->seed;
    return imbal_loader_create(t->ctx, t->train, &lc, &t->loader);
}

/* ---- one epoch ----------------------------------------------------------------------------- */

static imbal_status train_step(trainer *t, const imbal_batch *b, uint32_t epoch, int head_only,
                               double lr, optim_state *os, double *loss_out) {
    imbal_ctx *ctx = t->ctx;
    imbal_tensor x, logits;
    TRY(batch_to_input(ctx, t->dev, &t->aug, b, t->cfg->seed, epoch, &t->in, &x));
    TRY(imbal_model_forward(ctx, t->model, &x, head_only ? IMBAL_MODEL_EVAL : IMBAL_MODEL_TRAIN,
                            &logits));
    imbal_loss_params lp = t->cfg->loss;
    lp.reduction = IMBAL_REDUCTION_MEAN;
    int weighted =
        t->class_w && !head_only && (t->cfg->drw_epoch < 0 || (int)epoch >= t->cfg->drw_epoch);
    imbal_tensor targets = imbal_model_batch_view(&t->in.labels, b->n);
    imbal_tensor dl = imbal_model_batch_view(&t->dlogits, b->n);
    imbal_loss_inputs in = {0};
    in.logits = &logits;
    in.targets = &targets;
    in.class_weights = weighted ? &t->cw : NULL;
    int needs_counts = lp.kind == IMBAL_LOSS_BALANCED_SOFTMAX || lp.kind == IMBAL_LOSS_LDAM;
    if (head_only && needs_counts)
        lp.kind = IMBAL_LOSS_CE; /* cRT re-trains with plain CE on balanced batches */
    else
        in.class_counts = needs_counts ? &t->cnt : NULL;
    imbal_loss_outputs out = {&t->loss, NULL, &dl};
    TRY(imbal_loss(ctx, t->dev, &lp, &in, &out));
    float lv = 0;
    imbal_tensor hl = imbal_tensor_wrap(&lv, IMBAL_F32, 0, NULL, imbal_device_cpu());
    TRY(imbal_tensor_copy(ctx, &hl, &t->loss));
    if (!isfinite(lv))
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "train: the loss became %g at epoch %u, batch at position %lld (lower "
                          "--lr?)",
                          (double)lv, epoch, (long long)b->first);
    *loss_out = lv;
    TRY(imbal_model_backward(ctx, t->model, &dl, head_only));
    return optim_state_step(ctx, os, t->model, lr, head_only);
}

typedef struct epoch_stats {
    double loss, seconds, images_per_s, lr;
    double val_loss, val_acc, val_bacc, val_f1;
} epoch_stats;

static imbal_status validate(trainer *t, epoch_stats *es, imbal_metrics_report *rep_out,
                             imbal_metrics **m_out) {
    es->val_loss = es->val_acc = es->val_bacc = es->val_f1 = NAN;
    if (!t->val) return IMBAL_OK;
    imbal_metrics *m = NULL;
    TRY(imbal_metrics_create(t->ctx, t->C, 5, &m));
    imbal_status st = evaluate_dataset(t->ctx, t->model, t->val, &t->evalp, t->B, t->cfg->threads,
                                       t->adjust, m, &es->val_loss, NULL);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    o.train_counts = t->counts;
    imbal_metrics_report r;
    memset(&r, 0, sizeof r);
    if (st == IMBAL_OK) st = imbal_metrics_compute(t->ctx, m, &o, &r);
    if (st == IMBAL_OK) {
        es->val_acc = r.accuracy;
        es->val_bacc = r.balanced_accuracy;
        es->val_f1 = r.macro_f1;
    }
    if (st == IMBAL_OK && rep_out && m_out) {
        *rep_out = r;
        *m_out = m;
        return IMBAL_OK;
    }
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    return st;
}

static imbal_status epoch_line(trainer *t, int stage, int epoch, const epoch_stats *es,
                               const imbal_metrics_report *r) {
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return imbal_fail(t->ctx, IMBAL_ERR_OUT_OF_MEMORY, "train: metrics line");
    json_writer w;
    json_begin(&w, fp);
    json_object_begin(&w);
    json_kv_string(&w, "stage", stage ? "crt" : "train");
    json_kv_int(&w, "epoch", epoch);
    json_kv_double(&w, "lr", es->lr);
    json_kv_double(&w, "train_loss", es->loss);
    json_kv_double(&w, "val_loss", es->val_loss);
    json_kv_double(&w, "accuracy", es->val_acc);
    json_kv_double(&w, "balanced_accuracy", es->val_bacc);
    json_kv_double(&w, "macro_f1", es->val_f1);
    if (r && r->per_class) {
        json_key(&w, "per_class_recall");
        json_array_begin(&w);
        for (int k = 0; k < t->C; k++)
            json_double(&w, r->per_class[k].recall);
        json_array_end(&w);
    }
    json_kv_double(&w, "images_per_s", es->images_per_s);
    json_kv_double(&w, "seconds", es->seconds);
    json_object_end(&w);
    fclose(fp); /* json_end would add a newline; history adds its own */
    imbal_status st = history_add(t->ctx, &t->hist, es->loss, es->val_loss, es->val_acc,
                                  es->val_bacc, es->val_f1, buf);
    free(buf);
    if (st == IMBAL_OK)
        st = imbal_atomic_write_all(t->ctx, run_path(t, "metrics.jsonl"), t->hist.jsonl,
                                    t->hist.jsonl_len);
    return st;
}

static int64_t steps_in(const imbal_sampler *s, uint32_t epoch, int B) {
    int64_t n = imbal_sampler_epoch_length(s, epoch);
    return (n + B - 1) / B;
}

/* Runs one epoch of stage `stage` (0 main, 1 cRT) with learning rates from `sched` starting at
 * global step *step. */
static imbal_status run_epoch(trainer *t, int stage, int epoch, int epochs,
                              const imbal_lr_schedule *sched, int64_t *step, optim_state *os,
                              imbal_train_progress_fn progress, void *user) {
    imbal_ctx *ctx = t->ctx;
    const imbal_sampler *s = stage ? t->crt_sampler : t->sampler;
    uint32_t key_epoch = (uint32_t)(stage ? 100000 + epoch : epoch);
    int64_t n = imbal_sampler_epoch_length(s, (uint32_t)epoch);
    int64_t *idx = imbal_xmalloc(ctx, (size_t)(n ? n : 1), sizeof *idx, "epoch indices");
    if (!idx) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st = imbal_sampler_epoch(ctx, s, (uint32_t)epoch, idx);
    if (st == IMBAL_OK) st = imbal_loader_start_epoch(ctx, t->loader, idx, n, key_epoch);
    free(idx);
    epoch_stats es = {0};
    double t0 = train_now(), loss_sum = 0;
    int64_t steps = (n + t->B - 1) / t->B, k = 0, images = 0;
    while (st == IMBAL_OK) {
        imbal_batch b;
        st = imbal_loader_next(ctx, t->loader, &b);
        if (st != IMBAL_OK || b.n == 0) break;
        es.lr = imbal_lr_at(sched, *step);
        double lv = 0;
        if (b.n >= 2) st = train_step(t, &b, key_epoch, stage, es.lr, os, &lv);
        int bn = b.n; /* release clears the batch */
        imbal_loader_release(t->loader, &b);
        (*step)++;
        k++;
        images += bn;
        loss_sum += lv * bn;
        if (st == IMBAL_OK && progress) {
            imbal_train_progress p = {0};
            p.stage = stage;
            p.epoch = epoch;
            p.epochs = epochs;
            p.step = k;
            p.steps = steps;
            p.loss = loss_sum / (double)images;
            double elapsed = train_now() - t0;
            p.images_per_s = images / (elapsed + 1e-9);
            p.eta_seconds = elapsed / (double)k * (double)(steps - k);
            p.lr = es.lr;
            progress(user, &p);
        }
    }
    if (st != IMBAL_OK) return st;
    es.seconds = train_now() - t0;
    es.loss = images ? loss_sum / (double)images : NAN;
    es.images_per_s = images / (es.seconds + 1e-9);
    t->images += (double)images;
    t->seconds += es.seconds;
    imbal_metrics_report r;
    imbal_metrics *m = NULL;
    memset(&r, 0, sizeof r);
    st = validate(t, &es, &r, &m);
    if (st == IMBAL_OK) st = epoch_line(t, stage, epoch, &es, m ? &r : NULL);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    if (st == IMBAL_OK && progress) {
        imbal_train_progress p = {0};
        p.stage = stage;
        p.epoch = epoch;
        p.epochs = epochs;
        p.step = p.steps = steps;
        p.loss = es.loss;
        p.images_per_s = es.images_per_s;
        p.lr = es.lr;
        p.epoch_done = 1;
        p.val_loss = es.val_loss;
        p.val_accuracy = es.val_acc;
        p.val_balanced_accuracy = es.val_bacc;
        p.val_macro_f1 = es.val_f1;
        p.seconds = es.seconds;
        progress(user, &p);
    }
    return st;
}

/* ---- the stages ---------------------------------------------------------------------------- */

static imbal_status make_schedule(trainer *t, int stage, imbal_lr_schedule *s) {
    const imbal_train_config *c = t->cfg;
    int epochs = stage ? c->crt_epochs : c->epochs;
    const imbal_sampler *smp = stage ? t->crt_sampler : t->sampler;
    int64_t total = 0, warm = 0;
    for (int e = 0; e < epochs; e++) {
        int64_t k = steps_in(smp, (uint32_t)e, t->B);
        total += k;
        if (!stage && e < c->warmup_epochs) warm += k;
    }
    imbal_lr_schedule_default(s, stage ? IMBAL_LR_COSINE : c->lr_schedule,
                              stage ? c->lr / 10 : c->lr, total > 0 ? total : 1);
    s->warmup_steps = warm;
    if (!stage && c->lr_schedule == IMBAL_LR_STEP) {
        /* the CIFAR-LT recipe's drops at 80 % and 90 % of the run (Cao et al. 2019) */
        s->num_milestones = 2;
        s->milestones[0] = total * 8 / 10;
        s->milestones[1] = total * 9 / 10;
        s->gamma = 0.1;
    }
    return imbal_lr_schedule_check(t->ctx, s);
}

static int64_t steps_before(trainer *t, int stage, int epoch) {
    const imbal_sampler *smp = stage ? t->crt_sampler : t->sampler;
    int64_t k = 0;
    for (int e = 0; e < epoch; e++)
        k += steps_in(smp, (uint32_t)e, t->B);
    return k;
}

static imbal_status save(trainer *t, optim_state *os) {
    return checkpoint_save(t->ctx, run_path(t, "checkpoint.safetensors"), t->model, os, &t->ri);
}

static imbal_status stage_main(trainer *t, imbal_train_progress_fn progress, void *user, int *ran) {
    imbal_lr_schedule s;
    TRY(make_schedule(t, 0, &s));
    int64_t step = steps_before(t, 0, t->ri.epoch);
    for (int e = t->ri.epoch; e < t->cfg->epochs; e++) {
        TRY(run_epoch(t, 0, e, t->cfg->epochs, &s, &step, &t->os, progress, user));
        t->ri.epoch = e + 1;
        TRY(save(t, &t->os));
        (*ran)++;
        if (t->cfg->stop_after > 0 && *ran >= t->cfg->stop_after) return IMBAL_OK;
    }
    return IMBAL_OK;
}

static imbal_status stage_crt(trainer *t, imbal_train_progress_fn progress, void *user, int *ran) {
    const imbal_train_config *c = t->cfg;
    if (c->crt_epochs <= 0) return IMBAL_OK;
    optim_state os2;
    imbal_optim_config oc = c->optim;
    TRY(optim_state_create(t->ctx, t->model, &oc, &os2));
    imbal_status st = IMBAL_OK;
    if (t->ri.crt_epoch == 0)
        st = model_reinit_head(t->ctx, t->model, c->seed + 1);
    else
        st = checkpoint_load(t->ctx, run_path(t, "checkpoint.safetensors"), t->model, &os2);
    imbal_lr_schedule s;
    if (st == IMBAL_OK) st = make_schedule(t, 1, &s);
    int64_t step = steps_before(t, 1, t->ri.crt_epoch);
    for (int e = t->ri.crt_epoch; st == IMBAL_OK && e < c->crt_epochs; e++) {
        st = run_epoch(t, 1, e, c->crt_epochs, &s, &step, &os2, progress, user);
        if (st == IMBAL_OK) {
            t->ri.crt_epoch = e + 1;
            st = save(t, &os2);
            (*ran)++;
            if (t->cfg->stop_after > 0 && *ran >= t->cfg->stop_after) break;
        }
    }
    optim_state_free(&os2);
    return st;
}

/* The final report of the validation split (when there is one) and the training curves. */
static imbal_status final_report(trainer *t, imbal_train_result *res) {
    epoch_stats es = {0};
    imbal_metrics_report r;
    imbal_metrics *m = NULL;
    memset(&r, 0, sizeof r);
    TRY(validate(t, &es, &r, &m));
    res->val_accuracy = es.val_acc;
    res->val_balanced_accuracy = es.val_bacc;
    res->val_macro_f1 = es.val_f1;
    if (!m)
        return report_write(t->ctx, t->cfg->out_dir, "training run", NULL, NULL, NULL, t->names,
                            t->counts, &t->hist);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    o.train_counts = t->counts;
    imbal_status st = report_write(t->ctx, t->cfg->out_dir, "validation split", m, &r, &o, t->names,
                                   t->counts, &t->hist);
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    return st;
}

static imbal_status resume(trainer *t) {
    const char *ck = run_path(t, "checkpoint.safetensors");
    struct stat sb;
    if (stat(ck, &sb) != 0)
        return imbal_fail(t->ctx, IMBAL_ERR_IO, "train --resume: no checkpoint '%s'", ck);
    run_info old;
    TRY(checkpoint_read_info(t->ctx, ck, &old));
    const imbal_model_config *a = &old.model, *b = &t->ri.model;
    imbal_status st = IMBAL_OK;
    if (a->num_classes != b->num_classes || a->depth != b->depth || a->width != b->width ||
        a->stem_stride != b->stem_stride || a->height != b->height)
        st = imbal_fail(t->ctx, IMBAL_ERR_DATA,
                        "train --resume: checkpoint '%s' is from another architecture (depth %d "
                        "width %d classes %d input %d; this run: depth %d width %d classes %d "
                        "input %d)",
                        ck, a->depth, a->width, a->num_classes, a->height, b->depth, b->width,
                        b->num_classes, b->height);
    t->ri.epoch = old.epoch;
    t->ri.crt_epoch = old.crt_epoch;
    t->ri.finished = old.finished;
    t->ri.positive_class = old.positive_class;
    t->ri.decision_margin = old.decision_margin;
    run_info_free(&old);
    if (st == IMBAL_OK && t->ri.finished && t->ri.positive_class >= 0)
        st = threshold_fold(t->ctx, t->ri.positive_class, t->ri.decision_margin, &t->adjust);
    /* A finished run's checkpoint holds no optimizer state (nothing is left to step). */
    if (st == IMBAL_OK && t->ri.crt_epoch == 0 && !t->ri.finished)
        st = checkpoint_load(t->ctx, ck, t->model, &t->os);
    else if (st == IMBAL_OK)
        st = checkpoint_load(t->ctx, ck, t->model, NULL);
    if (st == IMBAL_OK)
        st = history_load(t->ctx, &t->hist, run_path(t, "metrics.jsonl"),
                          t->ri.epoch + t->ri.crt_epoch);
    return st;
}

/* The two-class decision threshold on the validation split (train_threshold.c), folded into the
 * post-hoc adjustment that the final report and `imbal eval` apply. */
static imbal_status choose_threshold(trainer *t) {
    int64_t n = imbal_dataset_size(t->val);
    float *z = imbal_xcalloc(t->ctx, (size_t)n * 2, sizeof *z, "validation logits");
    float *margin = imbal_xmalloc(t->ctx, (size_t)n, sizeof *margin, "validation margins");
    imbal_metrics *m = NULL;
    imbal_status st =
        z && margin ? imbal_metrics_create(t->ctx, 2, 5, &m) : IMBAL_ERR_OUT_OF_MEMORY;
    if (st == IMBAL_OK)
        st = evaluate_dataset(t->ctx, t->model, t->val, &t->evalp, t->B, t->cfg->threads, t->adjust,
                              m, NULL, z);
    int pos = threshold_positive_class(t->counts);
    for (int64_t i = 0; st == IMBAL_OK && i < n; i++)
        margin[i] = z[2 * i + pos] - z[2 * i + 1 - pos];
    float cut = 0;
    if (st == IMBAL_OK)
        st = threshold_choose(t->ctx, margin, imbal_dataset_labels(t->val), n, pos,
                              t->cfg->threshold, t->cfg->threshold_beta, &cut);
    if (st == IMBAL_OK) st = threshold_fold(t->ctx, pos, cut, &t->adjust);
    if (st == IMBAL_OK) {
        t->ri.positive_class = pos;
        t->ri.decision_margin = cut;
    }
    imbal_metrics_destroy(m);
    free(margin);
    free(z);
    return st;
}

static void trainer_free(trainer *t) {
    imbal_loader_destroy(t->loader);
    imbal_sampler_destroy(t->sampler);
    imbal_sampler_destroy(t->crt_sampler);
    optim_state_free(&t->os);
    imbal_model_destroy(t->model);
    imbal_tensor *ts[] = {&t->cw, &t->cnt, &t->dlogits, &t->loss};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        imbal_tensor_free(ts[i]);
    batch_buffers_free(&t->in);
    history_free(&t->hist);
    free(t->class_w);
    free(t->strength);
    free(t->adjust);
    free(t->counts);
    free(t->names);
    imbal_dataset_destroy(t->val);
    imbal_dataset_destroy(t->train);
    imbal_dataset_destroy(t->all);
}

static imbal_status train_run(trainer *t, imbal_train_progress_fn progress, void *user,
                              imbal_train_result *res) {
    const imbal_train_config *c = t->cfg;
    TRY(imbal_device_check(t->ctx, c->device));
    t->dev = c->device;
    t->S = c->image_size;
    t->B = c->batch;
    TRY(imbal_mkdirs(t->ctx, c->out_dir));
    TRY(open_data(t));
    if (c->threshold != IMBAL_THRESHOLD_NONE && (t->C != 2 || !t->val))
        return imbal_fail(t->ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "train: --threshold needs two classes and a validation split (--val or "
                          "--val-split); '%s' has %d classes%s",
                          c->data, t->C, t->val ? "" : " and there is no validation split");
    TRY(setup_augment(t));
    TRY(setup_samplers(t));
    TRY(setup_model(t));
    TRY(setup_tensors(t));
    if (c->resume) TRY(resume(t));
    TRY(imbal_device_name(t->ctx, t->dev, res->device_name, (int)sizeof res->device_name));
    int ran = 0;
    int stop = c->stop_after > 0;
    if (!t->ri.finished) {
        TRY(stage_main(t, progress, user, &ran));
        if (!(stop && ran >= c->stop_after)) TRY(stage_crt(t, progress, user, &ran));
    }
    if (stop && ran >= c->stop_after &&
        !(t->ri.epoch == c->epochs && t->ri.crt_epoch == c->crt_epochs)) {
        res->epochs_run = ran;
        res->final_train_loss = t->hist.n ? t->hist.train_loss[t->hist.n - 1] : NAN;
        res->images_per_s = t->seconds > 0 ? t->images / t->seconds : 0;
        return IMBAL_OK;
    }
    if (!t->ri.finished) {
        if (c->tau_norm > 0) TRY(imbal_model_tau_normalize(t->ctx, t->model, c->tau_norm));
        if (c->threshold != IMBAL_THRESHOLD_NONE) TRY(choose_threshold(t));
        t->ri.finished = 1;
        TRY(save(t, NULL));
    }
    res->epochs_run = ran;
    res->final_train_loss = t->hist.n ? t->hist.train_loss[t->hist.n - 1] : NAN;
    res->images_per_s = t->seconds > 0 ? t->images / t->seconds : 0;
    if (t->ri.positive_class >= 0) {
        res->positive_class = t->ri.positive_class;
        res->decision_threshold = threshold_probability(t->ri.decision_margin);
    }
    return final_report(t, res);
}

imbal_status imbal_train(imbal_ctx *ctx, const imbal_train_config *cfg,
                         imbal_train_progress_fn progress, void *user, imbal_train_result *result) {
    if (!cfg || !result)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_train: NULL argument");
    memset(result, 0, sizeof *result);
    result->val_accuracy = result->val_balanced_accuracy = result->val_macro_f1 = NAN;
    result->positive_class = -1;
    result->decision_threshold = NAN;
    imbal_status st = check_config(ctx, cfg);
    if (st != IMBAL_OK) return st;
    trainer t;
    memset(&t, 0, sizeof t);
    t.ctx = ctx;
    t.cfg = cfg;
    st = train_run(&t, progress, user, result);
    trainer_free(&t);
    return st;
}
