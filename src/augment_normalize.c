/* F.normalize(F.convert_image_dtype(img, torch.float), mean, std): uint8 HWC -> float CHW. */
#include <math.h>
#include <stdint.h>

#include "augment_internal.h"
#include "internal.h"

imbal_status imbal_aug_normalize(imbal_ctx *ctx, const imbal_image *src, const float mean[3],
                                 const float std[3], float *out_chw) {
    const char *op = "imbal_aug_normalize";
    imbal_image unused = {0}; /* normalize writes floats, not an image */
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, &unused);
    if (st != IMBAL_OK) return st;
    if (!mean) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: mean is NULL", op);
    if (!std) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: std is NULL", op);
    if (!out_chw) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: out_chw is NULL", op);
    for (int c = 0; c < 3; ++c) {
        if (!isfinite(mean[c]))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: mean[%d] = %g is not finite",
                              op, c, (double)mean[c]);
        if (!isfinite(std[c]) || std[c] == 0.0f)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: std[%d] = %g must be finite and non-zero", op, c,
                              (double)std[c]);
    }
    const int w = src->width, h = src->height;
    const size_t plane = (size_t)w * h;
    const float m0 = mean[0], m1 = mean[1], m2 = mean[2];
    const float s0 = std[0], s1 = std[1], s2 = std[2];
    const int parallel = (int64_t)plane >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) schedule(static)
    for (int y = 0; y < h; ++y) {
        const uint8_t *s = src->data + (size_t)y * w * 3;
        float *o0 = out_chw + (size_t)y * w, *o1 = o0 + plane, *o2 = o1 + plane;
        /* (v / 255 - mean) / std: true divisions, as torch does (no reciprocal multiply). */
        for (int x = 0; x < w; ++x) {
            o0[x] = ((float)s[3 * x] / 255.0f - m0) / s0;
            o1[x] = ((float)s[3 * x + 1] / 255.0f - m1) / s1;
            o2[x] = ((float)s[3 * x + 2] / 255.0f - m2) / s2;
        }
    }
    return IMBAL_OK;
}
