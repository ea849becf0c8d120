/* imbal: deterministic image augmentation ops with explicit parameters ("functional" ops).
 *
 * Each op matches torchvision.transforms.functional (0.14) on a uint8 CHW tensor (the tensor path,
 * not PIL), applied to our uint8 HWC RGB images; the tolerances are in docs/pipeline.md and the
 * tests compare against committed torchvision outputs. Each op writes a NEW image into *out (free
 * it with imbal_image_free); src is never modified. On failure *out is left zeroed and the message
 * names the argument at fault (e.g. "imbal_aug_crop: height 40 exceeds the padded image (36)").
 *
 * These are the building blocks of the random pipeline (per-image parameters drawn by Philox keyed
 * by (seed, epoch, sample, op), kernels/ + its CPU twin), which is specified in docs/pipeline.md.
 */
#ifndef IMBAL_AUGMENT_H
#define IMBAL_AUGMENT_H

#include <stdint.h>

#include "image.h"
#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_pad_mode {
    IMBAL_PAD_CONSTANT = 0, /* fill value (torchvision padding_mode="constant") */
    IMBAL_PAD_EDGE = 1,     /* repeat the border pixel ("edge") */
    IMBAL_PAD_REFLECT = 2,  /* mirror without repeating the border ("reflect"); pad < side */
} imbal_pad_mode;

/* The mode named "constant", "edge" or "reflect" (torchvision's padding_mode names): 1 and *out
 * set, or 0 for any other name (callers word their own error). */
IMBAL_API int imbal_pad_mode_from_name(const char *name, imbal_pad_mode *out);

/* RandomCrop's deterministic part: pad every side by `pad` (>= 0) with `mode` (fill for
 * CONSTANT), then take the height x width window whose top-left corner is (top, left) in the
 * PADDED image. 0 <= top <= H + 2 pad - height, same for left. */
IMBAL_API imbal_status imbal_aug_crop(imbal_ctx *ctx, const imbal_image *src, int top, int left,
                                      int height, int width, int pad, imbal_pad_mode mode,
                                      uint8_t fill, imbal_image *out);

/* Mirror left-right (F.hflip). */
IMBAL_API imbal_status imbal_aug_hflip(imbal_ctx *ctx, const imbal_image *src, imbal_image *out);

/* F.rotate(img, angle, InterpolationMode.BILINEAR, expand=False, center=None, fill): rotate by
 * `angle_deg` degrees counter-clockwise about the image centre, bilinear, pixels from outside the
 * source take `fill` (one value per channel). Same output size. */
IMBAL_API imbal_status imbal_aug_rotate(imbal_ctx *ctx, const imbal_image *src, float angle_deg,
                                        const uint8_t fill[3], imbal_image *out);

/* F.adjust_brightness: blend with black, factor >= 0. */
IMBAL_API imbal_status imbal_aug_brightness(imbal_ctx *ctx, const imbal_image *src, float factor,
                                            imbal_image *out);
/* F.adjust_contrast: blend with the mean of the grayscale image (ITU-R 601-2 luma weights
 * 0.2989, 0.587, 0.114, as torchvision's rgb_to_grayscale), factor >= 0. */
IMBAL_API imbal_status imbal_aug_contrast(imbal_ctx *ctx, const imbal_image *src, float factor,
                                          imbal_image *out);
/* F.adjust_saturation: blend with the grayscale image, factor >= 0. */
IMBAL_API imbal_status imbal_aug_saturation(imbal_ctx *ctx, const imbal_image *src, float factor,
                                            imbal_image *out);
/* F.adjust_hue: shift the hue by `factor` turns in [-0.5, 0.5] through float HSV (torchvision's
 * _rgb2hsv / _hsv2rgb on values / 255, result rounded back to uint8 as torchvision does). */
IMBAL_API imbal_status imbal_aug_hue(imbal_ctx *ctx, const imbal_image *src, float factor,
                                     imbal_image *out);

/* F.normalize(F.convert_image_dtype(img, float)): out[c][y][x] = (v / 255 - mean[c]) / std[c],
 * written as float CHW (3 x H x W floats, caller-allocated). std[c] != 0. */
IMBAL_API imbal_status imbal_aug_normalize(imbal_ctx *ctx, const imbal_image *src,
                                           const float mean[3], const float std[3], float *out_chw);

IMBAL_EXTERN_C_END

#endif
