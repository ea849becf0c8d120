/* imbal: the backbone, a small residual CNN (He et al. 2016, the CIFAR variant of section 4.2):
 *
 *   stem   3x3 conv (stride 1, or 2 for larger images), BN, ReLU            width channels
 *   stage1 n basic blocks, width channels, stride 1
 *   stage2 n basic blocks, 2 width, the first with stride 2
 *   stage3 n basic blocks, 4 width, the first with stride 2
 *   head   global average pool, linear layer to the classes
 *
 * with depth = 6 n + 2 (ResNet-8: n = 1, ResNet-20: n = 3, ResNet-32: n = 5). A basic block is
 * conv3x3-BN-ReLU-conv3x3-BN, plus the input (or a 1x1 strided conv + BN where the shape changes:
 * option B of the paper), then ReLU. Initialisation: convolutions He-normal with fan-in
 * (std = sqrt(2 / (C R S)), He et al. 2015), BN gamma 1 and beta 0, the linear layer as
 * torch.nn.Linear (uniform in +-1/sqrt(in)); optionally the output bias set to the log class priors
 * (TensorFlow's "Classification on imbalanced data" tutorial). All random draws come from Philox
 * keyed by (seed, 0, parameter index, IMBAL_OP_INIT), so the same seed gives the same weights on
 * every device.
 *
 * Parameters are named as PyTorch's state_dict would name them ("conv1.weight", "bn1.running_mean",
 * "layer2.0.shortcut.0.weight", "fc.bias"), so a checkpoint reads into a PyTorch model of the same
 * shape. docs/training.md. */
#ifndef IMBAL_MODEL_H
#define IMBAL_MODEL_H

#include <stdint.h>

#include "tensor.h"

IMBAL_EXTERN_C_BEGIN

typedef struct imbal_model_config {
    int num_classes;      /* >= 1 */
    int in_channels;      /* default 3 */
    int depth;            /* 6 n + 2, n >= 1; default 20 */
    int width;            /* stage-1 channels; default 16 */
    int stem_stride;      /* 1 (32 x 32 inputs) or 2 (larger images); default 1 */
    int height, width_px; /* input size the model is planned for; default 32 x 32 */
    float bn_momentum;    /* default 0.1 (PyTorch) */
    float bn_eps;         /* default 1e-5 */
    imbal_dtype dtype;    /* compute dtype of the backbone: IMBAL_F32 (default) or IMBAL_BF16
                             (CUDA only: bf16 activations and bf16 copies of the conv weights,
                             made from the f32 weights at every forward; parameters, BN statistics,
                             gradients, the pooled features, the head and the logits stay f32) */
    int conv_search;      /* CUDA: 1 times candidate cuDNN engines per conv and keeps the fastest
                             (imbal_conv_plan_set_search; PyTorch's cudnn.benchmark); default 0:
                             the heuristics' first, the same engine in every process */
    int conv_tf32;        /* CUDA, f32: 1 allows TF32 tensor-core convolution engines
                             (imbal_conv_plan_set_tf32; PyTorch's default); default 0: full f32 */
} imbal_model_config;

/* Presets: "resnet8", "resnet20", "resnet32" (width 16, stem stride 1: 32 x 32 inputs) and
 * "resnet20-s2" (stem stride 2, for 64..128-pixel inputs). Sets depth, width and stem_stride
 * only. Unknown names are IMBAL_ERR_INVALID_ARGUMENT listing the presets. */
IMBAL_API void imbal_model_config_default(imbal_model_config *cfg, int num_classes);
IMBAL_API imbal_status imbal_model_config_preset(imbal_ctx *ctx, const char *name,
                                                 imbal_model_config *cfg);

typedef struct imbal_model imbal_model;

/* Builds the model on `device` for batches of up to max_batch images: parameters, gradients,
 * batch-norm statistics, activations kept for the backward pass and the conv plans. Weights are
 * initialised from `seed`. Out of memory names the bytes and the batch size asked for. */
IMBAL_API imbal_status imbal_model_create(imbal_ctx *ctx, imbal_device device,
                                          const imbal_model_config *cfg, int max_batch,
                                          uint64_t seed, imbal_model **out);
IMBAL_API void imbal_model_destroy(imbal_model *m);
IMBAL_API const imbal_model_config *imbal_model_get_config(const imbal_model *m);
IMBAL_API imbal_device imbal_model_device(const imbal_model *m);
IMBAL_API int imbal_model_max_batch(const imbal_model *m);

typedef enum imbal_model_mode {
    IMBAL_MODEL_TRAIN = 0, /* batch statistics, running statistics updated */
    IMBAL_MODEL_EVAL = 1   /* running statistics */
} imbal_model_mode;

/* x: [n, in_channels, height, width_px] f32 on the model's device, 1 <= n <= max_batch.
 * Returns a view of the model's logits [n, num_classes] (valid until the next forward). */
IMBAL_API imbal_status imbal_model_forward(imbal_ctx *ctx, imbal_model *m, const imbal_tensor *x,
                                           imbal_model_mode mode, imbal_tensor *logits);

/* Back-propagates dlogits [n, num_classes] (of the last forward, in either mode) into every
 * parameter's gradient (overwritten). head_only != 0 computes only the linear layer's gradients
 * (classifier re-training with a frozen backbone). */
IMBAL_API imbal_status imbal_model_backward(imbal_ctx *ctx, imbal_model *m,
                                            const imbal_tensor *dlogits, int head_only);

/* The penultimate features [n, 4 width] of the last forward (the pooled activations). */
IMBAL_API imbal_status imbal_model_features(imbal_ctx *ctx, const imbal_model *m,
                                            imbal_tensor *features);

/* ---- parameters and buffers ---------------------------------------------------------------- */

typedef enum imbal_param_role {
    IMBAL_PARAM_WEIGHT = 0, /* conv or linear weight: weight decay applies */
    IMBAL_PARAM_NORM = 1,   /* BN gamma/beta: no weight decay */
    IMBAL_PARAM_BIAS = 2,   /* linear bias: no weight decay */
    IMBAL_PARAM_BUFFER = 3  /* BN running statistics: saved, not trained (no gradient) */
} imbal_param_role;

typedef struct imbal_param {
    const char *name;    /* PyTorch state_dict name */
    imbal_tensor *value; /* on the model's device */
    imbal_tensor *grad;  /* same shape; NULL for buffers */
    imbal_param_role role;
    int head; /* 1 for fc.weight and fc.bias */
} imbal_param;

/* Every trainable parameter and buffer, in state_dict order. The pointers stay valid for the
 * model's life. */
IMBAL_API int imbal_model_num_params(const imbal_model *m);
IMBAL_API const imbal_param *imbal_model_param(const imbal_model *m, int i);
/* Number of trainable scalars (buffers excluded). */
IMBAL_API int64_t imbal_model_num_scalars(const imbal_model *m);

/* Sets fc.bias to log(n_c / N) (counts [num_classes], each >= 1 is used; a zero count is clamped
 * to 1 before the log). */
IMBAL_API imbal_status imbal_model_init_prior_bias(imbal_ctx *ctx, imbal_model *m,
                                                   const int64_t *counts);

/* tau-normalisation of the classifier (Kang et al. 2020, "Decoupling representation and
 * classifier"): each row w_c of fc.weight and its bias b_c are divided by ||w_c||^tau. */
IMBAL_API imbal_status imbal_model_tau_normalize(imbal_ctx *ctx, imbal_model *m, float tau);

IMBAL_EXTERN_C_END

#endif
