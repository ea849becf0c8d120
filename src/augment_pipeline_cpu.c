/* The CPU twin of the fused augmentation kernel: the same per-pixel chain (src/augment_pixel.h)
 * and the same parameter draw (src/augment_params.h), OpenMP over the images of the batch. Each
 * image depends only on its own key, so the result is the same for any thread count. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "augment_params.h"
#include "augment_pipeline_internal.h"
#include "augment_pixel.h"
#include "imbal/half.h"
#include "internal.h"

/* The jitter op `op` over a whole uint8 HWC buffer of n pixels, in place: the per-pixel functions
 * of augment_pixel.h in plain loops the compiler can vectorise. */
static inline __attribute__((always_inline)) void color_op(const imbal_aug_plan *pl, int op,
                                                           uint8_t *restrict b, int64_t n) {
    if (op == 3) {
        const float shift = pl->hue;
        for (int64_t i = 0; i < n; ++i)
            imbal_px_hue(b + 3 * i, shift);
        return;
    }
    const float r = pl->r[op], omr = pl->omr[op];
    if (op == 2) {
        for (int64_t i = 0; i < n; ++i) {
            const float g = (float)imbal_px_gray(b + 3 * i);
            for (int k = 0; k < 3; ++k)
                b[3 * i + k] = imbal_px_blend(r, omr, (float)b[3 * i + k], g);
        }
        return;
    }
    const float other = op == 0 ? 0.0f : pl->mean;
    for (int64_t i = 0; i < 3 * n; ++i)
        b[i] = imbal_px_blend(r, omr, (float)b[i], other);
}

/* One image. The kernel runs the per-pixel chain twice when contrast is on (a first pass for the
 * gray mean); here the geometry + rotation result is kept in `buf` (out_h x out_w x 3, one per
 * thread) and the jitter ops run over it one after the other, so the contrast mean is the gray sum
 * of the buffer as it stands. Every value is the same function of the same inputs, so both orders
 * of evaluation give the same bytes. */
static inline __attribute__((always_inline)) void
augment_image_impl(const imbal_aug_pipeline *p, const uint8_t *src, int H, int W, int64_t key,
                   int32_t label, uint64_t seed, uint32_t epoch, int64_t i, void *out, uint8_t *buf,
                   uint8_t *geo) {
    imbal_aug_params q;
    imbal_aug_draw_hd(p, p->class_strength, p->num_classes, H, W, seed, epoch, key, label, &q);
    imbal_aug_plan pl;
    imbal_aug_plan_make(p, &q, H, W, &pl);
    const int oh = p->out_height, ow = p->out_width;
    const int64_t npx = (int64_t)oh * ow;
    uint8_t *b =
        p->output == IMBAL_AUG_OUT_U8_NHWC ? (uint8_t *)out + (size_t)i * (size_t)npx * 3 : buf;
    /* geometry (+ flip) first; with a rotation into `geo`, which the rotation then samples, so
     * each geometry pixel is computed once rather than once per bilinear neighbour */
    uint8_t *g = pl.rotate ? geo : b;
    for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x)
            imbal_px_geometry(&pl, src, y, x, g + ((size_t)y * ow + x) * 3);
    if (pl.rotate)
        for (int y = 0; y < oh; ++y)
            for (int x = 0; x < ow; ++x)
                imbal_px_rotated(&pl, src, geo, y, x, b + ((size_t)y * ow + x) * 3);
    for (int j = 0; j < pl.num_jitter; ++j) {
        if (pl.order[j] == 1) {
            uint64_t sum = 0;
            for (int64_t k = 0; k < npx; ++k)
                sum += imbal_px_gray(b + 3 * k);
            pl.mean = imbal_px_mean(sum, npx);
        }
        color_op(&pl, pl.order[j], b, npx);
    }
    if (p->output == IMBAL_AUG_OUT_U8_NHWC) return;
    for (int c = 0; c < 3; ++c) {
        const float m = p->mean[c], s = p->std[c];
        const size_t at = ((size_t)i * 3 + c) * (size_t)npx;
        if (p->output == IMBAL_AUG_OUT_F32_NCHW) {
            float *o = (float *)out + at;
            for (int64_t k = 0; k < npx; ++k)
                o[k] = imbal_px_normalize(b[3 * k + c], m, s);
        } else {
            uint16_t *o = (uint16_t *)out + at;
            for (int64_t k = 0; k < npx; ++k)
                o[k] = imbal_f32_to_bf16(imbal_px_normalize(b[3 * k + c], m, s));
        }
    }
}

typedef void (*augment_image_fn)(const imbal_aug_pipeline *, const uint8_t *, int, int, int64_t,
                                 int32_t, uint64_t, uint32_t, int64_t, void *, uint8_t *,
                                 uint8_t *);

/* fmaf is correctly rounded everywhere; on a CPU with FMA it is one instruction instead of a
 * library call, with bit-identical results (as imbal_aug_rotate does). */
static void augment_image_generic(const imbal_aug_pipeline *p, const uint8_t *src, int H, int W,
                                  int64_t key, int32_t label, uint64_t seed, uint32_t epoch,
                                  int64_t i, void *out, uint8_t *buf, uint8_t *geo) {
    augment_image_impl(p, src, H, W, key, label, seed, epoch, i, out, buf, geo);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("fma"))) static void
augment_image_fma(const imbal_aug_pipeline *p, const uint8_t *src, int H, int W, int64_t key,
                  int32_t label, uint64_t seed, uint32_t epoch, int64_t i, void *out, uint8_t *buf,
                  uint8_t *geo) {
    augment_image_impl(p, src, H, W, key, label, seed, epoch, i, out, buf, geo);
}
static augment_image_fn augment_image_pick(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") ? augment_image_fma : augment_image_generic;
}
#else
static augment_image_fn augment_image_pick(void) {
    return augment_image_generic;
}
#endif

imbal_status imbal_augment_batch_cpu(imbal_ctx *ctx, const imbal_aug_pipeline *p,
                                     const uint8_t *images, int n, int in_height, int in_width,
                                     const int64_t *keys, const int32_t *labels, uint64_t seed,
                                     uint32_t epoch, void *out) {
    const augment_image_fn fn = augment_image_pick();
    const size_t in_size = (size_t)in_height * (size_t)in_width * 3;
    const size_t buf_size = (size_t)p->out_height * (size_t)p->out_width * 3;
    int failed = 0;
#pragma omp parallel num_threads(imbal_ctx_omp_threads(ctx)) if (n > 1) reduction(| : failed)
    {
        /* scratch images per thread, not per sample: `buf` for the float outputs (u8 goes straight
         * to out), `geo` for the geometry image a rotation samples */
        const int need_buf = p->output != IMBAL_AUG_OUT_U8_NHWC, need_geo = p->rotate_deg > 0.0f;
        uint8_t *buf = need_buf ? malloc(buf_size) : NULL;
        uint8_t *geo = need_geo ? malloc(buf_size) : NULL;
        const int ok = (!need_buf || buf) && (!need_geo || geo);
        failed = !ok;
#pragma omp for schedule(dynamic, 4)
        for (int i = 0; i < n; ++i)
            if (ok)
                fn(p, images + (size_t)i * in_size, in_height, in_width, keys[i],
                   labels ? labels[i] : 0, seed, epoch, i, out, buf, geo);
        free(buf);
        free(geo);
    }
    if (failed)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "imbal_augment_batch: cannot allocate a %zu-byte scratch image",
                          buf_size);
    return IMBAL_OK;
}
