/* imbal: the training loop and evaluation of a run (`imbal train`, `imbal eval`).
 *
 *   sampler -> loader (decode, cache) -> augmentation -> forward -> fused loss -> backward -> step
 *
 * Every rebalancing strategy is a field of the config and they compose: the sampler, class
 * weights in the loss (from epoch 0, or deferred re-weighting from drw_epoch: Cao et al. 2019),
 * deferred re-sampling (drs_epoch: shuffle before, the chosen sampler after), the loss kind and its
 * parameters, per-class augmentation strength, output-bias initialisation to the log priors,
 * two-stage decoupled training (cRT: the classifier re-trained with class-balanced sampling on a
 * frozen backbone, and tau-normalisation: Kang et al. 2020), and post-hoc logit adjustment at
 * evaluation (Menon et al. 2021). Everything random is keyed by (seed, epoch, ...), so a run
 * resumed from its checkpoint reaches the same weights as one that was never interrupted.
 *
 * RUN_DIR receives: checkpoint.safetensors (weights, batch-norm statistics, optimizer state and
 * the run's description as metadata; rewritten atomically after every epoch), metrics.jsonl (one
 * JSON object per epoch), config.json, and at the end report.json / report.md and the pictures of
 * the validation split. docs/training.md. */
#ifndef IMBAL_TRAIN_H
#define IMBAL_TRAIN_H

#include <stdint.h>

#include "loss.h"
#include "metrics.h"
#include "optim.h"
#include "sampler.h"
#include "weights.h"

IMBAL_EXTERN_C_BEGIN

/* How a two-class run picks its decision threshold on the validation split (after training, cRT
 * and tau-normalisation): the cut on the positive (minority) class's probability that maximises
 * this metric there, instead of argmax's 0.5. */
typedef enum imbal_threshold_metric {
    IMBAL_THRESHOLD_NONE = 0,          /* argmax */
    IMBAL_THRESHOLD_BALANCED_ACCURACY, /* (TPR + TNR) / 2 */
    IMBAL_THRESHOLD_F_BETA             /* the positive class's F-beta (threshold_beta) */
} imbal_threshold_metric;

typedef struct imbal_train_config {
    const char *data;    /* ImageFolder directory or CSV manifest */
    const char *val;     /* optional validation set (same class names); NULL: see val_split */
    double val_split;    /* with val NULL: stratified fraction of data held out (0 = none); a
                            manifest's own "val" rows are used when present and this is 0 */
    const char *out_dir; /* RUN_DIR */
    imbal_device device;
    /* model */
    const char *arch;  /* preset name, default "resnet20" */
    int width;         /* 0 = the preset's */
    int image_size;    /* square input side; default 32 */
    int prior_bias;    /* 1: fc.bias = log priors */
    imbal_dtype dtype; /* backbone compute dtype: IMBAL_F32 (default) or IMBAL_BF16 (CUDA only;
                          see imbal_model_config.dtype: f32 master weights, checkpoints in f32) */
    int conv_search;   /* CUDA: time cuDNN engines per conv (imbal_model_config.conv_search) */
    int conv_tf32;     /* CUDA, f32: allow TF32 convolutions (imbal_model_config.conv_tf32) */
    /* schedule */
    int epochs; /* >= 1; default 30 */
    int batch;  /* default 128 */
    double lr;  /* default 0.1 */
    imbal_optim_config optim;
    imbal_lr_kind lr_schedule; /* default cosine */
    int warmup_epochs;         /* default 0 */
    /* rebalancing */
    imbal_sampler_kind sampler;   /* default shuffle */
    double sampler_q;             /* class-power exponent */
    imbal_weight_options weights; /* class weights in the loss (scheme none = unweighted) */
    imbal_loss_params loss;       /* kind, gamma, tau, ... (reduction is forced to mean) */
    int drw_epoch;      /* >= 0: class weights apply only from this epoch; -1 = from the start */
    int drs_epoch;      /* >= 0: shuffle before this epoch, `sampler` from it; -1 = off */
    int crt_epochs;     /* > 0: then re-train the classifier this many epochs, class-balanced,
                           backbone frozen (lr = lr / 10 cosine) */
    float tau_norm;     /* > 0: tau-normalise the classifier at the end; 0 = off */
    float logit_adjust; /* tau of post-hoc logit adjustment at evaluation; 0 = off */
    imbal_threshold_metric threshold; /* two classes only, needs a validation split */
    double threshold_beta;            /* beta of IMBAL_THRESHOLD_F_BETA (default 1) */
    const char *augment;              /* pipeline spec for training (pipeline.h); default
                                         "crop=S:pad=4:mode=reflect,flip,normalize=cifar10" at S = image_size */
    double aug_tail_power;            /* per-class strength (n_max / n_c)^p, capped at 4; 0 = off */
    uint64_t seed;
    int resume;     /* 1: continue from RUN_DIR's checkpoint */
    int stop_after; /* > 0: stop after this many epochs in this call, as if interrupted (the
                       checkpoint is complete; --resume continues); 0 = run to the end */
    int threads;    /* loader threads; 0 = the context's */
} imbal_train_config;

IMBAL_API void imbal_train_config_default(imbal_train_config *cfg);

/* What the loop reports through the optional callback (the command draws a progress bar or log
 * lines from it; the library never prints). */
typedef struct imbal_train_progress {
    int stage;           /* 0 training, 1 classifier re-training (cRT) */
    int epoch, epochs;   /* 0-based epoch and the stage's total */
    int64_t step, steps; /* step within the epoch, steps in the epoch */
    double loss;         /* running mean of the epoch's training loss */
    double images_per_s;
    double eta_seconds; /* the epoch's remaining time at its pace so far */
    double lr;
    int epoch_done; /* 1 on the call that ends an epoch: then the fields below are set */
    double val_loss, val_accuracy, val_balanced_accuracy, val_macro_f1; /* NaN without val */
    double seconds;                                                     /* the epoch's wall time */
} imbal_train_progress;

typedef void (*imbal_train_progress_fn)(void *user, const imbal_train_progress *p);

typedef struct imbal_train_result {
    int epochs_run; /* this call (fewer than epochs when resumed) */
    double final_train_loss;
    double val_accuracy, val_balanced_accuracy, val_macro_f1; /* NaN without val */
    double images_per_s;                                      /* training throughput over the run */
    char device_name[128];
    int positive_class;        /* with a decision threshold: the class it is on; else -1 */
    double decision_threshold; /* that class is predicted when its probability >= this; NaN */
} imbal_train_result;

IMBAL_API imbal_status imbal_train(imbal_ctx *ctx, const imbal_train_config *cfg,
                                   imbal_train_progress_fn progress, void *user,
                                   imbal_train_result *result);

/* ---- evaluation ---------------------------------------------------------------------------- */

typedef struct imbal_eval_config {
    const char *run_dir; /* a RUN_DIR with checkpoint.safetensors */
    const char *data;    /* ImageFolder or manifest; its class names must match the run's */
    const char *out_dir; /* where report.json, report.md and the pictures go; NULL = run_dir */
    imbal_device device;
    int batch;          /* default 256 */
    double beta;        /* F-beta; default 0.5 */
    float logit_adjust; /* < 0: the run's own setting; else this tau */
    double threshold;   /* two-class runs: < 0 the run's own decision threshold (if it chose one);
                           0 argmax; in (0, 1) predict the positive class (the run's, else the
                           training minority) when its probability >= this */
    int threads;
} imbal_eval_config;

IMBAL_API void imbal_eval_config_default(imbal_eval_config *cfg);

/* Runs the run's model over every sample of `data` and writes report.json (metrics.h's layout
 * plus "run" and "data"), confusion.png, confusion_normalized.png, recall_vs_count.png and
 * report.md into out_dir. *report (may be NULL) receives the metrics; free with
 * imbal_metrics_report_free. */
IMBAL_API imbal_status imbal_eval(imbal_ctx *ctx, const imbal_eval_config *cfg,
                                  imbal_metrics_report *report);

IMBAL_EXTERN_C_END

#endif
