/* The CPU twin of the fused augmentation kernel: the same per-pixel chain (src/augment_pixel.h)
 * and the same parameter draw (src/augment_params.h), OpenMP over the images of the batch. Each
 * image depends only on its own key, so the result is the same for any thread count. */
#include <math.h>
#include <stdint.h>

#include "augment_params.h"
#include "augment_pipeline_internal.h"
#include "augment_pixel.h"
#include "imbal/half.h"

/* One image: the contrast op needs the mean gray of the image it sees, so a first pass runs the
 * chain up to it and sums the uint8 gray values exactly; the second pass runs the whole chain. */
static inline __attribute__((always_inline)) void
augment_image_impl(const imbal_aug_pipeline *p, const uint8_t *src, int H, int W, int64_t key,
                   int32_t label, uint64_t seed, uint32_t epoch, int64_t i, void *out) {
    imbal_aug_params q;
    imbal_aug_draw_hd(p, p->class_strength, p->num_classes, H, W, seed, epoch, key, label, &q);
    imbal_aug_plan pl;
    imbal_aug_plan_make(p, &q, H, W, &pl);
    const int oh = p->out_height, ow = p->out_width;
    const int64_t npx = (int64_t)oh * ow;
    if (pl.contrast_pos >= 0) {
        uint64_t sum = 0;
        for (int y = 0; y < oh; ++y)
            for (int x = 0; x < ow; ++x) {
                uint8_t rgb[3];
                imbal_px_chain(&pl, src, y, x, pl.contrast_pos, rgb);
                sum += imbal_px_gray(rgb);
            }
        pl.mean = imbal_px_mean(sum, npx);
    }
    if (p->output == IMBAL_AUG_OUT_U8_NHWC) {
        uint8_t *o = (uint8_t *)out + (size_t)i * (size_t)npx * 3;
        for (int y = 0; y < oh; ++y)
            for (int x = 0; x < ow; ++x)
                imbal_px_chain(&pl, src, y, x, pl.num_jitter, o + ((size_t)y * ow + x) * 3);
        return;
    }
    const float m0 = p->mean[0], m1 = p->mean[1], m2 = p->mean[2];
    const float s0 = p->std[0], s1 = p->std[1], s2 = p->std[2];
    for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
            uint8_t rgb[3];
            imbal_px_chain(&pl, src, y, x, pl.num_jitter, rgb);
            const float v0 = imbal_px_normalize(rgb[0], m0, s0);
            const float v1 = imbal_px_normalize(rgb[1], m1, s1);
            const float v2 = imbal_px_normalize(rgb[2], m2, s2);
            const size_t at = (size_t)i * 3 * (size_t)npx + (size_t)y * ow + x;
            if (p->output == IMBAL_AUG_OUT_F32_NCHW) {
                float *o = (float *)out + at;
                o[0] = v0, o[npx] = v1, o[2 * npx] = v2;
            } else {
                uint16_t *o = (uint16_t *)out + at;
                o[0] = imbal_f32_to_bf16(v0), o[npx] = imbal_f32_to_bf16(v1);
                o[2 * npx] = imbal_f32_to_bf16(v2);
            }
        }
}

typedef void (*augment_image_fn)(const imbal_aug_pipeline *, const uint8_t *, int, int, int64_t,
                                 int32_t, uint64_t, uint32_t, int64_t, void *);

/* fmaf is correctly rounded everywhere; on a CPU with FMA it is one instruction instead of a
 * library call, with bit-identical results (as imbal_aug_rotate does). */
static void augment_image_generic(const imbal_aug_pipeline *p, const uint8_t *src, int H, int W,
                                  int64_t key, int32_t label, uint64_t seed, uint32_t epoch,
                                  int64_t i, void *out) {
    augment_image_impl(p, src, H, W, key, label, seed, epoch, i, out);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("fma"))) static void
augment_image_fma(const imbal_aug_pipeline *p, const uint8_t *src, int H, int W, int64_t key,
                  int32_t label, uint64_t seed, uint32_t epoch, int64_t i, void *out) {
    augment_image_impl(p, src, H, W, key, label, seed, epoch, i, out);
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

void imbal_augment_batch_cpu(int threads, const imbal_aug_pipeline *p, const uint8_t *images, int n,
                             int in_height, int in_width, const int64_t *keys,
                             const int32_t *labels, uint64_t seed, uint32_t epoch, void *out) {
    const augment_image_fn fn = augment_image_pick();
    const size_t in_size = (size_t)in_height * (size_t)in_width * 3;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4) if (n > 1)
    for (int i = 0; i < n; ++i)
        fn(p, images + (size_t)i * in_size, in_height, in_width, keys[i], labels ? labels[i] : 0,
           seed, epoch, i, out);
}
