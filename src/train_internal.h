/* imbal internal: pieces shared by the training loop (src/train.c) and evaluation (src/eval.c). */
#ifndef IMBAL_TRAIN_INTERNAL_H
#define IMBAL_TRAIN_INTERNAL_H

#include <stdint.h>

#include "imbal/dataset.h"
#include "imbal/loader.h"
#include "imbal/metrics.h"
#include "imbal/model.h"
#include "imbal/pipeline.h"
#include "imbal/train.h"
#include "model_internal.h"

/* What a checkpoint says about its run, beside the tensors (safetensors metadata strings). */
typedef struct run_info {
    imbal_model_config model;
    int num_classes;
    char **class_names;    /* [num_classes], owned */
    int64_t *train_counts; /* [num_classes], owned */
    float mean[3], std[3]; /* the input normalisation */
    int epoch;             /* epochs completed (of stage 0) */
    int crt_epoch;         /* classifier re-training epochs completed */
    float logit_adjust;
    uint64_t seed;
    int finished;          /* 1 once the run's last stage (and tau-normalisation) is done */
    int positive_class;    /* two-class decision threshold: its class, or -1 for none */
    float decision_margin; /* ... as a cut on z_pos - z_neg (after logit adjustment) */
} run_info;

void run_info_free(run_info *ri);

/* Optimizer state of one parameter: [0] momentum (sgd) or exp_avg (adamw), [1] exp_avg_sq. */
typedef struct optim_state {
    imbal_optim_config cfg;
    imbal_tensor **buf[2]; /* buf[k][i]: parameter i's k-th state tensor (NULL where none) */
    int num_params;
    int64_t step; /* optimizer steps taken (AdamW's t) */
} optim_state;

imbal_status optim_state_create(imbal_ctx *ctx, const imbal_model *m, const imbal_optim_config *cfg,
                                optim_state *os);
void optim_state_free(optim_state *os);
/* One step over every parameter (or only the head's). */
imbal_status optim_state_step(imbal_ctx *ctx, optim_state *os, imbal_model *m, double lr,
                              int head_only);

/* Writes RUN_DIR/checkpoint.safetensors atomically: every parameter and buffer under its state_dict
 * name, the optimizer state as "optim.<name>.0/1", the run info as metadata. os may be NULL. */
imbal_status checkpoint_save(imbal_ctx *ctx, const char *path, const imbal_model *m,
                             const optim_state *os, const run_info *ri);
/* Reads the run info of a checkpoint (without building a model). */
imbal_status checkpoint_read_info(imbal_ctx *ctx, const char *path, run_info *ri);
/* Loads the tensors into m (and os when not NULL and present); a name missing or a shape that
 * differs is IMBAL_ERR_DATA naming the tensor ("a checkpoint from another architecture"). */
imbal_status checkpoint_load(imbal_ctx *ctx, const char *path, imbal_model *m, optim_state *os);

/* Runs the model (eval mode) over every sample of ds through a loader and the eval pipeline,
 * adding logits (post-hoc adjusted by adjust[c], may be NULL) to metrics; *mean_loss gets the
 * mean cross-entropy (may be NULL); logits_out (may be NULL) receives the adjusted logits,
 * [size(ds), C] in dataset order. */
imbal_status evaluate_dataset(imbal_ctx *ctx, imbal_model *m, const imbal_dataset *ds,
                              const imbal_aug_pipeline *eval_pipe, int batch, int threads,
                              const float *adjust, imbal_metrics *metrics, double *mean_loss,
                              float *logits_out);

/* ---- two-class decision threshold (src/train_threshold.c) ---------------------------------- */

/* The class a two-class threshold is on: the one with fewer training samples (class 1 on a tie). */
int threshold_positive_class(const int64_t *train_counts);
/* Picks the cut on the margins s_i = z_pos - z_neg that maximises `metric` when samples with
 * s_i >= cut are predicted positive: every distinct split of the sorted margins is tried (cuts
 * midway between neighbours), ties go to the cut nearest 0 (argmax's). labels are 0/1 class ids;
 * both classes must occur. */
imbal_status threshold_choose(imbal_ctx *ctx, const float *margins, const int32_t *labels,
                              int64_t n, int positive, imbal_threshold_metric metric, double beta,
                              float *cut);
/* A cut on z_pos - z_neg as a threshold on p_pos, and back: p >= t is exactly
 * z_pos - z_neg >= log(t / (1 - t)). */
double threshold_probability(float margin);
float threshold_margin(double probability);
/* Folds a decision cut into the post-hoc adjustment subtracted from the logits (allocating a
 * zero one when *adjust is NULL), so argmax predicts `positive` exactly when z_pos - z_neg >=
 * cut. */
imbal_status threshold_fold(imbal_ctx *ctx, int positive, float cut, float **adjust);

/* One batch's model input on the model's device: x [B, 3, S, S] f32 and labels [B] i32, plus the
 * device copies of the uint8 images and augmentation keys (CUDA only). */
typedef struct batch_buffers {
    imbal_tensor x, labels;
    imbal_tensor dev_u8, dev_keys;
} batch_buffers;

imbal_status batch_buffers_alloc(imbal_ctx *ctx, imbal_device dev, int batch, int size,
                                 batch_buffers *b);
void batch_buffers_free(batch_buffers *b);
/* Copies the loader batch's labels into b->labels and runs pipeline p (keyed by the batch's epoch
 * positions, seed and epoch) from its uint8 images (already size x size) into b->x; *x gets the
 * view of b->x with the batch's extent. */
imbal_status batch_to_input(imbal_ctx *ctx, imbal_device dev, const imbal_aug_pipeline *p,
                            const imbal_batch *batch, uint64_t seed, uint32_t epoch,
                            batch_buffers *b, imbal_tensor *x);

/* Post-hoc logit adjustment (Menon et al. 2021): *out = tau log(n_c / N) per class (a zero count
 * counts as 1), to subtract from the logits; *out = NULL when tau <= 0. Free with free(). */
imbal_status logit_adjustment(imbal_ctx *ctx, const int64_t *counts, int num_classes, float tau,
                              float **out);

/* The eval pipeline of a run: resize only, normalise with mean/std, f32 NCHW. */
void eval_pipeline(imbal_aug_pipeline *p, int size, const float mean[3], const float std[3]);

/* What the epochs measured, for metrics.jsonl and the training curves. */
typedef struct train_history {
    int n, cap;
    double *train_loss, *val_loss, *val_acc, *val_bacc, *val_f1;
    char *jsonl; /* metrics.jsonl's content so far */
    size_t jsonl_len;
} train_history;

void history_free(train_history *h);
/* Appends one epoch (NaN where unknown) and its JSON line (without newline). */
imbal_status history_add(imbal_ctx *ctx, train_history *h, double train_loss, double val_loss,
                         double val_acc, double val_bacc, double val_f1, const char *line);
/* Reads the first `epochs` lines of an earlier metrics.jsonl back (resume). */
imbal_status history_load(imbal_ctx *ctx, train_history *h, const char *path, int epochs);

/* Writes report.json, confusion.png, confusion_normalized.png, recall_vs_count.png, with h also
 * curves_loss.png and curves_accuracy.png, and report.md tying them together, into out_dir. */
imbal_status report_write(imbal_ctx *ctx, const char *out_dir, const char *title,
                          const imbal_metrics *m, const imbal_metrics_report *r,
                          const imbal_metrics_options *o, char *const *names,
                          const int64_t *train_counts, const train_history *h);

/* Re-draws the classifier's weights (cRT starts from a fresh classifier: Kang et al. 2020). */
imbal_status model_reinit_head(imbal_ctx *ctx, imbal_model *m, uint64_t seed);

/* Monotonic seconds. */
double train_now(void);

#endif
