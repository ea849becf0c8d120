/* imbal: evaluating a trained run on a dataset (`imbal eval`). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "train_internal.h"

void imbal_eval_config_default(imbal_eval_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->device = imbal_device_cpu();
    cfg->batch = 256;
    cfg->beta = 0.5;
    cfg->logit_adjust = -1;
    cfg->threshold = -1;
}

/* The data's classes must be the run's, by name and order (a class the run never saw cannot be
 * predicted: naming it beats a silently wrong confusion matrix). */
static imbal_status check_classes(imbal_ctx *ctx, const imbal_dataset *ds, const run_info *ri,
                                  const char *data, const char *run_dir) {
    int dc = imbal_dataset_num_classes(ds);
    for (int c = 0; c < dc; c++) {
        const char *name = imbal_dataset_class_name(ds, c);
        if (c >= ri->num_classes || strcmp(name, ri->class_names[c]) != 0)
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "eval: class '%s' (id %d) of '%s' is not the model's class %d "
                              "(the run '%s' has %d classes%s%s)",
                              name, c, data, c, run_dir, ri->num_classes,
                              c < ri->num_classes ? "; it is '" : "",
                              c < ri->num_classes ? ri->class_names[c] : "");
    }
    return IMBAL_OK;
}

static imbal_status eval_run(imbal_ctx *ctx, const imbal_eval_config *cfg, run_info *ri,
                             imbal_dataset **ds, imbal_model **model, imbal_metrics **metrics,
                             imbal_metrics_report *rep) {
    char ck[4096];
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", cfg->run_dir);
    imbal_status st = checkpoint_read_info(ctx, ck, ri);
    if (st != IMBAL_OK) return st;
    st = imbal_dataset_open(ctx, cfg->data, IMBAL_INDEX_ALLOW_EMPTY_CLASSES, ds);
    if (st == IMBAL_OK && imbal_dataset_size(*ds) == 0)
        st = imbal_fail(ctx, IMBAL_ERR_DATA, "eval: '%s' has no images", cfg->data);
    if (st == IMBAL_OK) st = check_classes(ctx, *ds, ri, cfg->data, cfg->run_dir);
    if (st == IMBAL_OK)
        st = imbal_model_create(ctx, cfg->device, &ri->model, cfg->batch, ri->seed, model);
    if (st == IMBAL_OK) st = checkpoint_load(ctx, ck, *model, NULL);
    if (st != IMBAL_OK) return st;
    int C = ri->num_classes;
    float tau = cfg->logit_adjust >= 0 ? cfg->logit_adjust : ri->logit_adjust;
    float *adjust = NULL;
    st = logit_adjustment(ctx, ri->train_counts, C, tau, &adjust);
    if (st != IMBAL_OK) return st;
    int pos = -1;
    float cut = 0;
    if (cfg->threshold < 0 && ri->positive_class >= 0) {
        pos = ri->positive_class;
        cut = ri->decision_margin;
    } else if (cfg->threshold > 0 && C != 2) {
        free(adjust);
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "eval: --threshold %g needs a two-class run; '%s' has %d classes",
                          cfg->threshold, cfg->run_dir, C);
    } else if (cfg->threshold > 0) {
        pos = ri->positive_class >= 0 ? ri->positive_class
                                      : threshold_positive_class(ri->train_counts);
        cut = threshold_margin(cfg->threshold);
    }
    if (pos >= 0 && (st = threshold_fold(ctx, pos, cut, &adjust)) != IMBAL_OK) {
        free(adjust);
        return st;
    }
    imbal_aug_pipeline p;
    eval_pipeline(&p, ri->model.height, ri->mean, ri->std);
    st = imbal_metrics_create(ctx, C, 5, metrics);
    if (st == IMBAL_OK)
        st = evaluate_dataset(ctx, *model, *ds, &p, cfg->batch, cfg->threads, adjust, *metrics,
                              NULL, NULL);
    free(adjust);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    o.beta = cfg->beta;
    o.train_counts = ri->train_counts;
    if (st == IMBAL_OK) st = imbal_metrics_compute(ctx, *metrics, &o, rep);
    if (st == IMBAL_OK) {
        char title[4400];
        int n = snprintf(title, sizeof title, "%s on %s", cfg->run_dir, cfg->data);
        if (pos >= 0 && n > 0 && (size_t)n < sizeof title)
            snprintf(title + n, sizeof title - (size_t)n,
                     " (decision threshold: '%s' when its probability >= %.4g)",
                     ri->class_names[pos], threshold_probability(cut));
        st = report_write(ctx, cfg->out_dir ? cfg->out_dir : cfg->run_dir, title, *metrics, rep, &o,
                          ri->class_names, ri->train_counts, NULL);
    }
    return st;
}

imbal_status imbal_eval(imbal_ctx *ctx, const imbal_eval_config *cfg,
                        imbal_metrics_report *report) {
    if (!cfg || !cfg->run_dir || !cfg->data)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "eval: --model RUN_DIR and --data are required");
    if (!(cfg->threshold < 1))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "eval: --threshold %g must be below 1 (0: argmax)", cfg->threshold);
    if (cfg->batch < 1 || cfg->batch > 65536 || !(cfg->beta > 0))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "eval: --batch %d must be in 1..65536 and --beta %g > 0", cfg->batch,
                          cfg->beta);
    run_info ri;
    memset(&ri, 0, sizeof ri);
    imbal_dataset *ds = NULL;
    imbal_model *model = NULL;
    imbal_metrics *m = NULL;
    imbal_metrics_report rep;
    memset(&rep, 0, sizeof rep);
    imbal_status st = eval_run(ctx, cfg, &ri, &ds, &model, &m, &rep);
    if (st == IMBAL_OK && report)
        *report = rep;
    else
        imbal_metrics_report_free(&rep);
    imbal_metrics_destroy(m);
    imbal_model_destroy(model);
    imbal_dataset_destroy(ds);
    run_info_free(&ri);
    return st;
}
