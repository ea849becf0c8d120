/* imbal internal: the backbone's layout (src/model.c builds it, src/model_pass.c runs it). */
#ifndef IMBAL_MODEL_INTERNAL_H
#define IMBAL_MODEL_INTERNAL_H

#include "imbal/model.h"
#include "imbal/nn.h"

/* A convolution followed by batch norm, with what the backward pass needs kept. */
typedef struct conv_bn {
    imbal_conv_plan *plan;
    int cin, cout, ksize, stride;
    int h_out, w_out;
    imbal_tensor w, gw;                      /* [cout, cin, k, k] */
    imbal_tensor w16;                        /* bf16 models: w rounded to bf16 (else empty) */
    imbal_tensor gamma, ggamma, beta, gbeta; /* [cout] */
    imbal_tensor rmean, rvar;                /* running statistics [cout] */
    imbal_tensor smean, sinv;                /* the last training batch's mean and 1/std */
    imbal_tensor conv_out;                   /* [max_batch, cout, h_out, w_out]: BN's input */
    imbal_tensor bn_out;                     /* the same shape: BN's output (ReLU in place) */
} conv_bn;

typedef struct res_block {
    conv_bn a, b, proj;
    int has_proj;
    const imbal_tensor *in; /* the previous stage's output (max_batch extents) */
} res_block;

struct imbal_model {
    imbal_device device;
    imbal_model_config cfg;
    int max_batch;
    int n;                      /* the last forward's batch */
    int have_forward;           /* a forward has run */
    imbal_model_mode last_mode; /* of the last forward */
    imbal_tensor input;         /* view of the last forward's input (bf16 models: of input16) */
    imbal_tensor input16;       /* bf16 models: the input rounded to bf16 [max_batch, C, H, W] */
    conv_bn stem;
    res_block *blocks;
    int num_blocks;
    int features;             /* 4 width */
    imbal_tensor pool, dpool; /* [max_batch, features] */
    imbal_tensor fc_w, fc_gw; /* [classes, features] */
    imbal_tensor fc_b, fc_gb; /* [classes] */
    imbal_tensor logits;      /* [max_batch, classes] */
    imbal_tensor scratch[3];  /* gradients in flight, each the largest activation */
    imbal_param *params;
    char **param_names;
    int num_params;
};

/* The weights a convolution runs with: the bf16 copy in a bf16 model, else the f32 weights. */
static inline imbal_tensor *conv_bn_weights(conv_bn *cb) {
    return cb->w16.data ? &cb->w16 : &cb->w;
}

/* A view of t with its batch extent (dim 0) set to n. */
imbal_tensor imbal_model_batch_view(const imbal_tensor *t, int n);

#endif
