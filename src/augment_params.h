/* imbal: the per-image parameter draw of the random augmentation pipeline, one IMBAL_HD function
 * for the host (imbal_aug_draw, the CPU twin) and the device (kernels/augment_pipeline.cu), so the
 * two see the same parameters for (seed, epoch, key) whatever the batch or launch geometry.
 *
 * Streams: (seed, epoch, key, IMBAL_OP_AUG_CROP | _RESIZED_CROP | _FLIP | _ROTATE | _JITTER),
 * one per step, so switching one step on or off never changes another's draw. Floats are used only
 * where host and device agree bit for bit (IMBAL_MUL keeps nvcc from contracting); the one
 * exception is RandomResizedCrop's exp of the log-ratio in double (1 ulp between libm and CUDA),
 * which can only change a box whose sqrt lands within 1e-16 of a .5 (docs/pipeline.md). */
#ifndef IMBAL_AUGMENT_PARAMS_H
#define IMBAL_AUGMENT_PARAMS_H

#include <stdint.h>

#include "augment_pixel.h"
#include "imbal/philox.h"
#include "imbal/pipeline.h"

/* lo + (hi - lo) u, u uniform in [0, 1) with 24 bits; never contracted. */
IMBAL_HD float imbal_aug_uniform(imbal_rng *r, float lo, float hi) {
    return lo + IMBAL_MUL(hi - lo, imbal_rng_uniform(r));
}

/* torchvision RandomResizedCrop.get_params (0.14) on an H x W image. */
IMBAL_HD void imbal_aug_draw_rrc(const imbal_aug_pipeline *p, int H, int W, imbal_rng *r,
                                 imbal_aug_params *o) {
    const double area = (double)H * (double)W;
    const double lr0 = log((double)p->ratio[0]), lr1 = log((double)p->ratio[1]);
    const double s0 = (double)p->scale[0], s1 = (double)p->scale[1];
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target =
            IMBAL_DMUL(area, s0 + IMBAL_DMUL(s1 - s0, imbal_rng_uniform_double(r)));
        const double aspect = exp(lr0 + IMBAL_DMUL(lr1 - lr0, imbal_rng_uniform_double(r)));
        /* Python's round: half to even, as rint in the default rounding mode */
        const double wd = rint(sqrt(IMBAL_DMUL(target, aspect)));
        const double hd = rint(sqrt(target / aspect));
        if (wd > 0.0 && wd <= (double)W && hd > 0.0 && hd <= (double)H) {
            const int w = (int)wd, h = (int)hd;
            o->top = (int)imbal_rng_below(r, (uint32_t)(H - h + 1));
            o->left = (int)imbal_rng_below(r, (uint32_t)(W - w + 1));
            o->height = h, o->width = w;
            return;
        }
    }
    /* fallback: the central crop with the aspect ratio clamped to the range */
    const double in_ratio = (double)W / (double)H;
    int w = W, h = H;
    if (in_ratio < (double)p->ratio[0])
        h = (int)rint((double)W / (double)p->ratio[0]);
    else if (in_ratio > (double)p->ratio[1])
        w = (int)rint(IMBAL_DMUL((double)H, (double)p->ratio[1]));
    h = h < 1 ? 1 : h > H ? H : h;
    w = w < 1 ? 1 : w > W ? W : w;
    o->top = (H - h) / 2, o->left = (W - w) / 2, o->height = h, o->width = w;
}

/* ColorJitter factor in [max(0, 1 - m), 1 + m] (torchvision _check_input's range). */
IMBAL_HD float imbal_aug_factor(imbal_rng *r, float m) {
    const float lo = 1.0f - m;
    return imbal_aug_uniform(r, lo > 0.0f ? lo : 0.0f, 1.0f + m);
}

/* imbal_aug_draw with the class strengths given explicitly (a device copy in the kernel). */
IMBAL_HD void imbal_aug_draw_hd(const imbal_aug_pipeline *p, const float *strength, int num_classes,
                                int H, int W, uint64_t seed, uint32_t epoch, int64_t key,
                                int32_t label, imbal_aug_params *o) {
    const uint64_t sample = (uint64_t)key;
    float m = 1.0f;
    if (strength && label >= 0 && label < num_classes) m = strength[label];
    imbal_rng r;
    o->top = 0, o->left = 0, o->height = H, o->width = W;
    if (p->geometry == IMBAL_AUG_GEOM_CROP) {
        imbal_rng_init(&r, seed, epoch, sample, IMBAL_OP_AUG_CROP);
        o->height = p->out_height, o->width = p->out_width;
        o->top = (int)imbal_rng_below(&r, (uint32_t)(H + 2 * p->pad - p->out_height + 1));
        o->left = (int)imbal_rng_below(&r, (uint32_t)(W + 2 * p->pad - p->out_width + 1));
    } else if (p->geometry == IMBAL_AUG_GEOM_RESIZED_CROP) {
        imbal_rng_init(&r, seed, epoch, sample, IMBAL_OP_AUG_RESIZED_CROP);
        imbal_aug_draw_rrc(p, H, W, &r, o);
    }
    o->flip = 0;
    if (p->flip_p > 0.0f) {
        imbal_rng_init(&r, seed, epoch, sample, IMBAL_OP_AUG_FLIP);
        o->flip = imbal_rng_uniform(&r) < p->flip_p;
    }
    o->angle = 0.0f;
    const float d = IMBAL_MUL(p->rotate_deg, m);
    if (d > 0.0f) {
        imbal_rng_init(&r, seed, epoch, sample, IMBAL_OP_AUG_ROTATE);
        o->angle = imbal_aug_uniform(&r, -d, d);
    }
    o->brightness = o->contrast = o->saturation = 1.0f;
    o->hue = 0.0f;
    o->num_jitter = 0;
    for (int k = 0; k < 4; ++k)
        o->order[k] = 0;
    const float mb = IMBAL_MUL(p->brightness, m), mc = IMBAL_MUL(p->contrast, m);
    const float ms = IMBAL_MUL(p->saturation, m);
    float mh = IMBAL_MUL(p->hue, m);
    mh = mh > 0.5f ? 0.5f : mh;
    if (mb > 0.0f || mc > 0.0f || ms > 0.0f || mh > 0.0f) {
        imbal_rng_init(&r, seed, epoch, sample, IMBAL_OP_AUG_JITTER);
        /* Fisher-Yates permutation of the four ops (torch.randperm(4)'s role) */
        uint8_t perm[4] = {0, 1, 2, 3};
        for (int i = 3; i > 0; --i) {
            const int j = (int)imbal_rng_below(&r, (uint32_t)(i + 1));
            const uint8_t t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        /* all four factors are drawn, in a fixed order, so the stream does not depend on which
         * ops are on; an op that is off keeps its identity factor */
        const float fb = imbal_aug_factor(&r, mb), fc = imbal_aug_factor(&r, mc);
        const float fs = imbal_aug_factor(&r, ms), fh = imbal_aug_uniform(&r, -mh, mh);
        const int on[4] = {mb > 0.0f, mc > 0.0f, ms > 0.0f, mh > 0.0f};
        if (on[0]) o->brightness = fb;
        if (on[1]) o->contrast = fc;
        if (on[2]) o->saturation = fs;
        if (on[3]) o->hue = fh;
        for (int i = 0; i < 4; ++i)
            if (on[perm[i]]) o->order[o->num_jitter++] = perm[i];
    }
}

#endif
