/* imbal: the random augmentation pipeline (imbal/pipeline.h): defaults, checks, the per-image
 * parameter draw and the dispatch to the CPU twin or the fused CUDA kernel. The spec parser is in
 * src/augment_pipeline_parse.c; the maths in src/augment_params.h and src/augment_pixel.h. */
#include <math.h>
#include <string.h>

#include "augment_params.h"
#include "augment_pipeline_internal.h"
#include "imbal/pipeline.h"
#include "internal.h"

void imbal_aug_pipeline_default(imbal_aug_pipeline *p) {
    memset(p, 0, sizeof *p);
    p->out_height = p->out_width = 32;
    p->geometry = IMBAL_AUG_GEOM_NONE;
    p->pad_mode = IMBAL_PAD_CONSTANT;
    p->scale[0] = 0.08f, p->scale[1] = 1.0f;
    p->ratio[0] = 3.0f / 4.0f, p->ratio[1] = 4.0f / 3.0f;
    p->flip_p = 0.0f;
    p->output = IMBAL_AUG_OUT_U8_NHWC;
    for (int c = 0; c < 3; ++c)
        p->std[c] = 1.0f;
}

static imbal_status bad(imbal_ctx *ctx, const char *what, double v, const char *why) {
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_aug_pipeline_check: %s = %g %s", what,
                      v, why);
}

static imbal_status check_geometry(imbal_ctx *ctx, const imbal_aug_pipeline *p, int H, int W) {
    const char *fn = "imbal_aug_pipeline_check";
    switch (p->geometry) {
    case IMBAL_AUG_GEOM_NONE:
        if (H != p->out_height || W != p->out_width)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: no geometry step, so the input (%d x %d) must already be the "
                              "output size %d x %d (height x width)",
                              fn, H, W, p->out_height, p->out_width);
        return IMBAL_OK;
    case IMBAL_AUG_GEOM_CROP:
        if (p->pad < 0 || p->pad > (1 << 20))
            return bad(ctx, "pad", p->pad, "is outside [0, 2^20]");
        if (p->pad_mode != IMBAL_PAD_CONSTANT && p->pad_mode != IMBAL_PAD_EDGE &&
            p->pad_mode != IMBAL_PAD_REFLECT)
            return bad(ctx, "pad_mode", p->pad_mode,
                       "is not constant (0), edge (1) or reflect (2)");
        if (p->pad_mode == IMBAL_PAD_REFLECT && (p->pad >= H || p->pad >= W))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: reflect pad %d must be smaller than the input sides (%d x %d)",
                              fn, p->pad, H, W);
        if ((int64_t)p->out_height > (int64_t)H + 2 * p->pad ||
            (int64_t)p->out_width > (int64_t)W + 2 * p->pad)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: crop %d x %d is larger than the padded input %lld x %lld "
                              "(input %d x %d, pad %d)",
                              fn, p->out_height, p->out_width, (long long)H + 2 * p->pad,
                              (long long)W + 2 * p->pad, H, W, p->pad);
        return IMBAL_OK;
    case IMBAL_AUG_GEOM_RESIZED_CROP:
        if (!(p->scale[0] > 0.0f && p->scale[0] <= p->scale[1] && p->scale[1] <= 1.0f))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: scale %g-%g must satisfy 0 < lo <= hi <= 1", fn,
                              (double)p->scale[0], (double)p->scale[1]);
        if (!(p->ratio[0] > 0.0f && p->ratio[0] <= p->ratio[1] && isfinite(p->ratio[1])))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: ratio %g-%g must satisfy 0 < lo <= hi (finite)", fn,
                              (double)p->ratio[0], (double)p->ratio[1]);
        return IMBAL_OK;
    }
    return bad(ctx, "geometry", p->geometry, "is not NONE (0), CROP (1) or RESIZED_CROP (2)");
}

static imbal_status check_magnitude(imbal_ctx *ctx, const char *what, float v, float hi) {
    if (!(v >= 0.0f && v <= hi))
        return bad(ctx, what, v, hi > 1e8f ? "is not >= 0" : "is out of range");
    return IMBAL_OK;
}

imbal_status imbal_aug_pipeline_check(imbal_ctx *ctx, const imbal_aug_pipeline *p, int in_height,
                                      int in_width) {
    const char *fn = "imbal_aug_pipeline_check";
    if (!p) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: pipeline is NULL", fn);
    if (in_height < 1 || in_width < 1 || in_height > (1 << 16) || in_width > (1 << 16))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: input size %d x %d must be in [1, 65536] per side", fn, in_height,
                          in_width);
    if (p->out_height < 1 || p->out_width < 1 || p->out_height > (1 << 16) ||
        p->out_width > (1 << 16))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: output size %d x %d must be in [1, 65536] per side", fn,
                          p->out_height, p->out_width);
    imbal_status st = check_geometry(ctx, p, in_height, in_width);
    if (st != IMBAL_OK) return st;
    if (!(p->flip_p >= 0.0f && p->flip_p <= 1.0f))
        return bad(ctx, "flip_p", p->flip_p, "is outside [0, 1]");
    if ((st = check_magnitude(ctx, "rotate_deg", p->rotate_deg, 1e6f)) != IMBAL_OK ||
        (st = check_magnitude(ctx, "brightness", p->brightness, 1e6f)) != IMBAL_OK ||
        (st = check_magnitude(ctx, "contrast", p->contrast, 1e6f)) != IMBAL_OK ||
        (st = check_magnitude(ctx, "saturation", p->saturation, 1e6f)) != IMBAL_OK)
        return st;
    if (!(p->hue >= 0.0f && p->hue <= 0.5f)) return bad(ctx, "hue", p->hue, "is outside [0, 0.5]");
    if (p->output != IMBAL_AUG_OUT_U8_NHWC && p->output != IMBAL_AUG_OUT_F32_NCHW &&
        p->output != IMBAL_AUG_OUT_BF16_NCHW)
        return bad(ctx, "output", p->output, "is not U8_NHWC (0), F32_NCHW (1) or BF16_NCHW (2)");
    if (p->output != IMBAL_AUG_OUT_U8_NHWC)
        for (int c = 0; c < 3; ++c) {
            if (!isfinite(p->mean[c]))
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "%s: mean[%d] = %g is not finite", fn, c, (double)p->mean[c]);
            if (!isfinite(p->std[c]) || p->std[c] == 0.0f)
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "%s: std[%d] = %g must be finite and non-zero", fn, c,
                                  (double)p->std[c]);
        }
    if (p->class_strength) {
        if (p->num_classes < 1)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s: class_strength is given with num_classes %d (need >= 1)", fn,
                              p->num_classes);
        for (int c = 0; c < p->num_classes; ++c)
            if (!(p->class_strength[c] >= 0.0f && p->class_strength[c] <= 1e6f))
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "%s: class_strength[%d] = %g must be finite and >= 0", fn, c,
                                  (double)p->class_strength[c]);
    }
    return IMBAL_OK;
}

void imbal_aug_draw(const imbal_aug_pipeline *p, int in_height, int in_width, uint64_t seed,
                    uint32_t epoch, int64_t key, int32_t label, imbal_aug_params *out) {
    imbal_aug_draw_hd(p, p->class_strength, p->num_classes, in_height, in_width, seed, epoch, key,
                      label, out);
}

/* Keys index Philox streams (< 2^56); labels select a strength. Host memory only. */
static imbal_status check_keys_labels(imbal_ctx *ctx, const imbal_aug_pipeline *p, int n,
                                      const int64_t *keys, const int32_t *labels) {
    for (int i = 0; i < n; ++i) {
        if (keys[i] < 0 || keys[i] >= ((int64_t)1 << 56))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "imbal_augment_batch: keys[%d] = %lld is outside [0, 2^56)", i,
                              (long long)keys[i]);
        if (p->class_strength && (labels[i] < 0 || labels[i] >= p->num_classes))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "imbal_augment_batch: labels[%d] = %d is outside [0, %d)", i,
                              (int)labels[i], p->num_classes);
    }
    return IMBAL_OK;
}

imbal_status imbal_augment_batch(imbal_ctx *ctx, imbal_device device, const imbal_aug_pipeline *p,
                                 const uint8_t *images, int n, int in_height, int in_width,
                                 const int64_t *keys, const int32_t *labels, uint64_t seed,
                                 uint32_t epoch, void *out, void *stream) {
    const char *fn = "imbal_augment_batch";
    imbal_status st = imbal_aug_pipeline_check(ctx, p, in_height, in_width);
    if (st != IMBAL_OK) return st;
    if (n < 0) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: n %d is negative", fn, n);
    if (n > 0 && (!images || !keys || !out))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          !images ? "images"
                          : !keys ? "keys"
                                  : "out");
    if (n > 0 && p->class_strength && !labels)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: labels is NULL but the pipeline has class_strength", fn);
    st = imbal_device_check(ctx, device);
    if (st != IMBAL_OK || n == 0) return st;
    if (device.kind == IMBAL_DEVICE_CPU) {
        st = check_keys_labels(ctx, p, n, keys, labels);
        if (st != IMBAL_OK) return st;
        return imbal_augment_batch_cpu(ctx, p, images, n, in_height, in_width, keys, labels, seed,
                                       epoch, out);
    }
#ifdef IMBAL_WITH_CUDA
    return imbal_cuda_augment_batch(ctx, device.index, p, images, n, in_height, in_width, keys,
                                    labels, seed, epoch, out, stream);
#else
    return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "%s: CUDA without CUDA", fn);
#endif
}
