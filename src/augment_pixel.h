/* imbal: the per-pixel arithmetic of the random augmentation pipeline, shared (IMBAL_HD) by the
 * CPU twin (src/augment_pipeline_cpu.c) and the fused kernel (kernels/augment_pipeline.cu).
 *
 * Every formula is the one of the functional ops (src/augment_geometry.c, src/augment_color.c,
 * src/augment_normalize.c), which reproduce torchvision 0.14; here they are evaluated for one
 * output pixel at a time, so one kernel can run the whole chain without intermediate images:
 *   output pixel -> inverse rotation (bilinear, 4 neighbours) -> flip -> crop window in the padded
 *   source (or RandomResizedCrop's bilinear resize of the box) -> uint8 -> jitter ops -> output.
 *
 * Host/device bit-identity: nvcc contracts a multiply feeding an add into an FMA (--fmad=true),
 * GCC in ISO C mode does not. Every product that meets an addition therefore goes through
 * IMBAL_MUL (__fmul_rn on the device: never contracted), and the FMAs that torch itself performs
 * are explicit fmaf calls on both sides. Divisions are IEEE on both (nvcc's -prec-div default). */
#ifndef IMBAL_AUGMENT_PIXEL_H
#define IMBAL_AUGMENT_PIXEL_H

#include <stdint.h>

#include "imbal/pipeline.h"

#if !defined(__CUDACC__)
#include <math.h>
#endif

#if defined(__CUDA_ARCH__)
#define IMBAL_MUL(a, b)  __fmul_rn((a), (b))
#define IMBAL_DMUL(a, b) __dmul_rn((a), (b))
#else
#define IMBAL_MUL(a, b)  ((a) * (b))
#define IMBAL_DMUL(a, b) ((a) * (b))
#endif

/* Everything one image's chain needs, derived from the pipeline and the drawn parameters. */
typedef struct imbal_aug_plan {
    int geometry, in_h, in_w, out_h, out_w;
    int top, left, box_h, box_w; /* CROP: window in the padded image; RESIZED_CROP: source box */
    int pad, pad_mode, pad_fill;
    float scale_y,
        scale_x; /* RESIZED_CROP: box / out in float, as torch's area_pixel_compute_scale */
    int flip;
    int rotate;               /* angle != 0 */
    float r00, r10, r01, r11; /* rescaled inverse affine, as imbal_aug_rotate */
    float half_w, half_h, fill[3];
    int num_jitter;
    int order[4];       /* 0 brightness, 1 contrast, 2 saturation, 3 hue */
    float r[3], omr[3]; /* blend ratios and (float)(1 - ratio) of the three blend ops */
    float hue;
    int contrast_pos; /* index of contrast in order[], or -1 */
    float mean;       /* contrast: mean of the grayscale image before the contrast op */
} imbal_aug_plan;

IMBAL_HD void imbal_aug_plan_make(const imbal_aug_pipeline *p, const imbal_aug_params *q, int in_h,
                                  int in_w, imbal_aug_plan *o) {
    o->geometry = (int)p->geometry;
    o->in_h = in_h, o->in_w = in_w, o->out_h = p->out_height, o->out_w = p->out_width;
    o->top = q->top, o->left = q->left, o->box_h = q->height, o->box_w = q->width;
    o->pad = p->pad, o->pad_mode = (int)p->pad_mode, o->pad_fill = p->pad_fill;
    o->scale_y = (float)q->height / (float)p->out_height;
    o->scale_x = (float)q->width / (float)p->out_width;
    o->flip = q->flip;
    o->rotate = q->angle != 0.0f;
    /* imbal_aug_rotate: _get_inverse_affine_matrix in double, then rescaled in float32 */
    const double rot = (double)(-q->angle) * (3.14159265358979323846 / 180.0);
    const double c = cos(rot), s = sin(rot);
    const float sw = (float)(0.5 * p->out_width), sh = (float)(0.5 * p->out_height);
    o->r00 = (float)c / sw, o->r10 = (float)s / sw;
    o->r01 = (float)(-s) / sh, o->r11 = (float)c / sh;
    o->half_w = (float)p->out_width / 2.0f, o->half_h = (float)p->out_height / 2.0f;
    for (int k = 0; k < 3; ++k)
        o->fill[k] = (float)p->rotate_fill[k];
    const float f[3] = {q->brightness, q->contrast, q->saturation};
    for (int k = 0; k < 3; ++k)
        o->r[k] = f[k], o->omr[k] = (float)(1.0 - (double)f[k]);
    o->hue = q->hue;
    o->num_jitter = q->num_jitter;
    o->contrast_pos = -1;
    for (int k = 0; k < 4; ++k) {
        o->order[k] = k < q->num_jitter ? q->order[k] : 0;
        if (k < q->num_jitter && q->order[k] == 1) o->contrast_pos = k;
    }
    o->mean = 0.0f;
}

/* imbal_aug_trunc_u8: clamp(0, 255) then truncation, as torch's .to(uint8) after clamp. */
IMBAL_HD uint8_t imbal_px_trunc(float v) {
    v = v < 0.0f ? 0.0f : v;
    v = v > 255.0f ? 255.0f : v;
    return (uint8_t)v;
}

/* torch.round (half to even) then the clamped cast. */
IMBAL_HD uint8_t imbal_px_round(float v) {
    float r = rintf(v);
    return r <= 0.0f ? 0 : r >= 255.0f ? 255 : (uint8_t)r;
}

/* pad_source of augment_geometry.c: source index of padded coordinate s - pad, -1 = fill. */
IMBAL_HD int imbal_px_pad_source(int s, int n, int mode) {
    if (s >= 0 && s < n) return s;
    if (mode == IMBAL_PAD_CONSTANT) return -1;
    if (mode == IMBAL_PAD_EDGE) return s < 0 ? 0 : n - 1;
    return s < 0 ? -s : 2 * (n - 1) - s;
}

/* Pixel (y, x) of the image after geometry and flip (out_h x out_w, uint8). src is HWC RGB. */
IMBAL_HD void imbal_px_geometry(const imbal_aug_plan *pl, const uint8_t *src, int y, int x,
                                uint8_t rgb[3]) {
    const int xs = pl->flip ? pl->out_w - 1 - x : x;
    if (pl->geometry == IMBAL_AUG_GEOM_CROP) {
        int sy = imbal_px_pad_source(pl->top + y - pl->pad, pl->in_h, pl->pad_mode);
        int sx = imbal_px_pad_source(pl->left + xs - pl->pad, pl->in_w, pl->pad_mode);
        if (sy < 0 || sx < 0) {
            rgb[0] = rgb[1] = rgb[2] = (uint8_t)pl->pad_fill;
            return;
        }
        const uint8_t *s = src + ((size_t)sy * pl->in_w + sx) * 3;
        rgb[0] = s[0], rgb[1] = s[1], rgb[2] = s[2];
    } else if (pl->geometry == IMBAL_AUG_GEOM_RESIZED_CROP) {
        /* F.resized_crop: crop the box, interpolate(bilinear, align_corners=False) in float32,
         * torch.round, uint8. torch 1.13's CPU kernel (UpSampleKernel.cpp): scale = in / out in
         * float, source index max(scale (d + 0.5) - 0.5, 0) in double, lambda1 = (float)(index -
         * i0), lambda0 = 1 - lambda1, rows outer, columns inner, each t0 w0 + t1 w1 contracted
         * by its x86 build into fma(t0, w0, t1 w1). Matched bit for bit on our sweeps. */
        double fy = IMBAL_DMUL((double)pl->scale_y, (double)y + 0.5) - 0.5;
        double fx = IMBAL_DMUL((double)pl->scale_x, (double)xs + 0.5) - 0.5;
        fy = fy < 0.0 ? 0.0 : fy;
        fx = fx < 0.0 ? 0.0 : fx;
        int y0 = (int)fy, x0 = (int)fx;
        y0 = y0 > pl->box_h - 1 ? pl->box_h - 1 : y0;
        x0 = x0 > pl->box_w - 1 ? pl->box_w - 1 : x0;
        const int y1 = y0 + (y0 < pl->box_h - 1), x1 = x0 + (x0 < pl->box_w - 1);
        double dy = fy - (double)y0, dx = fx - (double)x0;
        dy = dy > 1.0 ? 1.0 : dy;
        dx = dx > 1.0 ? 1.0 : dx;
        const float ly1 = (float)dy, ly0 = 1.0f - ly1;
        const float lx1 = (float)dx, lx0 = 1.0f - lx1;
        const size_t w = (size_t)pl->in_w;
        const uint8_t *r0 = src + ((size_t)(pl->top + y0) * w + (size_t)pl->left) * 3;
        const uint8_t *r1 = src + ((size_t)(pl->top + y1) * w + (size_t)pl->left) * 3;
        for (int k = 0; k < 3; ++k) {
            const float a = fmaf((float)r0[x0 * 3 + k], lx0, IMBAL_MUL((float)r0[x1 * 3 + k], lx1));
            const float b = fmaf((float)r1[x0 * 3 + k], lx0, IMBAL_MUL((float)r1[x1 * 3 + k], lx1));
            rgb[k] = imbal_px_round(fmaf(a, ly0, IMBAL_MUL(b, ly1)));
        }
    } else {
        const uint8_t *s = src + ((size_t)y * pl->in_w + xs) * 3;
        rgb[0] = s[0], rgb[1] = s[1], rgb[2] = s[2];
    }
}

/* Pixel (y, x) of the image after geometry and flip: from `geo` (that image, out_h x out_w x 3,
 * already computed) when given, else computed from the source. */
IMBAL_HD void imbal_px_fetch(const imbal_aug_plan *pl, const uint8_t *src, const uint8_t *geo,
                             int y, int x, uint8_t rgb[3]) {
    if (geo) {
        const uint8_t *g = geo + ((size_t)y * pl->out_w + x) * 3;
        rgb[0] = g[0], rgb[1] = g[1], rgb[2] = g[2];
    } else {
        imbal_px_geometry(pl, src, y, x, rgb);
    }
}

/* Pixel (y, x) after the rotation: rotate_row_impl of augment_geometry.c for one pixel, whose
 * four neighbours are fetched through imbal_px_fetch (geo may be NULL). */
IMBAL_HD void imbal_px_rotated(const imbal_aug_plan *pl, const uint8_t *src, const uint8_t *geo,
                               int y, int x, uint8_t rgb[3]) {
    if (!pl->rotate) {
        imbal_px_fetch(pl, src, geo, y, x, rgb);
        return;
    }
    const int w = pl->out_w, h = pl->out_h;
    const float yf = (float)((double)y + 0.5 - IMBAL_DMUL(0.5, (double)h));
    const float xf = (float)((double)x + 0.5 - IMBAL_DMUL(0.5, (double)w));
    const float gx = fmaf(yf, pl->r10, IMBAL_MUL(xf, pl->r00));
    const float gy = fmaf(yf, pl->r11, IMBAL_MUL(xf, pl->r01));
    const float ix = fmaf(gx + 1.0f, pl->half_w, -0.5f);
    const float iy = fmaf(gy + 1.0f, pl->half_h, -0.5f);
    const float fx = floorf(ix), fy = floorf(iy);
    const float we = ix - fx, ea = 1.0f - we, no = iy - fy, so = 1.0f - no;
    const float wnw = IMBAL_MUL(so, ea), wne = IMBAL_MUL(so, we);
    const float wsw = IMBAL_MUL(no, ea), wse = IMBAL_MUL(no, we);
    const int x0 = (int)fx, y0 = (int)fy;
    const int in_x0 = x0 >= 0 && x0 < w, in_x1 = x0 + 1 >= 0 && x0 + 1 < w;
    const int in_y0 = y0 >= 0 && y0 < h, in_y1 = y0 + 1 >= 0 && y0 + 1 < h;
    uint8_t nw[3] = {0, 0, 0}, ne[3] = {0, 0, 0}, sw[3] = {0, 0, 0}, se[3] = {0, 0, 0};
    if (in_y0 && in_x0) imbal_px_fetch(pl, src, geo, y0, x0, nw);
    if (in_y0 && in_x1) imbal_px_fetch(pl, src, geo, y0, x0 + 1, ne);
    if (in_y1 && in_x0) imbal_px_fetch(pl, src, geo, y0 + 1, x0, sw);
    if (in_y1 && in_x1) imbal_px_fetch(pl, src, geo, y0 + 1, x0 + 1, se);
    float m = (in_y0 && in_x0 ? wnw : 0.0f) + (in_y0 && in_x1 ? wne : 0.0f);
    m = m + (in_y1 && in_x0 ? wsw : 0.0f);
    m = m + (in_y1 && in_x1 ? wse : 0.0f);
    for (int k = 0; k < 3; ++k) {
        float v = fmaf((float)ne[k], wne, IMBAL_MUL((float)nw[k], wnw));
        v = fmaf((float)sw[k], wsw, v);
        v = fmaf((float)se[k], wse, v);
        const float a = IMBAL_MUL(v, m);
        const float b = IMBAL_MUL(1.0f - m, pl->fill[k]);
        rgb[k] = imbal_px_round(a + b);
    }
}

/* rgb_to_grayscale truncated to uint8 (gray_u8 of augment_color.c). */
IMBAL_HD uint8_t imbal_px_gray(const uint8_t rgb[3]) {
    float g = IMBAL_MUL(0.2989f, (float)rgb[0]) + IMBAL_MUL(0.587f, (float)rgb[1]);
    g = g + IMBAL_MUL(0.114f, (float)rgb[2]);
    return imbal_px_trunc(g);
}

IMBAL_HD uint8_t imbal_px_blend(float r, float omr, float a, float b) {
    return imbal_px_trunc(IMBAL_MUL(r, a) + IMBAL_MUL(omr, b));
}

IMBAL_HD float imbal_px_clamp01(float x) {
    return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
}

/* hue_row of augment_color.c for one pixel. */
IMBAL_HD void imbal_px_hue(uint8_t rgb[3], float shift) {
    const float r = (float)rgb[0] / 255.0f, g = (float)rgb[1] / 255.0f, b = (float)rgb[2] / 255.0f;
    float maxc = r > g ? r : g, minc = r < g ? r : g;
    maxc = maxc > b ? maxc : b;
    minc = minc < b ? minc : b;
    const int eqc = maxc == minc;
    const float cr = maxc - minc;
    const float s = cr / (eqc ? 1.0f : maxc);
    const float crd = eqc ? 1.0f : cr;
    const float rc = (maxc - r) / crd, gc = (maxc - g) / crd, bc = (maxc - b) / crd;
    const float dr = bc - gc, dg = (2.0f + rc) - bc, db = (4.0f + gc) - rc;
    const float hr = maxc == r ? dr : 0.0f;
    const float hg = ((maxc == g) & (maxc != r)) ? dg : 0.0f;
    const float hb = ((maxc != g) & (maxc != r)) ? db : 0.0f;
    float h = (hr + hg) + hb;
    h = h / 6.0f + 1.0f;
    const float hm = h - 1.0f;
    h = h >= 1.0f ? hm : h;
    h = h + shift;
    const float hlo = h - 1.0f, hhi = h + 1.0f;
    h = h >= 1.0f ? hlo : h < 0.0f ? hhi : h;
    const float v = maxc;
    const float h6 = IMBAL_MUL(h, 6.0f);
    const int i6 = (int)h6;
    const float f = h6 - (float)i6;
    const int i = i6 == 6 ? 0 : i6;
    const float p = imbal_px_clamp01(IMBAL_MUL(v, 1.0f - s));
    const float q = imbal_px_clamp01(IMBAL_MUL(v, 1.0f - IMBAL_MUL(s, f)));
    const float t = imbal_px_clamp01(IMBAL_MUL(v, 1.0f - IMBAL_MUL(s, 1.0f - f)));
    const float rr = ((i == 0) | (i == 5)) ? v : i == 1 ? q : i == 4 ? t : p;
    const float gg = ((i == 1) | (i == 2)) ? v : i == 0 ? t : i == 3 ? q : p;
    const float bb = ((i == 3) | (i == 4)) ? v : i == 2 ? t : i == 5 ? q : p;
    rgb[0] = imbal_px_trunc(IMBAL_MUL(rr, 255.0f));
    rgb[1] = imbal_px_trunc(IMBAL_MUL(gg, 255.0f));
    rgb[2] = imbal_px_trunc(IMBAL_MUL(bb, 255.0f));
}

/* Jitter ops order[0 .. upto) on one pixel (contrast uses pl->mean). */
IMBAL_HD void imbal_px_color(const imbal_aug_plan *pl, uint8_t rgb[3], int upto) {
    for (int j = 0; j < upto; ++j) {
        const int op = pl->order[j];
        if (op == 3) {
            imbal_px_hue(rgb, pl->hue);
            continue;
        }
        const float r = pl->r[op], omr = pl->omr[op];
        const float b0 = op == 0 ? 0.0f : op == 1 ? pl->mean : (float)imbal_px_gray(rgb);
        for (int k = 0; k < 3; ++k)
            rgb[k] = imbal_px_blend(r, omr, (float)rgb[k], b0);
    }
}

/* The chain up to (not including) jitter op `upto` for output pixel (y, x). */
IMBAL_HD void imbal_px_chain(const imbal_aug_plan *pl, const uint8_t *src, int y, int x, int upto,
                             uint8_t rgb[3]) {
    imbal_px_rotated(pl, src, NULL, y, x, rgb);
    imbal_px_color(pl, rgb, upto);
}

/* (v / 255 - mean) / std, true divisions as imbal_aug_normalize. */
IMBAL_HD float imbal_px_normalize(uint8_t v, float mean, float std) {
    return ((float)v / 255.0f - mean) / std;
}

/* contrast's mean from the exact integer sum of gray values (imbal_aug_contrast). */
IMBAL_HD float imbal_px_mean(uint64_t sum, int64_t n) {
    return (float)sum / (float)n;
}

#endif
