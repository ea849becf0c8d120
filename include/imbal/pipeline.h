/* imbal: the random augmentation pipeline, per image, on a whole batch: one fused CUDA kernel
 * (kernels/augment_pipeline.cu) and its CPU twin (src/augment_pipeline_cpu.c).
 *
 * Every image of a batch gets its OWN parameters (not one set per batch, torchvision's open
 * complaint), drawn by Philox keyed by (seed, epoch, key, op) where key is the image's position in
 * the epoch's index stream (so two draws of the same sample by an oversampler get different
 * augmentations) and op is one of IMBAL_OP_AUG_* (philox.h). The draw is one host/device function
 * (src/augment_params.h), so the CPU and the GPU see the same parameters whatever the batch size,
 * thread count or launch geometry: crop and flip are bit-exact between the twins, rotation and
 * colour jitter within 1 level of 255 per pixel.
 *
 * The fixed order of the steps (docs/pipeline.md gives each one's torchvision counterpart):
 *   1. geometry: RandomCrop(out, padding, padding_mode) or RandomResizedCrop(out, scale, ratio)
 *   2. RandomHorizontalFlip(flip_p)
 *   3. RandomRotation(degrees=[-d, d], BILINEAR, fill) about the centre, no expand
 *   4. ColorJitter(brightness, contrast, saturation, hue): the four in a random order per image,
 *      factors drawn like torchvision's ColorJitter.get_params, uint8 rounding after each as
 *      torchvision's tensor path does
 *   5. output: uint8 NHWC (no normalisation; for pictures), or Normalize(mean, std) to float32 or
 *      bf16 NCHW, ready for the network
 * Per-class strength: class c's multiplier m_c (default 1) scales the rotation range d and the four
 * jitter magnitudes (hue capped at 0.5, factor ranges [max(0, 1 - m b), 1 + m b]), so minority
 * classes can get stronger augmentation.
 */
#ifndef IMBAL_PIPELINE_H
#define IMBAL_PIPELINE_H

#include <stdint.h>

#include "augment.h"
#include "device.h"
#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_aug_geometry {
    IMBAL_AUG_GEOM_NONE = 0,         /* input already out_height x out_width */
    IMBAL_AUG_GEOM_CROP = 1,         /* RandomCrop with padding */
    IMBAL_AUG_GEOM_RESIZED_CROP = 2, /* RandomResizedCrop, bilinear (align_corners False, no
                                        antialias: torchvision 0.14's tensor default) */
} imbal_aug_geometry;

typedef enum imbal_aug_output {
    IMBAL_AUG_OUT_U8_NHWC = 0,   /* uint8 [N, H, W, 3], no normalisation */
    IMBAL_AUG_OUT_F32_NCHW = 1,  /* float [N, 3, H, W], (v / 255 - mean) / std */
    IMBAL_AUG_OUT_BF16_NCHW = 2, /* the same, rounded to bfloat16 (nearest even) */
} imbal_aug_output;

typedef struct imbal_aug_pipeline {
    int out_height, out_width; /* >= 1 */
    imbal_aug_geometry geometry;
    int pad;                 /* CROP: padding on every side, >= 0 */
    imbal_pad_mode pad_mode; /* CROP */
    uint8_t pad_fill;        /* CROP, constant mode */
    float scale[2];          /* RESIZED_CROP: area range, 0 < lo <= hi <= 1; default 0.08, 1 */
    float ratio[2];          /* RESIZED_CROP: aspect range, 0 < lo <= hi; default 3/4, 4/3 */
    float flip_p;            /* probability of a horizontal flip, [0, 1]; default 0.5 */
    float rotate_deg;        /* d >= 0: angle uniform in [-d, d]; 0 = no rotation */
    uint8_t rotate_fill[3];
    float brightness, contrast, saturation; /* ColorJitter magnitudes >= 0; 0 = off */
    float hue;                              /* [0, 0.5]; 0 = off */
    imbal_aug_output output;
    float mean[3], std[3];       /* F32/BF16 outputs; std != 0 */
    const float *class_strength; /* optional [num_classes] multipliers >= 0, HOST memory on both
                                    devices (the CUDA path copies it on the stream); NULL = all 1 */
    int num_classes;             /* length of class_strength */
} imbal_aug_pipeline;

/* Zeroes p and sets: out size 32 x 32, geometry NONE, flip_p 0, scale {0.08, 1}, ratio {3/4, 4/3},
 * output U8_NHWC, mean {0, 0, 0}, std {1, 1, 1}. */
IMBAL_API void imbal_aug_pipeline_default(imbal_aug_pipeline *p);

/* Parses a pipeline spec: comma-separated steps, parameters after ':' (docs/pipeline.md):
 *   crop=SIZE[:pad=P][:mode=constant|edge|reflect][:fill=V]   e.g. crop=32:pad=4:mode=reflect
 *   rrc=SIZE[:scale=LO-HI][:ratio=LO-HI]                      e.g. rrc=224:scale=0.08-1
 *   size=HxW          (output size with no geometry step)
 *   flip[=P]          (P default 0.5)
 *   rotate=D[:fill=R/G/B]
 *   jitter=B/C/S/H    (ColorJitter(B, C, S, H))
 *   normalize=cifar10|imagenet|M0/M1/M2/S0/S1/S2[:bf16]   (else the output is uint8 NHWC)
 * SIZE is N or HxW. Errors name the step and value at fault. class_strength is not in the spec. */
IMBAL_API imbal_status imbal_aug_pipeline_parse(imbal_ctx *ctx, const char *spec,
                                                imbal_aug_pipeline *out);

/* Checks every field (ranges above) against an input of in_height x in_width (e.g. a crop larger
 * than the padded input, reflect padding >= a side) and names the one at fault. */
IMBAL_API imbal_status imbal_aug_pipeline_check(imbal_ctx *ctx, const imbal_aug_pipeline *p,
                                                int in_height, int in_width);

/* The parameters drawn for one image. */
typedef struct imbal_aug_params {
    int top, left, height, width; /* CROP: window in the padded image (height = out_height);
                                     RESIZED_CROP: the box in the source; NONE: 0, 0, H, W */
    int flip;                     /* 1 = mirror */
    float angle;                  /* degrees, counter-clockwise; 0 = none */
    float brightness, contrast, saturation, hue; /* factors (1, 1, 1, 0 = identity) */
    uint8_t order[4]; /* jitter order: 0 brightness, 1 contrast, 2 saturation, 3 hue */
    int num_jitter;   /* how many of order[] apply (the ops switched on, in drawn order) */
} imbal_aug_params;

/* The parameters of image `key` of epoch `epoch` (label selects the class strength; it is ignored
 * without class_strength). Pure function; the pipeline must have passed imbal_aug_pipeline_check
 * for this input size. */
IMBAL_API void imbal_aug_draw(const imbal_aug_pipeline *p, int in_height, int in_width,
                              uint64_t seed, uint32_t epoch, int64_t key, int32_t label,
                              imbal_aug_params *out);

/* Augments a batch: images uint8 [n, in_height, in_width, 3]; keys [n] (the epoch positions);
 * labels [n] (may be NULL without class_strength); out as p->output says ([n, oh, ow, 3] uint8,
 * or [n, 3, oh, ow] f32 / bf16). On the CPU all pointers are host memory (OpenMP over images);
 * on CUDA all are device memory and the kernel is launched on `stream` (a cudaStream_t, NULL for
 * the default stream) without synchronising the host. n >= 0. Keys must be in [0, 2^56) and,
 * with class_strength, labels in [0, num_classes): the CPU path checks both and names the index;
 * the CUDA path cannot read device memory up front, and uses strength 1 for a label outside. */
IMBAL_API imbal_status imbal_augment_batch(imbal_ctx *ctx, imbal_device device,
                                           const imbal_aug_pipeline *p, const uint8_t *images,
                                           int n, int in_height, int in_width, const int64_t *keys,
                                           const int32_t *labels, uint64_t seed, uint32_t epoch,
                                           void *out, void *stream);

IMBAL_EXTERN_C_END

#endif
