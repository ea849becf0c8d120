/* imbal: helpers shared by the augmentation ops (src/augment_*.c); not installed. */
#ifndef IMBAL_AUGMENT_INTERNAL_H
#define IMBAL_AUGMENT_INTERNAL_H

#include "imbal/augment.h"

/* Images with at least this many pixels are processed with OpenMP over rows; smaller ones stay on
 * the calling thread (a parallel region costs more than a 32 x 32 image). */
#define IMBAL_AUG_PARALLEL_PIXELS 65536

/* Checks src (non-NULL, data, width/height >= 1, channels >= 1, or == need_channels when that is
 * > 0) and out (non-NULL; zeroed here). Messages start with `op`. */
imbal_status imbal_aug_check_io(imbal_ctx *ctx, const char *op, const imbal_image *src,
                                int need_channels, imbal_image *out);

/* A float factor that must be finite and >= 0, named `what` in messages. */
imbal_status imbal_aug_check_factor(imbal_ctx *ctx, const char *op, float factor);

/* uint8 <- float as torch's .to(torch.uint8) after clamp(0, 255): truncation toward zero. */
static inline uint8_t imbal_aug_trunc_u8(float v) {
    v = v < 0.0f ? 0.0f : v;
    v = v > 255.0f ? 255.0f : v;
    return (uint8_t)v;
}

#endif
