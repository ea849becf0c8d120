/* Colour augmentation ops: brightness, contrast, saturation, hue (torchvision ColorJitter's
 * functional parts), reproducing torchvision 0.14's uint8 tensor arithmetic in float32:
 *   _blend(a, b, r) = (r * a + (1 - r) * b).clamp(0, 255).to(uint8)   (truncation)
 *   grayscale      = (0.2989 r + 0.587 g + 0.114 b).to(uint8)          (truncation)
 * Python scalars become float32 when they meet a float32 tensor, so r is (float)factor and
 * (1 - r) is computed in double first, then rounded to float. See docs/augment.md. */
#include <math.h>
#include <stdint.h>

#include "augment_internal.h"
#include "internal.h"

static inline uint8_t gray_u8(const uint8_t *p) {
    float g = 0.2989f * (float)p[0] + 0.587f * (float)p[1];
    g = g + 0.114f * (float)p[2];
    return imbal_aug_trunc_u8(g);
}

static inline uint8_t blend_u8(float r, float omr, float a, float b) {
    float v = r * a + omr * b;
    return imbal_aug_trunc_u8(v);
}

/* The per-pixel work of the four ops, selected by `kind`. */
typedef enum color_kind {
    COLOR_BRIGHTNESS,
    COLOR_CONTRAST,
    COLOR_SATURATION,
    COLOR_HUE
} color_kind;

typedef struct color_plan {
    color_kind kind;
    float r, omr; /* blend ratio and (float)(1.0 - ratio) */
    float mean;   /* contrast: mean of the grayscale image */
    float hue;    /* hue shift in turns */
} color_plan;

/* torchvision _rgb2hsv, + hue, % 1.0, _hsv2rgb, * 255, .to(uint8), on one pixel. */
static inline void hue_pixel(const uint8_t *in, float shift, uint8_t *o) {
    const float r = (float)in[0] / 255.0f, g = (float)in[1] / 255.0f, b = (float)in[2] / 255.0f;
    float maxc = fmaxf(fmaxf(r, g), b), minc = fminf(fminf(r, g), b);
    int eqc = maxc == minc;
    float cr = maxc - minc;
    float s = cr / (eqc ? 1.0f : maxc);
    float crd = eqc ? 1.0f : cr;
    float rc = (maxc - r) / crd, gc = (maxc - g) / crd, bc = (maxc - b) / crd;
    float hr = maxc == r ? bc - gc : 0.0f;
    float hg = (maxc == g && maxc != r) ? (2.0f + rc) - bc : 0.0f;
    float hb = (maxc != g && maxc != r) ? (4.0f + gc) - rc : 0.0f;
    float h = (hr + hg) + hb;
    h = fmodf(h / 6.0f + 1.0f, 1.0f);
    /* (h + hue_factor) % 1.0: torch.remainder = fmod, then + divisor where signs differ */
    h = fmodf(h + shift, 1.0f);
    if (h != 0.0f && h < 0.0f) h = h + 1.0f;
    const float v = maxc;
    float h6 = h * 6.0f;
    float fi = floorf(h6);
    float f = h6 - fi;
    int i = (int)fi % 6;
    i = i < 0 ? i + 6 : i;
    float p = fminf(fmaxf(v * (1.0f - s), 0.0f), 1.0f);
    float q = fminf(fmaxf(v * (1.0f - s * f), 0.0f), 1.0f);
    float t = fminf(fmaxf(v * (1.0f - s * (1.0f - f)), 0.0f), 1.0f);
    float rr, gg, bb;
    switch (i) {
    case 0:
        rr = v, gg = t, bb = p;
        break;
    case 1:
        rr = q, gg = v, bb = p;
        break;
    case 2:
        rr = p, gg = v, bb = t;
        break;
    case 3:
        rr = p, gg = q, bb = v;
        break;
    case 4:
        rr = t, gg = p, bb = v;
        break;
    default:
        rr = v, gg = p, bb = q;
        break;
    }
    o[0] = imbal_aug_trunc_u8(rr * 255.0f);
    o[1] = imbal_aug_trunc_u8(gg * 255.0f);
    o[2] = imbal_aug_trunc_u8(bb * 255.0f);
}

static void color_row(const color_plan *p, const uint8_t *s, uint8_t *o, int w) {
    switch (p->kind) {
    case COLOR_BRIGHTNESS:
        for (int i = 0; i < 3 * w; ++i)
            o[i] = blend_u8(p->r, p->omr, (float)s[i], 0.0f);
        break;
    case COLOR_CONTRAST:
        for (int i = 0; i < 3 * w; ++i)
            o[i] = blend_u8(p->r, p->omr, (float)s[i], p->mean);
        break;
    case COLOR_SATURATION:
        for (int x = 0; x < w; ++x) {
            float g = (float)gray_u8(s + 3 * x);
            for (int k = 0; k < 3; ++k)
                o[3 * x + k] = blend_u8(p->r, p->omr, (float)s[3 * x + k], g);
        }
        break;
    case COLOR_HUE:
        for (int x = 0; x < w; ++x)
            hue_pixel(s + 3 * x, p->hue, o + 3 * x);
        break;
    }
}

static imbal_status color_apply(imbal_ctx *ctx, const imbal_image *src, const color_plan *p,
                                imbal_image *out) {
    imbal_status st = imbal_image_alloc(ctx, src->width, src->height, 3, out);
    if (st != IMBAL_OK) return st;
    const int w = src->width, h = src->height;
    const size_t row = (size_t)w * 3;
    const int parallel = (int64_t)w * h >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) schedule(static)
    for (int y = 0; y < h; ++y)
        color_row(p, src->data + (size_t)y * row, out->data + (size_t)y * row, w);
    return IMBAL_OK;
}

static color_plan blend_plan(color_kind kind, float factor) {
    color_plan p = {.kind = kind, .r = factor, .omr = (float)(1.0 - (double)factor)};
    return p;
}

imbal_status imbal_aug_brightness(imbal_ctx *ctx, const imbal_image *src, float factor,
                                  imbal_image *out) {
    const char *op = "imbal_aug_brightness";
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, out);
    if (st == IMBAL_OK) st = imbal_aug_check_factor(ctx, op, factor);
    if (st != IMBAL_OK) return st;
    color_plan p = blend_plan(COLOR_BRIGHTNESS, factor);
    return color_apply(ctx, src, &p, out);
}

imbal_status imbal_aug_contrast(imbal_ctx *ctx, const imbal_image *src, float factor,
                                imbal_image *out) {
    const char *op = "imbal_aug_contrast";
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, out);
    if (st == IMBAL_OK) st = imbal_aug_check_factor(ctx, op, factor);
    if (st != IMBAL_OK) return st;
    /* torch.mean(gray.to(float32)): the integer sum is exact; torch's float32 sum is too while it
     * stays below 2^24 (images up to 65793 pixels), then it is divided by the count in float32. */
    const int w = src->width, h = src->height;
    const int64_t n = (int64_t)w * h;
    int64_t sum = 0;
    const int parallel = n >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i)
        sum += gray_u8(src->data + 3 * i);
    color_plan p = blend_plan(COLOR_CONTRAST, factor);
    p.mean = (float)sum / (float)n;
    return color_apply(ctx, src, &p, out);
}

imbal_status imbal_aug_saturation(imbal_ctx *ctx, const imbal_image *src, float factor,
                                  imbal_image *out) {
    const char *op = "imbal_aug_saturation";
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, out);
    if (st == IMBAL_OK) st = imbal_aug_check_factor(ctx, op, factor);
    if (st != IMBAL_OK) return st;
    color_plan p = blend_plan(COLOR_SATURATION, factor);
    return color_apply(ctx, src, &p, out);
}

imbal_status imbal_aug_hue(imbal_ctx *ctx, const imbal_image *src, float factor, imbal_image *out) {
    const char *op = "imbal_aug_hue";
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, out);
    if (st != IMBAL_OK) return st;
    if (!(factor >= -0.5f && factor <= 0.5f)) /* also refuses NaN */
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: factor %g is outside [-0.5, 0.5]",
                          op, (double)factor);
    color_plan p = {.kind = COLOR_HUE, .hue = factor};
    return color_apply(ctx, src, &p, out);
}
